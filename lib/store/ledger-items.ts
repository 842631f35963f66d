/**
 * DynamoDB items of the revenue ledger, shared by the contract store (which writes them inside
 * the apply transaction) and the ledger store (runs and reads).
 *
 * Journal entry: pk JE#<entryId> · sk JE · gsi1pk JECT#<contractId> · gsi1sk <date>#<entryId>
 *                · gsi2pk JEP#<postingPeriod> · gsi2sk <date>#<entryId>     (immutable)
 * Book:          pk CT#<contractId> · sk BOOK · entryCount (optimistic lock) · gsi1pk BOOKS
 *                · gsi1sk <contractId>                                   (a cache of the entries)
 * Schedule:      pk CT#<contractId> · sk REVSCHED#<000001>                (immutable versions)
 */
import { z } from 'zod';
import type { LedgerPosting, StoredSchedule } from '../app/ports';
import { type JournalEntry, JournalEntrySchema } from '../domain/ledger';
import type { ContractBook } from '../domain/revenue/book';
import { PERIOD_LOCKS_KEY, periodOpenCondition } from './period-store';
import { ITEM_ABSENT, type Item, type WriteTransaction } from './transaction';

export const BOOKS_PARTITION = 'BOOKS';
/** Contracts whose revenue could not be computed (a sparse gsi1 partition the daily job retries). */
export const REVENUE_ISSUES_PARTITION = 'REVISSUES';

export function revenueIssueKey(contractId: string) {
  return { pk: `CT#${contractId}`, sk: 'REVISSUE' } as const;
}
const SCHEDULE_DIGITS = 6;

/** JSON that keeps bigints exact: {"#bigint":"123"} in the text, 123n in memory. */
export function encodeExact(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    typeof inner === 'bigint' ? { '#bigint': inner.toString() } : inner,
  );
}

export function decodeExact<T>(text: string): T {
  return JSON.parse(text, (_key, inner) => {
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
      const keys = Object.keys(inner);
      if (keys.length === 1 && keys[0] === '#bigint')
        return BigInt((inner as Record<string, string>)['#bigint'] ?? '0');
    }
    return inner;
  }) as T;
}

export const journalEntryKey = (entryId: string) => ({ pk: `JE#${entryId}`, sk: 'JE' });
export const bookKey = (contractId: string) => ({ pk: `CT#${contractId}`, sk: 'BOOK' });
export const scheduleKey = (contractId: string, version: number) => ({
  pk: `CT#${contractId}`,
  sk: `REVSCHED#${String(version).padStart(SCHEDULE_DIGITS, '0')}`,
});
export const SCHEDULE_SK_PREFIX = 'REVSCHED#';

/** The contract an entry belongs to (every leg of a revenue entry names the same one). */
export function entryContractId(entry: JournalEntry): string {
  return entry.legs.find((leg) => leg.contractId !== null)?.contractId ?? 'none';
}

export function journalEntryItem(entry: JournalEntry): Item {
  const contractId = entryContractId(entry);
  return {
    ...journalEntryKey(entry.entryId),
    entity: 'JournalEntry',
    entryId: entry.entryId,
    contractId,
    date: entry.date,
    postingPeriod: entry.postingPeriod,
    rule: entry.rule,
    data: JSON.stringify(z.encode(JournalEntrySchema, entry)),
    gsi1pk: `JECT#${contractId}`,
    gsi1sk: `${entry.date}#${entry.entryId}`,
    gsi2pk: `JEP#${entry.postingPeriod}`,
    gsi2sk: `${entry.date}#${entry.entryId}`,
  };
}

export function decodeJournalEntry(item: Record<string, unknown>): JournalEntry {
  return JournalEntrySchema.parse(JSON.parse(String(item.data)));
}

export function bookItem(book: ContractBook, updatedAt: string): Item {
  return {
    ...bookKey(book.contractId),
    entity: 'ContractBook',
    contractId: book.contractId,
    entryCount: book.entryCount,
    updatedAt,
    data: encodeExact(book),
    gsi1pk: BOOKS_PARTITION,
    gsi1sk: book.contractId,
  };
}

export function decodeBook(item: Record<string, unknown>): ContractBook {
  return decodeExact<ContractBook>(String(item.data));
}

export function scheduleItem(stored: StoredSchedule): Item {
  return {
    ...scheduleKey(stored.schedule.contractId, stored.schedule.version),
    entity: 'RevenueSchedule',
    contractId: stored.schedule.contractId,
    version: stored.schedule.version,
    data: encodeExact(stored),
  };
}

export function decodeSchedule(item: Record<string, unknown>): StoredSchedule {
  return decodeExact<StoredSchedule>(String(item.data));
}

/** Adds a posting's writes to a transaction (labels map condition failures to a conflict). */
export function addPosting(tx: WriteTransaction, posting: LedgerPosting): void {
  for (const entry of posting.entries)
    tx.put('journal-entry', journalEntryItem(entry), ITEM_ABSENT);
  tx.put(
    'contract-book',
    bookItem(posting.book, posting.at),
    posting.expectedEntryCount === null
      ? ITEM_ABSENT
      : {
          expression: 'entryCount = :expected',
          values: { ':expected': posting.expectedEntryCount },
        },
  );
  if (posting.schedule) {
    tx.put('revenue-schedule', scheduleItem(posting.schedule), ITEM_ABSENT);
    // A schedule computed means whatever stopped the contract's revenue before is resolved.
    tx.delete('revenue-issue', revenueIssueKey(posting.contractId));
  }
  // Nothing lands in a locked month, even if the locks moved after the poster read them. Locks
  // are frontiers (closed/frozen through a month), so the earliest month open means every later
  // one is: one check — DynamoDB allows one action per item in a transaction.
  const [earliest] = [...new Set(posting.entries.map((e) => e.postingPeriod))].sort();
  if (earliest !== undefined)
    tx.check(
      'period-lock',
      PERIOD_LOCKS_KEY,
      periodOpenCondition(earliest, posting.poster ?? 'pipeline'),
    );
}
