/**
 * The marketplace side of a reconciliation, held column-wise while a feed streams in, then
 * resolved into statement lines.
 *
 * Memory: a record is kept as ~80 bytes of typed-array columns — a 64-bit fingerprint of its id
 * (fingerprint.ts), version, line, kind, amount, day numbers, fingerprints of its group and
 * parent, small indexes for its currency, contract key and payout — never as an object, and no
 * string the parser produced is retained except, copied, the ids of the records that name a
 * line (charges, refunds, credits, adjustments, payouts). A million-row AWS feed is ~80 MB.
 *
 * Resolution (`resolve`), all deterministic whatever the order of the rows:
 * 1. versions: of the records sharing an id the highest `version` wins; equal versions with
 *    equal content are duplicates (the first line is kept); equal versions with different
 *    content are a conflict, settled by comparing their content (counted);
 * 2. lines: billed and forgiven records group by (group key — else invoice id, else their own
 *    id — and currency); per line the sums per component, the invoice, due and usage days;
 * 3. disbursed records join their parent's line (else the line of their own group), and the
 *    payout they are paid in; payout failures mark their payout failed.
 */
import { type Fingerprint, FingerprintTable, fingerprintInto } from './fingerprint';
import { addInt64, int64Words, negateInt64 } from './int64';
import {
  type DayNumber,
  STATEMENT_ACTIONS,
  STATEMENT_COMPONENTS,
  type StatementAction,
  type StatementComponent,
  type StatementRecord,
} from './statement';

/** Records one store holds (a guard: ~4 GB of columns). */
export const STORE_RECORDS_MAX = 50_000_000;
/** Largest amount one record may carry, in minor units (sums stay far inside 64 bits). */
export const STORE_AMOUNT_ABS_MAX = 1_000_000_000_000_000n;
/** Distinct currencies, contract keys and payouts one store names. */
export const STORE_CURRENCIES_MAX = 1_000;
export const STORE_CONTRACT_KEYS_MAX = 5_000_000;
export const STORE_PAYOUTS_MAX = 5_000_000;
const INITIAL_CAPACITY = 4_096;

const NONE = -1;

const COMPONENT_INDEX = Object.fromEntries(STATEMENT_COMPONENTS.map((c, i) => [c, i])) as Record<
  StatementComponent,
  number
>;
const ACTION_INDEX = Object.fromEntries(STATEMENT_ACTIONS.map((a, i) => [a, i])) as Record<
  StatementAction,
  number
>;
export const C = COMPONENT_INDEX;
export const A = ACTION_INDEX;
const BALANCE_FLAG = 0x80;
/** What a disbursed record pays: the receivable, a (seller) tax, or nothing on the balance. */
export const PART_RECEIVABLE = 0;
export const PART_TAX = 1;
export const PART_OFF_BALANCE = 2;
const HAS_GROUP = 1;
const HAS_PARENT = 2;

export function componentOf(kind: number): number {
  return kind & 0x0f;
}
export function actionOf(kind: number): number {
  return (kind >> 4) & 0x07;
}
export function isBalanceImpacting(kind: number): boolean {
  return (kind & BALANCE_FLAG) !== 0;
}

/**
 * Whether a record names its line (a billed charge, refund, credit or adjustment) or is a payout
 * or its failure: its id and invoice id are kept for the report.
 */
export function recordNamesLine(component: number, action: number): boolean {
  if (component === C.payout || component === C.payout_failure) return true;
  return (
    action !== A.disbursed &&
    (component === C.charge ||
      component === C.charge_refund ||
      component === C.charge_credit ||
      component === C.adjustment)
  );
}

/** A record with its ids as fingerprints (mutable: `add` reuses one). Days: NONE = -1. */
interface RawStatementRecord {
  line: number;
  version: number;
  /** Indexes into STATEMENT_ACTIONS and STATEMENT_COMPONENTS. */
  action: number;
  component: number;
  balanceImpacting: boolean;
  idHi: number;
  idLo: number;
  hasGroup: boolean;
  groupHi: number;
  groupLo: number;
  hasParent: boolean;
  parentHi: number;
  parentLo: number;
  recordId: string | null;
  invoiceId: string | null;
  contractKey: string | null;
  payoutId: string | null;
  bankReference: string | null;
  currency: string;
  amountMinor: bigint;
  payoutCurrency: string | null;
  payoutAmountMinor: bigint | null;
  invoiceDay: number;
  dueDay: number;
  usageStartDay: number;
  usageEndDay: number;
  eventDay: number;
}

function newRawRecord(): RawStatementRecord {
  return {
    line: 0,
    version: 0,
    action: 0,
    component: 0,
    balanceImpacting: true,
    idHi: 0,
    idLo: 0,
    hasGroup: false,
    groupHi: 0,
    groupLo: 0,
    hasParent: false,
    parentHi: 0,
    parentLo: 0,
    recordId: null,
    invoiceId: null,
    contractKey: null,
    payoutId: null,
    bankReference: null,
    currency: '',
    amountMinor: 0n,
    payoutCurrency: null,
    payoutAmountMinor: null,
    invoiceDay: NONE,
    dueDay: NONE,
    usageStartDay: NONE,
    usageEndDay: NONE,
    eventDay: NONE,
  };
}

/**
 * Records packed column-wise by a byte-level reader (the AWS feed's WebAssembly kernel): record
 * r of a batch is entry r of every column. The first columns are the store's own and go in by
 * a copy; the reader's kind word, and ids and keys as positions into `bytes` (plus
 * `byteOffset`, an empty range being none), are read record by record.
 */
export interface PackedColumns {
  readonly idHi: Int32Array;
  readonly idLo: Int32Array;
  /** 0 without a group (a parent); see recordFlags. */
  readonly groupHi: Int32Array;
  readonly groupLo: Int32Array;
  readonly parentHi: Int32Array;
  readonly parentLo: Int32Array;
  /** Day numbers, NONE (-1) when empty; the event day as `add` derives it (`eventDay`). */
  readonly invoiceDay: Int32Array;
  readonly dueDay: Int32Array;
  readonly usageStartDay: Int32Array;
  readonly usageEndDay: Int32Array;
  readonly eventDay: Int32Array;
  /** Minor units, at most 15 digits (far inside STORE_AMOUNT_ABS_MAX). */
  readonly amount: BigInt64Array;
  /** The update time in milliseconds (0: none). */
  readonly version: Float64Array;
  /** component | action << 4 | PACKED_RECORD_BALANCE. */
  readonly recordKind: Uint8Array;
  /** PACKED_FLAG_GROUP | PACKED_FLAG_PARENT. */
  readonly recordFlags: Uint8Array;
  /** The reader's kind word: action (bits 0–3), component (4–7), currency index (8–15), PACKED_KIND. */
  readonly kind: Int32Array;
  readonly idStart: Int32Array;
  readonly idEnd: Int32Array;
  readonly invoiceIdStart: Int32Array;
  readonly invoiceIdEnd: Int32Array;
  readonly contractKeyStart: Int32Array;
  readonly contractKeyEnd: Int32Array;
  /** The contract key's fingerprint (when the record has one not flagged "same"). */
  readonly contractKeyHi: Int32Array;
  readonly contractKeyLo: Int32Array;
  readonly payoutStart: Int32Array;
  readonly payoutEnd: Int32Array;
  readonly bankStart: Int32Array;
  readonly bankEnd: Int32Array;
}
/** The store's own encodings of a record's kind and flags (what the store's columns hold). */
export const PACKED_RECORD_BALANCE = BALANCE_FLAG;
export const PACKED_FLAG_GROUP = HAS_GROUP;
export const PACKED_FLAG_PARENT = HAS_PARENT;
export const PACKED_KIND = {
  balance: 1 << 16,
  parent: 1 << 17,
  group: 1 << 18,
  /** The contract key (payout id) is the bytes of the reader's last one: its index is reused. */
  sameContractKey: 1 << 19,
  samePayout: 1 << 20,
} as const;

export interface PackedRecords {
  readonly columns: PackedColumns;
  readonly bytes: Uint8Array;
  readonly byteOffset: number;
  readonly count: number;
  /** Record r is on file line firstLine + r (a packed record is one line). */
  readonly firstLine: number;
  /** The currency of each index the kind word names. */
  readonly currencies: readonly string[];
  /**
   * The reader's last contract key and payout (store indexes), kept across its batches and
   * never shared between readers: rows flagged "same" take them.
   */
  readonly last: { contractKey: number; payout: number };
}

