// Proves the billing event feed's byte-level fast path (the kernel's packed rows) hands the statement exactly what the regular row parser does — amounts for any amount text (the largest through the regular parser), ids given as bytes, repeated agreement and payout ids — and that sizing the statement from the file's size changes nothing but its memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStatementReconciler } from '../../../../lib/domain/reconciliation/reconciler';
import type { RowError, StatementRecord } from '../../../../lib/domain/reconciliation/statement';
import {
  feedAwsBillingEvents,
  readAwsBillingEventFeed,
} from '../../../../lib/marketplaces/aws/billing-event-feed';
import {
  type AwsRow,
  awsConfig,
  awsCsv,
  disbursedRows,
  invoiceRows,
  payoutRow,
  reconcileAws,
} from '../../domain/reconciliation/helpers';
import { unpacker } from './packed';

interface Seen {
  readonly line: number;
  readonly amountMinor: bigint;
  readonly recordId: string;
  readonly invoiceId: string | null;
  readonly contractKey: string | null;
  readonly payoutId: string | null;
}

/** The fields compared, of a regular record or an unpacked kernel one (the same names). */
function seenOf(r: Seen): Seen {
  return {
    line: r.line,
    amountMinor: r.amountMinor,
    recordId: r.recordId,
    invoiceId: r.invoiceId,
    contractKey: r.contractKey,
    payoutId: r.payoutId,
  };
}

/** What the fast path hands a sink, per row (the amount and ids as the store would read them). */
async function fastRows(
  csv: string,
  chunk = 7,
): Promise<{ rows: Seen[]; errors: RowError[]; expected: number[] }> {
  const rows: Seen[] = [];
  const errors: RowError[] = [];
  const expected: number[] = [];
  const unpack = unpacker();
  const bytes = Buffer.from(csv);
  // Small chunks: records and ids straddle chunk boundaries.
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) chunks.push(bytes.subarray(at, at + chunk));
  await feedAwsBillingEvents(
    chunks,
    {
      add(records) {
        for (const r of records) rows.push(seenOf(r));
      },
      addPacked(batch) {
        for (const r of unpack(batch)) {
          expect(r.amountMinor <= BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
          rows.push(seenOf(r));
        }
      },
      addRowErrors(list) {
        errors.push(...list);
      },
      expectRecords(records) {
        expected.push(records);
      },
    },
    { sizeBytes: bytes.length },
  );
  return { rows, errors, expected };
}

async function regularRows(csv: string): Promise<{ rows: Seen[]; errors: RowError[] }> {
  const rows: Seen[] = [];
  const errors: RowError[] = [];
  for await (const batch of readAwsBillingEventFeed([Buffer.from(csv)])) {
    for (const r of batch.records as StatementRecord[]) {
      rows.push(seenOf(r));
    }
    errors.push(...batch.rowErrors);
  }
  return { rows, errors };
}

/** The fields the store keeps of a billed charge (only those rows name their line). */
const kept = (row: Seen) => ({
  line: row.line,
  amountMinor: row.amountMinor,
  contractKey: row.contractKey,
  payoutId: row.payoutId,
});

const amountText = fc.oneof(
  // Plain amounts of every length: within and beyond 15 digits, any number of decimals.
  fc
    .tuple(
      fc.constantFrom('', '-', '+'),
      fc.string({ unit: fc.constantFrom('0', '1', '4', '9'), minLength: 0, maxLength: 22 }),
      fc.option(fc.string({ unit: fc.constantFrom('0', '5', '9'), maxLength: 6 })),
    )
    .map(([sign, whole, fraction]) => `${sign}${whole}${fraction === null ? '' : `.${fraction}`}`),
  // The largest amounts the fast path takes, and just beyond.
  fc.constantFrom(
    '9999999999999.99',
    '-9999999999999.99',
    '99999999999999.99',
    '90071992547409.91',
    '-0.00',
    '0',
    '.5',
    '5.',
    '1e3',
    '1,000.00',
    ' 12.00',
  ),
  fc.string({ unit: fc.constantFrom('1', '.', '-', 'e', ' ', '+'), maxLength: 8 }),
);

