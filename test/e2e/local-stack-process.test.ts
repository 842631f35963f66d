// Proves `npm start` as a user runs it: it answers /health, persists data across restarts,
// stops cleanly on SIGTERM, leaves no JVM behind even when SIGKILLed, and refuses to start with
// one clear line and exit code 3 when Java is missing or the port is taken; and that
// `agora simulate` drives a contract through every marketplace's buyer journey while it runs.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePort } from '../../lib/local/dynamodb-local';
import { createDynamoClient, LOCAL_REGION } from '../../lib/store/dynamo-client';
import { DynamoStore } from '../../lib/store/dynamo-store';
import { agora } from './agora-cli';

const ROOT = resolve(import.meta.dirname, '../..');
const READY_TIMEOUT_MS = 60_000;
const children: ChildProcess[] = [];

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function startStack(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, AGORA_LOG_LEVEL: 'ERROR', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, port: Number(env.AGORA_PORT), output: () => output, exited };
}

const cli = agora;

async function waitForHealth(
  port: number,
  exited: Promise<number | null>,
): Promise<Record<string, unknown>> {
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !done) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status === 200) return (await response.json()) as Record<string, unknown>;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the stack did not answer /health');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

async function stackFile(
  dataDir: string,
): Promise<{ dynamodbPid: number; dynamodbEndpoint: string; tableName: string }> {
  // /health answers once the server listens; stack.json is written a moment later.
  for (let i = 0; i < 50 && !existsSync(join(dataDir, 'stack.json')); i += 1) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'));
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('npm start (lib/local/main.ts)', () => {
  it('serves /health, keeps data across a restart, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agora-e2e-'));
    const port = await findFreePort();
    const first = startStack({ AGORA_PORT: String(port), AGORA_DATA_DIR: dataDir });
    const health = await waitForHealth(port, first.exited);
    expect(health).toMatchObject({ status: 'ok', store: 'dynamodb-local' });

    const { dynamodbPid, dynamodbEndpoint, tableName } = await stackFile(dataDir);
    const client = createDynamoClient({ region: LOCAL_REGION, endpoint: dynamodbEndpoint });
    await new DynamoStore(client, tableName).put('marker', {
      pk: 'E2E#1',
      sk: 'MARK',
      note: 'persisted',
    });
    client.destroy();

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await waitUntilDead(dynamodbPid, 5_000)).toBe(true);
    expect(() => readFileSync(join(dataDir, 'stack.json'))).toThrow();

    const second = startStack({ AGORA_PORT: String(port), AGORA_DATA_DIR: dataDir });
    await waitForHealth(port, second.exited);
    const again = await stackFile(dataDir);
    const client2 = createDynamoClient({ region: LOCAL_REGION, endpoint: again.dynamodbEndpoint });
    expect(
      await new DynamoStore(client2, again.tableName).get({ pk: 'E2E#1', sk: 'MARK' }),
    ).toMatchObject({ note: 'persisted' });
    client2.destroy();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('agora simulate plays each buyer journey through the running stack', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agora-e2e-'));
    const port = await findFreePort();
    const env = { AGORA_PORT: String(port), AGORA_DATA_DIR: dataDir };
    const started = startStack(env);
    await waitForHealth(port, started.exited);
    const expected: Record<string, string[]> = {
      'aws-purchase': ['purchased:active', 'plan changed:active', 'cancelled:cancelled'],
      'azure-subscribe': [
        'landed:pending',
        'activated:active',
        'plan changed:active',
        'cancelled:cancelled',
      ],
      'gcp-subscribe': [
        'requested:pending',
        'signed up and approved:active',
        'plan changed:active',
        'cancelled:cancelled',
      ],
    };
    for (const [journey, steps] of Object.entries(expected)) {
      const run = await cli(['simulate', journey, '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as {
        contractId: string;
        steps: { step: string; status: string; version: number }[];
      };
      expect(result.steps.map((s) => `${s.step}:${s.status}`)).toEqual(steps);
      // Every step is a new contract version: nothing was applied twice or skipped.
      const versions = result.steps.map((s) => s.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    }
    const kept = await cli(['simulate', 'gcp-subscribe', '--keep', '--json'], env);
    expect(kept.code).toBe(0);
    expect((JSON.parse(kept.stdout) as { steps: unknown[] }).steps).toHaveLength(2);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('leaves no JVM behind when the server is SIGKILLed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agora-e2e-'));
    const port = await findFreePort();
    const started = startStack({ AGORA_PORT: String(port), AGORA_DATA_DIR: dataDir });
    await waitForHealth(port, started.exited);
    const { dynamodbPid } = await stackFile(dataDir);
    expect(alive(dynamodbPid)).toBe(true);
    started.child.kill('SIGKILL');
    await started.exited;
    expect(await waitUntilDead(dynamodbPid, 5_000)).toBe(true);
  });

  it('exits 3 with one line naming the fix when Java is missing', async () => {
    const started = startStack({
      AGORA_PORT: String(await findFreePort()),
      AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-e2e-')),
      AGORA_JAVA: '/nonexistent/java',
    });
    expect(await started.exited).toBe(3);
    const lines = started
      .output()
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('agora:'));
    expect(lines.at(-1)).toMatch(/Java was not found .*install a Java 17\+ runtime/);
  });

  it('exits 3 with one line when the port is taken', async () => {
    const blocker = createServer();
    const port = await findFreePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const started = startStack({
        AGORA_PORT: String(port),
        AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-e2e-')),
      });
      expect(await started.exited).toBe(3);
      expect(started.output()).toMatch(new RegExp(`agora: Port ${port} is taken`));
    } finally {
      blocker.close();
    }
  });

  it('exits 2 naming the variable when configuration is invalid', async () => {
    const started = startStack({
      AGORA_PORT: 'eighty',
      AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-e2e-')),
    });
    expect(await started.exited).toBe(2);
    expect(started.output()).toMatch(/Invalid AGORA_PORT="eighty"/);
  });
});
