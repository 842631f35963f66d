// Proves the offer use cases with the real AWS publisher and gateway over aws-sdk-client-mock: the StartChangeSet input change type by change type (private offer and resale authorization), one change set per offer however often a create or publish is retried (request token from the offer id), a synchronous refusal fails the offer with AWS's text, an outage leaves it approved for the tracker, and nothing is stored or sent for an invalid document.
import {
  DescribeChangeSetCommand,
  DescribeEntityCommand,
  MarketplaceCatalogClient,
  StartChangeSetCommand,
} from '@aws-sdk/client-marketplace-catalog';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createOffer, decideOffer, type OfferDeps, trackOffers } from '../../../lib/app/offers';
import type { OfferFilter, OfferStore, Page, PageRequest } from '../../../lib/app/ports';
import { InvalidInputError } from '../../../lib/domain/errors';
import { DEFAULT_GUARDRAIL_POLICY } from '../../../lib/domain/offers/guardrails';
import type { OfferRecord } from '../../../lib/domain/offers/offer';
import { AwsCatalogGatewayRegistry } from '../../../lib/marketplaces/aws/catalog-gateway';
import { AwsOfferPublisher } from '../../../lib/marketplaces/aws/offer-publisher';

const catalog = mockClient(MarketplaceCatalogClient);
const SETTINGS = { accounts: [], region: 'us-east-1', endpoint: undefined };
const NOW = '2026-11-23T10:00:00.000Z';

/** An in-memory OfferStore with the same optimistic-lock semantics as the DynamoDB one. */
class MemoryOfferStore implements OfferStore {
  readonly records = new Map<string, OfferRecord>();
  readonly changeSets = new Map<string, string>();
  async create(record: OfferRecord): Promise<boolean> {
    if (this.records.has(record.offerId)) return false;
    this.records.set(record.offerId, structuredClone(record));
    return true;
  }
  async get(offerId: string): Promise<OfferRecord | null> {
    const found = this.records.get(offerId);
    return found ? structuredClone(found) : null;
  }
  async save(record: OfferRecord, expectedVersion: number): Promise<void> {
    if (this.records.get(record.offerId)?.version !== expectedVersion) throw new Error('moved');
    this.records.set(record.offerId, structuredClone(record));
    if (record.publication?.changeSetId)
      this.changeSets.set(record.publication.changeSetId, record.offerId);
  }
  async byChangeSet(changeSetId: string): Promise<string | null> {
    return this.changeSets.get(changeSetId) ?? null;
  }
  async byEntityId(marketplace: string, entityId: string): Promise<string | null> {
    const found = [...this.records.values()].find(
      (r) => r.marketplace === marketplace && r.publication?.entityId === entityId,
    );
    return found?.offerId ?? null;
  }
  async byBuyer(marketplace: string, accountId: string): Promise<string[]> {
    return [...this.records.values()]
      .filter(
        (r) => r.marketplace === marketplace && JSON.stringify(r.document).includes(accountId),
      )
      .map((r) => r.offerId);
  }
  async list(filter: OfferFilter, page: PageRequest): Promise<Page<OfferRecord>> {
    const items = [...this.records.values()].filter(
      (r) =>
        (!filter.status || r.status === filter.status) &&
        (!filter.marketplace || r.marketplace === filter.marketplace),
    );
    return { items: items.slice(0, page.limit), cursor: null };
  }
}

function deps(store = new MemoryOfferStore()): OfferDeps & { offers: MemoryOfferStore } {
  return {
    offers: store,
    offerPublishers: {
      aws: new AwsOfferPublisher(new AwsCatalogGatewayRegistry(SETTINGS), SETTINGS),
    },
    contracts: { findByRef: async () => [], get: async () => null },
    clock: { now: () => NOW },
    offerSettings: {
      guardrails: {
        ...DEFAULT_GUARDRAIL_POLICY,
        listPrices: [
          { productId: 'prod-abc123', dimension: 'seats', currency: 'USD', priceMinor: 120_000n },
        ],
      },
      approvers: [],
    },
  };
}

