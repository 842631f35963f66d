/**
 * The seller's guardrails: a versioned policy (data, not code) that says which offers a deal
 * desk may publish on its own and which need an approver. An offer that stays inside every
 * limit is auto-approved; otherwise it needs approval, with one reason per limit it crosses,
 * all at once. The decision names the policy version it was made under.
 *
 * Discounts are exact rationals of bigint minor units: "20 % off" is (list − price) / list
 * compared with 20/100, never a float. Percentages in messages are rounded down to 2 places,
 * so a discount just over a limit never displays as exactly the limit.
 */
import { z } from 'zod';
import { compareDates } from '../calendar';
import {
  compareRational,
  divFloor,
  formatMajorAmount,
  parseDecimal,
  type Rational,
  rational,
} from '../money';
import {
  CurrencySchema,
  DecimalStringSchema,
  NonNegativeMinorUnitsSchema,
} from '../schemas/primitives';
import { OFFER_INSTALLMENTS_MAX, type OfferDocument, upfrontValueMinor } from './offer-document';
import { monthsOfFixedTermRoundedUp } from './rules';

/** List prices in one policy: every (product, dimension, currency) a seller sells. */
export const GUARDRAIL_LIST_PRICES_MAX = 5_000;
/** Currencies one policy may allow. */
export const GUARDRAIL_CURRENCIES_MAX = 50;
/** Longest term a policy may allow: 10 years, the longest term an offer document can carry. */
export const GUARDRAIL_DURATION_MONTHS_MAX = 120;

const PercentSchema = DecimalStringSchema.refine(
  (text) => {
    const value = parseDecimal(text);
    return value.num >= 0n && value.num <= 100n * value.den;
  },
  { message: 'A percentage from 0 to 100' },
);

export const GuardrailListPriceSchema = z.object({
  productId: z.string().min(1).max(200),
  dimension: z.string().min(1).max(100),
  currency: CurrencySchema,
  /** List price of one unit for the whole term, in minor units. */
  priceMinor: NonNegativeMinorUnitsSchema,
});

