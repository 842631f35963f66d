// Proves the Azure private-offer publisher with a stubbed fetch (no network): the configure request is pinned field by field for a customer offer and a multiparty offer, terms map to Azure's billing terms for any start date, the token and repeatability header are sent, job states map to SUCCEEDED/FAILED/pending with server faults told apart, and HTTP failures become the right typed errors.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MarketplaceUnavailableError } from '../../../../lib/app/errors';
import { addDays, addMonths } from '../../../../lib/domain/calendar';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  type OfferDocument,
  type OfferDocumentInput,
  OfferDocumentSchema,
} from '../../../../lib/domain/offers/offer-document';
import {
  AZURE_TERM_MONTHS,
  offerRuleViolations,
  wholeMonthsOfFixedTerm,
} from '../../../../lib/domain/offers/rules';
import {
  AZURE_CONFIGURE_SCHEMA,
  AZURE_PRIVATE_OFFER_SCHEMA,
  AZURE_PRODUCT_INGESTION_SCOPE,
  AzureOfferPublisher,
  azureClientCredentialsToken,
  azureTermOf,
  buildAzureConfigureRequest,
  buildAzurePrivateOffer,
} from '../../../../lib/marketplaces/azure/offer-publisher';

const BASE = 'https://graph.example.test';
const TENANT = 'd2a7b8c0-1f3e-4a5b-9c6d-7e8f90a1b2c3';
const BILLING_ACCOUNT =
  '5e1f8a9b-0000-4c1d-8e2f-000000000001:7f3c1e2d-0000-4a5b-9c6d-000000000001_2019-05-31';
const JOB_ID = '9a0b7c6d-1111-4222-8333-444455556666';
const TOKEN = 'c0ffee0000000000000000000000000000aa';

function input(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'azure',
    productId: 'agora-saas',
    name: 'Contoso - 1 year',
    description: 'CRM deal 42',
    buyers: [{ accountId: TENANT, name: 'Contoso' }, { accountId: BILLING_ACCOUNT }],
    pricing: {
      currency: 'USD',
      upfront: [
        { dimension: 'gold-annual', priceMinor: '120050', quantity: 10 },
        { dimension: 'platinum-annual', priceMinor: '2400000', quantity: 1 },
      ],
      usageRates: [],
    },
    term: { startDate: '2026-04-01', endDate: '2027-03-31' },
    expiresOn: '2026-03-31',
    legal: { type: 'custom', url: 'https://contoso.blob.core.windows.net/eula.pdf?sv=1&sig=x' },
    coSell: { opportunityIds: ['O1'], touches: [] },
    notes: 'not sent',
  };
}

function doc(change: (d: OfferDocumentInput) => void = () => {}): OfferDocument {
  const value = input();
  change(value);
  return OfferDocumentSchema.parse(value);
}

interface Seen {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/** Stubs global fetch with `reply` and records every request. */
function stubFetch(reply: (seen: Seen, index: number) => Reply): Seen[] {
  const seen: Seen[] = [];
  vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    const request: Seen = {
      url: new URL(String(url)),
      method: init.method ?? 'GET',
      headers,
      body:
        typeof init.body === 'string' && headers['content-type']?.includes('json')
          ? JSON.parse(init.body)
          : (init.body ?? null),
    };
    seen.push(request);
    const answer = reply(request, seen.length - 1);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json', ...answer.headers },
    });
  });
  return seen;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const noSleep = async () => {};
function publisher(token = 'graph-token'): AzureOfferPublisher {
  return new AzureOfferPublisher({
    baseUrl: `${BASE}/`,
    token: async () => token,
    http: { sleep: noSleep, random: () => 0 },
  });
}

const job = (overrides: Record<string, unknown>) => ({
  $schema: 'https://schema.mp.microsoft.com/schema/configure-status/2022-07-01',
  jobId: JOB_ID,
  jobStatus: 'running',
  jobResult: 'pending',
  errors: [],
  ...overrides,
});