function document(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    marketplace: 'aws',
    productId: 'prod-abc123',
    name: 'Acme 3-year',
    buyers: [{ accountId: '111122223333' }],
    pricing: {
      currency: 'USD',
      upfront: [{ dimension: 'seats', priceMinor: '120000', quantity: 10 }],
    },
    paymentSchedule: [
      { date: '2026-12-01', amountMinor: '600000' },
      { date: '2027-12-01', amountMinor: '600000' },
    ],
    term: { durationMonths: 24 },
    expiresOn: '2026-12-15',
    legal: { type: 'standard', version: '2022-07-14' },
    ...overrides,
  };
}

type SentChangeSet = {
  ChangeSet: {
    ChangeType: string;
    Entity: { Type: string; Identifier?: string };
    DetailsDocument: unknown;
  }[];
  ClientRequestToken: string;
  Catalog: string;
};
const sent = () =>
  catalog
    .commandCalls(StartChangeSetCommand)
    .map((c) => c.args[0].input as unknown as SentChangeSet);

afterEach(() => {
  catalog.reset();
});

describe('createOffer → StartChangeSet', () => {
  it('sends one Offer@1.0 change set, change type by change type, each on the created offer', async () => {
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs-1', ChangeSetArn: 'arn:cs-1' });
    const d = deps();
    const { offer } = await createOffer(d, {
      document: document(),
      draft: false,
      by: 'user:deal-desk',
      idempotencyKey: 'k-1',
    });
    expect(offer.status).toBe('submitted');
    const [input] = sent();
    expect(input?.Catalog).toBe('AWSMarketplace');
    expect(input?.ChangeSet.map((c) => c.ChangeType)).toEqual([
      'CreateOffer',
      'UpdateInformation',
      'UpdateTargeting',
      'UpdatePricingTerms',
      'UpdatePaymentScheduleTerms',
      'UpdateValidityTerms',
      'UpdateAvailability',
      'UpdateLegalTerms',
      'ReleaseOffer',
    ]);
    expect(input?.ChangeSet[0]).toEqual({
      ChangeType: 'CreateOffer',
      ChangeName: 'CreateOfferChange',
      Entity: { Type: 'Offer@1.0' },
      DetailsDocument: { ProductId: 'prod-abc123', Name: 'Acme 3-year' },
    });
    for (const change of input?.ChangeSet.slice(1) ?? [])
      expect(change.Entity).toEqual({
        Type: 'Offer@1.0',
        Identifier: '$CreateOfferChange.Entity.Identifier',
      });
    expect(input?.ChangeSet[4]?.DetailsDocument).toEqual({
      Terms: [
        {
          Type: 'PaymentScheduleTerm',
          CurrencyCode: 'USD',
          Schedule: [
            { ChargeDate: '2026-12-01', ChargeAmount: '6000.00' },
            { ChargeDate: '2027-12-01', ChargeAmount: '6000.00' },
          ],
        },
      ],
    });
    expect(input?.ChangeSet[5]?.DetailsDocument).toEqual({
      Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P24M' }],
    });
    expect(input?.ChangeSet[7]?.DetailsDocument).toEqual({
      Terms: [{ Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] }],
    });
    expect(input?.ClientRequestToken).toMatch(/^[0-9a-f]{36}$/);
  });

  it('sends a ResaleAuthorization@1.0 change set for a channel partner', async () => {
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs-r', ChangeSetArn: 'arn:cs-r' });
    await createOffer(deps(), {
      document: document({
        paymentSchedule: undefined,
        reseller: {
          partnerAccountId: '444455556666',
          discountPercent: '10',
          use: 'time-bound',
          expiresOn: '2027-01-31',
        },
      }),
      draft: false,
      by: 'user:deal-desk',
      idempotencyKey: 'k-r',
    });
    const [input] = sent();
    expect(input?.ChangeSet[0]?.ChangeType).toBe('CreateResaleAuthorization');
    expect(input?.ChangeSet[0]?.Entity).toEqual({ Type: 'ResaleAuthorization@1.0' });
    expect(input?.ChangeSet.at(-1)?.ChangeType).toBe('ReleaseResaleAuthorization');
    expect(input?.ChangeSet.every((c) => c.Entity.Type === 'ResaleAuthorization@1.0')).toBe(true);
  });

  it('starts one change set however often the same create is retried, with a stable request token', async () => {
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs-1', ChangeSetArn: 'arn:cs-1' });
    const d = deps();
    const first = await createOffer(d, {
      document: document(),
      draft: false,
      by: 'user:a',
      idempotencyKey: 'same',
    });
    const again = await createOffer(d, {
      document: document(),
      draft: false,
      by: 'user:a',
      idempotencyKey: 'same',
    });
    expect(again.created).toBe(false);
    expect(again.offer.offerId).toBe(first.offer.offerId);
    expect(sent()).toHaveLength(1);
    // Another caller's identical key is another offer.
    const other = await createOffer(d, {
      document: document(),
      draft: false,
      by: 'user:b',
      idempotencyKey: 'same',
    });
    expect(other.offer.offerId).not.toBe(first.offer.offerId);
    expect(new Set(sent().map((s) => s.ClientRequestToken)).size).toBe(2);
  });

  it('fails the offer with AWS’s words when StartChangeSet is refused, and keeps it approved through an outage', async () => {
    catalog.on(StartChangeSetCommand).rejects(
      Object.assign(new Error('ProductId prod-abc123 is not yours'), {
        name: 'ValidationException',
        $metadata: { httpStatusCode: 422 },
      }),
    );
    const refused = await createOffer(deps(), {
      document: document(),
      draft: false,
      by: 'user:a',
      idempotencyKey: 'x',
    });
    expect(refused.offer.status).toBe('failed');
    expect(refused.offer.publication?.failure?.description).toContain('is not yours');

    catalog.reset();
    catalog.on(StartChangeSetCommand).rejects(
      Object.assign(new Error('slow down'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 429 },
      }),
    );
    const d = deps();
    const waiting = await createOffer(d, {
      document: document(),
      draft: false,
      by: 'user:a',
      idempotencyKey: 'y',
    });
    expect(waiting.offer.status).toBe('approved');
    // The marketplace is back: the tracker publishes it, then follows the set to published.
    catalog.reset();
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs-9', ChangeSetArn: 'arn:cs-9' });
    catalog.on(DescribeChangeSetCommand).resolves({
      ChangeSetId: 'cs-9',
      Status: 'SUCCEEDED',
      ChangeSet: [
        {
          ChangeType: 'CreateOffer',
          Entity: { Type: 'Offer@1.0', Identifier: 'offer-abcdefghijklm@1' },
        },
      ],
    });
    catalog.on(DescribeEntityCommand).resolves({
      EntityType: 'Offer@1.0',
      EntityIdentifier: 'offer-abcdefghijklm@1',
      DetailsDocument: {
        Rules: [{ Type: 'AvailabilityRule', AvailabilityEndDate: '2026-12-15T23:59:59.000Z' }],
      },
    });
    expect((await trackOffers(d)).pending).toBe(1);
    const summary = await trackOffers(d);
    expect(summary.published).toBe(1);
    const stored = [...d.offers.records.values()][0];
    expect(stored?.publication).toMatchObject({
      entityId: 'offer-abcdefghijklm',
      changeSetId: 'cs-9',
    });
    expect(stored?.expiresOn).toBe('2026-12-15');
  });

  it('stores and sends nothing for an invalid document, and only an approver decides a held offer', async () => {
    const d = deps();
    await expect(
      createOffer(d, {
        document: document({ buyers: [] }),
        draft: false,
        by: 'user:a',
        idempotencyKey: 'bad',
      }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(d.offers.records.size).toBe(0);
    expect(sent()).toHaveLength(0);

    const held = await createOffer(d, {
      document: document({
        pricing: {
          currency: 'USD',
          upfront: [{ dimension: 'seats', priceMinor: '60000', quantity: 10 }],
        },
        paymentSchedule: [{ date: '2026-12-01', amountMinor: '600000' }],
      }),
      draft: false,
      by: 'user:a',
      idempotencyKey: 'held',
    });
    expect(held.offer.status).toBe('pending-approval');
    await expect(
      decideOffer(d, {
        offerId: held.offer.offerId,
        decision: 'approved',
        by: 'user:a',
        isAdmin: false,
        reason: null,
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const approver = { ...d, offerSettings: { ...d.offerSettings, approvers: ['user:vp'] } };
    catalog.on(StartChangeSetCommand).resolves({ ChangeSetId: 'cs-h', ChangeSetArn: 'arn:cs-h' });
    const approved = await decideOffer(approver, {
      offerId: held.offer.offerId,
      decision: 'approved',
      by: 'user:vp',
      isAdmin: false,
      reason: 'strategic',
    });
    expect(approved.status).toBe('submitted');
    expect(approved.approval).toMatchObject({ by: 'user:vp', reason: 'strategic' });
  });
});
