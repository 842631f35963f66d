/**
 * Typed domain errors. Every error carries a stable machine-readable `code`; the HTTP layer maps
 * codes to statuses in one place (lib/http/errors.ts), so the domain never knows about HTTP.
 */
export interface ErrorDetail {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export abstract class AgoraError extends Error {
  abstract readonly code: string;
  readonly details: readonly ErrorDetail[];

  constructor(message: string, options?: { cause?: unknown; details?: readonly ErrorDetail[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options?.details ?? [];
  }
}

/** Input that breaks a rule of the domain (bad amount, unknown currency, unbalanced entry). */
export class InvalidInputError extends AgoraError {
  readonly code: string;
  constructor(code: string, message: string, details?: readonly ErrorDetail[]) {
    super(message, details === undefined ? undefined : { details });
    this.code = code;
  }
}

/** A programming error: an invariant the code itself must keep did not hold. */
export class InvariantViolationError extends AgoraError {
  readonly code = 'invariant_violation';
}

/** Assert a condition that only a bug can break. Kept on in production (TigerBeetle style). */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolationError(message);
}
