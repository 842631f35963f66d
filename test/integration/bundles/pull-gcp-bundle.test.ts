// Proves the deployed pull-gcp bundle (esbuild with infra/bundling.ts's options, as CDK builds it) starts alone in a fresh Node process, builds google-gax's SubscriberClient and pulls from the GCP simulator over the REST fallback: each message is stored in DynamoDB Local, enqueued to SQS and acknowledged, and a warm second run finds nothing.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BUNDLE_MAIN_FIELDS,
  BUNDLE_MINIFY,
  BUNDLE_SOURCE_MAP,
  BUNDLE_TARGET,
  ESM_REQUIRE_BANNER,
} from '../../../infra/bundling';
import { rawIdFor } from '../../../lib/domain/raw';
import { type GcpSimulator, startGcpSimulator } from '../../../lib/local/simulators/gcp-simulator';
import { defaultGcpProviders, defaultGcpSimulatorState } from '../../../lib/local/stack';
import { DynamoRawInboundStore } from '../../../lib/store/raw-inbound-store';
import { sharedStore } from '../helpers';

const ROOT = resolve(import.meta.dirname, '../../..');
const ENTRY = 'functions/scheduled/pull-gcp.ts';
const PROVIDER = 'agora-demo-provider';
const SUBSCRIPTION = `projects/agora-demo/subscriptions/bundle-pull-${randomUUID().slice(0, 8)}`;
const QUEUE_PATH = '/000000000000/agora-sync.fifo';
const run = promisify(execFile);

interface SentMessage {
  readonly QueueUrl: string;
  readonly MessageBody: string;
  readonly MessageGroupId: string;
}

/** Just enough of SQS (JSON protocol) for SendMessage: records each message, answers its MD5. */
async function startFakeSqs(): Promise<{ url: string; sent: SentMessage[]; server: Server }> {
  const sent: SentMessage[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = request.headers['x-amz-target'];
      if (target !== 'AmazonSQS.SendMessage') {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ __type: 'InvalidAction', message: String(target) }));
        return;
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SentMessage;
      sent.push(input);
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex'),
        }),
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, sent, server };
}

/** Bundles the entry as ServiceFunction does (CDK names the file index.mjs). */
async function bundle(outDir: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, ENTRY)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    mainFields: BUNDLE_MAIN_FIELDS,
    minify: BUNDLE_MINIFY,
    sourcemap: BUNDLE_SOURCE_MAP,
    banner: { js: ESM_REQUIRE_BANNER },
    outfile: join(outDir, 'index.mjs'),
    logLevel: 'silent',
  });
}

type PullResult = { pulled: number; stored: number; acknowledged: number };

