/** GET /v1/raw/{rawId} — a raw inbound payload exactly as received. */
import { NotFoundError } from '../../lib/app/errors';
import { getRawRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getRawRoute, getContainer, async ({ params }) => {
  const raw = await getContainer().rawInbound.get(params.rawId);
  if (!raw) throw new NotFoundError(`No raw payload ${params.rawId}`);
  return { body: raw };
});
