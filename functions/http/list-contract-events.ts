/** GET /v1/contracts/{contractId}/events — canonical history in apply order. */
import { getContract } from '../../lib/app/contracts';
import { listContractEventsRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  listContractEventsRoute,
  getContainer,
  async ({ params, query }) => {
    const { contracts } = getContainer();
    await getContract(contracts, params.contractId); // 404 for an unknown contract
    const page = await contracts.events(params.contractId, {
      limit: query.limit,
      cursor: query.cursor,
    });
    return { body: { items: page.items, nextCursor: page.cursor } };
  },
);
