/**
 * Ratable revenue schedules (finance.md §0, §2.2, §2.5): amounts spread over service days with
 * the cumulative half-even rule, in calendar-month lines. A schedule is a chain of segments —
 * each spreads an amount ratably over [start, end) on top of what came before — so a prospective
 * modification keeps every month already recognized and spreads the remaining price over the
 * remaining days, a cancellation stops at its date (releasing what is left), and a single-segment
 * schedule is exactly the Revenue I rule: it sums to its total, each month within one minor unit
 * of its exact share, never negative for a non-negative total. Versions are immutable.
 */
import {
  addDays,
  type CalendarDate,
  compareDates,
  comparePeriods,
  dayCount,
  intersect,
  maxDate,
  minDate,
  type Period,
  periodEnd,
  periodOf,
  periodRange,
  periodStart,
} from '../calendar';
import { InvalidInputError } from '../errors';
import { divHalfEven } from '../money';

export interface ScheduleSegment {
  /** Service days [start, end) this segment spreads over (end = start + 1 for a lump). */
  readonly start: CalendarDate;
  readonly end: CalendarDate;
  /** Cumulative amount before this segment. */
  readonly fromMinor: bigint;
  /** Amount this segment spreads over [start, spanEnd) (may be negative: a refund's excess). */
  readonly amountMinor: bigint;
  /**
   * The end of the span the amount is spread over, when the segment was cut short (a
   * modification or a cancellation): the days it did run keep exactly the amounts they had.
   */
  readonly spanEnd?: CalendarDate;
}

export interface ScheduleLine {
  readonly period: Period;
  /** Service days of the schedule falling in this month. */
  readonly days: number;
  readonly recognizedMinor: bigint;
  readonly cumulativeMinor: bigint;
}

export interface RevenueSchedule {
  readonly contractId: string;
  /** 1, 2, … per contract: a new version for each change to what is recognized. */
  readonly version: number;
  readonly currency: string;
  /** Cumulative amount at the end of the last segment. */
  readonly totalMinor: bigint;
  /** The days recognized: [first paid day, end). */
  readonly service: { readonly start: CalendarDate; readonly end: CalendarDate };
  readonly segments: readonly ScheduleSegment[];
  readonly lines: readonly ScheduleLine[];
}

/** Cumulative amount of one segment at the start of `date` (days before it counted). */
function segmentValueAt(segment: ScheduleSegment, date: CalendarDate): bigint {
  if (compareDates(date, segment.start) <= 0) return segment.fromMinor;
  const spanEnd = segment.spanEnd ?? segment.end;
  const until = compareDates(date, segment.end) < 0 ? date : segment.end;
  if (compareDates(until, spanEnd) >= 0) return segment.fromMinor + segment.amountMinor;
  const elapsed = BigInt(dayCount({ start: segment.start, end: until }));
  const total = BigInt(dayCount({ start: segment.start, end: spanEnd }));
  return segment.fromMinor + divHalfEven(segment.amountMinor * elapsed, total);
}

/** What the schedule has recognized by the start of `date` (0 before it, the total after). */
export function valueAt(schedule: Pick<RevenueSchedule, 'segments'>, date: CalendarDate): bigint {
  let value = 0n;
  for (const segment of schedule.segments) {
    if (compareDates(date, segment.start) < 0) break;
    value = segmentValueAt(segment, date);
  }
  return value;
}

function linesOf(segments: readonly ScheduleSegment[]): ScheduleLine[] {
  const first = segments[0];
  const last = segments.at(-1);
  if (!first || !last) return [];
  const start = first.start;
  const end = segments.reduce((latest, s) => maxDate(latest, s.end), last.end);
  if (compareDates(end, start) <= 0) return [];
  const periods = periodRange(periodOf(start), periodOf(addDays(end, -1)));
  let previous = 0n;
  return periods.map((period) => {
    const through = minDate(periodEnd(period), end);
    const cumulative = valueAt({ segments }, through);
    const days = segments.reduce((sum, s) => {
      const overlap = intersect(
        { start: s.start, end: s.end },
        { start: periodStart(period), end: periodEnd(period) },
      );
      return sum + (overlap ? dayCount(overlap) : 0);
    }, 0);
    const line = {
      period,
      days,
      recognizedMinor: cumulative - previous,
      cumulativeMinor: cumulative,
    };
    previous = cumulative;
    return line;
  });
}

