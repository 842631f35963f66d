/**
 * Pure builders from a valid canonical offer document (marketplace 'aws') to the AWS
 * Marketplace Catalog API change sets that publish it: a private offer (`Offer@1.0`) and, for a
 * channel partner deal (CPPO), the seller-side resale authorization (`ResaleAuthorization@1.0`)
 * the partner then turns into its own offer with `CreateOfferUsingResaleAuthorization`.
 *
 * The builders assume the document passed `offerRuleViolations` (lib/domain/offers/rules.ts);
 * they throw InvalidInputError only where a document could not be turned into a change set at
 * all (another marketplace, no term, no reseller). Every amount is bigint minor units or an
 * exact rational until it is formatted as the decimal string AWS expects.
 *
 * Pricing terms. Without a payment schedule the upfront dimensions become a
 * ConfigurableUpfrontPricingTerm (unit prices, one Duration rate card). With a schedule (a
 * "flexible payment schedule") AWS charges the installments instead, and the contract term
 * must be a FixedUpfrontPricingTerm with Price 0 whose Grants fix each dimension's quantity:
 * that is the shape of AWS's own flexible-payment-schedule examples (aws-samples
 * aws-marketplace-reference-code, CreatePrivateOfferWithContractPricingWithFlexiblePayment-
 * Schedule…, and the resale "PublishOnetimeResaleAuthorizationFlexiblePayment" example), and
 * the resale API documents "Provide a ResaleFixedUpfrontPricingTerm and
 * ResalePaymentScheduleTerm together" (MISSING_MANDATORY_TERMS) with Price "Allowed values: 0.0".
 */

import { allocateLargestRemainder } from '../../domain/allocation';
import { type CalendarDate, compareDates } from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import {
  divHalfEven,
  formatMajorAmount,
  formatRational,
  minorUnitsOf,
  multiplyRational,
  parseDecimal,
  type Rational,
  rational,
  subtractRational,
} from '../../domain/money';
import { type OfferDocument, upfrontValueMinor } from '../../domain/offers/offer-document';
import {
  AWS_USAGE_CURRENCY,
  daysOfFixedTerm,
  wholeMonthsOfFixedTerm,
} from '../../domain/offers/rules';
import {
  type CatalogChange,
  OFFER_ENTITY_TYPE,
  RESALE_AUTHORIZATION_ENTITY_TYPE,
} from './catalog-types';

export { AWS_STANDARD_EULA_LATEST } from '../../domain/offers/rules';

export const CREATE_OFFER_CHANGE_NAME = 'CreateOfferChange';
export const CREATE_RESALE_AUTHORIZATION_CHANGE_NAME = 'CreateResaleAuthorizationChange';
const OFFER_REFERENCE = `$${CREATE_OFFER_CHANGE_NAME}.Entity.Identifier`;
const RESALE_REFERENCE = `$${CREATE_RESALE_AUTHORIZATION_CHANGE_NAME}.Entity.Identifier`;

/** Decimals AWS accepts in a resale authorization's upfront unit price. */
export const RESALE_UPFRONT_PRICE_DECIMALS_MAX = 6;
/** Decimals AWS accepts in a resale authorization's usage price. */
export const RESALE_USAGE_PRICE_DECIMALS_MAX = 8;
/** Usage rates in the document carry at most 18 decimals (DecimalStringSchema). */
const USAGE_PRICE_DECIMALS_MAX = 18;

type AwsOfferDocument = OfferDocument & { readonly marketplace: 'aws' };

function requireAws(doc: OfferDocument): asserts doc is AwsOfferDocument {
  if (doc.marketplace !== 'aws') {
    throw new InvalidInputError(
      'marketplace_mismatch',
      `An AWS change set needs an AWS offer document, not ${doc.marketplace}`,
    );
  }
}

function hasSchedule(doc: OfferDocument): boolean {
  return (doc.paymentSchedule ?? []).length > 0;
}

/** "0.0020" → "0.002", "+1.50" → "1.5": the exact value, no float on the way. */
export function normalizeDecimal(text: string): string {
  return formatRational(parseDecimal(text), USAGE_PRICE_DECIMALS_MAX);
}

/**
 * The agreement length as an ISO-8601 duration: `P<n>M` for a duration in months or a fixed
 * term of whole months (the end date is the term's last day, AWS ends it at 23:59:59), else
 * `P<days>D` counting both the start and the end date.
 */
