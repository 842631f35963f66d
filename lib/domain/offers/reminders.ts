/**
 * Expiry reminders for published private offers, as pure decisions: which reminder is due for
 * which offer on a given day, and what it says.
 *
 * A window of `w` days applies from the day the offer has `w` days or fewer left to accept
 * (`daysLeft` is 0 on `expiresOn`, the last day a buyer can accept). Each window is sent at most
 * once per offer; the sending job records what it sent (lib/app/offer-reminders.ts) and passes
 * it back in as `sent`.
 */
import { type CalendarDate, dayNumber } from '../calendar';
import { InvalidInputError } from '../errors';
import { deterministicId } from '../ids';
import { effectiveStatus, type OfferRecord } from './offer';

/** Days before expiry at which sellers are reminded, widest first. */
export const REMINDER_WINDOWS_DEFAULT: readonly number[] = [14, 7, 1];
/** The widest window accepted (a year ahead). */
export const REMINDER_WINDOW_DAYS_MAX = 365;
/** Windows one configuration may hold. */
export const REMINDER_WINDOWS_MAX = 10;
/** Buyers named in one reminder's text (the rest are counted). */
export const REMINDER_BUYERS_LISTED_MAX = 20;
/** Characters of the offer name kept in a subject line. */
const SUBJECT_NAME_LENGTH_MAX = 100;

/** The webhook event type an endpoint subscribes to for offer reminders. */
export const OFFER_EXPIRING_EVENT_TYPE = 'OfferExpiring';

export interface DueReminder {
  readonly offerId: string;
  /** The window (in days) this reminder is for. */
  readonly window: number;
  /** Days left to accept, counting today: 0 on the last day. */
  readonly daysLeft: number;
  readonly expiresOn: CalendarDate;
  readonly offer: OfferRecord;
}

/** Validates windows (whole days, 0..365, at most 10) and returns them distinct, widest first. */
export function normalizeWindows(windows: readonly number[]): number[] {
  for (const w of windows) {
    if (!Number.isInteger(w) || w < 0 || w > REMINDER_WINDOW_DAYS_MAX) {
      throw new InvalidInputError(
        'invalid_reminder_window',
        `A reminder window is a whole number of days from 0 to ${REMINDER_WINDOW_DAYS_MAX}, not ${w}`,
      );
    }
  }
  const distinct = [...new Set(windows)].sort((a, b) => b - a);
  if (distinct.length > REMINDER_WINDOWS_MAX) {
    throw new InvalidInputError(
      'invalid_reminder_window',
      `At most ${REMINDER_WINDOWS_MAX} reminder windows, not ${distinct.length}`,
    );
  }
  return distinct;
}

/** "14,7,1" (as in AGORA_OFFER_REMINDER_DAYS) → [14, 7, 1]; empty → the default windows. */
export function parseReminderWindows(text: string | undefined): number[] {
  const parts = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return normalizeWindows(REMINDER_WINDOWS_DEFAULT);
  return normalizeWindows(
    parts.map((part) => {
      if (!/^\d{1,3}$/.test(part)) {
        throw new InvalidInputError(
          'invalid_reminder_window',
          `Reminder windows are whole days separated by commas, not "${part}"`,
        );
      }
      return Number(part);
    }),
  );
}

/** Days left to accept a published offer (0 on its last day); null when it is not open today. */
export function daysLeftToAccept(offer: OfferRecord, today: CalendarDate): number | null {
  if (offer.expiresOn === null || effectiveStatus(offer, today) !== 'published') return null;
  return dayNumber(offer.expiresOn) - dayNumber(today);
}

/**
 * The reminders due today: for each published offer still open (`expiresOn ≥ today`), the
 * tightest window `w` with `daysLeft ≤ w`, unless it or a tighter window was sent already.
 *
 * When several windows are passed at once — an offer published with 5 days left under windows
 * 14, 7 and 1 — only the tightest (7) fires, and the wider ones (14) count as done: a "14 days
 * left" mail after a "7 days left" one would be wrong. So a window fires only when it is tighter
 * than every window already sent for the offer, which also makes each window fire at most once.
 * Drafts, offers in approval or publication, failed, rejected and expired offers get nothing.
 */
