/**
 * The process's structured JSON logger (Powertools), created once, and the correlation ids every
 * line about one request, message or contract carries: `requestId` and `correlationId` (HTTP,
 * set by lib/http/handler.ts), `rawId` and `marketplace` (one stored notification), `contractId`
 * and `eventId` (one contract change). In Lambda the logger also adds the function's request id
 * and the X-Ray trace id, so a log line, a trace and an API answer can be joined.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export function createLogger(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'): Logger {
  return new Logger({ serviceName: 'agora', logLevel: level });
}

/** The correlation keys, by the names log queries use (CloudWatch Logs Insights: `filter contractId = …`). */
export const CORRELATION_KEYS = [
  'requestId',
  'correlationId',
  'rawId',
  'marketplace',
  'contractId',
  'eventId',
] as const;
export type CorrelationKey = (typeof CORRELATION_KEYS)[number];
export type CorrelationIds = Partial<Record<CorrelationKey, string | null | undefined>>;

/** The known correlation keys that have a value; anything else is left out. */
export function correlationKeys(ids: CorrelationIds): Partial<Record<CorrelationKey, string>> {
  const keys: Partial<Record<CorrelationKey, string>> = {};
  for (const key of CORRELATION_KEYS) {
    const value = ids[key];
    if (typeof value === 'string' && value !== '') keys[key] = value;
  }
  return keys;
}

/**
 * Runs `work` with the ids on every log line it writes, then takes them off again (also when it
 * throws), so one SQS record's or one contract's ids never leak onto the next one's lines.
 */
export async function withCorrelation<T>(
  logger: Logger,
  ids: CorrelationIds,
  work: () => Promise<T>,
): Promise<T> {
  const keys = correlationKeys(ids);
  logger.appendKeys(keys);
  try {
    return await work();
  } finally {
    logger.removeKeys(Object.keys(keys));
  }
}
