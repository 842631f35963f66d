/**
 * A contract's sub-ledger: the running totals of every account it touched, and what usage was
 * accrued and invoiced per month. It is a pure fold over the contract's journal entries — the
 * stored copy is a cache that the entries can always rebuild — and the contract's position
 * (billed − recognized = deferred − unbilled) is read from it.
 */

import type { Period } from '../calendar';
import type { AccountCode, JournalEntry } from '../ledger';

export interface AccountTotals {
  readonly debitMinor: bigint;
  readonly creditMinor: bigint;
  readonly functionalDebitMinor: bigint;
  readonly functionalCreditMinor: bigint;
}

export interface UsageMonth {
  readonly accruedMinor: bigint;
  readonly feeAccruedMinor: bigint;
  readonly invoicedMinor: bigint;
  readonly feeInvoicedMinor: bigint;
}

export interface ContractBook {
  readonly contractId: string;
  readonly accounts: Readonly<Partial<Record<AccountCode, AccountTotals>>>;
  readonly usage: Readonly<Record<Period, UsageMonth>>;
  /** Invoices posted (their ids): the billing job bills each installment once. */
  readonly invoiceIds: readonly string[];
  /** The latest month a recognition entry was posted for: earlier months are closed. */
  readonly recognizedThrough: Period | null;
  /** Entries folded in (their count): the optimistic-lock version of the stored book. */
  readonly entryCount: number;
}

export const RULE = {
  invoice: 'invoice',
  fee: 'marketplace-fee',
  recognition: 'recognition',
  usageAccrual: 'usage-accrual',
  usageInvoice: 'usage-invoice',
  disbursement: 'disbursement',
  fxRemeasurement: 'fx-remeasurement',
  refund: 'refund',
  refundSettlement: 'refund-settlement',
  feeRefund: 'marketplace-fee-refund',
} as const;
export const RULE_VERSION = 1;

const ZERO_TOTALS: AccountTotals = {
  debitMinor: 0n,
  creditMinor: 0n,
  functionalDebitMinor: 0n,
  functionalCreditMinor: 0n,
};
const ZERO_USAGE: UsageMonth = {
  accruedMinor: 0n,
  feeAccruedMinor: 0n,
  invoicedMinor: 0n,
  feeInvoicedMinor: 0n,
};

export function emptyBook(contractId: string): ContractBook {
  return {
    contractId,
    accounts: {},
    usage: {},
    invoiceIds: [],
    recognizedThrough: null,
    entryCount: 0,
  };
}

/** The usage month an entry is about: its source id is `usage:<YYYY-MM>`. */
export function usagePeriodOf(entry: JournalEntry): Period | null {
  const match = /^usage:(\d{4}-\d{2})$/.exec(entry.source.id);
  return match?.[1] ?? null;
}

/** Folds one entry into the book (only its legs for this contract). */
export function applyEntry(book: ContractBook, entry: JournalEntry): ContractBook {
  const accounts: Partial<Record<AccountCode, AccountTotals>> = { ...book.accounts };
  let revenueUsage = 0n;
  let feeExpense = 0n;
  let receivableDebit = 0n;
  let accruedFeeRelease = 0n;
  for (const leg of entry.legs) {
    if (leg.contractId !== book.contractId) continue;
    const current = accounts[leg.account] ?? ZERO_TOTALS;
    accounts[leg.account] = {
      debitMinor: current.debitMinor + leg.debitMinor,
      creditMinor: current.creditMinor + leg.creditMinor,
      functionalDebitMinor: current.functionalDebitMinor + leg.functionalDebitMinor,
      functionalCreditMinor: current.functionalCreditMinor + leg.functionalCreditMinor,
    };
    if (leg.account === '4100') revenueUsage += leg.creditMinor - leg.debitMinor;
    if (leg.account === '5100') feeExpense += leg.debitMinor - leg.creditMinor;
    if (leg.account.startsWith('121')) receivableDebit += leg.debitMinor;
    if (leg.account === '2200') accruedFeeRelease += leg.debitMinor;
  }
  let usage = book.usage;
  const period = usagePeriodOf(entry);
  if (period !== null) {
    const month = book.usage[period] ?? ZERO_USAGE;
    if (entry.rule === RULE.usageAccrual) {
      usage = {
        ...usage,
        [period]: {
          ...month,
          accruedMinor: month.accruedMinor + revenueUsage,
          feeAccruedMinor: month.feeAccruedMinor + feeExpense,
        },
      };
    } else if (entry.rule === RULE.usageInvoice) {
      usage = {
        ...usage,
        [period]: {
          ...month,
          invoicedMinor: month.invoicedMinor + receivableDebit,
          feeInvoicedMinor: month.feeInvoicedMinor + accruedFeeRelease,
        },
      };
    }
  }
  const invoiceId =
    entry.rule === RULE.invoice && entry.source.id.startsWith('invoice:')
      ? entry.source.id.slice('invoice:'.length)
      : null;
  const invoiceIds =
    invoiceId !== null && !book.invoiceIds.includes(invoiceId)
      ? [...book.invoiceIds, invoiceId]
      : book.invoiceIds;
  const recognized = /^recognition:(\d{4}-\d{2})$/.exec(entry.source.id)?.[1] ?? null;
  const recognizedThrough =
    entry.rule === RULE.recognition &&
    recognized !== null &&
    (book.recognizedThrough === null || recognized > book.recognizedThrough)
      ? recognized
      : book.recognizedThrough;
  return {
    contractId: book.contractId,
    accounts,
    usage,
    invoiceIds,
    recognizedThrough,
    entryCount: book.entryCount + 1,
  };
}

export function bookFromEntries(contractId: string, entries: Iterable<JournalEntry>): ContractBook {
  let book = emptyBook(contractId);
  for (const entry of entries) book = applyEntry(book, entry);
  return book;
}

/** Debit balance of an account (credit balances are negative). */
export function balanceOf(book: ContractBook, account: AccountCode): bigint {
  const totals = book.accounts[account];
  return totals ? totals.debitMinor - totals.creditMinor : 0n;
}

export function functionalBalanceOf(book: ContractBook, account: AccountCode): bigint {
  const totals = book.accounts[account];
  return totals ? totals.functionalDebitMinor - totals.functionalCreditMinor : 0n;
}

export interface ContractPosition {
  /** Billed to date (invoices, net of credits). */
  readonly billedMinor: bigint;
  /** Recognized to date: subscription and usage revenue. */
  readonly recognizedMinor: bigint;
  readonly recognizedSubscriptionMinor: bigint;
  /** Contract liability (2400) when billed exceeds recognized. */
  readonly deferredMinor: bigint;
  /** Unbilled receivable (1230) or contract asset (1240) when recognized exceeds billed. */
  readonly unbilledMinor: bigint;
  /** Marketplace fees incurred: expensed (5100) plus capitalized and not yet amortized (1400). */
  readonly feesMinor: bigint;
}

export function positionOf(book: ContractBook): ContractPosition {
  const recognizedSubscription = -balanceOf(book, '4000');
  const recognized = recognizedSubscription - balanceOf(book, '4100');
  const deferred = -balanceOf(book, '2400');
  const unbilled = balanceOf(book, '1230') + balanceOf(book, '1240');
  return {
    billedMinor: recognized + deferred - unbilled,
    recognizedMinor: recognized,
    recognizedSubscriptionMinor: recognizedSubscription,
    deferredMinor: deferred,
    unbilledMinor: unbilled,
    feesMinor: balanceOf(book, '5100') + balanceOf(book, '1400'),
  };
}
