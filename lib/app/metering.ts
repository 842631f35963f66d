/**
 * Metering: usage in once, each sealed hour reported exactly once.
 *
 * In: `recordUsage` validates each record against its contract and the marketplace's rules and
 * writes it with its hour line in one transaction (the store's conditions make a retried or
 * racing record count once, and refuse sealed hours). One bad record never sinks the batch.
 *
 * Out: `flushUsage` claims each due hour BEFORE calling the marketplace (claim-after-write: the
 * line says `reporting`, attempt n, report id), sends, then records the answer. A crash between
 * the call and the record leaves the line `reporting`; after the claim lease the next flush
 * re-sends the SAME report (same id, same quantity), which the marketplace deduplicates (AWS on
 * customer + dimension + hour-start Timestamp, Azure on resource + dimension + hour, GCP on
 * operationId). So every hour reaches the marketplace once, whatever crashes. An accepted hour
 * becomes a UsageRecorded contract event (id derived from the report id), which the month-end
 * revenue run accrues.
 */
import type { ContractSnapshot } from '../domain/contract';
import { InvalidInputError } from '../domain/errors';
import {
  allowancePeriodStart,
  applyPatch,
  claimPatch,
  eventRecordedPatch,
  eventRetryPatch,
  FINAL_STATUSES,
  givenUpPatch,
  includedOf,
  isClaimable,
  type LinePatch,
  nearDeadline,
  newHourLine,
  outOfAttempts,
  REPORTED_STATUSES,
  type ReportQuantity,
  type ReportStatus,
  recentSealedHours,
  rejectedPatch,
  releasePatch,
  reportedPatch,
  reportQuantityOf,
  skipPatch,
  type UsageHourLine,
  unprocessedPatch,
  usageRecordedEvent,
  ZERO_FILL_LOOKBACK_HOURS,
} from '../domain/metering/ledger';
import {
  type AcceptedUsage,
  addHours,
  formatUnits,
  hourEndOf,
  hourOf,
  instantMs,
  isoOf,
  isSealedAt,
  type MeteringPolicy,
  meteredDimensionsOf,
  quantityUnitsOf,
  rejectionStatus,
  USAGE_BATCH_MAX,
  type UsageRecordInput,
  UsageRecordInputSchema,
  type UsageRejectionCode,
  usageContentHash,
  validateUsage,
} from '../domain/metering/usage';
import type { Marketplace } from '../domain/schemas/primitives';
import { MarketplaceUnavailableError, NotFoundError } from './errors';
import type {
  MeteringCustomer,
  MeteringGateway,
  MeteringOutcome,
  MeteringReport,
} from './metering-ports';
import type { Page, PageRequest } from './ports';
import { appendContractEvents, type SyncDeps } from './sync';

/** Hour lines one flush examines; the next hourly flush picks up the rest. */
export const FLUSH_LINES_MAX = 2_000;
/** Open lines of one contract a final flush reports (a contract has few open hours). */
export const FINAL_FLUSH_LINES_MAX = 500;
/** UsageRecorded events per contract commit (the contract store allows 40 per change). */
export const USAGE_EVENTS_PER_APPEND = 25;
/** Contracts one customer id may resolve among (refs and the buyer index). */
export const CUSTOMER_CONTRACTS_MAX = 100;
/** Active AWS contracts given zero lines per flush under the 'every-hour' policy. */
export const ZERO_FILL_CONTRACTS_MAX = 1_000;
/** Unreported lines the deadline alarm scans. */
export const ALARM_SCAN_MAX = 5_000;
/** GET /v1/usage range: a month of hours at most. */
export const USAGE_STATUS_RANGE_DAYS_MAX = 31;
/** GET /v1/usage without a range: the last day. */
export const USAGE_STATUS_DEFAULT_HOURS = 24;
const PAGE_SIZE = 100;
/** Line reads a flush keeps in flight. */
const LINE_READS_PARALLEL = 25;
const FAR_FUTURE = '9999-12-31T23:59:59.999Z';

/** Customer-like refs a customerId may match (besides the buyer account index). */
const CUSTOMER_REFS: readonly (readonly [Marketplace, string])[] = [
  ['aws', 'customerIdentifier'],
  ['azure', 'subscriptionId'],
  ['gcp', 'accountId'],
  ['gcp', 'usageReportingId'],
];

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/** One accepted record and the hour line it counts in (created by the first record). */
export interface UsageRecordWrite {
  readonly recordId: string;
  readonly usage: AcceptedUsage;
  readonly receivedAt: string;
  readonly by: string;
  /** The line as a first record creates it (key, report id, due time, deadline). */
  readonly line: UsageHourLine;
}

