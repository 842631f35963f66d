// Proves the billing event feed's WebAssembly kernel hands the statement exactly what the regular row parser does — every field (fingerprints, days, update time, kind, amount, ids, currency) and every row error, on random rows of valid and odd fields, in any chunking — that it takes the plain rows itself, and that the committed module is its compiled source.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../../lib/domain/reconciliation/fingerprint';
import type { RowError, StatementRecord } from '../../../../lib/domain/reconciliation/statement';
import { A, C, recordNamesLine } from '../../../../lib/domain/reconciliation/store';
import {
  feedAwsBillingEvents,
  readAwsBillingEventFeed,
} from '../../../../lib/marketplaces/aws/billing-event-feed';
import { BILLING_EVENT_KERNEL_WASM_BASE64 } from '../../../../lib/marketplaces/aws/kernel/billing-event-kernel.wasm';
import { compileBillingEventKernel } from '../../../../lib/tools/write-kernel';
import { type AwsRow, awsCsv } from '../../domain/reconciliation/helpers';
import { type Unpacked, unpacker } from './packed';

/**
 * A record as the statement store reads it, whichever path made it: the unpacked kernel record,
 * its ids kept only where the store keeps them, and a converted payout (the regular path's).
 */
type Normal = Omit<Unpacked, 'recordId'> & { recordId: string | null; payout: string | null };

const fp = (text: string) => {
  const f = fingerprintOf(text);
  return `${f.hi}:${f.lo}`;
};

function fromRecord(r: StatementRecord): Normal {
  const action = A[r.action];
  const component = C[r.component];
  const group =
    r.parentId !== null && r.action === 'disbursed' ? null : (r.groupKey ?? r.invoiceId);
  const named = recordNamesLine(component, action);
  return {
    line: r.line,
    id: fp(r.recordId),
    version: r.version,
    action,
    component,
    balance: r.balanceImpacting,
    group: group === null ? null : fp(group),
    parent: r.parentId === null ? null : fp(r.parentId),
    recordId: named ? r.recordId : null,
    invoiceId: named ? r.invoiceId : null,
    contractKey: r.contractKey,
    payoutId: r.payoutId,
    bankReference: r.bankReference,
    currency: r.currency,
    amountMinor: r.amountMinor,
    payout: r.payoutCurrency === null ? null : `${r.payoutCurrency}${r.payoutAmountMinor}`,
    days: [r.invoiceDay, r.dueDay, r.usageStartDay, r.usageEndDay, r.eventDay].map((d) => d ?? -1),
  };
}

function fromPacked(r: Unpacked): Normal {
  const named = recordNamesLine(r.component, r.action);
  return {
    line: r.line,
    id: r.id,
    version: r.version,
    action: r.action,
    component: r.component,
    balance: r.balance,
    group: r.group,
    parent: r.parent,
    recordId: named ? r.recordId : null,
    invoiceId: named ? r.invoiceId : null,
    contractKey: r.contractKey,
    payoutId: r.payoutId,
    bankReference: r.bankReference,
    currency: r.currency,
    amountMinor: r.amountMinor,
    payout: null,
    days: r.days,
  };
}

async function throughKernel(csv: string, chunk: number, encoding: BufferEncoding = 'latin1') {
  const records: Normal[] = [];
  const errors: RowError[] = [];
  let regular = 0;
  const unpack = unpacker();
  const bytes = Buffer.from(csv, encoding);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) chunks.push(bytes.subarray(at, at + chunk));
  await feedAwsBillingEvents(chunks, {
    add(list) {
      regular += list.length;
      for (const r of list) records.push(fromRecord(r));
    },
    addPacked(batch) {
      for (const r of unpack(batch)) records.push(fromPacked(r));
    },
    addRowErrors(list) {
      errors.push(...list);
    },
  });
  return { records, errors, regular };
}

async function throughParser(csv: string, encoding: BufferEncoding = 'latin1') {
  const records: Normal[] = [];
  const errors: RowError[] = [];
  for await (const batch of readAwsBillingEventFeed([Buffer.from(csv, encoding)])) {
    for (const r of batch.records as StatementRecord[]) records.push(fromRecord(r));
    errors.push(...batch.rowErrors);
  }
  return { records, errors };
}

