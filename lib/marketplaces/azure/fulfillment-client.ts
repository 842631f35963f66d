/**
 * The SaaS Fulfillment API v2 (api-version 2018-08-31), called as the offer's Entra app with a
 * client-credentials token (cached until shortly before it expires). REST, so no SDK: timeouts
 * and bounded jittered retries come from lib/outbound/http-json.ts.
 */
import { z } from 'zod';
import {
  ConflictError,
  MarketplaceUnavailableError,
  NotFoundError,
  PermanentSyncError,
  UnauthorizedError,
} from '../../app/errors';
import { requestJson } from '../../outbound/http-json';
import {
  AZURE_MARKETPLACE_APP_ID,
  type AzureMarketplaceSettings,
  type AzureOfferConfig,
} from './config';

export const AZURE_API_VERSION = '2018-08-31';
/** Pages of a subscription list walked in one reconciliation run. */
export const AZURE_LIST_PAGES_MAX = 50;
const TOKEN_EARLY_REFRESH_MS = 60_000;

// unverified: shapes from the 2022 azure-docs webhook page and Microsoft's SaaS API emulator; kept
// lenient (unknown fields pass, most fields optional) as Microsoft asks.
export const AzureSubscriptionSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  publisherId: z.string().nullish(),
  offerId: z.string().min(1),
  planId: z.string().min(1),
  quantity: z.union([z.number(), z.string()]).nullish(),
  beneficiary: z
    .looseObject({ tenantId: z.string().nullish(), emailId: z.string().nullish() })
    .nullish(),
  purchaser: z.looseObject({ tenantId: z.string().nullish() }).nullish(),
  saasSubscriptionStatus: z.string().min(1),
  isFreeTrial: z.boolean().nullish(),
  isTest: z.boolean().nullish(),
  term: z
    .looseObject({
      startDate: z.string().nullish(),
      endDate: z.string().nullish(),
      termUnit: z.string().nullish(),
    })
    .nullish(),
  autoRenew: z.boolean().nullish(),
  created: z.string().nullish(),
  lastModified: z.string().nullish(),
});
export type AzureSubscription = z.infer<typeof AzureSubscriptionSchema>;

export const AzureOperationSchema = z.looseObject({
  id: z.string().min(1),
  subscriptionId: z.string().min(1),
  action: z.string().min(1),
  status: z.string().min(1),
  planId: z.string().nullish(),
  quantity: z.union([z.number(), z.string()]).nullish(),
  offerId: z.string().nullish(),
  timeStamp: z.string().nullish(),
});
export type AzureOperation = z.infer<typeof AzureOperationSchema>;

const ResolveSchema = z.looseObject({
  id: z.string().min(1),
  offerId: z.string().nullish(),
  planId: z.string().nullish(),
  subscription: AzureSubscriptionSchema.nullish(),
});
const ListSchema = z.looseObject({
  subscriptions: z.array(z.unknown()).default([]),
  '@nextLink': z.string().nullish(),
});
const TokenSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.union([z.number(), z.string()]),
});

