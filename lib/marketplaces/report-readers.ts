/**
 * The marketplaces' report readers behind one port (lib/app/reconciliation.ts ReportReaders):
 * the AWS billing event feed through its byte-level fast path, the Azure earnings export and
 * the Google disbursement report through their row parsers, and a bank statement CSV.
 */
import type { ReportReaders, ReportSink } from '../app/reconciliation';
import { readBankStatement } from '../domain/reconciliation/bank-statement';
import type { StatementBatch } from '../domain/reconciliation/statement';
import { readCsvBatches } from '../tools/csv-stream';
import { feedAwsBillingEvents, type StatementSink } from './aws/billing-event-feed';
import { readAzureEarningsReport } from './azure/earnings-report';
import { readGcpDisbursementReport } from './gcp/disbursement-report';

async function drain(
  batches: AsyncIterable<StatementBatch>,
  sink: ReportSink,
): Promise<{ rows: number }> {
  let rows = 0;
  for await (const batch of batches) {
    rows += batch.records.length + batch.rowErrors.length;
    if (batch.records.length > 0) sink.add(batch.records);
    if (batch.rowErrors.length > 0) sink.addRowErrors(batch.rowErrors);
  }
  return { rows };
}

export const REPORT_READERS: ReportReaders = {
  statement: {
    // With the file's size (a third argument the app may pass) and a sink that takes
    // `expectRecords`, the statement's memory is sized once from the file.
    'aws-billing-events': (
      bytes: AsyncIterable<Uint8Array>,
      sink: ReportSink & Pick<StatementSink, 'expectRecords'>,
      file?: { readonly sizeBytes?: number | null },
    ) =>
      feedAwsBillingEvents(
        bytes,
        sink,
        typeof file?.sizeBytes === 'number' ? { sizeBytes: file.sizeBytes } : {},
      ),
    'azure-earnings': (bytes, sink) => drain(readAzureEarningsReport(bytes), sink),
    'gcp-disbursements': (bytes, sink) => drain(readGcpDisbursementReport(bytes), sink),
  },
  bank: (bytes) => readBankStatement(readCsvBatches(bytes)),
};
