/** GET /v1/attribution-models — versions of the model in use, newest first. */
import { listModelVersions } from '../../lib/app/attribution';
import { httpHandler } from '../../lib/http/handler';
import { listAttributionModelsRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listAttributionModelsRoute, getContainer, async ({ query }) => {
  const container = getContainer();
  const modelId = query.modelId ?? container.attributionSettings.modelId;
  return { body: { modelId, versions: await listModelVersions(container, modelId) } };
});
