// Proves the route table is the single source: every route has its Lambda entry file and every
// entry file a route, paths match like API Gateway's, and the OpenAPI document covers them all.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../../lib/http/api-routes';
import { buildOpenApiDocument } from '../../../lib/http/openapi';
import { matchPath } from '../../../lib/http/route';

const FUNCTIONS_DIR = resolve(import.meta.dirname, '../../../functions/http');

describe('route table', () => {
  it('maps every route to functions/http/<name>.ts and back', () => {
    for (const route of API_ROUTES)
      expect(existsSync(`${FUNCTIONS_DIR}/${route.name}.ts`), route.name).toBe(true);
    const files = readdirSync(FUNCTIONS_DIR).map((f) => f.replace(/\.ts$/, ''));
    expect(files.sort()).toEqual(API_ROUTES.map((r) => r.name).sort());
  });

  it('has unique names and unique method+path pairs', () => {
    expect(new Set(API_ROUTES.map((r) => r.name)).size).toBe(API_ROUTES.length);
    expect(new Set(API_ROUTES.map((r) => `${r.method} ${r.path}`)).size).toBe(API_ROUTES.length);
  });
});

describe('matchPath', () => {
  it('extracts and decodes parameters, and refuses partial matches', () => {
    expect(matchPath('/v1/offers/{offerId}', '/v1/offers/of%2F1')).toEqual({ offerId: 'of/1' });
    expect(matchPath('/v1/offers/{offerId}', '/v1/offers/')).toBeNull();
    expect(matchPath('/v1/offers/{offerId}', '/v1/offers/1/extra')).toBeNull();
    expect(matchPath('/v1/me', '/v1/me')).toEqual({});
    expect(matchPath('/v1/x/{id}', '/v1/x/%E0%A4%A')).toBeNull();
  });
});

describe('OpenAPI document', () => {
  it('lists every route with an operation id, security and an error response', () => {
    const doc = buildOpenApiDocument(API_ROUTES, { version: 'test' }) as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { operationId: string; security: unknown[]; responses: Record<string, unknown> }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of API_ROUTES) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op?.operationId).toBeTruthy();
      expect(op?.responses['500']).toEqual({ $ref: '#/components/responses/Error' });
      expect(op?.security).toEqual(route.access === 'public' ? [] : [{ bearerAuth: [] }]);
    }
  });
});
