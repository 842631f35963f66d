/** GET /v1/reconciliations/{id} — summary, roll-forward, aging and the first items of each list. */
import { getReconciliation } from '../../lib/app/reconciliation';
import { httpHandler } from '../../lib/http/handler';
import {
  getReconciliationRoute,
  jsonItems,
  RECONCILIATION_LISTS,
  RECONCILIATION_VIEW_ITEMS_MAX,
  type ReconciliationList,
} from '../../lib/http/reconciliation-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getReconciliationRoute, getContainer, async ({ params }) => {
  const { record, result, disbursements, trueUps } = await getReconciliation(
    getContainer(),
    params.reconciliationId,
  );
  const lists = Object.fromEntries(
    RECONCILIATION_LISTS.map((name) => {
      const items = name === 'aging' ? result.aging.items : result[name];
      const total = name === 'matched' ? result.summary.counts.matched : items.length;
      return [name, { total, items: jsonItems(items.slice(0, RECONCILIATION_VIEW_ITEMS_MAX)) }];
    }),
  ) as Record<ReconciliationList, { total: number; items: Record<string, unknown>[] }>;
  const [summary] = jsonItems([result.summary]);
  const view = {
    asOf: result.asOf,
    firstOpenPeriod: result.firstOpenPeriod,
    summary: summary ?? {},
  };
  const tables = {
    rollForward: jsonItems(result.rollForward),
    agingSummary: jsonItems(result.aging.summary),
  };
  return { body: { record, ...view, ...tables, disbursements, trueUps, lists } };
});
