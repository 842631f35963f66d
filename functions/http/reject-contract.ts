/** POST /v1/contracts/{contractId}/reject — reject a held GCP entitlement or plan change. */
import { rejectContractRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { decideGcpEntitlement } from '../../lib/marketplaces/gcp/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  rejectContractRoute,
  getContainer,
  async ({ params, body, principal }) => {
    const result = await decideGcpEntitlement(getContainer(), {
      contractId: params.contractId,
      decision: 'reject',
      reason: body.reason,
      by: `user:${principal?.subject ?? 'unknown'}`,
    });
    return {
      body: {
        contractId: params.contractId,
        entitlementId: result.entitlementId,
        action: result.action,
        rawId: result.ingest.rawId,
      },
    };
  },
);
