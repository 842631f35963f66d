// In-memory fakes for the metering tests: a usage store and a contract store with the same
// conditional semantics as DynamoDB, and a fake marketplace that deduplicates like AWS (customer +
// dimension + hour) — each able to crash before or after doing its work.
import { ContractVersionConflictError, MarketplaceUnavailableError } from '../../../lib/app/errors';
import type {
  AllowanceUse,
  LineExpectation,
  MeteringDeps,
  StoredUsageRecord,
  UsageRecordWrite,
  UsageStore,
  UsageWriteOutcome,
} from '../../../lib/app/metering';
import type {
  MeteringGateway,
  MeteringOutcome,
  MeteringReport,
} from '../../../lib/app/metering-ports';
import type {
  ContractChange,
  ContractListFilter,
  ContractStore,
  Page,
  PageRequest,
  StoredContractEvent,
} from '../../../lib/app/ports';
import type { ContractSnapshot } from '../../../lib/domain/contract';
import type { LinePatch, UsageHourLine } from '../../../lib/domain/metering/ledger';
import { type MeteringPolicy, MeteringPolicySchema } from '../../../lib/domain/metering/usage';
import type { Marketplace } from '../../../lib/domain/schemas/primitives';

/** A simulated process death: never caught by the code under test as a marketplace failure. */
export class CrashError extends Error {
  constructor(point: string) {
    super(`crash at ${point}`);
  }
}

/** Decides where crashes happen (the property drives it from a seeded generator). */
export interface Faults {
  /** True: crash at this point now. */
  crash(point: string): boolean;
}

export const NO_FAULTS: Faults = { crash: () => false };

