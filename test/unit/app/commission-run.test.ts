// Proves the month-end commission run over in-memory ports: WE-8's D-1/D-2 as Jul/Aug/Sep runs built from journal entries (14,116.68 earned, 9,985.32 held, 4,131.36 paid at quarter end), the October release, reruns posting nothing new, unregistered partners skipped, a missing plan reported, and the FIFO ledger facts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partnerCommissionReport } from '../../../lib/app/commission-report';
import {
  CommissionPeriodLockedError,
  type CommissionRunDeps,
  type CommissionRunSummary,
  type CommissionStore,
  contractCreditsFromEntries,
  contractFactsFromEntries,
  dealTypeOf,
  type PartnerPeriodPosting,
  type PartnerPeriodState,
  releaseHoldsOnDisbursement,
  runCommission,
} from '../../../lib/app/commission-run';
import type { Page, PageRequest } from '../../../lib/app/ports';
import { comparePeriods, type Period } from '../../../lib/domain/calendar';
import {
  ACCRUAL_CONTRACTS_PER_ENTRY,
  type CommissionLine,
} from '../../../lib/domain/commission/engine';
import {
  type CommissionPlan,
  type CommissionPlanInput,
  parseCommissionPlan,
} from '../../../lib/domain/commission/plan';
import {
  COMMISSION_REPORT_CSV_HEADER,
  commissionReportCsv,
} from '../../../lib/domain/commission/report';
import type { ContractSnapshot } from '../../../lib/domain/contract';
import {
  type AccountCode,
  functionalLeg,
  JOURNAL_ENTRY_SCHEMA_VERSION,
  JOURNAL_LEGS_MAX,
  type JournalEntry,
  journalEntryProblems,
} from '../../../lib/domain/ledger';
import { parseMajorAmount } from '../../../lib/domain/money';
import type { AttributionVersion } from '../../../lib/domain/partners/attribution-version';
import type { PartnerRecord } from '../../../lib/domain/partners/partner';

const usd = (text: string) => parseMajorAmount(text, 'USD');
const PARTNER = 'P-100';

// ---------------------------------------------------------------------------------------------
// Ledger fixtures: entries shaped as the revenue postings write them
// ---------------------------------------------------------------------------------------------

type Leg = [side: 'debit' | 'credit', account: AccountCode, amount: bigint];

function je(
  contractId: string,
  id: string,
  rule: string,
  date: string,
  sourceId: string,
  legs: Leg[],
): JournalEntry {
  return {
    schemaVersion: JOURNAL_ENTRY_SCHEMA_VERSION,
    entryId: `je_${contractId}_${id}`,
    date,
    postingPeriod: date.slice(0, 7),
    functionalCurrency: 'USD',
    description: id,
    source: { kind: rule === 'disbursement' ? 'event' : 'run', id: sourceId },
    rule,
    ruleVersion: 1,
    reversalOf: null,
    legs: legs.map(([side, account, amount]) =>
      functionalLeg(side, account, 'USD', amount, { contractId }),
    ),
  };
}

const monthEnd = (period: string) =>
  `${period}-${new Date(Date.UTC(Number(period.slice(0, 4)), Number(period.slice(5, 7)), 0)).getUTCDate()}`;

/** Month-end recognition entries (Dr 2400 / Cr 4000) from cumulative amounts. */
function recognitions(contractId: string, cumulative: [string, string][]): JournalEntry[] {
  let previous = 0n;
  return cumulative.map(([period, amount]) => {
    const delta = usd(amount) - previous;
    previous = usd(amount);
    return je(
      contractId,
      `rec-${period}`,
      'recognition',
      monthEnd(period),
      `recognition:${period}`,
      [
        ['debit', '2400', delta],
        ['credit', '4000', delta],
      ],
    );
  });
}

/** An installment invoice and its 3 % fee (gross presentation), and optionally its payout. */
function invoiceWithFee(
  contractId: string,
  invoiceId: string,
  date: string,
  gross: string,
  disbursedOn: string | null,
): JournalEntry[] {
  const amount = usd(gross);
  const fee = (amount * 3n) / 100n;
  const source = `invoice:${invoiceId}`;
  const out = [
    je(contractId, `inv-${invoiceId}`, 'invoice', date, source, [
      ['debit', '1210', amount],
      ['credit', '2400', amount],
    ]),
    je(contractId, `fee-${invoiceId}`, 'marketplace-fee', date, source, [
      ['debit', '5100', fee],
      ['credit', '1210', fee],
    ]),
  ];
  if (disbursedOn) {
    out.push(
      je(contractId, `dis-${invoiceId}`, 'disbursement', disbursedOn, `dis-${invoiceId}`, [
        ['debit', '1000', amount - fee],
        ['credit', '1210', amount - fee],
      ]),
    );
  }
  return out;
}

// D-1 is WE-2's deal (cumulative recognition through September: 98,812.51); D-2 recognizes
// 95,000.00 in September on an invoice not yet disbursed.
const D1_ENTRIES = [
  ...recognitions('D-1', [
    ['2025-01', '10191.78'],
    ['2025-02', '19397.26'],
    ['2025-03', '29589.04'],
    ['2025-04', '39452.05'],
    ['2025-05', '49643.84'],
    ['2025-06', '59506.85'],
    ['2025-07', '72751.15'],
    ['2025-08', '85995.44'],
    ['2025-09', '98812.51'],
  ]),
  ...invoiceWithFee('D-1', 'A-1-inst-1', '2025-01-01', '120000.00', '2025-02-14'),
  ...invoiceWithFee('D-1', 'A-1r-upgrade', '2025-07-01', '30000.00', '2025-07-28'),
];
const D2_ENTRIES = [
  ...recognitions('D-2', [['2025-09', '95000.00']]),
  ...invoiceWithFee('D-2', 'D-2-inv-1', '2025-09-01', '95000.00', null),
];
const D2_DISBURSED = invoiceWithFee('D-2', 'D-2-inv-1', '2025-09-01', '95000.00', '2025-10-20');

// ---------------------------------------------------------------------------------------------
// Plans, partners, attribution
// ---------------------------------------------------------------------------------------------

