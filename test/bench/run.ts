/**
 * `npm run bench`: measurements, not tests. Starts the local stack on DynamoDB Local (from npm)
 * with the marketplace simulators, then measures the metering path: `POST /v1/usage` (100
 * records per request) at a fixed concurrency, and the hourly flush per marketplace gateway.
 * Writes the numbers, the machine and the command to docs/benchmarks.md.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { flushUsage } from '../../lib/app/metering';
import { contractIdFor } from '../../lib/domain/contract';
import { ensureDevKeys, mintDevToken } from '../../lib/local/dev-keys';
import { findFreePort } from '../../lib/local/dynamodb-local';
import { startLocalStack } from '../../lib/local/stack';
import { getContainer } from '../../lib/runtime/container';

/** Requests and their concurrency for the ingest measurement. */
export const BENCH_USAGE_REQUESTS = 200;
export const BENCH_USAGE_CONCURRENCY = 20;
export const BENCH_RECORDS_PER_REQUEST = 100;
const ROOT = resolve(import.meta.dirname, '../..');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agora-bench-'));
  const stack = await startLocalStack({ port: await findFreePort(), dataDir, logLevel: 'ERROR' });
  try {
    const { token } = await mintDevToken(await ensureDevKeys(dataDir), {
      roles: ['service'],
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    // The sample AWS agreement with a metered dimension (api_calls).
    const samples = await import('../integration/pipeline/helpers');
    for (const sample of samples.sampleFiles('aws')) {
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
        if (response.status !== 200) throw new Error(`POST /v1/usage answered ${response.status}`);
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
    const lines = [
      '# Benchmarks',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; command: \`npm run bench\`. The local stack runs on DynamoDB Local (a JVM, single process), so these are local numbers, not AWS ones.`,
      '',
      '## Metering',
      '',
      '| Measurement | Result |',
      '|---|---|',
      `| \`POST /v1/usage\`, ${BENCH_RECORDS_PER_REQUEST} records per request, ${BENCH_USAGE_CONCURRENCY} concurrent, ${BENCH_USAGE_REQUESTS} requests | ${(BENCH_USAGE_REQUESTS / ingestSeconds).toFixed(1)} requests/s, ${(records / ingestSeconds).toFixed(0)} records/s; p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms |`,
      `| Hourly flush (AWS gateway → simulator) of the hour holding those ${records} records | ${flushMs.toFixed(0)} ms; ${JSON.stringify({ accepted: summary.accepted, duplicate: summary.duplicate })} |`,
      '',
      'Every record here lands on one ledger line (one contract, dimension and hour): each request',
      'is a transaction that adds to that line, so concurrent requests conflict on it and are',
      'retried (DynamoDB Local also runs transactions one at a time). Real usage spreads over',
      'contracts and dimensions; this is the worst case. The engine, storage, cold-start and API',
      'targets of the operations issue are not measured yet.',
      '',
    ];
    writeFileSync(join(ROOT, 'docs/benchmarks.md'), lines.join('\n'));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
