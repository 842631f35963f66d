/**
 * Test helper: the records a batch of packed columns (store.ts PackedColumns, what the billing
 * event kernel writes) stands for, field by field, so tests can compare them with the regular
 * parser's records. A reader's "same as last" flags are followed as the store follows them.
 */
import {
  PACKED_FLAG_GROUP,
  PACKED_FLAG_PARENT,
  PACKED_KIND,
  PACKED_RECORD_BALANCE,
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
    const c = batch.columns;
    const text = (start: number, end: number) =>
      end > start
        ? Buffer.from(
            batch.bytes.subarray(batch.byteOffset + start, batch.byteOffset + end),
          ).toString('latin1')
        : null;
    for (let r = 0; r < batch.count; r += 1) {
      const at = (column: Int32Array) => column[r] ?? 0;
      const kind = at(c.kind);
      const recordKind = c.recordKind[r] ?? 0;
      const flags = c.recordFlags[r] ?? 0;
      // The store's own encodings agree with the reader's kind word.
      const action = kind & 0x0f;
      const component = (kind >> 4) & 0x0f;
      const balance = (kind & PACKED_KIND.balance) !== 0;
      if (recordKind !== (component | (action << 4) | (balance ? PACKED_RECORD_BALANCE : 0))) {
        throw new Error(`record kind ${recordKind} disagrees with kind word ${kind}`);
      }
      const hasGroup = (flags & PACKED_FLAG_GROUP) !== 0;
      const hasParent = (flags & PACKED_FLAG_PARENT) !== 0;
      if (hasGroup !== ((kind & PACKED_KIND.group) !== 0)) throw new Error('group flags differ');
      if (hasParent !== ((kind & PACKED_KIND.parent) !== 0)) throw new Error('parent flags differ');
      const hasKey = at(c.contractKeyEnd) > at(c.contractKeyStart);
      const hasPayout = at(c.payoutEnd) > at(c.payoutStart);
      if (hasKey && (kind & PACKED_KIND.sameContractKey) === 0) {
        contractKey = text(at(c.contractKeyStart), at(c.contractKeyEnd));
      }
      if (hasPayout && (kind & PACKED_KIND.samePayout) === 0) {
        payoutId = text(at(c.payoutStart), at(c.payoutEnd));
      }
      out.push({
        line: batch.firstLine + r,
        id: `${at(c.idHi)}:${at(c.idLo)}`,
        version: c.version[r] ?? Number.NaN,
        action,
        component,
        balance,
        group: hasGroup ? `${at(c.groupHi)}:${at(c.groupLo)}` : null,
        parent: hasParent ? `${at(c.parentHi)}:${at(c.parentLo)}` : null,
        recordId: text(at(c.idStart), at(c.idEnd)) ?? '',
        invoiceId: text(at(c.invoiceIdStart), at(c.invoiceIdEnd)),
        contractKey: hasKey ? contractKey : null,
        payoutId: hasPayout ? payoutId : null,
        bankReference: text(at(c.bankStart), at(c.bankEnd)),
        currency: batch.currencies[(kind >> 8) & 0xff] ?? '?',
        amountMinor: c.amount[r] ?? 0n,
        days: [c.invoiceDay, c.dueDay, c.usageStartDay, c.usageEndDay, c.eventDay].map(
          (column) => column[r] ?? -1,
        ),
      });
    }
    return out;
  };
}
