/**
 * The marketplace side of a reconciliation, in one neutral shape for all three marketplaces:
 * a statement record is one line of a marketplace report (an AWS billing event, one part of an
 * Azure earning, one GCP charge line), already parsed into exact amounts and day numbers.
 *
 * Sign convention (finance.md §7): positive = owed to the seller. A charge is positive, the
 * marketplace's fee negative, a disbursed record negates what it pays out, a payout (the
 * DISBURSEMENT row) carries the amount paid.
 *
 * Also here: the row errors a feed reports, the typed error for a file of the wrong kind, and
 * the header-first loop every feed parser shares (structural CSV batches, no I/O).
 */
import { InvalidInputError } from '../errors';

/** What the record is in the life of an invoice. */
export const STATEMENT_ACTIONS = ['billed', 'forgiven', 'disbursed'] as const;
export type StatementAction = (typeof STATEMENT_ACTIONS)[number];

/**
 * Which part of the money it is. `tax` is kept apart from everything else (AWS collects and
 * remits most of it); `payout` is the disbursement itself, `payout_failure` its reversal.
 */
export const STATEMENT_COMPONENTS = [
  'charge',
  'fee',
  'charge_refund',
  'fee_refund',
  'charge_credit',
  'fee_credit',
  'tax',
  'adjustment',
  'payout',
  'payout_failure',
] as const;
export type StatementComponent = (typeof STATEMENT_COMPONENTS)[number];

/** Day numbers: days since 1970-01-01 (calendar.ts `dayNumber`); compact and exact. */
export type DayNumber = number;

export interface StatementRecord {
  /** Physical line of the file the record came from (header = 1); 0 when not from a file. */
  readonly line: number;
  /** The marketplace's id of the record: repeated ids are versions of one record. */
  readonly recordId: string;
  /** Ordering of versions (e.g. the update time in ms); the highest wins, 0 when unknown. */
  readonly version: number;
  readonly action: StatementAction;
  readonly component: StatementComponent;
  /** False for amounts that never touch the seller's balance (taxes AWS collects and remits). */
  readonly balanceImpacting: boolean;
  /** The contract the record belongs to as the marketplace names it (AWS agreement id, …). */
  readonly contractKey: string | null;
  /** Records of one billed transaction share it (AWS transaction_reference_id). */
  readonly groupKey: string | null;
  /** The marketplace's invoice id. */
  readonly invoiceId: string | null;
  /** The record this one settles or reverses (AWS parent_billing_event_id). */
  readonly parentId: string | null;
  /** The payout this record is paid in (AWS disbursement_billing_event_id). */
  readonly payoutId: string | null;
  /** What the bank statement shows for a payout (AWS bank_trace_id). */
  readonly bankReference: string | null;
  readonly currency: string;
  readonly amountMinor: bigint;
  /** A payout in another currency than the amounts it settles. */
  readonly payoutCurrency: string | null;
  readonly payoutAmountMinor: bigint | null;
  readonly invoiceDay: DayNumber | null;
  readonly dueDay: DayNumber | null;
  /** Service or usage period, first and last day (inclusive). */
  readonly usageStartDay: DayNumber | null;
  readonly usageEndDay: DayNumber | null;
  /** When the record itself happened (a payout's date), if the report says. */
  readonly eventDay: DayNumber | null;
}

/** A row the parser could not use: its physical line and why. */
export interface RowError {
  readonly line: number;
  readonly reason: string;
}

/** The kinds of file `agora reconcile --source` reads. */
export const FEED_KINDS = [
  'aws-billing-events',
  'azure-earnings',
  'gcp-charges-usage',
  'gcp-disbursements',
  'bank-statement',
] as const;
export type FeedKind = (typeof FEED_KINDS)[number];

/** The file is not the kind it was given as: rejected at its header, before any row. */
export class WrongFileKindError extends InvalidInputError {
  readonly kind: FeedKind;
  readonly missingColumns: readonly string[];

