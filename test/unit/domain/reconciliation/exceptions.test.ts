// Proves every outcome class of the reconciliation on ledgers posted by the real engine: matched, within tolerance (posted or proposed), and each exception class — unmatched internal and external, amount, fee (with its explanation), FX, failed payout — at billing, refund, cash and bank level; plus the aging buckets and contracts named only by transaction references.
import { describe, expect, it } from 'vitest';
import type { ContractRef, ExpectedLedger } from '../../../../lib/domain/reconciliation/expected';
import { createReconciler } from '../../../../lib/domain/reconciliation/reconciler';
import type { ReconciliationException } from '../../../../lib/domain/reconciliation/results';
import type { ScenarioInput } from '../../../../lib/domain/revenue/preview';
import {
  type AwsRow,
  awsConfig,
  awsCsv,
  disbursedRows,
  invoiceRows,
  ledgerOf,
  payoutRow,
  reconcileAws,
} from './helpers';

const AS_OF = '2025-08-31';
const X: ContractRef = { contractId: 'X', marketplace: 'aws', keys: ['agmt-x'] };

type Event = ScenarioInput['events'][number];

/** Contract X: 100,000.00 a year, four quarterly installments of 25,000.00, fee 3 % (750.00). */
function ledger(extra: Event[] = [], asOf = AS_OF, refs: ContractRef[] = [X]): ExpectedLedger {
  return ledgerOf(
    {
      asOf,
      events: [
        {
          type: 'ContractCreated',
          contractId: 'X',
          marketplace: 'aws',
          offerType: 'private',
          effectiveAt: '2025-01-01',
          currency: 'USD',
          term: { start: '2025-01-01', end: '2026-01-01' },
          totalMinor: '10000000',
          installments: ['2025-01-01', '2025-04-01', '2025-07-01', '2025-10-01'].map((date) => ({
            date,
            amountMinor: '2500000',
          })),
        },
        ...extra,
      ],
    },
    refs,
  );
}

const quarter = (
  date: string,
  overrides: { gross?: string; fee?: string; currency?: string; agreement?: string | null } = {},
) =>
  invoiceRows({
    id: `x-${date}`,
    agreement: overrides.agreement === undefined ? 'agmt-x' : overrides.agreement,
    date,
    due: date.replace(/-01$/, '-28'),
    gross: overrides.gross ?? '25000.00',
    fee: overrides.fee ?? '-750.00',
    ...(overrides.currency ? { currency: overrides.currency } : {}),
  });
const allQuarters = (): AwsRow[] =>
  ['2025-01-01', '2025-04-01', '2025-07-01'].flatMap((d) => quarter(d));

function only(
  exceptions: readonly ReconciliationException[],
  cls: ReconciliationException['class'],
) {
  return exceptions.filter((e) => e.class === cls);
}

