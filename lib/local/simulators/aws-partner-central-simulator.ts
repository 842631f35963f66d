/**
 * AWS Partner Central Selling API (ACE co-sell opportunities) as an in-memory service, for local
 * runs and integration tests with the real `@aws-sdk/client-partnercentral-selling` client.
 *
 * Wire protocol (from the installed SDK, 3.1124.0): awsJson1_0. Every call is `POST /` with
 * `X-Amz-Target: AWSPartnerCentralSelling.<Operation>` and `Content-Type:
 * application/x-amz-json-1.0`; members are PascalCase; timestamps travel as ISO-8601 date-time
 * strings (the members carry the date-time format, not epoch seconds). Errors carry `__type` and
 * `Message` in the body and `x-amzn-errortype` in a header, with the statuses of the SDK model
 * (AccessDenied 403, ResourceNotFound 404, Conflict 409, Throttling 429, Validation 400,
 * ServiceQuotaExceeded 402, InternalServer 500). SigV4 signatures are not checked.
 *
 * Operations: CreateOpportunity (ReviewStatus `Pending Submission`, idempotent on ClientToken),
 * AssociateOpportunity (adds one related entity), GetOpportunity, and ListOpportunities
 * (filters on LastModifiedDate/CreatedDate/TargetCloseDate, identifier, stage, review status and
 * company name; Sort; NextToken pagination).
 *
 * It has no server of its own: `handle(request, response)` answers a request whose target names
 * this service and resolves true, or resolves false (without touching the request) so the host
 * server (aws-simulator.ts) routes it elsewhere. In process, tests `seed()` opportunities,
 * `update()` them (which moves LastModifiedDate on the injectable clock) and inject faults
 * (throttle, server-error, access-denied) that are consumed in the order they were injected.
 *
 * Response objects are checked against the SDK types at compile time through `Wire<T>`. What the
 * SDK types cannot confirm (length limits, page-size maximum, ARN formats, filter edge semantics,
 * business validation) is marked `unverified:`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ClosedLostReason,
  CountryCode,
  type CreateOpportunityResponse,
  type GetOpportunityResponse,
  Industry,
  type ListOpportunitiesResponse,
  type Marketing,
  NationalSecurity,
  OpportunityOrigin,
  OpportunitySortName,
  type OpportunitySummary,
  OpportunityType,
  PrimaryNeedFromAws,
  type Project,
  type ProjectSummary,
  RelatedEntityType,
  ReviewStatus,
  type SoftwareRevenue,
  SortOrder,
  Stage,
  ValidationExceptionErrorCode,
} from '@aws-sdk/client-partnercentral-selling';
import { z } from 'zod';
import { readBoundedBody } from './sim-http';

// ---------------------------------------------------------------------------------------------
// Protocol and limits
// ---------------------------------------------------------------------------------------------

/** The awsJson1_0 service target of the installed SDK (`serviceTarget` in its runtime config). */
export const PARTNER_CENTRAL_TARGET_PREFIX = 'AWSPartnerCentralSelling';
export const PARTNER_CENTRAL_CONTENT_TYPE = 'application/x-amz-json-1.0';

/** unverified: AWS's request size limit; this bounds the simulator. */
export const PC_SIM_BODY_BYTES_MAX = 1024 * 1024;
/** Opportunities kept; beyond this CreateOpportunity answers ServiceQuotaExceededException. */
export const PC_SIM_OPPORTUNITIES_MAX = 10_000;
/** Pending faults at once. */
export const PC_SIM_FAULTS_MAX = 100;
/** How many calls one fault may affect. */
export const PC_SIM_FAULT_TIMES_MAX = 1_000;
/** The call log keeps the newest entries only. */
export const PC_SIM_CALLS_MAX = 10_000;
/** A call input larger than this is logged as a placeholder, so the log stays bounded. */
export const PC_SIM_CALL_INPUT_BYTES_MAX = 64 * 1024;
/** Any string member, and any list inside an opportunity (simulator bounds). */
export const PC_SIM_TEXT_CHARS_MAX = 4_096;
export const PC_SIM_LIST_ITEMS_MAX = 100;
/** ListOpportunities' MaxResults default (SDK documentation: "Default: 20"). */
export const PC_LIST_PAGE_SIZE_DEFAULT = 20;
/** unverified: the largest MaxResults AWS accepts; the SDK types carry no range. */
export const PC_LIST_PAGE_SIZE_MAX = 100;
/** unverified: values in one ListOpportunities list filter (Identifier, LifeCycleStage, …). */
export const PC_LIST_FILTER_VALUES_MAX = 100;
/**
 * unverified: associations per related-entity type. The reference notes that an opportunity
 * links 1–10 solutions, offers or products; the SDK says AwsMarketplaceOffers "takes one value
 * per opportunity", which the simulator does not enforce.
 */
export const PC_RELATED_ENTITIES_PER_TYPE_MAX = 10;
/** unverified: NextSteps is documented as at most 255 characters. */
export const PC_NEXT_STEPS_CHARS_MAX = 255;
/** unverified: bounds of a ClientToken and of a related-entity identifier. */
export const PC_CLIENT_TOKEN_CHARS_MAX = 128;
export const PC_RELATED_ENTITY_IDENTIFIER_CHARS_MAX = 2_048;

export const PARTNER_CENTRAL_CATALOGS = ['AWS', 'Sandbox'] as const;
export type PartnerCentralSimCatalog = (typeof PARTNER_CENTRAL_CATALOGS)[number];

