// Proves exactly-once metering under injected crashes: random records (with retries, racing
// duplicates and conflicting reuses of ids) and random flush/crash/outage interleavings always end
// with every acknowledged record counted once, each hour reported once with the exact sum of its
// distinct records, and one UsageRecorded event per reported hour carrying that same sum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  finalFlush,
  flushUsage,
  meteringCustomer,
  recordUsage,
  type UsageRecordResult,
} from '../../../lib/app/metering';
import type { MeteringReport } from '../../../lib/app/metering-ports';
import type { ContractSnapshot } from '../../../lib/domain/contract';
import {
  formatUnits,
  isoOf,
  MeteringPolicySchema,
  quantityUnitsOf,
  usageContentHash,
} from '../../../lib/domain/metering/usage';
import {
  type CallMode,
  CrashError,
  contract,
  FakeGateway,
  FakeMarketplace,
  type Faults,
  InMemoryContractStore,
  InMemoryUsageStore,
  meteringDeps,
  type ReportAnswer,
  seededRandom,
  TEST_POLICY,
  TestClock,
} from './metering-fakes';

const RUNS = { numRuns: 150, seed: 20_260_302 } as const;
const T0 = Date.parse('2026-03-02T10:00:00.000Z');

const CONTRACTS: ContractSnapshot[] = [
  contract('c-aws-1', 'aws'),
  contract('c-aws-2', 'aws', {
    refs: { productCode: 'prodcode2', licenseArn: 'arn:aws:license-manager::aws:license:l-2' },
  }),
  contract('c-azure', 'azure'),
  contract('c-gcp', 'gcp'),
];
/** (contract, dimension, decimals allowed) usage may target. */
const TARGETS = [
  { contractId: 'c-aws-1', dimension: 'api', azure: false },
  { contractId: 'c-aws-1', dimension: 'gb', azure: false },
  { contractId: 'c-aws-2', dimension: 'api', azure: false },
  { contractId: 'c-azure', dimension: 'emails', azure: true },
  { contractId: 'c-gcp', dimension: 'api', azure: false },
] as const;

interface RecordSpec {
  readonly recordId: string;
  readonly contractId: string;
  readonly dimension: string;
  readonly quantity: string;
  readonly usageTime: string;
}

const recordArb = fc
  .record({
    target: fc.integer({ min: 0, max: TARGETS.length - 1 }),
    minute: fc.integer({ min: 0, max: 179 }),
    whole: fc.integer({ min: 0, max: 50 }),
    millis: fc.integer({ min: 1, max: 999 }),
  })
  .map(({ target, minute, whole, millis }) => {
    const t = TARGETS[target] ?? TARGETS[0];
    return {
      contractId: t.contractId,
      dimension: t.dimension,
      // Azure takes decimals > 0; the others integers ≥ 0 (zero included).
      quantity: t.azure ? `${whole}.${String(millis).padStart(3, '0')}` : String(whole),
      usageTime: isoOf(T0 + minute * 60_000 + (millis % 60) * 1000),
    };
  });

type Step =
  | { kind: 'send'; picks: number[]; variant: boolean; race: boolean; anyRecord: boolean }
  | { kind: 'flush'; concurrent: boolean }
  | { kind: 'final'; contract: number; racePicks: number[] }
  | { kind: 'advance'; minutes: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
      variant: fc.boolean(),
      race: fc.boolean(),
      anyRecord: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('flush' as const), concurrent: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('final' as const),
      contract: fc.integer({ min: 0, max: CONTRACTS.length - 1 }),
      /** Records sent while the final flush runs (they race its claims). */
      racePicks: fc.array(fc.nat(), { maxLength: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      minutes: fc.integer({ min: 1, max: 50 }),
    }),
  },
);

const scenarioArb = fc.record({
  records: fc.array(recordArb, { minLength: 5, maxLength: 40 }),
  /** Records whose id is also reused with different content. */
  conflicting: fc.array(fc.nat(), { maxLength: 4 }),
  steps: fc.array(stepArb, { minLength: 10, maxLength: 50 }),
  seed: fc.integer(),
  crashRate: fc.constantFrom(0, 0.05, 0.15, 0.3),
  lateRecords: fc.constantFrom('reject' as const, 'carry' as const),
});

