// Proves the Partner Central (ACE) gateway with aws-sdk-client-mock: the exact ListOpportunities/GetOpportunity inputs, token passing, the mapping of every CoSellOpportunity field, null on not-found, error translation, and the region pinned to us-east-1.
import {
  GetOpportunityCommand,
  type GetOpportunityCommandOutput,
  ListOpportunitiesCommand,
  PartnerCentralSellingClient,
} from '@aws-sdk/client-partnercentral-selling';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MarketplaceUnavailableError, PermanentSyncError } from '../../../../lib/app/errors';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  AWS_CONNECT_TIMEOUT_MS,
  AWS_REQUEST_TIMEOUT_MS,
  AWS_SDK_ATTEMPTS_MAX,
} from '../../../../lib/marketplaces/aws/gateway';
import {
  entityIdFromArn,
  PARTNER_CENTRAL_PAGE_SIZE_DEFAULT,
  PARTNER_CENTRAL_PAGE_SIZE_MAX,
  PARTNER_CENTRAL_REGION,
  PartnerCentralAccessDeniedError,
  partnerCentralClientConfig,
  SdkPartnerCentralGateway,
  translatePartnerCentralError,
} from '../../../../lib/marketplaces/aws/partner-central-gateway';

const partnerCentral = mockClient(PartnerCentralSellingClient);
/** A deployment outside us-east-1: the Partner Central client must ignore this region. */
const SETTINGS = { accounts: [], region: 'eu-west-1', endpoint: undefined };
const OFFER_ARN = 'arn:aws:aws-marketplace:us-east-1:999999999999:AWSMarketplace/Offer/offer-abc';
const PRODUCT_ARN =
  'arn:aws:aws-marketplace:us-east-1:999999999999:AWSMarketplace/SaaSProduct/prod-xyz';

function gateway(options: { catalog?: 'AWS' | 'Sandbox'; pageSize?: number } = {}) {
  return new SdkPartnerCentralGateway({
    settings: SETTINGS,
    account: null,
    catalog: options.catalog ?? 'AWS',
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
  });
}

function sdkError(name: string, status: number | undefined, extra: object = {}): Error {
  return Object.assign(new Error(`${name}: something AWS said`), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    ...extra,
  });
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected the call to fail, it succeeded');
}

function opportunity(
  overrides: Partial<GetOpportunityCommandOutput> = {},
): GetOpportunityCommandOutput {
  return {
    $metadata: {},
    Catalog: 'AWS',
    Id: 'O1234567',
    Arn: 'arn:aws:partnercentral:us-east-1:111122223333:catalog/AWS/opportunity/O1234567',
    PartnerOpportunityIdentifier: 'crm-42',
    CreatedDate: new Date('2026-01-05T10:00:00.000Z'),
    LastModifiedDate: new Date('2026-02-01T08:30:15.250Z'),
    Customer: {
      Account: { CompanyName: 'Acme Corp', AwsAccountId: '123456789012', Industry: 'Retail' },
      Contacts: [{ Email: 'buyer@acme.example' }],
    },
    LifeCycle: {
      Stage: 'Technical Validation',
      ReviewStatus: 'Approved',
      TargetCloseDate: '2026-06-30',
      NextSteps: 'POC',
    },
    RelatedEntityIdentifiers: {
      AwsMarketplaceOffers: [OFFER_ARN],
      AwsProducts: ['AmazonRedshift', 'AWSCleanRooms'],
      Solutions: ['S-0000001'],
      AwsMarketplaceProducts: [PRODUCT_ARN],
      AwsMarketplaceSolutions: [],
      AwsMarketplaceOfferSets: ['arn:aws:aws-marketplace:us-east-1:1:AWSMarketplace/OfferSet/os-1'],
    },
    ...overrides,
  };
}

afterEach(() => {
  partnerCentral.reset();
});

