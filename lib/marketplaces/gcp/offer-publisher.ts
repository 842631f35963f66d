/**
 * Publishes private offers on Google Cloud Marketplace through the Commerce Producer API
 * (`v1beta`, early access — the only offer API Google has, reference §3.4 and Errata): a valid
 * offer document becomes one `privateOffers` create call, which answers a long-running operation
 * that is polled until it is done.
 *
 * Mapping from the canonical document: the one buyer is the customer's Cloud Billing account;
 * with a reseller it is a RESELLER (channel) offer billed to the reseller's billing account
 * (`reseller.partnerAccountId`), the customer still named; upfront dimensions are commitments
 * (unit price × quantity) and usage rates usage prices, as google.type.Money; the payment
 * schedule is installments; `expiresOn` is the acceptance date; a custom EULA is its URI. The
 * client request token becomes the AIP-155 `requestId` (a UUID derived from it), so a retried
 * create starts no second offer. `notes` and `coSell` are not sent.
 *
 * unverified: the API's reference was not available; every shape below is built against
 * lib/local/simulators/gcp-offer-simulator.ts following Google's API conventions, and must be
 * checked against the live API before production use.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MarketplaceUnavailableError } from '../../app/errors';
import type { OfferChangeStatus, OfferPublisher } from '../../app/ports';
import type { CalendarDate } from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import { formatRational, minorUnitsOf, parseDecimal } from '../../domain/money';
import type { OfferDocument } from '../../domain/offers/offer-document';
import { GCP_MONEY_DECIMALS_MAX } from '../../domain/offers/rules';
import { type JsonResponse, type RequestOptions, requestJson } from '../../outbound/http-json';

/** unverified: the Commerce Producer API's host. */
export const GCP_COMMERCE_PRODUCER_BASE_URL = 'https://cloudcommerceproducer.googleapis.com';
export const GCP_PRODUCER_API_VERSION = 'v1beta';
export const GCP_PRIVATE_OFFER_ENTITY = 'private-offer';
export const GCP_CHANNEL_PRIVATE_OFFER_ENTITY = 'channel-private-offer';
/**
 * google.rpc codes after which another attempt may succeed (AIP-194): DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE.
 */
export const GCP_SERVER_FAULT_RPC_CODES: readonly number[] = [4, 8, 10, 13, 14];
/** google.rpc.Code names, for failure codes a deal desk can read. */
export const RPC_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};
const NANOS_DIGITS = 9;
const NANOS_PER_UNIT = 10n ** BigInt(NANOS_DIGITS);
/** Operation names travel in a URL path: `operations/…` or `providers/…/operations/…`. */
const OPERATION_NAME_PATTERN =
  /^(?:providers\/[A-Za-z0-9._-]+\/)?operations\/[A-Za-z0-9._-]{1,200}$/;
/** The document's percentages carry at most 18 decimals (DecimalStringSchema). */
const PERCENT_DECIMALS_MAX = 18;

export type GcpTokenProvider = () => Promise<string>;

export interface GcpOfferPublisherOptions {
  /** https://cloudcommerceproducer.googleapis.com, or the local GCP simulator's URL. */
  readonly baseUrl: string;
  /** An OAuth access token (cloud-platform scope), e.g. runtime/container's gcpTokenProvider. */
  readonly token: GcpTokenProvider;
  /** The provider (partner) id the offer is made under, fixed or per document. */
  readonly providerId: string | ((document: OfferDocument) => string);
  /** Timeouts and retries of lib/outbound/http-json.ts (defaults there). */
  readonly http?: Pick<RequestOptions, 'timeoutMs' | 'attemptsMax' | 'random' | 'sleep'>;
}

// ---------------------------------------------------------------------------------------------
// The private offer (pure)
// ---------------------------------------------------------------------------------------------

export interface GoogleMoney {
  readonly currencyCode: string;
  readonly units: string;
  readonly nanos: number;
}

/** Minor units as google.type.Money: 123456n USD → { units: '1234', nanos: 560000000 }. */
export function moneyFromMinor(amountMinor: bigint, currency: string): GoogleMoney {
  if (amountMinor < 0n)
    throw new InvalidInputError('negative_amount', 'Google Cloud prices are not negative');
  const exponent = minorUnitsOf(currency);
  const scale = 10n ** BigInt(exponent);
  return {
    currencyCode: currency,
    units: (amountMinor / scale).toString(),
    nanos: Number((amountMinor % scale) * 10n ** BigInt(NANOS_DIGITS - exponent)),
  };
}

