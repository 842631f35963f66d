/**
 * The attribution engine (finance.md §6, rule 9): which partners get credit for a deal and in
 * what exact proportions. Pure: the touches, the model rule, the close instant and (for the
 * data-driven models) the observed journeys are all arguments.
 *
 * - Touches are put in canonical order first (instant, then touchId), so the result never
 *   depends on the input order. Position models weigh touches; the weights are summed per
 *   partner. Shapley and Markov credit partners; a partner's credit is spread equally over its
 *   touches for `touchWeights`.
 * - Every weight is an exact, reduced rational; shares sum to exactly 1. Time-decay weights are
 *   2^(−age/halfLife) correctly rounded to ATTRIBUTION_WEIGHT_DIGITS places (decimal-power.ts).
 * - Money is split per partner by largest remainder (splitByShares), ties to the earlier first
 *   touch, then the smaller partner id.
 * - When a model yields no signal (all weights zero), the outcome falls back to linear and says
 *   why in `fallback`.
 */

import { allocateLargestRemainder } from '../allocation';
import { InvalidInputError, invariant } from '../errors';
import {
  addRational,
  compareRational,
  divideRational,
  gcd,
  multiplyRational,
  ONE,
  parseDecimal,
  type Rational,
  rational,
  subtractRational,
  sumRational,
  ZERO,
} from '../money';
import { InstantSchema } from '../schemas/primitives';
import { powerOfTwoNegative } from './decimal-power';
import {
  type AttributionModel,
  type AttributionModelRule,
  AttributionModelRuleSchema,
  COALITION_SEPARATOR,
  coalitionKey,
  MILESTONE_CLOSING,
  MILESTONE_OPPORTUNITY_CREATED,
  modelRuleLabel,
  TOUCH_ROLES,
  type TouchRole,
  type TouchSource,
} from './models';

/** Touches on one deal. */
export const ATTRIBUTION_TOUCHES_MAX = 200;
/** Observed journeys passed to Markov or Shapley-from-journeys. */
export const ATTRIBUTION_JOURNEYS_MAX = 10_000;
/** Partners (steps) in one journey. */
export const JOURNEY_LENGTH_MAX = 200;
/** Players in an exact Shapley computation (2^12 coalitions). */
export const SHAPLEY_PLAYERS_MAX = 12;
/**
 * Distinct partners across the journeys of a Markov chain (its transient states, less Start).
 * Exact removal-effect credits have denominators that grow with every state (each removal has
 * its own minor); at 32 states and the largest journey set the work stays around a second.
 */
export const MARKOV_STATES_MAX = 32;

const MILLISECONDS_PER_DAY = 86_400_000n;

export interface AttributionTouch {
  touchId: string;
  partnerId: string;
  role: TouchRole;
  milestone: string | null;
  /** ISO-8601 instant. */
  at: string;
  source: TouchSource;
  sourceRef: string | null;
}

export interface Journey {
  /** Partner ids in touch order. */
  partners: readonly string[];
  converted: boolean;
}

export interface AttributionInput {
  touches: readonly AttributionTouch[];
  rule: AttributionModelRule;
  /** ISO instant; time-decay age = closeAt − touch.at, clamped at 0. */
  closeAt: string;
  /** Observed journeys: Markov and Shapley with valuesFrom 'journeys'. */
  journeys?: readonly Journey[];
}

export interface TouchWeight {
  touchId: string;
  partnerId: string;
  weight: Rational;
}

export interface PartnerShare {
  partnerId: string;
  /** Reduced; the shares of a deal sum to exactly 1. */
  weight: Rational;
  /** The `at` of the partner's first touch (canonical order). */
  firstTouchAt: string;
  /** Distinct roles, sorted. */
  roles: TouchRole[];
}

export type CreditFlag = 'sourced' | 'influenced' | 'resale' | 'cloud-seller';

export interface AttributionOutcome {
  /** Canonical order (at, then touchId); sums to exactly 1 when there are touches. */
  touchWeights: TouchWeight[];
  /** Every partner on the deal (weight 0 included), sorted by partnerId; empty without touches. */
  shares: PartnerShare[];
  /** Non-exclusive reporting flags: the roles each partner touched the deal with. */
  credits: { partnerId: string; flags: CreditFlag[] }[];
  dealCredit: 'sourced' | 'influenced' | 'unattributed';
  fallback: { model: 'linear'; reason: string } | null;
}

