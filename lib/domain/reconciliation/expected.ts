/**
 * The internal side of a reconciliation, read back out of the journal: per contract, what the
 * marketplace should have invoiced (installments and usage months, with their fee), the refunds
 * and payouts the ledger recorded, and the marketplace receivable's roll-forward.
 *
 * Read from the posting rules (revenue/book.ts RULE):
 * - `invoice` entries debit the receivable with an installment (source `invoice:<id>`), the
 *   `marketplace-fee` entry of the same source credits it with the fee;
 * - `usage-accrual` entries (source `usage:<YYYY-MM>`) carry what a month's usage should bill
 *   (4100 credits) and its fee (5100 debits); `usage-invoice` entries put it on the receivable;
 * - `refund-settlement` credits the receivable with a refund, `marketplace-fee-refund` debits
 *   it with the fee refunded (source `refund:<id>`);
 * - `disbursement` credits it with a payout (source id = the disbursement id);
 * - `fx-remeasurement` moves its functional amount only.
 *
 * Entries dated after `asOf` are ignored. Entries name no payment due date, so an invoice is due
 * `paymentTermsDays` after its date (30 by default; WE-10); the marketplace's own due date,
 * when its feed has one, replaces it in the aging. Pages of entries can be added one at a time
 * (`createExpectedBuilder`), in any order.
 */
import {
  addDays,
  type CalendarDate,
  calendarDate,
  compareDates,
  type Period,
  periodOf,
  periodStart,
} from '../calendar';
import { InvalidInputError } from '../errors';
import type { AccountCode, JournalEntry, JournalLeg } from '../ledger';
import { RULE } from '../revenue/book';
import {
  DEFAULT_REVENUE_POLICIES,
  presentationFor,
  type RevenuePolicies,
} from '../revenue/policies';
import { usageInvoiceDate } from '../revenue/postings';
import type { Marketplace } from '../schemas/primitives';

/** Contracts one reconciliation holds, and entries one contract may have: guards. */
export const EXPECTED_CONTRACTS_MAX = 1_000_000;
export const EXPECTED_ITEMS_PER_CONTRACT_MAX = 100_000;
/** Default buyer payment terms when nothing says otherwise (WE-10: invoice + 30 days). */
export const DEFAULT_PAYMENT_TERMS_DAYS = 30;

export const RECEIVABLE_ACCOUNTS: Readonly<Record<Marketplace, ReceivableAccount>> = {
  aws: '1210',
  azure: '1211',
  gcp: '1212',
};
export type ReceivableAccount = '1210' | '1211' | '1212';
const MARKETPLACE_OF: Readonly<Record<ReceivableAccount, Marketplace>> = {
  '1210': 'aws',
  '1211': 'azure',
  '1212': 'gcp',
};

function isReceivable(account: AccountCode): account is ReceivableAccount {
  return account === '1210' || account === '1211' || account === '1212';
}

/** How feed rows name a contract (the app reads these from the contract snapshots' refs). */
export interface ContractRef {
  readonly contractId: string;
  readonly marketplace: Marketplace;
  /** Contract-level ids a feed row carries: AWS agreement ids, Azure subscription ids, … */
  readonly keys: readonly string[];
  /** Transaction-level ids known to be the contract's (transaction references, invoice ids). */
  readonly references?: readonly string[];
}

export type ExpectedInvoiceKind = 'installment' | 'usage';

export interface ExpectedInvoice {
  readonly contractId: string;
  /** Our id of it: the entries' source id (`invoice:inst-1-2025-01-01`, `usage:2025-03`). */
  readonly invoiceId: string;
  readonly kind: ExpectedInvoiceKind;
  readonly usagePeriod: Period | null;
  readonly currency: string;
  readonly invoiceDate: CalendarDate;
  readonly dueDate: CalendarDate;
  /** What the marketplace should bill (under net presentation: net of its fee). */
  readonly grossMinor: bigint;
  /** The fee it should keep (0 under net presentation: the ledger never holds it). */
  readonly feeMinor: bigint;
  readonly netPresentation: boolean;
  /** Our invoice is on the receivable; a usage month only accrued (1230) is not yet. */
  readonly invoiced: boolean;
  /** What the receivable holds for it: invoiced amount less its fee. */
  readonly receivableMinor: bigint;
}

