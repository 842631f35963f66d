/**
 * An AWS Marketplace simulator for local runs and integration tests: one node:http server that
 * the real AWS SDK v3 clients reach through their `endpoint` override. It speaks the services'
 * own wire protocols:
 *
 * - Marketplace Agreement (awsJson1_0, target `AWSMPCommerceService_v20200301.*`, camelCase):
 *   DescribeAgreement, GetAgreementTerms, GetAgreementEntitlements, SearchAgreements.
 * - Marketplace Entitlement Service (awsJson1_1, `AWSMPEntitlementService.*`, PascalCase):
 *   GetEntitlements.
 * - Marketplace Metering (awsJson1_1, `AWSMPMeteringService.*`, PascalCase): ResolveCustomer,
 *   BatchMeterUsage.
 * - Marketplace Catalog (restJson1, `/StartChangeSet`, `/DescribeChangeSet`, …): delegated to
 *   ./aws-catalog-simulator.ts, exposed as `catalog`; its state is under `catalog` in
 *   `GET /_sim/state`, its faults go through `/_sim/faults`, its calls into the calls log.
 * - Partner Central Selling (awsJson1_0, `AWSPartnerCentralSelling.*`): delegated to
 *   ./aws-partner-central-simulator.ts, exposed as `partnerCentral`; its state is under
 *   `partnerCentral` in `GET /_sim/state`, its calls go into the calls log.
 *
 * Member names and casing follow the installed SDK types (response objects are checked against
 * them at compile time through `Wire<T>`); timestamps travel as epoch seconds. Errors carry
 * `__type` and `message` in the body and `x-amzn-errortype` in a header, which is what the SDK
 * reads to pick the exception class. SigV4 signatures are not checked.
 *
 * State is a zod-validated seed document (agreements, entitlements, registrations). Tests and
 * other processes drive it in process or over `/_sim/*`, and inject faults (throttle, server
 * error, empty answer, access denied) that are consumed in the order they were injected.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  AcceptedTerm,
  AgreementEntitlement,
  AgreementViewSummary,
  DescribeAgreementOutput,
  GetAgreementEntitlementsOutput,
  GetAgreementTermsOutput,
  SearchAgreementsOutput,
} from '@aws-sdk/client-marketplace-agreement';
import type {
  Entitlement as EntitlementServiceEntitlement,
  GetEntitlementsResult,
} from '@aws-sdk/client-marketplace-entitlement-service';
import type {
  BatchMeterUsageResult,
  ResolveCustomerResult,
  UsageRecord,
  UsageRecordResult,
} from '@aws-sdk/client-marketplace-metering';
import { z } from 'zod';
import {
  AwsCatalogSimulator,
  CATALOG_SIM_OPERATIONS,
  CatalogFaultSchema,
  CatalogSimulatorInputError,
} from './aws-catalog-simulator';
import { AwsPartnerCentralSimulator } from './aws-partner-central-simulator';
import { readBoundedBody } from './sim-http';

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/** Request bodies above this are refused (BatchMeterUsage's own documented limit is 1 MB). */
export const SIM_BODY_BYTES_MAX = 1024 * 1024;
/** An oversized body is read and dropped up to this, then the connection is cut. */
export const SIM_DRAIN_BYTES_MAX = 8 * SIM_BODY_BYTES_MAX;
/** The calls log keeps the newest entries only. */
export const SIM_CALLS_MAX = 10_000;
/** A call input larger than this is logged as a placeholder, so the log stays bounded. */
export const SIM_CALL_INPUT_BYTES_MAX = 64 * 1024;
/** Metered records kept; beyond this BatchMeterUsage returns records as UnprocessedRecords. */
export const SIM_METERED_RECORDS_MAX = 100_000;
/** Pending faults at once. */
export const SIM_FAULTS_MAX = 100;
/** How many calls one fault may affect. */
export const SIM_FAULT_TIMES_MAX = 10_000;
/** Agreements, entitlements and registrations each. */
export const SIM_STATE_ITEMS_MAX = 10_000;
/** Terms or entitlements inside one agreement, and any list inside a term. */
export const SIM_LIST_ITEMS_MAX = 1_000;
/** Any string in the seed. */
export const SIM_TEXT_CHARS_MAX = 4_096;

/**
 * GetAgreementTerms documents maxResults 1–50.
 * unverified: the same range is assumed for GetAgreementEntitlements and SearchAgreements.
 */
export const AGREEMENT_PAGE_SIZE_MAX = 50;
/** unverified: GetEntitlements' MaxResults range is not in the SDK types; 25 is assumed. */
export const ENTITLEMENT_PAGE_SIZE_MAX = 25;
/** unverified: AWS's own caps; these bound the simulator's work per request. */
export const AGREEMENT_FILTERS_MAX = 20;
export const AGREEMENT_FILTER_VALUES_MAX = 100;
export const ENTITLEMENT_FILTER_VALUES_MAX = 100;
/** BatchMeterUsage accepts up to 25 UsageRecords (SDK documentation). */
export const METERING_BATCH_RECORDS_MAX = 25;
/**
 * Records older than this (against the simulator clock) are out of bounds. The task fixes 6 h;
 * the installed SDK documentation of BatchMeterUsage says 24 h (6 h is MeterUsage's window).
 */
export const METERING_RECORD_AGE_MAX_MS = 6 * 60 * 60_000;
/** UsageRecord.Quantity is a non-negative 32-bit integer. */
export const METERING_QUANTITY_MAX = 2_147_483_647;

// ---------------------------------------------------------------------------------------------
// Seed / state schemas
// ---------------------------------------------------------------------------------------------

const Text = z.string().max(SIM_TEXT_CHARS_MAX);
const RequiredText = Text.min(1);
const IsoInstant = z.iso.datetime({ offset: true });
/** AWS account ids are 12 digits. */
const AccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
/** The documented agreementId constraint (1–64 of [A-Za-z0-9_/-]). */
const AgreementId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_/-]+$/, 'must match [A-Za-z0-9_/-]+');
const DecimalAmount = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string');
const list = <T extends z.ZodType>(item: T) => z.array(item).max(SIM_LIST_ITEMS_MAX);

/** AgreementStatus values of the installed SDK. */
export const AGREEMENT_STATUSES = [
  'ACTIVE',
  'ARCHIVED',
  'CANCELLED',
  'EXPIRED',
  'RENEWED',
  'REPLACED',
  'ROLLED_BACK',
  'SUPERSEDED',
  'TERMINATED',
] as const;
/** AgreementEntitlementStatus values of the installed SDK. */
export const AGREEMENT_ENTITLEMENT_STATUSES = [
  'DEPROVISIONED',
  'FAILED',
  'PENDING',
  'PROVISIONED',
  'SCHEDULED',
] as const;
const AGREEMENT_ENTITLEMENT_STATUS_REASON_CODES = [
  'ACCOUNT_SUSPENDED',
  'AGREEMENT_ACTIVE',
  'AGREEMENT_INACTIVE',
  'FUTURE_START_DATE',
  'INCOMPATIBLE_CURRENCY',
  'INVALID_PAYMENT_INSTRUMENT',
  'PRODUCT_RESTRICTED',
  'PROVISIONING_IN_PROGRESS',
  'UNSUPPORTED_OPERATION',
] as const;

