/**
 * Finance reports over the journal (finance.md §3 and §4.5), as pure folds of journal entries:
 *
 * - roll-forwards of deferred revenue (2400) and, separately, of the unbilled position
 *   (1230 + 1240, rule 13), per posting period, group and transaction currency, with their
 *   functional-currency amounts: opening + movements = closing holds exactly on every line;
 * - the deferred-revenue waterfall: what was booked to 2400 each month and, first in first out
 *   per contract, in which later month it was released (recognition, refunds), with what remains;
 * - the trial balance at a date, per account and currency (zero per currency and in functional
 *   currency when every entry balances);
 * - the journal as CSV for an ERP import (RFC 4180), one line per leg.
 *
 * Entries belong to their posting period (rule 14), not to the month of their date. Every
 * function refuses inputs beyond a named limit instead of degrading.
 */
import { type CalendarDate, isCalendarDate, isPeriod, type Period, periodRange } from '../calendar';
import { InvalidInputError } from '../errors';
import { ACCOUNTS, type AccountCode, type JournalEntry, type JournalLeg } from '../ledger';
import { formatMajorAmount } from '../money';
import { RULE } from './book';

/** Journal entries one report folds: far above a month's ledger, far below a Lambda's memory. */
export const REPORT_ENTRIES_MAX = 100_000;
/** Posting periods one report spans: ten years of months. */
export const REPORT_PERIODS_MAX = 120;
/** Distinct (group, currency) lines per period of a roll-forward. */
export const REPORT_LINES_PER_PERIOD_MAX = 2_000;
/** Rows one CSV document may hold (a journal export is one row per leg). */
export const CSV_ROWS_MAX = REPORT_ENTRIES_MAX * 4;

// ---------------------------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------------------------

export interface PeriodRange {
  readonly from: Period;
  readonly to: Period;
}

/** The periods of a report range, oldest first; refuses a reversed or too long range. */
export function reportPeriods(range: PeriodRange): Period[] {
  if (!isPeriod(range.from) || !isPeriod(range.to)) {
    throw new InvalidInputError(
      'invalid_period',
      `A report range is two periods YYYY-MM (got ${range.from}..${range.to})`,
    );
  }
  if (range.from > range.to) {
    throw new InvalidInputError(
      'invalid_range',
      `The range starts (${range.from}) after it ends (${range.to})`,
    );
  }
  const periods = periodRange(range.from, range.to);
  if (periods.length > REPORT_PERIODS_MAX) {
    throw new InvalidInputError(
      'range_too_long',
      `A report spans at most ${REPORT_PERIODS_MAX} periods (got ${periods.length})`,
    );
  }
  return periods;
}

/** The entries' functional currency (null when there are none); refuses a mix, or too many. */
export function functionalCurrencyOf(entries: readonly JournalEntry[]): string | null {
  if (entries.length > REPORT_ENTRIES_MAX) {
    throw new InvalidInputError(
      'too_many_entries',
      `A report folds at most ${REPORT_ENTRIES_MAX} journal entries (got ${entries.length}); narrow the range`,
    );
  }
  let currency: string | null = null;
  for (const entry of entries) {
    if (currency === null) currency = entry.functionalCurrency;
    else if (entry.functionalCurrency !== currency) {
      throw new InvalidInputError(
        'mixed_functional_currency',
        `Entries in ${currency} and ${entry.functionalCurrency} cannot be reported together`,
      );
    }
  }
  return currency;
}

// ---------------------------------------------------------------------------------------------
// Roll-forward
// ---------------------------------------------------------------------------------------------

export type RollForwardAccount = '2400' | 'unbilled';

export const ROLL_FORWARD_ACCOUNTS: Readonly<Record<RollForwardAccount, readonly AccountCode[]>> = {
  '2400': ['2400'],
  unbilled: ['1230', '1240'],
};

