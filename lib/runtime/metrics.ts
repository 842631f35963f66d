/**
 * CloudWatch metrics through the Embedded Metric Format: one JSON log line CloudWatch turns into a
 * metric, so a Lambda emits metrics with no API call, no client and no added latency.
 *
 * Every metric is in the `Agora` namespace with no dimensions; the names below are the contract
 * with the CDK alarms and the dashboard (infra/constructs/operations.ts), so emit them through
 * these constants, never as string literals.
 */
export const METRICS_NAMESPACE = 'Agora';
/** Partner statements that could not be issued (an alarm watches it). */
export const STATEMENT_FAILURES_METRIC = 'StatementFailures';
/** Marketplace reports that could not be reconciled at all (an alarm fires at ≥ 1). */
export const RECONCILIATION_FAILURES_METRIC = 'ReconciliationFailures';
/** Exceptions a reconciliation found (unmatched lines, breaks beyond tolerance): alarm at ≥ 1. */
export const RECONCILIATION_EXCEPTIONS_METRIC = 'ReconciliationExceptions';
/** Canonical contract events applied by the sync worker (the dashboard's throughput graph). */
export const EVENTS_PROCESSED_METRIC = 'ContractEventsProcessed';
/** Sync messages dead-lettered in the table (`GET /v1/dlq`): an alarm fires at ≥ 1. */
export const SYNC_DEAD_LETTERED_METRIC = 'SyncDeadLettered';
/** Sealed usage hours still unreported close to their marketplace deadline (alarm at > 0). */
export const USAGE_DEADLINE_RISK_METRIC = 'UsageHoursUnreportedNearDeadline';
/** Usage hours the marketplaces accepted (or already had) in a flush. */
export const USAGE_HOURS_REPORTED_METRIC = 'UsageHoursReported';
/** Usage hours the marketplaces refused, or that came too late. */
export const USAGE_HOURS_REJECTED_METRIC = 'UsageHoursRejected';

export function metricLine(
  name: string,
  value: number,
  unit: 'Count' | 'Milliseconds' = 'Count',
  at: number = Date.now(),
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        { Namespace: METRICS_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: name, Unit: unit }] },
      ],
    },
    [name]: value,
  });
}

export function emitMetric(
  name: string,
  value: number,
  unit: 'Count' | 'Milliseconds' = 'Count',
  env: Record<string, string | undefined> = process.env,
): void {
  // Only Lambda's log stream turns the line into a metric; locally it would only be noise.
  if (!env.AWS_LAMBDA_FUNCTION_NAME) return;
  process.stdout.write(`${metricLine(name, value, unit)}\n`);
}
