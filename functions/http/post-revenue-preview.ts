/** POST /v1/revenue/preview — the deal-desk preview of a scenario; writes nothing. */
import { previewRevenue } from '../../lib/app/revenue/preview';
import { revenuePreviewRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(revenuePreviewRoute, getContainer, async ({ body }) => ({
  body: previewRevenue(getContainer().revenue, body),
}));
