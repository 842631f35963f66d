// Proves the AWS metering gateway's BatchMeterUsage calls with aws-sdk-client-mock: the exact input of each customer form, quantity and hour checks, every result mapping, and error translation.
import {
  BatchMeterUsageCommand,
  type BatchMeterUsageCommandInput,
  type BatchMeterUsageCommandOutput,
  MarketplaceMeteringClient,
  type UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MarketplaceUnavailableError } from '../../../../lib/app/errors';
import type { MeteringOutcome, MeteringReport } from '../../../../lib/app/metering-ports';
import type { AwsMarketplaceSettings } from '../../../../lib/marketplaces/aws/config';
import {
  AWS_METERING_QUANTITY_MAX,
  type AwsMeteringClient,
  AwsMeteringGateway,
  awsQuantity,
} from '../../../../lib/marketplaces/aws/metering-gateway';

const metering = mockClient(MarketplaceMeteringClient);

const HOUR = '2026-03-02T13:00:00.000Z';
const LICENSE_PRODUCT = 'prod-license';
const LEGACY_PRODUCT = 'prod-legacy';
const OTHER_ACCOUNT_PRODUCT = 'prod-other';
const ACCOUNT = '444455556666';
const LICENSE = 'arn:aws:license-manager::123456789012:license:l-0f1e2d3c4b5a6978';

const settings: AwsMarketplaceSettings = {
  region: 'us-east-1',
  endpoint: undefined,
  accounts: [
    {
      sellerAccountId: '111111111111',
      products: [
        { productCode: LICENSE_PRODUCT, identity: 'license' },
        { productCode: LEGACY_PRODUCT, identity: 'customer' },
      ],
    },
    {
      sellerAccountId: '222222222222',
      roleArn: 'arn:aws:iam::222222222222:role/agora-marketplace',
      products: [{ productCode: OTHER_ACCOUNT_PRODUCT, identity: 'license' }],
    },
  ],
};

function report(
  overrides: Partial<Omit<MeteringReport, 'customer'>> & {
    customer?: Partial<Extract<MeteringReport['customer'], { marketplace: 'aws' }>>;
  } = {},
): MeteringReport {
  const { customer, ...rest } = overrides;
  return {
    reportId: 'r-1',
    contractId: 'c-1',
    dimension: 'api_calls',
    hourStart: HOUR,
    quantity: '12',
    ...rest,
    customer: {
      marketplace: 'aws',
      productCode: LICENSE_PRODUCT,
      customerAwsAccountId: ACCOUNT,
      licenseArn: LICENSE,
      customerIdentifier: 'QkXa7Example1',
      ...customer,
    },
  };
}

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status },
  });
}

/** Answers every record Success with a record id derived from its dimension. */
function succeedAll(input: BatchMeterUsageCommandInput): BatchMeterUsageCommandOutput {
  return {
    Results: (input.UsageRecords ?? []).map((record) => ({
      UsageRecord: record,
      MeteringRecordId: `mr-${record.Dimension}`,
      Status: 'Success',
    })),
    UnprocessedRecords: [],
    $metadata: {},
  };
}

function sentInputs(): BatchMeterUsageCommandInput[] {
  return metering.commandCalls(BatchMeterUsageCommand).map((call) => call.args[0].input);
}

function byReport(outcomes: readonly MeteringOutcome[]): Record<string, MeteringOutcome> {
  return Object.fromEntries(outcomes.map((o) => [o.reportId, o]));
}

afterEach(() => {
  metering.reset();
});

