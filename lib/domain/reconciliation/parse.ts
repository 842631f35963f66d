/**
 * The per-row conversions a million-row feed needs, with fast paths for the shapes marketplaces
 * write and the project's exact parsers behind them for everything else:
 *
 * - amounts: "30000.00", "-900.00" → bigint minor units. Up to 15 digits are accumulated as an
 *   integer (exact: far below 2^53) and handed to BigInt; anything longer or unusual goes to
 *   money.ts `parseMajorAmount`, which is also what decides errors. Never a float parse.
 * - dates and timestamps: "2025-03-15", "2025-03-15T00:00:00Z", "2025-03-15 00:00:00.000" →
 *   the UTC day number (calendar.ts `dayNumber`); timestamps with a zone offset go through
 *   calendar.ts `dateOfInstant`.
 * - update timestamps → milliseconds, to order versions of one record.
 *
 * The fast paths are proven equal to the exact parsers by property tests.
 */
import { civilFromDays, DATE_YEAR_MAX, DATE_YEAR_MIN, dateOfInstant, dayNumber } from '../calendar';
import { InvalidInputError } from '../errors';
import { parseMajorAmount } from '../money';
import type { DayNumber } from './statement';

/** Digits the fast amount path accumulates (10^15 < 2^53: every step is exact). */
const FAST_AMOUNT_DIGITS_MAX = 15;
const MS_PER_DAY = 86_400_000;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/**
 * A major-unit decimal string in minor units of a currency with `exponent` decimals. Throws
 * InvalidInputError (from money.ts) for anything that is not an exact amount of the currency.
 */
export function parseAmountMinor(text: string, currency: string, exponent: number): bigint {
  const n = text.length;
  if (n === 0 || n > FAST_AMOUNT_DIGITS_MAX + 2) return parseMajorAmount(text, currency);
  let i = 0;
  let negative = false;
  if (text.charCodeAt(0) === 45) {
    negative = true;
    i = 1;
  }
  let value = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < n; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits += 1;
      if (fraction >= 0) fraction += 1;
    } else if (c === 46 && fraction < 0 && digits > 0) {
      fraction = 0;
    } else {
      return parseMajorAmount(text, currency);
    }
  }
  const decimals = fraction < 0 ? 0 : fraction;
  if (
    digits === 0 ||
    fraction === 0 ||
    decimals > exponent ||
    digits + exponent - decimals > FAST_AMOUNT_DIGITS_MAX ||
    (negative && digits === 0)
  ) {
    return parseMajorAmount(text, currency);
  }
  const scaled = value * (POWERS_OF_TEN[exponent - decimals] ?? 1);
  return BigInt(negative ? -scaled : scaled);
}

function isDigit(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  return c >= 48 && c <= 57;
}

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i += 1) value = value * 10 + (text.charCodeAt(i) - 48);
  return value;
}

