/**
 * A within-tolerance difference becomes a journal entry (rule 16): the true-up the matcher
 * computed, posted in the first open period, in the line's currency and, converted at the
 * entry date's rate (half-even, finance.md §0), in the functional currency. Its id comes from
 * what it corrects — the contract, our invoice, the account and the amount — so the same
 * difference found by a second reconciliation (or a retry) is never posted twice.
 */
import { createHash } from 'node:crypto';
import type { CalendarDate } from '../calendar';
import { InvalidInputError } from '../errors';
import { JOURNAL_ENTRY_SCHEMA_VERSION, type JournalEntry } from '../ledger';
import { multiplyRational, type Rational, roundRational } from '../money';
import type { ToleranceItem } from './results';

export const TRUE_UP_RULE = 'reconciliation-true-up';
export const TRUE_UP_RULE_VERSION = 1;

export interface TrueUpContext {
  readonly reconciliationId: string;
  /** The entry's accounting date (the reconciliation's as-of date, or later). */
  readonly date: CalendarDate;
  readonly functionalCurrency: string;
  /** 1 unit of `from` in `to` on a date, or null when no rate is known. */
  readonly rate: (date: CalendarDate, from: string, to: string) => Rational | null;
}

/** What a true-up corrects, as a stable id (one per contract, line, account and amount). */
export function trueUpEntryId(item: ToleranceItem): string {
  const basis = [
    item.contractId ?? '-',
    item.internalId ?? '-',
    item.level,
    item.trueUp.account,
    item.trueUp.currency,
    item.trueUp.amountMinor.toString(),
  ].join('|');
  return `trueup-${createHash('sha256').update(basis).digest('hex').slice(0, 32)}`;
}

/** The entry of a within-tolerance item; throws when no FX rate converts its currency. */
export function trueUpEntry(item: ToleranceItem, context: TrueUpContext): JournalEntry {
  const { trueUp } = item;
  if (trueUp.absoluteMinor === 0n) {
    throw new InvalidInputError('nothing_to_true_up', 'A true-up of zero is not an entry');
  }
  let functionalMinor = trueUp.absoluteMinor;
  if (trueUp.currency !== context.functionalCurrency) {
    const rate = context.rate(context.date, trueUp.currency, context.functionalCurrency);
    if (!rate) {
      throw new InvalidInputError(
        'fx_rate_missing',
        `No ${trueUp.currency}/${context.functionalCurrency} rate on ${context.date} for the true-up`,
      );
    }
    functionalMinor = roundRational(
      multiplyRational({ num: trueUp.absoluteMinor, den: 1n }, rate),
      'half-even',
    );
  }
  const leg = (account: JournalEntry['legs'][number]['account'], side: 'debit' | 'credit') => ({
    account,
    currency: trueUp.currency,
    debitMinor: side === 'debit' ? trueUp.absoluteMinor : 0n,
    creditMinor: side === 'credit' ? trueUp.absoluteMinor : 0n,
    functionalDebitMinor: side === 'debit' ? functionalMinor : 0n,
    functionalCreditMinor: side === 'credit' ? functionalMinor : 0n,
    contractId: item.contractId,
    partnerId: null,
  });
  return {
    schemaVersion: JOURNAL_ENTRY_SCHEMA_VERSION,
    entryId: trueUpEntryId(item),
    date: context.date,
    postingPeriod: trueUp.period,
    functionalCurrency: context.functionalCurrency,
    description: `Reconciliation true-up (${item.level}${item.internalId ? ` ${item.internalId}` : ''}): variance ${item.varianceMinor} within tolerance ${item.toleranceMinor}`,
    source: { kind: 'reconciliation', id: context.reconciliationId },
    rule: TRUE_UP_RULE,
    ruleVersion: TRUE_UP_RULE_VERSION,
    reversalOf: null,
    legs: [leg(trueUp.debitAccount, 'debit'), leg(trueUp.creditAccount, 'credit')],
  };
}
