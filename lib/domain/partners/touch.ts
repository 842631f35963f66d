/**
 * Touches: a partner's recorded part in a deal — who, in what role, at which milestone, when,
 * and where we learned it (a deal registration, the offer document, a co-sell referral, an
 * activity). A touch may arrive before the contract exists or after it; it carries match keys
 * (contract, offer, co-sell opportunity, customer + product) and a contract finds its touches
 * through the same keys. Ids are deterministic, so a redelivered referral is one touch.
 */
import { z } from 'zod';
import { TouchRoleSchema, TouchSourceSchema } from '../attribution/models';
import { type CalendarDate, compareDates, dateOfInstant } from '../calendar';
import type { ContractSnapshot } from '../contract';
import { deterministicId } from '../ids';
import { CalendarDateSchema, InstantSchema, MarketplaceSchema } from '../schemas/primitives';
import {
  accountKey,
  customerKeysOf,
  normalizeCustomerName,
  RegistrationCustomerSchema,
  type RegistrationRecord,
} from './deal-registration';
import { PartnerIdSchema } from './partner';

export const TOUCH_SCHEMA_VERSION = 1;
/** Match keys one touch may carry (each is one index item). */
export const TOUCH_MATCH_KEYS_MAX = 12;
/**
 * A touch dated up to this long after the contract's acceptance still counts: the closing call
 * is often logged the next day.
 */
export const TOUCH_AFTER_CLOSE_GRACE_MS = 24 * 60 * 60 * 1000;
/**
 * A touch older than this before the close does not count: a customer-wide touch (no product)
 * must not credit every contract the customer signs for ever.
 */
/** Marketplaces report acceptance times in whole seconds: a close at 10:00:05 may be 10:00:05.9. */
export const CLOSE_PRECISION_MS = 999;
export const TOUCH_LOOKBACK_MS = 365 * 24 * 60 * 60 * 1000;

/** Stricter than the engine's: what the API accepts is snake_case. */
export const TouchMilestoneSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, { message: 'Milestone, e.g. opportunity_created' });

export const TouchMatchSchema = z.object({
  contractIds: z.array(z.string()).max(4),
  offerIds: z.array(z.string()).max(4),
  opportunityIds: z.array(z.string()).max(4),
  customerKeys: z.array(z.string()).max(3),
  /** With customer keys: the product the touch is about (null: any product of the customer). */
  productId: z.string().nullable(),
});
export type TouchMatch = z.output<typeof TouchMatchSchema>;

export const TouchRecordSchema = z
  .object({
    schemaVersion: z.literal(TOUCH_SCHEMA_VERSION),
    touchId: z.string(),
    partnerId: PartnerIdSchema,
    role: TouchRoleSchema,
    milestone: TouchMilestoneSchema.nullable(),
    at: InstantSchema,
    source: TouchSourceSchema,
    sourceRef: z.string().max(300).nullable(),
    /** The last day the touch may count for a contract (a registration's expiry). */
    validUntil: CalendarDateSchema.nullable(),
    match: TouchMatchSchema,
    note: z.string().max(1_000).nullable(),
    recordedAt: InstantSchema,
    recordedBy: z.string().max(300),
  })
  .meta({ title: 'Touch', description: 'A partner’s part in a deal' });
export type TouchRecord = z.output<typeof TouchRecordSchema>;

/** What the API accepts: Microsoft and Google referrals, activities, manual co-sell records. */
export const NewTouchSchema = z
  .object({
    partnerId: PartnerIdSchema,
    role: TouchRoleSchema,
    milestone: TouchMilestoneSchema.optional(),
    at: InstantSchema,
    source: z.enum(['co-sell-referral', 'activity']),
    /** The referral's id at its marketplace (Partner Center referral, Google opportunity). */
    sourceRef: z.string().min(1).max(300).optional(),
    referralMarketplace: MarketplaceSchema.optional(),
    contractId: z.string().min(1).max(200).optional(),
    offerId: z.string().min(1).max(300).optional(),
    opportunityId: z.string().min(1).max(300).optional(),
    customer: RegistrationCustomerSchema.optional(),
    productId: z.string().min(1).max(200).optional(),
    note: z.string().max(1_000).optional(),
  })
  .refine(
    (t) =>
      t.contractId !== undefined ||
      t.offerId !== undefined ||
      t.opportunityId !== undefined ||
      t.customer !== undefined,
    {
      message:
        'A touch needs something to match a contract by: contractId, offerId, opportunityId or customer',
      path: ['contractId'],
    },
  );
export type NewTouch = z.output<typeof NewTouchSchema>;

