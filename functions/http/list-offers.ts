/** GET /v1/offers — offers by status and marketplace, newest first, paginated. */
import { listOffers } from '../../lib/app/offers';
import { httpHandler } from '../../lib/http/handler';
import { listOffersRoute } from '../../lib/http/offer-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listOffersRoute, getContainer, async ({ query }) => {
  const page = await listOffers(
    getContainer(),
    {
      ...(query.status ? { status: query.status } : {}),
      ...(query.marketplace ? { marketplace: query.marketplace } : {}),
    },
    { limit: query.limit, cursor: query.cursor },
  );
  return { body: { items: page.items, nextCursor: page.cursor } };
});
