// Proves the attribution engine's documented edge semantics (U/W positions, time-decay clamping and anchoring, rules-based, Shapley from journeys, Markov, linear fallbacks), the model schemas, the bounds and the outcome diff.
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTION_JOURNEYS_MAX,
  ATTRIBUTION_TOUCHES_MAX,
  type AttributionOutcome,
  type AttributionTouch,
  attribute,
  diffOutcomes,
  type Journey,
  MARKOV_STATES_MAX,
  markovRemovalCredits,
  SHAPLEY_PLAYERS_MAX,
  shapleyValues,
  splitByShares,
} from '../../../../lib/domain/attribution/attribute';
import { powerOfTwoNegative } from '../../../../lib/domain/attribution/decimal-power';
import {
  type AttributionModelInput,
  type AttributionModelRule,
  AttributionModelRuleSchema,
  AttributionModelSchema,
  AttributionTouchSchema,
  coalitionKey,
  DEFAULT_ATTRIBUTION_MODEL_RULE,
  modelRuleInEffect,
} from '../../../../lib/domain/attribution/models';
import { InvalidInputError } from '../../../../lib/domain/errors';
import { compareRational, type Rational, rational } from '../../../../lib/domain/money';

const DAY_MS = 86_400_000;
const DAY_0 = Date.UTC(2025, 5, 1);
const day = (n: number): string => new Date(DAY_0 + n * DAY_MS).toISOString();

function touch(
  touchId: string,
  partnerId: string,
  dayNumber: number,
  options: Partial<Pick<AttributionTouch, 'role' | 'milestone' | 'at'>> = {},
): AttributionTouch {
  return {
    touchId,
    partnerId,
    role: options.role ?? 'influenced',
    milestone: options.milestone ?? null,
    at: options.at ?? day(dayNumber),
    source: 'activity',
    sourceRef: null,
  };
}

function ruleOf(model: AttributionModelInput, version = 1): AttributionModelRule {
  return AttributionModelRuleSchema.parse({
    modelId: 'test',
    version,
    effectiveFrom: '2025-01-01',
    model,
  });
}

function run(
  model: AttributionModelInput,
  touches: readonly AttributionTouch[],
  options: { journeys?: readonly Journey[]; closeDay?: number } = {},
): AttributionOutcome {
  return attribute({
    touches,
    rule: ruleOf(model),
    closeAt: day(options.closeDay ?? 100),
    ...(options.journeys === undefined ? {} : { journeys: options.journeys }),
  });
}

const touchWeights = (o: AttributionOutcome): Rational[] => o.touchWeights.map((w) => w.weight);
const shareMap = (o: AttributionOutcome): Record<string, Rational> =>
  Object.fromEntries(o.shares.map((s) => [s.partnerId, s.weight]));
const r = (num: bigint, den = 1n): Rational => rational(num, den);

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (error) {
    return error instanceof InvalidInputError ? error.code : `not InvalidInputError: ${error}`;
  }
}

const FOUR = [
  touch('t1', 'A', 0),
  touch('t2', 'B', 10),
  touch('t3', 'C', 20),
  touch('t4', 'D', 30),
];

