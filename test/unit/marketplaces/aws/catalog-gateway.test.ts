// Proves the Catalog gateway with aws-sdk-client-mock: the exact inputs sent, response mapping, the translation of every AWS error class, null on not-found, client config, and client-side pacing with a fake clock.
import {
  DescribeChangeSetCommand,
  DescribeEntityCommand,
  MarketplaceCatalogClient,
  StartChangeSetCommand,
} from '@aws-sdk/client-marketplace-catalog';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, MarketplaceUnavailableError } from '../../../../lib/app/errors';
import { InvalidInputError } from '../../../../lib/domain/errors';
import {
  AwsCatalogGatewayRegistry,
  CATALOG_RATE_PER_SECOND,
  CATALOG_RATE_WAIT_MAX_MS,
  CatalogEntityBusyError,
  CatalogRequestRejectedError,
  catalogClientConfig,
  type RateClock,
  SdkAwsCatalogGateway,
  TokenBucket,
  translateCatalogError,
} from '../../../../lib/marketplaces/aws/catalog-gateway';
import type { CatalogChange } from '../../../../lib/marketplaces/aws/catalog-types';
import {
  AWS_CONNECT_TIMEOUT_MS,
  AWS_REQUEST_TIMEOUT_MS,
  AWS_SDK_ATTEMPTS_MAX,
} from '../../../../lib/marketplaces/aws/gateway';

const catalog = mockClient(MarketplaceCatalogClient);
const SETTINGS = { accounts: [], region: 'us-east-1', endpoint: undefined };

/** A clock that only moves when told to; `sleep` advances it (a caller that waits). */
class FakeClock implements RateClock {
  time = 1_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
  }
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

const REF = '$CreateOfferChange.Entity.Identifier';
const CHANGES: CatalogChange[] = [
  {
    ChangeType: 'CreateOffer',
    ChangeName: 'CreateOfferChange',
    Entity: { Type: 'Offer@1.0' },
    DetailsDocument: { ProductId: 'prod-abc123', Name: 'Acme 3-year' },
  },
  {
    ChangeType: 'UpdateTargeting',
    Entity: { Type: 'Offer@1.0', Identifier: REF },
    DetailsDocument: { PositiveTargeting: { BuyerAccounts: ['111122223333'] } },
  },
  {
    ChangeType: 'ReleaseOffer',
    Entity: { Type: 'Offer@1.0', Identifier: REF },
    DetailsDocument: {},
  },
];

afterEach(() => {
  catalog.reset();
});

describe('startChangeSet', () => {
  it('sends the catalog, DetailsDocument objects, the token and the name', async () => {
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs-1', ChangeSetArn: 'arn:cs-1' });
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null);
    const started = await gateway.startChangeSet({
      changes: CHANGES,
      clientRequestToken: 'tok-1',
      changeSetName: 'agora-offer-of_123',
    });
    expect(started).toEqual({ changeSetId: 'cs-1', changeSetArn: 'arn:cs-1' });
    const sent = catalog.commandCalls(StartChangeSetCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([
      {
        Catalog: 'AWSMarketplace',
        ClientRequestToken: 'tok-1',
        ChangeSetName: 'agora-offer-of_123',
        ChangeSet: [
          {
            ChangeType: 'CreateOffer',
            ChangeName: 'CreateOfferChange',
            Entity: { Type: 'Offer@1.0' },
            DetailsDocument: { ProductId: 'prod-abc123', Name: 'Acme 3-year' },
          },
          {
            ChangeType: 'UpdateTargeting',
            Entity: { Type: 'Offer@1.0', Identifier: REF },
            DetailsDocument: { PositiveTargeting: { BuyerAccounts: ['111122223333'] } },
          },
          {
            ChangeType: 'ReleaseOffer',
            Entity: { Type: 'Offer@1.0', Identifier: REF },
            DetailsDocument: {},
          },
        ],
      },
    ]);
    // No Details string and no undefined members travel.
    for (const change of sent[0]?.ChangeSet ?? []) {
      expect(Object.keys(change)).not.toContain('Details');
      expect(Object.values(change)).not.toContain(undefined);
    }
  });

  it('answers a null ARN when AWS gives none, and fails retryably without a ChangeSetId', async () => {
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null);
    const input = { changes: CHANGES, clientRequestToken: 't', changeSetName: 'n' };
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs-2' });
    expect(await gateway.startChangeSet(input)).toEqual({
      changeSetId: 'cs-2',
      changeSetArn: null,
    });
    catalog.reset();
    catalog.on(StartChangeSetCommand).resolves({});
    expect(await rejection(gateway.startChangeSet(input))).toBeInstanceOf(
      MarketplaceUnavailableError,
    );
  });
});

