// Proves the statement store resolves versions and parents the same when it works in partitions (more records than one partition holds): the latest version wins, exact repeats count once, a disbursed record finds its parent's line wherever either sits in the file, and the file's order changes nothing; and that contract keys found by fingerprint stay exact.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FingerprintTable,
  fingerprintOf,
} from '../../../../lib/domain/reconciliation/fingerprint';
import type { StatementRecord } from '../../../../lib/domain/reconciliation/statement';
import {
  A,
  C,
  PACKED_KIND,
  PACKED_RECORD_BALANCE,
  type PackedColumns,
  StatementStore,
} from '../../../../lib/domain/reconciliation/store';

/** Enough invoices for several partitions (a partition holds about 16,384 records). */
const INVOICES = 12_000;

function record(fields: Partial<StatementRecord> & Pick<StatementRecord, 'recordId'>) {
  return {
    line: 0,
    version: 1,
    action: 'billed' as const,
    component: 'charge' as const,
    balanceImpacting: true,
    contractKey: null,
    groupKey: null,
    invoiceId: null,
    parentId: null,
    payoutId: null,
    bankReference: null,
    currency: 'USD',
    amountMinor: 0n,
    payoutCurrency: null,
    payoutAmountMinor: null,
    invoiceDay: null,
    dueDay: null,
    usageStartDay: null,
    usageEndDay: null,
    eventDay: null,
    ...fields,
  } satisfies StatementRecord;
}

/** Per invoice: a charge (re-updated every 7th, repeated every 11th), a fee, a disbursed row. */
function feed(): { records: StatementRecord[]; charge: (i: number) => bigint } {
  const records: StatementRecord[] = [];
  const charge = (i: number) => BigInt(i % 7 === 0 ? 200_000 + i : 100_000 + i);
  for (let i = 0; i < INVOICES; i += 1) {
    const group = `txn-${i}`;
    const first = record({ recordId: `c-${i}`, groupKey: group, amountMinor: BigInt(100_000 + i) });
    records.push(first);
    if (i % 11 === 0) records.push({ ...first });
    records.push(
      record({ recordId: `f-${i}`, groupKey: group, component: 'fee', amountMinor: -3_000n }),
    );
    records.push(
      record({
        recordId: `d-${i}`,
        action: 'disbursed',
        parentId: `c-${i}`,
        payoutId: `p-${i % 10}`,
        amountMinor: -charge(i),
      }),
    );
    if (i % 7 === 0) {
      records.push(
        record({ recordId: `c-${i}`, groupKey: group, version: 2, amountMinor: charge(i) }),
      );
    }
  }
  return { records, charge };
}

function resolved(records: readonly StatementRecord[]) {
  const store = new StatementStore();
  store.add(records.map((r, index) => ({ ...r, line: index + 2 })));
  const result = store.resolve();
  const lines = new Map<string, { charge: bigint; fee: bigint; disbursed: bigint }>();
  for (let line = 0; line < result.lines.count; line += 1) {
    const id = store.identityRecordId(result.lines.identityIndex[line] ?? -1) ?? '?';
    lines.set(id, {
      charge: result.lines.charge[line] ?? 0n,
      fee: result.lines.fee[line] ?? 0n,
      disbursed: result.lines.disbursed[line] ?? 0n,
    });
  }
  const { superseded, duplicates, conflicts } = result.counts;
  return { lines, counts: { superseded, duplicates, conflicts }, size: store.size };
}

