/** GET /v1/listings/{marketplace}/{productId} — one listing, read live. */
import { getListing } from '../../lib/app/listings';
import { httpHandler } from '../../lib/http/handler';
import { getListingRoute } from '../../lib/http/listing-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getListingRoute, getContainer, async ({ params }) => ({
  body: await getListing(getContainer(), params.marketplace, params.productId),
}));
