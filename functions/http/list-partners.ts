/** GET /v1/partners — the registry (a partner token sees only itself). */
import { listPartners } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, listPartnersRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  listPartnersRoute,
  getContainer,
  async ({ query, principal }) => {
    const page = await listPartners(getContainer(), callerOf(principal), {
      limit: query.limit,
      cursor: query.cursor,
    });
    return { body: { items: page.items, nextCursor: page.cursor } };
  },
);
