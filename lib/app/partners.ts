/**
 * The partner registry, deal registrations and touches. A partner-scoped caller (a partner
 * token) sees and acts only for its own partner id; anything else answers "not found", so a
 * partner cannot even learn which other partner ids exist.
 */
import { dateOfInstant } from '../domain/calendar';
import {
  customerKeysOf,
  type DirectOpportunity,
  decideRegistration,
  effectiveRegistrationStatus,
  evaluateRegistration,
  type NewRegistration,
  newRegistration,
  protects,
  type RegistrationRecord,
  type RegistrationRules,
  type RegistrationStatus,
  registrationIdFor,
} from '../domain/partners/deal-registration';
import {
  type NewPartner,
  newPartner,
  type PartnerPatch,
  type PartnerRecord,
  patchPartner,
  tierOn,
} from '../domain/partners/partner';
import {
  type NewTouch,
  type TouchRecord,
  touchFromInput,
  touchFromRegistration,
} from '../domain/partners/touch';
import type { Marketplace } from '../domain/schemas/primitives';
import { ConflictError, ForbiddenError, NotFoundError, ValidationFailedError } from './errors';
import type { PartnerStore, RegistrationStore, TouchStore } from './partner-ports';
import type { Clock, ContractStore, OfferStore, Page, PageRequest } from './ports';

/** Contracts of one customer looked at for an existing direct deal. */
export const DIRECT_CONTRACTS_SCAN_MAX = 100;

/** Who is asking: a partner token is scoped to its partner id. */
export interface Caller {
  readonly by: string;
  /** Non-null for partner tokens: the only partner the caller may see or act for. */
  readonly partnerScope: string | null;
  readonly admin: boolean;
}

export interface PartnerDeps {
  readonly partners: PartnerStore;
  readonly registrations: RegistrationStore;
  readonly touches: TouchStore;
  readonly contracts: Pick<ContractStore, 'get' | 'list'>;
  readonly offers: Pick<OfferStore, 'get' | 'byBuyer'>;
  readonly clock: Clock;
  readonly partnerSettings: { readonly registrationRules: RegistrationRules };
  /** Re-attributes contracts a new touch may belong to (lib/app/attribution.ts). */
  readonly onTouchRecorded?: (touch: TouchRecord) => Promise<void>;
}

function visible(caller: Caller, partnerId: string): boolean {
  return caller.partnerScope === null || caller.partnerScope === partnerId;
}

// --- registry ------------------------------------------------------------------------------

export async function createPartner(
  deps: PartnerDeps,
  input: NewPartner,
): Promise<{ partner: PartnerRecord; created: boolean }> {
  const record = newPartner(input, deps.clock.now());
  if (await deps.partners.create(record)) return { partner: record, created: true };
  throw new ConflictError('partner_exists', `Partner ${input.partnerId} exists; PATCH it instead`);
}

export async function getPartner(
  deps: Pick<PartnerDeps, 'partners'>,
  caller: Caller,
  partnerId: string,
): Promise<PartnerRecord> {
  const record = visible(caller, partnerId) ? await deps.partners.get(partnerId) : null;
  if (!record) throw new NotFoundError(`No partner ${partnerId}`);
  return record;
}

export async function listPartners(
  deps: Pick<PartnerDeps, 'partners'>,
  caller: Caller,
  page: PageRequest,
): Promise<Page<PartnerRecord>> {
  if (caller.partnerScope !== null) {
    const own = await deps.partners.get(caller.partnerScope);
    return { items: own ? [own] : [], cursor: null };
  }
  return deps.partners.list(page);
}

export async function updatePartner(
  deps: Pick<PartnerDeps, 'partners' | 'clock'>,
  partnerId: string,
  patch: PartnerPatch,
): Promise<PartnerRecord> {
  const record = await deps.partners.get(partnerId);
  if (!record) throw new NotFoundError(`No partner ${partnerId}`);
  const next = patchPartner(record, patch, deps.clock.now());
  await deps.partners.save(next, record);
  return next;
}

// --- deal registrations ----------------------------------------------------------------------

export type RegistrationView = RegistrationRecord & {
  readonly effectiveStatus: RegistrationStatus;
};

