/**
 * What each marketplace keeps, as data: a versioned, effective-dated table keyed as finance.md
 * rule 17 says — (marketplace, offer type, TCV band, renewal?, channel?, effective date). A
 * deployment may replace the table (AGORA_FEE_TABLE); the default below is the published
 * schedule as of this version. Rates are exact decimal strings, never floats.
 */
import { z } from 'zod';
import { InvalidInputError } from '../errors';
import { parseDecimal, type Rational } from '../money';
import {
  CalendarDateSchema,
  DecimalStringSchema,
  MarketplaceSchema,
  NonNegativeMinorUnitsSchema,
} from '../schemas/primitives';

export const FEE_TABLE_VERSION_DEFAULT = '2025-04-21.1';
export const FEE_RULES_MAX = 500;

export const ProductKindSchema = z.enum(['saas', 'server', 'data', 'professional-services']);
export type ProductKind = z.infer<typeof ProductKindSchema>;

export const FeeRuleSchema = z.object({
  id: z.string().min(1).max(64),
  marketplace: MarketplaceSchema,
  offerType: z.enum(['public', 'private']).nullable(),
  productKind: ProductKindSchema.nullable(),
  /** TCV band in USD minor units, [min, max); null max is unbounded. */
  tcvMinMinor: NonNegativeMinorUnitsSchema,
  tcvMaxMinor: NonNegativeMinorUnitsSchema.nullable(),
  /** null: applies whether or not the contract is a renewal (or a channel offer). */
  renewal: z.boolean().nullable(),
  channel: z.boolean().nullable(),
  effectiveFrom: CalendarDateSchema,
  effectiveTo: CalendarDateSchema.nullable(),
  rate: DecimalStringSchema,
  /** How the marketplace rounds its fee (we mirror it): AWS replicas round half-up. */
  rounding: z.enum(['half-even', 'half-up']),
  source: z.string().max(500),
});
export type FeeRule = z.infer<typeof FeeRuleSchema>;

export const FeeTableSchema = z.object({
  version: z.string().min(1).max(64),
  rules: z.array(FeeRuleSchema).min(1).max(FEE_RULES_MAX),
});
export type FeeTable = z.infer<typeof FeeTableSchema>;

const M = 100_000_000n; // $1,000,000.00 in cents
const AWS_FROM = '2024-01-05';
const GCP_SCHEDULE_FROM = '2025-04-21';

type RuleInput = Omit<FeeRule, 'tcvMinMinor' | 'tcvMaxMinor' | 'effectiveTo'> & {
  tcvMinMinor?: bigint;
  tcvMaxMinor?: bigint | null;
  effectiveTo?: string | null;
};
const rule = (input: RuleInput): FeeRule => ({
  tcvMinMinor: 0n,
  tcvMaxMinor: null,
  effectiveTo: null,
  ...input,
});

/** AWS private-offer tiers; a channel (CPPO) offer pays 0.5 point more on each. */
function awsPrivate(channel: boolean): FeeRule[] {
  const up = (rate: string) => (channel ? addPoint(rate) : rate);
  const tag = channel ? 'cppo' : 'direct';
  const source = `AWS Seller Guide, listing fees (effective ${AWS_FROM})${channel ? '; CPPO +0.5 pp' : ''}`;
  const base = {
    marketplace: 'aws' as const,
    offerType: 'private' as const,
    // Private-offer tiers apply to every product kind; professional services has its own rule.
    productKind: null,
    channel,
    effectiveFrom: AWS_FROM,
    rounding: 'half-up' as const,
    source,
  };
  return [
    rule({
      ...base,
      id: `aws-private-${tag}-lt1m`,
      renewal: false,
      tcvMaxMinor: M,
      rate: up('0.03'),
    }),
    rule({
      ...base,
      id: `aws-private-${tag}-1m-10m`,
      renewal: false,
      tcvMinMinor: M,
      tcvMaxMinor: 10n * M,
      rate: up('0.02'),
    }),
    rule({
      ...base,
      id: `aws-private-${tag}-ge10m`,
      renewal: false,
      tcvMinMinor: 10n * M,
      rate: up('0.015'),
    }),
    rule({ ...base, id: `aws-private-${tag}-renewal`, renewal: true, rate: up('0.015') }),
  ];
}