export const PARTNER_CENTRAL_SIM_OPERATIONS = [
  'CreateOpportunity',
  'AssociateOpportunity',
  'GetOpportunity',
  'ListOpportunities',
] as const;
export type PartnerCentralSimOperation = (typeof PARTNER_CENTRAL_SIM_OPERATIONS)[number];

/** Whether the request is a Partner Central Selling call (by its awsJson target). */
export function isPartnerCentralRequest(request: IncomingMessage): boolean {
  const target = request.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith(`${PARTNER_CENTRAL_TARGET_PREFIX}.`);
}

// ---------------------------------------------------------------------------------------------
// Opportunity schemas (seed, in-process updates and CreateOpportunity share them)
// ---------------------------------------------------------------------------------------------

const Text = z.string().max(PC_SIM_TEXT_CHARS_MAX);
const RequiredText = Text.min(1);
const IsoInstant = z.iso.datetime({ offset: true });
/** TargetCloseDate is a calendar date string (`LifeCycle.TargetCloseDate: string` in the SDK). */
const YmdDate = z.iso.date();
const list = <T extends z.ZodType>(item: T) => z.array(item).max(PC_SIM_LIST_ITEMS_MAX);
/** unverified: AWS opportunity ids look like `O1234567`; the exact pattern is not in the SDK. */
const OpportunityId = z.string().regex(/^O[0-9]{1,19}$/, 'must look like O1234567');
/** unverified: the AwsAccountId pattern (12 digits) is not in the SDK types. */
const AwsAccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
/**
 * Project, Marketing and SoftwareRevenue are kept and answered as given: attribution does not
 * read them, and AWS's business validation of them is not simulated (unverified).
 */
const OpaqueObject = z.record(z.string(), z.json());

const ContactSchema = z.strictObject({
  Email: Text.optional(),
  FirstName: Text.optional(),
  LastName: Text.optional(),
  BusinessTitle: Text.optional(),
  Phone: Text.optional(),
});

const AccountSchema = z.strictObject({
  Industry: z.enum(Industry).optional(),
  OtherIndustry: Text.optional(),
  CompanyName: RequiredText,
  WebsiteUrl: Text.optional(),
  AwsAccountId: AwsAccountId.optional(),
  Address: z
    .strictObject({
      City: Text.optional(),
      PostalCode: Text.optional(),
      StateOrRegion: Text.optional(),
      CountryCode: z.enum(CountryCode).optional(),
      StreetAddress: Text.optional(),
    })
    .optional(),
  Duns: Text.optional(),
});

const CustomerSchema = z.strictObject({
  Account: AccountSchema.optional(),
  Contacts: list(ContactSchema).optional(),
});

const LifeCycleSchema = z.strictObject({
  Stage: z.enum(Stage).optional(),
  ClosedLostReason: z.enum(ClosedLostReason).optional(),
  NextSteps: z.string().max(PC_NEXT_STEPS_CHARS_MAX).optional(),
  TargetCloseDate: YmdDate.optional(),
  ReviewStatus: z.enum(ReviewStatus).optional(),
  ReviewComments: Text.optional(),
  ReviewStatusReason: Text.optional(),
  NextStepsHistory: list(z.strictObject({ Value: Text, Time: IsoInstant })).optional(),
});

const RelatedEntityIds = list(RequiredText.max(PC_RELATED_ENTITY_IDENTIFIER_CHARS_MAX)).max(
  PC_RELATED_ENTITIES_PER_TYPE_MAX,
);
const RelatedEntityIdentifiersSchema = z.strictObject({
  AwsMarketplaceOffers: RelatedEntityIds.optional(),
  AwsMarketplaceOfferSets: RelatedEntityIds.optional(),
  Solutions: RelatedEntityIds.optional(),
  AwsProducts: RelatedEntityIds.optional(),
  AwsMarketplaceSolutions: RelatedEntityIds.optional(),
  AwsMarketplaceProducts: RelatedEntityIds.optional(),
});

/** The members a caller may set (CreateOpportunity's, plus the associations). */
const opportunityMembers = {
  PartnerOpportunityIdentifier: Text.optional(),
  OpportunityType: z.enum(OpportunityType).optional(),
  Origin: z.enum(OpportunityOrigin).optional(),
  PrimaryNeedsFromAws: list(z.enum(PrimaryNeedFromAws)).optional(),
  NationalSecurity: z.enum(NationalSecurity).optional(),
  Customer: CustomerSchema.optional(),
  Project: OpaqueObject.optional(),
  Marketing: OpaqueObject.optional(),
  SoftwareRevenue: OpaqueObject.optional(),
  LifeCycle: LifeCycleSchema.optional(),
  OpportunityTeam: list(ContactSchema).optional(),
  RelatedEntityIdentifiers: RelatedEntityIdentifiersSchema.optional(),
};

/**
 * One opportunity for `seed()`, in the SDK's member names with ISO timestamps. `Id` is generated
 * when absent; CreatedDate defaults to the simulator clock, LastModifiedDate to CreatedDate.
 */
export const SimOpportunitySeedSchema = z
  .strictObject({
    Id: OpportunityId.optional(),
    Catalog: z.enum(PARTNER_CENTRAL_CATALOGS).optional(),
    CreatedDate: IsoInstant.optional(),
    LastModifiedDate: IsoInstant.optional(),
    ...opportunityMembers,
  })
  .refine(
    (o) =>
      o.CreatedDate === undefined ||
      o.LastModifiedDate === undefined ||
      Date.parse(o.LastModifiedDate) >= Date.parse(o.CreatedDate),
    { message: 'LastModifiedDate must not precede CreatedDate', path: ['LastModifiedDate'] },
  );