const stamps = fc
  .date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('2199-12-31T23:59:59Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());
/** Dates and timestamps as feeds write them, other valid shapes, and impossible ones. */
const stampText = fc.oneof(
  { weight: 4, arbitrary: stamps.map((t) => `${t.slice(0, 19)}Z`) },
  stamps,
  stamps.map((t) => t.slice(0, 10)),
  stamps.map((t) => `${t.slice(0, 10)} ${t.slice(11, 23)}`),
  stamps.map((t) => `${t.slice(0, 19)}+00:00`),
  stamps.map((t) => `${t.slice(0, 19)}+0000`),
  stamps.map((t) => `${t.slice(0, 19)}-05:00`),
  stamps.map((t) => `${t.slice(0, 19)}.123456789Z`),
  stamps.map((t) => `${t.slice(0, 19)}.5`),
  stamps.map((t) => `${t.slice(0, 19)}.Z`),
  fc.constantFrom(
    '',
    '2024-02-29T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-04-31',
    '2025-13-01',
    '1969-12-31',
    '2200-01-01',
    '2025-1-01',
    '2025-01-01T24:00:00Z',
    '2025-01-01T23:60:00Z',
    '2025-01-01X00:00:00Z',
    '2025-01-01T00:00:00z',
    'not a date',
  ),
);
const idText = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,45}$/) },
  fc.constantFrom(
    '',
    'x',
    'be-1',
    'be-2',
    'id with space',
    'é-latin1',
    'id "quoted"',
    'a,b',
    'line\nbreak',
  ),
);
const amountText = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.integer({ min: -99_999_999, max: 99_999_999 }).map((n) => (n / 100).toFixed(2)),
  },
  fc.constantFrom(
    '0',
    '-0.00',
    '12',
    '12.5',
    '1.234',
    '+5.00',
    '.5',
    '5.',
    '-',
    '1e3',
    '9999999999999.99',
    '99999999999999.99',
    '1,000.00',
    '',
  ),
);
/** Mostly what the kernel takes, now and then the odd value (each on its own). */
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 12, arbitrary: usual }, { weight: 1, arbitrary: odd });
const plainStamp = stamps.map((t) => `${t.slice(0, 19)}Z`);
const stamp = mostly(fc.oneof(plainStamp, fc.constant('')), stampText);
const row: fc.Arbitrary<AwsRow> = fc.record({
  billing_event_id: mostly(fc.stringMatching(/^[a-z0-9-]{1,45}$/), idText),
  action: mostly(
    fc.constantFrom('INVOICED', 'DISBURSED', 'FORGIVEN'),
    fc.constantFrom('invoiced', 'PAID', ''),
  ),
  transaction_type: mostly(
    fc.constantFrom(
      'SELLER_REV_SHARE',
      'AWS_REV_SHARE',
      'SELLER_REV_SHARE_REFUND',
      'AWS_TAX_SHARE',
      'BALANCE_ADJUSTMENT',
      'DISBURSEMENT',
      'DISBURSEMENT_FAILURE',
    ),
    fc.constantFrom('seller_rev_share', 'UNKNOWN'),
  ),
  parent_billing_event_id: fc.oneof(fc.constant(''), idText),
  disbursement_billing_event_id: fc.constantFrom('', '', 'bd-1', 'bd-2'),
  amount: mostly(
    fc.integer({ min: -99_999_999, max: 99_999_999 }).map((n) => (n / 100).toFixed(2)),
    amountText,
  ),
  currency: mostly(
    fc.constantFrom('USD', 'USD', 'EUR', 'KWD'),
    fc.constantFrom('JPY', 'usd', 'XYZ', 'USDT', ''),
  ),
  balance_impacting: mostly(fc.constantFrom('1', '0'), fc.constantFrom('true', '2', '')),
  invoice_date: stamp,
  payment_due_date: stamp,
  usage_period_start_date: stamp,
  usage_period_end_date: stamp,
  invoice_id: fc.oneof(fc.constant(''), idText),
  transaction_reference_id: fc.oneof(fc.constant(''), idText),
  bank_trace_id: fc.constantFrom('', '', 'trace-1'),
  agreement_id: fc.constantFrom('', 'agmt-1', 'agmt-1', 'agmt-2', 'agmt-'.padEnd(70, 'z')),
  update_date: stamp,
});