const WE8_PLAN_INPUT: CommissionPlanInput = {
  planId: 'partner-gold',
  version: 3,
  effectiveFrom: '2025-01-01',
  currency: 'USD',
  basis: 'recognized',
  rateTable: [
    { tier: 'Gold', dealType: 'sourced', ratePercent: '10' },
    { tier: 'Gold', dealType: 'influenced', ratePercent: '5' },
  ],
  accelerator: {
    mode: 'graduated',
    measure: { dealType: 'sourced' },
    bands: [
      { fromMinor: '0', toMinor: '10000000', upliftPercent: '0' },
      { fromMinor: '10000000', toMinor: '25000000', upliftPercent: '2' },
      { fromMinor: '25000000', upliftPercent: '4' },
    ],
  },
  caps: { perPartnerPerQuarterMinor: '2500000' },
  hold: { payWhen: 'disbursed' },
  minimumPayoutMinor: '5000',
  payoutTerm: 'NET-15',
  payoutSchedule: 'quarterly',
};
const WE8_PLAN = parseCommissionPlan(WE8_PLAN_INPUT);

const partnerRecord = (partnerId: string, tier: string) =>
  ({
    partnerId,
    tierHistory: [{ tier, effectiveFrom: '2024-01-01' }],
  }) as unknown as PartnerRecord;

type ShareSpec = { partnerId: string; weight: [bigint, bigint]; roles: string[] };

const attribution = (contractId: string, shares: ShareSpec[], version = 1) =>
  ({
    contractId,
    version,
    shares: shares.map((s, index) => ({
      partnerId: s.partnerId,
      weight: { num: s.weight[0], den: s.weight[1] },
      firstTouchAt: `2025-01-0${index + 1}T00:00:00Z`,
      roles: s.roles,
    })),
  }) as unknown as AttributionVersion;

const SOLE_SOURCED: ShareSpec[] = [{ partnerId: PARTNER, weight: [1n, 1n], roles: ['sourced'] }];

// ---------------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------------

/** The commission store with the DynamoDB semantics: entries by id, a state stored once, locks. */
class FakeCommissionStore implements CommissionStore {
  readonly entries = new Map<string, JournalEntry>();
  readonly states = new Map<string, PartnerPeriodState>();
  readonly lineItems = new Map<string, CommissionLine>();
  closedThrough: Period | null = null;
  posts = 0;

  async postPartnerPeriod(posting: PartnerPeriodPosting) {
    this.posts += 1;
    const ids = posting.entries.map((e) => e.entryId);
    if (this.states.has(`${posting.partnerId}#${posting.period}`)) {
      return { written: false, postedEntryIds: [], alreadyPostedEntryIds: ids };
    }
    const fresh = posting.entries.filter((e) => !this.entries.has(e.entryId));
    const closed = this.closedThrough;
    if (closed && fresh.some((e) => comparePeriods(e.postingPeriod, closed) <= 0)) {
      throw new CommissionPeriodLockedError('closed');
    }
    for (const entry of fresh) this.entries.set(entry.entryId, entry);
    for (const line of posting.lines) this.lineItems.set(line.lineId, line);
    this.states.set(`${posting.partnerId}#${posting.period}`, posting.state);
    return {
      written: true,
      postedEntryIds: fresh.map((e) => e.entryId),
      alreadyPostedEntryIds: ids.filter((id) => !fresh.some((e) => e.entryId === id)),
    };
  }

  async state(partnerId: string, period: Period) {
    return this.states.get(`${partnerId}#${period}`) ?? null;
  }

  async postEntries(entries: readonly JournalEntry[], _poster: 'pipeline' | 'run') {
    const fresh = entries.filter((e) => !this.entries.has(e.entryId));
    for (const entry of fresh) this.entries.set(entry.entryId, entry);
    return fresh.map((e) => e.entryId);
  }

  async statesBetween(partnerId: string, from: Period, to: Period) {
    return [...this.states.values()]
      .filter(
        (s) =>
          s.partnerId === partnerId &&
          comparePeriods(s.period, from) >= 0 &&
          comparePeriods(s.period, to) <= 0,
      )
      .sort((a, b) => comparePeriods(a.period, b.period));
  }

  async stateBefore(partnerId: string, period: Period) {
    const earlier = [...this.states.values()]
      .filter((s) => s.partnerId === partnerId && comparePeriods(s.period, period) < 0)
      .sort((a, b) => comparePeriods(b.period, a.period));
    return earlier[0] ?? null;
  }

  async lines(partnerId: string, period: Period) {
    return [...this.lineItems.values()].filter(
      (l) => l.partnerId === partnerId && l.period === period,
    );
  }
}

function pageOf<T>(items: readonly T[], page: PageRequest): Page<T> {
  const start = Number(page.cursor ?? '0');
  const end = start + page.limit;
  return { items: items.slice(start, end), cursor: end < items.length ? String(end) : null };
}

interface World {
  ledger: Map<string, JournalEntry[]>;
  attributions: Map<string, AttributionVersion>;
  partners: Map<string, PartnerRecord>;
  plans: CommissionPlan[];
  store: FakeCommissionStore;
  today: string;
}

function world(overrides: Partial<World> = {}): World {
  return {
    ledger: new Map([
      ['D-1', D1_ENTRIES],
      ['D-2', D2_ENTRIES],
    ]),
    attributions: new Map([
      ['D-1', attribution('D-1', SOLE_SOURCED)],
      ['D-2', attribution('D-2', SOLE_SOURCED)],
    ]),
    partners: new Map([[PARTNER, partnerRecord(PARTNER, 'Gold')]]),
    plans: [WE8_PLAN],
    store: new FakeCommissionStore(),
    today: '2025-12-01',
    ...overrides,
  };
}