/** mulberry32: a small seeded PRNG, so a failing property replays exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Lets concurrent calls interleave, as real I/O would. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface StoredRecordRow {
  readonly contractId: string;
  readonly recordId: string;
  readonly dimension: string;
  readonly hourStart: string;
  readonly quantityUnits: bigint;
  readonly contentHash: string;
}

const lineKeyOf = (l: { contractId: string; hourStart: string; dimension: string }) =>
  `${l.contractId}\u0000${l.hourStart}\u0000${l.dimension}`;

export class InMemoryUsageStore implements UsageStore {
  readonly records = new Map<string, StoredRecordRow>();
  readonly lineMap = new Map<string, UsageHourLine>();
  readonly allowances = new Map<string, bigint>();

  constructor(public faults: Faults = NO_FAULTS) {}

  private crashIf(point: string): void {
    if (this.faults.crash(point)) throw new CrashError(point);
  }

  async write(writes: readonly UsageRecordWrite[]): Promise<UsageWriteOutcome[]> {
    const outcomes: UsageWriteOutcome[] = [];
    for (const write of writes) {
      await tick();
      // A crash between records: the earlier ones are committed (chunked transactions).
      this.crashIf('usage.write');
      const { usage } = write;
      const recordKey = `${usage.contractId}\u0000${write.recordId}`;
      const existing = this.records.get(recordKey);
      if (existing) {
        outcomes.push(
          existing.contentHash === usage.contentHash
            ? { kind: 'duplicate', hourStart: existing.hourStart }
            : { kind: 'conflict' },
        );
        continue;
      }
      const key = lineKeyOf(usage);
      const line = this.lineMap.get(key) ?? write.line;
      if (line.sealed) {
        outcomes.push({ kind: 'sealed' });
        continue;
      }
      this.records.set(recordKey, {
        contractId: usage.contractId,
        recordId: write.recordId,
        dimension: usage.dimension,
        hourStart: usage.hourStart,
        quantityUnits: usage.quantityUnits,
        contentHash: usage.contentHash,
      });
      this.lineMap.set(key, {
        ...line,
        receivedUnits: line.receivedUnits + usage.quantityUnits,
        recordCount: line.recordCount + 1,
      });
      outcomes.push({ kind: 'accepted' });
    }
    return outcomes;
  }

  async record(contractId: string, recordId: string): Promise<StoredUsageRecord | null> {
    await tick();
    const row = this.records.get(`${contractId}\u0000${recordId}`);
    return row ? { contentHash: row.contentHash, hourStart: row.hourStart } : null;
  }

  async line(contractId: string, dimension: string, hourStart: string) {
    await tick();
    return this.lineMap.get(lineKeyOf({ contractId, dimension, hourStart })) ?? null;
  }

  async lines(
    contractId: string,
    range: { from: string; to: string },
    page: PageRequest,
  ): Promise<Page<UsageHourLine>> {
    const all = [...this.lineMap.values()]
      .filter(
        (l) => l.contractId === contractId && l.hourStart >= range.from && l.hourStart < range.to,
      )
      .sort((a, b) => lineKeyOf(a).localeCompare(lineKeyOf(b)));
    const start = page.cursor ? Number(page.cursor) : 0;
    const items = all.slice(start, start + page.limit);
    return { items, cursor: start + page.limit < all.length ? String(start + page.limit) : null };
  }

  async due(upTo: string, limit: number): Promise<UsageHourLine[]> {
    await tick();
    return [...this.lineMap.values()]
      .filter((l) => l.dueAt !== null && l.dueAt <= upTo)
      .sort((a, b) => ((a.dueAt ?? '') < (b.dueAt ?? '') ? -1 : 1))
      .slice(0, limit);
  }

  async open(contractId: string, limit: number): Promise<UsageHourLine[]> {
    await tick();
    return [...this.lineMap.values()]
      .filter((l) => l.contractId === contractId && l.dueAt !== null)
      .slice(0, limit);
  }

  async ensureLine(line: UsageHourLine): Promise<boolean> {
    const key = lineKeyOf(line);
    if (this.lineMap.has(key)) return false;
    this.lineMap.set(key, line);
    return true;
  }

  async transition(
    line: UsageHourLine,
    expect: LineExpectation,
    patch: LinePatch,
    allowance?: AllowanceUse,
  ): Promise<boolean> {
    await tick();
    this.crashIf('usage.transition.before');
    const key = lineKeyOf(line);
    const current = this.lineMap.get(key);
    if (
      !current ||
      current.status !== expect.status ||
      current.attempts !== expect.attempts ||
      (expect.recordCount !== undefined && current.recordCount !== expect.recordCount) ||
      (expect.eventRecorded !== undefined && current.eventRecorded !== expect.eventRecorded)
    )
      return false;
    if (allowance) {
      const allowanceKey = `${allowance.contractId}\u0000${allowance.dimension}\u0000${allowance.periodStart}`;
      if ((this.allowances.get(allowanceKey) ?? 0n) !== allowance.expectedConsumedUnits)
        return false;
      this.allowances.set(allowanceKey, allowance.consumedUnits);
    }
    const next: UsageHourLine = { ...current };
    for (const [name, value] of Object.entries(patch))
      if (value !== undefined) Object.assign(next, { [name]: value });
    this.lineMap.set(key, next);
    this.crashIf('usage.transition.after');
    return true;
  }

  async allowanceConsumed(contractId: string, dimension: string, periodStart: string) {
    return this.allowances.get(`${contractId}\u0000${dimension}\u0000${periodStart}`) ?? 0n;
  }

  allLines(): UsageHourLine[] {
    return [...this.lineMap.values()];
  }
}

export class InMemoryContractStore implements ContractStore {
  readonly snapshots = new Map<string, ContractSnapshot>();
  readonly eventLog = new Map<string, StoredContractEvent[]>();
  commits = 0;

  constructor(
    contracts: readonly ContractSnapshot[],
    public faults: Faults = NO_FAULTS,
  ) {
    for (const snapshot of contracts) this.snapshots.set(snapshot.contractId, snapshot);
  }

  async get(contractId: string) {
    await tick();
    return this.snapshots.get(contractId) ?? null;
  }

  async findByRef(marketplace: Marketplace, key: string, value: string): Promise<string[]> {
    return [...this.snapshots.values()]
      .filter((s) => s.marketplace === marketplace && s.refs[key] === value)
      .map((s) => s.contractId);
  }

  async knownEventIds(contractId: string, eventIds: readonly string[]) {
    const known = new Set((this.eventLog.get(contractId) ?? []).map((e) => e.event.eventId));
    return new Set(eventIds.filter((id) => known.has(id)));
  }

  async commit(change: ContractChange): Promise<void> {
    await tick();
    if (this.faults.crash('contracts.commit.before')) throw new CrashError('contracts.commit');
    const current = this.snapshots.get(change.contractId);
    if ((current?.version ?? 0) !== change.expectedVersion)
      throw new ContractVersionConflictError(`moved past ${change.expectedVersion}`);
    const log = this.eventLog.get(change.contractId) ?? [];
    const known = new Set(log.map((e) => e.event.eventId));
    for (const event of change.events) {
      if (known.has(event.eventId)) throw new Error(`event ${event.eventId} written twice`);
      log.push({ event, version: change.next.version, recordedAt: change.next.updatedAt });
    }
    this.eventLog.set(change.contractId, log);
    this.snapshots.set(change.contractId, change.next);
    this.commits += 1;
    if (this.faults.crash('contracts.commit.after')) throw new CrashError('contracts.commit');
  }

  async linkRaw(): Promise<void> {}
  async recordRejection(): Promise<void> {}

  async list(filter: ContractListFilter, page: PageRequest): Promise<Page<ContractSnapshot>> {
    const all = [...this.snapshots.values()].filter(
      (s) =>
        (!filter.marketplace || s.marketplace === filter.marketplace) &&
        (!filter.status || s.status === filter.status) &&
        (!filter.customer || s.terms.buyer.accountId === filter.customer),
    );
    const start = page.cursor ? Number(page.cursor) : 0;
    return {
      items: all.slice(start, start + page.limit),
      cursor: start + page.limit < all.length ? String(start + page.limit) : null,
    };
  }

  async events(contractId: string, page: PageRequest): Promise<Page<StoredContractEvent>> {
    const all = this.eventLog.get(contractId) ?? [];
    const start = page.cursor ? Number(page.cursor) : 0;
    return {
      items: all.slice(start, start + page.limit),
      cursor: start + page.limit < all.length ? String(start + page.limit) : null,
    };
  }

  async rawLinks() {
    return { items: [], cursor: null };
  }

  async rejections() {
    return { items: [], cursor: null };
  }
}

/** What a fake marketplace holds per (customer, dimension, hour): the first quantity sent. */
export class FakeMarketplace {
  readonly entries = new Map<string, { quantity: string; reportId: string }>();
  /** A second, different quantity for the same key (AWS would answer DuplicateRecord). */
  readonly conflicts: string[] = [];
  readonly calls: MeteringReport[][] = [];

