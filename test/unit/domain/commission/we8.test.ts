// Proves finance.md WE-8 to the cent as three monthly runs built from stored-ledger-shaped facts (graduated true-up, FIFO disbursement hold, clawback at the original rate, payout, release; retroactive alternative; D-1 basis comparison), pins WE-6's commission under both bases, and checks plan lookup and validation.
import { describe, expect, it } from 'vitest';
import { allocateRatably } from '../../../../lib/domain/allocation';
import {
  acceleratorOn,
  accrualLineId,
  allocateByBasis,
  type ClawbackInput,
  type CommissionBalances,
  type ContractBasisFacts,
  computePartnerPeriod,
  contractCumulativeBasis,
  dealPeriodInputFor,
  type InvoiceFact,
  markPaid,
  type PartnerPeriodResult,
  partnerMonthlyBasis,
  releaseHolds,
} from '../../../../lib/domain/commission/engine';
import {
  type CommissionPlan,
  type CommissionPlanInput,
  commissionPlanInputProblems,
  parseCommissionPlan,
  planVersionOn,
  rateFor,
} from '../../../../lib/domain/commission/plan';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  type AccountCode,
  type JournalEntry,
  journalEntryProblems,
} from '../../../../lib/domain/ledger';
import { parseMajorAmount, rational } from '../../../../lib/domain/money';

const usd = (text: string) => parseMajorAmount(text, 'USD');
const PARTNER = 'P-100';
const Q3 = ['2025-07', '2025-08', '2025-09'] as const;
type Q3Month = (typeof Q3)[number];

// [0, 100,000) at base; [100,000, 250,000) at base + 2 pp; ≥ 250,000 at base + 4 pp.
const WE8_BANDS = [
  { fromMinor: '0', toMinor: '10000000', upliftPercent: '0' },
  { fromMinor: '10000000', toMinor: '25000000', upliftPercent: '2' },
  { fromMinor: '25000000', upliftPercent: '4' },
];
const WE8_PLAN_INPUT: CommissionPlanInput = {
  planId: 'partner-gold',
  version: 3,
  effectiveFrom: '2025-01-01',
  currency: 'USD',
  basis: 'recognized',
  rateTable: [{ tier: 'Gold', dealType: 'sourced', ratePercent: '10' }],
  accelerator: { mode: 'graduated', measure: { dealType: 'sourced' }, bands: WE8_BANDS },
  caps: { perPartnerPerQuarterMinor: '2500000' },
  hold: { payWhen: 'disbursed' },
  minimumPayoutMinor: '5000',
  payoutTerm: 'NET-15',
  payoutSchedule: 'quarterly',
};
const WE8_PLAN = parseCommissionPlan(WE8_PLAN_INPUT);

// D-1 is WE-2's deal: WE-1's cumulative recognition through June, then the replacement's
// 13,244.30 + 13,244.29 + 12,817.07; its two invoices to date were disbursed.
const D1_FACTS: ContractBasisFacts = {
  recognizedCumulative: [
    ['2025-01', '10191.78'],
    ['2025-02', '19397.26'],
    ['2025-03', '29589.04'],
    ['2025-04', '39452.05'],
    ['2025-05', '49643.84'],
    ['2025-06', '59506.85'],
    ['2025-07', '72751.15'],
    ['2025-08', '85995.44'],
    ['2025-09', '98812.51'],
  ].map(([period = '', amount = '']) => ({ period, cumulativeMinor: usd(amount) })),
  invoices: [
    {
      invoiceId: 'A-1-inst-1',
      date: '2025-01-01',
      amountMinor: usd('120000.00'),
      disbursedOn: '2025-02-14',
      disbursedNetMinor: usd('116400.00'),
    },
    {
      invoiceId: 'A-1r-upgrade',
      date: '2025-07-01',
      amountMinor: usd('30000.00'),
      disbursedOn: '2025-07-28',
      disbursedNetMinor: usd('29100.00'),
    },
    {
      invoiceId: 'A-1r-inst-2',
      date: '2026-01-01',
      amountMinor: usd('150000.00'),
      disbursedOn: null,
    },
  ],
};

