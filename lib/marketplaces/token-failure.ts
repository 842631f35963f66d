/**
 * How a failed marketplace token verification is reported: a bad token (unknown key, bad
 * signature, wrong claim) is 401; signing keys that could not be fetched or parsed are a
 * temporary failure on our side (503), so the marketplace retries instead of giving up.
 */
import { errors as joseErrors } from 'jose';
import { SigningKeysUnavailableError, UnauthorizedError } from '../app/errors';

const KEY_SET_FAILURES: ReadonlyArray<new (...args: never[]) => Error> = [
  joseErrors.JWKSTimeout,
  joseErrors.JWKSInvalid,
];

export function tokenFailure(
  error: unknown,
  issuerName: string,
  onKeyFetchFailure?: (error: unknown) => void,
): UnauthorizedError | SigningKeysUnavailableError {
  if (error instanceof UnauthorizedError) return error;
  const keySetProblem =
    KEY_SET_FAILURES.some((kind) => error instanceof kind) ||
    // A fetch failure surfaces as the base JOSEError (or a non-JOSE error) from the key set.
    !(error instanceof joseErrors.JOSEError) ||
    error.constructor === joseErrors.JOSEError;
  if (!keySetProblem) {
    return new UnauthorizedError(
      `Invalid ${issuerName} token (${(error as joseErrors.JOSEError).code})`,
      {
        cause: error,
      },
    );
  }
  onKeyFetchFailure?.(error);
  return new SigningKeysUnavailableError(
    `Could not verify the ${issuerName} token: signing keys unavailable; retry shortly`,
    { cause: error },
  );
}
