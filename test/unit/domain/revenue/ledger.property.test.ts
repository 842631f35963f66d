// Proves the ledger invariants of finance.md §4.5 on random scenarios: every entry balances per currency and in USD, the trial balance is zero, billed − recognized = deferred − unbilled at every month-end (billed computed independently), revenue follows the ratable rule, and replays are identical with unique, deterministic ids.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths } from '../../../../lib/domain/calendar';
import { journalEntryProblems } from '../../../../lib/domain/ledger';
import {
  applyEntry,
  balanceOf,
  bookFromEntries,
  emptyBook,
  positionOf,
} from '../../../../lib/domain/revenue/book';
import {
  type PreviewResult,
  previewScenario,
  type Scenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';
import { referenceRound } from '../../helpers/reference-rounding';

const RUNS = { numRuns: 60, seed: 20250917 } as const;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Independent calendar and decimal helpers (Date.UTC and bigint only)
// ---------------------------------------------------------------------------------------------

function utcDay(date: string): number {
  const [y, m, d] = date.slice(0, 10).split('-').map(Number);
  return Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1) / DAY_MS;
}
const dateOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
/** The exclusive end (first day of the next month) of a 'YYYY-MM' period, as a day number. */
function periodEndDay(period: string): number {
  const [y, m] = period.split('-').map(Number);
  return Date.UTC(y ?? 0, m ?? 1, 1) / DAY_MS;
}
const lastDayOf = (period: string): string => dateOf(periodEndDay(period) - 1);
const periodOfDay = (day: number): string => dateOf(day).slice(0, 7);

/** "0.035" → [35n, 1000n]. */
function decimal(text: string): [bigint, bigint] {
  const [whole = '0', fraction = ''] = text.split('.');
  return [BigInt(whole + fraction), 10n ** BigInt(fraction.length)];
}

// ---------------------------------------------------------------------------------------------
// Random scenarios
// ---------------------------------------------------------------------------------------------

const UNIT_PRICES = ['0.002', '0.5', '1.25', '0.0001', '3'] as const;
const MARKETPLACES = ['aws', 'azure', 'gcp'] as const;

const rawContractArb = fc.record({
  marketplace: fc.constantFrom(...MARKETPLACES),
  offerType: fc.constantFrom('public' as const, 'private' as const),
  renewal: fc.boolean(),
  eur: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
  startOffset: fc.integer({ min: 0, max: 1_000 }),
  acceptLag: fc.integer({ min: 0, max: 20 }),
  months: fc.integer({ min: 1, max: 60 }),
  price: fc.oneof(
    fc.constant(0n),
    fc.bigInt({ min: 1n, max: 100n }),
    fc.bigInt({ min: 1_000_000n, max: 1_000_000_000n }),
  ),
  reseller: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
  marginPermille: fc.integer({ min: 0, max: 200 }),
  installmentsAtBuyerPrice: fc.boolean(),
  installments: fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: 1_000_000 }),
      weight: fc.integer({ min: 1, max: 100 }),
    }),
    { maxLength: 5 },
  ),
  trialDays: fc.option(fc.integer({ min: 1, max: 60 }), { freq: 4 }),
  usage: fc.option(
    fc.record({
      prices: fc.subarray([...UNIT_PRICES], { minLength: 1, maxLength: 2 }),
      records: fc.array(
        fc.record({
          dimension: fc.nat(),
          at: fc.integer({ min: 0, max: 1_000_000 }),
          thousandths: fc.bigInt({ min: 0n, max: 10n ** 10n }),
          asInstant: fc.boolean(),
        }),
        { maxLength: 6 },
      ),
    }),
    { freq: 2 },
  ),
  disbursement: fc.option(
    fc.record({
      at: fc.integer({ min: 0, max: 1_000_000 }),
      amount: fc.bigInt({ min: 1n, max: 10n ** 6n }),
    }),
    { freq: 3 },
  ),
});
type RawContract = typeof rawContractArb extends fc.Arbitrary<infer T> ? T : never;

