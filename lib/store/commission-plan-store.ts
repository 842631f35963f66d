/**
 * Commission plans as immutable, effective-dated versions.
 *
 * Plan version: pk COMMPLAN#<planId> · sk V#<version> · data · gsi1pk COMMPLANS · gsi1sk <planId>#<version>
 */
import type { CommissionPlanStore } from '../app/commission-plans';
import { type CommissionPlan, CommissionPlanSchema } from '../domain/commission/plan';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { ITEM_ABSENT } from './transaction';

/** Versions of one plan read at once; a plan changes a few times a year. */
export const PLAN_VERSIONS_MAX = 500;
/** Plans listed at once. */
export const PLANS_MAX = 200;
const VERSION_DIGITS = 6;
const PLAN_PAGE_SIZE = 500;
const pad = (n: number) => String(n).padStart(VERSION_DIGITS, '0');

const decode = (item: Record<string, unknown>) =>
  CommissionPlanSchema.parse(JSON.parse(String(item.data)));

export class DynamoCommissionPlanStore implements CommissionPlanStore {
  constructor(private readonly store: DynamoStore) {}

  async versions(planId: string): Promise<CommissionPlan[]> {
    const page = await this.store.query({
      partitionKey: `COMMPLAN#${planId}`,
      limit: PLAN_VERSIONS_MAX,
      ascending: false,
      consistent: true,
    });
    return page.items.map(decode);
  }

  async add(plan: CommissionPlan): Promise<boolean> {
    try {
      await this.store.put(
        'commission-plan',
        {
          pk: `COMMPLAN#${plan.planId}`,
          sk: `V#${pad(plan.version)}`,
          entity: 'CommissionPlan',
          data: JSON.stringify(CommissionPlanSchema.encode(plan)),
          gsi1pk: 'COMMPLANS',
          gsi1sk: `${plan.planId}#${pad(plan.version)}`,
        },
        ITEM_ABSENT,
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }

  /** One pass over the plans index (it carries the data): no read per plan. */
  async latestVersions(): Promise<CommissionPlan[]> {
    const newest = new Map<string, CommissionPlan>();
    let cursor: string | undefined;
    // Reads until one plan past the limit: that proves the last kept plan was read to its newest.
    do {
      const page = await this.store.query({
        index: 'gsi1',
        partitionKey: 'COMMPLANS',
        limit: PLAN_PAGE_SIZE,
        cursor,
      });
      // Ascending by <planId>#<version>: the last one seen per plan is its newest.
      for (const item of page.items) {
        const plan = decode(item);
        newest.set(plan.planId, plan);
      }
      cursor = page.cursor ?? undefined;
      // One plan past the limit proves the last kept plan was read to its newest version.
    } while (cursor && newest.size <= PLANS_MAX);
    return [...newest.values()].slice(0, PLANS_MAX);
  }
}
