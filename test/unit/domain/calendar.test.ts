// Proves UTC calendar arithmetic: day numbers agree with Date.UTC, half-open intervals count
// every day once across month slices, and month arithmetic clamps as finance expects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  dateFromDayNumber,
  dateOfInstant,
  dayCount,
  dayNumber,
  intersect,
  lastDayOfPeriod,
  periodEnd,
  periodOf,
  periodRange,
  periodSlices,
} from '../../../lib/domain/calendar';

const RUNS = { numRuns: 300, seed: 20261123 } as const;
const dayArb = fc.integer({ min: 0, max: 80_000 }); // 1970 … 2189, leaving room for length

describe('day numbers', () => {
  it('agree with Date.UTC and round-trip', () => {
    fc.assert(
      fc.property(dayArb, (days) => {
        const date = dateFromDayNumber(days);
        expect(date).toBe(new Date(days * 86_400_000).toISOString().slice(0, 10));
        expect(dayNumber(date)).toBe(days);
      }),
      RUNS,
    );
  });

  it('reject impossible dates', () => {
    for (const bad of ['2025-02-29', '2025-13-01', '2025-00-10', '2025-1-01', '20250101']) {
      expect(() => dayNumber(bad), bad).toThrow(/date/);
    }
    expect(dayNumber('2024-02-29')).toBe(dayNumber('2024-03-01') - 1);
  });

  it('take the UTC date of an instant with an offset', () => {
    expect(dateOfInstant('2025-01-01T23:30:00-02:00')).toBe('2025-01-02');
    expect(dateOfInstant('2025-01-01T00:00:00Z')).toBe('2025-01-01');
    expect(() => dateOfInstant('yesterday')).toThrow(/timestamp/);
  });

  it('refuse an instant on a day that does not exist instead of rolling it over', () => {
    expect(() => dateOfInstant('2025-04-31T00:00:00Z')).toThrow(/real date/);
    expect(() => dateOfInstant('2025-02-29T12:00:00Z')).toThrow(/real date/);
    expect(dateOfInstant('2024-02-29T12:00:00Z')).toBe('2024-02-29');
  });
});

describe('intervals and periods', () => {
  it('a 3-year term from 2025-01-01 is 1,095 days; a leap year adds one', () => {
    expect(dayCount({ start: '2025-01-01', end: '2028-01-01' })).toBe(1_095);
    expect(dayCount({ start: '2028-01-01', end: '2029-01-01' })).toBe(366);
    expect(() => dayCount({ start: '2025-01-01', end: null })).toThrow(/open-ended/);
  });

  it('month slices cover every day of the interval exactly once', () => {
    fc.assert(
      fc.property(dayArb, fc.integer({ min: 0, max: 2_000 }), (start, length) => {
        const range = { start: dateFromDayNumber(start), end: dateFromDayNumber(start + length) };
        const slices = periodSlices(range);
        expect(slices.reduce((sum, s) => sum + s.days, 0)).toBe(length);
        for (const slice of slices) expect(slice.days).toBeGreaterThan(0);
        const periods = slices.map((s) => s.period);
        expect(new Set(periods).size).toBe(periods.length);
      }),
      RUNS,
    );
  });

  it('slices a mid-month term into partial first and last months', () => {
    expect(periodSlices({ start: '2025-01-15', end: '2025-03-10' })).toEqual([
      { period: '2025-01', days: 17 },
      { period: '2025-02', days: 28 },
      { period: '2025-03', days: 9 },
    ]);
  });

  it('adds months with end-of-month clamping', () => {
    expect(addMonths('2025-01-31', 1)).toBe('2025-02-28');
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2025-03-31', -1)).toBe('2025-02-28');
    expect(addMonths('2025-11-15', 14)).toBe('2027-01-15');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
  });

  it('knows period bounds', () => {
    expect(periodOf('2025-02-14')).toBe('2025-02');
    expect(periodEnd('2025-12')).toBe('2026-01-01');
    expect(lastDayOfPeriod('2024-02')).toBe('2024-02-29');
    expect(periodRange('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
  });

  it('intersects half-open intervals, open ends included', () => {
    expect(
      intersect({ start: '2025-01-01', end: null }, { start: '2025-03-01', end: '2025-04-01' }),
    ).toEqual({
      start: '2025-03-01',
      end: '2025-04-01',
    });
    expect(
      intersect({ start: '2025-01-01', end: '2025-02-01' }, { start: '2025-02-01', end: null }),
    ).toBeNull();
  });
});