  constructor(kind: FeedKind, missingColumns: readonly string[], detail?: string) {
    super(
      'wrong_file_kind',
      detail ??
        `Not a ${kind} file: the header lacks ${missingColumns.length === 1 ? 'column' : 'columns'} ${missingColumns.join(', ')}`,
      missingColumns.map((column) => ({
        path: column,
        code: 'missing_column',
        message: `Required column ${column} is missing`,
      })),
    );
    this.kind = kind;
    this.missingColumns = missingColumns;
  }
}

/** Structural copies of the CSV reader's items (lib/tools/csv-stream), so the domain imports none. */
export interface FeedRow {
  readonly line: number;
  readonly fields: readonly string[];
}
export interface FeedRowError {
  readonly line: number;
  readonly reason: string;
}
export type FeedItem = FeedRow | FeedRowError;

/** Records and row errors of one batch of rows. */
export interface StatementBatch<T = StatementRecord> {
  readonly records: T[];
  readonly rowErrors: RowError[];
}

/** A feed's column set and how one row becomes records (or a row error). */
export interface FeedSchema<T = StatementRecord> {
  readonly kind: FeedKind;
  readonly required: readonly string[];
  readonly optional: readonly string[];
  /** Header names are compared after this (e.g. case and spaces folded). */
  readonly normalize?: (name: string) => string;
  /** Column name → index, for the columns the schema knows; then per row. */
  readonly rowParser: (columns: ReadonlyMap<string, number>) => RowParser<T>;
}

/** Appends the row's records to `out`, or returns the reason it is unusable. */
export type RowParser<T> = (fields: readonly string[], line: number, out: T[]) => string | null;

/** Header names of a feed, as its schema compares them. */
export function headerColumns(
  schema: Pick<FeedSchema<unknown>, 'normalize'>,
  header: readonly string[],
): Map<string, number> {
  const columns = new Map<string, number>();
  header.forEach((name, index) => {
    const key = (schema.normalize ?? ((n: string) => n.trim()))(name);
    if (!columns.has(key)) columns.set(key, index);
  });
  return columns;
}

/** Throws WrongFileKindError unless every required column is present. */
export function checkHeader(
  schema: Pick<FeedSchema<unknown>, 'kind' | 'required' | 'normalize'>,
  header: readonly string[],
): Map<string, number> {
  const columns = headerColumns(schema, header);
  const missing = schema.required.filter((name) => !columns.has(name));
  if (missing.length > 0) throw new WrongFileKindError(schema.kind, missing);
  return columns;
}

/** Why a row with another number of fields than the header is refused. */
export function fieldCountReason(count: number, width: number): string {
  return count > width
    ? `too many fields: ${count}, the header has ${width}`
    : `too few fields: ${count}, the header has ${width}`;
}

/**
 * The loop every feed shares: the first record is the header (checked before anything else),
 * each later row becomes records or a row error with its line; a row with another number of
 * fields than the header is an error too. The rest of the file always continues.
 */
export async function* parseFeed<T>(
  batches: AsyncIterable<readonly FeedItem[]> | Iterable<readonly FeedItem[]>,
  schema: FeedSchema<T>,
): AsyncGenerator<StatementBatch<T>, void, undefined> {
  let parse: RowParser<T> | null = null;
  let width = 0;
  for await (const batch of batches) {
    const records: T[] = [];
    const rowErrors: RowError[] = [];
    for (const item of batch) {
      if ('reason' in item) {
        if (parse === null) throw new WrongFileKindError(schema.kind, schema.required, item.reason);
        rowErrors.push({ line: item.line, reason: item.reason });
        continue;
      }
      if (parse === null) {
        const columns = checkHeader(schema, item.fields);
        parse = schema.rowParser(columns);
        width = item.fields.length;
        continue;
      }
      if (item.fields.length !== width) {
        rowErrors.push({ line: item.line, reason: fieldCountReason(item.fields.length, width) });
        continue;
      }
      const problem = parse(item.fields, item.line, records);
      if (problem !== null) rowErrors.push({ line: item.line, reason: problem });
    }
    if (records.length > 0 || rowErrors.length > 0) yield { records, rowErrors };
  }
  if (parse === null)
    throw new WrongFileKindError(schema.kind, schema.required, 'The file is empty');
}
