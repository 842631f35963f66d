/**
 * The reconciliation (finance.md §8, rule 16, WE-10): a marketplace's statement, streamed in as
 * records, against what the ledger holds (expected.ts), as of a date. Pure: the caller reads the
 * files and the ledger, this decides.
 *
 *   // The ledger in memory (expectedItemsFromEntries):
 *   const reconciler = createReconciler(expected, { asOf, marketplace, firstOpenPeriod });
 *   for await (const batch of readAwsBillingEventFeed(stream)) {
 *     reconciler.add(batch.records);
 *     reconciler.addRowErrors(batch.rowErrors);
 *   }
 *   reconciler.addBankLines(bank.lines);           // optional
 *   const result = reconciler.finish();
 *
 *   // Both sides streaming (a million-row file, the books read page by page):
 *   const statement = createStatementReconciler(config);
 *   await feedAwsBillingEvents(stream, statement);  // bytes straight into columns
 *   const ledger = statement.endStatement({ onMatched: (item) => writer.write(item) });
 *   for await (const contract of contractsFromBooks()) ledger.addContract(contract);
 *   const result = ledger.finish(rollForward);
 *
 * Three levels, each with its own key:
 * - billing: a billed line (charge and fee of one transaction) of a contract against the
 *   contract's expected invoices — first by key (usage month for usage, invoice date for
 *   installments), then by equal amount within `matchWindowDays`; a variance within tolerance
 *   gets a true-up (4100 usage, 4000 otherwise, 5100 fees) in the first open period;
 *   fee variances are explained (CPPO uplift, renewal rate, another tier) where the rates allow;
 * - refunds: the marketplace's refunds and credits against the refunds the ledger settled;
 * - cash: each payout's disbursed lines per contract against the ledger's recorded payouts (the
 *   rest become DisbursementReceived candidates), payout totals, failed payouts, and the bank
 *   statement by reference.
 * Then the aging of what the receivable still holds (first in, first out), and its roll-forward
 * tied to the open items.
 */
import type { CalendarDate } from '../calendar';
import type { AccountCode } from '../ledger';
import {
  absBigint,
  addRational,
  divHalfEven,
  divHalfUp,
  formatMajorAmount,
  formatRational,
  multiplyRational,
  type Rational,
  rational,
  subtractRational,
} from '../money';
import { type BankLine, bankReferenceKey } from './bank-statement';
import {
  type ReconciliationConfig,
  type ReconciliationConfigInput,
  reconciliationConfig,
  type Tolerance,
  type ToleranceKind,
  toleranceMinor,
  withinTolerance,
} from './config';
import type {
  ExpectedContract,
  ExpectedInvoice,
  ExpectedLedger,
  ExpectedRefund,
  ReceivableRollForward,
} from './expected';
import { type Fingerprint, fingerprintInto, fingerprintOf } from './fingerprint';
import { int64Words, isZeroInt64 } from './int64';
import {
  dateOfDay,
  firstDayOfMonthIndex,
  monthIndexOfDay,
  parseDay,
  parseDayCached,
} from './parse';
import {
  type AgingBucket,
  type AgingItem,
  type AgingSummary,
  type CurrencySummary,
  type DisbursementCandidate,
  EXCEPTION_CLASSES,
  type ExceptionClass,
  type ExternalKeys,
  type MatchedItem,
  RECONCILIATION_LEVELS,
  type ReconciliationException,
  type ReconciliationItem,
  type ReconciliationLevel,
  type ReconciliationResult,
  type RollForwardReport,
  type ToleranceItem,
  type TrueUp,
} from './results';
import type { RowError, StatementRecord } from './statement';
import {
  PART_OFF_BALANCE,
  PART_RECEIVABLE,
  type PackedRecords,
  type Payout,
  type ResolvedStatement,
  type StatementLines,
  StatementStore,
} from './store';
import { trueUpKey } from './true-up';

/** Row errors listed in a result (the count is always exact). */
export const ROW_ERRORS_LISTED_MAX = 100_000;
/** Bank statement lines one reconciliation takes. */
export const BANK_LINES_MAX = 1_000_000;
const NONE = -1;

/** The statement side: the marketplace's file(s) streaming in. */
export interface StatementSide {
  /** Statement records, as they stream in (any order; repeats and later versions allowed). */
  add(records: readonly StatementRecord[]): void;
  /** Records packed by a byte-level reader (its fast path): store.ts PackedRecords. */
  addPacked(records: PackedRecords): void;
  /** Malformed rows the parser reported. */
  addRowErrors(errors: readonly RowError[]): void;
  /** How many records are coming, about (from the file's size): memory is sized once. */
  expectRecords(records: number): void;
  /** Bank statement lines (optional): payouts are then checked against them. */
  addBankLines(lines: readonly BankLine[]): void;
  /**
   * The statement is complete: resolve it and take the ledger side. With `onMatched`, matched
   * items are handed over as they are found instead of being kept (a million-line report need
   * not sit in memory); the result then lists none (its counts still do).
   */
  endStatement(options?: {
    onMatched?: (item: MatchedItem) => void;
    /**
     * True-ups already in the ledger, by key (true-up.ts): with `trueUpMode: 'post'`, the
     * receivable a payout may settle counts what this run's true-ups will move on it, so a
     * report holding an off-by-cents invoice and the payout that settles it matches in one run.
     */
    postedTrueUps?: ReadonlyMap<string, { readonly amountMinor: bigint }>;
  }): LedgerSide;
}

/** The ledger side: contracts one at a time (any order; each once), then the result. */
export interface LedgerSide {
  addContract(contract: ExpectedContract): void;
  /** The receivable roll-forward (expected.ts) is tied to the open items here. */
  finish(rollForward?: readonly ReceivableRollForward[]): ReconciliationResult;
}

/**
 * A reconciliation streaming on both sides: statement records, then contracts (e.g. one page of
 * books at a time from the store). Memory: the statement's columns, not the ledger's.
 */
export function createStatementReconciler(input: ReconciliationConfigInput): StatementSide {
  const config = reconciliationConfig(input);
  const store = new StatementStore();
  const rowErrors: RowError[] = [];
  let rowErrorCount = 0;
  const bankLines: BankLine[] = [];
  let ended = false;
  const open = () => {
    if (ended) throw new Error('The statement has already ended');
  };
  return {
    add(records) {
      open();
      store.add(records);
    },
    addPacked(records) {
      open();
      store.addPacked(records);
    },
    expectRecords(records) {
      open();
      if (Number.isFinite(records) && records > store.size) store.reserve(records);
    },
    addRowErrors(errors) {
      open();
      rowErrorCount += errors.length;
      for (const error of errors) {
        if (rowErrors.length >= ROW_ERRORS_LISTED_MAX) break;
        rowErrors.push(error);
      }
    },
    addBankLines(lines) {
      open();
      if (bankLines.length + lines.length > BANK_LINES_MAX) {
        throw new RangeError(`A reconciliation takes at most ${BANK_LINES_MAX} bank lines`);
      }
      bankLines.push(...lines);
    },
    endStatement(options = {}) {
      open();
      ended = true;
      const resolved = store.resolve();
      store.release();
      const run = new Run(
        config,
        store,
        resolved,
        bankLines,
        options.onMatched ?? null,
        options.postedTrueUps ?? null,
      );
      let finished = false;
      return {
        addContract(contract) {
          if (finished) throw new Error('The reconciliation has already finished');
          run.addContract(contract);
        },
        finish(rollForward = []) {
          if (finished) throw new Error('The reconciliation has already finished');
          finished = true;
          return run.result(rollForward, rowErrors, rowErrorCount);
        },
      };
    },
  };
}

export interface Reconciler {
  add(records: readonly StatementRecord[]): void;
  addPacked(records: PackedRecords): void;
  addRowErrors(errors: readonly RowError[]): void;
  addBankLines(lines: readonly BankLine[]): void;
  /** Once: the result against the whole expected ledger (contracts in its order). */
  finish(): ReconciliationResult;
}

/** A reconciliation against an expected ledger held in memory (expectedItemsFromEntries). */
export function createReconciler(
  expected: ExpectedLedger,
  input: ReconciliationConfigInput,
): Reconciler {
  const statement = createStatementReconciler(input);
  return {
    add: (records) => statement.add(records),
    addPacked: (records) => statement.addPacked(records),
    addRowErrors: (errors) => statement.addRowErrors(errors),
    addBankLines: (lines) => statement.addBankLines(lines),
    finish() {
      const ledger = statement.endStatement();
      for (const contract of expected.contracts) ledger.addContract(contract);
      return ledger.finish(expected.rollForward);
    },
  };
}

