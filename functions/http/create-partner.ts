/** POST /v1/partners — add a partner to the registry. */
import { createPartner } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { createPartnerRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(createPartnerRoute, getContainer, async ({ body }) => {
  const { partner } = await createPartner(getContainer(), body);
  return { status: 201, body: partner };
});
