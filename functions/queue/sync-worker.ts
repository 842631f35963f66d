/**
 * The sync worker: consumes the FIFO sync queue. Each message re-reads the marketplace's source
 * of truth and applies the difference; a retry is delayed with backoff (visibility timeout), and
 * a message that cannot succeed is dead-lettered with its reason and raw reference.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processSyncBatch, retryDelaySeconds, tallyOutcome } from '../../lib/queue/sync-batch';
import { getContainer } from '../../lib/runtime/container';
import { withCorrelation } from '../../lib/runtime/logger';
import {
  EVENTS_PROCESSED_METRIC,
  emitMetric,
  SYNC_DEAD_LETTERED_METRIC,
} from '../../lib/runtime/metrics';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler(
  'sync-worker',
  async (event: SQSEvent, _context: unknown): Promise<SQSBatchResponse> => {
    const container = getContainer();
    const { logger } = container;
    const tally = { events: 0, deadLettered: 0 };
    try {
      return await processSyncBatch(container, event, {
        onRetry: async (record, attempt) => {
          await container.sqsQueue?.delayRetry(record.receiptHandle, retryDelaySeconds(attempt));
        },
        correlate: (ids, work) => withCorrelation(logger, ids, work),
        onOutcome: (outcome) => {
          tallyOutcome(tally, outcome);
          if (outcome.status === 'done')
            logger.info('synced', {
              rawId: outcome.rawId,
              note: outcome.note,
              contractIds: outcome.contracts.map((c) => c.contractId),
              events: outcome.contracts.flatMap((c) => c.events),
            });
          else
            logger.warn(`sync ${outcome.status}`, {
              rawId: outcome.rawId,
              code: outcome.failure.code,
              reason: outcome.failure.reason,
            });
        },
      });
    } finally {
      emitMetric(EVENTS_PROCESSED_METRIC, tally.events);
      emitMetric(SYNC_DEAD_LETTERED_METRIC, tally.deadLettered);
    }
  },
);
