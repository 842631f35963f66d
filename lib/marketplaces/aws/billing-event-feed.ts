/**
 * The AWS Marketplace billing event feed (Seller Delivery Data Feeds, `billing_event`) as
 * statement records for the reconciliation.
 *
 * Columns: every column of the documented feed is required, so a file of another kind is
 * refused at its header, naming what it lacks. `agreement_id`, `offer_id`, an update timestamp
 * (`update_date`; also `updated_at`, `update_time`) and `disbursement_amount` /
 * `disbursement_currency` are optional: newer feeds carry them. Without `agreement_id` a line is
 * tied to its contract through `transaction_reference_id` and `invoice_id` (the contract refs).
 *
 * Semantics (AWS's SQL comments): positive = owed to the seller; `AWS_REV_SHARE` is the listing
 * fee (negative); `*_REFUND` / `*_CREDIT` give back; DISBURSED rows mirror what they pay with
 * the opposite sign and point to the invoiced row (`parent_billing_event_id`) and to the payout
 * (`disbursement_billing_event_id`), whose `DISBURSEMENT` row carries `bank_trace_id`;
 * `DISBURSEMENT_FAILURE` reverses a payout; taxes are kept apart (`balance_impacting = 0` for
 * those AWS collects and remits). A `billing_event_id` may repeat with a later update: the
 * reconciliation keeps the latest (statement store, fingerprint-keyed columns: ~80 bytes a
 * row, not a map of row objects).
 *
 * Amounts are exact: decimal strings to bigint minor units, refused (row error) when they have
 * more decimals than the currency — the documented feed has two for USD.
 */
import { isKnownCurrency, minorUnitsOf } from '../../domain/money';
import { type Fingerprint, fingerprintWordsInto } from '../../domain/reconciliation/fingerprint';
import {
  dayFromBytes,
  millisFromBytes,
  parseAmountMinor,
  parseDayCached,
  parseInstantMillisCached,
} from '../../domain/reconciliation/parse';
import {
  checkHeader,
  type FeedSchema,
  fieldCountReason,
  parseFeed,
  type RowError,
  type RowParser,
  type StatementAction,
  type StatementBatch,
  type StatementComponent,
  type StatementRecord,
  WrongFileKindError,
} from '../../domain/reconciliation/statement';
import {
  A,
  C,
  newRawRecord,
  type RawStatementRecord,
  recordNamesLine,
} from '../../domain/reconciliation/store';
import {
  type CsvOptions,
  type CsvRecordView,
  csvViewField,
  readCsvBatches,
  scanCsv,
} from '../../tools/csv-stream';

export const AWS_BILLING_EVENT_REQUIRED_COLUMNS = [
  'billing_event_id',
  'from_account_id',
  'to_account_id',
  'end_user_account_id',
  'product_id',
  'action',
  'transaction_type',
  'parent_billing_event_id',
  'disbursement_billing_event_id',
  'amount',
  'currency',
  'balance_impacting',
  'invoice_date',
  'payment_due_date',
  'usage_period_start_date',
  'usage_period_end_date',
  'invoice_id',
  'billing_address_id',
  'transaction_reference_id',
  'bank_trace_id',
  'broker_id',
] as const;

/** Optional columns; the first update-time column present orders versions of an event. */
export const AWS_BILLING_EVENT_OPTIONAL_COLUMNS = [
  'agreement_id',
  'offer_id',
  'update_date',
  'updated_at',
  'update_time',
  'disbursement_amount',
  'disbursement_currency',
] as const;
const UPDATE_COLUMNS = ['update_date', 'updated_at', 'update_time'] as const;

const ACTIONS: ReadonlyMap<string, StatementAction> = new Map([
  ['INVOICED', 'billed'],
  ['FORGIVEN', 'forgiven'],
  ['DISBURSED', 'disbursed'],
]);

