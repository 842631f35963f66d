// Shared fast-check arbitraries and request helpers for the fuzz suites: hostile strings, broken
// JSON, route-aware invalid bodies/queries/paths, forged tokens and the leak and write checks.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { expect } from 'vitest';
import type { z } from 'zod';
import { ROLES, type Role } from '../../../lib/http/auth';
import { REQUEST_BODY_BYTES_MAX } from '../../../lib/http/handler';
import type { RouteDefinition } from '../../../lib/http/route';
import {
  type DevKeys,
  LOCAL_JWT_AUDIENCE,
  LOCAL_JWT_ISSUER,
  mintDevToken,
} from '../../../lib/local/dev-keys';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../lib/store/dynamo-client';
import { EVENTS_DIR } from '../pipeline/helpers';

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

/** Pieces that break naive string handling: controls, lone surrogates, bidi, combining, emoji. */
export const HOSTILE_PIECES = [
  '\u0000',
  '\u0001',
  '\u001b[31m',
  '\ud800',
  '\udfff',
  '\udbff\udbff',
  '\u202e',
  '\u202d',
  '\u2066',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\u2028',
  '\u2029',
  '\u0085',
  'e\u0301\u0301\u0301\u0301',
  '\u0338\u0336\u0335',
  '😀',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '𝕬',
  'ＡＢＣ',
  'İı',
  'ß',
  'Ω',
  '\r\n',
  '\t',
  ' ',
  '../',
  '..\\',
  '%00',
  '%2e%2e%2f',
  '%',
  '"',
  "'",
  '\\',
  '`',
  '<script>alert(1)</script>',
  '$' + '{7*7}',
  '{{7*7}}',
  "' OR '1'='1",
  'NaN',
  'null',
  'undefined',
  '-1',
  '1e309',
  '0x10',
  '__proto__',
  'constructor',
  '#',
  '?',
  '&',
  '=',
] as const;

/** Characters that cannot be percent-encoded: a lone surrogate becomes U+FFFD on the wire. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** What a string becomes once encoded as UTF-8 (String.prototype.toWellFormed). */
export function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\ufffd');
}

/** A short string made of hostile pieces and random code points (lone surrogates included). */
export const hostileString: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }) },
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''));

/** Longer than any documented string limit (128, 256, 300, 1000, 4096, 8192...). */
export const oversizedString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(129, 257, 301, 1_001, 2_049, 4_097, 8_193), hostileString)
  .map(([length, piece]) => piece.repeat(Math.ceil(length / Math.max(1, piece.length))))
  .map((s) => (s.length > 20_000 ? s.slice(0, 20_000) : s));

/**
 * Node's HTTP parser refuses a request line and headers above 16 KB (431, before any handler):
 * values that go into the URL stay below this many bytes once percent-encoded.
 */
export const URL_VALUE_BYTES_MAX = 5_000;

/** Longer than the documented limits of path and query values, yet sendable in a URL. */
export const oversizedUrlValue: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(129, 257, 301, 1_001, 4_097), hostileString)
  .map(([length, piece]) => {
    const text = piece.repeat(Math.ceil(length / Math.max(1, piece.length))).slice(0, length);
    // Multi-byte text grows up to 9x when percent-encoded: fall back to ASCII of the same length.
    return encodeURIComponent(wellFormed(text)).length <= URL_VALUE_BYTES_MAX
      ? text
      : 'x'.repeat(length);
  });

/** A JSON text nested `depth` levels deep (arrays or objects). */
export function nestedJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export const deeplyNested: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(64, 1_000, 20_000), fc.constantFrom('array' as const, 'object' as const))
  .map(([depth, kind]) => nestedJson(depth, kind));

// ---------------------------------------------------------------------------------------------
// JSON values and bodies
// ---------------------------------------------------------------------------------------------

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 1e308),
  hostileString,
  oversizedString,
);