/** A decimal price as google.type.Money, exactly (at most 9 decimals, as the rules check). */
export function moneyFromDecimal(text: string, currency: string): GoogleMoney {
  const value = parseDecimal(text);
  const scaled = value.num * NANOS_PER_UNIT;
  if (value.num < 0n || scaled % value.den !== 0n)
    throw new InvalidInputError(
      'price_not_representable',
      `${text} is negative or has more than ${GCP_MONEY_DECIMALS_MAX} decimals`,
    );
  const nanosTotal = scaled / value.den;
  return {
    currencyCode: currency,
    units: (nanosTotal / NANOS_PER_UNIT).toString(),
    nanos: Number(nanosTotal % NANOS_PER_UNIT),
  };
}

/** A calendar date as google.type.Date. */
export function googleDate(date: CalendarDate): { year: number; month: number; day: number } {
  return {
    year: Number(date.slice(0, 4)),
    month: Number(date.slice(5, 7)),
    day: Number(date.slice(8, 10)),
  };
}

function billingAccount(id: string): string {
  return `billingAccounts/${id}`;
}

/** The PrivateOffer create body of a valid Google Cloud offer document. */
export function buildGcpPrivateOffer(
  doc: OfferDocument,
  providerId: string,
): Record<string, unknown> {
  if (doc.marketplace !== 'gcp') {
    throw new InvalidInputError(
      'marketplace_mismatch',
      `A Google Cloud private offer needs a Google Cloud offer document, not ${doc.marketplace}`,
    );
  }
  const buyer = doc.buyers[0];
  if (buyer === undefined || doc.buyers.length !== 1)
    throw new InvalidInputError(
      'buyers_required',
      'A Google Cloud private offer has exactly one buyer',
    );
  const currency = doc.pricing.currency;
  const reseller = doc.reseller;
  const { durationMonths, startDate, endDate } = doc.term;
  const installments = [...(doc.paymentSchedule ?? [])].sort((a, b) =>
    a.date < b.date ? -1 : a.date > b.date ? 1 : 0,
  );
  return {
    displayName: doc.name,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    product: `providers/${providerId}/products/${doc.productId}`,
    offerType: reseller ? 'RESELLER' : 'DIRECT',
    billingAccount: billingAccount(reseller ? reseller.partnerAccountId : buyer.accountId),
    customer: {
      billingAccount: billingAccount(buyer.accountId),
      ...(buyer.name !== undefined ? { displayName: buyer.name } : {}),
    },
    ...(reseller
      ? {
          reseller: {
            billingAccount: billingAccount(reseller.partnerAccountId),
            ...(reseller.discountPercent !== undefined
              ? {
                  discountPercent: formatRational(
                    parseDecimal(reseller.discountPercent),
                    PERCENT_DECIMALS_MAX,
                  ),
                }
              : {}),
            ...(reseller.wholesalePriceMinor !== undefined
              ? { wholesalePrice: moneyFromMinor(reseller.wholesalePriceMinor, currency) }
              : {}),
            authorizationEndDate: googleDate(reseller.expiresOn),
          },
        }
      : {}),
    pricing: {
      currencyCode: currency,
      commitments: doc.pricing.upfront.map((line) => ({
        plan: line.dimension,
        unitPrice: moneyFromMinor(line.priceMinor, currency),
        quantity: line.quantity,
      })),
      usageRates: doc.pricing.usageRates.map((rate) => ({
        metric: rate.dimension,
        unitPrice: moneyFromDecimal(rate.unitPrice, currency),
      })),
    },
    ...(installments.length > 0
      ? {
          paymentSchedule: {
            installments: installments.map((charge) => ({
              dueDate: googleDate(charge.date),
              amount: moneyFromMinor(charge.amountMinor, currency),
            })),
          },
        }
      : {}),
    term: {
      ...(durationMonths !== undefined ? { durationMonths } : {}),
      ...(startDate !== undefined ? { startDate: googleDate(startDate) } : {}),
      ...(endDate !== undefined ? { endDate: googleDate(endDate) } : {}),
    },
    acceptByDate: googleDate(doc.expiresOn),
    eula:
      doc.legal.type === 'custom' ? { type: 'CUSTOM', uri: doc.legal.url } : { type: 'STANDARD' },
  };
}

/**
 * The AIP-155 request id for a client request token: a UUID (version 5 layout) derived from it,
 * so the same token always names the same request.
 */
