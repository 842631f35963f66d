// Proves a real Lambda bundle (esbuild, minified ESM, as CDK builds it) loads in a fresh Node
// process and answers /health and /v1/me against DynamoDB Local: the deployed artifact, not
// just the sources, works.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, inject, it } from 'vitest';
import { BUNDLE_MAIN_FIELDS, BUNDLE_TARGET, ESM_REQUIRE_BANNER } from '../../../infra/bundling';

const ROOT = resolve(import.meta.dirname, '../../..');

async function bundle(name: string, outDir: string): Promise<string> {
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [join(ROOT, 'functions/http', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    mainFields: BUNDLE_MAIN_FIELDS,
    minify: true,
    banner: { js: ESM_REQUIRE_BANNER },
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

const BASE_ENV = {
  AGORA_JWT_ISSUER: 'https://issuer.test',
  AGORA_JWT_AUDIENCE: 'api',
  AGORA_JWKS_URL: 'https://issuer.test/jwks.json',
  AGORA_LOG_LEVEL: 'ERROR',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Bundles one function, then invokes its handler with a GET event in a fresh Node process. */
async function invokeBundled(
  name: string,
  path: string,
  env: Record<string, string>,
): Promise<{ statusCode: number; body: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'agora-bundle-'));
  const file = await bundle(name, dir);
  expect(statSync(file).size).toBeGreaterThan(10_000);
  const runner = join(dir, 'run.mjs');
  const event = {
    version: '2.0',
    rawPath: path,
    headers: {},
    requestContext: { requestId: 'r1', http: { method: 'GET', path } },
    isBase64Encoded: false,
  };
  writeFileSync(
    runner,
    `const { handler } = await import(${JSON.stringify(file)});
const result = await handler(${JSON.stringify(event)}, { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10000 });
process.stdout.write(JSON.stringify(result));`,
  );
  const output = execFileSync(process.execPath, [runner], {
    env: { PATH: process.env.PATH ?? '', ...BASE_ENV, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(output) as { statusCode: number; body: string };
}

describe('Lambda bundles', () => {
  it('get-health bundles and answers 200 from a fresh process', async () => {
    const result = await invokeBundled('get-health', '/health', {
      AGORA_STAGE: 'local',
      AGORA_TABLE_NAME: inject('tableName'),
      AGORA_DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
      AWS_REGION: 'us-east-1',
    });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ status: 'ok', table: inject('tableName') });
  });

  it('get-me bundles and refuses an unauthenticated call with 401', async () => {
    const result = await invokeBundled('get-me', '/v1/me', { AGORA_TABLE_NAME: 'unused' });
    expect(result.statusCode).toBe(401);
  });
});