/** Any JSON value with hostile strings and hostile keys. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor')),
      tie('value'),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value;

/** Texts that are not JSON (or not the JSON a route wants): truncated, JS-ish, BOM, XML, form. */
export const notJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '   ',
    'undefined',
    'NaN',
    "{'a':1}",
    '{"a":1,}',
    '\ufeff{}',
    '<?xml version="1.0"?><a/>',
    'a=1&b=2',
    '{"a":"\\ud800"',
    '[1,2',
    '{"a":1}{"b":2}',
    '"\u0000"',
    '1e400',
  ),
  hostileString,
);

/** Cuts a JSON text somewhere inside (never the whole text). */
export function truncatedJson(json: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return json
    .map((value) => JSON.stringify(value) ?? 'null')
    .filter((text) => text.length >= 2)
    .chain((text) => fc.integer({ min: 1, max: text.length - 1 }).map((cut) => text.slice(0, cut)));
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/octet-stream',
  'image/png',
  'application/xml',
] as const;
export const contentType: fc.Arbitrary<string> = fc.constantFrom(...CONTENT_TYPES);

/** The top-level keys a zod object schema declares (empty for anything else). */
export function shapeKeys(schema: z.ZodType | undefined): string[] {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}

function shapeOf(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  const shape = (schema as { shape?: Record<string, z.ZodType> } | undefined)?.shape;
  return shape && typeof shape === 'object' ? shape : {};
}

/**
 * A body text that `route` refuses at validation: a sample with one field broken, a random
 * object over the route's own keys, any hostile JSON, broken JSON, deep nesting.
 */
export function invalidJsonBody(route: RouteDefinition, sample: unknown): fc.Arbitrary<string> {
  const schema = route.body;
  if (!schema) throw new Error(`${route.name} has no body`);
  const keys = shapeKeys(schema);
  const fieldOrRandom =
    keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), hostileString) : hostileString;
  // The deep value is spliced in as text: JSON.stringify itself overflows on a few thousand levels.
  const DEEP = '"@@fuzz-deep@@"';
  const brokenSample: fc.Arbitrary<string> =
    sample !== null && typeof sample === 'object' && !Array.isArray(sample)
      ? fc
          .tuple(
            fc.constantFrom(...(keys.length > 0 ? keys : ['x'])),
            fc.oneof(
              { weight: 1, arbitrary: fc.constant<unknown>(undefined) },
              { weight: 4, arbitrary: hostileJson },
              { weight: 1, arbitrary: fc.constant<unknown>(JSON.parse(DEEP)) },
            ),
            fc.dictionary(hostileString, hostileJson, { maxKeys: 2 }),
            deeplyNested,
          )
          .map(([key, value, extra, deep]) => {
            const copy: Record<string, unknown> = { ...(sample as object), ...extra };
            if (value === undefined) delete copy[key];
            else copy[key] = value;
            return JSON.stringify(copy).replace(DEEP, deep);
          })
      : hostileJson.map((v) => JSON.stringify(v) ?? 'null');
  const randomObject = fc.dictionary(fieldOrRandom, hostileJson, { maxKeys: 5 });
  return fc
    .oneof(
      { weight: 4, arbitrary: brokenSample },
      { weight: 3, arbitrary: randomObject.map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: hostileJson.map((v) => JSON.stringify(v) ?? 'null') },
      {
        weight: 2,
        arbitrary: truncatedJson(sample === undefined ? hostileJson : fc.constant(sample)),
      },
      { weight: 2, arbitrary: notJsonText },
      { weight: 1, arbitrary: deeplyNested },
    )
    .filter((text) => bodyRejected(route, wellFormed(text)));
}

/** A form body that `route` (bodyEncoding: form) refuses at validation. */
export function invalidFormBody(route: RouteDefinition): fc.Arbitrary<string> {
  const keys = shapeKeys(route.body);
  return fc
    .oneof(
      fc.constant(''),
      notJsonText,
      hostileJson.map((v) => JSON.stringify(v) ?? ''),
      fc
        .tuple(fc.constantFrom(...keys, 'token', 'x'), fc.oneof(oversizedString, fc.constant('')))
        .map(([k, v]) => new URLSearchParams({ [k]: wellFormed(v) }).toString()),
    )
    .filter((text) => bodyRejected(route, wellFormed(text)));
}

