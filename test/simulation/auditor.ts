/**
 * The auditor: a deliberately simple, separately written model of what the stored state must be,
 * rebuilt only from what happened (the history and the scheduled runs), with plain bigint
 * arithmetic. It does not import the revenue, commission or app code it checks.
 */
import { addDays, daysBetween, minDate, periodEndExclusive } from './dates';
import { type AgreementSpec, type Marketplace, SELLER_ACCOUNT, type Truth } from './generator';

/** What the auditor reads back from the store, per contract. */
export interface StoredContractView {
  readonly status: string;
  readonly version: number;
  readonly plan: string | null;
  readonly quantity: number | null;
  readonly replacesContractId: string | null;
  readonly termStart: string;
  readonly termEnd: string | null;
  readonly events: readonly { type: string; eventId: string; version: number; payload: unknown }[];
  readonly entries: readonly StoredEntry[];
}

export interface StoredEntry {
  readonly entryId: string;
  readonly date: string;
  readonly postingPeriod: string;
  readonly legs: readonly {
    account: string;
    currency: string;
    debitMinor: bigint;
    creditMinor: bigint;
    functionalDebitMinor: bigint;
    functionalCreditMinor: bigint;
  }[];
}

interface Expected {
  readonly marketplace: Marketplace;
  /** AWS agreements only: what was sold (Azure and Google Cloud carry no price). */
  readonly spec: AgreementSpec | null;
  readonly contractId: string;
  /** The contract this one renews (its id), if any. */
  readonly replaces: string | null;
  total: bigint;
  exists: boolean;
  status: Truth['status'];
  plan: string | null;
  quantity: number | null;
  start: string;
  end: string | null;
  billed: Map<string, bigint>;
  refunds: Map<string, bigint>;
  disbursed: Map<string, bigint>;
  /** Last month closed by a recognition run while the contract existed. */
  recognizedThrough: string | null;
  /** Usage posted and reported: hour start (ISO) → quantity (usage-priced AWS agreements). */
  usage: Map<string, bigint>;
}

export const AWS_PRIVATE_FEE = { num: 3n, den: 100n };
/** README: AWS renewals pay 1.5 %. */
export const AWS_RENEWAL_FEE = { num: 15n, den: 1000n };

