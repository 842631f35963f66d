/**
 * Invariants of ARCHITECTURE.md checked on the stored state after every step, independent of the
 * model: balanced entries (per currency and functional), bigint money, unique entry and event ids,
 * events in version order.
 */
import { createHash } from 'node:crypto';
import type { StoredContractView, StoredEntry } from './auditor';

/** Invariant 1 and the money rule: every entry balances; every amount is bigint minor units. */
export function checkEntries(entries: readonly StoredEntry[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.entryId)) problems.push(`journal entry ${entry.entryId} stored twice`);
    seen.add(entry.entryId);
    const perCurrency = new Map<string, bigint>();
    let functional = 0n;
    for (const leg of entry.legs) {
      for (const amount of [
        leg.debitMinor,
        leg.creditMinor,
        leg.functionalDebitMinor,
        leg.functionalCreditMinor,
      ]) {
        if (typeof amount !== 'bigint')
          problems.push(
            `entry ${entry.entryId}: amount ${String(amount)} is not bigint minor units`,
          );
        else if (amount < 0n) problems.push(`entry ${entry.entryId}: negative amount ${amount}`);
      }
      perCurrency.set(
        leg.currency,
        (perCurrency.get(leg.currency) ?? 0n) + leg.debitMinor - leg.creditMinor,
      );
      functional += leg.functionalDebitMinor - leg.functionalCreditMinor;
    }
    for (const [currency, net] of perCurrency)
      if (net !== 0n) problems.push(`entry ${entry.entryId} is off by ${net} ${currency}`);
    if (functional !== 0n)
      problems.push(`entry ${entry.entryId} is off by ${functional} in functional currency`);
    if (!/^\d{4}-\d{2}$/.test(entry.postingPeriod) || entry.postingPeriod < entry.date.slice(0, 7))
      problems.push(
        `entry ${entry.entryId} dated ${entry.date} posts in an earlier period ${entry.postingPeriod}`,
      );
  }
  return problems;
}

/** Event ids are unique; stored versions never exceed the snapshot's and never go back. */
export function checkContractEvents(contractId: string, view: StoredContractView): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  let last = 0;
  for (const event of view.events) {
    if (ids.has(event.eventId))
      problems.push(`contract ${contractId}: event ${event.eventId} stored twice`);
    ids.add(event.eventId);
    if (event.version < last)
      problems.push(`contract ${contractId}: event versions go back (${last} → ${event.version})`);
    last = event.version;
  }
  if (last > view.version)
    problems.push(`contract ${contractId}: event version ${last} beyond snapshot ${view.version}`);
  return problems;
}

/** A hash of what matters in the stored state (status, terms, events, journal), order-free. */
export function stateHash(views: readonly StoredContractView[]): string {
  const lines: string[] = [];
  for (const view of views) {
    lines.push(`C ${view.status} ${view.version} ${view.termStart} ${String(view.termEnd)}`);
    for (const e of view.events) lines.push(`E ${e.eventId} ${e.type} ${e.version}`);
    for (const entry of view.entries)
      for (const leg of entry.legs)
        lines.push(
          `J ${entry.entryId} ${entry.date} ${entry.postingPeriod} ${leg.account} ${leg.currency} ${leg.debitMinor} ${leg.creditMinor}`,
        );
  }
  lines.sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}
