/**
 * The deal-desk preview: what the ledger would do with a scenario (events, policies, FX rates,
 * an as-of date), without touching stored data. It drives the same posting functions the
 * pipeline, the billing job and the month-end run use, day by day in this order: contract
 * events, installment invoices, usage invoices, disbursements, then the month-end run.
 */
import { z } from 'zod';
import {
  addDays,
  addMonths,
  type CalendarDate,
  compareDates,
  comparePeriods,
  dateOfInstant,
  dayCount,
  lastDayOfPeriod,
  minDate,
  type Period,
  periodOf,
  periodRange,
  previousPeriod,
} from '../calendar';
import { InvalidInputError } from '../errors';
import { ACCOUNTS, type JournalEntry } from '../ledger';
import { addRational, parseDecimal, type Rational } from '../money';
import {
  CalendarDateSchema,
  CurrencySchema,
  DecimalStringSchema,
  IdSchema,
  InstantSchema,
  MarketplaceSchema,
  MinorUnitsSchema,
  NonNegativeMinorUnitsSchema,
} from '../schemas/primitives';
import { applyEntry, type ContractBook, emptyBook, positionOf } from './book';
import { DEFAULT_FEE_TABLE, type FeeTable, ProductKindSchema } from './fee-table';
import {
  amendRevenue,
  cancelRevenue,
  type RevenueState,
  refundRevenue,
  startRevenue,
  stillBillable,
} from './lifecycle';
import { type RevenuePolicies, RevenuePoliciesSchema } from './policies';
import {
  disbursementPosting,
  feeOn,
  feeRateOf,
  installmentPostings,
  type PostingContext,
  recognitionPosting,
  refundPostings,
  refundSplit,
  remeasurementPosting,
  type UsageQuantity,
  usageAccrualPosting,
  usageAmount,
  usageInvoiceDate,
  usageInvoicePosting,
} from './postings';
import { normalizeInstallments, type RevenueContract, serviceStart } from './revenue-contract';
import { valueAt } from './schedule';

export const SCENARIO_EVENTS_MAX = 10_000;
export const SCENARIO_CONTRACTS_MAX = 500;
export const SCENARIO_FX_RATES_MAX = 10_000;

const InstallmentInput = z.object({
  date: CalendarDateSchema,
  amountMinor: NonNegativeMinorUnitsSchema,
});

const ContractCreatedInput = z.object({
  type: z.literal('ContractCreated'),
  contractId: IdSchema,
  marketplace: MarketplaceSchema,
  offerType: z.enum(['public', 'private']),
  renewal: z.boolean().default(false),
  /** The acceptance date. */
  effectiveAt: CalendarDateSchema,
  currency: CurrencySchema,
  term: z.object({ start: CalendarDateSchema, end: CalendarDateSchema }),
  totalMinor: NonNegativeMinorUnitsSchema,
  installments: z.array(InstallmentInput).max(1_000).default([]),
  reseller: z
    .object({
      wholesaleMinor: NonNegativeMinorUnitsSchema,
      buyerPriceMinor: NonNegativeMinorUnitsSchema.nullable().default(null),
    })
    .nullable()
    .default(null),
  usageRates: z
    .array(z.object({ dimension: IdSchema, unitPrice: DecimalStringSchema }))
    .max(200)
    .default([]),
  /** Extensions: a free trial's end, and the product kind for the fee table. */
  trialEnd: CalendarDateSchema.nullable().default(null),
  productKind: ProductKindSchema.default('saas'),
});

const UsageRecordedInput = z.object({
  type: z.literal('UsageRecorded'),
  contractId: IdSchema,
  dimension: IdSchema,
  quantity: DecimalStringSchema,
  usageTime: z.union([InstantSchema, CalendarDateSchema]),
});

const DisbursementReceivedInput = z.object({
  type: z.literal('DisbursementReceived'),
  contractId: IdSchema,
  disbursementId: IdSchema.optional(),
  effectiveAt: CalendarDateSchema,
  currency: CurrencySchema,
  amountMinor: MinorUnitsSchema,
  settlesCurrency: CurrencySchema.optional(),
  settlesMinor: MinorUnitsSchema.optional(),
});

