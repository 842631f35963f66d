/** GET /v1/journal?contractId=|period= — journal entries, paginated. */
import { listJournalRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listJournalRoute, getContainer, async ({ query }) => {
  const { ledger } = getContainer();
  const page = { limit: query.limit, cursor: query.cursor };
  const result = query.contractId
    ? await ledger.entries(query.contractId, page)
    : await ledger.entriesOfPeriod(query.period ?? '', page);
  return { body: { items: result.items, nextCursor: result.cursor } };
});
