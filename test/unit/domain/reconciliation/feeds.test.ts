// Proves the feed parsers: a file of the wrong kind is refused at its header with the missing columns named; malformed rows become row errors with their physical line (a quoted line break shifts later lines) while the rest is read; the fast and regular AWS paths agree; Azure earnings, GCP reports and bank statements become the right records.
import { describe, expect, it } from 'vitest';
import {
  bankReferenceKey,
  readBankStatement,
} from '../../../../lib/domain/reconciliation/bank-statement';
import { createStatementReconciler } from '../../../../lib/domain/reconciliation/reconciler';
import {
  type RowError,
  type StatementRecord,
  WrongFileKindError,
} from '../../../../lib/domain/reconciliation/statement';
import {
  AWS_BILLING_EVENT_REQUIRED_COLUMNS,
  feedAwsBillingEvents,
  readAwsBillingEventFeed,
} from '../../../../lib/marketplaces/aws/billing-event-feed';
import { readAzureEarningsReport } from '../../../../lib/marketplaces/azure/earnings-report';
import {
  readGcpChargesUsageReport,
  readGcpDisbursementReport,
} from '../../../../lib/marketplaces/gcp/disbursement-report';
import { csvDocument, readCsvBatches } from '../../../../lib/tools/csv-stream';
import { AWS_COLUMNS, awsConfig, awsRow, invoiceRows, ledgerOf, reconcileAws } from './helpers';

async function collect(
  batches: AsyncIterable<{ records: StatementRecord[]; rowErrors: RowError[] }>,
): Promise<{ records: StatementRecord[]; rowErrors: RowError[] }> {
  const records: StatementRecord[] = [];
  const rowErrors: RowError[] = [];
  for await (const batch of batches) {
    records.push(...batch.records);
    rowErrors.push(...batch.rowErrors);
  }
  return { records, rowErrors };
}

async function fastRowErrors(csv: string): Promise<RowError[]> {
  const errors: RowError[] = [];
  await feedAwsBillingEvents([Buffer.from(csv)], {
    add: () => {},
    addPacked: () => {},
    addRowErrors: (e) => errors.push(...e),
  });
  return errors;
}

const AZURE_HEADER =
  'earningId,earningDate,calculationDate,earningType,earningAmount,earningAmountUSD,transactionId,transactionDate,transactionAmount,transactionCurrency,paymentId,paymentStatus,customerId,orderId,skuId,subscriptionId';
const GCP_HEADER =
  'Usage Start Time,Usage End Time,Product Name,SKU ID,SKU Description,Account ID,Insights Account ID,Location,Usage Quantity,Usage Unit,Charges (USD),Revenue Share (USD),Net Revenue (USD),Quote_id,Quote_creator,Payment schedule,Prepay credits';

describe('wrong file kind', () => {
  it('the AWS reader refuses another report at its header, naming the missing columns', async () => {
    const azure = `${AZURE_HEADER}\nern-1,2026-03-31,2026-04-02,Sale,970.00,970.00,t,2026-03-02,1000.00,USD,,,c,o,s,sub\n`;
    const error = await collect(readAwsBillingEventFeed([azure])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongFileKindError);
    expect((error as WrongFileKindError).code).toBe('wrong_file_kind');
    expect((error as WrongFileKindError).missingColumns).toEqual(
      AWS_BILLING_EVENT_REQUIRED_COLUMNS,
    );
    expect((error as Error).message).toMatch(
      /^Not a aws-billing-events file: the header lacks columns billing_event_id, /,
    );
    await expect(
      feedAwsBillingEvents([azure], createStatementReconciler(awsConfig('2026-04-30'))),
    ).rejects.toThrow(WrongFileKindError);
  });

  it('one missing column is named; an empty file is refused too', async () => {
    const header = AWS_COLUMNS.filter((c) => c !== 'bank_trace_id').join(',');
    const error = (await collect(readAwsBillingEventFeed([`${header}\n`])).catch(
      (e: unknown) => e,
    )) as WrongFileKindError;
    expect(error.missingColumns).toEqual(['bank_trace_id']);
    expect(error.message).toBe(
      'Not a aws-billing-events file: the header lacks column bank_trace_id',
    );
    await expect(collect(readAwsBillingEventFeed(['']))).rejects.toThrow('The file is empty');
  });

  it('the Azure, GCP and bank readers refuse an AWS feed', async () => {
    const aws = `${AWS_COLUMNS.join(',')}\n`;
    await expect(collect(readAzureEarningsReport([aws]))).rejects.toThrow(
      /azure-earnings .*earningid/,
    );
    await expect(collect(readGcpChargesUsageReport([aws]))).rejects.toThrow(
      /gcp-charges-usage .*usage_start_time/,
    );
    await expect(collect(readGcpDisbursementReport([`${GCP_HEADER}\n`]))).rejects.toThrow(
      /gcp-disbursements .*private_offer_id, payout_status/,
    );
    await expect(readBankStatement(readCsvBatches([aws]))).rejects.toThrow(
      /bank-statement file: the header lacks columns date, reference$/,
    );
    // A report with the right columns but no amount column for a currency.
    const noCharges = 'Usage Start Time,Usage End Time,SKU ID,Account ID\n';
    await expect(collect(readGcpChargesUsageReport([noCharges]))).rejects.toThrow(
      /charges \(<currency>\)/,
    );
  });
});

