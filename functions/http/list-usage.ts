/** GET /v1/usage — one contract's hour lines in [from, to): received, reported, the answer. */
import { usageStatus } from '../../lib/app/metering';
import { httpHandler } from '../../lib/http/handler';
import { listUsageRoute } from '../../lib/http/usage-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listUsageRoute, getContainer, async ({ query }) => {
  const deps = getContainer();
  const page = await usageStatus(deps, {
    contractId: query.contractId,
    from: query.from,
    to: query.to,
    limit: query.limit,
    cursor: query.cursor,
  });
  return { body: { items: page.items, nextCursor: page.cursor } };
});