function viewOf(record: RegistrationRecord, today: string): RegistrationView {
  return { ...record, effectiveStatus: effectiveRegistrationStatus(record, today) };
}

/** Open offers to the customer's account for the product, and contracts it already holds. */
async function directOpportunities(
  deps: PartnerDeps,
  input: NewRegistration,
  today: string,
): Promise<DirectOpportunity[]> {
  const { marketplace, accountId } = input.customer;
  if (!marketplace || !accountId) return [];
  const found: DirectOpportunity[] = [];
  for (const offerId of await deps.offers.byBuyer(marketplace as Marketplace, accountId)) {
    const offer = await deps.offers.get(offerId);
    if (!offer || (offer.document as { productId?: string }).productId !== input.productId)
      continue;
    const buyers = (offer.document as { buyers?: { accountId?: string }[] }).buyers ?? [];
    if (!buyers.some((b) => b.accountId === accountId)) continue;
    const touched = (offer.document as { coSell?: { touches?: { partnerId?: string }[] } }).coSell
      ?.touches;
    if (touched?.some((t) => t.partnerId === input.partnerId)) continue; // the partner's own deal
    const open = ['draft', 'pending-approval', 'approved', 'submitted', 'published'].includes(
      offer.status,
    );
    if (!open || (offer.expiresOn !== null && offer.expiresOn < today)) continue;
    found.push({
      kind: 'offer',
      ref: offer.offerId,
      description: `The seller already has an open private offer (${offer.offerId}) to this customer for this product`,
    });
  }
  const contracts = await deps.contracts.list(
    { marketplace: marketplace as Marketplace, customer: accountId },
    { limit: DIRECT_CONTRACTS_SCAN_MAX },
  );
  for (const contract of contracts.items) {
    if (contract.terms.productId !== input.productId) continue;
    if (contract.status !== 'active' && contract.status !== 'pending') continue;
    found.push({
      kind: 'contract',
      ref: contract.contractId,
      description: `The customer already holds this product (contract ${contract.contractId})`,
    });
  }
  return found;
}

export async function submitRegistration(
  deps: PartnerDeps,
  caller: Caller,
  input: NewRegistration,
  idempotencyKey: string | null,
): Promise<{ registration: RegistrationView; created: boolean }> {
  if (!visible(caller, input.partnerId))
    throw new ForbiddenError('A partner registers deals for its own partner id only');
  const partner = await deps.partners.get(input.partnerId);
  if (partner?.status !== 'active')
    throw new ValidationFailedError(`Partner ${input.partnerId} is not an active partner`, [
      { path: 'body.partnerId', code: 'unknown_partner', message: 'Not an active partner' },
    ]);
  const at = deps.clock.now();
  const today = dateOfInstant(at);
  const keys = customerKeysOf(input.customer);
  const registrationId = registrationIdFor(
    input.partnerId,
    keys,
    input.productId,
    idempotencyKey,
    today,
  );
  if (input.expiresOn !== undefined && input.expiresOn < today)
    throw new ValidationFailedError('A registration cannot expire before it is submitted', [
      { path: 'body.expiresOn', code: 'expires_in_past', message: `Must be ${today} or later` },
    ]);
  const existing = await deps.registrations.get(registrationId);
  if (existing) {
    // A retry after a failure between the registration and its touch records the touch now.
    if (existing.status === 'approved') await recordRegistrationTouch(deps, existing);
    return { registration: viewOf(existing, today), created: false };
  }

  const overlapping = await deps.registrations.overlapping(keys, input.productId);
  // The partner already holds this deal: whatever the key, no second registration (and touch).
  const own = overlapping.find((r) => r.partnerId === input.partnerId && protects(r, today));
  if (own) return { registration: viewOf(own, today), created: false };

  const tier = tierOn(partner.tierHistory, today);
  const decision = evaluateRegistration(
    input,
    { tier, overlapping, directOpportunities: await directOpportunities(deps, input, today) },
    deps.partnerSettings.registrationRules,
    at,
  );
  const record = newRegistration(registrationId, input, decision, tier, at);
  if (!(await deps.registrations.create(record))) {
    const raced = await deps.registrations.get(registrationId);
    if (raced) return { registration: viewOf(raced, today), created: false };
  }
  if (record.status === 'approved') await recordRegistrationTouch(deps, record);
  return { registration: viewOf(record, today), created: true };
}

