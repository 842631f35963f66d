/**
 * The local stack's identity provider: a development key pair generated once in the data
 * folder, its public half served as a JWKS, and tokens minted with it (`agora token`). The
 * verification path is the real one (jose, JWKS over HTTP); only the issuer is local.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from 'jose';
import type { Role } from '../http/auth';

export const LOCAL_JWT_ISSUER = 'https://agora.local/dev';
export const LOCAL_JWT_AUDIENCE = 'agora-api';
export const LOCAL_JWKS_PATH = '/.well-known/jwks.json';
export const DEV_TOKEN_TTL_SECONDS_DEFAULT = 12 * 3600;
export const DEV_TOKEN_TTL_SECONDS_MAX = 30 * 24 * 3600;
const ALGORITHM = 'ES256';

export interface DevKeys {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly kid: string;
}

function keyFile(dataDir: string): string {
  return join(dataDir, 'keys', 'dev-signing-key.jwk.json');
}

/** Loads the data folder's key pair, creating it on first use (private key file mode 0600). */
export async function ensureDevKeys(dataDir: string): Promise<DevKeys> {
  const file = keyFile(dataDir);
  if (existsSync(file)) {
    const privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    const { d: _private, ...publicJwk } = privateJwk;
    return { privateJwk, publicJwk, kid: String(privateJwk.kid) };
  }
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM, use: 'sig' };
  mkdirSync(join(dataDir, 'keys'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { privateJwk, publicJwk: { ...publicJwk, kid, alg: ALGORITHM, use: 'sig' }, kid };
}

export function jwksDocument(keys: DevKeys): { keys: JWK[] } {
  return { keys: [keys.publicJwk] };
}

export interface DevTokenRequest {
  readonly roles: readonly Role[];
  readonly partnerId?: string | undefined;
  readonly subject?: string | undefined;
  readonly ttlSeconds?: number | undefined;
  /** Seconds since the epoch; tests pin it. */
  readonly nowSeconds: number;
}

export async function mintDevToken(
  keys: DevKeys,
  request: DevTokenRequest,
): Promise<{ token: string; expiresAt: string; claims: Record<string, unknown> }> {
  const ttl = Math.min(
    request.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS_DEFAULT,
    DEV_TOKEN_TTL_SECONDS_MAX,
  );
  const claims: Record<string, unknown> = {
    roles: [...request.roles],
    ...(request.partnerId ? { partner_id: request.partnerId } : {}),
  };
  const subject =
    request.subject ??
    `dev-${request.roles.join('-')}${request.partnerId ? `-${request.partnerId}` : ''}`;
  const key = await importJWK(keys.privateJwk, ALGORITHM);
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, kid: keys.kid, typ: 'JWT' })
    .setIssuer(LOCAL_JWT_ISSUER)
    .setAudience(LOCAL_JWT_AUDIENCE)
    .setSubject(subject)
    .setIssuedAt(request.nowSeconds)
    .setExpirationTime(request.nowSeconds + ttl)
    .setJti(crypto.randomUUID())
    .sign(key);
  return {
    token,
    expiresAt: new Date((request.nowSeconds + ttl) * 1000).toISOString(),
    claims: { ...claims, sub: subject, iss: LOCAL_JWT_ISSUER, aud: LOCAL_JWT_AUDIENCE },
  };
}