describe('billing', () => {
  it('matched: every billed installment with its fee, nothing else', async () => {
    const result = await reconcileAws(ledger(), awsCsv(allQuarters()), awsConfig(AS_OF));
    expect(result.matched.map((m) => [m.level, m.internalId, m.varianceMinor])).toEqual([
      ['billing', 'invoice:inst-1-2025-01-01', 0n],
      ['billing', 'invoice:inst-2-2025-04-01', 0n],
      ['billing', 'invoice:inst-3-2025-07-01', 0n],
    ]);
    expect(result.exceptions).toEqual([]);
    expect(result.withinTolerance).toEqual([]);
  });

  it('unmatched_internal: an installment the marketplace never invoiced; a recent one is pending', async () => {
    const rows = ['2025-01-01', '2025-04-01'].flatMap((d) => quarter(d));
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_internal',
        reasonCode: 'not_billed',
        level: 'billing',
        contractId: 'X',
        internalId: 'invoice:inst-3-2025-07-01',
        expectedMinor: 2_500_000n,
        actualMinor: null,
        line: null,
      }),
    ]);
    const recent = await reconcileAws(
      ledger([], '2025-07-02'),
      awsCsv(rows),
      awsConfig('2025-07-02'),
    );
    expect(recent.exceptions).toEqual([]);
    expect(recent.summary.counts.pendingInternal).toBe(1);
  });

  it('unmatched_external: a line of a known contract no expected invoice explains', async () => {
    const rows = [...allQuarters(), ...quarter('2025-08-15', { gross: '1234.00', fee: '-37.02' })];
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_external',
        reasonCode: 'no_expected_invoice',
        contractId: 'X',
        keys: expect.objectContaining({
          agreementId: 'agmt-x',
          recordId: 'be-x-2025-08-15-charge',
        }),
        line: 8,
        actualMinor: 123_400n,
      }),
    ]);
  });

  it('amount_variance: billed 24,999.00 instead of 25,000.00; its fee follows the rate, so no fee exception', async () => {
    const rows = [
      ...quarter('2025-01-01'),
      ...quarter('2025-04-01', { gross: '24999.00', fee: '-749.97' }),
      ...quarter('2025-07-01'),
    ];
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'amount_variance',
        reasonCode: 'amount',
        internalId: 'invoice:inst-2-2025-04-01',
        expectedMinor: 2_500_000n,
        actualMinor: 2_499_900n,
        varianceMinor: -100n,
        line: 4,
      }),
    ]);
    expect(result.withinTolerance).toEqual([]);
  });

  it('amount_variance: an invoice the marketplace forgave', async () => {
    const forgiven: AwsRow = {
      billing_event_id: 'be-x-jul-forgiven',
      action: 'FORGIVEN',
      transaction_type: 'SELLER_REV_SHARE',
      parent_billing_event_id: 'be-x-2025-07-01-charge',
      amount: '-25000.00',
      invoice_date: '2025-07-01T00:00:00Z',
      transaction_reference_id: 'txref-x-2025-07-01',
      agreement_id: 'agmt-x',
    };
    const result = await reconcileAws(
      ledger(),
      awsCsv([...allQuarters(), forgiven]),
      awsConfig(AS_OF),
    );
    expect(only(result.exceptions, 'amount_variance')).toEqual([
      expect.objectContaining({
        reasonCode: 'forgiven',
        internalId: 'invoice:inst-3-2025-07-01',
        actualMinor: 0n,
      }),
    ]);
  });

  it('fee_variance: explained by the rate the marketplace applied', async () => {
    const rows = [
      ...quarter('2025-01-01', { fee: '-875.00' }),
      ...quarter('2025-04-01', { fee: '-375.00' }),
      ...quarter('2025-07-01', { fee: '-500.00' }),
    ];
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(
      result.exceptions.map((e) => [
        e.class,
        e.level,
        e.internalId,
        e.reasonCode,
        e.expectedMinor,
        e.actualMinor,
      ]),
    ).toEqual([
      ['fee_variance', 'fee', 'invoice:inst-1-2025-01-01', 'cppo_uplift_applied', 75_000n, 87_500n],
      ['fee_variance', 'fee', 'invoice:inst-2-2025-04-01', 'renewal_rate', 75_000n, 37_500n],
      ['fee_variance', 'fee', 'invoice:inst-3-2025-07-01', 'wrong_tier', 75_000n, 50_000n],
    ]);
    expect(result.exceptions[0]?.reason).toContain('3.5% instead of 3%');
    // The billing level of those lines matched.
    expect(result.matched).toEqual([]);
  });

  it('fee_variance: a fee no published rate explains; a missing CPPO uplift', async () => {
    const cppo = ledgerOf(
      {
        asOf: AS_OF,
        events: [
          {
            type: 'ContractCreated',
            contractId: 'C',
            marketplace: 'aws',
            offerType: 'private',
            effectiveAt: '2025-03-01',
            currency: 'USD',
            term: { start: '2025-03-01', end: '2026-03-01' },
            totalMinor: '10000000',
            installments: [{ date: '2025-03-01', amountMinor: '10000000' }],
            reseller: { wholesaleMinor: '9000000', buyerPriceMinor: '10000000' },
          },
        ],
      },
      [{ contractId: 'C', marketplace: 'aws', keys: ['agmt-c'] }],
    );
    const missing = await reconcileAws(
      cppo,
      awsCsv(
        invoiceRows({
          id: 'c',
          agreement: 'agmt-c',
          date: '2025-03-01',
          gross: '90000.00',
          fee: '-2700.00',
        }),
      ),
      awsConfig(AS_OF),
    );
    expect(missing.exceptions.map((e) => e.reasonCode)).toEqual(['cppo_uplift_missing']);
    const odd = await reconcileAws(
      ledger(),
      awsCsv([...quarter('2025-01-01', { fee: '-777.77' })]),
      awsConfig(AS_OF),
    );
    expect(only(odd.exceptions, 'fee_variance').map((e) => e.reasonCode)).toEqual(['unexplained']);
  });

  it('within tolerance: a fee off by 0.02 under a 0.05 fee tolerance is trued up to 5100 — proposed when configured', async () => {
    const rows = [
      ...quarter('2025-01-01', { fee: '-750.02' }),
      ...quarter('2025-04-01'),
      ...quarter('2025-07-01'),
    ];
    const config = awsConfig(AS_OF, {
      tolerances: { fee: { absolute: '0.05', relative: '0' } },
      trueUpMode: 'propose',
    });
    const result = await reconcileAws(ledger(), awsCsv(rows), config);
    expect(result.exceptions).toEqual([]);
    expect(result.withinTolerance).toEqual([
      expect.objectContaining({
        level: 'fee',
        internalId: 'invoice:inst-1-2025-01-01',
        expectedMinor: 75_000n,
        actualMinor: 75_002n,
        toleranceMinor: 5n,
        trueUp: expect.objectContaining({
          account: '5100',
          counterAccount: '1210',
          amountMinor: 2n,
          debitAccount: '5100',
          creditAccount: '1210',
          period: '2025-09',
          mode: 'propose',
        }),
      }),
    ]);
    // Without the tolerance it is a fee variance.
    const strict = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(only(strict.exceptions, 'fee_variance')).toHaveLength(1);
  });

  it('fx_variance: billed in another currency than the ledger invoiced', async () => {
    const rows = [
      ...quarter('2025-01-01', { currency: 'EUR' }),
      ...quarter('2025-04-01'),
      ...quarter('2025-07-01'),
    ];
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'fx_variance',
        reasonCode: 'currency',
        internalId: 'invoice:inst-1-2025-01-01',
        currency: 'EUR',
        expectedMinor: 2_500_000n,
        actualMinor: 2_500_000n,
      }),
    ]);
  });

  it('lines without agreement_id are tied to their contract through transaction references', async () => {
    const refs: ContractRef[] = [
      {
        contractId: 'X',
        marketplace: 'aws',
        keys: [],
        references: ['txref-x-2025-01-01', 'txref-x-2025-04-01', 'inv-x-2025-07-01'],
      },
    ];
    const rows = ['2025-01-01', '2025-04-01', '2025-07-01'].flatMap((d) =>
      quarter(d, { agreement: null }),
    );
    const result = await reconcileAws(ledger([], AS_OF, refs), awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([]);
    expect(result.matched.map((m) => m.internalId)).toEqual([
      'invoice:inst-1-2025-01-01',
      'invoice:inst-2-2025-04-01',
      'invoice:inst-3-2025-07-01',
    ]);
  });
});

