/**
 * Ports: what use cases need from the outside world, as interfaces. Adapters in lib/store,
 * lib/marketplaces and lib/local implement them; use cases never import an adapter.
 */

import type { Period } from '../domain/calendar';
import type { ContractSnapshot, ContractStatus } from '../domain/contract';
import type { SourceContract } from '../domain/contract-lifecycle';
import type { ContractEvent } from '../domain/events';
import type { JournalEntry } from '../domain/ledger';
import type { ListingCreate, ListingUpdate, ListingView } from '../domain/listings/listing';
import type { OfferRecord, OfferStatus } from '../domain/offers/offer';
import type { OfferDocument } from '../domain/offers/offer-document';
import type { RawEnvelope } from '../domain/raw';
import type { ContractBook } from '../domain/revenue/book';
import type { PeriodLocks } from '../domain/revenue/periods';
import type { Installment, RevenueContract } from '../domain/revenue/revenue-contract';
import type { RevenueSchedule } from '../domain/revenue/schedule';
import type { Marketplace } from '../domain/schemas/primitives';

export interface Clock {
  /** Current instant as ISO-8601 UTC. */
  now(): string;
}

export interface StoredRawEnvelope extends RawEnvelope {
  readonly rawId: string;
  readonly bodySha256: string;
  /** Set once a sync has fully processed it; pending envelopes are re-enqueued by sweeps. */
  readonly processedAt: string | null;
  readonly outcome: string | null;
}

