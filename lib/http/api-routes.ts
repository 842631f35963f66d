/**
 * Every route of the HTTP API. Each `name` is a Lambda entry file functions/http/<name>.ts;
 * the CDK stack, the local server and /openapi.json all read this list, and a unit test checks
 * that each route has its entry file and each entry file its route.
 */
import { z } from 'zod';
import { InstantSchema } from '../domain/schemas/primitives';
import { ROLES, RoleSchema } from './auth';
import { defineRoute, type RouteDefinition } from './route';

export const HealthResponseSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  store: z.enum(['dynamodb-local', 'dynamodb']),
  table: z.string(),
  version: z.string(),
  time: InstantSchema,
});

export const healthRoute = defineRoute({
  name: 'get-health',
  method: 'GET',
  path: '/health',
  summary: 'Liveness and store reachability',
  description: 'Answers 200 only when the DynamoDB table answers; 503 otherwise.',
  tags: ['platform'],
  access: 'public',
  response: HealthResponseSchema,
});

export const openApiRoute = defineRoute({
  name: 'get-openapi',
  method: 'GET',
  path: '/openapi.json',
  summary: 'This API as an OpenAPI 3.1 document',
  tags: ['platform'],
  access: 'public',
  response: z.record(z.string(), z.unknown()),
});

export const MeResponseSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  roles: z.array(RoleSchema),
  partnerId: z.string().nullable(),
  expiresAt: InstantSchema.nullable(),
});

export const meRoute = defineRoute({
  name: 'get-me',
  method: 'GET',
  path: '/v1/me',
  summary: "The caller's identity and roles",
  description: 'The first authenticated endpoint, and the way to check a token.',
  tags: ['platform'],
  access: { roles: ROLES },
  response: MeResponseSchema,
});

export const API_ROUTES: readonly RouteDefinition[] = [healthRoute, openApiRoute, meRoute];
