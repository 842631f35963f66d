/**
 * Partner commission plans (finance.md §5.1): versioned, effective-dated data, never code. A plan
 * names its basis (recognized revenue by default, or billed, or collected), a rate table by
 * partner tier, deal type and product, an optional quarterly accelerator (graduated = marginal
 * bands, retroactive = the whole measure at the highest band reached), caps, when commission
 * becomes payable (hold), the clawback rule, the minimum payout and the payout term.
 *
 * Rates are exact decimal percent strings ("10", "12.5") or whole basis points, never floats.
 * Resale deals earn 0 % unless a row says otherwise (a reseller is paid by its margin), and any
 * payment to a reseller is contra-revenue (4900), never commission expense (rule 6).
 */
import { z } from 'zod';
import { compareDates } from '../calendar';
import { type ErrorDetail, InvalidInputError } from '../errors';
import { formatRational, parseDecimal, type Rational, rational, ZERO } from '../money';
import {
  CalendarDateSchema,
  CurrencySchema,
  DecimalStringSchema,
  IdSchema,
  NonNegativeMinorUnitsSchema,
} from '../schemas/primitives';

/** Rows in one rate table: every tier × deal type × product a seller pays on. */
export const PLAN_RATE_ROWS_MAX = 500;
/** Bands in one accelerator. */
export const PLAN_BANDS_MAX = 20;
/** Longest payout term accepted (NET-365). */
export const PLAN_PAYOUT_TERM_DAYS_MAX = 365;

export const DEAL_TYPES = ['sourced', 'influenced', 'resale'] as const;
export const DealTypeSchema = z.enum(DEAL_TYPES);
export type DealType = z.infer<typeof DealTypeSchema>;

export const COMMISSION_BASES = ['recognized', 'billed', 'collected'] as const;
export const CommissionBasisSchema = z.enum(COMMISSION_BASES);
export type CommissionBasis = z.infer<typeof CommissionBasisSchema>;

export const PAY_WHEN = ['disbursed', 'invoiced', 'immediately'] as const;
export const PayWhenSchema = z.enum(PAY_WHEN);
export type PayWhen = z.infer<typeof PayWhenSchema>;

export const RateRowSchema = z.object({
  tier: z.string().min(1).max(64),
  dealType: DealTypeSchema,
  /** A product-specific row wins over the generic (product-less) row of the same tier/type. */
  product: z.string().min(1).max(256).optional(),
  /** The rate as a decimal percent string ("10" = 10 %); give this or `rateBps`. */
  ratePercent: DecimalStringSchema.optional(),
  /** The rate in basis points (1000 = 10 %); give this or `ratePercent`. */
  rateBps: z.int().min(0).max(10_000).optional(),
});
export type RateRow = z.output<typeof RateRowSchema>;

export const AcceleratorBandSchema = z.object({
  /** Measured quarterly basis in minor units, [fromMinor, toMinor); no `toMinor` = unbounded. */
  fromMinor: NonNegativeMinorUnitsSchema,
  toMinor: NonNegativeMinorUnitsSchema.optional(),
  /** Percentage points added to the line's base rate in this band ("2" = base + 2 pp). */
  upliftPercent: DecimalStringSchema,
});
export type AcceleratorBand = z.output<typeof AcceleratorBandSchema>;

export const AcceleratorSchema = z.object({
  /** graduated: each band's uplift on the part of the measure inside it (Xactly "Rate Table");
   *  retroactive: the highest band reached applies to the whole measure ("Highest Rate"). */
  mode: z.enum(['graduated', 'retroactive']),
  /** What is measured: the partner's quarter-to-date basis of one deal type (credits excluded). */
  measure: z
    .object({ dealType: DealTypeSchema.default('sourced') })
    .default({ dealType: 'sourced' }),
  bands: z.array(AcceleratorBandSchema).min(1).max(PLAN_BANDS_MAX),
});
export type Accelerator = z.output<typeof AcceleratorSchema>;

export const CommissionPlanSchema = z
  .object({
    planId: IdSchema,
    version: z.int().min(1),
    effectiveFrom: CalendarDateSchema,
    /** The currency commission is computed and paid in (the ledger's functional currency). */
    currency: CurrencySchema,
    basis: CommissionBasisSchema.default('recognized'),
    rateTable: z.array(RateRowSchema).min(1).max(PLAN_RATE_ROWS_MAX),
    accelerator: AcceleratorSchema.optional(),
    caps: z
      .object({
        /** Earned commission per partner per calendar quarter, before clawbacks. */
        perPartnerPerQuarterMinor: NonNegativeMinorUnitsSchema.optional(),
        /** Earned commission per partner per deal (contract) per calendar year. */
        perDealPerYearMinor: NonNegativeMinorUnitsSchema.optional(),
      })
      .default({}),
    /** When earned commission becomes payable; until then it is held (2110). */
    hold: z.object({ payWhen: PayWhenSchema }).default({ payWhen: 'disbursed' }),
    /** Clawbacks use the rate of the line they reverse (rule 15); the only supported mode. */
    clawback: z.object({ rate: z.literal('original') }).default({ rate: 'original' }),
    /** Below this payable balance nothing is paid: it rolls forward. */
    minimumPayoutMinor: NonNegativeMinorUnitsSchema.default(0n),
    /** Days after the period's last day a payout is due: "NET-15". */
    payoutTerm: z
      .string()
      .regex(/^NET-\d{1,3}$/, 'Payout term as NET-<days>, e.g. NET-15')
      .default('NET-15'),
    /** Pay every month, or only at the end of each calendar quarter. */
    payoutSchedule: z.enum(['monthly', 'quarterly']).default('monthly'),
  })
  .meta({ title: 'CommissionPlan', description: 'A versioned, effective-dated commission plan' });
