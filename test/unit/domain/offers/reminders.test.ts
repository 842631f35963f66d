// Proves which expiry reminder is due when: the tightest applicable window fires once on the first day it applies, wider windows passed at once count as done, only open published offers are reminded, windows are validated, and the message names the offer, product, buyers, last day, days left and id — examples plus a day-by-day walk over random offers and window sets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, dayNumber } from '../../../../lib/domain/calendar';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  OFFER_STATUSES,
  type OfferRecord,
  type OfferStatus,
} from '../../../../lib/domain/offers/offer';
import {
  daysLeftToAccept,
  dueReminders,
  normalizeWindows,
  parseReminderWindows,
  REMINDER_BUYERS_LISTED_MAX,
  REMINDER_WINDOWS_DEFAULT,
  reminderId,
  reminderMessage,
} from '../../../../lib/domain/offers/reminders';

const EXPIRES = '2026-06-30';

function offer(
  overrides: Partial<OfferRecord> = {},
  document: Record<string, unknown> = {},
): OfferRecord {
  return {
    offerId: 'of_1',
    marketplace: 'aws',
    version: 4,
    status: 'published',
    document: {
      schemaVersion: 1,
      marketplace: 'aws',
      productId: 'prod-example01',
      name: 'Acme Corp — 2 years',
      buyers: [{ accountId: '111122223333', name: 'Acme Corp' }, { accountId: '444455556666' }],
      expiresOn: EXPIRES,
      ...document,
    },
    createdBy: 'deal-desk',
    createdAt: '2026-05-01T09:00:00.000Z',
    updatedAt: '2026-05-01T09:05:00.000Z',
    guardrails: null,
    approval: null,
    publication: {
      entityType: 'offer',
      entityId: 'offer-abc123',
      changeSetId: 'cs-1',
      changeSetStatus: 'SUCCEEDED',
      attempts: 1,
      submittedAt: '2026-05-01T09:00:00.000Z',
      completedAt: '2026-05-01T09:05:00.000Z',
      failure: null,
    },
    expiresOn: EXPIRES,
    history: [],
    ...overrides,
  };
}

/** The windows fired for one offer on `today`, given what was sent before. */
function fired(record: OfferRecord, today: string, windows: readonly number[], sent: number[]) {
  return dueReminders([record], today, windows, new Map([[record.offerId, sent]])).map(
    (r) => r.window,
  );
}

/** Walks day by day, feeding each fired window back as sent; returns day → window. */
function walk(record: OfferRecord, from: string, to: string, windows: readonly number[]) {
  const sent: number[] = [];
  const log: { today: string; daysLeft: number; window: number }[] = [];
  for (let day = dayNumber(from); day <= dayNumber(to); day += 1) {
    const today = addDays('1970-01-01', day);
    const due = dueReminders([record], today, windows, new Map([[record.offerId, [...sent]]]));
    expect(due.length).toBeLessThanOrEqual(1);
    for (const reminder of due) {
      sent.push(reminder.window);
      log.push({ today, daysLeft: reminder.daysLeft, window: reminder.window });
    }
  }
  return log;
}

