/**
 * An optional bank statement (CSV: date, amount, reference; optionally currency), matched to
 * marketplace payouts by reference — AWS puts its `bank_trace_id` in the transfer reference.
 * Header names are compared case-insensitively; a file without the three columns is rejected at
 * its header; a row with an unusable date or amount is a row error with its line.
 */
import { dateFromDayNumber } from '../calendar';
import { isKnownCurrency, minorUnitsOf } from '../money';
import { parseAmountMinor, parseDay } from './parse';
import {
  type DayNumber,
  type FeedItem,
  type FeedSchema,
  parseFeed,
  type RowError,
} from './statement';

/** Rows one bank statement may hold (it is read whole). */
export const BANK_STATEMENT_ROWS_MAX = 1_000_000;

export interface BankLine {
  readonly line: number;
  readonly date: string;
  readonly day: DayNumber;
  readonly currency: string;
  /** Money received is positive. */
  readonly amountMinor: bigint;
  readonly reference: string;
}

export function bankStatementSchema(defaultCurrency: string): FeedSchema<BankLine> {
  return {
    kind: 'bank-statement',
    required: ['date', 'amount', 'reference'],
    optional: ['currency', 'description'],
    normalize: (name) => name.trim().toLowerCase(),
    rowParser: (columns) => {
      const date = columns.get('date') ?? 0;
      const amount = columns.get('amount') ?? 0;
      const reference = columns.get('reference') ?? 0;
      const currencyColumn = columns.get('currency');
      return (fields, line, out) => {
        const currency =
          (currencyColumn === undefined ? '' : (fields[currencyColumn] ?? '').trim()) ||
          defaultCurrency;
        if (!isKnownCurrency(currency)) return `unknown currency "${currency}"`;
        try {
          const day = parseDay((fields[date] ?? '').trim());
          const text = (fields[amount] ?? '').trim().replaceAll(',', '');
          out.push({
            line,
            date: dateFromDayNumber(day),
            day,
            currency,
            amountMinor: parseAmountMinor(text, currency, minorUnitsOf(currency)),
            reference: (fields[reference] ?? '').trim(),
          });
          return null;
        } catch (error) {
          return error instanceof Error ? error.message : 'unusable row';
        }
      };
    },
  };
}

/** Reads a whole bank statement from CSV batches. */
export async function readBankStatement(
  batches: AsyncIterable<readonly FeedItem[]> | Iterable<readonly FeedItem[]>,
  options: { currency?: string } = {},
): Promise<{ lines: BankLine[]; rowErrors: RowError[] }> {
  const lines: BankLine[] = [];
  const rowErrors: RowError[] = [];
  for await (const batch of parseFeed(batches, bankStatementSchema(options.currency ?? 'USD'))) {
    lines.push(...batch.records);
    rowErrors.push(...batch.rowErrors);
    if (lines.length > BANK_STATEMENT_ROWS_MAX) {
      throw new RangeError(`A bank statement holds at most ${BANK_STATEMENT_ROWS_MAX} rows`);
    }
  }
  return { lines, rowErrors };
}

/** How references compare: trimmed, case-insensitive. */
export function bankReferenceKey(reference: string): string {
  return reference.trim().toUpperCase();
}
