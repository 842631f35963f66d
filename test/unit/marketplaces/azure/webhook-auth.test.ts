// Proves the Azure webhook verifier accepts exactly Entra tokens signed by a key of our tenant's
// JWKS, for one of our offers' apps (aud), of that offer's tenant (tid), issued to the marketplace
// app (appid or azp), unexpired; everything else is an UnauthorizedError — with keys made in the
// test and the JWKS served by a stubbed fetch (the verifier fetches by URL), so no network.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SigningKeysUnavailableError, UnauthorizedError } from '../../../../lib/app/errors';
import { httpErrorFor } from '../../../../lib/http/errors';
import {
  AZURE_MARKETPLACE_APP_ID,
  type AzureOfferConfig,
} from '../../../../lib/marketplaces/azure/config';
import {
  AZURE_JWT_CLOCK_TOLERANCE_SECONDS,
  AzureWebhookVerifier,
} from '../../../../lib/marketplaces/azure/webhook-auth';

const LOGIN = 'https://login.example.test';
const TENANT = '7f3c1e2d-0000-4a5b-9c6d-000000000001';
const APP = '0a1b2c3d-1111-2222-3333-444455556666';
const OTHER_TENANT = '7f3c1e2d-0000-4a5b-9c6d-000000000002';
const OTHER_APP = '0a1b2c3d-1111-2222-3333-777788889999';

const OFFERS: AzureOfferConfig[] = [
  { offerId: 'agora-saas', tenantId: TENANT, appId: APP, plans: [] },
  { offerId: 'agora-other', tenantId: OTHER_TENANT, appId: OTHER_APP, plans: [] },
];

interface Key {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function makeKey(): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, jwk: { ...jwk, kid, use: 'sig', alg: 'RS256' } };
}

let entra: Key;
let attacker: Key;

beforeAll(async () => {
  entra = await makeKey();
  attacker = await makeKey();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Serves the JWKS of `keys` for any tenant path; records the URLs asked for. */
function serveJwks(
  keys: () => JWK[],
  respond?: (url: string) => Response | Promise<Response>,
): string[] {
  const urls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string | URL | Request) => {
      const url = input instanceof Request ? input.url : String(input);
      urls.push(url);
      if (respond) return respond(url);
      return new Response(JSON.stringify({ keys: keys() }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }),
  );
  return urls;
}

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = {
    aud: APP,
    iss: `https://sts.windows.net/${TENANT}/`,
    iat: now,
    nbf: now,
    exp: now + 3600,
    appid: AZURE_MARKETPLACE_APP_ID,
    sub: 'sp-marketplace',
    oid: 'sp-marketplace',
    tid: TENANT,
    ver: '1.0',
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base as JWTPayload;
}

function sign(
  payload: JWTPayload,
  key: Key = entra,
  header: { kid?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: header.alg ?? 'RS256', typ: 'JWT', kid: header.kid ?? key.kid })
    .sign(key.privateKey);
}

function verifier(onKeyFetchFailure?: (error: unknown) => void) {
  return new AzureWebhookVerifier({ offers: OFFERS, loginBaseUrl: LOGIN }, onKeyFetchFailure);
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthorizedError);
    return (error as Error).message;
  }
  throw new Error('expected the token to be refused');
}

