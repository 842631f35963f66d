/**
 * Publishes private offers on Microsoft's commercial marketplace through the Product Ingestion
 * API (reference §2.5): a valid offer document becomes one `configure` job holding one
 * `private-offer` resource — a customer private offer (`customerPromotion`), or with a reseller
 * a multiparty private offer (`multipartyPromotionOriginator`) naming the channel partner — and
 * the job is followed through `configure/{jobId}/status` until it completes.
 *
 * Mapping from the canonical document: buyers are the beneficiaries (tenant or billing account
 * ids); each upfront dimension is a plan of the product, priced absolutely for one billing term at
 * `priceMinor × quantity`; `expiresOn` is `acceptBy`; a duration without a start date is a
 * variable start (the term starts on acceptance), a fixed term is `start`/`end`; a custom EULA is
 * `termsAndConditionsDocSasUrl` (a standard one sends nothing: the plan's terms apply). The
 * document's `notes`, `coSell`, `description` and reseller `use`/`expiresOn` have no place in the
 * resource and are not sent.
 *
 * unverified: Microsoft publishes the private-offer schema only as prose; every shape below is
 * built against lib/local/simulators/azure-offer-simulator.ts and must be checked against the
 * live API (with a Partner Center sandbox) before production use.
 */

import { z } from 'zod';
import { MarketplaceUnavailableError } from '../../app/errors';
import type { OfferChangeStatus, OfferPublisher } from '../../app/ports';
import { addDays, addMonths } from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import { formatMajorAmount, formatRational, parseDecimal } from '../../domain/money';
import type { OfferDocument } from '../../domain/offers/offer-document';
import { wholeMonthsOfFixedTerm } from '../../domain/offers/rules';
import { type JsonResponse, type RequestOptions, requestJson } from '../../outbound/http-json';

export const AZURE_PRODUCT_INGESTION_BASE_URL = 'https://graph.microsoft.com';
/** The `$version` query parameter of every Product Ingestion call (reference §2.5). */
export const AZURE_PRODUCT_INGESTION_VERSION = '2022-07-01';
/** unverified: the client-credentials scope of the Product Ingestion API (Microsoft Graph). */
export const AZURE_PRODUCT_INGESTION_SCOPE = 'https://graph.microsoft.com/.default';
// unverified: the $schema URIs of the configure envelope and the private-offer resource.
export const AZURE_CONFIGURE_SCHEMA = 'https://schema.mp.microsoft.com/schema/configure/2022-07-01';
export const AZURE_PRIVATE_OFFER_SCHEMA =
  'https://schema.mp.microsoft.com/schema/private-offer/2023-07-15';
/**
 * unverified: the idempotency header. Azure's REST guidelines name it for repeatable requests;
 * whether the ingestion API honours it is not documented.
 */
export const AZURE_REPEATABILITY_HEADER = 'repeatability-request-id';
/** unverified: job error codes that mean Microsoft's side failed (so another attempt may work). */
export const AZURE_SERVER_FAULT_CODES: readonly string[] = [
  'internalServerError',
  'serviceUnavailable',
  'timeout',
];
export const AZURE_PRIVATE_OFFER_ENTITY = 'private-offer';
export const AZURE_MULTIPARTY_PRIVATE_OFFER_ENTITY = 'multiparty-private-offer';
/** The document's percentages carry at most 18 decimals (DecimalStringSchema). */
const PERCENT_DECIMALS_MAX = 18;
/** Entra answers `expires_in` in seconds; refresh a minute before. */
const TOKEN_EARLY_REFRESH_MS = 60_000;
const TOKEN_TIMEOUT_MS = 5_000;
/** Job ids travel in a URL path. */
const JOB_ID_PATTERN = /^[A-Za-z0-9-]{1,100}$/;
const PRIVATE_OFFER_ID_PATTERN = /^private-offer\/[A-Za-z0-9-]{1,100}$/;

export type AzureTokenProvider = () => Promise<string>;

