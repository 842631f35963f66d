/** GET /v1/reports/partner-commission — the finance view of partner commission (JSON or CSV). */
import { partnerCommissionReport } from '../../lib/app/commission-report';
import { commissionReportCsv } from '../../lib/domain/commission/report';
import { getCommissionReportRoute } from '../../lib/http/commission-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getCommissionReportRoute, getContainer, async ({ query }) => {
  const { format, ...range } = query;
  const report = await partnerCommissionReport(getContainer(), range);
  if (format === 'json') return { body: report };
  return {
    file: {
      contentType: 'text/csv; charset=utf-8',
      content: commissionReportCsv(report),
      filename: `partner-commission-${report.from}-${report.to}.csv`,
    },
  };
});
