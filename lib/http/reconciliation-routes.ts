/**
 * Reconciliation routes (issue 14), for finance: the reconciliations run (a report dropped into
 * the report bucket, or `agora reconcile`), one with its summary, roll-forward, aging and the
 * first items of each list, the lists page by page, and the approval of a proposed true-up.
 */
import { z } from 'zod';
import { RECONCILIATION_SOURCES } from '../app/reconciliation';
import { InvalidInputError } from '../domain/errors';
import { CalendarDateSchema, MinorUnitsSchema } from '../domain/schemas/primitives';
import { PageQuerySchema, pageOf } from './pagination';
import { defineRoute, type RouteDefinition } from './route';

const RECONCILIATION_READERS = ['admin', 'finance'] as const;
/** Items of each list the single-reconciliation view carries (the rest through /items). */
export const RECONCILIATION_VIEW_ITEMS_MAX = 200;

export const RECONCILIATION_LISTS = [
  'matched',
  'withinTolerance',
  'exceptions',
  'rowErrors',
  'aging',
  'disbursementCandidates',
] as const;
export type ReconciliationList = (typeof RECONCILIATION_LISTS)[number];

const ReconciliationIdSchema = z
  .string()
  .regex(/^rec-[0-9a-f]{24}$/, 'A reconciliation id, e.g. rec-0123456789abcdef01234567');

const TrueUpSchema = z.object({
  trueUpId: z.string(),
  kind: z.enum(['true_up', 'reversal']),
  key: z.string(),
  contractId: z.string().nullable(),
  internalId: z.string().nullable(),
  level: z.string(),
  status: z.enum(['posted', 'unchanged', 'proposed', 'approved', 'failed']),
  currency: z.string(),
  account: z.string(),
  counterAccount: z.string(),
  targetMinor: MinorUnitsSchema,
  postedBeforeMinor: MinorUnitsSchema,
  deltaMinor: MinorUnitsSchema,
  period: z.string(),
  problem: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});

const DisbursementOutcomeSchema = z.object({
  disbursementId: z.string(),
  contractId: z.string(),
  amountMinor: MinorUnitsSchema,
  currency: z.string(),
  outcome: z.enum(['recorded', 'already_recorded', 'failed', 'not_attempted']),
  problem: z.string().nullable(),
});

export const ReconciliationRecordSchema = z.object({
  reconciliationId: z.string(),
  source: z.enum(RECONCILIATION_SOURCES),
  marketplace: z.enum(['aws', 'azure', 'gcp']),
  asOf: z.string(),
  fileName: z.string(),
  fileSha256: z.string(),
  bankFileName: z.string().nullable(),
  rows: z.int(),
  ranAt: z.string(),
  ranBy: z.string(),
  matched: z.int(),
  withinTolerance: z.int(),
  exceptions: z.int(),
  rowErrors: z.int(),
  disbursementsRecorded: z.int(),
  disbursementsFailed: z.int(),
  trueUpsPosted: z.int(),
  trueUpsProposed: z.int(),
  trueUpsFailed: z.int(),
});

/** Result items as JSON: amounts are strings of minor units, as everywhere in the API. */
const JsonItem = z.record(z.string(), z.unknown());

const Params = z.object({ reconciliationId: ReconciliationIdSchema });

export const listReconciliationsRoute = defineRoute({
  name: 'list-reconciliations',
  method: 'GET',
  path: '/v1/reconciliations',
  summary: 'Reconciliations of marketplace reports against the ledger, latest first',
  tags: ['finance'],
  access: { roles: RECONCILIATION_READERS },
  query: PageQuerySchema,
  response: pageOf(ReconciliationRecordSchema),
});

export const getReconciliationRoute = defineRoute({
  name: 'get-reconciliation',
  method: 'GET',
  path: '/v1/reconciliations/{reconciliationId}',
  summary: 'One reconciliation: summary, roll-forward, aging, and the first items of each list',
  description: `Each list (matched, withinTolerance, exceptions, rowErrors, aging, disbursementCandidates) carries its first ${RECONCILIATION_VIEW_ITEMS_MAX} items and its total; page through the rest with /items. Amounts are strings of minor units. \`disbursements\` says what became of each payout found, \`trueUps\` each correction (posted, unchanged, proposed, approved, failed).`,
  tags: ['finance'],
  access: { roles: RECONCILIATION_READERS },
  params: Params,
  response: z.object({
    record: ReconciliationRecordSchema,
    asOf: CalendarDateSchema,
    firstOpenPeriod: z.string(),
    summary: JsonItem,
    rollForward: z.array(JsonItem),
    agingSummary: z.array(JsonItem),
    disbursements: z.array(DisbursementOutcomeSchema),
    trueUps: z.array(TrueUpSchema),
    lists: z.record(
      z.enum(RECONCILIATION_LISTS),
      z.object({ total: z.int(), items: z.array(JsonItem) }),
    ),
  }),
});

export const listReconciliationItemsRoute = defineRoute({
  name: 'list-reconciliation-items',
  method: 'GET',
  path: '/v1/reconciliations/{reconciliationId}/items',
  summary: 'One list of a reconciliation (e.g. its exceptions), page by page',
  tags: ['finance'],
  access: { roles: RECONCILIATION_READERS },
  params: Params,
  query: PageQuerySchema.extend({ list: z.enum(RECONCILIATION_LISTS) }),
  response: pageOf(JsonItem),
});

export const approveTrueUpRoute = defineRoute({
  name: 'approve-true-up',
  method: 'POST',
  path: '/v1/reconciliations/{reconciliationId}/true-ups/{trueUpId}/approve',
  summary: 'Approve a proposed true-up: what its line still needs posts in the first open period',
  tags: ['finance'],
  access: { roles: RECONCILIATION_READERS },
  params: Params.extend({
    trueUpId: z
      .string()
      .regex(
        /^trueup-[0-9a-f]{24}-(?:\d{1,9}-)?m?\d{1,30}$/,
        'A true-up id from the reconciliation',
      ),
  }),
  response: TrueUpSchema,
  idempotency: 'optional',
});

export const RECONCILIATION_ROUTES: readonly RouteDefinition[] = [
  listReconciliationsRoute,
  getReconciliationRoute,
  listReconciliationItemsRoute,
  approveTrueUpRoute,
];

/** A result's items as JSON values: bigint amounts become strings of minor units. */
export function jsonItems(items: readonly unknown[]): Record<string, unknown>[] {
  return JSON.parse(
    JSON.stringify(items, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)),
  ) as Record<string, unknown>[];
}

/** Cursors of a stored list are offsets into it. */
export function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^\d{1,9}$/.test(cursor)) {
    throw new InvalidInputError('invalid_cursor', 'The cursor is not one this list issued');
  }
  return Number(cursor);
}
