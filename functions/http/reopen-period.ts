/** POST /v1/periods/{period}/reopen — moves the period locks, with an audit record. */
import { changePeriod } from '../../lib/app/revenue/finance-ops';
import { reopenPeriodRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  reopenPeriodRoute,
  getContainer,
  async ({ params, body, principal }) => ({
    body: await changePeriod(getContainer(), {
      action: 'reopen',
      period: params.period,
      by: `user:${principal?.subject ?? 'unknown'}`,
      reason: body.reason,
    }),
  }),
);
