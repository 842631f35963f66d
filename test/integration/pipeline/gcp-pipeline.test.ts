// Proves Google Cloud Marketplace end to end over real HTTP with DynamoDB Local and the GCP simulator: samples, push auth, odd bodies, sign-up, seller decisions, buyer actions and API faults.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractIdFor } from '../../../lib/domain/contract';
import { rawIdFor } from '../../../lib/domain/raw';
import type { GcpPushTokenOverrides } from '../../../lib/local/simulators/gcp-simulator';
import { defaultGcpProviders } from '../../../lib/local/stack';
import { AWAITING_SELLER_REASON, PARKED_REASON } from '../../../lib/marketplaces/gcp/adapter';
import { deliver, EVENTS_DIR, sampleFiles, startTestStack, type TestStack } from './helpers';

const PROVIDER = 'agora-demo-provider';
const PRODUCT = 'agora-saas.endpoints.agora-demo.cloud.goog';
const PUSH_SA = 'marketplace-push@agora-demo.iam.gserviceaccount.com';
const PENDING_CANCELLATION = 'cancellation pending at the end of the term';

const contract = (entitlementId: string) => contractIdFor('gcp', `entitlement/${entitlementId}`);
const ENT = (n: number) => `ent-agora-00000${n}`;

interface Snapshot {
  contractId: string;
  externalId: string;
  version: number;
  status: string;
  statusReason: string | null;
  terms: {
    plan: string | null;
    offerType: string;
    productId: string;
    term: { start: string; end: string | null };
    buyer: { accountId: string };
  };
  refs: Record<string, string>;
}

interface StoredEvent {
  version: number;
  event: {
    type: string;
    effectiveAt: string;
    raw: { rawId: string } | null;
    payload: Record<string, unknown>;
  };
}

interface DeadLetter {
  rawId: string;
  code: string;
  reason: string;
  status: string;
  attempts: number;
}

/** A Pub/Sub push body carrying one Marketplace message, as Google sends it. */
function envelope(message: Record<string, unknown>, messageId: string): Record<string, unknown> {
  return {
    message: {
      data: Buffer.from(JSON.stringify(message)).toString('base64'),
      messageId,
      message_id: messageId,
      publishTime: '2026-07-01T00:00:00Z',
      attributes: {},
    },
    subscription: 'projects/agora-demo/subscriptions/agora-marketplace',
  };
}

function eventIdOf(sample: object): string {
  const data = (sample as { message: { data: string } }).message.data;
  return (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { eventId: string }).eventId;
}

