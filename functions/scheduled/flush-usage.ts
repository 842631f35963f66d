/**
 * Usage flush (EventBridge, hourly, a few minutes past the hour so the last hour is sealed):
 * reports every due hour to its marketplace (claim-after-write: exactly once), retries the
 * unprocessed ones, then raises the deadline alarm for hours still unreported near their
 * marketplace's deadline. Safe to run twice at once: every line change is conditional.
 */
import { deadlineAlarms, flushUsage } from '../../lib/app/metering';
import { getContainer } from '../../lib/runtime/container';
import {
  emitMetric,
  USAGE_DEADLINE_RISK_METRIC,
  USAGE_HOURS_REJECTED_METRIC,
  USAGE_HOURS_REPORTED_METRIC,
} from '../../lib/runtime/metrics';
import { traceHandler } from '../../lib/runtime/tracing';

/** Alarm when an hour is still unreported this close to its deadline. */
export const DEADLINE_ALARM_MARGIN_HOURS = 1;

export const handler = traceHandler('flush-usage', async () => {
  const container = getContainer();
  const summary = await flushUsage(container, { now: container.clock.now() });
  const alarm = await deadlineAlarms(container, container.clock.now(), DEADLINE_ALARM_MARGIN_HOURS);
  container.logger.info('usage flush', { ...summary });
  // Every run, zero included, so a CloudWatch alarm on them always has data.
  emitMetric(USAGE_HOURS_REPORTED_METRIC, summary.accepted + summary.duplicate);
  emitMetric(USAGE_DEADLINE_RISK_METRIC, alarm.lines.length);
  emitMetric(USAGE_HOURS_REJECTED_METRIC, summary.rejected + summary.late);
  if (alarm.lines.length > 0) {
    container.logger.error('usage deadline alarm', {
      unreportedHours: alarm.lines.length,
      overdue: alarm.overdue,
      truncated: alarm.truncated,
      hours: alarm.lines.slice(0, 20).map((l) => `${l.contractId}/${l.dimension}/${l.hourStart}`),
    });
  }
  return { ...summary, unreportedNearDeadline: alarm.lines.length, overdue: alarm.overdue };
});
