/**
 * The finance view of partner commission (issue 12): per partner and month, the revenue the
 * partner is credited with by deal type (sourced, influenced, resale), what it earned and had
 * clawed back, where the cost went (6100 expense, 4900 contra-revenue, 1400 capitalized), what
 * was released from hold and paid, and the payable (2100) and held (2110) balances. Built only
 * from what the month-end run stored (its state and lines), so it always agrees with the ledger
 * entries the run posted.
 */
import type { Period } from '../calendar';
import { comparePeriods } from '../calendar';
import { InvalidInputError } from '../errors';
import { csvOf } from '../revenue/reports';
import type { CommissionBalances, CommissionLine } from './engine';
import type { CommissionBasis } from './plan';

/** Rows one report holds (partners × months); beyond it, narrow the range or the partner. */
export const COMMISSION_REPORT_ROWS_MAX = 50_000;

/** What the report reads of a partner's stored month (the run's PartnerPeriodState). */
export interface CommissionMonthState {
  readonly partnerId: string;
  readonly period: Period;
  readonly tier: string;
  readonly planId: string;
  readonly planVersion: number;
  readonly opening: CommissionBalances;
  readonly closing: CommissionBalances;
  readonly payoutId: string | null;
}

export interface CommissionReportRow {
  readonly partnerId: string;
  readonly period: Period;
  readonly tier: string;
  readonly planId: string;
  readonly planVersion: number;
  /** What the revenue figures measure: the plan's basis (recognized revenue by default). */
  readonly basisKind: CommissionBasis | null;
  /** The partner's credited share of the basis by deal type, credits netted. */
  readonly sourcedRevenueMinor: bigint;
  readonly influencedRevenueMinor: bigint;
  readonly resaleRevenueMinor: bigint;
  readonly earnedMinor: bigint;
  /** Positive: what credits took back. */
  readonly clawedBackMinor: bigint;
  /** Net cost by account this month (earned less clawed back): 6100, 4900 and 1400. */
  readonly expenseMinor: bigint;
  readonly contraRevenueMinor: bigint;
  readonly capitalizedMinor: bigint;
  readonly releasedMinor: bigint;
  readonly paidMinor: bigint;
  readonly payoutId: string | null;
  readonly openingPayableMinor: bigint;
  readonly openingHeldMinor: bigint;
  /** Closing balances: payable (2100; negative = carried forward) and held (2110). */
  readonly payableMinor: bigint;
  readonly heldMinor: bigint;
  readonly lines: number;
}

const sum = (lines: readonly CommissionLine[], pick: (line: CommissionLine) => bigint) =>
  lines.reduce((total, line) => total + pick(line), 0n);

/**
 * One partner's month. Released and paid follow from the statement identity: held moves by
 * what was earned into hold, less clawed back out of it, less released; the total owed moves by
 * earned less clawed back less paid.
 */
export function commissionReportRow(
  state: CommissionMonthState,
  lines: readonly CommissionLine[],
): CommissionReportRow {
  const mine = lines.filter((l) => l.partnerId === state.partnerId && l.period === state.period);
  const accruals = mine.filter((l) => l.kind === 'accrual');
  const clawbacks = mine.filter((l) => l.kind === 'clawback');
  const earned = sum(accruals, (l) => l.amountMinor);
  const clawedBack = -sum(clawbacks, (l) => l.amountMinor);
  const earnedHeld = sum(accruals, (l) => l.heldMinor);
  const clawedFromHeld = -sum(clawbacks, (l) => l.heldMinor);
  const openingTotal = state.opening.payableMinor + state.opening.heldMinor;
  const closingTotal = state.closing.payableMinor + state.closing.heldMinor;
  const byType = (type: CommissionLine['dealType']) =>
    sum(
      mine.filter((l) => l.dealType === type),
      (l) => l.basisMinor,
    );
  const byAccount = (account: CommissionLine['expenseAccount']) =>
    sum(
      mine.filter((l) => l.expenseAccount === account),
      (l) => l.amountMinor,
    );
  return {
    partnerId: state.partnerId,
    period: state.period,
    tier: state.tier,
    planId: state.planId,
    planVersion: state.planVersion,
    basisKind: mine[0]?.basisKind ?? null,
    sourcedRevenueMinor: byType('sourced'),
    influencedRevenueMinor: byType('influenced'),
    resaleRevenueMinor: byType('resale'),
    earnedMinor: earned,
    clawedBackMinor: clawedBack,
    expenseMinor: byAccount('6100'),
    contraRevenueMinor: byAccount('4900'),
    capitalizedMinor: byAccount('1400'),
    releasedMinor: state.opening.heldMinor + earnedHeld - clawedFromHeld - state.closing.heldMinor,
    paidMinor: openingTotal + earned - clawedBack - closingTotal,
    payoutId: state.payoutId,
    openingPayableMinor: state.opening.payableMinor,
    openingHeldMinor: state.opening.heldMinor,
    payableMinor: state.closing.payableMinor,
    heldMinor: state.closing.heldMinor,
    lines: mine.length,
  };
}

