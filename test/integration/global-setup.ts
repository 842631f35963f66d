/**
 * One DynamoDB Local per test run (in memory, -sharedDb, free port), with the table created from
 * the shared definition. The JVM is stopped in teardown; if the run is interrupted or crashes,
 * the guardian in lib/local/dynamodb-local.ts kills it when this process dies.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../lib/local/dynamodb-local';
import { createDynamoClient, LOCAL_REGION } from '../../lib/store/dynamo-client';
import { ensureTable } from '../../lib/store/table-admin';

export const INTEGRATION_TABLE_NAME = 'agora-test';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    tableName: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = Date.now();
  const dynamo = await startDynamoDbLocal({ dataDir: null });
  const client = createDynamoClient({ region: LOCAL_REGION, endpoint: dynamo.endpoint });
  await ensureTable(client, INTEGRATION_TABLE_NAME);
  client.destroy();
  process.stderr.write(
    `[integration] DynamoDB Local (pid ${dynamo.pid}) on ${dynamo.endpoint}, table ${INTEGRATION_TABLE_NAME}, ready in ${Date.now() - started} ms\n`,
  );
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('tableName', INTEGRATION_TABLE_NAME);
  return async () => {
    await dynamo.stop();
    process.stderr.write(`[integration] DynamoDB Local (pid ${dynamo.pid}) stopped\n`);
  };
}
