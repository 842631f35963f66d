// Proves the ratable schedule rule (finance.md §0): calendar-month lines by actual days over a half-open term, cumulative half-even rounding, exact sums, the one-unit bound and no negative month.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  buildSchedule,
  cumulativeThrough,
  ratableLines,
} from '../../../../lib/domain/revenue/schedule';
import { referenceRound } from '../../helpers/reference-rounding';

const RUNS = { numRuns: 300, seed: 20250601 } as const;
const DAY_MS = 86_400_000;

/** Independent calendar helpers (Date.UTC), so the test does not lean on lib/domain/calendar. */
function utcDay(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1) / DAY_MS;
}
function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
/** Days of [start, end) in each calendar month, by walking the days one at a time. */
function daysPerMonth(start: string, end: string): [string, number][] {
  const out: [string, number][] = [];
  for (let day = utcDay(start); day < utcDay(end); day += 1) {
    const month = dateOf(day).slice(0, 7);
    const last = out.at(-1);
    if (last && last[0] === month) last[1] += 1;
    else out.push([month, 1]);
  }
  return out;
}

const termArb = fc
  .record({
    startDay: fc.integer({ min: utcDay('2020-01-01'), max: utcDay('2030-12-31') }),
    length: fc.integer({ min: 1, max: 1_900 }),
  })
  .map(({ startDay, length }) => ({ start: dateOf(startDay), end: dateOf(startDay + length) }));

const totalArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 100n }),
  fc.bigInt({ min: 0n, max: 10n ** 9n }),
  fc.bigInt({ min: 0n, max: 10n ** 15n }),
);

describe('ratableLines: cumulative half-even schedule', () => {
  it('sums exactly to T, counts every day once, and each month is within one unit of T·d/D', () => {
    fc.assert(
      fc.property(totalArb, termArb, (total, term) => {
        const lines = ratableLines(total, term);
        const expected = daysPerMonth(term.start, term.end);
        const D = BigInt(utcDay(term.end) - utcDay(term.start));

        expect(lines.map((l) => [l.period, l.days])).toEqual(expected);
        expect(lines.reduce((sum, l) => sum + l.recognizedMinor, 0n)).toBe(total);
        expect(lines.at(-1)?.cumulativeMinor).toBe(total);

        let running = 0n;
        let elapsed = 0n;
        for (const line of lines) {
          const d = BigInt(line.days);
          elapsed += d;
          running += line.recognizedMinor;
          // |line − T·d/D| ≤ 1, checked exactly: |line·D − T·d| ≤ D.
          const error = line.recognizedMinor * D - total * d;
          expect(error <= D && error >= -D).toBe(true);
          expect(line.recognizedMinor >= 0n).toBe(true);
          // The cumulative amount is round_half_even(T·D_k/D), computed independently.
          expect(line.cumulativeMinor).toBe(running);
          expect(line.cumulativeMinor).toBe(referenceRound(total * elapsed, D, 'even'));
        }
      }),
      RUNS,
    );
    // 300 multi-year schedules: a correctness property, not a speed test (benchmarks time it).
  }, 60_000);

  it('ties at the cumulative cut-off go to the even neighbour', () => {
    // 1 cent over two days: cum_1 = round(0.5) = 0, so the whole cent lands in the second month.
    const one = ratableLines(1n, { start: '2025-01-31', end: '2025-02-02' });
    expect(one.map((l) => [l.period, l.days, l.recognizedMinor])).toEqual([
      ['2025-01', 1, 0n],
      ['2025-02', 1, 1n],
    ]);
    // 3 cents over two days: cum_1 = round(1.5) = 2.
    const three = ratableLines(3n, { start: '2025-01-31', end: '2025-02-02' });
    expect(three.map((l) => l.recognizedMinor)).toEqual([2n, 1n]);
    // 5 cents: cum_1 = round(2.5) = 2 (even), not 3.
    const five = ratableLines(5n, { start: '2025-01-31', end: '2025-02-02' });
    expect(five.map((l) => l.recognizedMinor)).toEqual([2n, 3n]);
  });

  it('counts actual days: a leap February has 29, the end date is exclusive', () => {
    const lines = ratableLines(36_600n, { start: '2024-01-01', end: '2025-01-01' });
    expect(lines).toHaveLength(12);
    expect(lines[1]).toEqual({
      period: '2024-02',
      days: 29,
      recognizedMinor: 2_900n,
      cumulativeMinor: 6_000n,
    });
    expect(lines.every((l) => l.recognizedMinor === BigInt(l.days) * 100n)).toBe(true);
    // A term ending on the 1st does not touch that month.
    const short = ratableLines(100n, { start: '2025-03-15', end: '2025-04-01' });
    expect(short.map((l) => l.period)).toEqual(['2025-03']);
    expect(short[0]?.days).toBe(17);
  });

  it('has no lines for an empty term and refuses an open one', () => {
    expect(ratableLines(1_000n, { start: '2025-03-01', end: '2025-03-01' })).toEqual([]);
    expect(() => ratableLines(1_000n, { start: '2025-03-01', end: null })).toThrow(
      InvalidInputError,
    );
    try {
      ratableLines(1_000n, { start: '2025-03-01', end: null });
    } catch (error) {
      expect((error as InvalidInputError).code).toBe('open_term');
    }
  });

  it('spreads a total smaller than the number of months without any negative month', () => {
    const lines = ratableLines(7n, { start: '2025-01-01', end: '2028-01-01' });
    expect(lines).toHaveLength(36);
    expect(lines.filter((l) => l.recognizedMinor === 1n)).toHaveLength(7);
    expect(lines.every((l) => l.recognizedMinor === 0n || l.recognizedMinor === 1n)).toBe(true);
  });
});

describe('buildSchedule and cumulativeThrough', () => {
  const schedule = buildSchedule({
    contractId: 'A-1',
    version: 1,
    currency: 'USD',
    totalMinor: 36_000_000n,
    service: { start: '2025-01-01', end: '2028-01-01' },
  });

  it('keeps its identity and lines', () => {
    expect(schedule.contractId).toBe('A-1');
    expect(schedule.version).toBe(1);
    expect(schedule.lines).toHaveLength(36);
    expect(schedule.lines[0]?.recognizedMinor).toBe(1_019_178n);
  });

  it('is 0 before the first month, the line cumulative inside, the total after', () => {
    expect(cumulativeThrough(schedule, '2024-12')).toBe(0n);
    expect(cumulativeThrough(schedule, '2025-01')).toBe(1_019_178n);
    expect(cumulativeThrough(schedule, '2025-06')).toBe(5_950_685n);
    expect(cumulativeThrough(schedule, '2025-12')).toBe(12_000_000n);
    expect(cumulativeThrough(schedule, '2027-12')).toBe(36_000_000n);
    expect(cumulativeThrough(schedule, '2031-05')).toBe(36_000_000n);
  });

  it('agrees with the lines for every period of a random schedule', () => {
    fc.assert(
      fc.property(totalArb, termArb, (total, term) => {
        const s = buildSchedule({
          contractId: 'X',
          version: 2,
          currency: 'USD',
          totalMinor: total,
          service: term,
        });
        let running = 0n;
        for (const line of s.lines) {
          running += line.recognizedMinor;
          expect(cumulativeThrough(s, line.period)).toBe(running);
        }
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});
