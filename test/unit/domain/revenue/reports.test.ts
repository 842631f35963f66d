// Proves the finance reports: roll-forwards of 2400 and of 1230/1240 keep opening + movements = closing on every line (transaction and functional) and match independent folds and WE-1/3/6/7 figures; the FIFO waterfall and the trial balance tie to them; the trial balance is zero per currency; the journal CSV is RFC 4180 with exact amounts; on random ledgers too.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, addMonths } from '../../../../lib/domain/calendar';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  type AccountCode,
  JOURNAL_ENTRY_SCHEMA_VERSION,
  type JournalEntry,
  type JournalLeg,
  reverseEntry,
} from '../../../../lib/domain/ledger';
import {
  type PreviewResult,
  previewScenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';
import {
  csvField,
  csvOf,
  JOURNAL_CSV_HEADER,
  journalCsv,
  REPORT_ENTRIES_MAX,
  REPORT_PERIODS_MAX,
  type RollForwardAccount,
  type RollForwardReport,
  rollForward,
  rollForwardCsv,
  trialBalance,
  trialBalanceCsv,
  waterfall,
  waterfallCsv,
} from '../../../../lib/domain/revenue/reports';

const SCENARIOS = resolve(import.meta.dirname, '../../../../events/scenarios');
const RUNS = { numRuns: 80, seed: 20260412 } as const;

function preview(name: string): PreviewResult {
  return previewScenario(
    ScenarioSchema.parse(JSON.parse(readFileSync(join(SCENARIOS, `${name}.json`), 'utf8'))),
  );
}

// ---------------------------------------------------------------------------------------------
// Independent helpers: month arithmetic on strings, folds of legs, an RFC 4180 reader
// ---------------------------------------------------------------------------------------------

function nextMonth(period: string): string {
  const [y = 0, m = 1] = period.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

function months(from: string, to: string): string[] {
  const out: string[] = [];
  for (let p = from; p <= to; p = nextMonth(p)) out.push(p);
  return out;
}

function lastDay(period: string): string {
  const [y = 0, m = 1] = period.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

const ACCOUNTS_OF: Record<RollForwardAccount, readonly string[]> = {
  '2400': ['2400'],
  unbilled: ['1230', '1240'],
};

/** Σ of the balance's increase (credit for 2400, debit for 1230/1240) per currency. */
function fold(
  entries: readonly JournalEntry[],
  account: RollForwardAccount,
  keep: (period: string) => boolean,
): Map<string, { tx: bigint; fn: bigint }> {
  const out = new Map<string, { tx: bigint; fn: bigint }>();
  const sign = account === '2400' ? -1n : 1n;
  for (const entry of entries) {
    if (!keep(entry.postingPeriod)) continue;
    for (const leg of entry.legs) {
      if (!ACCOUNTS_OF[account].includes(leg.account)) continue;
      const sum = out.get(leg.currency) ?? { tx: 0n, fn: 0n };
      sum.tx += sign * (leg.debitMinor - leg.creditMinor);
      sum.fn += sign * (leg.functionalDebitMinor - leg.functionalCreditMinor);
      out.set(leg.currency, sum);
    }
  }
  return out;
}

/** Gross credits and debits to 2400 per currency posted in the periods kept. */
function grossDeferred(
  entries: readonly JournalEntry[],
  keep: (period: string) => boolean,
): Map<string, { credits: bigint; debits: bigint }> {
  const out = new Map<string, { credits: bigint; debits: bigint }>();
  for (const entry of entries) {
    if (!keep(entry.postingPeriod)) continue;
    for (const leg of entry.legs) {
      if (leg.account !== '2400') continue;
      const sum = out.get(leg.currency) ?? { credits: 0n, debits: 0n };
      sum.credits += leg.creditMinor;
      sum.debits += leg.debitMinor;
      out.set(leg.currency, sum);
    }
  }
  return out;
}

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i += 1;
      } else {
        field += ch;
        i += 1;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      i += 1;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      if (ch === '"' || ch === '\n' || ch === '\r') throw new Error(`bare ${ch} at ${i}`);
      field += ch;
      i += 1;
    }
  }
  if (quoted) throw new Error('unterminated quote');
  if (field !== '' || row.length > 0) throw new Error('last record lacks its CRLF');
  return rows;
}

/** "1234.560" with `exponent` decimals → minor units, checking the decimals' count. */
function minorOf(text: string, exponent: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`not a decimal: ${text}`);
  expect((match[3] ?? '').length).toBe(exponent);
  const value = BigInt(`${match[2]}${match[3] ?? ''}`);
  return match[1] === '-' ? -value : value;
}

// ---------------------------------------------------------------------------------------------
// Hand-built entries
// ---------------------------------------------------------------------------------------------

function leg(
  account: AccountCode,
  side: 'debit' | 'credit',
  amount: bigint,
  options: { currency?: string; functional?: bigint; contractId?: string | null } = {},
): JournalLeg {
  const functional = options.functional ?? amount;
  return {
    account,
    currency: options.currency ?? 'USD',
    debitMinor: side === 'debit' ? amount : 0n,
    creditMinor: side === 'credit' ? amount : 0n,
    functionalDebitMinor: side === 'debit' ? functional : 0n,
    functionalCreditMinor: side === 'credit' ? functional : 0n,
    contractId: options.contractId === undefined ? 'K-1' : options.contractId,
    partnerId: null,
  };
}

let serial = 0;
function entry(
  rule: string,
  date: string,
  legs: JournalLeg[],
  extra: Partial<JournalEntry> = {},
): JournalEntry {
  serial += 1;
  return {
    schemaVersion: JOURNAL_ENTRY_SCHEMA_VERSION,
    entryId: `je_${String(serial).padStart(4, '0')}`,
    date,
    postingPeriod: date.slice(0, 7),
    functionalCurrency: 'USD',
    description: `${rule} on ${date}`,
    source: { kind: 'run', id: `${rule}:${date}` },
    rule,
    ruleVersion: 1,
    reversalOf: null,
    legs,
    ...extra,
  };
}

const invoice = (date: string, amount: bigint, contractId = 'K-1') =>
  entry('invoice', date, [
    leg('1210', 'debit', amount, { contractId }),
    leg('2400', 'credit', amount, { contractId }),
  ]);
const recognition = (date: string, amount: bigint, contractId = 'K-1') =>
  entry('recognition', date, [
    leg('2400', 'debit', amount, { contractId }),
    leg('4000', 'credit', amount, { contractId }),
  ]);

