/**
 * Deal registration: a partner claims a (customer, product) opportunity for a protection window.
 * Rules decide at submission, so the partner learns at once whether it holds the deal and, if
 * not, exactly why:
 *
 * - another partner's approved registration for the same customer and product whose window is
 *   still open → conflict (`registration_conflict`);
 * - the seller is already working the customer directly (an open private offer to the customer's
 *   account for the product) or the customer already holds the product → `direct_opportunity`;
 * - the partner's tier on the submission date is not one that may register, or not one whose
 *   clean registrations approve themselves → `tier_not_eligible` / review.
 *
 * What a conflict does (reject, or hold for a human) is configuration. An approved registration
 * becomes a `sourced` touch (lib/domain/partners/touch.ts).
 */
import { z } from 'zod';
import { addDays, type CalendarDate, compareDates, dateOfInstant } from '../calendar';
import { deterministicId } from '../ids';
import {
  CalendarDateSchema,
  CurrencySchema,
  InstantSchema,
  MarketplaceSchema,
  NonNegativeMinorUnitsSchema,
} from '../schemas/primitives';
import { PartnerIdSchema } from './partner';

export const REGISTRATION_SCHEMA_VERSION = 1;
/** The webhook event type an endpoint subscribes to for registration expiry reminders. */
export const DEAL_REGISTRATION_EXPIRING_EVENT_TYPE = 'DealRegistrationExpiring';
/** Longest protection window a rule may set, and the longest a partner may ask for. */
export const REGISTRATION_WINDOW_DAYS_MAX = 730;
/** Conflicting registrations / offers looked at for one submission. */
export const REGISTRATION_CONFLICTS_MAX = 50;

export const REGISTRATION_STATUSES = ['approved', 'pending-review', 'rejected', 'expired'] as const;
export const RegistrationStatusSchema = z.enum(REGISTRATION_STATUSES);
export type RegistrationStatus = z.infer<typeof RegistrationStatusSchema>;

export const RegistrationCustomerSchema = z
  .object({
    name: z.string().min(1).max(300),
    /** The customer's marketplace account, when the partner knows it: the strongest match key. */
    marketplace: MarketplaceSchema.optional(),
    accountId: z.string().min(1).max(200).optional(),
    domain: z
      .string()
      .regex(/^[a-z0-9.-]{1,253}$/i, { message: 'A domain name, e.g. example.com' })
      .optional(),
  })
  .refine((c) => (c.marketplace === undefined) === (c.accountId === undefined), {
    message: 'customer.marketplace and customer.accountId go together',
    path: ['accountId'],
  });
export type RegistrationCustomer = z.output<typeof RegistrationCustomerSchema>;

export const NewRegistrationSchema = z.object({
  partnerId: PartnerIdSchema,
  customer: RegistrationCustomerSchema,
  /** The marketplace product id, as contracts carry it (AWS prod-…, Azure offer, GCP product). */
  productId: z.string().min(1).max(200),
  expectedValue: z.object({ amountMinor: NonNegativeMinorUnitsSchema, currency: CurrencySchema }),
  /** Defaults to the end of the protection window; never later than it. */
  expiresOn: CalendarDateSchema.optional(),
  /** The partner's own reference (its CRM id). */
  externalRef: z.string().min(1).max(200).optional(),
  notes: z.string().max(2_000).optional(),
});
export type NewRegistration = z.output<typeof NewRegistrationSchema>;

export const RegistrationConflictSchema = z.object({
  code: z.enum(['registration_conflict', 'direct_opportunity', 'tier_not_eligible']),
  reason: z.string().max(1_000),
  /** The registration, offer or contract it conflicts with. */
  ref: z.string().max(200).nullable(),
});
export type RegistrationConflict = z.output<typeof RegistrationConflictSchema>;

