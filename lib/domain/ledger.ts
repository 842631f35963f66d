/**
 * The double-entry ledger's shapes and its first invariant: every journal entry balances in the
 * functional currency and in each transaction currency. Conversions pass through the FX clearing
 * account, so a leg never mixes currencies (finance.md rule 5, §2.9).
 */
import { z } from 'zod';
import { type ErrorDetail, InvalidInputError } from './errors';
import {
  CalendarDateSchema,
  CurrencySchema,
  IdSchema,
  NonNegativeMinorUnitsSchema,
  PeriodSchema,
} from './schemas/primitives';

export const JOURNAL_ENTRY_SCHEMA_VERSION = 1;
/** Legs in one entry: keeps each entry far below DynamoDB's 400 KB item limit. */
export const JOURNAL_LEGS_MAX = 200;

/** Chart of accounts (finance.md §4.3), plus the FX clearing account that rule 5 requires. */
export const ACCOUNTS = {
  '1000': 'Cash',
  '1210': 'Marketplace receivable – AWS',
  '1211': 'Marketplace receivable – Azure',
  '1212': 'Marketplace receivable – GCP',
  '1230': 'Unbilled receivable',
  '1240': 'Contract asset',
  '1400': 'Deferred contract costs',
  '1950': 'FX clearing',
  '2100': 'Partner commissions payable',
  '2110': 'Partner commissions held',
  '2200': 'Accrued marketplace fees',
  '2400': 'Deferred revenue',
  '2450': 'Refund liability',
  '4000': 'Subscription revenue',
  '4100': 'Usage revenue',
  '4900': 'Contra revenue – reseller payments',
  '5100': 'Marketplace fees',
  '6100': 'Partner commission expense',
  '7100': 'FX gain/loss',
} as const satisfies Record<string, string>;

export type AccountCode = keyof typeof ACCOUNTS;
export const ACCOUNT_CODES = Object.keys(ACCOUNTS) as AccountCode[];
export const AccountCodeSchema = z.enum(ACCOUNT_CODES as [AccountCode, ...AccountCode[]]);

export function accountLabel(code: AccountCode): string {
  return `${code} ${ACCOUNTS[code]}`;
}

export const JournalLegSchema = z.object({
  account: AccountCodeSchema,
  currency: CurrencySchema,
  debitMinor: NonNegativeMinorUnitsSchema,
  creditMinor: NonNegativeMinorUnitsSchema,
  functionalDebitMinor: NonNegativeMinorUnitsSchema,
  functionalCreditMinor: NonNegativeMinorUnitsSchema,
  contractId: IdSchema.nullable(),
  partnerId: IdSchema.nullable(),
});
export type JournalLeg = z.output<typeof JournalLegSchema>;

export const JournalSourceSchema = z.object({
  kind: z.enum(['event', 'run', 'manual', 'reconciliation']),
  id: IdSchema,
});

export const JournalEntrySchema = z
  .object({
    schemaVersion: z.literal(JOURNAL_ENTRY_SCHEMA_VERSION),
    /** Deterministic from (source, rule, rule version): a rerun writes nothing new. */
    entryId: IdSchema,
    /** Accounting date of the entry. */
    date: CalendarDateSchema,
    /** Where it posts: max(the date's period, the first open period) — rule 14. */
    postingPeriod: PeriodSchema,
    functionalCurrency: CurrencySchema,
    description: z.string().max(1_000),
    source: JournalSourceSchema,
    rule: IdSchema,
    ruleVersion: z.int().min(1),
    reversalOf: IdSchema.nullable(),
    legs: z.array(JournalLegSchema).min(2).max(JOURNAL_LEGS_MAX),
  })
  .meta({ title: 'JournalEntry', description: 'An immutable, balanced journal entry' });
export type JournalEntry = z.output<typeof JournalEntrySchema>;

/**
 * All the ways an entry can fail to balance, at once. Checks each leg is one-sided and
 * consistent (a debit leg has no functional credit), then the sums per transaction currency and
 * in the functional currency. A leg may carry a zero transaction amount with a non-zero
 * functional amount: that is how a remeasurement (unrealized FX) is expressed.
 */