export interface ExpectedRefund {
  readonly contractId: string;
  readonly refundId: string;
  readonly date: CalendarDate;
  readonly currency: string;
  /** Taken off the receivable (positive). */
  readonly amountMinor: bigint;
  /** The fee the marketplace gives back on it (positive). */
  readonly feeRefundMinor: bigint;
}

export interface ExpectedDisbursement {
  readonly contractId: string;
  readonly disbursementId: string;
  readonly date: CalendarDate;
  /** The receivable it settled, in the receivable's currency. */
  readonly currency: string;
  readonly settlesMinor: bigint;
  /** The cash received (another currency when the payout converted). */
  readonly cashCurrency: string;
  readonly cashMinor: bigint;
}

export interface ExpectedContract {
  readonly contractId: string;
  readonly marketplace: Marketplace;
  readonly receivableAccount: ReceivableAccount;
  /** The receivable's (transaction) currency. */
  readonly currency: string;
  readonly keys: readonly string[];
  readonly references: readonly string[];
  /** Oldest first (date, then id). */
  readonly invoices: readonly ExpectedInvoice[];
  readonly refunds: readonly ExpectedRefund[];
  readonly disbursements: readonly ExpectedDisbursement[];
  /** The receivable's balance at `asOf`, transaction currency. */
  readonly receivableMinor: bigint;
}

/** One column set of a receivable roll-forward; closing = the formula, exactly. */
export interface ReceivableMovements {
  readonly openingMinor: bigint;
  readonly billedMinor: bigint;
  readonly feesMinor: bigint;
  readonly feeRefundsMinor: bigint;
  readonly refundsMinor: bigint;
  /** Remeasurement (functional only) and anything else FX: signed. */
  readonly fxMinor: bigint;
  readonly disbursedMinor: bigint;
  /** Entries of other rules on the receivable (true-ups, manual entries): signed. */
  readonly otherMinor: bigint;
  readonly closingMinor: bigint;
}

export interface ReceivableRollForward {
  readonly account: ReceivableAccount;
  readonly marketplace: Marketplace;
  readonly currency: string;
  /** Opening balance: entries dated before `from`; movements: `from` … `to`. */
  readonly from: CalendarDate;
  readonly to: CalendarDate;
  readonly transaction: ReceivableMovements;
  readonly functional: ReceivableMovements;
  /** opening + billed − fees + fee refunds − refunds ± FX − disbursed ± other = Σ the legs. */
  readonly ties: boolean;
}

export interface ExpectedLedger {
  readonly asOf: CalendarDate;
  readonly functionalCurrency: string | null;
  /** Sorted by contract id. */
  readonly contracts: readonly ExpectedContract[];
  readonly rollForward: readonly ReceivableRollForward[];
}

export interface ExpectedOptions {
  readonly asOf: CalendarDate;
  /** How feed rows name the contracts; contracts without entries may be listed too. */
  readonly contracts?: readonly ContractRef[];
  /** Presentation per marketplace, usage invoice day, unbilled account (revenue policies). */
  readonly policies?: RevenuePolicies;
  readonly paymentTermsDays?: number;
  /** First day of the roll-forward; default: the first day of asOf's month. */
  readonly openingDate?: CalendarDate;
  /** Only this marketplace's receivable. */
  readonly marketplace?: Marketplace;
}

interface InvoiceAcc {
  kind: ExpectedInvoiceKind;
  date: CalendarDate | null;
  invoicedGross: bigint;
  invoicedFee: bigint;
  invoiced: boolean;
  accruedGross: bigint;
  accruedFee: bigint;
  accrued: boolean;
}

interface RefundAcc {
  date: CalendarDate;
  amount: bigint;
  fee: bigint;
}

interface ContractAcc {
  readonly contractId: string;
  account: ReceivableAccount | null;
  currency: string | null;
  readonly invoices: Map<string, InvoiceAcc>;
  readonly refunds: Map<string, RefundAcc>;
  readonly disbursements: Map<
    string,
    { date: CalendarDate; settles: bigint; cash: Map<string, bigint> }
  >;
  receivable: bigint;
  items: number;
}

type Column = 'billed' | 'fees' | 'feeRefunds' | 'refunds' | 'fx' | 'disbursed' | 'other';

interface Sums {
  opening: bigint;
  billed: bigint;
  fees: bigint;
  feeRefunds: bigint;
  refunds: bigint;
  fx: bigint;
  disbursed: bigint;
  other: bigint;
  legs: bigint;
}

