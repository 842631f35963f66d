/**
 * Every route of the HTTP API. Each `name` is a Lambda entry file functions/http/<name>.ts;
 * the CDK stack, the local server and /openapi.json all read this list, and a unit test checks
 * that each route has its entry file and each entry file its route.
 */
import { z } from 'zod';
import { ContractSnapshotSchema, ContractStatusSchema } from '../domain/contract';
import { CONTRACT_EVENT_TYPES, ContractEventSchema } from '../domain/events';
import { JournalEntrySchema } from '../domain/ledger';
import { OFFER_EXPIRING_EVENT_TYPE } from '../domain/offers/reminders';
import { DEAL_REGISTRATION_EXPIRING_EVENT_TYPE } from '../domain/partners/deal-registration';
import { RawEnvelopeSchema } from '../domain/raw';
import { ScenarioSchema } from '../domain/revenue/preview';
import {
  CalendarDateSchema,
  CurrencySchema,
  DateIntervalSchema,
  DecimalStringSchema,
  InstantSchema,
  MarketplaceSchema,
  MinorUnitsSchema,
  PeriodSchema,
} from '../domain/schemas/primitives';
import { ROLES, RoleSchema } from './auth';
import { COMMISSION_ROUTES } from './commission-routes';
import { LISTING_ROUTES } from './listing-routes';
import { OFFER_ROUTES } from './offer-routes';
import { PageQuerySchema, pageOf } from './pagination';
import { PARTNER_ROUTES } from './partner-routes';
import { RECONCILIATION_ROUTES } from './reconciliation-routes';
import { REPORT_ROUTES } from './report-routes';
import { defineRoute, type RouteDefinition } from './route';
import { STATEMENT_ROUTES } from './statement-routes';
import { USAGE_ROUTES } from './usage-routes';

export const HealthResponseSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  store: z.enum(['dynamodb-local', 'dynamodb']),
  table: z.string(),
  version: z.string(),
  time: InstantSchema,
});

export const healthRoute = defineRoute({
  name: 'get-health',
  method: 'GET',
  path: '/health',
  summary: 'Liveness and store reachability',
  description: 'Answers 200 only when the DynamoDB table answers; 503 otherwise.',
  tags: ['platform'],
  access: 'public',
  response: HealthResponseSchema,
});

export const openApiRoute = defineRoute({
  name: 'get-openapi',
  method: 'GET',
  path: '/openapi.json',
  summary: 'This API as an OpenAPI 3.1 document',
  tags: ['platform'],
  access: 'public',
  response: z.record(z.string(), z.unknown()),
});

export const MeResponseSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  roles: z.array(RoleSchema),
  partnerId: z.string().nullable(),
  expiresAt: InstantSchema.nullable(),
});

export const meRoute = defineRoute({
  name: 'get-me',
  method: 'GET',
  path: '/v1/me',
  summary: "The caller's identity and roles",
  description: 'The first authenticated endpoint, and the way to check a token.',
  tags: ['platform'],
  access: { roles: ROLES },
  response: MeResponseSchema,
});

// ---------------------------------------------------------------------------------------------
// Contracts and entitlements
// ---------------------------------------------------------------------------------------------

const CONTRACT_READERS = ['seller', 'finance', 'admin', 'service'] as const;
const ContractIdParams = z.object({ contractId: z.string().min(1).max(128) });

export const getContractRoute = defineRoute({
  name: 'get-contract',
  method: 'GET',
  path: '/v1/contracts/{contractId}',
  summary: 'One contract: its current snapshot',
  tags: ['contracts'],
  access: { roles: CONTRACT_READERS },
  params: ContractIdParams,
  response: ContractSnapshotSchema,
});

export const listContractsRoute = defineRoute({
  name: 'list-contracts',
  method: 'GET',
  path: '/v1/contracts',
  summary: 'Contracts, filtered by marketplace, status or customer (buyer account)',
  tags: ['contracts'],
  access: { roles: CONTRACT_READERS },
  query: PageQuerySchema.extend({
    marketplace: MarketplaceSchema.optional(),
    status: ContractStatusSchema.optional(),
    customer: z.string().min(1).max(256).optional(),
  }),
  response: pageOf(ContractSnapshotSchema),
});

