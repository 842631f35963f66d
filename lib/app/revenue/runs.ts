/**
 * The two scheduled revenue jobs (finance.md rules 1 and 2), shared by the Lambdas and the CLI.
 * The billing job posts each installment on its date as an InvoiceIssued contract event (its
 * entries ride the apply transaction) and each month's usage on the marketplace's invoice day.
 * The month-end recognition run posts, per contract and schedule version, one recognition entry
 * dated the period's last day, and accrues the month's accepted usage. Both are idempotent: every
 * entry id derives from what it posts, and each posting is guarded by the contract's book.
 */
import {
  type CalendarDate,
  compareDates,
  dateOfInstant,
  lastDayOfPeriod,
  type Period,
  periodOf,
} from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import { contractEventId } from '../../domain/events';
import type { JournalEntry } from '../../domain/ledger';
import { addRational, parseDecimal, type Rational } from '../../domain/money';
import { applyEntry, type ContractBook, emptyBook } from '../../domain/revenue/book';
import {
  installmentInvoiceId,
  recognitionPosting,
  remeasurementPosting,
  type UsageQuantity,
  usageAccrualPosting,
  usageInvoiceDate,
  usageInvoicePosting,
} from '../../domain/revenue/postings';
import { LedgerConflictError } from '../errors';
import type { Clock, ContractStore, LedgerStore, StoredSchedule } from '../ports';
import { appendContractEvents, type SyncDeps } from '../sync';
import { postingContext } from './revenue-hook';
import type { RevenueSettings } from './settings';

/** Books read per page, and the most contracts one run walks (a guard, far above need). */
export const RUN_PAGE_SIZE = 100;
export const RUN_CONTRACTS_MAX = 100_000;
/** Re-reads when another posting moved a book between our read and our write. */
export const POSTING_CONFLICT_RETRIES_MAX = 3;
/** Contract events scanned for a month's usage. */
export const USAGE_EVENTS_PAGE_SIZE = 200;
export const USAGE_EVENTS_MAX = 100_000;
/** Open revenue issues listed in one billing run's problems. */
export const ISSUES_REPORTED_MAX = 1_000;

export interface RevenueRunDeps extends SyncDeps {
  readonly ledger: LedgerStore;
  readonly revenue: RevenueSettings;
  readonly contracts: ContractStore;
  readonly clock: Clock;
}

export type RunProgress = (done: number, contractId: string) => void;

export interface RunSummary {
  contracts: number;
  entriesPosted: number;
  contractsChanged: string[];
  problems: { contractId: string; code: string; message: string }[];
}

/**
 * Open revenue issues (a marketplace fact the ledger could not account for: a refund with no FX
 * rate on record, terms that do not add up) are reported by every billing run until a later
 * change resolves them, so the scheduled job's summary keeps them in front of finance. Facts the
 * service makes itself never leave an issue: they fail whole and are retried (rule 2).
 */
