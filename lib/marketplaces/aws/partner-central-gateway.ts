/**
 * AWS Partner Central Selling API (ACE co-sell opportunities) for one seller account:
 * ListOpportunities and GetOpportunity on `PartnerCentralSellingClient`, behind the
 * `CoSellOpportunitySource` port.
 *
 * Conventions follow ./gateway.ts and ./catalog-gateway.ts: one SDK client built once with
 * explicit request/connect timeouts, SDK standard retry mode with bounded attempts (jittered,
 * throttling-aware backoff), the account's role to assume, fixed local credentials when a
 * simulator endpoint is configured. Every call names the catalog (`AWS`, or `Sandbox` for tests
 * against AWS's isolated sandbox).
 *
 * Region: the Partner Central Selling API has a single endpoint, in us-east-1
 * (`partnercentral-selling.us-east-1.api.aws`), whatever region the deployment runs in. The
 * client therefore always uses us-east-1; taking `settings.region` from a stack deployed in,
 * say, eu-west-1 would resolve an endpoint that does not exist. (The role is still assumed
 * through STS in the home region: only the Partner Central client is pinned.)
 *
 * Failures are translated once, here: ResourceNotFoundException from GetOpportunity is null;
 * throttling, 5xx, timeouts and connection trouble are MarketplaceUnavailableError (retry
 * later); AccessDeniedException is PartnerCentralAccessDeniedError and a request AWS refuses
 * (ValidationException, quota) is PermanentSyncError `marketplace_rejected`: retrying the same
 * request cannot help.
 */
import {
  GetOpportunityCommand,
  type GetOpportunityCommandOutput,
  ListOpportunitiesCommand,
  type ListOpportunitiesCommandOutput,
  type OpportunitySummary,
  PartnerCentralSellingClient,
} from '@aws-sdk/client-partnercentral-selling';
import type {
  CoSellOpportunity,
  CoSellOpportunityChange,
  CoSellOpportunityPage,
  CoSellOpportunitySource,
} from '../../app/co-sell-ports';
import { MarketplaceUnavailableError, PermanentSyncError } from '../../app/errors';
import { InvalidInputError } from '../../domain/errors';
import type { AwsAccountConfig, AwsMarketplaceSettings } from './config';
import { awsClientConfig } from './gateway';

/** The only region the Partner Central Selling API is served from. */
export const PARTNER_CENTRAL_REGION = 'us-east-1';
export const PARTNER_CENTRAL_CATALOGS = ['AWS', 'Sandbox'] as const;
export type PartnerCentralCatalog = (typeof PARTNER_CENTRAL_CATALOGS)[number];
/** ListOpportunities page size Agora asks for (the API's own default is 20). */
export const PARTNER_CENTRAL_PAGE_SIZE_DEFAULT = 50;
/** unverified: the largest MaxResults ListOpportunities accepts; the SDK types carry no range. */
export const PARTNER_CENTRAL_PAGE_SIZE_MAX = 100;

export type PartnerCentralOperation = 'ListOpportunities' | 'GetOpportunity';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** The seller's role may not read Partner Central (IAM, or not enrolled in ACE): permanent. */
export class PartnerCentralAccessDeniedError extends PermanentSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('marketplace_access_denied', message, options);
  }
}

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? 'Error';
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function awsMessage(error: unknown): string {
  const e = error as { message?: unknown; Message?: unknown } | null;
  if (typeof e?.message === 'string' && e.message !== '') return e.message;
  if (typeof e?.Message === 'string') return e.Message;
  return 'no message';
}

