// Proves the mapping from an Azure SaaS subscription to a canonical contract: each status, the
// term (start, exclusive end from endDate or from termUnit), quantity and grants, the currency
// from the offer's plan configuration, the buyer, and activatedOn/endedOn.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AzureOfferConfig } from '../../../../lib/marketplaces/azure/config';
import type { AzureSubscription } from '../../../../lib/marketplaces/azure/fulfillment-client';
import {
  azureExternalId,
  sourceFromSubscription,
  statusOfSubscription,
} from '../../../../lib/marketplaces/azure/source';

const RUNS = { numRuns: 300, seed: 20260402 } as const;
const SUB = '37F9DEA2-4345-438F-B0BD-03D40D28C701';
const BUYER_TENANT = 'd2a7b8c0-1f3e-4a5b-9c6d-7e8f90a1b2c3';

const OFFER: AzureOfferConfig = {
  offerId: 'agora-saas',
  tenantId: '7f3c1e2d-0000-4a5b-9c6d-000000000001',
  appId: '0a1b2c3d-1111-2222-3333-444455556666',
  plans: [
    { planId: 'gold-monthly', currency: 'EUR' },
    { planId: 'platinum-monthly', currency: 'USD' },
    { planId: 'odd-plan', currency: 'ZZZ' },
  ],
};

function subscription(overrides: Partial<AzureSubscription> = {}): AzureSubscription {
  return {
    id: SUB,
    name: 'Contoso Analytics',
    publisherId: 'agorapublisher',
    offerId: 'agora-saas',
    planId: 'gold-monthly',
    quantity: 25,
    beneficiary: { tenantId: BUYER_TENANT, emailId: 'admin1@contoso.example' },
    purchaser: { tenantId: 'aaaaaaaa-1f3e-4a5b-9c6d-7e8f90a1b2c3' },
    saasSubscriptionStatus: 'Subscribed',
    isFreeTrial: false,
    isTest: false,
    term: { startDate: '2026-04-02T00:00:00Z', endDate: '2026-05-02T00:00:00Z', termUnit: 'P1M' },
    autoRenew: true,
    created: '2026-03-02T09:12:44Z',
    lastModified: '2026-04-02T00:00:05Z',
    ...overrides,
  };
}

describe('statusOfSubscription', () => {
  it('maps each documented status', () => {
    expect(statusOfSubscription('Subscribed')).toEqual({ status: 'active', reason: null });
    expect(statusOfSubscription('Suspended')).toEqual({
      status: 'suspended',
      reason: 'suspended by Microsoft (usually a payment problem)',
    });
    expect(statusOfSubscription('Unsubscribed')).toEqual({
      status: 'cancelled',
      reason: 'unsubscribed',
    });
    expect(statusOfSubscription('PendingFulfillmentStart')).toEqual({
      status: 'pending',
      reason: 'awaiting activation',
    });
    expect(statusOfSubscription('PendingActivation')).toEqual({
      status: 'pending',
      reason: 'status PendingActivation',
    });
  });

  it('treats any other status as pending and says which it was', () => {
    const known = new Set(['Subscribed', 'Suspended', 'Unsubscribed', 'PendingFulfillmentStart']);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !known.has(s)),
        (status) => {
          expect(statusOfSubscription(status)).toEqual({
            status: 'pending',
            reason: `status ${status}`,
          });
        },
      ),
      RUNS,
    );
  });
});

