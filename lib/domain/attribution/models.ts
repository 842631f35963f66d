/**
 * Attribution models as versioned data (finance.md §6). A model rule names a model, its version
 * and the date it takes effect; the engine (attribute.ts) reads only these values. Percentages
 * and weights are exact decimal strings, never floats.
 */
import { z } from 'zod';
import { compareRational, parseDecimal, type Rational, sumRational, ZERO } from '../money';
import {
  CalendarDateSchema,
  DecimalStringSchema,
  IdSchema,
  InstantSchema,
} from '../schemas/primitives';

export const TOUCH_ROLES = ['sourced', 'influenced', 'resale', 'cloud-seller'] as const;
export type TouchRole = (typeof TOUCH_ROLES)[number];
export const TouchRoleSchema = z.enum(TOUCH_ROLES).describe('How the partner touched the deal');

export const TOUCH_SOURCES = [
  'deal-registration',
  'offer-document',
  'co-sell-referral',
  'activity',
  'resale-authorization',
] as const;
export type TouchSource = (typeof TOUCH_SOURCES)[number];
export const TouchSourceSchema = z.enum(TOUCH_SOURCES).describe('Where the touch was recorded');

/** Milestones are free strings; W-shaped reads these three. */
export const MILESTONE_LENGTH_MAX = 64;
export const MILESTONE_FIRST_TOUCH = 'first_touch';
export const MILESTONE_OPPORTUNITY_CREATED = 'opportunity_created';
export const MILESTONE_CLOSING = 'closing';
export const MilestoneSchema = z
  .string()
  .min(1)
  .max(MILESTONE_LENGTH_MAX)
  .describe('Deal milestone of a touch, e.g. opportunity_created');

/** Coalitions listed in a Shapley value table: every subset of 12 players. */
export const SHAPLEY_COALITIONS_MAX = 4_096;
/** A coalition key: sorted partner ids joined by '+'. */
export const COALITION_KEY_LENGTH_MAX = 8_192;
export const COALITION_SEPARATOR = '+';

/** The key of a coalition: its partner ids sorted (UTF-16 code unit order), joined by '+'. */
export function coalitionKey(partnerIds: readonly string[]): string {
  return [...partnerIds].sort().join(COALITION_SEPARATOR);
}

function parsesAsRational(text: string, check: (value: Rational) => boolean): boolean {
  try {
    return check(parseDecimal(text));
  } catch {
    return false;
  }
}

const HUNDRED: Rational = { num: 100n, den: 1n };

/** A percentage from 0 to 100 as a decimal string. */
export const AttributionPercentSchema = DecimalStringSchema.refine(
  (text) =>
    parsesAsRational(
      text,
      (v) => compareRational(v, ZERO) >= 0 && compareRational(v, HUNDRED) <= 0,
    ),
  { message: 'A percentage from 0 to 100' },
);

/** A non-negative decimal string. */
export const NonNegativeDecimalSchema = DecimalStringSchema.refine(
  (text) => parsesAsRational(text, (v) => v.num >= 0n),
  { message: 'Must not be negative' },
);

/** A positive decimal string. */
export const PositiveDecimalSchema = DecimalStringSchema.refine(
  (text) => parsesAsRational(text, (v) => v.num > 0n),
  { message: 'Must be positive' },
);

const FirstTouchModelSchema = z.object({ kind: z.literal('first-touch') });
const LastTouchModelSchema = z.object({ kind: z.literal('last-touch') });
const LinearModelSchema = z.object({ kind: z.literal('linear') });
const UShapedModelSchema = z.object({
  kind: z.literal('u-shaped'),
  firstPercent: AttributionPercentSchema.default('40'),
  lastPercent: AttributionPercentSchema.default('40'),
});
const WShapedModelSchema = z.object({
  kind: z.literal('w-shaped'),
  firstPercent: AttributionPercentSchema.default('30'),
  opportunityPercent: AttributionPercentSchema.default('30'),
  closingPercent: AttributionPercentSchema.default('30'),
});
const TimeDecayModelSchema = z.object({
  kind: z.literal('time-decay'),
  /** Half-life in days, e.g. '30' or '7.5'. */
  halfLifeDays: PositiveDecimalSchema,
});
const RulesBasedModelSchema = z.object({
  kind: z.literal('rules-based'),
  /** Weight of a touch by its role; a missing role weighs 0. */
  weights: z.partialRecord(TouchRoleSchema, NonNegativeDecimalSchema),
});
const ShapleyModelSchema = z.object({
  kind: z.literal('shapley'),
  /** v(S) by coalition key (sorted partner ids joined by '+'); a missing coalition is worth 0. */
  values: z
    .record(z.string().min(1).max(COALITION_KEY_LENGTH_MAX), NonNegativeDecimalSchema)
    .optional(),
  /** v(S) = the number of converted journeys whose (non-empty) partner set is within S. */
  valuesFrom: z.literal('journeys').optional(),
});
const MarkovModelSchema = z.object({ kind: z.literal('markov') });

