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
import { type CalendarDate, calendarDate, compareDates, dateOfInstant } from '../domain/calendar';
import type { ContractSnapshot } from '../domain/contract';
import { AgoraError, InvalidInputError } from '../domain/errors';
import type { AccountCode, JournalEntry } from '../domain/ledger';
import type { BankLine } from '../domain/reconciliation/bank-statement';
import type { ToleranceInput, ToleranceKind } from '../domain/reconciliation/config';
import {
  type ContractRef,
  createExpectedBuilder,
  EXPECTED_CONTRACTS_MAX,
} from '../domain/reconciliation/expected';
import { createStatementReconciler, type StatementSide } from '../domain/reconciliation/reconciler';
import type { ReconciliationItem, ReconciliationResult } from '../domain/reconciliation/results';
import type { RowError } from '../domain/reconciliation/statement';
import {
  type PostedTrueUp,
  postedTrueUps,
  TRUE_UP_RULE,
  type TrueUpChange,
  trueUpChange,
  trueUpEntry,
  trueUpIdFor,
  trueUpKey,
  trueUpReversal,
  trueUpSlotAfter,
  trueUpSlotOf,
} from '../domain/reconciliation/true-up';
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
/**
 * Contracts whose journals are read at once (each one's pages in order). The ledger side is one
 * query per contract: one at a time, 50,000 contracts would wait minutes on DynamoDB round trips.
 */
export const RECONCILIATION_LEDGER_READS_IN_FLIGHT = 16;
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
export type ReportSink = Pick<StatementSide, 'add' | 'addPacked' | 'addRowErrors'> &
  Partial<Pick<StatementSide, 'expectRecords'>>;