/** What the test knows about a contract, computed without the engine. */
interface Model {
  readonly id: string;
  readonly marketplace: (typeof MARKETPLACES)[number];
  readonly currency: 'USD' | 'EUR';
  readonly channel: boolean;
  /** Wholesale (= transaction) price and the buyer price of a reseller offer. */
  readonly price: bigint;
  readonly buyerPrice: bigint;
  readonly serviceStart: number;
  readonly end: number;
  /** Billings in date order: [day, amount]. */
  readonly installments: readonly (readonly [number, bigint])[];
  /** Usage quantities per month and dimension, in thousandths. */
  readonly usage: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
  readonly unitPrices: ReadonlyMap<string, string>;
  readonly events: ScenarioInput['events'];
}

const BASE_DAY = utcDay('2024-02-01');

function buildContract(raw: RawContract, index: number): Model {
  const id = `K-${index + 1}`;
  const currency = raw.eur ? 'EUR' : 'USD';
  const start = BASE_DAY + raw.startOffset;
  const end = utcDay(addMonths(dateOf(start), raw.months));
  const buyerPrice = raw.price;
  const channel = raw.reseller;
  const price = channel
    ? buyerPrice - (buyerPrice * BigInt(raw.marginPermille)) / 1000n
    : buyerPrice;
  const trial =
    currency === 'USD' && raw.trialDays !== null && raw.trialDays < end - start ? raw.trialDays : 0;
  const serviceStart = start + trial;
  const serviceDays = end - serviceStart;

  // Installments: unique days in [serviceStart, end), amounts split by weights (cumulatively).
  const days = [...new Set(raw.installments.map((i) => serviceStart + (i.at % serviceDays)))];
  const weights = raw.installments.slice(0, days.length).map((i) => BigInt(i.weight));
  const billedTotal = channel && raw.installmentsAtBuyerPrice ? buyerPrice : price;
  const weightTotal = weights.reduce((a, b) => a + b, 0n);
  let cumulativeWeight = 0n;
  let previous = 0n;
  const given = days.map((day, k) => {
    cumulativeWeight += weights[k] ?? 0n;
    const cumulative = (billedTotal * cumulativeWeight) / weightTotal;
    const amount = cumulative - previous;
    previous = cumulative;
    return [day, amount] as const;
  });
  const sorted = [...given].sort((a, b) => a[0] - b[0]);
  let installments: (readonly [number, bigint])[];
  if (sorted.length === 0) installments = price > 0n ? [[serviceStart, price]] : [];
  else if (billedTotal === price) installments = sorted;
  else {
    // Given at the buyer price: scaled to the wholesale price with cumulative half-even rounding.
    let running = 0n;
    let prior = 0n;
    installments = sorted.map(([day, amount]) => {
      running += amount;
      const scaled = referenceRound(price * running, billedTotal, 'even');
      const delta = scaled - prior;
      prior = scaled;
      return [day, delta] as const;
    });
  }

  const unitPrices = new Map<string, string>();
  const usage = new Map<string, Map<string, bigint>>();
  const usageEvents: ScenarioInput['events'] = [];
  if (raw.usage) {
    for (const [k, p] of raw.usage.prices.entries()) unitPrices.set(`dim${k}`, p);
    for (const record of raw.usage.records) {
      const dimension = `dim${record.dimension % raw.usage.prices.length}`;
      const day = serviceStart + (record.at % serviceDays);
      const period = periodOfDay(day);
      const month = usage.get(period) ?? new Map<string, bigint>();
      month.set(dimension, (month.get(dimension) ?? 0n) + record.thousandths);
      usage.set(period, month);
      const whole = record.thousandths / 1000n;
      const fraction = String(record.thousandths % 1000n).padStart(3, '0');
      usageEvents.push({
        type: 'UsageRecorded',
        contractId: id,
        dimension,
        quantity: `${whole}.${fraction}`,
        usageTime: record.asInstant ? `${dateOf(day)}T13:45:00Z` : dateOf(day),
      });
    }
  }

  const events: ScenarioInput['events'] = [
    {
      type: 'ContractCreated',
      contractId: id,
      marketplace: raw.marketplace,
      offerType: raw.offerType,
      renewal: raw.renewal,
      effectiveAt: dateOf(start - raw.acceptLag),
      currency,
      term: { start: dateOf(start), end: dateOf(end) },
      totalMinor: String(buyerPrice),
      installments: given.map(([day, amount]) => ({
        date: dateOf(day),
        amountMinor: String(amount),
      })),
      reseller: channel
        ? { wholesaleMinor: String(price), buyerPriceMinor: String(buyerPrice) }
        : null,
      usageRates: [...unitPrices].map(([dimension, unitPrice]) => ({ dimension, unitPrice })),
      trialEnd: trial > 0 ? dateOf(serviceStart) : null,
    },
    ...usageEvents,
  ];
  if (raw.disbursement) {
    events.push({
      type: 'DisbursementReceived',
      contractId: id,
      // Named: the default id is the event's index in the scenario, which other contracts shift.
      disbursementId: `${id}-payout`,
      effectiveAt: dateOf(serviceStart + (raw.disbursement.at % serviceDays)),
      currency,
      amountMinor: String(raw.disbursement.amount),
    });
  }
  return {
    id,
    marketplace: raw.marketplace,
    currency,
    channel,
    price,
    buyerPrice,
    serviceStart,
    end,
    installments,
    usage,
    unitPrices,
    events,
  };
}

