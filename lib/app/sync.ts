/**
 * Sync and apply. A queued notification is re-read against the marketplace's source of truth
 * (through its adapter), diffed against the stored snapshot, and the difference — canonical
 * events — is applied with the snapshot in one transaction, together with whatever the apply
 * hooks attach (provisioning webhooks now; revenue and commission entries later).
 *
 * Failures are classified: "not ready" and transient marketplace or store errors are retried
 * with backoff and then dead-lettered with their reason; permanent ones are dead-lettered at
 * once. Nothing is dropped: the raw envelope stays stored and the DLQ entry names it.
 */

import type { ContractSnapshot } from '../domain/contract';
import { contractIdFor } from '../domain/contract';
import {
  diffContract,
  InvalidContractTransitionError,
  type SourceContract,
} from '../domain/contract-lifecycle';
import { AgoraError } from '../domain/errors';
import { type ContractEvent, contractEventId } from '../domain/events';
import type { JournalEntry } from '../domain/ledger';
import type { Marketplace } from '../domain/schemas/primitives';
import {
  ContractVersionConflictError,
  MarketplaceUnavailableError,
  NotFoundError,
  PermanentSyncError,
  SourceNotReadyError,
} from './errors';
import type {
  ChangeAttachments,
  Clock,
  ContractStore,
  MarketplaceAdapter,
  RawInboundStore,
  StoredRawEnvelope,
  SyncFailure,
  SyncFailureStore,
  SyncMessage,
  SyncTrigger,
} from './ports';

/** Deliveries of one sync message before it is dead-lettered (SQS maxReceiveCount). */
export const SYNC_ATTEMPTS_MAX = 5;
/** Re-tries of one contract apply that lost an optimistic-lock race. */
export const APPLY_CONFLICT_RETRIES_MAX = 3;
/** Commission entries one change carries, and ledger entries in all (room for the rest). */
export const COMMISSION_ENTRIES_PER_CHANGE_MAX = 10;
export const LEDGER_ENTRIES_PER_CHANGE_MAX = 40;
/** Contracts one notification may touch (a buyer's concurrent agreements). */
export const CONTRACTS_PER_TRIGGER_MAX = 50;

/** Adds records to an apply transaction. Later engines register their own. */
export interface ApplyHook {
  readonly name: string;
  contribute(change: AppliedChangeContext): Promise<Partial<ChangeAttachments>>;
}

export interface AppliedChangeContext {
  readonly previous: ContractSnapshot | null;
  readonly next: ContractSnapshot;
  readonly events: readonly ContractEvent[];
  readonly now: string;
  /**
   * 'service' for facts the service produces itself (invoices, disbursements, retries): a hook
   * that cannot account for them fails the change, so nothing is written and the caller retries.
   * Marketplace facts are recorded whatever a hook says (they must never be lost).
   */
  readonly origin?: 'marketplace' | 'service';
}

export interface SyncDeps {
  readonly rawInbound: RawInboundStore;
  readonly contracts: ContractStore;
  readonly failures: SyncFailureStore;
  readonly adapters: Readonly<Partial<Record<Marketplace, MarketplaceAdapter>>>;
  readonly hooks: readonly ApplyHook[];
  readonly clock: Clock;
  /**
   * Work after a change is committed, outside its transaction (e.g. the final usage flush of a
   * cancelled contract). A failure is reported, never fails the sync: scheduled jobs catch up.
   */
  readonly afterApply?: (outcome: ContractOutcome) => Promise<void>;
}

export interface ContractOutcome {
  readonly contractId: string;
  readonly events: readonly string[];
  readonly version: number | null;
  readonly rejected: string | null;
}

export type SyncOutcome =
  | {
      readonly status: 'done';
      readonly rawId: string;
      readonly note: string;
      readonly contracts: readonly ContractOutcome[];
    }
  | { readonly status: 'retry'; readonly rawId: string; readonly failure: SyncFailure }
  | { readonly status: 'dead-lettered'; readonly rawId: string; readonly failure: SyncFailure };

export function isRetryable(error: unknown): boolean {
  if (error instanceof PermanentSyncError) return false;
  if (error instanceof SourceNotReadyError || error instanceof MarketplaceUnavailableError)
    return true;
  if (error instanceof ContractVersionConflictError) return true;
  const code = error instanceof AgoraError ? error.code : '';
  return (
    code === 'store_contention' || code === 'store_unavailable' || !(error instanceof AgoraError)
  );
}