/** Whether `text` is the ASCII bytes `bytes[start…end)`. */
function sameText(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i += 1) {
    if (text.charCodeAt(i) !== bytes[start + i]) return false;
  }
  return true;
}

/**
 * A copy of a string that keeps nothing else alive: the parser's fields are slices of a
 * megabyte of text, and keeping one would keep the whole chunk.
 */
function own(text: string): string {
  if (text.length < 13) return text;
  const copy = text.slice(0, 1) + text.slice(1);
  // Reading a character flattens the concatenation into a string of its own.
  copy.charCodeAt(0);
  return copy;
}

type Int32 = Int32Array<ArrayBuffer>;
type BigInt64 = BigInt64Array<ArrayBuffer>;

function growInt32(array: Int32, capacity: number, fill = 0): Int32 {
  const next = new Int32Array(capacity);
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}

/**
 * The ids of the records that name a line (record id, invoice id), kept as bytes in one growing
 * array instead of a million strings: nothing for the garbage collector to trace or promote,
 * ~40 bytes an id. A string is made again only when a report item asks for it.
 */
class IdentityArena {
  private bytes: Buffer = Buffer.alloc(1 << 16);
  private used = 0;
  /** Per identity: where its record id ends, where its invoice id ends; bit 31 of the second: not ASCII. */
  private marks = new Int32Array(1 << 12);
  private count = 0;
  private static readonly encoder = new TextEncoder();

  get size(): number {
    return this.count;
  }

  private room(bytes: number): void {
    if (this.used + bytes > this.bytes.length) {
      let capacity = this.bytes.length * 2;
      while (capacity < this.used + bytes) capacity *= 2;
      const next = Buffer.alloc(capacity);
      next.set(this.bytes.subarray(0, this.used));
      this.bytes = next;
    }
    if (2 * this.count + 2 > this.marks.length) {
      const next = new Int32Array(this.marks.length * 2);
      next.set(this.marks);
      this.marks = next;
    }
  }

  private putText(text: string): boolean {
    let ascii = true;
    for (let i = 0; i < text.length; i += 1) {
      if (text.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      const bytes = this.bytes;
      const at = this.used;
      for (let i = 0; i < text.length; i += 1) bytes[at + i] = text.charCodeAt(i);
      this.used = at + text.length;
      return true;
    }
    const { written } = IdentityArena.encoder.encodeInto(text, this.bytes.subarray(this.used));
    this.used += written;
    return false;
  }

  /** Appends an identity given as strings; returns its index. */
  addText(recordId: string, invoiceId: string | null): number {
    this.room(3 * (recordId.length + (invoiceId?.length ?? 0)));
    let ascii = this.putText(recordId);
    this.marks[2 * this.count] = this.used;
    if (invoiceId !== null) ascii = this.putText(invoiceId) && ascii;
    return this.close(ascii);
  }

  /** Appends an identity given as ASCII bytes; returns its index. */
  addBytes(
    source: Uint8Array,
    recordStart: number,
    recordEnd: number,
    invoiceStart: number,
    invoiceEnd: number,
  ): number {
    this.room(recordEnd - recordStart + (invoiceEnd - invoiceStart));
    const bytes = this.bytes;
    let at = this.used;
    let high = 0;
    for (let i = recordStart; i < recordEnd; i += 1) {
      const c = source[i] ?? 0;
      high |= c;
      bytes[at] = c;
      at += 1;
    }
    this.marks[2 * this.count] = at;
    for (let i = invoiceStart; i < invoiceEnd; i += 1) {
      const c = source[i] ?? 0;
      high |= c;
      bytes[at] = c;
      at += 1;
    }
    this.used = at;
    return this.close(high < 0x80);
  }

  private close(ascii: boolean): number {
    const index = this.count;
    this.marks[2 * index + 1] = this.used | (ascii ? 0 : 0x80000000);
    this.count = index + 1;
    return index;
  }

  private text(from: number, to: number, ascii: boolean): string {
    if (to <= from) return '';
    // latin1 is the fastest decoding, and the same as UTF-8 for ASCII.
    return this.bytes.toString(ascii ? 'latin1' : 'utf8', from, to);
  }

  private start(index: number): number {
    return index === 0 ? 0 : (this.marks[2 * index - 1] ?? 0) & 0x7fffffff;
  }

  /** The last ASCII identity decoded whole (a report asks for both of its ids, one by one). */
  private decoded = -1;
  private decodedText = '';
  private decodedSplit = 0;

  /** Decodes identity `index` whole when it is ASCII (one decoding for both ids); false if not. */
  private decodeAscii(index: number): boolean {
    if (this.decoded === index) return true;
    const end = this.marks[2 * index + 1] ?? 0;
    if (end < 0) return false;
    const start = this.start(index);
    this.decodedText = this.text(start, end, true);
    this.decodedSplit = (this.marks[2 * index] ?? 0) - start;
    this.decoded = index;
    return true;
  }

  recordId(index: number): string {
    if (this.decodeAscii(index)) return this.decodedText.slice(0, this.decodedSplit);
    const end = this.marks[2 * index + 1] ?? 0;
    return this.text(this.start(index), this.marks[2 * index] ?? 0, end >= 0);
  }

  /** The invoice id, '' when the record had none. */
  invoiceId(index: number): string {
    if (this.decodeAscii(index)) return this.decodedText.slice(this.decodedSplit);
    const end = this.marks[2 * index + 1] ?? 0;
    return this.text(this.marks[2 * index] ?? 0, end & 0x7fffffff, end >= 0);
  }
}

export interface StoreCounts {
  readonly records: number;
  /** Records replaced by a later version of the same id. */
  readonly superseded: number;
  /** Exact repeats of a record. */
  readonly duplicates: number;
  /** Same id and version, different content: settled deterministically, worth a look. */
  readonly conflicts: number;
}

/** The statement's lines, column-wise (index = line number in this statement, not the file). */
export interface StatementLines {
  readonly count: number;
  readonly currency: Int32;
  readonly contractKey: Int32;
  /** The record naming the line (its id and invoice id are kept), or NONE. */
  readonly identity: Int32;
  /** A record of the line chosen deterministically (the smallest fingerprint). */
  readonly anchor: Int32;
  /** The naming record's kept strings (StatementStore.identityStrings), or NONE. */
  readonly identityIndex: Int32;
  /** File line of the naming record (else of the anchor). */
  readonly fileLine: Int32;
  /** The anchor's fingerprint: orders lines deterministically. */
  readonly sortHi: Int32;
  readonly sortLo: Int32;
  readonly invoiceDay: Int32;
  readonly dueDay: Int32;
  readonly usageStartDay: Int32;
  readonly usageEndDay: Int32;
  readonly groupHi: Int32;
  readonly groupLo: Int32;
  readonly charge: BigInt64;
  readonly fee: BigInt64;
  readonly chargeRefund: BigInt64;
  readonly feeRefund: BigInt64;
  readonly chargeCredit: BigInt64;
  readonly feeCredit: BigInt64;
  readonly forgivenCharge: BigInt64;
  readonly forgivenFee: BigInt64;
  readonly taxBalance: BigInt64;
  readonly taxOther: BigInt64;
  readonly adjustment: BigInt64;
  /** Paid out in payouts that did not fail (charges, fees, refunds, credits; not taxes). */
  readonly disbursed: BigInt64;
}

export interface Payout {
  readonly index: number;
  readonly payoutId: string;
  /** The payout record (DISBURSEMENT row), when the file has it. */
  readonly slot: number;
  readonly line: number;
  readonly currency: string | null;
  readonly amountMinor: bigint | null;
  readonly payoutCurrency: string | null;
  readonly payoutAmountMinor: bigint | null;
  readonly bankReference: string | null;
  readonly day: DayNumber | null;
  readonly failed: boolean;
  readonly failureLine: number;
}

/** Disbursed records, column-wise: what each pays, in which payout, for which line. */
export interface DisbursedRecords {
  readonly count: number;
  readonly payout: Int32;
  /** The line it pays, or NONE when neither its parent nor its group is in the file. */
  readonly line: Int32;
  /** Without a line: the contract key it names itself (or NONE). */
  readonly contractKey: Int32;
  readonly currency: Int32;
  /** Positive: what the payout settles of the line (charges less fees, refunds, …). */
  readonly settles: BigInt64;
  /** PART_RECEIVABLE, PART_TAX (balance-impacting tax, kept apart) or PART_OFF_BALANCE. */
  readonly part: Uint8Array<ArrayBuffer>;
  readonly day: Int32;
}

/** Lookups the ledger side needs, built once the statement is complete. */
export interface StatementIndexes {
  /** Lines naming contract key k: keyLine[keyLineStart[k] … keyLineStart[k + 1]). */
  readonly keyLineStart: Int32Array;
  readonly keyLine: Int32Array;
  /** Lines naming no contract key, and those by group fingerprint (chained by nextKeyless). */
  readonly keylessLines: readonly number[];
  readonly keylessByGroup: FingerprintTable;
  readonly nextKeyless: Int32Array;
  /** Disbursed records paying line l: lineDisbursed[lineDisbursedStart[l] … [l + 1]). */
  readonly lineDisbursedStart: Int32Array;
  readonly lineDisbursed: Int32Array;
  /** Disbursed records with no line, by the contract key they name. */
  readonly keyDisbursed: ReadonlyMap<number, readonly number[]>;
}

export interface ResolvedStatement extends StatementIndexes {
  readonly counts: StoreCounts;
  readonly lines: StatementLines;
  readonly payouts: readonly Payout[];
  readonly disbursed: DisbursedRecords;
  /** Disbursed records paid in no payout (no payout id). */
  readonly unpaidDisbursedRecords: number;
}

/** A line's key: its group's fingerprint (else its record's, the low half flipped) and currency. */
const UNGROUPED = 0x5a5a5a5a;
function lineKeyOfCurrency(currency: number): number {
  return Math.imul(currency + 1, 0x9e3779b1);
}

/** The lines by their key. */
function linesByKey(lines: StatementLines): FingerprintTable {
  const table = new FingerprintTable(lines.count);
  for (let line = 0; line < lines.count; line += 1) {
    const hi = (lines.groupHi[line] ?? 0) ^ lineKeyOfCurrency(lines.currency[line] ?? 0);
    table.getOrSet(hi, lines.groupLo[line] ?? 0, line);
  }
  return table;
}

/** Records one partition of the version resolution holds, about (its table fits in cache). */
const PARTITION_RECORDS = 16_384;
/** Partitions at most (2^PARTITION_BITS_MAX): beyond, partitions grow instead. */
const PARTITION_BITS_MAX = 12;

function partitionBits(records: number): number {
  let bits = 0;
  while (bits < PARTITION_BITS_MAX && records >> bits > PARTITION_RECORDS) bits += 1;
  return bits;
}

/**
 * Indexes 0…n−1 grouped by the top bits of `hi[i]` (a counting sort: stable, so each partition
 * keeps the records' order); with `flags`, only records with a parent. Partition p is
 * items[start[p] … start[p + 1]).
 */
function partitionOrder(
  hi: Int32Array,
  lo: Int32Array,
  n: number,
  bits: number,
  flags: Uint8Array,
  required: number,
): { items: Int32Array; hi: Int32Array; lo: Int32Array; start: Int32Array } {
  const parts = 1 << bits;
  const start = new Int32Array(parts + 1);
  // A shift of 32 is none in JavaScript: no bits, one partition, by a zero mask.
  const shift = bits === 0 ? 0 : 32 - bits;
  const mask = parts - 1;
  for (let i = 0; i < n; i += 1) {
    if (((flags[i] ?? 0) & required) !== required) continue;
    const p = ((hi[i] ?? 0) >>> shift) & mask;
    start[p + 1] = (start[p + 1] ?? 0) + 1;
  }
  for (let p = 0; p < parts; p += 1) start[p + 1] = (start[p + 1] ?? 0) + (start[p] ?? 0);
  const next = start.slice(0, parts);
  const size = start[parts] ?? 0;
  const items = new Int32Array(size);
  // The keys travel with the indexes: a partition then reads its keys in sequence.
  const keysHi = new Int32Array(size);
  const keysLo = new Int32Array(size);
  for (let i = 0; i < n; i += 1) {
    if (((flags[i] ?? 0) & required) !== required) continue;
    const h = hi[i] ?? 0;
    const p = (h >>> shift) & mask;
    const at = next[p] ?? 0;
    items[at] = i;
    keysHi[at] = h;
    keysLo[at] = lo[i] ?? 0;
    next[p] = at + 1;
  }
  return { items, hi: keysHi, lo: keysLo, start };
}

/**
 * Column store of statement records. `add` is called with batches as the feed streams in;
 * `resolve` once at the end.
 */
export class StatementStore {
  private count = 0;
  private capacity = INITIAL_CAPACITY;
  private fpHi = new Int32Array(INITIAL_CAPACITY);
  private fpLo = new Int32Array(INITIAL_CAPACITY);
  private version = new Float64Array(INITIAL_CAPACITY);
  private lineNo = new Int32Array(INITIAL_CAPACITY);
  private kind = new Uint8Array(INITIAL_CAPACITY);
  private flags = new Uint8Array(INITIAL_CAPACITY);
  private amount = new BigInt64Array(INITIAL_CAPACITY);
  /** The amount column's memory as 32-bit words (little-endian halves of each amount). */
  private amountWords = int64Words(this.amount);
  private groupHi = new Int32Array(INITIAL_CAPACITY);
  private groupLo = new Int32Array(INITIAL_CAPACITY);
  private parentHi = new Int32Array(INITIAL_CAPACITY);
  private parentLo = new Int32Array(INITIAL_CAPACITY);
  private payout = new Int32Array(INITIAL_CAPACITY);
  private contractKeyOf = new Int32Array(INITIAL_CAPACITY);
  private currencyOf = new Int32Array(INITIAL_CAPACITY);
  private invoiceDay = new Int32Array(INITIAL_CAPACITY);
  private dueDay = new Int32Array(INITIAL_CAPACITY);
  private usageStart = new Int32Array(INITIAL_CAPACITY);
  private usageEnd = new Int32Array(INITIAL_CAPACITY);
  private eventDay = new Int32Array(INITIAL_CAPACITY);
  private identityOf = new Int32Array(INITIAL_CAPACITY);

