/**
 * Contracts in the single table. One apply is one transaction: the snapshot (optimistic version
 * check), an immutable copy of that version, the new events (each guarded by its id), the refs
 * index, the raw link and whatever the apply hooks attached. All or nothing; a retry converges.
 *
 * Snapshot:  pk CT#<id> · sk SNAPSHOT · version · gsi1pk CONTRACTS · gsi1sk <marketplace>#<status>#<id>
 *            · gsi2pk CUSTOMER#<buyer account> · gsi2sk <marketplace>#<id>
 * Version:   pk CT#<id> · sk V#<000001>            (immutable history)
 * Event:     pk CT#<id> · sk EV#<eventId> · gsi1pk CTEV#<id> · gsi1sk <version>#<seq> · gsi2pk EVENT#<eventId>
 * Raw link:  pk CT#<id> · sk RAW#<receivedAt>#<rawId>
 * Rejection: pk CT#<id> · sk REJ#<sourceVersion>
 * Ref:       pk REF#<marketplace>#<key>#<value> · sk CT#<id>   (agreement id, license, customer → contract)
 */
import { z } from 'zod';
import { ContractVersionConflictError } from '../app/errors';
import type {
  ContractChange,
  ContractListFilter,
  ContractRejection,
  ContractStore,
  Page,
  PageRequest,
  RawLink,
  StoredContractEvent,
} from '../app/ports';
import { type ContractSnapshot, ContractSnapshotSchema } from '../domain/contract';
import { ContractEventSchema } from '../domain/events';
import type { Marketplace } from '../domain/schemas/primitives';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { addPosting, REVENUE_ISSUES_PARTITION, revenueIssueKey } from './ledger-items';
import { ITEM_ABSENT, WriteTransaction } from './transaction';
import { deliveryItem } from './webhook-items';

/** Refs indexed per contract; keeps the transaction far from its 100-action limit. */
export const CONTRACT_REFS_MAX = 10;
/** Events one apply may write. */
export const CONTRACT_EVENTS_PER_CHANGE_MAX = 40;
/** Contracts one ref may point at (concurrent agreements of one buyer). */
export const CONTRACTS_PER_REF_MAX = 100;
const VERSION_DIGITS = 6;

const contractKey = (contractId: string) => ({ pk: `CT#${contractId}`, sk: 'SNAPSHOT' });
const refPartition = (marketplace: Marketplace, key: string, value: string) =>
  `REF#${marketplace}#${key}#${value}`;
const pad = (n: number, digits: number) => String(n).padStart(digits, '0');

function encodeSnapshot(snapshot: ContractSnapshot): string {
  return JSON.stringify(z.encode(ContractSnapshotSchema, snapshot));
}

function decodeSnapshot(item: Record<string, unknown>): ContractSnapshot {
  return ContractSnapshotSchema.parse(JSON.parse(String(item.data)));
}

function decodeEvent(item: Record<string, unknown>): StoredContractEvent {
  return {
    event: ContractEventSchema.parse(JSON.parse(String(item.data))),
    version: Number(item.version),
    recordedAt: String(item.recordedAt),
  };
}

export class DynamoContractStore implements ContractStore {
  constructor(private readonly store: DynamoStore) {}

  async get(contractId: string): Promise<ContractSnapshot | null> {
    const item = await this.store.get(contractKey(contractId));
    return item ? decodeSnapshot(item) : null;
  }

  async findByRef(marketplace: Marketplace, key: string, value: string): Promise<string[]> {
    const page = await this.store.query({
      partitionKey: refPartition(marketplace, key, value),
      limit: CONTRACTS_PER_REF_MAX,
      consistent: true,
    });
    return page.items.map((item) => String(item.sk).slice('CT#'.length));
  }

