/**
 * Partner commission statements (issue 13): generate, deliver, serve and verify.
 *
 * `generateStatements` issues, for a period (a month or a quarter), one statement per partner
 * with commission state in the period's months (or for the one partner asked). For each:
 *  1. a statement already in the index is not issued again (reported as alreadyIssued; an
 *     earlier attempt that stopped before its files were archived or its email went out is
 *     completed, from the very same content);
 *  2. it reads the months' states and lines, the contracts they name, the partner's attribution
 *     shares, the plan version used, and the ledger: every entry posted through the period end
 *     (period by period, bounded pages) — the partner's 2100/2110 legs give the balances the
 *     statement must tie to, including the period's own entries posted later (its payout,
 *     due NET-n after the period end);
 *  3. it builds the statement (lib/domain/statements/statement.ts) chained to the partner's
 *     previous one; a statement that does not tie is not issued: it is a problem with code
 *     `statement_does_not_tie`, and `deps.alarm` is called;
 *  4. it renders PDF, CSV and JSON, records the statement in the index (a conditional write that
 *     also advances the partner's chain head, so two runs never issue two statements for one
 *     period nor fork the chain), then archives the three files and marks them archived;
 *  5. it emails the PDF to the partner's statement contacts with a deterministic message id
 *     (none: skipped); a failed email is reported and retried by the next run — the statement
 *     stays issued.
 *
 * `verifyStatements` re-reads a partner's index and archived files, checks each file's sha256,
 * recomputes every statement's hash from its archived JSON and walks the chain.
 */
import {
  comparePeriods,
  dateOfInstant,
  nextPeriod,
  type Period,
  periodRange,
  previousPeriod,
} from '../domain/calendar';
import { type CommissionLine, quarterStartPeriod } from '../domain/commission/engine';
import type { CommissionPlan } from '../domain/commission/plan';
import { AgoraError, InvalidInputError } from '../domain/errors';
import { deterministicId, sha256Hex } from '../domain/ids';
import type { JournalEntry } from '../domain/ledger';
import type { Rational } from '../domain/money';
import type { PartnerRecord } from '../domain/partners/partner';
import { tierOn } from '../domain/partners/partner';
import {
  buildStatement,
  type ChainBreak,
  decodeStatementJson,
  encodeStatementJson,
  formatAmount,
  type Statement,
  type StatementContractFacts,
  StatementDoesNotTieError,
  type StatementMonthState,
  statementPeriod,
  verifyStatementChain,
} from '../domain/statements/statement';
import type { CommissionPlanStore } from './commission-plans';
import type { CommissionStore } from './commission-run';
import { NotFoundError } from './errors';
import type { AttributionStore, PartnerStore } from './partner-ports';
import type { Clock, ContractLookups, LedgerStore, Page, PageRequest } from './ports';
import type { EmailOutbox } from './reminder-ports';

// ---------------------------------------------------------------------------------------------
// Bounds
// ---------------------------------------------------------------------------------------------

/** Partners read per page of the registry, and the most one run looks at. */
export const STATEMENT_PARTNER_PAGE_SIZE = 100;
export const STATEMENT_PARTNERS_MAX = 10_000;
/** Journal entries read per page of a posting period, and the most one run reads. */
export const STATEMENT_LEDGER_PAGE_SIZE = 500;
export const STATEMENT_LEDGER_ENTRIES_MAX = 500_000;
/** Months walked back to find a partner's first commission month (50 years). */
export const STATEMENT_HISTORY_MONTHS_MAX = 600;
/**
 * Posting periods after the period end searched for the statement's own entries (its payout is
 * due NET-n after the period end, rule 14 may move an entry to the first open period).
 */
export const STATEMENT_LATE_POSTING_MONTHS = 3;
/** Attribution versions paged through to find the one a line used. */
export const STATEMENT_ATTRIBUTION_PAGE_SIZE = 50;
export const STATEMENT_ATTRIBUTION_PAGES_MAX = 20;
/** Statements listed per page (and the default). */
export const STATEMENT_LIST_PAGE_SIZE_MAX = 100;
export const STATEMENT_LIST_PAGE_SIZE_DEFAULT = 25;
/** Statements one verification reads (the chain's bound). */
export const STATEMENT_VERIFY_MAX = 10_000;
/** Problems listed in one summary (the count is always exact). */
export const STATEMENT_PROBLEMS_LISTED_MAX = 1_000;
/** Emails tried for one statement over all runs (then it stays failed for a person to look at). */
export const STATEMENT_EMAIL_ATTEMPTS_MAX = 5;
const MESSAGE_LENGTH_MAX = 500;

