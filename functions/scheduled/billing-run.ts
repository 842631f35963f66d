/** The billing job (EventBridge, daily): installments and usage invoices due today. */
import { runBilling } from '../../lib/app/revenue/runs';
import { dateOfInstant } from '../../lib/domain/calendar';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('billing-run', async () => {
  const container = getContainer();
  const today = dateOfInstant(container.clock.now());
  const summary = await runBilling(container, today);
  container.logger.info('billing run', {
    today,
    contracts: summary.contracts,
    invoices: summary.invoices,
    problems: summary.problems,
  });
  return { today, ...summary };
});
