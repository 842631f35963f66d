// Proves the real Azure private-offer publisher against the Microsoft simulator over real HTTP: publish → poll → SUCCEEDED with the created private offer, the same token starts one job and one offer, invalid offers end FAILED with Microsoft-style errors and create nothing, injected service failures surface as server faults or retried outages, and listing/plan resources change the product's resource tree.
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
import {
  LISTING_SCHEMA,
  PLAN_SCHEMA,
  PRODUCT_INGESTION_VERSION,
} from '../../../lib/local/simulators/azure-offer-simulator';
import {
  type AzureSimulator,
  startAzureSimulator,
} from '../../../lib/local/simulators/azure-simulator';
import {
  AzureOfferPublisher,
  buildAzurePrivateOffer,
} from '../../../lib/marketplaces/azure/offer-publisher';

const TODAY = '2026-03-01';
const NOW = new Date(`${TODAY}T10:00:00.000Z`);
const TENANT = 'd2a7b8c0-1f3e-4a5b-9c6d-7e8f90a1b2c3';
const PRODUCT = 'agora-saas';

function input(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'azure',
    productId: PRODUCT,
    name: 'Contoso - 1 year',
    buyers: [{ accountId: TENANT, name: 'Contoso' }],
    pricing: {
      currency: 'USD',
      upfront: [{ dimension: 'gold-annual', priceMinor: '120000', quantity: 10 }],
      usageRates: [],
    },
    term: { durationMonths: 12 },
    expiresOn: addDays(TODAY, 30),
    legal: { type: 'custom', url: 'https://contoso.blob.core.windows.net/eula.pdf' },
  };
}

function doc(change: (d: OfferDocumentInput) => void = () => {}): OfferDocument {
  const value = input();
  change(value);
  return OfferDocumentSchema.parse(value);
}

/** A fresh client request token, as the offers service makes one per attempt. */
const token = () => randomUUID().replaceAll('-', '');