function depsOf(w: World): CommissionRunDeps {
  const never = () => Promise.reject(new Error('not used by the commission run'));
  return {
    ledger: {
      booksPage: async (page) => pageOf([...w.ledger.keys()].sort(), page),
      // As the table's contract index does: the contract's own entries, and the commission
      // entries whose first leg names it.
      entries: async (contractId, page) =>
        pageOf(
          [
            ...(w.ledger.get(contractId) ?? []),
            ...[...w.store.entries.values()].filter(
              (e) => e.legs.find((l) => l.contractId !== null)?.contractId === contractId,
            ),
          ],
          page,
        ),
    },
    // attributeContract: no contract event yet → nothing to gather → the latest version.
    contracts: {
      get: async (contractId: string) =>
        ({ contractId, terms: { productId: 'prod-1' } }) as unknown as ContractSnapshot,
      events: async () => ({ items: [], cursor: null }),
      findByRef: never,
      list: never,
    },
    offers: { get: never, byEntityId: never },
    touches: { record: never, byKeys: never, byPartner: never },
    attribution: {
      latest: async (contractId: string) => w.attributions.get(contractId) ?? null,
      modelVersions: never,
      addModelVersion: never,
      versions: never,
      add: never,
      recordLostJourney: never,
      journeys: never,
    },
    attributionSettings: { modelId: 'default' },
    partners: {
      get: async (partnerId: string) => w.partners.get(partnerId) ?? null,
      byMarketplaceAccount: async () => null,
    },
    commissionPlans: { versions: async (planId) => w.plans.filter((p) => p.planId === planId) },
    commissions: w.store,
    commissionSettings: { planId: 'partner-gold' },
    revenue: { functionalCurrency: 'USD', firstOpenPeriod: () => null },
    clock: { now: () => `${w.today}T06:00:00Z` },
  };
}

async function runMonths(w: World, months: readonly string[]): Promise<CommissionRunSummary[]> {
  const out: CommissionRunSummary[] = [];
  for (const period of months) out.push(await runCommission(depsOf(w), { period }));
  return out;
}

/** Net debit (+) or credit (−) per account. */
function netByAccount(entries: readonly JournalEntry[]): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const leg of entries.flatMap((e) => e.legs)) {
    out[leg.account] = (out[leg.account] ?? 0n) + leg.debitMinor - leg.creditMinor;
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== 0n));
}

