// Proves the AWS gateway's calls and error handling with aws-sdk-client-mock (the marketplace
// APIs cannot be reached from here): the exact commands and inputs sent, bounded pagination,
// and the translation of throttling, access-denied, not-found and token errors.
import {
  DescribeAgreementCommand,
  GetAgreementEntitlementsCommand,
  GetAgreementTermsCommand,
  MarketplaceAgreementClient,
} from '@aws-sdk/client-marketplace-agreement';
import {
  GetEntitlementsCommand,
  MarketplaceEntitlementServiceClient,
} from '@aws-sdk/client-marketplace-entitlement-service';
import {
  MarketplaceMeteringClient,
  ResolveCustomerCommand,
} from '@aws-sdk/client-marketplace-metering';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MarketplaceUnavailableError,
  PermanentSyncError,
  UnauthorizedError,
} from '../../../../lib/app/errors';
import {
  AWS_PAGES_MAX,
  AwsAccessDeniedError,
  SdkAwsMarketplaceGateway,
} from '../../../../lib/marketplaces/aws/gateway';

const agreements = mockClient(MarketplaceAgreementClient);
const entitlements = mockClient(MarketplaceEntitlementServiceClient);
const metering = mockClient(MarketplaceMeteringClient);

const gateway = new SdkAwsMarketplaceGateway(
  { accounts: [], region: 'us-east-1', endpoint: undefined },
  null,
);

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status },
  });
}

afterEach(() => {
  agreements.reset();
  entitlements.reset();
  metering.reset();
});

describe('readAgreement', () => {
  it('describes the agreement and pages through its terms and entitlements', async () => {
    agreements.on(DescribeAgreementCommand).resolves({ agreementId: 'agmt-1', status: 'ACTIVE' });
    agreements
      .on(GetAgreementTermsCommand, { agreementId: 'agmt-1', maxResults: 50 })
      .resolves({ acceptedTerms: [{ legalTerm: { id: 't1' } }], nextToken: 'page-2' })
      .on(GetAgreementTermsCommand, { agreementId: 'agmt-1', maxResults: 50, nextToken: 'page-2' })
      .resolves({ acceptedTerms: [{ supportTerm: { id: 't2' } }] });
    agreements
      .on(GetAgreementEntitlementsCommand)
      .resolves({ agreementEntitlements: [{ licenseArn: 'arn:l-1', status: 'PROVISIONED' }] });
    const read = await gateway.readAgreement('agmt-1');
    expect(read?.terms).toHaveLength(2);
    expect(read?.entitlements[0]?.licenseArn).toBe('arn:l-1');
    expect(agreements.commandCalls(DescribeAgreementCommand)[0]?.args[0].input).toEqual({
      agreementId: 'agmt-1',
    });
    expect(agreements.commandCalls(GetAgreementTermsCommand).map((c) => c.args[0].input)).toEqual([
      { agreementId: 'agmt-1', maxResults: 50 },
      { agreementId: 'agmt-1', maxResults: 50, nextToken: 'page-2' },
    ]);
  });

  it('stops paging after AWS_PAGES_MAX pages even if AWS keeps answering with a token', async () => {
    agreements.on(DescribeAgreementCommand).resolves({ agreementId: 'agmt-1' });
    agreements
      .on(GetAgreementTermsCommand)
      .resolves({ acceptedTerms: [{ legalTerm: { id: 'x' } }], nextToken: 'again' });
    agreements.on(GetAgreementEntitlementsCommand).resolves({});
    const read = await gateway.readAgreement('agmt-1');
    expect(agreements.commandCalls(GetAgreementTermsCommand)).toHaveLength(AWS_PAGES_MAX);
    expect(read?.terms).toHaveLength(AWS_PAGES_MAX);
  });

  it('answers null for an agreement that does not exist', async () => {
    agreements.on(DescribeAgreementCommand).rejects(sdkError('ResourceNotFoundException', 404));
    expect(await gateway.readAgreement('agmt-missing')).toBeNull();
  });

  it('signals access denied (a CPPO agreement) and retries throttling as unavailable', async () => {
    agreements.on(DescribeAgreementCommand).rejects(sdkError('AccessDeniedException', 403));
    await expect(gateway.readAgreement('agmt-cppo')).rejects.toBeInstanceOf(AwsAccessDeniedError);
    agreements.reset();
    agreements.on(DescribeAgreementCommand).rejects(sdkError('ThrottlingException', 429));
    await expect(gateway.readAgreement('agmt-1')).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    agreements.reset();
    agreements.on(DescribeAgreementCommand).rejects(sdkError('ValidationException', 400));
    await expect(gateway.readAgreement('agmt-1')).rejects.toBeInstanceOf(PermanentSyncError);
  });
});

describe('getEntitlements', () => {
  it('filters by license ARN and by customer', async () => {
    entitlements.on(GetEntitlementsCommand).resolves({ Entitlements: [{ Dimension: 'seats' }] });
    await gateway.getEntitlements('prod-code', { licenseArn: 'arn:l-1' });
    await gateway.getEntitlements('prod-code', { customerIdentifier: 'C1' });
    expect(entitlements.commandCalls(GetEntitlementsCommand).map((c) => c.args[0].input)).toEqual([
      { ProductCode: 'prod-code', Filter: { LICENSE_ARN: ['arn:l-1'] }, MaxResults: 25 },
      { ProductCode: 'prod-code', Filter: { CUSTOMER_IDENTIFIER: ['C1'] }, MaxResults: 25 },
    ]);
  });
});

describe('resolveCustomer', () => {
  it('returns the customer keyed by account and license', async () => {
    metering.on(ResolveCustomerCommand, { RegistrationToken: 'tok' }).resolves({
      CustomerAWSAccountId: '444455556666',
      ProductCode: 'code',
      LicenseArn: 'arn:l-1',
    });
    expect(await gateway.resolveCustomer('tok')).toEqual({
      customerIdentifier: null,
      customerAwsAccountId: '444455556666',
      productCode: 'code',
      licenseArn: 'arn:l-1',
    });
  });

  it('turns invalid and expired tokens into 401s', async () => {
    metering.on(ResolveCustomerCommand).rejects(sdkError('InvalidTokenException', 400));
    await expect(gateway.resolveCustomer('bad')).rejects.toThrow(UnauthorizedError);
    metering.reset();
    metering.on(ResolveCustomerCommand).rejects(sdkError('ExpiredTokenException', 400));
    await expect(gateway.resolveCustomer('old')).rejects.toThrow(/expired/);
  });
});