const TRANSACTION_TYPES: ReadonlyMap<string, StatementComponent> = new Map([
  ['SELLER_REV_SHARE', 'charge'],
  ['AWS_REV_SHARE', 'fee'],
  ['SELLER_REV_SHARE_REFUND', 'charge_refund'],
  ['AWS_REV_SHARE_REFUND', 'fee_refund'],
  ['SELLER_REV_SHARE_CREDIT', 'charge_credit'],
  ['AWS_REV_SHARE_CREDIT', 'fee_credit'],
  ['SELLER_TAX_SHARE', 'tax'],
  ['AWS_TAX_SHARE', 'tax'],
  ['SELLER_TAX_SHARE_REFUND', 'tax'],
  ['AWS_TAX_SHARE_REFUND', 'tax'],
  ['SELLER_TAX_SHARE_CREDIT', 'tax'],
  ['AWS_TAX_SHARE_CREDIT', 'tax'],
  ['BALANCE_ADJUSTMENT', 'adjustment'],
  ['DISBURSEMENT', 'payout'],
  ['DISBURSEMENT_FAILURE', 'payout_failure'],
]);

/** The common spellings by a switch (no hashing per row); anything else through the maps. */
function actionOf(text: string): StatementAction | undefined {
  switch (text) {
    case 'INVOICED':
      return 'billed';
    case 'DISBURSED':
      return 'disbursed';
    default:
      return ACTIONS.get(text.trim().toUpperCase());
  }
}

function componentOf(text: string): StatementComponent | undefined {
  switch (text) {
    case 'SELLER_REV_SHARE':
      return 'charge';
    case 'AWS_REV_SHARE':
      return 'fee';
    default:
      return TRANSACTION_TYPES.get(text.trim().toUpperCase());
  }
}

function orNull(text: string | undefined): string | null {
  return text === undefined || text === '' ? null : text;
}

function dayOrNull(text: string | undefined): number | null {
  return text === undefined || text === '' ? null : parseDayCached(text);
}

export const AWS_BILLING_EVENT_SCHEMA: FeedSchema<StatementRecord> = {
  kind: 'aws-billing-events',
  required: AWS_BILLING_EVENT_REQUIRED_COLUMNS,
  optional: AWS_BILLING_EVENT_OPTIONAL_COLUMNS,
  normalize: (name) => name.trim().toLowerCase(),
  rowParser: (columns) => {
    const at = (name: string) => columns.get(name) ?? -1;
    const id = at('billing_event_id');
    const action = at('action');
    const type = at('transaction_type');
    const parent = at('parent_billing_event_id');
    const payout = at('disbursement_billing_event_id');
    const amount = at('amount');
    const currency = at('currency');
    const balance = at('balance_impacting');
    const invoiceDate = at('invoice_date');
    const dueDate = at('payment_due_date');
    const usageStart = at('usage_period_start_date');
    const usageEnd = at('usage_period_end_date');
    const invoiceId = at('invoice_id');
    const reference = at('transaction_reference_id');
    const bankTrace = at('bank_trace_id');
    const agreement = at('agreement_id');
    const update = UPDATE_COLUMNS.map(at).find((index) => index >= 0) ?? -1;
    const payoutAmount = at('disbursement_amount');
    const payoutCurrency = at('disbursement_currency');
    let lastCurrency = '';
    let lastExponent = 0;
    const field = (fields: readonly string[], index: number) =>
      index < 0 ? undefined : fields[index];
    return (fields, line, out) => {
      const recordId = fields[id] ?? '';
      if (recordId === '') return 'billing_event_id is empty';
      const actionText = fields[action] ?? '';
      const statementAction = actionOf(actionText);
      if (statementAction === undefined) return `unknown action "${actionText}"`;
      const typeText = fields[type] ?? '';
      const component = componentOf(typeText);
      if (component === undefined) return `unknown transaction_type "${typeText}"`;
      const code = fields[currency] ?? '';
      if (code !== lastCurrency) {
        if (!isKnownCurrency(code)) return `unknown currency "${code}"`;
        lastCurrency = code;
        lastExponent = minorUnitsOf(code);
      }
      const balanceText = fields[balance] ?? '';
      const balanceImpacting =
        balanceText === '1' || balanceText === 'true'
          ? true
          : balanceText === '0' || balanceText === 'false'
            ? false
            : null;
      if (balanceImpacting === null) return `balance_impacting must be 0 or 1 ("${balanceText}")`;
      let amountMinor: bigint;
      try {
        amountMinor = parseAmountMinor(fields[amount] ?? '', code, lastExponent);
      } catch (error) {
        return `amount: ${error instanceof Error ? error.message : 'not an amount'}`;
      }
      let payoutAmountMinor: bigint | null = null;
      const payoutCode = orNull(field(fields, payoutCurrency));
      const payoutText = orNull(field(fields, payoutAmount));
      if (payoutCode !== null && payoutText !== null) {
        if (!isKnownCurrency(payoutCode)) return `unknown disbursement_currency "${payoutCode}"`;
        try {
          payoutAmountMinor = parseAmountMinor(payoutText, payoutCode, minorUnitsOf(payoutCode));
        } catch (error) {
          return `disbursement_amount: ${error instanceof Error ? error.message : 'not an amount'}`;
        }
      }
      let version = 0;
      let invoiceDay: number | null;
      let dueDay: number | null;
      let usageStartDay: number | null;
      let usageEndDay: number | null;
      let updateDay: number | null = null;
      try {
        invoiceDay = dayOrNull(fields[invoiceDate]);
        dueDay = dayOrNull(fields[dueDate]);
        usageStartDay = dayOrNull(fields[usageStart]);
        usageEndDay = dayOrNull(fields[usageEnd]);
        const updateText = field(fields, update);
        if (updateText !== undefined && updateText !== '') {
          version = parseInstantMillisCached(updateText);
          updateDay = Math.floor(version / 86_400_000);
        }
      } catch (error) {
        return error instanceof Error ? error.message : 'not a date';
      }
      out.push({
        line,
        recordId,
        version,
        action: statementAction,
        component,
        balanceImpacting,
        contractKey: orNull(field(fields, agreement)),
        groupKey: orNull(fields[reference]),
        invoiceId: orNull(fields[invoiceId]),
        parentId: orNull(fields[parent]),
        payoutId: orNull(fields[payout]),
        bankReference: orNull(fields[bankTrace]),
        currency: code,
        amountMinor,
        payoutCurrency: payoutAmountMinor === null ? null : payoutCode,
        payoutAmountMinor,
        invoiceDay,
        dueDay,
        usageStartDay,
        usageEndDay,
        // A DISBURSED row's invoice_date is its invoice's, not the payout's: only the payout row's.
        eventDay: updateDay ?? (component === 'payout' ? invoiceDay : null),
      });
      return null;
    };
  },
};

