/**
 * The month-end commission run (issue 12; finance.md §5, rules 6, 7, 10, 14, 15, WE-8). For a
 * period it reads the plan version in effect on the month's last day, walks every contract with
 * a book, makes sure its attribution is current, rebuilds the contract's basis facts from its
 * journal entries and computes each registered partner's month with the pure engine
 * (`computePartnerPeriod`). Each partner's entries, lines and closing state are written in one
 * transaction per partner (`CommissionStore.postPartnerPeriod`), so a rerun posts nothing new
 * and a problem with one partner never stops the others.
 *
 * Facts read from the ledger (all in the functional currency):
 * - recognized revenue: 4000/4100 credits minus debits, cumulated by posting period (rule 14:
 *   a change to a closed month lands in the first open one, so a posted month never moves);
 * - invoices: the receivable (1210/1211/1212) debits of `invoice` / `usage-invoice` entries,
 *   grouped by the entry's source (an installment or a usage month); what the marketplace will
 *   pay for each is that amount less the receivable credits of the same source (its fee);
 * - disbursements: receivable credits of `disbursement` entries. They carry no invoice
 *   reference, so they settle invoices first in, first out: an invoice is disbursed on the day
 *   the cumulative disbursements first reach the cumulative net amount owed through it.
 */
import {
  type CalendarDate,
  compareDates,
  comparePeriods,
  dateOfInstant,
  lastDayOfPeriod,
  nextPeriod,
  type Period,
  period as parsePeriod,
  periodOf as periodOfDate,
  previousPeriod,
} from '../domain/calendar';
import {
  type AmortizationInput,
  accrualLineId,
  type ClawbackInput,
  COMMISSION_RULE,
  type CommissionBalances,
  type CommissionLine,
  type ContractBasisFacts,
  type CumulativeBasisPoint,
  computePartnerPeriod,
  type DealPeriodInput,
  dealPeriodInputFor,
  type HeldLineState,
  type InvoiceFact,
  isInvoiceAccrual,
  markPaid,
  netOfPostedAccruals,
  type PartnerPeriodResult,
  type PartnerShareInput,
  partnerMonthlyBasis,
  postedReleases,
  quarterOf,
  releaseHolds,
  releaseOf,
} from '../domain/commission/engine';
import {
  type CommissionBasis,
  type CommissionPlan,
  type DealType,
  planVersionOn,
  rateFor,
} from '../domain/commission/plan';
import { AgoraError, InvalidInputError } from '../domain/errors';
import { type AccountCode, JOURNAL_LEGS_MAX, type JournalEntry } from '../domain/ledger';
import { applyRate, parseDecimal, rational } from '../domain/money';
import type { AttributionVersion } from '../domain/partners/attribution-version';
import { type PartnerRecord, tierOn } from '../domain/partners/partner';
import { RULE } from '../domain/revenue/book';
import { type AttributionDeps, attributeSnapshot } from './attribution';
import type { CommissionPlanStore } from './commission-plans';
import { NotFoundError } from './errors';
import type { PartnerStore } from './partner-ports';
import type { Clock, LedgerStore } from './ports';
import type { RevenueSettings } from './revenue/settings';

/** Books read per page, and the most contracts one run walks (a guard, far above need). */
export const COMMISSION_BOOK_PAGE_SIZE = 100;
export const COMMISSION_CONTRACTS_MAX = 100_000;
/** Journal entries read per page of one contract, and the most read for one contract. */
export const COMMISSION_ENTRY_PAGE_SIZE = 500;
export const COMMISSION_ENTRIES_PER_CONTRACT_MAX = 50_000;
/** Partners one run computes. */
export const COMMISSION_PARTNERS_MAX = 10_000;
/** Held lines carried in one partner's state (the state is one item: 400 KB). */
export const COMMISSION_HELD_LINES_MAX = 150;
/** Months back a payout looks for payable lines it settles (quarterly plans: two). */
export const COMMISSION_PAYOUT_LOOKBACK_MONTHS = 12;
/** Capitalized lines one partner carries while they amortize. */
export const COMMISSION_CAPITALIZED_LINES_MAX = 150;
/** Credits clawed back for one partner in one month (each is a line and an entry). */
export const COMMISSION_CLAWBACKS_MAX = 500;
/** Problems listed in one summary (the count is always exact). */
export const COMMISSION_PROBLEMS_LISTED_MAX = 1_000;

const RECEIVABLES: ReadonlySet<AccountCode> = new Set(['1210', '1211', '1212']);
const REVENUE: ReadonlySet<AccountCode> = new Set(['4000', '4100']);
const INVOICE_RULES: ReadonlySet<string> = new Set([RULE.invoice, RULE.usageInvoice]);
const INVOICE_FEE_RULES: ReadonlySet<string> = new Set([...INVOICE_RULES, RULE.fee]);
const REFUND_LIABILITY: ReadonlySet<AccountCode> = new Set(['2450']);

// ---------------------------------------------------------------------------------------------
// Port
// ---------------------------------------------------------------------------------------------

/** A held line as stored between runs; its contract's invoices are re-read at every run. */
export type StoredHeldLine = Omit<HeldLineState, 'invoices'>;

/**
 * A capitalized commission line being amortized with the revenue of the invoices it was earned
 * on (rule 7): the contract's recognized revenue consumes invoices first in, first out, so the
 * benefit period's revenue recognized so far is the contract's cumulative recognized revenue
 * less what was billed before these invoices, within [0, their total].
 */
export interface CapitalizedLine {
  readonly lineId: string;
  readonly contractId: string;
  readonly capitalizedMinor: bigint;
  readonly invoiceIds: readonly string[];
  readonly benefitTotalMinor: bigint;
  readonly billedBeforeMinor: bigint;
  /** Of the benefit revenue: recognized through the last amortization (its baseline). */
  readonly amortizedThroughMinor: bigint;
}

/** A contract's latest accrual line for a partner: what a credit reverses. */
export interface LastAccrual {
  readonly lineId: string;
  readonly ratePercent: string;
}

