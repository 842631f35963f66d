/**
 * A statement as JSON: exact, every `…Minor` amount a decimal string of minor units with a
 * `…Formatted` display twin ("1411668" / "14,116.68"). `readStatementJson` reads it back to the
 * very statement it was written from, so its hash can be recomputed (the codec lives in the
 * domain, lib/domain/statements/statement.ts, so the app layer can verify archived copies).
 */
import {
  decodeStatementJson,
  encodeStatementJson,
  type Statement,
} from '../domain/statements/statement';

/** The statement as UTF-8 JSON bytes. */
export function renderStatementJson(statement: Statement): Buffer {
  return Buffer.from(encodeStatementJson(statement), 'utf8');
}

/** Reads JSON written by `renderStatementJson` (the hash is checked by the chain verifier). */
export function readStatementJson(body: Uint8Array | string): Statement {
  return decodeStatementJson(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
}
