// Proves the Catalog API simulator with the real SdkAwsCatalogGateway and SDK client over HTTP: offers and resale authorizations go PREPARING→APPLYING→SUCCEEDED into described entities, tokens are idempotent, locks/422/404 map to Agora errors, each async rule fails CLIENT_ERROR with its code, and faults are consumed in order.
import {
  DescribeChangeSetCommand,
  ListChangeSetsCommand,
  MarketplaceCatalogClient,
  StartChangeSetCommand,
} from '@aws-sdk/client-marketplace-catalog';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MarketplaceUnavailableError } from '../../../lib/app/errors';
import {
  type AwsSimulator,
  AwsSimulatorInputError,
  startAwsSimulator,
} from '../../../lib/local/simulators/aws-simulator';
import {
  CatalogEntityBusyError,
  CatalogRequestRejectedError,
  SdkAwsCatalogGateway,
} from '../../../lib/marketplaces/aws/catalog-gateway';
import type {
  CatalogChange,
  ChangeSetDescription,
} from '../../../lib/marketplaces/aws/catalog-types';
import { AWS_SDK_ATTEMPTS_MAX } from '../../../lib/marketplaces/aws/gateway';

const OFFER = 'Offer@1.0';
const RESALE = 'ResaleAuthorization@1.0';
const REF = '$CreateOfferChange.Entity.Identifier';
const BUYER = '111122223333';
const credentials = { accessKeyId: 'agoralocal', secretAccessKey: 'agoralocal' };

let sim: AwsSimulator;
/** Paced at the real quotas with the system clock. */
let gateway: SdkAwsCatalogGateway;
/** Unpaced (pacing is proven in the unit tests): for the many change sets of the property. */
let fastGateway: SdkAwsCatalogGateway;
let client: MarketplaceCatalogClient;
let tokens = 0;

function token(): string {
  tokens += 1;
  return `tok-${process.pid}-${tokens}`;
}