export function journalEntryProblems(entry: JournalEntry): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const perCurrency = new Map<string, { debit: bigint; credit: bigint }>();
  let functionalDebit = 0n;
  let functionalCredit = 0n;
  let anyAmount = false;

  entry.legs.forEach((leg, index) => {
    const path = `legs.${index}`;
    const isDebit = leg.debitMinor > 0n || leg.functionalDebitMinor > 0n;
    const isCredit = leg.creditMinor > 0n || leg.functionalCreditMinor > 0n;
    if (isDebit && isCredit) {
      problems.push({
        path,
        code: 'two_sided_leg',
        message: 'A leg is either a debit or a credit',
      });
    }
    if (!isDebit && !isCredit) {
      problems.push({ path, code: 'empty_leg', message: 'A leg must carry an amount' });
    }
    if (leg.currency === entry.functionalCurrency) {
      if (
        leg.debitMinor !== leg.functionalDebitMinor ||
        leg.creditMinor !== leg.functionalCreditMinor
      ) {
        problems.push({
          path,
          code: 'functional_mismatch',
          message:
            'A leg in the functional currency must carry equal transaction and functional amounts',
        });
      }
    }
    const sums = perCurrency.get(leg.currency) ?? { debit: 0n, credit: 0n };
    sums.debit += leg.debitMinor;
    sums.credit += leg.creditMinor;
    perCurrency.set(leg.currency, sums);
    functionalDebit += leg.functionalDebitMinor;
    functionalCredit += leg.functionalCreditMinor;
    anyAmount ||= isDebit || isCredit;
  });

  for (const [currency, sums] of perCurrency) {
    if (sums.debit !== sums.credit) {
      problems.push({
        path: 'legs',
        code: 'unbalanced_currency',
        message: `${currency} debits ${sums.debit} ≠ credits ${sums.credit}`,
      });
    }
  }
  if (functionalDebit !== functionalCredit) {
    problems.push({
      path: 'legs',
      code: 'unbalanced_functional',
      message: `${entry.functionalCurrency} functional debits ${functionalDebit} ≠ credits ${functionalCredit}`,
    });
  }
  if (!anyAmount) {
    problems.push({ path: 'legs', code: 'zero_entry', message: 'An entry must move some amount' });
  }
  return problems;
}

export class UnbalancedEntryError extends InvalidInputError {
  constructor(entryId: string, details: readonly ErrorDetail[]) {
    super('unbalanced_entry', `Journal entry ${entryId} does not balance`, details);
  }
}

/** Throws UnbalancedEntryError listing every problem; returns the entry otherwise. */
export function assertBalanced(entry: JournalEntry): JournalEntry {
  const problems = journalEntryProblems(entry);
  if (problems.length > 0) throw new UnbalancedEntryError(entry.entryId, problems);
  return entry;
}

/** A leg in the functional currency (transaction amount = functional amount). */
export function functionalLeg(
  side: 'debit' | 'credit',
  account: AccountCode,
  currency: string,
  amountMinor: bigint,
  links: { contractId?: string; partnerId?: string } = {},
): JournalLeg {
  const debit = side === 'debit' ? amountMinor : 0n;
  const credit = side === 'credit' ? amountMinor : 0n;
  return {
    account,
    currency,
    debitMinor: debit,
    creditMinor: credit,
    functionalDebitMinor: debit,
    functionalCreditMinor: credit,
    contractId: links.contractId ?? null,
    partnerId: links.partnerId ?? null,
  };
}

/** The reversal of an entry: same legs, sides swapped. An entry plus its reversal nets to zero. */
export function reverseEntry(
  entry: JournalEntry,
  reversal: { entryId: string; date: string; postingPeriod: string; description: string },
): JournalEntry {
  return {
    ...entry,
    ...reversal,
    reversalOf: entry.entryId,
    legs: entry.legs.map((leg) => ({
      ...leg,
      debitMinor: leg.creditMinor,
      creditMinor: leg.debitMinor,
      functionalDebitMinor: leg.functionalCreditMinor,
      functionalCreditMinor: leg.functionalDebitMinor,
    })),
  };
}
