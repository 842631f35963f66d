/**
 * Exact money. Amounts are `bigint` minor units with an ISO 4217 currency; rates are exact
 * rationals. Nothing here ever converts an amount to a JavaScript `number`. Rounding happens only
 * where a caller names it (finance.md §0): half-even by default, half-up when mirroring AWS.
 */
import { InvalidInputError, invariant } from './errors';

/**
 * ISO 4217 minor units (the exponent). Currencies not listed are rejected rather than guessed:
 * guessing 2 decimals for a 0- or 3-decimal currency is a 100x or 10x error.
 */
export const CURRENCY_MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze({
  // zero-decimal currencies
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  // three-decimal currencies
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  // four-decimal units of account
  CLF: 4,
  UYW: 4,
  // two-decimal currencies that marketplaces bill or pay out in
  AED: 2,
  ARS: 2,
  AUD: 2,
  BGN: 2,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CNY: 2,
  COP: 2,
  CZK: 2,
  DKK: 2,
  EGP: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  MXN: 2,
  MYR: 2,
  NGN: 2,
  NOK: 2,
  NZD: 2,
  PEN: 2,
  PHP: 2,
  PKR: 2,
  PLN: 2,
  QAR: 2,
  RON: 2,
  RSD: 2,
  RUB: 2,
  SAR: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TRY: 2,
  TWD: 2,
  UAH: 2,
  USD: 2,
  ZAR: 2,
});

export type CurrencyCode = string;

export interface Money {
  readonly amountMinor: bigint;
  readonly currency: CurrencyCode;
}

/** Largest number of digits accepted in a decimal string: far beyond any real amount. */
export const DECIMAL_DIGITS_MAX = 40;

export function isKnownCurrency(code: string): boolean {
  return Object.hasOwn(CURRENCY_MINOR_UNITS, code);
}

export function minorUnitsOf(currency: CurrencyCode): number {
  const exponent = CURRENCY_MINOR_UNITS[currency];
  if (exponent === undefined) {
    throw new InvalidInputError('unknown_currency', `Unknown ISO 4217 currency: ${currency}`);
  }
  return exponent;
}

export function money(amountMinor: bigint, currency: CurrencyCode): Money {
  minorUnitsOf(currency);
  return { amountMinor, currency };
}

function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new InvalidInputError(
      'currency_mismatch',
      `Cannot combine ${a.currency} with ${b.currency}`,
    );
  }
}

export function addMoney(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return { amountMinor: a.amountMinor + b.amountMinor, currency: a.currency };
}

export function subtractMoney(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return { amountMinor: a.amountMinor - b.amountMinor, currency: a.currency };
}

export function sumMinor(amounts: Iterable<bigint>): bigint {
  let total = 0n;
  for (const amount of amounts) total += amount;
  return total;
}

