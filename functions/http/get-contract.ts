/** GET /v1/contracts/{contractId} — one contract's current snapshot. */
import { getContract } from '../../lib/app/contracts';
import { getContractRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(getContractRoute, getContainer, async ({ params }) => ({
  body: await getContract(getContainer().contracts, params.contractId),
}));
