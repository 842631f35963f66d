/** PUT /v1/offers/{offerId} — replace a draft's document (shape checked only). */
import { updateDraft } from '../../lib/app/offers';
import { httpHandler } from '../../lib/http/handler';
import { updateOfferRoute } from '../../lib/http/offer-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  updateOfferRoute,
  getContainer,
  async ({ params, body, principal }) => {
    const { draft: _draft, ...document } = body;
    return {
      body: await updateDraft(getContainer(), {
        offerId: params.offerId,
        document,
        by: `user:${principal?.subject ?? 'unknown'}`,
      }),
    };
  },
);
