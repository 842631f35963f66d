/**
 * UTC calendar arithmetic for service terms and reporting periods. Dates are 'YYYY-MM-DD'
 * strings, terms are half-open intervals [start, end) with an optional open end, and periods are
 * calendar months 'YYYY-MM'. Day numbers are computed with integer civil-calendar arithmetic,
 * so no time zone or clock is ever consulted.
 */
import { InvalidInputError, invariant } from './errors';

export type CalendarDate = string;
export type Period = string;

/** Half-open [start, end); `end === null` is an open (pay-as-you-go) term. */
export interface DateInterval {
  readonly start: CalendarDate;
  readonly end: CalendarDate | null;
}

export const DATE_YEAR_MIN = 1970;
export const DATE_YEAR_MAX = 2199;
/** Periods a single interval may span when enumerated: 100 years. */
export const INTERVAL_PERIODS_MAX = 1_200;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const PERIOD_PATTERN = /^(\d{4})-(\d{2})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  const lengths = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const length = lengths[month - 1];
  invariant(length !== undefined, `month out of range: ${month}`);
  return length;
}

interface YearMonthDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

function parseDateParts(date: string): YearMonthDay {
  const match = DATE_PATTERN.exec(date);
  if (match === null) {
    throw new InvalidInputError('invalid_date', `Not a calendar date (YYYY-MM-DD): "${date}"`);
  }
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (
    year < DATE_YEAR_MIN ||
    year > DATE_YEAR_MAX ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month)
  ) {
    throw new InvalidInputError('invalid_date', `Not a valid calendar date: "${date}"`);
  }
  return { year, month, day };
}

export function isCalendarDate(value: string): boolean {
  try {
    parseDateParts(value);
    return true;
  } catch {
    return false;
  }
}

/** Validate and return a date string (throws InvalidInputError). */
export function calendarDate(value: string): CalendarDate {
  parseDateParts(value);
  return value;
}

/** Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
export function dayNumber(date: CalendarDate): number {
  const { year, month, day } = parseDateParts(date);
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** civil_from_days: year, month and day of a day number (no validation: a hot path's helper). */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Inverse of dayNumber (civil_from_days). */
export function dateFromDayNumber(days: number): CalendarDate {
  invariant(Number.isInteger(days), 'day number must be an integer');
  const { year, month, day } = civilFromDays(days);
  const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return calendarDate(text);
}

export function addDays(date: CalendarDate, days: number): CalendarDate {
  return dateFromDayNumber(dayNumber(date) + days);
}

/** Add calendar months, clamping the day to the target month's length (Jan 31 + 1 = Feb 28). */
export function addMonths(date: CalendarDate, months: number): CalendarDate {
  invariant(Number.isInteger(months), 'months must be an integer');
  const { year, month, day } = parseDateParts(date);
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = (index % 12) + 1;
  const targetDay = Math.min(day, daysInMonth(targetYear, targetMonth));
  return calendarDate(
    `${String(targetYear).padStart(4, '0')}-${String(targetMonth).padStart(2, '0')}-${String(targetDay).padStart(2, '0')}`,
  );
}

export function compareDates(a: CalendarDate, b: CalendarDate): -1 | 0 | 1 {
  const da = dayNumber(a);
  const db = dayNumber(b);
  return da < db ? -1 : da > db ? 1 : 0;
}

export function minDate(a: CalendarDate, b: CalendarDate): CalendarDate {
  return compareDates(a, b) <= 0 ? a : b;
}

export function maxDate(a: CalendarDate, b: CalendarDate): CalendarDate {
  return compareDates(a, b) >= 0 ? a : b;
}

/** The UTC calendar date of an ISO-8601 instant ("2025-01-01T23:30:00-02:00" → 2025-01-02). */
export function dateOfInstant(instant: string): CalendarDate {
  const millis = Date.parse(instant);
  if (Number.isNaN(millis) || !/^\d{4}-\d{2}-\d{2}T/.test(instant)) {
    throw new InvalidInputError('invalid_timestamp', `Not an ISO-8601 timestamp: "${instant}"`);
  }
  // Date.parse rolls impossible dates over ("2025-04-31T…" → May 1st): refuse them instead.
  try {
    parseDateParts(instant.slice(0, 10));
  } catch {
    throw new InvalidInputError('invalid_timestamp', `Not a real date: "${instant}"`);
  }
  return dateFromDayNumber(Math.floor(millis / 86_400_000));
}

// ---------------------------------------------------------------------------------------------
// Intervals
// ---------------------------------------------------------------------------------------------

export function interval(start: CalendarDate, end: CalendarDate | null): DateInterval {
  calendarDate(start);
  if (end !== null && compareDates(end, start) < 0) {
    throw new InvalidInputError(
      'invalid_interval',
      `Interval ends (${end}) before it starts (${start})`,
    );
  }
  return { start, end };
}

/** Number of days in [start, end). An open interval has no day count. */
export function dayCount(range: DateInterval): number {
  if (range.end === null) {
    throw new InvalidInputError('open_interval', 'An open-ended interval has no day count');
  }
  return dayNumber(range.end) - dayNumber(range.start);
}

