/**
 * The partner registry: who the seller works with, on what tier since when, paid in which
 * currency, and who receives their statements. Tiers are effective-dated history (a commission
 * line uses the tier in force on its date), never overwritten.
 */
import { z } from 'zod';
import { type CalendarDate, compareDates } from '../calendar';
import { InvalidInputError } from '../errors';
import {
  CalendarDateSchema,
  CurrencySchema,
  InstantSchema,
  MarketplaceSchema,
} from '../schemas/primitives';

export const PARTNER_SCHEMA_VERSION = 1;
export const PARTNER_TYPES = ['reseller', 'referral', 'si', 'isv', 'cloud-seller'] as const;
export const PartnerTypeSchema = z.enum(PARTNER_TYPES);
export type PartnerType = z.infer<typeof PartnerTypeSchema>;

/** Bounded history and lists, so one record stays a small item. */
export const PARTNER_TIER_HISTORY_MAX = 100;
export const PARTNER_CONTACTS_MAX = 10;
export const PARTNER_ACCOUNTS_MAX = 20;

export const PartnerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'Partner id: letters, digits, ".", "_" or "-", at most 64 characters',
  })
  .describe('Partner id, e.g. P-100');

/** Tiers are the seller's own vocabulary (Registered, Silver, Gold, …). */
export const TierSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9 _-]{0,39}$/, { message: 'Tier name, e.g. Gold' });

export const TierPeriodSchema = z.object({ tier: TierSchema, effectiveFrom: CalendarDateSchema });
export type TierPeriod = z.output<typeof TierPeriodSchema>;

export const StatementContactSchema = z.object({
  name: z.string().min(1).max(200).nullable().default(null),
  email: z.email().max(320),
});

/** A partner's accounts on the marketplaces: how resale authorizations name it. */
export const MarketplaceAccountSchema = z.object({
  marketplace: MarketplaceSchema,
  accountId: z.string().min(1).max(200),
});

const MarketplaceAccountsSchema = z
  .array(MarketplaceAccountSchema)
  .max(PARTNER_ACCOUNTS_MAX)
  .refine(
    (accounts) =>
      new Set(accounts.map((a) => `${a.marketplace}#${a.accountId}`)).size === accounts.length,
    { message: 'Each marketplace account once' },
  );

export const PartnerRecordSchema = z
  .object({
    schemaVersion: z.literal(PARTNER_SCHEMA_VERSION),
    partnerId: PartnerIdSchema,
    legalName: z.string().min(1).max(300),
    type: PartnerTypeSchema,
    /** Ascending by effectiveFrom; the tier on a date is the last one starting on or before it. */
    tierHistory: z.array(TierPeriodSchema).min(1).max(PARTNER_TIER_HISTORY_MAX),
    payoutCurrency: CurrencySchema,
    statementContacts: z.array(StatementContactSchema).max(PARTNER_CONTACTS_MAX),
    marketplaceAccounts: z.array(MarketplaceAccountSchema).max(PARTNER_ACCOUNTS_MAX),
    status: z.enum(['active', 'inactive']),
    createdAt: InstantSchema,
    updatedAt: InstantSchema,
    version: z.int().min(1),
  })
  .meta({ title: 'Partner', description: 'A partner in the registry' });
export type PartnerRecord = z.output<typeof PartnerRecordSchema>;

export const NewPartnerSchema = z.object({
  partnerId: PartnerIdSchema,
  legalName: z.string().min(1).max(300),
  type: PartnerTypeSchema,
  tier: TierSchema,
  /** When the first tier starts; defaults to the day the partner is created. */
  tierEffectiveFrom: CalendarDateSchema.optional(),
  payoutCurrency: CurrencySchema,
  statementContacts: z.array(StatementContactSchema).max(PARTNER_CONTACTS_MAX).default([]),
  marketplaceAccounts: MarketplaceAccountsSchema.default([]),
});
export type NewPartner = z.output<typeof NewPartnerSchema>;

export const PartnerPatchSchema = z
  .object({
    legalName: z.string().min(1).max(300).optional(),
    type: PartnerTypeSchema.optional(),
    /** A tier change from a date on: added to the history (same date replaces that entry). */
    tier: TierPeriodSchema.optional(),
    payoutCurrency: CurrencySchema.optional(),
    statementContacts: z.array(StatementContactSchema).max(PARTNER_CONTACTS_MAX).optional(),
    marketplaceAccounts: MarketplaceAccountsSchema.optional(),
    status: z.enum(['active', 'inactive']).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'Nothing to change' });
export type PartnerPatch = z.output<typeof PartnerPatchSchema>;

export function newPartner(input: NewPartner, at: string): PartnerRecord {
  return {
    schemaVersion: PARTNER_SCHEMA_VERSION,
    partnerId: input.partnerId,
    legalName: input.legalName,
    type: input.type,
    tierHistory: [{ tier: input.tier, effectiveFrom: input.tierEffectiveFrom ?? at.slice(0, 10) }],
    payoutCurrency: input.payoutCurrency,
    statementContacts: input.statementContacts,
    marketplaceAccounts: input.marketplaceAccounts,
    status: 'active',
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

/** Adds a tier from a date on; a change on an existing date replaces it. History stays sorted. */
export function withTier(history: readonly TierPeriod[], change: TierPeriod): TierPeriod[] {
  const kept = history.filter((p) => p.effectiveFrom !== change.effectiveFrom);
  const next = [...kept, change].sort((a, b) => compareDates(a.effectiveFrom, b.effectiveFrom));
  if (next.length > PARTNER_TIER_HISTORY_MAX) {
    throw new InvalidInputError(
      'tier_history_full',
      `A partner keeps at most ${PARTNER_TIER_HISTORY_MAX} tier changes`,
    );
  }
  return next;
}

export function patchPartner(
  record: PartnerRecord,
  patch: PartnerPatch,
  at: string,
): PartnerRecord {
  return {
    ...record,
    ...(patch.legalName !== undefined ? { legalName: patch.legalName } : {}),
    ...(patch.type !== undefined ? { type: patch.type } : {}),
    ...(patch.tier !== undefined ? { tierHistory: withTier(record.tierHistory, patch.tier) } : {}),
    ...(patch.payoutCurrency !== undefined ? { payoutCurrency: patch.payoutCurrency } : {}),
    ...(patch.statementContacts !== undefined
      ? { statementContacts: patch.statementContacts }
      : {}),
    ...(patch.marketplaceAccounts !== undefined
      ? { marketplaceAccounts: patch.marketplaceAccounts }
      : {}),
    ...(patch.status !== undefined ? { status: patch.status } : {}),
    updatedAt: at,
    version: record.version + 1,
  };
}

/** The tier in force on a date, or null before the partner's first tier. */
export function tierOn(history: readonly TierPeriod[], date: CalendarDate): string | null {
  let tier: string | null = null;
  for (const period of history) {
    if (compareDates(period.effectiveFrom, date) <= 0) tier = period.tier;
  }
  return tier;
}
