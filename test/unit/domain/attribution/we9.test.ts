// Proves the attribution engine reproduces finance.md §9 WE-9 to the cent: first, last, linear, U, W and time-decay splits of $360,000.00, the equal 3-way split, Shapley and Markov.
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
import { powerOfTwoNegative } from '../../../../lib/domain/attribution/decimal-power';
import {
  type AttributionModelInput,
  type AttributionModelRule,
  AttributionModelRuleSchema,
} from '../../../../lib/domain/attribution/models';
import {
  formatRational,
  multiplyRational,
  parseDecimal,
  type Rational,
  rational,
  sumRational,
} from '../../../../lib/domain/money';

const TCV_MINOR = 36_000_000n; // $360,000.00
const DAY_MS = 86_400_000;
const DAY_0 = Date.UTC(2025, 2, 3, 15, 30); // any instant works: only differences matter
const day = (n: number): string => new Date(DAY_0 + n * DAY_MS).toISOString();
const CLOSE_AT = day(90);

function touch(
  touchId: string,
  partnerId: string,
  dayNumber: number,
  role: AttributionTouch['role'] = 'influenced',
): AttributionTouch {
  return {
    touchId,
    partnerId,
    role,
    milestone: null,
    at: day(dayNumber),
    source: 'activity',
    sourceRef: null,
  };
}

/** WE-9 touches: A sourced (day 0), S ACE seller creating the opportunity (40), B (70), C (88). */
const TOUCHES: AttributionTouch[] = [
  {
    touchId: 'we9-a',
    partnerId: 'A',
    role: 'sourced',
    milestone: 'first_touch',
    at: day(0),
    source: 'deal-registration',
    sourceRef: 'reg-1',
  },
  {
    touchId: 'we9-s',
    partnerId: 'S',
    role: 'cloud-seller',
    milestone: 'opportunity_created',
    at: day(40),
    source: 'co-sell-referral',
    sourceRef: 'O1234567',
  },
  {
    touchId: 'we9-b',
    partnerId: 'B',
    role: 'influenced',
    milestone: null,
    at: day(70),
    source: 'activity',
    sourceRef: null,
  },
  {
    touchId: 'we9-c',
    partnerId: 'C',
    role: 'influenced',
    milestone: null,
    at: day(88),
    source: 'activity',
    sourceRef: null,
  },
];

function ruleOf(model: AttributionModelInput): AttributionModelRule {
  return AttributionModelRuleSchema.parse({
    modelId: 'we9',
    version: 1,
    effectiveFrom: '2025-01-01',
    model,
  });
}

function run(
  model: AttributionModelInput,
  touches: readonly AttributionTouch[] = TOUCHES,
  journeys?: readonly Journey[],
): AttributionOutcome {
  return attribute({
    touches,
    rule: ruleOf(model),
    closeAt: CLOSE_AT,
    ...(journeys === undefined ? {} : { journeys }),
  });
}

/** The split as { partner: cents }. */
function split(outcome: AttributionOutcome, amountMinor = TCV_MINOR): Record<string, bigint> {
  return Object.fromEntries(
    splitByShares(amountMinor, outcome.shares).map((s) => [s.partnerId, s.amountMinor]),
  );
}

const weightOf = (outcome: AttributionOutcome, partnerId: string): Rational =>
  outcome.shares.find((s) => s.partnerId === partnerId)?.weight ?? rational(-1n);

