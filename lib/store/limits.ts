/**
 * DynamoDB's hard limits as named constants (perf.md §3), enforced before a request is sent so a
 * violation is a clear, typed error instead of a ValidationException from the service.
 */
export const TRANSACT_ITEMS_MAX = 100;
export const TRANSACT_REQUEST_BYTES_MAX = 4 * 1024 * 1024;
export const ITEM_BYTES_MAX = 400 * 1024;
export const BATCH_WRITE_ITEMS_MAX = 25;
export const QUERY_PAGE_BYTES_MAX = 1024 * 1024;
/** Items per page we ever ask for. */
export const QUERY_PAGE_ITEMS_MAX = 1_000;
/** Pages one logical read may walk before it must hand a cursor back to its caller. */
export const QUERY_PAGES_MAX = 100;
/** Attempts for a transaction cancelled by a conflict or throttling (not by a condition). */
export const TRANSACTION_ATTEMPTS_MAX = 5;
export const TRANSACTION_RETRY_BASE_DELAY_MS = 25;
export const TRANSACTION_RETRY_MAX_DELAY_MS = 1_000;
