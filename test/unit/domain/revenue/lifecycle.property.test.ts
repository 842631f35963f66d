// Proves the contract-lifecycle invariants on random scenarios (finance.md rules 8, 11, §2.5, §2.7, §4.5): a prospective amendment never changes a recognized month and spreads the remaining price exactly; a cancellation bills nothing from its date and, with refunds, ends at billed − refunded with no deferred revenue left; every entry balances; replays and input order change nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { journalEntryProblems } from '../../../../lib/domain/ledger';
import {
  balanceOf,
  bookFromEntries,
  functionalBalanceOf,
} from '../../../../lib/domain/revenue/book';
import {
  type PreviewResult,
  previewScenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';
import { referenceRound } from '../../helpers/reference-rounding';

const RUNS = { numRuns: 80, seed: 20250301 } as const;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Independent calendar helpers (Date.UTC day numbers) and the ratable rule (§0)
// ---------------------------------------------------------------------------------------------

const dateOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const dayOf = (date: string): number => {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1) / DAY_MS;
};
const periodOfDay = (day: number): string => dateOf(day).slice(0, 7);
/** The first day of the month after the one containing `day`. */
function nextMonthStart(day: number): number {
  const date = new Date(day * DAY_MS);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / DAY_MS;
}
const lastDayOfMonth = (day: number): number => nextMonthStart(day) - 1;
/** round_half_even(total × elapsed / days), elapsed clamped to [0, days]. */
function ratable(total: bigint, start: number, end: number, at: number): bigint {
  const elapsed = Math.max(0, Math.min(at, end) - start);
  return referenceRound(total * BigInt(elapsed), BigInt(end - start), 'even');
}

const BASE_DAY = dayOf('2024-03-01');
/** A uniform fraction in [0, 1): where in a span a date falls. */
const fraction = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((x) => x / 1_000_000);

