/**
 * The commission engine (finance.md §5, rules 6, 7, 10, 14, 15), as pure functions: no I/O, no
 * clock — every date is an input. Each step is a small function an app layer can call alone;
 * `computePartnerPeriod` chains them for one partner and one month.
 *
 * 1. Basis. A partner's monthly basis is the difference between largest-remainder splits of
 *    the contract's cumulative basis at consecutive month-ends (rule 10), so it never drifts.
 * 2. Quarter-to-date accrual. Commission for month m of a quarter is F(QTD through m) −
 *    F(QTD through m−1), where F applies base rates, the accelerator, then caps, and is rounded
 *    half-even once at partner level. The quarter-end true-up of a graduated accelerator is
 *    therefore automatic, and computing a month twice gives the same amounts.
 * 3. F is allocated back to deal lines by exact weights (basis × rate, plus the uplift in
 *    proportion to basis) with largest remainder, so lines always sum to the partner total.
 * 4. Caps: per deal per calendar year, then per partner per quarter (the capped total is
 *    allocated back to the lines the same way).
 * 5. Holds: recognized revenue consumes a contract's invoices first in, first out (rule 15); the
 *    part of a line resting on disbursed invoices is payable, the rest held (2110) until the
 *    disbursement arrives (`releaseHolds`).
 * 6. Lines carry their evidence and a status: earned | held | payable | paid | clawed_back.
 * 7. Balances: opening + earned − clawed back − paid = closing; a negative payable balance is
 *    carried forward (never billed to the partner); below the minimum payout nothing is paid.
 * 8. Ledger: balanced entries with deterministic ids; resale payments post to contra-revenue
 *    4900 (rule 6); billed-basis commission on an invoice covering more than 12 months is
 *    capitalized to 1400 and amortized with the revenue (rule 7).
 *
 * Credits never reduce the accelerator measure; they are clawed back at the rate of the line they
 * reverse (rule 15), as separate clawback inputs.
 */
import { type AllocationParty, allocateLargestRemainder, splitCumulative } from '../allocation';
import {
  addDays,
  addMonths,
  type CalendarDate,
  compareDates,
  comparePeriods,
  lastDayOfPeriod,
  type Period,
  period as parsePeriod,
  periodOf,
  periodRange,
  previousPeriod,
} from '../calendar';
import { type ErrorDetail, InvalidInputError, invariant } from '../errors';
import { deterministicId } from '../ids';
import {
  type AccountCode,
  assertBalanced,
  functionalLeg,
  JOURNAL_ENTRY_SCHEMA_VERSION,
  JOURNAL_LEGS_MAX,
  type JournalEntry,
  type JournalLeg,
} from '../ledger';
import {
  addRational,
  applyRate,
  compareRational,
  multiplyRational,
  ONE,
  parseDecimal,
  type Rational,
  rational,
  roundRational,
  sumRational,
  ZERO,
} from '../money';
import {
  bandUplift,
  type CommissionBasis,
  type CommissionPlan,
  type DealType,
  type PayWhen,
  payoutTermDays,
  percentText,
  rateFor,
} from './plan';

export const COMMISSION_RULE = {
  accrual: 'commission-accrual',
  capitalization: 'commission-capitalization',
  amortization: 'commission-amortization',
  clawback: 'commission-clawback',
  release: 'commission-release',
  payout: 'commission-payout',
} as const;
export const COMMISSION_RULE_VERSION = 1;

/** Deal lines in one partner-period computation. */
export const COMMISSION_DEALS_MAX = 5_000;

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
const big = (value: bigint): Rational => ({ num: value, den: 1n });
/** A comparator on a string key (code-unit order, locale-independent). */
const byKey =
  <T>(key: (value: T) => string) =>
  (a: T, b: T) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

// ---------------------------------------------------------------------------------------------
// Quarters
// ---------------------------------------------------------------------------------------------

/** The calendar quarter of a month: '2025-08' → '2025-Q3'. */
export function quarterOf(value: Period): string {
  const month = Number(parsePeriod(value).slice(5, 7));
  return `${value.slice(0, 4)}-Q${Math.ceil(month / 3)}`;
}

/** The first month of the month's quarter: '2025-08' → '2025-07'. */
export function quarterStartPeriod(value: Period): Period {
  const month = Number(parsePeriod(value).slice(5, 7));
  const first = month - ((month - 1) % 3);
  return `${value.slice(0, 4)}-${String(first).padStart(2, '0')}`;
}

/** Whether the month closes its quarter (March, June, September, December). */
export function isQuarterEnd(value: Period): boolean {
  return Number(parsePeriod(value).slice(5, 7)) % 3 === 0;
}

// ---------------------------------------------------------------------------------------------
// 1. Basis
// ---------------------------------------------------------------------------------------------

/** A partner's exact share of a contract (the attribution engine's `PartnerShare`, reduced). */
export interface PartnerShareInput {
  readonly partnerId: string;
  /** Exact weight; a contract's weights sum to 1. */
  readonly weight: Rational;
  /** ISO-8601 instant of the partner's first touch: the first largest-remainder tie-break. */
  readonly firstTouchAt: string;
}

/** A contract's cumulative basis at a month-end. */
export interface CumulativeBasisPoint {
  readonly period: Period;
  readonly cumulativeMinor: bigint;
}

export interface PartnerMonthBasis {
  readonly partnerId: string;
  readonly period: Period;
  /** The partner's basis for the month: split(cum_k) − split(cum_(k−1)). */
  readonly basisMinor: bigint;
  /** The partner's share of the contract's cumulative basis at the month-end. */
  readonly cumulativeMinor: bigint;
}

function assertShares(shares: readonly PartnerShareInput[]): void {
  if (shares.length === 0) {
    throw new InvalidInputError('no_partner_shares', 'A split needs at least one partner share');
  }
  const total = sumRational(shares.map((s) => s.weight));
  if (compareRational(total, ONE) !== 0) {
    throw new InvalidInputError(
      'shares_not_one',
      `Partner weights sum to ${total.num}/${total.den}, not 1`,
    );
  }
}

function assertAscendingPeriods(points: readonly { period: Period }[]): void {
  points.forEach((point, index) => {
    parsePeriod(point.period);
    const previous = points[index - 1];
    if (previous && comparePeriods(previous.period, point.period) >= 0) {
      throw new InvalidInputError(
        'periods_not_ascending',
        `Period ${point.period} does not follow ${previous.period}`,
      );
    }
  });
}

/**
 * Rule 10: each partner's monthly basis is the difference between largest-remainder splits of
 * the contract's cumulative basis at consecutive month-ends (the first month against 0). A
 * partner's monthly bases telescope to its split of the last cumulative value, and the partners'
 * bases of a month sum to the contract's. Ties go to the earlier first touch, then the smaller
 * partner id. Output: per partner (input order), per period (ascending).
 */
export function partnerMonthlyBasis(
  cumulativeBasisByMonthEnd: readonly CumulativeBasisPoint[],
  shares: readonly PartnerShareInput[],
): PartnerMonthBasis[] {
  assertShares(shares);
  assertAscendingPeriods(cumulativeBasisByMonthEnd);
  const parties: AllocationParty[] = shares.map((s) => ({
    id: s.partnerId,
    weight: s.weight,
    timestamp: s.firstTouchAt,
  }));
  const deltas = splitCumulative(
    cumulativeBasisByMonthEnd.map((p) => p.cumulativeMinor),
    parties,
  );
  const out: PartnerMonthBasis[] = [];
  for (const share of shares) {
    let cumulative = 0n;
    (deltas.get(share.partnerId) ?? []).forEach((delta, index) => {
      const point = cumulativeBasisByMonthEnd[index];
      invariant(point !== undefined, 'one delta per point');
      cumulative += delta;
      out.push({
        partnerId: share.partnerId,
        period: point.period,
        basisMinor: delta,
        cumulativeMinor: cumulative,
      });
    });
  }
  return out;
}

/** One invoice of a contract, as the hold logic needs it. */
export interface InvoiceFact {
  readonly invoiceId: string;
  /** Issue date: FIFO order is (date, invoiceId). */
  readonly date: CalendarDate;
  /** Gross amount invoiced, in the plan's currency. */
  readonly amountMinor: bigint;
  /** When the marketplace paid it out to the seller; null while not disbursed. */
  readonly disbursedOn: CalendarDate | null;
  /** Cash received for it (after the marketplace fee): the collected basis. Default: gross. */
  readonly disbursedNetMinor?: bigint | null;
}

export interface ContractBasisFacts {
  /** Cumulative recognized revenue at month-ends (credits to 4000 + 4100), ascending. */
  readonly recognizedCumulative: readonly CumulativeBasisPoint[];
  readonly invoices: readonly InvoiceFact[];
}

/**
 * A contract's cumulative basis at each month-end, for a plan's basis kind: recognized revenue
 * (the last point on or before the month, 0 before the first), invoices issued on or before the
 * month's last day (billed), or cash disbursed on or before it (collected).
 */