describe('refunds and adjustments', () => {
  const refund = (amount: string, fee: string): AwsRow[] => [
    {
      billing_event_id: 'be-x-refund',
      action: 'INVOICED',
      transaction_type: 'SELLER_REV_SHARE_REFUND',
      amount: `-${amount}`,
      invoice_date: '2025-05-10T00:00:00Z',
      transaction_reference_id: 'txref-x-refund',
      invoice_id: 'inv-x-refund',
      agreement_id: 'agmt-x',
    },
    {
      billing_event_id: 'be-x-refund-fee',
      action: 'INVOICED',
      transaction_type: 'AWS_REV_SHARE_REFUND',
      amount: fee,
      invoice_date: '2025-05-10T00:00:00Z',
      transaction_reference_id: 'txref-x-refund',
      agreement_id: 'agmt-x',
    },
  ];
  const refunded = (): ExpectedLedger =>
    ledger([
      {
        type: 'RefundIssued',
        contractId: 'X',
        refundId: 'r-1',
        effectiveAt: '2025-05-08',
        amountMinor: '100000',
      },
    ]);

  it('matched: the marketplace refunds what the ledger settled, and its fee on it', async () => {
    const result = await reconcileAws(
      refunded(),
      awsCsv([...allQuarters(), ...refund('1000.00', '30.00')]),
      awsConfig(AS_OF),
    );
    expect(result.exceptions).toEqual([]);
    expect(result.matched.find((m) => m.level === 'refund')).toMatchObject({
      internalId: 'refund:r-1',
      expectedMinor: 100_000n,
      actualMinor: 100_000n,
      feeExpectedMinor: 3_000n,
      feeActualMinor: 3_000n,
    });
  });

  it('amount and fee variance on a refund; a refund the ledger lacks; one the file lacks', async () => {
    const different = await reconcileAws(
      refunded(),
      awsCsv([...allQuarters(), ...refund('1200.00', '20.00')]),
      awsConfig(AS_OF),
    );
    expect(different.exceptions.map((e) => [e.class, e.level, e.reasonCode])).toEqual([
      ['fee_variance', 'fee', 'fee_refund'],
      ['amount_variance', 'refund', 'refund_amount'],
    ]);
    const extra = await reconcileAws(
      ledger(),
      awsCsv([...allQuarters(), ...refund('1000.00', '30.00')]),
      awsConfig(AS_OF),
    );
    expect(extra.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_external',
        level: 'refund',
        reasonCode: 'refund_not_in_ledger',
        actualMinor: 100_000n,
      }),
    ]);
    const missing = await reconcileAws(refunded(), awsCsv(allQuarters()), awsConfig(AS_OF));
    expect(missing.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_internal',
        level: 'refund',
        reasonCode: 'refund_not_in_file',
        internalId: 'refund:r-1',
      }),
    ]);
  });

  it('a balance adjustment is an unmatched external line; taxes AWS remits stay apart', async () => {
    const rows: AwsRow[] = [
      ...allQuarters(),
      {
        billing_event_id: 'be-adj',
        action: 'INVOICED',
        transaction_type: 'BALANCE_ADJUSTMENT',
        amount: '-12.34',
        invoice_date: '2025-06-01T00:00:00Z',
        transaction_reference_id: 'txref-adj',
        agreement_id: 'agmt-x',
      },
      {
        billing_event_id: 'be-tax',
        action: 'INVOICED',
        transaction_type: 'AWS_TAX_SHARE',
        amount: '2062.50',
        balance_impacting: '0',
        invoice_date: '2025-01-01T00:00:00Z',
        transaction_reference_id: 'txref-x-2025-01-01',
        agreement_id: 'agmt-x',
      },
    ];
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_external',
        reasonCode: 'balance_adjustment',
        actualMinor: -1_234n,
      }),
    ]);
    expect(result.summary.currencies[0]).toMatchObject({
      taxesNotBalanceImpactingMinor: 206_250n,
      taxesMinor: 0n,
      adjustmentsMinor: -1_234n,
      billedMinor: 7_500_000n,
    });
    // The tax shares the January transaction but its billing still matches exactly.
    expect(result.matched).toHaveLength(3);
  });
});

