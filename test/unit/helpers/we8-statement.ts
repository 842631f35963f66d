// WE-8 (finance.md §9) as the commission run leaves it: Jul/Aug/Sep 2025 computed by the pure
// engine for partner P-100 (D-1, D-2 sourced; D-3's service credit clawed back in September),
// with the states, lines and journal entries a statement is built from. Shared by the
// statement tests (unit and integration).
import {
  accrualLineId,
  type ClawbackInput,
  type CommissionBalances,
  type CommissionLine,
  computePartnerPeriod,
  type DealPeriodInput,
  dealPeriodInputFor,
  type InvoiceFact,
  markPaid,
  type PartnerPeriodResult,
} from '../../../lib/domain/commission/engine';
import {
  type CommissionPlan,
  type CommissionPlanInput,
  parseCommissionPlan,
} from '../../../lib/domain/commission/plan';
import type { JournalEntry } from '../../../lib/domain/ledger';
import { parseMajorAmount } from '../../../lib/domain/money';
import type {
  StatementContractFacts,
  StatementInput,
  StatementMonthState,
} from '../../../lib/domain/statements/statement';

export const usd = (text: string) => parseMajorAmount(text, 'USD');
export const WE8_PARTNER = 'P-100';
export const WE8_MONTHS = ['2025-07', '2025-08', '2025-09'] as const;

