// Proves the report readers behind `agora reconcile`: each sample report in events/reports/ is read by its source's reader with no row errors, and each reader refuses the other kinds at the header.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECONCILIATION_SOURCES, type ReportSink } from '../../../lib/app/reconciliation';
import type { StatementRecord } from '../../../lib/domain/reconciliation/statement';
import { REPORT_READERS } from '../../../lib/marketplaces/report-readers';

const REPORTS = resolve(import.meta.dirname, '../../../events/reports');

async function* bytesOf(name: string): AsyncGenerator<Uint8Array> {
  yield readFileSync(join(REPORTS, name));
}

function collecting() {
  const records: StatementRecord[] = [];
  const errors: unknown[] = [];
  let raw = 0;
  const sink: ReportSink = {
    add: (batch) => records.push(...batch),
    addPacked: (batch) => {
      raw += batch.count;
    },
    addRowErrors: (batch) => errors.push(...batch),
  };
  return { sink, records, errors, raw: () => raw };
}

describe('report readers', () => {
  it.each(RECONCILIATION_SOURCES)('%s reads its sample without row errors', async (source) => {
    const seen = collecting();
    const { rows } = await REPORT_READERS.statement[source](bytesOf(`${source}.csv`), seen.sink);
    expect(seen.errors).toEqual([]);
    expect(rows).toBeGreaterThan(0);
    expect(seen.records.length + seen.raw()).toBeGreaterThan(0);
  });

  it.each(RECONCILIATION_SOURCES)(
    '%s refuses every other kind of report at its header',
    async (source) => {
      for (const other of RECONCILIATION_SOURCES.filter((s) => s !== source)) {
        await expect(
          REPORT_READERS.statement[source](bytesOf(`${other}.csv`), collecting().sink),
        ).rejects.toThrow(/header lacks columns/);
      }
    },
  );

  it('reads the sample bank statement', async () => {
    const { lines, rowErrors } = await REPORT_READERS.bank(bytesOf('bank-statement.csv'));
    expect(rowErrors).toEqual([]);
    expect(lines).toEqual([
      expect.objectContaining({ reference: 'TRACE-0815', amountMinor: 2_910_000n }),
    ]);
  });
});
