// Proves the Google Cloud Marketplace simulator plays Google's side over real HTTP: push OIDC and
// sign-up tokens verify with jose against the served JWKS and every token fault breaks what it
// should; pushes reach a real endpoint with retries, duplicates and reordering; the Procurement
// API methods, their preconditions and errors; Pub/Sub pull, ack and redelivery; every buyer
// action with the events it publishes; and the /_sim control endpoints' validation.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  GCP_SIM_BODY_BYTES_MAX,
  GCP_SIM_PUSH_ATTEMPTS_MAX,
  GCP_SIM_PUSH_TOKEN_TTL_S,
  GCP_SIM_SIGNUP_TOKEN_TTL_S,
  type GcpMarketplaceEvent,
  type GcpPushBody,
  type GcpPushFaultKind,
  type GcpSimulator,
  GcpSimulatorInputError,
  type GcpSimulatorState,
  GOOGLE_OIDC_ISSUER,
  MARKETPLACE_SIGNUP_ISSUER,
  PROCUREMENT_PAGE_SIZE_DEFAULT,
  startGcpSimulator,
} from '../../../lib/local/simulators/gcp-simulator';

const START = Date.parse('2025-06-01T12:00:00.000Z');
let clockMs = START;
const clock = () => new Date(clockMs);
const iso = (ms: number) => new Date(ms).toISOString();

const PROVIDER = 'acme-saas';
const OTHER_PROVIDER = 'other-co';
const SIGNUP_AUDIENCE = 'https://signup.acme.example';
const PUSH_AUDIENCE = 'https://agora.acme.example/gcp/push';
const PUSH_EMAIL = 'marketplace-push@acme-project.iam.gserviceaccount.com';
const PUSH_SUBSCRIPTION = 'projects/acme-project/subscriptions/marketplace-push';
const PULL_PATH = '/v1/projects/acme-project/subscriptions/marketplace-pull';
const SEED_TIME = '2025-05-01T00:00:00.000Z';
const OFFER = 'projects/acme-project/services/acme.endpoints.acme.cloud.goog/privateOffers/po-1';
const PRODUCT = 'acme.endpoints.acme.cloud.goog';
const BEARER = { authorization: 'Bearer ya29.simulated-access-token' };

