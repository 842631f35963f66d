/**
 * Usage records in: the input schema, the metering policy (configuration, with defaults), and the
 * per-record verdict against the contract snapshot and the marketplace's rules. Pure: the current
 * time is an argument. Every rejection carries a stable code the caller can act on.
 *
 * Quantities are exact: a decimal string becomes an integer number of micro-units (10^-6), the
 * finest any marketplace takes, so hour totals are integer sums that DynamoDB `ADD`s exactly.
 */
import { z } from 'zod';
import { compareDates, dateOfInstant } from '../calendar';
import type { ContractSnapshot } from '../contract';
import { canonicalJson, sha256Hex } from '../ids';
import { parseDecimal } from '../money';
import {
  DecimalStringSchema,
  IdSchema,
  InstantSchema,
  type Marketplace,
  MarketplaceSchema,
} from '../schemas/primitives';

/** Records per POST /v1/usage: one request stays well inside a Lambda's time and 1 MB body. */
export const USAGE_BATCH_MAX = 500;
/** Record ids are idempotency keys chosen by the caller; long enough for a UUID plus a prefix. */
export const RECORD_ID_LENGTH_MAX = 256;
/** Decimal places kept for every quantity: Azure's limit (unverified); AWS and GCP take integers. */
export const QUANTITY_SCALE_DIGITS = 6;
export const QUANTITY_SCALE = 10n ** BigInt(QUANTITY_SCALE_DIGITS);
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Marketplace rules
// ---------------------------------------------------------------------------------------------

export interface QuantityRule {
  /** Decimal places the marketplace accepts. */
  readonly decimalsMax: number;
  /** Whether a record (and an hour) of exactly 0 may be sent. */
  readonly zeroAllowed: boolean;
  /** Largest quantity one record may carry, in whole units. */
  readonly max: bigint;
}

/**
 * What each marketplace takes (reference §1.2, §2.4, §3.3 and the errata): AWS `Quantity` is an
 * integer ≥ 0 (max 2^31-1 is from memory, unverified); Azure `quantity` is a double > 0 (6
 * decimals and the cap are our choice, unverified); GCP `int64Value` (integers, unverified).
 */
export const QUANTITY_RULES: Readonly<Record<Marketplace, QuantityRule>> = {
  aws: { decimalsMax: 0, zeroAllowed: true, max: 2_147_483_647n },
  azure: { decimalsMax: 6, zeroAllowed: false, max: 1_000_000_000_000n },
  gcp: { decimalsMax: 0, zeroAllowed: true, max: 9_223_372_036_854_775_807n },
};

/** AWS: records are not accepted 6 hours or more after their `Timestamp` (the hour start). */
export const AWS_REPORT_WINDOW_HOURS = 6;
/** Azure: only the past 24 hours can be emitted. */
export const AZURE_REPORT_WINDOW_HOURS = 24;
/** GCP: "reports older than about 1 hour may be rejected" — unverified, so configurable. */
export const GCP_REPORT_WINDOW_HOURS = 2;

const positiveInt = z.int().min(0);

