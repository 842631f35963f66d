/**
 * The pipeline, in the CLI's own process: the store of the running stack (or the embedded
 * DynamoDB Local), the marketplace adapters pointed at the running stack's simulators (or at
 * an in-process simulator with the sample state), and no queue — the CLI syncs synchronously
 * and reports what happened.
 */

import type { z } from 'zod';
import { commissionApplyHook } from '../app/commission-accrual-hook';
import { releaseAfterDisbursement } from '../app/commission-run';
import type { MarketplaceAdapter } from '../app/ports';
import { LiveRevenueSettings } from '../app/revenue/live-settings';
import { revenueApplyHook } from '../app/revenue/revenue-hook';
import type { SyncDeps } from '../app/sync';
import type { LocalSettings } from '../local/settings';
import { startAwsSimulator } from '../local/simulators/aws-simulator';
import { startAzureSimulator } from '../local/simulators/azure-simulator';
import { startGcpSimulator } from '../local/simulators/gcp-simulator';
import {
  defaultAwsAccounts,
  defaultAwsSimulatorState,
  defaultAzureOffers,
  defaultAzureSimulatorState,
  defaultGcpProviders,
  defaultGcpSimulatorState,
  LOCAL_AZURE_SECRET,
  LOCAL_AZURE_SECRET_ENV,
  readStackFile,
  type StackFile,
} from '../local/stack';
import { AwsMarketplaceAdapter } from '../marketplaces/aws/adapter';
import { AwsAccountsSchema } from '../marketplaces/aws/config';
import { AwsGatewayRegistry } from '../marketplaces/aws/gateway';
import { AzureMarketplaceAdapter } from '../marketplaces/azure/adapter';
import {
  AzureChangePolicySchema,
  type AzureMarketplaceSettings,
  AzureOffersSchema,
} from '../marketplaces/azure/config';
import { AzureFulfillmentClient } from '../marketplaces/azure/fulfillment-client';
import { GcpMarketplaceAdapter } from '../marketplaces/gcp/adapter';
import { type GcpMarketplaceSettings, GcpProvidersSchema } from '../marketplaces/gcp/config';
import { GcpProcurementClient } from '../marketplaces/gcp/procurement-client';
import { ConfigSchema, revenueSettingsFrom } from '../runtime/config';
import { systemClock } from '../runtime/container';
import { DynamoCommissionPlanStore } from '../store/commission-plan-store';
import { DynamoCommissionStore } from '../store/commission-store';
import { DynamoContractStore } from '../store/contract-store';
import type { DynamoStore } from '../store/dynamo-store';
import { DynamoFxRateStore } from '../store/fx-rate-store';
import { DynamoLedgerStore } from '../store/ledger-store';
import { DynamoAttributionStore, DynamoPartnerStore } from '../store/partner-store';
import { DynamoPeriodStore } from '../store/period-store';
import { DynamoRawInboundStore } from '../store/raw-inbound-store';
import { DynamoSyncFailureStore } from '../store/sync-failure-store';
import { withStore } from './stack-client';

export interface CliPipeline extends SyncDeps {
  /** The table itself, for the use cases that need more stores than the pipeline's. */
  readonly store: DynamoStore;
  readonly contracts: DynamoContractStore;
  readonly ledger: DynamoLedgerStore;
  readonly revenue: LiveRevenueSettings;
  readonly fxRates: DynamoFxRateStore;
  readonly periods: DynamoPeriodStore;
  readonly rawInbound: DynamoRawInboundStore;
  readonly failures: DynamoSyncFailureStore;
  readonly source: 'running-stack' | 'embedded';
}

/** The simulators the CLI talks to: the running stack's, or in-process ones it started. */
interface SimulatorEndpoints {
  readonly aws: string;
  readonly azure: string;
  readonly gcp: string;
  close(): Promise<void>;
}

/** Where the adapters point when a command never reads a marketplace (nothing listens there). */
const NO_MARKETPLACE_URL = 'http://127.0.0.1:9';

async function simulatorEndpoints(
  running: StackFile | null,
  log: (line: string) => void,
  marketplaces: boolean,
): Promise<SimulatorEndpoints> {
  if (!running && !marketplaces) {
    return {
      aws: NO_MARKETPLACE_URL,
      azure: NO_MARKETPLACE_URL,
      gcp: NO_MARKETPLACE_URL,
      close: async () => {},
    };
  }
  if (running) {
    return {
      aws: running.awsSimulatorUrl,
      azure: running.azureSimulatorUrl,
      gcp: running.gcpSimulatorUrl,
      close: async () => {},
    };
  }
  const aws = await startAwsSimulator({ state: defaultAwsSimulatorState() });
  const azure = await startAzureSimulator({ state: defaultAzureSimulatorState() });
  const gcp = await startGcpSimulator({ state: defaultGcpSimulatorState() });
  log(`marketplace simulators (sample state): aws ${aws.url}, azure ${azure.url}, gcp ${gcp.url}`);
  return {
    aws: aws.url,
    azure: azure.url,
    gcp: gcp.url,
    close: async () => {
      await Promise.all([aws.close(), azure.close(), gcp.close()]);
    },
  };
}