// The term shapes below mirror AcceptedTerm in @aws-sdk/client-marketplace-agreement member by
// member; they are strict so a misspelt member in a seed fails instead of silently vanishing.
// The only timestamps are validityTerm.agreementStartDate/agreementEndDate and
// paymentScheduleTerm.schedule[].chargeDate: ISO in the seed, epoch seconds on the wire.
const termHead = { type: Text.optional(), id: Text.optional() };
const RateCardItemSchema = z.strictObject({
  dimensionKey: Text.optional(),
  price: Text.optional(),
});
const GrantItemSchema = z.strictObject({
  dimensionKey: Text.optional(),
  maxQuantity: z.number().int().optional(),
});
const LegalTermSchema = z.strictObject({
  ...termHead,
  documents: list(
    z.strictObject({ type: Text.optional(), url: Text.optional(), version: Text.optional() }),
  ).optional(),
});
const SupportTermSchema = z.strictObject({ ...termHead, refundPolicy: Text.optional() });
const RenewalTermSchema = z.strictObject({
  ...termHead,
  configuration: z.strictObject({ enableAutoRenew: z.boolean() }).optional(),
  lockoutPeriod: Text.optional(),
  maxRenewals: z.number().int().optional(),
  adjustmentDeadline: Text.optional(),
  priceIncrease: z
    .union([
      z.strictObject({ fixedPercentage: z.strictObject({ value: Text.optional() }) }),
      z.strictObject({
        percentageRange: z.strictObject({
          minValue: Text.optional(),
          maxValue: Text.optional(),
          defaultValue: Text.optional(),
        }),
      }),
    ])
    .optional(),
  termTemplates: list(
    z.strictObject({
      paymentScheduleTermTemplate: z.strictObject({
        schedule: list(
          z.strictObject({
            chargeDateOffset: Text.optional(),
            chargePercentage: Text.optional(),
            dayOfMonth: z.number().int().optional(),
          }),
        ).optional(),
      }),
    }),
  ).optional(),
});
const UsageBasedPricingTermSchema = z.strictObject({
  ...termHead,
  currencyCode: Text.optional(),
  rateCards: list(z.strictObject({ rateCard: list(RateCardItemSchema).optional() })).optional(),
});
const ConfigurableUpfrontPricingTermSchema = z.strictObject({
  ...termHead,
  currencyCode: Text.optional(),
  rateCards: list(
    z.strictObject({
      selector: z.strictObject({ type: Text.optional(), value: Text.optional() }).optional(),
      constraints: z
        .strictObject({
          multipleDimensionSelection: Text.optional(),
          quantityConfiguration: Text.optional(),
        })
        .optional(),
      rateCard: list(RateCardItemSchema).optional(),
    }),
  ).optional(),
  configuration: z
    .strictObject({
      selectorValue: Text,
      dimensions: list(z.strictObject({ dimensionKey: Text, dimensionValue: z.number().int() })),
    })
    .optional(),
});
const ByolPricingTermSchema = z.strictObject({ ...termHead });
const RecurringPaymentTermSchema = z.strictObject({
  ...termHead,
  currencyCode: Text.optional(),
  billingPeriod: Text.optional(),
  price: Text.optional(),
});
const ValidityTermSchema = z.strictObject({
  ...termHead,
  agreementDuration: Text.optional(),
  agreementStartDate: IsoInstant.optional(),
  agreementEndDate: IsoInstant.optional(),
});
const PaymentScheduleTermSchema = z.strictObject({
  ...termHead,
  currencyCode: Text.optional(),
  schedule: list(
    z.strictObject({ chargeDate: IsoInstant.optional(), chargeAmount: Text.optional() }),
  ).optional(),
});
const FreeTrialPricingTermSchema = z.strictObject({
  ...termHead,
  duration: Text.optional(),
  grants: list(GrantItemSchema).optional(),
});
const FixedUpfrontPricingTermSchema = z.strictObject({
  ...termHead,
  currencyCode: Text.optional(),
  duration: Text.optional(),
  price: Text.optional(),
  grants: list(GrantItemSchema).optional(),
});
const VariablePaymentTermSchema = z.strictObject({
  ...termHead,
  currencyCode: Text.optional(),
  maxTotalChargeAmount: Text.optional(),
  configuration: z
    .strictObject({
      paymentRequestApprovalStrategy: z.enum(['AUTO_APPROVE_ON_EXPIRATION', 'WAIT_FOR_APPROVAL']),
      expirationDuration: Text.optional(),
    })
    .optional(),
});
const NetPaymentTermSchema = z.strictObject({ ...termHead, paymentDuePeriod: Text.optional() });

/** One accepted term, exactly one member set, as GetAgreementTerms returns it (dates ISO). */
export const SimAcceptedTermSchema = z.union([
  z.strictObject({ legalTerm: LegalTermSchema }),
  z.strictObject({ supportTerm: SupportTermSchema }),
  z.strictObject({ renewalTerm: RenewalTermSchema }),
  z.strictObject({ usageBasedPricingTerm: UsageBasedPricingTermSchema }),
  z.strictObject({ configurableUpfrontPricingTerm: ConfigurableUpfrontPricingTermSchema }),
  z.strictObject({ byolPricingTerm: ByolPricingTermSchema }),
  z.strictObject({ recurringPaymentTerm: RecurringPaymentTermSchema }),
  z.strictObject({ validityTerm: ValidityTermSchema }),
  z.strictObject({ paymentScheduleTerm: PaymentScheduleTermSchema }),
  z.strictObject({ freeTrialPricingTerm: FreeTrialPricingTermSchema }),
  z.strictObject({ fixedUpfrontPricingTerm: FixedUpfrontPricingTermSchema }),
  z.strictObject({ variablePaymentTerm: VariablePaymentTermSchema }),
  z.strictObject({ netPaymentTerm: NetPaymentTermSchema }),
]);
export type SimAcceptedTerm = z.infer<typeof SimAcceptedTermSchema>;

/** One entry of GetAgreementEntitlements. */
export const SimAgreementEntitlementSchema = z.strictObject({
  resourceId: RequiredText,
  resourceType: Text.optional(),
  type: Text.optional(),
  status: z.enum(AGREEMENT_ENTITLEMENT_STATUSES),
  statusReasonCode: z.enum(AGREEMENT_ENTITLEMENT_STATUS_REASON_CODES).optional(),
  licenseArn: Text.optional(),
  registrationToken: Text.optional(),
});
export type SimAgreementEntitlement = z.infer<typeof SimAgreementEntitlementSchema>;

export const SimAgreementSchema = z.strictObject({
  agreementId: AgreementId,
  /** Answered as `PurchaseAgreement` when absent. */
  agreementType: RequiredText.optional(),
  status: z.enum(AGREEMENT_STATUSES),
  acceptanceTime: IsoInstant,
  startTime: IsoInstant,
  endTime: IsoInstant.nullable(),
  acceptorAccountId: AccountId,
  proposerAccountId: AccountId,
  offerId: RequiredText,
  productId: RequiredText,
  productType: RequiredText.optional(),
  estimatedCharges: z
    .strictObject({ agreementValue: DecimalAmount, currencyCode: z.string().regex(/^[A-Z]{3}$/) })
    .optional(),
  terms: list(SimAcceptedTermSchema),
  entitlements: list(SimAgreementEntitlementSchema),
  /**
   * false: the caller is neither proposer nor acceptor (a CPPO agreement seen by the ISV), so
   * Describe/GetAgreementTerms/GetAgreementEntitlements answer AccessDeniedException and
   * SearchAgreements does not list it. Default true.
   */
  visibleToCaller: z.boolean().optional(),
});
export type SimAgreement = z.infer<typeof SimAgreementSchema>;

/** One Marketplace Entitlement Service record (GetEntitlements). */
export const SimEntitlementSchema = z
  .strictObject({
    productCode: RequiredText,
    dimension: RequiredText,
    customerIdentifier: RequiredText.optional(),
    customerAwsAccountId: AccountId.optional(),
    licenseArn: RequiredText.optional(),
    value: z
      .strictObject({
        integerValue: z.number().int().optional(),
        doubleValue: z.number().optional(),
        booleanValue: z.boolean().optional(),
        stringValue: Text.optional(),
      })
      .refine((v) => Object.values(v).filter((x) => x !== undefined).length === 1, {
        message: 'exactly one of integerValue, doubleValue, booleanValue, stringValue',
      }),
    expirationDate: IsoInstant.optional(),
  })
  .refine((e) => e.customerIdentifier !== undefined || e.customerAwsAccountId !== undefined, {
    message: 'needs customerIdentifier or customerAwsAccountId',
  });
export type SimEntitlement = z.infer<typeof SimEntitlementSchema>;

