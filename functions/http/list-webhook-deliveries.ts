/** GET /v1/webhook-deliveries — the delivery log for a contract, or what is still pending. */
import { listWebhookDeliveriesRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listWebhookDeliveriesRoute, getContainer, async ({ query }) => {
  const page = await getContainer().webhooks.listDeliveries(
    { contractId: query.contractId, endpointId: query.endpointId },
    { limit: query.limit, cursor: query.cursor },
  );
  const items = page.items.map((delivery) => ({
    ...delivery,
    eventTypes: [...delivery.eventTypes],
  }));
  return { body: { items, nextCursor: page.cursor } };
});