describe('Azure private offers against the simulator', () => {
  let sim: AzureSimulator;
  let publisher: AzureOfferPublisher;

  async function pollUntilDone(
    document: OfferDocument,
    jobId: string,
  ): Promise<OfferChangeStatus[]> {
    const seen: OfferChangeStatus[] = [];
    for (let read = 0; read < 10; read += 1) {
      const status = await publisher.status(document, jobId);
      if (status === null) throw new Error(`job ${jobId} not found`);
      seen.push(status);
      if (status.status === 'SUCCEEDED' || status.status === 'FAILED') return seen;
    }
    throw new Error(`job ${jobId} still pending after 10 reads`);
  }

  beforeAll(async () => {
    sim = await startAzureSimulator({
      now: () => NOW,
      state: {
        publisherId: 'agorapublisher',
        apps: [],
        offers: [
          {
            offerId: PRODUCT,
            plans: [{ planId: 'gold-annual', termUnit: 'P1Y' }, { planId: 'platinum-annual' }],
          },
        ],
        subscriptions: [],
        operations: [],
        landingTokens: [],
      },
    });
    publisher = new AzureOfferPublisher({
      baseUrl: sim.url,
      token: async () => 'simulator-token',
      http: { sleep: async () => {} },
    });
  });

  afterAll(async () => {
    await sim?.close();
  });

  beforeEach(() => {
    sim.offers.reset();
    sim.offers.setProducts([]);
    sim.offers.setStepsToComplete(2);
  });

  it('publishes a customer private offer: job → running → SUCCEEDED with the created offer', async () => {
    const document = doc();
    expect(offerRuleViolations(document, { today: TODAY })).toEqual([]);
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'a' });
    expect(started.entityType).toBe('private-offer');
    expect(sim.offers.jobs()).toEqual([
      expect.objectContaining({ jobId: started.changeSetId, jobStatus: 'notStarted' }),
    ]);
    const statuses = await pollUntilDone(document, started.changeSetId);
    expect(statuses.map((s) => s.status)).toEqual(['running', 'SUCCEEDED']);
    const offers = sim.offers.privateOffers();
    expect(offers).toHaveLength(1);
    expect(statuses.at(-1)).toEqual({
      status: 'SUCCEEDED',
      entityId: offers[0]?.id,
      failure: null,
      serverFault: false,
      expiresOn: document.expiresOn,
    });
    expect(offers[0]?.id).toMatch(/^private-offer\/[0-9a-f-]{36}$/);
    expect(offers[0]?.jobId).toBe(started.changeSetId);
    // The simulator holds exactly what was sent.
    expect(offers[0]?.resource).toEqual(buildAzurePrivateOffer(document));
    const configure = sim.offers.calls().filter((c) => c.operation === 'Configure');
    expect(configure).toHaveLength(1);
    expect(configure[0]?.status).toBe(202);
  });

  it('publishes a multiparty private offer with a fixed term in one status read when configured', async () => {
    sim.offers.setStepsToComplete(1);
    const document = doc((d) => {
      d.term = { startDate: addDays(TODAY, 31), durationMonths: 24 };
      d.reseller = {
        partnerAccountId: '1234567',
        discountPercent: '15',
        use: 'single-use',
        expiresOn: addDays(TODAY, 10),
      };
    });
    expect(offerRuleViolations(document, { today: TODAY })).toEqual([]);
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'b' });
    expect(started.entityType).toBe('multiparty-private-offer');
    const statuses = await pollUntilDone(document, started.changeSetId);
    expect(statuses.map((s) => s.status)).toEqual(['SUCCEEDED']);
    const [offer] = sim.offers.privateOffers();
    expect(offer?.resource).toMatchObject({
      privateOfferType: 'multipartyPromotionOriginator',
      variableStartDate: false,
      start: addDays(TODAY, 31),
      partners: [{ id: '1234567', margin: { type: 'percentage', percentage: '15' } }],
    });
  });

  it('starts one job and one offer for the same token, and another for a new token', async () => {
    const document = doc();
    const same = token();
    const first = await publisher.publish(document, { clientRequestToken: same, name: 'c' });
    const second = await publisher.publish(document, { clientRequestToken: same, name: 'c' });
    expect(second.changeSetId).toBe(first.changeSetId);
    await pollUntilDone(document, first.changeSetId);
    // A retry after completion still answers the same (completed) job.
    const third = await publisher.publish(document, { clientRequestToken: same, name: 'c' });
    expect(third.changeSetId).toBe(first.changeSetId);
    expect(sim.offers.jobs()).toHaveLength(1);
    expect(sim.offers.privateOffers()).toHaveLength(1);
    expect(
      sim.offers
        .calls()
        .filter((c) => c.operation === 'Configure')
        .map((c) => c.requestId),
    ).toEqual([same, same, same]);
    const other = await publisher.publish(document, { clientRequestToken: token(), name: 'd' });
    expect(other.changeSetId).not.toBe(first.changeSetId);
    await pollUntilDone(document, other.changeSetId);
    expect(sim.offers.privateOffers()).toHaveLength(2);
  });

  it('ends an invalid offer FAILED with every error and creates nothing', async () => {
    // Documents the rules would refuse, sent anyway: the marketplace is the last line.
    const document = doc((d) => {
      d.buyers = [{ accountId: 'contoso.onmicrosoft.com' }];
      d.expiresOn = addDays(TODAY, -1);
      d.pricing.upfront = [{ dimension: 'no-such-plan', priceMinor: '100', quantity: 1 }];
    });
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'e' });
    const final = (await pollUntilDone(document, started.changeSetId)).at(-1);
    expect(final?.status).toBe('FAILED');
    expect(final?.serverFault).toBe(false);
    expect(final?.entityId).toBeNull();
    expect(final?.failure?.errors.map((e) => e.code).sort()).toEqual([
      'businessValidationError',
      'businessValidationError',
      'resourceNotFound',
    ]);
    const messages = final?.failure?.errors.map((e) => e.message).join(' | ') ?? '';
    expect(messages).toContain(`acceptBy ${addDays(TODAY, -1)} is in the past`);
    expect(messages).toContain('"contoso.onmicrosoft.com" is neither a tenant id');
    expect(messages).toContain('no plan "plan/agora-saas/no-such-plan"');
    expect(final?.failure?.errors.every((e) => e.change === 'resources[0]')).toBe(true);
    expect(sim.offers.privateOffers()).toEqual([]);
  });

  it('reports a job Microsoft failed on its side as a server fault', async () => {
    sim.offers.injectFault({ kind: 'job-failed', times: 1 });
    const document = doc();
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'f' });
    const final = (await pollUntilDone(document, started.changeSetId)).at(-1);
    expect(final).toMatchObject({
      status: 'FAILED',
      serverFault: true,
      failure: { code: 'internalServerError' },
    });
    expect(sim.offers.privateOffers()).toEqual([]);
    // The fault is spent: the next attempt (a new token, as the tracker sends) succeeds.
    const retry = await publisher.publish(document, { clientRequestToken: token(), name: 'g' });
    expect((await pollUntilDone(document, retry.changeSetId)).at(-1)?.status).toBe('SUCCEEDED');
  });

  it('retries a 500 on configure once without a second job, and gives up on a lasting outage', async () => {
    sim.offers.injectFault({ kind: 'server-error', target: 'Configure', times: 1 });
    const started = await publisher.publish(doc(), { clientRequestToken: token(), name: 'h' });
    expect(sim.offers.jobs().map((j) => j.jobId)).toEqual([started.changeSetId]);
    expect(
      sim.offers
        .calls()
        .filter((c) => c.operation === 'Configure')
        .map((c) => c.status),
    ).toEqual([500, 202]);
    sim.offers.injectFault({ kind: 'server-error', target: '*', times: 3 });
    await expect(
      publisher.publish(doc(), { clientRequestToken: token(), name: 'i' }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    sim.offers.injectFault({ kind: 'throttle', target: 'ConfigureStatus', times: 3 });
    await expect(publisher.status(doc(), started.changeSetId)).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    expect(await publisher.status(doc(), '00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('refuses calls without a bearer token or the right $version', async () => {
    const anonymous = new AzureOfferPublisher({ baseUrl: sim.url, token: async () => '' });
    await expect(
      anonymous.publish(doc(), { clientRequestToken: token(), name: 'j' }),
    ).rejects.toMatchObject({ code: 'marketplace_access_denied' });
    const response = await fetch(`${sim.url}/rp/product-ingestion/configure?$version=2020-01-01`, {
      method: 'POST',
      headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'BadRequest', message: expect.stringContaining(PRODUCT_INGESTION_VERSION) },
    });
    const malformed = await fetch(
      `${sim.url}/rp/product-ingestion/configure?$version=${PRODUCT_INGESTION_VERSION}`,
      {
        method: 'POST',
        headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
        body: JSON.stringify({ resources: [] }),
      },
    );
    expect(malformed.status).toBe(400);
    expect(sim.offers.jobs()).toEqual([]);
  });

  it('updates a listing and adds a plan through configure, seen in the resource tree', async () => {
    const tree = async (product: string) => {
      const response = await fetch(
        `${sim.url}/rp/product-ingestion/resource-tree/product/${product}?$version=${PRODUCT_INGESTION_VERSION}`,
        { headers: { authorization: 'Bearer x' } },
      );
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const before = await tree(PRODUCT);
    expect(before.status).toBe(200);
    expect(before.body.resources).toEqual([
      expect.objectContaining({ id: `product/${PRODUCT}` }),
      expect.objectContaining({ id: `listing/${PRODUCT}/en-us`, title: PRODUCT }),
      expect.objectContaining({ id: `plan/${PRODUCT}/gold-annual` }),
      expect.objectContaining({ id: `plan/${PRODUCT}/platinum-annual` }),
    ]);
    const configure = await fetch(
      `${sim.url}/rp/product-ingestion/configure?$version=${PRODUCT_INGESTION_VERSION}`,
      {
        method: 'POST',
        headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
        body: JSON.stringify({
          $schema: 'https://schema.mp.microsoft.com/schema/configure/2022-07-01',
          resources: [
            {
              $schema: LISTING_SCHEMA,
              product: `product/${PRODUCT}`,
              title: 'Agora Analytics',
              summary: 'Contracts, in one place',
            },
            {
              $schema: PLAN_SCHEMA,
              product: `product/${PRODUCT}`,
              identity: { externalId: 'diamond-annual' },
              alias: 'Diamond (annual)',
            },
          ],
        }),
      },
    );
    expect(configure.status).toBe(202);
    const { jobId } = (await configure.json()) as { jobId: string };
    // Nothing changes until the job completes.
    expect((await tree(PRODUCT)).body).toEqual(before.body);
    const document = doc();
    expect((await pollUntilDone(document, jobId)).at(-1)?.status).toBe('SUCCEEDED');
    expect(sim.offers.jobs().find((j) => j.jobId === jobId)?.resourceIds).toEqual([
      `listing/${PRODUCT}/en-us`,
      `plan/${PRODUCT}/diamond-annual`,
    ]);
    const after = await tree(PRODUCT);
    expect(after.body.resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: `listing/${PRODUCT}/en-us`,
          title: 'Agora Analytics',
          summary: 'Contracts, in one place',
        }),
        expect.objectContaining({
          id: `plan/${PRODUCT}/diamond-annual`,
          alias: 'Diamond (annual)',
        }),
      ]),
    );
    // The new plan can be priced in a private offer at once.
    const onNewPlan = doc((d) => {
      d.pricing.upfront = [{ dimension: 'diamond-annual', priceMinor: '500000', quantity: 1 }];
    });
    const started = await publisher.publish(onNewPlan, { clientRequestToken: token(), name: 'l' });
    expect((await pollUntilDone(onNewPlan, started.changeSetId)).at(-1)?.status).toBe('SUCCEEDED');
    expect((await tree('no-such-product')).status).toBe(404);
  });

  it('takes faults and shows its state over /_sim/offers', async () => {
    const inject = await fetch(`${sim.url}/_sim/offers/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'job-failed', code: 'businessValidationError', times: 1 }),
    });
    expect(inject.status).toBe(204);
    const document = doc();
    const started = await publisher.publish(document, { clientRequestToken: token(), name: 'm' });
    expect((await pollUntilDone(document, started.changeSetId)).at(-1)).toMatchObject({
      status: 'FAILED',
      serverFault: false,
      failure: { code: 'businessValidationError' },
    });
    const bad = await fetch(`${sim.url}/_sim/offers/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'nonsense', times: 1 }),
    });
    expect(bad.status).toBe(400);
    const state = (await (await fetch(`${sim.url}/_sim/offers`)).json()) as {
      jobs: { jobId: string; jobResult: string }[];
    };
    expect(state.jobs).toEqual([
      expect.objectContaining({ jobId: started.changeSetId, jobResult: 'failed' }),
    ]);
    // The main simulator's own control routes still answer.
    expect((await fetch(`${sim.url}/_sim/calls`)).status).toBe(200);
  });
});
