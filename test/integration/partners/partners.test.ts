// Proves the partner side over real HTTP on the local stack: a registry with tier history that partner tokens see only their own slice of (others 404, no token 401, bad input 400 writing nothing); deal registrations decided by rules at submission (clean → approved, same customer and product in another partner's window → rejected with the reason and the conflicting registration, a direct offer → held until an admin decides); and a contract attributed from a registration, an API referral and an ACE opportunity pulled from Partner Central, with a model change writing a new version and its diff while a rerun writes nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullCoSellOpportunities } from '../../../lib/app/co-sell';
import { sendRegistrationReminders } from '../../../lib/app/registration-reminders';
import { addDays } from '../../../lib/domain/calendar';
import type { Role } from '../../../lib/http/auth';
import { LOCAL_AWS_PRODUCT, runJourney } from '../../../lib/local/buyer-journeys';
import { getContainer } from '../../../lib/runtime/container';
import { startTestStack, type TestStack } from '../pipeline/helpers';

const PRODUCT = LOCAL_AWS_PRODUCT.productId;
const TODAY = new Date().toISOString().slice(0, 10);
const BUYER = '210987654321';
const DIRECT_BUYER = '999988887777';
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

type Json = Record<string, unknown>;

describe('partners, deal registrations and attribution over HTTP', () => {
  let test: TestStack;

  async function call(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    roles: Role[] | null = ['admin'],
    partnerId?: string,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (roles) headers.authorization = `Bearer ${await test.token(roles, partnerId)}`;
    const response = await fetch(`${test.stack.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }
  const register = (body: Json, roles: Role[] = ['partner'], partnerId = 'P-100') =>
    call('POST', '/v1/deal-registrations', body, roles, partnerId);

  beforeAll(async () => {
    test = await startTestStack();
  }, 60_000);
  afterAll(async () => {
    await test?.stack.stop();
  });

  it('keeps a registry with tier history that a partner token sees only its own part of', async () => {
    const p100 = {
      partnerId: 'P-100',
      legalName: 'Northwind Partners LLC',
      type: 'referral',
      tier: 'Silver',
      tierEffectiveFrom: '2025-01-01',
      payoutCurrency: 'USD',
      statementContacts: [{ name: 'Ana', email: 'ana@northwind.example' }],
    };
    expect((await call('POST', '/v1/partners', p100, ['finance'])).status).toBe(201);
    const second = { ...p100, partnerId: 'P-200', legalName: 'Contoso SI', type: 'si' };
    expect((await call('POST', '/v1/partners', second)).status).toBe(201);
    expect((await call('POST', '/v1/partners', p100)).body.error).toMatchObject({
      code: 'partner_exists',
    });

    const promoted = await call('PATCH', '/v1/partners/P-100', {
      tier: { tier: 'Gold', effectiveFrom: '2025-07-01' },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.tierHistory).toEqual([
      { tier: 'Silver', effectiveFrom: '2025-01-01' },
      { tier: 'Gold', effectiveFrom: '2025-07-01' },
    ]);
    expect(promoted.body.version).toBe(2);

    const bad = await call('POST', '/v1/partners', {
      partnerId: 'bad id!',
      legalName: '',
      type: 'friend',
      tier: 'Gold',
      payoutCurrency: 'usd',
    });
    expect(bad.status).toBe(400);
    const paths = ((bad.body.error as Json).details as { path: string }[])
      .map((d) => d.path)
      .sort();
    expect(paths).toEqual(['body.legalName', 'body.partnerId', 'body.payoutCurrency', 'body.type']);
    expect((await call('GET', '/v1/partners')).body.items).toHaveLength(2);

    const own = await call('GET', '/v1/partners', undefined, ['partner'], 'P-100');
    expect((own.body.items as Json[]).map((p) => p.partnerId)).toEqual(['P-100']);
    expect((await call('GET', '/v1/partners/P-100', undefined, ['partner'], 'P-100')).status).toBe(
      200,
    );
    expect((await call('GET', '/v1/partners/P-200', undefined, ['partner'], 'P-100')).status).toBe(
      404,
    );
    expect((await call('GET', '/v1/partners/P-100', undefined, null)).status).toBe(401);
    expect(
      (await call('PATCH', '/v1/partners/P-100', { status: 'inactive' }, ['partner'], 'P-100'))
        .status,
    ).toBe(403);
  });

  it('decides registrations by rule at submission and returns every conflict with its reason', async () => {
    const deal = {
      partnerId: 'P-100',
      customer: { name: 'Globex', marketplace: 'aws', accountId: BUYER },
      productId: PRODUCT,
      expectedValue: { amountMinor: '36000000', currency: 'USD' },
    };
    const approved = await register(deal);
    expect(approved.status).toBe(201);
    expect(approved.body).toMatchObject({
      status: 'approved',
      conflicts: [],
      tierAtSubmission: 'Gold',
    });
    expect(approved.body.expiresOn).toBe(addDays(TODAY, 89));
    // The same partner submitting again the same day is the same registration.
    const again = await register(deal);
    expect(again.status).toBe(200);
    expect(again.body.registrationId).toBe(approved.body.registrationId);
    // Nor does a fresh Idempotency-Key make a second registration of a deal the partner holds.
    const keyed = await call('POST', '/v1/deal-registrations', deal, ['partner'], 'P-100', {
      'idempotency-key': 'another-attempt',
    });
    expect(keyed.body.registrationId).toBe(approved.body.registrationId);
    const expired = await register({ ...deal, expiresOn: '2020-01-01' });
    expect(expired.status).toBe(400);

    // Another partner, the same customer by another spelling: inside P-100's window → rejected.
    const rival = await register(
      { ...deal, partnerId: 'P-200', customer: { name: 'GLOBEX, Inc.' } },
      ['partner'],
      'P-200',
    );
    expect(rival.status).toBe(201);
    expect(rival.body.status).toBe('rejected');
    expect(rival.body.conflicts).toEqual([
      expect.objectContaining({
        code: 'registration_conflict',
        ref: approved.body.registrationId,
        reason: expect.stringContaining(`protection runs until ${addDays(TODAY, 89)}`),
      }),
    ]);
    // A partner registers for itself only; a rival's registration is invisible to it.
    expect((await register(deal, ['partner'], 'P-200')).status).toBe(403);
    expect(
      (
        await call(
          'GET',
          `/v1/deal-registrations/${approved.body.registrationId}`,
          undefined,
          ['partner'],
          'P-200',
        )
      ).status,
    ).toBe(404);
    const mine = await call('GET', '/v1/deal-registrations', undefined, ['partner'], 'P-200');
    expect((mine.body.items as Json[]).map((r) => r.partnerId)).toEqual(['P-200']);

    // The seller already offers this customer the product: held for a human.
    const offer = await call(
      'POST',
      '/v1/offers',
      {
        schemaVersion: 1,
        marketplace: 'aws',
        productId: PRODUCT,
        name: 'Initech direct',
        buyers: [{ accountId: DIRECT_BUYER }],
        pricing: {
          currency: 'USD',
          upfront: [{ dimension: 'seats', priceMinor: '140000', quantity: 10 }],
          usageRates: [],
        },
        term: { durationMonths: 12 },
        expiresOn: addDays(TODAY, 20),
        legal: { type: 'standard', version: '2022-07-14' },
      },
      ['seller'],
    );
    expect(offer.status).toBe(201);
    const held = await register({
      ...deal,
      customer: { name: 'Initech', marketplace: 'aws', accountId: DIRECT_BUYER },
    });
    expect(held.body.status).toBe('pending-review');
    expect(held.body.conflicts).toEqual([
      expect.objectContaining({ code: 'direct_opportunity', ref: offer.body.offerId }),
    ]);
    const path = `/v1/deal-registrations/${held.body.registrationId}/decision`;
    expect((await call('POST', path, { decision: 'approved' }, ['partner'], 'P-100')).status).toBe(
      403,
    );
    const decided = await call('POST', path, { decision: 'approved', reason: 'expansion deal' });
    expect(decided.body).toMatchObject({
      status: 'approved',
      decision: { reason: 'expansion deal' },
    });
    expect((await call('POST', path, { decision: 'rejected' })).body.error).toMatchObject({
      code: 'registration_not_pending',
    });

    // Invalid input: every problem at once, nothing stored.
    const before = (await call('GET', '/v1/deal-registrations?limit=100')).body.items as Json[];
    const invalid = await register({
      partnerId: 'P-100',
      customer: { name: 'X', accountId: '1' },
      productId: '',
      expectedValue: { amountMinor: 12.5, currency: 'USD' },
    });
    expect(invalid.status).toBe(400);
    expect(
      ((invalid.body.error as Json).details as { path: string }[]).map((d) => d.path).sort(),
    ).toEqual(['body.customer.accountId', 'body.expectedValue.amountMinor', 'body.productId']);
    const after = (await call('GET', '/v1/deal-registrations?limit=100')).body.items as Json[];
    expect(after).toHaveLength(before.length);

    // A registration about to lapse: its partner hears once (email to its contacts).
    const lapsing = await register({
      ...deal,
      customer: { name: 'Hooli', marketplace: 'aws', accountId: '123123123123' },
      expiresOn: addDays(TODAY, 2),
    });
    expect(lapsing.body).toMatchObject({ status: 'approved', expiresOn: addDays(TODAY, 2) });
    const reminded = await sendRegistrationReminders(getContainer(), { today: TODAY });
    expect(reminded.sent).toEqual([
      expect.objectContaining({
        registrationId: lapsing.body.registrationId,
        window: 3,
        daysLeft: 2,
        emailed: 1,
      }),
    ]);
    expect((await sendRegistrationReminders(getContainer(), { today: TODAY })).sent).toEqual([]);
    const outbox = readdirSync(join(test.dataDir, 'outbox')).map((f) =>
      readFileSync(join(test.dataDir, 'outbox', f), 'utf8'),
    );
    expect(
      outbox.filter((m) => m.includes('Deal registration for Hooli expires in 2 days')),
    ).toHaveLength(1);
  });

  it('attributes a contract from a registration, a referral and an ACE opportunity, versioned', async () => {
    // A Microsoft-style referral through the API (twice: one touch).
    const referral = {
      partnerId: 'P-200',
      role: 'influenced',
      milestone: 'workshop',
      at: daysAgo(20),
      source: 'co-sell-referral',
      sourceRef: 'ref-7781',
      referralMarketplace: 'azure',
      customer: { name: 'Globex', marketplace: 'aws', accountId: BUYER },
      productId: PRODUCT,
    };
    const first = await call('POST', '/v1/touches', referral, ['seller']);
    expect(first.status).toBe(201);
    const repeat = await call('POST', '/v1/touches', referral, ['seller']);
    expect(repeat.status).toBe(200);
    expect(repeat.body.touchId).toBe(first.body.touchId);
    expect((await call('POST', '/v1/touches', { ...referral, partnerId: 'P-999' })).status).toBe(
      400,
    );

    // An ACE opportunity the AWS co-sell team created 50 days ago, pulled from Partner Central.
    test.stack.awsSimulator.partnerCentral.seed({
      Catalog: 'AWS',
      CreatedDate: daysAgo(50),
      Customer: { Account: { CompanyName: 'Globex', AwsAccountId: BUYER } },
      RelatedEntityIdentifiers: { AwsMarketplaceProducts: [PRODUCT] },
      LifeCycle: { Stage: 'Qualified' },
    });
    const pulled = await pullCoSellOpportunities(getContainer());
    expect(pulled).toMatchObject({ configured: true, opportunities: 1, touchesRecorded: 1 });
    expect((await pullCoSellOpportunities(getContainer())).touchesRecorded).toBe(0);

    const purchase = await runJourney(
      'aws-purchase',
      {
        stack: test.stack.stackFile,
        token: () => test.token(['seller']),
        log: () => {},
        now: () => new Date(),
      },
      { keep: true, buyerAccountId: BUYER, waitMs: 20_000, pauseMs: 0 },
    );
    await test.stack.settle();
    const contractId = purchase.contractId;
    // The contract's creation attributed it already (before anyone asked).
    const stored = await call('GET', `/v1/contracts/${contractId}/attribution/versions`);
    expect((stored.body.items as Json[]).map((v) => v.version)).toEqual([1]);
    const explained = await call('GET', `/v1/contracts/${contractId}/attribution`, undefined, [
      'seller',
    ]);
    expect(explained.status).toBe(200);
    const v1 = explained.body.attribution as Json;
    expect(v1).toMatchObject({ version: 1, dealCredit: 'sourced', diff: null });
    expect((v1.rule as Json).model).toEqual({ kind: 'linear' });
    expect((v1.touches as Json[]).map((t) => [t.partnerId, t.role, t.source])).toEqual([
      ['aws-co-sell', 'cloud-seller', 'co-sell-referral'],
      ['P-200', 'influenced', 'co-sell-referral'],
      ['P-100', 'sourced', 'deal-registration'],
    ]);
    expect((v1.shares as Json[]).map((s) => [s.partnerId, s.weight])).toEqual([
      ['P-100', '1/3'],
      ['P-200', '1/3'],
      ['aws-co-sell', '1/3'],
    ]);
    const split = explained.body.split as { totalMinor: string; shares: { amountMinor: string }[] };
    const total = BigInt(split.totalMinor);
    expect(total).toBeGreaterThan(0n);
    expect(split.shares.reduce((s, x) => s + BigInt(x.amountMinor), 0n)).toBe(total);
    for (const share of split.shares)
      expect(BigInt(share.amountMinor) * 3n - total).toBeLessThanOrEqual(3n);

    // A new model version: the contract's next attribution is a new version with the diff.
    const model = await call('POST', '/v1/attribution-models', {
      modelId: 'default',
      effectiveFrom: '2000-01-01',
      model: { kind: 'time-decay', halfLifeDays: '30' },
    });
    expect(model.body).toMatchObject({ modelId: 'default', version: 2 });
    const models = await call('GET', '/v1/attribution-models', undefined, ['finance']);
    expect((models.body.versions as Json[]).map((v) => v.version)).toEqual([2, 1]);
    const recomputed = await call('POST', `/v1/contracts/${contractId}/attribution`, undefined, [
      'finance',
    ]);
    const v2 = recomputed.body.attribution as Json;
    expect(v2.version).toBe(2);
    expect((v2.diff as Json).model).toEqual({
      from: 'default@v1 (linear)',
      to: 'default@v2 (time-decay)',
    });
    expect(((v2.diff as Json).changed as Json[]).map((c) => c.partnerId)).toEqual([
      'P-100',
      'P-200',
      'aws-co-sell',
    ]);
    const weight = (id: string) => {
      const [n = '0', d = '1'] = String(
        (v2.shares as Json[]).find((s) => s.partnerId === id)?.weight,
      ).split('/');
      return Number(n) / Number(d);
    };
    // Newer touches weigh more under time decay.
    expect(weight('P-100')).toBeGreaterThan(weight('P-200'));
    expect(weight('P-200')).toBeGreaterThan(weight('aws-co-sell'));
    const split2 = recomputed.body.split as { shares: { amountMinor: string }[] };
    expect(split2.shares.reduce((s, x) => s + BigInt(x.amountMinor), 0n)).toBe(total);

    // Nothing changed: a rerun writes no version.
    await call('POST', `/v1/contracts/${contractId}/attribution`, undefined, ['finance']);
    const versions = await call('GET', `/v1/contracts/${contractId}/attribution/versions`);
    expect((versions.body.items as Json[]).map((v) => v.version)).toEqual([2, 1]);
    expect(
      (
        await call(
          'GET',
          `/v1/contracts/${contractId}/attribution`,
          undefined,
          ['partner'],
          'P-100',
        )
      ).status,
    ).toBe(403);
    const touches = await call(
      'GET',
      '/v1/partners/P-200/touches',
      undefined,
      ['partner'],
      'P-200',
    );
    expect((touches.body.items as Json[]).map((t) => t.sourceRef)).toEqual(['azure:ref-7781']);
  }, 60_000);
});
