// Proves the mapping from Procurement API entitlements and accounts to canonical contracts: status per state, term and end dates, pending plans, change dates, offer type, refs, and the sign-up gate.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  GcpAccount,
  GcpEntitlement,
} from '../../../../lib/marketplaces/gcp/procurement-client';
import {
  gcpExternalId,
  signupApproved,
  sourceFromEntitlement,
  statusOfEntitlement,
} from '../../../../lib/marketplaces/gcp/source';

const OFFER_BASE = 'projects/987654321098/services/agora-saas.endpoints.agora-demo.cloud.goog';

function entitlement(overrides: Partial<GcpEntitlement> = {}): GcpEntitlement {
  return {
    name: 'providers/prov-1/entitlements/ent-1',
    account: 'providers/prov-1/accounts/acct-1',
    provider: 'prov-1',
    product: 'agora-saas',
    productExternalName: 'agora-saas.endpoints.agora-demo.cloud.goog',
    plan: 'standard',
    state: 'ENTITLEMENT_ACTIVE',
    offer: `${OFFER_BASE}/standardOffers/std-standard`,
    offerEndTime: '2027-03-02T00:00:00Z',
    usageReportingId: 'project_number:42',
    createTime: '2026-03-02T09:15:04Z',
    updateTime: '2026-03-03T10:00:00Z',
    ...overrides,
  };
}

function account(approvals: GcpAccount['approvals']): GcpAccount {
  return { name: 'providers/prov-1/accounts/acct-1', state: 'ACCOUNT_ACTIVE', approvals };
}

const STATES: [string, string, string | null][] = [
  ['ENTITLEMENT_ACTIVATION_REQUESTED', 'pending', 'activation requested'],
  ['ENTITLEMENT_ACTIVE', 'active', null],
  ['ENTITLEMENT_PENDING_PLAN_CHANGE', 'active', null],
  ['ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL', 'active', null],
  ['ENTITLEMENT_PENDING_CANCELLATION', 'active', 'cancellation pending at the end of the term'],
  ['ENTITLEMENT_CANCELLED', 'cancelled', 'entitlement cancelled'],
  ['ENTITLEMENT_SUSPENDED', 'suspended', 'entitlement suspended'],
  ['ENTITLEMENT_STATE_UNSPECIFIED', 'pending', 'activation requested'],
  ['SOMETHING_NEW', 'pending', 'activation requested'],
];

describe('signupApproved', () => {
  it('is true only when the signup approval is APPROVED', () => {
    expect(signupApproved(null)).toBe(false);
    expect(signupApproved(account([]))).toBe(false);
    expect(signupApproved(account([{ name: 'signup', state: 'PENDING' }]))).toBe(false);
    expect(signupApproved(account([{ name: 'signup', state: 'REJECTED' }]))).toBe(false);
    expect(signupApproved(account([{ name: 'signup', state: 'APPROVED' }]))).toBe(true);
    // Another approval does not stand in for sign-up; the account state does not matter.
    expect(
      signupApproved(
        account([
          { name: 'kyc', state: 'APPROVED' },
          { name: 'signup', state: 'PENDING' },
        ]),
      ),
    ).toBe(false);
    expect(
      signupApproved({
        ...account([{ name: 'signup', state: 'APPROVED' }]),
        state: 'ACCOUNT_ACTIVATION_REQUESTED',
      }),
    ).toBe(true);
  });
});

describe('statusOfEntitlement', () => {
  it('maps every entitlement state (unknown ones wait as pending)', () => {
    for (const [state, status, reason] of STATES) {
      expect(statusOfEntitlement(state), state).toEqual({ status, reason });
    }
  });
});

