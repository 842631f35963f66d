/**
 * The AWS Marketplace Catalog API (restJson1, API version 2018-09-17) as an in-memory state
 * machine, for local runs and integration tests with the real `@aws-sdk/client-marketplace-catalog`
 * client. It answers StartChangeSet (`POST /StartChangeSet`), DescribeChangeSet
 * (`GET /DescribeChangeSet?catalog=…&changeSetId=…`), DescribeEntity
 * (`GET /DescribeEntity?catalog=…&entityId=…`) and ListChangeSets (`POST /ListChangeSets`) for
 * the Offer@1.0 and ResaleAuthorization@1.0 entity types.
 *
 * It has no server of its own: `handle(request, response)` answers a Catalog path and returns
 * true, or returns false so the host server (aws-simulator.ts) routes the request elsewhere.
 *
 * Behaviour:
 * - StartChangeSet validates synchronously (422 ValidationException for schema problems, 404
 *   ResourceNotFoundException for an unknown entity, 423 ResourceInUseException for an entity
 *   locked by an open change set) and is idempotent on ClientRequestToken.
 * - A change set then advances one step per DescribeChangeSet of it — PREPARING, APPLYING,
 *   SUCCEEDED — finishing on the Nth describe (`describesToFinish`, default 2). Asynchronous
 *   validation failures end it FAILED with CLIENT_ERROR and an ErrorDetailList on the offending
 *   change; only a SUCCEEDED change set creates or changes entities.
 * - Faults are consumed in the order they were injected: a `change-set-failure` makes the next
 *   new change set end FAILED; `throttle` / `server-error` make the next call (of one operation,
 *   or of any) answer 429 ThrottlingException / 500 InternalServiceException.
 *
 * Member names and error statuses follow the installed SDK's model (e.g. ResourceInUseException
 * is 423 there, not 409). Shapes that the SDK types cannot confirm — DetailsDocument contents
 * are an untyped document to the SDK, and AWS's length limits are not in the JS types — are
 * marked `unverified:`. SigV4 signatures are not checked.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  ChangeSetSummaryListItem,
  ChangeSummary,
  DescribeChangeSetResponse,
  DescribeEntityResponse,
  ListChangeSetsResponse,
  StartChangeSetResponse,
  ValidationExceptionField,
} from '@aws-sdk/client-marketplace-catalog';
import { z } from 'zod';
import { readBoundedBody } from './sim-http';

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/** unverified: AWS's request size limit for the Catalog API; this bounds the simulator. */
export const CATALOG_SIM_BODY_BYTES_MAX = 1024 * 1024;
/** Change sets kept; beyond this StartChangeSet answers ServiceQuotaExceededException. */
export const CATALOG_SIM_CHANGE_SETS_MAX = 10_000;
/** Entities kept; a change set that would exceed it is refused the same way. */
export const CATALOG_SIM_ENTITIES_MAX = 10_000;
/** Pending faults at once. */
export const CATALOG_SIM_FAULTS_MAX = 100;
/** How many calls one throttle/server-error fault may affect. */
export const CATALOG_SIM_FAULT_TIMES_MAX = 1_000;
/** The call log keeps the newest entries only. */
export const CATALOG_SIM_CALLS_MAX = 10_000;
/** A call input larger than this is logged as a placeholder, so the log stays bounded. */
export const CATALOG_SIM_CALL_INPUT_BYTES_MAX = 64 * 1024;
export const CATALOG_SIM_DESCRIBES_TO_FINISH_DEFAULT = 2;
export const CATALOG_SIM_DESCRIBES_TO_FINISH_MAX = 100;

// unverified: the limits below come from the service model as published by generated SDKs for
// other languages (the JS SDK types carry no constraints).
/** Changes in one StartChangeSet. */
export const CATALOG_CHANGES_PER_SET_MAX = 20;
export const CATALOG_CLIENT_REQUEST_TOKEN_CHARS_MAX = 36;
export const CATALOG_CHANGE_TYPE_CHARS_MAX = 255;
export const CATALOG_ENTITY_TYPE_CHARS_MAX = 255;
export const CATALOG_ENTITY_IDENTIFIER_CHARS_MAX = 255;
export const CATALOG_CHANGE_NAME_CHARS_MAX = 72;
/** One change's details, serialised. */
export const CATALOG_DETAILS_CHARS_MAX = 16_384;
/** "Optional case sensitive string of up to 100 ASCII characters" (SDK documentation). */
export const CATALOG_CHANGE_SET_NAME_CHARS_MAX = 100;
/** ListChangeSets' MaxResults default is 20 (SDK documentation); unverified: also its maximum. */
export const CATALOG_LIST_PAGE_SIZE_MAX = 20;
/** unverified: a bound on ListChangeSets filters, to bound the work per request. */
export const CATALOG_LIST_FILTERS_MAX = 8;
export const CATALOG_LIST_FILTER_VALUES_MAX = 100;

/** A private offer targets at most 26 buyer accounts (private-offers API documentation). */
export const OFFER_BUYER_ACCOUNTS_MAX = 26;
/** At most one charge on or before the offer's AvailabilityEndDate (documentation). */
export const OFFER_BACKDATED_CHARGES_MAX = 1;
/** unverified: bounds on lists inside details, so one request's work stays bounded. */
export const DETAILS_LIST_ITEMS_MAX = 1_000;

export const CATALOG_NAME = 'AWSMarketplace';
export const OFFER_TYPE = 'Offer@1.0';
export const RESALE_AUTHORIZATION_TYPE = 'ResaleAuthorization@1.0';
export const SAAS_PRODUCT_TYPE = 'SaaSProduct@1.0';

export const CATALOG_SIM_OPERATIONS = [
  'StartChangeSet',
  'DescribeChangeSet',
  'DescribeEntity',
  'ListChangeSets',
] as const;
export type CatalogSimOperation = (typeof CATALOG_SIM_OPERATIONS)[number];

/** Paths the handler answers (restJson1 `http` traits of the installed SDK). */
const ROUTES: Record<string, { readonly operation: CatalogSimOperation; readonly method: string }> =
  {
    '/StartChangeSet': { operation: 'StartChangeSet', method: 'POST' },
    '/DescribeChangeSet': { operation: 'DescribeChangeSet', method: 'GET' },
    '/DescribeEntity': { operation: 'DescribeEntity', method: 'GET' },
    '/ListChangeSets': { operation: 'ListChangeSets', method: 'POST' },
  };

/** Whether the handler answers this path (the host server asks before routing elsewhere). */
export function isCatalogPath(pathname: string): boolean {
  return Object.hasOwn(ROUTES, pathname);
}

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export type CatalogChangeSetStatus = 'PREPARING' | 'APPLYING' | 'SUCCEEDED' | 'FAILED';
export type CatalogFailureCode = 'CLIENT_ERROR' | 'SERVER_FAULT';

/**
 * - change-set-failure: the next new change set ends FAILED with this failure code (CLIENT_ERROR
 *   puts `errorCode`/`message` on its first change; SERVER_FAULT sets FailureDescription).
 * - throttle / server-error: the next `times` (default 1) calls of `operation` (default: any
 *   Catalog operation) answer 429 ThrottlingException / 500 InternalServiceException.
 */
export const CatalogFaultSchema = z.union([
  z.strictObject({
    kind: z.literal('change-set-failure'),
    failureCode: z.enum(['CLIENT_ERROR', 'SERVER_FAULT']),
    errorCode: z.string().min(1).max(100).optional(),
    message: z.string().min(1).max(1_000).optional(),
  }),
  z.strictObject({
    kind: z.enum(['throttle', 'server-error']),
    operation: z.enum(CATALOG_SIM_OPERATIONS).optional(),
    times: z.number().int().min(1).max(CATALOG_SIM_FAULT_TIMES_MAX).optional(),
  }),
]);
export type CatalogFault = z.infer<typeof CatalogFaultSchema>;

export interface CatalogSimCall {
  readonly operation: CatalogSimOperation;
  readonly input: unknown;
  /** Simulator clock, ISO. */
  readonly at: string;
}

export interface CatalogSimChange {
  readonly changeType: string;
  readonly changeName: string | null;
  readonly entityType: string;
  /** As submitted until the change set succeeds, then the entity's id. */
  readonly entityIdentifier: string | null;
  readonly details: Record<string, unknown>;
  readonly errors: ReadonlyArray<{ readonly ErrorCode: string; readonly ErrorMessage: string }>;
}

