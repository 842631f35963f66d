/**
 * The revenue ledger in the single table (keys in ledger-items.ts): immutable journal entries,
 * per-contract books (the optimistic lock of every posting) and schedule versions.
 */
import { LedgerConflictError } from '../app/errors';
import type {
  LedgerPosting,
  LedgerStore,
  Page,
  PageRequest,
  RevenueIssue,
  StoredSchedule,
} from '../app/ports';
import type { Period } from '../domain/calendar';
import type { JournalEntry } from '../domain/ledger';
import type { ContractBook } from '../domain/revenue/book';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import {
  addPosting,
  BOOKS_PARTITION,
  bookKey,
  decodeBook,
  decodeJournalEntry,
  decodeSchedule,
  REVENUE_ISSUES_PARTITION,
  revenueIssueKey,
  SCHEDULE_SK_PREFIX,
} from './ledger-items';
import { WriteTransaction } from './transaction';

/** Schedule versions read at once: one per contract change, far below this. */
export const SCHEDULE_VERSIONS_MAX = 500;

export class DynamoLedgerStore implements LedgerStore {
  constructor(private readonly store: DynamoStore) {}

  async book(contractId: string): Promise<ContractBook | null> {
    const item = await this.store.get(bookKey(contractId), { consistent: true });
    return item ? decodeBook(item) : null;
  }

  async latestSchedule(contractId: string): Promise<StoredSchedule | null> {
    const page = await this.store.query({
      partitionKey: `CT#${contractId}`,
      sortKeyBeginsWith: SCHEDULE_SK_PREFIX,
      ascending: false,
      limit: 1,
      consistent: true,
    });
    const item = page.items[0];
    return item ? decodeSchedule(item) : null;
  }

  async schedules(contractId: string): Promise<StoredSchedule[]> {
    const page = await this.store.query({
      partitionKey: `CT#${contractId}`,
      sortKeyBeginsWith: SCHEDULE_SK_PREFIX,
      limit: SCHEDULE_VERSIONS_MAX,
      consistent: true,
    });
    return page.items.map(decodeSchedule);
  }

  async entries(contractId: string, page: PageRequest): Promise<Page<JournalEntry>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: `JECT#${contractId}`,
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map(decodeJournalEntry), cursor: result.cursor };
  }

  async entriesOfPeriod(period: Period, page: PageRequest): Promise<Page<JournalEntry>> {
    const result = await this.store.query({
      index: 'gsi2',
      partitionKey: `JEP#${period}`,
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map(decodeJournalEntry), cursor: result.cursor };
  }

  async post(posting: LedgerPosting): Promise<void> {
    const tx = new WriteTransaction();
    addPosting(tx, posting);
    try {
      await this.store.commit(tx);
    } catch (error) {
      if (error instanceof ConditionFailedError) {
        throw new LedgerConflictError(`The book of ${posting.contractId} moved; recompute`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async revenueIssue(contractId: string): Promise<RevenueIssue | null> {
    const item = await this.store.get(revenueIssueKey(contractId));
    return item
      ? { code: String(item.code), message: String(item.message), at: String(item.at) }
      : null;
  }

  async issuesPage(page: PageRequest): Promise<Page<string>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: REVENUE_ISSUES_PARTITION,
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map((item) => String(item.gsi1sk)), cursor: result.cursor };
  }

  async booksPage(page: PageRequest): Promise<Page<string>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: BOOKS_PARTITION,
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map((item) => String(item.contractId)), cursor: result.cursor };
  }
}
