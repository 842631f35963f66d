/** POST /v1/disbursements — a marketplace payout, posted against the contract's receivable. */
import { recordDisbursement } from '../../lib/app/revenue/finance-ops';
import { recordDisbursementRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(recordDisbursementRoute, getContainer, async ({ body }) => {
  const outcome = await recordDisbursement(getContainer(), body);
  return {
    body: { contractId: outcome.contractId, events: [...outcome.events], version: outcome.version },
  };
});
