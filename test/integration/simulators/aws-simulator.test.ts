// Proves the AWS Marketplace simulator speaks the real wire protocols: the real SDK v3 clients
// (agreement, entitlement, metering) parse its answers member for member, page through them, map
// its errors to their exception classes and see every injected fault kind; BatchMeterUsage keeps
// AWS's duplicate and time-window rules; the /_sim control endpoints validate their input.
import {
  AccessDeniedException,
  ThrottlingException as AgreementThrottlingException,
  DescribeAgreementCommand,
  GetAgreementEntitlementsCommand,
  GetAgreementTermsCommand,
  InternalServerException,
  MarketplaceAgreementClient,
  paginateGetAgreementTerms,
  paginateSearchAgreements,
  ResourceNotFoundException,
  SearchAgreementsCommand,
  ValidationException,
} from '@aws-sdk/client-marketplace-agreement';
import {
  ThrottlingException as EntitlementThrottlingException,
  GetEntitlementsCommand,
  type GetEntitlementsCommandInput,
  InvalidParameterException,
  MarketplaceEntitlementServiceClient,
  MarketplaceEntitlementServiceServiceException,
  paginateGetEntitlements,
} from '@aws-sdk/client-marketplace-entitlement-service';
import {
  BatchMeterUsageCommand,
  ExpiredTokenException,
  InternalServiceErrorException,
  InvalidTokenException,
  InvalidUsageAllocationsException,
  MarketplaceMeteringClient,
  MarketplaceMeteringServiceException,
  ResolveCustomerCommand,
  TimestampOutOfBoundsException,
  type UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsSimulator,
  AwsSimulatorInputError,
  type AwsSimulatorState,
  METERING_RECORD_AGE_MAX_MS,
  SIM_BODY_BYTES_MAX,
  type SimAcceptedTerm,
  type SimAgreement,
  startAwsSimulator,
} from '../../../lib/local/simulators/aws-simulator';

const CLOCK = new Date('2025-06-01T12:00:00.000Z');
const SELLER = '999999999999';
const BUYER_A = '111111111111';
const BUYER_B = '222222222222';
const BUYER_C = '333333333333';
const LICENSE_1 = 'arn:aws:license-manager::294406891311:license:l-1111';
const LICENSE_2 = 'arn:aws:license-manager::294406891311:license:l-2222';
const LICENSE_AGREEMENT = 'arn:aws:license-manager::294406891311:license:l-agr1';

/** One term of every AcceptedTerm kind, every member set, so a misnamed member cannot hide. */
const ALL_TERMS: SimAcceptedTerm[] = [
  {
    legalTerm: {
      type: 'LegalTerm',
      id: 'term-legal',
      documents: [{ type: 'StandardEula', url: 'https://example.com/eula', version: '2024-01' }],
    },
  },
  { supportTerm: { type: 'SupportTerm', id: 'term-support', refundPolicy: 'No refunds' } },
  {
    renewalTerm: {
      type: 'RenewalTerm',
      id: 'term-renewal',
      configuration: { enableAutoRenew: true },
      lockoutPeriod: 'P30D',
      maxRenewals: 3,
      adjustmentDeadline: 'P60D',
      priceIncrease: { fixedPercentage: { value: '5' } },
      termTemplates: [
        {
          paymentScheduleTermTemplate: {
            schedule: [{ chargeDateOffset: 'P0D', chargePercentage: '100', dayOfMonth: 1 }],
          },
        },
      ],
    },
  },
  {
    renewalTerm: {
      type: 'RenewalTerm',
      id: 'term-renewal-range',
      priceIncrease: { percentageRange: { minValue: '1', maxValue: '9', defaultValue: '3' } },
    },
  },
  {
    usageBasedPricingTerm: {
      type: 'UsageBasedPricingTerm',
      id: 'term-usage',
      currencyCode: 'USD',
      rateCards: [{ rateCard: [{ dimensionKey: 'api_calls', price: '0.01' }] }],
    },
  },
  {
    configurableUpfrontPricingTerm: {
      type: 'ConfigurableUpfrontPricingTerm',
      id: 'term-cup',
      currencyCode: 'USD',
      rateCards: [
        {
          selector: { type: 'Duration', value: 'P12M' },
          constraints: { multipleDimensionSelection: 'Allowed', quantityConfiguration: 'Allowed' },
          rateCard: [{ dimensionKey: 'seats', price: '1200.00' }],
        },
      ],
      configuration: {
        selectorValue: 'P12M',
        dimensions: [{ dimensionKey: 'seats', dimensionValue: 10 }],
      },
    },
  },
  { byolPricingTerm: { type: 'ByolPricingTerm', id: 'term-byol' } },
  {
    recurringPaymentTerm: {
      type: 'RecurringPaymentTerm',
      id: 'term-recurring',
      currencyCode: 'USD',
      billingPeriod: 'Monthly',
      price: '99.00',
    },
  },
  {
    validityTerm: {
      type: 'ValidityTerm',
      id: 'term-validity',
      agreementDuration: 'P12M',
      agreementStartDate: '2025-01-01T00:00:00Z',
      agreementEndDate: '2026-01-01T00:00:00Z',
    },
  },
  {
    paymentScheduleTerm: {
      type: 'PaymentScheduleTerm',
      id: 'term-schedule',
      currencyCode: 'USD',
      schedule: [
        { chargeDate: '2025-01-01T00:00:00Z', chargeAmount: '6000.00' },
        { chargeDate: '2025-07-01T00:00:00.250Z', chargeAmount: '6000.00' },
      ],
    },
  },
  {
    freeTrialPricingTerm: {
      type: 'FreeTrialPricingTerm',
      id: 'term-trial',
      duration: 'P30D',
      grants: [{ dimensionKey: 'seats', maxQuantity: 5 }],
    },
  },
  {
    fixedUpfrontPricingTerm: {
      type: 'FixedUpfrontPricingTerm',
      id: 'term-fixed',
      currencyCode: 'USD',
      duration: 'P12M',
      price: '12000.00',
      grants: [{ dimensionKey: 'seats', maxQuantity: 10 }],
    },
  },
  {
    variablePaymentTerm: {
      type: 'VariablePaymentTerm',
      id: 'term-variable',
      currencyCode: 'USD',
      maxTotalChargeAmount: '50000.00',
      configuration: {
        paymentRequestApprovalStrategy: 'AUTO_APPROVE_ON_EXPIRATION',
        expirationDuration: 'P7D',
      },
    },
  },
  { netPaymentTerm: { type: 'NetPaymentTerm', id: 'term-net', paymentDuePeriod: 'P30D' } },
];

