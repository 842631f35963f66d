/** POST /v1/partners/{partnerId}/statements/verify — every file's hash and the hash chain. */
import { verifyStatements } from '../../lib/app/statements';
import { httpHandler } from '../../lib/http/handler';
import { verifyStatementsRoute } from '../../lib/http/statement-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(verifyStatementsRoute, getContainer, async ({ params }) => ({
  body: await verifyStatements(getContainer(), params.partnerId),
}));