function contentHashOf(spec: RecordSpec): string {
  return usageContentHash({
    contractId: spec.contractId,
    dimension: spec.dimension,
    quantity: formatUnits(quantityUnitsOf(spec.quantity) ?? 0n),
    usageTime: spec.usageTime,
  });
}

/** The marketplace identity key a report is deduplicated on. */
function marketKey(
  market: FakeMarketplace,
  snapshot: ContractSnapshot,
  dimension: string,
  hourStart: string,
) {
  const customer = meteringCustomer(snapshot);
  if (!customer) throw new Error('test contract without metering identity');
  return market.keyOf({ customer, dimension, hourStart } as MeteringReport);
}

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

async function runScenario(scenario: Scenario) {
  const rng = seededRandom(scenario.seed);
  let crashRate = scenario.crashRate;
  // Record writes crash less often than flush steps: a batch has many of them.
  const faults: Faults = {
    crash: (point) => rng() < (point === 'usage.write' ? crashRate / 4 : crashRate),
  };
  const contracts = new InMemoryContractStore(CONTRACTS, faults);
  const usage = new InMemoryUsageStore(faults);
  const market = new FakeMarketplace();
  let quiet = false;
  const mode = (): CallMode => {
    if (quiet) return 'ok';
    const r = rng();
    if (r < 0.1) return 'throttle';
    if (r < 0.1 + crashRate / 2) return 'crash-before';
    if (r < 0.1 + crashRate) return 'crash-after';
    return 'ok';
  };
  const answer = (): ReportAnswer => {
    if (quiet) return 'apply';
    const r = rng();
    return r < 0.15 ? 'unprocessed' : r < 0.25 ? 'duplicate-answer' : 'apply';
  };
  const gateways = {
    aws: new FakeGateway('aws', market, 3, mode, answer),
    azure: new FakeGateway('azure', market, 2, mode, answer),
    gcp: new FakeGateway('gcp', market, 25, mode, answer),
  };
  const clock = new TestClock(isoOf(T0 + 30 * 60_000));
  const policy = MeteringPolicySchema.parse({
    ...TEST_POLICY,
    lateRecords: scenario.lateRecords,
    attemptsMax: 50,
  });
  const deps = meteringDeps({ contracts, usage, gateways, clock, policy });

  const specs: RecordSpec[] = scenario.records.map((r, i) => ({ ...r, recordId: `r${i}` }));
  const variants = new Map<string, RecordSpec>();
  for (const n of scenario.conflicting) {
    const base = specs[n % specs.length];
    if (!base) continue;
    const units = quantityUnitsOf(base.quantity) ?? 0n;
    variants.set(base.recordId, { ...base, quantity: formatUnits(units + 1_000_000n) });
  }
  /** (contractId, recordId) → content hashes the service acknowledged (accepted or duplicate). */
  const acknowledged = new Map<string, Set<string>>();
  const note = (batch: RecordSpec[], results: UsageRecordResult[]) => {
    results.forEach((result, i) => {
      const spec = batch[i];
      if (!spec || (result.status !== 'accepted' && result.status !== 'duplicate')) return;
      const key = `${spec.contractId}\u0000${spec.recordId}`;
      const set = acknowledged.get(key) ?? new Set<string>();
      set.add(contentHashOf(spec));
      acknowledged.set(key, set);
    });
  };
  const survive = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (!(error instanceof CrashError)) throw error;
    }
  };
  const send = async (batch: RecordSpec[]) => {
    const { results } = await recordUsage(deps, { records: batch, by: 'prop' });
    note(batch, results);
  };
  const flush = () => flushUsage(deps, { now: clock.now(), random: rng });

  /** Mostly records of the last hour or so (what a live client sends), sometimes any. */
  const pick = (picks: readonly number[], anyRecord: boolean, variant: boolean) => {
    const nowMs = Date.parse(clock.now());
    const recent = specs.filter((r) => {
      const at = Date.parse(r.usageTime);
      return at <= nowMs + 4 * 60_000 && at >= nowMs - 70 * 60_000;
    });
    const pool = recent.length > 0 && !anyRecord ? recent : specs;
    return picks.map((p) => {
      const spec = pool[p % pool.length] as RecordSpec;
      return (variant && variants.get(spec.recordId)) || spec;
    });
  };

  for (const step of scenario.steps) {
    if (step.kind === 'advance') clock.advanceMinutes(step.minutes);
    else if (step.kind === 'send') {
      const batch = pick(step.picks, step.anyRecord, step.variant);
      if (step.race) await Promise.all([survive(() => send(batch)), survive(() => send(batch))]);
      else await survive(() => send(batch));
    } else if (step.kind === 'flush') {
      if (step.concurrent) await Promise.all([survive(flush), survive(flush)]);
      else await survive(flush);
    } else {
      const id = CONTRACTS[step.contract]?.contractId ?? 'c-aws-1';
      const batch = pick(step.racePicks, false, false);
      await Promise.all([
        survive(() => finalFlush(deps, id, clock.now(), rng)),
        batch.length > 0 ? survive(() => send(batch)) : Promise.resolve(),
      ]);
    }
  }

  // Quiet: no more faults; time moves past every seal, lease and backoff until nothing is due.
  quiet = true;
  crashRate = 0;
  for (let round = 0; round < 30 && usage.allLines().some((l) => l.dueAt !== null); round += 1) {
    clock.advanceMinutes(61);
    await flush();
  }
  return { usage, contracts, market, acknowledged };
}

