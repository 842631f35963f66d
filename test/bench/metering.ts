/**
 * Metering benchmark: starts the local stack on DynamoDB Local with the marketplace simulators,
 * then measures `POST /v1/usage` (100 records per request) at a fixed concurrency — every record
 * on one ledger line, the worst case — and the hourly flush of that hour to the AWS gateway.
 *
 *   node --import tsx test/bench/metering.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flushUsage } from '../../lib/app/metering';
import { contractIdFor } from '../../lib/domain/contract';
import { ensureDevKeys, mintDevToken } from '../../lib/local/dev-keys';
import { findFreePort } from '../../lib/local/dynamodb-local';
import { startLocalStack } from '../../lib/local/stack';
import { getContainer } from '../../lib/runtime/container';
import { sampleFiles } from '../integration/pipeline/helpers';
import { type BenchResult, benchMain, fmt, percentile, table } from './common';

/** Requests and their concurrency for the ingest measurement. */
export const BENCH_USAGE_REQUESTS = 200;
export const BENCH_USAGE_CONCURRENCY = 20;
export const BENCH_RECORDS_PER_REQUEST = 100;

export async function benchMetering(): Promise<BenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agora-bench-metering-'));
  const stack = await startLocalStack({ port: await findFreePort(), dataDir, logLevel: 'ERROR' });
  try {
    const { token } = await mintDevToken(await ensureDevKeys(dataDir), {
      roles: ['service'],
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    // The sample AWS agreement with a metered dimension (api_calls).
    for (const sample of sampleFiles('aws')) {
      const path = 'detail-type' in sample.body ? '/local/aws/eventbridge' : '/local/aws/sqs';
      await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sample.body),
      });
    }
    await stack.settle();
    const contractId = contractIdFor('aws', 'license/l-agora1001');
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const usageTime = new Date(Math.min(Date.now(), hour + 60_000)).toISOString();

    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < BENCH_USAGE_REQUESTS) {
        const request = next;
        next += 1;
        const records = Array.from({ length: BENCH_RECORDS_PER_REQUEST }, (_, i) => ({
          recordId: `bench-${request}-${i}`,
          contractId,
          dimension: 'api_calls',
          quantity: '1',
          usageTime,
        }));
        const t0 = performance.now();
        const response = await fetch(`${stack.url}/v1/usage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ records }),
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: BENCH_USAGE_CONCURRENCY }, worker));
    const ingestSeconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);

    const flushStarted = performance.now();
    const summary = await flushUsage(getContainer(), {
      now: new Date(hour + 70 * 60_000).toISOString(),
    });
    const flushMs = performance.now() - flushStarted;
    const records = BENCH_USAGE_REQUESTS * BENCH_RECORDS_PER_REQUEST;
    const markdown = [
      table(
        ['Measurement', 'Result'],
        [
          [
            `\`POST /v1/usage\`, ${BENCH_RECORDS_PER_REQUEST} records per request, ${BENCH_USAGE_CONCURRENCY} concurrent, ${BENCH_USAGE_REQUESTS} requests, all on one contract, dimension and hour`,
            `${(BENCH_USAGE_REQUESTS / ingestSeconds).toFixed(1)} requests/s, ${fmt(records / ingestSeconds)} records/s; p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms; statuses ${[...statuses].map(([code, n]) => `${code}×${n}`).join(', ')}`,
          ],
          [
            `Hourly flush (AWS gateway → simulator) of the hour holding those ${fmt(records)} records`,
            `${fmt(flushMs)} ms; accepted ${summary.accepted}, duplicate ${summary.duplicate}`,
          ],
        ],
      ),
      '',
      'Every record here lands on one ledger line (one contract, dimension and hour): each request',
      'is a transaction that adds to that line, so concurrent requests conflict on it and are',
      'retried (DynamoDB Local also runs transactions one at a time). Real usage spreads over',
      'contracts and dimensions; this is the worst case. A 503 is the store timing out',
      '(`StoreUnavailableError`, DynamoDB TimeoutError) while requests queue on that line.',
    ].join('\n');
    return {
      name: 'metering',
      title: 'Metering: one hot usage line',
      markdown,
      targets: [],
      numbers: { requestsPerSecond: BENCH_USAGE_REQUESTS / ingestSeconds, flushMs },
    };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

benchMain(import.meta.url, benchMetering);
