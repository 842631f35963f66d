/**
 * Co-sell attribution of a contract, as immutable versions. The touches that count are gathered
 * from every source — stored touches matched by contract, offer, co-sell opportunity or
 * customer + product; the offer document's co-sell touches; the reseller of a resale
 * authorization — and weighed by the model rule in effect on the deal's close date. A new version
 * is written only when the touches or the rule changed, with the diff from the version before;
 * re-running writes nothing.
 */
import {
  ATTRIBUTION_TOUCHES_MAX,
  type AttributionOutcome,
  attribute,
  diffOutcomes,
  splitByShares,
} from '../domain/attribution/attribute';
import {
  type AttributionModel,
  type AttributionModelRule,
  DEFAULT_ATTRIBUTION_MODEL_RULE,
  modelRuleInEffect,
} from '../domain/attribution/models';
import { dateOfInstant } from '../domain/calendar';
import type { ContractSnapshot } from '../domain/contract';
import { OfferDocumentSchema } from '../domain/offers/offer-document';
import {
  ATTRIBUTION_VERSION_SCHEMA_VERSION,
  type AttributionVersion,
  attributionInputHash,
  outcomeParts,
} from '../domain/partners/attribution-version';
import {
  contractMatchKeys,
  type TouchRecord,
  touchCounts,
  touchIdFor,
} from '../domain/partners/touch';
import { ConflictError, NotFoundError } from './errors';
import type { AttributionStore, PartnerStore, TouchStore } from './partner-ports';
import type { Clock, ContractStore, OfferStore, Page, PageRequest } from './ports';

/** Contracts re-attributed after one touch (a customer-wide touch may match several). */
export const CONTRACTS_PER_TOUCH_MAX = 50;
/** Journeys read for data-driven models (Markov, Shapley from journeys). */
export const JOURNEYS_SAMPLE_MAX = 2_000;

export interface AttributionDeps {
  readonly contracts: Pick<ContractStore, 'get' | 'events' | 'findByRef' | 'list'>;
  readonly offers: Pick<OfferStore, 'get' | 'byEntityId'>;
  readonly partners: Pick<PartnerStore, 'byMarketplaceAccount' | 'get'>;
  readonly touches: TouchStore;
  readonly attribution: AttributionStore;
  readonly clock: Clock;
  readonly attributionSettings: { readonly modelId: string };
}

interface Gathered {
  readonly touches: TouchRecord[];
  readonly closeAt: string;
}

/** Attempts when another run wrote the next version number first. */
const ATTRIBUTE_ATTEMPTS_MAX = 3;

/**
 * When the deal closed: its acceptance when the marketplace says (an AWS agreement's
 * acceptanceTime; an agreement first read after it ended has every event at its end time), else
 * the first event the marketplace reported for the contract. Null while the event index has not
 * caught up (it is eventually consistent): guessing would write a version that the next run
 * replaces for no reason.
 */
async function closeAtOf(
  deps: AttributionDeps,
  contract: ContractSnapshot,
): Promise<string | null> {
  const acceptedAt = contract.refs?.acceptedAt;
  if (acceptedAt) return acceptedAt;
  const first = await deps.contracts.events(contract.contractId, { limit: 1 });
  return first.items[0]?.event.occurredAt ?? null;
}

/** The offer Agora published for this contract, if it did. */
async function offerOf(deps: AttributionDeps, contract: ContractSnapshot) {
  const entityId = contract.refs.offer ?? contract.terms.offerId;
  if (!entityId) return null;
  const offerId = await deps.offers.byEntityId(contract.marketplace, entityId);
  const record = offerId ? await deps.offers.get(offerId) : null;
  if (!record) return null;
  const parsed = OfferDocumentSchema.safeParse(record.document);
  return parsed.success ? { offerId: record.offerId, document: parsed.data } : null;
}