// ---------------------------------------------------------------------------------------------
// Checks shared by the worked examples and the property
// ---------------------------------------------------------------------------------------------

/** Every line: opening + movements = closing (per the account's formula), and lines chain. */
function expectLineIdentities(report: RollForwardReport): void {
  const sign = report.account === '2400' ? 1n : -1n;
  const previous = new Map<string, RollForwardReport['lines'][number]>();
  for (const line of report.lines) {
    for (const a of [line.transaction, line.functional]) {
      expect(
        a.openingMinor + sign * (a.billedMinor - a.recognizedMinor) - a.refundsMinor + a.otherMinor,
      ).toBe(a.closingMinor);
    }
    const key = `${line.group}|${line.currency}`;
    const before = previous.get(key);
    if (before) {
      expect(nextMonth(before.period)).toBe(line.period);
      expect(line.transaction.openingMinor).toBe(before.transaction.closingMinor);
      expect(line.functional.openingMinor).toBe(before.functional.closingMinor);
    } else {
      expect(line.period).toBe(report.from);
    }
    previous.set(key, line);
  }
  for (const line of previous.values()) expect(line.period).toBe(report.to);
  const periods = months(report.from, report.to);
  expect(report.totals.map((t) => t.period)).toEqual(periods);
  for (const total of report.totals) {
    const own = report.lines.filter((l) => l.period === total.period);
    for (const field of [
      'openingMinor',
      'billedMinor',
      'recognizedMinor',
      'refundsMinor',
      'otherMinor',
      'closingMinor',
    ] as const) {
      expect(total.functional[field]).toBe(own.reduce((s, l) => s + l.functional[field], 0n));
    }
  }
}

