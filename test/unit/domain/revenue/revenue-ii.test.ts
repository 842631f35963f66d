// Proves Revenue II in the deal-desk preview to the cent against figures derived by hand from finance.md (WE-2, WE-3, WE-6, WE-7, rules 5, 8, 11, 12): prospective and catch-up modifications, renewals, cancellations, refunds, FX remeasurement and settlement, the financing flag and the same-day order.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AccountCode,
  type JournalEntry,
  journalEntryProblems,
} from '../../../../lib/domain/ledger';
import {
  balanceOf,
  bookFromEntries,
  functionalBalanceOf,
} from '../../../../lib/domain/revenue/book';
import {
  type PreviewResult,
  previewScenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';
import { referenceRound } from '../../helpers/reference-rounding';

// ---------------------------------------------------------------------------------------------
// Independent helpers: Date.UTC day numbers and bigint rounding only
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const dayOf = (date: string): number => {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1) / DAY_MS;
};
const dateOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (start: string, end: string): bigint => BigInt(dayOf(end) - dayOf(start));
/** The first day of the month after `period` ('YYYY-MM'). */
const monthAfter = (period: string): string => {
  const [y, m] = period.split('-').map(Number);
  return dateOf(Date.UTC(y ?? 0, m ?? 1, 1) / DAY_MS);
};
function monthsFrom(first: string, count: number): string[] {
  const out: string[] = [];
  let period = first;
  for (let i = 0; i < count; i += 1) {
    out.push(period);
    period = monthAfter(period).slice(0, 7);
  }
  return out;
}
const even = (n: bigint, d: bigint) => referenceRound(n, d, 'even');
/** AWS rounds its fee half-up (finance.md §0). */
const awsFee = (amount: bigint, num: bigint, den: bigint) =>
  referenceRound(amount * num, den, 'away');

const SCENARIOS = resolve(import.meta.dirname, '../../../../events/scenarios');
const sample = (name: string) =>
  ScenarioSchema.parse(JSON.parse(readFileSync(resolve(SCENARIOS, `${name}.json`), 'utf8')));

function preview(input: ScenarioInput): PreviewResult {
  return previewScenario(ScenarioSchema.parse(input));
}

type Leg = [AccountCode, bigint, bigint];
const legs = (entry: JournalEntry | undefined): Leg[] =>
  (entry?.legs ?? []).map((l) => [l.account, l.debitMinor, l.creditMinor]);
/** [account, currency, debit, credit, functional debit, functional credit]. */
const fxLegs = (entry: JournalEntry | undefined) =>
  (entry?.legs ?? []).map((l) => [
    l.account,
    l.currency,
    l.debitMinor,
    l.creditMinor,
    l.functionalDebitMinor,
    l.functionalCreditMinor,
  ]);
const entriesOf = (result: PreviewResult, rule: string) =>
  result.entries.filter((e) => e.rule === rule);
const entryOn = (result: PreviewResult, rule: string, date: string) =>
  result.entries.find((e) => e.rule === rule && e.date === date);
const ownEntries = (result: PreviewResult, contractId: string) =>
  result.entries.filter((e) => e.legs[0]?.contractId === contractId);

/** Credit balance of an account within one entry. */
const creditIn = (entry: JournalEntry, account: AccountCode): bigint =>
  entry.legs
    .filter((l) => l.account === account)
    .reduce((sum, l) => sum + l.creditMinor - l.debitMinor, 0n);

/** Revenue (4000) posted by the month-end run, per period. */
function recognizedByPeriod(result: PreviewResult, contractId: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const entry of ownEntries(result, contractId)) {
    if (entry.rule !== 'recognition') continue;
    const period = entry.date.slice(0, 7);
    out.set(period, (out.get(period) ?? 0n) + creditIn(entry, '4000'));
  }
  return out;
}

/** Every entry balances per transaction currency and in the functional currency (own sums). */
function expectBalanced(result: PreviewResult): void {
  for (const entry of result.entries) {
    expect(journalEntryProblems(entry)).toEqual([]);
    const perCurrency = new Map<string, bigint>();
    let functional = 0n;
    for (const leg of entry.legs) {
      perCurrency.set(
        leg.currency,
        (perCurrency.get(leg.currency) ?? 0n) + leg.debitMinor - leg.creditMinor,
      );
      functional += leg.functionalDebitMinor - leg.functionalCreditMinor;
      if (leg.currency === 'USD') {
        expect(leg.functionalDebitMinor).toBe(leg.debitMinor);
        expect(leg.functionalCreditMinor).toBe(leg.creditMinor);
      }
    }
    for (const total of perCurrency.values()) expect(total).toBe(0n);
    expect(functional).toBe(0n);
  }
}

// ---------------------------------------------------------------------------------------------
// The worked examples' inputs (finance.md §9), in minor units
// ---------------------------------------------------------------------------------------------

type EventInput = ScenarioInput['events'][number];
type Of<T extends EventInput['type']> = Extract<EventInput, { type: T }>;

const POLICIES = {
  modification: 'prospective',
  presentation: 'gross',
  feePolicy: 'expense_on_invoice',
  cppoFeeBase: 'wholesale',
} as const;

const WE1_CREATED: Of<'ContractCreated'> = {
  type: 'ContractCreated',
  contractId: 'A-1',
  marketplace: 'aws',
  offerType: 'private',
  renewal: false,
  effectiveAt: '2025-01-01',
  currency: 'USD',
  term: { start: '2025-01-01', end: '2028-01-01' },
  totalMinor: '36000000',
  installments: [
    { date: '2025-01-01', amountMinor: '12000000' },
    { date: '2026-01-01', amountMinor: '12000000' },
    { date: '2027-01-01', amountMinor: '12000000' },
  ],
};

const WE2_AMENDED: Of<'ContractAmended'> = {
  type: 'ContractAmended',
  contractId: 'A-1',
  replacementId: 'A-1r',
  effectiveAt: '2025-07-01',
  tcvMinor: '45000000',
  installments: [
    { date: '2025-07-01', amountMinor: '3000000' },
    { date: '2026-01-01', amountMinor: '15000000' },
    { date: '2027-01-01', amountMinor: '15000000' },
  ],
};

const WE1: ScenarioInput = {
  asOf: '2028-01-01',
  functionalCurrency: 'USD',
  policies: POLICIES,
  fxRates: [],
  events: [WE1_CREATED],
};
const WE2: ScenarioInput = { ...WE1, events: [WE1_CREATED, WE2_AMENDED] };
const WE2_CATCH_UP: ScenarioInput = {
  ...WE2,
  policies: { ...POLICIES, modification: 'cumulative_catch_up' },
};