export type UsageWriteOutcome =
  | { readonly kind: 'accepted' }
  /** Same id, same content: already counted (where it was counted). */
  | { readonly kind: 'duplicate'; readonly hourStart: string }
  /** Same id, different content: refused. */
  | { readonly kind: 'conflict' }
  /** The hour line is sealed: nothing written. */
  | { readonly kind: 'sealed' };

export interface StoredUsageRecord {
  readonly contentHash: string;
  readonly hourStart: string;
}

/** What a claim consumes of an Azure included quantity, written with the claim. */
export interface AllowanceUse {
  readonly contractId: string;
  readonly dimension: string;
  readonly periodStart: string;
  readonly expectedConsumedUnits: bigint;
  readonly consumedUnits: bigint;
}

export interface LineExpectation {
  readonly status: ReportStatus;
  readonly attempts: number;
  /** Claims also pin the record count: a record that slipped in makes the claim fail. */
  readonly recordCount?: number;
  /** Event bookkeeping pins this, so a late retry-later never reopens a finished line. */
  readonly eventRecorded?: boolean;
}

export interface UsageStore {
  /**
   * Writes each record with its hour line, atomically per record: a record is counted exactly
   * once however often it is retried or raced. Ids must be distinct per (contract, record).
   * One outcome per write, in order.
   */
  write(writes: readonly UsageRecordWrite[]): Promise<UsageWriteOutcome[]>;
  record(contractId: string, recordId: string): Promise<StoredUsageRecord | null>;
  /** One line, strongly consistent. */
  line(contractId: string, dimension: string, hourStart: string): Promise<UsageHourLine | null>;
  /** A contract's lines with hourStart in [from, to), hour order. */
  lines(
    contractId: string,
    range: { from: string; to: string },
    page: PageRequest,
  ): Promise<Page<UsageHourLine>>;
  /** Unfinished lines (anything left to do) with dueAt ≤ upTo, earliest due first. */
  due(upTo: string, limit: number): Promise<UsageHourLine[]>;
  /** Unfinished lines of one contract (final flush). */
  open(contractId: string, limit: number): Promise<UsageHourLine[]>;
  /** Creates a line if it does not exist (zero hours); true when created. */
  ensureLine(line: UsageHourLine): Promise<boolean>;
  /** Applies a patch if the line is as expected (and the allowance too); false if it moved. */
  transition(
    line: UsageHourLine,
    expect: LineExpectation,
    patch: LinePatch,
    allowance?: AllowanceUse,
  ): Promise<boolean>;
  /** Consumed included quantity of an allowance period, in micro-units (0 when none). */
  allowanceConsumed(contractId: string, dimension: string, periodStart: string): Promise<bigint>;
}

export interface MeteringDeps extends SyncDeps {
  readonly usage: UsageStore;
  readonly meteringGateways: Readonly<Partial<Record<Marketplace, MeteringGateway>>>;
  readonly meteringSettings: MeteringPolicy;
}

// ---------------------------------------------------------------------------------------------
// Who is metered
// ---------------------------------------------------------------------------------------------

const AWS_ACCOUNT_PATTERN = /^\d{12}$/;

/** The marketplace's identity of the metered customer, from the contract's refs; null if none. */
export function meteringCustomer(snapshot: ContractSnapshot): MeteringCustomer | null {
  const { refs, terms } = snapshot;
  switch (snapshot.marketplace) {
    case 'aws': {
      const productCode = refs.productCode;
      const account = AWS_ACCOUNT_PATTERN.test(terms.buyer.accountId)
        ? terms.buyer.accountId
        : null;
      const licenseArn = refs.licenseArn ?? null;
      const customerIdentifier = refs.customerIdentifier ?? null;
      if (!productCode || (!(account && licenseArn) && !customerIdentifier)) return null;
      return {
        marketplace: 'aws',
        productCode,
        customerAwsAccountId: account,
        licenseArn,
        customerIdentifier,
      };
    }
    case 'azure': {
      const subscriptionId = refs.subscriptionId;
      if (!subscriptionId || !terms.plan) return null;
      return { marketplace: 'azure', subscriptionId, planId: terms.plan };
    }
    case 'gcp': {
      const providerId = refs.providerId;
      const usageReportingId = refs.usageReportingId;
      if (!providerId || providerId === 'unknown' || !usageReportingId) return null;
      return {
        marketplace: 'gcp',
        providerId,
        serviceName: refs.serviceName ?? terms.productId,
        usageReportingId,
      };
    }
  }
}

function meteringProblemOf(snapshot: ContractSnapshot): string | null {
  if (meteringCustomer(snapshot)) return null;
  switch (snapshot.marketplace) {
    case 'aws':
      return `Contract ${snapshot.contractId} has no AWS metering identity (product code with account + LicenseArn, or CustomerIdentifier)`;
    case 'azure':
      return `Contract ${snapshot.contractId} has no Azure subscription id or plan`;
    case 'gcp':
      return `Contract ${snapshot.contractId} has no usageReportingId: the entitlement is not metered`;
  }
}