const D2_INVOICE: InvoiceFact = {
  invoiceId: 'D-2-inv-1',
  date: '2025-09-01',
  amountMinor: usd('95000.00'),
  disbursedOn: null,
};
const d2Facts = (invoice: InvoiceFact = D2_INVOICE): ContractBasisFacts => ({
  recognizedCumulative: [{ period: '2025-09', cumulativeMinor: usd('95000.00') }],
  invoices: [invoice],
});

const SOLE = [
  { partnerId: PARTNER, weight: { num: 1n, den: 1n }, firstTouchAt: '2025-01-01T00:00:00Z' },
];

const D3_CLAWBACK: ClawbackInput = {
  contractId: 'D-3',
  creditId: 'D-3-service-credit-1',
  basisMinor: usd('-1500.00'),
  reversesLineId: accrualLineId(PARTNER, 'D-3', '2025-06'),
  ratePercent: '10',
  dealType: 'sourced',
  product: null,
  attributionVersion: 1,
  date: '2025-09-12',
};

function dealsFor(month: Q3Month, plan: CommissionPlan) {
  const common = {
    partnerId: PARTNER,
    period: month,
    basisKind: plan.basis,
    dealType: 'sourced' as const,
    product: null,
    attributionVersion: 1,
    shares: SOLE,
  };
  return [
    dealPeriodInputFor({ ...common, contractId: 'D-1', facts: D1_FACTS }),
    dealPeriodInputFor({ ...common, contractId: 'D-2', facts: d2Facts() }),
  ];
}

function runQuarter(plan: CommissionPlan = WE8_PLAN): PartnerPeriodResult[] {
  let opening: CommissionBalances = { payableMinor: 0n, heldMinor: 0n };
  return Q3.map((month) => {
    const result = computePartnerPeriod({
      partnerId: PARTNER,
      tier: 'Gold',
      period: month,
      plan,
      functionalCurrency: 'USD',
      source: { kind: 'run', id: `commission:${month}` },
      opening,
      deals: dealsFor(month, plan),
      clawbacks: month === '2025-09' ? [D3_CLAWBACK] : [],
    });
    opening = result.closing;
    return result;
  });
}

/** Net debit (positive) or credit (negative) per account over some entries. */
function netByAccount(entries: readonly JournalEntry[]): Partial<Record<AccountCode, bigint>> {
  const out: Partial<Record<AccountCode, bigint>> = {};
  for (const leg of entries.flatMap((e) => e.legs)) {
    out[leg.account] = (out[leg.account] ?? 0n) + leg.debitMinor - leg.creditMinor;
  }
  for (const [account, amount] of Object.entries(out)) {
    if (amount === 0n) delete out[account as AccountCode];
  }
  return out;
}

const amountsByContract = (
  results: readonly PartnerPeriodResult[],
  kind: 'accrual' | 'clawback',
) => {
  const out: Record<string, bigint> = {};
  for (const line of results.flatMap((r) => r.lines).filter((l) => l.kind === kind)) {
    out[line.contractId] = (out[line.contractId] ?? 0n) + line.amountMinor;
  }
  return out;
};