/**
 * The identity each line satisfies. Deferred revenue (a liability) grows with billings and is
 * released by recognition and refunds; the unbilled position (an asset) grows with revenue
 * recognized ahead of billing and is cleared by billings. `other` is any other movement, signed
 * (FX remeasurement of the unbilled receivable, true-ups, manual entries).
 */
export const ROLL_FORWARD_FORMULA: Readonly<Record<RollForwardAccount, string>> = {
  '2400': 'opening + billed − recognized − refunds + other = closing',
  unbilled: 'opening + recognized − billed − refunds + other = closing',
};

export interface RollForwardAmounts {
  readonly openingMinor: bigint;
  /** 2400: billings credited to deferred revenue. Unbilled: billings that cleared it. */
  readonly billedMinor: bigint;
  /** 2400: deferred revenue released. Unbilled: revenue recognized ahead of billing. */
  readonly recognizedMinor: bigint;
  readonly refundsMinor: bigint;
  /** Any other movement, signed as an increase of the balance. */
  readonly otherMinor: bigint;
  readonly closingMinor: bigint;
}

export interface RollForwardLine {
  readonly period: Period;
  readonly group: string;
  readonly currency: string;
  /** In `currency`. */
  readonly transaction: RollForwardAmounts;
  /** In the functional currency (historical amounts, remeasurements under `other`). */
  readonly functional: RollForwardAmounts;
}

export interface RollForwardReport {
  readonly account: RollForwardAccount;
  readonly accounts: AccountCode[];
  readonly from: Period;
  readonly to: Period;
  readonly functionalCurrency: string | null;
  readonly formula: string;
  /** Per period, group and transaction currency; every line's key appears in every period. */
  readonly lines: RollForwardLine[];
  /** Per period, every group and currency together, in the functional currency. */
  readonly totals: { readonly period: Period; readonly functional: RollForwardAmounts }[];
}

export interface RollForwardOptions extends PeriodRange {
  readonly account: RollForwardAccount;
  /** The group a contract's legs fall in (marketplace, product…); default: one group, "all". */
  readonly groupBy?: (contractId: string | null) => string;
}

export const ALL_GROUP = 'all';

type Column = 'billed' | 'recognized' | 'refunds' | 'other';

interface Movements {
  billed: bigint;
  recognized: bigint;
  refunds: bigint;
  other: bigint;
}

const BILLING_RULES: ReadonlySet<string> = new Set([RULE.invoice, RULE.usageInvoice]);
const RECOGNITION_RULES: ReadonlySet<string> = new Set([RULE.recognition, RULE.usageAccrual]);
const REFUND_RULES: ReadonlySet<string> = new Set([RULE.refund]);

/**
 * Where a leg's movement goes, and with which sign relative to the balance's increase. Anything
 * not recognized by rule lands in `other`, so the identity holds for every entry there is.
 */
function columnOf(account: RollForwardAccount, rule: string): { column: Column; sign: 1n | -1n } {
  if (BILLING_RULES.has(rule)) return { column: 'billed', sign: account === '2400' ? 1n : -1n };
  if (RECOGNITION_RULES.has(rule))
    return { column: 'recognized', sign: account === '2400' ? -1n : 1n };
  if (REFUND_RULES.has(rule)) return { column: 'refunds', sign: -1n };
  return { column: 'other', sign: 1n };
}

/** How much a leg increases the balance as the roll-forward presents it (credit for 2400). */
function increaseOf(account: RollForwardAccount, leg: JournalLeg): { tx: bigint; fn: bigint } {
  const tx = leg.debitMinor - leg.creditMinor;
  const fn = leg.functionalDebitMinor - leg.functionalCreditMinor;
  return account === '2400' ? { tx: -tx, fn: -fn } : { tx, fn };
}

const zeroMovements = (): Movements => ({ billed: 0n, recognized: 0n, refunds: 0n, other: 0n });

