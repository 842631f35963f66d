/** GET /v1/reports/waterfall?from&to — deferred revenue booked by month × released by month. */
import { waterfallReport } from '../../lib/app/revenue/reports';
import { httpHandler } from '../../lib/http/handler';
import { getReportWaterfallRoute } from '../../lib/http/report-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getReportWaterfallRoute, getContainer, async ({ query }) => ({
  body: await waterfallReport(getContainer(), query),
}));
