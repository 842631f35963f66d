// Proves the internal side is read correctly out of journal entries the real engine posts: installments with their fee, usage months accrued or invoiced, refunds with the fee given back, recorded payouts, net presentation, the receivable roll-forward formula, and that pages of entries in any order give the same result.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createExpectedBuilder,
  expectedItemsFromEntries,
} from '../../../../lib/domain/reconciliation/expected';
import {
  previewScenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';

function entries(
  asOf: string,
  events: ScenarioInput['events'],
  presentation: 'gross' | 'net' = 'gross',
) {
  return previewScenario(ScenarioSchema.parse({ asOf, policies: { presentation }, events }))
    .entries;
}

const SUBSCRIPTION: ScenarioInput['events'] = [
  {
    type: 'ContractCreated',
    contractId: 'S',
    marketplace: 'aws',
    offerType: 'public',
    effectiveAt: '2025-01-01',
    currency: 'USD',
    term: { start: '2025-01-01', end: '2026-01-01' },
    totalMinor: '1200000',
    installments: [{ date: '2025-01-01', amountMinor: '1200000' }],
  },
  {
    type: 'DisbursementReceived',
    contractId: 'S',
    disbursementId: 'pay-1',
    effectiveAt: '2025-02-10',
    currency: 'USD',
    amountMinor: '500000',
  },
  {
    type: 'RefundIssued',
    contractId: 'S',
    refundId: 'r-1',
    effectiveAt: '2025-04-01',
    amountMinor: '900000',
  },
];
const USAGE: ScenarioInput['events'] = [
  {
    type: 'ContractCreated',
    contractId: 'U',
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
    contractId: 'U',
    dimension: 'api_calls',
    quantity: '61728350',
    usageTime: '2025-03-01T00:00:00Z',
  },
];

describe('expectedItemsFromEntries', () => {
  it('an installment with its fee, a recorded payout, a refund with the fee given back', () => {
    const ledger = expectedItemsFromEntries(entries('2025-04-30', SUBSCRIPTION), {
      asOf: '2025-04-30',
      contracts: [
        { contractId: 'S', marketplace: 'aws', keys: ['agmt-s'], references: ['txref-1'] },
      ],
    });
    expect(ledger.contracts).toEqual([
      {
        contractId: 'S',
        marketplace: 'aws',
        receivableAccount: '1210',
        currency: 'USD',
        keys: ['agmt-s'],
        references: ['txref-1'],
        invoices: [
          {
            contractId: 'S',
            invoiceId: 'invoice:inst-1-2025-01-01',
            kind: 'installment',
            usagePeriod: null,
            currency: 'USD',
            invoiceDate: '2025-01-01',
            dueDate: '2025-01-31',
            grossMinor: 1_200_000n,
            feeMinor: 36_000n,
            netPresentation: false,
            invoiced: true,
            receivableMinor: 1_164_000n,
          },
        ],
        refunds: [
          {
            contractId: 'S',
            refundId: 'refund:r-1',
            date: '2025-04-01',
            currency: 'USD',
            amountMinor: 900_000n,
            feeRefundMinor: 27_000n,
          },
        ],
        disbursements: [
          {
            contractId: 'S',
            disbursementId: 'pay-1',
            date: '2025-02-10',
            currency: 'USD',
            settlesMinor: 500_000n,
            cashCurrency: 'USD',
            cashMinor: 500_000n,
          },
        ],
        // 1,164,000 − 500,000 − 900,000 + 27,000
        receivableMinor: -209_000n,
      },
    ]);
    const [rf] = ledger.rollForward;
    expect(rf).toMatchObject({
      account: '1210',
      currency: 'USD',
      from: '2025-04-01',
      to: '2025-04-30',
      ties: true,
    });
    expect(rf?.transaction).toEqual({
      openingMinor: 664_000n,
      billedMinor: 0n,
      feesMinor: 0n,
      feeRefundsMinor: 27_000n,
      refundsMinor: 900_000n,
      fxMinor: 0n,
      disbursedMinor: 0n,
      otherMinor: 0n,
      closingMinor: -209_000n,
    });
  });

  it('the roll-forward from the first day: billed − fees − disbursed = closing', () => {
    const ledger = expectedItemsFromEntries(entries('2025-03-31', SUBSCRIPTION), {
      asOf: '2025-03-31',
      openingDate: '2025-01-01',
    });
    expect(ledger.rollForward[0]?.transaction).toEqual({
      openingMinor: 0n,
      billedMinor: 1_200_000n,
      feesMinor: 36_000n,
      feeRefundsMinor: 0n,
      refundsMinor: 0n,
      fxMinor: 0n,
      disbursedMinor: 500_000n,
      otherMinor: 0n,
      closingMinor: 664_000n,
    });
  });

  it('a usage month: accrued only until the marketplace invoices it, then on the receivable', () => {
    const accrued = expectedItemsFromEntries(entries('2025-03-31', USAGE), {
      asOf: '2025-03-31',
      contracts: [{ contractId: 'U', marketplace: 'aws', keys: [] }],
    });
    expect(accrued.contracts[0]?.invoices).toEqual([
      expect.objectContaining({
        invoiceId: 'usage:2025-03',
        kind: 'usage',
        usagePeriod: '2025-03',
        invoiceDate: '2025-04-03',
        grossMinor: 12_345_670n,
        feeMinor: 370_370n,
        invoiced: false,
        receivableMinor: 0n,
      }),
    ]);
    const invoiced = expectedItemsFromEntries(entries('2025-04-30', USAGE), {
      asOf: '2025-04-30',
      paymentTermsDays: 45,
    });
    expect(invoiced.contracts[0]?.invoices).toEqual([
      expect.objectContaining({
        invoiceDate: '2025-04-03',
        dueDate: '2025-05-18',
        grossMinor: 12_345_670n,
        invoiced: true,
        receivableMinor: 11_975_300n,
      }),
    ]);
  });

  it('net presentation: the invoice is the net amount and no fee is expected', () => {
    const events = SUBSCRIPTION.slice(0, 1);
    const ledger = expectedItemsFromEntries(entries('2025-01-31', events, 'net'), {
      asOf: '2025-01-31',
      policies: ScenarioSchema.parse({
        asOf: '2025-01-31',
        policies: { presentation: 'net' },
        events,
      }).policies,
    });
    expect(ledger.contracts[0]?.invoices[0]).toMatchObject({
      grossMinor: 1_164_000n,
      feeMinor: 0n,
      netPresentation: true,
    });
  });

  it('ignores entries after the as-of date, and other marketplaces when asked', () => {
    const ledger = expectedItemsFromEntries(entries('2025-04-30', SUBSCRIPTION), {
      asOf: '2025-01-31',
    });
    expect(ledger.contracts[0]?.refunds).toEqual([]);
    expect(ledger.contracts[0]?.disbursements).toEqual([]);
    expect(
      expectedItemsFromEntries(entries('2025-04-30', SUBSCRIPTION), {
        asOf: '2025-04-30',
        marketplace: 'gcp',
      }).contracts,
    ).toEqual([]);
    expect(() =>
      expectedItemsFromEntries([], { asOf: '2025-04-30', paymentTermsDays: -1 }),
    ).toThrow(/Payment terms/);
  });

  it('pages of entries, in any order, give the same expected side', () => {
    const all = [...entries('2025-04-30', SUBSCRIPTION), ...entries('2025-04-30', USAGE)];
    const options = { asOf: '2025-04-30' };
    const whole = expectedItemsFromEntries(all, options);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.integer({ min: 1, max: 7 }),
        (shuffled, page) => {
          const builder = createExpectedBuilder(options);
          for (let at = 0; at < shuffled.length; at += page)
            builder.add(shuffled.slice(at, at + page));
          expect(builder.finish()).toEqual(whole);
        },
      ),
      { numRuns: 50 },
    );
  });
});
