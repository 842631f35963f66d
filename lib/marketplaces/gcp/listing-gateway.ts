/**
 * Google Cloud Marketplace listings, read-only: a product as the Commerce Producer API shows it
 * (unverified, early access). Google has no API to change a listing; the use case refuses writes
 * before they reach here.
 */
import { MarketplaceUnavailableError } from '../../app/errors';
import type { ListingGateway } from '../../app/ports';
import { InvalidInputError } from '../../domain/errors';
import type { ListingCreate, ListingView } from '../../domain/listings/listing';
import { requestJson } from '../../outbound/http-json';

export interface GcpListingSettings {
  readonly baseUrl: string;
  readonly token: () => Promise<string>;
  readonly providerId: string;
  /** The products this deployment sells (Google has no "list my products" call we could verify). */
  readonly productIds: () => readonly string[];
}

export class GcpListingGateway implements ListingGateway {
  constructor(private readonly settings: GcpListingSettings) {}

  async list(): Promise<ListingView[]> {
    const out: ListingView[] = [];
    for (const id of this.settings.productIds()) {
      const listing = await this.read(id);
      if (listing) out.push(listing);
    }
    return out;
  }

  async read(productId: string): Promise<ListingView | null> {
    // unverified: GET /v1beta/providers/{provider}/products/{product}.
    const response = await requestJson(
      `${this.settings.baseUrl.replace(/\/+$/, '')}/v1beta/providers/${encodeURIComponent(this.settings.providerId)}/products/${encodeURIComponent(productId)}`,
      { method: 'GET', headers: { authorization: `Bearer ${await this.settings.token()}` } },
      { operation: 'GetProduct' },
    );
    if (response.status === 404) return null;
    if (response.status !== 200)
      throw new MarketplaceUnavailableError(
        `Reading Google product ${productId} answered ${response.status}`,
      );
    const body = response.body as {
      displayName?: string;
      plans?: { name: string }[];
      state?: string;
    };
    return {
      marketplace: 'gcp',
      productId,
      title: body.displayName ?? null,
      shortDescription: null,
      longDescription: null,
      highlights: [],
      keywords: [],
      dimensions: (body.plans ?? []).map((p) => ({ key: p.name, type: 'entitled' as const })),
      status: body.state ?? null,
      writable: false,
      source: 'marketplace',
      checks: [],
    };
  }

  async update(): Promise<{ changeId: string }> {
    throw new InvalidInputError(
      'listing_read_only',
      'Google Cloud Marketplace listings are read-only',
    );
  }

  async create(_listing: ListingCreate): Promise<{ changeId: string }> {
    throw new InvalidInputError(
      'listing_read_only',
      'Google Cloud Marketplace listings are read-only',
    );
  }
}