  readonly currencies: string[] = [];
  private readonly currencyIndex = new Map<string, number>();
  readonly contractKeys: string[] = [];
  /**
   * Contract keys by fingerprint (a packed row brings its key's, so a key seen before costs no
   * string), each hit checked against the key itself; keys whose fingerprint another key holds
   * (never seen in practice, but exact all the same) are kept by string in `collidedKeys`.
   */
  private readonly contractKeyTable = new FingerprintTable();
  private readonly collidedKeys = new Map<string, number>();
  readonly payoutIds: string[] = [];
  private readonly payoutIndex = new Map<string, number>();
  /** recordId, invoiceId pairs of the records that name a line. */
  private readonly identities = new IdentityArena();
  private readonly bankReferences = new Map<number, string>();
  private readonly conversions = new Map<number, { currency: string; amountMinor: bigint }>();
  private readonly scratch: Fingerprint = { hi: 0, lo: 0 };
  private readonly keyScratch: Fingerprint = { hi: 0, lo: 0 };
  private readonly scratchRaw = newRawRecord();
  private lastCurrency: string | null = null;
  private lastCurrencyIndex = NONE;
  private lastContractKey: string | null = null;
  private lastContractKeyIndex = NONE;
  private lastPayoutId: string | null = null;
  private lastPayoutIndex = NONE;

  get size(): number {
    return this.count;
  }

  /** The id and the marketplace invoice id of a record that names a line. */
  private identity(slot: number): { recordId: string; invoiceId: string | null } | null {
    const at = this.identityOf[slot] ?? NONE;
    if (at === NONE) return null;
    const invoiceId = this.identities.invoiceId(at);
    return {
      recordId: this.identities.recordId(at),
      invoiceId: invoiceId === '' ? null : invoiceId,
    };
  }

  /** The kept id of a line's naming record (StatementLines.identityIndex), or null. */
  identityRecordId(index: number): string | null {
    return index < 0 || index >= this.identities.size ? null : this.identities.recordId(index);
  }

  /** The kept marketplace invoice id of a line's naming record, or null. */
  identityInvoiceId(index: number): string | null {
    const invoiceId =
      index < 0 || index >= this.identities.size ? '' : this.identities.invoiceId(index);
    return invoiceId === '' ? null : invoiceId;
  }

  /** Drops the record columns once resolved (the names and kept strings stay). */
  release(): void {
    const empty = new Int32Array(0);
    this.fpHi = empty;
    this.fpLo = empty;
    this.version = new Float64Array(0);
    this.lineNo = empty;
    this.kind = new Uint8Array(0);
    this.flags = new Uint8Array(0);
    this.amount = new BigInt64Array(0);
    this.amountWords = new Int32Array(0);
    this.groupHi = empty;
    this.groupLo = empty;
    this.parentHi = empty;
    this.parentLo = empty;
    this.payout = empty;
    this.contractKeyOf = empty;
    this.currencyOf = empty;
    this.invoiceDay = empty;
    this.dueDay = empty;
    this.usageStart = empty;
    this.usageEnd = empty;
    this.eventDay = empty;
    this.identityOf = empty;
    this.capacity = 0;
    this.count = 0;
    this.bankReferences.clear();
    this.conversions.clear();
  }

