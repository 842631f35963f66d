/**
 * What a contract's revenue becomes when the contract changes (finance.md §2.5–2.8, rules 8, 11,
 * 12): a new schedule version that never rewrites a month already recognized.
 *
 * - Modification, prospective (default): the remaining price — (billed − recognized) + the
 *   replacement's billings − refunds (rule 11) — spread over the remaining days.
 * - Modification, cumulative catch-up (policy): the whole new price over the whole term; the
 *   difference lands in the next month-end run.
 * - Cancellation: recognition stops at the date; whatever was billed and not refunded and not
 *   yet recognized is released there (no obligation remains).
 * - Refund: the price drops by the refund; still running, the rest is spread over the remaining
 *   days; beyond what was left to recognize, the excess reduces revenue on the refund date.
 */
import { addDays, type CalendarDate, compareDates, periodOf } from '../calendar';
import { InvalidInputError } from '../errors';
import { presentationFor } from './policies';
import { feeOn, feeRateOf, type PostingContext, scheduleFor } from './postings';
import { type Installment, type RevenueContract, serviceStart } from './revenue-contract';
import {
  type RevenueSchedule,
  type ScheduleSegment,
  scheduleFromSegments,
  segmentsBefore,
  valueAt,
} from './schedule';

export interface RevenueState {
  readonly contract: RevenueContract;
  /** null when nothing is ratable (usage only, open term). */
  readonly schedule: RevenueSchedule | null;
  readonly cancelledOn: CalendarDate | null;
  /** Refunds authorized so far (transaction currency). */
  readonly refundedMinor: bigint;
  /** Each installment's consideration (net of fee under net presentation), by invoice date. */
  readonly considerations: readonly Installment[];
}

export interface Amendment {
  readonly effectiveAt: CalendarDate;
  /** The replacement's billings from effectiveAt on: they replace every unbilled installment. */
  readonly installments: readonly Installment[];
  /** The replacement's total contract value: its fee tier (rule 17). */
  readonly tcvMinor: bigint;
  /** A new end, if the replacement changes it. */
  readonly termEnd: CalendarDate | null;
}

type ContextFor = (contract: RevenueContract) => PostingContext;

/** What an installment is worth to revenue: net of the marketplace fee under net presentation. */
function considerationOf(ctx: PostingContext, installment: Installment): Installment {
  if (presentationFor(ctx.policies, ctx.contract.marketplace) !== 'net') return installment;
  return {
    date: installment.date,
    amountMinor: installment.amountMinor - feeOn(ctx, installment.amountMinor, feeRateOf(ctx)),
  };
}

export function startRevenue(
  ctxFor: ContextFor,
  contract: RevenueContract,
  version = 1,
): RevenueState {
  const ctx = ctxFor(contract);
  return {
    contract,
    schedule: scheduleFor(ctx, version),
    cancelledOn: null,
    refundedMinor: 0n,
    considerations: contract.installments.map((i) => considerationOf(ctx, i)),
  };
}

const sum = (items: readonly Installment[]) =>
  items.reduce((total, i) => total + i.amountMinor, 0n);
const before = (items: readonly Installment[], date: CalendarDate) =>
  items.filter((i) => compareDates(i.date, date) < 0);

function nextVersion(state: RevenueState): number {
  return (state.schedule?.version ?? 0) + 1;
}

function build(
  state: RevenueState,
  segments: ScheduleSegment[],
  version: number,
  keepLinesBefore?: CalendarDate,
): RevenueSchedule {
  return scheduleFromSegments({
    contractId: state.contract.contractId,
    version,
    currency: state.contract.currency,
    segments,
    keepLinesBefore:
      keepLinesBefore && state.schedule
        ? { schedule: state.schedule, period: periodOf(keepLinesBefore) }
        : undefined,
  });
}

/** The schedule so far, cut at `date`, and its value there. */
function cut(
  state: RevenueState,
  date: CalendarDate,
): { segments: ScheduleSegment[]; value: bigint } {
  if (!state.schedule) return { segments: [], value: 0n };
  return { segments: segmentsBefore(state.schedule, date), value: valueAt(state.schedule, date) };
}

