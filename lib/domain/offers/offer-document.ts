/**
 * The canonical offer document a deal desk writes once, whatever the marketplace (schema
 * version 1). It says what is offered to whom, at what price and on which terms; the
 * marketplace's own rules (lib/domain/offers/rules.ts) and the seller's guardrails
 * (guardrails.ts) are checked apart from its shape, so a draft can be saved incomplete.
 *
 * Money is minor units as strings (upfront prices, installments, wholesale prices); usage
 * rates are decimal strings (sub-cent prices exist); dates are UTC calendar dates.
 */
import { z } from 'zod';
import {
  CalendarDateSchema,
  CurrencySchema,
  DecimalStringSchema,
  InstantSchema,
  MarketplaceSchema,
  NonNegativeMinorUnitsSchema,
} from '../schemas/primitives';

export const OFFER_SCHEMA_VERSION = 1;
/** Upper bounds of the document itself (the marketplaces' own limits are rules, not shape). */
export const OFFER_BUYERS_MAX = 100;
export const OFFER_DIMENSIONS_MAX = 200;
export const OFFER_INSTALLMENTS_MAX = 200;
export const OFFER_TOUCHES_MAX = 50;
export const OFFER_OPPORTUNITIES_MAX = 20;
export const OFFER_NOTES_LENGTH_MAX = 4_000;

const KeySchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

export const OfferBuyerSchema = z.object({
  /** AWS account id (12 digits), Azure tenant or billing account, GCP billing account. */
  accountId: z.string().min(1).max(200),
  name: z.string().max(256).optional(),
});

export const UpfrontDimensionSchema = z.object({
  dimension: KeySchema,
  /** Price of one unit for the whole term, in minor units of the offer's currency. */
  priceMinor: NonNegativeMinorUnitsSchema,
  quantity: z.int().min(1).max(1_000_000_000).default(1),
});

export const UsageRateSchema = z.object({
  dimension: KeySchema,
  /** Price per unit in major units of the usage currency (USD on AWS), e.g. "0.002". */
  unitPrice: DecimalStringSchema,
});

export const OfferPricingSchema = z.object({
  currency: CurrencySchema,
  upfront: z.array(UpfrontDimensionSchema).max(OFFER_DIMENSIONS_MAX).default([]),
  usageRates: z.array(UsageRateSchema).max(OFFER_DIMENSIONS_MAX).default([]),
});

export const InstallmentSchema = z.object({
  date: CalendarDateSchema,
  amountMinor: NonNegativeMinorUnitsSchema,
});

/** Either a duration from acceptance, or a fixed (future-dated) start and end. */
export const OfferTermSchema = z.object({
  durationMonths: z.int().min(1).max(120).optional(),
  startDate: CalendarDateSchema.optional(),
  endDate: CalendarDateSchema.optional(),
});

export const LegalTermsSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('standard'), version: z.string().min(1).max(40) }),
  z.object({ type: z.literal('custom'), url: z.url().max(2_000) }),
]);

export const ResellerAuthorizationSchema = z.object({
  /** The channel partner's marketplace account (AWS: 12 digits). */
  partnerAccountId: z.string().min(1).max(200),
  /** Exactly one: the wholesale price in minor units, or a discount off the offer's price. */
  wholesalePriceMinor: NonNegativeMinorUnitsSchema.optional(),
  discountPercent: DecimalStringSchema.optional(),
  use: z.enum(['single-use', 'time-bound']),
  expiresOn: CalendarDateSchema,
});

export const PartnerTouchSchema = z.object({
  partnerId: z.string().min(1).max(128),
  role: z.enum(['sourced', 'influenced', 'resale', 'cloud-seller']),
  milestone: z.string().min(1).max(64).optional(),
  at: z.union([InstantSchema, CalendarDateSchema]),
  note: z.string().max(500).optional(),
});

export const CoSellSchema = z.object({
  /** Co-sell references, e.g. AWS ACE opportunity ids (O1234567). */
  opportunityIds: z.array(z.string().min(1).max(100)).max(OFFER_OPPORTUNITIES_MAX).default([]),
  touches: z.array(PartnerTouchSchema).max(OFFER_TOUCHES_MAX).default([]),
});

const documentShape = {
  schemaVersion: z.literal(OFFER_SCHEMA_VERSION),
  marketplace: MarketplaceSchema,
  /** The marketplace's product (AWS: prod-…), or listing/plan id. */
  productId: z.string().min(1).max(200),
  name: z.string().min(1).max(150),
  description: z.string().min(1).max(255).optional(),
  buyers: z.array(OfferBuyerSchema).max(OFFER_BUYERS_MAX),
  pricing: OfferPricingSchema,
  /** Installments with dates and amounts; absent means one charge when the buyer accepts. */
  paymentSchedule: z.array(InstallmentSchema).max(OFFER_INSTALLMENTS_MAX).optional(),
  term: OfferTermSchema,
  /** The last day the buyer can accept. */
  expiresOn: CalendarDateSchema,
  legal: LegalTermsSchema,
  reseller: ResellerAuthorizationSchema.optional(),
  coSell: CoSellSchema.optional(),
  notes: z.string().max(OFFER_NOTES_LENGTH_MAX).optional(),
};

export const OfferDocumentSchema = z.object(documentShape).meta({
  title: 'OfferDocument',
  description: 'The canonical private offer document (version 1)',
});
export type OfferDocument = z.output<typeof OfferDocumentSchema>;
export type OfferDocumentInput = z.input<typeof OfferDocumentSchema>;

/** A draft: the same shape, any top-level part may be missing (the rules run on submit). */
export const OfferDraftSchema = z
  .object(documentShape)
  .partial()
  .required({ schemaVersion: true, marketplace: true });
export type OfferDraft = z.output<typeof OfferDraftSchema>;

/** The contract value of the upfront part: Σ unit price × quantity, in minor units. */
export function upfrontValueMinor(pricing: Pick<OfferDocument['pricing'], 'upfront'>): bigint {
  return pricing.upfront.reduce((sum, d) => sum + d.priceMinor * BigInt(d.quantity), 0n);
}
