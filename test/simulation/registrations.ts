/**
 * The auditor's model of deal registrations, written from README's "Deal registration" and
 * "Touches" paragraphs, not from lib/domain/partners: a partner registers (customer account,
 * product); the rules approve a clean one for a 90-day protection window (or the shorter expiry
 * the partner asked for) and reject another partner's registration of the same deal while the
 * window is open (`registration_conflict`). An approved registration is a `sourced` touch at its
 * submission, valid until its expiry: a later contract of that customer and product is sourced by
 * the partner when it closes inside the expiry — the whole deal, since it is the contract's only
 * touch — and so earns the partner the flat plan's commission on its recognized revenue.
 */
import { addDays } from './dates';

/** README: "defaults: a 90-day protection window" (the submission day is its first day). */
export const REGISTRATION_WINDOW_DAYS = 90;

/** The day a registration stops protecting its deal (inclusive): the asked expiry or the window's end. */
export function registrationExpiry(submittedOn: string, requested: string | null): string {
  const windowEnd = addDays(submittedOn, REGISTRATION_WINDOW_DAYS - 1);
  return requested !== null && requested < windowEnd ? requested : windowEnd;
}

/** An approved registration as the model keeps it. */
export interface ModelRegistration {
  readonly partnerId: string;
  /** Submission day (the simulation submits at noon). */
  readonly on: string;
  readonly expiresOn: string;
}

/**
 * The partner the registration makes the source of a contract that starts (is accepted, 09:00)
 * on `start`, or null. The simulation registers at noon, so a registration of the deal's own day
 * is three hours after its acceptance: it does not count (README: a registration counts only
 * when submitted before the acceptance). `readmeGrace` models the looser reading, kept for
 * comparison; the harness passes false. Same-day deals are generated only with
 * `--expose-known-bugs` (they keep the default histories unchanged).
 */
export function expectedSource(
  registration: ModelRegistration | undefined,
  start: string,
  readmeGrace: boolean,
): string | null {
  if (!registration) return null;
  const before = registration.on < start || (readmeGrace && registration.on === start);
  return before && start <= registration.expiresOn ? registration.partnerId : null;
}
