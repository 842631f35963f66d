// Proves the metering use cases on in-memory fakes: per-record outcomes and idempotency, customer
// resolution, sealing and carrying, claim-after-write re-sends after crashes, outages, retries,
// Azure's included quantities and zero rule, AWS zero hours, the events revenue reads, alarms.
import { describe, expect, it } from 'vitest';
import {
  deadlineAlarms,
  finalFlush,
  flushUsage,
  type MeteringDeps,
  meteringCustomer,
  recordUsage,
  usageStatus,
} from '../../../lib/app/metering';
import { usageOfPeriod } from '../../../lib/app/revenue/runs';
import { reportIdFor } from '../../../lib/domain/metering/ledger';
import { type MeteringPolicy, MeteringPolicySchema } from '../../../lib/domain/metering/usage';
import type { Marketplace } from '../../../lib/domain/schemas/primitives';
import {
  type CallMode,
  CrashError,
  contract,
  FakeGateway,
  FakeMarketplace,
  InMemoryContractStore,
  InMemoryUsageStore,
  meteringDeps,
  type ReportAnswer,
  TEST_POLICY,
  TestClock,
} from './metering-fakes';

const HOUR10 = '2026-03-02T10:00:00.000Z';
const HOUR11 = '2026-03-02T11:00:00.000Z';

function setup(
  options: {
    policy?: Partial<MeteringPolicy>;
    marketplaces?: Marketplace[];
    contracts?: ReturnType<typeof contract>[];
    now?: string;
  } = {},
) {
  const contracts = new InMemoryContractStore(
    options.contracts ?? [
      contract('c-aws', 'aws'),
      contract('c-azure', 'azure'),
      contract('c-gcp', 'gcp'),
    ],
  );
  const usage = new InMemoryUsageStore();
  const market = new FakeMarketplace();
  const modes: CallMode[] = [];
  let answer: (r: Parameters<FakeGateway['answer']>[0]) => ReportAnswer = () => 'apply';
  const gateways: Partial<Record<Marketplace, FakeGateway>> = {};
  for (const marketplace of options.marketplaces ?? ['aws', 'azure', 'gcp']) {
    gateways[marketplace] = new FakeGateway(
      marketplace,
      market,
      25,
      () => modes.shift() ?? 'ok',
      (r) => answer(r),
    );
  }
  const clock = new TestClock(options.now ?? '2026-03-02T10:20:00.000Z');
  const policy = MeteringPolicySchema.parse({ ...TEST_POLICY, ...options.policy });
  const deps = meteringDeps({ contracts, usage, gateways, clock, policy });
  return {
    deps,
    contracts,
    usage,
    market,
    clock,
    modes,
    setAnswer: (fn: typeof answer) => {
      answer = fn;
    },
    send: (records: unknown[]) => recordUsage(deps, { records, by: 'test' }),
    flush: () => flushUsage(deps, { now: clock.now(), random: () => 0 }),
  };
}

const rec = (recordId: string, quantity: string, usageTime: string, extra: object = {}) => ({
  recordId,
  contractId: 'c-aws',
  dimension: 'api',
  quantity,
  usageTime,
  ...extra,
});

