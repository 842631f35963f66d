// Proves the posting rules (finance.md rules 1–5, §2.3, §4.3): billing clears unbilled first, recognition releases deferred first, fee capitalization and amortization, net presentation, 1240 classification, FX entries balanced in both currencies, posting periods and deterministic ids.
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  type AccountCode,
  type JournalEntry,
  type JournalLeg,
  journalEntryProblems,
} from '../../../../lib/domain/ledger';
import { parseDecimal, type Rational } from '../../../../lib/domain/money';
import {
  balanceOf,
  bookFromEntries,
  emptyBook,
  functionalBalanceOf,
  positionOf,
} from '../../../../lib/domain/revenue/book';
import { DEFAULT_FEE_TABLE } from '../../../../lib/domain/revenue/fee-table';
import {
  DEFAULT_REVENUE_POLICIES,
  type RevenuePolicies,
  RevenuePoliciesSchema,
} from '../../../../lib/domain/revenue/policies';
import {
  disbursementPosting,
  installmentPostings,
  MissingFxRateError,
  type PostingContext,
  receivableAccount,
  recognitionPosting,
  remeasurementPosting,
  usageAccrualPosting,
  usageAmount,
  usageInvoiceDate,
  usageInvoicePosting,
} from '../../../../lib/domain/revenue/postings';
import {
  type PreviewResult,
  previewScenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';
import type { RevenueContract } from '../../../../lib/domain/revenue/revenue-contract';
import { buildSchedule } from '../../../../lib/domain/revenue/schedule';
import { referenceRound } from '../../helpers/reference-rounding';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function contract(overrides: Partial<RevenueContract> = {}): RevenueContract {
  return {
    contractId: 'C-1',
    marketplace: 'aws',
    offerType: 'private',
    productKind: 'saas',
    renewal: false,
    channel: false,
    currency: 'USD',
    acceptedOn: '2025-01-01',
    term: { start: '2025-01-01', end: '2026-01-01' },
    trialEnd: null,
    priceMinor: 12_000_000n,
    tcvMinor: 12_000_000n,
    buyerPriceMinor: null,
    installments: [{ date: '2025-01-01', amountMinor: 12_000_000n }],
    usagePrices: [],
    ...overrides,
  };
}

function ctx(
  overrides: Partial<RevenueContract> = {},
  policies: Partial<RevenuePolicies> = {},
  extra: Partial<PostingContext> = {},
): PostingContext {
  return {
    contract: contract(overrides),
    policies: { ...DEFAULT_REVENUE_POLICIES, ...policies },
    feeTable: DEFAULT_FEE_TABLE,
    functionalCurrency: 'USD',
    rate: (_date, from, to): Rational | null =>
      from === to
        ? { num: 1n, den: 1n }
        : from === 'EUR' && to === 'USD'
          ? parseDecimal('1.04')
          : null,
    ...extra,
  };
}

/** A leg as [account, debit, credit] in transaction minor units. */
type Leg = [AccountCode, bigint, bigint];
const legs = (entry: JournalEntry | null | undefined): Leg[] =>
  (entry?.legs ?? []).map((l: JournalLeg) => [l.account, l.debitMinor, l.creditMinor]);

/** A leg as [account, currency, debit, credit, functional debit, functional credit]. */
const functionalLegs = (entry: JournalEntry | null | undefined) =>
  (entry?.legs ?? []).map((l) => [
    l.account,
    l.currency,
    l.debitMinor,
    l.creditMinor,
    l.functionalDebitMinor,
    l.functionalCreditMinor,
  ]);
const touchesAccount = (entry: JournalEntry | null | undefined, account: AccountCode) =>
  (entry?.legs ?? []).some((l) => l.account === account);

/** A hand-made balanced entry for the contract, to seed a book. */
function seed(id: string, date: string, spec: Leg[], contractId = 'C-1'): JournalEntry {
  return {
    schemaVersion: 1,
    entryId: id,
    date,
    postingPeriod: date.slice(0, 7),
    functionalCurrency: 'USD',
    description: 'seed',
    source: { kind: 'manual', id },
    rule: 'seed',
    ruleVersion: 1,
    reversalOf: null,
    legs: spec.map(([account, debit, credit]) => ({
      account,
      currency: 'USD',
      debitMinor: debit,
      creditMinor: credit,
      functionalDebitMinor: debit,
      functionalCreditMinor: credit,
      contractId,
      partnerId: null,
    })),
  };
}

/** WE-1's inputs (3 years, $360,000.00), with overrides: the base of every scenario here. */
function scenario(
  installments: [string, string][],
  options: {
    policies?: Record<string, string>;
    currency?: string;
    fxRates?: ScenarioInput['fxRates'];
    asOf?: string;
    term?: { start: string; end: string };
    totalMinor?: string;
  } = {},
): PreviewResult {
  const input = {
    asOf: options.asOf ?? '2028-01-31',
    functionalCurrency: 'USD',
    policies: options.policies ?? {},
    fxRates: options.fxRates ?? [],
    events: [
      {
        type: 'ContractCreated',
        contractId: 'A-1',
        marketplace: 'aws',
        offerType: 'private',
        effectiveAt: '2025-01-01',
        currency: options.currency ?? 'USD',
        term: options.term ?? { start: '2025-01-01', end: '2028-01-01' },
        totalMinor: options.totalMinor ?? '36000000',
        installments: installments.map(([date, amountMinor]) => ({ date, amountMinor })),
      },
    ],
  };
  return previewScenario(ScenarioSchema.parse(input));
}

const byRule = (result: PreviewResult, rule: string) =>
  result.entries.filter((e) => e.rule === rule);
const on = (result: PreviewResult, rule: string, date: string) =>
  result.entries.find((e) => e.rule === rule && e.date === date);
const touches = (result: PreviewResult, account: AccountCode) =>
  result.entries.some((e) => e.legs.some((l) => l.account === account));

const BACK_LOADED: [string, string][] = [
  ['2025-01-01', '6000000'],
  ['2026-01-01', '12000000'],
  ['2027-01-01', '18000000'],
];

// ---------------------------------------------------------------------------------------------
// Billing vs recognition (§2.3)
// ---------------------------------------------------------------------------------------------

describe('an invoice clears the unbilled position before it builds deferred revenue', () => {
  const recognizedAhead = bookFromEntries('C-1', [
    seed('s1', '2025-01-31', [
      ['1230', 50_000n, 0n],
      ['4000', 0n, 50_000n],
    ]),
  ]);

  it('credits 1230 only when the invoice does not exceed the unbilled amount', () => {
    const c = ctx({ installments: [{ date: '2025-02-01', amountMinor: 30_000n }] });
    const [invoice, fee] = installmentPostings(c, recognizedAhead, 0);
    expect(legs(invoice)).toEqual([
      ['1210', 30_000n, 0n],
      ['1230', 0n, 30_000n],
    ]);
    expect(legs(fee)).toEqual([
      ['5100', 900n, 0n],
      ['1210', 0n, 900n],
    ]);
  });

  it('splits an invoice larger than the unbilled amount between 1230 and 2400', () => {
    const c = ctx({ installments: [{ date: '2025-02-01', amountMinor: 80_000n }] });
    const [invoice] = installmentPostings(c, recognizedAhead, 0);
    expect(legs(invoice)).toEqual([
      ['1210', 80_000n, 0n],
      ['1230', 0n, 50_000n],
      ['2400', 0n, 30_000n],
    ]);
    const after = bookFromEntries('C-1', [
      seed('s1', '2025-01-31', [
        ['1230', 50_000n, 0n],
        ['4000', 0n, 50_000n],
      ]),
      ...(invoice ? [invoice] : []),
    ]);
    expect(positionOf(after)).toMatchObject({
      billedMinor: 80_000n,
      recognizedMinor: 50_000n,
      deferredMinor: 30_000n,
      unbilledMinor: 0n,
    });
  });

  it('credits 2400 only when nothing is unbilled', () => {
    const [invoice] = installmentPostings(ctx(), emptyBook('C-1'), 0);
    expect(legs(invoice)).toEqual([
      ['1210', 12_000_000n, 0n],
      ['2400', 0n, 12_000_000n],
    ]);
  });

  it('recognition releases deferred revenue first and books the rest to 1230', () => {
    const billedAhead = bookFromEntries('C-1', [
      seed('s1', '2025-01-01', [
        ['1210', 300n, 0n],
        ['2400', 0n, 300n],
      ]),
    ]);
    const schedule = buildSchedule({
      contractId: 'C-1',
      version: 1,
      currency: 'USD',
      totalMinor: 3_100n,
      service: { start: '2025-01-01', end: '2025-02-01' },
    });
    const entry = recognitionPosting(ctx(), billedAhead, schedule, '2025-01');
    expect(entry?.date).toBe('2025-01-31');
    expect(legs(entry)).toEqual([
      ['2400', 300n, 0n],
      ['1230', 2_800n, 0n],
      ['4000', 0n, 3_100n],
    ]);
    // Posting it again (the book now holds it) recognizes nothing more.
    const after = bookFromEntries('C-1', [
      seed('s1', '2025-01-01', [
        ['1210', 300n, 0n],
        ['2400', 0n, 300n],
      ]),
      ...(entry ? [entry] : []),
    ]);
    expect(recognitionPosting(ctx(), after, schedule, '2025-01')).toBeNull();
    expect(recognitionPosting(ctx(), after, schedule, '2025-06')).toBeNull();
  });

  it('WE-3 (back-loaded installments): the position flips to 1230 in July and the next invoice clears it', () => {
    const result = scenario(BACK_LOADED);
    const positions = result.positions['A-1'] ?? [];
    const at = (period: string) => positions.find((p) => p.period === period);
    // 60,000.00 billed − 59,506.85 recognized.
    expect(at('2025-06')).toMatchObject({ deferredMinor: 49_315n, unbilledMinor: 0n });
    // 69,698.63 recognized − 60,000.00 billed.
    expect(at('2025-07')).toMatchObject({ deferredMinor: 0n, unbilledMinor: 969_863n });
    expect(at('2025-12')).toMatchObject({ deferredMinor: 0n, unbilledMinor: 6_000_000n });
    expect(at('2026-01')).toMatchObject({ deferredMinor: 4_980_822n, unbilledMinor: 0n });
    expect(at('2026-07')).toMatchObject({ deferredMinor: 0n, unbilledMinor: 969_863n });
    expect(at('2027-12')).toMatchObject({ deferredMinor: 0n, unbilledMinor: 0n });

    expect(legs(on(result, 'recognition', '2025-06-30'))).toEqual([
      ['2400', 986_301n, 0n],
      ['4000', 0n, 986_301n],
    ]);
    expect(legs(on(result, 'recognition', '2025-07-31'))).toEqual([
      ['2400', 49_315n, 0n],
      ['1230', 969_863n, 0n],
      ['4000', 0n, 1_019_178n],
    ]);
    expect(legs(on(result, 'recognition', '2025-08-31'))).toEqual([
      ['1230', 1_019_178n, 0n],
      ['4000', 0n, 1_019_178n],
    ]);
    expect(legs(on(result, 'invoice', '2026-01-01'))).toEqual([
      ['1210', 12_000_000n, 0n],
      ['1230', 0n, 6_000_000n],
      ['2400', 0n, 6_000_000n],
    ]);
    expect(legs(on(result, 'invoice', '2027-01-01'))).toEqual([
      ['1210', 18_000_000n, 0n],
      ['1230', 0n, 6_000_000n],
      ['2400', 0n, 12_000_000n],
    ]);
    // The fee follows each installment: 3 % of 60,000 / 120,000 / 180,000.
    expect(byRule(result, 'marketplace-fee').map(legs)).toEqual([
      [
        ['5100', 180_000n, 0n],
        ['1210', 0n, 180_000n],
      ],
      [
        ['5100', 360_000n, 0n],
        ['1210', 0n, 360_000n],
      ],
      [
        ['5100', 540_000n, 0n],
        ['1210', 0n, 540_000n],
      ],
    ]);
    // Recognition does not depend on billing: the same 36 lines as WE-1.
    const we1 = scenario([
      ['2025-01-01', '12000000'],
      ['2026-01-01', '12000000'],
      ['2027-01-01', '12000000'],
    ]);
    expect(result.schedules['A-1']).toEqual(we1.schedules['A-1']);
    expect(byRule(result, 'recognition').map((e) => balanceCredit(e, '4000'))).toEqual(
      byRule(we1, 'recognition').map((e) => balanceCredit(e, '4000')),
    );
  });

  it('classifies the asset as a contract asset (1240) when the policy says so', () => {
    const result = scenario(BACK_LOADED, {
      policies: { unbilledClassification: 'contract-asset' },
    });
    expect(touches(result, '1230')).toBe(false);
    expect(legs(on(result, 'recognition', '2025-07-31'))).toEqual([
      ['2400', 49_315n, 0n],
      ['1240', 969_863n, 0n],
      ['4000', 0n, 1_019_178n],
    ]);
    expect(legs(on(result, 'invoice', '2026-01-01'))).toEqual([
      ['1210', 12_000_000n, 0n],
      ['1240', 0n, 6_000_000n],
      ['2400', 0n, 6_000_000n],
    ]);
    const at = (period: string) => result.positions['A-1']?.find((p) => p.period === period);
    expect(at('2025-12')).toMatchObject({ unbilledMinor: 6_000_000n, deferredMinor: 0n });
  });
});

function balanceCredit(entry: JournalEntry, account: AccountCode): bigint {
  return entry.legs
    .filter((l) => l.account === account)
    .reduce((sum, l) => sum + l.creditMinor - l.debitMinor, 0n);
}

// ---------------------------------------------------------------------------------------------
// Fee timing (rule 3)
// ---------------------------------------------------------------------------------------------

describe('marketplace fee timing', () => {
  it('expenses the fee of an invoice covering 12 months, capitalizes one covering more', () => {
    const twelve = ctx({ term: { start: '2025-01-01', end: '2026-01-01' } });
    expect(legs(installmentPostings(twelve, emptyBook('C-1'), 0)[1])).toEqual([
      ['5100', 360_000n, 0n],
      ['1210', 0n, 360_000n],
    ]);
    const oneDayMore = ctx({ term: { start: '2025-01-01', end: '2026-01-02' } });
    const [, fee] = installmentPostings(oneDayMore, emptyBook('C-1'), 0);
    expect(legs(fee)).toEqual([
      ['1400', 360_000n, 0n],
      ['1210', 0n, 360_000n],
    ]);
    expect(fee?.description).toMatch(/capitalized/);
  });

  it('judges each installment by the service it pays for (to the next installment)', () => {
    const c = ctx({
      term: { start: '2025-01-01', end: '2027-01-01' },
      priceMinor: 24_000_000n,
      tcvMinor: 24_000_000n,
      installments: [
        { date: '2025-01-01', amountMinor: 18_000_000n },
        { date: '2026-07-01', amountMinor: 6_000_000n },
      ],
    });
    expect(legs(installmentPostings(c, emptyBook('C-1'), 0)[1])[0]).toEqual(['1400', 540_000n, 0n]);
    expect(legs(installmentPostings(c, emptyBook('C-1'), 1)[1])[0]).toEqual(['5100', 180_000n, 0n]);
  });

  it('capitalizes every fee under amortize_with_revenue', () => {
    const c = ctx({}, { feePolicy: 'amortize_with_revenue' });
    expect(legs(installmentPostings(c, emptyBook('C-1'), 0)[1])[0]).toEqual(['1400', 360_000n, 0n]);
  });

  it('amortizes a capitalized 3-year fee with the revenue, to the cent, and to zero at term end', () => {
    const result = scenario([['2025-01-01', '36000000']]);
    expect(legs(on(result, 'marketplace-fee', '2025-01-01'))).toEqual([
      ['1400', 1_080_000n, 0n],
      ['1210', 0n, 1_080_000n],
    ]);
    const recognitions = byRule(result, 'recognition');
    expect(recognitions).toHaveLength(36);
    let cumulativeRevenue = 0n;
    let previousAmortized = 0n;
    for (const entry of recognitions) {
      cumulativeRevenue += balanceCredit(entry, '4000');
      const target = referenceRound(1_080_000n * cumulativeRevenue, 36_000_000n, 'even');
      const expense = -balanceCredit(entry, '5100');
      expect(expense).toBe(target - previousAmortized);
      expect(balanceCredit(entry, '1400')).toBe(expense);
      previousAmortized = target;
    }
    expect(previousAmortized).toBe(1_080_000n);
    // January: 1,080,000 × 1,019,178 / 36,000,000 = 30,575.34 → 30,575.
    expect(legs(recognitions[0])).toEqual([
      ['2400', 1_019_178n, 0n],
      ['4000', 0n, 1_019_178n],
      ['5100', 30_575n, 0n],
      ['1400', 0n, 30_575n],
    ]);
    const book = bookFromEntries('A-1', result.entries);
    expect(balanceOf(book, '1400')).toBe(0n);
    expect(balanceOf(book, '5100')).toBe(1_080_000n);
    expect(positionOf(book).feesMinor).toBe(1_080_000n);
  });
});

// ---------------------------------------------------------------------------------------------
// Net presentation
// ---------------------------------------------------------------------------------------------

describe('net presentation', () => {
  it('invoices the net amount and never posts a fee expense', () => {
    const c = ctx({}, { presentation: 'net' });
    const entries = installmentPostings(c, emptyBook('C-1'), 0);
    expect(entries).toHaveLength(1);
    expect(legs(entries[0])).toEqual([
      ['1210', 11_640_000n, 0n],
      ['2400', 0n, 11_640_000n],
    ]);
  });

  it('posts no 5100 in a whole contract, per marketplace when configured per marketplace', () => {
    const net = scenario(
      [
        ['2025-01-01', '12000000'],
        ['2026-01-01', '12000000'],
        ['2027-01-01', '12000000'],
      ],
      { policies: { presentation: 'net' } },
    );
    expect(touches(net, '5100')).toBe(false);
    expect(touches(net, '1400')).toBe(false);
    expect(byRule(net, 'marketplace-fee')).toEqual([]);
    expect(byRule(net, 'invoice').map((e) => legs(e)[0])).toEqual([
      ['1210', 11_640_000n, 0n],
      ['1210', 11_640_000n, 0n],
      ['1210', 11_640_000n, 0n],
    ]);
    // The payout does not depend on the presentation.
    expect(net.fees['A-1']).toBe(1_080_000n);
    expect(net.netPayouts['A-1']).toBe(34_920_000n);

    const policies = RevenuePoliciesSchema.parse({ presentation: { azure: 'net' } });
    const awsGross = installmentPostings(ctx({}, policies), emptyBook('C-1'), 0);
    expect(awsGross.map((e) => e.rule)).toEqual(['invoice', 'marketplace-fee']);
    const azureNet = installmentPostings(
      ctx({ marketplace: 'azure' }, policies),
      emptyBook('C-1'),
      0,
    );
    expect(legs(azureNet[0])).toEqual([
      ['1211', 11_640_000n, 0n],
      ['2400', 0n, 11_640_000n],
    ]);
  });

  it('accrues usage net of the fee, without 5100 or 2200', () => {
    const c = ctx(
      {
        offerType: 'public',
        priceMinor: 0n,
        tcvMinor: 0n,
        installments: [],
        usagePrices: [{ dimension: 'api_calls', unitPrice: parseDecimal('0.002') }],
      },
      { presentation: 'net' },
    );
    const accrual = usageAccrualPosting(c, emptyBook('C-1'), '2025-03', [
      { dimension: 'api_calls', quantity: parseDecimal('61728350') },
    ]);
    expect(legs(accrual)).toEqual([
      ['1230', 11_975_300n, 0n],
      ['4100', 0n, 11_975_300n],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Usage (rule 1, §2.4)
// ---------------------------------------------------------------------------------------------

describe('usage postings', () => {
  const usageCtx = ctx({
    offerType: 'public',
    priceMinor: 0n,
    tcvMinor: 0n,
    installments: [],
    usagePrices: [
      { dimension: 'a', unitPrice: parseDecimal('0.005') },
      { dimension: 'b', unitPrice: parseDecimal('0.005') },
    ],
  });

  it('adds quantities of a dimension before rounding once per dimension', () => {
    const half = parseDecimal('1');
    expect(usageAmount(usageCtx, [{ dimension: 'a', quantity: half }])).toBe(0n);
    expect(
      usageAmount(usageCtx, [
        { dimension: 'a', quantity: half },
        { dimension: 'a', quantity: half },
      ]),
    ).toBe(1n);
    expect(
      usageAmount(usageCtx, [
        { dimension: 'a', quantity: parseDecimal('3') },
        { dimension: 'b', quantity: parseDecimal('0.5') },
      ]),
    ).toBe(2n);
    expect(() => usageAmount(usageCtx, [{ dimension: 'zzz', quantity: half }])).toThrow(
      InvalidInputError,
    );
  });

  it('posts only the delta when a month is accrued again, and nothing when unchanged', () => {
    const first = usageAccrualPosting(usageCtx, emptyBook('C-1'), '2025-03', [
      { dimension: 'a', quantity: parseDecimal('200000') },
    ]);
    expect(legs(first)).toEqual([
      ['1230', 100_000n, 0n],
      ['4100', 0n, 100_000n],
      ['5100', 3_000n, 0n],
      ['2200', 0n, 3_000n],
    ]);
    const book = bookFromEntries('C-1', first ? [first] : []);
    expect(book.usage['2025-03']).toEqual({
      accruedMinor: 100_000n,
      feeAccruedMinor: 3_000n,
      invoicedMinor: 0n,
      feeInvoicedMinor: 0n,
    });
    expect(
      usageAccrualPosting(usageCtx, book, '2025-03', [
        { dimension: 'a', quantity: parseDecimal('200000') },
      ]),
    ).toBeNull();
    const late = usageAccrualPosting(usageCtx, book, '2025-03', [
      { dimension: 'a', quantity: parseDecimal('300000') },
    ]);
    expect(legs(late)).toEqual([
      ['1230', 50_000n, 0n],
      ['4100', 0n, 50_000n],
      ['5100', 1_500n, 0n],
      ['2200', 0n, 1_500n],
    ]);
    expect(late?.entryId).not.toBe(first?.entryId);

    // The marketplace invoices the month on day 3 of the next one: reclassify to 1210.
    const accrued = bookFromEntries(
      'C-1',
      [first, late].filter((e) => e !== null),
    );
    expect(usageInvoiceDate(usageCtx.policies, '2025-03')).toBe('2025-04-03');
    expect(usageInvoiceDate({ ...usageCtx.policies, usageInvoiceDay: 2 }, '2025-12')).toBe(
      '2026-01-02',
    );
    expect(usageInvoiceDate({ ...usageCtx.policies, usageInvoiceDay: 28 }, '2025-01')).toBe(
      '2025-02-28',
    );
    const invoice = usageInvoicePosting(usageCtx, accrued, '2025-03');
    expect(invoice?.date).toBe('2025-04-03');
    expect(legs(invoice)).toEqual([
      ['1210', 150_000n, 0n],
      ['1230', 0n, 150_000n],
      ['2200', 4_500n, 0n],
      ['1210', 0n, 4_500n],
    ]);
    const invoiced = bookFromEntries(
      'C-1',
      [first, late, invoice].filter((e) => e !== null),
    );
    expect(usageInvoicePosting(usageCtx, invoiced, '2025-03')).toBeNull();
    expect(usageInvoicePosting(usageCtx, invoiced, '2025-04')).toBeNull();
    expect(balanceOf(invoiced, '1230')).toBe(0n);
    expect(balanceOf(invoiced, '2200')).toBe(0n);
    expect(balanceOf(invoiced, '1210')).toBe(145_500n);
  });
});

// ---------------------------------------------------------------------------------------------
// Receivables, disbursements, posting periods and ids
// ---------------------------------------------------------------------------------------------

describe('receivables and disbursements', () => {
  it('uses each marketplace receivable', () => {
    expect(receivableAccount('aws')).toBe('1210');
    expect(receivableAccount('azure')).toBe('1211');
    expect(receivableAccount('gcp')).toBe('1212');
    const gcp = ctx({ marketplace: 'gcp' });
    expect(legs(installmentPostings(gcp, emptyBook('C-1'), 0)[0])[0]).toEqual([
      '1212',
      12_000_000n,
      0n,
    ]);
  });

  it('moves a same-currency payout from the receivable to cash', () => {
    const entry = disbursementPosting(ctx({ marketplace: 'azure' }), emptyBook('C-1'), {
      disbursementId: 'd-1',
      date: '2025-02-15',
      currency: 'USD',
      amountMinor: 11_640_000n,
    });
    expect(entry?.source).toEqual({ kind: 'event', id: 'd-1' });
    expect(entry?.rule).toBe('disbursement');
    expect(legs(entry)).toEqual([
      ['1000', 11_640_000n, 0n],
      ['1211', 0n, 11_640_000n],
    ]);
    expect(touchesAccount(entry, '1950')).toBe(false);
    expect(journalEntryProblems(entry as JournalEntry)).toEqual([]);
  });

  it('refuses a payout that settles a currency other than the contract’s receivable', () => {
    const mismatch = (input: { currency: string; settlesCurrency?: string }) => {
      try {
        disbursementPosting(ctx(), emptyBook('C-1'), {
          disbursementId: 'd-2',
          date: '2025-02-15',
          amountMinor: 1n,
          ...input,
        });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as InvalidInputError).code;
      }
      return 'no error';
    };
    // A EUR payout of a USD contract (settling EUR by default), or one that says it settles EUR.
    expect(mismatch({ currency: 'EUR' })).toBe('disbursement_currency_mismatch');
    expect(mismatch({ currency: 'USD', settlesCurrency: 'EUR' })).toBe(
      'disbursement_currency_mismatch',
    );
  });

  it('WE-7: settles a EUR receivable with a USD payout through FX clearing (1950), realizing the difference in 7100', () => {
    // EUR→USD: 1.0400 from 2025-01-01, 1.0500 from 2025-01-31, 1.0450 from 2025-02-20.
    const rate = (date: string, from: string, to: string): Rational | null => {
      if (from === to) return { num: 1n, den: 1n };
      if (from !== 'EUR' || to !== 'USD') return null;
      if (date >= '2025-02-20') return parseDecimal('1.0450');
      if (date >= '2025-01-31') return parseDecimal('1.0500');
      return date >= '2025-01-01' ? parseDecimal('1.0400') : null;
    };
    const c = ctx(
      {
        currency: 'EUR',
        priceMinor: 10_000_000n,
        tcvMinor: 10_000_000n,
        installments: [{ date: '2025-01-01', amountMinor: 10_000_000n }],
      },
      {},
      { rate },
    );
    const billed = installmentPostings(c, emptyBook('C-1'), 0);
    let book = bookFromEntries('C-1', billed);
    // Receivable €97,000.00 carried at $100,880.00 (104,000.00 − 3,120.00).
    expect(balanceOf(book, '1210')).toBe(9_700_000n);
    expect(functionalBalanceOf(book, '1210')).toBe(10_088_000n);
    const remeasure = remeasurementPosting(c, book, '2025-01');
    // 97,000.00 × 1.05 = 101,850.00: +970.00 unrealized.
    expect(functionalLegs(remeasure)).toEqual([
      ['1210', 'EUR', 0n, 0n, 97_000n, 0n],
      ['7100', 'EUR', 0n, 0n, 0n, 97_000n],
    ]);
    book = bookFromEntries('C-1', [...billed, remeasure as JournalEntry]);
    const payout = disbursementPosting(c, book, {
      disbursementId: 'wire-2025-02-20',
      date: '2025-02-20',
      currency: 'USD',
      amountMinor: 10_136_500n,
      settlesCurrency: 'EUR',
      settlesMinor: 9_700_000n,
    });
    expect(functionalLegs(payout)).toEqual([
      ['1000', 'USD', 10_136_500n, 0n, 10_136_500n, 0n],
      ['1950', 'USD', 0n, 10_136_500n, 0n, 10_136_500n],
      ['1950', 'EUR', 9_700_000n, 0n, 10_136_500n, 0n],
      ['1210', 'EUR', 0n, 9_700_000n, 0n, 10_185_000n],
      // 101,850.00 carried − 101,365.00 received = 485.00 realized loss.
      ['7100', 'EUR', 0n, 0n, 48_500n, 0n],
    ]);
    expect(journalEntryProblems(payout as JournalEntry)).toEqual([]);
    const settled = bookFromEntries('C-1', [
      ...billed,
      remeasure as JournalEntry,
      payout as JournalEntry,
    ]);
    expect(balanceOf(settled, '1210')).toBe(0n);
    expect(functionalBalanceOf(settled, '1210')).toBe(0n);
    // The clearing account nets to zero in USD.
    expect(functionalBalanceOf(settled, '1950')).toBe(0n);
    expect(functionalBalanceOf(settled, '7100')).toBe(-97_000n + 48_500n);
  });

  it('takes a same-currency payout at spot and the receivable at its carrying amount', () => {
    const rate = (date: string, from: string, to: string): Rational | null =>
      from === to
        ? { num: 1n, den: 1n }
        : from === 'EUR' && to === 'USD'
          ? parseDecimal(date >= '2025-02-01' ? '1.1' : '1.04')
          : null;
    const c = ctx({ currency: 'EUR' }, {}, { rate });
    const book = bookFromEntries('C-1', installmentPostings(c, emptyBook('C-1'), 0));
    // €120,000.00 − €3,600.00 at 1.04 = $121,056.00 carried; half of it is settled.
    expect(functionalBalanceOf(book, '1210')).toBe(12_105_600n);
    const payout = disbursementPosting(c, book, {
      disbursementId: 'd-eur',
      date: '2025-02-10',
      currency: 'EUR',
      amountMinor: 5_820_000n,
    });
    expect(functionalLegs(payout)).toEqual([
      ['1000', 'EUR', 5_820_000n, 0n, 6_402_000n, 0n],
      ['1210', 'EUR', 0n, 5_820_000n, 0n, 6_052_800n],
      ['7100', 'EUR', 0n, 0n, 0n, 349_200n],
    ]);
    expect(journalEntryProblems(payout as JournalEntry)).toEqual([]);
  });
});

describe('posting period (rule 14) and entry ids', () => {
  it('posts an entry dated in a closed period in the first open one, keeping its date', () => {
    const late = ctx({}, {}, { firstOpenPeriod: '2025-03' });
    const [invoice, fee] = installmentPostings(late, emptyBook('C-1'), 0);
    expect(invoice?.date).toBe('2025-01-01');
    expect(invoice?.postingPeriod).toBe('2025-03');
    expect(fee?.postingPeriod).toBe('2025-03');
    const open = ctx({}, {}, { firstOpenPeriod: '2024-11' });
    expect(installmentPostings(open, emptyBook('C-1'), 0)[0]?.postingPeriod).toBe('2025-01');
  });

  it('derives ids from what is posted: same inputs, same id; another contract, rule or version, another id', () => {
    const a = installmentPostings(ctx(), emptyBook('C-1'), 0);
    const again = installmentPostings(ctx(), emptyBook('C-1'), 0);
    expect(again).toEqual(a);
    const other = installmentPostings(ctx({ contractId: 'C-2' }), emptyBook('C-2'), 0);
    const ids = [...a, ...other].map((e) => e.entryId);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^je_[0-9a-f]{32}$/);

    const v = (version: number) =>
      buildSchedule({
        contractId: 'C-1',
        version,
        currency: 'USD',
        totalMinor: 3_100n,
        service: { start: '2025-01-01', end: '2025-02-01' },
      });
    const r1 = recognitionPosting(ctx(), emptyBook('C-1'), v(1), '2025-01');
    const r2 = recognitionPosting(ctx(), emptyBook('C-1'), v(2), '2025-01');
    expect(r1?.entryId).toBeDefined();
    expect(r1?.entryId).not.toBe(r2?.entryId);
  });
});

// ---------------------------------------------------------------------------------------------
// Multi-currency (rule 5)
// ---------------------------------------------------------------------------------------------

describe('a EUR contract with functional currency USD', () => {
  // Two months past the term: month-ends with nothing left to recognize post nothing.
  const EUR_AS_OF = '2028-02-29';
  const fxRates = [
    { date: '2025-01-01', base: 'EUR', quote: 'USD', rate: '1.0400' },
    { date: '2025-01-31', base: 'EUR', quote: 'USD', rate: '1.0500' },
    { date: '2025-07-01', base: 'USD', quote: 'EUR', rate: '0.9' },
    { date: '2026-01-01', base: 'EUR', quote: 'USD', rate: '1.0333' },
  ];

  it('balances every entry in EUR and in USD, and translates invoices at the billing-date rate', () => {
    for (const installments of [
      [
        ['2025-01-01', '12000000'],
        ['2026-01-01', '12000000'],
        ['2027-01-01', '12000000'],
      ] as [string, string][],
      BACK_LOADED,
      [['2025-01-01', '36000000']] as [string, string][],
    ]) {
      const result = scenario(installments, { currency: 'EUR', fxRates, asOf: EUR_AS_OF });
      expect(result.entries.length).toBeGreaterThan(36);
      for (const entry of result.entries) {
        expect(journalEntryProblems(entry)).toEqual([]);
        expect(entry.functionalCurrency).toBe('USD');
        expect(entry.legs.every((l) => l.currency === 'EUR')).toBe(true);
      }
      const invoice = on(result, 'invoice', '2025-01-01');
      const first = BigInt(installments[0]?.[1] ?? '0');
      const usd = referenceRound(first * 104n, 100n, 'even');
      expect(invoice?.legs.map((l) => [l.debitMinor, l.functionalDebitMinor])[0]).toEqual([
        first,
        usd,
      ]);
      const fee = on(result, 'marketplace-fee', '2025-01-01');
      const feeEur = referenceRound(first * 3n, 100n, 'away');
      expect(fee?.legs.map((l) => [l.creditMinor, l.functionalCreditMinor])[1]).toEqual([
        feeEur,
        referenceRound(feeEur * 104n, 100n, 'even'),
      ]);
    }
  });

  it('releases deferred revenue at its historical amount and recognizes ahead of billing at spot (rule 5)', () => {
    const result = scenario(BACK_LOADED, { currency: 'EUR', fxRates, asOf: EUR_AS_OF });
    // 2025-07-31: Dr 2400 493.15 + Dr 1230 9,698.63 / Cr 4000 10,191.78.
    const july = on(result, 'recognition', '2025-07-31');
    expect(legs(july)).toEqual([
      ['2400', 49_315n, 0n],
      ['1230', 969_863n, 0n],
      ['4000', 0n, 1_019_178n],
    ]);
    // The unbilled part at the July rate (1/0.9), the revenue leg the sum of both debits.
    expect(july?.legs[1]?.functionalDebitMinor).toBe(referenceRound(969_863n * 10n, 9n, 'even'));
    expect(july?.legs[2]?.functionalCreditMinor).toBe(
      (july?.legs[0]?.functionalDebitMinor ?? 0n) + (july?.legs[1]?.functionalDebitMinor ?? 0n),
    );
    // The deferred part at its carrying amount (billed on 2025-01-01 at 1.0400), not at spot.
    const error = (july?.legs[0]?.functionalDebitMinor ?? 0n) * 100n - 49_315n * 104n;
    expect(error < 100n && error > -100n).toBe(true);
  });

  it('refuses to post without a rate', () => {
    const eur = ctx(
      { currency: 'EUR' },
      {},
      { rate: (_d, f, t) => (f === t ? { num: 1n, den: 1n } : null) },
    );
    expect(() => installmentPostings(eur, emptyBook('C-1'), 0)).toThrow(MissingFxRateError);
    expect(() =>
      scenario([['2025-01-01', '36000000']], {
        currency: 'EUR',
        fxRates: [{ date: '2025-02-01', base: 'EUR', quote: 'USD', rate: '1.04' }],
      }),
    ).toThrow(MissingFxRateError);
  });
});
