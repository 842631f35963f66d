/**
 * Finance operations on the ledger: period locks (freeze, close, reopen with an audit record),
 * the FX rate table, and disbursements recorded by hand until reconciliation derives them from
 * the marketplaces' reports.
 */
import { dateOfInstant, type Period } from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import { contractEventId } from '../../domain/events';
import { TRUE_UP_RULE } from '../../domain/reconciliation/true-up';
import { balanceOf } from '../../domain/revenue/book';
import { type DisbursementFacts, disbursementProblems } from '../../domain/revenue/disbursement';
import { close, freeze, type PeriodLocks, reopen } from '../../domain/revenue/periods';
import { MissingFxRateError, receivableAccount } from '../../domain/revenue/postings';

import { getContract } from '../contracts';
import { ConflictError } from '../errors';
import type {
  Clock,
  FxRate,
  FxRateStore,
  LedgerStore,
  PeriodAuditRecord,
  PeriodStore,
} from '../ports';
import { appendContractEvents, type ContractOutcome, type SyncDeps } from '../sync';
import { hasRevenue } from './revenue-hook';
import type { RevenueSettings } from './settings';

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

/** Journal pages (of 200) read for a contract's true-ups before a payout is refused. */
const TRUE_UP_SCAN_PAGES_MAX = 50;

/** The net debit of `account` over the contract's reconciliation true-ups. */
async function trueUpBalance(
  ledger: Pick<LedgerStore, 'entries'>,
  contractId: string,
  account: string,
  currency: string,
): Promise<bigint> {
  let balance = 0n;
  let cursor: string | undefined;
  for (let page = 0; page < TRUE_UP_SCAN_PAGES_MAX; page += 1) {
    const result = await ledger.entries(contractId, { limit: 200, cursor });
    for (const entry of result.items) {
      if (entry.rule !== TRUE_UP_RULE) continue;
      for (const leg of entry.legs)
        if (leg.account === account && leg.contractId === contractId && leg.currency === currency)
          balance += leg.debitMinor - leg.creditMinor;
    }
    cursor = result.cursor ?? undefined;
    if (!cursor) break;
  }
  return balance;
}

export interface DisbursementInput extends DisbursementFacts {
  readonly contractId: string;
  readonly disbursementId: string;
  /** What the bank statement shows for the payout (AWS bank_trace_id), when known. */
  readonly bankTraceId?: string | null;
}

/**
 * A payout recorded as a DisbursementReceived event; its entries post in the same commit. What
 * the ledger could not post is refused here, before anything is written: a contract without
 * revenue, a receivable in another currency, a future date, a missing FX rate.
 */
export async function recordDisbursement(
  deps: SyncDeps & { revenue: RevenueSettings; ledger: LedgerStore },
  input: DisbursementInput,
): Promise<ContractOutcome> {
  const contract = await getContract(deps.contracts, input.contractId);
  const eventId = contractEventId(input.contractId, 'DisbursementReceived', input.disbursementId);
  // Idempotent by disbursement id: a retry of a recorded payout changes nothing.
  if ((await deps.contracts.knownEventIds(input.contractId, [eventId])).has(eventId))
    return { contractId: input.contractId, events: [], version: contract.version, rejected: null };
  const problems = disbursementProblems(input, {
    contractCurrency: contract.terms.currency,
    today: dateOfInstant(deps.clock.now()),
  });
  if (problems.length > 0)
    throw new InvalidInputError(
      'invalid_disbursement',
      'The disbursement cannot be posted',
      problems,
    );
  const settlesCurrency = input.settlesCurrency ?? input.currency;
  const functional = deps.revenue.functionalCurrency;
  if (input.currency !== settlesCurrency && input.currency !== functional) {
    await deps.revenue.prepare?.();
    if (deps.revenue.rate(input.date, input.currency, functional) === null)
      throw new MissingFxRateError(input.date, input.currency, functional);
  }
  const book = hasRevenue(contract.status) ? await deps.ledger.book(input.contractId) : null;
  const account = receivableAccount(contract.marketplace);
  let receivable = book ? balanceOf(book, account) : 0n;
  const settles = input.settlesMinor ?? input.amountMinor;
  // Reconciliation true-ups post beside the contract's book: a payout of a trued-up invoice
  // settles them too, so they count before the payout is refused (read only when needed).
  if (book && settles > receivable)
    receivable += await trueUpBalance(deps.ledger, input.contractId, account, settlesCurrency);
  if (settles > receivable) {
    throw new ConflictError(
      'exceeds_receivable',
      `The payout settles ${settles} minor units of ${settlesCurrency}, but ${receivable} is receivable on ${input.contractId}; installments are billed by the daily billing job on their dates`,
    );
  }
  return appendContractEvents(deps, input.contractId, (snapshot) => [
    {
      schemaVersion: 1 as const,
      eventId,
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
        bankTraceId: input.bankTraceId ?? null,
      },
    },
  ]);
}
