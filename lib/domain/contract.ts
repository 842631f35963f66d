/**
 * The canonical contract: an accepted AWS agreement, Azure subscription or GCP entitlement.
 * Its id is deterministic from (marketplace, external id) — for AWS the LicenseArn — so every
 * notification about the same purchase lands on the same record.
 */
import { z } from 'zod';
import { deterministicId } from './ids';
import {
  CalendarDateSchema,
  CurrencySchema,
  DateIntervalSchema,
  DecimalStringSchema,
  EXTERNAL_ID_LENGTH_MAX,
  IdSchema,
  InstantSchema,
  type Marketplace,
  MarketplaceSchema,
  NonNegativeMinorUnitsSchema,
} from './schemas/primitives';

export const CONTRACT_SCHEMA_VERSION = 1;
/** Charges, rates or installments in one contract: far above any real price sheet. */
export const CONTRACT_LINES_MAX = 200;

export const CONTRACT_STATUSES = [
  'pending',
  'active',
  'suspended',
  'cancelled',
  'expired',
] as const;
export const ContractStatusSchema = z.enum(CONTRACT_STATUSES);
export type ContractStatus = z.infer<typeof ContractStatusSchema>;

export const OfferTypeSchema = z.enum(['public', 'private']);

export const FixedChargeSchema = z.object({
  dimension: IdSchema,
  amountMinor: NonNegativeMinorUnitsSchema,
});

export const UsageRateSchema = z.object({
  dimension: IdSchema,
  unitPrice: DecimalStringSchema,
});

export const InstallmentSchema = z.object({
  date: CalendarDateSchema,
  amountMinor: NonNegativeMinorUnitsSchema,
});

export const ResellerTermsSchema = z.object({
  partnerId: IdSchema.nullable(),
  /** The marketplace's resale authorization / channel offer reference, when known. */
  resaleAuthorizationId: IdSchema.nullable(),
  /** What the ISV is paid: its transaction price (finance.md §2.6); null until known. */
  wholesaleMinor: NonNegativeMinorUnitsSchema.nullable(),
  /** What the buyer pays the reseller, when known; never enters the ISV ledger. */
  buyerPriceMinor: NonNegativeMinorUnitsSchema.nullable(),
});

/** What the buyer is entitled to use: a dimension and, for counted grants, a quantity. */
export const GrantSchema = z.object({
  dimension: IdSchema,
  quantity: DecimalStringSchema.nullable(),
});

/** What was bought, on what terms. A new version of these terms is a contract amendment. */
export const ContractTermsSchema = z.object({
  productId: IdSchema,
  offerId: IdSchema.nullable(),
  offerType: OfferTypeSchema,
  plan: IdSchema.nullable(),
  quantity: z.int().min(0).nullable(),
  buyer: z.object({ accountId: IdSchema, name: z.string().max(256).nullable() }),
  currency: CurrencySchema,
  term: DateIntervalSchema,
  /** End of a free trial ([term.start, trialEnd) carries no revenue), or null. */
  trialEnd: CalendarDateSchema.nullable(),
  renewal: z.boolean(),
  fixedCharges: z.array(FixedChargeSchema).max(CONTRACT_LINES_MAX),
  grants: z.array(GrantSchema).max(CONTRACT_LINES_MAX),
  usageRates: z.array(UsageRateSchema).max(CONTRACT_LINES_MAX),
  installments: z.array(InstallmentSchema).max(CONTRACT_LINES_MAX),
  reseller: ResellerTermsSchema.nullable(),
});
export type ContractTerms = z.output<typeof ContractTermsSchema>;

export const ContractSnapshotSchema = z
  .object({
    schemaVersion: z.literal(CONTRACT_SCHEMA_VERSION),
    contractId: IdSchema,
    marketplace: MarketplaceSchema,
    /** The marketplace's own id: AWS LicenseArn, Azure subscription id, GCP entitlement name. */
    externalId: IdSchema,
    /** Monotonic version, bumped by every applied change. */
    version: z.int().min(1),
    status: ContractStatusSchema,
    /** Why the contract is in its status (e.g. "agreement REPLACED"), when the marketplace says. */
    statusReason: z.string().max(1_000).nullable(),
    /** The marketplace's version marker of what this snapshot reflects. */
    sourceVersion: IdSchema,
    updatedAt: InstantSchema,
    terms: ContractTermsSchema,
    replacesContractId: IdSchema.nullable(),
    replacedByContractId: IdSchema.nullable(),
    attributionVersion: z.int().min(1).nullable(),
    /** Marketplace references for lookups (agreementId, licenseArn, customerIdentifier, …). */
    refs: z.record(z.string().max(64), z.string().max(EXTERNAL_ID_LENGTH_MAX)),
  })
  .meta({
    title: 'ContractSnapshot',
    description: 'The stored state of one contract at one version',
  });
export type ContractSnapshot = z.output<typeof ContractSnapshotSchema>;

/** The canonical contract id: deterministic from the marketplace and its external id. */
export function contractIdFor(marketplace: Marketplace, externalId: string): string {
  return deterministicId('ct', marketplace, externalId);
}
