/**
 * Reconciliation of a marketplace report against the ledger (issue 14): the report streams into
 * the matcher (lib/domain/reconciliation), the ledger side is read contract by contract, and
 * then what the result asks for is done — each payout the report shows and the ledger lacks is
 * recorded as a DisbursementReceived event (once: the event id is the payout's), each
 * within-tolerance difference is posted as a true-up in the first open period, or proposed for
 * finance to approve — and the result is stored under an id derived from the source, the as-of
 * date and the file's SHA-256, so running the same file again replaces its result and doubles
 * nothing.
 */
import { createHash } from 'node:crypto';
import { type CalendarDate, calendarDate } from '../domain/calendar';
import type { ContractSnapshot } from '../domain/contract';
import { AgoraError, InvalidInputError } from '../domain/errors';
import type { JournalEntry } from '../domain/ledger';
import type { BankLine } from '../domain/reconciliation/bank-statement';
import type { ToleranceInput, ToleranceKind } from '../domain/reconciliation/config';
import {
  type ContractRef,
  createExpectedBuilder,
  EXPECTED_CONTRACTS_MAX,
} from '../domain/reconciliation/expected';
import { createStatementReconciler, type StatementSide } from '../domain/reconciliation/reconciler';
import type { ReconciliationResult } from '../domain/reconciliation/results';
import type { RowError } from '../domain/reconciliation/statement';
import { trueUpEntry } from '../domain/reconciliation/true-up';
import { postingPeriodOf } from '../domain/revenue/periods';
import type { Marketplace } from '../domain/schemas/primitives';
import { ConflictError, NotFoundError } from './errors';
import type { Clock, ContractStore, LedgerStore, Page, PageRequest, PeriodStore } from './ports';
import { type DisbursementInput, recordDisbursement } from './revenue/finance-ops';
import type { RevenueSettings } from './revenue/settings';
import type { SyncDeps } from './sync';

export const RECONCILIATION_SOURCES = [
  'aws-billing-events',
  'azure-earnings',
  'gcp-disbursements',
] as const;
export type ReconciliationSource = (typeof RECONCILIATION_SOURCES)[number];

export const MARKETPLACE_OF_SOURCE: Readonly<Record<ReconciliationSource, Marketplace>> = {
  'aws-billing-events': 'aws',
  'azure-earnings': 'azure',
  'gcp-disbursements': 'gcp',
};

/** Pages read from the stores, and the bounds of one run. */
export const RECONCILIATION_CONTRACTS_PAGE_SIZE = 100;
export const RECONCILIATION_ENTRIES_PAGE_SIZE = 500;
/** Payouts and true-ups one run acts on; beyond them the result says what was left. */
export const RECONCILIATION_DISBURSEMENTS_MAX = 10_000;
export const RECONCILIATION_TRUE_UPS_MAX = 10_000;
/** Records between two progress reports. */
export const RECONCILIATION_PROGRESS_EVERY_ROWS = 50_000;

/** Snapshot refs that name a contract in the marketplaces' reports. */
const CONTRACT_KEY_REFS = [
  'agreementId',
  'previousAgreementId',
  'subscriptionId',
  'entitlementId',
  'accountId',
  'scenarioContractId',
] as const;

/** How a report names a stored contract: its agreement/subscription/entitlement ids. */
export function contractRefOf(snapshot: ContractSnapshot): ContractRef {
  const keys = new Set<string>();
  for (const name of CONTRACT_KEY_REFS) {
    const value = snapshot.refs[name];
    if (value) keys.add(value);
  }
  // The external id's last segment: the Azure subscription or Google entitlement id itself.
  const bare = snapshot.externalId.split('/').pop();
  if (bare) keys.add(bare);
  // Google's reports name a private-offer purchase by its offer (one buyer's offer, so unique).
  const offer = snapshot.marketplace === 'gcp' ? snapshot.terms.offerId?.split('/').pop() : null;
  if (offer) keys.add(offer);
  return { contractId: snapshot.contractId, marketplace: snapshot.marketplace, keys: [...keys] };
}

/** Where the parsed report goes (the matcher's statement side). */
export type ReportSink = Pick<StatementSide, 'add' | 'addRaw' | 'addRowErrors'>;