/** round half even of n/d (d > 0). */
export function halfEven(n: bigint, d: bigint): bigint {
  const negative = n < 0n;
  const a = negative ? -n : n;
  let q = a / d;
  const r = a % d;
  if (2n * r > d || (2n * r === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** round half up of n/d (n >= 0, d > 0): how AWS rounds its fee. */
export function halfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

function sum(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

/** README: the marketplace invoices a month's usage on the 3rd of the next month. */
export function usageInvoiceDate(period: string): string {
  return addDays(periodEndExclusive(period), 2);
}

export class Auditor {
  readonly contracts = new Map<string, Expected>();
  /** The last day the billing job ran (usage invoices are due on the 3rd). */
  private lastBillingRun: string | null = null;

  constructor(
    private readonly contractIdOf: (spec: AgreementSpec) => string,
    /**
     * The fee rate expected on AWS renewals (README: 1.5 %), or null to leave renewals' fees and
     * receivable unchecked: the service books them at 3 % today (see the report).
     */
    private readonly renewalFee: { num: bigint; den: bigint } | null = AWS_RENEWAL_FEE,
  ) {}

  agreementCreated(spec: AgreementSpec): void {
    const previous = spec.previousAgreementId
      ? this.contracts.get(spec.previousAgreementId)
      : undefined;
    this.contracts.set(spec.agreementId, {
      marketplace: 'aws',
      spec,
      contractId: this.contractIdOf(spec),
      replaces: previous?.contractId ?? null,
      total: sum(spec.installments.map((i) => i.amountMinor)),
      exists: false,
      status: 'active',
      plan: null,
      quantity: null,
      start: spec.start,
      end: spec.end,
      billed: new Map(),
      refunds: new Map(),
      disbursed: new Map(),
      recognizedThrough: null,
      usage: new Map(),
    });
  }

  /** An Azure subscription or a Google Cloud entitlement the marketplace now holds. */
  subjectCreated(id: string, marketplace: 'azure' | 'gcp', contractId: string, truth: Truth): void {
    this.contracts.set(id, {
      marketplace,
      spec: null,
      contractId,
      replaces: null,
      total: 0n,
      exists: false,
      status: truth.status,
      plan: truth.plan,
      quantity: truth.quantity,
      start: truth.start,
      end: truth.end,
      billed: new Map(),
      refunds: new Map(),
      disbursed: new Map(),
      recognizedThrough: null,
      usage: new Map(),
    });
  }

  /** A notification about the subject reached the service, which re-read the marketplace. */
  synced(id: string, truth: Truth): void {
    const c = this.contracts.get(id);
    if (!c) return;
    c.exists = true;
    c.status = truth.status;
    c.plan = truth.plan;
    c.quantity = truth.quantity;
    c.start = truth.start;
    c.end = truth.end;
  }

  /** An hour of usage the product posted (the flush has reported it). */
  usagePosted(agreementId: string, hour: string, quantity: bigint): void {
    const c = this.contracts.get(agreementId);
    if (c) c.usage.set(hour, (c.usage.get(hour) ?? 0n) + quantity);
  }

  /**
   * What the marketplace received (`license|dimension|hour` → quantity) against the model:
   * every posted hour exactly once with its exact total, nothing else.
   */
  compareMetered(held: ReadonlyMap<string, bigint>): string[] {
    const problems: string[] = [];
    const expected = new Map<string, bigint>();
    for (const c of this.contracts.values()) {
      if (!c.spec?.usage) continue;
      const license = `arn:aws:license-manager::${SELLER_ACCOUNT}:license:${c.spec.licenseId}`;
      for (const [hour, quantity] of c.usage)
        expected.set(`${license}|${c.spec.usage.dimension}|${hour}`, quantity);
    }
    for (const [key, quantity] of expected) {
      const got = held.get(key);
      if (got !== quantity)
        problems.push(
          `marketplace metered ${String(got ?? 'nothing')} for ${key}, expected ${quantity}`,
        );
    }
    for (const key of held.keys())
      if (!expected.has(key)) problems.push(`marketplace metered ${key}, which nobody posted`);
    return problems;
  }

  /** Usage per month: amount at the unit price and its fee, accrued / invoiced so far. */
  private usageOf(c: Expected): {
    revenue: bigint;
    feeAccrued: bigint;
    invoiced: bigint;
    feeInvoiced: bigint;
  } {
    const out = { revenue: 0n, feeAccrued: 0n, invoiced: 0n, feeInvoiced: 0n };
    if (!c.spec?.usage || c.recognizedThrough === null) return out;
    const months = new Map<string, bigint>();
    for (const [hour, quantity] of c.usage)
      months.set(hour.slice(0, 7), (months.get(hour.slice(0, 7)) ?? 0n) + quantity);
    for (const [period, quantity] of months) {
      if (period > c.recognizedThrough) continue;
      const amount = quantity * c.spec.usage.unitPriceMinor;
      const fee = halfUp(amount * AWS_PRIVATE_FEE.num, AWS_PRIVATE_FEE.den);
      out.revenue += amount;
      out.feeAccrued += fee;
      if (this.lastBillingRun !== null && usageInvoiceDate(period) <= this.lastBillingRun) {
        out.invoiced += amount;
        out.feeInvoiced += fee;
      }
    }
    return out;
  }

  refunded(agreementId: string, refundId: string, amountMinor: bigint): void {
    this.contracts.get(agreementId)?.refunds.set(refundId, amountMinor);
  }

  disbursed(agreementId: string, disbursementId: string, amountMinor: bigint): void {
    this.contracts.get(agreementId)?.disbursed.set(disbursementId, amountMinor);
  }

  /** The daily billing job ran on `date`: every installment due by then (within the term). */
  billingRan(date: string): void {
    if (this.lastBillingRun === null || date > this.lastBillingRun) this.lastBillingRun = date;
    for (const c of this.contracts.values()) {
      if (!c.exists || !c.spec) continue;
      for (const i of c.spec.installments)
        if (i.date <= date && (c.end === null || i.date < c.end))
          c.billed.set(i.date, i.amountMinor);
    }
  }

  /** Whether a billing run on `date` would bill anything the model has not billed yet. */
  billingDue(date: string): boolean {
    for (const c of this.contracts.values()) {
      if (!c.exists || !c.spec) continue;
      // A month's usage the marketplace invoices by now, not yet seen by a billing run.
      if (c.recognizedThrough !== null)
        for (const hour of c.usage.keys()) {
          const invoiceOn = usageInvoiceDate(hour.slice(0, 7));
          if (
            hour.slice(0, 7) <= c.recognizedThrough &&
            invoiceOn <= date &&
            (this.lastBillingRun === null || invoiceOn > this.lastBillingRun)
          )
            return true;
        }
      for (const i of c.spec.installments)
        if (i.date <= date && (c.end === null || i.date < c.end) && !c.billed.has(i.date))
          return true;
    }
    return false;
  }

  recognitionRan(period: string): void {
    for (const c of this.contracts.values())
      if (c.exists && (c.recognizedThrough === null || period > c.recognizedThrough))
        c.recognizedThrough = period;
  }

  expectedExists(agreementId: string): boolean {
    return this.contracts.get(agreementId)?.exists ?? false;
  }

  contractIdFor(agreementId: string): string | null {
    return this.contracts.get(agreementId)?.contractId ?? null;
  }

  /** Straight-line recognized revenue through the last closed month (cumulative half-even). */
  straightLine(c: Expected): bigint {
    if (c.recognizedThrough === null || !c.spec || c.end === null) return 0n;
    const through = minDate(c.end, periodEndExclusive(c.recognizedThrough));
    const days = daysBetween(c.spec.start, through);
    if (days <= 0) return 0n;
    const term = BigInt(daysBetween(c.spec.start, c.spec.end));
    return halfEven(c.total * BigInt(days), term);
  }

  /** Every difference between the model and what is stored for one agreement's contract. */
  compare(agreementId: string, stored: StoredContractView | null): string[] {
    const c = this.contracts.get(agreementId);
    if (!c) return [];
    const problems: string[] = [];
    const where = `contract ${c.contractId} (agreement ${agreementId})`;
    if (!c.exists) {
      if (stored) problems.push(`${where} exists but no notification about it was delivered`);
      return problems;
    }
    if (!stored) return [`${where} is missing`];
    if (stored.status !== c.status)
      problems.push(`${where} status ${stored.status}, expected ${c.status}`);
    if (stored.termStart !== c.start)
      problems.push(`${where} term start ${stored.termStart}, expected ${c.start}`);
    if (stored.termEnd !== c.end)
      problems.push(`${where} term end ${String(stored.termEnd)}, expected ${String(c.end)}`);
    if (stored.plan !== c.plan)
      problems.push(`${where} plan ${String(stored.plan)}, expected ${String(c.plan)}`);
    if (stored.quantity !== c.quantity)
      problems.push(`${where} quantity ${String(stored.quantity)}, expected ${String(c.quantity)}`);
    if (stored.replacesContractId !== c.replaces)
      problems.push(
        `${where} replaces ${String(stored.replacesContractId)}, expected ${String(c.replaces)}`,
      );
    if (!c.spec) {
      // Azure and Google Cloud carry no price: nothing is billed or posted.
      if (stored.entries.length > 0)
        problems.push(`${where} has ${stored.entries.length} journal entries, expected none`);
      const money = stored.events.filter((e) =>
        ['InvoiceIssued', 'RefundIssued', 'DisbursementReceived'].includes(e.type),
      );
      if (money.length > 0) problems.push(`${where} has money events, expected none`);
      return problems;
    }
    const spec = c.spec;

    const balances = new Map<string, bigint>();
    for (const entry of stored.entries)
      for (const leg of entry.legs)
        balances.set(
          leg.account,
          (balances.get(leg.account) ?? 0n) + leg.debitMinor - leg.creditMinor,
        );
    const debit = (account: string) => balances.get(account) ?? 0n;

    const billed = sum(c.billed.values());
    const refunds = sum(c.refunds.values());
    const disbursed = sum(c.disbursed.values());
    const invoices = stored.events.filter((e) => e.type === 'InvoiceIssued');
    if (invoices.length !== c.billed.size)
      problems.push(`${where} has ${invoices.length} invoices, expected ${c.billed.size}`);
    const invoiced = sum(
      invoices.map((e) => BigInt(String((e.payload as { amountMinor: unknown }).amountMinor))),
    );
    if (invoiced !== billed) problems.push(`${where} invoiced ${invoiced}, expected ${billed}`);
    const refundEvents = stored.events.filter((e) => e.type === 'RefundIssued').length;
    if (refundEvents !== c.refunds.size)
      problems.push(`${where} has ${refundEvents} refunds, expected ${c.refunds.size}`);
    const payouts = stored.events.filter((e) => e.type === 'DisbursementReceived').length;
    if (payouts !== c.disbursed.size)
      problems.push(`${where} has ${payouts} disbursements, expected ${c.disbursed.size}`);

    const usage = this.usageOf(c);
    const usageEvents = stored.events.filter((e) => e.type === 'UsageRecorded');
    if (usageEvents.length !== c.usage.size)
      problems.push(
        `${where} has ${usageEvents.length} usage events, expected ${c.usage.size} hours`,
      );
    const usageQuantity = usageEvents.reduce(
      (s, e) => s + BigInt(String((e.payload as { quantity: unknown }).quantity)),
      0n,
    );
    if (usageQuantity !== sum(c.usage.values()))
      problems.push(
        `${where} usage events total ${usageQuantity}, expected ${sum(c.usage.values())}`,
      );
    if (-debit('4100') !== usage.revenue)
      problems.push(`${where} usage revenue (4100) ${-debit('4100')}, expected ${usage.revenue}`);
    if (-debit('2200') !== usage.feeAccrued - usage.feeInvoiced)
      problems.push(
        `${where} accrued usage fees (2200) ${-debit('2200')}, expected ${usage.feeAccrued - usage.feeInvoiced}`,
      );
    const recognized = -debit('4000');
    const deferred = -debit('2400');
    const unbilled = debit('1230');
    const cash = debit('1000');
    if (cash !== disbursed) problems.push(`${where} cash ${cash}, expected ${disbursed}`);
    if (recognized > c.total)
      problems.push(`${where} recognized ${recognized} exceeds the contract value ${c.total}`);
    // Invariant 2 at contract level: billed − refunds − recognized = deferred − unbilled (usage
    // counted on both sides: invoiced usage is billed, accrued usage recognized).
    if (billed + usage.invoiced - refunds - recognized - usage.revenue !== deferred - unbilled)
      problems.push(
        `${where} billed ${billed} + usage invoiced ${usage.invoiced} − refunds ${refunds} − recognized ${recognized} − usage ${usage.revenue} ≠ deferred ${deferred} − unbilled ${unbilled}`,
      );
    const rate = spec.intent === 'RENEW' ? this.renewalFee : AWS_PRIVATE_FEE;
    if (refunds === 0n && rate !== null) {
      const fees = sum([...c.billed.values()].map((v) => halfUp(v * rate.num, rate.den)));
      // An invoice covering more than 12 months capitalizes its fee (1400) and amortizes it.
      const feesBooked = debit('5100') + debit('1400');
      if (feesBooked !== fees + usage.feeAccrued)
        problems.push(
          `${where} marketplace fees ${feesBooked} (5100 + 1400), expected ${fees} + usage ${usage.feeAccrued}`,
        );
      const receivable = billed - fees - disbursed + usage.invoiced - usage.feeInvoiced;
      if (debit('1210') !== receivable)
        problems.push(`${where} receivable ${debit('1210')}, expected ${receivable}`);
    }
    const fullyRun =
      c.recognizedThrough !== null &&
      c.end !== null &&
      periodEndExclusive(c.recognizedThrough) >= c.end;
    // An early end settles on its end date, the first day without access (finance.md §2.7:
    // "at termination"), so that date's month must have run too.
    const settledRun =
      c.recognizedThrough !== null &&
      c.end !== null &&
      periodEndExclusive(c.recognizedThrough) > c.end;
    // Cancelled, or replaced mid-term (expired before its own end): revenue stops at the end.
    const endedEarly =
      c.status === 'cancelled' || (c.status === 'expired' && c.end !== null && c.end < spec.end);
    if (endedEarly) {
      if (settledRun && recognized !== billed - refunds)
        problems.push(
          `${where} ${c.status} on ${String(c.end)} and closed: recognized ${recognized}, expected billed − refunds ${billed - refunds}`,
        );
    } else if (refunds === 0n) {
      const expected = this.straightLine(c);
      if (recognized !== expected)
        problems.push(
          `${where} recognized ${recognized} through ${String(c.recognizedThrough)}, expected ${expected} (straight line of ${c.total} over [${spec.start}, ${spec.end}))`,
        );
    } else if (fullyRun && c.status === 'expired' && recognized !== c.total - refunds) {
      problems.push(
        `${where} ended: recognized ${recognized}, expected value − refunds ${c.total - refunds}`,
      );
    }
    return problems;
  }
}
