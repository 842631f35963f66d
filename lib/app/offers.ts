/**
 * Private offers: a deal desk's document in, a published marketplace offer out, every step on
 * record. Creating validates everything first (nothing stored or sent when invalid), the
 * seller's guardrails decide between auto-approval and a human, an approved offer is published
 * at once, and the tracking job follows each change set to `published` or `failed`.
 *
 * Idempotency: the offer id derives from the caller and its Idempotency-Key, and the
 * marketplace's request token from the offer id and attempt — a retried create finds the offer
 * it made, and a retried publish starts no second change set.
 */
import { randomUUID } from 'node:crypto';
import { type CalendarDate, dateOfInstant } from '../domain/calendar';
import { AgoraError } from '../domain/errors';
import { deterministicId, hashParts } from '../domain/ids';
import type { GuardrailPolicy } from '../domain/offers/guardrails';
import {
  decided,
  editDraft,
  effectiveStatus,
  newDraft,
  type OfferRecord,
  type OfferStatus,
  publishing,
  refused,
  submitted,
  tracked,
  validateForSubmission,
} from '../domain/offers/offer';
import { OfferDocumentSchema } from '../domain/offers/offer-document';
import type { Marketplace } from '../domain/schemas/primitives';
import {
  ConflictError,
  ForbiddenError,
  MarketplaceUnavailableError,
  NotFoundError,
} from './errors';
import type {
  Clock,
  ContractLookups,
  OfferPublisher,
  OfferStore,
  Page,
  PageRequest,
} from './ports';

/** Offers the tracking job looks at per run (each costs one or two marketplace reads). */
export const OFFERS_TRACKED_PER_RUN_MAX = 200;
export const OFFER_TRACK_PAGE_SIZE = 50;
/** Acceptances listed on an offer (AWS private offers target at most 26 buyers). */
export const OFFER_ACCEPTANCES_MAX = 100;
/** AWS allows ClientRequestToken of at most 36 characters. */
const REQUEST_TOKEN_LENGTH = 36;

export interface OfferDeps {
  readonly offers: OfferStore;
  readonly offerPublishers: Readonly<Partial<Record<Marketplace, OfferPublisher>>>;
  readonly contracts: ContractLookups;
  readonly clock: Clock;
  readonly offerSettings: {
    readonly guardrails: GuardrailPolicy;
    /** Subjects (besides admins) who may approve or reject offers. */
    readonly approvers: readonly string[];
  };
}

export interface OfferAcceptance {
  readonly contractId: string;
  readonly buyerAccountId: string;
  readonly status: string;
  readonly acceptedOn: string;
}

export type OfferView = OfferRecord & {
  readonly effectiveStatus: OfferStatus;
  readonly acceptances: OfferAcceptance[];
};

function today(deps: Pick<OfferDeps, 'clock'>): CalendarDate {
  return dateOfInstant(deps.clock.now());
}

async function load(deps: Pick<OfferDeps, 'offers'>, offerId: string): Promise<OfferRecord> {
  const record = await deps.offers.get(offerId);
  if (!record) throw new NotFoundError(`No offer ${offerId}`);
  return record;
}

function publisherFor(deps: OfferDeps, marketplace: Marketplace): OfferPublisher {
  const publisher = deps.offerPublishers[marketplace];
  if (!publisher)
    throw new ConflictError('marketplace_not_supported', `Offers on ${marketplace} come later`);
  return publisher;
}

/**
 * Starts the marketplace change for an approved offer. A marketplace outage leaves it approved
 * (the tracking job tries again); a refusal (422, access denied) fails it with the reason.
 */
async function publish(deps: OfferDeps, record: OfferRecord, by: string): Promise<OfferRecord> {
  const document = OfferDocumentSchema.parse(record.document);
  const attempt = (record.publication?.attempts ?? 0) + 1;
  const at = deps.clock.now();
  try {
    const started = await publisherFor(deps, record.marketplace).publish(document, {
      clientRequestToken: hashParts(['offer', record.offerId, String(attempt)]).slice(
        0,
        REQUEST_TOKEN_LENGTH,
      ),
      name: `agora-${record.offerId}-${attempt}`,
    });
    const next = publishing(record, { ...started, by, at });
    await deps.offers.save(next, record.version);
    return next;
  } catch (error) {
    if (error instanceof MarketplaceUnavailableError) return record;
    if (error instanceof ConflictError && error.code === 'marketplace_entity_busy') return record;
    if (!(error instanceof AgoraError) || error instanceof ConflictError) throw error;
    const failed = refused(
      record,
      {
        code: (error as { code?: string }).code ?? 'marketplace_rejected',
        description: error.message,
        errors: [],
      },
      { entityType: refusedEntityType(record.marketplace, document.reseller !== undefined), at },
    );
    await deps.offers.save(failed, record.version);
    return failed;
  }
}