/** Openings and closings equal independent folds; waterfall and trial balance tie to them. */
function expectTies(entries: readonly JournalEntry[], from: string, to: string): void {
  const range = { from, to };
  const reports = {
    '2400': rollForward(entries, { ...range, account: '2400' }),
    unbilled: rollForward(entries, { ...range, account: 'unbilled' }),
  } as const;
  for (const account of ['2400', 'unbilled'] as const) {
    const report = reports[account];
    expectLineIdentities(report);
    const opening = fold(entries, account, (p) => p < from);
    const currencies = new Set(report.lines.map((l) => l.currency));
    for (const period of months(from, to)) {
      const through = fold(entries, account, (p) => p <= period);
      const moved = fold(entries, account, (p) => p === period);
      for (const [currency, balance] of through) {
        const line = report.lines.find((l) => l.period === period && l.currency === currency);
        if (!line) {
          // No line: nothing there at the start, and nothing moved in the range.
          expect(balance).toEqual({ tx: 0n, fn: 0n });
          expect(moved.get(currency) ?? { tx: 0n, fn: 0n }).toEqual({ tx: 0n, fn: 0n });
          continue;
        }
        expect(line.transaction.closingMinor).toBe(balance.tx);
        expect(line.functional.closingMinor).toBe(balance.fn);
      }
    }
    for (const currency of currencies) {
      const first = report.lines.find((l) => l.period === from && l.currency === currency);
      expect(first?.transaction.openingMinor).toBe(opening.get(currency)?.tx ?? 0n);
      expect(first?.functional.openingMinor).toBe(opening.get(currency)?.fn ?? 0n);
    }
  }

  // The waterfall: opening, bookings, releases and remaining tie to the 2400 roll-forward.
  const fall = waterfall(entries, range);
  const gross = grossDeferred(entries, (p) => p >= from && p <= to);
  const deferred = reports['2400'];
  for (const currency of new Set(deferred.lines.map((l) => l.currency))) {
    const first = deferred.lines.find((l) => l.period === from && l.currency === currency);
    const last = deferred.lines.find((l) => l.period === to && l.currency === currency);
    const c = fall.currencies.find((x) => x.currency === currency);
    if (!c) {
      expect(first?.transaction.openingMinor).toBe(0n);
      expect(last?.transaction.closingMinor).toBe(0n);
      continue;
    }
    expect(c.openingMinor).toBe(first?.transaction.openingMinor);
    expect(c.closingMinor).toBe(last?.transaction.closingMinor);
    expect(c.rows.reduce((s, r) => s + r.remainingMinor, 0n)).toBe(c.closingMinor);
    expect(c.bookedMinor).toBe(gross.get(currency)?.credits ?? 0n);
    expect(c.releasedMinor).toBe(gross.get(currency)?.debits ?? 0n);
    for (const row of c.rows) {
      expect(row.remainingMinor).toBe(row.bookedMinor - row.releasedMinor);
      expect(row.releases.reduce((s, r) => s + r.amountMinor, 0n)).toBe(row.releasedMinor);
      // Released in a later month (or the same), never before it was booked.
      if (row.bookedPeriod !== null)
        for (const r of row.releases) expect(r.period >= row.bookedPeriod).toBe(true);
    }
    for (const { period, amountMinor } of c.releasedByPeriod) {
      const debits = grossDeferred(entries, (p) => p === period).get(currency)?.debits ?? 0n;
      expect(amountMinor).toBe(debits);
    }
  }

  // The trial balance at the last day of `to`: zero, and its 2400 / 1230+1240 are the closings.
  const tb = trialBalance(entries, lastDay(to));
  expect(tb.balanced).toBe(true);
  for (const total of tb.currencyTotals) expect(total.balanceMinor).toBe(0n);
  expect(tb.functionalTotals.balanceMinor).toBe(0n);
  expect(tb.functionalTotals.debitMinor).toBe(tb.functionalTotals.creditMinor);
  for (const account of ['2400', 'unbilled'] as const) {
    const sign = account === '2400' ? -1n : 1n;
    for (const line of reports[account].lines.filter((l) => l.period === to)) {
      const own = tb.lines.filter(
        (l) => ACCOUNTS_OF[account].includes(l.account) && l.currency === line.currency,
      );
      expect(sign * own.reduce((s, l) => s + l.balanceMinor, 0n)).toBe(
        line.transaction.closingMinor,
      );
      expect(sign * own.reduce((s, l) => s + l.functionalBalanceMinor, 0n)).toBe(
        line.functional.closingMinor,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Worked examples
// ---------------------------------------------------------------------------------------------

describe('roll-forwards of the worked examples', () => {
  it('WE-1: bills 120,000.00 a year into 2400 and releases it ratably, closing June at 60,493.15', () => {
    const { entries } = preview('we-1');
    const report = rollForward(entries, { from: '2025-01', to: '2027-12', account: '2400' });
    expect(report.functionalCurrency).toBe('USD');
    expect(report.formula).toBe('opening + billed − recognized − refunds + other = closing');
    expect(new Set(report.lines.map((l) => l.currency))).toEqual(new Set(['USD']));
    expect(report.lines).toHaveLength(36);
    const at = (period: string) => report.lines.find((l) => l.period === period)?.transaction;
    expect(at('2025-01')).toEqual({
      openingMinor: 0n,
      billedMinor: 12_000_000n,
      recognizedMinor: 1_019_178n,
      refundsMinor: 0n,
      otherMinor: 0n,
      closingMinor: 10_980_822n,
    });
    expect(at('2025-02')?.recognizedMinor).toBe(920_548n);
    expect(at('2025-06')?.closingMinor).toBe(6_049_315n);
    expect(at('2026-01')?.billedMinor).toBe(12_000_000n);
    expect(at('2027-12')?.closingMinor).toBe(0n);
    const sum = (f: 'billedMinor' | 'recognizedMinor') =>
      report.lines.reduce((s, l) => s + l.transaction[f], 0n);
    expect(sum('billedMinor')).toBe(36_000_000n);
    expect(sum('recognizedMinor')).toBe(36_000_000n);
    // USD is functional: both views agree.
    for (const line of report.lines) expect(line.functional).toEqual(line.transaction);
    // Nothing is ever recognized ahead of billing: no unbilled lines at all.
    const unbilled = rollForward(entries, { from: '2025-01', to: '2027-12', account: 'unbilled' });
    expect(unbilled.lines).toEqual([]);
    expect(unbilled.totals.every((t) => t.functional.closingMinor === 0n)).toBe(true);
    expectTies(entries, '2025-01', '2027-12');
    expectTies(entries, '2025-04', '2026-02');
  });

  it('WE-3: the back-loaded contract flips to an unbilled position in July and back on the next invoice', () => {
    const result = preview('we-3');
    const { entries } = result;
    const deferred = rollForward(entries, { from: '2025-01', to: '2027-12', account: '2400' });
    const unbilled = rollForward(entries, { from: '2025-01', to: '2027-12', account: 'unbilled' });
    expect(unbilled.formula).toBe('opening + recognized − billed − refunds + other = closing');
    expect(unbilled.accounts).toEqual(['1230', '1240']);
    const d = (p: string) => deferred.lines.find((l) => l.period === p)?.transaction;
    const u = (p: string) => unbilled.lines.find((l) => l.period === p)?.transaction;
    expect(d('2025-07')).toMatchObject({ recognizedMinor: 49_315n, closingMinor: 0n });
    expect(u('2025-07')).toMatchObject({ openingMinor: 0n, recognizedMinor: 969_863n });
    expect(u('2025-12')?.closingMinor).toBe(6_000_000n);
    // The 2026 invoice first clears the 60,000.00 unbilled, the rest is deferred.
    expect(u('2026-01')).toMatchObject({ billedMinor: 6_000_000n, closingMinor: 0n });
    expect(d('2026-01')?.billedMinor).toBe(6_000_000n);
    // Each month-end, the two roll-forwards are the contract's position (folded by the preview).
    for (const position of result.positions['B-1'] ?? []) {
      expect(d(position.period)?.closingMinor).toBe(position.deferredMinor);
      expect(u(position.period)?.closingMinor).toBe(position.unbilledMinor);
    }
    expect(result.positions['B-1']?.length).toBe(36);
    expectTies(entries, '2025-01', '2027-12');
    expectTies(entries, '2025-07', '2026-01');
  });

  it('WE-6: the pro-rata refund reverses the 9,041.10 still deferred, under refunds', () => {
    const { entries } = preview('we-6');
    const report = rollForward(entries, { from: '2025-03', to: '2025-05', account: '2400' });
    expect(report.lines.map((l) => l.transaction)).toEqual([
      {
        openingMinor: 1_006_027n,
        billedMinor: 0n,
        recognizedMinor: 101_917n,
        refundsMinor: 0n,
        otherMinor: 0n,
        closingMinor: 904_110n,
      },
      {
        openingMinor: 904_110n,
        billedMinor: 0n,
        recognizedMinor: 0n,
        refundsMinor: 904_110n,
        otherMinor: 0n,
        closingMinor: 0n,
      },
      {
        openingMinor: 0n,
        billedMinor: 0n,
        recognizedMinor: 0n,
        refundsMinor: 0n,
        otherMinor: 0n,
        closingMinor: 0n,
      },
    ]);
    const fall = waterfall(entries, { from: '2025-01', to: '2025-06' });
    expect(fall.currencies).toHaveLength(1);
    const [row] = fall.currencies[0]?.rows ?? [];
    expect(row).toMatchObject({
      kind: 'booked',
      bookedPeriod: '2025-01',
      bookedMinor: 1_200_000n,
      releasedMinor: 1_200_000n,
      refundedMinor: 904_110n,
      remainingMinor: 0n,
    });
    expect(row?.releases).toEqual([
      { period: '2025-01', amountMinor: 101_918n },
      { period: '2025-02', amountMinor: 92_055n },
      { period: '2025-03', amountMinor: 101_917n },
      { period: '2025-04', amountMinor: 904_110n },
    ]);
    expectTies(entries, '2025-01', '2025-12');
  });

  it('WE-7: EUR deferred revenue stays at its historical USD amount; receivables are remeasured', () => {
    const { entries } = preview('we-7');
    const report = rollForward(entries, { from: '2025-01', to: '2025-12', account: '2400' });
    expect(report.lines.every((l) => l.currency === 'EUR')).toBe(true);
    const jan = report.lines[0];
    expect(jan?.transaction).toMatchObject({ billedMinor: 10_000_000n, recognizedMinor: 849_315n });
    // Billed at the 1.0400 billing-date rate; released at that historical rate, never remeasured.
    expect(jan?.functional).toMatchObject({ billedMinor: 10_400_000n, recognizedMinor: 883_288n });
    expect(report.lines.every((l) => l.functional.otherMinor === 0n)).toBe(true);
    expect(report.lines.at(-1)?.functional.closingMinor).toBe(0n);
    expect(report.totals[0]?.functional).toEqual(jan?.functional);

    const january = trialBalance(entries, '2025-01-31');
    const line = (account: string, currency: string) =>
      january.lines.find((l) => l.account === account && l.currency === currency);
    // 97,000.00 EUR receivable carried at the 1.0500 month-end rate: 101,850.00 USD.
    expect(line('1210', 'EUR')).toMatchObject({
      balanceMinor: 9_700_000n,
      functionalBalanceMinor: 10_185_000n,
    });
    expect(line('7100', 'EUR')).toMatchObject({
      balanceMinor: 0n,
      functionalBalanceMinor: -97_000n,
    });
    expect(january.balanced).toBe(true);
    expect(january.accounts.find((a) => a.account === '2400')?.functionalBalanceMinor).toBe(
      -(10_400_000n - 883_288n),
    );

    // After the USD payout through FX clearing: both currencies and USD still sum to zero.
    const february = trialBalance(entries, '2025-02-28');
    expect(february.currencyTotals.map((t) => [t.currency, t.balanceMinor])).toEqual([
      ['EUR', 0n],
      ['USD', 0n],
    ]);
    expect(february.lines.find((l) => l.account === '1000')).toMatchObject({
      currency: 'USD',
      balanceMinor: 10_136_500n,
    });
    expect(february.lines.find((l) => l.account === '1210')?.functionalBalanceMinor).toBe(0n);
    expect(february.accounts.find((a) => a.account === '7100')?.functionalBalanceMinor).toBe(
      -48_500n,
    );
    expectTies(entries, '2025-01', '2025-12');
    expectTies(entries, '2025-02', '2025-03');
  });

  it('groups by contract: the groups of a period add up to the ungrouped line', () => {
    const entries = [...preview('we-1').entries, ...preview('we-3').entries];
    const range = { from: '2025-06', to: '2026-03' } as const;
    for (const account of ['2400', 'unbilled'] as const) {
      const seen: (string | null)[] = [];
      const grouped = rollForward(entries, {
        ...range,
        account,
        groupBy: (contractId) => {
          seen.push(contractId);
          return contractId === 'A-1' ? 'one' : 'three';
        },
      });
      expectLineIdentities(grouped);
      // The grouping is asked once per contract.
      expect(seen.length).toBe(new Set(seen).size);
      const plain = rollForward(entries, { ...range, account });
      for (const line of plain.lines) {
        const parts = grouped.lines.filter(
          (l) => l.period === line.period && l.currency === line.currency,
        );
        expect(parts.reduce((s, l) => s + l.transaction.closingMinor, 0n)).toBe(
          line.transaction.closingMinor,
        );
        expect(parts.reduce((s, l) => s + l.transaction.billedMinor, 0n)).toBe(
          line.transaction.billedMinor,
        );
        expect(parts.reduce((s, l) => s + l.functional.recognizedMinor, 0n)).toBe(
          line.functional.recognizedMinor,
        );
      }
      expect(grouped.totals).toEqual(plain.totals);
    }
    const byGroup = rollForward(entries, {
      ...range,
      account: '2400',
      groupBy: (id) => (id === 'A-1' ? 'one' : 'three'),
    });
    expect(new Set(byGroup.lines.map((l) => l.group))).toEqual(new Set(['one', 'three']));
    expect(byGroup.lines.find((l) => l.group === 'three' && l.period === '2025-07')).toMatchObject({
      transaction: { recognizedMinor: 49_315n, closingMinor: 0n },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-built ledgers: classification, posting periods, FIFO, limits
// ---------------------------------------------------------------------------------------------

describe('roll-forward classification', () => {
  it('files each rule in its column, reversals as negatives and anything else under other', () => {
    const bill = invoice('2025-01-05', 1_000n);
    const entries = [
      bill,
      recognition('2025-01-31', 100n),
      reverseEntry(bill, {
        entryId: 'je_rev',
        date: '2025-02-10',
        postingPeriod: '2025-02',
        description: 'reversed',
      }),
      entry('refund', '2025-02-11', [leg('2400', 'debit', 30n), leg('2450', 'credit', 30n)]),
      entry('true-up', '2025-02-12', [leg('2400', 'credit', 7n), leg('4000', 'debit', 7n)]),
      // A downward revision restores deferred revenue: a negative recognition.
      entry('recognition', '2025-02-28', [leg('2400', 'credit', 5n), leg('4000', 'debit', 5n)]),
    ];
    const report = rollForward(entries, { from: '2025-01', to: '2025-02', account: '2400' });
    expect(report.lines.map((l) => l.transaction)).toEqual([
      {
        openingMinor: 0n,
        billedMinor: 1_000n,
        recognizedMinor: 100n,
        refundsMinor: 0n,
        otherMinor: 0n,
        closingMinor: 900n,
      },
      {
        openingMinor: 900n,
        billedMinor: -1_000n,
        recognizedMinor: -5n,
        refundsMinor: 30n,
        otherMinor: 7n,
        closingMinor: -118n,
      },
    ]);
    expectLineIdentities(report);
  });

  it('rolls 1230 and 1240 forward together: accruals, billings, FX remeasurement in functional only', () => {
    const eur = { currency: 'EUR' };
    const entries = [
      entry('usage-accrual', '2025-03-31', [
        leg('1230', 'debit', 1_000n, { ...eur, functional: 1_100n }),
        leg('4100', 'credit', 1_000n, { ...eur, functional: 1_100n }),
      ]),
      entry('recognition', '2025-03-31', [
        leg('1240', 'debit', 500n, { ...eur, functional: 550n }),
        leg('4000', 'credit', 500n, { ...eur, functional: 550n }),
      ]),
      entry('fx-remeasurement', '2025-03-31', [
        leg('1230', 'debit', 0n, { ...eur, functional: 20n }),
        leg('7100', 'credit', 0n, { ...eur, functional: 20n }),
      ]),
      entry('usage-invoice', '2025-04-03', [
        leg('1210', 'debit', 1_000n, { ...eur, functional: 1_150n }),
        leg('1230', 'credit', 1_000n, { ...eur, functional: 1_120n }),
        leg('7100', 'credit', 0n, { ...eur, functional: 30n }),
      ]),
    ];
    const report = rollForward(entries, { from: '2025-03', to: '2025-04', account: 'unbilled' });
    expect(report.lines).toEqual([
      {
        period: '2025-03',
        group: 'all',
        currency: 'EUR',
        transaction: {
          openingMinor: 0n,
          billedMinor: 0n,
          recognizedMinor: 1_500n,
          refundsMinor: 0n,
          otherMinor: 0n,
          closingMinor: 1_500n,
        },
        functional: {
          openingMinor: 0n,
          billedMinor: 0n,
          recognizedMinor: 1_650n,
          refundsMinor: 0n,
          otherMinor: 20n,
          closingMinor: 1_670n,
        },
      },
      {
        period: '2025-04',
        group: 'all',
        currency: 'EUR',
        transaction: {
          openingMinor: 1_500n,
          billedMinor: 1_000n,
          recognizedMinor: 0n,
          refundsMinor: 0n,
          otherMinor: 0n,
          closingMinor: 500n,
        },
        functional: {
          openingMinor: 1_670n,
          billedMinor: 1_120n,
          recognizedMinor: 0n,
          refundsMinor: 0n,
          otherMinor: 0n,
          closingMinor: 550n,
        },
      },
    ]);
    expectTies(entries, '2025-03', '2025-04');
  });

  it('reports by posting period: a late entry moves the month it posts in, not the month it is dated', () => {
    const late = invoice('2025-01-20', 400n);
    const entries = [
      invoice('2025-01-05', 1_000n),
      { ...late, postingPeriod: '2025-03' },
      recognition('2025-02-28', 100n),
    ];
    const report = rollForward(entries, { from: '2025-01', to: '2025-03', account: '2400' });
    expect(report.lines.map((l) => l.transaction.billedMinor)).toEqual([1_000n, 0n, 400n]);
    // The trial balance counts it from the first day of its posting period.
    const balanceOf2400 = (asOf: string) =>
      trialBalance(entries, asOf).lines.find((l) => l.account === '2400')?.balanceMinor;
    expect(balanceOf2400('2025-01-31')).toBe(-1_000n);
    expect(balanceOf2400('2025-02-28')).toBe(-900n);
    expect(balanceOf2400('2025-03-01')).toBe(-1_300n);
    expect(trialBalance(entries, '2025-02-28').entries).toBe(2);
    expectTies(entries, '2025-01', '2025-03');
    expectTies(entries, '2025-02', '2025-02');
  });

  it('carries the history before `from` as the opening, and ignores what posts after `to`', () => {
    const entries = [
      invoice('2024-11-02', 900n),
      recognition('2024-12-31', 300n),
      recognition('2025-01-31', 300n),
      recognition('2025-02-28', 300n),
    ];
    const report = rollForward(entries, { from: '2025-01', to: '2025-01', account: '2400' });
    expect(report.lines).toHaveLength(1);
    expect(report.lines[0]?.transaction).toMatchObject({
      openingMinor: 600n,
      recognizedMinor: 300n,
      closingMinor: 300n,
    });
    // A key whose balance was zero before the range and does not move in it has no line.
    expect(rollForward(entries, { from: '2025-03', to: '2025-04', account: '2400' }).lines).toEqual(
      [],
    );
  });

  it('refuses a reversed or too long range, too many entries, or mixed functional currencies', () => {
    const code = (work: () => unknown) => {
      try {
        work();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as InvalidInputError).code;
      }
      return 'no error';
    };
    const one = [invoice('2025-01-05', 10n)];
    expect(code(() => rollForward(one, { from: '2025-02', to: '2025-01', account: '2400' }))).toBe(
      'invalid_range',
    );
    expect(code(() => waterfall(one, { from: '2025-13', to: '2026-01' }))).toBe('invalid_period');
    const tooLong = addMonths('2020-01-01', REPORT_PERIODS_MAX).slice(0, 7);
    expect(code(() => waterfall(one, { from: '2020-01', to: tooLong }))).toBe('range_too_long');
    expect(
      rollForward(one, {
        from: '2020-01',
        to: addMonths('2020-01-01', REPORT_PERIODS_MAX - 1).slice(0, 7),
        account: '2400',
      }).totals,
    ).toHaveLength(REPORT_PERIODS_MAX);
    const many = new Array<JournalEntry>(REPORT_ENTRIES_MAX + 1).fill(one[0] as JournalEntry);
    expect(code(() => trialBalance(many, '2025-01-31'))).toBe('too_many_entries');
    expect(code(() => journalCsv(many))).toBe('too_many_entries');
    const mixed = [...one, { ...invoice('2025-01-06', 5n), functionalCurrency: 'EUR' }];
    expect(
      code(() => rollForward(mixed, { from: '2025-01', to: '2025-01', account: '2400' })),
    ).toBe('mixed_functional_currency');
    expect(code(() => trialBalance(one, '2025-02-30'))).toBe('invalid_date');
  });
});

describe('waterfall', () => {
  it('releases the oldest booking first, per contract, with what remains', () => {
    const entries = [
      invoice('2025-01-01', 100n),
      invoice('2025-01-01', 1_000n, 'K-2'),
      invoice('2025-03-01', 50n),
      recognition('2025-02-28', 60n),
      recognition('2025-02-28', 10n, 'K-2'),
      recognition('2025-04-30', 70n),
    ];
    const fall = waterfall(entries, { from: '2025-01', to: '2025-04' });
    expect(fall.periods).toEqual(['2025-01', '2025-02', '2025-03', '2025-04']);
    const usd = fall.currencies[0];
    expect(usd?.rows).toEqual([
      {
        kind: 'booked',
        bookedPeriod: '2025-01',
        bookedMinor: 1_100n,
        releases: [
          { period: '2025-02', amountMinor: 70n },
          { period: '2025-04', amountMinor: 40n },
        ],
        releasedMinor: 110n,
        refundedMinor: 0n,
        remainingMinor: 990n,
      },
      {
        kind: 'booked',
        bookedPeriod: '2025-03',
        bookedMinor: 50n,
        releases: [{ period: '2025-04', amountMinor: 30n }],
        releasedMinor: 30n,
        refundedMinor: 0n,
        remainingMinor: 20n,
      },
    ]);
    expect(usd?.releasedByPeriod.map((r) => r.amountMinor)).toEqual([0n, 70n, 0n, 70n]);
    expectTies(entries, '2025-01', '2025-04');

    // Starting later: what was booked before and still deferred is one opening row.
    const later = waterfall(entries, { from: '2025-03', to: '2025-04' });
    expect(later.currencies[0]?.rows[0]).toEqual({
      kind: 'opening',
      bookedPeriod: null,
      bookedMinor: 1_030n,
      releases: [{ period: '2025-04', amountMinor: 40n }],
      releasedMinor: 40n,
      refundedMinor: 0n,
      remainingMinor: 990n,
    });
    expectTies(entries, '2025-03', '2025-04');
  });

  it('books before it releases on the same day, whatever the input order', () => {
    const entries = [recognition('2025-05-31', 40n), invoice('2025-05-31', 100n)];
    const fall = waterfall(entries, { from: '2025-05', to: '2025-05' });
    expect(fall.currencies[0]?.rows).toEqual([
      {
        kind: 'booked',
        bookedPeriod: '2025-05',
        bookedMinor: 100n,
        releases: [{ period: '2025-05', amountMinor: 40n }],
        releasedMinor: 40n,
        refundedMinor: 0n,
        remainingMinor: 60n,
      },
    ]);
  });

  it('shows a release with nothing booked as unmatched, and still ties', () => {
    const entries = [
      recognition('2025-01-31', 25n),
      invoice('2025-02-01', 100n),
      recognition('2025-03-31', 10n),
    ];
    const fall = waterfall(entries, { from: '2025-01', to: '2025-03' });
    const rows = fall.currencies[0]?.rows ?? [];
    expect(rows.map((r) => [r.kind, r.bookedMinor, r.releasedMinor, r.remainingMinor])).toEqual([
      ['booked', 100n, 10n, 90n],
      ['unmatched', 0n, 25n, -25n],
    ]);
    expect(fall.currencies[0]?.closingMinor).toBe(65n);
    expectTies(entries, '2025-01', '2025-03');
    // Before the range, the unmatched release is part of the opening.
    const later = waterfall(entries, { from: '2025-03', to: '2025-03' });
    expect(later.currencies[0]?.openingMinor).toBe(75n);
    expect(later.currencies[0]?.rows.map((r) => [r.kind, r.bookedMinor])).toEqual([
      ['opening', 100n],
      ['unmatched', -25n],
    ]);
    expectTies(entries, '2025-03', '2025-03');
  });
});

describe('trial balance', () => {
  it('sums every account per currency, zero in total, with names and functional balances', () => {
    const { entries } = preview('we-1');
    const tb = trialBalance(entries, '2025-06-30');
    expect(tb.functionalCurrency).toBe('USD');
    expect(tb.entries).toBe(entries.filter((e) => e.date <= '2025-06-30').length);
    expect(tb.lines.map((l) => l.account)).toEqual(['1210', '2400', '4000', '5100']);
    expect(tb.lines.find((l) => l.account === '2400')).toEqual({
      account: '2400',
      accountName: 'Deferred revenue',
      currency: 'USD',
      debitMinor: 12_000_000n - 6_049_315n,
      creditMinor: 12_000_000n,
      balanceMinor: -6_049_315n,
      functionalDebitMinor: 12_000_000n - 6_049_315n,
      functionalCreditMinor: 12_000_000n,
      functionalBalanceMinor: -6_049_315n,
    });
    expect(tb.lines.find((l) => l.account === '1210')?.balanceMinor).toBe(12_000_000n - 360_000n);
    expect(tb.currencyTotals).toEqual([
      {
        currency: 'USD',
        debitMinor: tb.functionalTotals.debitMinor,
        creditMinor: tb.functionalTotals.debitMinor,
        balanceMinor: 0n,
      },
    ]);
    expect(tb.balanced).toBe(true);
    expect(trialBalance([], '2025-01-01')).toMatchObject({
      functionalCurrency: null,
      entries: 0,
      lines: [],
      balanced: true,
    });
  });

  it('says so when the entries do not balance', () => {
    const broken = entry('manual', '2025-01-02', [
      leg('1000', 'debit', 5n),
      leg('4000', 'credit', 4n),
    ]);
    const tb = trialBalance([broken], '2025-01-31');
    expect(tb.balanced).toBe(false);
    expect(tb.currencyTotals[0]?.balanceMinor).toBe(1n);
  });
});

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

describe('CSV', () => {
  it('quotes fields per RFC 4180 only when they need it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(null)).toBe('');
    expect(csvField(-12n)).toBe('-12');
    expect(
      csvOf([
        ['a', 'b'],
        ['1,5', null],
      ]),
    ).toBe('a,b\r\n"1,5",\r\n');
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 5 }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        (rows) => {
          expect(parseCsv(csvOf(rows))).toEqual(rows);
        },
      ),
      { numRuns: 100, seed: 7 },
    );
  });

  it('exports one line per leg with exact amounts in each currency exponent and escaped descriptions', () => {
    const tricky = 'Refund, "partial"\nsecond line';
    const entries = [
      entry(
        'invoice',
        '2025-03-02',
        [
          leg('1210', 'debit', 1_234_567n, {
            currency: 'JPY',
            functional: 823_045n,
            contractId: 'ct_jp',
          }),
          leg('2400', 'credit', 1_234_567n, {
            currency: 'JPY',
            functional: 823_045n,
            contractId: 'ct_jp',
          }),
        ],
        { description: tricky },
      ),
      entry('fx-remeasurement', '2025-03-31', [
        leg('1210', 'debit', 0n, { currency: 'KWD', functional: 7n, contractId: null }),
        leg('7100', 'credit', 0n, { currency: 'KWD', functional: 7n, contractId: null }),
      ]),
      entry('invoice', '2025-02-28', [
        leg('1210', 'debit', 1_005n, { currency: 'KWD', functional: 3_270n }),
        leg('2400', 'credit', 1_005n, { currency: 'KWD', functional: 3_270n }),
      ]),
    ];
    const text = journalCsv(entries);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...JOURNAL_CSV_HEADER]);
    expect(rows[0]?.join(',')).toBe(
      'date,period,entry_id,account,account_name,debit,credit,currency,functional_debit,functional_credit,functional_currency,contract_id,source,rule,description',
    );
    const body = rows.slice(1);
    expect(body).toHaveLength(entries.reduce((n, e) => n + e.legs.length, 0));
    for (const row of body) expect(row).toHaveLength(JOURNAL_CSV_HEADER.length);
    // Ordered by posting period and date.
    expect(body.map((r) => r[0])).toEqual([
      '2025-02-28',
      '2025-02-28',
      '2025-03-02',
      '2025-03-02',
      '2025-03-31',
      '2025-03-31',
    ]);
    const exponent: Record<string, number> = { JPY: 0, KWD: 3, USD: 2 };
    const byId = new Map(entries.map((e) => [e.entryId, e]));
    const seen = new Map<string, number>();
    for (const row of body) {
      const [
        date,
        period,
        entryId,
        account,
        name,
        debit,
        credit,
        currency,
        fd,
        fcr,
        fcur,
        contract,
        source,
        rule,
        description,
      ] = row as string[];
      const original = byId.get(entryId ?? '');
      expect(original).toBeDefined();
      const index = seen.get(entryId ?? '') ?? 0;
      seen.set(entryId ?? '', index + 1);
      const l = original?.legs[index];
      expect([date, period, account, currency, rule, description]).toEqual([
        original?.date,
        original?.postingPeriod,
        l?.account,
        l?.currency,
        original?.rule,
        original?.description,
      ]);
      expect(name).toBe(
        {
          '1210': 'Marketplace receivable – AWS',
          '2400': 'Deferred revenue',
          '7100': 'FX gain/loss',
        }[account ?? ''],
      );
      expect(minorOf(debit ?? '', exponent[currency ?? ''] ?? -1)).toBe(l?.debitMinor);
      expect(minorOf(credit ?? '', exponent[currency ?? ''] ?? -1)).toBe(l?.creditMinor);
      expect(minorOf(fd ?? '', 2)).toBe(l?.functionalDebitMinor);
      expect(minorOf(fcr ?? '', 2)).toBe(l?.functionalCreditMinor);
      expect(fcur).toBe('USD');
      expect(contract).toBe(l?.contractId ?? '');
      expect(source).toBe(`${original?.source.kind}:${original?.source.id}`);
    }
    expect(text).toContain('1234567,0,JPY,8230.45,0.00,USD');
    expect(text).toContain('1.005,0.000,KWD,32.70');
    expect(text).toContain(`"Refund, ""partial""\nsecond line"\r\n`);
    expect(journalCsv([])).toBe(`${JOURNAL_CSV_HEADER.join(',')}\r\n`);
  });

  it('writes the reports as CSV with the same figures', () => {
    const { entries } = preview('we-7');
    const rf = rollForward(entries, { from: '2025-01', to: '2025-02', account: '2400' });
    const rfRows = parseCsv(rollForwardCsv(rf));
    expect(rfRows[0]).toEqual([
      'period',
      'group',
      'currency',
      'opening',
      'billed',
      'recognized',
      'refunds',
      'other',
      'closing',
      'functional_currency',
      'functional_opening',
      'functional_billed',
      'functional_recognized',
      'functional_refunds',
      'functional_other',
      'functional_closing',
    ]);
    expect(rfRows[1]).toEqual([
      '2025-01',
      'all',
      'EUR',
      '0.00',
      '100000.00',
      '8493.15',
      '0.00',
      '0.00',
      '91506.85',
      'USD',
      '0.00',
      '104000.00',
      '8832.88',
      '0.00',
      '0.00',
      '95167.12',
    ]);
    const fall = waterfall(entries, { from: '2025-01', to: '2025-03' });
    const wfRows = parseCsv(waterfallCsv(fall));
    expect(wfRows[0]).toEqual([
      'currency',
      'booked_period',
      'kind',
      'booked',
      '2025-01',
      '2025-02',
      '2025-03',
      'released',
      'remaining',
    ]);
    expect(wfRows[1]).toEqual([
      'EUR',
      '2025-01',
      'booked',
      '100000.00',
      '8493.15',
      '7671.23',
      '8493.15',
      '24657.53',
      '75342.47',
    ]);
    const tbRows = parseCsv(trialBalanceCsv(trialBalance(entries, '2025-01-31')));
    expect(tbRows.find((r) => r[0] === '1210')).toEqual([
      '1210',
      'Marketplace receivable – AWS',
      'EUR',
      '100000.00',
      '3000.00',
      '97000.00',
      'USD',
      '104970.00',
      '3120.00',
      '101850.00',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Random ledgers
// ---------------------------------------------------------------------------------------------

const BASE = '2024-02-01';

const contractArb = fc.record({
  marketplace: fc.constantFrom('aws' as const, 'azure' as const, 'gcp' as const),
  offerType: fc.constantFrom('public' as const, 'private' as const),
  eur: fc.boolean(),
  startOffset: fc.integer({ min: 0, max: 400 }),
  months: fc.integer({ min: 1, max: 30 }),
  price: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 500_000_000n })),
  installments: fc.array(
    fc.record({ at: fc.nat(100_000), weight: fc.integer({ min: 1, max: 10 }) }),
    { maxLength: 4 },
  ),
  usage: fc.array(
    fc.record({ at: fc.nat(100_000), quantity: fc.integer({ min: 0, max: 5_000_000 }) }),
    { maxLength: 4 },
  ),
  change: fc.option(
    fc.oneof(
      fc.record({
        kind: fc.constant('refund' as const),
        at: fc.nat(100_000),
        permille: fc.integer({ min: 1, max: 1_000 }),
      }),
      fc.record({
        kind: fc.constant('cancel' as const),
        at: fc.nat(100_000),
        permille: fc.constant(0),
      }),
      fc.record({
        kind: fc.constant('amend' as const),
        at: fc.nat(100_000),
        permille: fc.integer({ min: 100, max: 2_000 }),
      }),
    ),
    { freq: 2 },
  ),
  payout: fc.option(
    fc.record({ at: fc.nat(100_000), amount: fc.bigInt({ min: 1n, max: 10n ** 8n }) }),
    { freq: 3 },
  ),
});
type RawContract = typeof contractArb extends fc.Arbitrary<infer T> ? T : never;

function contractEvents(
  raw: RawContract,
  index: number,
): { events: ScenarioInput['events']; start: string; end: string } {
  const id = `R-${index + 1}`;
  const currency = raw.eur ? 'EUR' : 'USD';
  const start = addDays(BASE, raw.startOffset);
  const end = addMonths(start, raw.months);
  const days = Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000);
  const price = raw.eur && raw.price < 1_000_000n ? raw.price + 1_000_000n : raw.price;
  const dayAt = (at: number) => addDays(start, at % days);
  // Installments on distinct days, summing exactly to the price (cumulative split by weights).
  const dates = [...new Set(raw.installments.map((i) => dayAt(i.at)))].sort();
  const weights = raw.installments.slice(0, dates.length).map((i) => BigInt(i.weight));
  const total = weights.reduce((a, b) => a + b, 0n);
  let cumulative = 0n;
  let previous = 0n;
  const installments = dates.map((date, k) => {
    cumulative += weights[k] ?? 0n;
    const upTo = (price * cumulative) / total;
    const amount = upTo - previous;
    previous = upTo;
    return { date, amountMinor: String(amount) };
  });
  const events: ScenarioInput['events'] = [
    {
      type: 'ContractCreated',
      contractId: id,
      marketplace: raw.marketplace,
      offerType: raw.offerType,
      effectiveAt: start,
      currency,
      term: { start, end },
      totalMinor: String(price),
      installments,
      usageRates: [{ dimension: 'calls', unitPrice: '0.0025' }],
    },
    ...raw.usage.map((u) => ({
      type: 'UsageRecorded' as const,
      contractId: id,
      dimension: 'calls',
      quantity: String(u.quantity),
      usageTime: dayAt(u.at),
    })),
  ];
  const change = raw.change;
  if (change?.kind === 'refund') {
    events.push({
      type: 'RefundIssued',
      contractId: id,
      refundId: `${id}-refund`,
      effectiveAt: dayAt(change.at),
      amountMinor: String((price * BigInt(change.permille)) / 1_000n),
    });
  } else if (change?.kind === 'cancel' && days > 1) {
    events.push({
      type: 'ContractCancelled',
      contractId: id,
      effectiveAt: addDays(start, 1 + (change.at % (days - 1))),
    });
  } else if (change?.kind === 'amend' && days > 1) {
    const at = addDays(start, 1 + (change.at % (days - 1)));
    const tcv = (price * BigInt(change.permille)) / 1_000n;
    events.push({
      type: 'ContractAmended',
      contractId: id,
      effectiveAt: at,
      tcvMinor: String(tcv),
      installments: [{ date: at, amountMinor: String(tcv / 2n) }],
    });
  }
  if (raw.payout) {
    events.push({
      type: 'DisbursementReceived',
      contractId: id,
      disbursementId: `${id}-payout`,
      effectiveAt: dayAt(raw.payout.at),
      currency,
      amountMinor: String(raw.payout.amount),
    });
  }
  return { events, start, end };
}

const ledgerArb = fc
  .record({
    contracts: fc.array(contractArb, { minLength: 1, maxLength: 3 }),
    presentation: fc.constantFrom('gross' as const, 'net' as const),
    feePolicy: fc.constantFrom('expense_on_invoice' as const, 'amortize_with_revenue' as const),
    modification: fc.constantFrom('prospective' as const, 'cumulative_catch_up' as const),
    unbilledClassification: fc.constantFrom(
      'unbilled_receivable' as const,
      'contract_asset' as const,
    ),
    fx: fc.array(fc.integer({ min: 8_000, max: 13_000 }), { minLength: 2, maxLength: 6 }),
    asOfAt: fc.double({ min: 0, max: 1, noNaN: true }),
    rangeAt: fc.tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
    ),
  })
  .map((raw) => {
    const built = raw.contracts.map(contractEvents);
    const first = built.map((b) => b.start).sort()[0] ?? BASE;
    const last =
      built
        .map((b) => b.end)
        .sort()
        .at(-1) ?? BASE;
    const span = Math.round((Date.parse(addDays(last, 60)) - Date.parse(first)) / 86_400_000);
    const asOf = addDays(first, Math.floor(raw.asOfAt * span));
    const fxRates: ScenarioInput['fxRates'] = [];
    for (let month = 0; month < 72; month += 1) {
      const quote = raw.fx[month % raw.fx.length] ?? 10_000;
      fxRates.push({
        date: addMonths('2023-12-01', month),
        base: 'EUR',
        quote: 'USD',
        rate: `${Math.floor(quote / 10_000)}.${String(quote % 10_000).padStart(4, '0')}`,
      });
    }
    const scenario = ScenarioSchema.parse({
      asOf,
      functionalCurrency: 'USD',
      policies: {
        presentation: raw.presentation,
        feePolicy: raw.feePolicy,
        modification: raw.modification,
        unbilledClassification: raw.unbilledClassification,
      },
      fxRates,
      events: built.flatMap((b) => b.events),
    } satisfies ScenarioInput);
    // A range inside (or just around) the ledger's months.
    const periods = months(first.slice(0, 7), nextMonth(asOf.slice(0, 7)));
    const [a, b] = raw.rangeAt.map(
      (x) => periods[Math.floor(x * periods.length)] ?? first.slice(0, 7),
    );
    return {
      scenario,
      from: (a ?? '') < (b ?? '') ? (a ?? '') : (b ?? ''),
      to: (a ?? '') < (b ?? '') ? (b ?? '') : (a ?? ''),
    };
  });

describe('reports of random ledgers', () => {
  it('keep every roll-forward identity and tie waterfall and trial balance to them', () => {
    let withUnbilled = 0;
    let withFunctionalOther = 0;
    fc.assert(
      fc.property(ledgerArb, ({ scenario, from, to }) => {
        const { entries } = previewScenario(scenario);
        expectTies(entries, from, to);
        const unbilled = rollForward(entries, { from, to, account: 'unbilled' });
        if (unbilled.lines.some((l) => l.transaction.closingMinor !== 0n)) withUnbilled += 1;
        // A remeasured unbilled receivable shows as functional-only `other` over the whole ledger.
        if (
          entries.some(
            (e) => e.rule === 'fx-remeasurement' && e.legs.some((l) => l.account === '1230'),
          )
        ) {
          withFunctionalOther += 1;
          const periods = entries.map((e) => e.postingPeriod).sort();
          const whole = rollForward(entries, {
            from: periods[0] ?? from,
            to: periods.at(-1) ?? to,
            account: 'unbilled',
          });
          expect(whole.lines.some((l) => l.functional.otherMinor !== 0n)).toBe(true);
          expect(whole.lines.every((l) => l.transaction.otherMinor === 0n)).toBe(true);
        }
        // Grouping by contract partitions every line.
        const grouped = rollForward(entries, {
          from,
          to,
          account: '2400',
          groupBy: (id) => id ?? 'none',
        });
        expectLineIdentities(grouped);
        const plain = rollForward(entries, { from, to, account: '2400' });
        expect(grouped.totals).toEqual(plain.totals);
        for (const line of plain.lines) {
          const parts = grouped.lines.filter(
            (l) => l.period === line.period && l.currency === line.currency,
          );
          expect(parts.reduce((s, l) => s + l.transaction.closingMinor, 0n)).toBe(
            line.transaction.closingMinor,
          );
        }
        // The CSV journal holds every leg.
        expect(parseCsv(journalCsv(entries)).length - 1).toBe(
          entries.reduce((n, e) => n + e.legs.length, 0),
        );
      }),
      RUNS,
    );
    // The generator reaches the interesting cases.
    expect(withUnbilled).toBeGreaterThan(5);
    expect(withFunctionalOther).toBeGreaterThan(0);
  });
});