describe('describeChangeSet', () => {
  it('asks with the catalog and id and maps the answer (ISO times, errors, bare entity ids)', async () => {
    catalog.on(DescribeChangeSetCommand).resolves({
      ChangeSetId: 'cs-1',
      ChangeSetArn: 'arn:cs-1',
      Status: 'FAILED',
      FailureCode: 'CLIENT_ERROR',
      FailureDescription: 'One or more changes failed validation.',
      StartTime: '2026-03-01T11:00:00Z',
      EndTime: '2026-03-01T11:01:40Z',
      ChangeSet: [
        {
          ChangeType: 'CreateOffer',
          ChangeName: 'CreateOfferChange',
          Entity: { Type: 'Offer@1.0', Identifier: 'offer-abc@1' },
          ErrorDetailList: [],
        },
        {
          ChangeType: 'UpdatePaymentScheduleTerms',
          Entity: { Type: 'Offer@1.0', Identifier: 'offer-abc' },
          ErrorDetailList: [
            { ErrorCode: 'TOO_MANY_BACKDATED_CHARGES', ErrorMessage: 'Provide up to 1.' },
          ],
        },
        { ChangeType: 'ReleaseOffer' },
      ],
    });
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null);
    const described = await gateway.describeChangeSet('cs-1');
    expect(catalog.commandCalls(DescribeChangeSetCommand)[0]?.args[0].input).toEqual({
      Catalog: 'AWSMarketplace',
      ChangeSetId: 'cs-1',
    });
    expect(described).toEqual({
      changeSetId: 'cs-1',
      changeSetArn: 'arn:cs-1',
      status: 'FAILED',
      failureCode: 'CLIENT_ERROR',
      failureDescription: 'One or more changes failed validation.',
      startTime: '2026-03-01T11:00:00.000Z',
      endTime: '2026-03-01T11:01:40.000Z',
      changes: [
        {
          changeType: 'CreateOffer',
          changeName: 'CreateOfferChange',
          entityType: 'Offer@1.0',
          entityId: 'offer-abc',
          errors: [],
        },
        {
          changeType: 'UpdatePaymentScheduleTerms',
          changeName: null,
          entityType: 'Offer@1.0',
          entityId: 'offer-abc',
          errors: [{ code: 'TOO_MANY_BACKDATED_CHARGES', message: 'Provide up to 1.' }],
        },
        {
          changeType: 'ReleaseOffer',
          changeName: null,
          entityType: null,
          entityId: null,
          errors: [],
        },
      ],
    });
  });

  it('maps an open change set with nulls for what AWS has not said yet', async () => {
    catalog.on(DescribeChangeSetCommand).resolves({ Status: 'PREPARING', StartTime: 'garbage' });
    const described = await new SdkAwsCatalogGateway(SETTINGS, null).describeChangeSet('cs-9');
    expect(described).toMatchObject({
      changeSetId: 'cs-9',
      changeSetArn: null,
      status: 'PREPARING',
      failureCode: null,
      failureDescription: null,
      startTime: null,
      endTime: null,
      changes: [],
    });
  });

  it('is null for an unknown change set and retryable for an answer without a known status', async () => {
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null);
    catalog.on(DescribeChangeSetCommand).rejects(sdkError('ResourceNotFoundException', 404));
    expect(await gateway.describeChangeSet('cs-missing')).toBeNull();
    catalog.reset();
    catalog
      .on(DescribeChangeSetCommand)
      .resolves({ ChangeSetId: 'cs-1', Status: 'EXPLODED' as never });
    expect(await rejection(gateway.describeChangeSet('cs-1'))).toBeInstanceOf(
      MarketplaceUnavailableError,
    );
  });
});

