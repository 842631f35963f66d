// Proves the three real metering gateways against the local AWS, Azure and GCP simulators over HTTP: accepted usage, a resent report counted once by the marketplace, late usage refused, partial failures retried, throttling recovered, and zero quantities sent to AWS but kept from Azure.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MarketplaceUnavailableError } from '../../../lib/app/errors';
import type { MeteringOutcome, MeteringReport } from '../../../lib/app/metering-ports';
import { type AwsSimulator, startAwsSimulator } from '../../../lib/local/simulators/aws-simulator';
import {
  type AzureSimulator,
  type AzureSimulatorStateInput,
  MARKETPLACE_SCOPE,
  startAzureSimulator,
} from '../../../lib/local/simulators/azure-simulator';
import {
  type GcpSimulator,
  type GcpSimulatorState,
  startGcpSimulator,
} from '../../../lib/local/simulators/gcp-simulator';
import type { AwsMarketplaceSettings } from '../../../lib/marketplaces/aws/config';
import { AwsMeteringGateway } from '../../../lib/marketplaces/aws/metering-gateway';
import { AzureMeteringGateway } from '../../../lib/marketplaces/azure/metering-gateway';
import { azureClientCredentialsToken } from '../../../lib/marketplaces/azure/offer-publisher';
import { GcpMeteringGateway, operationIdFor } from '../../../lib/marketplaces/gcp/metering-gateway';

const HOUR_MS = 3_600_000;
/** The hour reported in most tests, and a clock five minutes after it closed. */
const HOUR = '2026-03-02T13:00:00.000Z';
const FLUSH_TIME = Date.parse(HOUR) + HOUR_MS + 5 * 60_000;
let clockMs = FLUSH_TIME;
const clock = () => new Date(clockMs);

let aws: AwsSimulator;
let azure: AzureSimulator;
let gcp: GcpSimulator;

beforeAll(async () => {
  [aws, azure, gcp] = await Promise.all([
    startAwsSimulator({ now: clock }),
    startAzureSimulator({ now: clock }),
    startGcpSimulator({ now: clock }),
  ]);
});

afterAll(async () => {
  await Promise.all([aws?.close(), azure?.close(), gcp?.close()]);
});

beforeEach(() => {
  clockMs = FLUSH_TIME;
});

function kinds(outcomes: readonly MeteringOutcome[]): Record<string, MeteringOutcome['kind']> {
  return Object.fromEntries(outcomes.map((o) => [o.reportId, o.kind]));
}

function byReport(outcomes: readonly MeteringOutcome[]): Record<string, MeteringOutcome> {
  return Object.fromEntries(outcomes.map((o) => [o.reportId, o]));
}

// -------------------------------------------------------------------------------------------
// AWS
// -------------------------------------------------------------------------------------------