export function contractCumulativeBasis(
  kind: CommissionBasis,
  facts: ContractBasisFacts,
  periods: readonly Period[],
): CumulativeBasisPoint[] {
  assertAscendingPeriods(facts.recognizedCumulative);
  return periods.map((month) => {
    const end = lastDayOfPeriod(month);
    let cumulativeMinor = 0n;
    if (kind === 'recognized') {
      for (const point of facts.recognizedCumulative) {
        if (comparePeriods(point.period, month) <= 0) cumulativeMinor = point.cumulativeMinor;
      }
    } else {
      for (const invoice of facts.invoices) {
        if (kind === 'billed' && compareDates(invoice.date, end) <= 0) {
          cumulativeMinor += invoice.amountMinor;
        }
        if (
          kind === 'collected' &&
          invoice.disbursedOn !== null &&
          compareDates(invoice.disbursedOn, end) <= 0
        ) {
          cumulativeMinor += invoice.disbursedNetMinor ?? invoice.amountMinor;
        }
      }
    }
    return { period: month, cumulativeMinor };
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Accelerator and quarter-to-date commission
// ---------------------------------------------------------------------------------------------

export interface AcceleratorBandDetail {
  readonly index: number;
  readonly fromMinor: bigint;
  readonly toMinor: bigint | null;
  readonly upliftPercent: string;
  /** The part of the measure inside this band. */
  readonly measuredInBandMinor: bigint;
  /** The uplift this band contributes, exact (minor units). */
  readonly upliftExactMinor: Rational;
}

export interface AcceleratorResult {
  readonly mode: 'graduated' | 'retroactive';
  readonly measuredDealType: DealType;
  readonly measureMinor: bigint;
  /** The highest band the measure reached (null below the first band). */
  readonly bandIndex: number | null;
  /** That band's uplift ("0" when none). */
  readonly upliftPercent: string;
  /** Total uplift on the measure, exact (minor units). */
  readonly upliftExactMinor: Rational;
  readonly bands: readonly AcceleratorBandDetail[];
}

/**
 * The accelerator on a quarter-to-date measure. Graduated: each band's uplift applies to the
 * part of the measure inside [from, to). Retroactive: the uplift of the highest band reached
 * applies to the whole measure. Null when the plan has no accelerator.
 */
export function acceleratorOn(
  plan: CommissionPlan,
  measureMinor: bigint,
): AcceleratorResult | null {
  const accelerator = plan.accelerator;
  if (!accelerator) return null;
  const measure = maxBig(measureMinor, 0n);
  let bandIndex: number | null = null;
  accelerator.bands.forEach((band, index) => {
    if (measure >= band.fromMinor) bandIndex = index;
  });
  const reached = bandIndex === null ? null : accelerator.bands[bandIndex];
  const reachedUplift = reached ? bandUplift(reached) : ZERO;
  const bands = accelerator.bands.map((band, index): AcceleratorBandDetail => {
    const top = band.toMinor === undefined ? measure : minBig(measure, band.toMinor);
    const inBand = maxBig(top - band.fromMinor, 0n);
    const upliftExactMinor =
      accelerator.mode === 'graduated'
        ? multiplyRational(big(inBand), bandUplift(band))
        : index === bandIndex
          ? multiplyRational(big(measure), reachedUplift)
          : ZERO;
    return {
      index,
      fromMinor: band.fromMinor,
      toMinor: band.toMinor ?? null,
      upliftPercent: percentText(bandUplift(band)),
      measuredInBandMinor: inBand,
      upliftExactMinor,
    };
  });
  return {
    mode: accelerator.mode,
    measuredDealType: accelerator.measure.dealType,
    measureMinor: measure,
    bandIndex,
    upliftPercent: percentText(reachedUplift),
    upliftExactMinor: sumRational(bands.map((b) => b.upliftExactMinor)),
    bands,
  };
}

/** One deal line's quarter-to-date state. */
export interface QuarterLine {
  /** The deal (contract) id: the last allocation tie-break. */
  readonly id: string;
  /** Base rate as a fraction (10 % → 1/10). */
  readonly rate: Rational;
  /** Counts toward the accelerator measure (and earns its uplift). */
  readonly measured: boolean;
  /** Quarter-to-date basis, credits excluded (≥ 0). */
  readonly basisMinor: bigint;
  /** Per-deal cap headroom left for this quarter, or null when uncapped. */
  readonly dealCapMinor: bigint | null;
}

export interface QuarterLineResult {
  readonly id: string;
  /** The line's exact commission before rounding and caps (its allocation weight). */
  readonly exactMinor: Rational;
  readonly amountMinor: bigint;
  readonly dealCapApplied: boolean;
}

export interface QuarterResult {
  readonly measureMinor: bigint;
  readonly accelerator: AcceleratorResult | null;
  /** Σ base rate × basis + uplift, exact. */
  readonly exactMinor: Rational;
  /** The exact total rounded half-even once, before caps. */
  readonly uncappedMinor: bigint;
  /** After caps: what the quarter has earned so far. */
  readonly earnedMinor: bigint;
  readonly partnerCapApplied: boolean;
  readonly lines: readonly QuarterLineResult[];
}

/**
 * Splits a partner-level amount among lines by exact weights with largest remainder (ties: the
 * smaller id). All-zero weights get nothing (the amount must then be 0).
 */
export function allocateByWeight(
  totalMinor: bigint,
  lines: readonly { id: string; weight: Rational }[],
): { id: string; amountMinor: bigint }[] {
  const weighted = lines.filter((l) => l.weight.num !== 0n);
  if (weighted.length === 0) {
    if (totalMinor !== 0n) {
      throw new InvalidInputError('zero_weights', 'Cannot allocate an amount by zero weights');
    }
    return lines.map((l) => ({ id: l.id, amountMinor: 0n }));
  }
  const shares = new Map(
    allocateLargestRemainder(totalMinor, weighted).map((s) => [s.id, s.amountMinor]),
  );
  return lines.map((l) => ({ id: l.id, amountMinor: shares.get(l.id) ?? 0n }));
}

/**
 * Step 3: a partner-level amount back to deal lines by basis, largest remainder (WE-8:
 * 14,116.68 over bases 39,305.66 and 95,000.00 → 4,131.36 and 9,985.32).
 */
export function allocateByBasis(
  totalMinor: bigint,
  lines: readonly { id: string; basisMinor: bigint }[],
): { id: string; amountMinor: bigint }[] {
  return allocateByWeight(
    totalMinor,
    lines.map((l) => ({ id: l.id, weight: big(l.basisMinor) })),
  );
}

/**
 * Step 4: caps. Each line is first held to its per-deal headroom; if the lines then exceed the
 * partner's quarterly cap, the cap is allocated back to them by their capped amounts.
 */
export function applyCaps(
  lines: readonly { id: string; amountMinor: bigint; dealCapMinor: bigint | null }[],
  partnerCapMinor: bigint | null,
): {
  lines: { id: string; amountMinor: bigint; dealCapApplied: boolean }[];
  partnerCapApplied: boolean;
} {
  const dealCapped = lines.map((l) => {
    const capped = l.dealCapMinor !== null && l.amountMinor > l.dealCapMinor;
    return {
      id: l.id,
      amountMinor: capped && l.dealCapMinor !== null ? l.dealCapMinor : l.amountMinor,
      dealCapApplied: capped,
    };
  });
  const total = dealCapped.reduce((sum, l) => sum + l.amountMinor, 0n);
  if (partnerCapMinor === null || total <= partnerCapMinor) {
    return { lines: dealCapped, partnerCapApplied: false };
  }
  const shares = allocateByWeight(
    partnerCapMinor,
    dealCapped.map((l) => ({ id: l.id, weight: big(l.amountMinor) })),
  );
  return {
    lines: dealCapped.map((l, index) => ({ ...l, amountMinor: shares[index]?.amountMinor ?? 0n })),
    partnerCapApplied: true,
  };
}

/**
 * F: a partner's commission on its quarter-to-date state. Each line's exact commission is its
 * base rate × basis, plus — for measured lines — the accelerator's uplift in proportion to its
 * basis. The total is rounded half-even once, allocated to lines by those exact amounts, then
 * capped (step 4).
 */
export function quarterToDateCommission(
  plan: CommissionPlan,
  lines: readonly QuarterLine[],
): QuarterResult {
  for (const line of lines) {
    if (line.basisMinor < 0n) {
      throw new InvalidInputError(
        'negative_basis',
        `Line ${line.id} has a negative quarter-to-date basis; credits are clawbacks`,
      );
    }
  }
  const measureMinor = lines.filter((l) => l.measured).reduce((s, l) => s + l.basisMinor, 0n);
  const accelerator = acceleratorOn(plan, measureMinor);
  const uplift = accelerator?.upliftExactMinor ?? ZERO;
  const exact = lines.map((line) => {
    const base = multiplyRational(big(line.basisMinor), line.rate);
    const share =
      line.measured && measureMinor > 0n
        ? multiplyRational(uplift, rational(line.basisMinor, measureMinor))
        : ZERO;
    return { id: line.id, weight: addRational(base, share) };
  });
  const exactMinor = sumRational(exact.map((e) => e.weight));
  const uncappedMinor = roundRational(exactMinor, 'half-even');
  const allocated = allocateByWeight(uncappedMinor, exact);
  const capped = applyCaps(
    allocated.map((a, index) => ({
      id: a.id,
      amountMinor: a.amountMinor,
      dealCapMinor: lines[index]?.dealCapMinor ?? null,
    })),
    plan.caps.perPartnerPerQuarterMinor ?? null,
  );
  return {
    measureMinor,
    accelerator,
    exactMinor,
    uncappedMinor,
    earnedMinor: capped.lines.reduce((s, l) => s + l.amountMinor, 0n),
    partnerCapApplied: capped.partnerCapApplied,
    lines: capped.lines.map((l, index) => ({
      id: l.id,
      exactMinor: exact[index]?.weight ?? ZERO,
      amountMinor: l.amountMinor,
      dealCapApplied: l.dealCapApplied,
    })),
  };
}

export interface MonthLine {
  readonly id: string;
  readonly rate: Rational;
  readonly measured: boolean;
  /** The partner's basis on this deal in earlier months of the quarter (credits excluded). */
  readonly basisBeforeMinor: bigint;
  /** The partner's basis on this deal this month (≥ 0). */
  readonly basisMinor: bigint;
  readonly dealCapMinor: bigint | null;
}

export interface MonthAccrual {
  readonly before: QuarterResult;
  readonly after: QuarterResult;
  /** F(through m) − F(through m−1), in total and per line. */
  readonly amountMinor: bigint;
  readonly lines: readonly {
    readonly id: string;
    readonly amountMinor: bigint;
    readonly cumulativeBeforeMinor: bigint;
    readonly cumulativeAfterMinor: bigint;
  }[];
}

/**
 * Step 2: the month's commission is the difference of F at the quarter-to-date states through
 * this month and through the previous one — per line and in total — so the months of a quarter
 * always sum to F at quarter-end (the graduated true-up) and rerunning a month changes nothing.
 */
export function monthlyAccrual(plan: CommissionPlan, lines: readonly MonthLine[]): MonthAccrual {
  const state = (withMonth: boolean) =>
    lines.map((l) => ({
      id: l.id,
      rate: l.rate,
      measured: l.measured,
      basisMinor: l.basisBeforeMinor + (withMonth ? l.basisMinor : 0n),
      dealCapMinor: l.dealCapMinor,
    }));
  const before = quarterToDateCommission(plan, state(false));
  const after = quarterToDateCommission(plan, state(true));
  return {
    before,
    after,
    amountMinor: after.earnedMinor - before.earnedMinor,
    lines: lines.map((l, index) => {
      const was = before.lines[index]?.amountMinor ?? 0n;
      const now = after.lines[index]?.amountMinor ?? 0n;
      return {
        id: l.id,
        amountMinor: now - was,
        cumulativeBeforeMinor: was,
        cumulativeAfterMinor: now,
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// 5. Holds
// ---------------------------------------------------------------------------------------------

/** A range of a contract's cumulative basis: the revenue (or billing) a line's commission rests on. */
export interface BasisRange {
  readonly fromMinor: bigint;
  readonly toMinor: bigint;
}

function fifo(invoices: readonly InvoiceFact[]): { invoice: InvoiceFact; start: bigint }[] {
  const sorted = [...invoices].sort(
    (a, b) =>
      compareDates(a.date, b.date) ||
      (a.invoiceId < b.invoiceId ? -1 : a.invoiceId > b.invoiceId ? 1 : 0),
  );
  let start = 0n;
  return sorted.map((invoice) => {
    if (invoice.amountMinor < 0n) {
      throw new InvalidInputError(
        'negative_invoice',
        `Invoice ${invoice.invoiceId} is negative; credits are clawbacks`,
      );
    }
    const row = { invoice, start };
    start += invoice.amountMinor;
    return row;
  });
}

/** When an invoice makes commission payable under `payWhen`, or null if it does not (yet). */
function releaseDateOf(invoice: InvoiceFact, payWhen: PayWhen, asOf: CalendarDate) {
  const date = payWhen === 'disbursed' ? invoice.disbursedOn : invoice.date;
  return date !== null && compareDates(date, asOf) <= 0 ? date : null;
}

export interface Coverage {
  /** The part of the range that is payable, exact in [0, 1]. */
  readonly fraction: Rational;
  /** Invoices overlapping the range that do not yet make it payable (release condition). */
  readonly pendingInvoiceIds: readonly string[];
  /** The part of the range beyond everything invoiced (recognized ahead of billing). */
  readonly unbilledMinor: bigint;
  /** The latest date among the invoices that made part of the range payable. */
  readonly lastReleaseDate: CalendarDate | null;
}

/**
 * Rule 15: the basis consumes the contract's invoices first in, first out. The payable fraction
 * of a range is the part of it lying on invoices that are disbursed (or issued, for
 * `payWhen: 'invoiced'`) on or before `asOf`. Collected-basis commission rests on cash already
 * received, and `immediately` waits for nothing: both are fully payable. An empty range waits
 * for nothing either.
 */
export function coverageOf(
  range: BasisRange,
  invoices: readonly InvoiceFact[],
  payWhen: PayWhen,
  basisKind: CommissionBasis,
  asOf: CalendarDate,
): Coverage {
  const low = minBig(range.fromMinor, range.toMinor);
  const high = maxBig(range.fromMinor, range.toMinor);
  const length = high - low;
  const none = { pendingInvoiceIds: [], unbilledMinor: 0n, lastReleaseDate: null };
  if (payWhen === 'immediately' || basisKind === 'collected' || length === 0n) {
    return { fraction: ONE, ...none };
  }
  let covered = 0n;
  let billedEnd = 0n;
  let lastReleaseDate: CalendarDate | null = null;
  const pendingInvoiceIds: string[] = [];
  for (const { invoice, start } of fifo(invoices)) {
    const end = start + invoice.amountMinor;
    billedEnd = end;
    const overlap = maxBig(minBig(high, end) - maxBig(low, start), 0n);
    if (overlap === 0n) continue;
    const released = releaseDateOf(invoice, payWhen, asOf);
    if (released === null) {
      pendingInvoiceIds.push(invoice.invoiceId);
      continue;
    }
    covered += overlap;
    if (lastReleaseDate === null || compareDates(released, lastReleaseDate) > 0) {
      lastReleaseDate = released;
    }
  }
  return {
    fraction: rational(covered, length),
    pendingInvoiceIds,
    unbilledMinor: maxBig(high - maxBig(low, billedEnd), 0n),
    lastReleaseDate,
  };
}

/**
 * An amount split by a payable fraction: payable rounded half-even once, the rest held. A
 * negative amount (a downward true-up) reduces what is payable and never what is held, so the
 * held lines it might concern still release in full.
 */
export function holdSplit(
  amountMinor: bigint,
  fraction: Rational,
): { payableMinor: bigint; heldMinor: bigint } {
  if (amountMinor <= 0n) return { payableMinor: amountMinor, heldMinor: 0n };
  const payableMinor = applyRate(amountMinor, fraction, 'half-even');
  return { payableMinor, heldMinor: amountMinor - payableMinor };
}

// ---------------------------------------------------------------------------------------------
// 6. Lines
// ---------------------------------------------------------------------------------------------

/**
 * earned: accrued with nothing to pay or hold (a 0 % resale line); held: part or all of it
 * waits for a disbursement; payable: owed to the partner; paid: included in a payout;
 * clawed_back: a negative line reversing an earlier one.
 */
export type CommissionLineStatus = 'earned' | 'held' | 'payable' | 'paid' | 'clawed_back';

export interface LineHold {
  readonly condition: PayWhen;
  /** The contract's cumulative basis range the line rests on (released as it gets covered). */
  readonly range: BasisRange;
  readonly pendingInvoiceIds: readonly string[];
  readonly unbilledMinor: bigint;
}

export interface CommissionLine {
  /** Deterministic: (partner, contract, period, kind[, credit or event]). */
  readonly lineId: string;
  readonly kind: 'accrual' | 'clawback';
  readonly status: CommissionLineStatus;
  readonly partnerId: string;
  readonly contractId: string;
  readonly period: Period;
  readonly planId: string;
  readonly planVersion: number;
  readonly tier: string;
  readonly dealType: DealType;
  readonly product: string | null;
  readonly attributionVersion: number | null;
  readonly basisKind: CommissionBasis;
  /** The partner's basis this month (accrual) or its share of the credit (clawback, < 0). */
  readonly basisMinor: bigint;
  /** Accrual: the partner's quarter-to-date basis on this deal through the month. */
  readonly quarterBasisMinor: bigint;
  /** Accrual: the plan's base rate; clawback: the rate of the line it reverses (rule 15). */
  readonly ratePercent: string;
  /** Measured lines: the uplift of the accelerator band reached so far this quarter. */
  readonly upliftPercent: string | null;
  readonly amountMinor: bigint;
  /** The part of `amountMinor` in 2110 (accrual: held; clawback: taken back out of held, ≤ 0). */
  readonly heldMinor: bigint;
  /** Where the cost goes: 6100, contra-revenue 4900 (resale), or capitalized to 1400. */
  readonly expenseAccount: '6100' | '4900' | '1400';
  readonly dealCapApplied: boolean;
  readonly journalEntryId: string | null;
  readonly sourceEventIds: readonly string[];
  readonly runId: string | null;
  readonly reversesLineId: string | null;
  readonly hold: LineHold | null;
  readonly payoutId: string | null;
}

/** A payout: every payable line becomes paid (held, earned and clawback lines stay as they are). */
export function markPaid(lines: readonly CommissionLine[], payoutId: string): CommissionLine[] {
  return lines.map((line) =>
    line.status === 'payable' ? { ...line, status: 'paid' as const, payoutId } : line,
  );
}

// ---------------------------------------------------------------------------------------------
// 7. Balances and payouts
// ---------------------------------------------------------------------------------------------

/** What a partner is owed: payable (2100 credit balance; negative = carried forward) and held (2110). */
export interface CommissionBalances {
  readonly payableMinor: bigint;
  readonly heldMinor: bigint;
}

export interface CommissionTotals {
  /** Accrued this period (payable and held parts; negative for a downward true-up). */
  readonly earnedMinor: bigint;
  readonly earnedHeldMinor: bigint;
  /** Clawed back this period, as a positive amount. */
  readonly clawedBackMinor: bigint;
  readonly clawedBackFromHeldMinor: bigint;
  readonly releasedMinor: bigint;
  readonly paidMinor: bigint;
  /** Earned on multi-year billings, capitalized to 1400 (part of earned). */
  readonly capitalizedMinor: bigint;
  readonly amortizedMinor: bigint;
  /** Net debit to 6100 this period. */
  readonly expenseMinor: bigint;
  /** Net debit to 4900 this period (payments to resellers). */
  readonly contraRevenueMinor: bigint;
}

/**
 * Closing balances from opening ones and the period's movements. Together they satisfy the
 * statement identity: opening + earned − clawed back − paid = closing (payable + held).
 */
export function closingBalances(
  opening: CommissionBalances,
  totals: CommissionTotals,
): CommissionBalances {
  return {
    payableMinor:
      opening.payableMinor +
      (totals.earnedMinor - totals.earnedHeldMinor) -
      (totals.clawedBackMinor - totals.clawedBackFromHeldMinor) +
      totals.releasedMinor -
      totals.paidMinor,
    heldMinor:
      opening.heldMinor +
      totals.earnedHeldMinor -
      totals.clawedBackFromHeldMinor -
      totals.releasedMinor,
  };
}

/** The day a period's payout is due: its last day plus the payout term (NET-15 → +15 days). */
export function payoutDueDate(plan: CommissionPlan, month: Period): CalendarDate {
  return addDays(lastDayOfPeriod(month), payoutTermDays(plan));
}

/**
 * What is paid for a period: the whole payable balance, if this is a payout month (every month,
 * or quarter-ends only), the balance is positive (a negative one is carried forward, never
 * billed to the partner) and it reaches the minimum payout (below it, it rolls forward).
 */
export function payoutFor(
  plan: CommissionPlan,
  month: Period,
  payableMinor: bigint,
): { amountMinor: bigint; dueDate: CalendarDate } | null {
  if (plan.payoutSchedule === 'quarterly' && !isQuarterEnd(month)) return null;
  if (payableMinor <= 0n || payableMinor < plan.minimumPayoutMinor) return null;
  return { amountMinor: payableMinor, dueDate: payoutDueDate(plan, month) };
}

/** Rule 7: an invoice whose service covers more than 12 months is a multi-year billing. */
export function coversMoreThanTwelveMonths(coverage: {
  start: CalendarDate;
  end: CalendarDate;
}): boolean {
  return compareDates(coverage.end, addMonths(coverage.start, 12)) > 0;
}

export interface AmortizationInput {
  readonly contractId: string;
  /** The capitalized line(s) this amortizes (evidence). */
  readonly capitalizedLineId: string;
  /** Commission capitalized to 1400 on the multi-year billing. */
  readonly capitalizedMinor: bigint;
  /** Revenue of the benefit period (the invoice's amount), over which it is amortized. */
  readonly benefitTotalMinor: bigint;
  /** Of that revenue: recognized before this month, and through its end. */
  readonly recognizedBeforeMinor: bigint;
  readonly recognizedThroughMinor: bigint;
}

/**
 * Rule 7: capitalized commission is amortized with the revenue, by cumulative rounding —
 * round(C × recognized through m / T) − round(C × recognized through m−1 / T) — so it sums to C.
 */
export function amortizationFor(input: AmortizationInput): bigint {
  if (input.benefitTotalMinor <= 0n) {
    throw new InvalidInputError('invalid_benefit_total', 'The benefit total must be positive');
  }
  const cumulative = (recognized: bigint) =>
    applyRate(
      input.capitalizedMinor,
      rational(minBig(maxBig(recognized, 0n), input.benefitTotalMinor), input.benefitTotalMinor),
      'half-even',
    );
  return cumulative(input.recognizedThroughMinor) - cumulative(input.recognizedBeforeMinor);
}

// ---------------------------------------------------------------------------------------------
// 8. Ledger entries
// ---------------------------------------------------------------------------------------------

export interface CommissionPostingContext {
  readonly partnerId: string;
  readonly functionalCurrency: string;
  /** Rule 14: entries dated in a closed period post in the first open one. */
  readonly firstOpenPeriod?: Period | null;
}

/** A leg before sides are decided: positive = debit, negative = credit. */
interface SignedLeg {
  readonly account: AccountCode;
  readonly contractId: string | null;
  readonly amountMinor: bigint;
}

/** A commission entry id: (partner, scope…, rule, rule version). */
export function commissionEntryId(
  partnerId: string,
  scope: readonly string[],
  rule: string,
): string {
  return deterministicId('je', partnerId, ...scope, rule, String(COMMISSION_RULE_VERSION));
}

function postingPeriodFor(ctx: CommissionPostingContext, date: CalendarDate): Period {
  const own = periodOf(date);
  const open = ctx.firstOpenPeriod ?? null;
  return open !== null && comparePeriods(open, own) > 0 ? open : own;
}

/** Nets legs per (account, contract), drops zeros, and builds a balanced entry (or null). */
function commissionEntry(
  ctx: CommissionPostingContext,
  input: {
    entryId: string;
    rule: string;
    date: CalendarDate;
    description: string;
    source: JournalEntry['source'];
    legs: readonly SignedLeg[];
  },
): JournalEntry | null {
  const net = new Map<string, SignedLeg>();
  for (const leg of input.legs) {
    const key = `${leg.account}\u0000${leg.contractId ?? ''}`;
    const current = net.get(key);
    net.set(key, { ...leg, amountMinor: (current?.amountMinor ?? 0n) + leg.amountMinor });
  }
  // Debits first, then credits, each in the order built (deterministic for a given input).
  const nonZero = [...net.values()].filter((leg) => leg.amountMinor !== 0n);
  const legs: JournalLeg[] = [
    ...nonZero.filter((leg) => leg.amountMinor > 0n),
    ...nonZero.filter((leg) => leg.amountMinor < 0n),
  ].map((leg) =>
    functionalLeg(
      leg.amountMinor > 0n ? 'debit' : 'credit',
      leg.account,
      ctx.functionalCurrency,
      leg.amountMinor > 0n ? leg.amountMinor : -leg.amountMinor,
      {
        partnerId: ctx.partnerId,
        ...(leg.contractId !== null ? { contractId: leg.contractId } : {}),
      },
    ),
  );
  if (legs.length === 0) return null;
  return assertBalanced({
    schemaVersion: JOURNAL_ENTRY_SCHEMA_VERSION,
    entryId: input.entryId,
    date: input.date,
    postingPeriod: postingPeriodFor(ctx, input.date),
    functionalCurrency: ctx.functionalCurrency,
    description: input.description,
    source: input.source,
    rule: input.rule,
    ruleVersion: COMMISSION_RULE_VERSION,
    reversalOf: null,
    legs,
  });
}

/**
 * An accrual line's legs: Dr its cost account (6100, 4900 for resale, or 1400 when
 * capitalized) / Cr 2100 for the payable part / Cr 2110 for the held part.
 */
function accrualLegs(line: CommissionLine): SignedLeg[] {
  const contractId = line.contractId;
  return [
    { account: line.expenseAccount, contractId, amountMinor: line.amountMinor },
    { account: '2100', contractId, amountMinor: -(line.amountMinor - line.heldMinor) },
    { account: '2110', contractId, amountMinor: -line.heldMinor },
  ];
}

/** Legs per contract of an accrual entry (cost, payable, held): what sizes its parts. */
const ACCRUAL_LEGS_PER_CONTRACT = 3;
/** Contracts in one part of an accrual entry, so a part never exceeds JOURNAL_LEGS_MAX legs. */
export const ACCRUAL_CONTRACTS_PER_ENTRY = Math.floor(JOURNAL_LEGS_MAX / ACCRUAL_LEGS_PER_CONTRACT);

/**
 * Lines grouped by contract (in the order built), in parts of at most
 * ACCRUAL_CONTRACTS_PER_ENTRY contracts. The first part keeps the entry id; later parts derive
 * theirs from it, so a partner with many deals posts several balanced entries, deterministically.
 */
function accrualParts(
  entryId: string,
  lines: readonly CommissionLine[],
): { entryId: string; lines: CommissionLine[] }[] {
  const byContract = new Map<string, CommissionLine[]>();
  for (const line of lines) {
    const group = byContract.get(line.contractId) ?? [];
    group.push(line);
    byContract.set(line.contractId, group);
  }
  const groups = [...byContract.values()];
  const parts: { entryId: string; lines: CommissionLine[] }[] = [];
  for (let start = 0; start < groups.length; start += ACCRUAL_CONTRACTS_PER_ENTRY) {
    const index = parts.length + 1;
    parts.push({
      entryId: index === 1 ? entryId : deterministicId('je', entryId, 'part', String(index)),
      lines: groups.slice(start, start + ACCRUAL_CONTRACTS_PER_ENTRY).flat(),
    });
  }
  return parts;
}

function accrualEntries(
  ctx: CommissionPostingContext,
  input: { entryId: string; period: Period; source: JournalEntry['source'] },
  lines: readonly CommissionLine[],
  rule: string,
  description: string,
): JournalEntry[] {
  return accrualParts(input.entryId, lines)
    .map((part, index, all) =>
      commissionEntry(ctx, {
        entryId: part.entryId,
        rule,
        date: lastDayOfPeriod(input.period),
        description:
          all.length > 1 ? `${description} (part ${index + 1} of ${all.length})` : description,
        source: input.source,
        legs: part.lines.flatMap(accrualLegs),
      }),
    )
    .filter((entry): entry is JournalEntry => entry !== null);
}

/**
 * The month's accrual entry (lines expensed to 6100/4900), dated the period's last day; split
 * into parts when the partner has more deals than one entry's legs hold.
 */
export function accrualPosting(
  ctx: CommissionPostingContext,
  input: { entryId: string; period: Period; source: JournalEntry['source'] },
  lines: readonly CommissionLine[],
): JournalEntry[] {
  return accrualEntries(
    ctx,
    input,
    lines.filter((l) => l.expenseAccount !== '1400'),
    COMMISSION_RULE.accrual,
    `Partner commission accrued: ${ctx.partnerId}, ${input.period}`,
  );
}

/** Rule 7: billed-basis commission on a multi-year invoice, Dr 1400 / Cr 2100 | 2110. */
export function capitalizationPosting(
  ctx: CommissionPostingContext,
  input: { entryId: string; period: Period; source: JournalEntry['source'] },
  lines: readonly CommissionLine[],
): JournalEntry[] {
  return accrualEntries(
    ctx,
    input,
    lines.filter((l) => l.expenseAccount === '1400'),
    COMMISSION_RULE.capitalization,
    `Partner commission capitalized (multi-year billing): ${ctx.partnerId}, ${input.period}`,
  );
}

/**
 * A clawback: Dr 2110 for the part taken back out of held commission, Dr 2100 for the rest, Cr
 * the account the reversed commission was charged to. A payable balance that goes negative is
 * carried forward against future commission.
 */
export function clawbackPosting(
  ctx: CommissionPostingContext,
  input: { entryId: string; date: CalendarDate; source: JournalEntry['source'] },
  line: CommissionLine,
): JournalEntry | null {
  return commissionEntry(ctx, {
    entryId: input.entryId,
    rule: COMMISSION_RULE.clawback,
    date: input.date,
    description: `Partner commission clawed back: ${ctx.partnerId}, ${line.contractId} (reverses ${line.reversesLineId ?? 'n/a'})`,
    source: input.source,
    legs: accrualLegs(line),
  });
}

/** Capitalized commission amortized with the revenue: Dr 6100 / Cr 1400. */
export function amortizationPosting(
  ctx: CommissionPostingContext,
  input: { entryId: string; period: Period; source: JournalEntry['source'] },
  items: readonly { contractId: string; amountMinor: bigint }[],
): JournalEntry | null {
  return commissionEntry(ctx, {
    entryId: input.entryId,
    rule: COMMISSION_RULE.amortization,
    date: lastDayOfPeriod(input.period),
    description: `Capitalized partner commission amortized: ${ctx.partnerId}, ${input.period}`,
    source: input.source,
    legs: items.flatMap((item) => [
      { account: '6100' as const, contractId: item.contractId, amountMinor: item.amountMinor },
      { account: '1400' as const, contractId: item.contractId, amountMinor: -item.amountMinor },
    ]),
  });
}

/** A payout of the payable balance: Dr 2100 / Cr 1000. */
export function payoutPosting(
  ctx: CommissionPostingContext,
  input: { payoutId: string; date: CalendarDate; amountMinor: bigint },
): JournalEntry | null {
  return commissionEntry(ctx, {
    entryId: commissionEntryId(ctx.partnerId, ['payout', input.payoutId], COMMISSION_RULE.payout),
    rule: COMMISSION_RULE.payout,
    date: input.date,
    description: `Partner commission payout ${input.payoutId}: ${ctx.partnerId}`,
    source: { kind: 'run', id: input.payoutId },
    legs: [
      { account: '2100', contractId: null, amountMinor: input.amountMinor },
      { account: '1000', contractId: null, amountMinor: -input.amountMinor },
    ],
  });
}

/** A release entry's source id: `release:<lineId>:<cumulative released>`. */
export const RELEASE_SOURCE_PREFIX = 'release:';

/**
 * The highest cumulative release per line found in journal entries (release entries name it in
 * their source id), so a release posted by a disbursement event is never posted again.
 */
export function postedReleases(entries: readonly JournalEntry[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const entry of entries) {
    const release = releaseOf(entry);
    if (release && release.cumulative > (out.get(release.lineId) ?? 0n))
      out.set(release.lineId, release.cumulative);
  }
  return out;
}

/** A release entry's line and the cumulative release it brings the line to (else null). */
export function releaseOf(entry: JournalEntry): { lineId: string; cumulative: bigint } | null {
  if (entry.rule !== COMMISSION_RULE.release) return null;
  const id = entry.source.id;
  const cut = id.lastIndexOf(':');
  if (!id.startsWith(RELEASE_SOURCE_PREFIX) || cut <= RELEASE_SOURCE_PREFIX.length) return null;
  const digits = id.slice(cut + 1);
  if (!/^\d{1,30}$/.test(digits)) return null;
  return { lineId: id.slice(RELEASE_SOURCE_PREFIX.length, cut), cumulative: BigInt(digits) };
}

/** A held accrual line as it stands now, for releasing it. */
export interface HeldLineState {
  /** The accrual line as issued (its `heldMinor` and `hold.range` at accrual). */
  readonly line: CommissionLine;
  /** The contract's invoices as known now. */
  readonly invoices: readonly InvoiceFact[];
  /** Released from this line so far. */
  readonly releasedMinor: bigint;
  /** Taken back out of this line's held amount by clawbacks so far (positive). */
  readonly clawedBackFromHeldMinor: bigint;
  /**
   * The highest cumulative release already in the ledger for this line (a disbursement event
   * may have posted it before the month-end run): only the part beyond it is posted again.
   * Default: `releasedMinor`.
   */
  readonly postedReleasedMinor?: bigint;
}

export interface HoldRelease {
  readonly lineId: string;
  readonly contractId: string;
  readonly releasedMinor: bigint;
  /** Released from the line after this release. */
  readonly cumulativeReleasedMinor: bigint;
  /** Still held on the line after it (0: the line is now entirely payable). */
  readonly remainingHeldMinor: bigint;
  /** The day the last disbursement it waited for arrived. */
  readonly date: CalendarDate;
  readonly journalEntryId: string;
}

/**
 * Step 5 (release): held commission becomes payable as the invoices its range rests on are
 * disbursed. The payable target of a line is round(amount × covered fraction); what exceeds
 * what was already payable or released — never more than is still held — is released, Dr 2110
 * / Cr 2100, dated the day the last disbursement it waited for arrived. One entry per line and
 * cumulative target, so a release found by the disbursement event and again by the month-end
 * run has the same id.
 */
export function releaseHolds(
  ctx: CommissionPostingContext & { readonly asOf: CalendarDate },
  held: readonly HeldLineState[],
): { releases: HoldRelease[]; entries: JournalEntry[] } {
  const releases: HoldRelease[] = [];
  const entries: JournalEntry[] = [];
  const sorted = [...held].sort(byKey((h) => h.line.lineId));
  for (const state of sorted) {
    const { line } = state;
    if (line.partnerId !== ctx.partnerId) {
      throw new InvalidInputError(
        'partner_mismatch',
        `Line ${line.lineId} belongs to ${line.partnerId}, not ${ctx.partnerId}`,
      );
    }
    if (line.hold === null || line.heldMinor <= 0n) continue;
    const coverage = coverageOf(
      line.hold.range,
      state.invoices,
      line.hold.condition,
      line.basisKind,
      ctx.asOf,
    );
    const target = holdSplit(line.amountMinor, coverage.fraction).payableMinor;
    const alreadyPayable = line.amountMinor - line.heldMinor + state.releasedMinor;
    const outstanding = line.heldMinor - state.releasedMinor - state.clawedBackFromHeldMinor;
    const amount = minBig(target - alreadyPayable, outstanding);
    if (amount <= 0n) continue;
    const cumulative = state.releasedMinor + amount;
    const date = coverage.lastReleaseDate ?? ctx.asOf;
    const entryId = commissionEntryId(
      ctx.partnerId,
      ['line', line.lineId, String(cumulative)],
      COMMISSION_RULE.release,
    );
    // What the ledger already holds for the line is not posted twice: the release counts in
    // this period's movements, the entry carries only what is new.
    const posted = maxBig(state.releasedMinor, state.postedReleasedMinor ?? state.releasedMinor);
    const entryAmount = cumulative - posted;
    if (entryAmount > 0n) {
      const entry = commissionEntry(ctx, {
        entryId,
        rule: COMMISSION_RULE.release,
        date,
        description: `Held partner commission released on disbursement: ${line.lineId}`,
        source: { kind: 'event', id: `${RELEASE_SOURCE_PREFIX}${line.lineId}:${cumulative}` },
        legs: [
          { account: '2110', contractId: line.contractId, amountMinor: entryAmount },
          { account: '2100', contractId: line.contractId, amountMinor: -entryAmount },
        ],
      });
      invariant(entry !== null, 'a positive release posts');
      entries.push(entry);
    }
    releases.push({
      lineId: line.lineId,
      contractId: line.contractId,
      releasedMinor: amount,
      cumulativeReleasedMinor: cumulative,
      remainingHeldMinor: outstanding - amount,
      date,
      journalEntryId: entryId,
    });
  }
  return { releases, entries };
}

// ---------------------------------------------------------------------------------------------
// The convenience: one partner, one month
// ---------------------------------------------------------------------------------------------

/** One deal (contract) the partner is attributed on, for one month. */
export interface DealPeriodInput {
  readonly contractId: string;
  readonly dealType: DealType;
  readonly product: string | null;
  readonly attributionVersion: number | null;
  /**
   * The partner's basis this month: its `partnerMonthlyBasis`. Credits are not netted here —
   * they are clawbacks — so it is negative only by a largest-remainder unit, and the
   * quarter-to-date basis through the month is never negative. A deal with basis earlier in the
   * quarter but none this month is still listed (with 0): the accelerator's true-up may reach it.
   */
  readonly basisMinor: bigint;
  /** The partner's basis on this deal in the earlier months of the quarter (≥ 0). */
  readonly quarterBasisBeforeMinor: bigint;
  /** Per-deal cap: commission on this deal in earlier quarters of the calendar year. */
  readonly earnedEarlierInYearMinor?: bigint;
  /**
   * The contract's (not the partner's) cumulative basis at the quarter start, this month's start
   * and its end: the range whose invoices decide the hold (FIFO).
   */
  readonly contractBasis: {
    readonly quarterStartMinor: bigint;
    readonly monthStartMinor: bigint;
    readonly monthEndMinor: bigint;
  };
  /** The contract's invoices, as known at the run. */
  readonly invoices: readonly InvoiceFact[];
  /** Billed basis only: the month's invoice covers more than 12 months → 1400 (rule 7). */
  readonly capitalize?: boolean;
  /** Evidence: the events or entries the basis comes from (recognition entry ids, invoices). */
  readonly sourceEventIds?: readonly string[];
}

/** The id of a month-end run's accrual line: what a clawback names as the line it reverses. */
export function accrualLineId(partnerId: string, contractId: string, month: Period): string {
  return lineId(partnerId, contractId, month, 'accrual');
}

/**
 * Builds a deal's input from what the ledger stores for the contract: its cumulative
 * recognized revenue at month-ends (4000 + 4100 credits), its invoices and the partners' shares.
 * The contract's cumulative basis is split among the partners at every month-end from the
 * contract's first month (rule 10); the partner's quarter-to-date basis is its split now less
 * its split at the quarter's start (never below 0), and the month's basis the difference of the
 * two quarter-to-date values, so the months of a quarter telescope.
 */
export function dealPeriodInputFor(args: {
  readonly partnerId: string;
  readonly period: Period;
  readonly basisKind: CommissionBasis;
  readonly contractId: string;
  readonly dealType: DealType;
  readonly product: string | null;
  readonly attributionVersion: number | null;
  readonly shares: readonly PartnerShareInput[];
  readonly facts: ContractBasisFacts;
  readonly earnedEarlierInYearMinor?: bigint;
  readonly capitalize?: boolean;
  readonly sourceEventIds?: readonly string[];
}): DealPeriodInput {
  const month = parsePeriod(args.period);
  const quarterStart = quarterStartPeriod(month);
  const firstMonths = [
    previousPeriod(quarterStart),
    ...args.facts.recognizedCumulative.map((p) => p.period),
    ...args.facts.invoices.map((i) => periodOf(i.date)),
    ...args.facts.invoices.flatMap((i) => (i.disbursedOn ? [periodOf(i.disbursedOn)] : [])),
  ];
  const first = firstMonths.reduce((a, b) => (comparePeriods(a, b) <= 0 ? a : b));
  const months = periodRange(first, month);
  const contract = contractCumulativeBasis(args.basisKind, args.facts, months);
  const partner = partnerMonthlyBasis(contract, args.shares).filter(
    (p) => p.partnerId === args.partnerId,
  );
  if (partner.length === 0) {
    throw new InvalidInputError(
      'partner_not_attributed',
      `${args.partnerId} has no share of ${args.contractId}`,
    );
  }
  const at = <T extends { period: Period }>(rows: readonly T[], target: Period): T => {
    const row = rows.find((r) => r.period === target);
    invariant(row !== undefined, `a row for ${target}`);
    return row;
  };
  const beforeQuarter = previousPeriod(quarterStart);
  const beforeMonth = previousPeriod(month);
  const partnerStart = at(partner, beforeQuarter).cumulativeMinor;
  const qtd = (target: Period) => maxBig(at(partner, target).cumulativeMinor - partnerStart, 0n);
  const before = month === quarterStart ? 0n : qtd(beforeMonth);
  return {
    contractId: args.contractId,
    dealType: args.dealType,
    product: args.product,
    attributionVersion: args.attributionVersion,
    basisMinor: qtd(month) - before,
    quarterBasisBeforeMinor: before,
    ...(args.earnedEarlierInYearMinor !== undefined
      ? { earnedEarlierInYearMinor: args.earnedEarlierInYearMinor }
      : {}),
    contractBasis: {
      quarterStartMinor: at(contract, beforeQuarter).cumulativeMinor,
      monthStartMinor: at(contract, beforeMonth).cumulativeMinor,
      monthEndMinor: at(contract, month).cumulativeMinor,
    },
    invoices: args.facts.invoices,
    ...(args.capitalize !== undefined ? { capitalize: args.capitalize } : {}),
    ...(args.sourceEventIds !== undefined ? { sourceEventIds: args.sourceEventIds } : {}),
  };
}

/** A credit or refund to claw back (rule 15). */
export interface ClawbackInput {
  readonly contractId: string;
  /** The credit (refund, service credit) event: keys the clawback line and entry. */
  readonly creditId: string;
  /** The partner's share of the credit's basis (negative). */
  readonly basisMinor: bigint;
  /** The line it reverses, and that line's rate (rule 15: the original rate). */
  readonly reversesLineId: string;
  readonly ratePercent: string;
  readonly dealType: DealType;
  readonly product: string | null;
  readonly attributionVersion: number | null;
  /** Still held on the reversed line: the clawback takes it from held (2110) first. */
  readonly heldOutstandingMinor?: bigint;
  /** What the reversed commission was charged to; default 6100 (4900 for resale). */
  readonly creditAccount?: '6100' | '4900' | '1400';
  /** The credit's date; default the period's last day. */
  readonly date?: CalendarDate;
  readonly sourceEventIds?: readonly string[];
}

export interface PartnerPeriodInput {
  readonly partnerId: string;
  readonly tier: string;
  readonly period: Period;
  /** The plan version in effect (see `planVersionOn`); its currency is the functional one. */
  readonly plan: CommissionPlan;
  readonly functionalCurrency: string;
  /**
   * What posts it. A month-end run ({kind: 'run'}) posts one accrual per partner and period
   * whatever its id, and proposes the period's payout; an event (a billed-basis invoice in the
   * pipeline's transaction) posts one accrual per event and no payout.
   */
  readonly source: { readonly kind: 'run' | 'event'; readonly id: string };
  readonly firstOpenPeriod?: Period | null;
  readonly opening: CommissionBalances;
  readonly deals: readonly DealPeriodInput[];
  readonly clawbacks?: readonly ClawbackInput[];
  /** Earlier held lines, released here if their invoices are disbursed by the month's end. */
  readonly heldLines?: readonly HeldLineState[];
  readonly amortizations?: readonly AmortizationInput[];
}

export interface PartnerPeriodResult {
  readonly partnerId: string;
  readonly tier: string;
  readonly period: Period;
  readonly quarter: string;
  readonly planId: string;
  readonly planVersion: number;
  readonly basisKind: CommissionBasis;
  readonly currency: string;
  /** The accelerator through this month (null for a flat plan). */
  readonly accelerator: AcceleratorResult | null;
  readonly quarterToDate: {
    readonly measureBeforeMinor: bigint;
    readonly measureMinor: bigint;
    readonly uncappedMinor: bigint;
    readonly earnedMinor: bigint;
    readonly partnerCapApplied: boolean;
  };
  readonly lines: readonly CommissionLine[];
  readonly releases: readonly HoldRelease[];
  readonly amortizations: readonly {
    readonly contractId: string;
    readonly capitalizedLineId: string;
    readonly amountMinor: bigint;
  }[];
  readonly totals: CommissionTotals;
  readonly opening: CommissionBalances;
  readonly closing: CommissionBalances;
  readonly payout: {
    readonly payoutId: string;
    readonly amountMinor: bigint;
    readonly dueDate: CalendarDate;
    readonly journalEntryId: string;
  } | null;
  readonly entries: readonly JournalEntry[];
}

function partnerPeriodProblems(input: PartnerPeriodInput): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (input.plan.currency !== input.functionalCurrency) {
    problems.push({
      path: 'plan.currency',
      code: 'currency_mismatch',
      message: `Plan currency ${input.plan.currency} is not the functional currency ${input.functionalCurrency}`,
    });
  }
  if (compareDates(input.plan.effectiveFrom, lastDayOfPeriod(input.period)) > 0) {
    problems.push({
      path: 'plan.effectiveFrom',
      code: 'plan_not_effective',
      message: `Plan ${input.plan.planId} v${input.plan.version} starts after ${input.period}`,
    });
  }
  if (input.deals.length > COMMISSION_DEALS_MAX) {
    problems.push({
      path: 'deals',
      code: 'too_many_deals',
      message: `At most ${COMMISSION_DEALS_MAX} deals`,
    });
  }
  const contracts = new Set<string>();
  input.deals.forEach((deal, index) => {
    const path = `deals.${index}`;
    if (contracts.has(deal.contractId)) {
      problems.push({ path, code: 'duplicate_deal', message: `${deal.contractId} twice` });
    }
    contracts.add(deal.contractId);
    if (deal.quarterBasisBeforeMinor < 0n || deal.quarterBasisBeforeMinor + deal.basisMinor < 0n) {
      problems.push({
        path: `${path}.basisMinor`,
        code: 'negative_basis',
        message:
          'A quarter-to-date basis is never negative: pass credits as clawbacks of the lines they reverse',
      });
    }
    if ((deal.earnedEarlierInYearMinor ?? 0n) < 0n) {
      problems.push({
        path: `${path}.earnedEarlierInYearMinor`,
        code: 'negative_amount',
        message: 'Must not be negative',
      });
    }
    if (deal.capitalize === true && input.plan.basis !== 'billed') {
      problems.push({
        path: `${path}.capitalize`,
        code: 'capitalize_not_billed',
        message: 'Only billed-basis commission is capitalized (rule 7)',
      });
    }
  });
  const credits = new Set<string>();
  (input.clawbacks ?? []).forEach((claw, index) => {
    const key = `${claw.contractId}\u0000${claw.creditId}`;
    if (credits.has(key)) {
      problems.push({
        path: `clawbacks.${index}`,
        code: 'duplicate_clawback',
        message: `Credit ${claw.creditId} on ${claw.contractId} twice`,
      });
    }
    credits.add(key);
    try {
      const rate = parseDecimal(claw.ratePercent);
      if (rate.num < 0n || rate.num > 100n * rate.den) throw new Error('range');
    } catch {
      problems.push({
        path: `clawbacks.${index}.ratePercent`,
        code: 'rate_out_of_range',
        message: `A rate is a percentage from 0 to 100, not ${claw.ratePercent}`,
      });
    }
    if ((claw.heldOutstandingMinor ?? 0n) < 0n) {
      problems.push({
        path: `clawbacks.${index}.heldOutstandingMinor`,
        code: 'negative_amount',
        message: 'Must not be negative',
      });
    }
  });
  return problems;
}

function lineId(partnerId: string, contractId: string, month: Period, ...rest: string[]): string {
  return deterministicId('cl', partnerId, contractId, month, ...rest);
}

function accrualStatus(amountMinor: bigint, heldMinor: bigint): CommissionLineStatus {
  if (heldMinor > 0n) return 'held';
  return amountMinor === 0n ? 'earned' : 'payable';
}

/** What one partner-period computation shares between its steps. */
interface PeriodScope {
  readonly input: PartnerPeriodInput;
  readonly ctx: CommissionPostingContext;
  /** The month's last day: holds are judged on invoices disbursed by then. */
  readonly asOf: CalendarDate;
  /** Parts that key lines and entries: ['run'] or ['event', id]. */
  readonly scope: readonly string[];
  readonly runId: string | null;
  readonly entryId: (rule: string) => string;
}

/** Steps 2–6 for the deals: quarter-to-date accrual, holds, and one evidence line per deal. */
function accrualLinesFor(period: PeriodScope): { accrual: MonthAccrual; lines: CommissionLine[] } {
  const { input, asOf } = period;
  const { plan } = input;
  const deals = [...input.deals].sort(byKey((d) => d.contractId));
  const rates = deals.map((d) =>
    rateFor(plan, { tier: input.tier, dealType: d.dealType, product: d.product }),
  );
  const measuredType = plan.accelerator?.measure.dealType ?? null;
  const dealCap = plan.caps.perDealPerYearMinor;
  const accrual = monthlyAccrual(
    plan,
    deals.map((d, index) => ({
      id: d.contractId,
      rate: rates[index]?.rate ?? ZERO,
      measured: d.dealType === measuredType,
      basisBeforeMinor: d.quarterBasisBeforeMinor,
      basisMinor: d.basisMinor,
      dealCapMinor:
        dealCap === undefined ? null : maxBig(dealCap - (d.earnedEarlierInYearMinor ?? 0n), 0n),
    })),
  );
  const upliftPercent = accrual.after.accelerator?.upliftPercent ?? null;
  const lines: CommissionLine[] = [];
  deals.forEach((deal, index) => {
    const amount = accrual.lines[index]?.amountMinor ?? 0n;
    const rate = rates[index];
    invariant(rate !== undefined, 'one rate per deal');
    if (amount === 0n && deal.basisMinor === 0n) return;
    // The month's basis range, or the quarter's when the month has none (a pure true-up).
    const { quarterStartMinor, monthStartMinor, monthEndMinor } = deal.contractBasis;
    const range =
      monthEndMinor !== monthStartMinor
        ? { fromMinor: monthStartMinor, toMinor: monthEndMinor }
        : { fromMinor: quarterStartMinor, toMinor: monthEndMinor };
    const coverage = coverageOf(range, deal.invoices, plan.hold.payWhen, plan.basis, asOf);
    const split = holdSplit(amount, coverage.fraction);
    const expenseAccount =
      rate.expenseAccount === '4900' ? '4900' : deal.capitalize === true ? '1400' : '6100';
    const entryRule =
      expenseAccount === '1400' ? COMMISSION_RULE.capitalization : COMMISSION_RULE.accrual;
    lines.push({
      lineId: lineId(input.partnerId, deal.contractId, input.period, 'accrual', ...period.scope),
      kind: 'accrual',
      status: accrualStatus(amount, split.heldMinor),
      partnerId: input.partnerId,
      contractId: deal.contractId,
      period: input.period,
      planId: plan.planId,
      planVersion: plan.version,
      tier: input.tier,
      dealType: deal.dealType,
      product: deal.product,
      attributionVersion: deal.attributionVersion,
      basisKind: plan.basis,
      basisMinor: deal.basisMinor,
      quarterBasisMinor: deal.quarterBasisBeforeMinor + deal.basisMinor,
      ratePercent: rate.ratePercent,
      upliftPercent: deal.dealType === measuredType ? upliftPercent : null,
      amountMinor: amount,
      heldMinor: split.heldMinor,
      expenseAccount,
      dealCapApplied: accrual.after.lines[index]?.dealCapApplied ?? false,
      journalEntryId: amount === 0n ? null : period.entryId(entryRule),
      sourceEventIds: [...(deal.sourceEventIds ?? [])],
      runId: period.runId,
      reversesLineId: null,
      hold:
        split.heldMinor > 0n
          ? {
              condition: plan.hold.payWhen,
              range,
              pendingInvoiceIds: coverage.pendingInvoiceIds,
              unbilledMinor: coverage.unbilledMinor,
            }
          : null,
      payoutId: null,
    });
  });
  return { accrual, lines };
}

/**
 * Rule 15: each credit is clawed back at the rate of the line it reverses, rounded half-even
 * once, taken from what that line still holds first; one entry per credit, so the credit's own
 * event and the month-end run post the same entry.
 */
function clawbackLinesFor(period: PeriodScope): {
  lines: CommissionLine[];
  entries: JournalEntry[];
} {
  const { input } = period;
  const entries: JournalEntry[] = [];
  const clawbacks = [...(input.clawbacks ?? [])].sort(
    byKey((c) => `${c.contractId}\u0000${c.creditId}`),
  );
  const lines = clawbacks.map((claw): CommissionLine => {
    const percent = parseDecimal(claw.ratePercent);
    const rate = rational(percent.num, percent.den * 100n);
    const amount = applyRate(claw.basisMinor, rate, 'half-even');
    const fromHeld = amount < 0n ? -minBig(-amount, claw.heldOutstandingMinor ?? 0n) : 0n;
    const entryId = commissionEntryId(
      input.partnerId,
      ['credit', claw.contractId, claw.creditId],
      COMMISSION_RULE.clawback,
    );
    const line: CommissionLine = {
      lineId: lineId(input.partnerId, claw.contractId, input.period, 'clawback', claw.creditId),
      kind: 'clawback',
      status: 'clawed_back',
      partnerId: input.partnerId,
      contractId: claw.contractId,
      period: input.period,
      planId: input.plan.planId,
      planVersion: input.plan.version,
      tier: input.tier,
      dealType: claw.dealType,
      product: claw.product,
      attributionVersion: claw.attributionVersion,
      basisKind: input.plan.basis,
      basisMinor: claw.basisMinor,
      quarterBasisMinor: 0n,
      ratePercent: percentText(rate),
      upliftPercent: null,
      amountMinor: amount,
      heldMinor: fromHeld,
      expenseAccount: claw.creditAccount ?? (claw.dealType === 'resale' ? '4900' : '6100'),
      dealCapApplied: false,
      journalEntryId: amount === 0n ? null : entryId,
      sourceEventIds: [...(claw.sourceEventIds ?? [claw.creditId])],
      runId: period.runId,
      reversesLineId: claw.reversesLineId,
      hold: null,
      payoutId: null,
    };
    const entry = clawbackPosting(
      period.ctx,
      { entryId, date: claw.date ?? period.asOf, source: { kind: 'event', id: claw.creditId } },
      line,
    );
    if (entry) entries.push(entry);
    return line;
  });
  return { lines, entries };
}

/** The period's movements, read from its lines and entries (payout not yet included). */
function periodTotals(
  accrualLines: readonly CommissionLine[],
  clawbackLines: readonly CommissionLine[],
  releases: readonly HoldRelease[],
  amortizedMinor: bigint,
  entries: readonly JournalEntry[],
): CommissionTotals {
  const netDebit = (account: AccountCode) =>
    entries
      .flatMap((e) => e.legs)
      .filter((l) => l.account === account)
      .reduce((total, l) => total + l.debitMinor - l.creditMinor, 0n);
  const sum = (lines: readonly CommissionLine[], pick: (l: CommissionLine) => bigint) =>
    lines.reduce((total, line) => total + pick(line), 0n);
  return {
    earnedMinor: sum(accrualLines, (l) => l.amountMinor),
    earnedHeldMinor: sum(accrualLines, (l) => l.heldMinor),
    clawedBackMinor: -sum(clawbackLines, (l) => l.amountMinor),
    clawedBackFromHeldMinor: -sum(clawbackLines, (l) => l.heldMinor),
    releasedMinor: releases.reduce((total, r) => total + r.releasedMinor, 0n),
    paidMinor: 0n,
    capitalizedMinor: sum(
      accrualLines.filter((l) => l.expenseAccount === '1400'),
      (l) => l.amountMinor,
    ),
    amortizedMinor,
    expenseMinor: netDebit('6100'),
    contraRevenueMinor: netDebit('4900'),
  };
}

/**
 * One partner, one month: the deal lines' accrual (quarter-to-date, accelerated, capped,
 * allocated), holds by FIFO invoice coverage, clawbacks at their original rates, releases of
 * earlier holds, amortization of capitalized commission, balances, the payout due, and every
 * journal entry (balanced, deterministic ids). Computing the same input twice gives the same
 * result, whatever the order of its deals, clawbacks or held lines.
 */
export function computePartnerPeriod(input: PartnerPeriodInput): PartnerPeriodResult {
  const problems = partnerPeriodProblems(input);
  if (problems.length > 0) {
    throw new InvalidInputError(
      'invalid_commission_input',
      `Commission input for ${input.partnerId}, ${input.period} is not valid`,
      problems,
    );
  }
  const { plan, partnerId, period: month } = input;
  const scope = input.source.kind === 'run' ? [] : ['event', input.source.id];
  const period: PeriodScope = {
    input,
    ctx: {
      partnerId,
      functionalCurrency: input.functionalCurrency,
      firstOpenPeriod: input.firstOpenPeriod ?? null,
    },
    asOf: lastDayOfPeriod(month),
    scope,
    runId: input.source.kind === 'run' ? input.source.id : null,
    entryId: (rule) => commissionEntryId(partnerId, [month, ...scope], rule),
  };
  const { accrual, lines: accrualLines } = accrualLinesFor(period);
  const clawed = clawbackLinesFor(period);
  const released = releaseHolds({ ...period.ctx, asOf: period.asOf }, input.heldLines ?? []);
  const amortizations = (input.amortizations ?? []).map((a) => ({
    contractId: a.contractId,
    capitalizedLineId: a.capitalizedLineId,
    amountMinor: amortizationFor(a),
  }));

  const source = { kind: input.source.kind, id: input.source.id };
  const posting = (rule: string) => ({ entryId: period.entryId(rule), period: month, source });
  const periodEntries = [
    ...accrualPosting(period.ctx, posting(COMMISSION_RULE.accrual), accrualLines),
    ...capitalizationPosting(period.ctx, posting(COMMISSION_RULE.capitalization), accrualLines),
    ...clawed.entries,
    ...released.entries,
    amortizationPosting(period.ctx, posting(COMMISSION_RULE.amortization), amortizations),
  ].filter((e): e is JournalEntry => e !== null);

  const beforePayout = periodTotals(
    accrualLines,
    clawed.lines,
    released.releases,
    amortizations.reduce((total, a) => total + a.amountMinor, 0n),
    periodEntries,
  );
  // Payouts belong to the month-end run; an event-driven accrual never proposes one.
  const due =
    input.source.kind === 'run'
      ? payoutFor(plan, month, closingBalances(input.opening, beforePayout).payableMinor)
      : null;
  const payoutId = `payout:${partnerId}:${month}`;
  const payoutEntry = due
    ? payoutPosting(period.ctx, { payoutId, date: due.dueDate, amountMinor: due.amountMinor })
    : null;
  const totals: CommissionTotals = { ...beforePayout, paidMinor: due?.amountMinor ?? 0n };

  return {
    partnerId,
    tier: input.tier,
    period: month,
    quarter: quarterOf(month),
    planId: plan.planId,
    planVersion: plan.version,
    basisKind: plan.basis,
    currency: plan.currency,
    accelerator: accrual.after.accelerator,
    quarterToDate: {
      measureBeforeMinor: accrual.before.measureMinor,
      measureMinor: accrual.after.measureMinor,
      uncappedMinor: accrual.after.uncappedMinor,
      earnedMinor: accrual.after.earnedMinor,
      partnerCapApplied: accrual.after.partnerCapApplied,
    },
    lines: [...accrualLines, ...clawed.lines],
    releases: released.releases,
    amortizations,
    totals,
    opening: input.opening,
    closing: closingBalances(input.opening, totals),
    payout:
      due && payoutEntry
        ? {
            payoutId,
            amountMinor: due.amountMinor,
            dueDate: due.dueDate,
            journalEntryId: payoutEntry.entryId,
          }
        : null,
    entries: payoutEntry ? [...periodEntries, payoutEntry] : periodEntries,
  };
}

// ---------------------------------------------------------------------------------------------
// 11. Billed basis: accrual with the invoice, trued up by the month-end run
// ---------------------------------------------------------------------------------------------

export interface InvoiceAccrualInput {
  readonly partnerId: string;
  readonly tier: string;
  readonly plan: CommissionPlan;
  readonly functionalCurrency: string;
  readonly firstOpenPeriod?: Period | null;
  readonly contractId: string;
  readonly dealType: DealType;
  readonly product: string | null;
  readonly attributionVersion: number | null;
  /** The InvoiceIssued event: keys the entry, so a redelivered invoice posts nothing new. */
  readonly invoiceEventId: string;
  readonly invoiceId: string;
  readonly date: CalendarDate;
  /** The partner's split of the invoice (largest remainder of the attribution weights). */
  readonly basisMinor: bigint;
  /** The invoice covers more than 12 months of service (rule 7: capitalized to 1400). */
  readonly multiYear: boolean;
}

/**
 * Billed basis: the partner's commission on an invoice, posted with the invoice in the
 * pipeline's transaction at the plan's base rate — held until the invoice is disbursed when the
 * plan says so, capitalized to 1400 on a multi-year billing, contra-revenue (4900) for a
 * reseller. The month-end run computes the month with accelerators and caps and posts only the
 * difference (`netOfPostedAccruals`), so this is the provisional part of the month's accrual.
 */
export function invoiceAccrualPosting(input: InvoiceAccrualInput): {
  line: CommissionLine;
  entry: JournalEntry | null;
} {
  if (input.plan.basis !== 'billed') {
    throw new InvalidInputError(
      'not_billed_basis',
      'Only billed-basis commission accrues with the invoice',
    );
  }
  const rate = rateFor(input.plan, {
    tier: input.tier,
    dealType: input.dealType,
    product: input.product,
  });
  const amount = applyRate(input.basisMinor, rate.rate, 'half-even');
  const held = input.plan.hold.payWhen === 'disbursed' && amount > 0n ? amount : 0n;
  const month = periodOf(input.date);
  const entryId = commissionEntryId(
    input.partnerId,
    ['invoice', input.invoiceEventId],
    COMMISSION_RULE.accrual,
  );
  const line: CommissionLine = {
    lineId: lineId(input.partnerId, input.contractId, month, 'invoice', input.invoiceEventId),
    kind: 'accrual',
    status: accrualStatus(amount, held),
    partnerId: input.partnerId,
    contractId: input.contractId,
    period: month,
    planId: input.plan.planId,
    planVersion: input.plan.version,
    tier: input.tier,
    dealType: input.dealType,
    product: input.product,
    attributionVersion: input.attributionVersion,
    basisKind: 'billed',
    basisMinor: input.basisMinor,
    quarterBasisMinor: 0n,
    ratePercent: rate.ratePercent,
    upliftPercent: null,
    amountMinor: amount,
    heldMinor: held,
    expenseAccount:
      input.multiYear && rate.expenseAccount === '6100' ? '1400' : rate.expenseAccount,
    dealCapApplied: false,
    journalEntryId: amount === 0n ? null : entryId,
    sourceEventIds: [input.invoiceEventId, input.invoiceId],
    runId: null,
    reversesLineId: null,
    hold: null,
    payoutId: null,
  };
  const entry = commissionEntry(
    {
      partnerId: input.partnerId,
      functionalCurrency: input.functionalCurrency,
      firstOpenPeriod: input.firstOpenPeriod ?? null,
    },
    {
      entryId,
      rule:
        line.expenseAccount === '1400' ? COMMISSION_RULE.capitalization : COMMISSION_RULE.accrual,
      date: input.date,
      description: `Partner commission accrued on invoice ${input.invoiceId}: ${input.partnerId}`,
      source: { kind: 'event', id: input.invoiceEventId },
      legs: accrualLegs(line),
    },
  );
  return { line, entry };
}

/** Whether an entry is an invoice-time accrual of a partner (posted by the pipeline). */
export function isInvoiceAccrual(entry: JournalEntry, partnerId: string): boolean {
  return (
    (entry.rule === COMMISSION_RULE.accrual || entry.rule === COMMISSION_RULE.capitalization) &&
    entry.source.kind === 'event' &&
    entry.legs.some((leg) => leg.partnerId === partnerId)
  );
}

/**
 * The month-end run's accrual and capitalization entries less what invoice-time accruals of the
 * month already posted, per (account, contract): the ledger ends with exactly the run's figures.
 * What was posted on a contract the run has no line for is reversed in the first entry.
 */
export function netOfPostedAccruals(
  ctx: CommissionPostingContext,
  runEntries: readonly JournalEntry[],
  posted: readonly JournalEntry[],
): JournalEntry[] {
  const key = (account: string, contractId: string | null) => `${account}\u0000${contractId ?? ''}`;
  const remaining = new Map<string, SignedLeg>();
  for (const leg of posted.flatMap((e) => e.legs)) {
    const k = key(leg.account, leg.contractId);
    const signed = leg.functionalDebitMinor - leg.functionalCreditMinor;
    const current = remaining.get(k);
    remaining.set(k, {
      account: leg.account,
      contractId: leg.contractId,
      amountMinor: (current?.amountMinor ?? 0n) + signed,
    });
  }
  const isAccrual = (e: JournalEntry) =>
    e.rule === COMMISSION_RULE.accrual || e.rule === COMMISSION_RULE.capitalization;
  const accruals = runEntries.filter(isAccrual);
  const out: JournalEntry[] = [];
  accruals.forEach((entry, index) => {
    const legs: SignedLeg[] = entry.legs.map((leg) => ({
      account: leg.account,
      contractId: leg.contractId,
      amountMinor: leg.functionalDebitMinor - leg.functionalCreditMinor,
    }));
    for (const leg of entry.legs) {
      const k = key(leg.account, leg.contractId);
      const already = remaining.get(k);
      if (!already) continue;
      legs.push({ ...already, amountMinor: -already.amountMinor });
      remaining.delete(k);
    }
    if (index === accruals.length - 1) {
      for (const leftover of remaining.values())
        legs.push({ ...leftover, amountMinor: -leftover.amountMinor });
      remaining.clear();
    }
    const netted = commissionEntry(ctx, {
      entryId: entry.entryId,
      rule: entry.rule,
      date: entry.date,
      description: entry.description,
      source: entry.source,
      legs,
    });
    if (netted) out.push(netted);
  });
  if (accruals.length === 0 && remaining.size > 0 && posted[0]) {
    // No run accrual at all this month: reverse what the invoices posted.
    const reversal = commissionEntry(ctx, {
      entryId: commissionEntryId(
        ctx.partnerId,
        ['reverse-invoice-accruals', posted[0].postingPeriod],
        COMMISSION_RULE.accrual,
      ),
      rule: COMMISSION_RULE.accrual,
      date: lastDayOfPeriod(posted[0].postingPeriod),
      description: `Invoice-time partner commission reversed by the month-end run: ${ctx.partnerId}`,
      source: { kind: 'run', id: `commission:${posted[0].postingPeriod}` },
      legs: [...remaining.values()].map((leg) => ({ ...leg, amountMinor: -leg.amountMinor })),
    });
    if (reversal) out.push(reversal);
  }
  // The run's order kept: netted accruals where they were, then a reversal if one was needed.
  const netted = new Map(out.map((e) => [e.entryId, e]));
  const kept = runEntries.flatMap((e) => {
    if (!isAccrual(e)) return [e];
    const replaced = netted.get(e.entryId);
    netted.delete(e.entryId);
    return replaced ? [replaced] : [];
  });
  return [...kept, ...netted.values()];
}