const presentationArb = fc.oneof(
  fc.constantFrom('gross', 'net'),
  fc.record({ aws: fc.constantFrom('gross', 'net'), gcp: fc.constantFrom('gross', 'net') }),
);

const scenarioArb = fc
  .record({
    contracts: fc.array(rawContractArb, { minLength: 1, maxLength: 3 }),
    presentation: presentationArb,
    feePolicy: fc.constantFrom('expense_on_invoice', 'amortize_with_revenue'),
    cppoFeeBase: fc.constantFrom('wholesale', 'buyer'),
    unbilledClassification: fc.constantFrom('unbilled_receivable', 'contract_asset'),
    usageInvoiceDay: fc.integer({ min: 1, max: 28 }),
    fx: fc.array(fc.integer({ min: 8_000, max: 13_000 }), { minLength: 1, maxLength: 12 }),
    asOfAt: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
  })
  .map((raw) => {
    const models = raw.contracts.map(buildContract);
    const firstStart = Math.min(...models.map((m) => m.serviceStart));
    // Past every term end too: a foreign-currency contract keeps running month-ends after it.
    const limit = Math.max(...models.map((m) => m.end)) + 75;
    const asOf = dateOf(firstStart + Math.floor(raw.asOfAt * (limit - firstStart)));
    // A EUR→USD quote on the first of every month, cycling through the generated rates.
    const fxRates: ScenarioInput['fxRates'] = [];
    for (let month = 0; month < 12 * 9; month += 1) {
      const quote = raw.fx[month % raw.fx.length] ?? 10_000;
      fxRates.push({
        date: addMonths('2023-12-01', month),
        base: 'EUR',
        quote: 'USD',
        rate: `${Math.floor(quote / 10_000)}.${String(quote % 10_000).padStart(4, '0')}`,
      });
    }
    const input: ScenarioInput = {
      asOf,
      functionalCurrency: 'USD',
      policies: {
        presentation: raw.presentation as 'gross',
        feePolicy: raw.feePolicy,
        cppoFeeBase: raw.cppoFeeBase,
        unbilledClassification: raw.unbilledClassification,
        usageInvoiceDay: raw.usageInvoiceDay,
      },
      fxRates,
      events: models.flatMap((m) => m.events),
    };
    return { models, input, scenario: ScenarioSchema.parse(input) };
  });