export const RegistrationRecordSchema = z
  .object({
    schemaVersion: z.literal(REGISTRATION_SCHEMA_VERSION),
    registrationId: z.string(),
    partnerId: PartnerIdSchema,
    customer: RegistrationCustomerSchema,
    /** Normalized keys the customer is matched on (account, then name). */
    customerKeys: z.array(z.string()).min(1).max(3),
    productId: z.string(),
    expectedValue: z.object({ amountMinor: NonNegativeMinorUnitsSchema, currency: CurrencySchema }),
    externalRef: z.string().nullable(),
    notes: z.string().nullable(),
    submittedAt: InstantSchema,
    expiresOn: CalendarDateSchema,
    tierAtSubmission: z.string().nullable(),
    status: RegistrationStatusSchema,
    conflicts: z.array(RegistrationConflictSchema).max(REGISTRATION_CONFLICTS_MAX),
    decision: z
      .object({ by: z.string(), at: InstantSchema, reason: z.string().max(1_000).nullable() })
      .nullable(),
    version: z.int().min(1),
  })
  .meta({ title: 'DealRegistration', description: 'A partner’s registered deal' });
export type RegistrationRecord = z.output<typeof RegistrationRecordSchema>;

export const ConflictActionSchema = z.enum(['reject', 'review']);

export const RegistrationRulesSchema = z.object({
  /** Days a registration protects its deal (and its default expiry). */
  protectionWindowDays: z.int().min(1).max(REGISTRATION_WINDOW_DAYS_MAX).default(90),
  /** Tiers that may register at all; empty = every tier. */
  eligibleTiers: z.array(z.string()).default([]),
  /** Tiers whose registrations without conflicts approve themselves; others wait for review. */
  autoApproveTiers: z.array(z.string()).default(['Registered', 'Silver', 'Gold', 'Platinum']),
  onRegistrationConflict: ConflictActionSchema.default('reject'),
  onDirectOpportunity: ConflictActionSchema.default('review'),
});
export type RegistrationRules = z.output<typeof RegistrationRulesSchema>;
export const DEFAULT_REGISTRATION_RULES: RegistrationRules = RegistrationRulesSchema.parse({});

const LEGAL_SUFFIXES =
  /\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|bv|plc|corp|corporation|co|company|pty)\b/g;