export interface AttributionDiff {
  model: { from: string; to: string } | null;
  added: string[];
  removed: string[];
  changed: { partnerId: string; from: Rational; to: Rational }[];
}

// ---------------------------------------------------------------------------------------------
// Input checks and canonical order
// ---------------------------------------------------------------------------------------------

interface CanonicalTouch {
  readonly touch: AttributionTouch;
  readonly ms: bigint;
}

function instantMs(text: string, what: string): bigint {
  const ms = InstantSchema.safeParse(text).success ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new InvalidInputError('invalid_instant', `${what} is not an ISO-8601 instant: "${text}"`);
  }
  return BigInt(ms);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonicalTouches(touches: readonly AttributionTouch[]): CanonicalTouch[] {
  if (touches.length > ATTRIBUTION_TOUCHES_MAX) {
    throw new InvalidInputError(
      'too_many_touches',
      `At most ${ATTRIBUTION_TOUCHES_MAX} touches per deal`,
    );
  }
  const ids = new Set<string>();
  const out = touches.map((touch) => {
    if (touch.touchId.length === 0 || touch.partnerId.length === 0) {
      throw new InvalidInputError('invalid_touch', 'A touch needs a touchId and a partnerId');
    }
    if (ids.has(touch.touchId)) {
      throw new InvalidInputError('duplicate_touch', `Touch ${touch.touchId} appears twice`);
    }
    ids.add(touch.touchId);
    if (!(TOUCH_ROLES as readonly string[]).includes(touch.role)) {
      throw new InvalidInputError('invalid_touch_role', `Unknown touch role: ${touch.role}`);
    }
    return { touch, ms: instantMs(touch.at, `Touch ${touch.touchId}`) };
  });
  return out.sort((a, b) =>
    a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : compareStrings(a.touch.touchId, b.touch.touchId),
  );
}