export const StoredEventSchema = z.object({
  version: z.int(),
  recordedAt: InstantSchema,
  event: ContractEventSchema,
});

export const listContractEventsRoute = defineRoute({
  name: 'list-contract-events',
  method: 'GET',
  path: '/v1/contracts/{contractId}/events',
  summary: "A contract's canonical events, in the order they applied, with their raw references",
  tags: ['contracts'],
  access: { roles: CONTRACT_READERS },
  params: ContractIdParams,
  query: PageQuerySchema,
  response: pageOf(StoredEventSchema),
});

export const EntitlementLineSchema = z.object({
  contractId: z.string(),
  marketplace: MarketplaceSchema,
  productId: z.string(),
  status: ContractStatusSchema,
  plan: z.string().nullable(),
  term: DateIntervalSchema,
  dimensions: z.array(z.object({ dimension: z.string(), quantity: z.string().nullable() })),
  entitled: z.boolean(),
  reason: z.string().nullable(),
});

export const checkEntitlementRoute = defineRoute({
  name: 'check-entitlement',
  method: 'GET',
  path: '/v1/entitlements',
  summary: 'Is this customer entitled now (optionally to a product and dimension)?',
  tags: ['contracts'],
  access: { roles: ['service', 'seller', 'admin'] },
  query: z.object({
    customer: z.string().min(1).max(256),
    product: z.string().min(1).max(256).optional(),
    dimension: z.string().min(1).max(256).optional(),
  }),
  response: z.object({
    customer: z.string(),
    checkedAt: InstantSchema,
    entitled: z.boolean(),
    entitlements: z.array(EntitlementLineSchema),
  }),
});

// ---------------------------------------------------------------------------------------------
// AWS Marketplace inlets
// ---------------------------------------------------------------------------------------------

export const IngestResponseSchema = z.object({
  rawId: z.string(),
  outcome: z.enum(['stored', 'duplicate']),
  enqueued: z.boolean(),
});

export const awsSnsWebhookRoute = defineRoute({
  name: 'post-aws-sns',
  method: 'POST',
  path: '/v1/webhooks/aws-sns',
  summary: 'Amazon SNS over HTTPS (subscription and entitlement topics)',
  description:
    'Authenticated by the SNS signature: the signing certificate must come from an allowed SNS host and the topic must be allowed. Anything else is 401 and writes nothing.',
  tags: ['marketplace-inbound'],
  access: 'public',
  body: z.string(),
  bodyEncoding: 'raw',
  idempotency: 'none',
  response: IngestResponseSchema.extend({ confirmed: z.boolean() }),
});

export const awsRegisterRoute = defineRoute({
  name: 'post-aws-register',
  method: 'POST',
  path: '/v1/marketplace/aws/register',
  summary: "The buyer's registration post from AWS Marketplace (fulfillment URL)",
  description:
    'Resolves x-amzn-marketplace-token with ResolveCustomer in the seller account that owns the product. An invalid or expired token is 401. Redirects (303) to AGORA_AWS_LANDING_URL when configured.',
  tags: ['marketplace-inbound'],
  access: 'public',
  body: z.object({ 'x-amzn-marketplace-token': z.string().min(1).max(4_096) }),
  bodyEncoding: 'form',
  idempotency: 'none',
  response: IngestResponseSchema.extend({
    customerAwsAccountId: z.string(),
    productCode: z.string(),
    licenseArn: z.string().nullable(),
  }),
});

// ---------------------------------------------------------------------------------------------
// Azure and Google Cloud inlets
// ---------------------------------------------------------------------------------------------

export const azureWebhookRoute = defineRoute({
  name: 'post-azure-webhook',
  method: 'POST',
  path: '/v1/webhooks/azure',
  summary:
    'Microsoft SaaS fulfillment webhook (ChangePlan, ChangeQuantity, Renew, Suspend, Reinstate, Unsubscribe)',
  description:
    "Authenticated by the Entra ID bearer JWT (audience = one of our offers' apps, tid = its tenant, appid/azp = the marketplace app). Unauthenticated: 401 and nothing written. Authenticated: stored, then 200 whatever the body holds (a 4xx would reject the customer's change); problems go to the DLQ.",
  tags: ['marketplace-inbound'],
  access: 'public',
  body: z.string(),
  bodyEncoding: 'raw',
  idempotency: 'none',
  response: IngestResponseSchema,
});