function percentSum(texts: readonly string[]): Rational {
  return sumRational(texts.map((text) => parseDecimal(text)));
}

export const AttributionModelSchema = z
  .discriminatedUnion('kind', [
    FirstTouchModelSchema,
    LastTouchModelSchema,
    LinearModelSchema,
    UShapedModelSchema,
    WShapedModelSchema,
    TimeDecayModelSchema,
    RulesBasedModelSchema,
    ShapleyModelSchema,
    MarkovModelSchema,
  ])
  .superRefine((model, ctx) => {
    switch (model.kind) {
      case 'u-shaped':
        if (compareRational(percentSum([model.firstPercent, model.lastPercent]), HUNDRED) > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['lastPercent'],
            message: 'firstPercent + lastPercent must not exceed 100',
          });
        }
        return;
      case 'w-shaped': {
        const total = percentSum([
          model.firstPercent,
          model.opportunityPercent,
          model.closingPercent,
        ]);
        if (compareRational(total, HUNDRED) > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['closingPercent'],
            message: 'firstPercent + opportunityPercent + closingPercent must not exceed 100',
          });
        }
        return;
      }
      case 'rules-based': {
        const weights = Object.values(model.weights).filter((w) => w !== undefined);
        if (weights.every((w) => parseDecimal(w).num === 0n)) {
          ctx.addIssue({
            code: 'custom',
            path: ['weights'],
            message: 'At least one role must have a positive weight',
          });
        }
        return;
      }
      case 'shapley': {
        if ((model.values === undefined) === (model.valuesFrom === undefined)) {
          ctx.addIssue({
            code: 'custom',
            path: ['values'],
            message: 'Give exactly one of values or valuesFrom',
          });
          return;
        }
        if (model.values === undefined) return;
        const keys = Object.keys(model.values);
        if (keys.length > SHAPLEY_COALITIONS_MAX) {
          ctx.addIssue({
            code: 'custom',
            path: ['values'],
            message: `At most ${SHAPLEY_COALITIONS_MAX} coalitions`,
          });
          return;
        }
        for (const key of keys) {
          const ids = key.split(COALITION_SEPARATOR);
          const canonical = ids.every((id) => id.length > 0) && coalitionKey(ids) === key;
          if (!canonical || new Set(ids).size !== ids.length) {
            ctx.addIssue({
              code: 'custom',
              path: ['values', key],
              message: 'A coalition key is distinct partner ids, sorted, joined by "+"',
            });
          }
        }
        return;
      }
      default:
        return;
    }
  })
  .describe('Attribution model');

export type AttributionModel = z.output<typeof AttributionModelSchema>;
export type AttributionModelInput = z.input<typeof AttributionModelSchema>;
export type AttributionModelKind = AttributionModel['kind'];

export const AttributionModelRuleSchema = z
  .object({
    modelId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Letters, digits, ".", "_" and "-"'),
    version: z.int().min(1).max(1_000_000),
    effectiveFrom: CalendarDateSchema,
    model: AttributionModelSchema,
    description: z.string().max(500).optional(),
  })
  .meta({ title: 'AttributionModelRule', description: 'A versioned, effective-dated model' });

export type AttributionModelRule = z.output<typeof AttributionModelRuleSchema>;
export type AttributionModelRuleInput = z.input<typeof AttributionModelRuleSchema>;

export const DEFAULT_ATTRIBUTION_MODEL_RULE: AttributionModelRule = {
  modelId: 'default',
  version: 1,
  effectiveFrom: '2000-01-01',
  model: { kind: 'linear' },
};

/** "modelId@vN (kind)": how a rule is named in diffs and audit lines. */
export function modelRuleLabel(rule: AttributionModelRule): string {
  return `${rule.modelId}@v${rule.version} (${rule.model.kind})`;
}

/**
 * The rule in effect on a calendar date: the latest `effectiveFrom` on or before it, the higher
 * version on a tie. Null when none has started yet.
 */
export function modelRuleInEffect(
  rules: readonly AttributionModelRule[],
  onDate: string,
): AttributionModelRule | null {
  let best: AttributionModelRule | null = null;
  for (const rule of rules) {
    if (rule.effectiveFrom > onDate) continue;
    if (
      best === null ||
      rule.effectiveFrom > best.effectiveFrom ||
      (rule.effectiveFrom === best.effectiveFrom && rule.version > best.version)
    ) {
      best = rule;
    }
  }
  return best;
}

/** A touch as it crosses a boundary (API, store); attribute.ts's AttributionTouch has this shape. */
export const AttributionTouchSchema = z.object({
  touchId: IdSchema,
  partnerId: IdSchema,
  role: TouchRoleSchema,
  milestone: MilestoneSchema.nullable(),
  at: InstantSchema,
  source: TouchSourceSchema,
  sourceRef: IdSchema.nullable(),
});
