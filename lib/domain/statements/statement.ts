/**
 * Partner commission statements (issue 13; finance.md §5.2, rules 14/15, WE-8), as pure
 * functions: no I/O, no clock — `issuedAt` is an input.
 *
 * A statement covers one partner and one period (a month `YYYY-MM` or a quarter `YYYY-Qn`). It
 * is built from what the commission run stored (each month's state and lines) and from the
 * ledger (the journal entries those states name: releases and payouts; the 2100/2110 balances).
 * Its sections follow §5.2: header, opening carry-forward, earned lines with accelerator detail,
 * clawbacks and adjustments (each naming the line it reverses), caps, held lines with their
 * release condition, payable this period, payouts, closing balance.
 *
 * Two checks decide whether it may be issued; either failing throws StatementDoesNotTieError
 * (`statement_does_not_tie`), and the statement is not issued:
 * - the identity, per balance: opening + earned − clawed back (± released) − paid = closing,
 *   with every month's opening equal to the previous month's closing;
 * - the tie: the closing payable and held balances equal the ledger's 2100 and 2110 balances
 *   for the partner at the period end.
 *
 * Each statement carries a content hash chained to the partner's previous statement:
 * hash = sha256(canonical JSON of every field but `hash`, which includes `previousHash` and the
 * chain `sequence`). Canonical JSON sorts object keys and writes bigints as decimal strings, so
 * the hash depends on content only. `verifyStatementChain` finds a changed statement, a broken
 * link and a missing one.
 *
 * Customer names are masked on every statement: the first letter or digit of each word is kept,
 * every later letter or digit becomes "*", punctuation is kept and words are separated by one
 * space —
 * "Globex Corporation" → "G***** C**********". A missing name reads "unknown".
 */
import { comparePeriods, isPeriod, lastDayOfPeriod, type Period, periodStart } from '../calendar';
import {
  acceleratorOn,
  COMMISSION_RULE,
  type CommissionBalances,
  type CommissionLine,
  type CommissionLineStatus,
  quarterOf,
  quarterToDateCommission,
} from '../commission/engine';
import type { CommissionPlan, DealType, PayWhen } from '../commission/plan';
import { AgoraError, type ErrorDetail, InvalidInputError } from '../errors';
import { canonicalJson, deterministicId, sha256Hex } from '../ids';
import type { JournalEntry } from '../ledger';
import {
  formatMajorAmount,
  formatRational,
  isKnownCurrency,
  minorUnitsOf,
  multiplyRational,
  parseDecimal,
  type Rational,
  rational,
  sumRational,
} from '../money';

export const STATEMENT_SCHEMA_VERSION = 1;
/** Lines on one statement (a quarter of a partner's commission lines). */
export const STATEMENT_LINES_MAX = 30_000;
/** Journal entries a statement reads (those its months' states name). */
export const STATEMENT_ENTRIES_MAX = 5_000;
/** Statements one chain verification walks. */
export const STATEMENT_CHAIN_MAX = 10_000;
/** Characters of a customer name kept for masking (longer names are cut first). */
export const CUSTOMER_NAME_LENGTH_MAX = 256;
/** Digits after the point when a rate, uplift or share is shown. */
const PERCENT_DIGITS_MAX = 6;
/** Digits beyond the currency's of an exact (unrounded) amount, shown for recomputation. */
const EXACT_EXTRA_DIGITS = 4;

const QUARTER_PATTERN = /^(\d{4})-Q([1-4])$/;

// ---------------------------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------------------------

export type StatementPeriodKind = 'month' | 'quarter';

export interface StatementPeriod {
  /** '2025-09' or '2025-Q3'. */
  readonly id: string;
  readonly kind: StatementPeriodKind;
  /** The months it covers, ascending. */
  readonly months: readonly Period[];
  readonly from: string;
  readonly to: string;
}

export function isStatementPeriod(text: string): boolean {
  if (isPeriod(text)) return true;
  const match = QUARTER_PATTERN.exec(text);
  return match !== null && isPeriod(`${match[1]}-01`);
}

/** Parses '2025-09' or '2025-Q3' (months of the quarter: 07, 08, 09). */
export function statementPeriod(text: string): StatementPeriod {
  if (isPeriod(text)) {
    return {
      id: text,
      kind: 'month',
      months: [text],
      from: periodStart(text),
      to: lastDayOfPeriod(text),
    };
  }
  const match = QUARTER_PATTERN.exec(text);
  if (match === null || !isStatementPeriod(text)) {
    throw new InvalidInputError(
      'invalid_statement_period',
      `Not a statement period (YYYY-MM or YYYY-Qn): "${text.slice(0, 40)}"`,
    );
  }
  const year = match[1] ?? '';
  const first = (Number(match[2]) - 1) * 3 + 1;
  const months = [0, 1, 2].map((i) => `${year}-${String(first + i).padStart(2, '0')}`);
  const last = months[2] ?? '';
  return {
    id: text,
    kind: 'quarter',
    months,
    from: periodStart(months[0] ?? ''),
    to: lastDayOfPeriod(last),
  };
}

/** The months of a statement period. */
export function statementMonths(text: string): readonly Period[] {
  return statementPeriod(text).months;
}

