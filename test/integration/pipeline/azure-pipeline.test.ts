// Proves the Azure Marketplace integration end to end, over real HTTP and DynamoDB Local with the
// Azure simulator: every sample webhook yields exactly the contracts the simulator's state implies
// and redeliveries change nothing; unauthenticated webhooks are 401 and write nothing; odd bodies
// are kept and dead-lettered; landing never activates and activation is explicit and idempotent;
// buyer changes are accepted at Microsoft and reach the contract; unknown operations are not acted
// on; reconciliation catches missed webhooks; throttling and 5xx from the fulfillment API are retried.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as reconcileAzure } from '../../../functions/scheduled/reconcile-azure';
import { contractIdFor } from '../../../lib/domain/contract';
import { sha256Hex } from '../../../lib/domain/ids';
import { rawIdFor } from '../../../lib/domain/raw';
import {
  type AzureSimulator,
  type AzureSimulatorStateInput,
  MARKETPLACE_APP_ID,
} from '../../../lib/local/simulators/azure-simulator';
import { defaultAzureSimulatorState } from '../../../lib/local/stack';
import { AZURE_MARKETPLACE_APP_ID } from '../../../lib/marketplaces/azure/config';
import { azureExternalId } from '../../../lib/marketplaces/azure/source';
import { getContainer } from '../../../lib/runtime/container';
import { sampleFiles, startTestStack, type TestStack } from './helpers';

const TENANT = '7f3c1e2d-0000-4a5b-9c6d-000000000001';
const APP = '0a1b2c3d-1111-2222-3333-444455556666';
const CONTOSO = '37f9dea2-4345-438f-b0bd-03d40d28c701';
const FABRIKAM = '37f9dea2-4345-438f-b0bd-03d40d28c702';
const NORTHWIND = '37f9dea2-4345-438f-b0bd-03d40d28c703';
const TAILSPIN = '37f9dea2-4345-438f-b0bd-03d40d28c704';
const contractOf = (subscriptionId: string) =>
  contractIdFor('azure', azureExternalId(subscriptionId));

interface StoredEvent {
  version: number;
  event: {
    type: string;
    effectiveAt: string;
    eventId: string;
    raw: { rawId: string } | null;
    payload: Record<string, unknown>;
  };
}

interface Contract {
  contractId: string;
  status: string;
  statusReason: string | null;
  version: number;
  terms: {
    plan: string | null;
    quantity: number | null;
    currency: string;
    buyer: { accountId: string; name: string | null };
    term: { start: string; end: string | null };
    grants: { dimension: string; quantity: string | null }[];
  };
  refs: Record<string, string>;
}

interface DlqEntry {
  rawId: string;
  code: string;
  reason: string;
  status: string;
}

async function eventsOf(test: TestStack, contractId: string): Promise<StoredEvent[]> {
  const response = await test.get(`/v1/contracts/${contractId}/events?limit=200`);
  expect(response.status).toBe(200);
  return response.body.items as StoredEvent[];
}

async function typesOf(test: TestStack, contractId: string): Promise<string[]> {
  return (await eventsOf(test, contractId)).map((e) => e.event.type);
}

async function contract(test: TestStack, contractId: string): Promise<Contract> {
  const response = await test.get(`/v1/contracts/${contractId}`);
  expect(response.status, contractId).toBe(200);
  return response.body as unknown as Contract;
}

async function azureContracts(test: TestStack): Promise<Contract[]> {
  const response = await test.get('/v1/contracts?marketplace=azure&limit=50');
  expect(response.status).toBe(200);
  return response.body.items as Contract[];
}

async function dlq(test: TestStack): Promise<DlqEntry[]> {
  return (await test.get('/v1/dlq')).body.items as DlqEntry[];
}

