/**
 * The sync worker: consumes the FIFO sync queue. Each message re-reads the marketplace's source
 * of truth and applies the difference; a retry is delayed with backoff (visibility timeout), and
 * a message that cannot succeed is dead-lettered with its reason and raw reference.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processSyncBatch, retryDelaySeconds } from '../../lib/queue/sync-batch';
import { getContainer } from '../../lib/runtime/container';

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const container = getContainer();
  return processSyncBatch(container, event, {
    onRetry: async (record, attempt) => {
      await container.sqsQueue?.delayRetry(record.receiptHandle, retryDelaySeconds(attempt));
    },
    onOutcome: (outcome) => {
      if (outcome.status === 'done')
        container.logger.info('synced', { rawId: outcome.rawId, note: outcome.note });
      else
        container.logger.warn(`sync ${outcome.status}`, {
          rawId: outcome.rawId,
          reason: outcome.failure.reason,
        });
    },
  });
};
