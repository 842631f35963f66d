/**
 * Commission plan routes: versioned, effective-dated plans (finance.md §5.1). Finance and
 * admins only; partners see their plan through their statements.
 */
import { z } from 'zod';
import { CommissionPlanSchema } from '../domain/commission/plan';
import { MinorUnitsSchema, PeriodSchema } from '../domain/schemas/primitives';
import { defineRoute, type RouteDefinition } from './route';

const PLAN_WRITERS = ['admin', 'finance'] as const;

export const CommissionRunSummarySchema = z.object({
  period: z.string(),
  runId: z.string(),
  planId: z.string(),
  currency: z.string(),
  planVersion: z.int().nullable(),
  contracts: z.int(),
  contractsWithoutShares: z.int(),
  partnersProcessed: z.int(),
  unregisteredShares: z.int(),
  lines: z.int(),
  totals: z.object({
    earnedMinor: MinorUnitsSchema,
    clawedBackMinor: MinorUnitsSchema,
    heldMinor: MinorUnitsSchema,
    payableMinor: MinorUnitsSchema,
    paidMinor: MinorUnitsSchema,
  }),
  entriesPosted: z.int(),
  entriesAlreadyPosted: z.int(),
  problemCount: z.int(),
  problems: z.array(
    z.object({
      contractId: z.string().optional(),
      partnerId: z.string().optional(),
      code: z.string(),
      message: z.string(),
    }),
  ),
});
const PlanParams = z.object({ planId: z.string().min(1).max(128) });

export const addCommissionPlanRoute = defineRoute({
  name: 'add-commission-plan',
  method: 'POST',
  path: '/v1/commission-plans',
  summary: 'Add the next version of a commission plan (never an overwrite)',
  description:
    'Answers 400 with every problem at once (rate rows, bands, caps, currency) and stores nothing when the plan is invalid. The version is assigned: 1 for a new plan id, else the next.',
  tags: ['commission'],
  access: { roles: PLAN_WRITERS },
  body: z.looseObject({ planId: z.string().min(1).max(128) }).meta({
    description: 'A CommissionPlan without its version (JSON Schema: CommissionPlan)',
  }),
  response: CommissionPlanSchema,
  successStatus: 201,
  idempotency: 'optional',
});

export const listCommissionPlansRoute = defineRoute({
  name: 'list-commission-plans',
  method: 'GET',
  path: '/v1/commission-plans',
  summary: 'Every commission plan with its newest version',
  tags: ['commission'],
  access: { roles: PLAN_WRITERS },
  response: z.object({ items: z.array(CommissionPlanSchema) }),
});

export const getCommissionPlanRoute = defineRoute({
  name: 'get-commission-plan',
  method: 'GET',
  path: '/v1/commission-plans/{planId}',
  summary: 'Every version of a commission plan, newest first',
  tags: ['commission'],
  access: { roles: PLAN_WRITERS },
  params: PlanParams,
  response: z.object({ planId: z.string(), versions: z.array(CommissionPlanSchema) }),
});

export const runCommissionRoute = defineRoute({
  name: 'run-commission',
  method: 'POST',
  path: '/v1/commission-runs',
  summary: 'Run commission for an ended month: accruals, holds, releases and payouts posted once',
  description:
    'Rerunning a month posts nothing new. Problems with one partner (no tier, a missing rate, a closed period) are listed and never stop the others.',
  tags: ['commission'],
  access: { roles: PLAN_WRITERS },
  body: z.object({ period: PeriodSchema }),
  response: CommissionRunSummarySchema,
  idempotency: 'optional',
});

export const COMMISSION_ROUTES: readonly RouteDefinition[] = [
  addCommissionPlanRoute,
  listCommissionPlansRoute,
  getCommissionPlanRoute,
  runCommissionRoute,
];
