/** POST /v1/attribution-models — add the next version of a model. */
import { addModelVersion } from '../../lib/app/attribution';
import { httpHandler } from '../../lib/http/handler';
import { addAttributionModelRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(addAttributionModelRoute, getContainer, async ({ body }) => ({
  status: 201,
  body: await addModelVersion(getContainer(), body),
}));
