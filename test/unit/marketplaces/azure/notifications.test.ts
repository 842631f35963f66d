// Proves how Azure notifications are understood: every sample webhook and our own inlet bodies
// become one re-read of the right subscription (with the operation to validate for webhooks, in
// the subscription's FIFO group), and non-JSON or subscription-less bodies are invalid with a reason.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredRawEnvelope } from '../../../../lib/app/ports';
import {
  type AzureTrigger,
  groupKeyForSubscription,
  parseAzureNotification,
} from '../../../../lib/marketplaces/azure/notifications';

const EVENTS = resolve(import.meta.dirname, '../../../../events');
const RUNS = { numRuns: 200, seed: 20260310 } as const;
const SUB = '37f9dea2-4345-438f-b0bd-03d40d28c701';

function raw(body: string, channel: StoredRawEnvelope['channel'] = 'azure-webhook') {
  const envelope: StoredRawEnvelope = {
    marketplace: 'azure',
    channel,
    providerMessageId: 'm',
    receivedAt: '2026-03-10T16:34:42Z',
    headers: {},
    body,
    authenticatedAs: null,
    rawId: 'raw_1',
    bodySha256: 'x',
    processedAt: null,
    outcome: null,
  };
  return envelope;
}

function triggerOf(body: unknown): AzureTrigger {
  const parsed = parseAzureNotification(raw(JSON.stringify(body)));
  if (parsed.kind !== 'triggers') throw new Error(`expected triggers, got ${parsed.kind}`);
  expect(parsed.triggers).toHaveLength(1);
  const [trigger] = parsed.triggers;
  if (!trigger) throw new Error('no trigger');
  expect(trigger.groupKey).toBe(parsed.groupKey);
  return trigger;
}

function invalidReason(body: string): string {
  const parsed = parseAzureNotification(raw(body));
  if (parsed.kind !== 'invalid') throw new Error(`expected invalid, got ${parsed.kind}`);
  expect(parsed.groupKey).toBe('azure#invalid');
  return parsed.reason;
}

const EXPECTED: Record<string, [subscriptionId: string, operationId: string, action: string]> = {
  '01-webhook-changeplan.json': [SUB, '74dfb4db-c193-4891-827d-eb05fbdc0001', 'ChangePlan'],
  '02-webhook-changequantity.json': [SUB, '74dfb4db-c193-4891-827d-eb05fbdc0002', 'ChangeQuantity'],
  '03-webhook-renew.json': [SUB, '74dfb4db-c193-4891-827d-eb05fbdc0003', 'Renew'],
  '04-webhook-suspend.json': [
    '37f9dea2-4345-438f-b0bd-03d40d28c703',
    '74dfb4db-c193-4891-827d-eb05fbdc0004',
    'Suspend',
  ],
  '05-webhook-reinstate.json': [
    '37f9dea2-4345-438f-b0bd-03d40d28c704',
    '74dfb4db-c193-4891-827d-eb05fbdc0005',
    'Reinstate',
  ],
  '06-webhook-unsubscribe.json': [
    '37f9dea2-4345-438f-b0bd-03d40d28c702',
    '74dfb4db-c193-4891-827d-eb05fbdc0006',
    'Unsubscribe',
  ],
};

