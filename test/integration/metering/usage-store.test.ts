// Proves the usage ledger store on DynamoDB Local: a record and its hour line are written once
// even when retried or raced (identical or conflicting), totals are exact beyond 2^53, large
// batches span transactions, a sealed hour refuses records, transitions are conditional, and the
// pending-hour indexes hold exactly the unfinished lines.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  finalFlush,
  flushUsage,
  recordUsage,
  type UsageRecordWrite,
} from '../../../lib/app/metering';
import {
  applyPatch,
  claimPatch,
  newHourLine,
  rejectedPatch,
  reportQuantityOf,
} from '../../../lib/domain/metering/ledger';
import {
  type AcceptedUsage,
  DEFAULT_METERING_POLICY,
  formatUnits,
  hourOf,
  quantityUnitsOf,
  usageContentHash,
} from '../../../lib/domain/metering/usage';
import type { Marketplace } from '../../../lib/domain/schemas/primitives';
import type { DynamoStore } from '../../../lib/store/dynamo-store';
import { DynamoUsageStore, USAGE_RECORD_TTL_DAYS } from '../../../lib/store/usage-store';
import {
  CrashError,
  contract,
  FakeGateway,
  FakeMarketplace,
  InMemoryContractStore,
  meteringDeps,
  TestClock,
} from '../../unit/app/metering-fakes';
import { freshStore } from '../helpers';

const policy = DEFAULT_METERING_POLICY;
const RECEIVED_AT = '2026-03-02T10:30:00.000Z';

function write(
  contractId: string,
  recordId: string,
  quantity: string,
  usageTime: string,
  options: { dimension?: string; marketplace?: Marketplace } = {},
): UsageRecordWrite {
  const dimension = options.dimension ?? 'api';
  const marketplace = options.marketplace ?? 'aws';
  const units = quantityUnitsOf(quantity) ?? 0n;
  const hourStart = hourOf(usageTime);
  const usage: AcceptedUsage = {
    kind: 'accept',
    contractId,
    marketplace,
    dimension,
    quantity: formatUnits(units),
    quantityUnits: units,
    usageTime: new Date(usageTime).toISOString(),
    hourStart,
    carriedFrom: null,
    contentHash: usageContentHash({
      contractId,
      dimension,
      quantity: formatUnits(units),
      usageTime: new Date(usageTime).toISOString(),
    }),
  };
  return {
    recordId,
    usage,
    receivedAt: RECEIVED_AT,
    by: 'test',
    line: newHourLine({ contractId, marketplace, dimension, hourStart }, policy),
  };
}

const HOUR10 = '2026-03-02T10:00:00.000Z';

