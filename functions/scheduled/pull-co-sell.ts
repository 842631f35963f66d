/**
 * ACE pull (EventBridge, hourly): AWS Partner Central opportunities changed since the last run
 * become touches of the AWS co-sell team, and the contracts they match are re-attributed.
 * Off unless AGORA_ACE_CATALOG is AWS or Sandbox.
 */
import { pullCoSellOpportunities } from '../../lib/app/co-sell';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('pull-co-sell', async () => {
  const container = getContainer();
  const summary = await pullCoSellOpportunities(container);
  container.logger.info('co-sell pull', { ...summary });
  return summary;
});
