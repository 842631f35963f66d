/** GET /v1/partners/{partnerId}/touches — a partner's touches, newest first. */
import { listPartnerTouches } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, listPartnerTouchesRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  listPartnerTouchesRoute,
  getContainer,
  async ({ params, query, principal }) => {
    const page = await listPartnerTouches(getContainer(), callerOf(principal), params.partnerId, {
      limit: query.limit,
      cursor: query.cursor,
    });
    return { body: { items: page.items, nextCursor: page.cursor } };
  },
);
