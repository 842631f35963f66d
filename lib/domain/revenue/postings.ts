/**
 * The journal entries of a contract's money events (finance.md rules 1–3, §2.3, §4.3), as pure
 * functions of the contract, its book and the policies. Billing is not recognition: an invoice
 * credits first any unbilled receivable (1230/1240) and the rest to deferred revenue (2400); a
 * month-end recognition debits deferred revenue first and the rest to unbilled — so the
 * contract's position is always one net figure. Every entry id is derived from what it posts,
 * so posting twice is a no-op, and every entry balances (validated before it leaves).
 */
import {
  addDays,
  addMonths,
  type CalendarDate,
  compareDates,
  comparePeriods,
  lastDayOfPeriod,
  nextPeriod,
  type Period,
  periodOf,
  periodStart,
} from '../calendar';
import { InvalidInputError } from '../errors';
import { deterministicId } from '../ids';
import {
  type AccountCode,
  assertBalanced,
  JOURNAL_ENTRY_SCHEMA_VERSION,
  type JournalEntry,
  type JournalLeg,
} from '../ledger';
import {
  divHalfEven,
  divRound,
  minorUnitsOf,
  multiplyRational,
  type Rational,
  roundRational,
} from '../money';
import type { Marketplace } from '../schemas/primitives';
import {
  balanceOf,
  type ContractBook,
  functionalBalanceOf,
  positionOf,
  RULE,
  RULE_VERSION,
} from './book';
import { type FeeRate, type FeeTable, feeRateFor } from './fee-table';
import { presentationFor, type RevenuePolicies } from './policies';
import { installmentCoverage, type RevenueContract, serviceStart } from './revenue-contract';
import { buildSchedule, cumulativeThrough, type RevenueSchedule } from './schedule';

export interface PostingContext {
  readonly contract: RevenueContract;
  readonly policies: RevenuePolicies;
  readonly feeTable: FeeTable;
  readonly functionalCurrency: string;
  /** The rate that converts 1 unit of `from` into `to` on a date, or null if unknown. */
  readonly rate: (date: CalendarDate, from: string, to: string) => Rational | null;
  /** Rule 14: entries dated in a closed period post in the first open one. */
  readonly firstOpenPeriod?: Period | null;
}

export class MissingFxRateError extends InvalidInputError {
  constructor(date: string, from: string, to: string) {
    super('fx_rate_missing', `No ${from}→${to} rate on or before ${date}`);
  }
}

const RECEIVABLE: Record<Marketplace, AccountCode> = { aws: '1210', azure: '1211', gcp: '1212' };

export function receivableAccount(marketplace: Marketplace): AccountCode {
  return RECEIVABLE[marketplace];
}

function unbilledAccount(ctx: PostingContext): AccountCode {
  return ctx.policies.unbilledClassification === 'contract_asset' ? '1240' : '1230';
}

function isNet(ctx: PostingContext): boolean {
  return presentationFor(ctx.policies, ctx.contract.marketplace) === 'net';
}

/** The contract's fee rule (rule 17: acceptance date; GCP: term start; TCV band in USD). */
export function feeRateOf(ctx: PostingContext): FeeRate {
  const { contract } = ctx;
  const effectiveOn = contract.marketplace === 'gcp' ? contract.term.start : contract.acceptedOn;
  let tcvUsdMinor = contract.tcvMinor;
  if (contract.currency !== 'USD') {
    const rate = ctx.rate(effectiveOn, contract.currency, 'USD');
    if (!rate) throw new MissingFxRateError(effectiveOn, contract.currency, 'USD');
    tcvUsdMinor = roundRational(
      multiplyRational({ num: contract.tcvMinor, den: 1n }, rate),
      'half-even',
    );
  }
  return feeRateFor(ctx.feeTable, {
    marketplace: contract.marketplace,
    offerType: contract.offerType,
    productKind: contract.productKind,
    tcvUsdMinor,
    renewal: contract.renewal,
    channel: contract.channel,
    effectiveOn,
  });
}