function documentTouches(
  offerId: string,
  touches: NonNullable<ReturnType<typeof OfferDocumentSchema.parse>['coSell']>['touches'],
  closeAt: string,
): TouchRecord[] {
  return touches.map((t) => {
    const at = t.at.length === 10 ? `${t.at}T00:00:00.000Z` : new Date(t.at).toISOString();
    const milestone = t.milestone ?? null;
    return {
      schemaVersion: 1,
      touchId: touchIdFor({ source: 'offer-document', sourceRef: offerId, ...t, milestone, at }),
      partnerId: t.partnerId,
      role: t.role,
      milestone,
      at,
      source: 'offer-document',
      sourceRef: offerId,
      validUntil: null,
      match: {
        contractIds: [],
        offerIds: [offerId],
        opportunityIds: [],
        customerKeys: [],
        productId: null,
      },
      note: t.note ?? null,
      recordedAt: closeAt,
      recordedBy: `offer:${offerId}`,
    } satisfies TouchRecord;
  });
}

/** A resale authorization's reseller is a `resale` touch at the close. */
async function resellerTouch(
  deps: AttributionDeps,
  contract: ContractSnapshot,
  closeAt: string,
): Promise<TouchRecord[]> {
  const account = contract.terms.reseller?.partnerId;
  if (!account) return [];
  const partnerId =
    (await deps.partners.byMarketplaceAccount(contract.marketplace, account)) ??
    ((await deps.partners.get(account)) ? account : null);
  if (!partnerId) return [];
  const base = {
    source: 'resale-authorization',
    sourceRef: contract.terms.reseller?.resaleAuthorizationId ?? contract.contractId,
    partnerId,
    role: 'resale',
    milestone: 'closing',
    at: closeAt,
  } as const;
  return [
    {
      schemaVersion: 1,
      touchId: touchIdFor(base),
      ...base,
      validUntil: null,
      match: {
        contractIds: [contract.contractId],
        offerIds: [],
        opportunityIds: [],
        customerKeys: [],
        productId: null,
      },
      note: null,
      recordedAt: closeAt,
      recordedBy: 'rules:resale-authorization',
    },
  ];
}

async function gather(deps: AttributionDeps, contract: ContractSnapshot): Promise<Gathered | null> {
  const closeAt = await closeAtOf(deps, contract);
  if (closeAt === null) return null;
  const offer = await offerOf(deps, contract);
  const opportunityIds = offer?.document.coSell?.opportunityIds ?? [];
  const keys = contractMatchKeys(contract, opportunityIds);
  if (offer) keys.push(`offer:${offer.offerId}`);
  const stored = await deps.touches.byKeys(keys);
  const all = [
    ...stored,
    ...(offer ? documentTouches(offer.offerId, offer.document.coSell?.touches ?? [], closeAt) : []),
    ...(await resellerTouch(deps, contract, closeAt)),
  ];
  const byId = new Map(all.filter((t) => touchCounts(t, closeAt)).map((t) => [t.touchId, t]));
  const touches = [...byId.values()].sort((a, b) =>
    a.at === b.at ? (a.touchId < b.touchId ? -1 : 1) : a.at < b.at ? -1 : 1,
  );
  // The engine weighs at most ATTRIBUTION_TOUCHES_MAX: the ones nearest the close.
  return { touches: touches.slice(-ATTRIBUTION_TOUCHES_MAX), closeAt };
}

async function ruleFor(deps: AttributionDeps, closeAt: string): Promise<AttributionModelRule> {
  const versions = await deps.attribution.modelVersions(deps.attributionSettings.modelId);
  return modelRuleInEffect(versions, dateOfInstant(closeAt)) ?? DEFAULT_ATTRIBUTION_MODEL_RULE;
}

function needsJourneys(model: AttributionModel): boolean {
  return model.kind === 'markov' || (model.kind === 'shapley' && model.valuesFrom === 'journeys');
}

export interface AttributeResult {
  readonly attribution: AttributionVersion | null;
  /** True when this call wrote a new version. */
  readonly written: boolean;
}

