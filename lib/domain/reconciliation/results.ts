/**
 * What a reconciliation reports (finance.md §8 report layout): matched lines, lines within
 * tolerance with the true-up each needs, exceptions with their class and reason, row errors of
 * the file, the aging of uncollected receivables, the receivable roll-forward, the payouts to
 * record, and a summary. Every list is sorted by stable keys, never by file order, so a file
 * with duplicated, re-updated or shuffled rows reports the same as its clean equivalent (only
 * the `line` numbers, which point into the file, differ).
 */
import type { CalendarDate, Period } from '../calendar';
import type { AccountCode } from '../ledger';
import type { Marketplace } from '../schemas/primitives';
import type { ReceivableRollForward } from './expected';
import type { RowError } from './statement';

export const RECONCILIATION_LEVELS = ['billing', 'fee', 'refund', 'cash', 'bank'] as const;
export type ReconciliationLevel = (typeof RECONCILIATION_LEVELS)[number];

export const EXCEPTION_CLASSES = [
  'unmatched_internal',
  'unmatched_external',
  'amount_variance',
  'fee_variance',
  'fx_variance',
  'disbursement_failed',
] as const;
export type ExceptionClass = (typeof EXCEPTION_CLASSES)[number];

/** How the marketplace's file names the line. */
export interface ExternalKeys {
  /** The contract as the marketplace names it (AWS agreement id). */
  readonly agreementId: string | null;
  /** The record naming the line (AWS billing_event_id of its charge, or of the payout). */
  readonly recordId: string | null;
  /** The marketplace's invoice id. */
  readonly invoiceId: string | null;
  readonly payoutId: string | null;
  readonly bankReference: string | null;
}

export interface ReconciliationItem {
  readonly level: ReconciliationLevel;
  readonly contractId: string | null;
  /** Our id of it: the expected invoice (`invoice:…`, `usage:…`), refund or disbursement. */
  readonly internalId: string | null;
  readonly keys: ExternalKeys;
  /** The file row it came from (header = 1), when it came from a file. */
  readonly line: number | null;
  readonly currency: string;
  readonly expectedMinor: bigint | null;
  readonly actualMinor: bigint | null;
  /** actual − expected (0 when matched). */
  readonly varianceMinor: bigint;
}

export interface MatchedItem extends ReconciliationItem {
  /** Billing: the fee expected and charged (both positive). */
  readonly feeExpectedMinor: bigint | null;
  readonly feeActualMinor: bigint | null;
  /** Billing: paid out per the file so far. Cash: whether the ledger has recorded the payout. */
  readonly disbursedMinor: bigint | null;
  readonly recorded: boolean | null;
}

/**
 * A true-up (rule 16): `amountMinor` changes `account` in the direction it normally runs —
 * revenue (4000/4100) credit, fee expense (5100) debit — and `counterAccount` the other way;
 * `debitAccount`/`creditAccount` and `absoluteMinor` say the same as an entry would.
 */
export interface TrueUp {
  readonly account: AccountCode;
  readonly counterAccount: AccountCode;
  readonly amountMinor: bigint;
  readonly debitAccount: AccountCode;
  readonly creditAccount: AccountCode;
  readonly absoluteMinor: bigint;
  readonly currency: string;
  readonly period: Period;
  /** Posted automatically, or only proposed (a setting, rule 16). */
  readonly mode: 'post' | 'propose';
}

export interface ToleranceItem extends ReconciliationItem {
  readonly toleranceMinor: bigint;
  readonly trueUp: TrueUp;
}

export interface ReconciliationException extends ReconciliationItem {
  readonly class: ExceptionClass;
  /** Machine-readable: e.g. `no_contract`, `forgiven`, `cppo_uplift_applied`, `wrong_tier`. */
  readonly reasonCode: string;
  readonly reason: string;
}

/** A payout the app records as a DisbursementReceived event (once: its id is the payout's). */
export interface DisbursementCandidate {
  readonly contractId: string;
  /** The payout's id (AWS: the DISBURSEMENT billing event id). */
  readonly disbursementId: string;
  readonly date: CalendarDate;
  /** The cash, in the currency it arrives in. */
  readonly currency: string;
  readonly amountMinor: bigint;
  /** The receivable it settles. */
  readonly settlesCurrency: string;
  readonly settlesMinor: bigint;
  readonly bankTraceId: string | null;
  readonly line: number | null;
}