/** What a partner's month leaves for the next month's run (and the finance views). */
export interface PartnerPeriodState {
  readonly partnerId: string;
  readonly period: Period;
  readonly planId: string;
  readonly planVersion: number;
  readonly tier: string;
  readonly runId: string;
  readonly opening: CommissionBalances;
  readonly closing: CommissionBalances;
  /** Accrual lines still (partly) held after this month, with what was released from them. */
  readonly heldLines: readonly StoredHeldLine[];
  /** Commission earned per quarter and deal in this calendar year (per-deal-per-year caps). */
  readonly dealEarnedByQuarter: Readonly<Record<string, Readonly<Record<string, bigint>>>>;
  /**
   * The latest accrual line per contract and its rate: what a later credit on the contract
   * reverses, at that line's rate (rule 15). Absent in states written before clawbacks.
   */
  readonly lastAccrualByContract?: Readonly<Record<string, LastAccrual>>;
  /** Commission capitalized to 1400 (billed basis, multi-year billing) not yet fully amortized. */
  readonly capitalizedLines?: readonly CapitalizedLine[];
  readonly entryIds: readonly string[];
  readonly payoutId: string | null;
  readonly computedAt: string;
}

export interface PartnerPeriodPosting {
  readonly partnerId: string;
  readonly period: Period;
  readonly entries: readonly JournalEntry[];
  readonly lines: readonly CommissionLine[];
  readonly state: PartnerPeriodState;
}

export interface PartnerPeriodPostOutcome {
  /** False when the partner's month was stored before (by this run or a concurrent one). */
  readonly written: boolean;
  readonly postedEntryIds: readonly string[];
  readonly alreadyPostedEntryIds: readonly string[];
}

export interface CommissionStore {
  /**
   * Writes the month's new journal entries (an entry already present was posted before and is
   * skipped), its lines and its state, with a period-lock check; all in one transaction unless
   * it exceeds DynamoDB's 100 actions (then the state goes last). A month whose state exists is
   * not written again. Throws CommissionPeriodLockedError when a posting period is closed.
   */
  postPartnerPeriod(posting: PartnerPeriodPosting): Promise<PartnerPeriodPostOutcome>;
  state(partnerId: string, period: Period): Promise<PartnerPeriodState | null>;
  /** The partner's months in [from, to], ascending. */
  statesBetween(partnerId: string, from: Period, to: Period): Promise<PartnerPeriodState[]>;
  /** The partner's latest state strictly before `period`. */
  stateBefore(partnerId: string, period: Period): Promise<PartnerPeriodState | null>;
  lines(partnerId: string, period: Period): Promise<CommissionLine[]>;
  /**
   * Posts journal entries outside a month's posting (holds released by a disbursement event),
   * each once (an entry already present is skipped), with the period-lock check. Returns the
   * ids it wrote.
   */
  postEntries(entries: readonly JournalEntry[], poster: 'pipeline' | 'run'): Promise<string[]>;
}

/** A posting period of the month is closed: nothing was written. */
export class CommissionPeriodLockedError extends AgoraError {
  readonly code = 'period_closed';
}

// ---------------------------------------------------------------------------------------------
// Deps and summary
// ---------------------------------------------------------------------------------------------

export interface CommissionRunDeps extends AttributionDeps {
  readonly ledger: Pick<LedgerStore, 'booksPage' | 'entries'>;
  readonly partners: Pick<PartnerStore, 'get' | 'byMarketplaceAccount'>;
  readonly commissionPlans: Pick<CommissionPlanStore, 'versions'>;
  readonly commissions: CommissionStore;
  readonly commissionSettings: { readonly planId: string };
  readonly revenue: Pick<RevenueSettings, 'functionalCurrency' | 'prepare' | 'firstOpenPeriod'>;
  readonly clock: Clock;
}

export interface CommissionRunProblem {
  readonly contractId?: string;
  readonly partnerId?: string;
  readonly code: string;
  readonly message: string;
}

export interface CommissionRunSummary {
  period: Period;
  runId: string;
  planId: string;
  /** The books' currency: every amount below is in its minor units. */
  currency: string;
  planVersion: number | null;
  contracts: number;
  /** Contracts with no attribution (or no shares): no partner earns on them. */
  contractsWithoutShares: number;
  partnersProcessed: number;
  /** Shares held by parties not in the partner registry (e.g. the cloud's co-sell team). */
  unregisteredShares: number;
  lines: number;
  totals: {
    earnedMinor: bigint;
    clawedBackMinor: bigint;
    /** Closing held balance (2110) of the partners processed. */
    heldMinor: bigint;
    /** Payable balance before this month's payout (closing payable + paid). */
    payableMinor: bigint;
    /** Payouts proposed by this month's run. */
    paidMinor: bigint;
  };
  entriesPosted: number;
  entriesAlreadyPosted: number;
  problemCount: number;
  problems: CommissionRunProblem[];
}

// ---------------------------------------------------------------------------------------------
// Ledger facts (pure)
// ---------------------------------------------------------------------------------------------

