/** GET /v1/listings — the seller's listings, read from each marketplace. */
import { listListings } from '../../lib/app/listings';
import { httpHandler } from '../../lib/http/handler';
import { listListingsRoute } from '../../lib/http/listing-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listListingsRoute, getContainer, async ({ query }) => ({
  body: { items: await listListings(getContainer(), query.marketplace) },
}));