export const azureLandingRoute = defineRoute({
  name: 'get-azure-landing',
  method: 'GET',
  path: '/v1/marketplace/azure/landing',
  summary: "The SaaS landing page: resolves the buyer's token and shows what was bought",
  description:
    'Never activates: activation starts billing and is an explicit POST after sign-in and provisioning.',
  tags: ['marketplace-inbound'],
  access: 'public',
  // A marketplace token is printable ASCII (it travels in an HTTP header to Microsoft).
  query: z.object({
    token: z
      .string()
      .min(1)
      .max(4_096)
      .regex(/^[\x21-\x7e]+$/, 'A marketplace token is printable ASCII'),
  }),
  response: z.object({
    subscriptionId: z.string(),
    offerId: z.string(),
    planId: z.string(),
    quantity: z.union([z.number(), z.string()]).nullable(),
    status: z.string(),
    beneficiary: z.object({ tenantId: z.string().nullable(), emailId: z.string().nullable() }),
    activate: z.object({ method: z.literal('POST'), path: z.string() }),
    rawId: z.string(),
  }),
});

export const activateAzureRoute = defineRoute({
  name: 'activate-azure-subscription',
  method: 'POST',
  path: '/v1/marketplace/azure/subscriptions/{subscriptionId}/activate',
  summary: 'Activate a purchased Azure SaaS subscription (starts billing)',
  tags: ['marketplace-inbound'],
  access: { roles: ['seller', 'admin', 'service'] },
  params: z.object({ subscriptionId: z.string().min(1).max(128) }),
  body: z.object({
    planId: z.string().min(1).max(128),
    quantity: z.int().min(1).nullable().default(null),
    offerId: z.string().min(1).max(128).nullable().default(null),
  }),
  response: IngestResponseSchema,
});

export const gcpPushRoute = defineRoute({
  name: 'post-gcp-push',
  method: 'POST',
  path: '/v1/webhooks/gcp',
  summary: 'Google Cloud Marketplace Pub/Sub push',
  description:
    'Authenticated by the Google OIDC token of the push subscription (audience and service account from configuration). Unauthenticated: 401 and nothing written.',
  tags: ['marketplace-inbound'],
  access: 'public',
  body: z.string(),
  bodyEncoding: 'raw',
  idempotency: 'none',
  response: IngestResponseSchema,
});

export const gcpSignupRoute = defineRoute({
  name: 'post-gcp-signup',
  method: 'POST',
  path: '/v1/marketplace/gcp/signup',
  summary: "The buyer's sign-up from Google Cloud Marketplace (x-gcp-marketplace-token)",
  description:
    'Verifies the token, links and approves the procurement account, and resumes entitlements parked until sign-up.',
  tags: ['marketplace-inbound'],
  access: 'public',
  body: z.object({ 'x-gcp-marketplace-token': z.string().min(1).max(8_192) }),
  bodyEncoding: 'form',
  idempotency: 'none',
  response: z.object({
    providerId: z.string(),
    accountId: z.string(),
    approved: z.boolean(),
    rawId: z.string(),
  }),
});

const DecisionBody = z.object({ reason: z.string().max(256).nullable().default(null) });
const DecisionResponse = z.object({
  contractId: z.string(),
  entitlementId: z.string(),
  action: z.string(),
  rawId: z.string(),
});

export const approveContractRoute = defineRoute({
  name: 'approve-contract',
  method: 'POST',
  path: '/v1/contracts/{contractId}/approve',
  summary: 'Approve a held Google Cloud entitlement request or plan change',
  tags: ['contracts'],
  access: { roles: ['seller', 'admin'] },
  params: ContractIdParams,
  body: DecisionBody,
  response: DecisionResponse,
});

