// Reads a contract's journal over HTTP as finance, and nets an account: shared by the commission tests.
import { expect } from 'vitest';
import { type JournalEntry, JournalEntrySchema } from '../../../lib/domain/ledger';
import type { TestStack } from '../pipeline/helpers';

/** The contract's journal entries (first page of 200), parsed; `rulePrefix` keeps only those rules. */
export async function journalOf(
  test: TestStack,
  contractId: string,
  rulePrefix = '',
): Promise<JournalEntry[]> {
  const page = await test.get(`/v1/journal?contractId=${contractId}&limit=200`, ['finance']);
  expect(page.status).toBe(200);
  return (page.body.items as unknown[])
    .map((item) => JournalEntrySchema.parse(item))
    .filter((e) => e.rule.startsWith(rulePrefix));
}

/** Debits minus credits on `account` over the entries. */
export function netOf(entries: readonly JournalEntry[], account: string): bigint {
  return entries
    .flatMap((e) => e.legs)
    .filter((l) => l.account === account)
    .reduce((sum, l) => sum + l.debitMinor - l.creditMinor, 0n);
}