async function recordRegistrationTouch(deps: PartnerDeps, record: RegistrationRecord) {
  const touch = touchFromRegistration(record, deps.clock.now());
  await deps.touches.record(touch);
  await deps.onTouchRecorded?.(touch);
}

export async function getRegistration(
  deps: Pick<PartnerDeps, 'registrations' | 'clock'>,
  caller: Caller,
  registrationId: string,
): Promise<RegistrationView> {
  const record = await deps.registrations.get(registrationId);
  if (!record || !visible(caller, record.partnerId))
    throw new NotFoundError(`No deal registration ${registrationId}`);
  return viewOf(record, dateOfInstant(deps.clock.now()));
}

export async function listRegistrations(
  deps: Pick<PartnerDeps, 'registrations' | 'clock'>,
  caller: Caller,
  filter: { partnerId?: string; status?: RegistrationStatus },
  page: PageRequest,
): Promise<Page<RegistrationView>> {
  if (
    caller.partnerScope !== null &&
    filter.partnerId !== undefined &&
    filter.partnerId !== caller.partnerScope
  )
    return { items: [], cursor: null };
  const partnerId = caller.partnerScope ?? filter.partnerId;
  // "expired" is never stored: it is an approved registration past its expiry. Filter on the
  // effective status (a page may then hold fewer items than asked; follow the cursor).
  const stored = filter.status === 'expired' ? 'approved' : filter.status;
  const result = await deps.registrations.list(
    { ...(partnerId ? { partnerId } : {}), ...(stored ? { status: stored } : {}) },
    page,
  );
  const today = dateOfInstant(deps.clock.now());
  const items = result.items
    .map((r) => viewOf(r, today))
    .filter((r) => filter.status === undefined || r.effectiveStatus === filter.status);
  return { items, cursor: result.cursor };
}

/** A human decides a registration the rules held for review (admin only). */
export async function decideHeldRegistration(
  deps: PartnerDeps,
  caller: Caller,
  registrationId: string,
  outcome: 'approved' | 'rejected',
  reason: string | null,
): Promise<RegistrationView> {
  if (!caller.admin) throw new ForbiddenError('Only an admin decides deal registrations');
  const record = await deps.registrations.get(registrationId);
  if (!record) throw new NotFoundError(`No deal registration ${registrationId}`);
  const today = dateOfInstant(deps.clock.now());
  if (effectiveRegistrationStatus(record, today) !== 'pending-review')
    throw new ConflictError(
      'registration_not_pending',
      `Registration ${registrationId} is ${effectiveRegistrationStatus(record, today)}, not pending review`,
    );
  const next = decideRegistration(record, outcome, caller.by, deps.clock.now(), reason);
  await deps.registrations.save(next, record.version);
  if (next.status === 'approved') await recordRegistrationTouch(deps, next);
  return viewOf(next, today);
}

// --- touches -------------------------------------------------------------------------------

export async function recordTouch(
  deps: PartnerDeps,
  caller: Caller,
  input: NewTouch,
): Promise<{ touch: TouchRecord; created: boolean }> {
  const partner = await deps.partners.get(input.partnerId);
  if (!partner)
    throw new ValidationFailedError(`Partner ${input.partnerId} is not in the registry`, [
      { path: 'body.partnerId', code: 'unknown_partner', message: 'Not in the registry' },
    ]);
  const touch = touchFromInput(input, caller.by, deps.clock.now());
  const created = await deps.touches.record(touch);
  // Also on a redelivery: the earlier attempt may have died before re-attributing.
  await deps.onTouchRecorded?.(touch);
  return { touch, created };
}

export async function listPartnerTouches(
  deps: Pick<PartnerDeps, 'touches' | 'partners'>,
  caller: Caller,
  partnerId: string,
  page: PageRequest,
): Promise<Page<TouchRecord>> {
  await getPartner(deps, caller, partnerId);
  return deps.touches.byPartner(partnerId, page);
}