async function push(
  test: TestStack,
  body: unknown,
  authorization: string | null,
): Promise<{ status: number; body: Record<string, unknown>; wwwAuthenticate: string | null }> {
  const response = await fetch(`${test.stack.url}/v1/webhooks/gcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === null ? {} : { authorization }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    wwwAuthenticate: response.headers.get('www-authenticate'),
  };
}

async function bearer(test: TestStack, overrides: GcpPushTokenOverrides = {}): Promise<string> {
  return `Bearer ${await test.stack.gcpSimulator.mintPushToken(overrides)}`;
}

/** Settles until the simulator publishes nothing more (approvals publish, pushes sync). */
async function settleAll(test: TestStack): Promise<void> {
  for (let round = 0; round < 10; round += 1) {
    const published = test.stack.gcpSimulator.published().length;
    await test.stack.settle();
    if (test.stack.gcpSimulator.published().length === published) return;
  }
  throw new Error('the simulator and the stack did not settle');
}

async function snapshot(test: TestStack, contractId: string): Promise<Snapshot> {
  const response = await test.get(`/v1/contracts/${contractId}`);
  expect(response.status, contractId).toBe(200);
  return response.body as unknown as Snapshot;
}

async function eventsOf(test: TestStack, contractId: string): Promise<StoredEvent[]> {
  const response = await test.get(`/v1/contracts/${contractId}/events?limit=200`);
  expect(response.status).toBe(200);
  return response.body.items as StoredEvent[];
}

async function typesOf(test: TestStack, contractId: string): Promise<string[]> {
  return (await eventsOf(test, contractId)).map((e) => e.event.type);
}

async function gcpContracts(test: TestStack): Promise<Snapshot[]> {
  const response = await test.get('/v1/contracts?marketplace=gcp&limit=50');
  expect(response.status).toBe(200);
  return response.body.items as Snapshot[];
}

async function deadLetters(test: TestStack): Promise<DeadLetter[]> {
  return (await test.get('/v1/dlq')).body.items as DeadLetter[];
}

function simEntitlement(test: TestStack, id: string) {
  const found = test.stack.gcpSimulator.state().entitlements.find((e) => e.id === id);
  if (!found) throw new Error(`simulator has no entitlement ${id}`);
  return found;
}

function simCalls(test: TestStack, method: string, pathEnd?: string) {
  return test.stack.gcpSimulator
    .calls()
    .filter((c) => c.method === method && (pathEnd === undefined || c.path.endsWith(pathEnd)));
}

/** The exclusive end date of an instant: its day, or the next one unless exactly at midnight. */
function exclusiveEnd(instant: string): string {
  const ms = Date.parse(instant);
  const day = Math.floor(ms / 86_400_000) + (ms % 86_400_000 === 0 ? 0 : 1);
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

async function postSignup(test: TestStack, token: string) {
  return test.post(
    '/v1/marketplace/gcp/signup',
    `x-gcp-marketplace-token=${encodeURIComponent(token)}`,
    { contentType: 'application/x-www-form-urlencoded' },
  );
}

async function decide(
  test: TestStack,
  contractId: string,
  decision: 'approve' | 'reject',
  init: { authorization?: string | null; body?: unknown } = {},
) {
  const authorization =
    init.authorization === undefined
      ? `Bearer ${await test.token(['seller'])}`
      : init.authorization;
  const response = await fetch(`${test.stack.url}/v1/contracts/${contractId}/${decision}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === null ? {} : { authorization }),
    },
    body: JSON.stringify(init.body ?? {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const gcpSamples = sampleFiles('gcp');
const sample = (prefix: string) => {
  const found = gcpSamples.find((s) => s.name.startsWith(prefix));
  if (!found) throw new Error(`no sample ${prefix}`);
  return found.body;
};

describe('Google Cloud samples through the pipeline (auto approval)', () => {
  let test: TestStack;
  const receipts = new Map<string, Record<string, unknown>>();

  beforeAll(async () => {
    test = await startTestStack();
    const token = await bearer(test);
    for (const s of gcpSamples) {
      const response = await push(test, s.body, token);
      expect(response.status, s.name).toBe(200);
      receipts.set(s.name, response.body);
      await settleAll(test);
    }
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('stores every sample under its eventId, authenticated as the push service account', async () => {
    expect(gcpSamples.map((s) => s.name)).toHaveLength(7);
    for (const s of gcpSamples) {
      const rawId = rawIdFor('gcp', eventIdOf(s.body));
      expect(receipts.get(s.name), s.name).toEqual({ rawId, outcome: 'stored', enqueued: true });
      const raw = await test.get(`/v1/raw/${rawId}`);
      expect(raw.status, s.name).toBe(200);
      expect(raw.body, s.name).toMatchObject({
        marketplace: 'gcp',
        channel: 'gcp-pubsub-push',
        authenticatedAs: `google:${PUSH_SA}`,
        body: JSON.stringify(s.body),
      });
      expect(raw.body.processedAt, s.name).not.toBeNull();
      expect(String(raw.body.outcome), s.name).toMatch(/1 contract\(s\)|3 contract\(s\)/);
    }
    expect(await deadLetters(test)).toEqual([]);
  });

  it('creates exactly the contracts the simulator state implies', async () => {
    const expected: Record<string, Partial<Snapshot> & { plan: string; offerType: string }> = {
      [ENT(1)]: { status: 'active', statusReason: null, plan: 'standard', offerType: 'public' },
      [ENT(2)]: { status: 'active', statusReason: null, plan: 'enterprise', offerType: 'public' },
      [ENT(3)]: {
        status: 'pending',
        statusReason: PARKED_REASON,
        plan: 'standard',
        offerType: 'public',
      },
      [ENT(4)]: { status: 'active', statusReason: null, plan: 'enterprise', offerType: 'private' },
      [ENT(5)]: {
        status: 'cancelled',
        statusReason: 'entitlement cancelled',
        plan: 'standard',
        offerType: 'public',
      },
      [ENT(6)]: {
        status: 'active',
        statusReason: PENDING_CANCELLATION,
        plan: 'standard',
        offerType: 'public',
      },
    };
    const contracts = await gcpContracts(test);
    expect(contracts.map((c) => c.externalId).sort()).toEqual(
      Object.keys(expected)
        .map((id) => `entitlement/${id}`)
        .sort(),
    );
    const state = test.stack.gcpSimulator.state();
    for (const [id, want] of Object.entries(expected)) {
      const got = contracts.find((c) => c.contractId === contract(id));
      const sim = state.entitlements.find((e) => e.id === id);
      expect(got, id).toMatchObject({
        status: want.status,
        statusReason: want.statusReason,
        version: 1,
        terms: {
          plan: want.plan,
          offerType: want.offerType,
          productId: PRODUCT,
          buyer: { accountId: sim?.accountId },
          term: {
            start: sim?.createTime.slice(0, 10),
            end: exclusiveEnd(sim?.subscriptionEndTime ?? sim?.offerEndTime ?? ''),
          },
        },
        refs: {
          entitlementId: id,
          accountId: sim?.accountId,
          providerId: PROVIDER,
          usageReportingId: sim?.usageReportingId,
        },
      });
      // What the simulator now holds agrees with the contract.
      expect(sim?.plan, id).toBe(want.plan);
      const liveAtGoogle = ['ENTITLEMENT_ACTIVE', 'ENTITLEMENT_PENDING_CANCELLATION'];
      if (want.status === 'active') expect(liveAtGoogle, id).toContain(sim?.state);
      if (want.status === 'pending')
        expect(sim?.state, id).toBe('ENTITLEMENT_ACTIVATION_REQUESTED');
      if (want.status === 'cancelled') expect(sim?.state, id).toBe('ENTITLEMENT_CANCELLED');
    }
  });

  it('approves the creation request and the plan change at the simulator, once each', async () => {
    expect(simCalls(test, 'ApproveEntitlement').map((c) => c.path)).toEqual([
      `/v1/providers/${PROVIDER}/entitlements/${ENT(1)}:approve`,
    ]);
    expect(simCalls(test, 'ApproveEntitlementPlanChange')).toEqual([
      {
        method: 'ApproveEntitlementPlanChange',
        path: `/v1/providers/${PROVIDER}/entitlements/${ENT(2)}:approvePlanChange`,
        input: { pendingPlanName: 'enterprise' },
      },
    ]);
    expect(simCalls(test, 'ApproveAccount')).toEqual([]);
    expect(simCalls(test, 'RejectEntitlement')).toEqual([]);
    expect(simEntitlement(test, ENT(1)).state).toBe('ENTITLEMENT_ACTIVE');
    expect(simEntitlement(test, ENT(2))).toMatchObject({
      state: 'ENTITLEMENT_ACTIVE',
      plan: 'enterprise',
    });
    expect(simEntitlement(test, ENT(2)).newPendingPlan).toBeUndefined();
    // Google announced both approvals by push; they were accepted and changed nothing more.
    const deliveries = test.stack.gcpSimulator.pushDeliveries();
    expect(deliveries.map((d) => `${d.eventType} ${d.status}`)).toEqual([
      'ENTITLEMENT_ACTIVE 200',
      'ENTITLEMENT_PLAN_CHANGED 200',
    ]);
    for (const delivery of deliveries) {
      const raw = await test.get(`/v1/raw/${rawIdFor('gcp', eventIdOf(delivery.body))}`);
      expect(raw.status).toBe(200);
      expect(raw.body.processedAt).not.toBeNull();
    }
  });

  it('parks the entitlement of an account whose sign-up approval is pending', async () => {
    const parked = await snapshot(test, contract(ENT(3)));
    expect(parked).toMatchObject({ status: 'pending', statusReason: PARKED_REASON });
    expect(await typesOf(test, contract(ENT(3)))).toEqual(['ContractCreated']);
    expect(simEntitlement(test, ENT(3)).state).toBe('ENTITLEMENT_ACTIVATION_REQUESTED');
    const account = test.stack.gcpSimulator
      .state()
      .accounts.find((a) => a.id === 'E-AGORA-ACCT-0002');
    expect(account?.approvals).toMatchObject([{ name: 'signup', state: 'PENDING' }]);
  });

  it('records the lifecycle events with their dates and raw references', async () => {
    const dated = async (id: string) =>
      (await eventsOf(test, contract(id))).map((e) => `${e.event.type}@${e.event.effectiveAt}`);
    expect(await dated(ENT(1))).toEqual([
      'ContractCreated@2026-03-02',
      'ContractActivated@2026-03-02',
    ]);
    expect(await dated(ENT(2))).toEqual([
      'ContractCreated@2026-03-05',
      'ContractActivated@2026-03-05',
    ]);
    expect(await dated(ENT(4))).toEqual([
      'ContractCreated@2026-05-01',
      'ContractActivated@2026-05-01',
    ]);
    expect(await dated(ENT(5))).toEqual([
      'ContractCreated@2026-02-01',
      'ContractActivated@2026-02-01',
      'ContractCancelled@2026-06-30',
    ]);
    expect(await dated(ENT(6))).toEqual([
      'ContractCreated@2026-02-15',
      'ContractActivated@2026-02-15',
    ]);
    const first = await eventsOf(test, contract(ENT(1)));
    expect(first.map((e) => e.event.raw?.rawId)).toEqual([
      rawIdFor('gcp', 'CREATE_ENTITLEMENT-agora-0001'),
      rawIdFor('gcp', 'CREATE_ENTITLEMENT-agora-0001'),
    ]);
    const accountEvents = await eventsOf(test, contract(ENT(4)));
    expect(accountEvents[0]?.event.raw?.rawId).toBe(rawIdFor('gcp', 'ACCOUNT_ACTIVE-agora-0005'));
    const pendingCancellation = await eventsOf(test, contract(ENT(6)));
    expect(pendingCancellation[1]?.event.payload).toMatchObject({ reason: PENDING_CANCELLATION });
  });

  it('answers a redelivery of every sample with 2xx and changes nothing', async () => {
    const before = await gcpContracts(test);
    const eventCounts = await Promise.all(
      before.map(async (c) => (await eventsOf(test, c.contractId)).length),
    );
    const calls = test.stack.gcpSimulator.calls().length;
    const token = await bearer(test);
    for (const s of gcpSamples) {
      const response = await push(test, s.body, token);
      expect(response.status, s.name).toBe(200);
      expect(response.body, s.name).toEqual({
        rawId: rawIdFor('gcp', eventIdOf(s.body)),
        outcome: 'duplicate',
        enqueued: false,
      });
    }
    await settleAll(test);
    const after = await gcpContracts(test);
    expect(after).toEqual(before);
    expect(
      await Promise.all(after.map(async (c) => (await eventsOf(test, c.contractId)).length)),
    ).toEqual(eventCounts);
    expect(test.stack.gcpSimulator.calls().length).toBe(calls);
  });
});

describe('Pub/Sub push authentication', () => {
  let test: TestStack;
  let probe = 0;
  /** A fresh, otherwise valid message for an existing entitlement: accepted, it would write. */
  const fresh = () => {
    probe += 1;
    const eventId = `AUTH-PROBE-${probe}`;
    return {
      eventId,
      body: envelope(
        {
          eventId,
          eventType: 'ENTITLEMENT_ACTIVE',
          providerId: PROVIDER,
          entitlement: { id: ENT(4) },
        },
        `8000000${probe}`,
      ),
    };
  };

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('refuses every bad push token with 401 and a machine-readable error, writing nothing', async () => {
    const sim = test.stack.gcpSimulator;
    const nowMs = Date.now();
    const cases: [string, () => Promise<string | null>][] = [
      ['no Authorization header', async () => null],
      ['not a Bearer token', async () => `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['not a JWT', async () => 'Bearer not-a-jwt'],
      ['signed by an unknown key', () => bearer(test, { signer: 'attacker' })],
      ['unknown key id', () => bearer(test, { kid: 'no-such-key' })],
      [
        'expired beyond the clock tolerance',
        () => bearer(test, { issuedAt: new Date(nowMs - 7_200_000), ttlSeconds: 3_600 }),
      ],
      [
        'issued in the future',
        () => bearer(test, { claims: { nbf: Math.floor(nowMs / 1000) + 600 } }),
      ],
      ['wrong audience', () => bearer(test, { audience: 'https://evil.example/push' })],
      [
        'wrong service account',
        () => bearer(test, { email: 'intruder@another-project.iam.gserviceaccount.com' }),
      ],
      ['email not verified', () => bearer(test, { claims: { email_verified: false } })],
      ['email_verified missing', () => bearer(test, { claims: { email_verified: undefined } })],
      ['no email claim', () => bearer(test, { claims: { email: undefined } })],
      ['not issued by Google', () => bearer(test, { claims: { iss: 'https://evil.example' } })],
      ['no exp claim', () => bearer(test, { claims: { exp: undefined } })],
    ];
    const refused: string[] = [];
    for (const [name, authorization] of cases) {
      const { eventId, body } = fresh();
      const response = await push(test, body, await authorization());
      expect(response.status, name).toBe(401);
      expect(response.wwwAuthenticate, name).toBe('Bearer');
      expect(response.body.error, name).toMatchObject({
        code: 'unauthorized',
        message: expect.any(String),
      });
      expect((await test.get(`/v1/raw/${rawIdFor('gcp', eventId)}`)).status, name).toBe(404);
      refused.push(eventId);
    }
    await settleAll(test);
    expect(sim.calls()).toEqual([]);
    expect(await gcpContracts(test)).toEqual([]);
    expect(await deadLetters(test)).toEqual([]);
    // The same messages with a good token (even one just past exp, within the tolerance) go in.
    const late = await bearer(test, { issuedAt: new Date(nowMs - 3_630_000), ttlSeconds: 3_600 });
    const accepted = await push(test, fresh().body, late);
    expect(accepted.status).toBe(200);
    const again = await push(
      test,
      envelope(
        {
          eventId: refused[0],
          eventType: 'ENTITLEMENT_ACTIVE',
          providerId: PROVIDER,
          entitlement: { id: ENT(4) },
        },
        '80000001',
      ),
      await bearer(test),
    );
    expect(again.body).toMatchObject({
      rawId: rawIdFor('gcp', String(refused[0])),
      outcome: 'stored',
    });
    await settleAll(test);
    expect((await snapshot(test, contract(ENT(4)))).status).toBe('active');
  });

  it('refuses the simulator’s own faulty pushes; Google keeps the message', async () => {
    const sim = test.stack.gcpSimulator;
    for (const kind of [
      'bad-signature',
      'wrong-audience',
      'wrong-email',
      'no-token',
      'expired-token',
    ] as const) {
      sim.injectFault({ target: 'push', kind, times: 1 });
      const before = sim.pushDeliveries().length;
      const message = await sim.publishEvent({
        providerId: PROVIDER,
        eventType: 'ENTITLEMENT_ACTIVE',
        entitlementId: ENT(6),
      });
      const deliveries = sim.pushDeliveries().slice(before);
      // Three attempts of the same (faulty) message, all refused, none acknowledged.
      expect(
        deliveries.map((d) => [d.fault, d.status, d.acked]),
        kind,
      ).toEqual([
        [kind, 401, false],
        [kind, 401, false],
        [kind, 401, false],
      ]);
      expect((await test.get(`/v1/raw/${rawIdFor('gcp', message.event.eventId)}`)).status).toBe(
        404,
      );
    }
    await settleAll(test);
    expect((await test.get(`/v1/contracts/${contract(ENT(6))}`)).status).toBe(404);
  });
});

describe('authenticated odd bodies are kept and dead-lettered', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('acknowledges, stores and dead-letters what cannot be understood, with the reason', async () => {
    const token = await bearer(test);
    const invalidSample = JSON.parse(
      readFileSync(join(EVENTS_DIR, 'invalid', 'gcp-push-data-not-json.json'), 'utf8'),
    ) as Record<string, unknown>;
    const notJson = 'this is { not JSON';
    const notEnvelope = JSON.stringify({ hello: 'world' });
    const missingProvider = envelope(
      { eventId: 'NO-PROVIDER-1', eventType: 'ENTITLEMENT_ACTIVE', entitlement: { id: ENT(1) } },
      '900000000001',
    );
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const cases: [string, string, string, RegExp][] = [
      [
        'the invalid sample',
        JSON.stringify(invalidSample),
        rawIdFor('gcp', 'pubsub:700000000099'),
        /^message\.data is not base64 JSON$/,
      ],
      [
        'a body that is not JSON',
        notJson,
        rawIdFor('gcp', `sha256:${sha(notJson)}`),
        /^body is not JSON$/,
      ],
      [
        'JSON that is not a push envelope',
        notEnvelope,
        rawIdFor('gcp', `sha256:${sha(notEnvelope)}`),
        /^not a Pub\/Sub push envelope$/,
      ],
      [
        'a message without providerId',
        JSON.stringify(missingProvider),
        rawIdFor('gcp', 'pubsub:900000000001'),
        /^message: providerId: /,
      ],
    ];
    for (const [name, body, rawId] of cases) {
      const response = await push(test, body, token);
      expect(response.status, name).toBe(200);
      expect(response.body, name).toMatchObject({ rawId, outcome: 'stored' });
    }
    await settleAll(test);
    const dlq = await deadLetters(test);
    expect(dlq.map((e) => e.rawId).sort()).toEqual(cases.map(([, , rawId]) => rawId).sort());
    for (const [name, body, rawId, reason] of cases) {
      const entry = dlq.find((e) => e.rawId === rawId);
      expect(entry, name).toMatchObject({ code: 'invalid_notification', status: 'dead-lettered' });
      expect(entry?.reason, name).toMatch(reason);
      const raw = await test.get(`/v1/raw/${rawId}`);
      expect(raw.status, name).toBe(200);
      expect(raw.body.body, name).toBe(body);
    }
    expect(test.stack.gcpSimulator.calls()).toEqual([]);
    expect(await gcpContracts(test)).toEqual([]);
  });

  it('records a message with neither entitlement nor account as ignored, not dead-lettered', async () => {
    const body = envelope(
      { eventId: 'NO-IDS-1', eventType: 'ENTITLEMENT_OFFER_ACCEPTED', providerId: PROVIDER },
      '900000000002',
    );
    expect((await push(test, body, await bearer(test))).status).toBe(200);
    await settleAll(test);
    const raw = await test.get(`/v1/raw/${rawIdFor('gcp', 'NO-IDS-1')}`);
    expect(raw.body.outcome).toBe(
      'ignored: ENTITLEMENT_OFFER_ACCEPTED: no entitlement or account to re-read',
    );
    expect((await deadLetters(test)).some((e) => e.rawId === raw.body.rawId)).toBe(false);
  });

  it('dead-letters a malformed push from the simulator and takes a duplicated push once', async () => {
    const sim = test.stack.gcpSimulator;
    sim.injectFault({ target: 'push', kind: 'malformed-data', times: 1 });
    const malformed = await sim.publishEvent({
      providerId: PROVIDER,
      eventType: 'ENTITLEMENT_ACTIVE',
      entitlementId: ENT(4),
    });
    sim.injectFault({ target: 'push', kind: 'duplicate', times: 1 });
    const duplicated = await sim.publishEvent({
      providerId: PROVIDER,
      eventType: 'ENTITLEMENT_ACTIVE',
      entitlementId: ENT(4),
    });
    await settleAll(test);
    const deliveries = sim.pushDeliveries();
    expect(
      deliveries.filter((d) => d.messageId === malformed.messageId).map((d) => d.status),
    ).toEqual([200]);
    expect(
      deliveries.filter((d) => d.messageId === duplicated.messageId).map((d) => d.status),
    ).toEqual([200, 200]);
    const dlq = await deadLetters(test);
    expect(
      dlq.find((e) => e.rawId === rawIdFor('gcp', `pubsub:${malformed.messageId}`)),
    ).toMatchObject({
      code: 'invalid_notification',
      reason: 'message.data is not base64 JSON',
    });
    expect(await typesOf(test, contract(ENT(4)))).toEqual(['ContractCreated', 'ContractActivated']);
    expect(simCalls(test, 'GetEntitlement', ENT(4))).toHaveLength(1);
  });
});

describe('buyer sign-up', () => {
  let test: TestStack;
  let accountId = '';
  let entitlementId = '';
  const signupRaw = () => rawIdFor('gcp', `signup:${PROVIDER}:${accountId}`);
  const approval = () =>
    test.stack.gcpSimulator.state().accounts.find((a) => a.id === accountId)?.approvals;

  beforeAll(async () => {
    test = await startTestStack();
    const purchase = await test.stack.gcpSimulator.purchase({
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'standard',
    });
    accountId = purchase.accountId;
    entitlementId = purchase.entitlementId;
    await settleAll(test);
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('parks a new account’s entitlement until sign-up', async () => {
    expect(await snapshot(test, contract(entitlementId))).toMatchObject({
      status: 'pending',
      statusReason: PARKED_REASON,
      refs: { accountId, entitlementId },
    });
    expect(approval()).toMatchObject([{ name: 'signup', state: 'PENDING' }]);
    expect(simCalls(test, 'ApproveEntitlement')).toEqual([]);
  });

  it('refuses forged, expired and misdirected sign-up tokens with 401 and writes nothing', async () => {
    const sim = test.stack.gcpSimulator;
    const tokens: [string, string][] = [
      ['forged signature', await sim.mintSignupToken({ accountId, signer: 'attacker' })],
      ['unknown key id', await sim.mintSignupToken({ accountId, kid: 'no-such-key' })],
      ['expired', await sim.mintSignupToken({ accountId, ttlSeconds: -600 })],
      ['wrong audience', await sim.mintSignupToken({ accountId, audience: 'evil.example' })],
      [
        'wrong issuer',
        await sim.mintSignupToken({ accountId, claims: { iss: 'https://accounts.google.com' } }),
      ],
      ['no subject', await sim.mintSignupToken({ accountId, claims: { sub: undefined } })],
      ['not a JWT', 'definitely-not-a-jwt'],
    ];
    for (const [name, token] of tokens) {
      const response = await postSignup(test, token);
      expect(response.status, name).toBe(401);
      expect((response.body.error as { code: string }).code, name).toBe('unauthorized');
    }
    expect((await postSignup(test, '')).status).toBe(400);
    await settleAll(test);
    expect((await test.get(`/v1/raw/${signupRaw()}`)).status).toBe(404);
    expect(simCalls(test, 'ApproveAccount')).toEqual([]);
    expect(approval()).toMatchObject([{ name: 'signup', state: 'PENDING' }]);
    expect((await snapshot(test, contract(entitlementId))).status).toBe('pending');
  });

  it('answers 404 for a valid token of an account Google does not know', async () => {
    const token = await test.stack.gcpSimulator.mintSignupToken({
      accountId: 'E-NOBODY-0001',
      audience: 'agora.local',
    });
    const response = await postSignup(test, token);
    expect(response.status).toBe(404);
    expect((response.body.error as { code: string }).code).toBe('not_found');
    expect(
      (await test.get(`/v1/raw/${rawIdFor('gcp', `signup:${PROVIDER}:E-NOBODY-0001`)}`)).status,
    ).toBe(404);
  });

  it('approves the account at Google and resumes the parked entitlement', async () => {
    const token = await test.stack.gcpSimulator.signupToken({ accountId });
    const response = await postSignup(test, token);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({
      providerId: PROVIDER,
      accountId,
      approved: true,
      rawId: signupRaw(),
    });
    await settleAll(test);
    expect(simCalls(test, 'ApproveAccount')).toEqual([
      {
        method: 'ApproveAccount',
        path: `/v1/providers/${PROVIDER}/accounts/${accountId}:approve`,
        input: { approvalName: 'signup', reason: expect.any(String) },
      },
    ]);
    expect(approval()).toMatchObject([{ name: 'signup', state: 'APPROVED' }]);
    expect(simCalls(test, 'ApproveEntitlement').map((c) => c.path)).toEqual([
      `/v1/providers/${PROVIDER}/entitlements/${entitlementId}:approve`,
    ]);
    expect(simEntitlement(test, entitlementId).state).toBe('ENTITLEMENT_ACTIVE');
    const resumed = await snapshot(test, contract(entitlementId));
    expect(resumed).toMatchObject({ status: 'active', statusReason: null });
    expect(resumed.refs.gcpUserIdentity).toMatch(/^\d{21}$/);
    expect(await typesOf(test, contract(entitlementId))).toEqual([
      'ContractCreated',
      'ContractActivated',
    ]);
    const raw = await test.get(`/v1/raw/${signupRaw()}`);
    expect(raw.body).toMatchObject({
      channel: 'gcp-signup',
      authenticatedAs: `signup-token:${accountId}`,
    });
  });

  it('takes a repeated sign-up as a no-op', async () => {
    const before = await snapshot(test, contract(entitlementId));
    const response = await postSignup(
      test,
      await test.stack.gcpSimulator.signupToken({ accountId }),
    );
    expect(response.status).toBe(200);
    expect(response.body.rawId).toBe(signupRaw());
    await settleAll(test);
    expect(simCalls(test, 'ApproveAccount')).toHaveLength(1);
    expect(await snapshot(test, contract(entitlementId))).toEqual(before);
  });
});

describe('seller decisions (manual approval)', () => {
  let test: TestStack;
  let rejectedId = '';
  const AWS_CONTRACT = contractIdFor('aws', 'license/l-agora1001');

  beforeAll(async () => {
    test = await startTestStack({
      gcpProviders: defaultGcpProviders().map((p) => ({
        ...p,
        entitlementApproval: 'manual' as const,
        planChangeApproval: 'manual' as const,
      })),
    });
    const token = await bearer(test);
    for (const prefix of ['01-', '03-'])
      expect((await push(test, sample(prefix), token)).status).toBe(200);
    for (const s of sampleFiles('aws').slice(0, 3)) await deliver(test, s.body);
    const purchase = await test.stack.gcpSimulator.purchase({
      providerId: PROVIDER,
      product: PRODUCT,
      plan: 'standard',
      accountId: 'E-AGORA-ACCT-0001',
    });
    rejectedId = purchase.entitlementId;
    await settleAll(test);
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('holds creation requests and plan changes for the seller', async () => {
    expect(await snapshot(test, contract(ENT(1)))).toMatchObject({
      status: 'pending',
      statusReason: AWAITING_SELLER_REASON,
    });
    expect(await snapshot(test, contract(rejectedId))).toMatchObject({
      status: 'pending',
      statusReason: AWAITING_SELLER_REASON,
    });
    expect(await snapshot(test, contract(ENT(2)))).toMatchObject({
      status: 'active',
      statusReason: AWAITING_SELLER_REASON,
      terms: { plan: 'standard' },
      refs: { pendingPlan: 'enterprise' },
    });
    expect(simCalls(test, 'ApproveEntitlement')).toEqual([]);
    expect(simCalls(test, 'ApproveEntitlementPlanChange')).toEqual([]);
    expect(simEntitlement(test, ENT(1)).state).toBe('ENTITLEMENT_ACTIVATION_REQUESTED');
    expect(simEntitlement(test, ENT(2)).state).toBe('ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL');
  });

  it('lets only sellers and admins decide', async () => {
    expect((await decide(test, contract(ENT(1)), 'approve', { authorization: null })).status).toBe(
      401,
    );
    const partner = `Bearer ${await test.token(['partner'], 'P-100')}`;
    const finance = `Bearer ${await test.token(['finance'])}`;
    for (const authorization of [partner, finance]) {
      for (const decision of ['approve', 'reject'] as const) {
        const response = await decide(test, contract(ENT(1)), decision, { authorization });
        expect(response.status).toBe(403);
        expect((response.body.error as { code: string }).code).toBe('forbidden');
      }
    }
    expect(simCalls(test, 'ApproveEntitlement')).toEqual([]);
    expect(simCalls(test, 'RejectEntitlement')).toEqual([]);
  });

  it('approves a held creation request at Google and activates the contract', async () => {
    const response = await decide(test, contract(ENT(1)), 'approve');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({
      contractId: contract(ENT(1)),
      entitlementId: ENT(1),
      action: 'entitlement approved',
    });
    await settleAll(test);
    expect(simCalls(test, 'ApproveEntitlement').map((c) => c.path)).toEqual([
      `/v1/providers/${PROVIDER}/entitlements/${ENT(1)}:approve`,
    ]);
    expect(simEntitlement(test, ENT(1)).state).toBe('ENTITLEMENT_ACTIVE');
    expect(await snapshot(test, contract(ENT(1)))).toMatchObject({
      status: 'active',
      statusReason: null,
    });
    expect(await typesOf(test, contract(ENT(1)))).toEqual(['ContractCreated', 'ContractActivated']);
    const raw = await test.get(`/v1/raw/${String(response.body.rawId)}`);
    expect(raw.body).toMatchObject({ channel: 'gcp-decision', authenticatedAs: 'user:dev-seller' });
    // Nothing waits any more.
    for (const decision of ['approve', 'reject'] as const) {
      const again = await decide(test, contract(ENT(1)), decision);
      expect(again.status, decision).toBe(409);
      expect((again.body.error as { code: string }).code).toBe('nothing_to_decide');
    }
    expect(simCalls(test, 'ApproveEntitlement')).toHaveLength(1);
  });

  it('rejects a held creation request at Google and cancels the contract', async () => {
    const response = await decide(test, contract(rejectedId), 'reject', {
      authorization: `Bearer ${await test.token(['admin'])}`,
      body: { reason: 'not a fit for us' },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({
      entitlementId: rejectedId,
      action: 'entitlement rejected',
    });
    await settleAll(test);
    expect(simCalls(test, 'RejectEntitlement')).toEqual([
      {
        method: 'RejectEntitlement',
        path: `/v1/providers/${PROVIDER}/entitlements/${rejectedId}:reject`,
        input: { reason: 'not a fit for us' },
      },
    ]);
    expect(simEntitlement(test, rejectedId).state).toBe('ENTITLEMENT_CANCELLED');
    const rejected = await snapshot(test, contract(rejectedId));
    expect(rejected.status).toBe('cancelled');
    const events = await eventsOf(test, contract(rejectedId));
    // Never active: no ContractActivated (and no provisioning) before the cancellation.
    expect(events.map((e) => e.event.type)).toEqual(['ContractCreated', 'ContractCancelled']);
    // Cancelled as of the day Google recorded the rejection.
    expect(events.at(-1)?.event).toMatchObject({
      type: 'ContractCancelled',
      effectiveAt: simEntitlement(test, rejectedId).updateTime.slice(0, 10),
    });
    expect((await decide(test, contract(rejectedId), 'approve')).status).toBe(409);
  });

  it('approves a held plan change: the plan moves and the hold is lifted', async () => {
    const response = await decide(test, contract(ENT(2)), 'approve');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.action).toBe('plan change to enterprise approved');
    await settleAll(test);
    expect(simCalls(test, 'ApproveEntitlementPlanChange')).toMatchObject([
      { input: { pendingPlanName: 'enterprise' } },
    ]);
    expect(simEntitlement(test, ENT(2))).toMatchObject({
      state: 'ENTITLEMENT_ACTIVE',
      plan: 'enterprise',
    });
    expect(await snapshot(test, contract(ENT(2)))).toMatchObject({
      status: 'active',
      statusReason: null,
      terms: { plan: 'enterprise' },
    });
    const events = await eventsOf(test, contract(ENT(2)));
    expect(events.map((e) => e.event.type)).toEqual([
      'ContractCreated',
      'ContractActivated',
      'ContractAmended',
    ]);
    expect(events[2]?.event.payload).toMatchObject({ terms: { plan: 'enterprise' } });
    expect((await snapshot(test, contract(ENT(2)))).refs).not.toHaveProperty('pendingPlan');
    expect((await decide(test, contract(ENT(2)), 'approve')).status).toBe(409);
  });

  it('rejects a held plan change: the plan stays and the hold is lifted', async () => {
    await test.stack.gcpSimulator.requestPlanChange(ENT(1), { plan: 'enterprise' });
    await settleAll(test);
    expect(await snapshot(test, contract(ENT(1)))).toMatchObject({
      status: 'active',
      statusReason: AWAITING_SELLER_REASON,
      refs: { pendingPlan: 'enterprise' },
    });
    const response = await decide(test, contract(ENT(1)), 'reject');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.action).toBe('plan change to enterprise rejected');
    await settleAll(test);
    expect(simCalls(test, 'RejectEntitlementPlanChange')).toMatchObject([
      { input: { pendingPlanName: 'enterprise', reason: 'rejected by the seller' } },
    ]);
    expect(simEntitlement(test, ENT(1))).toMatchObject({
      state: 'ENTITLEMENT_ACTIVE',
      plan: 'standard',
    });
    expect(await snapshot(test, contract(ENT(1)))).toMatchObject({
      status: 'active',
      statusReason: null,
      terms: { plan: 'standard' },
    });
    expect(await typesOf(test, contract(ENT(1)))).toEqual(['ContractCreated', 'ContractActivated']);
    expect((await snapshot(test, contract(ENT(1)))).refs).not.toHaveProperty('pendingPlan');
  });

  it('refuses decisions on contracts that are not Google entitlements', async () => {
    expect((await snapshot(test, AWS_CONTRACT)).contractId).toBe(AWS_CONTRACT);
    const aws = await decide(test, AWS_CONTRACT, 'approve');
    expect(aws.status).toBe(400);
    expect(aws.body.error).toMatchObject({
      code: 'validation_failed',
      details: [{ code: 'not_gcp' }],
    });
    const unknown = await decide(test, contract('ent-never-seen'), 'reject');
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as { code: string }).code).toBe('not_found');
    const tooLong = await decide(test, contract(ENT(1)), 'reject', {
      body: { reason: 'x'.repeat(257) },
    });
    expect(tooLong.status).toBe(400);
    expect(simCalls(test, 'RejectEntitlement')).toHaveLength(1);
  });
});

describe('buyer actions reach the contracts through real pushes', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
    const token = await bearer(test);
    for (const prefix of ['01-', '03-', '05-'])
      expect((await push(test, sample(prefix), token)).status).toBe(200);
    await settleAll(test);
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('applies a requested plan change (auto-approved) as an amendment', async () => {
    const sim = test.stack.gcpSimulator;
    await sim.requestPlanChange(ENT(4), { plan: 'standard' });
    await settleAll(test);
    expect(
      sim
        .pushDeliveries()
        .filter((d) => d.eventType.startsWith('ENTITLEMENT_PLAN_'))
        .map((d) => `${d.eventType} ${d.status}`)
        .slice(-2),
    ).toEqual(['ENTITLEMENT_PLAN_CHANGE_REQUESTED 200', 'ENTITLEMENT_PLAN_CHANGED 200']);
    expect(simEntitlement(test, ENT(4))).toMatchObject({
      state: 'ENTITLEMENT_ACTIVE',
      plan: 'standard',
    });
    expect(await snapshot(test, contract(ENT(4)))).toMatchObject({
      status: 'active',
      terms: { plan: 'standard', offerType: 'private' },
    });
    expect(await typesOf(test, contract(ENT(4)))).toEqual([
      'ContractCreated',
      'ContractActivated',
      'ContractAmended',
    ]);
  });

  it('suspends on ENTITLEMENT_SUSPENDED', async () => {
    await test.stack.gcpSimulator.suspend(ENT(1));
    await settleAll(test);
    expect(await snapshot(test, contract(ENT(1)))).toMatchObject({
      status: 'suspended',
      statusReason: 'entitlement suspended',
    });
    expect((await typesOf(test, contract(ENT(1)))).at(-1)).toBe('ContractSuspended');
  });

  it('follows a cancellation at term end, its revert, and an immediate cancellation', async () => {
    const sim = test.stack.gcpSimulator;
    const id = contract(ENT(2));
    const eventsBefore = (await eventsOf(test, id)).length;
    await sim.cancel(ENT(2));
    await settleAll(test);
    expect(await snapshot(test, id)).toMatchObject({
      status: 'active',
      statusReason: PENDING_CANCELLATION,
      terms: { term: { end: '2036-03-02' } },
    });
    await sim.revertCancellation(ENT(2));
    await settleAll(test);
    expect(await snapshot(test, id)).toMatchObject({ status: 'active', statusReason: null });
    expect((await eventsOf(test, id)).length).toBe(eventsBefore);

    await sim.cancel(ENT(2), { immediate: true });
    await settleAll(test);
    const ended = simEntitlement(test, ENT(2));
    expect(ended.state).toBe('ENTITLEMENT_CANCELLED');
    expect(await snapshot(test, id)).toMatchObject({
      status: 'cancelled',
      terms: { term: { end: exclusiveEnd(ended.subscriptionEndTime ?? '') } },
    });
    const last = (await eventsOf(test, id)).at(-1);
    expect(last?.event).toMatchObject({
      type: 'ContractCancelled',
      effectiveAt: exclusiveEnd(ended.subscriptionEndTime ?? ''),
    });
  });

  it('extends the term on ENTITLEMENT_RENEWED', async () => {
    const id = contract(ENT(4));
    const before = (await eventsOf(test, id)).length;
    await test.stack.gcpSimulator.renew(ENT(4));
    await settleAll(test);
    expect(simEntitlement(test, ENT(4)).offerEndTime).toBe('2037-03-02T00:00:00.000Z');
    expect(await snapshot(test, id)).toMatchObject({
      status: 'active',
      terms: { term: { start: '2026-05-01', end: '2037-03-02' } },
    });
    const events = await eventsOf(test, id);
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)?.event.payload).toMatchObject({ terms: { term: { end: '2037-03-02' } } });
  });

  it('ends the contract when the offer ends without continuation', async () => {
    await test.stack.gcpSimulator.endOffer(ENT(6));
    await settleAll(test);
    expect(simEntitlement(test, ENT(6)).state).toBe('ENTITLEMENT_CANCELLED');
    const ended = await snapshot(test, contract(ENT(6)));
    expect(['cancelled', 'expired']).toContain(ended.status);
    expect(['ContractCancelled', 'ContractExpired']).toContain(
      (await typesOf(test, contract(ENT(6)))).at(-1),
    );
    expect(await deadLetters(test)).toEqual([]);
  });
});

describe('Procurement API faults', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('retries throttling and server errors until the re-read and the approval succeed', async () => {
    const sim = test.stack.gcpSimulator;
    sim.injectFault({ target: 'GetEntitlement', kind: 'throttle', times: 2 });
    sim.injectFault({ target: 'GetEntitlement', kind: 'server-error', times: 2 });
    sim.injectFault({ target: 'ApproveEntitlement', kind: 'server-error', times: 1 });
    expect((await push(test, sample('01-'), await bearer(test))).status).toBe(200);
    await settleAll(test);
    expect(await snapshot(test, contract(ENT(1)))).toMatchObject({ status: 'active' });
    expect(await deadLetters(test)).toEqual([]);
    // 4 failed reads + the read before approving + the read after it (+ the push's re-read).
    expect(simCalls(test, 'GetEntitlement', ENT(1)).length).toBeGreaterThanOrEqual(6);
    expect(simCalls(test, 'ApproveEntitlement')).toHaveLength(2);
    expect(simEntitlement(test, ENT(1)).state).toBe('ENTITLEMENT_ACTIVE');
  });

  it('dead-letters a sync Google keeps refusing, and a redrive recovers it', async () => {
    const sim = test.stack.gcpSimulator;
    sim.injectFault({ target: 'GetAccount', kind: 'throttle', times: 1_000 });
    expect((await push(test, sample('05-'), await bearer(test))).status).toBe(200);
    await settleAll(test);
    const rawId = rawIdFor('gcp', 'ACCOUNT_ACTIVE-agora-0005');
    const entry = (await deadLetters(test)).find((e) => e.rawId === rawId);
    expect(entry).toMatchObject({
      code: 'marketplace_unavailable',
      status: 'dead-lettered',
      attempts: 5,
    });
    expect(entry?.reason).toMatch(/GetAccount failed after 3 attempts \(HTTP 429\)/);
    expect(simCalls(test, 'GetAccount', 'E-AGORA-ACCT-0003')).toHaveLength(15);
    expect((await test.get(`/v1/contracts/${contract(ENT(4))}`)).status).toBe(404);

    sim.clearFaults();
    const redriven = await test.post(`/v1/dlq/${rawId}/redrive`, {}, { roles: ['admin'] });
    expect(redriven.status).toBe(200);
    await settleAll(test);
    expect((await snapshot(test, contract(ENT(4)))).status).toBe('active');
    expect((await snapshot(test, contract(ENT(5)))).status).toBe('cancelled');
    expect((await deadLetters(test)).some((e) => e.rawId === rawId)).toBe(false);
  });
});
