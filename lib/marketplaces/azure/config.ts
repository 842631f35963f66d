/**
 * Microsoft commercial-marketplace identities of one deployment: one entry per SaaS offer, each
 * with the Entra app (tenant + client id) entered in the offer's technical configuration. The
 * webhook's token audience is that app; the fulfillment API is called as that app.
 */
import { z } from 'zod';

/** Microsoft's first-party marketplace app: the `appid`/`azp` of webhook tokens, and the API resource. */
export const AZURE_MARKETPLACE_APP_ID = '20e940b3-4c77-4b0b-9a53-9e16a1b010a7';
export const AZURE_OFFERS_MAX = 50;
const Guid = z.string().regex(/^[0-9a-fA-F-]{36}$/, 'a GUID');

export const AzureOfferConfigSchema = z.object({
  offerId: z.string().min(1).max(128),
  tenantId: Guid,
  /** The Entra app (client) id: the webhook token's audience and the API caller. */
  appId: Guid,
  /** Name of the environment variable (or secret) holding the app's client secret. */
  clientSecretEnv: z.string().min(1).max(128).optional(),
  /** Plan prices are not in the fulfillment API; finance may declare them here. */
  plans: z
    .array(
      z.object({
        planId: z.string().min(1).max(128),
        currency: z.string().length(3).default('USD'),
      }),
    )
    .max(100)
    .default([]),
});
export type AzureOfferConfig = z.infer<typeof AzureOfferConfigSchema>;
export const AzureOffersSchema = z.array(AzureOfferConfigSchema).max(AZURE_OFFERS_MAX);

export const AzureChangePolicySchema = z.object({
  changePlan: z.enum(['accept', 'reject']).default('accept'),
  changeQuantity: z.enum(['accept', 'reject']).default('accept'),
  reinstate: z.enum(['accept', 'reject']).default('accept'),
});
export type AzureChangePolicy = z.infer<typeof AzureChangePolicySchema>;

export interface AzureMarketplaceSettings {
  readonly offers: readonly AzureOfferConfig[];
  /** https://marketplaceapi.microsoft.com/api (or the local simulator). */
  readonly fulfillmentBaseUrl: string;
  /** https://login.microsoftonline.com (or the local simulator): token endpoint and JWKS. */
  readonly loginBaseUrl: string;
  readonly changePolicy: AzureChangePolicy;
  /** Reads a client secret by name (the environment locally, the credentials secret in AWS). */
  readonly secret: (name: string) => string | undefined | Promise<string | undefined>;
}

export function offerById(
  settings: AzureMarketplaceSettings,
  offerId: string | null | undefined,
): AzureOfferConfig | null {
  return settings.offers.find((o) => o.offerId === offerId) ?? null;
}
