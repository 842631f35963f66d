/**
 * The local HTTP API: a node:http server that turns each request into the API Gateway HTTP API
 * v2 event a Lambda would receive and invokes the very same handler from functions/. What runs
 * locally is what runs in Lambda; only the transport differs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { API_ROUTES } from '../http/api-routes';
import { matchPath, type RouteDefinition } from '../http/route';
import { EnvironmentError } from './errors';

/** Bodies above this are refused locally as API Gateway would (its limit is 10 MB). */
export const LOCAL_BODY_BYTES_MAX = 10 * 1024 * 1024;
/** A handler running longer than API Gateway's 30 s integration timeout is cut off. */
export const LOCAL_HANDLER_TIMEOUT_MS = 30_000;

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface LocalRoute {
  readonly route: Pick<RouteDefinition, 'method' | 'path' | 'name'>;
  readonly handler: LambdaHttpHandler;
}

/** Routes only the local stack serves (the development JWKS, local marketplace inlets). */
export interface StaticRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly respond: (
    body: string,
  ) =>
    | Promise<{ status: number; contentType: string; body: string }>
    | { status: number; contentType: string; body: string };
}

export interface LocalHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Imports every route's handler from functions/http (the same files CDK bundles). */
export async function loadApiHandlers(): Promise<LocalRoute[]> {
  return Promise.all(
    API_ROUTES.map(async (route) => {
      const module = (await import(`../../functions/http/${route.name}.ts`)) as {
        handler?: LambdaHttpHandler;
      };
      if (typeof module.handler !== 'function') {
        throw new Error(`functions/http/${route.name}.ts does not export a handler`);
      }
      return { route, handler: module.handler };
    }),
  );
}

function lambdaContext(requestId: string, functionName: string): Context {
  const deadline = Date.now() + LOCAL_HANDLER_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > LOCAL_BODY_BYTES_MAX) {
        resolve(null);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

const TEXT_CONTENT = /^(application\/(json|x-www-form-urlencoded|xml)|text\/)/i;

/** Builds the API Gateway HTTP API (payload format 2.0) event for a request. */
export function toApiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  requestId: string,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...String(value).split(/;\s*/));
    else headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || contentType === '' || TEXT_CONTENT.test(contentType);
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

function writeResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(result);
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) response.setHeader('set-cookie', result.cookies);
  const body = result.body
    ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8')
    : Buffer.alloc(0);
  response.writeHead(result.statusCode ?? 200, headers).end(body);
}

function writeError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): void {
  response
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...extra })
    .end(JSON.stringify({ error: { code, message, details: [] } }));
}

/** Fails fast (before the JVM starts) when the API port is taken. */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new EnvironmentError(
              'port_in_use',
              `Port ${port} is taken: stop what uses it or set AGORA_PORT to another port.`,
            )
          : error,
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

export async function startLocalHttpServer(options: {
  readonly port: number;
  readonly host?: string;
  readonly routes: readonly LocalRoute[];
  readonly staticRoutes?: readonly StaticRoute[];
  readonly onRequestError?: (error: unknown) => void;
}): Promise<LocalHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer(async (request, response) => {
    const requestId = randomUUID();
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const method = request.method ?? 'GET';
      const staticRoute = options.staticRoutes?.find(
        (r) => r.method === method && r.path === url.pathname,
      );
      if (staticRoute) {
        const body = await readBody(request);
        if (body === null) {
          writeError(
            response,
            413,
            'payload_too_large',
            `Request body exceeds ${LOCAL_BODY_BYTES_MAX} bytes`,
          );
          return;
        }
        const result = await staticRoute.respond(body.toString('utf8'));
        response.writeHead(result.status, { 'content-type': result.contentType }).end(result.body);
        return;
      }
      const candidates = options.routes
        .map((entry) => ({ entry, params: matchPath(entry.route.path, url.pathname) }))
        .filter((c) => c.params !== null);
      if (candidates.length === 0) {
        writeError(response, 404, 'not_found', `No route for ${url.pathname}`);
        return;
      }
      const match = candidates.find((c) => c.entry.route.method === method);
      if (!match) {
        const allow = candidates.map((c) => c.entry.route.method).join(', ');
        writeError(
          response,
          405,
          'method_not_allowed',
          `${method} is not allowed here; use ${allow}`,
          { allow },
        );
        return;
      }
      const body = await readBody(request);
      if (body === null) {
        writeError(
          response,
          413,
          'payload_too_large',
          `Request body exceeds ${LOCAL_BODY_BYTES_MAX} bytes`,
        );
        return;
      }
      const routeKey = `${match.entry.route.method} ${match.entry.route.path}`;
      const event = toApiGatewayEvent(request, body, routeKey, match.params ?? {}, requestId);
      const result = await match.entry.handler(
        event,
        lambdaContext(requestId, `agora-${match.entry.route.name}`),
      );
      writeResult(response, result);
    } catch (error) {
      // A handler that throws past its own error mapper is what API Gateway shows as a 500.
      options.onRequestError?.(error);
      if (!response.headersSent)
        writeError(response, 500, 'internal_error', 'An internal error occurred');
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new EnvironmentError(
            'port_in_use',
            `Port ${options.port} is taken: stop what uses it or set AGORA_PORT to another port.`,
          ),
        );
      } else {
        reject(error);
      }
    });
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
