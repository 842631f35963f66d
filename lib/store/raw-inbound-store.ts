/**
 * Append-only store of raw inbound payloads. Keyed by the deterministic raw id (marketplace +
 * provider message id) with a conditional put, so a redelivery never overwrites the first copy;
 * indexed by marketplace and UTC day (gsi1) for replay.
 *
 * Item: pk RAW#<rawId> · sk RAW · gsi1pk RAWDAY#<marketplace>#<YYYY-MM-DD> · gsi1sk <receivedAt>#<rawId>
 *       gsi2pk RAWPENDING · gsi2sk <receivedAt>#<rawId> — only until processed (a sparse index of
 *       work not yet done, which recovery sweeps re-enqueue).
 */
import type {
  Page,
  PageRequest,
  RawInboundStore,
  SaveRawResult,
  StoredRawEnvelope,
} from '../app/ports';
import { sha256Hex } from '../domain/ids';
import { type RawEnvelope, RawEnvelopeSchema, rawIdFor } from '../domain/raw';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { ITEM_ABSENT } from './transaction';

const ENTITY = 'RawInbound';
const PENDING_PARTITION = 'RAWPENDING';

function keyOf(rawId: string) {
  return { pk: `RAW#${rawId}`, sk: 'RAW' };
}

export class DynamoRawInboundStore implements RawInboundStore {
  constructor(private readonly store: DynamoStore) {}

  async save(envelope: RawEnvelope): Promise<SaveRawResult> {
    const valid = RawEnvelopeSchema.parse(envelope);
    const rawId = rawIdFor(valid.marketplace, valid.providerMessageId);
    const bodySha256 = sha256Hex(valid.body);
    try {
      await this.store.put(
        'raw-inbound',
        {
          ...keyOf(rawId),
          entity: ENTITY,
          rawId,
          ...valid,
          bodySha256,
          gsi1pk: `RAWDAY#${valid.marketplace}#${valid.receivedAt.slice(0, 10)}`,
          gsi1sk: `${valid.receivedAt}#${rawId}`,
          gsi2pk: PENDING_PARTITION,
          gsi2sk: `${valid.receivedAt}#${rawId}`,
        },
        ITEM_ABSENT,
      );
      return { outcome: 'stored', rawId };
    } catch (error) {
      const existing =
        error instanceof ConditionFailedError ? error.failedOn('raw-inbound') : undefined;
      if (!existing) throw error;
      // A redelivery: report it; the first copy stays exactly as received.
      const first = existing.item ?? (await this.store.get(keyOf(rawId)));
      return {
        outcome: 'duplicate',
        rawId,
        samePayload: first?.bodySha256 === bodySha256,
        firstReceivedAt: String(first?.receivedAt ?? ''),
      };
    }
  }

  async get(rawId: string): Promise<StoredRawEnvelope | null> {
    const item = await this.store.get(keyOf(rawId));
    return item ? toEnvelope(item) : null;
  }

  async markProcessed(rawId: string, outcome: string, at: string): Promise<void> {
    await this.store.update(
      'raw-processed',
      keyOf(rawId),
      {
        expression: 'SET processedAt = :at, outcome = :outcome REMOVE gsi2pk, gsi2sk',
        values: { ':at': at, ':outcome': outcome },
      },
      { expression: 'attribute_exists(pk)' },
    );
  }

  async listPending(page: PageRequest): Promise<Page<StoredRawEnvelope>> {
    const result = await this.store.query({
      index: 'gsi2',
      partitionKey: PENDING_PARTITION,
      limit: page.limit,
      cursor: page.cursor,
      ascending: true,
    });
    return { items: result.items.map(toEnvelope), cursor: result.cursor };
  }

  async listByDay(
    marketplace: RawEnvelope['marketplace'],
    day: string,
    page: PageRequest,
  ): Promise<Page<StoredRawEnvelope>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: `RAWDAY#${marketplace}#${day}`,
      limit: page.limit,
      cursor: page.cursor,
      ascending: true,
    });
    return { items: result.items.map(toEnvelope), cursor: result.cursor };
  }
}

function toEnvelope(item: Record<string, unknown>): StoredRawEnvelope {
  const envelope = RawEnvelopeSchema.parse(item);
  return {
    ...envelope,
    rawId: String(item.rawId),
    bodySha256: String(item.bodySha256),
    processedAt: typeof item.processedAt === 'string' ? item.processedAt : null,
    outcome: typeof item.outcome === 'string' ? item.outcome : null,
  };
}
