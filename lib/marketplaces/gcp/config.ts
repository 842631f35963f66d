/**
 * Google Cloud Marketplace identities of one deployment: several provider ids are normal, each
 * with its Pub/Sub subscription, the push service account and audience, the sign-up audience and
 * the approval policies for new entitlements and plan changes.
 */
import { z } from 'zod';

export const GCP_PROVIDERS_MAX = 20;
export const GOOGLE_OIDC_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
export const GCP_SIGNUP_ISSUER =
  'https://www.googleapis.com/robot/v1/metadata/x509/cloud-commerce-partner@system.gserviceaccount.com';

export const GcpProviderConfigSchema = z.object({
  providerId: z.string().min(1).max(128),
  /** The push subscription's OIDC audience (defaults to the push endpoint URL at Google). */
  pushAudience: z.string().min(1).max(2_048),
  /** The service account Pub/Sub signs push tokens as. */
  pushServiceAccount: z.email(),
  /** `projects/<p>/subscriptions/<s>` for pull mode, if used. */
  pullSubscription: z
    .string()
    .regex(/^projects\/[^/]+\/subscriptions\/[^/]+$/)
    .optional(),
  /** The `aud` of sign-up tokens: usually the seller's sign-up domain. */
  signupAudience: z.string().min(1).max(2_048),
  entitlementApproval: z.enum(['auto', 'manual']).default('auto'),
  planChangeApproval: z.enum(['auto', 'manual']).default('auto'),
});
export type GcpProviderConfig = z.infer<typeof GcpProviderConfigSchema>;
export const GcpProvidersSchema = z.array(GcpProviderConfigSchema).max(GCP_PROVIDERS_MAX);

export interface GcpMarketplaceSettings {
  readonly providers: readonly GcpProviderConfig[];
  /** https://cloudcommerceprocurement.googleapis.com (or the local simulator). */
  readonly procurementBaseUrl: string;
  /** Google's OIDC keys for push tokens. */
  readonly oidcJwksUrl: string;
  /** Keys of the marketplace's sign-up token signer. */
  readonly signupJwksUrl: string;
  /** Pub/Sub REST endpoint for pull mode (https://pubsub.googleapis.com or the simulator). */
  readonly pubsubEndpoint: string;
}

export function providerById(
  settings: GcpMarketplaceSettings,
  providerId: string | null | undefined,
): GcpProviderConfig | null {
  return settings.providers.find((p) => p.providerId === providerId) ?? null;
}
