/**
 * The middy stack every HTTP endpoint uses. In order:
 *   request context (request id, correlation id, logger keys)
 *   → authentication (JWT, roles) — before validation, so a bad token is 401 whatever the body
 *   → validation (JSON body, query, path; every problem at once)
 *   → idempotency (Idempotency-Key on mutating calls)
 *   → the route's implementation → response encoding (zod codecs: bigint money → strings)
 * and one error mapper for everything that throws. Handlers in functions/ only supply the
 * route and a function from parsed request to result.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { z } from 'zod';
import {
  ConflictError,
  ForbiddenError,
  PayloadTooLargeError,
  ValidationFailedError,
} from '../app/errors';
import type { Clock, IdempotencyStore, StoredResponse } from '../app/ports';
import type { ErrorDetail } from '../domain/errors';
import { canonicalJson, sha256Hex } from '../domain/ids';
import { getTracer } from '../runtime/tracing';
import type { Principal, TokenVerifier } from './auth';
import { httpErrorFor } from './errors';
import { isMutating, type RouteDefinition } from './route';

/** Request bodies larger than this are refused before parsing (API Gateway allows 10 MB). */
export const REQUEST_BODY_BYTES_MAX = 1024 * 1024;
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

export interface HttpDeps {
  readonly verifier: TokenVerifier;
  readonly idempotency: IdempotencyStore;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface HttpRequest<Body, Query, Params> {
  readonly body: Body;
  readonly query: Query;
  readonly params: Params;
  /** Null only on public routes. */
  readonly principal: Principal | null;
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawBody: string;
}

export interface FileBody {
  readonly contentType: string;
  readonly content: string | Uint8Array;
  readonly filename?: string;
}

export interface HttpResult<T> {
  readonly status?: number;
  readonly body?: T;
  /** A non-JSON payload (CSV, PDF); takes precedence over `body`. */
  readonly file?: FileBody;
  readonly headers?: Record<string, string>;
}

type Input<S> = S extends z.ZodType ? z.output<S> : undefined;
type ResponseOf<S extends z.ZodType> = z.output<S>;

interface RequestState {
  requestId: string;
  principal: Principal | null;
  idempotency: { scope: string; key: string } | null;
  parsed: { body: unknown; query: unknown; params: unknown } | null;
  result: HttpResult<unknown> | null;
}

type MiddyRequest = middy.Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context
>;

const states = new WeakMap<object, RequestState>();

function stateOf(request: MiddyRequest): RequestState {
  const state = states.get(request.event);
  if (!state) throw new Error('request state missing: context middleware did not run');
  return state;
}

function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name] ?? event.headers?.[name.toLowerCase()];
}

function rawBodyOf(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** zod issues → the API's error details, paths prefixed with where the value came from. */
export function zodDetails(error: z.ZodError, prefix: string): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.'),
    code: issue.code,
    message: issue.message,
  }));
}

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string>,
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function httpHandler<
  Body extends z.ZodType,
  Query extends z.ZodObject,
  Params extends z.ZodObject,
  Response extends z.ZodType,
>(
  route: RouteDefinition<Body, Query, Params, Response>,
  getDeps: () => HttpDeps,
  implementation: (
    request: HttpRequest<Input<Body>, Input<Query>, Input<Params>>,
  ) => Promise<HttpResult<ResponseOf<Response>>>,
) {
  const core = async (
    event: APIGatewayProxyEventV2,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const state = states.get(event);
    if (!state?.parsed) throw new Error('request reached the handler unparsed');
    state.result = await implementation({
      body: state.parsed.body as Input<Body>,
      query: state.parsed.query as Input<Query>,
      params: state.parsed.params as Input<Params>,
      principal: state.principal,
      requestId: state.requestId,
      headers: Object.fromEntries(
        Object.entries(event.headers ?? {}).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      ),
      rawBody: rawBodyOf(event),
    });
    return { statusCode: 0 }; // replaced by the encoder middleware
  };

  return (
    middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>(core)
      // middy runs `before` in this order and `after`/`onError` in reverse: the error mapper sets
      // the response before the request context stamps the request id and logs the outcome.
      // Outermost: the X-Ray subsegment spans the whole request (a no-op outside Lambda).
      .use(captureLambdaHandler(getTracer(), { captureResponse: false }))
      .use(requestContext(route, getDeps))
      .use(errorMapper(getDeps))
      .use(authentication(route, getDeps))
      .use(validation(route))
      .use(idempotency(route, getDeps))
      .use(responseEncoder(route))
  );
}

