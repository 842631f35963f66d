// Proves the journal-entry invariant: balanced entries (per transaction currency and in the
// functional currency) pass, any perturbation is rejected, and a reversal nets to zero.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertBalanced,
  functionalLeg,
  type JournalEntry,
  type JournalLeg,
  journalEntryProblems,
  reverseEntry,
} from '../../../lib/domain/ledger';

const RUNS = { numRuns: 300, seed: 20261123 } as const;

function entry(legs: JournalLeg[], functionalCurrency = 'USD'): JournalEntry {
  return {
    schemaVersion: 1,
    entryId: 'je_test',
    date: '2025-01-01',
    postingPeriod: '2025-01',
    functionalCurrency,
    description: 'test',
    source: { kind: 'manual', id: 'test' },
    rule: 'test',
    ruleVersion: 1,
    reversalOf: null,
    legs,
  };
}

/** A random balanced entry: n debit amounts, and credits that split the same total. */
const balancedArb = fc
  .array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 6 })
  .chain((debits) => {
    const total = debits.reduce((a, b) => a + b, 0n);
    return fc.bigInt({ min: 0n, max: total }).map((cut) => {
      const credits = cut === 0n || cut === total ? [total] : [cut, total - cut];
      return entry([
        ...debits.map((d) => functionalLeg('debit', '1210', 'USD', d)),
        ...credits.map((c) => functionalLeg('credit', '2400', 'USD', c)),
      ]);
    });
  });

function netByAccount(entries: JournalEntry[]): Map<string, bigint> {
  const net = new Map<string, bigint>();
  for (const e of entries) {
    for (const leg of e.legs) {
      const key = `${leg.account}/${leg.currency}`;
      net.set(key, (net.get(key) ?? 0n) + leg.debitMinor - leg.creditMinor);
      const fkey = `${leg.account}/functional`;
      net.set(fkey, (net.get(fkey) ?? 0n) + leg.functionalDebitMinor - leg.functionalCreditMinor);
    }
  }
  return net;
}

describe('journal entry balance', () => {
  it('accepts every balanced entry', () => {
    fc.assert(
      fc.property(balancedArb, (e) => {
        expect(journalEntryProblems(e)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('rejects any entry whose one leg is perturbed', () => {
    fc.assert(
      fc.property(balancedArb, fc.nat(), fc.bigInt({ min: 1n, max: 1_000n }), (e, pick, delta) => {
        const index = pick % e.legs.length;
        const legs = e.legs.map((leg, i) => {
          if (i !== index) return leg;
          return leg.debitMinor > 0n
            ? {
                ...leg,
                debitMinor: leg.debitMinor + delta,
                functionalDebitMinor: leg.functionalDebitMinor + delta,
              }
            : {
                ...leg,
                creditMinor: leg.creditMinor + delta,
                functionalCreditMinor: leg.functionalCreditMinor + delta,
              };
        });
        const problems = journalEntryProblems({ ...e, legs });
        expect(problems.map((p) => p.code)).toContain('unbalanced_currency');
        expect(problems.map((p) => p.code)).toContain('unbalanced_functional');
        expect(() => assertBalanced({ ...e, legs })).toThrow(/does not balance/);
      }),
      RUNS,
    );
  });

  it('a reversal nets every account to zero', () => {
    fc.assert(
      fc.property(balancedArb, (e) => {
        const reversal = reverseEntry(e, {
          entryId: 'je_rev',
          date: '2025-02-01',
          postingPeriod: '2025-02',
          description: 'reversal',
        });
        expect(journalEntryProblems(reversal)).toEqual([]);
        expect(reversal.reversalOf).toBe(e.entryId);
        for (const value of netByAccount([e, reversal]).values()) expect(value).toBe(0n);
      }),
      RUNS,
    );
  });

  it('WE-7 shape: a EUR receivable settled in USD balances through FX clearing', () => {
    // €97,000.00 carried at 1.0400 (100,880.00 USD) settled with 101,365.00 USD: gain 485.00
    const legs: JournalLeg[] = [
      functionalLeg('debit', '1000', 'USD', 10_136_500n),
      functionalLeg('credit', '1950', 'USD', 10_136_500n),
      {
        ...functionalLeg('debit', '1950', 'EUR', 0n),
        debitMinor: 9_700_000n,
        functionalDebitMinor: 10_136_500n,
      },
      {
        ...functionalLeg('credit', '1210', 'EUR', 0n),
        creditMinor: 9_700_000n,
        functionalCreditMinor: 10_088_000n,
      },
      functionalLeg('credit', '7100', 'USD', 48_500n),
    ];
    // USD legs: 101,365.00 debit vs 101,365.00 + 485.00 credit → unbalanced in USD
    expect(journalEntryProblems(entry(legs)).map((p) => p.code)).toEqual(['unbalanced_currency']);
    // the gain is a functional-only remeasurement on the EUR side, so every currency balances
    const fixed: JournalLeg[] = [
      ...legs.slice(0, 4),
      { ...functionalLeg('credit', '7100', 'EUR', 0n), functionalCreditMinor: 48_500n },
    ];
    expect(journalEntryProblems(entry(fixed))).toEqual([]);
  });

  it('flags two-sided, empty and functional-mismatch legs', () => {
    const twoSided = {
      ...functionalLeg('debit', '1210', 'USD', 5n),
      creditMinor: 5n,
      functionalCreditMinor: 5n,
    };
    const codes = (legs: JournalLeg[]) => journalEntryProblems(entry(legs)).map((p) => p.code);
    expect(codes([twoSided, functionalLeg('credit', '2400', 'USD', 0n)])).toContain(
      'two_sided_leg',
    );
    expect(
      codes([
        functionalLeg('debit', '1210', 'USD', 0n),
        functionalLeg('credit', '2400', 'USD', 0n),
      ]),
    ).toContain('zero_entry');
    const mismatch = { ...functionalLeg('debit', '1210', 'USD', 5n), functionalDebitMinor: 6n };
    expect(codes([mismatch, functionalLeg('credit', '2400', 'USD', 5n)])).toContain(
      'functional_mismatch',
    );
  });
});
