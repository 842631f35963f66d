/**
 * Revenue settings that read the deployment's data: the FX rate table (cached a few minutes)
 * and the period locks (read before every posting; the ConditionCheck on each write is the
 * guarantee, this only avoids needless conflicts).
 */
import type { CalendarDate, Period } from '../../domain/calendar';
import type { Rational } from '../../domain/money';
import type { FeeTable } from '../../domain/revenue/fee-table';
import {
  firstOpenPeriod,
  NO_LOCKS,
  type PeriodLocks,
  type Poster,
} from '../../domain/revenue/periods';
import type { RevenuePolicies } from '../../domain/revenue/policies';
import { rateLookup } from '../../domain/revenue/preview';
import type { RevenueSettings } from './settings';

export const FX_CACHE_MS = 5 * 60_000;

export interface FxRateSource {
  all(): Promise<{ date: string; base: string; quote: string; rate: string }[]>;
}

export interface PeriodLockSource {
  locks(): Promise<PeriodLocks>;
}

export class LiveRevenueSettings implements RevenueSettings {
  private lookup: (date: CalendarDate, from: string, to: string) => Rational | null = (
    _d,
    from,
    to,
  ) => (from === to ? { num: 1n, den: 1n } : null);
  private ratesLoadedAt = Number.NEGATIVE_INFINITY;
  private locks: PeriodLocks = NO_LOCKS;

  constructor(
    private readonly base: {
      functionalCurrency: string;
      policies: RevenuePolicies;
      feeTable: FeeTable;
    },
    private readonly fx: FxRateSource,
    private readonly periods: PeriodLockSource,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get functionalCurrency(): string {
    return this.base.functionalCurrency;
  }

  get policies(): RevenuePolicies {
    return this.base.policies;
  }

  get feeTable(): FeeTable {
    return this.base.feeTable;
  }

  readonly rate = (date: CalendarDate, from: string, to: string): Rational | null =>
    this.lookup(date, from, to);

  readonly firstOpenPeriod = (poster: Poster): Period | null => firstOpenPeriod(this.locks, poster);

  readonly prepare = async (): Promise<void> => {
    this.locks = await this.periods.locks();
    if (this.nowMs() - this.ratesLoadedAt >= FX_CACHE_MS) {
      this.lookup = rateLookup(await this.fx.all());
      this.ratesLoadedAt = this.nowMs();
    }
  };

  /** Forget the cached rates (after new rates were recorded). */
  invalidateRates(): void {
    this.ratesLoadedAt = Number.NEGATIVE_INFINITY;
  }
}
