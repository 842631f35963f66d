/**
 * Recovery sweep: raw envelopes stored but still unprocessed after a grace period are enqueued
 * again (the first enqueue may have failed after the store). The sync is idempotent, so a
 * duplicate enqueue costs a re-read and changes nothing.
 */
import { recoverPendingRaw } from '../../lib/app/recovery';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('recover-pending', async () => {
  const container = getContainer();
  const result = await recoverPendingRaw(container);
  if (result.enqueued > 0)
    container.logger.warn('re-enqueued pending raw envelopes', { ...result });
  return result;
});