/** What the SDK hands back for ALL_TERMS: the same objects, the three timestamps as Dates. */
function expectedSdkTerms(): unknown[] {
  return ALL_TERMS.map((term) => {
    if ('validityTerm' in term) {
      return {
        validityTerm: {
          ...term.validityTerm,
          agreementStartDate: new Date('2025-01-01T00:00:00Z'),
          agreementEndDate: new Date('2026-01-01T00:00:00Z'),
        },
      };
    }
    if ('paymentScheduleTerm' in term) {
      return {
        paymentScheduleTerm: {
          ...term.paymentScheduleTerm,
          schedule: [
            { chargeDate: new Date('2025-01-01T00:00:00Z'), chargeAmount: '6000.00' },
            { chargeDate: new Date('2025-07-01T00:00:00.250Z'), chargeAmount: '6000.00' },
          ],
        },
      };
    }
    return term;
  });
}

const AGREEMENT_ACTIVE: SimAgreement = {
  agreementId: 'agmt-active-1',
  agreementType: 'PurchaseAgreement',
  status: 'ACTIVE',
  acceptanceTime: '2025-01-01T00:00:00Z',
  startTime: '2025-01-01T00:00:00Z',
  endTime: '2026-01-01T00:00:00Z',
  acceptorAccountId: BUYER_A,
  proposerAccountId: SELLER,
  offerId: 'offer-1',
  productId: 'prod-1',
  productType: 'SaaSProduct',
  estimatedCharges: { agreementValue: '12000.00', currencyCode: 'USD' },
  terms: ALL_TERMS,
  entitlements: [
    {
      resourceId: 'prod-1',
      resourceType: 'SaaSProduct',
      type: 'LicenseEntitlement',
      status: 'PROVISIONED',
      statusReasonCode: 'AGREEMENT_ACTIVE',
      licenseArn: LICENSE_AGREEMENT,
      registrationToken: 'reg-from-agreement',
    },
    { resourceId: 'prod-1-addon', status: 'PENDING' },
    { resourceId: 'prod-1-extra', status: 'SCHEDULED' },
  ],
};

const AGREEMENT_EXPIRED: SimAgreement = {
  agreementId: 'agmt-expired-2',
  status: 'EXPIRED',
  acceptanceTime: '2024-01-01T00:00:00Z',
  startTime: '2024-01-02T00:00:00Z',
  endTime: null,
  acceptorAccountId: BUYER_B,
  proposerAccountId: SELLER,
  offerId: 'offer-2',
  productId: 'prod-2',
  terms: [],
  entitlements: [],
};

const AGREEMENT_CPPO: SimAgreement = {
  ...AGREEMENT_EXPIRED,
  agreementId: 'agmt-cppo-3',
  status: 'ACTIVE',
  acceptorAccountId: BUYER_A,
  offerId: 'offer-1',
  visibleToCaller: false,
};

function seed(): AwsSimulatorState {
  return {
    agreements: [AGREEMENT_ACTIVE, AGREEMENT_EXPIRED, AGREEMENT_CPPO],
    entitlements: [
      {
        productCode: 'pc-1',
        dimension: 'seats',
        customerIdentifier: 'cust-a',
        value: { integerValue: 10 },
        expirationDate: '2026-01-01T00:00:00Z',
      },
      {
        productCode: 'pc-1',
        dimension: 'tier',
        customerIdentifier: 'cust-a',
        value: { stringValue: 'gold' },
      },
      {
        productCode: 'pc-1',
        dimension: 'seats',
        customerAwsAccountId: BUYER_C,
        licenseArn: LICENSE_1,
        value: { doubleValue: 2.5 },
      },
      {
        productCode: 'pc-1',
        dimension: 'sso',
        customerAwsAccountId: BUYER_C,
        licenseArn: LICENSE_2,
        value: { booleanValue: true },
      },
      {
        productCode: 'pc-1',
        dimension: 'seats',
        customerIdentifier: 'cust-b',
        value: { integerValue: 3 },
      },
      {
        productCode: 'pc-other',
        dimension: 'seats',
        customerIdentifier: 'cust-a',
        value: { integerValue: 99 },
      },
    ],
    registrations: [
      {
        token: 'tok-valid',
        customerIdentifier: 'cust-a',
        customerAwsAccountId: BUYER_C,
        productCode: 'pc-1',
        licenseArn: LICENSE_1,
      },
      {
        token: 'tok-account-only',
        customerAwsAccountId: BUYER_B,
        productCode: 'pc-1',
      },
      {
        token: 'tok-expired',
        customerIdentifier: 'cust-z',
        customerAwsAccountId: BUYER_B,
        productCode: 'pc-1',
        expired: true,
      },
    ],
  };
}

const credentials = { accessKeyId: 'agoralocal', secretAccessKey: 'agoralocal' };