export const rejectContractRoute = defineRoute({
  name: 'reject-contract',
  method: 'POST',
  path: '/v1/contracts/{contractId}/reject',
  summary: 'Reject a held Google Cloud entitlement request or plan change',
  tags: ['contracts'],
  access: { roles: ['seller', 'admin'] },
  params: ContractIdParams,
  body: DecisionBody,
  response: DecisionResponse,
});

// ---------------------------------------------------------------------------------------------
// Revenue
// ---------------------------------------------------------------------------------------------

const REVENUE_READERS = ['finance', 'seller', 'admin'] as const;
const Minor = MinorUnitsSchema;
const ScheduleLineSchema = z.object({
  period: PeriodSchema,
  recognizedMinor: Minor,
  cumulativeMinor: Minor,
});
const PositionSchema = z.object({
  billedMinor: Minor,
  recognizedMinor: Minor,
  deferredMinor: Minor,
  unbilledMinor: Minor,
});
const FeeRuleSchema = z.object({ ruleId: z.string(), rate: z.string(), tableVersion: z.string() });

export const RevenuePreviewResponseSchema = z.object({
  asOf: CalendarDateSchema,
  functionalCurrency: z.string(),
  /** Per contract, the whole term, whatever asOf is. */
  schedules: z.record(z.string(), z.array(ScheduleLineSchema)),
  /** Every leg posted up to asOf; accounts by chart number ("2400"), with their names. */
  journal: z.array(
    z.object({
      entryId: z.string(),
      date: CalendarDateSchema,
      postingPeriod: PeriodSchema,
      rule: z.string(),
      description: z.string(),
      account: z.string(),
      accountName: z.string(),
      currency: z.string(),
      debitMinor: Minor,
      creditMinor: Minor,
      functionalDebitMinor: Minor,
      functionalCreditMinor: Minor,
      contractId: z.string().nullable(),
    }),
  ),
  /** Per contract, at every month-end up to asOf. */
  positions: z.record(z.string(), z.array(PositionSchema.extend({ period: PeriodSchema }))),
  fees: z.record(z.string(), Minor),
  netPayouts: z.record(z.string(), Minor),
  feeRules: z.record(z.string(), FeeRuleSchema),
});

export const revenuePreviewRoute = defineRoute({
  name: 'post-revenue-preview',
  method: 'POST',
  path: '/v1/revenue/preview',
  summary: 'Deal-desk preview: what the ledger would do with a scenario, touching nothing stored',
  description:
    'The scenario format is documented in the README (events, policies, FX rates, asOf). The engine is the one the pipeline and the month-end run use.',
  tags: ['revenue'],
  access: { roles: REVENUE_READERS },
  body: ScenarioSchema,
  idempotency: 'none',
  response: RevenuePreviewResponseSchema,
});

const ServiceSchema = z.object({ start: CalendarDateSchema, end: CalendarDateSchema });

export const RevenueScheduleResponseSchema = z.object({
  contractId: z.string(),
  currency: z.string().nullable(),
  functionalCurrency: z.string(),
  /** Why revenue could not be computed for this contract (no fee rule, no FX rate…). */
  issue: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  refundedMinor: Minor,
  cancelledOn: CalendarDateSchema.nullable(),
  current: z
    .object({
      version: z.int(),
      totalMinor: Minor,
      service: ServiceSchema,
      contractVersion: z.int(),
      createdAt: z.string(),
      lines: z.array(ScheduleLineSchema.extend({ days: z.int() })),
    })
    .nullable(),
  versions: z.array(
    z.object({
      version: z.int(),
      totalMinor: Minor,
      service: ServiceSchema,
      contractVersion: z.int(),
      createdAt: z.string(),
    }),
  ),
  position: PositionSchema.extend({ recognizedSubscriptionMinor: Minor, feesMinor: Minor }),
  installments: z.array(
    z.object({
      date: CalendarDateSchema,
      amountMinor: Minor,
      invoiceId: z.string(),
      billed: z.boolean(),
    }),
  ),
  usage: z.array(
    z.object({
      period: PeriodSchema,
      accruedMinor: Minor,
      feeAccruedMinor: Minor,
      invoicedMinor: Minor,
      feeInvoicedMinor: Minor,
    }),
  ),
  feeRule: FeeRuleSchema.nullable(),
});

