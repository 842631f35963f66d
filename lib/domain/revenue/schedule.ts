/**
 * Ratable revenue schedules (finance.md §0, §2.2): a total spread over the service days
 * [start, end) with the cumulative half-even rule, in calendar-month lines. The schedule sums
 * exactly to its total, each month is within one minor unit of its exact pro-rata share, and no
 * month is negative for a non-negative total. A schedule version is immutable; a change to the
 * contract creates the next version.
 */
import { allocateRatably } from '../allocation';
import {
  type CalendarDate,
  comparePeriods,
  type DateInterval,
  type Period,
  periodSlices,
} from '../calendar';
import { InvalidInputError } from '../errors';

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
  readonly totalMinor: bigint;
  /** The days recognized: [first paid day, end). */
  readonly service: { readonly start: CalendarDate; readonly end: CalendarDate };
  readonly lines: readonly ScheduleLine[];
}

/** Period amounts of a total spread by actual days over [start, end). */
export function ratableLines(totalMinor: bigint, service: DateInterval): ScheduleLine[] {
  if (service.end === null)
    throw new InvalidInputError('open_term', 'A ratable schedule needs a term end');
  const slices = periodSlices(service).filter((slice) => slice.days > 0);
  if (slices.length === 0) return [];
  const amounts = allocateRatably(
    totalMinor,
    slices.map((slice) => BigInt(slice.days)),
  );
  let cumulative = 0n;
  return slices.map((slice, index) => {
    const recognized = amounts[index] ?? 0n;
    cumulative += recognized;
    return {
      period: slice.period,
      days: slice.days,
      recognizedMinor: recognized,
      cumulativeMinor: cumulative,
    };
  });
}

export function buildSchedule(input: {
  contractId: string;
  version: number;
  currency: string;
  totalMinor: bigint;
  service: { start: CalendarDate; end: CalendarDate };
}): RevenueSchedule {
  return { ...input, lines: ratableLines(input.totalMinor, input.service) };
}

/** Cumulative amount scheduled through the end of `period` (0 before, the total after). */
export function cumulativeThrough(schedule: RevenueSchedule, period: Period): bigint {
  let cumulative = 0n;
  for (const line of schedule.lines) {
    if (comparePeriods(line.period, period) > 0) break;
    cumulative = line.cumulativeMinor;
  }
  return cumulative;
}