describe('describeEntity', () => {
  it('prefers DetailsDocument, strips the revision and normalises the date', async () => {
    catalog.on(DescribeEntityCommand).resolves({
      EntityType: 'Offer@1.0',
      EntityIdentifier: 'offer-abc@3',
      EntityArn: 'arn:offer-abc',
      LastModifiedDate: '2026-03-01T10:04:31Z',
      DetailsDocument: { Id: 'offer-abc', State: 'Released' },
      Details: '{"Id":"from-the-string"}',
    });
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null);
    expect(await gateway.describeEntity('offer-abc')).toEqual({
      entityId: 'offer-abc',
      entityType: 'Offer@1.0',
      entityArn: 'arn:offer-abc',
      lastModified: '2026-03-01T10:04:31.000Z',
      details: { Id: 'offer-abc', State: 'Released' },
    });
    expect(catalog.commandCalls(DescribeEntityCommand)[0]?.args[0].input).toEqual({
      Catalog: 'AWSMarketplace',
      EntityId: 'offer-abc',
    });
  });

  it('parses the Details string when there is no DetailsDocument', async () => {
    catalog.on(DescribeEntityCommand).resolves({
      EntityType: 'ResaleAuthorization@1.0',
      Details: '{"Id":"resaleauthz-1","Status":"Active"}',
    });
    const described = await new SdkAwsCatalogGateway(SETTINGS, null).describeEntity(
      'resaleauthz-1',
    );
    expect(described).toEqual({
      entityId: 'resaleauthz-1',
      entityType: 'ResaleAuthorization@1.0',
      entityArn: null,
      lastModified: null,
      details: { Id: 'resaleauthz-1', Status: 'Active' },
    });
  });

  it('is null for an unknown entity; unusable Details are retryable', async () => {
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null);
    catalog.on(DescribeEntityCommand).rejects(sdkError('ResourceNotFoundException', 404));
    expect(await gateway.describeEntity('offer-missing')).toBeNull();
    for (const Details of ['{not json', '[1,2]']) {
      catalog.reset();
      catalog.on(DescribeEntityCommand).resolves({ EntityType: 'Offer@1.0', Details });
      expect(await rejection(gateway.describeEntity('offer-x'))).toBeInstanceOf(
        MarketplaceUnavailableError,
      );
    }
  });
});