export const WE8_PLAN_INPUT: CommissionPlanInput = {
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
export const WE8_PLAN: CommissionPlan = parseCommissionPlan(WE8_PLAN_INPUT);

const D1_RECOGNIZED: [string, string][] = [
  ['2025-06', '59506.85'],
  ['2025-07', '72751.15'],
  ['2025-08', '85995.44'],
  ['2025-09', '98812.51'],
];
const D1_INVOICES: InvoiceFact[] = [
  {
    invoiceId: 'invoice:A-1-inst-1',
    date: '2025-01-01',
    amountMinor: usd('120000.00'),
    disbursedOn: '2025-02-14',
  },
  {
    invoiceId: 'invoice:A-1r-upgrade',
    date: '2025-07-01',
    amountMinor: usd('30000.00'),
    disbursedOn: '2025-07-28',
  },
];
const D2_INVOICES: InvoiceFact[] = [
  {
    invoiceId: 'invoice:D-2-inv-1',
    date: '2025-09-01',
    amountMinor: usd('95000.00'),
    disbursedOn: null,
  },
];

export const WE8_CONTRACTS: Record<string, StatementContractFacts> = {
  'D-1': { marketplace: 'aws', customerName: 'Globex Corporation', product: 'agora-analytics' },
  'D-2': { marketplace: 'azure', customerName: 'Initech GmbH', product: 'agora-analytics' },
  'D-3': { marketplace: 'gcp', customerName: 'Umbrella Corp.', product: 'agora-insights' },
};

const SOLE = [
  { partnerId: WE8_PARTNER, weight: { num: 1n, den: 1n }, firstTouchAt: '2025-01-01T00:00:00Z' },
];

function deal(
  month: string,
  contractId: string,
  recognized: [string, string][],
  invoices: InvoiceFact[],
  product: string,
): DealPeriodInput {
  return dealPeriodInputFor({
    partnerId: WE8_PARTNER,
    period: month,
    basisKind: 'recognized',
    contractId,
    dealType: 'sourced',
    product,
    attributionVersion: 1,
    shares: SOLE,
    facts: {
      recognizedCumulative: recognized.map(([period, amount]) => ({
        period,
        cumulativeMinor: usd(amount),
      })),
      invoices,
    },
  });
}

/** D-3's service credit (−1,500.00 of revenue commissioned at 10 % in June), clawed back. */
export const D3_CLAWBACK: ClawbackInput = {
  contractId: 'D-3',
  creditId: 'refund:D-3-service-credit',
  basisMinor: -usd('1500.00'),
  reversesLineId: accrualLineId(WE8_PARTNER, 'D-3', '2025-06'),
  ratePercent: '10',
  dealType: 'sourced',
  product: 'agora-insights',
  attributionVersion: 1,
  date: '2025-09-12',
};

export interface We8World {
  readonly results: PartnerPeriodResult[];
  readonly states: StatementMonthState[];
  readonly lines: CommissionLine[];
  readonly entries: JournalEntry[];
  /** 2100 / 2110 credit balances of P-100's legs over every entry. */
  readonly ledger: CommissionBalances;
}

/** Net credit of the partner's legs on an account. */
export function creditBalance(
  entries: readonly JournalEntry[],
  account: string,
  partnerId: string,
) {
  return entries
    .flatMap((e) => e.legs)
    .filter((l) => l.account === account && l.partnerId === partnerId)
    .reduce((s, l) => s + l.functionalCreditMinor - l.functionalDebitMinor, 0n);
}

/** Jul–Sep computed month by month, each opening at the previous closing (as the run does). */
export function we8World(options: { clawback?: boolean } = {}): We8World {
  const clawback = options.clawback ?? true;
  let opening: CommissionBalances = { payableMinor: 0n, heldMinor: 0n };
  let held: StatementMonthState['heldLines'] = [];
  const results: PartnerPeriodResult[] = [];
  const states: StatementMonthState[] = [];
  const lines: CommissionLine[] = [];
  const entries: JournalEntry[] = [];
  for (const month of WE8_MONTHS) {
    const result = computePartnerPeriod({
      partnerId: WE8_PARTNER,
      tier: 'Gold',
      period: month,
      plan: WE8_PLAN,
      functionalCurrency: 'USD',
      source: { kind: 'run', id: `commission:${month}` },
      opening,
      deals: [
        deal(month, 'D-1', D1_RECOGNIZED, D1_INVOICES, 'agora-analytics'),
        deal(month, 'D-2', [['2025-09', '95000.00']], D2_INVOICES, 'agora-analytics'),
      ],
      clawbacks: clawback && month === '2025-09' ? [D3_CLAWBACK] : [],
      heldLines: held.map((h) => ({ ...h, invoices: D2_INVOICES })),
    });
    const monthLines = result.payout
      ? markPaid(result.lines, result.payout.payoutId)
      : result.lines;
    held = [
      ...held,
      ...result.lines
        .filter((l) => l.kind === 'accrual' && l.heldMinor > 0n)
        .map((line) => ({ line, releasedMinor: 0n, clawedBackFromHeldMinor: 0n })),
    ];
    states.push({
      partnerId: WE8_PARTNER,
      period: month,
      planId: WE8_PLAN.planId,
      planVersion: WE8_PLAN.version,
      tier: 'Gold',
      opening: result.opening,
      closing: result.closing,
      heldLines: held,
      entryIds: result.entries.map((e) => e.entryId),
      payoutId: result.payout?.payoutId ?? null,
    });
    results.push(result);
    lines.push(...monthLines);
    entries.push(...result.entries);
    opening = result.closing;
  }
  return {
    results,
    states,
    lines,
    entries,
    ledger: {
      payableMinor: creditBalance(entries, '2100', WE8_PARTNER),
      heldMinor: creditBalance(entries, '2110', WE8_PARTNER),
    },
  };
}

/** The Q3 statement input for WE-8 (first in the partner's chain). */
export function we8StatementInput(
  world: We8World = we8World(),
  overrides: Partial<StatementInput> = {},
): StatementInput {
  return {
    partner: { partnerId: WE8_PARTNER, name: 'Northwind Partners Ltd', tier: 'Gold' },
    period: '2025-Q3',
    currency: 'USD',
    plan: WE8_PLAN,
    states: world.states,
    lines: world.lines,
    entries: world.entries,
    contracts: WE8_CONTRACTS,
    attributionShares: {
      'D-1': { num: 1n, den: 1n },
      'D-2': { num: 1n, den: 1n },
      'D-3': { num: 1n, den: 1n },
    },
    ledger: world.ledger,
    previous: null,
    issuedAt: '2025-10-16T08:00:00.000Z',
    ...overrides,
  };
}

/** D-2's invoice as known in October: disbursed on 2025-10-20. */
export const D2_INVOICES_DISBURSED: InvoiceFact[] = [
  { ...(D2_INVOICES[0] as InvoiceFact), disbursedOn: '2025-10-20' },
];

/** October after WE-8's Q3: D-2's invoice is disbursed, its 9,985.32 released to payable. */
export function we8October(world: We8World): {
  result: PartnerPeriodResult;
  state: StatementMonthState;
} {
  const september = world.states[2];
  if (!september) throw new Error('we8World has three months');
  const result = computePartnerPeriod({
    partnerId: WE8_PARTNER,
    tier: 'Gold',
    period: '2025-10',
    plan: WE8_PLAN,
    functionalCurrency: 'USD',
    source: { kind: 'run', id: 'commission:2025-10' },
    opening: september.closing,
    deals: [
      deal('2025-10', 'D-1', D1_RECOGNIZED, D1_INVOICES, 'agora-analytics'),
      deal('2025-10', 'D-2', [['2025-09', '95000.00']], D2_INVOICES_DISBURSED, 'agora-analytics'),
    ],
    heldLines: september.heldLines.map((h) => ({ ...h, invoices: D2_INVOICES_DISBURSED })),
  });
  const released = new Map(result.releases.map((r) => [r.lineId, r.cumulativeReleasedMinor]));
  return {
    result,
    state: {
      partnerId: WE8_PARTNER,
      period: '2025-10',
      planId: WE8_PLAN.planId,
      planVersion: WE8_PLAN.version,
      tier: 'Gold',
      opening: result.opening,
      closing: result.closing,
      heldLines: september.heldLines
        .map((h) => ({ ...h, releasedMinor: released.get(h.line.lineId) ?? h.releasedMinor }))
        .filter((h) => h.line.heldMinor - h.releasedMinor - h.clawedBackFromHeldMinor > 0n),
      entryIds: result.entries.map((e) => e.entryId),
      payoutId: result.payout?.payoutId ?? null,
    },
  };
}
