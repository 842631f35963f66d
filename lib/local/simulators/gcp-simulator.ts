/**
 * A Google Cloud Marketplace (integrated SaaS) simulator for local runs and integration tests:
 * one node:http server on 127.0.0.1 playing Google's side of the integration.
 *
 * - Partner Procurement API v1 (REST JSON under `/v1/providers/{providerId}/`): accounts (get,
 *   list, approve, reject, reset) and entitlements (get, list with a filter, patch of
 *   messageToUser, approve, reject, approvePlanChange, rejectPlanChange). Errors are Google's
 *   `{"error":{"code","message","status"}}`; a Bearer token is required but not checked.
 * - Tokens: one RS256 key pair, published as JWKS both where Google publishes its OIDC keys
 *   (`/oauth2/v3/certs`) and where it publishes the Marketplace service account's keys
 *   (`/service_accounts/v1/jwk/cloud-commerce-partner@system.gserviceaccount.com`). Pub/Sub
 *   push requests carry an OIDC token; sign-up requests carry an `x-gcp-marketplace-token`.
 *   A second ("attacker") key pair signs tokens that must not verify.
 * - Marketplace events: every state change that Google announces is published as a Pub/Sub
 *   message. Each message is pushed to the configured push endpoint (with bounded retries) and
 *   kept for pull at the Pub/Sub REST API (`…/subscriptions/{sub}:pull` / `:acknowledge`), where
 *   an unacknowledged message comes back after the ack deadline.
 * - The buyer's side (purchase, plan change, cancellation, suspension, offer end, renewal, and a
 *   clock-driven `advance` for future-dated changes) is driven in process or over `/_sim/*`,
 *   whose errors are `{"error":{"code","message","details"}}` like the other simulators.
 *
 * State is a zod-validated seed document (providers, accounts, entitlements, ackDeadlineMs).
 * Faults (push-token and delivery faults, API throttling and server errors) are consumed in the
 * order they were injected. Methods that publish resolve once the push attempts of the messages
 * they published are over, so tests see deliveries deterministically.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose';
import { z } from 'zod';
import { createGcpMeteringSimulator, type GcpMeteringSimulator } from './gcp-metering-simulator';
import { createGcpOfferSimulator, type GcpOfferSimulator } from './gcp-offer-simulator';
import { readBoundedBody } from './sim-http';

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/** Request bodies above this are refused. */
export const GCP_SIM_BODY_BYTES_MAX = 1024 * 1024;
/** An oversized body is read and dropped up to this, then the connection is cut. */
export const GCP_SIM_DRAIN_BYTES_MAX = 8 * GCP_SIM_BODY_BYTES_MAX;
/** The API calls log keeps the newest entries only. */
export const GCP_SIM_CALLS_MAX = 10_000;
/** A call input larger than this is logged as a placeholder, so the log stays bounded. */
export const GCP_SIM_CALL_INPUT_BYTES_MAX = 64 * 1024;
/** Published messages kept (for pull and for `published()`); the oldest go first. */
export const GCP_SIM_MESSAGES_MAX = 10_000;
/** Push delivery attempts kept in the log; the oldest go first. */
export const GCP_SIM_PUSH_DELIVERIES_MAX = 10_000;
/** Pull subscriptions tracked at once (any name is accepted and created on first use). */
export const GCP_SIM_SUBSCRIPTIONS_MAX = 100;
/** Pending faults at once. */
export const GCP_SIM_FAULTS_MAX = 100;
/** How many calls or messages one fault may affect. */
export const GCP_SIM_FAULT_TIMES_MAX = 10_000;
/** Providers, accounts and entitlements each. */
export const GCP_SIM_STATE_ITEMS_MAX = 10_000;
/** Approvals per account, consumers per entitlement, properties per map. */
export const GCP_SIM_LIST_ITEMS_MAX = 1_000;
/** Any string in the seed or a request. */
export const GCP_SIM_TEXT_CHARS_MAX = 4_096;

/** How many times one message is pushed before the simulator gives up (Google retries on). */
export const GCP_SIM_PUSH_ATTEMPTS_MAX = 3;
/** Pause between push attempts of one message. */
export const GCP_SIM_PUSH_RETRY_DELAY_MS = 25;
/** A push request that has not answered after this counts as failed. */
export const GCP_SIM_PUSH_TIMEOUT_MS = 5_000;
/** Pub/Sub's default ack deadline (10 s); `ackDeadlineMs` in the state overrides it. */
export const GCP_SIM_ACK_DEADLINE_MS_DEFAULT = 10_000;
/** Pub/Sub's maximum ack deadline (600 s). */
export const GCP_SIM_ACK_DEADLINE_MS_MAX = 600_000;
/** Pub/Sub pull: maxMessages above this is answered with at most this many. */
export const PUBSUB_PULL_MESSAGES_MAX = 1_000;
/** Pub/Sub acknowledge: ackIds per request. */
export const PUBSUB_ACK_IDS_MAX = 2_500;

/** ListEntitlements documents a default page size of 200. */
export const PROCUREMENT_PAGE_SIZE_DEFAULT = 200;
/**
 * unverified: the Procurement API's maximum page size is not documented; larger pageSize values
 * are coerced down to this (AIP-158 behaviour).
 */
export const PROCUREMENT_PAGE_SIZE_MAX = 1_000;
/** Approve/reject reasons are truncated to 256 bytes (documented). */
export const PROCUREMENT_REASON_BYTES_MAX = 256;

/** Pub/Sub push OIDC tokens live an hour. */
export const GCP_SIM_PUSH_TOKEN_TTL_S = 3_600;
/** Marketplace sign-up tokens live five minutes. */
export const GCP_SIM_SIGNUP_TOKEN_TTL_S = 300;

// ---------------------------------------------------------------------------------------------
// Google's names
// ---------------------------------------------------------------------------------------------

/** `iss` of Pub/Sub push OIDC tokens. */
export const GOOGLE_OIDC_ISSUER = 'https://accounts.google.com';
/** Where Google publishes its OIDC signing keys (JWKS). */
export const GOOGLE_OIDC_JWKS_PATH = '/oauth2/v3/certs';
/** The Marketplace service account that signs sign-up tokens. */
export const MARKETPLACE_SIGNUP_SERVICE_ACCOUNT =
  'cloud-commerce-partner@system.gserviceaccount.com';
/** `iss` of sign-up tokens: the X.509 certificate URL of that service account. */
export const MARKETPLACE_SIGNUP_ISSUER = `https://www.googleapis.com/robot/v1/metadata/x509/${MARKETPLACE_SIGNUP_SERVICE_ACCOUNT}`;
/**
 * unverified: as the sign-up verification source. Google documents the x509 URL in `iss`; it
 * also publishes every service account's public keys as JWKS at this path, which the simulator
 * serves (it does not serve X.509 certificates).
 */
export const MARKETPLACE_SIGNUP_JWKS_PATH = `/service_accounts/v1/jwk/${MARKETPLACE_SIGNUP_SERVICE_ACCOUNT}`;

export const ACCOUNT_STATES = ['ACCOUNT_ACTIVATION_REQUESTED', 'ACCOUNT_ACTIVE'] as const;
export type GcpAccountState = (typeof ACCOUNT_STATES)[number];
export const APPROVAL_STATES = ['PENDING', 'APPROVED', 'REJECTED'] as const;
export type GcpApprovalState = (typeof APPROVAL_STATES)[number];
/** EntitlementState values of the Procurement API discovery document. */
export const ENTITLEMENT_STATES = [
  'ENTITLEMENT_STATE_UNSPECIFIED',
  'ENTITLEMENT_ACTIVATION_REQUESTED',
  'ENTITLEMENT_ACTIVE',
  'ENTITLEMENT_PENDING_CANCELLATION',
  'ENTITLEMENT_CANCELLED',
  'ENTITLEMENT_PENDING_PLAN_CHANGE',
  'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL',
  'ENTITLEMENT_SUSPENDED',
] as const;
export type GcpEntitlementState = (typeof ENTITLEMENT_STATES)[number];

export const GCP_EVENT_TYPES = [
  'ACCOUNT_ACTIVE',
  'ACCOUNT_DELETED',
  'ENTITLEMENT_CREATION_REQUESTED',
  'ENTITLEMENT_OFFER_ACCEPTED',
  'ENTITLEMENT_ACTIVE',
  'ENTITLEMENT_RENEWED',
  'ENTITLEMENT_PLAN_CHANGE_REQUESTED',
  'ENTITLEMENT_PLAN_CHANGED',
  'ENTITLEMENT_PLAN_CHANGE_CANCELLED',
  'ENTITLEMENT_PENDING_CANCELLATION',
  'ENTITLEMENT_CANCELLATION_REVERTED',
  'ENTITLEMENT_CANCELLED',
  'ENTITLEMENT_OFFER_ENDED',
  'ENTITLEMENT_SUSPENDED',
] as const;
export type GcpEventType = (typeof GCP_EVENT_TYPES)[number];

/** Procurement API methods, named as in the API's RPCs. */
export const PROCUREMENT_METHODS = [
  'GetAccount',
  'ListAccounts',
  'ApproveAccount',
  'RejectAccount',
  'ResetAccount',
  'GetEntitlement',
  'ListEntitlements',
  'PatchEntitlement',
  'ApproveEntitlement',
  'RejectEntitlement',
  'ApproveEntitlementPlanChange',
  'RejectEntitlementPlanChange',
] as const;
/** Pub/Sub subscriber methods. */
export const PUBSUB_METHODS = ['Pull', 'Acknowledge'] as const;
export const GCP_API_METHODS = [...PROCUREMENT_METHODS, ...PUBSUB_METHODS] as const;
export type GcpApiMethod = (typeof GCP_API_METHODS)[number];

export const GCP_PUSH_FAULT_KINDS = [
  'duplicate',
  'reorder',
  'bad-signature',
  'wrong-audience',
  'wrong-email',
  'no-token',
  'expired-token',
  'malformed-data',
] as const;
export type GcpPushFaultKind = (typeof GCP_PUSH_FAULT_KINDS)[number];
export const GCP_API_FAULT_KINDS = ['throttle', 'server-error'] as const;
export type GcpApiFaultKind = (typeof GCP_API_FAULT_KINDS)[number];

// ---------------------------------------------------------------------------------------------
// Seed / state schemas
// ---------------------------------------------------------------------------------------------

const Text = z.string().max(GCP_SIM_TEXT_CHARS_MAX);
const RequiredText = Text.min(1);
const IsoInstant = z.iso.datetime({ offset: true });
/** Provider, account and entitlement ids: one path segment. */
const ResourceId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._~-]*$/, 'must be [A-Za-z0-9._~-]+, starting alphanumeric');
const list = <T extends z.ZodType>(item: T) => z.array(item).max(GCP_SIM_LIST_ITEMS_MAX);
const StringMap = z
  .record(z.string().max(256), Text)
  .refine((m) => Object.keys(m).length <= GCP_SIM_LIST_ITEMS_MAX, {
    message: `at most ${GCP_SIM_LIST_ITEMS_MAX} properties`,
  });

export const GcpProviderSchema = z.strictObject({
  providerId: ResourceId,
  /** `aud` of sign-up tokens for this provider (the seller's sign-up domain or URL). */
  signupAudience: RequiredText,
});
export type GcpProvider = z.infer<typeof GcpProviderSchema>;

export const GcpApprovalSchema = z.strictObject({
  name: RequiredText,
  state: z.enum(APPROVAL_STATES),
  reason: Text.optional(),
  updateTime: IsoInstant.optional(),
});
export type GcpApproval = z.infer<typeof GcpApprovalSchema>;

export const GcpAccountSchema = z.strictObject({
  providerId: ResourceId,
  id: ResourceId,
  state: z.enum(ACCOUNT_STATES),
  approvals: list(GcpApprovalSchema),
  inputProperties: z.record(z.string().max(256), z.unknown()).optional(),
  createTime: IsoInstant,
  updateTime: IsoInstant,
});
export type GcpAccount = z.infer<typeof GcpAccountSchema>;

