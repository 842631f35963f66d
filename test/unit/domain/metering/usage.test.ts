// Proves the usage record rules: hour bucketing by usageTime, each rejection code at its boundary
// (precision, range, future, contract state, dimensions, lateness, sealed hours), the late-record
// carry policy, and that a record's content hash ignores formatting but not content.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContractSnapshot } from '../../../../lib/domain/contract';
import {
  DEFAULT_METERING_POLICY,
  formatUnits,
  hourOf,
  isSealedAt,
  type MeteringPolicy,
  MeteringPolicySchema,
  meteredDimensionsOf,
  QUANTITY_SCALE,
  quantityUnitsOf,
  rejectionStatus,
  sealTimeOf,
  type UsageContext,
  type UsageRecordInput,
  UsageRecordInputSchema,
  validateUsage,
} from '../../../../lib/domain/metering/usage';
import type { Marketplace } from '../../../../lib/domain/schemas/primitives';

const RUNS = { numRuns: 300, seed: 20_260_302 } as const;
const NOW = '2026-03-02T12:20:00.000Z';

function snapshot(
  marketplace: Marketplace,
  overrides: Partial<Omit<ContractSnapshot, 'terms'>> & {
    terms?: Partial<ContractSnapshot['terms']>;
  } = {},
): ContractSnapshot {
  const { terms, ...rest } = overrides;
  return {
    schemaVersion: 1,
    contractId: `c-${marketplace}`,
    marketplace,
    externalId: 'x',
    version: 1,
    status: 'active',
    statusReason: null,
    sourceVersion: 'v',
    updatedAt: NOW,
    replacesContractId: null,
    replacedByContractId: null,
    attributionVersion: null,
    refs: {},
    ...rest,
    terms: {
      productId: 'p',
      offerId: null,
      offerType: 'public',
      plan: marketplace === 'azure' ? 'pro' : null,
      quantity: null,
      buyer: { accountId: '111122223333', name: null },
      currency: 'USD',
      term: { start: '2026-03-01', end: '2026-04-01' },
      trialEnd: null,
      renewal: false,
      fixedCharges: [{ dimension: 'base', amountMinor: 100n }],
      grants: [],
      usageRates: marketplace === 'azure' ? [] : [{ dimension: 'api', unitPrice: '0.1' }],
      installments: [],
      reseller: null,
      ...terms,
    },
  };
}

const policy: MeteringPolicy = MeteringPolicySchema.parse({
  planDimensions: [{ marketplace: 'azure', plan: 'pro', dimensions: ['emails'] }],
});
const context = (overrides: Partial<UsageContext> = {}): UsageContext => ({
  policy,
  now: NOW,
  meteringProblem: null,
  ...overrides,
});
const record = (overrides: Partial<UsageRecordInput> = {}): UsageRecordInput => ({
  recordId: 'r1',
  contractId: 'c-aws',
  dimension: 'api',
  quantity: '3',
  usageTime: '2026-03-02T12:10:00Z',
  ...overrides,
});
const codeOf = (verdict: ReturnType<typeof validateUsage>) =>
  verdict.kind === 'reject' ? verdict.code : 'ACCEPTED';

describe('input schema', () => {
  it('needs exactly one of contractId and customerId, a decimal string and an ISO instant', () => {
    const base = { recordId: 'r', dimension: 'd', quantity: '1', usageTime: NOW };
    expect(UsageRecordInputSchema.safeParse({ ...base, contractId: 'c' }).success).toBe(true);
    expect(UsageRecordInputSchema.safeParse({ ...base, customerId: 'u' }).success).toBe(true);
    expect(UsageRecordInputSchema.safeParse(base).success).toBe(false);
    expect(
      UsageRecordInputSchema.safeParse({ ...base, contractId: 'c', customerId: 'u' }).success,
    ).toBe(false);
    expect(
      UsageRecordInputSchema.safeParse({ ...base, contractId: 'c', quantity: 1 }).success,
    ).toBe(false);
    expect(
      UsageRecordInputSchema.safeParse({ ...base, contractId: 'c', quantity: '1e3' }).success,
    ).toBe(false);
    expect(
      UsageRecordInputSchema.safeParse({ ...base, contractId: 'c', usageTime: '2026-03-02' })
        .success,
    ).toBe(false);
  });
});