export interface AzureOfferPublisherOptions {
  /** https://graph.microsoft.com, or the local Azure simulator's URL. */
  readonly baseUrl: string;
  /** A bearer token for the Product Ingestion API (see `azureClientCredentialsToken`). */
  readonly token: AzureTokenProvider;
  /** Timeouts and retries of lib/outbound/http-json.ts (defaults there). */
  readonly http?: Pick<RequestOptions, 'timeoutMs' | 'attemptsMax' | 'random' | 'sleep'>;
}

// ---------------------------------------------------------------------------------------------
// The private-offer resource (pure)
// ---------------------------------------------------------------------------------------------

interface AzureTerm {
  readonly variableStartDate: boolean;
  readonly start?: string;
  readonly end?: string;
  readonly months: number;
}

/** The document's term as Azure holds it: a variable start, or a fixed start and end. */
export function azureTermOf(doc: OfferDocument): AzureTerm {
  const { durationMonths, startDate, endDate } = doc.term;
  if (durationMonths !== undefined && endDate === undefined) {
    if (startDate === undefined) return { variableStartDate: true, months: durationMonths };
    return {
      variableStartDate: false,
      start: startDate,
      // The last day of the term (the document's fixed terms are inclusive of their end date).
      end: addDays(addMonths(startDate, durationMonths), -1),
      months: durationMonths,
    };
  }
  if (durationMonths === undefined && startDate !== undefined && endDate !== undefined) {
    const months = wholeMonthsOfFixedTerm(startDate, endDate);
    if (months !== null)
      return { variableStartDate: false, start: startDate, end: endDate, months };
  }
  throw new InvalidInputError(
    'offer_term_unsupported',
    'An Azure private offer needs a duration, or a fixed start and end a whole number of months apart',
  );
}

/** A billing term in the largest unit that divides it (1 year rather than 12 months). */
function billingTerm(months: number): { type: 'month' | 'year'; value: number } {
  return months % 12 === 0
    ? { type: 'year', value: months / 12 }
    : { type: 'month', value: months };
}

/** The channel partner's share of a multiparty offer: a margin percentage or a wholesale price. */
function marginOf(doc: OfferDocument): Record<string, string> {
  const reseller = doc.reseller;
  if (reseller?.discountPercent !== undefined) {
    return {
      type: 'percentage',
      percentage: formatRational(parseDecimal(reseller.discountPercent), PERCENT_DECIMALS_MAX),
    };
  }
  if (reseller?.wholesalePriceMinor !== undefined) {
    const currency = doc.pricing.currency;
    return {
      type: 'wholesale',
      price: formatMajorAmount(reseller.wholesalePriceMinor, currency),
      currency,
    };
  }
  throw new InvalidInputError(
    'reseller_price_missing',
    'A multiparty private offer needs the partner margin or the wholesale price',
  );
}

/** The `private-offer` resource of a valid Azure offer document. */
export function buildAzurePrivateOffer(doc: OfferDocument): Record<string, unknown> {
  if (doc.marketplace !== 'azure') {
    throw new InvalidInputError(
      'marketplace_mismatch',
      `An Azure private offer needs an Azure offer document, not ${doc.marketplace}`,
    );
  }
  const term = azureTermOf(doc);
  const currency = doc.pricing.currency;
  const product = `product/${doc.productId}`;
  const reseller = doc.reseller;
  return {
    $schema: AZURE_PRIVATE_OFFER_SCHEMA,
    name: doc.name,
    state: 'live',
    privateOfferType: reseller ? 'multipartyPromotionOriginator' : 'customerPromotion',
    variableStartDate: term.variableStartDate,
    ...(term.start !== undefined ? { start: term.start } : {}),
    ...(term.end !== undefined ? { end: term.end } : {}),
    acceptBy: doc.expiresOn,
    beneficiaries: doc.buyers.map((buyer) => ({
      id: buyer.accountId,
      ...(buyer.name !== undefined ? { description: buyer.name } : {}),
    })),
    ...(reseller ? { partners: [{ id: reseller.partnerAccountId, margin: marginOf(doc) }] } : {}),
    pricing: doc.pricing.upfront.map((line) => ({
      product,
      plan: `plan/${doc.productId}/${line.dimension}`,
      discountType: 'absolute',
      priceDetails: {
        billingTerm: billingTerm(term.months),
        paymentOption: { type: 'upfront' },
        price: formatMajorAmount(line.priceMinor * BigInt(line.quantity), currency),
        currency,
      },
    })),
    ...(doc.legal.type === 'custom' ? { termsAndConditionsDocSasUrl: doc.legal.url } : {}),
  };
}

