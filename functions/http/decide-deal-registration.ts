/** POST /v1/deal-registrations/{registrationId}/decision — an admin decides a held registration. */
import { decideHeldRegistration } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, decideRegistrationRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  decideRegistrationRoute,
  getContainer,
  async ({ params, body, principal }) => ({
    body: await decideHeldRegistration(
      getContainer(),
      callerOf(principal),
      params.registrationId,
      body.decision,
      body.reason,
    ),
  }),
);
