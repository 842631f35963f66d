/**
 * Engine benchmark (issue 16): contract events per second through the pipeline's in-process
 * work — sync diff (`applySource` → `diffContract`), revenue (the apply hook: schedule, book,
 * invoice postings), attribution (`attribute`) and commission (the billed-basis accrual hook) —
 * on one core, with in-memory ports (no I/O: what DynamoDB costs is the storage and end-to-end
 * benchmarks' business). Side by side: JSON.parse + zod validation (`ContractEventSchema`) of
 * the same events alone.
 *
 * Per contract (36-month term, 36 monthly installments of 10,000.00 USD): the first read creates
 * and activates it (2 events: schedule of 36 months), attribution runs over two partner touches,
 * then a read carrying the first installment's InvoiceIssued (1 event: invoice + fee postings,
 * commission accrued for the sourcing partner). 3 events per contract.
 *
 *   node --import tsx test/bench/engine.ts [--contracts 3000]
 */

import { commissionApplyHook } from '../../lib/app/commission-accrual-hook';
import type {
  ChangeAttachments,
  ContractChange,
  ContractStore,
  LedgerStore,
  StoredSchedule,
} from '../../lib/app/ports';
import { revenueApplyHook } from '../../lib/app/revenue/revenue-hook';
import { DEFAULT_REVENUE_SETTINGS } from '../../lib/app/revenue/settings';
import { type ApplyHook, applySource, type SyncDeps } from '../../lib/app/sync';
import { attribute } from '../../lib/domain/attribution/attribute';
import { DEFAULT_ATTRIBUTION_MODEL_RULE } from '../../lib/domain/attribution/models';
import { addMonths } from '../../lib/domain/calendar';
import { parseCommissionPlan } from '../../lib/domain/commission/plan';
import type { ContractSnapshot, ContractTerms } from '../../lib/domain/contract';
import type { SourceContract } from '../../lib/domain/contract-lifecycle';
import { type ContractEvent, ContractEventSchema } from '../../lib/domain/events';
import type { AttributionVersion } from '../../lib/domain/partners/attribution-version';
import type { PartnerRecord } from '../../lib/domain/partners/partner';
import type { ContractBook } from '../../lib/domain/revenue/book';
import { argument, type BenchResult, benchMain, fmt, median, table } from './common';

export const ENGINE_TARGET_EVENTS_PER_SECOND = 50_000;
const TERM_MONTHS = 36;
const START = '2026-01-01';
const INSTALLMENT_MINOR = 1_000_000n;
const PARTNER = 'P-100';

function termsOf(): ContractTerms {
  const installments = Array.from({ length: TERM_MONTHS }, (_, m) => ({
    date: addMonths(START, m),
    amountMinor: INSTALLMENT_MINOR,
  }));
  return {
    productId: 'prod-bench',
    offerId: 'offer-bench',
    offerType: 'private',
    plan: null,
    quantity: null,
    buyer: { accountId: '444455556666', name: null },
    currency: 'USD',
    term: { start: START, end: addMonths(START, TERM_MONTHS) },
    trialEnd: null,
    renewal: false,
    fixedCharges: [{ dimension: 'seats', amountMinor: INSTALLMENT_MINOR * BigInt(TERM_MONTHS) }],
    grants: [{ dimension: 'seats', quantity: '25' }],
    usageRates: [],
    installments,
    reseller: null,
  };
}

function sourceOf(i: number, terms: ContractTerms, invoice: boolean): SourceContract {
  const first = terms.installments[0];
  return {
    externalId: `agreement/agmt-bench-${i}`,
    status: 'active',
    statusReason: null,
    terms,
    refs: { agreement: `agmt-bench-${i}` },
    observedAt: '2026-01-01T10:00:00Z',
    activatedOn: START,
    endedOn: null,
    replacesExternalId: null,
    facts:
      invoice && first
        ? [
            {
              type: 'InvoiceIssued',
              sourceVersion: `inv-${i}-1`,
              occurredAt: '2026-01-01T12:00:00Z',
              effectiveAt: first.date,
              payload: {
                invoiceId: `inst-1-${first.date}`,
                currency: 'USD',
                amountMinor: first.amountMinor,
                servicePeriod: { start: START, end: addMonths(START, 1) },
              },
            },
          ]
        : [],
  };
}

/** The ports the engine touches, in memory (the same semantics as the stores: versions, ids). */
class Memory {
  readonly snapshots = new Map<string, ContractSnapshot>();
  readonly eventIds = new Map<string, Set<string>>();
  readonly books = new Map<string, ContractBook>();
  readonly schedules = new Map<string, StoredSchedule>();
  readonly attributions = new Map<string, AttributionVersion>();
  readonly events: ContractEvent[] = [];
  entries = 0;
  commissionEntries = 0;
  issues = 0;
  keepEvents = false;