/** A registration token ResolveCustomer can resolve. */
export const SimRegistrationSchema = z.strictObject({
  token: RequiredText,
  customerIdentifier: RequiredText.optional(),
  customerAwsAccountId: AccountId,
  productCode: RequiredText,
  licenseArn: RequiredText.optional(),
  /** true: ResolveCustomer answers ExpiredTokenException. */
  expired: z.boolean().optional(),
});
export type SimRegistration = z.infer<typeof SimRegistrationSchema>;

export const AwsSimulatorStateSchema = z
  .strictObject({
    agreements: z.array(SimAgreementSchema).max(SIM_STATE_ITEMS_MAX),
    entitlements: z.array(SimEntitlementSchema).max(SIM_STATE_ITEMS_MAX),
    registrations: z.array(SimRegistrationSchema).max(SIM_STATE_ITEMS_MAX),
  })
  .superRefine((state, ctx) => {
    const duplicates = (keys: readonly string[], path: string, what: string) => {
      const seen = new Set<string>();
      keys.forEach((key, index) => {
        if (seen.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: [path, index],
            message: `duplicate ${what} ${key}`,
          });
        }
        seen.add(key);
      });
    };
    duplicates(
      state.agreements.map((a) => a.agreementId),
      'agreements',
      'agreementId',
    );
    duplicates(
      state.registrations.map((r) => r.token),
      'registrations',
      'token',
    );
    duplicates(state.entitlements.map(entitlementKey), 'entitlements', 'entitlement');
  });
export type AwsSimulatorState = z.infer<typeof AwsSimulatorStateSchema>;

/** Operations the simulator answers (their names are unique across the three services). */
export const SIMULATED_OPERATIONS = [
  'DescribeAgreement',
  'GetAgreementTerms',
  'GetAgreementEntitlements',
  'SearchAgreements',
  'GetEntitlements',
  'ResolveCustomer',
  'BatchMeterUsage',
] as const;
export type SimulatedOperation = (typeof SIMULATED_OPERATIONS)[number];

export const SIM_FAULT_KINDS = ['throttle', 'server-error', 'empty', 'access-denied'] as const;
export type SimFaultKind = (typeof SIM_FAULT_KINDS)[number];

/**
 * The next `times` calls of `operation` ('*' = any) fail or come back empty:
 * - throttle: ThrottlingException
 * - server-error: InternalServerException (agreement) / InternalServiceErrorException (others)
 * - access-denied: AccessDeniedException
 * - empty: list operations answer an empty list without nextToken; DescribeAgreement and
 *   ResolveCustomer answer `{}`; BatchMeterUsage stores nothing and answers every record in
 *   UnprocessedRecords (what the service does when it wants a record retried).
 */
export const SimFaultSchema = z.strictObject({
  operation: z.union([z.literal('*'), z.enum(SIMULATED_OPERATIONS)]),
  kind: z.enum(SIM_FAULT_KINDS),
  times: z.number().int().min(1).max(SIM_FAULT_TIMES_MAX),
});
export type SimFault = z.infer<typeof SimFaultSchema>;

export interface SimCall {
  readonly operation: string;
  readonly input: unknown;
}

/** A usage record BatchMeterUsage accepted. */
export interface MeteredRecord {
  readonly meteringRecordId: string;
  readonly productCode: string | null;
  readonly customerIdentifier: string | null;
  readonly customerAwsAccountId: string | null;
  readonly licenseArn: string | null;
  readonly dimension: string;
  readonly quantity: number;
  /** The record's Timestamp, ISO. */
  readonly timestamp: string;
  readonly usageAllocations: ReadonlyArray<{
    readonly allocatedUsageQuantity: number;
    readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  }> | null;
  /** When the simulator accepted it (simulator clock), ISO. */
  readonly receivedAt: string;
}

export interface AwsSimulator {
  readonly url: string;
  readonly port: number;
  /** A copy of the seed document as it is now. */
  state(): AwsSimulatorState;
  /** Replaces agreements, entitlements and registrations; metered records, calls and faults stay. */
  setState(state: AwsSimulatorState): void;
  /** Replaces the agreement with the same agreementId, or appends. */
  upsertAgreement(agreement: SimAgreement): void;
  /** Replaces the entitlement with the same product, dimension and customer/license, or appends. */
  upsertEntitlement(entitlement: SimEntitlement): void;
  /** Replaces the registration with the same token, or appends. */
  addRegistration(registration: SimRegistration): void;
  injectFault(fault: SimFault): void;
  clearFaults(): void;
  meteredRecords(): ReadonlyArray<MeteredRecord>;
  calls(): ReadonlyArray<SimCall>;
  /** The Catalog API on the same server (change sets, entities, its own faults). */
  readonly catalog: AwsCatalogSimulator;
  /** Partner Central Selling (ACE opportunities) on the same server, with its own faults. */
  readonly partnerCentral: AwsPartnerCentralSimulator;
  close(): Promise<void>;
}

export interface AwsSimulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly state?: AwsSimulatorState;
  /** The simulator clock (metering time window, receivedAt). */
  readonly now?: () => Date;
}

/** Bad input to the in-process API or the `/_sim/*` endpoints (a 400 over HTTP). */
export class AwsSimulatorInputError extends Error {
  readonly details: ReadonlyArray<{ readonly path: string; readonly message: string }>;
  constructor(
    message: string,
    details: ReadonlyArray<{ readonly path: string; readonly message: string }> = [],
  ) {
    super(message);
    this.name = 'AwsSimulatorInputError';
    this.details = details;
  }
}

// ---------------------------------------------------------------------------------------------
// Wire types and errors
// ---------------------------------------------------------------------------------------------

/** An SDK type as it travels in awsJson: Date members are epoch seconds. */
type Wire<T> = T extends Date
  ? number
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

type ServiceName = 'agreement' | 'entitlement' | 'metering';

interface ServiceProtocol {
  readonly targetPrefix: string;
  readonly contentType: string;
}

const PROTOCOLS: Record<ServiceName, ServiceProtocol> = {
  agreement: {
    targetPrefix: 'AWSMPCommerceService_v20200301',
    contentType: 'application/x-amz-json-1.0',
  },
  entitlement: {
    targetPrefix: 'AWSMPEntitlementService',
    contentType: 'application/x-amz-json-1.1',
  },
  metering: { targetPrefix: 'AWSMPMeteringService', contentType: 'application/x-amz-json-1.1' },
};

const OPERATION_SERVICE: Record<SimulatedOperation, ServiceName> = {
  DescribeAgreement: 'agreement',
  GetAgreementTerms: 'agreement',
  GetAgreementEntitlements: 'agreement',
  SearchAgreements: 'agreement',
  GetEntitlements: 'entitlement',
  ResolveCustomer: 'metering',
  BatchMeterUsage: 'metering',
};

