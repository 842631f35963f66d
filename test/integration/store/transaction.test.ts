// Proves the transaction helper against DynamoDB Local: all-or-nothing commits, failed
// conditions reported by label with the existing item, DynamoDB limits enforced before sending,
// bounded jittered retries on conflicts, and opaque cursors that reject tampering.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DynamoStore, RetryPolicy } from '../../../lib/store/dynamo-store';
import {
  ConditionFailedError,
  InvalidCursorError,
  StoreContentionError,
  StoreLimitError,
} from '../../../lib/store/errors';
import { ITEM_BYTES_MAX, TRANSACT_ITEMS_MAX } from '../../../lib/store/limits';
import { ITEM_ABSENT, WriteTransaction } from '../../../lib/store/transaction';
import { freshStore } from '../helpers';

describe('WriteTransaction + DynamoStore.commit on DynamoDB Local', () => {
  let store: DynamoStore;

  beforeAll(async () => {
    store = await freshStore();
  });

  it('writes every item of a transaction, and a rerun is rejected by its conditions', async () => {
    const tx = new WriteTransaction()
      .put('event-record', { pk: 'EV#1', sk: 'EV', value: 'a' }, ITEM_ABSENT)
      .put('journal-entry', { pk: 'JE#1', sk: 'JE', amountMinor: '1019178' }, ITEM_ABSENT);
    const result = await store.commit(tx);
    expect(result.attempts).toBe(1);
    expect(await store.get({ pk: 'JE#1', sk: 'JE' })).toMatchObject({ amountMinor: '1019178' });

    const rerun = store.commit(
      new WriteTransaction()
        .put('event-record', { pk: 'EV#1', sk: 'EV', value: 'b' }, ITEM_ABSENT)
        .put('journal-entry', { pk: 'JE#1', sk: 'JE', amountMinor: '999' }, ITEM_ABSENT),
    );
    const error = await rerun.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionFailedError);
    const failed = error as ConditionFailedError;
    expect(failed.failedOn('event-record')?.item).toMatchObject({ value: 'a' });
    expect(failed.failedOn('journal-entry')?.item).toMatchObject({ amountMinor: '1019178' });
    expect(await store.get({ pk: 'EV#1', sk: 'EV' })).toMatchObject({ value: 'a' });
  });

  it('writes nothing when one condition fails (all or nothing)', async () => {
    await store.put('period', { pk: 'PERIOD#2025-01', sk: 'PERIOD', status: 'CLOSED' });
    const tx = new WriteTransaction()
      .put('journal-entry', { pk: 'JE#2', sk: 'JE', amountMinor: '5' }, ITEM_ABSENT)
      .check(
        'period-open',
        { pk: 'PERIOD#2025-01', sk: 'PERIOD' },
        {
          expression: '#status = :open',
          names: { '#status': 'status' },
          values: { ':open': 'OPEN' },
        },
      );
    const error = await store.commit(tx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as ConditionFailedError).failedOn('period-open')?.item).toMatchObject({
      status: 'CLOSED',
    });
    expect((error as ConditionFailedError).failedOn('journal-entry')).toBeUndefined();
    expect(await store.get({ pk: 'JE#2', sk: 'JE' })).toBeNull();
  });

  it('applies updates and condition checks together', async () => {
    await store.put('counter', { pk: 'CT#1', sk: 'CT', version: 1 });
    await store.commit(
      new WriteTransaction()
        .update(
          'snapshot',
          { pk: 'CT#1', sk: 'CT' },
          { expression: 'SET version = :next', values: { ':next': 2 } },
          {
            expression: 'version = :expected',
            values: { ':expected': 1 },
          },
        )
        .put('event', { pk: 'CT#1', sk: 'EV#2' }, ITEM_ABSENT),
    );
    expect(await store.get({ pk: 'CT#1', sk: 'CT' })).toMatchObject({ version: 2 });
    // optimistic concurrency: a stale writer loses
    const stale = store.commit(
      new WriteTransaction().update(
        'snapshot',
        { pk: 'CT#1', sk: 'CT' },
        { expression: 'SET version = :next', values: { ':next': 2 } },
        {
          expression: 'version = :expected',
          values: { ':expected': 1 },
        },
      ),
    );
    await expect(stale).rejects.toBeInstanceOf(ConditionFailedError);
  });

  it('enforces DynamoDB limits before anything is sent', () => {
    const tx = new WriteTransaction();
    for (let i = 0; i < TRANSACT_ITEMS_MAX; i += 1) tx.put('line', { pk: `L#${i}`, sk: 'L' });
    expect(() => tx.put('line', { pk: 'L#overflow', sk: 'L' })).toThrow(StoreLimitError);
    expect(() =>
      new WriteTransaction()
        .put('a', { pk: 'X', sk: 'Y' })
        .check('b', { pk: 'X', sk: 'Y' }, ITEM_ABSENT),
    ).toThrow(/same item/);
    expect(() =>
      new WriteTransaction().put('big', { pk: 'B', sk: 'B', blob: 'x'.repeat(ITEM_BYTES_MAX) }),
    ).toThrow(/400|409600/);
  });

  it('retries a conflicted transaction with jittered backoff, then succeeds', async () => {
    const delays: number[] = [];
    const retry: RetryPolicy = {
      attemptsMax: 4,
      baseDelayMs: 10,
      maxDelayMs: 100,
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 0.5,
    };
    const conflicted = await freshStore(retry);
    let faults = 2;
    // Fault injection on the real client: the first two sends fail as DynamoDB does on a conflict.
    (
      conflicted as unknown as {
        client: { middlewareStack: { add: (m: unknown, o: unknown) => void } };
      }
    ).client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        const input = (args as { input: { TransactItems?: unknown } }).input;
        if (input.TransactItems && faults > 0) {
          faults -= 1;
          throw new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: {},
            CancellationReasons: [{ Code: 'TransactionConflict' }],
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectConflict' },
    );
    const result = await conflicted.commit(
      new WriteTransaction().put('x', { pk: 'R#1', sk: 'R' }, ITEM_ABSENT),
    );
    expect(result.attempts).toBe(3);
    expect(delays).toEqual([5, 10]); // 0.5 × 10·2^0, 0.5 × 10·2^1
    expect(await conflicted.get({ pk: 'R#1', sk: 'R' })).not.toBeNull();

    faults = 10;
    await expect(
      conflicted.commit(new WriteTransaction().put('x', { pk: 'R#2', sk: 'R' }, ITEM_ABSENT)),
    ).rejects.toBeInstanceOf(StoreContentionError);
    expect(await conflicted.get({ pk: 'R#2', sk: 'R' })).toBeNull();
  });

  it('pages a query with opaque cursors and rejects a tampered cursor', async () => {
    for (let i = 0; i < 5; i += 1) await store.put('line', { pk: 'PAGE#1', sk: `L#${i}` });
    const first = await store.query({ partitionKey: 'PAGE#1', limit: 3 });
    expect(first.items.map((i) => i.sk)).toEqual(['L#0', 'L#1', 'L#2']);
    expect(first.cursor).toMatch(/^c1\./);
    const second = await store.query({
      partitionKey: 'PAGE#1',
      limit: 3,
      cursor: first.cursor ?? undefined,
    });
    expect(second.items.map((i) => i.sk)).toEqual(['L#3', 'L#4']);
    for (const bad of [
      'garbage',
      'c1.!!!',
      `c1.${Buffer.from('{"evil":"x"}').toString('base64url')}`,
    ]) {
      await expect(
        store.query({ partitionKey: 'PAGE#1', limit: 3, cursor: bad }),
      ).rejects.toBeInstanceOf(InvalidCursorError);
    }
  });
});