export const GcpEntitlementSchema = z.strictObject({
  providerId: ResourceId,
  id: ResourceId,
  accountId: ResourceId,
  product: RequiredText,
  productExternalName: Text.optional(),
  plan: Text.optional(),
  state: z.enum(ENTITLEMENT_STATES),
  usageReportingId: Text.optional(),
  offer: Text.optional(),
  offerDuration: Text.optional(),
  offerEndTime: IsoInstant.optional(),
  newPendingPlan: Text.optional(),
  newPendingOffer: Text.optional(),
  newOfferStartTime: IsoInstant.optional(),
  newOfferEndTime: IsoInstant.optional(),
  subscriptionEndTime: IsoInstant.optional(),
  cancellationReason: Text.optional(),
  messageToUser: Text.optional(),
  orderId: Text.optional(),
  consumers: list(z.strictObject({ project: RequiredText })).optional(),
  createTime: IsoInstant,
  updateTime: IsoInstant,
  /**
   * Simulator only (never on the wire): the start time the buyer asked for with a plan change.
   * Google leaves newOfferStartTime empty while the change awaits approval and fills it in once
   * it is approved with a future start.
   */
  requestedNewOfferStartTime: IsoInstant.optional(),
});
export type GcpEntitlement = z.infer<typeof GcpEntitlementSchema>;

export const GcpSimulatorStateSchema = z
  .strictObject({
    providers: z.array(GcpProviderSchema).max(GCP_SIM_STATE_ITEMS_MAX),
    accounts: z.array(GcpAccountSchema).max(GCP_SIM_STATE_ITEMS_MAX),
    entitlements: z.array(GcpEntitlementSchema).max(GCP_SIM_STATE_ITEMS_MAX),
    /** How long a pulled message stays leased before it is redelivered (simulator clock). */
    ackDeadlineMs: z.number().int().min(0).max(GCP_SIM_ACK_DEADLINE_MS_MAX),
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
    // Ids are unique across providers, so /_sim/entitlements/{id} needs no provider.
    duplicates(
      state.providers.map((p) => p.providerId),
      'providers',
      'providerId',
    );
    duplicates(
      state.accounts.map((a) => a.id),
      'accounts',
      'account id',
    );
    duplicates(
      state.entitlements.map((e) => e.id),
      'entitlements',
      'entitlement id',
    );
    const providers = new Set(state.providers.map((p) => p.providerId));
    state.accounts.forEach((account, index) => {
      if (!providers.has(account.providerId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', index, 'providerId'],
          message: `unknown provider ${account.providerId}`,
        });
      }
    });
    const accounts = new Map(state.accounts.map((a) => [a.id, a.providerId]));
    state.entitlements.forEach((entitlement, index) => {
      if (accounts.get(entitlement.accountId) !== entitlement.providerId) {
        ctx.addIssue({
          code: 'custom',
          path: ['entitlements', index, 'accountId'],
          message: `no account ${entitlement.accountId} under provider ${entitlement.providerId}`,
        });
      }
    });
  });
export type GcpSimulatorState = z.infer<typeof GcpSimulatorStateSchema>;

/**
 * The next `times` calls of an API method ('*' = any API method) fail, or the next `times`
 * published messages are pushed wrongly (target 'push'):
 * - throttle: 429 RESOURCE_EXHAUSTED; server-error: 500 INTERNAL
 * - duplicate: the message is pushed twice; reorder: held back and pushed after the next one
 * - bad-signature: token signed by another key under the real kid; wrong-audience, wrong-email,
 *   expired-token: one claim wrong; no-token: no Authorization header
 * - malformed-data: a valid token, but `message.data` is not base64 of JSON
 */
export const GcpSimFaultSchema = z
  .strictObject({
    target: z.enum(['push', '*', ...GCP_API_METHODS]),
    kind: z.enum([...GCP_PUSH_FAULT_KINDS, ...GCP_API_FAULT_KINDS]),
    times: z.number().int().min(1).max(GCP_SIM_FAULT_TIMES_MAX),
  })
  .superRefine((fault, ctx) => {
    const pushKind = (GCP_PUSH_FAULT_KINDS as readonly string[]).includes(fault.kind);
    if ((fault.target === 'push') !== pushKind) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message:
          fault.target === 'push'
            ? `push faults are ${GCP_PUSH_FAULT_KINDS.join(', ')}`
            : `API faults are ${GCP_API_FAULT_KINDS.join(', ')}`,
      });
    }
  });
export type GcpSimFault = z.infer<typeof GcpSimFaultSchema>;

export const GcpPushTargetSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** `aud` of the OIDC token (what the push subscription is configured with). */
  audience: RequiredText,
  /** `email` of the OIDC token: the push subscription's service account. */
  serviceAccountEmail: z.email(),
  /** `projects/{project}/subscriptions/{subscription}` */
  subscription: z
    .string()
    .regex(/^projects\/[^/]+\/subscriptions\/[^/]+$/, 'must be projects/{p}/subscriptions/{s}'),
});
export type GcpPushTarget = z.infer<typeof GcpPushTargetSchema>;

export const GcpPurchaseInputSchema = z.strictObject({
  providerId: ResourceId,
  product: RequiredText,
  plan: RequiredText,
  /** An existing account is reused; a new one is created with a PENDING 'signup' approval. */
  accountId: ResourceId.optional(),
  entitlementId: ResourceId.optional(),
  offer: Text.optional(),
  offerDuration: Text.optional(),
  offerEndTime: IsoInstant.optional(),
  usageReportingId: Text.optional(),
});
export type GcpPurchaseInput = z.infer<typeof GcpPurchaseInputSchema>;

export const GcpPlanChangeInputSchema = z.strictObject({
  plan: RequiredText,
  newOfferStartTime: IsoInstant.optional(),
});
export type GcpPlanChangeInput = z.infer<typeof GcpPlanChangeInputSchema>;
export const GcpCancelInputSchema = z.strictObject({ immediate: z.boolean().optional() });
export type GcpCancelInput = z.infer<typeof GcpCancelInputSchema>;
export const GcpEndOfferInputSchema = z.strictObject({ continue: z.boolean().optional() });
export type GcpEndOfferInput = z.infer<typeof GcpEndOfferInputSchema>;
export const GcpRenewInputSchema = z.strictObject({ offerEndTime: IsoInstant.optional() });
export type GcpRenewInput = z.infer<typeof GcpRenewInputSchema>;
export const GcpSignupTokenInputSchema = z.strictObject({
  accountId: ResourceId,
  audience: RequiredText.optional(),
});
export type GcpSignupTokenInput = z.infer<typeof GcpSignupTokenInputSchema>;

/** A raw event, published as is (no state change): for ACCOUNT_DELETED, OFFER_ACCEPTED, replays. */
export const GcpPublishInputSchema = z
  .strictObject({
    providerId: ResourceId,
    eventType: z.enum(GCP_EVENT_TYPES),
    accountId: ResourceId.optional(),
    entitlementId: ResourceId.optional(),
    newPlan: RequiredText.optional(),
    newOfferStartTime: IsoInstant.optional(),
  })
  .superRefine((input, ctx) => {
    const accountEvent = input.eventType.startsWith('ACCOUNT_');
    if (accountEvent ? input.accountId === undefined : input.entitlementId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [accountEvent ? 'accountId' : 'entitlementId'],
        message: `${input.eventType} needs ${accountEvent ? 'accountId' : 'entitlementId'}`,
      });
    }
  });
export type GcpPublishInput = z.infer<typeof GcpPublishInputSchema>;

// ---------------------------------------------------------------------------------------------
// Wire shapes and the simulator's interface
// ---------------------------------------------------------------------------------------------

export interface GcpApprovalWire {
  readonly name: string;
  readonly state: GcpApprovalState;
  readonly reason?: string;
  readonly updateTime?: string;
}

/** An Account as the Procurement API answers it (empty members omitted, as in proto3 JSON). */
export interface GcpAccountWire {
  readonly name: string;
  readonly provider: string;
  readonly state: GcpAccountState;
  readonly approvals?: ReadonlyArray<GcpApprovalWire>;
  readonly inputProperties?: Readonly<Record<string, unknown>>;
  readonly createTime: string;
  readonly updateTime: string;
}

/** An Entitlement as the Procurement API answers it. */
export interface GcpEntitlementWire {
  readonly name: string;
  readonly account: string;
  readonly provider: string;
  readonly product: string;
  readonly productExternalName?: string;
  readonly plan?: string;
  readonly state: GcpEntitlementState;
  readonly usageReportingId?: string;
  readonly offer?: string;
  readonly offerDuration?: string;
  readonly offerEndTime?: string;
  readonly newPendingPlan?: string;
  readonly newPendingOffer?: string;
  readonly newOfferStartTime?: string;
  readonly newOfferEndTime?: string;
  readonly subscriptionEndTime?: string;
  readonly cancellationReason?: string;
  readonly messageToUser?: string;
  readonly orderId?: string;
  readonly consumers?: ReadonlyArray<{ readonly project: string }>;
  readonly createTime: string;
  readonly updateTime: string;
}

/** The JSON inside a Marketplace Pub/Sub message's `data`. */
export interface GcpMarketplaceEvent {
  readonly eventId: string;
  readonly eventType: GcpEventType;
  readonly providerId: string;
  readonly entitlement?: {
    readonly id: string;
    readonly updateTime: string;
    readonly newPlan?: string;
    readonly newOfferStartTime?: string;
  };
  readonly account?: { readonly id: string; readonly updateTime: string };
}

export interface GcpPublishedMessage {
  readonly messageId: string;
  readonly publishTime: string;
  /** base64 of the event's JSON: what travels in `message.data`. */
  readonly data: string;
  readonly event: GcpMarketplaceEvent;
}

/** The body of a Pub/Sub push request. */
export interface GcpPushBody {
  readonly message: {
    readonly data: string;
    readonly messageId: string;
    readonly message_id: string;
    readonly publishTime: string;
    readonly publish_time: string;
    readonly attributes: Readonly<Record<string, string>>;
  };
  readonly subscription: string;
}

/** One push attempt. */
export interface GcpPushDelivery {
  readonly messageId: string;
  readonly eventType: GcpEventType;
  /** 1 for the first attempt of this copy of the message. */
  readonly attempt: number;
  /** The push fault applied to this delivery, if any. */
  readonly fault: GcpPushFaultKind | null;
  readonly url: string;
  readonly subscription: string;
  /** The Authorization header sent (null: none). */
  readonly authorization: string | null;
  readonly body: GcpPushBody;
  /** The endpoint's HTTP status, or null when the request failed. */
  readonly status: number | null;
  readonly error: string | null;
  /** A 2xx answer acknowledges the message. */
  readonly acked: boolean;
  /** Simulator clock, ISO. */
  readonly at: string;
}

export interface GcpSimCall {
  readonly method: GcpApiMethod;
  readonly path: string;
  /** The JSON body of a POST/PATCH, the query parameters of a GET. */
  readonly input: unknown;
}

export interface GcpBuyerActionResult {
  readonly entitlement: GcpEntitlementWire;
  /** In publishing order. */
  readonly published: ReadonlyArray<GcpPublishedMessage>;
}

export interface GcpPurchaseResult {
  readonly accountId: string;
  readonly entitlementId: string;
  /** A sign-up token for the account, as the buyer's browser would post it. */
  readonly signupToken: string;
  readonly published: ReadonlyArray<GcpPublishedMessage>;
}

export interface GcpAdvanceResult {
  /** Entitlements whose pending change took effect. */
  readonly changed: ReadonlyArray<string>;
  readonly published: ReadonlyArray<GcpPublishedMessage>;
}

export interface GcpTokenOverrides {
  /** Laid over the default claims; a claim set to `undefined` is removed. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Header kid (default: the simulator key's kid). */
  readonly kid?: string;
  /** 'attacker' signs with the other key pair (under the same kid): the signature fails. */
  readonly signer?: 'google' | 'attacker';
  /** iat (default: the simulator clock). */
  readonly issuedAt?: Date;
  /** exp − iat in seconds; negative gives an already expired token. */
  readonly ttlSeconds?: number;
}

export interface GcpPushTokenOverrides extends GcpTokenOverrides {
  /** Default: the push target's audience. */
  readonly audience?: string;
  /** Default: the push target's service account. */
  readonly email?: string;
}

