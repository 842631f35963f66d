/**
 * Google Cloud Marketplace monthly reports as statement records: the "Charges and usage"
 * report, and the "Detailed disbursements" report.
 *
 * A row is one (month, SKU, account[, private offer]) line: its charges are the billed amount,
 * its revenue share Google's fee (negative), and — in the disbursement report, once its payout
 * status says paid — a disbursed record of the net amount in that month's payout. Rows have no
 * id of their own: a row's id is its key, so a repeated row is a duplicate, not a second line.
 * The contract is named by the private offer (`Quote_id` / `private_offer_id`) when there is
 * one, else by the account (contract refs carry both). Header names are compared with case,
 * spaces and punctuation folded ("Charges (USD)" → `charges_usd`); the amount columns name the
 * currency.
 */
import { isKnownCurrency, minorUnitsOf } from '../../domain/money';
import { parseAmountMinor, parseDay } from '../../domain/reconciliation/parse';
import {
  type FeedSchema,
  parseFeed,
  type StatementBatch,
  type StatementRecord,
  WrongFileKindError,
} from '../../domain/reconciliation/statement';
import { type CsvOptions, readCsvBatches } from '../../tools/csv-stream';

/** "Charges (USD)" → "charges_usd", "Usage Start Time" → "usage_start_time". */
export function gcpColumnName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

// unverified: Google documents the report's concepts (SKU, account, Insights account, location,
// charges, revenue share) and the private-offer columns (Quote_id, Quote_creator, Payment
// schedule, Prepay credits), not the exact headers; these follow our research fixture.
export const GCP_CHARGES_USAGE_REQUIRED_COLUMNS = [
  'usage_start_time',
  'usage_end_time',
  'sku_id',
  'account_id',
] as const;
export const GCP_CHARGES_USAGE_OPTIONAL_COLUMNS = [
  'insights_account_id',
  'location',
  'quote_id',
  'product_name',
  'usage_quantity',
  'net_revenue',
] as const;

// unverified: the detailed disbursement report's columns are not in the reference at all; its
// rows are documented as keyed by sku_id, account_id, private_offer_id and payout status.
export const GCP_DISBURSEMENT_REQUIRED_COLUMNS = [
  'usage_start_time',
  'usage_end_time',
  'sku_id',
  'account_id',
  'private_offer_id',
  'payout_status',
] as const;
export const GCP_DISBURSEMENT_OPTIONAL_COLUMNS = ['payout_id', 'payout_date', 'location'] as const;

const PAID = new Set(['paid', 'disbursed', 'completed', 'sent']);

