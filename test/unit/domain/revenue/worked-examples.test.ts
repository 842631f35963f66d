// Proves the engine reproduces finance.md §9 WE-1, WE-4 and WE-5 to the cent from the project's sample scenarios (events/scenarios), through ScenarioSchema and previewScenario.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AccountCode,
  type JournalEntry,
  journalEntryProblems,
} from '../../../../lib/domain/ledger';
import { balanceOf, bookFromEntries } from '../../../../lib/domain/revenue/book';
import {
  type PreviewResult,
  previewScenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';

const SCENARIOS = resolve(import.meta.dirname, '../../../../events/scenarios');

function load(name: string): ScenarioInput {
  return JSON.parse(readFileSync(resolve(SCENARIOS, `${name}.json`), 'utf8')) as ScenarioInput;
}
function preview(input: ScenarioInput): PreviewResult {
  return previewScenario(ScenarioSchema.parse(input));
}

type Leg = [AccountCode, bigint, bigint];
const legs = (entry: JournalEntry | undefined): Leg[] =>
  (entry?.legs ?? []).map((l) => [l.account, l.debitMinor, l.creditMinor]);
const entryOn = (result: PreviewResult, rule: string, date: string) =>
  result.entries.filter((e) => e.rule === rule && e.date === date);

/** Every entry balances, per currency and in the functional currency. */
function expectBalanced(result: PreviewResult): void {
  for (const entry of result.entries) expect(journalEntryProblems(entry)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// WE-1: 3-year AWS private offer, $360,000.00, annual installments, 3 % fee
// ---------------------------------------------------------------------------------------------

/** finance.md WE-1, the 2025 table: [month, days, recognized, cumulative], in cents. */
const WE1_2025: [string, number, bigint, bigint][] = [
  ['01', 31, 1_019_178n, 1_019_178n],
  ['02', 28, 920_548n, 1_939_726n],
  ['03', 31, 1_019_178n, 2_958_904n],
  ['04', 30, 986_301n, 3_945_205n],
  ['05', 31, 1_019_179n, 4_964_384n],
  ['06', 30, 986_301n, 5_950_685n],
  ['07', 31, 1_019_178n, 6_969_863n],
  ['08', 31, 1_019_178n, 7_989_041n],
  ['09', 30, 986_301n, 8_975_342n],
  ['10', 31, 1_019_179n, 9_994_521n],
  ['11', 30, 986_301n, 10_980_822n],
  ['12', 31, 1_019_178n, 12_000_000n],
];

describe('WE-1: AWS private offer, $360,000.00 over 3 years, annual installments', () => {
  const result = preview(load('we-1'));
  const schedule = result.schedules['A-1'] ?? [];

  it('schedules every month of 2025 as the table, and 2026 and 2027 repeat it', () => {
    expect(schedule).toHaveLength(36);
    const expected = [2025, 2026, 2027].flatMap((year, y) =>
      WE1_2025.map(([month, , recognized, cumulative]) => ({
        period: `${year}-${month}`,
        recognizedMinor: recognized,
        cumulativeMinor: 12_000_000n * BigInt(y) + cumulative,
      })),
    );
    expect(schedule).toEqual(expected);
    // The table's own arithmetic: the days add to 365, the amounts to the cumulative column.
    expect(WE1_2025.reduce((sum, [, days]) => sum + days, 0)).toBe(365);
    let running = 0n;
    for (const [, , recognized, cumulative] of WE1_2025) {
      running += recognized;
      expect(running).toBe(cumulative);
    }
  });

  it('recognizes 120,000.00 a year and 360,000.00 in total', () => {
    for (const year of ['2025', '2026', '2027']) {
      const annual = schedule
        .filter((l) => l.period.startsWith(year))
        .reduce((sum, l) => sum + l.recognizedMinor, 0n);
      expect(annual).toBe(12_000_000n);
    }
    expect(schedule.at(-1)?.cumulativeMinor).toBe(36_000_000n);
    const book = bookFromEntries('A-1', result.entries);
    expect(-balanceOf(book, '4000')).toBe(36_000_000n);
  });

  it('holds 60,493.15 of deferred revenue at 2025-06-30 and none at each year-end', () => {
    const positions = result.positions['A-1'] ?? [];
    expect(positions).toHaveLength(36);
    expect(positions.find((p) => p.period === '2025-06')).toEqual({
      period: '2025-06',
      billedMinor: 12_000_000n,
      recognizedMinor: 5_950_685n,
      deferredMinor: 6_049_315n,
      unbilledMinor: 0n,
    });
    for (const [year, billed] of [
      ['2025', 12_000_000n],
      ['2026', 24_000_000n],
      ['2027', 36_000_000n],
    ] as const) {
      expect(positions.find((p) => p.period === `${year}-12`)).toEqual({
        period: `${year}-12`,
        billedMinor: billed,
        recognizedMinor: billed,
        deferredMinor: 0n,
        unbilledMinor: 0n,
      });
    }
  });

  it('posts the invoice, the fee and the first recognition exactly', () => {
    expect(entryOn(result, 'invoice', '2025-01-01').map(legs)).toEqual([
      [
        ['1210', 12_000_000n, 0n],
        ['2400', 0n, 12_000_000n],
      ],
    ]);
    expect(entryOn(result, 'marketplace-fee', '2025-01-01').map(legs)).toEqual([
      [
        ['5100', 360_000n, 0n],
        ['1210', 0n, 360_000n],
      ],
    ]);
    expect(entryOn(result, 'recognition', '2025-01-31').map(legs)).toEqual([
      [
        ['2400', 1_019_178n, 0n],
        ['4000', 0n, 1_019_178n],
      ],
    ]);
    const firstDay = result.entries.filter((e) => e.date === '2025-01-01');
    expect(firstDay.map((e) => e.rule)).toEqual(['invoice', 'marketplace-fee']);
  });

  it('recognizes each month with Dr 2400 / Cr 4000 at the schedule amount', () => {
    const recognitions = result.entries.filter((e) => e.rule === 'recognition');
    expect(recognitions).toHaveLength(36);
    recognitions.forEach((entry, index) => {
      const line = schedule[index];
      expect(entry.date.slice(0, 7)).toBe(line?.period);
      expect(legs(entry)).toEqual([
        ['2400', line?.recognizedMinor, 0n],
        ['4000', 0n, line?.recognizedMinor],
      ]);
    });
    for (const date of ['2026-01-01', '2027-01-01']) {
      expect(entryOn(result, 'invoice', date).map(legs)).toEqual([
        [
          ['1210', 12_000_000n, 0n],
          ['2400', 0n, 12_000_000n],
        ],
      ]);
    }
    expect(result.entries).toHaveLength(42);
    expectBalanced(result);
  });

  it('keeps 10,800.00 of fees and pays out 349,200.00', () => {
    expect(result.feeRules['A-1']).toMatchObject({
      ruleId: 'aws-private-direct-lt1m',
      rate: '0.03',
    });
    expect(result.fees['A-1']).toBe(1_080_000n);
    expect(result.netPayouts['A-1']).toBe(34_920_000n);
    const book = bookFromEntries('A-1', result.entries);
    expect(balanceOf(book, '5100')).toBe(1_080_000n);
    expect(balanceOf(book, '1210')).toBe(34_920_000n);
    expect(balanceOf(book, '2400')).toBe(0n);
  });

  it('takes the disbursement of 116,400.00 off the receivable', () => {
    const input = load('we-1');
    input.events.push({
      type: 'DisbursementReceived',
      contractId: 'A-1',
      disbursementId: 'disb-2025-01',
      effectiveAt: '2025-01-20',
      currency: 'USD',
      amountMinor: '11640000',
    });
    const paid = preview({ ...input, asOf: '2025-12-31' });
    expect(paid.entries.filter((e) => e.rule === 'disbursement').map(legs)).toEqual([
      [
        ['1000', 11_640_000n, 0n],
        ['1210', 0n, 11_640_000n],
      ],
    ]);
    const book = bookFromEntries('A-1', paid.entries);
    expect(balanceOf(book, '1210')).toBe(0n);
    expect(balanceOf(book, '1000')).toBe(11_640_000n);
  });
});

// ---------------------------------------------------------------------------------------------
// WE-4: AWS CPPO with a 10 % reseller margin
// ---------------------------------------------------------------------------------------------

/** finance.md WE-4 schedule: [period, recognized, cumulative], in cents. */
const WE4: [string, bigint, bigint][] = [
  ['2025-03', 764_384n, 764_384n],
  ['2025-04', 739_726n, 1_504_110n],
  ['2025-05', 764_383n, 2_268_493n],
  ['2025-06', 739_726n, 3_008_219n],
  ['2025-07', 764_384n, 3_772_603n],
  ['2025-08', 764_383n, 4_536_986n],
  ['2025-09', 739_726n, 5_276_712n],
  ['2025-10', 764_384n, 6_041_096n],
  ['2025-11', 739_726n, 6_780_822n],
  ['2025-12', 764_383n, 7_545_205n],
  ['2026-01', 764_384n, 8_309_589n],
  ['2026-02', 690_411n, 9_000_000n],
];

describe('WE-4: AWS CPPO, $100,000.00 buyer price, 10 % reseller margin', () => {
  const result = preview(load('we-4'));

  it('schedules the wholesale 90,000.00 over 365 days exactly as the table', () => {
    expect(result.schedules['C-1']).toEqual(
      WE4.map(([period, recognizedMinor, cumulativeMinor]) => ({
        period,
        recognizedMinor,
        cumulativeMinor,
      })),
    );
    const recognitions = result.entries.filter((e) => e.rule === 'recognition');
    expect(recognitions.map((e) => legs(e)[1])).toEqual(
      WE4.map(([, recognized]) => ['4000', 0n, recognized]),
    );
  });

  it('invoices 90,000.00 and keeps 3,150.00 under the CPPO 3.5 % rule', () => {
    expect(result.feeRules['C-1']).toMatchObject({
      ruleId: 'aws-private-cppo-lt1m',
      rate: '0.035',
    });
    expect(entryOn(result, 'invoice', '2025-03-01').map(legs)).toEqual([
      [
        ['1210', 9_000_000n, 0n],
        ['2400', 0n, 9_000_000n],
      ],
    ]);
    expect(entryOn(result, 'marketplace-fee', '2025-03-01').map(legs)).toEqual([
      [
        ['5100', 315_000n, 0n],
        ['1210', 0n, 315_000n],
      ],
    ]);
    expect(result.fees['C-1']).toBe(315_000n);
    expect(result.netPayouts['C-1']).toBe(8_685_000n);
    expectBalanced(result);
  });

  it('never shows the reseller’s margin or the buyer price in any leg', () => {
    const amounts = result.entries.flatMap((e) =>
      e.legs.flatMap((l) => [
        l.debitMinor,
        l.creditMinor,
        l.functionalDebitMinor,
        l.functionalCreditMinor,
      ]),
    );
    expect(amounts).not.toContain(1_000_000n);
    expect(amounts).not.toContain(10_000_000n);
    expect(
      result.entries.some((e) => e.legs.some((l) => l.account === '4900' || l.account === '6100')),
    ).toBe(false);
    const book = bookFromEntries('C-1', result.entries);
    expect(-balanceOf(book, '4000')).toBe(9_000_000n);
    expect(balanceOf(book, '2400')).toBe(0n);
    const last = result.positions['C-1']?.at(-1);
    expect(last).toEqual({
      period: '2026-02',
      billedMinor: 9_000_000n,
      recognizedMinor: 9_000_000n,
      deferredMinor: 0n,
      unbilledMinor: 0n,
    });
  });

  it('keeps 3,500.00 when the fee is taken on the buyer price (cppoFeeBase: buyer)', () => {
    const input = load('we-4');
    const buyer = preview({ ...input, policies: { ...input.policies, cppoFeeBase: 'buyer' } });
    expect(entryOn(buyer, 'marketplace-fee', '2025-03-01').map(legs)).toEqual([
      [
        ['5100', 350_000n, 0n],
        ['1210', 0n, 350_000n],
      ],
    ]);
    expect(buyer.fees['C-1']).toBe(350_000n);
    expect(buyer.netPayouts['C-1']).toBe(8_650_000n);
    // Revenue is still the wholesale price.
    expect(buyer.schedules['C-1']).toEqual(result.schedules['C-1']);
  });
});

// ---------------------------------------------------------------------------------------------
// WE-5: a usage month (AWS metered SaaS)
// ---------------------------------------------------------------------------------------------

describe('WE-5: March 2025 usage, 61,728,350 calls at $0.002', () => {
  const result = preview(load('we-5'));

  it('accrues 123,456.70 of usage and a 3,703.70 fee on 2025-03-31', () => {
    const accruals = entryOn(result, 'usage-accrual', '2025-03-31');
    expect(accruals).toHaveLength(1);
    expect(legs(accruals[0])).toEqual([
      ['1230', 12_345_670n, 0n],
      ['4100', 0n, 12_345_670n],
      ['5100', 370_370n, 0n],
      ['2200', 0n, 370_370n],
    ]);
    expect(result.feeRules['U-1']).toMatchObject({ ruleId: 'aws-public-saas', rate: '0.03' });
    expect(result.schedules['U-1']).toEqual([]);
  });

  it('reclassifies to the receivable when AWS invoices on 2025-04-03', () => {
    const invoices = result.entries.filter((e) => e.rule === 'usage-invoice');
    expect(invoices.map((e) => e.date)).toEqual(['2025-04-03']);
    expect(legs(invoices[0])).toEqual([
      ['1210', 12_345_670n, 0n],
      ['1230', 0n, 12_345_670n],
      ['2200', 370_370n, 0n],
      ['1210', 0n, 370_370n],
    ]);
    expect(result.entries).toHaveLength(2);
    expectBalanced(result);
  });

  it('shows the position as unbilled in March and billed in April', () => {
    expect(result.positions['U-1']).toEqual([
      {
        period: '2025-03',
        billedMinor: 0n,
        recognizedMinor: 12_345_670n,
        deferredMinor: 0n,
        unbilledMinor: 12_345_670n,
      },
      {
        period: '2025-04',
        billedMinor: 12_345_670n,
        recognizedMinor: 12_345_670n,
        deferredMinor: 0n,
        unbilledMinor: 0n,
      },
    ]);
  });

  it('pays out 119,753.00', () => {
    expect(result.fees['U-1']).toBe(370_370n);
    expect(result.netPayouts['U-1']).toBe(11_975_300n);
    const input = load('we-5');
    input.events.push({
      type: 'DisbursementReceived',
      contractId: 'U-1',
      effectiveAt: '2025-04-20',
      currency: 'USD',
      amountMinor: '11975300',
    });
    const paid = preview(input);
    const book = bookFromEntries('U-1', paid.entries);
    expect(balanceOf(book, '1210')).toBe(0n);
    expect(balanceOf(book, '1000')).toBe(11_975_300n);
    expect(balanceOf(book, '1230')).toBe(0n);
    expect(balanceOf(book, '2200')).toBe(0n);
    expect(-balanceOf(book, '4100')).toBe(12_345_670n);
    expect(balanceOf(book, '5100')).toBe(370_370n);
  });
});