  readonly contracts = {
    get: async (id: string) => this.snapshots.get(id) ?? null,
    knownEventIds: async (id: string, ids: readonly string[]) => {
      const known = this.eventIds.get(id);
      return new Set(ids.filter((e) => known?.has(e)));
    },
    linkRaw: async () => {},
    recordRejection: async () => {
      throw new Error('rejected');
    },
    commit: async (change: ContractChange) => {
      const current = this.snapshots.get(change.contractId);
      if ((current?.version ?? 0) !== change.expectedVersion) throw new Error('version moved');
      this.snapshots.set(change.contractId, change.next);
      const ids = this.eventIds.get(change.contractId) ?? new Set<string>();
      for (const e of change.events) ids.add(e.eventId);
      this.eventIds.set(change.contractId, ids);
      if (this.keepEvents) this.events.push(...change.events);
      this.attach(change.attachments);
    },
  } as unknown as ContractStore;

  readonly ledger = {
    book: async (id: string) => this.books.get(id) ?? null,
    latestSchedule: async (id: string) => this.schedules.get(id) ?? null,
  } as unknown as LedgerStore;

  private attach(attachments: ChangeAttachments): void {
    if (attachments.revenueIssue) this.issues += 1;
    const posting = attachments.ledger;
    if (!posting) return;
    this.books.set(posting.contractId, posting.book);
    if (posting.schedule) this.schedules.set(posting.contractId, posting.schedule);
    this.entries += posting.entries.length;
    this.commissionEntries += posting.entries.filter((e) => e.rule.includes('commission')).length;
  }
}

const PLAN = parseCommissionPlan({
  planId: 'partner-gold',
  version: 1,
  effectiveFrom: '2025-01-01',
  currency: 'USD',
  basis: 'billed',
  rateTable: [
    { tier: 'Gold', dealType: 'sourced', ratePercent: '10' },
    { tier: 'Gold', dealType: 'influenced', ratePercent: '5' },
  ],
  hold: { payWhen: 'disbursed' },
  payoutSchedule: 'monthly',
});
const PARTNER_RECORD = {
  partnerId: PARTNER,
  tierHistory: [{ tier: 'Gold', effectiveFrom: '2024-01-01' }],
} as unknown as PartnerRecord;

function world(): { memory: Memory; deps: SyncDeps } {
  const memory = new Memory();
  const hooks: ApplyHook[] = [
    revenueApplyHook(memory.ledger, DEFAULT_REVENUE_SETTINGS),
    commissionApplyHook({
      attribution: { latest: async (id: string) => memory.attributions.get(id) ?? null },
      partners: { get: async (id: string) => (id === PARTNER ? PARTNER_RECORD : null) },
      commissionPlans: { versions: async () => [PLAN] },
      commissionSettings: { planId: 'partner-gold' },
      revenue: DEFAULT_REVENUE_SETTINGS,
    }),
  ];
  const deps = {
    contracts: memory.contracts,
    hooks,
    clock: { now: () => '2026-01-02T00:00:00Z' },
  } as unknown as SyncDeps;
  return { memory, deps };
}

function attributeOne(memory: Memory, contractId: string): void {
  const outcome = attribute({
    touches: [
      {
        touchId: `t1-${contractId}`,
        partnerId: PARTNER,
        role: 'sourced',
        milestone: null,
        at: '2025-10-01T00:00:00Z',
        source: 'deal-registration',
        sourceRef: null,
      },
      {
        touchId: `t2-${contractId}`,
        partnerId: 'P-200',
        role: 'influenced',
        milestone: null,
        at: '2025-11-15T00:00:00Z',
        source: 'co-sell-referral',
        sourceRef: null,
      },
    ],
    rule: DEFAULT_ATTRIBUTION_MODEL_RULE,
    closeAt: '2026-01-01T10:00:00Z',
  });
  memory.attributions.set(contractId, {
    contractId,
    version: 1,
    shares: outcome.shares,
  } as unknown as AttributionVersion);
}

/** One contract's three events through the engine; returns the events applied. */
async function oneContract(
  deps: SyncDeps,
  memory: Memory,
  terms: ContractTerms,
  i: number,
): Promise<number> {
  const created = await applySource(deps, 'aws', null, sourceOf(i, terms, false));
  attributeOne(memory, created.contractId);
  const invoiced = await applySource(deps, 'aws', null, sourceOf(i, terms, true));
  return created.events.length + invoiced.events.length;
}