const ContractAmendedInput = z.object({
  type: z.literal('ContractAmended'),
  contractId: IdSchema,
  /** The replacement agreement; on the old end date it is a renewal: a new contract by this id. */
  replacementId: IdSchema.optional(),
  effectiveAt: CalendarDateSchema,
  /** The replacement's total contract value: sets its fee tier. */
  tcvMinor: NonNegativeMinorUnitsSchema,
  /** The replacement's billings from effectiveAt on; they replace every unbilled installment. */
  installments: z.array(InstallmentInput).max(1_000).default([]),
  /** A new term end (extension or renewal length); default: the old end (or, for a renewal, the old length). */
  term: z.object({ end: CalendarDateSchema }).optional(),
});

const ContractCancelledInput = z.object({
  type: z.literal('ContractCancelled'),
  contractId: IdSchema,
  /** The day access ends: recognition stops there. */
  effectiveAt: CalendarDateSchema,
});

const RefundIssuedInput = z.object({
  type: z.literal('RefundIssued'),
  contractId: IdSchema,
  refundId: IdSchema.optional(),
  effectiveAt: CalendarDateSchema,
  /** What the seller authorized (rule 8). */
  amountMinor: NonNegativeMinorUnitsSchema,
});

export const ScenarioEventSchema = z.discriminatedUnion('type', [
  ContractCreatedInput,
  ContractAmendedInput,
  ContractCancelledInput,
  RefundIssuedInput,
  UsageRecordedInput,
  DisbursementReceivedInput,
]);

export const ScenarioSchema = z
  .object({
    asOf: CalendarDateSchema,
    functionalCurrency: CurrencySchema.default('USD'),
    policies: RevenuePoliciesSchema.default(RevenuePoliciesSchema.parse({})),
    fxRates: z
      .array(
        z.object({
          date: CalendarDateSchema,
          base: CurrencySchema,
          quote: CurrencySchema,
          rate: DecimalStringSchema,
        }),
      )
      .max(SCENARIO_FX_RATES_MAX)
      .default([]),
    events: z.array(ScenarioEventSchema).min(1).max(SCENARIO_EVENTS_MAX),
  })
  .meta({ title: 'RevenueScenario', description: 'A deal-desk revenue scenario' });
export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

export interface PreviewScheduleLine {
  readonly period: Period;
  readonly recognizedMinor: bigint;
  readonly cumulativeMinor: bigint;
}

export interface PreviewJournalLine {
  readonly entryId: string;
  readonly date: CalendarDate;
  readonly postingPeriod: Period;
  readonly rule: string;
  readonly description: string;
  readonly account: string;
  readonly accountName: string;
  readonly currency: string;
  readonly debitMinor: bigint;
  readonly creditMinor: bigint;
  readonly functionalDebitMinor: bigint;
  readonly functionalCreditMinor: bigint;
  readonly contractId: string | null;
}

export interface PreviewPosition {
  readonly period: Period;
  readonly billedMinor: bigint;
  readonly recognizedMinor: bigint;
  readonly deferredMinor: bigint;
  readonly unbilledMinor: bigint;
}

export interface PreviewResult {
  readonly asOf: CalendarDate;
  readonly functionalCurrency: string;
  readonly policies: RevenuePolicies;
  readonly schedules: Record<string, PreviewScheduleLine[]>;
  readonly journal: PreviewJournalLine[];
  readonly positions: Record<string, PreviewPosition[]>;
  readonly fees: Record<string, bigint>;
  readonly netPayouts: Record<string, bigint>;
  readonly feeRules: Record<string, { ruleId: string; rate: string; tableVersion: string }>;
  /** Findings for review (e.g. a possible significant financing component). */
  readonly flags: Record<string, { code: string; message: string }[]>;
  /** Renewals create contracts of their own: the contract each one renews. */
  readonly renewals: Record<string, string>;
  readonly entries: JournalEntry[];
}

export class ScenarioError extends InvalidInputError {}