/** Deterministic from (partner, period): the same statement always has the same id. */
export function statementIdFor(partnerId: string, periodId: string): string {
  return deterministicId('stmt', partnerId, statementPeriod(periodId).id);
}

// ---------------------------------------------------------------------------------------------
// Display helpers
// ---------------------------------------------------------------------------------------------

/** Minor units as a display amount with the currency's digits and thousands separators. */
export function formatAmount(amountMinor: bigint, currency: string): string {
  const plain = formatMajorAmount(amountMinor, currency);
  const negative = plain.startsWith('-');
  const body = negative ? plain.slice(1) : plain;
  const [whole = '', fraction] = body.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/**
 * Masks a customer name: per whitespace-separated word, the first letter or digit stays, every
 * later letter or digit becomes "*", other characters stay; words are joined by one space (line
 * breaks and runs of blanks collapse). Null, blank → "unknown".
 */
export function maskCustomer(name: string | null | undefined): string {
  const words = (name ?? '')
    .slice(0, CUSTOMER_NAME_LENGTH_MAX)
    .split(/\s+/u)
    .filter((word) => word !== '');
  if (words.length === 0) return 'unknown';
  return words
    .map((word) => {
      let kept = false;
      let out = '';
      for (const char of word) {
        if (/[\p{L}\p{N}]/u.test(char)) {
          out += kept ? '*' : char;
          kept = true;
        } else out += char;
      }
      return out;
    })
    .join(' ');
}

function percentDisplay(value: Rational): string {
  return formatRational(rational(value.num * 100n, value.den), PERCENT_DIGITS_MAX);
}

function exactDisplay(valueMinor: Rational, currency: string): string {
  const digits = minorUnitsOf(currency);
  return formatRational(
    rational(valueMinor.num, valueMinor.den * 10n ** BigInt(digits)),
    digits + EXACT_EXTRA_DIGITS,
  );
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

export type StatementCheck = 'identity' | 'ledger';

/** The statement's balances do not add up, or do not equal the ledger's: it is not issued. */
export class StatementDoesNotTieError extends AgoraError {
  readonly code = 'statement_does_not_tie';
  constructor(
    readonly partnerId: string,
    readonly period: string,
    readonly check: StatementCheck,
    readonly statementFigures: CommissionBalances,
    readonly otherFigures: CommissionBalances,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/** What the commission run stores for a partner's month (its `PartnerPeriodState`, reduced). */
export interface StatementMonthState {
  readonly partnerId: string;
  readonly period: Period;
  readonly planId: string;
  readonly planVersion: number;
  readonly tier: string;
  readonly opening: CommissionBalances;
  readonly closing: CommissionBalances;
  readonly heldLines: readonly {
    readonly line: CommissionLine;
    readonly releasedMinor: bigint;
    readonly clawedBackFromHeldMinor: bigint;
  }[];
  readonly entryIds: readonly string[];
  readonly payoutId: string | null;
}

/** What a statement shows of a contract; unknown parts read "unknown". */
export interface StatementContractFacts {
  readonly marketplace: string | null;
  readonly customerName: string | null;
  readonly product: string | null;
}

export interface StatementInput {
  readonly partner: {
    readonly partnerId: string;
    readonly name: string;
    /** The partner's tier on the period's last day (null: none then). */
    readonly tier: string | null;
  };
  /** '2025-09' or '2025-Q3'. */
  readonly period: string;
  /** The functional currency: every amount is in its minor units. */
  readonly currency: string;
  /** The plan version in effect on the period's last day: accelerator bands and caps. */
  readonly plan?: CommissionPlan | null;
  /** The partner's state of each month of the period that has one. */
  readonly states: readonly StatementMonthState[];
  /** The commission lines of those months. */
  readonly lines: readonly CommissionLine[];
  /**
   * Lines of the earlier months of the last month's quarter that the period does not cover (a
   * monthly statement's quarter-to-date accelerator measure). Shown nowhere else.
   */
  readonly quarterToDateLines?: readonly CommissionLine[];
  /** The journal entries the states name (releases, payouts, clawback dates). */
  readonly entries: readonly JournalEntry[];
  /** Per contract id; a missing contract reads "unknown". */
  readonly contracts: Readonly<Record<string, StatementContractFacts | null>>;
  /** The partner's attribution weight per contract id, when known. */
  readonly attributionShares?: Readonly<Record<string, Rational>>;
  /**
   * The ledger's balances for the partner at the period end (functional currency, credit
   * balances positive): 2100 payable and 2110 held, including the period's payouts.
   */
  readonly ledger: CommissionBalances;
  /** The partner's previous statement in the chain, or null for the first. */
  readonly previous: { readonly hash: string; readonly sequence: number } | null;
  readonly issuedAt: string;
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

export type StatementSection = 'earned' | 'clawback' | 'adjustment';

export interface StatementLine {
  readonly lineId: string;
  readonly kind: 'accrual' | 'clawback';
  /** earned; clawback (reverses an earlier line); adjustment (a downward true-up). */
  readonly section: StatementSection;
  readonly date: string;
  readonly period: Period;
  readonly marketplace: string;
  readonly contractId: string;
  /** Masked (see `maskCustomer`). */
  readonly customer: string;
  readonly product: string;
  readonly dealType: DealType;
  readonly attributionVersion: number | null;
  /** The partner's attribution share of the contract, percent ("50"), when known. */
  readonly attributionSharePercent: string | null;
  readonly basisKind: string;
  readonly basisMinor: bigint;
  /** Accrual: the partner's quarter-to-date basis on the deal through the line's month. */
  readonly quarterBasisMinor: bigint;
  /** Base rate (accrual) or the reversed line's rate (clawback), percent. */
  readonly ratePercent: string;
  /** Uplift of the accelerator band reached, percentage points (measured lines). */
  readonly upliftPercent: string | null;
  /** The accelerator band reached by the line's month (1-based), when the plan is known. */
  readonly band: number | null;
  readonly amountMinor: bigint;
  /** Of the amount: held (2110) — for a clawback, taken back out of held (≤ 0). */
  readonly heldMinor: bigint;
  /** Of the amount: payable (2100). */
  readonly payableMinor: bigint;
  /** As of the statement: a payable line settled by a payout of the period reads "paid". */
  readonly status: CommissionLineStatus;
  readonly dealCapApplied: boolean;
  readonly reversesLineId: string | null;
  readonly hold: {
    readonly condition: PayWhen;
    readonly pendingInvoiceIds: readonly string[];
    readonly unbilledMinor: bigint;
  } | null;
  readonly payoutId: string | null;
  readonly journalEntryId: string | null;
}

export interface StatementContractSubtotal {
  readonly contractId: string;
  readonly marketplace: string;
  readonly customer: string;
  readonly product: string;
  readonly earnedMinor: bigint;
  readonly earnedHeldMinor: bigint;
  /** Positive. */
  readonly clawedBackMinor: bigint;
  /** earned − clawed back. */
  readonly netMinor: bigint;
}

export interface StatementHeldItem {
  readonly lineId: string;
  readonly period: Period;
  readonly contractId: string;
  readonly customer: string;
  /** Still held at the period end. */
  readonly heldMinor: bigint;
  readonly condition: PayWhen;
  readonly pendingInvoiceIds: readonly string[];
  readonly unbilledMinor: bigint;
  /** The release condition in words. */
  readonly releaseCondition: string;
}

export interface StatementRelease {
  readonly date: string;
  readonly contractId: string | null;
  readonly amountMinor: bigint;
  readonly journalEntryId: string;
}

export interface StatementPayout {
  readonly payoutId: string;
  readonly period: Period;
  readonly dueDate: string;
  readonly amountMinor: bigint;
  readonly journalEntryId: string;
}

export interface StatementAcceleratorBand {
  readonly band: number;
  readonly fromMinor: bigint;
  readonly toMinor: bigint | null;
  readonly upliftPercent: string;
  readonly basisInBandMinor: bigint;
  /** The band's uplift, exact, in major units (4 more decimals than the currency's). */
  readonly upliftExact: string;
}

export interface StatementAccelerator {
  readonly quarter: string;
  readonly through: Period;
  readonly mode: 'graduated' | 'retroactive';
  readonly measuredDealType: DealType;
  readonly measureMinor: bigint;
  /** The highest band reached (1-based), or null below the first. */
  readonly bandReached: number | null;
  readonly bands: readonly StatementAcceleratorBand[];
  /** Σ quarter-to-date basis × base rate, exact, in major units. */
  readonly baseExact: string;
  /** Σ of the bands' uplifts, exact, in major units. */
  readonly upliftExact: string;
  /** base + uplift rounded half-even once, before caps: what the quarter has earned so far. */
  readonly totalBeforeCapsMinor: bigint;
}

export interface StatementCaps {
  readonly perPartnerPerQuarterMinor: bigint | null;
  readonly perDealPerYearMinor: bigint | null;
  /** The partner's quarterly cap bound the quarter-to-date commission. */
  readonly quarterCapApplied: boolean;
  /** Lines held to the per-deal cap. */
  readonly dealCapLineIds: readonly string[];
}

export interface StatementSummary {
  readonly openingPayableMinor: bigint;
  readonly openingHeldMinor: bigint;
  readonly openingMinor: bigint;
  /** Accrued this period (including downward true-ups). */
  readonly earnedMinor: bigint;
  /** Of earned: held (2110). */
  readonly earnedHeldMinor: bigint;
  /** Clawed back this period, positive. */
  readonly clawedBackMinor: bigint;
  /** Of clawed back: taken out of held commission. */
  readonly clawedBackFromHeldMinor: bigint;
  /** Held earlier, released to payable this period. */
  readonly releasedMinor: bigint;
  /** The payable balance before payouts: opening payable + earned − held − clawed back + released. */
  readonly payableMinor: bigint;
  readonly paidMinor: bigint;
  readonly closingPayableMinor: bigint;
  readonly closingHeldMinor: bigint;
  readonly closingMinor: bigint;
}

export interface Statement {
  readonly schemaVersion: typeof STATEMENT_SCHEMA_VERSION;
  readonly statementId: string;
  /** Position in the partner's chain, from 1. */
  readonly sequence: number;
  readonly previousHash: string | null;
  /** sha256 of the canonical JSON of every other field. */
  readonly hash: string;
  readonly issuedAt: string;
  readonly partner: {
    readonly partnerId: string;
    readonly name: string;
    readonly tier: string | null;
  };
  readonly plan: { readonly planId: string; readonly versions: readonly number[] };
  readonly period: StatementPeriod;
  readonly currency: string;
  readonly summary: StatementSummary;
  readonly accelerator: StatementAccelerator | null;
  readonly caps: StatementCaps;
  readonly lines: readonly StatementLine[];
  readonly byContract: readonly StatementContractSubtotal[];
  readonly held: readonly StatementHeldItem[];
  readonly releases: readonly StatementRelease[];
  readonly payouts: readonly StatementPayout[];
  /** The balances the statement ties to. */
  readonly ledger: {
    readonly payableAccount: '2100';
    readonly payableMinor: bigint;
    readonly heldAccount: '2110';
    readonly heldMinor: bigint;
  };
}

export type StatementContent = Omit<Statement, 'hash'>;

// ---------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const total = (b: CommissionBalances) => b.payableMinor + b.heldMinor;
const sameBalances = (a: CommissionBalances, b: CommissionBalances) =>
  a.payableMinor === b.payableMinor && a.heldMinor === b.heldMinor;
const sumOf = <T>(items: readonly T[], pick: (item: T) => bigint) =>
  items.reduce((s, item) => s + pick(item), 0n);

function inputProblems(input: StatementInput, months: readonly Period[]): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const partnerId = input.partner.partnerId;
  if (!isKnownCurrency(input.currency)) {
    problems.push({ path: 'currency', code: 'unknown_currency', message: input.currency });
  }
  if (input.states.length === 0) {
    problems.push({
      path: 'states',
      code: 'no_commission_state',
      message: `${partnerId} has no commission state in ${input.period}`,
    });
  }
  const seen = new Set<string>();
  input.states.forEach((state, index) => {
    if (state.partnerId !== partnerId || !months.includes(state.period) || seen.has(state.period)) {
      problems.push({
        path: `states.${index}`,
        code: 'foreign_state',
        message: `State ${state.partnerId} ${state.period} is not one month of ${partnerId} ${input.period}`,
      });
    }
    seen.add(state.period);
  });
  if (input.lines.length > STATEMENT_LINES_MAX) {
    problems.push({
      path: 'lines',
      code: 'too_many_lines',
      message: `At most ${STATEMENT_LINES_MAX}`,
    });
  }
  input.lines.forEach((line, index) => {
    if (line.partnerId !== partnerId || !seen.has(line.period)) {
      problems.push({
        path: `lines.${index}`,
        code: 'foreign_line',
        message: `Line ${line.lineId} (${line.partnerId}, ${line.period}) is not in a stated month`,
      });
    }
  });
  if (input.entries.length > STATEMENT_ENTRIES_MAX) {
    problems.push({
      path: 'entries',
      code: 'too_many_entries',
      message: `At most ${STATEMENT_ENTRIES_MAX}`,
    });
  }
  if (
    input.previous !== null &&
    (!Number.isInteger(input.previous.sequence) || input.previous.sequence < 1)
  ) {
    problems.push({ path: 'previous.sequence', code: 'invalid_sequence', message: 'From 1' });
  }
  if (Number.isNaN(Date.parse(input.issuedAt))) {
    problems.push({ path: 'issuedAt', code: 'invalid_instant', message: input.issuedAt });
  }
  return problems;
}

/** Net debit of the partner's legs on an account in an entry. */
function partnerDebit(entry: JournalEntry, account: string, partnerId: string): bigint {
  return entry.legs
    .filter((leg) => leg.account === account && leg.partnerId === partnerId)
    .reduce((s, leg) => s + leg.functionalDebitMinor - leg.functionalCreditMinor, 0n);
}

function facts(input: StatementInput, contractId: string) {
  const known = input.contracts[contractId] ?? null;
  return {
    marketplace: known?.marketplace ?? 'unknown',
    customer: maskCustomer(known?.customerName ?? null),
    product: known?.product ?? null,
  };
}

function releaseCondition(
  condition: PayWhen,
  pendingInvoiceIds: readonly string[],
  unbilledMinor: bigint,
  currency: string,
): string {
  const invoices = pendingInvoiceIds.length > 0 ? pendingInvoiceIds.join(', ') : null;
  const unbilled =
    unbilledMinor > 0n
      ? `${formatAmount(unbilledMinor, currency)} ${currency} of the basis is not invoiced yet`
      : null;
  if (condition === 'disbursed') {
    const parts = [
      invoices ? `the marketplace disburses ${invoices}` : null,
      unbilled ? `the rest is invoiced and disbursed (${unbilled})` : null,
    ].filter((p): p is string => p !== null);
    return `Payable once ${parts.length > 0 ? parts.join(' and ') : 'the underlying invoices are disbursed'}`;
  }
  if (condition === 'invoiced') {
    const parts = [
      invoices ? `${invoices} is invoiced` : null,
      unbilled ? `the rest is invoiced (${unbilled})` : null,
    ].filter((p): p is string => p !== null);
    return `Payable once ${parts.length > 0 ? parts.join(' and ') : 'the underlying revenue is invoiced'}`;
  }
  return 'Payable immediately';
}

/** Per-contract latest accrual line in months ≤ `through` of the quarter: its QTD basis. */
function quarterState(lines: readonly CommissionLine[], quarter: string, through: Period) {
  const latest = new Map<string, CommissionLine>();
  for (const line of lines) {
    if (line.kind !== 'accrual' || quarterOf(line.period) !== quarter) continue;
    if (comparePeriods(line.period, through) > 0) continue;
    const current = latest.get(line.contractId);
    if (!current || comparePeriods(current.period, line.period) < 0)
      latest.set(line.contractId, line);
  }
  return [...latest.values()].sort((a, b) => byText(a.contractId, b.contractId));
}

function rateOf(percent: string): Rational {
  const value = parseDecimal(percent);
  return rational(value.num, value.den * 100n);
}

/** The accelerator through the statement's last month, recomputed from the lines' QTD bases. */
function acceleratorSection(
  plan: CommissionPlan | null,
  lines: readonly CommissionLine[],
  lastMonth: Period,
  currency: string,
): { section: StatementAccelerator | null; quarterCapApplied: boolean } {
  if (!plan) return { section: null, quarterCapApplied: false };
  const quarter = quarterOf(lastMonth);
  const deals = quarterState(lines, quarter, lastMonth);
  const measured = plan.accelerator?.measure.dealType ?? null;
  const result = quarterToDateCommission(
    plan,
    deals.map((line) => ({
      id: line.contractId,
      rate: rateOf(line.ratePercent),
      measured: line.dealType === measured,
      basisMinor: line.quarterBasisMinor > 0n ? line.quarterBasisMinor : 0n,
      dealCapMinor: null,
    })),
  );
  const cap = plan.caps.perPartnerPerQuarterMinor;
  const quarterCapApplied = cap !== undefined && result.uncappedMinor > cap;
  const accelerator = result.accelerator;
  if (!accelerator) return { section: null, quarterCapApplied };
  const base = sumRational(
    deals.map((line) =>
      multiplyRational(
        rational(line.quarterBasisMinor > 0n ? line.quarterBasisMinor : 0n),
        rateOf(line.ratePercent),
      ),
    ),
  );
  return {
    quarterCapApplied,
    section: {
      quarter,
      through: lastMonth,
      mode: accelerator.mode,
      measuredDealType: accelerator.measuredDealType,
      measureMinor: accelerator.measureMinor,
      bandReached: accelerator.bandIndex === null ? null : accelerator.bandIndex + 1,
      bands: accelerator.bands.map((band) => ({
        band: band.index + 1,
        fromMinor: band.fromMinor,
        toMinor: band.toMinor,
        upliftPercent: band.upliftPercent,
        basisInBandMinor: band.measuredInBandMinor,
        upliftExact: exactDisplay(band.upliftExactMinor, currency),
      })),
      baseExact: exactDisplay(base, currency),
      upliftExact: exactDisplay(accelerator.upliftExactMinor, currency),
      totalBeforeCapsMinor: result.uncappedMinor,
    },
  };
}

/** The band (1-based) each month of the quarter had reached, from the QTD measure then. */
function bandsByMonth(
  plan: CommissionPlan | null,
  lines: readonly CommissionLine[],
): Map<Period, number | null> {
  const out = new Map<Period, number | null>();
  if (!plan?.accelerator) return out;
  const measured = plan.accelerator.measure.dealType;
  const months = [...new Set(lines.map((l) => l.period))];
  for (const month of months) {
    const measure = quarterState(lines, quarterOf(month), month)
      .filter((l) => l.dealType === measured)
      .reduce((s, l) => s + (l.quarterBasisMinor > 0n ? l.quarterBasisMinor : 0n), 0n);
    const reached = acceleratorOn(plan, measure)?.bandIndex ?? null;
    out.set(month, reached === null ? null : reached + 1);
  }
  return out;
}

function sectionOf(line: CommissionLine): StatementSection {
  if (line.kind === 'clawback') return 'clawback';
  return line.amountMinor < 0n ? 'adjustment' : 'earned';
}

const SECTION_ORDER: Record<StatementSection, number> = { earned: 0, adjustment: 1, clawback: 2 };

/**
 * Builds, checks and hashes a statement. Throws InvalidInputError for input that is not one
 * partner's months, and StatementDoesNotTieError when the identity or the ledger tie fails.
 */
export function buildStatement(input: StatementInput): Statement {
  const period = statementPeriod(input.period);
  const problems = inputProblems(input, period.months);
  if (problems.length > 0) {
    throw new InvalidInputError(
      'invalid_statement_input',
      `Statement input for ${input.partner.partnerId}, ${input.period} is not valid`,
      problems,
    );
  }
  const { partnerId } = input.partner;
  const currency = input.currency;
  const states = [...input.states].sort((a, b) => comparePeriods(a.period, b.period));
  const first = states[0];
  const last = states[states.length - 1];
  if (!first || !last) throw new InvalidInputError('no_commission_state', 'No state');
  const plan = input.plan ?? null;

  // Entries the states name: payouts, releases, clawback dates.
  const named = new Set(states.flatMap((s) => s.entryIds));
  const entries = input.entries.filter((e) => named.has(e.entryId));
  const entryById = new Map(entries.map((e) => [e.entryId, e]));
  const monthOfEntry = new Map<string, Period>();
  for (const state of states) for (const id of state.entryIds) monthOfEntry.set(id, state.period);

  const payouts: StatementPayout[] = entries
    .filter((e) => e.rule === COMMISSION_RULE.payout)
    .map((e) => ({
      payoutId: e.source.id,
      period: monthOfEntry.get(e.entryId) ?? e.postingPeriod,
      dueDate: e.date,
      amountMinor: partnerDebit(e, '2100', partnerId),
      journalEntryId: e.entryId,
    }))
    .sort((a, b) => comparePeriods(a.period, b.period) || byText(a.payoutId, b.payoutId));
  const releases: StatementRelease[] = entries
    .filter((e) => e.rule === COMMISSION_RULE.release)
    .map((e) => ({
      date: e.date,
      contractId: e.legs.find((l) => l.account === '2110')?.contractId ?? null,
      amountMinor: partnerDebit(e, '2110', partnerId),
      journalEntryId: e.entryId,
    }))
    .sort((a, b) => byText(a.date, b.date) || byText(a.journalEntryId, b.journalEntryId));

  // Lines, with the status as of the statement: a payable line is settled by a later payout.
  const payoutAfter = (month: Period) =>
    payouts.find((p) => comparePeriods(p.period, month) >= 0)?.payoutId ?? null;
  const quarterLines = [...(input.quarterToDateLines ?? []), ...input.lines].filter(
    (l) => l.partnerId === partnerId,
  );
  const bands = bandsByMonth(plan, quarterLines);
  const measured = plan?.accelerator?.measure.dealType ?? null;
  const lines: StatementLine[] = [...input.lines]
    .sort(
      (a, b) =>
        comparePeriods(a.period, b.period) ||
        SECTION_ORDER[sectionOf(a)] - SECTION_ORDER[sectionOf(b)] ||
        byText(a.contractId, b.contractId) ||
        byText(a.lineId, b.lineId),
    )
    .map((line) => {
      const known = facts(input, line.contractId);
      const share = input.attributionShares?.[line.contractId];
      const entry = line.journalEntryId ? entryById.get(line.journalEntryId) : undefined;
      const settledBy = line.status === 'payable' ? payoutAfter(line.period) : null;
      return {
        lineId: line.lineId,
        kind: line.kind,
        section: sectionOf(line),
        date: line.kind === 'clawback' && entry ? entry.date : lastDayOfPeriod(line.period),
        period: line.period,
        marketplace: known.marketplace,
        contractId: line.contractId,
        customer: known.customer,
        product: line.product ?? known.product ?? 'unknown',
        dealType: line.dealType,
        attributionVersion: line.attributionVersion,
        attributionSharePercent: share ? percentDisplay(share) : null,
        basisKind: line.basisKind,
        basisMinor: line.basisMinor,
        quarterBasisMinor: line.quarterBasisMinor,
        ratePercent: line.ratePercent,
        upliftPercent: line.upliftPercent,
        band:
          line.kind === 'accrual' && line.dealType === measured
            ? (bands.get(line.period) ?? null)
            : null,
        amountMinor: line.amountMinor,
        heldMinor: line.heldMinor,
        payableMinor: line.amountMinor - line.heldMinor,
        status: settledBy ? 'paid' : line.status,
        dealCapApplied: line.dealCapApplied,
        reversesLineId: line.reversesLineId,
        hold: line.hold
          ? {
              condition: line.hold.condition,
              pendingInvoiceIds: [...line.hold.pendingInvoiceIds],
              unbilledMinor: line.hold.unbilledMinor,
            }
          : null,
        payoutId: line.payoutId ?? settledBy,
        journalEntryId: line.journalEntryId,
      };
    });

  const accruals = lines.filter((l) => l.kind === 'accrual');
  const clawbacks = lines.filter((l) => l.kind === 'clawback');
  const earnedMinor = sumOf(accruals, (l) => l.amountMinor);
  const earnedHeldMinor = sumOf(accruals, (l) => l.heldMinor);
  const clawedBackMinor = -sumOf(clawbacks, (l) => l.amountMinor);
  const clawedBackFromHeldMinor = -sumOf(clawbacks, (l) => l.heldMinor);
  const releasedMinor = sumOf(releases, (r) => r.amountMinor);
  const paidMinor = sumOf(payouts, (p) => p.amountMinor);
  const opening = first.opening;
  const closing = last.closing;
  const payableMinor =
    opening.payableMinor +
    (earnedMinor - earnedHeldMinor) -
    (clawedBackMinor - clawedBackFromHeldMinor) +
    releasedMinor;
  const summary: StatementSummary = {
    openingPayableMinor: opening.payableMinor,
    openingHeldMinor: opening.heldMinor,
    openingMinor: total(opening),
    earnedMinor,
    earnedHeldMinor,
    clawedBackMinor,
    clawedBackFromHeldMinor,
    releasedMinor,
    payableMinor,
    paidMinor,
    closingPayableMinor: closing.payableMinor,
    closingHeldMinor: closing.heldMinor,
    closingMinor: total(closing),
  };

  // The identity: months chain, and the movements carry the opening to the closing.
  states.forEach((state, index) => {
    const before = states[index - 1];
    if (before && !sameBalances(before.closing, state.opening)) {
      throw new StatementDoesNotTieError(
        partnerId,
        period.id,
        'identity',
        state.opening,
        before.closing,
        `Statement ${partnerId} ${period.id} does not tie: ${state.period} opens at payable ${state.opening.payableMinor} / held ${state.opening.heldMinor} but ${before.period} closed at payable ${before.closing.payableMinor} / held ${before.closing.heldMinor}`,
      );
    }
  });
  const computed: CommissionBalances = {
    payableMinor: payableMinor - paidMinor,
    heldMinor: opening.heldMinor + earnedHeldMinor - clawedBackFromHeldMinor - releasedMinor,
  };
  if (!sameBalances(computed, closing)) {
    throw new StatementDoesNotTieError(
      partnerId,
      period.id,
      'identity',
      computed,
      closing,
      `Statement ${partnerId} ${period.id} does not tie: opening + earned − clawed back − paid gives payable ${formatAmount(computed.payableMinor, currency)} / held ${formatAmount(computed.heldMinor, currency)}, the stored closing is payable ${formatAmount(closing.payableMinor, currency)} / held ${formatAmount(closing.heldMinor, currency)} ${currency}`,
    );
  }
  if (!sameBalances(closing, input.ledger)) {
    throw new StatementDoesNotTieError(
      partnerId,
      period.id,
      'ledger',
      closing,
      input.ledger,
      `Statement ${partnerId} ${period.id} does not tie to the ledger: closing payable ${formatAmount(closing.payableMinor, currency)} / held ${formatAmount(closing.heldMinor, currency)}, ledger 2100 ${formatAmount(input.ledger.payableMinor, currency)} / 2110 ${formatAmount(input.ledger.heldMinor, currency)} ${currency}`,
    );
  }

  // Per contract.
  const linesByContract = new Map<string, StatementLine[]>();
  for (const line of lines) {
    const own = linesByContract.get(line.contractId);
    if (own) own.push(line);
    else linesByContract.set(line.contractId, [line]);
  }
  const byContract: StatementContractSubtotal[] = [...linesByContract.keys()]
    .sort(byText)
    .map((contractId) => {
      const own = linesByContract.get(contractId) ?? [];
      const known = facts(input, contractId);
      const ownAccruals = own.filter((l) => l.kind === 'accrual');
      const earned = sumOf(ownAccruals, (l) => l.amountMinor);
      const clawed = -sumOf(
        own.filter((l) => l.kind === 'clawback'),
        (l) => l.amountMinor,
      );
      return {
        contractId,
        marketplace: known.marketplace,
        customer: known.customer,
        product: own.find((l) => l.product !== 'unknown')?.product ?? 'unknown',
        earnedMinor: earned,
        earnedHeldMinor: sumOf(ownAccruals, (l) => l.heldMinor),
        clawedBackMinor: clawed,
        netMinor: earned - clawed,
      };
    });

  // Held at the end, with the release condition.
  const held: StatementHeldItem[] = last.heldLines
    .map((h) => ({
      line: h.line,
      outstanding: h.line.heldMinor - h.releasedMinor - h.clawedBackFromHeldMinor,
    }))
    .filter((h) => h.outstanding > 0n)
    .sort(
      (a, b) =>
        comparePeriods(a.line.period, b.line.period) || byText(a.line.lineId, b.line.lineId),
    )
    .map(({ line, outstanding }) => {
      const condition = line.hold?.condition ?? 'disbursed';
      const pending = [...(line.hold?.pendingInvoiceIds ?? [])];
      const unbilled = line.hold?.unbilledMinor ?? 0n;
      return {
        lineId: line.lineId,
        period: line.period,
        contractId: line.contractId,
        customer: facts(input, line.contractId).customer,
        heldMinor: outstanding,
        condition,
        pendingInvoiceIds: pending,
        unbilledMinor: unbilled,
        releaseCondition: releaseCondition(condition, pending, unbilled, currency),
      };
    });

  const { section: accelerator, quarterCapApplied } = acceleratorSection(
    plan,
    quarterLines,
    period.months[period.months.length - 1] ?? last.period,
    currency,
  );
  const planIds = [...new Set(states.map((s) => s.planId))].sort(byText);
  const content: StatementContent = {
    schemaVersion: STATEMENT_SCHEMA_VERSION,
    statementId: statementIdFor(partnerId, period.id),
    sequence: (input.previous?.sequence ?? 0) + 1,
    previousHash: input.previous?.hash ?? null,
    issuedAt: input.issuedAt,
    partner: { partnerId, name: input.partner.name, tier: input.partner.tier },
    plan: {
      planId: planIds.join(', '),
      versions: [...new Set(states.map((s) => s.planVersion))].sort((a, b) => a - b),
    },
    period,
    currency,
    summary,
    accelerator,
    caps: {
      perPartnerPerQuarterMinor: plan?.caps.perPartnerPerQuarterMinor ?? null,
      perDealPerYearMinor: plan?.caps.perDealPerYearMinor ?? null,
      quarterCapApplied,
      dealCapLineIds: lines.filter((l) => l.dealCapApplied).map((l) => l.lineId),
    },
    lines,
    byContract,
    held,
    releases,
    payouts,
    ledger: {
      payableAccount: '2100',
      payableMinor: input.ledger.payableMinor,
      heldAccount: '2110',
      heldMinor: input.ledger.heldMinor,
    },
  };
  return { ...content, hash: statementHash(content) };
}

// ---------------------------------------------------------------------------------------------
// Hash chain
// ---------------------------------------------------------------------------------------------

/** sha256 (hex) of the canonical JSON of a statement without its `hash`. */
export function statementHash(statement: StatementContent | Statement): string {
  const { hash: _ignored, ...content } = statement as Statement;
  return sha256Hex(canonicalJson(content));
}

export type ChainBreak = 'content_changed' | 'broken_link' | 'missing_link' | 'foreign_statement';

export type ChainVerification =
  | { readonly ok: true; readonly statements: number }
  | {
      readonly ok: false;
      readonly partnerId: string;
      readonly period: string;
      readonly reason: ChainBreak;
      readonly message: string;
    };

/**
 * Checks one partner's chain: every statement's hash matches its content, sequences run 1, 2,
 * 3 … without a gap, and each names its predecessor's hash (the first names none). With
 * `head` (what the index says was issued last), a chain missing its newest statements fails too.
 */
export function verifyStatementChain(
  statements: readonly Statement[],
  head?: { readonly sequence: number; readonly hash: string } | null,
): ChainVerification {
  if (statements.length > STATEMENT_CHAIN_MAX) {
    throw new InvalidInputError('chain_too_long', `At most ${STATEMENT_CHAIN_MAX} statements`);
  }
  const sorted = [...statements].sort((a, b) => a.sequence - b.sequence);
  const partnerId = sorted[0]?.partner.partnerId ?? '';
  const fail = (s: Statement, reason: ChainBreak, message: string): ChainVerification => ({
    ok: false,
    partnerId: s.partner.partnerId,
    period: s.period.id,
    reason,
    message,
  });
  let previous: Statement | null = null;
  for (const statement of sorted) {
    if (statement.partner.partnerId !== partnerId) {
      return fail(statement, 'foreign_statement', `${statement.statementId} is not ${partnerId}'s`);
    }
    if (statementHash(statement) !== statement.hash) {
      return fail(
        statement,
        'content_changed',
        `${statement.statementId} (${statement.period.id}): its content does not match its hash`,
      );
    }
    const expected = (previous?.sequence ?? 0) + 1;
    if (statement.sequence !== expected) {
      return fail(
        statement,
        'missing_link',
        `${statement.statementId} (${statement.period.id}) is number ${statement.sequence}; number ${expected} is missing`,
      );
    }
    if (statement.previousHash !== (previous?.hash ?? null)) {
      return fail(
        statement,
        'broken_link',
        `${statement.statementId} (${statement.period.id}) names ${statement.previousHash ?? 'no'} previous statement, not ${previous?.hash ?? 'none'}`,
      );
    }
    previous = statement;
  }
  if (
    head &&
    (previous === null || previous.sequence !== head.sequence || previous.hash !== head.hash)
  ) {
    const last = previous ?? sorted[0];
    return {
      ok: false,
      partnerId: last?.partner.partnerId ?? partnerId,
      period: last?.period.id ?? '',
      reason: 'missing_link',
      message: `The chain ends at number ${previous?.sequence ?? 0}; the last issued is number ${head.sequence}`,
    };
  }
  return { ok: true, statements: sorted.length };
}

// ---------------------------------------------------------------------------------------------
// JSON (exact): every `…Minor` amount as a decimal string of minor units, plus `…Formatted`
// ---------------------------------------------------------------------------------------------

const MINOR_SUFFIX = 'Minor';
const FORMATTED_SUFFIX = 'Formatted';

function toJsonValue(value: unknown, currency: string): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, currency));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (inner === undefined) continue;
      out[key] = toJsonValue(inner, currency);
      if (key.endsWith(MINOR_SUFFIX) && typeof inner === 'bigint') {
        out[`${key.slice(0, -MINOR_SUFFIX.length)}${FORMATTED_SUFFIX}`] = formatAmount(
          inner,
          currency,
        );
      }
    }
    return out;
  }
  return value;
}