export function agreementDurationOf(doc: OfferDocument): string {
  const { durationMonths, startDate, endDate } = doc.term;
  if (durationMonths !== undefined && endDate === undefined) return `P${durationMonths}M`;
  if (durationMonths === undefined && startDate !== undefined && endDate !== undefined) {
    if (compareDates(endDate, startDate) <= 0) {
      throw new InvalidInputError('invalid_term', `End date ${endDate} is not after ${startDate}`);
    }
    const months = wholeMonthsOfFixedTerm(startDate, endDate);
    return months === null ? `P${daysOfFixedTerm(startDate, endDate)}D` : `P${months}M`;
  }
  throw new InvalidInputError(
    'invalid_term',
    'The term needs exactly one of a duration in months or a start and end date',
  );
}

function onOffer(changeType: string, details: Record<string, unknown>): CatalogChange {
  return {
    ChangeType: changeType,
    Entity: { Type: OFFER_ENTITY_TYPE, Identifier: OFFER_REFERENCE },
    DetailsDocument: details,
  };
}

function onResale(changeType: string, details: Record<string, unknown>): CatalogChange {
  return {
    ChangeType: changeType,
    Entity: { Type: RESALE_AUTHORIZATION_ENTITY_TYPE, Identifier: RESALE_REFERENCE },
    DetailsDocument: details,
  };
}

function withDescription(
  details: Record<string, unknown>,
  description: string | undefined,
): Record<string, unknown> {
  return description === undefined ? details : { ...details, Description: description };
}

function sortedSchedule(
  schedule: readonly { date: CalendarDate; amountMinor: bigint }[],
): { date: CalendarDate; amountMinor: bigint }[] {
  return [...schedule].sort((a, b) => compareDates(a.date, b.date));
}

function scheduleDetails(
  termType: string,
  currency: string,
  schedule: readonly { date: CalendarDate; amountMinor: bigint }[],
): Record<string, unknown> {
  return {
    Terms: [
      {
        Type: termType,
        CurrencyCode: currency,
        Schedule: sortedSchedule(schedule).map((charge) => ({
          ChargeDate: charge.date,
          ChargeAmount: formatMajorAmount(charge.amountMinor, currency),
        })),
      },
    ],
  };
}

function legalDocuments(doc: OfferDocument): Record<string, unknown>[] {
  return doc.legal.type === 'standard'
    ? [{ Type: 'StandardEula', Version: doc.legal.version }]
    : [{ Type: 'CustomEula', Url: doc.legal.url }];
}

function rateCardTerm(
  termType: string,
  currency: string,
  duration: string,
  rateCard: readonly { DimensionKey: string; Price: string }[],
): Record<string, unknown> {
  return {
    Type: termType,
    CurrencyCode: currency,
    RateCards: [
      {
        Selector: { Type: 'Duration', Value: duration },
        Constraints: { MultipleDimensionSelection: 'Allowed', QuantityConfiguration: 'Allowed' },
        RateCard: rateCard,
      },
    ],
  };
}

function fixedUpfrontTerm(termType: string, doc: OfferDocument, duration: string) {
  const currency = doc.pricing.currency;
  return {
    Type: termType,
    CurrencyCode: currency,
    Price: formatMajorAmount(0n, currency),
    Duration: duration,
    Grants: doc.pricing.upfront.map((line) => ({
      DimensionKey: line.dimension,
      MaxQuantity: line.quantity,
    })),
  };
}

function usageTerm(
  termType: string,
  rates: readonly { dimension: string; price: string }[],
): Record<string, unknown> {
  return {
    Type: termType,
    CurrencyCode: AWS_USAGE_CURRENCY,
    RateCards: [
      { RateCard: rates.map((rate) => ({ DimensionKey: rate.dimension, Price: rate.price })) },
    ],
  };
}

function validityDetails(doc: OfferDocument): Record<string, unknown> {
  const { durationMonths, startDate, endDate } = doc.term;
  const term: Record<string, unknown> = { Type: 'ValidityTerm' };
  if (durationMonths !== undefined) {
    // A duration with a future start date is a future-dated agreement of that length.
    if (startDate !== undefined) term.AgreementStartDate = startDate;
    term.AgreementDuration = agreementDurationOf(doc);
  } else {
    agreementDurationOf(doc); // throws on a term that is neither form
    term.AgreementStartDate = startDate;
    term.AgreementEndDate = endDate;
  }
  return { Terms: [term] };
}

