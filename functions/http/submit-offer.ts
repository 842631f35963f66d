/** POST /v1/offers/{offerId}/submit — a draft through the full rules and the guardrails. */
import { submitDraft } from '../../lib/app/offers';
import { httpHandler } from '../../lib/http/handler';
import { submitOfferRoute } from '../../lib/http/offer-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  submitOfferRoute,
  getContainer,
  async ({ params, principal }) => ({
    body: await submitDraft(getContainer(), {
      offerId: params.offerId,
      by: `user:${principal?.subject ?? 'unknown'}`,
    }),
  }),
);
