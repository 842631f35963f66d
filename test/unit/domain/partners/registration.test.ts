// Proves the deal-registration rules and the partner registry's tier history: a registration conflicting with another partner's approved one inside its window is flagged with the reason whatever the order and spelling, direct deals and tiers hold or refuse as configured, and the tier on a date comes from the effective-dated history.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../../../lib/domain/calendar';
import {
  customerKeysOf,
  DEFAULT_REGISTRATION_RULES,
  effectiveRegistrationStatus,
  evaluateRegistration,
  type NewRegistration,
  newRegistration,
  normalizeCustomerName,
  type RegistrationRecord,
  RegistrationRulesSchema,
} from '../../../../lib/domain/partners/deal-registration';
import { tierOn, withTier } from '../../../../lib/domain/partners/partner';

const AT = '2026-03-10T12:00:00.000Z';

function input(overrides: Partial<NewRegistration> = {}): NewRegistration {
  return {
    partnerId: 'P-200',
    customer: { name: 'Globex Corporation' },
    productId: 'prod-1',
    expectedValue: { amountMinor: 100_000n, currency: 'USD' },
    ...overrides,
  };
}

function approvedFor(
  partnerId: string,
  submittedAt: string,
  expiresOn: string,
): RegistrationRecord {
  const decision = { status: 'approved' as const, conflicts: [], expiresOn };
  return newRegistration(
    `dr-${partnerId}-${submittedAt}`,
    input({ partnerId }),
    decision,
    'Gold',
    submittedAt,
  );
}