describe('recordUsage', () => {
  it('counts a record once: a retry is a duplicate, a changed retry a RECORD_CONFLICT', async () => {
    const t = setup();
    const first = await t.send([
      rec('r1', '3', '2026-03-02T10:05:00Z'),
      rec('r2', '4', '2026-03-02T10:06:00+00:00'),
      rec('r1', '3.0', '2026-03-02T10:05:00.000Z'), // same content, normalized: a duplicate
    ]);
    expect(first.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'duplicate']);
    expect(first.results[0]).toMatchObject({ contractId: 'c-aws', hourStart: HOUR10 });
    const again = await t.send([
      rec('r1', '3', '2026-03-02T10:05:00Z'),
      rec('r2', '5', '2026-03-02T10:06:00Z'),
    ]);
    expect(again.results[0]?.status).toBe('duplicate');
    expect(again.results[1]).toMatchObject({
      status: 'rejected',
      code: 'RECORD_CONFLICT',
      httpStatus: 409,
    });
    const line = await t.usage.line('c-aws', 'api', HOUR10);
    expect(line?.receivedUnits).toBe(7_000_000n);
    expect(line?.recordCount).toBe(2);
  });

  it('answers each record on its own: one bad record does not sink the batch', async () => {
    const t = setup();
    const { results } = await t.send([
      { recordId: 'bad', contractId: 'c-aws', quantity: '1', usageTime: '2026-03-02T10:00:00Z' },
      rec('nobody', '1', '2026-03-02T10:00:00Z', { contractId: 'c-missing' }),
      rec('both', '1', '2026-03-02T10:00:00Z', { customerId: 'x' }),
      rec('ok', '1', '2026-03-02T10:00:00Z'),
    ]);
    expect(results.map((r) => [r.recordId, r.code ?? r.status, r.httpStatus])).toEqual([
      ['bad', 'INVALID_RECORD', 400],
      ['nobody', 'CONTRACT_NOT_FOUND', 404],
      ['both', 'INVALID_RECORD', 400],
      ['ok', 'accepted', undefined],
    ]);
  });

  it('takes a customer id only when it names exactly one active contract', async () => {
    const legacy = contract('c-legacy', 'aws', {
      refs: { productCode: 'prodcode1', customerIdentifier: 'cust-1' },
      terms: { buyer: { accountId: 'unknown-buyer', name: null } },
    });
    const twoA = contract('c-two-a', 'gcp', {
      terms: { buyer: { accountId: 'acct-2', name: null } },
    });
    const twoB = contract('c-two-b', 'gcp', {
      terms: { buyer: { accountId: 'acct-2', name: null } },
    });
    const activeOne = contract('c-three', 'gcp', {
      terms: { buyer: { accountId: 'acct-3', name: null } },
    });
    const cancelled = contract('c-three-old', 'gcp', {
      status: 'cancelled',
      terms: { buyer: { accountId: 'acct-3', name: null } },
    });
    const t = setup({ contracts: [legacy, twoA, twoB, activeOne, cancelled] });
    const at = '2026-03-02T10:00:00Z';
    const { results } = await t.send([
      { recordId: 'a', customerId: 'cust-1', dimension: 'api', quantity: '1', usageTime: at },
      { recordId: 'b', customerId: 'acct-2', dimension: 'api', quantity: '1', usageTime: at },
      { recordId: 'c', customerId: 'acct-3', dimension: 'api', quantity: '1', usageTime: at },
      { recordId: 'd', customerId: 'nobody', dimension: 'api', quantity: '1', usageTime: at },
    ]);
    expect(results.map((r) => [r.code ?? r.status, r.contractId, r.httpStatus])).toEqual([
      ['accepted', 'c-legacy', undefined],
      ['CUSTOMER_AMBIGUOUS', undefined, 422],
      ['accepted', 'c-three', undefined],
      ['CUSTOMER_NOT_FOUND', undefined, 422],
    ]);
  });

  it('refuses usage for a marketplace without a metering gateway', async () => {
    const t = setup({ marketplaces: ['aws'] });
    const { results } = await t.send([
      rec('z', '1.5', '2026-03-02T10:00:00Z', { contractId: 'c-azure', dimension: 'emails' }),
    ]);
    expect(results[0]).toMatchObject({ code: 'MARKETPLACE_NOT_METERED', httpStatus: 422 });
  });

  it('refuses GCP entitlements without usageReportingId as not metered', async () => {
    const t = setup({
      contracts: [contract('c-gcp', 'gcp', { refs: { providerId: 'p', entitlementId: 'e' } })],
    });
    const { results } = await t.send([
      rec('g', '1', '2026-03-02T10:00:00Z', { contractId: 'c-gcp' }),
    ]);
    expect(results[0]).toMatchObject({ code: 'DIMENSION_NOT_METERED' });
    expect(results[0]?.message).toMatch(/usageReportingId/);
  });

  it('still answers a retry after its hour sealed as a duplicate; a new record gets HOUR_SEALED', async () => {
    const t = setup();
    await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
    t.clock.current = '2026-03-02T11:10:00.000Z';
    const { results } = await t.send([
      rec('r1', '3', '2026-03-02T10:05:00Z'),
      rec('r9', '1', '2026-03-02T10:30:00Z'),
    ]);
    expect(results[0]).toMatchObject({ status: 'duplicate', hourStart: HOUR10 });
    expect(results[1]).toMatchObject({ code: 'HOUR_SEALED', httpStatus: 422 });
    expect((await t.usage.line('c-aws', 'api', HOUR10))?.recordCount).toBe(1);
  });

  it('carries a late record into the open hour when configured, keeping it within the lateness window', async () => {
    const t = setup({ policy: { lateRecords: 'carry' }, now: '2026-03-02T11:10:00.000Z' });
    const { results } = await t.send([
      rec('late', '2', '2026-03-02T10:30:00Z'),
      rec('too-late', '2', '2026-03-02T05:10:00Z'),
    ]);
    expect(results[0]).toMatchObject({ status: 'accepted', hourStart: HOUR11 });
    expect(results[1]).toMatchObject({ code: 'LATE_USAGE' });
    expect((await t.usage.line('c-aws', 'api', HOUR11))?.receivedUnits).toBe(2_000_000n);
    expect(await t.usage.line('c-aws', 'api', HOUR10)).toBeNull();
  });

  it('after a final flush, records for the contract’s open hour are refused, even when carrying', async () => {
    const t = setup({ policy: { lateRecords: 'carry' } });
    await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
    const summary = await finalFlush(t.deps, 'c-aws', t.clock.now(), () => 0);
    expect(summary.accepted).toBe(1);
    const { results } = await t.send([rec('r2', '1', '2026-03-02T10:15:00Z')]);
    expect(results[0]).toMatchObject({ code: 'HOUR_SEALED' });
    expect(t.market.entries.size).toBe(1);
  });
});

