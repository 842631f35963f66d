/**
 * A marketplace report dropped into the report bucket (reports/<source>/[<asOf>/]<file>) is
 * reconciled against the ledger: payouts recorded, true-ups posted or proposed, the result
 * stored for GET /v1/reconciliations/{id}. Exceptions and failures are metrics with alarms.
 */
import { reconcileReport, reportTargetOf } from '../../lib/app/reconciliation';
import { dateOfInstant } from '../../lib/domain/calendar';
import { reportObjectsOf, s3ReportFile } from '../../lib/outbound/report-objects';
import { createS3Client } from '../../lib/outbound/statement-archive';
import { getContainer } from '../../lib/runtime/container';
import {
  emitMetric,
  RECONCILIATION_EXCEPTIONS_METRIC,
  RECONCILIATION_FAILURES_METRIC,
} from '../../lib/runtime/metrics';
import { traced, traceHandler } from '../../lib/runtime/tracing';

const s3 = traced(createS3Client({ region: process.env.AWS_REGION ?? 'us-east-1' }));

export const handler = traceHandler('reconcile-report', async (event: unknown) => {
  const container = getContainer();
  const outcomes = [];
  for (const object of reportObjectsOf(event)) {
    try {
      const target = reportTargetOf(object.key, dateOfInstant(container.clock.now()));
      const file = s3ReportFile(s3, object);
      const { record } = await reconcileReport(container, { ...target, file, by: 'report-bucket' });
      emitMetric(RECONCILIATION_EXCEPTIONS_METRIC, record.exceptions);
      container.logger.info('report reconciled', {
        ...record,
        disbursements: record.disbursements.length,
        trueUps: record.trueUps.length,
      });
      outcomes.push(record.reconciliationId);
    } catch (error) {
      emitMetric(RECONCILIATION_FAILURES_METRIC, 1);
      container.logger.error('report not reconciled', { key: object.key, error: error as Error });
      throw error;
    }
  }
  return outcomes;
});
