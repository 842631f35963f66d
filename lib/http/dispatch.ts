/**
 * The entry of one area's Lambda function (functions/api/<group>.ts): API Gateway names the
 * matched route in `routeKey` ("POST /v1/partners"); the dispatcher hands the event to that
 * route's handler. A route key it does not serve is answered 404 without touching anything.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { API_ROUTES } from './api-routes';
import type { RouteGroup } from './route-groups';

type RouteHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface GroupDispatcher extends RouteHandler {
  readonly group: RouteGroup;
  /** The route names this function serves (a unit test checks them against the groups). */
  readonly routeNames: readonly string[];
}

export function dispatchGroup(
  group: RouteGroup,
  handlers: Readonly<Record<string, RouteHandler>>,
): GroupDispatcher {
  const byKey = new Map<string, RouteHandler>();
  for (const route of API_ROUTES) {
    const handler = handlers[route.name];
    if (handler) byKey.set(`${route.method} ${route.path}`, handler);
  }
  const dispatch = async (event: APIGatewayProxyEventV2, context: Context) => {
    const handler = byKey.get(event.routeKey);
    if (handler) return handler(event, context);
    return {
      statusCode: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        error: { code: 'route_not_found', message: `No route ${event.routeKey}`, details: [] },
      }),
    };
  };
  return Object.assign(dispatch, { group, routeNames: Object.keys(handlers) });
}
