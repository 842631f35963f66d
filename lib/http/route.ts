/**
 * A route definition: method, path, who may call it, and the zod schemas of its input and
 * output. The same object drives the Lambda handler (lib/http/handler.ts), the local server,
 * the CDK HTTP API routes and /openapi.json, so they cannot disagree.
 */
import type { z } from 'zod';
import type { Role } from './auth';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type RouteAccess = 'public' | { readonly roles: readonly Role[] };

export interface RouteDefinition<
  Body extends z.ZodType = z.ZodType,
  Query extends z.ZodObject = z.ZodObject,
  Params extends z.ZodObject = z.ZodObject,
  Response extends z.ZodType = z.ZodType,
> {
  /** The Lambda entry file: functions/http/<name>.ts. */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway syntax: /v1/offers/{offerId}. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly access: RouteAccess;
  readonly body?: Body;
  /** How the body arrives: JSON (default), an HTML form post, or raw text the handler verifies itself. */
  readonly bodyEncoding?: 'json' | 'form' | 'raw';
  readonly query?: Query;
  readonly params?: Params;
  readonly response: Response;
  readonly successStatus?: number;
  /** Mutating routes honour Idempotency-Key; 'required' refuses calls without one. */
  readonly idempotency?: 'optional' | 'required' | 'none';
}

export function defineRoute<
  Body extends z.ZodType,
  Query extends z.ZodObject,
  Params extends z.ZodObject,
  Response extends z.ZodType,
>(
  route: RouteDefinition<Body, Query, Params, Response>,
): RouteDefinition<Body, Query, Params, Response> {
  return route;
}

export function isMutating(method: HttpMethod): boolean {
  return method !== 'GET';
}

/** Whether a concrete path matches a template; returns its parameters. */
export function matchPath(template: string, path: string): Record<string, string> | null {
  const templateParts = template.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < templateParts.length; i += 1) {
    const expected = templateParts[i] ?? '';
    const actual = pathParts[i] ?? '';
    const param = /^\{(\w+)\}$/.exec(expected);
    if (param?.[1]) {
      if (actual === '') return null;
      try {
        params[param[1]] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}