// ---------------------------------------------------------------------------------------------
// The model's expectations
// ---------------------------------------------------------------------------------------------

function isNet(scenario: Scenario, model: Model): boolean {
  const p = scenario.policies.presentation;
  return (typeof p === 'string' ? p : p[model.marketplace]) === 'net';
}

function feeOf(scenario: Scenario, result: PreviewResult, model: Model, amount: bigint): bigint {
  const [num, den] = decimal(result.feeRules[model.id]?.rate ?? 'x');
  const tie = model.marketplace === 'aws' ? 'away' : 'even';
  if (scenario.policies.cppoFeeBase === 'buyer' && model.channel && model.price > 0n) {
    return referenceRound(amount * model.buyerPrice * num, model.price * den, tie);
  }
  return referenceRound(amount * num, den, tie);
}

function usageAmountOf(model: Model, month: ReadonlyMap<string, bigint>): bigint {
  let amount = 0n;
  for (const [dimension, thousandths] of month) {
    const [num, den] = decimal(model.unitPrices.get(dimension) ?? '0');
    amount += referenceRound(thousandths * num * 100n, 1000n * den, 'even');
  }
  return amount;
}

/** Ratable cumulative revenue through a month: round_half_even(T · days elapsed / D). */
function ratableThrough(model: Model, period: string): bigint {
  const D = BigInt(model.end - model.serviceStart);
  if (model.price === 0n || D <= 0n) return 0n;
  const elapsed = Math.max(0, Math.min(model.end, periodEndDay(period)) - model.serviceStart);
  return referenceRound(model.price * BigInt(elapsed), D, 'even');
}

/** Billed through a month-end: installments dated by then, and usage months invoiced by then. */
function billedThrough(
  scenario: Scenario,
  result: PreviewResult,
  model: Model,
  monthEnd: number,
): bigint {
  const net = isNet(scenario, model);
  const after = (amount: bigint) =>
    net ? amount - feeOf(scenario, result, model, amount) : amount;
  let billed = 0n;
  for (const [day, amount] of model.installments) if (day <= monthEnd) billed += after(amount);
  for (const [period, month] of model.usage) {
    const invoiceDay = periodEndDay(period) + scenario.policies.usageInvoiceDay - 1;
    if (invoiceDay <= monthEnd) billed += after(usageAmountOf(model, month));
  }
  return billed;
}

