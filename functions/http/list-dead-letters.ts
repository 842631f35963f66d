/** GET /v1/dlq — notifications that could not be synced, with reason and raw reference. */
import { listDeadLetters } from '../../lib/app/dlq';
import { listDeadLettersRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listDeadLettersRoute, getContainer, async ({ query }) => {
  const page = await listDeadLetters(getContainer().failures, {
    limit: query.limit,
    cursor: query.cursor,
  });
  return { body: { items: page.items, nextCursor: page.cursor } };
});