export interface GcpSignupTokenOverrides extends GcpTokenOverrides {
  /** `sub`: the procurement account id (need not exist). */
  readonly accountId: string;
  /** Default: the signupAudience of the account's provider. */
  readonly audience?: string;
}

export interface GcpSimulator {
  readonly url: string;
  readonly port: number;
  /** Private offers and read-only products (Commerce Producer API v1beta), see gcp-offer-simulator.ts. */
  readonly offers: GcpOfferSimulator;
  /** Usage reporting (Service Control API v1), see gcp-metering-simulator.ts. */
  readonly metering: GcpMeteringSimulator;
  /** JWKS of Pub/Sub push OIDC tokens. */
  readonly oidcJwksUrl: string;
  /** JWKS of sign-up tokens. */
  readonly signupJwksUrl: string;
  /** A copy of the state document as it is now. */
  state(): GcpSimulatorState;
  /** Replaces providers, accounts, entitlements and ackDeadlineMs; logs, messages and faults stay. */
  setState(state: GcpSimulatorState): void;
  /** null stops pushing. */
  setPushTarget(target: GcpPushTarget | null): void;
  purchase(input: GcpPurchaseInput): Promise<GcpPurchaseResult>;
  requestPlanChange(
    entitlementId: string,
    input: GcpPlanChangeInput,
  ): Promise<GcpBuyerActionResult>;
  cancel(entitlementId: string, input?: GcpCancelInput): Promise<GcpBuyerActionResult>;
  revertCancellation(entitlementId: string): Promise<GcpBuyerActionResult>;
  suspend(entitlementId: string): Promise<GcpBuyerActionResult>;
  endOffer(entitlementId: string, input?: GcpEndOfferInput): Promise<GcpBuyerActionResult>;
  renew(entitlementId: string, input?: GcpRenewInput): Promise<GcpBuyerActionResult>;
  /** Applies pending future-dated changes whose time has come on the simulator clock. */
  advance(): Promise<GcpAdvanceResult>;
  /** Publishes one event as given, without touching the state. */
  publishEvent(input: GcpPublishInput): Promise<GcpPublishedMessage>;
  /** A sign-up token for an existing account (audience: its provider's unless given). */
  signupToken(input: GcpSignupTokenInput): Promise<string>;
  mintPushToken(overrides?: GcpPushTokenOverrides): Promise<string>;
  mintSignupToken(overrides: GcpSignupTokenOverrides): Promise<string>;
  injectFault(fault: GcpSimFault): void;
  clearFaults(): void;
  pushDeliveries(): ReadonlyArray<GcpPushDelivery>;
  published(): ReadonlyArray<GcpPublishedMessage>;
  calls(): ReadonlyArray<GcpSimCall>;
  /** Forgets published messages, pull subscriptions, push deliveries, held pushes and calls. */
  clearHistory(): void;
  /** Pushes messages a `reorder` fault is holding back. */
  flushHeldPushes(): Promise<void>;
  /** Resolves when no push is queued or in flight (pushes caused by API calls run behind). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface GcpSimulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly state?: GcpSimulatorState;
  /** The simulator clock: timestamps, token times, ack deadlines, `advance`. */
  readonly now?: () => Date;
}

/**
 * Bad input to the in-process API or the `/_sim/*` endpoints: 400 validation_failed,
 * 404 not_found or 409 failed_precondition over HTTP.
 */
export class GcpSimulatorInputError extends Error {
  readonly status: 400 | 404 | 409;
  readonly code: 'validation_failed' | 'not_found' | 'failed_precondition';
  readonly details: ReadonlyArray<{ readonly path: string; readonly message: string }>;
  constructor(
    message: string,
    details: ReadonlyArray<{ readonly path: string; readonly message: string }> = [],
    status: 400 | 404 | 409 = 400,
  ) {
    super(message);
    this.name = 'GcpSimulatorInputError';
    this.status = status;
    this.code =
      status === 404 ? 'not_found' : status === 409 ? 'failed_precondition' : 'validation_failed';
    this.details = details;
  }
}

// ---------------------------------------------------------------------------------------------
// Google API errors
// ---------------------------------------------------------------------------------------------

/** An error answered as `{"error":{"code","message","status"}}`. */
class GoogleApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

const googleErrors = {
  unauthenticated: () =>
    new GoogleApiError(
      401,
      'UNAUTHENTICATED',
      'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    ),
  invalidArgument: (message: string) => new GoogleApiError(400, 'INVALID_ARGUMENT', message),
  failedPrecondition: (message: string) => new GoogleApiError(400, 'FAILED_PRECONDITION', message),
  notFound: (message: string) => new GoogleApiError(404, 'NOT_FOUND', message),
  // unverified: the answer for a provider the caller has no access to (403 assumed).
  permissionDenied: (message: string) => new GoogleApiError(403, 'PERMISSION_DENIED', message),
  throttled: () =>
    new GoogleApiError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded (simulated fault)'),
  internal: () => new GoogleApiError(500, 'INTERNAL', 'Internal error encountered. (simulated)'),
};

// ---------------------------------------------------------------------------------------------
// API request inputs (strict: Google rejects unknown JSON names)
// ---------------------------------------------------------------------------------------------

const ReasonInput = z.string().max(GCP_SIM_TEXT_CHARS_MAX);
const ApproveAccountBody = z.strictObject({
  approvalName: z.string().max(256).optional(),
  reason: ReasonInput.optional(),
  properties: StringMap.optional(),
});
const RejectAccountBody = z.strictObject({
  approvalName: z.string().max(256).optional(),
  reason: ReasonInput.optional(),
});
const ResetAccountBody = z.strictObject({});
const ApproveEntitlementBody = z.strictObject({
  properties: StringMap.optional(),
  entitlementMigrated: z.string().max(512).optional(),
});
const RejectEntitlementBody = z.strictObject({ reason: ReasonInput.optional() });
const ApprovePlanChangeBody = z.strictObject({ pendingPlanName: z.string().max(256).optional() });
const RejectPlanChangeBody = z.strictObject({
  pendingPlanName: z.string().max(256).optional(),
  reason: ReasonInput.optional(),
});
/** A PATCH body is an Entitlement: any of its member names, only messageToUser is applied. */
const ENTITLEMENT_WIRE_MEMBERS = [
  'name',
  'account',
  'provider',
  'product',
  'productExternalName',
  'quoteExternalName',
  'plan',
  'state',
  'usageReportingId',
  'offer',
  'offerDuration',
  'offerEndTime',
  'newPendingPlan',
  'newPendingOffer',
  'newPendingOfferDuration',
  'newOfferStartTime',
  'newOfferEndTime',
  'subscriptionEndTime',
  'cancellationReason',
  'orderId',
  'consumers',
  'inputProperties',
  'entitlementBenefitIds',
  'createTime',
  'updateTime',
] as const;
const PatchEntitlementBody = z.strictObject({
  ...Object.fromEntries(ENTITLEMENT_WIRE_MEMBERS.map((m) => [m, z.unknown().optional()])),
  messageToUser: Text.optional(),
});
const PullBody = z.strictObject({
  maxMessages: z.number().int().min(1),
  returnImmediately: z.boolean().optional(),
});
const AcknowledgeBody = z.strictObject({
  ackIds: z.array(z.string().min(1).max(1_024)).min(1).max(PUBSUB_ACK_IDS_MAX),
});

/** System parameters every Google REST API accepts (and the simulator ignores). */
const SYSTEM_QUERY_PARAMETERS = new Set([
  '$.xgafv',
  'access_token',
  'alt',
  'callback',
  'fields',
  'key',
  'oauth_token',
  'prettyPrint',
  'quotaUser',
  'upload_protocol',
  'uploadType',
]);
const METHOD_QUERY_PARAMETERS: Partial<Record<GcpApiMethod, readonly string[]>> = {
  GetAccount: ['view'],
  ListAccounts: ['pageSize', 'pageToken', 'view'],
  ListEntitlements: ['pageSize', 'pageToken', 'filter'],
  PatchEntitlement: ['updateMask'],
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function describeIssues(what: string, error: z.ZodError): GcpSimulatorInputError {
  const details = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new GcpSimulatorInputError(
    `Invalid ${what}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'invalid'}${more}`,
    details,
  );
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw describeIssues(what, result.error);
  return result.data;
}

/** Google's wording for a JSON member it does not know, else the first issue. */
function parseApiBody<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw googleErrors.invalidArgument(
      `Invalid JSON payload received. Unknown name "${issue.keys[0] ?? ''}": Cannot find field.`,
    );
  }
  const path = issue?.path.map(String).join('.') || 'body';
  throw googleErrors.invalidArgument(`Invalid value at '${path}': ${issue?.message ?? 'invalid'}`);
}

/** Truncates to at most `max` UTF-8 bytes without splitting a character. */
function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > max) break;
    out += char;
    bytes += size;
  }
  return out;
}

/** A stable numeric id (Google's 21-digit user / service-account ids) derived from a seed. */
function numericId(seed: string): string {
  const digest = createHash('sha256').update(seed).digest('hex').slice(0, 24);
  return (BigInt(`0x${digest}`) % 10n ** 21n).toString().padStart(21, '1');
}

/** Adds an ISO 8601 duration of whole years/months/weeks/days (P1Y, P12M, P2Y3M, P30D). */
function addDuration(iso: string, duration: string): string | null {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(duration);
  if (match === null || duration === 'P') return null;
  const date = new Date(iso);
  const [, years, months, weeks, days] = match;
  date.setUTCFullYear(date.getUTCFullYear() + Number(years ?? 0));
  date.setUTCMonth(date.getUTCMonth() + Number(months ?? 0));
  date.setUTCDate(date.getUTCDate() + 7 * Number(weeks ?? 0) + Number(days ?? 0));
  return date.toISOString();
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function accountName(a: { providerId: string; id: string }): string {
  return `providers/${a.providerId}/accounts/${a.id}`;
}

function entitlementName(e: { providerId: string; id: string }): string {
  return `providers/${e.providerId}/entitlements/${e.id}`;
}

function accountWire(a: GcpAccount): GcpAccountWire {
  return dropUndefined({
    name: accountName(a),
    provider: a.providerId,
    state: a.state,
    approvals: a.approvals.length === 0 ? undefined : a.approvals.map((x) => dropUndefined(x)),
    inputProperties:
      a.inputProperties === undefined || Object.keys(a.inputProperties).length === 0
        ? undefined
        : a.inputProperties,
    createTime: a.createTime,
    updateTime: a.updateTime,
  }) as GcpAccountWire;
}

function entitlementWire(e: GcpEntitlement): GcpEntitlementWire {
  return dropUndefined({
    name: entitlementName(e),
    account: accountName({ providerId: e.providerId, id: e.accountId }),
    provider: e.providerId,
    product: e.product,
    productExternalName: e.productExternalName,
    plan: e.plan,
    state: e.state,
    usageReportingId: e.usageReportingId,
    offer: e.offer,
    offerDuration: e.offerDuration,
    offerEndTime: e.offerEndTime,
    newPendingPlan: e.newPendingPlan,
    newPendingOffer: e.newPendingOffer,
    newOfferStartTime: e.newOfferStartTime,
    newOfferEndTime: e.newOfferEndTime,
    subscriptionEndTime: e.subscriptionEndTime,
    cancellationReason: e.cancellationReason,
    messageToUser: e.messageToUser,
    orderId: e.orderId,
    consumers: e.consumers === undefined || e.consumers.length === 0 ? undefined : e.consumers,
    createTime: e.createTime,
    updateTime: e.updateTime,
  }) as GcpEntitlementWire;
}

type PendingMember =
  | 'newPendingPlan'
  | 'newPendingOffer'
  | 'newOfferStartTime'
  | 'newOfferEndTime'
  | 'requestedNewOfferStartTime';
const PENDING_MEMBERS: readonly PendingMember[] = [
  'newPendingPlan',
  'newPendingOffer',
  'newOfferStartTime',
  'newOfferEndTime',
  'requestedNewOfferStartTime',
];

function clearPending(e: GcpEntitlement): void {
  for (const member of PENDING_MEMBERS) delete e[member];
}

// ---------------------------------------------------------------------------------------------
// Paging and filtering
// ---------------------------------------------------------------------------------------------

function scopeHash(scope: unknown): string {
  return createHash('sha256').update(JSON.stringify(scope)).digest('hex').slice(0, 16);
}

function parsePageSize(raw: string | null): number {
  if (raw === null || raw === '') return PROCUREMENT_PAGE_SIZE_DEFAULT;
  if (!/^-?\d+$/.test(raw)) {
    throw googleErrors.invalidArgument(
      `Invalid value at 'page_size' (TYPE_INT32), "${raw.slice(0, 64)}"`,
    );
  }
  const size = Number(raw);
  if (size < 0) throw googleErrors.invalidArgument('page_size must not be negative');
  if (size === 0) return PROCUREMENT_PAGE_SIZE_DEFAULT;
  return Math.min(size, PROCUREMENT_PAGE_SIZE_MAX);
}

function paginate<T>(
  items: readonly T[],
  scope: unknown,
  pageSize: number,
  token: string | null,
): { page: T[]; nextPageToken: string | undefined } {
  let offset = 0;
  if (token !== null && token !== '') {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      throw googleErrors.invalidArgument('The page token is not valid');
    }
    const parsed = z.object({ h: z.string(), o: z.number().int().min(0) }).safeParse(decoded);
    if (!parsed.success || parsed.data.h !== scopeHash(scope)) {
      throw googleErrors.invalidArgument('The page token is not valid for this request');
    }
    offset = parsed.data.o;
  }
  const end = offset + pageSize;
  const nextPageToken =
    end < items.length
      ? Buffer.from(JSON.stringify({ h: scopeHash(scope), o: end })).toString('base64url')
      : undefined;
  return { page: items.slice(offset, end), nextPageToken };
}

