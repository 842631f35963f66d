/**
 * The usage ledger: one line per (contract, dimension, hour) holding the exact total of that
 * hour's distinct records and what the marketplace answered when the hour was reported. Pure
 * transitions of a line: sealing and claiming, the outcome of a report, retry backoff, the
 * deterministic report id that makes a re-send recognisably the same report, and the
 * UsageRecorded event an accepted hour becomes.
 *
 * Life of a line: pending (open, then sealed and due) → reporting (claimed: written BEFORE the
 * marketplace call) → accepted | duplicate | rejected | unprocessed (→ reporting again later) |
 * skipped (nothing to send: Azure zero or fully included) | late (attempts exhausted).
 */
import { addMonths, compareDates, dateOfInstant } from '../calendar';
import type { ContractEvent } from '../events';
import { contractEventId } from '../events';
import { deterministicId } from '../ids';
import type { Marketplace } from '../schemas/primitives';
import {
  addHours,
  addMinutes,
  formatUnits,
  hourEndOf,
  instantMs,
  isoOf,
  type MeteringPolicy,
  quantityUnitsOf,
  sealTimeOf,
} from './usage';

export const REPORT_STATUSES = [
  'pending',
  'reporting',
  'unprocessed',
  'accepted',
  'duplicate',
  'rejected',
  'skipped',
  'late',
] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** The marketplace has the hour: it counts as reported. */
export const REPORTED_STATUSES: ReadonlySet<ReportStatus> = new Set(['accepted', 'duplicate']);
/** Never sent again. */
export const FINAL_STATUSES: ReadonlySet<ReportStatus> = new Set([
  'accepted',
  'duplicate',
  'rejected',
  'skipped',
  'late',
]);
/** Still owed to the marketplace (what the deadline alarm watches). */
export const UNREPORTED_STATUSES: ReadonlySet<ReportStatus> = new Set([
  'pending',
  'reporting',
  'unprocessed',
]);

/** Recent sealed hours given a 0 line per flush under the AWS 'every-hour' policy. */
export const ZERO_FILL_LOOKBACK_HOURS = 2;

export interface UsageHourLine {
  readonly contractId: string;
  readonly marketplace: Marketplace;
  readonly dimension: string;
  readonly hourStart: string;
  /** Exact sum of the hour's distinct records, in micro-units. */
  readonly receivedUnits: bigint;
  readonly recordCount: number;
  /** Closed to records: set by the first claim (the time rule closes it earlier for writers). */
  readonly sealed: boolean;
  readonly status: ReportStatus;
  /** Claims so far (each claim is one send). */
  readonly attempts: number;
  /** hash(contractId, dimension, hourStart): the same on every re-send. */
  readonly reportId: string;
  /** What is sent, fixed at the first claim so every re-send is the same report. */
  readonly reportUnits: bigint | null;
  /** Azure: the part of the hour covered by the base fee's included quantity. */
  readonly includedUnits: bigint;
  readonly marketplaceRef: string | null;
  /** The marketplace's reason (rejected, unprocessed) or ours (skipped, late). */
  readonly reason: string | null;
  readonly claimedAt: string | null;
  readonly reportedAt: string | null;
  /** When the flush next has something to do with the line; null once it has none. */
  readonly dueAt: string | null;
  /** Report before this instant: the marketplace's window from the hour start. */
  readonly deadline: string;
  /** The UsageRecorded event of a reported hour is on the contract (revenue sees it). */
  readonly eventRecorded: boolean;
}

/** The fields a transition may change. */
export type LinePatch = Partial<
  Pick<
    UsageHourLine,
    | 'sealed'
    | 'status'
    | 'attempts'
    | 'reportUnits'
    | 'includedUnits'
    | 'marketplaceRef'
    | 'reason'
    | 'claimedAt'
    | 'reportedAt'
    | 'dueAt'
    | 'eventRecorded'
  >
>;

export function reportIdFor(contractId: string, dimension: string, hourStart: string): string {
  return deterministicId('mr', contractId, dimension, hourStart);
}

export function deadlineOf(
  marketplace: Marketplace,
  hourStart: string,
  policy: Pick<MeteringPolicy, 'deadlineHours'>,
): string {
  return addHours(hourStart, policy.deadlineHours[marketplace]);
}

/** A line before its first record: open, pending, due once sealed. */
export function newHourLine(
  key: { contractId: string; marketplace: Marketplace; dimension: string; hourStart: string },
  policy: MeteringPolicy,
): UsageHourLine {
  return {
    ...key,
    receivedUnits: 0n,
    recordCount: 0,
    sealed: false,
    status: 'pending',
    attempts: 0,
    reportId: reportIdFor(key.contractId, key.dimension, key.hourStart),
    reportUnits: null,
    includedUnits: 0n,
    marketplaceRef: null,
    reason: null,
    claimedAt: null,
    reportedAt: null,
    dueAt: sealTimeOf(key.hourStart, policy),
    deadline: deadlineOf(key.marketplace, key.hourStart, policy),
    eventRecorded: false,
  };
}

