/**
 * Deterministic identifiers. The same inputs always give the same id, so a retried or
 * redelivered write lands on the same DynamoDB key and becomes a no-op instead of a duplicate.
 * Parts are length-prefixed before hashing so ('ab','c') and ('a','bc') never collide.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from './errors';

/** Hex characters kept from the SHA-256 digest: 128 bits, ample for collision resistance. */
export const ID_HASH_HEX_LENGTH = 32;
const PREFIX_PATTERN = /^[a-z][a-z0-9]{1,15}$/;

export function hashParts(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(`${Buffer.byteLength(part, 'utf8')}:`);
    hash.update(part, 'utf8');
  }
  return hash.digest('hex');
}

/** `prefix_<32 hex>`, e.g. deterministicId('je', eventId, 'invoice', '1'). */
export function deterministicId(prefix: string, ...parts: readonly string[]): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new InvalidInputError('invalid_id_prefix', `Bad id prefix: ${prefix}`);
  }
  if (parts.length === 0) {
    throw new InvalidInputError('invalid_id_parts', 'A deterministic id needs at least one part');
  }
  return `${prefix}_${hashParts([prefix, ...parts]).slice(0, ID_HASH_HEX_LENGTH)}`;
}

/** SHA-256 of a text, hex; used as a content hash for raw payloads and idempotency checks. */
export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Canonical JSON: object keys sorted, no whitespace, bigints as strings. Two structurally equal
 * values always serialize to the same text, so their hashes compare.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const inner = (value as Record<string, unknown>)[key];
      if (inner !== undefined) out[key] = sortKeys(inner);
    }
    return out;
  }
  return value;
}
