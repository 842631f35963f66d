/** GET /v1/commission-plans/{planId} — every version of one plan. */
import { planVersions } from '../../lib/app/commission-plans';
import { getCommissionPlanRoute } from '../../lib/http/commission-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getCommissionPlanRoute, getContainer, async ({ params }) => ({
  body: { planId: params.planId, versions: await planVersions(getContainer(), params.planId) },
}));