function sdkClients(url: string, maxAttempts = 1) {
  const config = { region: 'us-east-1', endpoint: url, credentials, maxAttempts };
  return {
    agreement: new MarketplaceAgreementClient(config),
    entitlement: new MarketplaceEntitlementServiceClient(config),
    metering: new MarketplaceMeteringClient(config),
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error as Error & Record<string, unknown>;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected the call to fail, it succeeded');
}

let sim: AwsSimulator;
let clients: ReturnType<typeof sdkClients>;

beforeAll(async () => {
  sim = await startAwsSimulator({ state: seed(), now: () => CLOCK });
  clients = sdkClients(sim.url);
});

afterAll(async () => {
  for (const client of Object.values(clients ?? {})) client.destroy();
  await sim?.close();
});

beforeEach(() => {
  sim.setState(seed());
  sim.clearFaults();
});

describe('Marketplace Agreement (awsJson1_0)', () => {
  it('DescribeAgreement: every member parsed by the SDK, timestamps as Dates', async () => {
    const out = await clients.agreement.send(
      new DescribeAgreementCommand({ agreementId: 'agmt-active-1' }),
    );
    expect(out.agreementId).toBe('agmt-active-1');
    expect(out.acceptor).toEqual({ accountId: BUYER_A });
    expect(out.proposer).toEqual({ accountId: SELLER });
    expect(out.startTime).toEqual(new Date('2025-01-01T00:00:00Z'));
    expect(out.endTime).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(out.acceptanceTime).toEqual(new Date('2025-01-01T00:00:00Z'));
    expect(out.agreementType).toBe('PurchaseAgreement');
    expect(out.estimatedCharges).toEqual({ agreementValue: '12000.00', currencyCode: 'USD' });
    expect(out.proposalSummary).toEqual({
      offerId: 'offer-1',
      resources: [{ id: 'prod-1', type: 'SaaSProduct' }],
    });
    expect(out.status).toBe('ACTIVE');
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('DescribeAgreement: no endTime when it is null, agreementType defaults', async () => {
    const out = await clients.agreement.send(
      new DescribeAgreementCommand({ agreementId: 'agmt-expired-2' }),
    );
    expect(out.endTime).toBeUndefined();
    expect(out.agreementType).toBe('PurchaseAgreement');
    expect(out.estimatedCharges).toBeUndefined();
    expect(out.proposalSummary?.resources).toEqual([{ id: 'prod-2' }]);
    expect(out.status).toBe('EXPIRED');
  });

  it('GetAgreementTerms returns every term kind exactly as seeded', async () => {
    const out = await clients.agreement.send(
      new GetAgreementTermsCommand({ agreementId: 'agmt-active-1' }),
    );
    expect(out.acceptedTerms).toEqual(expectedSdkTerms());
    expect(out.nextToken).toBeUndefined();
  });

  it('GetAgreementTerms pages with maxResults/nextToken and the SDK paginator', async () => {
    const first = await clients.agreement.send(
      new GetAgreementTermsCommand({ agreementId: 'agmt-active-1', maxResults: 5 }),
    );
    expect(first.acceptedTerms).toHaveLength(5);
    expect(first.nextToken).toMatch(/^[a-zA-Z0-9+/=]+$/);
    const second = await clients.agreement.send(
      new GetAgreementTermsCommand({
        agreementId: 'agmt-active-1',
        maxResults: 5,
        nextToken: first.nextToken,
      }),
    );
    expect(second.acceptedTerms?.[0]).toEqual(expectedSdkTerms()[5]);

    const pages: number[] = [];
    const terms: unknown[] = [];
    for await (const page of paginateGetAgreementTerms(
      { client: clients.agreement, pageSize: 4 },
      { agreementId: 'agmt-active-1' },
    )) {
      pages.push(page.acceptedTerms?.length ?? 0);
      terms.push(...(page.acceptedTerms ?? []));
    }
    expect(pages).toEqual([4, 4, 4, 2]);
    expect(terms).toEqual(expectedSdkTerms());
  });

  it('GetAgreementEntitlements returns the entitlements, paged', async () => {
    const first = await clients.agreement.send(
      new GetAgreementEntitlementsCommand({ agreementId: 'agmt-active-1', maxResults: 2 }),
    );
    expect(first.agreementEntitlements).toEqual([
      {
        resource: { id: 'prod-1', type: 'SaaSProduct' },
        type: 'LicenseEntitlement',
        registrationToken: 'reg-from-agreement',
        status: 'PROVISIONED',
        statusReasonCode: 'AGREEMENT_ACTIVE',
        licenseArn: LICENSE_AGREEMENT,
      },
      { resource: { id: 'prod-1-addon' }, status: 'PENDING' },
    ]);
    expect(first.nextToken).toBeDefined();
    const second = await clients.agreement.send(
      new GetAgreementEntitlementsCommand({
        agreementId: 'agmt-active-1',
        maxResults: 2,
        nextToken: first.nextToken,
      }),
    );
    expect(second.agreementEntitlements).toEqual([
      { resource: { id: 'prod-1-extra' }, status: 'SCHEDULED' },
    ]);
    expect(second.nextToken).toBeUndefined();
  });

  it('SearchAgreements filters (AND across names, OR within values) and hides CPPO', async () => {
    const search = async (filters: { name: string; values: string[] }[]) =>
      (
        await clients.agreement.send(
          new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters }),
        )
      ).agreementViewSummaries?.map((s) => s.agreementId);

    expect(await search([])).toEqual(['agmt-active-1', 'agmt-expired-2']);
    expect(await search([{ name: 'AcceptorAccountId', values: [BUYER_A] }])).toEqual([
      'agmt-active-1',
    ]);
    expect(await search([{ name: 'OfferId', values: ['offer-2'] }])).toEqual(['agmt-expired-2']);
    expect(await search([{ name: 'Status', values: ['ACTIVE', 'EXPIRED'] }])).toEqual([
      'agmt-active-1',
      'agmt-expired-2',
    ]);
    expect(await search([{ name: 'ResourceIdentifier', values: ['prod-2'] }])).toEqual([
      'agmt-expired-2',
    ]);
    expect(
      await search([
        { name: 'Status', values: ['ACTIVE'] },
        { name: 'OfferId', values: ['offer-2'] },
      ]),
    ).toEqual([]);
    expect(
      await search([
        { name: 'PartyType', values: ['Proposer'] },
        { name: 'AgreementType', values: ['PurchaseAgreement'] },
        { name: 'LicenseArn', values: [LICENSE_AGREEMENT] },
      ]),
    ).toEqual(['agmt-active-1']);
  });

  it('SearchAgreements answers AgreementViewSummary members and pages', async () => {
    const out = await clients.agreement.send(
      new SearchAgreementsCommand({
        filters: [{ name: 'AcceptorAccountId', values: [BUYER_A] }],
      }),
    );
    expect(out.agreementViewSummaries).toEqual([
      {
        agreementId: 'agmt-active-1',
        acceptanceTime: new Date('2025-01-01T00:00:00Z'),
        startTime: new Date('2025-01-01T00:00:00Z'),
        endTime: new Date('2026-01-01T00:00:00Z'),
        agreementType: 'PurchaseAgreement',
        acceptor: { accountId: BUYER_A },
        proposer: { accountId: SELLER },
        proposalSummary: { offerId: 'offer-1', resources: [{ id: 'prod-1', type: 'SaaSProduct' }] },
        status: 'ACTIVE',
        entitlements: [{ licenseArn: LICENSE_AGREEMENT }],
      },
    ]);

    const ids: (string | undefined)[] = [];
    let pages = 0;
    for await (const page of paginateSearchAgreements(
      { client: clients.agreement, pageSize: 1 },
      {},
    )) {
      pages += 1;
      ids.push(...(page.agreementViewSummaries ?? []).map((s) => s.agreementId));
    }
    expect(pages).toBe(2);
    expect(ids).toEqual(['agmt-active-1', 'agmt-expired-2']);
  });

  it('maps errors to the SDK exception classes', async () => {
    const notFound = await rejection(
      clients.agreement.send(new DescribeAgreementCommand({ agreementId: 'agmt-missing' })),
    );
    expect(notFound).toBeInstanceOf(ResourceNotFoundException);
    expect(notFound.resourceId).toBe('agmt-missing');
    expect(notFound.resourceType).toBe('Agreement');
    expect((notFound as unknown as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect(notFound.requestId).toMatch(/^[0-9a-f-]{36}$/);

    for (const call of [
      () => clients.agreement.send(new DescribeAgreementCommand({ agreementId: 'agmt-cppo-3' })),
      () => clients.agreement.send(new GetAgreementTermsCommand({ agreementId: 'agmt-cppo-3' })),
      () =>
        clients.agreement.send(new GetAgreementEntitlementsCommand({ agreementId: 'agmt-cppo-3' })),
    ]) {
      const denied = await rejection(call());
      expect(denied).toBeInstanceOf(AccessDeniedException);
      expect(denied.message).toContain('agmt-cppo-3');
    }

    const badId = await rejection(
      clients.agreement.send(new DescribeAgreementCommand({ agreementId: 'not valid!' })),
    );
    expect(badId).toBeInstanceOf(ValidationException);
    expect(badId.reason).toBe('INVALID_AGREEMENT_ID');
    expect(badId.fields).toEqual([{ name: 'agreementId', message: expect.any(String) }]);
    const missingId = await rejection(
      clients.agreement.send(new DescribeAgreementCommand({ agreementId: undefined })),
    );
    expect(missingId.reason).toBe('MISSING_AGREEMENT_ID');

    const tooMany = await rejection(
      clients.agreement.send(
        new GetAgreementTermsCommand({ agreementId: 'agmt-active-1', maxResults: 51 }),
      ),
    );
    expect(tooMany).toBeInstanceOf(ValidationException);
    expect(tooMany.reason).toBe('INVALID_MAX_RESULTS');

    const badToken = await rejection(
      clients.agreement.send(
        new GetAgreementTermsCommand({ agreementId: 'agmt-active-1', nextToken: 'Zm9v' }),
      ),
    );
    expect(badToken).toBeInstanceOf(ValidationException);
    expect(badToken.reason).toBe('INVALID_NEXT_TOKEN');

    // A token is bound to its query: one from agmt-active-1's entitlements is refused elsewhere.
    const page = await clients.agreement.send(
      new GetAgreementEntitlementsCommand({ agreementId: 'agmt-active-1', maxResults: 1 }),
    );
    const foreign = await rejection(
      clients.agreement.send(
        new GetAgreementTermsCommand({ agreementId: 'agmt-active-1', nextToken: page.nextToken }),
      ),
    );
    expect(foreign.reason).toBe('INVALID_NEXT_TOKEN');

    const unsupported = await rejection(
      clients.agreement.send(
        new SearchAgreementsCommand({ filters: [{ name: 'OfferSetId', values: ['x'] }] }),
      ),
    );
    expect(unsupported).toBeInstanceOf(ValidationException);
    expect(unsupported.reason).toBe('INVALID_FILTER_NAME');

    const badStatus = await rejection(
      clients.agreement.send(
        new SearchAgreementsCommand({ filters: [{ name: 'Status', values: ['LIVE'] }] }),
      ),
    );
    expect(badStatus.reason).toBe('INVALID_FILTER_VALUES');
  });
});

describe('Marketplace Entitlement Service (awsJson1_1)', () => {
  const get = (input: Omit<GetEntitlementsCommandInput, 'ProductCode'>) =>
    clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: 'pc-1', ...input }));

  it('GetEntitlements returns the product’s entitlements with typed values', async () => {
    const out = await get({});
    expect(out.Entitlements).toHaveLength(5);
    expect(out.Entitlements?.[0]).toEqual({
      ProductCode: 'pc-1',
      Dimension: 'seats',
      CustomerIdentifier: 'cust-a',
      Value: { IntegerValue: 10 },
      ExpirationDate: new Date('2026-01-01T00:00:00Z'),
    });
    expect(out.Entitlements?.[2]).toEqual({
      ProductCode: 'pc-1',
      Dimension: 'seats',
      CustomerAWSAccountId: BUYER_C,
      LicenseArn: LICENSE_1,
      Value: { DoubleValue: 2.5 },
    });
    expect(out.Entitlements?.[1]?.Value).toEqual({ StringValue: 'gold' });
    expect(out.Entitlements?.[3]?.Value).toEqual({ BooleanValue: true });
    expect(out.NextToken).toBeUndefined();
  });

  it('filters: OR within a key, AND across keys', async () => {
    const dims = async (Filter: GetEntitlementsCommandInput['Filter']) =>
      (await get({ Filter })).Entitlements?.map(
        (e) => `${e.CustomerIdentifier ?? e.CustomerAWSAccountId}/${e.Dimension}`,
      );
    expect(await dims({ CUSTOMER_IDENTIFIER: ['cust-a'] })).toEqual([
      'cust-a/seats',
      'cust-a/tier',
    ]);
    expect(await dims({ CUSTOMER_IDENTIFIER: ['cust-a', 'cust-b'] })).toEqual([
      'cust-a/seats',
      'cust-a/tier',
      'cust-b/seats',
    ]);
    expect(await dims({ CUSTOMER_AWS_ACCOUNT_ID: [BUYER_C] })).toEqual([
      `${BUYER_C}/seats`,
      `${BUYER_C}/sso`,
    ]);
    expect(await dims({ LICENSE_ARN: [LICENSE_2] })).toEqual([`${BUYER_C}/sso`]);
    expect(await dims({ DIMENSION: ['seats'] })).toEqual([
      'cust-a/seats',
      `${BUYER_C}/seats`,
      'cust-b/seats',
    ]);
    expect(await dims({ DIMENSION: ['seats'], CUSTOMER_IDENTIFIER: ['cust-a'] })).toEqual([
      'cust-a/seats',
    ]);
    expect(await dims({ DIMENSION: ['tier'], CUSTOMER_AWS_ACCOUNT_ID: [BUYER_C] })).toEqual([]);
  });

  it('pages with MaxResults/NextToken and the SDK paginator', async () => {
    const first = await get({ MaxResults: 2 });
    expect(first.Entitlements).toHaveLength(2);
    const second = await get({ MaxResults: 2, NextToken: first.NextToken });
    expect(second.Entitlements?.map((e) => e.Dimension)).toEqual(['seats', 'sso']);

    const sizes: number[] = [];
    for await (const page of paginateGetEntitlements(
      { client: clients.entitlement, pageSize: 2 },
      { ProductCode: 'pc-1' },
    )) {
      sizes.push(page.Entitlements?.length ?? 0);
    }
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('answers InvalidParameterException for bad paging input', async () => {
    const tooMany = await rejection(get({ MaxResults: 26 }));
    expect(tooMany).toBeInstanceOf(InvalidParameterException);
    const badToken = await rejection(get({ NextToken: 'bm90LWEtdG9rZW4=' }));
    expect(badToken).toBeInstanceOf(InvalidParameterException);
    // A token from one filter is refused under another.
    const page = await get({ MaxResults: 1, Filter: { DIMENSION: ['seats'] } });
    const foreign = await rejection(get({ MaxResults: 1, NextToken: page.NextToken }));
    expect(foreign).toBeInstanceOf(InvalidParameterException);
  });
});

describe('Marketplace Metering (awsJson1_1)', () => {
  const at = (offsetMs: number) => new Date(CLOCK.getTime() + offsetMs);
  const meter = (UsageRecords: UsageRecord[], ProductCode?: string) =>
    clients.metering.send(
      new BatchMeterUsageCommand(
        ProductCode === undefined ? { UsageRecords } : { UsageRecords, ProductCode },
      ),
    );

  it('ResolveCustomer resolves a token, refuses unknown and expired ones', async () => {
    const out = await clients.metering.send(
      new ResolveCustomerCommand({ RegistrationToken: 'tok-valid' }),
    );
    expect(out).toMatchObject({
      CustomerIdentifier: 'cust-a',
      ProductCode: 'pc-1',
      CustomerAWSAccountId: BUYER_C,
      LicenseArn: LICENSE_1,
    });
    const accountOnly = await clients.metering.send(
      new ResolveCustomerCommand({ RegistrationToken: 'tok-account-only' }),
    );
    expect(accountOnly.CustomerIdentifier).toBeUndefined();
    expect(accountOnly.CustomerAWSAccountId).toBe(BUYER_B);

    const unknown = await rejection(
      clients.metering.send(new ResolveCustomerCommand({ RegistrationToken: 'tok-nope' })),
    );
    expect(unknown).toBeInstanceOf(InvalidTokenException);
    const expired = await rejection(
      clients.metering.send(new ResolveCustomerCommand({ RegistrationToken: 'tok-expired' })),
    );
    expect(expired).toBeInstanceOf(ExpiredTokenException);
  });

  it('BatchMeterUsage stores records and echoes them with a MeteringRecordId', async () => {
    const before = sim.meteredRecords().length;
    const timestamp = at(-60_000);
    const out = await meter(
      [
        { CustomerIdentifier: 'cust-a', Dimension: 'api_calls', Quantity: 7, Timestamp: timestamp },
        {
          CustomerAWSAccountId: BUYER_C,
          LicenseArn: LICENSE_1,
          Dimension: 'api_calls',
          Quantity: 3,
          Timestamp: timestamp,
          UsageAllocations: [
            { AllocatedUsageQuantity: 2, Tags: [{ Key: 'team', Value: 'red' }] },
            { AllocatedUsageQuantity: 1 },
          ],
        },
      ],
      'pc-1',
    );
    expect(out.Results?.map((r) => r.Status)).toEqual(['Success', 'Success']);
    expect(out.Results?.[0]?.UsageRecord).toEqual({
      CustomerIdentifier: 'cust-a',
      Dimension: 'api_calls',
      Quantity: 7,
      Timestamp: timestamp,
    });
    expect(out.Results?.[1]?.UsageRecord?.UsageAllocations).toEqual([
      { AllocatedUsageQuantity: 2, Tags: [{ Key: 'team', Value: 'red' }] },
      { AllocatedUsageQuantity: 1 },
    ]);
    expect(out.UnprocessedRecords).toEqual([]);
    const ids = out.Results?.map((r) => r.MeteringRecordId);
    const stored = sim.meteredRecords().slice(before);
    expect(stored.map((r) => r.meteringRecordId)).toEqual(ids);
    expect(stored[0]).toMatchObject({
      productCode: 'pc-1',
      customerIdentifier: 'cust-a',
      dimension: 'api_calls',
      quantity: 7,
      timestamp: timestamp.toISOString(),
      receivedAt: CLOCK.toISOString(),
    });
    expect(stored[1]?.usageAllocations).toEqual([
      { allocatedUsageQuantity: 2, tags: [{ key: 'team', value: 'red' }] },
      { allocatedUsageQuantity: 1, tags: [] },
    ]);
  });

  it('same customer, dimension and Timestamp: same quantity is Success with the same id, another quantity is DuplicateRecord', async () => {
    const record = {
      CustomerIdentifier: 'cust-a',
      Dimension: 'dup_dim',
      Quantity: 5,
      Timestamp: at(-120_000),
    };
    const first = await meter([record], 'pc-1');
    const count = sim.meteredRecords().length;
    const again = await meter([record], 'pc-1');
    expect(again.Results?.[0]?.Status).toBe('Success');
    expect(again.Results?.[0]?.MeteringRecordId).toBe(first.Results?.[0]?.MeteringRecordId);
    const changed = await meter([{ ...record, Quantity: 6 }], 'pc-1');
    expect(changed.Results?.[0]?.Status).toBe('DuplicateRecord');
    expect(changed.Results?.[0]?.MeteringRecordId).toBeUndefined();
    expect(sim.meteredRecords()).toHaveLength(count);
    // Another second is another record.
    const later = await meter([{ ...record, Timestamp: at(-119_000) }], 'pc-1');
    expect(later.Results?.[0]?.Status).toBe('Success');
    expect(sim.meteredRecords()).toHaveLength(count + 1);
  });

  it('unknown customers and licenses are CustomerNotSubscribed; agreement licenses are known', async () => {
    const timestamp = at(-1_000);
    const out = await meter(
      [
        { CustomerIdentifier: 'cust-unknown', Dimension: 'd', Quantity: 1, Timestamp: timestamp },
        {
          CustomerAWSAccountId: BUYER_C,
          LicenseArn: 'arn:aws:license-manager::294406891311:license:l-none',
          Dimension: 'd',
          Quantity: 1,
          Timestamp: timestamp,
        },
        {
          CustomerAWSAccountId: BUYER_A,
          LicenseArn: LICENSE_AGREEMENT,
          Dimension: 'd',
          Quantity: 1,
          Timestamp: timestamp,
        },
      ],
      'pc-1',
    );
    expect(out.Results?.map((r) => r.Status)).toEqual([
      'CustomerNotSubscribed',
      'CustomerNotSubscribed',
      'Success',
    ]);
    expect(out.Results?.[0]?.MeteringRecordId).toBeUndefined();
    // CustomerIdentifier records need the product code they belong to.
    const other = await meter(
      [{ CustomerIdentifier: 'cust-a', Dimension: 'd', Quantity: 1, Timestamp: timestamp }],
      'pc-unknown',
    );
    expect(other.Results?.[0]?.Status).toBe('CustomerNotSubscribed');
  });

  it('refuses more than 25 records, out-of-window timestamps and unbalanced allocations', async () => {
    const count = sim.meteredRecords().length;
    const record = { CustomerIdentifier: 'cust-a', Dimension: 'd', Quantity: 1 };
    const tooMany = await rejection(
      meter(
        Array.from({ length: 26 }, (_, i) => ({ ...record, Timestamp: at(-i * 1_000) })),
        'pc-1',
      ),
    );
    expect(tooMany).toBeInstanceOf(MarketplaceMeteringServiceException);
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain('25');

    const old = await rejection(
      meter(
        [
          { ...record, Timestamp: at(-1_000) },
          { ...record, Timestamp: at(-METERING_RECORD_AGE_MAX_MS - 1_000) },
        ],
        'pc-1',
      ),
    );
    expect(old).toBeInstanceOf(TimestampOutOfBoundsException);
    // The whole batch is refused: the fresh record was not stored either.
    expect(sim.meteredRecords()).toHaveLength(count);

    const justInside = await meter(
      [{ ...record, Timestamp: at(-METERING_RECORD_AGE_MAX_MS + 1_000) }],
      'pc-1',
    );
    expect(justInside.Results?.[0]?.Status).toBe('Success');

    const unbalanced = await rejection(
      meter(
        [
          {
            ...record,
            Quantity: 5,
            Timestamp: at(-2_000),
            UsageAllocations: [{ AllocatedUsageQuantity: 4 }],
          },
        ],
        'pc-1',
      ),
    );
    expect(unbalanced).toBeInstanceOf(InvalidUsageAllocationsException);
  });

  it('judges the time window by the simulator clock, not the wall clock', async () => {
    const wallClockNow = new Date();
    const out = await meter(
      [{ CustomerIdentifier: 'cust-a', Dimension: 'd', Quantity: 1, Timestamp: wallClockNow }],
      'pc-1',
    );
    // CLOCK is in 2025, so a wall-clock timestamp is in the simulator's future and accepted,
    expect(out.Results?.[0]?.Status).toBe('Success');
    // while one hour before CLOCK minus the window is refused, whatever the wall clock says.
    const refused = await rejection(
      meter(
        [
          {
            CustomerIdentifier: 'cust-a',
            Dimension: 'd',
            Quantity: 1,
            Timestamp: at(-METERING_RECORD_AGE_MAX_MS - 3_600_000),
          },
        ],
        'pc-1',
      ),
    );
    expect(refused).toBeInstanceOf(TimestampOutOfBoundsException);
  });
});

describe('faults', () => {
  it('throttle → ThrottlingException of each service, consumed after `times` calls', async () => {
    sim.injectFault({ operation: 'GetEntitlements', kind: 'throttle', times: 2 });
    sim.injectFault({ operation: 'DescribeAgreement', kind: 'throttle', times: 1 });
    const get = () => clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: 'pc-1' }));
    expect(await rejection(get())).toBeInstanceOf(EntitlementThrottlingException);
    expect(await rejection(get())).toBeInstanceOf(EntitlementThrottlingException);
    expect((await get()).Entitlements).toHaveLength(5);

    const throttled = await rejection(
      clients.agreement.send(new DescribeAgreementCommand({ agreementId: 'agmt-active-1' })),
    );
    expect(throttled).toBeInstanceOf(AgreementThrottlingException);
    expect((throttled as unknown as AgreementThrottlingException).$metadata.httpStatusCode).toBe(
      429,
    );
  });

  it('server-error → InternalServerException / InternalServiceErrorException (server fault)', async () => {
    sim.injectFault({ operation: 'GetAgreementTerms', kind: 'server-error', times: 1 });
    sim.injectFault({ operation: 'ResolveCustomer', kind: 'server-error', times: 1 });
    const agreement = await rejection(
      clients.agreement.send(new GetAgreementTermsCommand({ agreementId: 'agmt-active-1' })),
    );
    expect(agreement).toBeInstanceOf(InternalServerException);
    expect(agreement.$fault).toBe('server');
    expect((agreement as unknown as InternalServerException).$metadata.httpStatusCode).toBe(500);
    const metering = await rejection(
      clients.metering.send(new ResolveCustomerCommand({ RegistrationToken: 'tok-valid' })),
    );
    expect(metering).toBeInstanceOf(InternalServiceErrorException);
  });

  it('access-denied → AccessDeniedException (modeled for agreements, generic elsewhere)', async () => {
    sim.injectFault({ operation: 'SearchAgreements', kind: 'access-denied', times: 1 });
    sim.injectFault({ operation: 'GetEntitlements', kind: 'access-denied', times: 1 });
    const agreement = await rejection(clients.agreement.send(new SearchAgreementsCommand({})));
    expect(agreement).toBeInstanceOf(AccessDeniedException);
    const entitlement = await rejection(
      clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: 'pc-1' })),
    );
    expect(entitlement).toBeInstanceOf(MarketplaceEntitlementServiceServiceException);
    expect(entitlement.name).toBe('AccessDeniedException');
  });

  it('empty → empty lists, `{}` for single reads, all records unprocessed for metering', async () => {
    for (const operation of [
      'GetAgreementTerms',
      'GetAgreementEntitlements',
      'SearchAgreements',
      'GetEntitlements',
      'DescribeAgreement',
      'ResolveCustomer',
      'BatchMeterUsage',
    ] as const) {
      sim.injectFault({ operation, kind: 'empty', times: 1 });
    }
    const terms = await clients.agreement.send(
      new GetAgreementTermsCommand({ agreementId: 'agmt-active-1' }),
    );
    expect(terms.acceptedTerms).toEqual([]);
    expect(terms.nextToken).toBeUndefined();
    const entitlements = await clients.agreement.send(
      new GetAgreementEntitlementsCommand({ agreementId: 'agmt-active-1' }),
    );
    expect(entitlements.agreementEntitlements).toEqual([]);
    const search = await clients.agreement.send(new SearchAgreementsCommand({}));
    expect(search.agreementViewSummaries).toEqual([]);
    const mes = await clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: 'pc-1' }));
    expect(mes.Entitlements).toEqual([]);
    const described = await clients.agreement.send(
      new DescribeAgreementCommand({ agreementId: 'agmt-active-1' }),
    );
    expect(described.agreementId).toBeUndefined();
    const resolved = await clients.metering.send(
      new ResolveCustomerCommand({ RegistrationToken: 'tok-valid' }),
    );
    expect(resolved.CustomerIdentifier).toBeUndefined();
    const count = sim.meteredRecords().length;
    const record = {
      CustomerIdentifier: 'cust-a',
      Dimension: 'empty_dim',
      Quantity: 2,
      Timestamp: new Date(CLOCK.getTime() - 5_000),
    };
    const metered = await clients.metering.send(
      new BatchMeterUsageCommand({ ProductCode: 'pc-1', UsageRecords: [record] }),
    );
    expect(metered.Results).toEqual([]);
    expect(metered.UnprocessedRecords).toEqual([record]);
    expect(sim.meteredRecords()).toHaveLength(count);

    // Each fault was used once: the second read is whole again.
    const again = await clients.agreement.send(
      new GetAgreementTermsCommand({ agreementId: 'agmt-active-1' }),
    );
    expect(again.acceptedTerms).toHaveLength(ALL_TERMS.length);
  });

  it('faults are consumed in injection order; `*` matches every operation', async () => {
    sim.injectFault({ operation: 'GetEntitlements', kind: 'throttle', times: 1 });
    sim.injectFault({ operation: 'GetEntitlements', kind: 'server-error', times: 1 });
    sim.injectFault({ operation: 'GetEntitlements', kind: 'empty', times: 1 });
    const get = () => clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: 'pc-1' }));
    expect((await rejection(get())).name).toBe('ThrottlingException');
    expect((await rejection(get())).name).toBe('InternalServiceErrorException');
    expect((await get()).Entitlements).toEqual([]);
    expect((await get()).Entitlements).toHaveLength(5);

    sim.injectFault({ operation: '*', kind: 'throttle', times: 2 });
    expect((await rejection(get())).name).toBe('ThrottlingException');
    expect(
      (
        await rejection(
          clients.metering.send(new ResolveCustomerCommand({ RegistrationToken: 'tok-valid' })),
        )
      ).name,
    ).toBe('ThrottlingException');
    expect((await get()).Entitlements).toHaveLength(5);
  });

  it('a fault for one operation leaves the others alone; clearFaults drops pending ones', async () => {
    sim.injectFault({ operation: 'BatchMeterUsage', kind: 'throttle', times: 5 });
    const out = await clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: 'pc-1' }));
    expect(out.Entitlements).toHaveLength(5);
    sim.clearFaults();
    const metered = await clients.metering.send(
      new BatchMeterUsageCommand({
        ProductCode: 'pc-1',
        UsageRecords: [
          {
            CustomerIdentifier: 'cust-a',
            Dimension: 'clear_dim',
            Quantity: 1,
            Timestamp: new Date(CLOCK.getTime() - 1_000),
          },
        ],
      }),
    );
    expect(metered.Results?.[0]?.Status).toBe('Success');
  });

  it('the SDK’s own retries ride over a transient throttle', async () => {
    const retrying = sdkClients(sim.url, 3);
    try {
      const before = sim.calls().filter((c) => c.operation === 'GetAgreementEntitlements').length;
      sim.injectFault({ operation: 'GetAgreementEntitlements', kind: 'throttle', times: 2 });
      const out = await retrying.agreement.send(
        new GetAgreementEntitlementsCommand({ agreementId: 'agmt-active-1' }),
      );
      expect(out.agreementEntitlements).toHaveLength(3);
      const after = sim.calls().filter((c) => c.operation === 'GetAgreementEntitlements');
      expect(after.length - before).toBe(3);
      expect(after.at(-1)?.input).toEqual({ agreementId: 'agmt-active-1' });
    } finally {
      for (const client of Object.values(retrying)) client.destroy();
    }
  });
});