/** The marketplace's fee on an amount the ISV invoices (rounded as the marketplace does). */
export function feeOn(
  ctx: PostingContext,
  amountMinor: bigint,
  fee: FeeRate = feeRateOf(ctx),
): bigint {
  const { contract } = ctx;
  const buyerBase =
    ctx.policies.cppoFeeBase === 'buyer' &&
    contract.channel &&
    contract.buyerPriceMinor !== null &&
    contract.priceMinor > 0n;
  // Fee on the buyer's price of this share of the contract: amount × buyer/wholesale × rate.
  const numerator = buyerBase
    ? amountMinor * (contract.buyerPriceMinor ?? 0n) * fee.rate.num
    : amountMinor * fee.rate.num;
  const denominator = buyerBase ? contract.priceMinor * fee.rate.den : fee.rate.den;
  return divRound(numerator, denominator, fee.rounding);
}

interface LegSpec {
  readonly account: AccountCode;
  readonly side: 'debit' | 'credit';
  readonly amountMinor: bigint;
  /** Transaction currency, when not the contract's (a USD payout of a EUR receivable). */
  readonly currency?: string;
  /** Exact functional amount (a carrying amount at historical rates), instead of the rate. */
  readonly functionalMinor?: bigint;
  /** This leg's functional amount is whatever balances the entry (revenue released). */
  readonly balancing?: boolean;
}

/** An entry's legs that may differ in functional currency go through FX gain/loss (7100). */
const FX_ACCOUNT: AccountCode = '7100';

/**
 * Legs with transaction amounts → journal legs with functional amounts. In the functional
 * currency they are equal. Otherwise each leg is translated at the entry date's rate unless it
 * carries its own (historical) amount; a `balancing` leg takes the difference; any difference
 * left (FX on a receivable or unbilled amount cleared at its carrying value) goes to 7100.
 */
function translate(
  ctx: PostingContext,
  date: CalendarDate,
  specs: readonly LegSpec[],
): JournalLeg[] {
  const kept = specs
    .filter((s) => s.amountMinor !== 0n || (s.functionalMinor ?? 0n) !== 0n)
    .map((s) =>
      s.amountMinor < 0n || (s.amountMinor === 0n && (s.functionalMinor ?? 0n) < 0n)
        ? {
            ...s,
            side: s.side === 'debit' ? ('credit' as const) : ('debit' as const),
            amountMinor: -s.amountMinor,
            ...(s.functionalMinor !== undefined ? { functionalMinor: -s.functionalMinor } : {}),
          }
        : s,
    );
  if (kept.length === 0) return [];
  const rateFor = (currency: string) => {
    if (currency === ctx.functionalCurrency) return { num: 1n, den: 1n };
    const rate = ctx.rate(date, currency, ctx.functionalCurrency);
    if (!rate) throw new MissingFxRateError(date, currency, ctx.functionalCurrency);
    return rate;
  };
  const legs = kept.map((s) => {
    const currency = s.currency ?? ctx.contract.currency;
    const functional =
      currency === ctx.functionalCurrency
        ? s.amountMinor
        : (s.functionalMinor ??
          roundRational(
            multiplyRational({ num: s.amountMinor, den: 1n }, rateFor(currency)),
            'half-even',
          ));
    return { spec: s, currency, functional };
  });
  const signed = (side: 'debit' | 'credit', value: bigint) => (side === 'debit' ? value : -value);
  const balancing = legs.find((l) => l.spec.balancing && l.currency !== ctx.functionalCurrency);
  if (balancing) {
    const others = legs
      .filter((l) => l !== balancing)
      .reduce((sum, l) => sum + signed(l.spec.side, l.functional), 0n);
    balancing.functional = balancing.spec.side === 'debit' ? -others : others;
  }
  const out = legs.map(({ spec, currency, functional }) => ({
    account: spec.account,
    currency,
    debitMinor: spec.side === 'debit' ? spec.amountMinor : 0n,
    creditMinor: spec.side === 'credit' ? spec.amountMinor : 0n,
    functionalDebitMinor: spec.side === 'debit' ? functional : 0n,
    functionalCreditMinor: spec.side === 'credit' ? functional : 0n,
    contractId: ctx.contract.contractId,
    partnerId: null,
  }));
  const difference = out.reduce(
    (sum, l) => sum + l.functionalDebitMinor - l.functionalCreditMinor,
    0n,
  );
  if (difference !== 0n) {
    out.push({
      account: FX_ACCOUNT,
      currency: ctx.contract.currency,
      debitMinor: 0n,
      creditMinor: 0n,
      functionalDebitMinor: difference < 0n ? -difference : 0n,
      functionalCreditMinor: difference > 0n ? difference : 0n,
      contractId: ctx.contract.contractId,
      partnerId: null,
    });
  }
  return out;
}