/** What a refused change would have created, in the marketplace's own terms. */
function refusedEntityType(marketplace: Marketplace, resale: boolean): string {
  if (marketplace === 'aws') return resale ? 'ResaleAuthorization@1.0' : 'Offer@1.0';
  if (marketplace === 'azure') return resale ? 'multiparty-private-offer' : 'private-offer';
  return resale ? 'channel-private-offer' : 'private-offer';
}

export async function createOffer(
  deps: OfferDeps,
  input: { document: unknown; draft: boolean; by: string; idempotencyKey: string | null },
): Promise<{ offer: OfferView; created: boolean }> {
  const at = deps.clock.now();
  const offerId = input.idempotencyKey
    ? deterministicId('of', input.by, input.idempotencyKey)
    : `of_${randomUUID().replaceAll('-', '')}`;
  const existing = await deps.offers.get(offerId);
  if (existing) return { offer: await view(deps, existing), created: false };
  let record: OfferRecord;
  if (input.draft) {
    record = newDraft({ offerId, document: input.document, by: input.by, at });
  } else {
    const checked = validateForSubmission(input.document, {
      today: today(deps),
      policy: deps.offerSettings.guardrails,
    });
    record = submitted(
      newDraft({ offerId, document: input.document, by: input.by, at }),
      checked,
      input.by,
      at,
    );
  }
  if (!(await deps.offers.create(record))) {
    // A concurrent retry of the same request created it first.
    return { offer: await view(deps, await load(deps, offerId)), created: false };
  }
  if (record.status === 'approved') record = await publish(deps, record, input.by);
  return { offer: await view(deps, record), created: true };
}

export async function updateDraft(
  deps: OfferDeps,
  input: { offerId: string; document: unknown; by: string },
): Promise<OfferView> {
  const record = await load(deps, input.offerId);
  const next = editDraft(record, input.document, input.by, deps.clock.now());
  await deps.offers.save(next, record.version);
  return view(deps, next);
}

/** Submits a draft: the full rules, then the guardrails; published at once if auto-approved. */
export async function submitDraft(
  deps: OfferDeps,
  input: { offerId: string; by: string },
): Promise<OfferView> {
  const record = await load(deps, input.offerId);
  const checked = validateForSubmission(record.document, {
    today: today(deps),
    policy: deps.offerSettings.guardrails,
  });
  let next = submitted(record, checked, input.by, deps.clock.now());
  await deps.offers.save(next, record.version);
  if (next.status === 'approved') next = await publish(deps, next, input.by);
  return view(deps, next);
}

export async function decideOffer(
  deps: OfferDeps,
  input: {
    offerId: string;
    decision: 'approved' | 'rejected';
    by: string;
    isAdmin: boolean;
    reason: string | null;
  },
): Promise<OfferView> {
  if (!input.isAdmin && !deps.offerSettings.approvers.includes(input.by))
    throw new ForbiddenError('Only an admin or a configured approver may approve or reject offers');
  const record = await load(deps, input.offerId);
  let next = decided(record, input.decision, input.by, input.reason, deps.clock.now());
  await deps.offers.save(next, record.version);
  if (next.status === 'approved') next = await publish(deps, next, input.by);
  return view(deps, next);
}

