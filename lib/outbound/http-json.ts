/**
 * JSON over HTTP for marketplace REST APIs without an SDK (Azure fulfillment, GCP procurement):
 * a timeout on every attempt, bounded retries with full jitter on 429, 5xx and network errors
 * (honouring a short Retry-After), and a typed error when the API stays unavailable.
 */
import { MarketplaceUnavailableError } from '../app/errors';

export const HTTP_TIMEOUT_MS = 5_000;
export const HTTP_ATTEMPTS_MAX = 3;
export const HTTP_RETRY_BASE_MS = 200;
export const HTTP_RETRY_CAP_MS = 3_000;
export const HTTP_RESPONSE_BYTES_MAX = 2 * 1024 * 1024;

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

export interface RequestOptions {
  readonly operation: string;
  readonly timeoutMs?: number;
  readonly attemptsMax?: number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export async function requestJson(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: unknown },
  options: RequestOptions,
): Promise<JsonResponse> {
  const attemptsMax = options.attemptsMax ?? HTTP_ATTEMPTS_MAX;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  let lastProblem = 'no attempt';
  for (let attempt = 0; attempt < attemptsMax; attempt += 1) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: init.method,
        headers: {
          accept: 'application/json',
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? HTTP_TIMEOUT_MS),
      });
    } catch (error) {
      lastProblem =
        (error as Error).name === 'TimeoutError'
          ? 'timed out'
          : `network error: ${(error as Error).message}`;
      if (attempt + 1 < attemptsMax)
        await sleep(
          Math.floor(random() * Math.min(HTTP_RETRY_CAP_MS, HTTP_RETRY_BASE_MS * 2 ** attempt)),
        );
      continue;
    }
    const text = await response.text();
    if (text.length > HTTP_RESPONSE_BYTES_MAX)
      throw new MarketplaceUnavailableError(`${options.operation}: response too large`);
    let body: unknown = null;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!retryable(response.status))
      return { status: response.status, headers: response.headers, body };
    lastProblem = `HTTP ${response.status}`;
    if (attempt + 1 < attemptsMax) {
      const retryAfterMs = Number(response.headers.get('retry-after')) * 1000;
      const backoff = Math.floor(
        random() * Math.min(HTTP_RETRY_CAP_MS, HTTP_RETRY_BASE_MS * 2 ** attempt),
      );
      await sleep(
        Number.isFinite(retryAfterMs) && retryAfterMs > 0
          ? Math.min(retryAfterMs, HTTP_RETRY_CAP_MS)
          : backoff,
      );
    }
  }
  throw new MarketplaceUnavailableError(
    `${options.operation} failed after ${attemptsMax} attempts (${lastProblem}); will retry`,
  );
}
