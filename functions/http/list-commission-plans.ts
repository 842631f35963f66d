/** GET /v1/commission-plans — every plan with its newest version. */
import { listPlans } from '../../lib/app/commission-plans';
import { listCommissionPlansRoute } from '../../lib/http/commission-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listCommissionPlansRoute, getContainer, async () => ({
  body: { items: await listPlans(getContainer()) },
}));
