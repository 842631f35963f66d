/**
 * Authenticates what Google sends: Pub/Sub push requests carry a Google-signed OIDC JWT whose
 * audience is our push endpoint and whose email is the configured push service account; the
 * buyer's sign-up carries the marketplace's `x-gcp-marketplace-token` JWT (audience = our
 * sign-up domain, subject = the procurement account). Keys come from configuration.
 */
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { UnauthorizedError } from '../../app/errors';
import { tokenFailure } from '../token-failure';
import { GCP_SIGNUP_ISSUER, type GcpMarketplaceSettings, GOOGLE_OIDC_ISSUERS } from './config';

export const GOOGLE_JWT_CLOCK_TOLERANCE_SECONDS = 60;
export const GOOGLE_JWKS_TIMEOUT_MS = 3_000;
const TOKEN_LENGTH_MAX = 8_192;

function failure(error: unknown, onKeyFetchFailure?: (error: unknown) => void): Error {
  return tokenFailure(error, 'Google', onKeyFetchFailure);
}

export interface PushIdentity {
  readonly providerIds: readonly string[];
  readonly email: string;
}

export class GooglePushVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    private readonly settings: Pick<GcpMarketplaceSettings, 'providers' | 'oidcJwksUrl'>,
    private readonly onKeyFetchFailure?: (error: unknown) => void,
  ) {
    this.keys = createRemoteJWKSet(new URL(settings.oidcJwksUrl), {
      timeoutDuration: GOOGLE_JWKS_TIMEOUT_MS,
    });
  }

  async verify(authorization: string | undefined): Promise<PushIdentity> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
    if (!match?.[1] || match[1].length > TOKEN_LENGTH_MAX)
      throw new UnauthorizedError('Missing Google OIDC bearer token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], this.keys, {
        issuer: GOOGLE_OIDC_ISSUERS,
        audience: [...new Set(this.settings.providers.map((p) => p.pushAudience))],
        clockTolerance: GOOGLE_JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'aud', 'email'],
      }));
    } catch (error) {
      throw failure(error, this.onKeyFetchFailure);
    }
    if (payload.email_verified !== true)
      throw new UnauthorizedError('Push token email is not verified');
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const providers = this.settings.providers.filter(
      (p) => audiences.includes(p.pushAudience) && p.pushServiceAccount === payload.email,
    );
    if (providers.length === 0)
      throw new UnauthorizedError('Push token was not issued for our push service account');
    return { providerIds: providers.map((p) => p.providerId), email: String(payload.email) };
  }
}

export interface SignupClaims {
  readonly accountId: string;
  readonly userIdentity: string | null;
  readonly orders: readonly string[];
  readonly audience: string;
}

export class GcpSignupVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    private readonly settings: Pick<GcpMarketplaceSettings, 'providers' | 'signupJwksUrl'>,
    private readonly onKeyFetchFailure?: (error: unknown) => void,
  ) {
    // unverified: Google publishes service-account keys as JWKS at service_accounts/v1/jwk/<email>;
    // sign-up tokens name the x509 URL of the same account as issuer.
    this.keys = createRemoteJWKSet(new URL(settings.signupJwksUrl), {
      timeoutDuration: GOOGLE_JWKS_TIMEOUT_MS,
    });
  }

  async verify(token: string): Promise<SignupClaims> {
    if (token.length === 0 || token.length > TOKEN_LENGTH_MAX)
      throw new UnauthorizedError('Missing sign-up token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: GCP_SIGNUP_ISSUER,
        audience: [...new Set(this.settings.providers.map((p) => p.signupAudience))],
        clockTolerance: GOOGLE_JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub', 'aud'],
      }));
    } catch (error) {
      throw failure(error, this.onKeyFetchFailure);
    }
    // unverified: the `google` claim shape ({roles, user_identity, orders}) is inferred.
    const google = (payload.google ?? {}) as { user_identity?: unknown; orders?: unknown };
    const orders = Array.isArray(google.orders)
      ? google.orders.filter((o): o is string => typeof o === 'string')
      : [];
    return {
      accountId: String(payload.sub),
      userIdentity: typeof google.user_identity === 'string' ? google.user_identity : null,
      orders,
      audience: String(Array.isArray(payload.aud) ? payload.aud[0] : payload.aud),
    };
  }
}