/** Configuration of metering; every field has a default (parse `{}` for the defaults). */
export const MeteringPolicySchema = z.object({
  /** An hour is sealed (closed to records) this long after it ends: late senders' grace. */
  sealDelayMinutes: positiveInt.max(55).default(5),
  /** Records stamped at most this far in the future are accepted (clients' clock skew). */
  clockSkewMinutes: positiveInt.max(60).default(5),
  /** A record for a sealed hour: rejected (HOUR_SEALED), or counted in the open hour. */
  lateRecords: z.enum(['reject', 'carry']).default('reject'),
  /** Records older than this (from their usageTime) are refused: they could not be sent in time. */
  latenessHours: z
    .object({
      aws: positiveInt.max(24 * 30).default(AWS_REPORT_WINDOW_HOURS),
      azure: positiveInt.max(24 * 30).default(AZURE_REPORT_WINDOW_HOURS),
      gcp: positiveInt.max(24 * 30).default(GCP_REPORT_WINDOW_HOURS),
    })
    .prefault({}),
  /** An hour must be reported before hourStart + this (the marketplace's window). */
  deadlineHours: z
    .object({
      aws: positiveInt.max(24 * 30).default(AWS_REPORT_WINDOW_HOURS),
      azure: positiveInt.max(24 * 30).default(AZURE_REPORT_WINDOW_HOURS),
      gcp: positiveInt.max(24 * 30).default(GCP_REPORT_WINDOW_HOURS),
    })
    .prefault({}),
  /**
   * AWS zero hours: 'recorded-only' reports the hours that have a ledger line (records, possibly
   * of quantity 0); 'every-hour' also writes a 0 line for each recent sealed hour of every active
   * metered AWS contract (bounded lookback), for products whose listing expects hourly records.
   */
  awsZeroHours: z.enum(['recorded-only', 'every-hour']).default('recorded-only'),
  /** Metered dimensions by plan, for marketplaces whose contracts carry no usage rates. */
  planDimensions: z
    .array(
      z.object({
        marketplace: MarketplaceSchema,
        plan: IdSchema,
        dimensions: z.array(IdSchema).min(1).max(100),
      }),
    )
    .max(500)
    .default([]),
  /** Azure: quantities included in the base fee; only usage above them is sent. */
  included: z
    .array(
      z.object({
        plan: IdSchema,
        dimension: IdSchema,
        quantity: DecimalStringSchema,
        /** Per month of the subscription (anchored on its term start), or per term. */
        per: z.enum(['month', 'term']).default('month'),
      }),
    )
    .max(500)
    .default([]),
  /** Sends of one hour before it is given up as `late`. */
  attemptsMax: z.int().min(1).max(50).default(8),
  /** Backoff between flushes for an `unprocessed` hour: base·2^(attempt-1), capped, jittered. */
  retryBaseMinutes: z.int().min(1).max(60).default(5),
  retryMaxMinutes: z
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  /** A claimed hour whose flush died is re-sent after this (longer than a flush can run). */
  claimLeaseMinutes: z.int().min(1).max(120).default(15),
});
export type MeteringPolicy = z.output<typeof MeteringPolicySchema>;
export const DEFAULT_METERING_POLICY: MeteringPolicy = MeteringPolicySchema.parse({});

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

export const RecordIdSchema = z.string().min(1).max(RECORD_ID_LENGTH_MAX);

export const UsageRecordInputSchema = z
  .object({
    recordId: RecordIdSchema,
    contractId: IdSchema.optional(),
    customerId: IdSchema.optional(),
    dimension: IdSchema,
    quantity: DecimalStringSchema,
    usageTime: InstantSchema,
  })
  .refine((r) => (r.contractId === undefined) !== (r.customerId === undefined), {
    message: 'Give exactly one of contractId and customerId',
    path: ['contractId'],
  });
export type UsageRecordInput = z.output<typeof UsageRecordInputSchema>;

export const USAGE_REJECTION_CODES = [
  'INVALID_RECORD',
  'CONTRACT_NOT_FOUND',
  'CUSTOMER_NOT_FOUND',
  'CUSTOMER_AMBIGUOUS',
  'CONTRACT_NOT_ACTIVE',
  'UNKNOWN_DIMENSION',
  'DIMENSION_NOT_METERED',
  'MARKETPLACE_NOT_METERED',
  'FUTURE_USAGE',
  'QUANTITY_PRECISION',
  'QUANTITY_OUT_OF_RANGE',
  'LATE_USAGE',
  'HOUR_SEALED',
  'RECORD_CONFLICT',
] as const;
export type UsageRejectionCode = (typeof USAGE_REJECTION_CODES)[number];

/** The HTTP status a rejection would have on its own (per record; the batch answers 200). */
export function rejectionStatus(code: UsageRejectionCode): 400 | 404 | 409 | 422 {
  if (code === 'INVALID_RECORD') return 400;
  if (code === 'CONTRACT_NOT_FOUND') return 404;
  if (code === 'RECORD_CONFLICT') return 409;
  return 422;
}

export interface UsageRejection {
  readonly kind: 'reject';
  readonly code: UsageRejectionCode;
  readonly message: string;
}

export interface AcceptedUsage {
  readonly kind: 'accept';
  readonly contractId: string;
  readonly marketplace: Marketplace;
  readonly dimension: string;
  /** Canonical decimal ("1.5", never "1.50"). */
  readonly quantity: string;
  readonly quantityUnits: bigint;
  /** Normalized ISO instant (UTC, milliseconds). */
  readonly usageTime: string;
  /** The hour the record counts in: its own, or the open hour when carried. */
  readonly hourStart: string;
  /** The record's own hour when it was carried into a later one. */
  readonly carriedFrom: string | null;
  /** Hash of what the record says (not where it was counted): same id + same hash = a retry. */
  readonly contentHash: string;
}

