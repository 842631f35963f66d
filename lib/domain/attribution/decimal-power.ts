/**
 * 2^(−x) to a fixed number of decimal places without floating point (finance.md rule 9): the
 * time-decay attribution weight. Everything is bigint fixed-point arithmetic:
 *
 *   x = n + f with n = floor(x) and 0 ≤ f < 1, so 2^(−x) = 2^(−f) / 2^n
 *   2^(−f) = exp(−f·ln 2), ln 2 = 2·atanh(1/3) by its series, exp by its Taylor series.
 *
 * The result is correctly rounded (half-even) to `digits` places. The approximation carries an
 * explicit error bound; the value is rounded only when both ends of the error interval round to
 * the same number, otherwise the work is redone with more guard digits (Ziv's strategy). For an
 * integer x the value 10^digits / 2^x is rounded exactly, ties included. For a non-integer
 * rational x, 2^(−x) is irrational (Gelfond–Schneider), so it is never exactly a tie and the
 * loop ends; the guard digits are capped all the same (see GUARD_DIGITS_MAX).
 */
import { InvalidInputError } from '../errors';
import { divFloor, divHalfEven, type Rational, rational, ZERO } from '../money';

/** Decimal places of a time-decay weight: rule 9 demands at least 18. */
export const ATTRIBUTION_WEIGHT_DIGITS = 24;
/** Largest `digits` accepted: far beyond any use, and it bounds the work. */
export const DECIMAL_POWER_DIGITS_MAX = 200;
/** Above this exponent 2^(−x) is taken as 0 (it is below 10^−3000, far under any precision). */
export const DECAY_EXPONENT_MAX = 10_000n;
/** Bits accepted in the exponent's numerator or denominator (bounds the fixed-point division). */
export const DECAY_EXPONENT_BITS_MAX = 4_096;

const GUARD_DIGITS_START = 16;
/**
 * Guard digits are doubled until the rounding is decided, up to this cap. Reaching it would
 * need 2^(−x) within 10^−(digits+1024) of a rounding tie; if that ever happened the nearer
 * rounding of the (far more precise) approximation is returned.
 */
const GUARD_DIGITS_MAX = 1_024;
/**
 * Error bound of one fixed-point evaluation, in units of the last working digit. The working
 * precision carries 10 extra digits over the guard digits, and the true error (truncations in
 * the ln 2 series, in f·ln 2 and in each Taylor term: a few hundred units at most) is far below
 * 10^10 units, so this bound is safe by a wide margin.
 */
const ERROR_UNITS = 10n ** 10n;
const EXTRA_WORKING_DIGITS = 10;

const ln2Cache = new Map<number, bigint>();

/** ln 2 · 10^w, truncated, with error < (w + 10) units: 2·Σ 1/((2k+1)·3^(2k+1)). */
function ln2Scaled(w: number): bigint {
  const cached = ln2Cache.get(w);
  if (cached !== undefined) return cached;
  const scale = 10n ** BigInt(w);
  let power = scale / 3n; // scale / 3^(2k+1), truncated
  let sum = 0n;
  let k = 0n;
  while (power > 0n) {
    sum += power / (2n * k + 1n);
    power /= 9n;
    k += 1n;
  }
  const value = 2n * sum;
  if (ln2Cache.size < 64) ln2Cache.set(w, value);
  return value;
}

/** exp(−t / 10^w) · 10^w for 0 ≤ t < 10^w (t is scaled), by the alternating Taylor series. */
function expNegativeScaled(t: bigint, w: number): bigint {
  const scale = 10n ** BigInt(w);
  let term = scale;
  let sum = scale;
  let k = 1n;
  while (term > 0n) {
    term = (term * t) / (scale * k);
    sum = k % 2n === 1n ? sum - term : sum + term;
    k += 1n;
  }
  return sum;
}

function checkDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < 0 || digits > DECIMAL_POWER_DIGITS_MAX) {
    throw new InvalidInputError(
      'invalid_precision',
      `Decimal places must be an integer from 0 to ${DECIMAL_POWER_DIGITS_MAX}`,
    );
  }
}

function bitLength(value: bigint): number {
  return (value < 0n ? -value : value).toString(2).length;
}

/**
 * 2^(−exponent), correctly rounded half-even to `digits` decimal places: an integer over
 * 10^digits (reduced). `exponent` must be ≥ 0; above DECAY_EXPONENT_MAX the result is 0.
 */
export function powerOfTwoNegative(
  exponent: Rational,
  digits: number = ATTRIBUTION_WEIGHT_DIGITS,
): Rational {
  checkDigits(digits);
  if (exponent.den <= 0n) {
    throw new InvalidInputError('invalid_exponent', 'Exponent denominator must be positive');
  }
  if (exponent.num < 0n) {
    throw new InvalidInputError('invalid_exponent', 'Exponent must not be negative');
  }
  if (
    bitLength(exponent.num) > DECAY_EXPONENT_BITS_MAX ||
    bitLength(exponent.den) > DECAY_EXPONENT_BITS_MAX
  ) {
    throw new InvalidInputError(
      'invalid_exponent',
      `Exponent numerator and denominator are limited to ${DECAY_EXPONENT_BITS_MAX} bits`,
    );
  }
  if (exponent.num > DECAY_EXPONENT_MAX * exponent.den) return ZERO;

  const outScale = 10n ** BigInt(digits);
  const whole = exponent.num / exponent.den; // floor: both are non-negative
  const fractionNum = exponent.num - whole * exponent.den;
  const twoToWhole = 1n << whole;
  if (fractionNum === 0n) {
    // 2^(−n) is rational: round 10^digits / 2^n exactly, ties to even.
    return rational(divHalfEven(outScale, twoToWhole), outScale);
  }

  let guard = GUARD_DIGITS_START;
  for (;;) {
    const w = digits + guard + EXTRA_WORKING_DIGITS;
    const scale = 10n ** BigInt(w);
    // t = f · ln 2 · 10^w, in [0, ln 2 · 10^w).
    const t = divFloor(fractionNum * ln2Scaled(w), exponent.den);
    const approx = expNegativeScaled(t, w); // 2^(−f) · 10^w ± ERROR_UNITS
    // Value = approx / (2^n · 10^w); scaled to the output: approx · 10^digits / (2^n · 10^w).
    const den = twoToWhole * scale;
    const low = divHalfEven((approx - ERROR_UNITS) * outScale, den);
    const high = divHalfEven((approx + ERROR_UNITS) * outScale, den);
    if (low === high || guard >= GUARD_DIGITS_MAX) {
      return rational(low === high ? low : divHalfEven(approx * outScale, den), outScale);
    }
    guard *= 2;
  }
}
