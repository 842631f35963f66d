/**
 * The usage ledger in the single table. A record and its hour line are written in ONE
 * transaction: the record put is guarded by `attribute_not_exists` (a retried or racing record
 * is refused and answered as duplicate or conflict by its content hash), and the hour line is
 * updated with DynamoDB `ADD` on integer micro-units (exact to 38 digits; no read, no version
 * race) guarded by "not sealed". So a record is counted exactly once, and never into an hour the
 * flush has claimed. Every later change of a line is a conditional update on (status, attempts)
 * — the claim also pins recordCount — so two flushes never both own a line.
 *
 * Record:    pk USAGE#<contractId> · sk REC#<recordId> · contentHash · hourStart · expiresAt (TTL)
 * Hour line: pk USAGE#<contractId> · sk HOUR#<hourStart>#<dimension> · receivedUnits · recordCount
 *            · sealed · status · attempts · reportId · reportUnits · dueAt · deadline …
 *            while unfinished: gsi1pk USAGEDUE · gsi1sk <dueAt>#<contractId>#<hourStart>#<dimension>
 *                              gsi2pk USAGEOPEN#<contractId> · gsi2sk <hourStart>#<dimension>
 * Allowance: pk USAGE#<contractId> · sk ALLOW#<dimension>#<periodStart> · consumedUnits (Azure)
 *
 * Lines sort by hour first so a time range of one contract (all dimensions) is one query.
 */
import type {
  AllowanceUse,
  LineExpectation,
  StoredUsageRecord,
  UsageRecordWrite,
  UsageStore,
  UsageWriteOutcome,
} from '../app/metering';
import type { Page, PageRequest } from '../app/ports';
import { invariant } from '../domain/errors';
import type { LinePatch, ReportStatus, UsageHourLine } from '../domain/metering/ledger';
import type { Marketplace } from '../domain/schemas/primitives';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { QUERY_PAGE_ITEMS_MAX, TRANSACT_ITEMS_MAX } from './limits';
import { type Condition, ITEM_ABSENT, type Item, WriteTransaction } from './transaction';

/** Partition of the due index: every unfinished line, by when the flush should look at it. */
export const USAGE_DUE_PARTITION = 'USAGEDUE';
/**
 * Records are kept for idempotency beyond the longest lateness window a policy allows (30 days):
 * a retry older than that is refused as LATE_USAGE before the store is asked.
 */
export const USAGE_RECORD_TTL_DAYS = 35;
/** Actions per record transaction (records plus their distinct hour lines). */
export const USAGE_WRITE_ACTIONS_MAX = TRANSACT_ITEMS_MAX;

const partition = (contractId: string) => `USAGE#${contractId}`;
const recordKey = (contractId: string, recordId: string) => ({
  pk: partition(contractId),
  sk: `REC#${recordId}`,
});
const lineKey = (contractId: string, hourStart: string, dimension: string) => ({
  pk: partition(contractId),
  sk: `HOUR#${hourStart}#${dimension}`,
});
const allowanceKey = (contractId: string, dimension: string, periodStart: string) => ({
  pk: partition(contractId),
  sk: `ALLOW#${dimension}#${periodStart}`,
});
const openPartition = (contractId: string) => `USAGEOPEN#${contractId}`;
const dueSortKey = (
  dueAt: string,
  line: Pick<UsageHourLine, 'contractId' | 'hourStart' | 'dimension'>,
) => `${dueAt}#${line.contractId}#${line.hourStart}#${line.dimension}`;

/** Writers may add to a line only while the flush has not sealed it. */
const NOT_SEALED: Condition = {
  expression: 'attribute_not_exists(pk) OR #sealed = :false',
  names: { '#sealed': 'sealed' },
  values: { ':false': false },
};

function toBigint(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return 0n;
}

const textOrNull = (value: unknown) => (typeof value === 'string' ? value : null);

export function toLine(item: Record<string, unknown>): UsageHourLine {
  return {
    contractId: String(item.contractId),
    marketplace: String(item.marketplace) as Marketplace,
    dimension: String(item.dimension),
    hourStart: String(item.hourStart),
    receivedUnits: toBigint(item.receivedUnits),
    recordCount: Number(item.recordCount ?? 0),
    sealed: item.sealed === true,
    status: String(item.status ?? 'pending') as ReportStatus,
    attempts: Number(item.attempts ?? 0),
    reportId: String(item.reportId),
    reportUnits:
      item.reportUnits === null || item.reportUnits === undefined
        ? null
        : toBigint(item.reportUnits),
    includedUnits: toBigint(item.includedUnits),
    marketplaceRef: textOrNull(item.marketplaceRef),
    reason: textOrNull(item.reason),
    claimedAt: textOrNull(item.claimedAt),
    reportedAt: textOrNull(item.reportedAt),
    dueAt: textOrNull(item.dueAt),
    deadline: String(item.deadline),
    eventRecorded: item.eventRecorded === true,
  };
}

