/**
 * From AWS's answers to canonical contracts (pure). The Agreement API gives terms, dates and
 * status for agreements we propose; for CPPO agreements (readable only by the reseller and the
 * buyer) the ISV sees entitlements and License events, so terms carry what those show.
 *
 * External id: `license/<l-id>` — contracts key on the LicenseArn (concurrent agreements); legacy
 * products that only know a CustomerIdentifier key on `customer/<productCode>/<identifier>`.
 */
import type { AcceptedTerm, AgreementEntitlement } from '@aws-sdk/client-marketplace-agreement';
import type { Entitlement } from '@aws-sdk/client-marketplace-entitlement-service';
import { SourceNotReadyError } from '../../app/errors';
import { addIsoDuration, dateOfInstant, exclusiveEndOfInstant } from '../../domain/calendar';
import type { ContractSnapshot, ContractStatus, ContractTerms } from '../../domain/contract';
import type { SourceContract, SourceFact } from '../../domain/contract-lifecycle';
import {
  divHalfEven,
  isKnownCurrency,
  minorUnitsOf,
  parseDecimal,
  parseMajorAmount,
} from '../../domain/money';
import type { AgreementRead } from './gateway';
import { licenseIdOf } from './notifications';

export const DEFAULT_CURRENCY = 'USD';
const CREATION_INTENTS = new Set(['NEW', 'RENEW', 'REPLACE']);

/** NEW, RENEW and REPLACE say how an agreement began (lasting); AMEND is a later change. */
export function isCreationIntent(intent: string | null | undefined): intent is string {
  return intent !== null && intent !== undefined && CREATION_INTENTS.has(intent);
}

export function licenseExternalId(licenseArn: string): string {
  return `license/${licenseIdOf(licenseArn)}`;
}

export function customerExternalId(productCode: string, customerIdentifier: string): string {
  return `customer/${productCode}/${customerIdentifier}`;
}

/** AWS agreement status → canonical status (with the reason kept). */
export function statusOfAgreement(
  status: string | undefined,
  startTime: Date | undefined,
  now: string,
): { status: ContractStatus; reason: string | null } {
  switch (status) {
    case 'ACTIVE':
      return startTime && startTime.toISOString() > now
        ? { status: 'pending', reason: 'agreement starts in the future' }
        : { status: 'active', reason: null };
    case 'CANCELLED':
    case 'TERMINATED':
    case 'ROLLED_BACK':
      return { status: 'cancelled', reason: `agreement ${status}` };
    case 'RENEWED':
    case 'REPLACED':
    case 'SUPERSEDED':
    case 'EXPIRED':
    case 'ARCHIVED':
      return { status: 'expired', reason: `agreement ${status}` };
    default:
      return { status: 'pending', reason: `agreement status ${status ?? 'unknown'}` };
  }
}

function termOf<K extends string>(
  terms: readonly AcceptedTerm[],
  key: K,
): Extract<AcceptedTerm, Record<K, unknown>>[K] | undefined {
  for (const term of terms) {
    if (key in term)
      return (term as unknown as Record<string, unknown>)[key] as Extract<
        AcceptedTerm,
        Record<K, unknown>
      >[K];
  }
  return undefined;
}

function currencyOf(terms: readonly AcceptedTerm[]): string {
  for (const key of [
    'paymentScheduleTerm',
    'configurableUpfrontPricingTerm',
    'fixedUpfrontPricingTerm',
    'usageBasedPricingTerm',
  ] as const) {
    const currency = (termOf(terms, key) as { currencyCode?: string } | undefined)?.currencyCode;
    if (currency && isKnownCurrency(currency)) return currency;
  }
  return DEFAULT_CURRENCY;
}

/**
 * Unit price × quantity in minor units. Upfront prices have at most the currency's decimals, so
 * this is exact; a finer rate-card price is rounded half-even once, here.
 */
function lineAmount(price: string, quantity: number, currency: string): bigint {
  const unit = parseDecimal(price);
  const scale = 10n ** BigInt(minorUnitsOf(currency));
  return divHalfEven(unit.num * BigInt(quantity) * scale, unit.den);
}