export function dueReminders(
  offers: readonly OfferRecord[],
  today: CalendarDate,
  windows: readonly number[],
  sent: ReadonlyMap<string, readonly number[]>,
): DueReminder[] {
  const ascending = normalizeWindows(windows).reverse();
  const due: DueReminder[] = [];
  for (const offer of offers) {
    const daysLeft = daysLeftToAccept(offer, today);
    if (daysLeft === null || offer.expiresOn === null) continue;
    const tightest = ascending.find((w) => daysLeft <= w);
    if (tightest === undefined) continue;
    const already = sent.get(offer.offerId) ?? [];
    if (already.some((w) => w <= tightest)) continue;
    due.push({
      offerId: offer.offerId,
      window: tightest,
      daysLeft,
      expiresOn: offer.expiresOn,
      offer,
    });
  }
  return due;
}

/** The reminder's id: the same for every attempt at one (offer, window). */
export function reminderId(offerId: string, window: number): string {
  return deterministicId('rem', offerId, String(window));
}

/** What a reminder shows of its offer (a published document, read leniently). */
export interface OfferSummary {
  readonly offerId: string;
  readonly marketplace: string;
  readonly name: string;
  readonly productId: string | null;
  readonly buyers: readonly { readonly accountId: string; readonly name: string | null }[];
  readonly expiresOn: CalendarDate | null;
  /** The marketplace's id of the published offer (AWS: offer-…), when known. */
  readonly marketplaceOfferId: string | null;
}

/** Control characters (CR, LF, tabs…) become spaces: names end up in subject lines. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export function summarizeOffer(offer: OfferRecord): OfferSummary {
  const document = offer.document;
  const text = (value: unknown): string | null =>
    typeof value === 'string' && value.trim() !== '' ? oneLine(value) : null;
  const buyers = Array.isArray(document.buyers) ? document.buyers : [];
  return {
    offerId: offer.offerId,
    marketplace: offer.marketplace,
    name: text(document.name) ?? offer.offerId,
    productId: text(document.productId),
    buyers: buyers.flatMap((buyer: unknown) => {
      if (typeof buyer !== 'object' || buyer === null) return [];
      const { accountId, name } = buyer as { accountId?: unknown; name?: unknown };
      const id = text(accountId);
      return id === null ? [] : [{ accountId: id, name: text(name) }];
    }),
    expiresOn: offer.expiresOn,
    marketplaceOfferId: offer.publication?.entityId ?? null,
  };
}

function whenLeft(daysLeft: number): string {
  if (daysLeft <= 0) return 'today';
  if (daysLeft === 1) return 'tomorrow';
  return `in ${daysLeft} days`;
}

/** The subject and plain text of one reminder: offer, product, buyers, last day, days left, id. */
export function reminderMessage(
  offer: OfferRecord,
  window: number,
  daysLeft: number,
): { subject: string; text: string } {
  const summary = summarizeOffer(offer);
  const expiresOn = summary.expiresOn ?? 'unknown';
  const name =
    summary.name.length > SUBJECT_NAME_LENGTH_MAX
      ? `${summary.name.slice(0, SUBJECT_NAME_LENGTH_MAX - 1)}…`
      : summary.name;
  const listed = summary.buyers
    .slice(0, REMINDER_BUYERS_LISTED_MAX)
    .map((b) => (b.name ? `${b.name} (${b.accountId})` : b.accountId));
  const more = summary.buyers.length - listed.length;
  const buyers =
    listed.length === 0
      ? 'none listed'
      : listed.join(', ') + (more > 0 ? `, and ${more} more` : '');
  const lines = [
    `The private offer "${summary.name}" expires ${whenLeft(daysLeft)}: buyers can accept it until the end of ${expiresOn} (UTC).`,
    '',
    `Offer:              ${summary.name}`,
    `Agora offer id:     ${summary.offerId}`,
    `Marketplace:        ${summary.marketplace}${summary.marketplaceOfferId ? ` (${summary.marketplaceOfferId})` : ''}`,
    `Product:            ${summary.productId ?? 'unknown'}`,
    `Buyers:             ${buyers}`,
    `Last day to accept: ${expiresOn}`,
    `Days left:          ${daysLeft}`,
    '',
    'If the deal needs more time, extend the offer or publish a new one before it expires.',
    `This is the ${window}-day reminder; each reminder is sent once.`,
  ];
  return {
    subject: `Private offer "${name}" expires ${whenLeft(daysLeft)} (${expiresOn})`,
    text: `${lines.join('\n')}\n`,
  };
}
