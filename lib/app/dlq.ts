/** The dead-letter list: what could not be synced, why, and sending it round again. */
import { NotFoundError } from './errors';
import type { Clock, Page, PageRequest, SyncFailure, SyncFailureStore, SyncQueue } from './ports';

export function listDeadLetters(
  failures: SyncFailureStore,
  page: PageRequest,
): Promise<Page<SyncFailure>> {
  return failures.listDeadLettered(page);
}

/** Re-enqueues a dead-lettered raw envelope (the sync is idempotent, so this is always safe). */
export async function redrive(
  deps: {
    failures: SyncFailureStore;
    queue: SyncQueue & { forget?: (rawId: string) => void };
    clock: Clock;
  },
  rawId: string,
): Promise<SyncFailure> {
  const failure = await deps.failures.get(rawId);
  if (failure?.status !== 'dead-lettered')
    throw new NotFoundError(`No dead-lettered message for raw ${rawId}`);
  deps.queue.forget?.(rawId);
  await deps.queue.enqueue({ rawId, marketplace: failure.marketplace, groupKey: failure.groupKey });
  await deps.failures.markRedriven(rawId, deps.clock.now());
  return { ...failure, status: 'redriven' };
}
