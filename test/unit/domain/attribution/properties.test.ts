// Proves the attribution invariants on random deals and models: shares are reduced, non-negative and sum to exactly 1; money splits sum exactly and mirror; input order never matters; Shapley matches the permutation definition (efficiency); Markov matches an independent rational solver.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttributionOutcome,
  type AttributionTouch,
  attribute,
  type Journey,
  markovRemovalCredits,
  shapleyValues,
  splitByShares,
} from '../../../../lib/domain/attribution/attribute';
import {
  type AttributionModelInput,
  type AttributionModelRule,
  AttributionModelRuleSchema,
  TOUCH_ROLES,
  TOUCH_SOURCES,
} from '../../../../lib/domain/attribution/models';
import {
  addRational,
  compareRational,
  divideRational,
  gcd,
  multiplyRational,
  ONE,
  type Rational,
  rational,
  subtractRational,
  sumRational,
  ZERO,
} from '../../../../lib/domain/money';

const RUNS = { numRuns: 150, seed: 20261202 } as const;
const DAY_MS = 86_400_000;
const BASE_MS = Date.UTC(2025, 0, 1);
const POOL = ['P0', 'P1', 'P2', 'P3', 'P4', 'a-partner', 'Z'] as const;

// ---------------------------------------------------------------------------------------------
// Random deals and models
// ---------------------------------------------------------------------------------------------

const touchesArb: fc.Arbitrary<AttributionTouch[]> = fc.uniqueArray(
  fc.record({
    touchId: fc.stringMatching(/^t-[a-z0-9]{1,6}$/),
    partnerId: fc.constantFrom(...POOL),
    role: fc.constantFrom(...TOUCH_ROLES),
    milestone: fc.constantFrom(null, 'opportunity_created', 'closing', 'first_touch', 'demo'),
    // few distinct instants, so ties on time are common
    at: fc
      .integer({ min: 0, max: 40 })
      .map((n) => new Date(BASE_MS + n * 3 * DAY_MS + (n % 3) * 1_000).toISOString()),
    source: fc.constantFrom(...TOUCH_SOURCES),
    sourceRef: fc.constant(null),
  }),
  { minLength: 1, maxLength: 25, selector: (t) => t.touchId },
);

const journeysArb: fc.Arbitrary<Journey[]> = fc.array(
  fc.record({
    partners: fc.array(fc.constantFrom(...POOL), { maxLength: 5 }),
    converted: fc.boolean(),
  }),
  { maxLength: 30 },
);

