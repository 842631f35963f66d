/**
 * Azure inlets: the fulfillment webhook (Entra JWT; after authentication the raw body is
 * stored and answered 2xx whatever it contains — a 4xx would reject the customer's change), the
 * landing page (resolve the token, show what was bought), the explicit activation that starts
 * billing, and the periodic List reconciliation that catches missed webhooks.
 */
import { type IngestDeps, type IngestResult, ingestNotification } from '../../app/ingest';
import type { Clock } from '../../app/ports';
import { sha256Hex } from '../../domain/ids';
import type { RawEnvelope } from '../../domain/raw';
import type { AzureMarketplaceSettings } from './config';
import type { AzureFulfillmentClient, AzureSubscription } from './fulfillment-client';
import type { AzureInternalBody } from './notifications';
import type { AzureWebhookVerifier } from './webhook-auth';

const AUDIT_HEADERS = ['x-ms-requestid', 'x-ms-correlationid', 'user-agent', 'content-type'];
const OPERATION_ID_PATTERN = /^[\w-]{1,128}$/;

export interface AzureWebhookDeps extends IngestDeps {
  readonly azureVerifier: AzureWebhookVerifier;
  readonly clock: Clock;
}

export async function receiveAzureWebhook(
  deps: AzureWebhookDeps,
  body: string,
  headers: Readonly<Record<string, string>>,
): Promise<IngestResult> {
  const identity = await deps.azureVerifier.verify(headers.authorization);
  // The operation id dedupes Microsoft's retries; a body without one is still kept (by hash).
  let operationId: string | null = null;
  try {
    const parsed = JSON.parse(body) as { id?: unknown; action?: unknown };
    if (typeof parsed.id === 'string' && OPERATION_ID_PATTERN.test(parsed.id))
      operationId = `${parsed.id}:${String(parsed.action ?? '')}`;
  } catch {
    // kept as received; the sync dead-letters it with the reason
  }
  return ingestNotification(deps, {
    marketplace: 'azure',
    channel: 'azure-webhook',
    providerMessageId: operationId ?? `sha256:${sha256Hex(body)}`,
    receivedAt: deps.clock.now(),
    headers: Object.fromEntries(
      AUDIT_HEADERS.filter((h) => headers[h] !== undefined).map((h) => [h, String(headers[h])]),
    ),
    body,
    authenticatedAs: `entra:${identity.tenantId}:${identity.appId}`,
  });
}

export interface AzureFlowDeps extends IngestDeps {
  readonly azureClient: AzureFulfillmentClient;
  readonly azureSettings: AzureMarketplaceSettings;
  readonly clock: Clock;
}

function internal(
  deps: AzureFlowDeps,
  kind: AzureInternalBody['kind'],
  subscription: Pick<AzureSubscription, 'id' | 'offerId'>,
  messageId: string,
  by: string,
) {
  const body: AzureInternalBody = {
    kind,
    subscriptionId: subscription.id,
    offerId: subscription.offerId,
    at: deps.clock.now(),
  };
  return ingestNotification(deps, {
    marketplace: 'azure',
    channel: kind,
    providerMessageId: messageId,
    receivedAt: body.at,
    headers: {},
    body: JSON.stringify(body),
    authenticatedAs: by,
  });
}

/** The landing page: resolve the token (a bad one is 401), record the visit, show the purchase. */
export async function resolveAzureLanding(
  deps: AzureFlowDeps,
  token: string,
): Promise<{ subscription: AzureSubscription; ingest: IngestResult }> {
  const subscription = await deps.azureClient.resolve(token);
  const ingest = await internal(
    deps,
    'azure-landing',
    subscription,
    `landing:${subscription.id}:${subscription.lastModified ?? ''}`,
    'resolve:landing-token',
  );
  return { subscription, ingest };
}

/** Activation starts billing: only ever an explicit POST by a signed-in seller. */
export async function activateAzureSubscription(
  deps: AzureFlowDeps,
  input: {
    subscriptionId: string;
    planId: string;
    quantity: number | null;
    offerId: string | null;
    activatedBy: string;
  },
): Promise<IngestResult> {
  await deps.azureClient.activate(
    input.subscriptionId,
    input.planId,
    input.quantity,
    input.offerId,
  );
  return internal(
    deps,
    'azure-activation',
    { id: input.subscriptionId, offerId: input.offerId ?? '' },
    `activation:${input.subscriptionId}`,
    input.activatedBy,
  );
}

/** Reconciliation: every subscription each offer can see, re-synced when it changed. */
export async function reconcileAzureSubscriptions(
  deps: AzureFlowDeps,
): Promise<{ seen: number; enqueued: number }> {
  let seen = 0;
  let enqueued = 0;
  for (const offer of deps.azureSettings.offers) {
    for (const subscription of await deps.azureClient.listSubscriptions(offer)) {
      seen += 1;
      const result = await internal(
        deps,
        'azure-reconcile',
        subscription,
        `reconcile:${subscription.id}:${subscription.lastModified ?? ''}`,
        'reconciliation',
      );
      if (result.enqueued) enqueued += 1;
    }
  }
  return { seen, enqueued };
}

/** A payload file for `agora replay`: an Azure webhook body or one of our Azure inlet bodies. */
export function azureEnvelopeForReplay(body: unknown, receivedAt: string): RawEnvelope | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  const replay = (providerMessageId: string, channel: RawEnvelope['channel']): RawEnvelope => ({
    marketplace: 'azure',
    channel,
    providerMessageId,
    receivedAt,
    headers: {},
    body: JSON.stringify(body),
    authenticatedAs: 'operator:replay',
  });
  // A webhook body: kept even without a subscription id, so the sync dead-letters it with the reason.
  if (typeof record.action === 'string' && typeof record.id === 'string') {
    return replay(`${record.id}:${record.action}`, 'operator-replay');
  }
  if (
    typeof record.kind === 'string' &&
    record.kind.startsWith('azure-') &&
    typeof record.subscriptionId === 'string'
  ) {
    return replay(
      `${record.kind}:${record.subscriptionId}:${String(record.at ?? '')}`,
      'operator-replay',
    );
  }
  return null;
}
