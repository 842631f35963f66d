/**
 * The whole service on one machine: DynamoDB Local (persisted under the data folder), the table,
 * the development key pair and JWKS, the marketplace simulators, the in-process sync queue and
 * webhook sweeper, and the HTTP API invoking the Lambda handlers. While it runs,
 * `<dataDir>/stack.json` tells the CLI where everything is.
 */

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { pullCoSellOpportunities } from '../app/co-sell';
import { flushUsage } from '../app/metering';
import { sendExpiryReminders } from '../app/offer-reminders';
import { trackOffers } from '../app/offers';
import { recoverPendingRaw } from '../app/recovery';
import { sendRegistrationReminders } from '../app/registration-reminders';
import { InvalidInputError } from '../domain/errors';
import type { GuardrailPolicyInput } from '../domain/offers/guardrails';
import { type AwsAccountConfig, AwsAccountsSchema } from '../marketplaces/aws/config';
import { type AzureOfferConfig, AzureOffersSchema } from '../marketplaces/azure/config';
import { type GcpProviderConfig, GcpProvidersSchema } from '../marketplaces/gcp/config';
import { configureContainer, getContainer } from '../runtime/container';
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
  type StaticRoute,
  startLocalHttpServer,
} from './http-server';
import { InProcessQueue } from './in-process-queue';
import {
  type AwsSimulator,
  type AwsSimulatorState,
  AwsSimulatorStateSchema,
  startAwsSimulator,
} from './simulators/aws-simulator';
import {
  type AzureSimulator,
  type AzureSimulatorStateInput,
  AzureSimulatorStateSchema,
  startAzureSimulator,
} from './simulators/azure-simulator';
import {
  type GcpSimulator,
  type GcpSimulatorState,
  GcpSimulatorStateSchema,
  startGcpSimulator,
} from './simulators/gcp-simulator';
import { buildSnsNotification, createSnsSigner } from './simulators/sns-signer';

const EVENTS_DIR = resolve(import.meta.dirname, '../../events');
export const DEFAULT_AWS_SIMULATOR_STATE = join(EVENTS_DIR, 'aws/simulator-state.json');
export const DEFAULT_AWS_ACCOUNTS = join(EVENTS_DIR, 'aws/local-accounts.json');
export const DEFAULT_AZURE_SIMULATOR_STATE = join(EVENTS_DIR, 'azure/simulator-state.json');
export const DEFAULT_AZURE_OFFERS = join(EVENTS_DIR, 'azure/local-offers.json');
export const DEFAULT_GCP_SIMULATOR_STATE = join(EVENTS_DIR, 'gcp/simulator-state.json');
export const DEFAULT_GCP_PROVIDERS = join(EVENTS_DIR, 'gcp/local-providers.json');
/** The local Entra app secret; the simulator's state registers the same one. */
export const LOCAL_AZURE_SECRET_ENV = 'AGORA_AZURE_SECRET_AGORA_SAAS';
export const LOCAL_AZURE_SECRET = 'agora-local-azure-secret';
export const LOCAL_GCP_PUSH_SUBSCRIPTION =
  'projects/agora-demo/subscriptions/agora-marketplace-push';
export const LOCAL_SYNC_RETRY_BASE_MS = 1_000;
export const LOCAL_SYNC_RETRY_MAX_MS = 30_000;
export const LOCAL_WEBHOOK_SWEEP_MS = 1_000;
/** Deal-registration reminders and the ACE pull run every this many sweeps (every 10 s). */
export const LOCAL_PARTNER_JOBS_EVERY_SWEEPS = 10;
/** The local usage flush runs every this many sweeps (about once a minute). */
export const LOCAL_USAGE_FLUSH_EVERY_SWEEPS = 60;
export const SNS_CERT_PATH = '/local/sns/cert.pem';

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
  awsSimulatorUrl: z.url(),
  azureSimulatorUrl: z.url(),
  gcpSimulatorUrl: z.url(),
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