describe('hour bucketing', () => {
  it('puts an instant in the UTC hour that contains it, whatever its offset', () => {
    expect(hourOf('2026-03-02T12:59:59.999Z')).toBe('2026-03-02T12:00:00.000Z');
    expect(hourOf('2026-03-02T13:00:00Z')).toBe('2026-03-02T13:00:00.000Z');
    expect(hourOf('2026-03-02T14:30:00+02:00')).toBe('2026-03-02T12:00:00.000Z');
    expect(hourOf('2026-03-02T06:15:00-05:30')).toBe('2026-03-02T11:00:00.000Z');
  });

  it('holds for any instant: start ≤ t < start + 1 h, on a whole hour, idempotent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        const start = Date.parse(hourOf(new Date(ms).toISOString()));
        expect(start).toBeLessThanOrEqual(ms);
        expect(ms - start).toBeLessThan(3_600_000);
        expect(start % 3_600_000).toBe(0);
        expect(hourOf(new Date(start).toISOString())).toBe(new Date(start).toISOString());
      }),
      RUNS,
    );
  });

  it('buckets by usageTime, never by the time of sending', () => {
    const verdict = validateUsage(record({ usageTime: '2026-03-02T11:59:00Z' }), snapshot('aws'), {
      ...context(),
      now: '2026-03-02T12:04:00.000Z',
    });
    expect(verdict).toMatchObject({ kind: 'accept', hourStart: '2026-03-02T11:00:00.000Z' });
  });
});

describe('quantities', () => {
  it('round-trips decimals through micro-units exactly, never through a float', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (units) => {
        expect(quantityUnitsOf(formatUnits(units))).toBe(units);
      }),
      RUNS,
    );
    expect(quantityUnitsOf('0.1')).toBe(100_000n);
    expect(quantityUnitsOf('0.0000001')).toBeNull();
    expect(formatUnits(1_500_000n)).toBe('1.5');
    expect(formatUnits(QUANTITY_SCALE * 123n)).toBe('123');
  });

  it('AWS takes integers ≥ 0 up to 2^31-1', () => {
    const aws = snapshot('aws');
    expect(codeOf(validateUsage(record({ quantity: '0' }), aws, context()))).toBe('ACCEPTED');
    expect(codeOf(validateUsage(record({ quantity: '2147483647' }), aws, context()))).toBe(
      'ACCEPTED',
    );
    expect(codeOf(validateUsage(record({ quantity: '7.000' }), aws, context()))).toBe('ACCEPTED');
    expect(codeOf(validateUsage(record({ quantity: '1.5' }), aws, context()))).toBe(
      'QUANTITY_PRECISION',
    );
    expect(codeOf(validateUsage(record({ quantity: '-1' }), aws, context()))).toBe(
      'QUANTITY_OUT_OF_RANGE',
    );
    expect(codeOf(validateUsage(record({ quantity: '2147483648' }), aws, context()))).toBe(
      'QUANTITY_OUT_OF_RANGE',
    );
  });

  it('Azure takes quantities > 0 with at most 6 decimals; GCP integers ≥ 0', () => {
    const azure = snapshot('azure');
    const az = (quantity: string) =>
      codeOf(validateUsage(record({ quantity, dimension: 'emails' }), azure, context()));
    expect(az('0.000001')).toBe('ACCEPTED');
    expect(az('0')).toBe('QUANTITY_OUT_OF_RANGE');
    expect(az('0.0000001')).toBe('QUANTITY_PRECISION');
    const gcp = snapshot('gcp');
    expect(codeOf(validateUsage(record({ quantity: '0' }), gcp, context()))).toBe('ACCEPTED');
    expect(codeOf(validateUsage(record({ quantity: '2.25' }), gcp, context()))).toBe(
      'QUANTITY_PRECISION',
    );
  });
});

