/** POST /v1/contracts/{contractId}/attribution — recompute; a version only when changed. */
import { explainAttribution } from '../../lib/app/attribution';
import { httpHandler } from '../../lib/http/handler';
import { recomputeAttributionRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(recomputeAttributionRoute, getContainer, async ({ params }) => ({
  body: await explainAttribution(getContainer(), params.contractId, { recompute: true }),
}));