beforeAll(async () => {
  sim = await startAwsSimulator();
  const settings = { accounts: [], region: 'us-east-1', endpoint: sim.url };
  gateway = new SdkAwsCatalogGateway(settings, null);
  fastGateway = new SdkAwsCatalogGateway(settings, null, {
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  client = new MarketplaceCatalogClient({
    region: 'us-east-1',
    endpoint: sim.url,
    credentials,
    maxAttempts: 1,
  });
});

afterAll(async () => {
  gateway?.destroy();
  fastGateway?.destroy();
  client?.destroy();
  await sim?.close();
});

beforeEach(() => {
  sim.catalog.reset();
  sim.catalog.setDescribesToFinish(2);
  sim.clearFaults();
});

/** The private offer of the brief, with overridable details per change type. */
function offerChanges(
  overrides: Partial<Record<string, Record<string, unknown>>> = {},
  options: { release?: boolean } = {},
): CatalogChange[] {
  const on = { Type: OFFER, Identifier: REF };
  const changes: CatalogChange[] = [
    {
      ChangeType: 'CreateOffer',
      ChangeName: 'CreateOfferChange',
      Entity: { Type: OFFER },
      DetailsDocument: overrides.CreateOffer ?? { ProductId: 'prod-abc123', Name: 'Acme 3-year' },
    },
    {
      ChangeType: 'UpdateTargeting',
      Entity: on,
      DetailsDocument: overrides.UpdateTargeting ?? {
        PositiveTargeting: { BuyerAccounts: [BUYER] },
      },
    },
    {
      ChangeType: 'UpdatePricingTerms',
      Entity: on,
      DetailsDocument: overrides.UpdatePricingTerms ?? {
        PricingModel: 'Contract',
        Terms: [
          {
            Type: 'ConfigurableUpfrontPricingTerm',
            CurrencyCode: 'USD',
            RateCards: [
              {
                Selector: { Type: 'Duration', Value: 'P36M' },
                Constraints: {
                  MultipleDimensionSelection: 'Allowed',
                  QuantityConfiguration: 'Allowed',
                },
                RateCard: [{ DimensionKey: 'seats', Price: '1200.00' }],
              },
            ],
          },
        ],
      },
    },
    {
      ChangeType: 'UpdatePaymentScheduleTerms',
      Entity: on,
      DetailsDocument: overrides.UpdatePaymentScheduleTerms ?? {
        Terms: [
          {
            Type: 'PaymentScheduleTerm',
            CurrencyCode: 'USD',
            Schedule: [
              { ChargeDate: '2026-12-01', ChargeAmount: '120000.00' },
              { ChargeDate: '2027-12-01', ChargeAmount: '120000.00' },
            ],
          },
        ],
      },
    },
    {
      ChangeType: 'UpdateValidityTerms',
      Entity: on,
      DetailsDocument: { Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P36M' }] },
    },
    {
      ChangeType: 'UpdateAvailability',
      Entity: on,
      DetailsDocument: overrides.UpdateAvailability ?? { AvailabilityEndDate: '2026-12-15' },
    },
    {
      ChangeType: 'UpdateLegalTerms',
      Entity: on,
      DetailsDocument: {
        Terms: [
          { Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] },
        ],
      },
    },
  ];
  if (options.release ?? true) {
    changes.push({ ChangeType: 'ReleaseOffer', Entity: on, DetailsDocument: {} });
  }
  return changes;
}

function resaleChanges(): CatalogChange[] {
  const on = { Type: RESALE, Identifier: '$CreateRA.Entity.Identifier' };
  return [
    {
      ChangeType: 'CreateResaleAuthorization',
      ChangeName: 'CreateRA',
      Entity: { Type: RESALE },
      DetailsDocument: { ProductId: 'prod-abc123', Name: 'Partner CPPO', Description: 'for CP' },
    },
    {
      ChangeType: 'UpdatePricingTerms',
      Entity: on,
      DetailsDocument: {
        PricingModel: 'Contract',
        Terms: [
          {
            Type: 'ResaleConfigurableUpfrontPricingTerm',
            CurrencyCode: 'USD',
            RateCards: [{ RateCard: [{ DimensionKey: 'seats', Price: '1000.00' }] }],
          },
        ],
      },
    },
    {
      ChangeType: 'UpdateBuyerTargetingTerms',
      Entity: on,
      DetailsDocument: {
        Terms: [{ Type: 'BuyerTargetingTerm', PositiveTargeting: { BuyerAccounts: [BUYER] } }],
      },
    },
    {
      ChangeType: 'UpdateLegalTerms',
      Entity: on,
      DetailsDocument: {
        Terms: [
          { Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] },
        ],
      },
    },
    {
      ChangeType: 'UpdateAvailability',
      Entity: on,
      DetailsDocument: { AvailabilityEndDate: '2026-12-31', OffersMaxQuantity: 1 },
    },
    { ChangeType: 'ReleaseResaleAuthorization', Entity: on, DetailsDocument: {} },
  ];
}

async function start(
  changes: readonly CatalogChange[],
  using: SdkAwsCatalogGateway = gateway,
  clientRequestToken: string = token(),
): Promise<string> {
  const started = await using.startChangeSet({
    changes,
    clientRequestToken,
    changeSetName: 'agora-offer-of_123',
  });
  return started.changeSetId;
}

/** Describes until the change set is terminal; returns every status seen, in order. */
async function settle(
  changeSetId: string,
  using: SdkAwsCatalogGateway = gateway,
): Promise<{ last: ChangeSetDescription; seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < 10; i += 1) {
    const described = await using.describeChangeSet(changeSetId);
    if (described === null) throw new Error(`change set ${changeSetId} vanished`);
    seen.push(described.status);
    if (described.status !== 'PREPARING' && described.status !== 'APPLYING') {
      return { last: described, seen };
    }
  }
  throw new Error(`change set ${changeSetId} did not finish`);
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

async function createOffer(): Promise<string> {
  const { last } = await settle(await start(offerChanges({}, { release: false })));
  const id = last.changes[0]?.entityId;
  if (last.status !== 'SUCCEEDED' || !id) throw new Error('offer not created');
  return id;
}

describe('private offers', () => {
  it('CreateOffer…ReleaseOffer ends SUCCEEDED and DescribeEntity shows the Released offer', async () => {
    const id = await start(offerChanges());
    const before = sim.catalog.state().changeSets[0];
    expect(before?.status).toBe('PREPARING');
    const { last, seen } = await settle(id);
    expect(seen).toEqual(['APPLYING', 'SUCCEEDED']);
    expect(last).toMatchObject({
      changeSetId: id,
      status: 'SUCCEEDED',
      failureCode: null,
      failureDescription: null,
    });
    expect(last.changeSetArn).toBe(
      `arn:aws:aws-marketplace:us-east-1:111122223333:AWSMarketplace/ChangeSet/${id}`,
    );
    expect(Date.parse(last.startTime ?? '')).not.toBeNaN();
    expect(Date.parse(last.endTime ?? '')).not.toBeNaN();
    const offerId = last.changes[0]?.entityId ?? '';
    expect(offerId).toMatch(/^offer-[a-z0-9]{13,}$/);
    // Every change now names the offer, none has errors.
    expect(last.changes.map((c) => c.entityId)).toEqual(last.changes.map(() => offerId));
    expect(last.changes.flatMap((c) => c.errors)).toEqual([]);
    expect(last.changes.map((c) => c.changeType)).toEqual(offerChanges().map((c) => c.ChangeType));

    const entity = await gateway.describeEntity(offerId);
    expect(entity).toMatchObject({
      entityId: offerId,
      entityType: OFFER,
      entityArn: `arn:aws:aws-marketplace:us-east-1:111122223333:AWSMarketplace/Offer/${offerId}`,
    });
    expect(Date.parse(entity?.lastModified ?? '')).not.toBeNaN();
    const details = entity?.details ?? {};
    expect(details).toMatchObject({
      Id: offerId,
      Name: 'Acme 3-year',
      State: 'Released',
      ProductId: 'prod-abc123',
      Rules: [
        { Type: 'TargetingRule', PositiveTargeting: { BuyerAccounts: [BUYER] } },
        { Type: 'AvailabilityRule', AvailabilityEndDate: expect.stringMatching(/^2026-12-15T/) },
      ],
    });
    const terms = details.Terms as Array<Record<string, unknown>>;
    expect(terms.map((t) => t.Type).sort()).toEqual([
      'ConfigurableUpfrontPricingTerm',
      'LegalTerm',
      'PaymentScheduleTerm',
      'ValidityTerm',
    ]);
    for (const term of terms) expect(term.Id).toMatch(/^term-[a-z0-9]+$/);
    expect(new Set(terms.map((t) => t.Id)).size).toBe(terms.length);
    expect(terms.find((t) => t.Type === 'ConfigurableUpfrontPricingTerm')).toMatchObject({
      CurrencyCode: 'USD',
      RateCards: [
        { Selector: { Value: 'P36M' }, RateCard: [{ DimensionKey: 'seats', Price: '1200.00' }] },
      ],
    });
    expect(terms.find((t) => t.Type === 'ValidityTerm')).toMatchObject({
      AgreementDuration: 'P36M',
    });

    // The calls went into the simulator's shared call log, in order.
    expect(
      sim
        .calls()
        .slice(-4)
        .map((c) => c.operation),
    ).toEqual(['StartChangeSet', 'DescribeChangeSet', 'DescribeChangeSet', 'DescribeEntity']);
    const startCall = sim.catalog.calls().find((c) => c.operation === 'StartChangeSet');
    expect(startCall?.input).toMatchObject({
      Catalog: 'AWSMarketplace',
      ChangeSetName: 'agora-offer-of_123',
    });
    expect(sim.catalog.calls().filter((c) => c.operation === 'DescribeChangeSet')).toHaveLength(2);
  });

  it('an offer without ReleaseOffer stays Draft; a later change set releases it', async () => {
    const offerId = await createOffer();
    expect((await gateway.describeEntity(offerId))?.details.State).toBe('Draft');
    const release = await start([
      {
        ChangeType: 'ReleaseOffer',
        Entity: { Type: OFFER, Identifier: offerId },
        DetailsDocument: {},
      },
    ]);
    expect((await settle(release)).last.status).toBe('SUCCEEDED');
    const entity = sim.catalog.state().entities.find((e) => e.entityId === offerId);
    expect(entity?.details.State).toBe('Released');
    expect(entity?.revision).toBe(2);
    const described = await client.send(
      new DescribeChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSetId: release }),
    );
    expect(described.ChangeSet?.[0]?.Entity?.Identifier).toBe(offerId);
  });

  it('walks PREPARING → APPLYING → SUCCEEDED when it takes three describes', async () => {
    sim.catalog.setDescribesToFinish(3);
    const { seen } = await settle(await start(offerChanges()));
    expect(seen).toEqual(['PREPARING', 'APPLYING', 'SUCCEEDED']);
  });

  it('finishAll settles open change sets at once; describes keep being counted', async () => {
    const id = await start(offerChanges());
    sim.catalog.finishAll();
    expect((await gateway.describeChangeSet(id))?.status).toBe('SUCCEEDED');
    expect((await gateway.describeChangeSet(id))?.status).toBe('SUCCEEDED');
    expect(sim.catalog.state().changeSets[0]?.describes).toBe(2);
    expect(sim.catalog.state().entities[0]?.details.State).toBe('Released');
  });

  it('the same ClientRequestToken gives the same change set and creates nothing new', async () => {
    const shared = token();
    const first = await start(offerChanges(), gateway, shared);
    const again = await start(offerChanges(), gateway, shared);
    expect(again).toBe(first);
    await settle(first);
    // Even after it finished, the token still names it.
    expect(await start(offerChanges(), gateway, shared)).toBe(first);
    const state = sim.catalog.state();
    expect(state.changeSets).toHaveLength(1);
    expect(state.changeSets[0]?.clientRequestToken).toBe(shared);
    expect(state.entities).toHaveLength(1);
  });
});

