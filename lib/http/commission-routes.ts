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

const ReportAmountsSchema = z.object({
  sourcedRevenueMinor: MinorUnitsSchema,
  influencedRevenueMinor: MinorUnitsSchema,
  resaleRevenueMinor: MinorUnitsSchema,
  earnedMinor: MinorUnitsSchema,
  clawedBackMinor: MinorUnitsSchema,
  expenseMinor: MinorUnitsSchema,
  contraRevenueMinor: MinorUnitsSchema,
  capitalizedMinor: MinorUnitsSchema,
  releasedMinor: MinorUnitsSchema,
  paidMinor: MinorUnitsSchema,
  openingPayableMinor: MinorUnitsSchema,
  openingHeldMinor: MinorUnitsSchema,
  payableMinor: MinorUnitsSchema,
  heldMinor: MinorUnitsSchema,
  lines: z.int(),
});

export const CommissionReportSchema = z.object({
  from: PeriodSchema,
  to: PeriodSchema,
  currency: z.string(),
  formula: z.string(),
  rows: z.array(
    ReportAmountsSchema.extend({
      partnerId: z.string(),
      period: PeriodSchema,
      tier: z.string(),
      planId: z.string(),
      planVersion: z.int(),
      basisKind: z.enum(['recognized', 'billed', 'collected']).nullable(),
      payoutId: z.string().nullable(),
    }),
  ),
  totals: z.array(ReportAmountsSchema.extend({ period: PeriodSchema })),
});

export const getCommissionReportRoute = defineRoute({
  name: 'get-commission-report',
  method: 'GET',
  path: '/v1/reports/partner-commission',
  summary:
    'Partner-sourced, influenced and resale revenue, commission expense, payable and held, per partner and month',
  description:
    'From what the month-end commission runs stored (a month not yet run does not appear). `format=csv` answers text/csv with one row per partner and month, amounts in minor units.',
  tags: ['commission'],
  access: { roles: PLAN_WRITERS },
  query: z.object({
    from: PeriodSchema,
    to: PeriodSchema,
    partnerId: z.string().min(1).max(128).optional(),
    format: z.enum(['json', 'csv']).default('json'),
  }),
  /** JSON by default; with format=csv the handler answers a text/csv file instead. */
  response: CommissionReportSchema,
});

export const COMMISSION_ROUTES: readonly RouteDefinition[] = [
  addCommissionPlanRoute,
  listCommissionPlansRoute,
  getCommissionPlanRoute,
  runCommissionRoute,
  getCommissionReportRoute,
];