/** An error answered in the awsJson shape: `{"__type", "message", ...members}`. */
class AwsWireError extends Error {
  constructor(
    readonly errorType: string,
    readonly statusCode: number,
    message: string,
    readonly members: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

// Agreement errors carry the httpError codes of the SDK's model (403/404/429/400/500).
const agreementErrors = {
  validation: (message: string, reason: string, field?: string) =>
    new AwsWireError('ValidationException', 400, message, {
      reason,
      ...(field === undefined ? {} : { fields: [{ name: field, message }] }),
    }),
  notFound: (agreementId: string) =>
    new AwsWireError('ResourceNotFoundException', 404, `Agreement ${agreementId} not found`, {
      resourceId: agreementId,
      resourceType: 'Agreement',
    }),
  accessDenied: (message: string) => new AwsWireError('AccessDeniedException', 403, message),
};

// unverified: the entitlement and metering models declare no AccessDeniedException; it is
// answered as AWS's generic error with status 400, so the SDK raises its service base exception
// carrying that name. Their ThrottlingException has no modeled status either (400 assumed).
function faultError(service: ServiceName, kind: Exclude<SimFaultKind, 'empty'>): AwsWireError {
  const simulated = '(simulated fault)';
  switch (kind) {
    case 'throttle':
      return new AwsWireError(
        'ThrottlingException',
        service === 'agreement' ? 429 : 400,
        `Rate exceeded ${simulated}`,
      );
    case 'server-error':
      return service === 'agreement'
        ? new AwsWireError('InternalServerException', 500, `Internal error ${simulated}`)
        : new AwsWireError('InternalServiceErrorException', 500, `Internal error ${simulated}`);
    case 'access-denied':
      return new AwsWireError(
        'AccessDeniedException',
        service === 'agreement' ? 403 : 400,
        `Access denied ${simulated}`,
      );
  }
}

/** ValidationException reasons (SDK enum values) by the agreement input member at fault. */
const AGREEMENT_VALIDATION_REASONS: Record<string, { missing: string; invalid: string }> = {
  agreementId: { missing: 'MISSING_AGREEMENT_ID', invalid: 'INVALID_AGREEMENT_ID' },
  maxResults: { missing: 'INVALID_MAX_RESULTS', invalid: 'INVALID_MAX_RESULTS' },
  nextToken: { missing: 'INVALID_NEXT_TOKEN', invalid: 'INVALID_NEXT_TOKEN' },
  filters: { missing: 'MISSING_FILTER_VALUES', invalid: 'INVALID_FILTER_VALUES' },
  catalog: { missing: 'INVALID_CATALOG', invalid: 'INVALID_CATALOG' },
};

/** A request body that is not what the operation accepts. */
function invalidInput(service: ServiceName, error: z.ZodError, input: unknown): AwsWireError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  const message = `${field || 'input'}: ${issue?.message ?? 'invalid'}`;
  if (service === 'agreement') {
    const root = String(issue?.path[0] ?? '');
    const given =
      typeof input === 'object' && input !== null
        ? (input as Record<string, unknown>)[root]
        : undefined;
    const reasons = AGREEMENT_VALIDATION_REASONS[root];
    const reason =
      reasons === undefined ? 'OTHER' : given === undefined ? reasons.missing : reasons.invalid;
    return agreementErrors.validation(message, reason, field || undefined);
  }
  if (service === 'entitlement') return new AwsWireError('InvalidParameterException', 400, message);
  // unverified: metering has no modeled parameter error; AWS's generic ValidationException.
  return new AwsWireError('ValidationException', 400, message);
}

// ---------------------------------------------------------------------------------------------
// Operation inputs (lenient like AWS: unknown members are ignored)
// ---------------------------------------------------------------------------------------------

const NextTokenInput = z
  .string()
  .max(8_192)
  .regex(/^[a-zA-Z0-9+/=]*$/);
const AgreementMaxResults = z.number().int().min(1).max(AGREEMENT_PAGE_SIZE_MAX);

const DescribeAgreementInput = z.object({ agreementId: AgreementId });
const AgreementPageInput = z.object({
  agreementId: AgreementId,
  maxResults: AgreementMaxResults.optional(),
  nextToken: NextTokenInput.optional(),
});
const SearchAgreementsInput = z.object({
  catalog: z.string().max(64).optional(),
  filters: z
    .array(
      z.object({
        name: z.string().min(1).max(256),
        values: z.array(z.string().max(SIM_TEXT_CHARS_MAX)).min(1).max(AGREEMENT_FILTER_VALUES_MAX),
      }),
    )
    .max(AGREEMENT_FILTERS_MAX)
    .optional(),
  // Accepted and ignored: results come in seed order.
  sort: z
    .object({
      sortBy: z.string().optional(),
      sortOrder: z.enum(['ASCENDING', 'DESCENDING']).optional(),
    })
    .optional(),
  maxResults: AgreementMaxResults.optional(),
  nextToken: NextTokenInput.optional(),
});

const ENTITLEMENT_FILTER_NAMES = [
  'CUSTOMER_IDENTIFIER',
  'CUSTOMER_AWS_ACCOUNT_ID',
  'LICENSE_ARN',
  'DIMENSION',
] as const;
const GetEntitlementsInput = z.object({
  ProductCode: z.string().min(1).max(255),
  Filter: z
    .partialRecord(
      z.enum(ENTITLEMENT_FILTER_NAMES),
      z.array(z.string().min(1).max(SIM_TEXT_CHARS_MAX)).min(1).max(ENTITLEMENT_FILTER_VALUES_MAX),
    )
    .optional(),
  NextToken: z.string().max(8_192).optional(),
  MaxResults: z.number().int().min(1).max(ENTITLEMENT_PAGE_SIZE_MAX).optional(),
});

const ResolveCustomerInput = z.object({ RegistrationToken: z.string().min(1).max(8_192) });

// unverified: the string lengths and the 5-tag cap below are the simulator's bounds, not limits
// read from the SDK (its types carry no constraints).
const UsageRecordInput = z.object({
  /** Epoch seconds, fractional allowed (the SDK sends milliseconds as a fraction). */
  Timestamp: z.number().finite(),
  CustomerIdentifier: z.string().min(1).max(255).optional(),
  Dimension: z.string().min(1).max(255),
  Quantity: z.number().int().min(0).max(METERING_QUANTITY_MAX).optional(),
  UsageAllocations: z
    .array(
      z.object({
        AllocatedUsageQuantity: z.number().int().min(0).max(METERING_QUANTITY_MAX),
        Tags: z
          .array(z.object({ Key: z.string().min(1).max(100), Value: z.string().min(1).max(256) }))
          .max(5)
          .optional(),
      }),
    )
    .min(1)
    .max(SIM_LIST_ITEMS_MAX)
    .optional(),
  CustomerAWSAccountId: AccountId.optional(),
  LicenseArn: z.string().min(1).max(2_048).optional(),
});
type UsageRecordInput = z.infer<typeof UsageRecordInput>;
const BatchMeterUsageInput = z.object({
  UsageRecords: z
    .array(UsageRecordInput)
    .max(
      METERING_BATCH_RECORDS_MAX,
      `at most ${METERING_BATCH_RECORDS_MAX} UsageRecords per BatchMeterUsage call`,
    ),
  ProductCode: z.string().min(1).max(255).optional(),
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function epochSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/**
 * Optional members are written as `undefined` (JSON.stringify drops them) rather than spread in
 * conditionally, so the compiler's excess-property check covers every member name.
 */
function optionalEpochSeconds(iso: string | null | undefined): number | undefined {
  return iso === null || iso === undefined ? undefined : epochSeconds(iso);
}

function entitlementKey(e: SimEntitlement): string {
  return JSON.stringify([
    e.productCode,
    e.dimension,
    e.customerIdentifier ?? null,
    e.customerAwsAccountId ?? null,
    e.licenseArn ?? null,
  ]);
}

function describeIssues(what: string, error: z.ZodError): AwsSimulatorInputError {
  const details = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new AwsSimulatorInputError(
    `Invalid ${what}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'invalid'}${more}`,
    details,
  );
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw describeIssues(what, result.error);
  return result.data;
}

/** Only the three timestamp members of AcceptedTerm change between seed and wire. */
function termToWire(term: SimAcceptedTerm): Wire<AcceptedTerm> {
  if ('paymentScheduleTerm' in term) {
    const t = term.paymentScheduleTerm;
    return {
      paymentScheduleTerm: {
        type: t.type,
        id: t.id,
        currencyCode: t.currencyCode,
        schedule: t.schedule?.map((item) => ({
          chargeDate: optionalEpochSeconds(item.chargeDate),
          chargeAmount: item.chargeAmount,
        })),
      },
    };
  }
  if ('validityTerm' in term) {
    const t = term.validityTerm;
    return {
      validityTerm: {
        type: t.type,
        id: t.id,
        agreementDuration: t.agreementDuration,
        agreementStartDate: optionalEpochSeconds(t.agreementStartDate),
        agreementEndDate: optionalEpochSeconds(t.agreementEndDate),
      },
    };
  }
  // Every other term has no timestamp: the seed shape is the wire shape.
  return term;
}

function proposalSummary(a: SimAgreement): Wire<DescribeAgreementOutput>['proposalSummary'] {
  return { offerId: a.offerId, resources: [{ id: a.productId, type: a.productType }] };
}

function describeAgreementWire(a: SimAgreement): Wire<DescribeAgreementOutput> {
  return {
    agreementId: a.agreementId,
    acceptor: { accountId: a.acceptorAccountId },
    proposer: { accountId: a.proposerAccountId },
    startTime: epochSeconds(a.startTime),
    endTime: optionalEpochSeconds(a.endTime),
    acceptanceTime: epochSeconds(a.acceptanceTime),
    agreementType: a.agreementType ?? 'PurchaseAgreement',
    estimatedCharges: a.estimatedCharges && {
      agreementValue: a.estimatedCharges.agreementValue,
      currencyCode: a.estimatedCharges.currencyCode,
    },
    proposalSummary: proposalSummary(a),
    status: a.status,
  };
}

function agreementViewSummaryWire(a: SimAgreement): Wire<AgreementViewSummary> {
  return {
    agreementId: a.agreementId,
    acceptanceTime: epochSeconds(a.acceptanceTime),
    startTime: epochSeconds(a.startTime),
    endTime: optionalEpochSeconds(a.endTime),
    agreementType: a.agreementType ?? 'PurchaseAgreement',
    acceptor: { accountId: a.acceptorAccountId },
    proposer: { accountId: a.proposerAccountId },
    proposalSummary: proposalSummary(a),
    status: a.status,
    entitlements: a.entitlements.flatMap((e) =>
      e.licenseArn === undefined ? [] : [{ licenseArn: e.licenseArn }],
    ),
  };
}

function agreementEntitlementWire(e: SimAgreementEntitlement): Wire<AgreementEntitlement> {
  return {
    resource: { id: e.resourceId, type: e.resourceType },
    type: e.type,
    registrationToken: e.registrationToken,
    status: e.status,
    statusReasonCode: e.statusReasonCode,
    licenseArn: e.licenseArn,
  };
}

function entitlementWire(e: SimEntitlement): Wire<EntitlementServiceEntitlement> {
  return {
    ProductCode: e.productCode,
    Dimension: e.dimension,
    CustomerIdentifier: e.customerIdentifier,
    CustomerAWSAccountId: e.customerAwsAccountId,
    Value: {
      IntegerValue: e.value.integerValue,
      DoubleValue: e.value.doubleValue,
      BooleanValue: e.value.booleanValue,
      StringValue: e.value.stringValue,
    },
    ExpirationDate: optionalEpochSeconds(e.expirationDate),
    LicenseArn: e.licenseArn,
  };
}

/** Opaque page tokens: base64 JSON naming the operation, a hash of the query and an offset. */
interface PageRequest {
  readonly operation: SimulatedOperation;
  readonly scope: unknown;
  readonly pageSize: number;
  readonly token: string | undefined;
  readonly invalidToken: (message: string) => AwsWireError;
}

function scopeHash(operation: string, scope: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operation, scope]))
    .digest('hex')
    .slice(0, 16);
}

