/**
 * The composition root of a Lambda (and of the local stack, which runs the same handlers):
 * configuration validated once, one DynamoDB client, the adapters, the marketplace gateways,
 * the token verifier. Built on the first invocation and reused for the life of the process.
 * The local stack swaps in its in-process queue (and nothing else) before the first call.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { GoogleAuth } from 'google-auth-library';
import { attributeContract, attributeTouchedContracts } from '../app/attribution';
import type { CoSellOpportunitySource } from '../app/co-sell-ports';
import { commissionApplyHook } from '../app/commission-accrual-hook';
import { releaseAfterDisbursement } from '../app/commission-run';
import { PermanentSyncError } from '../app/errors';
import { finalFlush } from '../app/metering';
import type { MeteringGateway } from '../app/metering-ports';
import type {
  Clock,
  ListingGateway,
  MarketplaceAdapter,
  OfferPublisher,
  SyncQueue,
} from '../app/ports';
import type { JournalPoster, ReconciliationSettings, ReportReaders } from '../app/reconciliation';
import type { EmailOutbox } from '../app/reminder-ports';
import { LiveRevenueSettings } from '../app/revenue/live-settings';
import { revenueApplyHook } from '../app/revenue/revenue-hook';
import type { StatementArchive, StatementProblem, StatementRenderer } from '../app/statements';
import type { ApplyHook, SyncDeps } from '../app/sync';
import { webhookApplyHook } from '../app/webhooks';
import type { MeteringPolicy } from '../domain/metering/usage';
import type { GuardrailPolicy } from '../domain/offers/guardrails';
import type { RegistrationRules } from '../domain/partners/deal-registration';
import type { TouchRecord } from '../domain/partners/touch';
import type { Marketplace } from '../domain/schemas/primitives';
import { TokenVerifier } from '../http/auth';
import type { HttpDeps } from '../http/handler';
import { AwsMarketplaceAdapter } from '../marketplaces/aws/adapter';
import { AwsCatalogGatewayRegistry } from '../marketplaces/aws/catalog-gateway';
import type { AwsMarketplaceSettings } from '../marketplaces/aws/config';
import { AwsGatewayRegistry } from '../marketplaces/aws/gateway';
import { AwsListingGateway } from '../marketplaces/aws/listing-gateway';
import { AwsMeteringGateway } from '../marketplaces/aws/metering-gateway';
import { AwsOfferPublisher } from '../marketplaces/aws/offer-publisher';
import { SdkPartnerCentralGateway } from '../marketplaces/aws/partner-central-gateway';
import { SnsMessageVerifier } from '../marketplaces/aws/sns-verify';
import { AzureMarketplaceAdapter } from '../marketplaces/azure/adapter';
import type { AzureMarketplaceSettings } from '../marketplaces/azure/config';
import { AZURE_MARKETPLACE_APP_ID } from '../marketplaces/azure/config';
import { AzureFulfillmentClient } from '../marketplaces/azure/fulfillment-client';
import { AzureListingGateway } from '../marketplaces/azure/listing-gateway';
import { AzureMeteringGateway } from '../marketplaces/azure/metering-gateway';
import {
  AzureOfferPublisher,
  azureClientCredentialsToken,
} from '../marketplaces/azure/offer-publisher';
import { AzurePlanTermsReader } from '../marketplaces/azure/plan-terms';
import { AzureWebhookVerifier } from '../marketplaces/azure/webhook-auth';
import { GcpMarketplaceAdapter } from '../marketplaces/gcp/adapter';
import { GcpSignupVerifier, GooglePushVerifier } from '../marketplaces/gcp/auth';
import type { GcpMarketplaceSettings } from '../marketplaces/gcp/config';
import { GcpListingGateway } from '../marketplaces/gcp/listing-gateway';
import { GcpMeteringGateway } from '../marketplaces/gcp/metering-gateway';
import { GcpOfferPublisher } from '../marketplaces/gcp/offer-publisher';
import { GcpProcurementClient } from '../marketplaces/gcp/procurement-client';
import { REPORT_READERS } from '../marketplaces/report-readers';
import { FolderEmailOutbox, SesEmailOutbox } from '../outbound/email-outbox';
import {
  createS3Client,
  FolderStatementArchive,
  S3StatementArchive,
} from '../outbound/statement-archive';
import { FetchWebhookSender } from '../outbound/webhook-sender';
import { SqsSyncQueue } from '../queue/sqs-sync-queue';
import { loadStatementFonts } from '../statements/fonts';
import { createLazyStatementRenderer } from '../statements/renderer';
import { DynamoCommissionPlanStore } from '../store/commission-plan-store';
import { DynamoCommissionStore } from '../store/commission-store';
import { DynamoContractStore } from '../store/contract-store';
import { createDynamoClient } from '../store/dynamo-client';
import { DynamoStore } from '../store/dynamo-store';
import { DynamoFxRateStore } from '../store/fx-rate-store';
import { DynamoIdempotencyStore } from '../store/idempotency-store';
import { DynamoLedgerStore } from '../store/ledger-store';
import { DynamoOfferStore } from '../store/offer-store';
import {
  DynamoAttributionStore,
  DynamoCoSellCursorStore,
  DynamoPartnerStore,
  DynamoRegistrationStore,
  DynamoTouchStore,
} from '../store/partner-store';
import { DynamoPeriodStore } from '../store/period-store';
import { DynamoRawInboundStore } from '../store/raw-inbound-store';
import { DynamoReconciliationStore } from '../store/reconciliation-store';
import { DynamoReminderClaims } from '../store/reminder-store';
import { DynamoStatementIndex } from '../store/statement-store';
import { DynamoSyncFailureStore } from '../store/sync-failure-store';
import { DynamoUsageStore } from '../store/usage-store';
import { DynamoWebhookStore } from '../store/webhook-store';
import { type Config, loadConfig, revenueSettingsFrom } from './config';
import { createLogger } from './logger';
import { emitMetric, STATEMENT_FAILURES_METRIC } from './metrics';
import { CachedSecretSource, type SecretSource, secretsManagerFetcher } from './secrets';
import { traced } from './tracing';

export const SQS_REQUEST_TIMEOUT_MS = 3_000;

/** Contract events after which the contract's attribution is (re)computed. */
const ATTRIBUTION_TRIGGERS = new Set(['ContractCreated', 'ContractAmended', 'ContractRenewed']);

