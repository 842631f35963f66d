/**
 * Finance reports read from the stored ledger: the deferred-revenue and unbilled roll-forwards
 * (optionally by marketplace or product), the deferred-revenue waterfall, the trial balance at a
 * date and the journal export for an ERP. Entries are read period by period from the posting-
 * period index; a roll-forward's opening needs the ledger's whole history, which starts at the
 * earliest entry of any contract with a book (every entry is posted with its contract's book).
 */
import {
  type CalendarDate,
  isCalendarDate,
  type Period,
  periodOf,
  periodRange,
} from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import type { JournalEntry } from '../../domain/ledger';
import {
  journalCsv,
  REPORT_ENTRIES_MAX,
  type RollForwardAccount,
  type RollForwardReport,
  reportPeriods,
  rollForward,
  type TrialBalanceReport,
  trialBalance,
  type WaterfallReport,
  waterfall,
} from '../../domain/revenue/reports';
import { PayloadTooLargeError } from '../errors';
import type { ContractLookups, LedgerStore } from '../ports';

/** Entries asked for per page of a period. */
export const REPORT_PAGE_SIZE = 500;
/** Contracts with a book examined to find where the ledger starts (a guard, far above need). */
export const REPORT_CONTRACTS_MAX = 100_000;
/** Contracts looked at concurrently (ledger start, grouping). */
export const REPORT_READ_CONCURRENCY = 8;
/** Entries one journal export reads. */
export const JOURNAL_EXPORT_ENTRIES_MAX = 20_000;
/** A journal export's size: below a Lambda's 6 MB response payload. */
export const JOURNAL_EXPORT_BYTES_MAX = 5 * 1024 * 1024;

export type ReportGrouping = 'none' | 'marketplace' | 'product';

export interface ReportDeps {
  readonly ledger: LedgerStore;
  readonly contracts: Pick<ContractLookups, 'get'>;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The first posting period of the ledger (null when it is empty): the month of the earliest
 * dated entry of any contract with a book. A posting period is never before its entry's date.
 */
export async function ledgerStart(ledger: LedgerStore): Promise<Period | null> {
  const contractIds: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ledger.booksPage({ limit: REPORT_PAGE_SIZE, cursor });
    contractIds.push(...page.items);
    if (contractIds.length > REPORT_CONTRACTS_MAX) {
      throw new PayloadTooLargeError(
        `More than ${REPORT_CONTRACTS_MAX} contracts have a book; reports need period balances first`,
      );
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
  let earliest: CalendarDate | null = null;
  await eachConcurrently(contractIds, REPORT_READ_CONCURRENCY, async (contractId) => {
    const first = (await ledger.entries(contractId, { limit: 1 })).items[0];
    if (first && (earliest === null || first.date < earliest)) earliest = first.date;
  });
  return earliest === null ? null : periodOf(earliest);
}

/** Every entry posted in [from, to], period by period, refusing more than `max`. */
export async function entriesOfPeriods(
  ledger: LedgerStore,
  from: Period,
  to: Period,
  max: number = REPORT_ENTRIES_MAX,
): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  if (from > to) return out;
  for (const period of periodRange(from, to)) {
    let cursor: string | undefined;
    do {
      const page = await ledger.entriesOfPeriod(period, { limit: REPORT_PAGE_SIZE, cursor });
      out.push(...page.items);
      if (out.length > max) {
        throw new PayloadTooLargeError(
          `More than ${max} journal entries were posted from ${from} to ${to}; narrow the range`,
        );
      }
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }
  return out;
}

/** The ledger from its first period through `to` (what an opening balance needs). */
async function ledgerThrough(ledger: LedgerStore, to: Period): Promise<JournalEntry[]> {
  const start = await ledgerStart(ledger);
  return start === null ? [] : entriesOfPeriods(ledger, start, to);
}

/** contractId → group, reading each contract once. */
async function groupingOf(
  deps: ReportDeps,
  entries: readonly JournalEntry[],
  groupBy: ReportGrouping,
): Promise<((contractId: string | null) => string) | undefined> {
  if (groupBy === 'none') return undefined;
  const ids = new Set<string>();
  for (const entry of entries)
    for (const leg of entry.legs) if (leg.contractId !== null) ids.add(leg.contractId);
  const groups = new Map<string, string>();
  await eachConcurrently([...ids], REPORT_READ_CONCURRENCY, async (contractId) => {
    const snapshot = await deps.contracts.get(contractId);
    groups.set(
      contractId,
      snapshot === null
        ? 'unknown'
        : groupBy === 'marketplace'
          ? snapshot.marketplace
          : snapshot.terms.productId,
    );
  });
  return (contractId) => (contractId === null ? 'none' : (groups.get(contractId) ?? 'unknown'));
}

export interface RollForwardRequest {
  readonly from: Period;
  readonly to: Period;
  readonly account: RollForwardAccount;
  readonly groupBy: ReportGrouping;
}

export async function rollForwardReport(
  deps: ReportDeps,
  request: RollForwardRequest,
): Promise<RollForwardReport & { readonly groupBy: ReportGrouping }> {
  reportPeriods(request);
  const entries = await ledgerThrough(deps.ledger, request.to);
  const groupBy = await groupingOf(deps, entries, request.groupBy);
  const report = rollForward(entries, {
    from: request.from,
    to: request.to,
    account: request.account,
    ...(groupBy ? { groupBy } : {}),
  });
  return { ...report, groupBy: request.groupBy };
}

export async function waterfallReport(
  deps: Pick<ReportDeps, 'ledger'>,
  range: { readonly from: Period; readonly to: Period },
): Promise<WaterfallReport> {
  reportPeriods(range);
  return waterfall(await ledgerThrough(deps.ledger, range.to), range);
}

export async function trialBalanceReport(
  deps: Pick<ReportDeps, 'ledger'>,
  asOf: CalendarDate,
): Promise<TrialBalanceReport> {
  if (!isCalendarDate(asOf)) {
    throw new InvalidInputError('invalid_date', `Not a calendar date (YYYY-MM-DD): "${asOf}"`);
  }
  return trialBalance(await ledgerThrough(deps.ledger, periodOf(asOf)), asOf);
}

export interface JournalExport {
  readonly csv: string;
  readonly entries: number;
  readonly filename: string;
}

/** The journal of [from, to] as CSV for an ERP; refuses what a response cannot carry. */
export async function journalExport(
  deps: Pick<ReportDeps, 'ledger'>,
  range: { readonly from: Period; readonly to: Period },
): Promise<JournalExport> {
  reportPeriods(range);
  const entries = await entriesOfPeriods(
    deps.ledger,
    range.from,
    range.to,
    JOURNAL_EXPORT_ENTRIES_MAX,
  );
  const csv = journalCsv(entries);
  if (new TextEncoder().encode(csv).length > JOURNAL_EXPORT_BYTES_MAX) {
    throw new PayloadTooLargeError(
      `The journal from ${range.from} to ${range.to} exceeds ${JOURNAL_EXPORT_BYTES_MAX} bytes as CSV; narrow the range`,
    );
  }
  return { csv, entries: entries.length, filename: `journal-${range.from}-${range.to}.csv` };
}
