/**
 * A Microsoft commercial-marketplace (SaaS offers) simulator for local runs and integration tests:
 * one node:http server that plays every part Microsoft plays for a seller's integration.
 *
 * - Entra ID: the client-credentials token endpoint `POST /{tenantId}/oauth2/v2.0/token` (form
 *   encoded, scope `20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default`) and the signing keys at
 *   `GET /{tenantId|common}/discovery/v2.0/keys`. Tokens are RS256 JWTs (v1 claims, as Entra issues
 *   for the marketplace resource) signed with one key pair generated at start.
 * - SaaS Fulfillment API v2 (`/api/saas/subscriptions`, `api-version=2018-08-31`): resolve, list
 *   (paged with `@nextLink`), get, activate, change plan/quantity (PATCH), delete, and the
 *   operations API. Every call needs a bearer token this simulator issued (signature and expiry
 *   checked against the simulator clock, and `appid` must be an app of the state).
 * - The customer's side: purchase, change plan/quantity, suspend, reinstate, renew, unsubscribe.
 *   Each mutates the state and, where Microsoft would, POSTs the connection webhook to the
 *   configured target with an Entra-signed bearer token, retrying 5xx and timeouts a bounded
 *   number of times and logging every attempt. ChangePlan/ChangeQuantity/Reinstate stay InProgress
 *   until the publisher PATCHes the operation, rejects it (4xx answer, PATCH Failure or, for
 *   Reinstate, DELETE of the subscription) or `autoAcceptMs` passes (Microsoft's ~10 s rule).
 *
 * State is a zod-validated document (publisher, apps, offers, subscriptions, operations, landing
 * tokens, autoAcceptMs). Tests and other processes drive it in process or over `/_sim/*`, and
 * inject faults into webhook deliveries (token and body corruption, duplicates) or API calls
 * (throttle, server error), consumed in the order they were injected.
 *
 * Shapes follow Microsoft's published documentation of the fulfillment API v2 and its webhook
 * (learn.microsoft.com, "SaaS fulfillment Subscription APIs v2", "Operations APIs v2",
 * "Implementing a webhook on the SaaS service", "Register a SaaS application"); what those pages
 * do not settle is marked `unverified:`.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { z } from 'zod';
import {
  type AzureMeteringSimulator,
  createAzureMeteringSimulator,
} from './azure-metering-simulator';
import { type AzureOfferSimulator, createAzureOfferSimulator } from './azure-offer-simulator';
import { readBoundedBody } from './sim-http';

// ---------------------------------------------------------------------------------------------
// Constants and limits
// ---------------------------------------------------------------------------------------------

/** Microsoft's first-party marketplace app: the API resource and the webhook tokens' `appid`. */
export const MARKETPLACE_APP_ID = '20e940b3-4c77-4b0b-9a53-9e16a1b010a7';
/** The only scope the token endpoint grants. */
export const MARKETPLACE_SCOPE = `${MARKETPLACE_APP_ID}/.default`;
/** The fulfillment API version every call must name. */
export const FULFILLMENT_API_VERSION = '2018-08-31';

/** Request bodies above this are refused with 413. */
export const SIM_BODY_BYTES_MAX = 1024 * 1024;
/** An oversized body is read and dropped up to this, then the connection is cut. */
export const SIM_DRAIN_BYTES_MAX = 8 * SIM_BODY_BYTES_MAX;
/** The calls log keeps the newest entries only. */
export const SIM_CALLS_MAX = 10_000;
/** A call input larger than this is logged as a placeholder, so the log stays bounded. */
export const SIM_CALL_INPUT_BYTES_MAX = 64 * 1024;
/** The webhook delivery log keeps the newest attempts only. */
export const SIM_DELIVERIES_MAX = 10_000;
/** Pending faults at once. */
export const SIM_FAULTS_MAX = 100;
/** How many calls or deliveries one fault may affect. */
export const SIM_FAULT_TIMES_MAX = 10_000;
/** Subscriptions and landing tokens each. */
export const SIM_STATE_ITEMS_MAX = 10_000;
/** Operations kept; beyond this the oldest finished operation is dropped (it is a history). */
export const SIM_OPERATIONS_MAX = 50_000;
/** Registered Entra apps. */
export const SIM_APPS_MAX = 100;
/** Offers, and plans per offer. */
export const SIM_OFFERS_MAX = 1_000;
export const SIM_PLANS_PER_OFFER_MAX = 100;
/** Any string in the state. */
export const SIM_TEXT_CHARS_MAX = 4_096;
/** Bearer tokens longer than this are refused without parsing. */
export const SIM_BEARER_CHARS_MAX = 16_384;
/** unverified: Microsoft documents no seat limit; this bounds the simulator's numbers. */
export const SIM_QUANTITY_MAX = 1_000_000;

/** "The API returns paginated results of 100 per page." */
export const SUBSCRIPTIONS_PAGE_SIZE = 100;
/** Continuation tokens longer than this are refused. */
export const CONTINUATION_TOKEN_CHARS_MAX = 1_024;
/** Entra's v2 endpoint answers `expires_in: 3599` for client-credentials tokens. */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3_599;
/** Lifetime of the bearer token on a webhook delivery (unverified: Entra's usual hour). */
export const WEBHOOK_TOKEN_LIFETIME_SECONDS = 3_600;
/** "The token provided with the landing page URL call is valid for 24 hours." */
export const LANDING_TOKEN_LIFETIME_MS = 24 * 60 * 60_000;
/**
 * Random bytes in a landing token. 97 is not a multiple of 3, so the base64 text always ends in
 * '=' and needs URL-encoding on the landing page, as Microsoft's tokens do.
 */
export const LANDING_TOKEN_BYTES = 97;
/** Microsoft accepts a ChangePlan/ChangeQuantity the publisher has not refused after ~10 s. */
export const AUTO_ACCEPT_MS_DEFAULT = 10_000;
export const AUTO_ACCEPT_MS_MAX = 60 * 60_000;
/** unverified: Microsoft's own per-delivery timeout is not documented. */
export const WEBHOOK_TIMEOUT_MS = 1_000;
/**
 * Retries after a failed delivery (5xx, timeout, connection error). Microsoft documents "500
 * retries over eight hours"; the simulator keeps the behaviour and shrinks the schedule.
 */
export const WEBHOOK_RETRIES = 3;
export const WEBHOOK_RETRY_DELAY_MS = 50;

// ---------------------------------------------------------------------------------------------
// State schemas
// ---------------------------------------------------------------------------------------------

const Text = z.string().max(SIM_TEXT_CHARS_MAX);
const RequiredText = Text.min(1);
const IsoInstant = z.iso.datetime({ offset: true });
/** Ids that travel in URL paths: GUIDs in reality; any URL-safe id is accepted. */
const PathId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._~-]+$/, 'must be 1–128 of [A-Za-z0-9._~-]');
const Guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a GUID');
const Quantity = z.number().int().min(1).max(SIM_QUANTITY_MAX);

export const TERM_UNITS = ['P1M', 'P1Y', 'P2Y', 'P3Y'] as const;
export type TermUnit = (typeof TERM_UNITS)[number];
const TERM_MONTHS: Record<TermUnit, number> = { P1M: 1, P1Y: 12, P2Y: 24, P3Y: 36 };