export type UsageVerdict = AcceptedUsage | UsageRejection;

const reject = (code: UsageRejectionCode, message: string): UsageRejection => ({
  kind: 'reject',
  code,
  message,
});

// ---------------------------------------------------------------------------------------------
// Time and quantities
// ---------------------------------------------------------------------------------------------

export function instantMs(instant: string): number {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError(`Not an instant: ${instant}`);
  return ms;
}

/** The canonical form every stored instant takes, so keys sort as times. */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/** Start of the UTC hour an instant falls in: the bucket, whatever time the record was sent. */
export function hourOf(instant: string): string {
  return isoOf(Math.floor(instantMs(instant) / HOUR_MS) * HOUR_MS);
}

export function hourEndOf(hourStart: string): string {
  return isoOf(instantMs(hourStart) + HOUR_MS);
}

export function addHours(instant: string, hours: number): string {
  return isoOf(instantMs(instant) + hours * HOUR_MS);
}

export function addMinutes(instant: string, minutes: number): string {
  return isoOf(instantMs(instant) + minutes * MINUTE_MS);
}

/** A decimal string as micro-units, or null when it has more than QUANTITY_SCALE_DIGITS places. */
export function quantityUnitsOf(quantity: string): bigint | null {
  const value = parseDecimal(quantity);
  const scaled = value.num * QUANTITY_SCALE;
  return scaled % value.den === 0n ? scaled / value.den : null;
}

/** Micro-units as a canonical decimal string: 1500000n → "1.5". */
export function formatUnits(units: bigint): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(QUANTITY_SCALE_DIGITS + 1, '0');
  const whole = digits.slice(0, -QUANTITY_SCALE_DIGITS);
  const fraction = digits.slice(-QUANTITY_SCALE_DIGITS).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

function decimalsOf(units: bigint): number {
  let places = QUANTITY_SCALE_DIGITS;
  let rest = units < 0n ? -units : units;
  while (places > 0 && rest % 10n === 0n) {
    rest /= 10n;
    places -= 1;
  }
  return rest === 0n ? 0 : places;
}

// ---------------------------------------------------------------------------------------------
// Which dimensions are metered
// ---------------------------------------------------------------------------------------------

/** Metered dimensions of a contract: its usage rates, plus those configured for its plan. */
export function meteredDimensionsOf(
  snapshot: ContractSnapshot,
  policy: Pick<MeteringPolicy, 'planDimensions'>,
): Set<string> {
  const dimensions = new Set(snapshot.terms.usageRates.map((rate) => rate.dimension));
  for (const entry of policy.planDimensions) {
    if (entry.marketplace === snapshot.marketplace && entry.plan === snapshot.terms.plan)
      for (const dimension of entry.dimensions) dimensions.add(dimension);
  }
  return dimensions;
}

/** Every dimension the contract names (grants, charges, rates, configured plan dimensions). */
function knownDimensionsOf(snapshot: ContractSnapshot, metered: ReadonlySet<string>): Set<string> {
  const known = new Set(metered);
  for (const grant of snapshot.terms.grants) known.add(grant.dimension);
  for (const charge of snapshot.terms.fixedCharges) known.add(charge.dimension);
  return known;
}

// ---------------------------------------------------------------------------------------------
// The verdict
// ---------------------------------------------------------------------------------------------

export interface UsageContext {
  readonly policy: MeteringPolicy;
  readonly now: string;
  /**
   * Why the contract cannot be metered at all (no marketplace metering identity: a GCP
   * entitlement without usageReportingId, an AWS contract without product code), or null.
   */
  readonly meteringProblem: string | null;
}

/**
 * Checks one parsed record against its contract and the marketplace's rules. A record for a
 * sealed hour is carried into the open hour (its usageTime kept) when the policy says so.
 */
