/**
 * CloudWatch metrics through the Embedded Metric Format: one JSON log line CloudWatch turns into a
 * metric, so a Lambda emits metrics with no API call, no client and no added latency.
 */
export const METRICS_NAMESPACE = 'Agora';
/** Partner statements that could not be issued (an alarm watches it). */
export const STATEMENT_FAILURES_METRIC = 'StatementFailures';

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
): void {
  process.stdout.write(`${metricLine(name, value, unit)}\n`);
}
