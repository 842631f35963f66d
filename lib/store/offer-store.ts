/**
 * Private offers as the deal desk wrote them, with their approval and publication state.
 *
 * Offer:     pk OFFER#<id> · sk OFFER · version (optimistic lock) · status · data (the record)
 *            gsi1pk OFFERS · gsi1sk <marketplace>#<createdAt>#<id>            (all, by marketplace)
 *            gsi2pk OFFERSTATUS#<status> · gsi2sk <marketplace>#<createdAt>#<id> (by status)
 * ChangeSet: pk CHANGESET#<changeSetId> · sk CHANGESET · offerId (change-set events → offer)
 */
import { ConflictError } from '../app/errors';
import type { OfferFilter, OfferStore, Page, PageRequest } from '../app/ports';
import { type OfferRecord, OfferRecordSchema } from '../domain/offers/offer';
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

function decode(item: Record<string, unknown>): OfferRecord {
  return OfferRecordSchema.parse(JSON.parse(String(item.data)));
}

export class DynamoOfferStore implements OfferStore {
  constructor(private readonly store: DynamoStore) {}

  /** False when an offer with this id exists already (a retried create). */
  async create(record: OfferRecord): Promise<boolean> {
    try {
      await this.store.put('offer', offerItem(record), ITEM_ABSENT);
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
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