/** Computes the contract's attribution and stores a new version when anything changed. */
export async function attributeContract(
  deps: AttributionDeps,
  contractId: string,
): Promise<AttributeResult> {
  const contract = await deps.contracts.get(contractId);
  if (!contract) throw new NotFoundError(`No contract ${contractId}`);
  return attributeSnapshot(deps, contract);
}

export async function attributeSnapshot(
  deps: AttributionDeps,
  contract: ContractSnapshot,
): Promise<AttributeResult> {
  const contractId = contract.contractId;
  for (let attempt = 1; ; attempt += 1) {
    const result = await attributeOnce(deps, contract);
    // Another run wrote that version number first, maybe from fewer touches: look again.
    if (result !== 'raced' || attempt >= ATTRIBUTE_ATTEMPTS_MAX)
      return result === 'raced'
        ? { attribution: await deps.attribution.latest(contractId), written: false }
        : result;
  }
}

async function attributeOnce(
  deps: AttributionDeps,
  contract: ContractSnapshot,
): Promise<AttributeResult | 'raced'> {
  const contractId = contract.contractId;
  const gathered = await gather(deps, contract);
  if (!gathered) return { attribution: await deps.attribution.latest(contractId), written: false };
  const { touches, closeAt } = gathered;
  const rule = await ruleFor(deps, closeAt);
  const inputHash = attributionInputHash(touches.map(attributedTouchKey), rule, closeAt);
  const previous = await deps.attribution.latest(contractId);
  if (previous?.inputHash === inputHash) return { attribution: previous, written: false };
  if (!previous && touches.length === 0) return { attribution: null, written: false };

  const outcome = attribute({
    touches,
    rule,
    closeAt,
    ...(needsJourneys(rule.model)
      ? { journeys: await deps.attribution.journeys(JOURNEYS_SAMPLE_MAX) }
      : {}),
  });
  const parts = outcomeParts(outcome, touches.map(attributedTouchKey));
  const version: AttributionVersion = {
    schemaVersion: ATTRIBUTION_VERSION_SCHEMA_VERSION,
    contractId,
    version: (previous?.version ?? 0) + 1,
    computedAt: deps.clock.now(),
    closeAt,
    rule,
    inputHash,
    ...parts,
    diff: previous ? diffFrom(previous, rule, outcome) : null,
  };
  if (await deps.attribution.add(version)) return { attribution: version, written: true };
  return 'raced';
}

function attributedTouchKey(t: TouchRecord) {
  return {
    touchId: t.touchId,
    partnerId: t.partnerId,
    role: t.role,
    milestone: t.milestone,
    at: t.at,
    source: t.source,
    sourceRef: t.sourceRef,
  };
}

/** The diff from the stored previous version, by the engine's own rule (`diffOutcomes`). */
function diffFrom(
  previous: AttributionVersion,
  rule: AttributionModelRule,
  outcome: AttributionOutcome,
): AttributionVersion['diff'] {
  const before: AttributionOutcome = {
    touchWeights: previous.touches.map((t) => ({
      touchId: t.touchId,
      partnerId: t.partnerId,
      weight: t.weight,
    })),
    shares: previous.shares,
    credits: previous.credits,
    dealCredit: previous.dealCredit,
    fallback: previous.fallback,
  };
  return diffOutcomes({ rule: previous.rule, outcome: before }, { rule, outcome });
}