describe('U-shaped', () => {
  it('one touch gets 100 %; two touches split first:last (50/50 by default)', () => {
    expect(touchWeights(run({ kind: 'u-shaped' }, [touch('t', 'A', 0)]))).toEqual([r(1n)]);
    expect(touchWeights(run({ kind: 'u-shaped' }, FOUR.slice(0, 2)))).toEqual([
      r(1n, 2n),
      r(1n, 2n),
    ]);
    const uneven = { kind: 'u-shaped', firstPercent: '60', lastPercent: '20' } as const;
    expect(touchWeights(run(uneven, FOUR.slice(0, 2)))).toEqual([r(3n, 4n), r(1n, 4n)]);
  });

  it('the middle touches share the rest equally; the same partner collects both of its touches', () => {
    const five = [...FOUR, touch('t5', 'A', 40)];
    const outcome = run({ kind: 'u-shaped' }, five);
    expect(touchWeights(outcome)).toEqual([
      r(2n, 5n),
      r(1n, 15n),
      r(1n, 15n),
      r(1n, 15n),
      r(2n, 5n),
    ]);
    expect(shareMap(outcome)).toEqual({
      A: r(4n, 5n),
      B: r(1n, 15n),
      C: r(1n, 15n),
      D: r(1n, 15n),
    });
  });

  it('two touches with 0/0 percents have no signal and fall back to linear', () => {
    const outcome = run(
      { kind: 'u-shaped', firstPercent: '0', lastPercent: '0' },
      FOUR.slice(0, 2),
    );
    expect(outcome.fallback).toEqual({
      model: 'linear',
      reason: 'u-shaped percents give every touch zero',
    });
    expect(touchWeights(outcome)).toEqual([r(1n, 2n), r(1n, 2n)]);
  });
});

describe('W-shaped', () => {
  it('without an opportunity_created touch its percent goes to the other touches', () => {
    // first 30, last (closing) 30, B and C share 40
    expect(touchWeights(run({ kind: 'w-shaped' }, FOUR))).toEqual([
      r(3n, 10n),
      r(1n, 5n),
      r(1n, 5n),
      r(3n, 10n),
    ]);
  });

  it('coinciding positions add their percents (the first touch creates the opportunity)', () => {
    const touches = [touch('t1', 'A', 0, { milestone: 'opportunity_created' }), ...FOUR.slice(1)];
    expect(touchWeights(run({ kind: 'w-shaped' }, touches))).toEqual([
      r(3n, 5n),
      r(1n, 20n),
      r(1n, 20n),
      r(3n, 10n),
    ]);
  });

  it('the closing position is the last touch marked closing; the last touch is then an "other"', () => {
    const touches = [
      touch('t1', 'A', 0),
      touch('t2', 'B', 10, { milestone: 'opportunity_created' }),
      touch('t3', 'C', 20, { milestone: 'closing' }),
      touch('t4', 'D', 30),
    ];
    expect(touchWeights(run({ kind: 'w-shaped' }, touches))).toEqual([
      r(3n, 10n),
      r(3n, 10n),
      r(3n, 10n),
      r(1n, 10n),
    ]);
  });

  it('with two closing touches the later one is the closing position', () => {
    const touches = [
      touch('t1', 'A', 0),
      touch('t2', 'B', 10, { milestone: 'closing' }),
      touch('t3', 'C', 20, { milestone: 'closing' }),
      touch('t4', 'D', 30),
      touch('t5', 'E', 40),
    ];
    // no opportunity touch: B, D and E share 100 − 30 − 30 = 40
    expect(touchWeights(run({ kind: 'w-shaped' }, touches))).toEqual([
      r(3n, 10n),
      r(2n, 15n),
      r(3n, 10n),
      r(2n, 15n),
      r(2n, 15n),
    ]);
  });

  it('with no other touches the key positions are rescaled to 100 %', () => {
    expect(touchWeights(run({ kind: 'w-shaped' }, FOUR.slice(0, 2)))).toEqual([
      r(1n, 2n),
      r(1n, 2n),
    ]);
    const three = [
      touch('t1', 'A', 0),
      touch('t2', 'B', 10, { milestone: 'opportunity_created' }),
      touch('t3', 'C', 20),
    ];
    const custom = {
      kind: 'w-shaped',
      firstPercent: '20',
      opportunityPercent: '40',
      closingPercent: '20',
    } as const;
    expect(touchWeights(run(custom, three))).toEqual([r(1n, 4n), r(1n, 2n), r(1n, 4n)]);
    expect(touchWeights(run({ kind: 'w-shaped' }, [touch('t', 'A', 0)]))).toEqual([r(1n)]);
  });
});

