/** The offer tracker (EventBridge, every 5 minutes): follows change sets to published or failed. */
import { trackOffers } from '../../lib/app/offers';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('track-offers', async () => {
  const container = getContainer();
  const summary = await trackOffers(container);
  container.logger.info('offer tracking', { ...summary });
  return summary;
});