// ---------------------------------------------------------------------------------------------
// Usage in
// ---------------------------------------------------------------------------------------------

export interface UsageRecordResult {
  readonly recordId: string;
  readonly status: 'accepted' | 'duplicate' | 'rejected';
  readonly code?: UsageRejectionCode;
  readonly message?: string;
  /** What the rejection would be on its own (404 unknown contract, 409 conflict, 422, 400). */
  readonly httpStatus?: number;
  readonly contractId?: string;
  /** The hour the record counts in. */
  readonly hourStart?: string;
}

function rejected(
  recordId: string,
  code: UsageRejectionCode,
  message: string,
  contractId?: string,
): UsageRecordResult {
  return {
    recordId,
    status: 'rejected',
    code,
    message,
    httpStatus: rejectionStatus(code),
    ...(contractId ? { contractId } : {}),
  };
}

type Resolution =
  | { readonly kind: 'contract'; readonly snapshot: ContractSnapshot }
  | { readonly kind: 'reject'; readonly code: UsageRejectionCode; readonly message: string };

/** Contract lookups cached for one request. */
class ContractResolver {
  private readonly byId = new Map<string, Promise<ContractSnapshot | null>>();
  private readonly byCustomer = new Map<string, Promise<Resolution>>();

  constructor(private readonly deps: MeteringDeps) {}

  get(contractId: string): Promise<ContractSnapshot | null> {
    let found = this.byId.get(contractId);
    if (!found) {
      found = this.deps.contracts.get(contractId);
      this.byId.set(contractId, found);
    }
    return found;
  }

  async resolve(record: UsageRecordInput): Promise<Resolution> {
    if (record.contractId !== undefined) {
      const snapshot = await this.get(record.contractId);
      return snapshot
        ? { kind: 'contract', snapshot }
        : {
            kind: 'reject',
            code: 'CONTRACT_NOT_FOUND',
            message: `No contract ${record.contractId}`,
          };
    }
    const customerId = record.customerId ?? '';
    let found = this.byCustomer.get(customerId);
    if (!found) {
      found = this.resolveCustomer(customerId);
      this.byCustomer.set(customerId, found);
    }
    return found;
  }

  /** A customer id is accepted only when it names exactly one active contract. */
  private async resolveCustomer(customerId: string): Promise<Resolution> {
    const ids = new Set<string>();
    for (const [marketplace, key] of CUSTOMER_REFS)
      for (const id of await this.deps.contracts.findByRef(marketplace, key, customerId))
        ids.add(id);
    let cursor: string | undefined;
    do {
      const page = await this.deps.contracts.list(
        { customer: customerId, status: 'active' },
        { limit: PAGE_SIZE, cursor },
      );
      for (const snapshot of page.items) ids.add(snapshot.contractId);
      cursor = page.cursor ?? undefined;
    } while (cursor && ids.size < CUSTOMER_CONTRACTS_MAX);
    const active: ContractSnapshot[] = [];
    for (const id of [...ids].slice(0, CUSTOMER_CONTRACTS_MAX)) {
      const snapshot = await this.get(id);
      if (snapshot?.status === 'active') active.push(snapshot);
    }
    const [only] = active;
    if (only && active.length === 1) return { kind: 'contract', snapshot: only };
    return active.length === 0
      ? {
          kind: 'reject',
          code: 'CUSTOMER_NOT_FOUND',
          message: `Customer ${customerId} has no active contract`,
        }
      : {
          kind: 'reject',
          code: 'CUSTOMER_AMBIGUOUS',
          message: `Customer ${customerId} has ${active.length} active contracts: give a contractId`,
        };
  }
}

/** The content hash a record would have, even when it failed validation (for retry answers). */
function contentHashOf(record: UsageRecordInput, contractId: string): string {
  const units = quantityUnitsOf(record.quantity);
  return usageContentHash({
    contractId,
    dimension: record.dimension,
    quantity: units === null ? record.quantity : formatUnits(units),
    usageTime: isoOf(instantMs(record.usageTime)),
  });
}

