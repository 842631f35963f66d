/**
 * The commission run's store in the single table (port in lib/app/commission-run.ts).
 *
 * Commission line:   pk COMMLINE#<partnerId>#<period> · sk <lineId>
 * Partner state:     pk COMMSTATE#<partnerId>         · sk <period>   (balances + held lines)
 * Journal entries:   journalEntryItem (ledger-items.ts), guarded by ITEM_ABSENT
 *
 * A partner's month is written in one transaction: its new journal entries, its lines, its
 * state (ITEM_ABSENT: a month is stored once) and one period-lock ConditionCheck for the
 * earliest posting period (locks are a frontier, so the earliest open means all are; two checks
 * on the same lock item in one transaction are forbidden). Entries already present were posted
 * by an earlier run and are skipped; a stored state means the whole month was written before.
 */
import {
  CommissionPeriodLockedError,
  type CommissionStore,
  type PartnerPeriodPosting,
  type PartnerPeriodPostOutcome,
  type PartnerPeriodState,
} from '../app/commission-run';
import { comparePeriods, type Period, previousPeriod } from '../domain/calendar';
import type { CommissionLine } from '../domain/commission/engine';
import type { JournalEntry } from '../domain/ledger';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { decodeExact, encodeExact, journalEntryItem, journalEntryKey } from './ledger-items';
import { TRANSACT_ITEMS_MAX } from './limits';
import { PERIOD_LOCKS_KEY, periodOpenCondition } from './period-store';
import { ITEM_ABSENT, type Item, WriteTransaction } from './transaction';

/** Lines read for one partner and period (a page each), and the most read. */
export const COMMISSION_LINES_PAGE_SIZE = 500;
export const COMMISSION_LINES_MAX = 10_000;
/** Partner months read per page, and the most read for one partner (100 years). */
export const COMMISSION_STATES_PAGE_SIZE = 120;
export const COMMISSION_STATES_MAX = 1_200;
/** Whole-posting attempts when a concurrent writer stored an entry between check and write. */
export const COMMISSION_POST_ATTEMPTS_MAX = 3;

const LABEL = {
  entry: 'journal-entry',
  slot: 'entry-slot',
  line: 'commission-line',
  state: 'commission-state',
  lock: 'period-lock',
} as const;

/** A claimed journal slot (`postClaimed`): at most one entry holds it. */
export const entrySlotKey = (slot: string) => ({ pk: `JESLOT#${slot}`, sk: 'JESLOT' });

export const commissionLineKey = (partnerId: string, period: Period, lineId: string) => ({
  pk: `COMMLINE#${partnerId}#${period}`,
  sk: lineId,
});
export const commissionStateKey = (partnerId: string, period: Period) => ({
  pk: `COMMSTATE#${partnerId}`,
  sk: period,
});

function lineItem(line: CommissionLine): Item {
  return {
    ...commissionLineKey(line.partnerId, line.period, line.lineId),
    entity: 'CommissionLine',
    partnerId: line.partnerId,
    period: line.period,
    contractId: line.contractId,
    status: line.status,
    data: encodeExact(line),
  };
}

function stateItem(state: PartnerPeriodState): Item {
  return {
    ...commissionStateKey(state.partnerId, state.period),
    entity: 'CommissionPartnerState',
    partnerId: state.partnerId,
    period: state.period,
    runId: state.runId,
    data: encodeExact(state),
  };
}

const decodeState = (item: Record<string, unknown>) =>
  decodeExact<PartnerPeriodState>(String(item.data));