describe('resale authorizations', () => {
  it('CreateResaleAuthorization…ReleaseResaleAuthorization ends with an Active authorization', async () => {
    const { last } = await settle(await start(resaleChanges()));
    expect(last.status).toBe('SUCCEEDED');
    const id = last.changes[0]?.entityId ?? '';
    expect(id).toMatch(/^resaleauthz-[a-z0-9]{13,}$/);
    const entity = await gateway.describeEntity(id);
    expect(entity?.entityType).toBe(RESALE);
    expect(entity?.entityArn).toContain(`AWSMarketplace/ResaleAuthorization/${id}`);
    expect(entity?.details).toMatchObject({
      Id: id,
      Name: 'Partner CPPO',
      Description: 'for CP',
      Status: 'Active',
      ProductId: 'prod-abc123',
      Rules: [{ Type: 'AvailabilityRule', OffersMaxQuantity: 1 }],
    });
    const terms = (entity?.details.Terms ?? []) as Array<Record<string, unknown>>;
    expect(terms.map((t) => t.Type).sort()).toEqual([
      'BuyerTargetingTerm',
      'LegalTerm',
      'ResaleConfigurableUpfrontPricingTerm',
    ]);
    for (const term of terms) expect(term.Id).toMatch(/^term-/);
  });

  it('without the release it is a Draft, and restricting it later sets Restricted', async () => {
    const changes = resaleChanges().slice(0, -1);
    const { last } = await settle(await start(changes));
    const id = last.changes[0]?.entityId ?? '';
    expect((await gateway.describeEntity(id))?.details.Status).toBe('Draft');
    const restrict = await start([
      {
        ChangeType: 'RestrictResaleAuthorization',
        Entity: { Type: RESALE, Identifier: id },
        DetailsDocument: {},
      },
    ]);
    await settle(restrict);
    expect((await gateway.describeEntity(id))?.details.Status).toBe('Restricted');
  });
});

