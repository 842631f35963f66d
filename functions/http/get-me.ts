/** GET /v1/me — the caller's identity and roles; any role. */
import { meRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(meRoute, getContainer, async ({ principal }) => {
  if (!principal) throw new Error('authenticated route without a principal');
  const { subject, issuer, roles, partnerId, expiresAt } = principal;
  return { body: { subject, issuer, roles: [...roles], partnerId, expiresAt } };
});