const zeroSums = (): Sums => ({
  opening: 0n,
  billed: 0n,
  fees: 0n,
  feeRefunds: 0n,
  refunds: 0n,
  fx: 0n,
  disbursed: 0n,
  other: 0n,
  legs: 0n,
});

/** Sign of a leg's net debit in a column (columns are shown positive). */
const COLUMN_SIGN: Readonly<Record<Column, 1n | -1n>> = {
  billed: 1n,
  fees: -1n,
  feeRefunds: 1n,
  refunds: -1n,
  fx: 1n,
  disbursed: -1n,
  other: 1n,
};

function columnOf(rule: string, leg: JournalLeg): Column {
  switch (rule) {
    case RULE.invoice:
      return 'billed';
    case RULE.usageInvoice:
      return leg.debitMinor > 0n || leg.functionalDebitMinor > 0n ? 'billed' : 'fees';
    case RULE.fee:
      return 'fees';
    case RULE.feeRefund:
      return 'feeRefunds';
    case RULE.refundSettlement:
      return 'refunds';
    case RULE.disbursement:
      return 'disbursed';
    case RULE.fxRemeasurement:
      return 'fx';
    default:
      return 'other';
  }
}

const USAGE_SOURCE = /^usage:(\d{4}-\d{2})$/;

export interface ExpectedBuilder {
  add(entries: Iterable<JournalEntry>): void;
  finish(): ExpectedLedger;
}