/** Splits actions into transactions of at most 100, keeping room for the lock check. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    out.push(items.slice(start, start + size));
  }
  return out.length > 0 ? out : [[]];
}

type Write = { kind: 'entry'; entry: JournalEntry } | { kind: 'line'; line: CommissionLine };

export class DynamoCommissionStore implements CommissionStore {
  constructor(private readonly store: DynamoStore) {}

  async state(partnerId: string, period: Period): Promise<PartnerPeriodState | null> {
    const item = await this.store.get(commissionStateKey(partnerId, period), { consistent: true });
    return item ? decodeState(item) : null;
  }

  async stateBefore(partnerId: string, period: Period): Promise<PartnerPeriodState | null> {
    const page = await this.store.query({
      partitionKey: `COMMSTATE#${partnerId}`,
      sortKeyBetween: ['0000-01', previousPeriod(period)],
      ascending: false,
      limit: 1,
      consistent: true,
    });
    const item = page.items[0];
    return item ? decodeState(item) : null;
  }

  async statesBetween(partnerId: string, from: Period, to: Period): Promise<PartnerPeriodState[]> {
    const out: PartnerPeriodState[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query({
        partitionKey: `COMMSTATE#${partnerId}`,
        sortKeyBetween: [from, to],
        limit: COMMISSION_STATES_PAGE_SIZE,
        cursor,
        consistent: true,
      });
      out.push(...page.items.map(decodeState));
      cursor = page.cursor ?? undefined;
    } while (cursor && out.length < COMMISSION_STATES_MAX);
    return out;
  }

  async lines(partnerId: string, period: Period): Promise<CommissionLine[]> {
    const out: CommissionLine[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query({
        partitionKey: `COMMLINE#${partnerId}#${period}`,
        limit: COMMISSION_LINES_PAGE_SIZE,
        cursor,
        consistent: true,
      });
      out.push(...page.items.map((item) => decodeExact<CommissionLine>(String(item.data))));
      cursor = page.cursor ?? undefined;
    } while (cursor && out.length < COMMISSION_LINES_MAX);
    return out;
  }

  async postEntries(
    entries: readonly JournalEntry[],
    poster: 'pipeline' | 'run',
  ): Promise<string[]> {
    const written: string[] = [];
    // Looked up first: an identical transaction within DynamoDB's idempotency window succeeds
    // again (same client request token), so the condition alone cannot say "already posted".
    const present = await this.presentEntryIds(entries.map((e) => e.entryId));
    for (const entry of entries.filter((e) => !present.has(e.entryId))) {
      // Not written: already posted (by the month-end run or an earlier delivery of the event).
      if (await this.commitEntry(entry, poster, null)) written.push(entry.entryId);
    }
    return written;
  }

  /**
   * One entry (and the slot it claims, if any) in one transaction with the period lock check:
   * true when written, false when the entry or the slot was already there; a closed period is
   * CommissionPeriodLockedError.
   */
  private async commitEntry(
    entry: JournalEntry,
    poster: 'pipeline' | 'run',
    slot: string | null,
  ): Promise<boolean> {
    const tx = new WriteTransaction();
    tx.put(LABEL.entry, journalEntryItem(entry), ITEM_ABSENT);
    if (slot !== null) {
      tx.put(
        LABEL.slot,
        { ...entrySlotKey(slot), entity: 'EntrySlot', entryId: entry.entryId },
        ITEM_ABSENT,
      );
    }
    tx.check(LABEL.lock, PERIOD_LOCKS_KEY, periodOpenCondition(entry.postingPeriod, poster));
    try {
      await this.store.commit(tx);
      return true;
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      if (error.failedOn(LABEL.lock)) {
        throw new CommissionPeriodLockedError(
          `${entry.postingPeriod} is closed; ${entry.entryId} was not posted`,
          { cause: error },
        );
      }
      return false;
    }
  }

  async postPartnerPeriod(posting: PartnerPeriodPosting): Promise<PartnerPeriodPostOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.postOnce(posting);
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        if (error.failedOn(LABEL.lock)) {
          throw new CommissionPeriodLockedError(
            `A posting period of ${posting.partnerId}, ${posting.period} is closed; nothing was written`,
            { cause: error },
          );
        }
        // Someone else stored an entry or the state meanwhile: look again (bounded).
        if (attempt >= COMMISSION_POST_ATTEMPTS_MAX) throw error;
      }
    }
  }

  private async postOnce(posting: PartnerPeriodPosting): Promise<PartnerPeriodPostOutcome> {
    const allIds = posting.entries.map((e) => e.entryId);
    if (await this.state(posting.partnerId, posting.period)) {
      return { written: false, postedEntryIds: [], alreadyPostedEntryIds: allIds };
    }
    const present = await this.presentEntryIds(allIds);
    const fresh = posting.entries.filter((e) => !present.has(e.entryId));
    const writes: Write[] = [
      ...fresh.map((entry) => ({ kind: 'entry' as const, entry })),
      ...posting.lines.map((line) => ({ kind: 'line' as const, line })),
    ];
    const earliest = fresh
      .map((e) => e.postingPeriod)
      .reduce<Period | null>((a, b) => (a === null || comparePeriods(b, a) < 0 ? b : a), null);
    // Room in each transaction for the lock check, and the state in the last one.
    const groups = chunks(writes, TRANSACT_ITEMS_MAX - 2);
    for (const [index, group] of groups.entries()) {
      const tx = new WriteTransaction();
      for (const write of group) {
        if (write.kind === 'entry') tx.put(LABEL.entry, journalEntryItem(write.entry), ITEM_ABSENT);
        else tx.put(LABEL.line, lineItem(write.line));
      }
      if (earliest !== null) {
        tx.check(LABEL.lock, PERIOD_LOCKS_KEY, periodOpenCondition(earliest, 'run'));
      }
      if (index === groups.length - 1) tx.put(LABEL.state, stateItem(posting.state), ITEM_ABSENT);
      await this.store.commit(tx);
    }
    return {
      written: true,
      postedEntryIds: fresh.map((e) => e.entryId),
      alreadyPostedEntryIds: allIds.filter((id) => present.has(id)),
    };
  }

  /**
   * Posts one entry that claims a slot no other entry may hold (a true-up's key and sequence),
   * in the same transaction: two writers that computed the same next sequence for different
   * targets cannot both post. 'present': the entry is already in the journal (a retry, or the
   * same change by someone else); 'taken': another entry holds the slot.
   */
  async postClaimed(
    entry: JournalEntry,
    slot: string,
    poster: 'pipeline' | 'run',
  ): Promise<'posted' | 'present' | 'taken'> {
    if ((await this.presentEntryIds([entry.entryId])).size > 0) return 'present';
    if (await this.commitEntry(entry, poster, slot)) return 'posted';
    // The slot's holder may be this very entry (an earlier attempt whose answer was lost).
    return (await this.presentEntryIds([entry.entryId])).size > 0 ? 'present' : 'taken';
  }

  /** Whether an entry holds `slot` (a consistent read). */
  async slotTaken(slot: string): Promise<boolean> {
    return (await this.store.get(entrySlotKey(slot), { consistent: true })) !== null;
  }

  private async presentEntryIds(ids: readonly string[]): Promise<Set<string>> {
    const present = new Set<string>();
    for (const id of ids) {
      if (await this.store.get(journalEntryKey(id), { consistent: true })) present.add(id);
    }
    return present;
  }
}
