/**
 * Product listings: read from each marketplace, changed where the marketplace allows it (AWS
 * through Catalog change sets, Azure through the Product Ingestion API). Google Cloud Marketplace
 * has no listing write API, so a write there is refused with the reason, not attempted.
 */
import { randomUUID } from 'node:crypto';
import { AgoraError } from '../domain/errors';
import { hashParts } from '../domain/ids';
import type { ListingCreate, ListingUpdate, ListingView } from '../domain/listings/listing';
import { MARKETPLACES, type Marketplace } from '../domain/schemas/primitives';
import { NotFoundError } from './errors';
import type { ListingGateway } from './ports';

/** A change request token (AWS allows at most 36 characters). */
const REQUEST_TOKEN_LENGTH = 36;

export class ListingReadOnlyError extends AgoraError {
  readonly code = 'listing_read_only';
  readonly status = 405;
}

export interface ListingDeps {
  readonly listingGateways: Readonly<Partial<Record<Marketplace, ListingGateway>>>;
}

const READ_ONLY_REASON: Partial<Record<Marketplace, string>> = {
  gcp: 'Google Cloud Marketplace has no API to change a listing; edit it in the Producer Portal',
};

function gatewayFor(deps: ListingDeps, marketplace: Marketplace): ListingGateway {
  const gateway = deps.listingGateways[marketplace];
  if (!gateway) throw new NotFoundError(`No listings are configured for ${marketplace}`);
  return gateway;
}

function writable(deps: ListingDeps, marketplace: Marketplace): ListingGateway {
  const reason = READ_ONLY_REASON[marketplace];
  if (reason) throw new ListingReadOnlyError(reason);
  return gatewayFor(deps, marketplace);
}

function requestToken(by: string, idempotencyKey: string | null): string {
  return hashParts(['listing', by, idempotencyKey ?? randomUUID()]).slice(0, REQUEST_TOKEN_LENGTH);
}

export async function listListings(
  deps: ListingDeps,
  marketplace: Marketplace | undefined,
): Promise<ListingView[]> {
  const out: ListingView[] = [];
  for (const m of marketplace ? [marketplace] : MARKETPLACES) {
    const gateway = deps.listingGateways[m];
    if (gateway) out.push(...(await gateway.list()));
  }
  return out;
}

export async function getListing(
  deps: ListingDeps,
  marketplace: Marketplace,
  productId: string,
): Promise<ListingView> {
  const listing = await gatewayFor(deps, marketplace).read(productId);
  if (!listing) throw new NotFoundError(`No ${marketplace} listing ${productId}`);
  return listing;
}

export async function updateListing(
  deps: ListingDeps,
  input: {
    marketplace: Marketplace;
    productId: string;
    update: ListingUpdate;
    by: string;
    idempotencyKey: string | null;
  },
): Promise<{ listing: ListingView; change: { marketplace: Marketplace; changeId: string } }> {
  const gateway = writable(deps, input.marketplace);
  const current = await gatewayFor(deps, input.marketplace).read(input.productId);
  if (!current) throw new NotFoundError(`No ${input.marketplace} listing ${input.productId}`);
  const { changeId } = await gateway.update(
    input.productId,
    input.update,
    current,
    requestToken(input.by, input.idempotencyKey),
  );
  return { listing: current, change: { marketplace: input.marketplace, changeId } };
}

export async function createListing(
  deps: ListingDeps,
  input: { listing: ListingCreate; by: string; idempotencyKey: string | null },
): Promise<{ change: { marketplace: Marketplace; changeId: string } }> {
  const { changeId } = await writable(deps, input.listing.marketplace).create(
    input.listing,
    requestToken(input.by, input.idempotencyKey),
  );
  return { change: { marketplace: input.listing.marketplace, changeId } };
}
