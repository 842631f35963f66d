// Proves the Microsoft marketplace simulator plays Microsoft's side over real HTTP: Entra issues
// tokens that verify against its JWKS and refuses bad clients like Entra; every SaaS Fulfillment
// v2 call answers its documented shape and errors; the buyer's actions change state and POST
// webhooks whose Entra tokens verify with jose, with auto-accept, PATCH Success/Failure, 4xx
// rejection, DELETE-refused reinstate, bounded retries, and every injected fault breaking exactly
// what it names.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ACCESS_TOKEN_LIFETIME_SECONDS,
  type AzureSimulator,
  AzureSimulatorInputError,
  type AzureSimulatorStateInput,
  LANDING_TOKEN_LIFETIME_MS,
  MARKETPLACE_APP_ID,
  SIM_BODY_BYTES_MAX,
  type SimSubscription,
  SUBSCRIPTIONS_PAGE_SIZE,
  startAzureSimulator,
  WEBHOOK_RETRIES,
  WEBHOOK_TIMEOUT_MS,
  type WebhookFaultKind,
} from '../../../lib/local/simulators/azure-simulator';

const PUBLISHER_TENANT = '11111111-1111-4111-8111-111111111111';
const APP_ID = '22222222-2222-4222-8222-222222222222';
const APP_SECRET = 'app-secret-value';
const OTHER_TENANT = '33333333-3333-4333-8333-333333333333';
const OTHER_APP = '44444444-4444-4444-8444-444444444444';
/** The offer's Entra app (technical configuration): the webhook token audience. */
const OFFER_AUDIENCE = '55555555-5555-4555-8555-555555555555';
const BUYER_TENANT = '66666666-6666-4666-8666-666666666666';
const START = new Date('2025-03-15T15:30:00.000Z');

let clock = START;
const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};

function seed(overrides: Partial<AzureSimulatorStateInput> = {}): AzureSimulatorStateInput {
  return {
    publisherId: 'contoso',
    apps: [
      { tenantId: PUBLISHER_TENANT, clientId: APP_ID, clientSecret: APP_SECRET },
      { tenantId: OTHER_TENANT, clientId: OTHER_APP, clientSecret: 'other-secret' },
    ],
    offers: [
      {
        offerId: 'offer-seats',
        plans: [{ planId: 'silver' }, { planId: 'gold' }, { planId: 'yearly', termUnit: 'P1Y' }],
      },
      { offerId: 'offer-flat', plans: [{ planId: 'flat' }, { planId: 'flat-plus' }] },
    ],
    subscriptions: [],
    operations: [],
    landingTokens: [],
    autoAcceptMs: 0,
    ...overrides,
  };
}

// --- a webhook receiver ------------------------------------------------------------------------

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

type Responder = (received: Received, index: number) => number | Promise<number>;