/** Readers of the report kinds (lib/marketplaces): they throw WrongFileKindError at the header. */
export interface ReportReaders {
  readonly statement: Readonly<
    Record<
      ReconciliationSource,
      (bytes: AsyncIterable<Uint8Array>, sink: ReportSink) => Promise<{ rows: number }>
    >
  >;
  bank(bytes: AsyncIterable<Uint8Array>): Promise<{ lines: BankLine[]; rowErrors: RowError[] }>;
}

export interface ReportFile {
  /** The file's name or object key (shown in the result). */
  readonly name: string;
  /** Size in bytes when known (progress in percent). */
  readonly sizeBytes: number | null;
  /** Opens the file; called once per run. */
  open(): AsyncIterable<Uint8Array>;
}

export type TrueUpStatus = 'posted' | 'proposed' | 'approved' | 'failed';

export interface TrueUpRecord {
  readonly index: number;
  readonly contractId: string | null;
  readonly internalId: string | null;
  readonly entryId: string;
  readonly status: TrueUpStatus;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly debitAccount: string;
  readonly creditAccount: string;
  readonly period: string;
  readonly problem: string | null;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
}

export interface DisbursementOutcome {
  readonly disbursementId: string;
  readonly contractId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly outcome: 'recorded' | 'already_recorded' | 'failed' | 'not_attempted';
  readonly problem: string | null;
}

/** What is stored and listed about one reconciliation (the result itself is stored apart). */
export interface ReconciliationRecord {
  readonly reconciliationId: string;
  readonly source: ReconciliationSource;
  readonly marketplace: Marketplace;
  readonly asOf: CalendarDate;
  readonly fileName: string;
  readonly fileSha256: string;
  readonly bankFileName: string | null;
  readonly rows: number;
  readonly ranAt: string;
  readonly ranBy: string;
  readonly matched: number;
  readonly withinTolerance: number;
  readonly exceptions: number;
  readonly rowErrors: number;
  readonly disbursements: DisbursementOutcome[];
  readonly trueUps: TrueUpRecord[];
}

export interface ReconciliationStore {
  /** Stores (or replaces, for the same id) the record and its result. */
  save(record: ReconciliationRecord, result: ReconciliationResult): Promise<void>;
  record(reconciliationId: string): Promise<ReconciliationRecord | null>;
  result(reconciliationId: string): Promise<ReconciliationResult | null>;
  /** Latest run first. */
  list(page: PageRequest): Promise<Page<ReconciliationRecord>>;
  /** Replaces one true-up if its status is still `expected`; false when it moved. */
  updateTrueUp(
    reconciliationId: string,
    next: TrueUpRecord,
    expected: TrueUpStatus,
  ): Promise<boolean>;
}

/** Posts journal entries outside a contract's book (idempotent by entry id, period-locked). */
export interface JournalPoster {
  postEntries(entries: readonly JournalEntry[], poster: 'pipeline' | 'run'): Promise<string[]>;
}

export interface ReconciliationSettings {
  readonly trueUpMode: 'post' | 'propose';
  readonly tolerances?: Partial<Record<ToleranceKind, ToleranceInput>>;
  readonly paymentTermsDays?: number;
}

export type ReconciliationDeps = SyncDeps & {
  readonly contracts: ContractStore;
  readonly ledger: LedgerStore;
  readonly periods: PeriodStore;
  readonly revenue: RevenueSettings;
  readonly clock: Clock;
  readonly reconciliations: ReconciliationStore;
  readonly journal: JournalPoster;
  readonly reportReaders: ReportReaders;
  readonly reconciliationSettings: ReconciliationSettings;
};

export interface ReconciliationProgress {
  readonly stage: 'report' | 'ledger' | 'actions';
  readonly rows: number;
  readonly bytes: number;
  readonly totalBytes: number | null;
  readonly contracts: number;
}

export interface ReconcileInput {
  readonly source: ReconciliationSource;
  readonly asOf: CalendarDate;
  readonly file: ReportFile;
  readonly bank?: ReportFile | null;
  readonly by: string;
  /** Overrides the setting for this run. */
  readonly trueUpMode?: 'post' | 'propose';
  /** Record the payouts found (default true; false: report only). */
  readonly recordDisbursements?: boolean;
  readonly onProgress?: (progress: ReconciliationProgress) => void;
}