export class AzureFulfillmentClient {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly settings: AzureMarketplaceSettings) {}

  private async token(offer: AzureOfferConfig): Promise<string> {
    const cached = this.tokens.get(offer.appId);
    if (cached && cached.expiresAt - TOKEN_EARLY_REFRESH_MS > Date.now()) return cached.token;
    const secret = offer.clientSecretEnv
      ? await this.settings.secret(offer.clientSecretEnv)
      : undefined;
    if (!secret) {
      throw new PermanentSyncError(
        'azure_credentials_missing',
        `No client secret for app ${offer.appId}: set ${offer.clientSecretEnv ?? 'clientSecretEnv'} (environment or the credentials secret)`,
      );
    }
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: offer.appId,
      client_secret: secret,
      scope: `${AZURE_MARKETPLACE_APP_ID}/.default`,
    });
    const response = await fetch(
      `${this.settings.loginBaseUrl}/${offer.tenantId}/oauth2/v2.0/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(5_000),
      },
    ).catch((error: unknown) => {
      throw new MarketplaceUnavailableError(
        `Entra token request failed: ${(error as Error).message}`,
        { cause: error },
      );
    });
    const parsed = TokenSchema.safeParse(await response.json().catch(() => null));
    if (!response.ok || !parsed.success) {
      throw new PermanentSyncError(
        'azure_credentials_rejected',
        `Entra ID refused the credentials of app ${offer.appId} (HTTP ${response.status})`,
      );
    }
    const token = {
      token: parsed.data.access_token,
      expiresAt: Date.now() + Number(parsed.data.expires_in) * 1000,
    };
    this.tokens.set(offer.appId, token);
    return token.token;
  }

  private offerFor(offerId: string | null | undefined): AzureOfferConfig {
    const offer =
      this.settings.offers.find((o) => o.offerId === offerId) ?? this.settings.offers[0];
    if (!offer)
      throw new PermanentSyncError(
        'azure_not_configured',
        'No Azure offer is configured (AGORA_AZURE_OFFERS)',
      );
    return offer;
  }

  private async call(
    offer: AzureOfferConfig,
    method: string,
    path: string,
    operation: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const separator = path.includes('?') ? '&' : '?';
    const url = path.startsWith('http')
      ? path
      : `${this.settings.fulfillmentBaseUrl}/saas/subscriptions${path}${separator}api-version=${AZURE_API_VERSION}`;
    return requestJson(
      url,
      {
        method,
        headers: { authorization: `Bearer ${await this.token(offer)}`, ...headers },
        ...(body !== undefined ? { body } : {}),
      },
      { operation },
    );
  }

  /** Resolves a landing-page token with each configured app until one recognizes it. */
  async resolve(
    marketplaceToken: string,
  ): Promise<AzureSubscription & { resolvedOfferId: string }> {
    for (const offer of this.settings.offers) {
      const response = await this.call(offer, 'POST', '/resolve', 'Resolve', undefined, {
        'x-ms-marketplace-token': marketplaceToken,
      });
      if (response.status === 200) {
        const resolved = ResolveSchema.parse(response.body);
        const subscription =
          resolved.subscription ??
          (await this.getSubscription(resolved.id, resolved.offerId ?? offer.offerId));
        if (!subscription)
          throw new MarketplaceUnavailableError(
            `Resolved subscription ${resolved.id} cannot be read yet`,
          );
        return { ...subscription, resolvedOfferId: resolved.offerId ?? offer.offerId };
      }
      if (response.status !== 400 && response.status !== 403 && response.status !== 404) {
        throw new MarketplaceUnavailableError(`Resolve answered HTTP ${response.status}`);
      }
    }
    throw new UnauthorizedError('The marketplace landing token is not valid');
  }

  async getSubscription(
    subscriptionId: string,
    offerId?: string | null,
  ): Promise<AzureSubscription | null> {
    const response = await this.call(
      this.offerFor(offerId),
      'GET',
      `/${encodeURIComponent(subscriptionId)}`,
      'GetSubscription',
    );
    if (response.status === 404 || response.status === 400) return null;
    if (response.status !== 200)
      throw new MarketplaceUnavailableError(`GetSubscription answered HTTP ${response.status}`);
    return AzureSubscriptionSchema.parse(response.body);
  }

  async getOperation(
    subscriptionId: string,
    operationId: string,
    offerId?: string | null,
  ): Promise<AzureOperation | null> {
    const response = await this.call(
      this.offerFor(offerId),
      'GET',
      `/${encodeURIComponent(subscriptionId)}/operations/${encodeURIComponent(operationId)}`,
      'GetOperation',
    );
    if (response.status === 404 || response.status === 400) return null;
    if (response.status !== 200)
      throw new MarketplaceUnavailableError(`GetOperation answered HTTP ${response.status}`);
    return AzureOperationSchema.parse(response.body);
  }

  /** Accepts or rejects an InProgress operation; false when it is no longer in progress (409). */
  async updateOperation(
    subscriptionId: string,
    operationId: string,
    status: 'Success' | 'Failure',
    offerId?: string | null,
  ): Promise<boolean> {
    const response = await this.call(
      this.offerFor(offerId),
      'PATCH',
      `/${encodeURIComponent(subscriptionId)}/operations/${encodeURIComponent(operationId)}`,
      'UpdateOperation',
      { status },
    );
    if (response.status === 409) return false;
    if (response.status !== 200)
      throw new MarketplaceUnavailableError(`UpdateOperation answered HTTP ${response.status}`);
    return true;
  }

  async activate(
    subscriptionId: string,
    planId: string,
    quantity: number | null,
    offerId?: string | null,
  ): Promise<void> {
    const response = await this.call(
      this.offerFor(offerId),
      'POST',
      `/${encodeURIComponent(subscriptionId)}/activate`,
      'Activate',
      {
        planId,
        ...(quantity !== null ? { quantity } : {}),
      },
    );
    // Activation is only ever called by a seller through the API: answer in its terms.
    if (response.status === 404)
      throw new NotFoundError(`Microsoft does not know subscription ${subscriptionId}`);
    if (response.status === 400) {
      throw new ConflictError(
        'azure_activation_rejected',
        `Microsoft refused the activation: ${JSON.stringify(response.body).slice(0, 300)}`,
      );
    }
    if (response.status !== 200)
      throw new MarketplaceUnavailableError(`Activate answered HTTP ${response.status}`);
  }

  /** Unsubscribes (also how a publisher refuses a Reinstate). */
  async deleteSubscription(subscriptionId: string, offerId?: string | null): Promise<void> {
    const response = await this.call(
      this.offerFor(offerId),
      'DELETE',
      `/${encodeURIComponent(subscriptionId)}`,
      'DeleteSubscription',
    );
    if (response.status !== 202 && response.status !== 200)
      throw new MarketplaceUnavailableError(`Delete answered HTTP ${response.status}`);
  }

  /** Every subscription visible to one offer's app, page by page (bounded). */
  async listSubscriptions(offer: AzureOfferConfig): Promise<AzureSubscription[]> {
    const out: AzureSubscription[] = [];
    let next: string | null = '';
    for (let page = 0; page < AZURE_LIST_PAGES_MAX && next !== null; page += 1) {
      const response = await this.call(offer, 'GET', next || '', 'ListSubscriptions');
      if (response.status !== 200)
        throw new MarketplaceUnavailableError(`ListSubscriptions answered HTTP ${response.status}`);
      const list = ListSchema.parse(response.body);
      for (const item of list.subscriptions) {
        const parsed = AzureSubscriptionSchema.safeParse(item);
        if (parsed.success) out.push(parsed.data);
      }
      next = list['@nextLink'] ?? null;
    }
    return out;
  }
}