export const GuardrailPolicySchema = z
  .object({
    version: z.string().min(1).max(64),
    /** The discount floor: an upfront unit price may be at most this percent below list. */
    maxDiscountPercent: PercentSchema,
    listPrices: z.array(GuardrailListPriceSchema).max(GUARDRAIL_LIST_PRICES_MAX),
    maxInstallments: z.int().min(1).max(OFFER_INSTALLMENTS_MAX),
    maxDurationMonths: z.int().min(1).max(GUARDRAIL_DURATION_MONTHS_MAX),
    /** The largest discount a reseller (CPPO) may get off the offer's upfront price. */
    resellerDiscountCapPercent: PercentSchema,
    allowedCurrencies: z.array(CurrencySchema).min(1).max(GUARDRAIL_CURRENCIES_MAX),
  })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.listPrices.forEach((entry, index) => {
      const key = `${entry.productId}\u0000${entry.dimension}\u0000${entry.currency}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listPrices', index],
          message: `Duplicate list price for ${entry.productId} / ${entry.dimension} / ${entry.currency}`,
        });
      }
      seen.add(key);
    });
  })
  .meta({ title: 'GuardrailPolicy', description: "A seller's versioned offer guardrails" });

export type GuardrailPolicy = z.output<typeof GuardrailPolicySchema>;
export type GuardrailPolicyInput = z.input<typeof GuardrailPolicySchema>;

/** The policy a seller gets until it writes its own. */
export const DEFAULT_GUARDRAIL_POLICY: GuardrailPolicy = GuardrailPolicySchema.parse({
  version: '2026-11-01',
  maxDiscountPercent: '20',
  listPrices: [],
  maxInstallments: 12,
  maxDurationMonths: 36,
  resellerDiscountCapPercent: '20',
  allowedCurrencies: ['USD', 'EUR', 'GBP'],
});

export interface GuardrailReason {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface GuardrailEvaluation {
  readonly decision: 'auto-approve' | 'needs-approval';
  readonly policyVersion: string;
  readonly reasons: GuardrailReason[];
}

/** A percentage rational shown with 2 decimals, rounded down (towards negative infinity). */
function percentRoundedDown(percent: Rational): string {
  const hundredths = divFloor(percent.num * 100n, percent.den);
  const negative = hundredths < 0n;
  const digits = (negative ? -hundredths : hundredths).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** (reference − actual) / reference as an exact percentage; reference must be positive. */
function discountPercentOf(referenceMinor: bigint, actualMinor: bigint): Rational {
  return rational((referenceMinor - actualMinor) * 100n, referenceMinor);
}

function checkDiscounts(doc: OfferDocument, policy: GuardrailPolicy, out: GuardrailReason[]) {
  const currency = doc.pricing.currency;
  const floor = parseDecimal(policy.maxDiscountPercent);
  doc.pricing.upfront.forEach((line, index) => {
    const path = `pricing.upfront.${index}.priceMinor`;
    const list = policy.listPrices.find(
      (entry) =>
        entry.productId === doc.productId &&
        entry.dimension === line.dimension &&
        entry.currency === currency,
    );
    if (list === undefined) {
      out.push({
        path,
        code: 'no_list_price',
        message: `Policy ${policy.version} has no list price for "${line.dimension}" of ${doc.productId} in ${currency}, so its discount cannot be checked.`,
      });
      return;
    }
    // A zero list price has no discount to measure: any price is at or above it.
    if (list.priceMinor === 0n) return;
    const discount = discountPercentOf(list.priceMinor, line.priceMinor);
    if (compareRational(discount, floor) > 0) {
      out.push({
        path,
        code: 'discount_below_floor',
        message: `"${line.dimension}" is priced at ${formatMajorAmount(line.priceMinor, currency)} ${currency} per unit, ${percentRoundedDown(discount)} % below its list price of ${formatMajorAmount(list.priceMinor, currency)} ${currency}; policy ${policy.version} allows at most ${policy.maxDiscountPercent} % off.`,
      });
    }
  });
  // Usage rates are not discount-checked: the policy has no list prices for metered dimensions
  // (sub-cent decimal rates), so only upfront (contract) dimensions are compared with list.
}

function checkTerm(doc: OfferDocument, policy: GuardrailPolicy, out: GuardrailReason[]) {
  const { durationMonths, startDate, endDate } = doc.term;
  if (durationMonths !== undefined && durationMonths > policy.maxDurationMonths) {
    out.push({
      path: 'term.durationMonths',
      code: 'term_too_long',
      message: `The term is ${durationMonths} months; policy ${policy.version} allows at most ${policy.maxDurationMonths} months without approval.`,
    });
  }
  if (startDate !== undefined && endDate !== undefined && compareDates(endDate, startDate) > 0) {
    const months = monthsOfFixedTermRoundedUp(startDate, endDate);
    if (months > policy.maxDurationMonths) {
      out.push({
        path: 'term.endDate',
        code: 'term_too_long',
        message: `The term from ${startDate} to ${endDate} runs ${months} months (a part month counts as a whole one); policy ${policy.version} allows at most ${policy.maxDurationMonths} months without approval.`,
      });
    }
  }
}

function checkReseller(doc: OfferDocument, policy: GuardrailPolicy, out: GuardrailReason[]) {
  const reseller = doc.reseller;
  if (reseller === undefined) return;
  const cap = parseDecimal(policy.resellerDiscountCapPercent);
  if (reseller.discountPercent !== undefined) {
    const discount = parseDecimal(reseller.discountPercent);
    if (compareRational(discount, cap) > 0) {
      out.push({
        path: 'reseller.discountPercent',
        code: 'reseller_discount_above_cap',
        message: `The reseller discount of ${reseller.discountPercent} % is above the ${policy.resellerDiscountCapPercent} % cap of policy ${policy.version}.`,
      });
    }
  }
  const upfront = upfrontValueMinor(doc.pricing);
  if (reseller.wholesalePriceMinor !== undefined && upfront > 0n) {
    const discount = discountPercentOf(upfront, reseller.wholesalePriceMinor);
    if (compareRational(discount, cap) > 0) {
      const currency = doc.pricing.currency;
      out.push({
        path: 'reseller.wholesalePriceMinor',
        code: 'reseller_discount_above_cap',
        message: `The wholesale price ${formatMajorAmount(reseller.wholesalePriceMinor, currency)} ${currency} is ${percentRoundedDown(discount)} % below the upfront price ${formatMajorAmount(upfront, currency)} ${currency}; policy ${policy.version} caps reseller discounts at ${policy.resellerDiscountCapPercent} %.`,
      });
    }
  }
}

/**
 * Whether an offer can be published without approval under `policy`, and every reason it
 * cannot. Assumes the document's own shape is valid; marketplace rules are checked apart
 * (rules.ts), so a document can pass its guardrails and still break a marketplace rule.
 */
export function evaluateGuardrails(
  doc: OfferDocument,
  policy: GuardrailPolicy,
): GuardrailEvaluation {
  const reasons: GuardrailReason[] = [];
  const currency = doc.pricing.currency;
  if (!policy.allowedCurrencies.includes(currency)) {
    reasons.push({
      path: 'pricing.currency',
      code: 'currency_not_allowed',
      message: `Policy ${policy.version} does not allow offers in ${currency} without approval (allowed: ${policy.allowedCurrencies.join(', ')}).`,
    });
  }
  checkDiscounts(doc, policy, reasons);
  const installments = doc.paymentSchedule?.length ?? 0;
  if (installments > policy.maxInstallments) {
    reasons.push({
      path: 'paymentSchedule',
      code: 'too_many_installments',
      message: `The payment schedule has ${installments} installments; policy ${policy.version} allows at most ${policy.maxInstallments} without approval.`,
    });
  }
  checkTerm(doc, policy, reasons);
  checkReseller(doc, policy, reasons);
  return {
    decision: reasons.length === 0 ? 'auto-approve' : 'needs-approval',
    policyVersion: policy.version,
    reasons,
  };
}
