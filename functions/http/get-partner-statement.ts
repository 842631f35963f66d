/** GET /v1/partners/{partnerId}/statements/{period}?format=pdf|csv|json — the file as issued. */
import { getStatement } from '../../lib/app/statements';
import { httpHandler } from '../../lib/http/handler';
import { assertStatementsVisible, getStatementRoute } from '../../lib/http/statement-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  getStatementRoute,
  getContainer,
  async ({ params, query, principal }) => {
    assertStatementsVisible(principal, params.partnerId);
    const file = await getStatement(getContainer(), params.partnerId, params.period, query.format);
    return {
      file: { contentType: file.contentType, content: file.body, filename: file.filename },
      headers: { 'x-statement-id': file.statementId, 'x-statement-hash': file.hash },
    };
  },
);
