// Proves the contract pipeline end to end with AWS Marketplace, over real HTTP and DynamoDB Local
// with the AWS simulator: every sample in events/aws drives the expected contracts and events;
// five notifications of one purchase create the contract once; redeliveries change nothing; bad
// payloads are kept and dead-lettered with their reason; an empty re-read is retried then
// dead-lettered and redriven; SNS signatures and registration tokens are checked before writing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractIdFor } from '../../../lib/domain/contract';
import { rawIdFor } from '../../../lib/domain/raw';
import type { SimAgreement } from '../../../lib/local/simulators/aws-simulator';
import { getContainer } from '../../../lib/runtime/container';
import { deliver, sampleFiles, startTestStack, type TestStack } from './helpers';

const contract = (externalId: string) => contractIdFor('aws', externalId);
const DIRECT = contract('license/l-agora1001');
const CPPO = contract('license/l-agora1002');
const RENEWED = contract('license/l-agora1003');
const RENEWAL = contract('license/l-agora1004');
const LEGACY = contract('customer/agoralegacy01/CustLegacy01');

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

async function eventsOf(test: TestStack, contractId: string): Promise<StoredEvent[]> {
  const response = await test.get(`/v1/contracts/${contractId}/events?limit=200`);
  expect(response.status).toBe(200);
  return response.body.items as StoredEvent[];
}

function rawIdOf(sample: Record<string, unknown>): string {
  return rawIdFor('aws', String(sample.id ?? sample.MessageId));
}

