/**
 * The one mapping from errors to HTTP responses. Client errors (4xx) say what was wrong and
 * list every detail; server errors (5xx) say only that something failed and which request id to
 * quote — internals stay in the log.
 */
import {
  ConflictError,
  ForbiddenError,
  MarketplaceUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  SigningKeysUnavailableError,
  UnauthorizedError,
  ValidationFailedError,
} from '../app/errors';
import { AgoraError, type ErrorDetail, InvalidInputError } from '../domain/errors';
import {
  ConditionFailedError,
  InvalidCursorError,
  StoreContentionError,
  StoreUnavailableError,
} from '../store/errors';

export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details: readonly ErrorDetail[];
    readonly requestId?: string;
  };
}

export interface HttpErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;
  /** False for 5xx: the log gets the cause, the caller gets a generic message. */
  readonly expose: boolean;
}

function statusOf(error: unknown): number {
  if (error instanceof ValidationFailedError || error instanceof InvalidInputError) return 400;
  if (error instanceof InvalidCursorError) return 400;
  if (error instanceof UnauthorizedError) return 401;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError || error instanceof ConditionFailedError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof StoreContentionError || error instanceof StoreUnavailableError) return 503;
  if (error instanceof MarketplaceUnavailableError || error instanceof SigningKeysUnavailableError)
    return 503;
  const explicit = (error as { status?: unknown } | null)?.status;
  if (typeof explicit === 'number' && explicit >= 400 && explicit < 600) return explicit;
  return 500;
}

export function httpErrorFor(error: unknown, requestId: string): HttpErrorResponse {
  const status = statusOf(error);
  const headers: Record<string, string> = {};
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  if (status === 503) headers['retry-after'] = '1';
  if (status >= 500) {
    const code = status === 503 ? 'service_unavailable' : 'internal_error';
    const message =
      status === 503
        ? 'The service is temporarily unavailable; retry shortly'
        : 'An internal error occurred; quote the request id when reporting it';
    return {
      status,
      headers,
      expose: false,
      body: { error: { code, message, details: [], requestId } },
    };
  }
  const agora = error instanceof AgoraError ? error : null;
  const code = agora?.code ?? 'bad_request';
  const message = error instanceof Error ? error.message : 'Bad request';
  return {
    status,
    headers,
    expose: true,
    body: { error: { code, message, details: agora?.details ?? [], requestId } },
  };
}