  /**
   * Room for `records` in all (e.g. estimated from the file's size), so the columns are
   * allocated once instead of grown by copies. A guess: more records still fit.
   */
  reserve(records: number): void {
    const capacity = Math.min(Math.ceil(records), STORE_RECORDS_MAX);
    if (capacity > this.capacity) this.grow(capacity);
  }

  private grow(to?: number): void {
    // Doubling up to 2^20 records (few copies), then by a quarter (little slack).
    const factor = this.capacity < 1_048_576 ? 2 : 1.25;
    const capacity = to ?? Math.min(Math.ceil(this.capacity * factor), STORE_RECORDS_MAX);
    if (capacity <= this.count) {
      throw new RangeError(`A statement holds at most ${STORE_RECORDS_MAX} records`);
    }
    this.fpHi = growInt32(this.fpHi, capacity);
    this.fpLo = growInt32(this.fpLo, capacity);
    const version = new Float64Array(capacity);
    version.set(this.version);
    this.version = version;
    this.lineNo = growInt32(this.lineNo, capacity);
    const kind = new Uint8Array(capacity);
    kind.set(this.kind);
    this.kind = kind;
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    this.flags = flags;
    const amount = new BigInt64Array(capacity);
    amount.set(this.amount);
    this.amount = amount;
    this.amountWords = int64Words(amount);
    this.groupHi = growInt32(this.groupHi, capacity);
    this.groupLo = growInt32(this.groupLo, capacity);
    this.parentHi = growInt32(this.parentHi, capacity);
    this.parentLo = growInt32(this.parentLo, capacity);
    this.payout = growInt32(this.payout, capacity);
    this.contractKeyOf = growInt32(this.contractKeyOf, capacity);
    this.currencyOf = growInt32(this.currencyOf, capacity);
    this.invoiceDay = growInt32(this.invoiceDay, capacity);
    this.dueDay = growInt32(this.dueDay, capacity);
    this.usageStart = growInt32(this.usageStart, capacity);
    this.usageEnd = growInt32(this.usageEnd, capacity);
    this.eventDay = growInt32(this.eventDay, capacity);
    this.identityOf = growInt32(this.identityOf, capacity);
    this.capacity = capacity;
  }

  private currencyIndexOf(currency: string): number {
    if (currency === this.lastCurrency) return this.lastCurrencyIndex;
    let index = this.currencyIndex.get(currency);
    if (index === undefined) {
      if (this.currencies.length >= STORE_CURRENCIES_MAX) {
        throw new RangeError(`A statement names at most ${STORE_CURRENCIES_MAX} currencies`);
      }
      index = this.currencies.length;
      this.currencies.push(own(currency));
      this.currencyIndex.set(this.currencies[index] ?? currency, index);
    }
    this.lastCurrency = currency;
    this.lastCurrencyIndex = index;
    return index;
  }

  /**
   * Index of a contract key. The last key given is remembered as given (a parser passes the same
   * string while rows repeat it, so the comparison is by reference); the map keeps a copy.
   */
  private contractKeyIndexOf(key: string): number {
    if (key === this.lastContractKey) return this.lastContractKeyIndex;
    fingerprintInto(key, this.keyScratch);
    const { hi, lo } = this.keyScratch;
    let index = this.knownKey(key, hi, lo);
    if (index === NONE) {
      if (this.contractKeys.length >= STORE_CONTRACT_KEYS_MAX) {
        throw new RangeError(`A statement names at most ${STORE_CONTRACT_KEYS_MAX} contracts`);
      }
      index = this.contractKeys.length;
      const copy = own(key);
      this.contractKeys.push(copy);
      if (this.contractKeyTable.getOrSet(hi, lo, index) !== NONE) {
        this.collidedKeys.set(copy, index);
      }
    }
    this.lastContractKey = key;
    this.lastContractKeyIndex = index;
    return index;
  }

  /** The index of a key already named, by its fingerprint and then itself; else NONE. */
  private knownKey(key: string, hi: number, lo: number): number {
    const index = this.contractKeyTable.get(hi, lo);
    if (index === NONE) return NONE;
    if (this.contractKeys[index] === key) return index;
    return this.collidedKeys.get(key) ?? NONE;
  }

  /** `contractKeyIndexOf` of ASCII bytes with their fingerprint: a string only for a new key. */
  private contractKeyIndexOfBytes(
    hi: number,
    lo: number,
    bytes: Buffer,
    start: number,
    end: number,
  ): number {
    const index = this.contractKeyTable.get(hi, lo);
    if (index !== NONE && sameText(this.contractKeys[index] ?? '', bytes, start, end)) {
      return index;
    }
    return this.contractKeyIndexOf(bytes.toString('latin1', start, end));
  }

  /** Index of a payout id (exact: a map of the few distinct payout ids). */
  payoutIndexOf(id: string): number {
    if (id === this.lastPayoutId) return this.lastPayoutIndex;
    let index = this.payoutIndex.get(id);
    if (index === undefined) {
      if (this.payoutIds.length >= STORE_PAYOUTS_MAX) {
        throw new RangeError(`A statement names at most ${STORE_PAYOUTS_MAX} payouts`);
      }
      index = this.payoutIds.length;
      const copy = own(id);
      this.payoutIds.push(copy);
      this.payoutIndex.set(copy, index);
    }
    this.lastPayoutId = id;
    this.lastPayoutIndex = index;
    return index;
  }

  /** Appends records (any order, any batching). Throws RangeError beyond the guards. */
  add(records: readonly StatementRecord[]): void {
    const raw = this.scratchRaw;
    const fp = this.scratch;
    for (const record of records) {
      raw.line = record.line;
      raw.version = record.version;
      raw.action = ACTION_INDEX[record.action];
      raw.component = COMPONENT_INDEX[record.component];
      raw.balanceImpacting = record.balanceImpacting;
      fingerprintInto(record.recordId, fp);
      raw.idHi = fp.hi;
      raw.idLo = fp.lo;
      // A disbursed record's line is its parent's; its group is only the fallback without one.
      const group =
        record.parentId !== null && record.action === 'disbursed'
          ? null
          : (record.groupKey ?? record.invoiceId);
      raw.hasGroup = group !== null;
      if (group !== null) {
        fingerprintInto(group, fp);
        raw.groupHi = fp.hi;
        raw.groupLo = fp.lo;
      }
      raw.hasParent = record.parentId !== null;
      if (record.parentId !== null) {
        fingerprintInto(record.parentId, fp);
        raw.parentHi = fp.hi;
        raw.parentLo = fp.lo;
      }
      raw.recordId = record.recordId;
      raw.invoiceId = record.invoiceId;
      raw.contractKey = record.contractKey;
      raw.payoutId = record.payoutId;
      raw.bankReference = record.bankReference;
      raw.currency = record.currency;
      raw.amountMinor = record.amountMinor;
      raw.payoutCurrency = record.payoutCurrency;
      raw.payoutAmountMinor = record.payoutAmountMinor;
      raw.invoiceDay = record.invoiceDay ?? NONE;
      raw.dueDay = record.dueDay ?? NONE;
      raw.usageStartDay = record.usageStartDay ?? NONE;
      raw.usageEndDay = record.usageEndDay ?? NONE;
      raw.eventDay = record.eventDay ?? NONE;
      this.append(raw);
    }
  }

