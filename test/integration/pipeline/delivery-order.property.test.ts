// Proves invariant 5 for AWS with fast-check on DynamoDB Local: any shuffle of the sample
// notification stream, with duplicates, ends in the same contracts and canonical events as
// in-order delivery (through the real ingest, FIFO queue, sync and apply code).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ingestNotification } from '../../../lib/app/ingest';
import type { SyncDeps } from '../../../lib/app/sync';
import { ContractTermsSchema } from '../../../lib/domain/contract';
import { InProcessQueue } from '../../../lib/local/in-process-queue';
import { type AwsSimulator, startAwsSimulator } from '../../../lib/local/simulators/aws-simulator';
import { defaultAwsAccounts, defaultAwsSimulatorState } from '../../../lib/local/stack';
import { AwsMarketplaceAdapter } from '../../../lib/marketplaces/aws/adapter';
import { AwsGatewayRegistry } from '../../../lib/marketplaces/aws/gateway';
import {
  envelopeFromEventBridge,
  envelopeFromSnsSqsRecord,
} from '../../../lib/marketplaces/aws/intake';
import { processSyncBatch } from '../../../lib/queue/sync-batch';
import { DynamoContractStore } from '../../../lib/store/contract-store';
import { DynamoRawInboundStore } from '../../../lib/store/raw-inbound-store';
import { DynamoSyncFailureStore } from '../../../lib/store/sync-failure-store';
import { freshStore } from '../helpers';
import { sampleFiles } from './helpers';

const NOW = '2026-11-23T00:00:00.000Z';
const clock = { now: () => NOW };
const samples = sampleFiles('aws').map((s) => s.body);

let simulator: AwsSimulator;

beforeAll(async () => {
  simulator = await startAwsSimulator({ state: defaultAwsSimulatorState() });
});

afterAll(async () => {
  await simulator?.close();
});

/** Delivers notifications in the given order and returns what the store ends up holding. */
async function deliverAll(order: readonly number[]): Promise<unknown> {
  const store = await freshStore();
  const settings = { accounts: defaultAwsAccounts(), region: 'us-east-1', endpoint: simulator.url };
  const contracts = new DynamoContractStore(store);
  const deps: SyncDeps = {
    rawInbound: new DynamoRawInboundStore(store),
    contracts,
    failures: new DynamoSyncFailureStore(store),
    adapters: {
      aws: new AwsMarketplaceAdapter(
        new AwsGatewayRegistry(settings),
        settings,
        clock.now,
      ) as never,
    },
    hooks: [],
    clock,
  };
  // Realistic backoff (scaled down): a refund seen before its contract waits and retries.
  const queue = new InProcessQueue({
    handler: (event) => processSyncBatch(deps, event),
    retryDelayMs: (n) => 100 * 3 ** (n - 1),
  });
  for (const index of order) {
    const body = samples[index] as Record<string, unknown> & { id?: string };
    const envelope =
      'detail-type' in body
        ? envelopeFromEventBridge(body as { id: string }, NOW)
        : envelopeFromSnsSqsRecord(
            { messageId: `sqs-${index}`, body: JSON.stringify(body), eventSourceARN: 'arn:test' },
            NOW,
          );
    await ingestNotification(
      { rawInbound: deps.rawInbound, queue, adapters: deps.adapters },
      envelope,
    );
  }
  await queue.drain();
  const snapshots = (await contracts.list({}, { limit: 100 })).items;
  const state = [];
  for (const snapshot of snapshots.sort((a, b) => a.contractId.localeCompare(b.contractId))) {
    const events = (await contracts.events(snapshot.contractId, { limit: 200 })).items
      .map(({ event }) => ({
        eventId: event.eventId,
        type: event.type,
        effectiveAt: event.effectiveAt,
        payload: JSON.stringify(event.payload, (_k, v) =>
          typeof v === 'bigint' ? v.toString() : v,
        ),
      }))
      .sort((a, b) => a.eventId.localeCompare(b.eventId));
    state.push({
      contractId: snapshot.contractId,
      status: snapshot.status,
      statusReason: snapshot.statusReason,
      terms: z.encode(ContractTermsSchema, snapshot.terms),
      refs: snapshot.refs,
      replacesContractId: snapshot.replacesContractId,
      events,
    });
  }
  const deadLetters = (await deps.failures.listDeadLettered({ limit: 100 })).items
    .map((f) => f.rawId)
    .sort();
  return { state, deadLetters };
}

describe('delivery order', () => {
  it('any shuffle with duplicates yields the in-order store state', async () => {
    const indices = samples.map((_, i) => i);
    const reference = await deliverAll(indices);
    expect((reference as { state: unknown[] }).state).toHaveLength(5);
    expect((reference as { deadLetters: unknown[] }).deadLetters).toEqual([]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...indices), { maxLength: 6 }).chain((duplicates) => {
          const all = [...indices, ...duplicates];
          return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
        }),
        async (order) => {
          expect(await deliverAll(order)).toEqual(reference);
        },
      ),
      { numRuns: 6, seed: 20261123 },
    );
  }, 180_000);
});
