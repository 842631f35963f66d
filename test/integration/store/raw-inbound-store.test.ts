// Proves against DynamoDB Local that raw inbound payloads are stored once, redeliveries are
// reported (not rewritten) even when concurrent, and envelopes can be listed by day for replay.
import { beforeAll, describe, expect, it } from 'vitest';
import { RAW_BODY_BYTES_MAX, type RawEnvelope, rawIdFor } from '../../../lib/domain/raw';
import type { DynamoStore } from '../../../lib/store/dynamo-store';
import { DynamoRawInboundStore } from '../../../lib/store/raw-inbound-store';
import { freshStore } from '../helpers';

function envelope(overrides: Partial<RawEnvelope> = {}): RawEnvelope {
  return {
    marketplace: 'aws',
    channel: 'aws-eventbridge',
    providerMessageId: 'msg-1',
    receivedAt: '2025-01-01T10:00:00.000Z',
    headers: { 'content-type': 'application/json' },
    body: '{"detail-type":"Purchase Agreement Created - Manufacturer"}',
    authenticatedAs: 'arn:aws:events:us-east-1:123456789012:rule/agora',
    ...overrides,
  };
}

describe('DynamoRawInboundStore on DynamoDB Local', () => {
  let table: DynamoStore;
  let raw: DynamoRawInboundStore;

  beforeAll(async () => {
    table = await freshStore();
    raw = new DynamoRawInboundStore(table);
  });

  it('stores an envelope once and reports a redelivery without rewriting it', async () => {
    const first = await raw.save(envelope());
    expect(first).toEqual({ outcome: 'stored', rawId: rawIdFor('aws', 'msg-1') });

    const again = await raw.save(envelope({ receivedAt: '2025-01-01T10:05:00.000Z' }));
    expect(again).toEqual({
      outcome: 'duplicate',
      rawId: first.rawId,
      samePayload: true,
      firstReceivedAt: '2025-01-01T10:00:00.000Z',
    });

    const changed = await raw.save(envelope({ body: '{"tampered":true}' }));
    expect(changed).toMatchObject({ outcome: 'duplicate', samePayload: false });

    const stored = await raw.get(first.rawId);
    expect(stored?.receivedAt).toBe('2025-01-01T10:00:00.000Z');
    expect(stored?.body).toBe(envelope().body);
  });

  it('lets exactly one of many concurrent deliveries store the payload', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        raw.save(
          envelope({
            providerMessageId: 'msg-concurrent',
            receivedAt: `2025-01-01T11:00:${String(i).padStart(2, '0')}.000Z`,
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.outcome === 'stored')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(11);
  });

  it('refuses an oversized or invalid envelope and writes nothing', async () => {
    const huge = envelope({
      providerMessageId: 'msg-huge',
      body: 'x'.repeat(RAW_BODY_BYTES_MAX + 1),
    });
    await expect(raw.save(huge)).rejects.toThrow(/Body larger/);
    expect(await raw.get(rawIdFor('aws', 'msg-huge'))).toBeNull();
    await expect(raw.save(envelope({ providerMessageId: '' }))).rejects.toThrow();
  });

  it('lists one day of envelopes oldest first, page by page', async () => {
    for (let i = 0; i < 5; i += 1) {
      await raw.save(
        envelope({
          marketplace: 'gcp',
          channel: 'gcp-pubsub-push',
          providerMessageId: `day-${i}`,
          receivedAt: `2025-02-03T0${i}:00:00.000Z`,
        }),
      );
    }
    await raw.save(
      envelope({
        marketplace: 'gcp',
        channel: 'gcp-pubsub-push',
        providerMessageId: 'other-day',
        receivedAt: '2025-02-04T00:00:00.000Z',
      }),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await raw.listByDay('gcp', '2025-02-03', { limit: 2, cursor });
      seen.push(...result.items.map((item) => item.providerMessageId));
      if (!result.cursor) break;
      cursor = result.cursor;
    }
    expect(seen).toEqual(['day-0', 'day-1', 'day-2', 'day-3', 'day-4']);
  });
});