/** One reconciliation over an expected ledger and a whole statement. */
export function reconcile(
  expected: ExpectedLedger,
  records: readonly StatementRecord[],
  config: ReconciliationConfigInput,
  extra: { rowErrors?: readonly RowError[]; bankLines?: readonly BankLine[] } = {},
): ReconciliationResult {
  const reconciler = createReconciler(expected, config);
  reconciler.add(records);
  reconciler.addRowErrors(extra.rowErrors ?? []);
  reconciler.addBankLines(extra.bankLines ?? []);
  return reconciler.finish();
}

const NO_KEYS: ExternalKeys = {
  agreementId: null,
  recordId: null,
  invoiceId: null,
  payoutId: null,
  bankReference: null,
};

function percent(rate: Rational): string {
  return `${formatRational(multiplyRational(rate, rational(100n)), 4)}%`;
}

interface CashAcc {
  readonly payout: number;
  readonly currency: number;
  settles: bigint;
  mixed: boolean;
  latestDay: number;
}

class Run {
  private readonly lines: StatementLines;
  /** The lines' sums as 32-bit words (int64.ts): zero tests without a BigInt per read. */
  private readonly words: Record<
    | 'charge'
    | 'fee'
    | 'forgivenCharge'
    | 'forgivenFee'
    | 'chargeRefund'
    | 'chargeCredit'
    | 'feeRefund'
    | 'feeCredit'
    | 'adjustment',
    Int32Array
  >;
  /** 1 once a contract has taken the line. */
  private readonly claimed: Uint8Array;
  /** Keyless lines by the marketplace invoice id of their naming record (built when needed). */
  private keylessByInvoice: Map<string, number[]> | null = null;
  private readonly asOfDay: number;
  private readonly windowStartDay: number | null;
  private readonly matched: MatchedItem[] = [];
  private matchedCount = 0;
  private readonly tolerance: ToleranceItem[] = [];
  private readonly exceptions: ReconciliationException[] = [];
  private readonly candidates: DisbursementCandidate[] = [];
  private readonly agingItems: AgingItem[] = [];
  private readonly agingSummaries = new Map<string, AgingSummaryAcc>();
  private lastAging: AgingSummaryAcc | null = null;
  /**
   * Per expected invoice of the contract (by index): the line it matched, for the aging. Not a
   * map keyed by the invoice objects: its entries kept each contract alive through young
   * garbage collections, which then spent most of their time promoting them.
   */
  private invoiceLine = new Int32Array(64);
  /**
   * The contracts taken, by id and its fingerprint, checked for repeats once at the end (a set
   * of the ids, probed once per contract, cost more than matching some contracts).
   */
  private readonly contractIds: string[] = [];
  private contractPrints = new Int32Array(1_024);
  private readonly print: Fingerprint = { hi: 0, lo: 0 };
  /** What this run's true-ups will move on the current contract's receivable (posted mode). */
  private plannedReceivableMinor = 0n;
  private pendingInternal = 0;
  private outsideWindow = 0;
  private bankLinesUnmatched = 0;
  private readonly bankMatched = new Map<string, bigint>();
  /** Per payout: the receivable and tax its disbursed records pay, and whether a contract took any. */
  private readonly payoutTotals: bigint[];
  private readonly payoutClaimed: Uint8Array;
  private readonly bankLineOf: Map<number, BankLine>;

  constructor(
    private readonly config: ReconciliationConfig,
    private readonly store: StatementStore,
    private readonly resolved: ResolvedStatement,
    private readonly bankLines: readonly BankLine[],
    private readonly onMatched: ((item: MatchedItem) => void) | null,
    private readonly postedTrueUps: ReadonlyMap<string, { readonly amountMinor: bigint }> | null,
  ) {
    this.lines = resolved.lines;
    const L = this.lines;
    this.words = {
      charge: int64Words(L.charge),
      fee: int64Words(L.fee),
      forgivenCharge: int64Words(L.forgivenCharge),
      forgivenFee: int64Words(L.forgivenFee),
      chargeRefund: int64Words(L.chargeRefund),
      chargeCredit: int64Words(L.chargeCredit),
      feeRefund: int64Words(L.feeRefund),
      feeCredit: int64Words(L.feeCredit),
      adjustment: int64Words(L.adjustment),
    };
    this.claimed = new Uint8Array(this.lines.count);
    this.asOfDay = parseDay(config.asOf);
    let coverage = Number.POSITIVE_INFINITY;
    for (let line = 0; line < this.lines.count; line += 1) {
      const day = this.lines.invoiceDay[line] ?? NONE;
      if (day !== NONE && day < coverage) coverage = day;
    }
    this.windowStartDay =
      config.windowStart !== null
        ? parseDay(config.windowStart)
        : Number.isFinite(coverage)
          ? coverage
          : null;
    const D = resolved.disbursed;
    this.payoutTotals = resolved.payouts.map(() => 0n);
    for (let i = 0; i < D.count; i += 1) {
      if ((D.part[i] ?? PART_OFF_BALANCE) === PART_OFF_BALANCE) continue;
      const p = D.payout[i] ?? 0;
      this.payoutTotals[p] = (this.payoutTotals[p] ?? 0n) + (D.settles[i] ?? 0n);
    }
    this.payoutClaimed = new Uint8Array(resolved.payouts.length);
    this.bankLineOf = this.bankByPayout();
    this.payoutChecks();
  }

  // -------------------------------------------------------------------------------------------
  // Lines
  // -------------------------------------------------------------------------------------------

  /** The lines a contract names (its keys; its references for lines naming no contract). */
  private claimLines(contract: ExpectedContract): number[] {
    const out: number[] = [];
    const R = this.resolved;
    for (const key of contract.keys) {
      const k = this.store.keyIndex(key);
      if (k === NONE) continue;
      const end = R.keyLineStart[k + 1] ?? 0;
      for (let at = R.keyLineStart[k] ?? 0; at < end; at += 1) this.take(R.keyLine[at] ?? 0, out);
    }
    if (contract.references.length > 0 && R.keylessLines.length > 0) {
      for (const reference of contract.references) {
        const fp = fingerprintOf(reference);
        let line = R.keylessByGroup.get(fp.hi, fp.lo);
        for (let guard = 0; line !== NONE && guard < this.lines.count; guard += 1) {
          this.take(line, out);
          line = R.nextKeyless[line] ?? NONE;
        }
        for (const byInvoice of this.keylessInvoiceIndex().get(reference) ?? []) {
          this.take(byInvoice, out);
        }
      }
    }
    return out.length > 1 ? out.sort(this.lineOrder) : out;
  }

  private take(line: number, out: number[]): void {
    if (this.claimed[line] === 1) return;
    this.claimed[line] = 1;
    out.push(line);
  }

  /** Lines in a deterministic order: invoice day, then the fingerprint of a record. */
  private readonly lineOrder = (a: number, b: number): number => {
    const L = this.lines;
    return (
      (L.invoiceDay[a] ?? 0) - (L.invoiceDay[b] ?? 0) ||
      (L.sortHi[a] ?? 0) - (L.sortHi[b] ?? 0) ||
      (L.sortLo[a] ?? 0) - (L.sortLo[b] ?? 0)
    );
  };

  private keylessInvoiceIndex(): Map<string, number[]> {
    if (this.keylessByInvoice === null) {
      const index = new Map<string, number[]>();
      for (const line of this.resolved.keylessLines) {
        const invoiceId = this.store.identityInvoiceId(this.lines.identityIndex[line] ?? NONE);
        if (invoiceId === null) continue;
        const list = index.get(invoiceId);
        if (list) list.push(line);
        else index.set(invoiceId, [line]);
      }
      this.keylessByInvoice = index;
    }
    return this.keylessByInvoice;
  }

  private currencyOf(line: number): string {
    return this.store.currencies[this.lines.currency[line] ?? 0] ?? '';
  }