const WE3: ScenarioInput = {
  ...WE1,
  events: [
    {
      ...WE1_CREATED,
      contractId: 'B-1',
      installments: [
        { date: '2025-01-01', amountMinor: '6000000' },
        { date: '2026-01-01', amountMinor: '12000000' },
        { date: '2027-01-01', amountMinor: '18000000' },
      ],
    },
  ],
};

const WE6_CREATED: Of<'ContractCreated'> = {
  type: 'ContractCreated',
  contractId: 'S-1',
  marketplace: 'aws',
  offerType: 'public',
  renewal: false,
  effectiveAt: '2025-01-01',
  currency: 'USD',
  term: { start: '2025-01-01', end: '2026-01-01' },
  totalMinor: '1200000',
  installments: [{ date: '2025-01-01', amountMinor: '1200000' }],
};
const WE6_CANCELLED: Of<'ContractCancelled'> = {
  type: 'ContractCancelled',
  contractId: 'S-1',
  effectiveAt: '2025-04-01',
};
const refundOf = (amountMinor: bigint, effectiveAt = '2025-04-01'): Of<'RefundIssued'> => ({
  type: 'RefundIssued',
  contractId: 'S-1',
  effectiveAt,
  amountMinor: String(amountMinor),
});
const WE6_AS_OF = '2025-12-31';
const we6 = (...changes: ScenarioInput['events']): ScenarioInput => ({
  asOf: WE6_AS_OF,
  functionalCurrency: 'USD',
  policies: POLICIES,
  fxRates: [],
  events: [WE6_CREATED, ...changes],
});

const WE7: ScenarioInput = {
  asOf: '2025-12-31',
  functionalCurrency: 'USD',
  policies: POLICIES,
  fxRates: [
    { date: '2025-01-01', base: 'EUR', quote: 'USD', rate: '1.0400' },
    { date: '2025-01-31', base: 'EUR', quote: 'USD', rate: '1.0500' },
    { date: '2025-02-20', base: 'EUR', quote: 'USD', rate: '1.0450' },
  ],
  events: [
    {
      type: 'ContractCreated',
      contractId: 'E-1',
      marketplace: 'aws',
      offerType: 'private',
      renewal: false,
      effectiveAt: '2025-01-01',
      currency: 'EUR',
      term: { start: '2025-01-01', end: '2026-01-01' },
      totalMinor: '10000000',
      installments: [{ date: '2025-01-01', amountMinor: '10000000' }],
    },
    {
      type: 'DisbursementReceived',
      contractId: 'E-1',
      effectiveAt: '2025-02-20',
      currency: 'USD',
      amountMinor: '10136500',
      settlesCurrency: 'EUR',
      settlesMinor: '9700000',
    },
  ],
};

/** finance.md WE-1, January–June 2025 (cents): what was recognized before WE-2's change. */
const WE1_FIRST_HALF: [string, bigint][] = [
  ['2025-01', 1_019_178n],
  ['2025-02', 920_548n],
  ['2025-03', 1_019_178n],
  ['2025-04', 986_301n],
  ['2025-05', 1_019_179n],
  ['2025-06', 986_301n],
];

describe('the project’s sample scenarios are the worked examples’ inputs', () => {
  it('we-1, we-2, we-3, we-6 and we-7 parse to the inputs used here', () => {
    expect(sample('we-1')).toEqual(ScenarioSchema.parse(WE1));
    expect(sample('we-2')).toEqual(ScenarioSchema.parse(WE2));
    expect(sample('we-3')).toEqual(ScenarioSchema.parse(WE3));
    expect(sample('we-6')).toEqual(ScenarioSchema.parse(we6(WE6_CANCELLED, refundOf(904_110n))));
    expect(sample('we-7')).toEqual(ScenarioSchema.parse(WE7));
  });
});

// ---------------------------------------------------------------------------------------------
// WE-2: prospective modification (rule 11) and the catch-up alternative
// ---------------------------------------------------------------------------------------------