/** Canonical terms from GetAgreementTerms plus the agreement's dates. */
export function termsFromAgreement(
  read: AgreementRead,
  input: {
    productId: string | null;
    resaleAuthorizationId: string | null;
    /** The agreement began as a renewal (intent RENEW): the fee table's renewal rate applies. */
    renewal?: boolean;
  },
): ContractTerms {
  const { agreement, terms } = read;
  const currency = currencyOf(terms);
  const start = dateOfInstant(
    (agreement.startTime ?? agreement.acceptanceTime ?? new Date(0)).toISOString(),
  );
  const end = agreement.endTime ? exclusiveEndOfInstant(agreement.endTime.toISOString()) : null;

  const fixedCharges: { dimension: string; amountMinor: bigint }[] = [];
  const grants: { dimension: string; quantity: string | null }[] = [];
  const configurable = termOf(terms, 'configurableUpfrontPricingTerm');
  if (configurable?.configuration) {
    const card =
      configurable.rateCards?.find(
        (c) => c.selector?.value === configurable.configuration?.selectorValue,
      ) ?? configurable.rateCards?.[0];
    for (const dimension of configurable.configuration.dimensions ?? []) {
      const key = dimension.dimensionKey ?? 'unknown';
      const quantity = dimension.dimensionValue ?? 0;
      const price = card?.rateCard?.find((r) => r.dimensionKey === key)?.price ?? '0';
      fixedCharges.push({ dimension: key, amountMinor: lineAmount(price, quantity, currency) });
      grants.push({ dimension: key, quantity: String(quantity) });
    }
  }
  const fixed = termOf(terms, 'fixedUpfrontPricingTerm');
  if (fixed) {
    const amount = parseMajorAmount(fixed.price ?? '0', currency);
    if (amount > 0n) fixedCharges.push({ dimension: 'upfront', amountMinor: amount });
    for (const grant of fixed.grants ?? []) {
      grants.push({
        dimension: grant.dimensionKey ?? 'unknown',
        quantity: grant.maxQuantity === undefined ? null : String(grant.maxQuantity),
      });
    }
  }
  const usage = termOf(terms, 'usageBasedPricingTerm');
  const usageRates = (usage?.rateCards ?? []).flatMap((card) =>
    (card.rateCard ?? []).map((item) => ({
      dimension: item.dimensionKey ?? 'unknown',
      unitPrice: item.price ?? '0',
    })),
  );
  for (const rate of usageRates)
    if (!grants.some((g) => g.dimension === rate.dimension))
      grants.push({ dimension: rate.dimension, quantity: null });

  const schedule = termOf(terms, 'paymentScheduleTerm');
  const installments = (schedule?.schedule ?? []).map((item) => ({
    date: dateOfInstant((item.chargeDate ?? new Date(0)).toISOString()),
    amountMinor: parseMajorAmount(item.chargeAmount ?? '0', currency),
  }));
  const upfrontTotal = fixedCharges.reduce((sum, charge) => sum + charge.amountMinor, 0n);
  if (installments.length === 0 && upfrontTotal > 0n)
    installments.push({ date: start, amountMinor: upfrontTotal });

  const trial = termOf(terms, 'freeTrialPricingTerm');
  const validity = termOf(terms, 'validityTerm');
  // Explicit agreement dates and payment schedules exist only on private offers.
  const privateOffer = schedule !== undefined || validity?.agreementEndDate !== undefined;
  return {
    productId:
      input.productId ?? agreement.proposalSummary?.resources?.[0]?.id ?? 'unknown-product',
    offerId: agreement.proposalSummary?.offerId ?? null,
    offerType: privateOffer ? 'private' : 'public',
    plan: configurable?.configuration?.selectorValue ?? null,
    quantity: null,
    buyer: { accountId: agreement.acceptor?.accountId ?? 'unknown-buyer', name: null },
    currency,
    term: { start, end },
    trialEnd: trial?.duration ? addIsoDuration(start, trial.duration) : null,
    renewal: input.renewal ?? false,
    fixedCharges,
    grants,
    usageRates,
    installments,
    reseller: input.resaleAuthorizationId
      ? {
          partnerId: null,
          resaleAuthorizationId: input.resaleAuthorizationId,
          wholesaleMinor: null,
          buyerPriceMinor: null,
        }
      : null,
  };
}

/** The license of the agreement's product entitlement, if provisioned. */
export function licenseOfAgreement(
  entitlements: readonly AgreementEntitlement[],
  productId: string | null,
): string | null {
  const candidates = entitlements.filter(
    (e) => e.licenseArn && (productId === null || e.resource?.id === productId),
  );
  return candidates[0]?.licenseArn ?? null;
}