describe('WE-9: splits of a $360,000.00 deal closed on day 90', () => {
  it.each<[string, AttributionModelInput, Record<string, bigint>]>([
    ['first-touch', { kind: 'first-touch' }, { A: 36_000_000n, S: 0n, B: 0n, C: 0n }],
    ['last-touch', { kind: 'last-touch' }, { A: 0n, S: 0n, B: 0n, C: 36_000_000n }],
    ['linear', { kind: 'linear' }, { A: 9_000_000n, S: 9_000_000n, B: 9_000_000n, C: 9_000_000n }],
    [
      'U-shaped 40/20/40',
      { kind: 'u-shaped' },
      { A: 14_400_000n, S: 3_600_000n, B: 3_600_000n, C: 14_400_000n },
    ],
    [
      'W-shaped 30/30/30 + 10 (S creates the opportunity)',
      { kind: 'w-shaped' },
      { A: 10_800_000n, S: 10_800_000n, B: 3_600_000n, C: 10_800_000n },
    ],
    [
      'time-decay, half-life 30 days',
      { kind: 'time-decay', halfLifeDays: '30' },
      { A: 2_222_461n, S: 5_600_251n, B: 11_200_502n, C: 16_976_786n },
    ],
  ])('%s', (_name, model, expected) => {
    const outcome = run(model);
    expect(split(outcome)).toEqual(expected);
    expect(outcome.fallback).toBeNull();
    expect(sumRational(outcome.shares.map((s) => s.weight))).toEqual(rational(1n));
  });

  it('U- and W-shaped weights are the exact percentages', () => {
    const u = run({ kind: 'u-shaped' });
    expect(u.touchWeights.map((w) => [w.touchId, w.weight])).toEqual([
      ['we9-a', rational(2n, 5n)],
      ['we9-s', rational(1n, 10n)],
      ['we9-b', rational(1n, 10n)],
      ['we9-c', rational(2n, 5n)],
    ]);
    const w = run({ kind: 'w-shaped' });
    expect(w.shares.map((s) => [s.partnerId, s.weight])).toEqual([
      ['A', rational(3n, 10n)],
      ['B', rational(1n, 10n)],
      ['C', rational(3n, 10n)],
      ['S', rational(3n, 10n)],
    ]);
  });

  describe('time-decay details', () => {
    const outcome = run({ kind: 'time-decay', halfLifeDays: '30' });

    it('the weights 2^(−age/30) are 0.125, 0.3149803, 0.6299605, 0.9548416', () => {
      const weights = [90n, 50n, 20n, 2n].map((age) =>
        formatRational(powerOfTwoNegative(rational(age, 30n)), 7),
      );
      expect(weights).toEqual(['0.125', '0.3149803', '0.6299605', '0.9548416']);
    });

    it('the shares are 6.1735 %, 15.5563 %, 31.1125 %, 47.1577 %', () => {
      const percents = ['A', 'S', 'B', 'C'].map((p) =>
        formatRational(multiplyRational(weightOf(outcome, p), rational(100n)), 4),
      );
      expect(percents).toEqual(['6.1735', '15.5563', '31.1125', '47.1577']);
    });

    it('the exact amounts in cents are 2,222,461.05; 5,600,250.92; 11,200,501.84; 16,976,786.19', () => {
      const exact = ['A', 'S', 'B', 'C'].map((p) =>
        formatRational(multiplyRational(weightOf(outcome, p), rational(TCV_MINOR)), 2),
      );
      expect(exact).toEqual(['2222461.05', '5600250.92', '11200501.84', '16976786.19']);
    });

    it('the floors sum to 35,999,998 and the 2 leftover cents go to S (.92) and B (.84)', () => {
      const floors = ['A', 'S', 'B', 'C'].map((p) => {
        const w = weightOf(outcome, p);
        return (w.num * TCV_MINOR) / w.den;
      });
      expect(floors).toEqual([2_222_461n, 5_600_250n, 11_200_501n, 16_976_786n]);
      expect(floors.reduce((a, b) => a + b, 0n)).toBe(35_999_998n);
      const got = split(outcome);
      expect([got.S, got.B]).toEqual([5_600_251n, 11_200_502n]);
    });

    it('touch weights are 2^(−age/30) to 24 places (rule 9), anchored at the youngest touch', () => {
      // Anchoring divides every weight by 2^(−2/30); normalization makes it invisible.
      const raw = [88n, 48n, 18n, 0n].map((age) => powerOfTwoNegative(rational(age, 30n)));
      for (const w of raw) expect(10n ** 24n % w.den).toBe(0n);
      const total = sumRational(raw);
      expect(outcome.touchWeights.map((w) => w.weight)).toEqual(
        raw.map((w) => rational(w.num * total.den, w.den * total.num)),
      );
    });
  });

  it('the deal is sourced (A registered it) and each partner is credited with its roles', () => {
    const outcome = run({ kind: 'linear' });
    expect(outcome.dealCredit).toBe('sourced');
    expect(outcome.credits).toEqual([
      { partnerId: 'A', flags: ['sourced'] },
      { partnerId: 'B', flags: ['influenced'] },
      { partnerId: 'C', flags: ['influenced'] },
      { partnerId: 'S', flags: ['cloud-seller'] },
    ]);
    expect(outcome.shares.map((s) => [s.partnerId, s.firstTouchAt])).toEqual([
      ['A', day(0)],
      ['B', day(70)],
      ['C', day(88)],
      ['S', day(40)],
    ]);
  });

  it('the input order of the touches changes nothing', () => {
    const reversed = [...TOUCHES].reverse();
    for (const model of [
      { kind: 'first-touch' },
      { kind: 'u-shaped' },
      { kind: 'w-shaped' },
      { kind: 'time-decay', halfLifeDays: '30' },
    ] as const) {
      expect(run(model, reversed)).toEqual(run(model));
    }
  });
});