function checkJourneys(journeys: readonly Journey[]): void {
  if (journeys.length > ATTRIBUTION_JOURNEYS_MAX) {
    throw new InvalidInputError(
      'too_many_journeys',
      `At most ${ATTRIBUTION_JOURNEYS_MAX} journeys`,
    );
  }
  for (const journey of journeys) {
    if (journey.partners.length > JOURNEY_LENGTH_MAX) {
      throw new InvalidInputError(
        'journey_too_long',
        `A journey has at most ${JOURNEY_LENGTH_MAX} partners`,
      );
    }
    if (journey.partners.some((p) => p.length === 0)) {
      throw new InvalidInputError('invalid_journey', 'A journey partner id must not be empty');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Per-touch weights of the position and rule models (not normalized)
// ---------------------------------------------------------------------------------------------

const percent = (text: string): Rational => divideRational(parseDecimal(text), rational(100n));

function uShapedWeights(count: number, firstPercent: string, lastPercent: string): Rational[] {
  if (count === 1) return [ONE];
  const first = percent(firstPercent);
  const last = percent(lastPercent);
  // Two touches: the middle pool has nobody to go to; normalization splits first:last.
  if (count === 2) return [first, last];
  const middle = divideRational(
    subtractRational(ONE, addRational(first, last)),
    rational(BigInt(count - 2)),
  );
  return Array.from({ length: count }, (_, i) =>
    i === 0 ? first : i === count - 1 ? last : middle,
  );
}

/**
 * W-shaped. Key positions: the first touch, the first touch with milestone
 * `opportunity_created`, and the last touch with milestone `closing` (the last touch when none
 * has it). Each key position gets its percent; positions that coincide add their percents.
 * Every other touch gets an equal part of what is left (100 − the percents of the key positions
 * that exist), so with no `opportunity_created` touch its percent goes to the other touches.
 * With no other touches the pool goes nowhere and normalization rescales the key positions to
 * 100 %.
 */
function wShapedWeights(
  touches: readonly CanonicalTouch[],
  model: Extract<AttributionModel, { kind: 'w-shaped' }>,
): Rational[] {
  const count = touches.length;
  const weights: Rational[] = Array.from({ length: count }, () => ZERO);
  const give = (index: number, share: Rational): void => {
    weights[index] = addRational(weights[index] ?? ZERO, share);
  };
  const opportunity = touches.findIndex((t) => t.touch.milestone === MILESTONE_OPPORTUNITY_CREATED);
  const closingMarked = touches.findLastIndex((t) => t.touch.milestone === MILESTONE_CLOSING);
  const closing = closingMarked >= 0 ? closingMarked : count - 1;
  let used = ZERO;
  const assign = (index: number, text: string): void => {
    const share = percent(text);
    give(index, share);
    used = addRational(used, share);
  };
  assign(0, model.firstPercent);
  if (opportunity >= 0) assign(opportunity, model.opportunityPercent);
  assign(closing, model.closingPercent);
  const keys = new Set([0, opportunity, closing]);
  const others = touches.map((_, i) => i).filter((i) => !keys.has(i));
  if (others.length > 0) {
    const each = divideRational(subtractRational(ONE, used), rational(BigInt(others.length)));
    for (const i of others) give(i, each);
  }
  return weights;
}

/** Time-decay weights, anchored at the youngest touch (see attribute's doc). */
function timeDecayWeights(
  touches: readonly CanonicalTouch[],
  closeMs: bigint,
  halfLifeDays: string,
): Rational[] {
  const halfLifeMs = multiplyRational(parseDecimal(halfLifeDays), rational(MILLISECONDS_PER_DAY));
  const ages = touches.map((t) => (closeMs > t.ms ? closeMs - t.ms : 0n));
  const youngest = ages.reduce((a, b) => (b < a ? b : a));
  return ages.map((age) =>
    powerOfTwoNegative(divideRational(rational(age - youngest), halfLifeMs)),
  );
}

function rulesBasedWeights(
  touches: readonly CanonicalTouch[],
  weights: Partial<Record<TouchRole, string>>,
): Rational[] {
  return touches.map((t) => {
    const text = weights[t.touch.role];
    return text === undefined ? ZERO : parseDecimal(text);
  });
}

// ---------------------------------------------------------------------------------------------
// Shapley
// ---------------------------------------------------------------------------------------------

function factorial(n: number): bigint {
  let out = 1n;
  for (let k = 2n; k <= BigInt(n); k += 1n) out *= k;
  return out;
}

/**
 * Exact Shapley values: φ_i = Σ_{S ⊆ N∖{i}} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)). The value
 * function is called once per coalition (2^n calls) with the coalition's players in the order
 * of `players`; v(∅) is taken as given by the function (normally 0).
 */
export function shapleyValues(
  players: readonly string[],
  value: (coalition: readonly string[]) => Rational,
): Map<string, Rational> {
  if (players.length > SHAPLEY_PLAYERS_MAX) {
    throw new InvalidInputError(
      'too_many_players',
      `Exact Shapley values are limited to ${SHAPLEY_PLAYERS_MAX} players`,
    );
  }
  if (new Set(players).size !== players.length) {
    throw new InvalidInputError('duplicate_player', 'Shapley players must be distinct');
  }
  const n = players.length;
  const subsets = 1 << n;
  const values: Rational[] = [];
  for (let mask = 0; mask < subsets; mask += 1) {
    values.push(value(players.filter((_, i) => (mask & (1 << i)) !== 0)));
  }
  const sizeOf = (mask: number): number => {
    let size = 0;
    for (let m = mask; m !== 0; m &= m - 1) size += 1;
    return size;
  };
  const nFactorial = factorial(n);
  const coefficient = Array.from({ length: n }, (_, s) =>
    rational(factorial(s) * factorial(n - s - 1), nFactorial),
  );
  const out = new Map<string, Rational>();
  players.forEach((player, i) => {
    const bit = 1 << i;
    let total = ZERO;
    for (let mask = 0; mask < subsets; mask += 1) {
      if ((mask & bit) !== 0) continue;
      const marginal = subtractRational(values[mask | bit] ?? ZERO, values[mask] ?? ZERO);
      if (marginal.num === 0n) continue;
      total = addRational(total, multiplyRational(coefficient[sizeOf(mask)] ?? ZERO, marginal));
    }
    out.set(player, total);
  });
  return out;
}

function shapleyValueFunction(
  model: Extract<AttributionModel, { kind: 'shapley' }>,
  players: readonly string[],
  journeys: readonly Journey[] | undefined,
): (coalition: readonly string[]) => Rational {
  if (model.values !== undefined) {
    const table = model.values;
    if (players.some((p) => p.includes(COALITION_SEPARATOR))) {
      throw new InvalidInputError(
        'ambiguous_coalition_key',
        `Partner ids containing "${COALITION_SEPARATOR}" cannot be keyed in a Shapley value table`,
      );
    }
    return (coalition) => {
      if (coalition.length === 0) return ZERO;
      const text = Object.hasOwn(table, coalitionKey(coalition))
        ? table[coalitionKey(coalition)]
        : undefined;
      return text === undefined ? ZERO : parseDecimal(text);
    };
  }
  // valuesFrom 'journeys': v(S) = converted journeys whose non-empty partner set lies within S.
  const index = new Map(players.map((p, i) => [p, i]));
  const counts = new Map<number, bigint>();
  for (const journey of journeys ?? []) {
    if (!journey.converted || journey.partners.length === 0) continue;
    let mask = 0;
    let inside = true;
    for (const partner of journey.partners) {
      const i = index.get(partner);
      if (i === undefined) {
        inside = false;
        break;
      }
      mask |= 1 << i;
    }
    if (inside) counts.set(mask, (counts.get(mask) ?? 0n) + 1n);
  }
  return (coalition) => {
    let mask = 0;
    for (const partner of coalition) mask |= 1 << (index.get(partner) ?? 0);
    let total = 0n;
    for (const [journeyMask, count] of counts) {
      if ((journeyMask & mask) === journeyMask) total += count;
    }
    return rational(total);
  };
}

// ---------------------------------------------------------------------------------------------
// Markov removal effect
// ---------------------------------------------------------------------------------------------

interface MarkovChain {
  /** Partners, sorted; state i + 1 is partners[i], state 0 is Start. */
  readonly partners: readonly string[];
  /** counts[s][t] over transient states; conv[s] and total[s] per state. */
  readonly counts: bigint[][];
  readonly conv: bigint[];
  readonly total: bigint[];
}

function buildMarkovChain(journeys: readonly Journey[]): MarkovChain {
  checkJourneys(journeys);
  const partners = [...new Set(journeys.flatMap((j) => j.partners))].sort();
  if (partners.length > MARKOV_STATES_MAX) {
    throw new InvalidInputError(
      'too_many_markov_states',
      `A Markov chain is limited to ${MARKOV_STATES_MAX} distinct partners`,
    );
  }
  const stateOf = new Map(partners.map((p, i) => [p, i + 1]));
  const size = partners.length + 1;
  const counts = Array.from({ length: size }, () => Array.from({ length: size }, () => 0n));
  const conv = Array.from({ length: size }, () => 0n);
  const total = Array.from({ length: size }, () => 0n);
  for (const journey of journeys) {
    let from = 0;
    for (const partner of journey.partners) {
      const to = stateOf.get(partner) ?? 0;
      const row = counts[from];
      invariant(row !== undefined && to > 0, 'markov state out of range');
      row[to] = (row[to] ?? 0n) + 1n;
      total[from] = (total[from] ?? 0n) + 1n;
      from = to;
    }
    if (journey.converted) conv[from] = (conv[from] ?? 0n) + 1n;
    total[from] = (total[from] ?? 0n) + 1n;
  }
  return { partners, counts, conv, total };
}

/**
 * The absorbing chain as one integer linear system. Unknown x_s is P(conversion | at state s):
 * x_s = Σ_t P(s,t)·x_t + P(s,conv). Scaled by each row's transition count it is integral:
 * total_s·x_s − Σ_t count(s,t)·x_t = conv_s. Row and column s are state s (0 is Start); the
 * last column is the right-hand side.
 *
 * The matrix is a nonsingular M-matrix (every state reaches an absorbing state along the
 * journey it came from), so every principal minor is positive and fraction-free (Bareiss)
 * elimination may pivot on the diagonal in any order. After the states of a set E are
 * eliminated, entry (i, j) is det(A[E ∪ {i}, E ∪ {j}]) whatever the order, so:
 * - x_Start = rhs / diagonal once every partner state is eliminated;
 * - removing state i (its inbound transitions go to null, x_i = 0) is deleting row and column
 *   i, and deleting them after other states were eliminated gives the same numbers as deleting
 *   them first. Removals therefore share work: to remove each state of a set, eliminate one half
 *   and recurse on the other, for about three solves' work instead of one solve per state.
 */
interface Elimination {
  /** Rows by state; only the rows and columns in `active` are meaningful. */
  readonly matrix: readonly (readonly bigint[])[];
  /** The last pivot (1 before any). */
  readonly previousPivot: bigint;
}

function chainSystem(chain: MarkovChain): Elimination {
  const size = chain.partners.length + 1;
  const matrix = Array.from({ length: size }, (_, s) => {
    const row = (chain.counts[s] ?? []).map((count) => -count);
    row[s] = (row[s] ?? 0n) + (chain.total[s] ?? 0n);
    row.push(chain.conv[s] ?? 0n);
    return row;
  });
  return { matrix, previousPivot: 1n };
}

/** Eliminates `pivots` (in order) from the active states; returns a new matrix. */
function eliminate(
  state: Elimination,
  active: readonly number[],
  pivots: readonly number[],
): Elimination {
  const rhs = state.matrix.length;
  const matrix = state.matrix.map((row) => [...row]);
  let previousPivot = state.previousPivot;
  const remaining = new Set(active);
  for (const p of pivots) {
    remaining.delete(p);
    const pivotRow = matrix[p];
    invariant(pivotRow !== undefined, 'markov row out of range');
    const pivot = pivotRow[p] ?? 0n;
    invariant(pivot > 0n, 'markov pivot must be positive');
    const columns = [...remaining, rhs];
    for (const i of remaining) {
      const row = matrix[i];
      invariant(row !== undefined, 'markov row out of range');
      const factor = row[p] ?? 0n;
      for (const j of columns) {
        row[j] = (pivot * (row[j] ?? 0n) - factor * (pivotRow[j] ?? 0n)) / previousPivot;
      }
    }
    previousPivot = pivot;
  }
  return { matrix, previousPivot };
}

/** An unreduced fraction with a positive denominator. */
interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

/** x_Start once only Start is active: unreduced, the denominator is a positive minor. */
function startProbability(state: Elimination): Fraction {
  const start = state.matrix[0];
  invariant(start !== undefined, 'markov start row missing');
  const den = start[0] ?? 0n;
  invariant(den > 0n, 'markov minor must be positive');
  return { num: start[state.matrix.length] ?? 0n, den };
}

/**
 * P(conversion | i removed) for each candidate. `active` are the states not yet eliminated:
 * the candidates and Start (0).
 */
function removalProbabilities(
  state: Elimination,
  candidates: readonly number[],
  out: Map<number, Fraction>,
): void {
  const [only] = candidates;
  if (candidates.length === 1 && only !== undefined) {
    out.set(only, startProbability(state)); // only's row and column are simply left out
    return;
  }
  const half = Math.ceil(candidates.length / 2);
  const left = candidates.slice(0, half);
  const right = candidates.slice(half);
  const active = [0, ...candidates];
  removalProbabilities(eliminate(state, active, right), left, out);
  removalProbabilities(eliminate(state, active, left), right, out);
}

/**
 * Markov credits of the chosen partners: credit_i = RE_i / Σ RE with
 * RE_i = 1 − P(conv | i removed) / P(conv), all zero when nothing converts or Σ RE = 0.
 *
 * The exact credits of a large chain have very long denominators (every removal has its own
 * minor), so the arithmetic is done on unreduced fractions and each credit is reduced once.
 * With P = N/D and P_(−i) = N_i/D_i (D, D_i > 0 are principal minors): RE_i·N = u_i/D_i where
 * u_i = N·D_i − N_i·D, and credit_i = u_i·Π_(j≠i) D_j / Σ_k u_k·Π_(l≠k) D_l.
 */
function markovCredits(chain: MarkovChain, partners: readonly string[]): Map<string, Rational> {
  const out = new Map<string, Rational>(partners.map((p) => [p, ZERO]));
  if ((chain.total[0] ?? 0n) === 0n) return out;
  const chosen = [...new Set(partners)].filter((p) => chain.partners.includes(p));
  const candidates = chosen.map((p) => chain.partners.indexOf(p) + 1);
  const others = chain.partners.map((_, i) => i + 1).filter((s) => !candidates.includes(s));
  // States that are never removed are eliminated once, for every removal.
  const shared = eliminate(chainSystem(chain), [0, ...chain.partners.map((_, i) => i + 1)], others);
  const base = startProbability(eliminate(shared, [0, ...candidates], candidates));
  if (base.num === 0n || candidates.length === 0) return out;
  const without = new Map<number, Fraction>();
  removalProbabilities(shared, candidates, without);
  const terms = candidates.map((state) => {
    const p = without.get(state);
    invariant(p !== undefined, 'markov removal missing');
    return { u: base.num * p.den - p.num * base.den, d: p.den };
  });
  // prefix[i] = Π_(j<i) D_j, suffix[i] = Π_(j>i) D_j
  const prefix: bigint[] = [1n];
  for (const term of terms) prefix.push((prefix[prefix.length - 1] ?? 1n) * term.d);
  const suffix: bigint[] = Array.from({ length: terms.length + 1 }, () => 1n);
  for (let i = terms.length - 1; i >= 0; i -= 1) {
    suffix[i] = (suffix[i + 1] ?? 1n) * (terms[i]?.d ?? 1n);
  }
  const numerators = terms.map((term, i) => term.u * (prefix[i] ?? 1n) * (suffix[i + 1] ?? 1n));
  const total = numerators.reduce((a, b) => a + b, 0n);
  invariant(
    numerators.every((n) => n >= 0n),
    'a removal effect is negative',
  );
  if (total === 0n) return out;
  chosen.forEach((partner, i) => {
    out.set(partner, rational(numerators[i] ?? 0n, total));
  });
  return out;
}

/**
 * First-order Markov removal-effect credits over journeys (Start → partners… → conv | null),
 * for every partner in the journeys: credit_i = RE_i / Σ RE, exact. All zero when nothing
 * converts. Bounded by ATTRIBUTION_JOURNEYS_MAX, JOURNEY_LENGTH_MAX and MARKOV_STATES_MAX.
 */
export function markovRemovalCredits(journeys: readonly Journey[]): Map<string, Rational> {
  const chain = buildMarkovChain(journeys);
  return markovCredits(chain, chain.partners);
}

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

/**
 * A model's raw result: per-touch weights (position and rule models, not normalized) or
 * per-partner credits (Shapley, Markov; `normalized` when they already sum to 1 or are all 0).
 */
type RawWeights =
  | { readonly level: 'touch'; readonly touch: Rational[]; readonly fallback: string }
  | {
      readonly level: 'partner';
      readonly credits: Map<string, Rational>;
      readonly normalized: boolean;
      readonly fallback: string;
    };

/** r / c for a reduced r and a positive integer c, reduced with one small gcd. */
function divideByCount(value: Rational, count: bigint): Rational {
  const g = gcd(value.num, count);
  return g === 0n ? ZERO : { num: value.num / g, den: value.den * (count / g) };
}

/**
 * Σ values === target, on unreduced fractions: no gcd on long denominators (Markov credits),
 * and equal or dividing denominators (one partner's touches) are added without growing.
 */
function sumEquals(values: readonly Rational[], target: Rational): boolean {
  let num = 0n;
  let den = 1n;
  for (const v of values) {
    if (den % v.den === 0n) {
      num += v.num * (den / v.den);
    } else {
      num = num * v.den + v.num * den;
      den *= v.den;
    }
  }
  return num * target.den === target.num * den;
}

function rawWeights(
  touches: readonly CanonicalTouch[],
  model: AttributionModel,
  closeMs: bigint,
  journeys: readonly Journey[] | undefined,
): RawWeights {
  const count = touches.length;
  const weighed = (touch: Rational[], fallback: string): RawWeights => ({
    level: 'touch',
    touch,
    fallback,
  });
  const players = [...new Set(touches.map((t) => t.touch.partnerId))].sort();
  switch (model.kind) {
    case 'first-touch':
      return weighed(
        touches.map((_, i) => (i === 0 ? ONE : ZERO)),
        'first-touch weight is zero',
      );
    case 'last-touch':
      return weighed(
        touches.map((_, i) => (i === count - 1 ? ONE : ZERO)),
        'last-touch weight is zero',
      );
    case 'linear':
      return weighed(
        touches.map(() => ONE),
        'linear weights are zero',
      );
    case 'u-shaped':
      return weighed(
        uShapedWeights(count, model.firstPercent, model.lastPercent),
        'u-shaped percents give every touch zero',
      );
    case 'w-shaped':
      return weighed(wShapedWeights(touches, model), 'w-shaped percents give every touch zero');
    case 'time-decay':
      return weighed(
        timeDecayWeights(touches, closeMs, model.halfLifeDays),
        'time-decay weights are all zero',
      );
    case 'rules-based':
      return weighed(
        rulesBasedWeights(touches, model.weights),
        'no touch on this deal has a role with a positive rules-based weight',
      );
    case 'shapley': {
      if (journeys !== undefined) checkJourneys(journeys);
      const phi = shapleyValues(players, shapleyValueFunction(model, players, journeys));
      // A negative Shapley value (non-superadditive table) earns nothing; money needs weights ≥ 0.
      const credits = new Map<string, Rational>();
      for (const [partner, value] of phi) credits.set(partner, value.num > 0n ? value : ZERO);
      return {
        level: 'partner',
        credits,
        normalized: false,
        fallback:
          model.values === undefined
            ? 'no converted journey lies within the partners of this deal'
            : 'shapley values are all zero or negative',
      };
    }
    case 'markov':
      return {
        level: 'partner',
        credits: markovCredits(buildMarkovChain(journeys ?? []), players),
        normalized: true,
        fallback: 'markov removal effects are all zero for the partners on this deal',
      };
  }
}

/**
 * Per-partner shares and per-touch weights from the raw result; linear when it is all zero.
 * Partner credits are spread equally over each partner's touches.
 */
function resolveWeights(
  touches: readonly CanonicalTouch[],
  raw: RawWeights,
): {
  touch: Rational[];
  partner: Map<string, Rational>;
  fallback: AttributionOutcome['fallback'];
} {
  const counts = new Map<string, bigint>();
  for (const t of touches) {
    counts.set(t.touch.partnerId, (counts.get(t.touch.partnerId) ?? 0n) + 1n);
  }
  if (raw.level === 'partner') {
    const values = [...raw.credits.values()];
    if (values.some((v) => v.num < 0n)) {
      throw new InvalidInputError('negative_weight', 'The model produced a negative credit');
    }
    if (values.some((v) => v.num !== 0n)) {
      let partner = raw.credits;
      if (!raw.normalized) {
        const total = sumRational(values);
        partner = new Map([...raw.credits].map(([p, v]) => [p, divideRational(v, total)]));
      }
      const touch = touches.map((t) =>
        divideByCount(partner.get(t.touch.partnerId) ?? ZERO, counts.get(t.touch.partnerId) ?? 1n),
      );
      return { touch, partner, fallback: null };
    }
  }
  let weights = raw.level === 'touch' ? raw.touch : [];
  if (weights.some((w) => w.num < 0n)) {
    throw new InvalidInputError('negative_weight', 'The model produced a negative weight');
  }
  let total = sumRational(weights);
  let fallback: AttributionOutcome['fallback'] = null;
  if (total.num === 0n) {
    fallback = { model: 'linear', reason: raw.fallback };
    weights = touches.map(() => ONE);
    total = rational(BigInt(touches.length));
  }
  const touch = weights.map((w) => divideRational(w, total));
  const partner = new Map<string, Rational>();
  touches.forEach((t, i) => {
    const id = t.touch.partnerId;
    partner.set(id, addRational(partner.get(id) ?? ZERO, touch[i] ?? ZERO));
  });
  return { touch, partner, fallback };
}

function sortedDistinct<T extends string>(values: Iterable<T>): T[] {
  return [...new Set(values)].sort();
}

/**
 * Attribute a deal. Position models weigh touches in canonical order (see the file comment).
 * Time-decay weighs touch i by 2^(−(age_i − age_min)/halfLife): anchoring at the youngest touch
 * leaves the normalized shares mathematically unchanged and keeps the youngest weight exactly 1,
 * so old deals never underflow to all-zero weights. Rules-based weighs each touch by its role.
 * When the weights are all zero (a rules table that ignores every role on the deal, Shapley
 * values all ≤ 0, Markov with no signal) the outcome is linear and `fallback` says why.
 */
export function attribute(input: AttributionInput): AttributionOutcome {
  const parsedRule = AttributionModelRuleSchema.safeParse(input.rule);
  if (!parsedRule.success) {
    throw new InvalidInputError(
      'invalid_attribution_model',
      'The attribution model rule is not valid',
      parsedRule.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        code: issue.code,
        message: issue.message,
      })),
    );
  }
  const closeMs = instantMs(input.closeAt, 'closeAt');
  const touches = canonicalTouches(input.touches);
  const dealCredit = touches.some((t) => t.touch.role === 'sourced')
    ? 'sourced'
    : touches.length > 0
      ? 'influenced'
      : 'unattributed';
  if (touches.length === 0) {
    return { touchWeights: [], shares: [], credits: [], dealCredit, fallback: null };
  }

  const raw = rawWeights(touches, parsedRule.data.model, closeMs, input.journeys);
  const resolved = resolveWeights(touches, raw);
  const touchWeights: TouchWeight[] = touches.map((t, i) => ({
    touchId: t.touch.touchId,
    partnerId: t.touch.partnerId,
    weight: resolved.touch[i] ?? ZERO,
  }));
  const partners = new Map<string, { firstTouchAt: string; roles: TouchRole[] }>();
  for (const t of touches) {
    const entry = partners.get(t.touch.partnerId);
    if (entry === undefined) {
      partners.set(t.touch.partnerId, { firstTouchAt: t.touch.at, roles: [t.touch.role] });
    } else {
      entry.roles.push(t.touch.role);
    }
  }
  const shares: PartnerShare[] = [...partners.keys()].sort().map((partnerId) => {
    const entry = partners.get(partnerId);
    invariant(entry !== undefined, 'partner missing');
    return {
      partnerId,
      weight: resolved.partner.get(partnerId) ?? ZERO,
      firstTouchAt: entry.firstTouchAt,
      roles: sortedDistinct(entry.roles),
    };
  });
  invariant(
    sumEquals(
      shares.map((s) => s.weight),
      ONE,
    ),
    'attribution shares must sum to 1',
  );
  for (const share of shares) {
    const own = touchWeights.filter((w) => w.partnerId === share.partnerId).map((w) => w.weight);
    invariant(sumEquals(own, share.weight), 'touch weights must sum to the partner share');
  }
  const credits = shares.map((s) => ({
    partnerId: s.partnerId,
    flags: [...s.roles] as CreditFlag[],
  }));
  return { touchWeights, shares, credits, dealCredit, fallback: resolved.fallback };
}

