/** From a GCP entitlement (and its account) to a canonical contract (pure). */
import { dateOfInstant, exclusiveEndOfInstant } from '../../domain/calendar';
import type { ContractStatus } from '../../domain/contract';
import type { SourceContract } from '../../domain/contract-lifecycle';
import { type GcpAccount, type GcpEntitlement, lastSegment } from './procurement-client';

export function gcpExternalId(entitlementId: string): string {
  return `entitlement/${entitlementId}`;
}

export function signupApproved(account: GcpAccount | null): boolean {
  // Gate on the approval, not on the account state (new accounts are created ACTIVE).
  return account?.approvals.some((a) => a.name === 'signup' && a.state === 'APPROVED') ?? false;
}

export function statusOfEntitlement(
  state: string,
  cancellationReason?: string | null,
): {
  status: ContractStatus;
  reason: string | null;
} {
  // An offer that ended without continuation expired; it was not cancelled by anyone.
  if (state === 'ENTITLEMENT_CANCELLED' && cancellationReason === 'expired')
    return { status: 'expired', reason: 'offer ended' };
  switch (state) {
    case 'ENTITLEMENT_ACTIVE':
    case 'ENTITLEMENT_PENDING_PLAN_CHANGE':
    case 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL':
      return { status: 'active', reason: null };
    case 'ENTITLEMENT_PENDING_CANCELLATION':
      return { status: 'active', reason: 'cancellation pending at the end of the term' };
    case 'ENTITLEMENT_CANCELLED':
      return { status: 'cancelled', reason: 'entitlement cancelled' };
    case 'ENTITLEMENT_SUSPENDED':
      return { status: 'suspended', reason: 'entitlement suspended' };
    default:
      return { status: 'pending', reason: 'activation requested' };
  }
}

export function sourceFromEntitlement(
  entitlement: GcpEntitlement,
  extra: { statusReason?: string; refs?: Record<string, string> } = {},
): SourceContract {
  const entitlementId = lastSegment(entitlement.name);
  const accountId = lastSegment(entitlement.account);
  const status = statusOfEntitlement(entitlement.state, entitlement.cancellationReason);
  const created = entitlement.createTime ?? entitlement.updateTime ?? '1970-01-01T00:00:00Z';
  const start = dateOfInstant(created);
  const endInstant = entitlement.subscriptionEndTime ?? entitlement.offerEndTime ?? null;
  const end = endInstant ? exclusiveEndOfInstant(endInstant) : null;
  const refs: Record<string, string> = {
    entitlementId,
    accountId,
    providerId: entitlement.provider ?? 'unknown',
  };
  if (entitlement.usageReportingId) refs.usageReportingId = entitlement.usageReportingId;
  if (
    entitlement.state === 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL' &&
    entitlement.newPendingPlan
  )
    refs.pendingPlan = entitlement.newPendingPlan;
  const ended = status.status === 'cancelled' || status.status === 'expired';
  // unverified: an entitlement cancelled before it ever ran (rejected, or withdrawn by the buyer)
  // carries no subscriptionEndTime; one that ran always does.
  const neverRan = ended && !entitlement.subscriptionEndTime;
  return {
    externalId: gcpExternalId(entitlementId),
    status: status.status,
    statusReason: extra.statusReason ?? status.reason,
    terms: {
      productId: entitlement.productExternalName ?? entitlement.product ?? 'unknown-product',
      offerId: entitlement.offer ?? null,
      offerType: entitlement.offer?.includes('/privateOffers/') ? 'private' : 'public',
      plan: entitlement.plan ?? null,
      quantity: null,
      buyer: { accountId, name: null },
      // unverified: the Procurement API carries no price; currency is the marketplace default.
      currency: 'USD',
      term: { start, end: end && end > start ? end : null },
      trialEnd: null,
      renewal: false,
      fixedCharges: [],
      grants: entitlement.plan ? [{ dimension: entitlement.plan, quantity: null }] : [],
      usageRates: [],
      installments: [],
      reseller: null,
    },
    refs: { ...refs, ...(extra.refs ?? {}) },
    dropRefs: refs.pendingPlan === undefined ? ['pendingPlan'] : [],
    observedAt: entitlement.updateTime ?? created,
    activatedOn: status.status === 'pending' || neverRan ? null : start,
    // The day it ended: the subscription's end, else when Google recorded it (never the offer
    // end, which may lie years ahead of an early cancellation).
    endedOn: !ended
      ? null
      : entitlement.subscriptionEndTime
        ? exclusiveEndOfInstant(entitlement.subscriptionEndTime)
        : dateOfInstant(entitlement.updateTime ?? created),
    replacesExternalId: null,
    facts: [],
    changeEffectiveOn: entitlement.newOfferStartTime
      ? dateOfInstant(entitlement.newOfferStartTime)
      : null,
  };
}