function lineItem(line: UsageHourLine): Item {
  return {
    ...lineKey(line.contractId, line.hourStart, line.dimension),
    entity: 'UsageHour',
    contractId: line.contractId,
    marketplace: line.marketplace,
    dimension: line.dimension,
    hourStart: line.hourStart,
    receivedUnits: line.receivedUnits,
    recordCount: line.recordCount,
    sealed: line.sealed,
    status: line.status,
    attempts: line.attempts,
    reportId: line.reportId,
    reportUnits: line.reportUnits,
    includedUnits: line.includedUnits,
    marketplaceRef: line.marketplaceRef,
    reason: line.reason,
    claimedAt: line.claimedAt,
    reportedAt: line.reportedAt,
    dueAt: line.dueAt,
    deadline: line.deadline,
    eventRecorded: line.eventRecorded,
    ...(line.dueAt !== null
      ? {
          gsi1pk: USAGE_DUE_PARTITION,
          gsi1sk: dueSortKey(line.dueAt, line),
          gsi2pk: openPartition(line.contractId),
          gsi2sk: `${line.hourStart}#${line.dimension}`,
        }
      : {}),
  };
}

function recordItem(write: UsageRecordWrite): Item {
  const { usage } = write;
  return {
    ...recordKey(usage.contractId, write.recordId),
    entity: 'UsageRecord',
    recordId: write.recordId,
    contractId: usage.contractId,
    dimension: usage.dimension,
    quantity: usage.quantity,
    usageTime: usage.usageTime,
    hourStart: usage.hourStart,
    carriedFrom: usage.carriedFrom,
    contentHash: usage.contentHash,
    receivedAt: write.receivedAt,
    by: write.by,
    expiresAt: Math.floor(Date.parse(write.receivedAt) / 1000) + USAGE_RECORD_TTL_DAYS * 86_400,
  };
}

/** The hour-line half of a record write: create if absent, add the records, never if sealed. */
function lineAddition(line: UsageHourLine, units: bigint, count: number, now: string) {
  const set: Record<string, unknown> = {
    entity: 'UsageHour',
    contractId: line.contractId,
    marketplace: line.marketplace,
    dimension: line.dimension,
    hourStart: line.hourStart,
    reportId: line.reportId,
    deadline: line.deadline,
    lastReceivedAt: now,
  };
  const firstOnly: Record<string, unknown> = {
    sealed: false,
    status: line.status,
    attempts: 0,
    includedUnits: 0n,
    eventRecorded: false,
    dueAt: line.dueAt,
    gsi1pk: USAGE_DUE_PARTITION,
    gsi1sk: dueSortKey(line.dueAt ?? '', line),
    gsi2pk: openPartition(line.contractId),
    gsi2sk: `${line.hourStart}#${line.dimension}`,
  };
  const names: Record<string, string> = { '#units': 'receivedUnits', '#count': 'recordCount' };
  const values: Record<string, unknown> = { ':units': units, ':count': count };
  const parts: string[] = [];
  for (const [name, value] of Object.entries(set)) {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    parts.push(`#${name} = :${name}`);
  }
  for (const [name, value] of Object.entries(firstOnly)) {
    names[`#${name}`] = name;
    values[`:first_${name}`] = value;
    parts.push(`#${name} = if_not_exists(#${name}, :first_${name})`);
  }
  return {
    expression: `SET ${parts.join(', ')} ADD #units :units, #count :count`,
    names,
    values,
  };
}

/** A patch as an update expression; dueAt null takes the line out of both indexes. */
function patchUpdate(line: UsageHourLine, patch: LinePatch) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  const set = (name: string, value: unknown) => {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  };
  for (const [name, value] of Object.entries(patch)) {
    if (value !== undefined) set(name, value);
  }
  if (patch.dueAt === null) {
    for (const name of ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']) {
      names[`#${name}`] = name;
      removes.push(`#${name}`);
    }
  } else if (patch.dueAt !== undefined) {
    set('gsi1pk', USAGE_DUE_PARTITION);
    set('gsi1sk', dueSortKey(patch.dueAt, line));
    set('gsi2pk', openPartition(line.contractId));
    set('gsi2sk', `${line.hourStart}#${line.dimension}`);
  }
  const expression = `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`;
  return { expression, names, values };
}

