/** GET /v1/reconciliations/{id}/items?list= — one list of a reconciliation, page by page. */
import { getReconciliation } from '../../lib/app/reconciliation';
import { httpHandler } from '../../lib/http/handler';
import {
  jsonItems,
  listReconciliationItemsRoute,
  offsetOf,
} from '../../lib/http/reconciliation-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  listReconciliationItemsRoute,
  getContainer,
  async ({ params, query }) => {
    const { result } = await getReconciliation(getContainer(), params.reconciliationId);
    const all = query.list === 'aging' ? result.aging.items : result[query.list];
    const offset = offsetOf(query.cursor);
    const next = offset + query.limit;
    const items = jsonItems(all.slice(offset, next));
    return { body: { items, nextCursor: next < all.length ? String(next) : null } };
  },
);