/** A rate table: the latest quote on or before a date, direct or inverted. */
export function rateLookup(
  rates: Scenario['fxRates'],
): (date: CalendarDate, from: string, to: string) => Rational | null {
  const sorted = [...rates].sort((a, b) => compareDates(b.date, a.date));
  return (date, from, to) => {
    if (from === to) return { num: 1n, den: 1n };
    for (const row of sorted) {
      if (compareDates(row.date, date) > 0) continue;
      const rate = parseDecimal(row.rate);
      if (row.base === from && row.quote === to) return rate;
      if (row.base === to && row.quote === from && rate.num !== 0n)
        return { num: rate.den, den: rate.num };
    }
    return null;
  };
}

interface ContractRun {
  state: RevenueState;
  book: ContractBook;
  readonly usage: Map<Period, Map<string, Rational>>;
  /** What the marketplace invoiced (and refunded) and kept, as posted. */
  grossMinor: bigint;
  feesMinor: bigint;
  /** Installment invoices already posted (so an amendment never bills one twice). */
  readonly invoiced: Set<string>;
  readonly firstDate: CalendarDate;
}
function contractFrom(event: z.output<typeof ContractCreatedInput>): RevenueContract {
  const wholesale = event.reseller?.wholesaleMinor ?? null;
  const priceMinor = wholesale ?? event.totalMinor;
  const buyerPriceMinor = event.reseller
    ? (event.reseller.buyerPriceMinor ?? event.totalMinor)
    : null;
  const base: Omit<RevenueContract, 'installments'> = {
    contractId: event.contractId,
    marketplace: event.marketplace,
    offerType: event.offerType,
    productKind: event.productKind,
    renewal: event.renewal,
    channel: event.reseller !== null,
    currency: event.currency,
    acceptedOn: event.effectiveAt,
    term: event.term,
    trialEnd: event.trialEnd,
    priceMinor,
    tcvMinor: buyerPriceMinor ?? priceMinor,
    buyerPriceMinor,
    usagePrices: event.usageRates.map((r) => ({
      dimension: r.dimension,
      unitPrice: parseDecimal(r.unitPrice),
    })),
  };
  return {
    ...base,
    installments: normalizeInstallments({
      installments: event.installments,
      priceMinor,
      buyerPriceMinor: buyerPriceMinor !== priceMinor ? buyerPriceMinor : null,
      firstBillingDate: serviceStart({ ...base, installments: [] }),
    }),
  };
}

type ScenarioEvent = Scenario['events'][number];

