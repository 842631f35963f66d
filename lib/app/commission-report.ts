/**
 * The finance view of partner commission over a range of months: partner-sourced, influenced
 * and resale revenue, commission expense, payable and held, per partner and month (JSON or CSV).
 * It reads what the month-end runs stored, so months not yet run do not appear.
 */
import { comparePeriods, type Period, period as parsePeriod } from '../domain/calendar';
import {
  type CommissionReport,
  type CommissionReportRow,
  commissionReport,
  commissionReportRow,
} from '../domain/commission/report';
import { InvalidInputError } from '../domain/errors';
import type { CommissionStore } from './commission-run';
import type { PartnerStore } from './partner-ports';
import type { RevenueSettings } from './revenue/settings';

/** Partners read per registry page, and the most one report walks. */
export const COMMISSION_REPORT_PARTNER_PAGE_SIZE = 100;
export const COMMISSION_REPORT_PARTNERS_MAX = 10_000;
/** Months one report spans. */
export const COMMISSION_REPORT_MONTHS_MAX = 36;

export interface CommissionReportDeps {
  readonly partners: Pick<PartnerStore, 'list' | 'get'>;
  readonly commissions: Pick<CommissionStore, 'statesBetween' | 'lines'>;
  readonly revenue: Pick<RevenueSettings, 'functionalCurrency'>;
}

function monthsBetween(from: Period, to: Period): number {
  const index = (p: Period) => Number(p.slice(0, 4)) * 12 + Number(p.slice(5, 7));
  return index(to) - index(from) + 1;
}

async function* partnerIds(
  deps: CommissionReportDeps,
  only: string | undefined,
): AsyncGenerator<string> {
  if (only !== undefined) {
    if (await deps.partners.get(only)) yield only;
    return;
  }
  let cursor: string | undefined;
  let seen = 0;
  do {
    const page = await deps.partners.list({ limit: COMMISSION_REPORT_PARTNER_PAGE_SIZE, cursor });
    for (const partner of page.items) {
      seen += 1;
      if (seen > COMMISSION_REPORT_PARTNERS_MAX) return;
      yield partner.partnerId;
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
}

export async function partnerCommissionReport(
  deps: CommissionReportDeps,
  input: { readonly from: string; readonly to: string; readonly partnerId?: string | undefined },
): Promise<CommissionReport> {
  const from = parsePeriod(input.from);
  const to = parsePeriod(input.to);
  if (comparePeriods(from, to) > 0) {
    throw new InvalidInputError('invalid_range', `from (${from}) is after to (${to})`);
  }
  if (monthsBetween(from, to) > COMMISSION_REPORT_MONTHS_MAX) {
    throw new InvalidInputError(
      'invalid_range',
      `A commission report spans at most ${COMMISSION_REPORT_MONTHS_MAX} months`,
    );
  }
  const rows: CommissionReportRow[] = [];
  for await (const partnerId of partnerIds(deps, input.partnerId)) {
    for (const state of await deps.commissions.statesBetween(partnerId, from, to)) {
      rows.push(commissionReportRow(state, await deps.commissions.lines(partnerId, state.period)));
    }
  }
  return commissionReport({ from, to, currency: deps.revenue.functionalCurrency, rows });
}