describe('statement store in partitions', () => {
  const { records, charge } = feed();
  const clean = resolved(records);

  it('the latest version wins, repeats count once, every disbursed row pays its parent line', () => {
    expect(clean.size).toBeGreaterThan(2 * 16_384);
    expect(clean.counts).toEqual({
      superseded: Math.ceil(INVOICES / 7),
      duplicates: Math.ceil(INVOICES / 11),
      conflicts: 0,
    });
    expect(clean.lines.size).toBe(INVOICES);
    for (const i of [0, 1, 7, 11, 77, INVOICES - 1]) {
      expect(clean.lines.get(`c-${i}`)).toEqual({
        charge: charge(i),
        fee: -3_000n,
        disbursed: charge(i),
      });
    }
    let disbursed = 0n;
    for (const line of clean.lines.values()) disbursed += line.disbursed - line.charge;
    expect(disbursed).toBe(0n);
  });

  it('any order of the rows gives the same lines and counts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        // A seeded shuffle: disbursed rows land before their parents, versions in any order.
        let state = seed;
        const shuffled = [...records];
        for (let i = shuffled.length - 1; i > 0; i -= 1) {
          state = (Math.imul(state, 48_271) >>> 0) % 2_147_483_647;
          const j = state % (i + 1);
          [shuffled[i], shuffled[j]] = [
            shuffled[j] as StatementRecord,
            shuffled[i] as StatementRecord,
          ];
        }
        const again = resolved(shuffled);
        expect(again.lines).toEqual(clean.lines);
        // Which extra copy of an id is "superseded" and which a "duplicate" depends on the order
        // they come in; that each is counted once does not.
        expect(again.counts.superseded + again.counts.duplicates).toBe(
          clean.counts.superseded + clean.counts.duplicates,
        );
        expect(again.counts.conflicts).toBe(0);
      }),
      { numRuns: 3 },
    );
  });
});

describe('contract keys by fingerprint', () => {
  it('a key whose fingerprint another key holds is still told apart, by string and by bytes', () => {
    const store = new StatementStore();
    const keyed = (recordId: string, contractKey: string) =>
      record({ recordId, contractKey, groupKey: `g-${recordId}`, amountMinor: 100n });
    store.add([keyed('r1', 'agmt-A')]);
    // White box: make 'agmt-B' collide with 'agmt-A' (a 64-bit fingerprint never does by chance
    // in practice; this is the path that keeps keys exact if it ever did).
    const table = (store as unknown as { contractKeyTable: FingerprintTable }).contractKeyTable;
    const b = fingerprintOf('agmt-B');
    table.set(b.hi, b.lo, store.keyIndex('agmt-A'));
    store.add([keyed('r2', 'agmt-B'), keyed('r3', 'agmt-A')]);
    // A packed row (the kernel's) names 'agmt-B' by its bytes and the colliding fingerprint.
    const bytes = Buffer.from('r4,agmt-B', 'latin1');
    const id = fingerprintOf('r4');
    const ints = (value: number) => Int32Array.of(value);
    const columns: PackedColumns = {
      idHi: ints(id.hi),
      idLo: ints(id.lo),
      groupHi: ints(0),
      groupLo: ints(0),
      parentHi: ints(0),
      parentLo: ints(0),
      invoiceDay: ints(-1),
      dueDay: ints(-1),
      usageStartDay: ints(-1),
      usageEndDay: ints(-1),
      eventDay: ints(-1),
      amount: BigInt64Array.of(100n),
      version: Float64Array.of(0),
      recordKind: Uint8Array.of(C.charge | (A.billed << 4) | PACKED_RECORD_BALANCE),
      recordFlags: Uint8Array.of(0),
      kind: ints(A.billed | (C.charge << 4) | PACKED_KIND.balance),
      idStart: ints(0),
      idEnd: ints(2),
      invoiceIdStart: ints(0),
      invoiceIdEnd: ints(0),
      contractKeyStart: ints(3),
      contractKeyEnd: ints(9),
      contractKeyHi: ints(b.hi),
      contractKeyLo: ints(b.lo),
      payoutStart: ints(0),
      payoutEnd: ints(0),
      bankStart: ints(0),
      bankEnd: ints(0),
    };
    store.addPacked({
      columns,
      bytes,
      byteOffset: 0,
      count: 1,
      firstLine: 9,
      currencies: ['USD'],
      last: { contractKey: -1, payout: -1 },
    });
    expect(store.keyIndex('agmt-A')).toBe(0);
    expect(store.keyIndex('agmt-B')).toBe(1);
    expect(store.keyIndex('agmt-C')).toBe(-1);
    expect(store.contractKeys).toEqual(['agmt-A', 'agmt-B']);
    const { lines } = store.resolve();
    const keyOf = (id: string) => {
      for (let line = 0; line < lines.count; line += 1) {
        if (store.identityRecordId(lines.identityIndex[line] ?? -1) === id) {
          return store.contractKeys[lines.contractKey[line] ?? -1];
        }
      }
      return undefined;
    };
    expect(['r1', 'r2', 'r3', 'r4'].map(keyOf)).toEqual(['agmt-A', 'agmt-B', 'agmt-A', 'agmt-B']);
  });
});
