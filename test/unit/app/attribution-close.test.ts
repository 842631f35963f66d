// Proves that a deal closes at its acceptance even when the agreement was first read after it ended (every event then carries the end time): a deal registration submitted after the acceptance does not source it, and the AWS source records the acceptance.
import { describe, expect, it } from 'vitest';
import { type AttributionDeps, attributeSnapshot } from '../../../lib/app/attribution';
import { contractIdFor } from '../../../lib/domain/contract';
import type { TouchRecord } from '../../../lib/domain/partners/touch';
import type { AgreementRead } from '../../../lib/marketplaces/aws/gateway';
import { sourceFromAgreement } from '../../../lib/marketplaces/aws/source';
import { contract } from './metering-fakes';

const ACCEPTED = '2026-03-02T14:04:58.000Z';
const ENDED = '2026-05-01T00:00:00.000Z';
const REGISTERED = '2026-03-12T09:00:00.000Z';

const read: AgreementRead = {
  agreement: {
    $metadata: {},
    agreementId: 'agmt-late',
    status: 'EXPIRED',
    acceptanceTime: new Date(ACCEPTED),
    startTime: new Date(ACCEPTED),
    endTime: new Date(ENDED),
    acceptor: { accountId: '444455556666' },
    proposalSummary: { offerId: 'offer-1', resources: [{ id: 'prod-1', type: 'SaaSProduct' }] },
  },
  terms: [],
  entitlements: [],
};

const registration: TouchRecord = {
  schemaVersion: 1,
  touchId: 'touch-registration',
  source: 'deal-registration',
  sourceRef: 'reg-1',
  partnerId: 'P-1',
  role: 'sourced',
  milestone: 'registration',
  at: REGISTERED,
  validUntil: null,
  match: { contractIds: [], offerIds: [], opportunityIds: [], customerKeys: [], productId: null },
  note: null,
  recordedAt: REGISTERED,
  recordedBy: 'partner:P-1',
} as TouchRecord;

describe('the close of a deal first read after it ended', () => {
  it('the AWS source keeps the acceptance while every event carries the end time', () => {
    const source = sourceFromAgreement(read, {
      licenseArn: 'arn:aws:license-manager::aws:license:l-late',
      productCode: null,
      productId: 'prod-1',
      intent: 'NEW',
      previousAgreementId: null,
      replacesExternalId: null,
      resaleAuthorizationId: null,
      now: '2026-06-01T00:00:00.000Z',
    });
    expect(source.status).toBe('expired');
    expect(source.observedAt).toBe(ENDED);
    expect(source.refs.acceptedAt).toBe(ACCEPTED);
  });

  it('a registration after the acceptance does not source the deal', async () => {
    const base = contract('late', 'aws');
    const snapshot = {
      ...base,
      contractId: contractIdFor('aws', base.externalId),
      status: 'expired' as const,
      refs: { ...base.refs, acceptedAt: ACCEPTED },
    };
    const added: unknown[] = [];
    const deps = {
      contracts: {
        get: async () => snapshot,
        // Every event of a first read after the end carries the end time.
        events: async () => ({ items: [{ event: { occurredAt: ENDED } }], cursor: null }),
      },
      offers: { byEntityId: async () => null, get: async () => null },
      partners: { byMarketplaceAccount: async () => null, get: async () => null },
      touches: { byKeys: async () => [registration] },
      attribution: {
        latest: async () => null,
        modelVersions: async () => [],
        add: async (version: unknown) => {
          added.push(version);
          return true;
        },
      },
      clock: { now: () => '2026-06-01T00:00:00.000Z' },
      attributionSettings: { modelId: 'default' },
    } as unknown as AttributionDeps;
    const result = await attributeSnapshot(deps, snapshot);
    expect(result).toEqual({ attribution: null, written: false });
    expect(added).toEqual([]);
    // The same deal read before its end (no acceptance ref, first event at the acceptance)
    // closes at the same moment: the registration does not count either.
    const { acceptedAt: _, ...refs } = snapshot.refs;
    const early = await attributeSnapshot(
      {
        ...deps,
        contracts: {
          ...deps.contracts,
          events: async () => ({ items: [{ event: { occurredAt: ACCEPTED } }], cursor: null }),
        },
      } as unknown as AttributionDeps,
      { ...snapshot, refs },
    );
    expect(early.written).toBe(false);
  });
});