/** Runs a scenario through the engine. Throws ScenarioError (a 400) for unusable input. */
export function previewScenario(
  input: Scenario,
  options: { feeTable?: FeeTable } = {},
): PreviewResult {
  const feeTable = options.feeTable ?? DEFAULT_FEE_TABLE;
  const rate = rateLookup(input.fxRates);
  const ctxFor = (contract: RevenueContract): PostingContext => ({
    contract,
    policies: input.policies,
    feeTable,
    functionalCurrency: input.functionalCurrency,
    rate,
  });
  const problems = validate(input);
  if (problems.length > 0)
    throw new ScenarioError('invalid_scenario', 'The scenario cannot be previewed', problems);

  const runs = new Map<string, ContractRun>();
  const renewals: Record<string, string> = {};
  const journal: JournalEntry[] = [];
  const post = (run: ContractRun, entries: readonly (JournalEntry | null)[]) => {
    for (const entry of entries) {
      if (!entry) continue;
      run.book = applyEntry(run.book, entry);
      journal.push(entry);
    }
  };
  const guard = <T>(index: number, work: () => T): T => {
    try {
      return work();
    } catch (error) {
      if (!(error instanceof InvalidInputError) || error instanceof ScenarioError) throw error;
      throw new ScenarioError('invalid_scenario', 'The scenario cannot be previewed', [
        { path: `events.${index}`, code: error.code, message: error.message },
      ]);
    }
  };
  const newRun = (contract: RevenueContract): ContractRun => ({
    state: startRevenue(ctxFor, contract),
    book: emptyBook(contract.contractId),
    usage: new Map(),
    grossMinor: 0n,
    feesMinor: 0n,
    invoiced: new Set(),
    firstDate: minDate(
      serviceStart(contract),
      contract.installments[0]?.date ?? serviceStart(contract),
    ),
  });

  // Every day something can happen, in order; each day runs its phases in a fixed order.
  const days = new Set<CalendarDate>();
  for (const event of input.events) {
    if ('effectiveAt' in event) days.add(event.effectiveAt);
    if (event.type === 'ContractCreated') {
      days.add(event.term.start);
      // The normalized installments: without any, one on the first paid day (after a trial).
      for (const i of contractFrom(event).installments) days.add(i.date);
    }
    if (event.type === 'ContractAmended') for (const i of event.installments) days.add(i.date);
    if (event.type === 'UsageRecorded') {
      const period = periodOf(usageDate(event.usageTime));
      days.add(lastDayOfPeriod(period));
      days.add(usageInvoiceDate(input.policies, period));
    }
  }
  const first = [...days].sort()[0] ?? input.asOf;
  for (const period of periodRange(periodOf(first), periodOf(input.asOf)))
    days.add(lastDayOfPeriod(period));
  const timeline = [...days].filter((d) => compareDates(d, input.asOf) <= 0).sort();

  const eventsOn = new Map<CalendarDate, { event: ScenarioEvent; index: number }[]>();
  input.events.forEach((event, index) => {
    const date = 'effectiveAt' in event ? event.effectiveAt : usageDate(event.usageTime);
    const list = eventsOn.get(date) ?? [];
    list.push({ event, index });
    eventsOn.set(date, list);
  });
  // Usage is known up front: it is accrued at its month-end whatever day it was recorded.
  input.events.forEach((event) => {
    if (event.type !== 'ContractCreated') return;
    runs.set(event.contractId, newRun(contractFrom(event)));
  });
  for (const event of input.events) {
    if (event.type !== 'UsageRecorded') continue;
    const run = runs.get(event.contractId);
    if (!run) continue;
    const period = periodOf(usageDate(event.usageTime));
    const month = run.usage.get(period) ?? new Map<string, Rational>();
    month.set(
      event.dimension,
      addRational(month.get(event.dimension) ?? { num: 0n, den: 1n }, parseDecimal(event.quantity)),
    );
    run.usage.set(period, month);
  }

  for (const day of timeline) {
    const todays = eventsOn.get(day) ?? [];
    // Phase 0: contract changes (amendments, refunds, then cancellations of the day).
    const order = { ContractAmended: 0, RefundIssued: 1, ContractCancelled: 2 } as Record<
      string,
      number
    >;
    const changes = todays
      .filter(({ event }) => event.type in order)
      .sort((a, b) => (order[a.event.type] ?? 0) - (order[b.event.type] ?? 0) || a.index - b.index);
    for (const { event, index } of changes) {
      const run = runs.get(event.contractId);
      if (!run) continue;
      guard(index, () => {
        if (event.type === 'ContractAmended') {
          const old = run.state.contract;
          if (old.term.end !== null && compareDates(event.effectiveAt, old.term.end) >= 0) {
            // Rule 12: on (or after) the old end, a replacement is a renewal — a new contract.
            const id = event.replacementId ?? `${old.contractId}-renewal`;
            const length = old.term.end
              ? dayCount({ start: old.term.start, end: old.term.end })
              : 365;
            const renewal: RevenueContract = {
              ...old,
              contractId: id,
              renewal: true,
              acceptedOn: event.effectiveAt,
              term: {
                start: event.effectiveAt,
                end: event.term?.end ?? addDays(event.effectiveAt, length),
              },
              trialEnd: null,
              tcvMinor: event.tcvMinor,
              priceMinor: event.installments.reduce((sum, i) => sum + i.amountMinor, 0n),
              buyerPriceMinor: null,
              channel: old.channel,
              installments: [...event.installments].sort((a, b) => compareDates(a.date, b.date)),
            };
            renewals[id] = old.contractId;
            runs.set(id, newRun(renewal));
            return;
          }
          run.state = amendRevenue(ctxFor, run.state, {
            effectiveAt: event.effectiveAt,
            installments: event.installments,
            tcvMinor: event.tcvMinor,
            termEnd: event.term?.end ?? null,
          });
        } else if (event.type === 'RefundIssued') {
          const refundId = event.refundId ?? `refund-${event.effectiveAt}-${event.amountMinor}`;
          const ctx = ctxFor(run.state.contract);
          const split = refundSplit(ctx, run.book, event.amountMinor);
          post(
            run,
            refundPostings(ctx, run.book, { refundId, date: day, amountMinor: event.amountMinor }),
          );
          run.grossMinor -= event.amountMinor;
          run.feesMinor -= feeOn(ctx, event.amountMinor);
          run.state = refundRevenue(ctxFor, run.state, day, event.amountMinor, split.excessMinor);
        } else if (event.type === 'ContractCancelled') {
          run.state = cancelRevenue(run.state, day);
        }
      });
    }
    // Phase 1: installments due today.
    for (const run of runs.values()) {
      const ctx = ctxFor(run.state.contract);
      run.state.contract.installments.forEach((installment, index) => {
        if (installment.date !== day || !stillBillable(run.state, day)) return;
        const key = `${installment.date}:${installment.amountMinor}:${index}`;
        if (run.invoiced.has(key)) return;
        run.invoiced.add(key);
        post(run, installmentPostings(ctx, run.book, index));
        run.grossMinor += installment.amountMinor;
        run.feesMinor += feeOn(ctx, installment.amountMinor);
      });
    }
    // Phase 2: the marketplace invoices last month's usage.
    for (const run of runs.values()) {
      const ctx = ctxFor(run.state.contract);
      for (const period of run.usage.keys()) {
        if (usageInvoiceDate(ctx.policies, period) === day)
          post(run, [usageInvoicePosting(ctx, run.book, period)]);
      }
    }
    // Phase 3: payouts.
    for (const { event, index } of todays) {
      if (event.type !== 'DisbursementReceived') continue;
      const run = runs.get(event.contractId);
      if (!run) continue;
      guard(index, () =>
        post(run, [
          disbursementPosting(ctxFor(run.state.contract), run.book, {
            disbursementId:
              event.disbursementId ?? `disbursement-${event.effectiveAt}-${event.amountMinor}`,
            date: day,
            currency: event.currency,
            amountMinor: event.amountMinor,
            ...(event.settlesCurrency ? { settlesCurrency: event.settlesCurrency } : {}),
            ...(event.settlesMinor !== undefined ? { settlesMinor: event.settlesMinor } : {}),
          }),
        ]),
      );
    }
    // Phase 4: the month-end run.
    if (lastDayOfPeriod(periodOf(day)) !== day) continue;
    const period = periodOf(day);
    for (const run of runs.values()) {
      if (compareDates(run.firstDate, day) > 0 && !run.usage.has(period)) continue;
      const ctx = ctxFor(run.state.contract);
      if (run.state.schedule)
        post(run, [recognitionPosting(ctx, run.book, run.state.schedule, period)]);
      const month = run.usage.get(period);
      if (month) {
        const usage: UsageQuantity[] = [...month].map(([dimension, quantity]) => ({
          dimension,
          quantity,
        }));
        const before = run.book.usage[period]?.accruedMinor ?? 0n;
        post(run, [usageAccrualPosting(ctx, run.book, period, usage)]);
        if ((run.book.usage[period]?.accruedMinor ?? 0n) !== before) {
          const gross = usageAmount(ctx, usage);
          run.grossMinor += gross;
          run.feesMinor += feeOn(ctx, gross);
        }
      }
      post(run, [remeasurementPosting(ctx, run.book, period)]);
    }
  }
  return summarize(input, runs, journal, ctxFor, renewals);
}

