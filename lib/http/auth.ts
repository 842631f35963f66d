/**
 * API authentication: OIDC bearer JWTs verified with jose against a JWKS from configuration
 * (Cognito in AWS, the local stack's development key pair locally). Roles come from a `roles`
 * claim or Cognito's `cognito:groups`; a partner token must carry its partner id.
 * A JWKS that cannot be fetched is a 401 for the caller and an error in the log, never a 500.
 */
import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { z } from 'zod';
import { UnauthorizedError } from '../app/errors';

export const ROLES = ['seller', 'finance', 'partner', 'service', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const JWKS_FETCH_TIMEOUT_MS = 3_000;
/** Refetch at most this often when a token names an unknown key id. */
export const JWKS_COOLDOWN_MS = 30_000;
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
export const JWT_CLOCK_TOLERANCE_SECONDS = 30;
export const JWT_LENGTH_MAX = 8_192;
const ALGORITHMS = ['RS256', 'ES256', 'PS256'];

export interface Principal {
  readonly subject: string;
  readonly issuer: string;
  readonly roles: readonly Role[];
  /** Set for partner tokens: the only partner whose data the caller may read. */
  readonly partnerId: string | null;
  readonly tokenId: string | null;
  readonly expiresAt: string | null;
}

export interface TokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** Receives failures worth an operator's attention (JWKS unreachable). */
  readonly onKeyFetchFailure?: (error: unknown) => void;
}

/** Thrown when the JWKS endpoint fails; the caller still gets a plain 401. */
export class KeyFetchError extends UnauthorizedError {}

export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    private readonly options: TokenVerifierOptions,
    keys?: JWTVerifyGetKey,
  ) {
    this.keys =
      keys ??
      createRemoteJWKSet(new URL(options.jwksUrl), {
        timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
        cooldownDuration: JWKS_COOLDOWN_MS,
        cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      });
  }

  /** Verifies an Authorization header value; every failure is an UnauthorizedError. */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (!header) throw new UnauthorizedError('Missing bearer token (Authorization: Bearer <jwt>)');
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match?.[1] || match[1].length > JWT_LENGTH_MAX) {
      throw new UnauthorizedError('Authorization header must be "Bearer <jwt>"');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], this.keys, {
        issuer: this.options.issuer,
        algorithms: ALGORITHMS,
        clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw this.translate(error);
    }
    return principalFrom(payload, this.options.audience);
  }

  private translate(error: unknown): UnauthorizedError {
    if (
      error instanceof joseErrors.JWKSTimeout ||
      error instanceof joseErrors.JWKSInvalid ||
      // jose throws the bare base class when the JWKS endpoint answers non-200
      (error instanceof Error && error.constructor === joseErrors.JOSEError) ||
      (error instanceof Error && !(error instanceof joseErrors.JOSEError))
    ) {
      // The key set could not be fetched or parsed: the caller is not authenticated, and an
      // operator needs to know.
      this.options.onKeyFetchFailure?.(error);
      return new KeyFetchError('Could not verify the token: signing keys unavailable', {
        cause: error,
      });
    }
    if (error instanceof joseErrors.JWTExpired)
      return new UnauthorizedError('Token expired', { cause: error });
    if (error instanceof joseErrors.JWKSNoMatchingKey) {
      return new UnauthorizedError('Token signed with an unknown key', { cause: error });
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return new UnauthorizedError('Token signature is invalid', { cause: error });
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      return new UnauthorizedError(`Token claim "${error.claim}" is invalid`, { cause: error });
    }
    return new UnauthorizedError('Token is invalid', { cause: error });
  }
}

/**
 * Audience: `aud` must include ours; Cognito access tokens carry `client_id` instead of `aud`.
 * Roles: `roles` (local and generic OIDC) or `cognito:groups`; unknown roles are ignored.
 */
export function principalFrom(payload: JWTPayload, audience: string): Principal {
  const aud = payload.aud;
  const audiences = aud === undefined ? [] : Array.isArray(aud) ? aud : [aud];
  const audienceOk =
    audiences.length > 0 ? audiences.includes(audience) : payload.client_id === audience;
  if (!audienceOk) throw new UnauthorizedError('Token claim "aud" is invalid');

  const rawRoles = payload.roles ?? payload['cognito:groups'] ?? [];
  const roleList = Array.isArray(rawRoles)
    ? rawRoles
    : typeof rawRoles === 'string'
      ? rawRoles.split(/[\s,]+/)
      : [];
  const roles = [...new Set(roleList.filter((r): r is Role => RoleSchema.safeParse(r).success))];
  const partnerClaim = payload.partner_id ?? payload['custom:partner_id'];
  const partnerId =
    typeof partnerClaim === 'string' && partnerClaim.length > 0 ? partnerClaim : null;
  if (roles.includes('partner') && partnerId === null) {
    throw new UnauthorizedError('A partner token must carry a partner_id claim');
  }
  return {
    subject: String(payload.sub),
    issuer: String(payload.iss),
    roles,
    partnerId,
    tokenId: typeof payload.jti === 'string' ? payload.jti : null,
    expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : null,
  };
}
