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

/** The marketplace's source of truth does not (yet) show what the notification announced. */
export class SourceNotReadyError extends AgoraError {
  readonly code = 'source_not_ready';
}

/**
 * A marketplace's token signing keys could not be fetched: the caller should retry (503), never
 * be told its token is bad — for Azure a 4xx would reject the customer's change.
 */
export class SigningKeysUnavailableError extends AgoraError {
  readonly code = 'signing_keys_unavailable';
}

/** A marketplace API failed in a way worth retrying (throttling, 5xx, timeout). */
export class MarketplaceUnavailableError extends AgoraError {
  readonly code = 'marketplace_unavailable';
}

/** Retrying cannot help: the payload is unusable, the raw record is gone, access is denied. */
export class PermanentSyncError extends AgoraError {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Another posting moved the contract's book between our read and our write. */
export class LedgerConflictError extends AgoraError {
  readonly code = 'ledger_conflict';
}

/** Another writer moved the contract between our read and our write (optimistic lock). */
export class ContractVersionConflictError extends AgoraError {
  readonly code = 'contract_version_conflict';
}
