/**
 * WE-10 (finance.md §9) as data: the ledger the real engine posts for the WE-2 upgrade, the
 * WE-4 CPPO and the WE-5 usage month, and the billing event feed and bank statement of 2025-08.
 */
import type { ExpectedLedger } from '../../../../lib/domain/reconciliation/expected';
import { awsCsv, disbursedRows, invoiceRows, ledgerOf, payoutRow } from './helpers';

export const AS_OF = '2025-08-31';

export function we10Ledger(): ExpectedLedger {
  return ledgerOf(
    {
      asOf: AS_OF,
      events: [
        // WE-1/WE-2: A-1, upgraded by A-1r on 2025-07-01 (+30,000.00 invoiced that day).
        {
          type: 'ContractCreated',
          contractId: 'A-1',
          marketplace: 'aws',
          offerType: 'private',
          effectiveAt: '2025-01-01',
          currency: 'USD',
          term: { start: '2025-01-01', end: '2028-01-01' },
          totalMinor: '36000000',
          installments: [
            { date: '2025-01-01', amountMinor: '12000000' },
            { date: '2026-01-01', amountMinor: '12000000' },
            { date: '2027-01-01', amountMinor: '12000000' },
          ],
        },
        // The first installment was paid out in February (recorded then).
        {
          type: 'DisbursementReceived',
          contractId: 'A-1',
          disbursementId: 'be-payout-2025-02',
          effectiveAt: '2025-02-20',
          currency: 'USD',
          amountMinor: '11640000',
        },
        {
          type: 'ContractAmended',
          contractId: 'A-1',
          replacementId: 'A-1r',
          effectiveAt: '2025-07-01',
          tcvMinor: '45000000',
          installments: [
            { date: '2025-07-01', amountMinor: '3000000' },
            { date: '2026-01-01', amountMinor: '15000000' },
            { date: '2027-01-01', amountMinor: '15000000' },
          ],
        },
        // WE-4: CPPO, 90,000.00 wholesale, 3.5 % fee.
        {
          type: 'ContractCreated',
          contractId: 'C-1',
          marketplace: 'aws',
          offerType: 'private',
          effectiveAt: '2025-03-01',
          currency: 'USD',
          term: { start: '2025-03-01', end: '2026-03-01' },
          totalMinor: '10000000',
          installments: [{ date: '2025-03-01', amountMinor: '10000000' }],
          reseller: { wholesaleMinor: '9000000', buyerPriceMinor: '10000000' },
        },
        // WE-5: March 2025 usage, 123,456.70, invoiced by AWS on April 3rd.
        {
          type: 'ContractCreated',
          contractId: 'U-1',
          marketplace: 'aws',
          offerType: 'public',
          effectiveAt: '2025-03-01',
          currency: 'USD',
          term: { start: '2025-03-01', end: '2026-03-01' },
          totalMinor: '0',
          usageRates: [{ dimension: 'api_calls', unitPrice: '0.002' }],
        },
        {
          type: 'UsageRecorded',
          contractId: 'U-1',
          dimension: 'api_calls',
          quantity: '61728350',
          usageTime: '2025-03-01T00:00:00Z',
        },
      ],
    },
    [
      { contractId: 'A-1', marketplace: 'aws', keys: ['A-1', 'A-1r'] },
      { contractId: 'C-1', marketplace: 'aws', keys: ['C-1'] },
      { contractId: 'U-1', marketplace: 'aws', keys: ['U-1'] },
    ],
  );
}

export const WE10_FEED = awsCsv([
  ...invoiceRows({
    id: 'a1r',
    agreement: 'A-1r',
    date: '2025-07-01',
    due: '2025-07-31',
    gross: '30000.00',
    fee: '-900.00',
  }),
  ...disbursedRows({
    id: 'a1r',
    agreement: 'A-1r',
    payout: 'be-payout-1',
    gross: '30000.00',
    fee: '-900.00',
  }),
  payoutRow({ payout: 'be-payout-1', amount: '29100.00', date: '2025-08-15', trace: 'TRACE-0815' }),
  ...invoiceRows({
    id: 'u1',
    agreement: 'U-1',
    date: '2025-04-03',
    due: '2025-05-03',
    gross: '123456.68',
    fee: '-3703.70',
    usage: { start: '2025-03-01', end: '2025-03-31' },
  }),
  ...invoiceRows({
    id: 'c1',
    agreement: 'C-1',
    date: '2025-03-01',
    due: '2025-03-31',
    gross: '90000.00',
    fee: '-3150.00',
  }),
  ...invoiceRows({
    id: 'a9',
    agreement: 'A-9',
    date: '2025-08-01',
    due: '2025-08-31',
    gross: '5000.00',
    fee: '-150.00',
  }),
]);
export const WE10_BANK =
  'date,amount,reference\n2025-08-18,29100.00,TRACE-0815\n2025-08-18,12.00,interest\n';