/** Maps a Partner Central SDK failure (after the SDK's own bounded retries) to Agora's errors. */
export function translatePartnerCentralError(
  error: unknown,
  operation: PartnerCentralOperation,
): Error {
  if (error instanceof MarketplaceUnavailableError || error instanceof PermanentSyncError) {
    return error;
  }
  const name = errorName(error);
  const status = httpStatus(error);
  const message = awsMessage(error);
  if (name === 'AccessDeniedException' || status === 403) {
    return new PartnerCentralAccessDeniedError(`${operation}: access denied: ${message}`, {
      cause: error,
    });
  }
  if (
    name === 'ValidationException' ||
    name === 'ResourceNotFoundException' ||
    name === 'ServiceQuotaExceededException'
  ) {
    return new PermanentSyncError(
      'marketplace_rejected',
      `${operation} rejected the request (${name}): ${message}`,
      { cause: error },
    );
  }
  // ThrottlingException, InternalServerException, ConflictException, other 5xx, timeouts and
  // connection failures.
  return new MarketplaceUnavailableError(
    `${operation} failed (${name}${status ? ` ${status}` : ''}); will retry`,
    { cause: error },
  );
}

// ---------------------------------------------------------------------------------------------
// Response mapping
// ---------------------------------------------------------------------------------------------

