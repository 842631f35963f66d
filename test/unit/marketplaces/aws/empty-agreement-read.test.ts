// Proves an empty or incomplete AWS agreement read (DescribeAgreement `{}`, no accepted terms, no status or start) is "not ready" and retried, never applied as the source of truth (found by the simulation).
import {
  type AcceptedTerm,
  type DescribeAgreementCommandOutput,
  MarketplaceAgreementClient,
} from '@aws-sdk/client-marketplace-agreement';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceNotReadyError } from '../../../../lib/app/errors';
import { isRetryable } from '../../../../lib/app/sync';
import { AwsMarketplaceAdapter } from '../../../../lib/marketplaces/aws/adapter';
import {
  type AgreementRead,
  AwsGatewayRegistry,
  type AwsMarketplaceGateway,
  SdkAwsMarketplaceGateway,
} from '../../../../lib/marketplaces/aws/gateway';
import type { AwsTrigger } from '../../../../lib/marketplaces/aws/notifications';
import { sourceFromAgreement } from '../../../../lib/marketplaces/aws/source';
import { ANNUAL_TERMS, mockAgreementReads } from './agreement-fixtures';

const agreements = mockClient(MarketplaceAgreementClient);
const settings = { accounts: [], region: 'us-east-1', endpoint: undefined };
const gateway = new SdkAwsMarketplaceGateway(settings, null);

const LICENSE = 'arn:aws:license-manager::111122223333:license:l-empty01';
const FULL: DescribeAgreementCommandOutput = {
  $metadata: {},
  agreementId: 'agmt-empty01',
  status: 'ACTIVE',
  acceptanceTime: new Date('2026-03-01T09:00:00Z'),
  startTime: new Date('2026-03-01T00:00:00Z'),
  endTime: new Date('2027-02-28T23:59:59Z'),
  acceptor: { accountId: '444455556666' },
  proposalSummary: { offerId: 'offer-1', resources: [{ id: 'prod-1', type: 'SaaSProduct' }] },
};

function mockAgreement(describe: Partial<DescribeAgreementCommandOutput>, terms: AcceptedTerm[]) {
  mockAgreementReads(agreements, describe, terms, LICENSE);
}

const sourceInput = {
  licenseArn: LICENSE,
  productCode: null,
  productId: 'prod-1',
  intent: 'NEW',
  previousAgreementId: null,
  replacesExternalId: null,
  resaleAuthorizationId: null,
  now: '2026-03-02T00:00:00.000Z',
};

const trigger: AwsTrigger = {
  kind: 'aws-agreement',
  groupKey: 'aws#444455556666',
  description: 'Purchase Agreement Created for agmt-empty01',
  agreementId: 'agmt-empty01',
  sellerAccountId: null,
  buyerAccountId: '444455556666',
  intent: 'NEW',
  previousAgreementId: null,
  resaleAuthorizationId: null,
};

const noLookups = { findByRef: async () => [], get: async () => null };

afterEach(() => {
  agreements.reset();
});

describe('gateway: an incomplete agreement read is not ready', () => {
  it('DescribeAgreement answering {} (the simulator’s empty fault) is retried, not read as an agreement', async () => {
    mockAgreement({}, ANNUAL_TERMS);
    const error = await gateway.readAgreement('agmt-empty01').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceNotReadyError);
    expect(isRetryable(error)).toBe(true);
    expect((error as Error).message).toContain('agmt-empty01');
  });

  it('an agreement answered with no accepted terms is retried, not stripped of its schedule', async () => {
    mockAgreement(FULL, []);
    const error = await gateway.readAgreement('agmt-empty01').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceNotReadyError);
    expect(isRetryable(error)).toBe(true);
  });

  it('a complete answer is still returned as is', async () => {
    mockAgreement(FULL, ANNUAL_TERMS);
    const read = await gateway.readAgreement('agmt-empty01');
    expect(read?.agreement.agreementId).toBe('agmt-empty01');
    expect(read?.terms).toHaveLength(2);
    expect(read?.entitlements[0]?.licenseArn).toBe(LICENSE);
  });
});

describe('source: an agreement without status or start is not a 1970 pending contract', () => {
  const read = (agreement: Partial<DescribeAgreementCommandOutput>): AgreementRead => ({
    agreement: { $metadata: {}, ...agreement },
    terms: ANNUAL_TERMS,
    entitlements: [],
  });

  it('throws not-ready for any answer missing the status or both start and acceptance times', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (keepStatus, keepStart, keepAcceptance) => {
          const agreement: Partial<DescribeAgreementCommandOutput> = { ...FULL };
          if (!keepStatus) delete agreement.status;
          if (!keepStart) delete agreement.startTime;
          if (!keepAcceptance) delete agreement.acceptanceTime;
          const complete = keepStatus && (keepStart || keepAcceptance);
          if (complete) {
            const source = sourceFromAgreement(read(agreement), sourceInput);
            expect(source.status).toBe('active');
            expect(source.terms.term.start).toBe('2026-03-01');
          } else {
            expect(() => sourceFromAgreement(read(agreement), sourceInput)).toThrow(
              SourceNotReadyError,
            );
          }
        },
      ),
    );
  });

  it('a complete agreement maps to its real term and installments', () => {
    const source = sourceFromAgreement(read(FULL), sourceInput);
    expect(source.terms.term).toEqual({ start: '2026-03-01', end: '2027-03-01' });
    expect(source.terms.installments).toEqual([{ date: '2026-03-01', amountMinor: 120_000n }]);
    expect(source.activatedOn).toBe('2026-03-01');
  });
});

describe('adapter: an empty read never reaches apply', () => {
  const adapterWith = (gw: AwsMarketplaceGateway) =>
    new AwsMarketplaceAdapter(
      new AwsGatewayRegistry(settings, () => gw),
      settings,
      () => sourceInput.now,
    );

  it('an agreement event over an empty DescribeAgreement fails retryably instead of yielding a contract', async () => {
    mockAgreement({}, ANNUAL_TERMS);
    const error = await adapterWith(gateway)
      .read(trigger, noLookups)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceNotReadyError);
    expect(isRetryable(error)).toBe(true);
  });

  it('the same event over a complete read yields the active contract', async () => {
    mockAgreement(FULL, ANNUAL_TERMS);
    const read = await adapterWith(gateway).read(trigger, noLookups);
    expect(read.kind).toBe('contracts');
    if (read.kind !== 'contracts') return;
    expect(read.contracts[0]?.status).toBe('active');
    expect(read.contracts[0]?.terms.term.start).toBe('2026-03-01');
    expect(read.contracts[0]?.externalId).toBe('license/l-empty01');
  });
});
