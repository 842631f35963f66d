/**
 * Test helper: the records a batch of packed rows (store.ts PACKED, what the billing event
 * kernel writes) stands for, field by field, so tests can compare them with the regular
 * parser's records. A reader's "same as last" flags are followed as the store follows them.
 */
import {
  C,
  PACKED,
  PACKED_FLOAT,
  PACKED_KIND,
  PACKED_ROW_WORDS,
  type PackedRecords,
} from '../../../../lib/domain/reconciliation/store';

export interface Unpacked {
  line: number;
  id: string;
  version: number;
  action: number;
  component: number;
  balance: boolean;
  group: string | null;
  parent: string | null;
  recordId: string;
  invoiceId: string | null;
  contractKey: string | null;
  payoutId: string | null;
  bankReference: string | null;
  currency: string;
  amountMinor: bigint;
  /** Invoice, due, usage start and end days, and the event day (-1: none). */
  days: number[];
}

export function unpacker(): (batch: PackedRecords) => Unpacked[] {
  let contractKey: string | null = null;
  let payoutId: string | null = null;
  return (batch) => {
    const out: Unpacked[] = [];
    const w = batch.words;
    const text = (start: number, end: number) =>
      end > start
        ? Buffer.from(
            batch.bytes.subarray(batch.byteOffset + start, batch.byteOffset + end),
          ).toString('latin1')
        : null;
    for (let r = 0; r < batch.count; r += 1) {
      const o = batch.firstWord + r * PACKED_ROW_WORDS;
      const word = (field: keyof typeof PACKED) => w[o + PACKED[field]] ?? 0;
      const kind = word('kind');
      const component = (kind >> 4) & 0x0f;
      const hasKey = word('contractKeyEnd') > word('contractKeyStart');
      const hasPayout = word('payoutEnd') > word('payoutStart');
      if (hasKey && (kind & PACKED_KIND.sameContractKey) === 0) {
        contractKey = text(word('contractKeyStart'), word('contractKeyEnd'));
      }
      if (hasPayout && (kind & PACKED_KIND.samePayout) === 0) {
        payoutId = text(word('payoutStart'), word('payoutEnd'));
      }
      const update = word('updateDay');
      out.push({
        line: batch.firstLine + r,
        id: `${word('idHi')}:${word('idLo')}`,
        version: batch.floats[(o >> 1) + PACKED_FLOAT.version] ?? Number.NaN,
        action: kind & 0x0f,
        component,
        balance: (kind & PACKED_KIND.balance) !== 0,
        group: (kind & PACKED_KIND.group) !== 0 ? `${word('groupHi')}:${word('groupLo')}` : null,
        parent:
          (kind & PACKED_KIND.parent) !== 0 ? `${word('parentHi')}:${word('parentLo')}` : null,
        recordId: text(word('idStart'), word('idEnd')) ?? '',
        invoiceId: text(word('invoiceIdStart'), word('invoiceIdEnd')),
        contractKey: hasKey ? contractKey : null,
        payoutId: hasPayout ? payoutId : null,
        bankReference: text(word('bankStart'), word('bankEnd')),
        currency: batch.currencies[(kind >> 8) & 0xff] ?? '?',
        amountMinor: BigInt(batch.floats[(o >> 1) + PACKED_FLOAT.amount] ?? Number.NaN),
        days: [
          word('invoiceDay'),
          word('dueDay'),
          word('usageStartDay'),
          word('usageEndDay'),
          update >= 0 ? update : component === C.payout ? word('invoiceDay') : -1,
        ],
      });
    }
    return out;
  };
}
