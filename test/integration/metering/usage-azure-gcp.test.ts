// Proves metering end to end for Azure and Google Cloud over real HTTP: a subscription bought through the simulators gets usage posted to the API, the flush reports the sealed hour once (Azure batchUsageEvent at the hour start with the exact total; Google Service Control check then report with a deterministic operation id), a second flush sends nothing, and the ledger shows the answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushUsage } from '../../../lib/app/metering';
import { runJourney } from '../../../lib/local/buyer-journeys';
import { getContainer } from '../../../lib/runtime/container';
import { startTestStack, type TestStack } from '../pipeline/helpers';

const HOUR_MS = 3_600_000;
const hourStart = () => new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS).toISOString();
const inHour = (minute: number) =>
  new Date(Date.parse(hourStart()) + minute * 60_000).toISOString();
const later = () => new Date(Date.parse(hourStart()) + 70 * 60_000).toISOString();

describe('usage over HTTP (Azure and Google Cloud)', () => {
  let test: TestStack;

  async function post(records: unknown[]) {
    const response = await fetch(`${test.stack.url}/v1/usage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await test.token(['service'])}`,
      },
      body: JSON.stringify({ records }),
    });
    return (await response.json()) as {
      results: { status: string; code?: string; message?: string }[];
    };
  }
  const journey = (name: 'azure-subscribe' | 'gcp-subscribe') =>
    runJourney(
      name,
      {
        stack: test.stack.stackFile,
        token: () => test.token(['seller']),
        log: () => {},
        now: () => new Date(),
      },
      { keep: true, waitMs: 20_000, pauseMs: 0 },
    );

  beforeAll(async () => {
    // Azure and Google contracts carry no usage rates: the metered dimensions are configuration.
    process.env.AGORA_METERING_POLICY = JSON.stringify({
      planDimensions: [
        { marketplace: 'azure', plan: 'gold-monthly', dimensions: ['api_calls'] },
        { marketplace: 'gcp', plan: 'standard', dimensions: ['requests'] },
      ],
    });
    test = await startTestStack();
    test.stack.azureSimulator.metering.setDimensions({ 'gold-monthly': ['api_calls'] });
  }, 60_000);

  afterAll(async () => {
    delete process.env.AGORA_METERING_POLICY;
    await test?.stack.stop();
  });

  it('reports an Azure hour once through batchUsageEvent, with the exact total at the hour start', async () => {
    const { contractId } = await journey('azure-subscribe');
    const answer = await post([
      {
        recordId: 'az-1',
        contractId,
        dimension: 'api_calls',
        quantity: '12.5',
        usageTime: inHour(1),
      },
      {
        recordId: 'az-2',
        contractId,
        dimension: 'api_calls',
        quantity: '0.25',
        usageTime: inHour(2),
      },
    ]);
    expect(answer.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    const before = test.stack.azureSimulator.metering.events().length;
    await flushUsage(getContainer(), { now: later() });
    const sent = test.stack.azureSimulator.metering.events().slice(before);
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent[0])).toContain('12.75');
    expect(JSON.stringify(sent[0])).toContain(hourStart().slice(0, 13));
    await flushUsage(getContainer(), { now: later() });
    expect(test.stack.azureSimulator.metering.events()).toHaveLength(before + 1);
    const ledger = await test.get(
      `/v1/usage?contractId=${contractId}&from=${encodeURIComponent(hourStart())}&to=${encodeURIComponent(later())}`,
      ['finance'],
    );
    expect(
      (ledger.body.items as { status: string; received: string }[]).map(
        (l) => `${l.received}:${l.status}`,
      ),
    ).toEqual(['12.75:accepted']);
  });

  it('flushes a cancelled subscription’s open hour at once, and keeps Azure’s refusal of usage after unsubscribe', async () => {
    const { contractId, externalId } = await journey('azure-subscribe');
    const answer = await post([
      {
        recordId: 'az-final',
        contractId,
        dimension: 'api_calls',
        quantity: '3',
        usageTime: inHour(5),
      },
    ]);
    expect(answer.results.map((r) => r.status)).toEqual(['accepted']);
    const subscriptionId = externalId.slice(externalId.indexOf('/') + 1);
    const before = test.stack.azureSimulator.metering.events().length;
    const unsubscribed = await fetch(
      `${test.stack.azureSimulator.url}/_sim/subscriptions/${subscriptionId}/unsubscribe`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    );
    expect(unsubscribed.status).toBeLessThan(300);
    for (let i = 0; i < 50; i += 1) {
      await test.stack.settle();
      const contract = await test.get(`/v1/contracts/${contractId}`);
      if (contract.body.status === 'cancelled') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await test.get(`/v1/contracts/${contractId}`)).body.status).toBe('cancelled');
    // The final flush ran after the cancellation committed: the hour is already reported.
    // The final flush ran as soon as the cancellation committed — before the hour ended. Azure
    // (as simulated; unverified) refuses usage for an unsubscribed resource: the answer is kept.
    const ledger = await test.get(
      `/v1/usage?contractId=${contractId}&from=${encodeURIComponent(hourStart())}&to=${encodeURIComponent(later())}`,
      ['finance'],
    );
    const [line] = ledger.body.items as {
      sealed: boolean;
      status: string;
      reason: string | null;
      reportedAt: string;
    }[];
    expect(line).toMatchObject({ sealed: true, status: 'rejected' });
    expect(line?.reason).toContain('Unsubscribed');
    expect(Date.parse(line?.reportedAt ?? '')).toBeLessThan(Date.parse(hourStart()) + HOUR_MS);
    expect(test.stack.azureSimulator.metering.events()).toHaveLength(before);
  });

  it('reports a Google hour once through Service Control, checked first, with one operation', async () => {
    const { contractId } = await journey('gcp-subscribe');
    const answer = await post([
      { recordId: 'g-1', contractId, dimension: 'requests', quantity: '40', usageTime: inHour(3) },
      { recordId: 'g-2', contractId, dimension: 'requests', quantity: '2', usageTime: inHour(4) },
    ]);
    expect(
      answer.results.map((r) => `${r.status}${r.code ? `:${r.code}:${r.message}` : ''}`),
    ).toEqual(['accepted', 'accepted']);
    const before = test.stack.gcpSimulator.metering.operations().length;
    await flushUsage(getContainer(), { now: later() });
    const operations = test.stack.gcpSimulator.metering.operations().slice(before);
    expect(operations).toHaveLength(1);
    expect(JSON.stringify(operations[0])).toContain('42');
    await flushUsage(getContainer(), { now: later() });
    expect(test.stack.gcpSimulator.metering.operations()).toHaveLength(before + 1);
  });
});
