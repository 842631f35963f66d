// Proves private offers end to end over real HTTP against the AWS Catalog simulator: an auto-approved private offer and a reseller authorization end published through real change sets (change types asserted in order), the same Idempotency-Key yields one offer and one change set, guardrails hold an offer until an admin decides, invalid documents are refused with every problem and write and send nothing, drafts are saved incomplete and checked in full on submit, marketplace failures are recorded (client errors final, server faults retried), a buyer's acceptance is linked to the offer, and roles are enforced.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackOffers } from '../../../lib/app/offers';
import { addDays } from '../../../lib/domain/calendar';
import type { Role } from '../../../lib/http/auth';
import { LOCAL_AWS_PRODUCT, runJourney } from '../../../lib/local/buyer-journeys';
import { getContainer } from '../../../lib/runtime/container';
import { startTestStack, type TestStack } from '../pipeline/helpers';

const TODAY = new Date().toISOString().slice(0, 10);
const PRODUCT = LOCAL_AWS_PRODUCT.productId;

/** A valid AWS private offer: 100 seats at $1,400 for two years, two installments. */
function privateOffer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    marketplace: 'aws',
    productId: PRODUCT,
    name: 'Acme Corp — 2 years',
    buyers: [{ accountId: '111122223333' }],
    pricing: {
      currency: 'USD',
      upfront: [{ dimension: 'seats', priceMinor: '140000', quantity: 100 }],
      usageRates: [],
    },
    paymentSchedule: [
      { date: addDays(TODAY, 10), amountMinor: '7000000' },
      { date: addDays(TODAY, 375), amountMinor: '7000000' },
    ],
    term: { durationMonths: 24 },
    expiresOn: addDays(TODAY, 20),
    legal: { type: 'standard', version: '2022-07-14' },
    coSell: {
      opportunityIds: ['O1234567'],
      touches: [{ partnerId: 'P-100', role: 'influenced', at: TODAY }],
    },
    ...overrides,
  };
}

interface Offer {
  offerId: string;
  status: string;
  effectiveStatus: string;
  guardrails: { decision: string; reasons: { code: string }[] } | null;
  publication: {
    entityType: string;
    entityId: string | null;
    changeSetId: string | null;
    attempts: number;
    failure: { code: string; description: string; errors: { code: string }[] } | null;
  } | null;
  expiresOn: string | null;
  history: { status: string; by: string }[];
  acceptances: { contractId: string; buyerAccountId: string; status: string }[];
}

