/**
 * Pull mode for deployments that prefer it: `@google-cloud/pubsub`'s SubscriberClient (over its
 * HTTP/JSON fallback, so Lambda needs no gRPC) pulls Marketplace messages, each is stored through
 * the same ingest as a push, and only stored messages are acknowledged — an un-acked message is
 * redelivered by Pub/Sub, never lost.
 */
import { v1 } from '@google-cloud/pubsub';
import { GoogleAuth } from 'google-auth-library';
import { type IngestDeps, ingestNotification } from '../../app/ingest';
import type { Clock } from '../../app/ports';
import type { GcpMarketplaceSettings } from './config';
import { decodeEnvelope } from './notifications';

export const PULL_BATCH_MAX = 50;
export const PULL_TIMEOUT_MS = 10_000;
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const LOCAL_SIMULATOR_TOKEN = 'local-simulator-token';

/** An auth client for the Pub/Sub fallback transport: the seller's service account, or none locally. */
export async function pubsubAuthClient(credentialsJson: string | undefined): Promise<unknown> {
  if (credentialsJson) {
    return new GoogleAuth({
      credentials: JSON.parse(credentialsJson) as Record<string, string>,
      scopes: [CLOUD_PLATFORM_SCOPE],
    }).getClient();
  }
  // The local simulator accepts any bearer token; the fallback transport needs fetch and headers.
  const headers = () => new Headers({ authorization: `Bearer ${LOCAL_SIMULATOR_TOKEN}` });
  return {
    getRequestHeaders: async () => headers(),
    request: async () => ({}),
    fetch: (url: string, init: RequestInit) => {
      const merged = new Headers(init.headers);
      merged.set('authorization', headers().get('authorization') ?? '');
      return fetch(url, { ...init, headers: merged });
    },
  };
}

export function createSubscriber(
  settings: GcpMarketplaceSettings,
  authClient: unknown,
): v1.SubscriberClient {
  const endpoint = new URL(settings.pubsubEndpoint);
  return new v1.SubscriberClient({
    fallback: true,
    protocol: endpoint.protocol.replace(':', ''),
    apiEndpoint: endpoint.hostname,
    port: Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80)),
    authClient: authClient as never,
  });
}

export async function pullGcpMessages(
  deps: IngestDeps & { clock: Clock },
  subscriber: Pick<v1.SubscriberClient, 'pull' | 'acknowledge'>,
  subscription: string,
): Promise<{ pulled: number; stored: number; acknowledged: number }> {
  const [response] = await subscriber.pull(
    { subscription, maxMessages: PULL_BATCH_MAX },
    { timeout: PULL_TIMEOUT_MS },
  );
  const ackIds: string[] = [];
  let stored = 0;
  for (const received of response.receivedMessages ?? []) {
    const message = received.message;
    if (!received.ackId || !message) continue;
    const data = Buffer.from(message.data ?? new Uint8Array()).toString('base64');
    const body = JSON.stringify({
      message: { data, messageId: message.messageId ?? null, publishTime: null, attributes: {} },
      subscription,
    });
    const decoded = decodeEnvelope(JSON.parse(body));
    await ingestNotification(deps, {
      marketplace: 'gcp',
      channel: 'gcp-pubsub-pull',
      providerMessageId:
        'message' in decoded
          ? decoded.message.eventId
          : `pubsub:${message.messageId ?? received.ackId}`,
      receivedAt: deps.clock.now(),
      headers: {},
      body,
      authenticatedAs: `pubsub-pull:${subscription}`,
    });
    stored += 1;
    ackIds.push(received.ackId);
  }
  if (ackIds.length > 0) await subscriber.acknowledge({ subscription, ackIds });
  return { pulled: response.receivedMessages?.length ?? 0, stored, acknowledged: ackIds.length };
}
