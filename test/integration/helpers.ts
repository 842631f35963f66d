/** Shared set-up for integration tests: a store on the run's DynamoDB Local, or a fresh table. */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createDynamoClient, LOCAL_REGION } from '../../lib/store/dynamo-client';
import { DEFAULT_RETRY_POLICY, DynamoStore, type RetryPolicy } from '../../lib/store/dynamo-store';
import { ensureTable } from '../../lib/store/table-admin';

export function localClient() {
  return createDynamoClient({ region: LOCAL_REGION, endpoint: inject('dynamoEndpoint') });
}

/** The run's shared table (created by the global set-up). */
export function sharedStore(retry: RetryPolicy = DEFAULT_RETRY_POLICY): DynamoStore {
  return new DynamoStore(localClient(), inject('tableName'), retry);
}

/** A table of its own, from the shared definition, for tests that need an empty table. */
export async function freshStore(retry: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<DynamoStore> {
  const client = localClient();
  const tableName = `agora-test-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, tableName);
  return new DynamoStore(client, tableName, retry);
}
