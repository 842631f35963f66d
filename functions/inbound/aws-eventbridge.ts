/**
 * EventBridge target for AWS Marketplace events (aws.agreement-marketplace, aws.marketplacecatalog).
 * Stores the raw event, then enqueues its sync; a thrown error makes EventBridge retry and, in
 * the end, send the event to the target's dead-letter queue.
 */
import { ingestNotification } from '../../lib/app/ingest';
import { envelopeFromEventBridge } from '../../lib/marketplaces/aws/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = async (event: { id: string; account?: string; source?: string }) => {
  const container = getContainer();
  const result = await ingestNotification(
    container,
    envelopeFromEventBridge(event, container.clock.now()),
  );
  container.logger.info('eventbridge event ingested', { ...result });
  return result;
};
