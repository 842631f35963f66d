/**
 * The marketplace rules of an offer document: what AWS, Azure or Google Cloud would reject when
 * the offer is published, checked before anything is sent. Every violation
 * is reported at once with a dotted path into the document, a stable snake_case code and a
 * message a deal desk understands. Pure: no I/O, `today` is an argument.
 *
 * Agreement dates follow AWS: an agreement starts at 00:00 UTC on its start date and ends at
 * 23:59:59 UTC on its end date, so a fixed term [startDate, endDate] is inclusive and its
 * exclusive end is the day after `endDate`. A duration from acceptance ends at the latest
 * `durationMonths` after the offer's expiry (the last day the buyer can accept).
 *
 * Money is compared as bigint minor units and percentages as exact rationals; nothing here
 * goes through a floating-point number.
 *
 * Azure and Google Cloud: neither Microsoft's private-offer schema (Product Ingestion API) nor
 * Google's Commerce Producer API (v1beta, early access) could be checked against a live service
 * or a published machine-readable schema, so every limit of theirs below is marked
 * `unverified:` and kept as a named constant to correct in one place.
 */
import { addDays, addMonths, type CalendarDate, compareDates, dayNumber } from '../calendar';
import type { ErrorDetail } from '../errors';
import { compareRational, formatMajorAmount, parseDecimal, rational, sumMinor } from '../money';
import { type OfferDocument, upfrontValueMinor } from './offer-document';

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/** The latest AWS standard contract (SCMP) version; new offers must use it. */
export const AWS_STANDARD_EULA_LATEST = '2022-07-14';
/** Older standard contract versions AWS still knows (and rejects for new offers). */
export const AWS_STANDARD_EULA_VERSIONS: readonly string[] = ['2019-04-24', '2022-07-14'];
/** Buyer accounts on one AWS private offer (UpdateTargeting BuyerAccounts 1..26). */
export const AWS_BUYER_ACCOUNTS_MIN = 1;
export const AWS_BUYER_ACCOUNTS_MAX = 26;
/** Buyer accounts on one AWS resale authorization (UpdateBuyerTargetingTerms, at most 25). */
export const AWS_RESALE_BUYER_ACCOUNTS_MAX = 25;
/** AWS account ids are exactly 12 digits. */
export const AWS_ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** AWS product ids: `prod-` and lowercase letters and digits, 1..50 characters in all. */
export const AWS_PRODUCT_ID_PATTERN = /^prod-[a-z0-9]+$/;
export const AWS_PRODUCT_ID_LENGTH_MAX = 50;
/** Currencies AWS accepts on private offers (contract pricing and payment schedules). */
export const AWS_PRIVATE_OFFER_CURRENCIES: readonly string[] = ['USD', 'EUR', 'GBP', 'AUD', 'JPY'];
/** Usage (metered) prices on AWS are USD only. */
export const AWS_USAGE_CURRENCY = 'USD';
/** Installments in one payment schedule. */
export const PAYMENT_SCHEDULE_CHARGES_MAX = 60;
/** Charges allowed on or before the offer's expiry (the rest must fall after it). */
export const BACKDATED_CHARGES_MAX = 1;
/** A reseller discount is a percentage strictly between these bounds. */
export const RESELLER_DISCOUNT_PERCENT_MIN_EXCLUSIVE = 0n;
export const RESELLER_DISCOUNT_PERCENT_MAX_EXCLUSIVE = 100n;
/** A custom EULA must be fetched over TLS. */
export const EULA_URL_PROTOCOL = 'https:';

/** Entra tenant ids (and Microsoft partner tenant ids) are GUIDs. */
export const GUID_PATTERN =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/**
 * unverified: a Microsoft Customer Agreement billing account id, `<guid>:<guid>_<yyyy-mm-dd>`,
 * as the Azure portal shows it; a private offer's beneficiary is this or a tenant id.
 */
export const AZURE_BILLING_ACCOUNT_PATTERN =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}_\d{4}-\d{2}-\d{2}$/;
/** unverified: beneficiaries on one Azure private offer (Partner Center's form allows a list). */
export const AZURE_BENEFICIARIES_MIN = 1;
export const AZURE_BENEFICIARIES_MAX = 25;
/**
 * unverified: Partner Center prices private offers in USD and converts for the buyer's billing
 * currency, so USD is the only currency an offer document may use on Azure.
 */
