/**
 * Deal-registration expiry reminders (a daily job): a partner whose approved registration is
 * about to lapse hears about it once per window — by email to its statement contacts and as a
 * `DealRegistrationExpiring` webhook to endpoints that subscribe to it. Claims make each
 * reminder go out once (lib/store/reminder-store.ts, partition DEALREG#<id>).
 */
import { addDays, type CalendarDate, dayNumber } from '../domain/calendar';
import { AgoraError } from '../domain/errors';
import { deterministicId } from '../domain/ids';
import { normalizeWindows } from '../domain/offers/reminders';
import {
  DEAL_REGISTRATION_EXPIRING_EVENT_TYPE,
  type RegistrationRecord,
} from '../domain/partners/deal-registration';

export { DEAL_REGISTRATION_EXPIRING_EVENT_TYPE };

import type { PartnerStore, RegistrationStore } from './partner-ports';
import type { Clock, WebhookDelivery, WebhookEndpoint } from './ports';
import type { EmailOutbox, ReminderClaims, ReminderWebhooks } from './reminder-ports';

export const REGISTRATION_REMINDER_WINDOWS_DEFAULT: readonly number[] = [14, 3];
/** Registrations looked at per run; the rest wait for the next day's run. */
export const REGISTRATION_REMINDERS_PER_RUN_MAX = 500;
const PAGE_SIZE = 100;

export interface RegistrationReminderDeps {
  readonly registrations: RegistrationStore;
  readonly partners: Pick<PartnerStore, 'get'>;
  readonly registrationReminderClaims: ReminderClaims;
  readonly webhooks: ReminderWebhooks;
  readonly emailOutbox: EmailOutbox;
  readonly clock: Clock;
}

export interface RegistrationReminderSummary {
  checked: number;
  sent: {
    registrationId: string;
    window: number;
    daysLeft: number;
    emailed: number;
    deliveries: number;
  }[];
  problems: { registrationId: string; code: string; message: string }[];
}

export function registrationReminderId(registrationId: string, window: number): string {
  return deterministicId('drr', registrationId, String(window));
}

function message(record: RegistrationRecord, daysLeft: number) {
  const when = daysLeft === 0 ? 'today' : `in ${daysLeft} day${daysLeft === 1 ? '' : 's'}`;
  return {
    subject: `Deal registration for ${record.customer.name} expires ${when}`,
    text: [
      `Your deal registration ${record.registrationId} for ${record.customer.name}`,
      `(product ${record.productId}) expires on ${record.expiresOn}.`,
      '',
      'If the deal is still active, submit a new registration after it lapses to keep your protection.',
    ].join('\n'),
  };
}

function deliveries(
  endpoints: readonly WebhookEndpoint[],
  record: RegistrationRecord,
  window: number,
  daysLeft: number,
  today: CalendarDate,
  now: string,
): WebhookDelivery[] {
  const eventId = registrationReminderId(record.registrationId, window);
  return endpoints
    .filter(
      (e) => e.status === 'active' && e.eventTypes.includes(DEAL_REGISTRATION_EXPIRING_EVENT_TYPE),
    )
    .map((endpoint) => {
      const deliveryId = deterministicId('whd', endpoint.endpointId, eventId);
      return {
        deliveryId,
        endpointId: endpoint.endpointId,
        contractId: record.registrationId,
        contractVersion: 0,
        eventIds: [eventId],
        eventTypes: [DEAL_REGISTRATION_EXPIRING_EVENT_TYPE],
        payload: JSON.stringify({
          id: deliveryId,
          type: 'deal-registration.expiring',
          createdAt: now,
          registration: {
            registrationId: record.registrationId,
            partnerId: record.partnerId,
            customer: record.customer.name,
            productId: record.productId,
            expiresOn: record.expiresOn,
          },
          reminder: { window, daysLeft },
          events: [
            {
              eventId,
              type: DEAL_REGISTRATION_EXPIRING_EVENT_TYPE,
              effectiveAt: today,
              occurredAt: now,
            },
          ],
        }),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        lastAttemptAt: null,
        lastStatusCode: null,
        lastError: null,
        createdAt: now,
      };
    });
}

export async function sendRegistrationReminders(
  deps: RegistrationReminderDeps,
  options: { today: CalendarDate; windows?: readonly number[] },
): Promise<RegistrationReminderSummary> {
  const summary: RegistrationReminderSummary = { checked: 0, sent: [], problems: [] };
  const windows = normalizeWindows(options.windows ?? REGISTRATION_REMINDER_WINDOWS_DEFAULT);
  const widest = windows[0];
  if (widest === undefined) return summary;
  const endpoints = await deps.webhooks.listEndpoints();
  let cursor: string | undefined;
  do {
    const page = await deps.registrations.approvedExpiring(
      options.today,
      addDays(options.today, widest),
      { limit: PAGE_SIZE, cursor },
    );
    for (const record of page.items) {
      if (summary.checked >= REGISTRATION_REMINDERS_PER_RUN_MAX) return summary;
      summary.checked += 1;
      const daysLeft = dayNumber(record.expiresOn) - dayNumber(options.today);
      // The narrowest window that applies today; wider ones that were missed are not re-sent.
      const window = [...windows].reverse().find((w) => daysLeft <= w);
      if (window === undefined) continue;
      try {
        const sentAlready = await deps.registrationReminderClaims.sentWindows(
          record.registrationId,
          deps.clock.now(),
        );
        if (sentAlready.some((w) => w <= window)) continue;
        await remindOne(deps, summary, endpoints, record, window, daysLeft, options.today);
      } catch (error) {
        summary.problems.push({
          registrationId: record.registrationId,
          code: error instanceof AgoraError ? error.code : 'reminder_failed',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return summary;
}

async function remindOne(
  deps: RegistrationReminderDeps,
  summary: RegistrationReminderSummary,
  endpoints: readonly WebhookEndpoint[],
  record: RegistrationRecord,
  window: number,
  daysLeft: number,
  today: CalendarDate,
): Promise<void> {
  const now = deps.clock.now();
  const claims = deps.registrationReminderClaims;
  if (!(await claims.claim(record.registrationId, window, now))) return;
  try {
    let queued = 0;
    for (const delivery of deliveries(endpoints, record, window, daysLeft, today, now))
      if (await deps.webhooks.enqueue(delivery)) queued += 1;
    const partner = await deps.partners.get(record.partnerId);
    const to = (partner?.statementContacts ?? []).map((c) => c.email);
    let messageId: string | null = null;
    if (to.length > 0) {
      const text = message(record, daysLeft);
      messageId = await deps.emailOutbox.send({
        id: registrationReminderId(record.registrationId, window),
        to,
        subject: text.subject,
        text: text.text,
        at: now,
      });
    }
    await claims.markSent(record.registrationId, window, now, messageId);
    summary.sent.push({
      registrationId: record.registrationId,
      window,
      daysLeft,
      emailed: to.length,
      deliveries: queued,
    });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    await claims.markFailed(record.registrationId, window, now, text).catch(() => undefined);
    throw error;
  }
}
