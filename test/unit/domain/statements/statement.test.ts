// Proves partner statements (finance.md §5.2) without I/O: WE-8's Q3 statement built from the commission run's months (earned 14,116.68 = 4,131.36 + 9,985.32 with the band-2 accelerator, the D-3 clawback −150.00 naming the line it reverses, 9,985.32 held until D-2's invoice is disbursed, 3,981.36 payable and paid) ties to 2100/2110; one that does not tie is refused with both figures; names are masked; the hash chain catches a changed, relinked or missing statement; and, by property, the identity holds and the hash depends on content only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accrualLineId,
  type CommissionBalances,
  type CommissionLine,
} from '../../../../lib/domain/commission/engine';
import {
  buildStatement,
  decodeStatementJson,
  encodeStatementJson,
  formatAmount,
  isStatementPeriod,
  maskCustomer,
  type Statement,
  StatementDoesNotTieError,
  type StatementMonthState,
  statementHash,
  statementIdFor,
  statementPeriod,
  verifyStatementChain,
} from '../../../../lib/domain/statements/statement';
import {
  D3_CLAWBACK,
  usd,
  WE8_PARTNER,
  we8StatementInput,
  we8World,
} from '../../helpers/we8-statement';

const we8 = () => buildStatement(we8StatementInput());

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('statement periods', () => {
  it('reads months and quarters, and refuses anything else', () => {
    expect(statementPeriod('2025-Q3')).toEqual({
      id: '2025-Q3',
      kind: 'quarter',
      months: ['2025-07', '2025-08', '2025-09'],
      from: '2025-07-01',
      to: '2025-09-30',
    });
    expect(statementPeriod('2024-02')).toEqual({
      id: '2024-02',
      kind: 'month',
      months: ['2024-02'],
      from: '2024-02-01',
      to: '2024-02-29',
    });
    expect(statementPeriod('2025-Q1').months).toEqual(['2025-01', '2025-02', '2025-03']);
    expect(statementPeriod('2025-Q4').to).toBe('2025-12-31');
    for (const bad of ['2025-Q5', '2025-Q0', '2025-13', 'Q3-2025', '2025-q3', '', '2025-Q3 ']) {
      expect(isStatementPeriod(bad), bad).toBe(false);
      expect(() => statementPeriod(bad), bad).toThrow(
        expect.objectContaining({ code: 'invalid_statement_period' }),
      );
    }
  });

  it('gives a statement id deterministic from partner and period', () => {
    expect(statementIdFor('P-100', '2025-Q3')).toBe(statementIdFor('P-100', '2025-Q3'));
    expect(statementIdFor('P-100', '2025-Q3')).toMatch(/^stmt_[0-9a-f]{32}$/);
    expect(statementIdFor('P-100', '2025-Q3')).not.toBe(statementIdFor('P-100', '2025-09'));
    expect(statementIdFor('P-100', '2025-Q3')).not.toBe(statementIdFor('P-101', '2025-Q3'));
  });
});