/**
 * Rule 11 (prospective) or catch-up: the contract after a modification effective `effectiveAt`
 * (before the old end: on the old end it is a renewal — a new contract, not this).
 */
export function amendRevenue(
  ctxFor: ContextFor,
  state: RevenueState,
  amendment: Amendment,
): RevenueState {
  const at = amendment.effectiveAt;
  const old = state.contract;
  if (old.term.end !== null && compareDates(at, old.term.end) >= 0) {
    throw new InvalidInputError(
      'amendment_after_end',
      `A replacement effective on or after the end (${old.term.end}) is a renewal: a new contract`,
    );
  }
  const replacement = amendment.installments.map((i) => ({
    date: compareDates(i.date, at) < 0 ? at : i.date,
    amountMinor: i.amountMinor,
  }));
  const installments = [...before(old.installments, at), ...replacement].sort((a, b) =>
    compareDates(a.date, b.date),
  );
  const contract: RevenueContract = {
    ...old,
    installments,
    priceMinor: sum(installments),
    tcvMinor: amendment.tcvMinor,
    acceptedOn: at,
    term: { start: old.term.start, end: amendment.termEnd ?? old.term.end },
  };
  const ctx = ctxFor(contract);
  const considerations = [
    ...before(state.considerations, at),
    ...replacement.map((i) => considerationOf(ctx, i)),
  ].sort((a, b) => compareDates(a.date, b.date));
  const version = nextVersion(state);
  const end = contract.term.end;
  if (end === null || compareDates(end, at) <= 0) {
    return { ...state, contract, considerations, schedule: state.schedule };
  }
  if (ctx.policies.modification === 'cumulative_catch_up') {
    const start = serviceStart(contract);
    const total = sum(considerations) - state.refundedMinor;
    return {
      ...state,
      contract,
      considerations,
      // Months already recognized keep their lines; the difference shows in the change's month.
      schedule: build(state, [{ start, end, fromMinor: 0n, amountMinor: total }], version, at),
    };
  }
  const { segments, value } = cut(state, at);
  const remaining = sum(considerations) - state.refundedMinor - value;
  const from = compareDates(at, serviceStart(contract)) > 0 ? at : serviceStart(contract);
  return {
    ...state,
    contract,
    considerations,
    schedule: build(
      state,
      [...segments, { start: from, end, fromMinor: value, amountMinor: remaining }],
      version,
    ),
  };
}

/** A lump on one day (a release or a reduction), after what was recognized by then. */
function lump(at: CalendarDate, fromMinor: bigint, amountMinor: bigint): ScheduleSegment[] {
  return amountMinor === 0n ? [] : [{ start: at, end: addDays(at, 1), fromMinor, amountMinor }];
}

/** §2.7: access ends at `at`; installments from then on are never billed; the rest is released. */
export function cancelRevenue(state: RevenueState, at: CalendarDate): RevenueState {
  const old = state.contract;
  const installments = before(old.installments, at);
  const contract: RevenueContract = {
    ...old,
    installments,
    priceMinor: sum(installments),
    term: {
      start: old.term.start,
      end: old.term.end !== null && compareDates(old.term.end, at) < 0 ? old.term.end : at,
    },
  };
  const considerations = before(state.considerations, at);
  const { segments, value } = cut(state, at);
  // Once access ends, revenue is what was billed and not refunded: what is left of deferred
  // revenue is released, and anything recognized ahead of billing is reversed (the marketplace
  // bills nothing more after a cancellation), so no balance is left behind in 1230.
  const settle = sum(considerations) - state.refundedMinor - value;
  return {
    contract,
    considerations,
    cancelledOn: at,
    refundedMinor: state.refundedMinor,
    schedule: build(state, [...segments, ...lump(at, value, settle)], nextVersion(state)),
  };
}

/**
 * Rule 8: the price drops by a refund the seller authorized on `at` (net of the marketplace's
 * fee under net presentation).
 */