describe('billing event feed: the fast path against the regular parser', () => {
  it('every amount text gives the same exact amount or the same row error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(amountText, fc.constantFrom('USD', 'JPY', 'KWD')), {
          minLength: 1,
          maxLength: 12,
        }),
        async (amounts) => {
          const csv = awsCsv(
            amounts.map(([amount, currency], i) => ({
              billing_event_id: `be-${i}`,
              action: 'INVOICED',
              transaction_type: i % 2 === 0 ? 'SELLER_REV_SHARE' : 'AWS_REV_SHARE',
              amount,
              currency,
              invoice_date: '2025-03-01T00:00:00Z',
              invoice_id: `inv-${i}`,
              transaction_reference_id: `tx-${i >> 1}`,
              agreement_id: `agmt-${i >> 2}`,
              update_date: '2025-03-01T06:00:00Z',
            })),
          );
          const fast = await fastRows(csv);
          const regular = await regularRows(csv);
          expect(fast.errors).toEqual(regular.errors);
          expect(fast.rows.map(kept)).toEqual(regular.rows.map(kept));
          // Charges (even lines) name their line: their ids reach the store byte for byte.
          const named = (rows: Seen[]) =>
            rows.filter((r) => r.line % 2 === 0).map((r) => [r.line, r.recordId, r.invoiceId]);
          expect(named(fast.rows)).toEqual(named(regular.rows));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the largest amounts the store takes sum beyond 2^53 exactly; a larger one is refused on both paths', async () => {
    // Twenty charges of 9,999,999,999,999.99 in one transaction: one line of 1.99…·10^16 minor.
    const rows: AwsRow[] = Array.from({ length: 20 }, (_, i) => ({
      billing_event_id: `be-big-${i}`,
      action: 'INVOICED',
      transaction_type: 'SELLER_REV_SHARE',
      amount: '9999999999999.99',
      invoice_date: '2025-03-01T00:00:00Z',
      invoice_id: 'inv-big',
      transaction_reference_id: 'tx-big',
      agreement_id: 'agmt-big',
    }));
    rows.push(
      ...invoiceRows({
        id: 'limit',
        agreement: 'agmt-big',
        date: '2025-03-02',
        gross: '10000000000000.00',
        fee: '-10000000000000.00',
      }),
    );
    const result = await reconcileAws(
      { asOf: '2025-03-31', functionalCurrency: 'USD', contracts: [], rollForward: [] },
      awsCsv(rows),
      awsConfig('2025-03-31'),
    );
    const usd = result.summary.currencies.find((c) => c.currency === 'USD');
    expect(usd?.billedMinor).toBe(20n * 999_999_999_999_999n + 1_000_000_000_000_000n);
    expect(usd?.feesMinor).toBe(-1_000_000_000_000_000n);
    expect(usd?.billedMinor).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));

    const over = awsCsv(
      invoiceRows({
        id: 'over',
        agreement: 'agmt-big',
        date: '2025-03-02',
        gross: '10000000000000.01',
        fee: '-1.00',
      }),
    );
    const fast = createStatementReconciler(awsConfig('2025-03-31'));
    await expect(feedAwsBillingEvents([Buffer.from(over)], fast)).rejects.toThrow(
      /Line 2: amount 1000000000000001 is beyond/,
    );
    const regular = createStatementReconciler(awsConfig('2025-03-31'));
    await expect(
      (async () => {
        for await (const batch of readAwsBillingEventFeed([Buffer.from(over)])) {
          regular.add(batch.records);
        }
      })(),
    ).rejects.toThrow(/Line 2: amount 1000000000000001 is beyond/);
  });

  it('repeated agreement and payout ids, ids split across chunks: the same records', async () => {
    const rows: AwsRow[] = [];
    for (let k = 0; k < 30; k += 1) {
      const agreement = `agmt-${String(Math.floor(k / 4)).padStart(20, '0')}`;
      rows.push(
        ...invoiceRows({
          id: `i${k}`,
          agreement,
          date: '2025-03-01',
          gross: '10.00',
          fee: '-0.30',
        }),
        ...disbursedRows({
          id: `i${k}`,
          agreement,
          payout: `payout-${String(Math.floor(k / 7)).padStart(30, '0')}`,
          gross: '10.00',
          fee: '-0.30',
        }),
      );
    }
    rows.push(payoutRow({ payout: 'payout-x', amount: '9.70', date: '2025-03-20', trace: 'T1' }));
    const csv = awsCsv(rows);
    for (const chunk of [1, 5, 64, 4_096]) {
      const fast = await fastRows(csv, chunk);
      const regular = await regularRows(csv);
      expect(fast.errors).toEqual(regular.errors);
      expect(fast.rows.map(kept)).toEqual(regular.rows.map(kept));
    }
  });

  it('the file size sizes the statement once (an estimate at or above the rows), nothing else changes', async () => {
    const rows: AwsRow[] = [];
    for (let k = 0; k < 1_200; k += 1) {
      rows.push(
        ...invoiceRows({
          id: `s${k}`,
          agreement: `agmt-${k % 50}`,
          date: '2025-03-01',
          gross: `${100 + k}.00`,
          fee: `-${3 + (k % 7)}.00`,
        }),
      );
    }
    const csv = awsCsv(rows);
    const fast = await fastRows(csv, 65_536);
    expect(fast.expected).toHaveLength(1);
    expect(fast.expected[0]).toBeGreaterThanOrEqual(rows.length);
    expect(fast.expected[0]).toBeLessThan(rows.length * 1.1);

    const config = awsConfig('2025-03-31');
    const sized = createStatementReconciler(config);
    await feedAwsBillingEvents([Buffer.from(csv)], sized, { sizeBytes: Buffer.byteLength(csv) });
    const plain = createStatementReconciler(config);
    await feedAwsBillingEvents([Buffer.from(csv)], plain);
    expect(sized.endStatement().finish()).toEqual(plain.endStatement().finish());
  });
});