export const SUBSCRIPTION_STATUSES = [
  'PendingFulfillmentStart',
  'Subscribed',
  'Suspended',
  'Unsubscribed',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const OPERATION_ACTIONS = [
  'ChangePlan',
  'ChangeQuantity',
  'Renew',
  'Suspend',
  'Reinstate',
  'Unsubscribe',
] as const;
export type OperationAction = (typeof OPERATION_ACTIONS)[number];

export const OPERATION_STATUSES = [
  'NotStarted',
  'InProgress',
  'Failed',
  'Succeeded',
  'Conflict',
] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

const PartySchema = z.strictObject({
  emailId: Text,
  objectId: Text,
  tenantId: Text,
  puid: Text,
});

export const SimSubscriptionSchema = z.strictObject({
  id: PathId,
  name: Text,
  publisherId: RequiredText,
  offerId: RequiredText,
  planId: RequiredText,
  /** null for a flat-rate plan. */
  quantity: Quantity.nullable(),
  beneficiary: PartySchema,
  purchaser: PartySchema,
  allowedCustomerOperations: z.array(z.enum(['Read', 'Update', 'Delete'])).max(3),
  sessionMode: Text,
  isFreeTrial: z.boolean(),
  isTest: z.boolean(),
  sandboxType: Text,
  saasSubscriptionStatus: z.enum(SUBSCRIPTION_STATUSES),
  // unverified: the dates before activation (the docs show dates even on a pending purchase;
  // the simulator has none until the publisher activates).
  term: z.strictObject({
    startDate: IsoInstant.nullable(),
    endDate: IsoInstant.nullable(),
    termUnit: z.enum(TERM_UNITS),
    chargeDuration: Text.nullable(),
  }),
  autoRenew: z.boolean(),
  created: IsoInstant,
  lastModified: IsoInstant,
});
export type SimSubscription = z.infer<typeof SimSubscriptionSchema>;

export const SimOperationSchema = z.strictObject({
  id: PathId,
  activityId: Text,
  subscriptionId: PathId,
  offerId: RequiredText,
  publisherId: RequiredText,
  /** The plan the operation moves to (ChangePlan) or the subscription's plan. */
  planId: RequiredText,
  /** The quantity the operation moves to (ChangeQuantity) or the subscription's quantity. */
  quantity: Quantity.nullable(),
  action: z.enum(OPERATION_ACTIONS),
  timeStamp: IsoInstant,
  status: z.enum(OPERATION_STATUSES),
  operationRequestSource: z.enum(['Azure', 'Partner']),
  // unverified: the docs' example shows "" for both when there is no error; null is used here.
  errorStatusCode: Text.nullable(),
  errorMessage: Text.nullable(),
});
export type SimOperation = z.infer<typeof SimOperationSchema>;

export const SimAppSchema = z.strictObject({
  tenantId: Guid,
  clientId: Guid,
  clientSecret: RequiredText,
});
export type SimApp = z.infer<typeof SimAppSchema>;

export const SimOfferSchema = z.strictObject({
  offerId: RequiredText,
  plans: z
    .array(z.strictObject({ planId: RequiredText, termUnit: z.enum(TERM_UNITS).optional() }))
    .min(1)
    .max(SIM_PLANS_PER_OFFER_MAX),
});
export type SimOffer = z.infer<typeof SimOfferSchema>;

export const SimLandingTokenSchema = z.strictObject({
  token: RequiredText,
  subscriptionId: PathId,
  /** Resolve refuses the token from this instant (simulator clock); absent: never expires. */
  expiresAt: IsoInstant.optional(),
});
export type SimLandingToken = z.infer<typeof SimLandingTokenSchema>;

export const AzureSimulatorStateSchema = z
  .strictObject({
    publisherId: RequiredText,
    apps: z.array(SimAppSchema).max(SIM_APPS_MAX),
    offers: z.array(SimOfferSchema).max(SIM_OFFERS_MAX),
    subscriptions: z.array(SimSubscriptionSchema).max(SIM_STATE_ITEMS_MAX),
    operations: z.array(SimOperationSchema).max(SIM_OPERATIONS_MAX),
    landingTokens: z.array(SimLandingTokenSchema).max(SIM_STATE_ITEMS_MAX),
    /** How long an unanswered ChangePlan/ChangeQuantity/Reinstate waits; 0: right after delivery. */
    autoAcceptMs: z.number().int().min(0).max(AUTO_ACCEPT_MS_MAX).default(AUTO_ACCEPT_MS_DEFAULT),
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
      state.apps.map((a) => a.clientId.toLowerCase()),
      'apps',
      'clientId',
    );
    duplicates(
      state.offers.map((o) => o.offerId),
      'offers',
      'offerId',
    );
    state.offers.forEach((offer, index) => {
      const seen = new Set<string>();
      offer.plans.forEach((plan, planIndex) => {
        if (seen.has(plan.planId)) {
          ctx.addIssue({
            code: 'custom',
            path: ['offers', index, 'plans', planIndex],
            message: `duplicate planId ${plan.planId}`,
          });
        }
        seen.add(plan.planId);
      });
    });
    duplicates(
      state.subscriptions.map((s) => s.id),
      'subscriptions',
      'subscription id',
    );
    duplicates(
      state.operations.map((o) => o.id),
      'operations',
      'operation id',
    );
    duplicates(
      state.landingTokens.map((t) => t.token),
      'landingTokens',
      'token',
    );
    const subscriptionIds = new Set(state.subscriptions.map((s) => s.id));
    state.subscriptions.forEach((s, index) => {
      const offer = state.offers.find((o) => o.offerId === s.offerId);
      if (offer === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['subscriptions', index, 'offerId'],
          message: `unknown offer ${s.offerId}`,
        });
      } else if (!offer.plans.some((p) => p.planId === s.planId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['subscriptions', index, 'planId'],
          message: `offer ${s.offerId} has no plan ${s.planId}`,
        });
      }
    });
    state.operations.forEach((o, index) => {
      if (!subscriptionIds.has(o.subscriptionId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['operations', index, 'subscriptionId'],
          message: `unknown subscription ${o.subscriptionId}`,
        });
      }
    });
    state.landingTokens.forEach((t, index) => {
      if (!subscriptionIds.has(t.subscriptionId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['landingTokens', index, 'subscriptionId'],
          message: `unknown subscription ${t.subscriptionId}`,
        });
      }
    });
  });
/** The state as the simulator holds it (autoAcceptMs filled in). */
export type AzureSimulatorState = z.output<typeof AzureSimulatorStateSchema>;
/** The state as it may be given (autoAcceptMs optional). */
export type AzureSimulatorStateInput = z.input<typeof AzureSimulatorStateSchema>;

/** Where webhooks go and who their tokens are for. */
export const WebhookTargetSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2_048),
  /** The offer's Entra app id (technical configuration): the token's `aud`. */
  audience: RequiredText,
  /** The publisher's tenant: the token's `tid` and issuer. */
  tenantId: Guid,
});
export type WebhookTarget = z.infer<typeof WebhookTargetSchema>;

export const PurchaseInputSchema = z.strictObject({
  offerId: RequiredText,
  planId: RequiredText,
  /** Seats; absent for a flat-rate plan. */
  quantity: Quantity.optional(),
  beneficiaryTenantId: Guid,
  subscriptionId: PathId.optional(),
  name: Text.optional(),
  /** Default: the plan's termUnit, else P1M. */
  termUnit: z.enum(TERM_UNITS).optional(),
});
export type PurchaseInput = z.infer<typeof PurchaseInputSchema>;

export interface PurchaseResult {
  readonly subscriptionId: string;
  /** The landing-page token, as the marketplace passes it (decoded; URL-encode it in a URL). */
  readonly token: string;
}

/** Fulfillment API operations, the names faults and the calls log use. */
export const FULFILLMENT_OPERATIONS = [
  'Resolve',
  'ListSubscriptions',
  'GetSubscription',
  'Activate',
  'UpdateSubscription',
  'DeleteSubscription',
  'ListOperations',
  'GetOperation',
  'UpdateOperation',
] as const;
export type FulfillmentOperation = (typeof FULFILLMENT_OPERATIONS)[number];

export const WEBHOOK_FAULT_KINDS = [
  'duplicate',
  'bad-signature',
  'wrong-audience',
  'wrong-tenant',
  'wrong-appid',
  'no-token',
  'expired-token',
  'malformed-body',
] as const;
export type WebhookFaultKind = (typeof WEBHOOK_FAULT_KINDS)[number];

export const API_FAULT_KINDS = ['throttle', 'server-error'] as const;
export type ApiFaultKind = (typeof API_FAULT_KINDS)[number];

/**
 * The next `times` webhook deliveries (one per action, whatever its retries) or fulfillment calls
 * ('*' = any operation) are corrupted:
 * - duplicate: the webhook is delivered twice (each copy with its own retries)
 * - bad-signature: signed with a key that is not in the JWKS (header kid unchanged)
 * - wrong-audience / wrong-tenant (tid and issuer) / wrong-appid: that claim only is another value
 * - no-token: no Authorization header; expired-token: exp an hour in the past
 * - malformed-body: valid token, body without subscriptionId and with garbage members
 * - throttle: 429 with Retry-After: 1; server-error: 500
 */
export const SimFaultSchema = z.discriminatedUnion('target', [
  z.strictObject({
    target: z.literal('webhook'),
    kind: z.enum(WEBHOOK_FAULT_KINDS),
    times: z.number().int().min(1).max(SIM_FAULT_TIMES_MAX),
  }),
  z.strictObject({
    target: z.union([z.literal('*'), z.enum(FULFILLMENT_OPERATIONS)]),
    kind: z.enum(API_FAULT_KINDS),
    times: z.number().int().min(1).max(SIM_FAULT_TIMES_MAX),
  }),
]);
export type SimFault = z.infer<typeof SimFaultSchema>;

/** One attempt to deliver one webhook. */
export interface WebhookDelivery {
  readonly operationId: string;
  readonly action: OperationAction;
  /** The HTTP status answered, or why there was none. */
  readonly status: number | 'timeout' | 'error';
  /** 1 for the first try of a delivery, then 2… for its retries. */
  readonly attempt: number;
  /** Simulator clock, ISO. */
  readonly at: string;
  readonly fault?: WebhookFaultKind;
}

/** One request to the Entra or fulfillment endpoints. */
export interface SimCall {
  /** A FulfillmentOperation, 'Token', 'Keys', or 'Unknown'. */
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly input: unknown;
  readonly status: number;
  readonly at: string;
}

/** What a customer action did, once its webhook deliveries are over. */
export interface ActionResult {
  readonly operation: SimOperation;
  readonly subscription: SimSubscription;
  /** This action's delivery attempts (empty without a webhook target). */
  readonly deliveries: ReadonlyArray<WebhookDelivery>;
}

export interface MintWebhookTokenOptions {
  /** 'attacker' signs with the key that is not in the JWKS. Default 'simulator'. */
  readonly signWith?: 'simulator' | 'attacker';
}