function listFromEnv<T>(name: string, schema: z.ZodType<T[]>, fallback: () => T[]): T[] {
  const value = process.env[name];
  return value ? schema.parse(JSON.parse(value)) : fallback();
}

export async function withPipeline<T>(
  settings: LocalSettings,
  log: (line: string) => void,
  work: (pipeline: CliPipeline) => Promise<T>,
  /** `marketplaces: false`: the command never re-reads a marketplace, so no simulator starts. */
  options: { readonly marketplaces?: boolean } = {},
): Promise<T> {
  return withStore(
    settings,
    async ({ store, source }) => {
      const running = source === 'running-stack' ? readStackFile(settings.dataDir) : null;
      const endpoints = await simulatorEndpoints(running, log, options.marketplaces ?? true);
      try {
        const accounts = listFromEnv('AGORA_AWS_ACCOUNTS', AwsAccountsSchema, defaultAwsAccounts);
        const awsSettings = { accounts, region: 'us-east-1', endpoint: endpoints.aws };
        const azureSettings: AzureMarketplaceSettings = {
          offers: listFromEnv('AGORA_AZURE_OFFERS', AzureOffersSchema, defaultAzureOffers),
          fulfillmentBaseUrl: `${endpoints.azure}/api`,
          loginBaseUrl: endpoints.azure,
          changePolicy: AzureChangePolicySchema.parse({}),
          secret: (name) =>
            process.env[name] ?? (name === LOCAL_AZURE_SECRET_ENV ? LOCAL_AZURE_SECRET : undefined),
        };
        const gcpSettings: GcpMarketplaceSettings = {
          providers: listFromEnv('AGORA_GCP_PROVIDERS', GcpProvidersSchema, defaultGcpProviders),
          procurementBaseUrl: endpoints.gcp,
          oidcJwksUrl: endpoints.gcp,
          signupJwksUrl: endpoints.gcp,
          pubsubEndpoint: endpoints.gcp,
        };
        const ledger = new DynamoLedgerStore(store);
        const fxRates = new DynamoFxRateStore(store);
        const periods = new DynamoPeriodStore(store);
        const revenue = new LiveRevenueSettings(revenueSettingsFrom(process.env), fxRates, periods);
        const attribution = new DynamoAttributionStore(store);
        const commissions = new DynamoCommissionStore(store);
        const pipeline: CliPipeline = {
          store,
          ledger,
          revenue,
          fxRates,
          periods,
          rawInbound: new DynamoRawInboundStore(store),
          contracts: new DynamoContractStore(store),
          failures: new DynamoSyncFailureStore(store),
          adapters: {
            aws: new AwsMarketplaceAdapter(
              new AwsGatewayRegistry(awsSettings),
              awsSettings,
              systemClock.now,
            ) as MarketplaceAdapter,
            azure: new AzureMarketplaceAdapter(
              new AzureFulfillmentClient(azureSettings),
              azureSettings,
            ) as MarketplaceAdapter,
            gcp: new GcpMarketplaceAdapter(
              new GcpProcurementClient(gcpSettings, async () => 'local-simulator-token'),
              gcpSettings,
            ) as MarketplaceAdapter,
          },
          // Revenue and commission follow every change as in the cloud; provisioning webhooks
          // are the running stack's business.
          hooks: [
            revenueApplyHook(ledger, revenue),
            commissionApplyHook({
              attribution,
              partners: new DynamoPartnerStore(store),
              commissionPlans: new DynamoCommissionPlanStore(store),
              // Read when an invoice needs it: a bad value must not break unrelated commands.
              commissionSettings: {
                get planId() {
                  return ConfigSchema.shape.AGORA_COMMISSION_PLAN_ID.parse(
                    process.env.AGORA_COMMISSION_PLAN_ID,
                  );
                },
              },
              revenue,
            }),
          ],
          // A payout recorded here (agora reconcile, disbursements) releases held commission at
          // once, as the Lambda does; the month-end run stays the backstop.
          afterApply: async (outcome) => {
            if (!outcome.events.includes('DisbursementReceived')) return;
            await releaseAfterDisbursement(
              { ledger, attribution, commissions, revenue, clock: systemClock },
              outcome.contractId,
              {
                info: (message, { contractId }) => log(`${message}: ${String(contractId)}`),
                warn: (message, { contractId, error }) =>
                  log(`${message}: ${String(contractId)}: ${(error as Error).message}`),
              },
            );
          },
          clock: systemClock,
          source,
        };
        return await work(pipeline);
      } finally {
        await endpoints.close();
      }
    },
    log,
  );
}