export const revenueScheduleRoute = defineRoute({
  name: 'get-revenue-schedule',
  method: 'GET',
  path: '/v1/contracts/{contractId}/revenue-schedule',
  summary: "A contract's revenue schedule (all versions), position, billing and usage",
  tags: ['revenue'],
  access: { roles: REVENUE_READERS },
  params: ContractIdParams,
  response: RevenueScheduleResponseSchema,
});

export const listJournalRoute = defineRoute({
  name: 'list-journal',
  method: 'GET',
  path: '/v1/journal',
  summary: 'Journal entries of one contract (by date) or of one posting period',
  description: 'Exactly one of contractId or period is required.',
  tags: ['revenue'],
  access: { roles: ['finance', 'admin'] },
  query: PageQuerySchema.extend({
    contractId: z.string().min(1).max(128).optional(),
    period: PeriodSchema.optional(),
  }).refine((q) => (q.contractId === undefined) !== (q.period === undefined), {
    message: 'Give exactly one of contractId or period',
    path: ['contractId'],
  }),
  response: pageOf(JournalEntrySchema),
});

// ---------------------------------------------------------------------------------------------
// Finance operations: periods, FX rates, disbursements
// ---------------------------------------------------------------------------------------------

const LocksSchema = z.object({
  closedThrough: PeriodSchema.nullable(),
  frozenThrough: PeriodSchema.nullable(),
});
const PeriodAuditSchema = z.object({
  at: z.string(),
  period: PeriodSchema,
  action: z.enum(['FREEZE', 'CLOSE', 'PERIOD_REOPENED']),
  by: z.string(),
  reason: z.string().nullable(),
  before: LocksSchema,
  after: LocksSchema,
});
const PeriodParams = z.object({ period: PeriodSchema });

export const listPeriodsRoute = defineRoute({
  name: 'list-periods',
  method: 'GET',
  path: '/v1/periods',
  summary: 'Period locks (closed and soft-frozen through which month) and their audit trail',
  tags: ['finance'],
  access: { roles: ['finance', 'admin'] },
  query: PageQuerySchema,
  response: z.object({
    locks: LocksSchema,
    audit: z.array(PeriodAuditSchema),
    nextCursor: z.string().nullable(),
  }),
});

const PeriodChangeResponse = z.object({ locks: LocksSchema, record: PeriodAuditSchema });

export const freezePeriodRoute = defineRoute({
  name: 'freeze-period',
  method: 'POST',
  path: '/v1/periods/{period}/freeze',
  summary:
    'Soft-freeze a month (and every month before it): only the month-end run and finance post',
  tags: ['finance'],
  access: { roles: ['finance', 'admin'] },
  params: PeriodParams,
  body: z.object({ reason: z.string().max(500).nullable().default(null) }),
  response: PeriodChangeResponse,
});

export const closePeriodRoute = defineRoute({
  name: 'close-period',
  method: 'POST',
  path: '/v1/periods/{period}/close',
  summary:
    'Close a month (and every month before it): later entries dated in it post to the first open month',
  tags: ['finance'],
  access: { roles: ['finance', 'admin'] },
  params: PeriodParams,
  body: z.object({ reason: z.string().max(500).nullable().default(null) }),
  response: PeriodChangeResponse,
});

export const reopenPeriodRoute = defineRoute({
  name: 'reopen-period',
  method: 'POST',
  path: '/v1/periods/{period}/reopen',
  summary: 'Reopen a month (and every month after it); admin only, with a reason on record',
  tags: ['finance'],
  access: { roles: ['admin'] },
  params: PeriodParams,
  body: z.object({ reason: z.string().min(3).max(500) }),
  response: PeriodChangeResponse,
});

const FxRateSchema = z.object({
  date: CalendarDateSchema,
  base: CurrencySchema,
  quote: CurrencySchema,
  rate: DecimalStringSchema,
  source: z.string().min(1).max(200),
});