export interface CatalogSimChangeSet {
  readonly changeSetId: string;
  readonly changeSetArn: string;
  readonly changeSetName: string | null;
  readonly clientRequestToken: string | null;
  readonly status: CatalogChangeSetStatus;
  readonly failureCode: CatalogFailureCode | null;
  readonly failureDescription: string | null;
  readonly startTime: string;
  readonly endTime: string | null;
  /** DescribeChangeSet calls of it so far. */
  readonly describes: number;
  readonly changes: readonly CatalogSimChange[];
}

export interface CatalogSimEntity {
  readonly entityId: string;
  readonly entityType: string;
  readonly entityArn: string;
  /** Bumped by every change set that changes the entity (`EntityIdentifier` is `id@revision`). */
  readonly revision: number;
  readonly lastModified: string;
  readonly details: Record<string, unknown>;
}

export interface AwsCatalogSimulatorState {
  readonly changeSets: readonly CatalogSimChangeSet[];
  readonly entities: readonly CatalogSimEntity[];
}

export interface AwsCatalogSimulatorOptions {
  readonly now?: () => Date;
  readonly describesToFinish?: number;
  /** The seller account in ARNs. */
  readonly accountId?: string;
  readonly region?: string;
  /** Also told about every call (the host simulator's shared call log). */
  readonly onCall?: (operation: CatalogSimOperation, input: unknown, inputBytes: number) => void;
}

/** Bad input to the in-process API (tests); not an AWS error. */
export class CatalogSimulatorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogSimulatorInputError';
  }
}

// ---------------------------------------------------------------------------------------------
// Wire errors
// ---------------------------------------------------------------------------------------------

/** An error answered in restJson1: status, `x-amzn-errortype`, JSON body with `Message`. */
export class CatalogWireError extends Error {
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

// Statuses are the SDK model's httpError traits.
const wireErrors = {
  validation: (message: string, fields: readonly ValidationExceptionField[] = []) =>
    new CatalogWireError(
      'ValidationException',
      422,
      message,
      fields.length > 0 ? { ValidationExceptionFieldList: fields } : {},
    ),
  notFound: (message: string) => new CatalogWireError('ResourceNotFoundException', 404, message),
  inUse: (message: string) => new CatalogWireError('ResourceInUseException', 423, message),
  quota: (message: string) => new CatalogWireError('ServiceQuotaExceededException', 402, message),
  throttled: () =>
    new CatalogWireError('ThrottlingException', 429, 'Rate exceeded (simulated fault)'),
  internal: (message = 'An internal error occurred (simulated fault)') =>
    new CatalogWireError('InternalServiceException', 500, message),
};

function fieldsFromZod(
  error: z.ZodError,
  prefix: string,
  scope: { changeType?: string; entityType?: string } = {},
): ValidationExceptionField[] {
  return error.issues.slice(0, 20).map((issue) => ({
    Reason: 'FieldValidationFailed',
    Field: [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.'),
    Message: issue.message,
    ...(scope.changeType === undefined ? {} : { ChangeType: scope.changeType }),
    ...(scope.entityType === undefined ? {} : { EntityType: scope.entityType }),
  }));
}

function parseOrReject<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = fieldsFromZod(result.error, '');
  const first = fields[0];
  throw wireErrors.validation(
    `Invalid ${what}${first ? `: ${first.Field || '(root)'}: ${first.Message}` : ''}`,
    fields,
  );
}

// ---------------------------------------------------------------------------------------------
// Request schemas
// ---------------------------------------------------------------------------------------------

const TagSchema = z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) });

// Member names and optionality match the SDK's Change / StartChangeSetRequest types; the
// length limits are unverified (see the constants above).
const ChangeSchema = z.object({
  ChangeType: z.string().min(1).max(CATALOG_CHANGE_TYPE_CHARS_MAX),
  Entity: z.object({
    Type: z.string().min(1).max(CATALOG_ENTITY_TYPE_CHARS_MAX),
    Identifier: z.string().min(1).max(CATALOG_ENTITY_IDENTIFIER_CHARS_MAX).optional(),
  }),
  EntityTags: z.array(TagSchema).max(200).optional(),
  Details: z.string().optional(),
  DetailsDocument: z.unknown().optional(),
  ChangeName: z.string().min(1).max(CATALOG_CHANGE_NAME_CHARS_MAX).optional(),
});
type ChangeInput = z.infer<typeof ChangeSchema>;

const StartChangeSetSchema = z.object({
  Catalog: z.string(),
  ChangeSet: z.array(ChangeSchema).min(1).max(CATALOG_CHANGES_PER_SET_MAX),
  ChangeSetName: z
    .string()
    .min(1)
    .max(CATALOG_CHANGE_SET_NAME_CHARS_MAX)
    .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII')
    .optional(),
  // unverified: 1–36 printable ASCII characters without spaces.
  ClientRequestToken: z
    .string()
    .min(1)
    .max(CATALOG_CLIENT_REQUEST_TOKEN_CHARS_MAX)
    .regex(/^[!-~]+$/, 'must be printable ASCII without spaces')
    .optional(),
  ChangeSetTags: z.array(TagSchema).max(200).optional(),
  Intent: z.enum(['APPLY', 'VALIDATE']).optional(),
});

const DescribeChangeSetSchema = z.object({
  Catalog: z.string({ error: 'catalog is required' }),
  ChangeSetId: z.string({ error: 'changeSetId is required' }).min(1).max(255),
});

const DescribeEntitySchema = z.object({
  Catalog: z.string({ error: 'catalog is required' }),
  EntityId: z.string({ error: 'entityId is required' }).min(1).max(255),
});

const LIST_FILTER_NAMES = [
  'ChangeSetName',
  'Status',
  'EntityId',
  'BeforeStartTime',
  'AfterStartTime',
  'BeforeEndTime',
  'AfterEndTime',
] as const;

const ListChangeSetsSchema = z.object({
  Catalog: z.string(),
  FilterList: z
    .array(
      z.object({
        Name: z.enum(LIST_FILTER_NAMES),
        ValueList: z.array(z.string().max(255)).min(1).max(CATALOG_LIST_FILTER_VALUES_MAX),
      }),
    )
    .max(CATALOG_LIST_FILTERS_MAX)
    .optional(),
  Sort: z
    .object({
      SortBy: z.enum(['StartTime', 'EndTime']).optional(),
      SortOrder: z.enum(['ASCENDING', 'DESCENDING']).optional(),
    })
    .optional(),
  MaxResults: z.number().int().min(1).max(CATALOG_LIST_PAGE_SIZE_MAX).optional(),
  NextToken: z.string().max(2048).optional(),
});

// ---------------------------------------------------------------------------------------------
// DetailsDocument schemas
// ---------------------------------------------------------------------------------------------
// unverified: every schema in this section. The SDK types DetailsDocument as an untyped JSON
// document; the shapes follow the private-offers API documentation and the published shape
// models (awslabs/aws-marketplace-catalog-api-shapes-for-python). They check the members Agora
// sends and let unknown members through, so the simulator refuses what AWS documents as a
// schema error without refusing what it does not know.

const YmdDate = z.iso.date();
const IsoDuration = z.iso.duration();
const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code');
/** Prices are decimal strings. */
const Price = z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal string');
/** Charge amounts have at most two decimals. */
const ChargeAmount = z.string().regex(/^\d+(\.\d{1,2})?$/, 'must be a decimal with ≤ 2 places');
const itemList = <T extends z.ZodType>(item: T) => z.array(item).max(DETAILS_LIST_ITEMS_MAX);
const AnyTerm = z.looseObject({ Type: z.string().min(1).max(100) });

const RateCardItem = z.looseObject({ DimensionKey: z.string().min(1).max(100), Price });

const PRICING_TERM_TYPES = [
  'FreeTrialPricingTerm',
  'UsageBasedPricingTerm',
  'ConfigurableUpfrontPricingTerm',
  'ByolPricingTerm',
  'RecurringPaymentTerm',
  'FixedUpfrontPricingTerm',
] as const;