export interface ReconcileOutcome {
  readonly record: ReconciliationRecord;
  readonly result: ReconciliationResult;
}

export function reconciliationIdOf(
  source: ReconciliationSource,
  asOf: CalendarDate,
  fileSha256: string,
): string {
  const digest = createHash('sha256').update(`${source}|${asOf}|${fileSha256}`).digest('hex');
  return `rec-${digest.slice(0, 24)}`;
}

/** The file's bytes, counted and hashed as they stream past. */
async function* measured(
  bytes: AsyncIterable<Uint8Array>,
  onBytes: (count: number) => void,
  hash: ReturnType<typeof createHash>,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of bytes) {
    hash.update(chunk);
    onBytes(chunk.byteLength);
    yield chunk;
  }
}

async function contractRefs(deps: ReconciliationDeps, marketplace: Marketplace) {
  const refs: ContractRef[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.contracts.list(
      { marketplace },
      { limit: RECONCILIATION_CONTRACTS_PAGE_SIZE, cursor },
    );
    for (const snapshot of page.items) refs.push(contractRefOf(snapshot));
    if (refs.length > EXPECTED_CONTRACTS_MAX) {
      throw new InvalidInputError(
        'too_many_contracts',
        `A reconciliation covers at most ${EXPECTED_CONTRACTS_MAX} contracts of a marketplace`,
      );
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return refs;
}

async function recordPayouts(
  deps: ReconciliationDeps,
  result: ReconciliationResult,
  enabled: boolean,
): Promise<DisbursementOutcome[]> {
  const outcomes: DisbursementOutcome[] = [];
  for (const [index, candidate] of result.disbursementCandidates.entries()) {
    const base = {
      disbursementId: candidate.disbursementId,
      contractId: candidate.contractId,
      amountMinor: candidate.amountMinor,
      currency: candidate.currency,
    };
    if (!enabled || index >= RECONCILIATION_DISBURSEMENTS_MAX) {
      outcomes.push({ ...base, outcome: 'not_attempted', problem: null });
      continue;
    }
    const input: DisbursementInput = {
      contractId: candidate.contractId,
      disbursementId: candidate.disbursementId,
      date: candidate.date,
      currency: candidate.currency,
      amountMinor: candidate.amountMinor,
      settlesCurrency: candidate.settlesCurrency,
      settlesMinor: candidate.settlesMinor,
      bankTraceId: candidate.bankTraceId,
    };
    try {
      const outcome = await recordDisbursement(deps, input);
      outcomes.push({
        ...base,
        outcome: outcome.rejected
          ? 'failed'
          : outcome.events.length > 0
            ? 'recorded'
            : 'already_recorded',
        problem: outcome.rejected,
      });
    } catch (error) {
      // A payout the ledger cannot take is reported, not fatal: the rest is still recorded.
      if (!(error instanceof AgoraError)) throw error;
      outcomes.push({ ...base, outcome: 'failed', problem: problemText(error) });
    }
  }
  return outcomes;
}

function problemText(error: AgoraError): string {
  const detail = error.details.map((d) => d.message).join('; ');
  return `${error.code}: ${error.message}${detail ? ` (${detail})` : ''}`;
}

async function postTrueUps(
  deps: ReconciliationDeps,
  reconciliationId: string,
  result: ReconciliationResult,
): Promise<TrueUpRecord[]> {
  const records: TrueUpRecord[] = [];
  for (const [index, item] of result.withinTolerance.entries()) {
    if (index >= RECONCILIATION_TRUE_UPS_MAX) break;
    const { trueUp } = item;
    let entry: JournalEntry | null = null;
    let problem: string | null = null;
    try {
      entry = trueUpEntry(item, {
        reconciliationId,
        date: result.asOf,
        functionalCurrency: deps.revenue.functionalCurrency,
        rate: deps.revenue.rate,
      });
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problem = problemText(error);
    }
    let status: TrueUpStatus = trueUp.mode === 'post' ? 'posted' : 'proposed';
    if (entry && trueUp.mode === 'post') {
      try {
        await deps.journal.postEntries([entry], 'run');
      } catch (error) {
        // A closed period refuses it: reported on the true-up, which stays to be redone.
        if (!(error instanceof AgoraError)) throw error;
        status = 'failed';
        problem = problemText(error);
      }
    }
    if (!entry) status = 'failed';
    records.push({
      index,
      contractId: item.contractId,
      internalId: item.internalId,
      entryId: entry?.entryId ?? '',
      status,
      currency: trueUp.currency,
      amountMinor: trueUp.absoluteMinor,
      debitAccount: trueUp.debitAccount,
      creditAccount: trueUp.creditAccount,
      period: trueUp.period,
      problem,
      decidedBy: null,
      decidedAt: null,
    });
  }
  return records;
}

/** Reconciles one report against the ledger, acts on the result and stores it. */
export async function reconcileReport(
  deps: ReconciliationDeps,
  input: ReconcileInput,
): Promise<ReconcileOutcome> {
  const marketplace = MARKETPLACE_OF_SOURCE[input.source];
  const settings = deps.reconciliationSettings;
  await deps.revenue.prepare?.();
  const locks = await deps.periods.locks();
  const statement = createStatementReconciler({
    asOf: input.asOf,
    marketplace,
    firstOpenPeriod: postingPeriodOf(locks, 'run', input.asOf),
    trueUpMode: input.trueUpMode ?? settings.trueUpMode,
    ...(settings.tolerances ? { tolerances: settings.tolerances } : {}),
    unbilledAccount:
      deps.revenue.policies.unbilledClassification === 'contract_asset' ? '1240' : '1230',
  });

  let bytes = 0;
  let rows = 0;
  let reported = 0;
  const report = (stage: ReconciliationProgress['stage'], contracts = 0) =>
    input.onProgress?.({ stage, rows, bytes, totalBytes: input.file.sizeBytes, contracts });
  const counted = (added: number) => {
    rows += added;
    if (rows - reported >= RECONCILIATION_PROGRESS_EVERY_ROWS) {
      reported = rows;
      report('report');
    }
  };
  const sink: ReportSink = {
    add: (records) => {
      statement.add(records);
      counted(records.length);
    },
    addRaw: (record) => {
      statement.addRaw(record);
      counted(1);
    },
    addRowErrors: (errors) => statement.addRowErrors(errors),
  };
  const hash = createHash('sha256');
  const read = await deps.reportReaders.statement[input.source](
    measured(input.file.open(), (n) => (bytes += n), hash),
    sink,
  );
  rows = read.rows;
  report('report');
  if (input.bank) {
    const bank = await deps.reportReaders.bank(input.bank.open());
    statement.addBankLines(bank.lines);
    statement.addRowErrors(
      bank.rowErrors.map((e) => ({ line: e.line, reason: `bank statement: ${e.reason}` })),
    );
  }
  const fileSha256 = hash.digest('hex');

  const refs = await contractRefs(deps, marketplace);
  const builder = createExpectedBuilder({
    asOf: input.asOf,
    contracts: refs,
    policies: deps.revenue.policies,
    marketplace,
    ...(settings.paymentTermsDays !== undefined
      ? { paymentTermsDays: settings.paymentTermsDays }
      : {}),
  });
  for (const [index, ref] of refs.entries()) {
    let cursor: string | undefined;
    do {
      const page = await deps.ledger.entries(ref.contractId, {
        limit: RECONCILIATION_ENTRIES_PAGE_SIZE,
        cursor,
      });
      builder.add(page.items);
      cursor = page.cursor ?? undefined;
    } while (cursor);
    if ((index + 1) % RECONCILIATION_CONTRACTS_PAGE_SIZE === 0) report('ledger', index + 1);
  }
  const expected = builder.finish();
  report('ledger', refs.length);
  const ledger = statement.endStatement();
  for (const contract of expected.contracts) ledger.addContract(contract);
  const result = ledger.finish(expected.rollForward);

  const reconciliationId = reconciliationIdOf(input.source, input.asOf, fileSha256);
  report('actions', refs.length);
  const disbursements = await recordPayouts(deps, result, input.recordDisbursements ?? true);
  const trueUps = await postTrueUps(deps, reconciliationId, result);
  const record: ReconciliationRecord = {
    reconciliationId,
    source: input.source,
    marketplace,
    asOf: input.asOf,
    fileName: input.file.name,
    fileSha256,
    bankFileName: input.bank?.name ?? null,
    rows,
    ranAt: deps.clock.now(),
    ranBy: input.by,
    matched: result.summary.counts.matched,
    withinTolerance: result.summary.counts.withinTolerance,
    exceptions: result.summary.counts.exceptions,
    rowErrors: result.summary.counts.rowErrors,
    disbursements,
    trueUps,
  };
  await deps.reconciliations.save(record, result);
  return { record, result };
}

export async function listReconciliations(
  deps: Pick<ReconciliationDeps, 'reconciliations'>,
  page: PageRequest,
): Promise<Page<ReconciliationRecord>> {
  return deps.reconciliations.list(page);
}

export async function getReconciliation(
  deps: Pick<ReconciliationDeps, 'reconciliations'>,
  reconciliationId: string,
): Promise<ReconcileOutcome> {
  const record = await deps.reconciliations.record(reconciliationId);
  const result = record ? await deps.reconciliations.result(reconciliationId) : null;
  if (!record || !result) throw new NotFoundError(`No reconciliation ${reconciliationId}`);
  return { record, result };
}

/**
 * Finance approves a proposed true-up: its entry is posted (in the first period open to the
 * run, as rule 14 says), then the true-up is marked approved. Approving twice is a conflict;
 * a retry after a failure between the two writes posts nothing new (the entry id is stable).
 */
export async function approveTrueUp(
  deps: Pick<ReconciliationDeps, 'reconciliations' | 'journal' | 'revenue' | 'periods' | 'clock'>,
  input: { reconciliationId: string; index: number; by: string },
): Promise<TrueUpRecord> {
  const { record, result } = await getReconciliation(deps, input.reconciliationId);
  const current = record.trueUps.find((t) => t.index === input.index);
  const item = result.withinTolerance[input.index];
  if (!current || !item) {
    throw new NotFoundError(`No true-up ${input.index} in ${input.reconciliationId}`);
  }
  if (current.status !== 'proposed') {
    throw new ConflictError(
      'true_up_not_proposed',
      `True-up ${input.index} is ${current.status}, not proposed`,
    );
  }
  await deps.revenue.prepare?.();
  const locks = await deps.periods.locks();
  const period = postingPeriodOf(locks, 'run', result.asOf);
  const entry = trueUpEntry(
    { ...item, trueUp: { ...item.trueUp, period } },
    {
      reconciliationId: input.reconciliationId,
      date: result.asOf,
      functionalCurrency: deps.revenue.functionalCurrency,
      rate: deps.revenue.rate,
    },
  );
  await deps.journal.postEntries([entry], 'run');
  const next: TrueUpRecord = {
    ...current,
    status: 'approved',
    entryId: entry.entryId,
    period,
    problem: null,
    decidedBy: input.by,
    decidedAt: deps.clock.now(),
  };
  if (!(await deps.reconciliations.updateTrueUp(input.reconciliationId, next, 'proposed'))) {
    throw new ConflictError('true_up_moved', `True-up ${input.index} was decided meanwhile`);
  }
  return next;
}

/** Where the report bucket's objects name their kind and date: reports/<source>/[<asOf>/]<file>. */
export const REPORT_KEY_PREFIX = 'reports/';

/**
 * What a report dropped into the bucket is: `reports/aws-billing-events/2025-08-31/feed.csv`
 * reconciles as of that date; without a date folder, as of the day it arrived.
 */
export function reportTargetOf(
  key: string,
  arrivedOn: CalendarDate,
): { source: ReconciliationSource; asOf: CalendarDate } {
  const segments = key.split('/');
  const source = segments[1] as ReconciliationSource;
  if (
    segments[0] !== 'reports' ||
    !RECONCILIATION_SOURCES.includes(source) ||
    segments.length < 3
  ) {
    throw new InvalidInputError(
      'unknown_report',
      `${key} is not under reports/<${RECONCILIATION_SOURCES.join('|')}>/`,
    );
  }
  const dated = segments.length > 3 ? segments[2] : undefined;
  return { source, asOf: dated ? calendarDate(dated) : arrivedOn };
}
