/** GET /v1/contracts/{contractId}/revenue-schedule — schedule versions, position, billing, usage. */
import { revenueScheduleView } from '../../lib/app/revenue/views';
import { revenueScheduleRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(revenueScheduleRoute, getContainer, async ({ params }) => ({
  body: await revenueScheduleView(getContainer(), params.contractId),
}));
