// Shared AWS Agreement API fixtures for the adapter tests: a one-year term billed once, and the three reads an agreement takes, mocked on the SDK client.
import {
  type AcceptedTerm,
  DescribeAgreementCommand,
  type DescribeAgreementCommandOutput,
  GetAgreementEntitlementsCommand,
  GetAgreementTermsCommand,
  type MarketplaceAgreementClient,
} from '@aws-sdk/client-marketplace-agreement';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** 1,200.00 USD charged on 2026-03-01 for a term through 2027-02-28. */
export const ANNUAL_TERMS: AcceptedTerm[] = [
  {
    paymentScheduleTerm: {
      currencyCode: 'USD',
      schedule: [{ chargeDate: new Date('2026-03-01T00:00:00Z'), chargeAmount: '1200.00' }],
    },
  },
  {
    validityTerm: {
      agreementStartDate: new Date('2026-03-01T00:00:00Z'),
      agreementEndDate: new Date('2027-02-28T23:59:59Z'),
    },
  },
];

/** DescribeAgreement, its terms and one provisioned license for `prod-1`. */
export function mockAgreementReads(
  agreements: AwsClientStub<MarketplaceAgreementClient>,
  describe: Partial<DescribeAgreementCommandOutput>,
  terms: AcceptedTerm[],
  licenseArn: string,
): void {
  agreements.on(DescribeAgreementCommand).resolves(describe);
  agreements.on(GetAgreementTermsCommand).resolves({ acceptedTerms: terms });
  agreements.on(GetAgreementEntitlementsCommand).resolves({
    agreementEntitlements: [{ licenseArn, status: 'PROVISIONED', resource: { id: 'prod-1' } }],
  });
}