describe('AWS BatchMeterUsage', () => {
  const SELLER = '111111111111';
  const LICENSE_PRODUCT = 'prod-license-01';
  const LEGACY_PRODUCT = 'prod-legacy-01';
  const BUYER = '444455556666';
  const LICENSE = 'arn:aws:license-manager::111111111111:license:l-0f1e2d3c4b5a6978';
  const LEGACY_CUSTOMER = 'QkXa7Example1';
  let settings: AwsMarketplaceSettings;

  beforeAll(() => {
    settings = {
      region: 'us-east-1',
      endpoint: aws.url,
      accounts: [
        {
          sellerAccountId: SELLER,
          products: [
            { productCode: LICENSE_PRODUCT, identity: 'license' },
            { productCode: LEGACY_PRODUCT, identity: 'customer' },
          ],
        },
      ],
    };
    aws.setState({
      agreements: [],
      registrations: [],
      entitlements: [
        {
          productCode: LICENSE_PRODUCT,
          dimension: 'seats',
          customerAwsAccountId: BUYER,
          licenseArn: LICENSE,
          value: { integerValue: 10 },
        },
        {
          productCode: LEGACY_PRODUCT,
          dimension: 'seats',
          customerIdentifier: LEGACY_CUSTOMER,
          value: { integerValue: 10 },
        },
      ],
    });
  });

  beforeEach(() => {
    aws.clearFaults();
  });

  function report(
    reportId: string,
    dimension: string,
    quantity: string,
    legacy = false,
  ): MeteringReport {
    return {
      reportId,
      contractId: `aws-${reportId}`,
      dimension,
      hourStart: HOUR,
      quantity,
      customer: {
        marketplace: 'aws',
        productCode: legacy ? LEGACY_PRODUCT : LICENSE_PRODUCT,
        customerAwsAccountId: BUYER,
        licenseArn: LICENSE,
        customerIdentifier: LEGACY_CUSTOMER,
      },
    };
  }

  const metered = (dimension: string) =>
    aws.meteredRecords().filter((r) => r.dimension === dimension);

  it('accepts a license-form and a legacy-form record, and zero as a quantity', async () => {
    const gateway = new AwsMeteringGateway(settings);
    const outcomes = byReport(
      await gateway.report([
        report('lic', 'aws-accepted', '12'),
        report('leg', 'aws-accepted-legacy', '7', true),
        report('zero', 'aws-zero', '0'),
      ]),
    );
    expect(outcomes.lic?.kind).toBe('accepted');
    expect(outcomes.leg?.kind).toBe('accepted');
    expect(outcomes.zero?.kind).toBe('accepted');
    expect(metered('aws-accepted')).toEqual([
      expect.objectContaining({
        productCode: null,
        customerAwsAccountId: BUYER,
        licenseArn: LICENSE,
        customerIdentifier: null,
        quantity: 12,
        timestamp: HOUR,
      }),
    ]);
    expect(metered('aws-accepted-legacy')).toEqual([
      expect.objectContaining({
        productCode: LEGACY_PRODUCT,
        customerIdentifier: LEGACY_CUSTOMER,
        quantity: 7,
      }),
    ]);
    expect(metered('aws-zero')).toEqual([expect.objectContaining({ quantity: 0 })]);
    expect(outcomes.lic).toEqual({
      kind: 'accepted',
      reportId: 'lic',
      marketplaceRef: metered('aws-accepted')[0]?.meteringRecordId,
    });
  });

  it('counts a resent report once: the same record id, one metered record', async () => {
    const gateway = new AwsMeteringGateway(settings);
    const [first] = await gateway.report([report('again', 'aws-resend', '5')]);
    const [second] = await new AwsMeteringGateway(settings).report([
      report('again', 'aws-resend', '5'),
    ]);
    expect(first?.kind).toBe('accepted');
    expect(second).toEqual(first);
    expect(metered('aws-resend')).toHaveLength(1);
    // The same customer, dimension and hour with another quantity: AWS keeps the first.
    const [changed] = await gateway.report([report('again', 'aws-resend', '6')]);
    expect(changed?.kind).toBe('duplicate');
    expect(metered('aws-resend')).toEqual([expect.objectContaining({ quantity: 5 })]);
  });

  it('rejects usage older than the window (TimestampOutOfBounds)', async () => {
    clockMs = Date.parse(HOUR) + 7 * HOUR_MS;
    const outcomes = await new AwsMeteringGateway(settings).report([
      report('late', 'aws-late', '3'),
    ]);
    expect(outcomes).toEqual([
      {
        kind: 'rejected',
        reportId: 'late',
        reason: expect.stringContaining('TimestampOutOfBoundsException'),
      },
    ]);
    expect(metered('aws-late')).toHaveLength(0);
  });

  it('maps a partial failure per record, and UnprocessedRecords are sent again later', async () => {
    const gateway = new AwsMeteringGateway(settings);
    const stranger: MeteringReport = {
      ...report('stranger', 'aws-partial', '2'),
      customer: {
        marketplace: 'aws',
        productCode: LICENSE_PRODUCT,
        customerAwsAccountId: '999999999999',
        licenseArn: 'arn:aws:license-manager::111111111111:license:l-unknown',
        customerIdentifier: null,
      },
    };
    expect(kinds(await gateway.report([report('mine', 'aws-partial', '4'), stranger]))).toEqual({
      mine: 'accepted',
      stranger: 'rejected',
    });
    aws.injectFault({ operation: 'BatchMeterUsage', kind: 'empty', times: 1 });
    const held = report('held', 'aws-unprocessed', '8');
    expect(kinds(await gateway.report([held]))).toEqual({ held: 'unprocessed' });
    expect(metered('aws-unprocessed')).toHaveLength(0);
    expect(kinds(await gateway.report([held]))).toEqual({ held: 'accepted' });
    expect(metered('aws-unprocessed')).toHaveLength(1);
  });

  it('rides out throttling with the SDK retries, and throws once they are spent', async () => {
    const gateway = new AwsMeteringGateway(settings);
    aws.injectFault({ operation: 'BatchMeterUsage', kind: 'throttle', times: 1 });
    expect(kinds(await gateway.report([report('t1', 'aws-throttled', '1')]))).toEqual({
      t1: 'accepted',
    });
    aws.injectFault({ operation: 'BatchMeterUsage', kind: 'server-error', times: 3 });
    await expect(gateway.report([report('t2', 'aws-down', '1')])).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    expect(metered('aws-down')).toHaveLength(0);
  });
});