  /**
   * Appends one record with its fingerprints computed (`add`'s reused object). `recordId` and
   * `invoiceId` are only read when `recordNamesLine` says the record names a line; strings are
   * copied, never kept as given.
   */
  private append(raw: RawStatementRecord): void {
    if (this.count >= this.capacity) this.grow();
    const i = this.count;
    const amount = raw.amountMinor;
    if (amount > STORE_AMOUNT_ABS_MAX || amount < -STORE_AMOUNT_ABS_MAX) {
      throw new RangeError(`Line ${raw.line}: amount ${amount} is beyond ${STORE_AMOUNT_ABS_MAX}`);
    }
    this.amount[i] = amount;
    const component = raw.component;
    this.fpHi[i] = raw.idHi;
    this.fpLo[i] = raw.idLo;
    this.version[i] = raw.version;
    this.lineNo[i] = raw.line;
    this.kind[i] = component | (raw.action << 4) | (raw.balanceImpacting ? BALANCE_FLAG : 0);
    this.groupHi[i] = raw.hasGroup ? raw.groupHi : 0;
    this.groupLo[i] = raw.hasGroup ? raw.groupLo : 0;
    this.parentHi[i] = raw.hasParent ? raw.parentHi : 0;
    this.parentLo[i] = raw.hasParent ? raw.parentLo : 0;
    this.flags[i] = (raw.hasGroup ? HAS_GROUP : 0) | (raw.hasParent ? HAS_PARENT : 0);
    const isPayout = component === C.payout;
    const names = recordNamesLine(component, raw.action);
    const recordId = raw.recordId ?? '';
    if (names && recordId === '') {
      throw new RangeError(`Line ${raw.line}: a record naming a line needs its id`);
    }
    this.payout[i] =
      raw.payoutId !== null
        ? this.payoutIndexOf(raw.payoutId)
        : isPayout
          ? this.payoutIndexOf(recordId)
          : NONE;
    this.contractKeyOf[i] =
      raw.contractKey !== null ? this.contractKeyIndexOf(raw.contractKey) : NONE;
    this.currencyOf[i] = this.currencyIndexOf(raw.currency);
    this.invoiceDay[i] = raw.invoiceDay;
    this.dueDay[i] = raw.dueDay;
    this.usageStart[i] = raw.usageStartDay;
    this.usageEnd[i] = raw.usageEndDay;
    this.eventDay[i] = raw.eventDay;
    if (names) {
      this.identityOf[i] = this.identities.addText(recordId, raw.invoiceId);
    } else {
      this.identityOf[i] = NONE;
    }
    if (raw.bankReference !== null) this.bankReferences.set(i, own(raw.bankReference));
    if (raw.payoutCurrency !== null && raw.payoutAmountMinor !== null) {
      this.conversions.set(i, {
        currency: own(raw.payoutCurrency),
        amountMinor: raw.payoutAmountMinor,
      });
    }
    this.count = i + 1;
  }

  /**
   * Appends packed records (PackedColumns): the same as `add` of the records they stand for,
   * column to column, without an object or a string per row.
   */
  addPacked(batch: PackedRecords): void {
    const n = batch.count;
    const c = batch.columns;
    while (this.count + n > this.capacity) this.grow();
    const first = this.count;
    // The store's own columns, copied as they are.
    this.fpHi.set(c.idHi.subarray(0, n), first);
    this.fpLo.set(c.idLo.subarray(0, n), first);
    this.groupHi.set(c.groupHi.subarray(0, n), first);
    this.groupLo.set(c.groupLo.subarray(0, n), first);
    this.parentHi.set(c.parentHi.subarray(0, n), first);
    this.parentLo.set(c.parentLo.subarray(0, n), first);
    this.invoiceDay.set(c.invoiceDay.subarray(0, n), first);
    this.dueDay.set(c.dueDay.subarray(0, n), first);
    this.usageStart.set(c.usageStartDay.subarray(0, n), first);
    this.usageEnd.set(c.usageEndDay.subarray(0, n), first);
    this.eventDay.set(c.eventDay.subarray(0, n), first);
    this.amount.set(c.amount.subarray(0, n), first);
    this.version.set(c.version.subarray(0, n), first);
    this.kind.set(c.recordKind.subarray(0, n), first);
    this.flags.set(c.recordFlags.subarray(0, n), first);
    // The rest, record by record: line numbers, names, ids.
    const { byteOffset: at, last } = batch;
    const bytes = Buffer.isBuffer(batch.bytes)
      ? batch.bytes
      : Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    const asciiText = (start: number, end: number) => bytes.toString('latin1', start, end);
    for (let r = 0; r < n; r += 1) {
      const i = first + r;
      const kind = c.kind[r] ?? 0;
      const action = kind & 0x0f;
      const component = (kind >> 4) & 0x0f;
      this.lineNo[i] = batch.firstLine + r;
      const idStart = at + (c.idStart[r] ?? 0);
      const idEnd = at + (c.idEnd[r] ?? 0);
      const payoutStart = c.payoutStart[r] ?? 0;
      const payoutEnd = c.payoutEnd[r] ?? 0;
      if (payoutEnd > payoutStart) {
        if ((kind & PACKED_KIND.samePayout) === 0 || last.payout === NONE) {
          last.payout = this.payoutIndexOf(asciiText(at + payoutStart, at + payoutEnd));
        }
        this.payout[i] = last.payout;
      } else {
        this.payout[i] =
          component === C.payout ? this.payoutIndexOf(asciiText(idStart, idEnd)) : NONE;
      }
      const keyStart = c.contractKeyStart[r] ?? 0;
      const keyEnd = c.contractKeyEnd[r] ?? 0;
      if (keyEnd > keyStart) {
        if ((kind & PACKED_KIND.sameContractKey) === 0 || last.contractKey === NONE) {
          last.contractKey = this.contractKeyIndexOfBytes(
            c.contractKeyHi[r] ?? 0,
            c.contractKeyLo[r] ?? 0,
            bytes,
            at + keyStart,
            at + keyEnd,
          );
        }
        this.contractKeyOf[i] = last.contractKey;
      } else {
        this.contractKeyOf[i] = NONE;
      }
      this.currencyOf[i] = this.currencyIndexOf(batch.currencies[(kind >> 8) & 0xff] ?? '');
      if (!recordNamesLine(component, action)) {
        this.identityOf[i] = NONE;
      } else {
        if (idEnd <= idStart) throw new RangeError(`Line ${this.lineNo[i]}: a record needs its id`);
        const invoiceStart = at + (c.invoiceIdStart[r] ?? 0);
        const invoiceEnd = at + (c.invoiceIdEnd[r] ?? 0);
        this.identityOf[i] =
          component === C.payout || component === C.payout_failure
            ? // The payout's id is its payout key too: kept as text (a few hundred rows).
              this.identities.addText(
                asciiText(idStart, idEnd),
                invoiceEnd > invoiceStart ? asciiText(invoiceStart, invoiceEnd) : null,
              )
            : this.identities.addBytes(bytes, idStart, idEnd, invoiceStart, invoiceEnd);
      }
      const bankStart = c.bankStart[r] ?? 0;
      const bankEnd = c.bankEnd[r] ?? 0;
      if (bankEnd > bankStart) {
        this.bankReferences.set(i, asciiText(at + bankStart, at + bankEnd));
      }
    }
    this.count = first + n;
  }

  /** The index of a contract key named by the statement, or NONE. */
  keyIndex(key: string): number {
    fingerprintInto(key, this.keyScratch);
    return this.knownKey(key, this.keyScratch.hi, this.keyScratch.lo);
  }

  /**
   * Orders two versions of one id with the same version number by content: 0 when they are
   * the same record. Compares strings, not indexes, so the outcome never depends on row order.
   */
  private compareContent(a: number, b: number): number {
    const numeric = [
      this.kind,
      this.flags,
      this.groupHi,
      this.groupLo,
      this.parentHi,
      this.parentLo,
      this.invoiceDay,
      this.dueDay,
      this.usageStart,
      this.usageEnd,
      this.eventDay,
    ] as const;
    for (const column of numeric) {
      const x = column[a] ?? 0;
      const y = column[b] ?? 0;
      if (x !== y) return x < y ? -1 : 1;
    }
    const amountA = this.amount[a] ?? 0n;
    const amountB = this.amount[b] ?? 0n;
    if (amountA !== amountB) return amountA < amountB ? -1 : 1;
    const text = (list: readonly string[], index: number) =>
      index === NONE ? '' : (list[index] ?? '');
    const pairs: [string, string][] = [
      [
        text(this.currencies, this.currencyOf[a] ?? NONE),
        text(this.currencies, this.currencyOf[b] ?? NONE),
      ],
      [
        text(this.contractKeys, this.contractKeyOf[a] ?? NONE),
        text(this.contractKeys, this.contractKeyOf[b] ?? NONE),
      ],
      [text(this.payoutIds, this.payout[a] ?? NONE), text(this.payoutIds, this.payout[b] ?? NONE)],
      [this.identity(a)?.invoiceId ?? '', this.identity(b)?.invoiceId ?? ''],
      [this.bankReferences.get(a) ?? '', this.bankReferences.get(b) ?? ''],
      [
        `${this.conversions.get(a)?.currency ?? ''}${this.conversions.get(a)?.amountMinor ?? ''}`,
        `${this.conversions.get(b)?.currency ?? ''}${this.conversions.get(b)?.amountMinor ?? ''}`,
      ],
    ];
    for (const [x, y] of pairs) if (x !== y) return x < y ? -1 : 1;
    return 0;
  }