function paginate<T>(
  items: readonly T[],
  request: PageRequest,
): { page: T[]; nextToken: string | undefined } {
  let offset = 0;
  if (request.token !== undefined && request.token !== '') {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(request.token, 'base64').toString('utf8'));
    } catch {
      throw request.invalidToken('The nextToken is not valid');
    }
    const parsed = z.object({ h: z.string(), o: z.number().int().min(0) }).safeParse(decoded);
    if (!parsed.success || parsed.data.h !== scopeHash(request.operation, request.scope)) {
      throw request.invalidToken('The nextToken is not valid for this request');
    }
    offset = parsed.data.o;
  }
  const end = offset + request.pageSize;
  const nextToken =
    end < items.length
      ? Buffer.from(
          JSON.stringify({ h: scopeHash(request.operation, request.scope), o: end }),
        ).toString('base64')
      : undefined;
  return { page: items.slice(offset, end), nextToken };
}

// ---------------------------------------------------------------------------------------------
// The simulated services
// ---------------------------------------------------------------------------------------------

interface StoredFault {
  readonly operation: SimFault['operation'];
  readonly kind: SimFaultKind;
  remaining: number;
}

class MarketplaceModel {
  private current: AwsSimulatorState = { agreements: [], entitlements: [], registrations: [] };
  private readonly faults: StoredFault[] = [];
  private readonly callLog: SimCall[] = [];
  private readonly metered: MeteredRecord[] = [];
  /** Duplicate detection: customer + dimension + timestamp → the accepted record. */
  private readonly meteredByKey = new Map<string, MeteredRecord>();

  constructor(private readonly now: () => Date) {}

  state(): AwsSimulatorState {
    return structuredClone(this.current);
  }

  setState(state: AwsSimulatorState): void {
    this.current = structuredClone(parseOrThrow(AwsSimulatorStateSchema, state, 'state'));
  }

  upsertAgreement(agreement: SimAgreement): void {
    const parsed = structuredClone(parseOrThrow(SimAgreementSchema, agreement, 'agreement'));
    this.upsert(this.current.agreements, parsed, (a) => a.agreementId === parsed.agreementId);
  }

  upsertEntitlement(entitlement: SimEntitlement): void {
    const parsed = structuredClone(parseOrThrow(SimEntitlementSchema, entitlement, 'entitlement'));
    const key = entitlementKey(parsed);
    this.upsert(this.current.entitlements, parsed, (e) => entitlementKey(e) === key);
  }

  addRegistration(registration: SimRegistration): void {
    const parsed = structuredClone(
      parseOrThrow(SimRegistrationSchema, registration, 'registration'),
    );
    this.upsert(this.current.registrations, parsed, (r) => r.token === parsed.token);
  }

  private upsert<T>(items: T[], item: T, same: (existing: T) => boolean): void {
    const index = items.findIndex(same);
    if (index >= 0) {
      items[index] = item;
      return;
    }
    if (items.length >= SIM_STATE_ITEMS_MAX) {
      throw new AwsSimulatorInputError(`The simulator holds at most ${SIM_STATE_ITEMS_MAX} items`);
    }
    items.push(item);
  }