describe('time-decay', () => {
  it('a touch after the close counts as age 0, like a touch at the close', () => {
    const atClose = run({ kind: 'time-decay', halfLifeDays: '30' }, [
      touch('t1', 'A', 70),
      touch('t2', 'B', 100),
    ]);
    const after = run({ kind: 'time-decay', halfLifeDays: '30' }, [
      touch('t1', 'A', 70),
      touch('t2', 'B', 130),
    ]);
    expect(shareMap(after)).toEqual(shareMap(atClose));
    // one half-life apart: 2/3 and 1/3
    expect(shareMap(atClose)).toEqual({ A: r(1n, 3n), B: r(2n, 3n) });
  });

  it('a fractional half-life (7.5 days) and touches 1,000 half-lives old still give a split', () => {
    const outcome = run({ kind: 'time-decay', halfLifeDays: '7.5' }, [
      touch('t1', 'A', -7_500),
      touch('t2', 'B', -7_492.5),
    ]);
    expect(outcome.fallback).toBeNull();
    expect(shareMap(outcome)).toEqual({ A: r(1n, 3n), B: r(2n, 3n) });
  });

  it('ages are exact milliseconds', () => {
    // B is one day and 1 ms younger than A: A weighs 2^(−86,400,001/86,400,000) of B.
    const outcome = run(
      { kind: 'time-decay', halfLifeDays: '1' },
      [touch('t1', 'A', 98), touch('t2', 'B', 0, { at: '2025-09-08T00:00:00.001Z' })],
      { closeDay: 101 },
    );
    const p = powerOfTwoNegative(rational(86_400_001n, 86_400_000n));
    expect(shareMap(outcome).A).toEqual(rational(p.num, p.num + p.den));
    expect(compareRational(shareMap(outcome).A ?? r(1n), r(1n, 3n))).toBe(-1);
  });
});

describe('rules-based', () => {
  it('each touch weighs its role; a missing role weighs 0', () => {
    const touches = [
      touch('t1', 'A', 0, { role: 'sourced' }),
      touch('t2', 'B', 10, { role: 'influenced' }),
      touch('t3', 'C', 20, { role: 'resale' }),
    ];
    const outcome = run(
      { kind: 'rules-based', weights: { sourced: '3', influenced: '1.5' } },
      touches,
    );
    expect(shareMap(outcome)).toEqual({ A: r(2n, 3n), B: r(1n, 3n), C: r(0n) });
    expect(splitByShares(1_000n, outcome.shares)).toEqual([
      { partnerId: 'A', amountMinor: 667n },
      { partnerId: 'B', amountMinor: 333n },
      { partnerId: 'C', amountMinor: 0n },
    ]);
  });

  it('a deal with only zero-weight roles falls back to linear and says why', () => {
    const outcome = run({ kind: 'rules-based', weights: { sourced: '1' } }, FOUR.slice(0, 2));
    expect(outcome.fallback?.model).toBe('linear');
    expect(outcome.fallback?.reason).toMatch(/rules-based/);
    expect(touchWeights(outcome)).toEqual([r(1n, 2n), r(1n, 2n)]);
  });
});

