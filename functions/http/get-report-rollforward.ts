/** GET /v1/reports/rollforward?from&to&account&groupBy — deferred revenue or unbilled roll-forward. */
import { rollForwardReport } from '../../lib/app/revenue/reports';
import { httpHandler } from '../../lib/http/handler';
import { getReportRollForwardRoute } from '../../lib/http/report-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getReportRollForwardRoute, getContainer, async ({ query }) => ({
  body: await rollForwardReport(getContainer(), query),
}));
