/** POST /v1/offers — validate, apply guardrails, store, and publish an approved offer. */
import { createOffer } from '../../lib/app/offers';
import { httpHandler } from '../../lib/http/handler';
import { createOfferRoute } from '../../lib/http/offer-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  createOfferRoute,
  getContainer,
  async ({ body, principal, headers }) => {
    const { draft, ...document } = body;
    const result = await createOffer(getContainer(), {
      document,
      draft: draft === true,
      by: `user:${principal?.subject ?? 'unknown'}`,
      idempotencyKey: headers['idempotency-key'] ?? null,
    });
    return { status: result.created ? 201 : 200, body: result.offer };
  },
);
