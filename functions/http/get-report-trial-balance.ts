/** GET /v1/reports/trial-balance?asOf — balances per account and currency at a date. */
import { trialBalanceReport } from '../../lib/app/revenue/reports';
import { httpHandler } from '../../lib/http/handler';
import { getReportTrialBalanceRoute } from '../../lib/http/report-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getReportTrialBalanceRoute, getContainer, async ({ query }) => ({
  body: await trialBalanceReport(getContainer(), query.asOf),
}));