  keyOf(report: MeteringReport): string {
    const c = report.customer;
    const who =
      c.marketplace === 'aws'
        ? `${c.productCode}/${c.customerAwsAccountId ?? ''}/${c.licenseArn ?? ''}/${c.customerIdentifier ?? ''}`
        : c.marketplace === 'azure'
          ? c.subscriptionId
          : `${c.serviceName}/${c.usageReportingId}`;
    return `${c.marketplace}|${who}|${report.dimension}|${report.hourStart}`;
  }
}

export type CallMode = 'ok' | 'throttle' | 'crash-before' | 'crash-after';
export type ReportAnswer = 'apply' | 'unprocessed' | 'reject' | 'duplicate-answer';

export class FakeGateway implements MeteringGateway {
  constructor(
    readonly marketplace: Marketplace,
    readonly market: FakeMarketplace,
    readonly batchSize = 25,
    public mode: () => CallMode = () => 'ok',
    public answer: (report: MeteringReport) => ReportAnswer = () => 'apply',
  ) {}

  async report(batch: readonly MeteringReport[]): Promise<MeteringOutcome[]> {
    await tick();
    if (batch.length > this.batchSize) throw new Error(`batch of ${batch.length}`);
    const mode = this.mode();
    if (mode === 'throttle') throw new MarketplaceUnavailableError('throttled');
    if (mode === 'crash-before') throw new CrashError('gateway.before');
    this.market.calls.push([...batch]);
    const outcomes = batch.map((report): MeteringOutcome => {
      const answer = this.answer(report);
      if (answer === 'unprocessed')
        return { kind: 'unprocessed', reportId: report.reportId, reason: 'throttled part' };
      if (answer === 'reject')
        return { kind: 'rejected', reportId: report.reportId, reason: 'CustomerNotSubscribed' };
      const key = this.market.keyOf(report);
      const existing = this.market.entries.get(key);
      if (!existing) {
        this.market.entries.set(key, { quantity: report.quantity, reportId: report.reportId });
        return answer === 'duplicate-answer'
          ? { kind: 'duplicate', reportId: report.reportId, marketplaceRef: null }
          : { kind: 'accepted', reportId: report.reportId, marketplaceRef: `m-${key}` };
      }
      if (existing.quantity !== report.quantity) this.market.conflicts.push(key);
      // AWS answers an identical replay Success; Azure answers Duplicate: both count.
      return answer === 'duplicate-answer'
        ? { kind: 'duplicate', reportId: report.reportId, marketplaceRef: null }
        : { kind: 'accepted', reportId: report.reportId, marketplaceRef: `m-${key}` };
    });
    if (mode === 'crash-after') throw new CrashError('gateway.after');
    return outcomes;
  }
}