  private keysOf(line: number): ExternalKeys {
    const key = this.lines.contractKey[line] ?? NONE;
    const identity = this.lines.identityIndex[line] ?? NONE;
    return {
      agreementId: key === NONE ? null : (this.store.contractKeys[key] ?? null),
      recordId: this.store.identityRecordId(identity),
      invoiceId: this.store.identityInvoiceId(identity),
      payoutId: null,
      bankReference: null,
    };
  }

  private chargeOf(line: number): bigint {
    return (this.lines.charge[line] ?? 0n) + (this.lines.forgivenCharge[line] ?? 0n);
  }

  /** The fee the marketplace keeps on the line, positive. */
  private feeOf(line: number): bigint {
    return -((this.lines.fee[line] ?? 0n) + (this.lines.forgivenFee[line] ?? 0n));
  }

  private isBillingLine(line: number): boolean {
    const W = this.words;
    return (
      !isZeroInt64(W.charge, line) ||
      !isZeroInt64(W.fee, line) ||
      !isZeroInt64(W.forgivenCharge, line) ||
      !isZeroInt64(W.forgivenFee, line)
    );
  }

  /** Whether the line refunds or credits anything. */
  private isRefundLine(line: number): boolean {
    const W = this.words;
    return (
      !isZeroInt64(W.chargeRefund, line) ||
      !isZeroInt64(W.chargeCredit, line) ||
      !isZeroInt64(W.feeRefund, line) ||
      !isZeroInt64(W.feeCredit, line)
    );
  }

  private refundOf(line: number): { amount: bigint; fee: bigint } {
    const L = this.lines;
    return {
      amount: -((L.chargeRefund[line] ?? 0n) + (L.chargeCredit[line] ?? 0n)),
      fee: (L.feeRefund[line] ?? 0n) + (L.feeCredit[line] ?? 0n),
    };
  }

  /** year × 12 + month of the line's usage period when it lies within one month, else 0. */
  private usageMonth(line: number): number {
    const start = this.lines.usageStartDay[line] ?? NONE;
    const end = this.lines.usageEndDay[line] ?? NONE;
    if (start === NONE || end === NONE || end < start) return 0;
    const month = monthIndexOfDay(start);
    return end <= firstDayOfMonthIndex(month + 1) ? month : 0;
  }

  private lineDate(line: number): CalendarDate | null {
    const day = this.lines.invoiceDay[line] ?? NONE;
    return day === NONE ? null : dateOfDay(day);
  }

