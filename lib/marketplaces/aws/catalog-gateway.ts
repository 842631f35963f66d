/**
 * The AWS Marketplace Catalog API (private offers, resale authorizations) for one seller
 * account: StartChangeSet, DescribeChangeSet and DescribeEntity on `MarketplaceCatalogClient`.
 *
 * Conventions follow ./gateway.ts: explicit request/connect timeouts, SDK standard retry mode
 * with bounded attempts (jittered backoff, throttling-aware), an optional assumed role per
 * account, fixed local credentials when a simulator endpoint is configured. On top of that,
 * calls are paced client-side at the documented per-account quotas so a burst of offers does
 * not turn into a burst of ThrottlingExceptions.
 *
 * Failures are translated once, here: throttling, 5xx and network trouble become
 * MarketplaceUnavailableError (retry later), a locked entity is CatalogEntityBusyError (wait for
 * the open change set), a request AWS refuses is CatalogRequestRejectedError (fix the request).
 */
import {
  type Change,
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandOutput,
  DescribeEntityCommand,
  type DescribeEntityCommandOutput,
  MarketplaceCatalogClient,
  StartChangeSetCommand,
  type StartChangeSetCommandOutput,
} from '@aws-sdk/client-marketplace-catalog';
import { ConflictError, MarketplaceUnavailableError } from '../../app/errors';
import { type ErrorDetail, InvalidInputError } from '../../domain/errors';
import {
  type AwsCatalogGateway,
  CATALOG,
  type CatalogChange,
  type ChangeSetDescription,
  type ChangeSetStatus,
  type EntityDescription,
} from './catalog-types';
import type { AwsAccountConfig, AwsMarketplaceSettings } from './config';
import { awsClientConfig } from './gateway';

/** Catalog API quotas per AWS account and second (catalog-service-quotas.html). */
export const CATALOG_RATE_PER_SECOND = {
  StartChangeSet: 5,
  DescribeChangeSet: 10,
  DescribeEntity: 20,
} as const;
export type CatalogOperation = keyof typeof CATALOG_RATE_PER_SECOND;
/**
 * How long one call may wait for its turn before giving up with MarketplaceUnavailableError: a
 * Lambda must not spend its timeout queueing behind a backlog; the caller retries later.
 */
