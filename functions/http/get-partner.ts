/** GET /v1/partners/{partnerId} — one partner (404 for a partner token asking about another). */
import { getPartner } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, getPartnerRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  getPartnerRoute,
  getContainer,
  async ({ params, principal }) => ({
    body: await getPartner(getContainer(), callerOf(principal), params.partnerId),
  }),
);
