/** GET /v1/periods — period locks and their audit trail. */
import { listPeriodsRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listPeriodsRoute, getContainer, async ({ query }) => {
  const { periods } = getContainer();
  const [locks, audit] = await Promise.all([
    periods.locks(),
    periods.audit({ limit: query.limit, cursor: query.cursor }),
  ]);
  return {
    body: {
      locks: { closedThrough: locks.closedThrough, frozenThrough: locks.frozenThrough },
      audit: audit.items,
      nextCursor: audit.cursor,
    },
  };
});