const Q3 = ['2025-07', '2025-08', '2025-09'] as const;

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('runCommission: WE-8 (D-1, D-2) as three monthly runs from the ledger', () => {
  it('earns 14,116.68 over the quarter, holds D-2 9,985.32 and pays 4,131.36 at the quarter end', async () => {
    const w = world();
    const summaries = await runMonths(w, Q3);
    expect(summaries.map((s) => s.totals.earnedMinor)).toEqual([
      usd('1324.43'),
      usd('1324.43'),
      usd('11467.82'),
    ]);
    expect(summaries.reduce((sum, s) => sum + s.totals.earnedMinor, 0n)).toBe(usd('14116.68'));
    const september = summaries[2];
    expect(september).toMatchObject({
      period: '2025-09',
      runId: 'commission:2025-09',
      planId: 'partner-gold',
      planVersion: 3,
      contracts: 2,
      contractsWithoutShares: 0,
      partnersProcessed: 1,
      unregisteredShares: 0,
      lines: 2,
      problemCount: 0,
      problems: [],
    });
    expect(september?.totals).toEqual({
      earnedMinor: usd('11467.82'),
      clawedBackMinor: 0n,
      heldMinor: usd('9985.32'),
      payableMinor: usd('4131.36'),
      paidMinor: usd('4131.36'),
    });

    const lines = [...w.store.lineItems.values()];
    const byContract = (id: string) =>
      lines.filter((l) => l.contractId === id).reduce((s, l) => s + l.amountMinor, 0n);
    expect(byContract('D-1')).toBe(usd('4131.36'));
    expect(byContract('D-2')).toBe(usd('9985.32'));
    const d2 = lines.find((l) => l.contractId === 'D-2');
    expect(d2).toMatchObject({
      status: 'held',
      heldMinor: usd('9985.32'),
      attributionVersion: 1,
      planVersion: 3,
      hold: { pendingInvoiceIds: ['invoice:D-2-inv-1'] },
    });
    // The quarterly payout settles the quarter's payable lines, July's and August's too.
    expect(
      lines.filter((l) => l.contractId === 'D-1').map((l) => [l.period, l.status, l.payoutId]),
    ).toEqual([
      ['2025-07', 'paid', 'payout:P-100:2025-09'],
      ['2025-08', 'paid', 'payout:P-100:2025-09'],
      ['2025-09', 'paid', 'payout:P-100:2025-09'],
    ]);

    const entries = [...w.store.entries.values()];
    for (const entry of entries) expect(journalEntryProblems(entry)).toEqual([]);
    const accruals = entries.filter((e) => e.rule !== 'commission-payout');
    expect(netByAccount(accruals)).toEqual({
      '6100': usd('14116.68'),
      '2100': -usd('4131.36'),
      '2110': -usd('9985.32'),
    });
    const payout = entries.find((e) => e.rule === 'commission-payout');
    expect(payout?.postingPeriod).toBe('2025-10');
    expect(netByAccount(payout ? [payout] : [])).toEqual({
      '2100': usd('4131.36'),
      '1000': -usd('4131.36'),
    });
    expect(await w.store.state(PARTNER, '2025-09')).toMatchObject({
      closing: { payableMinor: 0n, heldMinor: usd('9985.32') },
      heldLines: [{ line: { contractId: 'D-2' }, releasedMinor: 0n }],
      dealEarnedByQuarter: { '2025-Q3': { 'D-1': usd('4131.36'), 'D-2': usd('9985.32') } },
    });
  });

  it('posts nothing new on a rerun, even under another run id', async () => {
    const w = world();
    const first = await runMonths(w, Q3);
    const entriesBefore = new Map(w.store.entries);
    const statesBefore = new Map(w.store.states);
    const again = await runCommission(depsOf(w), { period: '2025-09' });
    const otherId = await runCommission(depsOf(w), { period: '2025-08', runId: 'manual-rerun' });
    expect(again.entriesPosted).toBe(0);
    expect(again.entriesAlreadyPosted).toBe(first[2]?.entriesPosted);
    expect(again.totals).toEqual(first[2]?.totals);
    expect(otherId.entriesPosted).toBe(0);
    expect(otherId.entriesAlreadyPosted).toBe(1);
    expect(w.store.entries).toEqual(entriesBefore);
    expect(w.store.states).toEqual(statesBefore);
  });

  it('releases D-2 in October once its invoice is disbursed: Dr 2110 / Cr 2100 9,985.32', async () => {
    const w = world();
    await runMonths(w, Q3);
    w.ledger.set('D-2', [...recognitions('D-2', [['2025-09', '95000.00']]), ...D2_DISBURSED]);
    const october = await runCommission(depsOf(w), { period: '2025-10' });
    expect(october.problems).toEqual([]);
    expect(october.totals).toMatchObject({
      earnedMinor: 0n,
      heldMinor: 0n,
      payableMinor: usd('9985.32'),
      paidMinor: 0n, // quarterly payouts: paid at the end of Q4
    });
    const release = [...w.store.entries.values()].find((e) => e.rule === 'commission-release');
    expect(release?.date).toBe('2025-10-20');
    expect(
      release?.legs.map((l) => [l.account, l.contractId, l.debitMinor, l.creditMinor]),
    ).toEqual([
      ['2110', 'D-2', usd('9985.32'), 0n],
      ['2100', 'D-2', 0n, usd('9985.32')],
    ]);
    expect(await w.store.state(PARTNER, '2025-10')).toMatchObject({
      opening: { payableMinor: 0n, heldMinor: usd('9985.32') },
      closing: { payableMinor: usd('9985.32'), heldMinor: 0n },
      heldLines: [],
    });
    // November starts from October's state: nothing held, nothing released again.
    const november = await runCommission(depsOf(w), { period: '2025-11' });
    expect(november.entriesPosted).toBe(0);
    expect(november.totals.payableMinor).toBe(usd('9985.32'));
  });

  it('releases the day each disbursement is recorded; the month-end run counts it and posts nothing again', async () => {
    const w = world();
    // D-2 billed in two halves; both wait for their payouts when September's run holds them.
    const halves = (paid: [string | null, string | null]) => [
      ...recognitions('D-2', [['2025-09', '95000.00']]),
      ...invoiceWithFee('D-2', 'D-2-a', '2025-09-01', '47500.00', paid[0]),
      ...invoiceWithFee('D-2', 'D-2-b', '2025-09-15', '47500.00', paid[1]),
    ];
    w.ledger.set('D-2', halves([null, null]));
    await runMonths(w, Q3);
    const releaseEntries = () =>
      [...w.store.entries.values()].filter((e) => e.rule === 'commission-release');

    w.today = '2025-10-06';
    w.ledger.set('D-2', halves(['2025-10-05', null]));
    const first = await releaseHoldsOnDisbursement(depsOf(w), 'D-2');
    expect(first.releases).toEqual([
      expect.objectContaining({ partnerId: PARTNER, releasedMinor: usd('4992.66') }),
    ]);
    expect(first.entriesPosted).toBe(1);
    expect((await releaseHoldsOnDisbursement(depsOf(w), 'D-2')).entriesPosted).toBe(0);

    w.today = '2025-10-21';
    w.ledger.set('D-2', halves(['2025-10-05', '2025-10-20']));
    const second = await releaseHoldsOnDisbursement(depsOf(w), 'D-2');
    expect(second.entriesPosted).toBe(1);
    expect(releaseEntries().map((e) => [e.date, netByAccount([e])['2110']])).toEqual([
      ['2025-10-05', usd('4992.66')],
      ['2025-10-20', usd('4992.66')],
    ]);

    w.today = '2025-11-02';
    const october = await runCommission(depsOf(w), { period: '2025-10' });
    expect(october.problems).toEqual([]);
    expect(october.entriesPosted).toBe(0);
    expect(releaseEntries()).toHaveLength(2);
    // October's state names both releases (statements read its movements from them).
    const octoberState = await w.store.state(PARTNER, '2025-10');
    for (const entry of releaseEntries()) expect(octoberState?.entryIds).toContain(entry.entryId);
    expect(await w.store.state(PARTNER, '2025-10')).toMatchObject({
      closing: { payableMinor: usd('9985.32'), heldMinor: 0n },
      heldLines: [],
    });
    // The ledger agrees with the state: 2110 back to 0, 9,985.32 payable on D-2.
    const d2 = [...w.store.entries.values()]
      .filter((e) => e.rule !== 'commission-payout')
      .map((e) => ({ ...e, legs: e.legs.filter((l) => l.contractId === 'D-2') }));
    expect(netByAccount(d2)['2110'] ?? 0n).toBe(0n);
    expect(netByAccount(d2)['2100']).toBe(-usd('9985.32'));
  });

  it('never uses one held amount twice: a credit and the payout in the same month leave 2110 at zero', async () => {
    const w = world();
    await runMonths(w, Q3);
    // October: D-2 is paid out (released by the event), then a 10,000.00 credit on it.
    w.today = '2025-10-21';
    w.ledger.set('D-2', [
      ...recognitions('D-2', [['2025-09', '95000.00']]),
      ...D2_DISBURSED,
      je('D-2', 'refund-oct', 'refund', '2025-10-20', 'refund:D-2-credit', [
        ['debit', '4000', usd('10000.00')],
        ['credit', '2450', usd('10000.00')],
      ]),
    ]);
    await releaseHoldsOnDisbursement(depsOf(w), 'D-2');
    w.today = '2025-11-02';
    const october = await runCommission(depsOf(w), { period: '2025-10' });
    expect(october.problems).toEqual([]);
    const clawback = [...w.store.lineItems.values()].find((l) => l.kind === 'clawback');
    // Nothing is held any more (the payout released it): the 1,000.00 comes out of payable.
    expect(clawback).toMatchObject({ amountMinor: -usd('1000.00'), heldMinor: 0n });
    const d2 = [...w.store.entries.values()]
      .filter((e) => e.rule !== 'commission-payout')
      .map((e) => ({ ...e, legs: e.legs.filter((l) => l.contractId === 'D-2') }));
    expect(netByAccount(d2)['2110'] ?? 0n).toBe(0n);
    expect(netByAccount(d2)['2100']).toBe(-usd('8985.32'));
    expect(await w.store.state(PARTNER, '2025-10')).toMatchObject({
      closing: { heldMinor: 0n, payableMinor: usd('8985.32') },
    });
  });

  it('releases nothing for a contract no partner holds anything on', async () => {
    const w = world();
    await runMonths(w, Q3);
    expect(await releaseHoldsOnDisbursement(depsOf(w), 'D-1')).toMatchObject({
      releases: [],
      entriesPosted: 0,
    });
    expect(await releaseHoldsOnDisbursement(depsOf(w), 'D-404')).toMatchObject({ releases: [] });
  });
});

