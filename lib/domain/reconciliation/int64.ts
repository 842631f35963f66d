/**
 * Exact 64-bit integer arithmetic on the memory of a BigInt64Array seen as 32-bit words, so the
 * statement's columns sum amounts without making a BigInt per record (a million
 * BigInts is most of a young-generation collection's work).
 *
 * Only integer arithmetic on 32-bit halves: every intermediate value is an integer below 2^34,
 * exact in a Number. The results are exactly those of BigInt arithmetic stored in a
 * BigInt64Array (`BigInt.asIntN(64, …)`), which the unit tests check on random values,
 * including the extremes. `words` is `new Int32Array(column.buffer)`; element i of the column is
 * words[2i + LOW] (low half, unsigned) and words[2i + HIGH] (high half, signed).
 */

/** Whether the platform stores the low half of a 64-bit integer first. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LOW = LITTLE_ENDIAN ? 0 : 1;
const HIGH = 1 - LOW;
const TWO_TO_32 = 4_294_967_296;

/** The 32-bit words of a BigInt64Array's memory. */
export function int64Words(column: BigInt64Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  return new Int32Array(column.buffer, column.byteOffset, column.length * 2);
}

/** target[t] += source[s], wrapping like a BigInt64Array store. */
export function addInt64(target: Int32Array, t: number, source: Int32Array, s: number): void {
  const tl = 2 * t + LOW;
  const sl = 2 * s + LOW;
  const low = ((target[tl] ?? 0) >>> 0) + ((source[sl] ?? 0) >>> 0);
  const carry = low >= TWO_TO_32 ? 1 : 0;
  target[tl] = low;
  const th = 2 * t + HIGH;
  target[th] = ((target[th] ?? 0) + (source[2 * s + HIGH] ?? 0) + carry) | 0;
}

/** target[t] = −source[s], wrapping like a BigInt64Array store. */
export function negateInt64(target: Int32Array, t: number, source: Int32Array, s: number): void {
  const low = source[2 * s + LOW] ?? 0;
  const high = source[2 * s + HIGH] ?? 0;
  target[2 * t + LOW] = (~low + 1) | 0;
  target[2 * t + HIGH] = low === 0 ? (~high + 1) | 0 : ~high;
}

/** Whether element i is zero. */
export function isZeroInt64(words: Int32Array, index: number): boolean {
  return words[2 * index] === 0 && words[2 * index + 1] === 0;
}