describe('dueReminders', () => {
  it('fires 14, 7 and 1 days before expiry with the default windows, each once', () => {
    const log = walk(
      offer(),
      addDays(EXPIRES, -30),
      addDays(EXPIRES, 10),
      REMINDER_WINDOWS_DEFAULT,
    );
    expect(log).toEqual([
      { today: '2026-06-16', daysLeft: 14, window: 14 },
      { today: '2026-06-23', daysLeft: 7, window: 7 },
      { today: '2026-06-29', daysLeft: 1, window: 1 },
    ]);
  });

  it('fires only the tightest window when several are passed at once; the wider count as done', () => {
    // Published (or first seen) with 5 days left: 7 fires, 14 never does, 1 still fires later.
    const log = walk(offer(), addDays(EXPIRES, -5), addDays(EXPIRES, 3), [14, 7, 1]);
    expect(log.map((l) => [l.today, l.window])).toEqual([
      ['2026-06-25', 7],
      ['2026-06-29', 1],
    ]);
    // A window tighter than one already sent may fire; a wider one may not.
    expect(fired(offer(), addDays(EXPIRES, -3), [14, 7, 1], [7])).toEqual([]);
    expect(fired(offer(), addDays(EXPIRES, -1), [14, 7, 1], [7])).toEqual([1]);
    expect(fired(offer(), addDays(EXPIRES, -10), [14, 7, 1], [7])).toEqual([]);
    expect(fired(offer(), addDays(EXPIRES, -10), [14, 7, 1], [])).toEqual([14]);
  });

  it('never fires a window twice, even when asked every day', () => {
    for (let d = 14; d >= 8; d -= 1)
      expect(fired(offer(), addDays(EXPIRES, -d), [14, 7, 1], [14])).toEqual([]);
    expect(fired(offer(), addDays(EXPIRES, -1), [14, 7, 1], [14, 7, 1])).toEqual([]);
  });

  it('reminds on the last day itself for a window of 0, and never after expiry', () => {
    expect(fired(offer(), EXPIRES, [0], [])).toEqual([0]);
    expect(fired(offer(), EXPIRES, [7, 1], [7])).toEqual([1]);
    expect(fired(offer(), addDays(EXPIRES, 1), [14, 7, 1], [])).toEqual([]);
    expect(fired(offer(), addDays(EXPIRES, 400), [14, 7, 1], [])).toEqual([]);
    expect(daysLeftToAccept(offer(), EXPIRES)).toBe(0);
    expect(daysLeftToAccept(offer(), addDays(EXPIRES, 1))).toBeNull();
  });

  it('reminds only published offers: drafts, approvals, failed, rejected and expired get nothing', () => {
    const today = addDays(EXPIRES, -1);
    for (const status of OFFER_STATUSES.filter((s) => s !== 'published'))
      expect(fired(offer({ status }), today, [14, 7, 1], []), status).toEqual([]);
    expect(fired(offer({ expiresOn: null }), today, [14, 7, 1], [])).toEqual([]);
    expect(fired(offer(), today, [14, 7, 1], [])).toEqual([1]);
  });

  it('decides for each offer on its own', () => {
    const offers = [
      offer({ offerId: 'of_a', expiresOn: addDays('2026-06-01', 14) }),
      offer({ offerId: 'of_b', expiresOn: addDays('2026-06-01', 3) }),
      offer({ offerId: 'of_c', expiresOn: addDays('2026-06-01', 30) }),
      offer({ offerId: 'of_d', expiresOn: addDays('2026-06-01', 1) }),
    ];
    const due = dueReminders(offers, '2026-06-01', [14, 7, 1], new Map([['of_d', [1]]]));
    expect(due.map((r) => [r.offerId, r.window, r.daysLeft, r.expiresOn])).toEqual([
      ['of_a', 14, 14, '2026-06-15'],
      ['of_b', 7, 3, '2026-06-04'],
    ]);
    expect(due[0]?.offer).toBe(offers[0]);
  });

  it('property: walking day by day, each window fires at most once, the tightest due one on the first day it applies, nothing after expiry', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 60 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 5 }),
        (expiryOffset, leadDays, windows, after) => {
          const expiresOn = addDays('2025-01-01', expiryOffset);
          const publishedOn = addDays(expiresOn, -leadDays);
          const record = offer({ expiresOn });
          const log = walk(record, publishedOn, addDays(expiresOn, after), windows);
          const firedWindows = log.map((l) => l.window);
          // At most once each, and tighter over time.
          expect(new Set(firedWindows).size).toBe(firedWindows.length);
          for (let i = 1; i < firedWindows.length; i += 1)
            expect(firedWindows[i]).toBeLessThan(firedWindows[i - 1] ?? Number.POSITIVE_INFINITY);
          // The model: a reminder fires exactly on the days the tightest applicable window
          // changes (from publication on), and it is that window.
          const ascending = [...windows].sort((a, b) => a - b);
          const tightest = (left: number) =>
            left < 0 ? undefined : ascending.find((w) => left <= w);
          const expected: { today: string; daysLeft: number; window: number }[] = [];
          let previous: number | undefined;
          for (let day = dayNumber(publishedOn); day <= dayNumber(expiresOn) + after; day += 1) {
            const today = addDays('1970-01-01', day);
            const left = dayNumber(expiresOn) - day;
            const t = tightest(left);
            if (t !== undefined && t !== previous)
              expected.push({ today, daysLeft: left, window: t });
            previous = t;
          }
          expect(log).toEqual(expected);
          // Nothing after expiry, nothing before the widest window.
          for (const l of log) {
            expect(l.today <= expiresOn).toBe(true);
            expect(l.daysLeft).toBeLessThanOrEqual(Math.max(...windows));
            expect(l.daysLeft).toBeLessThanOrEqual(l.window);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: offers that are not published never get a reminder, whatever the day', () => {
    const others = OFFER_STATUSES.filter((s) => s !== 'published') as OfferStatus[];
    fc.assert(
      fc.property(
        fc.constantFrom(...others),
        fc.integer({ min: -30, max: 30 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }),
        (status, offset, windows) => {
          expect(fired(offer({ status }), addDays(EXPIRES, offset), windows, [])).toEqual([]);
        },
      ),
    );
  });
});

