/** GET /v1/journal/export?from&to — the journal of a posting-period range as CSV (text/csv). */
import { journalExport } from '../../lib/app/revenue/reports';
import { httpHandler } from '../../lib/http/handler';
import { getJournalExportRoute } from '../../lib/http/report-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getJournalExportRoute, getContainer, async ({ query }) => {
  const exported = await journalExport(getContainer(), query);
  return {
    file: {
      contentType: 'text/csv; charset=utf-8',
      content: exported.csv,
      filename: exported.filename,
    },
    headers: { 'x-journal-entries': String(exported.entries) },
  };
});
