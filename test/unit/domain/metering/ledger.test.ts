// Proves the usage ledger's pure rules: deterministic report ids, deadlines per marketplace, what
// an hour sends (AWS zero, never Azure zero, Azure above the included quantity), allowance periods,
// claim/release/outcome transitions that keep a re-send identical, jittered backoff and the
// UsageRecorded event revenue reads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContractEventSchema, contractEventId } from '../../../../lib/domain/events';
import {
  allowancePeriodStart,
  applyPatch,
  claimPatch,
  deadlineOf,
  givenUpPatch,
  includedOf,
  nearDeadline,
  newHourLine,
  outOfAttempts,
  recentSealedHours,
  rejectedPatch,
  releasePatch,
  reportedPatch,
  reportIdFor,
  reportQuantityOf,
  retryDelayMs,
  skipPatch,
  UNKNOWN_OUTCOME_RESENDS,
  type UsageHourLine,
  unprocessedPatch,
  usageRecordedEvent,
} from '../../../../lib/domain/metering/ledger';
import {
  DEFAULT_METERING_POLICY,
  MeteringPolicySchema,
} from '../../../../lib/domain/metering/usage';

const RUNS = { numRuns: 300, seed: 20_260_302 } as const;
const HOUR = '2026-03-02T10:00:00.000Z';
const policy = DEFAULT_METERING_POLICY;

const line = (overrides: Partial<UsageHourLine> = {}): UsageHourLine => ({
  ...newHourLine(
    { contractId: 'c1', marketplace: 'aws', dimension: 'api', hourStart: HOUR },
    policy,
  ),
  receivedUnits: 7_000_000n,
  recordCount: 2,
  ...overrides,
});

describe('report ids and deadlines', () => {
  it('derives the report id from (contract, dimension, hour) only', () => {
    expect(reportIdFor('c1', 'api', HOUR)).toBe(reportIdFor('c1', 'api', HOUR));
    expect(reportIdFor('c1', 'api', HOUR)).toMatch(/^mr_[0-9a-f]{32}$/);
    const others = [
      reportIdFor('c2', 'api', HOUR),
      reportIdFor('c1', 'gb', HOUR),
      reportIdFor('c1', 'api', '2026-03-02T11:00:00.000Z'),
    ];
    expect(new Set([reportIdFor('c1', 'api', HOUR), ...others]).size).toBe(4);
  });

  it('dates each new line: due when sealed, deadline from the hour start per marketplace', () => {
    const fresh = line();
    expect(fresh).toMatchObject({
      status: 'pending',
      sealed: false,
      attempts: 0,
      dueAt: '2026-03-02T11:05:00.000Z',
      deadline: '2026-03-02T16:00:00.000Z',
    });
    expect(deadlineOf('azure', HOUR, policy)).toBe('2026-03-03T10:00:00.000Z');
    expect(deadlineOf('gcp', HOUR, policy)).toBe('2026-03-02T12:00:00.000Z');
    const gcpLonger = MeteringPolicySchema.parse({ deadlineHours: { gcp: 5 } });
    expect(deadlineOf('gcp', HOUR, gcpLonger)).toBe('2026-03-02T15:00:00.000Z');
  });
});

describe('what an hour sends', () => {
  it('AWS and GCP send every total, zero included; Azure never sends zero', () => {
    expect(reportQuantityOf('aws', 0n, null)).toEqual({
      reportUnits: 0n,
      includedUnits: 0n,
      send: true,
    });
    expect(reportQuantityOf('gcp', 0n, null).send).toBe(true);
    expect(reportQuantityOf('azure', 0n, null).send).toBe(false);
    expect(reportQuantityOf('azure', 5n, null)).toEqual({
      reportUnits: 5n,
      includedUnits: 0n,
      send: true,
    });
  });

  it('Azure sends only what exceeds the remaining included quantity', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.bigInt({ min: -(10n ** 6n), max: 10n ** 15n }),
        (received, remaining) => {
          const q = reportQuantityOf('azure', received, remaining);
          expect(q.reportUnits + q.includedUnits).toBe(received);
          expect(q.includedUnits).toBe(
            received < remaining ? received : remaining > 0n ? remaining : 0n,
          );
          expect(q.send).toBe(q.reportUnits > 0n);
        },
      ),
      RUNS,
    );
    const configured = MeteringPolicySchema.parse({
      included: [{ plan: 'pro', dimension: 'emails', quantity: '1000.5' }],
    });
    expect(includedOf(configured, 'pro', 'emails')).toEqual({
      units: 1_000_500_000n,
      per: 'month',
    });
    expect(includedOf(configured, 'basic', 'emails')).toBeNull();
  });

  it('anchors monthly allowance periods on the term start day (clamped at month ends)', () => {
    expect(allowancePeriodStart('2026-01-15', '2026-03-14T23:00:00.000Z', 'month')).toBe(
      '2026-02-15',
    );
    expect(allowancePeriodStart('2026-01-15', '2026-03-15T00:00:00.000Z', 'month')).toBe(
      '2026-03-15',
    );
    expect(allowancePeriodStart('2026-01-31', '2026-03-01T05:00:00.000Z', 'month')).toBe(
      '2026-02-28',
    );
    expect(allowancePeriodStart('2026-01-31', '2026-03-31T05:00:00.000Z', 'month')).toBe(
      '2026-03-31',
    );
    expect(allowancePeriodStart('2026-01-15', '2026-09-01T00:00:00.000Z', 'term')).toBe(
      '2026-01-15',
    );
    expect(allowancePeriodStart('2026-03-05', '2026-03-01T00:00:00.000Z', 'month')).toBe(
      '2026-03-05',
    );
  });
});

