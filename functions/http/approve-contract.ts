/** POST /v1/contracts/{contractId}/approve — approve a held GCP entitlement or plan change. */
import { approveContractRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { decideGcpEntitlement } from '../../lib/marketplaces/gcp/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  approveContractRoute,
  getContainer,
  async ({ params, body, principal }) => {
    const result = await decideGcpEntitlement(getContainer(), {
      contractId: params.contractId,
      decision: 'approve',
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