function requestContext(
  route: RouteDefinition,
  getDeps: () => HttpDeps,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    before: (request) => {
      const header = headerOf(request.event, 'x-request-id');
      const requestId =
        header && REQUEST_ID_PATTERN.test(header)
          ? header
          : (request.event.requestContext?.requestId ??
            request.context.awsRequestId ??
            crypto.randomUUID());
      const correlation = headerOf(request.event, 'x-correlation-id');
      states.set(request.event, {
        requestId,
        principal: null,
        idempotency: null,
        parsed: null,
        result: null,
      });
      const logger = getDeps().logger;
      logger.resetKeys();
      logger.appendKeys({
        requestId,
        correlationId:
          correlation && REQUEST_ID_PATTERN.test(correlation) ? correlation : requestId,
        route: `${route.method} ${route.path}`,
      });
    },
    after: (request) => finish(request, getDeps),
    onError: (request) => finish(request, getDeps),
  };
}

function finish(request: MiddyRequest, getDeps: () => HttpDeps): void {
  const state = states.get(request.event);
  if (request.response && state) {
    request.response.headers = {
      ...(request.response.headers ?? {}),
      'x-request-id': state.requestId,
    };
  }
  const logger = getDeps().logger;
  logger.info('request completed', {
    status: request.response?.statusCode,
    subject: state?.principal?.subject,
  });
  logger.resetKeys();
}

function authentication(
  route: RouteDefinition,
  getDeps: () => HttpDeps,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    before: async (request) => {
      if (route.access === 'public') return;
      const principal = await getDeps().verifier.verifyAuthorization(
        headerOf(request.event, 'authorization'),
      );
      const allowed = route.access.roles;
      if (!principal.roles.some((role) => allowed.includes(role))) {
        throw new ForbiddenError(`This endpoint needs one of the roles: ${allowed.join(', ')}`);
      }
      stateOf(request).principal = principal;
    },
  };
}

function validation(
  route: RouteDefinition,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    before: (request) => {
      const event = request.event;
      const details: ErrorDetail[] = [];
      const raw = rawBodyOf(event);
      if (Buffer.byteLength(raw, 'utf8') > REQUEST_BODY_BYTES_MAX) {
        throw new PayloadTooLargeError(`Request body exceeds ${REQUEST_BODY_BYTES_MAX} bytes`);
      }
      let body: unknown;
      if (route.body && route.bodyEncoding !== 'raw') {
        let json: unknown;
        let jsonOk = true;
        if (raw.trim() === '') {
          details.push({ path: 'body', code: 'required', message: 'A request body is required' });
          jsonOk = false;
        } else if (route.bodyEncoding === 'form') {
          json = Object.fromEntries(new URLSearchParams(raw));
        } else {
          try {
            json = JSON.parse(raw);
          } catch {
            details.push({
              path: 'body',
              code: 'invalid_json',
              message: 'The request body is not valid JSON',
            });
            jsonOk = false;
          }
          if (jsonOk && jsonDepthExceeds(json, JSON_DEPTH_MAX)) {
            // Deep nesting would overflow the stack of whatever walks it later (hashing, storing).
            details.push({
              path: 'body',
              code: 'too_deep',
              message: `JSON nests at most ${JSON_DEPTH_MAX} levels`,
            });
            jsonOk = false;
          }
        }
        if (jsonOk) {
          const parsed = route.body.safeParse(json);
          if (parsed.success) body = parsed.data;
          else details.push(...zodDetails(parsed.error, 'body'));
        }
      }
      const query = parsePart(route.query, event.queryStringParameters ?? {}, 'query', details);
      const params = parsePart(route.params, event.pathParameters ?? {}, 'path', details);
      if (details.length > 0) {
        throw new ValidationFailedError(
          `The request is invalid (${details.length} problem${details.length === 1 ? '' : 's'})`,
          details,
        );
      }
      stateOf(request).parsed = { body, query, params };
    },
  };
}

function parsePart(
  schema: z.ZodObject | undefined,
  value: Record<string, string | undefined>,
  prefix: string,
  details: ErrorDetail[],
): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  details.push(...zodDetails(parsed.error, prefix));
  return undefined;
}

