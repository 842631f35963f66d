/**
 * The CDK app: `npx cdk synth` (offline, esbuild bundling) and `npm run deploy`.
 * Home region: CDK_DEFAULT_REGION, or the `homeRegion` context value (-c homeRegion=eu-west-1).
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildAgora, parseAlertEmails } from './build';

const app = new App();
buildAgora(app, {
  homeRegion:
    (app.node.tryGetContext('homeRegion') as string | undefined) ??
    process.env.CDK_DEFAULT_REGION ??
    'us-east-1',
  account: process.env.CDK_DEFAULT_ACCOUNT,
  // -c awsAccounts='[{"sellerAccountId":"111122223333","products":[{"productCode":"abc","identity":"license"}]}]'
  azureOffersJson:
    (app.node.tryGetContext('azureOffers') as string | undefined) ??
    process.env.AGORA_AZURE_OFFERS ??
    '[]',
  gcpProvidersJson:
    (app.node.tryGetContext('gcpProviders') as string | undefined) ??
    process.env.AGORA_GCP_PROVIDERS ??
    '[]',
  awsAccountsJson:
    (app.node.tryGetContext('awsAccounts') as string | undefined) ??
    process.env.AGORA_AWS_ACCOUNTS ??
    '[]',
  // -c settings='{"AGORA_EMAIL_FROM":"billing@example.com","AGORA_SELLER_NAME":"Example Inc."}'
  settingsJson:
    (app.node.tryGetContext('settings') as string | undefined) ?? process.env.AGORA_SETTINGS,
  // -c alertEmails=ops@example.com,finance@example.com subscribes them to the alerts topics.
  alertEmails: parseAlertEmails(
    (app.node.tryGetContext('alertEmails') as string | undefined) ?? process.env.AGORA_ALERT_EMAILS,
  ),
  // -c aceCatalog=AWS turns the hourly ACE pull on (Partner Central, us-east-1).
  partnerSettings: {
    AGORA_ACE_CATALOG:
      (app.node.tryGetContext('aceCatalog') as string | undefined) ?? process.env.AGORA_ACE_CATALOG,
    AGORA_ACE_PARTNER_ID:
      (app.node.tryGetContext('acePartnerId') as string | undefined) ??
      process.env.AGORA_ACE_PARTNER_ID,
    AGORA_DEAL_REGISTRATION_RULES:
      (app.node.tryGetContext('dealRegistrationRules') as string | undefined) ??
      process.env.AGORA_DEAL_REGISTRATION_RULES,
    AGORA_ATTRIBUTION_MODEL_ID:
      (app.node.tryGetContext('attributionModelId') as string | undefined) ??
      process.env.AGORA_ATTRIBUTION_MODEL_ID,
  },
});
Tags.of(app).add('application', 'agora');
// Any unacknowledged AwsSolutions finding interrupts synthesis.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