/** "ACME, Inc." and "Acme" are one customer: lower case, no punctuation, no legal suffix. */
export function normalizeCustomerName(name: string): string {
  const folded = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    // "S.A." and "Inc." are one word each.
    .replace(/\./g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .replace(LEGAL_SUFFIXES, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return folded.length > 0 ? folded : name.trim().toLowerCase();
}

export function accountKey(marketplace: string, accountId: string): string {
  return `acct:${marketplace}:${accountId}`;
}

export function customerKeysOf(customer: RegistrationCustomer): string[] {
  const keys: string[] = [];
  if (customer.marketplace && customer.accountId)
    keys.push(accountKey(customer.marketplace, customer.accountId));
  if (customer.domain) keys.push(`domain:${customer.domain.toLowerCase()}`);
  keys.push(`name:${normalizeCustomerName(customer.name)}`);
  return keys;
}

/** The day a registration stops protecting its deal (inclusive). */
export function registrationEnd(submittedOn: CalendarDate, rules: RegistrationRules): CalendarDate {
  return addDays(submittedOn, rules.protectionWindowDays - 1);
}

/** Approved and not past its expiry on `today`. */
export function protects(record: RegistrationRecord, today: CalendarDate): boolean {
  return record.status === 'approved' && compareDates(record.expiresOn, today) >= 0;
}

/** Status as of a day: an approved or pending registration past its expiry is expired. */
export function effectiveRegistrationStatus(
  record: RegistrationRecord,
  today: CalendarDate,
): RegistrationStatus {
  if (
    (record.status === 'approved' || record.status === 'pending-review') &&
    compareDates(record.expiresOn, today) < 0
  )
    return 'expired';
  return record.status;
}

export interface DirectOpportunity {
  /** An offer id or a contract id. */
  readonly ref: string;
  readonly kind: 'offer' | 'contract';
  readonly description: string;
}

export interface RegistrationContext {
  /** The partner's tier on the submission date (null: no tier yet). */
  readonly tier: string | null;
  /** Other registrations sharing a customer key and the product (any status). */
  readonly overlapping: readonly RegistrationRecord[];
  readonly directOpportunities: readonly DirectOpportunity[];
}

export interface RegistrationDecision {
  readonly status: RegistrationStatus;
  readonly conflicts: RegistrationConflict[];
  readonly expiresOn: CalendarDate;
}

/** Deterministic, so a retried submission finds the registration it made. */
export function registrationIdFor(
  partnerId: string,
  customerKeys: readonly string[],
  productId: string,
  idempotencyKey: string | null,
  submittedOn: CalendarDate,
): string {
  // Without a key, one registration per (partner, customer, product, day): a double submit is
  // one registration, and registering again after an expiry is a new one.
  return deterministicId(
    'dr',
    partnerId,
    customerKeys[0] ?? '',
    productId,
    idempotencyKey === null ? `day:${submittedOn}` : `key:${idempotencyKey}`,
  );
}

/** Applies the rules to a submission; pure, so the partner's answer is reproducible. */
export function evaluateRegistration(
  input: NewRegistration,
  context: RegistrationContext,
  rules: RegistrationRules,
  submittedAt: string,
): RegistrationDecision {
  const today = dateOfInstant(submittedAt);
  const windowEnd = registrationEnd(today, rules);
  const expiresOn =
    input.expiresOn && compareDates(input.expiresOn, windowEnd) < 0 ? input.expiresOn : windowEnd;
  const conflicts: RegistrationConflict[] = [];
  let reject = false;
  let review = false;

  if (rules.eligibleTiers.length > 0 && !rules.eligibleTiers.includes(context.tier ?? '')) {
    conflicts.push({
      code: 'tier_not_eligible',
      reason: `Tier ${context.tier ?? '(none)'} may not register deals; eligible: ${rules.eligibleTiers.join(', ')}`,
      ref: null,
    });
    reject = true;
  }
  const holders = context.overlapping
    .filter((other) => other.partnerId !== input.partnerId && protects(other, today))
    .sort((a, b) =>
      a.submittedAt !== b.submittedAt
        ? a.submittedAt < b.submittedAt
          ? -1
          : 1
        : a.registrationId < b.registrationId
          ? -1
          : 1,
    );
  for (const other of holders.slice(0, REGISTRATION_CONFLICTS_MAX)) {
    conflicts.push({
      code: 'registration_conflict',
      reason: `Another partner registered this customer and product on ${dateOfInstant(other.submittedAt)}; its protection runs until ${other.expiresOn}`,
      ref: other.registrationId,
    });
    if (rules.onRegistrationConflict === 'reject') reject = true;
    else review = true;
  }
  for (const direct of context.directOpportunities.slice(0, REGISTRATION_CONFLICTS_MAX)) {
    conflicts.push({ code: 'direct_opportunity', reason: direct.description, ref: direct.ref });
    if (rules.onDirectOpportunity === 'reject') reject = true;
    else review = true;
  }
  if (!reject && !review && !rules.autoApproveTiers.includes(context.tier ?? '')) review = true;
  return {
    status: reject ? 'rejected' : review ? 'pending-review' : 'approved',
    conflicts: conflicts.slice(0, REGISTRATION_CONFLICTS_MAX),
    expiresOn,
  };
}

export function newRegistration(
  registrationId: string,
  input: NewRegistration,
  decision: RegistrationDecision,
  tier: string | null,
  submittedAt: string,
): RegistrationRecord {
  return {
    schemaVersion: REGISTRATION_SCHEMA_VERSION,
    registrationId,
    partnerId: input.partnerId,
    customer: input.customer,
    customerKeys: customerKeysOf(input.customer),
    productId: input.productId,
    expectedValue: input.expectedValue,
    externalRef: input.externalRef ?? null,
    notes: input.notes ?? null,
    submittedAt,
    expiresOn: decision.expiresOn,
    tierAtSubmission: tier,
    status: decision.status,
    conflicts: decision.conflicts,
    decision:
      decision.status === 'pending-review'
        ? null
        : { by: 'rules', at: submittedAt, reason: decision.conflicts[0]?.reason ?? null },
    version: 1,
  };
}

/** A human's decision on a registration the rules held for review. */
export function decideRegistration(
  record: RegistrationRecord,
  outcome: 'approved' | 'rejected',
  by: string,
  at: string,
  reason: string | null,
): RegistrationRecord {
  return { ...record, status: outcome, decision: { by, at, reason }, version: record.version + 1 };
}