/** POSTs a body to the Azure webhook the way Microsoft does (JSON, Entra bearer token). */
async function webhook(
  test: TestStack,
  body: unknown,
  authorization: string | null,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== null) headers.authorization = authorization;
  const response = await fetch(`${test.stack.url}/v1/webhooks/azure`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function bearer(
  sim: AzureSimulator,
  overrides: Record<string, unknown> = {},
  signWith: 'simulator' | 'attacker' = 'simulator',
): Promise<string> {
  return `Bearer ${await sim.mintWebhookToken(overrides, { signWith })}`;
}

/** Every Azure raw envelope stored around now (listing three UTC days survives midnight). */
async function azureRawCount(): Promise<number> {
  let count = 0;
  for (const offset of [-1, 0, 1]) {
    const day = new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    let cursor: string | undefined;
    do {
      const page = await getContainer().rawInbound.listByDay('azure', day, { limit: 100, cursor });
      count += page.items.length;
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }
  return count;
}

const webhookRawId = (body: Record<string, unknown>) =>
  rawIdFor('azure', `${String(body.id)}:${String(body.action)}`);

describe('Azure samples through the pipeline', () => {
  let test: TestStack;
  let sim: AzureSimulator;
  const samples = sampleFiles('azure');

  beforeAll(async () => {
    test = await startTestStack();
    sim = test.stack.azureSimulator;
    for (const sample of samples) {
      const response = await webhook(test, sample.body, await bearer(sim));
      expect(response.status, sample.name).toBe(200);
      expect(response.body, sample.name).toEqual({
        rawId: webhookRawId(sample.body),
        outcome: 'stored',
        enqueued: true,
      });
    }
    await test.stack.settle();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('creates exactly one contract per subscription of the simulator state, in its status', async () => {
    expect(samples.map((s) => s.name)).toHaveLength(6);
    const state = defaultAzureSimulatorState();
    const byId = new Map((await azureContracts(test)).map((c) => [c.contractId, c]));
    expect([...byId.keys()].sort()).toEqual(
      state.subscriptions.map((s) => contractOf(s.id)).sort(),
    );
    const expected: Record<string, [string, string, number | null]> = {
      [CONTOSO]: ['active', 'platinum-monthly', 30],
      [FABRIKAM]: ['cancelled', 'gold-monthly', 10],
      [NORTHWIND]: ['suspended', 'gold-monthly', 5],
      [TAILSPIN]: ['active', 'gold-annual', null],
    };
    for (const subscription of state.subscriptions) {
      const [status, plan, quantity] = expected[subscription.id] ?? [];
      const stored = byId.get(contractOf(subscription.id));
      expect(stored?.status, subscription.id).toBe(status);
      expect(stored?.terms.plan, subscription.id).toBe(plan);
      expect(stored?.terms.quantity, subscription.id).toBe(quantity);
      // The simulator's state is the truth: the sample webhooks only told us where to look.
      expect(stored?.terms.plan).toBe(subscription.planId);
      expect(stored?.terms.quantity).toBe(subscription.quantity);
    }
  });

  it('maps the terms exactly: term from the subscription dates, buyer tenant, currency, grants', async () => {
    const contoso = await contract(test, contractOf(CONTOSO));
    expect(contoso).toMatchObject({
      externalId: `subscription/${CONTOSO}`,
      status: 'active',
      statusReason: null,
      terms: {
        productId: 'agora-saas',
        offerId: 'agora-saas',
        plan: 'platinum-monthly',
        quantity: 30,
        currency: 'USD',
        buyer: { accountId: 'd2a7b8c0-1f3e-4a5b-9c6d-7e8f90a1b2c3', name: 'Contoso Analytics' },
        term: { start: '2026-04-02', end: '2026-05-02' },
        grants: [{ dimension: 'platinum-monthly', quantity: '30' }],
      },
      refs: { subscriptionId: CONTOSO, offerId: 'agora-saas', publisherId: 'agorapublisher' },
    });
    expect((await contract(test, contractOf(TAILSPIN))).terms).toMatchObject({
      term: { start: '2026-03-02', end: '2027-03-02' },
      grants: [{ dimension: 'gold-annual', quantity: null }],
    });
  });

  it('emits the events each status implies, effective on the right dates', async () => {
    const dated = async (subscriptionId: string) =>
      (await eventsOf(test, contractOf(subscriptionId))).map(
        (e) => `${e.event.type}@${e.event.effectiveAt}`,
      );
    // Three webhooks (ChangePlan, ChangeQuantity, Renew) of one subscription: one contract.
    expect(await dated(CONTOSO)).toEqual([
      'ContractCreated@2026-04-02',
      'ContractActivated@2026-04-02',
    ]);
    expect(await dated(FABRIKAM)).toEqual([
      'ContractCreated@2026-03-02',
      'ContractActivated@2026-03-02',
      'ContractCancelled@2026-03-20',
    ]);
    expect(await dated(NORTHWIND)).toEqual([
      'ContractCreated@2026-03-02',
      'ContractActivated@2026-03-02',
      'ContractSuspended@2026-03-25',
    ]);
    expect(await dated(TAILSPIN)).toEqual([
      'ContractCreated@2026-03-02',
      'ContractActivated@2026-03-02',
    ]);
    const first = await eventsOf(test, contractOf(CONTOSO));
    expect(first[0]?.event.raw?.rawId).toBe(webhookRawId(samples[0]?.body ?? {}));
  });

  it('validated every operation at Microsoft and decided nothing (all had succeeded already)', async () => {
    const calls = sim.calls();
    for (const sample of samples) {
      expect(
        calls.some(
          (c) =>
            c.operation === 'GetOperation' &&
            c.status === 200 &&
            c.path.endsWith(`/operations/${String(sample.body.id)}`),
        ),
        sample.name,
      ).toBe(true);
      const raw = await test.get(`/v1/raw/${webhookRawId(sample.body)}`);
      expect(raw.status, sample.name).toBe(200);
      expect(raw.body, sample.name).toMatchObject({
        channel: 'azure-webhook',
        authenticatedAs: `entra:${TENANT}:${APP}`,
        outcome: `${String(sample.body.action)} for ${String(sample.body.subscriptionId)}: 1 contract(s)`,
      });
      expect(raw.body.processedAt, sample.name).not.toBeNull();
    }
    expect(calls.filter((c) => c.operation === 'UpdateOperation')).toEqual([]);
    expect(calls.filter((c) => c.operation === 'DeleteSubscription')).toEqual([]);
    expect(sim.state().operations.every((o) => o.status === 'Succeeded')).toBe(true);
    expect(await dlq(test)).toEqual([]);
  });

  it('answers a redelivery of every sample with 2xx and changes nothing', async () => {
    const ids = [CONTOSO, FABRIKAM, NORTHWIND, TAILSPIN].map(contractOf);
    const before = await Promise.all(ids.map((id) => contract(test, id)));
    const eventsBefore = await Promise.all(ids.map((id) => eventsOf(test, id)));
    const rawBefore = await azureRawCount();
    for (const sample of samples) {
      const response = await webhook(test, sample.body, await bearer(sim));
      expect(response.status, sample.name).toBe(200);
      expect(response.body, sample.name).toEqual({
        rawId: webhookRawId(sample.body),
        outcome: 'duplicate',
        enqueued: false,
      });
    }
    await test.stack.settle();
    const after = await Promise.all(ids.map((id) => contract(test, id)));
    expect(after.map((c) => c.version)).toEqual(before.map((c) => c.version));
    expect(after).toEqual(before);
    const eventsAfter = await Promise.all(ids.map((id) => eventsOf(test, id)));
    expect(eventsAfter).toEqual(eventsBefore);
    expect(await azureRawCount()).toBe(rawBefore);
  });

  it('refuses an unauthenticated webhook with 401 and a machine-readable error, writing nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, () => Promise<string | null>][] = [
      ['no Authorization header', async () => null],
      ['not a bearer token', async () => `Basic ${await sim.mintWebhookToken()}`],
      ['not a JWT', async () => 'Bearer not-a-jwt'],
      ['signed by an unknown key', () => bearer(sim, {}, 'attacker')],
      ['expired', () => bearer(sim, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 })],
      ['without exp', () => bearer(sim, { exp: undefined })],
      ['not yet valid', () => bearer(sim, { nbf: now + 3600 })],
      ['wrong audience', () => bearer(sim, { aud: randomUUID() })],
      ['audience is the marketplace app', () => bearer(sim, { aud: MARKETPLACE_APP_ID })],
      ['wrong tenant', () => bearer(sim, { tid: randomUUID() })],
      ['no tenant', () => bearer(sim, { tid: undefined })],
      ['wrong appid', () => bearer(sim, { appid: randomUUID() })],
      ['appid is our own app', () => bearer(sim, { appid: APP })],
      ['wrong azp, no appid', () => bearer(sim, { appid: undefined, azp: randomUUID() })],
      ['neither appid nor azp', () => bearer(sim, { appid: undefined })],
    ];
    const contractsBefore = (await azureContracts(test)).length;
    const rawBefore = await azureRawCount();
    for (const [name, authorization] of cases) {
      // A subscription the simulator knows and we have no contract for: acting on it would show.
      const purchase = sim.purchase({
        offerId: 'agora-saas',
        planId: 'gold-monthly',
        quantity: 3,
        beneficiaryTenantId: randomUUID(),
      });
      const body = {
        id: randomUUID(),
        subscriptionId: purchase.subscriptionId,
        offerId: 'agora-saas',
        planId: 'gold-monthly',
        action: 'Unsubscribe',
        status: 'Succeeded',
      };
      const response = await webhook(test, body, await authorization());
      expect(response.status, name).toBe(401);
      expect(response.body, name).toMatchObject({
        error: { code: 'unauthorized', message: expect.any(String) },
      });
      expect((await test.get(`/v1/raw/${webhookRawId(body)}`)).status, name).toBe(404);
      expect(
        (await test.get(`/v1/contracts/${contractOf(purchase.subscriptionId)}`)).status,
        name,
      ).toBe(404);
    }
    await test.stack.settle();
    expect(await azureRawCount()).toBe(rawBefore);
    expect((await azureContracts(test)).length).toBe(contractsBefore);
    expect(await dlq(test)).toEqual([]);
  });

  it('accepts a v2-style token naming the marketplace app in azp (control for the cases above)', async () => {
    const body = {
      id: randomUUID(),
      subscriptionId: CONTOSO,
      action: 'Renew',
      status: 'Succeeded',
    };
    const response = await webhook(
      test,
      body,
      await bearer(sim, { appid: undefined, azp: AZURE_MARKETPLACE_APP_ID }),
    );
    expect(response.status).toBe(200);
    expect((await test.get(`/v1/raw/${webhookRawId(body)}`)).status).toBe(200);
    await test.stack.settle();
  });

  it("refuses the simulator's own corrupted deliveries with 401 and stores none of them", async () => {
    const kinds = [
      'no-token',
      'bad-signature',
      'expired-token',
      'wrong-audience',
      'wrong-tenant',
      'wrong-appid',
    ] as const;
    const before = await contract(test, contractOf(CONTOSO));
    for (const kind of kinds) {
      sim.injectFault({ target: 'webhook', kind, times: 1 });
      const result = await sim.renew(CONTOSO);
      // A 4xx is an answer: Microsoft does not retry it.
      expect(
        result.deliveries.map((d) => [d.status, d.fault]),
        kind,
      ).toEqual([[401, kind]]);
      expect(
        (await test.get(`/v1/raw/${rawIdFor('azure', `${result.operation.id}:Renew`)}`)).status,
      ).toBe(404);
    }
    await test.stack.settle();
    expect(await contract(test, contractOf(CONTOSO))).toEqual(before);
  });

  it('stores a webhook with an odd body (valid token), answers 2xx and dead-letters it with the reason', async () => {
    const invalid = sampleFiles('invalid').find((s) => s.name.startsWith('azure-'));
    if (!invalid) throw new Error('events/invalid/azure-webhook-without-subscription.json missing');
    const notJson = 'this is not JSON {';
    const notObject = '[1,2,3]';
    const expectations: [string, string, RegExp][] = [
      [JSON.stringify(invalid.body), webhookRawId(invalid.body), /^webhook: subscriptionId: /],
      [notJson, rawIdFor('azure', `sha256:${sha256Hex(notJson)}`), /^body is not JSON$/],
      [notObject, rawIdFor('azure', `sha256:${sha256Hex(notObject)}`), /^webhook: /],
    ];
    for (const [body, rawId] of expectations) {
      const response = await webhook(test, body, await bearer(sim));
      expect(response.status, body).toBe(200);
      expect(response.body, body).toEqual({ rawId, outcome: 'stored', enqueued: true });
      expect((await test.get(`/v1/raw/${rawId}`)).body.body, body).toBe(body);
    }
    await test.stack.settle();
    const entries = await dlq(test);
    expect(entries.map((e) => e.rawId).sort()).toEqual(expectations.map(([, id]) => id).sort());
    for (const [body, rawId, reason] of expectations) {
      const entry = entries.find((e) => e.rawId === rawId);
      expect(entry, body).toMatchObject({ code: 'invalid_notification', status: 'dead-lettered' });
      expect(entry?.reason, body).toMatch(reason);
    }
    // Redelivering a dead-lettered body is still 2xx and does not add a second entry.
    expect((await webhook(test, notJson, await bearer(sim))).status).toBe(200);
    await test.stack.settle();
    expect((await dlq(test)).length).toBe(expectations.length);
  });
});

describe('Azure purchase, buyer changes, reconciliation and faults', () => {
  let test: TestStack;
  let sim: AzureSimulator;
  let woodgrove = '';
  const buyerTenant = randomUUID();

  beforeAll(async () => {
    // No auto-accept: a ChangePlan/ChangeQuantity/Reinstate succeeds only if Agora accepts it.
    const state: AzureSimulatorStateInput = {
      ...defaultAzureSimulatorState(),
      autoAcceptMs: 3_600_000,
    };
    test = await startTestStack({ azureSimulatorState: state });
    sim = test.stack.azureSimulator;
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  const activate = (
    subscriptionId: string,
    body: unknown,
    roles?: ('seller' | 'admin' | 'finance')[],
  ) =>
    test.post(
      `/v1/marketplace/azure/subscriptions/${subscriptionId}/activate`,
      body,
      roles ? { roles } : {},
    );

  it('shows a purchase on the public landing page and does not activate it', async () => {
    const purchase = sim.purchase({
      offerId: 'agora-saas',
      planId: 'gold-monthly',
      quantity: 7,
      beneficiaryTenantId: buyerTenant,
      name: 'Woodgrove',
    });
    woodgrove = purchase.subscriptionId;
    const response = await fetch(
      `${test.stack.url}/v1/marketplace/azure/landing?token=${encodeURIComponent(purchase.token)}`,
    );
    expect(response.status).toBe(200);
    const landing = (await response.json()) as Record<string, unknown>;
    expect(landing).toEqual({
      subscriptionId: woodgrove,
      offerId: 'agora-saas',
      planId: 'gold-monthly',
      quantity: 7,
      status: 'PendingFulfillmentStart',
      beneficiary: { tenantId: buyerTenant, emailId: expect.any(String) },
      activate: {
        method: 'POST',
        path: `/v1/marketplace/azure/subscriptions/${woodgrove}/activate`,
      },
      rawId: expect.any(String),
    });
    await test.stack.settle();
    expect(await contract(test, contractOf(woodgrove))).toMatchObject({
      status: 'pending',
      statusReason: 'awaiting activation',
      terms: {
        plan: 'gold-monthly',
        quantity: 7,
        buyer: { accountId: buyerTenant, name: 'Woodgrove' },
      },
    });
    expect(await typesOf(test, contractOf(woodgrove))).toEqual(['ContractCreated']);
    expect(sim.calls().filter((c) => c.operation === 'Activate')).toEqual([]);
    expect(sim.state().subscriptions.find((s) => s.id === woodgrove)?.saasSubscriptionStatus).toBe(
      'PendingFulfillmentStart',
    );
    expect((await test.get(`/v1/raw/${String(landing.rawId)}`)).body).toMatchObject({
      channel: 'azure-landing',
    });

    // The buyer reloads the page: same answer, nothing new.
    const again = await fetch(
      `${test.stack.url}/v1/marketplace/azure/landing?token=${encodeURIComponent(purchase.token)}`,
    );
    expect(again.status).toBe(200);
    expect(((await again.json()) as Record<string, unknown>).rawId).toBe(landing.rawId);
    await test.stack.settle();
    expect((await contract(test, contractOf(woodgrove))).version).toBe(1);
  });

  it('refuses a bad landing token with 401 and writes nothing', async () => {
    const rawBefore = await azureRawCount();
    const contractsBefore = (await azureContracts(test)).length;
    for (const token of ['not-a-marketplace-token', Buffer.from(randomUUID()).toString('base64')]) {
      const response = await fetch(
        `${test.stack.url}/v1/marketplace/azure/landing?token=${encodeURIComponent(token)}`,
      );
      expect(response.status, token).toBe(401);
      expect(await response.json(), token).toMatchObject({ error: { code: 'unauthorized' } });
    }
    const missing = await fetch(`${test.stack.url}/v1/marketplace/azure/landing`);
    expect(missing.status).toBe(400);
    await test.stack.settle();
    expect(await azureRawCount()).toBe(rawBefore);
    expect((await azureContracts(test)).length).toBe(contractsBefore);
  });

  it('activates only on an explicit POST by a seller, once', async () => {
    expect((await activate(woodgrove, { planId: 'gold-monthly', quantity: 7 })).status).toBe(401);
    expect(
      (await activate(woodgrove, { planId: 'gold-monthly', quantity: 7 }, ['finance'])).status,
    ).toBe(403);
    expect(sim.calls().filter((c) => c.operation === 'Activate')).toEqual([]);
    expect((await contract(test, contractOf(woodgrove))).status).toBe('pending');

    const first = await activate(woodgrove, { planId: 'gold-monthly', quantity: 7 }, ['seller']);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ outcome: 'stored', enqueued: true });
    await test.stack.settle();
    const activated = await contract(test, contractOf(woodgrove));
    const simSubscription = sim.state().subscriptions.find((s) => s.id === woodgrove);
    expect(simSubscription?.saasSubscriptionStatus).toBe('Subscribed');
    expect(activated.status).toBe('active');
    expect(activated.terms.term).toEqual({
      start: simSubscription?.term.startDate?.slice(0, 10),
      end: simSubscription?.term.endDate?.slice(0, 10),
    });
    const types = await typesOf(test, contractOf(woodgrove));
    expect(types[0]).toBe('ContractCreated');
    // The term starts at activation: carried by ContractActivated, not reported as an amendment.
    expect(types).toEqual(['ContractCreated', 'ContractActivated']);
    const activation = (await eventsOf(test, contractOf(woodgrove))).at(-1);
    expect(activation?.event.payload).toMatchObject({ terms: { term: activated.terms.term } });

    // Twice: harmless, no second event.
    const second = await activate(woodgrove, { planId: 'gold-monthly', quantity: 7 }, ['admin']);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      rawId: first.body.rawId,
      outcome: 'duplicate',
      enqueued: false,
    });
    await test.stack.settle();
    expect(await contract(test, contractOf(woodgrove))).toEqual(activated);
    expect(await typesOf(test, contractOf(woodgrove))).toEqual(types);
  });

  it("answers activation problems in the seller's terms: 404 unknown, 409 refused, 503 unavailable", async () => {
    const rawBefore = await azureRawCount();
    const unknown = await activate(randomUUID(), { planId: 'gold-monthly', quantity: 1 }, [
      'seller',
    ]);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'not_found' } });

    const purchase = sim.purchase({
      offerId: 'agora-saas',
      planId: 'gold-monthly',
      quantity: 2,
      beneficiaryTenantId: randomUUID(),
    });
    const refused = await activate(purchase.subscriptionId, { planId: 'no-such-plan' }, ['seller']);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'azure_activation_rejected' } });

    // Microsoft keeps failing: the buyer's landing page says "retry", not "internal error".
    sim.injectFault({ target: 'Resolve', kind: 'server-error', times: 20 });
    const landing = await fetch(
      `${test.stack.url}/v1/marketplace/azure/landing?token=${encodeURIComponent(purchase.token)}`,
    );
    sim.clearFaults();
    expect(landing.status).toBe(503);
    expect(landing.headers.get('retry-after')).not.toBeNull();
    expect(await landing.json()).toMatchObject({ error: { code: 'service_unavailable' } });
    await test.stack.settle();
    expect(await azureRawCount()).toBe(rawBefore);
  });

  it('accepts a ChangePlan at Microsoft and amends the contract', async () => {
    const before = await typesOf(test, contractOf(woodgrove));
    const result = await sim.changePlan(woodgrove, 'platinum-monthly');
    expect(result.deliveries.map((d) => d.status)).toEqual([200]);
    await test.stack.settle();
    const operation = sim.state().operations.find((o) => o.id === result.operation.id);
    expect(operation?.status).toBe('Succeeded');
    expect(
      sim
        .calls()
        .filter((c) => c.operation === 'UpdateOperation' && c.path.endsWith(result.operation.id)),
    ).toMatchObject([{ method: 'PATCH', status: 200, input: { status: 'Success' } }]);
    const amended = await contract(test, contractOf(woodgrove));
    expect(amended).toMatchObject({
      status: 'active',
      terms: { plan: 'platinum-monthly', quantity: 7 },
      refs: { lastDecision: `ChangePlan ${result.operation.id} accepted` },
    });
    expect(await typesOf(test, contractOf(woodgrove))).toEqual([...before, 'ContractAmended']);
  });

  it('accepts a ChangeQuantity at Microsoft and amends the grants', async () => {
    const before = await typesOf(test, contractOf(woodgrove));
    const result = await sim.changeQuantity(woodgrove, 12);
    expect(result.deliveries.map((d) => d.status)).toEqual([200]);
    await test.stack.settle();
    expect(sim.state().operations.find((o) => o.id === result.operation.id)?.status).toBe(
      'Succeeded',
    );
    expect(
      sim
        .calls()
        .filter((c) => c.operation === 'UpdateOperation' && c.path.endsWith(result.operation.id)),
    ).toMatchObject([{ method: 'PATCH', status: 200, input: { status: 'Success' } }]);
    expect((await contract(test, contractOf(woodgrove))).terms).toMatchObject({
      plan: 'platinum-monthly',
      quantity: 12,
      grants: [{ dimension: 'platinum-monthly', quantity: '12' }],
    });
    expect(await typesOf(test, contractOf(woodgrove))).toEqual([...before, 'ContractAmended']);
  });

  it('stores but does not act on a webhook whose operation Microsoft does not know', async () => {
    const before = await contract(test, contractOf(woodgrove));
    const body = {
      id: randomUUID(),
      subscriptionId: woodgrove,
      offerId: 'agora-saas',
      planId: 'gold-annual',
      quantity: 1,
      action: 'ChangePlan',
      status: 'InProgress',
    };
    const response = await webhook(test, body, await bearer(sim));
    expect(response.status).toBe(200);
    await test.stack.settle();
    const raw = await test.get(`/v1/raw/${webhookRawId(body)}`);
    expect(raw.status).toBe(200);
    expect(raw.body.outcome).toBe(
      `ChangePlan for ${woodgrove}: operation ${body.id} not found at Microsoft; not acted on`,
    );
    expect(
      sim
        .calls()
        .filter((c) => c.path.includes(body.id))
        .map((c) => [c.operation, c.status]),
    ).toEqual([['GetOperation', 404]]);
    expect(await contract(test, contractOf(woodgrove))).toEqual(before);
    expect(sim.state().subscriptions.find((s) => s.id === woodgrove)?.planId).toBe(
      'platinum-monthly',
    );
    expect(await dlq(test)).toEqual([]);
  });

  it('follows suspend, reinstate (accepted at Microsoft) and unsubscribe', async () => {
    const before = await typesOf(test, contractOf(woodgrove));
    await sim.suspend(woodgrove);
    await test.stack.settle();
    expect(await contract(test, contractOf(woodgrove))).toMatchObject({
      status: 'suspended',
      statusReason: 'suspended by Microsoft (usually a payment problem)',
    });

    const reinstate = await sim.reinstate(woodgrove);
    await test.stack.settle();
    expect(sim.state().operations.find((o) => o.id === reinstate.operation.id)?.status).toBe(
      'Succeeded',
    );
    expect(
      sim
        .calls()
        .filter(
          (c) => c.operation === 'UpdateOperation' && c.path.endsWith(reinstate.operation.id),
        ),
    ).toMatchObject([{ method: 'PATCH', status: 200, input: { status: 'Success' } }]);
    expect((await contract(test, contractOf(woodgrove))).status).toBe('active');

    await sim.unsubscribe(woodgrove);
    await test.stack.settle();
    const cancelled = await contract(test, contractOf(woodgrove));
    expect(cancelled).toMatchObject({ status: 'cancelled', statusReason: 'unsubscribed' });
    const events = await eventsOf(test, contractOf(woodgrove));
    expect(events.map((e) => e.event.type)).toEqual([
      ...before,
      'ContractSuspended',
      'ContractReinstated',
      'ContractCancelled',
    ]);
    const lastModified = sim.state().subscriptions.find((s) => s.id === woodgrove)?.lastModified;
    expect(events.at(-1)?.event.effectiveAt).toBe(lastModified?.slice(0, 10));
    expect(sim.calls().filter((c) => c.operation === 'DeleteSubscription')).toEqual([]);
  });

  it('reconciles what no webhook announced, and enqueues nothing when nothing changed', async () => {
    // The first pass reads every subscription: the sample ones have no contract yet.
    const woodgroveBefore = await contract(test, contractOf(woodgrove));
    const first = await reconcileAzure();
    expect(first).toEqual({
      seen: sim.state().subscriptions.length,
      enqueued: sim.state().subscriptions.length,
    });
    await test.stack.settle();
    // Re-reading a subscription we already follow changes nothing.
    expect(await contract(test, contractOf(woodgrove))).toEqual(woodgroveBefore);
    expect((await contract(test, contractOf(CONTOSO))).status).toBe('active');
    expect((await contract(test, contractOf(NORTHWIND))).status).toBe('suspended');
    expect(await reconcileAzure()).toEqual({ seen: first.seen, enqueued: 0 });

    // A missed webhook: Contoso is suspended while the webhook target is down.
    sim.setWebhookTarget(null);
    const suspended = await sim.suspend(CONTOSO);
    expect(suspended.deliveries).toEqual([]);
    sim.setWebhookTarget({
      url: `${test.stack.url}/v1/webhooks/azure`,
      audience: APP,
      tenantId: TENANT,
    });
    await test.stack.settle();
    expect((await contract(test, contractOf(CONTOSO))).status).toBe('active');
    expect(await reconcileAzure()).toEqual({ seen: first.seen, enqueued: 1 });
    await test.stack.settle();
    expect((await contract(test, contractOf(CONTOSO))).status).toBe('suspended');
    expect((await typesOf(test, contractOf(CONTOSO))).at(-1)).toBe('ContractSuspended');
    expect(await reconcileAzure()).toEqual({ seen: first.seen, enqueued: 0 });

    // A change made behind everyone's back (state replaced): Tailspin moves to another plan.
    const state = sim.state();
    sim.setState({
      ...state,
      subscriptions: state.subscriptions.map((s) =>
        s.id === TAILSPIN
          ? { ...s, planId: 'gold-monthly', lastModified: new Date().toISOString() }
          : s,
      ),
    });
    const tailspinVersion = (await contract(test, contractOf(TAILSPIN))).version;
    expect(await reconcileAzure()).toEqual({ seen: first.seen, enqueued: 1 });
    await test.stack.settle();
    const tailspin = await contract(test, contractOf(TAILSPIN));
    expect(tailspin).toMatchObject({ status: 'active', terms: { plan: 'gold-monthly' } });
    expect(tailspin.version).toBe(tailspinVersion + 1);
    expect((await typesOf(test, contractOf(TAILSPIN))).at(-1)).toBe('ContractAmended');
    expect(await reconcileAzure()).toEqual({ seen: first.seen, enqueued: 0 });
    expect(await dlq(test)).toEqual([]);
  });

  it('retries throttling and 5xx from the fulfillment API until the sync succeeds', async () => {
    const callsBefore = sim.calls().length;
    sim.injectFault({ target: 'GetOperation', kind: 'throttle', times: 2 });
    // Three failures exhaust one sync's attempts; the queue redelivers and the fourth is the last.
    sim.injectFault({ target: 'GetSubscription', kind: 'server-error', times: 4 });
    const renewed = await sim.renew(TAILSPIN);
    expect(renewed.deliveries.map((d) => d.status)).toEqual([200]);
    await test.stack.settle();
    const calls = sim.calls().slice(callsBefore);
    const statuses = (operation: string) =>
      calls.filter((c) => c.operation === operation).map((c) => c.status);
    expect(statuses('GetOperation').slice(0, 3)).toEqual([429, 429, 200]);
    expect(statuses('GetSubscription').slice(0, 5)).toEqual([500, 500, 500, 500, 200]);
    const tailspin = await contract(test, contractOf(TAILSPIN));
    expect(tailspin.terms.term).toEqual({
      start: renewed.subscription.term.startDate?.slice(0, 10),
      end: renewed.subscription.term.endDate?.slice(0, 10),
    });
    expect((await typesOf(test, contractOf(TAILSPIN))).at(-1)).toBe('ContractRenewed');
    const raw = await test.get(`/v1/raw/${rawIdFor('azure', `${renewed.operation.id}:Renew`)}`);
    expect(raw.body.outcome).toBe(`Renew for ${TAILSPIN}: 1 contract(s)`);
    expect(await dlq(test)).toEqual([]);
  });
});

