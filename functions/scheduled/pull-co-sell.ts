/**
 * ACE pull (EventBridge, hourly): AWS Partner Central opportunities changed since the last run
 * become touches of the AWS co-sell team, and the contracts they match are re-attributed.
 * Off unless AGORA_ACE_CATALOG is AWS or Sandbox.
 */
import { pullCoSellOpportunities } from '../../lib/app/co-sell';
import { getContainer } from '../../lib/runtime/container';

export const handler = async () => {
  const container = getContainer();
  const summary = await pullCoSellOpportunities(container);
  container.logger.info('co-sell pull', { ...summary });
  return summary;
};
