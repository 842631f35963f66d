// Proves a ledger posting whose entries fall in two posting periods commits on DynamoDB Local (one period-lock check on the earliest month: locks are frontiers, and DynamoDB allows one action per item), and that a lock on the earliest month still refuses it with nothing written.
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../../lib/domain/ledger';
import { DynamoLedgerStore } from '../../../lib/store/ledger-store';
import { PERIOD_LOCKS_KEY } from '../../../lib/store/period-store';
import { freshStore } from '../helpers';

function entry(id: string, period: string): JournalEntry {
  return {
    schemaVersion: 1,
    entryId: id,
    date: `${period}-28`,
    postingPeriod: period,
    functionalCurrency: 'USD',
    description: 'test',
    source: { kind: 'run', id: `run-${id}` },
    rule: 'test-rule',
    ruleVersion: 1,
    reversalOf: null,
    legs: [
      {
        account: '1230',
        currency: 'USD',
        debitMinor: 100n,
        creditMinor: 0n,
        functionalDebitMinor: 100n,
        functionalCreditMinor: 0n,
        contractId: 'ct-1',
        partnerId: null,
      },
      {
        account: '4000',
        currency: 'USD',
        debitMinor: 0n,
        creditMinor: 100n,
        functionalDebitMinor: 0n,
        functionalCreditMinor: 100n,
        contractId: 'ct-1',
        partnerId: null,
      },
    ],
  };
}

const book = (entryCount: number) => ({
  contractId: 'ct-1',
  accounts: {},
  usage: {},
  invoiceIds: [],
  recognizedThrough: null,
  entryCount,
});

describe('a posting across two periods', () => {
  it('commits with one lock check, and is refused whole when the earliest month is closed', async () => {
    const store = await freshStore();
    const ledger = new DynamoLedgerStore(store);
    await ledger.post({
      contractId: 'ct-1',
      entries: [entry('je-a', '2025-08'), entry('je-b', '2025-09')],
      book: book(2),
      expectedEntryCount: null,
      schedule: null,
      at: '2025-10-01T00:00:00.000Z',
      poster: 'run',
    });
    const posted = await ledger.entries('ct-1', { limit: 10 });
    expect(posted.items.map((e) => e.entryId).sort()).toEqual(['je-a', 'je-b']);

    await store.put('period-locks', { ...PERIOD_LOCKS_KEY, closedThrough: '2025-10', version: 1 });
    await expect(
      ledger.post({
        contractId: 'ct-1',
        entries: [entry('je-c', '2025-10'), entry('je-d', '2025-11')],
        book: book(4),
        expectedEntryCount: 2,
        schedule: null,
        at: '2025-12-01T00:00:00.000Z',
        poster: 'run',
      }),
    ).rejects.toThrow();
    const after = await ledger.entries('ct-1', { limit: 10 });
    expect(after.items).toHaveLength(2);
  });
});