describe('billing event kernel', () => {
  it('the committed module is what its source compiles to', async () => {
    const binary = await compileBillingEventKernel();
    expect(Buffer.from(binary).toString('base64')).toBe(BILLING_EVENT_KERNEL_WASM_BASE64);
  }, 60_000);

  it('random rows, odd fields and all: the same records and row errors as the regular parser, in any chunking', async () => {
    let taken = 0;
    let all = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 30 }),
        fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        async (rows, lineBreak, chunk, blanks) => {
          let csv = awsCsv(rows, lineBreak);
          // Blank lines and a short row now and then (line numbers must still agree).
          const lines = csv.split(lineBreak);
          for (const at of blanks) lines.splice(1 + (at % lines.length), 0, at % 2 ? '' : 'a,b');
          csv = lines.join(lineBreak);
          const kernel = await throughKernel(csv, chunk);
          const parser = await throughParser(csv);
          taken += kernel.records.length - kernel.regular;
          all += kernel.records.length;
          expect(kernel.records).toEqual(parser.records);
          expect(kernel.errors.sort((a, b) => a.line - b.line)).toEqual(parser.errors);
        },
      ),
      { numRuns: 400 },
    );
    // The rows exercised the kernel, not only the regular parser.
    expect(taken).toBeGreaterThan(all / 5);
  }, 120_000);

  it('takes plain rows itself: only rows it does not recognise reach the regular parser', async () => {
    const plain: AwsRow[] = Array.from({ length: 40 }, (_, i) => ({
      billing_event_id: `be-${i}`,
      action: i % 3 === 2 ? 'DISBURSED' : 'INVOICED',
      transaction_type: i % 2 === 0 ? 'SELLER_REV_SHARE' : 'AWS_REV_SHARE',
      parent_billing_event_id: i % 3 === 2 ? `be-${i - 2}` : '',
      disbursement_billing_event_id: i % 3 === 2 ? 'bd-1' : '',
      amount: (i % 2 === 0 ? '1000' : '-30') + (i < 20 ? '.00' : ''),
      currency: i < 20 ? 'USD' : 'JPY',
      invoice_date: '2025-01-01T00:00:00Z',
      invoice_id: `inv-${i >> 1}`,
      agreement_id: `agmt-${i >> 3}`,
      update_date: `2025-01-0${1 + (i % 9)}T06:00:00.250Z`,
    }));
    const odd: AwsRow = { ...plain[0], billing_event_id: 'be-odd', action: 'invoiced' };
    const csv = awsCsv([...plain.slice(0, 20), odd, ...plain.slice(20)]);
    const kernel = await throughKernel(csv, 64);
    expect(kernel.regular).toBe(1);
    expect(kernel.records).toEqual((await throughParser(csv)).records);
    expect(kernel.errors).toEqual([]);
  });
});

describe('billing event kernel: the last line', () => {
  it('a last row without a line break holding non-ASCII text reads as UTF-8 on both paths (review finding)', async () => {
    const rows: AwsRow[] = [
      {
        billing_event_id: 'be-1',
        action: 'INVOICED',
        transaction_type: 'SELLER_REV_SHARE',
        amount: '10.00',
        invoice_id: 'inv-1',
      },
      {
        billing_event_id: 'bé-2',
        action: 'INVOICED',
        transaction_type: 'SELLER_REV_SHARE',
        amount: '10.00',
        invoice_id: 'invé-2',
      },
    ];
    const csv = awsCsv(rows).replace(/\n$/, '');
    for (const chunk of [1, 3, 64, 1 << 20]) {
      const kernel = await throughKernel(csv, chunk, 'utf8');
      const parser = await throughParser(csv, 'utf8');
      expect(kernel.records).toEqual(parser.records);
      expect(kernel.records.map((r) => r.recordId)).toEqual(['be-1', 'bé-2']);
    }
  });
});