describe('pull-gcp Lambda bundle', () => {
  let sim: GcpSimulator;
  let sqs: Awaited<ReturnType<typeof startFakeSqs>>;
  let bundleDir: string;
  let runnerDir: string;

  beforeAll(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'agora-pull-gcp-'));
    runnerDir = mkdtempSync(join(tmpdir(), 'agora-pull-gcp-run-'));
    const started = await Promise.all([
      startGcpSimulator({ state: defaultGcpSimulatorState() }),
      startFakeSqs(),
      bundle(bundleDir),
    ]);
    [sim, sqs] = started;
    sim.setPushTarget(null);
  });

  afterAll(async () => {
    await sim?.close();
    await new Promise<void>((done) => (sqs ? sqs.server.close(() => done()) : done()));
    for (const dir of [bundleDir, runnerDir])
      if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Imports the bundle in a fresh node (cwd: the runner's empty folder) and runs the handler twice. */
  async function invokeTwice(): Promise<[PullResult[], PullResult[]]> {
    const runner = join(runnerDir, 'run.mjs');
    writeFileSync(
      runner,
      `const { handler } = await import(${JSON.stringify(join(bundleDir, 'index.mjs'))});
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 50000 };
const first = await handler({}, context);
const second = await handler({}, context);
process.stdout.write(JSON.stringify([first, second]));`,
    );
    const providers = defaultGcpProviders().map((p) => ({ ...p, pullSubscription: SUBSCRIPTION }));
    const child = run(process.execPath, [runner], {
      cwd: runnerDir,
      timeout: 25_000,
      env: {
        PATH: process.env.PATH ?? '',
        // As deployed (service-function.ts), but against the local services.
        AGORA_STAGE: 'aws',
        NODE_OPTIONS: '--enable-source-maps',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AGORA_LOG_LEVEL: 'ERROR',
        AGORA_JWT_ISSUER: 'https://issuer.test',
        AGORA_JWT_AUDIENCE: 'api',
        AGORA_JWKS_URL: 'https://issuer.test/jwks.json',
        AGORA_TABLE_NAME: inject('tableName'),
        AGORA_DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
        AGORA_SYNC_QUEUE_URL: `${sqs.url}${QUEUE_PATH}`,
        AGORA_GCP_PUBSUB_URL: sim.url,
        AGORA_GCP_PROVIDERS: JSON.stringify(providers),
      },
    });
    const { stdout } = await child.catch((error: { stderr?: string }) => {
      // A failure's stack prints minified lines of the bundle: keep the readable ones.
      const readable = (error.stderr ?? '').split('\n').filter((line) => line.length < 300);
      throw new Error(`The bundle failed:\n${readable.join('\n')}`);
    });
    return JSON.parse(stdout) as [PullResult[], PullResult[]];
  }

  it('ships only the bundle and its source map: nothing is read from node_modules', () => {
    expect(readdirSync(bundleDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it('pulls, stores, enqueues and acknowledges from a fresh process; the warm run gets nothing', async () => {
    const purchase = await sim.purchase({
      providerId: PROVIDER,
      product: 'agora-saas.endpoints.agora-demo.cloud.goog',
      plan: 'standard',
      accountId: `E-BUNDLE-${randomUUID().slice(0, 8).toUpperCase()}`,
    });
    const eventIds = purchase.published.map((m) => m.event.eventId);
    expect(eventIds.length).toBeGreaterThan(0);
    // The first pull fails with a 500: google-gax decodes the error (its status proto is in the
    // bundle) and retries, as it is configured to for Pull.
    sim.injectFault({ target: 'Pull', kind: 'server-error', times: 1 });

    const [first, second] = await invokeTwice();

    const n = eventIds.length;
    expect(first).toEqual([{ pulled: n, stored: n, acknowledged: n }]);
    expect(second).toEqual([{ pulled: 0, stored: 0, acknowledged: 0 }]);
    const calls = sim.calls();
    expect(calls.filter((c) => c.method === 'Pull')).toEqual(
      Array(3).fill({
        method: 'Pull',
        path: `/v1/${SUBSCRIPTION}:pull`,
        input: { maxMessages: 50 },
      }),
    );
    const acks = calls.filter((c) => c.method === 'Acknowledge');
    expect(acks).toEqual([
      {
        method: 'Acknowledge',
        path: `/v1/${SUBSCRIPTION}:acknowledge`,
        input: { ackIds: Array(n).fill(expect.any(String)) },
      },
    ]);

    const raw = new DynamoRawInboundStore(sharedStore());
    for (const eventId of eventIds) {
      const stored = await raw.get(rawIdFor('gcp', eventId));
      expect(stored, eventId).toMatchObject({
        marketplace: 'gcp',
        channel: 'gcp-pubsub-pull',
        authenticatedAs: `pubsub-pull:${SUBSCRIPTION}`,
      });
    }
    expect(sqs.sent.map((m) => m.QueueUrl)).toEqual(Array(n).fill(`${sqs.url}${QUEUE_PATH}`));
    expect(
      sqs.sent.map((m) => (JSON.parse(m.MessageBody) as { rawId: string }).rawId).sort(),
    ).toEqual(eventIds.map((id) => rawIdFor('gcp', id)).sort());
  });
});