export function applyPatch(line: UsageHourLine, patch: LinePatch): UsageHourLine {
  return { ...line, ...patch };
}

// ---------------------------------------------------------------------------------------------
// What is sent
// ---------------------------------------------------------------------------------------------

export interface ReportQuantity {
  /** Micro-units to send. */
  readonly reportUnits: bigint;
  /** Covered by the included quantity (Azure), not sent. */
  readonly includedUnits: bigint;
  /** False when nothing may be sent (Azure takes only quantities > 0). */
  readonly send: boolean;
}

/**
 * What an hour sends: AWS and GCP the whole total, 0 included (AWS expects zero hours); Azure
 * only the part above the remaining included quantity, and nothing when that part is 0.
 */
export function reportQuantityOf(
  marketplace: Marketplace,
  receivedUnits: bigint,
  includedRemainingUnits: bigint | null,
): ReportQuantity {
  if (marketplace !== 'azure') return { reportUnits: receivedUnits, includedUnits: 0n, send: true };
  const remaining =
    includedRemainingUnits !== null && includedRemainingUnits > 0n ? includedRemainingUnits : 0n;
  const includedUnits = receivedUnits < remaining ? receivedUnits : remaining;
  const reportUnits = receivedUnits - includedUnits;
  return { reportUnits, includedUnits, send: reportUnits > 0n };
}

/** The included quantity configured for an Azure plan's dimension, in micro-units, and its period. */
export function includedOf(
  policy: Pick<MeteringPolicy, 'included'>,
  plan: string | null,
  dimension: string,
): { units: bigint; per: 'month' | 'term' } | null {
  const entry = policy.included.find((i) => i.plan === plan && i.dimension === dimension);
  if (!entry) return null;
  return { units: quantityUnitsOf(entry.quantity) ?? 0n, per: entry.per };
}

/**
 * The start (a date) of the allowance period an hour falls in: the term start for 'term', else
 * the latest monthly anniversary of the term start on or before the hour's day.
 */
export function allowancePeriodStart(
  termStart: string,
  hourStart: string,
  per: 'month' | 'term',
): string {
  if (per === 'term') return termStart;
  const day = dateOfInstant(hourStart);
  if (compareDates(day, termStart) < 0) return termStart;
  const [ty = 0, tm = 1] = termStart.split('-').map(Number);
  const [hy = 0, hm = 1] = day.split('-').map(Number);
  let months = (hy - ty) * 12 + (hm - tm);
  let start = addMonths(termStart, months);
  while (compareDates(start, day) > 0) {
    months -= 1;
    start = addMonths(termStart, months);
  }
  return start;
}

// ---------------------------------------------------------------------------------------------
// Transitions
// ---------------------------------------------------------------------------------------------

/** Claim: sealed, `reporting`, one more attempt, re-sendable after the lease if the flush dies. */
export function claimPatch(
  line: UsageHourLine,
  now: string,
  policy: MeteringPolicy,
  quantity: ReportQuantity,
): LinePatch {
  return {
    sealed: true,
    status: 'reporting',
    attempts: line.attempts + 1,
    // Fixed at the first claim: a re-send is byte for byte the same report.
    reportUnits: line.reportUnits ?? quantity.reportUnits,
    includedUnits: line.reportUnits === null ? quantity.includedUnits : line.includedUnits,
    claimedAt: now,
    dueAt: addMinutes(now, policy.claimLeaseMinutes),
  };
}

/** Undo a claim whose send never happened (the marketplace was unavailable): pending again. */
export function releasePatch(line: UsageHourLine, now: string): LinePatch {
  return {
    status: line.attempts <= 1 ? 'pending' : 'unprocessed',
    attempts: Math.max(0, line.attempts - 1),
    dueAt: now,
  };
}

/** Nothing to send (Azure zero, or all of it included): final without a call. */
export function skipPatch(now: string, quantity: ReportQuantity): LinePatch {
  return {
    sealed: true,
    status: 'skipped',
    reportUnits: quantity.reportUnits,
    includedUnits: quantity.includedUnits,
    reason:
      quantity.includedUnits > 0n ? 'covered by the included quantity' : 'zero quantity (not sent)',
    reportedAt: now,
    dueAt: null,
    eventRecorded: true,
  };
}

/** Out of attempts: given up, visible on the ledger and to the alarm. */
export function givenUpPatch(line: UsageHourLine, now: string): LinePatch {
  return {
    sealed: true,
    status: 'late',
    reason: `not reported after ${line.attempts} attempt(s)${line.reason ? `: ${line.reason}` : ''}`,
    reportedAt: now,
    dueAt: null,
    eventRecorded: true,
  };
}

