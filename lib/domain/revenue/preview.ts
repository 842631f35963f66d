/**
 * The deal-desk preview: what the ledger would do with a scenario (events, policies, FX rates,
 * an as-of date), without touching stored data. It drives the same posting functions the
 * pipeline, the billing job and the month-end run use, day by day in this order: contract
 * events, installment invoices, usage invoices, disbursements, then the month-end run.
 */
import { z } from 'zod';
import {
  type CalendarDate,
  compareDates,
  comparePeriods,
  dateOfInstant,
  lastDayOfPeriod,
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
import { type RevenuePolicies, RevenuePoliciesSchema } from './policies';
import {
  disbursementPosting,
  feeOn,
  feeRateOf,
  installmentPostings,
  type PostingContext,
  recognitionPosting,
  scheduleFor,
  type UsageQuantity,
  usageAccrualPosting,
  usageAmount,
  usageInvoiceDate,
  usageInvoicePosting,
} from './postings';
import { normalizeInstallments, type RevenueContract, serviceStart } from './revenue-contract';
import type { RevenueSchedule } from './schedule';

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

/** Kept in the format; the engine takes them with the modifications issue (Revenue II). */
const LaterInput = z.looseObject({
  type: z.enum(['ContractAmended', 'ContractCancelled', 'RefundIssued']),
  contractId: IdSchema,
});

export const ScenarioEventSchema = z.discriminatedUnion('type', [
  ContractCreatedInput,
  UsageRecordedInput,
  DisbursementReceivedInput,
  LaterInput,
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
  readonly contract: RevenueContract;
  readonly ctx: PostingContext;
  readonly schedule: RevenueSchedule | null;
  book: ContractBook;
  readonly usage: Map<Period, Map<string, Rational>>;
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

/** Runs a scenario through the engine. Throws ScenarioError (a 400) for unusable input. */
export function previewScenario(
  input: Scenario,
  options: { feeTable?: FeeTable } = {},
): PreviewResult {
  const feeTable = options.feeTable ?? DEFAULT_FEE_TABLE;
  const rate = rateLookup(input.fxRates);
  const runs = new Map<string, ContractRun>();
  const problems: { path: string; code: string; message: string }[] = [];

  input.events.forEach((event, index) => {
    if (
      event.type === 'ContractAmended' ||
      event.type === 'ContractCancelled' ||
      event.type === 'RefundIssued'
    ) {
      problems.push({
        path: `events.${index}.type`,
        code: 'unsupported_event',
        message: `${event.type} is not supported by the preview yet (modifications, cancellations and refunds)`,
      });
      return;
    }
    if (event.type !== 'ContractCreated') return;
    if (runs.has(event.contractId)) {
      problems.push({
        path: `events.${index}.contractId`,
        code: 'duplicate_contract',
        message: `${event.contractId} is created twice`,
      });
      return;
    }
    let contract: RevenueContract;
    try {
      contract = contractFrom(event);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push({ path: `events.${index}`, code: error.code, message: error.message });
      return;
    }
    const ctx: PostingContext = {
      contract,
      policies: input.policies,
      feeTable,
      functionalCurrency: input.functionalCurrency,
      rate,
    };
    runs.set(event.contractId, {
      contract,
      ctx,
      schedule: scheduleFor(ctx, 1),
      book: emptyBook(contract.contractId),
      usage: new Map(),
    });
  });
  if (runs.size > SCENARIO_CONTRACTS_MAX) {
    problems.push({
      path: 'events',
      code: 'too_many_contracts',
      message: `At most ${SCENARIO_CONTRACTS_MAX} contracts`,
    });
  }
  const disbursementIds = new Set<string>();
  input.events.forEach((event, index) => {
    if (event.type !== 'UsageRecorded' && event.type !== 'DisbursementReceived') return;
    const run = runs.get(event.contractId);
    if (!run) {
      problems.push({
        path: `events.${index}.contractId`,
        code: 'unknown_contract',
        message: `${event.contractId} has no ContractCreated event`,
      });
      return;
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
    if (event.type === 'UsageRecorded') {
      if (!run.contract.usagePrices.some((p) => p.dimension === event.dimension)) {
        problems.push({
          path: `events.${index}.dimension`,
          code: 'usage_without_price',
          message: `${event.contractId} has no usage rate for ${event.dimension}`,
        });
        return;
      }
      const period = periodOf(
        event.usageTime.length === 10 ? event.usageTime : dateOfInstant(event.usageTime),
      );
      const month = run.usage.get(period) ?? new Map<string, Rational>();
      month.set(
        event.dimension,
        addRational(
          month.get(event.dimension) ?? { num: 0n, den: 1n },
          parseDecimal(event.quantity),
        ),
      );
      run.usage.set(period, month);
    }
  });
  if (problems.length > 0)
    throw new ScenarioError('invalid_scenario', 'The scenario cannot be previewed', problems);

  // Everything that happens, by day; each day runs in a fixed order of phases.
  const asOf = input.asOf;
  type Action = { date: CalendarDate; phase: number; run: () => void };
  const actions: Action[] = [];
  const post = (run: ContractRun, entries: readonly (JournalEntry | null)[]) => {
    for (const entry of entries) {
      if (!entry) continue;
      run.book = applyEntry(run.book, entry);
      journal.push(entry);
    }
  };
  const journal: JournalEntry[] = [];
  for (const run of runs.values()) {
    run.contract.installments.forEach((installment, index) => {
      actions.push({
        date: installment.date,
        phase: 1,
        run: () => post(run, installmentPostings(run.ctx, run.book, index)),
      });
    });
    for (const period of run.usage.keys()) {
      actions.push({
        date: usageInvoiceDate(run.ctx, period),
        phase: 2,
        run: () => post(run, [usageInvoicePosting(run.ctx, run.book, period)]),
      });
    }
    for (const period of monthEnds(run, asOf)) {
      actions.push({
        date: lastDayOfPeriod(period),
        phase: 4,
        run: () => {
          if (run.schedule)
            post(run, [recognitionPosting(run.ctx, run.book, run.schedule, period)]);
          const month = run.usage.get(period);
          if (month) {
            const usage: UsageQuantity[] = [...month].map(([dimension, quantity]) => ({
              dimension,
              quantity,
            }));
            post(run, [usageAccrualPosting(run.ctx, run.book, period, usage)]);
          }
        },
      });
    }
  }
  input.events.forEach((event) => {
    if (event.type !== 'DisbursementReceived') return;
    const run = runs.get(event.contractId);
    if (!run) return;
    actions.push({
      date: event.effectiveAt,
      phase: 3,
      run: () =>
        post(run, [
          disbursementPosting(run.ctx, {
            // Without an id, one derived from what it is: stable when other events are added.
            disbursementId:
              event.disbursementId ?? `disbursement-${event.effectiveAt}-${event.amountMinor}`,
            date: event.effectiveAt,
            currency: event.currency,
            amountMinor: event.amountMinor,
          }),
        ]),
    });
  });
  const due = actions
    .filter((a) => compareDates(a.date, asOf) <= 0)
    .sort((a, b) => compareDates(a.date, b.date) || a.phase - b.phase);
  for (const action of due) action.run();

  return summarize(input, runs, journal);
}

/** Month-ends from the contract's first activity through asOf (whole months only). */
function monthEnds(run: ContractRun, asOf: CalendarDate): Period[] {
  const starts = [serviceStart(run.contract), ...run.contract.installments.map((i) => i.date)];
  const usagePeriods = [...run.usage.keys()];
  const first = [...starts.map(periodOf), ...usagePeriods].sort(comparePeriods)[0];
  const lastComplete =
    compareDates(lastDayOfPeriod(periodOf(asOf)), asOf) <= 0
      ? periodOf(asOf)
      : previousPeriod(periodOf(asOf));
  if (!first || comparePeriods(first, lastComplete) > 0) return [];
  return periodRange(first, lastComplete);
}

function summarize(
  input: Scenario,
  runs: Map<string, ContractRun>,
  journal: JournalEntry[],
): PreviewResult {
  const schedules: Record<string, PreviewScheduleLine[]> = {};
  const positions: Record<string, PreviewPosition[]> = {};
  const fees: Record<string, bigint> = {};
  const netPayouts: Record<string, bigint> = {};
  const feeRules: PreviewResult['feeRules'] = {};
  for (const [contractId, run] of runs) {
    schedules[contractId] = (run.schedule?.lines ?? []).map((line) => ({
      period: line.period,
      recognizedMinor: line.recognizedMinor,
      cumulativeMinor: line.cumulativeMinor,
    }));
    const fee = feeRateOf(run.ctx);
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
    // What the marketplace keeps and pays on what is billed, or accrued as usage, by asOf —
    // whatever the presentation (net books never show the fee, but the payout is the same).
    const charged = chargedThrough(run, input.asOf);
    fees[contractId] = charged.feesMinor;
    netPayouts[contractId] = charged.grossMinor - charged.feesMinor;
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
    entries: journal,
  };
}

function chargedThrough(
  run: ContractRun,
  asOf: CalendarDate,
): { grossMinor: bigint; feesMinor: bigint } {
  let grossMinor = 0n;
  let feesMinor = 0n;
  const fee = feeRateOf(run.ctx);
  for (const installment of run.contract.installments) {
    if (compareDates(installment.date, asOf) > 0) continue;
    grossMinor += installment.amountMinor;
    feesMinor += feeOn(run.ctx, installment.amountMinor, fee);
  }
  for (const [period, month] of run.usage) {
    if (compareDates(lastDayOfPeriod(period), asOf) > 0) continue;
    const amount = usageAmount(
      run.ctx,
      [...month].map(([dimension, quantity]) => ({ dimension, quantity })),
    );
    grossMinor += amount;
    feesMinor += feeOn(run.ctx, amount, fee);
  }
  return { grossMinor, feesMinor };
}