  /** Resolves versions, lines, payouts and disbursed shares (see the module comment). */
  resolve(): ResolvedStatement {
    const n = this.count;
    // 1. Versions, and the winning version of each record's parent. By partitions of the
    //    fingerprints (their top bits): a partition's table fits in a core's cache, where one
    //    table of a million ids would miss it on nearly every probe. Within a partition the
    //    records keep their order, so the outcome is the same as one pass over one table.
    const bits = partitionBits(n);
    const parts = 1 << bits;
    const order = partitionOrder(this.fpHi, this.fpLo, n, bits, this.flags, 0);
    const probes = partitionOrder(this.parentHi, this.parentLo, n, bits, this.flags, HAS_PARENT);
    const parentWinner = new Int32Array(n).fill(NONE);
    const winners = new Uint8Array(n);
    const records = new FingerprintTable(PARTITION_RECORDS);
    let superseded = 0;
    let duplicates = 0;
    let conflicts = 0;
    for (let part = 0; part < parts; part += 1) {
      records.clear();
      const end = order.start[part + 1] ?? 0;
      for (let at = order.start[part] ?? 0; at < end; at += 1) {
        const i = order.items[at] ?? 0;
        const hi = order.hi[at] ?? 0;
        const lo = order.lo[at] ?? 0;
        const previous = records.getOrSet(hi, lo, i);
        if (previous === NONE) {
          winners[i] = 1;
          continue;
        }
        const vi = this.version[i] ?? 0;
        const vp = this.version[previous] ?? 0;
        let winner = previous;
        if (vi !== vp) {
          superseded += 1;
          if (vi > vp) winner = i;
        } else {
          const order = this.compareContent(i, previous);
          if (order === 0) {
            duplicates += 1;
            if ((this.lineNo[i] ?? 0) < (this.lineNo[previous] ?? 0)) winner = i;
          } else {
            conflicts += 1;
            if (order > 0) winner = i;
          }
        }
        if (winner !== previous) {
          records.set(hi, lo, winner);
          winners[previous] = 0;
          winners[winner] = 1;
        }
      }
      const probesEnd = probes.start[part + 1] ?? 0;
      for (let at = probes.start[part] ?? 0; at < probesEnd; at += 1) {
        parentWinner[probes.items[at] ?? 0] = records.get(probes.hi[at] ?? 0, probes.lo[at] ?? 0);
      }
    }

    // 2. Lines of billed and forgiven records (keyed by group — else their own id — and
    //    currency), numbered in the order of their first record. Which record comes first for
    //    each key is found by partitions of the keys, as above; then one pass in record order.
    const lineKeyHi = new Int32Array(n);
    const lineKeyLo = new Int32Array(n);
    const isLineRecord = new Uint8Array(n);
    let lineRecords = 0;
    for (let i = 0; i < n; i += 1) {
      if (winners[i] === 0) continue;
      const kind = this.kind[i] ?? 0;
      const component = componentOf(kind);
      if (
        actionOf(kind) === A.disbursed ||
        component === C.payout ||
        component === C.payout_failure
      )
        continue;
      const hasGroup = ((this.flags[i] ?? 0) & HAS_GROUP) !== 0;
      const baseHi = hasGroup ? (this.groupHi[i] ?? 0) : (this.fpHi[i] ?? 0);
      lineKeyHi[i] = baseHi ^ lineKeyOfCurrency(this.currencyOf[i] ?? 0);
      lineKeyLo[i] = hasGroup ? (this.groupLo[i] ?? 0) : (this.fpLo[i] ?? 0) ^ UNGROUPED;
      isLineRecord[i] = 1;
      lineRecords += 1;
    }
    const lineBits = partitionBits(lineRecords);
    const byKey = partitionOrder(lineKeyHi, lineKeyLo, n, lineBits, isLineRecord, 1);
    // The first record of each record's line (NONE: not a line record).
    const firstOf = lineKeyHi.fill(NONE);
    for (let part = 0; part < 1 << lineBits; part += 1) {
      records.clear();
      const end = byKey.start[part + 1] ?? 0;
      for (let at = byKey.start[part] ?? 0; at < end; at += 1) {
        const i = byKey.items[at] ?? 0;
        const first = records.getOrSet(byKey.hi[at] ?? 0, byKey.lo[at] ?? 0, i);
        firstOf[i] = first === NONE ? i : first;
      }
    }
    const slotLine = new Int32Array(n).fill(NONE);
    const builder = new LineBuilder(Math.max(INITIAL_CAPACITY, n >> 2));
    for (let i = 0; i < n; i += 1) {
      const first = firstOf[i] ?? NONE;
      if (first === NONE) continue;
      const kind = this.kind[i] ?? 0;
      let line: number;
      if (first === i) {
        const hasGroup = ((this.flags[i] ?? 0) & HAS_GROUP) !== 0;
        line = builder.open(
          this.currencyOf[i] ?? 0,
          hasGroup ? (this.groupHi[i] ?? 0) : (this.fpHi[i] ?? 0),
          lineKeyLo[i] ?? 0,
        );
      } else {
        line = slotLine[first] ?? NONE;
      }
      slotLine[i] = line;
      this.addToLine(builder, line, i, componentOf(kind), actionOf(kind), kind);
    }

    const lines = builder.done();
    for (let line = 0; line < lines.count; line += 1) {
      const identity = lines.identity[line] ?? NONE;
      const anchor = lines.anchor[line] ?? NONE;
      const named = identity !== NONE ? identity : anchor;
      lines.identityIndex[line] = identity === NONE ? NONE : (this.identityOf[identity] ?? NONE);
      lines.fileLine[line] = named === NONE ? 0 : (this.lineNo[named] ?? 0);
      lines.sortHi[line] = anchor === NONE ? 0 : (this.fpHi[anchor] ?? 0);
      lines.sortLo[line] = anchor === NONE ? 0 : (this.fpLo[anchor] ?? 0);
    }
    // What lines needed of the record columns is in the lines now: let it go.
    const empty = new Int32Array(0);
    this.version = new Float64Array(0);
    this.invoiceDay = empty;
    this.dueDay = empty;
    this.usageStart = empty;
    this.usageEnd = empty;
    this.identityOf = empty;

    // 3. Payouts and their failures.
    const payouts: {
      slot: number;
      failed: boolean;
      failureLine: number;
    }[] = this.payoutIds.map(() => ({ slot: NONE, failed: false, failureLine: 0 }));
    const failures: number[] = [];
    for (let i = 0; i < n; i += 1) {
      if (winners[i] === 0) continue;
      const component = componentOf(this.kind[i] ?? 0);
      if (component === C.payout) {
        const p = payouts[this.payout[i] ?? 0];
        if (p && (p.slot === NONE || this.compareSlots(i, p.slot) < 0)) p.slot = i;
      } else if (component === C.payout_failure) failures.push(i);
    }
    for (const i of failures) {
      // The failure names its payout as parent (or as the payout it belongs to).
      let target = this.payout[i] ?? NONE;
      if (((this.flags[i] ?? 0) & HAS_PARENT) !== 0) {
        const parent = parentWinner[i] ?? NONE;
        if (parent !== NONE && componentOf(this.kind[parent] ?? 0) === C.payout) {
          target = this.payout[parent] ?? NONE;
        }
      }
      const p = target === NONE ? undefined : payouts[target];
      if (p) {
        p.failed = true;
        p.failureLine =
          p.failureLine === 0
            ? (this.lineNo[i] ?? 0)
            : Math.min(p.failureLine, this.lineNo[i] ?? 0);
      }
    }

    // 4. Disbursed records: to their parent's line (else their group's), and their payout.
    let lineTable: FingerprintTable | null = null;
    const disbursed = new DisbursedBuilder(Math.max(INITIAL_CAPACITY, n >> 1));
    let unpaid = 0;
    for (let i = 0; i < n; i += 1) {
      if (winners[i] === 0) continue;
      const kind = this.kind[i] ?? 0;
      const component = componentOf(kind);
      if (
        actionOf(kind) !== A.disbursed ||
        component === C.payout ||
        component === C.payout_failure
      ) {
        continue;
      }
      const payoutIndex = this.payout[i] ?? NONE;
      if (payoutIndex === NONE) {
        unpaid += 1;
        continue;
      }
      let line = NONE;
      const flags = this.flags[i] ?? 0;
      if ((flags & HAS_PARENT) !== 0) {
        const parent = parentWinner[i] ?? NONE;
        if (parent !== NONE) line = slotLine[parent] ?? NONE;
      }
      const currency = this.currencyOf[i] ?? 0;
      if (line === NONE && (flags & HAS_GROUP) !== 0) {
        // Its own group's line (rare: a parent outside the file), by a table of the lines.
        lineTable ??= linesByKey(lines);
        line = lineTable.get(
          (this.groupHi[i] ?? 0) ^ lineKeyOfCurrency(currency),
          this.groupLo[i] ?? 0,
        );
      }
      const part = !isBalanceImpacting(kind)
        ? PART_OFF_BALANCE
        : component === C.tax
          ? PART_TAX
          : PART_RECEIVABLE;
      // What it settles is minus its amount (word arithmetic: no BigInt per record).
      const at = disbursed.push(
        payoutIndex,
        line,
        line === NONE ? (this.contractKeyOf[i] ?? NONE) : NONE,
        currency,
        this.amountWords,
        i,
        part,
        this.eventDay[i] ?? NONE,
      );
      if (line !== NONE && part === PART_RECEIVABLE && !(payouts[payoutIndex]?.failed ?? false)) {
        addInt64(builder.sumWords[SUM_DISBURSED] as Int32Array, line, disbursed.settlesWords, at);
      }
    }

    const payoutList: Payout[] = payouts.map((p, index) => {
      const slot = p.slot;
      const conversion = slot === NONE ? undefined : this.conversions.get(slot);
      const day = slot === NONE ? NONE : (this.eventDay[slot] ?? NONE);
      return {
        index,
        payoutId: this.payoutIds[index] ?? '',
        slot,
        line: slot === NONE ? 0 : (this.lineNo[slot] ?? 0),
        currency: slot === NONE ? null : (this.currencies[this.currencyOf[slot] ?? 0] ?? null),
        amountMinor: slot === NONE ? null : (this.amount[slot] ?? 0n),
        payoutCurrency: conversion?.currency ?? null,
        payoutAmountMinor: conversion?.amountMinor ?? null,
        bankReference: slot === NONE ? null : (this.bankReferences.get(slot) ?? null),
        day: day === NONE ? null : day,
        failed: p.failed,
        failureLine: p.failureLine,
      };
    });
    const paid = disbursed.done();
    return {
      counts: { records: n, superseded, duplicates, conflicts },
      lines,
      payouts: payoutList,
      disbursed: paid,
      unpaidDisbursedRecords: unpaid,
      ...this.indexes(lines, paid),
    };
  }

