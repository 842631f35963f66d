/** GET /v1/partners/{partnerId}/statements — a partner's statements, latest period first. */
import { listStatements, STATEMENT_FORMATS } from '../../lib/app/statements';
import { httpHandler } from '../../lib/http/handler';
import { assertStatementsVisible, listStatementsRoute } from '../../lib/http/statement-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  listStatementsRoute,
  getContainer,
  async ({ params, query, principal }) => {
    assertStatementsVisible(principal, params.partnerId);
    const page = await listStatements(getContainer(), params.partnerId, query);
    const items = page.items.map(({ files: _files, delivery, ...record }) => ({
      ...record,
      delivery: delivery.status,
      formats: record.archived ? [...STATEMENT_FORMATS] : [],
    }));
    return { body: { items, nextCursor: page.cursor } };
  },
);