/** Processes one queued message; `attempt` is 1 for the first delivery. Never throws for failures it can classify. */
export async function processSyncMessage(
  deps: SyncDeps,
  message: SyncMessage,
  attempt: number,
): Promise<SyncOutcome> {
  try {
    const raw = await deps.rawInbound.get(message.rawId);
    if (!raw)
      throw new PermanentSyncError('raw_missing', `Raw envelope ${message.rawId} is not stored`);
    const result = await syncRaw(deps, raw);
    await deps.rawInbound.markProcessed(raw.rawId, result.note, deps.clock.now());
    if (attempt > 1) await deps.failures.resolve(raw.rawId, deps.clock.now());
    return { status: 'done', rawId: raw.rawId, note: result.note, contracts: result.contracts };
  } catch (error) {
    const permanent = !isRetryable(error);
    const failure = await deps.failures.record({
      rawId: message.rawId,
      marketplace: message.marketplace,
      groupKey: message.groupKey,
      attempt,
      attemptsMax: SYNC_ATTEMPTS_MAX,
      code: error instanceof AgoraError ? error.code : 'internal_error',
      reason: error instanceof Error ? error.message : String(error),
      permanent,
      at: deps.clock.now(),
    });
    if (failure.status !== 'dead-lettered')
      return { status: 'retry', rawId: message.rawId, failure };
    // Out of the pending index (recovery sweeps would retry it forever); the DLQ entry keeps it.
    if (failure.code !== 'raw_missing') {
      await deps.rawInbound.markProcessed(
        message.rawId,
        `dead-lettered: ${failure.code}`,
        deps.clock.now(),
      );
    }
    return { status: 'dead-lettered', rawId: message.rawId, failure };
  }
}

/** Re-reads and applies everything one raw envelope announced. Throws classified errors. */
export async function syncRaw(
  deps: SyncDeps,
  raw: StoredRawEnvelope,
): Promise<{ note: string; contracts: ContractOutcome[] }> {
  const adapter = deps.adapters[raw.marketplace];
  if (!adapter)
    throw new PermanentSyncError('no_adapter', `No adapter for marketplace ${raw.marketplace}`);
  const parsed = adapter.parse(raw);
  if (parsed.kind === 'invalid')
    throw new PermanentSyncError('invalid_notification', parsed.reason);
  if (parsed.kind === 'ignored') return { note: `ignored: ${parsed.reason}`, contracts: [] };
  const contracts: ContractOutcome[] = [];
  const notes: string[] = [];
  for (const trigger of parsed.triggers) {
    const read = await adapter.read(trigger as SyncTrigger, deps.contracts, raw);
    if (read.kind === 'not-ready')
      throw new SourceNotReadyError(`${trigger.description}: ${read.reason}`);
    if (read.kind === 'nothing') {
      notes.push(`${trigger.description}: ${read.reason}`);
      continue;
    }
    if (read.contracts.length > CONTRACTS_PER_TRIGGER_MAX) {
      throw new PermanentSyncError(
        'too_many_contracts',
        `${trigger.description} touches ${read.contracts.length} contracts`,
      );
    }
    for (const source of read.contracts) {
      const outcome = await applySource(deps, raw.marketplace, raw, source);
      contracts.push(outcome);
      if (deps.afterApply && outcome.events.length > 0) {
        await deps.afterApply(outcome).catch((error: unknown) => {
          notes.push(`after-apply work failed: ${(error as Error).message}`);
        });
      }
    }
    notes.push(`${trigger.description}: ${read.contracts.length} contract(s)`);
  }
  return { note: notes.join('; ') || 'no triggers', contracts };
}

/** Diff one source contract against its snapshot and commit the difference (bounded retries). */
export async function applySource(
  deps: SyncDeps,
  marketplace: Marketplace,
  raw: StoredRawEnvelope | null,
  given: SourceContract,
): Promise<ContractOutcome> {
  const contractId = contractIdFor(marketplace, given.externalId);
  const replacesContractId = given.replacesExternalId
    ? contractIdFor(marketplace, given.replacesExternalId)
    : null;
  const rawRef = raw
    ? { rawId: raw.rawId, marketplace: raw.marketplace, providerMessageId: raw.providerMessageId }
    : null;
  const rawLink = raw ? { rawId: raw.rawId, receivedAt: raw.receivedAt } : null;
  let source = given;
  for (let round = 0; round <= APPLY_CONFLICT_RETRIES_MAX; round += 1) {
    const previous = await deps.contracts.get(contractId);
    // A source made of the stored contract is made again of what is stored now: the snapshot
    // the adapter built it from may already be gone (another writer between that read and this
    // one, or a lost race). Rebuilt from the same snapshot it is the same source.
    source = previous && given.rebase ? given.rebase(previous) : given;
    const now = deps.clock.now();
    const factIds = source.facts.map((fact) =>
      contractEventId(contractId, fact.type, fact.sourceVersion),
    );
    const knownFactIds =
      factIds.length > 0
        ? await deps.contracts.knownEventIds(contractId, factIds)
        : new Set<string>();
    let diff: ReturnType<typeof diffContract>;
    try {
      diff = diffContract(previous, source, {
        contractId,
        marketplace,
        now,
        raw: rawRef,
        replacesContractId,
        knownFactIds,
      });
    } catch (error) {
      if (!(error instanceof InvalidContractTransitionError)) throw error;
      // Impossible transition: recorded against the change, the snapshot is left as it was.
      await deps.contracts.recordRejection({
        contractId,
        rawId: raw?.rawId ?? null,
        sourceVersion: `${source.status}:${error.eventType}`,
        eventTypes: [error.eventType],
        code: error.code,
        message: error.message,
        at: now,
      });
      return {
        contractId,
        events: [],
        version: previous?.version ?? null,
        rejected: error.message,
      };
    }
    if (!diff.next) {
      if (rawLink) await deps.contracts.linkRaw(contractId, rawLink);
      return { contractId, events: [], version: previous?.version ?? null, rejected: null };
    }
    const attachments = await collectAttachments(deps.hooks, {
      previous,
      next: diff.next,
      events: diff.events,
      now,
    });
    try {
      await deps.contracts.commit({
        contractId,
        expectedVersion: previous?.version ?? 0,
        next: diff.next,
        events: diff.events,
        rawLink,
        attachments,
      });
      return {
        contractId,
        events: diff.events.map((e) => e.type),
        version: diff.next.version,
        rejected: null,
      };
    } catch (error) {
      if (!(error instanceof ContractVersionConflictError) || round === APPLY_CONFLICT_RETRIES_MAX)
        throw error;
      // Someone else applied first: re-read and diff again; the result converges.
    }
  }
  throw new ContractVersionConflictError(`Contract ${contractId} kept moving`);
}