describe('flushUsage', () => {
  it('reports each sealed hour once, exact totals at the hour start, and appends UsageRecorded', async () => {
    const t = setup();
    await t.send([
      rec('r1', '3', '2026-03-02T10:05:00Z'),
      rec('r3', '0', '2026-03-02T10:10:00Z', { dimension: 'gb' }),
    ]);
    t.clock.current = '2026-03-02T11:04:59.000Z';
    const late = await t.send([
      rec('r2', '4', '2026-03-02T10:59:59.999Z'), // within the seal delay: still hour 10
      rec('r4', '9', '2026-03-02T11:01:00Z'),
    ]);
    expect(late.results.map((r) => r.hourStart)).toEqual([HOUR10, HOUR11]);
    expect((await t.flush()).sent).toBe(0); // hour 10 seals at 11:05
    t.clock.current = '2026-03-02T11:05:00.000Z';
    const summary = await t.flush();
    expect(summary).toMatchObject({ sent: 2, accepted: 2, eventsAppended: 1 });
    const sent = t.market.calls.flat();
    expect(sent.map((r) => [r.dimension, r.quantity, r.hourStart, r.reportId]).sort()).toEqual([
      ['api', '7', HOUR10, reportIdFor('c-aws', 'api', HOUR10)],
      ['gb', '0', HOUR10, reportIdFor('c-aws', 'gb', HOUR10)],
    ]);
    expect(sent[0]?.customer).toMatchObject({
      marketplace: 'aws',
      productCode: 'prodcode1',
      customerAwsAccountId: '111122223333',
    });
    const api = await t.usage.line('c-aws', 'api', HOUR10);
    expect(api).toMatchObject({
      status: 'accepted',
      sealed: true,
      eventRecorded: true,
      dueAt: null,
    });
    const events = (await t.contracts.events('c-aws', { limit: 50 })).items.map((e) => e.event);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'UsageRecorded',
      payload: { dimension: 'api', quantity: '7', usageStart: HOUR10, usageEnd: HOUR11 },
    });
    // The month-end run accrues it.
    expect(await usageOfPeriod(t.contracts, 'c-aws', '2026-03')).toEqual([
      { dimension: 'api', quantity: { num: 7n, den: 1n } },
    ]);
    expect((await t.flush()).sent).toBe(0);
    // The open hour is still open.
    expect((await t.usage.line('c-aws', 'api', HOUR11))?.status).toBe('pending');
  });

  for (const crash of ['crash-after', 'crash-before'] as const) {
    it(`re-sends the same report once after a ${crash} of the flush, when the claim lease ends`, async () => {
      const t = setup({ now: '2026-03-02T10:20:00.000Z' });
      await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
      t.clock.current = '2026-03-02T11:06:00.000Z';
      t.modes.push(crash);
      await expect(t.flush()).rejects.toBeInstanceOf(CrashError);
      expect(await t.usage.line('c-aws', 'api', HOUR10)).toMatchObject({
        status: 'reporting',
        attempts: 1,
      });
      t.clock.advanceMinutes(10);
      expect((await t.flush()).sent).toBe(0); // the claim lease (15 min) still runs
      t.clock.advanceMinutes(6);
      expect((await t.flush()).accepted).toBe(1);
      const calls = t.market.calls.flat();
      expect(calls).toHaveLength(crash === 'crash-after' ? 2 : 1);
      expect(new Set(calls.map((c) => `${c.reportId}/${c.quantity}`)).size).toBe(1);
      expect(t.market.entries.size).toBe(1);
      expect(await t.usage.line('c-aws', 'api', HOUR10)).toMatchObject({
        status: 'accepted',
        attempts: 2,
      });
      expect((await t.contracts.events('c-aws', { limit: 10 })).items).toHaveLength(1);
    });
  }

  it('leaves every hour pending with attempts unspent when the marketplace is unavailable', async () => {
    const t = setup();
    await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
    t.clock.current = '2026-03-02T11:06:00.000Z';
    t.modes.push('throttle');
    const summary = await t.flush();
    expect(summary).toMatchObject({ unavailable: ['aws'], released: 1, accepted: 0 });
    expect(await t.usage.line('c-aws', 'api', HOUR10)).toMatchObject({
      status: 'pending',
      attempts: 0,
      reportUnits: 3_000_000n,
    });
    expect((await t.flush()).accepted).toBe(1);
  });

  it('retries unprocessed hours after a jittered backoff and gives up as late after attemptsMax', async () => {
    const t = setup({ policy: { attemptsMax: 3, retryBaseMinutes: 5 } });
    t.setAnswer(() => 'unprocessed');
    await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
    t.clock.current = '2026-03-02T11:06:00.000Z';
    expect((await t.flush()).unprocessed).toBe(1);
    const first = await t.usage.line('c-aws', 'api', HOUR10);
    // random() = 0: half of the 5-minute ceiling.
    expect(first).toMatchObject({
      status: 'unprocessed',
      attempts: 1,
      dueAt: '2026-03-02T11:08:30.000Z',
    });
    t.clock.advanceMinutes(2);
    expect((await t.flush()).sent).toBe(0);
    for (let i = 0; i < 2; i += 1) {
      t.clock.advanceMinutes(30);
      expect((await t.flush()).unprocessed).toBe(1);
    }
    t.clock.advanceMinutes(30);
    expect((await t.flush()).late).toBe(1);
    const line = await t.usage.line('c-aws', 'api', HOUR10);
    expect(line).toMatchObject({ status: 'late', attempts: 3, dueAt: null });
    expect(line?.reason).toMatch(/3 attempt/);
    expect(t.market.calls.flat()).toHaveLength(3);
  });

  it('keeps a rejected hour final, with the marketplace’s reason, and appends no event', async () => {
    const t = setup();
    t.setAnswer(() => 'reject');
    await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
    t.clock.current = '2026-03-02T11:06:00.000Z';
    expect((await t.flush()).rejected).toBe(1);
    t.clock.advanceMinutes(120);
    expect((await t.flush()).sent).toBe(0);
    expect(await t.usage.line('c-aws', 'api', HOUR10)).toMatchObject({
      status: 'rejected',
      reason: 'CustomerNotSubscribed',
    });
    expect((await t.contracts.events('c-aws', { limit: 10 })).items).toHaveLength(0);
  });

  it('counts a duplicate answer as reported', async () => {
    const t = setup();
    t.setAnswer(() => 'duplicate-answer');
    await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
    t.clock.current = '2026-03-02T11:06:00.000Z';
    expect((await t.flush()).duplicate).toBe(1);
    expect((await t.contracts.events('c-aws', { limit: 10 })).items).toHaveLength(1);
  });

  it('Azure: sends only usage above the included quantity, never zero, decimals exact', async () => {
    const t = setup({
      policy: { included: [{ plan: 'pro', dimension: 'emails', quantity: '10', per: 'month' }] },
    });
    const az = (id: string, quantity: string, at: string) =>
      rec(id, quantity, at, { contractId: 'c-azure', dimension: 'emails' });
    const sent = await t.send([
      az('a1', '6', '2026-03-02T10:05:00Z'),
      az('a0', '0', '2026-03-02T10:06:00Z'),
    ]);
    expect(sent.results[1]).toMatchObject({ code: 'QUANTITY_OUT_OF_RANGE' });
    t.clock.current = '2026-03-02T11:06:00.000Z';
    await t.send([
      az('a2', '6.75', '2026-03-02T11:05:00Z'),
      az('a3', '0.25', '2026-03-02T11:06:00Z'),
    ]);
    expect((await t.flush()).skipped).toBe(1);
    t.clock.current = '2026-03-02T12:06:00.000Z';
    expect((await t.flush()).accepted).toBe(1);
    expect(t.market.calls.flat().map((r) => [r.hourStart, r.quantity])).toEqual([[HOUR11, '3']]);
    expect(await t.usage.line('c-azure', 'emails', HOUR10)).toMatchObject({
      status: 'skipped',
      includedUnits: 6_000_000n,
    });
    expect(await t.usage.line('c-azure', 'emails', HOUR11)).toMatchObject({
      receivedUnits: 7_000_000n,
      reportUnits: 3_000_000n,
      includedUnits: 4_000_000n,
    });
    expect(t.market.calls.flat()[0]?.customer).toEqual({
      marketplace: 'azure',
      subscriptionId: 'sub-c-azure',
      planId: 'pro',
    });
  });

  it('AWS every-hour: writes a zero line for recent sealed hours without records and reports 0', async () => {
    const t = setup({
      policy: { awsZeroHours: 'every-hour' },
      contracts: [contract('c-aws', 'aws')],
      now: '2026-03-02T12:04:00.000Z',
    });
    await t.send([rec('r1', '2', '2026-03-02T11:30:00Z')]); // hour 11 has a record
    t.clock.current = '2026-03-02T12:07:00.000Z';
    const summary = await t.flush();
    // 2 dimensions × hours 10 and 11, minus the api line of hour 11 that exists.
    expect(summary.zeroLinesCreated).toBe(3);
    expect(
      t.market.calls
        .flat()
        .map((r) => `${r.dimension}@${r.hourStart.slice(11, 13)}=${r.quantity}`)
        .sort(),
    ).toEqual(['api@10=0', 'api@11=2', 'gb@10=0', 'gb@11=0']);
    expect((await t.contracts.events('c-aws', { limit: 10 })).items).toHaveLength(1);
  });
});