export function sourceFromAgreement(
  read: AgreementRead,
  input: {
    licenseArn: string;
    productCode: string | null;
    productId: string | null;
    intent: string | null;
    previousAgreementId: string | null;
    replacesExternalId: string | null;
    resaleAuthorizationId: string | null;
    now: string;
  },
): SourceContract {
  const { agreement } = read;
  // Without a status or a start the answer is incomplete, not a pending agreement starting in
  // 1970: the caller retries (not ready) rather than apply it as the source of truth.
  if (!agreement.status || !(agreement.startTime ?? agreement.acceptanceTime))
    throw new SourceNotReadyError(
      `agreement ${agreement.agreementId ?? 'unknown'} was read without its status or start`,
    );
  const status = statusOfAgreement(agreement.status, agreement.startTime, input.now);
  const acceptance = (agreement.acceptanceTime ?? agreement.startTime ?? new Date(0)).toISOString();
  const ended = status.status === 'cancelled' || status.status === 'expired';
  const refs: Record<string, string> = {
    agreementId: agreement.agreementId ?? 'unknown',
    licenseArn: input.licenseArn,
    license: licenseIdOf(input.licenseArn),
  };
  if (input.productCode) refs.productCode = input.productCode;
  // When the buyer accepted: the deal's close for attribution, even when the agreement was first
  // read after it ended (its events then all carry the end time).
  refs.acceptedAt = acceptance;
  // Only how the agreement began is a lasting fact; AMEND describes a later change.
  if (isCreationIntent(input.intent)) refs.intent = input.intent;
  if (input.previousAgreementId) refs.previousAgreementId = input.previousAgreementId;
  return {
    externalId: licenseExternalId(input.licenseArn),
    status: status.status,
    statusReason: status.reason,
    terms: termsFromAgreement(read, {
      productId: input.productId,
      resaleAuthorizationId: input.resaleAuthorizationId,
      renewal: refs.intent === 'RENEW',
    }),
    refs,
    // Source times only, so any delivery order yields the same events.
    observedAt: ended && agreement.endTime ? agreement.endTime.toISOString() : acceptance,
    activatedOn:
      status.status === 'pending'
        ? null
        : dateOfInstant(
            (agreement.startTime ?? agreement.acceptanceTime ?? new Date(0)).toISOString(),
          ),
    endedOn:
      ended && agreement.endTime ? exclusiveEndOfInstant(agreement.endTime.toISOString()) : null,
    replacesExternalId: input.replacesExternalId,
    facts: [],
  };
}

/** CPPO and legacy products: what the entitlements show. Null when there are none. */
export function sourceFromEntitlements(
  entitlements: readonly Entitlement[],
  input: {
    externalId: string;
    productCode: string;
    productId: string | null;
    buyerAccountId: string | null;
    /** When the change was seen (event times); term start comes from `termStart`. */
    observedAt: string;
    /** First day of service: kept from the stored contract so a re-read never moves it. */
    termStart: string;
    refs: Record<string, string>;
    reseller: ContractTerms['reseller'];
    now: string;
  },
): SourceContract | null {
  if (entitlements.length === 0) return null;
  const expirations = entitlements
    .map((e) => e.ExpirationDate?.toISOString())
    .filter((d): d is string => d !== undefined);
  const latestExpiry = expirations.sort().at(-1) ?? null;
  const expired = latestExpiry !== null && latestExpiry <= input.now;
  const start = input.termStart;
  const end = latestExpiry ? exclusiveEndOfInstant(latestExpiry) : null;
  const grants = entitlements.map((e) => ({
    dimension: e.Dimension ?? 'unknown',
    quantity:
      e.Value?.IntegerValue !== undefined
        ? String(e.Value.IntegerValue)
        : e.Value?.BooleanValue !== undefined
          ? null
          : null,
  }));
  const buyer = input.buyerAccountId ?? entitlements[0]?.CustomerAWSAccountId ?? 'unknown-buyer';
  return {
    externalId: input.externalId,
    status: expired ? 'expired' : 'active',
    statusReason: expired ? 'entitlements expired' : null,
    terms: {
      productId: input.productId ?? input.productCode,
      offerId: null,
      offerType: input.reseller ? 'private' : 'public',
      plan: null,
      quantity: null,
      buyer: { accountId: buyer, name: null },
      // unverified: entitlements carry no price or currency; the resale authorization does (offers issue).
      currency: DEFAULT_CURRENCY,
      term: { start, end: end && end > start ? end : null },
      trialEnd: null,
      renewal: false,
      fixedCharges: [],
      grants,
      usageRates: [],
      installments: [],
      reseller: input.reseller,
    },
    refs: { ...input.refs, productCode: input.productCode },
    observedAt: input.observedAt,
    activatedOn: start,
    endedOn: expired && latestExpiry ? exclusiveEndOfInstant(latestExpiry) : null,
    replacesExternalId: null,
    facts: [],
  };
}

/** The stored contract as a source, plus money facts (a billing adjustment's refund). */
export function sourceFromSnapshot(
  snapshot: ContractSnapshot,
  facts: readonly SourceFact[],
): SourceContract {
  return {
    externalId: snapshot.externalId,
    status: snapshot.status,
    statusReason: snapshot.statusReason,
    terms: snapshot.terms,
    refs: snapshot.refs,
    observedAt: snapshot.updatedAt,
    activatedOn: null,
    endedOn: null,
    replacesExternalId: null,
    facts,
    rebase: (current) => sourceFromSnapshot(current, facts),
  };
}
