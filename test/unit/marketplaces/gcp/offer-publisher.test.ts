// Proves the Google Cloud private-offer publisher with a stubbed fetch (no network): the create body is pinned field by field for a direct offer with installments and usage and for a channel offer, money and dates convert exactly for any amount, the request id is a stable UUID per token, operations map to RUNNING/SUCCEEDED/FAILED with field violations and server faults, and HTTP failures become the right typed errors.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MarketplaceUnavailableError } from '../../../../lib/app/errors';
import { InvalidInputError } from '../../../../lib/domain/errors';
import { minorUnitsOf } from '../../../../lib/domain/money';
import {
  type OfferDocument,
  type OfferDocumentInput,
  OfferDocumentSchema,
} from '../../../../lib/domain/offers/offer-document';
import { offerRuleViolations } from '../../../../lib/domain/offers/rules';
import {
  buildGcpPrivateOffer,
  GcpOfferPublisher,
  googleDate,
  moneyFromDecimal,
  moneyFromMinor,
  requestIdFor,
} from '../../../../lib/marketplaces/gcp/offer-publisher';

const BASE = 'https://producer.example.test';
const PROVIDER = 'agora-demo-provider';
const BUYER = '01A2B3-C4D5E6-F7A8B9';
const RESELLER = '0ABCDE-123456-FEDCBA';
const TOKEN = 'c0ffee0000000000000000000000000000aa';
const OPERATION = 'operations/5b0c3f9e-1111-4222-8333-444455556666';
const OFFER_NAME = `providers/${PROVIDER}/privateOffers/7d1e2f3a-0000-4000-8000-000000000001`;

function input(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'gcp',
    productId: 'agora-analytics',
    name: 'Initech - 2 years',
    description: 'Deal 77',
    buyers: [{ accountId: BUYER, name: 'Initech' }],
    pricing: {
      currency: 'USD',
      upfront: [
        { dimension: 'enterprise', priceMinor: '5000050', quantity: 2 },
        { dimension: 'support', priceMinor: '100000', quantity: 1 },
      ],
      usageRates: [{ dimension: 'requests', unitPrice: '0.000000125' }],
    },
    // Out of date order on purpose: the body sorts it.
    paymentSchedule: [
      { date: '2027-03-20', amountMinor: '6100100' },
      { date: '2026-03-20', amountMinor: '4000000' },
    ],
    term: { durationMonths: 24 },
    expiresOn: '2026-03-31',
    legal: { type: 'custom', url: 'https://initech.example/eula.pdf' },
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
type Reply = { status: number; body?: unknown } | Error;

function stubFetch(reply: (seen: Seen, index: number) => Reply): Seen[] {
  const seen: Seen[] = [];
  vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const request: Seen = {
      url: new URL(String(url)),
      method: init.method ?? 'GET',
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : null,
    };
    seen.push(request);
    const answer = reply(request, seen.length - 1);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  });
  return seen;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

function publisher(providerId: GcpOfferPublisherProvider = PROVIDER): GcpOfferPublisher {
  return new GcpOfferPublisher({
    baseUrl: BASE,
    token: async () => 'ya29.token',
    providerId,
    http: { sleep: async () => {}, random: () => 0 },
  });
}
type GcpOfferPublisherProvider = string | ((document: OfferDocument) => string);

const usd = (units: string, nanos: number) => ({ currencyCode: 'USD', units, nanos });

