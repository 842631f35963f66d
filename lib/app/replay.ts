/**
 * `agora replay`: feed stored or exported marketplace payloads through the same path as live
 * deliveries, after authentication (an operator action). Idempotent: the raw id comes from the
 * provider's message id, and the sync only writes what differs — a second run changes nothing.
 */

import type { RawEnvelope } from '../domain/raw';
import { ingestNotification } from './ingest';
import type { MarketplaceAdapter, SyncMessage } from './ports';
import { type ContractOutcome, processSyncMessage, SYNC_ATTEMPTS_MAX, type SyncDeps } from './sync';

export interface ReplayItem {
  readonly name: string;
  readonly envelope: RawEnvelope;
}

export interface ReplayResult {
  readonly name: string;
  readonly rawId: string;
  readonly stored: 'stored' | 'duplicate';
  readonly status: 'done' | 'failed';
  readonly note: string;
  readonly contracts: readonly ContractOutcome[];
}

export async function replayItem(
  deps: SyncDeps & {
    adapters: Readonly<Partial<Record<RawEnvelope['marketplace'], MarketplaceAdapter>>>;
  },
  item: ReplayItem,
): Promise<ReplayResult> {
  const messages: SyncMessage[] = [];
  const ingested = await ingestNotification(
    {
      rawInbound: deps.rawInbound,
      adapters: deps.adapters,
      queue: { enqueue: async (message) => void messages.push(message) },
    },
    item.envelope,
  );
  const message = messages[0] ?? {
    rawId: ingested.rawId,
    marketplace: item.envelope.marketplace,
    groupKey: 'replay',
  };
  // One attempt: a replay reports failures to the operator (and dead-letters them) instead of waiting.
  const outcome = await processSyncMessage(deps, message, SYNC_ATTEMPTS_MAX);
  return {
    name: item.name,
    rawId: ingested.rawId,
    stored: ingested.outcome,
    status: outcome.status === 'done' ? 'done' : 'failed',
    note:
      outcome.status === 'done'
        ? outcome.note
        : `${outcome.failure.code}: ${outcome.failure.reason}`,
    contracts: outcome.status === 'done' ? outcome.contracts : [],
  };
}
