/**
 * The sync worker's batch logic for an SQS FIFO event (the same shape the local in-process
 * queue produces). Each record is one SyncMessage; its receive count is the attempt number.
 * FIFO order per group is kept: once a record of a group fails, the group's later records in
 * the batch are returned unprocessed so they retry after it.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { processSyncMessage, type SyncDeps, type SyncOutcome } from '../app/sync';
import { MarketplaceSchema } from '../domain/schemas/primitives';

export const SyncMessageSchema = z.object({
  rawId: z.string().min(1).max(128),
  marketplace: MarketplaceSchema,
  groupKey: z.string().min(1).max(512),
});

/** Visibility (retry delay) after a failed attempt: 10 s × 3^(attempt−1), capped, with jitter. */
export const SYNC_RETRY_BASE_SECONDS = 10;
export const SYNC_RETRY_MAX_SECONDS = 900;

export function retryDelaySeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(
    SYNC_RETRY_MAX_SECONDS,
    SYNC_RETRY_BASE_SECONDS * 3 ** Math.max(0, attempt - 1),
  );
  // Equal jitter: at least half the delay, so retries still back off.
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

export interface BatchHooks {
  /** Called for a record that will be retried (AWS: ChangeMessageVisibility for backoff). */
  onRetry?: (record: SQSEvent['Records'][number], attempt: number) => Promise<void>;
  onOutcome?: (outcome: SyncOutcome) => void;
  /** Runs one record's sync with its ids on every log line written meanwhile (the logger's keys). */
  correlate?: <T>(
    ids: { rawId: string; marketplace: string },
    work: () => Promise<T>,
  ) => Promise<T>;
}

/** What a batch did, for the worker's metrics: contract events applied, records dead-lettered. */
export interface SyncTally {
  events: number;
  deadLettered: number;
}

export function tallyOutcome(tally: SyncTally, outcome: SyncOutcome): void {
  if (outcome.status === 'done')
    tally.events += outcome.contracts.reduce((n, c) => n + c.events.length, 0);
  if (outcome.status === 'dead-lettered') tally.deadLettered += 1;
}

export async function processSyncBatch(
  deps: SyncDeps,
  event: SQSEvent,
  hooks: BatchHooks = {},
): Promise<SQSBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  const blockedGroups = new Set<string>();
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? '';
    if (blockedGroups.has(group)) {
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    let message: z.infer<typeof SyncMessageSchema>;
    try {
      message = SyncMessageSchema.parse(JSON.parse(record.body));
    } catch {
      // Not a message we wrote: nothing to retry, and the raw store has nothing to lose.
      hooks.onOutcome?.({
        status: 'dead-lettered',
        rawId: 'unparseable',
        failure: {
          rawId: 'unparseable',
          marketplace: 'aws',
          groupKey: group,
          attempts: 1,
          code: 'invalid_queue_message',
          reason: `queue record ${record.messageId} is not a sync message`,
          firstFailedAt: new Date().toISOString(),
          lastFailedAt: new Date().toISOString(),
          status: 'dead-lettered',
        },
      });
      continue;
    }
    const attempt = Number.parseInt(record.attributes.ApproximateReceiveCount, 10) || 1;
    const work = () => processSyncMessage(deps, message, attempt);
    const outcome = hooks.correlate
      ? await hooks.correlate({ rawId: message.rawId, marketplace: message.marketplace }, work)
      : await work();
    hooks.onOutcome?.(outcome);
    if (outcome.status === 'retry') {
      failures.push({ itemIdentifier: record.messageId });
      blockedGroups.add(group);
      await hooks.onRetry?.(record, attempt);
    }
  }
  return { batchItemFailures: failures };
}
