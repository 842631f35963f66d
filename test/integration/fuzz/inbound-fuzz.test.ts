// Proves with fast-check over real HTTP that forged marketplace calls (SNS, Entra, Google OIDC, buyer tokens) are 401 and write nothing, while authenticated odd Azure and Google bodies are stored and answered 2xx.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawIdFor } from '../../../lib/domain/raw';
import type { AzureSimulator } from '../../../lib/local/simulators/azure-simulator';
import type { GcpSimulator } from '../../../lib/local/simulators/gcp-simulator';
import { startTestStack, type TestStack } from '../pipeline/helpers';
import {
  type Answer,
  contentType,
  deeplyNested,
  expectErrorShape,
  expectNoLeak,
  hostileJson,
  hostileString,
  notJsonText,
  oversizedString,
  send,
  tableDigest,
  truncatedJson,
  wellFormed,
} from './arbitraries';

const SEED = 0x15_1b0d;
const RUNS = 25;
const SNS_TOPIC = 'arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-agorademo01';
const GCP_ACCOUNT = 'E-AGORA-ACCT-0001';

let test: TestStack;
let azure: AzureSimulator;
let gcp: GcpSimulator;

beforeAll(async () => {
  test = await startTestStack({ webhookSweepMs: 3_600_000 });
  azure = test.stack.azureSimulator;
  gcp = test.stack.gcpSimulator;
});

afterAll(async () => {
  await test?.stack.stop();
});

const digest = () => tableDigest(test.stack.dynamodbEndpoint, test.stack.tableName);
const adminGet = (path: string) => test.get(path, ['admin']);

function post(path: string, body: string, headers: Record<string, string>): Promise<Answer> {
  return send(test.stack.url, { method: 'POST', path, body, headers });
}

function expect401(answer: Answer, what: string): void {
  const { code } = expectErrorShape(answer, what);
  expect([answer.status, code], `${what} → ${answer.text.slice(0, 300)}`).toEqual([
    401,
    'unauthorized',
  ]);
}

/** Any body a marketplace might (mis)send: hostile text, JSON of any shape, broken or deep JSON. */
const oddBody: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  notJsonText,
  oversizedString,
  hostileJson.map((v) => JSON.stringify(v) ?? 'null'),
  truncatedJson(hostileJson),
  deeplyNested,
  fc
    .record({
      id: fc.oneof(hostileString, fc.uuid()),
      action: hostileJson,
      subscriptionId: hostileJson,
    })
    .map((v) => JSON.stringify(v)),
);