export const CATALOG_RATE_WAIT_MAX_MS = 5_000;
/** ValidationException field details kept on the translated error. */
export const CATALOG_ERROR_DETAILS_MAX = 50;
const CHANGE_SET_STATUSES: readonly ChangeSetStatus[] = [
  'PREPARING',
  'APPLYING',
  'SUCCEEDED',
  'CANCELLED',
  'FAILED',
];

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** The entity is locked by another open change set (ResourceInUseException): wait, then retry. */
export class CatalogEntityBusyError extends ConflictError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('marketplace_entity_busy', message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * AWS refused the request itself (schema, unknown entity, quota, access): retrying the same
 * request cannot help. `code` is `marketplace_rejected` or `marketplace_access_denied`.
 */
export class CatalogRequestRejectedError extends InvalidInputError {
  constructor(
    code: 'marketplace_rejected' | 'marketplace_access_denied',
    message: string,
    options?: { cause?: unknown; details?: readonly ErrorDetail[] },
  ) {
    super(code, message, options?.details);
    if (options?.cause !== undefined) this.cause = options.cause;
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

/** ValidationException's field list as error details (path = the JSON path AWS names). */
function validationDetails(error: unknown): ErrorDetail[] {
  const fields = (error as { ValidationExceptionFieldList?: unknown } | null)
    ?.ValidationExceptionFieldList;
  if (!Array.isArray(fields)) return [];
  return fields.slice(0, CATALOG_ERROR_DETAILS_MAX).map((raw: unknown) => {
    const field = (raw ?? {}) as Record<string, unknown>;
    const text = (key: string) => (typeof field[key] === 'string' ? (field[key] as string) : '');
    return {
      path: text('Field') || text('ChangeType'),
      code: text('Reason') || 'FieldValidationFailed',
      message: text('Message'),
    };
  });
}

/** Maps a Catalog SDK failure (after the SDK's own bounded retries) to Agora's error classes. */
export function translateCatalogError(error: unknown, operation: CatalogOperation): Error {
  if (error instanceof MarketplaceUnavailableError) return error;
  const name = errorName(error);
  const status = httpStatus(error);
  const message = awsMessage(error);
  if (name === 'ResourceInUseException') {
    return new CatalogEntityBusyError(
      `${operation}: an entity is locked by another open change set: ${message}`,
      { cause: error },
    );
  }
  if (name === 'AccessDeniedException' || status === 403) {
    return new CatalogRequestRejectedError(
      'marketplace_access_denied',
      `${operation}: access denied: ${message}`,
      { cause: error },
    );
  }
  if (
    name === 'ValidationException' ||
    status === 422 ||
    name === 'ResourceNotFoundException' ||
    name === 'ServiceQuotaExceededException' ||
    name === 'ResourceNotSupportedException'
  ) {
    return new CatalogRequestRejectedError(
      'marketplace_rejected',
      `${operation} rejected the request (${name}): ${message}`,
      { cause: error, details: validationDetails(error) },
    );
  }
  // ThrottlingException, InternalServiceException, other 5xx, timeouts, connection failures.
  return new MarketplaceUnavailableError(
    `${operation} failed (${name}${status ? ` ${status}` : ''}); will retry`,
    { cause: error },
  );
}

// ---------------------------------------------------------------------------------------------
// Client-side pacing
// ---------------------------------------------------------------------------------------------

/** Time source of the token bucket; tests pass a fake one. */
export interface RateClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemRateClock: RateClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket holding up to `capacity` tokens, refilled at `ratePerSecond`. A caller that
 * finds no token reserves the next one (the balance goes negative) and sleeps until it is due,
 * so concurrent callers are served in arrival order without polling. This paces one process;
 * AWS counts the whole account, so the SDK's throttling retries remain the backstop.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number = ratePerSecond,
    private readonly clock: RateClock = systemRateClock,
    private readonly maxWaitMs: number = CATALOG_RATE_WAIT_MAX_MS,
  ) {
    if (!(ratePerSecond > 0) || !(capacity >= 1)) {
      throw new RangeError('A token bucket needs a positive rate and a capacity of at least 1');
    }
    this.tokens = capacity;
    this.updatedAt = clock.now();
  }

  /** Resolves when the caller may proceed; rejects if that would take over `maxWaitMs`. */
  async take(): Promise<void> {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    const waitMs =
      this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
    if (waitMs > this.maxWaitMs) {
      throw new MarketplaceUnavailableError(
        `Catalog API rate limit: the next slot is ${waitMs} ms away (limit ${this.maxWaitMs} ms)`,
      );
    }
    this.tokens -= 1;
    if (waitMs > 0) await this.clock.sleep(waitMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Response mapping
// ---------------------------------------------------------------------------------------------

/** AWS timestamps are ISO strings ("2018-02-27T13:45:22Z"); normalised, or null if unusable. */
function isoOrNull(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * unverified: whether DescribeChangeSet names entities with a revision suffix (`offer-x@1`) is
 * not in the SDK types; both forms are accepted and the bare id is kept.
 */
function bareEntityId(identifier: string | undefined): string | null {
  if (identifier === undefined || identifier === '') return null;
  return identifier.replace(/@\d+$/, '');
}

export function toChangeSetDescription(
  output: Omit<DescribeChangeSetCommandOutput, '$metadata'>,
  requestedId: string,
): ChangeSetDescription {
  const status = output.Status as ChangeSetStatus | undefined;
  if (status === undefined || !CHANGE_SET_STATUSES.includes(status)) {
    throw new MarketplaceUnavailableError(
      `DescribeChangeSet ${requestedId} answered without a known status (${String(status)})`,
    );
  }
  const failureCode =
    output.FailureCode === 'CLIENT_ERROR' || output.FailureCode === 'SERVER_FAULT'
      ? output.FailureCode
      : null;
  return {
    changeSetId: output.ChangeSetId ?? requestedId,
    changeSetArn: output.ChangeSetArn ?? null,
    status,
    failureCode,
    failureDescription: output.FailureDescription ?? null,
    startTime: isoOrNull(output.StartTime),
    endTime: isoOrNull(output.EndTime),
    changes: (output.ChangeSet ?? []).map((change) => ({
      changeType: change.ChangeType ?? '',
      changeName: change.ChangeName ?? null,
      entityType: change.Entity?.Type ?? null,
      entityId: bareEntityId(change.Entity?.Identifier),
      errors: (change.ErrorDetailList ?? []).map((e) => ({
        code: e.ErrorCode ?? 'UNKNOWN',
        message: e.ErrorMessage ?? '',
      })),
    })),
  };
}

export function toEntityDescription(
  output: Omit<DescribeEntityCommandOutput, '$metadata'>,
  requestedId: string,
): EntityDescription {
  let details: Record<string, unknown> = {};
  if (isRecord(output.DetailsDocument)) {
    details = output.DetailsDocument;
  } else if (output.Details !== undefined && output.Details !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output.Details);
    } catch (error) {
      throw new MarketplaceUnavailableError(
        `DescribeEntity ${requestedId} answered Details that are not JSON`,
        { cause: error },
      );
    }
    if (!isRecord(parsed)) {
      throw new MarketplaceUnavailableError(
        `DescribeEntity ${requestedId} answered Details that are not a JSON object`,
      );
    }
    details = parsed;
  }
  return {
    entityId: bareEntityId(output.EntityIdentifier) ?? requestedId,
    entityType: output.EntityType ?? '',
    entityArn: output.EntityArn ?? null,
    lastModified: isoOrNull(output.LastModifiedDate),
    details,
  };
}

/** The SDK's document type for DetailsDocument (a JSON value). */
type DetailsDocument = NonNullable<Change['DetailsDocument']>;

function toSdkChange(change: CatalogChange): Change {
  return {
    ChangeType: change.ChangeType,
    Entity: {
      Type: change.Entity.Type,
      ...(change.Entity.Identifier === undefined ? {} : { Identifier: change.Entity.Identifier }),
    },
    // A JSON object built by Agora's change-set builders: a valid document value.
    DetailsDocument: change.DetailsDocument as DetailsDocument,
    ...(change.ChangeName === undefined ? {} : { ChangeName: change.ChangeName }),
  };
}

// ---------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------

/** SDK client settings for one seller account (the same shape as ./gateway.ts uses). */
export function catalogClientConfig(
  settings: AwsMarketplaceSettings,
  account: AwsAccountConfig | null,
) {
  return awsClientConfig(settings, account, 'agora-catalog');
}

export interface CatalogGatewayOptions {
  /** The pacing clock (tests pass a fake one). */
  readonly clock?: RateClock;
}

export class SdkAwsCatalogGateway implements AwsCatalogGateway {
  private readonly client: MarketplaceCatalogClient;
  private readonly buckets: Record<CatalogOperation, TokenBucket>;

  constructor(
    settings: AwsMarketplaceSettings,
    account: AwsAccountConfig | null,
    options: CatalogGatewayOptions = {},
  ) {
    this.client = new MarketplaceCatalogClient(catalogClientConfig(settings, account));
    const clock = options.clock ?? systemRateClock;
    const bucket = (rate: number) => new TokenBucket(rate, rate, clock);
    this.buckets = {
      StartChangeSet: bucket(CATALOG_RATE_PER_SECOND.StartChangeSet),
      DescribeChangeSet: bucket(CATALOG_RATE_PER_SECOND.DescribeChangeSet),
      DescribeEntity: bucket(CATALOG_RATE_PER_SECOND.DescribeEntity),
    };
  }

  async startChangeSet(input: {
    readonly changes: readonly CatalogChange[];
    readonly clientRequestToken: string;
    readonly changeSetName: string;
  }): Promise<{ changeSetId: string; changeSetArn: string | null }> {
    await this.buckets.StartChangeSet.take();
    let output: StartChangeSetCommandOutput;
    try {
      output = await this.client.send(
        new StartChangeSetCommand({
          Catalog: CATALOG,
          ChangeSet: input.changes.map(toSdkChange),
          ClientRequestToken: input.clientRequestToken,
          ChangeSetName: input.changeSetName,
        }),
      );
    } catch (error) {
      throw translateCatalogError(error, 'StartChangeSet');
    }
    if (!output.ChangeSetId) {
      throw new MarketplaceUnavailableError('StartChangeSet answered without a ChangeSetId');
    }
    return { changeSetId: output.ChangeSetId, changeSetArn: output.ChangeSetArn ?? null };
  }

  async describeChangeSet(changeSetId: string): Promise<ChangeSetDescription | null> {
    await this.buckets.DescribeChangeSet.take();
    let output: DescribeChangeSetCommandOutput;
    try {
      output = await this.client.send(
        new DescribeChangeSetCommand({ Catalog: CATALOG, ChangeSetId: changeSetId }),
      );
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return null;
      throw translateCatalogError(error, 'DescribeChangeSet');
    }
    return toChangeSetDescription(output, changeSetId);
  }

  async describeEntity(entityId: string): Promise<EntityDescription | null> {
    await this.buckets.DescribeEntity.take();
    let output: DescribeEntityCommandOutput;
    try {
      output = await this.client.send(
        new DescribeEntityCommand({ Catalog: CATALOG, EntityId: entityId }),
      );
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return null;
      throw translateCatalogError(error, 'DescribeEntity');
    }
    return toEntityDescription(output, entityId);
  }

  /** Closes the client's sockets (tests, local tools). */
  destroy(): void {
    this.client.destroy();
  }
}

/** One Catalog gateway per seller account, created on first use (clients are built once). */
export class AwsCatalogGatewayRegistry {
  private readonly gateways = new Map<string, AwsCatalogGateway>();

  constructor(
    private readonly settings: AwsMarketplaceSettings,
    private readonly create: (
      settings: AwsMarketplaceSettings,
      account: AwsAccountConfig | null,
    ) => AwsCatalogGateway = (s, a) => new SdkAwsCatalogGateway(s, a),
  ) {}

  forAccount(account: AwsAccountConfig | null): AwsCatalogGateway {
    const key = account?.sellerAccountId ?? 'default';
    let gateway = this.gateways.get(key);
    if (!gateway) {
      gateway = this.create(this.settings, account);
      this.gateways.set(key, gateway);
    }
    return gateway;
  }

  get accountSettings(): AwsMarketplaceSettings {
    return this.settings;
  }
}
