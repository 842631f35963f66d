/**
 * The single-table DynamoDB adapter: the only code that talks to DynamoDB. It translates the
 * SDK's exceptions into typed store errors, enforces limits before sending, retries transaction
 * conflicts and throttling a bounded number of times with full jitter, and pages with opaque
 * cursors. Entity-specific stores (raw inbound, contracts, ledger) are built on top of it.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { hashParts } from '../domain/ids';
import {
  type CancellationReason,
  ConditionFailedError,
  InvalidCursorError,
  StoreContentionError,
  StoreLimitError,
  StoreUnavailableError,
} from './errors';
import { itemSizeBytes } from './item-size';
import {
  ITEM_BYTES_MAX,
  QUERY_PAGE_ITEMS_MAX,
  TRANSACTION_ATTEMPTS_MAX,
  TRANSACTION_RETRY_BASE_DELAY_MS,
  TRANSACTION_RETRY_MAX_DELAY_MS,
} from './limits';
import { SECONDARY_INDEXES, type SecondaryIndexName } from './table-definition';
import type { Condition, Item, ItemKey, TransactionAction, WriteTransaction } from './transaction';

const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;
const CURSOR_PREFIX = 'c1.';
const CURSOR_TEXT_LENGTH_MAX = 4_096;
const KEY_ATTRIBUTES = new Set<string>([
  'pk',
  'sk',
  ...SECONDARY_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
]);

/** Cancellation codes that mean "try again", not "your condition is false". */
const RETRYABLE_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

export interface RetryPolicy {
  readonly attemptsMax: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  readonly random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attemptsMax: TRANSACTION_ATTEMPTS_MAX,
  baseDelayMs: TRANSACTION_RETRY_BASE_DELAY_MS,
  maxDelayMs: TRANSACTION_RETRY_MAX_DELAY_MS,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** Full-jitter backoff: uniform in [0, min(max, base·2^attempt)). */
export function backoffDelayMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(policy.random() * ceiling);
}

export interface QueryRequest {
  readonly index?: SecondaryIndexName;
  readonly partitionKey: string;
  readonly sortKeyBeginsWith?: string;
  readonly sortKeyBetween?: readonly [string, string];
  readonly limit: number;
  readonly cursor?: string | undefined;
  readonly ascending?: boolean;
  readonly consistent?: boolean;
  /** Applied after the key condition; a page may then hold fewer than `limit` items. */
  readonly filter?: Condition;
}

export interface QueryPage {
  readonly items: Record<string, unknown>[];
  /** Opaque; present when more items may follow. */
  readonly cursor: string | null;
}

export interface CommitResult {
  readonly attempts: number;
  /** Write units the service reports (null on DynamoDB Local, which does not report them). */
  readonly consumedWriteUnits: number | null;
}

