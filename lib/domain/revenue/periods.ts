/**
 * Accounting periods (finance.md §4.4, rule 14): a month is OPEN, then SOFT_FROZEN (only the
 * month-end run and finance post into it), then CLOSED (nobody does). Locks move forward as a
 * frontier — closing a month closes every month before it — and an entry dated in a locked month
 * posts in the first open one, keeping its own date. Reopening is an admin action on record.
 */
import { z } from 'zod';
import {
  type CalendarDate,
  comparePeriods,
  lastDayOfPeriod,
  nextPeriod,
  type Period,
  periodOf,
  previousPeriod,
} from '../calendar';
import { InvalidInputError } from '../errors';

export const PeriodStatusSchema = z.enum(['OPEN', 'SOFT_FROZEN', 'CLOSED']);
export type PeriodStatus = z.infer<typeof PeriodStatusSchema>;

export interface PeriodLocks {
  /** Every month up to and including this one is closed. */
  readonly closedThrough: Period | null;
  /** Every month up to and including this one is at least soft-frozen. */
  readonly frozenThrough: Period | null;
}

export const NO_LOCKS: PeriodLocks = { closedThrough: null, frozenThrough: null };

export type Poster = 'pipeline' | 'run';

export class PeriodTransitionError extends InvalidInputError {}

const later = (a: Period | null, b: Period | null): Period | null =>
  a === null ? b : b === null ? a : comparePeriods(a, b) >= 0 ? a : b;

export function statusOf(locks: PeriodLocks, period: Period): PeriodStatus {
  if (locks.closedThrough !== null && comparePeriods(period, locks.closedThrough) <= 0)
    return 'CLOSED';
  if (locks.frozenThrough !== null && comparePeriods(period, locks.frozenThrough) <= 0)
    return 'SOFT_FROZEN';
  return 'OPEN';
}

/** The first month a poster may post into, or null when nothing is locked for it. */
export function firstOpenPeriod(locks: PeriodLocks, poster: Poster): Period | null {
  const locked =
    poster === 'run' ? locks.closedThrough : later(locks.closedThrough, locks.frozenThrough);
  return locked === null ? null : nextPeriod(locked);
}

/** Rule 14: where an entry dated `date` posts. */
export function postingPeriodOf(locks: PeriodLocks, poster: Poster, date: CalendarDate): Period {
  const own = periodOf(date);
  const open = firstOpenPeriod(locks, poster);
  return open !== null && comparePeriods(open, own) > 0 ? open : own;
}

function mustHaveEnded(period: Period, today: CalendarDate, action: string): void {
  if (lastDayOfPeriod(period) >= today) {
    throw new PeriodTransitionError(
      'period_not_over',
      `${period} cannot be ${action} before it has ended (today is ${today})`,
    );
  }
}

export function freeze(locks: PeriodLocks, period: Period, today: CalendarDate): PeriodLocks {
  mustHaveEnded(period, today, 'frozen');
  if (statusOf(locks, period) === 'CLOSED')
    throw new PeriodTransitionError('period_closed', `${period} is already closed`);
  return { ...locks, frozenThrough: later(locks.frozenThrough, period) };
}

export function close(locks: PeriodLocks, period: Period, today: CalendarDate): PeriodLocks {
  mustHaveEnded(period, today, 'closed');
  if (statusOf(locks, period) === 'CLOSED')
    throw new PeriodTransitionError('period_closed', `${period} is already closed`);
  return { closedThrough: period, frozenThrough: later(locks.frozenThrough, period) };
}

/** Reopens `period` and every month after it (admin; the caller records why). */
export function reopen(locks: PeriodLocks, period: Period): PeriodLocks {
  if (statusOf(locks, period) === 'OPEN')
    throw new PeriodTransitionError('period_open', `${period} is already open`);
  const before = previousPeriod(period);
  const cap = (p: Period | null) => (p !== null && comparePeriods(p, before) > 0 ? before : p);
  return { closedThrough: cap(locks.closedThrough), frozenThrough: cap(locks.frozenThrough) };
}