describe('AWS billing event feed: malformed rows', () => {
  const good = (id: string, date = '2025-01-01') =>
    invoiceRows({ id, agreement: 'agmt-x', date, gross: '25000.00', fee: '-750.00' })[0] ?? {};
  const header = [...AWS_COLUMNS];
  const rows: string[][] = [
    header,
    awsRow(good('a')), // line 2
    awsRow({ ...good('b'), product_id: 'two\nlines' }), // lines 3–4
    awsRow({ ...good('c'), amount: '12.345' }), // line 5
    awsRow({ ...good('d'), invoice_date: '2025-02-30' }), // line 6
    awsRow({ ...good('e'), transaction_type: 'SOMETHING_NEW' }), // line 7
    awsRow(good('f')).slice(0, 10), // line 8
    awsRow({ ...good('g'), balance_impacting: 'maybe' }), // line 9
    awsRow({ ...good('h'), currency: 'XYZ' }), // line 10
    awsRow({ ...good('i'), billing_event_id: '' }), // line 11
    awsRow({ ...good('j'), update_date: 'yesterday' }), // line 12
    awsRow(good('k')), // line 13
  ];
  const csv = csvDocument(rows);
  const want: RowError[] = [
    { line: 5, reason: 'amount: 12.345 has more decimals than USD allows (2)' },
    { line: 6, reason: 'Not a date or UTC timestamp: "2025-02-30"' },
    { line: 7, reason: 'unknown transaction_type "SOMETHING_NEW"' },
    { line: 8, reason: 'too few fields: 10, the header has 24' },
    { line: 9, reason: 'balance_impacting must be 0 or 1 ("maybe")' },
    { line: 10, reason: 'unknown currency "XYZ"' },
    { line: 11, reason: 'billing_event_id is empty' },
    { line: 12, reason: 'Not an ISO-8601 timestamp: "yesterday"' },
  ];

  it('reports each with its physical line (the quoted line break shifts them by one) and reads the rest', async () => {
    const { records, rowErrors } = await collect(readAwsBillingEventFeed([csv]));
    expect(rowErrors).toEqual(want);
    expect(records.map((r) => [r.recordId, r.line])).toEqual([
      ['be-a-charge', 2],
      ['be-b-charge', 3],
      ['be-k-charge', 13],
    ]);
    expect(await fastRowErrors(csv)).toEqual(want);
  });

  it('the same without the quoted field: the fast path reports the same lines', async () => {
    const plain = csvDocument([header, ...rows.slice(1).filter((r) => !r.includes('two\nlines'))]);
    const shifted = want.map((e) => ({ ...e, line: e.line - 2 }));
    expect(await fastRowErrors(plain)).toEqual(shifted);
    expect((await collect(readAwsBillingEventFeed([plain]))).rowErrors).toEqual(shifted);
  });

  it('reads a row the fast path does not know (lower case, plus sign, converted payout) like the regular parser', async () => {
    const odd = [
      { ...good('p'), action: 'invoiced', amount: '+25000.00' },
      { ...good('q'), disbursement_amount: '1.00' },
    ];
    const ledger = ledgerOf(
      {
        asOf: '2025-03-31',
        events: [
          {
            type: 'ContractCreated',
            contractId: 'X',
            marketplace: 'aws',
            offerType: 'private',
            effectiveAt: '2025-01-01',
            currency: 'USD',
            term: { start: '2025-01-01', end: '2026-01-01' },
            totalMinor: '2500000',
            installments: [{ date: '2025-01-01', amountMinor: '2500000' }],
          },
        ],
      },
      [{ contractId: 'X', marketplace: 'aws', keys: ['agmt-x'] }],
    );
    const result = await reconcileAws(
      ledger,
      csvDocument([header, ...odd.map(awsRow)]),
      awsConfig('2025-03-31'),
    );
    expect(result.summary.counts.rowErrors).toBe(0);
    expect(result.summary.counts.records).toBe(2);
  });
});

