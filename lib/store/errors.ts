/**
 * Store errors: the SDK's exceptions never leave lib/store. Callers see these typed errors and
 * decide (a failed `attribute_not_exists` on an event record means "already applied").
 */
import { AgoraError } from '../domain/errors';

export interface CancellationReason {
  /** Index of the action in the transaction. */
  readonly index: number;
  /** The label the caller gave the action ("journal-entry", "period-open"). */
  readonly label: string;
  readonly code: string;
  /** The item as it was when its condition failed (ReturnValuesOnConditionCheckFailure). */
  readonly item: Record<string, unknown> | null;
}

/** One or more conditions failed; nothing was written. */
export class ConditionFailedError extends AgoraError {
  readonly code = 'condition_failed';
  constructor(
    message: string,
    readonly reasons: readonly CancellationReason[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether the action with this label is among those whose condition failed. */
  failedOn(label: string): CancellationReason | undefined {
    return this.reasons.find((r) => r.label === label && r.code === 'ConditionalCheckFailed');
  }
}

/** Conflicts or throttling outlasted the bounded retries. Safe to retry later. */
export class StoreContentionError extends AgoraError {
  readonly code = 'store_contention';
}

/** A request would break a DynamoDB limit (item 400 KB, 100 actions, 4 MB). A bug or bad input. */
export class StoreLimitError extends AgoraError {
  readonly code = 'store_limit_exceeded';
}

/** The store could not be reached or answered with an unexpected error. */
export class StoreUnavailableError extends AgoraError {
  readonly code = 'store_unavailable';
}

/** An opaque pagination cursor that we did not issue, or that was tampered with. */
export class InvalidCursorError extends AgoraError {
  readonly code = 'invalid_cursor';
}