describe('contract and dimension', () => {
  it('refuses a contract that is not active, or usage outside its term', () => {
    expect(
      codeOf(validateUsage(record(), snapshot('aws', { status: 'suspended' }), context())),
    ).toBe('CONTRACT_NOT_ACTIVE');
    expect(
      codeOf(validateUsage(record(), snapshot('aws', { status: 'cancelled' }), context())),
    ).toBe('CONTRACT_NOT_ACTIVE');
    const future = snapshot('aws', { terms: { term: { start: '2026-03-03', end: null } } });
    expect(codeOf(validateUsage(record(), future, context()))).toBe('CONTRACT_NOT_ACTIVE');
    const ended = snapshot('aws', { terms: { term: { start: '2026-02-01', end: '2026-03-02' } } });
    expect(codeOf(validateUsage(record(), ended, context()))).toBe('CONTRACT_NOT_ACTIVE');
  });

  it('tells an unknown dimension from a known one that is not metered', () => {
    const aws = snapshot('aws');
    expect(codeOf(validateUsage(record({ dimension: 'nope' }), aws, context()))).toBe(
      'UNKNOWN_DIMENSION',
    );
    expect(codeOf(validateUsage(record({ dimension: 'base' }), aws, context()))).toBe(
      'DIMENSION_NOT_METERED',
    );
    // A contract-only agreement: no usage rates at all.
    const contractOnly = snapshot('aws', { terms: { usageRates: [] } });
    expect(codeOf(validateUsage(record(), contractOnly, context()))).toBe('UNKNOWN_DIMENSION');
    const problem = validateUsage(
      record(),
      snapshot('gcp'),
      context({ meteringProblem: 'no usageReportingId' }),
    );
    expect(problem).toMatchObject({
      code: 'DIMENSION_NOT_METERED',
      message: 'no usageReportingId',
    });
  });

  it('meters Azure plans only through configured plan dimensions', () => {
    const azure = snapshot('azure');
    expect([...meteredDimensionsOf(azure, policy)]).toEqual(['emails']);
    expect([...meteredDimensionsOf(azure, DEFAULT_METERING_POLICY)]).toEqual([]);
    const other = snapshot('azure', { terms: { plan: 'basic' } });
    expect(codeOf(validateUsage(record({ dimension: 'emails' }), other, context()))).toBe(
      'UNKNOWN_DIMENSION',
    );
  });
});