describe('AzureWebhookVerifier: what it accepts', () => {
  it("accepts Microsoft's token and fetches the keys of the token's tenant", async () => {
    const urls = serveJwks(() => [entra.jwk]);
    const identity = await verifier().verify(`Bearer ${await sign(claims())}`);
    expect(identity).toEqual({ tenantId: TENANT, appId: APP, subject: 'sp-marketplace' });
    expect(urls).toEqual([`${LOGIN}/${TENANT}/discovery/v2.0/keys`]);
  });

  it("accepts each configured offer's tenant and app, and caches each tenant's keys", async () => {
    const urls = serveJwks(() => [entra.jwk]);
    const v = verifier();
    for (let round = 0; round < 2; round += 1) {
      expect(await v.verify(`Bearer ${await sign(claims())}`)).toMatchObject({ appId: APP });
      expect(
        await v.verify(`bearer  ${await sign(claims({ aud: OTHER_APP, tid: OTHER_TENANT }))}`),
      ).toEqual({ tenantId: OTHER_TENANT, appId: OTHER_APP, subject: 'sp-marketplace' });
    }
    expect(urls.sort()).toEqual(
      [
        `${LOGIN}/${OTHER_TENANT}/discovery/v2.0/keys`,
        `${LOGIN}/${TENANT}/discovery/v2.0/keys`,
      ].sort(),
    );
  });

  it('accepts a v2 token that names the marketplace app in azp instead of appid', async () => {
    serveJwks(() => [entra.jwk]);
    const token = await sign(
      claims({
        appid: undefined,
        azp: AZURE_MARKETPLACE_APP_ID,
        ver: '2.0',
        iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      }),
    );
    expect(await verifier().verify(`Bearer ${token}`)).toMatchObject({ tenantId: TENANT });
  });

  it('does not pin the issuer (v1 and v2 issuers differ)', async () => {
    serveJwks(() => [entra.jwk]);
    for (const iss of [`https://login.microsoftonline.com/${TENANT}/v2.0`, undefined]) {
      expect(await verifier().verify(`Bearer ${await sign(claims({ iss }))}`)).toMatchObject({
        appId: APP,
      });
    }
  });

  it(`tolerates ${AZURE_JWT_CLOCK_TOLERANCE_SECONDS} s of clock skew`, async () => {
    serveJwks(() => [entra.jwk]);
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(claims({ exp: now - 20, nbf: now + 20, iat: now - 3600 }));
    expect(await verifier().verify(`Bearer ${token}`)).toMatchObject({ tenantId: TENANT });
  });
});

