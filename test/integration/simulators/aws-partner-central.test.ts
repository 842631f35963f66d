// Proves the Partner Central simulator, hosted by the AWS simulator server, with the real SDK client and SdkPartnerCentralGateway over HTTP: opportunities created and associated through the SDK map field for field, changed-since listing pages in LastModifiedDate order without gaps, and faults are consumed in order as retries or typed errors.
import {
  AssociateOpportunityCommand,
  ConflictException,
  CreateOpportunityCommand,
  type CreateOpportunityCommandInput,
  GetOpportunityCommand,
  ListOpportunitiesCommand,
  PartnerCentralSellingClient,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-partnercentral-selling';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CoSellOpportunityChange } from '../../../lib/app/co-sell-ports';
import { MarketplaceUnavailableError } from '../../../lib/app/errors';
import {
  PARTNER_CENTRAL_CONTENT_TYPE,
  PartnerCentralSimulatorInputError,
} from '../../../lib/local/simulators/aws-partner-central-simulator';
import { type AwsSimulator, startAwsSimulator } from '../../../lib/local/simulators/aws-simulator';
import { AWS_SDK_ATTEMPTS_MAX } from '../../../lib/marketplaces/aws/gateway';
import {
  PartnerCentralAccessDeniedError,
  SdkPartnerCentralGateway,
} from '../../../lib/marketplaces/aws/partner-central-gateway';

const START = Date.parse('2026-04-01T09:00:00.000Z');
const SELLER = '999999999999';
const offerArn = (id: string) =>
  `arn:aws:aws-marketplace:us-east-1:${SELLER}:AWSMarketplace/Offer/${id}`;
const credentials = { accessKeyId: 'agoralocal', secretAccessKey: 'agoralocal' };

/** The simulator clock: tests move it explicitly. */
let clock = START;
let sim: AwsSimulator;
/** The raw SDK client, without retries, for creating and associating. */
let client: PartnerCentralSellingClient;
/** The gateway as Agora builds it (standard retries), with small pages to exercise tokens. */
let gateway: SdkPartnerCentralGateway;
let tokens = 0;

function at(offsetMs: number): string {
  return new Date(START + offsetMs).toISOString();
}

function clientToken(): string {
  tokens += 1;
  return `tok-${process.pid}-${tokens}`;
}

beforeAll(async () => {
  sim = await startAwsSimulator({ now: () => new Date(clock) });
  client = new PartnerCentralSellingClient({
    region: 'us-east-1',
    endpoint: sim.url,
    credentials,
    maxAttempts: 1,
  });
  // A home region other than us-east-1: the gateway pins its client to us-east-1 anyway.
  gateway = new SdkPartnerCentralGateway({
    settings: { accounts: [], region: 'eu-central-1', endpoint: sim.url },
    account: null,
    catalog: 'AWS',
    pageSize: 2,
  });
});

afterAll(async () => {
  gateway?.destroy();
  client?.destroy();
  await sim?.close();
});

beforeEach(() => {
  clock = START;
  sim.partnerCentral.reset();
  sim.clearFaults();
});

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

/** Every change since `since`, following NextToken through the gateway. */
async function listAll(since: string | null): Promise<CoSellOpportunityChange[]> {
  const items: CoSellOpportunityChange[] = [];
  let token: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const result = await gateway.listChanged(since, token);
    items.push(...result.items);
    token = result.nextToken;
    if (token === null) return items;
  }
  throw new Error('more than 100 pages');
}

function createInput(
  overrides: Partial<CreateOpportunityCommandInput> = {},
): CreateOpportunityCommandInput {
  return {
    Catalog: 'AWS',
    ClientToken: clientToken(),
    PartnerOpportunityIdentifier: 'crm-0042',
    OpportunityType: 'Net New Business',
    Customer: {
      Account: {
        CompanyName: 'Acme Corp',
        AwsAccountId: '123456789012',
        Industry: 'Retail',
        Address: { CountryCode: 'US', City: 'Seattle' },
      },
    },
    LifeCycle: { Stage: 'Qualified', TargetCloseDate: '2026-09-30', NextSteps: 'Pricing call' },
    Project: { Title: 'Analytics migration', DeliveryModels: ['SaaS or PaaS'] },
    ...overrides,
  };
}

