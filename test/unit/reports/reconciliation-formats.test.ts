// Proves the reconciliation's CSV and HTML: one CSV line per exception, true-up, matched line and row error with the documented columns; file-borne text cannot become a spreadsheet formula or HTML markup.
import { describe, expect, it } from 'vitest';
import type { ReconciliationResult } from '../../../lib/domain/reconciliation/results';
import {
  RECONCILIATION_CSV_COLUMNS,
  reconciliationCsv,
  reconciliationHtml,
} from '../../../lib/reports/reconciliation-formats';
import { parseCsvText } from '../../../lib/tools/csv-stream';
import { reconcileAws } from '../domain/reconciliation/helpers';
import { AS_OF, WE10_BANK, WE10_FEED, we10Ledger } from '../domain/reconciliation/we10-fixture';

async function we10(): Promise<ReconciliationResult> {
  return reconcileAws(
    we10Ledger(),
    WE10_FEED,
    { asOf: AS_OF, marketplace: 'aws', firstOpenPeriod: '2025-09' },
    WE10_BANK,
  );
}

describe('reconciliation CSV', () => {
  it('has the documented header and one line per item, amounts in minor units', async () => {
    const result = await we10();
    const rows = parseCsvText(reconciliationCsv(result)).map((r) =>
      'fields' in r ? r.fields : [],
    );
    expect(rows[0]).toEqual([...RECONCILIATION_CSV_COLUMNS]);
    const outcomes = rows.slice(1).map((r) => r[0]);
    expect(outcomes.filter((o) => o === 'exception')).toHaveLength(result.exceptions.length);
    expect(outcomes.filter((o) => o === 'matched')).toHaveLength(result.matched.length);
    expect(outcomes.filter((o) => o === 'within_tolerance')).toHaveLength(
      result.withinTolerance.length,
    );
    for (const row of rows.slice(1)) expect(row[13] ?? '').toMatch(/^(-?\d+)?$/);
  });

  it('guards text that a spreadsheet would run, and escapes it in HTML', async () => {
    const result = await we10();
    const [first] = result.exceptions;
    expect(first).toBeDefined();
    const hostile: ReconciliationResult = {
      ...result,
      exceptions: [
        {
          ...(first as NonNullable<typeof first>),
          reason: '=HYPERLINK("http://x")<script>alert(1)</script>',
          keys: { ...(first as NonNullable<typeof first>).keys, agreementId: '@SUM(A1)' },
        },
      ],
    };
    const csv = reconciliationCsv(hostile);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(csv).not.toMatch(/(^|,)@SUM/m);
    const html = reconciliationHtml(hostile, null);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toMatch(/<h2>Exceptions \(\d+\)<\/h2>/);
  });
});