/** Builds the expected side from pages of journal entries (any order, any paging). */
export function createExpectedBuilder(options: ExpectedOptions): ExpectedBuilder {
  const asOf = calendarDate(options.asOf);
  const policies = options.policies ?? DEFAULT_REVENUE_POLICIES;
  const terms = options.paymentTermsDays ?? DEFAULT_PAYMENT_TERMS_DAYS;
  if (!Number.isInteger(terms) || terms < 0 || terms > 3_650) {
    throw new InvalidInputError('invalid_terms', `Payment terms must be 0–3650 days (${terms})`);
  }
  const openingDate = calendarDate(options.openingDate ?? periodStart(periodOf(asOf)));
  const contracts = new Map<string, ContractAcc>();
  const rollForward = new Map<
    string,
    { account: ReceivableAccount; currency: string; tx: Sums; fn: Sums }
  >();
  let functionalCurrency: string | null = null;

  const contractAcc = (contractId: string): ContractAcc => {
    let acc = contracts.get(contractId);
    if (!acc) {
      if (contracts.size >= EXPECTED_CONTRACTS_MAX) {
        throw new InvalidInputError(
          'too_many_contracts',
          `A reconciliation holds at most ${EXPECTED_CONTRACTS_MAX} contracts`,
        );
      }
      acc = {
        contractId,
        account: null,
        currency: null,
        invoices: new Map(),
        refunds: new Map(),
        disbursements: new Map(),
        receivable: 0n,
        items: 0,
      };
      contracts.set(contractId, acc);
    }
    return acc;
  };
  const counted = (acc: ContractAcc) => {
    acc.items += 1;
    if (acc.items > EXPECTED_ITEMS_PER_CONTRACT_MAX) {
      throw new InvalidInputError(
        'too_many_entries',
        `Contract ${acc.contractId} has more than ${EXPECTED_ITEMS_PER_CONTRACT_MAX} entries`,
      );
    }
  };
  const invoiceAcc = (acc: ContractAcc, id: string, kind: ExpectedInvoiceKind): InvoiceAcc => {
    let invoice = acc.invoices.get(id);
    if (!invoice) {
      invoice = {
        kind,
        date: null,
        invoicedGross: 0n,
        invoicedFee: 0n,
        invoiced: false,
        accruedGross: 0n,
        accruedFee: 0n,
        accrued: false,
      };
      acc.invoices.set(id, invoice);
    }
    return invoice;
  };

  const addEntry = (entry: JournalEntry): void => {
    if (compareDates(entry.date, asOf) > 0) return;
    functionalCurrency ??= entry.functionalCurrency;
    const rule = entry.rule;
    const source = entry.source.id;
    // Usage accrual: what the month should bill, from the revenue and fee legs.
    if (rule === RULE.usageAccrual) {
      const period = USAGE_SOURCE.exec(source)?.[1];
      if (period === undefined) return;
      for (const leg of entry.legs) {
        if (leg.contractId === null) continue;
        if (leg.account !== '4100' && leg.account !== '5100') continue;
        const acc = contractAcc(leg.contractId);
        counted(acc);
        const invoice = invoiceAcc(acc, source, 'usage');
        invoice.accrued = true;
        if (leg.account === '4100') {
          invoice.accruedGross += leg.creditMinor - leg.debitMinor;
          acc.currency ??= leg.currency;
        } else invoice.accruedFee += leg.debitMinor - leg.creditMinor;
      }
      return;
    }
    for (const leg of entry.legs) {
      if (!isReceivable(leg.account) || leg.contractId === null) continue;
      if (options.marketplace && MARKETPLACE_OF[leg.account] !== options.marketplace) continue;
      const acc = contractAcc(leg.contractId);
      counted(acc);
      acc.account ??= leg.account;
      acc.currency ??= leg.currency;
      const net = leg.debitMinor - leg.creditMinor;
      acc.receivable += net;
      // Roll-forward, per account and transaction currency.
      const key = `${leg.account}\u0000${leg.currency}`;
      let rf = rollForward.get(key);
      if (!rf) {
        rf = { account: leg.account, currency: leg.currency, tx: zeroSums(), fn: zeroSums() };
        rollForward.set(key, rf);
      }
      const fnNet = leg.functionalDebitMinor - leg.functionalCreditMinor;
      rf.tx.legs += net;
      rf.fn.legs += fnNet;
      if (compareDates(entry.date, openingDate) < 0) {
        rf.tx.opening += net;
        rf.fn.opening += fnNet;
      } else {
        const column = columnOf(rule, leg);
        rf.tx[column] += COLUMN_SIGN[column] * net;
        rf.fn[column] += COLUMN_SIGN[column] * fnNet;
      }
      // Items.
      if (rule === RULE.invoice || rule === RULE.fee) {
        const invoice = invoiceAcc(acc, source, 'installment');
        if (rule === RULE.invoice) {
          invoice.invoiced = true;
          invoice.invoicedGross += net;
          if (invoice.date === null || compareDates(entry.date, invoice.date) < 0) {
            invoice.date = entry.date;
          }
        } else invoice.invoicedFee -= net;
      } else if (rule === RULE.usageInvoice) {
        if (!USAGE_SOURCE.test(source)) continue;
        const invoice = invoiceAcc(acc, source, 'usage');
        invoice.invoiced = true;
        if (net > 0n) invoice.invoicedGross += net;
        else invoice.invoicedFee -= net;
        if (invoice.date === null || compareDates(entry.date, invoice.date) < 0) {
          invoice.date = entry.date;
        }
      } else if (rule === RULE.refundSettlement || rule === RULE.feeRefund) {
        const refund = acc.refunds.get(source) ?? { date: entry.date, amount: 0n, fee: 0n };
        if (rule === RULE.refundSettlement) refund.amount -= net;
        else refund.fee += net;
        if (compareDates(entry.date, refund.date) < 0) refund.date = entry.date;
        acc.refunds.set(source, refund);
      } else if (rule === RULE.disbursement) {
        const payout = acc.disbursements.get(source) ?? {
          date: entry.date,
          settles: 0n,
          cash: new Map<string, bigint>(),
        };
        payout.settles -= net;
        acc.disbursements.set(source, payout);
      }
    }
    if (rule === RULE.disbursement) {
      // The cash leg (1000) of the payout, in the currency it arrived in.
      for (const leg of entry.legs) {
        if (leg.account !== '1000' || leg.contractId === null) continue;
        const payout = contracts.get(leg.contractId)?.disbursements.get(source);
        if (!payout) continue;
        payout.cash.set(
          leg.currency,
          (payout.cash.get(leg.currency) ?? 0n) + leg.debitMinor - leg.creditMinor,
        );
      }
    }
  };

  return {
    add(entries) {
      for (const entry of entries) addEntry(entry);
    },
    finish() {
      const refs = new Map<string, ContractRef>();
      for (const ref of options.contracts ?? []) {
        if (options.marketplace && ref.marketplace !== options.marketplace) continue;
        refs.set(ref.contractId, ref);
        contractAcc(ref.contractId);
      }
      const out: ExpectedContract[] = [];
      for (const acc of contracts.values()) {
        const ref = refs.get(acc.contractId);
        const marketplace: Marketplace | null =
          ref?.marketplace ?? (acc.account ? MARKETPLACE_OF[acc.account] : null);
        if (marketplace === null) continue;
        if (options.marketplace && marketplace !== options.marketplace) continue;
        const account = acc.account ?? RECEIVABLE_ACCOUNTS[marketplace];
        const currency = acc.currency ?? 'USD';
        const net = presentationFor(policies, marketplace) === 'net';
        const invoices: ExpectedInvoice[] = [];
        for (const [invoiceId, inv] of acc.invoices) {
          const usagePeriod =
            inv.kind === 'usage' ? (USAGE_SOURCE.exec(invoiceId)?.[1] ?? null) : null;
          const date =
            inv.date ?? (usagePeriod !== null ? usageInvoiceDate(policies, usagePeriod) : null);
          if (date === null) continue;
          const grossMinor = inv.accrued ? inv.accruedGross : inv.invoicedGross;
          const feeMinor = net ? 0n : inv.accrued ? inv.accruedFee : inv.invoicedFee;
          if (!inv.invoiced && !inv.accrued) continue;
          if (grossMinor === 0n && feeMinor === 0n && !inv.invoiced) continue;
          invoices.push({
            contractId: acc.contractId,
            invoiceId,
            kind: inv.kind,
            usagePeriod,
            currency,
            invoiceDate: date,
            dueDate: addDays(date, terms),
            grossMinor,
            feeMinor,
            netPresentation: net,
            invoiced: inv.invoiced,
            receivableMinor: inv.invoicedGross - inv.invoicedFee,
          });
        }
        invoices.sort(
          (a, b) => compareDates(a.invoiceDate, b.invoiceDate) || byText(a.invoiceId, b.invoiceId),
        );
        const refunds: ExpectedRefund[] = [...acc.refunds]
          .map(([refundId, r]) => ({
            contractId: acc.contractId,
            refundId,
            date: r.date,
            currency,
            amountMinor: r.amount,
            feeRefundMinor: r.fee,
          }))
          .sort((a, b) => compareDates(a.date, b.date) || byText(a.refundId, b.refundId));
        const disbursements: ExpectedDisbursement[] = [...acc.disbursements]
          .map(([disbursementId, d]) => {
            const [cashCurrency, cashMinor] = [...d.cash].find(([, v]) => v !== 0n) ?? [
              currency,
              d.settles,
            ];
            return {
              contractId: acc.contractId,
              disbursementId,
              date: d.date,
              currency,
              settlesMinor: d.settles,
              cashCurrency,
              cashMinor,
            };
          })
          .sort(
            (a, b) => compareDates(a.date, b.date) || byText(a.disbursementId, b.disbursementId),
          );
        out.push({
          contractId: acc.contractId,
          marketplace,
          receivableAccount: account,
          currency,
          keys: ref?.keys ?? [],
          references: ref?.references ?? [],
          invoices,
          refunds,
          disbursements,
          receivableMinor: acc.receivable,
        });
      }
      out.sort((a, b) => byText(a.contractId, b.contractId));
      const movements = (s: Sums): ReceivableMovements => ({
        openingMinor: s.opening,
        billedMinor: s.billed,
        feesMinor: s.fees,
        feeRefundsMinor: s.feeRefunds,
        refundsMinor: s.refunds,
        fxMinor: s.fx,
        disbursedMinor: s.disbursed,
        otherMinor: s.other,
        closingMinor: s.legs,
      });
      const formula = (s: Sums) =>
        s.opening + s.billed - s.fees + s.feeRefunds - s.refunds + s.fx - s.disbursed + s.other;
      const lines: ReceivableRollForward[] = [...rollForward.values()]
        .map((rf) => ({
          account: rf.account,
          marketplace: MARKETPLACE_OF[rf.account],
          currency: rf.currency,
          from: openingDate,
          to: asOf,
          transaction: movements(rf.tx),
          functional: movements(rf.fn),
          ties: formula(rf.tx) === rf.tx.legs && formula(rf.fn) === rf.fn.legs,
        }))
        .sort((a, b) => byText(a.account, b.account) || byText(a.currency, b.currency));
      return { asOf, functionalCurrency, contracts: out, rollForward: lines };
    },
  };
}

/** The expected side of a whole journal (or one marketplace's part of it). */
export function expectedItemsFromEntries(
  entries: Iterable<JournalEntry>,
  options: ExpectedOptions,
): ExpectedLedger {
  const builder = createExpectedBuilder(options);
  builder.add(entries);
  return builder.finish();
}

export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