export type SimOpportunitySeed = z.input<typeof SimOpportunitySeedSchema>;

/**
 * What `update()` changes: any caller-settable member. Top-level members replace the stored
 * ones, except LifeCycle, whose given members are merged into the stored LifeCycle.
 */
export const SimOpportunityPatchSchema = z.strictObject(opportunityMembers);
export type SimOpportunityPatch = z.input<typeof SimOpportunityPatchSchema>;

/** An opportunity as the simulator holds it (the SDK's member names, ISO timestamps). */
export type SimOpportunity = z.output<typeof SimOpportunityPatchSchema> & {
  readonly Id: string;
  readonly Arn: string;
  readonly Catalog: PartnerCentralSimCatalog;
  CreatedDate: string;
  LastModifiedDate: string;
};

export interface PartnerCentralSimulatorState {
  readonly opportunities: readonly SimOpportunity[];
}

/**
 * The next `times` (default 1) calls of `operation` (default: any Partner Central operation)
 * answer 429 ThrottlingException, 500 InternalServerException or 403 AccessDeniedException.
 */
export const PartnerCentralFaultSchema = z.strictObject({
  kind: z.enum(['throttle', 'server-error', 'access-denied']),
  operation: z.enum(PARTNER_CENTRAL_SIM_OPERATIONS).optional(),
  times: z.number().int().min(1).max(PC_SIM_FAULT_TIMES_MAX).optional(),
});
export type PartnerCentralFault = z.input<typeof PartnerCentralFaultSchema>;

export interface PartnerCentralSimCall {
  readonly operation: PartnerCentralSimOperation;
  readonly input: unknown;
  /** Simulator clock, ISO. */
  readonly at: string;
}

export interface AwsPartnerCentralSimulatorOptions {
  /** The simulator clock: CreatedDate / LastModifiedDate of new and updated opportunities. */
  readonly now?: () => Date;
  /** The partner's account in opportunity ARNs. */
  readonly accountId?: string;
  /** Also told about every call (the host simulator's shared call log). */
  readonly onCall?: (operation: string, input: unknown, inputBytes: number) => void;
}

/** Bad input to the in-process API (tests); not an AWS error. */
export class PartnerCentralSimulatorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartnerCentralSimulatorInputError';
  }
}

// ---------------------------------------------------------------------------------------------
// Wire types and errors
// ---------------------------------------------------------------------------------------------

/** An SDK type as it travels here: Date members are ISO-8601 date-time strings. */
type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

/** An awsJson1_0 error: status, `x-amzn-errortype`, body `{__type, Message, ...members}`. */
export class PartnerCentralWireError extends Error {
  constructor(
    readonly errorType: string,
    readonly statusCode: number,
    message: string,
    readonly members: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = errorType;
  }
}

interface FieldProblem {
  readonly FieldName: string;
  readonly Message: string;
  readonly Code: ValidationExceptionErrorCode;
}

// Statuses are the SDK model's httpError traits.
const wireErrors = {
  validation: (message: string, errors: readonly FieldProblem[] = []) =>
    new PartnerCentralWireError('ValidationException', 400, message, {
      Reason: 'REQUEST_VALIDATION_FAILED',
      ...(errors.length > 0 ? { ErrorList: errors } : {}),
    }),
  notFound: (message: string) =>
    new PartnerCentralWireError('ResourceNotFoundException', 404, message),
  conflict: (message: string) => new PartnerCentralWireError('ConflictException', 409, message),
  quota: (message: string) =>
    new PartnerCentralWireError('ServiceQuotaExceededException', 402, message),
  throttled: () =>
    new PartnerCentralWireError('ThrottlingException', 429, 'Rate exceeded (simulated fault)'),
  internal: (message = 'An internal error occurred (simulated fault)') =>
    new PartnerCentralWireError('InternalServerException', 500, message),
  accessDenied: () =>
    new PartnerCentralWireError(
      'AccessDeniedException',
      403,
      'You do not have access to this action (simulated fault)',
    ),
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** unverified: which ValidationExceptionErrorCode AWS picks for each kind of problem. */
function problemCode(issue: z.core.$ZodIssue, input: unknown): ValidationExceptionErrorCode {
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    return ValidationExceptionErrorCode.REQUIRED_FIELD_MISSING;
  }
  if (issue.code === 'invalid_value') return ValidationExceptionErrorCode.INVALID_ENUM_VALUE;
  if (issue.code === 'invalid_format') return ValidationExceptionErrorCode.INVALID_STRING_FORMAT;
  if (issue.code === 'too_small') return ValidationExceptionErrorCode.NOT_ENOUGH_VALUES;
  if (issue.code === 'too_big') return ValidationExceptionErrorCode.TOO_MANY_VALUES;
  return ValidationExceptionErrorCode.INVALID_VALUE;
}

function parseOrReject<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, 20).map((issue) => ({
    FieldName: issue.path.map(String).join('.'),
    Message: issue.message,
    Code: problemCode(issue, input),
  }));
  const first = errors[0];
  throw wireErrors.validation(
    `Invalid ${what}${first ? `: ${first.FieldName || '(root)'}: ${first.Message}` : ''}`,
    errors,
  );
}

