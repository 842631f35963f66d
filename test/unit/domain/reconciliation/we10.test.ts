// Proves WE-10 (finance.md §9) end to end: a ledger posted by the real engine (WE-2 upgrade, WE-4 CPPO, WE-5 usage) reconciled as of 2025-08-31 against a billing event CSV written here and a bank statement gives exactly the snapshot's four outcomes, and the 1210 roll-forward ties to the open items.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReconciliationResult } from '../../../../lib/domain/reconciliation/results';
import { awsConfig, reconcileAws } from './helpers';
import { AS_OF, WE10_BANK, WE10_FEED, we10Ledger } from './we10-fixture';

describe('WE-10: reconciliation snapshot (AWS, as of 2025-08-31)', () => {
  let result: ReconciliationResult;
  beforeAll(async () => {
    result = await reconcileAws(we10Ledger(), WE10_FEED, awsConfig(AS_OF), WE10_BANK);
  });

  it('matches the A-1r upgrade invoice with variance 0.00: gross, fee and its payout', () => {
    const billing = result.matched.find((m) => m.level === 'billing' && m.contractId === 'A-1');
    expect(billing).toMatchObject({
      internalId: 'invoice:inst-2-2025-07-01',
      keys: { agreementId: 'A-1r', recordId: 'be-a1r-charge', invoiceId: 'inv-a1r' },
      line: 2,
      expectedMinor: 3_000_000n,
      actualMinor: 3_000_000n,
      varianceMinor: 0n,
      feeExpectedMinor: 90_000n,
      feeActualMinor: 90_000n,
      disbursedMinor: 2_910_000n,
    });
    expect(result.matched.find((m) => m.level === 'cash')).toMatchObject({
      contractId: 'A-1',
      internalId: 'be-payout-1',
      actualMinor: 2_910_000n,
      varianceMinor: 0n,
      recorded: false,
    });
    expect(result.disbursementCandidates).toEqual([
      {
        contractId: 'A-1',
        disbursementId: 'be-payout-1',
        date: '2025-08-18',
        currency: 'USD',
        amountMinor: 2_910_000n,
        settlesCurrency: 'USD',
        settlesMinor: 2_910_000n,
        bankTraceId: 'TRACE-0815',
        line: 6,
      },
    ]);
  });

  it('matches the payout to the bank statement by its bank trace id', () => {
    expect(result.matched.find((m) => m.level === 'bank')).toMatchObject({
      keys: { payoutId: 'be-payout-1', bankReference: 'TRACE-0815' },
      expectedMinor: 2_910_000n,
      actualMinor: 2_910_000n,
    });
    expect(result.summary.counts.bankLinesUnmatched).toBe(1);
    expect(result.summary.currencies[0]?.bankMatchedMinor).toBe(2_910_000n);
  });

  it('usage Mar-2025: 123,456.68 billed against 123,456.70 is within tolerance, true-up −0.02 to 4100', () => {
    expect(result.withinTolerance).toEqual([
      expect.objectContaining({
        level: 'billing',
        contractId: 'U-1',
        internalId: 'usage:2025-03',
        expectedMinor: 12_345_670n,
        actualMinor: 12_345_668n,
        varianceMinor: -2n,
        trueUp: {
          account: '4100',
          counterAccount: '1210',
          amountMinor: -2n,
          debitAccount: '4100',
          creditAccount: '1210',
          absoluteMinor: 2n,
          currency: 'USD',
          period: '2025-09',
          mode: 'post',
        },
      }),
    ]);
  });

  it('the WE-4 CPPO invoice is billed but not collected: 86,850.00 open, 153 days past due, >90', () => {
    expect(result.matched.find((m) => m.contractId === 'C-1')).toMatchObject({
      expectedMinor: 9_000_000n,
      feeActualMinor: 315_000n,
      varianceMinor: 0n,
      disbursedMinor: 0n,
    });
    expect(result.aging.items.find((a) => a.contractId === 'C-1')).toMatchObject({
      invoiceDate: '2025-03-01',
      dueDate: '2025-03-31',
      daysPastDue: 153,
      bucket: '>90',
      openMinor: 8_685_000n,
    });
  });

  it('the unknown agreement A-9 (+5,000.00) is the only exception: unmatched external', () => {
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_external',
        reasonCode: 'no_contract',
        contractId: null,
        keys: expect.objectContaining({ agreementId: 'A-9', recordId: 'be-a9-charge' }),
        line: 11,
        actualMinor: 500_000n,
      }),
    ]);
  });

  it('1210 rolls forward to its closing balance, which is the sum of the open items', () => {
    const [rf] = result.rollForward;
    expect(rf?.account).toBe('1210');
    expect(rf?.ties).toBe(true);
    // A-1r 29,100.00 (paid out, not yet recorded) + C-1 86,850.00 + U-1 119,753.00.
    expect(rf?.transaction.closingMinor).toBe(23_570_300n);
    expect(rf?.openItemsMinor).toBe(23_570_300n);
    expect(rf?.tiesToOpenItems).toBe(true);
    expect(result.aging.summary).toEqual([
      {
        account: '1210',
        currency: 'USD',
        buckets: { not_due: 0n, '1-30': 0n, '31-60': 2_910_000n, '61-90': 0n, '>90': 20_660_300n },
        openMinor: 23_570_300n,
        unappliedMinor: 0n,
      },
    ]);
  });

  it('summarizes the file: billed, fees, net due, disbursed and what is outstanding', () => {
    expect(result.summary.currencies).toEqual([
      expect.objectContaining({
        currency: 'USD',
        billedMinor: 24_845_668n,
        feesMinor: -790_370n,
        netDueMinor: 24_055_298n,
        disbursedMinor: 2_910_000n,
        outstandingMinor: 21_145_298n,
      }),
    ]);
    expect(result.summary.counts).toMatchObject({
      records: 11,
      lines: 4,
      payouts: 1,
      rowErrors: 0,
    });
  });
});
