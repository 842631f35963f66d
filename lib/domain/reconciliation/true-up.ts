/**
 * Within-tolerance differences become journal entries (rule 16), cumulatively: one true-up key
 * per line the marketplace billed (contract, our invoice, level, currency), and the ledger holds
 * at any time exactly the latest difference found for it. A later reconciliation that finds the
 * difference changed posts only the change; one that finds the line now matches reverses what
 * was posted. The expected side never includes true-ups (they are corrections of the books, not
 * of what the marketplace should bill), so the difference found is always the whole one.
 *
 * Entries post in the first open period, in the line's currency and, converted at the entry
 * date's rate (half-even, finance.md §0), in the functional currency. Their id is the key, how
 * many entries the key had before, and the cumulative target: a retry, or the same target found
 * again, never posts twice, and a line that returns to an earlier target (40 → 70 → 0 → 40)
 * posts a new entry instead of colliding with the first. Each entry also claims the slot
 * key + sequence (`trueUpSlotOf`), written with it: two runs that read the same entries and
 * found different targets cannot both post.
 */
import { createHash } from 'node:crypto';
import type { CalendarDate, Period } from '../calendar';
import { InvalidInputError } from '../errors';
import { type AccountCode, JOURNAL_ENTRY_SCHEMA_VERSION, type JournalEntry } from '../ledger';
import { multiplyRational, type Rational, roundRational } from '../money';
import type { ReconciliationItem, ToleranceItem } from './results';

export const TRUE_UP_RULE = 'reconciliation-true-up';
export const TRUE_UP_RULE_VERSION = 1;
const ENTRY_PREFIX = 'trueup-';

export interface TrueUpContext {
  readonly reconciliationId: string;
  /** The entry's accounting date (the reconciliation's as-of date). */
  readonly date: CalendarDate;
  readonly period: Period;
  readonly functionalCurrency: string;
  /** 1 unit of `from` in `to` on a date, or null when no rate is known. */
  readonly rate: (date: CalendarDate, from: string, to: string) => Rational | null;
}

/** The line a true-up corrects, as a short stable key. */
export function trueUpKey(
  item: Pick<ReconciliationItem, 'contractId' | 'internalId' | 'level' | 'currency'>,
): string {
  const basis = [item.contractId ?? '-', item.internalId ?? '-', item.level, item.currency];
  return createHash('sha256').update(basis.join('|')).digest('hex').slice(0, 24);
}

/** An entry's sequence (ids before sequences existed, `trueup-<key>-<target>`, count as -1). */
function sequenceOf(entryId: string): number {
  const parts = entryId.slice(ENTRY_PREFIX.length).split('-');
  return parts.length === 3 ? Number(parts[1]) : -1;
}

export function trueUpEntryId(key: string, sequence: number, targetMinor: bigint): string {
  return `${ENTRY_PREFIX}${key}-${sequence}-${targetMinor < 0n ? `m${-targetMinor}` : targetMinor}`;
}

/**
 * The slot an entry claims: its key and sequence. Two runs that both read N entries for a key
 * and found different targets make different ids but the same slot, and only one may post.
 */
export function trueUpSlotOf(entryId: string): string {
  const parts = entryId.slice(ENTRY_PREFIX.length).split('-');
  return `${ENTRY_PREFIX}${parts[0] ?? ''}-${parts.length === 3 ? parts[1] : 'legacy'}`;
}

/**
 * The slot after an entry's: taken means the key has a later entry than the one the ledger read
 * ended with (the read was stale). Null for ids from before sequences (they claimed no slot).
 */
export function trueUpSlotAfter(entryId: string): string | null {
  const parts = entryId.slice(ENTRY_PREFIX.length).split('-');
  if (parts.length !== 3) return null;
  return `${ENTRY_PREFIX}${parts[0] ?? ''}-${Number(parts[1]) + 1}`;
}

/** What the ledger holds for one key: the amount on `account`, in the direction it runs. */
export interface PostedTrueUp {
  readonly key: string;
  readonly account: AccountCode;
  readonly counterAccount: AccountCode;
  readonly currency: string;
  readonly amountMinor: bigint;
  /** How many true-up entries the key has (the next entry's sequence). */
  readonly entries: number;
  /** The entry that brought the key to where it is. */
  readonly lastEntryId: string;
}

/**
 * The id of the true-up that brings `key` to `targetMinor`: the entry that already did when the
 * target is where the key stands (a re-run names the same true-up), else the next entry's.
 */
export function trueUpIdFor(
  key: string,
  posted: PostedTrueUp | undefined,
  targetMinor: bigint,
): string {
  if (posted && posted.amountMinor === targetMinor) return posted.lastEntryId;
  return trueUpEntryId(key, posted?.entries ?? 0, targetMinor);
}

/** Revenue and liabilities run on the credit side; assets and expenses on the debit side. */
function creditNormal(account: AccountCode): boolean {
  return account.startsWith('2') || account.startsWith('4');
}

function amountOn(entry: JournalEntry, account: AccountCode): bigint {
  let net = 0n;
  for (const leg of entry.legs) {
    if (leg.account !== account) continue;
    net += creditNormal(account)
      ? leg.creditMinor - leg.debitMinor
      : leg.debitMinor - leg.creditMinor;
  }
  return net;
}

