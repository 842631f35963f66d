// Proves provisioning webhooks end to end: an admin registers an endpoint, an applied contract
// change queues a delivery in the same transaction, the POST is HMAC-signed and verifiable, a
// failure is retried with backoff until delivered, and every attempt is in the delivery log.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDueWebhooks } from '../../../lib/app/webhooks';
import { contractIdFor } from '../../../lib/domain/contract';
import { getContainer } from '../../../lib/runtime/container';
import { deliver, sampleFiles, startTestStack, type TestStack } from './helpers';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

const DIRECT = contractIdFor('aws', 'license/l-agora1001');
let test: TestStack;
let receiver: Server;
let receiverUrl = '';
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      // The seller's product is down for the first attempt.
      response.writeHead(received.length === 1 ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/agora-hooks`;
  test = await startTestStack();
});

afterAll(async () => {
  await test?.stack.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('provisioning webhooks', () => {
  let secret = '';

  it('registers an endpoint (admin only) and shows its secret once', async () => {
    expect(
      (await test.post('/v1/webhook-endpoints', { url: receiverUrl }, { roles: ['seller'] }))
        .status,
    ).toBe(403);
    const created = await test.post(
      '/v1/webhook-endpoints',
      { url: receiverUrl, description: 'provisioning' },
      { roles: ['admin'] },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: receiverUrl, status: 'active', eventTypes: [] });
    secret = String(created.body.secret);
    expect(secret).toMatch(/^whsec_/);
    const listed = await test.get('/v1/webhook-endpoints');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
  });

  it('queues a delivery with the change, retries after a failure, and delivers a verifiable signature', async () => {
    for (const sample of sampleFiles('aws').slice(0, 3)) await deliver(test, sample.body);
    await test.stack.settle();
    expect(received).toHaveLength(1);
    const pending = await test.get(`/v1/webhook-deliveries?contractId=${DIRECT}`, ['seller']);
    expect(pending.body.items).toMatchObject([
      {
        status: 'pending',
        attempts: 1,
        lastStatusCode: 500,
        eventTypes: ['ContractCreated', 'ContractActivated'],
      },
    ]);

    // An hour later the sweeper retries it (the backoff put it in the future).
    const container = getContainer();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const sweep = await deliverDueWebhooks({
      webhooks: container.webhooks,
      sender: container.webhookSender,
      clock: { now: () => later },
    });
    expect(sweep).toMatchObject({ attempted: 1, delivered: 1 });
    expect(received).toHaveLength(2);

    const last = received[1] as Received;
    const timestamp = String(last.headers['agora-webhook-timestamp']);
    const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${last.body}`).digest('hex')}`;
    expect(last.headers['agora-signature']).toBe(expected);
    expect(last.body).toBe(received[0]?.body); // the same delivery, byte for byte
    const payload = JSON.parse(last.body);
    expect(payload).toMatchObject({
      type: 'contract.changed',
      contract: { contractId: DIRECT, status: 'active', customer: '444455556666' },
    });

    const log = await test.get(`/v1/webhook-deliveries?contractId=${DIRECT}`);
    expect(log.body.items).toMatchObject([
      { status: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null },
    ]);
  });

  it('sends nothing more for a redelivered notification (no change, no webhook)', async () => {
    await deliver(test, sampleFiles('aws')[0]?.body ?? {});
    await test.stack.settle();
    expect(received).toHaveLength(2);
  });

  it('stops delivering to a disabled endpoint', async () => {
    const endpoints = (await test.get('/v1/webhook-endpoints')).body.items as {
      endpointId: string;
    }[];
    const id = endpoints[0]?.endpointId ?? '';
    const response = await fetch(`${test.stack.url}/v1/webhook-endpoints/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await test.token(['admin'])}` },
    });
    expect(response.status).toBe(200);
    expect(
      ((await test.get('/v1/webhook-endpoints')).body.items as { status: string }[])[0]?.status,
    ).toBe('disabled');
  });
});
