// Proves with fast-check over real HTTP that every route in API_ROUTES answers malformed input and forged credentials with a machine-readable 4xx (never 5xx, no stack trace) and writes nothing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../../lib/http/api-routes';
import { ROLES, type Role } from '../../../lib/http/auth';
import { REQUEST_BODY_BYTES_MAX } from '../../../lib/http/handler';
import { isMutating, type RouteDefinition } from '../../../lib/http/route';
import { type DevKeys, ensureDevKeys, mintDevToken } from '../../../lib/local/dev-keys';
import { LOCAL_BODY_BYTES_MAX } from '../../../lib/local/http-server';
import { startTestStack, type TestStack } from '../pipeline/helpers';
import {
  type Answer,
  allowedRole,
  benignQuery,
  benignValues,
  bodyRejected,
  contentType,
  decodable,
  describeRequest,
  encodedSegment,
  expectErrorShape,
  expectNoLeak,
  FORGERY_KINDS,
  type ForgeryKind,
  forbiddenRole,
  forgedAuthorization,
  garbageAuthorization,
  hostileString,
  invalidFormBody,
  invalidJsonBody,
  invalidParams,
  invalidQuery,
  isPublic,
  oversizedString,
  oversizedUrlValue,
  pathOf,
  SAMPLE_BODIES,
  type Segment,
  type SentRequest,
  send,
  serverQuery,
  shapeKeys,
  tableDigest,
  wellFormed,
} from './arbitraries';

/** Fixed seed and run counts: CI replays exactly the same inputs every time. */
const SEED = 0x15_f022;
const RUNS_PER_ROUTE = 15;
const RUNS_GARBAGE_TOKENS = 4;
const RUNS_HOSTILE_VALID = 8;

let test: TestStack;
let keys: DevKeys;
const tokens = new Map<Role, string>();
const forgeries = new Map<ForgeryKind, string | null>();

beforeAll(async () => {
  // No background sweeps: every write during a property comes from the requests under test.
  test = await startTestStack({ webhookSweepMs: 3_600_000 });
  keys = await ensureDevKeys(test.dataDir);
  for (const role of ROLES)
    tokens.set(role, await test.token([role], role === 'partner' ? 'P-fuzz' : undefined));
  for (const kind of FORGERY_KINDS) forgeries.set(kind, await forgedAuthorization(kind, keys));
});

afterAll(async () => {
  await test?.stack.stop();
});

const digest = () => tableDigest(test.stack.dynamodbEndpoint, test.stack.tableName);
const call = (request: SentRequest) => send(test.stack.url, request);

function bearer(role: Role): Record<string, string> {
  const token = tokens.get(role);
  if (!token) throw new Error(`no token for ${role}`);
  return { authorization: `Bearer ${token}` };
}

const protectedRoutes = API_ROUTES.filter((r) => !isPublic(r));
const hasJsonBody = (r: RouteDefinition) => r.body !== undefined && r.bodyEncoding === undefined;
const label = (r: RouteDefinition) => `${r.method} ${r.path} (${r.name})`;

/** Path segments every parameter accepts. */
function benignSegments(route: RouteDefinition): Record<string, Segment> {
  return Object.fromEntries(
    Object.entries(benignValues(route.params)).map(([k, v]) => [k, encodedSegment(v)]),
  );
}

/** A request to `route` that passes validation (benign path, required query, sample body). */
function wellFormedRequest(route: RouteDefinition, headers: Record<string, string>): SentRequest {
  const query = benignQuery(route);
  const sample = SAMPLE_BODIES[route.name];
  return {
    method: route.method,
    path: pathOf(route.path, benignSegments(route)),
    ...(query && Object.keys(query).length > 0
      ? { search: new URLSearchParams(query).toString() }
      : {}),
    ...(hasJsonBody(route) && sample !== undefined
      ? {
          body: JSON.stringify(sample),
          headers: { 'content-type': 'application/json', ...headers },
        }
      : { headers }),
  };
}

type Expected = 'validation' | 'route-not-found' | 'unauthorized' | 'too-large' | 'ignored';

interface Case {
  readonly request: SentRequest;
  readonly expected: Expected;
}

