// Proves the commission engine's invariants on random inputs: flat-plan cumulative commission = roundHalfEven(rate × cumulative basis), partner bases sum to the contract's and telescope, accelerators and caps against an independent reference, FIFO holds unit by unit, the statement identity tying to 2100/2110, identical replays, balanced entries, and amortization summing to the capitalized amount.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, type Period, periodStart } from '../../../../lib/domain/calendar';
import {
  amortizationFor,
  type ClawbackInput,
  type CommissionBalances,
  type CommissionLine,
  type ContractBasisFacts,
  computePartnerPeriod,
  coverageOf,
  coversMoreThanTwelveMonths,
  dealPeriodInputFor,
  type HeldLineState,
  holdSplit,
  type InvoiceFact,
  monthlyAccrual,
  type PartnerPeriodInput,
  partnerMonthlyBasis,
  quarterOf,
  quarterToDateCommission,
  releaseHolds,
} from '../../../../lib/domain/commission/engine';
import {
  type CommissionPlan,
  type CommissionPlanInput,
  parseCommissionPlan,
} from '../../../../lib/domain/commission/plan';
import { journalEntryProblems } from '../../../../lib/domain/ledger';
import { type Rational, rational } from '../../../../lib/domain/money';
import { referenceRound } from '../../helpers/reference-rounding';

const RUNS = { numRuns: 80, seed: 20251012 } as const;
const PARTNER = 'P-1';

/** Basis points as a percent string, without floats: 1250n → "12.50". */
const bpsText = (bps: bigint) => `${bps / 100n}.${String(bps % 100n).padStart(2, '0')}`;

/** Independent exact arithmetic on fractions n/d (bigint), for references. */
const frac = (num: bigint, den: bigint) => ({ num, den });
const addFrac = (a: { num: bigint; den: bigint }, b: { num: bigint; den: bigint }) =>
  frac(a.num * b.den + b.num * a.den, a.den * b.den);

function flatPlan(rateBps: bigint, extra: Partial<CommissionPlanInput> = {}): CommissionPlan {
  return parseCommissionPlan({
    planId: 'flat',
    version: 1,
    effectiveFrom: '2024-01-01',
    currency: 'USD',
    rateTable: [{ tier: 'Gold', dealType: 'sourced', ratePercent: bpsText(rateBps) }],
    hold: { payWhen: 'immediately' },
    ...extra,
  });
}