describe('sourceFromSubscription', () => {
  it('maps an active subscription exactly', () => {
    expect(sourceFromSubscription(subscription(), OFFER)).toEqual({
      externalId: `subscription/${SUB.toLowerCase()}`,
      status: 'active',
      statusReason: null,
      terms: {
        productId: 'agora-saas',
        offerId: 'agora-saas',
        offerType: 'public',
        plan: 'gold-monthly',
        quantity: 25,
        buyer: { accountId: BUYER_TENANT, name: 'Contoso Analytics' },
        currency: 'EUR',
        term: { start: '2026-04-02', end: '2026-05-02' },
        trialEnd: null,
        renewal: false,
        fixedCharges: [],
        grants: [{ dimension: 'gold-monthly', quantity: '25' }],
        usageRates: [],
        installments: [],
        reseller: null,
      },
      refs: { subscriptionId: SUB, offerId: 'agora-saas', publisherId: 'agorapublisher' },
      observedAt: '2026-04-02T00:00:05Z',
      activatedOn: '2026-04-02',
      endedOn: null,
      replacesExternalId: null,
      facts: [],
    });
  });

  it('keys the contract on the lower-cased subscription id', () => {
    expect(azureExternalId(SUB)).toBe(azureExternalId(SUB.toLowerCase()));
    expect(sourceFromSubscription(subscription({ id: SUB.toLowerCase() }), OFFER).externalId).toBe(
      sourceFromSubscription(subscription(), OFFER).externalId,
    );
  });

  it('maps each status, with activatedOn only once activated and endedOn only when cancelled', () => {
    const pending = sourceFromSubscription(
      subscription({
        saasSubscriptionStatus: 'PendingFulfillmentStart',
        term: { startDate: null, endDate: null, termUnit: 'P1M' },
        created: '2026-06-10T15:00:00Z',
        lastModified: '2026-06-10T15:00:00Z',
      }),
      OFFER,
    );
    expect(pending).toMatchObject({
      status: 'pending',
      statusReason: 'awaiting activation',
      activatedOn: null,
      endedOn: null,
      // Not started yet: the term starts on the purchase day and has no end.
      terms: { term: { start: '2026-06-10', end: null } },
    });
    expect(
      sourceFromSubscription(subscription({ saasSubscriptionStatus: 'Suspended' }), OFFER),
    ).toMatchObject({
      status: 'suspended',
      statusReason: 'suspended by Microsoft (usually a payment problem)',
      activatedOn: '2026-04-02',
      endedOn: null,
    });
    expect(
      sourceFromSubscription(
        subscription({
          saasSubscriptionStatus: 'Unsubscribed',
          lastModified: '2026-04-20T10:00:00Z',
        }),
        OFFER,
      ),
    ).toMatchObject({
      status: 'cancelled',
      statusReason: 'unsubscribed',
      activatedOn: '2026-04-02',
      endedOn: '2026-04-20',
      observedAt: '2026-04-20T10:00:00Z',
    });
    // Without lastModified, the end date falls back on the creation instant.
    expect(
      sourceFromSubscription(
        subscription({ saasSubscriptionStatus: 'Unsubscribed', lastModified: null }),
        OFFER,
      ),
    ).toMatchObject({ endedOn: '2026-03-02', observedAt: '2026-03-02T09:12:44Z' });
  });

  it('ends the term on endDate, exclusive (midnight stays, any later time runs to the next day)', () => {
    const end = (endDate: string) =>
      sourceFromSubscription(
        subscription({ term: { startDate: '2026-04-02T00:00:00Z', endDate, termUnit: 'P1M' } }),
        OFFER,
      ).terms.term.end;
    expect(end('2026-05-02T00:00:00Z')).toBe('2026-05-02');
    // Microsoft's docs give endDate as the last valid day: it is included.
    expect(end('2026-05-01T00:00:01Z')).toBe('2026-05-02');
    expect(end('2026-05-01T23:59:59Z')).toBe('2026-05-02');
  });

  it('derives the end from termUnit when there is a start but no endDate', () => {
    const term = (startDate: string | null, termUnit: string | null) =>
      sourceFromSubscription(subscription({ term: { startDate, endDate: null, termUnit } }), OFFER)
        .terms.term;
    expect(term('2026-01-31T00:00:00Z', 'P1M')).toEqual({ start: '2026-01-31', end: '2026-02-28' });
    expect(term('2026-03-02T00:00:00Z', 'P1Y')).toEqual({ start: '2026-03-02', end: '2027-03-02' });
    expect(term('2026-03-02T00:00:00Z', 'P3Y')).toEqual({ start: '2026-03-02', end: '2029-03-02' });
    expect(term('2026-03-02T00:00:00Z', null)).toEqual({ start: '2026-03-02', end: null });
    // No start date: the term starts on the creation day and nothing says when it ends.
    expect(term(null, 'P1M')).toEqual({ start: '2026-03-02', end: null });
  });

  it('never produces a term that ends on or before its start', () => {
    const same = sourceFromSubscription(
      subscription({
        term: {
          startDate: '2026-04-02T00:00:00Z',
          endDate: '2026-04-02T00:00:00Z',
          termUnit: 'P1M',
        },
      }),
      OFFER,
    );
    expect(same.terms.term).toEqual({ start: '2026-04-02', end: null });
    const before = sourceFromSubscription(
      subscription({
        term: {
          startDate: '2026-04-02T00:00:00Z',
          endDate: '2026-03-01T00:00:00Z',
          termUnit: 'P1M',
        },
      }),
      OFFER,
    );
    expect(before.terms.term).toEqual({ start: '2026-04-02', end: null });
  });

  it('takes the start from startDate, else created, else lastModified', () => {
    const start = (overrides: Partial<AzureSubscription>) =>
      sourceFromSubscription(subscription(overrides), OFFER).terms.term.start;
    expect(start({})).toBe('2026-04-02');
    expect(start({ term: null })).toBe('2026-03-02');
    expect(start({ term: null, created: null })).toBe('2026-04-02');
    expect(start({ term: null, created: null, lastModified: null })).toBe('1970-01-01');
  });

  it('parses the quantity from a number or a decimal string, and grants it on the plan', () => {
    const of = (quantity: AzureSubscription['quantity']) => {
      const source = sourceFromSubscription(subscription({ quantity }), OFFER);
      expect(source.terms.grants).toEqual([
        {
          dimension: 'gold-monthly',
          quantity: source.terms.quantity === null ? null : String(source.terms.quantity),
        },
      ]);
      return source.terms.quantity;
    };
    expect(of(25)).toBe(25);
    expect(of('30')).toBe(30);
    expect(of(0)).toBe(0);
    expect(of('0')).toBe(0);
    // Flat-rate plans and nonsense carry no quantity.
    expect(of(null)).toBeNull();
    expect(of(undefined)).toBeNull();
    expect(of('')).toBeNull();
    expect(of('seats')).toBeNull();
    expect(of(-1)).toBeNull();
    expect(of('-5')).toBeNull();
    expect(of(2.5)).toBeNull();
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.boolean(), (n, asString) => {
        expect(of(asString ? String(n) : n)).toBe(n);
      }),
      RUNS,
    );
  });

  it('takes the currency from the offer plan configuration, else USD', () => {
    const currency = (planId: string, offer: AzureOfferConfig | null = OFFER) =>
      sourceFromSubscription(subscription({ planId }), offer).terms.currency;
    expect(currency('gold-monthly')).toBe('EUR');
    expect(currency('platinum-monthly')).toBe('USD');
    expect(currency('not-configured')).toBe('USD');
    // A currency code that is not ISO 4217 does not reach the contract.
    expect(currency('odd-plan')).toBe('USD');
    expect(currency('gold-monthly', null)).toBe('USD');
    expect(currency('gold-monthly', { ...OFFER, plans: [] })).toBe('USD');
  });

  it('names the buyer by beneficiary tenant, else purchaser tenant', () => {
    const buyer = (overrides: Partial<AzureSubscription>) =>
      sourceFromSubscription(subscription(overrides), OFFER).terms.buyer;
    expect(buyer({})).toEqual({ accountId: BUYER_TENANT, name: 'Contoso Analytics' });
    expect(buyer({ beneficiary: null, name: null })).toEqual({
      accountId: 'aaaaaaaa-1f3e-4a5b-9c6d-7e8f90a1b2c3',
      name: null,
    });
    expect(buyer({ beneficiary: { tenantId: null }, purchaser: null })).toEqual({
      accountId: 'unknown-tenant',
      name: 'Contoso Analytics',
    });
  });

  it('keeps the publisher id in refs only when Microsoft gives one', () => {
    expect(sourceFromSubscription(subscription({ publisherId: null }), OFFER).refs).toEqual({
      subscriptionId: SUB,
      offerId: 'agora-saas',
    });
  });

  it('holds its invariants for any status, term and quantity', () => {
    const instant = fc
      .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) })
      .map((ms) => new Date(ms).toISOString());
    fc.assert(
      fc.property(
        fc.constantFrom(
          'Subscribed',
          'Suspended',
          'Unsubscribed',
          'PendingFulfillmentStart',
          'Something',
        ),
        fc.option(instant, { nil: null }),
        fc.option(instant, { nil: null }),
        fc.option(fc.constantFrom('P1M', 'P1Y', 'P2Y', 'P3Y'), { nil: null }),
        instant,
        fc.option(fc.oneof(fc.integer({ min: -5, max: 500 }), fc.string({ maxLength: 4 })), {
          nil: null,
        }),
        (status, startDate, endDate, termUnit, created, quantity) => {
          const source = sourceFromSubscription(
            subscription({
              saasSubscriptionStatus: status,
              term: { startDate, endDate, termUnit },
              created,
              lastModified: created,
              quantity,
            }),
            OFFER,
          );
          const { start, end } = source.terms.term;
          if (end !== null) expect(end > start).toBe(true);
          expect(source.activatedOn === null).toBe(source.status === 'pending');
          if (source.activatedOn !== null) expect(source.activatedOn).toBe(start);
          expect(source.endedOn !== null).toBe(source.status === 'cancelled');
          const q = source.terms.quantity;
          if (q !== null) expect(Number.isInteger(q) && q >= 0).toBe(true);
          expect(source.terms.grants).toEqual([
            { dimension: 'gold-monthly', quantity: q === null ? null : String(q) },
          ]);
        },
      ),
      RUNS,
    );
  });
});