/** Malformed requests for one route, each with the outcome the API documents for it. */
function malformedCases(route: RouteDefinition): fc.Arbitrary<Case> {
  const auth = isPublic(route) ? {} : bearer(allowedRole(route));
  const path = pathOf(route.path, benignSegments(route));
  const query = benignQuery(route) ?? {};
  const search = new URLSearchParams(query).toString();
  const sample = SAMPLE_BODIES[route.name];
  const options: fc.Arbitrary<Case>[] = [];
  const bodyFor = (text: string) =>
    Buffer.byteLength(text) > REQUEST_BODY_BYTES_MAX ? 'too-large' : 'validation';

  if (route.params) {
    options.push(
      invalidParams(route).map((segments) => ({
        request: {
          method: route.method,
          path: pathOf(route.path, segments),
          search,
          ...(hasJsonBody(route) && sample !== undefined ? { body: JSON.stringify(sample) } : {}),
          headers: { 'content-type': 'application/json', ...auth },
        },
        expected: decodable(segments) ? 'validation' : 'route-not-found',
      })),
    );
  }
  if (route.query) {
    options.push(
      invalidQuery(route).map((bad) => ({
        request: {
          method: route.method,
          path,
          search: bad,
          ...(hasJsonBody(route) && sample !== undefined ? { body: JSON.stringify(sample) } : {}),
          headers: { 'content-type': 'application/json', ...auth },
        },
        expected: 'validation',
      })),
    );
  }
  if (route.body && route.bodyEncoding !== 'raw') {
    const bodies =
      route.bodyEncoding === 'form' ? invalidFormBody(route) : invalidJsonBody(route, sample);
    options.push(
      fc.tuple(bodies, contentType).map(([body, type]) => ({
        request: {
          method: route.method,
          path,
          search,
          body,
          headers: { 'content-type': type, ...auth },
        },
        expected: bodyFor(wellFormed(body)),
      })),
    );
  }
  if (route.bodyEncoding === 'raw') {
    // Public inlets authenticated by the message itself: without credentials, always 401.
    options.push(
      fc
        .tuple(
          fc.oneof(
            hostileString,
            oversizedString,
            fc.jsonValue().map((v) => JSON.stringify(v)),
          ),
          contentType,
        )
        .map(([body, type]) => ({
          request: { method: route.method, path, body, headers: { 'content-type': type } },
          expected: 'unauthorized',
        })),
    );
  }
  if (options.length === 0) {
    // No input at all: unknown query parameters are ignored (documented by these GET routes).
    if (route.method !== 'GET') throw new Error(`${route.name}: a mutating route without input`);
    options.push(
      fc
        .dictionary(hostileString, fc.oneof(hostileString, oversizedUrlValue), { maxKeys: 2 })
        .map((q) => ({
          request: {
            method: route.method,
            path,
            search: new URLSearchParams(
              Object.fromEntries(Object.entries(q).map(([k, v]) => [wellFormed(k), wellFormed(v)])),
            ).toString(),
            headers: auth,
          },
          expected: 'ignored',
        })),
    );
  }
  return fc.oneof(...options);
}

