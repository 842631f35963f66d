// Proves the split rules: largest remainder sums exactly, is optimal, stays within one unit of
// exact and ignores input order; the cumulative (telescoping) rule sums exactly and never drifts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AllocationParty,
  allocateCumulative,
  allocateLargestRemainder,
  allocateRatably,
  splitCumulative,
} from '../../../lib/domain/allocation';
import { rational } from '../../../lib/domain/money';
import { referenceRound } from '../helpers/reference-rounding';

const RUNS = { numRuns: 300, seed: 20261123 } as const;

const partiesArb = fc
  .uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[A-Z]-[0-9]{1,3}$/),
      num: fc.bigInt({ min: 0n, max: 10_000n }),
      den: fc.bigInt({ min: 1n, max: 997n }),
      day: fc.integer({ min: 0, max: 5 }),
    }),
    { minLength: 1, maxLength: 12, selector: (p) => p.id },
  )
  .filter((ps) => ps.some((p) => p.num > 0n))
  .map((ps) =>
    ps.map(
      (p): AllocationParty => ({
        id: p.id,
        weight: rational(p.num, p.den),
        timestamp: `2025-01-0${p.day + 1}T00:00:00Z`,
      }),
    ),
  );

/** Few distinct weights and timestamps, so ties (the tie-break rules) are common. */
const tiedPartiesArb = fc
  .uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[A-Z]-[0-9]$/),
      num: fc.bigInt({ min: 1n, max: 2n }),
      day: fc.integer({ min: 0, max: 1 }),
    }),
    { minLength: 2, maxLength: 8, selector: (p) => p.id },
  )
  .map((ps) =>
    ps.map(
      (p): AllocationParty => ({
        id: p.id,
        weight: rational(p.num),
        timestamp: `2025-01-0${p.day + 1}T00:00:00Z`,
      }),
    ),
  );

const anyPartiesArb = fc.oneof(partiesArb, tiedPartiesArb);

const totalArb = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });

/** total × w_i / Σw compared with an amount: returns |amount − exact| < 1 without rounding. */
function withinOneUnit(
  amount: bigint,
  total: bigint,
  parties: readonly AllocationParty[],
  i: number,
) {
  // Σw as a rational with a common denominator
  let sumNum = 0n;
  let sumDen = 1n;
  for (const p of parties) {
    sumNum = sumNum * p.weight.den + p.weight.num * sumDen;
    sumDen *= p.weight.den;
  }
  const w = parties[i]?.weight ?? rational(0n);
  // exact = total · w.num · sumDen / (w.den · sumNum)
  const exactNum = total * w.num * sumDen;
  const exactDen = w.den * sumNum;
  const diff = amount * exactDen - exactNum;
  return (diff < 0n ? -diff : diff) < exactDen;
}

