// Proves metering end to end over real HTTP: usage posted for an AWS contract is validated per record (duplicates are no-ops, conflicts and unmetered dimensions refused without sinking the batch), the hourly flush reports each sealed hour once to the AWS simulator's BatchMeterUsage at the hour start with the exact sum of its distinct records, a second flush reports nothing, the ledger shows the answers, accepted hours reach the contract as UsageRecorded events, and roles are enforced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushUsage } from '../../../lib/app/metering';
import { contractIdFor } from '../../../lib/domain/contract';
import type { Role } from '../../../lib/http/auth';
import { getContainer } from '../../../lib/runtime/container';
import { deliver, sampleFiles, startTestStack, type TestStack } from '../pipeline/helpers';

const HOUR_MS = 3_600_000;

describe('usage over HTTP (AWS)', () => {
  let test: TestStack;
  const contractId = contractIdFor('aws', 'license/l-agora1001');
  const hourStart = (hoursAgo: number) =>
    new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS - hoursAgo * HOUR_MS).toISOString();
  const at = (hoursAgo: number, minute: number) =>
    new Date(Date.parse(hourStart(hoursAgo)) + minute * 60_000).toISOString();

  async function post(records: unknown[], roles: Role[] | null = ['service']) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (roles) headers.authorization = `Bearer ${await test.token(roles)}`;
    const response = await fetch(`${test.stack.url}/v1/usage`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ records }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  const metered = () =>
    test.stack.awsSimulator
      .meteredRecords()
      .filter(
        (r) =>
          r.dimension === 'api_calls' || (r as { Dimension?: string }).Dimension === 'api_calls',
      );

  beforeAll(async () => {
    test = await startTestStack();
    for (const sample of sampleFiles('aws')) await deliver(test, sample.body);
    await test.stack.settle();
    const contract = await test.get(`/v1/contracts/${contractId}`);
    expect(contract.body.status).toBe('active');
  }, 90_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('validates each record on its own: accepted, duplicate, conflict, unmetered, unknown contract', async () => {
    const first = await post([
      { recordId: 'r-1', contractId, dimension: 'api_calls', quantity: '100', usageTime: at(0, 1) },
      {
        recordId: 'r-2',
        contractId,
        dimension: 'api_calls',
        quantity: '250',
        usageTime: at(0, 2),
      },
      { recordId: 'r-3', contractId, dimension: 'api_calls', quantity: '7', usageTime: at(0, 3) },
    ]);
    expect(first.status).toBe(200);
    expect((first.body.results as { status: string }[]).map((r) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
    const second = await post([
      { recordId: 'r-1', contractId, dimension: 'api_calls', quantity: '100', usageTime: at(0, 1) },
      {
        recordId: 'r-2',
        contractId,
        dimension: 'api_calls',
        quantity: '999',
        usageTime: at(0, 2),
      },
      { recordId: 'r-4', contractId, dimension: 'not_metered', quantity: '1', usageTime: at(0, 3) },
      {
        recordId: 'r-5',
        contractId: 'ct_nope',
        dimension: 'api_calls',
        quantity: '1',
        usageTime: at(0, 3),
      },
      { recordId: 'r-6', contractId, dimension: 'api_calls', quantity: '1.5', usageTime: at(0, 3) },
    ]);
    expect(second.status).toBe(200);
    const results = second.body.results as { recordId: string; status: string; code?: string }[];
    expect(results.map((r) => `${r.recordId}:${r.status}${r.code ? `:${r.code}` : ''}`)).toEqual([
      'r-1:duplicate',
      expect.stringMatching(/^r-2:rejected:RECORD_CONFLICT$/),
      expect.stringMatching(/^r-4:rejected:/),
      expect.stringMatching(/^r-5:rejected:/),
      expect.stringMatching(/^r-6:rejected:/),
    ]);
  });

  it('reports the sealed hour once, at the hour start, with the exact sum of its distinct records', async () => {
    const before = metered().length;
    // The flush an hour and ten minutes on: the hour has ended and is sealed.
    const later = new Date(Date.parse(hourStart(0)) + 70 * 60_000).toISOString();
    await flushUsage(getContainer(), { now: later });
    const sent = metered().slice(before) as unknown as Record<string, unknown>[];
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent[0])).toContain('357');
    expect(JSON.stringify(sent[0])).toContain(hourStart(0).slice(0, 13));
    // A second flush (a retry, an overlapping run) reports nothing new.
    await flushUsage(getContainer(), { now: later });
    expect(metered()).toHaveLength(before + 1);

    const ledger = await test.get(
      `/v1/usage?contractId=${contractId}&from=${encodeURIComponent(hourStart(1))}&to=${encodeURIComponent(later)}`,
      ['finance'],
    );
    expect(ledger.status).toBe(200);
    const lines = ledger.body.items as { dimension: string; received: string; status: string }[];
    expect(lines.map((l) => `${l.dimension}:${l.received}:${l.status}`)).toEqual([
      'api_calls:357:accepted',
    ]);
    const events = await test.get(`/v1/contracts/${contractId}/events?limit=200`);
    const usage = (
      events.body.items as { event: { type: string; payload: { quantity: string } } }[]
    )
      .filter((e) => e.event.type === 'UsageRecorded')
      .map((e) => e.event.payload.quantity);
    expect(usage).toEqual(['357']);
  });

  it('answers 401 without a token and 403 to a partner; a malformed envelope is a 400', async () => {
    expect((await post([], null)).status).toBe(401);
    const partner = await fetch(`${test.stack.url}/v1/usage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await test.token(['partner'], 'P-1')}`,
      },
      body: JSON.stringify({ records: [] }),
    });
    expect(partner.status).toBe(403);
    const bad = await fetch(`${test.stack.url}/v1/usage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await test.token(['service'])}`,
      },
      body: JSON.stringify({ nope: true }),
    });
    expect(bad.status).toBe(400);
  });
});
