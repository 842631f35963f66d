/**
 * Builds the OpenAPI 3.1 document from the route list and its zod schemas (input side: money is
 * a string of minor units), so the published contract is the code's contract.
 */
import { z } from 'zod';
import { isMutating, type RouteDefinition } from './route';

const JSON_SCHEMA_OPTIONS = {
  io: 'input',
  target: 'draft-2020-12',
  unrepresentable: 'any',
} as const;

function schemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as Record<
    string,
    unknown
  >;
  return rest;
}

function operationId(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

const ERROR_RESPONSE = { $ref: '#/components/responses/Error' };

function parameters(route: RouteDefinition): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const add = (schema: z.ZodObject | undefined, location: 'path' | 'query') => {
    if (!schema) return;
    for (const [name, field] of Object.entries(schema.shape)) {
      const fieldSchema = field as z.ZodType;
      out.push({
        name,
        in: location,
        required: location === 'path' || !fieldSchema.safeParse(undefined).success,
        schema: schemaOf(fieldSchema),
      });
    }
  };
  add(route.params, 'path');
  add(route.query, 'query');
  const mode = route.idempotency ?? (isMutating(route.method) ? 'optional' : 'none');
  if (mode !== 'none') {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: mode === 'required',
      description:
        'Same key + same request replays the first response; same key + different request is 409.',
      schema: { type: 'string', maxLength: 255 },
    });
  }
  return out;
}

export function buildOpenApiDocument(
  routes: readonly RouteDefinition[],
  info: { version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const publicRoute = route.access === 'public';
    const responses: Record<string, unknown> = {
      [String(route.successStatus ?? 200)]: {
        description: 'Success',
        content: { 'application/json': { schema: schemaOf(route.response) } },
      },
      '400': ERROR_RESPONSE,
      '500': ERROR_RESPONSE,
    };
    if (!publicRoute) {
      responses['401'] = ERROR_RESPONSE;
      responses['403'] = ERROR_RESPONSE;
    }
    if (isMutating(route.method)) responses['409'] = ERROR_RESPONSE;
    const operation: Record<string, unknown> = {
      operationId: operationId(route.name),
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      security: publicRoute ? [] : [{ bearerAuth: [] }],
      ...(route.access === 'public' ? {} : { 'x-agora-roles': route.access.roles }),
      parameters: parameters(route),
      responses,
    };
    if (route.bodyEncoding === 'raw') {
      operation.requestBody = {
        required: true,
        content: { 'text/plain': { schema: { type: 'string' } } },
      };
    } else if (route.body) {
      const mediaType =
        route.bodyEncoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
      operation.requestBody = {
        required: true,
        content: { [mediaType]: { schema: schemaOf(route.body) } },
      };
    }
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Agora API',
      version: info.version,
      description:
        'Marketplace offers, entitlements, metering, revenue, commission and reconciliation. Money is a string of minor units with its ISO 4217 currency beside it.',
    },
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      responses: {
        Error: {
          description: 'Error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['error'],
                properties: {
                  error: {
                    type: 'object',
                    required: ['code', 'message', 'details'],
                    properties: {
                      code: { type: 'string' },
                      message: { type: 'string' },
                      requestId: { type: 'string' },
                      details: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            path: { type: 'string' },
                            code: { type: 'string' },
                            message: { type: 'string' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
