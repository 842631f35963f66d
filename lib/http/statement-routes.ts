/**
 * Partner statement routes (issue 13): a partner reads its own statements (any other partner id
 * answers 404, never 403, so ids cannot be probed); finance and admins read all, generate a
 * period's statements on demand and verify a partner's hash chain.
 */
import { z } from 'zod';
import { NotFoundError } from '../app/errors';
import { PartnerIdSchema } from '../domain/partners/partner';
import { MinorUnitsSchema } from '../domain/schemas/primitives';
import type { Principal } from './auth';
import { PageQuerySchema, pageOf } from './pagination';
import { defineRoute, type RouteDefinition } from './route';

const STATEMENT_READERS = ['admin', 'finance', 'partner'] as const;
const STATEMENT_RUNNERS = ['admin', 'finance'] as const;

/** A month (YYYY-MM) or a quarter (YYYY-Qn). */
const StatementPeriodSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$/, 'A month YYYY-MM or a quarter YYYY-Qn');

/** A partner token sees only its own statements: another partner's id is not found. */
export function assertStatementsVisible(principal: Principal | null, partnerId: string): void {
  const roles = principal?.roles ?? [];
  // Only finance and admins see every partner's; any partner token is scoped to its own id.
  const unscoped = roles.includes('admin') || roles.includes('finance');
  if (!unscoped && principal?.partnerId !== partnerId) {
    throw new NotFoundError(`No statements for partner ${partnerId}`);
  }
}

const StatementParams = z.object({ partnerId: PartnerIdSchema });

export const StatementSummarySchema = z.object({
  partnerId: z.string(),
  period: z.string(),
  statementId: z.string(),
  sequence: z.int(),
  hash: z.string(),
  previousHash: z.string().nullable(),
  issuedAt: z.string(),
  currency: z.string(),
  payableMinor: MinorUnitsSchema,
  paidMinor: MinorUnitsSchema,
  closingPayableMinor: MinorUnitsSchema,
  closingHeldMinor: MinorUnitsSchema,
  archived: z.boolean(),
  delivery: z.enum(['pending', 'sent', 'failed', 'skipped']),
  formats: z.array(z.enum(['pdf', 'csv', 'json'])),
});

export const listStatementsRoute = defineRoute({
  name: 'list-partner-statements',
  method: 'GET',
  path: '/v1/partners/{partnerId}/statements',
  summary: 'A partner’s commission statements, latest period first',
  tags: ['statements'],
  access: { roles: STATEMENT_READERS },
  params: StatementParams,
  query: PageQuerySchema,
  response: pageOf(StatementSummarySchema),
});

export const getStatementRoute = defineRoute({
  name: 'get-partner-statement',
  method: 'GET',
  path: '/v1/partners/{partnerId}/statements/{period}',
  summary: 'One commission statement as PDF (default), CSV or JSON',
  description:
    'The archived file exactly as issued; its SHA-256 is in the index and `agora statements verify` checks it. Headers: x-statement-id, x-statement-hash.',
  tags: ['statements'],
  access: { roles: STATEMENT_READERS },
  params: StatementParams.extend({ period: StatementPeriodSchema }),
  query: z.object({ format: z.enum(['pdf', 'csv', 'json']).default('pdf') }),
  /** The handler answers the file itself (application/pdf, text/csv or application/json). */
  response: z.string(),
});

const StatementProblemSchema = z.object({
  partnerId: z.string().optional(),
  period: z.string().optional(),
  code: z.string(),
  message: z.string(),
});

export const StatementRunSummarySchema = z.object({
  period: z.string(),
  currency: z.string(),
  partners: z.int(),
  issued: z.array(
    z.object({
      partnerId: z.string(),
      statementId: z.string(),
      sequence: z.int(),
      hash: z.string(),
      delivery: z.enum(['pending', 'sent', 'failed', 'skipped']),
    }),
  ),
  alreadyIssued: z.array(z.string()),
  emailsSent: z.int(),
  emailsFailed: z.int(),
  problemCount: z.int(),
  problems: z.array(StatementProblemSchema),
});

export const runStatementsRoute = defineRoute({
  name: 'run-statements',
  method: 'POST',
  path: '/v1/statement-runs',
  summary: 'Issue the commission statements of an ended month or quarter (once each)',
  description:
    'For every partner with commission in the period (or the one named): build, check the identity and the tie to the ledger’s 2100/2110, chain the hash, archive PDF, CSV and JSON, email the PDF to the statement contacts. A statement already issued is not issued again; one that does not tie is not issued and raises an alarm.',
  tags: ['statements'],
  access: { roles: STATEMENT_RUNNERS },
  body: z.object({ period: StatementPeriodSchema, partnerId: PartnerIdSchema.optional() }),
  response: StatementRunSummarySchema,
  idempotency: 'optional',
});

export const verifyStatementsRoute = defineRoute({
  name: 'verify-partner-statements',
  method: 'POST',
  path: '/v1/partners/{partnerId}/statements/verify',
  summary: 'Check a partner’s statements: every file’s hash and the hash chain',
  tags: ['statements'],
  access: { roles: STATEMENT_RUNNERS },
  params: StatementParams,
  response: z.object({
    ok: z.boolean(),
    partnerId: z.string(),
    statements: z.int().optional(),
    period: z.string().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
  }),
});

export const STATEMENT_ROUTES: readonly RouteDefinition[] = [
  listStatementsRoute,
  getStatementRoute,
  runStatementsRoute,
  verifyStatementsRoute,
];