async function reportRevenueIssues(deps: RevenueRunDeps, summary: RunSummary): Promise<void> {
  let cursor: string | undefined;
  let seen = 0;
  do {
    const page = await deps.ledger.issuesPage({ limit: RUN_PAGE_SIZE, cursor });
    for (const contractId of page.items) {
      seen += 1;
      if (seen > ISSUES_REPORTED_MAX) return;
      const issue = await deps.ledger.revenueIssue(contractId);
      if (issue) summary.problems.push({ contractId, code: issue.code, message: issue.message });
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
}

async function* allBooks(ledger: LedgerStore): AsyncGenerator<string> {
  let cursor: string | undefined;
  let seen = 0;
  do {
    const page = await ledger.booksPage({ limit: RUN_PAGE_SIZE, cursor });
    for (const contractId of page.items) {
      seen += 1;
      if (seen > RUN_CONTRACTS_MAX) return;
      yield contractId;
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
}

/** Posts what `compute` derives from the current book; recomputes if the book moved. */
async function postWithRetry(
  deps: RevenueRunDeps,
  contractId: string,
  compute: (book: ContractBook, schedule: StoredSchedule) => JournalEntry[],
): Promise<number> {
  for (let round = 0; round <= POSTING_CONFLICT_RETRIES_MAX; round += 1) {
    if (round > 0) await deps.revenue.prepare?.(); // the locks may have moved
    const [stored, schedule] = await Promise.all([
      deps.ledger.book(contractId),
      deps.ledger.latestSchedule(contractId),
    ]);
    if (!schedule) return 0;
    const entries = compute(stored ?? emptyBook(contractId), schedule);
    if (entries.length === 0) return 0;
    let book = stored ?? emptyBook(contractId);
    for (const entry of entries) book = applyEntry(book, entry);
    try {
      await deps.ledger.post({
        contractId,
        entries,
        book,
        expectedEntryCount: stored ? stored.entryCount : null,
        schedule: null,
        at: deps.clock.now(),
        poster: 'run',
      });
      return entries.length;
    } catch (error) {
      if (!(error instanceof LedgerConflictError) || round === POSTING_CONFLICT_RETRIES_MAX)
        throw error;
    }
  }
  return 0;
}

/** The month's accepted usage of a contract, per dimension, from its UsageRecorded events. */
export async function usageOfPeriod(
  contracts: ContractStore,
  contractId: string,
  period: Period,
): Promise<UsageQuantity[]> {
  const totals = new Map<string, Rational>();
  let cursor: string | undefined;
  let seen = 0;
  do {
    const page = await contracts.events(contractId, { limit: USAGE_EVENTS_PAGE_SIZE, cursor });
    for (const { event } of page.items) {
      seen += 1;
      if (event.type !== 'UsageRecorded') continue;
      if (periodOf(dateOfInstant(event.payload.usageStart)) !== period) continue;
      totals.set(
        event.payload.dimension,
        addRational(
          totals.get(event.payload.dimension) ?? { num: 0n, den: 1n },
          parseDecimal(event.payload.quantity),
        ),
      );
    }
    cursor = page.cursor ?? undefined;
  } while (cursor && seen < USAGE_EVENTS_MAX);
  return [...totals].map(([dimension, quantity]) => ({ dimension, quantity }));
}

function problemOf(contractId: string, error: unknown) {
  if (error instanceof InvalidInputError)
    return { contractId, code: error.code, message: error.message };
  throw error;
}

/**
 * Rule 1: the month-end run for `period`. Refuses a month that has not ended yet; rerunning a
 * period posts nothing new.
 */
export async function runRecognition(
  deps: RevenueRunDeps,
  period: Period,
  progress?: RunProgress,
): Promise<RunSummary> {
  const today = dateOfInstant(deps.clock.now());
  if (compareDates(lastDayOfPeriod(period), today) > 0) {
    throw new InvalidInputError(
      'period_not_over',
      `${period} has not ended yet (today is ${today}); the month-end run posts on ${lastDayOfPeriod(period)}`,
    );
  }
  await deps.revenue.prepare?.();
  const summary: RunSummary = {
    contracts: 0,
    entriesPosted: 0,
    contractsChanged: [],
    problems: [],
  };
  for await (const contractId of allBooks(deps.ledger)) {
    summary.contracts += 1;
    try {
      const usage = await usageOfPeriod(deps.contracts, contractId, period);
      const posted = await postWithRetry(deps, contractId, (book, stored) => {
        const ctx = postingContext(deps.revenue, stored.contract, 'run');
        const out: JournalEntry[] = [];
        let current = book;
        const recognition = stored.schedule.lines.length
          ? recognitionPosting(ctx, current, stored.schedule, period)
          : null;
        if (recognition) {
          out.push(recognition);
          current = applyEntry(current, recognition);
        }
        if (usage.length > 0) {
          const accrual = usageAccrualPosting(ctx, current, period, usage);
          if (accrual) {
            out.push(accrual);
            current = applyEntry(current, accrual);
          }
        }
        // Unrealized FX: receivables at the period-end rate (deferred revenue never).
        const fx = remeasurementPosting(ctx, current, period);
        if (fx) out.push(fx);
        return out;
      });
      summary.entriesPosted += posted;
      if (posted > 0) summary.contractsChanged.push(contractId);
    } catch (error) {
      summary.problems.push(problemOf(contractId, error));
    }
    progress?.(summary.contracts, contractId);
  }
  return summary;
}

/**
 * Rule 2: bills every installment due by `today` and not yet billed (an InvoiceIssued event on
 * the contract; the revenue hook posts its entries in the same commit), and posts the
 * marketplace's invoice of each month's usage once its invoice day has come.
 */
export async function runBilling(
  deps: RevenueRunDeps,
  today: CalendarDate,
  progress?: RunProgress,
): Promise<RunSummary & { invoices: number }> {
  await deps.revenue.prepare?.();
  const summary = {
    contracts: 0,
    entriesPosted: 0,
    invoices: 0,
    contractsChanged: [] as string[],
    problems: [] as RunSummary['problems'],
  };
  await reportRevenueIssues(deps, summary);
  for await (const contractId of allBooks(deps.ledger)) {
    summary.contracts += 1;
    try {
      const [book, stored] = await Promise.all([
        deps.ledger.book(contractId),
        deps.ledger.latestSchedule(contractId),
      ]);
      if (!stored) continue;
      const due = stored.contract.installments
        .map((installment, index) => ({
          installment,
          invoiceId: installmentInvoiceId(index, installment.date),
        }))
        .filter(
          ({ installment, invoiceId }) =>
            compareDates(installment.date, today) <= 0 &&
            !(book?.invoiceIds ?? []).includes(invoiceId),
        );
      if (due.length > 0) {
        const outcome = await appendContractEvents(deps, contractId, (snapshot) =>
          due.map(({ installment, invoiceId }) => ({
            schemaVersion: 1 as const,
            eventId: contractEventId(contractId, 'InvoiceIssued', invoiceId),
            contractId,
            marketplace: snapshot.marketplace,
            occurredAt: `${installment.date}T00:00:00Z`,
            effectiveAt: installment.date,
            sourceVersion: invoiceId,
            raw: null,
            type: 'InvoiceIssued' as const,
            payload: {
              invoiceId,
              currency: stored.contract.currency,
              amountMinor: installment.amountMinor,
              servicePeriod: null,
            },
          })),
        );
        summary.invoices += outcome.events.length;
        if (outcome.events.length > 0) summary.contractsChanged.push(contractId);
      }
      const usagePosted = await postWithRetry(deps, contractId, (current, schedule) => {
        const ctx = postingContext(deps.revenue, schedule.contract);
        const out: JournalEntry[] = [];
        let running = current;
        for (const period of Object.keys(current.usage).sort()) {
          if (compareDates(usageInvoiceDate(ctx.policies, period), today) > 0) continue;
          const entry = usageInvoicePosting(ctx, running, period);
          if (entry) {
            out.push(entry);
            running = applyEntry(running, entry);
          }
        }
        return out;
      });
      summary.entriesPosted += usagePosted;
      if (usagePosted > 0 && !summary.contractsChanged.includes(contractId))
        summary.contractsChanged.push(contractId);
    } catch (error) {
      summary.problems.push(problemOf(contractId, error));
    }
    progress?.(summary.contracts, contractId);
  }
  return summary;
}
