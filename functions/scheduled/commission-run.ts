/**
 * Month-end commission (EventBridge, monthly on the 3rd, after the recognition run): runs the
 * month that just ended. Rerunning posts nothing new; problems are logged per partner.
 */
import { runCommission } from '../../lib/app/commission-run';
import { dateOfInstant, periodOf, previousPeriod } from '../../lib/domain/calendar';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('commission-run', async () => {
  const container = getContainer();
  const period = previousPeriod(periodOf(dateOfInstant(container.clock.now())));
  const summary = await runCommission(container, { period });
  const { totals, ...counts } = summary;
  // Money as strings: log lines are JSON, and JSON has no bigint.
  const logged = {
    ...counts,
    totals: Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, String(v)])),
  };
  if (summary.problemCount > 0) container.logger.warn('commission run', logged);
  else container.logger.info('commission run', logged);
  return summary;
});
