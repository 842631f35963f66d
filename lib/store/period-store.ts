/**
 * Period locks and their audit trail.
 *
 * Locks: pk PERIODS · sk LOCKS · closedThrough · frozenThrough · version (optimistic lock)
 * Audit: pk PERIODAUDIT · sk <at>#<period>#<action> · action · period · by · reason (immutable)
 * Every posting carries a ConditionCheck on the locks item, so nothing lands in a closed month
 * even if the locks moved after the poster read them.
 */
import { ConflictError } from '../app/errors';
import type { Page, PageRequest, PeriodAuditRecord, PeriodStore } from '../app/ports';
import type { Period } from '../domain/calendar';
import { NO_LOCKS, type PeriodLocks, type Poster } from '../domain/revenue/periods';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { type Condition, ITEM_ABSENT, WriteTransaction } from './transaction';

export const PERIOD_LOCKS_KEY = { pk: 'PERIODS', sk: 'LOCKS' } as const;
const AUDIT_PARTITION = 'PERIODAUDIT';

/** The condition a posting into `period` must meet: the month is not locked for the poster. */
export function periodOpenCondition(period: Period, poster: Poster): Condition {
  return poster === 'run'
    ? {
        expression: 'attribute_not_exists(closedThrough) OR closedThrough < :period',
        values: { ':period': period },
      }
    : {
        expression:
          '(attribute_not_exists(closedThrough) OR closedThrough < :period) AND (attribute_not_exists(frozenThrough) OR frozenThrough < :period)',
        values: { ':period': period },
      };
}

export type { PeriodAuditRecord };

export class DynamoPeriodStore implements PeriodStore {
  constructor(private readonly store: DynamoStore) {}

  async locks(): Promise<PeriodLocks & { version: number }> {
    const item = await this.store.get(PERIOD_LOCKS_KEY, { consistent: true });
    if (!item) return { ...NO_LOCKS, version: 0 };
    return {
      closedThrough: typeof item.closedThrough === 'string' ? item.closedThrough : null,
      frozenThrough: typeof item.frozenThrough === 'string' ? item.frozenThrough : null,
      version: Number(item.version ?? 0),
    };
  }

  /** Moves the locks from `expectedVersion`; 409 if someone else moved them first. */
  async change(expectedVersion: number, record: PeriodAuditRecord): Promise<void> {
    const tx = new WriteTransaction();
    tx.put(
      'period-locks',
      {
        ...PERIOD_LOCKS_KEY,
        entity: 'PeriodLocks',
        ...(record.after.closedThrough ? { closedThrough: record.after.closedThrough } : {}),
        ...(record.after.frozenThrough ? { frozenThrough: record.after.frozenThrough } : {}),
        version: expectedVersion + 1,
        updatedAt: record.at,
      },
      expectedVersion === 0
        ? ITEM_ABSENT
        : { expression: 'version = :v', values: { ':v': expectedVersion } },
    );
    tx.put(
      'period-audit',
      {
        pk: AUDIT_PARTITION,
        sk: `${record.at}#${record.period}#${record.action}`,
        entity: 'PeriodAudit',
        ...record,
      },
      ITEM_ABSENT,
    );
    try {
      await this.store.commit(tx);
    } catch (error) {
      if (error instanceof ConditionFailedError)
        throw new ConflictError('periods_moved', 'The period locks changed meanwhile; retry');
      throw error;
    }
  }

  async audit(page: PageRequest): Promise<Page<PeriodAuditRecord>> {
    const result = await this.store.query({
      partitionKey: AUDIT_PARTITION,
      limit: page.limit,
      cursor: page.cursor,
      ascending: false,
    });
    return {
      items: result.items.map((item) => ({
        at: String(item.at),
        period: String(item.period),
        action: item.action as PeriodAuditRecord['action'],
        by: String(item.by),
        reason: typeof item.reason === 'string' ? item.reason : null,
        before: item.before as PeriodLocks,
        after: item.after as PeriodLocks,
      })),
      cursor: result.cursor,
    };
  }
}