describe('metering is exactly once under crashes, retries and races', () => {
  it('counts each acknowledged record once and reports each hour once with its exact total', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const { usage, contracts, market, acknowledged } = await runScenario(scenario);
        const lines = usage.allLines();

        // The marketplace never saw two different quantities for one customer+dimension+hour.
        expect(market.conflicts).toEqual([]);

        // Every acknowledged record is stored once, with the content that was acknowledged.
        for (const [key, hashes] of acknowledged) {
          const stored = usage.records.get(key);
          expect(stored, key).toBeDefined();
          expect([...hashes]).toEqual([stored?.contentHash]);
        }

        let storedTotal = 0n;
        for (const line of lines) {
          // Done: reported and its event recorded.
          expect(['accepted', 'duplicate']).toContain(line.status);
          expect(line.eventRecorded).toBe(true);
          expect(line.dueAt).toBeNull();
          // Each hour's total is the sum of its distinct records.
          const members = [...usage.records.values()].filter(
            (r) =>
              r.contractId === line.contractId &&
              r.dimension === line.dimension &&
              r.hourStart === line.hourStart,
          );
          const sum = members.reduce((total, r) => total + r.quantityUnits, 0n);
          expect(line.receivedUnits).toBe(sum);
          expect(line.recordCount).toBe(members.length);
          expect(line.reportUnits).toBe(sum);
          storedTotal += sum;
          // ...and that exact total is what the marketplace holds for the hour.
          const snapshot = CONTRACTS.find((c) => c.contractId === line.contractId);
          if (!snapshot) throw new Error('unknown contract');
          const entry = market.entries.get(
            marketKey(market, snapshot, line.dimension, line.hourStart),
          );
          expect(entry?.quantity).toBe(formatUnits(sum));
          expect(entry?.reportId).toBe(line.reportId);
        }
        // No record outside a line, no marketplace entry without a line.
        expect(usage.records.size).toBe(lines.reduce((count, line) => count + line.recordCount, 0));
        expect(market.entries.size).toBe(lines.length);
        let marketTotal = 0n;
        for (const entry of market.entries.values())
          marketTotal += quantityUnitsOf(entry.quantity) ?? 0n;
        expect(marketTotal).toBe(storedTotal);

        // One UsageRecorded event per reported hour with a quantity, carrying the same total.
        for (const snapshot of CONTRACTS) {
          const events = (contracts.eventLog.get(snapshot.contractId) ?? []).map((e) => e.event);
          const usageEvents = events.filter((e) => e.type === 'UsageRecorded');
          expect(new Set(usageEvents.map((e) => e.eventId)).size).toBe(usageEvents.length);
          const billed = lines.filter(
            (l) => l.contractId === snapshot.contractId && l.receivedUnits > 0n,
          );
          expect(usageEvents).toHaveLength(billed.length);
          for (const line of billed) {
            const event = usageEvents.find(
              (e) =>
                e.type === 'UsageRecorded' &&
                e.payload.dimension === line.dimension &&
                e.payload.usageStart === line.hourStart,
            );
            expect(event?.type === 'UsageRecorded' && event.payload.quantity).toBe(
              formatUnits(line.receivedUnits),
            );
          }
        }
      }),
      RUNS,
    );
  }, 120_000);
});
