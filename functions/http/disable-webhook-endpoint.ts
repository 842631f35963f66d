/** DELETE /v1/webhook-endpoints/{endpointId} — stop delivering to an endpoint. */
import { NotFoundError } from '../../lib/app/errors';
import { disableWebhookEndpointRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  disableWebhookEndpointRoute,
  getContainer,
  async ({ params }) => {
    const disabled = await getContainer().webhooks.disableEndpoint(params.endpointId);
    if (!disabled) throw new NotFoundError(`No webhook endpoint ${params.endpointId}`);
    return { body: { endpointId: params.endpointId, status: 'disabled' as const } };
  },
);