function expectation(expect: LineExpectation): Condition {
  const terms = ['#status = :expectStatus', '#attempts = :expectAttempts'];
  const names: Record<string, string> = { '#status': 'status', '#attempts': 'attempts' };
  const values: Record<string, unknown> = {
    ':expectStatus': expect.status,
    ':expectAttempts': expect.attempts,
  };
  if (expect.recordCount !== undefined) {
    terms.push('#recordCount = :expectCount');
    names['#recordCount'] = 'recordCount';
    values[':expectCount'] = expect.recordCount;
  }
  if (expect.eventRecorded !== undefined) {
    terms.push('#eventRecorded = :expectEvent');
    names['#eventRecorded'] = 'eventRecorded';
    values[':expectEvent'] = expect.eventRecorded;
  }
  return { expression: terms.join(' AND '), names, values };
}

export class DynamoUsageStore implements UsageStore {
  constructor(private readonly store: DynamoStore) {}

  async write(writes: readonly UsageRecordWrite[]): Promise<UsageWriteOutcome[]> {
    const outcomes: UsageWriteOutcome[] = new Array(writes.length);
    const keyOf = (i: number) => {
      const usage = writes[i]?.usage;
      return usage ? `${usage.contractId}\u0000${usage.hourStart}\u0000${usage.dimension}` : '';
    };
    // One line's records travel together, so each transaction updates a line once.
    const order = writes.map((_, i) => i).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    let chunk: number[] = [];
    let lines = new Set<string>();
    for (const index of order) {
      const key = keyOf(index);
      const extra = lines.has(key) ? 1 : 2;
      if (chunk.length + lines.size + extra > USAGE_WRITE_ACTIONS_MAX) {
        await this.writeChunk(writes, chunk, outcomes);
        chunk = [];
        lines = new Set();
      }
      chunk.push(index);
      lines.add(key);
    }
    if (chunk.length > 0) await this.writeChunk(writes, chunk, outcomes);
    return outcomes;
  }

  /**
   * One transaction for a chunk; when conditions fail, the records they name are answered
   * (duplicate, conflict, sealed) and the rest is committed again. Each round answers at least
   * one record, so it ends.
   */
  private async writeChunk(
    writes: readonly UsageRecordWrite[],
    indices: readonly number[],
    outcomes: UsageWriteOutcome[],
  ): Promise<void> {
    let pending = [...indices];
    for (let round = 0; pending.length > 0; round += 1) {
      invariant(round <= indices.length, 'usage write did not converge');
      const groups = new Map<string, number[]>();
      for (const i of pending) {
        const w = writes[i];
        if (!w) continue;
        const key = `${w.usage.contractId}\u0000${w.usage.hourStart}\u0000${w.usage.dimension}`;
        groups.set(key, [...(groups.get(key) ?? []), i]);
      }
      const tx = new WriteTransaction();
      for (const i of pending) {
        const w = writes[i];
        if (w) tx.put(`record:${i}`, recordItem(w), ITEM_ABSENT);
      }
      const lineMembers: number[][] = [];
      for (const members of groups.values()) {
        const first = writes[members[0] ?? -1];
        if (!first) continue;
        let units = 0n;
        for (const i of members) units += writes[i]?.usage.quantityUnits ?? 0n;
        tx.update(
          `hour:${lineMembers.length}`,
          lineKey(first.usage.contractId, first.usage.hourStart, first.usage.dimension),
          lineAddition(first.line, units, members.length, first.receivedAt),
          NOT_SEALED,
        );
        lineMembers.push(members);
      }
      try {
        // No request token: a resent batch must meet the records' item-absent conditions and
        // be answered `duplicate`, not get the first commit's success replayed as `accepted`.
        await this.store.commit(tx, { requestToken: false });
        for (const i of pending) outcomes[i] = { kind: 'accepted' };
        return;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        const answered = new Set<number>();
        for (const reason of error.reasons) {
          if (reason.code !== 'ConditionalCheckFailed') continue;
          if (reason.label.startsWith('record:')) {
            const i = Number(reason.label.slice('record:'.length));
            const w = writes[i];
            if (!w) continue;
            outcomes[i] = this.answerExisting(
              w,
              reason.item ?? (await this.store.get(recordKey(w.usage.contractId, w.recordId))),
            );
            answered.add(i);
          }
        }
        for (const reason of error.reasons) {
          if (reason.code !== 'ConditionalCheckFailed' || !reason.label.startsWith('hour:'))
            continue;
          for (const i of lineMembers[Number(reason.label.slice('hour:'.length))] ?? []) {
            const w = writes[i];
            if (!w || answered.has(i)) continue;
            // A retry of a record already counted stays a duplicate, sealed or not.
            const existing = await this.store.get(recordKey(w.usage.contractId, w.recordId));
            outcomes[i] = existing ? this.answerExisting(w, existing) : { kind: 'sealed' };
            answered.add(i);
          }
        }
        if (answered.size === 0) throw error;
        pending = pending.filter((i) => !answered.has(i));
      }
    }
  }

