/**
 * Ingest: the first thing every authenticated marketplace notification meets. The raw payload
 * is stored (idempotently, by provider message id) before anything is acknowledged, then a sync
 * is enqueued. A redelivery of something already processed changes nothing; a redelivery of
 * something stored but not yet processed is enqueued again (the first enqueue may have failed).
 */
import type { RawEnvelope } from '../domain/raw';
import type { MarketplaceAdapter, RawInboundStore, StoredRawEnvelope, SyncQueue } from './ports';

export interface IngestDeps {
  readonly rawInbound: RawInboundStore;
  readonly queue: SyncQueue;
  readonly adapters: Readonly<Partial<Record<RawEnvelope['marketplace'], MarketplaceAdapter>>>;
}

export interface IngestResult {
  readonly rawId: string;
  readonly outcome: 'stored' | 'duplicate';
  readonly enqueued: boolean;
  /** What the adapter made of it: 'triggers', 'ignored' or 'invalid' (still stored). */
  readonly understood: 'triggers' | 'ignored' | 'invalid';
}

/** The FIFO group of a raw envelope: its adapter's buyer-level key, or a per-marketplace fallback. */
export function groupKeyOf(
  adapter: MarketplaceAdapter | undefined,
  raw: StoredRawEnvelope,
): { groupKey: string; understood: IngestResult['understood'] } {
  if (!adapter) return { groupKey: `${raw.marketplace}#unrouted`, understood: 'invalid' };
  const parsed = adapter.parse(raw);
  return { groupKey: parsed.groupKey, understood: parsed.kind };
}

export async function ingestNotification(
  deps: IngestDeps,
  envelope: RawEnvelope,
): Promise<IngestResult> {
  const saved = await deps.rawInbound.save(envelope);
  const stored = await deps.rawInbound.get(saved.rawId);
  if (!stored) throw new Error(`raw envelope ${saved.rawId} vanished right after it was stored`);
  const { groupKey, understood } = groupKeyOf(deps.adapters[envelope.marketplace], stored);
  if (saved.outcome === 'duplicate' && stored.processedAt !== null) {
    return { rawId: saved.rawId, outcome: 'duplicate', enqueued: false, understood };
  }
  await deps.queue.enqueue({ rawId: saved.rawId, marketplace: envelope.marketplace, groupKey });
  return { rawId: saved.rawId, outcome: saved.outcome, enqueued: true, understood };
}
