/**
 * Azure Marketplace listings through the Product Ingestion API: read with the product's resource
 * tree (product, listing, plans), changed with one `configure` request (a listing resource for
 * the texts, a plan resource per new pricing dimension), and checked by reading each plan's
 * marketplace terms through @azure/arm-marketplaceordering.
 */

import { MarketplaceUnavailableError } from '../../app/errors';
import type { ListingGateway } from '../../app/ports';
import { InvalidInputError } from '../../domain/errors';
import type { ListingCreate, ListingUpdate, ListingView } from '../../domain/listings/listing';
import { type JsonResponse, requestJson } from '../../outbound/http-json';
import type { AzurePlanTermsReader } from './plan-terms';
import { planTermsCheck } from './plan-terms';

// unverified: the Product Ingestion resource schemas and resource-tree shape (see the simulator).
const VERSION = '2022-07-01';
const CONFIGURE_SCHEMA = 'https://schema.mp.microsoft.com/schema/configure/2022-07-01';
const LISTING_SCHEMA = 'https://schema.mp.microsoft.com/schema/listing/2022-07-01';
const PLAN_SCHEMA = 'https://schema.mp.microsoft.com/schema/plan/2022-07-01';
const REPEATABILITY_HEADER = 'repeatability-request-id';

interface TreeResource {
  $schema?: string;
  id?: string;
  title?: string;
  summary?: string;
  description?: string;
  alias?: string;
  identity?: { externalId?: string };
}

export interface AzureListingSettings {
  readonly baseUrl: string;
  readonly token: () => Promise<string>;
  /** The seller's configured offers (their ids are the products listed). */
  readonly productIds: () => readonly string[];
  /** The publisher id plan terms are read under. */
  readonly publisherId: string;
  readonly planTerms: AzurePlanTermsReader | null;
}

const kind = (schema: string | undefined) => /\/schema\/([a-z-]+)\//.exec(schema ?? '')?.[1] ?? '';

export class AzureListingGateway implements ListingGateway {
  constructor(private readonly settings: AzureListingSettings) {}

  private async call(
    method: string,
    path: string,
    operation: string,
    extra: { body?: unknown; token?: string } = {},
  ): Promise<JsonResponse> {
    return requestJson(
      `${this.settings.baseUrl.replace(/\/+$/, '')}/rp/product-ingestion/${path}?$version=${VERSION}`,
      {
        method,
        headers: {
          authorization: `Bearer ${await this.settings.token()}`,
          ...(extra.token ? { [REPEATABILITY_HEADER]: extra.token } : {}),
        },
        ...(extra.body !== undefined ? { body: extra.body } : {}),
      },
      { operation },
    );
  }

  async list(): Promise<ListingView[]> {
    const out: ListingView[] = [];
    for (const id of this.settings.productIds()) {
      const listing = await this.read(id);
      if (listing) out.push(listing);
    }
    return out;
  }

  async read(productId: string): Promise<ListingView | null> {
    const response = await this.call(
      'GET',
      `resource-tree/product/${encodeURIComponent(productId)}`,
      'ResourceTree',
    );
    if (response.status === 404) return null;
    if (response.status !== 200)
      throw new MarketplaceUnavailableError(
        `Reading Azure product ${productId} answered ${response.status}`,
      );
    const resources = (response.body as { resources?: TreeResource[] }).resources ?? [];
    const listing = resources.find((r) => kind(r.$schema) === 'listing') ?? {};
    const plans = resources.filter((r) => kind(r.$schema) === 'plan');
    const checks = [];
    if (this.settings.planTerms) {
      for (const plan of plans) {
        const planId = plan.identity?.externalId ?? '';
        checks.push(
          planTermsCheck(
            planId,
            await this.settings.planTerms.read(this.settings.publisherId, productId, planId),
          ),
        );
      }
    }
    return {
      marketplace: 'azure',
      productId,
      title: listing.title ?? null,
      shortDescription: listing.summary ?? null,
      longDescription: listing.description ?? null,
      highlights: [],
      keywords: [],
      dimensions: plans.map((p) => ({
        key: p.identity?.externalId ?? '',
        ...(p.alias ? { name: p.alias } : {}),
        type: 'entitled' as const,
      })),
      status: 'published',
      writable: true,
      source: 'marketplace',
      checks,
    };
  }

  async update(
    productId: string,
    update: ListingUpdate,
    _current: ListingView,
    requestToken: string,
  ): Promise<{ changeId: string }> {
    if (update.highlights !== undefined || update.keywords !== undefined)
      throw new InvalidInputError(
        'not_supported_on_azure',
        'Azure listings have no highlights or search keywords in the Product Ingestion listing resource',
      );
    const product = `product/${productId}`;
    const resources: Record<string, unknown>[] = [];
    if (
      update.title !== undefined ||
      update.shortDescription !== undefined ||
      update.longDescription !== undefined
    )
      resources.push({
        $schema: LISTING_SCHEMA,
        product,
        ...(update.title !== undefined ? { title: update.title } : {}),
        ...(update.shortDescription !== undefined ? { summary: update.shortDescription } : {}),
        ...(update.longDescription !== undefined ? { description: update.longDescription } : {}),
      });
    // A plan resource is an upsert by its external id: a known plan gets its new alias, an
    // unknown key becomes a new plan.
    for (const d of update.dimensions ?? []) {
      if (d.type === 'metered')
        throw new InvalidInputError(
          'not_supported_on_azure',
          `Dimension ${d.key}: metered dimensions belong to a plan's meters, not a plan`,
        );
      resources.push({
        $schema: PLAN_SCHEMA,
        product,
        identity: { externalId: d.key },
        alias: d.name,
      });
    }
    return this.configure(resources, requestToken);
  }

  async create(listing: ListingCreate, _requestToken: string): Promise<{ changeId: string }> {
    throw new InvalidInputError(
      'not_supported_on_azure',
      `Creating an Azure offer (${listing.title}) is done in Partner Center; Agora edits existing offers' listings and plans`,
    );
  }

  private async configure(
    resources: Record<string, unknown>[],
    token: string,
  ): Promise<{ changeId: string }> {
    const response = await this.call('POST', 'configure', 'Configure', {
      body: { $schema: CONFIGURE_SCHEMA, resources },
      token,
    });
    if (response.status >= 400)
      throw new InvalidInputError(
        'marketplace_rejected',
        `Azure refused the listing change (${response.status}): ${JSON.stringify(response.body).slice(0, 500)}`,
      );
    const jobId = (response.body as { jobId?: string }).jobId;
    if (!jobId) throw new MarketplaceUnavailableError('Configure answered without a job id');
    return { changeId: jobId };
  }
}