/**
 * Reads a billing event feed (bytes or text chunks, e.g. a file or S3 stream) as batches of
 * statement records and row errors. Throws WrongFileKindError at the header.
 */
export function readAwsBillingEventFeed(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvOptions = {},
): AsyncGenerator<StatementBatch, void, undefined> {
  return parseFeed(readCsvBatches(source, options), AWS_BILLING_EVENT_SCHEMA);
}

// ---------------------------------------------------------------------------------------------
// The fast path: bytes straight into the reconciliation's columns
// ---------------------------------------------------------------------------------------------

/** Where the fast path delivers (a StatementSide of the reconciliation, or a store). */
export interface StatementSink {
  add(records: readonly StatementRecord[]): void;
  addRaw(record: RawStatementRecord): void;
  addRowErrors(errors: readonly RowError[]): void;
  /** Told once how many records are coming, about, when the file's size is known. */
  expectRecords?(records: number): void;
}

export interface FeedOptions extends CsvOptions {
  /** The file's size in bytes, when known: the sink's memory is sized from it. */
  readonly sizeBytes?: number;
}

/** Rows measured before the number of records is estimated from the file's size. */
const SIZE_SAMPLE_ROWS = 1_000;
/** Slack on that estimate (rows vary in length). */
const SIZE_ESTIMATE_SLACK = 1.02;

/** Row errors handed to the sink at a time. */
const ROW_ERROR_BATCH = 1_000;
const encoder = new TextEncoder();
function sameBytes(bytes: Uint8Array, start: number, end: number, known: Uint8Array): boolean {
  if (end - start !== known.length) return false;
  for (let i = 0; i < known.length; i += 1) if (bytes[start + i] !== known[i]) return false;
  return true;
}

/** ASCII bytes as a flat string that references nothing else. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.isBuffer(bytes)
    ? bytes.toString('latin1', start, end)
    : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** One column's last value: a row like the previous one costs a byte comparison. */
