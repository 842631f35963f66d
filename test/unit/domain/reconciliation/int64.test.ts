// Proves the statement's 64-bit word arithmetic (int64.ts) equals BigInt arithmetic stored in a BigInt64Array, on random values and on the extremes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addInt64,
  int64Words,
  isZeroInt64,
  negateInt64,
} from '../../../../lib/domain/reconciliation/int64';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const extremes = [
  0n,
  1n,
  -1n,
  2n ** 31n,
  -(2n ** 31n),
  2n ** 32n - 1n,
  2n ** 32n,
  -(2n ** 32n),
  2n ** 53n - 1n,
  -(2n ** 53n - 1n),
  INT64_MAX,
  INT64_MIN,
];
const int64 = fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.constantFrom(...extremes));

function column(...values: bigint[]): { column: BigInt64Array<ArrayBuffer>; words: Int32Array } {
  const c = new BigInt64Array(values.length);
  values.forEach((v, i) => {
    c[i] = v;
  });
  return { column: c, words: int64Words(c) };
}

describe('64-bit word arithmetic', () => {
  it('addInt64 is BigInt addition wrapped to 64 bits, as a BigInt64Array store is', () => {
    fc.assert(
      fc.property(int64, int64, (a, b) => {
        const target = column(a, 5n);
        const source = column(9n, b);
        addInt64(target.words, 0, source.words, 1);
        expect(target.column[0]).toBe(BigInt.asIntN(64, a + b));
        expect(target.column[1]).toBe(5n);
        expect(source.column[1]).toBe(b);
      }),
      { numRuns: 5_000 },
    );
  });

  it('negateInt64 is BigInt negation wrapped to 64 bits', () => {
    fc.assert(
      fc.property(int64, (a) => {
        const source = column(a);
        const target = column(3n, 3n);
        negateInt64(target.words, 1, source.words, 0);
        expect(target.column[1]).toBe(BigInt.asIntN(64, -a));
        expect(target.column[0]).toBe(3n);
      }),
      { numRuns: 5_000 },
    );
  });

  it('sums of many amounts equal the BigInt sums, wrapped to 64 bits', () => {
    fc.assert(
      fc.property(fc.array(int64, { maxLength: 50 }), (amounts) => {
        const sum = column(0n);
        const amount = column(...amounts, 0n);
        amounts.forEach((_, i) => {
          addInt64(sum.words, 0, amount.words, i);
        });
        const expected = amounts.reduce((total, value) => total + value, 0n);
        expect(sum.column[0]).toBe(BigInt.asIntN(64, expected));
        expect(isZeroInt64(sum.words, 0)).toBe(BigInt.asIntN(64, expected) === 0n);
      }),
      { numRuns: 2_000 },
    );
  });
});