/** The functional carrying amount of `amount` taken out of an account's balance (pro rata). */
function carrying(
  book: ContractBook,
  account: AccountCode,
  amountMinor: bigint,
  sign: 1n | -1n,
): bigint {
  const tx = balanceOf(book, account) * sign;
  const fn = functionalBalanceOf(book, account) * sign;
  if (tx <= 0n) return 0n;
  if (amountMinor >= tx) return fn;
  return divHalfEven(fn * amountMinor, tx);
}

function postingPeriodFor(ctx: PostingContext, date: CalendarDate): Period {
  const own = periodOf(date);
  const open = ctx.firstOpenPeriod ?? null;
  return open !== null && comparePeriods(open, own) > 0 ? open : own;
}

function entry(
  ctx: PostingContext,
  input: {
    rule: string;
    key: readonly string[];
    date: CalendarDate;
    description: string;
    source: JournalEntry['source'];
    legs: readonly LegSpec[];
  },
): JournalEntry | null {
  const legs = translate(ctx, input.date, input.legs);
  if (legs.length === 0) return null;
  return assertBalanced({
    schemaVersion: JOURNAL_ENTRY_SCHEMA_VERSION,
    entryId: deterministicId('je', ctx.contract.contractId, input.rule, ...input.key),
    date: input.date,
    postingPeriod: postingPeriodFor(ctx, input.date),
    functionalCurrency: ctx.functionalCurrency,
    description: input.description,
    source: input.source,
    rule: input.rule,
    ruleVersion: RULE_VERSION,
    reversalOf: null,
    legs,
  });
}

/**
 * Billing `amount`: clears the unbilled position first (at its carrying functional amount; the
 * FX difference goes to 7100), then builds deferred revenue (at the billing-date rate).
 */
function billingCredits(ctx: PostingContext, book: ContractBook, amountMinor: bigint): LegSpec[] {
  const account = unbilledAccount(ctx);
  const unbilled = balanceOf(book, account);
  if (amountMinor <= 0n) {
    return [{ account: '2400', side: 'credit', amountMinor }];
  }
  const clear = unbilled > 0n ? (unbilled < amountMinor ? unbilled : amountMinor) : 0n;
  return [
    {
      account,
      side: 'credit',
      amountMinor: clear,
      functionalMinor: carrying(book, account, clear, 1n),
    },
    { account: '2400', side: 'credit', amountMinor: amountMinor - clear },
  ];
}

/**
 * Recognizing `amount`: releases deferred revenue first (at its historical functional amount,
 * never remeasured), then builds the unbilled position (at the recognition-date rate); the
 * revenue leg takes the sum (rule 5).
 */
function recognitionDebits(
  ctx: PostingContext,
  book: ContractBook,
  amountMinor: bigint,
): LegSpec[] {
  const account = unbilledAccount(ctx);
  if (amountMinor <= 0n) {
    // A downward revision: give back unbilled first, then restore deferred revenue.
    const back = -amountMinor;
    const unbilled = balanceOf(book, account);
    const fromUnbilled = unbilled > 0n ? (unbilled < back ? unbilled : back) : 0n;
    return [
      {
        account,
        side: 'credit',
        amountMinor: fromUnbilled,
        functionalMinor: carrying(book, account, fromUnbilled, 1n),
      },
      { account: '2400', side: 'credit', amountMinor: back - fromUnbilled },
    ];
  }
  const deferred = -balanceOf(book, '2400');
  const release = deferred > 0n ? (deferred < amountMinor ? deferred : amountMinor) : 0n;
  return [
    {
      account: '2400',
      side: 'debit',
      amountMinor: release,
      functionalMinor: carrying(book, '2400', release, -1n),
    },
    { account, side: 'debit', amountMinor: amountMinor - release },
  ];
}

/**
 * What the schedule recognizes: the transaction price, or under `net` presentation the price
 * net of the marketplace's fee on each installment (rule 3), so billed and recognized meet.
 */