/** The configure request that publishes the document: one private-offer resource. */
export function buildAzureConfigureRequest(doc: OfferDocument): Record<string, unknown> {
  return { $schema: AZURE_CONFIGURE_SCHEMA, resources: [buildAzurePrivateOffer(doc)] };
}

// ---------------------------------------------------------------------------------------------
// Responses (unverified, kept lenient)
// ---------------------------------------------------------------------------------------------

const JobSchema = z.looseObject({
  jobId: z.string().regex(JOB_ID_PATTERN),
  jobStatus: z.string().min(1),
  jobResult: z.string().nullish(),
  errors: z
    .array(
      z.looseObject({
        code: z.string().default('unknown'),
        message: z.string().default(''),
        resourceId: z.string().nullish(),
      }),
    )
    .nullish(),
  resourceIds: z.array(z.string()).nullish(),
});

const PrivateOfferSchema = z.looseObject({ acceptBy: z.string().nullish() });

const ErrorBodySchema = z.looseObject({
  error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }),
});

/** A refusal of the request itself: retrying the same request cannot help. */
function refusal(operation: string, response: JsonResponse): InvalidInputError {
  const parsed = ErrorBodySchema.safeParse(response.body);
  const detail = parsed.success
    ? `${parsed.data.error.code ?? 'error'}: ${parsed.data.error.message ?? ''}`
    : JSON.stringify(response.body).slice(0, 300);
  const denied = response.status === 401 || response.status === 403;
  return new InvalidInputError(
    denied ? 'marketplace_access_denied' : 'marketplace_rejected',
    `${operation} refused (HTTP ${response.status}): ${detail}`.slice(0, 1_000),
  );
}

function ok(status: number): boolean {
  return status >= 200 && status < 300;
}

// ---------------------------------------------------------------------------------------------
// The publisher
// ---------------------------------------------------------------------------------------------

export class AzureOfferPublisher implements OfferPublisher {
  private readonly baseUrl: string;

