// Proves invariant 5 with fast-check on DynamoDB Local, for all three marketplaces: any shuffle
// of a marketplace's sample notification stream, with duplicates, ends in the same contracts and
// canonical events as in-order delivery (through the real ingest, FIFO queue, sync and apply code);
// the one allowed AWS difference, a renewal intent learned after its License, is spelled out below.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ingestNotification } from '../../../lib/app/ingest';
import type { MarketplaceAdapter } from '../../../lib/app/ports';
import type { SyncDeps } from '../../../lib/app/sync';
import { ContractTermsSchema } from '../../../lib/domain/contract';
import type { RawEnvelope } from '../../../lib/domain/raw';
import { InProcessQueue } from '../../../lib/local/in-process-queue';
import { type AwsSimulator, startAwsSimulator } from '../../../lib/local/simulators/aws-simulator';
import {
  type AzureSimulator,
  startAzureSimulator,
} from '../../../lib/local/simulators/azure-simulator';
import { type GcpSimulator, startGcpSimulator } from '../../../lib/local/simulators/gcp-simulator';
import {
  defaultAwsAccounts,
  defaultAwsSimulatorState,
  defaultAzureOffers,
  defaultAzureSimulatorState,
  defaultGcpProviders,
  defaultGcpSimulatorState,
  LOCAL_AZURE_SECRET,
} from '../../../lib/local/stack';
import { AwsMarketplaceAdapter } from '../../../lib/marketplaces/aws/adapter';
import { AwsGatewayRegistry } from '../../../lib/marketplaces/aws/gateway';
import {
  envelopeFromEventBridge,
  envelopeFromSnsSqsRecord,
} from '../../../lib/marketplaces/aws/intake';
import { AzureMarketplaceAdapter } from '../../../lib/marketplaces/azure/adapter';
import { AzureChangePolicySchema } from '../../../lib/marketplaces/azure/config';
import { AzureFulfillmentClient } from '../../../lib/marketplaces/azure/fulfillment-client';
import { GcpMarketplaceAdapter } from '../../../lib/marketplaces/gcp/adapter';
import { decodeEnvelope } from '../../../lib/marketplaces/gcp/notifications';
import { GcpProcurementClient } from '../../../lib/marketplaces/gcp/procurement-client';
import { processSyncBatch } from '../../../lib/queue/sync-batch';
import { DynamoContractStore } from '../../../lib/store/contract-store';
import { DynamoRawInboundStore } from '../../../lib/store/raw-inbound-store';
import { DynamoSyncFailureStore } from '../../../lib/store/sync-failure-store';
import { freshStore } from '../helpers';
import { sampleFiles } from './helpers';

const NOW = '2026-11-23T00:00:00.000Z';
const clock = { now: () => NOW };
/** The simulators' clock is frozen too: their writes (approvals, accepted operations) stamp it. */
const simulatorNow = () => new Date(NOW);
const SHUFFLES = 5;
const DUPLICATES_MAX = 6;

/** One marketplace's stream: its samples, how each becomes a raw envelope, and its adapter. */
interface Scenario {
  readonly samples: readonly Record<string, unknown>[];
  envelope(body: Record<string, unknown>, index: number): RawEnvelope;
  /** Fresh marketplace state for one run (the sync approves and accepts at the marketplace). */
  reset(): void;
  adapter(): MarketplaceAdapter;
  readonly marketplace: 'aws' | 'azure' | 'gcp';
}