describe('sourceFromEntitlement', () => {
  it('maps an active entitlement to a contract', () => {
    expect(sourceFromEntitlement(entitlement())).toEqual({
      externalId: 'entitlement/ent-1',
      status: 'active',
      statusReason: null,
      terms: {
        productId: 'agora-saas.endpoints.agora-demo.cloud.goog',
        offerId: `${OFFER_BASE}/standardOffers/std-standard`,
        offerType: 'public',
        plan: 'standard',
        quantity: null,
        buyer: { accountId: 'acct-1', name: null },
        currency: 'USD',
        term: { start: '2026-03-02', end: '2027-03-02' },
        trialEnd: null,
        renewal: false,
        fixedCharges: [],
        grants: [{ dimension: 'standard', quantity: null }],
        usageRates: [],
        installments: [],
        reseller: null,
      },
      refs: {
        entitlementId: 'ent-1',
        accountId: 'acct-1',
        providerId: 'prov-1',
        usageReportingId: 'project_number:42',
      },
      observedAt: '2026-03-03T10:00:00Z',
      activatedOn: '2026-03-02',
      endedOn: null,
      replacesExternalId: null,
      facts: [],
      changeEffectiveOn: null,
      // No plan change waits: a pending plan recorded earlier is dropped from the snapshot.
      dropRefs: ['pendingPlan'],
    });
    expect(gcpExternalId('abc')).toBe('entitlement/abc');
  });

  it('sets status, reason, activation and end per state', () => {
    for (const [state, status, reason] of STATES) {
      const source = sourceFromEntitlement(entitlement({ state, offerEndTime: null }));
      expect(source.status, state).toBe(status);
      expect(source.statusReason, state).toBe(reason);
      // A cancellation without subscriptionEndTime never ran: it is not activated first.
      expect(source.activatedOn, state).toBe(
        status === 'pending' || status === 'cancelled' ? null : '2026-03-02',
      );
      expect(source.endedOn, state).toBe(status === 'cancelled' ? '2026-03-03' : null);
    }
    const ran = sourceFromEntitlement(
      entitlement({
        state: 'ENTITLEMENT_CANCELLED',
        subscriptionEndTime: '2026-03-10T12:00:00Z',
        cancellationReason: 'user-cancelled',
      }),
    );
    expect([ran.status, ran.activatedOn, ran.endedOn]).toEqual([
      'cancelled',
      '2026-03-02',
      '2026-03-11',
    ]);
    // An offer that ended without continuation expired.
    const expired = sourceFromEntitlement(
      entitlement({
        state: 'ENTITLEMENT_CANCELLED',
        subscriptionEndTime: '2026-03-10T00:00:00Z',
        cancellationReason: 'expired',
      }),
    );
    expect([expired.status, expired.endedOn]).toEqual(['expired', '2026-03-10']);
  });

  it('tells private offers from public ones', () => {
    const offer = (o: string | null) => sourceFromEntitlement(entitlement({ offer: o })).terms;
    expect(offer(`${OFFER_BASE}/privateOffers/po-1`)).toMatchObject({
      offerType: 'private',
      offerId: `${OFFER_BASE}/privateOffers/po-1`,
    });
    expect(offer(`${OFFER_BASE}/standardOffers/std-1`).offerType).toBe('public');
    expect(offer(null)).toMatchObject({ offerType: 'public', offerId: null });
  });

  it('ends the term at the exclusive end of subscriptionEndTime, else offerEndTime', () => {
    const term = (o: Partial<GcpEntitlement>) => sourceFromEntitlement(entitlement(o)).terms.term;
    expect(term({}).end).toBe('2027-03-02');
    expect(term({ offerEndTime: '2027-03-01T23:59:59Z' }).end).toBe('2027-03-02');
    expect(term({ offerEndTime: '2027-03-02T00:00:01Z' }).end).toBe('2027-03-03');
    expect(term({ subscriptionEndTime: '2026-06-30T00:00:00Z' }).end).toBe('2026-06-30');
    expect(term({ offerEndTime: null }).end).toBeNull();
    // An end not after the start is no term end.
    expect(term({ offerEndTime: '2026-03-02T00:00:00Z' })).toEqual({
      start: '2026-03-02',
      end: null,
    });
    expect(term({ offerEndTime: '2025-01-01T00:00:00Z' }).end).toBeNull();
  });

  it('dates a cancellation by its subscription end, else the last update', () => {
    const ended = (o: Partial<GcpEntitlement>) =>
      sourceFromEntitlement(entitlement({ state: 'ENTITLEMENT_CANCELLED', ...o })).endedOn;
    expect(ended({ subscriptionEndTime: '2026-06-30T00:00:00Z' })).toBe('2026-06-30');
    expect(ended({ subscriptionEndTime: '2026-06-30T08:00:00Z' })).toBe('2026-07-01');
    expect(ended({ offerEndTime: null, updateTime: '2026-05-05T12:00:00Z' })).toBe('2026-05-05');
  });

  it('carries the pending plan only while a plan change awaits approval', () => {
    const refs = (state: string, newPendingPlan: string | null) =>
      sourceFromEntitlement(entitlement({ state, newPendingPlan })).refs;
    expect(refs('ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL', 'enterprise').pendingPlan).toBe(
      'enterprise',
    );
    expect(refs('ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL', null)).not.toHaveProperty(
      'pendingPlan',
    );
    expect(refs('ENTITLEMENT_PENDING_PLAN_CHANGE', 'enterprise')).not.toHaveProperty('pendingPlan');
    expect(refs('ENTITLEMENT_ACTIVE', 'enterprise')).not.toHaveProperty('pendingPlan');
    // The plan in force stays the current one until the change applies.
    const pending = sourceFromEntitlement(
      entitlement({
        state: 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL',
        newPendingPlan: 'enterprise',
      }),
    );
    expect(pending.terms.plan).toBe('standard');
  });

  it('dates a future plan change by newOfferStartTime', () => {
    const source = sourceFromEntitlement(
      entitlement({
        state: 'ENTITLEMENT_PENDING_PLAN_CHANGE',
        newPendingPlan: 'enterprise',
        newOfferStartTime: '2026-09-01T00:00:00Z',
      }),
    );
    expect(source.changeEffectiveOn).toBe('2026-09-01');
    expect(source.status).toBe('active');
  });

  it('lets the caller override the reason and add refs', () => {
    const source = sourceFromEntitlement(
      entitlement({ state: 'ENTITLEMENT_ACTIVATION_REQUESTED' }),
      {
        statusReason: 'parked',
        refs: { gcpUserIdentity: '42', providerId: 'override' },
      },
    );
    expect(source.statusReason).toBe('parked');
    expect(source.refs).toEqual({
      entitlementId: 'ent-1',
      accountId: 'acct-1',
      providerId: 'override',
      usageReportingId: 'project_number:42',
      gcpUserIdentity: '42',
    });
  });

  it('falls back sensibly when optional members are missing', () => {
    const bare: GcpEntitlement = {
      name: 'providers/p/entitlements/e-2',
      account: 'providers/p/accounts/a-2',
      state: 'ENTITLEMENT_ACTIVE',
    };
    const source = sourceFromEntitlement(bare);
    expect(source.terms).toMatchObject({
      productId: 'unknown-product',
      plan: null,
      grants: [],
      offerId: null,
      term: { start: '1970-01-01', end: null },
    });
    expect(source.refs).toEqual({ entitlementId: 'e-2', accountId: 'a-2', providerId: 'unknown' });
    expect(source.observedAt).toBe('1970-01-01T00:00:00Z');
    expect(sourceFromEntitlement({ ...bare, product: 'prod-x' }).terms.productId).toBe('prod-x');
    const updatedOnly = sourceFromEntitlement({ ...bare, updateTime: '2026-04-04T04:00:00Z' });
    expect(updatedOnly.terms.term.start).toBe('2026-04-04');
    expect(updatedOnly.observedAt).toBe('2026-04-04T04:00:00Z');
  });

  it('keeps its invariants for any state and dates (property)', () => {
    const instant = fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2099-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    fc.assert(
      fc.property(
        fc.constantFrom(...STATES.map(([state]) => state)),
        instant,
        fc.option(instant, { nil: null }),
        fc.option(instant, { nil: null }),
        fc.option(instant, { nil: null }),
        (state, createTime, offerEndTime, subscriptionEndTime, newOfferStartTime) => {
          const source = sourceFromEntitlement(
            entitlement({
              state,
              createTime,
              updateTime: createTime,
              offerEndTime,
              subscriptionEndTime,
              newOfferStartTime,
            }),
          );
          const { status } = statusOfEntitlement(state);
          const { start, end } = source.terms.term;
          return (
            source.status === status &&
            start === createTime.slice(0, 10) &&
            (end === null || end > start) &&
            (source.activatedOn === null) ===
              (status === 'pending' || (status === 'cancelled' && subscriptionEndTime === null)) &&
            (source.endedOn === null) === (status !== 'cancelled') &&
            source.changeEffectiveOn === (newOfferStartTime?.slice(0, 10) ?? null)
          );
        },
      ),
    );
  });
});