/** Adds half a percentage point to a decimal rate string, exactly. */
function addPoint(rate: string): string {
  const [whole = '0', fraction = ''] = rate.split('.');
  const thousandths = BigInt(whole) * 1000n + BigInt(fraction.padEnd(3, '0').slice(0, 3)) + 5n;
  return `${thousandths / 1000n}.${String(thousandths % 1000n).padStart(3, '0')}`;
}

export const DEFAULT_FEE_TABLE: FeeTable = {
  version: FEE_TABLE_VERSION_DEFAULT,
  rules: [
    rule({
      id: 'aws-public-saas',
      marketplace: 'aws',
      offerType: 'public',
      productKind: 'saas',
      renewal: null,
      channel: null,
      effectiveFrom: AWS_FROM,
      rate: '0.03',
      rounding: 'half-up',
      source: `AWS Seller Guide, listing fees (effective ${AWS_FROM})`,
    }),
    rule({
      id: 'aws-public-server',
      marketplace: 'aws',
      offerType: 'public',
      productKind: 'server',
      renewal: null,
      channel: null,
      effectiveFrom: AWS_FROM,
      rate: '0.20',
      rounding: 'half-up',
      source: `AWS Seller Guide, listing fees (effective ${AWS_FROM})`,
    }),
    rule({
      id: 'aws-public-data',
      marketplace: 'aws',
      offerType: 'public',
      productKind: 'data',
      renewal: null,
      channel: null,
      effectiveFrom: AWS_FROM,
      rate: '0.03',
      rounding: 'half-up',
      source: `AWS Seller Guide, listing fees (effective ${AWS_FROM})`,
    }),
    ...awsPrivate(false),
    ...awsPrivate(true),
    rule({
      id: 'aws-private-professional-services',
      marketplace: 'aws',
      offerType: 'private',
      productKind: 'professional-services',
      renewal: null,
      channel: null,
      effectiveFrom: AWS_FROM,
      rate: '0.025',
      rounding: 'half-up',
      // [verify] only an older (DE) version of the listing-fees page states it.
      source: 'AWS Seller Guide, listing fees, DE translation (unverified)',
    }),
    rule({
      id: 'azure-standard',
      marketplace: 'azure',
      offerType: null,
      productKind: null,
      renewal: null,
      channel: null,
      // unverified: the 3 % store service fee's start date (Microsoft cut it from 20 % in 2021).
      effectiveFrom: '2021-07-01',
      rate: '0.03',
      rounding: 'half-even',
      source:
        'Microsoft Learn, commercial marketplace transact capabilities (standard store service fee)',
    }),
    rule({
      id: 'gcp-flat-before-schedule',
      marketplace: 'gcp',
      offerType: null,
      productKind: null,
      renewal: null,
      channel: null,
      effectiveFrom: '2021-09-01',
      effectiveTo: GCP_SCHEDULE_FROM,
      rate: '0.03',
      rounding: 'half-even',
      source: 'Google Cloud Marketplace revenue share, flat 3 % before the 2025-04-21 schedule',
    }),
    ...gcpSchedule(),
  ],
};

