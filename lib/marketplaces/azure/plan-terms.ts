/**
 * Reads a plan's marketplace legal terms with `@azure/arm-marketplaceordering` — the one thing
 * that SDK genuinely does for a seller: it is the buyer-side ARM API behind "accept the terms of
 * a marketplace plan" (licence, privacy policy and Azure Marketplace terms links). Agora uses it
 * in the Azure listing check: every plan should have its terms published and readable. It does
 * not cover SaaS fulfillment, private offers, webhooks or metering (those are REST APIs).
 */
import { MarketplaceOrderingAgreements } from '@azure/arm-marketplaceordering';
import { MarketplaceUnavailableError } from '../../app/errors';

export const PLAN_TERMS_TIMEOUT_MS = 5_000;
export const PLAN_TERMS_RETRIES_MAX = 2;
/** The only offer type the API knows (virtual machine images); SaaS plans may have no terms. */
export const PLAN_TERMS_OFFER_TYPE = 'virtualmachine';

export interface PlanTerms {
  readonly licenseTextLink: string | null;
  readonly privacyPolicyLink: string | null;
  readonly marketplaceTermsLink: string | null;
  readonly accepted: boolean;
}

export interface PlanTermsSettings {
  /** The Azure subscription the terms are read in (terms are per subscription). */
  readonly subscriptionId: string;
  /** https://management.azure.com, or the local simulator. */
  readonly endpoint: string;
  readonly token: () => Promise<string>;
}

/** Plain-HTTP simulators cannot pass the SDK's TLS-only bearer policy; attach the token here. */
type PipelinePolicy = Parameters<MarketplaceOrderingAgreements['pipeline']['addPolicy']>[0];

function localBearerPolicy(token: () => Promise<string>): PipelinePolicy {
  return {
    name: 'agoraLocalBearer',
    async sendRequest(request, next) {
      request.headers.set('authorization', `Bearer ${await token()}`);
      return next(request);
    },
  };
}

export class AzurePlanTermsReader {
  private readonly client: MarketplaceOrderingAgreements;

  constructor(settings: PlanTermsSettings) {
    const credential = {
      getToken: async () => ({
        token: await settings.token(),
        expiresOnTimestamp: Date.now() + 5 * 60_000,
      }),
    };
    this.client = new MarketplaceOrderingAgreements(credential, settings.subscriptionId, {
      endpoint: settings.endpoint,
      retryOptions: {
        maxRetries: PLAN_TERMS_RETRIES_MAX,
        retryDelayInMs: 200,
        maxRetryDelayInMs: 2_000,
      },
      allowInsecureConnection: settings.endpoint.startsWith('http://'),
    });
    if (settings.endpoint.startsWith('http://')) {
      this.client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
      this.client.pipeline.addPolicy(localBearerPolicy(settings.token));
    }
  }

  /** The plan's terms, or null when Azure has none for it (404). */
  async read(publisherId: string, offerId: string, planId: string): Promise<PlanTerms | null> {
    try {
      const terms = await this.client.marketplaceAgreements.get(
        PLAN_TERMS_OFFER_TYPE,
        publisherId,
        offerId,
        planId,
        { abortSignal: AbortSignal.timeout(PLAN_TERMS_TIMEOUT_MS) },
      );
      return {
        licenseTextLink: terms.licenseTextLink ?? null,
        privacyPolicyLink: terms.privacyPolicyLink ?? null,
        marketplaceTermsLink: terms.marketplaceTermsLink ?? null,
        accepted: terms.accepted ?? false,
      };
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) return null;
      throw new MarketplaceUnavailableError(
        `Reading the terms of plan ${planId} failed${status ? ` (HTTP ${status})` : ''}`,
        { cause: error },
      );
    }
  }
}

/** The listing check: one line per plan, ok when its terms are published with their links. */
export function planTermsCheck(planId: string, terms: PlanTerms | null) {
  if (!terms)
    return {
      check: `plan ${planId} terms`,
      ok: false,
      detail: 'Azure has no marketplace terms for this plan',
    };
  const missing = (
    ['licenseTextLink', 'privacyPolicyLink', 'marketplaceTermsLink'] as const
  ).filter((k) => !terms[k]);
  return missing.length === 0
    ? {
        check: `plan ${planId} terms`,
        ok: true,
        detail: 'licence, privacy policy and marketplace terms are published',
      }
    : { check: `plan ${planId} terms`, ok: false, detail: `missing ${missing.join(', ')}` };
}
