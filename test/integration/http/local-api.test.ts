// Proves, over real HTTP against the local stack (handlers from functions/, DynamoDB Local, the
// development JWKS), that public routes answer, tokens are verified for real (wrong key,
// audience, expiry → 401; missing role → 403) and errors have the documented shape.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ensureDevKeys,
  LOCAL_JWT_AUDIENCE,
  LOCAL_JWT_ISSUER,
  mintDevToken,
} from '../../../lib/local/dev-keys';
import { findFreePort } from '../../../lib/local/dynamodb-local';
import { type LocalStack, startLocalStack } from '../../../lib/local/stack';
import { resetContainer } from '../../../lib/runtime/container';

let stack: LocalStack;
let dataDir: string;
const now = () => Math.floor(Date.now() / 1000);

async function get(path: string, token?: string) {
  const response = await fetch(`${stack.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function devToken(
  roles: ('seller' | 'finance' | 'partner' | 'service' | 'admin')[],
  partnerId?: string,
) {
  const keys = await ensureDevKeys(dataDir);
  return (await mintDevToken(keys, { roles, partnerId, nowSeconds: now() })).token;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'agora-api-'));
  stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamodbEndpoint: inject('dynamoEndpoint'),
    tableName: `agora-api-${Date.now()}`,
    logLevel: 'ERROR',
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('public routes', () => {
  it('GET /health answers 200 with the local store when the table answers', async () => {
    const health = await get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      store: 'dynamodb-local',
      table: stack.tableName,
    });
    expect(health.headers.get('x-request-id')).toBeTruthy();
  });

  it('GET /openapi.json describes every route, with bearer auth and roles', async () => {
    const doc = await get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const paths = doc.body.paths as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(['/health', '/openapi.json', '/v1/me']),
    );
    expect(paths['/v1/me']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(paths['/health']?.get?.security).toEqual([]);
  });

  it('serves the development JWKS', async () => {
    const jwks = await get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect((jwks.body.keys as unknown[]).length).toBe(1);
  });

  it('answers unknown paths with 404 and wrong methods with 405, in the error shape', async () => {
    const missing = await get('/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
    const wrongMethod = await fetch(`${stack.url}/v1/me`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });
});

describe('GET /v1/me and authentication', () => {
  it('accepts a token minted by `agora token` and returns the identity', async () => {
    const me = await get('/v1/me', await devToken(['seller']));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      subject: 'dev-seller',
      issuer: LOCAL_JWT_ISSUER,
      roles: ['seller'],
      partnerId: null,
    });
  });

  it('carries the partner id of a partner token', async () => {
    const me = await get('/v1/me', await devToken(['partner'], 'P-100'));
    expect(me.body).toMatchObject({ roles: ['partner'], partnerId: 'P-100' });
  });

  it('refuses a missing or malformed token with 401 and WWW-Authenticate', async () => {
    const none = await get('/v1/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.body).toMatchObject({ error: { code: 'unauthorized', details: [] } });
    expect((await get('/v1/me', 'not-a-jwt')).status).toBe(401);
  });

  it('refuses the same claims signed with another key (401)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = (await ensureDevKeys(dataDir)).kid; // even claiming the real key id
    const forged = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(LOCAL_JWT_ISSUER)
      .setAudience(LOCAL_JWT_AUDIENCE)
      .setSubject('dev-admin')
      .setIssuedAt(now())
      .setExpirationTime(now() + 600)
      .sign(privateKey);
    expect((await exportJWK(publicKey)).kty).toBe('EC');
    const result = await get('/v1/me', forged);
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({
      error: { code: 'unauthorized', message: 'Token signature is invalid' },
    });
  });

  it('refuses expired tokens and tokens for another audience (401)', async () => {
    const keys = await ensureDevKeys(dataDir);
    const expired = await mintDevToken(keys, {
      roles: ['seller'],
      nowSeconds: now() - 7200,
      ttlSeconds: 60,
    });
    expect((await get('/v1/me', expired.token)).body).toMatchObject({
      error: { message: 'Token expired' },
    });
    const { importJWK } = await import('jose');
    const otherAudience = await new SignJWT({ roles: ['seller'] })
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
      .setIssuer(LOCAL_JWT_ISSUER)
      .setAudience('someone-else')
      .setSubject('x')
      .setExpirationTime(now() + 600)
      .sign(await importJWK(keys.privateJwk, 'ES256'));
    expect((await get('/v1/me', otherAudience)).status).toBe(401);
  });

  it('refuses a valid token with no known role (403)', async () => {
    const keys = await ensureDevKeys(dataDir);
    const { importJWK } = await import('jose');
    const noRole = await new SignJWT({ roles: ['visitor'] })
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
      .setIssuer(LOCAL_JWT_ISSUER)
      .setAudience(LOCAL_JWT_AUDIENCE)
      .setSubject('visitor')
      .setExpirationTime(now() + 600)
      .sign(await importJWK(keys.privateJwk, 'ES256'));
    const result = await get('/v1/me', noRole);
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('answers 401 (not 500) when the signing keys cannot be fetched', async () => {
    const token = await devToken(['seller']);
    const saved = process.env.AGORA_JWKS_URL;
    // a port that was just free: the key fetch is refused
    process.env.AGORA_JWKS_URL = `http://127.0.0.1:${await findFreePort()}/.well-known/jwks.json`;
    resetContainer();
    try {
      const result = await get('/v1/me', token);
      expect(result.status).toBe(401);
      expect(result.body).toMatchObject({
        error: { message: 'Could not verify the token: signing keys unavailable' },
      });
    } finally {
      process.env.AGORA_JWKS_URL = saved;
      resetContainer();
    }
    expect((await get('/v1/me', token)).status).toBe(200);
  });
});