export function recognizableTotal(ctx: PostingContext): bigint {
  if (!isNet(ctx)) return ctx.contract.priceMinor;
  const fee = feeRateOf(ctx);
  return ctx.contract.installments.reduce(
    (sum, installment) => sum + installment.amountMinor - feeOn(ctx, installment.amountMinor, fee),
    0n,
  );
}

/** The contract's ratable schedule, or null when nothing is ratable (no price, no end). */
export function scheduleFor(ctx: PostingContext, version: number): RevenueSchedule | null {
  const start = serviceStart(ctx.contract);
  const end = ctx.contract.term.end;
  const total = recognizableTotal(ctx);
  if (end === null || compareDates(end, start) <= 0 || total === 0n) return null;
  return buildSchedule({
    contractId: ctx.contract.contractId,
    version,
    currency: ctx.contract.currency,
    totalMinor: total,
    service: { start, end },
  });
}

/** Whether an installment's fee is capitalized (covers > 12 months, or the policy says so). */
function capitalizesFee(ctx: PostingContext, installmentIndex: number): boolean {
  if (ctx.policies.feePolicy === 'amortize_with_revenue') return true;
  const coverage = installmentCoverage(ctx.contract, installmentIndex);
  if (coverage.end === null) return false;
  return compareDates(coverage.end, addMonths(coverage.start, 12)) > 0;
}

/** The id of an installment's invoice: stable across reruns and schedule versions. */
export function installmentInvoiceId(index: number, date: CalendarDate): string {
  return `inst-${index + 1}-${date}`;
}

/** Rule 2: the invoice of one installment, and the marketplace's fee on it (rule 3). */
export function installmentPostings(
  ctx: PostingContext,
  book: ContractBook,
  installmentIndex: number,
): JournalEntry[] {
  const installment = ctx.contract.installments[installmentIndex];
  if (!installment)
    throw new InvalidInputError('no_installment', `No installment ${installmentIndex}`);
  const invoiceId = installmentInvoiceId(installmentIndex, installment.date);
  const receivable = receivableAccount(ctx.contract.marketplace);
  const fee = feeOn(ctx, installment.amountMinor);
  const source = { kind: 'run' as const, id: `invoice:${invoiceId}` };
  if (isNet(ctx)) {
    // Net presentation: the marketplace's share is never ours; no fee expense (rule 3).
    const net = installment.amountMinor - fee;
    const invoice = entry(ctx, {
      rule: RULE.invoice,
      key: [invoiceId],
      date: installment.date,
      description: `Invoice ${invoiceId} (net of marketplace fee ${fee})`,
      source,
      legs: [
        { account: receivable, side: 'debit', amountMinor: net },
        ...billingCredits(ctx, book, net),
      ],
    });
    return invoice ? [invoice] : [];
  }
  const invoice = entry(ctx, {
    rule: RULE.invoice,
    key: [invoiceId],
    date: installment.date,
    description: `Invoice ${invoiceId}`,
    source,
    legs: [
      { account: receivable, side: 'debit', amountMinor: installment.amountMinor },
      ...billingCredits(ctx, book, installment.amountMinor),
    ],
  });
  const capitalize = capitalizesFee(ctx, installmentIndex);
  const feeEntry = entry(ctx, {
    rule: RULE.fee,
    key: [invoiceId],
    date: installment.date,
    description: capitalize
      ? `Marketplace fee on ${invoiceId}, capitalized (covers more than 12 months)`
      : `Marketplace fee on ${invoiceId}`,
    source,
    legs: [
      { account: capitalize ? '1400' : '5100', side: 'debit', amountMinor: fee },
      { account: receivable, side: 'credit', amountMinor: fee },
    ],
  });
  return [invoice, feeEntry].filter((e): e is JournalEntry => e !== null);
}

/**
 * Rule 1: the month-end recognition of one schedule version for a period — whatever the
 * schedule says is due by then and is not yet recognized (so a change to past months posts its
 * delta here) — plus the amortization of capitalized fees with that revenue.
 */
