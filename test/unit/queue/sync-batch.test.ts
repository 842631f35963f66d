// Proves the sync worker's batch handling: a retryable failure is returned for redelivery and
// blocks the rest of its FIFO group in the batch; a permanent failure is dead-lettered at once
// (and acknowledged); success marks the raw envelope processed.
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { MarketplaceAdapter, StoredRawEnvelope, SyncFailure } from '../../../lib/app/ports';
import type { SyncDeps } from '../../../lib/app/sync';
import { processSyncBatch } from '../../../lib/queue/sync-batch';

function rawOf(rawId: string): StoredRawEnvelope {
  return {
    marketplace: 'aws',
    channel: 'aws-eventbridge',
    providerMessageId: rawId,
    receivedAt: '2026-01-01T00:00:00Z',
    headers: {},
    body: rawId,
    authenticatedAs: null,
    rawId,
    bodySha256: '',
    processedAt: null,
    outcome: null,
  };
}

function deps(behaviour: Record<string, 'ok' | 'not-ready' | 'invalid'>) {
  const processed: string[] = [];
  const failures: SyncFailure[] = [];
  const adapter: MarketplaceAdapter = {
    marketplace: 'aws',
    parse: (raw) =>
      behaviour[raw.rawId] === 'invalid'
        ? { kind: 'invalid', groupKey: 'g', reason: 'unreadable' }
        : {
            kind: 'triggers',
            groupKey: 'g',
            triggers: [{ kind: 'x', groupKey: 'g', description: raw.rawId }],
          },
    read: async (trigger) =>
      behaviour[trigger.description] === 'not-ready'
        ? { kind: 'not-ready', reason: 'empty read' }
        : { kind: 'nothing', reason: 'fine' },
  };
  const value: SyncDeps = {
    rawInbound: {
      get: async (rawId: string) => (behaviour[rawId] ? rawOf(rawId) : null),
      markProcessed: async (rawId: string) => {
        processed.push(rawId);
      },
    } as unknown as SyncDeps['rawInbound'],
    contracts: {} as SyncDeps['contracts'],
    failures: {
      record: async (input: Parameters<SyncDeps['failures']['record']>[0]) => {
        const failure: SyncFailure = {
          rawId: input.rawId,
          marketplace: input.marketplace,
          groupKey: input.groupKey,
          attempts: input.attempt,
          code: input.code,
          reason: input.reason,
          firstFailedAt: input.at,
          lastFailedAt: input.at,
          status:
            input.permanent || input.attempt >= input.attemptsMax ? 'dead-lettered' : 'retrying',
        };
        failures.push(failure);
        return failure;
      },
      resolve: async () => undefined,
    } as unknown as SyncDeps['failures'],
    adapters: { aws: adapter },
    hooks: [],
    clock: { now: () => '2026-01-01T00:00:00Z' },
  };
  return { value, processed, failures };
}

function event(records: { rawId: string; group: string; receive?: number }[]): SQSEvent {
  return {
    Records: records.map((r, i) => ({
      messageId: `m${i}`,
      receiptHandle: `h${i}`,
      body: JSON.stringify({ rawId: r.rawId, marketplace: 'aws', groupKey: r.group }),
      attributes: {
        ApproximateReceiveCount: String(r.receive ?? 1),
        SentTimestamp: '0',
        SenderId: 's',
        ApproximateFirstReceiveTimestamp: '0',
        MessageGroupId: r.group,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn',
      awsRegion: 'us-east-1',
    })),
  };
}

describe('processSyncBatch', () => {
  it('retries a not-ready message and holds back the rest of its group only', async () => {
    const d = deps({ r1: 'not-ready', r2: 'ok', r3: 'ok' });
    const retried: string[] = [];
    const result = await processSyncBatch(
      d.value,
      event([
        { rawId: 'r1', group: 'A' },
        { rawId: 'r2', group: 'A' },
        { rawId: 'r3', group: 'B' },
      ]),
      { onRetry: async (record) => void retried.push(record.messageId) },
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }]);
    expect(retried).toEqual(['m0']);
    expect(d.processed).toEqual(['r3']);
    expect(d.failures[0]).toMatchObject({
      rawId: 'r1',
      code: 'source_not_ready',
      status: 'retrying',
    });
  });

  it('dead-letters on the last attempt and acknowledges the message', async () => {
    const d = deps({ r1: 'not-ready' });
    const result = await processSyncBatch(
      d.value,
      event([{ rawId: 'r1', group: 'A', receive: 5 }]),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(d.failures[0]).toMatchObject({ status: 'dead-lettered', attempts: 5 });
    expect(d.processed).toEqual(['r1']); // out of the pending index; the DLQ keeps it
  });

  it('dead-letters an invalid payload or a missing raw envelope at once', async () => {
    const d = deps({ bad: 'invalid' });
    const result = await processSyncBatch(
      d.value,
      event([
        { rawId: 'bad', group: 'A' },
        { rawId: 'gone', group: 'B' },
      ]),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(d.failures.map((f) => `${f.rawId}:${f.code}:${f.status}`)).toEqual([
      'bad:invalid_notification:dead-lettered',
      'gone:raw_missing:dead-lettered',
    ]);
  });
});
