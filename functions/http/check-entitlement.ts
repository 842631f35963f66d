/** GET /v1/entitlements — "is this customer entitled now?" for the seller's own product. */
import { checkEntitlement } from '../../lib/app/contracts';
import { checkEntitlementRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(checkEntitlementRoute, getContainer, async ({ query }) => {
  const { contracts, clock } = getContainer();
  return { body: await checkEntitlement(contracts, { ...query, now: clock.now() }) };
});