export function recognitionPosting(
  ctx: PostingContext,
  book: ContractBook,
  schedule: RevenueSchedule,
  period: Period,
): JournalEntry | null {
  // A month before the latest one recognized is closed: rerunning it posts nothing (a change to
  // it lands as a delta in the next run).
  if (book.recognizedThrough !== null && comparePeriods(period, book.recognizedThrough) < 0)
    return null;
  const position = positionOf(book);
  const due = cumulativeThrough(schedule, period) - position.recognizedSubscriptionMinor;
  const capitalized = book.accounts['1400']?.debitMinor ?? 0n;
  const amortized = book.accounts['1400']?.creditMinor ?? 0n;
  const recognizedAfter = position.recognizedSubscriptionMinor + due;
  const amortizeTarget =
    schedule.totalMinor > 0n
      ? divRound(capitalized * recognizedAfter, schedule.totalMinor, 'half-even')
      : 0n;
  const amortize = amortizeTarget - amortized;
  return entry(ctx, {
    rule: RULE.recognition,
    key: [period, String(schedule.version)],
    date: lastDayOfPeriod(period),
    description: `Revenue recognized for ${period} (schedule v${schedule.version})`,
    source: { kind: 'run', id: `recognition:${period}` },
    legs: [
      ...recognitionDebits(ctx, book, due),
      { account: '4000', side: 'credit', amountMinor: due, balancing: true },
      {
        account: '5100',
        side: 'debit',
        amountMinor: amortize,
        functionalMinor: carrying(book, '1400', amortize, 1n),
      },
      {
        account: '1400',
        side: 'credit',
        amountMinor: amortize,
        functionalMinor: carrying(book, '1400', amortize, 1n),
      },
    ],
  });
}

export interface UsageQuantity {
  readonly dimension: string;
  /** Accepted quantity in the month (decimal, exact). */
  readonly quantity: Rational;
}

/** A month's accepted usage at the contract's unit prices, per dimension, rounded once each. */
export function usageAmount(ctx: PostingContext, usage: readonly UsageQuantity[]): bigint {
  const totals = new Map<string, Rational>();
  for (const line of usage) {
    const price = ctx.contract.usagePrices.find((p) => p.dimension === line.dimension);
    if (!price) {
      throw new InvalidInputError(
        'usage_without_price',
        `Contract ${ctx.contract.contractId} has no price for dimension ${line.dimension}`,
      );
    }
    const current = totals.get(line.dimension) ?? { num: 0n, den: 1n };
    const value = multiplyRational(line.quantity, price.unitPrice);
    totals.set(line.dimension, {
      num: current.num * value.den + value.num * current.den,
      den: current.den * value.den,
    });
  }
  const minorScale = 10n ** BigInt(minorUnitsOf(ctx.contract.currency));
  let amount = 0n;
  for (const value of totals.values()) {
    amount += roundRational({ num: value.num * minorScale, den: value.den }, 'half-even');
  }
  return amount;
}

/**
 * Rule 1 (usage): the month's accepted usage is accrued at month-end (Dr unbilled / Cr 4100)
 * with the marketplace's fee on it (Dr 5100 / Cr 2200); only the difference to what was already
 * accrued for that month is posted, so late usage lands as a delta.
 */
export function usageAccrualPosting(
  ctx: PostingContext,
  book: ContractBook,
  period: Period,
  usage: readonly UsageQuantity[],
): JournalEntry | null {
  const gross = usageAmount(ctx, usage);
  const fee = feeOn(ctx, gross);
  const net = isNet(ctx);
  const target = net ? gross - fee : gross;
  const month = book.usage[period];
  const delta = target - (month?.accruedMinor ?? 0n);
  const feeDelta = net ? 0n : fee - (month?.feeAccruedMinor ?? 0n);
  if (delta === 0n && feeDelta === 0n) return null;
  return entry(ctx, {
    rule: RULE.usageAccrual,
    key: [period, String(target), String(fee)],
    date: lastDayOfPeriod(period),
    description: `Usage revenue accrued for ${period}`,
    source: { kind: 'run', id: `usage:${period}` },
    legs: [
      ...recognitionDebits(ctx, book, delta),
      { account: '4100', side: 'credit', amountMinor: delta, balancing: true },
      { account: '5100', side: 'debit', amountMinor: feeDelta },
      { account: '2200', side: 'credit', amountMinor: feeDelta },
    ],
  });
}

/** When the marketplace invoices a month's usage (day `usageInvoiceDay` of the next month). */
export function usageInvoiceDate(policies: RevenuePolicies, period: Period): CalendarDate {
  return addDays(periodStart(nextPeriod(period)), policies.usageInvoiceDay - 1);
}