/** The AWS simulator's seed: the project's sample state unless one is given. */
export function defaultAwsSimulatorState(): AwsSimulatorState {
  if (!existsSync(DEFAULT_AWS_SIMULATOR_STATE))
    return { agreements: [], entitlements: [], registrations: [] };
  return AwsSimulatorStateSchema.parse(
    JSON.parse(readFileSync(DEFAULT_AWS_SIMULATOR_STATE, 'utf8')),
  );
}

/** What the local Catalog holds for a configured product (a demo listing). */
function localListing(productCode: string): Record<string, unknown> {
  return {
    Description: {
      ProductTitle: `Agora demo (${productCode})`,
      ShortDescription: 'A SaaS product sold through AWS Marketplace, simulated locally.',
      Highlights: ['Exact revenue schedules', 'Every marketplace event kept'],
      SearchKeywords: ['billing', 'marketplace'],
    },
    Dimensions: [
      {
        Key: 'basic_seats',
        Name: 'Basic seats',
        Description: 'A basic seat',
        Unit: 'Units',
        Types: ['Entitled'],
      },
      {
        Key: 'premium_seats',
        Name: 'Premium seats',
        Description: 'A premium seat',
        Unit: 'Units',
        Types: ['Entitled'],
      },
    ],
    Status: 'Public',
  };
}

/** The Azure subscription plan terms are read in, locally. */
export const LOCAL_AZURE_SUBSCRIPTION = '00000000-0000-4000-8000-00000000a6e1';

export function defaultAwsAccounts(): AwsAccountConfig[] {
  if (!existsSync(DEFAULT_AWS_ACCOUNTS)) return [];
  return AwsAccountsSchema.parse(JSON.parse(readFileSync(DEFAULT_AWS_ACCOUNTS, 'utf8')));
}

function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function defaultAzureSimulatorState(): AzureSimulatorStateInput {
  return AzureSimulatorStateSchema.parse(readJsonFile(DEFAULT_AZURE_SIMULATOR_STATE));
}

export function defaultAzureOffers(): AzureOfferConfig[] {
  return AzureOffersSchema.parse(readJsonFile(DEFAULT_AZURE_OFFERS));
}

export function defaultGcpSimulatorState(): GcpSimulatorState {
  return GcpSimulatorStateSchema.parse(readJsonFile(DEFAULT_GCP_SIMULATOR_STATE));
}

export function defaultGcpProviders(): GcpProviderConfig[] {
  return GcpProvidersSchema.parse(readJsonFile(DEFAULT_GCP_PROVIDERS));
}

export interface LocalStackOptions {
  readonly port: number;
  readonly dataDir: string;
  /** Use an already-running DynamoDB (tests share one per run); otherwise start our own. */
  readonly dynamodbEndpoint?: string;
  readonly tableName?: string;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly onDynamoOutput?: (line: string) => void;
  readonly awsSimulatorState?: AwsSimulatorState;
  readonly awsAccounts?: AwsAccountConfig[];
  readonly azureSimulatorState?: AzureSimulatorStateInput;
  readonly azureOffers?: AzureOfferConfig[];
  readonly gcpSimulatorState?: GcpSimulatorState;
  readonly gcpProviders?: GcpProviderConfig[];
  /** First retry delay of a failed sync (then ×3 per attempt, capped). */
  readonly syncRetryBaseMs?: number;
  readonly webhookSweepMs?: number;
  /** The seller's offer guardrails (default: the built-in policy). */
  readonly offerGuardrails?: GuardrailPolicyInput;
  /** Subjects allowed to approve offers besides admins. */
  readonly offerApprovers?: readonly string[];
}