describe('cash and bank', () => {
  const paid = (payout: string, ...dates: string[]): AwsRow[] =>
    dates.flatMap((d) =>
      disbursedRows({
        id: `x-${d}`,
        agreement: 'agmt-x',
        payout,
        gross: '25000.00',
        fee: '-750.00',
      }),
    );

  it('a recorded payout matches; an unrecorded one becomes a candidate up to the receivable', async () => {
    const recorded = ledger([
      {
        type: 'DisbursementReceived',
        contractId: 'X',
        disbursementId: 'be-p1',
        effectiveAt: '2025-03-05',
        currency: 'USD',
        amountMinor: '2425000',
      },
    ]);
    const rows = [
      ...allQuarters(),
      ...paid('be-p1', '2025-01-01'),
      payoutRow({ payout: 'be-p1', amount: '24250.00', date: '2025-03-05', trace: 'T1' }),
      ...paid('be-p2', '2025-04-01'),
      payoutRow({ payout: 'be-p2', amount: '24250.00', date: '2025-06-05', trace: 'T2' }),
    ];
    const result = await reconcileAws(recorded, awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([]);
    expect(
      result.matched.filter((m) => m.level === 'cash').map((m) => [m.internalId, m.recorded]),
    ).toEqual([
      ['be-p1', true],
      ['be-p2', false],
    ]);
    expect(result.disbursementCandidates).toEqual([
      expect.objectContaining({
        disbursementId: 'be-p2',
        date: '2025-06-05',
        amountMinor: 2_425_000n,
        bankTraceId: 'T2',
      }),
    ]);
    // The aging: January is paid (recorded); April's payout is in the file, not yet in the ledger.
    expect(result.aging.items.map((a) => [a.invoiceId, a.openMinor, a.feedDisbursedMinor])).toEqual(
      [
        ['invoice:inst-2-2025-04-01', 2_425_000n, 2_425_000n],
        ['invoice:inst-3-2025-07-01', 2_425_000n, 0n],
      ],
    );
    expect(result.rollForward[0]?.tiesToOpenItems).toBe(true);
  });

  it('amount_variance: recorded amount differs; payout total differs from its lines; payout beyond the receivable', async () => {
    const recorded = ledger([
      {
        type: 'DisbursementReceived',
        contractId: 'X',
        disbursementId: 'be-p1',
        effectiveAt: '2025-03-05',
        currency: 'USD',
        amountMinor: '2400000',
      },
    ]);
    const rows = [
      ...allQuarters(),
      ...paid('be-p1', '2025-01-01'),
      payoutRow({ payout: 'be-p1', amount: '24250.01', date: '2025-03-05', trace: 'T1' }),
    ];
    const result = await reconcileAws(recorded, awsCsv(rows), awsConfig(AS_OF));
    expect(
      result.exceptions.map((e) => [e.class, e.reasonCode, e.expectedMinor, e.actualMinor]),
    ).toEqual([
      ['amount_variance', 'recorded_amount', 2_400_000n, 2_425_000n],
      ['amount_variance', 'payout_total', 2_425_000n, 2_425_001n],
    ]);
    const early = ledger([], '2025-02-01');
    const beyond = await reconcileAws(
      early,
      awsCsv([...quarter('2025-01-01'), ...paid('be-p9', '2025-01-01', '2025-04-01')]),
      awsConfig('2025-02-01'),
    );
    expect(beyond.exceptions.map((e) => [e.class, e.reasonCode])).toContainEqual([
      'amount_variance',
      'exceeds_receivable',
    ]);
    expect(beyond.disbursementCandidates).toEqual([]);
  });

  it('unmatched_internal: a payout the ledger recorded that the file does not show', async () => {
    const recorded = ledger([
      {
        type: 'DisbursementReceived',
        contractId: 'X',
        disbursementId: 'manual-7',
        effectiveAt: '2025-06-10',
        currency: 'USD',
        amountMinor: '2425000',
      },
    ]);
    const result = await reconcileAws(recorded, awsCsv(allQuarters()), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_internal',
        level: 'cash',
        reasonCode: 'disbursement_not_in_file',
        internalId: 'manual-7',
      }),
    ]);
  });

  it('disbursement_failed: a payout reversed by DISBURSEMENT_FAILURE pays nothing and is no candidate', async () => {
    const rows = [
      ...allQuarters(),
      ...paid('be-p2', '2025-04-01'),
      payoutRow({ payout: 'be-p2', amount: '24250.00', date: '2025-06-05', trace: 'T2' }),
      {
        billing_event_id: 'be-p2-failed',
        action: 'DISBURSED',
        transaction_type: 'DISBURSEMENT_FAILURE',
        parent_billing_event_id: 'be-p2',
        amount: '-24250.00',
        update_date: '2025-06-07T00:00:00Z',
      },
    ];
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF));
    expect(result.exceptions).toEqual([
      expect.objectContaining({
        class: 'disbursement_failed',
        contractId: 'X',
        internalId: 'be-p2',
        expectedMinor: 2_425_000n,
        actualMinor: 0n,
        line: 11,
      }),
    ]);
    expect(result.disbursementCandidates).toEqual([]);
    expect(result.summary.currencies[0]?.disbursedMinor).toBe(0n);
    expect(
      result.aging.items.find((a) => a.invoiceId === 'invoice:inst-2-2025-04-01')
        ?.feedDisbursedMinor,
    ).toBe(0n);
  });

  it('bank: a payout missing from the statement, and one received for another amount', async () => {
    const rows = [
      ...allQuarters(),
      ...paid('be-p1', '2025-01-01'),
      payoutRow({ payout: 'be-p1', amount: '24250.00', date: '2025-03-05', trace: 'T1' }),
      ...paid('be-p2', '2025-04-01'),
      payoutRow({ payout: 'be-p2', amount: '24250.00', date: '2025-06-05', trace: 'T2' }),
    ];
    const bank = 'Date,Amount,Reference,Currency\n2025-06-09,"24,200.00",t2,USD\n';
    const result = await reconcileAws(ledger(), awsCsv(rows), awsConfig(AS_OF), bank);
    expect(result.exceptions.map((e) => [e.class, e.level, e.reasonCode, e.keys.payoutId])).toEqual(
      [
        ['unmatched_external', 'bank', 'not_on_bank_statement', 'be-p1'],
        ['amount_variance', 'bank', 'bank_amount', 'be-p2'],
      ],
    );
    // The candidate is dated the day the bank received it.
    expect(result.disbursementCandidates.find((c) => c.disbursementId === 'be-p2')?.date).toBe(
      '2025-06-09',
    );
  });
});

