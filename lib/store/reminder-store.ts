/**
 * Claims of offer expiry reminders, beside the offer they belong to:
 *
 * Reminder: pk OFFER#<offerId> · sk REMINDER#<window> · state claimed|sent · attempts ·
 *           claimedAt · sentAt · messageId · lastError
 *
 * The first claim is a write guarded by ITEM_ABSENT; taking over an unsent claim is guarded by
 * its state, its age (the lease) and its attempt count, so of two runs only one ever owns it.
 */
import type { ReminderClaims } from '../app/reminder-ports';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { ITEM_ABSENT, ITEM_PRESENT } from './transaction';

/**
 * How long a run owns an unsent claim: longer than a Lambda may run (15 minutes), so a live run
 * is never overtaken; a failed or dead run's claim is taken over by the next run after it.
 */
export const REMINDER_CLAIM_LEASE_MS = 20 * 60_000;
/** Runs that may try one reminder; after the last failure it counts as done (and was reported). */
export const REMINDER_ATTEMPTS_MAX = 3;
/** Windows one offer can have claims for (bounded by the configuration, at most 10). */
const REMINDER_CLAIMS_PER_OFFER_MAX = 50;
const ERROR_LENGTH_MAX = 500;

function claimKeyIn(prefix: string, offerId: string, window: number) {
  return { pk: `${prefix}#${offerId}`, sk: `REMINDER#${window}` } as const;
}

function iso(at: string): string {
  return new Date(at).toISOString();
}

export interface ReminderClaimOptions {
  readonly leaseMs?: number;
  readonly attemptsMax?: number;
  /** The partition the claims sit in beside their subject: OFFER (default) or DEALREG. */
  readonly keyPrefix?: 'OFFER' | 'DEALREG';
}

export class DynamoReminderClaims implements ReminderClaims {
  private readonly leaseMs: number;
  private readonly attemptsMax: number;

  constructor(
    private readonly store: DynamoStore,
    options: ReminderClaimOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? REMINDER_CLAIM_LEASE_MS;
    this.attemptsMax = options.attemptsMax ?? REMINDER_ATTEMPTS_MAX;
    this.keyPrefix = options.keyPrefix ?? 'OFFER';
  }

  private readonly keyPrefix: string;

  private claimKey(subjectId: string, window: number) {
    return claimKeyIn(this.keyPrefix, subjectId, window);
  }

  private staleBefore(at: string): string {
    return new Date(Date.parse(at) - this.leaseMs).toISOString();
  }

  async claim(offerId: string, window: number, at: string): Promise<boolean> {
    const now = iso(at);
    try {
      await this.store.update(
        'offer-reminder',
        this.claimKey(offerId, window),
        {
          expression:
            'SET #entity = :entity, #offerId = :offerId, #window = :window, #state = :claimed, #claimedAt = :at ADD #attempts :one',
          names: {
            '#entity': 'entity',
            '#offerId': 'offerId',
            '#window': 'window',
            '#attempts': 'attempts',
          },
          values: {
            ':entity': 'OfferReminder',
            ':offerId': offerId,
            ':window': window,
            ':at': now,
            ':one': 1,
          },
        },
        {
          // New, or an unsent claim whose run failed or died (lease over, attempts left).
          expression: `${ITEM_ABSENT.expression} OR (#state = :claimed AND #claimedAt <= :stale AND #attempts < :max)`,
          names: { '#state': 'state', '#claimedAt': 'claimedAt', '#attempts': 'attempts' },
          values: {
            ':claimed': 'claimed',
            ':stale': this.staleBefore(now),
            ':max': this.attemptsMax,
          },
        },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }

  async sentWindows(offerId: string, at: string): Promise<number[]> {
    const stale = this.staleBefore(iso(at));
    const page = await this.store.query({
      partitionKey: `${this.keyPrefix}#${offerId}`,
      sortKeyBeginsWith: 'REMINDER#',
      limit: REMINDER_CLAIMS_PER_OFFER_MAX,
      consistent: true,
    });
    return page.items
      .filter(
        (item) =>
          item.state === 'sent' ||
          String(item.claimedAt) > stale ||
          Number(item.attempts ?? 0) >= this.attemptsMax,
      )
      .map((item) => Number(item.window))
      .sort((a, b) => b - a);
  }

  async markSent(
    offerId: string,
    window: number,
    at: string,
    messageId: string | null,
  ): Promise<void> {
    await this.store.update(
      'offer-reminder',
      this.claimKey(offerId, window),
      {
        expression: 'SET #state = :sent, sentAt = :at, messageId = :messageId REMOVE lastError',
        names: { '#state': 'state' },
        values: { ':sent': 'sent', ':at': iso(at), ':messageId': messageId },
      },
      ITEM_PRESENT,
    );
  }

  async markFailed(offerId: string, window: number, at: string, error: string): Promise<void> {
    await this.store.update(
      'offer-reminder',
      this.claimKey(offerId, window),
      {
        expression: 'SET lastError = :error, failedAt = :at',
        values: { ':error': error.slice(0, ERROR_LENGTH_MAX), ':at': iso(at) },
      },
      ITEM_PRESENT,
    );
  }
}