describe('synchronous refusals', () => {
  it('an entity locked by an open change set is CatalogEntityBusyError until that set ends', async () => {
    const offerId = await createOffer();
    const on = { Type: OFFER, Identifier: offerId };
    const lockingToken = token();
    const rename: CatalogChange[] = [
      { ChangeType: 'UpdateInformation', Entity: on, DetailsDocument: { Name: 'Renamed' } },
    ];
    const locking = await start(rename, gateway, lockingToken);
    const update = [
      {
        ChangeType: 'UpdateAvailability',
        Entity: on,
        DetailsDocument: { AvailabilityEndDate: '2027-01-31' },
      },
    ];
    const busy = await rejection(start(update));
    expect(busy).toBeInstanceOf(CatalogEntityBusyError);
    expect((busy as CatalogEntityBusyError).code).toBe('marketplace_entity_busy');
    expect(busy.message).toContain(locking);
    // A retry of the locking request itself is not refused: it is the same change set.
    expect(await start(rename, gateway, lockingToken)).toBe(locking);
    await settle(locking);
    const after = await start(update);
    expect((await settle(after)).last.status).toBe('SUCCEEDED');
    const details = (await gateway.describeEntity(offerId))?.details;
    expect(details?.Name).toBe('Renamed');
    expect(details?.Rules).toContainEqual({
      Type: 'AvailabilityRule',
      AvailabilityEndDate: expect.stringMatching(/^2027-01-31T/),
    });
  });

  const invalid: ReadonlyArray<{ name: string; changes: () => CatalogChange[]; says: string }> = [
    {
      name: 'a change type unknown for its entity type',
      changes: () => [
        { ChangeType: 'CreateResaleAuthorization', Entity: { Type: OFFER }, DetailsDocument: {} },
      ],
      says: 'CreateResaleAuthorization is not valid for Offer@1.0',
    },
    {
      name: 'an unknown entity type',
      changes: () => [
        {
          ChangeType: 'CreateOffer',
          Entity: { Type: 'Offer@9.9' },
          DetailsDocument: { ProductId: 'p' },
        },
      ],
      says: 'Offer@9.9',
    },
    {
      name: 'CreateOffer without ProductId',
      changes: () => offerChanges({ CreateOffer: { Name: 'no product' } }),
      says: 'ProductId',
    },
    {
      name: 'a reference to no earlier create change',
      changes: () => [
        {
          ChangeType: 'UpdateInformation',
          Entity: { Type: OFFER, Identifier: '$Nope.Entity.Identifier' },
          DetailsDocument: { Name: 'x' },
        },
      ],
      says: '$Nope.Entity.Identifier',
    },
    {
      name: 'a reference to a later create change',
      changes: () => [offerChanges()[1] as CatalogChange, offerChanges()[0] as CatalogChange],
      says: 'earlier create change',
    },
    {
      name: 'two payment schedule terms',
      changes: () => {
        const term = {
          Type: 'PaymentScheduleTerm',
          CurrencyCode: 'USD',
          Schedule: [{ ChargeDate: '2026-12-01', ChargeAmount: '1.00' }],
        };
        return offerChanges({ UpdatePaymentScheduleTerms: { Terms: [term, term] } });
      },
      says: 'exactly one PaymentScheduleTerm',
    },
    {
      name: 'a charge date that is not YYYY-MM-DD',
      changes: () =>
        offerChanges({
          UpdatePaymentScheduleTerms: {
            Terms: [
              {
                Type: 'PaymentScheduleTerm',
                CurrencyCode: 'USD',
                Schedule: [{ ChargeDate: '12/01/2026', ChargeAmount: '1.00' }],
              },
            ],
          },
        }),
      says: 'ChargeDate',
    },
    {
      name: 'a price that is a number',
      changes: () =>
        offerChanges({
          UpdatePricingTerms: {
            PricingModel: 'Usage',
            Terms: [
              {
                Type: 'UsageBasedPricingTerm',
                CurrencyCode: 'USD',
                RateCards: [{ RateCard: [{ DimensionKey: 'x', Price: 1 }] }],
              },
            ],
          },
        }),
      says: 'Price',
    },
    {
      name: 'the same change type twice on one entity',
      changes: () => [...offerChanges({}, { release: false }), offerChanges()[1] as CatalogChange],
      says: 'twice',
    },
    {
      name: 'an identifier on a create change',
      changes: () => [
        {
          ChangeType: 'CreateOffer',
          Entity: { Type: OFFER, Identifier: 'offer-x' },
          DetailsDocument: { ProductId: 'p' },
        },
      ],
      says: 'takes no Entity.Identifier',
    },
  ];

  it.each(invalid)(
    '422 for $name → CatalogRequestRejectedError, nothing stored',
    async ({ changes, says }) => {
      const error = await rejection(start(changes()));
      expect(error).toBeInstanceOf(CatalogRequestRejectedError);
      expect((error as CatalogRequestRejectedError).code).toBe('marketplace_rejected');
      expect(error.message).toContain('ValidationException');
      expect(error.message).toContain(says);
      expect(sim.catalog.state()).toEqual({ changeSets: [], entities: [] });
      // The SDK does not retry a 422: one call.
      expect(sim.catalog.calls()).toHaveLength(1);
    },
  );

  it('404 for an unknown entity → CatalogRequestRejectedError; null from the describes', async () => {
    const error = await rejection(
      start([
        {
          ChangeType: 'UpdateInformation',
          Entity: { Type: OFFER, Identifier: 'offer-doesnotexist123' },
          DetailsDocument: { Name: 'x' },
        },
      ]),
    );
    expect(error).toBeInstanceOf(CatalogRequestRejectedError);
    expect(error.message).toContain('ResourceNotFoundException');
    expect(error.message).toContain('offer-doesnotexist123');
    expect(await gateway.describeChangeSet('nosuchchangeset')).toBeNull();
    expect(await gateway.describeEntity('offer-doesnotexist123')).toBeNull();
  });

  it('answers restJson1 errors on the wire: status, x-amzn-errortype, Message', async () => {
    const post = (path: string, body: string, method = 'POST') =>
      fetch(`${sim.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body });
    const bad = await post(
      '/StartChangeSet',
      JSON.stringify({ Catalog: 'AWSMarketplace', ChangeSet: [] }),
    );
    expect(bad.status).toBe(422);
    expect(bad.headers.get('x-amzn-errortype')).toBe('ValidationException');
    const body = (await bad.json()) as { Message: string; ValidationExceptionFieldList: unknown[] };
    expect(body.Message).toContain('ChangeSet');
    expect(body.ValidationExceptionFieldList[0]).toMatchObject({
      Reason: 'FieldValidationFailed',
      Field: 'ChangeSet',
    });
    const notJson = await post('/StartChangeSet', '{oops');
    expect(notJson.status).toBe(400);
    const missing = await fetch(
      `${sim.url}/DescribeChangeSet?catalog=AWSMarketplace&changeSetId=nope`,
    );
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    const noId = await fetch(`${sim.url}/DescribeEntity?catalog=AWSMarketplace`);
    expect(noId.status).toBe(422);
    const wrongMethod = await fetch(`${sim.url}/DescribeEntity?catalog=AWSMarketplace&entityId=x`, {
      method: 'DELETE',
    });
    expect(wrongMethod.status).toBe(404);
    // Other catalogs do not exist.
    const otherCatalog = await fetch(`${sim.url}/DescribeEntity?catalog=Other&entityId=x`);
    expect(otherCatalog.status).toBe(422);
  });

  it('accepts Details as a JSON string, but not together with DetailsDocument', async () => {
    const changeSet = [
      {
        ChangeType: 'CreateOffer',
        ChangeName: 'CreateOfferChange',
        Entity: { Type: OFFER },
        Details: JSON.stringify({ ProductId: 'prod-abc123', Name: 'From a string' }),
      },
    ];
    const started = await client.send(
      new StartChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSet: changeSet }),
    );
    const { last } = await settle(started.ChangeSetId ?? '');
    const entity = await gateway.describeEntity(last.changes[0]?.entityId ?? '');
    expect(entity?.details.Name).toBe('From a string');
    const both = await rejection(
      client.send(
        new StartChangeSetCommand({
          Catalog: 'AWSMarketplace',
          ChangeSet: [{ ...changeSet[0], DetailsDocument: { ProductId: 'p' } } as never],
        }),
      ),
    );
    expect(both.name).toBe('ValidationException');
    expect(both.message).toContain('not both');
  });

  it('ListChangeSets filters by name and status and pages', async () => {
    const a = await start(offerChanges());
    await settle(a);
    const b = await fastGateway.startChangeSet({
      changes: resaleChanges(),
      clientRequestToken: token(),
      changeSetName: 'other-name',
    });
    const byName = await client.send(
      new ListChangeSetsCommand({
        Catalog: 'AWSMarketplace',
        FilterList: [{ Name: 'ChangeSetName', ValueList: ['agora-offer-of_123'] }],
      }),
    );
    expect(byName.ChangeSetSummaryList?.map((s) => s.ChangeSetId)).toEqual([a]);
    expect(byName.ChangeSetSummaryList?.[0]).toMatchObject({
      Status: 'SUCCEEDED',
      EntityIdList: [expect.stringMatching(/^offer-/)],
    });
    const open = await client.send(
      new ListChangeSetsCommand({
        Catalog: 'AWSMarketplace',
        FilterList: [{ Name: 'Status', ValueList: ['PREPARING'] }],
      }),
    );
    expect(open.ChangeSetSummaryList?.map((s) => s.ChangeSetId)).toEqual([b.changeSetId]);
    const first = await client.send(
      new ListChangeSetsCommand({ Catalog: 'AWSMarketplace', MaxResults: 1 }),
    );
    expect(first.ChangeSetSummaryList).toHaveLength(1);
    const second = await client.send(
      new ListChangeSetsCommand({
        Catalog: 'AWSMarketplace',
        MaxResults: 1,
        NextToken: first.NextToken,
      }),
    );
    expect(second.NextToken).toBeUndefined();
    expect(
      [first, second]
        .flatMap((p) => p.ChangeSetSummaryList ?? [])
        .map((s) => s.ChangeSetId)
        .sort(),
    ).toEqual([a, b.changeSetId].sort());
  });
});

describe('asynchronous validation', () => {
  const manyAccounts = Array.from({ length: 27 }, (_, i) => String(100000000000 + i));
  /** Each rule: the overrides that break it, and which change (by type) carries the error. */
  const RULES = {
    TOO_MANY_BUYER_ACCOUNTS: {
      change: 'UpdateTargeting',
      overrides: { UpdateTargeting: { PositiveTargeting: { BuyerAccounts: manyAccounts } } },
    },
    INVALID_BUYER_ACCOUNTS: {
      change: 'UpdateTargeting',
      overrides: { UpdateTargeting: { PositiveTargeting: { BuyerAccounts: [BUYER, '1234'] } } },
    },
    DUPLICATE_CHARGE_DATES: {
      change: 'UpdatePaymentScheduleTerms',
      overrides: {
        UpdatePaymentScheduleTerms: {
          Terms: [
            {
              Type: 'PaymentScheduleTerm',
              CurrencyCode: 'USD',
              Schedule: [
                { ChargeDate: '2027-12-01', ChargeAmount: '1.00' },
                { ChargeDate: '2027-12-01', ChargeAmount: '2.00' },
              ],
            },
          ],
        },
      },
    },
    TOO_MANY_BACKDATED_CHARGES: {
      change: 'UpdatePaymentScheduleTerms',
      overrides: {
        UpdatePaymentScheduleTerms: {
          Terms: [
            {
              Type: 'PaymentScheduleTerm',
              CurrencyCode: 'USD',
              Schedule: [
                { ChargeDate: '2026-11-01', ChargeAmount: '1.00' },
                { ChargeDate: '2026-12-15', ChargeAmount: '2.00' },
              ],
            },
          ],
        },
      },
    },
    INVALID_CURRENCY: {
      change: 'UpdatePricingTerms',
      overrides: {
        UpdatePricingTerms: {
          PricingModel: 'Usage',
          Terms: [
            {
              Type: 'UsageBasedPricingTerm',
              CurrencyCode: 'EUR',
              RateCards: [{ RateCard: [{ DimensionKey: 'calls', Price: '0.10' }] }],
            },
          ],
        },
      },
    },
    INCOMPATIBLE_TARGETING: {
      change: 'UpdateTargeting',
      overrides: {
        UpdateTargeting: {
          PositiveTargeting: { BuyerAccounts: [BUYER] },
          NegativeTargeting: { CountryCodes: ['FR'] },
        },
      },
    },
  } as const;
  type Rule = keyof typeof RULES;

  it.each(Object.keys(RULES) as Rule[])(
    '%s → FAILED CLIENT_ERROR on the offending change',
    async (code) => {
      const rule = RULES[code];
      const { last, seen } = await settle(await start(offerChanges(rule.overrides)));
      // A change set that fails validation never reaches APPLYING.
      expect(seen).toEqual(['PREPARING', 'FAILED']);
      expect(last.status).toBe('FAILED');
      expect(last.failureCode).toBe('CLIENT_ERROR');
      const carrying = last.changes.filter((c) => c.errors.length > 0);
      expect(carrying.map((c) => c.changeType)).toEqual([rule.change]);
      expect(carrying[0]?.errors.map((e) => e.code)).toEqual([code]);
      expect(carrying[0]?.errors[0]?.message).not.toBe('');
      // Nothing was created, and references stay as submitted.
      expect(sim.catalog.state().entities).toEqual([]);
      expect(last.changes[1]?.entityId).toBe(REF);
    },
  );

  it('a backdated charge counts against an existing offer’s AvailabilityEndDate too', async () => {
    const offerId = await createOffer(); // AvailabilityEndDate 2026-12-15
    const on = { Type: OFFER, Identifier: offerId };
    const { last } = await settle(
      await start([
        {
          ChangeType: 'UpdatePaymentScheduleTerms',
          Entity: on,
          DetailsDocument: RULES.TOO_MANY_BACKDATED_CHARGES.overrides.UpdatePaymentScheduleTerms,
        },
      ]),
    );
    expect(last.changes[0]?.errors.map((e) => e.code)).toEqual(['TOO_MANY_BACKDATED_CHARGES']);
  });

  it('reports exactly the broken rules of any combination (property)', async () => {
    // Rules that touch the same change cannot be combined in one change set.
    const groups: Rule[][] = [
      ['TOO_MANY_BUYER_ACCOUNTS', 'INVALID_BUYER_ACCOUNTS', 'INCOMPATIBLE_TARGETING'],
      ['DUPLICATE_CHARGE_DATES', 'TOO_MANY_BACKDATED_CHARGES'],
      ['INVALID_CURRENCY'],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(...groups.map((g) => fc.option(fc.constantFrom(...g), { nil: null }))),
        async (picked) => {
          const broken = picked.filter((r): r is Rule => r !== null);
          const overrides = Object.assign({}, ...broken.map((r) => RULES[r].overrides));
          const { last } = await settle(
            await start(offerChanges(overrides), fastGateway),
            fastGateway,
          );
          const codes = last.changes.flatMap((c) => c.errors.map((e) => e.code)).sort();
          expect(codes).toEqual([...broken].sort());
          expect(last.status).toBe(broken.length === 0 ? 'SUCCEEDED' : 'FAILED');
          expect(last.failureCode).toBe(broken.length === 0 ? null : 'CLIENT_ERROR');
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('faults', () => {
  it('change-set-failure faults end the next change sets FAILED, in injection order', async () => {
    sim.catalog.injectFault({
      kind: 'change-set-failure',
      failureCode: 'SERVER_FAULT',
      message: 'boom',
    });
    sim.catalog.injectFault({
      kind: 'change-set-failure',
      failureCode: 'CLIENT_ERROR',
      errorCode: 'INCOMPATIBLE_PRODUCT',
    });
    const server = await settle(await start(offerChanges()));
    expect(server.seen).toEqual(['APPLYING', 'FAILED']);
    expect(server.last).toMatchObject({
      status: 'FAILED',
      failureCode: 'SERVER_FAULT',
      failureDescription: 'boom',
    });
    expect(server.last.changes.flatMap((c) => c.errors)).toEqual([]);
    const clientError = await settle(await start(offerChanges()));
    expect(clientError.last).toMatchObject({ status: 'FAILED', failureCode: 'CLIENT_ERROR' });
    expect(clientError.last.changes[0]?.errors.map((e) => e.code)).toEqual([
      'INCOMPATIBLE_PRODUCT',
    ]);
    // Both faults are used up.
    expect((await settle(await start(offerChanges()))).last.status).toBe('SUCCEEDED');
    expect(sim.catalog.state().entities).toHaveLength(1);
  });

  it('a throttle is retried by the SDK with the same token and then succeeds', async () => {
    sim.catalog.injectFault({ kind: 'throttle', operation: 'StartChangeSet' });
    const id = await start(offerChanges());
    const starts = sim.catalog.calls().filter((c) => c.operation === 'StartChangeSet');
    expect(starts).toHaveLength(2);
    const tokensSent = starts.map(
      (c) => (c.input as { ClientRequestToken: string }).ClientRequestToken,
    );
    expect(tokensSent[0]).toBe(tokensSent[1]);
    expect(sim.catalog.state().changeSets.map((c) => c.changeSetId)).toEqual([id]);
  });

  it('a throttle on every attempt is MarketplaceUnavailableError and starts nothing', async () => {
    sim.catalog.injectFault({
      kind: 'throttle',
      operation: 'StartChangeSet',
      times: AWS_SDK_ATTEMPTS_MAX,
    });
    const error = await rejection(start(offerChanges()));
    expect(error).toBeInstanceOf(MarketplaceUnavailableError);
    expect(error.message).toContain('ThrottlingException');
    expect(sim.catalog.calls().filter((c) => c.operation === 'StartChangeSet')).toHaveLength(
      AWS_SDK_ATTEMPTS_MAX,
    );
    expect(sim.catalog.state().changeSets).toEqual([]);
  });

  it('server errors hit only their operation (or any, without one), and are retried', async () => {
    const id = await start(offerChanges());
    sim.catalog.injectFault({ kind: 'server-error', operation: 'DescribeEntity' });
    sim.catalog.injectFault({ kind: 'server-error' });
    // The operation-less fault is the first one DescribeChangeSet can take.
    const { last } = await settle(id);
    expect(last.status).toBe('SUCCEEDED');
    const offerId = last.changes[0]?.entityId ?? '';
    expect((await gateway.describeEntity(offerId))?.entityId).toBe(offerId);
    const ops = sim.catalog.calls().map((c) => c.operation);
    expect(ops).toEqual([
      'StartChangeSet',
      'DescribeChangeSet', // 500 (the operation-less fault)
      'DescribeChangeSet',
      'DescribeChangeSet',
      'DescribeEntity', // 500
      'DescribeEntity',
    ]);
  });

  it('the /_sim control routes carry catalog faults and state', async () => {
    const control = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${sim.url}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
    expect(
      (
        await control('POST', '/_sim/faults', {
          kind: 'throttle',
          operation: 'DescribeEntity',
          times: 3,
        })
      ).status,
    ).toBe(204);
    expect(await rejection(gateway.describeEntity('offer-x'))).toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    expect(
      (
        await control('POST', '/_sim/faults', {
          kind: 'change-set-failure',
          failureCode: 'SERVER_FAULT',
        })
      ).status,
    ).toBe(204);
    expect((await control('DELETE', '/_sim/faults')).status).toBe(204);
    const id = await start(offerChanges());
    expect((await settle(id)).last.status).toBe('SUCCEEDED');
    const bad = await control('POST', '/_sim/faults', {
      kind: 'change-set-failure',
      failureCode: 'MAYBE',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');

    const state = await control('GET', '/_sim/state');
    expect(
      state.body.catalog.changeSets.map((c: { changeSetId: string }) => c.changeSetId),
    ).toEqual([id]);
    expect(state.body.catalog.entities).toHaveLength(1);
    // A GET result can be posted back (the catalog part is ignored).
    expect((await control('POST', '/_sim/state', state.body)).status).toBe(204);
    expect(sim.catalog.state().entities).toHaveLength(1);
  });

  it('refuses malformed faults in process and bounds describesToFinish', () => {
    expect(() => sim.catalog.injectFault({ kind: 'throttle', operation: 'Nope' } as never)).toThrow(
      /Invalid catalog fault/,
    );
    expect(() => sim.catalog.setDescribesToFinish(0)).toThrow();
    expect(() =>
      sim.injectFault({ operation: 'StartChangeSet', kind: 'throttle', times: 1 } as never),
    ).toThrow(AwsSimulatorInputError);
  });
});