/** The ListEntitlements filter attributes the simulator understands, by entitlement member. */
const FILTER_ATTRIBUTES: Record<string, (e: GcpEntitlement) => string | undefined> = {
  account: (e) => e.accountId,
  state: (e) => e.state,
  plan: (e) => e.plan,
  productExternalName: (e) => e.productExternalName,
  offer: (e) => e.offer,
  newPendingPlan: (e) => e.newPendingPlan,
  newPendingOffer: (e) => e.newPendingOffer,
};

/**
 * `attr=value` terms separated by spaces (or AND), all of which must hold. As documented, the
 * state match is case-insensitive and may omit the ENTITLEMENT_ prefix; `account` takes the
 * account id (a full account name is accepted too); values may be double-quoted.
 * unverified: Google also supports OR, NOT, `!=`, `:` and more attributes; the simulator refuses
 * them with INVALID_ARGUMENT rather than ignore them.
 */
function parseEntitlementFilter(filter: string): (e: GcpEntitlement) => boolean {
  const terms = filter.match(/[^\s"]+(?:"[^"]*")?[^\s"]*/g) ?? [];
  const predicates: Array<(e: GcpEntitlement) => boolean> = [];
  for (const term of terms) {
    if (term === 'AND') continue;
    const match = /^([A-Za-z_.]+)=(?:"([^"]*)"|([^"\s]+))$/.exec(term);
    if (match === null) {
      throw googleErrors.invalidArgument(
        `Invalid filter term "${term.slice(0, 64)}": the simulator supports attr=value terms joined by spaces`,
      );
    }
    const attribute = match[1] ?? '';
    const value = match[2] ?? match[3] ?? '';
    const read = FILTER_ATTRIBUTES[attribute];
    if (read === undefined) {
      throw googleErrors.invalidArgument(
        `Invalid filter attribute "${attribute}": the simulator supports ${Object.keys(FILTER_ATTRIBUTES).join(', ')}`,
      );
    }
    if (attribute === 'state') {
      const wanted = value.toUpperCase().startsWith('ENTITLEMENT_')
        ? value.toUpperCase()
        : `ENTITLEMENT_${value.toUpperCase()}`;
      if (!(ENTITLEMENT_STATES as readonly string[]).includes(wanted)) {
        throw googleErrors.invalidArgument(`Invalid entitlement state "${value.slice(0, 64)}"`);
      }
      predicates.push((e) => e.state === wanted);
    } else if (attribute === 'account') {
      const id = value.includes('/') ? value.slice(value.lastIndexOf('/') + 1) : value;
      predicates.push((e) => e.accountId === id);
    } else {
      predicates.push((e) => read(e) === value);
    }
  }
  return (e) => predicates.every((p) => p(e));
}

// ---------------------------------------------------------------------------------------------
// Keys and tokens
// ---------------------------------------------------------------------------------------------

interface KeyMaterial {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly attackerKey: CryptoKey;
  readonly jwks: { keys: JWK[] };
}

async function createKeyMaterial(): Promise<KeyMaterial> {
  const google = await generateKeyPair('RS256', { modulusLength: 2048 });
  const attacker = await generateKeyPair('RS256', { modulusLength: 2048 });
  const publicJwk = await exportJWK(google.publicKey);
  const kid = (await calculateJwkThumbprint(publicJwk)).slice(0, 40);
  return {
    kid,
    privateKey: google.privateKey,
    attackerKey: attacker.privateKey,
    jwks: { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] },
  };
}

async function signToken(
  keys: KeyMaterial,
  now: Date,
  defaults: Record<string, unknown>,
  defaultTtlSeconds: number,
  overrides: GcpTokenOverrides,
): Promise<string> {
  const iat = Math.floor((overrides.issuedAt ?? now).getTime() / 1000);
  const claims: Record<string, unknown> = {
    ...defaults,
    iat,
    exp: iat + (overrides.ttlSeconds ?? defaultTtlSeconds),
    ...overrides.claims,
  };
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) delete claims[name];
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: overrides.kid ?? keys.kid, typ: 'JWT' })
    .sign(overrides.signer === 'attacker' ? keys.attackerKey : keys.privateKey);
}

// ---------------------------------------------------------------------------------------------
// The simulated marketplace
// ---------------------------------------------------------------------------------------------

interface StoredFault {
  readonly target: GcpSimFault['target'];
  readonly kind: GcpSimFault['kind'];
  remaining: number;
}

interface LeaseState {
  acked: boolean;
  /** Deliveries so far; the current ackId carries this number. */
  deliveries: number;
  leaseUntilMs: number;
}

interface HeldPush {
  readonly message: GcpPublishedMessage;
  readonly target: GcpPushTarget;
}

const EMPTY_STATE: GcpSimulatorState = {
  providers: [],
  accounts: [],
  entitlements: [],
  ackDeadlineMs: GCP_SIM_ACK_DEADLINE_MS_DEFAULT,
};

class GcpMarketplaceModel {
  private current: GcpSimulatorState = structuredClone(EMPTY_STATE);
  private pushTarget: GcpPushTarget | null = null;
  private readonly faults: StoredFault[] = [];
  private readonly callLog: GcpSimCall[] = [];
  private readonly messages: GcpPublishedMessage[] = [];
  private readonly deliveries: GcpPushDelivery[] = [];
  /** Pull subscriptions: full name → message id → lease. */
  private readonly subscriptions = new Map<string, Map<string, LeaseState>>();
  private readonly held: HeldPush[] = [];
  /** Pushes run one at a time, in publishing order (faults aside). */
  private pushChain: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private nextMessageId: bigint;
  private closed = false;

