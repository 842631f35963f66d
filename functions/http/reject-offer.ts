/** POST /v1/offers/{offerId}/reject — an admin or configured approver decides a held offer. */
import { decideOffer } from '../../lib/app/offers';
import { httpHandler } from '../../lib/http/handler';
import { rejectOfferRoute } from '../../lib/http/offer-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  rejectOfferRoute,
  getContainer,
  async ({ params, body, principal }) => ({
    body: await decideOffer(getContainer(), {
      offerId: params.offerId,
      decision: 'rejected',
      by: `user:${principal?.subject ?? 'unknown'}`,
      isAdmin: principal?.roles.includes('admin') ?? false,
      reason: body.reason,
    }),
  }),
);