function gcpSchedule(): FeeRule[] {
  const base = {
    marketplace: 'gcp' as const,
    productKind: null,
    effectiveFrom: GCP_SCHEDULE_FROM,
    rounding: 'half-even' as const,
    source: `Google Cloud Marketplace Vendor Net Revenue Schedule (effective ${GCP_SCHEDULE_FROM})`,
  };
  return [
    rule({
      ...base,
      id: 'gcp-public',
      offerType: 'public',
      renewal: false,
      channel: false,
      rate: '0.03',
    }),
    rule({
      ...base,
      id: 'gcp-private-lt1m',
      offerType: 'private',
      renewal: false,
      channel: false,
      tcvMaxMinor: M,
      rate: '0.03',
    }),
    rule({
      ...base,
      id: 'gcp-private-1m-10m',
      offerType: 'private',
      renewal: false,
      channel: false,
      tcvMinMinor: M,
      tcvMaxMinor: 10n * M,
      rate: '0.02',
    }),
    rule({
      ...base,
      id: 'gcp-private-ge10m',
      offerType: 'private',
      renewal: false,
      channel: false,
      tcvMinMinor: 10n * M,
      rate: '0.015',
    }),
    // Native renewals and channel shifts keep 98.5 %.
    rule({
      ...base,
      id: 'gcp-renewal',
      offerType: null,
      renewal: true,
      channel: null,
      rate: '0.015',
    }),
    rule({
      ...base,
      id: 'gcp-channel',
      offerType: null,
      renewal: false,
      channel: true,
      rate: '0.015',
    }),
  ];
}

export interface FeeKey {
  readonly marketplace: 'aws' | 'azure' | 'gcp';
  readonly offerType: 'public' | 'private';
  readonly productKind: ProductKind;
  /** Total contract value in USD minor units (sets the band). */
  readonly tcvUsdMinor: bigint;
  readonly renewal: boolean;
  readonly channel: boolean;
  /** Acceptance date (AWS, Azure) or term start (GCP): rule 17. */
  readonly effectiveOn: string;
}

export interface FeeRate {
  readonly ruleId: string;
  readonly rate: Rational;
  readonly rateText: string;
  readonly rounding: 'half-even' | 'half-up';
  readonly tableVersion: string;
}

export class FeeRuleMissingError extends InvalidInputError {
  constructor(key: FeeKey) {
    super(
      'fee_rule_missing',
      `No marketplace fee rule for ${key.marketplace} ${key.offerType} ${key.productKind} on ${key.effectiveOn}${key.renewal ? ' (renewal)' : ''}${key.channel ? ' (channel)' : ''}`,
    );
  }
}

const matches = <T>(ruleValue: T | null, value: T) => ruleValue === null || ruleValue === value;

/**
 * The rule for a key. When several match, the most specific wins (most non-null criteria), so a
 * deployment can add a narrower rule without editing the general ones.
 */
export function feeRateFor(table: FeeTable, key: FeeKey): FeeRate {
  const candidates = table.rules.filter(
    (r) =>
      r.marketplace === key.marketplace &&
      matches(r.offerType, key.offerType) &&
      matches(r.productKind, key.productKind) &&
      matches(r.renewal, key.renewal) &&
      matches(r.channel, key.channel) &&
      key.tcvUsdMinor >= r.tcvMinMinor &&
      (r.tcvMaxMinor === null || key.tcvUsdMinor < r.tcvMaxMinor) &&
      key.effectiveOn >= r.effectiveFrom &&
      (r.effectiveTo === null || key.effectiveOn < r.effectiveTo),
  );
  const specificity = (r: FeeRule) =>
    [r.offerType, r.productKind, r.renewal, r.channel].filter((v) => v !== null).length;
  // Most specific first; among equals the newest rule (a dated override), then the id.
  const best = candidates.sort(
    (a, b) =>
      specificity(b) - specificity(a) ||
      b.effectiveFrom.localeCompare(a.effectiveFrom) ||
      a.id.localeCompare(b.id),
  )[0];
  if (!best) throw new FeeRuleMissingError(key);
  return {
    ruleId: best.id,
    rate: parseDecimal(best.rate),
    rateText: best.rate,
    rounding: best.rounding,
    tableVersion: table.version,
  };
}