/** Builds a schedule from its segments (contiguous or with gaps; each starts where it says). */
export function scheduleFromSegments(input: {
  contractId: string;
  version: number;
  currency: string;
  segments: readonly ScheduleSegment[];
  /** Months before this one keep the lines of that schedule (a catch-up never rewrites them). */
  keepLinesBefore?: { readonly schedule: RevenueSchedule; readonly period: Period } | undefined;
}): RevenueSchedule {
  const segments = input.segments.filter((s) => compareDates(s.end, s.start) > 0);
  const first = segments[0];
  const last = segments.at(-1);
  return {
    contractId: input.contractId,
    version: input.version,
    currency: input.currency,
    totalMinor: last ? valueAt({ segments }, last.end) : 0n,
    service: {
      start: first?.start ?? '1970-01-01',
      end: segments.reduce((end, s) => maxDate(end, s.end), first?.end ?? '1970-01-01'),
    },
    segments,
    lines: input.keepLinesBefore
      ? keepBefore(linesOf(segments), input.keepLinesBefore)
      : linesOf(segments),
  };
}

function keepBefore(
  lines: ScheduleLine[],
  keep: { readonly schedule: RevenueSchedule; readonly period: Period },
): ScheduleLine[] {
  const past = keep.schedule.lines.filter((l) => comparePeriods(l.period, keep.period) < 0);
  const future = lines.filter((l) => comparePeriods(l.period, keep.period) >= 0);
  const before = past.at(-1)?.cumulativeMinor ?? 0n;
  const [first, ...rest] = future;
  return first
    ? [...past, { ...first, recognizedMinor: first.cumulativeMinor - before }, ...rest]
    : past;
}

/** Period amounts of a total spread by actual days over [start, end). */
export function ratableLines(
  totalMinor: bigint,
  service: { start: CalendarDate; end: CalendarDate | null },
): ScheduleLine[] {
  if (service.end === null)
    throw new InvalidInputError('open_term', 'A ratable schedule needs a term end');
  return linesOf([
    { start: service.start, end: service.end, fromMinor: 0n, amountMinor: totalMinor },
  ]);
}

/** A single-segment schedule: the price spread over the service days. */
export function buildSchedule(input: {
  contractId: string;
  version: number;
  currency: string;
  totalMinor: bigint;
  service: { start: CalendarDate; end: CalendarDate };
}): RevenueSchedule {
  return scheduleFromSegments({
    contractId: input.contractId,
    version: input.version,
    currency: input.currency,
    segments: [
      {
        start: input.service.start,
        end: input.service.end,
        fromMinor: 0n,
        amountMinor: input.totalMinor,
      },
    ],
  });
}

/**
 * The segments before `date`, the one containing it cut at it without re-spreading: every day
 * before `date` keeps exactly the amount it had (months already recognized never change).
 */
export function segmentsBefore(
  schedule: Pick<RevenueSchedule, 'segments'>,
  date: CalendarDate,
): ScheduleSegment[] {
  const out: ScheduleSegment[] = [];
  for (const segment of schedule.segments) {
    if (compareDates(segment.start, date) >= 0) break;
    if (compareDates(segment.end, date) <= 0) {
      out.push(segment);
      continue;
    }
    out.push({ ...segment, end: date, spanEnd: segment.spanEnd ?? segment.end });
  }
  return out;
}

/** Cumulative amount scheduled through the end of `period` (0 before, the total after). */
export function cumulativeThrough(schedule: RevenueSchedule, period: Period): bigint {
  if (schedule.segments.length > 0) return valueAt(schedule, periodEnd(period));
  let cumulative = 0n;
  for (const line of schedule.lines) {
    if (comparePeriods(line.period, period) > 0) break;
    cumulative = line.cumulativeMinor;
  }
  return cumulative;
}