function orNull(text: string | undefined): string | null {
  const trimmed = text?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

/** The `<prefix>_<ccy>` amount column and its currency, or a wrong-kind error. */
function amountColumn(
  columns: ReadonlyMap<string, number>,
  prefix: string,
  kind: 'gcp-charges-usage' | 'gcp-disbursements',
): { index: number; currency: string } {
  for (const [name, index] of columns) {
    const match = new RegExp(`^${prefix}_([a-z]{3})$`).exec(name);
    const currency = match?.[1]?.toUpperCase();
    if (currency !== undefined && isKnownCurrency(currency)) return { index, currency };
  }
  throw new WrongFileKindError(kind, [`${prefix} (<currency>)`]);
}

function gcpSchema(
  kind: 'gcp-charges-usage' | 'gcp-disbursements',
  required: readonly string[],
  optional: readonly string[],
): FeedSchema<StatementRecord> {
  return {
    kind,
    required,
    optional,
    normalize: gcpColumnName,
    rowParser: (columns) => {
      const charges = amountColumn(columns, 'charges', kind);
      const share = amountColumn(columns, 'revenue_share', kind);
      if (share.currency !== charges.currency) {
        throw new WrongFileKindError(kind, [`revenue_share_${charges.currency.toLowerCase()}`]);
      }
      const currency = charges.currency;
      const exponent = minorUnitsOf(currency);
      const get = (fields: readonly string[], name: string) => {
        const index = columns.get(name);
        return index === undefined ? undefined : fields[index];
      };
      return (fields, line, out) => {
        const sku = orNull(get(fields, 'sku_id'));
        const account = orNull(get(fields, 'account_id'));
        if (sku === null || account === null) return 'sku_id and account_id are required';
        const offer = orNull(get(fields, 'quote_id')) ?? orNull(get(fields, 'private_offer_id'));
        let start: number;
        let end: number;
        let charge: bigint;
        let fee: bigint;
        let payoutDay: number | null = null;
        try {
          start = parseDay(orNull(get(fields, 'usage_start_time')) ?? '');
          end = parseDay(orNull(get(fields, 'usage_end_time')) ?? '');
          charge = parseAmountMinor(fields[charges.index]?.trim() ?? '', currency, exponent);
          fee = parseAmountMinor(fields[share.index]?.trim() ?? '', currency, exponent);
          const paidOn = orNull(get(fields, 'payout_date'));
          if (paidOn !== null) payoutDay = parseDay(paidOn);
        } catch (error) {
          return error instanceof Error ? error.message : 'unusable row';
        }
        if (end < start) return 'usage ends before it starts';
        // A row's identity: its month, SKU, account, offer and location.
        const key = [start, sku, account, offer ?? '', orNull(get(fields, 'location')) ?? ''].join(
          '|',
        );
        const record = (
          suffix: string,
          action: StatementRecord['action'],
          component: StatementRecord['component'],
          amountMinor: bigint,
          links: { parentId: string | null; payoutId: string | null; eventDay: number | null },
        ): StatementRecord => ({
          line,
          recordId: `${key}#${suffix}`,
          version: 0,
          action,
          component,
          balanceImpacting: true,
          contractKey: offer ?? account,
          groupKey: key,
          invoiceId: offer,
          parentId: links.parentId,
          payoutId: links.payoutId,
          bankReference: null,
          currency,
          amountMinor,
          payoutCurrency: null,
          payoutAmountMinor: null,
          invoiceDay: start,
          dueDay: null,
          usageStartDay: start,
          usageEndDay: end,
          eventDay: links.eventDay,
        });
        const none = { parentId: null, payoutId: null, eventDay: null };
        const refund = charge < 0n;
        out.push(record('charge', 'billed', refund ? 'charge_refund' : 'charge', charge, none));
        if (fee !== 0n) out.push(record('fee', 'billed', refund ? 'fee_refund' : 'fee', fee, none));
        const status = (get(fields, 'payout_status') ?? '').trim().toLowerCase();
        if (PAID.has(status)) {
          // unverified: Google pays one aggregate a month; without a payout id, the month is it.
          const payoutId = orNull(get(fields, 'payout_id')) ?? `gcp-payout-${currency}-${start}`;
          out.push(
            record('paid', 'disbursed', refund ? 'charge_refund' : 'charge', -(charge + fee), {
              parentId: `${key}#charge`,
              payoutId,
              eventDay: payoutDay,
            }),
          );
        }
        return null;
      };
    },
  };
}

export const GCP_CHARGES_USAGE_SCHEMA = gcpSchema(
  'gcp-charges-usage',
  GCP_CHARGES_USAGE_REQUIRED_COLUMNS,
  GCP_CHARGES_USAGE_OPTIONAL_COLUMNS,
);
export const GCP_DISBURSEMENT_SCHEMA = gcpSchema(
  'gcp-disbursements',
  GCP_DISBURSEMENT_REQUIRED_COLUMNS,
  GCP_DISBURSEMENT_OPTIONAL_COLUMNS,
);

/** Reads a GCP "Charges and usage" report. */
export function readGcpChargesUsageReport(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvOptions = {},
): AsyncGenerator<StatementBatch, void, undefined> {
  return parseFeed(readCsvBatches(source, options), GCP_CHARGES_USAGE_SCHEMA);
}

/** Reads a GCP "Detailed disbursements" report. */
export function readGcpDisbursementReport(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvOptions = {},
): AsyncGenerator<StatementBatch, void, undefined> {
  return parseFeed(readCsvBatches(source, options), GCP_DISBURSEMENT_SCHEMA);
}