describe('time rules', () => {
  it('accepts up to the clock-skew allowance ahead, and refuses beyond it', () => {
    const aws = snapshot('aws');
    expect(
      codeOf(validateUsage(record({ usageTime: '2026-03-02T12:25:00Z' }), aws, context())),
    ).toBe('ACCEPTED');
    expect(
      codeOf(validateUsage(record({ usageTime: '2026-03-02T12:25:00.001Z' }), aws, context())),
    ).toBe('FUTURE_USAGE');
  });

  it('refuses usage at or past the marketplace lateness window (AWS 6 h, Azure 24 h)', () => {
    const carry = MeteringPolicySchema.parse({ ...policy, lateRecords: 'carry' });
    const aws = snapshot('aws');
    const at = (usageTime: string, m: ContractSnapshot = aws, dimension = 'api') =>
      codeOf(validateUsage(record({ usageTime, dimension }), m, context({ policy: carry })));
    expect(at('2026-03-02T06:20:00.001Z')).toBe('ACCEPTED');
    expect(at('2026-03-02T06:20:00Z')).toBe('LATE_USAGE');
    expect(at('2026-03-01T12:20:00.001Z', snapshot('azure'), 'emails')).toBe('ACCEPTED');
    expect(at('2026-03-01T12:20:00Z', snapshot('azure'), 'emails')).toBe('LATE_USAGE');
    const longer = MeteringPolicySchema.parse({ ...carry, latenessHours: { aws: 8 } });
    expect(
      codeOf(
        validateUsage(
          record({ usageTime: '2026-03-02T06:20:00Z' }),
          aws,
          context({ policy: longer }),
        ),
      ),
    ).toBe('ACCEPTED');
  });

  it('seals an hour sealDelay after its end: HOUR_SEALED, or carried with usageTime kept', () => {
    expect(sealTimeOf('2026-03-02T11:00:00.000Z', policy)).toBe('2026-03-02T12:05:00.000Z');
    expect(isSealedAt('2026-03-02T11:00:00.000Z', '2026-03-02T12:04:59.999Z', policy)).toBe(false);
    expect(isSealedAt('2026-03-02T11:00:00.000Z', '2026-03-02T12:05:00.000Z', policy)).toBe(true);
    const aws = snapshot('aws');
    const late = record({ usageTime: '2026-03-02T11:30:00+00:00' });
    const open = validateUsage(late, aws, context({ now: '2026-03-02T12:04:59.999Z' }));
    expect(open).toMatchObject({ kind: 'accept', hourStart: '2026-03-02T11:00:00.000Z' });
    expect(codeOf(validateUsage(late, aws, context()))).toBe('HOUR_SEALED');
    const carry = MeteringPolicySchema.parse({ ...policy, lateRecords: 'carry' });
    expect(validateUsage(late, aws, context({ policy: carry }))).toMatchObject({
      kind: 'accept',
      hourStart: '2026-03-02T12:00:00.000Z',
      carriedFrom: '2026-03-02T11:00:00.000Z',
      usageTime: '2026-03-02T11:30:00.000Z',
    });
  });
});

describe('content hash', () => {
  it('is the same for the same content however written, and differs for different content', () => {
    const aws = snapshot('aws');
    const hash = (r: UsageRecordInput) => {
      const v = validateUsage(r, aws, context());
      if (v.kind !== 'accept') throw new Error(v.message);
      return v.contentHash;
    };
    const base = hash(record());
    expect(hash(record({ quantity: '3.000', usageTime: '2026-03-02T14:10:00+02:00' }))).toBe(base);
    expect(hash(record({ recordId: 'other' }))).toBe(base); // the id is the key, not the content
    expect(hash(record({ quantity: '4' }))).not.toBe(base);
    expect(hash(record({ usageTime: '2026-03-02T12:10:00.001Z' }))).not.toBe(base);
    // The hour it lands in is not content: a carried record hashes like the original.
    const carry = MeteringPolicySchema.parse({ ...policy, lateRecords: 'carry' });
    const carried = validateUsage(
      record({ usageTime: '2026-03-02T11:10:00Z' }),
      aws,
      context({ policy: carry }),
    );
    const direct = validateUsage(
      record({ usageTime: '2026-03-02T11:10:00Z' }),
      aws,
      context({ now: '2026-03-02T12:01:00.000Z' }),
    );
    expect(carried.kind === 'accept' && direct.kind === 'accept').toBe(true);
    if (carried.kind === 'accept' && direct.kind === 'accept') {
      expect(carried.hourStart).not.toBe(direct.hourStart);
      expect(carried.contentHash).toBe(direct.contentHash);
    }
  });

  it('maps codes to the status a record would have alone', () => {
    expect(rejectionStatus('INVALID_RECORD')).toBe(400);
    expect(rejectionStatus('CONTRACT_NOT_FOUND')).toBe(404);
    expect(rejectionStatus('RECORD_CONFLICT')).toBe(409);
    expect(rejectionStatus('CUSTOMER_AMBIGUOUS')).toBe(422);
    expect(rejectionStatus('HOUR_SEALED')).toBe(422);
  });
});
