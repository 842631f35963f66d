/**
 * Builds the one DynamoDB client of a process, with explicit timeouts and bounded retries
 * (the SDK's standard strategy: exponential backoff with full jitter). Locally the endpoint is
 * DynamoDB Local with fixed dummy credentials, so nothing ever probes instance metadata.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export const DYNAMODB_REQUEST_TIMEOUT_MS = 3_000;
export const DYNAMODB_CONNECT_TIMEOUT_MS = 1_000;
export const DYNAMODB_SDK_ATTEMPTS_MAX = 3;

/** Local credentials: DynamoDB Local with -sharedDb ignores them, but requires alphanumerics. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'agoralocal', secretAccessKey: 'agoralocal' };
export const LOCAL_REGION = 'us-east-1';

export interface DynamoClientOptions {
  readonly region: string;
  /** DynamoDB Local's endpoint; unset in AWS. */
  readonly endpoint?: string | undefined;
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly attemptsMax?: number;
}

export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const local = options.endpoint !== undefined;
  return new DynamoDBClient({
    region: options.region,
    ...(local ? { endpoint: options.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    maxAttempts: options.attemptsMax ?? DYNAMODB_SDK_ATTEMPTS_MAX,
    retryMode: 'standard',
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? DYNAMODB_REQUEST_TIMEOUT_MS,
      connectionTimeout: options.connectTimeoutMs ?? DYNAMODB_CONNECT_TIMEOUT_MS,
      // requestTimeout alone only warns in @smithy/node-http-handler 4.x.
      throwOnRequestTimeout: true,
    },
  });
}