describe('AWS SNS over HTTPS: forged or altered messages', () => {
  let envelope: Record<string, unknown>;

  beforeAll(async () => {
    const signed = await test.post('/local/aws/sns-publish', {
      topicArn: SNS_TOPIC,
      message: {
        action: 'entitlement-updated',
        'customer-identifier': 'CustFuzz',
        'product-code': 'agorademo01',
      },
    });
    expect(signed.status).toBe(200);
    const stored = await adminGet(`/v1/raw/${String(signed.body.rawId)}`);
    envelope = JSON.parse(String(stored.body.body)) as Record<string, unknown>;
  });

  it('accepts the genuine message again as a duplicate (control: the alterations below are what fail)', async () => {
    const answer = await post('/v1/webhooks/aws-sns', JSON.stringify(envelope), {
      'content-type': 'text/plain',
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ outcome: 'duplicate' });
  });

  it('refuses every altered signed field, signature or certificate URL with 401, writing nothing', async () => {
    const before = await digest();
    const signedFields = [
      'Message',
      'MessageId',
      'Timestamp',
      'TopicArn',
      'Type',
      'Signature',
      'SignatureVersion',
      'SigningCertURL',
    ];
    const replacement = fc.oneof(
      hostileString,
      fc.constantFrom(
        `${test.stack.url}/local/sns/cert.pem?x=1`,
        `${test.stack.url}/v1/me`,
        'http://127.0.0.1:1/cert.pem',
        'https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService.pem',
        'arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-agorademo01',
        'SubscriptionConfirmation',
        'UnsubscribeConfirmation',
        '2',
        new Date().toISOString(),
      ),
      fc.base64String({ minLength: 4, maxLength: 344 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...signedFields), replacement, async (field, value) => {
        fc.pre(envelope[field] !== value);
        const forged = { ...envelope, [field]: value };
        const answer = await post('/v1/webhooks/aws-sns', JSON.stringify(forged), {
          'content-type': 'text/plain',
        });
        const what = `SNS ${field}=${JSON.stringify(value.slice(0, 80))}`;
        expect401(answer, what);
        const messageId = String(forged.MessageId);
        if (
          messageId !== envelope.MessageId &&
          wellFormed(messageId) === messageId &&
          messageId !== ''
        )
          expect((await adminGet(`/v1/raw/${rawIdFor('aws', messageId)}`)).status, what).toBe(404);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(await digest()).toEqual(before);
  });
});

describe('buyer tokens: AWS registration, Azure landing, Google sign-up', () => {
  it('refuses a made-up AWS registration token with 401 (or 400 when malformed), writing nothing', async () => {
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostileString, fc.base64String({ minLength: 1, maxLength: 400 })),
        async (token) => {
          const body = new URLSearchParams({
            'x-amzn-marketplace-token': wellFormed(token),
          }).toString();
          const answer = await post('/v1/marketplace/aws/register', body, {
            'content-type': 'application/x-www-form-urlencoded',
          });
          const what = `register token=${JSON.stringify(token.slice(0, 60))}`;
          expect(answer.status, `${what} → ${answer.text.slice(0, 200)}`).toBeGreaterThanOrEqual(
            400,
          );
          expect(answer.status, what).toBeLessThan(500);
          const { code } = expectErrorShape(answer, what);
          expect(['unauthorized', 'validation_failed'], what).toContain(code);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    expect(await digest()).toEqual(before);
  });

  it('refuses a made-up Azure landing token (printable ASCII) with 401, writing nothing', async () => {
    // Printable ASCII tokens reach Microsoft and are refused there; anything else is refused
    // at validation (400, test/integration/http/bad-input-regressions.test.ts).
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 300 }),
          fc.base64String({ minLength: 1, maxLength: 400 }),
        ),
        async (token) => {
          fc.pre(/^[\x21-\x7e]+$/.test(token));
          const answer = await send(test.stack.url, {
            method: 'GET',
            path: '/v1/marketplace/azure/landing',
            search: new URLSearchParams({ token }).toString(),
          });
          expect401(answer, `landing token=${JSON.stringify(token.slice(0, 60))}`);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    expect(await digest()).toEqual(before);
  });

  it('refuses forged Google sign-up tokens with 401, approving nothing at Google and writing nothing', async () => {
    const before = await digest();
    const approvalsBefore = JSON.stringify(gcp.state().accounts);
    const forgedToken = fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 300 }),
      fc
        .constantFrom(
          { signer: 'attacker' as const },
          { kid: 'no-such-key' },
          { ttlSeconds: -600 },
          { audience: 'evil.example' },
          { claims: { iss: 'https://accounts.google.com' } },
          { claims: { sub: undefined } },
          { claims: { iss: undefined } },
        )
        .map((overrides) => ({ overrides })),
    );
    await fc.assert(
      fc.asyncProperty(forgedToken, async (forged) => {
        const token =
          typeof forged === 'string'
            ? forged
            : await gcp.mintSignupToken({ accountId: GCP_ACCOUNT, ...forged.overrides });
        const body = new URLSearchParams({ 'x-gcp-marketplace-token': token }).toString();
        const answer = await post('/v1/marketplace/gcp/signup', body, {
          'content-type': 'application/x-www-form-urlencoded',
        });
        expect401(answer, `signup ${JSON.stringify(forged).slice(0, 100)}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(JSON.stringify(gcp.state().accounts)).toBe(approvalsBefore);
    expect(await digest()).toEqual(before);
  });
});

describe('Azure fulfillment webhook', () => {
  const forgedAzure = fc.constantFrom(
    'none',
    'not-a-jwt',
    'attacker-key',
    'expired',
    'wrong-audience',
    'wrong-tenant',
    'wrong-appid',
    'no-exp',
  );

  async function azureAuthorization(kind: string): Promise<string | null> {
    const now = Math.floor(Date.now() / 1000);
    switch (kind) {
      case 'none':
        return null;
      case 'not-a-jwt':
        return 'Bearer not-a-jwt';
      case 'attacker-key':
        return `Bearer ${await azure.mintWebhookToken({}, { signWith: 'attacker' })}`;
      case 'expired':
        return `Bearer ${await azure.mintWebhookToken({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 })}`;
      case 'wrong-audience':
        return `Bearer ${await azure.mintWebhookToken({ aud: 'api://someone-else' })}`;
      case 'wrong-tenant':
        return `Bearer ${await azure.mintWebhookToken({ tid: '00000000-0000-0000-0000-000000000bad' })}`;
      case 'wrong-appid':
        return `Bearer ${await azure.mintWebhookToken({ appid: '00000000-0000-0000-0000-000000000bad' })}`;
      default:
        return `Bearer ${await azure.mintWebhookToken({ exp: undefined })}`;
    }
  }

  it('refuses unauthenticated deliveries of any body with 401, writing nothing', async () => {
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(forgedAzure, oddBody, contentType, async (kind, body, type) => {
        const authorization = await azureAuthorization(kind);
        const answer = await post('/v1/webhooks/azure', body, {
          'content-type': type,
          ...(authorization === null ? {} : { authorization }),
        });
        expect401(answer, `azure ${kind} body=${JSON.stringify(body.slice(0, 80))}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(await digest()).toEqual(before);
  });

  it('stores an authenticated delivery whatever its body, answers 2xx and dead-letters it', async () => {
    const stored = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(oddBody, contentType, async (body, type) => {
        const answer = await post('/v1/webhooks/azure', body, {
          'content-type': type,
          authorization: `Bearer ${await azure.mintWebhookToken()}`,
        });
        const what = `azure body=${JSON.stringify(body.slice(0, 80))}`;
        expect(answer.status, `${what} → ${answer.text.slice(0, 200)}`).toBe(200);
        expectNoLeak(answer, what);
        const result = answer.json as { rawId: string; outcome: string; enqueued: boolean };
        expect(['stored', 'duplicate'], what).toContain(result.outcome);
        const raw = await adminGet(`/v1/raw/${result.rawId}`);
        expect(raw.status, what).toBe(200);
        // Kept exactly as received (the wire carries UTF-8: a lone surrogate arrives as U+FFFD).
        if (result.outcome === 'stored') expect(raw.body.body, what).toBe(wellFormed(body));
        stored.set(result.rawId, body);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    await test.stack.settle();
    const dlq = (await adminGet('/v1/dlq?limit=200')).body.items as {
      rawId: string;
      status: string;
      code: string;
    }[];
    for (const [rawId, body] of stored) {
      expect(
        dlq.find((e) => e.rawId === rawId),
        `not dead-lettered: ${JSON.stringify(body.slice(0, 80))}`,
      ).toMatchObject({ status: 'dead-lettered', code: 'invalid_notification' });
    }
  });
});

describe('Google Cloud Pub/Sub push', () => {
  const forgedGoogle = fc.constantFrom(
    'none',
    'garbage',
    'attacker-key',
    'unknown-kid',
    'expired',
    'wrong-audience',
    'wrong-service-account',
  );

  async function googleAuthorization(kind: string): Promise<string | null> {
    switch (kind) {
      case 'none':
        return null;
      case 'garbage':
        return 'Bearer eyJhbGciOiJub25lIn0.e30.';
      case 'attacker-key':
        return `Bearer ${await gcp.mintPushToken({ signer: 'attacker' })}`;
      case 'unknown-kid':
        return `Bearer ${await gcp.mintPushToken({ kid: 'no-such-key' })}`;
      case 'expired':
        return `Bearer ${await gcp.mintPushToken({ ttlSeconds: -600 })}`;
      case 'wrong-audience':
        return `Bearer ${await gcp.mintPushToken({ audience: 'https://evil.example/push' })}`;
      default:
        return `Bearer ${await gcp.mintPushToken({ email: 'attacker@evil.iam.gserviceaccount.com' })}`;
    }
  }

  /** Push envelopes with odd message data, besides any odd body. */
  const pushBody = fc.oneof(
    oddBody,
    fc
      .record({
        data: fc.oneof(hostileString, fc.base64String({ maxLength: 200 })),
        messageId: hostileString,
      })
      .map(({ data, messageId }) =>
        JSON.stringify({
          message: { data, messageId, attributes: {} },
          subscription: 'projects/x/subscriptions/y',
        }),
      ),
  );

  it('refuses unauthenticated pushes with 401, writing nothing', async () => {
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(forgedGoogle, pushBody, async (kind, body) => {
        const authorization = await googleAuthorization(kind);
        const answer = await post('/v1/webhooks/gcp', body, {
          'content-type': 'application/json',
          ...(authorization === null ? {} : { authorization }),
        });
        expect401(answer, `gcp ${kind} body=${JSON.stringify(body.slice(0, 80))}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(await digest()).toEqual(before);
  });

  it('stores an authenticated push whatever its body and acknowledges it (2xx)', async () => {
    await fc.assert(
      fc.asyncProperty(pushBody, async (body) => {
        const answer = await post('/v1/webhooks/gcp', body, {
          'content-type': 'application/json',
          authorization: `Bearer ${await gcp.mintPushToken()}`,
        });
        const what = `gcp body=${JSON.stringify(body.slice(0, 80))}`;
        expect(answer.status, `${what} → ${answer.text.slice(0, 200)}`).toBe(200);
        expectNoLeak(answer, what);
        const result = answer.json as { rawId: string; outcome: string };
        expect(['stored', 'duplicate'], what).toContain(result.outcome);
        expect((await adminGet(`/v1/raw/${result.rawId}`)).status, what).toBe(200);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    await test.stack.settle();
  });
});

describe('local AWS inlets (EventBridge and SQS stand-ins)', () => {
  it('answers any JSON message on the SQS inlet with 202 and per-record outcomes, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(hostileJson, async (message) => {
        const text = JSON.stringify(message) ?? 'null';
        const answer = await post('/local/aws/sqs', text, { 'content-type': 'application/json' });
        const what = `sqs ${text.slice(0, 80)}`;
        expect(answer.status, `${what} → ${answer.text.slice(0, 200)}`).toBe(202);
        expectNoLeak(answer, what);
        expect(answer.json, what).toMatchObject({ batchItemFailures: expect.any(Array) });
      }),
      { seed: SEED, numRuns: 15 },
    );
    await test.stack.settle();
  });
});