export class DynamoStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY_POLICY,
  ) {}

  async get(
    key: ItemKey,
    options: { consistent?: boolean } = {},
  ): Promise<Record<string, unknown> | null> {
    const output = await this.call(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: marshall(key, MARSHALL_OPTIONS),
          ConsistentRead: options.consistent ?? true,
        }),
      ),
    );
    return output.Item ? unmarshall(output.Item) : null;
  }

  /** Put one item; with a condition, a failure is a ConditionFailedError carrying the old item. */
  async put(label: string, item: Item, condition?: Condition): Promise<void> {
    const size = itemSizeBytes(item);
    if (size > ITEM_BYTES_MAX) {
      throw new StoreLimitError(
        `Item for "${label}" is ${size} bytes; DynamoDB allows ${ITEM_BYTES_MAX}`,
      );
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(item, MARSHALL_OPTIONS),
          ...conditionParams(condition),
          ...(condition ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      );
    } catch (error) {
      throw singleItemError(error, label);
    }
  }

  /** Update one item; a failed condition is a ConditionFailedError carrying the old item. */
  async update(
    label: string,
    key: ItemKey,
    update: {
      expression: string;
      names?: Record<string, string>;
      values?: Record<string, unknown>;
    },
    condition?: Condition,
  ): Promise<void> {
    const item = toTransactItem(
      {
        kind: 'update',
        label,
        key,
        update: update.expression,
        ...(update.names ? { names: update.names } : {}),
        ...(update.values ? { values: update.values } : {}),
        ...(condition ? { condition } : {}),
      },
      this.tableName,
    ).Update;
    if (!item) throw new StoreLimitError('update produced no request');
    try {
      await this.client.send(
        new UpdateItemCommand({
          ...item,
          ...(condition ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {}),
        }),
      );
    } catch (error) {
      throw singleItemError(error, label);
    }
  }

  async delete(label: string, key: ItemKey, condition?: Condition): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: marshall(key, MARSHALL_OPTIONS),
          ...conditionParams(condition),
          ...(condition ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      );
    } catch (error) {
      throw singleItemError(error, label);
    }
  }

  async query(request: QueryRequest): Promise<QueryPage> {
    if (
      !Number.isInteger(request.limit) ||
      request.limit < 1 ||
      request.limit > QUERY_PAGE_ITEMS_MAX
    ) {
      throw new StoreLimitError(`Query limit must be 1..${QUERY_PAGE_ITEMS_MAX}`);
    }
    const index = request.index
      ? SECONDARY_INDEXES.find((i) => i.indexName === request.index)
      : undefined;
    const pkName = index?.partitionKey ?? 'pk';
    const skName = index?.sortKey ?? 'sk';
    let keyCondition = '#pk = :pk';
    const names: Record<string, string> = { '#pk': pkName };
    const values: Record<string, unknown> = { ':pk': request.partitionKey };
    if (request.sortKeyBeginsWith !== undefined) {
      keyCondition += ' AND begins_with(#sk, :skPrefix)';
      names['#sk'] = skName;
      values[':skPrefix'] = request.sortKeyBeginsWith;
    } else if (request.sortKeyBetween !== undefined) {
      keyCondition += ' AND #sk BETWEEN :skLow AND :skHigh';
      names['#sk'] = skName;
      values[':skLow'] = request.sortKeyBetween[0];
      values[':skHigh'] = request.sortKeyBetween[1];
    }
    const filter = conditionParams(request.filter);
    Object.assign(names, filter.ExpressionAttributeNames ?? {});
    const filterValues = filter.ExpressionAttributeValues ?? {};
    const exclusiveStartKey = request.cursor ? decodeCursor(request.cursor) : undefined;
    const output = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(request.index ? { IndexName: request.index } : {}),
          KeyConditionExpression: keyCondition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...marshall(values, MARSHALL_OPTIONS), ...filterValues },
          ...(filter.ConditionExpression ? { FilterExpression: filter.ConditionExpression } : {}),
          Limit: request.limit,
          ScanIndexForward: request.ascending ?? true,
          ConsistentRead: request.index ? false : (request.consistent ?? false),
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
      ),
    );
    return {
      items: (output.Items ?? []).map((item) => unmarshall(item)),
      cursor: output.LastEvaluatedKey ? encodeCursor(output.LastEvaluatedKey) : null,
    };
  }

  /**
   * Commit all actions or none. Conflicts and throttling are retried (bounded, jittered); a
   * failed condition is never retried and surfaces as ConditionFailedError naming the labels.
   * The ClientRequestToken is derived from the content, so a retry after an unknown outcome is
   * idempotent within DynamoDB's 10-minute window (deterministic ids cover the rest).
   * `requestToken: false` leaves it out, for writes whose callers must learn that a resend of the
   * same content is a duplicate (DynamoDB would replay the first success for it instead).
   */
  async commit(
    transaction: WriteTransaction,
    options: { readonly requestToken?: boolean } = {},
  ): Promise<CommitResult> {
    const actions = transaction.actions;
    if (actions.length === 0) return { attempts: 0, consumedWriteUnits: 0 };
    const items = actions.map((action) => toTransactItem(action, this.tableName));
    const token =
      options.requestToken === false ? undefined : hashParts([JSON.stringify(items)]).slice(0, 36);
    for (let attempt = 0; attempt < this.retry.attemptsMax; attempt += 1) {
      try {
        const output = await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: items,
            ClientRequestToken: token,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        const units = output.ConsumedCapacity?.map((c) => c.CapacityUnits ?? 0);
        return {
          attempts: attempt + 1,
          consumedWriteUnits: units && units.length > 0 ? units.reduce((a, b) => a + b, 0) : null,
        };
      } catch (error) {
        const retryable = this.classifyCommitError(error, actions);
        if (!retryable) throw translateError(error);
        if (attempt + 1 < this.retry.attemptsMax) {
          await this.retry.sleep(backoffDelayMs(this.retry, attempt));
        }
      }
    }
    throw new StoreContentionError(
      `Transaction still contended after ${this.retry.attemptsMax} attempts; retry later`,
    );
  }

  /** Throws ConditionFailedError for condition failures; returns whether a retry may help. */
  private classifyCommitError(error: unknown, actions: readonly TransactionAction[]): boolean {
    if (error instanceof TransactionCanceledException) {
      const reasons: CancellationReason[] = (error.CancellationReasons ?? []).map(
        (reason, index) => ({
          index,
          label: actions[index]?.label ?? `#${index}`,
          code: reason.Code ?? 'None',
          item: reason.Item ? unmarshall(reason.Item) : null,
        }),
      );
      const failed = reasons.filter((r) => r.code === 'ConditionalCheckFailed');
      if (failed.length > 0) {
        throw new ConditionFailedError(
          `Transaction cancelled: condition failed for ${failed.map((r) => `"${r.label}"`).join(', ')}`,
          reasons.filter((r) => r.code !== 'None'),
          { cause: error },
        );
      }
      const codes = reasons.map((r) => r.code).filter((code) => code !== 'None');
      if (codes.length > 0 && codes.every((code) => RETRYABLE_CANCELLATION_CODES.has(code)))
        return true;
      if (codes.includes('ValidationError')) {
        throw new StoreLimitError(`Transaction rejected as invalid: ${error.message}`, {
          cause: error,
        });
      }
      return false;
    }
    const name = (error as { name?: string } | null)?.name;
    return (
      name === 'TransactionInProgressException' ||
      name === 'ThrottlingException' ||
      name === 'ProvisionedThroughputExceededException'
    );
  }

  /** Cheap reachability check for /health: the table exists and answers. */
  async describe(): Promise<{ status: string; itemCount: number }> {
    const output = await this.call(() =>
      this.client.send(new DescribeTableCommand({ TableName: this.tableName })),
    );
    return {
      status: output.Table?.TableStatus ?? 'UNKNOWN',
      itemCount: Number(output.Table?.ItemCount ?? 0),
    };
  }

  /** Runs one SDK call, translating its failures into typed store errors. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw translateError(error);
    }
  }
}

function conditionParams(condition: Condition | undefined): {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
} {
  if (!condition) return {};
  return {
    ConditionExpression: condition.expression,
    ...(condition.names ? { ExpressionAttributeNames: { ...condition.names } } : {}),
    ...(condition.values
      ? { ExpressionAttributeValues: marshall({ ...condition.values }, MARSHALL_OPTIONS) }
      : {}),
  };
}

function toTransactItem(action: TransactionAction, tableName: string): TransactWriteItem {
  const onFailure = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  switch (action.kind) {
    case 'put':
      return {
        Put: {
          TableName: tableName,
          Item: marshall(action.item, MARSHALL_OPTIONS),
          ...conditionParams(action.condition),
          ...(action.condition ? onFailure : {}),
        },
      };
    case 'update': {
      const condition = conditionParams(action.condition);
      const names = { ...(action.names ?? {}), ...(condition.ExpressionAttributeNames ?? {}) };
      const values = {
        ...(action.values ? marshall({ ...action.values }, MARSHALL_OPTIONS) : {}),
        ...(condition.ExpressionAttributeValues ?? {}),
      };
      return {
        Update: {
          TableName: tableName,
          Key: marshall(action.key, MARSHALL_OPTIONS),
          UpdateExpression: action.update,
          ...(condition.ConditionExpression
            ? { ConditionExpression: condition.ConditionExpression }
            : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ...(action.condition ? onFailure : {}),
        },
      };
    }
    case 'delete':
      return {
        Delete: {
          TableName: tableName,
          Key: marshall(action.key, MARSHALL_OPTIONS),
          ...conditionParams(action.condition),
          ...(action.condition ? onFailure : {}),
        },
      };
    case 'check': {
      const condition = conditionParams(action.condition);
      return {
        ConditionCheck: {
          TableName: tableName,
          Key: marshall(action.key, MARSHALL_OPTIONS),
          ConditionExpression: action.condition.expression,
          ...(condition.ExpressionAttributeNames
            ? { ExpressionAttributeNames: condition.ExpressionAttributeNames }
            : {}),
          ...(condition.ExpressionAttributeValues
            ? { ExpressionAttributeValues: condition.ExpressionAttributeValues }
            : {}),
          ...onFailure,
        },
      };
    }
  }
}

function singleItemError(error: unknown, label: string): Error {
  if (error instanceof ConditionalCheckFailedException) {
    const old = error.Item ? unmarshall(error.Item) : null;
    return new ConditionFailedError(`Condition failed for "${label}"`, [
      { index: 0, label, code: 'ConditionalCheckFailed', item: old },
    ]);
  }
  return translateError(error);
}

/** SDK and network failures become typed store errors; typed errors pass through. */
export function translateError(error: unknown): Error {
  if (
    error instanceof ConditionFailedError ||
    error instanceof StoreLimitError ||
    error instanceof StoreContentionError ||
    error instanceof StoreUnavailableError ||
    error instanceof InvalidCursorError
  ) {
    return error;
  }
  const name = (error as { name?: string } | null)?.name ?? 'Error';
  if (name === 'ValidationException' && /size|exceed/i.test(String((error as Error).message))) {
    return new StoreLimitError(`DynamoDB rejected the request: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (
    name === 'ThrottlingException' ||
    name === 'ProvisionedThroughputExceededException' ||
    name === 'TransactionCanceledException'
  ) {
    return new StoreContentionError(`DynamoDB is busy (${name}); retry later`, { cause: error });
  }
  return new StoreUnavailableError(`DynamoDB request failed (${name})`, { cause: error });
}

export function encodeCursor(lastKey: Record<string, AttributeValue>): string {
  const plain = unmarshall(lastKey);
  return CURSOR_PREFIX + Buffer.from(JSON.stringify(plain), 'utf8').toString('base64url');
}

/** Decodes a cursor we issued; anything else is an InvalidCursorError (a 400, not a 500). */
export function decodeCursor(cursor: string): Record<string, AttributeValue> {
  if (!cursor.startsWith(CURSOR_PREFIX) || cursor.length > CURSOR_TEXT_LENGTH_MAX) {
    throw new InvalidCursorError('The pagination cursor is not one this API issued');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8'),
    );
  } catch (error) {
    throw new InvalidCursorError('The pagination cursor is malformed', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidCursorError('The pagination cursor is malformed');
  }
  const entries = Object.entries(parsed);
  if (
    entries.length === 0 ||
    entries.some(([name, value]) => !KEY_ATTRIBUTES.has(name) || typeof value !== 'string')
  ) {
    throw new InvalidCursorError('The pagination cursor is malformed');
  }
  return marshall(parsed, MARSHALL_OPTIONS);
}
