/** GET /v1/deal-registrations/{registrationId} — one registration with its conflicts. */
import { getRegistration } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, getRegistrationRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  getRegistrationRoute,
  getContainer,
  async ({ params, principal }) => ({
    body: await getRegistration(getContainer(), callerOf(principal), params.registrationId),
  }),
);