// -------------------------------------------------------------------------------------------
// Azure
// -------------------------------------------------------------------------------------------

describe('Azure batchUsageEvent', () => {
  const TENANT = 'd2a7b8c0-1f3e-4a5b-9c6d-7e8f90a1b2c3';
  const APP = '8a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b';
  const SECRET = 'app-secret';
  const ACTIVE = '37f9dea2-4345-438f-b0bd-03d40d28c7ba';
  const SUSPENDED = 'b1c2d3e4-0000-4f5a-8b6c-000000000202';
  const sleeps: number[] = [];

  function subscription(id: string, status: 'Subscribed' | 'Suspended') {
    const party = { emailId: 'buyer@contoso.example', objectId: id, tenantId: TENANT, puid: '1' };
    return {
      id,
      name: `sub ${id}`,
      publisherId: 'contoso',
      offerId: 'offer-metered',
      planId: 'gold-monthly',
      quantity: null,
      beneficiary: party,
      purchaser: party,
      allowedCustomerOperations: ['Read' as const],
      sessionMode: 'None',
      isFreeTrial: false,
      isTest: false,
      sandboxType: 'None',
      saasSubscriptionStatus: status,
      term: {
        startDate: '2026-03-01T00:00:00.000Z',
        endDate: '2026-04-01T00:00:00.000Z',
        termUnit: 'P1M' as const,
        chargeDuration: null,
      },
      autoRenew: true,
      created: '2026-03-01T00:00:00.000Z',
      lastModified: '2026-03-01T00:00:00.000Z',
    };
  }

  beforeAll(() => {
    const state: AzureSimulatorStateInput = {
      publisherId: 'contoso',
      apps: [{ tenantId: TENANT, clientId: APP, clientSecret: SECRET }],
      offers: [{ offerId: 'offer-metered', plans: [{ planId: 'gold-monthly' }] }],
      subscriptions: [subscription(ACTIVE, 'Subscribed'), subscription(SUSPENDED, 'Suspended')],
      operations: [],
      landingTokens: [],
    };
    azure.setState(state);
  });

  beforeEach(() => {
    azure.metering.clearFaults();
    sleeps.length = 0;
  });

  /** A gateway with a fresh Entra token (issued on the simulator clock as it is now). */
  function gateway(): AzureMeteringGateway {
    return new AzureMeteringGateway({
      baseUrl: `${azure.url}/api`,
      token: azureClientCredentialsToken({
        loginBaseUrl: azure.url,
        tenantId: TENANT,
        clientId: APP,
        clientSecret: async () => SECRET,
        scope: MARKETPLACE_SCOPE,
      }),
      http: {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
  }

  function report(
    reportId: string,
    dimension: string,
    quantity: string,
    subscriptionId = ACTIVE,
  ): MeteringReport {
    return {
      reportId,
      contractId: `azure-${reportId}`,
      dimension,
      hourStart: HOUR,
      quantity,
      customer: { marketplace: 'azure', subscriptionId, planId: 'gold-monthly' },
    };
  }

  const events = (dimension: string) =>
    azure.metering.events().filter((e) => e.dimension === dimension);
  const callsFor = (dimension: string) =>
    azure.metering
      .calls()
      .filter((c) => JSON.stringify(c.input).includes(`"dimension":"${dimension}"`));

  it('accepts an event at the hour start and reports its usageEventId', async () => {
    const [outcome] = await gateway().report([report('ok', 'az-accepted', '5.5')]);
    const stored = events('az-accepted');
    expect(stored).toEqual([
      expect.objectContaining({
        resourceId: ACTIVE,
        quantity: 5.5,
        effectiveStartTime: '2026-03-02T13:00:00Z',
        planId: 'gold-monthly',
      }),
    ]);
    expect(outcome).toEqual({
      kind: 'accepted',
      reportId: 'ok',
      marketplaceRef: stored[0]?.usageEventId,
    });
  });

  it('answers a resent report Duplicate with the first event, and keeps one event', async () => {
    const [first] = await gateway().report([report('again', 'az-resend', '3')]);
    const [second] = await gateway().report([report('again', 'az-resend', '3')]);
    expect(first?.kind).toBe('accepted');
    expect(second).toEqual({
      kind: 'duplicate',
      reportId: 'again',
      marketplaceRef: first?.kind === 'accepted' ? first.marketplaceRef : 'missing',
    });
    expect(events('az-resend')).toHaveLength(1);
    expect(azure.metering.duplicates()).toContainEqual(
      expect.objectContaining({ acceptedUsageEventId: events('az-resend')[0]?.usageEventId }),
    );
  });

  it('rejects usage older than 24 hours as Expired', async () => {
    clockMs = Date.parse(HOUR) + 25 * HOUR_MS;
    expect(await gateway().report([report('late', 'az-late', '1')])).toEqual([
      { kind: 'rejected', reportId: 'late', reason: expect.stringMatching(/^Expired/) },
    ]);
    expect(events('az-late')).toHaveLength(0);
  });

  it('maps a partial failure per event, and the failed event goes through on the next flush', async () => {
    azure.metering.injectFault({ kind: 'event-error', times: 1 });
    const batch = [
      report('first', 'az-partial-1', '1'),
      report('second', 'az-partial-2', '2'),
      report('missing', 'az-partial-3', '3', '00000000-0000-4000-8000-000000000999'),
      report('paused', 'az-partial-4', '4', SUSPENDED),
    ];
    expect(kinds(await gateway().report(batch))).toEqual({
      first: 'unprocessed',
      second: 'accepted',
      missing: 'rejected',
      paused: 'rejected',
    });
    expect(kinds(await gateway().report(batch.slice(0, 2)))).toEqual({
      first: 'accepted',
      second: 'duplicate',
    });
    expect(events('az-partial-1')).toHaveLength(1);
    expect(events('az-partial-2')).toHaveLength(1);
  });

  it('honours Retry-After on a throttled call, then succeeds; throws when it stays down', async () => {
    azure.metering.injectFault({ kind: 'throttle', times: 1 });
    expect(kinds(await gateway().report([report('t1', 'az-throttled', '1')]))).toEqual({
      t1: 'accepted',
    });
    expect(sleeps).toEqual([1_000]);
    expect(callsFor('az-throttled').map((c) => c.status)).toEqual([429, 200]);
    azure.metering.injectFault({ kind: 'server-error', times: 3 });
    await expect(gateway().report([report('t2', 'az-down', '1')])).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    expect(events('az-down')).toHaveLength(0);
  });

  it('refuses a zero quantity before sending anything', async () => {
    expect(kinds(await gateway().report([report('zero', 'az-zero', '0')]))).toEqual({
      zero: 'rejected',
    });
    expect(callsFor('az-zero')).toHaveLength(0);
  });

  it('throws on a token the marketplace does not accept', async () => {
    const bad = new AzureMeteringGateway({
      baseUrl: `${azure.url}/api`,
      token: async () => 'not-a-jwt',
    });
    await expect(bad.report([report('denied', 'az-denied', '1')])).rejects.toThrow(/credentials/);
    expect(callsFor('az-denied').map((c) => c.status)).toEqual([401]);
  });
});

// -------------------------------------------------------------------------------------------
// Google Cloud
// -------------------------------------------------------------------------------------------

describe('GCP Service Control check + report', () => {
  const PROVIDER = 'acme-saas';
  const SERVICE = 'acme.endpoints.acme-public.cloud.goog';
  const ACTIVE = 'project_number:123456789012';
  const CANCELLED = 'project_number:210987654321';
  const TIME = '2026-03-01T00:00:00.000Z';
  const sleeps: number[] = [];

  beforeAll(() => {
    const entitlement = (id: string, usageReportingId: string, state: string) => ({
      providerId: PROVIDER,
      id,
      accountId: 'acct-1',
      product: SERVICE,
      plan: 'basic',
      state: state as GcpSimulatorState['entitlements'][number]['state'],
      usageReportingId,
      createTime: TIME,
      updateTime: TIME,
    });
    gcp.setState({
      providers: [{ providerId: PROVIDER, signupAudience: 'https://signup.acme.example' }],
      accounts: [
        {
          providerId: PROVIDER,
          id: 'acct-1',
          state: 'ACCOUNT_ACTIVE',
          approvals: [{ name: 'signup', state: 'APPROVED' }],
          createTime: TIME,
          updateTime: TIME,
        },
      ],
      entitlements: [
        entitlement('ent-active', ACTIVE, 'ENTITLEMENT_ACTIVE'),
        entitlement('ent-cancelled', CANCELLED, 'ENTITLEMENT_CANCELLED'),
      ],
      ackDeadlineMs: 10_000,
    });
  });

  beforeEach(() => {
    gcp.metering.clearFaults();
    sleeps.length = 0;
  });

  function gateway(): GcpMeteringGateway {
    return new GcpMeteringGateway({
      baseUrl: gcp.url,
      token: async () => 'ya29.local',
      http: {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
  }

  function report(
    reportId: string,
    dimension: string,
    quantity: string,
    consumer = ACTIVE,
  ): MeteringReport {
    return {
      reportId,
      contractId: `gcp-${reportId}`,
      dimension,
      hourStart: HOUR,
      quantity,
      customer: {
        marketplace: 'gcp',
        providerId: PROVIDER,
        serviceName: SERVICE,
        usageReportingId: consumer,
      },
    };
  }

  const taken = (dimension: string) =>
    gcp.metering
      .operations()
      .filter((o) => o.metricValueSets.some((s) => s.metricName === `${SERVICE}/${dimension}`));

  it('checks, then reports an hourly operation with the derived operation id', async () => {
    const outcomes = await gateway().report([report('ok', 'requests', '1500')]);
    const operationId = operationIdFor('ok');
    expect(outcomes).toEqual([{ kind: 'accepted', reportId: 'ok', marketplaceRef: operationId }]);
    expect(taken('requests')).toEqual([
      expect.objectContaining({
        operationId,
        consumerId: ACTIVE,
        startTime: '2026-03-02T13:00:00Z',
        endTime: '2026-03-02T14:00:00Z',
        metricValueSets: [
          { metricName: `${SERVICE}/requests`, metricValues: [{ int64Value: '1500' }] },
        ],
      }),
    ]);
    const calls = gcp.metering.calls().filter((c) => JSON.stringify(c.input).includes(operationId));
    expect(calls.map((c) => c.method)).toEqual(['check', 'report']);
  });

  it('counts a resent report once: the same operation id, taken once', async () => {
    const [first] = await gateway().report([report('again', 'resend', '10')]);
    const [second] = await gateway().report([report('again', 'resend', '10')]);
    expect(second).toEqual(first);
    expect(taken('resend')).toHaveLength(1);
    expect(gcp.metering.duplicates()).toContainEqual({
      serviceName: SERVICE,
      operationId: operationIdFor('again'),
    });
  });

  it('rejects usage reported after the lateness tolerance', async () => {
    clockMs = Date.parse(HOUR) + 3 * HOUR_MS;
    expect(kinds(await gateway().report([report('late', 'late', '1')]))).toEqual({
      late: 'rejected',
    });
    expect(taken('late')).toHaveLength(0);
  });

  it('rejects a cancelled consumer at check without reporting it, and retries a failed operation', async () => {
    gcp.metering.injectFault({ kind: 'operation-error', times: 1 });
    const batch = [
      report('flaky', 'partial-1', '1'),
      report('steady', 'partial-2', '2'),
      report('cancelled', 'partial-3', '3', CANCELLED),
    ];
    const outcomes = byReport(await gateway().report(batch));
    expect(kinds(Object.values(outcomes))).toEqual({
      flaky: 'unprocessed',
      steady: 'accepted',
      cancelled: 'rejected',
    });
    expect(outcomes.cancelled).toEqual(
      expect.objectContaining({ reason: expect.stringContaining('SERVICE_NOT_ACTIVATED') }),
    );
    const reported = gcp.metering
      .calls()
      .filter((c) => c.method === 'report')
      .flatMap((c) => JSON.stringify(c.input));
    expect(reported.some((input) => input.includes(operationIdFor('cancelled')))).toBe(false);
    expect(kinds(await gateway().report(batch.slice(0, 2)))).toEqual({
      flaky: 'accepted',
      steady: 'accepted',
    });
    expect(taken('partial-1')).toHaveLength(1);
    expect(taken('partial-2')).toHaveLength(1);
  });

  it('rides out throttling, and throws with nothing reported when it lasts', async () => {
    gcp.metering.injectFault({ kind: 'throttle', method: 'report', times: 1 });
    expect(kinds(await gateway().report([report('t1', 'throttled', '1')]))).toEqual({
      t1: 'accepted',
    });
    expect(sleeps).toEqual([1_000]);
    gcp.metering.injectFault({ kind: 'server-error', method: 'check', times: 3 });
    await expect(gateway().report([report('t2', 'down', '1')])).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    expect(taken('down')).toHaveLength(0);
  });
});