class LastValue<T> {
  private readonly bytes = new Uint8Array(64);
  private readonly words = new DataView(this.bytes.buffer);
  private length = -1;
  value: T;

  constructor(initial: T) {
    this.value = initial;
  }

  /** Whether the bytes `source[start…end)` are the last value's. */
  matches(source: DataView, start: number, end: number): boolean {
    const length = end - start;
    if (length !== this.length) return false;
    // Four bytes a read (unaligned), then the rest.
    let i = 0;
    for (; i + 3 < length; i += 4) {
      if (source.getInt32(start + i) !== this.words.getInt32(i)) return false;
    }
    for (; i < length; i += 1) if (source.getUint8(start + i) !== this.bytes[i]) return false;
    return true;
  }

  remember(source: Uint8Array, start: number, end: number, value: T): void {
    this.value = value;
    if (end - start > this.bytes.length) {
      this.length = -1;
      return;
    }
    this.length = end - start;
    for (let i = start; i < end; i += 1) this.bytes[i - start] = source[i] ?? 0;
  }
}

/**
 * Reads a billing event feed into a reconciliation: the same records and row errors as
 * `readAwsBillingEventFeed`, but a plain ASCII row (nearly all of them) goes from bytes to the
 * statement's columns without a string per field or an object per row — ids are fingerprinted
 * from the bytes, amounts and dates parsed from them, repeated values recognised by a byte
 * comparison. Any row the fast path does not recognise exactly (a lower-case action, an amount
 * with a plus sign, a converted payout, …) goes through the regular row parser, so both paths
 * agree by construction; a property test checks they do.
 */
export async function feedAwsBillingEvents(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  sink: StatementSink,
  options: FeedOptions = {},
): Promise<{ rows: number }> {
  const { sizeBytes, ...csvOptions } = options;
  // The average length of the first rows (with their line break), then the estimate.
  let sampleBytes = 0;
  let sampleRows = sizeBytes !== undefined && sizeBytes > 0 && sink.expectRecords ? 0 : -1;
  const sample = (view: CsvRecordView) => {
    sampleBytes += (view.ends[view.count - 1] ?? 0) - (view.starts[0] ?? 0) + 1;
    sampleRows += 1;
    if (sampleRows < SIZE_SAMPLE_ROWS) return;
    sampleRows = -1;
    sink.expectRecords?.(
      Math.ceil(((sizeBytes ?? 0) / sampleBytes) * SIZE_SAMPLE_ROWS * SIZE_ESTIMATE_SLACK),
    );
  };
  let parse: RowParser<StatementRecord> | null = null;
  let columns: ReadonlyMap<string, number> = new Map();
  let width = 0;
  let rows = 0;
  const errors: RowError[] = [];
  const records: StatementRecord[] = [];
  const error = (line: number, reason: string) => {
    errors.push({ line, reason });
    if (errors.length >= ROW_ERROR_BATCH) sink.addRowErrors(errors.splice(0));
  };
  const header = (fields: readonly string[]) => {
    columns = checkHeader(AWS_BILLING_EVENT_SCHEMA, fields);
    parse = AWS_BILLING_EVENT_SCHEMA.rowParser(columns);
    width = fields.length;
    fast = new FastRowReader(columns);
  };
  let fast: FastRowReader | null = null;
  const raw = newRawRecord();
  const slowRow = (fields: readonly string[], line: number) => {
    if (parse === null) return;
    const problem = parse(fields, line, records);
    if (problem !== null) error(line, problem);
    if (records.length > 0) sink.add(records.splice(0));
  };
  await scanCsv(
    source,
    {
      record(view) {
        if (parse === null) {
          header(Array.from({ length: view.count }, (_, i) => csvViewField(view, i)));
          return;
        }
        rows += 1;
        if (sampleRows >= 0) sample(view);
        if (view.count !== width) {
          error(view.line, fieldCountReason(view.count, width));
          return;
        }
        if (fast?.read(view, raw)) {
          sink.addRaw(raw);
          return;
        }
        const fields: string[] = [];
        for (let i = 0; i < view.count; i += 1) {
          fields.push(csvViewField(view, i));
        }
        slowRow(fields, view.line);
      },
      fields(row) {
        if (parse === null) {
          header(row.fields);
          return;
        }
        rows += 1;
        if (row.fields.length !== width) {
          error(row.line, fieldCountReason(row.fields.length, width));
          return;
        }
        slowRow(row.fields, row.line);
      },
      error(item) {
        if (parse === null)
          throw new WrongFileKindError(
            'aws-billing-events',
            AWS_BILLING_EVENT_REQUIRED_COLUMNS,
            item.reason,
          );
        rows += 1;
        error(item.line, item.reason);
      },
    },
    csvOptions,
  );
  if (parse === null) {
    throw new WrongFileKindError(
      'aws-billing-events',
      AWS_BILLING_EVENT_REQUIRED_COLUMNS,
      'The file is empty',
    );
  }
  if (errors.length > 0) sink.addRowErrors(errors);
  return { rows };
}