// D-3: a deal recognized (and paid on) in June; in September a 1,500.00 service credit against
// that recognized revenue (rule 8's excess over deferred: Dr 4000 / Cr 2450).
const D3_ENTRIES = [
  ...recognitions('D-3', [['2025-06', '20000.00']]),
  ...invoiceWithFee('D-3', 'D-3-inv-1', '2025-06-01', '20000.00', '2025-06-20'),
  je('D-3', 'refund-credit', 'refund', '2025-09-15', 'refund:D-3-credit', [
    ['debit', '4000', usd('1500.00')],
    ['credit', '2450', usd('1500.00')],
  ]),
];

function worldWithD3(): World {
  const w = world();
  w.ledger.set('D-3', D3_ENTRIES);
  w.attributions.set('D-3', attribution('D-3', SOLE_SOURCED));
  return w;
}

describe('runCommission: WE-8 D-3, a credit clawed back at the rate of the line it reverses', () => {
  it('claws back 150.00 in September, leaves the accelerator alone and pays 3,981.36', async () => {
    const w = worldWithD3();
    const [june, ...q3] = await runMonths(w, ['2025-06', ...Q3]);
    // June: D-3 (and D-1's Q2 month) earn at the base rate; June is a quarter-end: paid out.
    expect(june?.problems).toEqual([]);
    const d3June = [...w.store.lineItems.values()].find(
      (l) => l.contractId === 'D-3' && l.period === '2025-06',
    );
    expect(d3June).toMatchObject({ kind: 'accrual', ratePercent: '10', status: 'paid' });

    expect(q3.map((s) => s.totals.earnedMinor)).toEqual([
      usd('1324.43'),
      usd('1324.43'),
      usd('11467.82'),
    ]);
    const september = q3[2];
    expect(september?.problems).toEqual([]);
    expect(september?.totals).toMatchObject({
      clawedBackMinor: usd('150.00'),
      heldMinor: usd('9985.32'),
      payableMinor: usd('3981.36'),
      paidMinor: usd('3981.36'),
    });
    const clawback = [...w.store.lineItems.values()].find((l) => l.kind === 'clawback');
    expect(clawback).toMatchObject({
      contractId: 'D-3',
      period: '2025-09',
      status: 'clawed_back',
      basisMinor: -usd('1500.00'),
      ratePercent: '10',
      amountMinor: -usd('150.00'),
      heldMinor: 0n,
      reversesLineId: d3June?.lineId,
    });
    expect(clawback?.sourceEventIds).toContain('refund:D-3-credit');

    // WE-8's ledger for the quarter: Dr 6100 13,966.68 / Cr 2100 3,981.36 / Cr 2110 9,985.32.
    const quarterEntries = [...w.store.entries.values()].filter(
      (e) => e.rule !== 'commission-payout' && Q3.includes(e.postingPeriod as (typeof Q3)[number]),
    );
    expect(netByAccount(quarterEntries)).toEqual({
      '6100': usd('13966.68'),
      '2100': -usd('3981.36'),
      '2110': -usd('9985.32'),
    });
    const state = await w.store.state(PARTNER, '2025-09');
    expect(state?.lastAccrualByContract?.['D-3']).toEqual({
      lineId: d3June?.lineId,
      ratePercent: '10',
    });
  });

  it('claws back a credit on a held line out of what is held (Dr 2110), and a rerun posts nothing', async () => {
    const w = world();
    // D-2's September accrual is held; an October credit of 10,000.00 against its revenue.
    w.ledger.set('D-2', [
      ...D2_ENTRIES,
      je('D-2', 'refund-oct', 'refund', '2025-10-10', 'refund:D-2-credit', [
        ['debit', '4000', usd('10000.00')],
        ['credit', '2450', usd('10000.00')],
      ]),
    ]);
    await runMonths(w, [...Q3, '2025-10']);
    const october = await w.store.state(PARTNER, '2025-10');
    const clawback = [...w.store.lineItems.values()].find((l) => l.kind === 'clawback');
    // D-2's September line was accrued at the base rate 10 % (+4 pp uplift shown separately).
    expect(clawback).toMatchObject({ amountMinor: -usd('1000.00'), heldMinor: -usd('1000.00') });
    expect(october?.closing.heldMinor).toBe(usd('8985.32'));
    expect(october?.heldLines[0]).toMatchObject({ clawedBackFromHeldMinor: usd('1000.00') });
    const entriesBefore = w.store.entries.size;
    const rerun = await runCommission(depsOf(w), { period: '2025-10' });
    expect(rerun.entriesPosted).toBe(0);
    expect(w.store.entries.size).toBe(entriesBefore);
  });
});