describe('Shapley', () => {
  it('from journeys: v(S) counts converted journeys whose partners all lie in S', () => {
    const journeys: Journey[] = [
      { partners: ['A'], converted: true },
      { partners: ['A', 'B'], converted: true },
      { partners: ['B', 'A', 'B'], converted: true },
      { partners: ['B'], converted: false },
      { partners: ['C'], converted: true }, // C is not on the deal
      { partners: [], converted: true }, // no partner: worth nothing to anyone
    ];
    // v(A) = 1, v(B) = 0, v(AB) = 3 → φA = ½(1 + 3) = 2, φB = ½(0 + 2) = 1
    const outcome = run({ kind: 'shapley', valuesFrom: 'journeys' }, FOUR.slice(0, 2), {
      journeys,
    });
    expect(shareMap(outcome)).toEqual({ A: r(2n, 3n), B: r(1n, 3n) });
  });

  it('a negative Shapley value earns nothing; all-zero values fall back to linear', () => {
    const values = { A: '0', B: '1', 'A+B': '0.5' }; // φA = −0.25, φB = 0.75
    expect(shareMap(run({ kind: 'shapley', values }, FOUR.slice(0, 2)))).toEqual({
      A: r(0n),
      B: r(1n),
    });
    const none = run({ kind: 'shapley', values: { C: '1' } }, FOUR.slice(0, 2));
    expect(none.fallback?.model).toBe('linear');
    expect(shareMap(none)).toEqual({ A: r(1n, 2n), B: r(1n, 2n) });
  });

  it("a partner's credit is spread equally over its touches", () => {
    const touches = [touch('t1', 'A', 0), touch('t2', 'B', 10), touch('t3', 'A', 20)];
    const outcome = run({ kind: 'shapley', values: { A: '3', B: '1', 'A+B': '4' } }, touches);
    expect(touchWeights(outcome)).toEqual([r(3n, 8n), r(1n, 4n), r(3n, 8n)]);
  });

  it('is symmetric, gives a dummy player 0 and is efficient on a 3-player game', () => {
    const phi = shapleyValues(['x', 'y', 'z'], (c) =>
      c.includes('x') && c.includes('y') ? r(6n) : r(0n),
    );
    expect(phi).toEqual(
      new Map([
        ['x', r(3n)],
        ['y', r(3n)],
        ['z', r(0n)],
      ]),
    );
  });

  it('partner ids with "+" cannot be keyed in a value table', () => {
    expect(
      errorCode(() =>
        run({ kind: 'shapley', values: { A: '1' } }, [touch('t1', 'A+B', 0), touch('t2', 'C', 1)]),
      ),
    ).toBe('ambiguous_coalition_key');
  });
});

describe('Markov', () => {
  const journeys: Journey[] = [
    { partners: ['A', 'B'], converted: true },
    { partners: ['A'], converted: false },
    { partners: ['B'], converted: true },
  ];

  it('renormalizes over the partners on the deal; a partner absent from the journeys gets 0', () => {
    const outcome = run({ kind: 'markov' }, [touch('t1', 'A', 0), touch('t2', 'Z', 5)], {
      journeys,
    });
    expect(outcome.fallback).toBeNull();
    expect(shareMap(outcome)).toEqual({ A: r(1n), Z: r(0n) });
  });

  it('no journeys, or nothing converting, falls back to linear', () => {
    const none = run({ kind: 'markov' }, FOUR.slice(0, 2));
    expect(none.fallback?.model).toBe('linear');
    const lost = run({ kind: 'markov' }, FOUR.slice(0, 2), {
      journeys: [{ partners: ['A', 'B'], converted: false }],
    });
    expect(lost.fallback?.model).toBe('linear');
    expect(markovRemovalCredits([{ partners: ['A'], converted: false }])).toEqual(
      new Map([['A', r(0n)]]),
    );
  });

  it('handles loops and repeated partners exactly', () => {
    // Start→A ½, Start→B ½; A→B ½, A→conv ½; B→A ½, B→null ½: x_A = 2/3, x_B = 1/3, P = 1/2.
    // Without A: P = 0, RE_A = 1. Without B: x_A = 1/2, P = 1/4, RE_B = 1/2. Credits 2/3 : 1/3.
    const credits = markovRemovalCredits([
      { partners: ['A', 'B', 'A'], converted: true },
      { partners: ['B'], converted: false },
    ]);
    expect(credits).toEqual(
      new Map([
        ['A', r(2n, 3n)],
        ['B', r(1n, 3n)],
      ]),
    );
  });
});