/** Delivers notifications in the given order and returns what the store ends up holding. */
async function deliverAll(scenario: Scenario, order: readonly number[]): Promise<unknown> {
  scenario.reset();
  const store = await freshStore();
  const contracts = new DynamoContractStore(store);
  const deps: SyncDeps = {
    rawInbound: new DynamoRawInboundStore(store),
    contracts,
    failures: new DynamoSyncFailureStore(store),
    adapters: { [scenario.marketplace]: scenario.adapter() },
    hooks: [],
    clock,
  };
  // Realistic backoff (scaled down): a refund seen before its contract waits and retries.
  const queue = new InProcessQueue({
    handler: (event) => processSyncBatch(deps, event),
    retryDelayMs: (n) => 100 * 3 ** (n - 1),
  });
  for (const index of order) {
    const body = scenario.samples[index] as Record<string, unknown>;
    await ingestNotification(
      { rawInbound: deps.rawInbound, queue, adapters: deps.adapters },
      scenario.envelope(body, index),
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

interface StoredState {
  state: {
    contractId: string;
    terms: { renewal?: boolean };
    events: { eventId: string; type: string; effectiveAt: string; payload: string }[];
  }[];
  deadLetters: string[];
}

/**
 * The one order effect AWS has: a renewal's License event delivered before its Agreement event
 * creates the contract before the RENEW intent (only the agreement event carries it) is known,
 * so the intent arrives as one more ContractAmended (renewal false → true) and the ids after it
 * chain from that state. For such a contract this drops that amendment, the ids, and the renewal
 * flag from event payloads; the snapshot (final terms with renewal) and every other contract
 * must still equal in-order delivery exactly.
 */
function lateRenewalFlip(contract: StoredState['state'][number]) {
  const created = contract.events.find((e) => e.type === 'ContractCreated');
  const createdTerms = created ? JSON.stringify(JSON.parse(created.payload).terms) : null;
  if (contract.terms.renewal !== true || createdTerms === null) return undefined;
  // The amendment that only flips renewal on the created terms.
  return contract.events.find((e) => {
    if (e.type !== 'ContractAmended') return false;
    const { terms } = JSON.parse(e.payload) as { terms: Record<string, unknown> };
    return terms.renewal === true && JSON.stringify({ ...terms, renewal: false }) === createdTerms;
  });
}

/** Both states with the late renewal normalized, only on contracts where `received` shows it. */
function withoutLateRenewal(
  received: StoredState,
  reference: StoredState,
): [StoredState, StoredState] {
  const late = new Set(
    received.state.filter((c) => lateRenewalFlip(c) !== undefined).map((c) => c.contractId),
  );
  const normalize = (result: StoredState): StoredState => ({
    ...result,
    state: result.state.map((contract) => {
      if (!late.has(contract.contractId)) return contract;
      const flip = lateRenewalFlip(contract);
      const events = contract.events
        .filter((e) => e !== flip)
        .map(({ eventId: _id, payload, ...event }) => {
          const parsed = JSON.parse(payload) as { terms?: { renewal?: boolean } | null };
          if (parsed.terms) parsed.terms.renewal = true;
          return { ...event, eventId: '', payload: JSON.stringify(parsed) };
        })
        .sort((a, b) => `${a.type}${a.effectiveAt}`.localeCompare(`${b.type}${b.effectiveAt}`));
      return { ...contract, events };
    }),
  });
  return [normalize(received), normalize(reference)];
}

/** The property: every shuffle (with duplicates) of the stream ends where in-order delivery does. */
function orderIndependence(scenario: () => Scenario, expectedContracts: number) {
  it('any shuffle with duplicates yields the in-order store state', async () => {
    const current = scenario();
    const indices = current.samples.map((_, i) => i);
    const reference = await deliverAll(current, indices);
    expect((reference as { state: unknown[] }).state).toHaveLength(expectedContracts);
    expect((reference as { deadLetters: unknown[] }).deadLetters).toEqual([]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...indices), { maxLength: DUPLICATES_MAX }).chain((duplicates) => {
          const all = [...indices, ...duplicates];
          return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
        }),
        async (order) => {
          const received = (await deliverAll(current, order)) as StoredState;
          const [got, want] =
            current.marketplace === 'aws'
              ? withoutLateRenewal(received, reference as StoredState)
              : [received, reference];
          expect(got).toEqual(want);
        },
      ),
      { numRuns: SHUFFLES, seed: 20261123 },
    );
  }, 180_000);
}