function idempotency(
  route: RouteDefinition,
  getDeps: () => HttpDeps,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  const mode = route.idempotency ?? (isMutating(route.method) ? 'optional' : 'none');
  return {
    before: async (request) => {
      if (mode === 'none') return undefined;
      const key = headerOf(request.event, 'idempotency-key');
      if (key === undefined) {
        if (mode === 'required') {
          throw new ValidationFailedError('This endpoint requires an Idempotency-Key header', [
            {
              path: 'headers.idempotency-key',
              code: 'required',
              message: 'Send a unique key per logical request',
            },
          ]);
        }
        return undefined;
      }
      if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
        throw new ValidationFailedError('Invalid Idempotency-Key header', [
          {
            path: 'headers.idempotency-key',
            code: 'invalid',
            message: `1..${IDEMPOTENCY_KEY_LENGTH_MAX} printable ASCII characters`,
          },
        ]);
      }
      const state = stateOf(request);
      const scope = `${state.principal?.subject ?? 'anonymous'} ${route.method} ${route.path}`;
      const requestHash = sha256Hex(
        canonicalJson({
          path: request.event.rawPath,
          query: request.event.rawQueryString ?? '',
          body: state.parsed?.body ?? null,
        }),
      );
      const deps = getDeps();
      const outcome = await deps.idempotency.begin(scope, key, requestHash, deps.clock.now());
      switch (outcome.kind) {
        case 'new':
          state.idempotency = { scope, key };
          return undefined;
        case 'replay':
          return {
            statusCode: outcome.response.status,
            headers: {
              ...outcome.response.headers,
              'idempotent-replayed': 'true',
              'x-request-id': state.requestId,
            },
            body: outcome.response.body,
          };
        case 'mismatch':
          throw new ConflictError(
            'idempotency_key_reused',
            'This Idempotency-Key was already used with a different request',
          );
        case 'in-progress':
          throw new ConflictError(
            'idempotency_request_in_progress',
            'A request with this Idempotency-Key is still in progress',
          );
      }
    },
    after: async (request) => {
      const claim = states.get(request.event)?.idempotency;
      if (!claim || !request.response) return;
      const response = request.response;
      const stored: StoredResponse = {
        status: response.statusCode ?? 200,
        body: typeof response.body === 'string' ? response.body : '',
        headers: Object.fromEntries(
          Object.entries(response.headers ?? {}).map(([k, v]) => [k, String(v)]),
        ),
      };
      await getDeps().idempotency.complete(claim.scope, claim.key, stored);
    },
    onError: async (request) => {
      const claim = states.get(request.event)?.idempotency;
      if (!claim) return;
      // The request failed: free the key so the client can retry it. If even that fails, the
      // claim expires by itself after IDEMPOTENCY_LOCK_SECONDS.
      await getDeps()
        .idempotency.release(claim.scope, claim.key)
        .catch((error: unknown) =>
          getDeps().logger.error('could not release idempotency key', { error: error as Error }),
        );
    },
  };
}

function responseEncoder(
  route: RouteDefinition,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    after: (request) => {
      const result = stateOf(request).result;
      if (!result) throw new Error('handler produced no result');
      const status = result.status ?? route.successStatus ?? 200;
      if (result.file) {
        const binary = typeof result.file.content !== 'string';
        request.response = {
          statusCode: status,
          headers: {
            'content-type': result.file.contentType,
            ...(result.file.filename
              ? { 'content-disposition': `attachment; filename="${result.file.filename}"` }
              : {}),
            ...(result.headers ?? {}),
          },
          body: binary
            ? Buffer.from(result.file.content).toString('base64')
            : (result.file.content as string),
          isBase64Encoded: binary,
        };
        return;
      }
      if (status === 204) {
        request.response = { statusCode: 204, headers: result.headers ?? {} };
        return;
      }
      // Encoding through the route's schema turns bigint money into strings and catches a
      // handler that returns something its contract does not allow (a bug: 500).
      const encoded = z.encode(route.response, result.body);
      request.response = jsonResponse(status, encoded, result.headers ?? {});
    },
  };
}

function errorMapper(
  getDeps: () => HttpDeps,
): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    onError: (request) => {
      const requestId =
        states.get(request.event)?.requestId ?? request.context?.awsRequestId ?? 'unknown';
      const mapped = httpErrorFor(request.error, requestId);
      const logger = getDeps().logger;
      if (mapped.expose) {
        logger.warn('request refused', { status: mapped.status, code: mapped.body.error.code });
      } else {
        logger.error('request failed', { status: mapped.status, error: request.error as Error });
      }
      request.response = jsonResponse(mapped.status, mapped.body, {
        ...mapped.headers,
        'x-request-id': requestId,
      });
    },
  };
}

/** Nesting levels a request body may have (no API document comes close). */
export const JSON_DEPTH_MAX = 64;

/** Whether a parsed JSON value nests deeper than `max` (iterative: no recursion to overflow). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}