interface Receiver {
  readonly url: string;
  readonly received: Received[];
  respond: Responder;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = {
    url: '',
    received: [] as Received[],
    respond: (() => 200) as Responder,
    close: async (): Promise<void> => undefined,
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const received = { headers: request.headers, text, body: JSON.parse(text) };
      receiver.received.push(received);
      Promise.resolve(receiver.respond(received, receiver.received.length - 1))
        .then((status) => {
          if (!response.destroyed) response.writeHead(status).end();
        })
        .catch(() => {
          if (!response.destroyed) response.writeHead(500).end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/webhook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

const bearerOf = (received: Received | undefined): string => {
  const header = received?.headers.authorization ?? '';
  expect(header).toMatch(/^Bearer \S+$/);
  return header.slice('Bearer '.length);
};

// --- HTTP helpers --------------------------------------------------------------------------------

let sim: AzureSimulator;
let receiver: Receiver;
let token: string;

async function requestToken(
  form: Record<string, string>,
  tenantId = PUBLISHER_TENANT,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(sim.tokenUrl(tenantId), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const validForm = () => ({
  grant_type: 'client_credentials',
  client_id: APP_ID,
  client_secret: APP_SECRET,
  scope: `${MARKETPLACE_APP_ID}/.default`,
});

async function fetchToken(): Promise<string> {
  const { status, body } = await requestToken(validForm());
  expect(status).toBe(200);
  return String(body.access_token);
}

interface ApiOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** null: no Authorization header. Default: the current token. */
  readonly token?: string | null;
  /** null: no api-version. */
  readonly apiVersion?: string | null;
}

async function api(method: string, path: string, options: ApiOptions = {}) {
  const url = new URL(path.startsWith('http') ? path : `${sim.url}/api/saas/subscriptions${path}`);
  const apiVersion = options.apiVersion === undefined ? '2018-08-31' : options.apiVersion;
  if (apiVersion !== null && !url.searchParams.has('api-version')) {
    url.searchParams.set('api-version', apiVersion);
  }
  const bearer = options.token === undefined ? token : options.token;
  const response = await fetch(url, {
    method,
    headers: {
      ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

async function control(method: string, path: string, body?: unknown) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

/** A purchase activated through the API: a Subscribed subscription. */
async function subscribed(
  input: {
    offerId?: string;
    planId?: string;
    /** null: a flat-rate purchase. Default 10. */
    quantity?: number | null;
    subscriptionId?: string;
  } = {},
): Promise<string> {
  const planId = input.planId ?? 'silver';
  const { subscriptionId } = sim.purchase({
    offerId: input.offerId ?? 'offer-seats',
    planId,
    beneficiaryTenantId: BUYER_TENANT,
    ...(input.quantity === null ? {} : { quantity: input.quantity ?? 10 }),
    ...(input.subscriptionId === undefined ? {} : { subscriptionId: input.subscriptionId }),
  });
  const activated = await api('POST', `/${subscriptionId}/activate`, { body: { planId } });
  expect(activated.status).toBe(200);
  return subscriptionId;
}

const subscriptionOf = (id: string): SimSubscription => {
  const found = sim.state().subscriptions.find((s) => s.id === id);
  if (found === undefined) throw new Error(`no subscription ${id}`);
  return found;
};
const operationOf = (id: string) => sim.state().operations.find((o) => o.id === id);

/** Claim names whose values differ between two payloads. */
function differingClaims(a: JWTPayload, b: JWTPayload): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => JSON.stringify(a[n]) !== JSON.stringify(b[n])).sort();
}

/** The kid of the (single) key a JWKS URL serves. */
async function servedKid(url: string): Promise<unknown> {
  const { keys } = (await (await fetch(url)).json()) as { keys: Array<{ kid?: unknown }> };
  expect(keys).toHaveLength(1);
  return keys[0]?.kid;
}

const jwks = () => createRemoteJWKSet(new URL(sim.jwksUrl(PUBLISHER_TENANT)));
const verifyWebhookToken = (jwt: string) =>
  jwtVerify(jwt, jwks(), {
    issuer: sim.issuerUrl(PUBLISHER_TENANT),
    audience: OFFER_AUDIENCE,
    currentDate: clock,
  });

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error as Error & Record<string, unknown>;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, it resolved');
}

beforeAll(async () => {
  sim = await startAzureSimulator({ state: seed(), now: () => clock });
  receiver = await startReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await sim?.close();
});

beforeEach(async () => {
  clock = START;
  sim.setState(seed());
  sim.clearFaults();
  sim.setWebhookTarget({ url: receiver.url, audience: OFFER_AUDIENCE, tenantId: PUBLISHER_TENANT });
  receiver.received.length = 0;
  receiver.respond = () => 200;
  token = await fetchToken();
});

// ------------------------------------------------------------------------------------------------

describe('Entra ID', () => {
  it('issues a client-credentials token that verifies against the JWKS (tenant and common)', async () => {
    const { status, body } = await requestToken(validForm());
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: ACCESS_TOKEN_LIFETIME_SECONDS });
    expect(ACCESS_TOKEN_LIFETIME_SECONDS).toBe(3599);
    const accessToken = String(body.access_token);
    for (const tenant of [PUBLISHER_TENANT, 'common']) {
      const keys = createRemoteJWKSet(new URL(sim.jwksUrl(tenant)));
      const { payload, protectedHeader } = await jwtVerify(accessToken, keys, {
        issuer: `https://sts.windows.net/${PUBLISHER_TENANT}/`,
        audience: MARKETPLACE_APP_ID,
        currentDate: clock,
      });
      expect(payload).toMatchObject({
        appid: APP_ID,
        tid: PUBLISHER_TENANT,
        ver: '1.0',
        iat: clock.getTime() / 1000,
        exp: clock.getTime() / 1000 + 3599,
      });
      expect(protectedHeader.alg).toBe('RS256');
    }
    const keysResponse = await fetch(sim.jwksUrl('common'));
    const { keys } = (await keysResponse.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(keys[0]?.kid).toBe(decodeProtectedHeader(accessToken).kid);
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('refuses bad clients with Entra’s error body', async () => {
    const wrongSecret = await requestToken({ ...validForm(), client_secret: 'nope' });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(wrongSecret.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret/);
    expect(wrongSecret.body).toHaveProperty('trace_id');
    expect(wrongSecret.body).toHaveProperty('correlation_id');

    const noSecret = await requestToken({ ...validForm(), client_secret: '' });
    expect(noSecret.status).toBe(401);
    expect(noSecret.body).toMatchObject({ error: 'invalid_client', error_codes: [7000218] });

    const unknownApp = await requestToken({
      ...validForm(),
      client_id: '99999999-9999-4999-8999-999999999999',
    });
    expect(unknownApp.status).toBe(400);
    expect(unknownApp.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });

    // A real app, asked for at another tenant's endpoint.
    const wrongTenant = await requestToken({ ...validForm(), client_id: OTHER_APP });
    expect(wrongTenant.status).toBe(400);
    expect(wrongTenant.body.error).toBe('unauthorized_client');

    const unknownTenant = await requestToken(validForm(), '77777777-7777-4777-8777-777777777777');
    expect(unknownTenant.status).toBe(400);
    expect(unknownTenant.body).toMatchObject({ error: 'invalid_request', error_codes: [90002] });

    const grant = await requestToken({ ...validForm(), grant_type: 'password' });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('unsupported_grant_type');

    const noScope = await requestToken({ ...validForm(), scope: '' });
    expect(noScope.status).toBe(400);
    expect(noScope.body).toMatchObject({ error: 'invalid_request', error_codes: [900144] });

    const notDefault = await requestToken({ ...validForm(), scope: MARKETPLACE_APP_ID });
    expect(notDefault.body.error).toBe('invalid_scope');
    const otherResource = await requestToken({
      ...validForm(),
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(otherResource.status).toBe(400);
    expect(otherResource.body.error).toBe('invalid_resource');

    // The other tenant's app gets a token at its own tenant.
    const other = await requestToken(
      { ...validForm(), client_id: OTHER_APP, client_secret: 'other-secret' },
      OTHER_TENANT,
    );
    expect(other.status).toBe(200);
    expect(decodeJwt(String(other.body.access_token)).tid).toBe(OTHER_TENANT);
  });

  it('answers 405 for the wrong method on its endpoints', async () => {
    expect((await fetch(sim.tokenUrl(PUBLISHER_TENANT))).status).toBe(405);
    expect((await fetch(sim.jwksUrl(PUBLISHER_TENANT), { method: 'POST' })).status).toBe(405);
  });
});

describe('Fulfillment API: authentication and api-version', () => {
  it('needs api-version=2018-08-31', async () => {
    expect((await api('GET', '', { apiVersion: null })).status).toBe(400);
    const wrong = await api('GET', '', { apiVersion: '2022-01-01' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain('2018-08-31');
    expect((await api('GET', '')).status).toBe(200);
  });

  it('needs a bearer token the simulator issued, unexpired, of a registered app', async () => {
    const none = await api('GET', '', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await api('GET', '', { token: 'not-a-jwt' })).status).toBe(401);

    // Right claims, wrong key.
    sim.setWebhookTarget({
      url: receiver.url,
      audience: MARKETPLACE_APP_ID,
      tenantId: PUBLISHER_TENANT,
    });
    const forged = await sim.mintWebhookToken({ appid: APP_ID }, { signWith: 'attacker' });
    expect((await api('GET', '', { token: forged })).status).toBe(401);
    // Right key, claims of an app the publisher never registered.
    const stranger = await sim.mintWebhookToken({ appid: '99999999-9999-4999-8999-999999999999' });
    expect((await api('GET', '', { token: stranger })).status).toBe(401);
    // Right key and app, but a webhook-style token for another audience.
    sim.setWebhookTarget({
      url: receiver.url,
      audience: OFFER_AUDIENCE,
      tenantId: PUBLISHER_TENANT,
    });
    expect(
      (await api('GET', '', { token: await sim.mintWebhookToken({ appid: APP_ID }) })).status,
    ).toBe(401);

    // Expiry is judged by the simulator clock.
    advance((ACCESS_TOKEN_LIFETIME_SECONDS - 1) * 1000);
    expect((await api('GET', '')).status).toBe(200);
    advance(2_000);
    const expired = await api('GET', '');
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain('ERR_JWT_EXPIRED');

    // A token of an app removed from the state stops working.
    clock = START;
    sim.setState(seed({ apps: [] }));
    expect((await api('GET', '')).status).toBe(401);
  });

  it('echoes x-ms-requestid / x-ms-correlationid, or generates them', async () => {
    const echoed = await api('GET', '', {
      headers: { 'x-ms-requestid': 'req-1', 'x-ms-correlationid': 'corr-1' },
    });
    expect(echoed.headers.get('x-ms-requestid')).toBe('req-1');
    expect(echoed.headers.get('x-ms-correlationid')).toBe('corr-1');
    const generated = await api('GET', '');
    expect(generated.headers.get('x-ms-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    expect((await api('GET', '/x/y/z/w')).status).toBe(404);
    const wrong = await api('PUT', '/some-id');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, PATCH, DELETE');
    expect((await api('GET', '/some-id/activate')).status).toBe(405);
  });
});

describe('Fulfillment API: subscriptions', () => {
  it('resolve exchanges the landing token (URL-decoded) for the subscription', async () => {
    const purchase = sim.purchase({
      offerId: 'offer-seats',
      planId: 'gold',
      quantity: 25,
      beneficiaryTenantId: BUYER_TENANT,
      name: 'Fabrikam seats',
    });
    // The landing page receives it URL-encoded; Microsoft's tokens carry + / =.
    const landingUrl = `https://seller.example/landing?token=${encodeURIComponent(purchase.token)}`;
    const decoded = new URL(landingUrl).searchParams.get('token') ?? '';
    expect(decoded).toBe(purchase.token);
    const resolved = await api('POST', '/resolve', {
      headers: { 'x-ms-marketplace-token': decoded },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toEqual({
      id: purchase.subscriptionId,
      subscriptionName: 'Fabrikam seats',
      offerId: 'offer-seats',
      planId: 'gold',
      quantity: 25,
      subscription: subscriptionOf(purchase.subscriptionId),
    });
    expect(resolved.body.subscription.saasSubscriptionStatus).toBe('PendingFulfillmentStart');

    const flat = sim.purchase({
      offerId: 'offer-flat',
      planId: 'flat',
      beneficiaryTenantId: BUYER_TENANT,
    });
    const resolvedFlat = await api('POST', '/resolve', {
      headers: { 'x-ms-marketplace-token': flat.token },
    });
    expect(resolvedFlat.body.quantity).toBeNull();
  });

  it('resolve refuses unknown, missing, still-encoded and expired tokens with 400', async () => {
    const { token: landing } = sim.purchase({
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 1,
      beneficiaryTenantId: BUYER_TENANT,
    });
    const resolve = (value?: string) =>
      api(
        'POST',
        '/resolve',
        value === undefined ? {} : { headers: { 'x-ms-marketplace-token': value } },
      );
    expect((await resolve('unknown')).status).toBe(400);
    expect((await resolve()).status).toBe(400);
    expect(landing).toMatch(/=$/);
    expect((await resolve(encodeURIComponent(landing))).status).toBe(400);
    advance(LANDING_TOKEN_LIFETIME_MS - 1_000);
    token = await fetchToken();
    expect((await resolve(landing)).status).toBe(200);
    advance(1_000);
    token = await fetchToken();
    expect((await resolve(landing)).status).toBe(400);
  });

  it('GET /{id} returns every documented member; unknown is 404', async () => {
    const { subscriptionId } = sim.purchase({
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 3,
      beneficiaryTenantId: BUYER_TENANT,
      subscriptionId: 'sub-shape',
      name: 'Shape check',
    });
    const got = await api('GET', `/${subscriptionId}`);
    expect(got.status).toBe(200);
    const party = {
      emailId: expect.stringContaining('@'),
      objectId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenantId: BUYER_TENANT,
      puid: expect.stringMatching(/^[0-9A-F]{16}$/),
    };
    expect(got.body).toEqual({
      id: 'sub-shape',
      name: 'Shape check',
      publisherId: 'contoso',
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 3,
      beneficiary: party,
      purchaser: party,
      allowedCustomerOperations: ['Delete', 'Update', 'Read'],
      sessionMode: 'None',
      isFreeTrial: false,
      isTest: false,
      sandboxType: 'None',
      saasSubscriptionStatus: 'PendingFulfillmentStart',
      term: { startDate: null, endDate: null, termUnit: 'P1M', chargeDuration: null },
      autoRenew: true,
      created: START.toISOString(),
      lastModified: START.toISOString(),
    });
    const missing = await api('GET', '/no-such-subscription');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NotFound');
  });

  it('lists every subscription, 100 a page, with an absolute @nextLink that works as is', async () => {
    for (let i = 0; i < 2 * SUBSCRIPTIONS_PAGE_SIZE + 5; i += 1) {
      sim.purchase({
        offerId: 'offer-flat',
        planId: 'flat',
        beneficiaryTenantId: BUYER_TENANT,
        subscriptionId: `sub-${String(i).padStart(3, '0')}`,
      });
    }
    const ids: string[] = [];
    const sizes: number[] = [];
    let next: string | undefined = '';
    while (next !== undefined) {
      const page = await api('GET', next);
      expect(page.status).toBe(200);
      sizes.push(page.body.subscriptions.length);
      ids.push(...page.body.subscriptions.map((s: SimSubscription) => s.id));
      next = page.body['@nextLink'];
      if (next !== undefined) {
        const link = new URL(next);
        expect(link.origin).toBe(sim.url);
        expect(link.searchParams.get('api-version')).toBe('2018-08-31');
        expect(link.searchParams.get('continuationToken')).toBeTruthy();
      }
    }
    expect(SUBSCRIPTIONS_PAGE_SIZE).toBe(100);
    expect(sizes).toEqual([100, 100, 5]);
    expect(ids).toEqual(sim.state().subscriptions.map((s) => s.id));
    expect(new Set(ids).size).toBe(205);

    expect((await api('GET', '?continuationToken=garbage!!')).status).toBe(400);
    sim.setState(seed());
    const empty = await api('GET', '/');
    expect(empty.body).toEqual({ subscriptions: [] });
  });

  it('activate: Subscribed, term from midnight UTC to one termUnit later; twice is a no-op', async () => {
    const { subscriptionId } = sim.purchase({
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 5,
      beneficiaryTenantId: BUYER_TENANT,
    });
    advance(60_000);
    const first = await api('POST', `/${subscriptionId}/activate`, {
      body: { planId: 'silver', quantity: 5 },
    });
    expect(first.status).toBe(200);
    expect(first.body).toBeNull();
    const activated = subscriptionOf(subscriptionId);
    expect(activated.saasSubscriptionStatus).toBe('Subscribed');
    expect(activated.term).toEqual({
      startDate: '2025-03-15T00:00:00.000Z',
      endDate: '2025-04-15T00:00:00.000Z',
      termUnit: 'P1M',
      chargeDuration: null,
    });
    expect(activated.lastModified).toBe(clock.toISOString());

    advance(60_000);
    expect(
      (await api('POST', `/${subscriptionId}/activate`, { body: { planId: 'silver' } })).status,
    ).toBe(200);
    expect(subscriptionOf(subscriptionId)).toEqual(activated);
  });

  it('activate: yearly, multi-year and month-end terms', async () => {
    clock = new Date('2024-02-29T23:59:59.000Z');
    token = await fetchToken();
    const yearly = await subscribed({ planId: 'yearly' });
    expect(subscriptionOf(yearly).term).toMatchObject({
      startDate: '2024-02-29T00:00:00.000Z',
      endDate: '2025-02-28T00:00:00.000Z',
      termUnit: 'P1Y',
    });
    const { subscriptionId: threeYears } = sim.purchase({
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 1,
      beneficiaryTenantId: BUYER_TENANT,
      termUnit: 'P3Y',
    });
    await api('POST', `/${threeYears}/activate`, { body: { planId: 'silver' } });
    expect(subscriptionOf(threeYears).term.endDate).toBe('2027-02-28T00:00:00.000Z');

    clock = new Date('2025-01-31T08:00:00.000Z');
    token = await fetchToken();
    const monthly = await subscribed();
    expect(subscriptionOf(monthly).term.endDate).toBe('2025-02-28T00:00:00.000Z');
  });

  it('activate refuses another plan, a bad body, Suspended (400), Unsubscribed and unknown (404)', async () => {
    const { subscriptionId } = sim.purchase({
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 5,
      beneficiaryTenantId: BUYER_TENANT,
    });
    expect(
      (await api('POST', `/${subscriptionId}/activate`, { body: { planId: 'gold' } })).status,
    ).toBe(400);
    expect((await api('POST', `/${subscriptionId}/activate`, { body: {} })).status).toBe(400);
    expect((await api('POST', `/${subscriptionId}/activate`, { body: '{nope' })).status).toBe(400);
    expect(subscriptionOf(subscriptionId).saasSubscriptionStatus).toBe('PendingFulfillmentStart');

    const suspended = await subscribed();
    await sim.suspend(suspended);
    expect(
      (await api('POST', `/${suspended}/activate`, { body: { planId: 'silver' } })).status,
    ).toBe(400);

    await sim.unsubscribe(subscriptionId);
    expect(
      (await api('POST', `/${subscriptionId}/activate`, { body: { planId: 'silver' } })).status,
    ).toBe(404);
    expect((await api('POST', '/unknown/activate', { body: { planId: 'silver' } })).status).toBe(
      404,
    );
  });

  it('PATCH changes plan or quantity at once: 202, Operation-Location, a Partner operation', async () => {
    const id = await subscribed({ quantity: 10 });
    advance(5_000);
    const plan = await api('PATCH', `/${id}`, { body: { planId: 'gold' } });
    expect(plan.status).toBe(202);
    const location = plan.headers.get('operation-location') ?? '';
    expect(location).toMatch(
      new RegExp(
        `^${sim.url}/api/saas/subscriptions/${id}/operations/[0-9a-f-]{36}\\?api-version=2018-08-31$`,
      ),
    );
    const operation = await api('GET', location);
    expect(operation.status).toBe(200);
    expect(operation.body).toEqual({
      id: location.split('/operations/')[1]?.split('?')[0],
      activityId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      subscriptionId: id,
      offerId: 'offer-seats',
      publisherId: 'contoso',
      planId: 'gold',
      quantity: 10,
      action: 'ChangePlan',
      timeStamp: clock.toISOString(),
      status: 'Succeeded',
      operationRequestSource: 'Partner',
      errorStatusCode: null,
      errorMessage: null,
    });
    expect(subscriptionOf(id)).toMatchObject({ planId: 'gold', lastModified: clock.toISOString() });

    const quantity = await api('PATCH', `/${id}`, { body: { quantity: 42 } });
    expect(quantity.status).toBe(202);
    const quantityOperation = await api('GET', quantity.headers.get('operation-location') ?? '');
    expect(quantityOperation.body).toMatchObject({
      action: 'ChangeQuantity',
      quantity: 42,
      planId: 'gold',
    });
    expect(subscriptionOf(id).quantity).toBe(42);
    // Partner operations are done: none pending.
    expect((await api('GET', `/${id}/operations`)).body).toEqual({ operations: [] });
  });

  it('PATCH refuses both, neither, the same or an unknown plan, a flat plan’s quantity, a non-Subscribed subscription', async () => {
    const id = await subscribed({ quantity: 10 });
    const patch = (body: unknown, target = id) => api('PATCH', `/${target}`, { body });
    expect((await patch({ planId: 'gold', quantity: 3 })).status).toBe(400);
    expect((await patch({})).status).toBe(400);
    expect((await patch({ planId: 'silver' })).status).toBe(400);
    expect((await patch({ planId: 'platinum' })).status).toBe(400);
    expect((await patch({ planId: 'flat' })).status).toBe(400);
    expect((await patch({ quantity: 10 })).status).toBe(400);
    expect((await patch({ quantity: 0 })).status).toBe(400);
    expect((await patch({ planId: 'gold' }, 'unknown')).status).toBe(404);
    const flat = await subscribed({ offerId: 'offer-flat', planId: 'flat', quantity: null });
    expect(subscriptionOf(flat).quantity).toBeNull();
    expect((await patch({ quantity: 3 }, flat)).status).toBe(400);
    const { subscriptionId: pending } = sim.purchase({
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 1,
      beneficiaryTenantId: BUYER_TENANT,
    });
    expect((await patch({ planId: 'gold' }, pending)).status).toBe(400);
    expect(subscriptionOf(id)).toMatchObject({ planId: 'silver', quantity: 10 });
    expect(sim.state().operations).toEqual([]);
  });

  it('DELETE unsubscribes: 202, Operation-Location, an Unsubscribe Partner operation', async () => {
    const id = await subscribed();
    const deleted = await api('DELETE', `/${id}`);
    expect(deleted.status).toBe(202);
    const operation = await api('GET', deleted.headers.get('operation-location') ?? '');
    expect(operation.body).toMatchObject({
      action: 'Unsubscribe',
      status: 'Succeeded',
      operationRequestSource: 'Partner',
      subscriptionId: id,
    });
    expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Unsubscribed');
    // Still listed and readable: Microsoft keeps unsubscribed subscriptions.
    expect((await api('GET', `/${id}`)).body.saasSubscriptionStatus).toBe('Unsubscribed');
    expect((await api('DELETE', `/${id}`)).status).toBe(404);
    expect((await api('DELETE', '/unknown')).status).toBe(404);
    // No webhook for a publisher-initiated change.
    expect(receiver.received).toEqual([]);
  });
});

describe('Fulfillment API: operations', () => {
  it('lists InProgress operations, gets one, and PATCH Success applies it (then 409)', async () => {
    sim.setState(seed({ autoAcceptMs: 60_000 }));
    const id = await subscribed();
    const { operation } = await sim.changePlan(id, 'gold');
    expect(operation.status).toBe('InProgress');

    const listed = await api('GET', `/${id}/operations`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ operations: [operation] });
    const got = await api('GET', `/${id}/operations/${operation.id}`);
    expect(got.body).toEqual(operation);
    expect(got.body).toMatchObject({
      action: 'ChangePlan',
      planId: 'gold',
      operationRequestSource: 'Azure',
    });

    advance(1_000);
    const accepted = await api('PATCH', `/${id}/operations/${operation.id}`, {
      body: { status: 'Success' },
    });
    expect(accepted.status).toBe(200);
    expect(operationOf(operation.id)?.status).toBe('Succeeded');
    expect(subscriptionOf(id)).toMatchObject({ planId: 'gold', lastModified: clock.toISOString() });
    expect((await api('GET', `/${id}/operations`)).body).toEqual({ operations: [] });

    const again = await api('PATCH', `/${id}/operations/${operation.id}`, {
      body: { status: 'Failure' },
    });
    expect(again.status).toBe(409);
    expect(operationOf(operation.id)?.status).toBe('Succeeded');
  });

  it('refuses a bad PATCH status, unknown operations, and operations of another subscription', async () => {
    sim.setState(seed({ autoAcceptMs: 60_000 }));
    const id = await subscribed();
    const other = await subscribed();
    const { operation } = await sim.changeQuantity(id, 11);
    expect(
      (await api('PATCH', `/${id}/operations/${operation.id}`, { body: { status: 'Done' } }))
        .status,
    ).toBe(400);
    expect((await api('PATCH', `/${id}/operations/${operation.id}`, { body: {} })).status).toBe(
      400,
    );
    expect((await api('GET', `/${id}/operations/unknown`)).status).toBe(404);
    expect((await api('GET', `/${other}/operations/${operation.id}`)).status).toBe(404);
    expect(
      (await api('PATCH', `/${other}/operations/${operation.id}`, { body: { status: 'Success' } }))
        .status,
    ).toBe(404);
    expect((await api('GET', '/unknown/operations')).status).toBe(404);
    expect(operationOf(operation.id)?.status).toBe('InProgress');
  });
});

describe('the buyer’s actions and their webhooks', () => {
  it('change plan: the webhook (body, headers, Entra token) and auto-accept right after delivery', async () => {
    const id = await subscribed({ quantity: 7 });
    advance(1_000);
    const result = await sim.changePlan(id, 'gold');
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    expect(delivery?.headers['content-type']).toBe('application/json');
    expect(delivery?.body).toEqual({
      id: result.operation.id,
      activityId: result.operation.activityId,
      publisherId: 'contoso',
      offerId: 'offer-seats',
      planId: 'gold',
      quantity: 7,
      subscriptionId: id,
      timeStamp: clock.toISOString(),
      action: 'ChangePlan',
      status: 'InProgress',
      operationRequestSource: 'Azure',
      purchaseToken: null,
    });

    const jwt = bearerOf(delivery);
    const { payload, protectedHeader } = await verifyWebhookToken(jwt);
    const servicePrincipal = payload.oid;
    expect(payload).toEqual({
      aud: OFFER_AUDIENCE,
      iss: `https://sts.windows.net/${PUBLISHER_TENANT}/`,
      iat: clock.getTime() / 1000,
      nbf: clock.getTime() / 1000,
      exp: clock.getTime() / 1000 + 3600,
      appid: '20e940b3-4c77-4b0b-9a53-9e16a1b010a7',
      oid: servicePrincipal,
      sub: servicePrincipal,
      tid: PUBLISHER_TENANT,
      ver: '1.0',
    });
    expect(servicePrincipal).toMatch(/^[0-9a-f-]{36}$/);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(protectedHeader.kid).toBe(await servedKid(sim.jwksUrl(PUBLISHER_TENANT)));

    // autoAcceptMs 0: accepted right after the 200.
    expect(result.operation.status).toBe('Succeeded');
    expect(result.subscription.planId).toBe('gold');
    expect(subscriptionOf(id)).toMatchObject({ planId: 'gold', lastModified: clock.toISOString() });
    expect(result.deliveries).toEqual([
      {
        operationId: result.operation.id,
        action: 'ChangePlan',
        status: 200,
        attempt: 1,
        at: clock.toISOString(),
      },
    ]);
  });

  it('change quantity stays InProgress until autoAcceptMs passes, then is applied', async () => {
    sim.setState(seed({ autoAcceptMs: 300 }));
    const id = await subscribed({ quantity: 7 });
    const result = await sim.changeQuantity(id, 9);
    expect(receiver.received[0]?.body).toMatchObject({
      action: 'ChangeQuantity',
      quantity: 9,
      status: 'InProgress',
    });
    expect(result.operation.status).toBe('InProgress');
    expect(subscriptionOf(id).quantity).toBe(7);
    expect((await api('GET', `/${id}/operations`)).body.operations).toHaveLength(1);
    await vi.waitFor(() => expect(operationOf(result.operation.id)?.status).toBe('Succeeded'), {
      timeout: 5_000,
      interval: 25,
    });
    expect(subscriptionOf(id).quantity).toBe(9);
  });

  it('settle() ends the wait at once (deterministic tests), also over /_sim', async () => {
    sim.setState(seed({ autoAcceptMs: 60_000 }));
    const id = await subscribed();
    const { operation } = await sim.changePlan(id, 'gold');
    expect(sim.settle(operation.id)).toMatchObject({ status: 'Succeeded' });
    expect(subscriptionOf(id).planId).toBe('gold');
    expect(sim.settle(operation.id).status).toBe('Succeeded');

    const second = await control('POST', `/_sim/subscriptions/${id}/change-plan`, {
      planId: 'silver',
    });
    expect(second.status).toBe(200);
    const settled = await control('POST', `/_sim/operations/${second.body.operation.id}/settle`);
    expect(settled.status).toBe(200);
    expect(settled.body.status).toBe('Succeeded');
    expect(subscriptionOf(id).planId).toBe('silver');
    expect((await control('POST', '/_sim/operations/unknown/settle')).status).toBe(404);
  });

  it('PATCH Failure rejects: Failed, nothing changes, the timer cannot apply it later', async () => {
    sim.setState(seed({ autoAcceptMs: 400 }));
    const id = await subscribed({ quantity: 4 });
    const { operation } = await sim.changeQuantity(id, 8);
    const rejected = await api('PATCH', `/${id}/operations/${operation.id}`, {
      body: { status: 'Failure' },
    });
    expect(rejected.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(operationOf(operation.id)?.status).toBe('Failed');
    expect(subscriptionOf(id).quantity).toBe(4);
  });

  it('the publisher may answer inside its webhook handler: PATCH Failure before the 200 wins', async () => {
    const id = await subscribed();
    receiver.respond = async (received) => {
      const patched = await api('PATCH', `/${id}/operations/${String(received.body.id)}`, {
        body: { status: 'Failure' },
      });
      return patched.status === 200 ? 200 : 500;
    };
    const result = await sim.changePlan(id, 'gold');
    expect(result.deliveries.map((d) => d.status)).toEqual([200]);
    expect(result.operation.status).toBe('Failed');
    expect(subscriptionOf(id).planId).toBe('silver');
  });

  it('any 4xx answer rejects a change at once, without retries', async () => {
    for (const status of [400, 401, 409, 422]) {
      sim.setState(seed({ autoAcceptMs: 60_000 }));
      const id = await subscribed();
      receiver.respond = () => status;
      const result = await sim.changePlan(id, 'gold');
      expect(result.operation).toMatchObject({ status: 'Failed', errorStatusCode: String(status) });
      expect(result.deliveries.map((d) => d.status)).toEqual([status]);
      expect(subscriptionOf(id).planId).toBe('silver');
    }
  });

  it('another change waits for the pending one (409 operation_in_progress)', async () => {
    sim.setState(seed({ autoAcceptMs: 60_000 }));
    const id = await subscribed();
    await sim.changePlan(id, 'gold');
    const error = await rejection(sim.changeQuantity(id, 3));
    expect(error).toBeInstanceOf(AzureSimulatorInputError);
    expect(error.status).toBe(409);
    expect(error.code).toBe('operation_in_progress');
  });

  it('suspend, renew and unsubscribe: notify-only webhooks (Succeeded) with the subscription', async () => {
    const id = await subscribed({ quantity: 2 });
    advance(86_400_000);
    const suspended = await sim.suspend(id);
    expect(suspended.operation).toMatchObject({ action: 'Suspend', status: 'Succeeded' });
    expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Suspended');
    const suspendBody = receiver.received[0]?.body;
    expect(suspendBody).toMatchObject({
      id: suspended.operation.id,
      action: 'Suspend',
      status: 'Succeeded',
      operationRequestSource: 'Azure',
      subscriptionId: id,
      purchaseToken: null,
    });
    expect(suspendBody?.subscription).toEqual(subscriptionOf(id));
    expect(suspendBody?.subscription).toMatchObject({
      saasSubscriptionStatus: 'Suspended',
      lastModified: clock.toISOString(),
    });

    await sim.reinstate(id);
    const renewed = await sim.renew(id);
    expect(renewed.subscription.term).toMatchObject({
      startDate: '2025-04-15T00:00:00.000Z',
      endDate: '2025-05-15T00:00:00.000Z',
    });
    expect(receiver.received[2]?.body).toMatchObject({ action: 'Renew', status: 'Succeeded' });
    expect(receiver.received[2]?.body.subscription).toMatchObject({
      term: { startDate: '2025-04-15T00:00:00.000Z', endDate: '2025-05-15T00:00:00.000Z' },
    });

    const unsubscribed = await sim.unsubscribe(id);
    expect(unsubscribed.subscription.saasSubscriptionStatus).toBe('Unsubscribed');
    expect(receiver.received[3]?.body).toMatchObject({
      action: 'Unsubscribe',
      status: 'Succeeded',
      subscription: { saasSubscriptionStatus: 'Unsubscribed' },
    });
    expect(receiver.received.map((r) => r.body.action)).toEqual([
      'Suspend',
      'Reinstate',
      'Renew',
      'Unsubscribe',
    ]);
    for (const received of receiver.received) await verifyWebhookToken(bearerOf(received));
  });

  it('reinstate: InProgress without the subscription, applied (Subscribed) after autoAcceptMs', async () => {
    sim.setState(seed({ autoAcceptMs: 250 }));
    const id = await subscribed();
    await sim.suspend(id);
    const result = await sim.reinstate(id);
    const body = receiver.received[1]?.body;
    expect(body).toMatchObject({ action: 'Reinstate', status: 'InProgress', subscriptionId: id });
    expect(body).not.toHaveProperty('subscription');
    expect(result.operation.status).toBe('InProgress');
    expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Suspended');
    await vi.waitFor(() => expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Subscribed'), {
      timeout: 5_000,
      interval: 25,
    });
    expect(operationOf(result.operation.id)?.status).toBe('Succeeded');
  });

  it('reinstate: a 4xx answer does not refuse it (only DELETE does)', async () => {
    const id = await subscribed();
    await sim.suspend(id);
    receiver.respond = () => 400;
    const result = await sim.reinstate(id);
    expect(result.operation.status).toBe('Succeeded');
    expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Subscribed');
  });

  it('reinstate refused by DELETE within autoAcceptMs: Unsubscribed, the reinstate Failed', async () => {
    sim.setState(seed({ autoAcceptMs: 60_000 }));
    const id = await subscribed();
    await sim.suspend(id);
    const { operation } = await sim.reinstate(id);
    const deleted = await api('DELETE', `/${id}`);
    expect(deleted.status).toBe(202);
    expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Unsubscribed');
    expect(operationOf(operation.id)).toMatchObject({ status: 'Failed' });
    // Accepting it later changes nothing.
    expect(sim.settle(operation.id).status).toBe('Failed');
    expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Unsubscribed');
  });

  it('reinstate refused by DELETE from inside the webhook handler, autoAcceptMs 0', async () => {
    const id = await subscribed();
    await sim.suspend(id);
    receiver.respond = async (received) => {
      if (received.body.action !== 'Reinstate') return 200;
      return (await api('DELETE', `/${id}`)).status === 202 ? 200 : 500;
    };
    const result = await sim.reinstate(id);
    expect(result.operation.status).toBe('Failed');
    expect(result.subscription.saasSubscriptionStatus).toBe('Unsubscribed');
  });

  it('actions check the subscription’s status and inputs', async () => {
    const id = await subscribed({ quantity: 5 });
    const expectError = async (promise: Promise<unknown>, status: number, code: string) => {
      const error = await rejection(promise);
      expect(error).toBeInstanceOf(AzureSimulatorInputError);
      expect({ status: error.status, code: error.code }).toEqual({ status, code });
    };
    await expectError(sim.reinstate(id), 409, 'invalid_state');
    await expectError(sim.changePlan(id, 'silver'), 400, 'validation_failed');
    await expectError(sim.changePlan(id, 'nope'), 400, 'validation_failed');
    await expectError(sim.changeQuantity(id, 5), 400, 'validation_failed');
    await expectError(sim.changeQuantity(id, -1), 400, 'validation_failed');
    await expectError(sim.changePlan('unknown', 'gold'), 404, 'not_found');
    await sim.suspend(id);
    await expectError(sim.suspend(id), 409, 'invalid_state');
    await expectError(sim.changePlan(id, 'gold'), 409, 'invalid_state');
    await expectError(sim.renew(id), 409, 'invalid_state');
    await sim.unsubscribe(id);
    await expectError(sim.unsubscribe(id), 409, 'invalid_state');
    expect(receiver.received.map((r) => r.body.action)).toEqual(['Suspend', 'Unsubscribe']);
  });

  it('without a webhook target nothing is sent and changes still auto-accept', async () => {
    sim.setWebhookTarget(null);
    const id = await subscribed();
    const result = await sim.changePlan(id, 'gold');
    expect(result.deliveries).toEqual([]);
    expect(result.operation.status).toBe('Succeeded');
    expect(receiver.received).toEqual([]);
  });
});

describe('webhook retries', () => {
  it('retries 5xx with a short delay and records every attempt', async () => {
    const id = await subscribed();
    receiver.respond = (_received, index) => (index < 2 ? 503 : 200);
    const result = await sim.changePlan(id, 'gold');
    expect(result.deliveries.map((d) => [d.attempt, d.status])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
    expect(result.operation.status).toBe('Succeeded');
    expect(receiver.received.map((r) => r.body.id)).toEqual(Array(3).fill(result.operation.id));
    expect(sim.webhookDeliveries().slice(-3)).toEqual(result.deliveries);
  });

  it('gives up after the bounded retries; an undelivered change fails', async () => {
    const id = await subscribed();
    receiver.respond = () => 500;
    const result = await sim.changePlan(id, 'gold');
    expect(WEBHOOK_RETRIES).toBe(3);
    expect(result.deliveries.map((d) => d.status)).toEqual([500, 500, 500, 500]);
    expect(result.operation.status).toBe('Failed');
    expect(subscriptionOf(id).planId).toBe('silver');
  });

  it('records timeouts (a slow receiver) and connection errors', { timeout: 30_000 }, async () => {
    const id = await subscribed();
    receiver.respond = () =>
      new Promise((resolve) => setTimeout(() => resolve(200), WEBHOOK_TIMEOUT_MS + 500));
    const slow = await sim.suspend(id);
    expect(slow.deliveries.map((d) => d.status)).toEqual(
      Array(WEBHOOK_RETRIES + 1).fill('timeout'),
    );
    // A notify-only action is applied whatever the delivery.
    expect(subscriptionOf(id).saasSubscriptionStatus).toBe('Suspended');

    const closed = await startReceiver();
    const deadUrl = closed.url;
    await closed.close();
    sim.setWebhookTarget({ url: deadUrl, audience: OFFER_AUDIENCE, tenantId: PUBLISHER_TENANT });
    const refused = await sim.unsubscribe(id);
    expect(refused.deliveries.map((d) => d.status)).toEqual(
      Array(WEBHOOK_RETRIES + 1).fill('error'),
    );
  });
});

describe('webhook faults', () => {
  /** Renews once with the fault injected; returns what the receiver got. */
  async function renewWith(kind: WebhookFaultKind) {
    const id = await subscribed();
    sim.injectFault({ target: 'webhook', kind, times: 1 });
    receiver.received.length = 0;
    const result = await sim.renew(id);
    return { id, result, received: [...receiver.received] };
  }

  it('bad-signature: same claims and kid, the signature fails against the JWKS', async () => {
    const baseline = decodeJwt(await sim.mintWebhookToken());
    const { received, result } = await renewWith('bad-signature');
    const jwt = bearerOf(received[0]);
    expect(differingClaims(decodeJwt(jwt), baseline)).toEqual([]);
    expect(decodeProtectedHeader(jwt).kid).toBe(await servedKid(sim.jwksUrl(PUBLISHER_TENANT)));
    await expect(verifyWebhookToken(jwt)).rejects.toBeInstanceOf(
      joseErrors.JWSSignatureVerificationFailed,
    );
    expect(result.deliveries[0]?.fault).toBe('bad-signature');
  });

  it('wrong-audience / wrong-tenant / wrong-appid change exactly their claims; expired-token only the times', async () => {
    const baseline = decodeJwt(await sim.mintWebhookToken());
    const cases: Array<[WebhookFaultKind, string[]]> = [
      ['wrong-audience', ['aud']],
      ['wrong-tenant', ['iss', 'tid']],
      ['wrong-appid', ['appid']],
      ['expired-token', ['exp', 'iat', 'nbf']],
    ];
    for (const [kind, changed] of cases) {
      const { received } = await renewWith(kind);
      const jwt = bearerOf(received[0]);
      const claims = decodeJwt(jwt);
      expect(differingClaims(claims, baseline), kind).toEqual(changed);
      // The signature is good: the key verifies it when the broken claim is not checked.
      if (kind !== 'expired-token') {
        await jwtVerify(jwt, jwks(), { currentDate: clock });
      }
      // wrong-appid passes standard validation (next test).
      if (kind === 'wrong-appid') continue;
      const error = await rejection(verifyWebhookToken(jwt));
      switch (kind) {
        case 'wrong-audience':
          expect(error).toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
          expect(error.claim).toBe('aud');
          expect(claims.aud).not.toBe(OFFER_AUDIENCE);
          break;
        case 'wrong-tenant':
          expect(error).toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
          expect(error.claim).toBe('iss');
          expect(claims.tid).not.toBe(PUBLISHER_TENANT);
          expect(claims.iss).toBe(`https://sts.windows.net/${String(claims.tid)}/`);
          break;
        case 'expired-token':
          expect(error).toBeInstanceOf(joseErrors.JWTExpired);
          expect(Number(claims.exp)).toBeLessThan(clock.getTime() / 1000);
          break;
        default:
          throw new Error(`unexpected ${kind}: ${error.message}`);
      }
    }
  });

  it('wrong-appid passes standard validation: only the appid check catches it', async () => {
    const { received } = await renewWith('wrong-appid');
    const { payload } = await verifyWebhookToken(bearerOf(received[0]));
    expect(payload.appid).not.toBe(MARKETPLACE_APP_ID);
    expect(payload.appid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('no-token: no Authorization header, the body intact', async () => {
    const { received, id } = await renewWith('no-token');
    expect(received[0]?.headers).not.toHaveProperty('authorization');
    expect(received[0]?.body).toMatchObject({ action: 'Renew', subscriptionId: id });
  });

  it('malformed-body: a valid token, no subscriptionId, garbage members', async () => {
    const { received, result } = await renewWith('malformed-body');
    await verifyWebhookToken(bearerOf(received[0]));
    const body = received[0]?.body ?? {};
    expect(body).not.toHaveProperty('subscriptionId');
    expect(body).toMatchObject({ id: result.operation.id, action: 'Renew', unexpected: 'garbage' });
    const extra = Object.keys(body).filter(
      (k) =>
        ![
          'id',
          'activityId',
          'publisherId',
          'offerId',
          'planId',
          'quantity',
          'timeStamp',
          'action',
          'status',
          'operationRequestSource',
          'subscription',
          'purchaseToken',
        ].includes(k),
    );
    expect(extra.length).toBeGreaterThanOrEqual(2);
  });

  it('duplicate: the same webhook twice, both recorded', async () => {
    const { received, result } = await renewWith('duplicate');
    expect(received).toHaveLength(2);
    expect(received[0]?.text).toBe(received[1]?.text);
    expect(result.deliveries.map((d) => [d.attempt, d.status, d.fault])).toEqual([
      [1, 200, 'duplicate'],
      [1, 200, 'duplicate'],
    ]);
  });

  it('a fault lasts `times` deliveries (retries included in one), then deliveries are clean', async () => {
    const id = await subscribed();
    sim.injectFault({ target: 'webhook', kind: 'no-token', times: 2 });
    receiver.respond = (_r, index) => (index === 0 ? 503 : 200);
    const first = await sim.renew(id);
    expect(first.deliveries.map((d) => d.fault)).toEqual(['no-token', 'no-token']);
    await sim.renew(id);
    const third = await sim.renew(id);
    expect(third.deliveries[0]).not.toHaveProperty('fault');
    expect(receiver.received.map((r) => 'authorization' in r.headers)).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });

  it('a receiver that validates tokens turns a corrupted ChangePlan into a rejection', async () => {
    const id = await subscribed();
    receiver.respond = async (received) => {
      try {
        const { payload } = await verifyWebhookToken(bearerOf(received));
        return payload.appid === MARKETPLACE_APP_ID ? 200 : 401;
      } catch {
        return 401;
      }
    };
    sim.injectFault({ target: 'webhook', kind: 'wrong-appid', times: 1 });
    const rejected = await sim.changePlan(id, 'gold');
    expect(rejected.operation).toMatchObject({ status: 'Failed', errorStatusCode: '401' });
    const accepted = await sim.changePlan(id, 'gold');
    expect(accepted.operation.status).toBe('Succeeded');
    expect(subscriptionOf(id).planId).toBe('gold');
  });
});

describe('API faults', () => {
  it('throttle: 429 with Retry-After: 1 for `times` calls of that operation only', async () => {
    const id = await subscribed();
    sim.injectFault({ target: 'GetSubscription', kind: 'throttle', times: 2 });
    // An unauthenticated call does not consume it; another operation is untouched.
    expect((await api('GET', `/${id}`, { token: null })).status).toBe(401);
    expect((await api('GET', '')).status).toBe(200);
    for (let i = 0; i < 2; i += 1) {
      const throttled = await api('GET', `/${id}`);
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toBe('1');
    }
    expect((await api('GET', `/${id}`)).status).toBe(200);
  });

  it('server-error: 500, for any operation with target *', async () => {
    const id = await subscribed();
    sim.injectFault({ target: '*', kind: 'server-error', times: 3 });
    expect((await api('GET', '')).status).toBe(500);
    expect((await api('PATCH', `/${id}`, { body: { planId: 'gold' } })).status).toBe(500);
    expect(
      (await api('POST', '/resolve', { headers: { 'x-ms-marketplace-token': 'x' } })).status,
    ).toBe(500);
    expect(
      (await api('POST', '/resolve', { headers: { 'x-ms-marketplace-token': 'x' } })).status,
    ).toBe(400);
    expect(subscriptionOf(id).planId).toBe('silver');
  });

  it('faults apply in injection order; clearFaults drops pending ones', async () => {
    const id = await subscribed();
    sim.injectFault({ target: 'GetOperation', kind: 'server-error', times: 1 });
    sim.injectFault({ target: 'GetSubscription', kind: 'server-error', times: 1 });
    sim.injectFault({ target: 'GetSubscription', kind: 'throttle', times: 1 });
    expect((await api('GET', `/${id}`)).status).toBe(500);
    expect((await api('GET', `/${id}`)).status).toBe(429);
    sim.clearFaults();
    expect((await api('GET', `/${id}/operations/x`)).status).toBe(404);
  });

  it('refuses faults whose kind does not fit the target', () => {
    expect(() =>
      sim.injectFault({ target: 'webhook', kind: 'throttle', times: 1 } as never),
    ).toThrow(AzureSimulatorInputError);
    expect(() =>
      sim.injectFault({ target: 'GetSubscription', kind: 'duplicate', times: 1 } as never),
    ).toThrow(AzureSimulatorInputError);
    expect(() => sim.injectFault({ target: 'Nope', kind: 'throttle', times: 1 } as never)).toThrow(
      AzureSimulatorInputError,
    );
    expect(() => sim.injectFault({ target: 'webhook', kind: 'duplicate', times: 0 })).toThrow(
      /times/,
    );
  });
});

describe('control endpoints (/_sim)', () => {
  it('webhook-target, purchase and the actions work over HTTP', async () => {
    expect(
      (
        await control('POST', '/_sim/webhook-target', {
          url: receiver.url,
          audience: OFFER_AUDIENCE,
          tenantId: PUBLISHER_TENANT,
        })
      ).status,
    ).toBe(204);
    const purchase = await control('POST', '/_sim/purchase', {
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 3,
      beneficiaryTenantId: BUYER_TENANT,
      subscriptionId: 'sub-http',
      name: 'Over HTTP',
      termUnit: 'P2Y',
    });
    expect(purchase.status).toBe(201);
    expect(purchase.body).toEqual({ subscriptionId: 'sub-http', token: expect.any(String) });
    expect(receiver.received).toEqual([]);
    await api('POST', '/sub-http/activate', { body: { planId: 'silver' } });
    expect(subscriptionOf('sub-http').term.endDate).toBe('2027-03-15T00:00:00.000Z');

    const changed = await control('POST', '/_sim/subscriptions/sub-http/change-quantity', {
      quantity: 6,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.operation).toMatchObject({ action: 'ChangeQuantity', status: 'Succeeded' });
    expect(changed.body.subscription.quantity).toBe(6);
    expect(changed.body.deliveries).toHaveLength(1);
    for (const action of ['change-plan', 'suspend', 'reinstate', 'renew', 'unsubscribe']) {
      const body = action === 'change-plan' ? { planId: 'gold' } : undefined;
      const answer = await control('POST', `/_sim/subscriptions/sub-http/${action}`, body);
      expect(answer.status, action).toBe(200);
    }
    expect(receiver.received.map((r) => r.body.action)).toEqual([
      'ChangeQuantity',
      'ChangePlan',
      'Suspend',
      'Reinstate',
      'Renew',
      'Unsubscribe',
    ]);
    // The log holds every attempt since start; this test's are the last six.
    const deliveries = await control('GET', '/_sim/webhook-deliveries');
    const latest = deliveries.body.deliveries.slice(-6);
    expect(latest.map((d: { action: string }) => d.action)).toEqual(
      receiver.received.map((r) => r.body.action),
    );
    expect(deliveries.body.deliveries).toEqual(sim.webhookDeliveries());
    expect(latest[0]).toEqual({
      operationId: changed.body.operation.id,
      action: 'ChangeQuantity',
      status: 200,
      attempt: 1,
      at: clock.toISOString(),
    });
  });

  it('answers 400/404/409 with the error shape and leaves state untouched', async () => {
    const id = await subscribed();
    const before = sim.state();
    const badTarget = await control('POST', '/_sim/webhook-target', {
      url: 'ftp://x',
      audience: OFFER_AUDIENCE,
      tenantId: PUBLISHER_TENANT,
    });
    expect(badTarget.status).toBe(400);
    expect(badTarget.body.error).toMatchObject({ code: 'validation_failed' });
    expect(badTarget.body.error.details[0].path).toBe('url');

    const unknownPlan = await control('POST', '/_sim/purchase', {
      offerId: 'offer-seats',
      planId: 'platinum',
      beneficiaryTenantId: BUYER_TENANT,
    });
    expect(unknownPlan.status).toBe(400);
    expect(unknownPlan.body.error.details[0].path).toBe('planId');
    const unknownOffer = await control('POST', '/_sim/purchase', {
      offerId: 'nope',
      planId: 'silver',
      beneficiaryTenantId: BUYER_TENANT,
    });
    expect(unknownOffer.body.error.details[0].path).toBe('offerId');
    const duplicate = await control('POST', '/_sim/purchase', {
      offerId: 'offer-seats',
      planId: 'silver',
      beneficiaryTenantId: BUYER_TENANT,
      subscriptionId: id,
    });
    expect(duplicate.status).toBe(409);
    const badTenant = await control('POST', '/_sim/purchase', {
      offerId: 'offer-seats',
      planId: 'silver',
      beneficiaryTenantId: 'not-a-guid',
    });
    expect(badTenant.status).toBe(400);

    const missing = await control('POST', '/_sim/subscriptions/nope/suspend');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const wrongState = await control('POST', `/_sim/subscriptions/${id}/reinstate`);
    expect(wrongState.status).toBe(409);
    expect(wrongState.body.error.code).toBe('invalid_state');
    expect((await control('POST', `/_sim/subscriptions/${id}/change-plan`, {})).status).toBe(400);
    expect(
      (await control('POST', `/_sim/subscriptions/${id}/change-quantity`, { quantity: 'x' }))
        .status,
    ).toBe(400);

    const badFault = await control('POST', '/_sim/faults', {
      target: 'webhook',
      kind: 'throttle',
      times: 1,
    });
    expect(badFault.status).toBe(400);
    const badState = await control('POST', '/_sim/state', {
      ...seed(),
      subscriptions: [subscriptionOf(id), subscriptionOf(id)],
    });
    expect(badState.status).toBe(400);
    expect(badState.body.error.message).toContain('duplicate subscription id');
    const danglingOffer = await control('POST', '/_sim/state', {
      ...seed(),
      subscriptions: [{ ...subscriptionOf(id), offerId: 'gone' }],
    });
    expect(danglingOffer.status).toBe(400);
    expect(danglingOffer.body.error.details[0].path).toBe('subscriptions.0.offerId');

    expect((await control('POST', '/_sim/purchase', '{oops')).body.error.code).toBe('invalid_json');
    expect((await control('GET', '/_sim/nothing')).status).toBe(404);
    const wrongMethod = await control('PUT', '/_sim/faults', {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, DELETE');
    const tooBig = await control('POST', '/_sim/state', 'x'.repeat(SIM_BODY_BYTES_MAX + 1));
    expect(tooBig.status).toBe(413);

    expect(sim.state()).toEqual(before);
    expect(receiver.received).toEqual([]);
  });

  it('GET/POST /_sim/state read and replace the state (autoAcceptMs defaults to 10 s)', async () => {
    const id = await subscribed();
    const read = await control('GET', '/_sim/state');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(sim.state());
    expect(read.body.subscriptions[0].id).toBe(id);
    const { autoAcceptMs: _dropped, ...withoutAutoAccept } = seed();
    expect((await control('POST', '/_sim/state', withoutAutoAccept)).status).toBe(204);
    expect(sim.state().autoAcceptMs).toBe(10_000);
    expect(sim.state().subscriptions).toEqual([]);
    expect((await api('GET', `/${id}`)).status).toBe(404);
  });

  it('POST/DELETE /_sim/faults inject and clear faults', async () => {
    expect(
      (
        await control('POST', '/_sim/faults', {
          target: 'ListSubscriptions',
          kind: 'throttle',
          times: 5,
        })
      ).status,
    ).toBe(204);
    expect((await api('GET', '')).status).toBe(429);
    expect((await control('DELETE', '/_sim/faults')).status).toBe(204);
    expect((await api('GET', '')).status).toBe(200);
  });

  it('GET /_sim/calls logs token and fulfillment calls, never the client secret', async () => {
    await requestToken({ ...validForm(), client_secret: 'wrong-one' });
    await api('GET', '/unknown');
    const { body } = await control('GET', '/_sim/calls');
    const tokenCalls = body.calls.filter((c: { operation: string }) => c.operation === 'Token');
    expect(tokenCalls.at(-1)).toMatchObject({
      method: 'POST',
      status: 401,
      input: { client_id: APP_ID, client_secret: '(redacted)' },
    });
    expect(JSON.stringify(body.calls)).not.toContain(APP_SECRET);
    expect(body.calls.at(-1)).toMatchObject({
      operation: 'GetSubscription',
      method: 'GET',
      path: '/api/saas/subscriptions/unknown',
      status: 404,
    });
    expect(sim.calls().at(-1)).toEqual(body.calls.at(-1));
  });

  it('the in-process API validates too', async () => {
    expect(() => sim.setState({ ...seed(), publisherId: '' })).toThrow(AzureSimulatorInputError);
    expect(() =>
      sim.setWebhookTarget({ url: 'nope', audience: 'a', tenantId: PUBLISHER_TENANT }),
    ).toThrow(AzureSimulatorInputError);
    expect(() =>
      sim.purchase({
        offerId: 'offer-seats',
        planId: 'silver',
        beneficiaryTenantId: BUYER_TENANT,
        quantity: 0,
      }),
    ).toThrow(/quantity/);
    sim.setWebhookTarget(null);
    await expect(sim.mintWebhookToken()).rejects.toThrow(AzureSimulatorInputError);
    expect(sim.state()).toEqual(
      expect.objectContaining({ subscriptions: [], operations: [], landingTokens: [] }),
    );
  });
});

describe('lifecycle', () => {
  let other: AzureSimulator | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });

  it('starts empty on a free port, with its own keys, and stops answering after close', async () => {
    other = await startAzureSimulator();
    expect(other.port).toBeGreaterThan(0);
    expect(other.port).not.toBe(sim.port);
    expect(other.state()).toEqual({
      publisherId: 'publisher',
      apps: [],
      offers: [],
      subscriptions: [],
      operations: [],
      landingTokens: [],
      autoAcceptMs: 10_000,
    });
    expect(await servedKid(other.jwksUrl('common'))).not.toBe(
      await servedKid(sim.jwksUrl('common')),
    );
    const url = other.url;
    await other.close();
    other = undefined;
    await expect(fetch(`${url}/_sim/state`)).rejects.toThrow();
  });

  it('close() stops pending auto-accept timers', async () => {
    other = await startAzureSimulator({ state: { ...seed(), autoAcceptMs: 100 } });
    const { subscriptionId } = other.purchase({
      offerId: 'offer-seats',
      planId: 'silver',
      quantity: 1,
      beneficiaryTenantId: BUYER_TENANT,
    });
    const otherToken = (await (
      await fetch(other.tokenUrl(PUBLISHER_TENANT), {
        method: 'POST',
        body: new URLSearchParams(validForm()),
      })
    ).json()) as { access_token: string };
    await fetch(
      `${other.url}/api/saas/subscriptions/${subscriptionId}/activate?api-version=2018-08-31`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${otherToken.access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ planId: 'silver' }),
      },
    );
    const { operation } = await other.changePlan(subscriptionId, 'gold');
    expect(operation.status).toBe('InProgress');
    const closing = other;
    await closing.close();
    other = undefined;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(closing.state().operations[0]?.status).toBe('InProgress');
  });
});
