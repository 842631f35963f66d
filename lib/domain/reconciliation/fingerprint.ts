/**
 * 64-bit fingerprints of ids (two 32-bit murmur3-style lanes over the id's code units: four
 * Latin-1 units per step — what marketplace ids are — else two UTF-16 units per step). The
 * statement store keys a million records by fingerprint instead of keeping a million id
 * strings: 8 bytes a record instead of ~90, and no string retained from the parser's chunks.
 *
 * Two different ids share a fingerprint with probability about n²/2⁶⁵: 3·10⁻⁸ for a
 * million-row file. Should it happen, one record would be taken for a version of the other;
 * its line would then disagree with the ledger and show up as an exception, never balance
 * silently.
 */

export interface Fingerprint {
  hi: number;
  lo: number;
}

function mix(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, 0x1b873593);
  let y = h ^ x;
  y = (y << 13) | (y >>> 19);
  return (Math.imul(y, 5) + 0xe6546b64) | 0;
}

function finish(h: number, length: number): number {
  let x = h ^ length;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x | 0;
}

/** Seeds of the two lanes; ids with a code unit above 0xff start from other seeds. */
const SEED_A = 0x9747b28c;
const SEED_B = 0x5bd1e995;
const WIDE_A = 0x3c6ef372;
const WIDE_B = 0xa54ff53a;
const LANE_B = 0x2545f491;

/** Sets `out.hi` and `out.lo` to the fingerprint of `text` (no allocation). */
export function fingerprintInto(text: string, out: Fingerprint): void {
  const n = text.length;
  let a = SEED_A;
  let b = SEED_B;
  let i = 0;
  // Latin-1 text (every id a marketplace writes): four code units a step, one byte each — the
  // same little-endian words the billing event kernel reads from the bytes.
  for (; i + 3 < n; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0xff) {
      wideFingerprintInto(text, out);
      return;
    }
    const w = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    a = mix(a, w);
    b = mix(b, w ^ LANE_B);
  }
  if (i < n) {
    let w = 0;
    for (let shift = 0; i < n; i += 1, shift += 8) {
      const c = text.charCodeAt(i);
      if (c > 0xff) {
        wideFingerprintInto(text, out);
        return;
      }
      w |= c << shift;
    }
    a = mix(a, w);
    b = mix(b, w ^ LANE_B);
  }
  out.hi = finish(a, n);
  out.lo = finish(b ^ 0x68e31da4, n);
}

/** Text with a code unit above 0xff: two UTF-16 code units a step, from seeds of its own. */
function wideFingerprintInto(text: string, out: Fingerprint): void {
  const n = text.length;
  let a = WIDE_A;
  let b = WIDE_B;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const w = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    a = mix(a, w);
    b = mix(b, w ^ LANE_B);
  }
  if (i < n) {
    const w = text.charCodeAt(i);
    a = mix(a, w);
    b = mix(b, w ^ LANE_B);
  }
  out.hi = finish(a, n);
  out.lo = finish(b ^ 0x68e31da4, n);
}

export function fingerprintOf(text: string): Fingerprint {
  const out = { hi: 0, lo: 0 };
  fingerprintInto(text, out);
  return out;
}

/**
 * A map keyed by fingerprint (open addressing over one typed array, each slot [hi, lo, value]
 * side by side so a probe touches one cache line): fingerprint → int ≥ 0.
 */
export class FingerprintTable {
  /** Entries the table may hold: a guard far above any feed. */
  static readonly ENTRIES_MAX = 1 << 27;
  private slots: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1_024) {
    let capacity = 1_024;
    while (capacity < expected * 2 && capacity < FingerprintTable.ENTRIES_MAX) capacity *= 2;
    this.slots = FingerprintTable.empty(capacity);
    this.mask = capacity - 1;
  }

  /** Slots hold value + 1: a fresh (zeroed) array is an empty table, nothing to fill. */
  private static empty(capacity: number): Int32Array {
    return new Int32Array(capacity * 3);
  }

  get size(): number {
    return this.count;
  }

  /** Empties the table, keeping its memory (a table reused for many small sets). */
  clear(): void {
    if (this.count === 0) return;
    this.slots.fill(0);
    this.count = 0;
  }

  /** The value for a fingerprint, or -1. */
  get(hi: number, lo: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = (hi ^ (lo >>> 7)) & mask;
    // Probing ends at an empty slot; the table is never more than half full.
    for (let probe = 0; probe <= mask; probe += 1) {
      const at = i * 3;
      const stored = slots[at + 2] ?? 0;
      if (stored === 0) return -1;
      if (slots[at] === hi && slots[at + 1] === lo) return stored - 1;
      i = (i + 1) & mask;
    }
    return -1;
  }

  /** The value for a fingerprint if it has one; else sets `value` and returns -1. One probe. */
  getOrSet(hi: number, lo: number, value: number): number {
    return this.put(hi, lo, value, false);
  }

  /** Sets the value of a fingerprint; returns the previous value or -1. */
  set(hi: number, lo: number, value: number): number {
    return this.put(hi, lo, value, true);
  }

  private put(hi: number, lo: number, value: number, replace: boolean): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = (hi ^ (lo >>> 7)) & mask;
    for (let probe = 0; probe <= mask; probe += 1) {
      const at = i * 3;
      const current = slots[at + 2] ?? 0;
      if (current === 0) {
        slots[at] = hi;
        slots[at + 1] = lo;
        slots[at + 2] = value + 1;
        this.count += 1;
        if (this.count * 2 > mask + 1) this.grow();
        return -1;
      }
      if (slots[at] === hi && slots[at + 1] === lo) {
        if (replace) slots[at + 2] = value + 1;
        return current - 1;
      }
      i = (i + 1) & mask;
    }
    throw new RangeError('fingerprint table full');
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    if (capacity > FingerprintTable.ENTRIES_MAX * 2) {
      throw new RangeError(
        `A fingerprint table holds at most ${FingerprintTable.ENTRIES_MAX} entries`,
      );
    }
    const old = this.slots;
    this.slots = FingerprintTable.empty(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let at = 0; at < old.length; at += 3) {
      const stored = old[at + 2] ?? 0;
      if (stored !== 0) this.put(old[at] ?? 0, old[at + 1] ?? 0, stored - 1, true);
    }
  }
}