type Totals = Omit<
  CommissionReportRow,
  'partnerId' | 'tier' | 'planId' | 'planVersion' | 'basisKind' | 'payoutId'
>;

const AMOUNT_KEYS = [
  'sourcedRevenueMinor',
  'influencedRevenueMinor',
  'resaleRevenueMinor',
  'earnedMinor',
  'clawedBackMinor',
  'expenseMinor',
  'contraRevenueMinor',
  'capitalizedMinor',
  'releasedMinor',
  'paidMinor',
  'openingPayableMinor',
  'openingHeldMinor',
  'payableMinor',
  'heldMinor',
] as const satisfies readonly (keyof Totals)[];

export interface CommissionReport {
  readonly from: Period;
  readonly to: Period;
  readonly currency: string;
  /** In words: how each row's figures relate. */
  readonly formula: string;
  /** Partner, then month. */
  readonly rows: CommissionReportRow[];
  /** All partners, per month. */
  readonly totals: Totals[];
}

export const COMMISSION_REPORT_FORMULA =
  'opening payable + opening held + earned − clawed back − paid = payable + held; expense + contra-revenue + capitalized = earned − clawed back';

export function commissionReport(input: {
  readonly from: Period;
  readonly to: Period;
  readonly currency: string;
  readonly rows: readonly CommissionReportRow[];
}): CommissionReport {
  if (input.rows.length > COMMISSION_REPORT_ROWS_MAX) {
    throw new InvalidInputError(
      'report_too_large',
      `The report would hold more than ${COMMISSION_REPORT_ROWS_MAX} rows: narrow the period range or name a partner`,
    );
  }
  const rows = [...input.rows].sort(
    (a, b) =>
      (a.partnerId < b.partnerId ? -1 : a.partnerId > b.partnerId ? 1 : 0) ||
      comparePeriods(a.period, b.period),
  );
  const byPeriod = new Map<Period, Record<string, bigint | number>>();
  for (const row of rows) {
    const totals = byPeriod.get(row.period) ?? { lines: 0 };
    for (const key of AMOUNT_KEYS) totals[key] = ((totals[key] as bigint) ?? 0n) + row[key];
    totals.lines = (totals.lines as number) + row.lines;
    byPeriod.set(row.period, totals);
  }
  const totals = [...byPeriod.entries()]
    .sort(([a], [b]) => comparePeriods(a, b))
    .map(([period, t]) => ({ period, ...t }) as unknown as Totals);
  return {
    from: input.from,
    to: input.to,
    currency: input.currency,
    formula: COMMISSION_REPORT_FORMULA,
    rows,
    totals,
  };
}

export const COMMISSION_REPORT_CSV_HEADER = [
  'partner_id',
  'period',
  'tier',
  'plan_id',
  'plan_version',
  'basis',
  'currency',
  'sourced_revenue_minor',
  'influenced_revenue_minor',
  'resale_revenue_minor',
  'earned_minor',
  'clawed_back_minor',
  'expense_6100_minor',
  'contra_revenue_4900_minor',
  'capitalized_1400_minor',
  'released_minor',
  'paid_minor',
  'opening_payable_minor',
  'opening_held_minor',
  'payable_2100_minor',
  'held_2110_minor',
  'payout_id',
] as const;

/** One row per partner and month, amounts in minor units (exact; no spreadsheet rounding). */
export function commissionReportCsv(report: CommissionReport): string {
  return csvOf([
    COMMISSION_REPORT_CSV_HEADER,
    ...report.rows.map((r) => [
      r.partnerId,
      r.period,
      r.tier,
      r.planId,
      r.planVersion,
      r.basisKind,
      report.currency,
      ...AMOUNT_KEYS.map((key) => r[key]),
      r.payoutId,
    ]),
  ]);
}
