// Proves that AWS sources which copy lasting facts from the stored contract (how the agreement began, its resale authorization) rebuild them from the snapshot the sync reads: a License event read before the agreement's RENEW intent was stored does not undo the renewal once another delivery stored it.
import { MarketplaceAgreementClient } from '@aws-sdk/client-marketplace-agreement';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContractSnapshot } from '../../../../lib/domain/contract';
import { withRefs } from '../../../../lib/domain/contract-lifecycle';
import { AwsMarketplaceAdapter } from '../../../../lib/marketplaces/aws/adapter';
import {
  AwsGatewayRegistry,
  SdkAwsMarketplaceGateway,
} from '../../../../lib/marketplaces/aws/gateway';
import type { AwsTrigger } from '../../../../lib/marketplaces/aws/notifications';
import { ANNUAL_TERMS, mockAgreementReads } from './agreement-fixtures';

const agreements = mockClient(MarketplaceAgreementClient);
const settings = { accounts: [], region: 'us-east-1', endpoint: undefined };
const gateway = new SdkAwsMarketplaceGateway(settings, null);
const LICENSE = 'arn:aws:license-manager::111122223333:license:l-renew01';
const NOW = '2026-03-02T00:00:00.000Z';

const licenseEvent: AwsTrigger = {
  kind: 'aws-license',
  groupKey: 'aws#444455556666',
  description: 'License Updated for agmt-renew01',
  agreementId: 'agmt-renew01',
  licenseArn: LICENSE,
  productCode: 'prodcode1',
  productId: 'prod-1',
  sellerAccountId: null,
  buyerAccountId: '444455556666',
  deprovisioned: false,
  observedAt: '2026-03-01T09:00:00Z',
};

afterEach(() => {
  agreements.reset();
});

describe('AWS sources with facts copied from the stored contract', () => {
  it('a License event read before the RENEW intent was stored takes it from a newer snapshot', async () => {
    mockAgreementReads(
      agreements,
      {
        $metadata: {},
        agreementId: 'agmt-renew01',
        status: 'ACTIVE',
        acceptanceTime: new Date('2026-03-01T09:00:00Z'),
        startTime: new Date('2026-03-01T00:00:00Z'),
        endTime: new Date('2027-02-28T23:59:59Z'),
        acceptor: { accountId: '444455556666' },
        proposalSummary: { offerId: 'offer-1', resources: [{ id: 'prod-1', type: 'SaaSProduct' }] },
      },
      ANNUAL_TERMS,
      LICENSE,
    );
    const adapter = new AwsMarketplaceAdapter(
      new AwsGatewayRegistry(settings, () => gateway),
      settings,
      () => NOW,
    );
    // Nothing stored yet when the License event is read.
    const read = await adapter.read(licenseEvent, {
      findByRef: async () => [],
      get: async () => null,
    });
    const source = read.kind === 'contracts' ? read.contracts[0] : undefined;
    expect(source?.terms.renewal).toBe(false);
    // Meanwhile the agreement's RENEW event created the contract with its intent.
    const stored = {
      refs: { intent: 'RENEW', previousAgreementId: 'agmt-old01' },
      terms: { reseller: null, productId: 'prod-1' },
    } as unknown as ContractSnapshot;
    const rebuilt = source?.rebase?.(stored);
    expect(rebuilt?.terms.renewal).toBe(true);
    expect(rebuilt?.refs.intent).toBe('RENEW');
    expect(rebuilt?.refs.previousAgreementId).toBe('agmt-old01');
    // Everything read from the marketplace is unchanged.
    expect(rebuilt?.terms.installments).toEqual(source?.terms.installments);
    expect(rebuilt?.observedAt).toBe(source?.observedAt);
    // A registration adds the buyer's refs to such a source: its rebuilds keep them.
    if (!source) throw new Error('a source');
    const registered = withRefs(source, { customerIdentifier: 'Cust-1' });
    expect(registered.rebase?.(stored)?.refs).toMatchObject({
      customerIdentifier: 'Cust-1',
      intent: 'RENEW',
    });
  });
});