interface InvoiceGroup {
  date: CalendarDate;
  grossMinor: bigint;
  feeMinor: bigint;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function recognizedCumulative(
  entries: readonly JournalEntry[],
  through: Period,
): CumulativeBasisPoint[] {
  const byPeriod = new Map<Period, bigint>();
  for (const entry of entries) {
    if (comparePeriods(entry.postingPeriod, through) > 0) continue;
    // A refund's revenue reduction is a credit: clawed back at the original rate (rule 15), and
    // it does not reduce the accelerator measure, so it stays out of the basis.
    if (entry.rule === RULE.refund) continue;
    for (const leg of entry.legs) {
      if (!REVENUE.has(leg.account)) continue;
      const net = leg.functionalCreditMinor - leg.functionalDebitMinor;
      byPeriod.set(entry.postingPeriod, (byPeriod.get(entry.postingPeriod) ?? 0n) + net);
    }
  }
  let running = 0n;
  return [...byPeriod.keys()].sort(comparePeriods).map((month) => {
    running += byPeriod.get(month) ?? 0n;
    return { period: month, cumulativeMinor: running };
  });
}

function invoiceGroups(entries: readonly JournalEntry[]): Map<string, InvoiceGroup> {
  const groups = new Map<string, InvoiceGroup>();
  for (const entry of entries) {
    if (!INVOICE_FEE_RULES.has(entry.rule)) continue;
    const key = entry.source.id;
    const group = groups.get(key) ?? { date: entry.date, grossMinor: 0n, feeMinor: 0n };
    for (const leg of entry.legs) {
      if (!RECEIVABLES.has(leg.account)) continue;
      if (INVOICE_RULES.has(entry.rule)) group.grossMinor += leg.functionalDebitMinor;
      group.feeMinor += leg.functionalCreditMinor;
    }
    if (INVOICE_RULES.has(entry.rule) && compareDates(entry.date, group.date) < 0) {
      group.date = entry.date;
    }
    groups.set(key, group);
  }
  return groups;
}

function disbursementsOf(entries: readonly JournalEntry[]) {
  return entries
    .filter((e) => e.rule === RULE.disbursement)
    .map((e) => ({
      id: e.entryId,
      date: e.date,
      amountMinor: e.legs
        .filter((l) => RECEIVABLES.has(l.account))
        .reduce((sum, l) => sum + l.functionalCreditMinor - l.functionalDebitMinor, 0n),
    }))
    .filter((d) => d.amountMinor > 0n)
    .sort((a, b) => compareDates(a.date, b.date) || byText(a.id, b.id));
}

/**
 * A contract's basis facts from its journal entries, as known now: cumulative recognized
 * revenue through `through` by posting period, and its invoices with the day each was disbursed
 * (first in, first out: disbursements name no invoice).
 */
export function contractFactsFromEntries(
  entries: readonly JournalEntry[],
  through: Period,
): ContractBasisFacts {
  const invoices = [...invoiceGroups(entries)]
    .filter(([, g]) => g.grossMinor > 0n)
    .map(([invoiceId, g]) => ({ invoiceId, ...g }))
    .sort((a, b) => compareDates(a.date, b.date) || byText(a.invoiceId, b.invoiceId));
  const disbursements = disbursementsOf(entries);
  let owed = 0n;
  let paid = 0n;
  let next = 0;
  const facts: InvoiceFact[] = invoices.map((invoice) => {
    const netMinor = invoice.grossMinor - invoice.feeMinor;
    owed += netMinor > 0n ? netMinor : 0n;
    let disbursedOn: CalendarDate | null = null;
    while (paid < owed && next < disbursements.length) {
      paid += disbursements[next]?.amountMinor ?? 0n;
      next += 1;
    }
    if (paid >= owed) disbursedOn = disbursements[next - 1]?.date ?? invoice.date;
    return {
      invoiceId: invoice.invoiceId,
      date: invoice.date,
      amountMinor: invoice.grossMinor,
      disbursedOn,
      disbursedNetMinor: netMinor,
    };
  });
  return { recognizedCumulative: recognizedCumulative(entries, through), invoices: facts };
}

/**
 * Invoices whose marketplace fee was capitalized to 1400 (rule 3: the invoice covers more than
 * 12 months of service): the multi-year billings on which billed-basis commission is
 * capitalized too (rule 7). Under net presentation no fee entry exists, so none is found.
 */
export function capitalizedInvoiceIds(entries: readonly JournalEntry[]): Set<string> {
  const out = new Set<string>();
  for (const entry of entries) {
    if (entry.rule !== RULE.fee) continue;
    if (entry.legs.some((l) => l.account === '1400' && l.functionalDebitMinor > 0n))
      out.add(entry.source.id);
  }
  return out;
}

/** A credit on a contract (an authorized refund), as the clawback needs it. */
export interface CreditFact {
  /** The refund's event source id (`refund:<refundId>`): keys the clawback line and entry. */
  readonly creditId: string;
  readonly entryId: string;
  readonly date: CalendarDate;
  readonly postingPeriod: Period;
  /** Revenue it takes back (4000/4100 debits): the recognized basis of the credit. */
  readonly recognizedMinor: bigint;
  /** What it refunds to the buyer (the refund liability it raises): billed/collected basis. */
  readonly billedMinor: bigint;
}

/** The contract's credits, from its `refund` entries (rule 8). */
export function contractCreditsFromEntries(entries: readonly JournalEntry[]): CreditFact[] {
  return entries
    .filter((entry) => entry.rule === RULE.refund)
    .map((entry) => {
      const net = (accounts: ReadonlySet<AccountCode>) =>
        entry.legs
          .filter((leg) => accounts.has(leg.account))
          .reduce((sum, leg) => sum + leg.functionalDebitMinor - leg.functionalCreditMinor, 0n);
      return {
        creditId: entry.source.id,
        entryId: entry.entryId,
        date: entry.date,
        postingPeriod: entry.postingPeriod,
        recognizedMinor: net(REVENUE),
        billedMinor: -net(REFUND_LIABILITY),
      };
    })
    .sort((a, b) => compareDates(a.date, b.date) || byText(a.creditId, b.creditId));
}

/** The credit's basis under a plan's basis kind (0: nothing to claw back). */
export function creditBasisMinor(credit: CreditFact, kind: CommissionBasis): bigint {
  return kind === 'recognized' ? credit.recognizedMinor : credit.billedMinor;
}

/** The deal type of a partner's share: resale, then sourced, else influenced. */
export function dealTypeOf(roles: readonly string[]): DealType {
  if (roles.includes('resale')) return 'resale';
  if (roles.includes('sourced')) return 'sourced';
  return 'influenced';
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

interface PartnerWork {
  readonly record: PartnerRecord;
  readonly tier: string;
  readonly deals: {
    readonly contractId: string;
    readonly dealType: DealType;
    readonly product: string | null;
    readonly attributionVersion: number;
    readonly shares: readonly PartnerShareInput[];
  }[];
}

interface RunContext {
  readonly deps: CommissionRunDeps;
  readonly period: Period;
  readonly runId: string;
  readonly plan: CommissionPlan;
  readonly asOf: CalendarDate;
  readonly facts: Map<string, ContractBasisFacts>;
  readonly credits: Map<string, CreditFact[]>;
  /** Per contract: commission accrued with its invoices (billed basis, posted by the pipeline). */
  readonly invoiceAccruals: Map<string, JournalEntry[]>;
  /** Per contract: its invoices whose fee was capitalized (multi-year billings). */
  readonly capitalizedInvoices: Map<string, Set<string>>;
  /** Per contract: its release entries (a disbursement event may have posted them). */
  readonly releaseEntries: Map<string, JournalEntry[]>;
  /** Per contract: the highest cumulative release in the ledger per held line. */
  readonly posted: Map<string, Map<string, bigint>>;
  readonly partners: Map<string, PartnerWork>;
  /** Partner ids looked up and found missing from the registry. */
  readonly unknown: Set<string>;
  readonly summary: CommissionRunSummary;
}

function problemOf(
  where: { contractId?: string; partnerId?: string },
  error: unknown,
): CommissionRunProblem {
  if (error instanceof AgoraError) return { ...where, code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { ...where, code: 'unexpected_error', message };
}

function addProblem(summary: CommissionRunSummary, problem: CommissionRunProblem): void {
  summary.problemCount += 1;
  if (summary.problems.length < COMMISSION_PROBLEMS_LISTED_MAX) summary.problems.push(problem);
}

function emptySummary(
  period: Period,
  runId: string,
  planId: string,
  currency: string,
): CommissionRunSummary {
  return {
    period,
    runId,
    planId,
    currency,
    planVersion: null,
    contracts: 0,
    contractsWithoutShares: 0,
    partnersProcessed: 0,
    unregisteredShares: 0,
    lines: 0,
    totals: {
      earnedMinor: 0n,
      clawedBackMinor: 0n,
      heldMinor: 0n,
      payableMinor: 0n,
      paidMinor: 0n,
    },
    entriesPosted: 0,
    entriesAlreadyPosted: 0,
    problemCount: 0,
    problems: [],
  };
}

async function* allBooks(ledger: CommissionRunDeps['ledger']): AsyncGenerator<string> {
  let cursor: string | undefined;
  let seen = 0;
  do {
    const page = await ledger.booksPage({ limit: COMMISSION_BOOK_PAGE_SIZE, cursor });
    for (const contractId of page.items) {
      seen += 1;
      if (seen > COMMISSION_CONTRACTS_MAX) return;
      yield contractId;
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
}

async function contractEntries(
  ledger: Pick<LedgerStore, 'entries'>,
  contractId: string,
): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await ledger.entries(contractId, { limit: COMMISSION_ENTRY_PAGE_SIZE, cursor });
    out.push(...page.items);
    if (out.length > COMMISSION_ENTRIES_PER_CONTRACT_MAX) {
      throw new InvalidInputError(
        'too_many_entries',
        `${contractId} has more than ${COMMISSION_ENTRIES_PER_CONTRACT_MAX} journal entries`,
      );
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return out;
}

async function factsOf(ctx: RunContext, contractId: string): Promise<ContractBasisFacts> {
  const cached = ctx.facts.get(contractId);
  if (cached) return cached;
  const entries = await contractEntries(ctx.deps.ledger, contractId);
  const facts = contractFactsFromEntries(entries, ctx.period);
  ctx.facts.set(contractId, facts);
  ctx.credits.set(contractId, contractCreditsFromEntries(entries));
  ctx.posted.set(contractId, postedReleases(entries));
  ctx.releaseEntries.set(
    contractId,
    entries.filter((e) => releaseOf(e) !== null),
  );
  ctx.capitalizedInvoices.set(contractId, capitalizedInvoiceIds(entries));
  ctx.invoiceAccruals.set(
    contractId,
    entries.filter(
      (e) =>
        e.source.kind === 'event' &&
        (e.rule === COMMISSION_RULE.accrual || e.rule === COMMISSION_RULE.capitalization),
    ),
  );
  return facts;
}

/** The registry record and tier of a partner, or null (not registered, or no tier then). */
async function partnerWork(ctx: RunContext, partnerId: string): Promise<PartnerWork | null> {
  const known = ctx.partners.get(partnerId);
  if (known) return known;
  if (ctx.unknown.has(partnerId)) return null;
  const record = await ctx.deps.partners.get(partnerId);
  if (!record) {
    ctx.unknown.add(partnerId);
    return null;
  }
  const tier = tierOn(record.tierHistory, ctx.asOf);
  if (tier === null) {
    ctx.unknown.add(partnerId);
    addProblem(ctx.summary, {
      partnerId,
      code: 'no_tier',
      message: `${partnerId} has no tier on ${ctx.asOf}`,
    });
    return null;
  }
  if (ctx.partners.size >= COMMISSION_PARTNERS_MAX) {
    throw new InvalidInputError(
      'too_many_partners',
      `More than ${COMMISSION_PARTNERS_MAX} partners`,
    );
  }
  const work: PartnerWork = { record, tier, deals: [] };
  ctx.partners.set(partnerId, work);
  return work;
}

/** Attributes one contract and files it under each registered partner with a share. */
async function gatherContract(ctx: RunContext, contractId: string): Promise<void> {
  const contract = await ctx.deps.contracts.get(contractId);
  if (!contract) throw new NotFoundError(`No contract ${contractId}`);
  const { attribution } = await attributeSnapshot(ctx.deps, contract);
  if (!attribution || attribution.shares.length === 0) {
    ctx.summary.contractsWithoutShares += 1;
    return;
  }
  await factsOf(ctx, contractId);
  const shares = sharesOf(attribution);
  for (const share of attribution.shares) {
    const work = await partnerWork(ctx, share.partnerId);
    if (!work) {
      ctx.summary.unregisteredShares += 1;
      continue;
    }
    work.deals.push({
      contractId,
      dealType: dealTypeOf(share.roles),
      product: contract.terms.productId,
      attributionVersion: attribution.version,
      shares,
    });
  }
}

function sharesOf(attribution: AttributionVersion): PartnerShareInput[] {
  return attribution.shares.map((s) => ({
    partnerId: s.partnerId,
    weight: s.weight,
    firstTouchAt: s.firstTouchAt,
  }));
}

/** Commission earned on each deal in earlier quarters of the period's calendar year. */
function earnedEarlierInYear(
  previous: PartnerPeriodState | null,
  period: Period,
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const quarter = quarterOf(period);
  for (const [q, deals] of Object.entries(previous?.dealEarnedByQuarter ?? {})) {
    if (q.slice(0, 4) !== period.slice(0, 4) || q >= quarter) continue;
    for (const [contractId, amount] of Object.entries(deals)) {
      out.set(contractId, (out.get(contractId) ?? 0n) + amount);
    }
  }
  return out;
}

async function dealInputs(
  ctx: RunContext,
  partnerId: string,
  work: PartnerWork,
  previous: PartnerPeriodState | null,
): Promise<DealPeriodInput[]> {
  const earlier = earnedEarlierInYear(previous, ctx.period);
  const capped = ctx.plan.caps.perDealPerYearMinor !== undefined;
  const out: DealPeriodInput[] = [];
  for (const deal of work.deals) {
    const capitalize =
      ctx.plan.basis === 'billed' &&
      multiYearInvoicesOfMonth(ctx, deal.contractId, await factsOf(ctx, deal.contractId)).length >
        0;
    out.push(
      dealPeriodInputFor({
        partnerId,
        period: ctx.period,
        basisKind: ctx.plan.basis,
        contractId: deal.contractId,
        dealType: deal.dealType,
        product: deal.product,
        attributionVersion: deal.attributionVersion,
        shares: deal.shares,
        facts: await factsOf(ctx, deal.contractId),
        ...(capped ? { earnedEarlierInYearMinor: earlier.get(deal.contractId) ?? 0n } : {}),
        ...(capitalize ? { capitalize } : {}),
      }),
    );
  }
  return out;
}

/** What is still held on a line: what it held less what was released or clawed back. */
function outstandingHeld(held: StoredHeldLine, postedReleasedMinor?: bigint): bigint {
  const released = maxBig(held.releasedMinor, postedReleasedMinor ?? 0n);
  return held.line.heldMinor - released - held.clawedBackFromHeldMinor;
}

const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * The partner's clawbacks this month: each credit posted in the month on a deal it shares,
 * split among the deal's partners like the basis (largest remainder), reversing the partner's
 * latest accrual line on the contract at that line's rate (rule 15). A credit on a deal that has
 * earned nothing yet reverses this month's accrual at the plan's rate.
 */
function clawbacksOf(
  ctx: RunContext,
  partnerId: string,
  work: PartnerWork,
  previous: PartnerPeriodState | null,
  takenFromHeld: Map<string, bigint>,
): ClawbackInput[] {
  const out: ClawbackInput[] = [];
  for (const deal of work.deals) {
    for (const credit of ctx.credits.get(deal.contractId) ?? []) {
      if (credit.postingPeriod !== ctx.period) continue;
      const creditMinor = creditBasisMinor(credit, ctx.plan.basis);
      if (creditMinor <= 0n) continue;
      const split = partnerMonthlyBasis(
        [{ period: ctx.period, cumulativeMinor: creditMinor }],
        deal.shares,
      ).find((p) => p.partnerId === partnerId);
      if (!split || split.basisMinor === 0n) continue;
      const reversed = previous?.lastAccrualByContract?.[deal.contractId] ?? {
        lineId: accrualLineId(partnerId, deal.contractId, ctx.period),
        ratePercent: rateFor(ctx.plan, { tier: work.tier, ...deal }).ratePercent,
      };
      // What is still held on the line now: less what the ledger already released (a payout
      // event this month) and what earlier credits of this month took.
      const held = previous?.heldLines.find((h) => h.line.lineId === reversed.lineId);
      const stillHeld = held
        ? maxBig(
            outstandingHeld(held, ctx.posted.get(deal.contractId)?.get(held.line.lineId)) -
              (takenFromHeld.get(reversed.lineId) ?? 0n),
            0n,
          )
        : 0n;
      const percent = parseDecimal(reversed.ratePercent);
      const amount = applyRate(
        -split.basisMinor,
        rational(percent.num, percent.den * 100n),
        'half-even',
      );
      const taken = -amount < stillHeld ? -amount : stillHeld;
      if (taken > 0n)
        takenFromHeld.set(reversed.lineId, (takenFromHeld.get(reversed.lineId) ?? 0n) + taken);
      out.push({
        contractId: deal.contractId,
        creditId: credit.creditId,
        basisMinor: -split.basisMinor,
        reversesLineId: reversed.lineId,
        ratePercent: reversed.ratePercent,
        dealType: deal.dealType,
        product: deal.product,
        attributionVersion: deal.attributionVersion,
        heldOutstandingMinor: stillHeld,
        date: credit.date,
        sourceEventIds: [credit.creditId, credit.entryId],
      });
      if (out.length > COMMISSION_CLAWBACKS_MAX) {
        throw new InvalidInputError(
          'too_many_clawbacks',
          `${partnerId} has more than ${COMMISSION_CLAWBACKS_MAX} credits to claw back in ${ctx.period}`,
        );
      }
    }
  }
  return out;
}

/** The contract's invoices issued this month whose fee was capitalized (multi-year billings). */
function multiYearInvoicesOfMonth(
  ctx: RunContext,
  contractId: string,
  facts: ContractBasisFacts,
): InvoiceFact[] {
  const capitalized = ctx.capitalizedInvoices.get(contractId) ?? new Set<string>();
  return facts.invoices.filter(
    (i) => capitalized.has(i.invoiceId) && periodOfDate(i.date) === ctx.period,
  );
}

/** The contract's cumulative recognized revenue at the end of `month`. */
function recognizedThrough(facts: ContractBasisFacts, month: Period): bigint {
  let out = 0n;
  for (const point of facts.recognizedCumulative) {
    if (comparePeriods(point.period, month) <= 0) out = point.cumulativeMinor;
  }
  return out;
}

/** Of a capitalized line's benefit revenue, what is recognized through `month` (FIFO). */
function benefitRecognized(line: CapitalizedLine, facts: ContractBasisFacts, month: Period) {
  const consumed = recognizedThrough(facts, month) - line.billedBeforeMinor;
  if (consumed <= 0n) return 0n;
  return consumed < line.benefitTotalMinor ? consumed : line.benefitTotalMinor;
}

/** This month's amortization of every capitalized line carried from earlier months. */
async function amortizationsNow(
  ctx: RunContext,
  previous: PartnerPeriodState | null,
): Promise<AmortizationInput[]> {
  const out: AmortizationInput[] = [];
  for (const line of previous?.capitalizedLines ?? []) {
    const facts = await factsOf(ctx, line.contractId);
    out.push({
      contractId: line.contractId,
      capitalizedLineId: line.lineId,
      capitalizedMinor: line.capitalizedMinor,
      benefitTotalMinor: line.benefitTotalMinor,
      recognizedBeforeMinor: line.amortizedThroughMinor,
      recognizedThroughMinor: benefitRecognized(line, facts, ctx.period),
    });
  }
  return out;
}

/**
 * The capitalized lines the next month amortizes: earlier ones moved to this month's baseline
 * (dropped once their benefit revenue is fully recognized), then this month's new ones, whose
 * baseline is the benefit revenue recognized before this month (amortized from next month on,
 * catching up by cumulative rounding).
 */
async function nextCapitalizedLines(
  ctx: RunContext,
  previous: PartnerPeriodState | null,
  result: PartnerPeriodResult,
): Promise<CapitalizedLine[]> {
  const carried: CapitalizedLine[] = [];
  for (const line of previous?.capitalizedLines ?? []) {
    const facts = await factsOf(ctx, line.contractId);
    const through = benefitRecognized(line, facts, ctx.period);
    if (through >= line.benefitTotalMinor) continue;
    carried.push({ ...line, amortizedThroughMinor: through });
  }
  const fresh: CapitalizedLine[] = [];
  for (const line of result.lines) {
    if (line.kind !== 'accrual' || line.expenseAccount !== '1400' || line.amountMinor <= 0n)
      continue;
    const facts = await factsOf(ctx, line.contractId);
    const invoices = multiYearInvoicesOfMonth(ctx, line.contractId, facts);
    const first = invoices[0];
    if (!first) continue;
    const billedBefore = facts.invoices
      .filter(
        (i) =>
          compareDates(i.date, first.date) < 0 ||
          (i.date === first.date && i.invoiceId < first.invoiceId),
      )
      .reduce((sum, i) => sum + i.amountMinor, 0n);
    const capitalized: CapitalizedLine = {
      lineId: line.lineId,
      contractId: line.contractId,
      capitalizedMinor: line.amountMinor,
      invoiceIds: invoices.map((i) => i.invoiceId),
      benefitTotalMinor: invoices.reduce((sum, i) => sum + i.amountMinor, 0n),
      billedBeforeMinor: billedBefore,
      amortizedThroughMinor: 0n,
    };
    fresh.push({
      ...capitalized,
      amortizedThroughMinor: benefitRecognized(capitalized, facts, previousPeriod(ctx.period)),
    });
  }
  const next = [...carried, ...fresh];
  if (next.length > COMMISSION_CAPITALIZED_LINES_MAX) {
    throw new InvalidInputError(
      'too_many_capitalized_lines',
      `${result.partnerId} would carry ${next.length} capitalized lines (at most ${COMMISSION_CAPITALIZED_LINES_MAX})`,
    );
  }
  return next;
}

async function heldLinesNow(
  ctx: RunContext,
  previous: PartnerPeriodState | null,
  takenFromHeld: ReadonlyMap<string, bigint>,
): Promise<HeldLineState[]> {
  const out: HeldLineState[] = [];
  for (const held of previous?.heldLines ?? []) {
    const facts = await factsOf(ctx, held.line.contractId);
    const posted = ctx.posted.get(held.line.contractId)?.get(held.line.lineId);
    out.push({
      ...held,
      // This month's credits take from held before the release looks at what is left.
      clawedBackFromHeldMinor:
        held.clawedBackFromHeldMinor + (takenFromHeld.get(held.line.lineId) ?? 0n),
      invoices: facts.invoices,
      ...(posted !== undefined ? { postedReleasedMinor: posted } : {}),
    });
  }
  return out;
}

/** The held lines the next month starts from: earlier ones still held, then this month's. */
function nextHeldLines(
  previous: readonly StoredHeldLine[],
  result: PartnerPeriodResult,
): StoredHeldLine[] {
  const released = new Map(result.releases.map((r) => [r.lineId, r]));
  const clawed = new Map<string, bigint>();
  for (const line of result.lines) {
    if (line.kind !== 'clawback' || line.reversesLineId === null) continue;
    clawed.set(line.reversesLineId, (clawed.get(line.reversesLineId) ?? 0n) - line.heldMinor);
  }
  const carried = previous
    .map((held) => ({
      ...held,
      releasedMinor: released.get(held.line.lineId)?.cumulativeReleasedMinor ?? held.releasedMinor,
      clawedBackFromHeldMinor: held.clawedBackFromHeldMinor + (clawed.get(held.line.lineId) ?? 0n),
    }))
    .filter((h) => outstandingHeld(h) > 0n);
  const fresh = result.lines
    .filter((l) => l.kind === 'accrual' && l.heldMinor > 0n)
    .map((line) => ({ line, releasedMinor: 0n, clawedBackFromHeldMinor: 0n }));
  const next = [...carried, ...fresh];
  if (next.length > COMMISSION_HELD_LINES_MAX) {
    throw new InvalidInputError(
      'too_many_held_lines',
      `${result.partnerId} would carry ${next.length} held lines (at most ${COMMISSION_HELD_LINES_MAX})`,
    );
  }
  return next;
}

function nextDealEarned(
  previous: PartnerPeriodState | null,
  result: PartnerPeriodResult,
): Record<string, Record<string, bigint>> {
  const year = result.period.slice(0, 4);
  const out: Record<string, Record<string, bigint>> = {};
  for (const [q, deals] of Object.entries(previous?.dealEarnedByQuarter ?? {})) {
    if (q.slice(0, 4) === year) out[q] = { ...deals };
  }
  const current = { ...(out[result.quarter] ?? {}) };
  for (const line of result.lines.filter((l) => l.kind === 'accrual')) {
    current[line.contractId] = (current[line.contractId] ?? 0n) + line.amountMinor;
  }
  out[result.quarter] = current;
  return out;
}

function nextLastAccruals(
  previous: PartnerPeriodState | null,
  result: PartnerPeriodResult,
): Record<string, LastAccrual> {
  const out: Record<string, LastAccrual> = { ...(previous?.lastAccrualByContract ?? {}) };
  for (const line of result.lines) {
    if (line.kind !== 'accrual' || line.basisMinor <= 0n) continue;
    out[line.contractId] = { lineId: line.lineId, ratePercent: line.ratePercent };
  }
  return out;
}

/**
 * Every release entry behind this month's releases, whoever posted it (the run, or the
 * disbursement event earlier in the month): those whose cumulative lies between what the line had
 * released at the last month-end and what it has released now.
 */
function releasedEntryIds(
  ctx: RunContext,
  previous: PartnerPeriodState | null,
  result: PartnerPeriodResult,
): string[] {
  const out: string[] = [];
  for (const release of result.releases) {
    const before =
      previous?.heldLines.find((h) => h.line.lineId === release.lineId)?.releasedMinor ?? 0n;
    for (const entry of ctx.releaseEntries.get(release.contractId) ?? []) {
      const posted = releaseOf(entry);
      if (
        posted?.lineId === release.lineId &&
        posted.cumulative > before &&
        posted.cumulative <= release.cumulativeReleasedMinor
      )
        out.push(entry.entryId);
    }
  }
  return out;
}

function stateOf(
  ctx: RunContext,
  previous: PartnerPeriodState | null,
  result: PartnerPeriodResult,
  capitalizedLines: CapitalizedLine[],
  entries: readonly JournalEntry[],
): PartnerPeriodState {
  return {
    partnerId: result.partnerId,
    period: result.period,
    planId: result.planId,
    planVersion: result.planVersion,
    tier: result.tier,
    runId: ctx.runId,
    opening: result.opening,
    closing: result.closing,
    heldLines: nextHeldLines(previous?.heldLines ?? [], result),
    dealEarnedByQuarter: nextDealEarned(previous, result),
    lastAccrualByContract: nextLastAccruals(previous, result),
    capitalizedLines,
    entryIds: [
      ...new Set([...entries.map((e) => e.entryId), ...releasedEntryIds(ctx, previous, result)]),
    ],
    payoutId: result.payout?.payoutId ?? null,
    computedAt: ctx.deps.clock.now(),
  };
}

function addToSummary(
  summary: CommissionRunSummary,
  result: PartnerPeriodResult,
  outcome: PartnerPeriodPostOutcome,
): void {
  summary.partnersProcessed += 1;
  summary.lines += result.lines.length;
  summary.totals.earnedMinor += result.totals.earnedMinor;
  summary.totals.clawedBackMinor += result.totals.clawedBackMinor;
  summary.totals.heldMinor += result.closing.heldMinor;
  summary.totals.payableMinor += result.closing.payableMinor + result.totals.paidMinor;
  summary.totals.paidMinor += result.totals.paidMinor;
  summary.entriesPosted += outcome.postedEntryIds.length;
  summary.entriesAlreadyPosted += outcome.alreadyPostedEntryIds.length;
}

/**
 * The payable lines of the months since the partner's last payout (a quarterly plan pays three
 * months at once), marked paid by this payout. Bounded: at most a year back.
 */
async function linesSettledEarlier(
  ctx: RunContext,
  partnerId: string,
  payoutId: string,
): Promise<CommissionLine[]> {
  const out: CommissionLine[] = [];
  let month = previousPeriod(ctx.period);
  for (let step = 0; step < COMMISSION_PAYOUT_LOOKBACK_MONTHS; step += 1) {
    const state = await ctx.deps.commissions.state(partnerId, month);
    if (!state || state.payoutId !== null) break;
    out.push(
      ...markPaid(await ctx.deps.commissions.lines(partnerId, month), payoutId).filter(
        (l) => l.payoutId === payoutId,
      ),
    );
    month = previousPeriod(month);
  }
  return out;
}

/** One partner's month: compute from the previous state, then post it (one transaction). */
async function runPartner(ctx: RunContext, partnerId: string, work: PartnerWork): Promise<void> {
  const { deps } = ctx;
  const previous = await deps.commissions.stateBefore(partnerId, ctx.period);
  const opening: CommissionBalances = previous?.closing ?? { payableMinor: 0n, heldMinor: 0n };
  const takenFromHeld = new Map<string, bigint>();
  const clawbacks = clawbacksOf(ctx, partnerId, work, previous, takenFromHeld);
  const result = computePartnerPeriod({
    partnerId,
    tier: work.tier,
    period: ctx.period,
    plan: ctx.plan,
    functionalCurrency: deps.revenue.functionalCurrency,
    source: { kind: 'run', id: ctx.runId },
    firstOpenPeriod: deps.revenue.firstOpenPeriod?.('run') ?? null,
    opening,
    deals: await dealInputs(ctx, partnerId, work, previous),
    clawbacks,
    heldLines: await heldLinesNow(ctx, previous, takenFromHeld),
    amortizations: await amortizationsNow(ctx, previous),
  });
  // Billed basis: what the invoices already accrued this month is posted once, by them.
  const postedWithInvoices = work.deals.flatMap((deal) =>
    (ctx.invoiceAccruals.get(deal.contractId) ?? []).filter(
      (e) => isInvoiceAccrual(e, partnerId) && periodOfDate(e.date) === ctx.period,
    ),
  );
  const entries =
    postedWithInvoices.length === 0
      ? result.entries
      : netOfPostedAccruals(
          {
            partnerId,
            functionalCurrency: deps.revenue.functionalCurrency,
            firstOpenPeriod: deps.revenue.firstOpenPeriod?.('run') ?? null,
          },
          result.entries,
          postedWithInvoices,
        );
  const oversized = entries.find((e) => e.legs.length > JOURNAL_LEGS_MAX);
  if (oversized) {
    throw new InvalidInputError(
      'entry_too_large',
      `${partnerId}'s ${oversized.rule} entry for ${ctx.period} has ${oversized.legs.length} legs (at most ${JOURNAL_LEGS_MAX}); nothing was posted`,
    );
  }
  // A payout settles every payable line since the last one: earlier months' lines become paid.
  const lines = result.payout
    ? [
        ...markPaid(result.lines, result.payout.payoutId),
        ...(await linesSettledEarlier(ctx, partnerId, result.payout.payoutId)),
      ]
    : result.lines;
  const outcome = await deps.commissions.postPartnerPeriod({
    partnerId,
    period: ctx.period,
    entries,
    lines,
    state: stateOf(
      ctx,
      previous,
      result,
      await nextCapitalizedLines(ctx, previous, result),
      entries,
    ),
  });
  addToSummary(ctx.summary, result, outcome);
}

/** Partners in id order (a partner is run when at least one contract with a book names it). */
function sortedPartners(ctx: RunContext): [string, PartnerWork][] {
  return [...ctx.partners.entries()].sort(([a], [b]) => byText(a, b));
}

/**
 * The month-end commission run for `period`. Refuses a month that has not ended; without a
 * plan in effect it posts nothing and says so. Rerunning a period posts nothing new.
 */
export async function runCommission(
  deps: CommissionRunDeps,
  input: { readonly period: string; readonly runId?: string },
): Promise<CommissionRunSummary> {
  const period = parsePeriod(input.period);
  const runId = input.runId ?? `commission:${period}`;
  const asOf = lastDayOfPeriod(period);
  const today = dateOfInstant(deps.clock.now());
  if (compareDates(asOf, today) >= 0) {
    throw new InvalidInputError(
      'period_not_over',
      `${period} has not ended yet (today is ${today}); commission runs after ${asOf}`,
    );
  }
  const planId = deps.commissionSettings.planId;
  const summary = emptySummary(period, runId, planId, deps.revenue.functionalCurrency);
  const plan = planVersionOn(await deps.commissionPlans.versions(planId), planId, asOf);
  if (!plan) {
    addProblem(summary, {
      code: 'no_commission_plan',
      message: `No version of commission plan ${planId} is in effect on ${asOf}`,
    });
    return summary;
  }
  summary.planVersion = plan.version;
  await deps.revenue.prepare?.();
  const ctx: RunContext = {
    deps,
    period,
    runId,
    plan,
    asOf,
    facts: new Map(),
    credits: new Map(),
    posted: new Map(),
    releaseEntries: new Map(),
    capitalizedInvoices: new Map(),
    invoiceAccruals: new Map(),
    partners: new Map(),
    unknown: new Set(),
    summary,
  };
  for await (const contractId of allBooks(deps.ledger)) {
    summary.contracts += 1;
    try {
      await gatherContract(ctx, contractId);
    } catch (error) {
      addProblem(summary, problemOf({ contractId }, error));
    }
  }
  for (const [partnerId, work] of sortedPartners(ctx)) {
    try {
      await runPartner(ctx, partnerId, work);
    } catch (error) {
      addProblem(summary, problemOf({ partnerId }, error));
    }
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Hold release when a disbursement arrives
// ---------------------------------------------------------------------------------------------

export interface HoldReleaseDeps {
  readonly ledger: Pick<LedgerStore, 'entries'>;
  readonly attribution: Pick<AttributionDeps['attribution'], 'latest'>;
  readonly commissions: Pick<CommissionStore, 'stateBefore' | 'postEntries'>;
  readonly revenue: Pick<RevenueSettings, 'functionalCurrency' | 'firstOpenPeriod'>;
  readonly clock: Clock;
}

export interface HoldReleaseOutcome {
  readonly contractId: string;
  readonly releases: readonly {
    partnerId: string;
    lineId: string;
    releasedMinor: bigint;
    journalEntryId: string;
  }[];
  readonly entriesPosted: number;
}

/**
 * Held commission becomes payable when the disbursement that covers its invoices arrives (WE-8:
 * Dr 2110 / Cr 2100 on D-2's disbursement). For each partner holding lines on the contract, the
 * releases the disbursement makes possible are posted now, dated the disbursement; the next
 * month-end run counts them in its month and posts nothing for them again (same entry ids, and
 * it reads what the ledger already released).
 */
export async function releaseHoldsOnDisbursement(
  deps: HoldReleaseDeps,
  contractId: string,
): Promise<HoldReleaseOutcome> {
  const attribution = await deps.attribution.latest(contractId);
  const partnerIds = [...new Set((attribution?.shares ?? []).map((s) => s.partnerId))];
  const today = dateOfInstant(deps.clock.now());
  const out: HoldReleaseOutcome['releases'][number][] = [];
  let entriesPosted = 0;
  if (partnerIds.length === 0) return { contractId, releases: out, entriesPosted };
  const entries = await contractEntries(deps.ledger, contractId);
  const facts = contractFactsFromEntries(entries, periodOfDate(today));
  const posted = postedReleases(entries);
  for (const partnerId of partnerIds) {
    const latest = await deps.commissions.stateBefore(partnerId, nextPeriod(periodOfDate(today)));
    const held = (latest?.heldLines ?? [])
      .filter((h) => h.line.contractId === contractId)
      .map((h) => {
        const already = posted.get(h.line.lineId);
        return {
          ...h,
          invoices: facts.invoices,
          ...(already !== undefined ? { postedReleasedMinor: already } : {}),
        };
      });
    if (held.length === 0) continue;
    const result = releaseHolds(
      {
        partnerId,
        functionalCurrency: deps.revenue.functionalCurrency,
        // An event posts as the pipeline does (rule 14: not into a soft-frozen month).
        firstOpenPeriod: deps.revenue.firstOpenPeriod?.('pipeline') ?? null,
        asOf: today,
      },
      held,
    );
    entriesPosted += (await deps.commissions.postEntries(result.entries, 'pipeline')).length;
    for (const release of result.releases) {
      out.push({
        partnerId,
        lineId: release.lineId,
        releasedMinor: release.releasedMinor,
        journalEntryId: release.journalEntryId,
      });
    }
  }
  return { contractId, releases: out, entriesPosted };
}

/**
 * After a payout is recorded (Lambda or CLI): release what it makes payable, best effort — the
 * payout is committed already and the month-end run is the backstop, so a failure is logged,
 * never thrown.
 */
export async function releaseAfterDisbursement(
  deps: HoldReleaseDeps,
  contractId: string,
  logger: {
    info(message: string, attributes: Record<string, unknown>): void;
    warn(message: string, attributes: Record<string, unknown>): void;
  },
): Promise<void> {
  try {
    const outcome = await releaseHoldsOnDisbursement(deps, contractId);
    if (outcome.entriesPosted > 0)
      logger.info('held commission released on disbursement', {
        contractId,
        releases: outcome.releases.length,
      });
  } catch (error) {
    logger.warn('commission release on disbursement failed; the month-end run retries it', {
      contractId,
      error: error as Error,
    });
  }
}
