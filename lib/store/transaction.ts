/**
 * A write transaction under construction. Each action carries a label naming what it protects
 * ("event-record", "period-open"), so a cancelled transaction reports which condition failed in
 * the caller's words. DynamoDB's limits are checked as actions are added: 100 actions, distinct
 * items, 400 KB per item, 4 MB per request.
 */
import { StoreLimitError } from './errors';
import { itemSizeBytes } from './item-size';
import { ITEM_BYTES_MAX, TRANSACT_ITEMS_MAX, TRANSACT_REQUEST_BYTES_MAX } from './limits';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY } from './table-definition';

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export type Item = ItemKey & Record<string, unknown>;

export interface Condition {
  readonly expression: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

/** The item must not exist yet: the guard of every append-only, deterministic-id write. */
export const ITEM_ABSENT: Condition = { expression: 'attribute_not_exists(pk)' };
/** The item must exist. */
export const ITEM_PRESENT: Condition = { expression: 'attribute_exists(pk)' };

export type TransactionAction =
  | {
      readonly kind: 'put';
      readonly label: string;
      readonly item: Item;
      readonly condition?: Condition;
    }
  | {
      readonly kind: 'update';
      readonly label: string;
      readonly key: ItemKey;
      readonly update: string;
      readonly names?: Readonly<Record<string, string>>;
      readonly values?: Readonly<Record<string, unknown>>;
      readonly condition?: Condition;
    }
  | {
      readonly kind: 'delete';
      readonly label: string;
      readonly key: ItemKey;
      readonly condition?: Condition;
    }
  | {
      readonly kind: 'check';
      readonly label: string;
      readonly key: ItemKey;
      readonly condition: Condition;
    };

/** Rough per-action request overhead (table name, expressions, JSON framing). */
const ACTION_OVERHEAD_BYTES = 256;

export class WriteTransaction {
  private readonly actionList: TransactionAction[] = [];
  private readonly keys = new Set<string>();
  private bytes = 0;

  get actions(): readonly TransactionAction[] {
    return this.actionList;
  }

  get size(): number {
    return this.actionList.length;
  }

  get estimatedBytes(): number {
    return this.bytes;
  }

  put(label: string, item: Item, condition?: Condition): this {
    const size = itemSizeBytes(item);
    if (size > ITEM_BYTES_MAX) {
      throw new StoreLimitError(
        `Item for "${label}" is ${size} bytes; DynamoDB allows ${ITEM_BYTES_MAX}`,
      );
    }
    return this.add({ kind: 'put', label, item, ...(condition ? { condition } : {}) }, item, size);
  }

  update(
    label: string,
    key: ItemKey,
    update: {
      expression: string;
      names?: Record<string, string>;
      values?: Record<string, unknown>;
    },
    condition?: Condition,
  ): this {
    const action: TransactionAction = {
      kind: 'update',
      label,
      key,
      update: update.expression,
      ...(update.names ? { names: update.names } : {}),
      ...(update.values ? { values: update.values } : {}),
      ...(condition ? { condition } : {}),
    };
    return this.add(action, key, itemSizeBytes({ ...key, ...(update.values ?? {}) }));
  }

  delete(label: string, key: ItemKey, condition?: Condition): this {
    return this.add({ kind: 'delete', label, key, ...(condition ? { condition } : {}) }, key, 0);
  }

  check(label: string, key: ItemKey, condition: Condition): this {
    return this.add({ kind: 'check', label, key, condition }, key, 0);
  }

  private add(action: TransactionAction, key: ItemKey, payloadBytes: number): this {
    if (this.actionList.length >= TRANSACT_ITEMS_MAX) {
      throw new StoreLimitError(`A transaction holds at most ${TRANSACT_ITEMS_MAX} actions`);
    }
    const pk = key[TABLE_PARTITION_KEY];
    const sk = key[TABLE_SORT_KEY];
    if (typeof pk !== 'string' || typeof sk !== 'string' || pk.length === 0 || sk.length === 0) {
      throw new StoreLimitError(`Action "${action.label}" has no string pk/sk`);
    }
    const identity = `${pk}\u0000${sk}`;
    if (this.keys.has(identity)) {
      throw new StoreLimitError(
        `Two actions in one transaction target the same item (${pk} / ${sk}); DynamoDB forbids it`,
      );
    }
    const bytes = this.bytes + payloadBytes + ACTION_OVERHEAD_BYTES;
    if (bytes > TRANSACT_REQUEST_BYTES_MAX) {
      throw new StoreLimitError(
        `A transaction carries at most ${TRANSACT_REQUEST_BYTES_MAX} bytes`,
      );
    }
    this.keys.add(identity);
    this.bytes = bytes;
    this.actionList.push(action);
    return this;
  }
}
