/**
 * Ports: what use cases need from the outside world, as interfaces. Adapters in lib/store,
 * lib/marketplaces and lib/local implement them; use cases never import an adapter.
 */
import type { RawEnvelope } from '../domain/raw';

export interface Clock {
  /** Current instant as ISO-8601 UTC. */
  now(): string;
}

export interface StoredRawEnvelope extends RawEnvelope {
  readonly rawId: string;
  readonly bodySha256: string;
}

export type SaveRawResult =
  | { readonly outcome: 'stored'; readonly rawId: string }
  | {
      readonly outcome: 'duplicate';
      readonly rawId: string;
      /** False when the provider reused a message id for a different body: worth an alarm. */
      readonly samePayload: boolean;
      readonly firstReceivedAt: string;
    };

export interface RawInboundStore {
  /** Append-only: stores the envelope once; a redelivery is reported, never rewritten. */
  save(envelope: RawEnvelope): Promise<SaveRawResult>;
  get(rawId: string): Promise<StoredRawEnvelope | null>;
  /** Envelopes received on one UTC day, oldest first, for replay and audit. */
  listByDay(
    marketplace: RawEnvelope['marketplace'],
    day: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ items: StoredRawEnvelope[]; cursor: string | null }>;
}

/** A response remembered under an Idempotency-Key. */
export interface StoredResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type IdempotencyBegin =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  /** Same key, different request: the client reused a key by mistake. */
  | { readonly kind: 'mismatch' }
  /** Same key and request, first call still running. */
  | { readonly kind: 'in-progress' };

export interface IdempotencyStore {
  /** Claims (scope, key) for this request, or tells what happened to an earlier claim. */
  begin(scope: string, key: string, requestHash: string, now: string): Promise<IdempotencyBegin>;
  /** Remembers the response of a claimed request until the key expires. */
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Releases a claim whose request failed, so the client may retry with the same key. */
  release(scope: string, key: string): Promise<void>;
}
