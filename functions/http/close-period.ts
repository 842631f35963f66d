/** POST /v1/periods/{period}/close — moves the period locks, with an audit record. */
import { changePeriod } from '../../lib/app/revenue/finance-ops';
import { closePeriodRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  closePeriodRoute,
  getContainer,
  async ({ params, body, principal }) => ({
    body: await changePeriod(getContainer(), {
      action: 'close',
      period: params.period,
      by: `user:${principal?.subject ?? 'unknown'}`,
      reason: body.reason,
    }),
  }),
);
