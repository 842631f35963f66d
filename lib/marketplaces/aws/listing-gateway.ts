/**
 * AWS Marketplace listings through the Catalog API: a SaaS product's information and its pricing
 * dimensions are read with DescribeEntity and changed with one change set on `SaaSProduct@1.0`
 * (UpdateInformation, AddDimensions, UpdateDimensions; CreateProduct for a new listing).
 */
import type { ListingGateway } from '../../app/ports';
import {
  type ListingCreate,
  type ListingDimension,
  type ListingUpdate,
  type ListingView,
  splitDimensions,
} from '../../domain/listings/listing';
import type { AwsCatalogGatewayRegistry } from './catalog-gateway';
import type { AwsCatalogGateway, CatalogChange } from './catalog-types';
import type { AwsMarketplaceSettings } from './config';

export const SAAS_PRODUCT_ENTITY_TYPE = 'SaaSProduct@1.0';
const CREATE_PRODUCT_CHANGE_NAME = 'CreateProductChange';

// unverified: the SaaSProduct@1.0 details field names (ProductTitle, ShortDescription,
// LongDescription, Highlights, SearchKeywords under Description; Dimensions with Key, Name,
// Description, Unit, Types) follow the Catalog API reference for SaaS products as remembered.
interface ProductDetails {
  Description?: {
    ProductTitle?: string;
    ShortDescription?: string;
    LongDescription?: string;
    Highlights?: string[];
    SearchKeywords?: string[];
  };
  Dimensions?: {
    Key: string;
    Name?: string;
    Description?: string;
    Unit?: string;
    Types?: string[];
  }[];
  Status?: string;
}

function information(update: Omit<ListingUpdate, 'dimensions'>): Record<string, unknown> {
  return {
    ...(update.title !== undefined ? { ProductTitle: update.title } : {}),
    ...(update.shortDescription !== undefined ? { ShortDescription: update.shortDescription } : {}),
    ...(update.longDescription !== undefined ? { LongDescription: update.longDescription } : {}),
    ...(update.highlights !== undefined ? { Highlights: update.highlights } : {}),
    ...(update.keywords !== undefined ? { SearchKeywords: update.keywords } : {}),
  };
}

function dimension(d: ListingDimension): Record<string, unknown> {
  return {
    Key: d.key,
    Name: d.name,
    Description: d.description,
    Unit: d.unit,
    Types: [d.type === 'metered' ? 'ExternallyMetered' : 'Entitled'],
  };
}

/** The change set of a listing update, in the order AWS applies it. */
export function listingChangeSet(
  productId: string,
  update: ListingUpdate,
  current: Pick<ListingView, 'dimensions'>,
): CatalogChange[] {
  const entity = { Type: SAAS_PRODUCT_ENTITY_TYPE, Identifier: productId };
  const changes: CatalogChange[] = [];
  const info = information(update);
  if (Object.keys(info).length > 0)
    changes.push({ ChangeType: 'UpdateInformation', Entity: entity, DetailsDocument: info });
  const { added, updated } = splitDimensions(current.dimensions, update.dimensions ?? []);
  if (added.length > 0)
    changes.push({
      ChangeType: 'AddDimensions',
      Entity: entity,
      DetailsDocument: { Dimensions: added.map(dimension) },
    });
  if (updated.length > 0)
    changes.push({
      ChangeType: 'UpdateDimensions',
      Entity: entity,
      DetailsDocument: { Dimensions: updated.map(dimension) },
    });
  return changes;
}

/** A new SaaS product: created, described and given its dimensions in one change set. */
export function createListingChangeSet(listing: ListingCreate): CatalogChange[] {
  const created = {
    Type: SAAS_PRODUCT_ENTITY_TYPE,
    Identifier: `$${CREATE_PRODUCT_CHANGE_NAME}.Entity.Identifier`,
  };
  const { marketplace: _marketplace, dimensions, ...info } = listing;
  return [
    {
      ChangeType: 'CreateProduct',
      ChangeName: CREATE_PRODUCT_CHANGE_NAME,
      Entity: { Type: SAAS_PRODUCT_ENTITY_TYPE },
      DetailsDocument: { ProductTitle: listing.title },
    },
    { ChangeType: 'UpdateInformation', Entity: created, DetailsDocument: information(info) },
    ...(dimensions.length > 0
      ? [
          {
            ChangeType: 'AddDimensions',
            Entity: created,
            DetailsDocument: { Dimensions: dimensions.map(dimension) },
          },
        ]
      : []),
  ];
}

export function listingFromEntity(productId: string, details: ProductDetails): ListingView {
  const d = details.Description ?? {};
  return {
    marketplace: 'aws',
    productId,
    title: d.ProductTitle ?? null,
    shortDescription: d.ShortDescription ?? null,
    longDescription: d.LongDescription ?? null,
    highlights: d.Highlights ?? [],
    keywords: d.SearchKeywords ?? [],
    dimensions: (details.Dimensions ?? []).map((x) => ({
      key: x.Key,
      ...(x.Name ? { name: x.Name } : {}),
      ...(x.Description ? { description: x.Description } : {}),
      ...(x.Unit ? { unit: x.Unit } : {}),
      ...(x.Types
        ? {
            type: x.Types.includes('ExternallyMetered')
              ? ('metered' as const)
              : ('entitled' as const),
          }
        : {}),
    })),
    status: details.Status ?? null,
    writable: true,
    source: 'marketplace',
    checks: [],
  };
}

export class AwsListingGateway implements ListingGateway {
  constructor(
    private readonly registry: AwsCatalogGatewayRegistry,
    private readonly settings: AwsMarketplaceSettings,
  ) {}

  private gateway(productId: string | null): AwsCatalogGateway {
    const owner =
      (productId &&
        this.settings.accounts.find((a) => a.products.some((p) => p.productId === productId))) ||
      this.settings.accounts[0] ||
      null;
    return this.registry.forAccount(owner);
  }

  /** The configured products, each read live. */
  async list(): Promise<ListingView[]> {
    const ids = this.settings.accounts.flatMap((a) =>
      a.products.flatMap((p) => (p.productId ? [p.productId] : [])),
    );
    const out: ListingView[] = [];
    for (const id of ids) {
      const listing = await this.read(id);
      if (listing) out.push(listing);
    }
    return out;
  }

  async read(productId: string): Promise<ListingView | null> {
    const entity = await this.gateway(productId).describeEntity(productId);
    if (!entity || entity.entityType !== SAAS_PRODUCT_ENTITY_TYPE) return null;
    return listingFromEntity(productId, entity.details as ProductDetails);
  }

  async update(
    productId: string,
    update: ListingUpdate,
    current: ListingView,
    requestToken: string,
  ): Promise<{ changeId: string }> {
    const started = await this.gateway(productId).startChangeSet({
      changes: listingChangeSet(productId, update, current),
      clientRequestToken: requestToken,
      changeSetName: `agora-listing-${productId}`.slice(0, 100),
    });
    return { changeId: started.changeSetId };
  }

  async create(listing: ListingCreate, requestToken: string): Promise<{ changeId: string }> {
    const started = await this.gateway(null).startChangeSet({
      changes: createListingChangeSet(listing),
      clientRequestToken: requestToken,
      changeSetName: 'agora-new-listing',
    });
    return { changeId: started.changeSetId };
  }
}
