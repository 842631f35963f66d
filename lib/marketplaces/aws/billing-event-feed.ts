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

import { DATE_YEAR_MAX, DATE_YEAR_MIN } from '../../domain/calendar';
import { isKnownCurrency, minorUnitsOf } from '../../domain/money';
import {
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
import { A, C, type PackedRecords } from '../../domain/reconciliation/store';
import {
  CSV_ROW_LENGTH_MAX,
  type CsvBlockResult,
  type CsvOptions,
  csvViewField,
  readCsvBatches,
  scanCsv,
} from '../../tools/csv-stream';
import {
  BillingEventKernel,
  KERNEL_INPUT_CAPACITY,
  KERNEL_STOP_CURRENCY,
  KERNEL_STOP_END,
  KERNEL_STOP_FULL,
  KERNEL_STOP_ODD,
  type KernelColumns,
  kernelTakesDelimiter,
} from './kernel/billing-event-kernel';

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

/** Where each column the readers use is in a file (-1: absent), from its header. */
function columnsOf(columns: ReadonlyMap<string, number>): KernelColumns {
  const at = (name: string) => columns.get(name) ?? -1;
  return {
    id: at('billing_event_id'),
    action: at('action'),
    type: at('transaction_type'),
    parent: at('parent_billing_event_id'),
    payout: at('disbursement_billing_event_id'),
    amount: at('amount'),
    currency: at('currency'),
    balance: at('balance_impacting'),
    invoiceDate: at('invoice_date'),
    dueDate: at('payment_due_date'),
    usageStart: at('usage_period_start_date'),
    usageEnd: at('usage_period_end_date'),
    invoiceId: at('invoice_id'),
    reference: at('transaction_reference_id'),
    bankTrace: at('bank_trace_id'),
    agreement: at('agreement_id'),
    update: UPDATE_COLUMNS.map(at).find((index) => index >= 0) ?? -1,
    payoutAmount: at('disbursement_amount'),
    payoutCurrency: at('disbursement_currency'),
  };
}

export const AWS_BILLING_EVENT_SCHEMA: FeedSchema<StatementRecord> = {
  kind: 'aws-billing-events',
  required: AWS_BILLING_EVENT_REQUIRED_COLUMNS,
  optional: AWS_BILLING_EVENT_OPTIONAL_COLUMNS,
  normalize: (name) => name.trim().toLowerCase(),
  rowParser: (columns) => {
    const {
      id,
      action,
      type,
      parent,
      payout,
      amount,
      currency,
      balance,
      invoiceDate,
      dueDate,
      usageStart,
      usageEnd,
      invoiceId,
      reference,
      bankTrace,
      agreement,
      update,
      payoutAmount,
      payoutCurrency,
    } = columnsOf(columns);
    // null, not '': an empty currency is checked (and refused) like any other.
    let lastCurrency: string | null = null;
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
  /** Records packed by the kernel (store.ts PackedRecords). */
  addPacked(records: PackedRecords): void;
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

/**
 * Reads a billing event feed into a reconciliation: the same records and row errors as
 * `readAwsBillingEventFeed`, but a plain ASCII row (nearly all of them) goes from bytes to the
 * statement's columns through the WebAssembly kernel (kernel/billing-event-kernel.as.ts) without
 * a string per field or an object per row — ids fingerprinted, amounts and dates parsed from the
 * bytes, repeated agreement and payout ids recognised by a byte comparison. Any row the kernel
 * does not recognise exactly (a lower-case action, an amount with a plus sign, a converted
 * payout, …) goes through the regular row parser, so both paths agree by construction; property
 * tests check they do.
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
  const sample = (bytes: number, count: number) => {
    sampleBytes += bytes;
    sampleRows += count;
    if (sampleRows < SIZE_SAMPLE_ROWS) return;
    sink.expectRecords?.(
      Math.ceil(((sizeBytes ?? 0) / sampleBytes) * sampleRows * SIZE_ESTIMATE_SLACK),
    );
    sampleRows = -1;
  };
  let parse: RowParser<StatementRecord> | null = null;
  let width = 0;
  let rows = 0;
  const errors: RowError[] = [];
  const records: StatementRecord[] = [];
  const error = (line: number, reason: string) => {
    errors.push({ line, reason });
    if (errors.length >= ROW_ERROR_BATCH) sink.addRowErrors(errors.splice(0));
  };
  let fast: KernelRows | null = null;
  const delimiterCode = (csvOptions.delimiter ?? ',').charCodeAt(0);
  const header = (fields: readonly string[]) => {
    const columns = checkHeader(AWS_BILLING_EVENT_SCHEMA, fields);
    parse = AWS_BILLING_EVENT_SCHEMA.rowParser(columns);
    width = fields.length;
    if (kernelTakesDelimiter(delimiterCode)) {
      fast = new KernelRows(columns, width, delimiterCode, sink);
    }
  };
  const slowRow = (fields: readonly string[], line: number) => {
    if (parse === null) return;
    const problem = parse(fields, line, records);
    if (problem !== null) error(line, problem);
    if (records.length > 0) sink.add(records.splice(0));
  };
  await scanCsv(
    source,
    {
      block(bytes, start, limit, line, result) {
        if (fast === null) return;
        fast.take(bytes, start, limit, line, result);
        if (result.records === 0) return;
        rows += result.records;
        if (sampleRows >= 0) sample(result.next - start, result.records);
      },
      record(view) {
        if (parse === null) {
          header(Array.from({ length: view.count }, (_, i) => csvViewField(view, i)));
          return;
        }
        rows += 1;
        if (sampleRows >= 0) {
          sample((view.ends[view.count - 1] ?? 0) - (view.starts[0] ?? 0) + 1, 1);
        }
        if (view.count !== width) {
          error(view.line, fieldCountReason(view.count, width));
          return;
        }
        const fields: string[] = [];
        for (let i = 0; i < view.count; i += 1) fields.push(csvViewField(view, i));
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

/**
 * The kernel's rows into the sink, a batch per scan (the kernel's output, packed as the store
 * reads it: store.ts PackedColumns). The kernel stops at a row it does not take (declined: the scanner
 * cuts it for the regular parser) or at a currency it has not been told (told here when it is a
 * known one, then the block goes on).
 */
class KernelRows {
  private readonly kernel: BillingEventKernel;
  private readonly currencies: string[] = [];
  /** What the kernel holds: `loaded[loadedFrom…loadedTo)`. */
  private loaded: Uint8Array | null = null;
  private loadedFrom = 0;
  private loadedTo = 0;
  private readonly batch: {
    -readonly [K in keyof PackedRecords]: PackedRecords[K];
  };

  constructor(
    columns: ReadonlyMap<string, number>,
    width: number,
    delimiterCode: number,
    private readonly sink: StatementSink,
  ) {
    this.kernel = new BillingEventKernel({
      width,
      delimiterCode,
      rowLengthMax: CSV_ROW_LENGTH_MAX,
      yearMin: DATE_YEAR_MIN,
      yearMax: DATE_YEAR_MAX,
      disbursedAction: A.disbursed,
      payoutComponent: C.payout,
      actions: [...ACTIONS].map(([name, statementAction]) => [name, A[statementAction]] as const),
      types: [...TRANSACTION_TYPES].map(([name, component]) => [name, C[component]] as const),
      columns: columnsOf(columns),
    });
    const k = this.kernel;
    this.batch = {
      columns: k.columns,
      bytes: k.bytes,
      byteOffset: k.input,
      count: 0,
      firstLine: 0,
      currencies: this.currencies,
      last: { contractKey: -1, payout: -1 },
    };
  }

  take(bytes: Buffer, start: number, limit: number, line: number, result: CsvBlockResult): void {
    const kernel = this.kernel;
    const batch = this.batch;
    let at = start;
    let next = line;
    result.declined = false;
    while (at < limit) {
      // The block is copied into the kernel once: after a declined row the scanner offers the
      // rest of the same block again, and the kernel goes on from there in what it holds.
      if (bytes !== this.loaded || at < this.loadedFrom || limit > this.loadedTo) {
        const to = Math.min(limit, at + KERNEL_INPUT_CAPACITY);
        kernel.load(bytes, at, to);
        this.loaded = bytes;
        this.loadedFrom = at;
        this.loadedTo = to;
      }
      const end = Math.min(limit, this.loadedTo);
      const count = kernel.scan(at - this.loadedFrom, end - this.loadedFrom);
      if (count > 0) {
        batch.count = count;
        batch.firstLine = next;
        this.sink.addPacked(batch);
      }
      next += count;
      result.records += count;
      const reason = kernel.stopReason;
      at = this.loadedFrom + kernel.stopAt;
      if (reason === KERNEL_STOP_FULL) continue;
      if (reason === KERNEL_STOP_END) {
        // A block longer than the kernel's input goes on from its last complete row.
        if (end < limit && count > 0) continue;
        break;
      }
      if (reason === KERNEL_STOP_CURRENCY && this.tell(kernel.stopCurrency())) continue;
      result.declined = true;
      // The kernel saw the row whole: plain unless it said otherwise.
      result.plain = reason !== KERNEL_STOP_ODD;
      break;
    }
    result.next = at;
  }

  /** Tells the kernel a currency it stopped at; false when the regular parser must decide. */
  private tell(code: string): boolean {
    if (!isKnownCurrency(code) || this.currencies.includes(code)) return false;
    if (!this.kernel.addCurrency(code, minorUnitsOf(code), this.currencies.length)) return false;
    this.currencies.push(code);
    return true;
  }
}