/** The true-ups posted so far, by key (any entries; others are ignored). */
export function postedTrueUps(entries: Iterable<JournalEntry>): Map<string, PostedTrueUp> {
  const posted = new Map<string, PostedTrueUp>();
  for (const entry of entries) {
    if (entry.rule !== TRUE_UP_RULE || !entry.entryId.startsWith(ENTRY_PREFIX)) continue;
    const key = entry.entryId.slice(ENTRY_PREFIX.length).split('-')[0] ?? '';
    const [first, second] = entry.legs;
    if (!first || !second) continue;
    const previous = posted.get(key);
    // The corrected account is the revenue or fee leg; the other is the receivable.
    const account =
      previous?.account ?? (first.account.startsWith('12') ? second.account : first.account);
    const counterAccount =
      previous?.counterAccount ?? (account === first.account ? second.account : first.account);
    posted.set(key, {
      key,
      account,
      counterAccount,
      currency: first.currency,
      amountMinor: (previous?.amountMinor ?? 0n) + amountOn(entry, account),
      entries: (previous?.entries ?? 0) + 1,
      // The journal lists entries by date, then id: the latest is the highest sequence.
      lastEntryId:
        previous && sequenceOf(previous.lastEntryId) > sequenceOf(entry.entryId)
          ? previous.lastEntryId
          : entry.entryId,
    });
  }
  return posted;
}

/** A correction to make: bring `key` on `account` to `targetMinor` (from what is posted). */
export interface TrueUpChange {
  readonly key: string;
  readonly contractId: string | null;
  readonly account: AccountCode;
  readonly counterAccount: AccountCode;
  readonly currency: string;
  readonly targetMinor: bigint;
  readonly postedMinor: bigint;
  /** The true-up's id: the entry it posts, or the one that already holds the target. */
  readonly trueUpId: string;
  /** target − posted: what the entry moves (0: nothing to post). */
  readonly deltaMinor: bigint;
  readonly description: string;
}

/** The change a within-tolerance item asks for, given what is posted for its key. */
export function trueUpChange(item: ToleranceItem, posted: PostedTrueUp | undefined): TrueUpChange {
  const key = trueUpKey(item);
  const postedMinor = posted?.amountMinor ?? 0n;
  return {
    key,
    contractId: item.contractId,
    account: item.trueUp.account,
    counterAccount: item.trueUp.counterAccount,
    currency: item.trueUp.currency,
    targetMinor: item.trueUp.amountMinor,
    postedMinor,
    trueUpId: trueUpIdFor(key, posted, item.trueUp.amountMinor),
    deltaMinor: item.trueUp.amountMinor - postedMinor,
    description: `Reconciliation true-up (${item.level}${item.internalId ? ` ${item.internalId}` : ''}): variance ${item.varianceMinor} within tolerance ${item.toleranceMinor}`,
  };
}

/** The reversal of what is posted for a line that now matches exactly. */
export function trueUpReversal(
  item: Pick<ReconciliationItem, 'contractId' | 'internalId' | 'level'>,
  posted: PostedTrueUp,
): TrueUpChange {
  return {
    key: posted.key,
    contractId: item.contractId,
    account: posted.account,
    counterAccount: posted.counterAccount,
    currency: posted.currency,
    targetMinor: 0n,
    postedMinor: posted.amountMinor,
    trueUpId: trueUpIdFor(posted.key, posted, 0n),
    deltaMinor: -posted.amountMinor,
    description: `Reconciliation true-up reversed (${item.level}${item.internalId ? ` ${item.internalId}` : ''}): the line now matches`,
  };
}

/** The entry of a change; throws when it moves nothing or no FX rate converts its currency. */
export function trueUpEntry(change: TrueUpChange, context: TrueUpContext): JournalEntry {
  if (change.deltaMinor === 0n) {
    throw new InvalidInputError('nothing_to_true_up', 'A true-up of zero is not an entry');
  }
  const absolute = change.deltaMinor < 0n ? -change.deltaMinor : change.deltaMinor;
  let functionalMinor = absolute;
  if (change.currency !== context.functionalCurrency) {
    const rate = context.rate(context.date, change.currency, context.functionalCurrency);
    if (!rate) {
      throw new InvalidInputError(
        'fx_rate_missing',
        `No ${change.currency}/${context.functionalCurrency} rate on ${context.date} for the true-up`,
      );
    }
    functionalMinor = roundRational(
      multiplyRational({ num: absolute, den: 1n }, rate),
      'half-even',
    );
  }
  // Raising the account moves it on its normal side; lowering it, on the other.
  const accountSide: 'debit' | 'credit' =
    creditNormal(change.account) === change.deltaMinor > 0n ? 'credit' : 'debit';
  const leg = (account: AccountCode, side: 'debit' | 'credit') => ({
    account,
    currency: change.currency,
    debitMinor: side === 'debit' ? absolute : 0n,
    creditMinor: side === 'credit' ? absolute : 0n,
    functionalDebitMinor: side === 'debit' ? functionalMinor : 0n,
    functionalCreditMinor: side === 'credit' ? functionalMinor : 0n,
    contractId: change.contractId,
    partnerId: null,
  });
  const corrected = leg(change.account, accountSide);
  const counter = leg(change.counterAccount, accountSide === 'debit' ? 'credit' : 'debit');
  // Debit first, as every other entry.
  const legs = accountSide === 'debit' ? [corrected, counter] : [counter, corrected];
  return {
    schemaVersion: JOURNAL_ENTRY_SCHEMA_VERSION,
    entryId: change.trueUpId,
    date: context.date,
    postingPeriod: context.period,
    functionalCurrency: context.functionalCurrency,
    description: change.description,
    source: { kind: 'reconciliation', id: context.reconciliationId },
    rule: TRUE_UP_RULE,
    ruleVersion: TRUE_UP_RULE_VERSION,
    reversalOf: null,
    legs,
  };
}