// ---------------------------------------------------------------------------------------------
// Contracts and deps
// ---------------------------------------------------------------------------------------------

const baseTerms: ContractSnapshot['terms'] = {
  productId: 'prod-1',
  offerId: null,
  offerType: 'public',
  plan: null,
  quantity: null,
  buyer: { accountId: '111122223333', name: null },
  currency: 'USD',
  term: { start: '2026-01-01', end: null },
  trialEnd: null,
  renewal: false,
  fixedCharges: [],
  grants: [],
  usageRates: [],
  installments: [],
  reseller: null,
};

export function contract(
  contractId: string,
  marketplace: Marketplace,
  overrides: {
    terms?: Partial<ContractSnapshot['terms']>;
    refs?: Record<string, string>;
    status?: ContractSnapshot['status'];
  } = {},
): ContractSnapshot {
  const refs =
    overrides.refs ??
    (marketplace === 'aws'
      ? {
          productCode: 'prodcode1',
          licenseArn: `arn:aws:license-manager::aws:license:l-${contractId}`,
          agreementId: `agmt-${contractId}`,
        }
      : marketplace === 'azure'
        ? { subscriptionId: `sub-${contractId}`, offerId: 'offer-1' }
        : {
            providerId: 'prov-1',
            entitlementId: `ent-${contractId}`,
            usageReportingId: `urid-${contractId}`,
          });
  return {
    schemaVersion: 1,
    contractId,
    marketplace,
    externalId: `ext-${contractId}`,
    version: 1,
    status: overrides.status ?? 'active',
    statusReason: null,
    sourceVersion: 'v1',
    updatedAt: '2026-01-01T00:00:00.000Z',
    terms: {
      ...baseTerms,
      ...(marketplace === 'azure' ? { plan: 'pro' } : {}),
      ...(marketplace === 'aws'
        ? {
            usageRates: [
              { dimension: 'api', unitPrice: '0.01' },
              { dimension: 'gb', unitPrice: '0.5' },
            ],
          }
        : {}),
      ...(marketplace === 'gcp' ? { usageRates: [{ dimension: 'api', unitPrice: '0.02' }] } : {}),
      ...overrides.terms,
    },
    replacesContractId: null,
    replacedByContractId: null,
    attributionVersion: null,
    refs,
  };
}

/** Azure contracts carry no usage rates: their plan's metered dimensions are configuration. */
export const TEST_POLICY: MeteringPolicy = MeteringPolicySchema.parse({
  planDimensions: [{ marketplace: 'azure', plan: 'pro', dimensions: ['emails'] }],
});

export class TestClock {
  constructor(public current: string) {}
  now = () => this.current;
  advanceMinutes(minutes: number): void {
    this.current = new Date(Date.parse(this.current) + minutes * 60_000).toISOString();
  }
}

export function meteringDeps(input: {
  contracts: InMemoryContractStore;
  usage: UsageStore;
  gateways: Partial<Record<Marketplace, MeteringGateway>>;
  clock: TestClock;
  policy?: MeteringPolicy;
}): MeteringDeps {
  const unused = () => {
    throw new Error('not used by metering');
  };
  return {
    usage: input.usage,
    contracts: input.contracts,
    meteringGateways: input.gateways,
    meteringSettings: input.policy ?? TEST_POLICY,
    clock: { now: input.clock.now },
    hooks: [],
    adapters: {},
    rawInbound: {
      save: unused,
      get: unused,
      listByDay: unused,
      markProcessed: unused,
      listPending: unused,
    },
    failures: {
      record: unused,
      resolve: unused,
      get: unused,
      listDeadLettered: unused,
      markRedriven: unused,
    },
  };
}
