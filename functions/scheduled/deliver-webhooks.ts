/**
 * Works off due provisioning webhooks. Triggered by the table's stream when a delivery is
 * written (first attempt within seconds) and every minute by a schedule (retries with backoff).
 */
import { deliverDueWebhooks } from '../../lib/app/webhooks';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('deliver-webhooks', async () => {
  const container = getContainer();
  const result = await deliverDueWebhooks({
    webhooks: container.webhooks,
    sender: container.webhookSender,
    clock: container.clock,
  });
  if (result.attempted > 0) container.logger.info('webhook sweep', { ...result });
  return result;
});