function usageDate(usageTime: string): CalendarDate {
  return usageTime.length === 10 ? usageTime : dateOfInstant(usageTime);
}

/** Every problem with the scenario's references, at once (the shapes were checked by zod). */
function validate(input: Scenario): { path: string; code: string; message: string }[] {
  const problems: { path: string; code: string; message: string }[] = [];
  const created = new Map<string, z.output<typeof ContractCreatedInput>>();
  const renewalIds = new Map<string, CalendarDate>();
  const refundIds = new Set<string>();
  const disbursementIds = new Set<string>();
  input.events.forEach((event, index) => {
    if (event.type === 'ContractCreated') {
      if (created.has(event.contractId)) {
        problems.push({
          path: `events.${index}.contractId`,
          code: 'duplicate_contract',
          message: `${event.contractId} is created twice`,
        });
        return;
      }
      try {
        contractFrom(event);
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        problems.push({ path: `events.${index}`, code: error.code, message: error.message });
      }
      if (compareDates(event.term.end, event.term.start) <= 0) {
        problems.push({
          path: `events.${index}.term.end`,
          code: 'empty_term',
          message: 'The term must end after it starts',
        });
      }
      created.set(event.contractId, event);
    }
    if (event.type === 'ContractAmended' && event.replacementId)
      renewalIds.set(event.replacementId, event.effectiveAt);
  });
  if (created.size > SCENARIO_CONTRACTS_MAX) {
    problems.push({
      path: 'events',
      code: 'too_many_contracts',
      message: `At most ${SCENARIO_CONTRACTS_MAX} contracts`,
    });
  }
  input.events.forEach((event, index) => {
    if (event.type === 'ContractCreated') return;
    const contract = created.get(event.contractId);
    const renewalStart = renewalIds.get(event.contractId);
    if (
      !contract &&
      renewalStart !== undefined &&
      'effectiveAt' in event &&
      event.effectiveAt < renewalStart
    ) {
      problems.push({
        path: `events.${index}.effectiveAt`,
        code: 'before_contract',
        message: `${event.type} is dated before the renewal ${event.contractId} starts (${renewalStart})`,
      });
      return;
    }
    if (event.type === 'RefundIssued') {
      const id = `${event.contractId}:${event.refundId ?? `${event.effectiveAt}-${event.amountMinor}`}`;
      if (refundIds.has(id)) {
        problems.push({
          path: `events.${index}.refundId`,
          code: 'duplicate_refund',
          message: `${event.contractId} has two refunds with the same id (${id}); give each a refundId`,
        });
      }
      refundIds.add(id);
    }
    if (!contract && renewalStart === undefined) {
      problems.push({
        path: `events.${index}.contractId`,
        code: 'unknown_contract',
        message: `${event.contractId} has no ContractCreated event`,
      });
      return;
    }
    if (
      event.type === 'UsageRecorded' &&
      contract &&
      !contract.usageRates.some((r) => r.dimension === event.dimension)
    ) {
      problems.push({
        path: `events.${index}.dimension`,
        code: 'usage_without_price',
        message: `${event.contractId} has no usage rate for ${event.dimension}`,
      });
    }
    if (event.type === 'DisbursementReceived') {
      const id = `${event.contractId}:${event.disbursementId ?? `${event.effectiveAt}-${event.amountMinor}`}`;
      if (disbursementIds.has(id)) {
        problems.push({
          path: `events.${index}.disbursementId`,
          code: 'duplicate_disbursement',
          message: `${event.contractId} has two disbursements with the same id (${id})`,
        });
      }
      disbursementIds.add(id);
    }
    if (
      'effectiveAt' in event &&
      contract &&
      compareDates(event.effectiveAt, contract.effectiveAt) < 0 &&
      event.type !== 'DisbursementReceived'
    ) {
      problems.push({
        path: `events.${index}.effectiveAt`,
        code: 'before_contract',
        message: `${event.type} is dated before ${event.contractId} was accepted (${contract.effectiveAt})`,
      });
    }
  });
  return problems;
}