/** An SDK timestamp (a Date after deserialisation) as ISO-8601, or null if unusable. */
function isoOrNull(value: Date | string | undefined): string | null {
  if (value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function textOrNull(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

/**
 * AWS names Marketplace entities by ARN (`arn:aws:aws-marketplace:us-east-1:999999999999:
 * AWSMarketplace/Offer/offer-abc`); Agora's contracts carry the bare entity id (`offer-abc`), so
 * an ARN is reduced to its last path segment. Anything else (AWS product names such as
 * `AmazonRedshift`, solution ids such as `S-0000001`) is kept as it is.
 */
export function entityIdFromArn(value: string): string {
  if (!value.startsWith('arn:')) return value;
  const slash = value.lastIndexOf('/');
  const id = slash < 0 ? '' : value.slice(slash + 1);
  return id === '' ? value : id;
}

/** Non-empty values of the lists, ARNs reduced to ids, duplicates dropped, order kept. */
function idsOf(...lists: ReadonlyArray<readonly string[] | undefined>): string[] {
  const ids = new Set<string>();
  for (const list of lists) {
    for (const value of list ?? []) {
      if (value !== '') ids.add(entityIdFromArn(value));
    }
  }
  return [...ids];
}

export function toCoSellOpportunity(
  output: Omit<GetOpportunityCommandOutput, '$metadata'>,
  requestedId: string,
): CoSellOpportunity {
  const opportunityId = textOrNull(output.Id) ?? requestedId;
  const createdAt = isoOrNull(output.CreatedDate);
  const lastModifiedAt = isoOrNull(output.LastModifiedDate);
  if (createdAt === null || lastModifiedAt === null) {
    throw new MarketplaceUnavailableError(
      `GetOpportunity ${opportunityId} answered without CreatedDate/LastModifiedDate`,
    );
  }
  const account = output.Customer?.Account;
  const lifeCycle = output.LifeCycle;
  const related = output.RelatedEntityIdentifiers;
  return {
    opportunityId,
    partnerOpportunityIdentifier: textOrNull(output.PartnerOpportunityIdentifier),
    createdAt,
    lastModifiedAt,
    stage: textOrNull(lifeCycle?.Stage),
    reviewStatus: textOrNull(lifeCycle?.ReviewStatus),
    targetCloseDate: textOrNull(lifeCycle?.TargetCloseDate),
    customer: {
      companyName: textOrNull(account?.CompanyName),
      awsAccountId: textOrNull(account?.AwsAccountId),
    },
    offerIds: idsOf(related?.AwsMarketplaceOffers),
    // AWS products and partner solutions (what the spec names), plus the newer Marketplace
    // product and solution associations, so attribution can match a contract's product.
    productIds: idsOf(
      related?.AwsProducts,
      related?.Solutions,
      related?.AwsMarketplaceProducts,
      related?.AwsMarketplaceSolutions,
    ),
  };
}

/**
 * One summary as a change, or null when it cannot be followed up: without an Id there is
 * nothing to GetOpportunity, and without any timestamp there is no cursor to advance.
 */
export function toCoSellChange(summary: OpportunitySummary): CoSellOpportunityChange | null {
  const opportunityId = textOrNull(summary.Id);
  const lastModifiedAt = isoOrNull(summary.LastModifiedDate) ?? isoOrNull(summary.CreatedDate);
  if (opportunityId === null || lastModifiedAt === null) return null;
  return { opportunityId, lastModifiedAt };
}

// ---------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------

/** SDK client settings: those of ./gateway.ts, with the region pinned to us-east-1. */
export function partnerCentralClientConfig(
  settings: AwsMarketplaceSettings,
  account: AwsAccountConfig | null,
) {
  return {
    ...awsClientConfig(settings, account, 'agora-partner-central'),
    region: PARTNER_CENTRAL_REGION,
  };
}

export interface PartnerCentralGatewayOptions {
  readonly settings: AwsMarketplaceSettings;
  readonly account: AwsAccountConfig | null;
  readonly catalog: PartnerCentralCatalog;
  /** ListOpportunities MaxResults, 1..PARTNER_CENTRAL_PAGE_SIZE_MAX. */
  readonly pageSize?: number;
}

export class SdkPartnerCentralGateway implements CoSellOpportunitySource {
  private readonly client: PartnerCentralSellingClient;
  private readonly catalog: PartnerCentralCatalog;
  private readonly pageSize: number;

  constructor(options: PartnerCentralGatewayOptions) {
    if (!(PARTNER_CENTRAL_CATALOGS as readonly string[]).includes(options.catalog)) {
      throw new RangeError(
        `Partner Central catalog must be AWS or Sandbox, not ${options.catalog}`,
      );
    }
    const pageSize = options.pageSize ?? PARTNER_CENTRAL_PAGE_SIZE_DEFAULT;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > PARTNER_CENTRAL_PAGE_SIZE_MAX) {
      throw new RangeError(
        `Partner Central page size must be an integer in 1..${PARTNER_CENTRAL_PAGE_SIZE_MAX}`,
      );
    }
    this.catalog = options.catalog;
    this.pageSize = pageSize;
    this.client = new PartnerCentralSellingClient(
      partnerCentralClientConfig(options.settings, options.account),
    );
  }

  /**
   * One page of opportunities modified on or after `since` (AWS's filter is inclusive, so the
   * last one seen comes again: callers dedupe by id and timestamp), oldest first. Pass the
   * same `since` with the `nextToken` of the previous page.
   */
  async listChanged(
    since: string | null,
    nextToken: string | null,
  ): Promise<CoSellOpportunityPage> {
    let after: Date | null = null;
    if (since !== null) {
      const ms = Date.parse(since);
      if (Number.isNaN(ms)) {
        throw new InvalidInputError(
          'invalid_since',
          `listChanged: since is not an ISO instant: ${since}`,
        );
      }
      after = new Date(ms);
    }
    let output: ListOpportunitiesCommandOutput;
    try {
      output = await this.client.send(
        new ListOpportunitiesCommand({
          Catalog: this.catalog,
          MaxResults: this.pageSize,
          Sort: { SortBy: 'LastModifiedDate', SortOrder: 'ASCENDING' },
          ...(after === null ? {} : { LastModifiedDate: { AfterLastModifiedDate: after } }),
          ...(nextToken === null || nextToken === '' ? {} : { NextToken: nextToken }),
        }),
      );
    } catch (error) {
      throw translatePartnerCentralError(error, 'ListOpportunities');
    }
    const items: CoSellOpportunityChange[] = [];
    for (const summary of output.OpportunitySummaries ?? []) {
      const change = toCoSellChange(summary);
      if (change !== null) items.push(change);
    }
    return { items, nextToken: textOrNull(output.NextToken) };
  }

  async get(opportunityId: string): Promise<CoSellOpportunity | null> {
    let output: GetOpportunityCommandOutput;
    try {
      output = await this.client.send(
        new GetOpportunityCommand({ Catalog: this.catalog, Identifier: opportunityId }),
      );
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return null;
      throw translatePartnerCentralError(error, 'GetOpportunity');
    }
    return toCoSellOpportunity(output, opportunityId);
  }

  /** Closes the client's sockets (tests, local tools). */
  destroy(): void {
    this.client.destroy();
  }
}