function seed(): GcpSimulatorState {
  const entitlement = (id: string, accountId: string, state: string) => ({
    providerId: PROVIDER,
    id,
    accountId,
    product: PRODUCT,
    productExternalName: PRODUCT,
    plan: 'basic',
    state: state as GcpSimulatorState['entitlements'][number]['state'],
    orderId: `order-${id}`,
    createTime: SEED_TIME,
    updateTime: SEED_TIME,
  });
  return {
    providers: [
      { providerId: PROVIDER, signupAudience: SIGNUP_AUDIENCE },
      { providerId: OTHER_PROVIDER, signupAudience: 'https://other.example' },
    ],
    accounts: [
      {
        providerId: PROVIDER,
        id: 'acct-approved',
        state: 'ACCOUNT_ACTIVE',
        approvals: [
          { name: 'signup', state: 'APPROVED', reason: 'welcome', updateTime: SEED_TIME },
        ],
        inputProperties: { company: 'Initech' },
        createTime: SEED_TIME,
        updateTime: SEED_TIME,
      },
      {
        providerId: PROVIDER,
        id: 'acct-pending',
        state: 'ACCOUNT_ACTIVE',
        approvals: [{ name: 'signup', state: 'PENDING', updateTime: SEED_TIME }],
        createTime: SEED_TIME,
        updateTime: SEED_TIME,
      },
      {
        providerId: PROVIDER,
        id: 'acct-legacy',
        state: 'ACCOUNT_ACTIVATION_REQUESTED',
        approvals: [],
        createTime: SEED_TIME,
        updateTime: SEED_TIME,
      },
      {
        providerId: OTHER_PROVIDER,
        id: 'acct-other',
        state: 'ACCOUNT_ACTIVE',
        approvals: [{ name: 'signup', state: 'APPROVED' }],
        createTime: SEED_TIME,
        updateTime: SEED_TIME,
      },
    ],
    entitlements: [
      entitlement('ent-requested', 'acct-approved', 'ENTITLEMENT_ACTIVATION_REQUESTED'),
      entitlement('ent-unapproved-acct', 'acct-pending', 'ENTITLEMENT_ACTIVATION_REQUESTED'),
      {
        ...entitlement('ent-active', 'acct-approved', 'ENTITLEMENT_ACTIVE'),
        usageReportingId: 'project_number:123456789012',
        offer: OFFER,
        offerDuration: 'P1Y',
        offerEndTime: '2026-01-01T00:00:00.000Z',
        consumers: [{ project: 'projects/123456789012' }],
      },
      {
        ...entitlement('ent-change', 'acct-approved', 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL'),
        newPendingPlan: 'pro',
      },
      {
        ...entitlement('ent-cancelled', 'acct-approved', 'ENTITLEMENT_CANCELLED'),
        cancellationReason: 'user-cancelled',
      },
      {
        ...entitlement('ent-other', 'acct-other', 'ENTITLEMENT_ACTIVE'),
        providerId: OTHER_PROVIDER,
      },
    ],
    ackDeadlineMs: 30_000,
  };
}

// --- a push endpoint -------------------------------------------------------------------------

interface ReceivedPush {
  readonly headers: IncomingHttpHeaders;
  readonly body: GcpPushBody;
}

interface Receiver {
  readonly url: string;
  readonly received: ReceivedPush[];
  /** Statuses to answer, in order; 204 once they run out. */
  statuses: number[];
  /** Runs before the answer (the seller's handler). */
  onPush: ((push: ReceivedPush) => Promise<void>) | null;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Omit<Receiver, 'url' | 'close'> = { received: [], statuses: [], onPush: null };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const push = {
        headers: request.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as GcpPushBody,
      };
      receiver.received.push(push);
      const answer = () => response.writeHead(receiver.statuses.shift() ?? 204).end();
      if (receiver.onPush === null) answer();
      else receiver.onPush(push).then(answer, () => response.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/gcp/push`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

// --- helpers ---------------------------------------------------------------------------------

let sim: GcpSimulator;
let receiver: Receiver;
let oidcJwks: ReturnType<typeof createRemoteJWKSet>;
let signupJwks: ReturnType<typeof createRemoteJWKSet>;

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = BEARER,
) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

const control = (method: string, path: string, body?: unknown) => api(method, path, body, {});
const procurement = (path: string) => `/v1/providers/${PROVIDER}/${path}`;

function decodeEvent(data: string): GcpMarketplaceEvent {
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as GcpMarketplaceEvent;
}

const pushedEvents = () => receiver.received.map((r) => decodeEvent(r.body.message.data));
const pushedTypes = () => pushedEvents().map((e) => e.eventType);
const publishedTypes = () => sim.published().map((m) => m.event.eventType);

function bearer(push: ReceivedPush | undefined): string {
  const header = push?.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
    throw new Error('the push carried no Bearer token');
  }
  return header.slice('Bearer '.length);
}

async function verifyPushToken(token: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, oidcJwks, {
    issuer: GOOGLE_OIDC_ISSUER,
    audience: PUSH_AUDIENCE,
    algorithms: ['RS256'],
    currentDate: clock(),
  });
  return payload;
}

async function verifySignupToken(token: string, audience = SIGNUP_AUDIENCE): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, signupJwks, {
    issuer: MARKETPLACE_SIGNUP_ISSUER,
    audience,
    algorithms: ['RS256'],
    currentDate: clock(),
  });
  return payload;
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error as Error & Record<string, unknown>;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, it resolved');
}

const pushTarget = () => ({
  url: receiver.url,
  audience: PUSH_AUDIENCE,
  serviceAccountEmail: PUSH_EMAIL,
  subscription: PUSH_SUBSCRIPTION,
});

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await startGcpSimulator({ state: seed(), now: clock });
  oidcJwks = createRemoteJWKSet(new URL(sim.oidcJwksUrl));
  signupJwks = createRemoteJWKSet(new URL(sim.signupJwksUrl));
});

afterAll(async () => {
  await sim?.close();
  await receiver?.close();
});

beforeEach(async () => {
  await sim.idle();
  clockMs = START;
  sim.setState(seed());
  sim.clearFaults();
  sim.clearHistory();
  sim.setPushTarget(pushTarget());
  receiver.received.length = 0;
  receiver.statuses = [];
  receiver.onPush = null;
});

// ---------------------------------------------------------------------------------------------

describe('keys and tokens', () => {
  it('serves one RS256 public key (no private members) at both JWKS paths', async () => {
    const oidc = await control('GET', '/oauth2/v3/certs');
    const signup = await control(
      'GET',
      '/service_accounts/v1/jwk/cloud-commerce-partner@system.gserviceaccount.com',
    );
    expect(oidc.status).toBe(200);
    expect(signup.body).toEqual(oidc.body);
    expect(oidc.body.keys).toHaveLength(1);
    const [key] = oidc.body.keys;
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(key).not.toHaveProperty('d');
    expect(sim.oidcJwksUrl).toBe(`${sim.url}/oauth2/v3/certs`);
  });

  it('push OIDC tokens carry Google’s claims and verify against the served JWKS', async () => {
    const token = await sim.mintPushToken();
    const payload = await verifyPushToken(token);
    expect(payload).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: PUSH_AUDIENCE,
      email: PUSH_EMAIL,
      email_verified: true,
      iat: START / 1000,
      exp: START / 1000 + GCP_SIM_PUSH_TOKEN_TTL_S,
    });
    expect(payload.sub).toMatch(/^\d{21}$/);
    expect(payload.azp).toBe(payload.sub);
    const jwks = (await control('GET', '/oauth2/v3/certs')).body;
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      kid: jwks.keys[0].kid,
      typ: 'JWT',
    });
  });

  it('sign-up tokens carry the account, roles and orders, and verify against their JWKS', async () => {
    const { accountId, entitlementId, signupToken } = await sim.purchase({
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'basic',
      accountId: 'acct-new',
    });
    const payload = await verifySignupToken(signupToken);
    expect(payload).toMatchObject({
      iss: MARKETPLACE_SIGNUP_ISSUER,
      aud: SIGNUP_AUDIENCE,
      sub: accountId,
      iat: START / 1000,
      exp: START / 1000 + GCP_SIM_SIGNUP_TOKEN_TTL_S,
      google: { roles: ['account_admin'], orders: [entitlementId] },
    });
    expect((payload.google as { user_identity: string }).user_identity).toMatch(/^\d{21}$/);
    // The same account's later token lists every order.
    const second = await sim.purchase({
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'pro',
      accountId,
    });
    const again = await verifySignupToken(second.signupToken);
    expect((again.google as { orders: string[] }).orders).toEqual([
      entitlementId,
      second.entitlementId,
    ]);
    // A sign-up token is not a push token, and the other way round.
    await expect(verifyPushToken(signupToken)).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
    await expect(verifySignupToken(await sim.mintPushToken())).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
  });

  it('token overrides: attacker key, expiry, claims, audience', async () => {
    const forged = await sim.mintPushToken({ signer: 'attacker' });
    await expect(verifyPushToken(forged)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
    const expired = await sim.mintSignupToken({ accountId: 'acct-approved', ttlSeconds: -1 });
    await expect(verifySignupToken(expired)).rejects.toBeInstanceOf(errors.JWTExpired);
    const noEmail = await sim.mintPushToken({
      claims: { email: undefined, email_verified: false },
    });
    const payload = await verifyPushToken(noEmail);
    expect(payload).not.toHaveProperty('email');
    expect(payload.email_verified).toBe(false);
    const elsewhere = await sim.mintSignupToken({ accountId: 'acct-approved', audience: 'x.test' });
    await expect(verifySignupToken(elsewhere)).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
    expect((await verifySignupToken(elsewhere, 'x.test')).sub).toBe('acct-approved');
    sim.setPushTarget(null);
    await expect(sim.mintPushToken()).rejects.toBeInstanceOf(GcpSimulatorInputError);
    expect(
      await verifyPushToken(await sim.mintPushToken({ audience: PUSH_AUDIENCE, email: 'a@b.c' })),
    ).toMatchObject({ email: 'a@b.c' });
    await expect(sim.mintSignupToken({ accountId: 'nobody' })).rejects.toThrow(/audience/);
  });

  it('POST /_sim/signup-token mints for an existing account, with an optional audience', async () => {
    const minted = await control('POST', '/_sim/signup-token', { accountId: 'acct-approved' });
    expect(minted.status).toBe(200);
    const payload = await verifySignupToken(minted.body.token);
    expect(payload.sub).toBe('acct-approved');
    expect((payload.google as { orders: string[] }).orders).toEqual([
      'ent-requested',
      'ent-active',
      'ent-change',
      'ent-cancelled',
    ]);
    const other = await control('POST', '/_sim/signup-token', {
      accountId: 'acct-other',
      audience: 'https://custom.example',
    });
    expect((await verifySignupToken(other.body.token, 'https://custom.example')).sub).toBe(
      'acct-other',
    );
    const fromProvider = await control('POST', '/_sim/signup-token', { accountId: 'acct-other' });
    expect((await verifySignupToken(fromProvider.body.token, 'https://other.example')).sub).toBe(
      'acct-other',
    );
    const missing = await control('POST', '/_sim/signup-token', { accountId: 'acct-missing' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });
});

describe('push delivery', () => {
  it('pushes Pub/Sub’s envelope with a verifiable OIDC token; a 2xx acknowledges', async () => {
    const { entitlementId, published } = await sim.purchase({
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'basic',
    });
    // purchase() resolved after its push: the delivery is already there.
    expect(receiver.received).toHaveLength(1);
    const push = receiver.received[0];
    const message = published[0];
    expect(push?.body).toEqual({
      message: {
        data: message?.data,
        messageId: message?.messageId,
        message_id: message?.messageId,
        publishTime: iso(START),
        publish_time: iso(START),
        attributes: {},
      },
      subscription: PUSH_SUBSCRIPTION,
    });
    expect(push?.headers['content-type']).toBe('application/json');
    expect(message?.messageId).toMatch(/^\d+$/);
    expect(decodeEvent(push?.body.message.data ?? '')).toEqual({
      eventId: message?.event.eventId,
      eventType: 'ENTITLEMENT_CREATION_REQUESTED',
      providerId: PROVIDER,
      entitlement: { id: entitlementId, updateTime: iso(START) },
    });
    const claims = await verifyPushToken(bearer(push));
    expect(claims.email).toBe(PUSH_EMAIL);
    expect(sim.pushDeliveries()).toEqual([
      expect.objectContaining({
        messageId: message?.messageId,
        eventType: 'ENTITLEMENT_CREATION_REQUESTED',
        attempt: 1,
        fault: null,
        url: receiver.url,
        subscription: PUSH_SUBSCRIPTION,
        status: 204,
        error: null,
        acked: true,
        at: iso(START),
      }),
    ]);
  });

  it('retries a non-2xx answer a bounded number of times, recording every attempt', async () => {
    receiver.statuses = [500, 503];
    await sim.suspend('ent-active');
    expect(sim.pushDeliveries().map((d) => [d.attempt, d.status, d.acked])).toEqual([
      [1, 500, false],
      [2, 503, false],
      [3, 204, true],
    ]);
    expect(new Set(receiver.received.map((r) => r.body.message.messageId)).size).toBe(1);

    sim.clearHistory();
    receiver.statuses = Array.from({ length: GCP_SIM_PUSH_ATTEMPTS_MAX + 2 }, () => 429);
    await sim.publishEvent({ providerId: PROVIDER, eventType: 'ACCOUNT_DELETED', accountId: 'x' });
    const attempts = sim.pushDeliveries();
    expect(attempts).toHaveLength(GCP_SIM_PUSH_ATTEMPTS_MAX);
    expect(attempts.every((d) => d.status === 429 && !d.acked)).toBe(true);
  });

  it('records a push that cannot connect as an error, not an ack', async () => {
    const closed = await startReceiver();
    await closed.close();
    sim.setPushTarget({ ...pushTarget(), url: closed.url });
    await sim.suspend('ent-active');
    const attempts = sim.pushDeliveries();
    expect(attempts).toHaveLength(GCP_SIM_PUSH_ATTEMPTS_MAX);
    expect(attempts.every((d) => d.status === null && d.error !== null && !d.acked)).toBe(true);
  });

  it('each token fault breaks exactly what it should, for one message only', async () => {
    const cases: Array<[GcpPushFaultKind, (push: ReceivedPush) => Promise<void>]> = [
      [
        'bad-signature',
        async (push) => {
          const jwks = (await control('GET', '/oauth2/v3/certs')).body;
          // Same kid as the real key, so it is the signature that fails, not the key lookup.
          expect(decodeProtectedHeader(bearer(push)).kid).toBe(jwks.keys[0].kid);
          await expect(verifyPushToken(bearer(push))).rejects.toBeInstanceOf(
            errors.JWSSignatureVerificationFailed,
          );
        },
      ],
      [
        'wrong-audience',
        async (push) => {
          const error = await rejection(verifyPushToken(bearer(push)));
          expect(error).toBeInstanceOf(errors.JWTClaimValidationFailed);
          expect(error.claim).toBe('aud');
        },
      ],
      [
        'wrong-email',
        async (push) => {
          const payload = await verifyPushToken(bearer(push));
          expect(payload.email).not.toBe(PUSH_EMAIL);
          expect(payload.email).toMatch(/@/);
        },
      ],
      [
        'no-token',
        async (push) => {
          expect(push.headers.authorization).toBeUndefined();
        },
      ],
      [
        'expired-token',
        async (push) => {
          await expect(verifyPushToken(bearer(push))).rejects.toBeInstanceOf(errors.JWTExpired);
        },
      ],
      [
        'malformed-data',
        async (push) => {
          await verifyPushToken(bearer(push));
          const text = Buffer.from(push.body.message.data, 'base64').toString('utf8');
          expect(() => JSON.parse(text)).toThrow(SyntaxError);
        },
      ],
    ];
    for (const [kind, check] of cases) {
      receiver.received.length = 0;
      sim.injectFault({ target: 'push', kind, times: 1 });
      await sim.publishEvent({
        providerId: PROVIDER,
        eventType: 'ACCOUNT_DELETED',
        accountId: kind,
      });
      await sim.publishEvent({
        providerId: PROVIDER,
        eventType: 'ACCOUNT_DELETED',
        accountId: 'ok',
      });
      expect(receiver.received, kind).toHaveLength(2);
      const [faulty, healthy] = receiver.received;
      if (faulty === undefined || healthy === undefined) throw new Error('missing pushes');
      await check(faulty);
      // The next message is clean again.
      expect((await verifyPushToken(bearer(healthy))).email, kind).toBe(PUSH_EMAIL);
      expect(decodeEvent(healthy.body.message.data).account?.id).toBe('ok');
    }
    const faults = sim.pushDeliveries().map((d) => d.fault);
    expect(faults.filter((f) => f !== null)).toEqual(cases.map(([kind]) => kind));
  });

  it('malformed-data corrupts only the push; pull gets the real data', async () => {
    sim.injectFault({ target: 'push', kind: 'malformed-data', times: 1 });
    await sim.suspend('ent-active');
    const pulled = await api('POST', `${PULL_PATH}:pull`, { maxMessages: 10 });
    expect(decodeEvent(pulled.body.receivedMessages[0].message.data).eventType).toBe(
      'ENTITLEMENT_SUSPENDED',
    );
  });

  it('duplicate pushes one message twice (for `times` messages)', async () => {
    sim.injectFault({ target: 'push', kind: 'duplicate', times: 2 });
    await sim.suspend('ent-active');
    await sim.cancel('ent-active', { immediate: true });
    const ids = receiver.received.map((r) => r.body.message.messageId);
    const [a, b, c] = sim.published().map((m) => m.messageId);
    expect(ids).toEqual([a, a, b, b, c]);
    expect(pushedTypes()).toEqual([
      'ENTITLEMENT_SUSPENDED',
      'ENTITLEMENT_SUSPENDED',
      'ENTITLEMENT_PENDING_CANCELLATION',
      'ENTITLEMENT_PENDING_CANCELLATION',
      'ENTITLEMENT_CANCELLED',
    ]);
  });

  it('reorder holds a message back until after the next one', async () => {
    sim.injectFault({ target: 'push', kind: 'reorder', times: 1 });
    await sim.cancel('ent-active', { immediate: true });
    expect(publishedTypes()).toEqual(['ENTITLEMENT_PENDING_CANCELLATION', 'ENTITLEMENT_CANCELLED']);
    expect(pushedTypes()).toEqual(['ENTITLEMENT_CANCELLED', 'ENTITLEMENT_PENDING_CANCELLATION']);
    expect(sim.pushDeliveries().map((d) => d.fault)).toEqual([null, 'reorder']);

    // A held message with nothing after it waits for a flush.
    receiver.received.length = 0;
    sim.injectFault({ target: 'push', kind: 'reorder', times: 1 });
    await sim.renew('ent-other');
    expect(receiver.received).toHaveLength(0);
    const flushed = await control('POST', '/_sim/flush-held-pushes');
    expect(flushed.status).toBe(204);
    expect(pushedTypes()).toEqual(['ENTITLEMENT_RENEWED']);
  });

  it('without a push target nothing is pushed, and the message is still pullable', async () => {
    expect((await control('DELETE', '/_sim/push-target')).status).toBe(204);
    await sim.suspend('ent-active');
    expect(receiver.received).toHaveLength(0);
    expect(sim.pushDeliveries()).toHaveLength(0);
    const pulled = await api('POST', `${PULL_PATH}:pull`, { maxMessages: 1 });
    expect(pulled.body.receivedMessages).toHaveLength(1);
    const set = await control('POST', '/_sim/push-target', pushTarget());
    expect(set.status).toBe(204);
    await sim.renew('ent-other');
    expect(pushedTypes()).toEqual(['ENTITLEMENT_RENEWED']);
  });

  it('a push handler may call the Procurement API while the push is open (no deadlock)', async () => {
    receiver.onPush = async (push) => {
      const event = decodeEvent(push.body.message.data);
      if (event.eventType !== 'ENTITLEMENT_CREATION_REQUESTED' || !event.entitlement) return;
      const entitlement = await api('GET', procurement(`entitlements/${event.entitlement.id}`));
      const accountId = String(entitlement.body.account).split('/').at(-1);
      expect((await api('POST', procurement(`accounts/${accountId}:approve`), {})).status).toBe(
        200,
      );
      const approved = await api(
        'POST',
        procurement(`entitlements/${event.entitlement.id}:approve`),
        {},
      );
      expect(approved.status).toBe(200);
    };
    const { accountId, entitlementId } = await sim.purchase({
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'basic',
    });
    await sim.idle();
    expect(pushedEvents().map((e) => [e.eventType, e.account?.id ?? e.entitlement?.id])).toEqual([
      ['ENTITLEMENT_CREATION_REQUESTED', entitlementId],
      ['ACCOUNT_ACTIVE', accountId],
      ['ENTITLEMENT_ACTIVE', entitlementId],
    ]);
    expect(sim.pushDeliveries().every((d) => d.acked)).toBe(true);
  });
});

describe('Procurement API: authentication, routing, faults', () => {
  it('answers 401 UNAUTHENTICATED without a non-empty Bearer token', async () => {
    for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: 'Basic abc' }]) {
      const response = await api('GET', procurement('accounts/acct-approved'), undefined, headers);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: { code: 401, message: expect.any(String), status: 'UNAUTHENTICATED' },
      });
    }
    const pull = await api('POST', `${PULL_PATH}:pull`, { maxMessages: 1 }, {});
    expect(pull.status).toBe(401);
  });

  it('answers NOT_FOUND for unknown URLs and INVALID_ARGUMENT for bad input', async () => {
    const unknown = await api('GET', `/v1/providers/${PROVIDER}/widgets`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.status).toBe('NOT_FOUND');
    const wrongMethod = await api('DELETE', procurement('entitlements/ent-active'));
    expect(wrongMethod.status).toBe(404);
    const unknownVerb = await api('POST', procurement('entitlements/ent-active:explode'), {});
    expect(unknownVerb.status).toBe(404);

    const badJson = await api('POST', procurement('entitlements/ent-requested:reject'), '{nope');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    const unknownField = await api('POST', procurement('entitlements/ent-requested:reject'), {
      reason: 'x',
      colour: 'red',
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toContain('Unknown name "colour"');
    const unknownQuery = await api('GET', procurement('entitlements?colour=red'));
    expect(unknownQuery.status).toBe(400);
    expect(unknownQuery.body.error.message).toContain('colour');
    // System parameters are accepted.
    expect(
      (await api('GET', procurement('entitlements/ent-active?alt=json&prettyPrint=false'))).status,
    ).toBe(200);
    // Nothing changed.
    expect(sim.state()).toEqual(seed());
  });

  it('a provider the caller has no access to is PERMISSION_DENIED', async () => {
    const response = await api('GET', '/v1/providers/not-mine/entitlements');
    expect(response.status).toBe(403);
    expect(response.body.error.status).toBe('PERMISSION_DENIED');
  });

  it('throttle and server-error faults hit the named method, `times` times, in order', async () => {
    sim.injectFault({ target: 'GetEntitlement', kind: 'throttle', times: 2 });
    sim.injectFault({ target: 'GetEntitlement', kind: 'server-error', times: 1 });
    const get = () => api('GET', procurement('entitlements/ent-active'));
    // Another method is not affected.
    expect((await api('GET', procurement('accounts/acct-approved'))).status).toBe(200);
    const first = await get();
    expect(first.status).toBe(429);
    expect(first.body).toEqual({
      error: { code: 429, message: expect.any(String), status: 'RESOURCE_EXHAUSTED' },
    });
    expect((await get()).status).toBe(429);
    const third = await get();
    expect(third.status).toBe(500);
    expect(third.body.error).toMatchObject({ code: 500, status: 'INTERNAL' });
    expect((await get()).status).toBe(200);

    const viaHttp = await control('POST', '/_sim/faults', {
      target: '*',
      kind: 'server-error',
      times: 1,
    });
    expect(viaHttp.status).toBe(204);
    expect((await api('POST', `${PULL_PATH}:pull`, { maxMessages: 1 })).status).toBe(500);
    expect((await api('POST', `${PULL_PATH}:pull`, { maxMessages: 1 })).status).toBe(200);

    sim.injectFault({ target: 'ApproveEntitlement', kind: 'throttle', times: 5 });
    expect((await control('DELETE', '/_sim/faults')).status).toBe(204);
    expect((await api('POST', procurement('entitlements/ent-requested:approve'), {})).status).toBe(
      200,
    );
  });

  it('logs every API call with its method, path and input', async () => {
    await api('GET', procurement('entitlements?pageSize=2&filter=state%3DACTIVE'));
    await api('POST', procurement('accounts/acct-pending:approve'), { reason: 'ok' });
    await api('POST', `${PULL_PATH}:pull`, { maxMessages: 3 });
    const calls = (await control('GET', '/_sim/calls')).body.calls;
    expect(calls).toEqual([
      {
        method: 'ListEntitlements',
        path: `/v1/providers/${PROVIDER}/entitlements`,
        input: { pageSize: '2', filter: 'state=ACTIVE' },
      },
      {
        method: 'ApproveAccount',
        path: `/v1/providers/${PROVIDER}/accounts/acct-pending:approve`,
        input: { reason: 'ok' },
      },
      {
        method: 'Pull',
        path: '/v1/projects/acme-project/subscriptions/marketplace-pull:pull',
        input: { maxMessages: 3 },
      },
    ]);
    expect(sim.calls()).toEqual(calls);
  });
});

describe('Procurement API: accounts', () => {
  it('GetAccount answers the Account resource; NOT_FOUND across providers', async () => {
    const response = await api('GET', procurement('accounts/acct-approved'));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      name: `providers/${PROVIDER}/accounts/acct-approved`,
      provider: PROVIDER,
      state: 'ACCOUNT_ACTIVE',
      approvals: [{ name: 'signup', state: 'APPROVED', reason: 'welcome', updateTime: SEED_TIME }],
      inputProperties: { company: 'Initech' },
      createTime: SEED_TIME,
      updateTime: SEED_TIME,
    });
    // proto3 JSON: empty members are left out.
    const legacy = await api('GET', procurement('accounts/acct-legacy'));
    expect(legacy.body).not.toHaveProperty('approvals');
    expect(legacy.body).not.toHaveProperty('inputProperties');
    expect(legacy.body.state).toBe('ACCOUNT_ACTIVATION_REQUESTED');

    const missing = await api('GET', procurement('accounts/acct-nope'));
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    expect((await api('GET', procurement('accounts/acct-other'))).status).toBe(404);
  });

  it('ListAccounts pages with pageSize/pageToken; tokens are bound to the request', async () => {
    const first = await api('GET', procurement('accounts?pageSize=2'));
    expect(first.body.accounts.map((a: { name: string }) => a.name.split('/').at(-1))).toEqual([
      'acct-approved',
      'acct-pending',
    ]);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const second = await api(
      'GET',
      procurement(`accounts?pageSize=2&pageToken=${first.body.nextPageToken}`),
    );
    expect(second.body.accounts.map((a: { name: string }) => a.name.split('/').at(-1))).toEqual([
      'acct-legacy',
    ]);
    expect(second.body).not.toHaveProperty('nextPageToken');
    // All in one page by default (PROCUREMENT_PAGE_SIZE_DEFAULT) and with pageSize=0.
    expect(PROCUREMENT_PAGE_SIZE_DEFAULT).toBeGreaterThan(3);
    expect((await api('GET', procurement('accounts?pageSize=0'))).body.accounts).toHaveLength(3);

    const foreign = await api(
      'GET',
      `/v1/providers/${OTHER_PROVIDER}/accounts?pageToken=${first.body.nextPageToken}`,
    );
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.status).toBe('INVALID_ARGUMENT');
    expect((await api('GET', procurement('accounts?pageToken=garbage'))).status).toBe(400);
    expect((await api('GET', procurement('accounts?pageSize=-1'))).status).toBe(400);
    expect((await api('GET', procurement('accounts?pageSize=ten'))).status).toBe(400);

    sim.setState({ ...seed(), accounts: [], entitlements: [] });
    const empty = await api('GET', procurement('accounts'));
    expect(empty).toMatchObject({ status: 200, body: {} });
  });

  it('ApproveAccount approves "signup", keeps the account active and publishes ACCOUNT_ACTIVE', async () => {
    clockMs = START + 60_000;
    const response = await api('POST', procurement('accounts/acct-pending:approve'), {
      reason: 'é'.repeat(200),
      properties: { tier: 'gold' },
    });
    expect(response).toMatchObject({ status: 200, body: {} });
    await sim.idle();
    const account = (await api('GET', procurement('accounts/acct-pending'))).body;
    expect(account.state).toBe('ACCOUNT_ACTIVE');
    expect(account.updateTime).toBe(iso(START + 60_000));
    expect(account.approvals).toEqual([
      {
        name: 'signup',
        state: 'APPROVED',
        // 256 bytes: 128 two-byte characters.
        reason: 'é'.repeat(128),
        updateTime: iso(START + 60_000),
      },
    ]);
    expect(pushedEvents()).toEqual([
      {
        eventId: expect.any(String),
        eventType: 'ACCOUNT_ACTIVE',
        providerId: PROVIDER,
        account: { id: 'acct-pending', updateTime: iso(START + 60_000) },
      },
    ]);
    // Approving again changes nothing that is announced.
    await api('POST', procurement('accounts/acct-pending:approve'), { approvalName: 'signup' });
    await sim.idle();
    expect(publishedTypes()).toEqual(['ACCOUNT_ACTIVE']);
    // A legacy account in ACCOUNT_ACTIVATION_REQUESTED becomes active once approved.
    const unknownApproval = await api('POST', procurement('accounts/acct-legacy:approve'), {});
    expect(unknownApproval.status).toBe(400);
    expect(unknownApproval.body.error.status).toBe('INVALID_ARGUMENT');
    expect((await api('POST', procurement('accounts/acct-nope:approve'), {})).status).toBe(404);
  });

  it('RejectAccount rejects the approval; ResetAccount puts approvals back to PENDING', async () => {
    const rejected = await api('POST', procurement('accounts/acct-approved:reject'), {
      reason: 'fraud check',
    });
    expect(rejected).toMatchObject({ status: 200, body: {} });
    const afterReject = (await api('GET', procurement('accounts/acct-approved'))).body;
    expect(afterReject.approvals).toEqual([
      { name: 'signup', state: 'REJECTED', reason: 'fraud check', updateTime: iso(START) },
    ]);
    expect(afterReject.updateTime).toBe(iso(START));
    // A rejected sign-up blocks entitlement approval.
    const blocked = await api('POST', procurement('entitlements/ent-requested:approve'), {});
    expect(blocked.status).toBe(400);
    expect(blocked.body.error.status).toBe('FAILED_PRECONDITION');

    clockMs = START + 1_000;
    const reset = await api('POST', procurement('accounts/acct-approved:reset'), {});
    expect(reset).toMatchObject({ status: 200, body: {} });
    const afterReset = (await api('GET', procurement('accounts/acct-approved'))).body;
    expect(afterReset.approvals).toEqual([
      { name: 'signup', state: 'PENDING', updateTime: iso(START + 1_000) },
    ]);
    expect((await api('POST', procurement('accounts/acct-approved:reset'), { x: 1 })).status).toBe(
      400,
    );
    expect(sim.published()).toHaveLength(0);
  });
});

describe('Procurement API: entitlements', () => {
  it('GetEntitlement answers every member of the Entitlement resource', async () => {
    const response = await api('GET', procurement('entitlements/ent-active'));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      name: `providers/${PROVIDER}/entitlements/ent-active`,
      account: `providers/${PROVIDER}/accounts/acct-approved`,
      provider: PROVIDER,
      product: PRODUCT,
      productExternalName: PRODUCT,
      plan: 'basic',
      state: 'ENTITLEMENT_ACTIVE',
      usageReportingId: 'project_number:123456789012',
      offer: OFFER,
      offerDuration: 'P1Y',
      offerEndTime: '2026-01-01T00:00:00.000Z',
      orderId: 'order-ent-active',
      consumers: [{ project: 'projects/123456789012' }],
      createTime: SEED_TIME,
      updateTime: SEED_TIME,
    });
    expect((await api('GET', procurement('entitlements/ent-other'))).status).toBe(404);
    expect((await api('GET', procurement('entitlements/ent-none'))).body.error.status).toBe(
      'NOT_FOUND',
    );
  });

  it('ListEntitlements filters on account and state (AND), plan and more', async () => {
    const ids = async (filter: string) => {
      const response = await api(
        'GET',
        procurement(`entitlements?filter=${encodeURIComponent(filter)}`),
      );
      expect(response.status, filter).toBe(200);
      return (response.body.entitlements ?? []).map((e: { name: string }) =>
        e.name.split('/').at(-1),
      );
    };
    expect(await ids('')).toEqual([
      'ent-requested',
      'ent-unapproved-acct',
      'ent-active',
      'ent-change',
      'ent-cancelled',
    ]);
    expect(await ids('account=acct-pending')).toEqual(['ent-unapproved-acct']);
    expect(await ids('state=ENTITLEMENT_ACTIVATION_REQUESTED')).toEqual([
      'ent-requested',
      'ent-unapproved-acct',
    ]);
    // Documented: case-insensitive, ENTITLEMENT_ prefix optional.
    expect(await ids('state=pending_plan_change_approval')).toEqual(['ent-change']);
    expect(await ids('state=entitlement_cancelled')).toEqual(['ent-cancelled']);
    expect(await ids('account=acct-approved state=ACTIVATION_REQUESTED')).toEqual([
      'ent-requested',
    ]);
    expect(await ids('account=acct-approved AND state=CANCELLED')).toEqual(['ent-cancelled']);
    expect(await ids('account="acct-pending" state=ACTIVE')).toEqual([]);
    expect(await ids(`account=providers/${PROVIDER}/accounts/acct-pending`)).toEqual([
      'ent-unapproved-acct',
    ]);
    expect(await ids('newPendingPlan=pro')).toEqual(['ent-change']);
    expect(await ids(`offer="${OFFER}"`)).toEqual(['ent-active']);

    for (const bad of ['state=LIVE', 'colour=red', 'state=ACTIVE OR state=CANCELLED', 'plan!=x']) {
      const response = await api(
        'GET',
        procurement(`entitlements?filter=${encodeURIComponent(bad)}`),
      );
      expect(response.status, bad).toBe(400);
      expect(response.body.error.status).toBe('INVALID_ARGUMENT');
    }
    const none = await api('GET', procurement('entitlements?filter=account%3Dnobody'));
    expect(none.body).toEqual({});
  });

  it('ListEntitlements pages; a token from one filter is refused under another', async () => {
    const filter = encodeURIComponent('account=acct-approved');
    const first = await api('GET', procurement(`entitlements?filter=${filter}&pageSize=3`));
    expect(first.body.entitlements).toHaveLength(3);
    const token = first.body.nextPageToken as string;
    const second = await api(
      'GET',
      procurement(`entitlements?filter=${filter}&pageSize=3&pageToken=${token}`),
    );
    expect(second.body.entitlements.map((e: { name: string }) => e.name.split('/').at(-1))).toEqual(
      ['ent-cancelled'],
    );
    expect(second.body.nextPageToken).toBeUndefined();
    const foreign = await api('GET', procurement(`entitlements?pageSize=3&pageToken=${token}`));
    expect(foreign.status).toBe(400);
  });

  it('PatchEntitlement updates messageToUser while the entitlement waits; the state change clears it', async () => {
    clockMs = START + 5_000;
    const patched = await api(
      'PATCH',
      procurement('entitlements/ent-requested?updateMask=messageToUser'),
      { messageToUser: 'Provisioning, about 5 minutes' },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: `providers/${PROVIDER}/entitlements/ent-requested`,
      messageToUser: 'Provisioning, about 5 minutes',
      updateTime: iso(START + 5_000),
    });
    const change = await api(
      'PATCH',
      procurement('entitlements/ent-change?updateMask=messageToUser'),
      { messageToUser: 'Reviewing your upgrade', plan: 'ignored' },
    );
    expect(change.body).toMatchObject({ messageToUser: 'Reviewing your upgrade', plan: 'basic' });

    for (const [path, status] of [
      ['entitlements/ent-requested', 'INVALID_ARGUMENT'],
      ['entitlements/ent-requested?updateMask=plan', 'INVALID_ARGUMENT'],
      ['entitlements/ent-requested?updateMask=messageToUser,plan', 'INVALID_ARGUMENT'],
      ['entitlements/ent-active?updateMask=messageToUser', 'FAILED_PRECONDITION'],
    ] as const) {
      const response = await api('PATCH', procurement(path), { messageToUser: 'x' });
      expect(response.status, path).toBe(400);
      expect(response.body.error.status, path).toBe(status);
    }
    const unknown = await api(
      'PATCH',
      procurement('entitlements/ent-requested?updateMask=messageToUser'),
      {
        messageToUser: 'x',
        colour: 'red',
      },
    );
    expect(unknown.status).toBe(400);

    await api('POST', procurement('entitlements/ent-requested:approve'), {});
    const approved = (await api('GET', procurement('entitlements/ent-requested'))).body;
    expect(approved.state).toBe('ENTITLEMENT_ACTIVE');
    expect(approved).not.toHaveProperty('messageToUser');
  });

  it('ApproveEntitlement needs ACTIVATION_REQUESTED and an approved sign-up; publishes ENTITLEMENT_ACTIVE', async () => {
    const unapproved = await api(
      'POST',
      procurement('entitlements/ent-unapproved-acct:approve'),
      {},
    );
    expect(unapproved.status).toBe(400);
    expect(unapproved.body.error).toMatchObject({ code: 400, status: 'FAILED_PRECONDITION' });
    expect(unapproved.body.error.message).toContain('acct-pending');

    await api('POST', procurement('accounts/acct-pending:approve'), {});
    clockMs = START + 2_000;
    const approved = await api('POST', procurement('entitlements/ent-unapproved-acct:approve'), {
      properties: { region: 'eu' },
    });
    expect(approved).toMatchObject({ status: 200, body: {} });
    await sim.idle();
    expect(pushedEvents().map((e) => [e.eventType, e.account?.id ?? e.entitlement?.id])).toEqual([
      ['ACCOUNT_ACTIVE', 'acct-pending'],
      ['ENTITLEMENT_ACTIVE', 'ent-unapproved-acct'],
    ]);
    expect(pushedEvents()[1]?.entitlement?.updateTime).toBe(iso(START + 2_000));
    const entitlement = (await api('GET', procurement('entitlements/ent-unapproved-acct'))).body;
    expect(entitlement).toMatchObject({
      state: 'ENTITLEMENT_ACTIVE',
      updateTime: iso(START + 2_000),
    });

    const again = await api('POST', procurement('entitlements/ent-unapproved-acct:approve'), {});
    expect(again.body.error.status).toBe('FAILED_PRECONDITION');
    expect((await api('POST', procurement('entitlements/ent-none:approve'), {})).status).toBe(404);
  });

  it('RejectEntitlement cancels a requested entitlement and publishes ENTITLEMENT_CANCELLED', async () => {
    const rejected = await api('POST', procurement('entitlements/ent-requested:reject'), {
      reason: 'Region not supported',
    });
    expect(rejected).toMatchObject({ status: 200, body: {} });
    await sim.idle();
    expect((await api('GET', procurement('entitlements/ent-requested'))).body.state).toBe(
      'ENTITLEMENT_CANCELLED',
    );
    expect(pushedTypes()).toEqual(['ENTITLEMENT_CANCELLED']);
    const wrongState = await api('POST', procurement('entitlements/ent-active:reject'), {});
    expect(wrongState.body.error.status).toBe('FAILED_PRECONDITION');
  });

  it('ApproveEntitlementPlanChange checks its preconditions, then changes the plan at once', async () => {
    const path = procurement('entitlements/ent-change:approvePlanChange');
    const missing = await api('POST', path, {});
    expect(missing.body.error.status).toBe('INVALID_ARGUMENT');
    const wrongPlan = await api('POST', path, { pendingPlanName: 'enterprise' });
    expect(wrongPlan.body.error.status).toBe('FAILED_PRECONDITION');
    const wrongState = await api('POST', procurement('entitlements/ent-active:approvePlanChange'), {
      pendingPlanName: 'pro',
    });
    expect(wrongState.body.error.status).toBe('FAILED_PRECONDITION');
    expect(sim.state()).toEqual(seed());

    expect(await api('POST', path, { pendingPlanName: 'pro' })).toMatchObject({
      status: 200,
      body: {},
    });
    await sim.idle();
    const entitlement = (await api('GET', procurement('entitlements/ent-change'))).body;
    expect(entitlement).toMatchObject({ state: 'ENTITLEMENT_ACTIVE', plan: 'pro' });
    expect(entitlement).not.toHaveProperty('newPendingPlan');
    expect(pushedEvents()).toEqual([
      expect.objectContaining({
        eventType: 'ENTITLEMENT_PLAN_CHANGED',
        entitlement: { id: 'ent-change', updateTime: iso(START), newPlan: 'pro' },
      }),
    ]);
  });

  it('a plan change asked to start later waits in PENDING_PLAN_CHANGE until advance', async () => {
    const later = iso(START + 86_400_000);
    const requested = await sim.requestPlanChange('ent-active', {
      plan: 'pro',
      newOfferStartTime: later,
    });
    expect(requested.entitlement).toMatchObject({
      state: 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL',
      newPendingPlan: 'pro',
    });
    // Google leaves newOfferStartTime empty while the change awaits approval.
    expect(requested.entitlement).not.toHaveProperty('newOfferStartTime');

    await api('POST', procurement('entitlements/ent-active:approvePlanChange'), {
      pendingPlanName: 'pro',
    });
    await sim.idle();
    const pending = (await api('GET', procurement('entitlements/ent-active'))).body;
    expect(pending).toMatchObject({
      state: 'ENTITLEMENT_PENDING_PLAN_CHANGE',
      plan: 'basic',
      newPendingPlan: 'pro',
      newOfferStartTime: later,
    });
    expect(publishedTypes()).toEqual(['ENTITLEMENT_PLAN_CHANGE_REQUESTED']);

    expect(await sim.advance()).toEqual({ changed: [], published: [] });
    clockMs = START + 86_400_000;
    const advanced = await control('POST', '/_sim/advance');
    expect(advanced.status).toBe(200);
    expect(advanced.body.changed).toEqual(['ent-active']);
    expect(advanced.body.published.map((m: { event: GcpMarketplaceEvent }) => m.event)).toEqual([
      expect.objectContaining({
        eventType: 'ENTITLEMENT_PLAN_CHANGED',
        entitlement: { id: 'ent-active', updateTime: later, newPlan: 'pro' },
      }),
    ]);
    const changed = (await api('GET', procurement('entitlements/ent-active'))).body;
    expect(changed).toMatchObject({ state: 'ENTITLEMENT_ACTIVE', plan: 'pro' });
    expect(changed).not.toHaveProperty('newPendingPlan');
    expect(changed).not.toHaveProperty('newOfferStartTime');
    expect(pushedTypes()).toEqual([
      'ENTITLEMENT_PLAN_CHANGE_REQUESTED',
      'ENTITLEMENT_PLAN_CHANGED',
    ]);
  });

  it('RejectEntitlementPlanChange keeps the plan and publishes PLAN_CHANGE_CANCELLED', async () => {
    const path = procurement('entitlements/ent-change:rejectPlanChange');
    expect((await api('POST', path, { reason: 'no' })).body.error.status).toBe('INVALID_ARGUMENT');
    expect((await api('POST', path, { pendingPlanName: 'gold' })).body.error.status).toBe(
      'FAILED_PRECONDITION',
    );
    const rejected = await api('POST', path, { pendingPlanName: 'pro', reason: 'Needs sales' });
    expect(rejected).toMatchObject({ status: 200, body: {} });
    await sim.idle();
    const entitlement = (await api('GET', procurement('entitlements/ent-change'))).body;
    expect(entitlement).toMatchObject({ state: 'ENTITLEMENT_ACTIVE', plan: 'basic' });
    expect(entitlement).not.toHaveProperty('newPendingPlan');
    expect(pushedTypes()).toEqual(['ENTITLEMENT_PLAN_CHANGE_CANCELLED']);
    expect((await api('POST', path, { pendingPlanName: 'pro' })).body.error.status).toBe(
      'FAILED_PRECONDITION',
    );
  });
});

describe('Pub/Sub pull', () => {
  const pull = (maxMessages: number, path = PULL_PATH) =>
    api('POST', `${path}:pull`, { maxMessages });
  const ack = (ackIds: string[], path = PULL_PATH) =>
    api('POST', `${path}:acknowledge`, { ackIds });

  it('pulls published messages in order, limited by maxMessages; acked ones do not return', async () => {
    await sim.cancel('ent-active', { immediate: true });
    await sim.suspend('ent-other');
    const [a, b, c] = sim.published();
    const first = await pull(2);
    expect(first.status).toBe(200);
    expect(first.body.receivedMessages).toEqual([
      {
        ackId: expect.any(String),
        message: {
          data: a?.data,
          messageId: a?.messageId,
          publishTime: iso(START),
          attributes: {},
        },
        deliveryAttempt: 1,
      },
      {
        ackId: expect.any(String),
        message: {
          data: b?.data,
          messageId: b?.messageId,
          publishTime: iso(START),
          attributes: {},
        },
        deliveryAttempt: 1,
      },
    ]);
    expect(decodeEvent(first.body.receivedMessages[1].message.data).eventType).toBe(
      'ENTITLEMENT_CANCELLED',
    );
    const second = await pull(10);
    expect(
      second.body.receivedMessages.map(
        (m: { message: { messageId: string } }) => m.message.messageId,
      ),
    ).toEqual([c?.messageId]);
    // Everything is leased: an empty pull answers {}.
    expect((await pull(10)).body).toEqual({});
    const acked = await ack([
      ...first.body.receivedMessages.map((m: { ackId: string }) => m.ackId),
      second.body.receivedMessages[0].ackId,
    ]);
    expect(acked).toMatchObject({ status: 200, body: {} });
    clockMs = START + 60_000;
    expect((await pull(10)).body).toEqual({});
  });

  it('redelivers an unacknowledged message after the ack deadline; a stale ackId does not ack', async () => {
    await sim.suspend('ent-active');
    const first = await pull(5);
    const stale = first.body.receivedMessages[0].ackId as string;
    clockMs = START + 29_999;
    expect((await pull(5)).body).toEqual({});
    clockMs = START + 30_000;
    const second = await pull(5);
    expect(second.body.receivedMessages).toHaveLength(1);
    expect(second.body.receivedMessages[0].deliveryAttempt).toBe(2);
    expect(second.body.receivedMessages[0].ackId).not.toBe(stale);
    // The first delivery's ackId is out of date.
    expect((await ack([stale])).status).toBe(200);
    clockMs = START + 60_000;
    const third = await pull(5);
    expect(third.body.receivedMessages[0].deliveryAttempt).toBe(3);
    await ack([third.body.receivedMessages[0].ackId]);
    clockMs = START + 120_000;
    expect((await pull(5)).body).toEqual({});
  });

  it('the ack deadline comes from the state; subscriptions are independent', async () => {
    sim.setState({ ...seed(), ackDeadlineMs: 0 });
    await sim.suspend('ent-active');
    const once = await pull(1);
    const again = await pull(1);
    expect(again.body.receivedMessages[0].message.messageId).toBe(
      once.body.receivedMessages[0].message.messageId,
    );
    expect(again.body.receivedMessages[0].deliveryAttempt).toBe(2);
    const other = '/v1/projects/acme-project/subscriptions/other-sub';
    const elsewhere = await pull(1, other);
    expect(elsewhere.body.receivedMessages[0].deliveryAttempt).toBe(1);
    // An ackId of one subscription is invalid at another.
    const crossed = await ack([elsewhere.body.receivedMessages[0].ackId]);
    expect(crossed.status).toBe(400);
    expect(crossed.body.error.status).toBe('INVALID_ARGUMENT');
  });

  it('refuses bad pull and acknowledge requests with INVALID_ARGUMENT', async () => {
    for (const [path, body] of [
      [`${PULL_PATH}:pull`, {}],
      [`${PULL_PATH}:pull`, { maxMessages: 0 }],
      [`${PULL_PATH}:pull`, { maxMessages: 1, colour: 'red' }],
      [`${PULL_PATH}:acknowledge`, { ackIds: [] }],
      [`${PULL_PATH}:acknowledge`, { ackIds: ['not-an-ack-id'] }],
    ] as const) {
      const response = await api('POST', path, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.status).toBe('INVALID_ARGUMENT');
    }
    expect((await api('GET', `${PULL_PATH}:pull`)).status).toBe(404);
  });
});

describe('the buyer’s side', () => {
  it('purchase creates the account (sign-up PENDING, no event) and a requested entitlement', async () => {
    clockMs = START + 10_000;
    const result = await control('POST', '/_sim/purchase', {
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'basic',
      accountId: 'acct-fresh',
      entitlementId: 'ent-fresh',
      offer: OFFER,
      offerDuration: 'P1Y',
      offerEndTime: '2026-06-01T12:00:10.000Z',
      usageReportingId: 'project_number:999',
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ accountId: 'acct-fresh', entitlementId: 'ent-fresh' });
    expect((await verifySignupToken(result.body.signupToken)).sub).toBe('acct-fresh');
    const account = (await api('GET', procurement('accounts/acct-fresh'))).body;
    expect(account).toEqual({
      name: `providers/${PROVIDER}/accounts/acct-fresh`,
      provider: PROVIDER,
      state: 'ACCOUNT_ACTIVE',
      approvals: [{ name: 'signup', state: 'PENDING', updateTime: iso(START + 10_000) }],
      createTime: iso(START + 10_000),
      updateTime: iso(START + 10_000),
    });
    const entitlement = (await api('GET', procurement('entitlements/ent-fresh'))).body;
    expect(entitlement).toEqual({
      name: `providers/${PROVIDER}/entitlements/ent-fresh`,
      account: `providers/${PROVIDER}/accounts/acct-fresh`,
      provider: PROVIDER,
      product: PRODUCT,
      productExternalName: PRODUCT,
      plan: 'basic',
      state: 'ENTITLEMENT_ACTIVATION_REQUESTED',
      usageReportingId: 'project_number:999',
      offer: OFFER,
      offerDuration: 'P1Y',
      offerEndTime: '2026-06-01T12:00:10.000Z',
      orderId: 'ent-fresh',
      createTime: iso(START + 10_000),
      updateTime: iso(START + 10_000),
    });
    expect(pushedTypes()).toEqual(['ENTITLEMENT_CREATION_REQUESTED']);

    // An existing account is reused: still no ACCOUNT_ACTIVE, one more entitlement.
    const again = await sim.purchase({
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'pro',
      accountId: 'acct-fresh',
    });
    expect(again.entitlementId).not.toBe('ent-fresh');
    expect(sim.state().accounts.filter((a) => a.id === 'acct-fresh')).toHaveLength(1);
    expect(publishedTypes()).toEqual([
      'ENTITLEMENT_CREATION_REQUESTED',
      'ENTITLEMENT_CREATION_REQUESTED',
    ]);
    // Without ids, fresh ones are made.
    const anonymous = await sim.purchase({ providerId: PROVIDER, product: PRODUCT, plan: 'basic' });
    expect(anonymous.accountId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('purchase refuses an unknown provider, a taken entitlement id and a foreign account', async () => {
    const base = { product: PRODUCT, plan: 'basic' };
    const unknown = await control('POST', '/_sim/purchase', { ...base, providerId: 'nobody' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const taken = await control('POST', '/_sim/purchase', {
      ...base,
      providerId: PROVIDER,
      entitlementId: 'ent-active',
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({
      code: 'failed_precondition',
      details: [{ path: 'entitlementId', message: 'already exists' }],
    });
    const foreign = await control('POST', '/_sim/purchase', {
      ...base,
      providerId: PROVIDER,
      accountId: 'acct-other',
    });
    expect(foreign.status).toBe(409);
    const invalid = await control('POST', '/_sim/purchase', {
      providerId: PROVIDER,
      product: PRODUCT,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details[0].path).toBe('plan');
    expect(sim.state()).toEqual(seed());
    expect(sim.published()).toHaveLength(0);
  });

  it('request-plan-change moves to PENDING_PLAN_CHANGE_APPROVAL and announces the new plan', async () => {
    const later = iso(START + 3_600_000);
    const response = await control('POST', '/_sim/entitlements/ent-active/request-plan-change', {
      plan: 'enterprise',
      newOfferStartTime: later,
    });
    expect(response.status).toBe(200);
    expect(response.body.entitlement).toMatchObject({
      state: 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL',
      plan: 'basic',
      newPendingPlan: 'enterprise',
    });
    expect(pushedEvents()).toEqual([
      {
        eventId: expect.any(String),
        eventType: 'ENTITLEMENT_PLAN_CHANGE_REQUESTED',
        providerId: PROVIDER,
        entitlement: {
          id: 'ent-active',
          updateTime: iso(START),
          newPlan: 'enterprise',
          newOfferStartTime: later,
        },
      },
    ]);
    const same = await control('POST', '/_sim/entitlements/ent-other/request-plan-change', {
      plan: 'basic',
    });
    expect(same.status).toBe(409);
    const notActive = await control(
      'POST',
      '/_sim/entitlements/ent-requested/request-plan-change',
      {
        plan: 'pro',
      },
    );
    expect(notActive.status).toBe(409);
    expect(notActive.body.error.message).toContain('ENTITLEMENT_ACTIVATION_REQUESTED');
  });

  it('cancel: PENDING_CANCELLATION until the offer ends, then CANCELLED on advance', async () => {
    const cancelled = await control('POST', '/_sim/entitlements/ent-active/cancel', {});
    expect(cancelled.body.entitlement).toMatchObject({
      state: 'ENTITLEMENT_PENDING_CANCELLATION',
      cancellationReason: 'user-cancelled',
      subscriptionEndTime: '2026-01-01T00:00:00.000Z',
    });
    expect(pushedTypes()).toEqual(['ENTITLEMENT_PENDING_CANCELLATION']);
    expect((await control('POST', '/_sim/advance')).body).toEqual({ changed: [], published: [] });
    clockMs = Date.parse('2026-01-01T00:00:00.000Z');
    const advanced = await sim.advance();
    expect(advanced.changed).toEqual(['ent-active']);
    expect(pushedTypes()).toEqual(['ENTITLEMENT_PENDING_CANCELLATION', 'ENTITLEMENT_CANCELLED']);
    expect(sim.state().entitlements.find((e) => e.id === 'ent-active')?.state).toBe(
      'ENTITLEMENT_CANCELLED',
    );
  });

  it('cancel without an offer end is due at once; immediate cancels in one step', async () => {
    await sim.cancel('ent-other');
    expect((await sim.advance()).changed).toEqual(['ent-other']);
    const immediate = await sim.cancel('ent-active', { immediate: true });
    expect(immediate.entitlement.state).toBe('ENTITLEMENT_CANCELLED');
    expect(immediate.published.map((m) => m.event.eventType)).toEqual([
      'ENTITLEMENT_PENDING_CANCELLATION',
      'ENTITLEMENT_CANCELLED',
    ]);
    // Before approval the order is withdrawn directly.
    const aborted = await sim.cancel('ent-requested');
    expect(aborted.entitlement).toMatchObject({
      state: 'ENTITLEMENT_CANCELLED',
      cancellationReason: 'user-aborted',
    });
    expect(aborted.published.map((m) => m.event.eventType)).toEqual(['ENTITLEMENT_CANCELLED']);
    // A pending plan change is dropped by the cancellation.
    const dropped = await sim.cancel('ent-change');
    expect(dropped.entitlement).not.toHaveProperty('newPendingPlan');
    expect(pushedTypes()).toEqual([
      'ENTITLEMENT_PENDING_CANCELLATION',
      'ENTITLEMENT_CANCELLED',
      'ENTITLEMENT_PENDING_CANCELLATION',
      'ENTITLEMENT_CANCELLED',
      'ENTITLEMENT_CANCELLED',
      'ENTITLEMENT_PENDING_CANCELLATION',
    ]);
    const twice = await rejection(sim.cancel('ent-cancelled'));
    expect(twice).toBeInstanceOf(GcpSimulatorInputError);
    expect(twice.status).toBe(409);
  });

  it('revert-cancellation returns to ACTIVE and announces it', async () => {
    await sim.cancel('ent-active');
    const reverted = await control('POST', '/_sim/entitlements/ent-active/revert-cancellation');
    expect(reverted.status).toBe(200);
    expect(reverted.body.entitlement.state).toBe('ENTITLEMENT_ACTIVE');
    expect(reverted.body.entitlement).not.toHaveProperty('cancellationReason');
    expect(reverted.body.entitlement).not.toHaveProperty('subscriptionEndTime');
    expect(pushedTypes()).toEqual([
      'ENTITLEMENT_PENDING_CANCELLATION',
      'ENTITLEMENT_CANCELLATION_REVERTED',
    ]);
    // Nothing is due any more.
    clockMs = Date.parse('2027-01-01T00:00:00.000Z');
    expect((await sim.advance()).changed).toEqual([]);
    const again = await control('POST', '/_sim/entitlements/ent-active/revert-cancellation');
    expect(again.status).toBe(409);
  });

  it('suspend moves an active entitlement to SUSPENDED', async () => {
    const suspended = await control('POST', '/_sim/entitlements/ent-active/suspend');
    expect(suspended.body.entitlement.state).toBe('ENTITLEMENT_SUSPENDED');
    expect(suspended.body.published[0].event.eventType).toBe('ENTITLEMENT_SUSPENDED');
    expect(pushedTypes()).toEqual(['ENTITLEMENT_SUSPENDED']);
    expect((await control('POST', '/_sim/entitlements/ent-active/suspend')).status).toBe(409);
    expect((await control('POST', '/_sim/entitlements/ent-missing/suspend')).status).toBe(404);
  });

  it('end-offer announces OFFER_ENDED, and cancels unless told to continue', async () => {
    clockMs = START + 1_000;
    const continued = await control('POST', '/_sim/entitlements/ent-active/end-offer', {
      continue: true,
    });
    expect(continued.body.entitlement).toMatchObject({
      state: 'ENTITLEMENT_ACTIVE',
      offerEndTime: iso(START + 1_000),
    });
    const ended = await control('POST', '/_sim/entitlements/ent-other/end-offer', {});
    expect(ended.body.entitlement).toMatchObject({
      state: 'ENTITLEMENT_CANCELLED',
      cancellationReason: 'expired',
    });
    expect(pushedEvents().map((e) => [e.eventType, e.entitlement?.id])).toEqual([
      ['ENTITLEMENT_OFFER_ENDED', 'ent-active'],
      ['ENTITLEMENT_OFFER_ENDED', 'ent-other'],
      ['ENTITLEMENT_CANCELLED', 'ent-other'],
    ]);
    expect((await control('POST', '/_sim/entitlements/ent-requested/end-offer')).status).toBe(409);
  });

  it('renew announces RENEWED and moves offerEndTime on by the duration or to a given time', async () => {
    const renewed = await control('POST', '/_sim/entitlements/ent-active/renew');
    expect(renewed.body.entitlement.offerEndTime).toBe('2027-01-01T00:00:00.000Z');
    const explicit = await sim.renew('ent-active', { offerEndTime: '2030-01-01T00:00:00.000Z' });
    expect(explicit.entitlement.offerEndTime).toBe('2030-01-01T00:00:00.000Z');
    const noEnd = await sim.renew('ent-other');
    expect(noEnd.entitlement).not.toHaveProperty('offerEndTime');
    expect(pushedTypes()).toEqual([
      'ENTITLEMENT_RENEWED',
      'ENTITLEMENT_RENEWED',
      'ENTITLEMENT_RENEWED',
    ]);
    expect((await control('POST', '/_sim/entitlements/ent-cancelled/renew')).status).toBe(409);
  });

  it('/_sim/publish sends a raw event (ACCOUNT_DELETED, OFFER_ACCEPTED) without changing state', async () => {
    const deleted = await control('POST', '/_sim/publish', {
      providerId: PROVIDER,
      eventType: 'ACCOUNT_DELETED',
      accountId: 'acct-approved',
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body.event).toMatchObject({
      eventType: 'ACCOUNT_DELETED',
      account: { id: 'acct-approved', updateTime: SEED_TIME },
    });
    await sim.publishEvent({
      providerId: PROVIDER,
      eventType: 'ENTITLEMENT_OFFER_ACCEPTED',
      entitlementId: 'ent-active',
      newOfferStartTime: '2025-07-01T00:00:00.000Z',
    });
    expect(pushedEvents()[1]).toMatchObject({
      eventType: 'ENTITLEMENT_OFFER_ACCEPTED',
      entitlement: {
        id: 'ent-active',
        updateTime: SEED_TIME,
        newOfferStartTime: '2025-07-01T00:00:00.000Z',
      },
    });
    const incomplete = await control('POST', '/_sim/publish', {
      providerId: PROVIDER,
      eventType: 'ENTITLEMENT_RENEWED',
    });
    expect(incomplete.status).toBe(400);
    expect(incomplete.body.error.details[0].path).toBe('entitlementId');
    expect(sim.state()).toEqual(seed());
  });
});

describe('control endpoints (/_sim)', () => {
  it('GET/POST /_sim/state round-trips and validates references and duplicates', async () => {
    const state = await control('GET', '/_sim/state');
    expect(state.body).toEqual(seed());
    const replaced = await control('POST', '/_sim/state', {
      ...seed(),
      entitlements: [],
      ackDeadlineMs: 5,
    });
    expect(replaced.status).toBe(204);
    expect(sim.state().ackDeadlineMs).toBe(5);
    expect((await api('GET', procurement('entitlements'))).body).toEqual({});

    const bad = seed();
    const dangling = await control('POST', '/_sim/state', {
      ...bad,
      entitlements: [{ ...bad.entitlements[0], accountId: 'acct-ghost' }],
    });
    expect(dangling.status).toBe(400);
    expect(dangling.body.error.details[0].path).toBe('entitlements.0.accountId');
    const duplicate = await control('POST', '/_sim/state', {
      ...bad,
      accounts: [...bad.accounts, bad.accounts[0]],
    });
    expect(duplicate.body.error.message).toContain('duplicate account id');
    const orphan = await control('POST', '/_sim/state', { ...bad, providers: [] });
    expect(orphan.body.error.message).toContain('unknown provider');
    const wrongState = await control('POST', '/_sim/state', {
      ...bad,
      entitlements: [{ ...bad.entitlements[0], state: 'LIVE' }],
    });
    expect(wrongState.body.error.details[0].path).toBe('entitlements.0.state');
    expect(sim.state().entitlements).toEqual([]);
  });

  it('validates faults and push targets', async () => {
    const pushKindOnApi = await control('POST', '/_sim/faults', {
      target: 'GetEntitlement',
      kind: 'duplicate',
      times: 1,
    });
    expect(pushKindOnApi.status).toBe(400);
    expect(pushKindOnApi.body.error.details[0].path).toBe('kind');
    const apiKindOnPush = await control('POST', '/_sim/faults', {
      target: 'push',
      kind: 'throttle',
      times: 1,
    });
    expect(apiKindOnPush.status).toBe(400);
    const unknownMethod = await control('POST', '/_sim/faults', {
      target: 'DeleteEntitlement',
      kind: 'throttle',
      times: 1,
    });
    expect(unknownMethod.body.error.details[0].path).toBe('target');
    expect(() => sim.injectFault({ target: 'push', kind: 'reorder', times: 0 })).toThrow(/times/);

    const badTarget = await control('POST', '/_sim/push-target', {
      ...pushTarget(),
      subscription: 'marketplace-push',
    });
    expect(badTarget.status).toBe(400);
    expect(badTarget.body.error.details[0].path).toBe('subscription');
    expect(() => sim.setPushTarget({ ...pushTarget(), url: 'ftp://x' })).toThrow(
      GcpSimulatorInputError,
    );
  });

  it('GET /_sim/published and /_sim/push-deliveries report; DELETE /_sim/history forgets', async () => {
    await sim.suspend('ent-active');
    const published = await control('GET', '/_sim/published');
    expect(published.body.messages).toHaveLength(1);
    expect(published.body.messages[0].event.eventType).toBe('ENTITLEMENT_SUSPENDED');
    expect(decodeEvent(published.body.messages[0].data)).toEqual(published.body.messages[0].event);
    const deliveries = await control('GET', '/_sim/push-deliveries');
    expect(deliveries.body.deliveries).toEqual([
      expect.objectContaining({ messageId: published.body.messages[0].messageId, acked: true }),
    ]);
    expect(deliveries.body.deliveries[0].authorization).toMatch(/^Bearer /);
    expect((await control('POST', '/_sim/idle')).status).toBe(204);
    expect((await control('DELETE', '/_sim/history')).status).toBe(204);
    expect(sim.published()).toEqual([]);
    expect(sim.pushDeliveries()).toEqual([]);
    expect((await api('POST', `${PULL_PATH}:pull`, { maxMessages: 5 })).body).toEqual({});
  });

  it('answers 404, 405, invalid_json and 413 like the other simulators', async () => {
    expect((await control('GET', '/_sim/nothing')).status).toBe(404);
    const wrongMethod = await control('PUT', '/_sim/faults', {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, DELETE');
    const notJson = await control('POST', '/_sim/purchase', '{oops');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');
    const big = await fetch(`${sim.url}/_sim/state`, {
      method: 'POST',
      body: 'x'.repeat(GCP_SIM_BODY_BYTES_MAX + 1),
    });
    expect(big.status).toBe(413);
    const bigApi = await fetch(`${sim.url}${PULL_PATH}:pull`, {
      method: 'POST',
      headers: BEARER,
      body: 'x'.repeat(GCP_SIM_BODY_BYTES_MAX + 1),
    });
    expect(bigApi.status).toBe(413);
    expect(sim.state()).toEqual(seed());
  });

  it('the in-process API validates too', async () => {
    expect(() => sim.setState({ ...seed(), ackDeadlineMs: -1 })).toThrow(GcpSimulatorInputError);
    await expect(
      sim.purchase({ providerId: PROVIDER, product: '', plan: 'basic' }),
    ).rejects.toBeInstanceOf(GcpSimulatorInputError);
    await expect(sim.requestPlanChange('ent-active', { plan: '' })).rejects.toThrow(/plan/);
    await expect(sim.signupToken({ accountId: 'nobody' })).rejects.toThrow(/No account/);
    expect(sim.state()).toEqual(seed());
  });
});

describe('lifecycle', () => {
  let other: GcpSimulator | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });

  it('starts empty on a free port with its own keys, and stops answering after close', async () => {
    other = await startGcpSimulator();
    expect(other.port).toBeGreaterThan(0);
    expect(other.port).not.toBe(sim.port);
    expect(other.state()).toEqual({
      providers: [],
      accounts: [],
      entitlements: [],
      ackDeadlineMs: 10_000,
    });
    // Another simulator's token does not verify against this one's keys.
    const foreign = await other.mintPushToken({ audience: PUSH_AUDIENCE, email: PUSH_EMAIL });
    await expect(verifyPushToken(foreign)).rejects.toThrow();
    const url = other.url;
    await other.close();
    other = undefined;
    await expect(fetch(`${url}/_sim/state`)).rejects.toThrow();
  });
});
