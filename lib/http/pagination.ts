/**
 * Cursor pagination shared by every list endpoint: `?limit=&cursor=` in, `{items, nextCursor}`
 * out. Cursors are opaque (issued and checked by lib/store); limits are bounded.
 */
import { z } from 'zod';

export const PAGE_SIZE_DEFAULT = 50;
export const PAGE_SIZE_MAX = 200;
export const CURSOR_LENGTH_MAX = 4_096;

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_DEFAULT),
  cursor: z.string().min(1).max(CURSOR_LENGTH_MAX).optional(),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    /** Pass as ?cursor= to get the next page; null on the last page. */
    nextCursor: z.string().nullable(),
  });
}