export function requestIdFor(clientRequestToken: string): string {
  const hex = createHash('sha256').update(`agora-offer:${clientRequestToken}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Responses (unverified, kept lenient)
// ---------------------------------------------------------------------------------------------

const DateSchema = z.looseObject({ year: z.number(), month: z.number(), day: z.number() });

const OperationSchema = z.looseObject({
  name: z.string().regex(OPERATION_NAME_PATTERN),
  done: z.boolean().nullish(),
  response: z
    .looseObject({
      name: z.string().min(1),
      state: z.string().nullish(),
      acceptByDate: DateSchema.nullish(),
    })
    .nullish(),
  error: z
    .looseObject({
      code: z.number().int(),
      message: z.string().default(''),
      details: z.array(z.unknown()).nullish(),
    })
    .nullish(),
});

const FieldViolationsSchema = z.looseObject({
  fieldViolations: z.array(
    z.looseObject({ field: z.string().default(''), description: z.string().default('') }),
  ),
});

const ErrorBodySchema = z.looseObject({
  error: z.looseObject({ message: z.string().nullish(), status: z.string().nullish() }),
});

function refusal(operation: string, response: JsonResponse): InvalidInputError {
  const parsed = ErrorBodySchema.safeParse(response.body);
  const detail = parsed.success
    ? `${parsed.data.error.status ?? 'error'}: ${parsed.data.error.message ?? ''}`
    : JSON.stringify(response.body).slice(0, 300);
  const denied = response.status === 401 || response.status === 403;
  return new InvalidInputError(
    denied ? 'marketplace_access_denied' : 'marketplace_rejected',
    `${operation} refused (HTTP ${response.status}): ${detail}`.slice(0, 1_000),
  );
}

function dateText(date: z.infer<typeof DateSchema>): string {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

// ---------------------------------------------------------------------------------------------
// The publisher
// ---------------------------------------------------------------------------------------------

export class GcpOfferPublisher implements OfferPublisher {
  private readonly baseUrl: string;

  constructor(private readonly options: GcpOfferPublisherOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  private providerOf(document: OfferDocument): string {
    const { providerId } = this.options;
    return typeof providerId === 'string' ? providerId : providerId(document);
  }

  private async call(
    method: string,
    path: string,
    operation: string,
    body?: unknown,
  ): Promise<JsonResponse> {
    return requestJson(
      `${this.baseUrl}/${GCP_PRODUCER_API_VERSION}/${path}`,
      {
        method,
        headers: { authorization: `Bearer ${await this.options.token()}` },
        ...(body !== undefined ? { body } : {}),
      },
      { operation, ...this.options.http },
    );
  }

  async publish(
    document: OfferDocument,
    request: { readonly clientRequestToken: string; readonly name: string },
  ): Promise<{ entityType: string; changeSetId: string }> {
    const providerId = this.providerOf(document);
    const body = buildGcpPrivateOffer(document, providerId);
    const query = new URLSearchParams({ requestId: requestIdFor(request.clientRequestToken) });
    const response = await this.call(
      'POST',
      `providers/${encodeURIComponent(providerId)}/privateOffers?${query}`,
      'CreatePrivateOffer',
      body,
    );
    if (response.status < 200 || response.status >= 300)
      throw refusal('CreatePrivateOffer', response);
    const operation = OperationSchema.safeParse(response.body);
    if (!operation.success)
      throw new MarketplaceUnavailableError(
        'CreatePrivateOffer answered without an operation; will retry',
      );
    return {
      entityType: document.reseller ? GCP_CHANNEL_PRIVATE_OFFER_ENTITY : GCP_PRIVATE_OFFER_ENTITY,
      changeSetId: operation.data.name,
    };
  }

  async status(_document: OfferDocument, operationName: string): Promise<OfferChangeStatus | null> {
    if (!OPERATION_NAME_PATTERN.test(operationName)) return null;
    // The name's segments are URL-safe by the pattern; it is the path as Google gives it.
    const response = await this.call('GET', operationName, 'GetOperation');
    if (response.status === 404) return null;
    if (response.status < 200 || response.status >= 300) throw refusal('GetOperation', response);
    const parsed = OperationSchema.safeParse(response.body);
    if (!parsed.success)
      throw new MarketplaceUnavailableError('GetOperation answered an unreadable operation');
    const operation = parsed.data;
    if (operation.done !== true)
      return {
        status: 'RUNNING',
        entityId: null,
        failure: null,
        serverFault: false,
        expiresOn: null,
      };
    if (operation.error) {
      const code = RPC_CODE_NAMES[operation.error.code] ?? String(operation.error.code);
      const violations = (operation.error.details ?? []).flatMap((detail) => {
        const parsedDetail = FieldViolationsSchema.safeParse(detail);
        return parsedDetail.success ? parsedDetail.data.fieldViolations : [];
      });
      return {
        status: 'FAILED',
        entityId: null,
        failure: {
          code,
          description: operation.error.message,
          errors: violations.map((v) => ({ change: v.field, code, message: v.description })),
        },
        serverFault: GCP_SERVER_FAULT_RPC_CODES.includes(operation.error.code),
        expiresOn: null,
      };
    }
    if (!operation.response)
      throw new MarketplaceUnavailableError(
        `Operation ${operation.name} is done without a response or an error`,
      );
    return {
      status: 'SUCCEEDED',
      entityId: operation.response.name,
      failure: null,
      serverFault: false,
      expiresOn: operation.response.acceptByDate ? dateText(operation.response.acceptByDate) : null,
    };
  }
}