describe('wire format', () => {
  const post = (target: string | null, body: string, contentType: string) =>
    fetch(sim.url, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        ...(target === null ? {} : { 'x-amz-target': target }),
      },
      body,
    });

  it('answers with the protocol’s content type, x-amzn-errortype and __type', async () => {
    const ok = await post(
      'AWSMPCommerceService_v20200301.DescribeAgreement',
      JSON.stringify({ agreementId: 'agmt-active-1' }),
      'application/x-amz-json-1.0',
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    const body = (await ok.json()) as Record<string, unknown>;
    expect(body.startTime).toBe(Date.parse('2025-01-01T00:00:00Z') / 1000);

    const denied = await post(
      'AWSMPMeteringService.ResolveCustomer',
      JSON.stringify({ RegistrationToken: 'nope' }),
      'application/x-amz-json-1.1',
    );
    expect(denied.status).toBe(400);
    expect(denied.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(denied.headers.get('x-amzn-errortype')).toBe('InvalidTokenException');
    expect(await denied.json()).toMatchObject({
      __type: 'InvalidTokenException',
      message: expect.any(String),
    });
  });

  it('tells a wrongly typed agreementId from a missing one', async () => {
    const response = await post(
      'AWSMPCommerceService_v20200301.GetAgreementTerms',
      JSON.stringify({ agreementId: 42 }),
      'application/x-amz-json-1.0',
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      __type: 'ValidationException',
      reason: 'INVALID_AGREEMENT_ID',
      requestId: expect.any(String),
    });
  });

  it('refuses unknown operations, bad JSON and a missing target', async () => {
    const unknown = await post(
      'AWSMPMeteringService.MeterUsage',
      '{}',
      'application/x-amz-json-1.1',
    );
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const badJson = await post(
      'AWSMPEntitlementService.GetEntitlements',
      '{not json',
      'application/x-amz-json-1.1',
    );
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('x-amzn-errortype')).toBe('SerializationException');
    const noTarget = await post(null, '{}', 'application/x-amz-json-1.1');
    expect(noTarget.status).toBe(400);
    expect(noTarget.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
  });

  it('refuses a body over the size limit with 413, without logging it', async () => {
    const before = sim.calls().length;
    const big = await post(
      'AWSMPEntitlementService.GetEntitlements',
      JSON.stringify({ ProductCode: 'x'.repeat(SIM_BODY_BYTES_MAX) }),
      'application/x-amz-json-1.1',
    );
    expect(big.status).toBe(413);
    expect(big.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(sim.calls()).toHaveLength(before);
    const control = await fetch(`${sim.url}/_sim/agreements`, {
      method: 'POST',
      body: 'x'.repeat(SIM_BODY_BYTES_MAX + 1),
    });
    expect(control.status).toBe(413);
  });

  it('refuses an unknown GetEntitlements filter name with InvalidParameterException', async () => {
    const response = await post(
      'AWSMPEntitlementService.GetEntitlements',
      JSON.stringify({ ProductCode: 'pc-1', Filter: { PRODUCT: ['x'] } }),
      'application/x-amz-json-1.1',
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidParameterException');
    expect(((await response.json()) as { message: string }).message).toContain('PRODUCT');
  });
});

describe('control endpoints (/_sim)', () => {
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : null,
    };
  };

  it('POST /_sim/state replaces the state the SDK sees; GET returns it', async () => {
    const replaced = await control('POST', '/_sim/state', {
      agreements: [{ ...AGREEMENT_EXPIRED, agreementId: 'agmt-http-1' }],
      entitlements: [],
      registrations: [],
    });
    expect(replaced.status).toBe(204);
    const search = await clients.agreement.send(new SearchAgreementsCommand({}));
    expect(search.agreementViewSummaries?.map((s) => s.agreementId)).toEqual(['agmt-http-1']);
    const state = await control('GET', '/_sim/state');
    expect(state.body.agreements).toHaveLength(1);
    expect(sim.state().agreements[0]?.agreementId).toBe('agmt-http-1');
  });

  it('POST /_sim/agreements, /entitlements, /registrations upsert one item', async () => {
    expect(
      (await control('POST', '/_sim/agreements', { ...AGREEMENT_EXPIRED, status: 'TERMINATED' }))
        .status,
    ).toBe(204);
    expect(
      (await control('POST', '/_sim/agreements', { ...AGREEMENT_EXPIRED, agreementId: 'agmt-new' }))
        .status,
    ).toBe(204);
    expect(sim.state().agreements.map((a) => `${a.agreementId}:${a.status}`)).toEqual([
      'agmt-active-1:ACTIVE',
      'agmt-expired-2:TERMINATED',
      'agmt-cppo-3:ACTIVE',
      'agmt-new:EXPIRED',
    ]);

    const entitlement = {
      productCode: 'pc-1',
      dimension: 'seats',
      customerIdentifier: 'cust-a',
      value: { integerValue: 20 },
    };
    expect((await control('POST', '/_sim/entitlements', entitlement)).status).toBe(204);
    const seats = await clients.entitlement.send(
      new GetEntitlementsCommand({
        ProductCode: 'pc-1',
        Filter: { CUSTOMER_IDENTIFIER: ['cust-a'], DIMENSION: ['seats'] },
      }),
    );
    expect(seats.Entitlements?.map((e) => e.Value?.IntegerValue)).toEqual([20]);

    expect(
      (
        await control('POST', '/_sim/registrations', {
          token: 'tok-http',
          customerAwsAccountId: BUYER_A,
          productCode: 'pc-9',
        })
      ).status,
    ).toBe(204);
    const resolved = await clients.metering.send(
      new ResolveCustomerCommand({ RegistrationToken: 'tok-http' }),
    );
    expect(resolved.ProductCode).toBe('pc-9');
  });

  it('POST/DELETE /_sim/faults inject and clear faults', async () => {
    expect(
      (
        await control('POST', '/_sim/faults', {
          operation: 'GetEntitlements',
          kind: 'throttle',
          times: 3,
        })
      ).status,
    ).toBe(204);
    const get = () => clients.entitlement.send(new GetEntitlementsCommand({ ProductCode: 'pc-1' }));
    expect(await rejection(get())).toBeInstanceOf(EntitlementThrottlingException);
    expect((await control('DELETE', '/_sim/faults')).status).toBe(204);
    expect((await get()).Entitlements).toHaveLength(5);
  });

  it('GET /_sim/calls and /_sim/metered report what happened', async () => {
    await clients.metering.send(
      new BatchMeterUsageCommand({
        ProductCode: 'pc-1',
        UsageRecords: [
          {
            CustomerIdentifier: 'cust-b',
            Dimension: 'calls_dim',
            Quantity: 4,
            Timestamp: new Date(CLOCK.getTime() - 3_000),
          },
        ],
      }),
    );
    const calls = await control('GET', '/_sim/calls');
    expect(calls.status).toBe(200);
    const last = calls.body.calls.at(-1);
    expect(last.operation).toBe('BatchMeterUsage');
    expect(last.input.UsageRecords[0]).toMatchObject({
      CustomerIdentifier: 'cust-b',
      Timestamp: (CLOCK.getTime() - 3_000) / 1000,
    });
    const metered = await control('GET', '/_sim/metered');
    expect(metered.body.records.at(-1)).toMatchObject({
      customerIdentifier: 'cust-b',
      dimension: 'calls_dim',
      quantity: 4,
    });
  });

  it('answers 400 with the failing path on a bad body, and leaves state untouched', async () => {
    const bad = await control('POST', '/_sim/agreements', { ...AGREEMENT_ACTIVE, status: 'LIVE' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.message).toContain('status');
    expect(bad.body.error.details[0].path).toBe('status');

    const typo = await control('POST', '/_sim/agreements', {
      ...AGREEMENT_ACTIVE,
      terms: [{ legalTerm: { documentz: [] } }],
    });
    expect(typo.status).toBe(400);

    const duplicate = await control('POST', '/_sim/state', {
      agreements: [AGREEMENT_EXPIRED, AGREEMENT_EXPIRED],
      entitlements: [],
      registrations: [],
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error.message).toContain('duplicate agreementId');

    const fault = await control('POST', '/_sim/faults', {
      operation: 'GetEntitlement',
      kind: 'throttle',
      times: 1,
    });
    expect(fault.status).toBe(400);
    expect(fault.body.error.details[0].path).toBe('operation');

    const value = await control('POST', '/_sim/entitlements', {
      productCode: 'pc-1',
      dimension: 'seats',
      customerIdentifier: 'cust-a',
      value: { integerValue: 1, stringValue: 'one' },
    });
    expect(value.status).toBe(400);

    const notJson = await control('POST', '/_sim/registrations', '{oops');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');

    expect((await control('GET', '/_sim/nothing')).status).toBe(404);
    const wrongMethod = await control('PUT', '/_sim/faults', {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, DELETE');

    expect(sim.state()).toEqual(seed());
  });

  it('the in-process API validates too', () => {
    expect(() => sim.setState({ ...seed(), registrations: [{ token: '' } as never] })).toThrow(
      AwsSimulatorInputError,
    );
    expect(() =>
      sim.injectFault({ operation: 'GetEntitlements', kind: 'throttle', times: 0 }),
    ).toThrow(/times/);
    expect(sim.state()).toEqual(seed());
  });
});

describe('lifecycle', () => {
  let other: AwsSimulator | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });

  it('starts empty on a free port and stops answering after close', async () => {
    other = await startAwsSimulator();
    expect(other.port).toBeGreaterThan(0);
    expect(other.port).not.toBe(sim.port);
    expect(other.state()).toEqual({ agreements: [], entitlements: [], registrations: [] });
    const url = other.url;
    await other.close();
    other = undefined;
    await expect(fetch(`${url}/_sim/state`)).rejects.toThrow();
  });
});
