/**
 * Expiry reminders for published private offers (a daily job): for each offer expiring within a
 * configured window (default 14, 7 and 1 days), notify the seller once per window through the
 * provisioning webhooks (an OfferExpiring delivery to the endpoints that subscribe to it) and
 * an email.
 *
 * Once, and never lost — the order of one reminder:
 *  1. claim (offer, window) with a conditional write: of two concurrent runs only one proceeds;
 *  2. queue the webhook deliveries (deterministic ids: queuing again is a no-op);
 *  3. send the email (a deterministic id: the same Message-ID, the same local file);
 *  4. mark the claim sent.
 * Claiming first is what makes "once" hold under concurrency (claiming after success would let
 * two runs both send). A failure in 2–3 leaves the claim unsent with its error and is reported
 * in the summary; once the claim's lease has run out, a later run takes it over and tries again
 * (bounded attempts, lib/store/reminder-store.ts), so a failure delays a reminder rather than
 * losing it. The one duplicate left is inherent to email: a provider that accepted a message but
 * failed to say so (or a run that died between 3 and 4) makes the retry send it again — the
 * local folder outbox overwrites its file then, and the webhook is never queued twice.
 */
import { type CalendarDate, dayNumber } from '../domain/calendar';
import type { OfferRecord } from '../domain/offers/offer';
import {
  type DueReminder,
  daysLeftToAccept,
  dueReminders,
  normalizeWindows,
  REMINDER_WINDOWS_DEFAULT,
  reminderId,
  reminderMessage,
} from '../domain/offers/reminders';
import type { Clock, OfferStore, WebhookEndpoint } from './ports';
import type { EmailOutbox, ReminderClaims, ReminderWebhooks } from './reminder-ports';
import { offerExpiringDeliveries, offerExpiringEndpoints } from './webhooks';

/** Published offers read per page. */
export const REMINDER_OFFER_PAGE_SIZE = 50;
/** Published offers looked at per run (expired ones keep the `published` status, so they count). */
export const REMINDER_OFFERS_PER_RUN_MAX = 5_000;
/** Reminders sent per run (each an email); the rest go out on the next run. */
export const REMINDERS_PER_RUN_MAX = 200;
const PROBLEM_MESSAGE_LENGTH_MAX = 500;

export interface ReminderDeps {
  readonly offers: Pick<OfferStore, 'list'>;
  readonly reminderClaims: ReminderClaims;
  readonly webhooks: ReminderWebhooks;
  readonly emailOutbox: EmailOutbox;
  readonly clock: Clock;
}

export interface ReminderRunOptions {
  /** The day the job runs for (UTC): reminders are due relative to it. */
  readonly today: CalendarDate;
  /** Windows in days before expiry; default 14, 7 and 1. */
  readonly windows?: readonly number[];
  /** Who gets the email; none means the webhook only. */
  readonly recipients?: readonly string[];
}

export interface SentReminder {
  readonly offerId: string;
  readonly window: number;
  readonly daysLeft: number;
  /** Webhook deliveries queued by this run (0 when they were queued by an earlier attempt). */
  readonly deliveries: number;
  readonly messageId: string | null;
}

export interface ReminderProblem {
  readonly offerId: string | null;
  readonly window: number | null;
  readonly code: string;
  readonly message: string;
}

export interface ReminderSummary {
  /** Published offers looked at. */
  checked: number;
  sent: SentReminder[];
  /** Reminders due but held by another run (a concurrent run sends them). */
  claimedElsewhere: number;
  problems: ReminderProblem[];
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, PROBLEM_MESSAGE_LENGTH_MAX);
}

function codeOf(error: unknown, fallback: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : fallback;
}

interface Run {
  readonly deps: ReminderDeps;
  readonly today: CalendarDate;
  readonly windows: readonly number[];
  readonly recipients: readonly string[];
  readonly endpoints: readonly WebhookEndpoint[];
  readonly summary: ReminderSummary;
  /** Set once REMINDERS_PER_RUN_MAX reminders went out. */
  full: boolean;
}

