// Proves provisioning webhook mechanics without I/O: the signature receivers recompute, the
// apply hook's deterministic deliveries and event filters, and the retry schedule through to
// success, exhaustion or a disabled endpoint.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { WebhookDelivery, WebhookEndpoint, WebhookStore } from '../../../lib/app/ports';
import type { AppliedChangeContext } from '../../../lib/app/sync';
import {
  deliverDueWebhooks,
  retryDelaySeconds,
  signWebhook,
  WEBHOOK_ATTEMPTS_MAX,
  WEBHOOK_RETRY_MAX_SECONDS,
  webhookApplyHook,
} from '../../../lib/app/webhooks';

const endpoint: WebhookEndpoint = {
  endpointId: 'whe_1',
  url: 'https://seller.example/hooks',
  description: '',
  eventTypes: [],
  secret: 'whsec_test',
  status: 'active',
  createdAt: '2026-01-01T00:00:00Z',
};

function store(endpoints: WebhookEndpoint[], deliveries: WebhookDelivery[]) {
  const attempts: WebhookDelivery[] = [];
  const webhooks = {
    listEndpoints: async () => endpoints,
    listDue: async () => deliveries,
    recordAttempt: async (delivery: WebhookDelivery, update: Partial<WebhookDelivery>) => {
      attempts.push({ ...delivery, ...update });
      return true;
    },
  } as unknown as WebhookStore;
  return { webhooks, attempts };
}

const context = {
  previous: null,
  next: {
    contractId: 'ct_1',
    marketplace: 'aws',
    version: 3,
    status: 'active',
    terms: {
      buyer: { accountId: 'b' },
      productId: 'p',
      plan: null,
      quantity: null,
      term: { start: '2026-01-01', end: null },
      grants: [],
    },
  },
  events: [
    {
      eventId: 'ev_1',
      type: 'ContractCreated',
      effectiveAt: '2026-01-01',
      occurredAt: '2026-01-01T00:00:00Z',
    },
    {
      eventId: 'ev_2',
      type: 'ContractActivated',
      effectiveAt: '2026-01-01',
      occurredAt: '2026-01-01T00:00:00Z',
    },
  ],
  now: '2026-01-01T00:00:01Z',
} as unknown as AppliedChangeContext;

describe('signWebhook', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>" in hex', () => {
    const expected = createHmac('sha256', 'whsec_test').update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook('whsec_test', 1_700_000_000, '{"a":1}')).toBe(`v1=${expected}`);
    expect(signWebhook('whsec_test', 1_700_000_001, '{"a":1}')).not.toBe(`v1=${expected}`);
  });
});

describe('webhookApplyHook', () => {
  it('queues one delivery per interested endpoint, with a deterministic id', async () => {
    const only = { ...endpoint, endpointId: 'whe_2', eventTypes: ['ContractCancelled'] };
    const hook = webhookApplyHook(
      store([endpoint, only, { ...endpoint, endpointId: 'whe_3', status: 'disabled' }], [])
        .webhooks,
    );
    const first = await hook.contribute(context);
    const again = await hook.contribute(context);
    expect(first.webhookDeliveries?.map((d) => d.endpointId)).toEqual(['whe_1']);
    expect(first.webhookDeliveries?.[0]?.deliveryId).toBe(again.webhookDeliveries?.[0]?.deliveryId);
    const payload = JSON.parse(first.webhookDeliveries?.[0]?.payload ?? '{}');
    expect(payload).toMatchObject({
      type: 'contract.changed',
      contract: { contractId: 'ct_1', version: 3, status: 'active' },
    });
    expect(payload.events.map((e: { type: string }) => e.type)).toEqual([
      'ContractCreated',
      'ContractActivated',
    ]);
  });
});

describe('deliverDueWebhooks', () => {
  const pending: WebhookDelivery = {
    deliveryId: 'whd_1',
    endpointId: 'whe_1',
    contractId: 'ct_1',
    contractVersion: 1,
    eventIds: ['ev_1'],
    eventTypes: ['ContractCreated'],
    payload: '{"x":1}',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: '2026-01-01T00:00:00Z',
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    createdAt: '2026-01-01T00:00:00Z',
  };
  const clock = { now: () => '2026-01-01T00:10:00.000Z' };

  it('signs the POST and records a 2xx as delivered', async () => {
    const s = store([endpoint], [pending]);
    const sent: { headers: Record<string, string>; body: string }[] = [];
    const result = await deliverDueWebhooks({
      webhooks: s.webhooks,
      clock,
      sender: {
        post: async (_url, body, headers) => {
          sent.push({ body, headers });
          return { status: 204 };
        },
      },
    });
    expect(result).toEqual({ attempted: 1, delivered: 1, failed: 0, retrying: 0 });
    const timestamp = Number(sent[0]?.headers['agora-webhook-timestamp']);
    expect(sent[0]?.headers['agora-signature']).toBe(
      signWebhook('whsec_test', timestamp, '{"x":1}'),
    );
    expect(s.attempts[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204 });
  });

  it('schedules a retry with backoff on failure, and gives up after the last attempt', async () => {
    const s = store(
      [endpoint],
      [pending, { ...pending, deliveryId: 'whd_2', attempts: WEBHOOK_ATTEMPTS_MAX - 1 }],
    );
    const result = await deliverDueWebhooks({
      webhooks: s.webhooks,
      clock,
      random: () => 0,
      sender: { post: async () => ({ status: 500 }) },
    });
    expect(result).toEqual({ attempted: 2, delivered: 0, failed: 1, retrying: 1 });
    expect(s.attempts[0]).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'HTTP 500',
      nextAttemptAt: '2026-01-01T00:10:15.000Z',
    });
    expect(s.attempts[1]).toMatchObject({ status: 'failed', nextAttemptAt: null });
  });

  it('fails deliveries to a disabled endpoint without sending', async () => {
    const s = store([{ ...endpoint, status: 'disabled' }], [pending]);
    let calls = 0;
    await deliverDueWebhooks({
      webhooks: s.webhooks,
      clock,
      sender: {
        post: async () => {
          calls += 1;
          return { status: 200 };
        },
      },
    });
    expect(calls).toBe(0);
    expect(s.attempts[0]).toMatchObject({
      status: 'failed',
      lastError: 'endpoint disabled or removed',
    });
  });

  it('caps the retry delay', () => {
    expect(retryDelaySeconds(1, () => 0)).toBe(15);
    expect(retryDelaySeconds(30, () => 0.999)).toBeLessThanOrEqual(WEBHOOK_RETRY_MAX_SECONDS);
  });
});