  constructor(
    readonly clock: () => Date,
    private readonly keys: KeyMaterial,
  ) {
    // Pub/Sub message ids are decimal strings; start somewhere plausible.
    this.nextMessageId = 10_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9));
  }

  get jwks(): { keys: JWK[] } {
    return this.keys.jwks;
  }

  private nowIso(): string {
    return this.clock().toISOString();
  }

  // --- state -------------------------------------------------------------------------------

  state(): GcpSimulatorState {
    return structuredClone(this.current);
  }

  setState(state: GcpSimulatorState): void {
    this.current = structuredClone(parseOrThrow(GcpSimulatorStateSchema, state, 'state'));
  }

  setPushTarget(target: GcpPushTarget | null): void {
    this.pushTarget =
      target === null ? null : structuredClone(parseOrThrow(GcpPushTargetSchema, target, 'target'));
  }

  injectFault(fault: GcpSimFault): void {
    const parsed = parseOrThrow(GcpSimFaultSchema, fault, 'fault');
    if (this.faults.length >= GCP_SIM_FAULTS_MAX) {
      throw new GcpSimulatorInputError(`At most ${GCP_SIM_FAULTS_MAX} faults can be pending`);
    }
    this.faults.push({ target: parsed.target, kind: parsed.kind, remaining: parsed.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  calls(): ReadonlyArray<GcpSimCall> {
    return structuredClone(this.callLog);
  }

  published(): ReadonlyArray<GcpPublishedMessage> {
    return structuredClone(this.messages);
  }

  pushDeliveries(): ReadonlyArray<GcpPushDelivery> {
    return structuredClone(this.deliveries);
  }

  clearHistory(): void {
    this.callLog.length = 0;
    this.messages.length = 0;
    this.deliveries.length = 0;
    this.held.length = 0;
    this.subscriptions.clear();
  }

  recordCall(method: GcpApiMethod, path: string, input: unknown, inputBytes: number): void {
    if (this.callLog.length >= GCP_SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push({
      method,
      path,
      input:
        inputBytes > GCP_SIM_CALL_INPUT_BYTES_MAX
          ? { omitted: `input of ${inputBytes} bytes exceeds ${GCP_SIM_CALL_INPUT_BYTES_MAX}` }
          : input,
    });
  }

  private takeFault(
    matches: (target: StoredFault['target']) => boolean,
  ): StoredFault['kind'] | null {
    const index = this.faults.findIndex((f) => matches(f.target));
    const fault = this.faults[index];
    if (fault === undefined) return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault.kind;
  }

  takeApiFault(method: GcpApiMethod): void {
    const kind = this.takeFault((t) => t === method || t === '*');
    if (kind === 'throttle') throw googleErrors.throttled();
    if (kind === 'server-error') throw googleErrors.internal();
  }

  // --- lookups -----------------------------------------------------------------------------

  private provider(providerId: string): GcpProvider | undefined {
    return this.current.providers.find((p) => p.providerId === providerId);
  }

  private apiProvider(providerId: string): GcpProvider {
    const provider = this.provider(providerId);
    if (provider === undefined) {
      throw googleErrors.permissionDenied(
        `The caller does not have permission on providers/${providerId}`,
      );
    }
    return provider;
  }

  private apiAccount(providerId: string, id: string): GcpAccount {
    this.apiProvider(providerId);
    const account = this.current.accounts.find((a) => a.providerId === providerId && a.id === id);
    if (account === undefined) {
      throw googleErrors.notFound(`Account providers/${providerId}/accounts/${id} not found.`);
    }
    return account;
  }

  private apiEntitlement(providerId: string, id: string): GcpEntitlement {
    this.apiProvider(providerId);
    const entitlement = this.current.entitlements.find(
      (e) => e.providerId === providerId && e.id === id,
    );
    if (entitlement === undefined) {
      throw googleErrors.notFound(
        `Entitlement providers/${providerId}/entitlements/${id} not found.`,
      );
    }
    return entitlement;
  }

  private simEntitlement(id: string): GcpEntitlement {
    const entitlement = this.current.entitlements.find((e) => e.id === id);
    if (entitlement === undefined) {
      throw new GcpSimulatorInputError(`No entitlement ${id}`, [], 404);
    }
    return entitlement;
  }

  private touch(item: { updateTime: string }): void {
    item.updateTime = this.nowIso();
  }

  /** A state change; messageToUser is cleared whenever the state changes (documented). */
  private transition(e: GcpEntitlement, state: GcpEntitlementState): void {
    if (e.state !== state) delete e.messageToUser;
    e.state = state;
    this.touch(e);
  }

  // --- Procurement API: accounts -----------------------------------------------------------

  getAccount(providerId: string, id: string): GcpAccountWire {
    return accountWire(this.apiAccount(providerId, id));
  }

  listAccounts(providerId: string, query: URLSearchParams): object {
    this.apiProvider(providerId);
    const accounts = this.current.accounts.filter((a) => a.providerId === providerId);
    const { page, nextPageToken } = paginate(
      accounts,
      { method: 'ListAccounts', providerId },
      parsePageSize(query.get('pageSize')),
      query.get('pageToken'),
    );
    // proto3 JSON: an empty repeated member is left out.
    return dropUndefined({
      accounts: page.length === 0 ? undefined : page.map(accountWire),
      nextPageToken,
    });
  }

  /** The approval an approve/reject call names ('signup' when absent). */
  private approvalFor(account: GcpAccount, approvalName: string | undefined): GcpApproval {
    const name = approvalName === undefined || approvalName === '' ? 'signup' : approvalName;
    const approval = account.approvals.find((a) => a.name === name);
    if (approval === undefined) {
      // unverified: Google's answer for an approval name the account does not have.
      throw googleErrors.invalidArgument(
        `Account ${accountName(account)} has no approval named "${name}"`,
      );
    }
    return approval;
  }

  approveAccount(providerId: string, id: string, body: unknown): GcpPublishedMessage[] {
    const input = parseApiBody(ApproveAccountBody, body);
    const account = this.apiAccount(providerId, id);
    const approval = this.approvalFor(account, input.approvalName);
    const wasApproved = approval.state === 'APPROVED';
    const wasActive = account.state === 'ACCOUNT_ACTIVE';
    approval.state = 'APPROVED';
    if (input.reason !== undefined) {
      approval.reason = truncateBytes(input.reason, PROCUREMENT_REASON_BYTES_MAX);
    }
    approval.updateTime = this.nowIso();
    account.state = 'ACCOUNT_ACTIVE';
    this.touch(account);
    // unverified: whether approving an already approved account announces ACCOUNT_ACTIVE again;
    // the simulator announces only a change.
    if (wasApproved && wasActive) return [];
    return [this.publishAccountEvent('ACCOUNT_ACTIVE', account)];
  }

  rejectAccount(providerId: string, id: string, body: unknown): void {
    const input = parseApiBody(RejectAccountBody, body);
    const account = this.apiAccount(providerId, id);
    const approval = this.approvalFor(account, input.approvalName);
    approval.state = 'REJECTED';
    if (input.reason !== undefined) {
      approval.reason = truncateBytes(input.reason, PROCUREMENT_REASON_BYTES_MAX);
    } else {
      delete approval.reason;
    }
    approval.updateTime = this.nowIso();
    this.touch(account);
  }

  /**
   * Every approval back to PENDING.
   * unverified: Google documents that reset also cancels the account's entitlements and works
   * only on the partner's own (test) accounts; the simulator resets the approvals only.
   */
  resetAccount(providerId: string, id: string, body: unknown): void {
    parseApiBody(ResetAccountBody, body);
    const account = this.apiAccount(providerId, id);
    const time = this.nowIso();
    for (const approval of account.approvals) {
      approval.state = 'PENDING';
      delete approval.reason;
      approval.updateTime = time;
    }
    this.touch(account);
  }

  // --- Procurement API: entitlements -------------------------------------------------------

  getEntitlement(providerId: string, id: string): GcpEntitlementWire {
    return entitlementWire(this.apiEntitlement(providerId, id));
  }

  listEntitlements(providerId: string, query: URLSearchParams): object {
    this.apiProvider(providerId);
    const filter = query.get('filter') ?? '';
    const matches = parseEntitlementFilter(filter);
    const entitlements = this.current.entitlements.filter(
      (e) => e.providerId === providerId && matches(e),
    );
    const { page, nextPageToken } = paginate(
      entitlements,
      { method: 'ListEntitlements', providerId, filter },
      parsePageSize(query.get('pageSize')),
      query.get('pageToken'),
    );
    return dropUndefined({
      entitlements: page.length === 0 ? undefined : page.map(entitlementWire),
      nextPageToken,
    });
  }

  patchEntitlement(
    providerId: string,
    id: string,
    query: URLSearchParams,
    body: unknown,
  ): GcpEntitlementWire {
    const input = parseApiBody(PatchEntitlementBody, body);
    const entitlement = this.apiEntitlement(providerId, id);
    const mask = query.get('updateMask');
    if (mask === null || mask === '') {
      // unverified: AIP-134 would treat a missing mask as "all fields"; the simulator requires it.
      throw googleErrors.invalidArgument(
        'update_mask is required; only messageToUser is updatable',
      );
    }
    const paths = mask.split(',').map((p) => p.trim());
    const bad = paths.find((p) => p !== 'messageToUser' && p !== 'message_to_user');
    if (bad !== undefined) {
      throw googleErrors.invalidArgument(
        `Invalid update_mask path "${bad.slice(0, 64)}": only messageToUser can be updated`,
      );
    }
    if (
      entitlement.state !== 'ENTITLEMENT_ACTIVATION_REQUESTED' &&
      entitlement.state !== 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL'
    ) {
      throw googleErrors.failedPrecondition(
        `messageToUser can only be updated while the entitlement awaits the provider (state is ${entitlement.state})`,
      );
    }
    if (input.messageToUser === undefined || input.messageToUser === '') {
      delete entitlement.messageToUser;
    } else {
      entitlement.messageToUser = input.messageToUser;
    }
    this.touch(entitlement);
    return entitlementWire(entitlement);
  }

  approveEntitlement(providerId: string, id: string, body: unknown): GcpPublishedMessage[] {
    parseApiBody(ApproveEntitlementBody, body);
    const entitlement = this.apiEntitlement(providerId, id);
    if (entitlement.state !== 'ENTITLEMENT_ACTIVATION_REQUESTED') {
      throw googleErrors.failedPrecondition(
        `Entitlement ${entitlementName(entitlement)} is ${entitlement.state}, not ENTITLEMENT_ACTIVATION_REQUESTED`,
      );
    }
    const account = this.current.accounts.find(
      (a) => a.providerId === providerId && a.id === entitlement.accountId,
    );
    const signup = account?.approvals.find((a) => a.name === 'signup');
    if (signup?.state !== 'APPROVED') {
      throw googleErrors.failedPrecondition(
        `Account providers/${providerId}/accounts/${entitlement.accountId} has not been approved (signup is ${signup?.state ?? 'missing'})`,
      );
    }
    this.transition(entitlement, 'ENTITLEMENT_ACTIVE');
    return [this.publishEntitlementEvent('ENTITLEMENT_ACTIVE', entitlement)];
  }

  rejectEntitlement(providerId: string, id: string, body: unknown): GcpPublishedMessage[] {
    parseApiBody(RejectEntitlementBody, body);
    const entitlement = this.apiEntitlement(providerId, id);
    if (entitlement.state !== 'ENTITLEMENT_ACTIVATION_REQUESTED') {
      throw googleErrors.failedPrecondition(
        `Entitlement ${entitlementName(entitlement)} is ${entitlement.state}, not ENTITLEMENT_ACTIVATION_REQUESTED`,
      );
    }
    // unverified: which cancellationReason Google records for a provider rejection (none set).
    this.transition(entitlement, 'ENTITLEMENT_CANCELLED');
    return [this.publishEntitlementEvent('ENTITLEMENT_CANCELLED', entitlement)];
  }

  private pendingPlanPreconditions(
    entitlement: GcpEntitlement,
    pendingPlanName: string | undefined,
  ): void {
    if (pendingPlanName === undefined || pendingPlanName === '') {
      throw googleErrors.invalidArgument('pending_plan_name is required');
    }
    if (entitlement.state !== 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL') {
      throw googleErrors.failedPrecondition(
        `Entitlement ${entitlementName(entitlement)} is ${entitlement.state}, not ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL`,
      );
    }
    if (pendingPlanName !== entitlement.newPendingPlan) {
      // unverified: FAILED_PRECONDITION is assumed for a pendingPlanName that does not match.
      throw googleErrors.failedPrecondition(
        `pendingPlanName "${pendingPlanName.slice(0, 64)}" is not the pending plan "${entitlement.newPendingPlan ?? ''}"`,
      );
    }
  }

  /**
   * An immediate change takes effect now (ENTITLEMENT_PLAN_CHANGED). One the buyer asked to start
   * later waits in ENTITLEMENT_PENDING_PLAN_CHANGE with newOfferStartTime set, and takes effect
   * (with ENTITLEMENT_PLAN_CHANGED) on `advance` once that time has come.
   */
  approvePlanChange(providerId: string, id: string, body: unknown): GcpPublishedMessage[] {
    const input = parseApiBody(ApprovePlanChangeBody, body);
    const entitlement = this.apiEntitlement(providerId, id);
    this.pendingPlanPreconditions(entitlement, input.pendingPlanName);
    const start = entitlement.requestedNewOfferStartTime;
    if (start !== undefined && Date.parse(start) > this.clock().getTime()) {
      entitlement.newOfferStartTime = start;
      delete entitlement.requestedNewOfferStartTime;
      this.transition(entitlement, 'ENTITLEMENT_PENDING_PLAN_CHANGE');
      return [];
    }
    return [this.applyPlanChange(entitlement)];
  }

  private applyPlanChange(entitlement: GcpEntitlement): GcpPublishedMessage {
    const newPlan = entitlement.newPendingPlan;
    if (newPlan !== undefined) entitlement.plan = newPlan;
    if (entitlement.newPendingOffer !== undefined) entitlement.offer = entitlement.newPendingOffer;
    clearPending(entitlement);
    this.transition(entitlement, 'ENTITLEMENT_ACTIVE');
    return this.publishEntitlementEvent('ENTITLEMENT_PLAN_CHANGED', entitlement, {
      ...(newPlan === undefined ? {} : { newPlan }),
    });
  }

  rejectPlanChange(providerId: string, id: string, body: unknown): GcpPublishedMessage[] {
    const input = parseApiBody(RejectPlanChangeBody, body);
    const entitlement = this.apiEntitlement(providerId, id);
    this.pendingPlanPreconditions(entitlement, input.pendingPlanName);
    clearPending(entitlement);
    this.transition(entitlement, 'ENTITLEMENT_ACTIVE');
    return [this.publishEntitlementEvent('ENTITLEMENT_PLAN_CHANGE_CANCELLED', entitlement)];
  }

  // --- Pub/Sub pull ------------------------------------------------------------------------

  private subscriptionLeases(name: string): Map<string, LeaseState> {
    let leases = this.subscriptions.get(name);
    if (leases === undefined) {
      if (this.subscriptions.size >= GCP_SIM_SUBSCRIPTIONS_MAX) {
        throw googleErrors.invalidArgument(
          `The simulator tracks at most ${GCP_SIM_SUBSCRIPTIONS_MAX} subscriptions`,
        );
      }
      leases = new Map();
      this.subscriptions.set(name, leases);
    }
    return leases;
  }

  /**
   * Every subscription sees every message the simulator still holds (it behaves as if it had
   * existed from the start). A delivered message is leased for ackDeadlineMs of simulator time;
   * unacknowledged, it is delivered again by a later pull, with deliveryAttempt counting up.
   */
  pull(subscription: string, body: unknown): object {
    const input = parseApiBody(PullBody, body);
    const leases = this.subscriptionLeases(subscription);
    const nowMs = this.clock().getTime();
    const max = Math.min(input.maxMessages, PUBSUB_PULL_MESSAGES_MAX);
    const received: object[] = [];
    for (const message of this.messages) {
      if (received.length >= max) break;
      const lease = leases.get(message.messageId) ?? {
        acked: false,
        deliveries: 0,
        leaseUntilMs: Number.NEGATIVE_INFINITY,
      };
      if (lease.acked || lease.leaseUntilMs > nowMs) continue;
      lease.deliveries += 1;
      lease.leaseUntilMs = nowMs + this.current.ackDeadlineMs;
      leases.set(message.messageId, lease);
      received.push({
        ackId: Buffer.from(
          JSON.stringify([subscription, message.messageId, lease.deliveries]),
        ).toString('base64url'),
        message: {
          data: message.data,
          messageId: message.messageId,
          publishTime: message.publishTime,
          attributes: {},
        },
        // unverified: Pub/Sub sets deliveryAttempt only with a dead-letter policy; always here.
        deliveryAttempt: lease.deliveries,
      });
    }
    // An empty pull answers `{}`.
    return received.length === 0 ? {} : { receivedMessages: received };
  }

  /**
   * Only the ackId of the latest delivery acknowledges; an earlier one (its lease ran out and
   * the message went out again) is ignored, still with `{}`.
   * unverified: Pub/Sub's handling of expired ack ids; malformed ones are INVALID_ARGUMENT here.
   */
  acknowledge(subscription: string, body: unknown): object {
    const input = parseApiBody(AcknowledgeBody, body);
    const decoded = input.ackIds.map((ackId) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(ackId, 'base64url').toString('utf8'));
      } catch {
        parsed = null;
      }
      const result = z.tuple([z.string(), z.string(), z.number().int()]).safeParse(parsed);
      if (!result.success || result.data[0] !== subscription) {
        throw googleErrors.invalidArgument(
          `You have passed an invalid ack ID to the service (ack_id=${ackId.slice(0, 64)}).`,
        );
      }
      return result.data;
    });
    const leases = this.subscriptionLeases(subscription);
    for (const [, messageId, delivery] of decoded) {
      const lease = leases.get(messageId);
      if (lease !== undefined && lease.deliveries === delivery) lease.acked = true;
    }
    return {};
  }

  // --- publishing and push -----------------------------------------------------------------

  private publish(event: Omit<GcpMarketplaceEvent, 'eventId'>): GcpPublishedMessage {
    const full: GcpMarketplaceEvent = { eventId: randomUUID(), ...event };
    const message: GcpPublishedMessage = {
      messageId: (this.nextMessageId++).toString(),
      publishTime: this.nowIso(),
      data: Buffer.from(JSON.stringify(full)).toString('base64'),
      event: full,
    };
    if (this.messages.length >= GCP_SIM_MESSAGES_MAX) {
      const evicted = this.messages.shift();
      if (evicted !== undefined) {
        for (const leases of this.subscriptions.values()) leases.delete(evicted.messageId);
      }
    }
    this.messages.push(message);
    this.enqueuePush(message);
    return structuredClone(message);
  }

  private publishAccountEvent(eventType: GcpEventType, account: GcpAccount): GcpPublishedMessage {
    return this.publish({
      eventType,
      providerId: account.providerId,
      account: { id: account.id, updateTime: account.updateTime },
    });
  }

  private publishEntitlementEvent(
    eventType: GcpEventType,
    entitlement: GcpEntitlement,
    extra: { newPlan?: string; newOfferStartTime?: string } = {},
  ): GcpPublishedMessage {
    return this.publish({
      eventType,
      providerId: entitlement.providerId,
      entitlement: { id: entitlement.id, updateTime: entitlement.updateTime, ...extra },
    });
  }

  /** Queues the push of one message behind those already queued; returns the queue's tail. */
  private enqueuePush(message: GcpPublishedMessage): Promise<void> {
    this.pushChain = this.pushChain.then(() => this.processPush(message)).catch(() => undefined);
    return this.pushChain;
  }

  async idle(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.pushChain;
      await tail;
    } while (tail !== this.pushChain);
  }

  flushHeldPushes(): Promise<void> {
    this.pushChain = this.pushChain.then(() => this.releaseHeld()).catch(() => undefined);
    return this.idle();
  }

  private async processPush(message: GcpPublishedMessage): Promise<void> {
    const target = this.pushTarget;
    if (target === null || this.closed) return;
    const kind = this.takeFault((t) => t === 'push') as GcpPushFaultKind | null;
    if (kind === 'reorder') {
      this.held.push({ message, target });
      return;
    }
    await this.deliver(message, target, kind);
    if (kind === 'duplicate') await this.deliver(message, target, kind);
    await this.releaseHeld();
  }

  private async releaseHeld(): Promise<void> {
    for (const held of this.held.splice(0)) {
      await this.deliver(held.message, held.target, 'reorder');
    }
  }

  private async pushAuthorization(
    target: GcpPushTarget,
    fault: GcpPushFaultKind | null,
  ): Promise<string | null> {
    if (fault === 'no-token') return null;
    const overrides: GcpPushTokenOverrides = {
      audience:
        fault === 'wrong-audience' ? 'https://wrong-audience.invalid/push' : target.audience,
      email:
        fault === 'wrong-email'
          ? 'intruder@another-project.iam.gserviceaccount.com'
          : target.serviceAccountEmail,
      ...(fault === 'bad-signature' ? { signer: 'attacker' as const } : {}),
      ...(fault === 'expired-token'
        ? {
            issuedAt: new Date(this.clock().getTime() - 2 * GCP_SIM_PUSH_TOKEN_TTL_S * 1000),
            ttlSeconds: GCP_SIM_PUSH_TOKEN_TTL_S,
          }
        : {}),
    };
    return `Bearer ${await this.mintPushToken(overrides)}`;
  }

  private async deliver(
    message: GcpPublishedMessage,
    target: GcpPushTarget,
    fault: GcpPushFaultKind | null,
  ): Promise<void> {
    const data =
      fault === 'malformed-data'
        ? Buffer.from('{"eventId": this is not JSON').toString('base64')
        : message.data;
    const body: GcpPushBody = {
      message: {
        data,
        messageId: message.messageId,
        message_id: message.messageId,
        publishTime: message.publishTime,
        publish_time: message.publishTime,
        attributes: {},
      },
      subscription: target.subscription,
    };
    for (let attempt = 1; attempt <= GCP_SIM_PUSH_ATTEMPTS_MAX; attempt += 1) {
      if (this.closed) return;
      if (attempt > 1) await new Promise((r) => setTimeout(r, GCP_SIM_PUSH_RETRY_DELAY_MS));
      const authorization = await this.pushAuthorization(target, fault);
      let status: number | null = null;
      let error: string | null = null;
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent':
              'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
            ...(authorization === null ? {} : { authorization }),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.any([
            this.abort.signal,
            AbortSignal.timeout(GCP_SIM_PUSH_TIMEOUT_MS),
          ]),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      const acked = status !== null && status >= 200 && status < 300;
      if (this.deliveries.length >= GCP_SIM_PUSH_DELIVERIES_MAX) this.deliveries.shift();
      this.deliveries.push({
        messageId: message.messageId,
        eventType: message.event.eventType,
        attempt,
        fault,
        url: target.url,
        subscription: target.subscription,
        authorization,
        body,
        status,
        error,
        acked,
        at: this.nowIso(),
      });
      if (acked) return;
    }
  }

  // --- tokens ------------------------------------------------------------------------------

  async mintPushToken(overrides: GcpPushTokenOverrides = {}): Promise<string> {
    const audience = overrides.audience ?? this.pushTarget?.audience;
    const email = overrides.email ?? this.pushTarget?.serviceAccountEmail;
    if (audience === undefined || email === undefined) {
      throw new GcpSimulatorInputError(
        'A push token needs an audience and an email: set a push target or pass both',
      );
    }
    const id = numericId(email);
    return signToken(
      this.keys,
      this.clock(),
      { iss: GOOGLE_OIDC_ISSUER, aud: audience, azp: id, sub: id, email, email_verified: true },
      GCP_SIM_PUSH_TOKEN_TTL_S,
      overrides,
    );
  }

  async mintSignupToken(overrides: GcpSignupTokenOverrides): Promise<string> {
    const account = this.current.accounts.find((a) => a.id === overrides.accountId);
    const audience =
      overrides.audience ??
      (account === undefined ? undefined : this.provider(account.providerId)?.signupAudience);
    if (audience === undefined) {
      throw new GcpSimulatorInputError(
        `No audience for a sign-up token of account ${overrides.accountId}: pass one`,
      );
    }
    const orders = this.current.entitlements
      .filter((e) => e.accountId === overrides.accountId)
      .map((e) => e.id);
    return signToken(
      this.keys,
      this.clock(),
      {
        iss: MARKETPLACE_SIGNUP_ISSUER,
        aud: audience,
        sub: overrides.accountId,
        // unverified: `orders` (the account's order = entitlement ids) follows Google's note on
        // "multiple orders of the same product"; its exact content is assumed.
        google: {
          roles: ['account_admin'],
          user_identity: numericId(`user:${overrides.accountId}`),
          orders,
        },
      },
      GCP_SIM_SIGNUP_TOKEN_TTL_S,
      overrides,
    );
  }

  async signupToken(input: GcpSignupTokenInput): Promise<string> {
    const parsed = parseOrThrow(GcpSignupTokenInputSchema, input, 'sign-up token request');
    if (!this.current.accounts.some((a) => a.id === parsed.accountId)) {
      throw new GcpSimulatorInputError(`No account ${parsed.accountId}`, [], 404);
    }
    return this.mintSignupToken({
      accountId: parsed.accountId,
      ...(parsed.audience === undefined ? {} : { audience: parsed.audience }),
    });
  }

  // --- the buyer's side --------------------------------------------------------------------

  /** Waits for the pushes of these messages (and everything queued before them). */
  private async settled(published: GcpPublishedMessage[]): Promise<GcpPublishedMessage[]> {
    await this.pushChain;
    return published;
  }

  private precondition(e: GcpEntitlement, allowed: readonly GcpEntitlementState[], what: string) {
    if (!allowed.includes(e.state)) {
      throw new GcpSimulatorInputError(
        `Cannot ${what} entitlement ${e.id}: it is ${e.state} (needs ${allowed.join(' or ')})`,
        [],
        409,
      );
    }
  }

  async purchase(input: GcpPurchaseInput): Promise<GcpPurchaseResult> {
    const parsed = parseOrThrow(GcpPurchaseInputSchema, input, 'purchase');
    if (this.provider(parsed.providerId) === undefined) {
      throw new GcpSimulatorInputError(
        `No provider ${parsed.providerId}: add it to state.providers`,
        [{ path: 'providerId', message: 'unknown provider' }],
        404,
      );
    }
    const accountId = parsed.accountId ?? randomUUID();
    const entitlementId = parsed.entitlementId ?? randomUUID();
    const existing = this.current.accounts.find((a) => a.id === accountId);
    if (existing !== undefined && existing.providerId !== parsed.providerId) {
      throw new GcpSimulatorInputError(
        `Account ${accountId} belongs to provider ${existing.providerId}`,
        [{ path: 'accountId', message: 'belongs to another provider' }],
        409,
      );
    }
    if (this.current.entitlements.some((e) => e.id === entitlementId)) {
      throw new GcpSimulatorInputError(
        `Entitlement ${entitlementId} already exists`,
        [{ path: 'entitlementId', message: 'already exists' }],
        409,
      );
    }
    const newAccounts = existing === undefined ? 1 : 0;
    if (
      this.current.accounts.length + newAccounts > GCP_SIM_STATE_ITEMS_MAX ||
      this.current.entitlements.length >= GCP_SIM_STATE_ITEMS_MAX
    ) {
      throw new GcpSimulatorInputError(
        `The simulator holds at most ${GCP_SIM_STATE_ITEMS_MAX} items`,
      );
    }
    const time = this.nowIso();
    if (existing === undefined) {
      // Newer accounts are ACCOUNT_ACTIVE from the start; the 'signup' approval is what waits
      // for the provider. ACCOUNT_ACTIVE is announced when that approval is granted.
      this.current.accounts.push({
        providerId: parsed.providerId,
        id: accountId,
        state: 'ACCOUNT_ACTIVE',
        approvals: [{ name: 'signup', state: 'PENDING', updateTime: time }],
        createTime: time,
        updateTime: time,
      });
    }
    const entitlement: GcpEntitlement = {
      providerId: parsed.providerId,
      id: entitlementId,
      accountId,
      product: parsed.product,
      productExternalName: parsed.product,
      plan: parsed.plan,
      state: 'ENTITLEMENT_ACTIVATION_REQUESTED',
      // unverified: that orderId equals the entitlement id.
      orderId: entitlementId,
      createTime: time,
      updateTime: time,
    };
    if (parsed.usageReportingId !== undefined)
      entitlement.usageReportingId = parsed.usageReportingId;
    if (parsed.offer !== undefined) entitlement.offer = parsed.offer;
    if (parsed.offerDuration !== undefined) entitlement.offerDuration = parsed.offerDuration;
    if (parsed.offerEndTime !== undefined) entitlement.offerEndTime = parsed.offerEndTime;
    this.current.entitlements.push(entitlement);
    const published = [this.publishEntitlementEvent('ENTITLEMENT_CREATION_REQUESTED', entitlement)];
    const signupToken = await this.mintSignupToken({ accountId });
    return { accountId, entitlementId, signupToken, published: await this.settled(published) };
  }

  private async result(
    entitlement: GcpEntitlement,
    published: GcpPublishedMessage[],
  ): Promise<GcpBuyerActionResult> {
    const wire = entitlementWire(entitlement);
    return { entitlement: wire, published: await this.settled(published) };
  }

  async requestPlanChange(entitlementId: string, input: GcpPlanChangeInput) {
    const parsed = parseOrThrow(GcpPlanChangeInputSchema, input, 'plan change');
    const entitlement = this.simEntitlement(entitlementId);
    this.precondition(entitlement, ['ENTITLEMENT_ACTIVE'], 'change the plan of');
    if (parsed.plan === entitlement.plan) {
      throw new GcpSimulatorInputError(
        `Entitlement ${entitlementId} is already on plan ${parsed.plan}`,
        [{ path: 'plan', message: 'same as the current plan' }],
        409,
      );
    }
    entitlement.newPendingPlan = parsed.plan;
    if (parsed.newOfferStartTime !== undefined) {
      entitlement.requestedNewOfferStartTime = parsed.newOfferStartTime;
    }
    this.transition(entitlement, 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL');
    // unverified: whether Google's PLAN_CHANGE_REQUESTED message carries newOfferStartTime.
    const published = [
      this.publishEntitlementEvent('ENTITLEMENT_PLAN_CHANGE_REQUESTED', entitlement, {
        newPlan: parsed.plan,
        ...(parsed.newOfferStartTime === undefined
          ? {}
          : { newOfferStartTime: parsed.newOfferStartTime }),
      }),
    ];
    return this.result(entitlement, published);
  }

  /**
   * Before approval the order is simply withdrawn (ENTITLEMENT_CANCELLED, 'user-aborted').
   * Otherwise ENTITLEMENT_PENDING_CANCELLATION until the end of the current offer (offerEndTime
   * if it is in the future, else now), recorded as subscriptionEndTime; `advance` cancels once
   * that time has come. `immediate` cancels at once (both events).
   */
  async cancel(entitlementId: string, input: GcpCancelInput = {}) {
    const parsed = parseOrThrow(GcpCancelInputSchema, input, 'cancel');
    const entitlement = this.simEntitlement(entitlementId);
    this.precondition(
      entitlement,
      [
        'ENTITLEMENT_ACTIVATION_REQUESTED',
        'ENTITLEMENT_ACTIVE',
        'ENTITLEMENT_PENDING_PLAN_CHANGE',
        'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL',
        'ENTITLEMENT_SUSPENDED',
      ],
      'cancel',
    );
    const published: GcpPublishedMessage[] = [];
    if (entitlement.state === 'ENTITLEMENT_ACTIVATION_REQUESTED') {
      entitlement.cancellationReason = 'user-aborted';
      this.transition(entitlement, 'ENTITLEMENT_CANCELLED');
      published.push(this.publishEntitlementEvent('ENTITLEMENT_CANCELLED', entitlement));
      return this.result(entitlement, published);
    }
    clearPending(entitlement);
    const nowMs = this.clock().getTime();
    const endsAt =
      entitlement.offerEndTime !== undefined && Date.parse(entitlement.offerEndTime) > nowMs
        ? entitlement.offerEndTime
        : this.nowIso();
    entitlement.cancellationReason = 'user-cancelled';
    entitlement.subscriptionEndTime = parsed.immediate === true ? this.nowIso() : endsAt;
    this.transition(entitlement, 'ENTITLEMENT_PENDING_CANCELLATION');
    published.push(this.publishEntitlementEvent('ENTITLEMENT_PENDING_CANCELLATION', entitlement));
    if (parsed.immediate === true) {
      this.transition(entitlement, 'ENTITLEMENT_CANCELLED');
      published.push(this.publishEntitlementEvent('ENTITLEMENT_CANCELLED', entitlement));
    }
    return this.result(entitlement, published);
  }

  async revertCancellation(entitlementId: string) {
    const entitlement = this.simEntitlement(entitlementId);
    this.precondition(
      entitlement,
      ['ENTITLEMENT_PENDING_CANCELLATION'],
      'revert the cancellation of',
    );
    delete entitlement.cancellationReason;
    delete entitlement.subscriptionEndTime;
    this.transition(entitlement, 'ENTITLEMENT_ACTIVE');
    return this.result(entitlement, [
      this.publishEntitlementEvent('ENTITLEMENT_CANCELLATION_REVERTED', entitlement),
    ]);
  }

  async suspend(entitlementId: string) {
    const entitlement = this.simEntitlement(entitlementId);
    this.precondition(entitlement, ['ENTITLEMENT_ACTIVE'], 'suspend');
    this.transition(entitlement, 'ENTITLEMENT_SUSPENDED');
    return this.result(entitlement, [
      this.publishEntitlementEvent('ENTITLEMENT_SUSPENDED', entitlement),
    ]);
  }

  /**
   * ENTITLEMENT_OFFER_ENDED; offerEndTime becomes now. With `continue` the entitlement stays
   * active (pay as you go); otherwise it is cancelled ('expired') with ENTITLEMENT_CANCELLED.
   */
  async endOffer(entitlementId: string, input: GcpEndOfferInput = {}) {
    const parsed = parseOrThrow(GcpEndOfferInputSchema, input, 'end offer');
    const entitlement = this.simEntitlement(entitlementId);
    this.precondition(
      entitlement,
      ['ENTITLEMENT_ACTIVE', 'ENTITLEMENT_PENDING_CANCELLATION'],
      'end the offer of',
    );
    entitlement.offerEndTime = this.nowIso();
    this.touch(entitlement);
    const published = [this.publishEntitlementEvent('ENTITLEMENT_OFFER_ENDED', entitlement)];
    if (parsed.continue !== true) {
      clearPending(entitlement);
      entitlement.cancellationReason = 'expired';
      entitlement.subscriptionEndTime = this.nowIso();
      this.transition(entitlement, 'ENTITLEMENT_CANCELLED');
      published.push(this.publishEntitlementEvent('ENTITLEMENT_CANCELLED', entitlement));
    }
    return this.result(entitlement, published);
  }

  /** ENTITLEMENT_RENEWED; offerEndTime moves to the given time, or on by offerDuration. */
  async renew(entitlementId: string, input: GcpRenewInput = {}) {
    const parsed = parseOrThrow(GcpRenewInputSchema, input, 'renew');
    const entitlement = this.simEntitlement(entitlementId);
    this.precondition(entitlement, ['ENTITLEMENT_ACTIVE'], 'renew');
    const extended =
      parsed.offerEndTime ??
      (entitlement.offerEndTime !== undefined && entitlement.offerDuration !== undefined
        ? addDuration(entitlement.offerEndTime, entitlement.offerDuration)
        : null);
    if (extended !== null) entitlement.offerEndTime = extended;
    this.touch(entitlement);
    return this.result(entitlement, [
      this.publishEntitlementEvent('ENTITLEMENT_RENEWED', entitlement),
    ]);
  }

  async advance(): Promise<GcpAdvanceResult> {
    const nowMs = this.clock().getTime();
    const changed: string[] = [];
    const published: GcpPublishedMessage[] = [];
    for (const entitlement of this.current.entitlements) {
      if (
        entitlement.state === 'ENTITLEMENT_PENDING_PLAN_CHANGE' &&
        (entitlement.newOfferStartTime === undefined ||
          Date.parse(entitlement.newOfferStartTime) <= nowMs)
      ) {
        published.push(this.applyPlanChange(entitlement));
        changed.push(entitlement.id);
      } else if (
        entitlement.state === 'ENTITLEMENT_PENDING_CANCELLATION' &&
        (entitlement.subscriptionEndTime === undefined ||
          Date.parse(entitlement.subscriptionEndTime) <= nowMs)
      ) {
        this.transition(entitlement, 'ENTITLEMENT_CANCELLED');
        published.push(this.publishEntitlementEvent('ENTITLEMENT_CANCELLED', entitlement));
        changed.push(entitlement.id);
      }
    }
    return { changed, published: await this.settled(published) };
  }

  async publishEvent(input: GcpPublishInput): Promise<GcpPublishedMessage> {
    const parsed = parseOrThrow(GcpPublishInputSchema, input, 'event');
    const time = this.nowIso();
    const accountEvent = parsed.eventType.startsWith('ACCOUNT_');
    const updateTime = (items: ReadonlyArray<{ id: string; updateTime: string }>, id: string) =>
      items.find((x) => x.id === id)?.updateTime ?? time;
    const message = this.publish({
      eventType: parsed.eventType,
      providerId: parsed.providerId,
      ...(accountEvent && parsed.accountId !== undefined
        ? {
            account: {
              id: parsed.accountId,
              updateTime: updateTime(this.current.accounts, parsed.accountId),
            },
          }
        : {}),
      ...(!accountEvent && parsed.entitlementId !== undefined
        ? {
            entitlement: {
              id: parsed.entitlementId,
              updateTime: updateTime(this.current.entitlements, parsed.entitlementId),
              ...(parsed.newPlan === undefined ? {} : { newPlan: parsed.newPlan }),
              ...(parsed.newOfferStartTime === undefined
                ? {}
                : { newOfferStartTime: parsed.newOfferStartTime }),
            },
          }
        : {}),
    });
    await this.pushChain;
    return message;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await this.idle();
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/**
 * The body, or null when it exceeds GCP_SIM_BODY_BYTES_MAX. An oversized body is drained (not
 * kept) so the client can read the 413; one that goes on past GCP_SIM_DRAIN_BYTES_MAX is cut off.
 */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return readBoundedBody(request, GCP_SIM_BODY_BYTES_MAX, GCP_SIM_DRAIN_BYTES_MAX);
}

const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': JSON_CONTENT_TYPE }).end(JSON.stringify(body));
}