/**
 * The change set that creates, fills and releases a private offer: CreateOffer,
 * UpdateInformation, UpdateTargeting, UpdatePricingTerms, UpdatePaymentScheduleTerms (only with
 * a schedule), UpdateValidityTerms, UpdateAvailability (the expiry), UpdateLegalTerms and
 * ReleaseOffer, each later change on `$CreateOfferChange.Entity.Identifier`.
 */
export function buildAwsOfferChangeSet(doc: OfferDocument): CatalogChange[] {
  requireAws(doc);
  const currency = doc.pricing.currency;
  const duration = agreementDurationOf(doc);
  const upfront = doc.pricing.upfront;
  const terms: Record<string, unknown>[] = [];
  if (upfront.length > 0) {
    terms.push(
      hasSchedule(doc)
        ? fixedUpfrontTerm('FixedUpfrontPricingTerm', doc, duration)
        : rateCardTerm(
            'ConfigurableUpfrontPricingTerm',
            currency,
            duration,
            upfront.map((line) => ({
              DimensionKey: line.dimension,
              Price: formatMajorAmount(line.priceMinor, currency),
            })),
          ),
    );
  }
  if (doc.pricing.usageRates.length > 0) {
    terms.push(
      usageTerm(
        'UsageBasedPricingTerm',
        doc.pricing.usageRates.map((rate) => ({
          dimension: rate.dimension,
          price: normalizeDecimal(rate.unitPrice),
        })),
      ),
    );
  }

  const changes: CatalogChange[] = [
    {
      ChangeType: 'CreateOffer',
      ChangeName: CREATE_OFFER_CHANGE_NAME,
      Entity: { Type: OFFER_ENTITY_TYPE },
      DetailsDocument: { ProductId: doc.productId, Name: doc.name },
    },
    onOffer('UpdateInformation', withDescription({ Name: doc.name }, doc.description)),
    onOffer('UpdateTargeting', {
      PositiveTargeting: { BuyerAccounts: doc.buyers.map((buyer) => buyer.accountId) },
    }),
    onOffer('UpdatePricingTerms', {
      PricingModel: upfront.length > 0 ? 'Contract' : 'Usage',
      Terms: terms,
    }),
  ];
  const schedule = doc.paymentSchedule ?? [];
  if (schedule.length > 0) {
    changes.push(
      onOffer(
        'UpdatePaymentScheduleTerms',
        scheduleDetails('PaymentScheduleTerm', currency, schedule),
      ),
    );
  }
  changes.push(
    onOffer('UpdateValidityTerms', validityDetails(doc)),
    onOffer('UpdateAvailability', { AvailabilityEndDate: doc.expiresOn }),
    onOffer('UpdateLegalTerms', {
      Terms: [{ Type: 'LegalTerm', Documents: legalDocuments(doc) }],
    }),
    onOffer('ReleaseOffer', {}),
  );
  return changes;
}

// ---------------------------------------------------------------------------------------------
// Resale authorization (CPPO, seller side)
// ---------------------------------------------------------------------------------------------

export interface WholesaleDimension {
  readonly dimension: string;
  readonly quantity: number;
  /** The dimension's exact share of the wholesale total, in minor units. */
  readonly totalMinor: bigint;
  /** totalMinor / quantity: the exact wholesale unit price in minor units. */
  readonly unitPriceMinor: Rational;
}

export interface WholesaleTerms {
  /** What the partner pays for the upfront part, in minor units: Σ dimension totals. */
  readonly totalMinor: bigint;
  readonly dimensions: readonly WholesaleDimension[];
  /** The installments scaled to the wholesale total (same dates, sorted), summing to it. */
  readonly schedule: readonly { readonly date: CalendarDate; readonly amountMinor: bigint }[];
  /** Wholesale usage rates (major units of USD), as sent to AWS. */
  readonly usageRates: readonly { readonly dimension: string; readonly price: string }[];
}

/** 1 − percent/100 as an exact rational. */
function keepShare(discountPercent: string): Rational {
  return subtractRational(
    rational(1n),
    multiplyRational(parseDecimal(discountPercent), rational(1n, 100n)),
  );
}

