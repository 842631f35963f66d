/** GET /openapi.json — public; the API's OpenAPI 3.1 document, generated from the routes. */
import { API_ROUTES, openApiRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { buildOpenApiDocument } from '../../lib/http/openapi';
import { getContainer } from '../../lib/runtime/container';

let document: Record<string, unknown> | undefined;

export const handler = httpHandler(openApiRoute, getContainer, async () => {
  document ??= buildOpenApiDocument(API_ROUTES, { version: getContainer().config.AGORA_VERSION });
  return { body: document };
});