function sendGoogleError(response: ServerResponse, error: GoogleApiError): void {
  sendJson(response, error.httpStatus, {
    error: { code: error.httpStatus, message: error.message, status: error.status },
  });
}

function sendControl(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  sendJson(response, status, body);
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
    .writeHead(status, { 'content-type': JSON_CONTENT_TYPE, ...headers })
    .end(JSON.stringify({ error: { code, message, details } }));
}

interface ApiRoute {
  readonly method: GcpApiMethod;
  readonly run: (query: URLSearchParams, body: unknown) => unknown;
}

const PROCUREMENT_PATH =
  /^\/v1\/providers\/([^/:]+)\/(accounts|entitlements)(?:\/([^/:]+)(?::([A-Za-z]+))?)?$/;
const PUBSUB_PATH = /^\/v1\/(projects\/[^/:]+\/subscriptions\/[^/:]+):(pull|acknowledge)$/;

function apiRoute(model: GcpMarketplaceModel, httpMethod: string, path: string): ApiRoute | null {
  const pubsub = PUBSUB_PATH.exec(path);
  if (pubsub !== null) {
    const subscription = pubsub[1] ?? '';
    if (httpMethod !== 'POST') return null;
    return pubsub[2] === 'pull'
      ? { method: 'Pull', run: (_q, body) => model.pull(subscription, body) }
      : { method: 'Acknowledge', run: (_q, body) => model.acknowledge(subscription, body) };
  }
  const match = PROCUREMENT_PATH.exec(path);
  if (match === null) return null;
  const [, provider = '', collection, id, verb] = match;
  const key = `${httpMethod} ${collection}${id === undefined ? '' : '/{id}'}${verb === undefined ? '' : `:${verb}`}`;
  const itemId = id ?? '';
  const routes: Record<string, ApiRoute> = {
    'GET accounts/{id}': { method: 'GetAccount', run: () => model.getAccount(provider, itemId) },
    'GET accounts': { method: 'ListAccounts', run: (q) => model.listAccounts(provider, q) },
    'POST accounts/{id}:approve': {
      method: 'ApproveAccount',
      run: (_q, body) => model.approveAccount(provider, itemId, body),
    },
    'POST accounts/{id}:reject': {
      method: 'RejectAccount',
      run: (_q, body) => model.rejectAccount(provider, itemId, body),
    },
    'POST accounts/{id}:reset': {
      method: 'ResetAccount',
      run: (_q, body) => model.resetAccount(provider, itemId, body),
    },
    'GET entitlements/{id}': {
      method: 'GetEntitlement',
      run: () => model.getEntitlement(provider, itemId),
    },
    'GET entitlements': {
      method: 'ListEntitlements',
      run: (q) => model.listEntitlements(provider, q),
    },
    'PATCH entitlements/{id}': {
      method: 'PatchEntitlement',
      run: (q, body) => model.patchEntitlement(provider, itemId, q, body),
    },
    'POST entitlements/{id}:approve': {
      method: 'ApproveEntitlement',
      run: (_q, body) => model.approveEntitlement(provider, itemId, body),
    },
    'POST entitlements/{id}:reject': {
      method: 'RejectEntitlement',
      run: (_q, body) => model.rejectEntitlement(provider, itemId, body),
    },
    'POST entitlements/{id}:approvePlanChange': {
      method: 'ApproveEntitlementPlanChange',
      run: (_q, body) => model.approvePlanChange(provider, itemId, body),
    },
    'POST entitlements/{id}:rejectPlanChange': {
      method: 'RejectEntitlementPlanChange',
      run: (_q, body) => model.rejectPlanChange(provider, itemId, body),
    },
  };
  return routes[key] ?? null;
}

