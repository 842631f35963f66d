/**
 * The whole service on one machine: DynamoDB Local (persisted under the data folder), the table,
 * the development key pair and JWKS, and the HTTP API invoking the Lambda handlers. While it
 * runs, `<dataDir>/stack.json` tells the CLI where everything is.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { resetContainer } from '../runtime/container';
import { createDynamoClient, LOCAL_CREDENTIALS, LOCAL_REGION } from '../store/dynamo-client';
import { ensureTable } from '../store/table-admin';
import { LOCAL_TABLE_NAME } from '../store/table-definition';
import {
  ensureDevKeys,
  jwksDocument,
  LOCAL_JWKS_PATH,
  LOCAL_JWT_AUDIENCE,
  LOCAL_JWT_ISSUER,
} from './dev-keys';
import { type DynamoDbLocalHandle, startDynamoDbLocal } from './dynamodb-local';
import {
  assertPortFree,
  type LocalHttpServer,
  loadApiHandlers,
  startLocalHttpServer,
} from './http-server';

export const StackFileSchema = z.object({
  pid: z.int(),
  url: z.url(),
  port: z.int(),
  dynamodbEndpoint: z.url(),
  dynamodbPid: z.int().nullable(),
  tableName: z.string(),
  dataDir: z.string(),
  issuer: z.string(),
  audience: z.string(),
  jwksUrl: z.url(),
  startedAt: z.string(),
});
export type StackFile = z.infer<typeof StackFileSchema>;

export function stackFilePath(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

export function readStackFile(dataDir: string): StackFile | null {
  const file = stackFilePath(dataDir);
  if (!existsSync(file)) return null;
  try {
    return StackFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}

export interface LocalStackOptions {
  readonly port: number;
  readonly dataDir: string;
  /** Use an already-running DynamoDB (tests share one per run); otherwise start our own. */
  readonly dynamodbEndpoint?: string;
  readonly tableName?: string;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly onDynamoOutput?: (line: string) => void;
}

export interface LocalStack {
  readonly url: string;
  readonly port: number;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  readonly stackFile: StackFile;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(options.dataDir, { recursive: true });
  const tableName = options.tableName ?? LOCAL_TABLE_NAME;
  let dynamo: DynamoDbLocalHandle | null = null;
  let server: LocalHttpServer | null = null;
  const stopAll = async () => {
    await server?.close();
    await dynamo?.stop();
  };
  try {
    await assertPortFree(options.port);
    let endpoint = options.dynamodbEndpoint;
    if (endpoint === undefined) {
      dynamo = await startDynamoDbLocal({
        dataDir: join(options.dataDir, 'dynamodb'),
        ...(options.onDynamoOutput ? { onOutput: options.onDynamoOutput } : {}),
      });
      endpoint = dynamo.endpoint;
    }
    const client = createDynamoClient({ region: LOCAL_REGION, endpoint });
    await ensureTable(client, tableName);
    client.destroy();

    const keys = await ensureDevKeys(options.dataDir);
    const routes = await loadApiHandlers();
    server = await startLocalHttpServer({
      port: options.port,
      routes,
      staticRoutes: [
        {
          method: 'GET',
          path: LOCAL_JWKS_PATH,
          respond: () => ({
            status: 200,
            contentType: 'application/json',
            body: JSON.stringify(jwksDocument(keys)),
          }),
        },
      ],
    });
    // The handlers read the same variables a Lambda gets from its stack.
    Object.assign(process.env, {
      AGORA_STAGE: 'local',
      AGORA_TABLE_NAME: tableName,
      AGORA_DYNAMODB_ENDPOINT: endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AGORA_JWT_ISSUER: LOCAL_JWT_ISSUER,
      AGORA_JWT_AUDIENCE: LOCAL_JWT_AUDIENCE,
      AGORA_JWKS_URL: `${server.url}${LOCAL_JWKS_PATH}`,
      AGORA_LOG_LEVEL: options.logLevel ?? 'INFO',
    });
    resetContainer();

    const stackFile: StackFile = {
      pid: process.pid,
      url: server.url,
      port: server.port,
      dynamodbEndpoint: endpoint,
      dynamodbPid: dynamo?.pid ?? null,
      tableName,
      dataDir: options.dataDir,
      issuer: LOCAL_JWT_ISSUER,
      audience: LOCAL_JWT_AUDIENCE,
      jwksUrl: `${server.url}${LOCAL_JWKS_PATH}`,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(stackFilePath(options.dataDir), `${JSON.stringify(stackFile, null, 2)}\n`);
    const runningServer = server;
    let stopped = false;
    return {
      url: runningServer.url,
      port: runningServer.port,
      dynamodbEndpoint: endpoint,
      tableName,
      stackFile,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        const current = readStackFile(options.dataDir);
        if (current?.pid === process.pid && current.port === runningServer.port) {
          rmSync(stackFilePath(options.dataDir), { force: true });
        }
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
