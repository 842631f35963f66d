/** GET /v1/reconciliations — reconciliations of marketplace reports, latest first. */
import { listReconciliations } from '../../lib/app/reconciliation';
import { httpHandler } from '../../lib/http/handler';
import { listReconciliationsRoute } from '../../lib/http/reconciliation-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listReconciliationsRoute, getContainer, async ({ query }) => {
  const page = await listReconciliations(getContainer(), query);
  return { body: { items: page.items, nextCursor: page.cursor } };
});
