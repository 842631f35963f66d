/** POST /v1/reconciliations/{id}/true-ups/{trueUpId}/approve — post a proposed true-up. */
import { approveTrueUp } from '../../lib/app/reconciliation';
import { httpHandler } from '../../lib/http/handler';
import { approveTrueUpRoute } from '../../lib/http/reconciliation-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  approveTrueUpRoute,
  getContainer,
  async ({ params, principal }) => ({
    body: await approveTrueUp(getContainer(), {
      reconciliationId: params.reconciliationId,
      trueUpId: params.trueUpId,
      by: principal?.subject ?? 'unknown',
    }),
  }),
);