function checkOutcome(answer: Answer, expected: Expected, what: string): void {
  expect(answer.status, `${what} → ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  expectNoLeak(answer, what);
  if (expected === 'ignored') {
    expect(answer.status, what).toBe(200);
    return;
  }
  const { code, details } = expectErrorShape(answer, what);
  switch (expected) {
    case 'validation':
      expect([answer.status, code], what).toEqual([400, 'validation_failed']);
      expect(details.length, what).toBeGreaterThan(0);
      break;
    case 'route-not-found':
      expect([answer.status, code], what).toEqual([404, 'not_found']);
      break;
    case 'unauthorized':
      expect([answer.status, code], what).toEqual([401, 'unauthorized']);
      break;
    case 'too-large':
      expect([answer.status, code], what).toEqual([413, 'payload_too_large']);
      break;
  }
}

describe('the fuzz inputs themselves', () => {
  it('has a sample body for every protected JSON route, and each passes the route schema', () => {
    // The "nothing written" checks send these: a request that would write if let through.
    const withBody = protectedRoutes.filter(hasJsonBody);
    expect(withBody.length).toBeGreaterThan(20);
    for (const route of withBody) {
      const sample = SAMPLE_BODIES[route.name];
      expect(sample, route.name).toBeDefined();
      expect(route.body?.safeParse(sample).success, route.name).toBe(true);
    }
    for (const route of API_ROUTES) {
      // Path parameters and required query keys all have benign values.
      expect(route.params?.safeParse(benignValues(route.params)).success ?? true, route.name).toBe(
        true,
      );
      expect(benignQuery(route), route.name).not.toBeNull();
    }
  });

  it('generates every kind of bad input the issue names (with the fixed seed)', () => {
    const route = API_ROUTES.find((r) => r.name === 'create-partner');
    const contract = API_ROUTES.find((r) => r.name === 'get-contract');
    const list = API_ROUTES.find((r) => r.name === 'list-contracts');
    if (!route || !contract || !list) throw new Error('routes missing');
    const bodies = fc.sample(invalidJsonBody(route, SAMPLE_BODIES['create-partner']), {
      seed: SEED,
      numRuns: 400,
    });
    const parses = (text: string) => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    const kinds = {
      notJson: bodies.some((b) => !parses(b)),
      truncated: bodies.some((b) => /^[[{]/.test(b) && !parses(b)),
      wrongType: bodies.some((b) => parses(b) && typeof JSON.parse(b).partnerId === 'number'),
      missingField: bodies.some((b) => parses(b) && JSON.parse(b)?.legalName === undefined),
      deep: bodies.some((b) => b.includes('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[')),
      loneSurrogate: bodies.some((b) => /\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i.test(b)),
      bidiOrNul: bodies.some((b) => b.includes('\u202e') || b.includes('\\u0000')),
      oversized: bodies.some((b) => b.length > 8_000),
    };
    expect(kinds).toEqual(Object.fromEntries(Object.keys(kinds).map((k) => [k, true])));
    for (const body of bodies) expect(bodyRejected(route, wellFormed(body)), body).toBe(true);

    const segments = fc
      .sample(invalidParams(contract), { seed: SEED, numRuns: 300 })
      .map((s) => s.contractId?.raw ?? '');
    expect(segments.some((s) => s.includes('%00'))).toBe(true);
    expect(segments.some((s) => s.includes('..%2F'))).toBe(true);
    expect(segments.some((s) => s.length > 128)).toBe(true);
    expect(segments.some((s) => s === '%ED%A0%80' || s === '%zz')).toBe(true);

    const queries = fc.sample(invalidQuery(list), { seed: SEED, numRuns: 300 }).map(serverQuery);
    expect(queries.some((q) => q.limit !== undefined && Number.isNaN(Number(q.limit)))).toBe(true);
    expect(queries.some((q) => (q.cursor?.length ?? 0) > 4_096)).toBe(true);
    expect(queries.some((q) => q.marketplace !== undefined)).toBe(true);
  });
});

describe('malformed input on every route: 4xx with a machine-readable code, nothing written', () => {
  it.each(API_ROUTES.map((route) => [label(route), route] as const))('%s', async (_name, route) => {
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(malformedCases(route), async ({ request, expected }) => {
        const what = `${route.name}: ${describeRequest(request)}`;
        checkOutcome(await call(request), expected, what);
      }),
      { seed: SEED, numRuns: RUNS_PER_ROUTE },
    );
    expect(await digest(), `${route.name} wrote to the table`).toEqual(before);
  });
});

describe('invalid Idempotency-Key on every route that honours one', () => {
  const routes = protectedRoutes.filter(
    (r) => isMutating(r.method) && (r.idempotency ?? 'optional') !== 'none',
  );
  const badKeys = fc.oneof(
    fc.constantFrom('', ' ', 'a b', 'é', 'ÿ', 'tab\there', '"quoted key"'),
    fc.integer({ min: 256, max: 2_000 }).map((n) => 'k'.repeat(n)),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }).map((s) => `${s} ${s}`),
  );

  it.each(routes.map((route) => [label(route), route] as const))('%s', async (_name, route) => {
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(badKeys, async (key) => {
        const request = wellFormedRequest(route, bearer(allowedRole(route)));
        const sent = { ...request, headers: { ...request.headers, 'idempotency-key': key } };
        const answer = await call(sent);
        const what = `${route.name} key=${JSON.stringify(key.slice(0, 40))}`;
        const { code, details } = expectErrorShape(answer, what);
        expect([answer.status, code], what).toEqual([400, 'validation_failed']);
        expect(details, what).toEqual([
          expect.objectContaining({ path: 'headers.idempotency-key' }),
        ]);
      }),
      { seed: SEED, numRuns: 8 },
    );
    expect(await digest(), `${route.name} wrote to the table`).toEqual(before);
  });
});

describe('hostile but schema-valid path and query values: never a 5xx, never a leak', () => {
  const routes = API_ROUTES.filter(
    (r) => !isPublic(r) && (shapeKeys(r.params).length > 0 || shapeKeys(r.query).length > 0),
  );
  /** Values each string parameter accepts: unicode-hostile, traversal, NUL, RTL, emoji. */
  function hostileValid(route: RouteDefinition): fc.Arbitrary<SentRequest> {
    const base = wellFormedRequest(route, bearer(allowedRole(route)));
    const benign = benignValues(route.params);
    const query = benignQuery(route) ?? {};
    const paramKeys = Object.keys(benign);
    const queryKeys = shapeKeys(route.query).filter((k) => k !== 'cursor');
    return fc
      .record({
        params: fc.dictionary(fc.constantFrom('', ...paramKeys), hostileString, { maxKeys: 2 }),
        query: fc.dictionary(fc.constantFrom('', ...queryKeys), hostileString, { maxKeys: 2 }),
      })
      .map(({ params, query: q }) => {
        const segments = benignSegments(route);
        for (const [k, v] of Object.entries(params))
          if (k in benign) segments[k] = encodedSegment(v);
        const search = new URLSearchParams(query);
        for (const [k, v] of Object.entries(q)) if (k !== '') search.set(k, wellFormed(v));
        return { ...base, path: pathOf(route.path, segments), search: search.toString() };
      })
      .filter((request) => {
        const pathOk = paramsAccepted(route, request.path);
        const queryOk =
          !route.query || route.query.safeParse(serverQuery(request.search ?? '')).success;
        return pathOk && queryOk;
      });
  }

  it.each(routes.map((route) => [label(route), route] as const))('%s', async (_name, route) => {
    const before = await digest();
    await fc.assert(
      fc.asyncProperty(hostileValid(route), async (request) => {
        const answer = await call(request);
        const what = `${route.name}: ${describeRequest(request)}`;
        expect(answer.status, `${what} → ${answer.text.slice(0, 300)}`).toBeLessThan(500);
        expectNoLeak(answer, what);
        if (answer.status >= 400) expectErrorShape(answer, what);
      }),
      { seed: SEED, numRuns: RUNS_HOSTILE_VALID },
    );
    // Reads never write; a mutating route may act on a hostile-but-valid id (that is its job).
    if (route.method === 'GET') expect(await digest(), `${route.name} wrote`).toEqual(before);
  });
});

/** Whether every segment of a concrete path passes the route's parameter schema. */
function paramsAccepted(route: RouteDefinition, path: string): boolean {
  if (!route.params) return true;
  const template = route.path.split('/');
  const parts = path.split('/');
  const values: Record<string, string> = {};
  template.forEach((part, i) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) values[name] = decodeURIComponent(parts[i] ?? '');
  });
  return (
    Object.values(values).every((v) => v !== '' && v !== '.' && v !== '..') &&
    route.params.safeParse(values).success
  );
}

describe('forged, expired and wrong-audience credentials on every protected route', () => {
  it.each(protectedRoutes.map((route) => [label(route), route] as const))(
    '%s',
    async (_name, route) => {
      const before = await digest();
      const answers = await Promise.all(
        FORGERY_KINDS.map(async (kind) => {
          const authorization = forgeries.get(kind) ?? null;
          const request = wellFormedRequest(route, authorization === null ? {} : { authorization });
          return [kind, await call(request)] as const;
        }),
      );
      for (const [kind, answer] of answers) {
        const what = `${route.name} with ${kind}`;
        const { code } = expectErrorShape(answer, what);
        expect([answer.status, code], `${what} → ${answer.text.slice(0, 200)}`).toEqual([
          401,
          'unauthorized',
        ]);
        expect(answer.headers.get('www-authenticate'), what).toBe('Bearer');
      }
      await fc.assert(
        fc.asyncProperty(garbageAuthorization, async (authorization) => {
          const answer = await call(wellFormedRequest(route, { authorization }));
          const what = `${route.name} with ${JSON.stringify(authorization.slice(0, 60))}`;
          const { code } = expectErrorShape(answer, what);
          expect([answer.status, code], what).toEqual([401, 'unauthorized']);
        }),
        { seed: SEED, numRuns: RUNS_GARBAGE_TOKENS },
      );
      // A genuine token without a role this route allows: 403, also before anything is written.
      const role = forbiddenRole(route);
      const roleless = (
        await mintDevToken(keys, { roles: [], nowSeconds: Math.floor(Date.now() / 1000) })
      ).token;
      for (const authorization of [
        `Bearer ${roleless}`,
        ...(role === null ? [] : [bearer(role).authorization ?? '']),
      ]) {
        const answer = await call(wellFormedRequest(route, { authorization }));
        const { code } = expectErrorShape(answer, `${route.name} without an allowed role`);
        expect([answer.status, code], `${route.name} → ${answer.text.slice(0, 200)}`).toEqual([
          403,
          'forbidden',
        ]);
      }
      expect(await digest(), `${route.name} wrote for a bad credential`).toEqual(before);
      // Control: the very same request with a genuine token gets past authentication.
      const genuine = await call(wellFormedRequest(route, bearer(allowedRole(route))));
      expect(genuine.status, `${route.name} → ${genuine.text.slice(0, 200)}`).toBeLessThan(500);
      expect([401, 403], `${route.name} refused a genuine token`).not.toContain(genuine.status);
    },
  );

  it('sees a write when one happens (control for the digest used above)', async () => {
    const before = await digest();
    const created = await call({
      method: 'POST',
      path: '/v1/partners',
      body: JSON.stringify({
        ...(SAMPLE_BODIES['create-partner'] as object),
        partnerId: 'P-control',
      }),
      headers: { 'content-type': 'application/json', ...bearer('finance') },
    });
    expect(created.status).toBe(201);
    const after = await digest();
    expect(after.count).toBeGreaterThan(before.count);
    expect(after.hash).not.toBe(before.hash);
  });
});

describe('request bodies above the documented limit', () => {
  const bodyRoutes = API_ROUTES.filter((r) => r.body !== undefined);

  it('answers 413 payload_too_large on every route with a body, counting bytes not characters', async () => {
    const before = await digest();
    const ascii = 'x'.repeat(REQUEST_BODY_BYTES_MAX + 1);
    // 2 bytes per character: below the limit in characters, above it in bytes.
    const multibyte = 'é'.repeat(REQUEST_BODY_BYTES_MAX / 2 + 1);
    for (const route of bodyRoutes) {
      const auth = isPublic(route) ? {} : bearer(allowedRole(route));
      for (const body of [ascii, multibyte]) {
        const answer = await call({
          method: route.method,
          path: pathOf(route.path, benignSegments(route)),
          body,
          headers: { 'content-type': 'text/plain', ...auth },
        });
        const what = `${route.name} ${Buffer.byteLength(body)} bytes`;
        const { code } = expectErrorShape(answer, what);
        expect([answer.status, code], what).toEqual([413, 'payload_too_large']);
      }
    }
    expect(await digest()).toEqual(before);
  });

  it('checks the credential first: an oversized body without a token is 401', async () => {
    const route = protectedRoutes.find((r) => r.name === 'create-partner');
    if (!route) throw new Error('create-partner route missing');
    const answer = await call({
      method: 'POST',
      path: route.path,
      body: 'x'.repeat(REQUEST_BODY_BYTES_MAX + 1),
      headers: { 'content-type': 'application/json' },
    });
    expect([answer.status, expectErrorShape(answer, 'oversized, no token').code]).toEqual([
      401,
      'unauthorized',
    ]);
  });

  it('accepts a body of exactly the limit into validation (400, not 413)', async () => {
    const answer = await call({
      method: 'POST',
      path: '/v1/partners',
      body: `"${'x'.repeat(REQUEST_BODY_BYTES_MAX - 2)}"`,
      headers: { 'content-type': 'application/json', ...bearer('admin') },
    });
    expect([answer.status, expectErrorShape(answer, 'exactly 1 MB').code]).toEqual([
      400,
      'validation_failed',
    ]);
  });

  it('refuses a request line above the local server header limit (16 KB) with 431 and keeps serving', async () => {
    const answer = await call({
      method: 'GET',
      path: `/v1/contracts/${'a'.repeat(17_000)}`,
      headers: bearer('admin'),
    });
    expect(answer.status).toBe(431);
    expect((await call({ method: 'GET', path: '/health' })).status).toBe(200);
  });

  it('survives a body above the local transport limit (10 MB) and keeps serving', async () => {
    const before = await digest();
    const outcome = await fetch(`${test.stack.url}/v1/partners`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer('admin') },
      body: 'x'.repeat(LOCAL_BODY_BYTES_MAX + 1),
    }).then(
      (response) => response.status,
      () => 'connection closed',
    );
    expect([413, 'connection closed']).toContain(outcome);
    expect((await call({ method: 'GET', path: '/health' })).status).toBe(200);
    expect(await digest()).toEqual(before);
  });
});