describe('aging', () => {
  it('buckets by days past the due date: not due, 1–30, 31–60, 61–90, >90', async () => {
    const cases: [string, string][] = [
      ['2025-08-31', 'not_due'],
      ['2025-08-30', '1-30'],
      ['2025-08-01', '1-30'],
      ['2025-07-31', '31-60'],
      ['2025-07-02', '31-60'],
      ['2025-07-01', '61-90'],
      ['2025-06-02', '61-90'],
      ['2025-06-01', '>90'],
    ];
    for (const [due, bucket] of cases) {
      const rows = invoiceRows({
        id: 'x-jan',
        agreement: 'agmt-x',
        date: '2025-01-01',
        due,
        gross: '25000.00',
        fee: '-750.00',
      });
      const result = await reconcileAws(ledger([], AS_OF), awsCsv(rows), awsConfig(AS_OF));
      expect(
        result.aging.items.find((a) => a.invoiceId === 'invoice:inst-1-2025-01-01'),
      ).toMatchObject({ dueDate: due, bucket });
    }
    // Without the marketplace's due date: invoice date + 30 days.
    const result = await reconcileAws(ledger(), awsCsv([]), awsConfig(AS_OF));
    expect(result.aging.items.map((a) => [a.dueDate, a.bucket])).toEqual([
      ['2025-01-31', '>90'],
      ['2025-05-01', '>90'],
      ['2025-07-31', '31-60'],
    ]);
  });
});

describe('the ledger side', () => {
  it('refuses a contract added twice (a fault of the ledger reader), wherever the repeat comes', () => {
    const expected = ledger();
    const [x] = expected.contracts;
    if (x === undefined) throw new Error('no contract');
    const others = Array.from({ length: 3_000 }, (_, i) => ({ ...x, contractId: `X-${i}` }));
    const run = (contracts: typeof expected.contracts) =>
      createReconciler({ ...expected, contracts }, awsConfig(AS_OF)).finish();
    expect(() => run([x, ...others, x])).toThrow('Contract X was added twice');
    expect(() => run([...others, others[1_234] ?? x])).toThrow('Contract X-1234 was added twice');
    // Thousands of distinct contracts (ids sharing long prefixes) are no repeat.
    expect(run([x, ...others]).summary.counts.exceptions).toBeGreaterThan(0);
  });
});
