/**
 * Deal-registration expiry reminders (EventBridge, daily): each approved registration about to
 * lapse notifies its partner once per window (email to its statement contacts) and queues
 * DealRegistrationExpiring webhooks. Safe to run twice: claims are conditional writes.
 */
import { sendRegistrationReminders } from '../../lib/app/registration-reminders';
import { dateOfInstant } from '../../lib/domain/calendar';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('registration-reminders', async () => {
  const container = getContainer();
  const summary = await sendRegistrationReminders(container, {
    today: dateOfInstant(container.clock.now()),
  });
  if (summary.problems.length > 0) container.logger.warn('registration reminders', { ...summary });
  else container.logger.info('registration reminders', { ...summary });
  return summary;
});
