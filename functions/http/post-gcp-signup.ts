/** POST /v1/marketplace/gcp/signup — the buyer's sign-up: verify, link, approve, resume. */
import { gcpSignupRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { signUpGcpAccount } from '../../lib/marketplaces/gcp/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(gcpSignupRoute, getContainer, async ({ body }) => {
  const result = await signUpGcpAccount(getContainer(), body['x-gcp-marketplace-token']);
  return {
    body: {
      providerId: result.providerId,
      accountId: result.accountId,
      approved: result.approved,
      rawId: result.ingest.rawId,
    },
  };
});