describe('buildAzurePrivateOffer', () => {
  it('pins every field of a customer private offer with a fixed term and custom terms', () => {
    const document = doc();
    expect(offerRuleViolations(document, { today: '2026-03-01' })).toEqual([]);
    expect(buildAzureConfigureRequest(document)).toEqual({
      $schema: AZURE_CONFIGURE_SCHEMA,
      resources: [
        {
          $schema: AZURE_PRIVATE_OFFER_SCHEMA,
          name: 'Contoso - 1 year',
          state: 'live',
          privateOfferType: 'customerPromotion',
          variableStartDate: false,
          start: '2026-04-01',
          end: '2027-03-31',
          acceptBy: '2026-03-31',
          beneficiaries: [{ id: TENANT, description: 'Contoso' }, { id: BILLING_ACCOUNT }],
          pricing: [
            {
              product: 'product/agora-saas',
              plan: 'plan/agora-saas/gold-annual',
              discountType: 'absolute',
              priceDetails: {
                billingTerm: { type: 'year', value: 1 },
                paymentOption: { type: 'upfront' },
                // 1,200.50 × 10 seats: the absolute price for the term.
                price: '12005.00',
                currency: 'USD',
              },
            },
            {
              product: 'product/agora-saas',
              plan: 'plan/agora-saas/platinum-annual',
              discountType: 'absolute',
              priceDetails: {
                billingTerm: { type: 'year', value: 1 },
                paymentOption: { type: 'upfront' },
                price: '24000.00',
                currency: 'USD',
              },
            },
          ],
          termsAndConditionsDocSasUrl: 'https://contoso.blob.core.windows.net/eula.pdf?sv=1&sig=x',
        },
      ],
    });
  });

  it('pins a multiparty private offer: variable start, partner margin or wholesale price', () => {
    const percent = doc((d) => {
      d.buyers = [{ accountId: TENANT }];
      d.term = { durationMonths: 36 };
      d.legal = { type: 'standard', version: 'microsoft-standard' };
      d.reseller = {
        partnerAccountId: '1234567',
        discountPercent: '12.50',
        use: 'single-use',
        expiresOn: '2026-03-20',
      };
    });
    expect(offerRuleViolations(percent, { today: '2026-03-01' })).toEqual([]);
    const offer = buildAzurePrivateOffer(percent);
    expect(offer).toEqual({
      $schema: AZURE_PRIVATE_OFFER_SCHEMA,
      name: 'Contoso - 1 year',
      state: 'live',
      privateOfferType: 'multipartyPromotionOriginator',
      variableStartDate: true,
      acceptBy: '2026-03-31',
      beneficiaries: [{ id: TENANT }],
      partners: [{ id: '1234567', margin: { type: 'percentage', percentage: '12.5' } }],
      pricing: [
        expect.objectContaining({
          plan: 'plan/agora-saas/gold-annual',
          priceDetails: expect.objectContaining({ billingTerm: { type: 'year', value: 3 } }),
        }),
        expect.objectContaining({ plan: 'plan/agora-saas/platinum-annual' }),
      ],
    });
    // A standard contract sends no terms document; no start or end with a variable start.
    expect(offer).not.toHaveProperty('termsAndConditionsDocSasUrl');
    expect(offer).not.toHaveProperty('start');
    const wholesale = buildAzurePrivateOffer(
      doc((d) => {
        d.reseller = {
          partnerAccountId: '11111111-2222-4333-8444-555555555555',
          wholesalePriceMinor: '3000000',
          use: 'time-bound',
          expiresOn: '2026-03-20',
        };
      }),
    );
    expect(wholesale.partners).toEqual([
      {
        id: '11111111-2222-4333-8444-555555555555',
        margin: { type: 'wholesale', price: '30000.00', currency: 'USD' },
      },
    ]);
  });

  it('maps any start date and Azure billing term to a fixed start and the inclusive last day', () => {
    const dates = fc.integer({ min: 0, max: 3_650 }).map((days) => addDays('2026-03-02', days));
    fc.assert(
      fc.property(dates, fc.constantFrom(...AZURE_TERM_MONTHS), (start, months) => {
        const document = doc((d) => {
          d.expiresOn = '2026-03-02';
          d.term = { startDate: start, durationMonths: months };
        });
        const term = azureTermOf(document);
        expect(term).toEqual({
          variableStartDate: false,
          start,
          end: addDays(addMonths(start, months), -1),
          months,
        });
        // The fixed end is whole months from the start: the same term read back.
        expect(wholeMonthsOfFixedTerm(start, term.end ?? '')).toBe(months);
        const billing = buildAzurePrivateOffer(document).pricing as {
          priceDetails: { billingTerm: { type: string; value: number } };
        }[];
        expect(billing[0]?.priceDetails.billingTerm).toEqual(
          months % 12 === 0 ? { type: 'year', value: months / 12 } : { type: 'month', value: 1 },
        );
      }),
      { numRuns: 200 },
    );
  });

  it('refuses documents it cannot express', () => {
    expect(() =>
      buildAzurePrivateOffer(
        doc((d) => {
          d.marketplace = 'gcp';
        }),
      ),
    ).toThrow(InvalidInputError);
    expect(() =>
      buildAzurePrivateOffer(
        doc((d) => {
          d.term = { startDate: '2026-04-01', endDate: '2027-03-30' };
        }),
      ),
    ).toThrow(/whole number of months/);
  });
});

