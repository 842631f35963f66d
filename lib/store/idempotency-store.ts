/**
 * Idempotency-Key records. A key is claimed with a conditional put (absent, expired, or a stale
 * in-progress claim whose Lambda died); the completed response is kept for the TTL, so a retry
 * with the same key and body gets the first response back, and a different body is refused.
 *
 * Item: pk IDEM#<hash(scope, key)> · sk IDEM · status in-progress|completed · requestHash ·
 *       response · lockedUntil (epoch s) · expiresAt (epoch s, the table's TTL attribute)
 */
import type { IdempotencyBegin, IdempotencyStore, StoredResponse } from '../app/ports';
import { hashParts } from '../domain/ids';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';

/** An in-progress claim older than this is presumed dead (Lambda timeout is shorter). */
export const IDEMPOTENCY_LOCK_SECONDS = 120;

function keyOf(scope: string, key: string) {
  return { pk: `IDEM#${hashParts([scope, key])}`, sk: 'IDEM' };
}

function epochSeconds(instant: string): number {
  return Math.floor(Date.parse(instant) / 1000);
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly store: DynamoStore,
    private readonly ttlSeconds: number,
  ) {}

  async begin(
    scope: string,
    key: string,
    requestHash: string,
    now: string,
  ): Promise<IdempotencyBegin> {
    const nowSeconds = epochSeconds(now);
    try {
      await this.store.put(
        'idempotency-key',
        {
          ...keyOf(scope, key),
          entity: 'IdempotencyKey',
          status: 'in-progress',
          requestHash,
          createdAt: now,
          lockedUntil: nowSeconds + IDEMPOTENCY_LOCK_SECONDS,
          expiresAt: nowSeconds + this.ttlSeconds,
        },
        {
          expression:
            'attribute_not_exists(pk) OR expiresAt < :now OR (#status = :inProgress AND lockedUntil < :now AND requestHash = :hash)',
          names: { '#status': 'status' },
          values: { ':now': nowSeconds, ':inProgress': 'in-progress', ':hash': requestHash },
        },
      );
      return { kind: 'new' };
    } catch (error) {
      const reason =
        error instanceof ConditionFailedError ? error.failedOn('idempotency-key') : undefined;
      if (!reason) throw error;
      const existing = reason.item ?? (await this.store.get(keyOf(scope, key)));
      if (!existing || existing.requestHash !== requestHash) return { kind: 'mismatch' };
      if (existing.status === 'completed' && typeof existing.response === 'object') {
        return { kind: 'replay', response: existing.response as StoredResponse };
      }
      return { kind: 'in-progress' };
    }
  }

  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    await this.store.update('idempotency-key', keyOf(scope, key), {
      expression: 'SET #status = :completed, #response = :response',
      names: { '#status': 'status', '#response': 'response' },
      values: { ':completed': 'completed', ':response': response },
    });
  }

  async release(scope: string, key: string): Promise<void> {
    await this.store
      .delete('idempotency-key', keyOf(scope, key), {
        expression: '#status = :inProgress',
        names: { '#status': 'status' },
        values: { ':inProgress': 'in-progress' },
      })
      .catch((error: unknown) => {
        if (!(error instanceof ConditionFailedError)) throw error;
      });
  }
}
