/** POST /v1/webhooks/gcp — Google Cloud Marketplace Pub/Sub push (Google OIDC token). */
import { gcpPushRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { receiveGcpPush } from '../../lib/marketplaces/gcp/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(gcpPushRoute, getContainer, async ({ rawBody, headers }) => {
  const result = await receiveGcpPush(getContainer(), rawBody, headers);
  return { body: { rawId: result.rawId, outcome: result.outcome, enqueued: result.enqueued } };
});