describe('partnerCommissionReport: the finance view of what the runs stored', () => {
  async function reportOf(w: World, from: string, to: string, partnerId?: string) {
    const deps = depsOf(w);
    return partnerCommissionReport(
      {
        partners: {
          get: deps.partners.get,
          list: async (page) => pageOf([...w.partners.values()], page),
        },
        commissions: w.store,
        revenue: { functionalCurrency: 'USD' },
      },
      { from, to, ...(partnerId ? { partnerId } : {}) },
    );
  }

  it('shows WE-8 per month: sourced revenue, earned, clawed back, expense, paid, payable and held', async () => {
    const w = worldWithD3();
    w.ledger.set('D-2', [
      ...D2_ENTRIES.filter((e) => e.rule !== 'invoice' && e.rule !== 'marketplace-fee'),
      ...D2_DISBURSED,
    ]);
    await runMonths(w, ['2025-06', ...Q3, '2025-10']);
    const report = await reportOf(w, '2025-07', '2025-10');
    expect(report.rows.map((r) => r.period)).toEqual(['2025-07', '2025-08', '2025-09', '2025-10']);
    const september = report.rows[2];
    expect(september).toMatchObject({
      partnerId: PARTNER,
      tier: 'Gold',
      planId: 'partner-gold',
      basisKind: 'recognized',
      sourcedRevenueMinor: usd('12817.07') + usd('95000.00') - usd('1500.00'),
      influencedRevenueMinor: 0n,
      earnedMinor: usd('11467.82'),
      clawedBackMinor: usd('150.00'),
      expenseMinor: usd('11467.82') - usd('150.00'),
      paidMinor: usd('3981.36'),
      payableMinor: 0n,
      heldMinor: usd('9985.32'),
    });
    // October: D-2 disbursed → its hold released into payable (paid at the next quarter end).
    expect(report.rows[3]).toMatchObject({
      releasedMinor: usd('9985.32'),
      heldMinor: 0n,
      payableMinor: usd('9985.32'),
    });
    // Every row keeps the identity, and the months' totals add up the rows.
    for (const row of report.rows) {
      expect(
        row.openingPayableMinor +
          row.openingHeldMinor +
          row.earnedMinor -
          row.clawedBackMinor -
          row.paidMinor,
      ).toBe(row.payableMinor + row.heldMinor);
      expect(row.expenseMinor + row.contraRevenueMinor + row.capitalizedMinor).toBe(
        row.earnedMinor - row.clawedBackMinor,
      );
    }
    // The payouts the report shows are the payout entries posted.
    const payouts = [...w.store.entries.values()].filter((e) => e.rule === 'commission-payout');
    expect(report.rows.reduce((sum, r) => sum + r.paidMinor, 0n)).toBe(
      payouts
        .filter((e) => e.postingPeriod >= '2025-08')
        .reduce((sum, e) => sum + (netByAccount([e])['2100'] ?? 0n), 0n),
    );
    const csv = commissionReportCsv(report).split('\r\n');
    expect(csv[0]).toBe(COMMISSION_REPORT_CSV_HEADER.join(','));
    expect(csv[3]).toContain(`${PARTNER},2025-09,Gold,partner-gold,3,recognized,USD,`);
    expect(csv[3]).toContain(`,${usd('3981.36')},`);
  });

  it('narrows to one partner, and answers no rows for an unknown one or months not run', async () => {
    const w = world();
    await runMonths(w, Q3);
    expect((await reportOf(w, '2025-07', '2025-09', PARTNER)).rows).toHaveLength(3);
    expect((await reportOf(w, '2025-07', '2025-09', 'P-404')).rows).toEqual([]);
    expect((await reportOf(w, '2024-01', '2024-12')).rows).toEqual([]);
    await expect(reportOf(w, '2025-09', '2025-07')).rejects.toMatchObject({
      code: 'invalid_range',
    });
    await expect(reportOf(w, '2020-01', '2025-07')).rejects.toMatchObject({
      code: 'invalid_range',
    });
  });
});

describe('runCommission: billed basis on a multi-year billing (rule 7)', () => {
  // WE-1's shape: 3 years billed upfront (360,000.00 on 2025-01-01, fee capitalized since it
  // covers more than 12 months), recognized 10,000.00 a month.
  const months = Array.from({ length: 36 }, (_, i) => {
    const year = 2025 + Math.floor(i / 12);
    return `${year}-${String((i % 12) + 1).padStart(2, '0')}`;
  });
  const upfront = (): JournalEntry[] => [
    ...recognitions(
      'M-1',
      months.map((m, i) => [m, (10_000 * (i + 1)).toFixed(2)] as [string, string]),
    ),
    je('M-1', 'inv', 'invoice', '2025-01-01', 'invoice:M-1-upfront', [
      ['debit', '1210', usd('360000.00')],
      ['credit', '2400', usd('360000.00')],
    ]),
    je('M-1', 'fee', 'marketplace-fee', '2025-01-01', 'invoice:M-1-upfront', [
      ['debit', '1400', usd('10800.00')],
      ['credit', '1210', usd('10800.00')],
    ]),
  ];
  const billedPlan = parseCommissionPlan({
    planId: 'partner-gold',
    version: 1,
    effectiveFrom: '2025-01-01',
    currency: 'USD',
    basis: 'billed',
    rateTable: [{ tier: 'Gold', dealType: 'sourced', ratePercent: '10' }],
    hold: { payWhen: 'immediately' },
    payoutSchedule: 'monthly',
  });

  it('capitalizes the commission to 1400 and amortizes it with the revenue, to the cent over the term', async () => {
    const w = world({
      ledger: new Map([['M-1', upfront()]]),
      attributions: new Map([['M-1', attribution('M-1', SOLE_SOURCED)]]),
      plans: [billedPlan],
      today: '2028-02-01',
    });
    const summaries = await runMonths(w, months);
    expect(summaries.flatMap((s) => s.problems)).toEqual([]);
    const entries = [...w.store.entries.values()];
    const capitalization = entries.filter((e) => e.rule === 'commission-capitalization');
    expect(capitalization.map((e) => [e.postingPeriod, netByAccount([e])])).toEqual([
      ['2025-01', { '1400': usd('36000.00'), '2100': -usd('36000.00') }],
    ]);
    expect(entries.filter((e) => e.rule === 'commission-accrual')).toEqual([]);
    const amortized = entries.filter((e) => e.rule === 'commission-amortization');
    // 1/36 a month: January's share caught up in February, then 1,000.00 a month.
    expect(netByAccount(amortized.filter((e) => e.postingPeriod === '2025-02'))).toEqual({
      '6100': usd('2000.00'),
      '1400': -usd('2000.00'),
    });
    expect(netByAccount(amortized.filter((e) => e.postingPeriod === '2025-03'))['6100']).toBe(
      usd('1000.00'),
    );
    // Over the term the whole 36,000.00 is expensed and 1400 is back to zero.
    expect(netByAccount(amortized)['6100']).toBe(usd('36000.00'));
    expect(netByAccount(entries.filter((e) => e.rule !== 'commission-payout'))['1400'] ?? 0n).toBe(
      0n,
    );
    expect((await w.store.state(PARTNER, '2027-12'))?.capitalizedLines).toEqual([]);
    // The capitalized line names where the cost went, and the run reruns to nothing.
    const line = [...w.store.lineItems.values()].find((l) => l.period === '2025-01');
    expect(line).toMatchObject({ expenseAccount: '1400', amountMinor: usd('36000.00') });
    expect((await runCommission(depsOf(w), { period: '2026-06' })).entriesPosted).toBe(0);
  });

  it('expenses billed-basis commission on a billing of 12 months or less (no capitalization)', async () => {
    const annual = upfront().map((e) =>
      e.rule === 'marketplace-fee'
        ? {
            ...e,
            legs: e.legs.map((l) =>
              l.account === '1400' ? { ...l, account: '5100' as const } : l,
            ),
          }
        : e,
    );
    const w = world({
      ledger: new Map([['M-1', annual]]),
      attributions: new Map([['M-1', attribution('M-1', SOLE_SOURCED)]]),
      plans: [billedPlan],
      today: '2025-03-01',
    });
    await runMonths(w, ['2025-01', '2025-02']);
    const entries = [...w.store.entries.values()];
    expect(entries.map((e) => e.rule).filter((r) => r !== 'commission-payout')).toEqual([
      'commission-accrual',
    ]);
    expect(netByAccount(entries.filter((e) => e.rule === 'commission-accrual'))['6100']).toBe(
      usd('36000.00'),
    );
  });
});

