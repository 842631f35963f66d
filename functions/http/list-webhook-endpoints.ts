/** GET /v1/webhook-endpoints — registered endpoints, without their secrets. */
import { listWebhookEndpointsRoute, WebhookEventTypeSchema } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listWebhookEndpointsRoute, getContainer, async () => {
  const endpoints = await getContainer().webhooks.listEndpoints();
  const items = endpoints.map(({ secret: _secret, ...endpoint }) => ({
    ...endpoint,
    eventTypes: endpoint.eventTypes.map((type) => WebhookEventTypeSchema.parse(type)),
  }));
  return { body: { items } };
});
