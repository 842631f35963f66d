/**
 * Configuration of a Lambda (or of the local stack, which sets the same variables), validated
 * once at cold start. An invalid value stops the process with one line naming the variable.
 */

import { z } from 'zod';
import { type RevenueSettings, sameCurrencyOnly } from '../app/revenue/settings';
import { InvalidInputError } from '../domain/errors';
import { MeteringPolicySchema } from '../domain/metering/usage';
import { DEFAULT_GUARDRAIL_POLICY, GuardrailPolicySchema } from '../domain/offers/guardrails';
import { parseReminderWindows } from '../domain/offers/reminders';
import {
  DEFAULT_REGISTRATION_RULES,
  RegistrationRulesSchema,
} from '../domain/partners/deal-registration';
import { DEFAULT_FEE_TABLE, FeeTableSchema } from '../domain/revenue/fee-table';
import { RevenuePoliciesSchema } from '../domain/revenue/policies';
import { CurrencySchema } from '../domain/schemas/primitives';
import { AwsAccountsSchema } from '../marketplaces/aws/config';
import {
  AWS_MARKETPLACE_TOPIC_ARN_PATTERN,
  AWS_SNS_CERT_HOST_PATTERN,
} from '../marketplaces/aws/sns-verify';
import { AzureChangePolicySchema, AzureOffersSchema } from '../marketplaces/azure/config';
import { GcpProvidersSchema } from '../marketplaces/gcp/config';
import { EMAIL_RECIPIENTS_MAX } from '../outbound/email-outbox';

const OptionalUrl = z.url().optional();

/** A comma-separated list in one environment variable (blanks dropped), each item validated. */
function commaList<T extends z.ZodType<unknown, string>>(item: T, max: number) {
  return z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(item).max(max));
}

/** A JSON document in one variable, or the built-in default when unset or empty. */
function jsonOrDefault<T extends z.ZodType>(schema: T, fallback: z.output<T>, what: string) {
  return z
    .string()
    .optional()
    .transform((text, context): z.output<T> => {
      if (text === undefined || text === '') return fallback;
      try {
        return schema.parse(JSON.parse(text));
      } catch (error) {
        context.addIssue({
          code: 'custom',
          message: `not a valid ${what}: ${(error as Error).message.slice(0, 200)}`,
        });
        return z.NEVER;
      }
    });
}

/** A JSON list in one environment variable, validated by its schema. */
function jsonOf<T extends z.ZodType>(schema: T, fallback = '[]') {
  return z
    .string()
    .default(fallback)
    .transform((text, context): z.output<T> => {
      try {
        return schema.parse(JSON.parse(text));
      } catch (error) {
        context.addIssue({
          code: 'custom',
          message: `not valid: ${(error as Error).message.slice(0, 200)}`,
        });
        return z.NEVER;
      }
    });
}