/**
 * Attribution after a contract change is best effort: the change is committed already, and the
 * commission run computes the attribution it needs before using it, so a failure here only
 * delays the version — it must not fail (and redeliver) the sync.
 */
async function attributeAfterApply(container: Container, contractId: string): Promise<void> {
  try {
    await attributeContract(container, contractId);
  } catch (error) {
    container.logger.warn('attribution after apply failed; the commission run retries it', {
      contractId,
      error: error as Error,
    });
  }
}

/** Statements live in the bucket in the cloud, in a folder locally. */
function statementArchiveFor(config: Config): StatementArchive {
  if (config.AGORA_STATEMENTS_DIR) return new FolderStatementArchive(config.AGORA_STATEMENTS_DIR);
  if (!config.AGORA_STATEMENTS_BUCKET) {
    // Nothing to archive into: every statement run reports it instead of losing files.
    return {
      put: () => Promise.reject(new Error('No statements bucket or folder is configured')),
      get: () => Promise.resolve(null),
    };
  }
  return new S3StatementArchive(
    traced(createS3Client({ region: config.AWS_REGION })),
    config.AGORA_STATEMENTS_BUCKET,
  );
}

export interface Container extends HttpDeps, SyncDeps {
  readonly config: Config;
  readonly store: DynamoStore;
  readonly rawInbound: DynamoRawInboundStore;
  readonly contracts: DynamoContractStore;
  readonly failures: DynamoSyncFailureStore;
  readonly webhooks: DynamoWebhookStore;
  readonly ledger: DynamoLedgerStore;
  readonly revenue: LiveRevenueSettings;
  readonly fxRates: DynamoFxRateStore;
  readonly periods: DynamoPeriodStore;
  readonly offers: DynamoOfferStore;
  readonly meteringGateways: Readonly<Partial<Record<Marketplace, MeteringGateway>>>;
  readonly usage: DynamoUsageStore;
  readonly meteringSettings: MeteringPolicy;
  readonly reminderClaims: DynamoReminderClaims;
  readonly emailOutbox: EmailOutbox;
  readonly listingGateways: Readonly<Partial<Record<Marketplace, ListingGateway>>>;
  readonly offerPublishers: Readonly<Partial<Record<Marketplace, OfferPublisher>>>;
  readonly offerSettings: {
    readonly guardrails: GuardrailPolicy;
    readonly approvers: readonly string[];
  };
  readonly webhookSender: FetchWebhookSender;
  readonly queue: SyncQueue;
  /** Present when the queue is SQS (AWS): used to delay a failed record's retry. */
  readonly sqsQueue: SqsSyncQueue | null;
  readonly awsGateways: AwsGatewayRegistry;
  readonly awsSettings: AwsMarketplaceSettings;
  readonly snsVerifier: SnsMessageVerifier;
  readonly azureSettings: AzureMarketplaceSettings;
  readonly azureClient: AzureFulfillmentClient;
  readonly azureVerifier: AzureWebhookVerifier;
  readonly gcpSettings: GcpMarketplaceSettings;
  readonly gcpClient: GcpProcurementClient;
  readonly googlePushVerifier: GooglePushVerifier;
  readonly signupVerifier: GcpSignupVerifier;
  /** Marketplace credentials by name (environment, else the credentials secret). */
  readonly secrets: SecretSource;
  readonly partners: DynamoPartnerStore;
  readonly commissionPlans: DynamoCommissionPlanStore;
  readonly commissions: DynamoCommissionStore;
  readonly commissionSettings: { readonly planId: string };
  readonly statementIndex: DynamoStatementIndex;
  readonly reconciliations: DynamoReconciliationStore;
  /** Journal entries outside a contract's book (true-ups): period-locked, once by entry id. */
  readonly journal: JournalPoster;
  readonly reportReaders: ReportReaders;
  readonly reconciliationSettings: ReconciliationSettings;
  readonly statementArchive: StatementArchive;
  readonly statementRenderer: StatementRenderer;
  readonly statementSettings: { readonly sellerName: string };
  /** A statement could not be issued (does not tie, archive incomplete): a metric and an error log. */
  readonly alarm: (problem: StatementProblem) => void;
  readonly registrations: DynamoRegistrationStore;
  readonly touches: DynamoTouchStore;
  readonly attribution: DynamoAttributionStore;
  readonly coSellCursor: DynamoCoSellCursorStore;
  readonly coSellSource: CoSellOpportunitySource | null;
  readonly registrationReminderClaims: DynamoReminderClaims;
  readonly partnerSettings: { readonly registrationRules: RegistrationRules };
  readonly attributionSettings: { readonly modelId: string };
  readonly coSellSettings: { readonly awsPartnerId: string };
  /** Re-attributes the contracts a new touch may belong to. */
  readonly onTouchRecorded: (touch: TouchRecord) => Promise<void>;
}

