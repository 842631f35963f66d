/**
 * Finance operations on the ledger: period locks (freeze, close, reopen with an audit record),
 * the FX rate table, and disbursements recorded by hand until reconciliation derives them from
 * the marketplaces' reports.
 */
import { type CalendarDate, dateOfInstant, type Period } from '../../domain/calendar';
import { contractEventId } from '../../domain/events';
import { close, freeze, type PeriodLocks, reopen } from '../../domain/revenue/periods';

import { getContract } from '../contracts';
import type { Clock, FxRate, FxRateStore, PeriodAuditRecord, PeriodStore } from '../ports';
import { appendContractEvents, type ContractOutcome, type SyncDeps } from '../sync';

export type PeriodAction = 'freeze' | 'close' | 'reopen';

export async function changePeriod(
  deps: { periods: PeriodStore; clock: Clock },
  input: { action: PeriodAction; period: Period; by: string; reason: string | null },
): Promise<{ locks: PeriodLocks; record: PeriodAuditRecord }> {
  const current = await deps.periods.locks();
  const now = deps.clock.now();
  const today = dateOfInstant(now);
  const before: PeriodLocks = {
    closedThrough: current.closedThrough,
    frozenThrough: current.frozenThrough,
  };
  const after =
    input.action === 'freeze'
      ? freeze(before, input.period, today)
      : input.action === 'close'
        ? close(before, input.period, today)
        : reopen(before, input.period);
  const record: PeriodAuditRecord = {
    at: now,
    period: input.period,
    action:
      input.action === 'freeze' ? 'FREEZE' : input.action === 'close' ? 'CLOSE' : 'PERIOD_REOPENED',
    by: input.by,
    reason: input.reason,
    before,
    after,
  };
  await deps.periods.change(current.version, record);
  return { locks: after, record };
}

export async function recordFxRates(
  deps: { fxRates: FxRateStore; clock: Clock; revenue: { invalidateRates(): void } },
  rates: readonly FxRate[],
): Promise<{ recorded: number }> {
  await deps.fxRates.put(rates, deps.clock.now());
  deps.revenue.invalidateRates();
  return { recorded: rates.length };
}

export interface DisbursementInput {
  readonly contractId: string;
  readonly disbursementId: string;
  readonly date: CalendarDate;
  readonly currency: string;
  readonly amountMinor: bigint;
  /** The receivable it settles, when in another currency than the cash received. */
  readonly settlesCurrency: string | null;
  readonly settlesMinor: bigint | null;
}

/** A payout recorded as a DisbursementReceived event; its entries post in the same commit. */
export async function recordDisbursement(
  deps: SyncDeps,
  input: DisbursementInput,
): Promise<ContractOutcome> {
  await getContract(deps.contracts, input.contractId);
  return appendContractEvents(deps, input.contractId, (snapshot) => [
    {
      schemaVersion: 1 as const,
      eventId: contractEventId(input.contractId, 'DisbursementReceived', input.disbursementId),
      contractId: input.contractId,
      marketplace: snapshot.marketplace,
      occurredAt: `${input.date}T00:00:00Z`,
      effectiveAt: input.date,
      sourceVersion: input.disbursementId,
      raw: null,
      type: 'DisbursementReceived' as const,
      payload: {
        disbursementId: input.disbursementId,
        currency: input.currency,
        amountMinor: input.amountMinor,
        settlesCurrency: input.settlesCurrency ?? input.currency,
        settlesMinor: input.settlesMinor ?? input.amountMinor,
        bankTraceId: null,
      },
    },
  ]);
}
