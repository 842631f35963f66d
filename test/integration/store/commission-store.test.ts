// Proves DynamoCommissionStore on DynamoDB Local: a partner's month (entries, lines, state) is written together and reads back exactly, a rerun is a no-op, an entry posted before is skipped, a closed period refuses the posting with nothing written, a month above 100 actions is split with the state last, and a claimed journal slot holds one entry however writers race.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CommissionPeriodLockedError,
  type PartnerPeriodPosting,
} from '../../../lib/app/commission-run';
import {
  computePartnerPeriod,
  dealPeriodInputFor,
  type PartnerPeriodResult,
} from '../../../lib/domain/commission/engine';
import { parseCommissionPlan } from '../../../lib/domain/commission/plan';
import type { JournalEntry } from '../../../lib/domain/ledger';
import { DynamoCommissionStore } from '../../../lib/store/commission-store';
import type { DynamoStore } from '../../../lib/store/dynamo-store';
import { journalEntryItem, journalEntryKey } from '../../../lib/store/ledger-items';
import { DynamoLedgerStore } from '../../../lib/store/ledger-store';
import { PERIOD_LOCKS_KEY } from '../../../lib/store/period-store';
import { freshStore } from '../helpers';

const PLAN = parseCommissionPlan({
  planId: 'flat',
  version: 1,
  effectiveFrom: '2025-01-01',
  currency: 'USD',
  rateTable: [{ tier: 'Gold', dealType: 'sourced', ratePercent: '10' }],
  hold: { payWhen: 'disbursed' },
  payoutSchedule: 'monthly',
});

/** The same plan paying without holds: two legs per deal in the accrual entry. */
const PLAN_IMMEDIATE = parseCommissionPlan({
  planId: 'flat',
  version: 2,
  effectiveFrom: '2025-01-01',
  currency: 'USD',
  rateTable: [{ tier: 'Gold', dealType: 'sourced', ratePercent: '10' }],
  hold: { payWhen: 'immediately' },
});

const byLineId = <T extends { lineId: string }>(lines: readonly T[]) =>
  [...lines].sort((a, b) => (a.lineId < b.lineId ? -1 : 1));

/** A partner's September over `deals` contracts, each 1,000.00 recognized, half disbursed. */
function september(partnerId: string, deals: number, plan = PLAN): PartnerPeriodResult {
  const shares = [
    { partnerId, weight: { num: 1n, den: 1n }, firstTouchAt: '2025-01-01T00:00:00Z' },
  ];
  return computePartnerPeriod({
    partnerId,
    tier: 'Gold',
    period: '2025-09',
    plan,
    functionalCurrency: 'USD',
    source: { kind: 'run', id: 'commission:2025-09' },
    opening: { payableMinor: 0n, heldMinor: 0n },
    deals: Array.from({ length: deals }, (_, index) =>
      dealPeriodInputFor({
        partnerId,
        period: '2025-09',
        basisKind: plan.basis,
        contractId: `C-${String(index).padStart(3, '0')}`,
        dealType: 'sourced',
        product: null,
        attributionVersion: 1,
        shares,
        facts: {
          recognizedCumulative: [{ period: '2025-09', cumulativeMinor: 100_000n }],
          invoices: [
            {
              invoiceId: `inv-${index}`,
              date: '2025-09-01',
              amountMinor: 50_000n,
              disbursedOn: '2025-09-20',
            },
            {
              invoiceId: `inv-${index}-b`,
              date: '2025-09-15',
              amountMinor: 50_000n,
              disbursedOn: null,
            },
          ],
        },
      }),
    ),
  });
}

function postingOf(result: PartnerPeriodResult): PartnerPeriodPosting {
  return {
    partnerId: result.partnerId,
    period: result.period,
    entries: result.entries,
    lines: result.lines,
    state: {
      partnerId: result.partnerId,
      period: result.period,
      planId: result.planId,
      planVersion: result.planVersion,
      tier: result.tier,
      runId: 'commission:2025-09',
      opening: result.opening,
      closing: result.closing,
      heldLines: result.lines
        .filter((l) => l.heldMinor > 0n)
        .map((line) => ({ line, releasedMinor: 0n, clawedBackFromHeldMinor: 0n })),
      dealEarnedByQuarter: { '2025-Q3': { 'C-000': result.totals.earnedMinor } },
      entryIds: result.entries.map((e) => e.entryId),
      payoutId: result.payout?.payoutId ?? null,
      computedAt: '2025-10-02T06:00:00Z',
    },
  };
}

