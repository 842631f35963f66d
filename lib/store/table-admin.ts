/**
 * Creates the table from the shared definition when it is missing (local stack and tests; in
 * AWS the CDK stateful stack owns the table). Safe to call on every start.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from './dynamo-client';
import { TABLE_DEFINITION } from './table-definition';

/** Polls while a new table becomes ACTIVE (DynamoDB Local is immediate; the service is not). */
const TABLE_ACTIVE_POLLS_MAX = 60;
const TABLE_ACTIVE_POLL_INTERVAL_MS = 500;

export async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/** Returns true when it created the table, false when it already existed. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  if (await tableExists(client, tableName)) return false;
  const keyAttributes = new Set<string>([TABLE_DEFINITION.partitionKey, TABLE_DEFINITION.sortKey]);
  for (const index of TABLE_DEFINITION.secondaryIndexes) {
    keyAttributes.add(index.partitionKey);
    keyAttributes.add(index.sortKey);
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: TABLE_DEFINITION.billingMode,
        AttributeDefinitions: [...keyAttributes].map((name) => ({
          AttributeName: name,
          AttributeType: TABLE_DEFINITION.keyAttributeType,
        })),
        KeySchema: [
          { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_DEFINITION.secondaryIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        StreamSpecification: {
          StreamEnabled: true,
          StreamViewType: TABLE_DEFINITION.streamViewType,
        },
      }),
    );
  } catch (error) {
    // Another process created it between our check and our create: that is fine.
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
  for (let poll = 0; poll < TABLE_ACTIVE_POLLS_MAX; poll += 1) {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, TABLE_ACTIVE_POLL_INTERVAL_MS));
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: {
        AttributeName: TABLE_DEFINITION.timeToLiveAttribute,
        Enabled: true,
      },
    }),
  );
  return true;
}

/** Whether a DynamoDB endpoint answers at all (used while DynamoDB Local boots). */
export async function endpointAnswers(
  endpoint: string,
  region: string,
  timeoutMs: number,
): Promise<boolean> {
  const client = createDynamoClient({
    region,
    endpoint,
    attemptsMax: 1,
    requestTimeoutMs: timeoutMs,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}
