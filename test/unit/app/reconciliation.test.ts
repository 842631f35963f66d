// Proves the reconciliation's pure pieces: which report a bucket key is, how a stored contract is named in reports, true-ups (balanced, converted half-even, cumulative per line: the ledger holds exactly the latest difference, never a double), and the two shapes of an "object created" event.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contractRefOf, reportTargetOf } from '../../../lib/app/reconciliation';
import type { ContractSnapshot } from '../../../lib/domain/contract';
import { type JournalEntry, journalEntryProblems } from '../../../lib/domain/ledger';
import type { ToleranceItem } from '../../../lib/domain/reconciliation/results';
import {
  postedTrueUps,
  trueUpChange,
  trueUpEntry,
  trueUpEntryId,
  trueUpKey,
  trueUpReversal,
} from '../../../lib/domain/reconciliation/true-up';
import { isReportContent, reportObjectsOf } from '../../../lib/outbound/report-objects';

function item(amountMinor: bigint, currency = 'USD'): ToleranceItem {
  const absolute = amountMinor < 0n ? -amountMinor : amountMinor;
  return {
    level: 'billing',
    contractId: 'ct-1',
    internalId: 'invoice:inst-1-2025-06-01',
    keys: {
      agreementId: 'R-2',
      recordId: 'be-1',
      invoiceId: 'inv-1',
      payoutId: null,
      bankReference: null,
    },
    line: 7,
    currency,
    expectedMinor: 500_000n,
    actualMinor: 500_000n + amountMinor,
    varianceMinor: amountMinor,
    toleranceMinor: 100n,
    trueUp: {
      account: '4000',
      counterAccount: '1210',
      amountMinor,
      debitAccount: amountMinor >= 0n ? '1210' : '4000',
      creditAccount: amountMinor >= 0n ? '4000' : '1210',
      absoluteMinor: absolute,
      currency,
      period: '2025-07',
      mode: 'post',
    },
  };
}

const context = {
  reconciliationId: 'rec-1',
  date: '2025-06-30',
  period: '2025-07',
  functionalCurrency: 'USD',
  rate: (_d: string, from: string, to: string) =>
    from === to ? { num: 1n, den: 1n } : from === 'EUR' ? { num: 1085n, den: 1000n } : null,
};

describe('report keys', () => {
  it('take the source and the as-of folder, or the arrival day', () => {
    expect(reportTargetOf('reports/aws-billing-events/2025-08-31/feed.csv', '2025-09-02')).toEqual({
      source: 'aws-billing-events',
      asOf: '2025-08-31',
    });
    expect(reportTargetOf('reports/gcp-disbursements/d.csv', '2025-09-02')).toEqual({
      source: 'gcp-disbursements',
      asOf: '2025-09-02',
    });
  });

  it('refuse keys outside reports/<source>/ and impossible dates', () => {
    expect(() => reportTargetOf('statements/x.csv', '2025-09-02')).toThrow(/reports/);
    expect(() => reportTargetOf('reports/bank/x.csv', '2025-09-02')).toThrow(/reports/);
    expect(() => reportTargetOf('reports/azure-earnings/2025-02-30/x.csv', '2025-09-02')).toThrow();
  });
});

describe('contract refs', () => {
  it('name a contract by its agreement ids and the bare external id, never its product', () => {
    const snapshot = {
      contractId: 'ct-9',
      marketplace: 'aws',
      externalId: 'license/l-abc',
      refs: { agreementId: 'agmt-2', previousAgreementId: 'agmt-1', productCode: 'prod-x' },
    } as unknown as ContractSnapshot;
    expect(contractRefOf(snapshot)).toEqual({
      contractId: 'ct-9',
      marketplace: 'aws',
      keys: ['agmt-2', 'agmt-1', 'l-abc'],
    });
  });
});