describe('DynamoUsageStore on DynamoDB Local', () => {
  let table: DynamoStore;
  let usage: DynamoUsageStore;

  beforeAll(async () => {
    table = await freshStore();
    usage = new DynamoUsageStore(table);
  });

  it('counts a record once: a retry is a duplicate, a changed retry a conflict', async () => {
    const first = await usage.write([
      write('c1', 'r1', '3', '2026-03-02T10:05:00Z'),
      write('c1', 'r2', '4', '2026-03-02T10:06:00Z'),
    ]);
    expect(first).toEqual([{ kind: 'accepted' }, { kind: 'accepted' }]);
    const again = await usage.write([
      write('c1', 'r1', '3', '2026-03-02T10:05:00Z'),
      write('c1', 'r2', '5', '2026-03-02T10:06:00Z'),
      write('c1', 'r3', '1', '2026-03-02T10:07:00Z'),
    ]);
    expect(again).toEqual([
      { kind: 'duplicate', hourStart: HOUR10 },
      { kind: 'conflict' },
      { kind: 'accepted' },
    ]);
    expect(await usage.line('c1', 'api', HOUR10)).toMatchObject({
      receivedUnits: 8_000_000n,
      recordCount: 3,
      status: 'pending',
      sealed: false,
      dueAt: '2026-03-02T11:05:00.000Z',
      deadline: '2026-03-02T16:00:00.000Z',
    });
    expect(await usage.record('c1', 'r1')).toEqual({
      contentHash: write('c1', 'r1', '3', '2026-03-02T10:05:00Z').usage.contentHash,
      hourStart: HOUR10,
    });
    const item = await table.get({ pk: 'USAGE#c1', sk: 'REC#r1' });
    expect(item?.expiresAt).toBe(Date.parse(RECEIVED_AT) / 1000 + USAGE_RECORD_TTL_DAYS * 86_400);
  });

  it('keeps totals exact beyond 2^53 micro-units (DynamoDB ADD on integers)', async () => {
    const big = '987654321012.123457';
    await usage.write([
      write('c-big', 'a', big, '2026-03-02T10:01:00Z', { marketplace: 'azure' }),
      write('c-big', 'b', big, '2026-03-02T10:02:00Z', { marketplace: 'azure' }),
      write('c-big', 'c', '0.000001', '2026-03-02T10:03:00Z', { marketplace: 'azure' }),
    ]);
    const line = await usage.line('c-big', 'api', HOUR10);
    expect(line?.receivedUnits).toBe(1_975_308_642_024_246_915n);
    expect(formatUnits(line?.receivedUnits ?? 0n)).toBe('1975308642024.246915');
  });

  it('counts identical records raced by concurrent requests exactly once', async () => {
    // Separate requests (each its own receivedAt): one is accepted, the rest are duplicates.
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        usage.write([
          {
            ...write('c-race', 'same', '2', '2026-03-02T10:10:00Z'),
            receivedAt: `2026-03-02T10:30:00.${String(i).padStart(3, '0')}Z`,
          },
        ]),
      ),
    );
    const kinds = outcomes.flat().map((o) => o.kind);
    expect(kinds.filter((k) => k === 'accepted')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'duplicate')).toHaveLength(11);
    // Byte-identical batches (same receivedAt) carry no shared request token, so DynamoDB does
    // not replay the first success: one is accepted, every copy is answered duplicate.
    const identical = await Promise.all(
      Array.from({ length: 6 }, () =>
        usage.write([write('c-race-2', 'same', '2', '2026-03-02T10:10:00Z')]),
      ),
    );
    const identicalKinds = identical.flat().map((o) => o.kind);
    expect(identicalKinds.filter((k) => k === 'accepted')).toHaveLength(1);
    expect(identicalKinds.filter((k) => k === 'duplicate')).toHaveLength(5);
    expect(await usage.write([write('c-race-2', 'same', '2', '2026-03-02T10:10:00Z')])).toEqual([
      { kind: 'duplicate', hourStart: HOUR10 },
    ]);
    for (const contractId of ['c-race', 'c-race-2'])
      expect(await usage.line(contractId, 'api', HOUR10)).toMatchObject({
        receivedUnits: 2_000_000n,
        recordCount: 1,
      });
  });

  it('lets exactly one of several conflicting contents win a raced record id', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        usage.write([write('c-conflict', 'id', String(i + 1), '2026-03-02T10:10:00Z')]),
      ),
    );
    const kinds = outcomes.flat().map((o) => o.kind);
    expect(kinds.filter((k) => k === 'accepted')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'conflict')).toHaveLength(7);
    const winner = kinds.indexOf('accepted') + 1;
    expect(await usage.line('c-conflict', 'api', HOUR10)).toMatchObject({
      receivedUnits: BigInt(winner) * 1_000_000n,
      recordCount: 1,
    });
  });

  it('adds concurrent distinct records into one hour line without losing any', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        usage.write([write('c-many', `r${i}`, String(i + 1), '2026-03-02T10:20:00Z')]),
      ),
    );
    expect(outcomes.flat().every((o) => o.kind === 'accepted')).toBe(true);
    expect(await usage.line('c-many', 'api', HOUR10)).toMatchObject({
      receivedUnits: 55_000_000n,
      recordCount: 10,
    });
  });

  it('writes a batch larger than one transaction, each line once per transaction', async () => {
    const writes = Array.from({ length: 230 }, (_, i) =>
      write('c-batch', `b${i}`, '1', `2026-03-02T1${i % 3}:0${i % 10}:00Z`, {
        dimension: i % 2 === 0 ? 'api' : 'gb',
      }),
    );
    const outcomes = await usage.write(writes);
    expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
    const page = await usage.lines(
      'c-batch',
      { from: HOUR10, to: '2026-03-02T13:00:00.000Z' },
      { limit: 50 },
    );
    expect(page.items.map((l) => `${l.hourStart.slice(11, 13)}/${l.dimension}`)).toEqual([
      '10/api',
      '10/gb',
      '11/api',
      '11/gb',
      '12/api',
      '12/gb',
    ]);
    expect(page.items.reduce((n, l) => n + l.recordCount, 0)).toBe(230);
    expect(page.items.reduce((n, l) => n + l.receivedUnits, 0n)).toBe(230_000_000n);
    const again = await usage.write(writes.slice(0, 120));
    expect(again.every((o) => o.kind === 'duplicate')).toBe(true);
  });

  it('refuses records for a sealed hour, but still answers a retry as a duplicate', async () => {
    await usage.write([write('c-seal', 'r1', '3', '2026-03-02T10:05:00Z')]);
    const line = await usage.line('c-seal', 'api', HOUR10);
    if (!line) throw new Error('line missing');
    const claim = claimPatch(
      line,
      '2026-03-02T11:06:00.000Z',
      policy,
      reportQuantityOf('aws', line.receivedUnits, null),
    );
    expect(await usage.transition(line, { ...line }, claim)).toBe(true);
    const outcomes = await usage.write([
      write('c-seal', 'r2', '1', '2026-03-02T10:50:00Z'),
      write('c-seal', 'r1', '3', '2026-03-02T10:05:00Z'),
      write('c-seal', 'r3', '1', '2026-03-02T11:01:00Z'),
    ]);
    expect(outcomes).toEqual([
      { kind: 'sealed' },
      { kind: 'duplicate', hourStart: HOUR10 },
      { kind: 'accepted' },
    ]);
    expect(await usage.line('c-seal', 'api', HOUR10)).toMatchObject({
      receivedUnits: 3_000_000n,
      recordCount: 1,
      sealed: true,
      status: 'reporting',
      attempts: 1,
      reportUnits: 3_000_000n,
    });
  });

  it('applies a transition only to the line as expected (status, attempts, record count)', async () => {
    await usage.write([write('c-cond', 'r1', '3', '2026-03-02T10:05:00Z')]);
    const line = await usage.line('c-cond', 'api', HOUR10);
    if (!line) throw new Error('line missing');
    const quantity = reportQuantityOf('aws', line.receivedUnits, null);
    const claim = claimPatch(line, '2026-03-02T11:06:00.000Z', policy, quantity);
    // A record slipped in after the read: the claim must fail.
    await usage.write([write('c-cond', 'r2', '1', '2026-03-02T10:06:00Z')]);
    expect(await usage.transition(line, { ...line }, claim)).toBe(false);
    const fresh = await usage.line('c-cond', 'api', HOUR10);
    if (!fresh) throw new Error('line missing');
    expect(await usage.transition(fresh, { status: 'pending', attempts: 1 }, claim)).toBe(false);
    expect(
      await usage.transition(
        fresh,
        { ...fresh },
        claimPatch(fresh, '2026-03-02T11:06:00.000Z', policy, quantity),
      ),
    ).toBe(true);
    // Two flushes settle the same claim: only one wins.
    const claimed = await usage.line('c-cond', 'api', HOUR10);
    if (!claimed) throw new Error('line missing');
    const settle = rejectedPatch('CustomerNotSubscribed', '2026-03-02T11:07:00.000Z');
    const results = await Promise.all([
      usage.transition(claimed, claimed, settle),
      usage.transition(claimed, claimed, settle),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('moves an Azure allowance with the claim, atomically and only from the expected value', async () => {
    await usage.write([
      write('c-allow', 'r1', '6', '2026-03-02T10:05:00Z', {
        marketplace: 'azure',
        dimension: 'emails',
      }),
    ]);
    const line = await usage.line('c-allow', 'emails', HOUR10);
    if (!line) throw new Error('line missing');
    const quantity = reportQuantityOf('azure', line.receivedUnits, 10_000_000n);
    const allowance = {
      contractId: 'c-allow',
      dimension: 'emails',
      periodStart: '2026-03-01',
      expectedConsumedUnits: 0n,
      consumedUnits: 6_000_000n,
    };
    const patch = claimPatch(line, '2026-03-02T11:06:00.000Z', policy, quantity);
    expect(
      await usage.transition(line, { ...line }, patch, { ...allowance, expectedConsumedUnits: 1n }),
    ).toBe(false);
    expect(await usage.allowanceConsumed('c-allow', 'emails', '2026-03-01')).toBe(0n);
    expect(await usage.transition(line, { ...line }, patch, allowance)).toBe(true);
    expect(await usage.allowanceConsumed('c-allow', 'emails', '2026-03-01')).toBe(6_000_000n);
    expect(await usage.line('c-allow', 'emails', HOUR10)).toMatchObject({
      includedUnits: 6_000_000n,
      reportUnits: 0n,
    });
  });

  it('indexes unfinished lines by due time and per contract, and drops finished ones', async () => {
    const store = new DynamoUsageStore(await freshStore());
    await store.write([
      write('c-a', 'r1', '1', '2026-03-02T10:05:00Z'),
      write('c-a', 'r2', '1', '2026-03-02T11:05:00Z'),
      write('c-b', 'r1', '1', '2026-03-02T10:15:00Z', { dimension: 'gb' }),
    ]);
    expect(
      await store.ensureLine(
        newHourLine(
          {
            contractId: 'c-b',
            marketplace: 'aws',
            dimension: 'api',
            hourStart: '2026-03-02T09:00:00.000Z',
          },
          policy,
        ),
      ),
    ).toBe(true);
    expect(
      await store.ensureLine(
        newHourLine(
          { contractId: 'c-a', marketplace: 'aws', dimension: 'api', hourStart: HOUR10 },
          policy,
        ),
      ),
    ).toBe(false);
    const due = await store.due('2026-03-02T11:05:00.000Z', 100);
    expect(due.map((l) => `${l.contractId}/${l.dimension}/${l.hourStart.slice(11, 13)}`)).toEqual([
      'c-b/api/09',
      'c-a/api/10',
      'c-b/gb/10',
    ]);
    expect((await store.due('9999-12-31T23:59:59.999Z', 100)).length).toBe(4);
    expect((await store.due('9999-12-31T23:59:59.999Z', 2)).length).toBe(2);
    expect((await store.open('c-a', 100)).map((l) => l.hourStart)).toEqual([
      HOUR10,
      '2026-03-02T11:00:00.000Z',
    ]);
    const line = await store.line('c-a', 'api', HOUR10);
    if (!line) throw new Error('line missing');
    expect(
      await store.transition(line, line, rejectedPatch('gone', '2026-03-02T11:06:00.000Z')),
    ).toBe(true);
    expect((await store.open('c-a', 100)).map((l) => l.hourStart)).toEqual([
      '2026-03-02T11:00:00.000Z',
    ]);
    expect((await store.due('9999-12-31T23:59:59.999Z', 100)).length).toBe(3);
    // A due time moved forward moves the line in the index.
    const later = await store.line('c-b', 'gb', HOUR10);
    if (!later) throw new Error('line missing');
    const moved = applyPatch(later, { dueAt: '2026-03-02T13:00:00.000Z' });
    expect(await store.transition(later, later, { dueAt: moved.dueAt })).toBe(true);
    expect((await store.due('2026-03-02T12:59:59.999Z', 100)).map((l) => l.contractId)).toEqual([
      'c-b',
      'c-a',
    ]);
  });

  it('runs the use cases on it: a crash after the marketplace answered re-sends the same report once', async () => {
    const store = new DynamoUsageStore(await freshStore());
    const contracts = new InMemoryContractStore([contract('c-aws', 'aws')]);
    const market = new FakeMarketplace();
    const modes: ('ok' | 'crash-after')[] = ['crash-after'];
    const gateway = new FakeGateway('aws', market, 25, () => modes.shift() ?? 'ok');
    const clock = new TestClock('2026-03-02T10:20:00.000Z');
    const deps = meteringDeps({ contracts, usage: store, gateways: { aws: gateway }, clock });
    const at = '2026-03-02T10:05:00Z';
    const sent = await recordUsage(deps, {
      records: [
        { recordId: 'r1', contractId: 'c-aws', dimension: 'api', quantity: '3', usageTime: at },
        { recordId: 'r2', contractId: 'c-aws', dimension: 'api', quantity: '4', usageTime: at },
        { recordId: 'r1', contractId: 'c-aws', dimension: 'api', quantity: '3', usageTime: at },
        {
          recordId: 'r3',
          contractId: 'c-aws',
          dimension: 'gb',
          quantity: '1',
          usageTime: '2026-03-02T10:19:00Z',
        },
      ],
      by: 'test',
    });
    expect(sent.results.map((r) => r.status)).toEqual([
      'accepted',
      'accepted',
      'duplicate',
      'accepted',
    ]);
    clock.current = '2026-03-02T11:06:00.000Z';
    await expect(flushUsage(deps, { now: clock.now(), random: () => 0 })).rejects.toBeInstanceOf(
      CrashError,
    );
    expect(await store.line('c-aws', 'api', HOUR10)).toMatchObject({
      status: 'reporting',
      attempts: 1,
    });
    clock.advanceMinutes(16);
    const summary = await flushUsage(deps, { now: clock.now(), random: () => 0 });
    expect(summary).toMatchObject({ accepted: 2, eventsAppended: 2 });
    expect(new Set(market.calls.flat().map((r) => `${r.reportId}=${r.quantity}`)).size).toBe(2);
    expect(market.entries.size).toBe(2);
    expect(await store.due('9999-12-31T23:59:59.999Z', 10)).toEqual([]);
    // Final flush of an open hour on cancellation; later records for it are refused.
    await recordUsage(deps, {
      records: [
        {
          recordId: 'r4',
          contractId: 'c-aws',
          dimension: 'api',
          quantity: '2',
          usageTime: '2026-03-02T11:20:00Z',
        },
      ],
      by: 'test',
    });
    expect((await finalFlush(deps, 'c-aws', clock.now(), () => 0)).accepted).toBe(1);
    const late = await recordUsage(deps, {
      records: [
        {
          recordId: 'r5',
          contractId: 'c-aws',
          dimension: 'api',
          quantity: '2',
          usageTime: '2026-03-02T11:21:00Z',
        },
      ],
      by: 'test',
    });
    expect(late.results[0]).toMatchObject({ code: 'HOUR_SEALED' });
    const events = (await contracts.events('c-aws', { limit: 10 })).items.map((e) => e.event);
    expect(
      events.map((e) =>
        e.type === 'UsageRecorded' ? `${e.payload.dimension}=${e.payload.quantity}` : e.type,
      ),
    ).toEqual(['api=7', 'gb=1', 'api=2']);
  });
});
