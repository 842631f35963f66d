/**
 * Application errors: what a use case can refuse. Each has a stable code; lib/http/errors.ts is
 * the one place that turns codes into HTTP statuses.
 */
import { AgoraError, type ErrorDetail } from '../domain/errors';

/** Request input failed validation; `details` lists every problem at once. */
export class ValidationFailedError extends AgoraError {
  readonly code = 'validation_failed';
  constructor(message: string, details: readonly ErrorDetail[]) {
    super(message, { details });
  }
}

/** No credentials, or credentials we cannot verify. */
export class UnauthorizedError extends AgoraError {
  readonly code = 'unauthorized';
}

/** Authenticated, but not allowed to do this. */
export class ForbiddenError extends AgoraError {
  readonly code = 'forbidden';
}

export class NotFoundError extends AgoraError {
  readonly code = 'not_found';
}

/** The request conflicts with the current state (a version moved, a key was reused). */
export class ConflictError extends AgoraError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export class PayloadTooLargeError extends AgoraError {
  readonly code = 'payload_too_large';
}
