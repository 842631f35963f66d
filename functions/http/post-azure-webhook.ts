/** POST /v1/webhooks/azure — Microsoft's SaaS fulfillment webhook (Entra JWT). */
import { azureWebhookRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { receiveAzureWebhook } from '../../lib/marketplaces/azure/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  azureWebhookRoute,
  getContainer,
  async ({ rawBody, headers }) => {
    const result = await receiveAzureWebhook(getContainer(), rawBody, headers);
    return { body: { rawId: result.rawId, outcome: result.outcome, enqueued: result.enqueued } };
  },
);