/** Readers of the report kinds (lib/marketplaces): they throw WrongFileKindError at the header. */
export interface ReportReaders {
  readonly statement: Readonly<
    Record<
      ReconciliationSource,
      (
        bytes: AsyncIterable<Uint8Array>,
        sink: ReportSink,
        /** The file's size when known: a reader may size the statement's memory from it. */
        file?: { readonly sizeBytes?: number | null },
      ) => Promise<{ rows: number }>
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

/**
 * posted: its entry is in the ledger (this run or before); unchanged: the ledger already held
 * exactly this correction; proposed: waits for finance; approved: finance posted it; failed: the
 * ledger refused it (a closed period, a missing FX rate), the problem says why.
 */
export type TrueUpStatus = 'posted' | 'unchanged' | 'proposed' | 'approved' | 'failed';

export interface TrueUpRecord {
  /** The correction's id: its line's key and cumulative target (also its entry's id). */
  readonly trueUpId: string;
  readonly kind: 'true_up' | 'reversal';
  readonly key: string;
  readonly contractId: string | null;
  readonly internalId: string | null;
  readonly level: string;
  readonly status: TrueUpStatus;
  readonly currency: string;
  /** The account corrected (revenue or fees) and its counterpart (the receivable). */
  readonly account: string;
  readonly counterAccount: string;
  /** What the line's true-ups should add up to, what was posted before, and the change. */
  readonly targetMinor: bigint;
  readonly postedBeforeMinor: bigint;
  readonly deltaMinor: bigint;
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

/** What is listed about one reconciliation: small, whatever the file's size. */
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
  readonly disbursementsRecorded: number;
  readonly disbursementsFailed: number;
  readonly trueUpsPosted: number;
  readonly trueUpsProposed: number;
  readonly trueUpsFailed: number;
}

/** The whole of one reconciliation: the matcher's result and what was done about it. */
export interface ReconciliationDocument {
  readonly result: ReconciliationResult;
  readonly disbursements: DisbursementOutcome[];
  readonly trueUps: TrueUpRecord[];
}

export interface TrueUpApproval {
  readonly trueUpId: string;
  readonly by: string;
  readonly at: string;
}

export interface ReconciliationStore {
  /** Stores (or replaces, for the same id) the record and its document; approvals stay. */
  save(record: ReconciliationRecord, document: ReconciliationDocument): Promise<void>;
  record(reconciliationId: string): Promise<ReconciliationRecord | null>;
  document(reconciliationId: string): Promise<ReconciliationDocument | null>;
  /** Latest run first. */
  list(page: PageRequest): Promise<Page<ReconciliationRecord>>;
  approvals(reconciliationId: string): Promise<TrueUpApproval[]>;
  /** Records an approval once; false when the true-up was approved already. */
  approve(reconciliationId: string, approval: TrueUpApproval): Promise<boolean>;
}

const TRUE_UP_READ_STALE =
  'The ledger holds a later true-up of this line than the one just read; nothing was decided here. Run the reconciliation again.';

/** Whether the key has an entry after `entryId` (the journal read was stale). */
async function laterEntryExists(journal: JournalPoster, entryId: string): Promise<boolean> {
  const next = trueUpSlotAfter(entryId);
  return next !== null && (await journal.slotTaken(next));
}

const TRUE_UP_SLOT_TAKEN =
  'Another reconciliation or approval moved this line at the same moment; nothing was posted here. Run the reconciliation again.';

/**
 * Brings a true-up's line to its target, for a run and an approval alike: posts the change
 * claiming the line's next slot, or confirms there is nothing to post. 'taken': a concurrent
 * writer posted another target in that slot; 'stale': the journal read this change was computed
 * from is behind (the line has a later entry). Either way nothing was written.
 */
async function settleTrueUp(
  journal: JournalPoster,
  change: TrueUpChange,
  entryOf: (change: TrueUpChange) => JournalEntry,
): Promise<'posted' | 'unchanged' | 'taken' | 'stale'> {
  if (change.deltaMinor === 0n) {
    return (await laterEntryExists(journal, change.trueUpId)) ? 'stale' : 'unchanged';
  }
  const entry = entryOf(change);
  // An id already in the journal (a concurrent run posted the same change) writes nothing.
  const outcome = await journal.postClaimed(entry, trueUpSlotOf(entry.entryId), 'run');
  if (outcome !== 'present') return outcome;
  return (await laterEntryExists(journal, entry.entryId)) ? 'stale' : 'unchanged';
}

const SETTLE_PROBLEM = { taken: TRUE_UP_SLOT_TAKEN, stale: TRUE_UP_READ_STALE } as const;

/** Posts journal entries outside a contract's book (idempotent by entry id, period-locked). */
export interface JournalPoster {
  postEntries(entries: readonly JournalEntry[], poster: 'pipeline' | 'run'): Promise<string[]>;
  /** One entry that claims `slot` (at most one entry holds a slot); see DynamoCommissionStore. */
  postClaimed(
    entry: JournalEntry,
    slot: string,
    poster: 'pipeline' | 'run',
  ): Promise<'posted' | 'present' | 'taken'>;
  /** Whether an entry holds `slot` (a consistent read). */
  slotTaken(slot: string): Promise<boolean>;
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
  /**
   * Record the payouts found, post the true-ups and store the result (default true); false:
   * report only — nothing is written.
   */
  readonly act?: boolean;
  readonly onProgress?: (progress: ReconciliationProgress) => void;
}

export interface ReconcileOutcome extends ReconciliationDocument {
  readonly record: ReconciliationRecord;
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

/** A contract's journal, page by page in order. */
async function journalOf(
  deps: Pick<ReconciliationDeps, 'ledger'>,
  contractId: string,
): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.ledger.entries(contractId, {
      limit: RECONCILIATION_ENTRIES_PAGE_SIZE,
      cursor,
    });
    entries.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return entries;
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

interface PlannedChange {
  readonly change: TrueUpChange;
  readonly item: Pick<ReconciliationItem, 'contractId' | 'internalId' | 'level'>;
  readonly kind: TrueUpRecord['kind'];
}

/** The true-ups a result asks for, and the reversals of lines trued up before that now match. */
function plannedChanges(
  result: ReconciliationResult,
  posted: ReadonlyMap<string, PostedTrueUp>,
): PlannedChange[] {
  const planned: PlannedChange[] = [];
  const seen = new Set<string>();
  for (const item of result.withinTolerance) {
    const change = trueUpChange(item, posted.get(trueUpKey(item)));
    seen.add(change.key);
    planned.push({ change, item, kind: 'true_up' });
  }
  // Only lines trued up before can need a reversal: without any, the matched list is not walked.
  for (const item of posted.size > 0 ? result.matched : []) {
    const key = trueUpKey(item);
    const before = posted.get(key);
    if (!before || before.amountMinor === 0n || seen.has(key)) continue;
    seen.add(key);
    planned.push({ change: trueUpReversal(item, before), item, kind: 'reversal' });
  }
  return planned.slice(0, RECONCILIATION_TRUE_UPS_MAX);
}

function trueUpRecordOf(
  { change, item, kind }: PlannedChange,
  period: string,
  status: TrueUpStatus,
  problem: string | null,
): TrueUpRecord {
  return {
    trueUpId: change.trueUpId,
    kind,
    key: change.key,
    contractId: change.contractId,
    internalId: item.internalId,
    level: item.level,
    status,
    currency: change.currency,
    account: change.account,
    counterAccount: change.counterAccount,
    targetMinor: change.targetMinor,
    postedBeforeMinor: change.postedMinor,
    deltaMinor: change.deltaMinor,
    period,
    problem,
    decidedBy: null,
    decidedAt: null,
  };
}

async function actOnTrueUps(
  deps: ReconciliationDeps,
  reconciliationId: string,
  result: ReconciliationResult,
  posted: ReadonlyMap<string, PostedTrueUp>,
  mode: 'post' | 'propose',
): Promise<TrueUpRecord[]> {
  const period = result.firstOpenPeriod;
  const records: TrueUpRecord[] = [];
  for (const planned of plannedChanges(result, posted)) {
    if (mode === 'propose' && planned.change.deltaMinor !== 0n) {
      records.push(trueUpRecordOf(planned, period, 'proposed', null));
      continue;
    }
    try {
      const outcome = await settleTrueUp(deps.journal, planned.change, (change) =>
        trueUpEntry(change, {
          reconciliationId,
          date: result.asOf,
          period,
          functionalCurrency: deps.revenue.functionalCurrency,
          rate: deps.revenue.rate,
        }),
      );
      records.push(
        outcome === 'taken' || outcome === 'stale'
          ? trueUpRecordOf(planned, period, 'failed', SETTLE_PROBLEM[outcome])
          : trueUpRecordOf(planned, period, outcome, null),
      );
    } catch (error) {
      // A closed period or a missing rate: reported on the true-up; the next run retries it.
      if (!(error instanceof AgoraError)) throw error;
      records.push(trueUpRecordOf(planned, period, 'failed', problemText(error)));
    }
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
  const today = dateOfInstant(deps.clock.now());
  if (compareDates(input.asOf, today) > 0) {
    throw new InvalidInputError(
      'as_of_in_future',
      `A reconciliation is as of today (${today}) or earlier, not ${input.asOf}`,
    );
  }
  const trueUpMode = input.trueUpMode ?? settings.trueUpMode;
  await deps.revenue.prepare?.();
  const locks = await deps.periods.locks();
  const statement = createStatementReconciler({
    asOf: input.asOf,
    marketplace,
    firstOpenPeriod: postingPeriodOf(locks, 'run', input.asOf),
    trueUpMode,
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
    addPacked: (records) => {
      statement.addPacked(records);
      counted(records.count);
    },
    addRowErrors: (errors) => statement.addRowErrors(errors),
    expectRecords: (records) => statement.expectRecords(records),
  };
  const hash = createHash('sha256');
  const read = await deps.reportReaders.statement[input.source](
    measured(input.file.open(), (n) => (bytes += n), hash),
    sink,
    { sizeBytes: input.file.sizeBytes },
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
  const trueUpEntries: JournalEntry[] = [];
  for (let from = 0; from < refs.length; from += RECONCILIATION_LEDGER_READS_IN_FLIGHT) {
    const window = refs.slice(from, from + RECONCILIATION_LEDGER_READS_IN_FLIGHT);
    const journals = await Promise.all(window.map((ref) => journalOf(deps, ref.contractId)));
    // Taken in the contracts' order, so the result never depends on which read finished first.
    for (const entries of journals) {
      builder.add(entries);
      for (const entry of entries) if (entry.rule === TRUE_UP_RULE) trueUpEntries.push(entry);
    }
    const done = from + window.length;
    if (
      Math.floor(done / RECONCILIATION_CONTRACTS_PAGE_SIZE) >
      Math.floor(from / RECONCILIATION_CONTRACTS_PAGE_SIZE)
    )
      report('ledger', done);
  }
  const expected = builder.finish();
  report('ledger', refs.length);
  const posted = postedTrueUps(trueUpEntries);
  const ledger = statement.endStatement({ postedTrueUps: posted });
  for (const contract of expected.contracts) ledger.addContract(contract);
  const result = ledger.finish(expected.rollForward);

  const reconciliationId = reconciliationIdOf(input.source, input.asOf, fileSha256);
  const act = input.act ?? true;
  report('actions', refs.length);
  // True-ups first: a payout in the same report that settles a trued-up invoice counts them.
  const trueUps = await actOnTrueUps(
    deps,
    reconciliationId,
    result,
    posted,
    act ? trueUpMode : 'propose',
  );
  const disbursements = await recordPayouts(deps, result, act);
  const count = <T>(items: readonly T[], test: (item: T) => boolean) => items.filter(test).length;
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
    disbursementsRecorded: count(disbursements, (d) => d.outcome === 'recorded'),
    disbursementsFailed: count(disbursements, (d) => d.outcome === 'failed'),
    trueUpsPosted: count(trueUps, (t) => t.status === 'posted'),
    trueUpsProposed: count(trueUps, (t) => t.status === 'proposed'),
    trueUpsFailed: count(trueUps, (t) => t.status === 'failed'),
  };
  const document: ReconciliationDocument = { result, disbursements, trueUps };
  // Report only: nothing was done, so nothing replaces what a real run stored.
  if (act) await deps.reconciliations.save(record, document);
  return { record, ...document };
}

export async function listReconciliations(
  deps: Pick<ReconciliationDeps, 'reconciliations'>,
  page: PageRequest,
): Promise<Page<ReconciliationRecord>> {
  return deps.reconciliations.list(page);
}

/** One reconciliation, with finance's approvals on its true-ups. */
export async function getReconciliation(
  deps: Pick<ReconciliationDeps, 'reconciliations'>,
  reconciliationId: string,
): Promise<ReconcileOutcome> {
  const record = await deps.reconciliations.record(reconciliationId);
  const document = record ? await deps.reconciliations.document(reconciliationId) : null;
  if (!record || !document) throw new NotFoundError(`No reconciliation ${reconciliationId}`);
  const approvals = new Map(
    (await deps.reconciliations.approvals(reconciliationId)).map((a) => [a.trueUpId, a]),
  );
  const trueUps = document.trueUps.map((t) => {
    const approval = approvals.get(t.trueUpId);
    return approval
      ? { ...t, status: 'approved' as const, decidedBy: approval.by, decidedAt: approval.at }
      : t;
  });
  return { record, ...document, trueUps };
}

/**
 * Finance approves a proposed true-up: the ledger's true-ups of its line are read again (another
 * run may have moved them), the difference to its target is posted in the first period open to
 * the run, and the approval is recorded once. A retry after a failure between the two writes
 * posts nothing new: the entry's id is the line's key, sequence and target. A concurrent run
 * that posted another target in the same slot makes this a 409 (`true_up_conflict`) with
 * nothing written: approving again reads the line anew.
 */
export async function approveTrueUp(
  deps: Pick<
    ReconciliationDeps,
    'reconciliations' | 'journal' | 'revenue' | 'periods' | 'clock' | 'ledger'
  >,
  input: { reconciliationId: string; trueUpId: string; by: string },
): Promise<TrueUpRecord> {
  const { result, trueUps } = await getReconciliation(deps, input.reconciliationId);
  const trueUp = trueUps.find((t) => t.trueUpId === input.trueUpId);
  if (!trueUp) throw new NotFoundError(`No true-up ${input.trueUpId} in ${input.reconciliationId}`);
  if (trueUp.status !== 'proposed') {
    throw new ConflictError(
      'true_up_not_proposed',
      `True-up ${input.trueUpId} is ${trueUp.status}, not proposed`,
    );
  }
  const entries = trueUp.contractId ? await journalOf(deps, trueUp.contractId) : [];
  const posted = postedTrueUps(entries).get(trueUp.key);
  const postedMinor = posted?.amountMinor ?? 0n;
  await deps.revenue.prepare?.();
  const period = postingPeriodOf(await deps.periods.locks(), 'run', result.asOf);
  const change: TrueUpChange = {
    key: trueUp.key,
    contractId: trueUp.contractId,
    account: trueUp.account as AccountCode,
    counterAccount: trueUp.counterAccount as AccountCode,
    currency: trueUp.currency,
    targetMinor: trueUp.targetMinor,
    postedMinor,
    trueUpId: trueUpIdFor(trueUp.key, posted, trueUp.targetMinor),
    deltaMinor: trueUp.targetMinor - postedMinor,
    description: `Reconciliation true-up approved by ${input.by} (${trueUp.level}${trueUp.internalId ? ` ${trueUp.internalId}` : ''})`,
  };
  const outcome = await settleTrueUp(deps.journal, change, (c) =>
    trueUpEntry(c, {
      reconciliationId: input.reconciliationId,
      date: result.asOf,
      period,
      functionalCurrency: deps.revenue.functionalCurrency,
      rate: deps.revenue.rate,
    }),
  );
  if (outcome === 'taken' || outcome === 'stale') {
    throw new ConflictError('true_up_conflict', SETTLE_PROBLEM[outcome]);
  }
  const at = deps.clock.now();
  const approval = { trueUpId: input.trueUpId, by: input.by, at };
  if (!(await deps.reconciliations.approve(input.reconciliationId, approval))) {
    throw new ConflictError('true_up_already_approved', `True-up ${input.trueUpId} is approved`);
  }
  return {
    ...trueUp,
    status: 'approved',
    period,
    postedBeforeMinor: postedMinor,
    deltaMinor: change.deltaMinor,
    decidedBy: input.by,
    decidedAt: at,
  };
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
