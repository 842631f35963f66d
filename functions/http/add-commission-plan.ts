/** POST /v1/commission-plans — validate and add the next plan version. */
import { addPlanVersion } from '../../lib/app/commission-plans';
import { addCommissionPlanRoute } from '../../lib/http/commission-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(addCommissionPlanRoute, getContainer, async ({ body }) => ({
  status: 201,
  body: await addPlanVersion(getContainer(), body),
}));