/** Month-ends from the contract's first activity through asOf (whole months only). */
function monthEnds(run: ContractRun, asOf: CalendarDate): Period[] {
  const first = [periodOf(run.firstDate), ...run.usage.keys()].sort(comparePeriods)[0];
  const lastComplete =
    compareDates(lastDayOfPeriod(periodOf(asOf)), asOf) <= 0
      ? periodOf(asOf)
      : previousPeriod(periodOf(asOf));
  if (!first || comparePeriods(first, lastComplete) > 0) return [];
  return periodRange(first, lastComplete);
}

/**
 * §2.1 step 3: payment more than a year after the service it pays for may be a significant
 * financing component. Each installment pays its own coverage first; its excess pays earlier
 * shortfalls, oldest first — if one of those began more than 12 months before, flag it.
 */
function financingFlags(run: ContractRun): { code: string; message: string }[] {
  const { contract, schedule } = run.state;
  if (!schedule || contract.installments.length < 2) return [];
  const shortfalls: { start: CalendarDate; amount: bigint }[] = [];
  for (const [index, installment] of contract.installments.entries()) {
    const next = contract.installments[index + 1]?.date ?? contract.term.end ?? installment.date;
    const own = valueAt(schedule, next) - valueAt(schedule, installment.date);
    let excess = installment.amountMinor - own;
    if (excess < 0n) {
      shortfalls.push({ start: installment.date, amount: -excess });
      continue;
    }
    while (excess > 0n && shortfalls.length > 0) {
      const oldest = shortfalls[0];
      if (!oldest) break;
      if (compareDates(addMonths(oldest.start, 12), installment.date) < 0) {
        return [
          {
            code: 'significant_financing_component_review',
            message: `The ${installment.date} installment pays for service from ${oldest.start}, more than 12 months earlier: review for a significant financing component (ASC 606-10-32-15..18)`,
          },
        ];
      }
      const used = excess < oldest.amount ? excess : oldest.amount;
      excess -= used;
      if (used === oldest.amount) shortfalls.shift();
      else shortfalls[0] = { ...oldest, amount: oldest.amount - used };
    }
  }
  return [];
}