describe('Azure change policy: refusing changes', () => {
  let test: TestStack;
  let sim: AzureSimulator;
  const previous = process.env.AGORA_AZURE_CHANGE_POLICY;

  beforeAll(async () => {
    process.env.AGORA_AZURE_CHANGE_POLICY = JSON.stringify({
      changePlan: 'reject',
      changeQuantity: 'accept',
      reinstate: 'reject',
    });
    test = await startTestStack({
      azureSimulatorState: { ...defaultAzureSimulatorState(), autoAcceptMs: 3_600_000 },
    });
    sim = test.stack.azureSimulator;
  });

  afterAll(async () => {
    await test?.stack.stop();
    if (previous === undefined) delete process.env.AGORA_AZURE_CHANGE_POLICY;
    else process.env.AGORA_AZURE_CHANGE_POLICY = previous;
  });

  it('rejects a ChangePlan at Microsoft (PATCH Failure) and keeps the plan', async () => {
    const result = await sim.changePlan(CONTOSO, 'gold-monthly');
    await test.stack.settle();
    expect(sim.state().operations.find((o) => o.id === result.operation.id)?.status).toBe('Failed');
    expect(
      sim
        .calls()
        .filter((c) => c.operation === 'UpdateOperation' && c.path.endsWith(result.operation.id)),
    ).toMatchObject([{ method: 'PATCH', status: 200, input: { status: 'Failure' } }]);
    expect(await contract(test, contractOf(CONTOSO))).toMatchObject({
      status: 'active',
      terms: { plan: 'platinum-monthly', quantity: 30 },
      refs: { lastDecision: `ChangePlan ${result.operation.id} rejected` },
    });
  });

  it('still accepts what the policy accepts (ChangeQuantity)', async () => {
    const result = await sim.changeQuantity(CONTOSO, 31);
    await test.stack.settle();
    expect(sim.state().operations.find((o) => o.id === result.operation.id)?.status).toBe(
      'Succeeded',
    );
    expect((await contract(test, contractOf(CONTOSO))).terms.quantity).toBe(31);
  });

  it('refuses a Reinstate by deleting the subscription, which cancels the contract', async () => {
    await sim.suspend(CONTOSO);
    await test.stack.settle();
    expect((await contract(test, contractOf(CONTOSO))).status).toBe('suspended');
    const result = await sim.reinstate(CONTOSO);
    await test.stack.settle();
    expect(sim.state().operations.find((o) => o.id === result.operation.id)?.status).toBe('Failed');
    expect(sim.calls().filter((c) => c.operation === 'DeleteSubscription')).toMatchObject([
      { method: 'DELETE', status: 202 },
    ]);
    expect(
      sim
        .calls()
        .filter((c) => c.path.endsWith(result.operation.id))
        .map((c) => c.operation),
    ).toEqual(['GetOperation']);
    expect(sim.state().subscriptions.find((s) => s.id === CONTOSO)?.saasSubscriptionStatus).toBe(
      'Unsubscribed',
    );
    const cancelled = await contract(test, contractOf(CONTOSO));
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      refs: { lastDecision: `Reinstate ${result.operation.id} refused (subscription deleted)` },
    });
    expect(await typesOf(test, contractOf(CONTOSO))).toEqual([
      'ContractCreated',
      'ContractActivated',
      'ContractAmended',
      'ContractSuspended',
      'ContractCancelled',
    ]);
  });
});
