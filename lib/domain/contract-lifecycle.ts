/**
 * The contract state machine and the diff that turns a fresh read of the marketplace's source
 * of truth into canonical events. Pure: time and the raw reference are arguments.
 *
 *   (none) ─Created→ pending ─Activated→ active ─Suspended→ suspended ─Reinstated→ active
 *   pending|active|suspended ─Cancelled→ cancelled      pending|active|suspended ─Expired→ expired
 *   Amended/Renewed keep the status; money facts (invoice, usage, refund, disbursement) need a
 *   contract and do not move it. Anything else is an impossible transition: a typed error.
 */
import type { z } from 'zod';
import { calendarDate, dateOfInstant } from './calendar';
import {
  type ContractSnapshot,
  type ContractStatus,
  type ContractTerms,
  ContractTermsSchema,
} from './contract';
import { AgoraError } from './errors';
import {
  type ContractEvent,
  type ContractEventType,
  contractEventId,
  type RawReferenceSchema,
} from './events';
import { canonicalJson, sha256Hex } from './ids';
import type { Marketplace } from './schemas/primitives';

export class InvalidContractTransitionError extends AgoraError {
  readonly code = 'invalid_transition';
  constructor(
    readonly from: ContractStatus | null,
    readonly eventType: ContractEventType,
  ) {
    super(`A ${eventType} cannot apply to a contract that is ${from ?? 'not yet created'}`);
  }
}

const LIVE: readonly ContractStatus[] = ['pending', 'active', 'suspended'];

/** The status after `type`, or an InvalidContractTransitionError. */
export function nextStatus(from: ContractStatus | null, type: ContractEventType): ContractStatus {
  const fail = () => {
    throw new InvalidContractTransitionError(from, type);
  };
  if (from === null) return type === 'ContractCreated' ? 'pending' : fail();
  switch (type) {
    case 'ContractCreated':
      return fail();
    case 'ContractActivated':
      return from === 'pending' ? 'active' : fail();
    case 'ContractSuspended':
      return from === 'active' ? 'suspended' : fail();
    case 'ContractReinstated':
      return from === 'suspended' ? 'active' : fail();
    case 'ContractCancelled':
      return LIVE.includes(from) ? 'cancelled' : fail();
    case 'ContractExpired':
      return LIVE.includes(from) ? 'expired' : fail();
    case 'ContractAmended':
    case 'ContractRenewed':
      return LIVE.includes(from) ? from : fail();
    case 'InvoiceIssued':
    case 'UsageRecorded':
    case 'RefundIssued':
    case 'DisbursementReceived':
      return from;
  }
}

/** What a marketplace says a contract is right now (built by each marketplace adapter). */
export interface SourceContract {
  readonly externalId: string;
  readonly status: ContractStatus;
  readonly statusReason: string | null;
  readonly terms: ContractTerms;
  readonly refs: Readonly<Record<string, string>>;
  /** When the marketplace last changed it (its own timestamp, else when we read it). */
  readonly observedAt: string;
  /** Date it became active, and date it ended, when the marketplace says. */
  readonly activatedOn: string | null;
  readonly endedOn: string | null;
  /** The external id of the contract this one replaces or renews, if any. */
  readonly replacesExternalId: string | null;
  /** When a change of terms takes effect, if the marketplace says (GCP newOfferStartTime). */
  readonly changeEffectiveOn?: string | null;
  /** Refs that no longer apply (a plan change no longer pending): removed from the snapshot. */
  readonly dropRefs?: readonly string[];
  /** Money facts the marketplace reported (e.g. an AWS billing adjustment → RefundIssued). */
  readonly facts: readonly SourceFact[];
  /**
   * For a source built from the stored contract rather than read from the marketplace (a
   * refund on an agreement, an unsubscribe, a deleted entitlement): the same source built from
   * another snapshot. A sync that lost a race re-reads the snapshot and rebuilds the source
   * with this, so it never writes back the terms or status the winner replaced. A changed copy
   * of a source must change its rebuilds the same way (`changedSource`), or they lose the change.
   */
  readonly rebase?: (snapshot: ContractSnapshot) => SourceContract;
}

/**
 * A changed copy of a source (`change` of its fields) whose rebuilds (rebase) get the same
 * change: a plain spread would keep the original's rebase and lose the change on a retry.
 */
export function changedSource(
  source: SourceContract,
  change: (source: SourceContract) => Partial<SourceContract>,
): SourceContract {
  const rebase = source.rebase;
  return {
    ...source,
    ...change(source),
    ...(rebase
      ? { rebase: (snapshot: ContractSnapshot) => changedSource(rebase(snapshot), change) }
      : {}),
  };
}