describe('display', () => {
  it('formats minor units with the currency digits and thousands separators', () => {
    expect(formatAmount(usd('14116.68'), 'USD')).toBe('14,116.68');
    expect(formatAmount(-15_000n, 'USD')).toBe('-150.00');
    expect(formatAmount(5n, 'USD')).toBe('0.05');
    expect(formatAmount(123_456_789_012n, 'USD')).toBe('1,234,567,890.12');
    expect(formatAmount(1_234_567n, 'JPY')).toBe('1,234,567');
    expect(formatAmount(-1_234_567n, 'KWD')).toBe('-1,234.567');
  });

  it('masks customers: first letter or digit of each word, the rest starred', () => {
    expect(maskCustomer('Globex Corporation')).toBe('G***** C**********');
    expect(maskCustomer('Acme, Inc.')).toBe('A***, I**.');
    expect(maskCustomer('  3M \n Company ')).toBe('3* C******');
    expect(maskCustomer('Société Générale')).toBe('S****** G*******');
    expect(maskCustomer('株式会社テスト')).toBe('株******');
    expect(maskCustomer('(Beta) Labs')).toBe('(B***) L***');
    expect(maskCustomer(null)).toBe('unknown');
    expect(maskCustomer('   ')).toBe('unknown');
  });

  it('property: masking keeps the length and the word starts, and reveals nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (name) => {
        const masked = maskCustomer(name);
        if (name.trim() === '') {
          expect(masked).toBe('unknown');
          return;
        }
        const normalized = name.trim().split(/\s+/u).join(' ');
        expect([...masked]).toHaveLength([...normalized].length);
        expect(masked).not.toMatch(/\s\s|[\n\r\t]/);
        const revealed = [...masked].filter((c) => /[\p{L}\p{N}]/u.test(c));
        const words = normalized.split(' ').filter((w) => /[\p{L}\p{N}]/u.test(w));
        expect(revealed.length).toBe(words.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('buildStatement: WE-8 Q3 2025 for P-100', () => {
  it('shows the header, the summary and the ledger it ties to', () => {
    const statement = we8();
    expect(statement).toMatchObject({
      schemaVersion: 1,
      statementId: statementIdFor(WE8_PARTNER, '2025-Q3'),
      sequence: 1,
      previousHash: null,
      issuedAt: '2025-10-16T08:00:00.000Z',
      partner: { partnerId: 'P-100', name: 'Northwind Partners Ltd', tier: 'Gold' },
      plan: { planId: 'partner-gold', versions: [3] },
      period: { id: '2025-Q3', kind: 'quarter' },
      currency: 'USD',
    });
    expect(statement.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(statement.summary).toEqual({
      openingPayableMinor: 0n,
      openingHeldMinor: 0n,
      openingMinor: 0n,
      earnedMinor: usd('14116.68'),
      earnedHeldMinor: usd('9985.32'),
      clawedBackMinor: usd('150.00'),
      clawedBackFromHeldMinor: 0n,
      releasedMinor: 0n,
      payableMinor: usd('3981.36'),
      paidMinor: usd('3981.36'),
      closingPayableMinor: 0n,
      closingHeldMinor: usd('9985.32'),
      closingMinor: usd('9985.32'),
    });
    const s = statement.summary;
    expect(s.openingMinor + s.earnedMinor - s.clawedBackMinor - s.paidMinor).toBe(s.closingMinor);
    expect(statement.ledger).toEqual({
      payableAccount: '2100',
      payableMinor: 0n,
      heldAccount: '2110',
      heldMinor: usd('9985.32'),
    });
  });

  it('allocates 4,131.36 to D-1 and 9,985.32 to D-2, with the accelerator detail', () => {
    const statement = we8();
    expect(
      statement.byContract.map((c) => [c.contractId, c.earnedMinor, c.clawedBackMinor, c.netMinor]),
    ).toEqual([
      ['D-1', usd('4131.36'), 0n, usd('4131.36')],
      ['D-2', usd('9985.32'), 0n, usd('9985.32')],
      ['D-3', 0n, usd('150.00'), -usd('150.00')],
    ]);
    const earned = statement.lines.filter((l) => l.section === 'earned');
    expect(
      earned.map((l) => [l.period, l.contractId, l.amountMinor, l.upliftPercent, l.band]),
    ).toEqual([
      ['2025-07', 'D-1', usd('1324.43'), '0', 1],
      ['2025-08', 'D-1', usd('1324.43'), '0', 1],
      ['2025-09', 'D-1', usd('1482.50'), '2', 2],
      ['2025-09', 'D-2', usd('9985.32'), '2', 2],
    ]);
    for (const line of earned) {
      expect(line).toMatchObject({
        ratePercent: '10',
        dealType: 'sourced',
        basisKind: 'recognized',
        attributionVersion: 1,
        attributionSharePercent: '100',
      });
      expect(line.journalEntryId).toMatch(/^je_[0-9a-f]{32}$/);
      expect(line.date).toBe(
        `${line.period}-${line.period === '2025-08' ? '31' : line.period === '2025-07' ? '31' : '30'}`,
      );
    }
    expect(earned[0]).toMatchObject({
      marketplace: 'aws',
      customer: 'G***** C**********',
      product: 'agora-analytics',
    });
    // Tier 1: 100,000.00 × 10 %; tier 2: 34,305.66 × 12 % = 4,116.6792 → 14,116.68 in all.
    expect(statement.accelerator).toMatchObject({
      quarter: '2025-Q3',
      through: '2025-09',
      mode: 'graduated',
      measureMinor: usd('134305.66'),
      bandReached: 2,
      baseExact: '13430.566',
      upliftExact: '686.1132',
      totalBeforeCapsMinor: usd('14116.68'),
    });
    expect(
      statement.accelerator?.bands.map((b) => [b.band, b.basisInBandMinor, b.upliftExact]),
    ).toEqual([
      [1, usd('100000.00'), '0'],
      [2, usd('34305.66'), '686.1132'],
      [3, 0n, '0'],
    ]);
    expect(statement.caps).toEqual({
      perPartnerPerQuarterMinor: usd('25000.00'),
      perDealPerYearMinor: null,
      quarterCapApplied: false,
      dealCapLineIds: [],
    });
  });

  it('shows the clawback at the original rate, naming the line it reverses', () => {
    const clawbacks = we8().lines.filter((l) => l.section === 'clawback');
    expect(clawbacks).toHaveLength(1);
    expect(clawbacks[0]).toMatchObject({
      kind: 'clawback',
      contractId: 'D-3',
      date: '2025-09-12',
      basisMinor: -usd('1500.00'),
      ratePercent: '10',
      amountMinor: -usd('150.00'),
      status: 'clawed_back',
      reversesLineId: accrualLineId(WE8_PARTNER, 'D-3', '2025-06'),
      customer: 'U******* C***.',
      marketplace: 'gcp',
    });
    expect(clawbacks[0]?.reversesLineId).toBe(D3_CLAWBACK.reversesLineId);
  });

  it('holds D-2 until its invoice is disbursed and pays the rest at the quarter end', () => {
    const statement = we8();
    expect(statement.held).toEqual([
      expect.objectContaining({
        contractId: 'D-2',
        period: '2025-09',
        heldMinor: usd('9985.32'),
        condition: 'disbursed',
        pendingInvoiceIds: ['invoice:D-2-inv-1'],
        releaseCondition: 'Payable once the marketplace disburses invoice:D-2-inv-1',
      }),
    ]);
    expect(statement.lines.find((l) => l.contractId === 'D-2')).toMatchObject({
      status: 'held',
      heldMinor: usd('9985.32'),
      payableMinor: 0n,
      hold: { condition: 'disbursed', pendingInvoiceIds: ['invoice:D-2-inv-1'] },
    });
    expect(statement.payouts).toEqual([
      {
        payoutId: 'payout:P-100:2025-09',
        period: '2025-09',
        dueDate: '2025-10-15',
        amountMinor: usd('3981.36'),
        journalEntryId: expect.stringMatching(/^je_/),
      },
    ]);
    // The quarterly payout settles July's and August's payable lines too.
    expect(
      statement.lines.filter((l) => l.contractId === 'D-1').map((l) => [l.status, l.payoutId]),
    ).toEqual([
      ['paid', 'payout:P-100:2025-09'],
      ['paid', 'payout:P-100:2025-09'],
      ['paid', 'payout:P-100:2025-09'],
    ]);
  });

  it('builds a monthly statement with the quarter-to-date accelerator from earlier months', () => {
    const world = we8World();
    const september = buildStatement(
      we8StatementInput(world, {
        period: '2025-09',
        states: world.states.filter((s) => s.period === '2025-09'),
        lines: world.lines.filter((l) => l.period === '2025-09'),
        quarterToDateLines: world.lines.filter((l) => l.period !== '2025-09'),
      }),
    );
    expect(september.summary).toMatchObject({
      openingPayableMinor: usd('2648.86'),
      earnedMinor: usd('11467.82'),
      payableMinor: usd('3981.36'),
      paidMinor: usd('3981.36'),
      closingMinor: usd('9985.32'),
    });
    expect(september.accelerator?.measureMinor).toBe(usd('134305.66'));
    const july = buildStatement(
      we8StatementInput(world, {
        period: '2025-07',
        states: world.states.filter((s) => s.period === '2025-07'),
        lines: world.lines.filter((l) => l.period === '2025-07'),
        ledger: { payableMinor: usd('1324.43'), heldMinor: 0n },
      }),
    );
    expect(july.summary).toMatchObject({ earnedMinor: usd('1324.43'), paidMinor: 0n });
    expect(july.lines.map((l) => l.status)).toEqual(['payable']);
    expect(july.accelerator?.measureMinor).toBe(usd('13244.30'));
  });
});

describe('buildStatement: what is not issued', () => {
  it('refuses a statement whose closing balances are not the ledger 2100/2110 balances', () => {
    const input = we8StatementInput();
    const error = thrown(() =>
      buildStatement({ ...input, ledger: { payableMinor: 1n, heldMinor: usd('9985.32') } }),
    );
    expect(error).toBeInstanceOf(StatementDoesNotTieError);
    expect(error).toMatchObject({
      code: 'statement_does_not_tie',
      check: 'ledger',
      statementFigures: { payableMinor: 0n, heldMinor: usd('9985.32') },
      otherFigures: { payableMinor: 1n, heldMinor: usd('9985.32') },
    });
    const message = (error as Error).message;
    expect(message).toContain('closing payable 0.00 / held 9,985.32');
    expect(message).toContain('ledger 2100 0.01 / 2110 9,985.32');
  });

  it('refuses one whose movements do not carry the opening to the closing', () => {
    const world = we8World();
    const september = world.states[2] as StatementMonthState;
    const states = [
      ...world.states.slice(0, 2),
      { ...september, closing: { payableMinor: 0n, heldMinor: usd('9985.33') } },
    ];
    const error = thrown(() =>
      buildStatement(
        we8StatementInput(world, {
          states,
          ledger: { payableMinor: 0n, heldMinor: usd('9985.33') },
        }),
      ),
    );
    expect(error).toMatchObject({ code: 'statement_does_not_tie', check: 'identity' });
    expect((error as Error).message).toContain('held 9,985.32');
    expect((error as Error).message).toContain('held 9,985.33');
  });

  it('refuses months that do not chain (an opening that is not the previous closing)', () => {
    const world = we8World();
    const august = world.states[1] as StatementMonthState;
    const states = [
      world.states[0] as StatementMonthState,
      { ...august, opening: { payableMinor: 0n, heldMinor: 0n } },
      world.states[2] as StatementMonthState,
    ];
    expect(() => buildStatement(we8StatementInput(world, { states }))).toThrow(
      expect.objectContaining({ code: 'statement_does_not_tie', check: 'identity' }),
    );
  });

  it('refuses a line missing from the ledger: the lines no longer add up', () => {
    const world = we8World();
    const lines = world.lines.filter((l) => l.contractId !== 'D-3');
    expect(() => buildStatement(we8StatementInput(world, { lines }))).toThrow(
      StatementDoesNotTieError,
    );
  });

  it('refuses input that is not the partner and period it claims', () => {
    const world = we8World();
    expect(() => buildStatement(we8StatementInput(world, { states: [] }))).toThrow(
      expect.objectContaining({ code: 'invalid_statement_input' }),
    );
    const foreign = { ...(world.lines[0] as CommissionLine), partnerId: 'P-200' };
    expect(() =>
      buildStatement(we8StatementInput(world, { lines: [...world.lines, foreign] })),
    ).toThrow(expect.objectContaining({ code: 'invalid_statement_input' }));
    expect(() => buildStatement(we8StatementInput(world, { period: '2025-Q4' }))).toThrow(
      expect.objectContaining({ code: 'invalid_statement_input' }),
    );
  });
});

describe('hash chain', () => {
  /** Q3, then October (D-2 still held) and November, chained. */
  function chain(): Statement[] {
    const world = we8World();
    const q3 = buildStatement(we8StatementInput(world));
    const closing = world.states[2]?.closing as CommissionBalances;
    const month = (period: string, previous: Statement): Statement =>
      buildStatement(
        we8StatementInput(world, {
          period,
          states: [
            {
              partnerId: WE8_PARTNER,
              period,
              planId: 'partner-gold',
              planVersion: 3,
              tier: 'Gold',
              opening: closing,
              closing,
              heldLines: world.states[2]?.heldLines ?? [],
              entryIds: [],
              payoutId: null,
            },
          ],
          lines: [],
          ledger: closing,
          previous: { hash: previous.hash, sequence: previous.sequence },
          issuedAt: `${period}-28T08:00:00.000Z`,
        }),
      );
    const october = month('2025-10', q3);
    return [q3, october, month('2025-11', october)];
  }

  it('links each statement to the previous one and verifies', () => {
    const statements = chain();
    expect(statements.map((s) => s.sequence)).toEqual([1, 2, 3]);
    expect(statements[1]?.previousHash).toBe(statements[0]?.hash);
    expect(statements[2]?.previousHash).toBe(statements[1]?.hash);
    expect(verifyStatementChain(statements)).toEqual({ ok: true, statements: 3 });
    expect(verifyStatementChain([...statements].reverse())).toEqual({ ok: true, statements: 3 });
    const last = statements[2] as Statement;
    expect(verifyStatementChain(statements, { sequence: 3, hash: last.hash }).ok).toBe(true);
  });

  it('finds a changed amount, even deep in a line', () => {
    const statements = chain();
    const q3 = statements[0] as Statement;
    const changed: Statement = {
      ...q3,
      lines: q3.lines.map((l, i) => (i === 3 ? { ...l, amountMinor: l.amountMinor + 1n } : l)),
    };
    expect(verifyStatementChain([changed, ...statements.slice(1)])).toMatchObject({
      ok: false,
      partnerId: WE8_PARTNER,
      period: '2025-Q3',
      reason: 'content_changed',
    });
  });

  it('finds a statement rehashed after a change: the next one no longer links to it', () => {
    const statements = chain();
    const q3 = statements[0] as Statement;
    const { hash: _old, ...content } = { ...q3, summary: { ...q3.summary, paidMinor: 0n } };
    const rehashed: Statement = { ...content, hash: statementHash(content) };
    expect(verifyStatementChain([rehashed, ...statements.slice(1)])).toMatchObject({
      ok: false,
      period: '2025-10',
      reason: 'broken_link',
    });
  });

  it('finds a missing statement in the middle and at the end', () => {
    const [q3, october, november] = chain() as [Statement, Statement, Statement];
    expect(verifyStatementChain([q3, november])).toMatchObject({
      ok: false,
      period: '2025-11',
      reason: 'missing_link',
    });
    expect(verifyStatementChain([q3, october], { sequence: 3, hash: november.hash })).toMatchObject(
      { ok: false, reason: 'missing_link' },
    );
    expect(verifyStatementChain([october, november])).toMatchObject({
      ok: false,
      period: '2025-10',
      reason: 'missing_link',
    });
  });

  it('reads back its own JSON exactly, with the hash intact', () => {
    const q3 = we8();
    const decoded = decodeStatementJson(encodeStatementJson(q3));
    expect(decoded).toEqual(q3);
    expect(statementHash(decoded)).toBe(q3.hash);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** Reorders every object's keys (deeply) by a seed. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const order = entries
      .map((entry, index) => ({ entry, key: (index * 7919 + seed * 104_729) % 65_521 }))
      .sort((a, b) => a.key - b.key)
      .map(({ entry: [k, v] }) => [k, shuffleKeys(v, seed + 1)] as const);
    return Object.fromEntries(order);
  }
  return value;
}

const lineArb = fc.record({
  kind: fc.constantFrom('accrual' as const, 'clawback' as const),
  amount: fc.bigInt({ min: 0n, max: 5_000_000n }),
  heldPart: fc.bigInt({ min: 0n, max: 100n }),
  contract: fc.constantFrom('C-1', 'C-2', 'C-3'),
});

const monthArb = fc.record({
  lines: fc.array(lineArb, { maxLength: 6 }),
  release: fc.bigInt({ min: 0n, max: 100n }),
  pay: fc.boolean(),
});

/** A random partner quarter whose states follow the engine's balance rules. */
const BASE_WORLD = we8World();

type MonthSpec = {
  lines: { kind: 'accrual' | 'clawback'; amount: bigint; heldPart: bigint; contract: string }[];
  release: bigint;
  pay: boolean;
};

function randomQuarter(openingPayable: bigint, openingHeld: bigint, months: MonthSpec[]) {
  const template = BASE_WORLD.lines[0] as CommissionLine;
  const periods = ['2026-04', '2026-05', '2026-06'];
  let opening: CommissionBalances = { payableMinor: openingPayable, heldMinor: openingHeld };
  const states: StatementMonthState[] = [];
  const lines: CommissionLine[] = [];
  const entries: import('../../../../lib/domain/ledger').JournalEntry[] = [];
  months.forEach((month, m) => {
    const period = periods[m] as string;
    let payable = opening.payableMinor;
    let held = opening.heldMinor;
    month.lines.forEach((spec, i) => {
      const accrual = spec.kind === 'accrual';
      const amount = accrual ? spec.amount : -spec.amount;
      const heldMinor = accrual ? (spec.amount * spec.heldPart) / 100n : 0n;
      lines.push({
        ...template,
        lineId: `L-${period}-${i}`,
        kind: spec.kind,
        status: accrual ? (heldMinor > 0n ? 'held' : 'payable') : 'clawed_back',
        contractId: spec.contract,
        period,
        basisMinor: amount * 10n,
        quarterBasisMinor: accrual ? amount * 10n : 0n,
        amountMinor: amount,
        heldMinor,
        journalEntryId: null,
        reversesLineId: accrual ? null : `L-earlier-${i}`,
        hold: null,
        payoutId: null,
      });
      payable += amount - heldMinor;
      held += heldMinor;
    });
    const entryIds: string[] = [];
    const released = (held * month.release) / 100n;
    if (released > 0n) {
      const id = `je-release-${period}`;
      entryIds.push(id);
      entries.push({
        schemaVersion: 1,
        entryId: id,
        date: `${period}-20`,
        postingPeriod: period,
        functionalCurrency: 'USD',
        description: 'release',
        source: { kind: 'event', id: `release:${period}` },
        rule: 'commission-release',
        ruleVersion: 1,
        reversalOf: null,
        legs: [
          {
            account: '2110',
            currency: 'USD',
            debitMinor: released,
            creditMinor: 0n,
            functionalDebitMinor: released,
            functionalCreditMinor: 0n,
            contractId: 'C-1',
            partnerId: WE8_PARTNER,
          },
          {
            account: '2100',
            currency: 'USD',
            debitMinor: 0n,
            creditMinor: released,
            functionalDebitMinor: 0n,
            functionalCreditMinor: released,
            contractId: 'C-1',
            partnerId: WE8_PARTNER,
          },
        ],
      });
      held -= released;
      payable += released;
    }
    let payoutId: string | null = null;
    if (month.pay && payable > 0n) {
      payoutId = `payout:${WE8_PARTNER}:${period}`;
      const id = `je-payout-${period}`;
      entryIds.push(id);
      entries.push({
        schemaVersion: 1,
        entryId: id,
        date: `${period}-28`,
        postingPeriod: period,
        functionalCurrency: 'USD',
        description: 'payout',
        source: { kind: 'run', id: payoutId },
        rule: 'commission-payout',
        ruleVersion: 1,
        reversalOf: null,
        legs: [
          {
            account: '2100',
            currency: 'USD',
            debitMinor: payable,
            creditMinor: 0n,
            functionalDebitMinor: payable,
            functionalCreditMinor: 0n,
            contractId: null,
            partnerId: WE8_PARTNER,
          },
          {
            account: '1000',
            currency: 'USD',
            debitMinor: 0n,
            creditMinor: payable,
            functionalDebitMinor: 0n,
            functionalCreditMinor: payable,
            contractId: null,
            partnerId: WE8_PARTNER,
          },
        ],
      });
      payable = 0n;
    }
    const closing = { payableMinor: payable, heldMinor: held };
    states.push({
      partnerId: WE8_PARTNER,
      period,
      planId: 'partner-gold',
      planVersion: 3,
      tier: 'Gold',
      opening,
      closing,
      heldLines: [],
      entryIds,
      payoutId,
    });
    opening = closing;
  });
  return { states, lines, entries, closing: opening };
}

describe('properties', () => {
  it('property: opening + earned − clawed back − paid = closing, and the statement ties', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -1_000_000n, max: 1_000_000n }),
        fc.bigInt({ min: 0n, max: 1_000_000n }),
        fc.array(monthArb, { minLength: 1, maxLength: 3 }),
        (openingPayable, openingHeld, months) => {
          const q = randomQuarter(openingPayable, openingHeld, months);
          const statement = buildStatement(
            we8StatementInput(BASE_WORLD, {
              period: '2026-Q2',
              states: q.states,
              lines: q.lines,
              entries: q.entries,
              ledger: q.closing,
            }),
          );
          const s = statement.summary;
          expect(s.openingMinor + s.earnedMinor - s.clawedBackMinor - s.paidMinor).toBe(
            s.closingMinor,
          );
          expect(s.payableMinor - s.paidMinor).toBe(s.closingPayableMinor);
          expect(s.closingPayableMinor).toBe(q.closing.payableMinor);
          expect(s.closingHeldMinor).toBe(q.closing.heldMinor);
          expect(statement.lines).toHaveLength(q.lines.length);
          // Off by one unit anywhere in the ledger: never issued.
          expect(() =>
            buildStatement(
              we8StatementInput(BASE_WORLD, {
                period: '2026-Q2',
                states: q.states,
                lines: q.lines,
                entries: q.entries,
                ledger: { ...q.closing, heldMinor: q.closing.heldMinor + 1n },
              }),
            ),
          ).toThrow(StatementDoesNotTieError);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: the hash is deterministic, ignores key order and changes with any content', () => {
    const q3 = we8();
    expect(buildStatement(we8StatementInput()).hash).toBe(q3.hash);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.nat({ max: 4 }), (seed, field) => {
        const shuffled = shuffleKeys(q3, seed) as Statement;
        expect(statementHash(shuffled)).toBe(q3.hash);
        const line = q3.lines[field] as Statement['lines'][number];
        const changed: Statement = {
          ...q3,
          lines: q3.lines.map((l) => (l === line ? { ...l, customer: `${l.customer}x` } : l)),
        };
        expect(statementHash(changed)).not.toBe(q3.hash);
      }),
      { numRuns: 100 },
    );
    expect(
      buildStatement(we8StatementInput(undefined, { issuedAt: '2025-10-17T08:00:00.000Z' })).hash,
    ).not.toBe(q3.hash);
    expect(
      buildStatement(
        we8StatementInput(undefined, { previous: { hash: 'a'.repeat(64), sequence: 4 } }),
      ).hash,
    ).not.toBe(q3.hash);
  });
});