export const AZURE_PRIVATE_OFFER_CURRENCIES: readonly string[] = ['USD'];
/**
 * unverified: SaaS plan billing terms (1 month, 1 to 5 years); an absolute private-offer price
 * is for one such term.
 */
export const AZURE_TERM_MONTHS: readonly number[] = [1, 12, 24, 36, 48, 60];
/**
 * unverified: the channel partner of a multiparty private offer, by its tenant id (GUID) or its
 * Microsoft partner (MPN / PartnerOne) id, a number of 6 to 10 digits.
 */
export const AZURE_PARTNER_MPN_ID_PATTERN = /^\d{6,10}$/;
/** Cloud Billing account ids: three groups of six upper-case hex digits. */
export const GCP_BILLING_ACCOUNT_PATTERN = /^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/;
/** unverified: a Google Cloud private offer is made to exactly one billing account. */
export const GCP_BUYERS_COUNT = 1;
/** unverified: Commerce Producer API private offers are priced in USD. */
export const GCP_PRIVATE_OFFER_CURRENCIES: readonly string[] = ['USD'];
/** google.type.Money carries at most 9 decimals (`nanos`), so usage rates cannot carry more. */
export const GCP_MONEY_DECIMALS_MAX = 9;

/** Every code `offerRuleViolations` can report. */
export const OFFER_RULE_CODES = [
  // common
  'expiry_in_past',
  'term_required',
  'term_ambiguous',
  'end_not_after_start',
  'end_date_needs_future_start',
  'start_in_past',
  'expiry_after_end',
  'no_pricing',
  'duplicate_dimension',
  'negative_usage_rate',
  'schedule_without_upfront',
  'duplicate_charge_dates',
  'zero_charge',
  'schedule_sum_mismatch',
  'first_charge_after_expiry',
  'too_many_backdated_charges',
  'charge_after_end',
  'too_many_charges',
  'wholesale_required',
  'wholesale_ambiguous',
  'discount_out_of_range',
  'wholesale_not_below_price',
  'reseller_expiry_in_past',
  'legal_version_outdated',
  'eula_url_not_https',
  // AWS
  'buyers_required',
  'too_many_buyers',
  'too_many_resale_buyers',
  'invalid_buyer_account',
  'duplicate_buyer',
  'invalid_product_id',
  'currency_not_supported',
  'usage_requires_usd',
  'invalid_partner_account',
  'resale_schedule_requires_single_use',
  'resale_expiry_not_before_charges',
  // Azure
  'usage_not_supported',
  'schedule_not_supported',
  'term_not_supported',
  'expiry_after_start',
  // Google Cloud
  'usage_rate_precision',
] as const;
export type OfferRuleCode = (typeof OFFER_RULE_CODES)[number];

export interface OfferRuleContext {
  /** The UTC calendar date the rules are checked on. */
  readonly today: CalendarDate;
}

// ---------------------------------------------------------------------------------------------
// Term helpers (shared with the guardrails and the AWS change-set builder)
// ---------------------------------------------------------------------------------------------

/** The exclusive end of a fixed term whose last day is `endDate` (AWS ends at 23:59:59). */
export function exclusiveEndOfTerm(endDate: CalendarDate): CalendarDate {
  return addDays(endDate, 1);
}

/** Whole months from `startDate` to the exclusive end of `endDate`, or null if not whole. */
export function wholeMonthsOfFixedTerm(
  startDate: CalendarDate,
  endDate: CalendarDate,
): number | null {
  const end = exclusiveEndOfTerm(endDate);
  const months = monthsUntilAtLeast(startDate, end);
  return months !== null && addMonths(startDate, months) === end ? months : null;
}

/** Days in the fixed term [startDate, endDate] (both inclusive). */
export function daysOfFixedTerm(startDate: CalendarDate, endDate: CalendarDate): number {
  return dayNumber(exclusiveEndOfTerm(endDate)) - dayNumber(startDate);
}

