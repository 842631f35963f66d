/**
 * Provisioning webhooks: tell the seller's own product what changed. The apply step attaches
 * one delivery per endpoint to the very transaction that changes the contract, so a change is
 * never applied without its notification being queued (an outbox). Deliveries are POSTed with
 * an HMAC-SHA256 signature over `<timestamp>.<body>`, retried with exponential backoff and
 * jitter, and every attempt is recorded (the delivery log). Offer expiry reminders
 * (lib/app/offer-reminders.ts) queue OfferExpiring deliveries the same way, outside a contract
 * change, to the endpoints that subscribe to that type by name.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { CalendarDate } from '../domain/calendar';
import { deterministicId } from '../domain/ids';
import type { OfferRecord } from '../domain/offers/offer';
import { OFFER_EXPIRING_EVENT_TYPE, reminderId, summarizeOffer } from '../domain/offers/reminders';
import { ForbiddenError, ValidationFailedError } from './errors';
import type { Clock, WebhookDelivery, WebhookEndpoint, WebhookSender, WebhookStore } from './ports';
import type { AppliedChangeContext, ApplyHook } from './sync';

export const WEBHOOK_ATTEMPTS_MAX = 8;
export const WEBHOOK_RETRY_BASE_SECONDS = 30;
export const WEBHOOK_RETRY_MAX_SECONDS = 6 * 3600;
/** Deliveries one sweep works off. */
export const WEBHOOK_SWEEP_BATCH_MAX = 50;
/** How long the apply hook trusts its cached endpoint list. */
export const WEBHOOK_ENDPOINT_CACHE_MS = 30_000;
export const WEBHOOK_ENDPOINTS_ACTIVE_MAX = 10;
export const SIGNATURE_HEADER = 'agora-signature';
export const TIMESTAMP_HEADER = 'agora-webhook-timestamp';
export const DELIVERY_HEADER = 'agora-webhook-id';

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` — what receivers recompute. */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

export function retryDelaySeconds(attempts: number, random: () => number): number {
  const ceiling = Math.min(
    WEBHOOK_RETRY_MAX_SECONDS,
    WEBHOOK_RETRY_BASE_SECONDS * 4 ** Math.max(0, attempts - 1),
  );
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export interface CreateEndpointInput {
  readonly url: string;
  readonly description: string;
  readonly eventTypes: readonly string[];
}

export async function createWebhookEndpoint(
  deps: { webhooks: WebhookStore; clock: Clock; allowHttp: boolean },
  input: CreateEndpointInput,
): Promise<WebhookEndpoint> {
  const url = new URL(input.url);
  if (url.protocol !== 'https:' && !(deps.allowHttp && url.protocol === 'http:')) {
    throw new ValidationFailedError('Webhook URLs must use https', [
      { path: 'body.url', code: 'insecure_url', message: 'Use an https:// URL' },
    ]);
  }
  const active = (await deps.webhooks.listEndpoints()).filter((e) => e.status === 'active');
  if (active.length >= WEBHOOK_ENDPOINTS_ACTIVE_MAX) {
    throw new ForbiddenError(
      `At most ${WEBHOOK_ENDPOINTS_ACTIVE_MAX} active webhook endpoints; disable one first`,
    );
  }
  const endpoint: WebhookEndpoint = {
    endpointId: `whe_${randomBytes(12).toString('hex')}`,
    url: url.toString(),
    description: input.description,
    eventTypes: [...input.eventTypes],
    secret: `whsec_${randomBytes(32).toString('base64url')}`,
    status: 'active',
    createdAt: deps.clock.now(),
  };
  await deps.webhooks.createEndpoint(endpoint);
  return endpoint;
}

/** The apply hook that queues one delivery per interested endpoint, in the apply transaction. */
export function webhookApplyHook(
  webhooks: WebhookStore,
  clockMs: () => number = Date.now,
): ApplyHook {
  let cached: { at: number; endpoints: WebhookEndpoint[] } | null = null;
  return {
    name: 'provisioning-webhooks',
    async contribute(context: AppliedChangeContext) {
      if (context.events.length === 0) return {};
      if (!cached || clockMs() - cached.at > WEBHOOK_ENDPOINT_CACHE_MS) {
        cached = {
          at: clockMs(),
          endpoints: (await webhooks.listEndpoints()).filter((e) => e.status === 'active'),
        };
      }
      const deliveries: WebhookDelivery[] = [];
      for (const endpoint of cached.endpoints) {
        const events = context.events.filter(
          (e) => endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(e.type),
        );
        if (events.length === 0) continue;
        const deliveryId = deterministicId(
          'whd',
          endpoint.endpointId,
          context.next.contractId,
          String(context.next.version),
        );
        const { next } = context;
        const payload = JSON.stringify({
          id: deliveryId,
          type: 'contract.changed',
          createdAt: context.now,
          contract: {
            contractId: next.contractId,
            marketplace: next.marketplace,
            status: next.status,
            version: next.version,
            customer: next.terms.buyer.accountId,
            productId: next.terms.productId,
            plan: next.terms.plan,
            quantity: next.terms.quantity,
            term: next.terms.term,
            grants: next.terms.grants,
          },
          events: events.map((e) => ({
            eventId: e.eventId,
            type: e.type,
            effectiveAt: e.effectiveAt,
            occurredAt: e.occurredAt,
          })),
        });
        deliveries.push({
          deliveryId,
          endpointId: endpoint.endpointId,
          contractId: next.contractId,
          contractVersion: next.version,
          eventIds: events.map((e) => e.eventId),
          eventTypes: events.map((e) => e.type),
          payload,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: context.now,
          lastAttemptAt: null,
          lastStatusCode: null,
          lastError: null,
          createdAt: context.now,
        });
      }
      return { webhookDeliveries: deliveries };
    },
  };
}

/** Endpoints that receive offer reminders: active, and subscribed to OfferExpiring by name. */
export function offerExpiringEndpoints(endpoints: readonly WebhookEndpoint[]): WebhookEndpoint[] {
  // Opt-in only: an endpoint with no eventTypes gets every *contract* event, but a new payload
  // type (offer.expiring) must not surprise receivers written for contract.changed.
  return endpoints.filter(
    (e) => e.status === 'active' && e.eventTypes.includes(OFFER_EXPIRING_EVENT_TYPE),
  );
}

/**
 * One OfferExpiring delivery per subscribed endpoint, for the reminder of (offer, window). The
 * delivery id derives from the endpoint, the offer and the window, so queuing it again (a retried
 * reminder) finds the one queued before. Such a delivery has no contract: `contractId` holds the
 * offer id (the delivery log lists it under `?contractId=<offerId>`) and `contractVersion` is 0.
 */
export function offerExpiringDeliveries(
  endpoints: readonly WebhookEndpoint[],
  reminder: {
    readonly offer: OfferRecord;
    readonly window: number;
    readonly daysLeft: number;
    readonly today: CalendarDate;
  },
  now: string,
): WebhookDelivery[] {
  const offer = summarizeOffer(reminder.offer);
  const eventId = reminderId(offer.offerId, reminder.window);
  return offerExpiringEndpoints(endpoints).map((endpoint) => {
    const deliveryId = deterministicId(
      'whd',
      endpoint.endpointId,
      OFFER_EXPIRING_EVENT_TYPE,
      offer.offerId,
      String(reminder.window),
    );
    const payload = JSON.stringify({
      id: deliveryId,
      type: 'offer.expiring',
      createdAt: now,
      offer: {
        offerId: offer.offerId,
        marketplace: offer.marketplace,
        marketplaceOfferId: offer.marketplaceOfferId,
        name: offer.name,
        productId: offer.productId,
        buyers: offer.buyers.map((b) => b.accountId),
        expiresOn: offer.expiresOn,
      },
      reminder: { window: reminder.window, daysLeft: reminder.daysLeft },
      events: [
        {
          eventId,
          type: OFFER_EXPIRING_EVENT_TYPE,
          effectiveAt: reminder.today,
          occurredAt: now,
        },
      ],
    });
    return {
      deliveryId,
      endpointId: endpoint.endpointId,
      contractId: offer.offerId,
      contractVersion: 0,
      eventIds: [eventId],
      eventTypes: [OFFER_EXPIRING_EVENT_TYPE],
      payload,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lastAttemptAt: null,
      lastStatusCode: null,
      lastError: null,
      createdAt: now,
    };
  });
}

export interface DeliverDeps {
  readonly webhooks: WebhookStore;
  readonly sender: WebhookSender;
  readonly clock: Clock;
  readonly random?: () => number;
}

export interface SweepResult {
  readonly attempted: number;
  readonly delivered: number;
  readonly failed: number;
  readonly retrying: number;
}

/** Works off the deliveries that are due. Safe to run concurrently (attempts are conditional). */
export async function deliverDueWebhooks(
  deps: DeliverDeps,
  limit = WEBHOOK_SWEEP_BATCH_MAX,
): Promise<SweepResult> {
  const due = await deps.webhooks.listDue(
    deps.clock.now(),
    Math.min(limit, WEBHOOK_SWEEP_BATCH_MAX),
  );
  if (due.length === 0) return { attempted: 0, delivered: 0, failed: 0, retrying: 0 };
  const endpoints = new Map((await deps.webhooks.listEndpoints()).map((e) => [e.endpointId, e]));
  const result = { attempted: 0, delivered: 0, failed: 0, retrying: 0 };
  for (const delivery of due) {
    const endpoint = endpoints.get(delivery.endpointId);
    const outcome = await attempt(deps, delivery, endpoint);
    result.attempted += 1;
    result[outcome] += 1;
  }
  return result;
}

async function attempt(
  deps: DeliverDeps,
  delivery: WebhookDelivery,
  endpoint: WebhookEndpoint | undefined,
): Promise<'delivered' | 'failed' | 'retrying'> {
  const now = deps.clock.now();
  const attempts = delivery.attempts + 1;
  if (endpoint?.status !== 'active') {
    await deps.webhooks.recordAttempt(delivery, {
      status: 'failed',
      attempts,
      nextAttemptAt: null,
      lastAttemptAt: now,
      lastStatusCode: null,
      lastError: 'endpoint disabled or removed',
    });
    return 'failed';
  }
  const timestamp = Math.floor(Date.parse(now) / 1000);
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const response = await deps.sender.post(endpoint.url, delivery.payload, {
      'content-type': 'application/json',
      [DELIVERY_HEADER]: delivery.deliveryId,
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(endpoint.secret, timestamp, delivery.payload),
    });
    statusCode = response.status;
    if (response.status < 200 || response.status >= 300) error = `HTTP ${response.status}`;
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  if (error === null) {
    await deps.webhooks.recordAttempt(delivery, {
      status: 'delivered',
      attempts,
      nextAttemptAt: null,
      lastAttemptAt: now,
      lastStatusCode: statusCode,
      lastError: null,
    });
    return 'delivered';
  }
  const exhausted = attempts >= WEBHOOK_ATTEMPTS_MAX;
  const delay = retryDelaySeconds(attempts, deps.random ?? Math.random);
  await deps.webhooks.recordAttempt(delivery, {
    status: exhausted ? 'failed' : 'pending',
    attempts,
    nextAttemptAt: exhausted ? null : new Date(Date.parse(now) + delay * 1000).toISOString(),
    lastAttemptAt: now,
    lastStatusCode: statusCode,
    lastError: error.slice(0, 500),
  });
  return exhausted ? 'failed' : 'retrying';
}
