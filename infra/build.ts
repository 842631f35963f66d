/** Builds Agora's stacks into an app; shared by infra/app.ts and the template tests. */
import type { App } from 'aws-cdk-lib';
import { AwsAccountsSchema } from '../lib/marketplaces/aws/config';
import { AzureOffersSchema } from '../lib/marketplaces/azure/config';
import { GcpProvidersSchema } from '../lib/marketplaces/gcp/config';
import { MARKETPLACE_EVENT_REGION, MarketplaceForwarderStack } from './marketplace-forwarder-stack';
import { StatefulStack } from './stateful-stack';
import { StatelessStack } from './stateless-stack';

export interface AgoraStacks {
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
  readonly forwarder: MarketplaceForwarderStack | null;
}

export interface AgoraOptions {
  readonly homeRegion: string;
  readonly account?: string | undefined;
  /** JSON list of seller accounts and products (lib/marketplaces/aws/config.ts). */
  readonly awsAccountsJson?: string;
  readonly snsProductCodes?: readonly string[];
  readonly azureOffersJson?: string;
  readonly gcpProvidersJson?: string;
}

export function buildAgora(app: App, options: AgoraOptions): AgoraStacks {
  const accounts = AwsAccountsSchema.parse(JSON.parse(options.awsAccountsJson ?? '[]'));
  const env = {
    region: options.homeRegion,
    ...(options.account ? { account: options.account } : {}),
  };
  const stateful = new StatefulStack(app, 'Agora-Stateful', {
    env,
    description: 'Agora: table, buckets and user pool (retained)',
    terminationProtection: true,
  });
  const stateless = new StatelessStack(app, 'Agora-Stateless', {
    env,
    description: 'Agora: functions, HTTP API and queues',
    table: stateful.table,
    userPool: stateful.userPool,
    apiClient: stateful.apiClient,
    credentialsSecret: stateful.credentialsSecret,
    awsAccountsJson: JSON.stringify(accounts),
    azureOffersJson: JSON.stringify(
      AzureOffersSchema.parse(JSON.parse(options.azureOffersJson ?? '[]')),
    ),
    gcpProvidersJson: JSON.stringify(
      GcpProvidersSchema.parse(JSON.parse(options.gcpProvidersJson ?? '[]')),
    ),
    assumableRoleArns: accounts.flatMap((a) => (a.roleArn ? [a.roleArn] : [])),
    snsProductCodes:
      options.snsProductCodes ??
      accounts.flatMap((a) =>
        a.products.filter((p) => p.identity === 'customer').map((p) => p.productCode),
      ),
  });
  const forwarder =
    options.homeRegion === MARKETPLACE_EVENT_REGION
      ? null
      : new MarketplaceForwarderStack(app, 'Agora-MarketplaceForwarder', {
          env: {
            region: MARKETPLACE_EVENT_REGION,
            ...(options.account ? { account: options.account } : {}),
          },
          description: `Agora: forwards AWS Marketplace events from ${MARKETPLACE_EVENT_REGION} to ${options.homeRegion}`,
          homeRegion: options.homeRegion,
        });
  return { stateful, stateless, forwarder };
}
