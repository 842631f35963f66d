/**
 * A reconciliation as CSV (one line per matched line, true-up, exception and malformed row: what
 * finance filters in a spreadsheet) and as one self-contained HTML page (summary, roll-forward,
 * aging, exceptions first). Text is formula-guarded in the CSV and escaped in the HTML: ids and
 * reasons come from the marketplace's file.
 */
import type { ReconciliationRecord, TrueUpRecord } from '../app/reconciliation';
import { formatMajorAmount } from '../domain/money';
import type { ReconciliationItem, ReconciliationResult } from '../domain/reconciliation/results';
import { type CsvCell, csvCell } from '../statements/render-csv';

export const RECONCILIATION_CSV_COLUMNS = [
  'outcome',
  'class',
  'reason_code',
  'level',
  'contract_id',
  'internal_id',
  'agreement_id',
  'record_id',
  'invoice_id',
  'payout_id',
  'bank_reference',
  'line',
  'currency',
  'expected_minor',
  'actual_minor',
  'variance_minor',
  'reason',
] as const;
/** Rows of the HTML page's exception table (the CSV and JSON carry all). */
export const RECONCILIATION_HTML_EXCEPTIONS_MAX = 5_000;

const text = (value: string | null | undefined): CsvCell => (value ? { text: value } : null);
const number = (value: bigint | number | null): CsvCell =>
  value === null ? null : { number: value.toString() };

function itemCells(
  outcome: string,
  item: ReconciliationItem,
  extra: { class?: string; reasonCode?: string; reason?: string },
): CsvCell[] {
  return [
    text(outcome),
    text(extra.class),
    text(extra.reasonCode),
    text(item.level),
    text(item.contractId),
    text(item.internalId),
    text(item.keys.agreementId),
    text(item.keys.recordId),
    text(item.keys.invoiceId),
    text(item.keys.payoutId),
    text(item.keys.bankReference),
    number(item.line),
    text(item.currency),
    number(item.expectedMinor),
    number(item.actualMinor),
    number(item.varianceMinor),
    text(extra.reason),
  ];
}

