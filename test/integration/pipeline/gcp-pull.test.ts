// Proves Pub/Sub pull mode against the GCP simulator: pulled messages are stored through the same ingest, synced, acknowledged once stored, redelivered (and stored once) when not acknowledged, and a drained subscription yields nothing.
import type { v1 } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractIdFor } from '../../../lib/domain/contract';
import { rawIdFor } from '../../../lib/domain/raw';
import { defaultGcpProviders, defaultGcpSimulatorState } from '../../../lib/local/stack';
import {
  createSubscriber,
  pubsubAuthClient,
  pullGcpMessages,
} from '../../../lib/marketplaces/gcp/pubsub-pull';
import { getContainer } from '../../../lib/runtime/container';
import { startTestStack, type TestStack } from './helpers';

const PROVIDER = 'agora-demo-provider';
const SUBSCRIPTION = 'projects/agora-demo/subscriptions/agora-marketplace-pull';
const contract = (entitlementId: string) => contractIdFor('gcp', `entitlement/${entitlementId}`);

type Subscriber = Pick<v1.SubscriberClient, 'pull' | 'acknowledge'>;

describe('Pub/Sub pull mode', () => {
  let test: TestStack;
  let subscriber: Subscriber;
  const pull = (via: Subscriber = subscriber) => pullGcpMessages(getContainer(), via, SUBSCRIPTION);

  beforeAll(async () => {
    test = await startTestStack({
      gcpProviders: defaultGcpProviders().map((p) => ({ ...p, pullSubscription: SUBSCRIPTION })),
      // A lease of 0 ms: an unacknowledged message is handed out again by the next pull.
      gcpSimulatorState: { ...defaultGcpSimulatorState(), ackDeadlineMs: 0 },
    });
    // Pull only: nothing reaches the push endpoint.
    test.stack.gcpSimulator.setPushTarget(null);
    // The same local auth client the scheduled handler uses (no key configured locally).
    subscriber = createSubscriber(getContainer().gcpSettings, await pubsubAuthClient(undefined));
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('pulls, stores, syncs and acknowledges; once drained, a pull gets nothing', async () => {
    const sim = test.stack.gcpSimulator;
    const purchase = await sim.purchase({
      providerId: PROVIDER,
      product: 'agora-saas.endpoints.agora-demo.cloud.goog',
      plan: 'standard',
      accountId: 'E-AGORA-ACCT-0003',
    });
    const account = await sim.publishEvent({
      providerId: PROVIDER,
      eventType: 'ACCOUNT_ACTIVE',
      accountId: 'E-AGORA-ACCT-0003',
    });
    const firstEvents = [...purchase.published.map((m) => m.event.eventId), account.event.eventId];
    expect(await pull()).toEqual({ pulled: 2, stored: 2, acknowledged: 2 });
    for (const eventId of firstEvents) {
      const raw = await test.get(`/v1/raw/${rawIdFor('gcp', eventId)}`);
      expect(raw.status, eventId).toBe(200);
      expect(raw.body).toMatchObject({
        channel: 'gcp-pubsub-pull',
        authenticatedAs: `pubsub-pull:${SUBSCRIPTION}`,
      });
    }
    const pulls = sim.calls().filter((c) => c.method === 'Pull');
    expect(pulls).toEqual([
      {
        method: 'Pull',
        path: `/v1/${SUBSCRIPTION}:pull`,
        input: { maxMessages: 50 },
      },
    ]);
    const acks = sim.calls().filter((c) => c.method === 'Acknowledge');
    expect(acks).toMatchObject([{ input: { ackIds: [expect.any(String), expect.any(String)] } }]);

    await test.stack.settle();
    // The purchase was auto-approved; Google announced that, and it waits for the next pull.
    expect(sim.state().entitlements.find((e) => e.id === purchase.entitlementId)?.state).toBe(
      'ENTITLEMENT_ACTIVE',
    );
    expect(await pull()).toEqual({ pulled: 1, stored: 1, acknowledged: 1 });
    await test.stack.settle();
    expect(await pull()).toEqual({ pulled: 0, stored: 0, acknowledged: 0 });

    const statuses = Object.fromEntries(
      await Promise.all(
        [purchase.entitlementId, 'ent-agora-000004', 'ent-agora-000005', 'ent-agora-000006'].map(
          async (id) => [id, (await test.get(`/v1/contracts/${contract(id)}`)).body.status],
        ),
      ),
    );
    expect(statuses).toEqual({
      [purchase.entitlementId]: 'active',
      'ent-agora-000004': 'active',
      'ent-agora-000005': 'cancelled',
      'ent-agora-000006': 'active',
    });
    expect(sim.pushDeliveries()).toEqual([]);
    expect((await test.get('/v1/dlq')).body.items).toEqual([]);
  });

  it('gets an unacknowledged message again and syncs it once', async () => {
    const sim = test.stack.gcpSimulator;
    const id = contract('ent-agora-000004');
    const before = await test.get(`/v1/contracts/${id}`);
    const reads = () =>
      sim
        .calls()
        .filter((c) => c.method === 'GetEntitlement' && c.path.endsWith('/ent-agora-000004'))
        .length;
    const message = await sim.publishEvent({
      providerId: PROVIDER,
      eventType: 'ENTITLEMENT_ACTIVE',
      entitlementId: 'ent-agora-000004',
    });
    // The acknowledgement is lost on the way.
    const losingAcks = {
      pull: subscriber.pull.bind(subscriber),
      acknowledge: async () => [{}],
    } as unknown as Subscriber;
    const readsBefore = reads();
    expect(await pull(losingAcks)).toEqual({ pulled: 1, stored: 1, acknowledged: 1 });
    await test.stack.settle();
    expect(reads()).toBe(readsBefore + 1);

    // Pub/Sub hands it out again; it is a duplicate of a processed message: no second sync.
    expect(await pull()).toEqual({ pulled: 1, stored: 1, acknowledged: 1 });
    await test.stack.settle();
    expect(reads()).toBe(readsBefore + 1);
    expect(await pull()).toEqual({ pulled: 0, stored: 0, acknowledged: 0 });

    const raw = await test.get(`/v1/raw/${rawIdFor('gcp', message.event.eventId)}`);
    expect(raw.status).toBe(200);
    expect(raw.body.processedAt).not.toBeNull();
    expect(await test.get(`/v1/contracts/${id}`)).toEqual(before);
  });

  it('runs as the scheduled handler: pulls every provider with a pull subscription', async () => {
    const sim = test.stack.gcpSimulator;
    const message = await sim.publishEvent({
      providerId: PROVIDER,
      eventType: 'ENTITLEMENT_ACTIVE',
      entitlementId: 'ent-agora-000004',
    });
    const { handler } = await import('../../../functions/scheduled/pull-gcp');
    expect(await handler()).toEqual([{ pulled: 1, stored: 1, acknowledged: 1 }]);
    await test.stack.settle();
    const raw = await test.get(`/v1/raw/${rawIdFor('gcp', message.event.eventId)}`);
    expect(raw.body).toMatchObject({ channel: 'gcp-pubsub-pull' });
    expect(raw.body.processedAt).not.toBeNull();
    expect(await handler()).toEqual([{ pulled: 0, stored: 0, acknowledged: 0 }]);
  });
});