  private answerExisting(
    write: UsageRecordWrite,
    existing: Record<string, unknown> | null,
  ): UsageWriteOutcome {
    if (!existing) return { kind: 'sealed' };
    return existing.contentHash === write.usage.contentHash
      ? { kind: 'duplicate', hourStart: String(existing.hourStart) }
      : { kind: 'conflict' };
  }

  async record(contractId: string, recordId: string): Promise<StoredUsageRecord | null> {
    const item = await this.store.get(recordKey(contractId, recordId));
    return item
      ? { contentHash: String(item.contentHash), hourStart: String(item.hourStart) }
      : null;
  }

  async line(
    contractId: string,
    dimension: string,
    hourStart: string,
  ): Promise<UsageHourLine | null> {
    const item = await this.store.get(lineKey(contractId, hourStart, dimension));
    return item ? toLine(item) : null;
  }

  async lines(
    contractId: string,
    range: { from: string; to: string },
    page: PageRequest,
  ): Promise<Page<UsageHourLine>> {
    // Between is inclusive; no line key equals `HOUR#<to>` (a dimension follows), so [from, to).
    const result = await this.store.query({
      partitionKey: partition(contractId),
      sortKeyBetween: [`HOUR#${range.from}`, `HOUR#${range.to}`],
      limit: page.limit,
      cursor: page.cursor,
      consistent: true,
    });
    return { items: result.items.map(toLine), cursor: result.cursor };
  }

  async due(upTo: string, limit: number): Promise<UsageHourLine[]> {
    return this.collect(
      { index: 'gsi1', partitionKey: USAGE_DUE_PARTITION, sortKeyBetween: ['0', `${upTo}#\uffff`] },
      limit,
    );
  }

  async open(contractId: string, limit: number): Promise<UsageHourLine[]> {
    return this.collect({ index: 'gsi2', partitionKey: openPartition(contractId) }, limit);
  }

  private async collect(
    request: {
      index: 'gsi1' | 'gsi2';
      partitionKey: string;
      sortKeyBetween?: readonly [string, string];
    },
    limit: number,
  ): Promise<UsageHourLine[]> {
    const lines: UsageHourLine[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query({
        ...request,
        limit: Math.min(QUERY_PAGE_ITEMS_MAX, limit - lines.length),
        cursor,
      });
      lines.push(...page.items.map(toLine));
      cursor = page.cursor ?? undefined;
    } while (cursor && lines.length < limit);
    return lines;
  }

  async ensureLine(line: UsageHourLine): Promise<boolean> {
    try {
      await this.store.put('usage-hour', lineItem(line), ITEM_ABSENT);
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }

  async transition(
    line: UsageHourLine,
    expect: LineExpectation,
    patch: LinePatch,
    allowance?: AllowanceUse,
  ): Promise<boolean> {
    const key = lineKey(line.contractId, line.hourStart, line.dimension);
    const update = patchUpdate(line, patch);
    try {
      if (!allowance) {
        await this.store.update('usage-hour', key, update, expectation(expect));
        return true;
      }
      const tx = new WriteTransaction();
      tx.update('usage-hour', key, update, expectation(expect));
      tx.update(
        'usage-allowance',
        allowanceKey(allowance.contractId, allowance.dimension, allowance.periodStart),
        {
          expression: 'SET #entity = :entity, #consumed = :consumed',
          names: { '#entity': 'entity', '#consumed': 'consumedUnits' },
          values: { ':entity': 'UsageAllowance', ':consumed': allowance.consumedUnits },
        },
        {
          expression:
            allowance.expectedConsumedUnits === 0n
              ? 'attribute_not_exists(pk) OR #consumed = :expected'
              : '#consumed = :expected',
          names: { '#consumed': 'consumedUnits' },
          values: { ':expected': allowance.expectedConsumedUnits },
        },
      );
      await this.store.commit(tx);
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }

  async allowanceConsumed(
    contractId: string,
    dimension: string,
    periodStart: string,
  ): Promise<bigint> {
    const item = await this.store.get(allowanceKey(contractId, dimension, periodStart));
    return item ? toBigint(item.consumedUnits) : 0n;
  }
}
