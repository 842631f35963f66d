/** POST /v1/commission-runs — run commission for an ended month (a rerun posts nothing new). */
import { runCommission } from '../../lib/app/commission-run';
import { runCommissionRoute } from '../../lib/http/commission-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(runCommissionRoute, getContainer, async ({ body }) => ({
  body: await runCommission(getContainer(), { period: body.period }),
}));
