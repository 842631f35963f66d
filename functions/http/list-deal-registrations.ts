/** GET /v1/deal-registrations — registrations, newest first (a partner sees its own). */
import { listRegistrations } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, listRegistrationsRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  listRegistrationsRoute,
  getContainer,
  async ({ query, principal }) => {
    const page = await listRegistrations(
      getContainer(),
      callerOf(principal),
      {
        ...(query.partnerId ? { partnerId: query.partnerId } : {}),
        ...(query.status ? { status: query.status } : {}),
      },
      { limit: query.limit, cursor: query.cursor },
    );
    return { body: { items: page.items, nextCursor: page.cursor } };
  },
);