describe('WE-9 other checks', () => {
  it('an equal 3-way split of $1,000.00 is 333.34 / 333.33 / 333.33, the extra cent to the earliest touch', () => {
    // The earliest partner has the largest id, so the tie is broken by time, not by id.
    const touches = ['z-partner', 'a-partner', 'm-partner'].map((p, i) => touch(`t-${i}`, p, i));
    const outcome = run({ kind: 'linear' }, touches);
    expect(split(outcome, 100_000n)).toEqual({
      'z-partner': 33_334n,
      'a-partner': 33_333n,
      'm-partner': 33_333n,
    });
    // negative amounts mirror (a clawback of the same split)
    expect(split(outcome, -100_000n)).toEqual({
      'z-partner': -33_334n,
      'a-partner': -33_333n,
      'm-partner': -33_333n,
    });
  });

  describe('Shapley, two partners: v{A} = 0.30, v{B} = 0.20, v{A,B} = 0.60', () => {
    const values: Record<string, string> = { A: '0.30', B: '0.20', 'A+B': '0.60' };

    it('φA = 0.35 and φB = 0.25, and they sum to v{A,B} (efficiency)', () => {
      const phi = shapleyValues(['A', 'B'], (coalition) => {
        const text = values[[...coalition].sort().join('+')];
        return text === undefined ? rational(0n) : parseDecimal(text);
      });
      expect(phi.get('A')).toEqual(parseDecimal('0.35'));
      expect(phi.get('B')).toEqual(parseDecimal('0.25'));
      expect(sumRational(phi.values())).toEqual(parseDecimal('0.60'));
    });

    it('a $10,000.00 pool splits into A 5,833.33 and B 4,166.67', () => {
      const touches = [touch('sh-a', 'A', 0, 'sourced'), touch('sh-b', 'B', 70)];
      const outcome = run({ kind: 'shapley', values }, touches);
      expect(outcome.fallback).toBeNull();
      expect(weightOf(outcome, 'A')).toEqual(rational(7n, 12n));
      expect(weightOf(outcome, 'B')).toEqual(rational(5n, 12n));
      expect(split(outcome, 1_000_000n)).toEqual({ A: 583_333n, B: 416_667n });
    });
  });

  describe('Markov removal effect: (A→B→conv), (A→null), (B→conv)', () => {
    const journeys: Journey[] = [
      { partners: ['A', 'B'], converted: true },
      { partners: ['A'], converted: false },
      { partners: ['B'], converted: true },
    ];

    it('credits A = 1/3 and B = 2/3 (RE_A = 0.5, RE_B = 1)', () => {
      const credits = markovRemovalCredits(journeys);
      expect([...credits.entries()]).toEqual([
        ['A', rational(1n, 3n)],
        ['B', rational(2n, 3n)],
      ]);
    });

    it('the journey order changes nothing', () => {
      expect(markovRemovalCredits([...journeys].reverse())).toEqual(markovRemovalCredits(journeys));
    });

    it('a deal touched by A and B is split 1/3 : 2/3 by the Markov model', () => {
      const touches = [touch('mk-a', 'A', 0, 'sourced'), touch('mk-b', 'B', 70)];
      const outcome = run({ kind: 'markov' }, touches, journeys);
      expect(outcome.fallback).toBeNull();
      expect(weightOf(outcome, 'A')).toEqual(rational(1n, 3n));
      expect(weightOf(outcome, 'B')).toEqual(rational(2n, 3n));
      expect(split(outcome, 1_000_000n)).toEqual({ A: 333_333n, B: 666_667n });
    });
  });
});
