/**
 * A product listing as a seller edits it, whatever the marketplace: its information and its
 * pricing dimensions. What each marketplace lets us change differs (Google Cloud has no write
 * API at all), so every listing says whether it is writable and where it was read from.
 */
import { z } from 'zod';
import { MarketplaceSchema } from '../schemas/primitives';

export const LISTING_DIMENSIONS_MAX = 200;
export const LISTING_HIGHLIGHTS_MAX = 3;
export const LISTING_KEYWORDS_MAX = 3;

export const ListingDimensionSchema = z.object({
  key: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits and _ . - only'),
  name: z.string().min(1).max(150),
  description: z.string().min(1).max(250),
  /** Unit of measure (AWS: Units, Requests, Hosts…). */
  unit: z.string().min(1).max(50),
  /** `entitled`: bought up front (contract); `metered`: reported usage. */
  type: z.enum(['entitled', 'metered']),
});
export type ListingDimension = z.infer<typeof ListingDimensionSchema>;

export const ListingInformationSchema = z.object({
  title: z.string().min(1).max(72).optional(),
  shortDescription: z.string().min(1).max(1_000).optional(),
  longDescription: z.string().min(1).max(5_000).optional(),
  highlights: z.array(z.string().min(1).max(250)).max(LISTING_HIGHLIGHTS_MAX).optional(),
  keywords: z.array(z.string().min(1).max(250)).max(LISTING_KEYWORDS_MAX).optional(),
});

/** PATCH: information to change and dimensions to add (or update, by key). */
export const ListingUpdateSchema = ListingInformationSchema.extend({
  dimensions: z.array(ListingDimensionSchema).max(LISTING_DIMENSIONS_MAX).optional(),
}).refine((u) => Object.values(u).some((v) => v !== undefined), {
  message: 'Give at least one field to change',
});
export type ListingUpdate = z.infer<typeof ListingUpdateSchema>;

/** POST: a new product listing. */
export const ListingCreateSchema = ListingInformationSchema.extend({
  marketplace: MarketplaceSchema,
  title: z.string().min(1).max(72),
  dimensions: z.array(ListingDimensionSchema).max(LISTING_DIMENSIONS_MAX).default([]),
});
export type ListingCreate = z.infer<typeof ListingCreateSchema>;

export const ListingViewSchema = z.object({
  marketplace: MarketplaceSchema,
  productId: z.string(),
  title: z.string().nullable(),
  shortDescription: z.string().nullable(),
  longDescription: z.string().nullable(),
  highlights: z.array(z.string()),
  keywords: z.array(z.string()),
  dimensions: z.array(
    ListingDimensionSchema.partial({ name: true, description: true, unit: true, type: true }),
  ),
  status: z.string().nullable(),
  /** Whether Agora can change this listing on its marketplace. */
  writable: z.boolean(),
  /** `marketplace`: read live; `configuration`: what this deployment was told (no read API). */
  source: z.enum(['marketplace', 'configuration']),
  /** Checks of the listing against the marketplace (e.g. Azure plan terms readable). */
  checks: z.array(z.object({ check: z.string(), ok: z.boolean(), detail: z.string() })),
});
export type ListingView = z.infer<typeof ListingViewSchema>;

/** Dimensions an update adds, and the ones it changes (by key), against the current listing. */
export function splitDimensions(
  current: readonly { key: string }[],
  requested: readonly ListingDimension[],
): { added: ListingDimension[]; updated: ListingDimension[] } {
  const known = new Set(current.map((d) => d.key));
  return {
    added: requested.filter((d) => !known.has(d.key)),
    updated: requested.filter((d) => known.has(d.key)),
  };
}