describe('Azure earnings', () => {
  const csv = [
    AZURE_HEADER,
    'ern-1,2026-03-31,2026-04-02,Sale,970.00,970.00,txn-1,2026-03-02,1000.00,USD,pay-1,Sent,cust-1,ord-1,gold-monthly,sub-1',
    'ern-2,2026-03-31,2026-04-02,Sale,34.92,34.92,txn-2,2026-03-10,36.00,USD,,Unprocessed,cust-1,ord-1,gold-monthly:api_calls_1k,sub-1',
    'ern-3,2026-04-30,2026-05-02,Refund,-970.00,-970.00,txn-3,2026-04-05,-1000.00,USD,,Unprocessed,cust-1,ord-1,gold-monthly,sub-1',
    'ern-4,2026-04-30,2026-05-02,Sale,oops,1,txn-4,2026-04-05,1.00,USD,,,cust-1,ord-1,gold,sub-1',
  ].join('\n');

  it('splits an earning into its billed amount, the store fee and what a payment paid', async () => {
    const { records, rowErrors } = await collect(readAzureEarningsReport([csv]));
    expect(rowErrors).toEqual([{ line: 5, reason: 'Not a decimal number: "oops"' }]);
    expect(
      records.map((r) => [
        r.recordId,
        r.action,
        r.component,
        r.amountMinor,
        r.contractKey,
        r.payoutId,
      ]),
    ).toEqual([
      ['ern-1#charge', 'billed', 'charge', 100_000n, 'sub-1', null],
      ['ern-1#fee', 'billed', 'fee', -3_000n, 'sub-1', null],
      ['ern-1#paid', 'disbursed', 'charge', -97_000n, 'sub-1', 'pay-1'],
      ['ern-2#charge', 'billed', 'charge', 3_600n, 'sub-1', null],
      ['ern-2#fee', 'billed', 'fee', -108n, 'sub-1', null],
      ['ern-3#charge', 'billed', 'charge_refund', -100_000n, 'sub-1', null],
      ['ern-3#fee', 'billed', 'fee_refund', 3_000n, 'sub-1', null],
    ]);
    // The metered line bills its month.
    const metered = records.find((r) => r.recordId === 'ern-2#charge');
    expect(metered?.usageStartDay).not.toBeNull();
  });

  it('reconciles against an Azure contract: matched with its 3 % fee, the payment becomes a candidate', async () => {
    const ledger = ledgerOf(
      {
        asOf: '2026-03-31',
        events: [
          {
            type: 'ContractCreated',
            contractId: 'Z',
            marketplace: 'azure',
            offerType: 'public',
            effectiveAt: '2026-03-02',
            currency: 'USD',
            term: { start: '2026-03-02', end: '2026-04-02' },
            totalMinor: '100000',
            installments: [{ date: '2026-03-02', amountMinor: '100000' }],
          },
        ],
      },
      [{ contractId: 'Z', marketplace: 'azure', keys: ['sub-1'] }],
    );
    const statement = createStatementReconciler({
      asOf: '2026-03-31',
      marketplace: 'azure',
      firstOpenPeriod: '2026-04',
    });
    const lines = csv.split('\n').slice(0, 2).join('\n');
    for await (const batch of readAzureEarningsReport([lines])) statement.add(batch.records);
    const side = statement.endStatement();
    for (const contract of ledger.contracts) side.addContract(contract);
    const result = side.finish(ledger.rollForward);
    expect(result.exceptions).toEqual([]);
    expect(result.matched.find((m) => m.level === 'billing')).toMatchObject({
      contractId: 'Z',
      expectedMinor: 100_000n,
      feeExpectedMinor: 3_000n,
      feeActualMinor: 3_000n,
    });
    expect(result.disbursementCandidates).toEqual([
      expect.objectContaining({ contractId: 'Z', disbursementId: 'pay-1', settlesMinor: 97_000n }),
    ]);
    expect(result.rollForward[0]).toMatchObject({ account: '1211', tiesToOpenItems: true });
  });
});