describe('WE-8: Q3-2025 statement of P-100, three monthly runs', () => {
  const quarter = runQuarter();
  const [july, august, september] = quarter;

  it('splits the stored cumulative recognition into the quarter basis 134,305.66', () => {
    const monthly = Q3.map((month) =>
      dealsFor(month, WE8_PLAN).map((d) => [d.contractId, d.basisMinor]),
    );
    expect(monthly).toEqual([
      [
        ['D-1', usd('13244.30')],
        ['D-2', 0n],
      ],
      [
        ['D-1', usd('13244.29')],
        ['D-2', 0n],
      ],
      [
        ['D-1', usd('12817.07')],
        ['D-2', usd('95000.00')],
      ],
    ]);
    expect(september?.quarterToDate.measureMinor).toBe(usd('134305.66'));
    expect(september?.quarterToDate.measureBeforeMinor).toBe(usd('26488.59'));
  });

  it('earns 14,116.68 over the quarter: tier 1 10,000.00 + tier 2 34,305.66 × 12 %, no cap', () => {
    expect(quarter.map((r) => r.quarterToDate.earnedMinor)).toEqual([
      usd('1324.43'),
      usd('2648.86'),
      usd('14116.68'),
    ]);
    const earned = quarter.reduce((sum, r) => sum + r.totals.earnedMinor, 0n);
    expect(earned).toBe(usd('14116.68'));
    expect(september?.quarterToDate.partnerCapApplied).toBe(false);
    const bands = september?.accelerator?.bands ?? [];
    expect(bands.map((b) => [b.measuredInBandMinor, b.upliftPercent])).toEqual([
      [usd('100000.00'), '0'],
      [usd('34305.66'), '2'],
      [0n, '4'],
    ]);
    // Base 10 % on the whole measure plus 2 pp on the second band, exact: 14,116.6792.
    const exact = bands[1]?.upliftExactMinor;
    expect(exact).toEqual(rational(3_430_566n * 2n, 100n));
    expect(september?.accelerator?.upliftPercent).toBe('2');
  });

  it('allocates the earned total to D-1 4,131.36 and D-2 9,985.32 (the leftover cent to D-2)', () => {
    expect(
      allocateByBasis(usd('14116.68'), [
        { id: 'D-1', basisMinor: usd('39305.66') },
        { id: 'D-2', basisMinor: usd('95000.00') },
      ]),
    ).toEqual([
      { id: 'D-1', amountMinor: usd('4131.36') },
      { id: 'D-2', amountMinor: usd('9985.32') },
    ]);
    // The monthly telescoping trues D-1 up in September and lands on the same lines.
    expect(amountsByContract(quarter, 'accrual')).toEqual({
      'D-1': usd('4131.36'),
      'D-2': usd('9985.32'),
    });
    const d1 = quarter.flatMap((r) => r.lines).filter((l) => l.contractId === 'D-1');
    expect(d1.map((l) => [l.period, l.amountMinor, l.basisMinor, l.quarterBasisMinor])).toEqual([
      ['2025-07', usd('1324.43'), usd('13244.30'), usd('13244.30')],
      ['2025-08', usd('1324.43'), usd('13244.29'), usd('26488.59')],
      ['2025-09', usd('1482.50'), usd('12817.07'), usd('39305.66')],
    ]);
    expect(d1.map((l) => [l.ratePercent, l.upliftPercent])).toEqual([
      ['10', '0'],
      ['10', '0'],
      ['10', '2'],
    ]);
  });

  it('claws back 150.00 on D-3 at the 10 % of the line it reverses, outside the accelerator measure', () => {
    const clawbacks = september?.lines.filter((l) => l.kind === 'clawback') ?? [];
    expect(clawbacks).toHaveLength(1);
    expect(clawbacks[0]).toMatchObject({
      contractId: 'D-3',
      status: 'clawed_back',
      basisMinor: usd('-1500.00'),
      ratePercent: '10',
      amountMinor: usd('-150.00'),
      heldMinor: 0n,
      reversesLineId: accrualLineId(PARTNER, 'D-3', '2025-06'),
      sourceEventIds: ['D-3-service-credit-1'],
    });
    expect(september?.totals.clawedBackMinor).toBe(usd('150.00'));
    // Without the credit, the measure and the earned amount are exactly the same.
    const noCredit = computePartnerPeriod({
      partnerId: PARTNER,
      tier: 'Gold',
      period: '2025-09',
      plan: WE8_PLAN,
      functionalCurrency: 'USD',
      source: { kind: 'run', id: 'commission:2025-09' },
      opening: august?.closing ?? { payableMinor: 0n, heldMinor: 0n },
      deals: dealsFor('2025-09', WE8_PLAN),
    });
    expect(noCredit.quarterToDate).toEqual(september?.quarterToDate);
    expect(noCredit.totals.earnedMinor).toBe(september?.totals.earnedMinor);
  });

  it('holds D-2 (9,985.32) until its invoice is disbursed and makes 3,981.36 payable', () => {
    const d2 = september?.lines.find((l) => l.contractId === 'D-2');
    expect(d2).toMatchObject({
      status: 'held',
      amountMinor: usd('9985.32'),
      heldMinor: usd('9985.32'),
      hold: {
        condition: 'disbursed',
        range: { fromMinor: 0n, toMinor: usd('95000.00') },
        pendingInvoiceIds: ['D-2-inv-1'],
        unbilledMinor: 0n,
      },
    });
    const held = quarter.reduce((sum, r) => sum + r.totals.earnedHeldMinor, 0n);
    expect(held).toBe(usd('9985.32'));
    const payable = quarter
      .flatMap((r) => r.lines)
      .reduce((sum, l) => sum + l.amountMinor - l.heldMinor, 0n);
    expect(payable).toBe(usd('3981.36'));
    expect(
      quarter
        .flatMap((r) => r.lines)
        .filter((l) => l.contractId === 'D-1')
        .map((l) => l.status),
    ).toEqual(['payable', 'payable', 'payable']);
  });

  it('posts Dr 6100 13,966.68 / Cr 2100 3,981.36 / Cr 2110 9,985.32 over the quarter, every entry balanced', () => {
    const accruals = quarter
      .flatMap((r) => r.entries)
      .filter((e) => e.rule !== 'commission-payout');
    expect(netByAccount(accruals)).toEqual({
      '6100': usd('13966.68'),
      '2100': -usd('3981.36'),
      '2110': -usd('9985.32'),
    });
    for (const entry of quarter.flatMap((r) => r.entries)) {
      expect(journalEntryProblems(entry)).toEqual([]);
      for (const leg of entry.legs) expect(leg.partnerId).toBe(PARTNER);
    }
    const sept = september?.entries.find((e) => e.rule === 'commission-accrual');
    expect(sept?.date).toBe('2025-09-30');
    expect(sept?.postingPeriod).toBe('2025-09');
    expect(sept?.legs.map((l) => [l.account, l.contractId, l.debitMinor, l.creditMinor])).toEqual([
      ['6100', 'D-1', usd('1482.50'), 0n],
      ['6100', 'D-2', usd('9985.32'), 0n],
      ['2100', 'D-1', 0n, usd('1482.50')],
      ['2110', 'D-2', 0n, usd('9985.32')],
    ]);
    const clawback = september?.entries.find((e) => e.rule === 'commission-clawback');
    expect(clawback?.date).toBe('2025-09-12');
    expect(
      clawback?.legs.map((l) => [l.account, l.contractId, l.debitMinor, l.creditMinor]),
    ).toEqual([
      ['2100', 'D-3', usd('150.00'), 0n],
      ['6100', 'D-3', 0n, usd('150.00')],
    ]);
    // Each line names the entry that posted it.
    for (const line of quarter.flatMap((r) => r.lines)) {
      const entries = quarter.flatMap((r) => r.entries).map((e) => e.entryId);
      expect(entries).toContain(line.journalEntryId);
    }
  });

  it('pays 3,981.36 once, at the quarter end (NET-15), and the statement identity holds', () => {
    expect(july?.payout).toBeNull();
    expect(august?.payout).toBeNull();
    expect(september?.payout).toMatchObject({
      amountMinor: usd('3981.36'),
      dueDate: '2025-10-15',
    });
    const payout = september?.entries.find((e) => e.rule === 'commission-payout');
    expect(payout?.entryId).toBe(september?.payout?.journalEntryId);
    expect(payout?.postingPeriod).toBe('2025-10');
    expect(payout?.legs.map((l) => [l.account, l.debitMinor, l.creditMinor])).toEqual([
      ['2100', usd('3981.36'), 0n],
      ['1000', 0n, usd('3981.36')],
    ]);
    // opening + earned − clawed back − paid = closing.
    const earned = quarter.reduce((s, r) => s + r.totals.earnedMinor, 0n);
    const clawed = quarter.reduce((s, r) => s + r.totals.clawedBackMinor, 0n);
    const paid = quarter.reduce((s, r) => s + r.totals.paidMinor, 0n);
    const closing = september?.closing ?? { payableMinor: -1n, heldMinor: -1n };
    expect(closing).toEqual({ payableMinor: 0n, heldMinor: usd('9985.32') });
    expect(0n + earned - clawed - paid).toBe(closing.payableMinor + closing.heldMinor);
    // The payout marks every payable line paid; held and clawed-back lines keep their status.
    const statuses = markPaid(
      quarter.flatMap((r) => r.lines),
      september?.payout?.payoutId ?? '',
    ).map((l) => [l.contractId, l.status]);
    expect(statuses).toEqual([
      ['D-1', 'paid'],
      ['D-1', 'paid'],
      ['D-1', 'paid'],
      ['D-2', 'held'],
      ['D-3', 'clawed_back'],
    ]);
  });

  it('releases D-2 on its disbursement: Dr 2110 9,985.32 / Cr 2100 9,985.32, once', () => {
    const d2 = september?.lines.find((l) => l.contractId === 'D-2');
    if (!d2) throw new Error('no D-2 line');
    const disbursed = { ...D2_INVOICE, disbursedOn: '2025-10-20' };
    const state = {
      line: d2,
      invoices: [disbursed],
      releasedMinor: 0n,
      clawedBackFromHeldMinor: 0n,
    };
    // Before the disbursement date nothing is released.
    const early = releaseHolds(
      { partnerId: PARTNER, functionalCurrency: 'USD', asOf: '2025-10-19' },
      [state],
    );
    expect(early).toEqual({ releases: [], entries: [] });
    const released = releaseHolds(
      { partnerId: PARTNER, functionalCurrency: 'USD', asOf: '2025-10-20' },
      [state],
    );
    expect(released.releases).toMatchObject([
      {
        lineId: d2.lineId,
        releasedMinor: usd('9985.32'),
        remainingHeldMinor: 0n,
        date: '2025-10-20',
      },
    ]);
    const entry = released.entries[0];
    expect(entry?.legs.map((l) => [l.account, l.contractId, l.debitMinor, l.creditMinor])).toEqual([
      ['2110', 'D-2', usd('9985.32'), 0n],
      ['2100', 'D-2', 0n, usd('9985.32')],
    ]);
    // The October run finds the same release (same id); once recorded, nothing more.
    const october = computePartnerPeriod({
      partnerId: PARTNER,
      tier: 'Gold',
      period: '2025-10',
      plan: WE8_PLAN,
      functionalCurrency: 'USD',
      source: { kind: 'run', id: 'commission:2025-10' },
      opening: september?.closing ?? { payableMinor: 0n, heldMinor: 0n },
      deals: [],
      heldLines: [state],
    });
    expect(october.entries.map((e) => e.entryId)).toEqual([entry?.entryId]);
    expect(october.closing).toEqual({ payableMinor: usd('9985.32'), heldMinor: 0n });
    expect(october.payout).toBeNull(); // quarterly payouts: paid at the end of Q4
    const recorded = releaseHolds(
      { partnerId: PARTNER, functionalCurrency: 'USD', asOf: '2025-10-31' },
      [{ ...state, releasedMinor: usd('9985.32') }],
    );
    expect(recorded).toEqual({ releases: [], entries: [] });
  });

  it('gives identical lines and entries when a month is computed again (replay posts nothing new)', () => {
    expect(runQuarter()).toEqual(quarter);
    const ids = quarter.flatMap((r) => r.entries.map((e) => e.entryId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('earns 16,116.68 under the retroactive ("highest rate") alternative', () => {
    const plan = parseCommissionPlan({
      ...WE8_PLAN_INPUT,
      accelerator: { mode: 'retroactive', bands: WE8_BANDS },
    });
    const results = runQuarter(plan);
    expect(results.reduce((s, r) => s + r.totals.earnedMinor, 0n)).toBe(usd('16116.68'));
    expect(results[2]?.quarterToDate.earnedMinor).toBe(usd('16116.68'));
    const lines = amountsByContract(results, 'accrual');
    expect((lines['D-1'] ?? 0n) + (lines['D-2'] ?? 0n)).toBe(usd('16116.68'));
    expect(lines).toEqual(
      Object.fromEntries(
        allocateByBasis(usd('16116.68'), [
          { id: 'D-1', basisMinor: usd('39305.66') },
          { id: 'D-2', basisMinor: usd('95000.00') },
        ]).map((s) => [s.id, s.amountMinor]),
      ),
    );
    expect(acceleratorOn(plan, usd('134305.66'))?.upliftExactMinor).toEqual(
      rational(13_430_566n * 2n, 100n),
    );
  });

  it('applies a quarterly cap (here 10,000.00) and allocates the capped total back to the lines', () => {
    const capped = parseCommissionPlan({
      ...WE8_PLAN_INPUT,
      caps: { perPartnerPerQuarterMinor: '1000000' },
    });
    const results = runQuarter(capped);
    expect(results[2]?.quarterToDate).toMatchObject({
      uncappedMinor: usd('14116.68'),
      earnedMinor: usd('10000.00'),
      partnerCapApplied: true,
    });
    // 10,000.00 × 4,131.36 / 14,116.68 = 2,926.5805 and 7,073.4195: the cent goes to D-2.
    expect(amountsByContract(results, 'accrual')).toEqual({
      'D-1': usd('2926.58'),
      'D-2': usd('7073.42'),
    });
  });

  it('pays monthly when the plan says so, rolling a payable below the minimum forward', () => {
    const monthly = parseCommissionPlan({
      ...WE8_PLAN_INPUT,
      payoutSchedule: 'monthly',
      minimumPayoutMinor: '150000',
    });
    const results = runQuarter(monthly);
    // July 1,324.43 < 1,500.00 rolls forward; August pays both months; September's
    // 1,482.50 − 150.00 = 1,332.50 rolls forward again.
    expect(results.map((r) => r.payout?.amountMinor ?? 0n)).toEqual([0n, usd('2648.86'), 0n]);
    expect(results.map((r) => r.payout?.dueDate ?? null)).toEqual([null, '2025-09-15', null]);
    expect(results.map((r) => r.closing.payableMinor)).toEqual([
      usd('1324.43'),
      0n,
      usd('1332.50'),
    ]);
  });

  it('compares bases on D-1 alone at a flat 10 %: recognized 3,930.57, billed 3,000.00, collected 2,910.00', () => {
    const flat = (basis: 'recognized' | 'billed' | 'collected') =>
      parseCommissionPlan({
        planId: `flat-${basis}`,
        version: 1,
        effectiveFrom: '2025-01-01',
        currency: 'USD',
        basis,
        rateTable: [{ tier: 'Gold', dealType: 'sourced', rateBps: 1000 }],
        hold: { payWhen: 'immediately' },
      });
    const quarterFor = (plan: CommissionPlan) =>
      Q3.map((month) =>
        computePartnerPeriod({
          partnerId: PARTNER,
          tier: 'Gold',
          period: month,
          plan,
          functionalCurrency: 'USD',
          source: { kind: 'run', id: `commission:${month}` },
          opening: { payableMinor: 0n, heldMinor: 0n },
          deals: [dealsFor(month, plan)[0]].filter((d) => d !== undefined),
        }),
      ).reduce((sum, r) => sum + r.totals.earnedMinor, 0n);
    const bases = (['recognized', 'billed', 'collected'] as const).map((kind) => {
      const points = contractCumulativeBasis(kind, D1_FACTS, ['2025-06', '2025-09']);
      return (points[1]?.cumulativeMinor ?? 0n) - (points[0]?.cumulativeMinor ?? 0n);
    });
    expect(bases).toEqual([usd('39305.66'), usd('30000.00'), usd('29100.00')]);
    expect(quarterFor(flat('recognized'))).toBe(usd('3930.57'));
    expect(quarterFor(flat('billed'))).toBe(usd('3000.00'));
    expect(quarterFor(flat('collected'))).toBe(usd('2910.00'));
  });
});

describe('WE-6: a 10 % partner on the cancelled $12,000.00 subscription (pinned)', () => {
  const plan = (basis: 'recognized' | 'billed') =>
    parseCommissionPlan({
      planId: `we6-${basis}`,
      version: 1,
      effectiveFrom: '2025-01-01',
      currency: 'USD',
      basis,
      rateTable: [{ tier: 'Registered', dealType: 'sourced', ratePercent: '10' }],
      hold: { payWhen: 'immediately' },
    });
  // 12,000.00 over [2025-01-01, 2026-01-01), cancelled 2025-04-01: January–March only.
  const monthly = allocateRatably(usd('12000.00'), [
    31n,
    28n,
    31n,
    30n,
    31n,
    30n,
    31n,
    31n,
    30n,
    31n,
    30n,
    31n,
  ]);
  let running = 0n;
  const cumulative = monthly.slice(0, 3).map((amount, index) => {
    running += amount;
    return { period: `2025-0${index + 1}`, cumulativeMinor: running };
  });
  const facts: ContractBasisFacts = {
    recognizedCumulative: cumulative,
    invoices: [
      {
        invoiceId: 'W6-inv-1',
        date: '2025-01-01',
        amountMinor: usd('12000.00'),
        disbursedOn: '2025-01-31',
      },
    ],
  };
  const months = ['2025-01', '2025-02', '2025-03', '2025-04'];
  const refund = usd('12000.00') - running; // the deferred balance (rule 8)

  function run(basis: 'recognized' | 'billed'): PartnerPeriodResult[] {
    let opening: CommissionBalances = { payableMinor: 0n, heldMinor: 0n };
    return months.map((month) => {
      const result = computePartnerPeriod({
        partnerId: 'P-6',
        tier: 'Registered',
        period: month,
        plan: plan(basis),
        functionalCurrency: 'USD',
        source: { kind: 'run', id: `commission:${month}` },
        opening,
        deals: [
          dealPeriodInputFor({
            partnerId: 'P-6',
            period: month,
            basisKind: basis,
            contractId: 'W6',
            dealType: 'sourced',
            product: null,
            attributionVersion: 1,
            shares: [
              {
                partnerId: 'P-6',
                weight: { num: 1n, den: 1n },
                firstTouchAt: '2024-12-01T00:00:00Z',
              },
            ],
            facts,
          }),
        ],
        clawbacks:
          basis === 'billed' && month === '2025-04'
            ? [
                {
                  contractId: 'W6',
                  creditId: 'W6-refund-1',
                  basisMinor: -refund,
                  reversesLineId: accrualLineId('P-6', 'W6', '2025-01'),
                  ratePercent: '10',
                  dealType: 'sourced',
                  product: null,
                  attributionVersion: 1,
                  date: '2025-04-01',
                },
              ]
            : [],
      });
      opening = result.closing;
      return result;
    });
  }

  it('recognized basis: monthly lines 101.92, 92.05, 101.92 and no clawback', () => {
    expect(refund).toBe(usd('9041.10'));
    const results = run('recognized');
    expect(results.map((r) => r.totals.earnedMinor)).toEqual([
      usd('101.92'),
      usd('92.05'),
      usd('101.92'),
      0n,
    ]);
    expect(results.map((r) => r.totals.clawedBackMinor)).toEqual([0n, 0n, 0n, 0n]);
    expect(results[3]?.closing.payableMinor).toBe(0n);
    expect(results.reduce((s, r) => s + r.totals.paidMinor, 0n)).toBe(usd('295.89'));
  });

  it('billed basis: 1,200.00 earned at invoice, 904.11 clawed back on the next statement', () => {
    const results = run('billed');
    expect(results.map((r) => r.totals.earnedMinor)).toEqual([usd('1200.00'), 0n, 0n, 0n]);
    expect(results.map((r) => r.totals.clawedBackMinor)).toEqual([0n, 0n, 0n, usd('904.11')]);
    // Paid in January; the clawback leaves a negative balance carried forward, not billed.
    expect(results[0]?.payout?.amountMinor).toBe(usd('1200.00'));
    expect(results[3]?.payout).toBeNull();
    expect(results[3]?.closing).toEqual({ payableMinor: -usd('904.11'), heldMinor: 0n });
    const net = results.reduce((s, r) => s + r.totals.earnedMinor - r.totals.clawedBackMinor, 0n);
    expect(net).toBe(usd('295.89'));
  });
});

describe('plans: lookup, rates and validation', () => {
  it('finds the version in effect on a date, the latest effective first', () => {
    const v4 = parseCommissionPlan({ ...WE8_PLAN_INPUT, version: 4, effectiveFrom: '2025-10-01' });
    const other = parseCommissionPlan({
      ...WE8_PLAN_INPUT,
      planId: 'other',
      effectiveFrom: '2024-01-01',
    });
    const plans = [v4, WE8_PLAN, other];
    expect(planVersionOn(plans, 'partner-gold', '2025-09-30')?.version).toBe(3);
    expect(planVersionOn(plans, 'partner-gold', '2025-10-01')?.version).toBe(4);
    expect(planVersionOn(plans, 'partner-gold', '2024-12-31')).toBeNull();
    expect(planVersionOn(plans, 'missing', '2025-10-01')).toBeNull();
  });

  it('prefers a product row, defaults resale to 0 % (contra-revenue) and refuses a missing rate', () => {
    const plan = parseCommissionPlan({
      ...WE8_PLAN_INPUT,
      rateTable: [
        { tier: 'Gold', dealType: 'sourced', ratePercent: '10' },
        { tier: 'Gold', dealType: 'sourced', product: 'analytics', rateBps: 1250 },
        { tier: 'Silver', dealType: 'resale', ratePercent: '1.5' },
      ],
    });
    const key = { tier: 'Gold', dealType: 'sourced' as const };
    expect(rateFor(plan, { ...key, product: 'analytics' })).toMatchObject({
      ratePercent: '12.5',
      rowIndex: 1,
      expenseAccount: '6100',
    });
    expect(rateFor(plan, { ...key, product: 'other' })).toMatchObject({
      ratePercent: '10',
      rowIndex: 0,
    });
    expect(rateFor(plan, { tier: 'Gold', dealType: 'resale', product: null })).toEqual({
      rate: { num: 0n, den: 1n },
      ratePercent: '0',
      rowIndex: null,
      expenseAccount: '4900',
    });
    expect(rateFor(plan, { tier: 'Silver', dealType: 'resale', product: null })).toMatchObject({
      ratePercent: '1.5',
      expenseAccount: '4900',
    });
    expect(() => rateFor(plan, { tier: 'Gold', dealType: 'influenced', product: null })).toThrow(
      InvalidInputError,
    );
  });

  it('lists every plan problem at once, each on its field', () => {
    const problems = commissionPlanInputProblems({
      ...WE8_PLAN_INPUT,
      rateTable: [
        { tier: 'Gold', dealType: 'sourced', ratePercent: '98' },
        { tier: 'Gold', dealType: 'sourced', ratePercent: '10' },
        { tier: 'Gold', dealType: 'influenced', ratePercent: '120' },
        { tier: 'Gold', dealType: 'resale' },
        { tier: 'Silver', dealType: 'sourced', ratePercent: '5', rateBps: 500 },
      ],
      accelerator: {
        mode: 'graduated',
        bands: [
          { fromMinor: '100', toMinor: '200', upliftPercent: '0' },
          { fromMinor: '300', upliftPercent: '4' },
          { fromMinor: '300', toMinor: '300', upliftPercent: '101' },
        ],
      },
      payoutTerm: 'NET-400',
    });
    expect(problems.map((p) => `${p.path}:${p.code}`)).toEqual([
      'rateTable.1:duplicate_rate_row',
      'rateTable.2.ratePercent:rate_out_of_range',
      'rateTable.3:rate_missing',
      'rateTable.4:rate_ambiguous',
      'accelerator.bands.0.fromMinor:bands_not_from_zero',
      'accelerator.bands.1.fromMinor:bands_not_contiguous',
      'accelerator.bands.1.toMinor:open_band_not_last',
      'accelerator.bands.2.toMinor:bands_not_ascending',
      'accelerator.bands.2.upliftPercent:uplift_out_of_range',
      'accelerator.bands:rate_out_of_range',
      'payoutTerm:payout_term_too_long',
    ]);
    expect(() => parseCommissionPlan({ ...WE8_PLAN_INPUT, payoutTerm: 'NET-400' })).toThrow(
      InvalidInputError,
    );
    expect(
      commissionPlanInputProblems({ ...WE8_PLAN_INPUT, currency: 'usd', rateTable: [] }).map(
        (p) => p.path,
      ),
    ).toEqual(['currency', 'rateTable']);
    expect(commissionPlanInputProblems(WE8_PLAN_INPUT)).toEqual([]);
  });

  it('splits a month-end cumulative basis among partners (rule 10)', () => {
    const shares = [
      { partnerId: 'A', weight: { num: 2n, den: 3n }, firstTouchAt: '2025-01-02T00:00:00Z' },
      { partnerId: 'B', weight: { num: 1n, den: 3n }, firstTouchAt: '2025-01-01T00:00:00Z' },
    ];
    const rows = partnerMonthlyBasis(
      [
        { period: '2025-07', cumulativeMinor: 100n },
        { period: '2025-08', cumulativeMinor: 200n },
      ],
      shares,
    );
    // 100 → 66.67/33.33 → A 67, B 33; 200 → 133.33/66.67 → A 133, B 67.
    expect(rows.map((r) => [r.partnerId, r.period, r.basisMinor, r.cumulativeMinor])).toEqual([
      ['A', '2025-07', 67n, 67n],
      ['A', '2025-08', 66n, 133n],
      ['B', '2025-07', 33n, 33n],
      ['B', '2025-08', 34n, 67n],
    ]);
    expect(() =>
      partnerMonthlyBasis([{ period: '2025-07', cumulativeMinor: 1n }], shares.slice(0, 1)),
    ).toThrow(InvalidInputError);
  });
});
