/**
 * Failed sync attempts and the dead-letter list. The item is updated on every failed attempt;
 * when it is dead-lettered it joins a sparse index that `agora dlq list` reads.
 *
 * Item: pk SYNCFAIL#<rawId> · sk SYNCFAIL · gsi1pk DLQ (only while dead-lettered) · gsi1sk <at>#<rawId>
 */
import type { Page, PageRequest, SyncFailure, SyncFailureStore } from '../app/ports';
import type { Marketplace } from '../domain/schemas/primitives';
import type { DynamoStore } from './dynamo-store';

const DLQ_PARTITION = 'DLQ';
const keyOf = (rawId: string) => ({ pk: `SYNCFAIL#${rawId}`, sk: 'SYNCFAIL' });

function toFailure(item: Record<string, unknown>): SyncFailure {
  return {
    rawId: String(item.rawId),
    marketplace: item.marketplace as Marketplace,
    groupKey: String(item.groupKey),
    attempts: Number(item.attempts),
    code: String(item.code),
    reason: String(item.reason),
    firstFailedAt: String(item.firstFailedAt),
    lastFailedAt: String(item.lastFailedAt),
    status: item.status as SyncFailure['status'],
  };
}

export class DynamoSyncFailureStore implements SyncFailureStore {
  constructor(private readonly store: DynamoStore) {}

  async record(input: Parameters<SyncFailureStore['record']>[0]): Promise<SyncFailure> {
    const existing = await this.store.get(keyOf(input.rawId));
    const deadLettered = input.permanent || input.attempt >= input.attemptsMax;
    const failure: SyncFailure = {
      rawId: input.rawId,
      marketplace: input.marketplace,
      groupKey: input.groupKey,
      attempts: Math.max(input.attempt, Number(existing?.attempts ?? 0)),
      code: input.code,
      reason: input.reason,
      firstFailedAt:
        existing && existing.status !== 'resolved' ? String(existing.firstFailedAt) : input.at,
      lastFailedAt: input.at,
      status: deadLettered ? 'dead-lettered' : 'retrying',
    };
    await this.store.put('sync-failure', {
      ...keyOf(input.rawId),
      entity: 'SyncFailure',
      ...failure,
      ...(deadLettered ? { gsi1pk: DLQ_PARTITION, gsi1sk: `${input.at}#${input.rawId}` } : {}),
    });
    return failure;
  }

  async resolve(rawId: string, at: string): Promise<void> {
    const existing = await this.store.get(keyOf(rawId));
    if (!existing || existing.status === 'resolved') return;
    await this.store.put('sync-failure', {
      ...existing,
      ...keyOf(rawId),
      status: 'resolved',
      resolvedAt: at,
      gsi1pk: undefined,
      gsi1sk: undefined,
    });
  }

  async get(rawId: string): Promise<SyncFailure | null> {
    const item = await this.store.get(keyOf(rawId));
    return item ? toFailure(item) : null;
  }

  async listDeadLettered(page: PageRequest): Promise<Page<SyncFailure>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: DLQ_PARTITION,
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map(toFailure), cursor: result.cursor };
  }

  async markRedriven(rawId: string, at: string): Promise<void> {
    await this.store.update(
      'sync-failure',
      keyOf(rawId),
      {
        expression: 'SET #status = :redriven, redrivenAt = :at REMOVE gsi1pk, gsi1sk',
        names: { '#status': 'status' },
        values: { ':redriven': 'redriven', ':at': at },
      },
      { expression: 'attribute_exists(pk)' },
    );
  }
}
