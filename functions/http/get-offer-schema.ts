/** GET /v1/offer-schema — the OfferDocument as JSON Schema, generated from its zod definition. */

import { canonicalJsonSchema } from '../../lib/domain/schemas/json-schema';
import { httpHandler } from '../../lib/http/handler';
import { getOfferSchemaRoute } from '../../lib/http/offer-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getOfferSchemaRoute, getContainer, async () => ({
  body: canonicalJsonSchema('OfferDocument'),
}));