export function absBigint(value: bigint): bigint {
  return value < 0n ? -value : value;
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = absBigint(a);
  let y = absBigint(b);
  while (y !== 0n) {
    const r = x % y;
    x = y;
    y = r;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Rounding division
// ---------------------------------------------------------------------------------------------

function normalizeDivision(n: bigint, d: bigint): { n: bigint; d: bigint } {
  if (d === 0n) throw new InvalidInputError('division_by_zero', 'Division by zero');
  return d < 0n ? { n: -n, d: -d } : { n, d };
}

/** round_half_even(n / d): ties go to the even neighbour (banker's rounding). */
export function divHalfEven(numerator: bigint, denominator: bigint): bigint {
  const { n, d } = normalizeDivision(numerator, denominator);
  const sign = n < 0n ? -1n : 1n;
  const a = absBigint(n);
  let q = a / d;
  const r = a % d;
  if (2n * r > d || (2n * r === d && (q & 1n) === 1n)) q += 1n;
  return sign * q;
}

/** round_half_up(n / d) as Java's RoundingMode.HALF_UP: ties go away from zero (AWS replicas). */
export function divHalfUp(numerator: bigint, denominator: bigint): bigint {
  const { n, d } = normalizeDivision(numerator, denominator);
  const sign = n < 0n ? -1n : 1n;
  const a = absBigint(n);
  let q = a / d;
  const r = a % d;
  if (2n * r >= d) q += 1n;
  return sign * q;
}

/** floor(n / d) towards negative infinity (bigint `/` truncates towards zero). */
export function divFloor(numerator: bigint, denominator: bigint): bigint {
  const { n, d } = normalizeDivision(numerator, denominator);
  const q = n / d;
  return n % d !== 0n && n < 0n ? q - 1n : q;
}

export type RoundingMode = 'half-even' | 'half-up' | 'floor';

export function divRound(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  switch (mode) {
    case 'half-even':
      return divHalfEven(numerator, denominator);
    case 'half-up':
      return divHalfUp(numerator, denominator);
    case 'floor':
      return divFloor(numerator, denominator);
  }
}

// ---------------------------------------------------------------------------------------------
// Rationals
// ---------------------------------------------------------------------------------------------

/** An exact rational number; `den` is always positive and the fraction is reduced. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

export function rational(num: bigint, den = 1n): Rational {
  const { n, d } = normalizeDivision(num, den);
  const g = gcd(n, d);
  return g > 1n ? { num: n / g, den: d / g } : { num: n, den: d };
}

export const ZERO: Rational = { num: 0n, den: 1n };
export const ONE: Rational = { num: 1n, den: 1n };

export function addRational(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function subtractRational(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function multiplyRational(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function divideRational(a: Rational, b: Rational): Rational {
  if (b.num === 0n) throw new InvalidInputError('division_by_zero', 'Division by zero');
  return rational(a.num * b.den, a.den * b.num);
}

export function compareRational(a: Rational, b: Rational): -1 | 0 | 1 {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

export function sumRational(values: Iterable<Rational>): Rational {
  let total = ZERO;
  for (const value of values) total = addRational(total, value);
  return total;
}

/** A rate in basis points (1 bp = 1/10,000) as an exact rational. */
export function basisPoints(bps: bigint): Rational {
  return rational(bps, 10_000n);
}

/** amountMinor × rate, rounded once with the named mode. */
export function applyRate(amountMinor: bigint, rate: Rational, mode: RoundingMode): bigint {
  return divRound(amountMinor * rate.num, rate.den, mode);
}

/** A rational rounded to a whole number of minor units. */
export function roundRational(value: Rational, mode: RoundingMode): bigint {
  return divRound(value.num, value.den, mode);
}

// ---------------------------------------------------------------------------------------------
// Decimal strings (never through `number`)
// ---------------------------------------------------------------------------------------------

const DECIMAL_PATTERN = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** Parse "1.0450", "-12", "0.002" into an exact rational. Rejects exponents, commas and NaN. */
export function parseDecimal(text: string): Rational {
  const match = DECIMAL_PATTERN.exec(text.trim());
  if (match === null || text.length > DECIMAL_DIGITS_MAX + 2) {
    throw new InvalidInputError('invalid_decimal', `Not a decimal number: "${text}"`);
  }
  const [, sign = '', whole = '0', fraction = ''] = match;
  const digits = BigInt(whole + fraction);
  const den = 10n ** BigInt(fraction.length);
  return rational(sign === '-' ? -digits : digits, den);
}

/**
 * Parse a major-unit amount ("1234.56" USD) into minor units. More decimals than the currency
 * has is an error, not a silent rounding: 0.005 USD cannot be invoiced.
 */
export function parseMajorAmount(text: string, currency: CurrencyCode): bigint {
  const exponent = BigInt(minorUnitsOf(currency));
  const value = parseDecimal(text);
  const scaled = value.num * 10n ** exponent;
  if (scaled % value.den !== 0n) {
    throw new InvalidInputError(
      'too_many_decimals',
      `${text} has more decimals than ${currency} allows (${exponent})`,
    );
  }
  return scaled / value.den;
}

/** Parse a string of minor units ("1019178", "-5"). */
export function parseMinor(text: string): bigint {
  if (!/^-?\d+$/.test(text) || text.length > DECIMAL_DIGITS_MAX + 1) {
    throw new InvalidInputError('invalid_minor_units', `Not an integer amount: "${text}"`);
  }
  return BigInt(text);
}

/** Format minor units as a major-unit decimal string: 1019178n USD → "10191.78". */
export function formatMajorAmount(amountMinor: bigint, currency: CurrencyCode): string {
  const exponent = minorUnitsOf(currency);
  const negative = amountMinor < 0n;
  const digits = absBigint(amountMinor)
    .toString()
    .padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  const body = exponent === 0 ? whole : `${whole}.${fraction}`;
  return negative ? `-${body}` : body;
}

/**
 * Format a rational as a decimal string with at most `fractionDigitsMax` places, rounded
 * half-even. Used for display of rates and shares, never to store money.
 */
export function formatRational(value: Rational, fractionDigitsMax: number): string {
  invariant(Number.isInteger(fractionDigitsMax) && fractionDigitsMax >= 0, 'bad precision');
  const scale = 10n ** BigInt(fractionDigitsMax);
  const scaled = divHalfEven(value.num * scale, value.den);
  const negative = scaled < 0n;
  const digits = absBigint(scaled)
    .toString()
    .padStart(fractionDigitsMax + 1, '0');
  const whole = digits.slice(0, digits.length - fractionDigitsMax);
  const fraction = digits.slice(digits.length - fractionDigitsMax).replace(/0+$/, '');
  const body = fraction.length > 0 ? `${whole}.${fraction}` : whole;
  return negative && scaled !== 0n ? `-${body}` : body;
}