describe('runCommission: who earns', () => {
  const FLAT: CommissionPlanInput = {
    planId: 'partner-gold',
    version: 1,
    effectiveFrom: '2025-01-01',
    currency: 'USD',
    rateTable: [
      { tier: 'Gold', dealType: 'sourced', ratePercent: '10' },
      { tier: 'Gold', dealType: 'influenced', ratePercent: '5' },
    ],
    hold: { payWhen: 'immediately' },
  };

  it('skips a party not in the registry, still splitting the basis by every share', async () => {
    const w = world({
      ledger: new Map([['D-5', recognitions('D-5', [['2025-07', '1000.00']])]]),
      attributions: new Map([
        [
          'D-5',
          attribution('D-5', [
            { partnerId: PARTNER, weight: [1n, 2n], roles: ['influenced'] },
            { partnerId: 'AWS-COSELL', weight: [1n, 2n], roles: ['cloud-seller'] },
          ]),
        ],
      ]),
      plans: [parseCommissionPlan(FLAT)],
    });
    const july = await runCommission(depsOf(w), { period: '2025-07' });
    expect(july).toMatchObject({ partnersProcessed: 1, unregisteredShares: 1, problemCount: 0 });
    // Influenced: 5 % of P-100's half of 1,000.00.
    expect(july.totals.earnedMinor).toBe(usd('25.00'));
    const lines = await w.store.lines(PARTNER, '2025-07');
    expect(lines.map((l) => [l.dealType, l.basisMinor, l.amountMinor])).toEqual([
      ['influenced', usd('500.00'), usd('25.00')],
    ]);
    expect([...w.store.states.keys()]).toEqual([`${PARTNER}#2025-07`]);
  });

  it('counts contracts without attribution and earns nothing on them', async () => {
    const w = world({ attributions: new Map([['D-1', attribution('D-1', SOLE_SOURCED)]]) });
    const july = await runCommission(depsOf(w), { period: '2025-07' });
    expect(july).toMatchObject({ contracts: 2, contractsWithoutShares: 1, partnersProcessed: 1 });
    expect(july.totals.earnedMinor).toBe(usd('1324.43'));
  });

  it('reports a plan-less period as a problem and posts nothing', async () => {
    const w = world({
      plans: [parseCommissionPlan({ ...WE8_PLAN_INPUT, effectiveFrom: '2025-10-01' })],
    });
    const july = await runCommission(depsOf(w), { period: '2025-07' });
    expect(july.planVersion).toBeNull();
    expect(july.problems).toEqual([
      {
        code: 'no_commission_plan',
        message: 'No version of commission plan partner-gold is in effect on 2025-07-31',
      },
    ]);
    expect(w.store.posts).toBe(0);
  });

  it('reports one partner failing (a closed period, a missing rate) without stopping the others', async () => {
    const w = world({
      ledger: new Map([
        ['D-1', D1_ENTRIES],
        ['D-6', recognitions('D-6', [['2025-07', '100.00']])],
      ]),
      attributions: new Map([
        ['D-1', attribution('D-1', SOLE_SOURCED)],
        ['D-6', attribution('D-6', [{ partnerId: 'P-200', weight: [1n, 1n], roles: ['sourced'] }])],
      ]),
      partners: new Map([
        [PARTNER, partnerRecord(PARTNER, 'Gold')],
        ['P-200', partnerRecord('P-200', 'Silver')], // the plan has no Silver rate
      ]),
    });
    const july = await runCommission(depsOf(w), { period: '2025-07' });
    expect(july.problems).toEqual([
      expect.objectContaining({ partnerId: 'P-200', code: 'commission_rate_missing' }),
    ]);
    expect(july.partnersProcessed).toBe(1);
    w.store.closedThrough = '2025-08';
    const august = await runCommission(depsOf(w), { period: '2025-08' });
    expect(august.problems.map((p) => [p.partnerId, p.code])).toEqual([
      [PARTNER, 'period_closed'],
      ['P-200', 'commission_rate_missing'],
    ]);
    expect(await w.store.state(PARTNER, '2025-08')).toBeNull();
  });

  it('splits the accrual of a partner with many deals into balanced parts of at most 200 legs', async () => {
    // 150 partly held deals → 3 legs each (6100, 2100, 2110) = 450 > JOURNAL_LEGS_MAX (200).
    const ids = Array.from({ length: 150 }, (_, i) => `H-${String(i).padStart(3, '0')}`);
    const w = world({
      ledger: new Map(
        ids.map((id) => [
          id,
          [
            ...recognitions(id, [['2025-07', '100.00']]),
            // Half of the revenue is invoiced and disbursed, half waits on a second invoice.
            ...invoiceWithFee(id, `${id}-inv-1`, '2025-07-01', '50.00', '2025-07-15'),
            ...invoiceWithFee(id, `${id}-inv-2`, '2025-07-20', '50.00', null),
          ],
        ]),
      ),
      attributions: new Map(ids.map((id) => [id, attribution(id, SOLE_SOURCED)])),
    });
    const july = await runCommission(depsOf(w), { period: '2025-07' });
    expect(july.problems).toEqual([]);
    const accruals = [...w.store.entries.values()].filter((e) => e.rule === 'commission-accrual');
    expect(accruals.length).toBe(Math.ceil(150 / ACCRUAL_CONTRACTS_PER_ENTRY));
    for (const entry of accruals) {
      expect(journalEntryProblems(entry)).toEqual([]);
      expect(entry.legs.length).toBeLessThanOrEqual(JOURNAL_LEGS_MAX);
    }
    // Every deal is in exactly one part, and the parts together are the month's accrual.
    const contracts = accruals.flatMap((e) => [...new Set(e.legs.map((l) => l.contractId))]);
    expect(new Set(contracts).size).toBe(150);
    expect(contracts.length).toBe(150);
    expect(netByAccount(accruals)['6100']).toBe(july.totals.earnedMinor);
    const rerun = await runCommission(depsOf(w), { period: '2025-07' });
    expect(rerun.entriesPosted).toBe(0);
  });

  it('refuses a month that has not ended', async () => {
    const w = world({ today: '2025-09-30' });
    await expect(runCommission(depsOf(w), { period: '2025-09' })).rejects.toMatchObject({
      code: 'period_not_over',
    });
  });

  it('names the deal type by role: resale, then sourced, else influenced', () => {
    expect(dealTypeOf(['sourced', 'resale'])).toBe('resale');
    expect(dealTypeOf(['influenced', 'sourced'])).toBe('sourced');
    expect(dealTypeOf(['cloud-seller'])).toBe('influenced');
    expect(dealTypeOf([])).toBe('influenced');
  });
});