export const ConfigSchema = z.object({
  AGORA_STAGE: z.enum(['local', 'aws']).default('aws'),
  AGORA_TABLE_NAME: z.string().min(3).max(255),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** DynamoDB Local's endpoint (local stack only). */
  AGORA_DYNAMODB_ENDPOINT: OptionalUrl,
  AGORA_JWT_ISSUER: z.string().min(1),
  AGORA_JWT_AUDIENCE: z.string().min(1),
  AGORA_JWKS_URL: z.url(),
  AGORA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** How long an Idempotency-Key is remembered. */
  AGORA_IDEMPOTENCY_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  AGORA_VERSION: z.string().default('0.1.0'),
  /** The SQS FIFO sync queue (AWS); the local stack injects its in-process queue instead. */
  AGORA_SYNC_QUEUE_URL: OptionalUrl,
  /** JSON list of seller accounts and products (lib/marketplaces/aws/config.ts). */
  AGORA_AWS_ACCOUNTS: z
    .string()
    .default('[]')
    .transform((text, context) => {
      try {
        return AwsAccountsSchema.parse(JSON.parse(text));
      } catch (error) {
        context.addIssue({
          code: 'custom',
          message: `not a valid accounts list: ${(error as Error).message.slice(0, 200)}`,
        });
        return z.NEVER;
      }
    }),
  /** The marketplace APIs' region (AWS Marketplace serves them from us-east-1). */
  AGORA_AWS_MARKETPLACE_REGION: z.string().default('us-east-1'),
  /** Local simulator endpoint for the marketplace APIs. */
  AGORA_AWS_ENDPOINT: OptionalUrl,
  /** Which hosts may serve SNS signing certificates (regex source). */
  AGORA_SNS_CERT_HOST_PATTERN: z.string().default(AWS_SNS_CERT_HOST_PATTERN.source),
  AGORA_SNS_TOPIC_ARN_PATTERN: z.string().default(AWS_MARKETPLACE_TOPIC_ARN_PATTERN.source),
  /** Local simulators serve certificates over http. */
  AGORA_SNS_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Where a registered AWS buyer is sent (303) after POST /v1/marketplace/aws/register. */
  AGORA_AWS_LANDING_URL: OptionalUrl,
  /** JSON list of Azure SaaS offers and their Entra apps (lib/marketplaces/azure/config.ts). */
  AGORA_AZURE_OFFERS: jsonOf(AzureOffersSchema),
  AGORA_AZURE_CHANGE_POLICY: z
    .string()
    .default('{}')
    .transform((text, context) => {
      try {
        return AzureChangePolicySchema.parse(JSON.parse(text));
      } catch (error) {
        context.addIssue({
          code: 'custom',
          message: `not a valid change policy: ${(error as Error).message.slice(0, 200)}`,
        });
        return z.NEVER;
      }
    }),
  AGORA_AZURE_FULFILLMENT_URL: z.url().default('https://marketplaceapi.microsoft.com/api'),
  AGORA_AZURE_LOGIN_URL: z.url().default('https://login.microsoftonline.com'),
  /** Microsoft Product Ingestion API (private offers, listings). */
  AGORA_AZURE_INGESTION_URL: z.url().default('https://graph.microsoft.com'),
  /** ARM (plan terms through @azure/arm-marketplaceordering) and the subscription it reads in. */
  AGORA_AZURE_ARM_URL: z.url().default('https://management.azure.com'),
  AGORA_AZURE_SUBSCRIPTION_ID: z.string().min(1).max(64).optional(),
  /** The seller's Partner Center publisher id (plan terms are read under it). */
  AGORA_AZURE_PUBLISHER_ID: z.string().min(1).max(128).default('agora'),
  /** Google products this deployment sells (comma list): their listings are read (never written). */
  AGORA_GCP_PRODUCTS: commaList(z.string().max(256), 100),
  /** JSON list of GCP provider ids (lib/marketplaces/gcp/config.ts). */
  AGORA_GCP_PROVIDERS: jsonOf(GcpProvidersSchema),
  AGORA_GCP_PROCUREMENT_URL: z.url().default('https://cloudcommerceprocurement.googleapis.com'),
  /** Metering policy (lib/domain/metering/usage.ts): lateness windows, sealing, zero hours, Azure plan dimensions. */
  AGORA_METERING_POLICY: jsonOf(MeteringPolicySchema, '{}'),
  /** Google's Service Control API (usage reports). */
  AGORA_GCP_SERVICE_CONTROL_URL: z.url().default('https://servicecontrol.googleapis.com'),
  /** Google's Commerce Producer API (private offers; v1beta, early access). */
  AGORA_GCP_PRODUCER_URL: z.url().default('https://cloudcommerceproducer.googleapis.com'),
  AGORA_GOOGLE_OIDC_JWKS_URL: z.url().default('https://www.googleapis.com/oauth2/v3/certs'),
  AGORA_GCP_SIGNUP_JWKS_URL: z
    .url()
    .default(
      'https://www.googleapis.com/service_accounts/v1/jwk/cloud-commerce-partner@system.gserviceaccount.com',
    ),
  AGORA_GCP_PUBSUB_URL: z.url().default('https://pubsub.googleapis.com'),
  /**
   * Secrets Manager secret (JSON object of name → value) with marketplace credentials: Azure
   * client secrets under their `clientSecretEnv` names, the Google key under
   * AGORA_GCP_CREDENTIALS_JSON. Environment variables of the same names win (local development).
   */
  AGORA_CREDENTIALS_SECRET_ID: z.string().min(1).optional(),
  /** The currency the books are kept in. */
  AGORA_FUNCTIONAL_CURRENCY: CurrencySchema.default('USD'),
  /** Revenue policies (lib/domain/revenue/policies.ts), JSON; defaults are finance.md's. */
  AGORA_REVENUE_POLICIES: jsonOf(RevenuePoliciesSchema, '{}'),
  /** The seller's offer guardrails (lib/domain/offers/guardrails.ts); default: the built-in policy. */
  AGORA_OFFER_GUARDRAILS: jsonOrDefault(
    GuardrailPolicySchema,
    DEFAULT_GUARDRAIL_POLICY,
    'guardrail policy',
  ),
  /** Days before an offer's expiry when its reminders go out (comma list; default 14,7,1). */
  AGORA_OFFER_REMINDER_DAYS: z
    .string()
    .optional()
    .transform((text, context) => {
      try {
        return parseReminderWindows(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message.slice(0, 200) });
        return z.NEVER;
      }
    }),
  /** Who gets offer reminder emails (comma list; none: webhooks only). */
  AGORA_NOTIFY_EMAILS: commaList(z.email(), EMAIL_RECIPIENTS_MAX),
  /** The verified SES sender of notification emails. */
  AGORA_EMAIL_FROM: z.string().min(3).max(320).default('Agora <agora@localhost>'),
  /** Locally: write emails as .eml files here instead of sending them through SES. */
  AGORA_EMAIL_OUTBOX_DIR: z.string().min(1).optional(),
  /** Locally: partner statements are archived in this folder (the cloud uses the bucket). */
  AGORA_STATEMENTS_DIR: z.string().min(1).optional(),
  /** The statements bucket (set by the CDK stack). */
  AGORA_STATEMENTS_BUCKET: z.string().min(3).max(63).optional(),
  /** The seller's name in the header of partner statements. */
  AGORA_SELLER_NAME: z.string().min(1).max(120).default('Agora seller'),
  /** The report bucket (set by the CDK stack): marketplace reports to reconcile land under reports/. */
  AGORA_REPORTS_BUCKET: z.string().min(3).max(63).optional(),
  /** Rule 16: within-tolerance true-ups are posted at once (`post`) or wait for finance (`propose`). */
  AGORA_RECONCILIATION_TRUE_UPS: z.enum(['post', 'propose']).default('post'),
  /** Buyer payment terms in days for the aging when a report gives no due date. */
  AGORA_PAYMENT_TERMS_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** Subjects (besides admins) who may approve or reject held offers, comma-separated. */
  AGORA_OFFER_APPROVERS: commaList(z.string().max(256), 100),
  /** Deal-registration rules (lib/domain/partners/deal-registration.ts), JSON; default: 90-day protection. */
  AGORA_DEAL_REGISTRATION_RULES: jsonOrDefault(
    RegistrationRulesSchema,
    DEFAULT_REGISTRATION_RULES,
    'deal registration rules',
  ),
  /** The commission plan the month-end commission run applies (versions via /v1/commission-plans). */
  AGORA_COMMISSION_PLAN_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
    .default('partner-standard'),
  /** Which attribution model family contracts use (versions via /v1/attribution-models). */
  AGORA_ATTRIBUTION_MODEL_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
    .default('default'),
  /** AWS Partner Central catalog to pull ACE opportunities from; none turns the pull off. */
  AGORA_ACE_CATALOG: z.enum(['AWS', 'Sandbox', 'none']).default('none'),
  /** The partner id ACE touches are recorded under (the AWS co-sell team). */
  AGORA_ACE_PARTNER_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
    .default('aws-co-sell'),
  /** A replacement marketplace fee table (lib/domain/revenue/fee-table.ts), JSON. */
  AGORA_FEE_TABLE: jsonOrDefault(FeeTableSchema, DEFAULT_FEE_TABLE, 'fee table'),
  /** Allow http:// webhook endpoints (local development only). */
  AGORA_WEBHOOK_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigurationError extends InvalidInputError {
  constructor(message: string) {
    super('invalid_configuration', message);
  }
}

/** Parses the environment; the error message names the first bad variable on one line. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = String(issue?.path[0] ?? 'configuration');
  const problem =
    env[variable] === undefined ? 'is not set' : `is invalid (${issue?.message ?? 'bad value'})`;
  throw new ConfigurationError(`Configuration error: ${variable} ${problem}`);
}

/** The revenue settings of a configuration (the CLI reads them without the rest). */
export function revenueSettingsFrom(env: Record<string, string | undefined>): RevenueSettings {
  const parsed = ConfigSchema.pick({
    AGORA_FUNCTIONAL_CURRENCY: true,
    AGORA_REVENUE_POLICIES: true,
    AGORA_FEE_TABLE: true,
  }).safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(
      `${String(issue?.path[0] ?? 'configuration')}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return {
    functionalCurrency: parsed.data.AGORA_FUNCTIONAL_CURRENCY,
    policies: parsed.data.AGORA_REVENUE_POLICIES,
    feeTable: parsed.data.AGORA_FEE_TABLE,
    rate: sameCurrencyOnly,
  };
}