/** A EUR→USD quote on the first of every month for eight years. */
function fxRates(quotes: readonly number[]): ScenarioInput['fxRates'] {
  const out: ScenarioInput['fxRates'] = [];
  let day = dayOf('2023-12-01');
  for (let month = 0; month < 12 * 8; month += 1) {
    const quote = quotes[month % quotes.length] ?? 10_000;
    out.push({
      date: dateOf(day),
      base: 'EUR',
      quote: 'USD',
      rate: `${Math.floor(quote / 10_000)}.${String(quote % 10_000).padStart(4, '0')}`,
    });
    day = nextMonthStart(day);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Random contracts
// ---------------------------------------------------------------------------------------------

const contractArb = fc.record({
  marketplace: fc.constantFrom('aws' as const, 'azure' as const, 'gcp' as const),
  eur: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
  startOffset: fc.integer({ min: 0, max: 500 }),
  days: fc.integer({ min: 45, max: 1_100 }),
  price: fc.bigInt({ min: 1_000n, max: 50_000_000n }),
  installments: fc.array(
    fc.record({
      at: fraction,
      weight: fc.integer({ min: 1, max: 50 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  quotes: fc.array(fc.integer({ min: 8_000, max: 13_000 }), { minLength: 1, maxLength: 6 }),
});
type RawContract = typeof contractArb extends fc.Arbitrary<infer T> ? T : never;

interface Contract {
  readonly id: string;
  readonly currency: 'USD' | 'EUR';
  readonly start: number;
  readonly end: number;
  readonly price: bigint;
  /** [day, amount], by day, summing to the price. */
  readonly installments: readonly (readonly [number, bigint])[];
  readonly created: ScenarioInput['events'][number];
}

/** Installment days in [from, to) picked by the fractions, amounts split by weight (cumulatively). */
function split(
  total: bigint,
  picks: readonly { at: number; weight: number }[],
  from: number,
  to: number,
): [number, bigint][] {
  const byDay = new Map<number, number>();
  for (const pick of picks) {
    const day = from + Math.min(to - from - 1, Math.floor(pick.at * (to - from)));
    byDay.set(day, (byDay.get(day) ?? 0) + pick.weight);
  }
  const days = [...byDay.keys()].sort((a, b) => a - b);
  const weightTotal = BigInt([...byDay.values()].reduce((a, b) => a + b, 0));
  let cumulativeWeight = 0n;
  let previous = 0n;
  return days.map((day) => {
    cumulativeWeight += BigInt(byDay.get(day) ?? 0);
    const cumulative = (total * cumulativeWeight) / weightTotal;
    const amount = cumulative - previous;
    previous = cumulative;
    return [day, amount];
  });
}

function buildContract(raw: RawContract, id: string, billUntil?: number): Contract {
  const start = BASE_DAY + raw.startOffset;
  const end = start + raw.days;
  const installments = split(raw.price, raw.installments, start, billUntil ?? end);
  const currency = raw.eur ? 'EUR' : 'USD';
  return {
    id,
    currency,
    start,
    end,
    price: raw.price,
    installments,
    created: {
      type: 'ContractCreated',
      contractId: id,
      marketplace: raw.marketplace,
      offerType: 'private',
      effectiveAt: dateOf(start),
      currency,
      term: { start: dateOf(start), end: dateOf(end) },
      totalMinor: String(raw.price),
      installments: installments.map(([day, amount]) => ({
        date: dateOf(day),
        amountMinor: String(amount),
      })),
    },
  };
}

function run(input: ScenarioInput): PreviewResult {
  return previewScenario(ScenarioSchema.parse(input));
}

/** Each entry balances per transaction currency and in USD; functional legs equal USD legs. */
function expectBalanced(result: PreviewResult): void {
  for (const entry of result.entries) {
    expect(journalEntryProblems(entry)).toEqual([]);
    const perCurrency = new Map<string, bigint>();
    let functional = 0n;
    for (const leg of entry.legs) {
      perCurrency.set(
        leg.currency,
        (perCurrency.get(leg.currency) ?? 0n) + leg.debitMinor - leg.creditMinor,
      );
      functional += leg.functionalDebitMinor - leg.functionalCreditMinor;
    }
    for (const total of perCurrency.values()) expect(total).toBe(0n);
    expect(functional).toBe(0n);
  }
}

/** Cumulative 4000 credit posted by month-end runs on or before `day`. */
function recognizedThrough(result: PreviewResult, contractId: string, day: number): bigint {
  const last = dateOf(day);
  return result.entries
    .filter((e) => e.legs[0]?.contractId === contractId && e.date <= last)
    .flatMap((e) => e.legs)
    .filter((l) => l.account === '4000')
    .reduce((sum, l) => sum + l.creditMinor - l.debitMinor, 0n);
}

const sumOf = (items: readonly (readonly [number, bigint])[]) =>
  items.reduce((total, [, amount]) => total + amount, 0n);

// ---------------------------------------------------------------------------------------------
// Prospective amendments (rule 11)
// ---------------------------------------------------------------------------------------------

const amendmentArb = fc
  .record({
    contract: contractArb,
    at: fraction,
    extension: fc.option(fc.integer({ min: 1, max: 200 }), { freq: 2 }),
    replacementTotal: fc.bigInt({ min: 0n, max: 60_000_000n }),
    replacement: fc.array(
      fc.record({
        at: fraction,
        weight: fc.integer({ min: 1, max: 50 }),
      }),
      { maxLength: 3 },
    ),
  })
  .map((raw) => {
    const contract = buildContract(raw.contract, 'K-1');
    // Strictly inside the term: the start + 1 … end − 1.
    const at = contract.start + 1 + Math.floor(raw.at * (contract.end - contract.start - 2));
    const newEnd = contract.end + (raw.extension ?? 0);
    const replacement =
      raw.replacement.length > 0 ? split(raw.replacementTotal, raw.replacement, at, newEnd) : [];
    const billedBefore = sumOf(contract.installments.filter(([day]) => day < at));
    const base: ScenarioInput = {
      asOf: dateOf(newEnd + 40),
      functionalCurrency: 'USD',
      policies: { modification: 'prospective' },
      fxRates: fxRates(raw.contract.quotes),
      events: [contract.created],
    };
    const amended: ScenarioInput = {
      ...base,
      events: [
        contract.created,
        {
          type: 'ContractAmended',
          contractId: contract.id,
          replacementId: `${contract.id}r`,
          effectiveAt: dateOf(at),
          tcvMinor: String(billedBefore + sumOf(replacement)),
          installments: replacement.map(([day, amount]) => ({
            date: dateOf(day),
            amountMinor: String(amount),
          })),
          ...(raw.extension !== null ? { term: { end: dateOf(newEnd) } } : {}),
        },
      ],
    };
    return { contract, at, newEnd, replacement, billedBefore, base, amended };
  });

describe('a prospective amendment on random contracts', () => {
  it('keeps every month before it, and spreads (billed − recognized) + new billings over the remaining days exactly', () => {
    fc.assert(
      fc.property(
        amendmentArb,
        ({ contract, at, newEnd, replacement, billedBefore, base, amended }) => {
          const result = run(amended);
          const original = run(base);
          const id = contract.id;
          expectBalanced(result);

          // Everything posted before the amendment is unchanged (ids included)…
          const cutoff = dateOf(at);
          expect(result.entries.filter((e) => e.date < cutoff)).toEqual(
            original.entries.filter((e) => e.date < cutoff),
          );
          // …and they are the original ratable schedule (§0).
          for (let day = lastDayOfMonth(contract.start); day < at; day = lastDayOfMonth(day + 1)) {
            expect(recognizedThrough(result, id, day)).toBe(
              ratable(contract.price, contract.start, contract.end, day + 1),
            );
          }

          // Rule 11, from the amendment on.
          const valueAtChange = ratable(contract.price, contract.start, contract.end, at);
          const newTotal = billedBefore + sumOf(replacement);
          const remaining = newTotal - valueAtChange;
          for (let day = lastDayOfMonth(at); day < newEnd + 40; day = lastDayOfMonth(day + 1)) {
            const expected = valueAtChange + ratable(remaining, at, newEnd, day + 1);
            expect(recognizedThrough(result, id, day)).toBe(expected);
          }

          // The schedule sums exactly to the new price; every month after the change is posted as scheduled.
          const schedule = result.schedules[id] ?? [];
          expect(schedule.at(-1)?.cumulativeMinor).toBe(newTotal);
          expect(schedule.reduce((sum, line) => sum + line.recognizedMinor, 0n)).toBe(newTotal);
          expect(schedule.at(-1)?.period).toBe(periodOfDay(newEnd - 1));
          const after = periodOfDay(at);
          for (const line of schedule.filter((l) => l.period > after)) {
            const posted = result.entries
              .filter((e) => e.rule === 'recognition' && e.date.startsWith(line.period))
              .flatMap((e) => e.legs)
              .filter((l) => l.account === '4000')
              .reduce((sum, l) => sum + l.creditMinor - l.debitMinor, 0n);
            expect(posted).toBe(line.recognizedMinor);
          }

          // Billing: the old installments before the change, then the replacement's, each once.
          const invoiced = result.entries
            .filter((e) => e.rule === 'invoice')
            .map((e) => [e.date, e.legs[0]?.debitMinor]);
          const expectedInvoices = [
            ...contract.installments.filter(([day]) => day < at),
            ...replacement,
          ]
            .filter(([, amount]) => amount > 0n)
            .map(([day, amount]) => [dateOf(day), amount]);
          expect(invoiced).toEqual(expectedInvoices);

          // Past the end: all billed is recognized, nothing is deferred or unbilled.
          const book = bookFromEntries(id, result.entries);
          expect(-balanceOf(book, '4000')).toBe(newTotal);
          expect(balanceOf(book, '2400')).toBe(0n);
          expect(balanceOf(book, '1230')).toBe(0n);
          expect(functionalBalanceOf(book, '2400')).toBe(0n);
          expect(functionalBalanceOf(book, '1230')).toBe(0n);
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Cancellations and refunds (§2.7, rule 8)
// ---------------------------------------------------------------------------------------------

const cancellationArb = fc
  .record({
    contract: contractArb,
    at: fraction,
    refunds: fc.array(
      fc.record({
        at: fraction,
        share: fc.integer({ min: 0, max: 1_000 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map((raw) => {
    const start = BASE_DAY + raw.contract.startOffset;
    const end = start + raw.contract.days;
    // The cancellation: the start + 1 … the end; everything is billed before it.
    const at = start + 1 + Math.floor(raw.at * (end - start - 1));
    const contract = buildContract(raw.contract, 'K-2', at);
    const horizon = Math.max(end, at) + 120;
    // Refunds on distinct days other than the cancellation's, each ≤ what is billed and not refunded.
    const refunds: [number, bigint][] = [];
    let refunded = 0n;
    const seen = new Set<number>([at]);
    for (const pick of [...raw.refunds].sort((a, b) => a.at - b.at)) {
      const day = start + Math.floor(pick.at * (horizon - 60 - start));
      if (seen.has(day)) continue;
      seen.add(day);
      // Same-day order: the day's refund comes before its installment.
      const billed = sumOf(contract.installments.filter(([d]) => d < day));
      const amount = ((billed - refunded) * BigInt(pick.share)) / 1_000n;
      refunded += amount;
      refunds.push([day, amount]);
    }
    const input: ScenarioInput = {
      asOf: dateOf(horizon),
      functionalCurrency: 'USD',
      fxRates: fxRates(raw.contract.quotes),
      events: [
        contract.created,
        { type: 'ContractCancelled', contractId: contract.id, effectiveAt: dateOf(at) },
        ...refunds.map(([day, amount], index) => ({
          type: 'RefundIssued' as const,
          contractId: contract.id,
          refundId: `r-${index + 1}`,
          effectiveAt: dateOf(day),
          amountMinor: String(amount),
        })),
      ],
    };
    return { contract, at, refunds, refunded, input };
  });

describe('a cancellation with refunds on random contracts', () => {
  it('ends at recognized = billed − refunded, with no deferred revenue, refund liability or unbilled amount left', () => {
    fc.assert(
      fc.property(cancellationArb, ({ contract, at, refunds, refunded, input }) => {
        const result = run(input);
        const id = contract.id;
        expectBalanced(result);
        const billed = contract.price;
        expect(result.entries.filter((e) => e.rule === 'invoice').map((e) => e.date)).toEqual(
          contract.installments.filter(([, a]) => a > 0n).map(([day]) => dateOf(day)),
        );
        const book = bookFromEntries(id, result.entries);
        expect(-balanceOf(book, '4000')).toBe(billed - refunded);
        expect(balanceOf(book, '2400')).toBe(0n);
        expect(balanceOf(book, '1230')).toBe(0n);
        expect(balanceOf(book, '2450')).toBe(0n);
        expect(functionalBalanceOf(book, '2400')).toBe(0n);
        expect(result.positions[id]?.at(-1)).toMatchObject({
          billedMinor: billed - refunded,
          recognizedMinor: billed - refunded,
          deferredMinor: 0n,
          unbilledMinor: 0n,
        });
        // Recognition stops at the cancellation: no month-end run posts after its month.
        const lastRun = dateOf(lastDayOfMonth(at));
        expect(result.entries.filter((e) => e.rule === 'recognition' && e.date > lastRun)).toEqual(
          [],
        );
        // Each refund is authorized in full and taken off the receivable.
        for (const [index, [, amount]] of refunds.entries()) {
          const own = result.entries.filter((e) => e.source.id === `refund:r-${index + 1}`);
          const liability = own
            .flatMap((e) => e.legs)
            .filter((l) => l.account === '2450')
            .reduce((sum, l) => sum + l.creditMinor, 0n);
          expect(liability).toBe(amount);
        }
      }),
      RUNS,
    );
  });

  it('never bills an installment due on or after the cancellation, and leaves earlier months untouched', () => {
    const arb = fc.record({ contract: contractArb, at: fraction }).map((raw) => {
      const contract = buildContract(raw.contract, 'K-3');
      const at = contract.start + 1 + Math.floor(raw.at * (contract.end - contract.start - 2));
      const base: ScenarioInput = {
        asOf: dateOf(contract.end + 60),
        functionalCurrency: 'USD',
        fxRates: fxRates(raw.contract.quotes),
        events: [contract.created],
      };
      const cancelled: ScenarioInput = {
        ...base,
        events: [
          contract.created,
          { type: 'ContractCancelled', contractId: contract.id, effectiveAt: dateOf(at) },
        ],
      };
      return { contract, at, base, cancelled };
    });
    fc.assert(
      fc.property(arb, ({ contract, at, base, cancelled }) => {
        const result = run(cancelled);
        expectBalanced(result);
        const due = contract.installments.filter(([day, amount]) => day < at && amount > 0n);
        expect(result.entries.filter((e) => e.rule === 'invoice').map((e) => e.date)).toEqual(
          due.map(([day]) => dateOf(day)),
        );
        const cutoff = dateOf(at);
        expect(result.entries.filter((e) => e.date < cutoff)).toEqual(
          run(base).entries.filter((e) => e.date < cutoff),
        );
        const lastRun = dateOf(lastDayOfMonth(at));
        expect(result.entries.filter((e) => e.rule === 'recognition' && e.date > lastRun)).toEqual(
          [],
        );
        const book = bookFromEntries(contract.id, result.entries);
        expect(balanceOf(book, '2400')).toBe(0n);
        expect(functionalBalanceOf(book, '2400')).toBe(0n);
        // Billed ahead of the service: what is left of it is released, all billed is revenue.
        const billed = sumOf(due);
        if (billed >= ratable(contract.price, contract.start, contract.end, at)) {
          expect(-balanceOf(book, '4000')).toBe(billed);
          expect(balanceOf(book, '1230')).toBe(0n);
        }
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

const lifecycleArb = fc
  .record({
    contracts: fc.array(
      fc.record({
        contract: contractArb,
        amendAt: fc.option(
          fraction.map((x) => x / 2),
          { freq: 2 },
        ),
        amendTotal: fc.bigInt({ min: 0n, max: 20_000_000n }),
        cancelAt: fc.option(
          fraction.map((x) => 0.5 + x / 2),
          { freq: 2 },
        ),
        refunds: fc.array(
          fc.record({
            at: fraction,
            share: fc.integer({ min: 0, max: 1_000 }),
          }),
          { maxLength: 2 },
        ),
        payout: fc.option(fraction, { freq: 2 }),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    catchUp: fc.boolean(),
    order: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  })
  .map((raw) => {
    let latest = 0;
    const events: ScenarioInput['events'] = raw.contracts.flatMap((c, index) => {
      const contract = buildContract(c.contract, `L-${index + 1}`);
      const span = contract.end - contract.start;
      const out: ScenarioInput['events'] = [contract.created];
      latest = Math.max(latest, contract.end);
      if (c.amendAt !== null) {
        const at = contract.start + 1 + Math.floor(c.amendAt * (span - 2));
        out.push({
          type: 'ContractAmended',
          contractId: contract.id,
          effectiveAt: dateOf(at),
          tcvMinor: String(c.amendTotal),
          installments: [{ date: dateOf(at), amountMinor: String(c.amendTotal) }],
        });
      }
      if (c.cancelAt !== null) {
        const at = contract.start + 1 + Math.floor(c.cancelAt * (span - 2));
        out.push({ type: 'ContractCancelled', contractId: contract.id, effectiveAt: dateOf(at) });
      }
      const days = new Set<number>();
      c.refunds.forEach((r, k) => {
        const day = contract.start + Math.floor(r.at * span);
        if (days.has(day)) return;
        days.add(day);
        out.push({
          type: 'RefundIssued',
          contractId: contract.id,
          refundId: `${contract.id}-r${k}`,
          effectiveAt: dateOf(day),
          amountMinor: String((contract.price * BigInt(r.share)) / 4_000n),
        });
      });
      if (c.payout !== null) {
        out.push({
          type: 'DisbursementReceived',
          contractId: contract.id,
          disbursementId: `${contract.id}-payout`,
          effectiveAt: dateOf(contract.start + Math.floor(c.payout * span)),
          currency: contract.currency,
          amountMinor: String(contract.price / 3n),
        });
      }
      return out;
    });
    const input: ScenarioInput = {
      asOf: dateOf(latest + 45),
      functionalCurrency: 'USD',
      policies: { modification: raw.catchUp ? 'cumulative_catch_up' : 'prospective' },
      fxRates: fxRates(raw.contracts[0]?.contract.quotes ?? [10_400]),
      events,
    };
    // Another order of the same events (each contract's creation still comes first).
    const keyed = events.map((event, index) => ({ event, key: raw.order[index % 40] ?? 0, index }));
    const created = keyed.filter((k) => k.event.type === 'ContractCreated');
    const others = keyed
      .filter((k) => k.event.type !== 'ContractCreated')
      .sort((a, b) => a.key - b.key || b.index - a.index);
    const shuffled: ScenarioInput = {
      ...input,
      events: [...created.reverse(), ...others].map((k) => k.event),
    };
    return { input, shuffled };
  });

describe('replaying a random lifecycle', () => {
  it('balances every entry, and gives identical entries twice and in any input order', () => {
    fc.assert(
      fc.property(lifecycleArb, ({ input, shuffled }) => {
        const first = run(input);
        expectBalanced(first);
        const ids = first.entries.map((e) => e.entryId);
        expect(new Set(ids).size).toBe(ids.length);
        // Trial balance: zero per currency and in USD.
        const trial = new Map<string, bigint>();
        let functional = 0n;
        for (const leg of first.entries.flatMap((e) => e.legs)) {
          trial.set(
            leg.currency,
            (trial.get(leg.currency) ?? 0n) + leg.debitMinor - leg.creditMinor,
          );
          functional += leg.functionalDebitMinor - leg.functionalCreditMinor;
        }
        for (const total of trial.values()) expect(total).toBe(0n);
        expect(functional).toBe(0n);

        expect(run(input)).toEqual(first);
        const reordered = run(shuffled);
        const sortById = (r: PreviewResult) =>
          [...r.entries].sort((a, b) => (a.entryId < b.entryId ? -1 : 1));
        expect(sortById(reordered)).toEqual(sortById(first));
        expect(reordered.schedules).toEqual(first.schedules);
        expect(reordered.positions).toEqual(first.positions);
      }),
      { ...RUNS, numRuns: 50 },
    );
  });
});