const PricingTerm = z.looseObject({
  Type: z.enum(PRICING_TERM_TYPES),
  CurrencyCode: CurrencyCode.optional(),
  Price: Price.optional(),
  RateCards: itemList(
    z.looseObject({
      Selector: z.looseObject({ Type: z.string(), Value: z.string() }).optional(),
      Constraints: z
        .looseObject({
          MultipleDimensionSelection: z.enum(['Allowed', 'Disallowed']),
          QuantityConfiguration: z.enum(['Allowed', 'Disallowed']),
        })
        .optional(),
      RateCard: itemList(RateCardItem).min(1),
    }),
  ).optional(),
});

const Targeting = z.looseObject({
  CountryCodes: itemList(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code'))
    .min(1)
    .optional(),
  // Count and format are checked asynchronously (TOO_MANY_/INVALID_BUYER_ACCOUNTS), as AWS does.
  BuyerAccounts: itemList(z.string()).min(1).optional(),
});

const termsOf = <T extends z.ZodType>(term: T) => z.looseObject({ Terms: itemList(term).min(1) });

const OFFER_DETAILS: Record<string, z.ZodType> = {
  CreateOffer: z.looseObject({
    ProductId: z.string().min(1).max(50),
    Name: z.string().min(1).max(150).optional(),
    OfferSetId: z.string().min(1).optional(),
  }),
  CreateReplacementOffer: z.looseObject({
    AgreementId: z.string().min(1),
    Name: z.string().min(1).max(150).optional(),
  }),
  UpdateInformation: z.looseObject({
    Name: z.string().min(1).max(150).optional(),
    Description: z.string().min(1).max(255).optional(),
    PreExistingAgreement: z
      .looseObject({
        AcquisitionChannel: z.enum(['External', 'AwsMarketplace']),
        PricingModel: z.enum(['Contract', 'Usage', 'Byol', 'Free']),
      })
      .optional(),
  }),
  UpdateTargeting: z.looseObject({
    PositiveTargeting: Targeting.optional(),
    NegativeTargeting: Targeting.optional(),
  }),
  UpdateSupportTerms: termsOf(
    z.looseObject({ Type: z.literal('SupportTerm'), RefundPolicy: z.string().min(1).max(500) }),
  ),
  UpdateLegalTerms: termsOf(
    z.looseObject({
      Type: z.literal('LegalTerm'),
      Documents: itemList(
        z.looseObject({
          Type: z.enum(['CustomEula', 'StandardEula']),
          Url: z.string().min(1).optional(),
          Version: z.string().min(1).optional(),
        }),
      ).min(1),
    }),
  ),
  UpdatePricingTerms: z.looseObject({
    PricingModel: z.enum(['Usage', 'Contract', 'Free', 'Byol']),
    Terms: itemList(PricingTerm).min(1),
  }),
  UpdatePaymentScheduleTerms: z.looseObject({
    Terms: z
      .array(
        z.looseObject({
          Type: z.literal('PaymentScheduleTerm'),
          CurrencyCode: z.enum(['USD', 'AUD', 'EUR', 'GBP', 'JPY']),
          Schedule: itemList(z.looseObject({ ChargeDate: YmdDate, ChargeAmount })).min(1),
        }),
      )
      .length(1, 'must hold exactly one PaymentScheduleTerm'),
  }),
  UpdateValidityTerms: termsOf(
    z
      .looseObject({
        Type: z.literal('ValidityTerm'),
        AgreementDuration: IsoDuration.optional(),
        AgreementStartDate: YmdDate.optional(),
        AgreementEndDate: YmdDate.optional(),
      })
      .refine((t) => t.AgreementDuration === undefined || t.AgreementEndDate === undefined, {
        message: 'AgreementDuration cannot be combined with AgreementEndDate',
      }),
  ),
  UpdateAvailability: z.looseObject({ AvailabilityEndDate: YmdDate }),
  UpdateNetPaymentTerms: termsOf(
    z.looseObject({
      Type: z.literal('NetPaymentTerm'),
      PaymentDuePeriod: z.enum(['P15D', 'P30D', 'P45D', 'P60D', 'P90D', 'P120D']),
    }),
  ),
  UpdateRenewalTerms: termsOf(z.looseObject({ Type: z.literal('RenewalTerm') })),
  UpdateMarkup: z.looseObject({ MarkupPercentage: z.string().regex(/^\d+(\.\d+)?$/) }),
  ReleaseOffer: z.looseObject({}),
};

const RESALE_DETAILS: Record<string, z.ZodType> = {
  CreateResaleAuthorization: z.looseObject({
    ProductId: z.string().min(1).max(50),
    Name: z.string().min(1).max(150).optional(),
    Description: z.string().min(1).max(255).optional(),
  }),
  UpdateInformation: z.looseObject({
    Name: z.string().min(1).max(150).optional(),
    Description: z.string().min(1).max(255).optional(),
  }),
  UpdatePricingTerms: z.looseObject({
    PricingModel: z.string().min(1).optional(),
    Terms: itemList(AnyTerm).min(1),
  }),
  UpdatePaymentScheduleTerms: termsOf(AnyTerm),
  UpdateBuyerTargetingTerms: termsOf(AnyTerm),
  UpdateBuyerValidityTerms: termsOf(AnyTerm),
  UpdateLegalTerms: termsOf(AnyTerm),
  UpdateAvailability: z.looseObject({
    AvailabilityEndDate: YmdDate.optional(),
    OffersMaxQuantity: z.number().int().min(1).optional(),
  }),
  ReleaseResaleAuthorization: z.looseObject({}),
  RestrictResaleAuthorization: z.looseObject({}),
};

// unverified: SaaS product change types and their details (the listing fields most sellers edit).
const DimensionSchema = z.looseObject({
  Key: z.string().min(1).max(100),
  Name: z.string().min(1).max(150).optional(),
  Description: z.string().min(1).max(250).optional(),
  Unit: z.string().min(1).max(50).optional(),
  Types: z
    .array(z.enum(['Entitled', 'ExternallyMetered']))
    .min(1)
    .optional(),
});
const PRODUCT_DETAILS: Record<string, z.ZodType> = {
  CreateProduct: z.looseObject({ ProductTitle: z.string().min(1).max(72).optional() }),
  UpdateInformation: z.looseObject({
    ProductTitle: z.string().min(1).max(72).optional(),
    ShortDescription: z.string().min(1).max(1_000).optional(),
    LongDescription: z.string().min(1).max(5_000).optional(),
    Highlights: z.array(z.string().min(1).max(250)).max(3).optional(),
    SearchKeywords: z.array(z.string().min(1).max(250)).max(3).optional(),
    Categories: z.array(z.string().min(1)).max(3).optional(),
    Sku: z.string().max(100).optional(),
  }),
  AddDimensions: z.looseObject({ Dimensions: z.array(DimensionSchema).min(1).max(200) }),
  UpdateDimensions: z.looseObject({ Dimensions: z.array(DimensionSchema).min(1).max(200) }),
  ReleaseProduct: z.looseObject({}),
};

interface EntityKind {
  /** Prefix of new ids (`offer-…`, `resaleauthz-…`). */
  readonly idPrefix: string;
  /** The resource name in ARNs. */
  readonly arnName: string;
  readonly createTypes: readonly string[];
  readonly details: Record<string, z.ZodType>;
}

const ENTITY_KINDS: Record<string, EntityKind> = {
  [OFFER_TYPE]: {
    idPrefix: 'offer-',
    arnName: 'Offer',
    createTypes: ['CreateOffer', 'CreateReplacementOffer'],
    details: OFFER_DETAILS,
  },
  [SAAS_PRODUCT_TYPE]: {
    idPrefix: 'prod-',
    arnName: 'SaaSProduct',
    createTypes: ['CreateProduct'],
    details: PRODUCT_DETAILS,
  },
  [RESALE_AUTHORIZATION_TYPE]: {
    idPrefix: 'resaleauthz-',
    arnName: 'ResaleAuthorization',
    createTypes: ['CreateResaleAuthorization'],
    details: RESALE_DETAILS,
  },
};

/** Offer change types this simulator knows (for callers and tests). */
export const OFFER_CHANGE_TYPES = Object.keys(OFFER_DETAILS);
export const RESALE_AUTHORIZATION_CHANGE_TYPES = Object.keys(RESALE_DETAILS);

const REFERENCE = /^\$([^.]+)\.Entity\.Identifier$/;

// ---------------------------------------------------------------------------------------------
// Internal records
// ---------------------------------------------------------------------------------------------

type Target =
  | { readonly kind: 'new'; readonly index: number }
  | { readonly kind: 'existing'; readonly id: string };

interface ChangeRecord {
  readonly changeType: string;
  readonly changeName: string | null;
  readonly entityType: string;
  readonly submittedIdentifier: string | null;
  readonly details: Record<string, unknown>;
  readonly target: Target;
  /** Asynchronous validation errors, shown once the change set has FAILED. */
  readonly pendingErrors: ErrorDetail[];
  errors: ErrorDetail[];
  resolvedId: string | null;
}

interface ErrorDetail {
  readonly ErrorCode: string;
  readonly ErrorMessage: string;
}

type Outcome =
  | { readonly kind: 'succeed' }
  | {
      readonly kind: 'fail';
      readonly failureCode: CatalogFailureCode;
      readonly description: string;
    };

interface ChangeSetRecord {
  readonly id: string;
  readonly arn: string;
  readonly name: string | null;
  readonly token: string | null;
  readonly startTime: string;
  readonly describesToFinish: number;
  readonly outcome: Outcome;
  readonly changes: ChangeRecord[];
  status: CatalogChangeSetStatus;
  failureCode: CatalogFailureCode | null;
  failureDescription: string | null;
  endTime: string | null;
  describes: number;
}

interface EntityRecord {
  readonly id: string;
  readonly type: string;
  readonly arn: string;
  revision: number;
  lastModified: string;
  details: Record<string, unknown>;
}

type StoredFault =
  | Extract<CatalogFault, { kind: 'change-set-failure' }>
  | {
      readonly kind: 'throttle' | 'server-error';
      readonly operation: CatalogSimOperation | null;
      remaining: number;
    };

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALNUM[byte % ALNUM.length];
  return out;
}