/** Actions answer Google's Empty message; the events they publish are pushed in the background. */
function apiAnswer(method: GcpApiMethod, output: unknown): unknown {
  switch (method) {
    case 'ApproveAccount':
    case 'RejectAccount':
    case 'ResetAccount':
    case 'ApproveEntitlement':
    case 'RejectEntitlement':
    case 'ApproveEntitlementPlanChange':
    case 'RejectEntitlementPlanChange':
      return {};
    default:
      return output;
  }
}

async function handleApi(
  model: GcpMarketplaceModel,
  path: string,
  query: URLSearchParams,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const route = apiRoute(model, request.method ?? 'GET', path);
  if (route === null) {
    // unverified: Google's front end answers unknown URLs with an HTML 404; JSON here.
    sendGoogleError(
      response,
      googleErrors.notFound(
        `The requested URL ${path.slice(0, 256)} was not found on this server.`,
      ),
    );
    return;
  }
  const authorization = request.headers.authorization;
  const body = await readBody(request);
  if (body === null) {
    sendGoogleError(
      response,
      new GoogleApiError(
        413,
        'INVALID_ARGUMENT',
        `Request payload size exceeds the limit: ${GCP_SIM_BODY_BYTES_MAX} bytes.`,
      ),
    );
    return;
  }
  try {
    if (
      typeof authorization !== 'string' ||
      !/^Bearer\s+\S+/i.test(authorization) ||
      authorization.replace(/^Bearer\s+/i, '').trim() === ''
    ) {
      throw googleErrors.unauthenticated();
    }
    let input: unknown;
    try {
      input = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
    } catch {
      throw googleErrors.invalidArgument('Invalid JSON payload received.');
    }
    const isGet = request.method === 'GET';
    model.recordCall(
      route.method,
      path,
      isGet ? Object.fromEntries(query) : (input ?? {}),
      isGet ? 0 : body.length,
    );
    const allowed = METHOD_QUERY_PARAMETERS[route.method] ?? [];
    for (const name of query.keys()) {
      // `$`-prefixed names ($alt, $.xgafv) are system parameters the client libraries send.
      if (!allowed.includes(name) && !SYSTEM_QUERY_PARAMETERS.has(name) && !name.startsWith('$')) {
        throw googleErrors.invalidArgument(
          `Invalid JSON payload received. Unknown name "${name.slice(0, 64)}": Cannot bind query parameter.`,
        );
      }
    }
    model.takeApiFault(route.method);
    const output = route.run(query, input);
    sendJson(response, 200, apiAnswer(route.method, output));
  } catch (error) {
    if (error instanceof GoogleApiError) {
      sendGoogleError(response, error);
      return;
    }
    throw error;
  }
}

