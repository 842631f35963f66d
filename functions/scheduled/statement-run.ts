/**
 * Monthly partner statements (EventBridge, the 4th, after the commission run): the month that
 * just ended, and at a quarter's end its quarter too. Each statement is issued once; one that
 * does not tie raises the StatementFailures alarm.
 */
import { generateStatements } from '../../lib/app/statements';
import { dateOfInstant, periodOf, previousPeriod } from '../../lib/domain/calendar';
import { isQuarterEnd, quarterOf } from '../../lib/domain/commission/engine';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('statement-run', async () => {
  const container = getContainer();
  const month = previousPeriod(periodOf(dateOfInstant(container.clock.now())));
  const periods = isQuarterEnd(month) ? [month, quarterOf(month)] : [month];
  const summaries = [];
  for (const period of periods) {
    const summary = await generateStatements(container, { period });
    const logged = { ...summary, issued: summary.issued.length };
    if (summary.problemCount > 0) container.logger.warn('statement run', logged);
    else container.logger.info('statement run', logged);
    summaries.push(summary);
  }
  return summaries;
});