describe('AWS samples through the pipeline', () => {
  let test: TestStack;
  const samples = sampleFiles('aws');

  beforeAll(async () => {
    test = await startTestStack();
    for (const sample of samples) {
      expect(await deliver(test, sample.body), sample.name).toBe(202);
      await test.stack.settle();
    }
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('creates exactly the expected contracts, with the expected statuses and links', async () => {
    const list = await test.get('/v1/contracts?marketplace=aws&limit=50');
    const byId = new Map(
      (
        list.body.items as {
          contractId: string;
          status: string;
          replacesContractId: string | null;
        }[]
      ).map((c) => [c.contractId, c]),
    );
    expect([...byId.keys()].sort()).toEqual([DIRECT, CPPO, RENEWED, RENEWAL, LEGACY].sort());
    expect(byId.get(DIRECT)?.status).toBe('active');
    expect(byId.get(CPPO)?.status).toBe('active');
    expect(byId.get(RENEWED)?.status).toBe('expired');
    expect(byId.get(RENEWAL)?.status).toBe('active');
    expect(byId.get(RENEWAL)?.replacesContractId).toBe(RENEWED);
    expect(byId.get(LEGACY)?.status).toBe('active');
  });

  it('marks a RENEW agreement a renewal (its fee rate), and an AMEND of it keeps it so', async () => {
    const renewalOf = async (id: string) =>
      ((await test.get(`/v1/contracts/${id}`)).body as { terms: { renewal: boolean } }).terms
        .renewal;
    expect(await renewalOf(DIRECT)).toBe(false);
    expect(await renewalOf(RENEWAL)).toBe(true);
    const before = await eventsOf(test, RENEWAL);
    const amend = samples.find((s) => s.name.startsWith('06-'))?.body as {
      detail: { agreement: Record<string, unknown> };
    };
    const renewalAmend = {
      ...amend,
      id: 'ev-aws-renewal-amend',
      detail: {
        ...amend.detail,
        requestId: 'req-renewal-amend',
        agreement: { ...amend.detail.agreement, id: 'agmt-agora0000000001004' },
      },
    };
    expect(await deliver(test, renewalAmend)).toBe(202);
    await test.stack.settle();
    expect(await renewalOf(RENEWAL)).toBe(true);
    // Nothing changed at AWS: the amendment notice re-read the same agreement, so no event.
    expect(await eventsOf(test, RENEWAL)).toEqual(before);
  });

  it('maps the direct private offer exactly: installments, usage rate, grants, term', async () => {
    const response = await test.get(`/v1/contracts/${DIRECT}`, ['seller']);
    expect(response.status).toBe(200);
    const terms = response.body.terms as Record<string, unknown>;
    expect(terms).toMatchObject({
      productId: 'prod-agorademo01',
      offerType: 'private',
      currency: 'USD',
      buyer: { accountId: '444455556666' },
      term: { start: '2026-03-02', end: '2036-03-02' },
      installments: [
        { date: '2026-03-02', amountMinor: '3000000' },
        { date: '2027-03-02', amountMinor: '3000000' },
      ],
      usageRates: [{ dimension: 'api_calls', unitPrice: '0.002' }],
      grants: [
        { dimension: 'enterprise_seats', quantity: '250' },
        { dimension: 'api_calls', quantity: null },
      ],
    });
    expect(response.body.refs).toMatchObject({
      agreementId: 'agmt-agora0000000001001',
      license: 'l-agora1001',
      intent: 'NEW',
    });
  });

  it('turns five notifications of one purchase into one ContractCreated', async () => {
    const events = await eventsOf(test, DIRECT);
    expect(events.filter((e) => e.event.type === 'ContractCreated')).toHaveLength(1);
    expect(events.map((e) => e.event.type)).toEqual([
      'ContractCreated',
      'ContractActivated',
      'RefundIssued',
    ]);
    for (const sample of samples.slice(0, 5)) {
      const raw = await test.get(`/v1/raw/${rawIdOf(sample.body)}`);
      expect(raw.status, sample.name).toBe(200);
      expect(raw.body.processedAt, sample.name).not.toBeNull();
    }
  });

  it('records the billing adjustment as a RefundIssued of the authorized amount', async () => {
    const refund = (await eventsOf(test, DIRECT)).find((e) => e.event.type === 'RefundIssued');
    expect(refund?.event.payload).toEqual({
      refundId: 'ba-agora0001',
      currency: 'USD',
      amountMinor: '50000',
      reason: 'PRICING_ERROR',
    });
    expect(refund?.event.effectiveAt).toBe('2026-05-05');
  });

  it('builds the CPPO contract from its License event and entitlements', async () => {
    expect((await eventsOf(test, CPPO)).map((e) => e.event.type)).toEqual([
      'ContractCreated',
      'ContractActivated',
    ]);
    const cppo = await test.get(`/v1/contracts/${CPPO}`);
    expect(cppo.body.terms).toMatchObject({
      grants: [{ dimension: 'seats', quantity: '40' }],
      term: { start: '2026-06-01', end: '2036-06-02' },
    });
    const hint = await test.get(`/v1/raw/${rawIdFor('aws', 'ev-aws-0010')}`);
    expect(hint.body.outcome).toMatch(/not readable by this seller account \(CPPO\)/);
  });

  it('expires a renewed agreement on its end date and links the renewal to it', async () => {
    expect(
      (await eventsOf(test, RENEWED)).map((e) => `${e.event.type}@${e.event.effectiveAt}`),
    ).toEqual([
      'ContractCreated@2025-10-01',
      'ContractActivated@2025-10-01',
      'ContractExpired@2026-10-01',
    ]);
    const renewal = await test.get(`/v1/contracts/${RENEWAL}`);
    expect(renewal.body.refs).toMatchObject({
      intent: 'RENEW',
      previousAgreementId: 'agmt-agora0000000001003',
    });
    expect(renewal.body.terms).toMatchObject({
      fixedCharges: [{ dimension: 'seats', amountMinor: '570000' }],
      plan: 'P12M',
    });
  });

  it('keys a legacy product on its SNS CustomerIdentifier', async () => {
    const legacy = await test.get(`/v1/contracts/${LEGACY}`);
    expect(legacy.body.refs).toMatchObject({ customerIdentifier: 'CustLegacy01' });
    expect((await eventsOf(test, LEGACY)).map((e) => e.event.type)).toEqual([
      'ContractCreated',
      'ContractActivated',
    ]);
  });

  it('records catalog events and unlinked SNS hints without touching contracts', async () => {
    expect((await test.get(`/v1/raw/${rawIdFor('aws', 'ev-aws-0030')}`)).body.outcome).toMatch(
      /^ignored: Change Set Succeeded/,
    );
    expect((await test.get(`/v1/raw/${rawIdFor('aws', 'sns-aws-0004')}`)).body.outcome).toMatch(
      /no contract linked to customer agorademo01\/CustA1001/,
    );
  });

  it('answers a redelivery of every sample with 2xx and changes nothing', async () => {
    const before = await Promise.all(
      [DIRECT, CPPO, RENEWED, RENEWAL, LEGACY].map((id) => test.get(`/v1/contracts/${id}`)),
    );
    for (const sample of samples) expect(await deliver(test, sample.body), sample.name).toBe(202);
    await test.stack.settle();
    const after = await Promise.all(
      [DIRECT, CPPO, RENEWED, RENEWAL, LEGACY].map((id) => test.get(`/v1/contracts/${id}`)),
    );
    expect(after.map((r) => r.body.version)).toEqual(before.map((r) => r.body.version));
    expect((await eventsOf(test, DIRECT)).length).toBe(3);
  });

  it('lists contracts page by page, by status and by customer, to the right roles', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const response = await test.get(
        `/v1/contracts?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        ['finance'],
      );
      seen.push(...(response.body.items as { contractId: string }[]).map((c) => c.contractId));
      cursor = response.body.nextCursor as string | null;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual([DIRECT, CPPO, RENEWED, RENEWAL, LEGACY].sort());
    const expired = await test.get('/v1/contracts?status=expired');
    expect((expired.body.items as { contractId: string }[]).map((c) => c.contractId)).toEqual([
      RENEWED,
    ]);
    const buyer3 = await test.get('/v1/contracts?customer=666677778888');
    expect((buyer3.body.items as { contractId: string }[]).map((c) => c.contractId).sort()).toEqual(
      [RENEWED, RENEWAL].sort(),
    );
    expect(
      (await test.get(`/v1/contracts/${DIRECT}`, ['partner'].length ? ['seller'] : ['seller']))
        .status,
    ).toBe(200);
    const partner = await fetch(`${test.stack.url}/v1/contracts/${DIRECT}`, {
      headers: { authorization: `Bearer ${await test.token(['partner'], 'P-100')}` },
    });
    expect(partner.status).toBe(403);
    expect((await test.get('/v1/contracts?status=sideways')).status).toBe(400);
    expect((await test.get('/v1/contracts/ct_nope')).status).toBe(404);
  });

  it('answers "is this customer entitled now?"', async () => {
    const yes = await test.get('/v1/entitlements?customer=444455556666&dimension=api_calls', [
      'service',
    ]);
    expect(yes.status).toBe(200);
    expect(yes.body).toMatchObject({ customer: '444455556666', entitled: true });
    const noDimension = await test.get(
      '/v1/entitlements?customer=444455556666&dimension=gpu_hours',
      ['service'],
    );
    expect(noDimension.body).toMatchObject({
      entitled: false,
      entitlements: [{ reason: 'no dimension gpu_hours' }],
    });
    const renewed = await test.get('/v1/entitlements?customer=666677778888', ['service']);
    const lines = renewed.body.entitlements as {
      contractId: string;
      entitled: boolean;
      reason: string | null;
    }[];
    expect(lines.find((l) => l.contractId === RENEWED)).toMatchObject({
      entitled: false,
      reason: 'contract is expired',
    });
    expect(lines.find((l) => l.contractId === RENEWAL)?.entitled).toBe(true);
    expect((await test.get('/v1/entitlements?customer=nobody', ['service'])).body).toMatchObject({
      entitled: false,
      entitlements: [],
    });
  });
});

describe('failures are kept, explained and recoverable', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('stores invalid payloads and dead-letters them with their reason', async () => {
    for (const sample of sampleFiles('invalid').filter((f) => f.name.startsWith('aws-')))
      expect(await deliver(test, sample.body), sample.name).toBe(202);
    await test.stack.settle();
    const dlq = await test.get('/v1/dlq');
    const entries = dlq.body.items as {
      rawId: string;
      code: string;
      reason: string;
      status: string;
    }[];
    expect(entries.map((e) => e.rawId).sort()).toEqual(
      [rawIdFor('aws', 'ev-aws-bad-0001'), rawIdFor('aws', 'sns-aws-bad-0002')].sort(),
    );
    for (const entry of entries) {
      expect(entry).toMatchObject({ code: 'invalid_notification', status: 'dead-lettered' });
      expect((await test.get(`/v1/raw/${entry.rawId}`)).status).toBe(200);
    }
  });

  it('retries an empty GetEntitlements with backoff, dead-letters it, and a redrive recovers it', async () => {
    const agreement: SimAgreement = {
      agreementId: 'agmt-agora0000000009001',
      status: 'ACTIVE',
      acceptanceTime: '2026-07-01T00:00:00Z',
      startTime: '2026-07-01T00:00:00Z',
      endTime: '2036-06-30T23:59:59Z',
      acceptorAccountId: '121212121212',
      proposerAccountId: '777788889999',
      offerId: 'offer-cppo9001',
      productId: 'prod-agorademo01',
      terms: [],
      entitlements: [],
      visibleToCaller: false,
    };
    const licenseArn = 'arn:aws:license-manager::111122223333:license:l-agora9001';
    test.stack.awsSimulator.upsertAgreement(agreement);
    test.stack.awsSimulator.upsertEntitlement({
      productCode: 'agorademo01',
      dimension: 'seats',
      customerAwsAccountId: '121212121212',
      licenseArn,
      value: { integerValue: 5 },
      expirationDate: '2036-06-30T23:59:59Z',
    });
    test.stack.awsSimulator.injectFault({ operation: 'GetEntitlements', kind: 'empty', times: 50 });
    const before = test.stack.awsSimulator
      .calls()
      .filter((c) => c.operation === 'GetEntitlements').length;
    const event = {
      version: '0',
      id: 'ev-aws-9001',
      'detail-type': 'License Updated - Manufacturer',
      source: 'aws.agreement-marketplace',
      account: '111122223333',
      time: '2026-07-01T00:00:05Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        agreement: { id: agreement.agreementId },
        product: { code: 'agorademo01', id: 'prod-agorademo01' },
        license: { arn: licenseArn },
        acceptor: { accountId: '121212121212' },
      },
    };
    expect(await deliver(test, event)).toBe(202);
    await test.stack.settle();
    const rawId = rawIdFor('aws', 'ev-aws-9001');
    const entry = (
      (await test.get('/v1/dlq')).body.items as {
        rawId: string;
        code: string;
        attempts: number;
        reason: string;
      }[]
    ).find((e) => e.rawId === rawId);
    expect(entry).toMatchObject({ code: 'source_not_ready', attempts: 5 });
    expect(entry?.reason).toMatch(/GetEntitlements returned no entitlements for l-agora9001/);
    expect(
      test.stack.awsSimulator.calls().filter((c) => c.operation === 'GetEntitlements').length -
        before,
    ).toBe(5);
    const cppo = contractIdFor('aws', 'license/l-agora9001');
    expect((await test.get(`/v1/contracts/${cppo}`)).status).toBe(404);

    test.stack.awsSimulator.clearFaults();
    const redriven = await test.post(`/v1/dlq/${rawId}/redrive`, {}, { roles: ['admin'] });
    expect(redriven.status).toBe(200);
    await test.stack.settle();
    expect((await test.get(`/v1/contracts/${cppo}`)).body).toMatchObject({ status: 'active' });
    expect(
      ((await test.get('/v1/dlq')).body.items as { rawId: string }[]).some(
        (e) => e.rawId === rawId,
      ),
    ).toBe(false);
  });
});

describe('marketplace faults', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('retries throttling and 5xx from the marketplace until the re-read succeeds, losing nothing', async () => {
    // The SDK tries 3 times per delivery; 4 failures make the first delivery fail and the second succeed.
    test.stack.awsSimulator.injectFault({
      operation: 'DescribeAgreement',
      kind: 'throttle',
      times: 2,
    });
    test.stack.awsSimulator.injectFault({
      operation: 'DescribeAgreement',
      kind: 'server-error',
      times: 2,
    });
    const license = sampleFiles('aws').find((s) => s.name.startsWith('03-'));
    expect(await deliver(test, license?.body ?? {})).toBe(202);
    await test.stack.settle();
    expect((await test.get(`/v1/contracts/${DIRECT}`)).body).toMatchObject({ status: 'active' });
    expect((await test.get('/v1/dlq')).body.items).toEqual([]);
    expect(
      test.stack.awsSimulator.calls().filter((c) => c.operation === 'DescribeAgreement').length,
    ).toBeGreaterThanOrEqual(5);
  });
});

describe('impossible transitions', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('records a rejection against the contract and leaves the snapshot as it was', async () => {
    const state = test.stack.awsSimulator.state();
    const cancelled = state.agreements.find((a) => a.agreementId === 'agmt-agora0000000001001');
    if (!cancelled) throw new Error('sample agreement missing');
    test.stack.awsSimulator.upsertAgreement({ ...cancelled, status: 'CANCELLED' });
    const license = sampleFiles('aws').find((s) => s.name.startsWith('03-'));
    await deliver(test, license?.body ?? {});
    await test.stack.settle();
    expect((await test.get(`/v1/contracts/${DIRECT}`)).body).toMatchObject({
      status: 'cancelled',
      version: 1,
    });

    // The marketplace now claims the cancelled agreement is active again: not a legal move.
    test.stack.awsSimulator.upsertAgreement({ ...cancelled, status: 'ACTIVE' });
    await deliver(test, {
      ...(sampleFiles('aws').find((s) => s.name.startsWith('01-'))?.body ?? {}),
      id: 'ev-aws-regress',
    });
    await test.stack.settle();
    const after = await test.get(`/v1/contracts/${DIRECT}`);
    expect(after.body).toMatchObject({ status: 'cancelled', version: 1 });
    const rejections = (await getContainer().contracts.rejections(DIRECT, { limit: 10 })).items;
    expect(rejections).toMatchObject([
      { code: 'invalid_transition', eventTypes: ['ContractActivated'] },
    ]);
    expect(rejections[0]?.message).toMatch(/cannot apply to a contract that is cancelled/);
    expect((await test.get('/v1/dlq')).body.items).toEqual([]);
  });
});

describe('authenticated inlets', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
    for (const sample of sampleFiles('aws').slice(0, 3)) await deliver(test, sample.body);
    await test.stack.settle();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('registration resolves the token and links the buyer to the license contract', async () => {
    const response = await test.post(
      '/v1/marketplace/aws/register',
      'x-amzn-marketplace-token=agora-local-registration-token-1001',
      {
        contentType: 'application/x-www-form-urlencoded',
      },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({
      customerAwsAccountId: '444455556666',
      productCode: 'agorademo01',
      outcome: 'stored',
    });
    await test.stack.settle();
    const direct = await test.get(`/v1/contracts/${DIRECT}`);
    expect(direct.body.refs).toMatchObject({
      customerIdentifier: 'CustA1001',
      customer: 'agorademo01/CustA1001',
    });
    // Now an SNS hint for that customer re-reads the linked contract.
    const sns = sampleFiles('aws').find((s) => s.name.startsWith('05-'));
    await deliver(test, sns?.body ?? {});
    await test.stack.settle();
    expect((await test.get(`/v1/raw/${rawIdFor('aws', 'sns-aws-0005')}`)).body.outcome).toMatch(
      /1 contract\(s\)/,
    );
  });

  it('refuses an invalid or expired registration token with 401 and writes nothing', async () => {
    for (const token of ['not-a-real-token', 'agora-local-registration-token-expired']) {
      const response = await test.post(
        '/v1/marketplace/aws/register',
        `x-amzn-marketplace-token=${token}`,
        {
          contentType: 'application/x-www-form-urlencoded',
        },
      );
      expect(response.status, token).toBe(401);
    }
    const missing = await test.post('/v1/marketplace/aws/register', '', {
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(missing.status).toBe(400);
  });

  it('accepts an SNS message with a valid signature, and refuses forged ones with 401 and no write', async () => {
    const topicArn =
      'arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-agorademo01';
    const signed = await test.post('/local/aws/sns-publish', {
      topicArn,
      message: {
        action: 'entitlement-updated',
        'customer-identifier': 'CustA1001',
        'product-code': 'agorademo01',
      },
    });
    expect(signed.status).toBe(200);
    expect(signed.body).toMatchObject({ outcome: 'stored', enqueued: true, confirmed: false });
    const stored = await test.get(`/v1/raw/${signed.body.rawId}`);
    expect(stored.body).toMatchObject({
      channel: 'aws-sns-https',
      authenticatedAs: `sns:${topicArn}`,
    });

    const envelope = JSON.parse(String(stored.body.body)) as Record<string, string>;
    const forgeries = [
      {
        ...envelope,
        MessageId: 'forged-1',
        Message: envelope.Message?.replace('CustA1001', 'CustEvil'),
      },
      {
        ...envelope,
        MessageId: 'forged-2',
        SigningCertURL: 'https://evil.example/SimpleNotificationService.pem',
      },
      {
        ...envelope,
        MessageId: 'forged-3',
        TopicArn: 'arn:aws:sns:us-east-1:999999999999:somebody-else',
      },
      { ...envelope, MessageId: 'forged-4', Signature: undefined },
    ];
    for (const forged of forgeries) {
      const response = await test.post('/v1/webhooks/aws-sns', JSON.stringify(forged), {
        contentType: 'text/plain',
      });
      expect(response.status, forged.MessageId).toBe(401);
      expect((await test.get(`/v1/raw/${rawIdFor('aws', String(forged.MessageId))}`)).status).toBe(
        404,
      );
    }
    expect(
      (await test.post('/v1/webhooks/aws-sns', 'not json', { contentType: 'text/plain' })).status,
    ).toBe(401);
  });
});
