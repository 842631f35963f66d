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
  /** Email addresses subscribed to the operators' alerts topics (each confirms by mail). */
  readonly alertEmails?: readonly string[];
  /**
   * JSON object of other settings for every function, named as in lib/runtime/config.ts (e.g.
   * AGORA_EMAIL_FROM, AGORA_SELLER_NAME, AGORA_AZURE_CHANGE_POLICY); each is validated here.
   */
  readonly settingsJson?: string;
}

/** Settings the stacks set themselves (or that only make sense locally): `settings` cannot set them. */
export const STACK_OWNED_SETTINGS: ReadonlySet<string> = new Set([
  'AGORA_STAGE',
  'AGORA_TABLE_NAME',
  'AWS_REGION',
  'AGORA_DYNAMODB_ENDPOINT',
  'AGORA_JWT_ISSUER',
  'AGORA_JWT_AUDIENCE',
  'AGORA_JWKS_URL',
  'AGORA_SYNC_QUEUE_URL',
  'AGORA_AWS_ACCOUNTS',
  'AGORA_AWS_ENDPOINT',
  'AGORA_AZURE_OFFERS',
  'AGORA_GCP_PROVIDERS',
  'AGORA_CREDENTIALS_SECRET_ID',
  'AGORA_STATEMENTS_BUCKET',
  'AGORA_STATEMENTS_DIR',
  'AGORA_REPORTS_BUCKET',
  'AGORA_EMAIL_OUTBOX_DIR',
]);

/** `{"AGORA_EMAIL_FROM":"billing@example.com"}` → validated variables; a bad one fails the synth. */
export function settingsEnvironment(json: string | undefined): Record<string, string> {
  const parsed: unknown = JSON.parse(json ?? '{}');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('settings must be a JSON object of AGORA_* names to string values');
  const chosen: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!(name in ConfigSchema.shape)) throw new Error(`Unknown setting ${name}`);
    if (STACK_OWNED_SETTINGS.has(name))
      throw new Error(`Setting ${name} is set by the stack (or its own context value)`);
    if (typeof value !== 'string') throw new Error(`Setting ${name} must be a string`);
    const check = ConfigSchema.pick({ [name]: true } as never).safeParse({ [name]: value });
    if (!check.success)
      throw new Error(`Invalid setting ${name}: ${check.error.issues[0]?.message ?? 'invalid'}`);
    chosen[name] = value;
  }
  return chosen;
}

/** `a@x.com,b@y.org` → the addresses; anything that is not an address fails the synth. */
export function parseAlertEmails(value: string | undefined): string[] {
  const emails = (value ?? '')
    .split(',')
    .map((email) => email.trim())
    .filter((email) => email !== '');
  for (const email of emails) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      throw new Error(`Invalid alert email address: ${email}`);
  }
  return emails;
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
    partnerEnvironment: {
      ...settingsEnvironment(options.settingsJson),
      ...partnerEnvironment(options.partnerSettings),
    },
    alertEmails: options.alertEmails ?? [],
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
          alertEmails: options.alertEmails ?? [],
        });
  return { stateful, stateless, forwarder };
}
