/** Helpers for pipeline tests: a local stack on the run's DynamoDB Local, tokens, sample files. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import type { Role } from '../../../lib/http/auth';
import { ensureDevKeys, mintDevToken } from '../../../lib/local/dev-keys';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../../lib/local/stack';

export const EVENTS_DIR = resolve(import.meta.dirname, '../../../events');

export interface TestStack {
  readonly stack: LocalStack;
  readonly dataDir: string;
  token(roles: Role[], partnerId?: string): Promise<string>;
  get(
    path: string,
    roles?: Role[],
  ): Promise<{ status: number; body: Record<string, unknown> & { items?: unknown[] } }>;
  post(
    path: string,
    body: unknown,
    init?: { roles?: Role[]; contentType?: string },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** Any local-stack option may be overridden (simulator states, offers, providers, ...). */
export type TestStackOptions = Partial<Omit<LocalStackOptions, 'port' | 'dataDir'>>;

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agora-pipeline-'));
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamodbEndpoint: inject('dynamoEndpoint'),
    tableName: `agora-pipeline-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    logLevel: 'ERROR',
    syncRetryBaseMs: 10,
    webhookSweepMs: 60_000,
    ...options,
  });
  const token = async (roles: Role[], partnerId?: string) =>
    (
      await mintDevToken(await ensureDevKeys(dataDir), {
        roles,
        partnerId,
        nowSeconds: Math.floor(Date.now() / 1000),
      })
    ).token;
  return {
    stack,
    dataDir,
    token,
    async get(path, roles = ['admin']) {
      const response = await fetch(`${stack.url}${path}`, {
        headers: { authorization: `Bearer ${await token(roles)}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async post(path, body, init = {}) {
      const headers: Record<string, string> = {
        'content-type': init.contentType ?? 'application/json',
      };
      if (init.roles) headers.authorization = `Bearer ${await token(init.roles)}`;
      const response = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    },
  };
}

export function sampleFiles(folder: string): { name: string; body: Record<string, unknown> }[] {
  return readdirSync(join(EVENTS_DIR, folder))
    .filter((name) => /^\d\d-.*\.json$/.test(name) || folder === 'invalid')
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      name,
      body: JSON.parse(readFileSync(join(EVENTS_DIR, folder, name), 'utf8')) as Record<
        string,
        unknown
      >,
    }));
}

/** Delivers a sample the way AWS would: EventBridge events to the EventBridge inlet, SNS via SQS. */
export async function deliver(test: TestStack, sample: Record<string, unknown>): Promise<number> {
  const path = 'detail-type' in sample ? '/local/aws/eventbridge' : '/local/aws/sqs';
  const response = await test.post(path, sample);
  return response.status;
}
