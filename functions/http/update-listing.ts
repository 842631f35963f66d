/** PATCH /v1/listings/{marketplace}/{productId} — starts the marketplace's listing change. */
import { updateListing } from '../../lib/app/listings';
import { httpHandler } from '../../lib/http/handler';
import { updateListingRoute } from '../../lib/http/listing-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  updateListingRoute,
  getContainer,
  async ({ params, body, principal, headers }) => ({
    status: 202,
    body: await updateListing(getContainer(), {
      marketplace: params.marketplace,
      productId: params.productId,
      update: body,
      by: `user:${principal?.subject ?? 'unknown'}`,
      idempotencyKey: headers['idempotency-key'] ?? null,
    }),
  }),
);