/** A decimal string with up to 2 places from hundredths. */
const decimal = (hundredths: number): string =>
  `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;

/** Percents (in hundredths) summing to at most 100 %. */
const percentsArb = (count: number): fc.Arbitrary<string[]> =>
  fc
    .array(fc.integer({ min: 0, max: 10_000 }), { minLength: count, maxLength: count })
    .filter((ps) => ps.reduce((a, b) => a + b, 0) <= 10_000)
    .map((ps) => ps.map(decimal));

/** Every non-empty coalition of the pool, as its key. */
function allCoalitionKeys(players: readonly string[]): string[] {
  const keys: string[] = [];
  for (let mask = 1; mask < 1 << players.length; mask += 1) {
    keys.push(
      players
        .filter((_, i) => (mask & (1 << i)) !== 0)
        .sort()
        .join('+'),
    );
  }
  return keys;
}

const modelArb: fc.Arbitrary<AttributionModelInput> = fc.oneof(
  fc.constant({ kind: 'first-touch' as const }),
  fc.constant({ kind: 'last-touch' as const }),
  fc.constant({ kind: 'linear' as const }),
  percentsArb(2).map(([firstPercent = '0', lastPercent = '0']) => ({
    kind: 'u-shaped' as const,
    firstPercent,
    lastPercent,
  })),
  percentsArb(3).map(([firstPercent = '0', opportunityPercent = '0', closingPercent = '0']) => ({
    kind: 'w-shaped' as const,
    firstPercent,
    opportunityPercent,
    closingPercent,
  })),
  fc.constantFrom('0.5', '7', '7.5', '30', '365.25').map((halfLifeDays) => ({
    kind: 'time-decay' as const,
    halfLifeDays,
  })),
  fc
    .record({
      sourced: fc.integer({ min: 0, max: 500 }),
      influenced: fc.integer({ min: 0, max: 500 }),
      resale: fc.integer({ min: 0, max: 500 }),
      'cloud-seller': fc.integer({ min: 0, max: 500 }),
    })
    .filter((w) => Object.values(w).some((v) => v > 0))
    .map((w) => ({
      kind: 'rules-based' as const,
      weights: Object.fromEntries(Object.entries(w).map(([k, v]) => [k, decimal(v)])),
    })),
  fc
    .array(fc.integer({ min: 0, max: 1_000 }), {
      minLength: (1 << POOL.length) - 1,
      maxLength: (1 << POOL.length) - 1,
    })
    .map((values) => {
      const keys = allCoalitionKeys(POOL);
      return {
        kind: 'shapley' as const,
        values: Object.fromEntries(keys.map((k, i) => [k, decimal(values[i] ?? 0)])),
      };
    }),
  fc.constant({ kind: 'shapley' as const, valuesFrom: 'journeys' as const }),
  fc.constant({ kind: 'markov' as const }),
);

function ruleOf(model: AttributionModelInput): AttributionModelRule {
  return AttributionModelRuleSchema.parse({
    modelId: 'prop',
    version: 1,
    effectiveFrom: '2025-01-01',
    model,
  });
}

function run(
  touches: readonly AttributionTouch[],
  model: AttributionModelInput,
  journeys: readonly Journey[],
): AttributionOutcome {
  return attribute({
    touches,
    rule: ruleOf(model),
    closeAt: new Date(BASE_MS + 100 * DAY_MS).toISOString(),
    journeys,
  });
}

const isReduced = (r: Rational): boolean => r.den > 0n && gcd(r.num, r.den) === 1n;

// ---------------------------------------------------------------------------------------------
// Independent references
// ---------------------------------------------------------------------------------------------

/** Shapley by its definition: the average marginal contribution over all n! orders. */
function shapleyByPermutations(
  players: readonly string[],
  value: (coalition: readonly string[]) => Rational,
): Map<string, Rational> {
  const totals = new Map(players.map((p) => [p, ZERO]));
  let orders = 0n;
  const permute = (prefix: string[], rest: string[]): void => {
    if (rest.length === 0) {
      orders += 1n;
      const coalition: string[] = [];
      for (const player of prefix) {
        const before = value(players.filter((p) => coalition.includes(p)));
        coalition.push(player);
        const after = value(players.filter((p) => coalition.includes(p)));
        totals.set(
          player,
          addRational(totals.get(player) ?? ZERO, subtractRational(after, before)),
        );
      }
      return;
    }
    rest.forEach((player, i) => {
      permute([...prefix, player], [...rest.slice(0, i), ...rest.slice(i + 1)]);
    });
  };
  permute([], [...players]);
  return new Map([...totals].map(([p, t]) => [p, divideRational(t, rational(orders))]));
}

/**
 * P(conversion) of the journeys' first-order chain with `removed` sending to null, solved by
 * Gauss–Jordan elimination over rationals (money.ts), independently of the engine's solver.
 */
function referenceConversion(journeys: readonly Journey[], removed: string | null): Rational {
  const states = ['@start', ...new Set(journeys.flatMap((j) => j.partners))];
  const index = new Map(states.map((s, i) => [s, i]));
  const n = states.length;
  const counts = states.map(() => states.map(() => 0n));
  const conv = states.map(() => 0n);
  const totals = states.map(() => 0n);
  for (const journey of journeys) {
    let from = 0;
    for (const partner of journey.partners) {
      const to = index.get(partner) ?? 0;
      (counts[from] as bigint[])[to] = ((counts[from] as bigint[])[to] ?? 0n) + 1n;
      totals[from] = (totals[from] ?? 0n) + 1n;
      from = to;
    }
    if (journey.converted) conv[from] = (conv[from] ?? 0n) + 1n;
    totals[from] = (totals[from] ?? 0n) + 1n;
  }
  if ((totals[0] ?? 0n) === 0n) return ZERO;
  // (I − Q) x = b, with the removed state pinned to x = 0.
  const m: Rational[][] = states.map((state, s) => {
    const row: Rational[] = states.map((_, t) => (s === t ? ONE : ZERO));
    if (state === removed) return [...row, ZERO];
    const total = totals[s] ?? 1n;
    states.forEach((target, t) => {
      const c = (counts[s] as bigint[])[t] ?? 0n;
      if (c === 0n || target === removed) return;
      row[t] = subtractRational(row[t] ?? ZERO, rational(c, total));
    });
    return [...row, rational(conv[s] ?? 0n, total)];
  });
  for (let col = 0; col < n; col += 1) {
    const pivotRow = m.findIndex((row, i) => i >= col && (row[col]?.num ?? 0n) !== 0n);
    expect(pivotRow).toBeGreaterThanOrEqual(0);
    [m[col], m[pivotRow]] = [m[pivotRow] as Rational[], m[col] as Rational[]];
    const pivot = (m[col] as Rational[])[col] as Rational;
    m[col] = (m[col] as Rational[]).map((v) => divideRational(v, pivot));
    for (let i = 0; i < n; i += 1) {
      if (i === col) continue;
      const factor = (m[i] as Rational[])[col] ?? ZERO;
      if (factor.num === 0n) continue;
      m[i] = (m[i] as Rational[]).map((v, j) =>
        subtractRational(v, multiplyRational(factor, (m[col] as Rational[])[j] ?? ZERO)),
      );
    }
  }
  return (m[0] as Rational[])[n] ?? ZERO;
}

function referenceMarkovCredits(journeys: readonly Journey[]): Map<string, Rational> {
  const partners = [...new Set(journeys.flatMap((j) => j.partners))].sort();
  const base = referenceConversion(journeys, null);
  const effects = partners.map((p) =>
    base.num === 0n
      ? ZERO
      : subtractRational(ONE, divideRational(referenceConversion(journeys, p), base)),
  );
  const total = sumRational(effects);
  return new Map(
    partners.map((p, i) => [
      p,
      total.num === 0n ? ZERO : divideRational(effects[i] ?? ZERO, total),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('attribute: invariants on random deals and models', () => {
  it('shares and touch weights are reduced, non-negative and sum to exactly 1', () => {
    fc.assert(
      fc.property(touchesArb, modelArb, journeysArb, (touches, model, journeys) => {
        const outcome = run(touches, model, journeys);
        expect(sumRational(outcome.shares.map((s) => s.weight))).toEqual(ONE);
        expect(sumRational(outcome.touchWeights.map((w) => w.weight))).toEqual(ONE);
        for (const share of outcome.shares) {
          expect(isReduced(share.weight)).toBe(true);
          expect(share.weight.num >= 0n).toBe(true);
          const own = outcome.touchWeights.filter((w) => w.partnerId === share.partnerId);
          expect(sumRational(own.map((w) => w.weight))).toEqual(share.weight);
        }
        for (const w of outcome.touchWeights) expect(isReduced(w.weight)).toBe(true);
        // every partner of the deal is listed once, sorted; touch weights in canonical order
        const partners = [...new Set(touches.map((t) => t.partnerId))].sort();
        expect(outcome.shares.map((s) => s.partnerId)).toEqual(partners);
        expect(outcome.credits.map((c) => c.partnerId)).toEqual(partners);
        const order = outcome.touchWeights.map((w) => {
          const t = touches.find((x) => x.touchId === w.touchId);
          return [Date.parse(t?.at ?? ''), w.touchId] as const;
        });
        const sorted = [...order].sort((a, b) =>
          a[0] !== b[0] ? a[0] - b[0] : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
        );
        expect(order).toEqual(sorted);
        expect(outcome.dealCredit).toBe(
          touches.some((t) => t.role === 'sourced') ? 'sourced' : 'influenced',
        );
      }),
      RUNS,
    );
  });

  it('the result does not depend on the order of the touches or of the journeys', () => {
    fc.assert(
      fc.property(
        touchesArb.chain((ts) =>
          fc.tuple(fc.constant(ts), fc.shuffledSubarray(ts, { minLength: ts.length })),
        ),
        modelArb,
        journeysArb.chain((js) =>
          fc.tuple(fc.constant(js), fc.shuffledSubarray(js, { minLength: js.length })),
        ),
        ([touches, shuffled], model, [journeys, shuffledJourneys]) => {
          expect(run(shuffled, model, shuffledJourneys)).toEqual(run(touches, model, journeys));
        },
      ),
      RUNS,
    );
  });

  it('splits sum exactly to the amount, stay within one unit of exact, and mirror when negative', () => {
    fc.assert(
      fc.property(
        touchesArb,
        modelArb,
        journeysArb,
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        (touches, model, journeys, amount) => {
          const outcome = run(touches, model, journeys);
          const parts = splitByShares(amount, outcome.shares);
          expect(parts.reduce((a, p) => a + p.amountMinor, 0n)).toBe(amount);
          outcome.shares.forEach((share, i) => {
            const part = parts[i];
            expect(part?.partnerId).toBe(share.partnerId);
            const exact = multiplyRational(share.weight, rational(amount));
            const error = subtractRational(rational(part?.amountMinor ?? 0n), exact);
            expect(compareRational(error, ONE)).toBe(-1);
            expect(compareRational(error, rational(-1n))).toBe(1);
          });
          expect(splitByShares(-amount, outcome.shares)).toEqual(
            parts.map((p) => ({ partnerId: p.partnerId, amountMinor: -p.amountMinor })),
          );
        },
      ),
      RUNS,
    );
  });

  it('models that cannot tell touches apart are linear', () => {
    fc.assert(
      fc.property(touchesArb, fc.integer({ min: 1, max: 500 }), (touches, w) => {
        const linear = run(touches, { kind: 'linear' }, []);
        const weight = decimal(w);
        const sameRole = run(
          touches,
          {
            kind: 'rules-based',
            weights: {
              sourced: weight,
              influenced: weight,
              resale: weight,
              'cloud-seller': weight,
            },
          },
          [],
        );
        expect(sameRole.shares).toEqual(linear.shares);
        const sameTime = touches.map((t) => ({ ...t, at: '2025-02-01T00:00:00Z' }));
        expect(run(sameTime, { kind: 'time-decay', halfLifeDays: '7' }, []).shares).toEqual(
          run(sameTime, { kind: 'linear' }, []).shares,
        );
      }),
      RUNS,
    );
  });

  it('time-decay never gives an older touch more weight than a younger one', () => {
    fc.assert(
      fc.property(touchesArb, fc.constantFrom('0.5', '7.5', '30'), (touches, halfLifeDays) => {
        const outcome = run(touches, { kind: 'time-decay', halfLifeDays }, []);
        for (let i = 1; i < outcome.touchWeights.length; i += 1) {
          const older = outcome.touchWeights[i - 1]?.weight ?? ZERO;
          const younger = outcome.touchWeights[i]?.weight ?? ZERO;
          expect(compareRational(older, younger)).toBeLessThanOrEqual(0);
        }
      }),
      RUNS,
    );
  });
});

describe('shapleyValues', () => {
  const gameArb = fc.integer({ min: 0, max: 5 }).chain((n) =>
    fc.tuple(
      fc.constant(Array.from({ length: n }, (_, i) => `pl${i}`)),
      fc.array(fc.integer({ min: -1_000, max: 1_000 }), {
        minLength: 1 << n,
        maxLength: 1 << n,
      }),
    ),
  );

  it('equals the average marginal contribution over all orders, and is efficient', () => {
    fc.assert(
      fc.property(gameArb, ([players, table]) => {
        const value = (coalition: readonly string[]): Rational => {
          let mask = 0;
          for (const p of coalition) mask |= 1 << players.indexOf(p);
          return mask === 0 ? ZERO : rational(BigInt(table[mask] ?? 0), 7n);
        };
        const phi = shapleyValues(players, value);
        expect(phi).toEqual(shapleyByPermutations(players, value));
        // efficiency: Σ φ = v(N) − v(∅)
        expect(sumRational(phi.values())).toEqual(value(players));
      }),
      RUNS,
    );
  });
});

describe('markovRemovalCredits', () => {
  it('matches an independent rational solver; credits are ≥ 0 and sum to 1 (or are all 0)', () => {
    fc.assert(
      fc.property(journeysArb, (journeys) => {
        const credits = markovRemovalCredits(journeys);
        expect(credits).toEqual(referenceMarkovCredits(journeys));
        const values = [...credits.values()];
        for (const v of values) expect(v.num >= 0n && isReduced(v)).toBe(true);
        const total = sumRational(values);
        expect(total.num === 0n || compareRational(total, ONE) === 0).toBe(true);
        expect(markovRemovalCredits([...journeys].reverse())).toEqual(credits);
      }),
      RUNS,
    );
  });

  it('a partner that every conversion passes through has the largest credit', () => {
    fc.assert(
      fc.property(journeysArb, (journeys) => {
        const gated: Journey[] = journeys.map((j) =>
          j.converted ? { partners: [...j.partners, 'GATE'], converted: true } : j,
        );
        const credits = markovRemovalCredits(gated);
        const gate = credits.get('GATE');
        if (gate === undefined) return; // nothing converted
        for (const v of credits.values()) expect(compareRational(v, gate)).toBeLessThanOrEqual(0);
      }),
      RUNS,
    );
  });
});
