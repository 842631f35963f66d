/** Builds Agora's stacks into an app; shared by infra/app.ts and the template tests. */
import type { App } from 'aws-cdk-lib';
import { MARKETPLACE_EVENT_REGION, MarketplaceForwarderStack } from './marketplace-forwarder-stack';
import { StatefulStack } from './stateful-stack';
import { StatelessStack } from './stateless-stack';

export interface AgoraStacks {
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
  readonly forwarder: MarketplaceForwarderStack | null;
}

export function buildAgora(
  app: App,
  options: { homeRegion: string; account?: string | undefined },
): AgoraStacks {
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