describe('transitions', () => {
  const now = '2026-03-02T11:06:00.000Z';

  it('a claim seals, counts an attempt, fixes the quantity for every re-send, and leases', () => {
    const first = applyPatch(
      line(),
      claimPatch(line(), now, policy, { reportUnits: 7_000_000n, includedUnits: 0n, send: true }),
    );
    expect(first).toMatchObject({
      sealed: true,
      status: 'reporting',
      attempts: 1,
      reportUnits: 7_000_000n,
      claimedAt: now,
      dueAt: '2026-03-02T11:21:00.000Z',
    });
    // A later claim keeps the first quantity even if asked to send something else.
    const again = applyPatch(
      first,
      claimPatch(first, '2026-03-02T11:30:00.000Z', policy, {
        reportUnits: 9n,
        includedUnits: 1n,
        send: true,
      }),
    );
    expect(again).toMatchObject({ attempts: 2, reportUnits: 7_000_000n, includedUnits: 0n });
  });

  it('a release undoes the attempt and makes the hour due at once', () => {
    const claimed = applyPatch(
      line(),
      claimPatch(line(), now, policy, reportQuantityOf('aws', 7n, null)),
    );
    expect(releasePatch(claimed, now)).toEqual({ status: 'pending', attempts: 0, dueAt: now });
    expect(releasePatch({ ...claimed, attempts: 3 }, now)).toEqual({
      status: 'unprocessed',
      attempts: 2,
      dueAt: now,
    });
  });

  it('final outcomes leave the due index; a reported hour stays due until its event is on', () => {
    expect(rejectedPatch('CustomerNotSubscribed', now)).toMatchObject({
      status: 'rejected',
      dueAt: null,
    });
    expect(givenUpPatch(line({ attempts: 8, reason: 'throttled' }), now)).toMatchObject({
      status: 'late',
      dueAt: null,
      reason: 'not reported after 8 attempt(s): throttled',
    });
    expect(skipPatch(now, reportQuantityOf('azure', 3n, 10n))).toMatchObject({
      status: 'skipped',
      includedUnits: 3n,
      dueAt: null,
      reason: 'covered by the included quantity',
    });
    expect(reportedPatch('duplicate', null, now)).toMatchObject({
      status: 'duplicate',
      dueAt: now,
      eventRecorded: false,
    });
  });

  it('backs off unprocessed hours exponentially, jittered within [ceiling/2, ceiling], capped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => {
          const ceiling = Math.min(60, 5 * 2 ** (attempt - 1)) * 60_000;
          const delay = retryDelayMs(attempt, policy, () => r);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(ceiling);
        },
      ),
      RUNS,
    );
    const patch = unprocessedPatch(line({ attempts: 2 }), 'throttled', now, policy, () => 1);
    expect(patch).toEqual({
      status: 'unprocessed',
      reason: 'throttled',
      dueAt: '2026-03-02T11:16:00.000Z',
    });
  });

  it('gives up after attemptsMax sends, allowing a few more when the last answer was lost', () => {
    const three = MeteringPolicySchema.parse({ attemptsMax: 3 });
    expect(outOfAttempts({ status: 'unprocessed', attempts: 2 }, three)).toBe(false);
    expect(outOfAttempts({ status: 'unprocessed', attempts: 3 }, three)).toBe(true);
    expect(outOfAttempts({ status: 'pending', attempts: 3 }, three)).toBe(true);
    expect(
      outOfAttempts({ status: 'reporting', attempts: 3 + UNKNOWN_OUTCOME_RESENDS - 1 }, three),
    ).toBe(false);
    expect(
      outOfAttempts({ status: 'reporting', attempts: 3 + UNKNOWN_OUTCOME_RESENDS }, three),
    ).toBe(true);
  });

  it('flags unreported hours within the margin of their deadline', () => {
    expect(nearDeadline(line(), '2026-03-02T14:59:59.999Z', 1)).toBe(false);
    expect(nearDeadline(line(), '2026-03-02T15:00:00.000Z', 1)).toBe(true);
    expect(nearDeadline(line({ status: 'accepted' }), '2026-03-02T17:00:00.000Z', 1)).toBe(false);
    expect(nearDeadline(line({ status: 'unprocessed' }), '2026-03-02T17:00:00.000Z', 0)).toBe(true);
  });

  it('names the recent sealed hours for zero lines', () => {
    expect(recentSealedHours('2026-03-02T12:04:59.000Z', policy, 2)).toEqual([
      '2026-03-02T10:00:00.000Z',
      '2026-03-02T09:00:00.000Z',
    ]);
    expect(recentSealedHours('2026-03-02T12:05:00.000Z', policy, 1)).toEqual([
      '2026-03-02T11:00:00.000Z',
    ]);
  });
});

describe('the UsageRecorded event', () => {
  it('is a valid contract event over the hour, with the sent quantity and a report-derived id', () => {
    const reported = line({
      marketplace: 'azure',
      reportUnits: 3_250_000n,
      receivedUnits: 7_250_000n,
    });
    const event = usageRecordedEvent(reported);
    expect(ContractEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      eventId: contractEventId('c1', 'UsageRecorded', reported.reportId),
      effectiveAt: '2026-03-02',
      payload: {
        usageRecordId: reported.reportId,
        quantity: '3.25',
        usageStart: HOUR,
        usageEnd: '2026-03-02T11:00:00.000Z',
      },
    });
    expect(usageRecordedEvent(reported).eventId).toBe(event.eventId);
  });
});
