// Proves exact money arithmetic: rounding modes agree with an independent reference, decimal
// strings round-trip without floats, and currencies keep their ISO 4217 exponents.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addRational,
  applyRate,
  basisPoints,
  compareRational,
  divFloor,
  divHalfEven,
  divHalfUp,
  formatMajorAmount,
  formatRational,
  minorUnitsOf,
  parseDecimal,
  parseMajorAmount,
  parseMinor,
  rational,
} from '../../../lib/domain/money';
import { referenceRound } from '../helpers/reference-rounding';

const RUNS = { numRuns: 500, seed: 20261123 } as const;

const bigAmount = fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n });
const nonZeroDivisor = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).filter((d) => d !== 0n);

describe('rounding division', () => {
  it('divHalfEven matches the reference on random bigints', () => {
    fc.assert(
      fc.property(bigAmount, nonZeroDivisor, (n, d) => {
        expect(divHalfEven(n, d)).toBe(referenceRound(n, d, 'even'));
      }),
      RUNS,
    );
  });

  it('divHalfUp matches the reference (ties away from zero, as Java HALF_UP)', () => {
    fc.assert(
      fc.property(bigAmount, nonZeroDivisor, (n, d) => {
        expect(divHalfUp(n, d)).toBe(referenceRound(n, d, 'away'));
      }),
      RUNS,
    );
  });

  it('divFloor rounds towards negative infinity', () => {
    fc.assert(
      fc.property(bigAmount, nonZeroDivisor, (n, d) => {
        const q = divFloor(n, d);
        // q ≤ n/d < q + 1, checked without division
        const dd = d < 0n ? -d : d;
        const nn = d < 0n ? -n : n;
        expect(q * dd <= nn).toBe(true);
        expect(nn < (q + 1n) * dd).toBe(true);
      }),
      RUNS,
    );
  });

  it('rounds the classic ties as documented', () => {
    expect(divHalfEven(5n, 2n)).toBe(2n);
    expect(divHalfEven(7n, 2n)).toBe(4n);
    expect(divHalfEven(-5n, 2n)).toBe(-2n);
    expect(divHalfUp(5n, 2n)).toBe(3n);
    expect(divHalfUp(-5n, 2n)).toBe(-3n);
    expect(() => divHalfEven(1n, 0n)).toThrow(/Division by zero/);
  });

  it('WE-5: a 3% fee on 123,456.70 is 3,703.70 under either rule', () => {
    const usage = 12_345_670n;
    expect(applyRate(usage, rational(3n, 100n), 'half-even')).toBe(370_370n);
    expect(applyRate(usage, rational(3n, 100n), 'half-up')).toBe(370_370n);
  });

  it('WE-4: a 3.5% CPPO fee on the 90,000.00 wholesale price is 3,150.00', () => {
    expect(applyRate(9_000_000n, basisPoints(350n), 'half-even')).toBe(315_000n);
  });
});

describe('decimal strings', () => {
  it('parse exactly, with no float on the way', () => {
    expect(parseDecimal('1.0450')).toEqual(rational(209n, 200n));
    expect(parseDecimal('0.002')).toEqual(rational(1n, 500n));
    expect(parseDecimal('-12')).toEqual(rational(-12n));
    // 0.1 + 0.2 is exactly 0.3 here
    const sum = addRational(parseDecimal('0.1'), parseDecimal('0.2'));
    expect(compareRational(sum, parseDecimal('0.3'))).toBe(0);
  });

  it('reject what is not a plain decimal', () => {
    for (const bad of ['1e3', '1,000.00', 'NaN', '', '.5', '1.', '0x10', 'Infinity']) {
      expect(() => parseDecimal(bad), bad).toThrow(/Not a decimal/);
    }
  });

  it('major amounts round-trip through minor units for every exponent', () => {
    fc.assert(
      fc.property(bigAmount, fc.constantFrom('USD', 'JPY', 'KWD', 'CLF'), (minor, currency) => {
        const text = formatMajorAmount(minor, currency);
        expect(parseMajorAmount(text, currency)).toBe(minor);
      }),
      RUNS,
    );
  });

  it('formats with the currency exponent', () => {
    expect(formatMajorAmount(1_019_178n, 'USD')).toBe('10191.78');
    expect(formatMajorAmount(-5n, 'USD')).toBe('-0.05');
    expect(formatMajorAmount(1234n, 'JPY')).toBe('1234');
    expect(formatMajorAmount(1234n, 'KWD')).toBe('1.234');
    expect(minorUnitsOf('KWD')).toBe(3);
  });

  it('refuses amounts finer than the currency allows, and unknown currencies', () => {
    expect(() => parseMajorAmount('0.005', 'USD')).toThrow(/more decimals/);
    expect(parseMajorAmount('0.005', 'KWD')).toBe(5n);
    expect(() => parseMajorAmount('1', 'XXX')).toThrow(/Unknown ISO 4217/);
    expect(() => parseMinor('1.5')).toThrow(/Not an integer/);
  });

  it('formats rationals half-even for display only', () => {
    expect(formatRational(rational(1n, 3n), 4)).toBe('0.3333');
    expect(formatRational(rational(2n, 3n), 4)).toBe('0.6667');
    expect(formatRational(rational(1n, 8n), 2)).toBe('0.12');
    expect(formatRational(rational(-1n, 2n), 0)).toBe('0');
  });
});