/** The source with more refs; its rebuilds get them too. */
export function withRefs(
  source: SourceContract,
  refs: Readonly<Record<string, string>>,
): SourceContract {
  return changedSource(source, (s) => ({ refs: { ...s.refs, ...refs } }));
}

export interface SourceFact {
  readonly type: 'InvoiceIssued' | 'UsageRecorded' | 'RefundIssued' | 'DisbursementReceived';
  /** The marketplace's id of the fact: the event id input, so a fact is recorded once. */
  readonly sourceVersion: string;
  readonly occurredAt: string;
  readonly effectiveAt: string;
  readonly payload: Extract<ContractEvent, { type: SourceFact['type'] }>['payload'];
}

export interface DiffContext {
  readonly contractId: string;
  readonly marketplace: Marketplace;
  readonly now: string;
  readonly raw: z.infer<typeof RawReferenceSchema> | null;
  readonly replacesContractId: string | null;
  /** Ids of fact events already recorded for this contract (a fact is recorded once). */
  readonly knownFactIds: ReadonlySet<string>;
}

export interface ContractDiff {
  /** Events in the order they apply. Empty when nothing changed. */
  readonly events: ContractEvent[];
  /** The snapshot after the events (null when nothing at all changed, refs included). */
  readonly next: ContractSnapshot | null;
}

const FACT_TYPES: ReadonlySet<ContractEventType> = new Set([
  'InvoiceIssued',
  'UsageRecorded',
  'RefundIssued',
  'DisbursementReceived',
]);

/** A short, deterministic version marker of a source state. */
export function sourceVersionOf(source: SourceContract): string {
  return versionOf(source.status, canonicalTerms(source.terms));
}

function canonicalTerms(terms: ContractTerms): string {
  return canonicalJson(ContractTermsSchema.encode(terms));
}

function versionOf(status: ContractStatus, termsJson: string): string {
  // Same text as canonicalJson({ status, terms }) (keys sorted: status before terms).
  return sha256Hex(`{"status":${JSON.stringify(status)},"terms":${termsJson}}`).slice(0, 20);
}

/** Status events that lead from one status to another (the shortest legal path). */
function statusPath(
  from: ContractStatus,
  to: ContractStatus,
  everActive: boolean,
): ContractEventType[] {
  if (from === to) return [];
  switch (to) {
    case 'active':
      return from === 'suspended' ? ['ContractReinstated'] : ['ContractActivated'];
    case 'suspended':
      return from === 'pending'
        ? ['ContractActivated', 'ContractSuspended']
        : ['ContractSuspended'];
    case 'cancelled':
      return from === 'pending' && everActive
        ? ['ContractActivated', 'ContractCancelled']
        : ['ContractCancelled'];
    case 'expired':
      return from === 'pending' && everActive
        ? ['ContractActivated', 'ContractExpired']
        : ['ContractExpired'];
    case 'pending':
      // Going back to pending is never legal; emitting Created would be rejected below.
      return ['ContractCreated'];
  }
}

/**
 * Compare the stored snapshot with a fresh read and return the events that bring the store in
 * line, with ids hash(contractId, type, chain of source versions). Throws InvalidContractTransitionError
 * when the read would move the contract somewhere it cannot go (the caller records it).
 */
