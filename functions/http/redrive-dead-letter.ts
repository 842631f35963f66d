/** POST /v1/dlq/{rawId}/redrive — send a dead-lettered notification through the sync again. */
import { redrive } from '../../lib/app/dlq';
import { redriveDeadLetterRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(redriveDeadLetterRoute, getContainer, async ({ params }) => ({
  body: await redrive(getContainer(), params.rawId),
}));
