/** GET /v1/offers/{offerId} — the offer with its history, publication and acceptances. */
import { getOffer } from '../../lib/app/offers';
import { httpHandler } from '../../lib/http/handler';
import { getOfferRoute } from '../../lib/http/offer-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getOfferRoute, getContainer, async ({ params }) => ({
  body: await getOffer(getContainer(), params.offerId),
}));
