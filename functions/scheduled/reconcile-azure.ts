/**
 * Hourly Azure reconciliation: lists every subscription each offer can see and re-syncs those
 * that changed since the last pass — webhooks are best-effort, this catches what they missed.
 */
import { reconcileAzureSubscriptions } from '../../lib/marketplaces/azure/intake';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('reconcile-azure', async () => {
  const container = getContainer();
  const result = await reconcileAzureSubscriptions(container);
  container.logger.info('azure reconciliation', { ...result });
  return result;
});