export interface LocalStack {
  readonly url: string;
  readonly port: number;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  readonly stackFile: StackFile;
  readonly awsSimulator: AwsSimulator;
  readonly azureSimulator: AzureSimulator;
  readonly gcpSimulator: GcpSimulator;
  readonly queue: InProcessQueue;
  /** Resolves once every queued sync and due webhook has been worked off. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

async function loadHandler<T>(path: string): Promise<T> {
  const module = (await import(path)) as { handler: T };
  return module.handler;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(options.dataDir, { recursive: true });
  const tableName = options.tableName ?? LOCAL_TABLE_NAME;
  let dynamo: DynamoDbLocalHandle | null = null;
  let server: LocalHttpServer | null = null;
  let simulator: AwsSimulator | null = null;
  let azureSimulator: AzureSimulator | null = null;
  let gcpSimulator: GcpSimulator | null = null;
  let queue: InProcessQueue | null = null;
  let sweeper: NodeJS.Timeout | null = null;
  const stopAll = async () => {
    if (sweeper) clearInterval(sweeper);
    queue?.stop();
    await server?.close();
    await simulator?.close();
    await azureSimulator?.close();
    await gcpSimulator?.close();
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

    simulator = await startAwsSimulator({
      state: options.awsSimulatorState ?? defaultAwsSimulatorState(),
    });
    // The seller's configured products exist in the Catalog, so their listings can be read and edited.
    for (const account of options.awsAccounts ?? defaultAwsAccounts()) {
      for (const product of account.products) {
        if (product.productId)
          simulator.catalog.seedEntity(
            'SaaSProduct@1.0',
            product.productId,
            localListing(product.productCode),
          );
      }
    }
    azureSimulator = await startAzureSimulator({
      state: options.azureSimulatorState ?? defaultAzureSimulatorState(),
    });
    gcpSimulator = await startGcpSimulator({
      state: options.gcpSimulatorState ?? defaultGcpSimulatorState(),
    });
    const azureOffers = options.azureOffers ?? defaultAzureOffers();
    const gcpProviders = options.gcpProviders ?? defaultGcpProviders();
    const keys = await ensureDevKeys(options.dataDir);
    const snsSigner = createSnsSigner();

    // The sync worker is the Lambda handler; the queue delivers SQS-shaped events to it.
    const syncWorker = await loadHandler<(event: SQSEvent) => Promise<SQSBatchResponse>>(
      '../../functions/queue/sync-worker.ts',
    );
    const retryBaseMs = options.syncRetryBaseMs ?? LOCAL_SYNC_RETRY_BASE_MS;
    queue = new InProcessQueue({
      handler: syncWorker,
      retryDelayMs: (attempt) =>
        Math.min(LOCAL_SYNC_RETRY_MAX_MS, retryBaseMs * 3 ** Math.max(0, attempt - 1)),
    });
    configureContainer({ queue });

    const routes = await loadApiHandlers();
    const eventBridgeInlet = await loadHandler<(event: unknown) => Promise<unknown>>(
      '../../functions/inbound/aws-eventbridge.ts',
    );
    const snsSqsInlet = await loadHandler<(event: SQSEvent) => Promise<SQSBatchResponse>>(
      '../../functions/inbound/aws-sns-sqs.ts',
    );
    const deliverWebhooks = await loadHandler<() => Promise<unknown>>(
      '../../functions/scheduled/deliver-webhooks.ts',
    );
    const json = (status: number, body: unknown) => ({
      status,
      contentType: 'application/json',
      body: JSON.stringify(body),
    });
    let apiUrl = '';
    const staticRoutes: StaticRoute[] = [
      { method: 'GET', path: LOCAL_JWKS_PATH, respond: () => json(200, jwksDocument(keys)) },
      {
        method: 'GET',
        path: SNS_CERT_PATH,
        respond: () => ({
          status: 200,
          contentType: 'application/x-pem-file',
          body: snsSigner.publicKeyPem,
        }),
      },
      {
        method: 'POST',
        path: '/local/aws/eventbridge',
        respond: refuseBadInput(async (body) => {
          const events = [JSON.parse(body)].flat() as unknown[];
          const results = [];
          for (const event of events) results.push(await eventBridgeInlet(event));
          return json(202, { accepted: results.length, results });
        }),
      },
      {
        method: 'POST',
        path: '/local/aws/sqs',
        respond: refuseBadInput(async (body) => {
          const messages = [JSON.parse(body)].flat() as unknown[];
          const event: SQSEvent = {
            Records: messages.map((message, index) => localSqsRecord(message, index)),
          };
          return json(202, await snsSqsInlet(event));
        }),
      },
      {
        method: 'POST',
        path: '/local/aws/sns-publish',
        respond: refuseBadInput(async (body) => {
          // Sign a marketplace SNS message as SNS would and deliver it over HTTPS-style POST.
          const input = z
            .object({ topicArn: z.string(), message: z.unknown() })
            .parse(JSON.parse(body));
          const envelope = snsSigner.sign(
            buildSnsNotification({ topicArn: input.topicArn, message: input.message as object }),
            {
              certUrl: `${apiUrl}${SNS_CERT_PATH}`,
            },
          );
          const response = await fetch(`${apiUrl}/v1/webhooks/aws-sns`, {
            method: 'POST',
            body: JSON.stringify(envelope),
            headers: { 'content-type': 'text/plain' },
          });
          return json(response.status, await response.json());
        }),
      },
    ];
    server = await startLocalHttpServer({ port: options.port, routes, staticRoutes });
    apiUrl = server.url;
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
      AGORA_AWS_ENDPOINT: simulator.url,
      AGORA_AWS_ACCOUNTS: JSON.stringify(options.awsAccounts ?? defaultAwsAccounts()),
      // Always set: a previous stack in this process must not leak its policy into this one.
      AGORA_OFFER_GUARDRAILS: options.offerGuardrails
        ? JSON.stringify(options.offerGuardrails)
        : '',
      AGORA_OFFER_APPROVERS: (options.offerApprovers ?? []).join(','),
      // Emails (offer reminders) land as .eml files in the data folder's outbox.
      AGORA_EMAIL_OUTBOX_DIR: join(options.dataDir, 'outbox'),
      // Partner statements (PDF, CSV, JSON) are archived in the data folder.
      AGORA_STATEMENTS_DIR: join(options.dataDir, 'statements'),
      // ACE opportunities come from the AWS simulator's Partner Central.
      AGORA_ACE_CATALOG: 'AWS',
      AGORA_SNS_CERT_HOST_PATTERN: '^127\\.0\\.0\\.1$',
      AGORA_SNS_ALLOW_HTTP: 'true',
      AGORA_WEBHOOK_ALLOW_HTTP: 'true',
      AGORA_AZURE_OFFERS: JSON.stringify(azureOffers),
      AGORA_AZURE_FULFILLMENT_URL: `${azureSimulator.url}/api`,
      AGORA_AZURE_LOGIN_URL: azureSimulator.url,
      [LOCAL_AZURE_SECRET_ENV]: process.env[LOCAL_AZURE_SECRET_ENV] ?? LOCAL_AZURE_SECRET,
      AGORA_GCP_PROVIDERS: JSON.stringify(gcpProviders),
      AGORA_GCP_PROCUREMENT_URL: gcpSimulator.url,
      AGORA_GCP_PRODUCER_URL: gcpSimulator.url,
      AGORA_GCP_SERVICE_CONTROL_URL: gcpSimulator.url,
      AGORA_AZURE_INGESTION_URL: azureSimulator.url,
      AGORA_AZURE_ARM_URL: azureSimulator.url,
      AGORA_AZURE_SUBSCRIPTION_ID: LOCAL_AZURE_SUBSCRIPTION,
      AGORA_GCP_PRODUCTS: gcpSimulator.offers
        .products()
        .map((p) => p.productId)
        .join(','),
      AGORA_GOOGLE_OIDC_JWKS_URL: gcpSimulator.oidcJwksUrl,
      AGORA_GCP_SIGNUP_JWKS_URL: gcpSimulator.signupJwksUrl,
      AGORA_GCP_PUBSUB_URL: gcpSimulator.url,
    });
    // The marketplaces call back into this API, as Microsoft and Google would.
    const azureOffer = azureOffers[0];
    if (azureOffer) {
      azureSimulator.setWebhookTarget({
        url: `${server.url}/v1/webhooks/azure`,
        audience: azureOffer.appId,
        tenantId: azureOffer.tenantId,
      });
    }
    const gcpProvider = gcpProviders[0];
    if (gcpProvider) {
      gcpSimulator.setPushTarget({
        url: `${server.url}/v1/webhooks/gcp`,
        audience: gcpProvider.pushAudience,
        serviceAccountEmail: gcpProvider.pushServiceAccount,
        subscription: gcpProvider.pullSubscription ?? LOCAL_GCP_PUSH_SUBSCRIPTION,
      });
    }
    configureContainer({ queue });

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
      awsSimulatorUrl: simulator.url,
      azureSimulatorUrl: azureSimulator.url,
      gcpSimulatorUrl: gcpSimulator.url,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(stackFilePath(options.dataDir), `${JSON.stringify(stackFile, null, 2)}\n`);

    // Work left pending by a previous run (the queue is in memory) goes round again.
    await recoverPendingRaw(getContainer(), 0);
    let sweeping = false;
    let sweeps = 0;
    sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweeps += 1;
      // Webhooks due, offers whose change set may have finished, usage, expiry reminders.
      Promise.all([
        deliverWebhooks(),
        trackOffers(getContainer()),
        // Usage hours seal a few minutes past the hour; checking once a minute is plenty.
        sweeps % LOCAL_USAGE_FLUSH_EVERY_SWEEPS === 0
          ? flushUsage(getContainer(), { now: new Date().toISOString() })
          : Promise.resolve(),
        sendExpiryReminders(getContainer(), {
          today: new Date().toISOString().slice(0, 10),
          windows: getContainer().config.AGORA_OFFER_REMINDER_DAYS,
          recipients: getContainer().config.AGORA_NOTIFY_EMAILS,
        }),
        sweeps % LOCAL_PARTNER_JOBS_EVERY_SWEEPS === 0
          ? Promise.all([
              sendRegistrationReminders(getContainer(), {
                today: new Date().toISOString().slice(0, 10),
              }),
              pullCoSellOpportunities(getContainer()),
            ])
          : Promise.resolve(),
      ])
        .catch((error: unknown) =>
          getContainer().logger.error('background sweep failed', { error: error as Error }),
        )
        .finally(() => {
          sweeping = false;
        });
    }, options.webhookSweepMs ?? LOCAL_WEBHOOK_SWEEP_MS);

    const runningServer = server;
    const runningQueue = queue;
    const runningSimulator = simulator;
    const runningAzure = azureSimulator;
    const runningGcp = gcpSimulator;
    let stopped = false;
    return {
      url: runningServer.url,
      port: runningServer.port,
      dynamodbEndpoint: endpoint,
      tableName,
      stackFile,
      awsSimulator: runningSimulator,
      azureSimulator: runningAzure,
      gcpSimulator: runningGcp,
      queue: runningQueue,
      settle: async () => {
        await runningGcp.idle();
        await runningQueue.drain();
        await deliverWebhooks();
      },
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

function localSqsRecord(message: unknown, index: number): SQSEvent['Records'][number] {
  const now = String(Date.now());
  return {
    messageId: `local-${now}-${index}`,
    receiptHandle: `local-${now}-${index}`,
    body: typeof message === 'string' ? message : JSON.stringify(message),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'agora-local',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:agora-marketplace-sns',
    awsRegion: 'us-east-1',
  };
}

/**
 * The simulator inlets parse what they are sent: input they cannot read is the caller's mistake
 * (400 with the reason), not the stack's (500).
 */
function refuseBadInput(
  respond: (body: string) => Promise<LocalResponse>,
): (body: string) => Promise<LocalResponse> {
  return async (body) => {
    try {
      return await respond(body);
    } catch (error) {
      const unreadable =
        error instanceof SyntaxError ||
        error instanceof z.ZodError ||
        error instanceof InvalidInputError;
      if (!unreadable) throw error;
      return {
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({
          error: { code: 'invalid_input', message: String((error as Error).message).slice(0, 300) },
        }),
      };
    }
  };
}

type LocalResponse = { status: number; contentType: string; body: string };