async function storedEntries(store: DynamoStore, entries: readonly JournalEntry[]) {
  const found = await Promise.all(entries.map((e) => store.get(journalEntryKey(e.entryId))));
  return found.filter((item) => item !== null).length;
}

describe('DynamoCommissionStore on DynamoDB Local', () => {
  let store: DynamoStore;
  let commissions: DynamoCommissionStore;

  beforeAll(async () => {
    store = await freshStore();
    commissions = new DynamoCommissionStore(store);
  });

  it('writes a partner month and reads its entries, lines and state back exactly', async () => {
    const result = september('P-1', 2);
    // 2 × 10 % of 1,000.00: half payable (disbursed invoice), half held; paid monthly in October.
    expect(result.totals).toMatchObject({ earnedMinor: 20_000n, earnedHeldMinor: 10_000n });
    expect(result.entries.map((e) => e.rule)).toEqual(['commission-accrual', 'commission-payout']);
    const posting = postingOf(result);
    const outcome = await commissions.postPartnerPeriod(posting);
    expect(outcome).toEqual({
      written: true,
      postedEntryIds: result.entries.map((e) => e.entryId),
      alreadyPostedEntryIds: [],
    });
    const ledger = new DynamoLedgerStore(store);
    const october = await ledger.entriesOfPeriod('2025-10', { limit: 10 });
    const sept = await ledger.entriesOfPeriod('2025-09', { limit: 10 });
    expect([...sept.items, ...october.items]).toEqual(result.entries);
    expect(await commissions.lines('P-1', '2025-09')).toEqual(byLineId(result.lines));
    expect(await commissions.state('P-1', '2025-09')).toEqual(posting.state);
    expect(await commissions.stateBefore('P-1', '2025-10')).toEqual(posting.state);
    expect(await commissions.stateBefore('P-1', '2025-09')).toBeNull();
  });

  it('makes a rerun a no-op: nothing posted, nothing rewritten', async () => {
    const result = september('P-1', 2);
    const posting = postingOf(result);
    const changed = { ...posting, state: { ...posting.state, runId: 'manual-rerun' } };
    const outcome = await commissions.postPartnerPeriod(changed);
    expect(outcome).toEqual({
      written: false,
      postedEntryIds: [],
      alreadyPostedEntryIds: result.entries.map((e) => e.entryId),
    });
    expect((await commissions.state('P-1', '2025-09'))?.runId).toBe('commission:2025-09');
  });

  it('skips an entry posted before (no state yet) and writes the rest', async () => {
    const result = september('P-2', 1);
    const [accrual, payout] = result.entries;
    if (!accrual || !payout) throw new Error('expected two entries');
    await store.put('journal-entry', journalEntryItem(accrual));
    const outcome = await commissions.postPartnerPeriod(postingOf(result));
    expect(outcome).toEqual({
      written: true,
      postedEntryIds: [payout.entryId],
      alreadyPostedEntryIds: [accrual.entryId],
    });
    expect(await storedEntries(store, result.entries)).toBe(2);
    expect(await commissions.lines('P-2', '2025-09')).toHaveLength(1);
  });

  it('splits a month above 100 actions into transactions, the state last', async () => {
    // 99 lines + 2 entries + the state + the lock check = 103 actions. (An accrual with holds
    // has 3 legs per deal; above 66 such deals it breaks JOURNAL_LEGS_MAX — see the report.)
    const result = september('P-3', 99, PLAN_IMMEDIATE);
    expect(result.lines).toHaveLength(99);
    const outcome = await commissions.postPartnerPeriod(postingOf(result));
    expect(outcome.written).toBe(true);
    expect(await commissions.lines('P-3', '2025-09')).toEqual(byLineId(result.lines));
    expect(await storedEntries(store, result.entries)).toBe(result.entries.length);
    expect((await commissions.state('P-3', '2025-09'))?.closing).toEqual(result.closing);
  });
});

