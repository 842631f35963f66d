/**
 * Reconciliation settings (finance.md §8 and rule 16): tolerances per kind of line, the period a
 * true-up posts in and whether it is posted or only proposed, how long a line may lag before it
 * counts as missing, and the fee rates a fee variance is explained against. Amounts and rates
 * are decimal strings, never floats; an absolute tolerance is in major units of the line's
 * currency ("0.05" = 5 cents of USD, 0 yen).
 */
import { type CalendarDate, calendarDate, type Period, period } from '../calendar';
import { InvalidInputError } from '../errors';
import type { AccountCode } from '../ledger';
import { absBigint, minorUnitsOf, parseDecimal, type Rational } from '../money';
import type { Marketplace } from '../schemas/primitives';

export interface ToleranceInput {
  /** Major units of the line's currency, e.g. "0.05". */
  readonly absolute: string;
  /** A fraction of the expected amount, e.g. "0.0001" (0.01 %). */
  readonly relative: string;
}

export type ToleranceKind = 'installment' | 'usage' | 'fee' | 'refund' | 'cash';

export interface ReconciliationConfigInput {
  readonly asOf: CalendarDate;
  readonly marketplace: Marketplace;
  /** Rule 14: where a true-up posts. */
  readonly firstOpenPeriod: Period;
  /** Rule 16: post within-tolerance true-ups automatically, or only propose them. */
  readonly trueUpMode?: 'post' | 'propose';
  readonly tolerances?: Partial<Record<ToleranceKind, ToleranceInput>>;
  /** An expected invoice this recent may not be in the feed yet (feeds refresh daily; usage bills on day 2–3). */
  readonly billingGraceDays?: number;
  /** A payout this recent may not be on the bank statement yet. */
  readonly bankGraceDays?: number;
  /** An expected and a billed line this many days apart may still be the same invoice. */
  readonly matchWindowDays?: number;
  /** Ledger items before this date are outside the file (default: the file's first invoice day). */
  readonly windowStart?: CalendarDate | null;
  /** Fee rates a fee variance is explained against (decimal fractions). */
  readonly knownFeeRates?: readonly string[];
  /** The channel (CPPO) uplift and the renewal rate. */
  readonly channelUplift?: string;
  readonly renewalRate?: string;
  /** Where accrued-but-uninvoiced usage sits (policies.unbilledClassification). */
  readonly unbilledAccount?: '1230' | '1240';
  /** GL balances of the receivable to tie the roll-forward to (e.g. the trial balance). */
  readonly ledgerBalances?: readonly {
    account: AccountCode;
    currency: string;
    balanceMinor: bigint;
  }[];
}

export interface Tolerance {
  readonly absolute: Rational;
  readonly relative: Rational;
}

export interface ReconciliationConfig {
  readonly asOf: CalendarDate;
  readonly marketplace: Marketplace;
  readonly firstOpenPeriod: Period;
  readonly trueUpMode: 'post' | 'propose';
  readonly tolerances: Readonly<Record<ToleranceKind, Tolerance>>;
  readonly billingGraceDays: number;
  readonly bankGraceDays: number;
  readonly matchWindowDays: number;
  readonly windowStart: CalendarDate | null;
  readonly knownFeeRates: readonly Rational[];
  readonly channelUplift: Rational;
  readonly renewalRate: Rational;
  readonly unbilledAccount: '1230' | '1240';
  readonly ledgerBalances: readonly {
    account: AccountCode;
    currency: string;
    balanceMinor: bigint;
  }[];
}

/**
 * finance.md §8 defaults: installments exact; fees exact where our fee rule copies the
 * marketplace's rounding (AWS, half-up) and within one minor unit elsewhere; usage within 0.05
 * or 0.01 % of the line, whichever is greater; refunds and cash exact.
 */
export function defaultTolerances(marketplace: Marketplace): Record<ToleranceKind, ToleranceInput> {
  return {
    installment: { absolute: '0', relative: '0' },
    usage: { absolute: '0.05', relative: '0.0001' },
    fee: { absolute: marketplace === 'aws' ? '0' : '0.01', relative: '0' },
    refund: { absolute: '0', relative: '0' },
    cash: { absolute: '0', relative: '0' },
  };
}

/** AWS/Azure/GCP published rates (finance.md §1): what a wrong fee most likely used. */
export const DEFAULT_KNOWN_FEE_RATES = ['0.2', '0.03', '0.025', '0.02', '0.015', '0.005'] as const;
const DAYS_MAX = 3_650;

function days(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 0 || result > DAYS_MAX) {
    throw new InvalidInputError('invalid_config', `${name} must be 0–${DAYS_MAX} days (${result})`);
  }
  return result;
}

function nonNegative(text: string, name: string): Rational {
  const value = parseDecimal(text);
  if (value.num < 0n) throw new InvalidInputError('invalid_config', `${name} must not be negative`);
  return value;
}

export function reconciliationConfig(input: ReconciliationConfigInput): ReconciliationConfig {
  const defaults = defaultTolerances(input.marketplace);
  const tolerances = {} as Record<ToleranceKind, Tolerance>;
  for (const kind of Object.keys(defaults) as ToleranceKind[]) {
    const given = input.tolerances?.[kind] ?? defaults[kind];
    tolerances[kind] = {
      absolute: nonNegative(given.absolute, `tolerances.${kind}.absolute`),
      relative: nonNegative(given.relative, `tolerances.${kind}.relative`),
    };
  }
  return {
    asOf: calendarDate(input.asOf),
    marketplace: input.marketplace,
    firstOpenPeriod: period(input.firstOpenPeriod),
    trueUpMode: input.trueUpMode ?? 'post',
    tolerances,
    billingGraceDays: days(input.billingGraceDays, 3, 'billingGraceDays'),
    bankGraceDays: days(input.bankGraceDays, 5, 'bankGraceDays'),
    matchWindowDays: days(input.matchWindowDays, 31, 'matchWindowDays'),
    windowStart: input.windowStart ? calendarDate(input.windowStart) : null,
    knownFeeRates: (input.knownFeeRates ?? DEFAULT_KNOWN_FEE_RATES).map((r) =>
      nonNegative(r, 'knownFeeRates'),
    ),
    channelUplift: nonNegative(input.channelUplift ?? '0.005', 'channelUplift'),
    renewalRate: nonNegative(input.renewalRate ?? '0.015', 'renewalRate'),
    unbilledAccount: input.unbilledAccount ?? '1230',
    ledgerBalances: input.ledgerBalances ?? [],
  };
}

/** The tolerance in minor units for a line: max(absolute, relative × |expected|), rounded down. */
export function toleranceMinor(
  tolerance: Tolerance,
  currency: string,
  expectedMinor: bigint,
): bigint {
  const scale = 10n ** BigInt(minorUnitsOf(currency));
  const absolute = (tolerance.absolute.num * scale) / tolerance.absolute.den;
  const relative = (tolerance.relative.num * absBigint(expectedMinor)) / tolerance.relative.den;
  return absolute > relative ? absolute : relative;
}

export function withinTolerance(
  tolerance: Tolerance,
  currency: string,
  expectedMinor: bigint,
  varianceMinor: bigint,
): boolean {
  return absBigint(varianceMinor) <= toleranceMinor(tolerance, currency, expectedMinor);
}