describe('AzureOfferPublisher.publish', () => {
  it('POSTs the configure request with the token, the $version and the repeatability id', async () => {
    const seen = stubFetch(() => ({
      status: 202,
      body: job({ jobStatus: 'notStarted' }),
    }));
    const started = await publisher().publish(doc(), {
      clientRequestToken: TOKEN,
      name: 'agora-of_1-1',
    });
    expect(started).toEqual({ entityType: 'private-offer', changeSetId: JOB_ID });
    expect(seen).toHaveLength(1);
    const request = seen[0];
    expect(request?.method).toBe('POST');
    expect(`${request?.url.origin}${request?.url.pathname}`).toBe(
      `${BASE}/rp/product-ingestion/configure`,
    );
    expect(request?.url.searchParams.get('$version')).toBe('2022-07-01');
    expect(request?.headers.authorization).toBe('Bearer graph-token');
    expect(request?.headers['repeatability-request-id']).toBe(TOKEN);
    expect(request?.body).toEqual(buildAzureConfigureRequest(doc()));
  });

  it('names a multiparty offer as such', async () => {
    stubFetch(() => ({ status: 200, body: job({ jobStatus: 'notStarted' }) }));
    const started = await publisher().publish(
      doc((d) => {
        d.reseller = {
          partnerAccountId: '1234567',
          discountPercent: '10',
          use: 'single-use',
          expiresOn: '2026-03-20',
        };
      }),
      { clientRequestToken: TOKEN, name: 'n' },
    );
    expect(started.entityType).toBe('multiparty-private-offer');
  });

  it('retries 5xx and 429 a bounded number of times, then reports the marketplace unavailable', async () => {
    const seen = stubFetch(() => ({ status: 503, body: { error: { code: 'x', message: 'y' } } }));
    await expect(
      publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    expect(seen).toHaveLength(3);
    const throttled = stubFetch((_s, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202, body: job({}) },
    );
    await expect(
      publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
    ).resolves.toEqual({ entityType: 'private-offer', changeSetId: JOB_ID });
    expect(throttled).toHaveLength(2);
    stubFetch(() => new TypeError('connection refused'));
    await expect(
      publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
  });

  it('turns a refusal into a final typed error with Microsoft’s reason', async () => {
    stubFetch(() => ({
      status: 400,
      body: { error: { code: 'BadRequest', message: 'resources is required' } },
    }));
    const rejected = await publisher()
      .publish(doc(), { clientRequestToken: TOKEN, name: 'n' })
      .catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(InvalidInputError);
    expect((rejected as InvalidInputError).code).toBe('marketplace_rejected');
    expect((rejected as Error).message).toContain('BadRequest: resources is required');
    for (const status of [401, 403]) {
      stubFetch(() => ({ status, body: { error: { code: 'Unauthorized', message: 'no' } } }));
      await expect(
        publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
      ).rejects.toMatchObject({ code: 'marketplace_access_denied' });
    }
  });

  it('treats an answer without a job id as the marketplace being unavailable', async () => {
    stubFetch(() => ({ status: 202, body: { jobStatus: 'notStarted' } }));
    await expect(
      publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
  });
});

describe('AzureOfferPublisher.status', () => {
  it('reports a pending job in Microsoft’s words', async () => {
    for (const jobStatus of ['notStarted', 'running']) {
      const seen = stubFetch(() => ({ status: 200, body: job({ jobStatus }) }));
      expect(await publisher().status(doc(), JOB_ID)).toEqual({
        status: jobStatus,
        entityId: null,
        failure: null,
        serverFault: false,
        expiresOn: null,
      });
      expect(seen[0]?.url.pathname).toBe(`/rp/product-ingestion/configure/${JOB_ID}/status`);
      expect(seen[0]?.url.searchParams.get('$version')).toBe('2022-07-01');
      expect(seen[0]?.headers.authorization).toBe('Bearer graph-token');
    }
  });

  it('maps a succeeded job to SUCCEEDED with the private offer and its acceptBy', async () => {
    const offerId = 'private-offer/0f0e0d0c-1111-4222-8333-444455556666';
    const seen = stubFetch((request) =>
      request.url.pathname.endsWith('/status')
        ? {
            status: 200,
            body: job({
              jobStatus: 'completed',
              jobResult: 'succeeded',
              resourceIds: ['listing/agora-saas/en-us', offerId],
            }),
          }
        : { status: 200, body: { id: offerId, acceptBy: '2026-03-30' } },
    );
    expect(await publisher().status(doc(), JOB_ID)).toEqual({
      status: 'SUCCEEDED',
      entityId: offerId,
      failure: null,
      serverFault: false,
      expiresOn: '2026-03-30',
    });
    expect(seen[1]?.url.pathname).toBe(`/rp/product-ingestion/${offerId}`);
    // The offer cannot be read (yet): published all the same, the document's expiry stands.
    stubFetch((request) =>
      request.url.pathname.endsWith('/status')
        ? {
            status: 200,
            body: job({ jobStatus: 'completed', jobResult: 'succeeded', resourceIds: [offerId] }),
          }
        : { status: 404, body: { error: { code: 'NotFound', message: 'no' } } },
    );
    expect(await publisher().status(doc(), JOB_ID)).toMatchObject({
      status: 'SUCCEEDED',
      entityId: offerId,
      expiresOn: null,
    });
  });

  it('maps a failed job to FAILED with every error, and a service error to a server fault', async () => {
    const errors = [
      {
        code: 'businessValidationError',
        message: 'acceptBy 2020-01-01 is in the past',
        resourceId: 'resources[0]',
      },
      { code: 'resourceNotFound', message: 'no plan' },
    ];
    stubFetch(() => ({
      status: 200,
      body: job({ jobStatus: 'completed', jobResult: 'failed', errors }),
    }));
    expect(await publisher().status(doc(), JOB_ID)).toEqual({
      status: 'FAILED',
      entityId: null,
      failure: {
        code: 'businessValidationError',
        description: 'acceptBy 2020-01-01 is in the past',
        errors: [
          {
            change: 'resources[0]',
            code: 'businessValidationError',
            message: 'acceptBy 2020-01-01 is in the past',
          },
          { change: 'private-offer', code: 'resourceNotFound', message: 'no plan' },
        ],
      },
      serverFault: false,
      expiresOn: null,
    });
    stubFetch(() => ({
      status: 200,
      body: job({
        jobStatus: 'completed',
        jobResult: 'failed',
        errors: [{ code: 'internalServerError', message: 'boom' }],
      }),
    }));
    expect(await publisher().status(doc(), JOB_ID)).toMatchObject({
      status: 'FAILED',
      serverFault: true,
    });
    stubFetch(() => ({ status: 200, body: job({ jobStatus: 'completed', jobResult: 'failed' }) }));
    expect(await publisher().status(doc(), JOB_ID)).toMatchObject({
      status: 'FAILED',
      failure: { code: 'failed', description: 'The configure job failed', errors: [] },
      serverFault: false,
    });
  });

  it('answers null for an unknown or malformed job, and errors for outages and refusals', async () => {
    stubFetch(() => ({ status: 404, body: { error: { code: 'NotFound', message: 'no job' } } }));
    expect(await publisher().status(doc(), JOB_ID)).toBeNull();
    const seen = stubFetch(() => ({ status: 200, body: job({}) }));
    expect(await publisher().status(doc(), '../../configure')).toBeNull();
    expect(seen).toHaveLength(0);
    stubFetch(() => ({ status: 500 }));
    await expect(publisher().status(doc(), JOB_ID)).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    stubFetch(() => ({ status: 403, body: { error: { code: 'Forbidden', message: 'no' } } }));
    await expect(publisher().status(doc(), JOB_ID)).rejects.toMatchObject({
      code: 'marketplace_access_denied',
    });
  });
});

describe('azureClientCredentialsToken', () => {
  const options = (now: () => number) => ({
    loginBaseUrl: 'https://login.example.test/',
    tenantId: TENANT,
    clientId: 'app-1',
    clientSecret: async () => 'secret',
    now,
  });

  it('asks Entra for the ingestion scope once and refreshes a minute before expiry', async () => {
    let clock = 1_000_000;
    const seen = stubFetch((_s, i) => ({
      status: 200,
      body: { access_token: `token-${i}`, expires_in: 3_599 },
    }));
    const token = azureClientCredentialsToken(options(() => clock));
    expect(await token()).toBe('token-0');
    expect(await token()).toBe('token-0');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url.href).toBe(`https://login.example.test/${TENANT}/oauth2/v2.0/token`);
    const form = new URLSearchParams(String(seen[0]?.body));
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_secret: 'secret',
      scope: AZURE_PRODUCT_INGESTION_SCOPE,
    });
    clock += (3_599 - 59) * 1000;
    expect(await token()).toBe('token-1');
  });

  it('reports refused credentials as access denied and an Entra outage as unavailable', async () => {
    stubFetch(() => ({ status: 401, body: { error: 'invalid_client' } }));
    await expect(azureClientCredentialsToken(options(Date.now))()).rejects.toMatchObject({
      code: 'marketplace_access_denied',
    });
    stubFetch(() => ({ status: 503 }));
    await expect(azureClientCredentialsToken(options(Date.now))()).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    await expect(
      azureClientCredentialsToken({ ...options(Date.now), clientSecret: async () => undefined })(),
    ).rejects.toMatchObject({ code: 'marketplace_access_denied' });
  });
});
