// Proves the real Google Cloud private-offer publisher against the GCP simulator over real HTTP: publish → operation polled → SUCCEEDED with the published offer, the same token starts one operation and one offer, invalid offers end FAILED with field violations and create nothing, injected failures surface as server faults or retried outages, products are readable but never writable, and malformed requests are refused at once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MarketplaceUnavailableError } from '../../../lib/app/errors';
import type { OfferChangeStatus } from '../../../lib/app/ports';
import { addDays } from '../../../lib/domain/calendar';
import {
  type OfferDocument,
  type OfferDocumentInput,
  OfferDocumentSchema,
} from '../../../lib/domain/offers/offer-document';
import { offerRuleViolations } from '../../../lib/domain/offers/rules';
import { RPC_CODES } from '../../../lib/local/simulators/gcp-offer-simulator';
import { type GcpSimulator, startGcpSimulator } from '../../../lib/local/simulators/gcp-simulator';
import {
  buildGcpPrivateOffer,
  GcpOfferPublisher,
  requestIdFor,
} from '../../../lib/marketplaces/gcp/offer-publisher';

const TODAY = '2026-03-01';
const NOW = new Date(`${TODAY}T10:00:00.000Z`);
const PROVIDER = 'agora-demo-provider';
const PRODUCT = 'agora-analytics';
/** A product the simulator knows only from an entitlement of its main state. */
const ENTITLED_PRODUCT = 'agora-saas.endpoints.agora-demo.cloud.goog';
const BUYER = '01A2B3-C4D5E6-F7A8B9';
const RESELLER = '0ABCDE-123456-FEDCBA';

function input(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'gcp',
    productId: PRODUCT,
    name: 'Initech - 2 years',
    buyers: [{ accountId: BUYER, name: 'Initech' }],
    pricing: {
      currency: 'USD',
      upfront: [{ dimension: 'enterprise', priceMinor: '5000000', quantity: 2 }],
      usageRates: [{ dimension: 'requests', unitPrice: '0.0025' }],
    },
    paymentSchedule: [
      { date: addDays(TODAY, 10), amountMinor: '4000000' },
      { date: addDays(TODAY, 375), amountMinor: '6000000' },
    ],
    term: { durationMonths: 24 },
    expiresOn: addDays(TODAY, 20),
    legal: { type: 'standard', version: 'google-standard' },
  };
}

function doc(change: (d: OfferDocumentInput) => void = () => {}): OfferDocument {
  const value = input();
  change(value);
  return OfferDocumentSchema.parse(value);
}

const token = () => randomUUID().replaceAll('-', '');
const json = { authorization: 'Bearer x', 'content-type': 'application/json' };

