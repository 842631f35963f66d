/** GET /v1/contracts/{contractId}/attribution/versions — every version, newest first. */
import { attributionHistory } from '../../lib/app/attribution';
import { httpHandler } from '../../lib/http/handler';
import { listAttributionVersionsRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  listAttributionVersionsRoute,
  getContainer,
  async ({ params, query }) => {
    const page = await attributionHistory(getContainer(), params.contractId, {
      limit: query.limit,
      cursor: query.cursor,
    });
    return { body: { items: page.items, nextCursor: page.cursor } };
  },
);