  /** Lines by contract key, keyless lines by group, disbursed records by line. */
  private indexes(lines: StatementLines, paid: DisbursedRecords): StatementIndexes {
    const keys = this.contractKeys.length;
    const keyLineStart = new Int32Array(keys + 1);
    const keyless: number[] = [];
    for (let line = 0; line < lines.count; line += 1) {
      const key = lines.contractKey[line] ?? NONE;
      if (key === NONE) keyless.push(line);
      else keyLineStart[key + 1] = (keyLineStart[key + 1] ?? 0) + 1;
    }
    for (let key = 0; key < keys; key += 1) {
      keyLineStart[key + 1] = (keyLineStart[key + 1] ?? 0) + (keyLineStart[key] ?? 0);
    }
    const keyLine = new Int32Array(lines.count - keyless.length);
    const fill = keyLineStart.slice(0, keys);
    for (let line = 0; line < lines.count; line += 1) {
      const key = lines.contractKey[line] ?? NONE;
      if (key === NONE) continue;
      const at = fill[key] ?? 0;
      keyLine[at] = line;
      fill[key] = at + 1;
    }
    const keylessByGroup = new FingerprintTable(Math.max(16, keyless.length));
    const nextKeyless = new Int32Array(lines.count).fill(NONE);
    for (const line of keyless) {
      const hi = lines.groupHi[line] ?? 0;
      const lo = lines.groupLo[line] ?? 0;
      nextKeyless[line] = keylessByGroup.get(hi, lo);
      keylessByGroup.set(hi, lo, line);
    }
    const lineDisbursedStart = new Int32Array(lines.count + 1);
    const keyDisbursed = new Map<number, number[]>();
    for (let i = 0; i < paid.count; i += 1) {
      const line = paid.line[i] ?? NONE;
      if (line !== NONE) {
        lineDisbursedStart[line + 1] = (lineDisbursedStart[line + 1] ?? 0) + 1;
        continue;
      }
      const key = paid.contractKey[i] ?? NONE;
      if (key === NONE) continue;
      const list = keyDisbursed.get(key);
      if (list) list.push(i);
      else keyDisbursed.set(key, [i]);
    }
    for (let line = 0; line < lines.count; line += 1) {
      lineDisbursedStart[line + 1] =
        (lineDisbursedStart[line + 1] ?? 0) + (lineDisbursedStart[line] ?? 0);
    }
    const lineDisbursed = new Int32Array(lineDisbursedStart[lines.count] ?? 0);
    const next = lineDisbursedStart.slice(0, lines.count);
    for (let i = 0; i < paid.count; i += 1) {
      const line = paid.line[i] ?? NONE;
      if (line === NONE) continue;
      const at = next[line] ?? 0;
      lineDisbursed[at] = i;
      next[line] = at + 1;
    }
    return {
      keyLineStart,
      keyLine,
      keylessLines: keyless,
      keylessByGroup,
      nextKeyless,
      lineDisbursedStart,
      lineDisbursed,
      keyDisbursed,
    };
  }

  /** A billed charge names its line before anything else. */
  private rank(slot: number): number {
    const kind = this.kind[slot] ?? 0;
    return componentOf(kind) === C.charge && actionOf(kind) === A.billed ? 0 : 1;
  }

  /** Deterministic order of two records: by fingerprint. */
  private compareSlots(a: number, b: number): number {
    const ha = this.fpHi[a] ?? 0;
    const hb = this.fpHi[b] ?? 0;
    if (ha !== hb) return ha < hb ? -1 : 1;
    const la = this.fpLo[a] ?? 0;
    const lb = this.fpLo[b] ?? 0;
    return la === lb ? 0 : la < lb ? -1 : 1;
  }

  private addToLine(
    builder: LineBuilder,
    line: number,
    slot: number,
    component: number,
    action: number,
    kind: number,
  ): void {
    // The line's sum of the component, += the amount: exact 64-bit word arithmetic (int64.ts).
    const forgiven = action === A.forgiven;
    let sum: number;
    switch (component) {
      case C.charge:
        sum = forgiven ? SUM_FORGIVEN_CHARGE : SUM_CHARGE;
        break;
      case C.fee:
        sum = forgiven ? SUM_FORGIVEN_FEE : SUM_FEE;
        break;
      case C.charge_refund:
        sum = SUM_CHARGE_REFUND;
        break;
      case C.fee_refund:
        sum = SUM_FEE_REFUND;
        break;
      case C.charge_credit:
        sum = SUM_CHARGE_CREDIT;
        break;
      case C.fee_credit:
        sum = SUM_FEE_CREDIT;
        break;
      case C.tax:
        sum = isBalanceImpacting(kind) ? SUM_TAX_BALANCE : SUM_TAX_OTHER;
        break;
      default:
        sum = SUM_ADJUSTMENT;
    }
    addInt64(builder.sumWords[sum] as Int32Array, line, this.amountWords, slot);
    // Dates: the line's invoice day is its earliest; due and usage days come from its charge.
    const invoiceDay = this.invoiceDay[slot] ?? NONE;
    const current = builder.invoiceDay[line] ?? NONE;
    if (invoiceDay !== NONE && (current === NONE || invoiceDay < current))
      builder.invoiceDay[line] = invoiceDay;
    // The record naming the line: a billed charge first, then the smallest fingerprint.
    if ((this.identityOf[slot] ?? NONE) !== NONE) {
      const identity = builder.identity[line] ?? NONE;
      if (
        identity === NONE ||
        this.rank(slot) < this.rank(identity) ||
        (this.rank(slot) === this.rank(identity) && this.compareSlots(slot, identity) < 0)
      ) {
        builder.identity[line] = slot;
        builder.dueDay[line] = this.dueDay[slot] ?? NONE;
        builder.usageStartDay[line] = this.usageStart[slot] ?? NONE;
        builder.usageEndDay[line] = this.usageEnd[slot] ?? NONE;
      }
    }
    const anchor = builder.anchor[line] ?? NONE;
    if (anchor === NONE || this.compareSlots(slot, anchor) < 0) builder.anchor[line] = slot;
    // The contract key: the smallest one named (by text), so row order never matters.
    const key = this.contractKeyOf[slot] ?? NONE;
    const lineKey = builder.contractKey[line] ?? NONE;
    if (
      key !== NONE &&
      (lineKey === NONE ||
        (key !== lineKey && (this.contractKeys[key] ?? '') < (this.contractKeys[lineKey] ?? '')))
    ) {
      builder.contractKey[line] = key;
    }
  }
}

class DisbursedBuilder {
  private count = 0;
  private capacity: number;
  private payout: Int32;
  private line: Int32;
  private contractKey: Int32;
  private currency: Int32;
  private settles: BigInt64;
  private part: Uint8Array<ArrayBuffer>;
  private day: Int32;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.payout = new Int32Array(capacity);
    this.line = new Int32Array(capacity);
    this.contractKey = new Int32Array(capacity);
    this.currency = new Int32Array(capacity);
    this.settles = new BigInt64Array(capacity);
    this.settlesWords = int64Words(this.settles);
    this.part = new Uint8Array(capacity);
    this.day = new Int32Array(capacity);
  }