/** Byte patterns of the known values, by (length, first byte, last byte). */
function byteTable(entries: readonly [string, number][]): Map<number, [Uint8Array, number][]> {
  const table = new Map<number, [Uint8Array, number][]>();
  for (const [name, value] of entries) {
    const bytes = encoder.encode(name);
    const key = tableKey(bytes.length, bytes[0] ?? 0, bytes[bytes.length - 1] ?? 0);
    const list = table.get(key) ?? [];
    list.push([bytes, value]);
    table.set(key, list);
  }
  return table;
}

function tableKey(length: number, first: number, last: number): number {
  return (length << 16) | (first << 8) | last;
}

const ACTION_TABLE = byteTable([
  ['INVOICED', A.billed],
  ['DISBURSED', A.disbursed],
  ['FORGIVEN', A.forgiven],
]);
const TYPE_TABLE = byteTable([...TRANSACTION_TYPES].map(([name, c]) => [name, C[c]]));

function lookupBytes(
  table: Map<number, [Uint8Array, number][]>,
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  if (end <= start) return -1;
  const candidates = table.get(tableKey(end - start, bytes[start] ?? 0, bytes[end - 1] ?? 0));
  if (candidates === undefined) return -1;
  for (const [known, value] of candidates) if (sameBytes(bytes, start, end, known)) return value;
  return -1;
}

/** The two values a column last had (an action or type alternates between a few). */
class RecentBytes {
  private readonly a = new LastValue<number>(-1);
  private readonly b = new LastValue<number>(-1);
  private flip = false;

  lookup(
    table: Map<number, [Uint8Array, number][]>,
    bytes: Uint8Array,
    words: DataView,
    start: number,
    end: number,
  ): number {
    if (this.a.matches(words, start, end)) return this.a.value;
    if (this.b.matches(words, start, end)) return this.b.value;
    const value = lookupBytes(table, bytes, start, end);
    if (value >= 0) {
      (this.flip ? this.b : this.a).remember(bytes, start, end, value);
      this.flip = !this.flip;
    }
    return value;
  }
}

/**
 * The fast conversion of one plain row (`read`), or false when the row needs the regular parser
 * (which then decides, including every error). No closure is made per row.
 */
class FastRowReader {
  private readonly id: number;
  private readonly action: number;
  private readonly type: number;
  private readonly parent: number;
  private readonly payout: number;
  private readonly amount: number;
  private readonly currency: number;
  private readonly balance: number;
  private readonly invoiceDate: number;
  private readonly dueDate: number;
  private readonly usageStart: number;
  private readonly usageEnd: number;
  private readonly invoiceId: number;
  private readonly reference: number;
  private readonly bankTrace: number;
  private readonly agreement: number;
  private readonly update: number;
  private readonly payoutAmount: number;
  private readonly payoutCurrency: number;
  private readonly currencies = new LastValue<string>('');
  private readonly actions = new RecentBytes();
  private readonly types = new RecentBytes();
  private exponent = 0;
  private readonly agreements = new LastValue<string | null>(null);
  private readonly payouts = new LastValue<string | null>(null);
  private readonly fp: Fingerprint = { hi: 0, lo: 0 };
  private wordsOf: Uint8Array | null = null;
  private words: DataView = new DataView(new ArrayBuffer(0));