describe('deal credit and reporting flags', () => {
  it('no touches: unattributed, nothing to split', () => {
    const outcome = run({ kind: 'linear' }, []);
    expect(outcome).toEqual({
      touchWeights: [],
      shares: [],
      credits: [],
      dealCredit: 'unattributed',
      fallback: null,
    });
    expect(splitByShares(100n, outcome.shares)).toEqual([]);
  });

  it('influenced without a sourced touch; flags are the distinct roles, sorted', () => {
    const outcome = run({ kind: 'first-touch' }, [
      touch('t1', 'A', 0, { role: 'resale' }),
      touch('t2', 'A', 1, { role: 'cloud-seller' }),
      touch('t3', 'A', 2, { role: 'resale' }),
      touch('t4', 'B', 3),
    ]);
    expect(outcome.dealCredit).toBe('influenced');
    expect(outcome.credits).toEqual([
      { partnerId: 'A', flags: ['cloud-seller', 'resale'] },
      { partnerId: 'B', flags: ['influenced'] },
    ]);
    expect(outcome.shares[0]?.roles).toEqual(['cloud-seller', 'resale']);
  });

  it('touches at the same instant are ordered by touchId', () => {
    const same = day(5);
    const outcome = run({ kind: 'first-touch' }, [
      touch('t-b', 'B', 0, { at: same }),
      touch('t-a', 'A', 0, { at: '2025-06-06T02:00:00+02:00' }), // the same instant
    ]);
    expect(outcome.touchWeights.map((w) => w.touchId)).toEqual(['t-a', 't-b']);
    expect(shareMap(outcome)).toEqual({ A: r(1n), B: r(0n) });
  });
});

describe('bounds and input checks', () => {
  it('rejects too many touches, players, journeys and Markov states', () => {
    const many = Array.from({ length: ATTRIBUTION_TOUCHES_MAX + 1 }, (_, i) =>
      touch(`t${i}`, `p${i % 5}`, i),
    );
    expect(errorCode(() => run({ kind: 'linear' }, many))).toBe('too_many_touches');
    expect(run({ kind: 'linear' }, many.slice(0, ATTRIBUTION_TOUCHES_MAX)).shares).toHaveLength(5);

    const players = Array.from({ length: SHAPLEY_PLAYERS_MAX + 1 }, (_, i) => `p${i}`);
    expect(errorCode(() => shapleyValues(players, () => r(1n)))).toBe('too_many_players');
    expect(
      errorCode(() =>
        run(
          { kind: 'shapley', valuesFrom: 'journeys' },
          players.map((p, i) => touch(`t${i}`, p, i)),
          { journeys: [] },
        ),
      ),
    ).toBe('too_many_players');

    const journeys = Array.from({ length: ATTRIBUTION_JOURNEYS_MAX + 1 }, () => ({
      partners: ['A'],
      converted: true,
    }));
    expect(errorCode(() => markovRemovalCredits(journeys))).toBe('too_many_journeys');

    const wide = Array.from({ length: MARKOV_STATES_MAX + 1 }, (_, i) => `p${i}`);
    expect(errorCode(() => markovRemovalCredits([{ partners: wide, converted: true }]))).toBe(
      'too_many_markov_states',
    );
    const widest = markovRemovalCredits([{ partners: wide.slice(1), converted: true }]);
    expect(widest.size).toBe(MARKOV_STATES_MAX);
    // a single converting path: every partner on it is essential (RE = 1), so credits are equal
    expect(new Set([...widest.values()].map((v) => `${v.num}/${v.den}`))).toEqual(
      new Set([`1/${MARKOV_STATES_MAX}`]),
    );
    expect(
      errorCode(() =>
        markovRemovalCredits([
          { partners: Array.from({ length: 201 }, () => 'A'), converted: true },
        ]),
      ),
    ).toBe('journey_too_long');
  });

  it('stays exact and bounded at MARKOV_STATES_MAX partners and ATTRIBUTION_JOURNEYS_MAX journeys', () => {
    let seed = 20261203;
    const next = (n: number): number => {
      seed = (seed * 48_271) % 2_147_483_647; // Park–Miller: exact in doubles
      return Math.floor((seed / 2_147_483_647) * n);
    };
    const partners = Array.from({ length: MARKOV_STATES_MAX }, (_, i) => `p${i}`);
    const journeys: Journey[] = Array.from({ length: ATTRIBUTION_JOURNEYS_MAX }, () => ({
      partners: Array.from({ length: 1 + next(10) }, () => partners[next(partners.length)] ?? 'p0'),
      converted: next(5) < 2,
    }));
    const started = performance.now();
    const credits = markovRemovalCredits(journeys);
    const outcome = run(
      { kind: 'markov' },
      partners.slice(0, 4).map((p, i) => touch(`t${i}`, p, i)),
      { journeys },
    );
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(credits.size).toBe(MARKOV_STATES_MAX);
    const total = [...credits.values()].reduce(
      (acc, v) => ({ num: acc.num * v.den + v.num * acc.den, den: acc.den * v.den }),
      { num: 0n, den: 1n },
    );
    expect(total.num).toBe(total.den);
    // the deal's shares are the journey-wide credits of its partners, renormalized
    const deal = partners.slice(0, 4).map((p) => credits.get(p) ?? r(0n));
    const dealTotal = deal.reduce((a, b) => rational(a.num * b.den + b.num * a.den, a.den * b.den));
    expect(outcome.shares.map((s) => s.weight)).toEqual(
      deal.map((v) => rational(v.num * dealTotal.den, v.den * dealTotal.num)),
    );
  });

  it('rejects duplicate touch ids, bad instants and an invalid rule', () => {
    expect(errorCode(() => run({ kind: 'linear' }, [touch('t', 'A', 0), touch('t', 'B', 1)]))).toBe(
      'duplicate_touch',
    );
    expect(
      errorCode(() => run({ kind: 'linear' }, [touch('t', 'A', 0, { at: 'yesterday' })])),
    ).toBe('invalid_instant');
    expect(
      errorCode(() =>
        attribute({ touches: [], rule: DEFAULT_ATTRIBUTION_MODEL_RULE, closeAt: '2025-13-01' }),
      ),
    ).toBe('invalid_instant');
    const bad = {
      ...DEFAULT_ATTRIBUTION_MODEL_RULE,
      model: { kind: 'u-shaped', firstPercent: '60', lastPercent: '50' },
    } as AttributionModelRule;
    expect(errorCode(() => attribute({ touches: [], rule: bad, closeAt: day(0) }))).toBe(
      'invalid_attribution_model',
    );
  });
});