export const STATEMENT_FORMATS = ['pdf', 'csv', 'json'] as const;
export type StatementFormat = (typeof STATEMENT_FORMATS)[number];
export const STATEMENT_CONTENT_TYPES: Readonly<Record<StatementFormat, string>> = {
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/** Where statement files live: the statements bucket, locally a folder. */
export interface StatementArchive {
  /** Writes (or overwrites) one object. */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Uint8Array | null>;
}

export interface StatementFile {
  readonly key: string;
  readonly contentType: string;
  readonly sha256: string;
  readonly bytes: number;
}

export type DeliveryStatus = 'pending' | 'sent' | 'failed' | 'skipped';

export interface StatementDelivery {
  readonly status: DeliveryStatus;
  readonly to: readonly string[];
  readonly messageId: string | null;
  readonly attempts: number;
  readonly error: string | null;
  readonly at: string | null;
}

/** One issued statement, as the index keeps it. */
export interface StatementRecord {
  readonly partnerId: string;
  readonly period: string;
  readonly statementId: string;
  readonly sequence: number;
  readonly hash: string;
  readonly previousHash: string | null;
  readonly issuedAt: string;
  readonly currency: string;
  readonly payableMinor: bigint;
  readonly paidMinor: bigint;
  readonly closingPayableMinor: bigint;
  readonly closingHeldMinor: bigint;
  readonly files: Readonly<Record<StatementFormat, StatementFile>>;
  /** False until the three files are in the archive. */
  readonly archived: boolean;
  readonly delivery: StatementDelivery;
}

/** The partner's latest issued statement: what the next one chains to. */
export interface StatementChainHead {
  readonly sequence: number;
  readonly hash: string;
  readonly period: string;
}

export type StatementAddOutcome = 'added' | 'exists' | 'chain_moved';

export interface StatementIndex {
  /**
   * Records a statement and makes it the partner's chain head, in one conditional write:
   * 'exists' when (partner, period) was issued before, 'chain_moved' when another statement of
   * the partner was issued since `record.sequence − 1` (nothing is written then).
   */
  add(record: StatementRecord): Promise<StatementAddOutcome>;
  get(partnerId: string, period: string): Promise<StatementRecord | null>;
  head(partnerId: string): Promise<StatementChainHead | null>;
  markArchived(partnerId: string, period: string): Promise<void>;
  markDelivery(partnerId: string, period: string, delivery: StatementDelivery): Promise<void>;
  /** By period key, descending: a year's quarters ("2025-Q3") sort after its months. */
  list(partnerId: string, page: PageRequest): Promise<Page<StatementRecord>>;
}

/** PDF and CSV rendering (lib/statements); JSON is the domain's exact codec. */
export interface StatementRenderer {
  pdf(statement: Statement): Promise<Uint8Array>;
  csv(statement: Statement): Uint8Array;
}

export interface StatementProblem {
  readonly partnerId?: string;
  readonly period?: string;
  readonly code: string;
  readonly message: string;
}

export interface StatementDeps {
  readonly partners: Pick<PartnerStore, 'get' | 'list'>;
  readonly commissions: Pick<CommissionStore, 'state' | 'stateBefore' | 'lines'>;
  readonly ledger: Pick<LedgerStore, 'entriesOfPeriod'>;
  readonly contracts: Pick<ContractLookups, 'get'>;
  /** Optional: without it lines show no attribution share. */
  readonly attribution?: Pick<AttributionStore, 'latest' | 'versions'>;
  readonly commissionPlans: Pick<CommissionPlanStore, 'versions'>;
  readonly revenue: { readonly functionalCurrency: string };
  readonly statementArchive: StatementArchive;
  readonly statementIndex: StatementIndex;
  readonly statementRenderer: StatementRenderer;
  readonly emailOutbox: EmailOutbox;
  readonly statementSettings: { readonly sellerName: string };
  /** A statement could not be issued (does not tie, archive incomplete): metric and alarm. */
  readonly alarm: (problem: StatementProblem) => void | Promise<void>;
  readonly clock: Clock;
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

export interface IssuedStatement {
  readonly partnerId: string;
  readonly statementId: string;
  readonly sequence: number;
  readonly hash: string;
  readonly delivery: DeliveryStatus;
}

export interface StatementRunSummary {
  period: string;
  currency: string;
  /** Partners with commission state in the period (or the one asked). */
  partners: number;
  issued: IssuedStatement[];
  /** Partner ids whose statement for the period was issued before. */
  alreadyIssued: string[];
  emailsSent: number;
  emailsFailed: number;
  problemCount: number;
  problems: StatementProblem[];
}

export interface GenerateStatementsInput {
  readonly period: string;
  readonly partnerId?: string;
  /** Default: the clock's now. */
  readonly issuedAt?: string;
  readonly onProgress?: (done: number, total: number) => void;
}

function problemOf(
  where: { partnerId?: string; period?: string },
  error: unknown,
): StatementProblem {
  if (error instanceof AgoraError) {
    return { ...where, code: error.code, message: error.message.slice(0, MESSAGE_LENGTH_MAX) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { ...where, code: 'unexpected_error', message: message.slice(0, MESSAGE_LENGTH_MAX) };
}

function addProblem(summary: StatementRunSummary, problem: StatementProblem): void {
  summary.problemCount += 1;
  if (summary.problems.length < STATEMENT_PROBLEMS_LISTED_MAX) summary.problems.push(problem);
}

// ---------------------------------------------------------------------------------------------
// Ledger: the partners' 2100/2110 legs per posting period, read once per run
// ---------------------------------------------------------------------------------------------

interface PeriodDigest {
  /** Per partner: net credits on 2100 and 2110 posted in the period. */
  readonly balances: Map<string, { payableMinor: bigint; heldMinor: bigint }>;
  /** Entries with a partner leg (commission entries), by id. */
  readonly partnerEntries: Map<string, JournalEntry>;
}

class LedgerReader {
  private readonly digests = new Map<Period, PeriodDigest>();
  private read = 0;

  constructor(private readonly ledger: StatementDeps['ledger']) {}

  async digest(period: Period): Promise<PeriodDigest> {
    const known = this.digests.get(period);
    if (known) return known;
    const digest: PeriodDigest = { balances: new Map(), partnerEntries: new Map() };
    let cursor: string | undefined;
    do {
      const page = await this.ledger.entriesOfPeriod(period, {
        limit: STATEMENT_LEDGER_PAGE_SIZE,
        cursor,
      });
      this.read += page.items.length;
      if (this.read > STATEMENT_LEDGER_ENTRIES_MAX) {
        throw new InvalidInputError(
          'too_many_entries',
          `More than ${STATEMENT_LEDGER_ENTRIES_MAX} journal entries to read for one statement run`,
        );
      }
      for (const entry of page.items) {
        let partnerLeg = false;
        for (const leg of entry.legs) {
          if (leg.partnerId === null) continue;
          partnerLeg = true;
          if (leg.account !== '2100' && leg.account !== '2110') continue;
          const sums = digest.balances.get(leg.partnerId) ?? { payableMinor: 0n, heldMinor: 0n };
          const credit = leg.functionalCreditMinor - leg.functionalDebitMinor;
          if (leg.account === '2100') sums.payableMinor += credit;
          else sums.heldMinor += credit;
          digest.balances.set(leg.partnerId, sums);
        }
        if (partnerLeg) digest.partnerEntries.set(entry.entryId, entry);
      }
      cursor = page.cursor ?? undefined;
    } while (cursor);
    this.digests.set(period, digest);
    return digest;
  }
}

/** Net credit of the partner's legs on 2100 / 2110 in one entry. */
function entryBalances(entry: JournalEntry, partnerId: string) {
  let payableMinor = 0n;
  let heldMinor = 0n;
  for (const leg of entry.legs) {
    if (leg.partnerId !== partnerId) continue;
    const credit = leg.functionalCreditMinor - leg.functionalDebitMinor;
    if (leg.account === '2100') payableMinor += credit;
    if (leg.account === '2110') heldMinor += credit;
  }
  return { payableMinor, heldMinor };
}

// ---------------------------------------------------------------------------------------------
// Building one partner's statement
// ---------------------------------------------------------------------------------------------

interface RunContext {
  readonly deps: StatementDeps;
  readonly period: ReturnType<typeof statementPeriod>;
  readonly ledger: LedgerReader;
  readonly contracts: Map<string, StatementContractFacts | null>;
  readonly plans: Map<string, CommissionPlan[]>;
}

function newContext(deps: StatementDeps, period: string): RunContext {
  return {
    deps,
    period: statementPeriod(period),
    ledger: new LedgerReader(deps.ledger),
    contracts: new Map(),
    plans: new Map(),
  };
}

async function statesOf(ctx: RunContext, partnerId: string): Promise<StatementMonthState[]> {
  const out: StatementMonthState[] = [];
  for (const month of ctx.period.months) {
    const state = await ctx.deps.commissions.state(partnerId, month);
    if (state) out.push(state);
  }
  return out;
}

/** The partner's first month with commission state (walking back, bounded). */
async function firstMonth(ctx: RunContext, partnerId: string, from: Period): Promise<Period> {
  let earliest = from;
  for (let step = 0; step < STATEMENT_HISTORY_MONTHS_MAX; step += 1) {
    const before = await ctx.deps.commissions.stateBefore(partnerId, earliest);
    if (!before) return earliest;
    earliest = before.period;
  }
  throw new InvalidInputError(
    'history_too_long',
    `${partnerId} has commission state over more than ${STATEMENT_HISTORY_MONTHS_MAX} months`,
  );
}

/**
 * The partner's ledger as the statement sees it: 2100/2110 balances from every entry posted
 * from its first commission month through the period end, plus the statement's own entries
 * posted after it (its payout), and the entries its months' states name.
 */
async function ledgerFor(
  ctx: RunContext,
  partnerId: string,
  states: readonly StatementMonthState[],
): Promise<{ balances: { payableMinor: bigint; heldMinor: bigint }; entries: JournalEntry[] }> {
  const first = states[0];
  if (!first) throw new InvalidInputError('no_commission_state', `${partnerId}: no state`);
  const start = await firstMonth(ctx, partnerId, first.period);
  const end = ctx.period.months[ctx.period.months.length - 1] ?? first.period;
  let lastLate = end;
  for (let i = 0; i < STATEMENT_LATE_POSTING_MONTHS; i += 1) lastLate = nextPeriod(lastLate);
  const named = new Set(states.flatMap((s) => s.entryIds));
  const balances = { payableMinor: 0n, heldMinor: 0n };
  const entries = new Map<string, JournalEntry>();
  for (const month of periodRange(start, lastLate)) {
    const late = comparePeriods(month, end) > 0;
    if (late && entries.size === named.size) break;
    const digest = await ctx.ledger.digest(month);
    const own = digest.balances.get(partnerId);
    if (own && !late) {
      balances.payableMinor += own.payableMinor;
      balances.heldMinor += own.heldMinor;
    }
    for (const id of named) {
      const entry = digest.partnerEntries.get(id);
      if (!entry || entries.has(id)) continue;
      entries.set(id, entry);
      if (late) {
        const posted = entryBalances(entry, partnerId);
        balances.payableMinor += posted.payableMinor;
        balances.heldMinor += posted.heldMinor;
      }
    }
  }
  return { balances, entries: [...entries.values()] };
}

async function contractFacts(
  ctx: RunContext,
  contractId: string,
): Promise<StatementContractFacts | null> {
  if (ctx.contracts.has(contractId)) return ctx.contracts.get(contractId) ?? null;
  const snapshot = await ctx.deps.contracts.get(contractId);
  const facts = snapshot
    ? {
        marketplace: snapshot.marketplace,
        customerName: snapshot.terms.buyer.name ?? snapshot.terms.buyer.accountId,
        product: snapshot.terms.productId,
      }
    : null;
  ctx.contracts.set(contractId, facts);
  return facts;
}

/** The partner's weight in the attribution version its latest line on the contract used. */
async function attributionShare(
  ctx: RunContext,
  partnerId: string,
  contractId: string,
  version: number | null,
): Promise<Rational | null> {
  const store = ctx.deps.attribution;
  if (!store || version === null) return null;
  const weightIn = (v: { shares: readonly { partnerId: string; weight: Rational }[] }) =>
    v.shares.find((s) => s.partnerId === partnerId)?.weight ?? null;
  const latest = await store.latest(contractId);
  if (!latest) return null;
  if (latest.version === version) return weightIn(latest);
  let cursor: string | undefined;
  for (let page = 0; page < STATEMENT_ATTRIBUTION_PAGES_MAX; page += 1) {
    const result = await store.versions(contractId, {
      limit: STATEMENT_ATTRIBUTION_PAGE_SIZE,
      cursor,
    });
    const found = result.items.find((v) => v.version === version);
    if (found) return weightIn(found);
    cursor = result.cursor ?? undefined;
    if (!cursor) break;
  }
  return null;
}

async function planUsed(
  ctx: RunContext,
  state: StatementMonthState,
): Promise<CommissionPlan | null> {
  let versions = ctx.plans.get(state.planId);
  if (!versions) {
    versions = await ctx.deps.commissionPlans.versions(state.planId);
    ctx.plans.set(state.planId, versions);
  }
  return versions.find((p) => p.version === state.planVersion) ?? null;
}

/** Lines of the quarter's earlier months a monthly statement does not cover. */
async function quarterToDateLines(ctx: RunContext, partnerId: string): Promise<CommissionLine[]> {
  const month = ctx.period.months[0];
  if (ctx.period.kind === 'quarter' || !month) return [];
  const start = quarterStartPeriod(month);
  if (start === month) return [];
  const out: CommissionLine[] = [];
  for (const earlier of periodRange(start, previousPeriod(month))) {
    out.push(...(await ctx.deps.commissions.lines(partnerId, earlier)));
  }
  return out;
}

async function buildFor(
  ctx: RunContext,
  partner: PartnerRecord,
  states: readonly StatementMonthState[],
  chain: { previous: { hash: string; sequence: number } | null; issuedAt: string },
): Promise<Statement> {
  const { partnerId } = partner;
  const lines: CommissionLine[] = [];
  for (const state of states) {
    lines.push(...(await ctx.deps.commissions.lines(partnerId, state.period)));
  }
  const contractIds = new Set([
    ...lines.map((l) => l.contractId),
    ...states.flatMap((s) => s.heldLines.map((h) => h.line.contractId)),
  ]);
  const contracts: Record<string, StatementContractFacts | null> = {};
  const shares: Record<string, Rational> = {};
  // The attribution version of each contract's latest line (the newest the partner was paid on).
  const versions = new Map<string, number>();
  for (const line of lines) {
    if (line.attributionVersion === null) continue;
    versions.set(
      line.contractId,
      Math.max(versions.get(line.contractId) ?? 0, line.attributionVersion),
    );
  }
  for (const contractId of [...contractIds].sort()) {
    contracts[contractId] = await contractFacts(ctx, contractId);
    const share = await attributionShare(
      ctx,
      partnerId,
      contractId,
      versions.get(contractId) ?? null,
    );
    if (share) shares[contractId] = share;
  }
  const ledger = await ledgerFor(ctx, partnerId, states);
  const last = states[states.length - 1];
  return buildStatement({
    partner: {
      partnerId,
      name: partner.legalName,
      tier: tierOn(partner.tierHistory, ctx.period.to),
    },
    period: ctx.period.id,
    currency: ctx.deps.revenue.functionalCurrency,
    plan: last ? await planUsed(ctx, last) : null,
    states,
    lines,
    quarterToDateLines: await quarterToDateLines(ctx, partnerId),
    entries: ledger.entries,
    contracts,
    attributionShares: shares,
    ledger: ledger.balances,
    previous: chain.previous,
    issuedAt: chain.issuedAt,
  });
}

// ---------------------------------------------------------------------------------------------
// Files, index, email
// ---------------------------------------------------------------------------------------------

export function statementKey(
  partnerId: string,
  period: string,
  statementId: string,
  format: StatementFormat,
): string {
  return `statements/${partnerId}/${period}/${statementId}.${format}`;
}

interface Rendered {
  readonly bodies: Record<StatementFormat, Uint8Array>;
  readonly files: Record<StatementFormat, StatementFile>;
}

async function render(deps: StatementDeps, statement: Statement): Promise<Rendered> {
  const bodies: Record<StatementFormat, Uint8Array> = {
    pdf: await deps.statementRenderer.pdf(statement),
    csv: deps.statementRenderer.csv(statement),
    json: new TextEncoder().encode(encodeStatementJson(statement)),
  };
  const file = (format: StatementFormat): StatementFile => ({
    key: statementKey(
      statement.partner.partnerId,
      statement.period.id,
      statement.statementId,
      format,
    ),
    contentType: STATEMENT_CONTENT_TYPES[format],
    sha256: sha256Hex(bodies[format]),
    bytes: bodies[format].byteLength,
  });
  return { bodies, files: { pdf: file('pdf'), csv: file('csv'), json: file('json') } };
}

function recordOf(
  statement: Statement,
  files: Record<StatementFormat, StatementFile>,
  to: readonly string[],
): StatementRecord {
  return {
    partnerId: statement.partner.partnerId,
    period: statement.period.id,
    statementId: statement.statementId,
    sequence: statement.sequence,
    hash: statement.hash,
    previousHash: statement.previousHash,
    issuedAt: statement.issuedAt,
    currency: statement.currency,
    payableMinor: statement.summary.payableMinor,
    paidMinor: statement.summary.paidMinor,
    closingPayableMinor: statement.summary.closingPayableMinor,
    closingHeldMinor: statement.summary.closingHeldMinor,
    files,
    archived: false,
    delivery: {
      status: to.length === 0 ? 'skipped' : 'pending',
      to: [...to],
      messageId: null,
      attempts: 0,
      error: null,
      at: null,
    },
  };
}

async function archive(deps: StatementDeps, record: StatementRecord, rendered: Rendered) {
  for (const format of STATEMENT_FORMATS) {
    const file = record.files[format];
    await deps.statementArchive.put(file.key, rendered.bodies[format], file.contentType);
  }
  await deps.statementIndex.markArchived(record.partnerId, record.period);
}

/** The email id of a statement: the same for every attempt (one .eml file locally). */
export function statementMessageId(partnerId: string, period: string): string {
  return deterministicId('stmtmail', partnerId, period);
}

function emailText(deps: StatementDeps, statement: Statement): string {
  const money = (minor: bigint) =>
    `${formatAmount(minor, statement.currency)} ${statement.currency}`;
  const s = statement.summary;
  return [
    `Hello ${statement.partner.name},`,
    '',
    `attached is your partner commission statement for ${statement.period.id} (${statement.period.from} to ${statement.period.to}) from ${deps.statementSettings.sellerName}.`,
    '',
    `Opening balance:     ${money(s.openingMinor)}`,
    `Earned:              ${money(s.earnedMinor)}`,
    `Clawed back:         ${money(s.clawedBackMinor)}`,
    `Payable this period: ${money(s.payableMinor)}`,
    `Paid:                ${money(s.paidMinor)}`,
    `Held:                ${money(s.closingHeldMinor)}`,
    `Closing balance:     ${money(s.closingMinor)}`,
    '',
    `Statement ${statement.statementId}, sha256 ${statement.hash}.`,
    'CSV and JSON copies are available from the partner API.',
  ].join('\n');
}

function attachmentName(partnerId: string, period: string): string {
  return `commission-statement-${partnerId}-${period}.pdf`;
}

/** Sends the statement's PDF (once per run; a failure is recorded for the next run). */
async function deliver(
  deps: StatementDeps,
  record: StatementRecord,
  statement: Statement,
  pdf: Uint8Array,
  summary: StatementRunSummary,
): Promise<DeliveryStatus> {
  const { delivery } = record;
  if (delivery.status === 'sent' || delivery.status === 'skipped') return delivery.status;
  if (delivery.attempts >= STATEMENT_EMAIL_ATTEMPTS_MAX) return delivery.status;
  const at = deps.clock.now();
  const attempts = delivery.attempts + 1;
  try {
    const messageId = await deps.emailOutbox.send({
      id: statementMessageId(record.partnerId, record.period),
      to: delivery.to,
      subject: `Commission statement ${record.period} — ${deps.statementSettings.sellerName}`,
      text: emailText(deps, statement),
      at,
      attachments: [
        {
          filename: attachmentName(record.partnerId, record.period),
          contentType: STATEMENT_CONTENT_TYPES.pdf,
          content: pdf,
        },
      ],
    });
    await deps.statementIndex.markDelivery(record.partnerId, record.period, {
      ...delivery,
      status: 'sent',
      messageId,
      attempts,
      error: null,
      at,
    });
    summary.emailsSent += 1;
    return 'sent';
  } catch (error) {
    const problem = problemOf({ partnerId: record.partnerId, period: record.period }, error);
    await deps.statementIndex.markDelivery(record.partnerId, record.period, {
      ...delivery,
      status: 'failed',
      attempts,
      error: problem.message,
      at,
    });
    summary.emailsFailed += 1;
    addProblem(summary, { ...problem, code: `email_failed:${problem.code}` });
    return 'failed';
  }
}

function contactsOf(partner: PartnerRecord): string[] {
  return [...new Set(partner.statementContacts.map((c) => c.email))];
}

async function raise(deps: StatementDeps, summary: StatementRunSummary, problem: StatementProblem) {
  addProblem(summary, problem);
  try {
    await deps.alarm(problem);
  } catch {
    // The alarm hook must never stop the run; the problem is in the summary either way.
  }
}

/** An index record whose files never reached the archive: rebuild the same statement, finish. */
async function complete(
  ctx: RunContext,
  partner: PartnerRecord,
  states: readonly StatementMonthState[],
  record: StatementRecord,
  summary: StatementRunSummary,
): Promise<void> {
  const needsFiles = !record.archived;
  const needsEmail =
    (record.delivery.status === 'pending' || record.delivery.status === 'failed') &&
    record.delivery.attempts < STATEMENT_EMAIL_ATTEMPTS_MAX;
  if (!needsFiles && !needsEmail) return;
  let statement: Statement;
  let pdf: Uint8Array;
  if (needsFiles) {
    statement = await buildFor(ctx, partner, states, {
      previous:
        record.previousHash === null
          ? null
          : { hash: record.previousHash, sequence: record.sequence - 1 },
      issuedAt: record.issuedAt,
    });
    const rendered = await render(ctx.deps, statement);
    const same = STATEMENT_FORMATS.every(
      (f) => rendered.files[f].sha256 === record.files[f].sha256,
    );
    if (statement.hash !== record.hash || !same) {
      await raise(ctx.deps, summary, {
        partnerId: record.partnerId,
        period: record.period,
        code: 'statement_archive_incomplete',
        message: `Statement ${record.statementId} was recorded but its files were not archived, and its data changed since (hash ${statement.hash} ≠ ${record.hash}); finance must look at it`,
      });
      return;
    }
    await archive(ctx.deps, record, rendered);
    pdf = rendered.bodies.pdf;
  } else {
    const json = await ctx.deps.statementArchive.get(record.files.json.key);
    const body = await ctx.deps.statementArchive.get(record.files.pdf.key);
    if (!json || !body) return;
    statement = decodeStatementJson(new TextDecoder().decode(json));
    pdf = body;
  }
  if (needsEmail) await deliver(ctx.deps, record, statement, pdf, summary);
}

async function issueFor(
  ctx: RunContext,
  partner: PartnerRecord,
  states: readonly StatementMonthState[],
  issuedAt: string,
  summary: StatementRunSummary,
): Promise<void> {
  const { deps, period } = ctx;
  const { partnerId } = partner;
  const existing = await deps.statementIndex.get(partnerId, period.id);
  if (existing) {
    summary.alreadyIssued.push(partnerId);
    await complete(ctx, partner, states, existing, summary);
    return;
  }
  const lastMonth = period.months[period.months.length - 1];
  if (states[states.length - 1]?.period !== lastMonth) {
    addProblem(summary, {
      partnerId,
      period: period.id,
      code: 'commission_month_missing',
      message: `${partnerId} has no commission run result for ${lastMonth}: run the commission for it before issuing ${period.id}`,
    });
    return;
  }
  const head = await deps.statementIndex.head(partnerId);
  const statement = await buildFor(ctx, partner, states, {
    previous: head ? { hash: head.hash, sequence: head.sequence } : null,
    issuedAt,
  });
  const rendered = await render(deps, statement);
  const record = recordOf(statement, rendered.files, contactsOf(partner));
  const outcome = await deps.statementIndex.add(record);
  if (outcome === 'exists') {
    summary.alreadyIssued.push(partnerId);
    return;
  }
  if (outcome === 'chain_moved') {
    addProblem(summary, {
      partnerId,
      period: period.id,
      code: 'statement_chain_moved',
      message: `Another statement of ${partnerId} was issued meanwhile; run again to issue ${period.id}`,
    });
    return;
  }
  await archive(deps, record, rendered);
  const delivery = await deliver(
    deps,
    { ...record, archived: true },
    statement,
    rendered.bodies.pdf,
    summary,
  );
  summary.issued.push({
    partnerId,
    statementId: statement.statementId,
    sequence: statement.sequence,
    hash: statement.hash,
    delivery,
  });
}

async function candidates(
  ctx: RunContext,
  partnerId: string | undefined,
  summary: StatementRunSummary,
): Promise<{ partner: PartnerRecord; states: StatementMonthState[] }[]> {
  const out: { partner: PartnerRecord; states: StatementMonthState[] }[] = [];
  if (partnerId !== undefined) {
    const partner = await ctx.deps.partners.get(partnerId);
    if (!partner) throw new NotFoundError(`No partner ${partnerId}`);
    const states = await statesOf(ctx, partnerId);
    if (states.length === 0) {
      addProblem(summary, {
        partnerId,
        period: ctx.period.id,
        code: 'no_commission_state',
        message: `${partnerId} has no commission run result in ${ctx.period.id}; run the commission for its months first`,
      });
      return out;
    }
    return [{ partner, states }];
  }
  let cursor: string | undefined;
  let seen = 0;
  do {
    const page = await ctx.deps.partners.list({ limit: STATEMENT_PARTNER_PAGE_SIZE, cursor });
    for (const partner of page.items) {
      seen += 1;
      if (seen > STATEMENT_PARTNERS_MAX) {
        throw new InvalidInputError(
          'too_many_partners',
          `More than ${STATEMENT_PARTNERS_MAX} partners`,
        );
      }
      const states = await statesOf(ctx, partner.partnerId);
      if (states.length > 0) out.push({ partner, states });
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return out.sort((a, b) => (a.partner.partnerId < b.partner.partnerId ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// Use cases
// ---------------------------------------------------------------------------------------------

/**
 * Issues the period's statements. Refuses a period that has not ended. A problem with one
 * partner never stops the others; rerunning issues nothing new.
 */
export async function generateStatements(
  deps: StatementDeps,
  input: GenerateStatementsInput,
): Promise<StatementRunSummary> {
  const ctx = newContext(deps, input.period);
  const today = dateOfInstant(deps.clock.now());
  if (ctx.period.to >= today) {
    throw new InvalidInputError(
      'period_not_over',
      `${ctx.period.id} has not ended yet (today is ${today}); statements are issued after ${ctx.period.to}`,
    );
  }
  const issuedAt = input.issuedAt ?? deps.clock.now();
  if (Number.isNaN(Date.parse(issuedAt))) {
    throw new InvalidInputError('invalid_instant', `Not an instant: ${issuedAt}`);
  }
  const summary: StatementRunSummary = {
    period: ctx.period.id,
    currency: deps.revenue.functionalCurrency,
    partners: 0,
    issued: [],
    alreadyIssued: [],
    emailsSent: 0,
    emailsFailed: 0,
    problemCount: 0,
    problems: [],
  };
  const work = await candidates(ctx, input.partnerId, summary);
  summary.partners = work.length;
  input.onProgress?.(0, work.length);
  for (const [index, { partner, states }] of work.entries()) {
    try {
      await issueFor(ctx, partner, states, issuedAt, summary);
    } catch (error) {
      const problem = problemOf({ partnerId: partner.partnerId, period: ctx.period.id }, error);
      // A statement that does not tie is not issued, and someone must look at it.
      if (error instanceof StatementDoesNotTieError) await raise(deps, summary, problem);
      else addProblem(summary, problem);
    }
    input.onProgress?.(index + 1, work.length);
  }
  return summary;
}

export interface StatementBody {
  readonly statementId: string;
  readonly hash: string;
  readonly format: StatementFormat;
  readonly contentType: string;
  readonly filename: string;
  readonly body: Uint8Array;
}

export function isStatementFormat(text: string): text is StatementFormat {
  return (STATEMENT_FORMATS as readonly string[]).includes(text);
}

/** One archived statement file; NotFoundError when there is none (yet). */
export async function getStatement(
  deps: Pick<StatementDeps, 'statementIndex' | 'statementArchive'>,
  partnerId: string,
  period: string,
  format: string = 'pdf',
): Promise<StatementBody> {
  if (!isStatementFormat(format)) {
    throw new InvalidInputError(
      'invalid_format',
      `Format is one of ${STATEMENT_FORMATS.join(', ')}`,
    );
  }
  const canonical = statementPeriod(period).id;
  const record = await deps.statementIndex.get(partnerId, canonical);
  if (!record?.archived) {
    throw new NotFoundError(`No statement of ${partnerId} for ${canonical}`);
  }
  const file = record.files[format];
  const body = await deps.statementArchive.get(file.key);
  if (!body) throw new NotFoundError(`The ${format} of statement ${record.statementId} is missing`);
  return {
    statementId: record.statementId,
    hash: record.hash,
    format,
    contentType: file.contentType,
    filename: `commission-statement-${partnerId}-${canonical}.${format}`,
    body,
  };
}

/** A partner's statements by period key, descending (see `StatementIndex.list`). */
export async function listStatements(
  deps: Pick<StatementDeps, 'statementIndex'>,
  partnerId: string,
  page: { readonly limit?: number; readonly cursor?: string | undefined } = {},
): Promise<Page<StatementRecord>> {
  const limit = Math.min(
    Math.max(1, Math.trunc(page.limit ?? STATEMENT_LIST_PAGE_SIZE_DEFAULT)),
    STATEMENT_LIST_PAGE_SIZE_MAX,
  );
  return deps.statementIndex.list(partnerId, { limit, cursor: page.cursor });
}

export type StatementVerifyFailure =
  | ChainBreak
  | 'file_missing'
  | 'file_changed'
  | 'unreadable'
  | 'index_mismatch'
  | 'not_archived';

export type StatementVerification =
  | { readonly ok: true; readonly partnerId: string; readonly statements: number }
  | {
      readonly ok: false;
      readonly partnerId: string;
      readonly period: string;
      readonly reason: StatementVerifyFailure;
      readonly message: string;
    };

/**
 * Checks a partner's statements: each archived file's sha256 is the one indexed at issue, each
 * archived JSON is the statement the index names (id, sequence, hashes) and hashes to its own
 * hash, and the chain has no changed, broken or missing link up to the partner's chain head.
 */
export async function verifyStatements(
  deps: Pick<StatementDeps, 'statementIndex' | 'statementArchive'>,
  partnerId: string,
): Promise<StatementVerification> {
  const records: StatementRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.statementIndex.list(partnerId, {
      limit: STATEMENT_LIST_PAGE_SIZE_MAX,
      cursor,
    });
    records.push(...page.items);
    if (records.length > STATEMENT_VERIFY_MAX) {
      throw new InvalidInputError(
        'too_many_statements',
        `More than ${STATEMENT_VERIFY_MAX} statements`,
      );
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
  records.sort((a, b) => a.sequence - b.sequence);
  const fail = (
    record: StatementRecord,
    reason: StatementVerifyFailure,
    message: string,
  ): StatementVerification => ({ ok: false, partnerId, period: record.period, reason, message });
  const statements: Statement[] = [];
  for (const record of records) {
    if (!record.archived) {
      return fail(record, 'not_archived', `${record.statementId}: its files were never archived`);
    }
    let json: Uint8Array | null = null;
    for (const format of STATEMENT_FORMATS) {
      const file = record.files[format];
      const body = await deps.statementArchive.get(file.key);
      if (!body) return fail(record, 'file_missing', `${file.key} is missing`);
      if (sha256Hex(body) !== file.sha256) {
        return fail(
          record,
          'file_changed',
          `${file.key} is not the ${format} issued (sha256 differs)`,
        );
      }
      if (format === 'json') json = body;
    }
    let statement: Statement;
    try {
      statement = decodeStatementJson(new TextDecoder().decode(json ?? new Uint8Array()));
    } catch (error) {
      return fail(record, 'unreadable', `${record.files.json.key}: ${(error as Error).message}`);
    }
    if (
      statement.statementId !== record.statementId ||
      statement.hash !== record.hash ||
      statement.sequence !== record.sequence ||
      statement.previousHash !== record.previousHash ||
      statement.partner.partnerId !== partnerId ||
      statement.period.id !== record.period
    ) {
      return fail(
        record,
        'index_mismatch',
        `${record.files.json.key} is not the statement indexed`,
      );
    }
    statements.push(statement);
  }
  const head = await deps.statementIndex.head(partnerId);
  const chain = verifyStatementChain(statements, head);
  if (!chain.ok) {
    return {
      ok: false,
      partnerId,
      period: chain.period,
      reason: chain.reason,
      message: chain.message,
    };
  }
  return { ok: true, partnerId, statements: statements.length };
}
