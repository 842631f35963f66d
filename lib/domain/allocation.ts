/**
 * Splitting money exactly (finance.md §0 and rule 10).
 *
 * - `allocateLargestRemainder` splits a pool among parties by exact rational weights: floor each
 *   exact share, then hand the leftover units one at a time to the largest fractional parts.
 *   Ties go to the earlier timestamp, then to the lexicographically smaller party id, so the
 *   result depends only on the inputs, never on their order.
 * - `allocateCumulative` is the telescoping rule: the amount of period k is
 *   round(T × c_k) − round(T × c_(k−1)) for cumulative fractions c_k. It sums to T exactly and
 *   each period is within one minor unit of exact. Ratable schedules (days), cumulative
 *   commission splits and amortizations all use it.
 */
import { InvalidInputError, invariant } from './errors';
import { absBigint, divRound, type Rational, type RoundingMode } from './money';

/** Parties in one split: bounded so a malformed request cannot make an unbounded sort. */
export const ALLOCATION_PARTIES_MAX = 10_000;
/** Periods in one cumulative allocation: 100 years of months. */
export const ALLOCATION_PERIODS_MAX = 1_200;

export interface AllocationParty {
  /** Stable party id (partner id, contract id, line id); the last tie-break. */
  readonly id: string;
  /** Exact non-negative weight; weights need not sum to 1. */
  readonly weight: Rational;
  /** ISO-8601 instant of the party's event (touch time); earlier wins a tie. */
  readonly timestamp?: string;
}

export interface AllocationShare {
  readonly id: string;
  readonly amountMinor: bigint;
}

function lcm(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) {
    const r = x % y;
    x = y;
    y = r;
  }
  return (a / x) * b;
}

/** Orders parties for leftover units: larger remainder, then earlier timestamp, then smaller id. */
function compareForLeftover(
  a: { remainder: bigint; party: AllocationParty },
  b: { remainder: bigint; party: AllocationParty },
): number {
  if (a.remainder !== b.remainder) return a.remainder > b.remainder ? -1 : 1;
  const ta = a.party.timestamp;
  const tb = b.party.timestamp;
  if (ta !== tb) {
    if (ta === undefined) return 1;
    if (tb === undefined) return -1;
    const ma = Date.parse(ta);
    const mb = Date.parse(tb);
    if (ma !== mb) return ma < mb ? -1 : 1;
  }
  return a.party.id < b.party.id ? -1 : a.party.id > b.party.id ? 1 : 0;
}

/**
 * Split `totalMinor` among `parties` by weight with the largest-remainder method. Returns shares
 * in the input order. A negative total is split as its absolute value and negated, so a
 * clawback mirrors the original split exactly.
 */
export function allocateLargestRemainder(
  totalMinor: bigint,
  parties: readonly AllocationParty[],
): AllocationShare[] {
  if (parties.length === 0) {
    throw new InvalidInputError('no_parties', 'Cannot allocate among zero parties');
  }
  if (parties.length > ALLOCATION_PARTIES_MAX) {
    throw new InvalidInputError('too_many_parties', `At most ${ALLOCATION_PARTIES_MAX} parties`);
  }
  const ids = new Set<string>();
  let commonDen = 1n;
  for (const party of parties) {
    if (ids.has(party.id)) {
      throw new InvalidInputError('duplicate_party', `Party ${party.id} appears twice`);
    }
    ids.add(party.id);
    if (party.weight.num < 0n) {
      throw new InvalidInputError('negative_weight', `Party ${party.id} has a negative weight`);
    }
    commonDen = lcm(commonDen, party.weight.den);
  }
  const integerWeights = parties.map((p) => p.weight.num * (commonDen / p.weight.den));
  const weightTotal = integerWeights.reduce((a, b) => a + b, 0n);
  if (weightTotal === 0n) {
    throw new InvalidInputError('zero_weights', 'Weights sum to zero');
  }

  const pool = absBigint(totalMinor);
  const sign = totalMinor < 0n ? -1n : 1n;
  const rows = parties.map((party, index) => {
    const exact = pool * (integerWeights[index] ?? 0n);
    return { party, index, floor: exact / weightTotal, remainder: exact % weightTotal };
  });
  let leftover = pool - rows.reduce((sum, row) => sum + row.floor, 0n);
  invariant(leftover >= 0n && leftover < BigInt(parties.length), 'leftover out of range');

  const order = [...rows].sort(compareForLeftover);
  const amounts = rows.map((row) => row.floor);
  for (const row of order) {
    if (leftover === 0n) break;
    amounts[row.index] = (amounts[row.index] ?? 0n) + 1n;
    leftover -= 1n;
  }
  return parties.map((party, index) => ({
    id: party.id,
    amountMinor: sign * (amounts[index] ?? 0n),
  }));
}

