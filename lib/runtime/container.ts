/**
 * The composition root of a Lambda (and of the local stack, which runs the same handlers):
 * configuration validated once, one DynamoDB client, the adapters, the token verifier. Built on
 * the first invocation and reused for the life of the process.
 */
import type { Clock } from '../app/ports';
import { TokenVerifier } from '../http/auth';
import type { HttpDeps } from '../http/handler';
import { createDynamoClient } from '../store/dynamo-client';
import { DynamoStore } from '../store/dynamo-store';
import { DynamoIdempotencyStore } from '../store/idempotency-store';
import { DynamoRawInboundStore } from '../store/raw-inbound-store';
import { type Config, loadConfig } from './config';
import { createLogger } from './logger';

export interface Container extends HttpDeps {
  readonly config: Config;
  readonly store: DynamoStore;
  readonly rawInbound: DynamoRawInboundStore;
}

export const systemClock: Clock = { now: () => new Date().toISOString() };

export function buildContainer(env: Record<string, string | undefined>): Container {
  const config = loadConfig(env);
  const logger = createLogger(config.AGORA_LOG_LEVEL);
  const client = createDynamoClient({
    region: config.AWS_REGION,
    endpoint: config.AGORA_DYNAMODB_ENDPOINT,
  });
  const store = new DynamoStore(client, config.AGORA_TABLE_NAME);
  return {
    config,
    logger,
    clock: systemClock,
    store,
    rawInbound: new DynamoRawInboundStore(store),
    idempotency: new DynamoIdempotencyStore(store, config.AGORA_IDEMPOTENCY_TTL_HOURS * 3600),
    verifier: new TokenVerifier({
      issuer: config.AGORA_JWT_ISSUER,
      audience: config.AGORA_JWT_AUDIENCE,
      jwksUrl: config.AGORA_JWKS_URL,
      onKeyFetchFailure: (error) => logger.error('JWKS fetch failed', { error: error as Error }),
    }),
  };
}

let current: Container | undefined;

export function getContainer(): Container {
  current ??= buildContainer(process.env);
  return current;
}

/** Drops the cached container (tests and the local stack's restart path). */
export function resetContainer(): void {
  current = undefined;
}
