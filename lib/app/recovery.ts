/** Re-enqueues raw envelopes stored but not processed (a failed enqueue must not lose them). */

import type { Marketplace } from '../domain/schemas/primitives';
import { groupKeyOf } from './ingest';
import type { Clock, MarketplaceAdapter, RawInboundStore, SyncQueue } from './ports';

/** Envelopes younger than this are probably still in flight. */
export const RECOVERY_GRACE_MS = 10 * 60_000;
export const RECOVERY_PAGES_MAX = 20;
const RECOVERY_PAGE_SIZE = 100;

export async function recoverPendingRaw(
  deps: {
    rawInbound: RawInboundStore;
    queue: SyncQueue;
    adapters: Readonly<Partial<Record<Marketplace, MarketplaceAdapter>>>;
    clock: Clock;
  },
  graceMs = RECOVERY_GRACE_MS,
): Promise<{ examined: number; enqueued: number }> {
  const cutoff = new Date(Date.parse(deps.clock.now()) - graceMs).toISOString();
  let examined = 0;
  let enqueued = 0;
  let cursor: string | undefined;
  for (let page = 0; page < RECOVERY_PAGES_MAX; page += 1) {
    const result = await deps.rawInbound.listPending({ limit: RECOVERY_PAGE_SIZE, cursor });
    for (const raw of result.items) {
      examined += 1;
      if (raw.receivedAt > cutoff) return { examined, enqueued };
      const { groupKey } = groupKeyOf(deps.adapters[raw.marketplace], raw);
      await deps.queue.enqueue({ rawId: raw.rawId, marketplace: raw.marketplace, groupKey });
      enqueued += 1;
    }
    if (!result.cursor) break;
    cursor = result.cursor;
  }
  return { examined, enqueued };
}