export const putFxRatesRoute = defineRoute({
  name: 'put-fx-rates',
  method: 'PUT',
  path: '/v1/fx-rates',
  summary:
    'Record exchange rates (date, pair, rate, source); a later record for the same day replaces it',
  tags: ['finance'],
  access: { roles: ['finance', 'admin'] },
  body: z.object({ rates: z.array(FxRateSchema).min(1).max(1_000) }),
  response: z.object({ recorded: z.int() }),
});

export const listFxRatesRoute = defineRoute({
  name: 'list-fx-rates',
  method: 'GET',
  path: '/v1/fx-rates',
  summary: 'The FX rate table',
  tags: ['finance'],
  access: { roles: ['finance', 'admin', 'seller'] },
  query: z.object({ base: CurrencySchema.optional(), quote: CurrencySchema.optional() }),
  response: z.object({ items: z.array(FxRateSchema) }),
});

export const recordDisbursementRoute = defineRoute({
  name: 'record-disbursement',
  method: 'POST',
  path: '/v1/disbursements',
  summary:
    'Record a marketplace payout for a contract: cash, the receivable it settles, realized FX',
  tags: ['finance'],
  access: { roles: ['finance', 'admin'] },
  body: z.object({
    contractId: z.string().min(1).max(128),
    disbursementId: z.string().min(1).max(200),
    date: CalendarDateSchema,
    currency: CurrencySchema,
    amountMinor: MinorUnitsSchema,
    settlesCurrency: CurrencySchema.nullable().default(null),
    settlesMinor: MinorUnitsSchema.nullable().default(null),
  }),
  response: z.object({
    contractId: z.string(),
    events: z.array(z.string()),
    version: z.int().nullable(),
  }),
});

// ---------------------------------------------------------------------------------------------
// Provisioning webhooks
// ---------------------------------------------------------------------------------------------

/** What an endpoint may subscribe to: the contract events, and OfferExpiring (by name only). */
export const WebhookEventTypeSchema = z.enum([
  ...CONTRACT_EVENT_TYPES,
  OFFER_EXPIRING_EVENT_TYPE,
  DEAL_REGISTRATION_EXPIRING_EVENT_TYPE,
]);

export const WebhookEndpointSchema = z.object({
  endpointId: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(WebhookEventTypeSchema),
  status: z.enum(['active', 'disabled']),
  createdAt: InstantSchema,
});

export const createWebhookEndpointRoute = defineRoute({
  name: 'create-webhook-endpoint',
  method: 'POST',
  path: '/v1/webhook-endpoints',
  summary: 'Register a URL that receives signed provisioning webhooks',
  description:
    'The response carries the signing secret once. Each POST carries agora-webhook-timestamp and agora-signature: v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>")).',
  tags: ['webhooks'],
  access: { roles: ['admin'] },
  body: z.object({
    url: z.url().max(2_048),
    description: z.string().max(500).default(''),
    /** Empty: every contract event (OfferExpiring is sent only to endpoints that name it). */
    eventTypes: z.array(WebhookEventTypeSchema).max(20).default([]),
  }),
  response: WebhookEndpointSchema.extend({ secret: z.string() }),
  successStatus: 201,
});

export const listWebhookEndpointsRoute = defineRoute({
  name: 'list-webhook-endpoints',
  method: 'GET',
  path: '/v1/webhook-endpoints',
  summary: 'Registered webhook endpoints (secrets are never shown again)',
  tags: ['webhooks'],
  access: { roles: ['admin'] },
  response: z.object({ items: z.array(WebhookEndpointSchema) }),
});

export const disableWebhookEndpointRoute = defineRoute({
  name: 'disable-webhook-endpoint',
  method: 'DELETE',
  path: '/v1/webhook-endpoints/{endpointId}',
  summary: 'Disable an endpoint; pending deliveries to it are marked failed',
  tags: ['webhooks'],
  access: { roles: ['admin'] },
  params: z.object({ endpointId: z.string().min(1).max(64) }),
  response: z.object({ endpointId: z.string(), status: z.literal('disabled') }),
});