/** Follows one submitted offer's change set; publishes an approved one (a retry). */
async function trackOne(deps: OfferDeps, record: OfferRecord): Promise<OfferRecord> {
  if (record.status === 'approved') return publish(deps, record, 'agora:tracker');
  const changeSetId = record.publication?.changeSetId;
  if (record.status !== 'submitted' || !changeSetId) return record;
  const document = OfferDocumentSchema.parse(record.document);
  const status = await publisherFor(deps, record.marketplace).status(document, changeSetId);
  if (!status) return record;
  const failure = status.failure ? { ...status.failure, errors: [...status.failure.errors] } : null;
  const next = tracked(record, { ...status, failure }, deps.clock.now());
  if (next !== record) await deps.offers.save(next, record.version);
  // A server fault sends the offer back to approved: try the next change set right away.
  if (next.status === 'approved') return publish(deps, next, 'agora:tracker');
  return next;
}

export interface TrackSummary {
  checked: number;
  published: number;
  failed: number;
  pending: number;
  problems: { offerId: string; code: string; message: string }[];
}

/** The tracking job: every submitted offer's change set, and approved offers not yet sent. */
export async function trackOffers(deps: OfferDeps): Promise<TrackSummary> {
  const summary: TrackSummary = { checked: 0, published: 0, failed: 0, pending: 0, problems: [] };
  for (const status of ['submitted', 'approved'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.offers.list({ status }, { limit: OFFER_TRACK_PAGE_SIZE, cursor });
      for (const record of page.items) {
        if (summary.checked >= OFFERS_TRACKED_PER_RUN_MAX) return summary;
        summary.checked += 1;
        try {
          const next = await trackOne(deps, record);
          if (next.status === 'published') summary.published += 1;
          else if (next.status === 'failed') summary.failed += 1;
          else summary.pending += 1;
        } catch (error) {
          if (!(error instanceof AgoraError)) throw error;
          summary.problems.push({
            offerId: record.offerId,
            code: error.code,
            message: error.message,
          });
        }
      }
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }
  return summary;
}

/** A change-set event from the marketplace: follow that offer now rather than at the next poll. */
export async function trackChangeSet(
  deps: OfferDeps,
  changeSetId: string,
): Promise<OfferView | null> {
  const offerId = await deps.offers.byChangeSet(changeSetId);
  if (!offerId) return null;
  return view(deps, await trackOne(deps, await load(deps, offerId)));
}

async function acceptancesOf(deps: OfferDeps, record: OfferRecord): Promise<OfferAcceptance[]> {
  const entityId = record.publication?.entityId;
  if (!entityId) return [];
  // Google names an offer differently in entitlements than at its producer API; the last path
  // segment (the offer's own id) is what both share.
  const tail = entityId.includes('/') ? entityId.slice(entityId.lastIndexOf('/') + 1) : null;
  const ids = [
    ...new Set([
      ...(await deps.contracts.findByRef(record.marketplace, 'offer', entityId)),
      ...(tail ? await deps.contracts.findByRef(record.marketplace, 'offerTail', tail) : []),
    ]),
  ];
  const out: OfferAcceptance[] = [];
  // Bounded (a private offer targets at most a few dozen buyers): read them side by side.
  const contracts = await Promise.all(
    ids.slice(0, OFFER_ACCEPTANCES_MAX).map(async (contractId) => ({
      contractId,
      contract: await deps.contracts.get(contractId),
    })),
  );
  for (const { contractId, contract } of contracts) {
    if (!contract) continue;
    out.push({
      contractId,
      buyerAccountId: contract.terms.buyer.accountId,
      status: contract.status,
      acceptedOn: contract.terms.term.start,
    });
  }
  return out.sort((a, b) => a.contractId.localeCompare(b.contractId));
}

export async function view(deps: OfferDeps, record: OfferRecord): Promise<OfferView> {
  return {
    ...record,
    effectiveStatus: effectiveStatus(record, today(deps)),
    acceptances: await acceptancesOf(deps, record),
  };
}

export async function getOffer(deps: OfferDeps, offerId: string): Promise<OfferView> {
  return view(deps, await load(deps, offerId));
}

export async function listOffers(
  deps: OfferDeps,
  filter: { status?: OfferStatus; marketplace?: Marketplace },
  page: PageRequest,
): Promise<Page<OfferRecord & { effectiveStatus: OfferStatus }>> {
  const result = await deps.offers.list(filter, page);
  return {
    items: result.items.map((r) => ({ ...r, effectiveStatus: effectiveStatus(r, today(deps)) })),
    cursor: result.cursor,
  };
}