/** Whether the validation middleware refuses this body (mirrors lib/http/handler.ts). */
export function bodyRejected(route: RouteDefinition, text: string): boolean {
  if (!route.body || route.bodyEncoding === 'raw') return false;
  if (Buffer.byteLength(text, 'utf8') > REQUEST_BODY_BYTES_MAX) return true;
  if (text.trim() === '') return true;
  let value: unknown;
  if (route.bodyEncoding === 'form') value = Object.fromEntries(new URLSearchParams(text));
  else {
    try {
      value = JSON.parse(text);
    } catch {
      return true;
    }
  }
  return !route.body.safeParse(value).success;
}

// ---------------------------------------------------------------------------------------------
// Paths and queries
// ---------------------------------------------------------------------------------------------

const BENIGN_VALUES = [
  'fuzz-1',
  'aws',
  '2025-01',
  '2025-01-31',
  'P-fuzz',
  '2025-01-01T00:00:00Z',
  'rec-0123456789abcdef01234567',
  'trueup-0123456789abcdef01234567-40',
  'exceptions',
];

/** A value each parameter of `schema` accepts (the first benign candidate that passes). */
export function benignValues(schema: z.ZodType | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, field] of Object.entries(shapeOf(schema))) {
    const value = BENIGN_VALUES.find((candidate) => field.safeParse(candidate).success);
    if (value === undefined) throw new Error(`No benign value for parameter ${key}`);
    out[key] = value;
  }
  return out;
}

/** Query keys that must be present for the query schema to pass, with benign values. */
export function benignQuery(route: RouteDefinition): Record<string, string> | null {
  if (!route.query) return {};
  const shape = shapeOf(route.query);
  const query: Record<string, string> = {};
  for (const [key, field] of Object.entries(shape)) {
    if (field.safeParse(undefined).success) continue;
    const value = BENIGN_VALUES.find((candidate) => field.safeParse(candidate).success);
    if (value === undefined) return null;
    query[key] = value;
  }
  if (route.query.safeParse(query).success) return query;
  // A refinement wants a particular combination (e.g. exactly one of two optional keys).
  for (const key of Object.keys(shape)) {
    for (const candidate of BENIGN_VALUES) {
      const attempt = { ...query, [key]: candidate };
      if (route.query.safeParse(attempt).success) return attempt;
    }
  }
  return null;
}

/** A path segment as sent: percent-encoded text, or a raw (possibly undecodable) sequence. */
export interface Segment {
  readonly raw: string;
  /** What the server decodes, or null when decodeURIComponent fails (no route matches). */
  readonly decoded: string | null;
}

export function encodedSegment(value: string): Segment {
  const text = wellFormed(value);
  return { raw: encodeURIComponent(text), decoded: text };
}

function decodeOrNull(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

const RAW_SEGMENTS = [
  '%ED%A0%80',
  '%',
  '%zz',
  '%C0%AF',
  '%FF',
  '%E0%80',
  '%00',
  '%2F',
  '..%2F..%2F',
];

/** A segment the URL parser keeps as one segment ('.' and '..' are resolved away by URL). */
function keepsSegment(segment: Segment): boolean {
  const lower = segment.raw.toLowerCase();
  return !['', '.', '..', '%2e', '%2e%2e', '.%2e', '%2e.'].includes(lower);
}

/** Builds a concrete path from a template and segments per parameter. */
export function pathOf(template: string, segments: Record<string, Segment>): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const segment = segments[name];
    if (!segment) throw new Error(`No value for {${name}} in ${template}`);
    return segment.raw;
  });
}

