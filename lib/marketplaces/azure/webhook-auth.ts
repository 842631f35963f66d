/**
 * Authenticates Microsoft's SaaS fulfillment webhook: an Entra ID bearer JWT whose signing key
 * comes from the tenant's JWKS (configuration), whose `aud` is one of our offers' Entra apps,
 * whose `tid` is that offer's tenant, and whose `appid` (v1) or `azp` (v2) is the marketplace's
 * first-party app. The issuer is not pinned: it differs between v1 and v2 tokens (as Microsoft's
 * own SaaS Accelerator does).
 */
import { createRemoteJWKSet, decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { UnauthorizedError } from '../../app/errors';
import { tokenFailure } from '../token-failure';
import { AZURE_MARKETPLACE_APP_ID, type AzureMarketplaceSettings } from './config';

export const AZURE_JWT_CLOCK_TOLERANCE_SECONDS = 60;
export const AZURE_JWKS_TIMEOUT_MS = 3_000;
const TOKEN_LENGTH_MAX = 8_192;

export interface AzureWebhookIdentity {
  readonly tenantId: string;
  readonly appId: string;
  readonly subject: string;
}

export class AzureWebhookVerifier {
  private readonly keySets = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly settings: Pick<AzureMarketplaceSettings, 'offers' | 'loginBaseUrl'>,
    private readonly onKeyFetchFailure?: (error: unknown) => void,
  ) {}

  private keysFor(tenantId: string): JWTVerifyGetKey {
    let keys = this.keySets.get(tenantId);
    if (!keys) {
      keys = createRemoteJWKSet(
        new URL(`${this.settings.loginBaseUrl}/${tenantId}/discovery/v2.0/keys`),
        {
          timeoutDuration: AZURE_JWKS_TIMEOUT_MS,
        },
      );
      this.keySets.set(tenantId, keys);
    }
    return keys;
  }

  async verify(authorization: string | undefined): Promise<AzureWebhookIdentity> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
    if (!match?.[1] || match[1].length > TOKEN_LENGTH_MAX)
      throw new UnauthorizedError('Missing Entra ID bearer token');
    const token = match[1];
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(token);
    } catch (error) {
      throw new UnauthorizedError('Malformed bearer token', { cause: error });
    }
    // Pick the tenant's key set only for a configured tenant: an unknown tenant never costs a fetch.
    const tenantId = typeof claims.tid === 'string' ? claims.tid : '';
    const offers = this.settings.offers.filter(
      (o) => o.tenantId.toLowerCase() === tenantId.toLowerCase(),
    );
    if (offers.length === 0)
      throw new UnauthorizedError('Token tenant (tid) is not one of our offers');
    try {
      const { payload } = await jwtVerify(token, this.keysFor(tenantId), {
        audience: offers.map((o) => o.appId),
        clockTolerance: AZURE_JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'aud', 'tid'],
      });
      const caller = payload.appid ?? payload.azp;
      if (caller !== AZURE_MARKETPLACE_APP_ID)
        throw new UnauthorizedError('Token was not issued to the marketplace app (appid/azp)');
      // The app recorded is the configured one the token was for (aud may be a list).
      const audiences = [payload.aud].flat().map((a) => String(a).toLowerCase());
      const app = offers.find((o) => audiences.includes(o.appId.toLowerCase()));
      return { tenantId, appId: app?.appId ?? '', subject: String(payload.sub ?? '') };
    } catch (error) {
      throw tokenFailure(error, 'Entra ID', this.onKeyFetchFailure);
    }
  }
}