describe('WE-2: the $360,000.00 contract upgraded on 2025-07-01 (prospective, the default)', () => {
  const result = preview(WE2);
  const we1 = preview(WE1);
  const TERM_DAYS = daysBetween('2025-01-01', '2028-01-01');
  const recognizedAtChange = even(36_000_000n * daysBetween('2025-01-01', '2025-07-01'), TERM_DAYS);
  // Rule 11: (old billed − old recognized) + the replacement's billings.
  const remaining = 12_000_000n - recognizedAtChange + (3_000_000n + 15_000_000n + 15_000_000n);
  const remainingDays = daysBetween('2025-07-01', '2028-01-01');
  /** The new schedule's cumulative amount at the start of `date` (on or after the change). */
  const cumulativeAt = (date: string) =>
    recognizedAtChange + even(remaining * daysBetween('2025-07-01', date), remainingDays);
  const LATER = monthsFrom('2025-07', 30);

  it('spreads the remaining price of 390,493.15 over the 914 remaining days: July is 13,244.30', () => {
    expect(TERM_DAYS).toBe(1_095n);
    expect(recognizedAtChange).toBe(5_950_685n);
    expect(remaining).toBe(39_049_315n);
    expect(remainingDays).toBe(914n);
    const july = cumulativeAt('2025-08-01') - recognizedAtChange;
    expect(july).toBe(1_324_430n);
    expect(legs(entryOn(result, 'recognition', '2025-07-31'))).toEqual([
      ['2400', 1_324_430n, 0n],
      ['4000', 0n, 1_324_430n],
    ]);
    expect(result.schedules['A-1']?.find((l) => l.period === '2025-07')).toEqual({
      period: '2025-07',
      recognizedMinor: 1_324_430n,
      cumulativeMinor: 7_275_115n,
    });
  });

  it('never changes a month recognized before the change: January–June are WE-1’s', () => {
    const posted = recognizedByPeriod(result, 'A-1');
    for (const [period, amount] of WE1_FIRST_HALF) expect(posted.get(period)).toBe(amount);
    // The entries before the change are WE-1’s, ids included.
    const beforeChange = (r: PreviewResult) => r.entries.filter((e) => e.date < '2025-07-01');
    expect(beforeChange(result)).toEqual(beforeChange(we1));
    expect(beforeChange(result)).toHaveLength(8);
    const positions = result.positions['A-1'] ?? [];
    expect(positions.slice(0, 6)).toEqual((we1.positions['A-1'] ?? []).slice(0, 6));
  });

  it('follows the new schedule every month from July 2025 and sums exactly to 450,000.00', () => {
    const posted = recognizedByPeriod(result, 'A-1');
    const schedule = result.schedules['A-1'] ?? [];
    expect(schedule.map((l) => l.period)).toEqual(monthsFrom('2025-01', 36));
    for (const period of LATER) {
      const expected = cumulativeAt(monthAfter(period)) - cumulativeAt(`${period}-01`);
      expect(posted.get(period)).toBe(expected);
      expect(schedule.find((l) => l.period === period)?.recognizedMinor).toBe(expected);
      expect(schedule.find((l) => l.period === period)?.cumulativeMinor).toBe(
        cumulativeAt(monthAfter(period)),
      );
    }
    expect(schedule.at(-1)?.cumulativeMinor).toBe(45_000_000n);
    expect(schedule.reduce((sum, l) => sum + l.recognizedMinor, 0n)).toBe(45_000_000n);
    expect([...posted.values()].reduce((a, b) => a + b, 0n)).toBe(45_000_000n);
    expect(posted.size).toBe(36);
  });

  it('totals 138,118.16 / 155,940.92 / 155,940.92 a year, and these quarters', () => {
    const positions = result.positions['A-1'] ?? [];
    const recognizedAt = (period: string) =>
      positions.find((p) => p.period === period)?.recognizedMinor ?? -1n;
    const between = (from: string | null, to: string) =>
      recognizedAt(to) - (from === null ? 0n : recognizedAt(from));
    // The quarters from the hand model (WE-1 before the change, the new spread after it).
    const modelAt = (date: string) =>
      date <= '2025-07-01'
        ? even(36_000_000n * daysBetween('2025-01-01', date), TERM_DAYS)
        : cumulativeAt(date);
    const quarters: [string | null, string, string, string, bigint][] = [
      [null, '2025-03', '2025-01-01', '2025-04-01', 2_958_904n],
      ['2025-03', '2025-06', '2025-04-01', '2025-07-01', 2_991_781n],
      ['2025-06', '2025-09', '2025-07-01', '2025-10-01', 3_930_566n],
      ['2025-09', '2025-12', '2025-10-01', '2026-01-01', 3_930_565n],
      ['2025-12', '2026-03', '2026-01-01', '2026-04-01', 3_845_119n],
      ['2026-03', '2026-06', '2026-04-01', '2026-07-01', 3_887_842n],
      ['2026-06', '2026-09', '2026-07-01', '2026-10-01', 3_930_566n],
      ['2026-09', '2026-12', '2026-10-01', '2027-01-01', 3_930_565n],
      ['2026-12', '2027-03', '2027-01-01', '2027-04-01', 3_845_119n],
      ['2027-03', '2027-06', '2027-04-01', '2027-07-01', 3_887_842n],
      ['2027-06', '2027-09', '2027-07-01', '2027-10-01', 3_930_565n],
      ['2027-09', '2027-12', '2027-10-01', '2028-01-01', 3_930_566n],
    ];
    for (const [from, to, start, end, amount] of quarters) {
      expect(modelAt(end) - modelAt(start)).toBe(amount);
      expect(between(from, to)).toBe(amount);
    }
    expect(between(null, '2025-12')).toBe(13_811_816n);
    expect(between('2025-12', '2026-12')).toBe(15_594_092n);
    expect(between('2026-12', '2027-12')).toBe(15_594_092n);
  });

  it('rolls deferred revenue forward each year: opening + billed − recognized = closing', () => {
    const positions = result.positions['A-1'] ?? [];
    const at = (period: string) => positions.find((p) => p.period === period);
    const rollForward = (year: number) => {
      const opening = at(`${year - 1}-12`);
      const closing = at(`${year}-12`);
      return {
        opening: opening?.deferredMinor ?? 0n,
        billed: (closing?.billedMinor ?? 0n) - (opening?.billedMinor ?? 0n),
        recognized: (closing?.recognizedMinor ?? 0n) - (opening?.recognizedMinor ?? 0n),
        closing: closing?.deferredMinor,
      };
    };
    expect(rollForward(2025)).toEqual({
      opening: 0n,
      billed: 15_000_000n,
      recognized: 13_811_816n,
      closing: 1_188_184n,
    });
    expect(rollForward(2026)).toEqual({
      opening: 1_188_184n,
      billed: 15_000_000n,
      recognized: 15_594_092n,
      closing: 594_092n,
    });
    expect(rollForward(2027)).toEqual({
      opening: 594_092n,
      billed: 15_000_000n,
      recognized: 15_594_092n,
      closing: 0n,
    });
    for (const year of [2025, 2026, 2027]) {
      const r = rollForward(year);
      expect(r.opening + r.billed - r.recognized).toBe(r.closing);
    }
    // Billed per year is what the invoices say; nothing is ever unbilled (billing runs ahead).
    const invoiced = (year: string) =>
      entriesOf(result, 'invoice')
        .filter((e) => e.date.startsWith(year))
        .reduce((sum, e) => sum + creditIn(e, '2400') + creditIn(e, '1230'), 0n);
    expect([invoiced('2025'), invoiced('2026'), invoiced('2027')]).toEqual([
      15_000_000n,
      15_000_000n,
      15_000_000n,
    ]);
    expect(positions.every((p) => p.unbilledMinor === 0n)).toBe(true);
  });

  it('invoices the upgrade on 2025-07-01 and the replaced installments, never the old ones', () => {
    expect(entriesOf(result, 'invoice').map((e) => [e.date, ...legs(e)])).toEqual([
      ['2025-01-01', ['1210', 12_000_000n, 0n], ['2400', 0n, 12_000_000n]],
      ['2025-07-01', ['1210', 3_000_000n, 0n], ['2400', 0n, 3_000_000n]],
      ['2026-01-01', ['1210', 15_000_000n, 0n], ['2400', 0n, 15_000_000n]],
      ['2027-01-01', ['1210', 15_000_000n, 0n], ['2400', 0n, 15_000_000n]],
    ]);
    expect(legs(entryOn(result, 'marketplace-fee', '2025-07-01'))).toEqual([
      ['5100', 90_000n, 0n],
      ['1210', 0n, 90_000n],
    ]);
    // 2025-07-01: the invoice and its fee; the month-end run posts the rest.
    expect(result.entries.filter((e) => e.date === '2025-07-01').map((e) => e.rule)).toEqual([
      'invoice',
      'marketplace-fee',
    ]);
    expect(entriesOf(result, 'recognition')).toHaveLength(36);
    expect(result.entries).toHaveLength(36 + 4 + 4);
    expectBalanced(result);
  });

  it('keeps 13,500.00 of fees (3 % of 450,000.00, the new TCV’s tier) and pays out 436,500.00', () => {
    expect(result.feeRules['A-1']).toMatchObject({
      ruleId: 'aws-private-direct-lt1m',
      rate: '0.03',
    });
    const fees = [12_000_000n, 3_000_000n, 15_000_000n, 15_000_000n].map((a) =>
      awsFee(a, 3n, 100n),
    );
    expect(fees).toEqual([360_000n, 90_000n, 450_000n, 450_000n]);
    expect(result.fees['A-1']).toBe(1_350_000n);
    expect(result.netPayouts['A-1']).toBe(43_650_000n);
    const book = bookFromEntries('A-1', result.entries);
    expect(balanceOf(book, '5100')).toBe(1_350_000n);
    expect(balanceOf(book, '1210')).toBe(43_650_000n);
    expect(balanceOf(book, '2400')).toBe(0n);
    expect(-balanceOf(book, '4000')).toBe(45_000_000n);
    expect(result.renewals).toEqual({});
  });
});

