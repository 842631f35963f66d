/** Read models of a contract's revenue: its schedule versions, position, usage and billing. */

import type { Period } from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import { type ContractPosition, emptyBook, positionOf } from '../../domain/revenue/book';
import { feeRateOf, installmentInvoiceId } from '../../domain/revenue/postings';
import { getContract } from '../contracts';
import type { ContractStore, LedgerStore, RevenueIssue } from '../ports';
import { postingContext } from './revenue-hook';
import type { RevenueSettings } from './settings';

export interface RevenueScheduleView {
  readonly contractId: string;
  readonly currency: string | null;
  readonly functionalCurrency: string;
  readonly issue: RevenueIssue | null;
  /** Refunds authorized so far, and the day access ended (a cancellation), if any. */
  readonly refundedMinor: bigint;
  readonly cancelledOn: string | null;
  readonly current: {
    readonly version: number;
    readonly totalMinor: bigint;
    readonly service: { readonly start: string; readonly end: string };
    readonly contractVersion: number;
    readonly createdAt: string;
    readonly lines: {
      period: Period;
      days: number;
      recognizedMinor: bigint;
      cumulativeMinor: bigint;
    }[];
  } | null;
  readonly versions: {
    version: number;
    totalMinor: bigint;
    service: { start: string; end: string };
    contractVersion: number;
    createdAt: string;
  }[];
  readonly position: ContractPosition;
  readonly installments: {
    date: string;
    amountMinor: bigint;
    invoiceId: string;
    billed: boolean;
  }[];
  readonly usage: {
    period: Period;
    accruedMinor: bigint;
    feeAccruedMinor: bigint;
    invoicedMinor: bigint;
    feeInvoicedMinor: bigint;
  }[];
  readonly feeRule: { ruleId: string; rate: string; tableVersion: string } | null;
}

export async function revenueScheduleView(
  deps: { contracts: ContractStore; ledger: LedgerStore; revenue: RevenueSettings },
  contractId: string,
): Promise<RevenueScheduleView> {
  await getContract(deps.contracts, contractId); // 404 for an unknown contract
  await deps.revenue.prepare?.();
  const [schedules, book, issue] = await Promise.all([
    deps.ledger.schedules(contractId),
    deps.ledger.book(contractId),
    deps.ledger.revenueIssue(contractId),
  ]);
  const latest = schedules.at(-1) ?? null;
  const current = book ?? emptyBook(contractId);
  let feeRule: RevenueScheduleView['feeRule'] = null;
  if (latest) {
    try {
      const rate = feeRateOf(postingContext(deps.revenue, latest.contract));
      feeRule = { ruleId: rate.ruleId, rate: rate.rateText, tableVersion: rate.tableVersion };
    } catch (error) {
      // No fee rule (or no rate to band a foreign-currency TCV): shown as no rule, not a 500.
      if (!(error instanceof InvalidInputError)) throw error;
    }
  }
  return {
    contractId,
    currency: latest?.contract.currency ?? null,
    functionalCurrency: deps.revenue.functionalCurrency,
    issue,
    refundedMinor: latest?.refundedMinor ?? 0n,
    cancelledOn: latest?.cancelledOn ?? null,
    current: latest
      ? {
          version: latest.schedule.version,
          totalMinor: latest.schedule.totalMinor,
          service: latest.schedule.service,
          contractVersion: latest.contractVersion,
          createdAt: latest.createdAt,
          lines: [...latest.schedule.lines],
        }
      : null,
    versions: schedules.map((s) => ({
      version: s.schedule.version,
      totalMinor: s.schedule.totalMinor,
      service: s.schedule.service,
      contractVersion: s.contractVersion,
      createdAt: s.createdAt,
    })),
    position: positionOf(current),
    installments: (latest?.contract.installments ?? []).map((installment, index) => {
      const invoiceId = installmentInvoiceId(index, installment.date);
      return { ...installment, invoiceId, billed: current.invoiceIds.includes(invoiceId) };
    }),
    usage: Object.entries(current.usage)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([period, month]) => ({ period, ...month })),
    feeRule,
  };
}
