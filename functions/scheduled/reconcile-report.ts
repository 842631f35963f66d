/**
 * A marketplace report dropped into the report bucket (reports/<source>/[<asOf>/]<file>) is
 * reconciled against the ledger: payouts recorded, true-ups posted or proposed, the result
 * stored for GET /v1/reconciliations/{id}. A file that cannot be reconciled (wrong kind, bad
 * key) is final — logged and counted, not retried; anything else is retried by Lambda.
 */
import { reconcileReport, reportTargetOf } from '../../lib/app/reconciliation';
import { dateOfInstant } from '../../lib/domain/calendar';
import { AgoraError } from '../../lib/domain/errors';
import { isReportContent, reportObjectsOf, s3ReportFile } from '../../lib/outbound/report-objects';
import { createS3Client } from '../../lib/outbound/statement-archive';
import { getContainer } from '../../lib/runtime/container';
import {
  RECONCILIATION_EXCEPTIONS_METRIC as EXCEPTIONS,
  emitMetric,
  RECONCILIATION_FAILURES_METRIC as FAILURES,
} from '../../lib/runtime/metrics';
import { traced, traceHandler } from '../../lib/runtime/tracing';

const s3 = traced(createS3Client({ region: process.env.AWS_REGION ?? 'us-east-1' }));

export const handler = traceHandler('reconcile-report', async (event: unknown) => {
  const { clock, logger } = getContainer();
  const done: string[] = [];
  for (const object of reportObjectsOf(event).filter(isReportContent)) {
    try {
      const arrivedOn = dateOfInstant(object.eventTime ?? clock.now());
      const target = reportTargetOf(object.key, arrivedOn);
      const { record } = await reconcileReport(getContainer(), {
        ...target,
        file: s3ReportFile(s3, object),
        by: 'report-bucket',
      });
      emitMetric(EXCEPTIONS, record.exceptions);
      logger.info('report reconciled', { ...record });
      done.push(record.reconciliationId);
    } catch (error) {
      emitMetric(FAILURES, 1);
      logger.error('report not reconciled', { key: object.key, error: error as Error });
      if (!(error instanceof AgoraError)) throw error;
    }
  }
  return done;
});
