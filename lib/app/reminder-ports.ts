/**
 * Ports of the offer expiry reminders (lib/app/offer-reminders.ts), beside lib/app/ports.ts:
 * the claims that make each reminder go out once, the email outbox, and the part of the webhook
 * store that queues a delivery outside a contract change.
 */
import type { WebhookDelivery, WebhookEndpoint } from './ports';

/**
 * One claim per (offer, window): the record that a run took a reminder, and whether it went out.
 * A claim is taken with a conditional write, so two runs never both own one. A run that fails
 * (or dies) leaves its claim unsent; once the claim's lease has run out, a later run may take it
 * over — a bounded number of times — so a failure delays a reminder instead of losing it.
 */
export interface ReminderClaims {
  /**
   * Takes (offer, window) for this run: true when there was no claim, or an unsent claim whose
   * lease ran out with attempts left; false when it was sent or another run holds it.
   */
  claim(offerId: string, window: number, at: string): Promise<boolean>;
  /**
   * The offer's windows that count as sent as of `at`: sent, held by a run whose lease has not
   * run out, or out of attempts. (An unsent claim past its lease is due again.)
   */
  sentWindows(offerId: string, at: string): Promise<number[]>;
  /** The reminder went out (messageId null when no email was configured). */
  markSent(offerId: string, window: number, at: string, messageId: string | null): Promise<void>;
  /** The attempt failed: the claim stays, with the error, for a later run to take over. */
  markFailed(offerId: string, window: number, at: string, error: string): Promise<void>;
}

export interface EmailMessage {
  /**
   * Deterministic for one message (the reminder id): a retry reuses it, so the Message-ID is
   * the same and the local folder overwrites its file instead of adding a second one.
   */
  readonly id: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** Plain text, lines separated by "\n". */
  readonly text: string;
  /** When it is sent (ISO-8601 UTC): the Date header. */
  readonly at: string;
  /** Files sent with it (a statement's PDF); none: a plain text message. */
  readonly attachments?: readonly {
    /** ASCII file name: letters, digits, ".", "_", "-" and spaces. */
    readonly filename: string;
    /** A MIME type, e.g. "application/pdf". */
    readonly contentType: string;
    readonly content: Uint8Array;
  }[];
}

/** Sends an email (SES in the cloud, a folder of .eml files locally). */
export interface EmailOutbox {
  /** Returns the provider's message id; throws when the message was not accepted. */
  send(message: EmailMessage): Promise<string>;
}

/** What the reminders need of the webhook store (DynamoWebhookStore provides both). */
export interface ReminderWebhooks {
  listEndpoints(): Promise<WebhookEndpoint[]>;
  /** Queues a pending delivery once: false when one with its id was queued before. */
  enqueue(delivery: WebhookDelivery): Promise<boolean>;
}