/** Segments where one parameter is invalid (fails its schema, or cannot be decoded). */
export function invalidParams(route: RouteDefinition): fc.Arbitrary<Record<string, Segment>> {
  const schema = route.params;
  if (!schema) throw new Error(`${route.name} has no path parameters`);
  const benign = benignValues(schema);
  const keys = Object.keys(benign);
  const badSegment: fc.Arbitrary<Segment> = fc.oneof(
    { weight: 3, arbitrary: fc.oneof(hostileString, oversizedUrlValue).map(encodedSegment) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...RAW_SEGMENTS)
        .map((raw) => ({ raw, decoded: decodeOrNull(raw) })),
    },
  );
  return fc
    .tuple(fc.constantFrom(...keys), badSegment)
    .map(([key, bad]) => {
      const segments: Record<string, Segment> = {};
      for (const k of keys) segments[k] = k === key ? bad : encodedSegment(benign[k] ?? '');
      return segments;
    })
    .filter((segments) => Object.values(segments).every(keepsSegment))
    .filter((segments) => paramsRejected(route, segments));
}

/** Whether the server refuses these segments: undecodable (404) or failing the schema (400). */
export function paramsRejected(route: RouteDefinition, segments: Record<string, Segment>): boolean {
  const decoded: Record<string, string> = {};
  for (const [key, segment] of Object.entries(segments)) {
    if (segment.decoded === null) return true;
    decoded[key] = segment.decoded;
  }
  return route.params ? !route.params.safeParse(decoded).success : false;
}

export function decodable(segments: Record<string, Segment>): boolean {
  return Object.values(segments).every((s) => s.decoded !== null);
}

/** The query as the local server hands it to the handler (repeated keys joined with ","). */
export function serverQuery(search: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(search))
    query[name] = name in query ? `${query[name]},${value}` : value;
  return query;
}

const WRONG_SCALARS = [
  '',
  ' ',
  'abc',
  '-1',
  '0',
  '1.5',
  '1e3',
  '201',
  '99999999999999999999',
  'true',
  '[]',
  '{}',
];

/** A query string `route` refuses: its own keys with wrong, hostile or oversized values. */
export function invalidQuery(route: RouteDefinition): fc.Arbitrary<string> {
  const schema = route.query;
  if (!schema) throw new Error(`${route.name} has no query`);
  const keys = shapeKeys(schema);
  const base = benignQuery(route) ?? {};
  const value = fc.oneof(fc.constantFrom(...WRONG_SCALARS), hostileString, oversizedUrlValue);
  return fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...keys), value), { minLength: 1, maxLength: 2 }),
      fc.boolean(),
    )
    .map(([pairs, dropBase]) => {
      const params = new URLSearchParams(dropBase ? {} : base);
      for (const [k, v] of pairs) params.append(k, wellFormed(v));
      return params.toString();
    })
    .filter((search) => !schema.safeParse(serverQuery(search)).success);
}

// ---------------------------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------------------------

export interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly search?: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  readonly headers: Headers;
}