describe('listChanged', () => {
  it('asks for opportunities modified since the cursor, oldest first, one bounded page', async () => {
    partnerCentral.on(ListOpportunitiesCommand).resolves({
      OpportunitySummaries: [
        { Catalog: 'AWS', Id: 'O1', LastModifiedDate: new Date('2026-03-01T00:00:00.100Z') },
        { Catalog: 'AWS', Id: 'O2', LastModifiedDate: new Date('2026-03-01T00:00:01Z') },
      ],
      NextToken: 'page-2',
    });
    const page = await gateway().listChanged('2026-03-01T01:00:00+01:00', null);
    expect(page).toEqual({
      items: [
        { opportunityId: 'O1', lastModifiedAt: '2026-03-01T00:00:00.100Z' },
        { opportunityId: 'O2', lastModifiedAt: '2026-03-01T00:00:01.000Z' },
      ],
      nextToken: 'page-2',
    });
    const sent = partnerCentral.commandCalls(ListOpportunitiesCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([
      {
        Catalog: 'AWS',
        MaxResults: PARTNER_CENTRAL_PAGE_SIZE_DEFAULT,
        Sort: { SortBy: 'LastModifiedDate', SortOrder: 'ASCENDING' },
        LastModifiedDate: { AfterLastModifiedDate: new Date('2026-03-01T00:00:00.000Z') },
      },
    ]);
    expect(Object.keys(sent[0] ?? {})).not.toContain('NextToken');
  });

  it('sends no date filter without a cursor, and the Sandbox catalog and page size it was given', async () => {
    partnerCentral.on(ListOpportunitiesCommand).resolves({ OpportunitySummaries: [] });
    expect(await gateway({ catalog: 'Sandbox', pageSize: 7 }).listChanged(null, null)).toEqual({
      items: [],
      nextToken: null,
    });
    const [input] = partnerCentral
      .commandCalls(ListOpportunitiesCommand)
      .map((c) => c.args[0].input);
    expect(input).toEqual({
      Catalog: 'Sandbox',
      MaxResults: 7,
      Sort: { SortBy: 'LastModifiedDate', SortOrder: 'ASCENDING' },
    });
  });

  it('passes any page token through verbatim with the same filter, and returns AWS’s next one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.option(fc.string({ minLength: 1, maxLength: 200 }), { nil: undefined }),
        async (token, next) => {
          partnerCentral.reset();
          partnerCentral.on(ListOpportunitiesCommand).resolves({
            OpportunitySummaries: [],
            ...(next === undefined ? {} : { NextToken: next }),
          });
          const page = await gateway().listChanged('2026-01-01T00:00:00Z', token);
          expect(page.nextToken).toBe(next ?? null);
          const [input] = partnerCentral
            .commandCalls(ListOpportunitiesCommand)
            .map((c) => c.args[0].input);
          expect(input?.NextToken).toBe(token);
          expect(input?.LastModifiedDate?.AfterLastModifiedDate).toEqual(
            new Date('2026-01-01T00:00:00Z'),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('treats an empty token as none, and an empty NextToken answer as the last page', async () => {
    partnerCentral
      .on(ListOpportunitiesCommand)
      .resolves({ OpportunitySummaries: [], NextToken: '' });
    expect((await gateway().listChanged(null, '')).nextToken).toBeNull();
    const [input] = partnerCentral
      .commandCalls(ListOpportunitiesCommand)
      .map((c) => c.args[0].input);
    expect(Object.keys(input ?? {})).not.toContain('NextToken');
  });

  it('skips summaries without an Id or any timestamp; falls back to CreatedDate', async () => {
    partnerCentral.on(ListOpportunitiesCommand).resolves({
      OpportunitySummaries: [
        { Catalog: 'AWS', LastModifiedDate: new Date('2026-03-01T00:00:00Z') },
        { Catalog: 'AWS', Id: 'O3' },
        { Catalog: 'AWS', Id: 'O4', CreatedDate: new Date('2026-03-02T00:00:00Z') },
        { Catalog: 'AWS', Id: 'O5', LastModifiedDate: new Date(Number.NaN) },
      ],
    });
    expect((await gateway().listChanged(null, null)).items).toEqual([
      { opportunityId: 'O4', lastModifiedAt: '2026-03-02T00:00:00.000Z' },
    ]);
  });

  it('refuses a cursor that is not an instant, before calling AWS', async () => {
    const error = await rejection(gateway().listChanged('yesterday', null));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('invalid_since');
    expect(partnerCentral.commandCalls(ListOpportunitiesCommand)).toHaveLength(0);
  });

  it('translates failures: throttling is retryable, access denied and validation are permanent', async () => {
    partnerCentral.on(ListOpportunitiesCommand).rejects(sdkError('ThrottlingException', 429));
    const throttled = await rejection(gateway().listChanged(null, null));
    expect(throttled).toBeInstanceOf(MarketplaceUnavailableError);
    expect(throttled.message).toContain('ListOpportunities failed (ThrottlingException 429)');

    partnerCentral.on(ListOpportunitiesCommand).rejects(sdkError('AccessDeniedException', 403));
    const denied = await rejection(gateway().listChanged(null, null));
    expect(denied).toBeInstanceOf(PartnerCentralAccessDeniedError);
    expect((denied as PermanentSyncError).code).toBe('marketplace_access_denied');

    partnerCentral.on(ListOpportunitiesCommand).rejects(sdkError('ValidationException', 400));
    const invalid = await rejection(gateway().listChanged(null, 'stale-token'));
    expect(invalid).toBeInstanceOf(PermanentSyncError);
    expect((invalid as PermanentSyncError).code).toBe('marketplace_rejected');
  });
});

describe('get', () => {
  it('maps every field of GetOpportunity, reducing Marketplace ARNs to entity ids', async () => {
    partnerCentral.on(GetOpportunityCommand).resolves(opportunity());
    expect(await gateway().get('O1234567')).toEqual({
      opportunityId: 'O1234567',
      partnerOpportunityIdentifier: 'crm-42',
      createdAt: '2026-01-05T10:00:00.000Z',
      lastModifiedAt: '2026-02-01T08:30:15.250Z',
      stage: 'Technical Validation',
      reviewStatus: 'Approved',
      targetCloseDate: '2026-06-30',
      customer: { companyName: 'Acme Corp', awsAccountId: '123456789012' },
      offerIds: ['offer-abc'],
      productIds: ['AmazonRedshift', 'AWSCleanRooms', 'S-0000001', 'prod-xyz'],
    });
    expect(partnerCentral.commandCalls(GetOpportunityCommand).map((c) => c.args[0].input)).toEqual([
      { Catalog: 'AWS', Identifier: 'O1234567' },
    ]);
  });

  it('answers nulls and empty lists for every member AWS leaves out', async () => {
    partnerCentral.on(GetOpportunityCommand).resolves({
      $metadata: {},
      Catalog: 'Sandbox',
      Id: undefined,
      CreatedDate: new Date('2026-01-01T00:00:00Z'),
      LastModifiedDate: new Date('2026-01-01T00:00:00Z'),
      RelatedEntityIdentifiers: undefined,
      PartnerOpportunityIdentifier: '',
    });
    expect(await gateway({ catalog: 'Sandbox' }).get('O7')).toEqual({
      opportunityId: 'O7',
      partnerOpportunityIdentifier: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      lastModifiedAt: '2026-01-01T00:00:00.000Z',
      stage: null,
      reviewStatus: null,
      targetCloseDate: null,
      customer: { companyName: null, awsAccountId: null },
      offerIds: [],
      productIds: [],
    });
  });

  it('drops duplicate and empty associations, keeping the order AWS gave', async () => {
    partnerCentral.on(GetOpportunityCommand).resolves(
      opportunity({
        RelatedEntityIdentifiers: {
          AwsMarketplaceOffers: [OFFER_ARN, 'offer-abc', '', 'offer-def'],
          AwsProducts: ['S-1'],
          Solutions: ['S-1', 'S-2'],
        },
      }),
    );
    const mapped = await gateway().get('O1234567');
    expect(mapped?.offerIds).toEqual(['offer-abc', 'offer-def']);
    expect(mapped?.productIds).toEqual(['S-1', 'S-2']);
  });

  it('is null when the opportunity does not exist', async () => {
    partnerCentral
      .on(GetOpportunityCommand)
      .rejects(sdkError('ResourceNotFoundException', 404, { Message: 'not found' }));
    expect(await gateway().get('O404')).toBeNull();
  });

  it('is retryable when AWS answers without its timestamps', async () => {
    partnerCentral.on(GetOpportunityCommand).resolves(opportunity({ LastModifiedDate: undefined }));
    const error = await rejection(gateway().get('O1234567'));
    expect(error).toBeInstanceOf(MarketplaceUnavailableError);
    expect(error.message).toContain('O1234567');
  });

  it('translates throttling, 5xx, timeouts and network errors to MarketplaceUnavailableError', async () => {
    for (const error of [
      sdkError('ThrottlingException', 429),
      sdkError('InternalServerException', 500),
      sdkError('ConflictException', 409),
      sdkError('TimeoutError', undefined),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ]) {
      partnerCentral.on(GetOpportunityCommand).rejects(error);
      const translated = await rejection(gateway().get('O1'));
      expect(translated).toBeInstanceOf(MarketplaceUnavailableError);
      expect(translated.cause).toBe(error);
    }
  });

  it('translates AccessDeniedException to the typed permanent error', async () => {
    const cause = sdkError('AccessDeniedException', 403, { Reason: 'ACCESS_DENIED' });
    partnerCentral.on(GetOpportunityCommand).rejects(cause);
    const error = await rejection(gateway().get('O1'));
    expect(error).toBeInstanceOf(PartnerCentralAccessDeniedError);
    expect(error).toBeInstanceOf(PermanentSyncError);
    expect(error.message).toContain('GetOpportunity: access denied');
    expect(error.cause).toBe(cause);
  });
});

describe('translatePartnerCentralError', () => {
  it('classifies by name, then by status, and leaves translated errors alone', () => {
    expect(
      translatePartnerCentralError(sdkError('Whatever', 403), 'GetOpportunity'),
    ).toBeInstanceOf(PartnerCentralAccessDeniedError);
    const quota = translatePartnerCentralError(
      sdkError('ServiceQuotaExceededException', 402),
      'ListOpportunities',
    );
    expect((quota as PermanentSyncError).code).toBe('marketplace_rejected');
    expect(translatePartnerCentralError(sdkError('Boom', 503), 'GetOpportunity')).toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    const already = new MarketplaceUnavailableError('already');
    expect(translatePartnerCentralError(already, 'GetOpportunity')).toBe(already);
  });
});

describe('entityIdFromArn', () => {
  it('keeps the last path segment of any ARN and leaves other identifiers alone', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/);
    fc.assert(
      fc.property(
        segment,
        segment,
        fc.constantFrom('Offer', 'SaaSProduct', 'OfferSet'),
        (account, id, type) => {
          expect(
            entityIdFromArn(
              `arn:aws:aws-marketplace:us-east-1:${account}:AWSMarketplace/${type}/${id}`,
            ),
          ).toBe(id);
          expect(entityIdFromArn(id)).toBe(id);
        },
      ),
    );
    expect(entityIdFromArn('arn:aws:aws-marketplace:us-east-1:1:AWSMarketplace/Offer/')).toBe(
      'arn:aws:aws-marketplace:us-east-1:1:AWSMarketplace/Offer/',
    );
  });
});

describe('client configuration', () => {
  it('pins the region to us-east-1 whatever the settings say, keeping timeouts and retries', async () => {
    const config = partnerCentralClientConfig(
      { accounts: [], region: 'ap-southeast-2', endpoint: 'http://127.0.0.1:4566' },
      null,
    );
    expect(config).toMatchObject({
      region: PARTNER_CENTRAL_REGION,
      endpoint: 'http://127.0.0.1:4566',
      credentials: { accessKeyId: 'agoralocal', secretAccessKey: 'agoralocal' },
      maxAttempts: AWS_SDK_ATTEMPTS_MAX,
      retryMode: 'standard',
      requestHandler: {
        requestTimeout: AWS_REQUEST_TIMEOUT_MS,
        connectionTimeout: AWS_CONNECT_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    });
    expect(PARTNER_CENTRAL_REGION).toBe('us-east-1');
    // The client the gateway builds really uses it.
    let region: string | null = null;
    partnerCentral.on(GetOpportunityCommand).callsFake(async (_input, getClient) => {
      region = await getClient().config.region();
      return opportunity();
    });
    await gateway().get('O1234567');
    expect(region).toBe('us-east-1');
  });

  it('assumes the account role in AWS', () => {
    const withRole = partnerCentralClientConfig(SETTINGS, {
      sellerAccountId: '123456789012',
      roleArn: 'arn:aws:iam::123456789012:role/agora-partner-central',
      products: [],
    });
    expect(typeof withRole.credentials).toBe('function');
    expect(withRole).not.toHaveProperty('endpoint');
    expect(withRole.region).toBe('us-east-1');
  });

  it('refuses an unknown catalog and page sizes outside 1..max', () => {
    expect(() => gateway({ catalog: 'Prod' as never })).toThrow(RangeError);
    for (const pageSize of [0, PARTNER_CENTRAL_PAGE_SIZE_MAX + 1, 2.5]) {
      expect(() => gateway({ pageSize })).toThrow(RangeError);
    }
    expect(() => gateway({ pageSize: PARTNER_CENTRAL_PAGE_SIZE_MAX })).not.toThrow();
  });
});