describe('create, associate and read through the real SDK', () => {
  it('maps an opportunity created and associated via the SDK field for field', async () => {
    const created = await client.send(new CreateOpportunityCommand(createInput()));
    const id = created.Id ?? '';
    expect(id).toMatch(/^O\d+$/);
    expect(created.LastModifiedDate?.toISOString()).toBe(at(0));
    expect(created.PartnerOpportunityIdentifier).toBe('crm-0042');

    const associate = (type: 'AwsMarketplaceOffers' | 'AwsProducts' | 'Solutions', ref: string) =>
      client.send(
        new AssociateOpportunityCommand({
          Catalog: 'AWS',
          OpportunityIdentifier: id,
          RelatedEntityType: type,
          RelatedEntityIdentifier: ref,
        }),
      );
    clock = START + 60_000;
    await associate('AwsMarketplaceOffers', offerArn('offer-3x7kq2'));
    clock = START + 120_000;
    await associate('AwsProducts', 'AmazonRedshift');
    await associate('Solutions', 'S-0000001');

    expect(await gateway.get(id)).toEqual({
      opportunityId: id,
      partnerOpportunityIdentifier: 'crm-0042',
      createdAt: at(0),
      // The second association on an unmoved clock still moves the timestamp by 1 ms.
      lastModifiedAt: at(120_001),
      stage: 'Qualified',
      reviewStatus: 'Pending Submission',
      targetCloseDate: '2026-09-30',
      customer: { companyName: 'Acme Corp', awsAccountId: '123456789012' },
      offerIds: ['offer-3x7kq2'],
      productIds: ['AmazonRedshift', 'S-0000001'],
    });

    // The SDK's own view: ISO timestamps parsed to Dates, associations as sent.
    const raw = await client.send(new GetOpportunityCommand({ Catalog: 'AWS', Identifier: id }));
    expect(raw.CreatedDate).toEqual(new Date(at(0)));
    expect(raw.RelatedEntityIdentifiers?.AwsMarketplaceOffers).toEqual([offerArn('offer-3x7kq2')]);
    expect(raw.Customer?.Account?.Address).toEqual({ CountryCode: 'US', City: 'Seattle' });
    expect(raw.Project).toEqual({ Title: 'Analytics migration', DeliveryModels: ['SaaS or PaaS'] });
    expect(raw.Arn).toContain(`opportunity/${id}`);
    // The summary view hides AwsAccountId, as the SDK's AccountSummary does.
    const listed = await client.send(new ListOpportunitiesCommand({ Catalog: 'AWS' }));
    expect(listed.OpportunitySummaries?.[0]?.Customer?.Account).toEqual({
      CompanyName: 'Acme Corp',
      Industry: 'Retail',
      Address: { CountryCode: 'US', City: 'Seattle' },
    });
  });

  it('is idempotent on ClientToken and refuses the same token for another body', async () => {
    const input = createInput();
    const first = await client.send(new CreateOpportunityCommand(input));
    clock = START + 5_000;
    const again = await client.send(new CreateOpportunityCommand(input));
    expect(again.Id).toBe(first.Id);
    expect(sim.partnerCentral.state().opportunities).toHaveLength(1);
    const conflict = await rejection(
      client.send(new CreateOpportunityCommand({ ...input, PartnerOpportunityIdentifier: 'x' })),
    );
    expect(conflict).toBeInstanceOf(ConflictException);
    expect(conflict.message).toBe('Conflicting client token submitted for a new request body.');
  });

  it('refuses a non-ARN offer, an opportunity under review, and unknown ids', async () => {
    const id = (await client.send(new CreateOpportunityCommand(createInput()))).Id ?? '';
    const bareOffer = await rejection(
      client.send(
        new AssociateOpportunityCommand({
          Catalog: 'AWS',
          OpportunityIdentifier: id,
          RelatedEntityType: 'AwsMarketplaceOffers',
          RelatedEntityIdentifier: 'offer-3x7kq2',
        }),
      ),
    );
    expect(bareOffer).toBeInstanceOf(ValidationException);
    expect((bareOffer as ValidationException).ErrorList?.[0]?.FieldName).toBe(
      'RelatedEntityIdentifier',
    );

    sim.partnerCentral.update(id, { LifeCycle: { ReviewStatus: 'Submitted' } });
    const locked = await rejection(
      client.send(
        new AssociateOpportunityCommand({
          Catalog: 'AWS',
          OpportunityIdentifier: id,
          RelatedEntityType: 'AwsMarketplaceOffers',
          RelatedEntityIdentifier: offerArn('offer-1'),
        }),
      ),
    );
    expect(locked).toBeInstanceOf(ConflictException);
    // The update merged LifeCycle: the stage set at creation is still there.
    expect((await gateway.get(id))?.stage).toBe('Qualified');

    expect(await gateway.get('O9999999')).toBeNull();
    const sandbox = new SdkPartnerCentralGateway({
      settings: { accounts: [], region: 'us-east-1', endpoint: sim.url },
      account: null,
      catalog: 'Sandbox',
    });
    try {
      expect(await sandbox.get(id)).toBeNull();
      expect((await sandbox.listChanged(null, null)).items).toEqual([]);
    } finally {
      sandbox.destroy();
    }
    const missing = await rejection(
      client.send(new GetOpportunityCommand({ Catalog: 'AWS', Identifier: 'O9999999' })),
    );
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers awsJson 1.0 on the wire and leaves other services’ targets to the host', async () => {
    const post = (target: string, body: unknown) =>
      fetch(`${sim.url}/`, {
        method: 'POST',
        headers: { 'x-amz-target': target, 'content-type': PARTNER_CENTRAL_CONTENT_TYPE },
        body: JSON.stringify(body),
      });
    const notFound = await post('AWSPartnerCentralSelling.GetOpportunity', {
      Catalog: 'AWS',
      Identifier: 'O1',
    });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toBe(PARTNER_CENTRAL_CONTENT_TYPE);
    expect(notFound.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await notFound.json()).toMatchObject({ __type: 'ResourceNotFoundException' });

    const unknown = await post('AWSPartnerCentralSelling.DeleteEverything', {});
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');

    // A metering target still reaches the marketplace model behind the Partner Central handler.
    const metering = await fetch(`${sim.url}/`, {
      method: 'POST',
      headers: {
        'x-amz-target': 'AWSMPMeteringService.ResolveCustomer',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: JSON.stringify({ RegistrationToken: 'unknown-token' }),
    });
    expect(metering.headers.get('x-amzn-errortype')).toBe('InvalidTokenException');
    // The unknown operation is refused before it is logged; the host's log holds both services.
    expect(
      sim
        .calls()
        .slice(-2)
        .map((c) => c.operation),
    ).toEqual(['GetOpportunity', 'ResolveCustomer']);
  });
});

describe('listing changes', () => {
  it('pages through changes since a time, oldest first, inclusive of the cursor', async () => {
    const ids = [0, 10, 20, 30, 40].map((minute) =>
      sim.partnerCentral.seed({
        CreatedDate: at(-86_400_000),
        LastModifiedDate: at(minute * 60_000),
        Customer: { Account: { CompanyName: `Customer ${minute}` } },
      }),
    );
    // Another catalog never shows up.
    sim.partnerCentral.seed({ Catalog: 'Sandbox', LastModifiedDate: at(15 * 60_000) });
    const [o0, o10, o20, o30, o40] = ids;
    clock = START + 50 * 60_000;
    sim.partnerCentral.update(o10 ?? '', { LifeCycle: { Stage: 'Committed' } });

    expect(await listAll(at(20 * 60_000))).toEqual([
      { opportunityId: o20, lastModifiedAt: at(20 * 60_000) },
      { opportunityId: o30, lastModifiedAt: at(30 * 60_000) },
      { opportunityId: o40, lastModifiedAt: at(40 * 60_000) },
      { opportunityId: o10, lastModifiedAt: at(50 * 60_000) },
    ]);
    expect((await listAll(null)).map((c) => c.opportunityId)).toEqual([o0, o20, o30, o40, o10]);
    const calls = sim.partnerCentral.calls().filter((c) => c.operation === 'ListOpportunities');
    // Pages of 2: 4 items → 2 calls, 5 items → 3 calls; each call repeats the cursor.
    expect(calls).toHaveLength(5);
    expect(calls[1]?.input).toMatchObject({
      MaxResults: 2,
      // ISO-8601 on the wire (awsJson date-time members), whole seconds without ".000".
      LastModifiedDate: { AfterLastModifiedDate: '2026-04-01T09:20:00Z' },
      Sort: { SortBy: 'LastModifiedDate', SortOrder: 'ASCENDING' },
    });
    const second = calls[1]?.input as { NextToken?: unknown } | undefined;
    expect(typeof second?.NextToken).toBe('string');
  });

  it('neither skips nor repeats within a walk when an opportunity changes between pages', async () => {
    const ids = [1, 2, 3, 4, 5].map((minute) =>
      sim.partnerCentral.seed({ LastModifiedDate: at(minute * 60_000) }),
    );
    const first = await gateway.listChanged(null, null);
    expect(first.items.map((c) => c.opportunityId)).toEqual(ids.slice(0, 2));
    // The first one seen changes now: it moves behind the cursor's end, not into a gap.
    clock = START + 10 * 60_000;
    sim.partnerCentral.update(ids[0] ?? '', { PartnerOpportunityIdentifier: 'crm-new' });
    const rest: string[] = [];
    let token = first.nextToken;
    while (token !== null) {
      const page = await gateway.listChanged(null, token);
      rest.push(...page.items.map((c) => c.opportunityId));
      token = page.nextToken;
    }
    expect(rest).toEqual([...ids.slice(2), ids[0]]);
  });

  it('a token is only valid for the query that produced it', async () => {
    for (const minute of [1, 2, 3])
      sim.partnerCentral.seed({ LastModifiedDate: at(minute * 60_000) });
    const first = await gateway.listChanged(null, null);
    expect(first.nextToken).not.toBeNull();
    const error = await rejection(gateway.listChanged(at(0), first.nextToken));
    expect(error).toMatchObject({ code: 'marketplace_rejected' });
  });

  it('answers exactly the opportunities modified at or after any cursor, in order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 0, maxLength: 9 }),
        fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: null }),
        async (offsetsSeconds, cursorSeconds) => {
          sim.partnerCentral.reset();
          const seeded = offsetsSeconds.map((s) => ({
            id: sim.partnerCentral.seed({ LastModifiedDate: at(s * 1_000) }),
            ms: START + s * 1_000,
          }));
          const since = cursorSeconds === null ? null : at(cursorSeconds * 1_000);
          const expected = seeded
            .filter((o) => since === null || o.ms >= Date.parse(since))
            .sort((a, b) => a.ms - b.ms || (a.id < b.id ? -1 : 1))
            .map((o) => ({ opportunityId: o.id, lastModifiedAt: new Date(o.ms).toISOString() }));
          expect(await listAll(since)).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('faults', () => {
  it('a throttle is retried by the SDK and the read then succeeds', async () => {
    const id = sim.partnerCentral.seed({ LifeCycle: { Stage: 'Launched' } });
    sim.partnerCentral.injectFault({ kind: 'throttle', operation: 'GetOpportunity' });
    expect((await gateway.get(id))?.stage).toBe('Launched');
    expect(sim.partnerCentral.calls().map((c) => c.operation)).toEqual([
      'GetOpportunity',
      'GetOpportunity',
    ]);
  });

  it('throttling on every attempt is MarketplaceUnavailableError', async () => {
    const id = sim.partnerCentral.seed({});
    sim.partnerCentral.injectFault({
      kind: 'throttle',
      operation: 'GetOpportunity',
      times: AWS_SDK_ATTEMPTS_MAX,
    });
    const error = await rejection(gateway.get(id));
    expect(error).toBeInstanceOf(MarketplaceUnavailableError);
    expect(error.message).toContain('ThrottlingException 429');
    expect(sim.partnerCentral.calls()).toHaveLength(AWS_SDK_ATTEMPTS_MAX);
  });

  it('faults are consumed in injection order, each by the operations it names', async () => {
    sim.partnerCentral.seed({});
    sim.partnerCentral.injectFault({ kind: 'server-error', operation: 'GetOpportunity' });
    sim.partnerCentral.injectFault({ kind: 'server-error', times: AWS_SDK_ATTEMPTS_MAX });
    // ListOpportunities skips the GetOpportunity fault and takes all of the operation-less one.
    const error = await rejection(gateway.listChanged(null, null));
    expect(error).toBeInstanceOf(MarketplaceUnavailableError);
    expect(error.message).toContain('InternalServerException 500');
    expect(sim.partnerCentral.calls().map((c) => c.operation)).toEqual(
      Array.from({ length: AWS_SDK_ATTEMPTS_MAX }, () => 'ListOpportunities'),
    );
    // The GetOpportunity fault is still pending: one retried 500, then the answer.
    expect(await gateway.get('O9999999')).toBeNull();
    expect(
      sim.partnerCentral
        .calls()
        .slice(AWS_SDK_ATTEMPTS_MAX)
        .map((c) => c.operation),
    ).toEqual(['GetOpportunity', 'GetOpportunity']);
  });

  it('access denied is permanent and not retried', async () => {
    sim.partnerCentral.injectFault({ kind: 'access-denied' });
    const error = await rejection(gateway.listChanged(null, null));
    expect(error).toBeInstanceOf(PartnerCentralAccessDeniedError);
    expect(sim.partnerCentral.calls()).toHaveLength(1);
  });

  it('the host clears Partner Central faults and shows its state and calls', async () => {
    const id = sim.partnerCentral.seed({ PartnerOpportunityIdentifier: 'crm-state' });
    sim.partnerCentral.injectFault({ kind: 'access-denied', times: 5 });
    expect((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await gateway.get(id))?.partnerOpportunityIdentifier).toBe('crm-state');
    expect(sim.calls().at(-1)?.operation).toBe('GetOpportunity');

    const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as {
      partnerCentral: { opportunities: Array<{ Id: string }> };
    };
    expect(state.partnerCentral.opportunities.map((o) => o.Id)).toEqual([id]);
    // A GET result can be posted back (the Partner Central part is ignored).
    const posted = await fetch(`${sim.url}/_sim/state`, {
      method: 'POST',
      body: JSON.stringify(state),
    });
    expect(posted.status).toBe(204);
    expect(sim.partnerCentral.state().opportunities).toHaveLength(1);
  });
});

describe('in-process helpers', () => {
  it('validate seeds, patches and faults', () => {
    expect(() => sim.partnerCentral.seed({ Id: 'opp-1' })).toThrow(
      PartnerCentralSimulatorInputError,
    );
    expect(() =>
      sim.partnerCentral.seed({ CreatedDate: at(1_000), LastModifiedDate: at(0) }),
    ).toThrow(/LastModifiedDate must not precede CreatedDate/);
    expect(() => sim.partnerCentral.seed({ LifeCycle: { Stage: 'Closed Won' as never } })).toThrow(
      PartnerCentralSimulatorInputError,
    );
    expect(() => sim.partnerCentral.update('O404', {})).toThrow(/No opportunity O404/);
    expect(() =>
      sim.partnerCentral.injectFault({ kind: 'throttle', operation: 'Nope' as never }),
    ).toThrow(PartnerCentralSimulatorInputError);
    const id = sim.partnerCentral.seed({ Id: 'O42', LastModifiedDate: at(0) });
    expect(id).toBe('O42');
    // update() on a clock that has not moved still moves LastModifiedDate forward.
    clock = START - 60_000;
    expect(sim.partnerCentral.update(id, {}).LastModifiedDate).toBe(at(1));
  });
});
