/**
 * Reconciliations in the single table (port in lib/app/reconciliation.ts).
 *
 * Record:   pk RECON#<id> · sk HEAD                  (what is listed; true-ups; version)
 * Result:   pk RECON#<id> · sk PART#<digest>#<n>      (the result, gzipped, in parts)
 * Listing:  gsi1pk RECONS · gsi1sk <ranAt>#<id>      (latest first)
 *
 * A result can hold a million matched lines; it is stored compressed, split into parts far below
 * DynamoDB's 400 KB item limit, under the digest of its content: the parts are written first
 * and the record names the digest last, so a reader never sees a record pointing at parts that
 * are not all there, and running the same file again replaces the record atomically.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Page, PageRequest } from '../app/ports';
import type {
  ReconciliationRecord,
  ReconciliationStore,
  TrueUpRecord,
  TrueUpStatus,
} from '../app/reconciliation';
import type { ReconciliationResult } from '../domain/reconciliation/results';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { decodeExact, encodeExact } from './ledger-items';

/** Characters of base64 per part (~300 KB: below the 400 KB item limit with its keys). */
export const RECONCILIATION_PART_CHARS = 300_000;
/** Parts one result may take (~150 MB of base64, gzipped JSON). */
export const RECONCILIATION_PARTS_MAX = 500;
/** Matched lines kept in a stored result (their count is always exact). */
export const RECONCILIATION_MATCHED_STORED_MAX = 100_000;
export const RECONCILIATION_LIST_PAGE_MAX = 100;
/** Records read per page when the parts are loaded. */
const PARTS_PAGE = 25;

const LIST_PARTITION = 'RECONS';
const LABEL = { record: 'reconciliation', part: 'reconciliation-part' } as const;

const recordKey = (id: string) => ({ pk: `RECON#${id}`, sk: 'HEAD' });

interface StoredHead {
  readonly record: ReconciliationRecord;
  readonly digest: string;
  readonly parts: number;
  readonly version: number;
}

export class ReconciliationTooLargeError extends Error {
  readonly code = 'reconciliation_too_large';
}

export class DynamoReconciliationStore implements ReconciliationStore {
  constructor(private readonly store: DynamoStore) {}

  async save(record: ReconciliationRecord, result: ReconciliationResult): Promise<void> {
    const kept =
      result.matched.length > RECONCILIATION_MATCHED_STORED_MAX
        ? { ...result, matched: result.matched.slice(0, RECONCILIATION_MATCHED_STORED_MAX) }
        : result;
    const packed = gzipSync(Buffer.from(encodeExact(kept), 'utf8')).toString('base64');
    const digest = createHash('sha256').update(packed).digest('hex').slice(0, 32);
    const parts = Math.max(1, Math.ceil(packed.length / RECONCILIATION_PART_CHARS));
    if (parts > RECONCILIATION_PARTS_MAX) {
      throw new ReconciliationTooLargeError(
        `The result of ${record.reconciliationId} needs ${parts} parts (at most ${RECONCILIATION_PARTS_MAX})`,
      );
    }
    for (let n = 0; n < parts; n += 1) {
      await this.store.put(LABEL.part, {
        pk: `RECON#${record.reconciliationId}`,
        sk: `PART#${digest}#${String(n).padStart(4, '0')}`,
        entity: 'ReconciliationPart',
        data: packed.slice(n * RECONCILIATION_PART_CHARS, (n + 1) * RECONCILIATION_PART_CHARS),
      });
    }
    const previous = await this.head(record.reconciliationId);
    await this.store.put(LABEL.record, {
      ...recordKey(record.reconciliationId),
      entity: 'Reconciliation',
      reconciliationId: record.reconciliationId,
      data: encodeExact(record),
      digest,
      parts,
      version: (previous?.version ?? 0) + 1,
      gsi1pk: LIST_PARTITION,
      gsi1sk: `${record.ranAt}#${record.reconciliationId}`,
    });
  }

  private async head(id: string): Promise<StoredHead | null> {
    const item = await this.store.get(recordKey(id), { consistent: true });
    if (!item) return null;
    return {
      record: decodeExact<ReconciliationRecord>(String(item.data)),
      digest: String(item.digest),
      parts: Number(item.parts),
      version: Number(item.version),
    };
  }

  async record(id: string): Promise<ReconciliationRecord | null> {
    return (await this.head(id))?.record ?? null;
  }

  async result(id: string): Promise<ReconciliationResult | null> {
    const head = await this.head(id);
    if (!head) return null;
    const chunks: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query({
        partitionKey: `RECON#${id}`,
        sortKeyBeginsWith: `PART#${head.digest}#`,
        limit: PARTS_PAGE,
        cursor,
        consistent: true,
      });
      for (const item of page.items) chunks.push(String(item.data));
      cursor = page.cursor ?? undefined;
    } while (cursor && chunks.length < head.parts);
    if (chunks.length !== head.parts) {
      throw new Error(`Reconciliation ${id}: ${chunks.length} of ${head.parts} parts found`);
    }
    const json = gunzipSync(Buffer.from(chunks.join(''), 'base64')).toString('utf8');
    return decodeExact<ReconciliationResult>(json);
  }

  async list(page: PageRequest): Promise<Page<ReconciliationRecord>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: LIST_PARTITION,
      limit: Math.min(Math.max(1, page.limit), RECONCILIATION_LIST_PAGE_MAX),
      cursor: page.cursor,
      ascending: false,
    });
    return {
      items: result.items.map((item) => decodeExact<ReconciliationRecord>(String(item.data))),
      cursor: result.cursor,
    };
  }

  async updateTrueUp(id: string, next: TrueUpRecord, expected: TrueUpStatus): Promise<boolean> {
    const head = await this.head(id);
    const current = head?.record.trueUps.find((t) => t.index === next.index);
    if (!head || current?.status !== expected) return false;
    const record: ReconciliationRecord = {
      ...head.record,
      trueUps: head.record.trueUps.map((t) => (t.index === next.index ? next : t)),
    };
    try {
      await this.store.update(
        LABEL.record,
        recordKey(id),
        {
          expression: 'SET #data = :data, #version = :next',
          names: { '#data': 'data', '#version': 'version' },
          values: { ':data': encodeExact(record), ':next': head.version + 1 },
        },
        {
          expression: '#version = :version',
          names: { '#version': 'version' },
          values: { ':version': head.version },
        },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }
}