export function validateUsage(
  record: UsageRecordInput,
  contract: ContractSnapshot,
  context: UsageContext,
): UsageVerdict {
  const { policy, now } = context;
  const marketplace = contract.marketplace;
  const rule = QUANTITY_RULES[marketplace];
  const usageMs = instantMs(record.usageTime);
  const nowMs = instantMs(now);
  const usageTime = isoOf(usageMs);

  const units = quantityUnitsOf(record.quantity);
  if (units === null || decimalsOf(units) > rule.decimalsMax) {
    return reject(
      'QUANTITY_PRECISION',
      `${marketplace} takes quantities with at most ${rule.decimalsMax} decimal places; got ${record.quantity}`,
    );
  }
  if (units < 0n || (units === 0n && !rule.zeroAllowed) || units > rule.max * QUANTITY_SCALE) {
    return reject(
      'QUANTITY_OUT_OF_RANGE',
      `${marketplace} takes quantities ${rule.zeroAllowed ? '≥ 0' : '> 0'} and ≤ ${rule.max}; got ${record.quantity}`,
    );
  }
  if (usageMs > nowMs + policy.clockSkewMinutes * MINUTE_MS) {
    return reject('FUTURE_USAGE', `usageTime ${usageTime} is in the future (now ${isoOf(nowMs)})`);
  }
  const day = dateOfInstant(usageTime);
  const { term } = contract.terms;
  if (contract.status !== 'active') {
    return reject('CONTRACT_NOT_ACTIVE', `Contract ${contract.contractId} is ${contract.status}`);
  }
  if (
    compareDates(day, term.start) < 0 ||
    (term.end !== null && compareDates(day, term.end) >= 0)
  ) {
    return reject(
      'CONTRACT_NOT_ACTIVE',
      `usageTime ${usageTime} is outside the contract term ${term.start}..${term.end ?? 'open'}`,
    );
  }
  const metered = meteredDimensionsOf(contract, policy);
  if (!knownDimensionsOf(contract, metered).has(record.dimension)) {
    return reject(
      'UNKNOWN_DIMENSION',
      `Contract ${contract.contractId} has no dimension ${record.dimension}`,
    );
  }
  if (!metered.has(record.dimension)) {
    return reject(
      'DIMENSION_NOT_METERED',
      `Dimension ${record.dimension} is not metered on contract ${contract.contractId}`,
    );
  }
  if (context.meteringProblem !== null) {
    return reject('DIMENSION_NOT_METERED', context.meteringProblem);
  }
  const latenessHours = policy.latenessHours[marketplace];
  if (nowMs - usageMs >= latenessHours * HOUR_MS) {
    return reject(
      'LATE_USAGE',
      `usageTime ${usageTime} is ${latenessHours} h or more in the past: ${marketplace} would not accept it`,
    );
  }
  const ownHour = hourOf(usageTime);
  let hourStart = ownHour;
  if (isSealedAt(ownHour, now, policy)) {
    if (policy.lateRecords !== 'carry') {
      return reject(
        'HOUR_SEALED',
        `The hour ${ownHour} is sealed (it closed ${policy.sealDelayMinutes} min after its end)`,
      );
    }
    hourStart = hourOf(now);
  }
  return {
    kind: 'accept',
    contractId: contract.contractId,
    marketplace,
    dimension: record.dimension,
    quantity: formatUnits(units),
    quantityUnits: units,
    usageTime,
    hourStart,
    carriedFrom: hourStart === ownHour ? null : ownHour,
    contentHash: usageContentHash({
      contractId: contract.contractId,
      dimension: record.dimension,
      quantity: formatUnits(units),
      usageTime,
    }),
  };
}

/** Content hash of a record: what it says, normalized ("1.0" = "1", any offset = UTC). */
export function usageContentHash(content: {
  contractId: string;
  dimension: string;
  quantity: string;
  usageTime: string;
}): string {
  return sha256Hex(canonicalJson(content));
}

/** Sealed: closed to new records once `now ≥ hourEnd + sealDelay`. */
export function isSealedAt(
  hourStart: string,
  now: string,
  policy: Pick<MeteringPolicy, 'sealDelayMinutes'>,
): boolean {
  return instantMs(now) >= instantMs(sealTimeOf(hourStart, policy));
}

export function sealTimeOf(
  hourStart: string,
  policy: Pick<MeteringPolicy, 'sealDelayMinutes'>,
): string {
  return isoOf(instantMs(hourStart) + HOUR_MS + policy.sealDelayMinutes * MINUTE_MS);
}
