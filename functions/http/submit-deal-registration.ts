/** POST /v1/deal-registrations — register a deal; the rules answer at once. */
import { submitRegistration } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, submitRegistrationRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  submitRegistrationRoute,
  getContainer,
  async ({ body, principal, headers }) => {
    const result = await submitRegistration(
      getContainer(),
      callerOf(principal),
      body,
      headers['idempotency-key'] ?? null,
    );
    return { status: result.created ? 201 : 200, body: result.registration };
  },
);