/**
 * The partner's (wholesale) prices for a resale authorization.
 *
 * - `wholesalePriceMinor` W: W is split across the upfront dimensions in proportion to each
 *   dimension's price × quantity with the largest-remainder method, so the dimension totals add
 *   up to W exactly; each unit price is that total / quantity (exact rational). Usage rates are
 *   passed at the offer's rates: the wholesale price covers the upfront part only.
 * - `discountPercent` d: each upfront unit price becomes price × (1 − d/100) rounded
 *   half-even to whole minor units, and the total is Σ unit × quantity. Usage rates get the
 *   same discount, rounded half-even to 8 decimals (AWS's limit for resale usage prices).
 *
 * The payment schedule, if any, is scaled to the wholesale total with the largest-remainder
 * method over the installment amounts (a tie goes to the earlier date), so it sums exactly.
 */
export function awsWholesaleTerms(doc: OfferDocument): WholesaleTerms {
  const reseller = doc.reseller;
  if (reseller === undefined) {
    throw new InvalidInputError('reseller_required', 'The offer has no reseller authorization');
  }
  const upfront = doc.pricing.upfront;
  let dimensions: WholesaleDimension[];
  let usageRates: { dimension: string; price: string }[];
  if (reseller.wholesalePriceMinor !== undefined && reseller.discountPercent === undefined) {
    const wholesale = reseller.wholesalePriceMinor;
    const priced = upfrontValueMinor(doc.pricing) > 0n;
    const shares =
      upfront.length === 0
        ? []
        : allocateLargestRemainder(
            wholesale,
            upfront.map((line) => ({
              id: line.dimension,
              // All-free dimensions (no value to be proportional to) split by quantity.
              weight: rational(
                priced ? line.priceMinor * BigInt(line.quantity) : BigInt(line.quantity),
              ),
            })),
          );
    dimensions = upfront.map((line, index) => {
      const totalMinor = shares[index]?.amountMinor ?? 0n;
      return {
        dimension: line.dimension,
        quantity: line.quantity,
        totalMinor,
        unitPriceMinor: rational(totalMinor, BigInt(line.quantity)),
      };
    });
    usageRates = doc.pricing.usageRates.map((rate) => ({
      dimension: rate.dimension,
      price: normalizeDecimal(rate.unitPrice),
    }));
  } else if (reseller.discountPercent !== undefined && reseller.wholesalePriceMinor === undefined) {
    const keep = keepShare(reseller.discountPercent);
    dimensions = upfront.map((line) => {
      const unit = divHalfEven(line.priceMinor * keep.num, keep.den);
      return {
        dimension: line.dimension,
        quantity: line.quantity,
        totalMinor: unit * BigInt(line.quantity),
        unitPriceMinor: rational(unit),
      };
    });
    usageRates = doc.pricing.usageRates.map((rate) => ({
      dimension: rate.dimension,
      price: formatRational(
        multiplyRational(parseDecimal(rate.unitPrice), keep),
        RESALE_USAGE_PRICE_DECIMALS_MAX,
      ),
    }));
  } else {
    throw new InvalidInputError(
      'wholesale_required',
      'A resale authorization needs exactly one of a wholesale price or a discount percentage',
    );
  }
  const totalMinor = dimensions.reduce((sum, d) => sum + d.totalMinor, 0n);
  const installments = sortedSchedule(doc.paymentSchedule ?? []);
  const schedule =
    installments.length === 0
      ? []
      : allocateLargestRemainder(
          totalMinor,
          installments.map((charge) => ({ id: charge.date, weight: rational(charge.amountMinor) })),
        ).map((share) => ({ date: share.id, amountMinor: share.amountMinor }));
  return { totalMinor, dimensions, schedule, usageRates };
}

/**
 * A unit price in minor units as the major-unit string AWS expects: exact when it is a whole
 * number of minor units, else rounded half-even to AWS's 6 decimals for resale upfront prices
 * (the dimension and schedule totals stay exact; only this display of a unit can round).
 */
export function formatResaleUnitPrice(unitPriceMinor: Rational, currency: string): string {
  if (unitPriceMinor.den === 1n) return formatMajorAmount(unitPriceMinor.num, currency);
  const scale = 10n ** BigInt(minorUnitsOf(currency));
  return formatRational(
    rational(unitPriceMinor.num, unitPriceMinor.den * scale),
    RESALE_UPFRONT_PRICE_DECIMALS_MAX,
  );
}

