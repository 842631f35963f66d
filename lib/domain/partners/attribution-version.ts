/**
 * One immutable attribution of a contract: the touches that counted, the model and version that
 * weighed them, the exact weights, the credits and — from the second version on — the diff from
 * the version before. A new version is written only when the touches or the model changed; the
 * commission lines of a month name the version they used.
 */
import { z } from 'zod';
import type { AttributionOutcome } from '../attribution/attribute';
import {
  AttributionModelRuleSchema,
  MilestoneSchema,
  TouchRoleSchema,
  TouchSourceSchema,
} from '../attribution/models';
import { canonicalJson, sha256Hex } from '../ids';
import { InstantSchema, RationalStringSchema } from '../schemas/primitives';

export const ATTRIBUTION_VERSION_SCHEMA_VERSION = 1;

export const AttributedTouchSchema = z.object({
  touchId: z.string(),
  partnerId: z.string(),
  role: TouchRoleSchema,
  milestone: MilestoneSchema.nullable(),
  at: InstantSchema,
  source: TouchSourceSchema,
  sourceRef: z.string().nullable(),
  weight: RationalStringSchema,
});

export const AttributionShareSchema = z.object({
  partnerId: z.string(),
  weight: RationalStringSchema,
  firstTouchAt: InstantSchema,
  roles: z.array(TouchRoleSchema),
});

export const AttributionDiffSchema = z.object({
  model: z.object({ from: z.string(), to: z.string() }).nullable(),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(
    z.object({ partnerId: z.string(), from: RationalStringSchema, to: RationalStringSchema }),
  ),
});

export const AttributionVersionSchema = z
  .object({
    schemaVersion: z.literal(ATTRIBUTION_VERSION_SCHEMA_VERSION),
    contractId: z.string(),
    version: z.int().min(1),
    computedAt: InstantSchema,
    /** When the deal closed (the contract's acceptance): touches after it do not count. */
    closeAt: InstantSchema,
    rule: AttributionModelRuleSchema,
    /** Hash of (touches, rule): equal hashes mean nothing to re-attribute. */
    inputHash: z.string(),
    touches: z.array(AttributedTouchSchema),
    shares: z.array(AttributionShareSchema),
    credits: z.array(
      z.object({
        partnerId: z.string(),
        flags: z.array(z.enum(['sourced', 'influenced', 'resale', 'cloud-seller'])),
      }),
    ),
    dealCredit: z.enum(['sourced', 'influenced', 'unattributed']),
    fallback: z.object({ model: z.literal('linear'), reason: z.string() }).nullable(),
    diff: AttributionDiffSchema.nullable(),
  })
  .meta({ title: 'AttributionVersion', description: 'One immutable attribution of a contract' });
export type AttributionVersion = z.output<typeof AttributionVersionSchema>;

export function attributionInputHash(
  touches: readonly unknown[],
  rule: unknown,
  closeAt: string,
): string {
  return sha256Hex(canonicalJson({ touches, rule, closeAt }));
}

export type OutcomeParts = Pick<
  AttributionVersion,
  'touches' | 'shares' | 'credits' | 'dealCredit' | 'fallback'
>;

/** The stored parts of an engine outcome; touch details come from the touches that counted. */
export function outcomeParts(
  outcome: AttributionOutcome,
  touches: readonly Omit<z.output<typeof AttributedTouchSchema>, 'weight'>[],
): OutcomeParts {
  const weights = new Map(outcome.touchWeights.map((w) => [w.touchId, w.weight]));
  return {
    touches: touches.map((t) => ({ ...t, weight: weights.get(t.touchId) ?? { num: 0n, den: 1n } })),
    shares: outcome.shares.map((s) => ({
      partnerId: s.partnerId,
      weight: s.weight,
      firstTouchAt: s.firstTouchAt,
      roles: [...s.roles],
    })),
    credits: outcome.credits.map((c) => ({ partnerId: c.partnerId, flags: [...c.flags] })),
    dealCredit: outcome.dealCredit,
    fallback: outcome.fallback,
  };
}
