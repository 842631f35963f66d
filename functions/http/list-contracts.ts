/** GET /v1/contracts — contracts by marketplace, status or customer, paginated. */
import { listContracts } from '../../lib/app/contracts';
import { listContractsRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listContractsRoute, getContainer, async ({ query }) => {
  const page = await listContracts(
    getContainer().contracts,
    { marketplace: query.marketplace, status: query.status, customer: query.customer },
    { limit: query.limit, cursor: query.cursor },
  );
  return { body: { items: page.items, nextCursor: page.cursor } };
});