describe('buildGcpPrivateOffer', () => {
  it('pins every field of a direct offer with installments, usage and custom terms', () => {
    const document = doc();
    expect(offerRuleViolations(document, { today: '2026-03-01' })).toEqual([]);
    expect(buildGcpPrivateOffer(document, PROVIDER)).toEqual({
      displayName: 'Initech - 2 years',
      description: 'Deal 77',
      product: `providers/${PROVIDER}/products/agora-analytics`,
      offerType: 'DIRECT',
      billingAccount: `billingAccounts/${BUYER}`,
      customer: { billingAccount: `billingAccounts/${BUYER}`, displayName: 'Initech' },
      pricing: {
        currencyCode: 'USD',
        commitments: [
          { plan: 'enterprise', unitPrice: usd('50000', 500_000_000), quantity: 2 },
          { plan: 'support', unitPrice: usd('1000', 0), quantity: 1 },
        ],
        usageRates: [{ metric: 'requests', unitPrice: usd('0', 125) }],
      },
      paymentSchedule: {
        installments: [
          { dueDate: { year: 2026, month: 3, day: 20 }, amount: usd('40000', 0) },
          { dueDate: { year: 2027, month: 3, day: 20 }, amount: usd('61001', 0) },
        ],
      },
      term: { durationMonths: 24 },
      acceptByDate: { year: 2026, month: 3, day: 31 },
      eula: { type: 'CUSTOM', uri: 'https://initech.example/eula.pdf' },
    });
  });

  it('pins a channel offer billed to the reseller, with a discount or a wholesale price', () => {
    const discount = doc((d) => {
      d.paymentSchedule = undefined;
      d.buyers = [{ accountId: BUYER }];
      d.term = { startDate: '2026-04-01', endDate: '2028-03-31' };
      d.legal = { type: 'standard', version: 'google' };
      d.reseller = {
        partnerAccountId: RESELLER,
        discountPercent: '7.50',
        use: 'time-bound',
        expiresOn: '2026-03-25',
      };
    });
    expect(offerRuleViolations(discount, { today: '2026-03-01' })).toEqual([]);
    const body = buildGcpPrivateOffer(discount, PROVIDER);
    expect(body).toMatchObject({
      offerType: 'RESELLER',
      billingAccount: `billingAccounts/${RESELLER}`,
      customer: { billingAccount: `billingAccounts/${BUYER}` },
      reseller: {
        billingAccount: `billingAccounts/${RESELLER}`,
        discountPercent: '7.5',
        authorizationEndDate: { year: 2026, month: 3, day: 25 },
      },
      term: {
        startDate: { year: 2026, month: 4, day: 1 },
        endDate: { year: 2028, month: 3, day: 31 },
      },
      eula: { type: 'STANDARD' },
    });
    expect(body).not.toHaveProperty('paymentSchedule');
    expect(body.customer).toEqual({ billingAccount: `billingAccounts/${BUYER}` });
    const wholesale = buildGcpPrivateOffer(
      doc((d) => {
        d.reseller = {
          partnerAccountId: RESELLER,
          wholesalePriceMinor: '9000001',
          use: 'single-use',
          expiresOn: '2026-03-25',
        };
      }),
      PROVIDER,
    );
    expect(wholesale.reseller).toEqual({
      billingAccount: `billingAccounts/${RESELLER}`,
      wholesalePrice: usd('90000', 10_000_000),
      authorizationEndDate: { year: 2026, month: 3, day: 25 },
    });
  });

  it('refuses documents it cannot express', () => {
    expect(() =>
      buildGcpPrivateOffer(
        doc((d) => {
          d.marketplace = 'azure';
        }),
        PROVIDER,
      ),
    ).toThrow(InvalidInputError);
    expect(() =>
      buildGcpPrivateOffer(
        doc((d) => {
          d.buyers.push({ accountId: RESELLER });
        }),
        PROVIDER,
      ),
    ).toThrow(/exactly one buyer/);
    expect(() => moneyFromDecimal('0.0000000001', 'USD')).toThrow(/more than 9 decimals/);
  });

  it('converts any minor amount and any 9-decimal price to google.type.Money exactly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.constantFrom('USD', 'JPY', 'BHD'),
        (minor, currency) => {
          const money = moneyFromMinor(minor, currency);
          const exponent = minorUnitsOf(currency);
          expect(money.currencyCode).toBe(currency);
          expect(money.nanos).toBeGreaterThanOrEqual(0);
          expect(money.nanos).toBeLessThan(1_000_000_000);
          expect(BigInt(money.units) * 10n ** 9n + BigInt(money.nanos)).toBe(
            minor * 10n ** BigInt(9 - exponent),
          );
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.integer({ min: 0, max: 9 }),
        (digits, decimals) => {
          const text = digits.toString().padStart(decimals + 1, '0');
          const decimal =
            decimals === 0 ? text : `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
          const money = moneyFromDecimal(decimal, 'USD');
          expect(BigInt(money.units) * 10n ** 9n + BigInt(money.nanos)).toBe(
            digits * 10n ** BigInt(9 - decimals),
          );
        },
      ),
      { numRuns: 300 },
    );
    expect(googleDate('2031-12-09')).toEqual({ year: 2031, month: 12, day: 9 });
  });
});

describe('requestIdFor', () => {
  it('is a stable UUID per token and differs between tokens', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.string({ maxLength: 64 }),
        (a, b) => {
          const id = requestIdFor(a);
          expect(id).toMatch(
            /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
          );
          expect(requestIdFor(a)).toBe(id);
          if (a !== b) expect(requestIdFor(b)).not.toBe(id);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('GcpOfferPublisher.publish', () => {
  it('POSTs the offer under the provider with the token and the request id', async () => {
    const seen = stubFetch(() => ({ status: 200, body: { name: OPERATION, done: false } }));
    const started = await publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' });
    expect(started).toEqual({ entityType: 'private-offer', changeSetId: OPERATION });
    const request = seen[0];
    expect(request?.method).toBe('POST');
    expect(`${request?.url.origin}${request?.url.pathname}`).toBe(
      `${BASE}/v1beta/providers/${PROVIDER}/privateOffers`,
    );
    expect([...(request?.url.searchParams.entries() ?? [])]).toEqual([
      ['requestId', requestIdFor(TOKEN)],
    ]);
    expect(request?.headers.authorization).toBe('Bearer ya29.token');
    expect(request?.body).toEqual(buildGcpPrivateOffer(doc(), PROVIDER));
  });

  it('picks the provider per document and names a channel offer as such', async () => {
    const seen = stubFetch(() => ({ status: 200, body: { name: OPERATION, done: false } }));
    const started = await publisher((d) => `provider-for-${d.productId}`).publish(
      doc((d) => {
        d.reseller = {
          partnerAccountId: RESELLER,
          discountPercent: '5',
          use: 'time-bound',
          expiresOn: '2026-03-25',
        };
      }),
      { clientRequestToken: TOKEN, name: 'n' },
    );
    expect(started.entityType).toBe('channel-private-offer');
    expect(seen[0]?.url.pathname).toBe(
      '/v1beta/providers/provider-for-agora-analytics/privateOffers',
    );
    expect((seen[0]?.body as { product?: string } | undefined)?.product).toBe(
      'providers/provider-for-agora-analytics/products/agora-analytics',
    );
  });

  it('retries outages a bounded number of times and types refusals', async () => {
    const seen = stubFetch(() => ({ status: 500, body: { error: { status: 'INTERNAL' } } }));
    await expect(
      publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    expect(seen).toHaveLength(3);
    stubFetch(() => ({
      status: 400,
      body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'displayName: too long' } },
    }));
    const refused = await publisher()
      .publish(doc(), { clientRequestToken: TOKEN, name: 'n' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidInputError);
    expect(refused).toMatchObject({ code: 'marketplace_rejected' });
    expect((refused as Error).message).toContain('INVALID_ARGUMENT: displayName: too long');
    stubFetch(() => ({ status: 403, body: { error: { status: 'PERMISSION_DENIED' } } }));
    await expect(
      publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
    ).rejects.toMatchObject({ code: 'marketplace_access_denied' });
    stubFetch(() => ({ status: 200, body: { done: false } }));
    await expect(
      publisher().publish(doc(), { clientRequestToken: TOKEN, name: 'n' }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
  });
});

describe('GcpOfferPublisher.status', () => {
  it('reads the operation by its name and reports a running one', async () => {
    const seen = stubFetch(() => ({ status: 200, body: { name: OPERATION, done: false } }));
    expect(await publisher().status(doc(), OPERATION)).toEqual({
      status: 'RUNNING',
      entityId: null,
      failure: null,
      serverFault: false,
      expiresOn: null,
    });
    expect(seen[0]?.url.href).toBe(`${BASE}/v1beta/${OPERATION}`);
    expect(seen[0]?.method).toBe('GET');
  });

  it('maps a done operation to SUCCEEDED with the offer name and its acceptance date', async () => {
    stubFetch(() => ({
      status: 200,
      body: {
        name: OPERATION,
        done: true,
        response: { name: OFFER_NAME, state: 'PUBLISHED', acceptByDate: googleDate('2026-03-30') },
      },
    }));
    expect(await publisher().status(doc(), OPERATION)).toEqual({
      status: 'SUCCEEDED',
      entityId: OFFER_NAME,
      failure: null,
      serverFault: false,
      expiresOn: '2026-03-30',
    });
  });

  it('maps an error to FAILED with its field violations, and INTERNAL/UNAVAILABLE to server faults', async () => {
    stubFetch(() => ({
      status: 200,
      body: {
        name: OPERATION,
        done: true,
        error: {
          code: 3,
          message: 'The private offer is invalid',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.BadRequest',
              fieldViolations: [
                { field: 'accept_by_date', description: 'is in the past' },
                { field: 'customer.billing_account', description: 'bad form' },
              ],
            },
            { '@type': 'type.googleapis.com/google.rpc.DebugInfo', detail: 'ignored' },
          ],
        },
      },
    }));
    expect(await publisher().status(doc(), OPERATION)).toEqual({
      status: 'FAILED',
      entityId: null,
      failure: {
        code: 'INVALID_ARGUMENT',
        description: 'The private offer is invalid',
        errors: [
          { change: 'accept_by_date', code: 'INVALID_ARGUMENT', message: 'is in the past' },
          { change: 'customer.billing_account', code: 'INVALID_ARGUMENT', message: 'bad form' },
        ],
      },
      serverFault: false,
      expiresOn: null,
    });
    for (const [code, fault] of [
      [13, true],
      [14, true],
      [5, false],
      [99, false],
    ] as const) {
      stubFetch(() => ({
        status: 200,
        body: { name: OPERATION, done: true, error: { code, message: 'x' } },
      }));
      expect(await publisher().status(doc(), OPERATION)).toMatchObject({
        status: 'FAILED',
        serverFault: fault,
        failure: { code: code === 99 ? '99' : expect.any(String) },
      });
    }
  });

  it('answers null for unknown or malformed operations and errors for outages', async () => {
    stubFetch(() => ({ status: 404, body: { error: { status: 'NOT_FOUND' } } }));
    expect(await publisher().status(doc(), OPERATION)).toBeNull();
    const seen = stubFetch(() => ({ status: 200, body: {} }));
    for (const name of ['operations/../privateOffers', 'x/operations/1', '', 'operations/a?b'])
      expect(await publisher().status(doc(), name)).toBeNull();
    expect(seen).toHaveLength(0);
    stubFetch(() => ({ status: 503 }));
    await expect(publisher().status(doc(), OPERATION)).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    stubFetch(() => ({ status: 200, body: { name: OPERATION, done: true } }));
    await expect(publisher().status(doc(), OPERATION)).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
  });
});