export interface AzureSimulator {
  readonly url: string;
  readonly port: number;
  /** Private offers and listings (Product Ingestion API), see azure-offer-simulator.ts. */
  readonly offers: AzureOfferSimulator;
  /** The Marketplace Metering Service (usage events), see azure-metering-simulator.ts. */
  readonly metering: AzureMeteringSimulator;
  /** The `iss` of the tokens the simulator issues for that tenant (Entra v1 form). */
  issuerUrl(tenantId: string): string;
  /** The simulator's JWKS for that tenant (any tenant, and 'common', serve the same keys). */
  jwksUrl(tenantId: string): string;
  /** The token endpoint for that tenant. */
  tokenUrl(tenantId: string): string;
  /** A copy of the state as it is now. */
  state(): AzureSimulatorState;
  /** Replaces the state; the webhook target, faults, logs and keys stay; auto-accept timers stop. */
  setState(state: AzureSimulatorStateInput): void;
  /** null: no webhooks are sent (InProgress operations still auto-accept). */
  setWebhookTarget(target: WebhookTarget | null): void;
  /** A purchase waiting on the landing page: PendingFulfillmentStart, no webhook. */
  purchase(input: PurchaseInput): PurchaseResult;
  changePlan(subscriptionId: string, planId: string): Promise<ActionResult>;
  changeQuantity(subscriptionId: string, quantity: number): Promise<ActionResult>;
  suspend(subscriptionId: string): Promise<ActionResult>;
  reinstate(subscriptionId: string): Promise<ActionResult>;
  renew(subscriptionId: string): Promise<ActionResult>;
  unsubscribe(subscriptionId: string): Promise<ActionResult>;
  /** Ends an InProgress Azure operation as if autoAcceptMs had passed; returns it. */
  settle(operationId: string): SimOperation;
  injectFault(fault: SimFault): void;
  clearFaults(): void;
  webhookDeliveries(): ReadonlyArray<WebhookDelivery>;
  calls(): ReadonlyArray<SimCall>;
  /**
   * A webhook bearer token for the current target, with claims replaced by `overrides` (a member
   * set to undefined is removed), for negative tests of a webhook receiver.
   */
  mintWebhookToken(
    overrides?: Readonly<Record<string, unknown>>,
    options?: MintWebhookTokenOptions,
  ): Promise<string>;
  close(): Promise<void>;
}

export interface AzureSimulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly state?: AzureSimulatorStateInput;
  /** The simulator clock: timestamps, token lifetimes, term dates, landing-token expiry. */
  readonly now?: () => Date;
}

/** Bad input to the in-process API or the `/_sim/*` endpoints (its status over HTTP). */
export class AzureSimulatorInputError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ReadonlyArray<{ readonly path: string; readonly message: string }>;
  constructor(
    message: string,
    details: ReadonlyArray<{ readonly path: string; readonly message: string }> = [],
    status = 400,
    code = 'validation_failed',
  ) {
    super(message);
    this.name = 'AzureSimulatorInputError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const notFound = (message: string) => new AzureSimulatorInputError(message, [], 404, 'not_found');
const invalidState = (message: string) =>
  new AzureSimulatorInputError(message, [], 409, 'invalid_state');

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function describeIssues(what: string, error: z.ZodError): AzureSimulatorInputError {
  const details = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new AzureSimulatorInputError(
    `Invalid ${what}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'invalid'}${more}`,
    details,
  );
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw describeIssues(what, result.error);
  return result.data;
}

function midnightUtc(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** Adds whole months, keeping the day of month or clamping it to the month's last day. */
function addMonths(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(date.getUTCDate(), lastDay),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  );
}

/**
 * The end of a term that starts at `start`: one termUnit later, at midnight, exclusive.
 * unverified: Microsoft's docs describe endDate as "the last day the subscription is valid"
 * (start + 1 month − 1 day in their example); the simulator uses the exclusive end.
 */
function termEnd(start: Date, termUnit: TermUnit): Date {
  return addMonths(start, TERM_MONTHS[termUnit]);
}

/** A stable GUID-shaped id derived from text (the marketplace's service principal per tenant). */
function derivedGuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function loggedInput(input: unknown, bytes: number): unknown {
  return bytes > SIM_CALL_INPUT_BYTES_MAX
    ? { omitted: `input of ${bytes} bytes exceeds ${SIM_CALL_INPUT_BYTES_MAX}` }
    : input;
}

// ---------------------------------------------------------------------------------------------
// Keys and tokens
// ---------------------------------------------------------------------------------------------

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  // unverified: Entra's keys also carry x5t, x5c and issuer; a JWKS consumer needs only these.
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...jwk, use: 'sig', kid, alg: 'RS256' },
  };
}

function sign(claims: JWTPayload, key: SigningKey, kid: string): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .sign(key.privateKey);
}