/** days_from_civil for a validated date (same arithmetic as calendar.ts `dayNumber`). */
function civilDay(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The day number of "YYYY-MM-DD" at the start of `text`, or -1 when it is not one. */
function leadingDay(text: string): number {
  if (
    text.length < 10 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    !isDigit(text, 0) ||
    !isDigit(text, 1) ||
    !isDigit(text, 2) ||
    !isDigit(text, 3) ||
    !isDigit(text, 5) ||
    !isDigit(text, 6) ||
    !isDigit(text, 8) ||
    !isDigit(text, 9)
  ) {
    return -1;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < DATE_YEAR_MIN || year > DATE_YEAR_MAX || month < 1 || month > 12 || day < 1) return -1;
  const length = month === 2 && isLeap(year) ? 29 : (MONTH_DAYS[month - 1] ?? 0);
  return day > length ? -1 : civilDay(year, month, day);
}

/** Time of day "HH:MM:SS[.fff…]" at `from`, then an optional UTC marker; -1 otherwise. */
function utcTimeOfDay(text: string, from: number): number {
  const n = text.length;
  if (n < from + 8 || text.charCodeAt(from + 2) !== 58 || text.charCodeAt(from + 5) !== 58) {
    return -1;
  }
  for (const at of [0, 1, 3, 4, 6, 7]) if (!isDigit(text, from + at)) return -1;
  const hours = digits(text, from, 2);
  const minutes = digits(text, from + 3, 2);
  const seconds = digits(text, from + 6, 2);
  if (hours > 23 || minutes > 59 || seconds > 59) return -1;
  let i = from + 8;
  let millis = 0;
  if (i < n && text.charCodeAt(i) === 46) {
    i += 1;
    let scale = 100;
    const start = i;
    while (i < n && i - start < 9 && isDigit(text, i)) {
      millis += (text.charCodeAt(i) - 48) * scale;
      scale /= 10;
      i += 1;
    }
    if (i === start) return -1;
    millis = Math.floor(millis);
  }
  const rest = text.slice(i);
  if (rest !== '' && rest !== 'Z' && rest !== '+00:00' && rest !== '+0000') return -1;
  return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis;
}

/**
 * The UTC day of a date or timestamp. "YYYY-MM-DD", or a timestamp in UTC (Z, +00:00 or no
 * zone, 'T' or a space before the time); other offsets are converted exactly.
 */
export function parseDay(text: string): DayNumber {
  const day = leadingDay(text);
  if (day !== -1) {
    if (text.length === 10) return day;
    const separator = text.charCodeAt(10);
    if ((separator === 84 || separator === 32) && utcTimeOfDay(text, 11) >= 0) return day;
  }
  // Another zone offset on a valid date: the instant parser converts it (or rejects it). An
  // impossible date is refused here: Date.parse would roll 2025-04-31 over to 2025-05-01.
  if (day !== -1 && text.charCodeAt(10) === 84) return dayNumber(dateOfInstant(text));
  throw new InvalidInputError('invalid_date', `Not a date or UTC timestamp: "${text}"`);
}

/** Distinct date texts remembered (feeds repeat a few hundred dates a million times). */
const DAY_CACHE_MAX = 10_000;
const dayCache = new Map<string, DayNumber>();
const millisCache = new Map<string, number>();

/** `parseDay`, remembering recent answers (valid ones only). */
export function parseDayCached(text: string): DayNumber {
  const known = dayCache.get(text);
  if (known !== undefined) return known;
  const day = parseDay(text);
  if (dayCache.size >= DAY_CACHE_MAX) dayCache.clear();
  dayCache.set(text.length < 13 ? text : text.slice(0, 1) + text.slice(1), day);
  return day;
}

/** `parseInstantMillis`, remembering recent answers (valid ones only). */
export function parseInstantMillisCached(text: string): number {
  const known = millisCache.get(text);
  if (known !== undefined) return known;
  const millis = parseInstantMillis(text);
  if (millisCache.size >= DAY_CACHE_MAX) millisCache.clear();
  millisCache.set(text.length < 13 ? text : text.slice(0, 1) + text.slice(1), millis);
  return millis;
}

/** Milliseconds since the epoch of a date or timestamp (to order versions of a record). */
export function parseInstantMillis(text: string): number {
  const day = leadingDay(text);
  if (day !== -1) {
    if (text.length === 10) return day * MS_PER_DAY;
    const separator = text.charCodeAt(10);
    if (separator === 84 || separator === 32) {
      const time = utcTimeOfDay(text, 11);
      if (time >= 0) return day * MS_PER_DAY + time;
    }
  }
  const millis = day === -1 ? Number.NaN : Date.parse(text);
  if (Number.isNaN(millis) || !/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    throw new InvalidInputError('invalid_timestamp', `Not an ISO-8601 timestamp: "${text}"`);
  }
  return millis;
}

const DATE_TEXT_CACHE_MAX = 100_000;
const dateTexts = new Map<number, string>();

/** "YYYY-MM-DD" of a day number (cached: reports repeat the same few hundred days). */
export function dateOfDay(day: DayNumber): string {
  const cached = dateTexts.get(day);
  if (cached !== undefined) return cached;
  const { year, month, day: d } = civilFromDays(day);
  const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  if (dateTexts.size < DATE_TEXT_CACHE_MAX) dateTexts.set(day, text);
  return text;
}

/** year × 12 + month of a day number. */
export function monthIndexOfDay(day: DayNumber): number {
  const { year, month } = civilFromDays(day);
  return year * 12 + month;
}

/** The day number of the first day of a month given as year × 12 + month. */
export function firstDayOfMonthIndex(index: number): DayNumber {
  const year = Math.floor((index - 1) / 12);
  return civilDay(year, index - year * 12, 1);
}

/**
 * The calendar month of a day number as "YYYY-MM" and as year × 12 + month, and the day number
 * its next month starts.
 */
export function monthOfDay(day: DayNumber): {
  period: string;
  index: number;
  nextMonthDay: DayNumber;
} {
  const { year, month } = civilFromDays(day);
  const nextYear = month === 12 ? year + 1 : year;
  const nextMonth = month === 12 ? 1 : month + 1;
  return {
    period: `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`,
    index: year * 12 + month,
    nextMonthDay: civilDay(nextYear, nextMonth, 1),
  };
}