function usageRevenueThrough(
  scenario: Scenario,
  result: PreviewResult,
  model: Model,
  period: string,
): bigint {
  let revenue = 0n;
  for (const [month, quantities] of model.usage) {
    if (month > period) continue;
    const gross = usageAmountOf(model, quantities);
    revenue += isNet(scenario, model) ? gross - feeOf(scenario, result, model, gross) : gross;
  }
  return revenue;
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('ledger invariants on random scenarios', () => {
  it('balances every entry per currency and in USD, and the trial balance is zero', () => {
    fc.assert(
      fc.property(scenarioArb, ({ models, scenario }) => {
        const result = previewScenario(scenario);
        const trial = new Map<string, bigint>();
        let functional = 0n;
        const currencyOf = new Map(models.map((m) => [m.id, m.currency]));
        for (const entry of result.entries) {
          expect(journalEntryProblems(entry)).toEqual([]);
          expect(entry.functionalCurrency).toBe('USD');
          expect(entry.date <= scenario.asOf).toBe(true);
          expect(entry.postingPeriod).toBe(entry.date.slice(0, 7));
          const owners = new Set(entry.legs.map((l) => l.contractId));
          expect(owners.size).toBe(1);
          for (const leg of entry.legs) {
            expect(leg.currency).toBe(currencyOf.get(leg.contractId ?? ''));
            trial.set(
              leg.currency,
              (trial.get(leg.currency) ?? 0n) + leg.debitMinor - leg.creditMinor,
            );
            functional += leg.functionalDebitMinor - leg.functionalCreditMinor;
          }
        }
        for (const total of trial.values()) expect(total).toBe(0n);
        expect(functional).toBe(0n);
      }),
      RUNS,
    );
  });

  it('keeps billed − recognized = deferred − unbilled at every month-end, with billed computed independently', () => {
    fc.assert(
      fc.property(scenarioArb, ({ models, scenario }) => {
        const result = previewScenario(scenario);
        for (const model of models) {
          const own = result.entries.filter((e) => e.legs[0]?.contractId === model.id);
          const positions = result.positions[model.id] ?? [];
          for (const position of positions) {
            const monthEnd = lastDayOf(position.period);
            const book = bookFromEntries(
              model.id,
              own.filter((e) => e.date <= monthEnd),
            );
            // The preview's positions are the fold of the entries dated by then.
            const folded = positionOf(book);
            expect(position).toEqual({
              period: position.period,
              billedMinor: folded.billedMinor,
              recognizedMinor: folded.recognizedMinor,
              deferredMinor: folded.deferredMinor,
              unbilledMinor: folded.unbilledMinor,
            });
            const billed = billedThrough(scenario, result, model, utcDay(monthEnd));
            const recognized = -balanceOf(book, '4000') - balanceOf(book, '4100');
            expect(billed - recognized).toBe(position.deferredMinor - position.unbilledMinor);
            expect(position.billedMinor).toBe(billed);
            // One net position per contract: never both a liability and an asset.
            expect(position.deferredMinor >= 0n && position.unbilledMinor >= 0n).toBe(true);
            expect(position.deferredMinor === 0n || position.unbilledMinor === 0n).toBe(true);
            expect(balanceOf(book, '1230') === 0n || balanceOf(book, '1240') === 0n).toBe(true);
            // Usage revenue is the month's usage at the contract's prices (net of the fee if net).
            expect(-balanceOf(book, '4100')).toBe(
              usageRevenueThrough(scenario, result, model, position.period),
            );
            if (!isNet(scenario, model)) {
              expect(-balanceOf(book, '4000')).toBe(ratableThrough(model, position.period));
            }
          }
          // A gross contract whose term and usage are all invoiced ends with no position at all.
          const last = positions.at(-1);
          const lastTermPeriod = periodOfDay(model.end - 1);
          if (last && !isNet(scenario, model) && last.period > lastTermPeriod) {
            expect(last.deferredMinor).toBe(0n);
            expect(last.unbilledMinor).toBe(0n);
            expect(last.recognizedMinor).toBe(
              model.price + usageRevenueThrough(scenario, result, model, last.period),
            );
          }
        }
      }),
      RUNS,
    );
  });

  it('replays identically, with unique deterministic ids, whatever the other contracts', () => {
    fc.assert(
      fc.property(scenarioArb, ({ models, input, scenario }) => {
        const first = previewScenario(scenario);
        const second = previewScenario(ScenarioSchema.parse(input));
        expect(second).toEqual(first);
        const ids = first.entries.map((e) => e.entryId);
        expect(new Set(ids).size).toBe(ids.length);

        for (const model of models) {
          const own = first.entries.filter((e) => e.legs[0]?.contractId === model.id);
          // Folding twice, or one entry at a time, gives the same book.
          const book = bookFromEntries(model.id, own);
          expect(bookFromEntries(model.id, own)).toEqual(book);
          let stepwise = emptyBook(model.id);
          for (const entry of own) stepwise = applyEntry(stepwise, entry);
          expect(stepwise).toEqual(book);
          expect(book.entryCount).toBe(own.length);
          // Entries of other contracts leave this contract's book untouched.
          expect(bookFromEntries(model.id, first.entries).accounts).toEqual(book.accounts);

          // The contract alone posts exactly the same entries, ids included.
          const alone = previewScenario(ScenarioSchema.parse({ ...input, events: model.events }));
          expect(alone.entries).toEqual(own);
          expect(alone.positions[model.id]).toEqual(first.positions[model.id]);
        }
      }),
      { ...RUNS, numRuns: 40 },
    );
  });
});
