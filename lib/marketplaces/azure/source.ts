/** From an Azure SaaS subscription to a canonical contract (pure). */
import { addIsoDuration, dateOfInstant, exclusiveEndOfInstant } from '../../domain/calendar';
import type { ContractStatus } from '../../domain/contract';
import type { SourceContract } from '../../domain/contract-lifecycle';
import { isKnownCurrency } from '../../domain/money';
import type { AzureOfferConfig } from './config';
import type { AzureSubscription } from './fulfillment-client';

export function azureExternalId(subscriptionId: string): string {
  return `subscription/${subscriptionId.toLowerCase()}`;
}

export function statusOfSubscription(status: string): {
  status: ContractStatus;
  reason: string | null;
} {
  switch (status) {
    case 'Subscribed':
      return { status: 'active', reason: null };
    case 'Suspended':
      return { status: 'suspended', reason: 'suspended by Microsoft (usually a payment problem)' };
    case 'Unsubscribed':
      return { status: 'cancelled', reason: 'unsubscribed' };
    default:
      // PendingFulfillmentStart (and the Accelerator's PendingActivation): bought, not activated.
      return {
        status: 'pending',
        reason: status === 'PendingFulfillmentStart' ? 'awaiting activation' : `status ${status}`,
      };
  }
}

function quantityOf(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  // Microsoft may send the seat count as a string; only a plain whole number is one.
  if (typeof value === 'string' && !/^\d{1,9}$/.test(value.trim())) return null;
  const parsed = typeof value === 'number' ? value : Number(value.trim());
  return Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : null;
}

export function sourceFromSubscription(
  subscription: AzureSubscription,
  offer: AzureOfferConfig | null,
): SourceContract {
  const status = statusOfSubscription(subscription.saasSubscriptionStatus);
  const created = subscription.created ?? subscription.lastModified ?? '1970-01-01T00:00:00Z';
  const start = subscription.term?.startDate
    ? dateOfInstant(subscription.term.startDate)
    : dateOfInstant(created);
  const end = subscription.term?.endDate
    ? exclusiveEndOfInstant(subscription.term.endDate)
    : subscription.term?.termUnit && subscription.term.startDate
      ? addIsoDuration(start, subscription.term.termUnit)
      : null;
  const quantity = quantityOf(subscription.quantity);
  const planCurrency = offer?.plans.find((p) => p.planId === subscription.planId)?.currency;
  const tenant =
    subscription.beneficiary?.tenantId ?? subscription.purchaser?.tenantId ?? 'unknown-tenant';
  const ended = status.status === 'cancelled';
  const refs: Record<string, string> = {
    subscriptionId: subscription.id,
    offerId: subscription.offerId,
  };
  if (subscription.publisherId) refs.publisherId = subscription.publisherId;
  return {
    externalId: azureExternalId(subscription.id),
    status: status.status,
    statusReason: status.reason,
    terms: {
      productId: subscription.offerId,
      offerId: subscription.offerId,
      offerType: 'public',
      plan: subscription.planId,
      quantity,
      buyer: { accountId: tenant, name: subscription.name ?? null },
      // unverified: the fulfillment API carries no price; a plan's currency comes from configuration.
      currency: planCurrency && isKnownCurrency(planCurrency) ? planCurrency : 'USD',
      term: { start, end: end && end > start ? end : null },
      trialEnd: null,
      renewal: false,
      fixedCharges: [],
      grants: [
        { dimension: subscription.planId, quantity: quantity === null ? null : String(quantity) },
      ],
      usageRates: [],
      installments: [],
      reseller: null,
    },
    refs,
    observedAt: subscription.lastModified ?? created,
    activatedOn: status.status === 'pending' ? null : start,
    endedOn: ended ? dateOfInstant(subscription.lastModified ?? created) : null,
    replacesExternalId: null,
    facts: [],
  };
}