describe('the record sent', () => {
  it('meters a license product with account + license and no ProductCode, at the hour start', async () => {
    metering.on(BatchMeterUsageCommand).callsFake(succeedAll);
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = await gateway.report([report()]);
    expect(sentInputs()).toEqual([
      {
        UsageRecords: [
          {
            Timestamp: new Date(HOUR),
            CustomerAWSAccountId: ACCOUNT,
            LicenseArn: LICENSE,
            Dimension: 'api_calls',
            Quantity: 12,
          },
        ],
      },
    ]);
    expect(outcomes).toEqual([
      { kind: 'accepted', reportId: 'r-1', marketplaceRef: 'mr-api_calls' },
    ]);
  });

  it('meters a legacy product with CustomerIdentifier and the ProductCode on the request', async () => {
    metering.on(BatchMeterUsageCommand).callsFake(succeedAll);
    const gateway = new AwsMeteringGateway(settings);
    await gateway.report([report({ customer: { productCode: LEGACY_PRODUCT } })]);
    expect(sentInputs()).toEqual([
      {
        ProductCode: LEGACY_PRODUCT,
        UsageRecords: [
          {
            Timestamp: new Date(HOUR),
            CustomerIdentifier: 'QkXa7Example1',
            Dimension: 'api_calls',
            Quantity: 12,
          },
        ],
      },
    ]);
  });

  it('picks the form of an unconfigured product from what the customer carries', async () => {
    metering.on(BatchMeterUsageCommand).callsFake(succeedAll);
    const gateway = new AwsMeteringGateway(settings);
    await gateway.report([
      report({ reportId: 'lic', customer: { productCode: 'prod-unknown' } }),
      report({
        reportId: 'leg',
        dimension: 'other',
        customer: { productCode: 'prod-unknown', licenseArn: null },
      }),
    ]);
    const inputs = sentInputs();
    expect(inputs).toHaveLength(2);
    expect(inputs).toContainEqual({
      UsageRecords: [
        expect.objectContaining({ CustomerAWSAccountId: ACCOUNT, LicenseArn: LICENSE }),
      ],
    });
    expect(inputs).toContainEqual({
      ProductCode: 'prod-unknown',
      UsageRecords: [
        expect.objectContaining({ CustomerIdentifier: 'QkXa7Example1', Dimension: 'other' }),
      ],
    });
  });

  it('refuses, without a call, a report the product form cannot meter', async () => {
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = await gateway.report([
      report({ reportId: 'no-license', customer: { licenseArn: null } }),
      report({
        reportId: 'no-legacy',
        customer: { productCode: LEGACY_PRODUCT, customerIdentifier: null },
      }),
      report({
        reportId: 'nothing',
        customer: {
          productCode: 'prod-unknown',
          customerIdentifier: null,
          customerAwsAccountId: null,
        },
      }),
      {
        ...report({ reportId: 'azure' }),
        customer: { marketplace: 'azure', subscriptionId: 's', planId: 'p' },
      },
      report({ reportId: 'mid-hour', hourStart: '2026-03-02T13:30:00.000Z' }),
    ]);
    expect(outcomes.map((o) => [o.reportId, o.kind])).toEqual([
      ['no-license', 'rejected'],
      ['no-legacy', 'rejected'],
      ['nothing', 'rejected'],
      ['azure', 'rejected'],
      ['mid-hour', 'rejected'],
    ]);
    expect(sentInputs()).toHaveLength(0);
  });

  it('sends one call per seller account and product, through one client per account', async () => {
    const created: Array<string | null> = [];
    const fake: AwsMeteringClient = {
      send: (command) => Promise.resolve(succeedAll(command.input)),
    };
    const gateway = new AwsMeteringGateway(settings, (_s, account) => {
      created.push(account?.sellerAccountId ?? null);
      return fake;
    });
    await gateway.report([
      report({ reportId: 'a' }),
      report({ reportId: 'b', customer: { productCode: OTHER_ACCOUNT_PRODUCT } }),
      report({ reportId: 'c', customer: { productCode: LEGACY_PRODUCT } }),
    ]);
    await gateway.report([report({ reportId: 'd', dimension: 'again' })]);
    expect(created).toEqual(['111111111111', '222222222222']);
  });

  it('splits a group into calls of at most 25 records', async () => {
    metering.on(BatchMeterUsageCommand).callsFake(succeedAll);
    const gateway = new AwsMeteringGateway(settings);
    const batch = Array.from({ length: 30 }, (_, i) =>
      report({ reportId: `r-${i}`, dimension: `d-${i}` }),
    );
    const outcomes = await gateway.report(batch);
    expect(sentInputs().map((input) => input.UsageRecords?.length)).toEqual([25, 5]);
    expect(outcomes.filter((o) => o.kind === 'accepted')).toHaveLength(30);
  });

  it('answers a report repeated in the batch once, and refuses another report with the same AWS key', async () => {
    metering.on(BatchMeterUsageCommand).callsFake(succeedAll);
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = await gateway.report([
      report(),
      report(),
      report({ reportId: 'r-clash', quantity: '3' }),
    ]);
    expect(outcomes.map((o) => [o.reportId, o.kind])).toEqual([
      ['r-clash', 'rejected'],
      ['r-1', 'accepted'],
    ]);
    expect(sentInputs()[0]?.UsageRecords).toHaveLength(1);
  });
});

describe('quantities', () => {
  it('sends zero and whole decimals as integers, and refuses the rest without a call', async () => {
    metering.on(BatchMeterUsageCommand).callsFake(succeedAll);
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = byReport(
      await gateway.report([
        report({ reportId: 'zero', quantity: '0', dimension: 'zero' }),
        report({ reportId: 'whole', quantity: '12.000', dimension: 'whole' }),
        report({ reportId: 'fraction', quantity: '1.5', dimension: 'fraction' }),
        report({ reportId: 'negative', quantity: '-1', dimension: 'negative' }),
        report({ reportId: 'huge', quantity: '2147483648', dimension: 'huge' }),
      ]),
    );
    expect(outcomes.zero?.kind).toBe('accepted');
    expect(outcomes.whole?.kind).toBe('accepted');
    for (const id of ['fraction', 'negative', 'huge']) expect(outcomes[id]?.kind).toBe('rejected');
    expect(sentInputs()[0]?.UsageRecords?.map((r) => [r.Dimension, r.Quantity])).toEqual([
      ['zero', 0],
      ['whole', 12],
    ]);
  });

  it('takes every 32-bit non-negative integer exactly and never rounds a fraction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: AWS_METERING_QUANTITY_MAX }), (n) => {
        expect(awsQuantity(String(n))).toEqual({ value: n });
      }),
    );
    fc.assert(
      fc.property(fc.nat(), fc.stringMatching(/^\d{0,5}[1-9]\d{0,3}$/), (whole, fraction) => {
        expect(awsQuantity(`${whole}.${fraction}`)).toHaveProperty('problem');
      }),
    );
  });
});

