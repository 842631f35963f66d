/** Builds Agora's stacks into an app; shared by infra/app.ts and the template tests. */
import type { App } from 'aws-cdk-lib';
import { AwsAccountsSchema } from '../lib/marketplaces/aws/config';
import { AzureOffersSchema } from '../lib/marketplaces/azure/config';
import { GcpProvidersSchema } from '../lib/marketplaces/gcp/config';
import { ConfigSchema } from '../lib/runtime/config';
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
  /**
   * Partner settings passed to every function as they are named in lib/runtime/config.ts
   * (AGORA_ACE_CATALOG, AGORA_ACE_PARTNER_ID, AGORA_DEAL_REGISTRATION_RULES,
   * AGORA_ATTRIBUTION_MODEL_ID); validated here so a bad value fails the synth, not a Lambda.
   */
  readonly partnerSettings?: Readonly<Record<string, string | undefined>>;
}

const PARTNER_SETTING_NAMES = [
  'AGORA_ACE_CATALOG',
  'AGORA_ACE_PARTNER_ID',
  'AGORA_DEAL_REGISTRATION_RULES',
  'AGORA_ATTRIBUTION_MODEL_ID',
] as const;

function partnerEnvironment(
  settings: Readonly<Record<string, string | undefined>> | undefined,
): Record<string, string> {
  const chosen: Record<string, string> = {};
  for (const name of PARTNER_SETTING_NAMES) {
    const value = settings?.[name];
    if (value !== undefined && value !== '') chosen[name] = value;
  }
  const parsed = ConfigSchema.pick({
    AGORA_ACE_CATALOG: true,
    AGORA_ACE_PARTNER_ID: true,
    AGORA_DEAL_REGISTRATION_RULES: true,
    AGORA_ATTRIBUTION_MODEL_ID: true,
  }).safeParse(chosen);
  if (!parsed.success)
    throw new Error(`Invalid partner setting ${String(parsed.error.issues[0]?.path[0])}`);
  return chosen;
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
    partnerEnvironment: partnerEnvironment(options.partnerSettings),
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