function issuerFor(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

// ---------------------------------------------------------------------------------------------
// Errors of the Microsoft-facing endpoints
// ---------------------------------------------------------------------------------------------

/** A fulfillment API error. unverified: Microsoft's error body; `{error:{code,message}}` here. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** An Entra token endpoint error, in Entra's body shape. */
class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

interface StoredFault {
  readonly target: SimFault['target'];
  readonly kind: WebhookFaultKind | ApiFaultKind;
  remaining: number;
}

type DeliveryOutcome =
  | { readonly kind: 'no-target' }
  | { readonly kind: 'delivered' }
  | { readonly kind: 'rejected'; readonly status: number }
  | { readonly kind: 'failed'; readonly last: WebhookDelivery['status'] };

const EMPTY_STATE: AzureSimulatorStateInput = {
  publisherId: 'publisher',
  apps: [],
  offers: [],
  subscriptions: [],
  operations: [],
  landingTokens: [],
};

class MarketplaceModel {
  private current: AzureSimulatorState = parseOrThrow(
    AzureSimulatorStateSchema,
    EMPTY_STATE,
    'state',
  );
  private target: WebhookTarget | null = null;
  private readonly faults: StoredFault[] = [];
  private readonly callLog: SimCall[] = [];
  private readonly deliveryLog: WebhookDelivery[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly shutdown = new AbortController();
  /** A tenant no one configured: the `wrong-tenant` fault's tid. */
  private readonly strangerTenantId = randomUUID();

  constructor(
    readonly now: () => Date,
    readonly key: SigningKey,
    private readonly attackerKey: SigningKey,
  ) {}

  // --- state -------------------------------------------------------------------------------

  state(): AzureSimulatorState {
    return structuredClone(this.current);
  }

  setState(state: AzureSimulatorStateInput): void {
    const parsed = structuredClone(parseOrThrow(AzureSimulatorStateSchema, state, 'state'));
    this.clearTimers();
    this.current = parsed;
  }

  setWebhookTarget(target: WebhookTarget | null): void {
    this.target =
      target === null ? null : parseOrThrow(WebhookTargetSchema, target, 'webhook target');
  }

  injectFault(fault: SimFault): void {
    const parsed = parseOrThrow(SimFaultSchema, fault, 'fault');
    if (this.faults.length >= SIM_FAULTS_MAX) {
      throw new AzureSimulatorInputError(`At most ${SIM_FAULTS_MAX} faults can be pending`);
    }
    this.faults.push({ target: parsed.target, kind: parsed.kind, remaining: parsed.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The first pending fault for this target, consumed by one. */
  private takeFault(target: 'webhook' | FulfillmentOperation): StoredFault['kind'] | null {
    const index = this.faults.findIndex(
      (f) => f.target === target || (f.target === '*' && target !== 'webhook'),
    );
    const fault = this.faults[index];
    if (fault === undefined) return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault.kind;
  }

  takeApiFault(operation: FulfillmentOperation): ApiFaultKind | null {
    return this.takeFault(operation) as ApiFaultKind | null;
  }

  webhookDeliveries(): ReadonlyArray<WebhookDelivery> {
    return structuredClone(this.deliveryLog);
  }

  calls(): ReadonlyArray<SimCall> {
    return structuredClone(this.callLog);
  }

  recordCall(call: SimCall): void {
    if (this.callLog.length >= SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push(call);
  }

  private recordDelivery(delivery: WebhookDelivery): void {
    if (this.deliveryLog.length >= SIM_DELIVERIES_MAX) this.deliveryLog.shift();
    this.deliveryLog.push(delivery);
  }

  close(): void {
    this.shutdown.abort();
    this.clearTimers();
  }

  private clearTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private nowIso(): string {
    return this.now().toISOString();
  }

  subscription(id: string): SimSubscription | undefined {
    return this.current.subscriptions.find((s) => s.id === id);
  }

  private requireSubscription(id: string): SimSubscription {
    const subscription = this.subscription(id);
    if (subscription === undefined) throw notFound(`No subscription ${id}`);
    return subscription;
  }

  operation(id: string): SimOperation | undefined {
    return this.current.operations.find((o) => o.id === id);
  }

  private offerPlan(offerId: string, planId: string) {
    const offer = this.current.offers.find((o) => o.offerId === offerId);
    return { offer, plan: offer?.plans.find((p) => p.planId === planId) };
  }

  app(clientId: string): SimApp | undefined {
    const wanted = clientId.toLowerCase();
    return this.current.apps.find((a) => a.clientId.toLowerCase() === wanted);
  }

  hasTenant(tenantId: string): boolean {
    const wanted = tenantId.toLowerCase();
    return this.current.apps.some((a) => a.tenantId.toLowerCase() === wanted);
  }

  private touch(subscription: SimSubscription): void {
    subscription.lastModified = this.nowIso();
  }

  private addOperation(
    subscription: SimSubscription,
    action: OperationAction,
    status: OperationStatus,
    source: 'Azure' | 'Partner',
    change: { planId?: string; quantity?: number } = {},
  ): SimOperation {
    const operations = this.current.operations;
    if (operations.length >= SIM_OPERATIONS_MAX) {
      const oldest = operations.findIndex((o) => o.status !== 'InProgress');
      if (oldest < 0) {
        throw new AzureSimulatorInputError(
          `The simulator holds at most ${SIM_OPERATIONS_MAX} operations`,
          [],
          409,
          'state_full',
        );
      }
      operations.splice(oldest, 1);
    }
    const operation: SimOperation = {
      id: randomUUID(),
      activityId: randomUUID(),
      subscriptionId: subscription.id,
      offerId: subscription.offerId,
      publisherId: subscription.publisherId,
      planId: change.planId ?? subscription.planId,
      quantity: change.quantity ?? subscription.quantity,
      action,
      timeStamp: this.nowIso(),
      status,
      operationRequestSource: source,
      errorStatusCode: null,
      errorMessage: null,
    };
    operations.push(operation);
    return operation;
  }

  private hasInProgress(subscriptionId: string): boolean {
    return this.current.operations.some(
      (o) => o.subscriptionId === subscriptionId && o.status === 'InProgress',
    );
  }

  /** Unsubscribed: what is still InProgress on the subscription can no longer happen. */
  private markUnsubscribed(subscription: SimSubscription, reason: string): void {
    subscription.saasSubscriptionStatus = 'Unsubscribed';
    this.touch(subscription);
    for (const operation of this.current.operations) {
      if (operation.subscriptionId === subscription.id && operation.status === 'InProgress') {
        this.failOperation(operation, null, reason);
      }
    }
  }

  private failOperation(
    operation: SimOperation,
    errorStatusCode: string | null,
    errorMessage: string,
  ): void {
    operation.status = 'Failed';
    operation.errorStatusCode = errorStatusCode;
    operation.errorMessage = errorMessage;
    this.stopTimer(operation.id);
  }

  private stopTimer(operationId: string): void {
    const timer = this.timers.get(operationId);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(operationId);
  }

  /** Applies an InProgress operation and marks it Succeeded (or Failed if it no longer fits). */
  private acceptOperation(operation: SimOperation): void {
    if (operation.status !== 'InProgress') return;
    this.stopTimer(operation.id);
    const subscription = this.subscription(operation.subscriptionId);
    if (subscription === undefined) {
      this.failOperation(operation, null, 'The subscription no longer exists');
      return;
    }
    const required: SubscriptionStatus =
      operation.action === 'Reinstate' ? 'Suspended' : 'Subscribed';
    if (subscription.saasSubscriptionStatus !== required) {
      this.failOperation(
        operation,
        null,
        `The subscription is ${subscription.saasSubscriptionStatus}, not ${required}`,
      );
      return;
    }
    switch (operation.action) {
      case 'ChangePlan':
        subscription.planId = operation.planId;
        break;
      case 'ChangeQuantity':
        subscription.quantity = operation.quantity;
        break;
      case 'Reinstate':
        subscription.saasSubscriptionStatus = 'Subscribed';
        break;
      default:
        break;
    }
    operation.status = 'Succeeded';
    this.touch(subscription);
  }

  settle(operationId: string): SimOperation {
    const operation = this.operation(operationId);
    if (operation === undefined) throw notFound(`No operation ${operationId}`);
    this.acceptOperation(operation);
    return structuredClone(operation);
  }

  // --- the customer's side -----------------------------------------------------------------

  purchase(input: PurchaseInput): PurchaseResult {
    const parsed = parseOrThrow(PurchaseInputSchema, input, 'purchase');
    const { offer, plan } = this.offerPlan(parsed.offerId, parsed.planId);
    if (offer === undefined) {
      throw new AzureSimulatorInputError(`Unknown offer ${parsed.offerId}`, [
        { path: 'offerId', message: 'unknown offer' },
      ]);
    }
    if (plan === undefined) {
      throw new AzureSimulatorInputError(`Offer ${parsed.offerId} has no plan ${parsed.planId}`, [
        { path: 'planId', message: 'unknown plan' },
      ]);
    }
    const id = parsed.subscriptionId ?? randomUUID();
    if (this.subscription(id) !== undefined) {
      throw new AzureSimulatorInputError(`Subscription ${id} exists`, [], 409, 'conflict');
    }
    if (
      this.current.subscriptions.length >= SIM_STATE_ITEMS_MAX ||
      this.current.landingTokens.length >= SIM_STATE_ITEMS_MAX
    ) {
      throw new AzureSimulatorInputError(
        `The simulator holds at most ${SIM_STATE_ITEMS_MAX} subscriptions and landing tokens`,
        [],
        409,
        'state_full',
      );
    }
    const now = this.now();
    const party = {
      emailId: `buyer@${parsed.beneficiaryTenantId.slice(0, 8)}.example.com`,
      objectId: randomUUID(),
      tenantId: parsed.beneficiaryTenantId,
      puid: randomBytes(8).toString('hex').toUpperCase(),
    };
    this.current.subscriptions.push({
      id,
      name: parsed.name ?? `${parsed.offerId} ${parsed.planId}`,
      publisherId: this.current.publisherId,
      offerId: parsed.offerId,
      planId: parsed.planId,
      quantity: parsed.quantity ?? null,
      beneficiary: party,
      purchaser: { ...party },
      allowedCustomerOperations: ['Delete', 'Update', 'Read'],
      sessionMode: 'None',
      isFreeTrial: false,
      isTest: false,
      sandboxType: 'None',
      saasSubscriptionStatus: 'PendingFulfillmentStart',
      term: {
        startDate: null,
        endDate: null,
        termUnit: parsed.termUnit ?? plan.termUnit ?? 'P1M',
        chargeDuration: null,
      },
      autoRenew: true,
      created: now.toISOString(),
      lastModified: now.toISOString(),
    });
    // Base64 with + / =, like Microsoft's: a landing page must URL-decode it before resolving.
    const token = randomBytes(LANDING_TOKEN_BYTES).toString('base64');
    this.current.landingTokens.push({
      token,
      subscriptionId: id,
      expiresAt: new Date(now.getTime() + LANDING_TOKEN_LIFETIME_MS).toISOString(),
    });
    return { subscriptionId: id, token };
  }

  private startAction(subscriptionId: string, allowed: readonly SubscriptionStatus[]) {
    const subscription = this.requireSubscription(subscriptionId);
    if (!allowed.includes(subscription.saasSubscriptionStatus)) {
      throw invalidState(
        `Subscription ${subscriptionId} is ${subscription.saasSubscriptionStatus}; this needs ${allowed.join(' or ')}`,
      );
    }
    if (this.hasInProgress(subscriptionId)) {
      throw new AzureSimulatorInputError(
        `Subscription ${subscriptionId} has an operation in progress`,
        [],
        409,
        'operation_in_progress',
      );
    }
    return subscription;
  }

  async changePlan(subscriptionId: string, planId: string): Promise<ActionResult> {
    const parsedPlan = parseOrThrow(z.strictObject({ planId: RequiredText }), { planId }, 'plan');
    const subscription = this.startAction(subscriptionId, ['Subscribed']);
    if (this.offerPlan(subscription.offerId, parsedPlan.planId).plan === undefined) {
      throw new AzureSimulatorInputError(`Offer ${subscription.offerId} has no plan ${planId}`, [
        { path: 'planId', message: 'unknown plan' },
      ]);
    }
    if (parsedPlan.planId === subscription.planId) {
      throw new AzureSimulatorInputError(`Subscription ${subscriptionId} is on ${planId} already`, [
        { path: 'planId', message: 'same plan' },
      ]);
    }
    const operation = this.addOperation(subscription, 'ChangePlan', 'InProgress', 'Azure', {
      planId: parsedPlan.planId,
    });
    return this.runPending(operation);
  }

  async changeQuantity(subscriptionId: string, quantity: number): Promise<ActionResult> {
    const parsed = parseOrThrow(z.strictObject({ quantity: Quantity }), { quantity }, 'quantity');
    const subscription = this.startAction(subscriptionId, ['Subscribed']);
    if (subscription.quantity === null) {
      throw new AzureSimulatorInputError(
        `Subscription ${subscriptionId} is on a flat-rate plan (no quantity)`,
        [{ path: 'quantity', message: 'flat-rate plan' }],
      );
    }
    if (parsed.quantity === subscription.quantity) {
      throw new AzureSimulatorInputError(`Subscription ${subscriptionId} has ${quantity} already`, [
        { path: 'quantity', message: 'same quantity' },
      ]);
    }
    const operation = this.addOperation(subscription, 'ChangeQuantity', 'InProgress', 'Azure', {
      quantity: parsed.quantity,
    });
    return this.runPending(operation);
  }

  async reinstate(subscriptionId: string): Promise<ActionResult> {
    const subscription = this.startAction(subscriptionId, ['Suspended']);
    const operation = this.addOperation(subscription, 'Reinstate', 'InProgress', 'Azure');
    return this.runPending(operation);
  }

  async suspend(subscriptionId: string): Promise<ActionResult> {
    const subscription = this.startAction(subscriptionId, ['Subscribed']);
    subscription.saasSubscriptionStatus = 'Suspended';
    this.touch(subscription);
    return this.runNotify(this.addOperation(subscription, 'Suspend', 'Succeeded', 'Azure'));
  }

  async renew(subscriptionId: string): Promise<ActionResult> {
    const subscription = this.startAction(subscriptionId, ['Subscribed']);
    const start =
      subscription.term.endDate === null
        ? midnightUtc(this.now())
        : new Date(subscription.term.endDate);
    subscription.term.startDate = start.toISOString();
    subscription.term.endDate = termEnd(start, subscription.term.termUnit).toISOString();
    this.touch(subscription);
    return this.runNotify(this.addOperation(subscription, 'Renew', 'Succeeded', 'Azure'));
  }

  async unsubscribe(subscriptionId: string): Promise<ActionResult> {
    const subscription = this.requireSubscription(subscriptionId);
    if (subscription.saasSubscriptionStatus === 'Unsubscribed') {
      throw invalidState(`Subscription ${subscriptionId} is Unsubscribed already`);
    }
    this.markUnsubscribed(subscription, 'The customer unsubscribed');
    return this.runNotify(this.addOperation(subscription, 'Unsubscribe', 'Succeeded', 'Azure'));
  }

  /** A notify-only action: already applied; the webhook carries the subscription. */
  private async runNotify(operation: SimOperation): Promise<ActionResult> {
    const deliveries = await this.deliver(operation, true);
    return this.result(operation, deliveries.attempts);
  }

  /** An action that waits on the publisher (ChangePlan, ChangeQuantity, Reinstate). */
  private async runPending(operation: SimOperation): Promise<ActionResult> {
    const { outcome, attempts } = await this.deliver(operation, false);
    // The publisher may have answered already (PATCH or DELETE inside its webhook handler), and
    // a state replaced meanwhile leaves this operation behind.
    const current = this.operation(operation.id) === operation;
    if (current && operation.status === 'InProgress' && !this.shutdown.signal.aborted) {
      if (outcome.kind === 'rejected' && operation.action !== 'Reinstate') {
        this.failOperation(
          operation,
          String(outcome.status),
          `The publisher's webhook answered HTTP ${outcome.status}`,
        );
      } else if (outcome.kind === 'failed') {
        // "if the publisher doesn't accept the call … the operation … will eventually fail".
        this.failOperation(
          operation,
          null,
          `The webhook could not be delivered (last attempt: ${outcome.last})`,
        );
      } else if (this.current.autoAcceptMs === 0) {
        this.acceptOperation(operation);
      } else {
        const timer = setTimeout(() => {
          this.timers.delete(operation.id);
          const stored = this.operation(operation.id);
          if (stored !== undefined) this.acceptOperation(stored);
        }, this.current.autoAcceptMs);
        timer.unref();
        this.timers.set(operation.id, timer);
      }
    }
    return this.result(operation, attempts);
  }

  private result(operation: SimOperation, attempts: WebhookDelivery[]): ActionResult {
    const subscription = this.requireSubscription(operation.subscriptionId);
    return {
      operation: structuredClone(operation),
      subscription: structuredClone(subscription),
      deliveries: attempts,
    };
  }

  // --- webhooks ----------------------------------------------------------------------------

  private webhookBody(operation: SimOperation, withSubscription: boolean): Record<string, unknown> {
    const subscription = this.subscription(operation.subscriptionId);
    // unverified: Microsoft's examples embed the subscription in every action's payload; the
    // simulator embeds it only for the notify-only ones (Renew, Suspend, Unsubscribe).
    return {
      id: operation.id,
      activityId: operation.activityId,
      publisherId: operation.publisherId,
      offerId: operation.offerId,
      planId: operation.planId,
      quantity: operation.quantity,
      subscriptionId: operation.subscriptionId,
      timeStamp: operation.timeStamp,
      action: operation.action,
      status: operation.status,
      operationRequestSource: operation.operationRequestSource,
      ...(withSubscription && subscription !== undefined
        ? { subscription: structuredClone(subscription) }
        : {}),
      purchaseToken: null,
    };
  }

  private async deliver(
    operation: SimOperation,
    withSubscription: boolean,
  ): Promise<{ outcome: DeliveryOutcome; attempts: WebhookDelivery[] }> {
    const target = this.target;
    if (target === null) return { outcome: { kind: 'no-target' }, attempts: [] };
    const fault = this.takeFault('webhook') as WebhookFaultKind | null;
    const body = this.webhookBody(operation, withSubscription);
    const attempts: WebhookDelivery[] = [];
    const copies = fault === 'duplicate' ? 2 : 1;
    const outcomes: DeliveryOutcome[] = [];
    for (let copy = 0; copy < copies; copy += 1) {
      outcomes.push(await this.deliverOnce(target, operation, body, fault, attempts));
    }
    const outcome = outcomes.find((o) => o.kind === 'rejected') ??
      outcomes.find((o) => o.kind === 'delivered') ??
      outcomes[outcomes.length - 1] ?? { kind: 'failed', last: 'error' };
    return { outcome, attempts };
  }

  private async deliverOnce(
    target: WebhookTarget,
    operation: SimOperation,
    body: Record<string, unknown>,
    fault: WebhookFaultKind | null,
    attempts: WebhookDelivery[],
  ): Promise<DeliveryOutcome> {
    let last: WebhookDelivery['status'] = 'error';
    for (let attempt = 1; attempt <= 1 + WEBHOOK_RETRIES; attempt += 1) {
      if (this.shutdown.signal.aborted) break;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault !== 'no-token') {
        headers.authorization = `Bearer ${await this.webhookToken(target, fault)}`;
      }
      const payload = fault === 'malformed-body' ? malformedBody(body) : body;
      const status = await this.post(target.url, headers, JSON.stringify(payload));
      const record: WebhookDelivery = {
        operationId: operation.id,
        action: operation.action,
        status,
        attempt,
        at: this.nowIso(),
        ...(fault === null ? {} : { fault }),
      };
      this.recordDelivery(record);
      attempts.push(record);
      last = status;
      if (typeof status === 'number' && status >= 200 && status < 300) return { kind: 'delivered' };
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return { kind: 'rejected', status };
      }
      if (attempt <= WEBHOOK_RETRIES) await sleep(WEBHOOK_RETRY_DELAY_MS);
    }
    return { kind: 'failed', last };
  }

  private async post(
    url: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<WebhookDelivery['status']> {
    const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, this.shutdown.signal]),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.status;
    } catch {
      return timeout.aborted ? 'timeout' : 'error';
    }
  }

  /** The claims Microsoft's webhook token carries for this target. */
  webhookClaims(target: WebhookTarget): JWTPayload {
    const iat = Math.floor(this.now().getTime() / 1000);
    const servicePrincipal = derivedGuid(`${target.tenantId}/${MARKETPLACE_APP_ID}`);
    return {
      aud: target.audience,
      iss: issuerFor(target.tenantId),
      iat,
      nbf: iat,
      exp: iat + WEBHOOK_TOKEN_LIFETIME_SECONDS,
      appid: MARKETPLACE_APP_ID,
      oid: servicePrincipal,
      sub: servicePrincipal,
      tid: target.tenantId,
      ver: '1.0',
    };
  }

  private webhookToken(target: WebhookTarget, fault: WebhookFaultKind | null): Promise<string> {
    const claims = this.webhookClaims(target);
    switch (fault) {
      case 'wrong-audience':
        claims.aud = randomUUID();
        break;
      case 'wrong-tenant':
        claims.tid = this.strangerTenantId;
        claims.iss = issuerFor(this.strangerTenantId);
        break;
      case 'wrong-appid':
        claims.appid = randomUUID();
        break;
      case 'expired-token': {
        const iat = Math.floor(this.now().getTime() / 1000) - 2 * WEBHOOK_TOKEN_LIFETIME_SECONDS;
        claims.iat = iat;
        claims.nbf = iat;
        claims.exp = iat + WEBHOOK_TOKEN_LIFETIME_SECONDS;
        break;
      }
      default:
        break;
    }
    // bad-signature keeps the real kid: the receiver finds the key and the signature fails.
    return sign(claims, fault === 'bad-signature' ? this.attackerKey : this.key, this.key.kid);
  }

  async mintWebhookToken(
    overrides: Readonly<Record<string, unknown>> = {},
    options: MintWebhookTokenOptions = {},
  ): Promise<string> {
    const target = this.target;
    if (target === null) {
      throw new AzureSimulatorInputError('Set a webhook target first (its audience and tenant)');
    }
    const claims: Record<string, unknown> = { ...this.webhookClaims(target) };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete claims[name];
      else claims[name] = value;
    }
    const key = options.signWith === 'attacker' ? this.attackerKey : this.key;
    return sign(claims as JWTPayload, key, this.key.kid);
  }

  // --- Entra -------------------------------------------------------------------------------

  async issueToken(tenantId: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    const required = (name: string): string => {
      const value = form.get(name);
      if (value === null || value === '') {
        throw new EntraError(
          400,
          'invalid_request',
          900144,
          `The request body must contain the following parameter: '${name}'.`,
        );
      }
      return value;
    };
    const grantType = required('grant_type');
    if (grantType !== 'client_credentials') {
      // unverified: the AADSTS number for an unsupported grant type.
      throw new EntraError(
        400,
        'unsupported_grant_type',
        70003,
        'The app requested an unsupported grant type.',
      );
    }
    const clientId = required('client_id');
    // unverified: the status/code Entra gives for an unknown tenant and an unknown app.
    if (!this.hasTenant(tenantId)) {
      throw new EntraError(400, 'invalid_request', 90002, `Tenant '${tenantId}' not found.`);
    }
    const app = this.app(clientId);
    if (app === undefined || app.tenantId.toLowerCase() !== tenantId.toLowerCase()) {
      throw new EntraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`,
      );
    }
    const secret = form.get('client_secret');
    if (secret === null || secret === '') {
      throw new EntraError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (secret !== app.clientSecret) {
      throw new EntraError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    }
    const scope = required('scope');
    if (!scope.endsWith('/.default')) {
      throw new EntraError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    if (scope !== MARKETPLACE_SCOPE) {
      throw new EntraError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${scope.slice(0, -'/.default'.length)} was not found in the tenant named ${tenantId}.`,
      );
    }
    const iat = Math.floor(this.now().getTime() / 1000);
    const servicePrincipal = derivedGuid(`${app.tenantId}/${app.clientId}`);
    const accessToken = await sign(
      {
        aud: MARKETPLACE_APP_ID,
        iss: issuerFor(app.tenantId),
        iat,
        nbf: iat,
        exp: iat + ACCESS_TOKEN_LIFETIME_SECONDS,
        appid: app.clientId,
        appidacr: '1',
        idp: issuerFor(app.tenantId),
        idtyp: 'app',
        oid: servicePrincipal,
        sub: servicePrincipal,
        tid: app.tenantId,
        ver: '1.0',
      },
      this.key,
      this.key.kid,
    );
    return {
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      ext_expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      access_token: accessToken,
    };
  }

  /**
   * Checks a fulfillment API bearer token: ours, unexpired, for the API, from a known app.
   * unverified: Microsoft's pages document 403 for a missing, invalid or expired token; the
   * simulator answers 401 with `WWW-Authenticate: Bearer`.
   */
  async authenticate(authorization: string | undefined): Promise<void> {
    const unauthorized = (message: string) =>
      new ApiError(401, 'Unauthorized', message, { 'www-authenticate': 'Bearer' });
    const match = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
    const token = match?.[1];
    if (token === undefined || token.length > SIM_BEARER_CHARS_MAX) {
      throw unauthorized('A bearer token is required');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key.publicKey, {
        algorithms: ['RS256'],
        audience: MARKETPLACE_APP_ID,
        currentDate: this.now(),
        requiredClaims: ['exp', 'tid', 'appid'],
      }));
    } catch (error) {
      const code =
        typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
      throw unauthorized(`The bearer token is not valid${code ? ` (${code})` : ''}`);
    }
    const app = typeof payload.appid === 'string' ? this.app(payload.appid) : undefined;
    if (
      app === undefined ||
      payload.tid !== app.tenantId ||
      payload.iss !== issuerFor(app.tenantId)
    ) {
      throw unauthorized('The token was not issued to an app registered for this publisher');
    }
  }

  // --- the fulfillment API -----------------------------------------------------------------

  resolve(marketplaceToken: string | undefined): Record<string, unknown> {
    if (marketplaceToken === undefined || marketplaceToken === '') {
      throw new ApiError(400, 'BadRequest', 'The x-ms-marketplace-token header is required');
    }
    const landing = this.current.landingTokens.find((t) => t.token === marketplaceToken);
    if (landing === undefined) {
      throw new ApiError(400, 'BadRequest', 'The marketplace token is invalid');
    }
    if (landing.expiresAt !== undefined && Date.parse(landing.expiresAt) <= this.now().getTime()) {
      throw new ApiError(400, 'BadRequest', 'The marketplace token has expired');
    }
    const subscription = this.subscription(landing.subscriptionId);
    if (subscription === undefined) {
      throw new ApiError(400, 'BadRequest', 'The marketplace token is invalid');
    }
    return {
      id: subscription.id,
      subscriptionName: subscription.name,
      offerId: subscription.offerId,
      planId: subscription.planId,
      quantity: subscription.quantity,
      subscription: structuredClone(subscription),
    };
  }

  listSubscriptions(continuationToken: string | null, baseUrl: string): Record<string, unknown> {
    let offset = 0;
    if (continuationToken !== null && continuationToken !== '') {
      const parsed = /^o(\d{1,9})$/.exec(
        continuationToken.length > CONTINUATION_TOKEN_CHARS_MAX
          ? ''
          : Buffer.from(continuationToken, 'base64url').toString('utf8'),
      );
      if (parsed?.[1] === undefined) {
        throw new ApiError(400, 'BadRequest', 'The continuationToken is not valid');
      }
      offset = Number(parsed[1]);
    }
    const all = this.current.subscriptions;
    const end = offset + SUBSCRIPTIONS_PAGE_SIZE;
    const page = all.slice(offset, end).map((s) => structuredClone(s));
    if (end >= all.length) return { subscriptions: page };
    const next = new URL(`${baseUrl}/api/saas/subscriptions`);
    next.searchParams.set('continuationToken', Buffer.from(`o${end}`).toString('base64url'));
    next.searchParams.set('api-version', FULFILLMENT_API_VERSION);
    return { subscriptions: page, '@nextLink': next.toString() };
  }

  getSubscription(id: string): SimSubscription {
    const subscription = this.subscription(id);
    // unverified: 404 is documented for GetSubscription; some deployments answer 400.
    if (subscription === undefined) {
      throw new ApiError(404, 'NotFound', `The subscription ${id} was not found`);
    }
    return structuredClone(subscription);
  }

  activate(id: string, body: unknown): void {
    const subscription = this.subscription(id);
    if (subscription === undefined) {
      throw new ApiError(404, 'NotFound', `The subscription ${id} was not found`);
    }
    // unverified: whether Microsoft checks quantity on activation (the simulator only types it).
    const parsed = z
      .object({ planId: z.string().min(1).max(SIM_TEXT_CHARS_MAX), quantity: Quantity.nullish() })
      .safeParse(body);
    if (!parsed.success) {
      throw new ApiError(400, 'BadRequest', 'The body needs a planId (and an optional quantity)');
    }
    switch (subscription.saasSubscriptionStatus) {
      case 'Unsubscribed':
        // "Not found. The SaaS subscription is in an Unsubscribed state."
        throw new ApiError(404, 'NotFound', `The subscription ${id} is Unsubscribed`);
      case 'Suspended':
        throw new ApiError(400, 'BadRequest', `The subscription ${id} is Suspended`);
      default:
        break;
    }
    if (parsed.data.planId !== subscription.planId) {
      throw new ApiError(
        400,
        'BadRequest',
        `The planId ${parsed.data.planId} is not the subscription's plan ${subscription.planId}`,
      );
    }
    if (subscription.saasSubscriptionStatus === 'Subscribed') return;
    const start = midnightUtc(this.now());
    subscription.saasSubscriptionStatus = 'Subscribed';
    subscription.term.startDate = start.toISOString();
    subscription.term.endDate = termEnd(start, subscription.term.termUnit).toISOString();
    this.touch(subscription);
  }

  /**
   * PATCH: a publisher-initiated plan or quantity change, applied at once (Succeeded).
   * unverified: the docs say the partner "also gets webhook notification" for its own changes;
   * the simulator sends no webhook for Partner operations (PATCH or DELETE).
   */
  updateSubscription(id: string, body: unknown): SimOperation {
    const subscription = this.subscription(id);
    if (subscription === undefined) {
      throw new ApiError(404, 'NotFound', `The subscription ${id} was not found`);
    }
    const parsed = z
      .object({
        planId: z.string().min(1).max(SIM_TEXT_CHARS_MAX).optional(),
        quantity: Quantity.optional(),
      })
      .safeParse(body);
    if (
      !parsed.success ||
      (parsed.data.planId === undefined) === (parsed.data.quantity === undefined)
    ) {
      throw new ApiError(400, 'BadRequest', 'Change either planId or quantity, not both');
    }
    if (subscription.saasSubscriptionStatus !== 'Subscribed') {
      throw new ApiError(
        400,
        'BadRequest',
        `The subscription ${id} is ${subscription.saasSubscriptionStatus}, not Subscribed`,
      );
    }
    const { planId, quantity } = parsed.data;
    if (planId !== undefined) {
      if (this.offerPlan(subscription.offerId, planId).plan === undefined) {
        throw new ApiError(400, 'BadRequest', `The plan ${planId} is not available`);
      }
      if (planId === subscription.planId) {
        throw new ApiError(400, 'BadRequest', `The subscription is on plan ${planId} already`);
      }
      const operation = this.addOperation(subscription, 'ChangePlan', 'Succeeded', 'Partner', {
        planId,
      });
      subscription.planId = planId;
      this.touch(subscription);
      return operation;
    }
    if (quantity === undefined || subscription.quantity === null) {
      throw new ApiError(400, 'BadRequest', 'The subscription has no quantity (flat-rate plan)');
    }
    if (quantity === subscription.quantity) {
      throw new ApiError(400, 'BadRequest', `The subscription has quantity ${quantity} already`);
    }
    const operation = this.addOperation(subscription, 'ChangeQuantity', 'Succeeded', 'Partner', {
      quantity,
    });
    subscription.quantity = quantity;
    this.touch(subscription);
    return operation;
  }

  /**
   * DELETE: unsubscribes (also how a publisher refuses a Reinstate, whose operation then Fails).
   * unverified: the docs list 409 "locked due to pending operation(s)"; the simulator never
   * answers it, since refusing an InProgress Reinstate is exactly a DELETE with one pending.
   */
  deleteSubscription(id: string): SimOperation {
    const subscription = this.subscription(id);
    // unverified: deleting an already Unsubscribed subscription (404 assumed, as for activate).
    if (subscription === undefined || subscription.saasSubscriptionStatus === 'Unsubscribed') {
      throw new ApiError(404, 'NotFound', `The subscription ${id} was not found`);
    }
    this.markUnsubscribed(subscription, 'The publisher deleted the subscription');
    return this.addOperation(subscription, 'Unsubscribe', 'Succeeded', 'Partner');
  }

  listOperations(id: string): Record<string, unknown> {
    if (this.subscription(id) === undefined) {
      throw new ApiError(404, 'NotFound', `The subscription ${id} was not found`);
    }
    // unverified: the docs say "empty json" when nothing is pending; `{operations: []}` here.
    return {
      operations: this.current.operations
        .filter((o) => o.subscriptionId === id && o.status === 'InProgress')
        .map((o) => structuredClone(o)),
    };
  }

  private subscriptionOperation(id: string, operationId: string): SimOperation {
    const operation = this.operation(operationId);
    if (this.subscription(id) === undefined || operation?.subscriptionId !== id) {
      throw new ApiError(404, 'NotFound', `The operation ${operationId} was not found`);
    }
    return operation;
  }

  getOperation(id: string, operationId: string): SimOperation {
    return structuredClone(this.subscriptionOperation(id, operationId));
  }

  updateOperation(id: string, operationId: string, body: unknown): void {
    const operation = this.subscriptionOperation(id, operationId);
    const parsed = z.object({ status: z.enum(['Success', 'Failure']) }).safeParse(body);
    if (!parsed.success) {
      throw new ApiError(400, 'BadRequest', 'The body needs status Success or Failure');
    }
    if (operation.status !== 'InProgress') {
      throw new ApiError(409, 'Conflict', `The operation is ${operation.status}, not InProgress`);
    }
    if (parsed.data.status === 'Success') this.acceptOperation(operation);
    else this.failOperation(operation, null, 'The publisher answered Failure');
  }
}