describe('model schemas', () => {
  it('fills the U and W defaults', () => {
    expect(AttributionModelSchema.parse({ kind: 'u-shaped' })).toEqual({
      kind: 'u-shaped',
      firstPercent: '40',
      lastPercent: '40',
    });
    expect(AttributionModelSchema.parse({ kind: 'w-shaped' })).toEqual({
      kind: 'w-shaped',
      firstPercent: '30',
      opportunityPercent: '30',
      closingPercent: '30',
    });
  });

  it.each<[string, unknown]>([
    ['U percents over 100', { kind: 'u-shaped', firstPercent: '50.5', lastPercent: '49.6' }],
    ['W percents over 100', { kind: 'w-shaped', firstPercent: '40', opportunityPercent: '40' }],
    ['a percent over 100', { kind: 'u-shaped', firstPercent: '101', lastPercent: '0' }],
    ['a negative percent', { kind: 'u-shaped', firstPercent: '-1' }],
    ['a zero half-life', { kind: 'time-decay', halfLifeDays: '0' }],
    ['a float half-life', { kind: 'time-decay', halfLifeDays: 30 }],
    ['all-zero rules weights', { kind: 'rules-based', weights: { sourced: '0' } }],
    ['empty rules weights', { kind: 'rules-based', weights: {} }],
    ['an unknown role', { kind: 'rules-based', weights: { reseller: '1' } }],
    ['a negative rules weight', { kind: 'rules-based', weights: { sourced: '-1', resale: '2' } }],
    ['Shapley with neither source', { kind: 'shapley' }],
    ['Shapley with both sources', { kind: 'shapley', values: {}, valuesFrom: 'journeys' }],
    ['an unsorted coalition key', { kind: 'shapley', values: { 'B+A': '1' } }],
    ['a repeated coalition member', { kind: 'shapley', values: { 'A+A': '1' } }],
    ['an empty coalition member', { kind: 'shapley', values: { 'A+': '1' } }],
    ['an unknown kind', { kind: 'data-driven' }],
  ])('rejects %s', (_name, model) => {
    expect(AttributionModelSchema.safeParse(model).success).toBe(false);
  });

  it('accepts the boundary cases', () => {
    for (const model of [
      { kind: 'u-shaped', firstPercent: '50', lastPercent: '50' },
      {
        kind: 'w-shaped',
        firstPercent: '33.3',
        opportunityPercent: '33.3',
        closingPercent: '33.4',
      },
      { kind: 'time-decay', halfLifeDays: '7.5' },
      { kind: 'rules-based', weights: { sourced: '0', influenced: '0.25' } },
      { kind: 'shapley', values: { A: '0.3', 'A+B': '0.6' } },
      { kind: 'shapley', valuesFrom: 'journeys' },
      { kind: 'markov' },
    ]) {
      expect(AttributionModelSchema.safeParse(model).success).toBe(true);
    }
    expect(coalitionKey(['b', 'A', 'a'])).toBe('A+a+b');
  });

  it('validates the rule envelope and the default rule', () => {
    expect(AttributionModelRuleSchema.parse(DEFAULT_ATTRIBUTION_MODEL_RULE)).toEqual(
      DEFAULT_ATTRIBUTION_MODEL_RULE,
    );
    const base = {
      modelId: 'm',
      version: 1,
      effectiveFrom: '2025-01-01',
      model: { kind: 'linear' },
    };
    expect(AttributionModelRuleSchema.safeParse({ ...base, version: 0 }).success).toBe(false);
    expect(
      AttributionModelRuleSchema.safeParse({ ...base, effectiveFrom: '2025-02-30' }).success,
    ).toBe(false);
    expect(AttributionModelRuleSchema.safeParse({ ...base, modelId: '' }).success).toBe(false);
    expect(
      AttributionTouchSchema.safeParse({ ...touch('t', 'A', 0), milestone: 'x'.repeat(65) })
        .success,
    ).toBe(false);
    expect(AttributionTouchSchema.safeParse(touch('t', 'A', 0)).success).toBe(true);
  });

  it('picks the rule in effect on a date: latest start, then the higher version', () => {
    const rules = [
      ruleOf({ kind: 'linear' }, 1),
      { ...ruleOf({ kind: 'first-touch' }, 2), effectiveFrom: '2025-07-01' },
      { ...ruleOf({ kind: 'last-touch' }, 3), effectiveFrom: '2025-07-01' },
    ];
    expect(modelRuleInEffect(rules, '2024-12-31')).toBeNull();
    expect(modelRuleInEffect(rules, '2025-06-30')?.version).toBe(1);
    expect(modelRuleInEffect(rules, '2025-07-01')?.version).toBe(3);
  });
});

describe('diffOutcomes', () => {
  it('reports the model change, partners added and removed, and changed shares', () => {
    const before = {
      rule: ruleOf({ kind: 'linear' }, 1),
      outcome: run({ kind: 'linear' }, FOUR.slice(0, 3)),
    };
    const afterTouches = [...FOUR.slice(1, 3), touch('t9', 'E', 40)];
    const after = {
      rule: ruleOf({ kind: 'first-touch' }, 2),
      outcome: run({ kind: 'first-touch' }, afterTouches),
    };
    expect(diffOutcomes(before, after)).toEqual({
      model: { from: 'test@v1 (linear)', to: 'test@v2 (first-touch)' },
      added: ['E'],
      removed: ['A'],
      changed: [
        { partnerId: 'B', from: r(1n, 3n), to: r(1n) },
        { partnerId: 'C', from: r(1n, 3n), to: r(0n) },
      ],
    });
    expect(diffOutcomes(before, before)).toEqual({
      model: null,
      added: [],
      removed: [],
      changed: [],
    });
  });
});
