/** PATCH /v1/partners/{partnerId} — change a partner; tiers are added to its history. */
import { updatePartner } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { updatePartnerRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(updatePartnerRoute, getContainer, async ({ params, body }) => ({
  body: await updatePartner(getContainer(), params.partnerId, body),
}));