function issuesOf(error: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join('.') || 'record'}: ${issue.message}`)
    .join('; ');
}

/**
 * Records a batch of usage. Each record gets its own outcome: accepted, duplicate (same id and
 * content seen before: counted once), or rejected with a stable code.
 */
export async function recordUsage(
  deps: MeteringDeps,
  input: { readonly records: readonly unknown[]; readonly by: string },
): Promise<{ results: UsageRecordResult[] }> {
  if (input.records.length > USAGE_BATCH_MAX)
    throw new InvalidInputError(
      'batch_too_large',
      `At most ${USAGE_BATCH_MAX} records per request; got ${input.records.length}`,
    );
  const now = deps.clock.now();
  const policy = deps.meteringSettings;
  const resolver = new ContractResolver(deps);
  const results: UsageRecordResult[] = [];
  const writes: { index: number; write: UsageRecordWrite }[] = [];

  for (const [index, raw] of input.records.entries()) {
    const rawId = (raw as { recordId?: unknown } | null)?.recordId;
    const recordId = typeof rawId === 'string' ? rawId : '';
    const parsed = UsageRecordInputSchema.safeParse(raw);
    if (!parsed.success) {
      results[index] = rejected(recordId, 'INVALID_RECORD', issuesOf(parsed.error));
      continue;
    }
    const record = parsed.data;
    const resolution = await resolver.resolve(record);
    if (resolution.kind === 'reject') {
      results[index] = rejected(record.recordId, resolution.code, resolution.message);
      continue;
    }
    const snapshot = resolution.snapshot;
    const verdict = deps.meteringGateways[snapshot.marketplace]
      ? validateUsage(record, snapshot, {
          policy,
          now,
          meteringProblem: meteringProblemOf(snapshot),
        })
      : ({
          kind: 'reject',
          code: 'MARKETPLACE_NOT_METERED',
          message: `Metering is not configured for ${snapshot.marketplace}`,
        } as const);
    if (verdict.kind === 'reject') {
      // A retry of a record already counted is a duplicate, whatever has changed since.
      results[index] = await answerOfExisting(
        deps,
        record,
        snapshot.contractId,
        rejected(record.recordId, verdict.code, verdict.message, snapshot.contractId),
      );
      continue;
    }
    writes.push({ index, write: writeOf(record.recordId, verdict, now, input.by, policy) });
  }

  await writeInWaves(deps, writes, results, now);
  return { results };
}

async function answerOfExisting(
  deps: MeteringDeps,
  record: UsageRecordInput,
  contractId: string,
  otherwise: UsageRecordResult,
): Promise<UsageRecordResult> {
  const existing = await deps.usage.record(contractId, record.recordId);
  if (!existing) return otherwise;
  if (existing.contentHash === contentHashOf(record, contractId))
    return {
      recordId: record.recordId,
      status: 'duplicate',
      contractId,
      hourStart: existing.hourStart,
    };
  return rejected(
    record.recordId,
    'RECORD_CONFLICT',
    `Record ${record.recordId} was recorded before with different content`,
    contractId,
  );
}

function writeOf(
  recordId: string,
  usage: AcceptedUsage,
  now: string,
  by: string,
  policy: MeteringPolicy,
): UsageRecordWrite {
  return {
    recordId,
    usage,
    receivedAt: now,
    by,
    line: newHourLine(
      {
        contractId: usage.contractId,
        marketplace: usage.marketplace,
        dimension: usage.dimension,
        hourStart: usage.hourStart,
      },
      policy,
    ),
  };
}

/**
 * Writes in waves of distinct (contract, record id): a record repeated within one request is
 * answered by the store like any retry. A record refused because its hour was sealed meanwhile
 * is carried into the open hour when the policy says so (one more wave), else HOUR_SEALED.
 */
async function writeInWaves(
  deps: MeteringDeps,
  writes: { index: number; write: UsageRecordWrite }[],
  results: UsageRecordResult[],
  now: string,
): Promise<void> {
  const policy = deps.meteringSettings;
  let queue = writes;
  while (queue.length > 0) {
    const seen = new Set<string>();
    const wave: typeof queue = [];
    const later: typeof queue = [];
    for (const item of queue) {
      const key = `${item.write.usage.contractId}\u0000${item.write.recordId}`;
      (seen.has(key) ? later : wave).push(item);
      seen.add(key);
    }
    const outcomes = await deps.usage.write(wave.map((w) => w.write));
    for (const [i, { index, write }] of wave.entries()) {
      const outcome = outcomes[i] ?? { kind: 'sealed' };
      const { recordId, usage } = write;
      if (outcome.kind === 'accepted') {
        results[index] = {
          recordId,
          status: 'accepted',
          contractId: usage.contractId,
          hourStart: usage.hourStart,
        };
      } else if (outcome.kind === 'duplicate') {
        results[index] = {
          recordId,
          status: 'duplicate',
          contractId: usage.contractId,
          hourStart: outcome.hourStart,
        };
      } else if (outcome.kind === 'conflict') {
        results[index] = rejected(
          recordId,
          'RECORD_CONFLICT',
          `Record ${recordId} was recorded before with different content`,
          usage.contractId,
        );
      } else if (policy.lateRecords === 'carry' && usage.hourStart !== hourOf(now)) {
        const carried: AcceptedUsage = {
          ...usage,
          hourStart: hourOf(now),
          carriedFrom: usage.carriedFrom ?? usage.hourStart,
        };
        later.push({ index, write: writeOf(recordId, carried, now, write.by, policy) });
      } else {
        results[index] = rejected(
          recordId,
          'HOUR_SEALED',
          `The hour ${usage.hourStart} is sealed: it has been reported or is being reported`,
          usage.contractId,
        );
      }
    }
    queue = later;
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

export interface FlushSummary {
  examined: number;
  sent: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  unprocessed: number;
  skipped: number;
  late: number;
  /** Claims undone because the marketplace was unavailable. */
  released: number;
  eventsAppended: number;
  eventFailures: number;
  zeroLinesCreated: number;
  /** Marketplaces whose API failed as a whole in this flush (their hours stay pending). */
  unavailable: Marketplace[];
  /** The flush stopped at its line limit; the next one continues. */
  more: boolean;
}

function emptySummary(): FlushSummary {
  return {
    examined: 0,
    sent: 0,
    accepted: 0,
    duplicate: 0,
    rejected: 0,
    unprocessed: 0,
    skipped: 0,
    late: 0,
    released: 0,
    eventsAppended: 0,
    eventFailures: 0,
    zeroLinesCreated: 0,
    unavailable: [],
    more: false,
  };
}

interface ContractContext {
  readonly snapshot: ContractSnapshot | null;
  readonly customer: MeteringCustomer | null;
}

interface Claimable {
  readonly line: UsageHourLine;
  readonly context: ContractContext & { customer: MeteringCustomer; snapshot: ContractSnapshot };
}

export interface FlushInput {
  readonly now: string;
  /** Uniform in [0, 1): the retry jitter (injected so tests are deterministic). */
  readonly random?: () => number;
}

/**
 * The hourly flush: every due line — sealed hours, retries whose backoff has passed, claims
 * whose flush died (lease over), reported hours whose event is not yet on the contract.
 */
export async function flushUsage(deps: MeteringDeps, input: FlushInput): Promise<FlushSummary> {
  const summary = emptySummary();
  if (deps.meteringSettings.awsZeroHours === 'every-hour')
    summary.zeroLinesCreated = await fillZeroHours(deps, input.now);
  const due = await deps.usage.due(input.now, FLUSH_LINES_MAX);
  summary.more = due.length >= FLUSH_LINES_MAX;
  await reportLines(deps, due, input, false, summary);
  return summary;
}

/**
 * Seals and reports every unfinished hour of one contract now, the open hour included (on
 * cancellation or deprovisioning, inside the marketplace's grace period).
 */
export async function finalFlush(
  deps: MeteringDeps,
  contractId: string,
  now: string,
  random: () => number = Math.random,
): Promise<FlushSummary> {
  const summary = emptySummary();
  const open = await deps.usage.open(contractId, FINAL_FLUSH_LINES_MAX);
  summary.more = open.length >= FINAL_FLUSH_LINES_MAX;
  await reportLines(deps, open, { now, random }, true, summary);
  return summary;
}

async function reportLines(
  deps: MeteringDeps,
  candidates: readonly UsageHourLine[],
  input: FlushInput,
  force: boolean,
  summary: FlushSummary,
): Promise<void> {
  const { now } = input;
  const random = input.random ?? Math.random;
  const policy = deps.meteringSettings;
  const contexts = new Map<string, Promise<ContractContext>>();
  const contextOf = (contractId: string) => {
    let context = contexts.get(contractId);
    if (!context) {
      context = deps.contracts.get(contractId).then((snapshot) => ({
        snapshot,
        customer: snapshot ? meteringCustomer(snapshot) : null,
      }));
      contexts.set(contractId, context);
    }
    return context;
  };
  const toEvent: UsageHourLine[] = [];
  const groups = new Map<string, Claimable[]>();

  // The index is eventually consistent: decide on each line as it is now (read in parallel).
  const fresh: (UsageHourLine | null)[] = [];
  for (let start = 0; start < candidates.length; start += LINE_READS_PARALLEL) {
    const slice = candidates.slice(start, start + LINE_READS_PARALLEL);
    fresh.push(
      ...(await Promise.all(
        slice.map((c) => deps.usage.line(c.contractId, c.dimension, c.hourStart)),
      )),
    );
  }
  summary.examined = candidates.length;

  for (const line of fresh) {
    if (!line) continue;
    if (REPORTED_STATUSES.has(line.status) && !line.eventRecorded) {
      toEvent.push(line);
      continue;
    }
    if (FINAL_STATUSES.has(line.status)) {
      // Finished but still indexed (a crash between two updates): take it out of the index.
      if (line.dueAt !== null)
        await deps.usage.transition(line, expectOf(line), { dueAt: null, eventRecorded: true });
      continue;
    }
    if (!force && !isClaimable(line, now)) continue;
    const expect = { status: line.status, attempts: line.attempts };
    if (outOfAttempts(line, policy)) {
      if (await deps.usage.transition(line, expect, givenUpPatch(line, now))) summary.late += 1;
      continue;
    }
    const context = await contextOf(line.contractId);
    if (!context.snapshot || !context.customer) {
      const reason = context.snapshot
        ? (meteringProblemOf(context.snapshot) ?? 'not meterable')
        : `contract ${line.contractId} not found`;
      if (await deps.usage.transition(line, expect, rejectedPatch(reason, now)))
        summary.rejected += 1;
      continue;
    }
    if (!deps.meteringGateways[line.marketplace]) continue; // stays due; the alarm shows it
    const key = `${line.marketplace}\u0000${batchKeyOf(context.customer)}`;
    const group = groups.get(key) ?? [];
    group.push({ line, context: { snapshot: context.snapshot, customer: context.customer } });
    groups.set(key, group);
  }

  const unavailable = new Set<Marketplace>();
  for (const group of groups.values()) {
    const marketplace = group[0]?.line.marketplace;
    const gateway = marketplace ? deps.meteringGateways[marketplace] : undefined;
    if (!gateway || !marketplace) continue;
    const size = Math.max(1, gateway.batchSize);
    for (let start = 0; start < group.length; start += size) {
      if (unavailable.has(marketplace)) break;
      const chunk = group.slice(start, start + size);
      const sent = await sendChunk(deps, gateway, chunk, input, random, summary);
      if (sent === 'unavailable') unavailable.add(marketplace);
      else toEvent.push(...sent);
    }
  }
  summary.unavailable = [...unavailable];
  await appendEvents(deps, toEvent, now, random, summary);
}

/** The state a line was read in, event bookkeeping included. */
function expectOf(line: UsageHourLine): LineExpectation {
  return { status: line.status, attempts: line.attempts, eventRecorded: line.eventRecorded };
}

/** AWS takes one product per call, GCP one service: a batch never mixes them. */
function batchKeyOf(customer: MeteringCustomer): string {
  switch (customer.marketplace) {
    case 'aws':
      return customer.productCode;
    case 'gcp':
      return customer.serviceName;
    case 'azure':
      return 'azure';
  }
}

/** Claims, sends and records one batch. Returns the lines now reported (events to append). */
async function sendChunk(
  deps: MeteringDeps,
  gateway: MeteringGateway,
  chunk: readonly Claimable[],
  input: FlushInput,
  random: () => number,
  summary: FlushSummary,
): Promise<UsageHourLine[] | 'unavailable'> {
  const { now } = input;
  const policy = deps.meteringSettings;
  const claimed: { line: UsageHourLine; report: MeteringReport }[] = [];
  for (const { line, context } of chunk) {
    const { quantity, allowance } = await reportQuantityFor(deps, line, context.snapshot);
    const expect = { status: line.status, attempts: line.attempts, recordCount: line.recordCount };
    if (!quantity.send) {
      if (await deps.usage.transition(line, expect, skipPatch(now, quantity), allowance))
        summary.skipped += 1;
      continue;
    }
    // Claim-after-write: the claim is stored before the marketplace hears of the report.
    const patch = claimPatch(line, now, policy, quantity);
    if (!(await deps.usage.transition(line, expect, patch, allowance))) continue;
    const next = applyPatch(line, patch);
    claimed.push({
      line: next,
      report: {
        reportId: next.reportId,
        contractId: next.contractId,
        dimension: next.dimension,
        hourStart: next.hourStart,
        quantity: formatUnits(next.reportUnits ?? 0n),
        customer: context.customer,
      },
    });
  }
  if (claimed.length === 0) return [];

  let outcomes: MeteringOutcome[];
  try {
    outcomes = await gateway.report(claimed.map((c) => c.report));
  } catch (error) {
    if (!(error instanceof MarketplaceUnavailableError)) throw error;
    // Nothing was taken: undo the claims so the hours are pending again, attempts unspent.
    for (const { line } of claimed)
      if (await deps.usage.transition(line, line, releasePatch(line, now))) summary.released += 1;
    return 'unavailable';
  }
  summary.sent += claimed.length;
  const byId = new Map(outcomes.map((o) => [o.reportId, o]));
  const reported: UsageHourLine[] = [];
  for (const { line } of claimed) {
    const outcome: MeteringOutcome = byId.get(line.reportId) ?? {
      kind: 'unprocessed',
      reportId: line.reportId,
      reason: 'no answer for this report',
    };
    let patch: LinePatch;
    if (outcome.kind === 'accepted' || outcome.kind === 'duplicate') {
      patch = reportedPatch(outcome.kind, outcome.marketplaceRef, now);
    } else if (outcome.kind === 'rejected') {
      patch = rejectedPatch(outcome.reason, now);
    } else {
      patch = unprocessedPatch(line, outcome.reason, now, policy, random);
    }
    if (!(await deps.usage.transition(line, line, patch))) continue; // another flush took over
    summary[outcome.kind] += 1;
    if (outcome.kind === 'accepted' || outcome.kind === 'duplicate')
      reported.push(applyPatch(line, patch));
  }
  return reported;
}

/** What a line sends; on an Azure first claim, the included quantity it consumes. */
async function reportQuantityFor(
  deps: MeteringDeps,
  line: UsageHourLine,
  snapshot: ContractSnapshot,
): Promise<{ quantity: ReportQuantity; allowance?: AllowanceUse }> {
  if (line.reportUnits !== null) {
    // Claimed before: the same report again, never recomputed.
    return {
      quantity: { reportUnits: line.reportUnits, includedUnits: line.includedUnits, send: true },
    };
  }
  const included =
    line.marketplace === 'azure'
      ? includedOf(deps.meteringSettings, snapshot.terms.plan, line.dimension)
      : null;
  if (!included) return { quantity: reportQuantityOf(line.marketplace, line.receivedUnits, null) };
  const periodStart = allowancePeriodStart(snapshot.terms.term.start, line.hourStart, included.per);
  const consumed = await deps.usage.allowanceConsumed(line.contractId, line.dimension, periodStart);
  const quantity = reportQuantityOf(
    line.marketplace,
    line.receivedUnits,
    included.units - consumed,
  );
  if (quantity.includedUnits === 0n) return { quantity };
  return {
    quantity,
    allowance: {
      contractId: line.contractId,
      dimension: line.dimension,
      periodStart,
      expectedConsumedUnits: consumed,
      consumedUnits: consumed + quantity.includedUnits,
    },
  };
}

/**
 * Appends the UsageRecorded events of reported hours (per contract, in chunks), then marks the
 * lines. Appending is idempotent (event ids derive from report ids), so a crash between the two
 * only means the next flush appends nothing and marks.
 */
async function appendEvents(
  deps: MeteringDeps,
  lines: readonly UsageHourLine[],
  now: string,
  random: () => number,
  summary: FlushSummary,
): Promise<void> {
  const byContract = new Map<string, UsageHourLine[]>();
  for (const line of lines) {
    const list = byContract.get(line.contractId) ?? [];
    list.push(line);
    byContract.set(line.contractId, list);
  }
  for (const [contractId, contractLines] of byContract) {
    for (let start = 0; start < contractLines.length; start += USAGE_EVENTS_PER_APPEND) {
      const chunk = contractLines.slice(start, start + USAGE_EVENTS_PER_APPEND);
      // A zero hour bills nothing: no event (the line is still marked done).
      const events = chunk
        .filter((line) => (line.reportUnits ?? line.receivedUnits) > 0n)
        .map(usageRecordedEvent);
      try {
        if (events.length > 0) {
          const outcome = await appendContractEvents(deps, contractId, () => events);
          summary.eventsAppended += outcome.events.length;
        }
      } catch {
        // The contract moved too often or a hook refused: retry later, without re-sending.
        summary.eventFailures += 1;
        for (const line of chunk)
          await deps.usage.transition(
            line,
            expectOf(line),
            eventRetryPatch(line, now, deps.meteringSettings, random),
          );
        continue;
      }
      for (const line of chunk)
        await deps.usage.transition(line, expectOf(line), eventRecordedPatch());
    }
  }
}

/**
 * AWS 'every-hour': a 0 line for each of the last sealed hours of every active metered AWS
 * contract that has none (bounded: ZERO_FILL_CONTRACTS_MAX contracts, ZERO_FILL_LOOKBACK_HOURS).
 * Hours before the term's start day are skipped; within the first day the marketplace may answer
 * CustomerNotSubscribed for hours before the subscription, which the ledger then shows.
 */
async function fillZeroHours(deps: MeteringDeps, now: string): Promise<number> {
  const policy = deps.meteringSettings;
  const hours = recentSealedHours(now, policy, ZERO_FILL_LOOKBACK_HOURS);
  let created = 0;
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.contracts.list(
      { marketplace: 'aws', status: 'active' },
      { limit: PAGE_SIZE, cursor },
    );
    for (const snapshot of page.items) {
      seen += 1;
      if (!meteringCustomer(snapshot)) continue;
      for (const dimension of meteredDimensionsOf(snapshot, policy)) {
        for (const hourStart of hours) {
          const day = hourStart.slice(0, 10);
          const { term } = snapshot.terms;
          if (day < term.start || (term.end !== null && day >= term.end)) continue;
          const line = newHourLine(
            { contractId: snapshot.contractId, marketplace: 'aws', dimension, hourStart },
            policy,
          );
          if (await deps.usage.ensureLine(line)) created += 1;
        }
      }
    }
    cursor = page.cursor ?? undefined;
  } while (cursor && seen < ZERO_FILL_CONTRACTS_MAX);
  return created;
}

// ---------------------------------------------------------------------------------------------
// Reading the ledger
// ---------------------------------------------------------------------------------------------

export interface UsageLineView {
  readonly contractId: string;
  readonly marketplace: Marketplace;
  readonly dimension: string;
  readonly hourStart: string;
  readonly hourEnd: string;
  /** Exact decimal: the sum of the hour's distinct records. */
  readonly received: string;
  readonly recordCount: number;
  readonly sealed: boolean;
  readonly status: ReportStatus;
  readonly attempts: number;
  readonly reportId: string;
  /** What was sent (Azure: above the included quantity); null until the first send. */
  readonly reported: string | null;
  readonly included: string;
  readonly marketplaceRef: string | null;
  readonly reason: string | null;
  readonly reportedAt: string | null;
  readonly deadline: string;
  readonly eventRecorded: boolean;
}

export function lineView(line: UsageHourLine, now: string, policy: MeteringPolicy): UsageLineView {
  return {
    contractId: line.contractId,
    marketplace: line.marketplace,
    dimension: line.dimension,
    hourStart: line.hourStart,
    hourEnd: hourEndOf(line.hourStart),
    received: formatUnits(line.receivedUnits),
    recordCount: line.recordCount,
    // Writers are refused by the time rule before the flush sets the flag.
    sealed: line.sealed || isSealedAt(line.hourStart, now, policy),
    status: line.status,
    attempts: line.attempts,
    reportId: line.reportId,
    reported: line.reportUnits === null ? null : formatUnits(line.reportUnits),
    included: formatUnits(line.includedUnits),
    marketplaceRef: line.marketplaceRef,
    reason: line.reason,
    reportedAt: line.reportedAt,
    deadline: line.deadline,
    eventRecorded: line.eventRecorded,
  };
}

/**
 * A contract's ledger lines with hourStart in [from, to) (at most a month), hour order. Without
 * a range: the last USAGE_STATUS_DEFAULT_HOURS hours, the open hour included.
 */
export async function usageStatus(
  deps: MeteringDeps,
  query: { contractId: string; from?: string | undefined; to?: string | undefined } & PageRequest,
): Promise<Page<UsageLineView>> {
  const now = deps.clock.now();
  const to =
    query.to ??
    (query.from
      ? addHours(hourOf(query.from), USAGE_STATUS_DEFAULT_HOURS)
      : hourEndOf(hourOf(now)));
  const from = query.from ?? addHours(hourOf(to), -USAGE_STATUS_DEFAULT_HOURS);
  const span = instantMs(to) - instantMs(from);
  if (!(span > 0) || span > USAGE_STATUS_RANGE_DAYS_MAX * 86_400_000) {
    throw new InvalidInputError(
      'invalid_range',
      `from must be before to, at most ${USAGE_STATUS_RANGE_DAYS_MAX} days apart`,
    );
  }
  if (!(await deps.contracts.get(query.contractId)))
    throw new NotFoundError(`No contract ${query.contractId}`);
  const page = await deps.usage.lines(
    query.contractId,
    { from: hourOf(from), to: isoOf(instantMs(to)) },
    { limit: query.limit, cursor: query.cursor },
  );
  return {
    items: page.items.map((line) => lineView(line, now, deps.meteringSettings)),
    cursor: page.cursor,
  };
}

export interface DeadlineAlarm {
  readonly lines: UsageLineView[];
  /** Lines already past their deadline. */
  readonly overdue: number;
  /** The scan stopped at ALARM_SCAN_MAX. */
  readonly truncated: boolean;
}

/** Hours still unreported within `marginHours` of (or past) their marketplace's deadline. */
export async function deadlineAlarms(
  deps: MeteringDeps,
  now: string,
  marginHours: number,
): Promise<DeadlineAlarm> {
  const unfinished = await deps.usage.due(FAR_FUTURE, ALARM_SCAN_MAX);
  const near = unfinished.filter((line) => nearDeadline(line, now, marginHours));
  return {
    lines: near.map((line) => lineView(line, now, deps.meteringSettings)),
    overdue: near.filter((line) => instantMs(line.deadline) <= instantMs(now)).length,
    truncated: unfinished.length >= ALARM_SCAN_MAX,
  };
}