describe('windows', () => {
  it('are whole days from 0 to 365, distinct, widest first', () => {
    expect(normalizeWindows([1, 14, 7, 7])).toEqual([14, 7, 1]);
    expect(normalizeWindows([])).toEqual([]);
    for (const bad of [-1, 1.5, 366, Number.NaN])
      expect(() => normalizeWindows([bad]), String(bad)).toThrow(InvalidInputError);
    expect(() => normalizeWindows(Array.from({ length: 11 }, (_, i) => i))).toThrow(/At most 10/);
    expect(REMINDER_WINDOWS_DEFAULT).toEqual([14, 7, 1]);
  });

  it('parse from AGORA_OFFER_REMINDER_DAYS ("14,7,1"), empty meaning the default', () => {
    expect(parseReminderWindows(' 30, 7 ,1')).toEqual([30, 7, 1]);
    expect(parseReminderWindows('')).toEqual([14, 7, 1]);
    expect(parseReminderWindows(undefined)).toEqual([14, 7, 1]);
    for (const bad of ['7,x', '1.5', '-3', '7;1', '1000'])
      expect(() => parseReminderWindows(bad), bad).toThrow(InvalidInputError);
  });
});

describe('reminderMessage', () => {
  it('names the offer, product, buyers, last day, days left and ids', () => {
    const { subject, text } = reminderMessage(offer(), 7, 6);
    expect(subject).toBe('Private offer "Acme Corp — 2 years" expires in 6 days (2026-06-30)');
    for (const part of [
      'Acme Corp — 2 years',
      'of_1',
      'aws (offer-abc123)',
      'prod-example01',
      'Acme Corp (111122223333), 444455556666',
      'Last day to accept: 2026-06-30',
      'Days left:          6',
      '7-day reminder',
    ])
      expect(text).toContain(part);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('says today and tomorrow, keeps the subject on one line and bounds the buyers listed', () => {
    expect(reminderMessage(offer(), 1, 1).subject).toContain('expires tomorrow (2026-06-30)');
    expect(reminderMessage(offer(), 0, 0).subject).toContain('expires today (2026-06-30)');
    const sneaky = offer({}, { name: 'Deal\r\nBcc: victim@example.com' });
    expect(reminderMessage(sneaky, 7, 7).subject).not.toMatch(/[\r\n]/);
    const buyers = Array.from({ length: 30 }, (_, i) => ({ accountId: `1000000000${i + 10}` }));
    const many = reminderMessage(offer({}, { buyers }), 14, 14).text;
    expect(many).toContain(`and ${30 - REMINDER_BUYERS_LISTED_MAX} more`);
    expect(many).not.toContain('100000000039');
    const long = reminderMessage(offer({}, { name: 'x'.repeat(150) }), 7, 7).subject;
    expect(long.length).toBeLessThan(150);
  });

  it('falls back to the offer id when the document lacks a name, product or buyers', () => {
    const bare = offer({ publication: null }, { name: undefined, productId: 3, buyers: 'none' });
    const { subject, text } = reminderMessage(bare, 1, 1);
    expect(subject).toContain('"of_1"');
    expect(text).toContain('Product:            unknown');
    expect(text).toContain('Buyers:             none listed');
    expect(text).toContain('Marketplace:        aws\n');
  });

  it('gives each (offer, window) its own stable reminder id', () => {
    expect(reminderId('of_1', 7)).toBe(reminderId('of_1', 7));
    expect(reminderId('of_1', 7)).not.toBe(reminderId('of_1', 1));
    expect(reminderId('of_1', 7)).not.toBe(reminderId('of_2', 7));
    expect(reminderId('of_1', 7)).toMatch(/^rem_[0-9a-f]{32}$/);
  });
});