export async function benchEngine(contracts: number): Promise<BenchResult> {
  const terms = termsOf();
  // Warm-up (JIT), then the measured rounds, each on a fresh world.
  {
    const { memory, deps } = world();
    for (let i = 0; i < 300; i += 1) await oneContract(deps, memory, terms, i);
  }
  const rates: number[] = [];
  let check: Memory | null = null;
  let events = 0;
  for (let round = 0; round < 3; round += 1) {
    const { memory, deps } = world();
    let applied = 0;
    const started = performance.now();
    for (let i = 0; i < contracts; i += 1) applied += await oneContract(deps, memory, terms, i);
    const seconds = (performance.now() - started) / 1000;
    rates.push(applied / seconds);
    events = applied;
    check = memory;
  }
  if (check === null || check.issues > 0 || check.commissionEntries === 0) {
    throw new Error(`engine bench: revenue issues ${check?.issues}, no commission`);
  }
  const rate = median(rates);

  // The same events as JSON, parsed and validated alone.
  const { memory, deps } = world();
  memory.keepEvents = true;
  for (let i = 0; i < Math.min(contracts, 1_000); i += 1) await oneContract(deps, memory, terms, i);
  const texts = memory.events.map((e) => JSON.stringify(ContractEventSchema.encode(e)));
  const bytes = texts.reduce((sum, t) => sum + t.length, 0) / texts.length;
  const zodRates: number[] = [];
  const parseRates: number[] = [];
  for (let round = 0; round < 4; round += 1) {
    let started = performance.now();
    let n = 0;
    for (let k = 0; k < 10; k += 1)
      for (const text of texts) {
        ContractEventSchema.parse(JSON.parse(text));
        n += 1;
      }
    if (round > 0) zodRates.push(n / ((performance.now() - started) / 1000));
    started = performance.now();
    n = 0;
    for (let k = 0; k < 10; k += 1)
      for (const text of texts) {
        if (JSON.parse(text) === null) throw new Error('null');
        n += 1;
      }
    if (round > 0) parseRates.push(n / ((performance.now() - started) / 1000));
  }
  const zodRate = median(zodRates);
  const parseRate = median(parseRates);
  const met = rate >= ENGINE_TARGET_EVENTS_PER_SECOND;
  const perContractEntries = check.entries / contracts;
  const markdown = [
    `${fmt(contracts)} contracts × 3 events (ContractCreated + ContractActivated with a ${TERM_MONTHS}-month schedule, then InvoiceIssued with its fee and a billed-basis commission accrual), in-memory ports, one thread, median of 3 rounds after a warm-up. Bundled with esbuild and run with plain \`node\`.`,
    '',
    table(
      ['Measurement', 'Events/s', 'µs/event'],
      [
        [
          '**Engine**: sync diff + revenue + attribution + commission',
          fmt(rate),
          fmt(1e6 / rate, 1),
        ],
        [
          `JSON.parse + zod (\`ContractEventSchema.parse\`) of the same events (${fmt(bytes)} bytes each on average)`,
          fmt(zodRate),
          fmt(1e6 / zodRate, 1),
        ],
        ['JSON.parse alone', fmt(parseRate), fmt(1e6 / parseRate, 1)],
      ],
    ),
    '',
    `Journal entries per contract: ${perContractEntries.toFixed(1)} (commission entries in all: ${fmt(check.commissionEntries)}). The engine costs ${(zodRate / rate).toFixed(1)}× what validating the events alone costs.`,
  ].join('\n');
  return {
    name: 'engine',
    title: 'Engine: events per second in-process',
    markdown,
    targets: [
      {
        target: `Engine ≥ ${fmt(ENGINE_TARGET_EVENTS_PER_SECOND)} contract events/s on one core (36-month contract)`,
        measured: `${fmt(rate)} events/s (JSON + zod alone: ${fmt(zodRate)}/s)`,
        met,
        note: met
          ? undefined
          : "Gap (CPU profile of the bundled run before the last change, inclusive time): `diffContract` ≈ 45 % — it encoded the whole 36-installment terms with zod twice per apply (`termsEqual` and `sourceVersionOf`); it now encodes the read once (1,085 → 2,266 events/s here, part of that the machine being quieter: JSON + zod alone went 32,318 → 40,093/s), and still encodes the stored snapshot's terms once; the revenue hook ≈ 35 % — `startRevenue` builds the 36-month schedule through string calendar dates (`parseDateParts` regex per comparison, `dayNumber`, `periodEnd`); attribution ≈ 7 %; the rest zod and GC. Even validating the events alone with zod runs below 50,000/s for a 36-installment ContractCreated. Plan: compare terms structurally (or cache each snapshot's canonical form) instead of encode+JSON+hash twice per apply; compute schedules on integer day numbers; validate events once at the boundary, not in the engine.",
      },
    ],
    numbers: { eventsPerSecond: Math.round(rate), zodPerSecond: Math.round(zodRate), events },
  };
}

benchMain(import.meta.url, () => benchEngine(Number(argument('--contracts', '3000'))));
