/**
 * How the CLI finds the service: AGORA_URL if set, else a running local stack (stack.json whose
 * process is alive and whose /health answers). Commands that need the store use the running
 * stack's DynamoDB, or start the embedded DynamoDB Local on AGORA_DATA_DIR for their duration.
 */

import { join } from 'node:path';
import { startDynamoDbLocal } from '../local/dynamodb-local';
import type { LocalSettings } from '../local/settings';
import { readStackFile, type StackFile } from '../local/stack';
import { createDynamoClient, LOCAL_REGION } from '../store/dynamo-client';
import { DynamoStore } from '../store/dynamo-store';
import { endpointAnswers, ensureTable } from '../store/table-admin';
import { LOCAL_TABLE_NAME } from '../store/table-definition';

export const HEALTH_PROBE_TIMEOUT_MS = 2_000;

export interface HealthProbe {
  readonly ok: boolean;
  readonly status: number | null;
  readonly body: unknown;
  readonly error: string | null;
}

export async function probeHealth(url: string): Promise<HealthProbe> {
  try {
    const response = await fetch(`${url}/health`, {
      signal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS),
    });
    const body: unknown = await response.json().catch(() => null);
    return { ok: response.status === 200, status: response.status, body, error: null };
  } catch (error) {
    return { ok: false, status: null, body: null, error: (error as Error).message };
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running local stack of this data folder, or null (stale stack.json files are ignored). */
export async function findRunningStack(settings: LocalSettings): Promise<StackFile | null> {
  const stack = readStackFile(settings.dataDir);
  if (!stack || !processAlive(stack.pid)) return null;
  return (await probeHealth(stack.url)).ok ? stack : null;
}

export interface StoreSession {
  readonly store: DynamoStore;
  /** 'running-stack' when a local stack serves this data folder, 'embedded' otherwise. */
  readonly source: 'running-stack' | 'embedded';
  readonly endpoint: string;
}

/** Runs `work` with a store on this data folder, starting DynamoDB Local only if needed. */
export async function withStore<T>(
  settings: LocalSettings,
  work: (session: StoreSession) => Promise<T>,
  log: (line: string) => void,
): Promise<T> {
  // Any live stack process owns the database file: use its DynamoDB, even if its API is unwell.
  const stackFile = readStackFile(settings.dataDir);
  const running =
    stackFile &&
    processAlive(stackFile.pid) &&
    (await endpointAnswers(stackFile.dynamodbEndpoint, LOCAL_REGION, 2_000))
      ? stackFile
      : null;
  if (running) {
    const client = createDynamoClient({ region: LOCAL_REGION, endpoint: running.dynamodbEndpoint });
    try {
      return await work({
        store: new DynamoStore(client, running.tableName),
        source: 'running-stack',
        endpoint: running.dynamodbEndpoint,
      });
    } finally {
      client.destroy();
    }
  }
  log(
    `no running stack for ${settings.dataDir}: starting the embedded DynamoDB Local for this command`,
  );
  const dynamo = await startDynamoDbLocal({ dataDir: join(settings.dataDir, 'dynamodb') });
  const client = createDynamoClient({ region: LOCAL_REGION, endpoint: dynamo.endpoint });
  try {
    await ensureTable(client, LOCAL_TABLE_NAME);
    return await work({
      store: new DynamoStore(client, LOCAL_TABLE_NAME),
      source: 'embedded',
      endpoint: dynamo.endpoint,
    });
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}