export async function send(baseUrl: string, request: SentRequest): Promise<Answer> {
  const url = `${baseUrl}${request.path}${request.search ? `?${request.search}` : ''}`;
  const response = await fetch(url, {
    method: request.method,
    headers: request.headers ?? {},
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, text, json, headers: response.headers };
}

/** Signs of internals in a response: stack frames, source paths, module folders. */
const LEAKS: readonly RegExp[] = [
  /\n\s+at /,
  /\bat (?:async )?[\w$.<>]+ \((?:file:|\/|node:)/,
  /\/work\//,
  /node_modules/,
  /\.ts:\d+/,
  /file:\/\//,
  /"stack"\s*:/,
];

/** The response text contains no stack trace and no internal path. */
export function expectNoLeak(answer: Answer, label: string): void {
  for (const pattern of LEAKS)
    expect(answer.text, `${label}: leaks ${pattern}`).not.toMatch(pattern);
}

/** The documented error body: JSON {error:{code,message,details}} with a machine-readable code. */
export function expectErrorShape(
  answer: Answer,
  label: string,
): { code: string; details: unknown[] } {
  expect(answer.headers.get('content-type') ?? '', label).toMatch(/^application\/json/);
  const body = answer.json as {
    error?: { code?: unknown; message?: unknown; details?: unknown };
  } | null;
  expect(body, `${label}: ${answer.text.slice(0, 200)}`).toMatchObject({
    error: { code: expect.stringMatching(/^[a-z][a-z0-9_]*$/), message: expect.any(String) },
  });
  const error = body?.error ?? {};
  expect(Array.isArray(error.details), label).toBe(true);
  expectNoLeak(answer, label);
  return { code: String(error.code), details: error.details as unknown[] };
}

/** A short description of a request for assertion messages. */
export function describeRequest(request: SentRequest): string {
  const body =
    request.body === undefined ? '' : ` body=${JSON.stringify(request.body.slice(0, 120))}`;
  const search = request.search ? `?${request.search.slice(0, 120)}` : '';
  return `${request.method} ${request.path.slice(0, 160)}${search}${body}`;
}

// ---------------------------------------------------------------------------------------------
// Roles and tokens
// ---------------------------------------------------------------------------------------------

const ROLE_PREFERENCE: readonly Role[] = ['admin', 'finance', 'seller', 'service', 'partner'];

/** An allowed role of a non-public route (admin first). */
export function allowedRole(route: RouteDefinition): Role {
  if (route.access === 'public') throw new Error(`${route.name} is public`);
  const roles = route.access.roles;
  const role = ROLE_PREFERENCE.find((r) => roles.includes(r));
  if (!role) throw new Error(`${route.name} allows no known role`);
  return role;
}

/** A role the route does not allow, or null when every role may call it. */
export function forbiddenRole(route: RouteDefinition): Role | null {
  if (route.access === 'public') return null;
  const allowed = route.access.roles;
  return ROLES.find((r) => !allowed.includes(r)) ?? null;
}

export function isPublic(route: RouteDefinition): boolean {
  return route.access === 'public';
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Every kind of bad credential a caller can send: each must be a 401 on every protected route. */
export const FORGERY_KINDS = [
  'no-header',
  'empty-bearer',
  'bearer-only',
  'basic-scheme',
  'valid-token-wrong-scheme',
  'valid-token-no-scheme',
  'two-tokens',
  'not-a-jwt',
  'three-empty-parts',
  'alg-none',
  'alg-none-uppercase',
  'hs256-with-public-key',
  'es256-attacker-key-real-kid',
  'embedded-jwk-header',
  'unknown-kid',
  'expired',
  'not-yet-valid',
  'wrong-audience',
  'wrong-issuer',
  'no-exp',
  'no-sub',
  'tampered-payload',
  'header-alg-swapped',
  'oversized-valid-signature',
  'partner-without-partner-id',
] as const;
export type ForgeryKind = (typeof FORGERY_KINDS)[number];

/**
 * Builds the Authorization header (or none) for a forgery. Forged tokens claim every role, so
 * a verifier that let one through would also pass the role check.
 */
export async function forgedAuthorization(
  kind: ForgeryKind,
  keys: DevKeys,
): Promise<string | null> {
  const now = nowSeconds();
  const claims = { roles: [...ROLES], partner_id: 'P-fuzz' };
  const real = await importJWK(keys.privateJwk, 'ES256');
  const sign = (payload: Record<string, unknown>, build: (jwt: SignJWT) => SignJWT = (j) => j) =>
    build(new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'JWT' }));
  const standard = (jwt: SignJWT) =>
    jwt
      .setIssuer(LOCAL_JWT_ISSUER)
      .setAudience(LOCAL_JWT_AUDIENCE)
      .setSubject('fuzz-attacker')
      .setIssuedAt(now)
      .setExpirationTime(now + 600);
  const valid = (await mintDevToken(keys, { roles: ['admin'], nowSeconds: now })).token;
  const unsignedClaims = {
    ...claims,
    iss: LOCAL_JWT_ISSUER,
    aud: LOCAL_JWT_AUDIENCE,
    sub: 'fuzz-attacker',
    iat: now,
    exp: now + 600,
  };
  switch (kind) {
    case 'no-header':
      return null;
    case 'empty-bearer':
      return 'Bearer ';
    case 'bearer-only':
      return 'Bearer';
    case 'basic-scheme':
      return `Basic ${Buffer.from('admin:admin').toString('base64')}`;
    case 'valid-token-wrong-scheme':
      return `Token ${valid}`;
    case 'valid-token-no-scheme':
      return valid;
    case 'two-tokens':
      return `Bearer ${valid} ${valid}`;
    case 'not-a-jwt':
      return 'Bearer not-a-jwt';
    case 'three-empty-parts':
      return 'Bearer ..';
    case 'alg-none':
      return `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(unsignedClaims)}.`;
    case 'alg-none-uppercase':
      return `Bearer ${b64url({ alg: 'NONE', kid: keys.kid })}.${b64url(unsignedClaims)}.`;
    case 'hs256-with-public-key': {
      const secret = new TextEncoder().encode(JSON.stringify(keys.publicJwk));
      const token = await standard(
        new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: keys.kid, typ: 'JWT' }),
      ).sign(secret);
      return `Bearer ${token}`;
    }
    case 'es256-attacker-key-real-kid': {
      const { privateKey } = await generateKeyPair('ES256');
      return `Bearer ${await standard(sign(claims)).sign(privateKey)}`;
    }
    case 'embedded-jwk-header': {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const token = await standard(
        new SignJWT(claims).setProtectedHeader({ alg: 'ES256', jwk, typ: 'JWT' }),
      ).sign(privateKey);
      return `Bearer ${token}`;
    }
    case 'unknown-kid': {
      const token = await standard(
        new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: '../../../../etc/passwd' }),
      ).sign(real);
      return `Bearer ${token}`;
    }
    case 'expired':
      return `Bearer ${
        (await mintDevToken(keys, { roles: ['admin'], nowSeconds: now - 7_200, ttlSeconds: 600 }))
          .token
      }`;
    case 'not-yet-valid':
      return `Bearer ${await standard(sign(claims))
        .setNotBefore(now + 3_600)
        .sign(real)}`;
    case 'wrong-audience':
      return `Bearer ${await standard(sign(claims)).setAudience('someone-else').sign(real)}`;
    case 'wrong-issuer':
      return `Bearer ${await standard(sign(claims)).setIssuer('https://evil.example/').sign(real)}`;
    case 'no-exp':
      return `Bearer ${await sign(claims, (j) =>
        j
          .setIssuer(LOCAL_JWT_ISSUER)
          .setAudience(LOCAL_JWT_AUDIENCE)
          .setSubject('x')
          .setIssuedAt(now),
      ).sign(real)}`;
    case 'no-sub':
      return `Bearer ${await sign(claims, (j) =>
        j
          .setIssuer(LOCAL_JWT_ISSUER)
          .setAudience(LOCAL_JWT_AUDIENCE)
          .setIssuedAt(now)
          .setExpirationTime(now + 600),
      ).sign(real)}`;
    case 'tampered-payload': {
      const low = (await mintDevToken(keys, { roles: ['service'], nowSeconds: now })).token;
      const [header, , signature] = low.split('.');
      return `Bearer ${header}.${b64url(unsignedClaims)}.${signature}`;
    }
    case 'header-alg-swapped': {
      const [, payload, signature] = valid.split('.');
      return `Bearer ${b64url({ alg: 'RS256', kid: keys.kid, typ: 'JWT' })}.${payload}.${signature}`;
    }
    case 'oversized-valid-signature': {
      const token = await standard(sign({ ...claims, padding: 'x'.repeat(9_000) })).sign(real);
      return `Bearer ${token}`;
    }
    case 'partner-without-partner-id':
      return `Bearer ${await standard(sign({ roles: ['partner'] })).sign(real)}`;
  }
}