function netIncrease(account: RollForwardAccount, m: Movements): bigint {
  return account === '2400'
    ? m.billed - m.recognized - m.refunds + m.other
    : m.recognized - m.billed - m.refunds + m.other;
}

function amountsOf(opening: bigint, m: Movements, account: RollForwardAccount): RollForwardAmounts {
  return {
    openingMinor: opening,
    billedMinor: m.billed,
    recognizedMinor: m.recognized,
    refundsMinor: m.refunds,
    otherMinor: m.other,
    closingMinor: opening + netIncrease(account, m),
  };
}

function addMovements(target: Movements, source: Movements): void {
  target.billed += source.billed;
  target.recognized += source.recognized;
  target.refunds += source.refunds;
  target.other += source.other;
}

const KEY_SEPARATOR = '\u0000';

/** Orders strings by code unit (ids, ISO dates and periods): stable across locales. */
function byCode(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The roll-forward of deferred revenue (`account: '2400'`) or of the unbilled position
 * (`'unbilled'`: 1230 and 1240 together) over [from, to]. The opening of `from` folds every
 * entry posted before it, so pass the whole ledger up to `to` (later entries are ignored).
 */
export function rollForward(
  entries: readonly JournalEntry[],
  options: RollForwardOptions,
): RollForwardReport {
  const periods = reportPeriods(options);
  const functionalCurrency = functionalCurrencyOf(entries);
  const accounts = new Set<string>(ROLL_FORWARD_ACCOUNTS[options.account]);
  const groupOf = options.groupBy ?? (() => ALL_GROUP);
  const groups = new Map<string | null, string>();
  const opening = new Map<string, { tx: bigint; fn: bigint }>();
  // period → key → [transaction movements, functional movements]
  const moves = new Map<Period, Map<string, [Movements, Movements]>>();
  const keys = new Set<string>();

  for (const entry of entries) {
    if (entry.postingPeriod > options.to) continue;
    const before = entry.postingPeriod < options.from;
    const { column, sign } = columnOf(options.account, entry.rule);
    for (const leg of entry.legs) {
      if (!accounts.has(leg.account)) continue;
      let group = groups.get(leg.contractId);
      if (group === undefined) {
        group = groupOf(leg.contractId);
        groups.set(leg.contractId, group);
      }
      const key = `${group}${KEY_SEPARATOR}${leg.currency}`;
      const { tx, fn } = increaseOf(options.account, leg);
      if (before) {
        const current = opening.get(key) ?? { tx: 0n, fn: 0n };
        opening.set(key, { tx: current.tx + tx, fn: current.fn + fn });
        continue;
      }
      keys.add(key);
      const inPeriod = moves.get(entry.postingPeriod) ?? new Map<string, [Movements, Movements]>();
      moves.set(entry.postingPeriod, inPeriod);
      const pair = inPeriod.get(key) ?? [zeroMovements(), zeroMovements()];
      inPeriod.set(key, pair);
      pair[0][column] += sign * tx;
      pair[1][column] += sign * fn;
    }
  }
  for (const [key, balance] of opening) {
    if (balance.tx !== 0n || balance.fn !== 0n) keys.add(key);
  }
  if (keys.size > REPORT_LINES_PER_PERIOD_MAX) {
    throw new InvalidInputError(
      'too_many_lines',
      `A roll-forward shows at most ${REPORT_LINES_PER_PERIOD_MAX} group and currency lines per period (got ${keys.size})`,
    );
  }

  const ordered = [...keys].sort();
  const running = new Map(
    ordered.map((key) => [key, { ...(opening.get(key) ?? { tx: 0n, fn: 0n }) }]),
  );
  const lines: RollForwardLine[] = [];
  const totals: RollForwardReport['totals'] = [];
  for (const period of periods) {
    const inPeriod = moves.get(period);
    const total = zeroMovements();
    let totalOpening = 0n;
    for (const key of ordered) {
      const [group = '', currency = ''] = key.split(KEY_SEPARATOR);
      const balance = running.get(key) ?? { tx: 0n, fn: 0n };
      const [txMoves, fnMoves] = inPeriod?.get(key) ?? [zeroMovements(), zeroMovements()];
      const transaction = amountsOf(balance.tx, txMoves, options.account);
      const functional = amountsOf(balance.fn, fnMoves, options.account);
      lines.push({ period, group, currency, transaction, functional });
      totalOpening += balance.fn;
      addMovements(total, fnMoves);
      running.set(key, { tx: transaction.closingMinor, fn: functional.closingMinor });
    }
    totals.push({ period, functional: amountsOf(totalOpening, total, options.account) });
  }
  return {
    account: options.account,
    accounts: [...ROLL_FORWARD_ACCOUNTS[options.account]],
    from: options.from,
    to: options.to,
    functionalCurrency,
    formula: ROLL_FORWARD_FORMULA[options.account],
    lines,
    totals,
  };
}

// ---------------------------------------------------------------------------------------------
// Waterfall
// ---------------------------------------------------------------------------------------------

export interface WaterfallRelease {
  readonly period: Period;
  readonly amountMinor: bigint;
}

export interface WaterfallRow {
  /**
   * `opening`: balances booked before `from`, as they stood at its start; `booked`: credits to
   * 2400 posted in `bookedPeriod`; `unmatched`: releases that found nothing booked to release
   * (a contract's 2400 went into debit; the engine never does this).
   */
  readonly kind: 'opening' | 'booked' | 'unmatched';
  readonly bookedPeriod: Period | null;
  readonly bookedMinor: bigint;
  /** Released per later period within the range (non-zero ones, oldest first). */
  readonly releases: WaterfallRelease[];
  readonly releasedMinor: bigint;
  /** The part of `releasedMinor` released by refunds rather than recognition. */
  readonly refundedMinor: bigint;
  /** bookedMinor − releasedMinor. */
  readonly remainingMinor: bigint;
}

export interface WaterfallCurrency {
  readonly currency: string;
  /** The 2400 balance at the start of `from` (the roll-forward's opening). */
  readonly openingMinor: bigint;
  /** Credits to 2400 in the range. */
  readonly bookedMinor: bigint;
  /** Debits to 2400 in the range. */
  readonly releasedMinor: bigint;
  /** openingMinor + bookedMinor − releasedMinor = Σ rows' remainingMinor. */
  readonly closingMinor: bigint;
  readonly rows: WaterfallRow[];
  /** Released per period of the range (every period, zeros included). */
  readonly releasedByPeriod: WaterfallRelease[];
}

export interface WaterfallReport {
  readonly from: Period;
  readonly to: Period;
  readonly periods: Period[];
  /** Amounts are in each currency's own units (transaction currency). */
  readonly currencies: WaterfallCurrency[];
}

interface MutableRow {
  readonly kind: WaterfallRow['kind'];
  readonly bookedPeriod: Period | null;
  booked: bigint;
  readonly releases: Map<Period, bigint>;
  released: bigint;
  refunded: bigint;
}

interface Layer {
  readonly row: MutableRow;
  remaining: bigint;
}

/** Consumed layers a contract's queue keeps before it is compacted. */
const LAYERS_COMPACT_AT = 64;

interface ContractLayers {
  readonly layers: Layer[];
  head: number;
}

/** Net 2400 movement of an entry (credit positive), to process bookings before releases. */
function deferredNet(entry: JournalEntry): bigint {
  let net = 0n;
  for (const leg of entry.legs) if (leg.account === '2400') net += leg.creditMinor - leg.debitMinor;
  return net;
}

/**
 * Deferred revenue booked by month × released by later month, first in first out per contract
 * and currency. Entries are taken in posting order: posting period, date, bookings before
 * releases on the same day. Pass the whole ledger up to `to`: earlier bookings form the opening
 * row.
 */
export function waterfall(entries: readonly JournalEntry[], range: PeriodRange): WaterfallReport {
  const periods = reportPeriods(range);
  functionalCurrencyOf(entries);
  const relevant = entries
    .map((entry, index) => ({ entry, index, net: deferredNet(entry) }))
    .filter(
      ({ entry }) =>
        entry.postingPeriod <= range.to && entry.legs.some((leg) => leg.account === '2400'),
    )
    .sort(
      (a, b) =>
        byCode(a.entry.postingPeriod, b.entry.postingPeriod) ||
        byCode(a.entry.date, b.entry.date) ||
        (a.net > b.net ? -1 : a.net < b.net ? 1 : 0) ||
        a.index - b.index,
    );

  const perCurrency = new Map<string, { rows: Map<string, MutableRow>; booked: bigint }>();
  const fifo = new Map<string, ContractLayers>();
  const rowOf = (currency: string, kind: WaterfallRow['kind'], period: Period | null) => {
    const state = perCurrency.get(currency) ?? { rows: new Map<string, MutableRow>(), booked: 0n };
    perCurrency.set(currency, state);
    const key = kind === 'booked' ? (period ?? '') : kind;
    let row = state.rows.get(key);
    if (!row) {
      row = {
        kind,
        bookedPeriod: period,
        booked: 0n,
        releases: new Map(),
        released: 0n,
        refunded: 0n,
      };
      state.rows.set(key, row);
    }
    return { row, state };
  };

  for (const { entry } of relevant) {
    const period = entry.postingPeriod;
    const inRange = period >= range.from;
    const legs = entry.legs.filter((leg) => leg.account === '2400');
    // Credits first, so a same-entry booking is there to be released.
    legs.sort((a, b) => Number(b.creditMinor > 0n) - Number(a.creditMinor > 0n));
    for (const leg of legs) {
      const fifoKey = `${leg.contractId ?? ''}${KEY_SEPARATOR}${leg.currency}`;
      const contract = fifo.get(fifoKey) ?? { layers: [], head: 0 };
      fifo.set(fifoKey, contract);
      if (leg.creditMinor > 0n) {
        const { row, state } = rowOf(
          leg.currency,
          inRange ? 'booked' : 'opening',
          inRange ? period : null,
        );
        row.booked += leg.creditMinor;
        if (inRange) state.booked += leg.creditMinor;
        contract.layers.push({ row, remaining: leg.creditMinor });
        continue;
      }
      let left = leg.debitMinor;
      const release = (row: MutableRow, amount: bigint) => {
        if (amount === 0n) return;
        if (!inRange) {
          // Released before the range: what the opening row carries shrinks.
          row.booked -= amount;
          return;
        }
        row.releases.set(period, (row.releases.get(period) ?? 0n) + amount);
        row.released += amount;
        if (REFUND_RULES.has(entry.rule)) row.refunded += amount;
      };
      while (left > 0n && contract.head < contract.layers.length) {
        const layer = contract.layers[contract.head];
        if (!layer) break;
        const take = layer.remaining < left ? layer.remaining : left;
        layer.remaining -= take;
        left -= take;
        release(layer.row, take);
        if (layer.remaining === 0n) contract.head += 1;
      }
      if (left > 0n) release(rowOf(leg.currency, 'unmatched', null).row, left);
      // Drop consumed layers now and then, so a long ledger keeps a short queue.
      if (contract.head > LAYERS_COMPACT_AT) {
        contract.layers.splice(0, contract.head);
        contract.head = 0;
      }
    }
  }

  const order = { opening: 0, booked: 1, unmatched: 2 } as const;
  const currencies: WaterfallCurrency[] = [...perCurrency.entries()]
    .sort(([a], [b]) => byCode(a, b))
    .map(([currency, state]) => {
      const rows = [...state.rows.values()]
        .filter((row) => row.booked !== 0n || row.released !== 0n)
        .sort(
          (a, b) =>
            order[a.kind] - order[b.kind] || byCode(a.bookedPeriod ?? '', b.bookedPeriod ?? ''),
        )
        .map(
          (row): WaterfallRow => ({
            kind: row.kind,
            bookedPeriod: row.bookedPeriod,
            bookedMinor: row.booked,
            releases: [...row.releases.entries()]
              .filter(([, amount]) => amount !== 0n)
              .sort(([a], [b]) => byCode(a, b))
              .map(([period, amountMinor]) => ({ period, amountMinor })),
            releasedMinor: row.released,
            refundedMinor: row.refunded,
            remainingMinor: row.booked - row.released,
          }),
        );
      const opening = rows
        .filter((row) => row.kind !== 'booked')
        .reduce((sum, row) => sum + row.bookedMinor, 0n);
      const released = rows.reduce((sum, row) => sum + row.releasedMinor, 0n);
      const releasedByPeriod = periods.map((period) => ({
        period,
        amountMinor: rows.reduce(
          (sum, row) => sum + (row.releases.find((r) => r.period === period)?.amountMinor ?? 0n),
          0n,
        ),
      }));
      return {
        currency,
        openingMinor: opening,
        bookedMinor: state.booked,
        releasedMinor: released,
        closingMinor: opening + state.booked - released,
        rows,
        releasedByPeriod,
      };
    })
    .filter((c) => c.rows.length > 0);
  return { from: range.from, to: range.to, periods, currencies };
}

// ---------------------------------------------------------------------------------------------
// Trial balance
// ---------------------------------------------------------------------------------------------

export interface TrialBalanceLine {
  readonly account: AccountCode;
  readonly accountName: string;
  readonly currency: string;
  readonly debitMinor: bigint;
  readonly creditMinor: bigint;
  /** debitMinor − creditMinor (credit balances are negative). */
  readonly balanceMinor: bigint;
  readonly functionalDebitMinor: bigint;
  readonly functionalCreditMinor: bigint;
  readonly functionalBalanceMinor: bigint;
}

export interface TrialBalanceTotals {
  readonly debitMinor: bigint;
  readonly creditMinor: bigint;
  readonly balanceMinor: bigint;
}

export interface TrialBalanceReport {
  readonly asOf: CalendarDate;
  readonly functionalCurrency: string | null;
  readonly entries: number;
  /** Per account and transaction currency, by account number. */
  readonly lines: TrialBalanceLine[];
  /** Per account, every currency together, in the functional currency. */
  readonly accounts: {
    readonly account: AccountCode;
    readonly accountName: string;
    readonly functionalBalanceMinor: bigint;
  }[];
  /** Per transaction currency: zero balance when every entry balances. */
  readonly currencyTotals: (TrialBalanceTotals & { readonly currency: string })[];
  readonly functionalTotals: TrialBalanceTotals;
  /** Every currency total and the functional total is zero. */
  readonly balanced: boolean;
}

/**
 * The day an entry counts from: its date, or the first day of its posting period when it was
 * posted late (rule 14), so a month-end trial balance ties to that month's roll-forward.
 */
export function postedOn(entry: JournalEntry): CalendarDate {
  const periodStart = `${entry.postingPeriod}-01`;
  return entry.date > periodStart ? entry.date : periodStart;
}

/** Every account's balance per currency from the entries posted on or before `asOf`. */
export function trialBalance(
  entries: readonly JournalEntry[],
  asOf: CalendarDate,
): TrialBalanceReport {
  if (!isCalendarDate(asOf)) {
    throw new InvalidInputError('invalid_date', `Not a calendar date (YYYY-MM-DD): "${asOf}"`);
  }
  const functionalCurrency = functionalCurrencyOf(entries);
  const sums = new Map<
    string,
    { account: AccountCode; currency: string; d: bigint; c: bigint; fd: bigint; fc: bigint }
  >();
  let counted = 0;
  for (const entry of entries) {
    if (postedOn(entry) > asOf) continue;
    counted += 1;
    for (const leg of entry.legs) {
      const key = `${leg.account}${KEY_SEPARATOR}${leg.currency}`;
      const sum = sums.get(key) ?? {
        account: leg.account,
        currency: leg.currency,
        d: 0n,
        c: 0n,
        fd: 0n,
        fc: 0n,
      };
      sums.set(key, sum);
      sum.d += leg.debitMinor;
      sum.c += leg.creditMinor;
      sum.fd += leg.functionalDebitMinor;
      sum.fc += leg.functionalCreditMinor;
    }
  }
  const lines = [...sums.values()]
    .sort((a, b) => byCode(a.account, b.account) || byCode(a.currency, b.currency))
    .map(
      (s): TrialBalanceLine => ({
        account: s.account,
        accountName: ACCOUNTS[s.account],
        currency: s.currency,
        debitMinor: s.d,
        creditMinor: s.c,
        balanceMinor: s.d - s.c,
        functionalDebitMinor: s.fd,
        functionalCreditMinor: s.fc,
        functionalBalanceMinor: s.fd - s.fc,
      }),
    );
  const perAccount = new Map<AccountCode, bigint>();
  const perCurrency = new Map<string, { d: bigint; c: bigint }>();
  let fd = 0n;
  let fc = 0n;
  for (const line of lines) {
    perAccount.set(
      line.account,
      (perAccount.get(line.account) ?? 0n) + line.functionalBalanceMinor,
    );
    const total = perCurrency.get(line.currency) ?? { d: 0n, c: 0n };
    perCurrency.set(line.currency, { d: total.d + line.debitMinor, c: total.c + line.creditMinor });
    fd += line.functionalDebitMinor;
    fc += line.functionalCreditMinor;
  }
  const currencyTotals = [...perCurrency.entries()]
    .sort(([a], [b]) => byCode(a, b))
    .map(([currency, t]) => ({
      currency,
      debitMinor: t.d,
      creditMinor: t.c,
      balanceMinor: t.d - t.c,
    }));
  const functionalTotals = { debitMinor: fd, creditMinor: fc, balanceMinor: fd - fc };
  return {
    asOf,
    functionalCurrency,
    entries: counted,
    lines,
    accounts: [...perAccount.entries()].map(([account, balance]) => ({
      account,
      accountName: ACCOUNTS[account],
      functionalBalanceMinor: balance,
    })),
    currencyTotals,
    functionalTotals,
    balanced:
      functionalTotals.balanceMinor === 0n && currencyTotals.every((t) => t.balanceMinor === 0n),
  };
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

export type CsvCell = string | number | bigint | boolean | null;

/** RFC 4180: a field with a comma, a double quote, CR or LF is quoted, quotes doubled. */
export function csvField(value: CsvCell): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A CSV document (RFC 4180: CRLF line breaks, one ending the last record), the first row being
 * the header. Values are written as given: no spreadsheet-formula escaping, since an ERP import
 * must receive amounts such as "-12.50" unaltered.
 */
export function csvOf(rows: readonly (readonly CsvCell[])[]): string {
  if (rows.length > CSV_ROWS_MAX) {
    throw new InvalidInputError(
      'too_many_rows',
      `A CSV document holds at most ${CSV_ROWS_MAX} rows (got ${rows.length})`,
    );
  }
  return rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

export const JOURNAL_CSV_HEADER = [
  'date',
  'period',
  'entry_id',
  'account',
  'account_name',
  'debit',
  'credit',
  'currency',
  'functional_debit',
  'functional_credit',
  'functional_currency',
  'contract_id',
  'source',
  'rule',
  'description',
] as const;

/**
 * The journal for an ERP import: one line per leg, entries by posting period, date and id,
 * amounts as decimal major units with their currency's exponent (JPY 0, USD 2, KWD 3).
 */
export function journalCsv(entries: readonly JournalEntry[]): string {
  functionalCurrencyOf(entries);
  const ordered = [...entries].sort(
    (a, b) =>
      byCode(a.postingPeriod, b.postingPeriod) ||
      byCode(a.date, b.date) ||
      byCode(a.entryId, b.entryId),
  );
  const rows: CsvCell[][] = [[...JOURNAL_CSV_HEADER]];
  for (const entry of ordered) {
    for (const leg of entry.legs) {
      rows.push([
        entry.date,
        entry.postingPeriod,
        entry.entryId,
        leg.account,
        ACCOUNTS[leg.account],
        formatMajorAmount(leg.debitMinor, leg.currency),
        formatMajorAmount(leg.creditMinor, leg.currency),
        leg.currency,
        formatMajorAmount(leg.functionalDebitMinor, entry.functionalCurrency),
        formatMajorAmount(leg.functionalCreditMinor, entry.functionalCurrency),
        entry.functionalCurrency,
        leg.contractId,
        `${entry.source.kind}:${entry.source.id}`,
        entry.rule,
        entry.description,
      ]);
    }
  }
  return csvOf(rows);
}

/** A roll-forward as CSV: one row per line, transaction then functional amounts. */
export function rollForwardCsv(report: RollForwardReport): string {
  const functional = report.functionalCurrency;
  const columns = (a: RollForwardAmounts, currency: string | null) =>
    [
      a.openingMinor,
      a.billedMinor,
      a.recognizedMinor,
      a.refundsMinor,
      a.otherMinor,
      a.closingMinor,
    ].map((v) => (currency === null ? v.toString() : formatMajorAmount(v, currency)));
  const names = ['opening', 'billed', 'recognized', 'refunds', 'other', 'closing'];
  return csvOf([
    [
      'period',
      'group',
      'currency',
      ...names,
      'functional_currency',
      ...names.map((n) => `functional_${n}`),
    ],
    ...report.lines.map((line) => [
      line.period,
      line.group,
      line.currency,
      ...columns(line.transaction, line.currency),
      functional,
      ...columns(line.functional, functional),
    ]),
  ]);
}

/** A waterfall as CSV: one row per booking row, one column per period of the range. */
export function waterfallCsv(report: WaterfallReport): string {
  const rows: CsvCell[][] = [
    ['currency', 'booked_period', 'kind', 'booked', ...report.periods, 'released', 'remaining'],
  ];
  for (const c of report.currencies) {
    const money = (v: bigint) => formatMajorAmount(v, c.currency);
    for (const row of c.rows) {
      const byPeriod = new Map(row.releases.map((r) => [r.period, r.amountMinor]));
      rows.push([
        c.currency,
        row.bookedPeriod,
        row.kind,
        money(row.bookedMinor),
        ...report.periods.map((p) => money(byPeriod.get(p) ?? 0n)),
        money(row.releasedMinor),
        money(row.remainingMinor),
      ]);
    }
  }
  return csvOf(rows);
}

/** A trial balance as CSV: one row per account and currency. */
export function trialBalanceCsv(report: TrialBalanceReport): string {
  const functional = report.functionalCurrency;
  const fn = (v: bigint) => (functional === null ? v.toString() : formatMajorAmount(v, functional));
  return csvOf([
    [
      'account',
      'account_name',
      'currency',
      'debit',
      'credit',
      'balance',
      'functional_currency',
      'functional_debit',
      'functional_credit',
      'functional_balance',
    ],
    ...report.lines.map((l) => [
      l.account,
      l.accountName,
      l.currency,
      formatMajorAmount(l.debitMinor, l.currency),
      formatMajorAmount(l.creditMinor, l.currency),
      formatMajorAmount(l.balanceMinor, l.currency),
      functional,
      fn(l.functionalDebitMinor),
      fn(l.functionalCreditMinor),
      fn(l.functionalBalanceMinor),
    ]),
  ]);
}