describe('private offers over HTTP (AWS)', () => {
  let test: TestStack;

  async function call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: unknown,
    roles: Role[] | null = ['seller'],
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const all: Record<string, string> = { ...headers };
    if (body !== undefined) all['content-type'] = 'application/json';
    if (roles)
      all.authorization = `Bearer ${await test.token(roles, roles.includes('partner') ? 'P-100' : undefined)}`;
    const response = await fetch(`${test.stack.url}${path}`, {
      method,
      headers: all,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  const create = (doc: Record<string, unknown>, key = randomUUID()) =>
    call('POST', '/v1/offers', doc, ['seller'], { 'idempotency-key': key });
  const offer = async (id: string) =>
    (await call('GET', `/v1/offers/${id}`, undefined)).body as unknown as Offer;
  const startedChangeSets = () =>
    test.stack.awsSimulator.catalog.calls().filter((c) => c.operation === 'StartChangeSet');
  /** Runs the tracker until nothing is in flight (the simulator finishes a set in a few reads). */
  async function trackUntilSettled(): Promise<void> {
    for (let round = 0; round < 10; round += 1) {
      const summary = await trackOffers(getContainer());
      if (summary.pending === 0) return;
    }
    throw new Error('offers still pending after 10 tracking rounds');
  }

  beforeAll(async () => {
    test = await startTestStack({
      offerGuardrails: {
        version: 'test-policy-1',
        maxDiscountPercent: '20',
        listPrices: [
          { productId: PRODUCT, dimension: 'seats', currency: 'USD', priceMinor: '150000' },
        ],
        maxInstallments: 12,
        maxDurationMonths: 36,
        resellerDiscountCapPercent: '20',
        allowedCurrencies: ['USD', 'EUR'],
      },
    });
  }, 60_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('publishes an auto-approved private offer through one change set and tracks it to published', async () => {
    const before = startedChangeSets().length;
    const created = await create(privateOffer());
    expect(created.status).toBe(201);
    const body = created.body as unknown as Offer;
    expect(body.guardrails?.decision).toBe('auto-approve');
    expect(body.status).toBe('submitted');
    const starts = startedChangeSets();
    expect(starts).toHaveLength(before + 1);
    const input = starts.at(-1)?.input as {
      ChangeSet: { ChangeType: string; DetailsDocument: Record<string, unknown> }[];
      ClientRequestToken: string;
    };
    expect(input.ChangeSet.map((c) => c.ChangeType)).toEqual([
      'CreateOffer',
      'UpdateInformation',
      'UpdateTargeting',
      'UpdatePricingTerms',
      'UpdatePaymentScheduleTerms',
      'UpdateValidityTerms',
      'UpdateAvailability',
      'UpdateLegalTerms',
      'ReleaseOffer',
    ]);
    expect(input.ChangeSet[2]?.DetailsDocument).toEqual({
      PositiveTargeting: { BuyerAccounts: ['111122223333'] },
    });
    expect(input.ChangeSet[6]?.DetailsDocument).toEqual({
      AvailabilityEndDate: addDays(TODAY, 20),
    });

    await trackUntilSettled();
    const published = await offer(body.offerId);
    expect(published.status).toBe('published');
    expect(published.effectiveStatus).toBe('published');
    expect(published.publication?.entityId).toMatch(/^offer-/);
    expect(published.expiresOn).toBe(addDays(TODAY, 20));
    expect(published.history.map((h) => h.status)).toEqual([
      'draft',
      'approved',
      'submitted',
      'published',
    ]);
    const entity = test.stack.awsSimulator.catalog
      .state()
      .entities.find((e) => e.entityId === published.publication?.entityId);
    expect(entity).toMatchObject({ entityType: 'Offer@1.0' });
  });

  it('gives one offer and one change set for the same Idempotency-Key, and refuses the key on another body', async () => {
    const key = randomUUID();
    const before = startedChangeSets().length;
    const first = await create(privateOffer({ name: 'Replayed' }), key);
    const second = await create(privateOffer({ name: 'Replayed' }), key);
    expect(first.status).toBe(201);
    expect(second.body.offerId).toBe(first.body.offerId);
    expect(startedChangeSets()).toHaveLength(before + 1);
    const other = await create(privateOffer({ name: 'Something else' }), key);
    expect(other.status).toBe(409);
    expect((other.body.error as { code: string }).code).toBe('idempotency_key_reused');
    const listed = await call('GET', '/v1/offers?limit=200', undefined);
    const named = (listed.body.items as { document: { name: string } }[]).filter(
      (o) => o.document.name === 'Replayed',
    );
    expect(named).toHaveLength(1);
  });

  it('publishes a reseller authorization (CPPO) for a channel partner', async () => {
    const created = await create(
      privateOffer({
        name: 'Via our reseller',
        paymentSchedule: undefined,
        reseller: {
          partnerAccountId: '444455556666',
          discountPercent: '10',
          use: 'time-bound',
          expiresOn: addDays(TODAY, 30),
        },
      }),
    );
    expect(created.status).toBe(201);
    const input = startedChangeSets().at(-1)?.input as { ChangeSet: { ChangeType: string }[] };
    expect(input.ChangeSet[0]?.ChangeType).toBe('CreateResaleAuthorization');
    expect(input.ChangeSet.at(-1)?.ChangeType).toBe('ReleaseResaleAuthorization');
    await trackUntilSettled();
    const published = await offer(String(created.body.offerId));
    expect(published.status).toBe('published');
    expect(published.publication?.entityType).toBe('ResaleAuthorization@1.0');
    expect(published.publication?.entityId).toMatch(/^resaleauthz-/);
  });

  it('holds an offer below the discount floor until an admin approves it, and records who decided', async () => {
    const before = startedChangeSets().length;
    const deep = privateOffer({
      name: 'Deep discount',
      pricing: {
        currency: 'USD',
        upfront: [{ dimension: 'seats', priceMinor: '105000', quantity: 100 }],
        usageRates: [],
      },
      paymentSchedule: [{ date: addDays(TODAY, 10), amountMinor: '10500000' }],
    });
    const held = await create(deep);
    expect(held.status).toBe(201);
    const body = held.body as unknown as Offer;
    expect(body.status).toBe('pending-approval');
    expect(body.guardrails?.reasons.map((r) => r.code)).toEqual(['discount_below_floor']);
    expect(startedChangeSets()).toHaveLength(before);

    // A seller who is not a configured approver may not decide.
    const denied = await call('POST', `/v1/offers/${body.offerId}/approve`, { reason: 'ok' });
    expect(denied.status).toBe(403);
    const approved = await call(
      'POST',
      `/v1/offers/${body.offerId}/approve`,
      { reason: 'Strategic logo, VP approved' },
      ['admin'],
    );
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'submitted',
      approval: { decision: 'approved', reason: 'Strategic logo, VP approved' },
    });
    expect(startedChangeSets()).toHaveLength(before + 1);

    const other = (await create({ ...deep, name: 'Rejected deal' })).body as unknown as Offer;
    const rejected = await call('POST', `/v1/offers/${other.offerId}/reject`, { reason: 'No' }, [
      'admin',
    ]);
    expect(rejected.body).toMatchObject({ status: 'rejected' });
    const again = await call('POST', `/v1/offers/${other.offerId}/approve`, {}, ['admin']);
    expect(again.status).toBe(400);
    expect((again.body.error as { code: string }).code).toBe('offer_state');
  });

  it('refuses an invalid offer with every problem at once, storing and sending nothing', async () => {
    const listedBefore = (await call('GET', '/v1/offers?limit=200', undefined)).body
      .items as unknown[];
    const before = startedChangeSets().length;
    const buyers = Array.from({ length: 27 }, (_, i) => ({ accountId: String(100000000000 + i) }));
    const bad = await create(
      privateOffer({
        buyers,
        pricing: {
          currency: 'CHF',
          upfront: [{ dimension: 'seats', priceMinor: '140000', quantity: 100 }],
          usageRates: [],
        },
        paymentSchedule: [{ date: addDays(TODAY, 10), amountMinor: '1' }],
        expiresOn: addDays(TODAY, -1),
      }),
    );
    expect(bad.status).toBe(400);
    const error = bad.body.error as { code: string; details: { path: string; code: string }[] };
    expect(error.code).toBe('invalid_offer');
    const codes = error.details.map((d) => d.code);
    for (const code of [
      'too_many_buyers',
      'currency_not_supported',
      'schedule_sum_mismatch',
      'expiry_in_past',
    ])
      expect(codes).toContain(code);
    const shape = await create({ schemaVersion: 1, marketplace: 'aws', name: '' });
    expect(shape.status).toBe(400);
    expect(
      (shape.body.error as { details: { path: string }[] }).details.map((d) => d.path),
    ).toEqual(
      expect.arrayContaining(['productId', 'buyers', 'pricing', 'term', 'expiresOn', 'legal']),
    );
    expect(startedChangeSets()).toHaveLength(before);
    const listedAfter = (await call('GET', '/v1/offers?limit=200', undefined)).body
      .items as unknown[];
    expect(listedAfter).toHaveLength(listedBefore.length);
  });

  it('saves an incomplete draft, edits it, and checks the rules in full on submit', async () => {
    const draft = await create({ schemaVersion: 1, marketplace: 'aws', name: 'WIP', draft: true });
    expect(draft.status).toBe(201);
    const id = String(draft.body.offerId);
    expect(draft.body.status).toBe('draft');
    const incomplete = await call('POST', `/v1/offers/${id}/submit`, {});
    expect(incomplete.status).toBe(400);
    const edited = await call('PUT', `/v1/offers/${id}`, privateOffer({ name: 'WIP', buyers: [] }));
    expect(edited.status).toBe(200);
    const stillBad = await call('POST', `/v1/offers/${id}/submit`, {});
    expect(
      (stillBad.body.error as { details: { code: string }[] }).details.map((d) => d.code),
    ).toEqual(['buyers_required']);
    await call('PUT', `/v1/offers/${id}`, privateOffer({ name: 'WIP' }));
    const submitted = await call('POST', `/v1/offers/${id}/submit`, {});
    expect(submitted.body.status).toBe('submitted');
    const locked = await call('PUT', `/v1/offers/${id}`, privateOffer({ name: 'Too late' }));
    expect(locked.status).toBe(400);
  });

  it('records a marketplace client error as final, and retries a server fault with a new change set', async () => {
    test.stack.awsSimulator.catalog.injectFault({
      kind: 'change-set-failure',
      failureCode: 'CLIENT_ERROR',
      errorCode: 'INVALID_PRICING',
      message: 'Rate card is not valid',
    });
    const rejected = (await create(privateOffer({ name: 'Marketplace says no' })))
      .body as unknown as Offer;
    await trackUntilSettled();
    const failed = await offer(rejected.offerId);
    expect(failed.status).toBe('failed');
    expect(failed.publication?.failure).toMatchObject({ code: 'CLIENT_ERROR' });
    expect(JSON.stringify(failed.publication?.failure)).toContain('INVALID_PRICING');

    test.stack.awsSimulator.catalog.injectFault({
      kind: 'change-set-failure',
      failureCode: 'SERVER_FAULT',
    });
    const flaky = (await create(privateOffer({ name: 'Marketplace hiccup' })))
      .body as unknown as Offer;
    await trackUntilSettled();
    const recovered = await offer(flaky.offerId);
    expect(recovered.status).toBe('published');
    expect(recovered.publication?.attempts).toBe(2);
  });

  it("links a buyer's acceptance of the offer to the contract it becomes", async () => {
    const created = (await create(privateOffer({ name: 'To be accepted' })))
      .body as unknown as Offer;
    await trackUntilSettled();
    const entityId = (await offer(created.offerId)).publication?.entityId ?? '';
    const result = await runJourney(
      'aws-purchase',
      {
        stack: test.stack.stackFile,
        token: () => test.token(['seller']),
        log: () => {},
        now: () => new Date(),
      },
      { keep: true, offerId: entityId, waitMs: 20_000, pauseMs: 0 },
    );
    const accepted = await offer(created.offerId);
    expect(accepted.acceptances).toEqual([
      expect.objectContaining({ contractId: result.contractId, status: 'active' }),
    ]);
  });

  it('lists offers by status and marketplace, page by page', async () => {
    const published = await call(
      'GET',
      '/v1/offers?status=published&marketplace=aws&limit=2',
      undefined,
      ['finance'],
    );
    expect(published.status).toBe(200);
    const items = published.body.items as { status: string }[];
    expect(items).toHaveLength(2);
    expect(items.every((o) => o.status === 'published')).toBe(true);
    const next = await call(
      'GET',
      `/v1/offers?status=published&marketplace=aws&limit=2&cursor=${encodeURIComponent(String(published.body.nextCursor))}`,
      undefined,
    );
    expect((next.body.items as unknown[]).length).toBeGreaterThan(0);
    const none = await call('GET', '/v1/offers?marketplace=gcp', undefined);
    expect(none.body.items).toEqual([]);
  });

  it('answers 401 without a token and 403 to a partner, and serves the document schema', async () => {
    expect((await call('POST', '/v1/offers', privateOffer(), null)).status).toBe(401);
    expect((await call('GET', '/v1/offers', undefined, null)).status).toBe(401);
    expect((await call('POST', '/v1/offers', privateOffer(), ['partner'])).status).toBe(403);
    expect((await call('GET', '/v1/offers', undefined, ['partner'])).status).toBe(403);
    expect((await call('GET', '/v1/offers/of_missing', undefined)).status).toBe(404);
    const schema = await call('GET', '/v1/offer-schema', undefined);
    expect(schema.body).toMatchObject({ title: 'OfferDocument', type: 'object' });
    expect((schema.body.required as string[]).sort()).toEqual(
      expect.arrayContaining([
        'buyers',
        'expiresOn',
        'legal',
        'marketplace',
        'pricing',
        'productId',
      ]),
    );
  });
});
