/** POST /v1/webhook-endpoints — register a provisioning webhook URL (the secret is shown once). */
import { createWebhookEndpoint } from '../../lib/app/webhooks';
import { createWebhookEndpointRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(createWebhookEndpointRoute, getContainer, async ({ body }) => {
  const { webhooks, clock, config } = getContainer();
  const endpoint = await createWebhookEndpoint(
    { webhooks, clock, allowHttp: config.AGORA_WEBHOOK_ALLOW_HTTP },
    body,
  );
  return { body: { ...endpoint, eventTypes: body.eventTypes } };
});
