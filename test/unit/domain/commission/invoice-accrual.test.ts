// Proves billed-basis commission with the invoice: the invoice-time accrual (base rate, held until disbursed, capitalized on a multi-year billing, contra-revenue for resale) and the month-end run's netting, which leaves the ledger with exactly the run's figures whatever the invoices posted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accrualPosting,
  type CommissionLine,
  invoiceAccrualPosting,
  isInvoiceAccrual,
  netOfPostedAccruals,
} from '../../../../lib/domain/commission/engine';
import { parseCommissionPlan } from '../../../../lib/domain/commission/plan';
import { type JournalEntry, journalEntryProblems } from '../../../../lib/domain/ledger';

const plan = (payWhen: 'disbursed' | 'immediately' = 'disbursed') =>
  parseCommissionPlan({
    planId: 'billed',
    version: 1,
    effectiveFrom: '2025-01-01',
    currency: 'USD',
    basis: 'billed',
    rateTable: [
      { tier: 'Gold', dealType: 'sourced', ratePercent: '10' },
      { tier: 'Gold', dealType: 'influenced', ratePercent: '5' },
    ],
    hold: { payWhen },
  });

const base = {
  partnerId: 'P-1',
  tier: 'Gold',
  functionalCurrency: 'USD',
  contractId: 'C-1',
  dealType: 'sourced' as const,
  product: 'prod-1',
  attributionVersion: 1,
  invoiceEventId: 'evt_inv_1',
  invoiceId: 'invoice:C-1-1',
  date: '2025-01-01',
  basisMinor: 12_000_000n,
  multiYear: false,
};

function net(entries: readonly JournalEntry[]): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const leg of entries.flatMap((e) => e.legs)) {
    const key = `${leg.account}/${leg.contractId ?? '-'}`;
    out[key] = (out[key] ?? 0n) + leg.functionalDebitMinor - leg.functionalCreditMinor;
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== 0n));
}

describe('invoiceAccrualPosting', () => {
  it('accrues 10 % of the partner’s split, held until disbursed, dated the invoice', () => {
    const { line, entry } = invoiceAccrualPosting({ ...base, plan: plan() });
    expect(line).toMatchObject({ amountMinor: 1_200_000n, heldMinor: 1_200_000n, status: 'held' });
    expect(entry).not.toBeNull();
    expect(entry?.date).toBe('2025-01-01');
    expect(entry?.source).toEqual({ kind: 'event', id: 'evt_inv_1' });
    expect(net(entry ? [entry] : [])).toEqual({ '6100/C-1': 1_200_000n, '2110/C-1': -1_200_000n });
    expect(isInvoiceAccrual(entry as JournalEntry, 'P-1')).toBe(true);
    expect(isInvoiceAccrual(entry as JournalEntry, 'P-2')).toBe(false);
  });

  it('is payable at once when the plan does not hold, capitalized on a multi-year billing', () => {
    const payable = invoiceAccrualPosting({ ...base, plan: plan('immediately') });
    expect(net(payable.entry ? [payable.entry] : [])).toEqual({
      '6100/C-1': 1_200_000n,
      '2100/C-1': -1_200_000n,
    });
    const multi = invoiceAccrualPosting({ ...base, plan: plan('immediately'), multiYear: true });
    expect(multi.entry?.rule).toBe('commission-capitalization');
    expect(net(multi.entry ? [multi.entry] : [])).toEqual({
      '1400/C-1': 1_200_000n,
      '2100/C-1': -1_200_000n,
    });
  });

  it('posts nothing for a reseller without a rate (0 %), and refuses a recognized-basis plan', () => {
    expect(invoiceAccrualPosting({ ...base, plan: plan(), dealType: 'resale' }).entry).toBeNull();
    const recognized = { ...plan(), basis: 'recognized' as const };
    expect(() => invoiceAccrualPosting({ ...base, plan: recognized })).toThrow(/billed/);
  });

  it('keys the entry by the invoice event: the same invoice always has the same entry id', () => {
    const a = invoiceAccrualPosting({ ...base, plan: plan() }).entry;
    const b = invoiceAccrualPosting({ ...base, plan: plan() }).entry;
    const c = invoiceAccrualPosting({ ...base, plan: plan(), invoiceEventId: 'evt_inv_2' }).entry;
    expect(a?.entryId).toBe(b?.entryId);
    expect(a?.entryId).not.toBe(c?.entryId);
  });
});

describe('netOfPostedAccruals', () => {
  const ctx = { partnerId: 'P-1', functionalCurrency: 'USD', firstOpenPeriod: null };
  const runLine = (contractId: string, amount: bigint, held: bigint): CommissionLine =>
    ({
      ...invoiceAccrualPosting({ ...base, plan: plan(), contractId }).line,
      lineId: `line-${contractId}`,
      amountMinor: amount,
      heldMinor: held,
      expenseAccount: '6100',
    }) as CommissionLine;
  const runEntries = (lines: CommissionLine[]) =>
    accrualPosting(
      ctx,
      { entryId: 'je_run', period: '2025-01', source: { kind: 'run', id: 'commission:2025-01' } },
      lines,
    );

  it('posts only the accelerator’s difference over what the invoice accrued', () => {
    const posted = invoiceAccrualPosting({ ...base, plan: plan() }).entry as JournalEntry;
    const netted = netOfPostedAccruals(ctx, runEntries([runLine('C-1', 1_300_000n, 1_300_000n)]), [
      posted,
    ]);
    expect(netted).toHaveLength(1);
    expect(netted[0]?.entryId).toBe('je_run');
    expect(net(netted)).toEqual({ '6100/C-1': 100_000n, '2110/C-1': -100_000n });
  });

  it('posts nothing when the run agrees with the invoices, and reverses what the run no longer sees', () => {
    const posted = invoiceAccrualPosting({ ...base, plan: plan() }).entry as JournalEntry;
    expect(
      netOfPostedAccruals(ctx, runEntries([runLine('C-1', 1_200_000n, 1_200_000n)]), [posted]),
    ).toEqual([]);
    const reversed = netOfPostedAccruals(ctx, [], [posted]);
    expect(net(reversed)).toEqual({ '6100/C-1': -1_200_000n, '2110/C-1': 1_200_000n });
  });

  it('property: invoices’ entries plus the netted entries equal the run’s, per account and contract', () => {
    const contracts = ['C-1', 'C-2', 'C-3'];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 10_000_000n }), fc.boolean()), {
          minLength: 3,
          maxLength: 3,
        }),
        fc.array(fc.tuple(fc.constantFrom(...contracts), fc.bigInt({ min: 1n, max: 9_000_000n })), {
          maxLength: 4,
        }),
        (runAmounts, invoices) => {
          const lines = runAmounts.map(([amount, held], i) =>
            runLine(contracts[i] ?? 'C-1', amount, held ? amount : 0n),
          );
          const run = runEntries(lines);
          const posted = invoices.flatMap(([contractId, basis], i) => {
            const entry = invoiceAccrualPosting({
              ...base,
              plan: plan(),
              contractId,
              basisMinor: basis,
              invoiceEventId: `evt-${i}`,
            }).entry;
            return entry ? [entry] : [];
          });
          const netted = netOfPostedAccruals(ctx, run, posted);
          for (const entry of netted) expect(journalEntryProblems(entry)).toEqual([]);
          expect(net([...posted, ...netted])).toEqual(net(run));
        },
      ),
    );
  });
});
