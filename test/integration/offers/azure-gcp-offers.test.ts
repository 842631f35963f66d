// Proves Azure and Google Cloud private offers over real HTTP against their simulators: a customer private offer on Azure and an installment offer on Google Cloud are published by the same API and tracker as AWS and end published; a multiparty (Azure) and a channel (GCP) offer publish as their own entity types; documents breaking a marketplace's rules are refused with precise errors and nothing is sent.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackOffers } from '../../../lib/app/offers';
import { addDays } from '../../../lib/domain/calendar';
import { getContainer } from '../../../lib/runtime/container';
import { startTestStack, type TestStack } from '../pipeline/helpers';

const TODAY = new Date().toISOString().slice(0, 10);
const TENANT = '5c7a3e10-9b2f-4d8e-a1c3-2f6b8d9e0a11';
const BILLING_ACCOUNT = '01A2B3-C4D5E6-F7A8B9';

interface Offer {
  offerId: string;
  status: string;
  publication: { entityType: string; entityId: string | null } | null;
}

describe('Azure and Google Cloud private offers over HTTP', () => {
  let test: TestStack;
  let azureProduct: { productId: string; plan: string };
  let gcpProduct: { productId: string; plan: string };

  async function create(doc: Record<string, unknown>) {
    const response = await fetch(`${test.stack.url}/v1/offers`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
        authorization: `Bearer ${await test.token(['seller'])}`,
      },
      body: JSON.stringify(doc),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  /** Approves an offer the default guardrails held (they know no list prices here), then tracks it. */
  async function settled(offerId: string): Promise<Offer> {
    const held = (await test.get(`/v1/offers/${offerId}`, ['seller'])).body as unknown as Offer;
    if (held.status === 'pending-approval') {
      const approved = await test.post(
        `/v1/offers/${offerId}/approve`,
        { reason: 'deal desk' },
        { roles: ['admin'] },
      );
      expect(approved.status).toBe(200);
    }
    for (let i = 0; i < 10; i += 1) {
      if ((await trackOffers(getContainer())).pending === 0) break;
    }
    return (await test.get(`/v1/offers/${offerId}`, ['seller'])).body as unknown as Offer;
  }
  const base = (marketplace: 'azure' | 'gcp', product: { productId: string; plan: string }) => ({
    schemaVersion: 1,
    marketplace,
    productId: product.productId,
    name: `Contoso on ${marketplace}`,
    pricing: {
      currency: 'USD',
      upfront: [{ dimension: product.plan, priceMinor: '1200000', quantity: 1 }],
      usageRates: [],
    },
    term: { durationMonths: 12 },
    expiresOn: addDays(TODAY, 20),
    legal: { type: 'custom', url: 'https://example.com/eula.pdf' },
  });

  beforeAll(async () => {
    test = await startTestStack();
    const azure = test.stack.azureSimulator.offers.products()[0];
    const gcp = test.stack.gcpSimulator.offers.products()[0];
    if (!azure?.plans[0] || !gcp?.plans[0]) throw new Error('the simulators know no products');
    azureProduct = { productId: azure.productId, plan: azure.plans[0].planId };
    gcpProduct = { productId: gcp.productId, plan: gcp.plans[0] };
  }, 60_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('publishes an Azure customer private offer through the Product Ingestion API', async () => {
    const before = test.stack.azureSimulator.offers.jobs().length;
    const created = await create({
      ...base('azure', azureProduct),
      buyers: [{ accountId: TENANT }],
    });
    expect(created.status).toBe(201);
    const offer = await settled(String(created.body.offerId));
    expect(test.stack.azureSimulator.offers.jobs()).toHaveLength(before + 1);
    expect(offer.status).toBe('published');
    expect(offer.publication?.entityType).toBe('private-offer');
    expect(test.stack.azureSimulator.offers.privateOffers().length).toBe(1);
  });

  it('publishes an Azure multiparty private offer for a channel partner', async () => {
    const created = await create({
      ...base('azure', azureProduct),
      name: 'Contoso via Fabrikam',
      buyers: [{ accountId: TENANT }],
      reseller: {
        partnerAccountId: '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a',
        discountPercent: '15',
        use: 'time-bound',
        expiresOn: addDays(TODAY, 30),
      },
    });
    expect(created.status).toBe(201);
    const offer = await settled(String(created.body.offerId));
    expect(offer.status).toBe('published');
    expect(offer.publication?.entityType).toBe('multiparty-private-offer');
  });

  it('publishes a Google Cloud private offer with installments, and a channel offer', async () => {
    const created = await create({
      ...base('gcp', gcpProduct),
      buyers: [{ accountId: BILLING_ACCOUNT }],
      paymentSchedule: [
        { date: addDays(TODAY, 10), amountMinor: '600000' },
        { date: addDays(TODAY, 200), amountMinor: '600000' },
      ],
    });
    expect(created.status).toBe(201);
    const offer = await settled(String(created.body.offerId));
    expect(offer.status).toBe('published');
    expect(offer.publication?.entityId).toMatch(/privateOffers\//);

    const channel = await create({
      ...base('gcp', gcpProduct),
      name: 'Via a reseller',
      buyers: [{ accountId: BILLING_ACCOUNT }],
      reseller: {
        partnerAccountId: '0B1C2D-3E4F5A-6B7C8D',
        discountPercent: '10',
        use: 'time-bound',
        expiresOn: addDays(TODAY, 30),
      },
    });
    const published = await settled(String(channel.body.offerId));
    expect(published.status).toBe('published');
    expect(published.publication?.entityType).toBe('channel-private-offer');
  });

  it('refuses documents that break Azure’s or Google’s rules, precisely, and sends nothing', async () => {
    const azureJobs = test.stack.azureSimulator.offers.jobs().length;
    const gcpOperations = test.stack.gcpSimulator.offers.operations().length;
    const azure = await create({
      ...base('azure', azureProduct),
      buyers: [{ accountId: 'not-a-tenant' }],
      pricing: {
        currency: 'USD',
        upfront: [{ dimension: azureProduct.plan, priceMinor: '1200000', quantity: 1 }],
        usageRates: [{ dimension: 'api', unitPrice: '0.01' }],
      },
    });
    expect(azure.status).toBe(400);
    const azureCodes = (azure.body.error as { details: { path: string; code: string }[] }).details;
    expect(azureCodes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'buyers.0.accountId', code: 'invalid_buyer_account' }),
        expect.objectContaining({ code: 'usage_not_supported' }),
      ]),
    );
    const gcp = await create({
      ...base('gcp', gcpProduct),
      buyers: [{ accountId: BILLING_ACCOUNT }, { accountId: '0B1C2D-3E4F5A-6B7C8D' }],
    });
    expect(gcp.status).toBe(400);
    expect(
      (gcp.body.error as { details: { code: string }[] }).details.map((d) => d.code),
    ).toContain('too_many_buyers');
    expect(test.stack.azureSimulator.offers.jobs()).toHaveLength(azureJobs);
    expect(test.stack.gcpSimulator.offers.operations()).toHaveLength(gcpOperations);
    expect(azureJobs).toBeGreaterThan(0);
    expect(gcpOperations).toBeGreaterThan(0);
  });
});