describe('WE-2 under cumulative catch-up (policy)', () => {
  const result = preview(WE2_CATCH_UP);
  const D = daysBetween('2025-01-01', '2028-01-01');
  const cumulative = (date: string) => even(45_000_000n * daysBetween('2025-01-01', date), D);

  it('recognizes 27,616.44 in July 2025: 450,000 × 212/1,095 − 59,506.85', () => {
    expect(cumulative('2025-08-01')).toBe(8_712_329n);
    expect(cumulative('2025-08-01') - 5_950_685n).toBe(2_761_644n);
    expect(legs(entryOn(result, 'recognition', '2025-07-31'))).toEqual([
      ['2400', 2_761_644n, 0n],
      ['4000', 0n, 2_761_644n],
    ]);
  });

  it('keeps January–June, then follows the whole-term schedule of 450,000.00', () => {
    const posted = recognizedByPeriod(result, 'A-1');
    const schedule = result.schedules['A-1'] ?? [];
    for (const [period, amount] of WE1_FIRST_HALF) {
      expect(posted.get(period)).toBe(amount);
      expect(schedule.find((l) => l.period === period)?.recognizedMinor).toBe(amount);
    }
    for (const period of monthsFrom('2025-08', 29)) {
      const expected = cumulative(monthAfter(period)) - cumulative(`${period}-01`);
      expect(posted.get(period)).toBe(expected);
      expect(schedule.find((l) => l.period === period)?.recognizedMinor).toBe(expected);
    }
    expect(schedule.at(-1)?.cumulativeMinor).toBe(45_000_000n);
    expect(-balanceOf(bookFromEntries('A-1', result.entries), '4000')).toBe(45_000_000n);
    expect(result.fees['A-1']).toBe(1_350_000n);
    expectBalanced(result);
  });

  it('posts a downward catch-up as negative revenue against deferred revenue', () => {
    const down = preview({
      ...WE2_CATCH_UP,
      asOf: '2025-08-31',
      events: [
        WE1_CREATED,
        {
          type: 'ContractAmended',
          contractId: 'A-1',
          effectiveAt: '2025-07-01',
          tcvMinor: '24000000',
          installments: [
            { date: '2026-01-01', amountMinor: '6000000' },
            { date: '2027-01-01', amountMinor: '6000000' },
          ],
        },
      ],
    });
    // 240,000 × 212/1,095 = 46,465.75; 59,506.85 was recognized: −13,041.10 in July.
    const july = even(24_000_000n * 212n, 1_095n) - 5_950_685n;
    expect(july).toBe(-1_304_110n);
    expect(legs(entryOn(down, 'recognition', '2025-07-31'))).toEqual([
      ['2400', 0n, 1_304_110n],
      ['4000', 1_304_110n, 0n],
    ]);
    expect(down.positions['A-1']?.find((p) => p.period === '2025-07')).toMatchObject({
      recognizedMinor: 4_646_575n,
      deferredMinor: 7_353_425n,
    });
    expectBalanced(down);
  });
});

describe('a replacement effective on or after the old end is a renewal (rule 12)', () => {
  const renewal = (effectiveAt: string, term?: { end: string }): ScenarioInput => ({
    ...WE1,
    asOf: '2029-01-31',
    events: [
      WE1_CREATED,
      {
        type: 'ContractAmended',
        contractId: 'A-1',
        replacementId: 'A-1r',
        effectiveAt,
        tcvMinor: '12000000',
        installments: [{ date: effectiveAt, amountMinor: '12000000' }],
        ...(term ? { term } : {}),
      },
    ],
  });

  it('creates a new contract at the AWS renewal fee (1.5 %), leaving the old one as WE-1', () => {
    const result = preview(renewal('2028-01-01', { end: '2029-01-01' }));
    const we1 = preview({ ...WE1, asOf: '2029-01-31' });
    expect(result.renewals).toEqual({ 'A-1r': 'A-1' });
    expect(result.schedules['A-1']).toEqual(we1.schedules['A-1']);
    expect(ownEntries(result, 'A-1')).toEqual(we1.entries);
    expect(result.feeRules['A-1r']).toMatchObject({ rate: '0.015' });
    expect(awsFee(12_000_000n, 15n, 1_000n)).toBe(180_000n);
    expect(legs(entryOn(result, 'marketplace-fee', '2028-01-01'))).toEqual([
      ['5100', 180_000n, 0n],
      ['1210', 0n, 180_000n],
    ]);
    expect(result.fees['A-1r']).toBe(180_000n);
    expect(result.netPayouts['A-1r']).toBe(11_820_000n);
    // 2028 is a leap year: 120,000.00 over 366 days; January is 31 of them.
    const schedule = result.schedules['A-1r'] ?? [];
    expect(schedule).toHaveLength(12);
    expect(schedule[0]).toEqual({
      period: '2028-01',
      recognizedMinor: even(12_000_000n * 31n, 366n),
      cumulativeMinor: even(12_000_000n * 31n, 366n),
    });
    expect(schedule.at(-1)?.cumulativeMinor).toBe(12_000_000n);
    expect(ownEntries(result, 'A-1r').every((e) => e.date >= '2028-01-01')).toBe(true);
    expectBalanced(result);
  });

  it('runs a renewal without a new end for the old term’s length, and accepts one after the end', () => {
    const result = preview(renewal('2028-02-01'));
    expect(result.renewals).toEqual({ 'A-1r': 'A-1' });
    const schedule = result.schedules['A-1r'] ?? [];
    const end = dateOf(dayOf('2028-02-01') + 1_095);
    expect(schedule[0]?.period).toBe('2028-02');
    expect(schedule.at(-1)?.period).toBe(dateOf(dayOf(end) - 1).slice(0, 7));
    expect(schedule.at(-1)?.cumulativeMinor).toBe(12_000_000n);
  });
});

