/** POST /v1/listings — starts creating a product listing on the marketplace. */
import { createListing } from '../../lib/app/listings';
import { httpHandler } from '../../lib/http/handler';
import { createListingRoute } from '../../lib/http/listing-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  createListingRoute,
  getContainer,
  async ({ body, principal, headers }) => ({
    status: 202,
    body: await createListing(getContainer(), {
      listing: body,
      by: `user:${principal?.subject ?? 'unknown'}`,
      idempotencyKey: headers['idempotency-key'] ?? null,
    }),
  }),
);