describe('parseAzureNotification: webhooks', () => {
  it('understands every sample webhook in events/azure', () => {
    const names = readdirSync(resolve(EVENTS, 'azure')).filter((n) => /^\d\d-/.test(n));
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const name of names) {
      const body = JSON.parse(readFileSync(resolve(EVENTS, 'azure', name), 'utf8')) as unknown;
      const [subscriptionId, operationId, action] = EXPECTED[name] ?? [];
      expect(triggerOf(body), name).toEqual({
        kind: 'azure-subscription',
        groupKey: `azure#${subscriptionId}`,
        description: `${action} for ${subscriptionId}`,
        subscriptionId,
        offerId: 'agora-saas',
        operationId,
        action,
      });
    }
  });

  it('accepts a quantity sent as a string, unknown members and missing optional fields', () => {
    expect(
      triggerOf({ id: 'op-1', subscriptionId: SUB, action: 'ChangeQuantity', quantity: '30' }),
    ).toMatchObject({ operationId: 'op-1', action: 'ChangeQuantity', offerId: null });
    expect(
      triggerOf({ subscriptionId: SUB, unexpected: { nested: [1, 2] }, purchaseToken: null }),
    ).toEqual({
      kind: 'azure-subscription',
      groupKey: groupKeyForSubscription(SUB),
      description: `webhook for ${SUB}`,
      subscriptionId: SUB,
      offerId: null,
      operationId: null,
      action: null,
    });
    // Microsoft sends null for absent values; they are as good as missing.
    expect(
      triggerOf({ id: null, subscriptionId: SUB, action: null, offerId: null, quantity: null }),
    ).toMatchObject({ operationId: null, action: null, offerId: null });
  });

  it('groups every notification of one subscription together, and only those', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), fc.string({ minLength: 1 }), (a, b, action) => {
        const first = triggerOf({ id: 'op', subscriptionId: a, action });
        const second = triggerOf({
          kind: 'azure-reconcile',
          subscriptionId: a,
          offerId: null,
          at: '2026-01-01T00:00:00Z',
        });
        expect(first.groupKey).toBe(second.groupKey);
        expect(first.groupKey).toBe(groupKeyForSubscription(a));
        if (a !== b) expect(triggerOf({ subscriptionId: b }).groupKey).not.toBe(first.groupKey);
      }),
      RUNS,
    );
  });

  it('refuses a body that is not JSON, whatever it is', () => {
    for (const body of ['', 'not json', '{"subscriptionId":', '<xml/>'])
      expect(invalidReason(body), body).toBe('body is not JSON');
  });

  it('refuses a webhook without a subscription id, naming the field', () => {
    const invalid = JSON.parse(
      readFileSync(resolve(EVENTS, 'invalid', 'azure-webhook-without-subscription.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(invalidReason(JSON.stringify(invalid))).toMatch(/^webhook: subscriptionId: /);
    expect(invalidReason(JSON.stringify({ ...invalid, subscriptionId: '' }))).toMatch(
      /^webhook: subscriptionId: /,
    );
    expect(invalidReason(JSON.stringify({ ...invalid, subscriptionId: 42 }))).toMatch(
      /^webhook: subscriptionId: /,
    );
  });

  it('refuses JSON that is not an object', () => {
    for (const body of ['null', '42', '"text"', '[]', `[{"subscriptionId":"${SUB}"}]`])
      expect(invalidReason(body), body).toMatch(/^webhook: /);
  });
});

describe('parseAzureNotification: our own inlets', () => {
  const at = '2026-04-02T00:00:05.123Z';

  it('turns a landing visit, an activation and a reconciliation pass into a plain re-read', () => {
    for (const kind of ['azure-landing', 'azure-activation', 'azure-reconcile'] as const) {
      const parsed = parseAzureNotification(
        raw(JSON.stringify({ kind, subscriptionId: SUB, offerId: 'agora-saas', at }), kind),
      );
      expect(parsed, kind).toEqual({
        kind: 'triggers',
        groupKey: `azure#${SUB}`,
        triggers: [
          {
            kind: 'azure-subscription',
            groupKey: `azure#${SUB}`,
            description: `${kind} of ${SUB}`,
            subscriptionId: SUB,
            offerId: 'agora-saas',
            // Nothing to validate at Microsoft: no operation, no decision.
            operationId: null,
            action: null,
          },
        ],
      });
    }
  });

  it('keeps a null offer id (activation without an offer)', () => {
    expect(
      triggerOf({ kind: 'azure-activation', subscriptionId: SUB, offerId: null, at }),
    ).toMatchObject({
      offerId: null,
      operationId: null,
      description: `azure-activation of ${SUB}`,
    });
  });

  it('reads an internal-looking body with an unknown kind as a webhook (no operation to check)', () => {
    expect(triggerOf({ kind: 'azure-other', subscriptionId: SUB, offerId: null, at })).toEqual({
      kind: 'azure-subscription',
      groupKey: `azure#${SUB}`,
      description: `webhook for ${SUB}`,
      subscriptionId: SUB,
      offerId: null,
      operationId: null,
      action: null,
    });
  });
});