  async knownEventIds(contractId: string, eventIds: readonly string[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (const eventId of eventIds) {
      const item = await this.store.get({ pk: `CT#${contractId}`, sk: `EV#${eventId}` });
      if (item) known.add(eventId);
    }
    return known;
  }

  async commit(change: ContractChange): Promise<void> {
    const { contractId, next } = change;
    if (change.events.length > CONTRACT_EVENTS_PER_CHANGE_MAX) {
      throw new Error(`A change may carry at most ${CONTRACT_EVENTS_PER_CHANGE_MAX} events`);
    }
    // The offer a contract was accepted from is a ref too: an offer lists its acceptances by it.
    const refs = Object.entries({
      ...next.refs,
      ...(next.terms.offerId ? { offer: next.terms.offerId } : {}),
      ...(next.terms.offerId?.includes('/')
        ? { offerTail: next.terms.offerId.slice(next.terms.offerId.lastIndexOf('/') + 1) }
        : {}),
    });
    if (refs.length > CONTRACT_REFS_MAX)
      throw new Error(`A contract may carry at most ${CONTRACT_REFS_MAX} refs`);
    const now = next.updatedAt;
    const tx = new WriteTransaction();
    tx.put(
      'contract-snapshot',
      {
        ...contractKey(contractId),
        entity: 'ContractSnapshot',
        contractId,
        version: next.version,
        status: next.status,
        marketplace: next.marketplace,
        data: encodeSnapshot(next),
        gsi1pk: 'CONTRACTS',
        gsi1sk: `${next.marketplace}#${next.status}#${contractId}`,
        gsi2pk: `CUSTOMER#${next.terms.buyer.accountId}`,
        gsi2sk: `${next.marketplace}#${contractId}`,
      },
      change.expectedVersion === 0
        ? ITEM_ABSENT
        : { expression: 'version = :expected', values: { ':expected': change.expectedVersion } },
    );
    tx.put(
      'contract-version',
      {
        pk: `CT#${contractId}`,
        sk: `V#${pad(next.version, VERSION_DIGITS)}`,
        entity: 'ContractVersion',
        data: encodeSnapshot(next),
      },
      ITEM_ABSENT,
    );
    change.events.forEach((event, seq) => {
      tx.put(
        `event:${event.type}`,
        {
          pk: `CT#${contractId}`,
          sk: `EV#${event.eventId}`,
          entity: 'ContractEvent',
          eventId: event.eventId,
          type: event.type,
          version: next.version,
          seq,
          recordedAt: now,
          data: JSON.stringify(z.encode(ContractEventSchema, event)),
          gsi1pk: `CTEV#${contractId}`,
          gsi1sk: `${pad(next.version, VERSION_DIGITS)}#${pad(seq, 3)}`,
          gsi2pk: `EVENT#${event.eventId}`,
          gsi2sk: 'EVENT',
        },
        ITEM_ABSENT,
      );
    });
    for (const [key, value] of refs) {
      tx.put('contract-ref', {
        pk: refPartition(next.marketplace, key, value),
        sk: `CT#${contractId}`,
        entity: 'ContractRef',
        contractId,
      });
    }
    if (change.rawLink) {
      tx.put('raw-link', rawLinkItem(contractId, change.rawLink));
    }
    for (const delivery of change.attachments.webhookDeliveries) {
      tx.put('webhook-delivery', deliveryItem(delivery), ITEM_ABSENT);
    }
    if (change.attachments.ledger) addPosting(tx, change.attachments.ledger);
    if (change.attachments.revenueIssue) {
      tx.put('revenue-issue', {
        ...revenueIssueKey(contractId),
        entity: 'RevenueIssue',
        ...change.attachments.revenueIssue,
        gsi1pk: REVENUE_ISSUES_PARTITION,
        gsi1sk: contractId,
      });
    }
    try {
      await this.store.commit(tx);
    } catch (error) {
      if (
        error instanceof ConditionFailedError &&
        (error.failedOn('contract-snapshot') ||
          error.failedOn('contract-version') ||
          // The book moved (a run posted meanwhile): recompute like any other conflict.
          error.failedOn('contract-book') ||
          error.failedOn('period-lock') ||
          error.failedOn('revenue-schedule'))
      ) {
        throw new ContractVersionConflictError(
          `Contract ${contractId} moved past version ${change.expectedVersion}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async linkRaw(contractId: string, link: RawLink): Promise<void> {
    await this.store.put('raw-link', rawLinkItem(contractId, link));
  }

  async recordRejection(rejection: ContractRejection): Promise<void> {
    await this.store.put('contract-rejection', {
      pk: `CT#${rejection.contractId}`,
      sk: `REJ#${rejection.sourceVersion}`,
      entity: 'ContractRejection',
      ...rejection,
      eventTypes: [...rejection.eventTypes],
    });
  }

  async list(filter: ContractListFilter, page: PageRequest): Promise<Page<ContractSnapshot>> {
    const statusFilter = filter.status
      ? {
          expression: '#status = :status',
          names: { '#status': 'status' },
          values: { ':status': filter.status },
        }
      : undefined;
    const result = filter.customer
      ? await this.store.query({
          index: 'gsi2',
          partitionKey: `CUSTOMER#${filter.customer}`,
          ...(filter.marketplace ? { sortKeyBeginsWith: `${filter.marketplace}#` } : {}),
          ...(statusFilter ? { filter: statusFilter } : {}),
          limit: page.limit,
          cursor: page.cursor,
        })
      : await this.store.query({
          index: 'gsi1',
          partitionKey: 'CONTRACTS',
          ...(filter.marketplace
            ? {
                sortKeyBeginsWith: filter.status
                  ? `${filter.marketplace}#${filter.status}#`
                  : `${filter.marketplace}#`,
              }
            : {}),
          ...(statusFilter && !filter.marketplace ? { filter: statusFilter } : {}),
          limit: page.limit,
          cursor: page.cursor,
        });
    return { items: result.items.map(decodeSnapshot), cursor: result.cursor };
  }

  async events(contractId: string, page: PageRequest): Promise<Page<StoredContractEvent>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: `CTEV#${contractId}`,
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map(decodeEvent), cursor: result.cursor };
  }

  async rawLinks(contractId: string, page: PageRequest): Promise<Page<RawLink>> {
    const result = await this.store.query({
      partitionKey: `CT#${contractId}`,
      sortKeyBeginsWith: 'RAW#',
      limit: page.limit,
      cursor: page.cursor,
    });
    return {
      items: result.items.map((item) => ({
        rawId: String(item.rawId),
        receivedAt: String(item.receivedAt),
      })),
      cursor: result.cursor,
    };
  }

  async rejections(contractId: string, page: PageRequest): Promise<Page<ContractRejection>> {
    const result = await this.store.query({
      partitionKey: `CT#${contractId}`,
      sortKeyBeginsWith: 'REJ#',
      limit: page.limit,
      cursor: page.cursor,
    });
    return {
      items: result.items.map((item) => ({
        contractId: String(item.contractId),
        rawId: typeof item.rawId === 'string' ? item.rawId : null,
        sourceVersion: String(item.sourceVersion),
        eventTypes: (item.eventTypes as string[] | undefined) ?? [],
        code: String(item.code),
        message: String(item.message),
        at: String(item.at),
      })),
      cursor: result.cursor,
    };
  }
}

function rawLinkItem(contractId: string, link: RawLink) {
  return {
    pk: `CT#${contractId}`,
    sk: `RAW#${link.receivedAt}#${link.rawId}`,
    entity: 'ContractRawLink',
    rawId: link.rawId,
    receivedAt: link.receivedAt,
  };
}