/** Re-attributes the contracts a new touch may belong to. */
export async function attributeTouchedContracts(
  deps: AttributionDeps,
  touch: TouchRecord,
): Promise<string[]> {
  const ids = new Set<string>(touch.match.contractIds);
  for (const offerId of touch.match.offerIds) {
    const record = await deps.offers.get(offerId);
    const entityId = record?.publication?.entityId;
    if (record && entityId)
      for (const id of await deps.contracts.findByRef(record.marketplace, 'offer', entityId))
        ids.add(id);
    for (const marketplace of ['aws', 'azure', 'gcp'] as const)
      for (const id of await deps.contracts.findByRef(marketplace, 'offer', offerId)) ids.add(id);
  }
  for (const key of touch.match.customerKeys) {
    const account = /^acct:(aws|azure|gcp):(.+)$/.exec(key);
    if (!account?.[1] || !account[2]) continue;
    const page = await deps.contracts.list(
      { marketplace: account[1] as 'aws' | 'azure' | 'gcp', customer: account[2] },
      { limit: CONTRACTS_PER_TOUCH_MAX },
    );
    for (const contract of page.items)
      if (touch.match.productId === null || contract.terms.productId === touch.match.productId)
        ids.add(contract.contractId);
  }
  const touched: string[] = [];
  for (const contractId of [...ids].slice(0, CONTRACTS_PER_TOUCH_MAX)) {
    // A touch may name a contract that does not exist (yet): it is matched when it arrives.
    const contract = await deps.contracts.get(contractId);
    if (!contract) continue;
    const result = await attributeSnapshot(deps, contract);
    if (result.written) touched.push(contractId);
  }
  return touched;
}

export async function attributionHistory(
  deps: AttributionDeps,
  contractId: string,
  page: PageRequest,
): Promise<Page<AttributionVersion>> {
  if (!(await deps.contracts.get(contractId))) throw new NotFoundError(`No contract ${contractId}`);
  return deps.attribution.versions(contractId, page);
}

// --- models --------------------------------------------------------------------------------

export async function listModelVersions(
  deps: AttributionDeps,
  modelId: string,
): Promise<AttributionModelRule[]> {
  const versions = await deps.attribution.modelVersions(modelId);
  if (versions.length === 0 && modelId === DEFAULT_ATTRIBUTION_MODEL_RULE.modelId)
    return [DEFAULT_ATTRIBUTION_MODEL_RULE];
  return versions;
}

/** Adds the next version of a model: never an overwrite. */
export async function addModelVersion(
  deps: AttributionDeps,
  input: Omit<AttributionModelRule, 'version'>,
): Promise<AttributionModelRule> {
  const existing = await listModelVersions(deps, input.modelId);
  const version = Math.max(0, ...existing.map((v) => v.version)) + 1;
  const rule: AttributionModelRule = { ...input, version };
  if (version === 2 && existing[0] === DEFAULT_ATTRIBUTION_MODEL_RULE)
    await deps.attribution.addModelVersion(DEFAULT_ATTRIBUTION_MODEL_RULE);
  if (!(await deps.attribution.addModelVersion(rule)))
    throw new ConflictError(
      'model_version_taken',
      `Version ${version} of ${input.modelId} was added meanwhile; retry`,
    );
  return rule;
}

export interface AttributionExplanation {
  readonly contractId: string;
  readonly attribution: AttributionVersion | null;
  readonly split: {
    readonly currency: string;
    readonly totalMinor: bigint;
    readonly shares: { partnerId: string; amountMinor: bigint }[];
  };
}

/**
 * The latest attribution with the contract's fixed consideration split by it: what
 * `agora attribution explain` prints. Computes the first version when there is none yet.
 */
export async function explainAttribution(
  deps: AttributionDeps,
  contractId: string,
  options: { recompute: boolean } = { recompute: false },
): Promise<AttributionExplanation> {
  const contract = await deps.contracts.get(contractId);
  if (!contract) throw new NotFoundError(`No contract ${contractId}`);
  const latest = options.recompute ? null : await deps.attribution.latest(contractId);
  const attribution = latest ?? (await attributeContract(deps, contractId)).attribution;
  const totalMinor = contract.terms.fixedCharges.reduce((sum, c) => sum + c.amountMinor, 0n);
  return {
    contractId,
    attribution,
    split: {
      currency: contract.terms.currency,
      totalMinor,
      shares: attribution ? splitByShares(totalMinor, attribution.shares) : [],
    },
  };
}
