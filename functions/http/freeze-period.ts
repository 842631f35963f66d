/** POST /v1/periods/{period}/freeze — moves the period locks, with an audit record. */
import { changePeriod } from '../../lib/app/revenue/finance-ops';
import { freezePeriodRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  freezePeriodRoute,
  getContainer,
  async ({ params, body, principal }) => ({
    body: await changePeriod(getContainer(), {
      action: 'freeze',
      period: params.period,
      by: `user:${principal?.subject ?? 'unknown'}`,
      reason: body.reason,
    }),
  }),
);