describe('allocateLargestRemainder', () => {
  it('sums exactly to the pool and keeps every share within one unit of exact', () => {
    fc.assert(
      fc.property(totalArb, partiesArb, (total, parties) => {
        const shares = allocateLargestRemainder(total, parties);
        expect(shares.reduce((s, x) => s + x.amountMinor, 0n)).toBe(total);
        shares.forEach((share, i) => {
          expect(withinOneUnit(share.amountMinor, total, parties, i)).toBe(true);
        });
      }),
      RUNS,
    );
  });

  it('is independent of input order', () => {
    fc.assert(
      fc.property(totalArb, anyPartiesArb, fc.integer(), (total, parties, seed) => {
        const shuffled = [...parties].sort(
          (a, b) => ((a.id.charCodeAt(2) * seed) % 7) - ((b.id.charCodeAt(2) * seed) % 7),
        );
        const byId = (shares: { id: string; amountMinor: bigint }[]) =>
          Object.fromEntries(shares.map((s) => [s.id, s.amountMinor]));
        expect(byId(allocateLargestRemainder(total, shuffled))).toEqual(
          byId(allocateLargestRemainder(total, [...parties].reverse())),
        );
      }),
      RUNS,
    );
  });

  it('gives leftover units only to the largest fractional parts (Hamilton optimality)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), anyPartiesArb, (total, parties) => {
        const shares = allocateLargestRemainder(total, parties);
        // remainder of each exact share, on a common scale
        let den = 1n;
        for (const p of parties) den *= p.weight.den;
        const ints = parties.map((p) => p.weight.num * (den / p.weight.den));
        const sum = ints.reduce((a, b) => a + b, 0n);
        const rows = parties.map((p, i) => {
          const exact = total * (ints[i] ?? 0n);
          const floor = exact / sum;
          return { p, got: shares[i]?.amountMinor ?? 0n, floor, rem: exact % sum };
        });
        for (const row of rows)
          expect(row.got - row.floor === 0n || row.got - row.floor === 1n).toBe(true);
        const bumped = rows.filter((r) => r.got > r.floor);
        const kept = rows.filter((r) => r.got === r.floor);
        for (const b of bumped) {
          for (const k of kept) {
            expect(b.rem >= k.rem).toBe(true);
            if (b.rem !== k.rem) continue;
            // equal remainders: the earlier timestamp wins, then the smaller id
            const tb = Date.parse(b.p.timestamp ?? '');
            const tk = Date.parse(k.p.timestamp ?? '');
            expect(tb < tk || (tb === tk && b.p.id < k.p.id)).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it('mirrors a negative pool exactly (clawbacks reverse the original split)', () => {
    fc.assert(
      fc.property(totalArb, partiesArb, (total, parties) => {
        const pos = allocateLargestRemainder(total, parties);
        const neg = allocateLargestRemainder(-total, parties);
        pos.forEach((s, i) => {
          expect(neg[i]?.amountMinor).toBe(-s.amountMinor);
        });
      }),
      RUNS,
    );
  });

  it('WE-9: an equal three-way split of 1,000.00 gives the extra cent to the earliest touch', () => {
    const shares = allocateLargestRemainder(100_000n, [
      { id: 'C', weight: rational(1n), timestamp: '2025-03-03T00:00:00Z' },
      { id: 'A', weight: rational(1n), timestamp: '2025-03-01T00:00:00Z' },
      { id: 'B', weight: rational(1n), timestamp: '2025-03-02T00:00:00Z' },
    ]);
    expect(shares).toEqual([
      { id: 'C', amountMinor: 33_333n },
      { id: 'A', amountMinor: 33_334n },
      { id: 'B', amountMinor: 33_333n },
    ]);
  });

  it('WE-9: Shapley 0.35/0.25 splits a 10,000.00 pool into 5,833.33 and 4,166.67', () => {
    const shares = allocateLargestRemainder(1_000_000n, [
      { id: 'A', weight: rational(35n, 100n) },
      { id: 'B', weight: rational(25n, 100n) },
    ]);
    expect(shares.map((s) => s.amountMinor)).toEqual([583_333n, 416_667n]);
  });

  it('WE-8: 14,116.68 split by basis gives D-1 4,131.36 and D-2 9,985.32', () => {
    const shares = allocateLargestRemainder(1_411_668n, [
      { id: 'D-1', weight: rational(3_930_566n) },
      { id: 'D-2', weight: rational(9_500_000n) },
    ]);
    expect(shares.map((s) => s.amountMinor)).toEqual([413_136n, 998_532n]);
  });

  it('rejects empty, duplicate, negative and all-zero inputs with codes', () => {
    expect(() => allocateLargestRemainder(1n, [])).toThrow(/zero parties/);
    const one = { id: 'A', weight: rational(1n) };
    expect(() => allocateLargestRemainder(1n, [one, one])).toThrow(/appears twice/);
    expect(() => allocateLargestRemainder(1n, [{ id: 'A', weight: rational(-1n) }])).toThrow(
      /negative/,
    );
    expect(() => allocateLargestRemainder(1n, [{ id: 'A', weight: rational(0n) }])).toThrow(
      /sum to zero/,
    );
  });
});

describe('allocateCumulative (telescoping)', () => {
  const periodsArb = fc
    .array(fc.integer({ min: 0, max: 31 }), { minLength: 1, maxLength: 60 })
    .filter((days) => days.some((d) => d > 0));

  it('sums exactly, never goes negative for T ≥ 0, and keeps each period within one unit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 14n }), periodsArb, (total, days) => {
        const weights = days.map(BigInt);
        const out = allocateRatably(total, weights);
        const D = weights.reduce((a, b) => a + b, 0n);
        expect(out.reduce((a, b) => a + b, 0n)).toBe(total);
        out.forEach((amount, k) => {
          expect(amount >= 0n).toBe(true);
          const exactTimesD = total * (weights[k] ?? 0n);
          const diff = amount * D - exactTimesD;
          expect((diff < 0n ? -diff : diff) <= D).toBe(true);
        });
      }),
      RUNS,
    );
  });

  it('telescopes: the first k periods sum to round(T·c_k/D)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }), periodsArb, (total, days) => {
        const cumulative: bigint[] = [];
        let run = 0n;
        for (const d of days) {
          run += BigInt(d);
          cumulative.push(run);
        }
        const out = allocateCumulative(total, cumulative, run);
        let prefix = 0n;
        out.forEach((amount, k) => {
          prefix += amount;
          expect(prefix).toBe(referenceRound(total * (cumulative[k] ?? 0n), run, 'even'));
        });
      }),
      RUNS,
    );
  });

  it('WE-1: 360,000.00 over 1,095 days gives the published 2025 months', () => {
    const days2025 = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    const days = [...days2025, ...days2025, ...days2025].map(BigInt);
    const out = allocateRatably(36_000_000n, days);
    expect(out.slice(0, 12)).toEqual([
      1_019_178n,
      920_548n,
      1_019_178n,
      986_301n,
      1_019_179n,
      986_301n,
      1_019_178n,
      1_019_178n,
      986_301n,
      1_019_179n,
      986_301n,
      1_019_178n,
    ]);
    expect(out.slice(12, 24)).toEqual(out.slice(0, 12));
    expect(out.slice(0, 6).reduce((a, b) => a + b, 0n)).toBe(5_950_685n); // deferred 60,493.15 at June
  });

  it('rejects cumulative weights that go backwards or do not end at the denominator', () => {
    expect(() => allocateCumulative(10n, [5n, 3n, 10n], 10n)).toThrow(/non-decreasing/);
    expect(() => allocateCumulative(10n, [5n, 9n], 10n)).toThrow(/end at the denominator/);
  });
});

describe('splitCumulative (rule 10)', () => {
  it('each party telescopes to its share of the final total, and cut-offs sum exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 36 }),
        partiesArb,
        (increments, parties) => {
          const cumulative: bigint[] = [];
          let run = 0n;
          for (const inc of increments) {
            run += inc;
            cumulative.push(run);
          }
          const deltas = splitCumulative(cumulative, parties);
          const final = allocateLargestRemainder(run, parties);
          for (const share of final) {
            const sum = (deltas.get(share.id) ?? []).reduce((a, b) => a + b, 0n);
            expect(sum).toBe(share.amountMinor);
          }
          cumulative.forEach((_, k) => {
            let periodSum = 0n;
            for (const d of deltas.values()) periodSum += d[k] ?? 0n;
            expect(periodSum).toBe(
              (cumulative[k] ?? 0n) - (k > 0 ? (cumulative[k - 1] ?? 0n) : 0n),
            );
          });
        },
      ),
      RUNS,
    );
  });
});
