/** POST /v1/statement-runs — issue an ended period's partner statements (each once). */
import { generateStatements } from '../../lib/app/statements';
import { httpHandler } from '../../lib/http/handler';
import { runStatementsRoute } from '../../lib/http/statement-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(runStatementsRoute, getContainer, async ({ body }) => ({
  body: await generateStatements(getContainer(), {
    period: body.period,
    ...(body.partnerId ? { partnerId: body.partnerId } : {}),
  }),
}));