/**
 * The seller-side CPPO change set: CreateResaleAuthorization (with the partner's account),
 * then UpdatePricingTerms (wholesale), UpdatePaymentScheduleTerms (only with a schedule),
 * UpdateBuyerTargetingTerms, UpdateAvailability, UpdateLegalTerms and
 * ReleaseResaleAuthorization, each on `$CreateResaleAuthorizationChange.Entity.Identifier`.
 */
export function buildAwsResaleAuthorizationChangeSet(doc: OfferDocument): CatalogChange[] {
  requireAws(doc);
  const reseller = doc.reseller;
  if (reseller === undefined) {
    throw new InvalidInputError('reseller_required', 'The offer has no reseller authorization');
  }
  const currency = doc.pricing.currency;
  const duration = agreementDurationOf(doc);
  const wholesale = awsWholesaleTerms(doc);
  const upfront = doc.pricing.upfront;

  const terms: Record<string, unknown>[] = [];
  if (upfront.length > 0) {
    terms.push(
      hasSchedule(doc)
        ? // unverified: shape from AWS's "one-time resale authorization with flexible payment
          // schedule" example (Price must be 0; the installments carry the money).
          fixedUpfrontTerm('ResaleFixedUpfrontPricingTerm', doc, duration)
        : // unverified: same rate-card structure as ConfigurableUpfrontPricingTerm (resale docs).
          rateCardTerm(
            'ResaleConfigurableUpfrontPricingTerm',
            currency,
            duration,
            wholesale.dimensions.map((d) => ({
              DimensionKey: d.dimension,
              Price: formatResaleUnitPrice(d.unitPriceMinor, currency),
            })),
          ),
    );
  }
  if (wholesale.usageRates.length > 0) {
    // unverified: ResaleUsageBasedPricingTerm mirrors UsageBasedPricingTerm (resale docs).
    terms.push(usageTerm('ResaleUsageBasedPricingTerm', wholesale.usageRates));
  }

  const changes: CatalogChange[] = [
    // unverified: field names from the resale-authorization docs and the catalog shapes
    // library (ResellerAccountId, not …ID).
    {
      ChangeType: 'CreateResaleAuthorization',
      ChangeName: CREATE_RESALE_AUTHORIZATION_CHANGE_NAME,
      Entity: { Type: RESALE_AUTHORIZATION_ENTITY_TYPE },
      DetailsDocument: withDescription(
        { ProductId: doc.productId, Name: doc.name, ResellerAccountId: reseller.partnerAccountId },
        doc.description,
      ),
    },
    // unverified: PricingModel + Terms as on an offer.
    onResale('UpdatePricingTerms', {
      PricingModel: upfront.length > 0 ? 'Contract' : 'Usage',
      Terms: terms,
    }),
  ];
  if (wholesale.schedule.length > 0) {
    // unverified: ResalePaymentScheduleTerm mirrors PaymentScheduleTerm.
    changes.push(
      onResale(
        'UpdatePaymentScheduleTerms',
        scheduleDetails('ResalePaymentScheduleTerm', currency, wholesale.schedule),
      ),
    );
  }
  if (doc.buyers.length > 0) {
    // unverified: the targeting is a BuyerTargetingTerm inside Terms (resale docs).
    changes.push(
      onResale('UpdateBuyerTargetingTerms', {
        Terms: [
          {
            Type: 'BuyerTargetingTerm',
            PositiveTargeting: { BuyerAccounts: doc.buyers.map((buyer) => buyer.accountId) },
          },
        ],
      }),
    );
  }
  // unverified: OffersMaxQuantity 1 makes it single-use (the only value AWS accepts).
  changes.push(
    onResale(
      'UpdateAvailability',
      reseller.use === 'single-use'
        ? { AvailabilityEndDate: reseller.expiresOn, OffersMaxQuantity: 1 }
        : { AvailabilityEndDate: reseller.expiresOn },
    ),
    // unverified: the buyer's EULA is a BuyerLegalTerm on a resale authorization (resale docs);
    // whether StandardEula takes a Version there is not documented.
    onResale('UpdateLegalTerms', {
      Terms: [{ Type: 'BuyerLegalTerm', Documents: legalDocuments(doc) }],
    }),
    // unverified: empty details, as ReleaseOffer.
    onResale('ReleaseResaleAuthorization', {}),
  );
  return changes;
}
