/** The health use case: the service is healthy only when its table answers. */
import type { Clock } from './ports';

/** A health probe slower than this counts as a failure. */
export const HEALTH_PROBE_TIMEOUT_MS = 2_000;

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly store: 'dynamodb-local' | 'dynamodb';
  readonly table: string;
  readonly version: string;
  readonly time: string;
}

export async function checkHealth(input: {
  probe: () => Promise<{ status: string }>;
  table: string;
  store: HealthReport['store'];
  version: string;
  clock: Clock;
  onFailure: (error: unknown) => void;
}): Promise<HealthReport> {
  let ok = false;
  try {
    const described = await Promise.race([
      input.probe(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error('health probe timed out')),
          HEALTH_PROBE_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
    ok = described.status === 'ACTIVE';
    if (!ok) input.onFailure(new Error(`table status ${described.status}`));
  } catch (error) {
    input.onFailure(error);
  }
  return {
    status: ok ? 'ok' : 'unavailable',
    store: input.store,
    table: input.table,
    version: input.version,
    time: input.clock.now(),
  };
}