  /**
   * Whether a ledger item missing from the file is an exception: not when it is too recent
   * (billing grace: counted pending) or older than the file (counted outside the window).
   */
  private inWindow(date: CalendarDate): boolean {
    const day = parseDayCached(date);
    if (this.windowStartDay !== null && day < this.windowStartDay) {
      this.outsideWindow += 1;
      return false;
    }
    if (day > this.asOfDay - this.config.billingGraceDays) {
      this.pendingInternal += 1;
      return false;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Items
  // -------------------------------------------------------------------------------------------

  private item(
    level: ReconciliationLevel,
    contract: ExpectedContract | null,
    internalId: string | null,
    keys: ExternalKeys,
    line: number | null,
    currency: string,
    expectedMinor: bigint | null,
    actualMinor: bigint | null,
  ): ReconciliationItem {
    return {
      level,
      contractId: contract?.contractId ?? null,
      internalId,
      keys,
      line: line === null || line <= 0 ? null : line,
      currency,
      expectedMinor,
      actualMinor,
      varianceMinor: (actualMinor ?? 0n) - (expectedMinor ?? 0n),
    };
  }

  /** A matched item (one literal: there may be a million of them). */
  private matchedFrom(
    base: ReconciliationItem,
    feeExpectedMinor: bigint | null,
    feeActualMinor: bigint | null,
    disbursedMinor: bigint | null,
    recorded: boolean | null,
    expectedMinor: bigint | null = base.expectedMinor,
  ): void {
    this.matchedCount += 1;
    const item: MatchedItem = {
      level: base.level,
      contractId: base.contractId,
      internalId: base.internalId,
      keys: base.keys,
      line: base.line,
      currency: base.currency,
      expectedMinor,
      actualMinor: base.actualMinor,
      varianceMinor: (base.actualMinor ?? 0n) - (expectedMinor ?? 0n),
      feeExpectedMinor,
      feeActualMinor,
      disbursedMinor,
      recorded,
    };
    if (this.onMatched) this.onMatched(item);
    else this.matched.push(item);
  }

  private exception(
    base: ReconciliationItem,
    cls: ExceptionClass,
    reasonCode: string,
    reason: string,
  ): void {
    this.exceptions.push({ ...base, class: cls, reasonCode, reason });
  }

  /** Within tolerance: the item and its true-up; beyond it: the exception given. */
  private trueUpOrException(
    base: ReconciliationItem,
    tolerance: Tolerance,
    expectedMinor: bigint,
    varianceMinor: bigint,
    trueUp: TrueUp,
    [cls, reasonCode, reason]: [ExceptionClass, string, string],
  ): void {
    if (withinTolerance(tolerance, base.currency, expectedMinor, varianceMinor)) {
      this.tolerance.push({
        ...base,
        toleranceMinor: toleranceMinor(tolerance, base.currency, expectedMinor),
        trueUp,
      });
    } else {
      this.exception(base, cls, reasonCode, reason);
    }
  }

  private trueUp(
    account: AccountCode,
    counterAccount: AccountCode,
    amountMinor: bigint,
    currency: string,
  ): TrueUp {
    // Revenue runs credit, fee expense runs debit.
    const creditNatured = account === '4000' || account === '4100';
    const increase = amountMinor > 0n;
    const accountDebited = creditNatured ? !increase : increase;
    return {
      account,
      counterAccount,
      amountMinor,
      debitAccount: accountDebited ? account : counterAccount,
      creditAccount: accountDebited ? counterAccount : account,
      absoluteMinor: absBigint(amountMinor),
      currency,
      period: this.config.firstOpenPeriod,
      mode: this.config.trueUpMode,
    };
  }

  private money(amount: bigint, currency: string): string {
    try {
      return `${formatMajorAmount(amount, currency)} ${currency}`;
    } catch {
      return `${amount} minor units of ${currency}`;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Billing and fees
  // -------------------------------------------------------------------------------------------

  private actualFor(line: number, invoice: ExpectedInvoice): bigint {
    return invoice.netPresentation ? this.chargeOf(line) - this.feeOf(line) : this.chargeOf(line);
  }

  /** Pass-1 key of an expected invoice: its usage month (negative) or its invoice day. */
  private invoiceKey(invoice: ExpectedInvoice): number {
    if (invoice.kind === 'usage' && invoice.usagePeriod !== null) {
      const year = Number(invoice.usagePeriod.slice(0, 4));
      const month = Number(invoice.usagePeriod.slice(5, 7));
      return -(year * 12 + month);
    }
    return parseDayCached(invoice.invoiceDate);
  }

  private matchBilling(contract: ExpectedContract, billing: readonly number[]): void {
    const invoices = contract.invoices;
    const used = new Uint8Array(billing.length);
    const pairedLine = new Int32Array(invoices.length).fill(NONE);
    // Pass 1: by key (usage month, or invoice day); the closest amount first. A line has two
    // keys: its invoice day (≥ 0) and its usage month (negative), so one list per key holds a
    // line at most once, in position order.
    const days = new Int32Array(billing.length);
    const months = new Int32Array(billing.length);
    for (let position = 0; position < billing.length; position += 1) {
      const line = billing[position] ?? 0;
      days[position] = this.lines.invoiceDay[line] ?? NONE;
      months[position] = -this.usageMonth(line);
    }
    // Small contracts (nearly all) scan their few lines; large ones index them by key.
    let byKey: Map<number, number[]> | null = null;
    if (billing.length * invoices.length > 1_024) {
      byKey = new Map<number, number[]>();
      const index = (key: number, position: number) => {
        const list = byKey?.get(key);
        if (list) list.push(position);
        else byKey?.set(key, [position]);
      };
      for (let position = 0; position < billing.length; position += 1) {
        const day = days[position] ?? NONE;
        if (day !== NONE) index(day, position);
        const month = months[position] ?? 0;
        if (month !== 0) index(month, position);
      }
    }
    const candidates: number[] = [];
    let unpaired = 0;
    for (let i = 0; i < invoices.length; i += 1) {
      const invoice = invoices[i] as ExpectedInvoice;
      let best = NONE;
      let bestDistance = 0n;
      const key = this.invoiceKey(invoice);
      let positions: readonly number[];
      if (byKey !== null) positions = byKey.get(key) ?? [];
      else {
        candidates.length = 0;
        for (let position = 0; position < billing.length; position += 1) {
          if (key >= 0 ? days[position] === key : months[position] === key) {
            candidates.push(position);
          }
        }
        positions = candidates;
      }
      for (const position of positions) {
        if (used[position] === 1) continue;
        const distance = absBigint(
          this.actualFor(billing[position] ?? 0, invoice) - invoice.grossMinor,
        );
        if (best === NONE || distance < bestDistance) {
          best = position;
          bestDistance = distance;
        }
      }
      if (best === NONE) unpaired += 1;
      else {
        used[best] = 1;
        pairedLine[i] = best;
      }
    }
    // Pass 2: equal amount within the window, nearest day first.
    if (unpaired > 0 && billing.length > invoices.length - unpaired) {
      for (let i = 0; i < invoices.length; i += 1) {
        if (pairedLine[i] !== NONE) continue;
        const invoice = invoices[i] as ExpectedInvoice;
        const day = parseDayCached(invoice.invoiceDate);
        let best = NONE;
        let bestDistance = 0;
        for (let position = 0; position < billing.length; position += 1) {
          const line = billing[position] ?? 0;
          if (used[position] === 1 || this.actualFor(line, invoice) !== invoice.grossMinor)
            continue;
          const lineDay = this.lines.invoiceDay[line] ?? NONE;
          const distance = lineDay === NONE ? this.config.matchWindowDays : Math.abs(lineDay - day);
          if (distance > this.config.matchWindowDays) continue;
          if (best === NONE || distance < bestDistance) {
            best = position;
            bestDistance = distance;
          }
        }
        if (best !== NONE) {
          used[best] = 1;
          pairedLine[i] = best;
        }
      }
    }
    invoices.forEach((invoice, index) => {
      const position = pairedLine[index] ?? NONE;
      if (position !== NONE) {
        const line = billing[position] ?? 0;
        this.invoiceLine[index] = line;
        this.comparePair(contract, invoice, line);
        return;
      }
      const base = this.item(
        'billing',
        contract,
        invoice.invoiceId,
        NO_KEYS,
        null,
        invoice.currency,
        invoice.grossMinor,
        null,
      );
      if (this.inWindow(invoice.invoiceDate)) {
        this.exception(
          base,
          'unmatched_internal',
          'not_billed',
          `${invoice.kind === 'usage' ? `Usage ${invoice.usagePeriod}` : `Installment of ${invoice.invoiceDate}`} (${this.money(invoice.grossMinor, invoice.currency)}) is not in the marketplace's file`,
        );
      }
    });
    billing.forEach((line, position) => {
      if (used[position] === 1) return;
      const currency = this.currencyOf(line);
      this.exception(
        this.item(
          'billing',
          contract,
          null,
          this.keysOf(line),
          this.lines.fileLine[line] ?? 0,
          currency,
          null,
          this.chargeOf(line),
        ),
        'unmatched_external',
        'no_expected_invoice',
        `Billed ${this.money(this.chargeOf(line), currency)} on ${this.lineDate(line) ?? 'an unknown date'}, but the ledger expects no such invoice on ${contract.contractId}`,
      );
    });
  }

  private comparePair(contract: ExpectedContract, invoice: ExpectedInvoice, line: number): void {
    const currency = this.currencyOf(line);
    const keys = this.keysOf(line);
    const fileLine = this.lines.fileLine[line] ?? 0;
    const charge = this.chargeOf(line);
    if (currency !== invoice.currency) {
      this.exception(
        this.item(
          'billing',
          contract,
          invoice.invoiceId,
          keys,
          fileLine,
          currency,
          invoice.grossMinor,
          charge,
        ),
        'fx_variance',
        'currency',
        `Billed in ${currency}, but the ledger invoiced ${invoice.currency} (${this.money(invoice.grossMinor, invoice.currency)} expected, ${this.money(charge, currency)} billed)`,
      );
      return;
    }
    const net = invoice.netPresentation;
    const fee = this.feeOf(line);
    const actual = net ? charge - fee : charge;
    const variance = actual - invoice.grossMinor;
    const kind: ToleranceKind = invoice.kind === 'usage' ? 'usage' : 'installment';
    const billingTolerance = this.config.tolerances[kind];
    const billingWithin =
      variance !== 0n && withinTolerance(billingTolerance, currency, invoice.grossMinor, variance);
    const billingException = variance !== 0n && !billingWithin;
    const expectedFeeOnActual =
      variance === 0n || invoice.grossMinor === 0n
        ? invoice.feeMinor
        : divHalfUp(invoice.feeMinor * actual, invoice.grossMinor);
    const feeVariance = net ? 0n : fee - expectedFeeOnActual;
    const bookDifference = net ? 0n : fee - invoice.feeMinor;
    if (variance === 0n && feeVariance === 0n) {
      this.matchedFrom(
        this.item(
          'billing',
          contract,
          invoice.invoiceId,
          keys,
          fileLine,
          currency,
          invoice.grossMinor,
          actual,
        ),
        net ? null : invoice.feeMinor,
        net ? null : fee,
        this.lines.disbursed[line] ?? 0n,
        null,
      );
      return;
    }
    const receivable = contract.receivableAccount;
    if (variance !== 0n) {
      const base = this.item(
        'billing',
        contract,
        invoice.invoiceId,
        keys,
        fileLine,
        currency,
        invoice.grossMinor,
        actual,
      );
      if (billingWithin) {
        this.tolerance.push({
          ...base,
          toleranceMinor: toleranceMinor(billingTolerance, currency, invoice.grossMinor),
          trueUp: this.trueUp(
            invoice.kind === 'usage' ? '4100' : '4000',
            invoice.invoiced ? receivable : this.config.unbilledAccount,
            variance,
            currency,
          ),
        });
      } else {
        const forgiven = (this.lines.forgivenCharge[line] ?? 0n) !== 0n;
        this.exception(
          base,
          'amount_variance',
          forgiven ? 'forgiven' : 'amount',
          forgiven
            ? `The marketplace forgave ${this.money(-(this.lines.forgivenCharge[line] ?? 0n), currency)} of the invoice: the buyer will not pay it`
            : `Billed ${this.money(actual, currency)}, the ledger expects ${this.money(invoice.grossMinor, currency)} (variance ${this.money(variance, currency)})`,
        );
      }
    }
    if (net) return;
    const feeTolerance = this.config.tolerances.fee;
    const feeBase = this.item(
      'fee',
      contract,
      invoice.invoiceId,
      keys,
      fileLine,
      currency,
      invoice.feeMinor,
      fee,
    );
    const trueUpFee = (amount: bigint) =>
      this.tolerance.push({
        ...feeBase,
        toleranceMinor: toleranceMinor(feeTolerance, currency, expectedFeeOnActual),
        trueUp: this.trueUp('5100', invoice.invoiced ? receivable : '2200', amount, currency),
      });
    if (feeVariance === 0n) {
      // The fee follows the billed amount at the expected rate; book the difference with it.
      if (billingWithin && bookDifference !== 0n) trueUpFee(bookDifference);
      return;
    }
    if (withinTolerance(feeTolerance, currency, expectedFeeOnActual, feeVariance)) {
      trueUpFee(billingException ? feeVariance : bookDifference);
      return;
    }
    const why = this.explainFee(actual, fee, invoice.feeMinor, invoice.grossMinor);
    this.exception(
      { ...feeBase, expectedMinor: expectedFeeOnActual, varianceMinor: feeVariance },
      'fee_variance',
      why.code,
      `Fee ${this.money(fee, currency)}, expected ${this.money(expectedFeeOnActual, currency)}: ${why.reason}`,
    );
  }

  /** Why a fee differs: which published rate the marketplace's fee fits. */
  private explainFee(
    gross: bigint,
    fee: bigint,
    expectedFee: bigint,
    expectedGross: bigint,
  ): { code: string; reason: string } {
    if (gross === 0n) return { code: 'unexplained', reason: 'a fee on nothing billed' };
    const fits = (rate: Rational) =>
      rate.num >= 0n && absBigint(fee - divHalfUp(gross * rate.num, rate.den)) <= 1n;
    const actualRate = rational(fee, gross);
    const expectedRate = expectedGross === 0n ? null : rational(expectedFee, expectedGross);
    const uplift = this.config.channelUplift;
    if (expectedRate !== null) {
      if (fits(addRational(expectedRate, uplift))) {
        return {
          code: 'cppo_uplift_applied',
          reason: `the marketplace charged ${percent(addRational(expectedRate, uplift))} instead of ${percent(expectedRate)}: a channel (CPPO) uplift applied where it should not be`,
        };
      }
      const without = subtractRational(expectedRate, uplift);
      if (without.num > 0n && fits(without)) {
        return {
          code: 'cppo_uplift_missing',
          reason: `the marketplace charged ${percent(without)} instead of ${percent(expectedRate)}: the channel (CPPO) uplift is missing`,
        };
      }
    }
    if (fits(this.config.renewalRate) && (expectedRate === null || !fits(expectedRate))) {
      return {
        code: 'renewal_rate',
        reason: `the marketplace applied the renewal rate ${percent(this.config.renewalRate)}${expectedRate ? ` instead of ${percent(expectedRate)}` : ''}`,
      };
    }
    for (const rate of this.config.knownFeeRates) {
      if (fits(rate)) {
        return {
          code: 'wrong_tier',
          reason: `the marketplace applied the ${percent(rate)} tier${expectedRate ? ` instead of ${percent(expectedRate)}` : ''}`,
        };
      }
    }
    return {
      code: 'unexplained',
      reason: `an effective rate of ${formatRational(multiplyRational(actualRate, rational(100n)), 4)}% fits no published tier`,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Refunds and adjustments
  // -------------------------------------------------------------------------------------------

  private matchRefunds(contract: ExpectedContract, refundLines: readonly number[]): void {
    const external = refundLines.map((line) => ({ line, ...this.refundOf(line) }));
    const used = new Uint8Array(external.length);
    const pairs: [ExpectedRefund, number][] = [];
    const unpaired: ExpectedRefund[] = [];
    const nearest = (refund: ExpectedRefund, sameAmount: boolean) => {
      const day = parseDay(refund.date);
      let best = NONE;
      let bestDistance = 0;
      external.forEach((candidate, position) => {
        if (used[position] === 1) return;
        if (sameAmount && candidate.amount !== refund.amountMinor) return;
        const lineDay = this.lines.invoiceDay[candidate.line] ?? NONE;
        const distance = lineDay === NONE ? this.config.matchWindowDays : Math.abs(lineDay - day);
        if (!sameAmount && distance > this.config.matchWindowDays) return;
        if (best === NONE || distance < bestDistance) {
          best = position;
          bestDistance = distance;
        }
      });
      return best;
    };
    for (const refund of contract.refunds) {
      const best = nearest(refund, true);
      if (best === NONE) unpaired.push(refund);
      else {
        used[best] = 1;
        pairs.push([refund, best]);
      }
    }
    for (const refund of unpaired) {
      const best = nearest(refund, false);
      if (best !== NONE) {
        used[best] = 1;
        pairs.push([refund, best]);
        continue;
      }
      if (this.inWindow(refund.date)) {
        this.exception(
          this.item(
            'refund',
            contract,
            refund.refundId,
            NO_KEYS,
            null,
            refund.currency,
            refund.amountMinor,
            null,
          ),
          'unmatched_internal',
          'refund_not_in_file',
          `The ledger settled a refund of ${this.money(refund.amountMinor, refund.currency)} on ${refund.date} that the marketplace's file does not show`,
        );
      }
    }
    pairs.sort(([a], [b]) => (a.refundId < b.refundId ? -1 : a.refundId > b.refundId ? 1 : 0));
    for (const [refund, position] of pairs) {
      const ext = external[position];
      if (!ext) continue;
      const currency = this.currencyOf(ext.line);
      const keys = this.keysOf(ext.line);
      const fileLine = this.lines.fileLine[ext.line] ?? 0;
      const base = this.item(
        'refund',
        contract,
        refund.refundId,
        keys,
        fileLine,
        currency,
        refund.amountMinor,
        ext.amount,
      );
      if (currency !== refund.currency) {
        this.exception(
          base,
          'fx_variance',
          'currency',
          `Refunded in ${currency}, the ledger settled ${refund.currency}`,
        );
        continue;
      }
      const variance = ext.amount - refund.amountMinor;
      const feeVariance = ext.fee - refund.feeRefundMinor;
      if (variance === 0n && feeVariance === 0n) {
        this.matchedFrom(base, refund.feeRefundMinor, ext.fee, null, null);
        continue;
      }
      const refundTolerance = this.config.tolerances.refund;
      if (variance !== 0n) {
        this.trueUpOrException(
          base,
          refundTolerance,
          refund.amountMinor,
          variance,
          this.trueUp('4000', contract.receivableAccount, -variance, currency),
          [
            'amount_variance',
            'refund_amount',
            `Refunded ${this.money(ext.amount, currency)}, the ledger settled ${this.money(refund.amountMinor, currency)}`,
          ],
        );
      }
      if (feeVariance !== 0n) {
        const feeTolerance = this.config.tolerances.fee;
        const feeBase = this.item(
          'fee',
          contract,
          refund.refundId,
          keys,
          fileLine,
          currency,
          refund.feeRefundMinor,
          ext.fee,
        );
        this.trueUpOrException(
          feeBase,
          feeTolerance,
          refund.feeRefundMinor,
          feeVariance,
          this.trueUp('5100', contract.receivableAccount, -feeVariance, currency),
          [
            'fee_variance',
            'fee_refund',
            `The marketplace refunded ${this.money(ext.fee, currency)} of its fee, the ledger expects ${this.money(refund.feeRefundMinor, currency)}`,
          ],
        );
      }
    }
    external.forEach((ext, position) => {
      if (used[position] === 1) return;
      const currency = this.currencyOf(ext.line);
      this.exception(
        this.item(
          'refund',
          contract,
          null,
          this.keysOf(ext.line),
          this.lines.fileLine[ext.line] ?? 0,
          currency,
          null,
          ext.amount,
        ),
        'unmatched_external',
        'refund_not_in_ledger',
        `The marketplace refunded ${this.money(ext.amount, currency)} (fee back ${this.money(ext.fee, currency)}) on ${this.lineDate(ext.line) ?? 'an unknown date'}; the ledger has no such refund`,
      );
    });
  }

  /** A line of an unknown contract, or an adjustment: always an exception. */
  private unmatchedLine(contract: ExpectedContract | null, line: number): void {
    const L = this.lines;
    const currency = this.currencyOf(line);
    const keys = this.keysOf(line);
    const fileLine = L.fileLine[line] ?? 0;
    const adjustment = L.adjustment[line] ?? 0n;
    if (adjustment !== 0n) {
      this.exception(
        this.item('billing', contract, null, keys, fileLine, currency, null, adjustment),
        'unmatched_external',
        'balance_adjustment',
        `A balance adjustment of ${this.money(adjustment, currency)} the ledger has no counterpart for`,
      );
    }
    if (contract !== null) return;
    const refund = this.refundOf(line);
    const amount = this.isBillingLine(line)
      ? this.chargeOf(line) !== 0n
        ? this.chargeOf(line)
        : -this.feeOf(line)
      : refund.amount !== 0n
        ? -refund.amount
        : refund.fee;
    if (amount === 0n && !this.isBillingLine(line) && refund.amount === 0n && refund.fee === 0n)
      return;
    this.exception(
      this.item(
        this.isBillingLine(line) ? 'billing' : 'refund',
        null,
        null,
        keys,
        fileLine,
        currency,
        null,
        amount,
      ),
      'unmatched_external',
      'no_contract',
      keys.agreementId
        ? `Agreement ${keys.agreementId} is not a contract in the ledger (${this.money(amount, currency)} on ${this.lineDate(line) ?? 'an unknown date'})`
        : `A line with no agreement the ledger knows (${this.money(amount, currency)} on ${this.lineDate(line) ?? 'an unknown date'})`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Cash and bank
  // -------------------------------------------------------------------------------------------

  private bankByPayout(): Map<number, BankLine> {
    const out = new Map<number, BankLine>();
    if (this.bankLines.length === 0) return out;
    const byReference = new Map<string, BankLine[]>();
    for (const line of this.bankLines) {
      const key = bankReferenceKey(line.reference);
      if (key === '') continue;
      const list = byReference.get(key);
      if (list) list.push(line);
      else byReference.set(key, [line]);
    }
    const usedLines = new Set<BankLine>();
    const payouts = [...this.resolved.payouts].sort((a, b) =>
      a.payoutId < b.payoutId ? -1 : a.payoutId > b.payoutId ? 1 : 0,
    );
    for (const payout of payouts) {
      if (payout.failed || payout.slot === NONE || payout.bankReference === null) continue;
      const currency = payout.payoutCurrency ?? payout.currency ?? '';
      const amount = payout.payoutAmountMinor ?? payout.amountMinor ?? 0n;
      const candidates = (byReference.get(bankReferenceKey(payout.bankReference)) ?? []).filter(
        (l) => !usedLines.has(l),
      );
      const keys: ExternalKeys = {
        ...NO_KEYS,
        recordId: payout.payoutId,
        payoutId: payout.payoutId,
        bankReference: payout.bankReference,
      };
      const exact = candidates.find((l) => l.currency === currency && l.amountMinor === amount);
      const base = (actual: bigint | null) =>
        this.item('bank', null, null, keys, payout.line, currency, amount, actual);
      if (exact) {
        usedLines.add(exact);
        out.set(payout.index, exact);
        this.matchedFrom(base(exact.amountMinor), null, null, null, null);
        this.bankMatched.set(currency, (this.bankMatched.get(currency) ?? 0n) + amount);
        continue;
      }
      const other = candidates[0];
      if (other) {
        usedLines.add(other);
        out.set(payout.index, other);
        this.exception(
          base(other.amountMinor),
          other.currency !== currency ? 'fx_variance' : 'amount_variance',
          'bank_amount',
          `The bank received ${this.money(other.amountMinor, other.currency)} (statement line ${other.line}) for payout ${payout.payoutId} of ${this.money(amount, currency)}`,
        );
        continue;
      }
      if (payout.day === null || payout.day <= this.asOfDay - this.config.bankGraceDays) {
        this.exception(
          base(null),
          'unmatched_external',
          'not_on_bank_statement',
          `Payout ${payout.payoutId} of ${this.money(amount, currency)} (bank trace ${payout.bankReference}) is not on the bank statement`,
        );
      }
    }
    this.bankLinesUnmatched = this.bankLines.length - usedLines.size;
    return out;
  }

  /** Payout-level checks: a payout's total against its disbursed lines. */
  private payoutChecks(): void {
    for (const payout of this.sortedPayouts()) {
      if (payout.failed || payout.amountMinor === null) continue;
      const total = this.payoutTotals[payout.index] ?? 0n;
      if (payout.amountMinor === total) continue;
      const currency = payout.currency ?? '';
      this.exception(
        this.item(
          'cash',
          null,
          null,
          this.payoutKeys(payout),
          payout.line,
          currency,
          total,
          payout.amountMinor,
        ),
        'amount_variance',
        'payout_total',
        `Payout ${payout.payoutId} is ${this.money(payout.amountMinor, currency)}, its disbursed lines add up to ${this.money(total, currency)}`,
      );
    }
  }

  private sortedPayouts(): Payout[] {
    return [...this.resolved.payouts].sort((a, b) =>
      a.payoutId < b.payoutId ? -1 : a.payoutId > b.payoutId ? 1 : 0,
    );
  }

  private payoutKeys(payout: Payout): ExternalKeys {
    return {
      ...NO_KEYS,
      recordId: payout.payoutId,
      payoutId: payout.payoutId,
      bankReference: payout.bankReference,
    };
  }

  /**
   * A contract's payouts: what each pays of its lines (and of its key, for disbursed records
   * whose invoice is not in the file), against what the ledger recorded under that payout id;
   * the rest become DisbursementReceived candidates, as far as the receivable holds them.
   */
  /** A disbursed record into its contract's per-payout sums. */
  private takeDisbursed(i: number, accs: Map<number, CashAcc>): void {
    const D = this.resolved.disbursed;
    const part = D.part[i] ?? PART_OFF_BALANCE;
    const p = D.payout[i] ?? 0;
    this.payoutClaimed[p] = 1;
    if (part !== PART_RECEIVABLE) return;
    const currency = D.currency[i] ?? 0;
    let acc = accs.get(p);
    if (!acc) {
      acc = { payout: p, currency, settles: 0n, mixed: false, latestDay: NONE };
      accs.set(p, acc);
    }
    if (acc.currency !== currency) acc.mixed = true;
    acc.settles += D.settles[i] ?? 0n;
    const day = D.day[i] ?? NONE;
    if (day > acc.latestDay) acc.latestDay = day;
  }

  private contractCash(contract: ExpectedContract, lines: readonly number[]): void {
    const R = this.resolved;
    const accs = new Map<number, CashAcc>();
    for (const line of lines) {
      const end = R.lineDisbursedStart[line + 1] ?? 0;
      for (let at = R.lineDisbursedStart[line] ?? 0; at < end; at += 1) {
        this.takeDisbursed(R.lineDisbursed[at] ?? 0, accs);
      }
    }
    if (R.keyDisbursed.size > 0) {
      for (const key of contract.keys) {
        for (const i of R.keyDisbursed.get(this.store.keyIndex(key)) ?? [])
          this.takeDisbursed(i, accs);
      }
    }
    if (accs.size === 0 && contract.disbursements.length === 0) return;
    // A contract records a few payouts: looked up by a scan (the last of an id wins, as a map
    // built from the list would have it), by a map when there are many.
    const disbursements = contract.disbursements;
    const recordedMap =
      disbursements.length > 16 ? new Map(disbursements.map((d) => [d.disbursementId, d])) : null;
    const recorded = (id: string) => {
      if (recordedMap !== null) return recordedMap.get(id);
      for (let i = disbursements.length - 1; i >= 0; i -= 1) {
        if (disbursements[i]?.disbursementId === id) return disbursements[i];
      }
      return undefined;
    };
    const seen: string[] = [];
    let pending = 0n;
    const payouts: { acc: CashAcc; payout: Payout }[] = [];
    for (const acc of accs.values()) {
      const payout = R.payouts[acc.payout];
      if (payout !== undefined) payouts.push({ acc, payout });
    }
    if (payouts.length > 1) {
      payouts.sort((a, b) =>
        a.payout.payoutId < b.payout.payoutId ? -1 : a.payout.payoutId > b.payout.payoutId ? 1 : 0,
      );
    }
    for (const { acc, payout } of payouts) {
      seen.push(payout.payoutId);
      const currency = this.store.currencies[acc.currency] ?? '';
      const keys = this.payoutKeys(payout);
      const line = payout.slot === NONE ? null : payout.line;
      if (payout.failed) {
        this.exception(
          this.item(
            'cash',
            contract,
            payout.payoutId,
            keys,
            payout.failureLine || payout.line,
            currency,
            acc.settles,
            0n,
          ),
          'disbursement_failed',
          'payout_failed',
          `Payout ${payout.payoutId} failed or was reversed: ${this.money(acc.settles, currency)} of ${contract.contractId} is still receivable`,
        );
        continue;
      }
      const base = this.item(
        'cash',
        contract,
        payout.payoutId,
        keys,
        line,
        currency,
        null,
        acc.settles,
      );
      if (acc.mixed || currency !== contract.currency) {
        this.exception(
          base,
          'fx_variance',
          'currency',
          `Payout ${payout.payoutId} settles ${contract.contractId} in ${acc.mixed ? 'several currencies' : currency}, its receivable is in ${contract.currency}`,
        );
        continue;
      }
      const done = recorded(payout.payoutId);
      if (done) {
        if (done.settlesMinor === acc.settles) {
          this.matchedFrom(base, null, null, acc.settles, true, done.settlesMinor);
        } else {
          this.exception(
            {
              ...base,
              expectedMinor: done.settlesMinor,
              varianceMinor: acc.settles - done.settlesMinor,
            },
            'amount_variance',
            'recorded_amount',
            `The ledger recorded ${this.money(done.settlesMinor, currency)} for payout ${payout.payoutId}, the marketplace disbursed ${this.money(acc.settles, currency)}`,
          );
        }
        continue;
      }
      const available = contract.receivableMinor + this.plannedReceivableMinor - pending;
      if (acc.settles <= 0n || acc.settles > available) {
        this.exception(
          { ...base, expectedMinor: available, varianceMinor: acc.settles - available },
          'amount_variance',
          acc.settles <= 0n ? 'negative_payout' : 'exceeds_receivable',
          acc.settles <= 0n
            ? `Payout ${payout.payoutId} takes ${this.money(-acc.settles, currency)} back from ${contract.contractId}`
            : `Payout ${payout.payoutId} pays ${this.money(acc.settles, currency)} on ${contract.contractId}, whose receivable holds ${this.money(available, currency)}`,
        );
        continue;
      }
      pending += acc.settles;
      this.matchedFrom(base, null, null, acc.settles, false, acc.settles);
      // The cash: in the payout's own currency when it converted (this contract's share of it).
      let cash = acc.settles;
      let cashCurrency = currency;
      const total = this.payoutTotals[payout.index] ?? 0n;
      if (payout.payoutCurrency !== null && payout.payoutAmountMinor !== null && total !== 0n) {
        cash = divHalfEven(payout.payoutAmountMinor * acc.settles, total);
        cashCurrency = payout.payoutCurrency;
      }
      // The day the cash arrived: the bank's, else the payout's, else its rows' latest update.
      const bankLine = this.bankLineOf.get(payout.index);
      const day =
        bankLine?.day ?? payout.day ?? (acc.latestDay !== NONE ? acc.latestDay : this.asOfDay);
      this.candidates.push({
        contractId: contract.contractId,
        disbursementId: payout.payoutId,
        date: dateOfDay(Math.min(day, this.asOfDay)),
        currency: cashCurrency,
        amountMinor: cash,
        settlesCurrency: currency,
        settlesMinor: acc.settles,
        bankTraceId: payout.bankReference,
        line,
      });
    }
    const seenSet = seen.length > 16 ? new Set(seen) : null;
    for (const d of disbursements) {
      const wasSeen =
        seenSet !== null ? seenSet.has(d.disbursementId) : seen.includes(d.disbursementId);
      if (wasSeen || !this.inWindow(d.date)) continue;
      this.exception(
        this.item(
          'cash',
          contract,
          d.disbursementId,
          NO_KEYS,
          null,
          d.currency,
          d.settlesMinor,
          null,
        ),
        'unmatched_internal',
        'disbursement_not_in_file',
        `The ledger recorded payout ${d.disbursementId} of ${this.money(d.settlesMinor, d.currency)} on ${d.date}; the marketplace's file does not show it`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Aging and roll-forward
  // -------------------------------------------------------------------------------------------

  private age(contract: ExpectedContract): void {
    const invoices = contract.invoices;
    let credits = -contract.receivableMinor;
    for (const i of invoices)
      if (i.invoiced && i.receivableMinor > 0n) credits += i.receivableMinor;
    // Consecutive contracts share an account and currency: no key string per contract.
    let summary =
      this.lastAging !== null &&
      this.lastAging.account === contract.receivableAccount &&
      this.lastAging.currency === contract.currency
        ? this.lastAging
        : this.agingSummaries.get(`${contract.receivableAccount}\u0000${contract.currency}`);
    if (!summary) {
      summary = {
        account: contract.receivableAccount,
        currency: contract.currency,
        buckets: { not_due: 0n, '1-30': 0n, '31-60': 0n, '61-90': 0n, '>90': 0n },
        openMinor: 0n,
        unappliedMinor: 0n,
      };
      this.agingSummaries.set(`${contract.receivableAccount}\u0000${contract.currency}`, summary);
    }
    this.lastAging = summary;
    for (let index = 0; index < invoices.length; index += 1) {
      const invoice = invoices[index] as ExpectedInvoice;
      if (!invoice.invoiced || invoice.receivableMinor <= 0n) continue;
      const applied =
        credits <= 0n ? 0n : credits < invoice.receivableMinor ? credits : invoice.receivableMinor;
      credits -= applied;
      const open = invoice.receivableMinor - applied;
      if (open === 0n) continue;
      const line = this.invoiceLine[index] ?? NONE;
      const feedDue = line === NONE ? NONE : (this.lines.dueDay[line] ?? NONE);
      const dueDay = feedDue !== NONE ? feedDue : parseDayCached(invoice.dueDate);
      const daysPastDue = this.asOfDay - dueDay;
      const bucket: AgingBucket =
        daysPastDue <= 0
          ? 'not_due'
          : daysPastDue <= 30
            ? '1-30'
            : daysPastDue <= 60
              ? '31-60'
              : daysPastDue <= 90
                ? '61-90'
                : '>90';
      summary.buckets[bucket] += open;
      summary.openMinor += open;
      this.agingItems.push({
        contractId: contract.contractId,
        invoiceId: invoice.invoiceId,
        currency: contract.currency,
        invoiceDate: invoice.invoiceDate,
        dueDate: dateOfDay(dueDay),
        daysPastDue,
        bucket,
        openMinor: open,
        feedDisbursedMinor: line === NONE ? 0n : (this.lines.disbursed[line] ?? 0n),
        keys: line === NONE ? NO_KEYS : this.keysOf(line),
        line: line === NONE ? null : (this.lines.fileLine[line] ?? null),
      });
    }
    summary.unappliedMinor += credits;
  }

  private rollForward(rollForward: readonly ReceivableRollForward[]): RollForwardReport[] {
    return rollForward.map((rf) => {
      const summary = this.agingSummaries.get(`${rf.account}\u0000${rf.currency}`);
      const openItems = summary ? summary.openMinor - summary.unappliedMinor : 0n;
      const ledger = this.config.ledgerBalances.find(
        (b) => b.account === rf.account && b.currency === rf.currency,
      );
      return {
        ...rf,
        openItemsMinor: openItems,
        tiesToOpenItems: openItems === rf.transaction.closingMinor,
        ledgerBalanceMinor: ledger?.balanceMinor ?? null,
        tiesToLedger: ledger ? ledger.balanceMinor === rf.transaction.closingMinor : null,
      };
    });
  }

  // -------------------------------------------------------------------------------------------
  // The run
  // -------------------------------------------------------------------------------------------

  addContract(contract: ExpectedContract): void {
    const taken = this.contractIds.length;
    if (2 * taken + 2 > this.contractPrints.length) {
      const grown = new Int32Array(this.contractPrints.length * 2);
      grown.set(this.contractPrints);
      this.contractPrints = grown;
    }
    fingerprintInto(contract.contractId, this.print);
    this.contractPrints[2 * taken] = this.print.lo;
    this.contractPrints[2 * taken + 1] = this.print.hi;
    this.contractIds.push(contract.contractId);
    // The line each expected invoice matched (by its index), for the aging's due date.
    if (this.invoiceLine.length < contract.invoices.length) {
      this.invoiceLine = new Int32Array(contract.invoices.length * 2);
    }
    this.invoiceLine.fill(NONE, 0, contract.invoices.length);
    const toleranceFrom = this.tolerance.length;
    const own = this.claimLines(contract);
    const billing: number[] = [];
    const refunds: number[] = [];
    for (const line of own) {
      if (this.isBillingLine(line)) billing.push(line);
      if (this.isRefundLine(line)) refunds.push(line);
    }
    this.matchBilling(contract, billing);
    if (refunds.length > 0 || contract.refunds.length > 0) this.matchRefunds(contract, refunds);
    for (const line of own) {
      if (!isZeroInt64(this.words.adjustment, line)) this.unmatchedLine(contract, line);
    }
    this.plannedReceivableMinor = this.plannedReceivable(contract, toleranceFrom);
    this.contractCash(contract, own);
    this.age(contract);
  }

  /** The change this run's within-tolerance true-ups of the contract make to its receivable. */
  private plannedReceivable(contract: ExpectedContract, from: number): bigint {
    if (this.config.trueUpMode !== 'post') return 0n;
    let change = 0n;
    for (let i = from; i < this.tolerance.length; i += 1) {
      const item = this.tolerance[i];
      if (item === undefined || item.contractId !== contract.contractId) continue;
      if (!item.trueUp.counterAccount.startsWith('12')) continue;
      const posted = this.postedTrueUps?.get(trueUpKey(item))?.amountMinor ?? 0n;
      // Raising revenue (credit-natured) raises the receivable; raising a fee expense lowers it.
      const account = item.trueUp.account;
      const sign = account.startsWith('4') || account.startsWith('2') ? 1n : -1n;
      change += sign * (item.trueUp.amountMinor - posted);
    }
    return change;
  }

  /** Throws when a contract was added twice (a fault of the ledger's reader). */
  private checkContractsOnce(): void {
    // The fingerprints as 64-bit integers, sorted natively: a repeat is two equal neighbours.
    const count = this.contractIds.length;
    const sorted = new BigInt64Array(this.contractPrints.buffer, 0, count).slice().sort();
    const w = new Int32Array(sorted.buffer);
    let repeated = false;
    for (let k = 1; k < count && !repeated; k += 1) {
      repeated = w[2 * k] === w[2 * k - 2] && w[2 * k + 1] === w[2 * k - 1];
    }
    if (!repeated) return;
    // Equal fingerprints: the same id, unless (never seen) two ids share one. By the ids, then.
    const seen = new Set<string>();
    for (const id of this.contractIds) {
      if (seen.has(id)) throw new Error(`Contract ${id} was added twice`);
      seen.add(id);
    }
  }

  result(
    rollForwardLines: readonly ReceivableRollForward[],
    rowErrors: readonly RowError[],
    rowErrorCount: number,
  ): ReconciliationResult {
    this.checkContractsOnce();
    const L = this.lines;
    const unclaimed: number[] = [];
    for (let line = 0; line < L.count; line += 1)
      if (this.claimed[line] === 0) unclaimed.push(line);
    unclaimed.sort(
      (a, b) =>
        (L.invoiceDay[a] ?? 0) - (L.invoiceDay[b] ?? 0) ||
        (L.sortHi[a] ?? 0) - (L.sortHi[b] ?? 0) ||
        (L.sortLo[a] ?? 0) - (L.sortLo[b] ?? 0),
    );
    for (const line of unclaimed) this.unmatchedLine(null, line);
    // Failed payouts no contract took still need a word.
    for (const payout of this.sortedPayouts()) {
      if (!payout.failed || this.payoutClaimed[payout.index] === 1) continue;
      const currency = payout.currency ?? '';
      this.exception(
        this.item(
          'cash',
          null,
          null,
          this.payoutKeys(payout),
          payout.failureLine || payout.line,
          currency,
          payout.amountMinor ?? this.payoutTotals[payout.index] ?? 0n,
          0n,
        ),
        'disbursement_failed',
        'payout_failed',
        `Payout ${payout.payoutId} failed or was reversed`,
      );
    }
    const rollForward = this.rollForward(rollForwardLines);

    const levelOrder = (level: ReconciliationLevel) => RECONCILIATION_LEVELS.indexOf(level);
    const sortKey = (item: ReconciliationItem, extra: string) =>
      [
        item.contractId ?? '\uffff',
        String(levelOrder(item.level)),
        item.internalId ?? '',
        item.keys.agreementId ?? '',
        item.keys.recordId ?? '',
        item.keys.payoutId ?? '',
        extra,
        item.currency,
        String(item.expectedMinor ?? ''),
        String(item.actualMinor ?? ''),
      ].join('\u0000');
    const sorted = <T extends ReconciliationItem>(
      items: readonly T[],
      extra: (item: T) => string,
    ) =>
      items
        .map((item) => ({ item, key: sortKey(item, extra(item)) }))
        .sort((a, b) =>
          a.key < b.key ? -1 : a.key > b.key ? 1 : (a.item.line ?? 0) - (b.item.line ?? 0),
        )
        .map((k) => k.item);
    const exceptions = sorted(this.exceptions, (item) => item.class);
    const withinTolerance = sorted(this.tolerance, (item) => item.trueUp.account);
    const exceptionsByClass = Object.fromEntries(EXCEPTION_CLASSES.map((c) => [c, 0])) as Record<
      ExceptionClass,
      number
    >;
    for (const item of exceptions) exceptionsByClass[item.class] += 1;

    const agingSummary: AgingSummary[] = [...this.agingSummaries.values()]
      .filter((s) => s.openMinor !== 0n || s.unappliedMinor !== 0n)
      .sort((a, b) => (a.account + a.currency < b.account + b.currency ? -1 : 1));
    return {
      asOf: this.config.asOf,
      marketplace: this.config.marketplace,
      firstOpenPeriod: this.config.firstOpenPeriod,
      summary: {
        counts: {
          records: this.resolved.counts.records,
          superseded: this.resolved.counts.superseded,
          duplicates: this.resolved.counts.duplicates,
          conflicts: this.resolved.counts.conflicts,
          rowErrors: rowErrorCount,
          lines: L.count,
          payouts: this.resolved.payouts.length,
          matched: this.matchedCount,
          withinTolerance: withinTolerance.length,
          exceptions: exceptions.length,
          exceptionsByClass,
          pendingInternal: this.pendingInternal,
          outsideWindow: this.outsideWindow,
          disbursementCandidates: this.candidates.length,
          bankLines: this.bankLines.length,
          bankLinesUnmatched: this.bankLinesUnmatched,
        },
        currencies: this.currencySummaries(),
      },
      matched: this.matched,
      withinTolerance,
      exceptions,
      rowErrors: [...rowErrors].sort((a, b) => a.line - b.line),
      aging: { summary: agingSummary, items: this.agingItems },
      rollForward,
      disbursementCandidates: this.candidates,
    };
  }

  private currencySummaries(): CurrencySummary[] {
    const L = this.lines;
    const sums = new Map<number, bigint[]>();
    const at = (currency: number) => {
      let row = sums.get(currency);
      if (!row) {
        row = [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
        sums.set(currency, row);
      }
      return row;
    };
    for (let line = 0; line < L.count; line += 1) {
      const row = at(L.currency[line] ?? 0);
      row[0] = (row[0] ?? 0n) + (L.charge[line] ?? 0n);
      row[1] = (row[1] ?? 0n) + (L.fee[line] ?? 0n);
      row[2] =
        (row[2] ?? 0n) +
        (L.chargeRefund[line] ?? 0n) +
        (L.feeRefund[line] ?? 0n) +
        (L.chargeCredit[line] ?? 0n) +
        (L.feeCredit[line] ?? 0n);
      row[3] = (row[3] ?? 0n) + (L.forgivenCharge[line] ?? 0n) + (L.forgivenFee[line] ?? 0n);
      row[4] = (row[4] ?? 0n) + (L.adjustment[line] ?? 0n);
      row[5] = (row[5] ?? 0n) + (L.taxBalance[line] ?? 0n);
      row[6] = (row[6] ?? 0n) + (L.taxOther[line] ?? 0n);
    }
    const D = this.resolved.disbursed;
    const failed = new Set(
      this.resolved.payouts.filter((p: Payout) => p.failed).map((p) => p.index),
    );
    for (let i = 0; i < D.count; i += 1) {
      if ((D.part[i] ?? PART_OFF_BALANCE) !== 0 || failed.has(D.payout[i] ?? 0)) continue;
      const row = at(D.currency[i] ?? 0);
      row[7] = (row[7] ?? 0n) + (D.settles[i] ?? 0n);
    }
    return [...sums]
      .map(([index, row]) => {
        const currency = this.store.currencies[index] ?? '';
        const [
          billed = 0n,
          fees = 0n,
          refunds = 0n,
          forgiven = 0n,
          adjustments = 0n,
          taxes = 0n,
          taxesOther = 0n,
          disbursed = 0n,
        ] = row;
        const netDue = billed + fees + refunds + forgiven + adjustments;
        return {
          currency,
          billedMinor: billed,
          feesMinor: fees,
          refundsAndCreditsMinor: refunds,
          forgivenMinor: forgiven,
          adjustmentsMinor: adjustments,
          taxesMinor: taxes,
          taxesNotBalanceImpactingMinor: taxesOther,
          netDueMinor: netDue,
          disbursedMinor: disbursed,
          outstandingMinor: netDue - disbursed,
          bankMatchedMinor: this.bankMatched.get(currency) ?? 0n,
        };
      })
      .sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
  }
}

interface AgingSummaryAcc {
  account: AgingSummary['account'];
  currency: string;
  buckets: Record<AgingBucket, bigint>;
  openMinor: bigint;
  unappliedMinor: bigint;
}