export function reconciliationCsv(result: ReconciliationResult): string {
  const rows: CsvCell[][] = [RECONCILIATION_CSV_COLUMNS.map((c) => ({ text: c }))];
  for (const e of result.exceptions) {
    rows.push(
      itemCells('exception', e, { class: e.class, reasonCode: e.reasonCode, reason: e.reason }),
    );
  }
  for (const t of result.withinTolerance) {
    rows.push(
      itemCells('within_tolerance', t, {
        reason: `true-up ${t.trueUp.mode}: Dr ${t.trueUp.debitAccount} / Cr ${t.trueUp.creditAccount} ${t.trueUp.absoluteMinor} in ${t.trueUp.period}`,
      }),
    );
  }
  for (const m of result.matched) rows.push(itemCells('matched', m, {}));
  for (const r of result.rowErrors) {
    const cells: CsvCell[] = RECONCILIATION_CSV_COLUMNS.map(() => null);
    cells[0] = { text: 'row_error' };
    cells[11] = number(r.line);
    cells[16] = { text: r.reason };
    rows.push(cells);
  }
  return rows.map((row) => `${row.map(csvCell).join(',')}\n`).join('');
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function money(amount: bigint | null, currency: string): string {
  if (amount === null) return '';
  try {
    return formatMajorAmount(amount, currency);
  } catch {
    return amount.toString();
  }
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function reconciliationHtml(
  result: ReconciliationResult,
  record: ReconciliationRecord | null,
  records: readonly TrueUpRecord[] | null = null,
): string {
  const counts = result.summary.counts;
  const title = `Reconciliation ${record?.reconciliationId ?? ''} — ${result.marketplace.toUpperCase()} as of ${result.asOf}`;
  const summary = table(
    ['Matched', 'Within tolerance', 'Exceptions', 'Row errors', 'Records', 'Payouts'],
    [
      [
        String(counts.matched),
        String(counts.withinTolerance),
        String(counts.exceptions),
        String(counts.rowErrors),
        String(counts.records),
        String(counts.payouts),
      ],
    ],
  );
  const currencies = table(
    ['Currency', 'Billed', 'Fees', 'Refunds and credits', 'Net due', 'Disbursed', 'Outstanding'],
    result.summary.currencies.map((c) => [
      c.currency,
      money(c.billedMinor, c.currency),
      money(c.feesMinor, c.currency),
      money(c.refundsAndCreditsMinor, c.currency),
      money(c.netDueMinor, c.currency),
      money(c.disbursedMinor, c.currency),
      money(c.outstandingMinor, c.currency),
    ]),
  );
  const rollForward = table(
    [
      'Account',
      'Currency',
      'Opening',
      'Billed',
      'Fees',
      'Fee refunds',
      'Refunds',
      'FX',
      'Disbursed',
      'Other',
      'Closing',
      'Ties',
    ],
    result.rollForward.map((r) => {
      const m = r.transaction;
      const c = r.currency;
      return [
        r.account,
        c,
        money(m.openingMinor, c),
        money(m.billedMinor, c),
        money(m.feesMinor, c),
        money(m.feeRefundsMinor, c),
        money(m.refundsMinor, c),
        money(m.fxMinor, c),
        money(m.disbursedMinor, c),
        money(m.otherMinor, c),
        money(m.closingMinor, c),
        r.ties && r.tiesToOpenItems ? 'yes' : 'NO',
      ];
    }),
  );
  const aging = table(
    ['Account', 'Currency', 'Not due', '1–30', '31–60', '61–90', '> 90', 'Open'],
    result.aging.summary.map((a) => [
      a.account,
      a.currency,
      money(a.buckets.not_due, a.currency),
      money(a.buckets['1-30'], a.currency),
      money(a.buckets['31-60'], a.currency),
      money(a.buckets['61-90'], a.currency),
      money(a.buckets['>90'], a.currency),
      money(a.openMinor, a.currency),
    ]),
  );
  const exceptions = table(
    ['Class', 'Reason', 'Contract', 'Agreement', 'Line', 'Expected', 'Actual', 'Variance'],
    result.exceptions
      .slice(0, RECONCILIATION_HTML_EXCEPTIONS_MAX)
      .map((e) => [
        e.class,
        e.reason,
        e.contractId ?? '',
        e.keys.agreementId ?? '',
        e.line === null ? '' : String(e.line),
        money(e.expectedMinor, e.currency),
        money(e.actualMinor, e.currency),
        money(e.varianceMinor, e.currency),
      ]),
  );
  const trueUps = table(
    [
      'Contract',
      'Line',
      'Level',
      'Account',
      'Target',
      'Posted before',
      'Change',
      'Period',
      'Status',
    ],
    (records ?? []).map((t) => [
      t.contractId ?? '',
      t.internalId ?? '',
      t.level,
      `${t.account} / ${t.counterAccount}`,
      money(t.targetMinor, t.currency),
      money(t.postedBeforeMinor, t.currency),
      money(t.deltaMinor, t.currency),
      t.period,
      `${t.status}${t.problem ? `: ${t.problem}` : ''}`,
    ]),
  );
  const rowErrors = table(
    ['Line', 'Reason'],
    result.rowErrors
      .slice(0, RECONCILIATION_HTML_EXCEPTIONS_MAX)
      .map((r) => [String(r.line), r.reason]),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin-bottom:1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}td:nth-child(n+5){font-variant-numeric:tabular-nums}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${record ? `<p>File ${escapeHtml(record.fileName)} (SHA-256 ${escapeHtml(record.fileSha256)}), ${record.rows} rows, run ${escapeHtml(record.ranAt)} by ${escapeHtml(record.ranBy)}.</p>` : ''}
<h2>Summary</h2>
${summary}
${currencies}
<h2>Exceptions (${counts.exceptions})</h2>
${exceptions}
<h2>Within tolerance (${counts.withinTolerance}) and their true-ups</h2>
${trueUps}
<h2>Receivable roll-forward</h2>
${rollForward}
<h2>Aging of uncollected receivables</h2>
${aging}
<h2>Row errors (${counts.rowErrors})</h2>
${rowErrors}
</body></html>
`;
}
