/**
 * The ACE pull: AWS Partner Central opportunities changed since the last run become touches of
 * the AWS co-sell team (role `cloud-seller`): `opportunity_created` when the opportunity was
 * created, `closing` once it is Launched. A lost opportunity is recorded as a journey that did not
 * convert (the data-driven models learn from both). Touch ids are deterministic and the cursor
 * moves only after a page is recorded, so a crash re-reads at most one page and records nothing
 * twice.
 */

import { accountKey } from '../domain/partners/deal-registration';
import type { TouchRecord } from '../domain/partners/touch';
import { TOUCH_SCHEMA_VERSION, touchIdFor } from '../domain/partners/touch';
import type { CoSellOpportunity, CoSellOpportunitySource } from './co-sell-ports';
import type { AttributionStore, CoSellCursorStore, TouchStore } from './partner-ports';
import type { Clock } from './ports';

export const CO_SELL_SOURCE_AWS = 'aws-ace';
/** Opportunities read per run (each costs one GetOpportunity); the rest wait for the next run. */
export const CO_SELL_OPPORTUNITIES_PER_RUN_MAX = 500;
/**
 * Each pull starts this far before the cursor: whether "after" is strict and how precise the
 * timestamps are is not documented, and re-reading an opportunity records nothing new.
 */
export const CO_SELL_OVERLAP_MS = 60_000;
const STAGE_LAUNCHED = 'Launched';
const STAGE_CLOSED_LOST = 'Closed Lost';

export interface CoSellDeps {
  readonly coSellSource: CoSellOpportunitySource | null;
  readonly coSellCursor: CoSellCursorStore;
  readonly touches: TouchStore;
  readonly attribution: Pick<AttributionStore, 'recordLostJourney'>;
  readonly clock: Clock;
  readonly coSellSettings: { readonly awsPartnerId: string };
  readonly onTouchRecorded?: (touch: TouchRecord) => Promise<void>;
}

export interface CoSellPullSummary {
  readonly configured: boolean;
  opportunities: number;
  touchesRecorded: number;
  lost: number;
  since: string | null;
  truncated: boolean;
}

/** The touches an opportunity stands for (pure). */
export function touchesFromOpportunity(
  opportunity: CoSellOpportunity,
  partnerId: string,
  recordedAt: string,
): TouchRecord[] {
  // Only a Marketplace product id (prod-…) can match a contract; AWS service names cannot.
  const listed = opportunity.productIds.filter((id) => id.startsWith('prod-'));
  const product = listed.length === 1 ? (listed[0] ?? null) : null;
  const match = {
    contractIds: [],
    offerIds: opportunity.offerIds.slice(0, 4),
    opportunityIds: [opportunity.opportunityId],
    customerKeys: opportunity.customer.awsAccountId
      ? [accountKey('aws', opportunity.customer.awsAccountId)]
      : [],
    productId: product,
  };
  const milestones: { milestone: string; at: string }[] = [
    { milestone: 'opportunity_created', at: opportunity.createdAt },
  ];
  if (opportunity.stage === STAGE_LAUNCHED)
    milestones.push({ milestone: 'closing', at: opportunity.lastModifiedAt });
  return milestones.map(({ milestone, at }) => {
    const base = {
      source: 'co-sell-referral',
      sourceRef: `aws:${opportunity.opportunityId}`,
      partnerId,
      role: 'cloud-seller',
      milestone,
      at: new Date(at).toISOString(),
    } as const;
    return {
      schemaVersion: TOUCH_SCHEMA_VERSION,
      // One touch per (opportunity, milestone): later edits of a launched opportunity move its
      // LastModifiedDate, which must not make a second closing touch.
      touchId: touchIdFor({ ...base, at: opportunity.createdAt }),
      ...base,
      validUntil: null,
      match,
      note: opportunity.customer.companyName ? `ACE: ${opportunity.customer.companyName}` : 'ACE',
      recordedAt,
      recordedBy: 'ace-pull',
    };
  });
}

export async function pullCoSellOpportunities(deps: CoSellDeps): Promise<CoSellPullSummary> {
  const cursor = await deps.coSellCursor.get(CO_SELL_SOURCE_AWS);
  const summary: CoSellPullSummary = {
    configured: deps.coSellSource !== null,
    opportunities: 0,
    touchesRecorded: 0,
    lost: 0,
    since: cursor?.since ?? null,
    truncated: false,
  };
  const source = deps.coSellSource;
  if (!source) return summary;
  let nextToken: string | null = null;
  let since = summary.since;
  do {
    const page = await source.listChanged(
      summary.since === null
        ? null
        : new Date(Date.parse(summary.since) - CO_SELL_OVERLAP_MS).toISOString(),
      nextToken,
    );
    for (const change of page.items) {
      if (summary.opportunities >= CO_SELL_OPPORTUNITIES_PER_RUN_MAX) {
        summary.truncated = true;
        break;
      }
      summary.opportunities += 1;
      const opportunity = await source.get(change.opportunityId);
      if (opportunity) await recordOpportunity(deps, summary, opportunity);
      if (since === null || change.lastModifiedAt > since) since = change.lastModifiedAt;
    }
    if (since !== null && since !== summary.since)
      await deps.coSellCursor.set(CO_SELL_SOURCE_AWS, since);
    nextToken = summary.truncated ? null : page.nextToken;
  } while (nextToken);
  summary.since = since;
  return summary;
}

async function recordOpportunity(
  deps: CoSellDeps,
  summary: CoSellPullSummary,
  opportunity: CoSellOpportunity,
): Promise<void> {
  const partnerId = deps.coSellSettings.awsPartnerId;
  for (const touch of touchesFromOpportunity(opportunity, partnerId, deps.clock.now())) {
    if (await deps.touches.record(touch)) summary.touchesRecorded += 1;
    await deps.onTouchRecorded?.(touch);
  }
  if (opportunity.stage === STAGE_CLOSED_LOST) {
    await deps.attribution.recordLostJourney(
      `ace:${opportunity.opportunityId}`,
      [partnerId],
      opportunity.lastModifiedAt,
    );
    summary.lost += 1;
  }
}