/**
 * Appends facts the service itself produces (an InvoiceIssued from the billing job) to a
 * contract: a new version with the same terms, committed with whatever the hooks attach.
 * Events already recorded are skipped, so a rerun appends nothing.
 */
export async function appendContractEvents(
  deps: SyncDeps,
  contractId: string,
  build: (snapshot: ContractSnapshot) => readonly ContractEvent[],
): Promise<ContractOutcome> {
  for (let round = 0; round <= APPLY_CONFLICT_RETRIES_MAX; round += 1) {
    const previous = await deps.contracts.get(contractId);
    if (!previous) throw new NotFoundError(`No contract ${contractId}`);
    const candidates = build(previous);
    const known = await deps.contracts.knownEventIds(
      contractId,
      candidates.map((e) => e.eventId),
    );
    const events = candidates.filter((e) => !known.has(e.eventId));
    if (events.length === 0)
      return { contractId, events: [], version: previous.version, rejected: null };
    const now = deps.clock.now();
    const next: ContractSnapshot = { ...previous, version: previous.version + 1, updatedAt: now };
    const attachments = await collectAttachments(deps.hooks, {
      previous,
      next,
      events,
      now,
      origin: 'service',
    });
    try {
      await deps.contracts.commit({
        contractId,
        expectedVersion: previous.version,
        next,
        events,
        rawLink: null,
        attachments,
      });
      const outcome: ContractOutcome = {
        contractId,
        events: events.map((e) => e.type),
        version: next.version,
        rejected: null,
      };
      // After-apply work (a disbursement releasing held commission) is best effort here too:
      // the month-end run is its backstop, so a failure never fails the append.
      await deps.afterApply?.(outcome).catch(() => undefined);
      return outcome;
    } catch (error) {
      if (!(error instanceof ContractVersionConflictError) || round === APPLY_CONFLICT_RETRIES_MAX)
        throw error;
    }
  }
  throw new ContractVersionConflictError(`Contract ${contractId} kept moving`);
}

async function collectAttachments(
  hooks: readonly ApplyHook[],
  context: AppliedChangeContext,
): Promise<ChangeAttachments> {
  const webhookDeliveries = [];
  let ledger: ChangeAttachments['ledger'] = null;
  let revenueIssue: ChangeAttachments['revenueIssue'] = null;
  const commissionEntries: JournalEntry[] = [];
  for (const hook of hooks) {
    const contribution = await hook.contribute(context);
    webhookDeliveries.push(...(contribution.webhookDeliveries ?? []));
    ledger = contribution.ledger ?? ledger;
    revenueIssue = contribution.revenueIssue ?? revenueIssue;
    commissionEntries.push(...(contribution.commissionEntries ?? []));
  }
  // Commission rides on the revenue posting (its period-lock check covers them too), unless it
  // would crowd DynamoDB's 100-action transaction: then the month-end run accrues it in full.
  if (
    ledger &&
    commissionEntries.length > 0 &&
    commissionEntries.length <= COMMISSION_ENTRIES_PER_CHANGE_MAX &&
    ledger.entries.length + commissionEntries.length <= LEDGER_ENTRIES_PER_CHANGE_MAX
  )
    ledger = { ...ledger, entries: [...ledger.entries, ...commissionEntries] };
  return { webhookDeliveries, ledger, revenueIssue };
}