function summarize(
  input: Scenario,
  runs: Map<string, ContractRun>,
  journal: JournalEntry[],
  ctxFor: (contract: RevenueContract) => PostingContext,
  renewals: Record<string, string>,
): PreviewResult {
  const schedules: Record<string, PreviewScheduleLine[]> = {};
  const positions: Record<string, PreviewPosition[]> = {};
  const fees: Record<string, bigint> = {};
  const netPayouts: Record<string, bigint> = {};
  const feeRules: PreviewResult['feeRules'] = {};
  const flags: PreviewResult['flags'] = {};
  for (const [contractId, run] of runs) {
    schedules[contractId] = (run.state.schedule?.lines ?? []).map((line) => ({
      period: line.period,
      recognizedMinor: line.recognizedMinor,
      cumulativeMinor: line.cumulativeMinor,
    }));
    const fee = feeRateOf(ctxFor(run.state.contract));
    feeRules[contractId] = {
      ruleId: fee.ruleId,
      rate: fee.rateText,
      tableVersion: fee.tableVersion,
    };
    // Positions at each month-end, folding the contract's entries dated on or before it.
    const own = journal.filter((e) => e.legs.some((l) => l.contractId === contractId));
    const lines: PreviewPosition[] = [];
    let book = emptyBook(contractId);
    let cursor = 0;
    for (const period of monthEnds(run, input.asOf)) {
      const end = lastDayOfPeriod(period);
      while (cursor < own.length && compareDates(own[cursor]?.date ?? end, end) <= 0) {
        const entry = own[cursor];
        if (entry) book = applyEntry(book, entry);
        cursor += 1;
      }
      const position = positionOf(book);
      lines.push({
        period,
        billedMinor: position.billedMinor,
        recognizedMinor: position.recognizedMinor,
        deferredMinor: position.deferredMinor,
        unbilledMinor: position.unbilledMinor,
      });
    }
    positions[contractId] = lines;
    // What the marketplace keeps and pays on what it invoiced (or accrued as usage) and refunded
    // by asOf — whatever the presentation (net books never show the fee; the payout is the same).
    fees[contractId] = run.feesMinor;
    netPayouts[contractId] = run.grossMinor - run.feesMinor;
    flags[contractId] = financingFlags(run);
  }
  const flat: PreviewJournalLine[] = journal.flatMap((entry) =>
    entry.legs.map((leg) => ({
      entryId: entry.entryId,
      date: entry.date,
      postingPeriod: entry.postingPeriod,
      rule: entry.rule,
      description: entry.description,
      account: leg.account,
      accountName: ACCOUNTS[leg.account],
      currency: leg.currency,
      debitMinor: leg.debitMinor,
      creditMinor: leg.creditMinor,
      functionalDebitMinor: leg.functionalDebitMinor,
      functionalCreditMinor: leg.functionalCreditMinor,
      contractId: leg.contractId,
    })),
  );
  return {
    asOf: input.asOf,
    functionalCurrency: input.functionalCurrency,
    policies: input.policies,
    schedules,
    journal: flat,
    positions,
    fees,
    netPayouts,
    feeRules,
    flags,
    renewals,
    entries: journal,
  };
}