describe('evaluateRegistration', () => {
  it('approves a clean registration of an auto-approve tier, expiring at the end of the window', () => {
    const decision = evaluateRegistration(
      input(),
      { tier: 'Gold', overlapping: [], directOpportunities: [] },
      DEFAULT_REGISTRATION_RULES,
      AT,
    );
    expect(decision).toEqual({
      status: 'approved',
      conflicts: [],
      expiresOn: addDays('2026-03-10', 89),
    });
    // A requested expiry inside the window is kept; one beyond it is cut to the window.
    const early = evaluateRegistration(
      input({ expiresOn: '2026-04-01' }),
      { tier: 'Gold', overlapping: [], directOpportunities: [] },
      DEFAULT_REGISTRATION_RULES,
      AT,
    );
    expect(early.expiresOn).toBe('2026-04-01');
    const late = evaluateRegistration(
      input({ expiresOn: '2027-04-01' }),
      { tier: 'Gold', overlapping: [], directOpportunities: [] },
      DEFAULT_REGISTRATION_RULES,
      AT,
    );
    expect(late.expiresOn).toBe(addDays('2026-03-10', 89));
  });

  it('ignores the partner’s own and lapsed registrations, and holds unknown tiers for review', () => {
    const own = approvedFor('P-200', '2026-03-01T00:00:00.000Z', '2026-05-29');
    const lapsed = approvedFor('P-100', '2025-10-01T00:00:00.000Z', '2026-03-09');
    const decision = evaluateRegistration(
      input(),
      { tier: 'Bronze', overlapping: [own, lapsed], directOpportunities: [] },
      DEFAULT_REGISTRATION_RULES,
      AT,
    );
    expect(decision.status).toBe('pending-review');
    expect(decision.conflicts).toEqual([]);
  });

  it('refuses an ineligible tier and follows the configured action for direct deals', () => {
    const rules = RegistrationRulesSchema.parse({
      eligibleTiers: ['Gold'],
      onDirectOpportunity: 'reject',
    });
    const ineligible = evaluateRegistration(
      input(),
      { tier: 'Silver', overlapping: [], directOpportunities: [] },
      rules,
      AT,
    );
    expect(ineligible.status).toBe('rejected');
    expect(ineligible.conflicts[0]?.code).toBe('tier_not_eligible');
    const direct = evaluateRegistration(
      input(),
      {
        tier: 'Gold',
        overlapping: [],
        directOpportunities: [{ kind: 'offer', ref: 'offer-1', description: 'open offer' }],
      },
      rules,
      AT,
    );
    expect(direct).toMatchObject({
      status: 'rejected',
      conflicts: [{ code: 'direct_opportunity', ref: 'offer-1', reason: 'open offer' }],
    });
  });

  it('flags a conflict with an approved registration in its window, with the reason, in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }), // days before AT the rival registered
        fc.integer({ min: 1, max: 120 }), // its window in days
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 4 }), // other, older rivals
        fc.constantFrom('Globex Corporation', 'GLOBEX corp.', 'globex, Inc', 'Globex'),
        fc.boolean(),
        (ago, window, others, spelling, reversed) => {
          const submitted = addDays('2026-03-10', -ago);
          const expiresOn = addDays(submitted, window - 1);
          const rival = approvedFor('P-100', `${submitted}T08:00:00.000Z`, expiresOn);
          const older = others.map((days, i) =>
            approvedFor(
              `P-${300 + i}`,
              `${addDays('2026-03-10', -days)}T09:00:00.000Z`,
              addDays('2026-03-10', -days),
            ),
          );
          const overlapping = reversed ? [...older, rival].reverse() : [rival, ...older];
          const candidate = input({ customer: { name: spelling } });
          expect(customerKeysOf(candidate.customer)).toEqual(customerKeysOf(rival.customer));
          const decision = evaluateRegistration(
            candidate,
            { tier: 'Gold', overlapping, directOpportunities: [] },
            DEFAULT_REGISTRATION_RULES,
            AT,
          );
          const protecting = expiresOn >= '2026-03-10';
          const rivalConflict = decision.conflicts.find((c) => c.ref === rival.registrationId);
          expect(rivalConflict !== undefined).toBe(protecting);
          if (protecting) {
            expect(decision.status).toBe('rejected');
            expect(rivalConflict?.code).toBe('registration_conflict');
            expect(rivalConflict?.reason).toContain(`protection runs until ${expiresOn}`);
          }
          // Order of the stored registrations never changes the answer.
          const again = evaluateRegistration(
            candidate,
            { tier: 'Gold', overlapping: [...overlapping].reverse(), directOpportunities: [] },
            DEFAULT_REGISTRATION_RULES,
            AT,
          );
          expect(again).toEqual(decision);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('customer matching and status', () => {
  it('folds case, punctuation, accents and legal suffixes', () => {
    expect(normalizeCustomerName('Société Générale S.A.')).toBe('societe generale');
    expect(normalizeCustomerName('ACME, Inc.')).toBe(normalizeCustomerName('acme'));
    expect(customerKeysOf({ name: 'Acme', marketplace: 'aws', accountId: '111122223333' })).toEqual(
      ['acct:aws:111122223333', 'name:acme'],
    );
  });

  it('reads a lapsed registration as expired', () => {
    const record = approvedFor('P-1', '2026-01-01T00:00:00.000Z', '2026-02-01');
    expect(effectiveRegistrationStatus(record, '2026-02-01')).toBe('approved');
    expect(effectiveRegistrationStatus(record, '2026-02-02')).toBe('expired');
  });
});

describe('tier history', () => {
  it('gives the tier in force on a date and keeps the history sorted', () => {
    let history = withTier([], { tier: 'Registered', effectiveFrom: '2025-01-01' });
    history = withTier(history, { tier: 'Gold', effectiveFrom: '2025-07-01' });
    history = withTier(history, { tier: 'Silver', effectiveFrom: '2025-04-01' });
    expect(history.map((h) => h.tier)).toEqual(['Registered', 'Silver', 'Gold']);
    expect(tierOn(history, '2024-12-31')).toBeNull();
    expect(tierOn(history, '2025-01-01')).toBe('Registered');
    expect(tierOn(history, '2025-06-30')).toBe('Silver');
    expect(tierOn(history, '2026-01-01')).toBe('Gold');
    // A change on an existing date replaces it.
    expect(
      tierOn(withTier(history, { tier: 'Platinum', effectiveFrom: '2025-07-01' }), '2025-08-01'),
    ).toBe('Platinum');
  });
});
