/** Listing routes: read on every marketplace, write where the marketplace has an API. */
import { z } from 'zod';
import {
  ListingCreateSchema,
  ListingUpdateSchema,
  ListingViewSchema,
} from '../domain/listings/listing';
import { MarketplaceSchema } from '../domain/schemas/primitives';
import { defineRoute, type RouteDefinition } from './route';

const WRITERS = ['seller', 'admin'] as const;
const READERS = ['seller', 'admin', 'finance'] as const;
const ListingParams = z.object({
  marketplace: MarketplaceSchema,
  productId: z.string().min(1).max(200),
});
const ChangeSchema = z.object({ marketplace: MarketplaceSchema, changeId: z.string() });

export const listListingsRoute = defineRoute({
  name: 'list-listings',
  method: 'GET',
  path: '/v1/listings',
  summary: "The seller's product listings, read from each marketplace",
  tags: ['listings'],
  access: { roles: READERS },
  query: z.object({ marketplace: MarketplaceSchema.optional() }),
  response: z.object({ items: z.array(ListingViewSchema) }),
});

export const getListingRoute = defineRoute({
  name: 'get-listing',
  method: 'GET',
  path: '/v1/listings/{marketplace}/{productId}',
  summary: 'A listing: information, pricing dimensions, status, whether Agora can change it',
  tags: ['listings'],
  access: { roles: READERS },
  params: ListingParams,
  response: ListingViewSchema,
});

export const updateListingRoute = defineRoute({
  name: 'update-listing',
  method: 'PATCH',
  path: '/v1/listings/{marketplace}/{productId}',
  summary: 'Change a listing’s information or add/update pricing dimensions (AWS, Azure)',
  description:
    'Answers 202 with the marketplace change started (AWS: a Catalog change set). Google Cloud listings are read-only: 405 listing_read_only.',
  tags: ['listings'],
  access: { roles: WRITERS },
  params: ListingParams,
  body: ListingUpdateSchema,
  response: z.object({ listing: ListingViewSchema, change: ChangeSchema }),
  successStatus: 202,
});

export const createListingRoute = defineRoute({
  name: 'create-listing',
  method: 'POST',
  path: '/v1/listings',
  summary: 'Create a product listing (AWS, Azure)',
  tags: ['listings'],
  access: { roles: WRITERS },
  body: ListingCreateSchema,
  response: z.object({ change: ChangeSchema }),
  successStatus: 202,
});

export const LISTING_ROUTES: readonly RouteDefinition[] = [
  listListingsRoute,
  getListingRoute,
  updateListingRoute,
  createListingRoute,
];