export function diffContract(
  snapshot: ContractSnapshot | null,
  source: SourceContract,
  context: DiffContext,
): ContractDiff {
  // The terms are encoded once per diff: version and comparison share it (the engine's hot path).
  const sourceTerms = canonicalTerms(source.terms);
  const version = versionOf(source.status, sourceTerms);
  // Event ids key on the chain of states the contract went through, not the state alone: a
  // contract may return to an earlier state (plan A→B→A, a second suspension), which is a new
  // change, not a redelivery. The chain moves only with state changes (never with refs learned
  // later), so any delivery order that passes through the same states gives the same ids, and
  // a redelivery diffs against the same snapshot: the same ids, or none.
  const eventVersion =
    snapshot === null ? version : sha256Hex(`${snapshot.sourceVersion}>${version}`).slice(0, 20);
  const occurredAt = source.observedAt;
  const observedDate = dateOfInstant(occurredAt);
  const base = {
    schemaVersion: 1 as const,
    contractId: context.contractId,
    marketplace: context.marketplace,
    occurredAt,
    sourceVersion: version,
    raw: context.raw,
  };
  let settledTerms: ContractSnapshot['terms'] | null = null;
  const statusEvent = (type: ContractEventType): ContractEvent => {
    const effectiveAt =
      type === 'ContractActivated'
        ? (source.activatedOn ?? observedDate)
        : type === 'ContractCancelled' || type === 'ContractExpired'
          ? (source.endedOn ?? observedDate)
          : observedDate;
    return {
      ...base,
      eventId: contractEventId(context.contractId, type, eventVersion),
      type,
      effectiveAt: calendarDate(effectiveAt),
      payload:
        type === 'ContractActivated'
          ? { reason: source.statusReason, terms: settledTerms }
          : { reason: source.statusReason },
    } as ContractEvent;
  };

  const events: ContractEvent[] = [];
  if (snapshot === null) {
    events.push({
      ...base,
      eventId: contractEventId(context.contractId, 'ContractCreated', eventVersion),
      type: 'ContractCreated',
      effectiveAt: source.terms.term.start,
      payload: { terms: source.terms },
    });
    for (const type of statusPath('pending', source.status, source.activatedOn !== null))
      events.push(statusEvent(type));
  } else {
    // A contract still pending that ends is activated first only if the source says it ran.
    const everActive = snapshot.status !== 'pending' || source.activatedOn !== null;
    const path = statusPath(snapshot.status, source.status, everActive);
    // Terms settled while a contract is activated (never yet active) are its starting terms,
    // carried by ContractActivated — not an amendment of a running contract.
    const activating = snapshot.status === 'pending' && path.includes('ContractActivated');
    const termsChanged = canonicalTerms(snapshot.terms) !== sourceTerms;
    if (activating && termsChanged) settledTerms = source.terms;
    else if (termsChanged) {
      const oldEnd = snapshot.terms.term.end;
      const renewed = oldEnd !== null && source.terms.term.start >= oldEnd;
      events.push(
        renewed
          ? {
              ...base,
              eventId: contractEventId(context.contractId, 'ContractRenewed', eventVersion),
              type: 'ContractRenewed',
              effectiveAt: source.terms.term.start,
              payload: { terms: source.terms, renewsContractId: null },
            }
          : {
              ...base,
              eventId: contractEventId(context.contractId, 'ContractAmended', eventVersion),
              type: 'ContractAmended',
              effectiveAt: source.changeEffectiveOn ?? observedDate,
              payload: { terms: source.terms, replacesContractId: null },
            },
      );
    }
    for (const type of path) events.push(statusEvent(type));
  }
  for (const fact of source.facts) {
    const eventId = contractEventId(context.contractId, fact.type, fact.sourceVersion);
    if (context.knownFactIds.has(eventId)) continue;
    events.push({
      ...base,
      occurredAt: fact.occurredAt,
      sourceVersion: fact.sourceVersion,
      eventId,
      type: fact.type,
      effectiveAt: fact.effectiveAt,
      payload: fact.payload,
    } as ContractEvent);
  }

  // Links and refs learned later (a renewal's predecessor, a registration's customer id) update
  // the snapshot without an event: they describe the same contract, not a change to it.
  const refs: Record<string, string> = { ...(snapshot?.refs ?? {}), ...source.refs };
  for (const name of source.dropRefs ?? []) delete refs[name];
  const refsChanged = snapshot !== null && canonicalJson(snapshot.refs) !== canonicalJson(refs);
  const linkLearned =
    snapshot !== null &&
    snapshot.replacesContractId === null &&
    context.replacesContractId !== null;
  // Why a contract waits (parked, awaiting approval) is worth keeping current, without an event.
  const reasonChanged = snapshot !== null && snapshot.statusReason !== source.statusReason;
  if (events.length === 0 && !refsChanged && !linkLearned && !reasonChanged)
    return { events, next: null };
  let status: ContractStatus | null = snapshot?.status ?? null;
  for (const event of events) status = nextStatus(status, event.type);
  const stateChanged = events.some((e) => !FACT_TYPES.has(e.type));
  return {
    events,
    next: {
      schemaVersion: 1,
      contractId: context.contractId,
      marketplace: context.marketplace,
      externalId: source.externalId,
      version: (snapshot?.version ?? 0) + 1,
      status: status ?? 'pending',
      statusReason: source.statusReason,
      // The chain link of the last state change (facts and refs leave it where it was).
      sourceVersion: stateChanged || snapshot === null ? eventVersion : snapshot.sourceVersion,
      updatedAt: context.now,
      terms: source.terms,
      replacesContractId: snapshot?.replacesContractId ?? context.replacesContractId,
      replacedByContractId: snapshot?.replacedByContractId ?? null,
      attributionVersion: snapshot?.attributionVersion ?? null,
      refs,
    },
  };
}
