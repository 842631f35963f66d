// Proves the marketplace fee table (finance.md §1, rule 17): every documented rate, TCV band and effective-date boundary, the acceptance-date vs GCP term-start key, most-specific-rule wins, and half-up rounding for AWS replicas.
import { describe, expect, it } from 'vitest';
import { parseDecimal, type Rational } from '../../../../lib/domain/money';
import {
  DEFAULT_FEE_TABLE,
  type FeeKey,
  type FeeRule,
  FeeRuleMissingError,
  type FeeTable,
  FeeTableSchema,
  feeRateFor,
} from '../../../../lib/domain/revenue/fee-table';
import { DEFAULT_REVENUE_POLICIES } from '../../../../lib/domain/revenue/policies';
import {
  feeOn,
  feeRateOf,
  MissingFxRateError,
  type PostingContext,
} from '../../../../lib/domain/revenue/postings';
import type { RevenueContract } from '../../../../lib/domain/revenue/revenue-contract';

/** $1,000,000.00 in cents. */
const M = 100_000_000n;

function key(overrides: Partial<FeeKey> = {}): FeeKey {
  return {
    marketplace: 'aws',
    offerType: 'private',
    productKind: 'saas',
    tcvUsdMinor: 36_000_000n,
    renewal: false,
    channel: false,
    effectiveOn: '2025-01-01',
    ...overrides,
  };
}

function rateOf(overrides: Partial<FeeKey>): { ruleId: string; rate: string } {
  const fee = feeRateFor(DEFAULT_FEE_TABLE, key(overrides));
  // The exact rational matches the decimal text, so nothing went through a float.
  expect(fee.rate).toEqual(parseDecimal(fee.rateText));
  expect(fee.tableVersion).toBe(DEFAULT_FEE_TABLE.version);
  return { ruleId: fee.ruleId, rate: fee.rateText };
}

function missing(overrides: Partial<FeeKey>): void {
  expect(() => feeRateFor(DEFAULT_FEE_TABLE, key(overrides))).toThrow(FeeRuleMissingError);
  try {
    feeRateFor(DEFAULT_FEE_TABLE, key(overrides));
  } catch (error) {
    expect((error as FeeRuleMissingError).code).toBe('fee_rule_missing');
  }
}

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
    priceMinor: 10_000_000n,
    tcvMinor: 10_000_000n,
    buyerPriceMinor: null,
    installments: [{ date: '2025-01-01', amountMinor: 10_000_000n }],
    usagePrices: [],
    ...overrides,
  };
}

function ctx(
  overrides: Partial<RevenueContract> = {},
  rates: Record<string, string> = {},
  policies = DEFAULT_REVENUE_POLICIES,
): PostingContext {
  return {
    contract: contract(overrides),
    policies,
    feeTable: DEFAULT_FEE_TABLE,
    functionalCurrency: 'USD',
    rate: (_date, from, to): Rational | null => {
      if (from === to) return { num: 1n, den: 1n };
      const text = rates[`${from}/${to}`];
      return text === undefined ? null : parseDecimal(text);
    },
  };
}