/** AWS writes Catalog timestamps as ISO 8601 without milliseconds (2018-02-27T13:45:22Z). */
function awsTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bareId(identifier: string): string {
  return identifier.replace(/@\d+$/, '');
}

function termsIn(details: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(details.Terms) ? details.Terms.filter(isRecord) : [];
}

function typeOf(term: Record<string, unknown>): string {
  return typeof term.Type === 'string' ? term.Type : '';
}

/** Pricing terms, including the resale variants (`ResaleFixedUpfrontPricingTerm`, …). */
function isPricingTerm(type: string): boolean {
  return type.endsWith('PricingTerm') || type.endsWith('RecurringPaymentTerm');
}

/** Buyer account ids an UpdateTargeting / UpdateBuyerTargetingTerms change names. */
function buyerAccountsOf(change: ChangeRecord): unknown[] | null {
  if (change.changeType === 'UpdateTargeting') {
    const positive = change.details.PositiveTargeting;
    return isRecord(positive) && Array.isArray(positive.BuyerAccounts)
      ? positive.BuyerAccounts
      : null;
  }
  if (change.changeType === 'UpdateBuyerTargetingTerms') {
    const accounts: unknown[] = [];
    for (const term of termsIn(change.details)) {
      const positive = term.PositiveTargeting;
      if (isRecord(positive) && Array.isArray(positive.BuyerAccounts)) {
        accounts.push(...positive.BuyerAccounts);
      }
    }
    return accounts;
  }
  return null;
}

function targetKey(target: Target): string {
  return target.kind === 'new' ? `new:${target.index}` : `entity:${target.id}`;
}

// ---------------------------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------------------------

export class AwsCatalogSimulator {
  private readonly now: () => Date;
  private readonly accountId: string;
  private readonly region: string;
  private readonly onCall: AwsCatalogSimulatorOptions['onCall'];
  private describesToFinish: number;
  private readonly changeSets = new Map<string, ChangeSetRecord>();
  private readonly byToken = new Map<string, string>();
  private readonly entities = new Map<string, EntityRecord>();
  private readonly faults: StoredFault[] = [];
  private readonly callLog: CatalogSimCall[] = [];

  constructor(options: AwsCatalogSimulatorOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.accountId = options.accountId ?? '111122223333';
    this.region = options.region ?? 'us-east-1';
    this.onCall = options.onCall;
    this.describesToFinish = CATALOG_SIM_DESCRIBES_TO_FINISH_DEFAULT;
    if (options.describesToFinish !== undefined) {
      this.setDescribesToFinish(options.describesToFinish);
    }
  }

  // ----- test and control API -----

  /** How many DescribeChangeSet calls finish a change set started from now on (1 = the first). */
  setDescribesToFinish(count: number): void {
    if (!Number.isInteger(count) || count < 1 || count > CATALOG_SIM_DESCRIBES_TO_FINISH_MAX) {
      throw new CatalogSimulatorInputError(
        `describesToFinish must be an integer in 1..${CATALOG_SIM_DESCRIBES_TO_FINISH_MAX}`,
      );
    }
    this.describesToFinish = count;
  }

