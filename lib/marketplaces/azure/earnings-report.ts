/**
 * Partner Center "Earnings – Marketplace" / transaction history export as statement records.
 *
 * One earning row becomes up to three records: the billed amount (`transactionAmount`, the
 * charge or its refund), Microsoft's store fee (`earningAmount − transactionAmount`, negative on a
 * sale) and, once the earning is paid out (`paymentId` with a paid status), a disbursed record
 * in that payment. Rows key on `earningId`; a repeated earning with a later `calculationDate`
 * replaces the earlier. The contract is the SaaS subscription (`subscriptionId`, the contract
 * refs' key), the marketplace invoice the order (`orderId`).
 */
import { isKnownCurrency, minorUnitsOf } from '../../domain/money';
import {
  monthOfDay,
  parseAmountMinor,
  parseDay,
  parseInstantMillis,
} from '../../domain/reconciliation/parse';
import {
  type FeedSchema,
  parseFeed,
  type StatementBatch,
  type StatementComponent,
  type StatementRecord,
} from '../../domain/reconciliation/statement';
import { type CsvOptions, readCsvBatches } from '../../tools/csv-stream';

// unverified: Microsoft documents the earnings attribute names (earningId, earningAmount,
// earningDate, earningType, customerId, orderId, …) but not the export's exact column set; the
// transaction, payment and subscription columns follow the transaction history export as
// composed in our research fixture. Header names are compared case-insensitively.
export const AZURE_EARNINGS_REQUIRED_COLUMNS = [
  'earningid',
  'earningdate',
  'earningtype',
  'earningamount',
  'transactionamount',
  'transactioncurrency',
  'subscriptionid',
] as const;

export const AZURE_EARNINGS_OPTIONAL_COLUMNS = [
  'calculationdate',
  'transactionid',
  'transactiondate',
  'paymentid',
  'paymentstatus',
  'orderid',
  'skuid',
  'customerid',
  'lineitemid',
] as const;

// unverified: payment status values that mean the money left Microsoft.
const PAID_STATUSES = new Set(['sent', 'paid', 'completed', 'processed']);

/** earningType → what the billed part is. */
function billedComponent(earningType: string): StatementComponent | null {
  switch (earningType.trim().toLowerCase()) {
    case 'sale':
    case 'billing':
    case 'usage':
    case 'purchase':
      return 'charge';
    case 'refund':
    case 'reversal':
    case 'chargeback':
      return 'charge_refund';
    case 'credit':
      return 'charge_credit';
    default:
      return null;
  }
}

function orNull(text: string | undefined): string | null {
  const trimmed = text?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

export const AZURE_EARNINGS_SCHEMA: FeedSchema<StatementRecord> = {
  kind: 'azure-earnings',
  required: AZURE_EARNINGS_REQUIRED_COLUMNS,
  optional: AZURE_EARNINGS_OPTIONAL_COLUMNS,
  normalize: (name) => name.trim().toLowerCase(),
  rowParser: (columns) => {
    const at = (name: string) => columns.get(name) ?? -1;
    const get = (fields: readonly string[], name: string) => {
      const index = at(name);
      return index < 0 ? undefined : fields[index];
    };
    return (fields, line, out) => {
      const earningId = orNull(get(fields, 'earningid'));
      if (earningId === null) return 'earningId is empty';
      const currency = orNull(get(fields, 'transactioncurrency')) ?? '';
      if (!isKnownCurrency(currency)) return `unknown currency "${currency}"`;
      const exponent = minorUnitsOf(currency);
      let gross: bigint;
      let earning: bigint;
      let invoiceDay: number;
      let version = 0;
      try {
        gross = parseAmountMinor(
          get(fields, 'transactionamount')?.trim() ?? '',
          currency,
          exponent,
        );
        earning = parseAmountMinor(get(fields, 'earningamount')?.trim() ?? '', currency, exponent);
        invoiceDay = parseDay(
          orNull(get(fields, 'transactiondate')) ?? orNull(get(fields, 'earningdate')) ?? '',
        );
        const calculated = orNull(get(fields, 'calculationdate'));
        if (calculated !== null) version = parseInstantMillis(calculated);
      } catch (error) {
        return error instanceof Error ? error.message : 'unusable row';
      }
      const earningType = get(fields, 'earningtype') ?? '';
      const component = billedComponent(earningType);
      const sku = orNull(get(fields, 'skuid'));
      // unverified: a metered line's SKU is "<plan>:<dimension>" in the export; it bills a month.
      let usageStartDay: number | null = null;
      let usageEndDay: number | null = null;
      if (sku?.includes(':')) {
        const month = monthOfDay(invoiceDay);
        usageStartDay = parseDay(`${month.period}-01`);
        usageEndDay = month.nextMonthDay - 1;
      }
      const base = {
        contractKey: orNull(get(fields, 'subscriptionid')),
        groupKey: orNull(get(fields, 'transactionid')) ?? earningId,
        invoiceId: orNull(get(fields, 'orderid')),
      };
      const record = (
        suffix: string,
        action: StatementRecord['action'],
        part: StatementComponent,
        amountMinor: bigint,
        links: { parentId: string | null; payoutId: string | null },
      ): StatementRecord => ({
        line,
        recordId: `${earningId}#${suffix}`,
        version,
        action,
        component: part,
        balanceImpacting: true,
        contractKey: base.contractKey,
        groupKey: base.groupKey,
        invoiceId: base.invoiceId,
        parentId: links.parentId,
        payoutId: links.payoutId,
        bankReference: null,
        currency,
        amountMinor,
        payoutCurrency: null,
        payoutAmountMinor: null,
        invoiceDay,
        dueDay: null,
        usageStartDay,
        usageEndDay,
        eventDay: invoiceDay,
      });
      const none = { parentId: null, payoutId: null };
      if (component === null) {
        out.push(record('adjustment', 'billed', 'adjustment', earning, none));
      } else {
        const fee =
          component === 'charge'
            ? 'fee'
            : component === 'charge_refund'
              ? 'fee_refund'
              : 'fee_credit';
        out.push(record('charge', 'billed', component, gross, none));
        if (earning !== gross) out.push(record('fee', 'billed', fee, earning - gross, none));
      }
      const paymentId = orNull(get(fields, 'paymentid'));
      const status = (get(fields, 'paymentstatus') ?? '').trim().toLowerCase();
      if (paymentId !== null && PAID_STATUSES.has(status)) {
        // What the payment paid of this earning (net of the fee), against the billed record.
        out.push(
          record('paid', 'disbursed', component ?? 'adjustment', -earning, {
            parentId: `${earningId}#${component === null ? 'adjustment' : 'charge'}`,
            payoutId: paymentId,
          }),
        );
      }
      return null;
    };
  },
};

/** Reads an Azure earnings export as batches of statement records and row errors. */
export function readAzureEarningsReport(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvOptions = {},
): AsyncGenerator<StatementBatch, void, undefined> {
  return parseFeed(readCsvBatches(source, options), AZURE_EARNINGS_SCHEMA);
}