export function touchIdFor(parts: {
  source: string;
  sourceRef: string | null;
  partnerId: string;
  role: string;
  milestone: string | null;
  at: string;
}): string {
  return deterministicId(
    'tch',
    parts.source,
    parts.sourceRef ?? '',
    parts.partnerId,
    parts.role,
    parts.milestone ?? '',
    new Date(parts.at).toISOString(),
  );
}

export function touchFromInput(input: NewTouch, recordedBy: string, at: string): TouchRecord {
  const sourceRef =
    input.sourceRef === undefined
      ? null
      : input.referralMarketplace
        ? `${input.referralMarketplace}:${input.sourceRef}`
        : input.sourceRef;
  const milestone = input.milestone ?? null;
  const match = {
    contractIds: input.contractId ? [input.contractId] : [],
    offerIds: input.offerId ? [input.offerId] : [],
    opportunityIds: input.opportunityId ? [input.opportunityId] : [],
    customerKeys: input.customer ? customerKeysOf(input.customer) : [],
    productId: input.productId ?? null,
  };
  // Without a reference of its own, what the touch is about is part of its identity: the same
  // activity logged for two deals is two touches.
  const identity = sourceRef ?? `match:${touchMatchKeys(match).sort().join('|')}`;
  return {
    schemaVersion: TOUCH_SCHEMA_VERSION,
    touchId: touchIdFor({ ...input, sourceRef: identity, milestone }),
    partnerId: input.partnerId,
    role: input.role,
    milestone,
    at: new Date(input.at).toISOString(),
    source: input.source,
    sourceRef,
    validUntil: null,
    match,
    note: input.note ?? null,
    recordedAt: at,
    recordedBy,
  };
}

/** An approved registration is a sourced touch at its submission, valid until its expiry. */
export function touchFromRegistration(record: RegistrationRecord, at: string): TouchRecord {
  const base = {
    source: 'deal-registration',
    sourceRef: record.registrationId,
    partnerId: record.partnerId,
    role: 'sourced',
    milestone: 'first_touch',
    at: record.submittedAt,
  } as const;
  return {
    schemaVersion: TOUCH_SCHEMA_VERSION,
    touchId: touchIdFor(base),
    ...base,
    validUntil: record.expiresOn,
    match: {
      contractIds: [],
      offerIds: [],
      opportunityIds: [],
      customerKeys: record.customerKeys,
      productId: record.productId,
    },
    note: null,
    recordedAt: at,
    recordedBy: 'rules:deal-registration',
  };
}

/** The index keys a touch is stored under. */
export function touchMatchKeys(match: TouchMatch): string[] {
  const keys = [
    ...match.contractIds.map((id) => `contract:${id}`),
    ...match.offerIds.map((id) => `offer:${id}`),
    ...match.opportunityIds.map((id) => `opp:${id}`),
    ...match.customerKeys.map((key) => `${key}#${match.productId ?? '*'}`),
  ];
  return [...new Set(keys)].slice(0, TOUCH_MATCH_KEYS_MAX);
}

/** The keys a contract looks its touches up by (the mirror of touchMatchKeys). */
export function contractMatchKeys(
  contract: Pick<ContractSnapshot, 'contractId' | 'marketplace' | 'terms' | 'refs'>,
  opportunityIds: readonly string[],
): string[] {
  const { terms } = contract;
  const customers = [accountKey(contract.marketplace, terms.buyer.accountId)];
  if (terms.buyer.name) customers.push(`name:${normalizeCustomerName(terms.buyer.name)}`);
  const offers = [terms.offerId, contract.refs.offer].filter(
    (id): id is string => typeof id === 'string' && id.length > 0,
  );
  return [
    ...new Set([
      `contract:${contract.contractId}`,
      ...offers.map((id) => `offer:${id}`),
      ...opportunityIds.map((id) => `opp:${id}`),
      ...customers.flatMap((key) => [`${key}#${terms.productId}`, `${key}#*`]),
    ]),
  ];
}

/** Whether a touch may count for a contract accepted at `closeAt`. */
export function touchCounts(touch: TouchRecord, closeAt: string): boolean {
  const at = Date.parse(touch.at);
  const close = Date.parse(closeAt);
  // A deal registered after the close did not source it: no grace for registrations beyond the
  // marketplaces' timestamp precision (whole seconds).
  const grace =
    touch.source === 'deal-registration' ? CLOSE_PRECISION_MS : TOUCH_AFTER_CLOSE_GRACE_MS;
  if (at > close + grace || at < close - TOUCH_LOOKBACK_MS) return false;
  const closeDate: CalendarDate = dateOfInstant(closeAt);
  return touch.validUntil === null || compareDates(closeDate, touch.validUntil) <= 0;
}
