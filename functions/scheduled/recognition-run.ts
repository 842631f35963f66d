/**
 * The month-end recognition run (EventBridge, monthly): closes the previous month. An input
 * `{"period":"YYYY-MM"}` reruns a given month; reruns post nothing new.
 */
import { runRecognition } from '../../lib/app/revenue/runs';
import { dateOfInstant, isPeriod, periodOf, previousPeriod } from '../../lib/domain/calendar';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('recognition-run', async (event: { period?: unknown } = {}) => {
  const container = getContainer();
  const period =
    typeof event.period === 'string' && isPeriod(event.period)
      ? event.period
      : previousPeriod(periodOf(dateOfInstant(container.clock.now())));
  const summary = await runRecognition(container, period);
  container.logger.info('recognition run', {
    period,
    contracts: summary.contracts,
    entriesPosted: summary.entriesPosted,
    problems: summary.problems,
  });
  return { period, ...summary };
});