export interface ContainerOverrides {
  readonly queue?: SyncQueue;
  readonly clock?: Clock;
}

export const systemClock: Clock = { now: () => new Date().toISOString() };

export const GCP_CREDENTIALS_NAME = 'AGORA_GCP_CREDENTIALS_JSON';
const LOCAL_SIMULATOR_TOKEN = 'local-simulator-token';

/**
 * A service-account token for Google APIs (the key read lazily from the credentials), or, on the
 * local stage only, a fixed token for the simulator.
 */
export function gcpTokenProvider(
  secrets: SecretSource,
  stage: 'local' | 'aws',
): () => Promise<string> {
  let auth: GoogleAuth | null = null;
  return async () => {
    if (!auth) {
      const key = await secrets.get(GCP_CREDENTIALS_NAME);
      if (!key) {
        if (stage === 'local') return LOCAL_SIMULATOR_TOKEN;
        throw new PermanentSyncError(
          'gcp_credentials_missing',
          `No Google service-account key: set ${GCP_CREDENTIALS_NAME} in the credentials secret`,
        );
      }
      let credentials: Record<string, string>;
      try {
        credentials = JSON.parse(key) as Record<string, string>;
      } catch {
        throw new PermanentSyncError(
          'gcp_credentials_invalid',
          `${GCP_CREDENTIALS_NAME} is not a service-account key (JSON)`,
        );
      }
      auth = new GoogleAuth({
        credentials,
        scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      });
    }
    return (await auth.getAccessToken()) ?? '';
  };
}

/**
 * A token of the first configured offer's Entra app (client credentials) for `scope`: the
 * Product Ingestion API (default scope) or the marketplace fulfillment/metering API. Locally the
 * ingestion simulator takes any bearer token; the metering simulator checks real ones.
 */
