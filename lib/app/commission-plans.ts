/**
 * Commission plans (finance.md §5.1) as versioned, effective-dated data: adding a plan version
 * never changes an earlier one, so a commission line can always name the plan version it used.
 */
import {
  type CommissionPlan,
  CommissionPlanSchema,
  commissionPlanInputProblems,
} from '../domain/commission/plan';
import { ConflictError, NotFoundError, ValidationFailedError } from './errors';

export interface CommissionPlanStore {
  /** All versions of a plan, newest first. */
  versions(planId: string): Promise<CommissionPlan[]>;
  /** False when that version exists already. */
  add(plan: CommissionPlan): Promise<boolean>;
  /** The newest version of every plan, by plan id. */
  latestVersions(): Promise<CommissionPlan[]>;
}

export interface CommissionPlanDeps {
  readonly commissionPlans: CommissionPlanStore;
  readonly revenue: { readonly functionalCurrency: string };
}

/** Validates the whole plan (every problem at once) and adds it as the next version. */
export async function addPlanVersion(
  deps: CommissionPlanDeps,
  input: Record<string, unknown>,
): Promise<CommissionPlan> {
  const planId = typeof input.planId === 'string' ? input.planId : '';
  const existing = planId ? await deps.commissionPlans.versions(planId) : [];
  const version = Math.max(0, ...existing.map((p) => p.version)) + 1;
  const candidate = { ...input, version };
  const problems = commissionPlanInputProblems(candidate).map((p) => ({
    ...p,
    path: p.path ? `body.${p.path}` : 'body',
  }));
  if (typeof input.currency === 'string' && input.currency !== deps.revenue.functionalCurrency)
    problems.push({
      path: 'body.currency',
      code: 'currency_not_functional',
      message: `Commission is computed in the books' currency, ${deps.revenue.functionalCurrency}`,
    });
  if (problems.length > 0)
    throw new ValidationFailedError('The commission plan is not valid', problems);
  const plan = CommissionPlanSchema.parse(candidate);
  if (!(await deps.commissionPlans.add(plan)))
    throw new ConflictError(
      'plan_version_taken',
      `Version ${version} of ${planId} was added meanwhile; retry`,
    );
  return plan;
}

export async function planVersions(
  deps: CommissionPlanDeps,
  planId: string,
): Promise<CommissionPlan[]> {
  const versions = await deps.commissionPlans.versions(planId);
  if (versions.length === 0) throw new NotFoundError(`No commission plan ${planId}`);
  return versions;
}

/** Every plan with its newest version. */
export async function listPlans(deps: CommissionPlanDeps): Promise<CommissionPlan[]> {
  return deps.commissionPlans.latestVersions();
}
