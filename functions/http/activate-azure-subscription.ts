/** POST /v1/marketplace/azure/subscriptions/{subscriptionId}/activate — starts billing. */
import { activateAzureRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { activateAzureSubscription } from '../../lib/marketplaces/azure/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  activateAzureRoute,
  getContainer,
  async ({ params, body, principal }) => {
    const result = await activateAzureSubscription(getContainer(), {
      subscriptionId: params.subscriptionId,
      planId: body.planId,
      quantity: body.quantity,
      offerId: body.offerId,
      activatedBy: `user:${principal?.subject ?? 'unknown'}`,
    });
    return { body: { rawId: result.rawId, outcome: result.outcome, enqueued: result.enqueued } };
  },
);
