// Proves the HTTP platform every endpoint shares, with a test route on real parts (jose
// verification, DynamoDB Local idempotency records): authentication runs before validation,
// all validation problems come back at once, money leaves as strings, Idempotency-Key replays
// or refuses, and 5xx answers never leak internals.
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConflictError } from '../../../lib/app/errors';
import { CurrencySchema, MinorUnitsSchema } from '../../../lib/domain/schemas/primitives';
import { TokenVerifier } from '../../../lib/http/auth';
import { type HttpDeps, httpHandler } from '../../../lib/http/handler';
import { defineRoute } from '../../../lib/http/route';
import { createLogger } from '../../../lib/runtime/logger';
import { DynamoIdempotencyStore } from '../../../lib/store/idempotency-store';
import { freshStore } from '../helpers';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'agora-test';

const echoRoute = defineRoute({
  name: 'post-echo',
  method: 'POST',
  path: '/v1/test/echo',
  summary: 'test route',
  tags: ['test'],
  access: { roles: ['seller'] },
  body: z.object({
    amountMinor: MinorUnitsSchema,
    currency: CurrencySchema,
    mode: z.enum(['ok', 'conflict', 'crash', 'bad-output']).default('ok'),
  }),
  query: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
  response: z.object({ amountMinor: MinorUnitsSchema, currency: z.string(), calls: z.int() }),
  successStatus: 201,
});

let calls = 0;
let deps: HttpDeps;
let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let handler: (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

async function token(roles: string[], subject = 'seller-1'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(subject)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(signingKey);
}

function event(
  body: unknown,
  headers: Record<string, string> = {},
  query?: Record<string, string>,
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /v1/test/echo',
    rawPath: '/v1/test/echo',
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers: { 'content-type': 'application/json', ...headers },
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      requestId: `req-${Math.random()}`,
      http: { method: 'POST', path: '/v1/test/echo' },
    } as APIGatewayProxyEventV2['requestContext'],
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

const context = {
  awsRequestId: 'ctx',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

async function call(e: APIGatewayProxyEventV2) {
  const result = await handler(e, context);
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    body: JSON.parse(String(result.body)),
  };
}

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  const store = await freshStore();
  deps = {
    verifier: new TokenVerifier(
      { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://unused' },
      createLocalJWKSet({ keys: [jwk] }),
    ),
    idempotency: new DynamoIdempotencyStore(store, 3600),
    logger: createLogger('ERROR'),
    clock: { now: () => new Date().toISOString() },
  };
  handler = httpHandler(
    echoRoute,
    () => deps,
    async ({ body }) => {
      calls += 1;
      if (body.mode === 'conflict') throw new ConflictError('state_changed', 'The offer moved on');
      if (body.mode === 'crash') throw new Error('secret table name agora-prod-xyz exploded');
      if (body.mode === 'bad-output')
        return {
          body: { amountMinor: 'not-a-bigint' as unknown as bigint, currency: 'USD', calls },
        };
      return { body: { amountMinor: body.amountMinor * 2n, currency: body.currency, calls } };
    },
  ) as typeof handler;
});

describe('authentication before validation', () => {
  it('answers 401 to an unauthenticated request whatever its body', async () => {
    const result = await call(event('{not json'));
    expect(result.status).toBe(401);
  });

  it('answers 403 to the wrong role before looking at the body', async () => {
    const result = await call(
      event('{not json', { authorization: `Bearer ${await token(['finance'])}` }),
    );
    expect(result.status).toBe(403);
    expect(result.body.error.message).toMatch(/seller/);
  });
});

describe('validation', () => {
  it('reports every problem at once, body and query', async () => {
    const result = await call(
      event(
        { amountMinor: 12.5, currency: 'XXX', mode: 'sideways' },
        { authorization: `Bearer ${await token(['seller'])}` },
        { dryRun: 'maybe' },
      ),
    );
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('validation_failed');
    const paths = result.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining(['body.amountMinor', 'body.currency', 'body.mode', 'query.dryRun']),
    );
  });

  it('refuses a body that is not JSON', async () => {
    const result = await call(
      event('{"amountMinor":', { authorization: `Bearer ${await token(['seller'])}` }),
    );
    expect(result.status).toBe(400);
    expect(result.body.error.details[0]).toMatchObject({ path: 'body', code: 'invalid_json' });
  });

  it('decodes money to bigint and encodes it back as a string', async () => {
    const result = await call(
      event(
        { amountMinor: '9007199254740993', currency: 'USD' },
        { authorization: `Bearer ${await token(['seller'])}` },
      ),
    );
    expect(result.status).toBe(201);
    expect(result.body.amountMinor).toBe('18014398509481986'); // beyond 2^53, exact
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, without running the handler again', async () => {
    const auth = {
      authorization: `Bearer ${await token(['seller'])}`,
      'idempotency-key': 'order-42',
    };
    const first = await call(event({ amountMinor: '100', currency: 'USD' }, auth));
    const before = calls;
    const second = await call(event({ amountMinor: '100', currency: 'USD' }, auth));
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(calls).toBe(before);
  });

  it('refuses the same key with a different body (409) and scopes keys per caller', async () => {
    const auth = {
      authorization: `Bearer ${await token(['seller'])}`,
      'idempotency-key': 'order-43',
    };
    await call(event({ amountMinor: '100', currency: 'USD' }, auth));
    const reused = await call(event({ amountMinor: '101', currency: 'USD' }, auth));
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    const otherCaller = await call(
      event(
        { amountMinor: '101', currency: 'USD' },
        { ...auth, authorization: `Bearer ${await token(['seller'], 'seller-2')}` },
      ),
    );
    expect(otherCaller.status).toBe(201);
  });

  it('releases the key when the request fails, so a retry can run', async () => {
    const auth = {
      authorization: `Bearer ${await token(['seller'])}`,
      'idempotency-key': 'order-44',
    };
    const failed = await call(event({ amountMinor: '1', currency: 'USD', mode: 'conflict' }, auth));
    expect(failed.status).toBe(409);
    expect(failed.body.error).toMatchObject({
      code: 'state_changed',
      message: 'The offer moved on',
    });
    const before = calls;
    const retried = await call(
      event({ amountMinor: '1', currency: 'USD', mode: 'conflict' }, auth),
    );
    expect(retried.status).toBe(409);
    expect(calls).toBe(before + 1);
  });

  it('rejects a malformed key', async () => {
    const result = await call(
      event(
        { amountMinor: '1', currency: 'USD' },
        { authorization: `Bearer ${await token(['seller'])}`, 'idempotency-key': 'x'.repeat(300) },
      ),
    );
    expect(result.status).toBe(400);
  });
});

describe('server errors', () => {
  it('never leak internals: generic message plus the request id', async () => {
    const result = await call(
      event(
        { amountMinor: '1', currency: 'USD', mode: 'crash' },
        { authorization: `Bearer ${await token(['seller'])}`, 'x-request-id': 'trace-123' },
      ),
    );
    expect(result.status).toBe(500);
    expect(result.body.error).toEqual({
      code: 'internal_error',
      message: 'An internal error occurred; quote the request id when reporting it',
      details: [],
      requestId: 'trace-123',
    });
    expect(JSON.stringify(result.body)).not.toMatch(/agora-prod|exploded/);
    expect(result.headers['x-request-id']).toBe('trace-123');
  });

  it('treat a response that breaks its own schema as a bug (500)', async () => {
    const result = await call(
      event(
        { amountMinor: '1', currency: 'USD', mode: 'bad-output' },
        { authorization: `Bearer ${await token(['seller'])}` },
      ),
    );
    expect(result.status).toBe(500);
  });
});