/** Random strings in the Authorization header (only header-safe characters can be sent). */
export const garbageAuthorization: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', '', 'Bearer\t', 'Digest '),
    fc.oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
      fc
        .array(fc.base64String({ maxLength: 60 }), { minLength: 3, maxLength: 3 })
        .map((parts) => parts.join('.').replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')),
    ),
  )
  .map(([scheme, rest]) => `${scheme}${rest}`.replace(/[\r\n\0]/g, ''));

// ---------------------------------------------------------------------------------------------
// Valid sample bodies (a request that WOULD write if the credential check let it through)
// ---------------------------------------------------------------------------------------------

/** A body each protected JSON route accepts; a unit-style test checks them against the schemas. */
export const SAMPLE_BODIES: Readonly<Record<string, unknown>> = {
  'activate-azure-subscription': { planId: 'gold-monthly' },
  'approve-contract': { reason: 'fuzz' },
  'reject-contract': { reason: 'fuzz' },
  'post-revenue-preview': JSON.parse(
    readFileSync(join(EVENTS_DIR, 'scenarios', 'we-1.json'), 'utf8'),
  ),
  'freeze-period': { reason: 'fuzz' },
  'close-period': { reason: 'fuzz' },
  'reopen-period': { reason: 'fuzz reason' },
  'put-fx-rates': {
    rates: [{ date: '2025-01-31', base: 'EUR', quote: 'USD', rate: '1.1', source: 'fuzz' }],
  },
  'record-disbursement': {
    contractId: 'fuzz-1',
    disbursementId: 'd-fuzz',
    date: '2025-01-31',
    currency: 'USD',
    amountMinor: '100',
  },
  'create-webhook-endpoint': { url: 'http://127.0.0.1:9/hook', description: 'fuzz' },
  'create-offer': { schemaVersion: 1, marketplace: 'aws', draft: true },
  'update-offer': { schemaVersion: 1, marketplace: 'aws', draft: true },
  'approve-offer': { reason: 'fuzz' },
  'reject-offer': { reason: 'fuzz' },
  'create-partner': {
    partnerId: 'P-fuzz',
    legalName: 'Fuzz Partner',
    type: 'reseller',
    tier: 'Gold',
    payoutCurrency: 'USD',
  },
  'update-partner': { legalName: 'Fuzz Partner 2' },
  'submit-deal-registration': {
    partnerId: 'P-fuzz',
    customer: { name: 'Fuzz Customer' },
    productId: 'prod-fuzz',
    expectedValue: { amountMinor: '100000', currency: 'USD' },
  },
  'decide-deal-registration': { decision: 'approved' },
  'record-touch': {
    partnerId: 'P-fuzz',
    role: 'sourced',
    at: '2025-01-01T00:00:00Z',
    source: 'activity',
    contractId: 'fuzz-1',
  },
  'add-attribution-model': {
    modelId: 'fuzz-model',
    effectiveFrom: '2025-01-01',
    model: { kind: 'linear' },
  },
  'add-commission-plan': { planId: 'fuzz-plan' },
  'run-commission': { period: '2025-01' },
  'run-statements': { period: '2025-01' },
  'update-listing': { title: 'Fuzz title' },
  'create-listing': { marketplace: 'aws', title: 'Fuzz title' },
  'post-usage': {
    records: [
      {
        recordId: 'fuzz-record',
        contractId: 'fuzz-1',
        dimension: 'basic_seats',
        quantity: '1',
        usageTime: '2025-01-01T00:00:00Z',
      },
    ],
  },
};

// ---------------------------------------------------------------------------------------------
// "Nothing written": a digest of every item in the stack's table
// ---------------------------------------------------------------------------------------------

/** Item count and a hash of every item (strongly consistent scan): any write changes it. */
export async function tableDigest(
  endpoint: string,
  tableName: string,
): Promise<{ count: number; hash: string }> {
  const client = new DynamoDBClient({
    region: LOCAL_REGION,
    endpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const lines: string[] = [];
    let start: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const page = await client.send(
        new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) lines.push(stableJson(item));
      start = page.LastEvaluatedKey;
    } while (start);
    lines.sort();
    return {
      count: lines.length,
      hash: createHash('sha256').update(lines.join('\n')).digest('hex'),
    };
  } finally {
    client.destroy();
  }
}

function stableJson(value: unknown): string {
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