describe('Google Cloud private offers against the simulator', () => {
  let sim: GcpSimulator;
  let publisher: GcpOfferPublisher;

  async function pollUntilDone(
    document: OfferDocument,
    name: string,
  ): Promise<OfferChangeStatus[]> {
    const seen: OfferChangeStatus[] = [];
    for (let read = 0; read < 10; read += 1) {
      const status = await publisher.status(document, name);
      if (status === null) throw new Error(`operation ${name} not found`);
      seen.push(status);
      if (status.status === 'SUCCEEDED' || status.status === 'FAILED') return seen;
    }
    throw new Error(`operation ${name} still running after 10 reads`);
  }

  beforeAll(async () => {
    const at = NOW.toISOString();
    sim = await startGcpSimulator({
      now: () => NOW,
      state: {
        providers: [{ providerId: PROVIDER, signupAudience: 'agora.local' }],
        accounts: [
          {
            providerId: PROVIDER,
            id: 'acct-1',
            state: 'ACCOUNT_ACTIVE',
            approvals: [],
            createTime: at,
            updateTime: at,
          },
        ],
        entitlements: [
          {
            providerId: PROVIDER,
            id: 'ent-1',
            accountId: 'acct-1',
            product: ENTITLED_PRODUCT,
            plan: 'standard',
            state: 'ENTITLEMENT_ACTIVE',
            createTime: at,
            updateTime: at,
          },
        ],
        ackDeadlineMs: 10_000,
      },
    });
    publisher = new GcpOfferPublisher({
      baseUrl: sim.url,
      token: async () => 'local-simulator-token',
      providerId: PROVIDER,
      http: { sleep: async () => {} },
    });
  });

  afterAll(async () => {
    await sim?.close();
  });

  beforeEach(() => {
    sim.offers.reset();
    sim.offers.setStepsToComplete(2);
    sim.offers.setProducts([
      {
        providerId: PROVIDER,
        productId: PRODUCT,
        displayName: 'Agora Analytics',
        plans: ['enterprise'],
      },
    ]);
  });

  it('publishes a direct offer: operation → RUNNING → SUCCEEDED with the published offer', async () => {
    const document = doc();
    expect(offerRuleViolations(document, { today: TODAY })).toEqual([]);
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'a' });
    expect(started.entityType).toBe('private-offer');
    expect(started.changeSetId).toMatch(/^operations\/[0-9a-f-]{36}$/);
    const statuses = await pollUntilDone(document, started.changeSetId);
    expect(statuses.map((s) => s.status)).toEqual(['RUNNING', 'SUCCEEDED']);
    const offers = sim.offers.privateOffers();
    expect(offers).toHaveLength(1);
    expect(statuses.at(-1)).toEqual({
      status: 'SUCCEEDED',
      entityId: offers[0]?.name,
      failure: null,
      serverFault: false,
      expiresOn: document.expiresOn,
    });
    expect(offers[0]?.name).toMatch(
      new RegExp(`^providers/${PROVIDER}/privateOffers/[0-9a-f-]{36}$`),
    );
    // The offer is what was sent, published.
    const { name, state, createTime, updateTime, ...sent } = offers[0] ?? ({} as never);
    expect(sent).toEqual(buildGcpPrivateOffer(document, PROVIDER));
    expect(state).toBe('PUBLISHED');
    expect(createTime).toBe(NOW.toISOString());
    expect(updateTime).toBe(createTime);
    const read = await fetch(`${sim.url}/v1beta/${name}`, { headers: json });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(offers[0]);
  });

  it('publishes a channel offer billed to the reseller, on a product known from an entitlement', async () => {
    sim.offers.setStepsToComplete(1);
    const document = doc((d) => {
      d.productId = ENTITLED_PRODUCT;
      d.reseller = {
        partnerAccountId: RESELLER,
        wholesalePriceMinor: '8000000',
        use: 'time-bound',
        expiresOn: addDays(TODAY, 15),
      };
    });
    expect(offerRuleViolations(document, { today: TODAY })).toEqual([]);
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'b' });
    expect(started.entityType).toBe('channel-private-offer');
    expect((await pollUntilDone(document, started.changeSetId)).map((s) => s.status)).toEqual([
      'SUCCEEDED',
    ]);
    expect(sim.offers.privateOffers()[0]).toMatchObject({
      offerType: 'RESELLER',
      billingAccount: `billingAccounts/${RESELLER}`,
      customer: { billingAccount: `billingAccounts/${BUYER}` },
    });
  });

  it('starts one operation and one offer for the same token, and another for a new token', async () => {
    const document = doc();
    const same = token();
    const first = await publisher.publish(document, { clientRequestToken: same, name: 'c' });
    const second = await publisher.publish(document, { clientRequestToken: same, name: 'c' });
    expect(second.changeSetId).toBe(first.changeSetId);
    await pollUntilDone(document, first.changeSetId);
    const third = await publisher.publish(document, { clientRequestToken: same, name: 'c' });
    expect(third.changeSetId).toBe(first.changeSetId);
    expect(sim.offers.operations()).toHaveLength(1);
    expect(sim.offers.privateOffers()).toHaveLength(1);
    expect(
      sim.offers
        .calls()
        .filter((c) => c.method === 'CreatePrivateOffer')
        .map((c) => c.query.requestId),
    ).toEqual([requestIdFor(same), requestIdFor(same), requestIdFor(same)]);
    const other = await publisher.publish(document, { clientRequestToken: token(), name: 'd' });
    expect(other.changeSetId).not.toBe(first.changeSetId);
    await pollUntilDone(document, other.changeSetId);
    expect(sim.offers.privateOffers()).toHaveLength(2);
  });

  it('ends an invalid offer FAILED with its field violations and creates nothing', async () => {
    const document = doc((d) => {
      d.buyers = [{ accountId: BUYER.toLowerCase() }];
      d.expiresOn = addDays(TODAY, -1);
      d.paymentSchedule = [{ date: addDays(TODAY, 10), amountMinor: '1' }];
      d.legal = { type: 'custom', url: 'http://example.com/eula' };
    });
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'e' });
    const final = (await pollUntilDone(document, started.changeSetId)).at(-1);
    expect(final).toMatchObject({
      status: 'FAILED',
      serverFault: false,
      entityId: null,
      failure: { code: 'INVALID_ARGUMENT' },
    });
    expect(final?.failure?.errors.map((e) => e.change)).toEqual([
      'accept_by_date',
      'billing_account',
      'customer.billing_account',
      'payment_schedule',
      'eula.uri',
    ]);
    expect(final?.failure?.errors.every((e) => e.code === 'INVALID_ARGUMENT')).toBe(true);
    expect(final?.failure?.errors[0]?.message).toBe(
      `${addDays(TODAY, -1)} is in the past (today is ${TODAY})`,
    );
    expect(sim.offers.privateOffers()).toEqual([]);
    const unknown = doc((d) => {
      d.productId = 'no-such-product';
    });
    const missing = await publisher.publish(unknown, { clientRequestToken: token(), name: 'f' });
    expect((await pollUntilDone(unknown, missing.changeSetId)).at(-1)).toMatchObject({
      status: 'FAILED',
      serverFault: false,
      failure: { code: 'NOT_FOUND', errors: [] },
    });
  });

  it('reports an operation Google failed on its side as a server fault', async () => {
    sim.offers.injectFault({ kind: 'operation-failed', times: 1 });
    const document = doc();
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'g' });
    expect((await pollUntilDone(document, started.changeSetId)).at(-1)).toMatchObject({
      status: 'FAILED',
      serverFault: true,
      failure: { code: 'INTERNAL' },
    });
    sim.offers.injectFault({
      kind: 'operation-failed',
      code: RPC_CODES.FAILED_PRECONDITION,
      times: 1,
    });
    const refused = await publisher.publish(document, { clientRequestToken: token(), name: 'h' });
    expect((await pollUntilDone(document, refused.changeSetId)).at(-1)).toMatchObject({
      status: 'FAILED',
      serverFault: false,
      failure: { code: 'FAILED_PRECONDITION' },
    });
    expect(sim.offers.privateOffers()).toEqual([]);
  });

  it('retries a 500 on create once without a second operation, and gives up on a lasting outage', async () => {
    sim.offers.injectFault({ kind: 'server-error', target: 'CreatePrivateOffer', times: 1 });
    const started = await publisher.publish(doc(), { clientRequestToken: token(), name: 'i' });
    expect(sim.offers.operations().map((o) => o.name)).toEqual([started.changeSetId]);
    expect(
      sim.offers
        .calls()
        .filter((c) => c.method === 'CreatePrivateOffer')
        .map((c) => c.status),
    ).toEqual([500, 200]);
    sim.offers.injectFault({ kind: 'server-error', target: '*', times: 3 });
    await expect(
      publisher.publish(doc(), { clientRequestToken: token(), name: 'j' }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    sim.offers.injectFault({ kind: 'throttle', target: 'GetOperation', times: 3 });
    await expect(publisher.status(doc(), started.changeSetId)).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    expect(await publisher.status(doc(), `operations/${randomUUID()}`)).toBeNull();
  });

  it('reads products but refuses every write: Google has no listing API', async () => {
    const product = await fetch(`${sim.url}/v1beta/providers/${PROVIDER}/products/${PRODUCT}`, {
      headers: json,
    });
    expect(product.status).toBe(200);
    expect(await product.json()).toEqual({
      name: `providers/${PROVIDER}/products/${PRODUCT}`,
      displayName: 'Agora Analytics',
      plans: [{ name: 'enterprise' }],
      state: 'PUBLISHED',
    });
    const entitled = await fetch(
      `${sim.url}/v1beta/providers/${PROVIDER}/products/${ENTITLED_PRODUCT}`,
      { headers: json },
    );
    expect(await entitled.json()).toMatchObject({ plans: [{ name: 'standard' }] });
    for (const [method, path] of [
      ['PATCH', `products/${PRODUCT}`],
      ['POST', 'products'],
      ['PUT', `products/${PRODUCT}`],
      ['DELETE', `products/${PRODUCT}`],
      ['POST', `products/${PRODUCT}:publish`],
    ] as const) {
      const response = await fetch(`${sim.url}/v1beta/providers/${PROVIDER}/${path}`, {
        method,
        headers: json,
        ...(method === 'DELETE' ? {} : { body: JSON.stringify({ displayName: 'New name' }) }),
      });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
      const body = (await response.json()) as { error: { message: string; status: string } };
      expect(body.error.status).toBe('UNIMPLEMENTED');
      expect(body.error.message).toContain('no API to write products or listings');
    }
    const missing = await fetch(`${sim.url}/v1beta/providers/${PROVIDER}/products/nope`, {
      headers: json,
    });
    expect(missing.status).toBe(404);
    expect(sim.offers.products().find((p) => p.productId === PRODUCT)?.displayName).toBe(
      'Agora Analytics',
    );
  });

  it('refuses malformed requests at once, with Google’s error shape', async () => {
    const url = `${sim.url}/v1beta/providers/${PROVIDER}/privateOffers`;
    const body = JSON.stringify(buildGcpPrivateOffer(doc(), PROVIDER));
    const notUuid = await fetch(`${url}?requestId=not-a-uuid`, {
      method: 'POST',
      headers: json,
      body,
    });
    expect(notUuid.status).toBe(400);
    expect(await notUuid.json()).toMatchObject({
      error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringContaining('UUID') },
    });
    const shape = await fetch(url, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ displayName: 'x' }),
    });
    expect(shape.status).toBe(400);
    const shapeBody = (await shape.json()) as {
      error: { details: { fieldViolations: { field: string }[] }[] };
    };
    expect(shapeBody.error.details[0]?.fieldViolations.map((v) => v.field)).toContain('product');
    const anonymous = await fetch(url, { method: 'POST', body });
    expect(anonymous.status).toBe(401);
    expect(sim.offers.operations()).toEqual([]);
    const refused = new GcpOfferPublisher({
      baseUrl: sim.url,
      token: async () => '',
      providerId: PROVIDER,
    });
    await expect(
      refused.publish(doc(), { clientRequestToken: token(), name: 'k' }),
    ).rejects.toMatchObject({ code: 'marketplace_access_denied' });
    // The procurement half of the simulator still answers beside it.
    const account = await fetch(`${sim.url}/v1/providers/${PROVIDER}/accounts/acct-1`, {
      headers: json,
    });
    expect(account.status).toBe(200);
  });
});