/** The statement as JSON: amounts exact (minor units as decimal strings) and formatted. */
export function encodeStatementJson(statement: Statement): string {
  return `${JSON.stringify(toJsonValue(statement, statement.currency), null, 2)}\n`;
}

function fromJsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJsonValue);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(record)) {
      if (
        key.endsWith(FORMATTED_SUFFIX) &&
        `${key.slice(0, -FORMATTED_SUFFIX.length)}${MINOR_SUFFIX}` in record
      ) {
        continue;
      }
      out[key] =
        key.endsWith(MINOR_SUFFIX) && typeof inner === 'string' && /^-?\d{1,40}$/.test(inner)
          ? BigInt(inner)
          : fromJsonValue(inner);
    }
    return out;
  }
  return value;
}

/** Reads a statement written by `encodeStatementJson` (the hash is not checked here). */
export function decodeStatementJson(text: string): Statement {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      'invalid_statement_json',
      `Not JSON: ${(error as Error).message.slice(0, 200)}`,
    );
  }
  const statement = fromJsonValue(parsed) as Partial<Statement> | null;
  if (
    statement === null ||
    typeof statement !== 'object' ||
    statement.schemaVersion !== STATEMENT_SCHEMA_VERSION ||
    typeof statement.statementId !== 'string' ||
    typeof statement.hash !== 'string' ||
    typeof statement.sequence !== 'number' ||
    typeof statement.partner?.partnerId !== 'string' ||
    typeof statement.period?.id !== 'string'
  ) {
    throw new InvalidInputError('invalid_statement_json', 'Not an Agora partner statement');
  }
  return statement as Statement;
}