/** Months of the fixed term [startDate, endDate], a part month counting as a whole one. */
export function monthsOfFixedTermRoundedUp(startDate: CalendarDate, endDate: CalendarDate): number {
  return monthsUntilAtLeast(startDate, exclusiveEndOfTerm(endDate)) ?? 0;
}

/** The smallest n ≥ 0 with startDate + n months ≥ end, or null when end ≤ startDate. */
function monthsUntilAtLeast(startDate: CalendarDate, end: CalendarDate): number | null {
  if (compareDates(end, startDate) <= 0) return null;
  const [sy, sm] = [Number(startDate.slice(0, 4)), Number(startDate.slice(5, 7))];
  const [ey, em] = [Number(end.slice(0, 4)), Number(end.slice(5, 7))];
  // Start one below the calendar difference and walk up: at most a couple of steps.
  let months = Math.max(0, (ey - sy) * 12 + (em - sm) - 1);
  while (compareDates(addMonths(startDate, months), end) < 0) months += 1;
  return months;
}

/**
 * The latest exclusive end of the agreement: the day after `endDate` for a fixed term, or
 * `durationMonths` after the start (a future `startDate`, else the offer's expiry as the last
 * possible acceptance). Null when the term itself is invalid (none or both of the forms).
 */
export function latestAgreementEnd(doc: OfferDocument): CalendarDate | null {
  const { durationMonths, startDate, endDate } = doc.term;
  if (durationMonths !== undefined && endDate === undefined) {
    return addMonths(startDate ?? doc.expiresOn, durationMonths);
  }
  if (durationMonths === undefined && endDate !== undefined) return exclusiveEndOfTerm(endDate);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

type Violations = ErrorDetail[];

function violation(path: string, code: OfferRuleCode, message: string): ErrorDetail {
  return { path, code, message };
}

function money(amountMinor: bigint, currency: string): string {
  return `${formatMajorAmount(amountMinor, currency)} ${currency}`;
}

function checkDates(doc: OfferDocument, today: CalendarDate, out: Violations): void {
  if (compareDates(doc.expiresOn, today) < 0) {
    out.push(
      violation(
        'expiresOn',
        'expiry_in_past',
        `The offer expires on ${doc.expiresOn}, which is before today (${today}); pick an expiry date of today or later.`,
      ),
    );
  }
  const { durationMonths, startDate, endDate } = doc.term;
  if (durationMonths === undefined && endDate === undefined) {
    out.push(
      violation(
        'term',
        'term_required',
        'The agreement term is missing: give either a duration in months or an end date.',
      ),
    );
  }
  if (durationMonths !== undefined && endDate !== undefined) {
    out.push(
      violation(
        'term',
        'term_ambiguous',
        'The agreement term has both a duration and an end date; keep only one of them.',
      ),
    );
  }
  if (startDate !== undefined && compareDates(startDate, today) <= 0) {
    out.push(
      violation(
        'term.startDate',
        'start_in_past',
        `The agreement start date ${startDate} must be after today (${today}): a fixed start date makes a future-dated agreement.`,
      ),
    );
  }
  if (endDate !== undefined) {
    if (startDate === undefined) {
      out.push(
        violation(
          'term.startDate',
          'end_date_needs_future_start',
          `An agreement end date (${endDate}) needs a start date after today (a future-dated agreement); otherwise give a duration in months.`,
        ),
      );
    } else if (compareDates(endDate, startDate) <= 0) {
      out.push(
        violation(
          'term.endDate',
          'end_not_after_start',
          `The agreement end date ${endDate} must be after its start date ${startDate}.`,
        ),
      );
    }
    if (compareDates(doc.expiresOn, endDate) >= 0) {
      out.push(
        violation(
          'expiresOn',
          'expiry_after_end',
          `The offer expires on ${doc.expiresOn}, which is not before the agreement end date ${endDate}; the offer must expire before the agreement ends.`,
        ),
      );
    }
  }
}

function checkPricing(doc: OfferDocument, out: Violations): void {
  const { upfront, usageRates } = doc.pricing;
  if (upfront.length === 0 && usageRates.length === 0) {
    out.push(
      violation(
        'pricing',
        'no_pricing',
        'The offer has no price: add at least one upfront dimension or one usage rate.',
      ),
    );
  }
  const seenUpfront = new Set<string>();
  upfront.forEach((line, index) => {
    if (seenUpfront.has(line.dimension)) {
      out.push(
        violation(
          `pricing.upfront.${index}.dimension`,
          'duplicate_dimension',
          `The upfront dimension "${line.dimension}" is priced more than once; each dimension may appear only once.`,
        ),
      );
    }
    seenUpfront.add(line.dimension);
  });
  const seenUsage = new Set<string>();
  usageRates.forEach((rate, index) => {
    if (seenUsage.has(rate.dimension)) {
      out.push(
        violation(
          `pricing.usageRates.${index}.dimension`,
          'duplicate_dimension',
          `The usage dimension "${rate.dimension}" is priced more than once; each dimension may appear only once.`,
        ),
      );
    }
    seenUsage.add(rate.dimension);
    if (parseDecimal(rate.unitPrice).num < 0n) {
      out.push(
        violation(
          `pricing.usageRates.${index}.unitPrice`,
          'negative_usage_rate',
          `The usage rate for "${rate.dimension}" is negative (${rate.unitPrice}); prices cannot be below zero.`,
        ),
      );
    }
  });
}

function checkSchedule(doc: OfferDocument, out: Violations): void {
  const schedule = doc.paymentSchedule ?? [];
  // An empty schedule means the same as none: one charge when the buyer accepts.
  if (schedule.length === 0) return;
  const currency = doc.pricing.currency;
  const hasUpfront = doc.pricing.upfront.length > 0;
  if (!hasUpfront) {
    out.push(
      violation(
        'paymentSchedule',
        'schedule_without_upfront',
        'A payment schedule needs upfront (contract) pricing to pay for; usage is billed as it is used.',
      ),
    );
  }
  if (schedule.length > PAYMENT_SCHEDULE_CHARGES_MAX) {
    out.push(
      violation(
        'paymentSchedule',
        'too_many_charges',
        `The payment schedule has ${schedule.length} charges; at most ${PAYMENT_SCHEDULE_CHARGES_MAX} are allowed.`,
      ),
    );
  }
  const seenDates = new Set<string>();
  schedule.forEach((charge, index) => {
    if (seenDates.has(charge.date)) {
      out.push(
        violation(
          `paymentSchedule.${index}.date`,
          'duplicate_charge_dates',
          `Two charges fall on ${charge.date}; each charge date may appear only once.`,
        ),
      );
    }
    seenDates.add(charge.date);
    if (charge.amountMinor <= 0n) {
      out.push(
        violation(
          `paymentSchedule.${index}.amountMinor`,
          'zero_charge',
          `The charge on ${charge.date} is ${money(charge.amountMinor, currency)}; every charge must be more than zero.`,
        ),
      );
    }
  });
  if (hasUpfront) {
    const total = sumMinor(schedule.map((charge) => charge.amountMinor));
    const expected = upfrontValueMinor(doc.pricing);
    if (total !== expected) {
      out.push(
        violation(
          'paymentSchedule',
          'schedule_sum_mismatch',
          `The charges add up to ${money(total, currency)} but the upfront price is ${money(expected, currency)}; they must be equal.`,
        ),
      );
    }
  }
  // Dates in order, keeping each charge's index for the path.
  const byDate = schedule
    .map((charge, index) => ({ date: charge.date, index }))
    .sort((a, b) => compareDates(a.date, b.date) || a.index - b.index);
  const first = byDate[0];
  if (first !== undefined && compareDates(first.date, doc.expiresOn) > 0) {
    out.push(
      violation(
        `paymentSchedule.${first.index}.date`,
        'first_charge_after_expiry',
        `The first charge (${first.date}) is after the offer expires (${doc.expiresOn}); the first charge must be on or before the expiry date.`,
      ),
    );
  }
  const backdated = byDate.filter((charge) => compareDates(charge.date, doc.expiresOn) <= 0);
  const extra = backdated[BACKDATED_CHARGES_MAX];
  if (extra !== undefined) {
    out.push(
      violation(
        `paymentSchedule.${extra.index}.date`,
        'too_many_backdated_charges',
        `${backdated.length} charges fall on or before the offer expiry (${doc.expiresOn}); at most ${BACKDATED_CHARGES_MAX} may, the others must come after it.`,
      ),
    );
  }
  const end = latestAgreementEnd(doc);
  if (end !== null) {
    const lastDay = addDays(end, -1);
    for (const charge of byDate) {
      if (compareDates(charge.date, end) >= 0) {
        out.push(
          violation(
            `paymentSchedule.${charge.index}.date`,
            'charge_after_end',
            `The charge on ${charge.date} falls after the agreement ends (its last day is ${lastDay} at the latest); every charge must fall within the agreement.`,
          ),
        );
      }
    }
  }
}

function checkReseller(doc: OfferDocument, today: CalendarDate, out: Violations): void {
  const reseller = doc.reseller;
  if (reseller === undefined) return;
  const { wholesalePriceMinor, discountPercent } = reseller;
  if (wholesalePriceMinor === undefined && discountPercent === undefined) {
    out.push(
      violation(
        'reseller',
        'wholesale_required',
        "The reseller authorization needs the partner's price: give either a wholesale price or a discount percentage.",
      ),
    );
  }
  if (wholesalePriceMinor !== undefined && discountPercent !== undefined) {
    out.push(
      violation(
        'reseller',
        'wholesale_ambiguous',
        'The reseller authorization has both a wholesale price and a discount percentage; keep only one of them.',
      ),
    );
  }
  if (discountPercent !== undefined) {
    const discount = parseDecimal(discountPercent);
    if (
      compareRational(discount, rational(RESELLER_DISCOUNT_PERCENT_MIN_EXCLUSIVE)) <= 0 ||
      compareRational(discount, rational(RESELLER_DISCOUNT_PERCENT_MAX_EXCLUSIVE)) >= 0
    ) {
      out.push(
        violation(
          'reseller.discountPercent',
          'discount_out_of_range',
          `The reseller discount is ${discountPercent} %; it must be more than ${RESELLER_DISCOUNT_PERCENT_MIN_EXCLUSIVE} % and less than ${RESELLER_DISCOUNT_PERCENT_MAX_EXCLUSIVE} %.`,
        ),
      );
    }
  }
  if (wholesalePriceMinor !== undefined) {
    const upfront = upfrontValueMinor(doc.pricing);
    if (wholesalePriceMinor >= upfront) {
      const currency = doc.pricing.currency;
      out.push(
        violation(
          'reseller.wholesalePriceMinor',
          'wholesale_not_below_price',
          `The wholesale price ${money(wholesalePriceMinor, currency)} is not below the upfront price ${money(upfront, currency)}; the partner must buy for less than the offer price.`,
        ),
      );
    }
  }
  if (compareDates(reseller.expiresOn, today) < 0) {
    out.push(
      violation(
        'reseller.expiresOn',
        'reseller_expiry_in_past',
        `The reseller authorization expires on ${reseller.expiresOn}, which is before today (${today}).`,
      ),
    );
  }
}

function checkLegal(doc: OfferDocument, out: Violations): void {
  const legal = doc.legal;
  if (legal.type === 'standard') {
    // Azure's and Google's standard contracts carry no version an offer names.
    if (doc.marketplace === 'aws' && legal.version !== AWS_STANDARD_EULA_LATEST) {
      const known = AWS_STANDARD_EULA_VERSIONS.includes(legal.version);
      out.push(
        violation(
          'legal.version',
          'legal_version_outdated',
          known
            ? `Standard contract version ${legal.version} is outdated; new offers must use ${AWS_STANDARD_EULA_LATEST}.`
            : `Standard contract version ${legal.version} is unknown; new offers must use ${AWS_STANDARD_EULA_LATEST}.`,
        ),
      );
    }
    return;
  }
  let protocol: string | null = null;
  try {
    protocol = new URL(legal.url).protocol;
  } catch {
    protocol = null;
  }
  if (protocol !== EULA_URL_PROTOCOL) {
    out.push(
      violation(
        'legal.url',
        'eula_url_not_https',
        `The custom EULA link must be an https:// address buyers can open (got "${legal.url}").`,
      ),
    );
  }
}

function checkAws(doc: OfferDocument, out: Violations): void {
  const buyers = doc.buyers;
  if (buyers.length < AWS_BUYER_ACCOUNTS_MIN) {
    out.push(
      violation(
        'buyers',
        'buyers_required',
        'An AWS private offer needs at least one buyer AWS account.',
      ),
    );
  }
  if (buyers.length > AWS_BUYER_ACCOUNTS_MAX) {
    out.push(
      violation(
        'buyers',
        'too_many_buyers',
        `The offer targets ${buyers.length} buyer accounts; AWS allows at most ${AWS_BUYER_ACCOUNTS_MAX}.`,
      ),
    );
  }
  if (doc.reseller !== undefined && buyers.length > AWS_RESALE_BUYER_ACCOUNTS_MAX) {
    out.push(
      violation(
        'buyers',
        'too_many_resale_buyers',
        `A resale authorization targets at most ${AWS_RESALE_BUYER_ACCOUNTS_MAX} buyer accounts; this one has ${buyers.length}.`,
      ),
    );
  }
  const seen = new Set<string>();
  buyers.forEach((buyer, index) => {
    if (!AWS_ACCOUNT_ID_PATTERN.test(buyer.accountId)) {
      out.push(
        violation(
          `buyers.${index}.accountId`,
          'invalid_buyer_account',
          `"${buyer.accountId}" is not an AWS account id (exactly 12 digits).`,
        ),
      );
    }
    if (seen.has(buyer.accountId)) {
      out.push(
        violation(
          `buyers.${index}.accountId`,
          'duplicate_buyer',
          `The buyer account ${buyer.accountId} is listed more than once.`,
        ),
      );
    }
    seen.add(buyer.accountId);
  });
  if (
    doc.productId.length > AWS_PRODUCT_ID_LENGTH_MAX ||
    !AWS_PRODUCT_ID_PATTERN.test(doc.productId)
  ) {
    out.push(
      violation(
        'productId',
        'invalid_product_id',
        `"${doc.productId}" is not an AWS product id (prod- followed by lowercase letters and digits, at most ${AWS_PRODUCT_ID_LENGTH_MAX} characters).`,
      ),
    );
  }
  const currency = doc.pricing.currency;
  if (!AWS_PRIVATE_OFFER_CURRENCIES.includes(currency)) {
    out.push(
      violation(
        'pricing.currency',
        'currency_not_supported',
        `AWS private offers cannot be priced in ${currency}; use one of ${AWS_PRIVATE_OFFER_CURRENCIES.join(', ')}.`,
      ),
    );
  }
  if (doc.pricing.usageRates.length > 0 && currency !== AWS_USAGE_CURRENCY) {
    out.push(
      violation(
        'pricing.usageRates',
        'usage_requires_usd',
        `AWS bills usage in ${AWS_USAGE_CURRENCY} only; an offer with usage rates must be priced in ${AWS_USAGE_CURRENCY} (it is in ${currency}).`,
      ),
    );
  }
  const reseller = doc.reseller;
  if (reseller !== undefined) {
    if (!AWS_ACCOUNT_ID_PATTERN.test(reseller.partnerAccountId)) {
      out.push(
        violation(
          'reseller.partnerAccountId',
          'invalid_partner_account',
          `"${reseller.partnerAccountId}" is not an AWS account id (exactly 12 digits).`,
        ),
      );
    }
    checkAwsResaleSchedule(doc, reseller, out);
  }
}

/**
 * AWS resale authorizations with a payment schedule: the authorization must be single-use and
 * must expire before every charge date (documented asynchronous errors INCOMPATIBLE_TERMS and
 * INVALID_AVAILABILITY_END_DATE of UpdatePaymentScheduleTerms / UpdateAvailability).
 */
function checkAwsResaleSchedule(
  doc: OfferDocument,
  reseller: NonNullable<OfferDocument['reseller']>,
  out: Violations,
): void {
  const schedule = doc.paymentSchedule ?? [];
  if (schedule.length === 0) return;
  if (reseller.use !== 'single-use') {
    out.push(
      violation(
        'reseller.use',
        'resale_schedule_requires_single_use',
        'A resale authorization with a payment schedule must be single-use on AWS.',
      ),
    );
  }
  const firstCharge = schedule
    .map((c) => c.date)
    .reduce((a, b) => (compareDates(a, b) <= 0 ? a : b));
  if (compareDates(reseller.expiresOn, firstCharge) >= 0) {
    out.push(
      violation(
        'reseller.expiresOn',
        'resale_expiry_not_before_charges',
        `The reseller authorization expires on ${reseller.expiresOn}, not before the first charge (${firstCharge}); on AWS it must expire before every charge date.`,
      ),
    );
  }
}

/** Buyers that must all match `valid`, counted between `min` and `max`, none twice. */
function checkBuyerIds(
  doc: OfferDocument,
  limits: { readonly min: number; readonly max: number; readonly marketplace: string },
  valid: (accountId: string) => boolean,
  describe: string,
  out: Violations,
): void {
  const buyers = doc.buyers;
  if (buyers.length < limits.min) {
    out.push(
      violation(
        'buyers',
        'buyers_required',
        `A private offer on ${limits.marketplace} needs ${limits.min === limits.max ? 'exactly' : 'at least'} ${limits.min} buyer (${describe}).`,
      ),
    );
  }
  if (buyers.length > limits.max) {
    out.push(
      violation(
        'buyers',
        'too_many_buyers',
        `The offer targets ${buyers.length} buyers; a private offer on ${limits.marketplace} allows ${limits.min === limits.max ? 'exactly' : 'at most'} ${limits.max}.`,
      ),
    );
  }
  const seen = new Set<string>();
  buyers.forEach((buyer, index) => {
    if (!valid(buyer.accountId)) {
      out.push(
        violation(
          `buyers.${index}.accountId`,
          'invalid_buyer_account',
          `"${buyer.accountId}" is not ${describe}.`,
        ),
      );
    }
    if (seen.has(buyer.accountId.toLowerCase())) {
      out.push(
        violation(
          `buyers.${index}.accountId`,
          'duplicate_buyer',
          `The buyer ${buyer.accountId} is listed more than once.`,
        ),
      );
    }
    seen.add(buyer.accountId.toLowerCase());
  });
}

function checkCurrency(
  doc: OfferDocument,
  allowed: readonly string[],
  marketplace: string,
  out: Violations,
): void {
  const currency = doc.pricing.currency;
  if (!allowed.includes(currency)) {
    out.push(
      violation(
        'pricing.currency',
        'currency_not_supported',
        `${marketplace} private offers cannot be priced in ${currency}; use ${allowed.join(', ')}.`,
      ),
    );
  }
}

/** The agreement's length in months when Azure can express it (a duration or whole months). */
function azureTermMonths(doc: OfferDocument): number | null {
  const { durationMonths, startDate, endDate } = doc.term;
  if (durationMonths !== undefined) return durationMonths;
  if (startDate !== undefined && endDate !== undefined)
    return wholeMonthsOfFixedTerm(startDate, endDate);
  return null;
}

/**
 * Azure private offers (Product Ingestion API `private-offer` resources): a customer private
 * offer, or with a reseller a multiparty private offer (MPO) whose channel partner sells it.
 */
function checkAzure(doc: OfferDocument, out: Violations): void {
  checkBuyerIds(
    doc,
    { min: AZURE_BENEFICIARIES_MIN, max: AZURE_BENEFICIARIES_MAX, marketplace: 'Azure' },
    (id) => GUID_PATTERN.test(id) || AZURE_BILLING_ACCOUNT_PATTERN.test(id),
    'an Entra tenant id (GUID) or a Microsoft billing account id',
    out,
  );
  checkCurrency(doc, AZURE_PRIVATE_OFFER_CURRENCIES, 'Azure', out);
  if (doc.pricing.usageRates.length > 0) {
    // unverified: a private offer customizes the price of a plan; metered dimensions keep the
    // plan's public rates.
    out.push(
      violation(
        'pricing.usageRates',
        'usage_not_supported',
        'An Azure private offer sets the price of plans for a term; usage (metered) rates cannot be customized in it, so remove the usage rates.',
      ),
    );
  }
  if ((doc.paymentSchedule ?? []).length > 0) {
    // unverified: the ingestion schema for Partner Center's flexible billing schedules is not
    // known here; sending the offer without them would silently drop the installments.
    out.push(
      violation(
        'paymentSchedule',
        'schedule_not_supported',
        'Installments cannot be published on an Azure private offer yet; remove the payment schedule (the price is billed for the term).',
      ),
    );
  }
  const { durationMonths, startDate, endDate } = doc.term;
  // Only a well-formed term is measured; the common rules already report the others.
  const wellFormed =
    durationMonths === undefined
      ? endDate !== undefined && startDate !== undefined
      : endDate === undefined;
  const months = azureTermMonths(doc);
  if (wellFormed && (months === null || !AZURE_TERM_MONTHS.includes(months))) {
    out.push(
      violation(
        'term',
        'term_not_supported',
        `An Azure plan is billed for ${AZURE_TERM_MONTHS.join(', ')} months; this term ${months === null ? 'is not a whole number of months' : `is ${months} months`}.`,
      ),
    );
  }
  if (startDate !== undefined && compareDates(doc.expiresOn, startDate) > 0) {
    out.push(
      violation(
        'expiresOn',
        'expiry_after_start',
        `The offer can be accepted until ${doc.expiresOn}, after its fixed start date ${startDate}; on Azure the acceptance deadline must be on or before the start date.`,
      ),
    );
  }
  const reseller = doc.reseller;
  if (
    reseller !== undefined &&
    !GUID_PATTERN.test(reseller.partnerAccountId) &&
    !AZURE_PARTNER_MPN_ID_PATTERN.test(reseller.partnerAccountId)
  ) {
    out.push(
      violation(
        'reseller.partnerAccountId',
        'invalid_partner_account',
        `"${reseller.partnerAccountId}" is not a Microsoft partner: give the channel partner's tenant id (GUID) or its partner (MPN) id of 6 to 10 digits.`,
      ),
    );
  }
}

/** Google Cloud private offers (Commerce Producer API v1beta): one billing account, USD. */
function checkGcp(doc: OfferDocument, out: Violations): void {
  checkBuyerIds(
    doc,
    { min: GCP_BUYERS_COUNT, max: GCP_BUYERS_COUNT, marketplace: 'Google Cloud' },
    (id) => GCP_BILLING_ACCOUNT_PATTERN.test(id),
    'a Cloud Billing account id (XXXXXX-XXXXXX-XXXXXX, upper-case hex)',
    out,
  );
  checkCurrency(doc, GCP_PRIVATE_OFFER_CURRENCIES, 'Google Cloud', out);
  doc.pricing.usageRates.forEach((rate, index) => {
    const fraction = rate.unitPrice.split('.')[1] ?? '';
    if (fraction.length > GCP_MONEY_DECIMALS_MAX) {
      out.push(
        violation(
          `pricing.usageRates.${index}.unitPrice`,
          'usage_rate_precision',
          `The usage rate ${rate.unitPrice} for "${rate.dimension}" has ${fraction.length} decimals; Google Cloud prices carry at most ${GCP_MONEY_DECIMALS_MAX}.`,
        ),
      );
    }
  });
  const reseller = doc.reseller;
  if (reseller !== undefined && !GCP_BILLING_ACCOUNT_PATTERN.test(reseller.partnerAccountId)) {
    out.push(
      violation(
        'reseller.partnerAccountId',
        'invalid_partner_account',
        `"${reseller.partnerAccountId}" is not a Cloud Billing account id (XXXXXX-XXXXXX-XXXXXX, upper-case hex); a channel offer is billed to the reseller's billing account.`,
      ),
    );
  }
}

/**
 * Every rule the document breaks, in document order within each group. An empty list means the
 * offer can be submitted to its marketplace (the seller's guardrails are separate).
 */
export function offerRuleViolations(doc: OfferDocument, context: OfferRuleContext): ErrorDetail[] {
  const out: Violations = [];
  checkDates(doc, context.today, out);
  checkPricing(doc, out);
  checkSchedule(doc, out);
  checkReseller(doc, context.today, out);
  checkLegal(doc, out);
  switch (doc.marketplace) {
    case 'aws':
      checkAws(doc, out);
      break;
    case 'azure':
      checkAzure(doc, out);
      break;
    case 'gcp':
      checkGcp(doc, out);
      break;
  }
  return out;
}