/**
 * The marketplace invoices the month's usage: reclassify it from unbilled to the marketplace
 * receivable, and move the accrued fee onto the receivable it is netted from.
 */
export function usageInvoicePosting(
  ctx: PostingContext,
  book: ContractBook,
  period: Period,
): JournalEntry | null {
  const month = book.usage[period];
  if (!month) return null;
  const amount = month.accruedMinor - month.invoicedMinor;
  const fee = month.feeAccruedMinor - month.feeInvoicedMinor;
  if (amount === 0n && fee === 0n) return null;
  const receivable = receivableAccount(ctx.contract.marketplace);
  return entry(ctx, {
    rule: RULE.usageInvoice,
    key: [period, String(month.accruedMinor), String(month.feeAccruedMinor)],
    date: usageInvoiceDate(ctx.policies, period),
    description: `Marketplace invoice for ${period} usage`,
    source: { kind: 'run', id: `usage:${period}` },
    legs: [
      { account: receivable, side: 'debit', amountMinor: amount },
      ...billingCredits(ctx, book, amount),
      { account: '2200', side: 'debit', amountMinor: fee },
      { account: receivable, side: 'credit', amountMinor: fee },
    ],
  });
}

/**
 * The marketplace pays out. Same currency: cash in, receivable down (at its carrying amount; a
 * difference is realized FX). A payout in another currency than the receivable it settles goes
 * through the FX clearing account (1950), so each transaction currency balances (rule 5, WE-7).
 */
export function disbursementPosting(
  ctx: PostingContext,
  book: ContractBook,
  input: {
    disbursementId: string;
    date: CalendarDate;
    currency: string;
    amountMinor: bigint;
    settlesCurrency?: string;
    settlesMinor?: bigint;
  },
): JournalEntry | null {
  const receivable = receivableAccount(ctx.contract.marketplace);
  const settlesCurrency = input.settlesCurrency ?? input.currency;
  const settles = input.settlesMinor ?? input.amountMinor;
  if (settlesCurrency !== ctx.contract.currency) {
    throw new InvalidInputError(
      'disbursement_currency_mismatch',
      `Disbursement ${input.disbursementId} settles ${settlesCurrency}, but the contract's receivable is in ${ctx.contract.currency}`,
    );
  }
  const carried = carrying(book, receivable, settles, 1n);
  const legs: LegSpec[] =
    input.currency === settlesCurrency
      ? [
          {
            account: '1000',
            side: 'debit',
            amountMinor: input.amountMinor,
            currency: input.currency,
          },
          {
            account: receivable,
            side: 'credit',
            amountMinor: settles,
            ...(balanceOf(book, receivable) > 0n ? { functionalMinor: carried } : {}),
          },
        ]
      : [
          {
            account: '1000',
            side: 'debit',
            amountMinor: input.amountMinor,
            currency: input.currency,
          },
          {
            account: '1950',
            side: 'credit',
            amountMinor: input.amountMinor,
            currency: input.currency,
          },
          {
            account: '1950',
            side: 'debit',
            amountMinor: settles,
            currency: settlesCurrency,
            functionalMinor: convert(ctx, input.date, input.amountMinor, input.currency),
          },
          {
            account: receivable,
            side: 'credit',
            amountMinor: settles,
            currency: settlesCurrency,
            functionalMinor: carried,
          },
        ];
  return entry(ctx, {
    rule: RULE.disbursement,
    key: [input.disbursementId],
    date: input.date,
    description: `Disbursement ${input.disbursementId}`,
    source: { kind: 'event', id: input.disbursementId },
    legs,
  });
}

/** An amount in `currency` in the functional currency on a date. */
function convert(
  ctx: PostingContext,
  date: CalendarDate,
  amountMinor: bigint,
  currency: string,
): bigint {
  if (currency === ctx.functionalCurrency) return amountMinor;
  const rate = ctx.rate(date, currency, ctx.functionalCurrency);
  if (!rate) throw new MissingFxRateError(date, currency, ctx.functionalCurrency);
  return roundRational(multiplyRational({ num: amountMinor, den: 1n }, rate), 'half-even');
}

/**
 * Month-end remeasurement (rule 5): the contract's marketplace receivable and unbilled
 * receivable are monetary, so they are carried at the period-end spot rate; the change is
 * unrealized FX (7100). Deferred revenue is never remeasured.
 */
