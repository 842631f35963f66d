// Proves the deal-desk preview's contract: input validation listing every problem, the as-of cut-off, reseller and trial handling, same-day ordering, the FX rate lookup and the output's shape.
import { describe, expect, it } from 'vitest';
import { type ErrorDetail, InvalidInputError } from '../../../../lib/domain/errors';
import { ACCOUNTS } from '../../../../lib/domain/ledger';
import {
  previewScenario,
  rateLookup,
  ScenarioError,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';

type EventInput = ScenarioInput['events'][number];

const created = (overrides: Record<string, unknown> = {}): EventInput =>
  ({
    type: 'ContractCreated',
    contractId: 'A-1',
    marketplace: 'aws',
    offerType: 'private',
    effectiveAt: '2025-01-01',
    currency: 'USD',
    term: { start: '2025-01-01', end: '2026-01-01' },
    totalMinor: '12000000',
    ...overrides,
  }) as EventInput;

function run(events: EventInput[], extra: Partial<ScenarioInput> = {}) {
  return previewScenario(ScenarioSchema.parse({ asOf: '2026-01-31', events, ...extra }));
}

function scenarioError(events: EventInput[]): ScenarioError {
  try {
    run(events);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as ScenarioError).code).toBe('invalid_scenario');
    return error as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

const problems = (error: ScenarioError) =>
  error.details.map((d: ErrorDetail) => ({ code: d.code, path: d.path }));

describe('input validation', () => {
  it('rejects usage and disbursements for a contract that was never created', () => {
    const error = scenarioError([
      created(),
      {
        type: 'UsageRecorded',
        contractId: 'NOPE',
        dimension: 'api_calls',
        quantity: '1',
        usageTime: '2025-03-01',
      },
      {
        type: 'DisbursementReceived',
        contractId: 'GHOST',
        effectiveAt: '2025-02-01',
        currency: 'USD',
        amountMinor: '100',
      },
    ]);
    expect(problems(error)).toEqual([
      { code: 'unknown_contract', path: 'events.1.contractId' },
      { code: 'unknown_contract', path: 'events.2.contractId' },
    ]);
    expect(error.details[0]?.message).toContain('NOPE');
  });

  it('rejects usage on a dimension the contract has no price for', () => {
    const error = scenarioError([
      created({ usageRates: [{ dimension: 'api_calls', unitPrice: '0.002' }] }),
      {
        type: 'UsageRecorded',
        contractId: 'A-1',
        dimension: 'gigabytes',
        quantity: '5',
        usageTime: '2025-03-01T10:00:00Z',
      },
    ]);
    expect(problems(error)).toEqual([{ code: 'usage_without_price', path: 'events.1.dimension' }]);
  });

  it('rejects a contract created twice', () => {
    const error = scenarioError([created(), created({ totalMinor: '1' })]);
    expect(problems(error)).toEqual([{ code: 'duplicate_contract', path: 'events.1.contractId' }]);
  });

  it('checks the references of amendments, cancellations and refunds', () => {
    const error = scenarioError([
      created(),
      {
        type: 'ContractAmended',
        contractId: 'NOPE',
        replacementId: 'NOPE-r',
        effectiveAt: '2025-07-01',
        tcvMinor: '100',
      },
      { type: 'ContractCancelled', contractId: 'GHOST', effectiveAt: '2025-04-01' },
      { type: 'RefundIssued', contractId: 'A-1', effectiveAt: '2024-12-31', amountMinor: '904110' },
      { type: 'ContractCancelled', contractId: 'A-1', effectiveAt: '2024-06-01' },
      // A renewal's id (the replacement of a created contract) is a known contract.
      {
        type: 'ContractAmended',
        contractId: 'A-1',
        replacementId: 'A-1r',
        effectiveAt: '2026-01-01',
        tcvMinor: '100',
        installments: [{ date: '2026-01-01', amountMinor: '100' }],
      },
      { type: 'RefundIssued', contractId: 'A-1r', effectiveAt: '2026-01-15', amountMinor: '10' },
    ]);
    expect(problems(error)).toEqual([
      { code: 'unknown_contract', path: 'events.1.contractId' },
      { code: 'unknown_contract', path: 'events.2.contractId' },
      { code: 'before_contract', path: 'events.3.effectiveAt' },
      { code: 'before_contract', path: 'events.4.effectiveAt' },
    ]);
    expect(error.details[0]?.message).toContain('NOPE');
    expect(error.details[2]?.message).toContain('RefundIssued');
  });

  it('accepts amendments, cancellations and refunds of a known contract', () => {
    const result = run([
      created(),
      {
        type: 'ContractAmended',
        contractId: 'A-1',
        effectiveAt: '2025-03-01',
        tcvMinor: '13000000',
        installments: [{ date: '2025-03-01', amountMinor: '1000000' }],
      },
      { type: 'RefundIssued', contractId: 'A-1', effectiveAt: '2025-06-01', amountMinor: '100000' },
      { type: 'ContractCancelled', contractId: 'A-1', effectiveAt: '2025-09-01' },
    ]);
    expect(result.entries.map((e) => e.rule)).toEqual(
      expect.arrayContaining(['refund', 'refund-settlement', 'marketplace-fee-refund']),
    );
    // 120,000.00 + 10,000.00 billed − 1,000.00 refunded, all recognized by the cancellation.
    expect(result.positions['A-1']?.at(-1)).toMatchObject({
      billedMinor: 12_900_000n,
      recognizedMinor: 12_900_000n,
      deferredMinor: 0n,
      unbilledMinor: 0n,
    });
  });

  it('lists every problem of a scenario at once', () => {
    const error = scenarioError([
      created({ usageRates: [{ dimension: 'api_calls', unitPrice: '0.002' }] }),
      { type: 'ContractCancelled', contractId: 'A-1', effectiveAt: '2024-12-01' },
      created(),
      {
        type: 'UsageRecorded',
        contractId: 'A-1',
        dimension: 'seats',
        quantity: '1',
        usageTime: '2025-02-01',
      },
      {
        type: 'UsageRecorded',
        contractId: 'B-9',
        dimension: 'api_calls',
        quantity: '1',
        usageTime: '2025-02-01',
      },
    ]);
    expect(problems(error)).toEqual([
      { code: 'duplicate_contract', path: 'events.2.contractId' },
      { code: 'before_contract', path: 'events.1.effectiveAt' },
      { code: 'usage_without_price', path: 'events.3.dimension' },
      { code: 'unknown_contract', path: 'events.4.contractId' },
    ]);
    for (const detail of error.details) expect(detail.message.length).toBeGreaterThan(0);
  });

  it('reports a payout that settles another currency than the contract’s as a scenario problem', () => {
    const error = scenarioError([
      created(),
      {
        type: 'DisbursementReceived',
        contractId: 'A-1',
        effectiveAt: '2025-02-01',
        currency: 'EUR',
        amountMinor: '100',
      },
    ]);
    expect(problems(error)).toEqual([{ code: 'disbursement_currency_mismatch', path: 'events.1' }]);
  });

  it('leaves malformed documents to the schema', () => {
    const bad = (input: unknown) => ScenarioSchema.safeParse(input).success;
    expect(bad({ asOf: '2025-01-01', events: [] })).toBe(false);
    expect(bad({ asOf: '2025-01-01', events: [created({ totalMinor: '-1' })] })).toBe(false);
    expect(bad({ asOf: '2025-01-01', events: [created({ totalMinor: 12 })] })).toBe(false);
    expect(bad({ asOf: '2025-01-01', events: [created({ currency: 'XYZ' })] })).toBe(false);
    expect(bad({ asOf: '2025-02-30', events: [created()] })).toBe(false);
    expect(bad({ asOf: '2025-01-01', events: [{ type: 'Nope', contractId: 'A-1' }] })).toBe(false);
    expect(bad({ asOf: '2025-01-01', events: [created()] })).toBe(true);
    const cancelled = { type: 'ContractCancelled', contractId: 'A-1', effectiveAt: '2025-04-01' };
    expect(bad({ asOf: '2025-01-01', events: [created(), cancelled] })).toBe(true);
    expect(
      bad({ asOf: '2025-01-01', events: [created(), { ...cancelled, effectiveAt: undefined }] }),
    ).toBe(false);
    const refund = {
      type: 'RefundIssued',
      contractId: 'A-1',
      effectiveAt: '2025-04-01',
      amountMinor: '1',
    };
    expect(bad({ asOf: '2025-01-01', events: [created(), refund] })).toBe(true);
    expect(bad({ asOf: '2025-01-01', events: [created(), { ...refund, amountMinor: '-1' }] })).toBe(
      false,
    );
    const amended = {
      type: 'ContractAmended',
      contractId: 'A-1',
      effectiveAt: '2025-04-01',
      tcvMinor: '1',
    };
    expect(bad({ asOf: '2025-01-01', events: [created(), amended] })).toBe(true);
    expect(
      bad({ asOf: '2025-01-01', events: [created(), { ...amended, tcvMinor: undefined }] }),
    ).toBe(false);
  });
});

describe('the preview run', () => {
  it('fills defaults and accepts kebab-case policy names', () => {
    const parsed = ScenarioSchema.parse({
      asOf: '2025-01-31',
      policies: { feePolicy: 'amortize-with-revenue', unbilledClassification: 'contract-asset' },
      events: [created()],
    });
    expect(parsed.functionalCurrency).toBe('USD');
    expect(parsed.policies).toMatchObject({
      modification: 'prospective',
      presentation: 'gross',
      feePolicy: 'amortize_with_revenue',
      cppoFeeBase: 'wholesale',
      unbilledClassification: 'contract_asset',
      usageInvoiceDay: 3,
    });
    const result = previewScenario(parsed);
    expect(result.policies).toEqual(parsed.policies);
    expect(result.entries.find((e) => e.rule === 'marketplace-fee')?.legs[0]?.account).toBe('1400');
  });

  it('posts only what is dated on or before asOf, but schedules the whole term', () => {
    const result = run([created()], { asOf: '2025-03-15' });
    expect(result.schedules['A-1']).toHaveLength(12);
    expect(result.schedules['A-1']?.at(-1)?.cumulativeMinor).toBe(12_000_000n);
    expect(result.entries.map((e) => [e.date, e.rule])).toEqual([
      ['2025-01-01', 'invoice'],
      ['2025-01-01', 'marketplace-fee'],
      ['2025-01-31', 'recognition'],
      ['2025-02-28', 'recognition'],
    ]);
    // Whole months only: March is not complete on the 15th.
    expect(result.positions['A-1']?.map((p) => p.period)).toEqual(['2025-01', '2025-02']);
    expect(result.fees['A-1']).toBe(360_000n);
    expect(result.netPayouts['A-1']).toBe(11_640_000n);
    // On the last day of the month, that month-end is included.
    const march = run([created()], { asOf: '2025-03-31' });
    expect(march.positions['A-1']?.map((p) => p.period)).toEqual(['2025-01', '2025-02', '2025-03']);
  });

  it('charges nothing before the first billing date', () => {
    const result = run([created()], { asOf: '2024-12-31' });
    expect(result.entries).toEqual([]);
    expect(result.journal).toEqual([]);
    expect(result.positions['A-1']).toEqual([]);
    expect(result.fees['A-1']).toBe(0n);
    expect(result.netPayouts['A-1']).toBe(0n);
    expect(result.schedules['A-1']).toHaveLength(12);
  });

  it('flattens every leg into the journal with the account name', () => {
    const result = run([created()]);
    expect(result.journal).toHaveLength(result.entries.reduce((sum, e) => sum + e.legs.length, 0));
    const first = result.journal[0];
    expect(first).toMatchObject({
      date: '2025-01-01',
      rule: 'invoice',
      account: '1210',
      accountName: ACCOUNTS['1210'],
      currency: 'USD',
      debitMinor: 12_000_000n,
      creditMinor: 0n,
      functionalDebitMinor: 12_000_000n,
      functionalCreditMinor: 0n,
      contractId: 'A-1',
      entryId: result.entries[0]?.entryId,
    });
    for (const line of result.journal) expect(line.date <= result.asOf).toBe(true);
  });

  it('posts a same-day invoice before that day’s month-end recognition', () => {
    const result = run([
      created({
        term: { start: '2025-01-01', end: '2025-03-01' },
        totalMinor: '5900',
        installments: [
          { date: '2025-01-01', amountMinor: '3100' },
          { date: '2025-01-31', amountMinor: '2800' },
        ],
      }),
    ]);
    const jan31 = result.entries.filter((e) => e.date === '2025-01-31').map((e) => e.rule);
    expect(jan31).toEqual(['invoice', 'marketplace-fee', 'recognition']);
    expect(result.positions['A-1']?.[0]).toMatchObject({
      period: '2025-01',
      billedMinor: 5_900n,
      recognizedMinor: 3_100n,
      deferredMinor: 2_800n,
      unbilledMinor: 0n,
    });
  });

  it('bills a contract without installments once, on its first paid day after a trial', () => {
    const result = run([
      created({
        offerType: 'public',
        term: { start: '2025-01-01', end: '2026-01-01' },
        trialEnd: '2025-02-01',
        totalMinor: '3340000',
      }),
    ]);
    const invoice = result.entries.find((e) => e.rule === 'invoice');
    expect(invoice?.date).toBe('2025-02-01');
    // 334 paid days, 100.00 a day; nothing is recognized in the January trial.
    const schedule = result.schedules['A-1'] ?? [];
    expect(schedule[0]).toEqual({
      period: '2025-02',
      recognizedMinor: 280_000n,
      cumulativeMinor: 280_000n,
    });
    expect(schedule).toHaveLength(11);
    expect(result.positions['A-1']?.[0]).toMatchObject({
      period: '2025-02',
      recognizedMinor: 280_000n,
    });
  });

  it('scales installments given at the buyer price of a reseller offer to the wholesale price', () => {
    const result = run([
      created({
        totalMinor: '10000000',
        installments: [
          { date: '2025-01-01', amountMinor: '3333333' },
          { date: '2025-05-01', amountMinor: '3333333' },
          { date: '2025-09-01', amountMinor: '3333334' },
        ],
        reseller: { wholesaleMinor: '9000000', buyerPriceMinor: '10000000' },
      }),
    ]);
    const invoices = result.entries
      .filter((e) => e.rule === 'invoice')
      .map((e) => e.legs[0]?.debitMinor);
    // Cumulative rounding: 2,999,999.7 → 3,000,000; 5,999,999.4 → 5,999,999; then 9,000,000.
    expect(invoices).toEqual([3_000_000n, 2_999_999n, 3_000_001n]);
    expect(result.schedules['A-1']?.at(-1)?.cumulativeMinor).toBe(9_000_000n);
    expect(result.feeRules['A-1']?.ruleId).toBe('aws-private-cppo-lt1m');
  });

  it('keeps contracts independent of one another', () => {
    const alone = run([created()]);
    const together = run([
      created({ contractId: 'B-2', marketplace: 'azure', totalMinor: '500000' }),
      created(),
    ]);
    const own = together.entries.filter((e) => e.legs[0]?.contractId === 'A-1');
    expect(own).toEqual(alone.entries);
    expect(together.positions['A-1']).toEqual(alone.positions['A-1']);
    expect(together.feeRules['B-2']?.ruleId).toBe('azure-standard');
  });

  it('reports the missing fee rule for a contract accepted before AWS’s table', () => {
    expect(() => run([created({ effectiveAt: '2023-12-01' })])).toThrow(/fee rule/);
  });
});

describe('rateLookup', () => {
  const rate = rateLookup([
    { date: '2025-01-01', base: 'EUR', quote: 'USD', rate: '1.04' },
    { date: '2025-02-01', base: 'EUR', quote: 'USD', rate: '1.05' },
    { date: '2025-03-01', base: 'USD', quote: 'EUR', rate: '0.8' },
  ]);

  it('takes the latest quote on or before the date, direct or inverted', () => {
    expect(rate('2024-12-31', 'EUR', 'USD')).toBeNull();
    expect(rate('2025-01-01', 'EUR', 'USD')).toEqual({ num: 26n, den: 25n });
    expect(rate('2025-01-31', 'EUR', 'USD')).toEqual({ num: 26n, den: 25n });
    expect(rate('2025-02-01', 'EUR', 'USD')).toEqual({ num: 21n, den: 20n });
    expect(rate('2025-02-10', 'USD', 'EUR')).toEqual({ num: 20n, den: 21n });
    expect(rate('2025-03-01', 'EUR', 'USD')).toEqual({ num: 5n, den: 4n });
    expect(rate('2025-03-01', 'USD', 'EUR')).toEqual({ num: 4n, den: 5n });
    expect(rate('2025-03-01', 'GBP', 'USD')).toBeNull();
    expect(rate('1999-01-01', 'JPY', 'JPY')).toEqual({ num: 1n, den: 1n });
  });
});

describe('review fixes', () => {
  it('builds a net-presentation schedule on net consideration: billed and recognized meet', () => {
    const result = run(
      [
        created({
          term: { start: '2025-01-01', end: '2028-01-01' },
          totalMinor: '36000000',
          installments: [
            { date: '2025-01-01', amountMinor: '12000000' },
            { date: '2026-01-01', amountMinor: '12000000' },
            { date: '2027-01-01', amountMinor: '12000000' },
          ],
        }),
      ],
      { asOf: '2028-01-01', policies: { presentation: 'net' } },
    );
    expect(result.schedules['A-1']?.at(-1)?.cumulativeMinor).toBe(34_920_000n);
    const last = result.positions['A-1']?.at(-1);
    expect(last).toMatchObject({ billedMinor: 34_920_000n, recognizedMinor: 34_920_000n });
    expect(last?.unbilledMinor).toBe(0n);
    expect(result.journal.some((line) => line.account === '5100')).toBe(false);
    // The marketplace still keeps its fee: the payout is the same as under gross.
    expect(result.fees['A-1']).toBe(1_080_000n);
    expect(result.netPayouts['A-1']).toBe(34_920_000n);
  });

  it('previews a foreign-currency contract past its last month without failing', () => {
    const result = run(
      [created({ currency: 'EUR', term: { start: '2025-01-01', end: '2026-01-01' } })],
      {
        asOf: '2026-03-31',
        fxRates: [{ date: '2025-01-01', base: 'EUR', quote: 'USD', rate: '1.0400' }],
      },
    );
    expect(result.positions['A-1']?.at(-1)).toMatchObject({ period: '2026-03', deferredMinor: 0n });
  });

  it('refuses installments that sum to neither the price nor the buyer price', () => {
    const error = scenarioError([
      created({ installments: [{ date: '2025-01-01', amountMinor: '1' }] }),
    ]);
    expect(problems(error)).toEqual([{ code: 'installments_mismatch', path: 'events.0' }]);
  });

  it('refuses two disbursements of one contract with the same id', () => {
    const payout = {
      type: 'DisbursementReceived',
      contractId: 'A-1',
      disbursementId: 'd-1',
      effectiveAt: '2025-02-01',
      currency: 'USD',
      amountMinor: '100',
    } as EventInput;
    const error = scenarioError([
      created(),
      payout,
      { ...payout, amountMinor: '200' } as EventInput,
    ]);
    expect(problems(error)).toEqual([
      { code: 'duplicate_disbursement', path: 'events.2.disbursementId' },
    ]);
  });
});