/** The line was reported (accepted or duplicate) but its event is not yet on the contract. */
export function reportedPatch(
  kind: 'accepted' | 'duplicate',
  marketplaceRef: string | null,
  now: string,
): LinePatch {
  return {
    status: kind,
    marketplaceRef,
    reason: null,
    reportedAt: now,
    // Still due: the flush appends the UsageRecorded event, then clears it (eventRecordedPatch).
    dueAt: now,
    eventRecorded: false,
  };
}

export function eventRecordedPatch(): LinePatch {
  return { eventRecorded: true, dueAt: null };
}

export function rejectedPatch(reason: string, now: string): LinePatch {
  return { status: 'rejected', reason, reportedAt: now, dueAt: null, eventRecorded: true };
}

export function unprocessedPatch(
  line: UsageHourLine,
  reason: string,
  now: string,
  policy: MeteringPolicy,
  random: () => number,
): LinePatch {
  return {
    status: 'unprocessed',
    reason,
    dueAt: isoOf(instantMs(now) + retryDelayMs(line.attempts, policy, random)),
  };
}

/** Event append failed: try again later without re-sending the report. */
export function eventRetryPatch(
  line: UsageHourLine,
  now: string,
  policy: MeteringPolicy,
  random: () => number,
): LinePatch {
  return { dueAt: isoOf(instantMs(now) + retryDelayMs(line.attempts, policy, random)) };
}

/**
 * Between flushes: base·2^(attempt-1) capped at max, with "equal jitter" (half fixed, half
 * random) so many unprocessed hours do not all come back in the same flush yet always wait.
 */
export function retryDelayMs(
  attempt: number,
  policy: Pick<MeteringPolicy, 'retryBaseMinutes' | 'retryMaxMinutes'>,
  random: () => number,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 20);
  const ceiling =
    Math.min(policy.retryMaxMinutes, policy.retryBaseMinutes * 2 ** exponent) * 60_000;
  return Math.floor(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random(), 0), 1));
}

/**
 * Sends after which a line is given up. A line still `reporting` lost its answer (its flush
 * died): a few more sends are allowed, since the marketplace deduplicates them and giving up
 * could drop an hour the marketplace in fact accepted.
 */
export const UNKNOWN_OUTCOME_RESENDS = 3;

export function outOfAttempts(
  line: Pick<UsageHourLine, 'status' | 'attempts'>,
  policy: Pick<MeteringPolicy, 'attemptsMax'>,
): boolean {
  const limit = policy.attemptsMax + (line.status === 'reporting' ? UNKNOWN_OUTCOME_RESENDS : 0);
  return line.attempts >= limit;
}

/** The claimable state of a due line at `now` (null: nothing to send now). */
export function isClaimable(line: UsageHourLine, now: string): boolean {
  if (!UNREPORTED_STATUSES.has(line.status)) return false;
  return line.dueAt !== null && instantMs(line.dueAt) <= instantMs(now);
}

/** Still owed and at most `marginHours` before (or past) its deadline. */
export function nearDeadline(line: UsageHourLine, now: string, marginHours: number): boolean {
  return (
    UNREPORTED_STATUSES.has(line.status) &&
    instantMs(line.deadline) - marginHours * 3_600_000 <= instantMs(now)
  );
}

/**
 * The last `count` sealed hours at `now` (newest first): the hours the AWS 'every-hour' policy
 * gives a 0 line when nothing was recorded.
 */
export function recentSealedHours(
  now: string,
  policy: Pick<MeteringPolicy, 'sealDelayMinutes'>,
  count: number,
): string[] {
  // The newest sealed hour ends at least sealDelay before now.
  const lastEnd = Math.floor((instantMs(now) - policy.sealDelayMinutes * 60_000) / 3_600_000);
  const hours: string[] = [];
  for (let i = 1; i <= count; i += 1) hours.push(isoOf((lastEnd - i) * 3_600_000));
  return hours;
}

// ---------------------------------------------------------------------------------------------
// The event revenue reads
// ---------------------------------------------------------------------------------------------

/**
 * The UsageRecorded event of a reported hour: what the marketplace bills (the sent quantity),
 * over [hourStart, hourEnd). Its id derives from the report id, so appending it twice is a no-op.
 */
export function usageRecordedEvent(line: UsageHourLine): ContractEvent {
  const units = line.reportUnits ?? line.receivedUnits;
  return {
    schemaVersion: 1,
    eventId: contractEventId(line.contractId, 'UsageRecorded', line.reportId),
    contractId: line.contractId,
    marketplace: line.marketplace,
    type: 'UsageRecorded',
    occurredAt: hourEndOf(line.hourStart),
    effectiveAt: dateOfInstant(line.hourStart),
    sourceVersion: line.reportId,
    raw: null,
    payload: {
      usageRecordId: line.reportId,
      dimension: line.dimension,
      quantity: formatUnits(units),
      usageStart: line.hourStart,
      usageEnd: hourEndOf(line.hourStart),
    },
  };
}