export async function sendExpiryReminders(
  deps: ReminderDeps,
  options: ReminderRunOptions,
): Promise<ReminderSummary> {
  const summary: ReminderSummary = { checked: 0, sent: [], claimedElsewhere: 0, problems: [] };
  const windows = normalizeWindows(options.windows ?? REMINDER_WINDOWS_DEFAULT);
  const widest = windows[0];
  if (widest === undefined) return summary;
  dayNumber(options.today); // a bad date fails here, before anything is read
  const run: Run = {
    deps,
    today: options.today,
    windows,
    recipients: [...(options.recipients ?? [])],
    endpoints: offerExpiringEndpoints(await deps.webhooks.listEndpoints()),
    summary,
    full: false,
  };
  let cursor: string | undefined;
  do {
    const page = await deps.offers.list(
      { status: 'published' },
      { limit: REMINDER_OFFER_PAGE_SIZE, cursor },
    );
    const candidates: OfferRecord[] = [];
    let truncated = false;
    for (const offer of page.items) {
      if (summary.checked >= REMINDER_OFFERS_PER_RUN_MAX) {
        truncated = true;
        break;
      }
      summary.checked += 1;
      const left = daysLeftToAccept(offer, options.today);
      // Only offers inside the widest window cost a read of their claims.
      if (left !== null && left <= widest) candidates.push(offer);
    }
    await remind(run, candidates);
    if (truncated) {
      summary.problems.push({
        offerId: null,
        window: null,
        code: 'reminder_scan_truncated',
        message: `Looked at ${REMINDER_OFFERS_PER_RUN_MAX} published offers; the rest wait for the next run`,
      });
      break;
    }
    if (run.full) break;
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return summary;
}

/** Claims and sends what is due among one page's candidates. */
async function remind(run: Run, candidates: readonly OfferRecord[]): Promise<void> {
  const { deps, summary } = run;
  const at = deps.clock.now();
  const sent = new Map<string, number[]>();
  for (const offer of candidates) {
    try {
      sent.set(offer.offerId, await deps.reminderClaims.sentWindows(offer.offerId, at));
    } catch (error) {
      summary.problems.push({
        offerId: offer.offerId,
        window: null,
        code: codeOf(error, 'reminder_claims_unreadable'),
        message: messageOf(error),
      });
    }
  }
  const readable = candidates.filter((o) => sent.has(o.offerId));
  for (const reminder of dueReminders(readable, run.today, run.windows, sent)) {
    if (summary.sent.length >= REMINDERS_PER_RUN_MAX) {
      run.full = true;
      summary.problems.push({
        offerId: null,
        window: null,
        code: 'reminder_run_full',
        message: `Sent ${REMINDERS_PER_RUN_MAX} reminders; the rest go out on the next run`,
      });
      return;
    }
    await remindOne(run, reminder);
  }
}

async function remindOne(run: Run, reminder: DueReminder): Promise<void> {
  const { deps, summary } = run;
  const { offerId, window } = reminder;
  const now = deps.clock.now();
  let claimed: boolean;
  try {
    claimed = await deps.reminderClaims.claim(offerId, window, now);
  } catch (error) {
    summary.problems.push({
      offerId,
      window,
      code: codeOf(error, 'reminder_claim_failed'),
      message: messageOf(error),
    });
    return;
  }
  if (!claimed) {
    summary.claimedElsewhere += 1;
    return;
  }
  try {
    let deliveries = 0;
    for (const delivery of offerExpiringDeliveries(
      run.endpoints,
      { ...reminder, today: run.today },
      now,
    )) {
      if (await deps.webhooks.enqueue(delivery)) deliveries += 1;
    }
    let messageId: string | null = null;
    if (run.recipients.length > 0) {
      const message = reminderMessage(reminder.offer, window, reminder.daysLeft);
      messageId = await deps.emailOutbox.send({
        id: reminderId(offerId, window),
        to: run.recipients,
        subject: message.subject,
        text: message.text,
        at: now,
      });
    }
    await deps.reminderClaims.markSent(offerId, window, now, messageId);
    summary.sent.push({ offerId, window, daysLeft: reminder.daysLeft, deliveries, messageId });
  } catch (error) {
    // The claim stays (unsent, with the error): a later run takes it over after its lease.
    const message = messageOf(error);
    summary.problems.push({
      offerId,
      window,
      code: codeOf(error, 'reminder_not_sent'),
      message,
    });
    try {
      await deps.reminderClaims.markFailed(offerId, window, now, message);
    } catch {
      // Only the error text is lost: the claim is unsent either way and will be retried.
    }
  }
}