export type CommissionPlan = z.output<typeof CommissionPlanSchema>;
export type CommissionPlanInput = z.input<typeof CommissionPlanSchema>;

const HUNDRED: Rational = { num: 100n, den: 1n };

function percentOf(text: string): Rational | null {
  try {
    return parseDecimal(text);
  } catch {
    return null;
  }
}

const outsidePercentRange = (value: Rational) =>
  value.num < 0n || value.num > HUNDRED.num * value.den;

/** A row's rate as an exact fraction (10 % → 1/10). */
export function rowRate(row: RateRow): Rational {
  if (row.rateBps !== undefined) return rational(BigInt(row.rateBps), 10_000n);
  if (row.ratePercent !== undefined) {
    const percent = parseDecimal(row.ratePercent);
    return rational(percent.num, percent.den * 100n);
  }
  throw new InvalidInputError('rate_missing', 'A rate row needs ratePercent or rateBps');
}

/** A fraction shown as a percent string: 1/10 → "10", 1/8 → "12.5". */
export function percentText(rate: Rational): string {
  return formatRational(rational(rate.num * 100n, rate.den), 18);
}

/** A band's uplift as an exact fraction ("2" → 1/50). */
export function bandUplift(band: AcceleratorBand): Rational {
  const percent = parseDecimal(band.upliftPercent);
  return rational(percent.num, percent.den * 100n);
}

/** Days in the payout term: "NET-15" → 15. */
export function payoutTermDays(plan: CommissionPlan): number {
  return Number(plan.payoutTerm.slice('NET-'.length));
}

const rowKey = (row: RateRow) => `${row.tier}\u0000${row.dealType}\u0000${row.product ?? ''}`;

/**
 * Every problem with a plan, at once: rates within 0–100 % and given exactly once, no duplicate
 * rows, accelerator bands starting at 0, contiguous, ascending and open only at the end, base
 * rate plus uplift within 100 %, and a payout term within a year.
 */
export function commissionPlanProblems(plan: CommissionPlan): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const seen = new Map<string, number>();
  let maxMeasuredRate: Rational = ZERO;
  plan.rateTable.forEach((row, index) => {
    const path = `rateTable.${index}`;
    const given = (row.ratePercent !== undefined ? 1 : 0) + (row.rateBps !== undefined ? 1 : 0);
    if (given !== 1) {
      problems.push({
        path,
        code: given === 0 ? 'rate_missing' : 'rate_ambiguous',
        message: 'Give exactly one of ratePercent and rateBps',
      });
    }
    if (row.ratePercent !== undefined) {
      const percent = percentOf(row.ratePercent);
      if (percent === null || outsidePercentRange(percent)) {
        problems.push({
          path: `${path}.ratePercent`,
          code: 'rate_out_of_range',
          message: `A rate is a percentage from 0 to 100, not ${row.ratePercent}`,
        });
      }
    }
    const earlier = seen.get(rowKey(row));
    if (earlier !== undefined) {
      problems.push({
        path,
        code: 'duplicate_rate_row',
        message: `Same tier, deal type and product as rateTable.${earlier}`,
      });
    } else {
      seen.set(rowKey(row), index);
    }
    if (given === 1 && plan.accelerator && row.dealType === plan.accelerator.measure.dealType) {
      const rate = rowRate(row);
      if (rate.num * maxMeasuredRate.den > maxMeasuredRate.num * rate.den) maxMeasuredRate = rate;
    }
  });

  if (plan.accelerator) {
    let expectedFrom = 0n;
    let maxUplift: Rational = ZERO;
    const bands = plan.accelerator.bands;
    bands.forEach((band, index) => {
      const path = `accelerator.bands.${index}`;
      if (band.fromMinor !== expectedFrom) {
        problems.push({
          path: `${path}.fromMinor`,
          code: index === 0 ? 'bands_not_from_zero' : 'bands_not_contiguous',
          message:
            index === 0
              ? 'The first band starts at 0'
              : `Band starts at ${band.fromMinor}, the previous band ends at ${expectedFrom}`,
        });
      }
      if (band.toMinor === undefined) {
        if (index !== bands.length - 1) {
          problems.push({
            path: `${path}.toMinor`,
            code: 'open_band_not_last',
            message: 'Only the last band may be open-ended',
          });
        }
      } else if (band.toMinor <= band.fromMinor) {
        problems.push({
          path: `${path}.toMinor`,
          code: 'bands_not_ascending',
          message: `Band [${band.fromMinor}, ${band.toMinor}) is empty or reversed`,
        });
      }
      expectedFrom = band.toMinor ?? band.fromMinor;
      const uplift = percentOf(band.upliftPercent);
      if (uplift === null || outsidePercentRange(uplift)) {
        problems.push({
          path: `${path}.upliftPercent`,
          code: 'uplift_out_of_range',
          message: `An uplift is a percentage from 0 to 100, not ${band.upliftPercent}`,
        });
      } else {
        const fraction = bandUplift(band);
        if (fraction.num * maxUplift.den > maxUplift.num * fraction.den) maxUplift = fraction;
      }
    });
    const top = rational(
      maxMeasuredRate.num * maxUplift.den + maxUplift.num * maxMeasuredRate.den,
      maxMeasuredRate.den * maxUplift.den,
    );
    if (top.num > top.den) {
      problems.push({
        path: 'accelerator.bands',
        code: 'rate_out_of_range',
        message: `Base rate plus uplift reaches ${percentText(top)} %, above 100 %`,
      });
    }
  }

  if (payoutTermDays(plan) > PLAN_PAYOUT_TERM_DAYS_MAX) {
    problems.push({
      path: 'payoutTerm',
      code: 'payout_term_too_long',
      message: `A payout term is at most NET-${PLAN_PAYOUT_TERM_DAYS_MAX}`,
    });
  }
  return problems;
}

