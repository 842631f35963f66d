/**
 * Offer expiry reminders (EventBridge, daily): every published offer expiring within a window
 * (AGORA_OFFER_REMINDER_DAYS, default 14,7,1) notifies the seller once per window, through
 * OfferExpiring webhooks and an email to AGORA_NOTIFY_EMAILS. Safe to run twice: claims are
 * conditional writes.
 */
import { sendExpiryReminders } from '../../lib/app/offer-reminders';
import { dateOfInstant } from '../../lib/domain/calendar';
import { getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

export const handler = traceHandler('offer-reminders', async () => {
  // wired in lib/runtime/container.ts: reminderClaims (DynamoReminderClaims), emailOutbox
  // (SesEmailOutbox on aws, FolderEmailOutbox locally), config.AGORA_OFFER_REMINDER_DAYS
  // (number[]) and config.AGORA_NOTIFY_EMAILS (string[]); webhooks, offers and clock exist.
  const container = getContainer();
  const summary = await sendExpiryReminders(container, {
    today: dateOfInstant(container.clock.now()),
    windows: container.config.AGORA_OFFER_REMINDER_DAYS,
    recipients: container.config.AGORA_NOTIFY_EMAILS,
  });
  if (summary.problems.length > 0) container.logger.warn('offer expiry reminders', { ...summary });
  else container.logger.info('offer expiry reminders', { ...summary });
  return summary;
});
