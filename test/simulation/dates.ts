/**
 * The auditor's own calendar (deliberately not lib/domain/calendar): UTC dates as YYYY-MM-DD,
 * actual days, half-open terms.
 */

const DAY_MS = 86_400_000;

export function dayNumber(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

export function fromDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromDayNumber(dayNumber(date) + days);
}

/** The same day `months` later (clamped to the month's end). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

export function periodOfDate(date: string): string {
  return date.slice(0, 7);
}

/** The day after a period's last day. */
export function periodEndExclusive(period: string): string {
  return addMonths(`${period}-01`, 1);
}

export function previousPeriodOf(period: string): string {
  return addMonths(`${period}-01`, -1).slice(0, 7);
}

export function minDate(a: string, b: string): string {
  return a < b ? a : b;
}

export function maxDate(a: string, b: string): string {
  return a > b ? a : b;
}