describe('contractFactsFromEntries', () => {
  it('reads WE-8 D-1: cumulative revenue by posting period and invoices disbursed FIFO', () => {
    const facts = contractFactsFromEntries(D1_ENTRIES, '2025-08');
    expect(facts.recognizedCumulative.at(-1)).toEqual({
      period: '2025-08',
      cumulativeMinor: usd('85995.44'),
    });
    expect(facts.invoices).toEqual([
      {
        invoiceId: 'invoice:A-1-inst-1',
        date: '2025-01-01',
        amountMinor: usd('120000.00'),
        disbursedOn: '2025-02-14',
        disbursedNetMinor: usd('116400.00'),
      },
      {
        invoiceId: 'invoice:A-1r-upgrade',
        date: '2025-07-01',
        amountMinor: usd('30000.00'),
        disbursedOn: '2025-07-28',
        disbursedNetMinor: usd('29100.00'),
      },
    ]);
  });

  it('keeps refunds out of the recognized basis (they are clawed back) and ignores entries after the period', () => {
    const entries = [
      ...recognitions('X', [
        ['2025-01', '100.00'],
        ['2025-03', '300.00'],
      ]),
      je('X', 'credit', 'refund', '2025-03-10', 'credit-1', [
        ['debit', '4000', usd('50.00')],
        ['credit', '2450', usd('50.00')],
      ]),
    ];
    expect(contractFactsFromEntries(entries, '2025-03').recognizedCumulative).toEqual([
      { period: '2025-01', cumulativeMinor: usd('100.00') },
      { period: '2025-03', cumulativeMinor: usd('300.00') },
    ]);
    expect(contractCreditsFromEntries(entries)).toEqual([
      expect.objectContaining({
        creditId: 'credit-1',
        date: '2025-03-10',
        postingPeriod: '2025-03',
        recognizedMinor: usd('50.00'),
        billedMinor: usd('50.00'),
      }),
    ]);
    expect(contractFactsFromEntries(entries, '2025-02').recognizedCumulative).toEqual([
      { period: '2025-01', cumulativeMinor: usd('100.00') },
    ]);
  });

  it('property: an invoice is disbursed iff all payouts to date cover every net amount through it', () => {
    const invoice = fc.record({
      day: fc.integer({ min: 1, max: 28 }),
      gross: fc.bigInt({ min: 1n, max: 10_000_000n }),
    });
    const payout = fc.record({
      day: fc.integer({ min: 1, max: 28 }),
      amount: fc.bigInt({ min: 1n, max: 10_000_000n }),
    });
    fc.assert(
      fc.property(
        fc.array(invoice, { minLength: 1, maxLength: 8 }),
        fc.array(payout, { maxLength: 8 }),
        (invoices, payouts) => {
          const day = (d: number) => `2025-05-${String(d).padStart(2, '0')}`;
          const entries = [
            ...invoices.flatMap((inv, i) =>
              invoiceWithFee(
                'X',
                `i${i}`,
                day(inv.day),
                (Number(inv.gross) / 100).toFixed(2),
                null,
              ),
            ),
            ...payouts.map((p, i) =>
              je('X', `p${i}`, 'disbursement', day(p.day), `p${i}`, [
                ['debit', '1000', p.amount],
                ['credit', '1210', p.amount],
              ]),
            ),
          ];
          const facts = contractFactsFromEntries(entries, '2025-05');
          const paidTotal = payouts.reduce((s, p) => s + p.amount, 0n);
          let owed = 0n;
          let seenPending = false;
          let lastDate = '';
          for (const fact of facts.invoices) {
            owed += fact.disbursedNetMinor ?? 0n;
            expect(fact.disbursedOn !== null).toBe(paidTotal >= owed);
            if (fact.disbursedOn === null) seenPending = true;
            else {
              expect(seenPending).toBe(false); // FIFO: never a disbursed one after a pending one
              expect(fact.disbursedOn >= lastDate).toBe(true);
              lastDate = fact.disbursedOn;
            }
          }
          expect(facts.invoices).toHaveLength(invoices.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
