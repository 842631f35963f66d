// Proves the reconciliation depends on the content of a feed, not its order: a file with shuffled rows, exact duplicates and earlier versions of re-updated rows gives the same result as its clean equivalent (only file line numbers and the version counts differ), through both feed paths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContractRef } from '../../../../lib/domain/reconciliation/expected';
import {
  type AwsRow,
  awsConfig,
  awsCsv,
  disbursedRows,
  invoiceRows,
  ledgerOf,
  payoutRow,
  reconcileAws,
  withoutLines,
} from './helpers';

const AS_OF = '2025-08-31';
const CONTRACTS: ContractRef[] = [
  { contractId: 'X', marketplace: 'aws', keys: ['agmt-x'] },
  { contractId: 'Y', marketplace: 'aws', keys: ['agmt-y'], references: ['txref-y-2025-04-01'] },
];
const QUARTERS = ['2025-01-01', '2025-04-01', '2025-07-01'];

const LEDGER = ledgerOf(
  {
    asOf: AS_OF,
    events: ['X', 'Y'].map((contractId) => ({
      type: 'ContractCreated' as const,
      contractId,
      marketplace: 'aws' as const,
      offerType: 'private' as const,
      effectiveAt: '2025-01-01',
      currency: 'USD',
      term: { start: '2025-01-01', end: '2026-01-01' },
      totalMinor: '10000000',
      installments: [...QUARTERS, '2025-10-01'].map((date) => ({ date, amountMinor: '2500000' })),
    })),
  },
  CONTRACTS,
);

/** What happened to one installment in the clean file. */
const fate = fc.record({
  billed: fc.constantFrom('exact', 'short', 'absent', 'uplift'),
  paid: fc.boolean(),
  keyed: fc.boolean(),
});

function cleanFeed(
  fates: { billed: string; paid: boolean; keyed: boolean }[],
  unknown: boolean,
): AwsRow[] {
  const rows: AwsRow[] = [];
  const payout: AwsRow[] = [];
  let total = 0n;
  fates.forEach((f, i) => {
    const contract = i < QUARTERS.length ? 'x' : 'y';
    const date = QUARTERS[i % QUARTERS.length] ?? '2025-01-01';
    if (f.billed === 'absent') return;
    const gross = f.billed === 'short' ? '24999.99' : '25000.00';
    const fee = f.billed === 'uplift' ? '-875.00' : '-750.00';
    const agreement = f.keyed || contract === 'x' ? `agmt-${contract}` : null;
    rows.push(
      ...invoiceRows({
        id: `${contract}-${date}`,
        agreement,
        date,
        due: date.replace(/01$/, '28'),
        gross,
        fee,
      }),
    );
    if (f.paid) {
      payout.push(
        ...disbursedRows({
          id: `${contract}-${date}`,
          agreement,
          payout: 'be-payout-8',
          gross,
          fee,
          update: '2025-08-10T00:00:00Z',
        }),
      );
      total += BigInt(gross.replace('.', '')) + BigInt(fee.replace('.', ''));
    }
  });
  if (payout.length > 0) {
    const amount = `${total / 100n}.${(total % 100n).toString().padStart(2, '0')}`;
    rows.push(
      ...payout,
      payoutRow({ payout: 'be-payout-8', amount, date: '2025-08-12', trace: 'TRACE-8' }),
    );
  }
  if (unknown)
    rows.push(
      ...invoiceRows({
        id: 'z',
        agreement: 'agmt-z',
        date: '2025-05-05',
        gross: '100.00',
        fee: '-3.00',
      }),
    );
  return rows;
}

/** Counts that describe the file, not the reconciliation: they may differ. */
function comparable(result: Awaited<ReturnType<typeof reconcileAws>>): unknown {
  const plain = withoutLines(result) as { summary: { counts: Record<string, unknown> } };
  for (const key of ['records', 'superseded', 'duplicates', 'conflicts'])
    delete plain.summary.counts[key];
  return plain;
}

describe('determinism', () => {
  it('shuffled, duplicated and re-updated rows give the same result as the clean file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fate, { minLength: 6, maxLength: 6 }),
        fc.boolean(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: -999_999, max: 999_999 })), { maxLength: 6 }),
        async (fates, unknown, order, duplicates, updates) => {
          const clean = cleanFeed(fates, unknown);
          const messy: AwsRow[] = [...clean];
          for (const d of duplicates)
            if (clean.length > 0) messy.push({ ...(clean[d % clean.length] as AwsRow) });
          for (const [k, [u, cents]] of updates.entries()) {
            const row = clean[u % Math.max(1, clean.length)];
            // An earlier version of a row that has an update time, with another amount.
            if (!row?.update_date) continue;
            const negative = cents < 0;
            const abs = Math.abs(cents);
            messy.push({
              ...row,
              update_date: `2024-12-${String(10 + k).padStart(2, '0')}T23:00:00Z`,
              amount: `${negative ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`,
            });
          }
          // A permutation driven by the generated order numbers.
          const keyed = messy.map((row, i) => ({ row, key: order[i % order.length] ?? 0, i }));
          keyed.sort((a, b) => a.key - b.key || b.i - a.i);
          const shuffled = keyed.map((k) => k.row);
          const config = awsConfig(AS_OF);
          const expected = await reconcileAws(LEDGER, awsCsv(clean), config);
          const actual = await reconcileAws(LEDGER, awsCsv(shuffled, '\r\n'), config);
          expect(comparable(actual)).toEqual(comparable(expected));
          expect(actual.summary.counts.records).toBe(messy.length);
          expect(actual.summary.counts.conflicts).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('counts repeats, superseded versions and conflicting equal versions (settled by content)', async () => {
    const [charge, fee] = invoiceRows({
      id: 'x-2025-01-01',
      agreement: 'agmt-x',
      date: '2025-01-01',
      gross: '25000.00',
      fee: '-750.00',
    });
    if (!charge || !fee) throw new Error('rows');
    const rows: AwsRow[] = [
      charge,
      fee,
      { ...charge },
      { ...fee, update_date: '2024-12-01T00:00:00Z', amount: '-1.00' },
      { ...charge, amount: '24000.00' },
    ];
    const forward = await reconcileAws(LEDGER, awsCsv(rows), awsConfig(AS_OF));
    const backward = await reconcileAws(LEDGER, awsCsv([...rows].reverse()), awsConfig(AS_OF));
    expect(forward.summary.counts).toMatchObject({
      records: 5,
      duplicates: 1,
      superseded: 1,
      conflicts: 1,
    });
    expect(comparable(backward)).toEqual(comparable(forward));
  });
});
