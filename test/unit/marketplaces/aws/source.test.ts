// Proves the mapping from AWS's Agreement API answers to canonical contracts: exact money from
// decimal strings, the exclusive end date, status mapping, and entitlement-based CPPO contracts.
import type { AcceptedTerm } from '@aws-sdk/client-marketplace-agreement';
import { describe, expect, it } from 'vitest';
import { exclusiveEndOfInstant } from '../../../../lib/domain/calendar';
import type { AgreementRead } from '../../../../lib/marketplaces/aws/gateway';
import {
  sourceFromEntitlements,
  statusOfAgreement,
  termsFromAgreement,
} from '../../../../lib/marketplaces/aws/source';

function read(
  terms: AcceptedTerm[],
  overrides: Partial<AgreementRead['agreement']> = {},
): AgreementRead {
  return {
    agreement: {
      $metadata: {},
      agreementId: 'agmt-1',
      status: 'ACTIVE',
      acceptanceTime: new Date('2026-03-02T14:04:58Z'),
      startTime: new Date('2026-03-02T14:04:58Z'),
      endTime: new Date('2027-03-01T23:59:59Z'),
      acceptor: { accountId: '444455556666' },
      proposalSummary: { offerId: 'offer-1', resources: [{ id: 'prod-1', type: 'SaaSProduct' }] },
      ...overrides,
    },
    terms,
    entitlements: [],
  };
}

describe('termsFromAgreement', () => {
  it('prices configurable upfront dimensions exactly (quantity × unit price)', () => {
    const terms = termsFromAgreement(
      read([
        {
          configurableUpfrontPricingTerm: {
            currencyCode: 'EUR',
            rateCards: [
              {
                selector: { type: 'Duration', value: 'P12M' },
                rateCard: [
                  { dimensionKey: 'seats', price: '95.10' },
                  { dimensionKey: 'admins', price: '0.333' },
                ],
              },
              {
                selector: { type: 'Duration', value: 'P24M' },
                rateCard: [{ dimensionKey: 'seats', price: '180.00' }],
              },
            ],
            configuration: {
              selectorValue: 'P12M',
              dimensions: [
                { dimensionKey: 'seats', dimensionValue: 60 },
                { dimensionKey: 'admins', dimensionValue: 3 },
              ],
            },
          },
        },
      ]),
      { productId: null, resaleAuthorizationId: null },
    );
    expect(terms.currency).toBe('EUR');
    expect(terms.plan).toBe('P12M');
    // 60 × 95.10 = 5,706.00; 3 × 0.333 = 0.999 → 1.00 (rounded half-even, once)
    expect(terms.fixedCharges).toEqual([
      { dimension: 'seats', amountMinor: 570_600n },
      { dimension: 'admins', amountMinor: 100n },
    ]);
    expect(terms.installments).toEqual([{ date: '2026-03-02', amountMinor: 570_700n }]);
    expect(terms.term).toEqual({ start: '2026-03-02', end: '2027-03-02' });
    expect(terms.offerType).toBe('public');
  });

  it('takes a payment schedule as the installments of a private offer, and a free trial end', () => {
    const terms = termsFromAgreement(
      read([
        {
          paymentScheduleTerm: {
            currencyCode: 'USD',
            schedule: [
              { chargeDate: new Date('2026-03-02T00:00:00Z'), chargeAmount: '30000.00' },
              { chargeDate: new Date('2027-03-02T00:00:00Z'), chargeAmount: '0.01' },
            ],
          },
        },
        { freeTrialPricingTerm: { duration: 'P30D' } },
        {
          usageBasedPricingTerm: {
            currencyCode: 'USD',
            rateCards: [{ rateCard: [{ dimensionKey: 'api_calls', price: '0.002' }] }],
          },
        },
      ]),
      { productId: 'prod-x', resaleAuthorizationId: null },
    );
    expect(terms.offerType).toBe('private');
    expect(terms.productId).toBe('prod-x');
    expect(terms.installments).toEqual([
      { date: '2026-03-02', amountMinor: 3_000_000n },
      { date: '2027-03-02', amountMinor: 1n },
    ]);
    expect(terms.trialEnd).toBe('2026-04-01');
    expect(terms.usageRates).toEqual([{ dimension: 'api_calls', unitPrice: '0.002' }]);
  });

  it('keeps an open-ended agreement open', () => {
    expect(
      termsFromAgreement(read([], { endTime: undefined }), {
        productId: null,
        resaleAuthorizationId: null,
      }).term.end,
    ).toBeNull();
  });
});

describe('statusOfAgreement and dates', () => {
  it('maps every AWS status', () => {
    const now = '2026-11-23T00:00:00Z';
    expect(statusOfAgreement('ACTIVE', new Date('2026-01-01'), now).status).toBe('active');
    expect(statusOfAgreement('ACTIVE', new Date('2027-01-01'), now)).toEqual({
      status: 'pending',
      reason: 'agreement starts in the future',
    });
    for (const s of ['CANCELLED', 'TERMINATED', 'ROLLED_BACK'])
      expect(statusOfAgreement(s, undefined, now).status).toBe('cancelled');
    for (const s of ['RENEWED', 'REPLACED', 'SUPERSEDED', 'EXPIRED', 'ARCHIVED'])
      expect(statusOfAgreement(s, undefined, now).status).toBe('expired');
  });

  it('ends a term after the whole last day (23:59:59 UTC) and at midnight exactly', () => {
    expect(exclusiveEndOfInstant('2027-03-01T23:59:59Z')).toBe('2027-03-02');
    expect(exclusiveEndOfInstant('2027-03-02T00:00:00Z')).toBe('2027-03-02');
  });
});

describe('sourceFromEntitlements', () => {
  const input = {
    externalId: 'license/l-9',
    productCode: 'code',
    productId: null,
    buyerAccountId: '121212121212',
    observedAt: '2026-06-01T12:00:06Z',
    termStart: '2026-06-01',
    refs: { license: 'l-9' },
    reseller: null,
    now: '2026-11-23T00:00:00Z',
  };

  it('is null when there are no entitlements (the caller decides: retry or end)', () => {
    expect(sourceFromEntitlements([], input)).toBeNull();
  });

  it('is active until the latest expiry, and expired after it', () => {
    const active = sourceFromEntitlements(
      [
        {
          Dimension: 'seats',
          Value: { IntegerValue: 40 },
          ExpirationDate: new Date('2036-06-01T23:59:59Z'),
        },
      ],
      input,
    );
    expect(active).toMatchObject({
      status: 'active',
      terms: {
        grants: [{ dimension: 'seats', quantity: '40' }],
        term: { start: '2026-06-01', end: '2036-06-02' },
      },
    });
    const expired = sourceFromEntitlements(
      [{ Dimension: 'seats', ExpirationDate: new Date('2026-10-01T00:00:00Z') }],
      input,
    );
    expect(expired).toMatchObject({ status: 'expired', endedOn: '2026-10-01' });
  });
});