function periodInput(
  plan: CommissionPlan,
  month: Period,
  deals: PartnerPeriodInput['deals'],
  extra: Partial<PartnerPeriodInput> = {},
): PartnerPeriodInput {
  return {
    partnerId: PARTNER,
    tier: 'Gold',
    period: month,
    plan,
    functionalCurrency: 'USD',
    source: { kind: 'run', id: `commission:${month}` },
    opening: { payableMinor: 0n, heldMinor: 0n },
    deals,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Flat plans and partner bases
// ---------------------------------------------------------------------------------------------

describe('flat plans', () => {
  it('cumulative commission through each month of a quarter = roundHalfEven(rate × cumulative basis)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.array(
          fc.array(fc.bigInt({ min: 0n, max: 10n ** 11n }), { minLength: 3, maxLength: 3 }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (rateBps, bases) => {
          const plan = flatPlan(rateBps);
          const months = ['2025-04', '2025-05', '2025-06'] as const;
          let cumulativeCommission = 0n;
          const before = bases.map(() => 0n);
          months.forEach((month, m) => {
            const result = computePartnerPeriod(
              periodInput(
                plan,
                month,
                bases.map((monthly, i) => ({
                  contractId: `C-${i}`,
                  dealType: 'sourced' as const,
                  product: null,
                  attributionVersion: 1,
                  basisMinor: monthly[m] ?? 0n,
                  quarterBasisBeforeMinor: before[i] ?? 0n,
                  contractBasis: { quarterStartMinor: 0n, monthStartMinor: 0n, monthEndMinor: 0n },
                  invoices: [],
                })),
              ),
            );
            bases.forEach((monthly, i) => {
              before[i] = (before[i] ?? 0n) + (monthly[m] ?? 0n);
            });
            cumulativeCommission += result.totals.earnedMinor;
            const cumulativeBasis = before.reduce((a, b) => a + b, 0n);
            expect(cumulativeCommission).toBe(
              referenceRound(rateBps * cumulativeBasis, 10_000n, 'even'),
            );
            // The lines sum to the partner total.
            const lines = result.lines.reduce((s, l) => s + l.amountMinor, 0n);
            expect(lines).toBe(result.totals.earnedMinor);
          });
        },
      ),
      RUNS,
    );
  });

  it('partner monthly bases sum to the contract monthly basis and telescope to the split of the cumulative', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(10n ** 9n), max: 10n ** 12n }), {
          minLength: 1,
          maxLength: 24,
        }),
        fc.array(
          fc.record({
            weight: fc.bigInt({ min: 1n, max: 1000n }),
            day: fc.integer({ min: 1, max: 28 }),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (cumulative, parties) => {
          const totalWeight = parties.reduce((s, p) => s + p.weight, 0n);
          const shares = parties.map((p, i) => ({
            partnerId: `P-${i}`,
            weight: rational(p.weight, totalWeight),
            firstTouchAt: `2025-01-${String(p.day).padStart(2, '0')}T00:00:00Z`,
          }));
          const points = cumulative.map((c, k) => ({
            period: `20${String(20 + Math.floor(k / 12))}-${String((k % 12) + 1).padStart(2, '0')}`,
            cumulativeMinor: c,
          }));
          const rows = partnerMonthlyBasis(points, shares);
          expect(rows).toHaveLength(points.length * shares.length);
          points.forEach((point, k) => {
            const month = rows.filter((r) => r.period === point.period);
            const sum = month.reduce((s, r) => s + r.basisMinor, 0n);
            expect(sum).toBe(point.cumulativeMinor - (points[k - 1]?.cumulativeMinor ?? 0n));
          });
          parties.forEach((party, i) => {
            const own = rows.filter((r) => r.partnerId === `P-${i}`);
            let running = 0n;
            own.forEach((row, k) => {
              running += row.basisMinor;
              expect(row.cumulativeMinor).toBe(running);
              // Independent check: each cumulative split is within one unit of the exact share.
              const exactTimesTotal = (points[k]?.cumulativeMinor ?? 0n) * party.weight;
              const diff = running * totalWeight - exactTimesTotal;
              expect(diff < totalWeight && diff > -totalWeight).toBe(true);
            });
          });
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Accelerators and caps against an independent reference
// ---------------------------------------------------------------------------------------------

const bandsArb = fc
  .array(
    fc.record({
      width: fc.bigInt({ min: 1n, max: 10n ** 9n }),
      uplift: fc.bigInt({ min: 0n, max: 600n }),
    }),
    {
      minLength: 1,
      maxLength: 4,
    },
  )
  .map((raw) => {
    // Accelerators: uplifts never decrease from one band to the next.
    const uplifts = raw.map((b) => b.uplift).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let from = 0n;
    return raw.map((band, index) => {
      const last = index === raw.length - 1;
      const out = {
        fromMinor: from,
        toMinor: last ? null : from + band.width,
        upliftBps: uplifts[index] ?? 0n,
      };
      from += band.width;
      return out;
    });
  });
type Bands = { fromMinor: bigint; toMinor: bigint | null; upliftBps: bigint }[];

function acceleratedPlan(
  mode: 'graduated' | 'retroactive',
  bands: Bands,
  rates: { sourced: bigint; influenced: bigint },
  caps: { partner: bigint | null; deal: bigint | null } = { partner: null, deal: null },
): CommissionPlan {
  return parseCommissionPlan({
    planId: 'acc',
    version: 1,
    effectiveFrom: '2024-01-01',
    currency: 'USD',
    rateTable: [
      { tier: 'Gold', dealType: 'sourced', rateBps: Number(rates.sourced) },
      { tier: 'Gold', dealType: 'influenced', rateBps: Number(rates.influenced) },
    ],
    accelerator: {
      mode,
      bands: bands.map((b) => ({
        fromMinor: String(b.fromMinor),
        ...(b.toMinor === null ? {} : { toMinor: String(b.toMinor) }),
        upliftPercent: bpsText(b.upliftBps),
      })),
    },
    caps: {
      ...(caps.partner === null ? {} : { perPartnerPerQuarterMinor: String(caps.partner) }),
      ...(caps.deal === null ? {} : { perDealPerYearMinor: String(caps.deal) }),
    },
  });
}

/** The uplift on measure X, exact, written from the definitions (not the engine). */
function referenceUplift(mode: 'graduated' | 'retroactive', bands: Bands, x: bigint) {
  if (mode === 'retroactive') {
    const reached = bands.filter((b) => x >= b.fromMinor).at(-1);
    return frac(x * (reached?.upliftBps ?? 0n), 10_000n);
  }
  return bands.reduce(
    (sum, b) => {
      const top = b.toMinor === null || x < b.toMinor ? x : b.toMinor;
      const inBand = top > b.fromMinor ? top - b.fromMinor : 0n;
      return addFrac(sum, frac(inBand * b.upliftBps, 10_000n));
    },
    frac(0n, 1n),
  );
}

const linesArb = fc.array(
  fc.record({
    measured: fc.boolean(),
    months: fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 3, maxLength: 3 }),
  }),
  { minLength: 1, maxLength: 4 },
);

describe('accelerators and caps', () => {
  it('months telescope to F at quarter end; F = round(Σ rate × basis + uplift); retroactive ≥ graduated ≥ none', () => {
    fc.assert(
      fc.property(
        bandsArb,
        linesArb,
        fc.bigInt({ min: 0n, max: 3_000n }),
        fc.bigInt({ min: 0n, max: 3_000n }),
        (bands, lines, sourced, influenced) => {
          const totals: Record<string, bigint> = {};
          for (const mode of ['graduated', 'retroactive'] as const) {
            const plan = acceleratedPlan(mode, bands, { sourced, influenced });
            const rateOf = (measured: boolean) =>
              rational(measured ? sourced : influenced, 10_000n);
            let earned = 0n;
            const perLine = lines.map(() => 0n);
            for (let m = 0; m < 3; m += 1) {
              const accrual = monthlyAccrual(
                plan,
                lines.map((line, i) => ({
                  id: `C-${i}`,
                  rate: rateOf(line.measured),
                  measured: line.measured,
                  basisBeforeMinor: line.months.slice(0, m).reduce((a, b) => a + b, 0n),
                  basisMinor: line.months[m] ?? 0n,
                  dealCapMinor: null,
                })),
              );
              earned += accrual.amountMinor;
              accrual.lines.forEach((l, i) => {
                perLine[i] = (perLine[i] ?? 0n) + l.amountMinor;
              });
            }
            const qtd = lines.map((l) => l.months.reduce((a, b) => a + b, 0n));
            const measure = lines.reduce((s, l, i) => s + (l.measured ? (qtd[i] ?? 0n) : 0n), 0n);
            let exact = referenceUplift(mode, bands, measure);
            lines.forEach((line, i) => {
              exact = addFrac(
                exact,
                frac((qtd[i] ?? 0n) * (line.measured ? sourced : influenced), 10_000n),
              );
            });
            expect(earned).toBe(referenceRound(exact.num, exact.den, 'even'));
            expect(perLine.reduce((a, b) => a + b, 0n)).toBe(earned);
            totals[mode] = earned;
            const flat = lines.reduce(
              (s, line, i) =>
                addFrac(s, frac((qtd[i] ?? 0n) * (line.measured ? sourced : influenced), 10_000n)),
              frac(0n, 1n),
            );
            expect(earned >= referenceRound(flat.num, flat.den, 'even')).toBe(true);
          }
          expect((totals.retroactive ?? 0n) >= (totals.graduated ?? 0n)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('never exceeds the partner cap or a deal cap, and capped lines still sum to the earned total', () => {
    fc.assert(
      fc.property(
        bandsArb,
        linesArb,
        fc.bigInt({ min: 0n, max: 10n ** 8n }),
        fc.bigInt({ min: 0n, max: 10n ** 8n }),
        fc.constantFrom('graduated' as const, 'retroactive' as const),
        (bands, lines, partnerCap, dealCap, mode) => {
          const rates = { sourced: 2_000n, influenced: 1_000n };
          const plan = acceleratedPlan(mode, bands, rates, { partner: partnerCap, deal: dealCap });
          const uncapped = acceleratedPlan(mode, bands, rates);
          const state = lines.map((line, i) => ({
            id: `C-${i}`,
            rate: rational(line.measured ? 2_000n : 1_000n, 10_000n),
            measured: line.measured,
            basisMinor: line.months.reduce((a, b) => a + b, 0n),
            dealCapMinor: dealCap,
          }));
          const result = quarterToDateCommission(plan, state);
          const free = quarterToDateCommission(
            uncapped,
            state.map((s) => ({ ...s, dealCapMinor: null })),
          );
          expect(result.earnedMinor <= partnerCap).toBe(true);
          expect(result.earnedMinor <= free.earnedMinor).toBe(true);
          for (const line of result.lines) {
            expect(line.amountMinor >= 0n && line.amountMinor <= dealCap).toBe(true);
          }
          expect(result.lines.reduce((s, l) => s + l.amountMinor, 0n)).toBe(result.earnedMinor);
          expect(result.uncappedMinor).toBe(free.earnedMinor);
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Holds: FIFO coverage unit by unit, release to the cent
// ---------------------------------------------------------------------------------------------

const invoicesArb = fc.array(
  fc.record({
    amount: fc.bigInt({ min: 0n, max: 60n }),
    day: fc.integer({ min: 1, max: 28 }),
    disbursedDay: fc.option(fc.integer({ min: 0, max: 60 }), { freq: 3 }),
  }),
  { maxLength: 5 },
);

function invoicesFrom(
  raw: { amount: bigint; day: number; disbursedDay: number | null }[],
): InvoiceFact[] {
  return raw.map((r, i) => {
    const date = `2025-03-${String(r.day).padStart(2, '0')}`;
    return {
      invoiceId: `inv-${i}`,
      date,
      amountMinor: r.amount,
      disbursedOn: r.disbursedDay === null ? null : addDays(date, r.disbursedDay),
    };
  });
}

describe('holds', () => {
  it('the payable fraction is the share of basis units lying on disbursed invoices, first in first out', () => {
    fc.assert(
      fc.property(
        invoicesArb,
        fc.bigInt({ min: 0n, max: 300n }),
        fc.bigInt({ min: 0n, max: 300n }),
        fc.integer({ min: 0, max: 90 }),
        (raw, a, b, asOfDays) => {
          const invoices = invoicesFrom(raw);
          const asOf = addDays('2025-03-01', asOfDays);
          const coverage = coverageOf(
            { fromMinor: a, toMinor: b },
            invoices,
            'disbursed',
            'recognized',
            asOf,
          );
          // Reference: walk every unit (low, high] and find the invoice it sits on.
          const ordered = [...invoices].sort((x, y) =>
            x.date === y.date ? (x.invoiceId < y.invoiceId ? -1 : 1) : x.date < y.date ? -1 : 1,
          );
          const low = a < b ? a : b;
          const high = a < b ? b : a;
          let covered = 0n;
          for (let unit = low + 1n; unit <= high; unit += 1n) {
            let start = 0n;
            for (const invoice of ordered) {
              if (unit > start && unit <= start + invoice.amountMinor) {
                if (invoice.disbursedOn !== null && invoice.disbursedOn <= asOf) covered += 1n;
                break;
              }
              start += invoice.amountMinor;
            }
          }
          const expected: Rational = high === low ? rational(1n) : rational(covered, high - low);
          expect(coverage.fraction).toEqual(expected);
          const split = holdSplit(1_000_003n, coverage.fraction);
          expect(split.payableMinor + split.heldMinor).toBe(1_000_003n);
          expect(split.heldMinor >= 0n && split.payableMinor >= 0n).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('releases held commission step by step, never more than held, all of it once every invoice is disbursed', () => {
    fc.assert(
      fc.property(invoicesArb, fc.bigInt({ min: 1n, max: 10n ** 9n }), (raw, amount) => {
        const invoices = invoicesFrom(raw).map((inv) => ({
          ...inv,
          amountMinor: inv.amountMinor + 1n,
        }));
        const billed = invoices.reduce((s, i) => s + i.amountMinor, 0n);
        const range = { fromMinor: 0n, toMinor: billed };
        const atAccrual = coverageOf(range, invoices, 'disbursed', 'recognized', '2025-03-01');
        const split = holdSplit(amount, atAccrual.fraction);
        const line = {
          lineId: 'cl_line',
          partnerId: PARTNER,
          contractId: 'C-1',
          amountMinor: amount,
          heldMinor: split.heldMinor,
          basisKind: 'recognized',
          hold: { condition: 'disbursed', range, pendingInvoiceIds: [], unbilledMinor: 0n },
        } as unknown as CommissionLine;
        let released = 0n;
        const ids = new Set<string>();
        for (let day = 0; day <= 100; day += 10) {
          const out = releaseHolds(
            { partnerId: PARTNER, functionalCurrency: 'USD', asOf: addDays('2025-03-01', day) },
            [{ line, invoices, releasedMinor: released, clawedBackFromHeldMinor: 0n }],
          );
          for (const entry of out.entries) {
            expect(journalEntryProblems(entry)).toEqual([]);
            expect(ids.has(entry.entryId)).toBe(false);
            ids.add(entry.entryId);
          }
          released += out.releases.reduce((s, r) => s + r.releasedMinor, 0n);
          expect(released <= split.heldMinor).toBe(true);
        }
        const allDisbursed = invoices.every((i) => i.disbursedOn !== null);
        if (allDisbursed) expect(released).toBe(split.heldMinor);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Random multi-month scenarios: statement identity, ledger ties, replay, balanced entries
// ---------------------------------------------------------------------------------------------

const MONTHS = ['2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10'] as const;

const planArb = fc
  .record({
    basis: fc.constantFrom('recognized' as const, 'billed' as const, 'collected' as const),
    sourced: fc.bigInt({ min: 0n, max: 3_000n }),
    influenced: fc.bigInt({ min: 0n, max: 3_000n }),
    resale: fc.option(fc.bigInt({ min: 0n, max: 500n })),
    accelerator: fc.option(
      fc.record({
        mode: fc.constantFrom('graduated' as const, 'retroactive' as const),
        bands: bandsArb,
      }),
    ),
    partnerCap: fc.option(fc.bigInt({ min: 0n, max: 10n ** 8n })),
    dealCap: fc.option(fc.bigInt({ min: 0n, max: 10n ** 8n })),
    payWhen: fc.constantFrom('disbursed' as const, 'invoiced' as const, 'immediately' as const),
    minimum: fc.bigInt({ min: 0n, max: 10n ** 7n }),
    schedule: fc.constantFrom('monthly' as const, 'quarterly' as const),
  })
  .map((p) =>
    parseCommissionPlan({
      planId: 'random',
      version: 1,
      effectiveFrom: '2025-01-01',
      currency: 'USD',
      basis: p.basis,
      rateTable: [
        { tier: 'Gold', dealType: 'sourced', ratePercent: bpsText(p.sourced) },
        { tier: 'Gold', dealType: 'influenced', ratePercent: bpsText(p.influenced) },
        ...(p.resale === null
          ? []
          : [{ tier: 'Gold', dealType: 'resale' as const, rateBps: Number(p.resale) }]),
      ],
      ...(p.accelerator === null
        ? {}
        : {
            accelerator: {
              mode: p.accelerator.mode,
              bands: p.accelerator.bands.map((b) => ({
                fromMinor: String(b.fromMinor),
                ...(b.toMinor === null ? {} : { toMinor: String(b.toMinor) }),
                upliftPercent: bpsText(b.upliftBps),
              })),
            },
          }),
      caps: {
        ...(p.partnerCap === null ? {} : { perPartnerPerQuarterMinor: String(p.partnerCap) }),
        ...(p.dealCap === null ? {} : { perDealPerYearMinor: String(p.dealCap) }),
      },
      hold: { payWhen: p.payWhen },
      minimumPayoutMinor: String(p.minimum),
      payoutSchedule: p.schedule,
    }),
  );

const contractArb = fc.record({
  dealType: fc.constantFrom('sourced' as const, 'influenced' as const, 'resale' as const),
  weight: fc.bigInt({ min: 1n, max: 4n }),
  monthly: fc.array(fc.bigInt({ min: 0n, max: 10n ** 8n }), {
    minLength: MONTHS.length,
    maxLength: MONTHS.length,
  }),
  invoices: fc.array(
    fc.record({
      amount: fc.bigInt({ min: 1n, max: 3n * 10n ** 8n }),
      month: fc.integer({ min: 0, max: MONTHS.length - 1 }),
      disbursedAfter: fc.option(fc.integer({ min: 0, max: 75 })),
    }),
    { maxLength: 4 },
  ),
  capitalize: fc.boolean(),
});

const scenarioArb = fc.record({
  plan: planArb,
  contracts: fc.array(contractArb, { minLength: 1, maxLength: 3 }),
  credits: fc.array(
    fc.record({
      month: fc.integer({ min: 1, max: MONTHS.length - 1 }),
      percent: fc.bigInt({ min: 1n, max: 100n }),
    }),
    { maxLength: 3 },
  ),
  opening: fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function factsOf(contract: Scenario['contracts'][number]): ContractBasisFacts {
  let running = 0n;
  return {
    recognizedCumulative: contract.monthly.map((amount, k) => {
      running += amount;
      return { period: MONTHS[k] ?? '2025-05', cumulativeMinor: running };
    }),
    invoices: contract.invoices.map((inv, i) => {
      const date = addDays(periodStart(MONTHS[inv.month] ?? '2025-05'), i);
      return {
        invoiceId: `inv-${i}`,
        date,
        amountMinor: inv.amount,
        disbursedOn: inv.disbursedAfter === null ? null : addDays(date, inv.disbursedAfter),
        disbursedNetMinor: inv.amount - inv.amount / 33n,
      };
    }),
  };
}

/** Runs a scenario month by month, as an app would, checking each month as it goes. */
function runScenario(scenario: Scenario) {
  const { plan } = scenario;
  // A second partner shares every contract, so the partner's basis is a true split.
  const shares = (weight: bigint) => [
    {
      partnerId: PARTNER,
      weight: rational(weight, weight + 1n),
      firstTouchAt: '2025-01-01T00:00:00Z',
    },
    { partnerId: 'P-2', weight: rational(1n, weight + 1n), firstTouchAt: '2025-01-02T00:00:00Z' },
  ];
  let opening: CommissionBalances = { payableMinor: scenario.opening, heldMinor: 0n };
  let ledgerPayable = scenario.opening;
  let ledgerHeld = 0n;
  const held = new Map<string, HeldLineState>();
  const accrued: CommissionLine[] = [];
  const earnedByQuarter = new Map<string, bigint>();
  const entryIds = new Set<string>();

  MONTHS.forEach((month, k) => {
    const quarter = quarterOf(month);
    const deals = scenario.contracts.map((contract, i) => {
      const earlier = [...earnedByQuarter.entries()]
        .filter(([key]) => key.startsWith(`C-${i}|${month.slice(0, 4)}`) && !key.endsWith(quarter))
        .reduce((s, [, v]) => s + v, 0n);
      return dealPeriodInputFor({
        partnerId: PARTNER,
        period: month,
        basisKind: plan.basis,
        contractId: `C-${i}`,
        dealType: contract.dealType,
        product: null,
        attributionVersion: 1,
        shares: shares(contract.weight),
        facts: factsOf(contract),
        earnedEarlierInYearMinor: earlier,
        capitalize: plan.basis === 'billed' && contract.capitalize,
      });
    });
    const clawbacks: ClawbackInput[] = scenario.credits
      .filter((c) => c.month === k)
      .flatMap((credit, j) => {
        const original = accrued.filter((l) => l.amountMinor > 0n && l.basisMinor > 0n)[j];
        if (!original) return [];
        const state = held.get(original.lineId);
        return [
          {
            contractId: original.contractId,
            creditId: `credit-${month}-${j}`,
            basisMinor: -((original.basisMinor * credit.percent) / 100n),
            reversesLineId: original.lineId,
            ratePercent: original.ratePercent,
            dealType: original.dealType,
            product: original.product,
            attributionVersion: original.attributionVersion,
            heldOutstandingMinor: state
              ? state.line.heldMinor - state.releasedMinor - state.clawedBackFromHeldMinor
              : 0n,
            creditAccount: original.expenseAccount,
          },
        ];
      });
    const input = periodInput(plan, month, deals, {
      opening,
      clawbacks,
      heldLines: [...held.values()],
    });
    const result = computePartnerPeriod(input);

    // Replay, and the same input in another order, give the same result.
    expect(computePartnerPeriod(input)).toEqual(result);
    expect(
      computePartnerPeriod({
        ...input,
        deals: [...deals].reverse(),
        clawbacks: [...clawbacks].reverse(),
        heldLines: [...held.values()].reverse(),
      }),
    ).toEqual(result);

    // Every entry balances, carries the partner, and has an id never seen before.
    for (const entry of result.entries) {
      expect(journalEntryProblems(entry)).toEqual([]);
      expect(entry.legs.every((l) => l.partnerId === PARTNER)).toBe(true);
      expect(entryIds.has(entry.entryId)).toBe(false);
      entryIds.add(entry.entryId);
      for (const leg of entry.legs) {
        if (leg.account === '2100') ledgerPayable += leg.creditMinor - leg.debitMinor;
        if (leg.account === '2110') ledgerHeld += leg.creditMinor - leg.debitMinor;
      }
    }
    // Statement identity: opening + earned − clawed back − paid = closing, tying to 2100/2110.
    const t = result.totals;
    expect(
      opening.payableMinor + opening.heldMinor + t.earnedMinor - t.clawedBackMinor - t.paidMinor,
    ).toBe(result.closing.payableMinor + result.closing.heldMinor);
    expect(result.closing).toEqual({ payableMinor: ledgerPayable, heldMinor: ledgerHeld });
    // A negative balance is carried forward, never paid or billed.
    if (result.payout) expect(result.payout.amountMinor > 0n).toBe(true);
    if (result.closing.payableMinor < 0n) expect(result.payout).toBeNull();
    // Lines: an accrual's held part is within its amount; resale never hits 6100.
    for (const line of result.lines.filter((l) => l.kind === 'accrual')) {
      if (line.amountMinor >= 0n) {
        expect(line.heldMinor >= 0n && line.heldMinor <= line.amountMinor).toBe(true);
      }
      if (line.dealType === 'resale') expect(line.expenseAccount).toBe('4900');
    }

    // Carry the state forward as the app would.
    opening = result.closing;
    for (const line of result.lines) {
      if (line.kind !== 'accrual') continue;
      accrued.push(line);
      const key = `${line.contractId}|${quarter}`;
      earnedByQuarter.set(key, (earnedByQuarter.get(key) ?? 0n) + line.amountMinor);
      if (line.heldMinor > 0n) {
        const contract = scenario.contracts[Number(line.contractId.slice(2))];
        if (contract) {
          held.set(line.lineId, {
            line,
            invoices: factsOf(contract).invoices,
            releasedMinor: 0n,
            clawedBackFromHeldMinor: 0n,
          });
        }
      }
    }
    for (const release of result.releases) {
      const state = held.get(release.lineId);
      if (state)
        held.set(release.lineId, { ...state, releasedMinor: release.cumulativeReleasedMinor });
    }
    for (const line of result.lines.filter((l) => l.kind === 'clawback')) {
      const state = line.reversesLineId ? held.get(line.reversesLineId) : undefined;
      if (state && line.reversesLineId) {
        held.set(line.reversesLineId, {
          ...state,
          clawedBackFromHeldMinor: state.clawedBackFromHeldMinor - line.heldMinor,
        });
      }
    }
  });
  return { entryIds };
}

describe('random partner scenarios over six months (three quarters)', () => {
  it('statement identity ties to 2100/2110, replay is identical, every entry balances', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => void runScenario(scenario)),
      {
        ...RUNS,
        numRuns: 60,
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Capitalized commission (rule 7)
// ---------------------------------------------------------------------------------------------

describe('capitalized commission', () => {
  it('is amortized with the revenue and sums exactly to the capitalized amount', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 7n }), { minLength: 1, maxLength: 36 }),
        (capitalized, monthly) => {
          const total = monthly.reduce((a, b) => a + b, 0n);
          if (total === 0n) return;
          let before = 0n;
          let sum = 0n;
          for (const amount of monthly) {
            const step = amortizationFor({
              contractId: 'C-1',
              capitalizedLineId: 'cl_x',
              capitalizedMinor: capitalized,
              benefitTotalMinor: total,
              recognizedBeforeMinor: before,
              recognizedThroughMinor: before + amount,
            });
            expect(step >= 0n).toBe(true);
            before += amount;
            sum += step;
            expect(sum).toBe(referenceRound(capitalized * before, total, 'even'));
          }
          expect(sum).toBe(capitalized);
        },
      ),
      RUNS,
    );
  });

  it('posts a 3-year billed invoice to 1400 and amortizes it Dr 6100 / Cr 1400', () => {
    const plan = flatPlan(1_000n, { basis: 'billed' });
    const invoice: InvoiceFact = {
      invoiceId: 'inv-3y',
      date: '2025-01-01',
      amountMinor: 36_000_000n,
      disbursedOn: '2025-02-01',
    };
    const deal = dealPeriodInputFor({
      partnerId: PARTNER,
      period: '2025-01',
      basisKind: 'billed',
      contractId: 'C-3Y',
      dealType: 'sourced',
      product: null,
      attributionVersion: 1,
      shares: [{ partnerId: PARTNER, weight: rational(1n), firstTouchAt: '2024-12-01T00:00:00Z' }],
      facts: { recognizedCumulative: [], invoices: [invoice] },
      capitalize: true,
    });
    const january = computePartnerPeriod(
      periodInput(plan, '2025-01', [deal], {
        amortizations: [
          {
            contractId: 'C-3Y',
            capitalizedLineId: 'cl_3y',
            capitalizedMinor: 3_600_000n,
            benefitTotalMinor: 36_000_000n,
            recognizedBeforeMinor: 0n,
            recognizedThroughMinor: 1_019_178n,
          },
        ],
      }),
    );
    const byRule = (rule: string) =>
      january.entries
        .filter((e) => e.rule === rule)
        .flatMap((e) => e.legs.map((l) => [l.account, l.debitMinor, l.creditMinor]));
    expect(byRule('commission-capitalization')).toEqual([
      ['1400', 3_600_000n, 0n],
      ['2100', 0n, 3_600_000n],
    ]);
    expect(byRule('commission-accrual')).toEqual([]);
    // 3,600,000 × 1,019,178 / 36,000,000 = 101,917.8 → 101,918 (January of WE-1's schedule).
    expect(byRule('commission-amortization')).toEqual([
      ['6100', 101_918n, 0n],
      ['1400', 0n, 101_918n],
    ]);
    expect(january.totals).toMatchObject({
      earnedMinor: 3_600_000n,
      capitalizedMinor: 3_600_000n,
      amortizedMinor: 101_918n,
      expenseMinor: 101_918n,
    });
    expect(january.lines[0]?.expenseAccount).toBe('1400');
    expect(coversMoreThanTwelveMonths({ start: '2025-01-01', end: '2028-01-01' })).toBe(true);
    expect(coversMoreThanTwelveMonths({ start: '2025-01-01', end: '2026-01-01' })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Posting conventions
// ---------------------------------------------------------------------------------------------

describe('posting conventions', () => {
  const plan = flatPlan(1_000n, { basis: 'billed' });
  const deal = (basisMinor: bigint, before: bigint) => ({
    contractId: 'C-1',
    dealType: 'sourced' as const,
    product: null,
    attributionVersion: 1,
    basisMinor,
    quarterBasisBeforeMinor: before,
    contractBasis: {
      quarterStartMinor: 0n,
      monthStartMinor: before,
      monthEndMinor: before + basisMinor,
    },
    invoices: [],
  });

  it('posts a month whose period is closed in the first open period, keeping its date (rule 14)', () => {
    const result = computePartnerPeriod(
      periodInput(plan, '2025-09', [deal(100_000n, 0n)], { firstOpenPeriod: '2025-11' }),
    );
    const entry = result.entries.find((e) => e.rule === 'commission-accrual');
    expect([entry?.date, entry?.postingPeriod]).toEqual(['2025-09-30', '2025-11']);
    expect(result.payout?.dueDate).toBe('2025-10-15');
    expect(result.entries.find((e) => e.rule === 'commission-payout')?.postingPeriod).toBe(
      '2025-11',
    );
  });

  it('keys a month-end run by partner and period, an event-driven accrual by its event', () => {
    const run = (id: string) =>
      computePartnerPeriod(
        periodInput(plan, '2025-09', [deal(100_000n, 0n)], { source: { kind: 'run', id } }),
      );
    const a = run('commission:2025-09');
    const b = run('commission:2025-09:retry');
    expect(b.entries.map((e) => e.entryId)).toEqual(a.entries.map((e) => e.entryId));
    expect(b.lines.map((l) => l.lineId)).toEqual(a.lines.map((l) => l.lineId));
    const event = (id: string, basis: bigint, before: bigint) =>
      computePartnerPeriod(
        periodInput(plan, '2025-09', [deal(basis, before)], { source: { kind: 'event', id } }),
      );
    const first = event('invoice:1', 100_000n, 0n);
    const second = event('invoice:2', 50_000n, 100_000n);
    expect(first.totals.earnedMinor + second.totals.earnedMinor).toBe(15_000n);
    const ids = [...first.entries, ...second.entries].map((e) => e.entryId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(first.lines[0]?.lineId).not.toBe(second.lines[0]?.lineId);
    expect(first.lines[0]?.runId).toBeNull();
  });

  it('rejects inputs it cannot post, listing every problem at once', () => {
    try {
      computePartnerPeriod(
        periodInput(plan, '2025-09', [deal(-1n, 0n), deal(5n, 0n)], {
          functionalCurrency: 'EUR',
          clawbacks: [
            {
              contractId: 'C-1',
              creditId: 'x',
              basisMinor: -1n,
              reversesLineId: 'cl_1',
              ratePercent: '140',
              dealType: 'sourced',
              product: null,
              attributionVersion: null,
            },
          ],
        }),
      );
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe('invalid_commission_input');
      const details = (error as { details: { path: string; code: string }[] }).details;
      expect(details.map((d) => `${d.path}:${d.code}`)).toEqual([
        'plan.currency:currency_mismatch',
        'deals.0.basisMinor:negative_basis',
        'deals.1:duplicate_deal',
        'clawbacks.0.ratePercent:rate_out_of_range',
      ]);
    }
  });
});