describe('delivery order: AWS', () => {
  let simulator: AwsSimulator;
  beforeAll(async () => {
    simulator = await startAwsSimulator({ state: defaultAwsSimulatorState() });
  });
  afterAll(async () => {
    await simulator?.close();
  });
  orderIndependence(() => {
    const settings = {
      accounts: defaultAwsAccounts(),
      region: 'us-east-1',
      endpoint: simulator.url,
    };
    return {
      marketplace: 'aws',
      samples: sampleFiles('aws').map((s) => s.body),
      reset: () => {},
      adapter: () =>
        new AwsMarketplaceAdapter(
          new AwsGatewayRegistry(settings),
          settings,
          clock.now,
        ) as MarketplaceAdapter,
      envelope: (body, index) =>
        'detail-type' in body
          ? envelopeFromEventBridge(body as { id: string }, NOW)
          : envelopeFromSnsSqsRecord(
              { messageId: `sqs-${index}`, body: JSON.stringify(body), eventSourceARN: 'arn:test' },
              NOW,
            ),
    };
  }, 5);
});

describe('delivery order: Azure', () => {
  let simulator: AzureSimulator;
  beforeAll(async () => {
    simulator = await startAzureSimulator({
      state: defaultAzureSimulatorState(),
      now: simulatorNow,
    });
  });
  afterAll(async () => {
    await simulator?.close();
  });
  orderIndependence(() => {
    const settings = {
      offers: defaultAzureOffers(),
      fulfillmentBaseUrl: `${simulator.url}/api`,
      loginBaseUrl: simulator.url,
      changePolicy: AzureChangePolicySchema.parse({}),
      secret: () => LOCAL_AZURE_SECRET,
    };
    return {
      marketplace: 'azure',
      samples: sampleFiles('azure').map((s) => s.body),
      reset: () => simulator.setState(defaultAzureSimulatorState()),
      adapter: () =>
        new AzureMarketplaceAdapter(
          new AzureFulfillmentClient(settings),
          settings,
        ) as MarketplaceAdapter,
      // As the webhook inlet stores it: deduplicated on operation id and action.
      envelope: (body) => ({
        marketplace: 'azure',
        channel: 'azure-webhook',
        providerMessageId: `${String(body.id)}:${String(body.action)}`,
        receivedAt: NOW,
        headers: {},
        body: JSON.stringify(body),
        authenticatedAs: 'entra:test',
      }),
    };
  }, 4);
});

describe('delivery order: Google Cloud', () => {
  let simulator: GcpSimulator;
  beforeAll(async () => {
    simulator = await startGcpSimulator({ state: defaultGcpSimulatorState(), now: simulatorNow });
  });
  afterAll(async () => {
    await simulator?.close();
  });
  orderIndependence(() => {
    const settings = {
      providers: defaultGcpProviders(),
      procurementBaseUrl: simulator.url,
      oidcJwksUrl: simulator.oidcJwksUrl,
      signupJwksUrl: simulator.signupJwksUrl,
      pubsubEndpoint: simulator.url,
    };
    return {
      marketplace: 'gcp',
      samples: sampleFiles('gcp').map((s) => s.body),
      reset: () => simulator.setState(defaultGcpSimulatorState()),
      adapter: () =>
        new GcpMarketplaceAdapter(
          new GcpProcurementClient(settings, async () => 'test-token'),
          settings,
        ) as MarketplaceAdapter,
      // As the push inlet stores it: deduplicated on the Marketplace eventId.
      envelope: (body) => {
        const decoded = decodeEnvelope(body);
        if (!('message' in decoded)) throw new Error(decoded.problem);
        return {
          marketplace: 'gcp',
          channel: 'gcp-pubsub-push',
          providerMessageId: decoded.message.eventId,
          receivedAt: NOW,
          headers: {},
          body: JSON.stringify(body),
          authenticatedAs: 'google:test',
        };
      },
    };
  }, 6);
});