export function refundRevenue(
  ctxFor: ContextFor,
  state: RevenueState,
  at: CalendarDate,
  amountMinor: bigint,
  /** The part beyond deferred revenue, which the refund posting takes off revenue at once. */
  excessMinor = 0n,
): RevenueState {
  const ctx = ctxFor(state.contract);
  const refund =
    presentationFor(ctx.policies, state.contract.marketplace) === 'net'
      ? amountMinor - feeOn(ctx, amountMinor, feeRateOf(ctx))
      : amountMinor;
  const refunded = state.refundedMinor + refund;
  const next = { ...state, refundedMinor: refunded };
  const { segments, value } = cut(state, at);
  const version = nextVersion(state);
  const billedBy = state.cancelledOn ?? null;
  const total =
    sum(billedBy ? before(state.considerations, billedBy) : state.considerations) - refunded;
  const end = state.contract.term.end;
  const running = state.cancelledOn === null && end !== null && compareDates(at, end) < 0;
  if (running) {
    // Rule 8: the excess beyond deferred revenue reduces revenue on the refund date; what is
    // left of the price is spread over the remaining days.
    const base = value - excessMinor;
    const rest = total - base;
    const from =
      compareDates(at, serviceStart(state.contract)) > 0 ? at : serviceStart(state.contract);
    const spread: ScheduleSegment[] =
      rest >= 0n
        ? [{ start: from, end, fromMinor: base, amountMinor: rest }]
        : lump(at, base, rest);
    return {
      ...next,
      schedule: build(state, [...segments, ...lump(at, value, -excessMinor), ...spread], version),
    };
  }
  // Ended: revenue is what was billed and not refunded; the difference lands on the refund date.
  return {
    ...next,
    schedule: build(state, [...segments, ...lump(at, value, total - value)], version),
  };
}

/** Billed installments not yet due when `at` arrives are dropped by a cancellation. */
export function stillBillable(state: RevenueState, date: CalendarDate): boolean {
  return state.cancelledOn === null || compareDates(date, state.cancelledOn) < 0;
}

/**
 * A renewal of the same contract (Azure and Google renew in place): the old term's schedule is
 * kept whole, and the new term's billings are spread over the new term after it.
 */
export function renewInPlace(
  ctxFor: ContextFor,
  state: RevenueState,
  renewed: RevenueContract,
): RevenueState {
  const oldEnd = state.contract.term.end;
  const newEnd = renewed.term.end;
  if (oldEnd === null || newEnd === null || compareDates(newEnd, oldEnd) <= 0) {
    throw new InvalidInputError('not_a_renewal', 'A renewal must extend the term');
  }
  const added = renewed.installments.filter((i) => compareDates(i.date, oldEnd) >= 0);
  const installments = [...state.contract.installments, ...added];
  const contract: RevenueContract = {
    ...renewed,
    installments,
    priceMinor: sum(installments),
    term: { start: state.contract.term.start, end: newEnd },
  };
  const ctx = ctxFor(contract);
  const considerations = [...state.considerations, ...added.map((i) => considerationOf(ctx, i))];
  const { segments, value } = cut(state, oldEnd);
  const amount = sum(added.map((i) => considerationOf(ctx, i)));
  return {
    ...state,
    contract,
    considerations,
    schedule: build(
      state,
      [...segments, { start: oldEnd, end: newEnd, fromMinor: value, amountMinor: amount }],
      nextVersion(state),
    ),
  };
}

/** What identifies a contract's priced terms: a change to it is a modification. */
export function pricedTermsOf(contract: RevenueContract): unknown {
  return {
    currency: contract.currency,
    term: contract.term,
    trialEnd: contract.trialEnd,
    priceMinor: contract.priceMinor,
    tcvMinor: contract.tcvMinor,
    installments: contract.installments,
    usagePrices: contract.usagePrices,
    offerType: contract.offerType,
    renewal: contract.renewal,
    channel: contract.channel,
  };
}