describe('error translation', () => {
  const cases: ReadonlyArray<{
    readonly name: string;
    readonly status: number | undefined;
    readonly kind: 'unavailable' | 'busy' | 'rejected' | 'denied';
  }> = [
    { name: 'ThrottlingException', status: 429, kind: 'unavailable' },
    { name: 'InternalServiceException', status: 500, kind: 'unavailable' },
    { name: 'ServiceUnavailable', status: 503, kind: 'unavailable' },
    { name: 'TimeoutError', status: undefined, kind: 'unavailable' },
    { name: 'Error', status: undefined, kind: 'unavailable' },
    { name: 'ResourceInUseException', status: 423, kind: 'busy' },
    { name: 'ValidationException', status: 422, kind: 'rejected' },
    { name: 'SomethingNew', status: 422, kind: 'rejected' },
    { name: 'ResourceNotFoundException', status: 404, kind: 'rejected' },
    { name: 'ServiceQuotaExceededException', status: 402, kind: 'rejected' },
    { name: 'ResourceNotSupportedException', status: 415, kind: 'rejected' },
    { name: 'AccessDeniedException', status: 403, kind: 'denied' },
  ];

  it.each(cases)('StartChangeSet $name ($status) → $kind', async ({ name, status, kind }) => {
    const cause = sdkError(name, status);
    catalog.on(StartChangeSetCommand).rejects(cause);
    const error = await rejection(
      new SdkAwsCatalogGateway(SETTINGS, null).startChangeSet({
        changes: CHANGES,
        clientRequestToken: 't',
        changeSetName: 'n',
      }),
    );
    expect(error.cause).toBe(cause);
    switch (kind) {
      case 'unavailable':
        expect(error).toBeInstanceOf(MarketplaceUnavailableError);
        expect((error as MarketplaceUnavailableError).code).toBe('marketplace_unavailable');
        break;
      case 'busy':
        expect(error).toBeInstanceOf(CatalogEntityBusyError);
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).code).toBe('marketplace_entity_busy');
        expect(error.message).toContain('something AWS said');
        break;
      case 'rejected':
      case 'denied':
        expect(error).toBeInstanceOf(CatalogRequestRejectedError);
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).code).toBe(
          kind === 'denied' ? 'marketplace_access_denied' : 'marketplace_rejected',
        );
        expect(error.message).toContain('something AWS said');
        break;
    }
  });

  it('translates the describes the same way, except that not-found is null', async () => {
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null);
    const expectations = [
      ['ThrottlingException', 429, MarketplaceUnavailableError],
      ['AccessDeniedException', 403, CatalogRequestRejectedError],
      ['ValidationException', 422, CatalogRequestRejectedError],
      ['InternalServiceException', 500, MarketplaceUnavailableError],
    ] as const;
    for (const [name, status, type] of expectations) {
      catalog.reset();
      catalog.on(DescribeChangeSetCommand).rejects(sdkError(name, status));
      catalog.on(DescribeEntityCommand).rejects(sdkError(name, status));
      expect(await rejection(gateway.describeChangeSet('cs-1'))).toBeInstanceOf(type);
      expect(await rejection(gateway.describeEntity('offer-1'))).toBeInstanceOf(type);
    }
  });

  it("keeps ValidationException's field list as error details", () => {
    const error = translateCatalogError(
      sdkError('ValidationException', 422, {
        ValidationExceptionFieldList: [
          {
            Reason: 'FieldValidationFailed',
            Field: 'ChangeSet[1].DetailsDocument.Terms',
            Message: 'must hold exactly one PaymentScheduleTerm',
          },
          { ChangeType: 'UpdateTargeting' },
        ],
      }),
      'StartChangeSet',
    );
    expect(error).toBeInstanceOf(CatalogRequestRejectedError);
    expect((error as CatalogRequestRejectedError).details).toEqual([
      {
        path: 'ChangeSet[1].DetailsDocument.Terms',
        code: 'FieldValidationFailed',
        message: 'must hold exactly one PaymentScheduleTerm',
      },
      { path: 'UpdateTargeting', code: 'FieldValidationFailed', message: '' },
    ]);
  });
});

describe('client configuration', () => {
  it('talks to a local endpoint with fixed credentials, bounded retries and real timeouts', () => {
    const config = catalogClientConfig(
      { accounts: [], region: 'us-east-1', endpoint: 'http://127.0.0.1:4566' },
      null,
    );
    expect(config).toMatchObject({
      region: 'us-east-1',
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
  });

  it('assumes the account role in AWS, and uses the default chain without one', () => {
    const withRole = catalogClientConfig(SETTINGS, {
      sellerAccountId: '123456789012',
      roleArn: 'arn:aws:iam::123456789012:role/agora-catalog',
      products: [],
    });
    expect(typeof withRole.credentials).toBe('function');
    expect(withRole).not.toHaveProperty('endpoint');
    const plain = catalogClientConfig(SETTINGS, {
      sellerAccountId: '123456789012',
      products: [],
    });
    expect(plain).not.toHaveProperty('credentials');
  });
});

describe('TokenBucket', () => {
  it('lets a burst of `capacity` through, then spaces callers 1/rate apart in arrival order', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(5, 5, clock);
    await Promise.all(Array.from({ length: 8 }, () => bucket.take()));
    expect(clock.sleeps).toEqual([200, 400, 600]);
  });

  it('refills with time, never beyond capacity', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    for (let i = 0; i < 10; i += 1) await bucket.take();
    clock.time += 300; // three tokens back
    for (let i = 0; i < 3; i += 1) await bucket.take();
    expect(clock.sleeps).toEqual([]);
    await bucket.take();
    expect(clock.sleeps).toEqual([100]);
    clock.time += 3_600_000; // an hour idle still allows only one burst
    clock.sleeps.length = 0;
    for (let i = 0; i < 11; i += 1) await bucket.take();
    expect(clock.sleeps).toHaveLength(1);
  });

  it('refuses (retryably, without taking a slot) a wait longer than the maximum', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1, 1, clock, 1_500);
    await bucket.take();
    await bucket.take(); // waits 1000 ms
    expect(await rejection(bucket.take())).toBeInstanceOf(MarketplaceUnavailableError);
    clock.time += 2_000;
    await bucket.take();
    expect(clock.sleeps).toEqual([1_000]);
  });

  it('never admits more than capacity + rate × window in any window (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 60 }),
        async (rate, capacity, gaps) => {
          const clock = new FakeClock();
          // A caller that sleeps moves the clock on by that long.
          clock.sleep = async (ms: number) => {
            clock.sleeps.push(ms);
            clock.time += ms;
          };
          const bucket = new TokenBucket(rate, capacity, clock, Number.POSITIVE_INFINITY);
          const admitted: number[] = [];
          for (const gap of gaps) {
            clock.time += gap;
            await bucket.take();
            admitted.push(clock.time);
          }
          for (let i = 0; i < admitted.length; i += 1) {
            for (let j = i; j < admitted.length; j += 1) {
              const window = (admitted[j] ?? 0) - (admitted[i] ?? 0);
              // +1 ms of slack per window for the ceil() of each wait.
              expect(j - i + 1).toBeLessThanOrEqual(capacity + (rate * (window + 1)) / 1000 + 1e-9);
            }
          }
          // Callers spaced at least 1/rate apart never wait.
          if (gaps.every((g) => g >= 1000 / rate)) expect(clock.sleeps).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a rate or capacity that could never admit anyone', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0)).toThrow(RangeError);
  });
});

