/**
 * The partner statement index in the single table (port in lib/app/statements.ts).
 *
 * Statement:    pk STMT#<partnerId>      · sk <period>   (statement id, hashes, files, delivery)
 * Chain head:   pk STMTHEAD#<partnerId>  · sk HEAD       (the latest sequence and hash)
 *
 * A statement is added in one transaction: its item (ITEM_ABSENT: a period is issued once) and
 * the partner's chain head, conditioned on the sequence it extends — so two runs can neither
 * issue a period twice nor fork a partner's chain. What is written at issue never changes;
 * only `archived` and the delivery attributes are updated afterwards.
 */

import type { Page, PageRequest } from '../app/ports';
import type {
  StatementAddOutcome,
  StatementChainHead,
  StatementDelivery,
  StatementIndex,
  StatementRecord,
} from '../app/statements';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { decodeExact, encodeExact } from './ledger-items';
import { ITEM_ABSENT, ITEM_PRESENT, WriteTransaction } from './transaction';

/** Statements returned per page of a partner's list (a bounded page). */
export const STATEMENT_INDEX_PAGE_SIZE_MAX = 100;

const HEAD_SK = 'HEAD';
const LABEL = { statement: 'statement', head: 'statement-chain-head' } as const;

export const statementRecordKey = (partnerId: string, period: string) => ({
  pk: `STMT#${partnerId}`,
  sk: period,
});
export const statementHeadKey = (partnerId: string) => ({
  pk: `STMTHEAD#${partnerId}`,
  sk: HEAD_SK,
});

type Immutable = Omit<StatementRecord, 'archived' | 'delivery'>;

function recordOf(item: Record<string, unknown>): StatementRecord {
  const immutable = decodeExact<Immutable>(String(item.data));
  return {
    ...immutable,
    archived: item.archived === true,
    delivery: decodeExact<StatementDelivery>(String(item.delivery)),
  };
}

export class DynamoStatementIndex implements StatementIndex {
  constructor(private readonly store: DynamoStore) {}

  async add(record: StatementRecord): Promise<StatementAddOutcome> {
    const { archived: _archived, delivery, ...immutable } = record;
    const tx = new WriteTransaction();
    tx.put(
      LABEL.statement,
      {
        ...statementRecordKey(record.partnerId, record.period),
        entity: 'PartnerStatement',
        partnerId: record.partnerId,
        period: record.period,
        statementId: record.statementId,
        sequence: record.sequence,
        hash: record.hash,
        previousHash: record.previousHash,
        issuedAt: record.issuedAt,
        data: encodeExact(immutable),
        archived: false,
        deliveryStatus: delivery.status,
        delivery: encodeExact(delivery),
      },
      ITEM_ABSENT,
    );
    tx.put(
      LABEL.head,
      {
        ...statementHeadKey(record.partnerId),
        entity: 'PartnerStatementChainHead',
        partnerId: record.partnerId,
        sequence: record.sequence,
        hash: record.hash,
        period: record.period,
        statementId: record.statementId,
      },
      record.sequence === 1
        ? ITEM_ABSENT
        : {
            expression: 'attribute_exists(pk) AND #sequence = :previous',
            names: { '#sequence': 'sequence' },
            values: { ':previous': record.sequence - 1 },
          },
    );
    try {
      await this.store.commit(tx);
      return 'added';
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      if (error.failedOn(LABEL.statement)) return 'exists';
      if (error.failedOn(LABEL.head)) return 'chain_moved';
      throw error;
    }
  }

  async get(partnerId: string, period: string): Promise<StatementRecord | null> {
    const item = await this.store.get(statementRecordKey(partnerId, period), { consistent: true });
    return item ? recordOf(item) : null;
  }

  async head(partnerId: string): Promise<StatementChainHead | null> {
    const item = await this.store.get(statementHeadKey(partnerId), { consistent: true });
    if (!item) return null;
    return {
      sequence: Number(item.sequence),
      hash: String(item.hash),
      period: String(item.period),
    };
  }

  async markArchived(partnerId: string, period: string): Promise<void> {
    await this.store.update(
      LABEL.statement,
      statementRecordKey(partnerId, period),
      { expression: 'SET archived = :true', values: { ':true': true } },
      ITEM_PRESENT,
    );
  }

  async markDelivery(
    partnerId: string,
    period: string,
    delivery: StatementDelivery,
  ): Promise<void> {
    await this.store.update(
      LABEL.statement,
      statementRecordKey(partnerId, period),
      {
        expression: 'SET delivery = :delivery, deliveryStatus = :status',
        values: { ':delivery': encodeExact(delivery), ':status': delivery.status },
      },
      ITEM_PRESENT,
    );
  }

  async list(partnerId: string, page: PageRequest): Promise<Page<StatementRecord>> {
    const result = await this.store.query({
      partitionKey: `STMT#${partnerId}`,
      limit: Math.min(Math.max(1, page.limit), STATEMENT_INDEX_PAGE_SIZE_MAX),
      cursor: page.cursor,
      ascending: false,
      consistent: true,
    });
    return { items: result.items.map(recordOf), cursor: result.cursor };
  }
}
