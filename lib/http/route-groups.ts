/**
 * In AWS the API's routes run in a handful of Lambda functions, one per area, instead of one per
 * route: a warm function serves every route of its area (fewer cold starts), a deploy bundles
 * seven functions instead of seventy, and the stack stays far below CloudFormation's 500
 * resources — one function per route had reached 558 with the partner routes. Each area still
 * gets only the permissions its routes need. Locally every route keeps its own handler.
 */
import { API_ROUTES } from './api-routes';
import type { RouteDefinition } from './route';

/** Which area each route tag belongs to. */
export const ROUTE_GROUP_OF_TAG = {
  platform: 'platform',
  webhooks: 'platform',
  operations: 'platform',
  contracts: 'contracts',
  'marketplace-inbound': 'inbound',
  revenue: 'finance',
  reports: 'finance',
  finance: 'finance',
  offers: 'offers',
  listings: 'offers',
  partners: 'partners',
  commission: 'partners',
  statements: 'partners',
  usage: 'usage',
} as const;

export type RouteGroup = (typeof ROUTE_GROUP_OF_TAG)[keyof typeof ROUTE_GROUP_OF_TAG];
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  ...new Set(Object.values(ROUTE_GROUP_OF_TAG)),
] as RouteGroup[];

/** The area of a route: its first tag's. */
export function routeGroupOf(route: RouteDefinition): RouteGroup {
  const tag = route.tags[0] ?? '';
  const group = (ROUTE_GROUP_OF_TAG as Record<string, RouteGroup>)[tag];
  if (!group) throw new Error(`Route ${route.name} has tag "${tag}", which belongs to no group`);
  return group;
}

export function routesOfGroup(group: RouteGroup): RouteDefinition[] {
  return API_ROUTES.filter((route) => routeGroupOf(route) === group);
}