  injectFault(fault: CatalogFault): void {
    const result = CatalogFaultSchema.safeParse(fault);
    if (!result.success) {
      throw new CatalogSimulatorInputError(`Invalid catalog fault: ${result.error.message}`);
    }
    if (this.faults.length >= CATALOG_SIM_FAULTS_MAX) {
      throw new CatalogSimulatorInputError(
        `At most ${CATALOG_SIM_FAULTS_MAX} catalog faults can be pending`,
      );
    }
    const parsed = result.data;
    this.faults.push(
      parsed.kind === 'change-set-failure'
        ? parsed
        : { kind: parsed.kind, operation: parsed.operation ?? null, remaining: parsed.times ?? 1 },
    );
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Forgets change sets, entities, faults and calls. */
  /** Puts an existing entity in place (e.g. the seller's products a listing edit targets). */
  seedEntity(entityType: string, id: string, details: Record<string, unknown>): void {
    const kind = ENTITY_KINDS[entityType];
    if (kind === undefined)
      throw new CatalogSimulatorInputError(`Unknown entity type ${entityType}`);
    this.entities.set(id, {
      id,
      type: entityType,
      arn: `arn:aws:aws-marketplace:${this.region}:${this.accountId}:${CATALOG_NAME}/${kind.arnName}/${id}`,
      revision: 1,
      lastModified: this.now().toISOString(),
      details: { Id: id, ...details },
    });
  }

  reset(): void {
    this.changeSets.clear();
    this.byToken.clear();
    this.entities.clear();
    this.faults.length = 0;
    this.callLog.length = 0;
  }

  /** Finishes every open change set now, as if it had been described enough times. */
  finishAll(): void {
    for (const record of this.changeSets.values()) {
      if (record.status === 'PREPARING' || record.status === 'APPLYING') this.finish(record);
    }
  }

  calls(): CatalogSimCall[] {
    return structuredClone(this.callLog);
  }

  state(): AwsCatalogSimulatorState {
    return structuredClone({
      changeSets: [...this.changeSets.values()].map((r) => this.snapshot(r)),
      entities: [...this.entities.values()].map((e) => ({
        entityId: e.id,
        entityType: e.type,
        entityArn: e.arn,
        revision: e.revision,
        lastModified: e.lastModified,
        details: e.details,
      })),
    });
  }

  /** Answers a Catalog request and returns true, or returns false for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = isCatalogPath(url.pathname) ? ROUTES[url.pathname] : undefined;
    if (route === undefined) return false;
    const requestId = randomUUID();
    this.serve(route, url, request, response, requestId).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      sendError(
        response,
        wireErrors.internal(error instanceof Error ? error.message : 'Simulator failure'),
        requestId,
      );
    });
    return true;
  }

  // ----- operations (in process: no faults, no call log) -----

  startChangeSet(input: unknown): Required<StartChangeSetResponse> {
    const request = parseOrReject(StartChangeSetSchema, input, 'StartChangeSet request');
    if (request.Catalog !== CATALOG_NAME) {
      throw wireErrors.validation(`Catalog must be ${CATALOG_NAME}`);
    }
    // A retry with the same token is the same request: answer the change set it created, even
    // though that change set now locks the entities the retry names.
    const token = request.ClientRequestToken ?? null;
    const existingId = token === null ? undefined : this.byToken.get(token);
    const existing = existingId === undefined ? undefined : this.changeSets.get(existingId);
    if (existing) return { ChangeSetId: existing.id, ChangeSetArn: existing.arn };
    // unverified: AWS documents the VALIDATE intent for single-AMI product versions only.
    if (request.Intent === 'VALIDATE') {
      throw wireErrors.validation('Intent VALIDATE is not supported for these entity types');
    }
    const changes = this.validateChanges(request.ChangeSet);
    this.checkLocks(changes);
    if (this.changeSets.size >= CATALOG_SIM_CHANGE_SETS_MAX) {
      throw wireErrors.quota(
        `The simulator keeps at most ${CATALOG_SIM_CHANGE_SETS_MAX} change sets`,
      );
    }
    const creates = changes.filter(
      (c) => c.target.kind === 'new' && c.submittedIdentifier === null,
    );
    if (this.entities.size + creates.length > CATALOG_SIM_ENTITIES_MAX) {
      throw wireErrors.quota(`The simulator keeps at most ${CATALOG_SIM_ENTITIES_MAX} entities`);
    }
    this.validateAsync(changes);
    const outcome = this.outcomeFor(changes);
    const id = randomAlnum(26);
    const record: ChangeSetRecord = {
      id,
      arn: `arn:aws:aws-marketplace:${this.region}:${this.accountId}:${CATALOG_NAME}/ChangeSet/${id}`,
      name: request.ChangeSetName ?? null,
      token,
      startTime: awsTime(this.now()),
      describesToFinish: this.describesToFinish,
      outcome,
      changes,
      status: 'PREPARING',
      failureCode: null,
      failureDescription: null,
      endTime: null,
      describes: 0,
    };
    this.changeSets.set(id, record);
    if (token !== null) this.byToken.set(token, id);
    return { ChangeSetId: id, ChangeSetArn: record.arn };
  }

  /** Describes a change set and moves it one step on (see the module comment). */
  describeChangeSet(input: unknown): DescribeChangeSetResponse {
    const request = parseOrReject(DescribeChangeSetSchema, input, 'DescribeChangeSet request');
    if (request.Catalog !== CATALOG_NAME) {
      throw wireErrors.validation(`catalog must be ${CATALOG_NAME}`);
    }
    const record = this.changeSets.get(request.ChangeSetId);
    if (record === undefined) {
      throw wireErrors.notFound(`Change set ${request.ChangeSetId} not found`);
    }
    this.advance(record);
    return this.describeWire(record);
  }

  describeEntity(input: unknown): DescribeEntityResponse {
    const request = parseOrReject(DescribeEntitySchema, input, 'DescribeEntity request');
    if (request.Catalog !== CATALOG_NAME) {
      throw wireErrors.validation(`catalog must be ${CATALOG_NAME}`);
    }
    const entity = this.entities.get(bareId(request.EntityId));
    if (entity === undefined) throw wireErrors.notFound(`Entity ${request.EntityId} not found`);
    return {
      EntityType: entity.type,
      EntityIdentifier: `${entity.id}@${entity.revision}`,
      EntityArn: entity.arn,
      LastModifiedDate: entity.lastModified,
      DetailsDocument: structuredClone(entity.details) as DescribeEntityResponse['DetailsDocument'],
    };
  }

  listChangeSets(input: unknown): ListChangeSetsResponse {
    const request = parseOrReject(ListChangeSetsSchema, input, 'ListChangeSets request');
    if (request.Catalog !== CATALOG_NAME) {
      throw wireErrors.validation(`Catalog must be ${CATALOG_NAME}`);
    }
    let offset = 0;
    if (request.NextToken !== undefined) {
      offset = Number(Buffer.from(request.NextToken, 'base64url').toString('utf8'));
      if (!Number.isInteger(offset) || offset < 0) {
        throw wireErrors.validation('NextToken is not valid');
      }
    }
    const matches = (record: ChangeSetRecord): boolean =>
      (request.FilterList ?? []).every((filter) => {
        const values = filter.ValueList;
        const first = values[0] ?? '';
        switch (filter.Name) {
          case 'ChangeSetName':
            return record.name !== null && values.includes(record.name);
          case 'Status':
            return values.includes(record.status);
          case 'EntityId':
            return this.entityIdsOf(record).some((id) => values.includes(id));
          case 'BeforeStartTime':
            return record.startTime < first;
          case 'AfterStartTime':
            return record.startTime > first;
          case 'BeforeEndTime':
            return record.endTime !== null && record.endTime < first;
          case 'AfterEndTime':
            return record.endTime !== null && record.endTime > first;
        }
        return false;
      });
    const sortBy = request.Sort?.SortBy ?? 'StartTime';
    const descending = (request.Sort?.SortOrder ?? 'DESCENDING') === 'DESCENDING';
    const sorted = [...this.changeSets.values()].filter(matches);
    // Stable on insertion order for equal times; unfinished sets sort as the earliest end.
    sorted.sort((a, b) => {
      const ka = (sortBy === 'StartTime' ? a.startTime : a.endTime) ?? '';
      const kb = (sortBy === 'StartTime' ? b.startTime : b.endTime) ?? '';
      return descending ? kb.localeCompare(ka) : ka.localeCompare(kb);
    });
    const size = request.MaxResults ?? CATALOG_LIST_PAGE_SIZE_MAX;
    const page = sorted.slice(offset, offset + size);
    const next = offset + size < sorted.length ? offset + size : null;
    return {
      ChangeSetSummaryList: page.map(
        (r): ChangeSetSummaryListItem => ({
          ChangeSetId: r.id,
          ChangeSetArn: r.arn,
          ...(r.name === null ? {} : { ChangeSetName: r.name }),
          StartTime: r.startTime,
          ...(r.endTime === null ? {} : { EndTime: r.endTime }),
          Status: r.status,
          EntityIdList: this.entityIdsOf(r),
          ...(r.failureCode === null ? {} : { FailureCode: r.failureCode }),
        }),
      ),
      ...(next === null ? {} : { NextToken: Buffer.from(String(next)).toString('base64url') }),
    };
  }

  // ----- HTTP -----

  private async serve(
    route: { readonly operation: CatalogSimOperation; readonly method: string },
    url: URL,
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
  ): Promise<void> {
    const body = await readBody(request);
    // unverified: what AWS answers for a wrong method, an oversized body or broken JSON.
    if (request.method !== route.method) {
      sendError(
        response,
        new CatalogWireError(
          'UnknownOperationException',
          404,
          `${request.method ?? '?'} ${url.pathname} is not an operation`,
        ),
        requestId,
      );
      return;
    }
    if (body === null) {
      sendError(
        response,
        new CatalogWireError(
          'SerializationException',
          413,
          `Request body exceeds ${CATALOG_SIM_BODY_BYTES_MAX} bytes`,
        ),
        requestId,
      );
      return;
    }
    let input: unknown;
    if (route.method === 'GET') {
      const query = url.searchParams;
      const value = (name: string) => query.get(name) ?? undefined;
      input =
        route.operation === 'DescribeChangeSet'
          ? { Catalog: value('catalog'), ChangeSetId: value('changeSetId') }
          : { Catalog: value('catalog'), EntityId: value('entityId') };
    } else {
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        sendError(
          response,
          new CatalogWireError('SerializationException', 400, 'Request body is not valid JSON'),
          requestId,
        );
        return;
      }
    }
    this.recordCall(route.operation, input, body.length);
    try {
      const output = this.invoke(route.operation, input);
      response
        .writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId })
        .end(JSON.stringify(output));
    } catch (error) {
      if (!(error instanceof CatalogWireError)) throw error;
      sendError(response, error, requestId);
    }
  }

  /** One operation with pending faults applied (what the HTTP handler runs). */
  invoke(operation: CatalogSimOperation, input: unknown): unknown {
    const fault = this.takeCallFault(operation);
    if (fault === 'throttle') throw wireErrors.throttled();
    if (fault === 'server-error') throw wireErrors.internal();
    switch (operation) {
      case 'StartChangeSet':
        return this.startChangeSet(input);
      case 'DescribeChangeSet':
        return this.describeChangeSet(input);
      case 'DescribeEntity':
        return this.describeEntity(input);
      case 'ListChangeSets':
        return this.listChangeSets(input);
    }
  }

  private recordCall(operation: CatalogSimOperation, input: unknown, inputBytes: number): void {
    const logged =
      inputBytes > CATALOG_SIM_CALL_INPUT_BYTES_MAX
        ? { omitted: `input of ${inputBytes} bytes exceeds ${CATALOG_SIM_CALL_INPUT_BYTES_MAX}` }
        : input;
    if (this.callLog.length >= CATALOG_SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push({ operation, input: logged, at: this.now().toISOString() });
    this.onCall?.(operation, logged, inputBytes);
  }

  /** The first pending throttle/server-error fault for this operation, consumed by one. */
  private takeCallFault(operation: CatalogSimOperation): 'throttle' | 'server-error' | null {
    const index = this.faults.findIndex(
      (f) => f.kind !== 'change-set-failure' && (f.operation === null || f.operation === operation),
    );
    const fault = this.faults[index];
    if (fault === undefined || fault.kind === 'change-set-failure') return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault.kind;
  }

  private takeChangeSetFault(): Extract<StoredFault, { kind: 'change-set-failure' }> | null {
    const index = this.faults.findIndex((f) => f.kind === 'change-set-failure');
    const fault = this.faults[index];
    if (fault === undefined || fault.kind !== 'change-set-failure') return null;
    this.faults.splice(index, 1);
    return fault;
  }

  // ----- synchronous validation -----

  private validateChanges(input: readonly ChangeInput[]): ChangeRecord[] {
    const records: ChangeRecord[] = [];
    const names = new Map<string, number>();
    const seen = new Set<string>();
    input.forEach((change, index) => {
      const at = `ChangeSet[${index}]`;
      const kind = ENTITY_KINDS[change.Entity.Type];
      if (kind === undefined) {
        throw wireErrors.validation(`${at}: entity type ${change.Entity.Type} is not supported`);
      }
      const schema = kind.details[change.ChangeType];
      if (schema === undefined) {
        throw wireErrors.validation(
          `${at}: change type ${change.ChangeType} is not valid for ${change.Entity.Type}`,
          [
            {
              Reason: 'FieldValidationFailed',
              Field: `${at}.ChangeType`,
              ChangeType: change.ChangeType,
              EntityType: change.Entity.Type,
              Message: 'unknown change type',
            },
          ],
        );
      }
      const details = this.detailsOf(change, at);
      const parsed = schema.safeParse(details);
      if (!parsed.success) {
        const fields = fieldsFromZod(parsed.error, `${at}.DetailsDocument`, {
          changeType: change.ChangeType,
          entityType: change.Entity.Type,
        });
        throw wireErrors.validation(
          `${at} (${change.ChangeType}): ${fields[0]?.Field}: ${fields[0]?.Message}`,
          fields,
        );
      }
      const isCreate = kind.createTypes.includes(change.ChangeType);
      const identifier = change.Entity.Identifier ?? null;
      let target: Target;
      if (isCreate) {
        if (identifier !== null) {
          throw wireErrors.validation(`${at}: ${change.ChangeType} takes no Entity.Identifier`);
        }
        target = { kind: 'new', index };
      } else if (identifier === null) {
        throw wireErrors.validation(`${at}: ${change.ChangeType} needs an Entity.Identifier`);
      } else {
        target = this.resolveTarget(identifier, change.Entity.Type, names, records, at);
      }
      if (change.ChangeName !== undefined) {
        if (names.has(change.ChangeName)) {
          throw wireErrors.validation(`${at}: ChangeName ${change.ChangeName} is used twice`);
        }
        names.set(change.ChangeName, index);
      }
      // Documented: one change set cannot run the same change type twice on one entity.
      const key = `${targetKey(target)}|${change.ChangeType}`;
      if (seen.has(key)) {
        throw wireErrors.validation(
          `${at}: ${change.ChangeType} appears twice for the same entity in one change set`,
        );
      }
      seen.add(key);
      records.push({
        changeType: change.ChangeType,
        changeName: change.ChangeName ?? null,
        entityType: change.Entity.Type,
        submittedIdentifier: identifier,
        details,
        target,
        pendingErrors: [],
        errors: [],
        resolvedId: null,
      });
    });
    return records;
  }

  /** The change's details as an object, from DetailsDocument or the Details JSON string. */
  private detailsOf(change: ChangeInput, at: string): Record<string, unknown> {
    if (change.Details !== undefined && change.DetailsDocument !== undefined) {
      throw wireErrors.validation(`${at}: use Details or DetailsDocument, not both`);
    }
    let details: unknown = change.DetailsDocument;
    if (change.Details !== undefined) {
      try {
        details = JSON.parse(change.Details);
      } catch {
        throw wireErrors.validation(`${at}.Details is not valid JSON`);
      }
    }
    if (!isRecord(details)) {
      throw wireErrors.validation(`${at}: Details/DetailsDocument must be a JSON object`);
    }
    if (JSON.stringify(details).length > CATALOG_DETAILS_CHARS_MAX) {
      throw wireErrors.validation(`${at}: details exceed ${CATALOG_DETAILS_CHARS_MAX} characters`);
    }
    return details;
  }

  private resolveTarget(
    identifier: string,
    entityType: string,
    names: ReadonlyMap<string, number>,
    earlier: readonly ChangeRecord[],
    at: string,
  ): Target {
    const reference = REFERENCE.exec(identifier);
    if (reference) {
      const index = names.get(reference[1] ?? '');
      const source = index === undefined ? undefined : earlier[index];
      const createTypes = ENTITY_KINDS[entityType]?.createTypes ?? [];
      if (
        index === undefined ||
        source === undefined ||
        !createTypes.includes(source.changeType) ||
        source.entityType !== entityType
      ) {
        throw wireErrors.validation(
          `${at}: ${identifier} does not name an earlier create change for ${entityType} in this change set`,
        );
      }
      return { kind: 'new', index };
    }
    if (identifier.startsWith('$')) {
      throw wireErrors.validation(`${at}: ${identifier} is not a valid reference`);
    }
    const entity = this.entities.get(bareId(identifier));
    if (entity === undefined || entity.type !== entityType) {
      throw wireErrors.notFound(`${at}: entity ${identifier} of type ${entityType} not found`);
    }
    return { kind: 'existing', id: entity.id };
  }

  /** An entity a still-open change set changes cannot be changed by another one. */
  private checkLocks(changes: readonly ChangeRecord[]): void {
    const targets = new Set(
      changes.flatMap((c) => (c.target.kind === 'existing' ? [c.target.id] : [])),
    );
    if (targets.size === 0) return;
    for (const record of this.changeSets.values()) {
      if (record.status !== 'PREPARING' && record.status !== 'APPLYING') continue;
      for (const change of record.changes) {
        if (change.target.kind === 'existing' && targets.has(change.target.id)) {
          throw wireErrors.inUse(`Entity ${change.target.id} is in use by change set ${record.id}`);
        }
      }
    }
  }

  // ----- asynchronous validation -----

  /** Fills each change's pendingErrors with what AWS reports after StartChangeSet accepted it. */
  private validateAsync(changes: readonly ChangeRecord[]): void {
    const availabilityEnd = new Map<string, string>();
    for (const change of changes) {
      if (change.changeType === 'UpdateAvailability') {
        const end = change.details.AvailabilityEndDate;
        if (typeof end === 'string') availabilityEnd.set(targetKey(change.target), end);
      }
    }
    const endFor = (target: Target): string | null => {
      const inSet = availabilityEnd.get(targetKey(target));
      if (inSet !== undefined) return inSet;
      if (target.kind !== 'existing') return null;
      const rules = this.entities.get(target.id)?.details.Rules;
      const rule = Array.isArray(rules)
        ? rules.find((r) => isRecord(r) && r.Type === 'AvailabilityRule')
        : undefined;
      const end = isRecord(rule) ? rule.AvailabilityEndDate : undefined;
      return typeof end === 'string' ? end.slice(0, 10) : null;
    };
    for (const change of changes) {
      const errors = change.pendingErrors;
      const accounts = buyerAccountsOf(change);
      if (accounts !== null) {
        if (accounts.length > OFFER_BUYER_ACCOUNTS_MAX) {
          errors.push({
            ErrorCode: 'TOO_MANY_BUYER_ACCOUNTS',
            ErrorMessage: `Provide up to ${OFFER_BUYER_ACCOUNTS_MAX} buyer accounts.`,
          });
        }
        const invalid = accounts.filter((a) => typeof a !== 'string' || !/^\d{12}$/.test(a));
        if (invalid.length > 0) {
          errors.push({
            ErrorCode: 'INVALID_BUYER_ACCOUNTS',
            ErrorMessage: `Buyer accounts must be 12-digit AWS account ids: ${invalid
              .slice(0, 5)
              .map(String)
              .join(', ')}`,
          });
        }
      }
      if (
        change.changeType === 'UpdateTargeting' &&
        change.details.PositiveTargeting !== undefined &&
        change.details.NegativeTargeting !== undefined
      ) {
        errors.push({
          ErrorCode: 'INCOMPATIBLE_TARGETING',
          ErrorMessage: 'Use PositiveTargeting or NegativeTargeting, not both.',
        });
      }
      if (change.changeType === 'UpdatePaymentScheduleTerms') {
        const dates = termsIn(change.details).flatMap((term) =>
          Array.isArray(term.Schedule)
            ? term.Schedule.filter(isRecord).map((item) => String(item.ChargeDate))
            : [],
        );
        if (new Set(dates).size !== dates.length) {
          errors.push({
            ErrorCode: 'DUPLICATE_CHARGE_DATES',
            ErrorMessage: 'Each ChargeDate in the payment schedule must be unique.',
          });
        }
        const end = endFor(change.target);
        if (end !== null && dates.filter((d) => d <= end).length > OFFER_BACKDATED_CHARGES_MAX) {
          errors.push({
            ErrorCode: 'TOO_MANY_BACKDATED_CHARGES',
            ErrorMessage: `Provide up to ${OFFER_BACKDATED_CHARGES_MAX} scheduled payment before AvailabilityEndDate.`,
          });
        }
      }
      if (change.changeType === 'UpdatePricingTerms') {
        // unverified: the error code; usage-based pricing is documented as USD only.
        const nonUsd = termsIn(change.details).filter(
          (t) => typeOf(t) === 'UsageBasedPricingTerm' && t.CurrencyCode !== 'USD',
        );
        if (nonUsd.length > 0) {
          errors.push({
            ErrorCode: 'INVALID_CURRENCY',
            ErrorMessage: 'UsageBasedPricingTerm supports USD only.',
          });
        }
      }
    }
  }

  /** How the change set will end: a pending fault wins, then asynchronous validation errors. */
  private outcomeFor(changes: ChangeRecord[]): Outcome {
    const fault = this.takeChangeSetFault();
    if (fault?.failureCode === 'SERVER_FAULT') {
      for (const change of changes) change.pendingErrors.length = 0;
      return {
        kind: 'fail',
        failureCode: 'SERVER_FAULT',
        description: fault.message ?? 'An internal error occurred (simulated fault).',
      };
    }
    if (fault?.failureCode === 'CLIENT_ERROR') {
      changes[0]?.pendingErrors.push({
        ErrorCode: fault.errorCode ?? 'SIMULATED_CLIENT_ERROR',
        ErrorMessage: fault.message ?? 'Simulated validation failure.',
      });
    }
    if (changes.some((c) => c.pendingErrors.length > 0)) {
      return {
        kind: 'fail',
        failureCode: 'CLIENT_ERROR',
        description: 'One or more changes failed validation.',
      };
    }
    return { kind: 'succeed' };
  }

  // ----- processing -----

  private advance(record: ChangeSetRecord): void {
    record.describes += 1;
    if (record.status !== 'PREPARING' && record.status !== 'APPLYING') return;
    if (record.describes >= record.describesToFinish) {
      this.finish(record);
      return;
    }
    // A change set that fails validation never reaches APPLYING.
    const validating =
      record.outcome.kind === 'fail' && record.outcome.failureCode === 'CLIENT_ERROR';
    record.status =
      !validating && record.describes === record.describesToFinish - 1 ? 'APPLYING' : 'PREPARING';
  }

  private finish(record: ChangeSetRecord): void {
    const now = this.now();
    record.endTime = awsTime(now);
    if (record.outcome.kind === 'fail') {
      record.status = 'FAILED';
      record.failureCode = record.outcome.failureCode;
      record.failureDescription = record.outcome.description;
      for (const change of record.changes) change.errors = [...change.pendingErrors];
      return;
    }
    const creates = record.changes.filter((c) => c.submittedIdentifier === null).length;
    if (this.entities.size + creates > CATALOG_SIM_ENTITIES_MAX) {
      record.status = 'FAILED';
      record.failureCode = 'SERVER_FAULT';
      record.failureDescription = `The simulator keeps at most ${CATALOG_SIM_ENTITIES_MAX} entities`;
      return;
    }
    this.apply(record, awsTime(now));
    record.status = 'SUCCEEDED';
  }

  /** Applies a succeeded change set's changes, in order, to new or existing entities. */
  private apply(record: ChangeSetRecord, at: string): void {
    const working = new Map<string, EntityRecord>();
    const entityFor = (change: ChangeRecord): EntityRecord => {
      const key = targetKey(change.target);
      const known = working.get(key);
      if (known) return known;
      let entity: EntityRecord;
      if (change.target.kind === 'existing') {
        const stored = this.entities.get(change.target.id);
        if (stored === undefined) throw new Error(`entity ${change.target.id} vanished`);
        entity = { ...stored, details: structuredClone(stored.details) };
      } else {
        const kind = ENTITY_KINDS[change.entityType];
        if (kind === undefined) throw new Error(`entity type ${change.entityType} vanished`);
        const id = `${kind.idPrefix}${randomAlnum(16)}`;
        entity = {
          id,
          type: change.entityType,
          arn: `arn:aws:aws-marketplace:${this.region}:${this.accountId}:${CATALOG_NAME}/${kind.arnName}/${id}`,
          revision: 0,
          lastModified: at,
          details: { Id: id, Rules: [], Terms: [] },
        };
      }
      working.set(key, entity);
      return entity;
    };
    for (const change of record.changes) {
      const entity = entityFor(change);
      change.resolvedId = entity.id;
      if (change.entityType === OFFER_TYPE) applyOfferChange(entity.details, change);
      else if (change.entityType === SAAS_PRODUCT_TYPE) applyProductChange(entity.details, change);
      else applyResaleChange(entity.details, change);
    }
    for (const entity of working.values()) {
      entity.revision += 1;
      entity.lastModified = at;
      entity.details = inDescribeOrder(entity.details);
      this.entities.set(entity.id, entity);
    }
  }

  // ----- output -----

  private entityIdsOf(record: ChangeSetRecord): string[] {
    const ids = new Set<string>();
    for (const change of record.changes) {
      if (change.resolvedId !== null) ids.add(change.resolvedId);
      else if (change.target.kind === 'existing') ids.add(change.target.id);
    }
    return [...ids];
  }

  private describeWire(record: ChangeSetRecord): DescribeChangeSetResponse {
    return {
      ChangeSetId: record.id,
      ChangeSetArn: record.arn,
      ...(record.name === null ? {} : { ChangeSetName: record.name }),
      Intent: 'APPLY',
      StartTime: record.startTime,
      ...(record.endTime === null ? {} : { EndTime: record.endTime }),
      Status: record.status,
      ...(record.failureCode === null ? {} : { FailureCode: record.failureCode }),
      ...(record.failureDescription === null
        ? {}
        : { FailureDescription: record.failureDescription }),
      ChangeSet: record.changes.map((change): ChangeSummary => {
        const identifier = change.resolvedId ?? change.submittedIdentifier;
        return {
          ChangeType: change.changeType,
          ...(change.changeName === null ? {} : { ChangeName: change.changeName }),
          Entity: {
            Type: change.entityType,
            ...(identifier === null ? {} : { Identifier: identifier }),
          },
          DetailsDocument: structuredClone(change.details) as ChangeSummary['DetailsDocument'],
          ErrorDetailList: change.errors.map((e) => ({ ...e })),
        };
      }),
    };
  }

  private snapshot(record: ChangeSetRecord): CatalogSimChangeSet {
    return {
      changeSetId: record.id,
      changeSetArn: record.arn,
      changeSetName: record.name,
      clientRequestToken: record.token,
      status: record.status,
      failureCode: record.failureCode,
      failureDescription: record.failureDescription,
      startTime: record.startTime,
      endTime: record.endTime,
      describes: record.describes,
      changes: record.changes.map((c) => ({
        changeType: c.changeType,
        changeName: c.changeName,
        entityType: c.entityType,
        entityIdentifier: c.resolvedId ?? c.submittedIdentifier,
        details: c.details,
        errors: c.errors,
      })),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Applying changes to entity details
// ---------------------------------------------------------------------------------------------
// unverified: how DescribeEntity presents the result. It follows the Offer@1.0 entity shape of
// the published shape models and the reference fixture: top-level Id/Name/Description/State/
// ProductId, `Rules` (TargetingRule, AvailabilityRule) and `Terms`, each term with an `Id`;
// dates given as YYYY-MM-DD come back as timestamps.

/** Identity and state first, then the rest, Rules and Terms last (as the fixtures read). */
function inDescribeOrder(details: Record<string, unknown>): Record<string, unknown> {
  const head = ['Id', 'Name', 'Description', 'State', 'Status', 'ProductId'];
  const tail = ['Rules', 'Terms'];
  const ordered: Record<string, unknown> = {};
  for (const key of head) if (key in details) ordered[key] = details[key];
  for (const [key, value] of Object.entries(details)) {
    if (!head.includes(key) && !tail.includes(key)) ordered[key] = value;
  }
  for (const key of tail) if (key in details) ordered[key] = details[key];
  return ordered;
}

function termId(): string {
  return `term-${randomAlnum(16)}`;
}

/** Replaces the terms `replaces` selects with `incoming`, each given a fresh term id. */
function replaceTerms(
  details: Record<string, unknown>,
  incoming: readonly Record<string, unknown>[],
  replaces: (type: string) => boolean,
): void {
  const kept = termsIn(details).filter((t) => !replaces(typeOf(t)));
  details.Terms = [...kept, ...incoming.map((t) => ({ Id: termId(), ...structuredClone(t) }))];
}

function replaceRule(details: Record<string, unknown>, rule: Record<string, unknown>): void {
  const rules = Array.isArray(details.Rules) ? details.Rules.filter(isRecord) : [];
  details.Rules = [...rules.filter((r) => r.Type !== rule.Type), rule];
}

/** Terms of a change, with YYYY-MM-DD charge dates as midnight UTC timestamps. */
function incomingTerms(change: ChangeRecord): Record<string, unknown>[] {
  return termsIn(change.details).map((term) => {
    if (!Array.isArray(term.Schedule)) return term;
    return {
      ...term,
      Schedule: term.Schedule.map((item: unknown) =>
        isRecord(item) && typeof item.ChargeDate === 'string' && item.ChargeDate.length === 10
          ? { ...item, ChargeDate: `${item.ChargeDate}T00:00:00.000Z` }
          : item,
      ),
    };
  });
}

function applyTermsChange(details: Record<string, unknown>, change: ChangeRecord): void {
  const terms = incomingTerms(change);
  if (change.changeType === 'UpdatePricingTerms') {
    // "Replaces all pricing terms."
    replaceTerms(details, terms, isPricingTerm);
    return;
  }
  const types = new Set(terms.map(typeOf));
  replaceTerms(details, terms, (type) => types.has(type));
}

function copyInformation(details: Record<string, unknown>, change: ChangeRecord): void {
  for (const key of ['Name', 'Description', 'PreExistingAgreement'] as const) {
    if (change.details[key] !== undefined) details[key] = structuredClone(change.details[key]);
  }
}

function availabilityRule(change: ChangeRecord): Record<string, unknown> {
  const end = change.details.AvailabilityEndDate;
  return {
    Type: 'AvailabilityRule',
    ...(typeof end === 'string' ? { AvailabilityEndDate: `${end}T23:59:59.000Z` } : {}),
    ...(change.details.OffersMaxQuantity === undefined
      ? {}
      : { OffersMaxQuantity: change.details.OffersMaxQuantity }),
  };
}

function applyOfferChange(details: Record<string, unknown>, change: ChangeRecord): void {
  const doc = change.details;
  switch (change.changeType) {
    case 'CreateOffer':
      details.ProductId = doc.ProductId;
      if (doc.Name !== undefined) details.Name = doc.Name;
      if (doc.OfferSetId !== undefined) details.OfferSetId = doc.OfferSetId;
      details.State = 'Draft';
      return;
    case 'CreateReplacementOffer':
      details.AgreementId = doc.AgreementId;
      if (doc.Name !== undefined) details.Name = doc.Name;
      details.State = 'Draft';
      return;
    case 'UpdateInformation':
      copyInformation(details, change);
      return;
    case 'UpdateTargeting':
      replaceRule(details, {
        Type: 'TargetingRule',
        ...(doc.PositiveTargeting === undefined
          ? {}
          : { PositiveTargeting: structuredClone(doc.PositiveTargeting) }),
        ...(doc.NegativeTargeting === undefined
          ? {}
          : { NegativeTargeting: structuredClone(doc.NegativeTargeting) }),
      });
      return;
    case 'UpdateAvailability':
      replaceRule(details, availabilityRule(change));
      return;
    case 'UpdateMarkup':
      details.MarkupPercentage = doc.MarkupPercentage;
      return;
    case 'ReleaseOffer':
      details.State = 'Released';
      return;
    default:
      // UpdateSupportTerms, UpdateLegalTerms, UpdatePricingTerms, UpdatePaymentScheduleTerms,
      // UpdateValidityTerms, UpdateNetPaymentTerms, UpdateRenewalTerms.
      applyTermsChange(details, change);
  }
}

function applyProductChange(details: Record<string, unknown>, change: ChangeRecord): void {
  const doc = change.details;
  const dimensions = (details.Dimensions ?? []) as Record<string, unknown>[];
  switch (change.changeType) {
    case 'CreateProduct':
    case 'UpdateInformation':
      details.Description = { ...((details.Description as object | undefined) ?? {}), ...doc };
      if (change.changeType === 'CreateProduct') details.Status = 'Draft';
      return;
    case 'AddDimensions':
      details.Dimensions = [...dimensions, ...(doc.Dimensions as Record<string, unknown>[])];
      return;
    case 'UpdateDimensions':
      details.Dimensions = dimensions.map((d) => {
        const update = (doc.Dimensions as Record<string, unknown>[]).find((u) => u.Key === d.Key);
        return update ? { ...d, ...update } : d;
      });
      return;
    case 'ReleaseProduct':
      details.Status = 'Public';
      return;
    default:
      return;
  }
}

function applyResaleChange(details: Record<string, unknown>, change: ChangeRecord): void {
  const doc = change.details;
  switch (change.changeType) {
    case 'CreateResaleAuthorization':
      details.ProductId = doc.ProductId;
      copyInformation(details, change);
      details.Status = 'Draft';
      return;
    case 'UpdateInformation':
      copyInformation(details, change);
      return;
    case 'UpdateAvailability':
      replaceRule(details, availabilityRule(change));
      return;
    case 'ReleaseResaleAuthorization':
      details.Status = 'Active';
      return;
    case 'RestrictResaleAuthorization':
      details.Status = 'Restricted';
      return;
    default:
      // UpdatePricingTerms, UpdatePaymentScheduleTerms, UpdateBuyerTargetingTerms,
      // UpdateBuyerValidityTerms, UpdateLegalTerms.
      applyTermsChange(details, change);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------------

/**
 * The body, or null when it exceeds CATALOG_SIM_BODY_BYTES_MAX. An oversized body is drained
 * (not kept) so the client can read the 413; one that goes on past 8× the limit is cut off.
 */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return readBoundedBody(request, CATALOG_SIM_BODY_BYTES_MAX);
}

function sendError(response: ServerResponse, error: CatalogWireError, requestId: string): void {
  response
    .writeHead(error.statusCode, {
      'content-type': 'application/json',
      'x-amzn-errortype': error.errorType,
      'x-amzn-requestid': requestId,
    })
    .end(JSON.stringify({ Message: error.message, ...error.members }));
}
