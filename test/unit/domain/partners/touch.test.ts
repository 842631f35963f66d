// Proves how touches find contracts: the keys a touch is stored under meet the keys a contract looks up by (offer, opportunity, customer + product or any product), touches dated after the close or past a registration's expiry do not count, and an ACE opportunity becomes deterministic cloud-seller touches.
import { describe, expect, it } from 'vitest';
import { touchesFromOpportunity } from '../../../../lib/app/co-sell';
import type { ContractSnapshot } from '../../../../lib/domain/contract';
import {
  contractMatchKeys,
  type TouchRecord,
  touchCounts,
  touchFromInput,
  touchMatchKeys,
} from '../../../../lib/domain/partners/touch';

const contract = {
  contractId: 'ct-1',
  marketplace: 'aws',
  refs: { offer: 'offer-abc' },
  terms: {
    productId: 'prod-1',
    offerId: 'offer-abc',
    buyer: { accountId: '111122223333', name: 'Globex Inc.' },
  },
} as unknown as ContractSnapshot;

function touch(overrides: Partial<TouchRecord>): TouchRecord {
  return {
    ...touchFromInput(
      {
        partnerId: 'P-1',
        role: 'influenced',
        at: '2026-01-10T00:00:00.000Z',
        source: 'activity',
        customer: { name: 'Globex' },
      },
      'user:test',
      '2026-01-10T00:00:00.000Z',
    ),
    ...overrides,
  };
}

describe('touch matching', () => {
  it('meets a contract by offer, opportunity, account + product and name + any product', () => {
    const keys = new Set(contractMatchKeys(contract, ['O123']));
    const meets = (match: Partial<TouchRecord['match']>) =>
      touchMatchKeys({
        contractIds: [],
        offerIds: [],
        opportunityIds: [],
        customerKeys: [],
        productId: null,
        ...match,
      }).some((k) => keys.has(k));
    expect(meets({ offerIds: ['offer-abc'] })).toBe(true);
    expect(meets({ opportunityIds: ['O123'] })).toBe(true);
    expect(meets({ contractIds: ['ct-1'] })).toBe(true);
    expect(meets({ customerKeys: ['acct:aws:111122223333'], productId: 'prod-1' })).toBe(true);
    expect(meets({ customerKeys: ['name:globex'], productId: null })).toBe(true);
    expect(meets({ customerKeys: ['acct:aws:111122223333'], productId: 'prod-2' })).toBe(false);
    expect(meets({ customerKeys: ['acct:azure:111122223333'], productId: 'prod-1' })).toBe(false);
    expect(meets({ offerIds: ['offer-other'], opportunityIds: ['O999'] })).toBe(false);
  });

  it('counts touches up to a day after the close and within a registration’s validity', () => {
    const close = '2026-02-01T10:00:00.000Z';
    expect(touchCounts(touch({ at: '2026-02-02T09:59:59.000Z' }), close)).toBe(true);
    expect(touchCounts(touch({ at: '2026-02-02T10:00:01.000Z' }), close)).toBe(false);
    expect(touchCounts(touch({ validUntil: '2026-02-01' }), close)).toBe(true);
    expect(touchCounts(touch({ validUntil: '2026-01-31' }), close)).toBe(false);
    // A registration after the close did not source the deal: no grace for registrations.
    const registered = (at: string) => touch({ at, source: 'deal-registration' });
    expect(touchCounts(registered('2026-02-01T11:00:00.000Z'), close)).toBe(false);
    expect(touchCounts(registered('2026-02-01T09:00:00.000Z'), close)).toBe(true);
    // The close is known to the second: a registration in that same second counts.
    expect(touchCounts(registered('2026-02-01T10:00:00.500Z'), close)).toBe(true);
    // A customer-wide touch more than a year before the close no longer counts.
    expect(touchCounts(touch({ at: '2025-01-31T09:00:00.000Z' }), close)).toBe(false);
    expect(touchCounts(touch({ at: '2025-02-02T09:00:00.000Z' }), close)).toBe(true);
  });

  it('gives the same touch the same id, and a referral its marketplace-qualified reference', () => {
    const input = {
      partnerId: 'P-1',
      role: 'influenced' as const,
      at: '2026-01-10T00:00:00Z',
      source: 'co-sell-referral' as const,
      sourceRef: 'ref-1',
      referralMarketplace: 'azure' as const,
      contractId: 'ct-1',
    };
    const a = touchFromInput(input, 'user:a', '2026-01-11T00:00:00.000Z');
    const b = touchFromInput(
      { ...input, at: '2026-01-10T00:00:00.000Z' },
      'user:b',
      '2026-01-12T00:00:00.000Z',
    );
    expect(a.touchId).toBe(b.touchId);
    expect(a.sourceRef).toBe('azure:ref-1');
    expect(touchFromInput({ ...input, role: 'sourced' }, 'user:a', a.recordedAt).touchId).not.toBe(
      a.touchId,
    );
    // Without a reference, the same activity for two deals is two touches.
    const { sourceRef: _ref, referralMarketplace: _m, ...rest } = input;
    const activity = { ...rest, source: 'activity' as const };
    const forA = touchFromInput(activity, 'user:a', a.recordedAt);
    const forB = touchFromInput({ ...activity, contractId: 'ct-2' }, 'user:a', a.recordedAt);
    expect(forA.touchId).not.toBe(forB.touchId);
    expect(touchFromInput(activity, 'user:b', 'later').touchId).toBe(forA.touchId);
  });
});

describe('ACE opportunities as touches', () => {
  const opportunity = {
    opportunityId: 'O42',
    partnerOpportunityIdentifier: null,
    createdAt: '2026-01-01T00:00:00Z',
    lastModifiedAt: '2026-02-01T00:00:00Z',
    stage: 'Qualified',
    reviewStatus: 'Approved',
    targetCloseDate: null,
    customer: { companyName: 'Globex', awsAccountId: '111122223333' },
    offerIds: ['offer-abc'],
    productIds: ['AmazonRedshift', 'prod-1'],
  };

  it('records the creation, and the closing once launched, as the AWS team’s touches', () => {
    const open = touchesFromOpportunity(opportunity, 'aws-co-sell', '2026-02-02T00:00:00.000Z');
    expect(open.map((t) => [t.milestone, t.role, t.at])).toEqual([
      ['opportunity_created', 'cloud-seller', '2026-01-01T00:00:00.000Z'],
    ]);
    expect(open[0]?.match).toEqual({
      contractIds: [],
      offerIds: ['offer-abc'],
      opportunityIds: ['O42'],
      customerKeys: ['acct:aws:111122223333'],
      productId: 'prod-1',
    });
    const launched = touchesFromOpportunity(
      { ...opportunity, stage: 'Launched' },
      'aws-co-sell',
      'x',
    );
    expect(launched.map((t) => t.milestone)).toEqual(['opportunity_created', 'closing']);
    // Re-pulled later: the same ids (recording them again is a no-op), also after later edits.
    expect(launched[0]?.touchId).toBe(open[0]?.touchId);
    const edited = touchesFromOpportunity(
      { ...opportunity, stage: 'Launched', lastModifiedAt: '2026-03-01T00:00:00Z' },
      'aws-co-sell',
      'y',
    );
    expect(edited.map((t) => t.touchId)).toEqual(launched.map((t) => t.touchId));
  });
});