describe('pacing in the gateway', () => {
  it('paces each operation at its own documented quota', async () => {
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs' });
    catalog.on(DescribeChangeSetCommand).resolves({ Status: 'SUCCEEDED' });
    catalog.on(DescribeEntityCommand).resolves({ EntityType: 'Offer@1.0' });
    const clock = new FakeClock();
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null, { clock });
    const input = { changes: CHANGES, clientRequestToken: 't', changeSetName: 'n' };
    const burst = (n: number, call: () => Promise<unknown>) =>
      Promise.all(Array.from({ length: n }, call));

    await burst(CATALOG_RATE_PER_SECOND.DescribeEntity, () => gateway.describeEntity('o'));
    await burst(CATALOG_RATE_PER_SECOND.DescribeChangeSet, () => gateway.describeChangeSet('c'));
    await burst(CATALOG_RATE_PER_SECOND.StartChangeSet, () => gateway.startChangeSet(input));
    expect(clock.sleeps).toEqual([]); // each operation has its own full bucket

    await gateway.describeEntity('o');
    await gateway.describeChangeSet('c');
    await gateway.startChangeSet(input);
    expect(clock.sleeps).toEqual([1000 / 20, 1000 / 10, 1000 / 5]);
    expect(catalog.commandCalls(StartChangeSetCommand)).toHaveLength(6);
  });

  it('gives up with MarketplaceUnavailableError instead of queueing past the wait limit', async () => {
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs' });
    const clock = new FakeClock();
    const gateway = new SdkAwsCatalogGateway(SETTINGS, null, { clock });
    const input = { changes: CHANGES, clientRequestToken: 't', changeSetName: 'n' };
    const admitted = 5 + (CATALOG_RATE_WAIT_MAX_MS / 1000) * 5;
    const results = await Promise.allSettled(
      Array.from({ length: admitted + 3 }, () => gateway.startChangeSet(input)),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(MarketplaceUnavailableError);
    }
    expect(catalog.commandCalls(StartChangeSetCommand)).toHaveLength(admitted);
  });
});

describe('AwsCatalogGatewayRegistry', () => {
  it('builds one gateway per seller account, once', () => {
    const created: Array<string | null> = [];
    const registry = new AwsCatalogGatewayRegistry(SETTINGS, (_settings, account) => {
      created.push(account?.sellerAccountId ?? null);
      return new SdkAwsCatalogGateway(SETTINGS, account);
    });
    const a = { sellerAccountId: '111111111111', products: [] };
    const b = { sellerAccountId: '222222222222', products: [] };
    expect(registry.forAccount(a)).toBe(registry.forAccount({ ...a }));
    expect(registry.forAccount(b)).not.toBe(registry.forAccount(a));
    expect(registry.forAccount(null)).toBe(registry.forAccount(null));
    expect(created).toEqual(['111111111111', '222222222222', null]);
    expect(registry.accountSettings).toBe(SETTINGS);
  });
});