export const AGING_BUCKETS = ['not_due', '1-30', '31-60', '61-90', '>90'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

export interface AgingItem {
  readonly contractId: string;
  readonly invoiceId: string;
  readonly currency: string;
  readonly invoiceDate: CalendarDate;
  /** The marketplace's due date when its file gives one, else invoice date + terms. */
  readonly dueDate: CalendarDate;
  readonly daysPastDue: number;
  readonly bucket: AgingBucket;
  /** Still on the receivable (first in, first out against payouts and refunds). */
  readonly openMinor: bigint;
  /** Paid out per the marketplace's file, not yet recorded in the ledger. */
  readonly feedDisbursedMinor: bigint;
  readonly keys: ExternalKeys;
  readonly line: number | null;
}

export interface AgingSummary {
  readonly account: AccountCode;
  readonly currency: string;
  readonly buckets: Readonly<Record<AgingBucket, bigint>>;
  readonly openMinor: bigint;
  /** Credits no open invoice absorbs (negative: debits no invoice explains). */
  readonly unappliedMinor: bigint;
}

export interface RollForwardReport extends ReceivableRollForward {
  /** Σ open items − unapplied credits (the aging). */
  readonly openItemsMinor: bigint;
  readonly tiesToOpenItems: boolean;
  /** The GL balance given in the settings, and whether the closing equals it. */
  readonly ledgerBalanceMinor: bigint | null;
  readonly tiesToLedger: boolean | null;
}

export interface CurrencySummary {
  readonly currency: string;
  readonly billedMinor: bigint;
  readonly feesMinor: bigint;
  readonly refundsAndCreditsMinor: bigint;
  readonly forgivenMinor: bigint;
  readonly adjustmentsMinor: bigint;
  /** Taxes, kept apart: balance impacting (seller's) and not (collected and remitted by AWS). */
  readonly taxesMinor: bigint;
  readonly taxesNotBalanceImpactingMinor: bigint;
  /** billed + fees + refunds and credits + forgiven + adjustments (taxes apart). */
  readonly netDueMinor: bigint;
  /** Paid out per the file, in payouts that did not fail (taxes apart). */
  readonly disbursedMinor: bigint;
  readonly outstandingMinor: bigint;
  /** Payouts found on the bank statement. */
  readonly bankMatchedMinor: bigint;
}

export interface ReconciliationCounts {
  /** Records read from the file(s), before versions were resolved. */
  readonly records: number;
  readonly superseded: number;
  readonly duplicates: number;
  readonly conflicts: number;
  readonly rowErrors: number;
  readonly lines: number;
  readonly payouts: number;
  readonly matched: number;
  readonly withinTolerance: number;
  readonly exceptions: number;
  readonly exceptionsByClass: Readonly<Record<ExceptionClass, number>>;
  /** Expected invoices too recent to be missing yet (within the billing grace period). */
  readonly pendingInternal: number;
  /** Ledger items older than the file covers (before `windowStart`): not looked for in it. */
  readonly outsideWindow: number;
  readonly disbursementCandidates: number;
  readonly bankLines: number;
  readonly bankLinesUnmatched: number;
}

export interface ReconciliationSummary {
  readonly counts: ReconciliationCounts;
  readonly currencies: readonly CurrencySummary[];
}

export interface ReconciliationResult {
  readonly asOf: CalendarDate;
  readonly marketplace: Marketplace;
  readonly firstOpenPeriod: Period;
  readonly summary: ReconciliationSummary;
  readonly matched: readonly MatchedItem[];
  readonly withinTolerance: readonly ToleranceItem[];
  readonly exceptions: readonly ReconciliationException[];
  /** Malformed rows (the first ROW_ERRORS_LISTED_MAX; the count is exact). */
  readonly rowErrors: readonly RowError[];
  readonly aging: {
    readonly summary: readonly AgingSummary[];
    readonly items: readonly AgingItem[];
  };
  readonly rollForward: readonly RollForwardReport[];
  readonly disbursementCandidates: readonly DisbursementCandidate[];
}
