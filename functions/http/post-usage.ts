/** POST /v1/usage — record a batch of usage; one outcome per record (200), 400 only for the envelope. */
import { recordUsage } from '../../lib/app/metering';
import { httpHandler } from '../../lib/http/handler';
import { postUsageRoute } from '../../lib/http/usage-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(postUsageRoute, getContainer, async ({ body, principal }) => {
  // The container carries usage, meteringGateways and meteringSettings (lib/runtime/container.ts).
  const deps = getContainer();
  const outcome = await recordUsage(deps, {
    records: body.records,
    by: `user:${principal?.subject ?? 'unknown'}`,
  });
  return { status: 200, body: outcome };
});