/** The `malformed-body` fault: no subscriptionId, garbage beside the real members. */
function malformedBody(body: Record<string, unknown>): Record<string, unknown> {
  const { subscriptionId: _dropped, ...rest } = body;
  return {
    ...rest,
    unexpected: 'garbage',
    '': [null, {}, -1],
    nested: { deeper: { deepest: true } },
  };
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

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  response.writeHead(status, { 'content-type': JSON_TYPE, ...headers }).end(JSON.stringify(body));
}

function sendControlError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  details: ReadonlyArray<{ path: string; message: string }> = [],
  headers: Record<string, string> = {},
): void {
  sendJson(response, status, { error: { code, message, details } }, headers);
}

function segmentsOf(pathname: string): string[] | null {
  try {
    return pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

async function handleEntra(
  model: MarketplaceModel,
  segments: readonly string[],
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): Promise<boolean> {
  const [tenant, first, second, third] = segments;
  if (tenant === undefined) return false;
  const record = (operation: string, input: unknown, status: number) =>
    model.recordCall({
      operation,
      method: request.method ?? 'GET',
      path,
      input,
      status,
      at: model.now().toISOString(),
    });
  if (segments.length === 4 && first === 'discovery' && second === 'v2.0' && third === 'keys') {
    if (request.method !== 'GET') {
      sendJson(response, 405, { error: 'invalid_request' }, { allow: 'GET' });
      return true;
    }
    record('Keys', null, 200);
    sendJson(response, 200, { keys: [model.key.publicJwk] });
    return true;
  }
  if (segments.length === 4 && first === 'oauth2' && second === 'v2.0' && third === 'token') {
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'invalid_request' }, { allow: 'POST' });
      return true;
    }
    const raw = await readBody(request);
    const form = new URLSearchParams(raw === null ? '' : raw.toString('utf8'));
    // The secret never reaches the log.
    const logged = Object.fromEntries(
      [...form.entries()].map(([k, v]) => [k, k === 'client_secret' ? '(redacted)' : v]),
    );
    try {
      if (raw === null) {
        throw new EntraError(413, 'invalid_request', 900144, 'The request body is too large.');
      }
      const body = await model.issueToken(tenant, form);
      record('Token', logged, 200);
      sendJson(response, 200, body, { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' });
    } catch (error) {
      if (!(error instanceof EntraError)) throw error;
      record('Token', logged, error.status);
      const traceId = randomUUID();
      const correlationId = randomUUID();
      const timestamp = model.now().toISOString().replace('T', ' ').slice(0, 19);
      sendJson(response, error.status, {
        error: error.error,
        error_description: `AADSTS${error.aadsts}: ${error.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}Z`,
        error_codes: [error.aadsts],
        timestamp: `${timestamp}Z`,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `https://login.microsoftonline.com/error?code=${error.aadsts}`,
      });
    }
    return true;
  }
  return false;
}

interface ApiRoute {
  readonly operation: FulfillmentOperation;
  readonly params: readonly string[];
}

/** The fulfillment route for segments after `api/saas/subscriptions`, or null/405 info. */
function fulfillmentRoute(
  method: string,
  rest: readonly string[],
): ApiRoute | { readonly allow: string } | null {
  const [id, sub, operationId] = rest;
  if (rest.length === 0)
    return method === 'GET' ? { operation: 'ListSubscriptions', params: [] } : { allow: 'GET' };
  if (id === undefined) return null;
  if (rest.length === 1) {
    if (id === 'resolve' && method === 'POST') return { operation: 'Resolve', params: [] };
    const byMethod: Record<string, FulfillmentOperation> = {
      GET: 'GetSubscription',
      PATCH: 'UpdateSubscription',
      DELETE: 'DeleteSubscription',
    };
    const operation = byMethod[method];
    return operation === undefined ? { allow: 'GET, PATCH, DELETE' } : { operation, params: [id] };
  }
  if (rest.length === 2 && sub === 'activate') {
    return method === 'POST' ? { operation: 'Activate', params: [id] } : { allow: 'POST' };
  }
  if (rest.length === 2 && sub === 'operations') {
    return method === 'GET' ? { operation: 'ListOperations', params: [id] } : { allow: 'GET' };
  }
  if (rest.length === 3 && sub === 'operations' && operationId !== undefined) {
    if (method === 'GET') return { operation: 'GetOperation', params: [id, operationId] };
    if (method === 'PATCH') return { operation: 'UpdateOperation', params: [id, operationId] };
    return { allow: 'GET, PATCH' };
  }
  return null;
}

async function handleFulfillment(
  model: MarketplaceModel,
  baseUrl: string,
  rest: readonly string[],
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const method = request.method ?? 'GET';
  const requestId = headerValue(request, 'x-ms-requestid') ?? randomUUID();
  const correlationId = headerValue(request, 'x-ms-correlationid') ?? randomUUID();
  const traceHeaders = { 'x-ms-requestid': requestId, 'x-ms-correlationid': correlationId };
  const route = fulfillmentRoute(method, rest);
  const operationName = route !== null && 'operation' in route ? route.operation : 'Unknown';
  const raw = await readBody(request);
  let input: unknown = null;
  const record = (status: number) =>
    model.recordCall({
      operation: operationName,
      method,
      path: url.pathname,
      input: loggedInput(input, raw?.length ?? 0),
      status,
      at: model.now().toISOString(),
    });
  const fail = (error: ApiError) => {
    record(error.status);
    sendJson(
      response,
      error.status,
      { error: { code: error.code, message: error.message } },
      { ...traceHeaders, ...error.headers },
    );
  };
  try {
    if (route === null) throw new ApiError(404, 'NotFound', `No route ${method} ${url.pathname}`);
    if ('allow' in route) {
      throw new ApiError(405, 'MethodNotAllowed', `${method} is not allowed here`, {
        allow: route.allow,
      });
    }
    if (raw === null) {
      throw new ApiError(
        413,
        'PayloadTooLarge',
        `Request body exceeds ${SIM_BODY_BYTES_MAX} bytes`,
      );
    }
    if (raw.length > 0) {
      try {
        input = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ApiError(400, 'BadRequest', 'Request body is not valid JSON');
      }
    }
    if (url.searchParams.get('api-version') !== FULFILLMENT_API_VERSION) {
      throw new ApiError(
        400,
        'BadRequest',
        `The api-version query parameter must be ${FULFILLMENT_API_VERSION}`,
      );
    }
    await model.authenticate(headerValue(request, 'authorization'));
    const fault = model.takeApiFault(route.operation);
    if (fault === 'throttle') {
      throw new ApiError(429, 'TooManyRequests', 'Rate limit exceeded (simulated fault)', {
        'retry-after': '1',
      });
    }
    if (fault === 'server-error') {
      throw new ApiError(500, 'InternalServerError', 'Internal error (simulated fault)');
    }
    const [id = '', operationId = ''] = route.params;
    const operationLocation = (operation: SimOperation) =>
      `${baseUrl}/api/saas/subscriptions/${encodeURIComponent(operation.subscriptionId)}/operations/${encodeURIComponent(operation.id)}?api-version=${FULFILLMENT_API_VERSION}`;
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    switch (route.operation) {
      case 'Resolve':
        body = model.resolve(headerValue(request, 'x-ms-marketplace-token'));
        break;
      case 'ListSubscriptions':
        body = model.listSubscriptions(url.searchParams.get('continuationToken'), baseUrl);
        break;
      case 'GetSubscription':
        body = model.getSubscription(id);
        break;
      case 'Activate':
        model.activate(id, input);
        break;
      case 'UpdateSubscription': {
        const operation = model.updateSubscription(id, input);
        status = 202;
        headers = { 'operation-location': operationLocation(operation) };
        break;
      }
      case 'DeleteSubscription': {
        const operation = model.deleteSubscription(id);
        status = 202;
        headers = { 'operation-location': operationLocation(operation) };
        break;
      }
      case 'ListOperations':
        body = model.listOperations(id);
        break;
      case 'GetOperation':
        body = model.getOperation(id, operationId);
        break;
      case 'UpdateOperation':
        model.updateOperation(id, operationId, input);
        break;
    }
    record(status);
    sendJson(response, status, body, { ...traceHeaders, ...headers });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    fail(error);
  }
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

type ControlHandler = (
  params: readonly string[],
  body: unknown,
) => Promise<{ status: number; body?: unknown }> | { status: number; body?: unknown };

interface ControlRoute {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, ControlHandler>>;
}

const SUBSCRIPTION_ACTIONS = [
  'change-plan',
  'change-quantity',
  'suspend',
  'reinstate',
  'renew',
  'unsubscribe',
] as const;

function controlRoutes(model: MarketplaceModel): ControlRoute[] {
  const action =
    (run: (id: string, body: unknown) => Promise<ActionResult>): ControlHandler =>
    async ([id = ''], body) => ({ status: 200, body: await run(id, body) });
  const field = <T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> =>
    parseOrThrow(schema, body ?? {}, what);
  const actions: Record<(typeof SUBSCRIPTION_ACTIONS)[number], ControlHandler> = {
    'change-plan': action((id, body) =>
      model.changePlan(id, field(z.strictObject({ planId: RequiredText }), body, 'body').planId),
    ),
    'change-quantity': action((id, body) =>
      model.changeQuantity(
        id,
        field(z.strictObject({ quantity: Quantity }), body, 'body').quantity,
      ),
    ),
    suspend: action((id) => model.suspend(id)),
    reinstate: action((id) => model.reinstate(id)),
    renew: action((id) => model.renew(id)),
    unsubscribe: action((id) => model.unsubscribe(id)),
  };
  return [
    {
      pattern: /^\/_sim\/state$/,
      methods: {
        GET: () => ({ status: 200, body: model.state() }),
        POST: (_params, body) => {
          model.setState(body as AzureSimulatorStateInput);
          return { status: 204 };
        },
      },
    },
    {
      pattern: /^\/_sim\/webhook-target$/,
      methods: {
        POST: (_params, body) => {
          model.setWebhookTarget(parseOrThrow(WebhookTargetSchema, body, 'webhook target'));
          return { status: 204 };
        },
        DELETE: () => {
          model.setWebhookTarget(null);
          return { status: 204 };
        },
      },
    },
    {
      pattern: /^\/_sim\/purchase$/,
      methods: {
        POST: (_params, body) => ({ status: 201, body: model.purchase(body as PurchaseInput) }),
      },
    },
    ...SUBSCRIPTION_ACTIONS.map((name) => ({
      pattern: new RegExp(`^/_sim/subscriptions/([^/]+)/${name}$`),
      methods: { POST: actions[name] },
    })),
    {
      pattern: /^\/_sim\/operations\/([^/]+)\/settle$/,
      methods: { POST: ([id = '']) => ({ status: 200, body: model.settle(id) }) },
    },
    {
      pattern: /^\/_sim\/faults$/,
      methods: {
        POST: (_params, body) => {
          model.injectFault(body as SimFault);
          return { status: 204 };
        },
        DELETE: () => {
          model.clearFaults();
          return { status: 204 };
        },
      },
    },
    {
      pattern: /^\/_sim\/webhook-deliveries$/,
      methods: { GET: () => ({ status: 200, body: { deliveries: model.webhookDeliveries() } }) },
    },
    {
      pattern: /^\/_sim\/calls$/,
      methods: { GET: () => ({ status: 200, body: { calls: model.calls() } }) },
    },
  ];
}

async function handleControl(
  routes: readonly ControlRoute[],
  pathname: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  let params: string[] = [];
  const route = routes.find((r) => {
    const match = r.pattern.exec(pathname);
    if (match === null) return false;
    params = match.slice(1).map((p) => decodeURIComponent(p));
    return true;
  });
  if (route === undefined) {
    sendControlError(response, 404, 'not_found', `No simulator control route ${pathname}`);
    return;
  }
  const method = request.method ?? 'GET';
  const handler = route.methods[method];
  if (handler === undefined) {
    const allow = Object.keys(route.methods).join(', ');
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
    const result = await handler(params, body);
    sendJson(response, result.status, result.body);
  } catch (error) {
    if (!(error instanceof AzureSimulatorInputError)) throw error;
    sendControlError(response, error.status, error.code, error.message, error.details);
  }
}

/** Starts the simulator on 127.0.0.1 (a free port unless `port` is given). */
// unverified beyond the SDK's own path: ARM's Microsoft.MarketplaceOrdering "current agreement"
// of a plan, as @azure/arm-marketplaceordering reads it. Plans of the simulated offers have terms.
const PLAN_TERMS_PATH =
  /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.MarketplaceOrdering\/offerTypes\/([^/]+)\/publishers\/([^/]+)\/offers\/([^/]+)\/plans\/([^/]+)\/agreements\/current$/;

function handlePlanTerms(
  model: MarketplaceModel,
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  const match = PLAN_TERMS_PATH.exec(url.pathname);
  if (!match || request.method !== 'GET') return false;
  if (!request.headers.authorization?.startsWith('Bearer ')) {
    sendJson(response, 401, {
      error: { code: 'AuthenticationFailed', message: 'No bearer token' },
    });
    return true;
  }
  const [, , offerType, publisher, offerId, planId] = match;
  const offer = model.state().offers.find((o) => o.offerId === offerId);
  if (!offer?.plans.some((p) => p.planId === planId)) {
    sendJson(response, 404, {
      error: { code: 'NotFound', message: `No terms for plan ${planId}` },
    });
    return true;
  }
  sendJson(response, 200, {
    id: url.pathname,
    name: planId,
    type: `Microsoft.MarketplaceOrdering/offertypes`,
    properties: {
      publisher,
      product: offerId,
      plan: planId,
      licenseTextLink: `https://storelegalterms.example/${publisher}/${offerId}/${planId}/license`,
      privacyPolicyLink: `https://${publisher}.example/privacy`,
      marketplaceTermsLink: 'https://storelegalterms.example/azure-marketplace-terms',
      retrieveDatetime: model.now().toISOString(),
      signature: 'simulated',
      accepted: false,
      offerType,
    },
  });
  return true;
}

export async function startAzureSimulator(
  options: AzureSimulatorOptions = {},
): Promise<AzureSimulator> {
  const [key, attackerKey] = await Promise.all([createSigningKey(), createSigningKey()]);
  const model = new MarketplaceModel(options.now ?? (() => new Date()), key, attackerKey);
  if (options.state !== undefined) model.setState(options.state);
  const routes = controlRoutes(model);
  const offers = createAzureOfferSimulator({
    now: () => model.now(),
    catalog: () => model.state().offers,
  });
  const metering = createAzureMeteringSimulator({
    now: () => model.now(),
    subscriptions: () => model.state().subscriptions,
    offers: () => model.state().offers,
    authenticate: (authorization) => model.authenticate(authorization),
  });
  const host = '127.0.0.1';
  let baseUrl = '';
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const segments = segmentsOf(url.pathname);
    const handle = async (): Promise<void> => {
      if (await offers.handle(request, response, url)) return;
      if (await metering.handle(request, response, url)) return;
      if (handlePlanTerms(model, url, request, response)) return;
      if (url.pathname.startsWith('/_sim/')) {
        await handleControl(routes, url.pathname, request, response);
        return;
      }
      if (segments === null) {
        sendJson(response, 400, { error: { code: 'BadRequest', message: 'Malformed path' } });
        return;
      }
      if (segments[0] === 'api' && segments[1] === 'saas' && segments[2] === 'subscriptions') {
        await handleFulfillment(model, baseUrl, segments.slice(3), url, request, response);
        return;
      }
      if (await handleEntra(model, segments, request, response, url.pathname)) return;
      sendJson(response, 404, { error: { code: 'NotFound', message: `No route ${url.pathname}` } });
    };
    handle().catch((error: unknown) => {
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
  baseUrl = `http://${host}:${port}`;
  return {
    url: baseUrl,
    port,
    offers,
    metering,
    issuerUrl: (tenantId) => issuerFor(tenantId),
    jwksUrl: (tenantId) => `${baseUrl}/${encodeURIComponent(tenantId)}/discovery/v2.0/keys`,
    tokenUrl: (tenantId) => `${baseUrl}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`,
    state: () => model.state(),
    setState: (state) => model.setState(state),
    setWebhookTarget: (target) => model.setWebhookTarget(target),
    purchase: (input) => model.purchase(input),
    changePlan: (id, planId) => model.changePlan(id, planId),
    changeQuantity: (id, quantity) => model.changeQuantity(id, quantity),
    suspend: (id) => model.suspend(id),
    reinstate: (id) => model.reinstate(id),
    renew: (id) => model.renew(id),
    unsubscribe: (id) => model.unsubscribe(id),
    settle: (operationId) => model.settle(operationId),
    injectFault: (fault) => model.injectFault(fault),
    clearFaults: () => model.clearFaults(),
    webhookDeliveries: () => model.webhookDeliveries(),
    calls: () => model.calls(),
    mintWebhookToken: (overrides, mintOptions) => model.mintWebhookToken(overrides, mintOptions),
    close: () =>
      new Promise<void>((resolve) => {
        model.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