  constructor(columns: ReadonlyMap<string, number>) {
    const at = (name: string) => columns.get(name) ?? -1;
    this.id = at('billing_event_id');
    this.action = at('action');
    this.type = at('transaction_type');
    this.parent = at('parent_billing_event_id');
    this.payout = at('disbursement_billing_event_id');
    this.amount = at('amount');
    this.currency = at('currency');
    this.balance = at('balance_impacting');
    this.invoiceDate = at('invoice_date');
    this.dueDate = at('payment_due_date');
    this.usageStart = at('usage_period_start_date');
    this.usageEnd = at('usage_period_end_date');
    this.invoiceId = at('invoice_id');
    this.reference = at('transaction_reference_id');
    this.bankTrace = at('bank_trace_id');
    this.agreement = at('agreement_id');
    this.update = UPDATE_COLUMNS.map(at).find((index) => index >= 0) ?? -1;
    this.payoutAmount = at('disbursement_amount');
    this.payoutCurrency = at('disbursement_currency');
  }

  private span(view: CsvRecordView, column: number): number {
    return column < 0 ? 0 : (view.ends[column] ?? 0) - (view.starts[column] ?? 0);
  }

  private text(view: CsvRecordView, column: number): string | null {
    return this.span(view, column) === 0
      ? null
      : latin1(view.bytes, view.starts[column] ?? 0, view.ends[column] ?? 0);
  }

  /** A date column as a day number, -1 when empty, -2 when the regular parser must look. */
  private day(view: CsvRecordView, column: number): number {
    const start = view.starts[column] ?? 0;
    const end = view.ends[column] ?? 0;
    return start === end ? -1 : dayFromBytes(view.bytes, start, end);
  }

  /** A repeated id column (agreement, payout): the same string while the bytes repeat. */
  private repeated(
    view: CsvRecordView,
    column: number,
    cache: LastValue<string | null>,
  ): string | null {
    if (this.span(view, column) === 0) return null;
    const start = view.starts[column] ?? 0;
    const end = view.ends[column] ?? 0;
    if (!cache.matches(this.words, start, end)) {
      // A string of its own (a slice of the chunk's text would keep the whole chunk alive for
      // as long as the store remembers the key).
      cache.remember(view.bytes, start, end, latin1(view.bytes, start, end));
    }
    return cache.value;
  }

  private fingerprint(view: CsvRecordView, column: number): void {
    fingerprintWordsInto(this.words, view.starts[column] ?? 0, view.ends[column] ?? 0, this.fp);
  }