export const WebhookDeliverySchema = z.object({
  deliveryId: z.string(),
  endpointId: z.string(),
  contractId: z.string(),
  contractVersion: z.int(),
  eventTypes: z.array(z.string()),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.int(),
  nextAttemptAt: InstantSchema.nullable(),
  lastAttemptAt: InstantSchema.nullable(),
  lastStatusCode: z.int().nullable(),
  lastError: z.string().nullable(),
  createdAt: InstantSchema,
});

export const listWebhookDeliveriesRoute = defineRoute({
  name: 'list-webhook-deliveries',
  method: 'GET',
  path: '/v1/webhook-deliveries',
  summary: 'The delivery log: every attempt for a contract, or everything still pending',
  tags: ['webhooks'],
  access: { roles: ['admin', 'seller'] },
  query: PageQuerySchema.extend({
    contractId: z.string().min(1).max(128).optional(),
    endpointId: z.string().min(1).max(64).optional(),
  }),
  response: pageOf(WebhookDeliverySchema),
});

// ---------------------------------------------------------------------------------------------
// Operations: dead letters and raw payloads
// ---------------------------------------------------------------------------------------------

export const SyncFailureSchema = z.object({
  rawId: z.string(),
  marketplace: MarketplaceSchema,
  groupKey: z.string(),
  attempts: z.int(),
  code: z.string(),
  reason: z.string(),
  firstFailedAt: InstantSchema,
  lastFailedAt: InstantSchema,
  status: z.enum(['retrying', 'dead-lettered', 'redriven', 'resolved']),
});

export const listDeadLettersRoute = defineRoute({
  name: 'list-dead-letters',
  method: 'GET',
  path: '/v1/dlq',
  summary: 'Notifications that could not be synced, with the reason and the raw reference',
  tags: ['operations'],
  access: { roles: ['admin'] },
  query: PageQuerySchema,
  response: pageOf(SyncFailureSchema),
});

export const redriveDeadLetterRoute = defineRoute({
  name: 'redrive-dead-letter',
  method: 'POST',
  path: '/v1/dlq/{rawId}/redrive',
  summary: 'Send a dead-lettered notification through the sync again (idempotent)',
  tags: ['operations'],
  access: { roles: ['admin'] },
  params: z.object({ rawId: z.string().min(1).max(128) }),
  response: SyncFailureSchema,
});

export const getRawRoute = defineRoute({
  name: 'get-raw',
  method: 'GET',
  path: '/v1/raw/{rawId}',
  summary: 'A raw inbound payload exactly as received, with its audit headers',
  tags: ['operations'],
  access: { roles: ['admin', 'finance'] },
  params: z.object({ rawId: z.string().min(1).max(128) }),
  response: RawEnvelopeSchema.extend({
    rawId: z.string(),
    bodySha256: z.string(),
    processedAt: InstantSchema.nullable(),
    outcome: z.string().nullable(),
  }),
});

export const API_ROUTES: readonly RouteDefinition[] = [
  healthRoute,
  openApiRoute,
  meRoute,
  getContractRoute,
  listContractsRoute,
  listContractEventsRoute,
  checkEntitlementRoute,
  awsSnsWebhookRoute,
  awsRegisterRoute,
  azureWebhookRoute,
  azureLandingRoute,
  activateAzureRoute,
  gcpPushRoute,
  gcpSignupRoute,
  approveContractRoute,
  rejectContractRoute,
  createWebhookEndpointRoute,
  listWebhookEndpointsRoute,
  disableWebhookEndpointRoute,
  listWebhookDeliveriesRoute,
  listDeadLettersRoute,
  redriveDeadLetterRoute,
  getRawRoute,
  revenuePreviewRoute,
  revenueScheduleRoute,
  listJournalRoute,
  ...REPORT_ROUTES,
  listPeriodsRoute,
  freezePeriodRoute,
  closePeriodRoute,
  reopenPeriodRoute,
  putFxRatesRoute,
  listFxRatesRoute,
  recordDisbursementRoute,
  ...OFFER_ROUTES,
  ...PARTNER_ROUTES,
  ...COMMISSION_ROUTES,
  ...STATEMENT_ROUTES,
  ...RECONCILIATION_ROUTES,
  ...LISTING_ROUTES,
  ...USAGE_ROUTES,
];
