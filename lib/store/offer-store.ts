/**
 * Private offers as the deal desk wrote them, with their approval and publication state.
 *
 * Offer:     pk OFFER#<id> · sk OFFER · version (optimistic lock) · status · data (the record)
 *            gsi1pk OFFERS · gsi1sk <marketplace>#<createdAt>#<id>            (all, by marketplace)
 *            gsi2pk OFFERSTATUS#<status> · gsi2sk <marketplace>#<createdAt>#<id> (by status)
 * ChangeSet: pk CHANGESET#<changeSetId> · sk CHANGESET · offerId (change-set events → offer)
 * Entity:    pk OFFERENTITY#<marketplace>#<entityId> · sk OFFERENTITY · offerId (contract → offer)
 * Buyer:     pk OFFERBUYER#<marketplace>#<accountId> · sk <offerId> (deal-registration conflicts)
 */
import { ConflictError } from '../app/errors';
import type { OfferFilter, OfferStore, Page, PageRequest } from '../app/ports';
import { type OfferRecord, OfferRecordSchema } from '../domain/offers/offer';
import type { Marketplace } from '../domain/schemas/primitives';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { ITEM_ABSENT, WriteTransaction } from './transaction';

const ALL_OFFERS = 'OFFERS';

function offerKey(offerId: string) {
  return { pk: `OFFER#${offerId}`, sk: 'OFFER' } as const;
}

function offerItem(record: OfferRecord) {
  const order = `${record.marketplace}#${record.createdAt}#${record.offerId}`;
  return {
    ...offerKey(record.offerId),
    entity: 'Offer',
    offerId: record.offerId,
    version: record.version,
    status: record.status,
    data: JSON.stringify(record),
    gsi1pk: ALL_OFFERS,
    gsi1sk: order,
    gsi2pk: `OFFERSTATUS#${record.status}`,
    gsi2sk: order,
  };
}

/** Offers read per buyer account when checking a deal registration against direct deals. */
export const OFFERS_PER_BUYER_MAX = 100;

/** One pointer per buyer the document names (a private offer names at most a few dozen). */
function putBuyerPointers(tx: WriteTransaction, record: OfferRecord): void {
  const buyers = (record.document as { buyers?: unknown }).buyers;
  if (!Array.isArray(buyers)) return;
  const accounts = new Set<string>();
  for (const buyer of buyers) {
    const accountId = (buyer as { accountId?: unknown } | null)?.accountId;
    if (typeof accountId === 'string' && accountId.length > 0) accounts.add(accountId);
  }
  for (const accountId of [...accounts].slice(0, OFFER_BUYER_POINTERS_MAX))
    tx.put('offer-buyer', {
      pk: `OFFERBUYER#${record.marketplace}#${accountId}`,
      sk: record.offerId,
      entity: 'OfferBuyer',
    });
}
/** A draft may name anything; pointers stay within one transaction's budget. */
const OFFER_BUYER_POINTERS_MAX = 50;

function decode(item: Record<string, unknown>): OfferRecord {
  return OfferRecordSchema.parse(JSON.parse(String(item.data)));
}

export class DynamoOfferStore implements OfferStore {
  constructor(private readonly store: DynamoStore) {}

  /** False when an offer with this id exists already (a retried create). */
  async create(record: OfferRecord): Promise<boolean> {
    try {
      const tx = new WriteTransaction().put('offer', offerItem(record), ITEM_ABSENT);
      putBuyerPointers(tx, record);
      await this.store.commit(tx);
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError && error.failedOn('offer')) return false;
      throw error;
    }
  }

  async get(offerId: string): Promise<OfferRecord | null> {
    const item = await this.store.get(offerKey(offerId), { consistent: true });
    return item ? decode(item) : null;
  }

  /** Saves a new version; 409 if someone saved another version since `expectedVersion`. */
  async save(record: OfferRecord, expectedVersion: number): Promise<void> {
    const tx = new WriteTransaction().put('offer', offerItem(record), {
      expression: 'version = :v',
      values: { ':v': expectedVersion },
    });
    putBuyerPointers(tx, record);
    const entityId = record.publication?.entityId;
    if (entityId) {
      tx.put('offer-entity', {
        pk: `OFFERENTITY#${record.marketplace}#${entityId}`,
        sk: 'OFFERENTITY',
        entity: 'OfferEntity',
        offerId: record.offerId,
      });
    }
    const changeSetId = record.publication?.changeSetId;
    if (changeSetId) {
      tx.put('offer-change-set', {
        pk: `CHANGESET#${changeSetId}`,
        sk: 'CHANGESET',
        entity: 'OfferChangeSet',
        offerId: record.offerId,
      });
    }
    try {
      await this.store.commit(tx);
    } catch (error) {
      if (error instanceof ConditionFailedError && error.failedOn('offer'))
        throw new ConflictError(
          'offer_changed',
          `Offer ${record.offerId} changed meanwhile; retry`,
        );
      throw error;
    }
  }

  async byChangeSet(changeSetId: string): Promise<string | null> {
    const item = await this.store.get({ pk: `CHANGESET#${changeSetId}`, sk: 'CHANGESET' });
    return item ? String(item.offerId) : null;
  }

  async byEntityId(marketplace: Marketplace, entityId: string): Promise<string | null> {
    const item = await this.store.get({
      pk: `OFFERENTITY#${marketplace}#${entityId}`,
      sk: 'OFFERENTITY',
    });
    return item ? String(item.offerId) : null;
  }

  async byBuyer(marketplace: Marketplace, accountId: string): Promise<string[]> {
    const page = await this.store.query({
      partitionKey: `OFFERBUYER#${marketplace}#${accountId}`,
      limit: OFFERS_PER_BUYER_MAX,
    });
    return page.items.map((item) => String(item.sk));
  }

  async list(filter: OfferFilter, page: PageRequest): Promise<Page<OfferRecord>> {
    const result = await this.store.query({
      index: filter.status ? 'gsi2' : 'gsi1',
      partitionKey: filter.status ? `OFFERSTATUS#${filter.status}` : ALL_OFFERS,
      ...(filter.marketplace ? { sortKeyBeginsWith: `${filter.marketplace}#` } : {}),
      limit: page.limit,
      cursor: page.cursor,
      ascending: false,
    });
    return { items: result.items.map(decode), cursor: result.cursor };
  }
}