describe('AzureWebhookVerifier: what it refuses', () => {
  it('refuses a missing, empty, non-bearer or oversized Authorization header without a fetch', async () => {
    const urls = serveJwks(() => [entra.jwk]);
    const token = await sign(claims());
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Basic ${token}`,
      token,
      `Bearer ${token} extra`,
      `Bearer ${'a'.repeat(8_193)}`,
    ]) {
      expect(await refusal(verifier().verify(header)), String(header).slice(0, 20)).toBe(
        'Missing Entra ID bearer token',
      );
    }
    expect(urls).toEqual([]);
  });

  it('refuses a bearer that is not a JWT', async () => {
    serveJwks(() => [entra.jwk]);
    for (const bad of ['not-a-jwt', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30'])
      expect(await refusal(verifier().verify(`Bearer ${bad}`)), bad).toBe('Malformed bearer token');
  });

  it('refuses a token of a tenant that is not ours before fetching any key', async () => {
    const urls = serveJwks(() => [entra.jwk]);
    await fc.assert(
      fc.asyncProperty(
        fc.uuid().filter((t) => t !== TENANT && t !== OTHER_TENANT),
        async (tid) => {
          expect(await refusal(verifier().verify(`Bearer ${await sign(claims({ tid }))}`))).toBe(
            'Token tenant (tid) is not one of our offers',
          );
        },
      ),
      { numRuns: 20, seed: 7 },
    );
    for (const tid of [undefined, 42, ''])
      expect(await refusal(verifier().verify(`Bearer ${await sign(claims({ tid }))}`))).toBe(
        'Token tenant (tid) is not one of our offers',
      );
    expect(urls).toEqual([]);
  });

  it('refuses a token signed by a key that is not in the JWKS', async () => {
    serveJwks(() => [entra.jwk]);
    // The attacker reuses the real kid: the key is found and the signature fails.
    expect(
      await refusal(
        verifier().verify(`Bearer ${await sign(claims(), attacker, { kid: entra.kid })}`),
      ),
    ).toBe('Invalid Entra ID token (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
    // Or its own kid: no key matches.
    expect(await refusal(verifier().verify(`Bearer ${await sign(claims(), attacker)}`))).toBe(
      'Invalid Entra ID token (ERR_JWKS_NO_MATCHING_KEY)',
    );
  });

  it('refuses a signed token whose payload was altered', async () => {
    serveJwks(() => [entra.jwk]);
    const [header, , signature] = (await sign(claims())).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ aud: APP, sub: 'someone-else' }))).toString(
      'base64url',
    );
    expect(await refusal(verifier().verify(`Bearer ${header}.${forged}.${signature}`))).toBe(
      'Invalid Entra ID token (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)',
    );
  });

  it('refuses an HS256 token "signed" with the public key (algorithm confusion)', async () => {
    serveJwks(() => [entra.jwk]);
    const secret = new TextEncoder().encode(JSON.stringify(entra.jwk));
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: entra.kid })
      .sign(secret);
    expect(await refusal(verifier().verify(`Bearer ${token}`))).toMatch(
      /^Invalid Entra ID token \(ERR_/,
    );
  });

  it('refuses an expired token, a token not yet valid, and one without exp', async () => {
    serveJwks(() => [entra.jwk]);
    const now = Math.floor(Date.now() / 1000);
    const late = AZURE_JWT_CLOCK_TOLERANCE_SECONDS + 30;
    expect(
      await refusal(
        verifier().verify(
          `Bearer ${await sign(claims({ iat: now - 7200, nbf: now - 7200, exp: now - late }))}`,
        ),
      ),
    ).toBe('Invalid Entra ID token (ERR_JWT_EXPIRED)');
    expect(
      await refusal(verifier().verify(`Bearer ${await sign(claims({ nbf: now + late }))}`)),
    ).toBe('Invalid Entra ID token (ERR_JWT_CLAIM_VALIDATION_FAILED)');
    expect(
      await refusal(verifier().verify(`Bearer ${await sign(claims({ exp: undefined }))}`)),
    ).toBe('Invalid Entra ID token (ERR_JWT_CLAIM_VALIDATION_FAILED)');
  });

  it("refuses a token for another audience, including another offer's app in our tenant", async () => {
    serveJwks(() => [entra.jwk]);
    for (const aud of [randomUUID(), OTHER_APP, AZURE_MARKETPLACE_APP_ID, undefined]) {
      expect(
        await refusal(verifier().verify(`Bearer ${await sign(claims({ aud }))}`)),
        String(aud),
      ).toBe('Invalid Entra ID token (ERR_JWT_CLAIM_VALIDATION_FAILED)');
    }
  });

  it('refuses a token not issued to the marketplace app (appid, else azp)', async () => {
    serveJwks(() => [entra.jwk]);
    const cases: Record<string, unknown>[] = [
      { appid: randomUUID() },
      { appid: APP },
      { appid: undefined },
      { appid: undefined, azp: randomUUID() },
      // appid wins over azp: a wrong appid is not rescued by a right azp.
      { appid: randomUUID(), azp: AZURE_MARKETPLACE_APP_ID },
      { appid: AZURE_MARKETPLACE_APP_ID.toUpperCase() },
    ];
    for (const overrides of cases) {
      expect(
        await refusal(verifier().verify(`Bearer ${await sign(claims(overrides))}`)),
        JSON.stringify(overrides),
      ).toBe('Token was not issued to the marketplace app (appid/azp)');
    }
  });

  it('answers "retry" (503, not 401) when the signing keys cannot be fetched, and reports it', async () => {
    // A 4xx would make Microsoft reject the customer's change; a 5xx makes it retry.
    const token = await sign(claims());
    for (const respond of [
      () => new Response('oops', { status: 500 }),
      () => Promise.reject(new TypeError('fetch failed')),
      () => new Response('not json', { status: 200 }),
      () => new Response('{"keys":"not a list"}', { status: 200 }),
    ]) {
      serveJwks(() => [], respond);
      const failures: unknown[] = [];
      const error = await verifier((e) => failures.push(e))
        .verify(`Bearer ${token}`)
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(SigningKeysUnavailableError);
      expect(httpErrorFor(error, 'req-1').status).toBe(503);
      expect(failures).toHaveLength(1);
      vi.unstubAllGlobals();
    }
  });
});
