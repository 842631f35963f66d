/**
 * The pipeline, in the CLI's own process: the store of the running stack (or the embedded
 * DynamoDB Local), the marketplace adapters pointed at the running stack's simulators (or at
 * an in-process simulator with the sample state), and no queue — the CLI syncs synchronously
 * and reports what happened.
 */
import type { MarketplaceAdapter } from '../app/ports';
import type { SyncDeps } from '../app/sync';
import type { LocalSettings } from '../local/settings';
import { type AwsSimulator, startAwsSimulator } from '../local/simulators/aws-simulator';
import { defaultAwsAccounts, defaultAwsSimulatorState, readStackFile } from '../local/stack';
import { AwsMarketplaceAdapter } from '../marketplaces/aws/adapter';
import { AwsAccountsSchema } from '../marketplaces/aws/config';
import { AwsGatewayRegistry } from '../marketplaces/aws/gateway';
import { systemClock } from '../runtime/container';
import { DynamoContractStore } from '../store/contract-store';
import { DynamoRawInboundStore } from '../store/raw-inbound-store';
import { DynamoSyncFailureStore } from '../store/sync-failure-store';
import { withStore } from './stack-client';

export interface CliPipeline extends SyncDeps {
  readonly contracts: DynamoContractStore;
  readonly rawInbound: DynamoRawInboundStore;
  readonly failures: DynamoSyncFailureStore;
  readonly source: 'running-stack' | 'embedded';
}

export async function withPipeline<T>(
  settings: LocalSettings,
  log: (line: string) => void,
  work: (pipeline: CliPipeline) => Promise<T>,
): Promise<T> {
  return withStore(
    settings,
    async ({ store, source }) => {
      const running = readStackFile(settings.dataDir);
      let simulator: AwsSimulator | null = null;
      let endpoint = source === 'running-stack' ? running?.awsSimulatorUrl : undefined;
      if (!endpoint) {
        simulator = await startAwsSimulator({ state: defaultAwsSimulatorState() });
        endpoint = simulator.url;
        log(`AWS Marketplace simulator (sample state) on ${endpoint}`);
      }
      try {
        const accounts = process.env.AGORA_AWS_ACCOUNTS
          ? AwsAccountsSchema.parse(JSON.parse(process.env.AGORA_AWS_ACCOUNTS))
          : defaultAwsAccounts();
        const awsSettings = { accounts, region: 'us-east-1', endpoint };
        const pipeline: CliPipeline = {
          rawInbound: new DynamoRawInboundStore(store),
          contracts: new DynamoContractStore(store),
          failures: new DynamoSyncFailureStore(store),
          adapters: {
            aws: new AwsMarketplaceAdapter(
              new AwsGatewayRegistry(awsSettings),
              awsSettings,
              systemClock.now,
            ) as MarketplaceAdapter,
          },
          hooks: [],
          clock: systemClock,
          source,
        };
        return await work(pipeline);
      } finally {
        await simulator?.close();
      }
    },
    log,
  );
}
