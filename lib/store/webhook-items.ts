/**
 * DynamoDB items for provisioning webhooks, shared by the contract store (which writes new
 * deliveries inside the apply transaction) and the webhook store (which works them off).
 *
 * Endpoint: pk WHE#<endpointId> · sk WHE · gsi1pk WHENDPOINTS · gsi1sk <createdAt>#<id>
 * Delivery: pk WHD#<deliveryId> · sk WHD · gsi1pk WHDUE (only while pending: a sparse index of
 *           due work) · gsi1sk <nextAttemptAt>#<id> · gsi2pk WHDCT#<contractId> · gsi2sk <createdAt>#<id>
 *           (an OfferExpiring delivery has no contract: its contractId is the offer id, version 0)
 */
import type { WebhookDelivery, WebhookEndpoint } from '../app/ports';
import type { Item } from './transaction';

export const WEBHOOK_DUE_PARTITION = 'WHDUE';
export const WEBHOOK_ENDPOINTS_PARTITION = 'WHENDPOINTS';

export function deliveryKey(deliveryId: string) {
  return { pk: `WHD#${deliveryId}`, sk: 'WHD' };
}

export function endpointKey(endpointId: string) {
  return { pk: `WHE#${endpointId}`, sk: 'WHE' };
}

export function deliveryItem(delivery: WebhookDelivery): Item {
  return {
    ...deliveryKey(delivery.deliveryId),
    entity: 'WebhookDelivery',
    ...delivery,
    eventIds: [...delivery.eventIds],
    eventTypes: [...delivery.eventTypes],
    ...(delivery.status === 'pending' && delivery.nextAttemptAt
      ? {
          gsi1pk: WEBHOOK_DUE_PARTITION,
          gsi1sk: `${delivery.nextAttemptAt}#${delivery.deliveryId}`,
        }
      : {}),
    gsi2pk: `WHDCT#${delivery.contractId}`,
    gsi2sk: `${delivery.createdAt}#${delivery.deliveryId}`,
  };
}

export function toDelivery(item: Record<string, unknown>): WebhookDelivery {
  const text = (name: string): string => String(item[name] ?? '');
  const nullableText = (name: string): string | null =>
    typeof item[name] === 'string' ? (item[name] as string) : null;
  return {
    deliveryId: text('deliveryId'),
    endpointId: text('endpointId'),
    contractId: text('contractId'),
    contractVersion: Number(item.contractVersion ?? 0),
    eventIds: (item.eventIds as string[] | undefined) ?? [],
    eventTypes: (item.eventTypes as string[] | undefined) ?? [],
    payload: text('payload'),
    status: text('status') as WebhookDelivery['status'],
    attempts: Number(item.attempts ?? 0),
    nextAttemptAt: nullableText('nextAttemptAt'),
    lastAttemptAt: nullableText('lastAttemptAt'),
    lastStatusCode: typeof item.lastStatusCode === 'number' ? item.lastStatusCode : null,
    lastError: nullableText('lastError'),
    createdAt: text('createdAt'),
  };
}

export function endpointItem(endpoint: WebhookEndpoint): Item {
  return {
    ...endpointKey(endpoint.endpointId),
    entity: 'WebhookEndpoint',
    ...endpoint,
    eventTypes: [...endpoint.eventTypes],
    gsi1pk: WEBHOOK_ENDPOINTS_PARTITION,
    gsi1sk: `${endpoint.createdAt}#${endpoint.endpointId}`,
  };
}

export function toEndpoint(item: Record<string, unknown>): WebhookEndpoint {
  return {
    endpointId: String(item.endpointId),
    url: String(item.url),
    description: String(item.description ?? ''),
    eventTypes: (item.eventTypes as string[] | undefined) ?? [],
    secret: String(item.secret),
    status: item.status === 'disabled' ? 'disabled' : 'active',
    createdAt: String(item.createdAt),
  };
}