describe('deadlineAlarms', () => {
  it('flags hours still unreported within the margin of their deadline, then overdue', async () => {
    const t = setup();
    await t.send([rec('r1', '3', '2026-03-02T10:05:00Z')]);
    const alarm = (now: string) => deadlineAlarms(t.deps as MeteringDeps, now, 1);
    expect((await alarm('2026-03-02T14:59:00.000Z')).lines).toHaveLength(0);
    const near = await alarm('2026-03-02T15:00:00.000Z'); // AWS deadline 16:00, margin 1 h
    expect(near.lines.map((l) => [l.dimension, l.deadline, l.status])).toEqual([
      ['api', '2026-03-02T16:00:00.000Z', 'pending'],
    ]);
    expect(near.overdue).toBe(0);
    expect((await alarm('2026-03-02T16:00:00.000Z')).overdue).toBe(1);
    t.clock.current = '2026-03-02T11:06:00.000Z';
    await t.flush();
    expect((await alarm('2026-03-02T15:30:00.000Z')).lines).toHaveLength(0);
  });
});

describe('usageStatus', () => {
  it('lists hour lines with exact decimals and refuses unbounded ranges and unknown contracts', async () => {
    const t = setup();
    await t.send([
      rec('a', '0.000001', '2026-03-02T10:05:00Z', { contractId: 'c-azure', dimension: 'emails' }),
      rec('b', '123456789.123456', '2026-03-02T10:06:00Z', {
        contractId: 'c-azure',
        dimension: 'emails',
      }),
    ]);
    const page = await usageStatus(t.deps, {
      contractId: 'c-azure',
      from: '2026-03-02T10:30:00Z',
      to: '2026-03-02T11:00:00Z',
      limit: 50,
    });
    expect(page.items).toEqual([
      expect.objectContaining({
        hourStart: HOUR10,
        hourEnd: HOUR11,
        received: '123456789.123457',
        recordCount: 2,
        sealed: false,
        status: 'pending',
        reported: null,
      }),
    ]);
    // Without a range: the last 24 hours, the open hour included.
    const recent = await usageStatus(t.deps, { contractId: 'c-azure', limit: 50 });
    expect(recent.items.map((l) => l.hourStart)).toEqual([HOUR10]);
    t.clock.current = '2026-03-03T11:00:00.000Z';
    expect((await usageStatus(t.deps, { contractId: 'c-azure', limit: 50 })).items).toEqual([]);
    expect(
      (await usageStatus(t.deps, { contractId: 'c-azure', from: HOUR10, limit: 50 })).items[0]
        ?.sealed,
    ).toBe(true);
    await expect(
      usageStatus(t.deps, {
        contractId: 'c-azure',
        from: '2026-01-01T00:00:00Z',
        to: '2026-03-01T00:00:00Z',
        limit: 5,
      }),
    ).rejects.toMatchObject({ code: 'invalid_range' });
    await expect(
      usageStatus(t.deps, { contractId: 'c-nope', from: HOUR10, to: HOUR11, limit: 5 }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('meteringCustomer', () => {
  it('meters AWS by account + LicenseArn, or the legacy CustomerIdentifier; never without a product code', () => {
    expect(meteringCustomer(contract('c', 'aws'))).toEqual({
      marketplace: 'aws',
      productCode: 'prodcode1',
      customerAwsAccountId: '111122223333',
      licenseArn: 'arn:aws:license-manager::aws:license:l-c',
      customerIdentifier: null,
    });
    expect(
      meteringCustomer(
        contract('c', 'aws', {
          refs: { productCode: 'p', customerIdentifier: 'cust' },
          terms: { buyer: { accountId: 'unknown-buyer', name: null } },
        }),
      ),
    ).toMatchObject({ customerIdentifier: 'cust', customerAwsAccountId: null, licenseArn: null });
    expect(meteringCustomer(contract('c', 'aws', { refs: { licenseArn: 'arn' } }))).toBeNull();
    expect(
      meteringCustomer(
        contract('c', 'aws', {
          refs: { productCode: 'p', licenseArn: 'arn' },
          terms: { buyer: { accountId: 'unknown-buyer', name: null } },
        }),
      ),
    ).toBeNull();
  });

  it('meters Azure by subscription and plan, GCP by provider, service and usageReportingId', () => {
    expect(meteringCustomer(contract('c', 'azure'))).toEqual({
      marketplace: 'azure',
      subscriptionId: 'sub-c',
      planId: 'pro',
    });
    expect(meteringCustomer(contract('c', 'azure', { terms: { plan: null } }))).toBeNull();
    expect(meteringCustomer(contract('c', 'gcp'))).toEqual({
      marketplace: 'gcp',
      providerId: 'prov-1',
      serviceName: 'prod-1',
      usageReportingId: 'urid-c',
    });
    expect(
      meteringCustomer(
        contract('c', 'gcp', {
          refs: {
            providerId: 'p',
            usageReportingId: 'u',
            serviceName: 'svc.endpoints.p.cloud.goog',
          },
        }),
      ),
    ).toMatchObject({ serviceName: 'svc.endpoints.p.cloud.goog' });
    expect(meteringCustomer(contract('c', 'gcp', { refs: { providerId: 'p' } }))).toBeNull();
  });
});