describe('result mapping', () => {
  it('maps Success, DuplicateRecord, CustomerNotSubscribed, UnprocessedRecords and silence', async () => {
    const record = (dimension: string): UsageRecord => ({
      Timestamp: new Date(HOUR),
      CustomerAWSAccountId: ACCOUNT,
      LicenseArn: LICENSE,
      Dimension: dimension,
      Quantity: 1,
    });
    metering.on(BatchMeterUsageCommand).resolves({
      Results: [
        { UsageRecord: record('ok'), MeteringRecordId: 'mr-ok', Status: 'Success' },
        { UsageRecord: record('dup'), MeteringRecordId: 'mr-first', Status: 'DuplicateRecord' },
        { UsageRecord: record('gone'), Status: 'CustomerNotSubscribed' },
        // Not one of ours: ignored.
        { UsageRecord: record('stranger'), MeteringRecordId: 'mr-x', Status: 'Success' },
      ],
      UnprocessedRecords: [record('later')],
    });
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = await gateway.report(
      ['ok', 'dup', 'gone', 'later', 'silent'].map((d) =>
        report({ reportId: d, dimension: d, quantity: '1' }),
      ),
    );
    expect(byReport(outcomes)).toEqual({
      ok: { kind: 'accepted', reportId: 'ok', marketplaceRef: 'mr-ok' },
      dup: { kind: 'duplicate', reportId: 'dup', marketplaceRef: 'mr-first' },
      gone: {
        kind: 'rejected',
        reportId: 'gone',
        reason: expect.stringContaining('CustomerNotSubscribed'),
      },
      later: {
        kind: 'unprocessed',
        reportId: 'later',
        reason: expect.stringContaining('UnprocessedRecords'),
      },
      silent: { kind: 'unprocessed', reportId: 'silent', reason: expect.any(String) },
    });
    expect(outcomes).toHaveLength(5);
  });
});

describe('errors', () => {
  it.each([
    ['ThrottlingException', 400],
    ['InternalServiceErrorException', 500],
    ['TimeoutError', 0],
    ['DisabledApiException', 400],
    ['AccessDeniedException', 403],
  ])('throws MarketplaceUnavailableError when %s fails the only call', async (name, status) => {
    metering.on(BatchMeterUsageCommand).rejects(sdkError(name, status));
    const gateway = new AwsMeteringGateway(settings);
    await expect(gateway.report([report()])).rejects.toBeInstanceOf(MarketplaceUnavailableError);
  });

  it('leaves a failed call unprocessed when another call of the batch was answered', async () => {
    metering.on(BatchMeterUsageCommand).callsFake((input: BatchMeterUsageCommandInput) => {
      if (input.ProductCode === LEGACY_PRODUCT) throw sdkError('ThrottlingException', 400);
      return succeedAll(input);
    });
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = byReport(
      await gateway.report([
        report({ reportId: 'fine' }),
        report({ reportId: 'throttled', customer: { productCode: LEGACY_PRODUCT } }),
      ]),
    );
    expect(outcomes.fine?.kind).toBe('accepted');
    expect(outcomes.throttled).toEqual({
      kind: 'unprocessed',
      reportId: 'throttled',
      reason: expect.stringContaining('ThrottlingException'),
    });
  });

  it.each([
    'InvalidCustomerIdentifierException',
    'InvalidProductCodeException',
    'TimestampOutOfBoundsException',
    'InvalidUsageDimensionException',
    'InvalidLicenseException',
  ])('rejects a one-record call refused with %s, with the reason', async (name) => {
    metering.on(BatchMeterUsageCommand).rejects(sdkError(name, 400));
    const gateway = new AwsMeteringGateway(settings);
    expect(await gateway.report([report()])).toEqual([
      { kind: 'rejected', reportId: 'r-1', reason: `${name}: ${name} happened` },
    ]);
  });

  it('re-sends each record alone when a call of several is refused, so only the bad one is rejected', async () => {
    metering.on(BatchMeterUsageCommand).callsFake((input: BatchMeterUsageCommandInput) => {
      const records = input.UsageRecords ?? [];
      if (records.length > 1 || records[0]?.Dimension === 'bad') {
        throw sdkError('InvalidUsageDimensionException', 400);
      }
      return succeedAll(input);
    });
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = byReport(
      await gateway.report(
        ['good-1', 'bad', 'good-2'].map((d) => report({ reportId: d, dimension: d })),
      ),
    );
    expect(outcomes['good-1']?.kind).toBe('accepted');
    expect(outcomes['good-2']?.kind).toBe('accepted');
    expect(outcomes.bad).toEqual({
      kind: 'rejected',
      reportId: 'bad',
      reason: expect.stringContaining('InvalidUsageDimensionException'),
    });
    expect(sentInputs().map((input) => input.UsageRecords?.length)).toEqual([3, 1, 1, 1]);
  });
});