export function containsDate(range: DateInterval, date: CalendarDate): boolean {
  const day = dayNumber(date);
  return day >= dayNumber(range.start) && (range.end === null || day < dayNumber(range.end));
}

/** Intersection of two half-open intervals, or null when they do not overlap. */
export function intersect(a: DateInterval, b: DateInterval): DateInterval | null {
  const start = maxDate(a.start, b.start);
  const end = a.end === null ? b.end : b.end === null ? a.end : minDate(a.end, b.end);
  if (end !== null && compareDates(end, start) <= 0) return null;
  return { start, end };
}

// ---------------------------------------------------------------------------------------------
// Periods (calendar months)
// ---------------------------------------------------------------------------------------------

export function isPeriod(value: string): boolean {
  const match = PERIOD_PATTERN.exec(value);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  return year >= DATE_YEAR_MIN && year <= DATE_YEAR_MAX && month >= 1 && month <= 12;
}

export function period(value: string): Period {
  if (!isPeriod(value)) {
    throw new InvalidInputError('invalid_period', `Not a period (YYYY-MM): "${value}"`);
  }
  return value;
}

export function periodOf(date: CalendarDate): Period {
  calendarDate(date);
  return date.slice(0, 7);
}

/** First day of the period. */
export function periodStart(value: Period): CalendarDate {
  return calendarDate(`${period(value)}-01`);
}

/** First day of the next period: the exclusive end of [periodStart, periodEnd). */
export function periodEnd(value: Period): CalendarDate {
  return addMonths(periodStart(value), 1);
}

/** Last day of the period (the date month-end entries carry). */
export function lastDayOfPeriod(value: Period): CalendarDate {
  return addDays(periodEnd(value), -1);
}

export function nextPeriod(value: Period): Period {
  return periodOf(periodEnd(value));
}

export function previousPeriod(value: Period): Period {
  return periodOf(addMonths(periodStart(value), -1));
}

export function comparePeriods(a: Period, b: Period): -1 | 0 | 1 {
  const pa = period(a);
  const pb = period(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

export interface PeriodSlice {
  readonly period: Period;
  /** Days of the interval falling inside this period. */
  readonly days: number;
}

/**
 * The calendar months a closed interval touches, with the days it covers in each. Every day of
 * the interval is counted exactly once.
 */
export function periodSlices(range: DateInterval): PeriodSlice[] {
  if (range.end === null) {
    throw new InvalidInputError(
      'open_interval',
      'Cannot enumerate the periods of an open interval',
    );
  }
  const end = range.end;
  const slices: PeriodSlice[] = [];
  if (compareDates(end, range.start) <= 0) return slices;
  let cursor = periodOf(range.start);
  for (let i = 0; i < INTERVAL_PERIODS_MAX; i += 1) {
    const overlap = intersect(range, { start: periodStart(cursor), end: periodEnd(cursor) });
    invariant(overlap !== null, 'a period between start and end must overlap the interval');
    slices.push({ period: cursor, days: dayCount(overlap) });
    if (compareDates(periodEnd(cursor), end) >= 0) return slices;
    cursor = nextPeriod(cursor);
  }
  throw new InvalidInputError(
    'interval_too_long',
    `Interval spans more than ${INTERVAL_PERIODS_MAX} months`,
  );
}

/** Periods from `first` to `last` inclusive. */
export function periodRange(first: Period, last: Period): Period[] {
  const out: Period[] = [];
  let cursor = period(first);
  for (let i = 0; i < INTERVAL_PERIODS_MAX && comparePeriods(cursor, last) <= 0; i += 1) {
    out.push(cursor);
    cursor = nextPeriod(cursor);
  }
  if (comparePeriods(cursor, last) <= 0) {
    throw new InvalidInputError(
      'interval_too_long',
      `Range spans more than ${INTERVAL_PERIODS_MAX} months`,
    );
  }
  return out;
}

const ISO_DURATION_PATTERN = /^P(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?$/;

/** Adds an ISO-8601 date duration (P1Y, P12M, P30D, P2W, P1Y6M…) to a date. */
export function addIsoDuration(date: CalendarDate, duration: string): CalendarDate {
  const match = ISO_DURATION_PATTERN.exec(duration);
  if (match === null || duration === 'P') {
    throw new InvalidInputError('invalid_duration', `Not an ISO-8601 date duration: "${duration}"`);
  }
  const [, years = '0', months = '0', weeks = '0', days = '0'] = match;
  const monthsTotal = Number(years) * 12 + Number(months);
  return addDays(addMonths(date, monthsTotal), Number(weeks) * 7 + Number(days));
}

/**
 * The exclusive end date of an instant that closes a term. AWS agreements end at 23:59:59 UTC
 * on their last day, so any time after midnight means the term runs through that whole day.
 */
export function exclusiveEndOfInstant(instant: string): CalendarDate {
  const date = dateOfInstant(instant);
  const millis = Date.parse(instant);
  return millis % 86_400_000 === 0 ? date : addDays(date, 1);
}
