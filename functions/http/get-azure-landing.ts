/** GET /v1/marketplace/azure/landing?token= — resolve and show the purchase; never activates. */
import { azureLandingRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { resolveAzureLanding } from '../../lib/marketplaces/azure/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(azureLandingRoute, getContainer, async ({ query }) => {
  const { subscription, ingest } = await resolveAzureLanding(getContainer(), query.token);
  return {
    body: {
      subscriptionId: subscription.id,
      offerId: subscription.offerId,
      planId: subscription.planId,
      quantity: subscription.quantity ?? null,
      status: subscription.saasSubscriptionStatus,
      beneficiary: {
        tenantId: subscription.beneficiary?.tenantId ?? null,
        emailId: subscription.beneficiary?.emailId ?? null,
      },
      activate: {
        method: 'POST' as const,
        path: `/v1/marketplace/azure/subscriptions/${subscription.id}/activate`,
      },
      rawId: ingest.rawId,
    },
  };
});