/** Per-period amounts from cumulative amounts: the telescoping step shared by every schedule. */
export function deltasFromCumulative(cumulativeMinor: readonly bigint[]): bigint[] {
  const out: bigint[] = [];
  let previous = 0n;
  for (const cumulative of cumulativeMinor) {
    out.push(cumulative - previous);
    previous = cumulative;
  }
  return out;
}

/**
 * Telescoping allocation of `totalMinor` over periods. `cumulativeNumerators[k]` is the
 * cumulative weight through period k (days elapsed, for a ratable schedule); it must be
 * non-decreasing and end at `denominator`. Period k gets round(T·c_k/D) − round(T·c_(k−1)/D).
 */
export function allocateCumulative(
  totalMinor: bigint,
  cumulativeNumerators: readonly bigint[],
  denominator: bigint,
  mode: RoundingMode = 'half-even',
): bigint[] {
  if (denominator <= 0n) {
    throw new InvalidInputError('invalid_denominator', 'Denominator must be positive');
  }
  if (cumulativeNumerators.length > ALLOCATION_PERIODS_MAX) {
    throw new InvalidInputError('too_many_periods', `At most ${ALLOCATION_PERIODS_MAX} periods`);
  }
  let previous = 0n;
  for (const numerator of cumulativeNumerators) {
    if (numerator < previous || numerator > denominator) {
      throw new InvalidInputError(
        'invalid_cumulative_weights',
        'Cumulative weights must be non-decreasing and within [0, denominator]',
      );
    }
    previous = numerator;
  }
  if (cumulativeNumerators.length > 0 && previous !== denominator) {
    throw new InvalidInputError(
      'invalid_cumulative_weights',
      'Cumulative weights must end at the denominator',
    );
  }
  const cumulative = cumulativeNumerators.map((c) => divRound(totalMinor * c, denominator, mode));
  return deltasFromCumulative(cumulative);
}

/** Ratable split of a total over periods of given lengths (days): cumulative half-even rule. */
export function allocateRatably(totalMinor: bigint, periodWeights: readonly bigint[]): bigint[] {
  let running = 0n;
  const cumulative = periodWeights.map((weight) => {
    if (weight < 0n) {
      throw new InvalidInputError('negative_weight', 'Period weights must be non-negative');
    }
    running += weight;
    return running;
  });
  if (running === 0n) {
    throw new InvalidInputError('zero_weights', 'Period weights sum to zero');
  }
  return allocateCumulative(totalMinor, cumulative, running);
}

/**
 * Rule 10: split a running (cumulative) total among parties at each cut-off with largest
 * remainder, and return each party's per-period deltas. Each party's deltas telescope to its
 * share of the final cumulative total, so monthly rounding never drifts.
 */
export function splitCumulative(
  cumulativeTotalsMinor: readonly bigint[],
  parties: readonly AllocationParty[],
): Map<string, bigint[]> {
  if (cumulativeTotalsMinor.length > ALLOCATION_PERIODS_MAX) {
    throw new InvalidInputError('too_many_periods', `At most ${ALLOCATION_PERIODS_MAX} periods`);
  }
  const cumulativeByParty = new Map<string, bigint[]>(parties.map((p) => [p.id, []]));
  for (const total of cumulativeTotalsMinor) {
    for (const share of allocateLargestRemainder(total, parties)) {
      cumulativeByParty.get(share.id)?.push(share.amountMinor);
    }
  }
  const out = new Map<string, bigint[]>();
  for (const [id, cumulative] of cumulativeByParty) out.set(id, deltasFromCumulative(cumulative));
  return out;
}