function parseInProcess<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') || '(root)';
  throw new PartnerCentralSimulatorInputError(
    `Invalid ${what}: ${path}: ${issue?.message ?? 'invalid'}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Operation inputs (lenient like AWS: unknown members are ignored)
// ---------------------------------------------------------------------------------------------

const Catalog = z.enum(PARTNER_CENTRAL_CATALOGS);

const CreateOpportunityInput = z.object({
  Catalog,
  ClientToken: z.string().min(1).max(PC_CLIENT_TOKEN_CHARS_MAX).optional(),
  ...opportunityMembers,
  // Associations go through AssociateOpportunity; CreateOpportunity has no such member.
  RelatedEntityIdentifiers: z.undefined().optional(),
  Tags: list(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) })).optional(),
});

const AssociateOpportunityInput = z.object({
  Catalog,
  OpportunityIdentifier: OpportunityId,
  RelatedEntityType: z.enum(RelatedEntityType),
  RelatedEntityIdentifier: RequiredText.max(PC_RELATED_ENTITY_IDENTIFIER_CHARS_MAX),
});

const GetOpportunityInput = z.object({ Catalog, Identifier: OpportunityId });

const FilterValues = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1).max(PC_LIST_FILTER_VALUES_MAX);

const ListOpportunitiesInput = z.object({
  Catalog,
  MaxResults: z.number().int().min(1).max(PC_LIST_PAGE_SIZE_MAX).optional(),
  NextToken: z.string().min(1).max(2_048).optional(),
  // Both members are required when Sort is given (they are not optional in the SDK types).
  Sort: z.object({ SortOrder: z.enum(SortOrder), SortBy: z.enum(OpportunitySortName) }).optional(),
  LastModifiedDate: z
    .object({
      AfterLastModifiedDate: IsoInstant.optional(),
      BeforeLastModifiedDate: IsoInstant.optional(),
    })
    .optional(),
  CreatedDate: z
    .object({ AfterCreatedDate: IsoInstant.optional(), BeforeCreatedDate: IsoInstant.optional() })
    .optional(),
  TargetCloseDate: z
    .object({ AfterTargetCloseDate: YmdDate.optional(), BeforeTargetCloseDate: YmdDate.optional() })
    .optional(),
  Identifier: FilterValues(z.string().max(64)).optional(),
  LifeCycleStage: FilterValues(z.enum(Stage)).optional(),
  LifeCycleReviewStatus: FilterValues(z.enum(ReviewStatus)).optional(),
  CustomerCompanyName: FilterValues(Text).optional(),
});
type ListOpportunitiesQuery = z.output<typeof ListOpportunitiesInput>;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/**
 * unverified: review states in which AWS locks an opportunity ("Submitted opportunities are
 * locked during review"); AssociateOpportunity answers ConflictException there.
 */
const LOCKED_REVIEW_STATUSES: readonly string[] = ['Submitted', 'In review'];

function msOf(iso: string): number {
  return Date.parse(iso);
}

/**
 * The instant a change happens: the clock, or 1 ms after `previous` when the clock has not
 * moved past it, so every change moves LastModifiedDate forward even on a frozen test clock.
 */
function nextInstant(now: Date, previous: string | null): string {
  const floor = previous === null ? Number.NEGATIVE_INFINITY : msOf(previous) + 1;
  return new Date(Math.max(now.getTime(), floor)).toISOString();
}

function scopeHash(query: ListOpportunitiesQuery): string {
  const { NextToken: _token, MaxResults: _size, ...scope } = query;
  return createHash('sha256').update(JSON.stringify(scope)).digest('hex').slice(0, 16);
}

type SortKey = string | number;

function sortKeyOf(o: SimOpportunity, by: OpportunitySortName): SortKey {
  switch (by) {
    case 'LastModifiedDate':
      return msOf(o.LastModifiedDate);
    case 'CreatedDate':
      return msOf(o.CreatedDate);
    case 'Identifier':
      return o.Id;
    case 'CustomerCompanyName':
      return o.Customer?.Account?.CompanyName ?? '';
    case 'TargetCloseDate':
      return o.LifeCycle?.TargetCloseDate ?? '';
  }
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** The opportunity's position in the sort: its key, then its id (so equal keys never tie). */
function comparePositions(a: [SortKey, string], b: [SortKey, string], descending: boolean) {
  const order = compareKeys(a[0], b[0]) || compareKeys(a[1], b[1]);
  return descending ? -order : order;
}

/**
 * Page tokens resume after the last opportunity answered (its sort key and id) rather than at
 * an offset, so an opportunity modified between pages is neither skipped nor answered twice
 * on the pages still to come. unverified: AWS's tokens are opaque; their semantics are assumed.
 */
const PageTokenSchema = z.object({
  h: z.string(),
  k: z.union([z.string(), z.number()]),
  id: z.string(),
});

function encodeToken(query: ListOpportunitiesQuery, position: [SortKey, string]): string {
  return Buffer.from(
    JSON.stringify({ h: scopeHash(query), k: position[0], id: position[1] }),
  ).toString('base64url');
}

function decodeToken(query: ListOpportunitiesQuery): [SortKey, string] | null {
  if (query.NextToken === undefined) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(query.NextToken, 'base64url').toString('utf8'));
  } catch {
    throw wireErrors.validation('The NextToken is not valid');
  }
  const parsed = PageTokenSchema.safeParse(decoded);
  if (!parsed.success || parsed.data.h !== scopeHash(query)) {
    throw wireErrors.validation('The NextToken is not valid for this request');
  }
  return [parsed.data.k, parsed.data.id];
}

function clientTokenHash(input: unknown): string {
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/** A stored object member as the SDK type it is echoed as (kept as given; see OpaqueObject). */
function opaque<T>(value: Record<string, unknown> | undefined): Wire<T> | undefined {
  return value as Wire<T> | undefined;
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------------

/**
 * The body, or null when it exceeds PC_SIM_BODY_BYTES_MAX. An oversized body is drained (not
 * kept) so the client can read the 413; one that goes on past 8× the limit is cut off.
 */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return readBoundedBody(request, PC_SIM_BODY_BYTES_MAX);
}

function sendError(
  response: ServerResponse,
  error: PartnerCentralWireError,
  requestId: string,
): void {
  response
    .writeHead(error.statusCode, {
      'content-type': PARTNER_CENTRAL_CONTENT_TYPE,
      'x-amzn-errortype': error.errorType,
      'x-amzn-requestid': requestId,
    })
    .end(JSON.stringify({ __type: error.errorType, Message: error.message, ...error.members }));
}

function isSimOperation(operation: string): operation is PartnerCentralSimOperation {
  return (PARTNER_CENTRAL_SIM_OPERATIONS as readonly string[]).includes(operation);
}

// ---------------------------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------------------------

interface StoredFault {
  readonly kind: 'throttle' | 'server-error' | 'access-denied';
  readonly operation: PartnerCentralSimOperation | null;
  remaining: number;
}

export class AwsPartnerCentralSimulator {
  private readonly now: () => Date;
  private readonly accountId: string;
  private readonly onCall: AwsPartnerCentralSimulatorOptions['onCall'];
  private readonly opportunities = new Map<string, SimOpportunity>();
  /** ClientToken → the opportunity it created and a hash of the request that created it. */
  private readonly byClientToken = new Map<string, { id: string; hash: string }>();
  private readonly faults: StoredFault[] = [];
  private readonly callLog: PartnerCentralSimCall[] = [];
  private sequence = 0;

  constructor(options: AwsPartnerCentralSimulatorOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.accountId = options.accountId ?? '111122223333';
    this.onCall = options.onCall;
  }

  // ----- test and control API -----

  /** Puts an opportunity in place (replacing one with the same Id); answers its Id. */
  seed(opportunity: SimOpportunitySeed): string {
    const parsed = parseInProcess(SimOpportunitySeedSchema, opportunity, 'opportunity');
    const id = parsed.Id ?? this.nextId();
    if (!this.opportunities.has(id) && this.opportunities.size >= PC_SIM_OPPORTUNITIES_MAX) {
      throw new PartnerCentralSimulatorInputError(
        `The simulator keeps at most ${PC_SIM_OPPORTUNITIES_MAX} opportunities`,
      );
    }
    const { Id: _id, Catalog: catalog, CreatedDate, LastModifiedDate, ...members } = parsed;
    const created = CreatedDate ?? this.now().toISOString();
    this.store({
      ...structuredClone(members),
      Id: id,
      Arn: this.arnOf(catalog ?? 'AWS', id),
      Catalog: catalog ?? 'AWS',
      CreatedDate: new Date(msOf(created)).toISOString(),
      LastModifiedDate: new Date(msOf(LastModifiedDate ?? created)).toISOString(),
    });
    return id;
  }

  /**
   * Changes an opportunity as AWS or the partner would (stage, review status, associations…)
   * and moves its LastModifiedDate to the simulator clock (at least 1 ms forward).
   */
  update(id: string, patch: SimOpportunityPatch): SimOpportunity {
    const stored = this.opportunities.get(id);
    if (stored === undefined) {
      throw new PartnerCentralSimulatorInputError(`No opportunity ${id}`);
    }
    const parsed = structuredClone(parseInProcess(SimOpportunityPatchSchema, patch, 'patch'));
    const next: SimOpportunity = {
      ...stored,
      ...parsed,
      ...(parsed.LifeCycle === undefined
        ? {}
        : { LifeCycle: { ...stored.LifeCycle, ...parsed.LifeCycle } }),
      LastModifiedDate: nextInstant(this.now(), stored.LastModifiedDate),
    };
    this.store(next);
    return structuredClone(next);
  }

  injectFault(fault: PartnerCentralFault): void {
    const parsed = parseInProcess(PartnerCentralFaultSchema, fault, 'Partner Central fault');
    if (this.faults.length >= PC_SIM_FAULTS_MAX) {
      throw new PartnerCentralSimulatorInputError(
        `At most ${PC_SIM_FAULTS_MAX} Partner Central faults can be pending`,
      );
    }
    this.faults.push({
      kind: parsed.kind,
      operation: parsed.operation ?? null,
      remaining: parsed.times ?? 1,
    });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Forgets opportunities, client tokens, faults and calls. */
  reset(): void {
    this.opportunities.clear();
    this.byClientToken.clear();
    this.faults.length = 0;
    this.callLog.length = 0;
  }

  calls(): PartnerCentralSimCall[] {
    return structuredClone(this.callLog);
  }

  state(): PartnerCentralSimulatorState {
    return structuredClone({ opportunities: [...this.opportunities.values()] });
  }

  /**
   * Answers a Partner Central request and resolves true, or resolves false at once (reading
   * nothing) for any other request. Never rejects: a simulator failure is answered as a 500.
   */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (!isPartnerCentralRequest(request)) return false;
    const requestId = randomUUID();
    try {
      await this.serve(request, response, requestId);
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
      } else {
        sendError(
          response,
          wireErrors.internal(error instanceof Error ? error.message : 'Simulator failure'),
          requestId,
        );
      }
    }
    return true;
  }

  /** One operation with pending faults applied (what the HTTP handler runs). */
  invoke(operation: PartnerCentralSimOperation, input: unknown): unknown {
    const fault = this.takeFault(operation);
    if (fault === 'throttle') throw wireErrors.throttled();
    if (fault === 'server-error') throw wireErrors.internal();
    if (fault === 'access-denied') throw wireErrors.accessDenied();
    switch (operation) {
      case 'CreateOpportunity':
        return this.createOpportunity(input);
      case 'AssociateOpportunity':
        return this.associateOpportunity(input);
      case 'GetOpportunity':
        return this.getOpportunity(input);
      case 'ListOpportunities':
        return this.listOpportunities(input);
    }
  }

  // ----- operations (in process: no faults, no call log) -----

  createOpportunity(input: unknown): Wire<CreateOpportunityResponse> {
    const request = parseOrReject(CreateOpportunityInput, input, 'CreateOpportunity request');
    const hash = clientTokenHash(input);
    if (request.ClientToken !== undefined) {
      const earlier = this.byClientToken.get(request.ClientToken);
      if (earlier !== undefined) {
        // SDK documentation: reusing a token for another body is refused with this message.
        if (earlier.hash !== hash) {
          throw wireErrors.conflict('Conflicting client token submitted for a new request body.');
        }
        const existing = this.opportunities.get(earlier.id);
        if (existing !== undefined) return this.createdWire(existing);
      }
    }
    // SDK documentation: with Catalog AWS, Origin must be Partner Referral.
    if (
      request.Catalog === 'AWS' &&
      (request.Origin ?? 'Partner Referral') !== 'Partner Referral'
    ) {
      throw wireErrors.validation('Origin must be Partner Referral in the AWS catalog', [
        { FieldName: 'Origin', Message: 'must be Partner Referral', Code: 'INVALID_VALUE' },
      ]);
    }
    if (this.opportunities.size >= PC_SIM_OPPORTUNITIES_MAX) {
      throw wireErrors.quota(
        `The simulator keeps at most ${PC_SIM_OPPORTUNITIES_MAX} opportunities`,
      );
    }
    const {
      Catalog: catalog,
      ClientToken: clientToken,
      Tags: _tags,
      RelatedEntityIdentifiers: _related,
      ...members
    } = request;
    const id = this.nextId();
    const at = this.now().toISOString();
    const opportunity: SimOpportunity = {
      ...members,
      Origin: members.Origin ?? 'Partner Referral',
      // Reference: CreateOpportunity sets ReviewStatus Pending Submission, whatever was sent.
      LifeCycle: { ...members.LifeCycle, ReviewStatus: 'Pending Submission' },
      RelatedEntityIdentifiers: {},
      Id: id,
      Arn: this.arnOf(catalog, id),
      Catalog: catalog,
      CreatedDate: at,
      LastModifiedDate: at,
    };
    this.store(opportunity);
    if (clientToken !== undefined) this.byClientToken.set(clientToken, { id, hash });
    return this.createdWire(opportunity);
  }

  associateOpportunity(input: unknown): Record<string, never> {
    const request = parseOrReject(AssociateOpportunityInput, input, 'AssociateOpportunity request');
    const stored = this.find(request.Catalog, request.OpportunityIdentifier);
    const type = request.RelatedEntityType;
    const identifier = request.RelatedEntityIdentifier;
    // SDK documentation: Marketplace entities are named by ARN. unverified: the exact check.
    if (type.startsWith('AwsMarketplace') && !/^arn:aws[a-z-]*:aws-marketplace:/.test(identifier)) {
      throw wireErrors.validation(`${type} must be given as an AWS Marketplace ARN`, [
        {
          FieldName: 'RelatedEntityIdentifier',
          Message: 'must be an AWS Marketplace ARN',
          Code: 'INVALID_STRING_FORMAT',
        },
      ]);
    }
    const reviewStatus = stored.LifeCycle?.ReviewStatus;
    if (reviewStatus !== undefined && LOCKED_REVIEW_STATUSES.includes(reviewStatus)) {
      throw wireErrors.conflict(
        `Opportunity ${stored.Id} is locked while its review status is ${reviewStatus}`,
      );
    }
    const related = stored.RelatedEntityIdentifiers ?? {};
    const current = related[type] ?? [];
    // unverified: associating an entity that is already associated is assumed to be a no-op.
    if (current.includes(identifier)) return {};
    if (current.length >= PC_RELATED_ENTITIES_PER_TYPE_MAX) {
      throw wireErrors.validation(
        `An opportunity holds at most ${PC_RELATED_ENTITIES_PER_TYPE_MAX} ${type}`,
        [{ FieldName: 'RelatedEntityIdentifier', Message: 'too many', Code: 'TOO_MANY_VALUES' }],
      );
    }
    this.store({
      ...stored,
      RelatedEntityIdentifiers: { ...related, [type]: [...current, identifier] },
      LastModifiedDate: nextInstant(this.now(), stored.LastModifiedDate),
    });
    return {};
  }

  getOpportunity(input: unknown): Wire<GetOpportunityResponse> {
    const request = parseOrReject(GetOpportunityInput, input, 'GetOpportunity request');
    const o = this.find(request.Catalog, request.Identifier);
    const account = o.Customer?.Account;
    const lifeCycle = o.LifeCycle;
    const related = o.RelatedEntityIdentifiers ?? {};
    return {
      Catalog: o.Catalog,
      Id: o.Id,
      Arn: o.Arn,
      PartnerOpportunityIdentifier: o.PartnerOpportunityIdentifier,
      OpportunityType: o.OpportunityType,
      PrimaryNeedsFromAws: o.PrimaryNeedsFromAws,
      NationalSecurity: o.NationalSecurity,
      Customer: o.Customer && {
        Account: account && {
          Industry: account.Industry,
          OtherIndustry: account.OtherIndustry,
          CompanyName: account.CompanyName,
          WebsiteUrl: account.WebsiteUrl,
          AwsAccountId: account.AwsAccountId,
          Address: account.Address && { ...account.Address },
          Duns: account.Duns,
        },
        Contacts: o.Customer.Contacts?.map((c) => ({ ...c })),
      },
      Project: opaque<Project>(o.Project),
      Marketing: opaque<Marketing>(o.Marketing),
      SoftwareRevenue: opaque<SoftwareRevenue>(o.SoftwareRevenue),
      LastModifiedDate: o.LastModifiedDate,
      CreatedDate: o.CreatedDate,
      RelatedEntityIdentifiers: {
        AwsMarketplaceOffers: related.AwsMarketplaceOffers,
        AwsMarketplaceOfferSets: related.AwsMarketplaceOfferSets,
        Solutions: related.Solutions,
        AwsProducts: related.AwsProducts,
        AwsMarketplaceSolutions: related.AwsMarketplaceSolutions,
        AwsMarketplaceProducts: related.AwsMarketplaceProducts,
      },
      LifeCycle: lifeCycle && {
        Stage: lifeCycle.Stage,
        ClosedLostReason: lifeCycle.ClosedLostReason,
        NextSteps: lifeCycle.NextSteps,
        TargetCloseDate: lifeCycle.TargetCloseDate,
        ReviewStatus: lifeCycle.ReviewStatus,
        ReviewComments: lifeCycle.ReviewComments,
        ReviewStatusReason: lifeCycle.ReviewStatusReason,
        NextStepsHistory: lifeCycle.NextStepsHistory?.map((h) => ({
          Value: h.Value,
          Time: h.Time,
        })),
      },
      OpportunityTeam: o.OpportunityTeam?.map((c) => ({ ...c })),
    };
  }

  /**
   * Filters (AND across filters, OR within a list), sorts (default LastModifiedDate
   * DESCENDING), pages. The After… bounds are inclusive ("AWS only returns opportunities created
   * or updated on or after that date and time"); unverified: the Before… bounds are exclusive,
   * and the default order is DESCENDING.
   */
  listOpportunities(input: unknown): Wire<ListOpportunitiesResponse> {
    const query = parseOrReject(ListOpportunitiesInput, input, 'ListOpportunities request');
    const after = decodeToken(query);
    const sortBy = query.Sort?.SortBy ?? 'LastModifiedDate';
    const descending = (query.Sort?.SortOrder ?? 'DESCENDING') === 'DESCENDING';
    const position = (o: SimOpportunity): [SortKey, string] => [sortKeyOf(o, sortBy), o.Id];
    const matching = [...this.opportunities.values()]
      .filter((o) => o.Catalog === query.Catalog && this.matches(o, query))
      .sort((a, b) => comparePositions(position(a), position(b), descending))
      .filter((o) => after === null || comparePositions(position(o), after, descending) > 0);
    const size = query.MaxResults ?? PC_LIST_PAGE_SIZE_DEFAULT;
    const page = matching.slice(0, size);
    const last = page.at(-1);
    return {
      OpportunitySummaries: page.map((o) => this.summaryWire(o)),
      NextToken:
        matching.length > size && last !== undefined
          ? encodeToken(query, position(last))
          : undefined,
    };
  }

  // ----- internals -----

  private matches(o: SimOpportunity, query: ListOpportunitiesQuery): boolean {
    const modified = msOf(o.LastModifiedDate);
    const created = msOf(o.CreatedDate);
    const closes = o.LifeCycle?.TargetCloseDate;
    const within = (value: number, from: string | undefined, to: string | undefined) =>
      (from === undefined || value >= msOf(from)) && (to === undefined || value < msOf(to));
    const inList = <T>(values: readonly T[] | undefined, value: T | undefined) =>
      values === undefined || (value !== undefined && values.includes(value));
    return (
      within(
        modified,
        query.LastModifiedDate?.AfterLastModifiedDate,
        query.LastModifiedDate?.BeforeLastModifiedDate,
      ) &&
      within(created, query.CreatedDate?.AfterCreatedDate, query.CreatedDate?.BeforeCreatedDate) &&
      (query.TargetCloseDate === undefined ||
        (closes !== undefined &&
          (query.TargetCloseDate.AfterTargetCloseDate === undefined ||
            closes >= query.TargetCloseDate.AfterTargetCloseDate) &&
          (query.TargetCloseDate.BeforeTargetCloseDate === undefined ||
            closes < query.TargetCloseDate.BeforeTargetCloseDate))) &&
      inList(query.Identifier, o.Id) &&
      inList(query.LifeCycleStage, o.LifeCycle?.Stage) &&
      inList(query.LifeCycleReviewStatus, o.LifeCycle?.ReviewStatus) &&
      inList(query.CustomerCompanyName, o.Customer?.Account?.CompanyName)
    );
  }

  private summaryWire(o: SimOpportunity): Wire<OpportunitySummary> {
    const account = o.Customer?.Account;
    const address = account?.Address;
    const lifeCycle = o.LifeCycle;
    const project = o.Project;
    return {
      Catalog: o.Catalog,
      Id: o.Id,
      Arn: o.Arn,
      PartnerOpportunityIdentifier: o.PartnerOpportunityIdentifier,
      OpportunityType: o.OpportunityType,
      LastModifiedDate: o.LastModifiedDate,
      CreatedDate: o.CreatedDate,
      // The summary shapes hold fewer members: no NextStepsHistory, no AwsAccountId or Duns.
      LifeCycle: lifeCycle && {
        Stage: lifeCycle.Stage,
        ClosedLostReason: lifeCycle.ClosedLostReason,
        NextSteps: lifeCycle.NextSteps,
        TargetCloseDate: lifeCycle.TargetCloseDate,
        ReviewStatus: lifeCycle.ReviewStatus,
        ReviewComments: lifeCycle.ReviewComments,
        ReviewStatusReason: lifeCycle.ReviewStatusReason,
      },
      Customer: account && {
        Account: {
          Industry: account.Industry,
          OtherIndustry: account.OtherIndustry,
          CompanyName: account.CompanyName,
          WebsiteUrl: account.WebsiteUrl,
          Address: address && {
            City: address.City,
            PostalCode: address.PostalCode,
            StateOrRegion: address.StateOrRegion,
            CountryCode: address.CountryCode,
          },
        },
      },
      Project:
        project &&
        opaque<ProjectSummary>({
          DeliveryModels: project.DeliveryModels,
          ExpectedCustomerSpend: project.ExpectedCustomerSpend,
          ExpectedContractDuration: project.ExpectedContractDuration,
        }),
    };
  }

  private createdWire(o: SimOpportunity): Wire<CreateOpportunityResponse> {
    return {
      Id: o.Id,
      PartnerOpportunityIdentifier: o.PartnerOpportunityIdentifier,
      LastModifiedDate: o.LastModifiedDate,
    };
  }

  /** The opportunity in this catalog, or ResourceNotFoundException. */
  private find(catalog: PartnerCentralSimCatalog, id: string): SimOpportunity {
    const stored = this.opportunities.get(id);
    if (stored === undefined || stored.Catalog !== catalog) {
      throw wireErrors.notFound(`Opportunity ${id} not found in catalog ${catalog}`);
    }
    return stored;
  }

  private store(opportunity: SimOpportunity): void {
    this.opportunities.set(opportunity.Id, opportunity);
  }

  /** Sequential ids (`O1000001`, …) that skip ids already seeded. */
  private nextId(): string {
    let id: string;
    do {
      this.sequence += 1;
      id = `O${1_000_000 + this.sequence}`;
    } while (this.opportunities.has(id));
    return id;
  }

  /** unverified: the opportunity ARN format. */
  private arnOf(catalog: PartnerCentralSimCatalog, id: string): string {
    return `arn:aws:partnercentral:us-east-1:${this.accountId}:catalog/${catalog}/opportunity/${id}`;
  }

  private takeFault(operation: PartnerCentralSimOperation): StoredFault['kind'] | null {
    const index = this.faults.findIndex((f) => f.operation === null || f.operation === operation);
    const fault = this.faults[index];
    if (fault === undefined) return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault.kind;
  }

  private recordCall(
    operation: PartnerCentralSimOperation,
    input: unknown,
    inputBytes: number,
  ): void {
    const logged =
      inputBytes > PC_SIM_CALL_INPUT_BYTES_MAX
        ? { omitted: `input of ${inputBytes} bytes exceeds ${PC_SIM_CALL_INPUT_BYTES_MAX}` }
        : input;
    if (this.callLog.length >= PC_SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push({ operation, input: logged, at: this.now().toISOString() });
    this.onCall?.(operation, logged, inputBytes);
  }

  private async serve(
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
  ): Promise<void> {
    const target = String(request.headers['x-amz-target']);
    const operation = target.slice(PARTNER_CENTRAL_TARGET_PREFIX.length + 1);
    const body = await readBody(request);
    // unverified: what AWS's front end answers for a wrong method, an unknown operation, an
    // oversized body or broken JSON (UnknownOperationException / SerializationException).
    if (request.method !== 'POST' || !isSimOperation(operation)) {
      sendError(
        response,
        new PartnerCentralWireError(
          'UnknownOperationException',
          400,
          `${request.method ?? '?'} ${target} is not an operation the simulator implements`,
        ),
        requestId,
      );
      return;
    }
    if (body === null) {
      sendError(
        response,
        new PartnerCentralWireError(
          'SerializationException',
          413,
          `Request body exceeds ${PC_SIM_BODY_BYTES_MAX} bytes`,
        ),
        requestId,
      );
      return;
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      sendError(
        response,
        new PartnerCentralWireError(
          'SerializationException',
          400,
          'Request body is not valid JSON',
        ),
        requestId,
      );
      return;
    }
    this.recordCall(operation, input, body.length);
    try {
      const output = this.invoke(operation, input);
      response
        .writeHead(200, {
          'content-type': PARTNER_CENTRAL_CONTENT_TYPE,
          'x-amzn-requestid': requestId,
        })
        .end(JSON.stringify(output));
    } catch (error) {
      if (!(error instanceof PartnerCentralWireError)) throw error;
      sendError(response, error, requestId);
    }
  }
}