describe('default fee table', () => {
  it('is a valid FeeTable (it survives its wire form) with unique rule ids', () => {
    const wire = FeeTableSchema.encode(DEFAULT_FEE_TABLE);
    expect(FeeTableSchema.parse(JSON.parse(JSON.stringify(wire)))).toEqual(DEFAULT_FEE_TABLE);
    const ids = DEFAULT_FEE_TABLE.rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('AWS (effective 2024-01-05, keyed on acceptance)', () => {
  it('public offers: SaaS 3 %, server 20 %, data 3 %', () => {
    expect(rateOf({ offerType: 'public' }).rate).toBe('0.03');
    expect(rateOf({ offerType: 'public', productKind: 'server' }).rate).toBe('0.20');
    expect(rateOf({ offerType: 'public', productKind: 'data' }).rate).toBe('0.03');
    // A large public SaaS TCV does not enter the private bands.
    expect(rateOf({ offerType: 'public', tcvUsdMinor: 20n * M }).rate).toBe('0.03');
  });

  it('private tiers: 3 % below $1M, 2 % in [$1M, $10M), 1.5 % from $10M', () => {
    expect(rateOf({ tcvUsdMinor: 0n })).toEqual({
      ruleId: 'aws-private-direct-lt1m',
      rate: '0.03',
    });
    expect(rateOf({ tcvUsdMinor: M - 1n }).rate).toBe('0.03');
    expect(rateOf({ tcvUsdMinor: M })).toEqual({
      ruleId: 'aws-private-direct-1m-10m',
      rate: '0.02',
    });
    expect(rateOf({ tcvUsdMinor: 10n * M - 1n }).rate).toBe('0.02');
    expect(rateOf({ tcvUsdMinor: 10n * M })).toEqual({
      ruleId: 'aws-private-direct-ge10m',
      rate: '0.015',
    });
    expect(rateOf({ tcvUsdMinor: 500n * M }).rate).toBe('0.015');
  });

  it('renewals pay 1.5 % whatever the TCV', () => {
    for (const tcvUsdMinor of [1n, M - 1n, M, 10n * M, 50n * M]) {
      expect(rateOf({ renewal: true, tcvUsdMinor })).toEqual({
        ruleId: 'aws-private-direct-renewal',
        rate: '0.015',
      });
    }
  });

  it('CPPO adds half a percentage point to every private tier and to renewals', () => {
    expect(rateOf({ channel: true, tcvUsdMinor: M - 1n })).toEqual({
      ruleId: 'aws-private-cppo-lt1m',
      rate: '0.035',
    });
    expect(rateOf({ channel: true, tcvUsdMinor: M }).rate).toBe('0.025');
    expect(rateOf({ channel: true, tcvUsdMinor: 10n * M }).rate).toBe('0.020');
    expect(rateOf({ channel: true, renewal: true })).toEqual({
      ruleId: 'aws-private-cppo-renewal',
      rate: '0.020',
    });
    expect(parseDecimal(rateOf({ channel: true, tcvUsdMinor: 10n * M }).rate)).toEqual(
      parseDecimal('0.02'),
    );
  });

  it('has no rule before 2024-01-05 and applies from that day on', () => {
    missing({ effectiveOn: '2024-01-04' });
    missing({ effectiveOn: '2023-06-30', offerType: 'public' });
    expect(rateOf({ effectiveOn: '2024-01-05' }).rate).toBe('0.03');
    expect(rateOf({ effectiveOn: '2024-01-05', offerType: 'public' }).rate).toBe('0.03');
  });

  it('is keyed on the acceptance date, not the term start', () => {
    const accepted = (acceptedOn: string, start: string) =>
      ctx({ acceptedOn, term: { start, end: '2025-01-01' } });
    expect(() => feeRateOf(accepted('2024-01-04', '2024-02-01'))).toThrow(FeeRuleMissingError);
    expect(feeRateOf(accepted('2024-01-05', '2023-12-01')).ruleId).toBe('aws-private-direct-lt1m');
  });
});

describe('Azure', () => {
  it('keeps the standard 3 % store service fee on every transactable offer', () => {
    for (const overrides of [
      { offerType: 'public' as const },
      { offerType: 'private' as const, tcvUsdMinor: 50n * M },
      { renewal: true },
      { channel: true },
      { productKind: 'server' as const },
    ]) {
      expect(rateOf({ marketplace: 'azure', ...overrides })).toEqual({
        ruleId: 'azure-standard',
        rate: '0.03',
      });
    }
    missing({ marketplace: 'azure', effectiveOn: '2021-06-30' });
  });
});

describe('Google Cloud (keyed on term start)', () => {
  const gcp = (overrides: Partial<FeeKey>) =>
    rateOf({ marketplace: 'gcp', effectiveOn: '2025-06-01', ...overrides });

  it('is a flat 3 % before 2025-04-21, whatever the band, renewal or channel', () => {
    for (const overrides of [
      { tcvUsdMinor: 0n },
      { tcvUsdMinor: 5n * M },
      { tcvUsdMinor: 20n * M },
      { renewal: true },
      { channel: true },
      { offerType: 'public' as const },
    ]) {
      expect(gcp({ effectiveOn: '2025-04-20', ...overrides })).toEqual({
        ruleId: 'gcp-flat-before-schedule',
        rate: '0.03',
      });
    }
  });

  it('follows the Vendor Net Revenue Schedule from 2025-04-21', () => {
    expect(gcp({ effectiveOn: '2025-04-21', offerType: 'public' })).toEqual({
      ruleId: 'gcp-public',
      rate: '0.03',
    });
    expect(gcp({ tcvUsdMinor: M - 1n })).toEqual({ ruleId: 'gcp-private-lt1m', rate: '0.03' });
    expect(gcp({ tcvUsdMinor: M })).toEqual({ ruleId: 'gcp-private-1m-10m', rate: '0.02' });
    // Google's own scenario: $1.0M + $1.5M + $1.75M installments, TCV $4.25M → 98 % kept.
    expect(gcp({ tcvUsdMinor: (425n * M) / 100n }).rate).toBe('0.02');
    expect(gcp({ tcvUsdMinor: 10n * M })).toEqual({ ruleId: 'gcp-private-ge10m', rate: '0.015' });
    expect(gcp({ renewal: true })).toEqual({ ruleId: 'gcp-renewal', rate: '0.015' });
    expect(gcp({ renewal: true, offerType: 'public' }).rate).toBe('0.015');
    expect(gcp({ channel: true })).toEqual({ ruleId: 'gcp-channel', rate: '0.015' });
  });

  it('takes the term start, not the acceptance date, as the effective date', () => {
    const twoMillion = { marketplace: 'gcp' as const, priceMinor: 2n * M, tcvMinor: 2n * M };
    // Accepted before the schedule, term starts after: the schedule's 2 % band applies.
    const after = ctx({
      ...twoMillion,
      acceptedOn: '2025-04-01',
      term: { start: '2025-05-01', end: '2026-05-01' },
    });
    expect(feeRateOf(after)).toMatchObject({ ruleId: 'gcp-private-1m-10m', rateText: '0.02' });
    // Accepted after, but the term began before 2025-04-21: the old flat 3 %.
    const before = ctx({
      ...twoMillion,
      acceptedOn: '2025-05-01',
      term: { start: '2025-04-20', end: '2026-04-20' },
    });
    expect(feeRateOf(before)).toMatchObject({
      ruleId: 'gcp-flat-before-schedule',
      rateText: '0.03',
    });
  });
});

describe('rule selection', () => {
  const general: FeeRule = {
    id: 'z-general',
    marketplace: 'aws',
    offerType: null,
    productKind: null,
    tcvMinMinor: 0n,
    tcvMaxMinor: null,
    renewal: null,
    channel: null,
    effectiveFrom: '2020-01-01',
    effectiveTo: null,
    rate: '0.05',
    rounding: 'half-even',
    source: 'test',
  };

  it('prefers the most specific matching rule, whatever the order of the table', () => {
    const narrow: FeeRule = { ...general, id: 'a-narrow', offerType: 'private', rate: '0.01' };
    const narrower: FeeRule = {
      ...general,
      id: 'y-narrower',
      offerType: 'private',
      channel: true,
      rate: '0.007',
    };
    for (const rules of [
      [general, narrow, narrower],
      [narrower, narrow, general],
      [narrow, general, narrower],
    ]) {
      const table: FeeTable = { version: 't1', rules };
      expect(feeRateFor(table, key({ channel: true })).ruleId).toBe('y-narrower');
      expect(feeRateFor(table, key({ channel: false })).ruleId).toBe('a-narrow');
      expect(feeRateFor(table, key({ offerType: 'public' })).ruleId).toBe('z-general');
      expect(feeRateFor(table, key()).tableVersion).toBe('t1');
    }
  });

  it('breaks a tie between equally specific rules by rule id', () => {
    const b: FeeRule = { ...general, id: 'b', renewal: false, rate: '0.02' };
    const a: FeeRule = { ...general, id: 'a', channel: false, rate: '0.04' };
    expect(feeRateFor({ version: 't', rules: [b, a] }, key()).ruleId).toBe('a');
    expect(feeRateFor({ version: 't', rules: [a, b] }, key()).ruleId).toBe('a');
  });

  it('lets a deployment add a narrower, dated rule next to the general ones', () => {
    const promo: FeeRule = {
      ...general,
      id: 'aws-promo-2026',
      offerType: 'private',
      productKind: 'saas',
      tcvMaxMinor: M,
      effectiveFrom: '2026-01-01',
      effectiveTo: '2026-07-01',
      rate: '0.025',
      rounding: 'half-up',
    };
    const table: FeeTable = { version: 'c', rules: [general, promo] };
    expect(feeRateFor(table, key({ effectiveOn: '2025-12-31' })).ruleId).toBe('z-general');
    expect(feeRateFor(table, key({ effectiveOn: '2026-01-01' }))).toMatchObject({
      ruleId: 'aws-promo-2026',
      rateText: '0.025',
      rounding: 'half-up',
    });
    // effectiveTo is exclusive, and the band's max is exclusive.
    expect(feeRateFor(table, key({ effectiveOn: '2026-07-01' })).ruleId).toBe('z-general');
    expect(feeRateFor(table, key({ effectiveOn: '2026-03-01', tcvUsdMinor: M })).ruleId).toBe(
      'z-general',
    );
  });
});

describe('feeOn: rounding as the marketplace does', () => {
  it('rounds AWS fees half-up and Azure/GCP fees half-even', () => {
    // 1.50 USD × 3 % = 4.5 cents.
    expect(feeOn(ctx({ marketplace: 'aws' }), 150n)).toBe(5n);
    expect(feeOn(ctx({ marketplace: 'azure' }), 150n)).toBe(4n);
    expect(feeOn(ctx({ marketplace: 'gcp', acceptedOn: '2025-01-01' }), 150n)).toBe(4n);
    // 2.50 × 3 % = 7.5 cents: half-even goes up to 8 here, like half-up.
    expect(feeOn(ctx({ marketplace: 'aws' }), 250n)).toBe(8n);
    expect(feeOn(ctx({ marketplace: 'azure' }), 250n)).toBe(8n);
    // CPPO 3.5 % of 1.00 = 3.5 cents.
    const cppo = ctx({ channel: true, buyerPriceMinor: null });
    expect(feeOn(cppo, 100n)).toBe(4n);
    // WE-5: 123,456.70 × 3 % = 3,703.701 → 3,703.70 either way.
    expect(feeOn(ctx({ offerType: 'public' }), 12_345_670n)).toBe(370_370n);
    expect(feeOn(ctx({ marketplace: 'azure' }), 12_345_670n)).toBe(370_370n);
  });

  it('takes the CPPO fee on the wholesale amount by default and on the buyer price when asked', () => {
    const reseller = {
      channel: true,
      priceMinor: 9_000_000n,
      tcvMinor: 10_000_000n,
      buyerPriceMinor: 10_000_000n,
    };
    expect(feeOn(ctx(reseller), 9_000_000n)).toBe(315_000n);
    const buyer = ctx(reseller, {}, { ...DEFAULT_REVENUE_POLICIES, cppoFeeBase: 'buyer' });
    expect(feeOn(buyer, 9_000_000n)).toBe(350_000n);
    // A share of the wholesale price pays on the same share of the buyer price: 4,500 → 175.00.
    expect(feeOn(buyer, 450_000n)).toBe(17_500n);
    // The buyer base only applies to channel offers.
    const direct = ctx({}, {}, { ...DEFAULT_REVENUE_POLICIES, cppoFeeBase: 'buyer' });
    expect(feeOn(direct, 9_000_000n)).toBe(270_000n);
  });
});

describe('TCV band of a non-USD contract', () => {
  it('converts the TCV to USD at the rate on the effective date', () => {
    // €960,000.00 at 1.05 = $1,008,000.00: the 2 % band; at 1.04 = $998,400.00: the 3 % band.
    const eur = { currency: 'EUR', priceMinor: 96_000_000n, tcvMinor: 96_000_000n };
    expect(feeRateOf(ctx(eur, { 'EUR/USD': '1.05' })).ruleId).toBe('aws-private-direct-1m-10m');
    expect(feeRateOf(ctx(eur, { 'EUR/USD': '1.04' })).ruleId).toBe('aws-private-direct-lt1m');
  });

  it('refuses to guess a band without a rate', () => {
    expect(() => feeRateOf(ctx({ currency: 'EUR' }))).toThrow(MissingFxRateError);
  });
});