  injectFault(fault: SimFault): void {
    const parsed = parseOrThrow(SimFaultSchema, fault, 'fault');
    if (this.faults.length >= SIM_FAULTS_MAX) {
      throw new AwsSimulatorInputError(`At most ${SIM_FAULTS_MAX} faults can be pending`);
    }
    this.faults.push({ operation: parsed.operation, kind: parsed.kind, remaining: parsed.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  calls(): ReadonlyArray<SimCall> {
    return structuredClone(this.callLog);
  }

  meteredRecords(): ReadonlyArray<MeteredRecord> {
    return structuredClone(this.metered);
  }

  recordCall(operation: string, input: unknown, inputBytes: number): void {
    if (this.callLog.length >= SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push({
      operation,
      input:
        inputBytes > SIM_CALL_INPUT_BYTES_MAX
          ? { omitted: `input of ${inputBytes} bytes exceeds ${SIM_CALL_INPUT_BYTES_MAX}` }
          : input,
    });
  }

  /** The first pending fault for this operation, consumed by one. */
  takeFault(operation: SimulatedOperation): SimFaultKind | null {
    const index = this.faults.findIndex((f) => f.operation === operation || f.operation === '*');
    const fault = this.faults[index];
    if (fault === undefined) return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault.kind;
  }

  invoke(operation: SimulatedOperation, input: unknown): unknown {
    const service = OPERATION_SERVICE[operation];
    const fault = this.takeFault(operation);
    if (fault === 'empty') return emptyAnswer(operation, input);
    if (fault !== null) throw faultError(service, fault);
    const parse = <T extends z.ZodType>(schema: T): z.output<T> => {
      const result = schema.safeParse(input);
      if (!result.success) throw invalidInput(service, result.error, input);
      return result.data;
    };
    switch (operation) {
      case 'DescribeAgreement':
        return this.describeAgreement(parse(DescribeAgreementInput).agreementId);
      case 'GetAgreementTerms':
        return this.getAgreementTerms(parse(AgreementPageInput));
      case 'GetAgreementEntitlements':
        return this.getAgreementEntitlements(parse(AgreementPageInput));
      case 'SearchAgreements':
        return this.searchAgreements(parse(SearchAgreementsInput));
      case 'GetEntitlements':
        return this.getEntitlements(parse(GetEntitlementsInput));
      case 'ResolveCustomer':
        return this.resolveCustomer(parse(ResolveCustomerInput).RegistrationToken);
      case 'BatchMeterUsage':
        return this.batchMeterUsage(parse(BatchMeterUsageInput));
    }
  }

  private visibleAgreement(agreementId: string): SimAgreement {
    const agreement = this.current.agreements.find((a) => a.agreementId === agreementId);
    if (agreement === undefined) throw agreementErrors.notFound(agreementId);
    if (agreement.visibleToCaller === false) {
      throw agreementErrors.accessDenied(
        `The caller is neither proposer nor acceptor of agreement ${agreementId}`,
      );
    }
    return agreement;
  }

  private describeAgreement(agreementId: string): Wire<DescribeAgreementOutput> {
    return describeAgreementWire(this.visibleAgreement(agreementId));
  }

  private agreementPage<T>(
    operation: SimulatedOperation,
    items: readonly T[],
    input: z.infer<typeof AgreementPageInput>,
  ) {
    return paginate(items, {
      operation,
      scope: { agreementId: input.agreementId },
      pageSize: input.maxResults ?? AGREEMENT_PAGE_SIZE_MAX,
      token: input.nextToken,
      invalidToken: (message) => agreementErrors.validation(message, 'INVALID_NEXT_TOKEN'),
    });
  }

  private getAgreementTerms(
    input: z.infer<typeof AgreementPageInput>,
  ): Wire<GetAgreementTermsOutput> {
    const agreement = this.visibleAgreement(input.agreementId);
    const { page, nextToken } = this.agreementPage('GetAgreementTerms', agreement.terms, input);
    return {
      acceptedTerms: page.map(termToWire),
      nextToken,
    };
  }

  private getAgreementEntitlements(
    input: z.infer<typeof AgreementPageInput>,
  ): Wire<GetAgreementEntitlementsOutput> {
    const agreement = this.visibleAgreement(input.agreementId);
    const { page, nextToken } = this.agreementPage(
      'GetAgreementEntitlements',
      agreement.entitlements,
      input,
    );
    return {
      agreementEntitlements: page.map(agreementEntitlementWire),
      nextToken,
    };
  }

  private searchAgreements(
    input: z.infer<typeof SearchAgreementsInput>,
  ): Wire<SearchAgreementsOutput> {
    // unverified: the catalog value AWS expects is assumed to be exactly 'AWSMarketplace'.
    if (input.catalog !== undefined && input.catalog !== 'AWSMarketplace') {
      throw agreementErrors.validation(
        `Unsupported catalog ${input.catalog}; use AWSMarketplace`,
        'INVALID_CATALOG',
        'catalog',
      );
    }
    const filters = input.filters ?? [];
    const predicates = filters.map((filter) => agreementFilter(filter.name, filter.values));
    const matching = this.current.agreements.filter(
      (a) => a.visibleToCaller !== false && predicates.every((matches) => matches(a)),
    );
    const { page, nextToken } = paginate(matching, {
      operation: 'SearchAgreements',
      scope: { catalog: input.catalog ?? null, filters },
      pageSize: input.maxResults ?? AGREEMENT_PAGE_SIZE_MAX,
      token: input.nextToken,
      invalidToken: (message) => agreementErrors.validation(message, 'INVALID_NEXT_TOKEN'),
    });
    return {
      agreementViewSummaries: page.map(agreementViewSummaryWire),
      nextToken,
    };
  }

  private getEntitlements(
    input: z.infer<typeof GetEntitlementsInput>,
  ): Wire<GetEntitlementsResult> {
    const filter = input.Filter ?? {};
    const within = (values: readonly string[] | undefined, value: string | undefined) =>
      values === undefined || (value !== undefined && values.includes(value));
    const matching = this.current.entitlements.filter(
      (e) =>
        e.productCode === input.ProductCode &&
        within(filter.CUSTOMER_IDENTIFIER, e.customerIdentifier) &&
        within(filter.CUSTOMER_AWS_ACCOUNT_ID, e.customerAwsAccountId) &&
        within(filter.LICENSE_ARN, e.licenseArn) &&
        within(filter.DIMENSION, e.dimension),
    );
    const { page, nextToken } = paginate(matching, {
      operation: 'GetEntitlements',
      scope: { productCode: input.ProductCode, filter },
      pageSize: input.MaxResults ?? ENTITLEMENT_PAGE_SIZE_MAX,
      token: input.NextToken,
      invalidToken: (message) => new AwsWireError('InvalidParameterException', 400, message),
    });
    return {
      Entitlements: page.map(entitlementWire),
      NextToken: nextToken,
    };
  }

  private resolveCustomer(token: string): Wire<ResolveCustomerResult> {
    const registration = this.current.registrations.find((r) => r.token === token);
    if (registration === undefined) {
      throw new AwsWireError('InvalidTokenException', 400, 'Registration token is invalid');
    }
    if (registration.expired === true) {
      throw new AwsWireError('ExpiredTokenException', 400, 'Registration token has expired');
    }
    return {
      CustomerIdentifier: registration.customerIdentifier,
      ProductCode: registration.productCode,
      CustomerAWSAccountId: registration.customerAwsAccountId,
      LicenseArn: registration.licenseArn,
    };
  }

  /** Whether the record's customer may be metered: a registration, entitlement or agreement. */
  private isSubscribed(productCode: string | undefined, record: UsageRecordInput): boolean {
    const { registrations, entitlements, agreements } = this.current;
    if (record.CustomerIdentifier !== undefined) {
      const customer = record.CustomerIdentifier;
      return (
        productCode !== undefined &&
        (registrations.some(
          (r) => r.productCode === productCode && r.customerIdentifier === customer,
        ) ||
          entitlements.some(
            (e) => e.productCode === productCode && e.customerIdentifier === customer,
          ))
      );
    }
    const account = record.CustomerAWSAccountId;
    const license = record.LicenseArn;
    // Without a product code or a license there is no product to meter against.
    if (account === undefined || (productCode === undefined && license === undefined)) return false;
    const matches = (candidate: {
      customerAwsAccountId?: string | undefined;
      productCode: string;
      licenseArn?: string | undefined;
    }) =>
      candidate.customerAwsAccountId === account &&
      (productCode === undefined || candidate.productCode === productCode) &&
      (license === undefined || candidate.licenseArn === license);
    return (
      registrations.some(matches) ||
      entitlements.some(matches) ||
      (license !== undefined &&
        agreements.some(
          (a) =>
            a.acceptorAccountId === account &&
            a.status === 'ACTIVE' &&
            a.entitlements.some((e) => e.licenseArn === license),
        ))
    );
  }

  private batchMeterUsage(
    input: z.infer<typeof BatchMeterUsageInput>,
  ): Wire<BatchMeterUsageResult> {
    const nowMs = this.now().getTime();
    // Checked for the whole batch before anything is stored, as the service rejects the call.
    for (const record of input.UsageRecords) {
      if (
        (record.CustomerIdentifier === undefined) ===
        (record.CustomerAWSAccountId === undefined)
      ) {
        // unverified: the error AWS gives for neither/both customer identities.
        throw new AwsWireError(
          'ValidationException',
          400,
          'Each UsageRecord needs exactly one of CustomerIdentifier or CustomerAWSAccountId',
        );
      }
      if (nowMs - Math.round(record.Timestamp * 1000) > METERING_RECORD_AGE_MAX_MS) {
        throw new AwsWireError(
          'TimestampOutOfBoundsException',
          400,
          `Timestamp ${new Date(record.Timestamp * 1000).toISOString()} is more than ${METERING_RECORD_AGE_MAX_MS / 3_600_000} hours before now`,
        );
      }
      const allocated = (record.UsageAllocations ?? []).reduce(
        (sum, allocation) => sum + allocation.AllocatedUsageQuantity,
        0,
      );
      if (record.UsageAllocations !== undefined && allocated !== (record.Quantity ?? 0)) {
        throw new AwsWireError(
          'InvalidUsageAllocationsException',
          400,
          `UsageAllocations sum to ${allocated}, Quantity is ${record.Quantity ?? 0}`,
        );
      }
    }
    const results: Wire<UsageRecordResult>[] = [];
    const unprocessed: Wire<UsageRecord>[] = [];
    for (const record of input.UsageRecords) {
      const echoed = usageRecordWire(record);
      if (!this.isSubscribed(input.ProductCode, record)) {
        results.push({ UsageRecord: echoed, Status: 'CustomerNotSubscribed' });
        continue;
      }
      const timestampMs = Math.round(record.Timestamp * 1000);
      const key = JSON.stringify([
        input.ProductCode ?? null,
        record.CustomerIdentifier ?? null,
        record.CustomerAWSAccountId ?? null,
        record.LicenseArn ?? null,
        record.Dimension,
        timestampMs,
      ]);
      const quantity = record.Quantity ?? 0;
      const previous = this.meteredByKey.get(key);
      if (previous !== undefined) {
        // Same quantity: an idempotent retry. Different quantity: refused.
        // unverified: whether AWS includes a MeteringRecordId on DuplicateRecord (omitted here).
        results.push(
          previous.quantity === quantity
            ? {
                UsageRecord: echoed,
                MeteringRecordId: previous.meteringRecordId,
                Status: 'Success',
              }
            : { UsageRecord: echoed, Status: 'DuplicateRecord' },
        );
        continue;
      }
      if (this.metered.length >= SIM_METERED_RECORDS_MAX) {
        unprocessed.push(echoed);
        continue;
      }
      const stored: MeteredRecord = {
        meteringRecordId: randomUUID(),
        productCode: input.ProductCode ?? null,
        customerIdentifier: record.CustomerIdentifier ?? null,
        customerAwsAccountId: record.CustomerAWSAccountId ?? null,
        licenseArn: record.LicenseArn ?? null,
        dimension: record.Dimension,
        quantity,
        timestamp: new Date(timestampMs).toISOString(),
        usageAllocations:
          record.UsageAllocations?.map((allocation) => ({
            allocatedUsageQuantity: allocation.AllocatedUsageQuantity,
            tags: (allocation.Tags ?? []).map((tag) => ({ key: tag.Key, value: tag.Value })),
          })) ?? null,
        receivedAt: new Date(nowMs).toISOString(),
      };
      this.metered.push(stored);
      this.meteredByKey.set(key, stored);
      results.push({
        UsageRecord: echoed,
        MeteringRecordId: stored.meteringRecordId,
        Status: 'Success',
      });
    }
    return { Results: results, UnprocessedRecords: unprocessed };
  }
}

function usageRecordWire(record: UsageRecordInput): Wire<UsageRecord> {
  return {
    Timestamp: record.Timestamp,
    CustomerIdentifier: record.CustomerIdentifier,
    Dimension: record.Dimension,
    Quantity: record.Quantity,
    UsageAllocations: record.UsageAllocations?.map((allocation) => ({
      AllocatedUsageQuantity: allocation.AllocatedUsageQuantity,
      Tags: allocation.Tags?.map((tag) => ({ Key: tag.Key, Value: tag.Value })),
    })),
    CustomerAWSAccountId: record.CustomerAWSAccountId,
    LicenseArn: record.LicenseArn,
  };
}

/**
 * SearchAgreements filters the simulator understands (AND across filters, OR within values).
 * PartyType is checked and otherwise ignored: the simulator has a single caller.
 */
function agreementFilter(name: string, values: readonly string[]): (a: SimAgreement) => boolean {
  const invalidValues = (allowed: readonly string[]) => {
    const bad = values.find((v) => !allowed.includes(v));
    if (bad !== undefined) {
      throw agreementErrors.validation(
        `Filter ${name} does not accept ${bad}; use one of ${allowed.join(', ')}`,
        'INVALID_FILTER_VALUES',
        'filters',
      );
    }
  };
  switch (name) {
    case 'AcceptorAccountId':
      return (a) => values.includes(a.acceptorAccountId);
    case 'OfferId':
      return (a) => values.includes(a.offerId);
    case 'Status':
      invalidValues(AGREEMENT_STATUSES);
      return (a) => values.includes(a.status);
    case 'ResourceIdentifier':
      return (a) => values.includes(a.productId);
    case 'ResourceType':
      return (a) => a.productType !== undefined && values.includes(a.productType);
    case 'AgreementType':
      return (a) => values.includes(a.agreementType ?? 'PurchaseAgreement');
    case 'LicenseArn':
      return (a) =>
        a.entitlements.some((e) => e.licenseArn !== undefined && values.includes(e.licenseArn));
    case 'PartyType':
      invalidValues(['Proposer', 'Acceptor']);
      return () => true;
    default:
      // unverified: AWS supports more filters; the simulator refuses them rather than ignore them.
      throw agreementErrors.validation(
        `Filter ${name} is not supported by the simulator`,
        'INVALID_FILTER_NAME',
        'filters',
      );
  }
}

/** What an `empty` fault answers; see SimFaultSchema. */
function emptyAnswer(operation: SimulatedOperation, input: unknown): unknown {
  switch (operation) {
    case 'GetAgreementTerms':
      return { acceptedTerms: [] } satisfies Wire<GetAgreementTermsOutput>;
    case 'GetAgreementEntitlements':
      return { agreementEntitlements: [] } satisfies Wire<GetAgreementEntitlementsOutput>;
    case 'SearchAgreements':
      return { agreementViewSummaries: [] } satisfies Wire<SearchAgreementsOutput>;
    case 'GetEntitlements':
      return { Entitlements: [] } satisfies Wire<GetEntitlementsResult>;
    case 'DescribeAgreement':
    case 'ResolveCustomer':
      return {};
    case 'BatchMeterUsage': {
      const records =
        typeof input === 'object' && input !== null && 'UsageRecords' in input
          ? input.UsageRecords
          : [];
      return { Results: [], UnprocessedRecords: Array.isArray(records) ? records : [] };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/**
 * The body, or null when it exceeds SIM_BODY_BYTES_MAX. An oversized body is drained (not kept)
 * so the client can read the 413; one that goes on past SIM_DRAIN_BYTES_MAX is cut off.
 */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return readBoundedBody(request, SIM_BODY_BYTES_MAX, SIM_DRAIN_BYTES_MAX);
}

function sendAwsError(
  response: ServerResponse,
  contentType: string,
  error: AwsWireError,
  requestId: string,
  service: ServiceName | null,
): void {
  const body = {
    __type: error.errorType,
    message: error.message,
    // Agreement errors model a requestId member.
    ...(service === 'agreement' ? { requestId } : {}),
    ...error.members,
  };
  response
    .writeHead(error.statusCode, {
      'content-type': contentType,
      'x-amzn-errortype': error.errorType,
      'x-amzn-requestid': requestId,
    })
    .end(JSON.stringify(body));
}

function sendControl(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body));
}

function sendControlError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  details: ReadonlyArray<{ path: string; message: string }> = [],
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    .end(JSON.stringify({ error: { code, message, details } }));
}

function serviceForTarget(target: string): { service: ServiceName; operation: string } | null {
  const dot = target.lastIndexOf('.');
  if (dot < 0) return null;
  const prefix = target.slice(0, dot);
  const operation = target.slice(dot + 1);
  for (const service of Object.keys(PROTOCOLS) as ServiceName[]) {
    if (PROTOCOLS[service].targetPrefix === prefix) return { service, operation };
  }
  return null;
}

function isSimulatedOperation(
  service: ServiceName,
  operation: string,
): operation is SimulatedOperation {
  return (
    (SIMULATED_OPERATIONS as readonly string[]).includes(operation) &&
    OPERATION_SERVICE[operation as SimulatedOperation] === service
  );
}

async function handleAws(
  model: MarketplaceModel,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  const target = request.headers['x-amz-target'];
  const resolved = typeof target === 'string' ? serviceForTarget(target) : null;
  const contentType = resolved
    ? PROTOCOLS[resolved.service].contentType
    : 'application/x-amz-json-1.1';
  const service = resolved?.service ?? null;
  // unverified: the error AWS's front end gives for an unknown target, an oversized body or
  // unparsable JSON (UnknownOperationException / SerializationException are assumed).
  if (request.method !== 'POST' || resolved === null) {
    sendAwsError(
      response,
      contentType,
      new AwsWireError(
        'UnknownOperationException',
        400,
        `Unknown operation ${String(target ?? '(no X-Amz-Target header)')}`,
      ),
      requestId,
      service,
    );
    return;
  }
  const body = await readBody(request);
  if (body === null) {
    sendAwsError(
      response,
      contentType,
      new AwsWireError(
        'SerializationException',
        413,
        `Request body exceeds ${SIM_BODY_BYTES_MAX} bytes`,
      ),
      requestId,
      service,
    );
    return;
  }
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    sendAwsError(
      response,
      contentType,
      new AwsWireError('SerializationException', 400, 'Request body is not valid JSON'),
      requestId,
      service,
    );
    return;
  }
  model.recordCall(resolved.operation, input, body.length);
  if (!isSimulatedOperation(resolved.service, resolved.operation)) {
    sendAwsError(
      response,
      contentType,
      new AwsWireError(
        'UnknownOperationException',
        400,
        `The simulator does not implement ${resolved.operation}`,
      ),
      requestId,
      service,
    );
    return;
  }
  try {
    const output = model.invoke(resolved.operation, input);
    response
      .writeHead(200, { 'content-type': contentType, 'x-amzn-requestid': requestId })
      .end(JSON.stringify(output));
  } catch (error) {
    if (!(error instanceof AwsWireError)) throw error;
    sendAwsError(response, contentType, error, requestId, service);
  }
}

type ControlHandler = (body: unknown) => { status: number; body?: unknown };

/**
 * A `/_sim/faults` body meant for the Catalog simulator: a change-set failure, a catalog
 * operation, or no operation at all (the marketplace fault schema requires one).
 */
function isCatalogFault(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { kind, operation } = body as { kind?: unknown; operation?: unknown };
  return (
    kind === 'change-set-failure' ||
    operation === undefined ||
    (CATALOG_SIM_OPERATIONS as readonly unknown[]).includes(operation)
  );
}

function controlRoutes(
  model: MarketplaceModel,
  catalog: AwsCatalogSimulator,
  partnerCentral: AwsPartnerCentralSimulator,
): Record<string, Record<string, ControlHandler>> {
  return {
    '/_sim/state': {
      GET: () => ({
        status: 200,
        body: {
          ...model.state(),
          catalog: catalog.state(),
          partnerCentral: partnerCentral.state(),
        },
      }),
      POST: (body) => {
        // The catalog and Partner Central states are read-only here; drop them so a GET result
        // can be posted back.
        const seed =
          typeof body === 'object' &&
          body !== null &&
          ('catalog' in body || 'partnerCentral' in body)
            ? Object.fromEntries(
                Object.entries(body).filter(
                  ([key]) => key !== 'catalog' && key !== 'partnerCentral',
                ),
              )
            : body;
        model.setState(parseOrThrow(AwsSimulatorStateSchema, seed, 'state'));
        return { status: 204 };
      },
    },
    '/_sim/agreements': {
      POST: (body) => {
        model.upsertAgreement(parseOrThrow(SimAgreementSchema, body, 'agreement'));
        return { status: 204 };
      },
    },
    '/_sim/entitlements': {
      POST: (body) => {
        model.upsertEntitlement(parseOrThrow(SimEntitlementSchema, body, 'entitlement'));
        return { status: 204 };
      },
    },
    '/_sim/registrations': {
      POST: (body) => {
        model.addRegistration(parseOrThrow(SimRegistrationSchema, body, 'registration'));
        return { status: 204 };
      },
    },
    '/_sim/faults': {
      POST: (body) => {
        if (isCatalogFault(body)) {
          try {
            catalog.injectFault(parseOrThrow(CatalogFaultSchema, body, 'catalog fault'));
          } catch (error) {
            if (error instanceof CatalogSimulatorInputError) {
              throw new AwsSimulatorInputError(error.message);
            }
            throw error;
          }
          return { status: 204 };
        }
        model.injectFault(parseOrThrow(SimFaultSchema, body, 'fault'));
        return { status: 204 };
      },
      DELETE: () => {
        model.clearFaults();
        catalog.clearFaults();
        partnerCentral.clearFaults();
        return { status: 204 };
      },
    },
    '/_sim/calls': { GET: () => ({ status: 200, body: { calls: model.calls() } }) },
    '/_sim/metered': { GET: () => ({ status: 200, body: { records: model.meteredRecords() } }) },
  };
}

async function handleControl(
  routes: Record<string, Record<string, ControlHandler>>,
  pathname: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const methods = routes[pathname];
  if (methods === undefined) {
    sendControlError(response, 404, 'not_found', `No simulator control route ${pathname}`);
    return;
  }
  const method = request.method ?? 'GET';
  const handler = methods[method];
  if (handler === undefined) {
    const allow = Object.keys(methods).join(', ');
    sendControlError(
      response,
      405,
      'method_not_allowed',
      `${method} ${pathname}: use ${allow}`,
      [],
      {
        allow,
      },
    );
    return;
  }
  const raw = await readBody(request);
  if (raw === null) {
    sendControlError(
      response,
      413,
      'payload_too_large',
      `Request body exceeds ${SIM_BODY_BYTES_MAX} bytes`,
    );
    return;
  }
  let body: unknown;
  try {
    body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
  } catch {
    sendControlError(response, 400, 'invalid_json', 'Request body is not valid JSON');
    return;
  }
  try {
    const result = handler(body);
    sendControl(response, result.status, result.body);
  } catch (error) {
    if (!(error instanceof AwsSimulatorInputError)) throw error;
    sendControlError(response, 400, 'validation_failed', error.message, error.details);
  }
}

/** Starts the simulator on 127.0.0.1 (a free port unless `port` is given). */
export async function startAwsSimulator(options: AwsSimulatorOptions = {}): Promise<AwsSimulator> {
  const model = new MarketplaceModel(options.now ?? (() => new Date()));
  if (options.state !== undefined) model.setState(options.state);
  const catalog = new AwsCatalogSimulator({
    ...(options.now === undefined ? {} : { now: options.now }),
    onCall: (operation, input, inputBytes) => model.recordCall(operation, input, inputBytes),
  });
  const partnerCentral = new AwsPartnerCentralSimulator({
    ...(options.now === undefined ? {} : { now: options.now }),
    onCall: (operation, input, inputBytes) => model.recordCall(operation, input, inputBytes),
  });
  const routes = controlRoutes(model, catalog, partnerCentral);
  const host = '127.0.0.1';
  const server: Server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    // The Catalog API is restJson1 (routed by path); everything else is awsJson or /_sim/*.
    if (!pathname.startsWith('/_sim/') && catalog.handle(request, response)) return;
    const handled = pathname.startsWith('/_sim/')
      ? handleControl(routes, pathname, request, response)
      : // Partner Central is awsJson too: it answers its own X-Amz-Target, or passes.
        partnerCentral
          .handle(request, response)
          .then((answered) => (answered ? undefined : handleAws(model, request, response)));
    handled.catch((error: unknown) => {
      if (!response.headersSent) {
        sendControlError(
          response,
          500,
          'internal_error',
          error instanceof Error ? error.message : 'Simulator failure',
        );
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  return {
    url: `http://${host}:${port}`,
    port,
    state: () => model.state(),
    setState: (state) => model.setState(state),
    upsertAgreement: (agreement) => model.upsertAgreement(agreement),
    upsertEntitlement: (entitlement) => model.upsertEntitlement(entitlement),
    addRegistration: (registration) => model.addRegistration(registration),
    injectFault: (fault) => model.injectFault(fault),
    clearFaults: () => {
      model.clearFaults();
      catalog.clearFaults();
      partnerCentral.clearFaults();
    },
    meteredRecords: () => model.meteredRecords(),
    calls: () => model.calls(),
    catalog,
    partnerCentral,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
