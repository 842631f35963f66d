/**
 * Metering routes. POST /v1/usage answers 200 with one outcome per record: a bad record is
 * rejected on its own line (with the status it would have alone), never the batch; only a
 * malformed envelope is a 400. The record id is the idempotency key, so no Idempotency-Key.
 */
import { z } from 'zod';
import { REPORT_STATUSES } from '../domain/metering/ledger';
import {
  RECORD_ID_LENGTH_MAX,
  USAGE_BATCH_MAX,
  USAGE_REJECTION_CODES,
} from '../domain/metering/usage';
import { InstantSchema, MarketplaceSchema } from '../domain/schemas/primitives';
import { PageQuerySchema, pageOf } from './pagination';
import { defineRoute, type RouteDefinition } from './route';

const USAGE_WRITERS = ['service', 'seller'] as const;
const USAGE_READERS = ['seller', 'finance', 'admin', 'service'] as const;

/** Each record is checked on its own (per-record outcome); the envelope only needs its id. */
const UsageRecordEnvelopeSchema = z
  .looseObject({ recordId: z.string().min(1).max(RECORD_ID_LENGTH_MAX) })
  .meta({
    description:
      '{recordId, contractId | customerId, dimension, quantity (decimal string), usageTime (ISO instant)}. recordId is the idempotency key.',
  });

export const UsageBatchBodySchema = z.object({
  records: z.array(UsageRecordEnvelopeSchema).min(1).max(USAGE_BATCH_MAX),
});

export const UsageRecordResultSchema = z.object({
  recordId: z.string(),
  status: z.enum(['accepted', 'duplicate', 'rejected']),
  code: z.enum(USAGE_REJECTION_CODES).optional(),
  message: z.string().optional(),
  httpStatus: z.int().optional(),
  contractId: z.string().optional(),
  hourStart: InstantSchema.optional(),
});

export const UsageLineViewSchema = z.object({
  contractId: z.string(),
  marketplace: MarketplaceSchema,
  dimension: z.string(),
  hourStart: InstantSchema,
  hourEnd: InstantSchema,
  received: z.string(),
  recordCount: z.int(),
  sealed: z.boolean(),
  status: z.enum(REPORT_STATUSES),
  attempts: z.int(),
  reportId: z.string(),
  reported: z.string().nullable(),
  included: z.string(),
  marketplaceRef: z.string().nullable(),
  reason: z.string().nullable(),
  reportedAt: InstantSchema.nullable(),
  deadline: InstantSchema,
  eventRecorded: z.boolean(),
});

export const postUsageRoute = defineRoute({
  name: 'post-usage',
  method: 'POST',
  path: '/v1/usage',
  summary: 'Record metered usage: each record counted once, each outcome listed',
  description: `Up to ${USAGE_BATCH_MAX} records. Each is bucketed by the hour of its usageTime and answered accepted, duplicate (same recordId and content: counted once) or rejected with a stable code (HOUR_SEALED, LATE_USAGE, RECORD_CONFLICT, …).`,
  tags: ['usage'],
  access: { roles: USAGE_WRITERS },
  body: UsageBatchBodySchema,
  response: z.object({ results: z.array(UsageRecordResultSchema) }),
  successStatus: 200,
  idempotency: 'none',
});

export const listUsageRoute = defineRoute({
  name: 'list-usage',
  method: 'GET',
  path: '/v1/usage',
  summary: "A contract's usage ledger: hour lines with what was received and reported",
  description:
    'Hours with hourStart in [from, to), at most 31 days, hour order; without from/to the last 24 hours (the open hour included).',
  tags: ['usage'],
  access: { roles: USAGE_READERS },
  query: PageQuerySchema.extend({
    contractId: z.string().min(1).max(128),
    from: InstantSchema.optional(),
    to: InstantSchema.optional(),
  }),
  response: pageOf(UsageLineViewSchema),
});

export const USAGE_ROUTES: readonly RouteDefinition[] = [postUsageRoute, listUsageRoute];