function azureAppToken(
  config: Config,
  azure: AzureMarketplaceSettings,
  options: { scope?: string; anyTokenLocally: boolean },
): () => Promise<string> {
  if (options.anyTokenLocally && config.AGORA_STAGE === 'local')
    return async () => LOCAL_SIMULATOR_TOKEN;
  const offer = azure.offers[0];
  if (!offer) {
    return async () => {
      throw new PermanentSyncError(
        'azure_not_configured',
        'No Azure offer (Entra app) is configured',
      );
    };
  }
  return azureClientCredentialsToken({
    loginBaseUrl: config.AGORA_AZURE_LOGIN_URL,
    tenantId: offer.tenantId,
    clientId: offer.appId,
    clientSecret: async () =>
      offer.clientSecretEnv ? azure.secret(offer.clientSecretEnv) : undefined,
    ...(options.scope ? { scope: options.scope } : {}),
  });
}

class MissingQueue implements SyncQueue {
  async enqueue(): Promise<void> {
    throw new Error('No sync queue configured: set AGORA_SYNC_QUEUE_URL (or run the local stack)');
  }
}

export function buildContainer(
  env: Record<string, string | undefined>,
  overrides: ContainerOverrides = {},
): Container {
  const config = loadConfig(env);
  const logger = createLogger(config.AGORA_LOG_LEVEL);
  const clock = overrides.clock ?? systemClock;
  // Every AWS SDK client built here is traced (a no-op outside Lambda).
  const client = traced(
    createDynamoClient({ region: config.AWS_REGION, endpoint: config.AGORA_DYNAMODB_ENDPOINT }),
  );
  const store = new DynamoStore(client, config.AGORA_TABLE_NAME);
  const webhooks = new DynamoWebhookStore(store);
  const awsSettings: AwsMarketplaceSettings = {
    accounts: config.AGORA_AWS_ACCOUNTS,
    region: config.AGORA_AWS_MARKETPLACE_REGION,
    endpoint: config.AGORA_AWS_ENDPOINT,
  };
  const awsGateways = new AwsGatewayRegistry(awsSettings);
  const sqsQueue = config.AGORA_SYNC_QUEUE_URL
    ? new SqsSyncQueue(
        traced(
          new SQSClient({
            region: config.AWS_REGION,
            maxAttempts: 3,
            requestHandler: { requestTimeout: SQS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
          }),
        ),
        config.AGORA_SYNC_QUEUE_URL,
      )
    : null;
  const secrets = new CachedSecretSource(
    env,
    config.AGORA_CREDENTIALS_SECRET_ID,
    secretsManagerFetcher(config.AWS_REGION),
  );
  const azureSettings: AzureMarketplaceSettings = {
    offers: config.AGORA_AZURE_OFFERS,
    fulfillmentBaseUrl: config.AGORA_AZURE_FULFILLMENT_URL,
    loginBaseUrl: config.AGORA_AZURE_LOGIN_URL,
    changePolicy: config.AGORA_AZURE_CHANGE_POLICY,
    secret: (name) => secrets.get(name),
  };
  const azureClient = new AzureFulfillmentClient(azureSettings);
  const gcpSettings: GcpMarketplaceSettings = {
    providers: config.AGORA_GCP_PROVIDERS,
    procurementBaseUrl: config.AGORA_GCP_PROCUREMENT_URL,
    oidcJwksUrl: config.AGORA_GOOGLE_OIDC_JWKS_URL,
    signupJwksUrl: config.AGORA_GCP_SIGNUP_JWKS_URL,
    pubsubEndpoint: config.AGORA_GCP_PUBSUB_URL,
  };
  const gcpClient = new GcpProcurementClient(
    gcpSettings,
    gcpTokenProvider(secrets, config.AGORA_STAGE),
  );
  const keyFailure = (error: unknown) =>
    logger.error('signing keys could not be fetched', { error: error as Error });
  const adapters: Partial<Record<'aws' | 'azure' | 'gcp', MarketplaceAdapter>> = {
    aws: new AwsMarketplaceAdapter(awsGateways, awsSettings, () =>
      clock.now(),
    ) as MarketplaceAdapter,
    azure: new AzureMarketplaceAdapter(azureClient, azureSettings) as MarketplaceAdapter,
    gcp: new GcpMarketplaceAdapter(gcpClient, gcpSettings) as MarketplaceAdapter,
  };

  const catalogGateways = new AwsCatalogGatewayRegistry(awsSettings);
  // One token provider (and its cache) per Azure API, shared by every client that calls it.
  const azureIngestionToken = azureAppToken(config, azureSettings, { anyTokenLocally: true });
  const azureMarketplaceToken = azureAppToken(config, azureSettings, {
    scope: `${AZURE_MARKETPLACE_APP_ID}/.default`,
    anyTokenLocally: false,
  });
  const ledger = new DynamoLedgerStore(store);
  const commissions = new DynamoCommissionStore(store);
  const fxRates = new DynamoFxRateStore(store);
  const periods = new DynamoPeriodStore(store);
  const revenue = new LiveRevenueSettings(revenueSettingsFrom(env), fxRates, periods);
  // The container refers to itself for post-commit work (the final usage flush on cancellation)
  // and for the commission hook, which reads partners, attribution and plans.
  let self: Container | null = null;
  const commissionHook: ApplyHook = {
    name: 'commission',
    contribute: (change) =>
      self ? commissionApplyHook(self).contribute(change) : Promise.resolve({}),
  };
  const hooks: ApplyHook[] = [
    webhookApplyHook(webhooks),
    revenueApplyHook(ledger, revenue),
    commissionHook,
  ];
  const afterApply = async (outcome: { contractId: string; events: readonly string[] }) => {
    if (!self) return;
    if (outcome.events.some((e) => ATTRIBUTION_TRIGGERS.has(e)))
      await attributeAfterApply(self, outcome.contractId);
    if (outcome.events.includes('DisbursementReceived'))
      await releaseAfterDisbursement(self, outcome.contractId, self.logger);
    if (!outcome.events.some((e) => e === 'ContractCancelled' || e === 'ContractExpired')) return;
    await finalFlush(self, outcome.contractId, clock.now());
  };
  self = {
    afterApply,
    config,
    logger,
    clock,
    store,
    rawInbound: new DynamoRawInboundStore(store),
    contracts: new DynamoContractStore(store),
    failures: new DynamoSyncFailureStore(store),
    webhooks,
    ledger,
    revenue,
    fxRates,
    periods,
    offers: new DynamoOfferStore(store),
    usage: new DynamoUsageStore(store),
    meteringSettings: config.AGORA_METERING_POLICY,
    meteringGateways: {
      aws: new AwsMeteringGateway(awsSettings),
      azure: new AzureMeteringGateway({
        baseUrl: config.AGORA_AZURE_FULFILLMENT_URL,
        token: azureMarketplaceToken,
      }),
      gcp: new GcpMeteringGateway({
        baseUrl: config.AGORA_GCP_SERVICE_CONTROL_URL,
        token: gcpTokenProvider(secrets, config.AGORA_STAGE),
      }),
    },
    reminderClaims: new DynamoReminderClaims(store),
    emailOutbox: config.AGORA_EMAIL_OUTBOX_DIR
      ? new FolderEmailOutbox(config.AGORA_EMAIL_OUTBOX_DIR, config.AGORA_EMAIL_FROM)
      : new SesEmailOutbox({ from: config.AGORA_EMAIL_FROM, region: config.AWS_REGION }),
    offerPublishers: {
      aws: new AwsOfferPublisher(catalogGateways, awsSettings),
      azure: new AzureOfferPublisher({
        baseUrl: config.AGORA_AZURE_INGESTION_URL,
        token: azureIngestionToken,
      }),
      gcp: new GcpOfferPublisher({
        baseUrl: config.AGORA_GCP_PRODUCER_URL,
        token: gcpTokenProvider(secrets, config.AGORA_STAGE),
        providerId: config.AGORA_GCP_PROVIDERS[0]?.providerId ?? 'unconfigured',
      }),
    },
    listingGateways: {
      aws: new AwsListingGateway(catalogGateways, awsSettings),
      azure: new AzureListingGateway({
        baseUrl: config.AGORA_AZURE_INGESTION_URL,
        token: azureIngestionToken,
        productIds: () => azureSettings.offers.map((o) => o.offerId),
        publisherId: config.AGORA_AZURE_PUBLISHER_ID,
        planTerms: config.AGORA_AZURE_SUBSCRIPTION_ID
          ? new AzurePlanTermsReader({
              subscriptionId: config.AGORA_AZURE_SUBSCRIPTION_ID,
              endpoint: config.AGORA_AZURE_ARM_URL,
              token: azureIngestionToken,
            })
          : null,
      }),
      gcp: new GcpListingGateway({
        baseUrl: config.AGORA_GCP_PRODUCER_URL,
        token: gcpTokenProvider(secrets, config.AGORA_STAGE),
        providerId: config.AGORA_GCP_PROVIDERS[0]?.providerId ?? 'unconfigured',
        productIds: () => config.AGORA_GCP_PRODUCTS,
      }),
    },
    offerSettings: {
      guardrails: config.AGORA_OFFER_GUARDRAILS,
      approvers: config.AGORA_OFFER_APPROVERS,
    },
    webhookSender: new FetchWebhookSender(),
    queue: overrides.queue ?? sqsQueue ?? new MissingQueue(),
    sqsQueue: overrides.queue ? null : sqsQueue,
    adapters,
    hooks,
    awsGateways,
    awsSettings,
    snsVerifier: new SnsMessageVerifier({
      certHostPattern: new RegExp(config.AGORA_SNS_CERT_HOST_PATTERN),
      topicArnPattern: new RegExp(config.AGORA_SNS_TOPIC_ARN_PATTERN),
      allowHttp: config.AGORA_SNS_ALLOW_HTTP,
    }),
    azureSettings,
    azureClient,
    azureVerifier: new AzureWebhookVerifier(azureSettings, keyFailure),
    gcpSettings,
    gcpClient,
    googlePushVerifier: new GooglePushVerifier(gcpSettings, keyFailure),
    signupVerifier: new GcpSignupVerifier(gcpSettings, keyFailure),
    secrets,
    partners: new DynamoPartnerStore(store),
    commissionPlans: new DynamoCommissionPlanStore(store),
    commissions,
    commissionSettings: { planId: config.AGORA_COMMISSION_PLAN_ID },
    statementIndex: new DynamoStatementIndex(store),
    reconciliations: new DynamoReconciliationStore(store),
    journal: commissions,
    reportReaders: REPORT_READERS,
    reconciliationSettings: {
      trueUpMode: config.AGORA_RECONCILIATION_TRUE_UPS,
      paymentTermsDays: config.AGORA_PAYMENT_TERMS_DAYS,
    },
    statementArchive: statementArchiveFor(config),
    statementRenderer: createLazyStatementRenderer({
      sellerName: config.AGORA_SELLER_NAME,
      loadFonts: () => loadStatementFonts(),
    }),
    statementSettings: { sellerName: config.AGORA_SELLER_NAME },
    alarm: (problem) => {
      emitMetric(STATEMENT_FAILURES_METRIC, 1);
      logger.error('partner statement not issued', { ...problem });
    },
    registrations: new DynamoRegistrationStore(store),
    touches: new DynamoTouchStore(store),
    attribution: new DynamoAttributionStore(store),
    coSellCursor: new DynamoCoSellCursorStore(store),
    coSellSource:
      config.AGORA_ACE_CATALOG === 'none'
        ? null
        : new SdkPartnerCentralGateway({
            settings: awsSettings,
            account: awsSettings.accounts[0] ?? null,
            catalog: config.AGORA_ACE_CATALOG,
          }),
    registrationReminderClaims: new DynamoReminderClaims(store, { keyPrefix: 'DEALREG' }),
    partnerSettings: { registrationRules: config.AGORA_DEAL_REGISTRATION_RULES },
    attributionSettings: { modelId: config.AGORA_ATTRIBUTION_MODEL_ID },
    coSellSettings: { awsPartnerId: config.AGORA_ACE_PARTNER_ID },
    // Best effort, like attribution after apply: the touch is stored, and any later trigger
    // (the contract's next change, a recompute, the commission run) attributes from it.
    onTouchRecorded: async (touch) => {
      if (!self) return;
      try {
        await attributeTouchedContracts(self, touch);
      } catch (error) {
        self.logger.warn('re-attribution after a touch failed; a later trigger retries it', {
          touchId: touch.touchId,
          error: error as Error,
        });
      }
    },
    idempotency: new DynamoIdempotencyStore(store, config.AGORA_IDEMPOTENCY_TTL_HOURS * 3600),
    verifier: new TokenVerifier({
      issuer: config.AGORA_JWT_ISSUER,
      audience: config.AGORA_JWT_AUDIENCE,
      jwksUrl: config.AGORA_JWKS_URL,
      onKeyFetchFailure: (error) => logger.error('JWKS fetch failed', { error: error as Error }),
    }),
  };
  return self;
}

let current: Container | undefined;
let pendingOverrides: ContainerOverrides = {};

export function getContainer(): Container {
  current ??= buildContainer(process.env, pendingOverrides);
  return current;
}

/** The local stack injects its queue before handlers run; also drops any cached container. */
export function configureContainer(overrides: ContainerOverrides): void {
  pendingOverrides = overrides;
  current = undefined;
}

/** Drops the cached container (tests and the local stack's restart path). */
export function resetContainer(): void {
  current = undefined;
}
