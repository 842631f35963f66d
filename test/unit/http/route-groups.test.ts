// Proves the API's area functions cover the API exactly: every route is served by exactly one area entry (functions/api/<group>.ts) and that entry's handler, and a route key the area does not serve is answered 404 without reaching any handler.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../../lib/http/api-routes';
import { dispatchGroup } from '../../../lib/http/dispatch';
import { ROUTE_GROUPS, routeGroupOf, routesOfGroup } from '../../../lib/http/route-groups';

describe('route groups', () => {
  it('puts every route in exactly one group, and each entry serves exactly its group', async () => {
    const seen = new Map<string, string>();
    // functions/api/*.ts are written by `npm run api-entries`; run it after adding a route.
    for (const group of ROUTE_GROUPS) {
      const entry = (await import(`../../../functions/api/${group}.ts`)) as {
        handler: { group: string; routeNames: readonly string[] };
      };
      expect(entry.handler.group).toBe(group);
      expect([...entry.handler.routeNames].sort()).toEqual(
        routesOfGroup(group)
          .map((r) => r.name)
          .sort(),
      );
      for (const name of entry.handler.routeNames) {
        expect(seen.has(name), name).toBe(false);
        seen.set(name, group);
      }
    }
    expect([...seen.keys()].sort()).toEqual(API_ROUTES.map((r) => r.name).sort());
    for (const route of API_ROUTES) expect(seen.get(route.name)).toBe(routeGroupOf(route));
  }, 30_000);

  it('dispatches by route key and answers 404 for a key the area does not serve', async () => {
    const calls: string[] = [];
    const fake = (name: string) => async () => {
      calls.push(name);
      return { statusCode: 200, body: name };
    };
    const dispatch = dispatchGroup('partners', {
      'create-partner': fake('create-partner'),
      'get-partner': fake('get-partner'),
    });
    const event = (routeKey: string) => ({ routeKey }) as unknown as APIGatewayProxyEventV2;
    const context = {} as Context;
    expect((await dispatch(event('GET /v1/partners/{partnerId}'), context)).body).toBe(
      'get-partner',
    );
    expect((await dispatch(event('POST /v1/partners'), context)).body).toBe('create-partner');
    const missing = await dispatch(event('GET /v1/partners'), context);
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(String(missing.body)).error.code).toBe('route_not_found');
    expect(calls).toEqual(['get-partner', 'create-partner']);
  });
});
