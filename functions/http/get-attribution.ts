/** GET /v1/contracts/{contractId}/attribution — touches, weights, credits, split and diff. */
import { explainAttribution } from '../../lib/app/attribution';
import { httpHandler } from '../../lib/http/handler';
import { getAttributionRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getAttributionRoute, getContainer, async ({ params }) => ({
  body: await explainAttribution(getContainer(), params.contractId),
}));