/** One page of a list, with an opaque cursor for the next. */
export interface Page<T> {
  readonly items: T[];
  readonly cursor: string | null;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export type SaveRawResult =
  | { readonly outcome: 'stored'; readonly rawId: string }
  | {
      readonly outcome: 'duplicate';
      readonly rawId: string;
      /** False when the provider reused a message id for a different body: worth an alarm. */
      readonly samePayload: boolean;
      readonly firstReceivedAt: string;
    };

export interface RawInboundStore {
  /** Append-only: stores the envelope once; a redelivery is reported, never rewritten. */
  save(envelope: RawEnvelope): Promise<SaveRawResult>;
  get(rawId: string): Promise<StoredRawEnvelope | null>;
  /** Envelopes received on one UTC day, oldest first, for replay and audit. */
  listByDay(
    marketplace: RawEnvelope['marketplace'],
    day: string,
    page: PageRequest,
  ): Promise<Page<StoredRawEnvelope>>;
  /** Marks an envelope fully processed (removes it from the pending list). */
  markProcessed(rawId: string, outcome: string, at: string): Promise<void>;
  /** Envelopes stored but not yet processed, oldest first (recovery sweeps). */
  listPending(page: PageRequest): Promise<Page<StoredRawEnvelope>>;
}

// ---------------------------------------------------------------------------------------------
// The contract pipeline
// ---------------------------------------------------------------------------------------------

/** A request to sync what one raw notification announced. FIFO per groupKey. */
export interface SyncMessage {
  readonly rawId: string;
  readonly marketplace: Marketplace;
  /** (marketplace, buyer account): one buyer's changes apply in order. */
  readonly groupKey: string;
}

export interface SyncQueue {
  enqueue(message: SyncMessage): Promise<void>;
}

/** What the adapter asks the pipeline to do for one notification. */
export interface SyncTrigger {
  readonly kind: string;
  readonly groupKey: string;
  /** One human line for logs and the DLQ ("License Updated for agmt-1"). */
  readonly description: string;
}

export type ParsedNotification<T extends SyncTrigger = SyncTrigger> =
  | { readonly kind: 'triggers'; readonly groupKey: string; readonly triggers: readonly T[] }
  /** Understood, but nothing to sync (e.g. a catalog event handled elsewhere). */
  | { readonly kind: 'ignored'; readonly groupKey: string; readonly reason: string }
  /** Not understood: dead-lettered with this reason (it stays stored for replay). */
  | { readonly kind: 'invalid'; readonly groupKey: string; readonly reason: string };

export type SourceRead =
  | { readonly kind: 'contracts'; readonly contracts: readonly SourceContract[] }
  /** The source does not show it yet: retry with backoff, then dead-letter. */
  | { readonly kind: 'not-ready'; readonly reason: string }
  /** Nothing to do, and that is fine (a hint for a contract we cannot see yet). */
  | { readonly kind: 'nothing'; readonly reason: string };

export interface ContractLookups {
  /** Contract ids whose refs hold this key and value (a buyer may have several contracts). */
  findByRef(marketplace: Marketplace, key: string, value: string): Promise<string[]>;
  get(contractId: string): Promise<ContractSnapshot | null>;
}

/** One marketplace's inbound half: understand notifications, re-read the source of truth. */
export interface MarketplaceAdapter<T extends SyncTrigger = SyncTrigger> {
  readonly marketplace: Marketplace;
  parse(raw: StoredRawEnvelope): ParsedNotification<T>;
  read(trigger: T, lookups: ContractLookups, raw: StoredRawEnvelope): Promise<SourceRead>;
}

export interface RawLink {
  readonly rawId: string;
  readonly receivedAt: string;
}

/** Records the apply step adds beyond snapshot and events; later engines add their kinds. */
export interface ChangeAttachments {
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /** Journal entries, the contract's book and a new schedule version, posted in the same commit. */
  readonly ledger?: LedgerPosting | null;
  /** Why the contract's revenue could not be computed (kept on the contract for finance). */
  readonly revenueIssue?: RevenueIssue | null;
  /**
   * Commission accrued with an invoice (billed basis): posted with the ledger posting above, in
   * the same transaction; without a ledger posting (revenue could not be computed) they wait for
   * the month-end run.
   */
  readonly commissionEntries?: readonly JournalEntry[];
}

export interface RevenueIssue {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/** A schedule version with the revenue state it belongs to (lib/domain/revenue/lifecycle.ts). */
export interface StoredSchedule {
  readonly schedule: RevenueSchedule;
  readonly contract: RevenueContract;
  readonly cancelledOn: string | null;
  readonly refundedMinor: bigint;
  readonly considerations: readonly Installment[];
  /** canonicalJson of the priced terms it was built from: a change to them is a modification. */
  readonly termsFingerprint: string;
  /** The contract version (snapshot) it was built from. */
  readonly contractVersion: number;
  readonly createdAt: string;
}

/**
 * What one posting writes: entries (each guarded by its deterministic id), the book after them
 * (guarded by the entry count it was computed from: the optimistic lock that serializes the
 * pipeline, the billing job and the month-end run on one contract) and, optionally, a schedule.
 */
export interface LedgerPosting {
  readonly contractId: string;
  readonly entries: readonly JournalEntry[];
  readonly book: ContractBook;
  /** Entry count of the stored book the posting was computed from; null when there was none. */
  readonly expectedEntryCount: number | null;
  readonly schedule: StoredSchedule | null;
  readonly at: string;
  /** Who posts (rule 14): the pipeline may not post into a soft-frozen month; the run may. */
  readonly poster?: 'pipeline' | 'run';
}

export interface FxRate {
  readonly date: string;
  readonly base: string;
  readonly quote: string;
  /** Exact decimal: 1 base = rate quote. */
  readonly rate: string;
  readonly source: string;
}

export interface FxRateStore {
  put(rates: readonly FxRate[], recordedAt: string): Promise<void>;
  all(): Promise<FxRate[]>;
}

export interface PeriodAuditRecord {
  readonly at: string;
  readonly period: Period;
  readonly action: 'FREEZE' | 'CLOSE' | 'PERIOD_REOPENED';
  readonly by: string;
  readonly reason: string | null;
  readonly before: PeriodLocks;
  readonly after: PeriodLocks;
}

export interface PeriodStore {
  locks(): Promise<PeriodLocks & { version: number }>;
  change(expectedVersion: number, record: PeriodAuditRecord): Promise<void>;
  audit(page: PageRequest): Promise<Page<PeriodAuditRecord>>;
}

export interface LedgerStore {
  /** The contract's book, or null before its first schedule. */
  book(contractId: string): Promise<ContractBook | null>;
  latestSchedule(contractId: string): Promise<StoredSchedule | null>;
  schedules(contractId: string): Promise<StoredSchedule[]>;
  entries(contractId: string, page: PageRequest): Promise<Page<JournalEntry>>;
  entriesOfPeriod(period: Period, page: PageRequest): Promise<Page<JournalEntry>>;
  /** Throws LedgerConflictError when the book moved (re-read and recompute). */
  post(posting: LedgerPosting): Promise<void>;
  /** Contracts with a book (revenue to recognize), in id order. */
  booksPage(page: PageRequest): Promise<Page<string>>;
  /** Why the contract's revenue could not be computed, if it could not. */
  revenueIssue(contractId: string): Promise<RevenueIssue | null>;
  /** Contracts with an open revenue issue, in id order. */
  issuesPage(page: PageRequest): Promise<Page<string>>;
}

export interface ContractChange {
  readonly contractId: string;
  /** The version the change was computed from (0 for a new contract): optimistic lock. */
  readonly expectedVersion: number;
  readonly next: ContractSnapshot;
  readonly events: readonly ContractEvent[];
  readonly rawLink: RawLink | null;
  readonly attachments: ChangeAttachments;
}

export interface ContractRejection {
  readonly contractId: string;
  readonly rawId: string | null;
  readonly sourceVersion: string;
  readonly eventTypes: readonly string[];
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface ContractListFilter {
  readonly marketplace?: Marketplace | undefined;
  readonly status?: ContractStatus | undefined;
  readonly customer?: string | undefined;
}

export interface StoredContractEvent {
  readonly event: ContractEvent;
  /** The snapshot version the event produced. */
  readonly version: number;
  readonly recordedAt: string;
}

export interface ContractStore extends ContractLookups {
  /** Ids of fact events already recorded for a contract, among the candidates. */
  knownEventIds(contractId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Snapshot + version + events + refs + attachments in one transaction, or nothing. */
  commit(change: ContractChange): Promise<void>;
  /** Links a raw envelope to a contract it touched without changing it (history). */
  linkRaw(contractId: string, link: RawLink): Promise<void>;
  recordRejection(rejection: ContractRejection): Promise<void>;
  list(filter: ContractListFilter, page: PageRequest): Promise<Page<ContractSnapshot>>;
  events(contractId: string, page: PageRequest): Promise<Page<StoredContractEvent>>;
  rawLinks(contractId: string, page: PageRequest): Promise<Page<RawLink>>;
  rejections(contractId: string, page: PageRequest): Promise<Page<ContractRejection>>;
}

export interface SyncFailure {
  readonly rawId: string;
  readonly marketplace: Marketplace;
  readonly groupKey: string;
  readonly attempts: number;
  readonly code: string;
  readonly reason: string;
  readonly firstFailedAt: string;
  readonly lastFailedAt: string;
  readonly status: 'retrying' | 'dead-lettered' | 'redriven' | 'resolved';
}

export interface SyncFailureStore {
  /** Records a failed attempt; dead-letters when permanent or out of attempts. */
  record(input: {
    rawId: string;
    marketplace: Marketplace;
    groupKey: string;
    attempt: number;
    attemptsMax: number;
    code: string;
    reason: string;
    permanent: boolean;
    at: string;
  }): Promise<SyncFailure>;
  /** A later attempt succeeded. */
  resolve(rawId: string, at: string): Promise<void>;
  get(rawId: string): Promise<SyncFailure | null>;
  listDeadLettered(page: PageRequest): Promise<Page<SyncFailure>>;
  markRedriven(rawId: string, at: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Provisioning webhooks
// ---------------------------------------------------------------------------------------------

export interface WebhookEndpoint {
  readonly endpointId: string;
  readonly url: string;
  readonly description: string;
  /** Event types delivered; empty = all. */
  readonly eventTypes: readonly string[];
  readonly secret: string;
  readonly status: 'active' | 'disabled';
  readonly createdAt: string;
}

export interface WebhookDelivery {
  readonly deliveryId: string;
  readonly endpointId: string;
  readonly contractId: string;
  readonly contractVersion: number;
  readonly eventIds: readonly string[];
  readonly eventTypes: readonly string[];
  /** The exact JSON body POSTed (signed as is). */
  readonly payload: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
}

export interface WebhookStore {
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  disableEndpoint(endpointId: string): Promise<boolean>;
  getDelivery(deliveryId: string): Promise<WebhookDelivery | null>;
  /** Deliveries due at or before `now`, oldest first. */
  listDue(now: string, limit: number): Promise<WebhookDelivery[]>;
  /** Conditional on the attempt count, so two workers never record the same attempt. */
  recordAttempt(
    delivery: WebhookDelivery,
    update: Pick<
      WebhookDelivery,
      'status' | 'attempts' | 'nextAttemptAt' | 'lastAttemptAt' | 'lastStatusCode' | 'lastError'
    >,
  ): Promise<boolean>;
  listDeliveries(
    filter: { endpointId?: string | undefined; contractId?: string | undefined },
    page: PageRequest,
  ): Promise<Page<WebhookDelivery>>;
}

/** Sends one HTTP POST (the adapter sets the timeout). */
export interface WebhookSender {
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number }>;
}

/** A response remembered under an Idempotency-Key. */
export interface StoredResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type IdempotencyBegin =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  /** Same key, different request: the client reused a key by mistake. */
  | { readonly kind: 'mismatch' }
  /** Same key and request, first call still running. */
  | { readonly kind: 'in-progress' };

export interface IdempotencyStore {
  /** Claims (scope, key) for this request, or tells what happened to an earlier claim. */
  begin(scope: string, key: string, requestHash: string, now: string): Promise<IdempotencyBegin>;
  /** Remembers the response of a claimed request until the key expires. */
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Releases a claim whose request failed, so the client may retry with the same key. */
  release(scope: string, key: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Private offers
// ---------------------------------------------------------------------------------------------

export interface OfferFilter {
  readonly status?: OfferStatus | undefined;
  readonly marketplace?: Marketplace | undefined;
}

export interface OfferStore {
  /** False when an offer with this id exists already (a retried create). */
  create(record: OfferRecord): Promise<boolean>;
  get(offerId: string): Promise<OfferRecord | null>;
  /** Throws ConflictError when the offer moved past `expectedVersion`. */
  save(record: OfferRecord, expectedVersion: number): Promise<void>;
  /** The offer a change set was started for. */
  byChangeSet(changeSetId: string): Promise<string | null>;
  /** The offer the marketplace knows by this id (its published entity). */
  byEntityId(marketplace: Marketplace, entityId: string): Promise<string | null>;
  /** Offers whose document ever named this buyer account (check the current document). */
  byBuyer(marketplace: Marketplace, accountId: string): Promise<string[]>;
  list(filter: OfferFilter, page: PageRequest): Promise<Page<OfferRecord>>;
}

export interface OfferChangeStatus {
  /** The marketplace's status of the change (AWS: PREPARING, APPLYING, SUCCEEDED, FAILED…). */
  readonly status: string;
  /** The offer (or resale authorization) the change created, once known. */
  readonly entityId: string | null;
  readonly failure: {
    readonly code: string;
    readonly description: string;
    readonly errors: readonly { change: string; code: string; message: string }[];
  } | null;
  /** The marketplace failed on its side: trying again may succeed. */
  readonly serverFault: boolean;
  /** The last day to accept, as the marketplace holds it. */
  readonly expiresOn: string | null;
}

/** One marketplace's outbound half for offers. */
export interface OfferPublisher {
  /** Starts publishing a valid document; the same token twice starts one change. */
  publish(
    document: OfferDocument,
    request: { readonly clientRequestToken: string; readonly name: string },
  ): Promise<{ entityType: string; changeSetId: string }>;
  status(document: OfferDocument, changeSetId: string): Promise<OfferChangeStatus | null>;
}

// ---------------------------------------------------------------------------------------------
// Listings
// ---------------------------------------------------------------------------------------------

/** One marketplace's listing API (Google Cloud: read-only, from configuration). */
export interface ListingGateway {
  list(): Promise<ListingView[]>;
  read(productId: string): Promise<ListingView | null>;
  /** Starts the marketplace change; returns its id (AWS change set, Azure job). */
  update(
    productId: string,
    update: ListingUpdate,
    current: ListingView,
    requestToken: string,
  ): Promise<{ changeId: string }>;
  create(listing: ListingCreate, requestToken: string): Promise<{ changeId: string }>;
}