/** zod issues and plan problems together, each on its field. */
export function commissionPlanInputProblems(input: unknown): ErrorDetail[] {
  const parsed = CommissionPlanSchema.safeParse(input);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      code: issue.code,
      message: issue.message,
    }));
  }
  return commissionPlanProblems(parsed.data);
}

/** Parses and validates a plan; throws InvalidInputError listing every problem. */
export function parseCommissionPlan(input: unknown): CommissionPlan {
  const problems = commissionPlanInputProblems(input);
  if (problems.length > 0) {
    throw new InvalidInputError(
      'invalid_commission_plan',
      'The commission plan is not valid',
      problems,
    );
  }
  return CommissionPlanSchema.parse(input);
}

/**
 * The version of `planId` in effect on `date`: the latest `effectiveFrom` on or before it, and
 * among versions effective the same day the highest version. Null when none is in effect yet.
 */
export function planVersionOn(
  plans: readonly CommissionPlan[],
  planId: string,
  date: string,
): CommissionPlan | null {
  let best: CommissionPlan | null = null;
  for (const plan of plans) {
    if (plan.planId !== planId || compareDates(plan.effectiveFrom, date) > 0) continue;
    if (
      best === null ||
      compareDates(plan.effectiveFrom, best.effectiveFrom) > 0 ||
      (plan.effectiveFrom === best.effectiveFrom && plan.version > best.version)
    ) {
      best = plan;
    }
  }
  return best;
}

export interface RateKey {
  readonly tier: string;
  readonly dealType: DealType;
  readonly product: string | null;
}

export interface PlanRate {
  /** The rate as an exact fraction (10 % → 1/10). */
  readonly rate: Rational;
  /** The same rate as a percent string, as it appears on statements ("10"). */
  readonly ratePercent: string;
  /** The row that matched, or null for the resale default of 0 %. */
  readonly rowIndex: number | null;
  /** Where the cost goes: commission expense, or contra-revenue for a reseller (rule 6). */
  readonly expenseAccount: '6100' | '4900';
}

export class CommissionRateMissingError extends InvalidInputError {
  constructor(planId: string, version: number, key: RateKey) {
    super(
      'commission_rate_missing',
      `Plan ${planId} v${version} has no rate for tier ${key.tier}, ${key.dealType}${key.product ? `, product ${key.product}` : ''}`,
    );
  }
}

/**
 * The rate for a tier, deal type and product. A product-specific row wins over the generic row;
 * a resale deal without a row earns 0 %; any other deal without a row is a configuration error
 * (paying nothing silently would hide it).
 */
export function rateFor(plan: CommissionPlan, key: RateKey): PlanRate {
  let generic: number | null = null;
  let specific: number | null = null;
  plan.rateTable.forEach((row, index) => {
    if (row.tier !== key.tier || row.dealType !== key.dealType) return;
    if (row.product === undefined) generic ??= index;
    else if (key.product !== null && row.product === key.product) specific ??= index;
  });
  const expenseAccount = key.dealType === 'resale' ? '4900' : '6100';
  const index = specific ?? generic;
  if (index === null) {
    if (key.dealType === 'resale') {
      return { rate: ZERO, ratePercent: '0', rowIndex: null, expenseAccount };
    }
    throw new CommissionRateMissingError(plan.planId, plan.version, key);
  }
  const row = plan.rateTable[index];
  if (row === undefined) throw new CommissionRateMissingError(plan.planId, plan.version, key);
  const rate = rowRate(row);
  return {
    rate,
    ratePercent: percentText(rate),
    rowIndex: index,
    expenseAccount,
  };
}
