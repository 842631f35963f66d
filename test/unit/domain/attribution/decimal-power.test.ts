// Proves powerOfTwoNegative is 2^(−x) correctly rounded half-even to the requested places: exact for integers (ties included), certified by exact integer powers for rationals, monotonic, and bounded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTION_WEIGHT_DIGITS,
  DECAY_EXPONENT_BITS_MAX,
  DECAY_EXPONENT_MAX,
  powerOfTwoNegative,
} from '../../../../lib/domain/attribution/decimal-power';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  compareRational,
  formatRational,
  multiplyRational,
  type Rational,
  rational,
  subtractRational,
} from '../../../../lib/domain/money';

const RUNS = { numRuns: 200, seed: 20261201 } as const;

/** R = the result scaled to an integer of `digits` places (its denominator must divide 10^d). */
function scaled(value: Rational, digits: number): bigint {
  const scale = 10n ** BigInt(digits);
  expect(scale % value.den).toBe(0n);
  return value.num * (scale / value.den);
}

/**
 * R is 2^(−p/q)·10^d correctly rounded iff |2^(−p/q)·10^d − R| < 1/2 (2^(−p/q) is irrational
 * unless q | p, so never a tie), i.e. (2R − 1)^q · 2^p < 2^q · 10^(dq) < (2R + 1)^q · 2^p.
 */
function isCorrectlyRounded(R: bigint, p: bigint, q: bigint, digits: number): boolean {
  const middle = 2n ** q * 10n ** (BigInt(digits) * q);
  const low = (2n * R - 1n) ** q * 2n ** p;
  const high = (2n * R + 1n) ** q * 2n ** p;
  return (2n * R - 1n < 0n || low < middle) && middle < high;
}

/** round_half_even(10^d / 2^k), written independently of money.ts. */
function referenceIntegerPower(k: bigint, digits: number): bigint {
  const n = 10n ** BigInt(digits);
  const d = 2n ** k;
  const q = n / d;
  const r = n % d;
  if (2n * r > d || (2n * r === d && q % 2n === 1n)) return q + 1n;
  return q;
}