describe('DynamoCommissionStore.postEntries (holds released by a disbursement event)', () => {
  it('posts each entry once, skips one already present, and refuses a closed period', async () => {
    const store = await freshStore();
    const commissions = new DynamoCommissionStore(store);
    const [accrual, payout] = september('P-5', 2).entries;
    if (!accrual || !payout) throw new Error('september posts an accrual and a payout');
    expect(await commissions.postEntries([accrual], 'run')).toEqual([accrual.entryId]);
    expect(await commissions.postEntries([accrual, payout], 'run')).toEqual([payout.entryId]);
    expect(await storedEntries(store, [accrual, payout])).toBe(2);
    await store.put('period-locks', {
      ...PERIOD_LOCKS_KEY,
      entity: 'PeriodLocks',
      closedThrough: '2025-10',
      frozenThrough: '2025-10',
    });
    const late = { ...accrual, entryId: `${accrual.entryId}x` };
    await expect(commissions.postEntries([late], 'run')).rejects.toBeInstanceOf(
      CommissionPeriodLockedError,
    );
    expect(await storedEntries(store, [late])).toBe(0);
  });

  it('lets one entry hold a claimed slot: a retry is present, another entry is refused, also when racing', async () => {
    const store = await freshStore();
    const commissions = new DynamoCommissionStore(store);
    const [accrual] = september('P-7', 2).entries;
    if (!accrual) throw new Error('september posts an accrual');
    const first = { ...accrual, entryId: 'trueup-a-0-40' };
    const second = { ...accrual, entryId: 'trueup-a-0-70' };
    expect(await commissions.postClaimed(first, 'trueup-a-0', 'run')).toBe('posted');
    expect(await commissions.postClaimed(first, 'trueup-a-0', 'run')).toBe('present');
    expect(await commissions.postClaimed(second, 'trueup-a-0', 'run')).toBe('taken');
    expect(await storedEntries(store, [first, second])).toBe(1);
    // Two writers at once for the next slot: exactly one posts.
    const racing = [40, 70, 90].map((t) => ({ ...accrual, entryId: `trueup-a-1-${t}` }));
    const outcomes = await Promise.all(
      racing.map((entry) => commissions.postClaimed(entry, 'trueup-a-1', 'run')),
    );
    expect(outcomes.filter((o) => o === 'posted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'taken')).toHaveLength(2);
    expect(await storedEntries(store, racing)).toBe(1);
    expect(await commissions.slotTaken('trueup-a-1')).toBe(true);
    expect(await commissions.slotTaken('trueup-a-2')).toBe(false);
  });

  it("reads a partner's months in a range, ascending", async () => {
    const store = await freshStore();
    const commissions = new DynamoCommissionStore(store);
    await commissions.postPartnerPeriod(postingOf(september('P-6', 1)));
    expect(
      (await commissions.statesBetween('P-6', '2025-01', '2025-12')).map((s) => s.period),
    ).toEqual(['2025-09']);
    expect(await commissions.statesBetween('P-6', '2025-10', '2025-12')).toEqual([]);
  });
});

describe('DynamoCommissionStore with a closed period', () => {
  it('refuses the posting and writes nothing', async () => {
    const store = await freshStore();
    const commissions = new DynamoCommissionStore(store);
    await store.put('period-locks', {
      ...PERIOD_LOCKS_KEY,
      entity: 'PeriodLocks',
      closedThrough: '2025-09',
      frozenThrough: '2025-09',
    });
    const result = september('P-9', 2);
    const error = await commissions.postPartnerPeriod(postingOf(result)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommissionPeriodLockedError);
    expect(await storedEntries(store, result.entries)).toBe(0);
    expect(await commissions.lines('P-9', '2025-09')).toEqual([]);
    expect(await commissions.state('P-9', '2025-09')).toBeNull();
    // Once the lock frontier is before September (reopened), the same posting goes through.
    await store.put('period-locks', {
      ...PERIOD_LOCKS_KEY,
      entity: 'PeriodLocks',
      closedThrough: '2025-08',
    });
    expect((await commissions.postPartnerPeriod(postingOf(result))).written).toBe(true);
  });
});
