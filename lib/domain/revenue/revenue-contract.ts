/**
 * The revenue engine's view of a contract: the ISV's transaction price (the wholesale amount
 * for reseller offers — the reseller's margin never touches our books), what is billed when,
 * the days recognized, the usage prices, and the keys of its marketplace fee. Built from the
 * canonical contract terms, or from a deal-desk scenario.
 */
import { allocateCumulative } from '../allocation';
import { type CalendarDate, compareDates } from '../calendar';
import type { ContractTerms } from '../contract';
import { InvalidInputError } from '../errors';
import { parseDecimal, type Rational, sumMinor } from '../money';
import type { Marketplace } from '../schemas/primitives';
import type { ProductKind } from './fee-table';

export interface Installment {
  readonly date: CalendarDate;
  readonly amountMinor: bigint;
}

export interface UsagePrice {
  readonly dimension: string;
  readonly unitPrice: Rational;
}

export interface RevenueContract {
  readonly contractId: string;
  readonly marketplace: Marketplace;
  readonly offerType: 'public' | 'private';
  readonly productKind: ProductKind;
  readonly renewal: boolean;
  /** A reseller (CPPO, MPO, channel) offer. */
  readonly channel: boolean;
  readonly currency: string;
  /** The agreement's acceptance date: with the term start (GCP), it keys the fee rule. */
  readonly acceptedOn: CalendarDate;
  readonly term: { readonly start: CalendarDate; readonly end: CalendarDate | null };
  /** Days before this carry no revenue (a free trial). */
  readonly trialEnd: CalendarDate | null;
  /** The ISV's transaction price: what is recognized over the term. */
  readonly priceMinor: bigint;
  /** The buyer-facing total contract value: sets the fee band. */
  readonly tcvMinor: bigint;
  /** What the buyer pays a reseller, when known (cppoFeeBase = buyer). */
  readonly buyerPriceMinor: bigint | null;
  /** The ISV's billings, summing to priceMinor, in date order. */
  readonly installments: readonly Installment[];
  readonly usagePrices: readonly UsagePrice[];
}

/** The first day that earns revenue: after the free trial, if any. */
export function serviceStart(contract: RevenueContract): CalendarDate {
  const { start } = contract.term;
  return contract.trialEnd && compareDates(contract.trialEnd, start) > 0
    ? contract.trialEnd
    : start;
}

/**
 * The ISV's installments. Installments that add up to the buyer's price of a reseller offer are
 * scaled to the wholesale price (cumulatively, so they still sum exactly); none at all means one
 * invoice of the whole price on the first paid day.
 */
export function normalizeInstallments(input: {
  installments: readonly Installment[];
  priceMinor: bigint;
  buyerPriceMinor: bigint | null;
  firstBillingDate: CalendarDate;
}): Installment[] {
  const sorted = [...input.installments].sort((a, b) => compareDates(a.date, b.date));
  const total = sumMinor(sorted.map((i) => i.amountMinor));
  if (sorted.length === 0)
    return input.priceMinor > 0n
      ? [{ date: input.firstBillingDate, amountMinor: input.priceMinor }]
      : [];
  if (total === input.priceMinor) return sorted;
  // Only a reseller offer's buyer-price installments are rescaled; anything else is an error.
  if (total > 0n && input.buyerPriceMinor !== null && total === input.buyerPriceMinor) {
    let running = 0n;
    const cumulative = sorted.map((i) => {
      running += i.amountMinor;
      return running;
    });
    const scaled = allocateCumulative(input.priceMinor, cumulative, total);
    return sorted.map((i, index) => ({ date: i.date, amountMinor: scaled[index] ?? 0n }));
  }
  throw new InvalidInputError(
    'installments_mismatch',
    `Installments sum to ${total}, which is neither the price ${input.priceMinor} nor the buyer price`,
  );
}

/** From the canonical terms of a contract (the pipeline's view). */
export function revenueContractFromTerms(
  contractId: string,
  marketplace: Marketplace,
  terms: ContractTerms,
  acceptedOn: CalendarDate,
): RevenueContract {
  const fixed = sumMinor(terms.fixedCharges.map((c) => c.amountMinor));
  const scheduled = sumMinor(terms.installments.map((i) => i.amountMinor));
  const buyerTotal = scheduled > 0n ? scheduled : fixed;
  const wholesale = terms.reseller?.wholesaleMinor ?? null;
  const priceMinor = wholesale ?? buyerTotal;
  const buyerPriceMinor =
    terms.reseller?.buyerPriceMinor ?? (wholesale !== null ? buyerTotal : null);
  const contract: Omit<RevenueContract, 'installments'> = {
    contractId,
    marketplace,
    offerType: terms.offerType,
    productKind: 'saas',
    renewal: terms.renewal,
    channel: terms.reseller !== null,
    currency: terms.currency,
    acceptedOn,
    term: terms.term,
    trialEnd: terms.trialEnd,
    priceMinor,
    tcvMinor: buyerPriceMinor ?? priceMinor,
    buyerPriceMinor,
    usagePrices: terms.usageRates.map((r) => ({
      dimension: r.dimension,
      unitPrice: parseDecimal(r.unitPrice),
    })),
  };
  return {
    ...contract,
    installments: normalizeInstallments({
      installments: terms.installments,
      priceMinor,
      buyerPriceMinor: buyerPriceMinor !== priceMinor ? buyerPriceMinor : null,
      firstBillingDate: serviceStart({ ...contract, installments: [] }),
    }),
  };
}

/**
 * The service an installment pays for: from its date to the next installment (the last one to
 * the term end). Decides whether its fee may be expensed at once (≤ 12 months, rule 3).
 */
export function installmentCoverage(
  contract: RevenueContract,
  index: number,
): { start: CalendarDate; end: CalendarDate | null } {
  const current = contract.installments[index];
  if (!current) throw new InvalidInputError('no_installment', `No installment ${index}`);
  const next = contract.installments[index + 1];
  return { start: current.date, end: next ? next.date : contract.term.end };
}
