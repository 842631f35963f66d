// Proves that approving a true-up never trusts a stale journal read: when the line already has a later entry than the read shows, "nothing to post" and "already posted" become a 409 with nothing recorded, and a read that is merely behind by the approved entry itself still approves.
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../lib/app/errors';
import { approveTrueUp, type TrueUpRecord } from '../../../lib/app/reconciliation';
import type { JournalEntry } from '../../../lib/domain/ledger';
import {
  type TrueUpChange,
  trueUpEntry,
  trueUpEntryId,
  trueUpSlotOf,
} from '../../../lib/domain/reconciliation/true-up';

const KEY = 'k0123456789abcdef0123456';
const CONTEXT = {
  reconciliationId: 'rec-1',
  date: '2025-06-30',
  period: '2025-06',
  functionalCurrency: 'USD',
  rate: () => null,
} as const;

/** The entry that moves the line from `fromMinor` to `toMinor` as entry number `sequence`. */
function entry(sequence: number, fromMinor: bigint, toMinor: bigint): JournalEntry {
  const change: TrueUpChange = {
    key: KEY,
    contractId: 'C-1',
    account: '4000',
    counterAccount: '1210',
    currency: 'USD',
    targetMinor: toMinor,
    postedMinor: fromMinor,
    trueUpId: trueUpEntryId(KEY, sequence, toMinor),
    deltaMinor: toMinor - fromMinor,
    description: 'test',
  };
  return trueUpEntry(change, CONTEXT);
}

function proposed(targetMinor: bigint): TrueUpRecord {
  return {
    trueUpId: trueUpEntryId(KEY, 0, targetMinor),
    kind: 'true_up',
    key: KEY,
    contractId: 'C-1',
    internalId: 'inv-1',
    level: 'billing',
    status: 'proposed',
    currency: 'USD',
    account: '4000',
    counterAccount: '1210',
    targetMinor,
    postedBeforeMinor: 0n,
    deltaMinor: targetMinor,
    period: '2025-06',
    problem: null,
    decidedBy: null,
    decidedAt: null,
  };
}

/** The journal holds `stored`; the contract's (eventually consistent) index shows `visible`. */
function depsOf(stored: JournalEntry[], visible: JournalEntry[], trueUp: TrueUpRecord) {
  const entries = new Map(stored.map((e) => [e.entryId, e]));
  const slots = new Set(stored.map((e) => trueUpSlotOf(e.entryId)));
  const approvals: unknown[] = [];
  const deps = {
    reconciliations: {
      record: async () => ({ reconciliationId: 'rec-1' }),
      document: async () => ({
        result: { asOf: '2025-06-30' },
        trueUps: [trueUp],
        disbursements: [],
      }),
      approvals: async () => [],
      approve: async (_id: string, approval: unknown) => {
        approvals.push(approval);
        return true;
      },
    },
    journal: {
      postEntries: async () => [],
      postClaimed: async (e: JournalEntry, slot: string) => {
        if (entries.has(e.entryId)) return 'present' as const;
        if (slots.has(slot)) return 'taken' as const;
        entries.set(e.entryId, e);
        slots.add(slot);
        return 'posted' as const;
      },
      slotTaken: async (slot: string) => slots.has(slot),
    },
    revenue: { functionalCurrency: 'USD', rate: () => null },
    periods: { locks: async () => ({ closedThrough: null, frozenThrough: null, version: 1 }) },
    clock: { now: () => '2025-07-01T00:00:00.000Z' },
    ledger: { entries: async () => ({ items: visible, cursor: null }) },
  };
  return { deps: deps as unknown as Parameters<typeof approveTrueUp>[0], entries, approvals };
}

const input = (trueUp: TrueUpRecord) => ({
  reconciliationId: 'rec-1',
  trueUpId: trueUp.trueUpId,
  by: 'finance@example.com',
});

describe('approving a true-up over a stale journal read', () => {
  it('refuses "nothing to post" when the line has moved on (40 read, 70 stored)', async () => {
    const first = entry(0, 0n, 40n);
    const trueUp = proposed(40n);
    const { deps, approvals } = depsOf([first, entry(1, 40n, 70n)], [first], trueUp);
    const error = await approveTrueUp(deps, input(trueUp)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('true_up_conflict');
    expect(approvals).toEqual([]);
  });

  it('refuses "already posted" when a later entry follows it (70 posted, then 100)', async () => {
    const first = entry(0, 0n, 40n);
    const trueUp = proposed(70n);
    const { deps, approvals, entries } = depsOf(
      [first, entry(1, 40n, 70n), entry(2, 70n, 100n)],
      [first],
      trueUp,
    );
    await expect(approveTrueUp(deps, input(trueUp))).rejects.toBeInstanceOf(ConflictError);
    expect(approvals).toEqual([]);
    expect(entries.size).toBe(3);
  });

  it('approves when the entry it needs is the latest one (read behind by that entry only)', async () => {
    const first = entry(0, 0n, 40n);
    const trueUp = proposed(70n);
    const { deps, approvals, entries } = depsOf([first, entry(1, 40n, 70n)], [first], trueUp);
    const approved = await approveTrueUp(deps, input(trueUp));
    expect(approved).toMatchObject({ status: 'approved', postedBeforeMinor: 40n, deltaMinor: 30n });
    expect(approvals).toHaveLength(1);
    expect(entries.size).toBe(2);
  });

  it('posts the change when the read is current', async () => {
    const first = entry(0, 0n, 40n);
    const trueUp = proposed(70n);
    const { deps, entries } = depsOf([first], [first], trueUp);
    expect(await approveTrueUp(deps, input(trueUp))).toMatchObject({ deltaMinor: 30n });
    expect([...entries.keys()]).toEqual([first.entryId, trueUpEntryId(KEY, 1, 70n)]);
  });
});
