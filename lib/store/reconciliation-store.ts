/**
 * Reconciliations in the single table (port in lib/app/reconciliation.ts).
 *
 * Record:    pk RECON#<id> · sk HEAD                      (what is listed: counts, no lists)
 * Document:  pk RECON#<id> · sk PART#<digest>#<n>          (result + actions, gzipped, in parts)
 * Approval:  pk RECON#<id> · sk APPROVAL#<trueUpId>        (finance's decision, written once)
 * Listing:   gsi1pk RECONS · gsi1sk <ranAt>#<id>          (latest first)
 *
 * A document can hold a million matched lines; it is stored compressed, split into parts far
 * below DynamoDB's 400 KB item limit, under the digest of its content: the parts are written
 * first and the record names the digest last, so a reader never sees a record pointing at parts
 * that are not all there. Approvals live apart, so running the same file again (which replaces
 * the record and document) never undoes one. Each list is kept to its first
 * RECONCILIATION_LIST_STORED_MAX items (the summary's counts stay exact).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Page, PageRequest } from '../app/ports';
import type {
  ReconciliationDocument,
  ReconciliationRecord,
  ReconciliationStore,
  TrueUpApproval,
} from '../app/reconciliation';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { decodeExact, encodeExact } from './ledger-items';
import { ITEM_ABSENT } from './transaction';

/** Characters of base64 per part (~300 KB: below the 400 KB item limit with its keys). */
export const RECONCILIATION_PART_CHARS = 300_000;
/** Parts one result may take (~150 MB of base64, gzipped JSON). */
export const RECONCILIATION_PARTS_MAX = 500;
/** Items of each list kept in a stored result (the summary's counts are always exact). */
export const RECONCILIATION_LIST_STORED_MAX = 100_000;
export const RECONCILIATION_LIST_PAGE_MAX = 100;
/** Records read per page when the parts are loaded. */
const PARTS_PAGE = 25;
/** Approvals read per page (a document holds at most 10,000 true-ups). */
const APPROVALS_PAGE = 500;

const LIST_PARTITION = 'RECONS';
const LABEL = {
  record: 'reconciliation',
  part: 'reconciliation-part',
  approval: 'reconciliation-approval',
} as const;

const recordKey = (id: string) => ({ pk: `RECON#${id}`, sk: 'HEAD' });

interface StoredHead {
  readonly record: ReconciliationRecord;
  readonly digest: string;
  readonly parts: number;
}

const cap = <T>(items: readonly T[]): T[] => items.slice(0, RECONCILIATION_LIST_STORED_MAX);

/** The document with each list kept to its stored maximum. */
function capped(document: ReconciliationDocument): ReconciliationDocument {
  const { result } = document;
  return {
    ...document,
    result: {
      ...result,
      matched: cap(result.matched),
      withinTolerance: cap(result.withinTolerance),
      exceptions: cap(result.exceptions),
      rowErrors: cap(result.rowErrors),
      aging: { ...result.aging, items: cap(result.aging.items) },
      disbursementCandidates: cap(result.disbursementCandidates),
    },
  };
}

export class ReconciliationTooLargeError extends Error {
  readonly code = 'reconciliation_too_large';
}

export class DynamoReconciliationStore implements ReconciliationStore {
  constructor(private readonly store: DynamoStore) {}

  async save(record: ReconciliationRecord, document: ReconciliationDocument): Promise<void> {
    const packed = gzipSync(Buffer.from(encodeExact(capped(document)), 'utf8')).toString('base64');
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
    await this.store.put(LABEL.record, {
      ...recordKey(record.reconciliationId),
      entity: 'Reconciliation',
      reconciliationId: record.reconciliationId,
      data: encodeExact(record),
      digest,
      parts,
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
    };
  }

  async record(id: string): Promise<ReconciliationRecord | null> {
    return (await this.head(id))?.record ?? null;
  }

  async document(id: string): Promise<ReconciliationDocument | null> {
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
    return decodeExact<ReconciliationDocument>(json);
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

  async approvals(id: string): Promise<TrueUpApproval[]> {
    const approvals: TrueUpApproval[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query({
        partitionKey: `RECON#${id}`,
        sortKeyBeginsWith: 'APPROVAL#',
        limit: APPROVALS_PAGE,
        cursor,
        consistent: true,
      });
      for (const item of page.items) approvals.push(decodeExact<TrueUpApproval>(String(item.data)));
      cursor = page.cursor ?? undefined;
    } while (cursor);
    return approvals;
  }

  async approve(id: string, approval: TrueUpApproval): Promise<boolean> {
    try {
      await this.store.put(
        LABEL.approval,
        {
          pk: `RECON#${id}`,
          sk: `APPROVAL#${approval.trueUpId}`,
          entity: 'ReconciliationApproval',
          data: encodeExact(approval),
        },
        ITEM_ABSENT,
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }
}