  constructor(private readonly options: AzureOfferPublisherOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  private async call(
    method: string,
    path: string,
    operation: string,
    extra: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<JsonResponse> {
    return requestJson(
      `${this.baseUrl}/rp/product-ingestion/${path}?$version=${AZURE_PRODUCT_INGESTION_VERSION}`,
      {
        method,
        headers: { authorization: `Bearer ${await this.options.token()}`, ...extra.headers },
        ...(extra.body !== undefined ? { body: extra.body } : {}),
      },
      { operation, ...this.options.http },
    );
  }

  async publish(
    document: OfferDocument,
    request: { readonly clientRequestToken: string; readonly name: string },
  ): Promise<{ entityType: string; changeSetId: string }> {
    const body = buildAzureConfigureRequest(document);
    const response = await this.call('POST', 'configure', 'Configure', {
      body,
      headers: { [AZURE_REPEATABILITY_HEADER]: request.clientRequestToken },
    });
    if (!ok(response.status)) throw refusal('Configure', response);
    const job = JobSchema.safeParse(response.body);
    if (!job.success)
      throw new MarketplaceUnavailableError('Configure answered without a job id; will retry');
    return {
      entityType: document.reseller
        ? AZURE_MULTIPARTY_PRIVATE_OFFER_ENTITY
        : AZURE_PRIVATE_OFFER_ENTITY,
      changeSetId: job.data.jobId,
    };
  }

  async status(_document: OfferDocument, jobId: string): Promise<OfferChangeStatus | null> {
    if (!JOB_ID_PATTERN.test(jobId)) return null;
    const response = await this.call(
      'GET',
      `configure/${encodeURIComponent(jobId)}/status`,
      'ConfigureStatus',
    );
    if (response.status === 404) return null;
    if (!ok(response.status)) throw refusal('ConfigureStatus', response);
    const parsed = JobSchema.safeParse(response.body);
    if (!parsed.success)
      throw new MarketplaceUnavailableError('ConfigureStatus answered an unreadable job');
    const job = parsed.data;
    const errors = job.errors ?? [];
    if (
      job.jobResult === 'failed' ||
      (job.jobStatus === 'completed' && job.jobResult !== 'succeeded')
    ) {
      const first = errors[0];
      return {
        status: 'FAILED',
        entityId: null,
        failure: {
          code: first?.code ?? job.jobResult ?? 'failed',
          description: first?.message ?? 'The configure job failed',
          errors: errors.map((e) => ({
            change: e.resourceId ?? AZURE_PRIVATE_OFFER_ENTITY,
            code: e.code,
            message: e.message,
          })),
        },
        serverFault: errors.some((e) => AZURE_SERVER_FAULT_CODES.includes(e.code)),
        expiresOn: null,
      };
    }
    if (job.jobStatus !== 'completed') {
      // notStarted / running: the marketplace's own words until the job ends.
      return {
        status: job.jobStatus,
        entityId: null,
        failure: null,
        serverFault: false,
        expiresOn: null,
      };
    }
    const entityId =
      (job.resourceIds ?? []).find((id) => PRIVATE_OFFER_ID_PATTERN.test(id)) ?? null;
    return {
      status: 'SUCCEEDED',
      entityId,
      failure: null,
      serverFault: false,
      expiresOn: entityId ? await this.acceptBy(entityId) : null,
    };
  }

  /** The offer's last day to accept as Microsoft holds it, or null when it cannot be read. */
  private async acceptBy(entityId: string): Promise<string | null> {
    const response = await this.call('GET', entityId, 'GetPrivateOffer');
    if (response.status === 404) return null;
    if (!ok(response.status)) throw refusal('GetPrivateOffer', response);
    const offer = PrivateOfferSchema.safeParse(response.body);
    const value = offer.success ? offer.data.acceptBy : null;
    return value ? value.slice(0, 10) : null;
  }
}

// ---------------------------------------------------------------------------------------------
// Token source
// ---------------------------------------------------------------------------------------------

const TokenSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.union([z.number(), z.string()]),
});

/**
 * An Entra client-credentials token provider (cached until a minute before it expires), for the
 * publisher's `token`. `loginBaseUrl` is https://login.microsoftonline.com or the simulator.
 */
export function azureClientCredentialsToken(options: {
  readonly loginBaseUrl: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: () => Promise<string | undefined>;
  /** Default AZURE_PRODUCT_INGESTION_SCOPE. */
  readonly scope?: string;
  readonly now?: () => number;
}): AzureTokenProvider {
  const now = options.now ?? Date.now;
  let cached: { token: string; expiresAt: number } | null = null;
  return async () => {
    if (cached && cached.expiresAt - TOKEN_EARLY_REFRESH_MS > now()) return cached.token;
    const secret = await options.clientSecret();
    if (!secret)
      throw new InvalidInputError(
        'marketplace_access_denied',
        `No client secret for Entra app ${options.clientId}`,
      );
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: secret,
      scope: options.scope ?? AZURE_PRODUCT_INGESTION_SCOPE,
    });
    const response = await fetch(
      `${options.loginBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      },
    ).catch((error: unknown) => {
      throw new MarketplaceUnavailableError(
        `Entra token request failed: ${(error as Error).message}`,
        { cause: error },
      );
    });
    if (response.status >= 500 || response.status === 429)
      throw new MarketplaceUnavailableError(
        `Entra token endpoint answered HTTP ${response.status}`,
      );
    const parsed = TokenSchema.safeParse(await response.json().catch(() => null));
    if (!response.ok || !parsed.success)
      throw new InvalidInputError(
        'marketplace_access_denied',
        `Entra ID refused the credentials of app ${options.clientId} (HTTP ${response.status})`,
      );
    cached = {
      token: parsed.data.access_token,
      expiresAt: now() + Number(parsed.data.expires_in) * 1000,
    };
    return cached.token;
  };
}
