/**
 * Reading contracts: one contract, lists (by marketplace, status or customer, paginated), its
 * history, and the question the seller's product asks most — "is this customer entitled now?".
 */
import { compareDates, dateOfInstant } from '../domain/calendar';
import type { ContractSnapshot } from '../domain/contract';
import { NotFoundError } from './errors';
import type { ContractListFilter, ContractStore, Page, PageRequest } from './ports';

/** Contracts of one customer examined by an entitlement check (pages of the customer index). */
export const ENTITLEMENT_CONTRACTS_MAX = 500;
const ENTITLEMENT_PAGE_SIZE = 100;

export async function getContract(
  contracts: ContractStore,
  contractId: string,
): Promise<ContractSnapshot> {
  const snapshot = await contracts.get(contractId);
  if (!snapshot) throw new NotFoundError(`No contract ${contractId}`);
  return snapshot;
}

export function listContracts(
  contracts: ContractStore,
  filter: ContractListFilter,
  page: PageRequest,
): Promise<Page<ContractSnapshot>> {
  return contracts.list(filter, page);
}

export interface EntitlementLine {
  readonly contractId: string;
  readonly marketplace: ContractSnapshot['marketplace'];
  readonly productId: string;
  readonly status: ContractSnapshot['status'];
  readonly plan: string | null;
  readonly term: ContractSnapshot['terms']['term'];
  readonly dimensions: { dimension: string; quantity: string | null }[];
  readonly entitled: boolean;
  /** Why not, when not entitled. */
  readonly reason: string | null;
}

export interface EntitlementAnswer {
  readonly customer: string;
  readonly checkedAt: string;
  readonly entitled: boolean;
  readonly entitlements: EntitlementLine[];
}

/** The dimensions a contract grants: granted quantities, upfront charges and usage rates. */
export function dimensionsOf(
  snapshot: ContractSnapshot,
): { dimension: string; quantity: string | null }[] {
  const byName = new Map<string, string | null>();
  for (const grant of snapshot.terms.grants) byName.set(grant.dimension, grant.quantity);
  for (const charge of snapshot.terms.fixedCharges)
    if (!byName.has(charge.dimension)) byName.set(charge.dimension, null);
  for (const rate of snapshot.terms.usageRates)
    if (!byName.has(rate.dimension)) byName.set(rate.dimension, null);
  return [...byName].map(([dimension, quantity]) => ({ dimension, quantity }));
}

/** Whether one contract entitles its buyer on `day` (pure). */
export function entitlementOf(
  snapshot: ContractSnapshot,
  day: string,
  dimension?: string,
): EntitlementLine {
  const dimensions = dimensionsOf(snapshot);
  const { term } = snapshot.terms;
  let reason: string | null = null;
  if (snapshot.status !== 'active') reason = `contract is ${snapshot.status}`;
  else if (compareDates(day, term.start) < 0) reason = `term starts ${term.start}`;
  else if (term.end !== null && compareDates(day, term.end) >= 0) reason = `term ended ${term.end}`;
  else if (dimension !== undefined && !dimensions.some((d) => d.dimension === dimension))
    reason = `no dimension ${dimension}`;
  return {
    contractId: snapshot.contractId,
    marketplace: snapshot.marketplace,
    productId: snapshot.terms.productId,
    status: snapshot.status,
    plan: snapshot.terms.plan,
    term,
    dimensions,
    entitled: reason === null,
    reason,
  };
}

export async function checkEntitlement(
  contracts: ContractStore,
  query: {
    customer: string;
    product?: string | undefined;
    dimension?: string | undefined;
    now: string;
  },
): Promise<EntitlementAnswer> {
  const day = dateOfInstant(query.now);
  const lines: EntitlementLine[] = [];
  let cursor: string | undefined;
  for (let seen = 0; seen < ENTITLEMENT_CONTRACTS_MAX; seen += ENTITLEMENT_PAGE_SIZE) {
    const page = await contracts.list(
      { customer: query.customer },
      { limit: ENTITLEMENT_PAGE_SIZE, cursor },
    );
    for (const snapshot of page.items) {
      if (
        query.product !== undefined &&
        snapshot.terms.productId !== query.product &&
        snapshot.refs.productCode !== query.product
      )
        continue;
      lines.push(entitlementOf(snapshot, day, query.dimension));
    }
    if (!page.cursor) break;
    cursor = page.cursor;
  }
  return {
    customer: query.customer,
    checkedAt: query.now,
    entitled: lines.some((l) => l.entitled),
    entitlements: lines,
  };
}