/**
 * Splits an amount among partners by their shares, largest remainder, ties to the earlier first
 * touch then smaller partner id. Sums exactly to amountMinor (negative amounts mirror). Empty
 * shares → [].
 */
export function splitByShares(
  amountMinor: bigint,
  shares: readonly PartnerShare[],
): { partnerId: string; amountMinor: bigint }[] {
  if (shares.length === 0) return [];
  return allocateLargestRemainder(
    amountMinor,
    shares.map((s) => ({ id: s.partnerId, weight: s.weight, timestamp: s.firstTouchAt })),
  ).map((a) => ({ partnerId: a.id, amountMinor: a.amountMinor }));
}

/**
 * What changed between two attributions of the same deal: the model (null when the same rule,
 * by modelId, version and kind), partners added or removed, and partners whose share changed.
 */
export function diffOutcomes(
  previous: { rule: AttributionModelRule; outcome: AttributionOutcome },
  next: { rule: AttributionModelRule; outcome: AttributionOutcome },
): AttributionDiff {
  const from = modelRuleLabel(previous.rule);
  const to = modelRuleLabel(next.rule);
  const before = new Map(previous.outcome.shares.map((s) => [s.partnerId, s.weight]));
  const after = new Map(next.outcome.shares.map((s) => [s.partnerId, s.weight]));
  const added = [...after.keys()].filter((p) => !before.has(p)).sort();
  const removed = [...before.keys()].filter((p) => !after.has(p)).sort();
  const changed: AttributionDiff['changed'] = [];
  for (const partnerId of [...after.keys()].sort()) {
    const a = before.get(partnerId);
    const b = after.get(partnerId);
    if (a !== undefined && b !== undefined && compareRational(a, b) !== 0) {
      changed.push({ partnerId, from: a, to: b });
    }
  }
  return { model: from === to ? null : { from, to }, added, removed, changed };
}