  /** The settles column's words (int64.ts). */
  settlesWords: Int32Array<ArrayBuffer>;

  /** Appends a record settling minus `amountWords[amountIndex]`; returns its index. */
  push(
    payout: number,
    line: number,
    contractKey: number,
    currency: number,
    amountWords: Int32Array,
    amountIndex: number,
    part: number,
    day: number,
  ): number {
    if (this.count >= this.capacity) {
      const capacity = Math.ceil(this.capacity * 1.5);
      this.payout = growInt32(this.payout, capacity);
      this.line = growInt32(this.line, capacity);
      this.contractKey = growInt32(this.contractKey, capacity);
      this.currency = growInt32(this.currency, capacity);
      this.day = growInt32(this.day, capacity);
      const settlesNext = new BigInt64Array(capacity);
      settlesNext.set(this.settles);
      this.settles = settlesNext;
      this.settlesWords = int64Words(settlesNext);
      const partNext = new Uint8Array(capacity);
      partNext.set(this.part);
      this.part = partNext;
      this.capacity = capacity;
    }
    const i = this.count;
    this.payout[i] = payout;
    this.line[i] = line;
    this.contractKey[i] = contractKey;
    this.currency[i] = currency;
    negateInt64(this.settlesWords, i, amountWords, amountIndex);
    this.part[i] = part;
    this.day[i] = day;
    this.count = i + 1;
    return i;
  }

  done(): DisbursedRecords {
    return {
      count: this.count,
      payout: this.payout,
      line: this.line,
      contractKey: this.contractKey,
      currency: this.currency,
      settles: this.settles,
      part: this.part,
      day: this.day,
    };
  }
}

/** The LineBuilder's sums, as indexes of its `sumWords`. */
const SUM_CHARGE = 0;
const SUM_FEE = 1;
const SUM_CHARGE_REFUND = 2;
const SUM_FEE_REFUND = 3;
const SUM_CHARGE_CREDIT = 4;
const SUM_FEE_CREDIT = 5;
const SUM_FORGIVEN_CHARGE = 6;
const SUM_FORGIVEN_FEE = 7;
const SUM_TAX_BALANCE = 8;
const SUM_TAX_OTHER = 9;
const SUM_ADJUSTMENT = 10;
const SUM_DISBURSED = 11;

/** Growable columns of lines. */
class LineBuilder {
  count = 0;
  private capacity: number;
  currency: Int32;
  contractKey: Int32;
  identity: Int32;
  anchor: Int32;
  identityIndex: Int32;
  fileLine: Int32;
  sortHi: Int32;
  sortLo: Int32;
  invoiceDay: Int32;
  dueDay: Int32;
  usageStartDay: Int32;
  usageEndDay: Int32;
  groupHi: Int32;
  groupLo: Int32;
  charge: BigInt64;
  fee: BigInt64;
  chargeRefund: BigInt64;
  feeRefund: BigInt64;
  chargeCredit: BigInt64;
  feeCredit: BigInt64;
  forgivenCharge: BigInt64;
  forgivenFee: BigInt64;
  taxBalance: BigInt64;
  taxOther: BigInt64;
  adjustment: BigInt64;
  disbursed: BigInt64;
  /** The words (int64.ts) of the sums, by SUM_* index. */
  sumWords: Int32Array<ArrayBuffer>[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
    const ints = () => new Int32Array(capacity).fill(NONE);
    const bigs = () => new BigInt64Array(capacity);
    this.currency = ints();
    this.contractKey = ints();
    this.identity = ints();
    this.anchor = ints();
    this.identityIndex = ints();
    this.fileLine = ints();
    this.sortHi = ints();
    this.sortLo = ints();
    this.invoiceDay = ints();
    this.dueDay = ints();
    this.usageStartDay = ints();
    this.usageEndDay = ints();
    this.groupHi = ints();
    this.groupLo = ints();
    this.charge = bigs();
    this.fee = bigs();
    this.chargeRefund = bigs();
    this.feeRefund = bigs();
    this.chargeCredit = bigs();
    this.feeCredit = bigs();
    this.forgivenCharge = bigs();
    this.forgivenFee = bigs();
    this.taxBalance = bigs();
    this.taxOther = bigs();
    this.adjustment = bigs();
    this.disbursed = bigs();
    this.words();
  }

  private words(): void {
    this.sumWords = [
      this.charge,
      this.fee,
      this.chargeRefund,
      this.feeRefund,
      this.chargeCredit,
      this.feeCredit,
      this.forgivenCharge,
      this.forgivenFee,
      this.taxBalance,
      this.taxOther,
      this.adjustment,
      this.disbursed,
    ].map(int64Words);
  }

  open(currency: number, groupHi: number, groupLo: number): number {
    if (this.count >= this.capacity) this.grow();
    const line = this.count;
    this.currency[line] = currency;
    this.groupHi[line] = groupHi;
    this.groupLo[line] = groupLo;
    this.count += 1;
    return line;
  }

  private grow(): void {
    const capacity = Math.ceil(this.capacity * 1.5);
    const ints = (a: Int32) => growInt32(a, capacity, NONE);
    const bigs = (a: BigInt64) => {
      const next = new BigInt64Array(capacity);
      next.set(a);
      return next;
    };
    this.currency = ints(this.currency);
    this.contractKey = ints(this.contractKey);
    this.identity = ints(this.identity);
    this.anchor = ints(this.anchor);
    this.identityIndex = ints(this.identityIndex);
    this.fileLine = ints(this.fileLine);
    this.sortHi = ints(this.sortHi);
    this.sortLo = ints(this.sortLo);
    this.invoiceDay = ints(this.invoiceDay);
    this.dueDay = ints(this.dueDay);
    this.usageStartDay = ints(this.usageStartDay);
    this.usageEndDay = ints(this.usageEndDay);
    this.groupHi = ints(this.groupHi);
    this.groupLo = ints(this.groupLo);
    this.charge = bigs(this.charge);
    this.fee = bigs(this.fee);
    this.chargeRefund = bigs(this.chargeRefund);
    this.feeRefund = bigs(this.feeRefund);
    this.chargeCredit = bigs(this.chargeCredit);
    this.feeCredit = bigs(this.feeCredit);
    this.forgivenCharge = bigs(this.forgivenCharge);
    this.forgivenFee = bigs(this.forgivenFee);
    this.taxBalance = bigs(this.taxBalance);
    this.taxOther = bigs(this.taxOther);
    this.adjustment = bigs(this.adjustment);
    this.disbursed = bigs(this.disbursed);
    this.words();
    this.capacity = capacity;
  }

  done(): StatementLines {
    return {
      count: this.count,
      currency: this.currency,
      contractKey: this.contractKey,
      identity: this.identity,
      anchor: this.anchor,
      identityIndex: this.identityIndex,
      fileLine: this.fileLine,
      sortHi: this.sortHi,
      sortLo: this.sortLo,
      invoiceDay: this.invoiceDay,
      dueDay: this.dueDay,
      usageStartDay: this.usageStartDay,
      usageEndDay: this.usageEndDay,
      groupHi: this.groupHi,
      groupLo: this.groupLo,
      charge: this.charge,
      fee: this.fee,
      chargeRefund: this.chargeRefund,
      feeRefund: this.feeRefund,
      chargeCredit: this.chargeCredit,
      feeCredit: this.feeCredit,
      forgivenCharge: this.forgivenCharge,
      forgivenFee: this.forgivenFee,
      taxBalance: this.taxBalance,
      taxOther: this.taxOther,
      adjustment: this.adjustment,
      disbursed: this.disbursed,
    };
  }
}