describe('true-up entries', () => {
  const post = (target: bigint, ledger: JournalEntry[], currency = 'USD') => {
    const change = trueUpChange(
      item(target, currency),
      postedTrueUps(ledger).get(trueUpKey(item(target, currency))),
    );
    if (change.deltaMinor === 0n) return null;
    const entry = trueUpEntry(change, context);
    // Posting is idempotent by entry id, as the journal is.
    if (!ledger.some((e) => e.entryId === entry.entryId)) ledger.push(entry);
    return entry;
  };

  it('balance for any variance, in the line currency and converted half-even', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -1_000_000n, max: 1_000_000n }).filter((v) => v !== 0n),
        fc.constantFrom('USD', 'EUR'),
        (variance, currency) => {
          const entry = post(variance, [], currency);
          expect(entry).not.toBeNull();
          if (!entry) return;
          expect(journalEntryProblems(entry)).toEqual([]);
          expect(entry.postingPeriod).toBe('2025-07');
          const abs = variance < 0n ? -variance : variance;
          // Raising revenue credits 4000; lowering it debits 4000.
          const revenue = entry.legs.find((l) => l.account === '4000');
          expect(variance > 0n ? revenue?.creditMinor : revenue?.debitMinor).toBe(abs);
          if (currency === 'EUR') {
            const scaled = abs * 1085n;
            const floor = scaled / 1000n;
            const rest = scaled % 1000n;
            const rounded =
              rest > 500n || (rest === 500n && floor % 2n === 1n) ? floor + 1n : floor;
            expect(
              revenue?.functionalCreditMinor ?? 0n + (revenue?.functionalDebitMinor ?? 0n),
            ).toBe(variance > 0n ? rounded : 0n);
          }
        },
      ),
      { numRuns: 200, seed: 14 },
    );
  });

  it('hold exactly the latest target of a line, whatever sequence of runs found it (property)', () => {
    fc.assert(
      fc.property(
        // A small set of targets, so runs revisit earlier ones (40 → 70 → 40) as real files do.
        fc.array(fc.constantFrom(-30n, 0n, 40n, 70n, 500n), { minLength: 1, maxLength: 8 }),
        (targets) => {
          const ledger: JournalEntry[] = [];
          for (const target of targets) {
            if (target === 0n) {
              const before = postedTrueUps(ledger).get(trueUpKey(item(1n)));
              if (before && before.amountMinor !== 0n)
                ledger.push(trueUpEntry(trueUpReversal(item(1n), before), context));
            } else {
              post(target, ledger);
              post(target, ledger); // a retry or the same file again: nothing new
            }
          }
          const last = targets[targets.length - 1] ?? 0n;
          expect(postedTrueUps(ledger).get(trueUpKey(item(1n)))?.amountMinor ?? 0n).toBe(last);
          for (const entry of ledger) expect(journalEntryProblems(entry)).toEqual([]);
          expect(new Set(ledger.map((e) => e.entryId)).size).toBe(ledger.length);
        },
      ),
      { numRuns: 200, seed: 15 },
    );
  });

  it('post only the change when the difference of a line moves, and nothing when it is the same', () => {
    const ledger: JournalEntry[] = [];
    expect(post(40n, ledger)?.legs.find((l) => l.account === '4000')?.creditMinor).toBe(40n);
    expect(post(40n, ledger)).toBeNull();
    expect(post(55n, ledger)?.legs.find((l) => l.account === '4000')?.creditMinor).toBe(15n);
    expect(trueUpEntryId(trueUpKey(item(55n)), 1, 55n)).toBe(ledger[1]?.entryId);
  });

  it('post a line that returns to an earlier target again (40 → 70 → 0 → 40 holds 40)', () => {
    const ledger: JournalEntry[] = [];
    post(40n, ledger);
    post(70n, ledger);
    const before = postedTrueUps(ledger).get(trueUpKey(item(1n)));
    if (before) ledger.push(trueUpEntry(trueUpReversal(item(1n), before), context));
    expect(postedTrueUps(ledger).get(trueUpKey(item(1n)))?.amountMinor).toBe(0n);
    expect(post(40n, ledger)?.legs.find((l) => l.account === '4000')?.creditMinor).toBe(40n);
    expect(ledger).toHaveLength(4);
    expect(postedTrueUps(ledger).get(trueUpKey(item(1n)))?.amountMinor).toBe(40n);
    expect(post(40n, ledger)).toBeNull();
  });

  it('are refused without a rate to the functional currency', () => {
    expect(() => trueUpEntry(trueUpChange(item(40n, 'JPY'), undefined), context)).toThrow(
      /No JPY\/USD rate/,
    );
  });
});

describe('object created events', () => {
  it('read the EventBridge shape and the S3 notification shape (keys URL-decoded)', () => {
    expect(
      reportObjectsOf({
        'detail-type': 'Object Created',
        detail: {
          bucket: { name: 'agora-reports' },
          object: { key: 'reports/aws-billing-events/f.csv', size: 12 },
        },
      }),
    ).toEqual([
      {
        bucket: 'agora-reports',
        key: 'reports/aws-billing-events/f.csv',
        sizeBytes: 12,
        eventTime: null,
      },
    ]);
    expect(
      reportObjectsOf({
        Records: [
          {
            s3: {
              bucket: { name: 'agora-reports' },
              object: { key: 'reports/azure-earnings/my+file%281%29.csv' },
            },
          },
        ],
      }),
    ).toEqual([
      {
        bucket: 'agora-reports',
        key: 'reports/azure-earnings/my file(1).csv',
        sizeBytes: null,
        eventTime: null,
      },
    ]);
  });

  it('skip console folders and empty uploads', () => {
    const object = {
      bucket: 'b',
      key: 'reports/aws-billing-events/',
      sizeBytes: 0,
      eventTime: null,
    };
    expect(isReportContent(object)).toBe(false);
    expect(isReportContent({ ...object, key: 'reports/aws-billing-events/f.csv' })).toBe(false);
    expect(
      isReportContent({ ...object, key: 'reports/aws-billing-events/f.csv', sizeBytes: 9 }),
    ).toBe(true);
  });

  it('refuse anything else', () => {
    expect(() => reportObjectsOf({ Records: [] })).toThrow(/Object Created/);
    expect(() => reportObjectsOf({ 'detail-type': 'Object Deleted', detail: {} })).toThrow();
  });
});