export function remeasurementPosting(
  ctx: PostingContext,
  book: ContractBook,
  period: Period,
): JournalEntry | null {
  if (ctx.contract.currency === ctx.functionalCurrency) return null;
  const date = lastDayOfPeriod(period);
  const legs: LegSpec[] = [];
  const targets: string[] = [];
  for (const account of [receivableAccount(ctx.contract.marketplace), '1230'] as const) {
    const tx = balanceOf(book, account);
    const target = tx === 0n ? 0n : convert(ctx, date, tx, ctx.contract.currency);
    const delta = target - functionalBalanceOf(book, account);
    targets.push(`${account}:${target}`);
    if (delta !== 0n)
      legs.push({ account, side: 'debit', amountMinor: 0n, functionalMinor: delta });
  }
  if (legs.length === 0) return null;
  return entry(ctx, {
    rule: RULE.fxRemeasurement,
    key: [period, ...targets],
    date,
    description: `Unrealized FX: receivables remeasured at the ${date} rate`,
    source: { kind: 'run', id: `fx:${period}` },
    legs,
  });
}

export interface RefundInput {
  readonly refundId: string;
  readonly date: CalendarDate;
  /** What the seller authorized (rule 8): an input, never computed here. */
  readonly amountMinor: bigint;
}

/**
 * Rule 8: a refund the seller authorized. Up to the deferred balance it reverses deferred
 * revenue, any excess reduces revenue; it sits in the refund liability (2450) until the
 * marketplace's refund row takes it off the receivable; the marketplace refunds its fee on it.
 */
/** How a refund splits: up to deferred revenue it reverses 2400; the excess reduces revenue. */
export function refundSplit(
  ctx: PostingContext,
  book: ContractBook,
  amountMinor: bigint,
): { amountMinor: bigint; feeMinor: bigint; fromDeferredMinor: bigint; excessMinor: bigint } {
  const fee = feeOn(ctx, amountMinor);
  const amount = isNet(ctx) ? amountMinor - fee : amountMinor;
  const deferred = -balanceOf(book, '2400');
  const fromDeferred = deferred > 0n ? (deferred < amount ? deferred : amount) : 0n;
  return {
    amountMinor: amount,
    feeMinor: fee,
    fromDeferredMinor: fromDeferred,
    excessMinor: amount - fromDeferred,
  };
}

export function refundPostings(
  ctx: PostingContext,
  book: ContractBook,
  refund: RefundInput,
): JournalEntry[] {
  const receivable = receivableAccount(ctx.contract.marketplace);
  const net = isNet(ctx);
  const split = refundSplit(ctx, book, refund.amountMinor);
  const fee = split.feeMinor;
  const amount = split.amountMinor;
  const fromDeferred = split.fromDeferredMinor;
  const source = { kind: 'event' as const, id: `refund:${refund.refundId}` };
  const authorization = entry(ctx, {
    rule: RULE.refund,
    key: [refund.refundId],
    date: refund.date,
    description: `Refund ${refund.refundId} authorized`,
    source,
    legs: [
      {
        account: '2400',
        side: 'debit',
        amountMinor: fromDeferred,
        functionalMinor: carrying(book, '2400', fromDeferred, -1n),
      },
      { account: '4000', side: 'debit', amountMinor: amount - fromDeferred },
      { account: '2450', side: 'credit', amountMinor: amount },
    ],
  });
  const settlement = entry(ctx, {
    rule: RULE.refundSettlement,
    key: [refund.refundId],
    date: refund.date,
    description: `Refund ${refund.refundId} taken off the marketplace receivable`,
    source,
    legs: [
      { account: '2450', side: 'debit', amountMinor: amount },
      { account: receivable, side: 'credit', amountMinor: amount },
    ],
  });
  const feeRefund = net
    ? null
    : entry(ctx, {
        rule: RULE.feeRefund,
        key: [refund.refundId],
        date: refund.date,
        description: `Marketplace fee refunded on ${refund.refundId}`,
        source,
        legs: [
          { account: receivable, side: 'debit', amountMinor: fee },
          { account: '5100', side: 'credit', amountMinor: fee },
        ],
      });
  return [authorization, settlement, feeRefund].filter((e): e is JournalEntry => e !== null);
}
