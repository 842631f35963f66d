/**
 * How this deployment keeps its books: functional currency, policies, the marketplace fee table
 * and where exchange rates come from. Built once from configuration.
 */
import type { CalendarDate, Period } from '../../domain/calendar';
import type { Rational } from '../../domain/money';
import { DEFAULT_FEE_TABLE, type FeeTable } from '../../domain/revenue/fee-table';
import { DEFAULT_REVENUE_POLICIES, type RevenuePolicies } from '../../domain/revenue/policies';

export interface RevenueSettings {
  readonly functionalCurrency: string;
  readonly policies: RevenuePolicies;
  readonly feeTable: FeeTable;
  /** 1 unit of `from` in `to` on a date, or null when no rate is known. */
  readonly rate: (date: CalendarDate, from: string, to: string) => Rational | null;
  /** Refreshes what `rate` and `firstOpenPeriod` read (FX table, period locks); cached. */
  readonly prepare?: () => Promise<void>;
  /** Rule 14: the first period a poster may post into, or null when nothing is locked. */
  readonly firstOpenPeriod?: (poster: 'pipeline' | 'run') => Period | null;
}

/** Same-currency only until an FX rate source is configured. */
export function sameCurrencyOnly(date: CalendarDate, from: string, to: string): Rational | null {
  void date;
  return from === to ? { num: 1n, den: 1n } : null;
}

export const DEFAULT_REVENUE_SETTINGS: RevenueSettings = {
  functionalCurrency: 'USD',
  policies: DEFAULT_REVENUE_POLICIES,
  feeTable: DEFAULT_FEE_TABLE,
  rate: sameCurrencyOnly,
};