describe('GCP reports', () => {
  it('charges and usage: a line per SKU, account and month; revenue share is the fee', async () => {
    const csv = [
      GCP_HEADER,
      '2026-03-01,2026-03-31,Example SaaS,ABCD-1234-EF56,Standard plan monthly fee,acct-obf-7f3e21,ins-obf-19a2c4,US/CA,1,month,1000.00,-30.00,970.00,,,,',
      '2026-03-01,2026-03-31,Example SaaS,ABCD-1234-EF58,Private offer commitment,acct-obf-88b0d2,ins-obf-55e1aa,DE,1,commitment,60000.00,-1200.00,58800.00,quote-6f1e2d3c,seller@example.com,Prepay,60000.00',
      '2026-03-01,2026-02-01,Example SaaS,X,bad,acct,ins,DE,1,x,1.00,0.00,1.00,,,,',
    ].join('\n');
    const { records, rowErrors } = await collect(readGcpChargesUsageReport([csv]));
    expect(rowErrors).toEqual([{ line: 4, reason: 'usage ends before it starts' }]);
    expect(records.map((r) => [r.component, r.amountMinor, r.contractKey, r.currency])).toEqual([
      ['charge', 100_000n, 'acct-obf-7f3e21', 'USD'],
      ['fee', -3_000n, 'acct-obf-7f3e21', 'USD'],
      ['charge', 6_000_000n, 'quote-6f1e2d3c', 'USD'],
      ['fee', -120_000n, 'quote-6f1e2d3c', 'USD'],
    ]);
    // A repeated row is the same record (its id is its key), not a second line.
    expect(records[0]?.recordId).toBe(records[0]?.recordId);
    const again = await collect(
      readGcpChargesUsageReport([
        `${csv.split('\n').slice(0, 2).join('\n')}\n${csv.split('\n')[1]}`,
      ]),
    );
    expect(new Set(again.records.map((r) => r.recordId)).size).toBe(2);
  });

  it('detailed disbursements: a paid row is also disbursed in the month’s payout', async () => {
    const csv = [
      'usage_start_time,usage_end_time,sku_id,account_id,private_offer_id,payout_status,charges_eur,revenue_share_eur',
      '2026-03-01,2026-03-31,SKU-1,acct-1,po-1,PAID,1000.00,-20.00',
    ].join('\n');
    const { records } = await collect(readGcpDisbursementReport([csv]));
    expect(
      records.map((r) => [r.action, r.component, r.amountMinor, r.currency, r.payoutId]),
    ).toEqual([
      ['billed', 'charge', 100_000n, 'EUR', null],
      ['billed', 'fee', -2_000n, 'EUR', null],
      ['disbursed', 'charge', -98_000n, 'EUR', expect.stringMatching(/^gcp-payout-EUR-/)],
    ]);
  });
});

describe('bank statement', () => {
  it('reads date, amount and reference (any case, any order), a row error per unusable row', async () => {
    const csv =
      'Reference,DATE,Amount\nTRACE-1,2025-08-18,"29,100.00"\nTRACE-2,18/08/2025,1.00\nTRACE-3,2025-08-19,1.001\n';
    const { lines, rowErrors } = await readBankStatement(readCsvBatches([csv]), {
      currency: 'USD',
    });
    expect(lines).toEqual([
      {
        line: 2,
        date: '2025-08-18',
        day: expect.any(Number),
        currency: 'USD',
        amountMinor: 2_910_000n,
        reference: 'TRACE-1',
      },
    ]);
    expect(rowErrors.map((e) => e.line)).toEqual([3, 4]);
    expect(bankReferenceKey(' trace-1 ')).toBe('TRACE-1');
  });
});