  read(view: CsvRecordView, raw: RawStatementRecord): boolean {
    const B = view.bytes;
    const S = view.starts;
    const E = view.ends;
    if (B !== this.wordsOf) {
      // The piece's bytes four at a time (comparisons, fingerprints).
      this.wordsOf = B;
      this.words = new DataView(B.buffer, B.byteOffset, B.byteLength);
    }
    if (this.span(view, this.id) === 0) return false;
    // Optional columns that need the regular parser when present.
    if (this.span(view, this.payoutAmount) > 0 || this.span(view, this.payoutCurrency) > 0) {
      return false;
    }
    const action = this.actions.lookup(
      ACTION_TABLE,
      B,
      this.words,
      S[this.action] ?? 0,
      E[this.action] ?? 0,
    );
    if (action < 0) return false;
    const component = this.types.lookup(
      TYPE_TABLE,
      B,
      this.words,
      S[this.type] ?? 0,
      E[this.type] ?? 0,
    );
    if (component < 0) return false;
    const cs = S[this.currency] ?? 0;
    const ce = E[this.currency] ?? 0;
    if (!this.currencies.matches(this.words, cs, ce)) {
      const code = latin1(B, cs, ce);
      if (!isKnownCurrency(code)) return false;
      this.currencies.remember(B, cs, ce, code);
      this.exponent = minorUnitsOf(code);
    }
    if (this.span(view, this.balance) !== 1) return false;
    const flag = B[S[this.balance] ?? 0];
    if (flag !== 48 && flag !== 49) return false;
    // The amount: [-]digits[.digits], at most the currency's decimals, at most 15 digits —
    // accumulated as an integer (exact below 2^53), as parse.ts parseAmountMinor does.
    let value = 0;
    let digits = 0;
    let fraction = -1;
    let negative = false;
    const as = S[this.amount] ?? 0;
    const ae = E[this.amount] ?? 0;
    for (let i = as; i < ae; i += 1) {
      const c = B[i] ?? 0;
      if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48);
        digits += 1;
        if (fraction >= 0) fraction += 1;
      } else if (c === 46 && fraction < 0 && digits > 0) {
        fraction = 0;
      } else if (c === 45 && i === as) {
        negative = true;
      } else {
        return false;
      }
    }
    const exponent = this.exponent;
    const decimals = fraction < 0 ? 0 : fraction;
    if (
      digits === 0 ||
      fraction === 0 ||
      decimals > exponent ||
      digits + exponent - decimals > 15
    ) {
      return false;
    }
    const scaled = value * 10 ** (exponent - decimals);
    const invoiceDay = this.day(view, this.invoiceDate);
    const dueDay = this.day(view, this.dueDate);
    const usageStartDay = this.day(view, this.usageStart);
    const usageEndDay = this.day(view, this.usageEnd);
    if (invoiceDay === -2 || dueDay === -2 || usageStartDay === -2 || usageEndDay === -2) {
      return false;
    }
    let version = 0;
    let updateDay = -1;
    if (this.span(view, this.update) > 0) {
      const us = S[this.update] ?? 0;
      const ue = E[this.update] ?? 0;
      version = millisFromBytes(B, us, ue);
      if (Number.isNaN(version)) return false;
      updateDay = Math.floor(version / 86_400_000);
    }
    raw.line = view.line;
    raw.version = version;
    raw.action = action;
    raw.component = component;
    raw.balanceImpacting = flag === 49;
    this.fingerprint(view, this.id);
    raw.idHi = this.fp.hi;
    raw.idLo = this.fp.lo;
    const hasParent = this.span(view, this.parent) > 0;
    raw.hasParent = hasParent;
    if (hasParent) {
      this.fingerprint(view, this.parent);
      raw.parentHi = this.fp.hi;
      raw.parentLo = this.fp.lo;
    }
    // A disbursed record's line is its parent's; its group is only the fallback without one.
    const group =
      hasParent && action === A.disbursed
        ? -1
        : this.span(view, this.reference) > 0
          ? this.reference
          : this.span(view, this.invoiceId) > 0
            ? this.invoiceId
            : -1;
    raw.hasGroup = group >= 0;
    if (group >= 0) {
      this.fingerprint(view, group);
      raw.groupHi = this.fp.hi;
      raw.groupLo = this.fp.lo;
    }
    raw.recordId = null;
    raw.invoiceId = null;
    raw.idBytes = null;
    if (recordNamesLine(component, action)) {
      if (component === C.payout || component === C.payout_failure) {
        // The payout's id is its payout key too: as a string (a few hundred rows).
        raw.recordId = this.text(view, this.id);
        raw.invoiceId = this.text(view, this.invoiceId);
      } else {
        // The store copies the ids' bytes: no string per row.
        raw.idBytes = B;
        raw.recordIdStart = S[this.id] ?? 0;
        raw.recordIdEnd = E[this.id] ?? 0;
        raw.invoiceIdStart = S[this.invoiceId] ?? 0;
        raw.invoiceIdEnd = E[this.invoiceId] ?? 0;
      }
    }
    raw.contractKey = this.repeated(view, this.agreement, this.agreements);
    raw.payoutId = this.repeated(view, this.payout, this.payouts);
    raw.bankReference = this.text(view, this.bankTrace);
    raw.currency = this.currencies.value;
    // At most 15 digits: an exact integer, handed over as a Number (no BigInt per row).
    raw.amountSafeMinor = negative ? -scaled : scaled;
    raw.payoutCurrency = null;
    raw.payoutAmountMinor = null;
    raw.invoiceDay = invoiceDay;
    raw.dueDay = dueDay;
    raw.usageStartDay = usageStartDay;
    raw.usageEndDay = usageEndDay;
    raw.eventDay = updateDay >= 0 ? updateDay : component === C.payout ? invoiceDay : -1;
    return true;
  }
}