describe('powerOfTwoNegative', () => {
  it('uses 24 places by default (rule 9 demands at least 18)', () => {
    expect(ATTRIBUTION_WEIGHT_DIGITS).toBe(24);
    expect(formatRational(powerOfTwoNegative(rational(1n, 2n)), 30)).toBe(
      '0.707106781186547524400844',
    );
  });

  it('2^0 = 1 and integer exponents are exact (10^24 / 2^k rounded half-even)', () => {
    expect(powerOfTwoNegative(rational(0n))).toEqual(rational(1n));
    for (let k = 0n; k <= 100n; k += 1n) {
      expect(scaled(powerOfTwoNegative(rational(k)), 24)).toBe(referenceIntegerPower(k, 24));
    }
  });

  it('an integer exponent that lands on a tie rounds to even', () => {
    expect(powerOfTwoNegative(rational(2n), 1)).toEqual(rational(2n, 10n)); // 0.25 → 0.2
    expect(powerOfTwoNegative(rational(3n), 2)).toEqual(rational(12n, 100n)); // 0.125 → 0.12
    expect(powerOfTwoNegative(rational(4n), 3)).toEqual(rational(62n, 1000n)); // 0.0625 → 0.062
    expect(powerOfTwoNegative(rational(1n), 0)).toEqual(rational(0n)); // 0.5 → 0
    expect(powerOfTwoNegative(rational(5n), 4)).toEqual(rational(312n, 10_000n)); // 0.03125
  });

  it('is correctly rounded for rational exponents (certified with exact integer powers)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 400n }),
        fc.bigInt({ min: 1n, max: 40n }),
        fc.constantFrom(0, 1, 6, 18, 24, 30),
        (p, q, digits) => {
          const R = scaled(powerOfTwoNegative(rational(p, q), digits), digits);
          if (p % q === 0n) {
            expect(R).toBe(referenceIntegerPower(p / q, digits));
          } else {
            expect(isCorrectlyRounded(R, p, q, digits)).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it('the certificate rejects a neighbour (so the check above is not vacuous)', () => {
    const R = scaled(powerOfTwoNegative(rational(5n, 3n)), 24);
    expect(isCorrectlyRounded(R, 5n, 3n, 24)).toBe(true);
    expect(isCorrectlyRounded(R + 1n, 5n, 3n, 24)).toBe(false);
    expect(isCorrectlyRounded(R - 1n, 5n, 3n, 24)).toBe(false);
  });

  it('(2^(−1/2))² is 1/2 within 10^−22, and 2^(−a)·2^(−b) ≈ 2^(−(a+b))', () => {
    const half = powerOfTwoNegative(rational(1n, 2n));
    const error = subtractRational(multiplyRational(half, half), rational(1n, 2n));
    const bound = rational(1n, 10n ** 22n);
    expect(compareRational(error, bound)).toBeLessThan(0);
    expect(compareRational(error, rational(-1n, 10n ** 22n))).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 3_000n }),
        fc.bigInt({ min: 0n, max: 3_000n }),
        (a, b) => {
          const product = multiplyRational(
            powerOfTwoNegative(rational(a, 1_000n)),
            powerOfTwoNegative(rational(b, 1_000n)),
          );
          const direct = powerOfTwoNegative(rational(a + b, 1_000n));
          const diff = subtractRational(product, direct);
          // each factor is within 0.5e−24 and below 1, so the product is within 1.5e−24
          expect(compareRational(diff, rational(2n, 10n ** 24n))).toBeLessThan(0);
          expect(compareRational(diff, rational(-2n, 10n ** 24n))).toBeGreaterThan(0);
        },
      ),
      RUNS,
    );
  });

  it('is non-increasing in the exponent and strictly decreasing for steps of 10^−6 on [0, 10]', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 100_000_000n }),
        fc.bigInt({ min: 1n, max: 100_000_000n }),
        fc.bigInt({ min: 1n, max: 1_000n }),
        (a, step, den) => {
          const x = rational(a, den);
          const y = rational(a + step, den);
          expect(
            compareRational(powerOfTwoNegative(x), powerOfTwoNegative(y)),
          ).toBeGreaterThanOrEqual(0);
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10_000_000n }), (micro) => {
        const x = powerOfTwoNegative(rational(micro, 1_000_000n));
        const y = powerOfTwoNegative(rational(micro + 1n, 1_000_000n));
        expect(compareRational(x, y)).toBe(1);
      }),
      RUNS,
    );
  });

  it('is 0 above DECAY_EXPONENT_MAX, and underflows to 0 long before it at 24 places', () => {
    expect(powerOfTwoNegative(rational(DECAY_EXPONENT_MAX + 1n))).toEqual(rational(0n));
    expect(powerOfTwoNegative(rational(DECAY_EXPONENT_MAX * 3n + 1n, 3n))).toEqual(rational(0n));
    expect(powerOfTwoNegative(rational(DECAY_EXPONENT_MAX))).toEqual(rational(0n));
    expect(powerOfTwoNegative(rational(81n))).toEqual(rational(0n)); // 4.1e−25 < 0.5e−24
    expect(powerOfTwoNegative(rational(79n))).toEqual(rational(2n, 10n ** 24n)); // 1.65e−24
  });

  it('rejects a negative exponent, bad precision and oversized exponents', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (error) {
        return error instanceof InvalidInputError ? error.code : 'other';
      }
    };
    expect(code(() => powerOfTwoNegative(rational(-1n, 3n)))).toBe('invalid_exponent');
    expect(code(() => powerOfTwoNegative({ num: 1n, den: 0n }))).toBe('invalid_exponent');
    expect(code(() => powerOfTwoNegative(rational(1n, 3n), -1))).toBe('invalid_precision');
    expect(code(() => powerOfTwoNegative(rational(1n, 3n), 2.5))).toBe('invalid_precision');
    expect(code(() => powerOfTwoNegative(rational(1n, 3n), 201))).toBe('invalid_precision');
    const huge = 2n ** BigInt(DECAY_EXPONENT_BITS_MAX) + 1n;
    expect(code(() => powerOfTwoNegative({ num: 1n, den: huge }))).toBe('invalid_exponent');
  });

  it('stays fast: 1,000 evaluations at 24 places take well under a second', () => {
    const started = performance.now();
    for (let i = 1n; i <= 1_000n; i += 1n) powerOfTwoNegative(rational(i * 7n, 13n));
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