// ---------------------------------------------------------------------------------------------
// WE-3: back-loaded installments
// ---------------------------------------------------------------------------------------------

describe('WE-3: back-loaded installments of 60,000 / 120,000 / 180,000', () => {
  const result = preview(WE3);

  it('recognizes exactly as WE-1 and flips from 2400 to 1230 in July 2025', () => {
    const D = daysBetween('2025-01-01', '2028-01-01');
    const positions = result.positions['B-1'] ?? [];
    expect(positions).toHaveLength(36);
    const installments: [string, bigint][] = [
      ['2025-01-01', 6_000_000n],
      ['2026-01-01', 12_000_000n],
      ['2027-01-01', 18_000_000n],
    ];
    for (const position of positions) {
      const end = monthAfter(position.period);
      const recognized = even(36_000_000n * daysBetween('2025-01-01', end), D);
      const billed = installments.filter(([d]) => d < end).reduce((s, [, a]) => s + a, 0n);
      expect(position).toEqual({
        period: position.period,
        billedMinor: billed,
        recognizedMinor: recognized,
        deferredMinor: billed > recognized ? billed - recognized : 0n,
        unbilledMinor: recognized > billed ? recognized - billed : 0n,
      });
    }
    const flip = positions.find((p) => p.unbilledMinor > 0n);
    expect(flip?.period).toBe('2025-07');
    expect(positions.find((p) => p.period === '2025-06')?.deferredMinor).toBe(49_315n);
    expect(flip?.unbilledMinor).toBe(969_863n);
    expect(legs(entryOn(result, 'invoice', '2026-01-01'))).toEqual([
      ['1210', 12_000_000n, 0n],
      ['1230', 0n, 6_000_000n],
      ['2400', 0n, 6_000_000n],
    ]);
    expect(entriesOf(result, 'marketplace-fee').map((e) => creditIn(e, '1210'))).toEqual([
      180_000n,
      360_000n,
      540_000n,
    ]);
    expectBalanced(result);
  });

  it('flags a possible significant financing component; WE-1 is not flagged', () => {
    expect(result.flags['B-1']?.map((f) => f.code)).toEqual([
      'significant_financing_component_review',
    ]);
    expect(result.flags['B-1']?.[0]?.message).toMatch(/2027-01-01.*2025-01-01/);
    expect(preview(WE1).flags['A-1']).toEqual([]);
  });

  it('flags a payment more than 12 months after the service it pays for, not one exactly 12 months after', () => {
    const flagsFor = (secondDate: string) =>
      preview({
        ...WE1,
        asOf: '2025-01-31',
        events: [
          {
            ...WE1_CREATED,
            term: { start: '2025-01-01', end: '2026-03-01' },
            totalMinor: '1000000',
            installments: [
              { date: '2025-01-01', amountMinor: '10000' },
              { date: secondDate, amountMinor: '990000' },
            ],
          },
        ],
      }).flags['A-1'];
    expect(flagsFor('2026-01-01')).toEqual([]);
    expect(flagsFor('2026-01-02')?.map((f) => f.code)).toEqual([
      'significant_financing_component_review',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// WE-6: cancellation and refunds (§2.7, rule 8)
// ---------------------------------------------------------------------------------------------

describe('WE-6: $12,000.00 annual subscription cancelled on 2025-04-01 with a refund of the unused days', () => {
  const result = preview(we6(WE6_CANCELLED, refundOf(904_110n)));
  const D = daysBetween('2025-01-01', '2026-01-01');
  const throughMarch = even(1_200_000n * daysBetween('2025-01-01', '2025-04-01'), D);

  it('recognizes 2,958.90 through March and nothing after', () => {
    expect(throughMarch).toBe(295_890n);
    const posted = recognizedByPeriod(result, 'S-1');
    expect([...posted.keys()]).toEqual(['2025-01', '2025-02', '2025-03']);
    expect([...posted.values()].reduce((a, b) => a + b, 0n)).toBe(295_890n);
    const book = bookFromEntries('S-1', result.entries);
    expect(-balanceOf(book, '4000')).toBe(295_890n);
    expect(result.positions['S-1']?.at(-1)).toEqual({
      period: '2025-12',
      billedMinor: 295_890n,
      recognizedMinor: 295_890n,
      deferredMinor: 0n,
      unbilledMinor: 0n,
    });
  });

  it('reverses deferred revenue by the refund (the deferred balance itself), then settles it', () => {
    expect(1_200_000n - throughMarch).toBe(904_110n);
    expect(legs(entryOn(result, 'refund', '2025-04-01'))).toEqual([
      ['2400', 904_110n, 0n],
      ['2450', 0n, 904_110n],
    ]);
    expect(legs(entryOn(result, 'refund-settlement', '2025-04-01'))).toEqual([
      ['2450', 904_110n, 0n],
      ['1210', 0n, 904_110n],
    ]);
    const book = bookFromEntries('S-1', result.entries);
    expect(balanceOf(book, '2400')).toBe(0n);
    expect(balanceOf(book, '2450')).toBe(0n);
    expectBalanced(result);
  });

  it('gets 271.23 of the fee back (AWS half-up), keeps 88.77 and pays out 2,870.13', () => {
    const feeRefund = awsFee(904_110n, 3n, 100n);
    expect(feeRefund).toBe(27_123n);
    expect(legs(entryOn(result, 'marketplace-fee-refund', '2025-04-01'))).toEqual([
      ['1210', 27_123n, 0n],
      ['5100', 0n, 27_123n],
    ]);
    expect(36_000n - feeRefund).toBe(8_877n);
    expect(result.fees['S-1']).toBe(8_877n);
    expect(result.netPayouts['S-1']).toBe(287_013n);
    const book = bookFromEntries('S-1', result.entries);
    expect(balanceOf(book, '5100')).toBe(8_877n);
    expect(balanceOf(book, '1210')).toBe(1_200_000n - 36_000n - 904_110n + 27_123n);
    expect(balanceOf(book, '1210')).toBe(287_013n);
  });

  it('gives the same result whatever the order of the same-day cancellation and refund', () => {
    const reversed = preview(we6(refundOf(904_110n), WE6_CANCELLED));
    expect(reversed.entries).toEqual(result.entries);
    expect(reversed.schedules).toEqual(result.schedules);
    expect(reversed.positions).toEqual(result.positions);
  });
});

const monthly = (from: string, count: number, amount: bigint) =>
  monthsFrom(from, count).map((period) => ({ date: `${period}-01`, amountMinor: String(amount) }));

describe('cancellations (§2.7)', () => {
  it('releases what is left of deferred revenue at the cancellation when nothing is refunded', () => {
    const result = preview(we6(WE6_CANCELLED));
    const posted = recognizedByPeriod(result, 'S-1');
    // January–March as before (12,000.00 over 365 days), April takes the whole 9,041.10.
    expect([...posted]).toEqual([
      ['2025-01', 101_918n],
      ['2025-02', 92_055n],
      ['2025-03', 101_917n],
      ['2025-04', 904_110n],
    ]);
    expect(legs(entryOn(result, 'recognition', '2025-04-30'))).toEqual([
      ['2400', 904_110n, 0n],
      ['4000', 0n, 904_110n],
    ]);
    expect(result.schedules['S-1']?.at(-1)).toEqual({
      period: '2025-04',
      recognizedMinor: 904_110n,
      cumulativeMinor: 1_200_000n,
    });
    const book = bookFromEntries('S-1', result.entries);
    expect(balanceOf(book, '2400')).toBe(0n);
    expect(-balanceOf(book, '4000')).toBe(1_200_000n);
    // No refund: the marketplace keeps its whole fee.
    expect(result.fees['S-1']).toBe(36_000n);
    expect(result.netPayouts['S-1']).toBe(1_164_000n);
    expectBalanced(result);
  });

  it('never bills an installment due on or after the cancellation; mid-month it stops on the day', () => {
    const base = {
      ...WE6_CREATED,
      installments: monthly('2025-01', 12, 100_000n),
    };
    const midApril = preview({
      ...we6(),
      events: [base, { ...WE6_CANCELLED, effectiveAt: '2025-04-16' }],
    });
    expect(entriesOf(midApril, 'invoice').map((e) => e.date)).toEqual([
      '2025-01-01',
      '2025-02-01',
      '2025-03-01',
      '2025-04-01',
    ]);
    // 105 days served: 3,452.05 earned, 4,000.00 billed; the 547.95 left is released in April.
    const served = even(1_200_000n * daysBetween('2025-01-01', '2025-04-16'), 365n);
    expect(served).toBe(345_205n);
    const posted = recognizedByPeriod(midApril, 'S-1');
    expect(posted.get('2025-04')).toBe(400_000n - 295_890n);
    expect([...posted.keys()].at(-1)).toBe('2025-04');
    expect(midApril.positions['S-1']?.at(-1)).toMatchObject({
      billedMinor: 400_000n,
      recognizedMinor: 400_000n,
      deferredMinor: 0n,
      unbilledMinor: 0n,
    });
    expect(midApril.fees['S-1']).toBe(4n * 3_000n);

    const onMay1 = preview({
      ...we6(),
      events: [base, { ...WE6_CANCELLED, effectiveAt: '2025-05-01' }],
    });
    expect(
      entriesOf(onMay1, 'invoice')
        .map((e) => e.date)
        .at(-1),
    ).toBe('2025-04-01');
    expect(onMay1.positions['S-1']?.at(-1)).toMatchObject({
      billedMinor: 400_000n,
      recognizedMinor: 400_000n,
    });
    expectBalanced(onMay1);
  });
});

describe('refunds (rule 8)', () => {
  it('reduces revenue by what a refund takes beyond the deferred balance', () => {
    const result = preview(we6(refundOf(1_000_000n)));
    // Deferred at 2025-04-01: 12,000.00 − 2,958.90 = 9,041.10; the other 958.90 is revenue.
    expect(legs(entryOn(result, 'refund', '2025-04-01'))).toEqual([
      ['2400', 904_110n, 0n],
      ['4000', 95_890n, 0n],
      ['2450', 0n, 1_000_000n],
    ]);
    expect(legs(entryOn(result, 'marketplace-fee-refund', '2025-04-01'))).toEqual([
      ['1210', awsFee(1_000_000n, 3n, 100n), 0n],
      ['5100', 0n, 30_000n],
    ]);
    // Nothing is left to recognize: revenue ends at billed − refunded.
    expect([...recognizedByPeriod(result, 'S-1').keys()]).toEqual([
      '2025-01',
      '2025-02',
      '2025-03',
    ]);
    const book = bookFromEntries('S-1', result.entries);
    expect(-balanceOf(book, '4000')).toBe(1_200_000n - 1_000_000n);
    expect(balanceOf(book, '2400')).toBe(0n);
    expect(balanceOf(book, '1230')).toBe(0n);
    expect(result.positions['S-1']?.at(-1)).toMatchObject({
      billedMinor: 200_000n,
      recognizedMinor: 200_000n,
      deferredMinor: 0n,
      unbilledMinor: 0n,
    });
    expect(result.fees['S-1']).toBe(6_000n);
    expect(result.netPayouts['S-1']).toBe(194_000n);
    expectBalanced(result);
  });

  it('takes a refund after the release entirely from revenue, and ends at billed − refunded', () => {
    for (const refundDate of ['2025-04-10', '2025-06-01']) {
      const result = preview(we6(WE6_CANCELLED, refundOf(1_000_000n, refundDate)));
      const refund = entryOn(result, 'refund', refundDate);
      expect(refund && creditIn(refund, '2450')).toBe(1_000_000n);
      const book = bookFromEntries('S-1', result.entries);
      expect(-balanceOf(book, '4000')).toBe(200_000n);
      expect(balanceOf(book, '2400')).toBe(0n);
      expect(balanceOf(book, '1230')).toBe(0n);
      expect(balanceOf(book, '2450')).toBe(0n);
      expect(entriesOf(result, 'recognition').every((e) => e.date <= '2025-04-30')).toBe(true);
      expectBalanced(result);
    }
    // Two months after the release, nothing is deferred: all of it reduces revenue.
    const late = preview(we6(WE6_CANCELLED, refundOf(1_000_000n, '2025-06-01')));
    expect(legs(entryOn(late, 'refund', '2025-06-01'))).toEqual([
      ['4000', 1_000_000n, 0n],
      ['2450', 0n, 1_000_000n],
    ]);
  });

  it('lowers the remaining months of a running contract, never a month already recognized', () => {
    const result = preview(we6(refundOf(120_000n, '2025-07-01')));
    const unrefunded = preview(we6());
    const D = 365n;
    const atRefund = even(1_200_000n * daysBetween('2025-01-01', '2025-07-01'), D);
    const rest = 1_200_000n - 120_000n - atRefund;
    const restDays = daysBetween('2025-07-01', '2026-01-01');
    expect(legs(entryOn(result, 'refund', '2025-07-01'))).toEqual([
      ['2400', 120_000n, 0n],
      ['2450', 0n, 120_000n],
    ]);
    const posted = recognizedByPeriod(result, 'S-1');
    const postedBefore = recognizedByPeriod(unrefunded, 'S-1');
    for (const period of monthsFrom('2025-01', 6)) {
      expect(posted.get(period)).toBe(postedBefore.get(period));
    }
    for (const period of monthsFrom('2025-07', 6)) {
      const cum = (date: string) =>
        atRefund + even(rest * daysBetween('2025-07-01', date), restDays);
      expect(posted.get(period)).toBe(cum(monthAfter(period)) - cum(`${period}-01`));
    }
    expect([...posted.values()].reduce((a, b) => a + b, 0n)).toBe(1_080_000n);
    expect(result.schedules['S-1']?.at(-1)?.cumulativeMinor).toBe(1_080_000n);
    expectBalanced(result);
  });
});

describe('the same-day order: amendments, refunds, cancellations, then installments, payouts and the month-end', () => {
  const day = '2025-03-31';
  const events: ScenarioInput['events'] = [
    WE6_CREATED,
    {
      type: 'DisbursementReceived',
      contractId: 'S-1',
      disbursementId: 'payout-1',
      effectiveAt: day,
      currency: 'USD',
      amountMinor: '500000',
    },
    { ...refundOf(100_000n, day), refundId: 'credit-1' },
    {
      type: 'ContractAmended',
      contractId: 'S-1',
      effectiveAt: day,
      tcvMinor: '1500000',
      installments: [{ date: day, amountMinor: '300000' }],
    },
  ];

  it('posts the day’s entries in the fixed order, whatever the input order', () => {
    const result = preview({ ...we6(), asOf: '2025-04-30', events });
    expect(result.entries.filter((e) => e.date === day).map((e) => e.rule)).toEqual([
      'refund',
      'refund-settlement',
      'marketplace-fee-refund',
      'invoice',
      'marketplace-fee',
      'disbursement',
      'recognition',
    ]);
    // The refund sees the deferred balance before the day's invoice and month-end.
    expect(legs(entryOn(result, 'refund', day))).toEqual([
      ['2400', 100_000n, 0n],
      ['2450', 0n, 100_000n],
    ]);
    const shuffled = preview({
      ...we6(),
      asOf: '2025-04-30',
      events: [events[3], events[0], events[2], events[1]].filter((e) => e !== undefined),
    });
    expect(shuffled.entries).toEqual(result.entries);
    expectBalanced(result);
  });

  it('does not bill an installment due on the day of a cancellation, even one an amendment added that day', () => {
    const cancelDay = '2025-03-01';
    const changes: ScenarioInput['events'] = [
      { ...WE6_CANCELLED, effectiveAt: cancelDay },
      {
        type: 'ContractAmended',
        contractId: 'S-1',
        effectiveAt: cancelDay,
        tcvMinor: '1500000',
        installments: [{ date: cancelDay, amountMinor: '300000' }],
      },
    ];
    const result = preview(we6(...changes));
    expect(entriesOf(result, 'invoice').map((e) => e.date)).toEqual(['2025-01-01']);
    expect(result.positions['S-1']?.at(-1)).toMatchObject({
      billedMinor: 1_200_000n,
      recognizedMinor: 1_200_000n,
    });
    expect(preview(we6(...[...changes].reverse())).entries).toEqual(result.entries);
  });
});

// ---------------------------------------------------------------------------------------------
// WE-7: EUR private offer, functional currency USD (rule 5)
// ---------------------------------------------------------------------------------------------

describe('WE-7: €100,000.00 invoiced at 1.0400, remeasured at 1.0500, paid out in USD at 1.0450', () => {
  const result = preview(WE7);
  const usd = (eurMinor: bigint, rate: bigint) => even(eurMinor * rate, 10_000n);

  it('posts the invoice and the fee at the billing-date rate', () => {
    expect(usd(10_000_000n, 10_400n)).toBe(10_400_000n);
    expect(fxLegs(entryOn(result, 'invoice', '2025-01-01'))).toEqual([
      ['1210', 'EUR', 10_000_000n, 0n, 10_400_000n, 0n],
      ['2400', 'EUR', 0n, 10_000_000n, 0n, 10_400_000n],
    ]);
    const fee = awsFee(10_000_000n, 3n, 100n);
    expect(usd(fee, 10_400n)).toBe(312_000n);
    expect(fxLegs(entryOn(result, 'marketplace-fee', '2025-01-01'))).toEqual([
      ['5100', 'EUR', 300_000n, 0n, 312_000n, 0n],
      ['1210', 'EUR', 0n, 300_000n, 0n, 312_000n],
    ]);
    expect(result.fees['E-1']).toBe(300_000n);
  });

  it('recognizes €8,493.15 = $8,832.88 in January, released from deferred revenue at its historical rate', () => {
    const january = even(10_000_000n * 31n, 365n);
    expect(january).toBe(849_315n);
    expect(usd(january, 10_400n)).toBe(883_288n);
    expect(fxLegs(entryOn(result, 'recognition', '2025-01-31'))).toEqual([
      ['2400', 'EUR', 849_315n, 0n, 883_288n, 0n],
      ['4000', 'EUR', 0n, 849_315n, 0n, 883_288n],
    ]);
    // Every later month too: at 1.0400, not at the 1.0500 or 1.0450 spot of the day.
    for (const entry of entriesOf(result, 'recognition')) {
      const eur = creditIn(entry, '4000');
      const fn = entry.legs.find((l) => l.account === '4000')?.functionalCreditMinor ?? 0n;
      const error = fn * 10_000n - eur * 10_400n;
      expect(error > -10_000n && error < 10_000n).toBe(true);
    }
  });

  it('remeasures the €97,000.00 receivable at 2025-01-31: +$970.00 unrealized (7100)', () => {
    expect(usd(9_700_000n, 10_500n) - (10_400_000n - 312_000n)).toBe(97_000n);
    const remeasurements = entriesOf(result, 'fx-remeasurement');
    expect(remeasurements).toHaveLength(1);
    expect(remeasurements[0]?.date).toBe('2025-01-31');
    expect(fxLegs(remeasurements[0])).toEqual([
      ['1210', 'EUR', 0n, 0n, 97_000n, 0n],
      ['7100', 'EUR', 0n, 0n, 0n, 97_000n],
    ]);
    expect(
      result.entries.some(
        (e) => e.rule === 'fx-remeasurement' && e.legs.some((l) => l.account === '2400'),
      ),
    ).toBe(false);
  });

  it('pays out $101,365.00 through FX clearing (1950): the receivable leaves at $101,850.00, $485.00 realized loss', () => {
    expect(usd(9_700_000n, 10_450n)).toBe(10_136_500n);
    expect(fxLegs(entryOn(result, 'disbursement', '2025-02-20'))).toEqual([
      ['1000', 'USD', 10_136_500n, 0n, 10_136_500n, 0n],
      ['1950', 'USD', 0n, 10_136_500n, 0n, 10_136_500n],
      ['1950', 'EUR', 9_700_000n, 0n, 10_136_500n, 0n],
      ['1210', 'EUR', 0n, 9_700_000n, 0n, 10_185_000n],
      ['7100', 'EUR', 0n, 0n, 48_500n, 0n],
    ]);
    expect(result.netPayouts['E-1']).toBe(9_700_000n);
  });

  it('balances every entry per currency and in USD; deferred revenue reaches exactly $0 at term end', () => {
    expectBalanced(result);
    const book = bookFromEntries('E-1', result.entries);
    expect(balanceOf(book, '2400')).toBe(0n);
    expect(functionalBalanceOf(book, '2400')).toBe(0n);
    // All revenue at the historical 1.0400: $104,000.00 exactly.
    expect(-balanceOf(book, '4000')).toBe(10_000_000n);
    expect(-functionalBalanceOf(book, '4000')).toBe(10_400_000n);
    expect(balanceOf(book, '1210')).toBe(0n);
    expect(functionalBalanceOf(book, '1210')).toBe(0n);
    expect(functionalBalanceOf(book, '1950')).toBe(0n);
    expect(functionalBalanceOf(book, '1000')).toBe(10_136_500n);
    // +970.00 unrealized − 485.00 realized.
    expect(-functionalBalanceOf(book, '7100')).toBe(48_500n);
    expect(-functionalBalanceOf(book, '5100')).toBe(-312_000n);
  });

  it('recognizes ahead of billing at spot, remeasures 1230, and clears it at its carrying amount', () => {
    // €9,000.00 over [2025-01-01, 2025-04-01) (90 days), invoiced in arrears on 2025-03-01.
    const arrears = preview({
      asOf: '2025-03-31',
      functionalCurrency: 'USD',
      policies: POLICIES,
      fxRates: [
        { date: '2025-01-01', base: 'EUR', quote: 'USD', rate: '1.04' },
        { date: '2025-01-31', base: 'EUR', quote: 'USD', rate: '1.05' },
        { date: '2025-02-28', base: 'EUR', quote: 'USD', rate: '1.10' },
        { date: '2025-03-01', base: 'EUR', quote: 'USD', rate: '1.12' },
        { date: '2025-03-31', base: 'EUR', quote: 'USD', rate: '1.15' },
      ],
      events: [
        {
          ...WE7.events[0],
          contractId: 'E-2',
          term: { start: '2025-01-01', end: '2025-04-01' },
          totalMinor: '900000',
          installments: [{ date: '2025-03-01', amountMinor: '900000' }],
        } as ScenarioInput['events'][number],
      ],
    });
    const jan = even(900_000n * 31n, 90n);
    const feb = even(900_000n * 59n, 90n) - jan;
    expect([jan, feb]).toEqual([310_000n, 280_000n]);
    expect(fxLegs(entryOn(arrears, 'recognition', '2025-01-31'))).toEqual([
      ['1230', 'EUR', jan, 0n, usd(jan, 10_500n), 0n],
      ['4000', 'EUR', 0n, jan, 0n, usd(jan, 10_500n)],
    ]);
    expect(fxLegs(entryOn(arrears, 'recognition', '2025-02-28'))).toEqual([
      ['1230', 'EUR', feb, 0n, usd(feb, 11_000n), 0n],
      ['4000', 'EUR', 0n, feb, 0n, usd(feb, 11_000n)],
    ]);
    // 1230 carried at 3,255.00 + 3,080.00; €5,900.00 × 1.10 = 6,490.00: +155.00 unrealized.
    const carried = usd(jan, 10_500n) + usd(feb, 11_000n);
    const remeasured = usd(jan + feb, 11_000n);
    expect(remeasured - carried).toBe(15_500n);
    expect(fxLegs(entryOn(arrears, 'fx-remeasurement', '2025-02-28'))).toEqual([
      ['1230', 'EUR', 0n, 0n, 15_500n, 0n],
      ['7100', 'EUR', 0n, 0n, 0n, 15_500n],
    ]);
    // The invoice clears 1230 at its carrying 6,490.00 and defers the rest at 1.12.
    const billedUsd = usd(900_000n, 11_200n);
    const deferredUsd = usd(310_000n, 11_200n);
    expect(fxLegs(entryOn(arrears, 'invoice', '2025-03-01'))).toEqual([
      ['1210', 'EUR', 900_000n, 0n, billedUsd, 0n],
      ['1230', 'EUR', 0n, 590_000n, 0n, remeasured],
      ['2400', 'EUR', 0n, 310_000n, 0n, deferredUsd],
      ['7100', 'EUR', 0n, 0n, 0n, billedUsd - remeasured - deferredUsd],
    ]);
    expect(billedUsd - remeasured - deferredUsd).toBe(11_800n);
    const book = bookFromEntries('E-2', arrears.entries);
    expect(-functionalBalanceOf(book, '4000')).toBe(
      usd(jan, 10_500n) + usd(feb, 11_000n) + deferredUsd,
    );
    expect(-functionalBalanceOf(book, '4000')).toBe(980_700n);
    expect(functionalBalanceOf(book, '2400')).toBe(0n);
    expect(functionalBalanceOf(book, '1230')).toBe(0n);
    expectBalanced(arrears);
  });
});
