// Proves the reconciliation's pure pieces: which report a bucket key is, how a stored contract is named in reports, the true-up entry (balanced, converted half-even, stable id, refused without a rate), and the two shapes of an "object created" event.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contractRefOf, reportTargetOf } from '../../../lib/app/reconciliation';
import type { ContractSnapshot } from '../../../lib/domain/contract';
import { journalEntryProblems } from '../../../lib/domain/ledger';
import type { ToleranceItem } from '../../../lib/domain/reconciliation/results';
import { trueUpEntry, trueUpEntryId } from '../../../lib/domain/reconciliation/true-up';
import { reportObjectsOf } from '../../../lib/outbound/report-objects';

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
  it('balance for any variance, in the line currency and converted half-even', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -1_000_000n, max: 1_000_000n }).filter((v) => v !== 0n),
        fc.constantFrom('USD', 'EUR'),
        (variance, currency) => {
          const entry = trueUpEntry(item(variance, currency), context);
          expect(journalEntryProblems(entry)).toEqual([]);
          expect(entry.postingPeriod).toBe('2025-07');
          const [debit] = entry.legs;
          const abs = variance < 0n ? -variance : variance;
          expect(debit?.debitMinor).toBe(abs);
          if (currency === 'EUR') {
            // 1.085 × abs, half-even: exact integer arithmetic.
            const scaled = abs * 1085n;
            const floor = scaled / 1000n;
            const rest = scaled % 1000n;
            const rounded =
              rest > 500n || (rest === 500n && floor % 2n === 1n) ? floor + 1n : floor;
            expect(debit?.functionalDebitMinor).toBe(rounded);
          }
        },
      ),
      { numRuns: 200, seed: 14 },
    );
  });

  it('have the same id for the same difference and another for another amount', () => {
    expect(trueUpEntryId(item(40n))).toBe(trueUpEntryId(item(40n)));
    expect(trueUpEntryId(item(40n))).not.toBe(trueUpEntryId(item(41n)));
    expect(trueUpEntry(item(40n), context).entryId).toBe(trueUpEntryId(item(40n)));
  });

  it('are refused without a rate to the functional currency', () => {
    expect(() => trueUpEntry(item(40n, 'JPY'), context)).toThrow(/No JPY\/USD rate/);
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
      { bucket: 'agora-reports', key: 'reports/aws-billing-events/f.csv', sizeBytes: 12 },
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
      { bucket: 'agora-reports', key: 'reports/azure-earnings/my file(1).csv', sizeBytes: null },
    ]);
  });

  it('refuse anything else', () => {
    expect(() => reportObjectsOf({ Records: [] })).toThrow(/Object Created/);
    expect(() => reportObjectsOf({ 'detail-type': 'Object Deleted', detail: {} })).toThrow();
  });
});