type ControlHandler = (body: unknown, params: readonly string[]) => Promise<ControlResult>;
interface ControlResult {
  readonly status: number;
  readonly body?: unknown;
}
interface ControlRoute {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, ControlHandler>>;
}

const ok = (body?: unknown): ControlResult =>
  body === undefined ? { status: 204 } : { status: 200, body };

function controlRoutes(model: GcpMarketplaceModel): ControlRoute[] {
  const action = (
    run: (id: string, body: unknown) => Promise<GcpBuyerActionResult>,
  ): ControlHandler => {
    return async (body, params) => ok(await run(params[0] ?? '', body ?? {}));
  };
  return [
    {
      pattern: /^\/_sim\/state$/,
      methods: {
        GET: async () => ok(model.state()),
        POST: async (body) => {
          model.setState(parseOrThrow(GcpSimulatorStateSchema, body, 'state'));
          return ok();
        },
      },
    },
    {
      pattern: /^\/_sim\/push-target$/,
      methods: {
        POST: async (body) => {
          model.setPushTarget(parseOrThrow(GcpPushTargetSchema, body, 'push target'));
          return ok();
        },
        DELETE: async () => {
          model.setPushTarget(null);
          return ok();
        },
      },
    },
    {
      pattern: /^\/_sim\/purchase$/,
      methods: {
        POST: async (body) =>
          ok(await model.purchase(parseOrThrow(GcpPurchaseInputSchema, body, 'purchase'))),
      },
    },
    {
      pattern: /^\/_sim\/entitlements\/([^/]+)\/request-plan-change$/,
      methods: {
        POST: action((id, body) =>
          model.requestPlanChange(id, parseOrThrow(GcpPlanChangeInputSchema, body, 'plan change')),
        ),
      },
    },
    {
      pattern: /^\/_sim\/entitlements\/([^/]+)\/cancel$/,
      methods: {
        POST: action((id, body) =>
          model.cancel(id, parseOrThrow(GcpCancelInputSchema, body, 'cancel')),
        ),
      },
    },
    {
      pattern: /^\/_sim\/entitlements\/([^/]+)\/revert-cancellation$/,
      methods: { POST: action((id) => model.revertCancellation(id)) },
    },
    {
      pattern: /^\/_sim\/entitlements\/([^/]+)\/suspend$/,
      methods: { POST: action((id) => model.suspend(id)) },
    },
    {
      pattern: /^\/_sim\/entitlements\/([^/]+)\/end-offer$/,
      methods: {
        POST: action((id, body) =>
          model.endOffer(id, parseOrThrow(GcpEndOfferInputSchema, body, 'end offer')),
        ),
      },
    },
    {
      pattern: /^\/_sim\/entitlements\/([^/]+)\/renew$/,
      methods: {
        POST: action((id, body) =>
          model.renew(id, parseOrThrow(GcpRenewInputSchema, body, 'renew')),
        ),
      },
    },
    { pattern: /^\/_sim\/advance$/, methods: { POST: async () => ok(await model.advance()) } },
    {
      pattern: /^\/_sim\/publish$/,
      methods: {
        POST: async (body) =>
          ok(await model.publishEvent(parseOrThrow(GcpPublishInputSchema, body, 'event'))),
      },
    },
    {
      pattern: /^\/_sim\/signup-token$/,
      methods: {
        POST: async (body) =>
          ok({
            token: await model.signupToken(
              parseOrThrow(GcpSignupTokenInputSchema, body, 'sign-up token request'),
            ),
          }),
      },
    },
    {
      pattern: /^\/_sim\/faults$/,
      methods: {
        POST: async (body) => {
          model.injectFault(parseOrThrow(GcpSimFaultSchema, body, 'fault'));
          return ok();
        },
        DELETE: async () => {
          model.clearFaults();
          return ok();
        },
      },
    },
    {
      pattern: /^\/_sim\/push-deliveries$/,
      methods: { GET: async () => ok({ deliveries: model.pushDeliveries() }) },
    },
    {
      pattern: /^\/_sim\/published$/,
      methods: { GET: async () => ok({ messages: model.published() }) },
    },
    { pattern: /^\/_sim\/calls$/, methods: { GET: async () => ok({ calls: model.calls() }) } },
    {
      pattern: /^\/_sim\/history$/,
      methods: {
        DELETE: async () => {
          model.clearHistory();
          return ok();
        },
      },
    },
    {
      pattern: /^\/_sim\/flush-held-pushes$/,
      methods: {
        POST: async () => {
          await model.flushHeldPushes();
          return ok();
        },
      },
    },
    {
      pattern: /^\/_sim\/idle$/,
      methods: {
        POST: async () => {
          await model.idle();
          return ok();
        },
      },
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
    params = match.slice(1).map((p) => p ?? '');
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
      `Request body exceeds ${GCP_SIM_BODY_BYTES_MAX} bytes`,
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
    const result = await handler(body, params);
    sendControl(response, result.status, result.body);
  } catch (error) {
    if (!(error instanceof GcpSimulatorInputError)) throw error;
    sendControlError(response, error.status, error.code, error.message, error.details);
  }
}

/** Starts the simulator on 127.0.0.1 (a free port unless `port` is given). */
export async function startGcpSimulator(options: GcpSimulatorOptions = {}): Promise<GcpSimulator> {
  const keys = await createKeyMaterial();
  const model = new GcpMarketplaceModel(options.now ?? (() => new Date()), keys);
  if (options.state !== undefined) model.setState(options.state);
  const routes = controlRoutes(model);
  const offers = createGcpOfferSimulator({
    now: () => model.clock(),
    catalog: () =>
      model.state().entitlements.map((e) => ({
        providerId: e.providerId,
        product: e.product,
        ...(e.plan ? { plan: e.plan } : {}),
      })),
  });
  const metering = createGcpMeteringSimulator({
    now: () => model.clock(),
    consumers: () => model.state().entitlements,
  });
  const host = '127.0.0.1';
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      sendGoogleError(response, googleErrors.invalidArgument('The URL is not valid'));
      return;
    }
    let handled: Promise<void>;
    if (offers.owns(url.pathname)) {
      handled = offers.handle(request, response, url);
    } else if (metering.owns(url.pathname)) {
      handled = metering.handle(request, response, url);
    } else if (pathname.startsWith('/_sim/')) {
      handled = handleControl(routes, pathname, request, response);
    } else if (
      request.method === 'GET' &&
      (pathname === GOOGLE_OIDC_JWKS_PATH || pathname === MARKETPLACE_SIGNUP_JWKS_PATH)
    ) {
      response.writeHead(200, {
        'content-type': JSON_CONTENT_TYPE,
        'cache-control': 'public, max-age=60',
      });
      response.end(JSON.stringify(model.jwks));
      return;
    } else {
      handled = handleApi(model, pathname, url.searchParams, request, response);
    }
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
  const url = `http://${host}:${port}`;
  return {
    url,
    port,
    offers,
    metering,
    oidcJwksUrl: `${url}${GOOGLE_OIDC_JWKS_PATH}`,
    signupJwksUrl: `${url}${MARKETPLACE_SIGNUP_JWKS_PATH}`,
    state: () => model.state(),
    setState: (state) => model.setState(state),
    setPushTarget: (target) => model.setPushTarget(target),
    purchase: (input) => model.purchase(input),
    requestPlanChange: (id, input) => model.requestPlanChange(id, input),
    cancel: (id, input) => model.cancel(id, input),
    revertCancellation: (id) => model.revertCancellation(id),
    suspend: (id) => model.suspend(id),
    endOffer: (id, input) => model.endOffer(id, input),
    renew: (id, input) => model.renew(id, input),
    advance: () => model.advance(),
    publishEvent: (input) => model.publishEvent(input),
    signupToken: (input) => model.signupToken(input),
    mintPushToken: (overrides) => model.mintPushToken(overrides),
    mintSignupToken: (overrides) => model.mintSignupToken(overrides),
    injectFault: (fault) => model.injectFault(fault),
    clearFaults: () => model.clearFaults(),
    pushDeliveries: () => model.pushDeliveries(),
    published: () => model.published(),
    calls: () => model.calls(),
    clearHistory: () => model.clearHistory(),
    flushHeldPushes: () => model.flushHeldPushes(),
    idle: () => model.idle(),
    close: async () => {
      await model.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
