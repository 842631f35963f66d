// Proves how Google Cloud notifications are understood: every sample's re-read and FIFO group, our own sign-up and decision bodies, and that odd bodies are invalid (with a reason) or ignored, never thrown.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredRawEnvelope } from '../../../../lib/app/ports';
import {
  decodeEnvelope,
  parseGcpNotification,
} from '../../../../lib/marketplaces/gcp/notifications';

const EVENTS = resolve(import.meta.dirname, '../../../../events');

function raw(body: string): StoredRawEnvelope {
  return {
    marketplace: 'gcp',
    channel: 'gcp-pubsub-push',
    providerMessageId: 'm',
    receivedAt: '2026-01-01T00:00:00Z',
    headers: {},
    body,
    authenticatedAs: null,
    rawId: 'raw_1',
    bodySha256: 'x',
    processedAt: null,
    outcome: null,
  };
}

function sample(folder: string, name: string): string {
  return readFileSync(resolve(EVENTS, folder, name), 'utf8');
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function push(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    message: { data: b64(JSON.stringify(data)), messageId: '1', ...extra },
    subscription: 'projects/p/subscriptions/s',
  };
}

const EXPECTED: Record<string, string> = {
  '01-entitlement-creation-requested.json':
    'gcp-entitlement gcp#entitlement:ent-agora-000001 ENTITLEMENT_CREATION_REQUESTED',
  '02-entitlement-active.json':
    'gcp-entitlement gcp#entitlement:ent-agora-000001 ENTITLEMENT_ACTIVE',
  '03-plan-change-requested.json':
    'gcp-entitlement gcp#entitlement:ent-agora-000002 ENTITLEMENT_PLAN_CHANGE_REQUESTED',
  '04-creation-requested-unapproved-account.json':
    'gcp-entitlement gcp#entitlement:ent-agora-000003 ENTITLEMENT_CREATION_REQUESTED',
  '05-account-active.json': 'gcp-account gcp#account:E-AGORA-ACCT-0003 ACCOUNT_ACTIVE',
  '06-entitlement-cancelled.json':
    'gcp-entitlement gcp#entitlement:ent-agora-000005 ENTITLEMENT_CANCELLED',
  '07-entitlement-pending-cancellation.json':
    'gcp-entitlement gcp#entitlement:ent-agora-000006 ENTITLEMENT_PENDING_CANCELLATION',
};

describe('decodeEnvelope', () => {
  it('decodes the Marketplace message of every sample, keeping unknown members', () => {
    const decoded = decodeEnvelope(
      JSON.parse(sample('gcp', '03-plan-change-requested.json')) as unknown,
    );
    expect(decoded).toEqual({
      message: {
        eventId: 'PLAN_CHANGE_REQUESTED-agora-0003',
        eventType: 'ENTITLEMENT_PLAN_CHANGE_REQUESTED',
        providerId: 'agora-demo-provider',
        entitlement: {
          id: 'ent-agora-000002',
          newPlan: 'enterprise',
          updateTime: '2026-05-01T12:00:00Z',
        },
      },
    });
  });

  it('accepts snake_case or missing message ids and null optional members', () => {
    const message = { eventId: 'e', eventType: 'T', providerId: 'p', account: { id: 'a' } };
    for (const extra of [{ messageId: undefined }, { messageId: null, message_id: '7' }]) {
      expect(decodeEnvelope(push(message, extra))).toEqual({ message });
    }
    expect(
      decodeEnvelope(push({ ...message, entitlement: null, account: { id: 'a' } })),
    ).toMatchObject({ message: { entitlement: null, account: { id: 'a' } } });
  });

  it('names the problem with what is not a Marketplace push', () => {
    const cases: [string, unknown, string | RegExp][] = [
      ['null', null, 'not a Pub/Sub push envelope'],
      ['an array', [push({})], 'not a Pub/Sub push envelope'],
      ['no message', { subscription: 's' }, 'not a Pub/Sub push envelope'],
      ['empty data', { message: { data: '' } }, 'not a Pub/Sub push envelope'],
      ['numeric data', { message: { data: 42 } }, 'not a Pub/Sub push envelope'],
      [
        'numeric messageId',
        { message: { data: b64('{}'), messageId: 7 } },
        'not a Pub/Sub push envelope',
      ],
      ['bad base64', { message: { data: '!!!not base64!!!' } }, 'message.data is not base64 JSON'],
      ['base64 of text', { message: { data: b64('hello') } }, 'message.data is not base64 JSON'],
      ['a JSON array', { message: { data: b64('[1]') } }, /^message: /],
      ['no eventId', push({ eventType: 'T', providerId: 'p' }), /^message: eventId: /],
      [
        'empty eventId',
        push({ eventId: '', eventType: 'T', providerId: 'p' }),
        /^message: eventId: /,
      ],
      ['no eventType', push({ eventId: 'e', providerId: 'p' }), /^message: eventType: /],
      ['no providerId', push({ eventId: 'e', eventType: 'T' }), /^message: providerId: /],
      [
        'an entitlement without id',
        push({ eventId: 'e', eventType: 'T', providerId: 'p', entitlement: {} }),
        /^message: entitlement\.id: /,
      ],
      [
        'an account with an empty id',
        push({ eventId: 'e', eventType: 'T', providerId: 'p', account: { id: '' } }),
        /^message: account\.id: /,
      ],
    ];
    for (const [name, body, problem] of cases) {
      const decoded = decodeEnvelope(body);
      expect('problem' in decoded, name).toBe(true);
      if ('problem' in decoded) expect(decoded.problem, name).toMatch(problem);
    }
  });
});

describe('parseGcpNotification', () => {
  it('understands every sample in events/gcp', () => {
    const names = readdirSync(resolve(EVENTS, 'gcp')).filter((n) => /^\d\d-/.test(n));
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const name of names) {
      const parsed = parseGcpNotification(raw(sample('gcp', name)));
      expect(parsed.kind, name).toBe('triggers');
      if (parsed.kind !== 'triggers') continue;
      expect(parsed.triggers, name).toHaveLength(1);
      const [trigger] = parsed.triggers;
      expect(trigger?.groupKey, name).toBe(parsed.groupKey);
      expect(trigger?.providerId, name).toBe('agora-demo-provider');
      expect(`${trigger?.kind} ${parsed.groupKey} ${trigger?.eventType}`, name).toBe(
        EXPECTED[name],
      );
    }
  });

  it('re-reads the entitlement or the account the message names', () => {
    const entitlement = parseGcpNotification(
      raw(sample('gcp', '01-entitlement-creation-requested.json')),
    );
    expect(entitlement).toEqual({
      kind: 'triggers',
      groupKey: 'gcp#entitlement:ent-agora-000001',
      triggers: [
        {
          kind: 'gcp-entitlement',
          groupKey: 'gcp#entitlement:ent-agora-000001',
          description: 'ENTITLEMENT_CREATION_REQUESTED for ent-agora-000001',
          providerId: 'agora-demo-provider',
          entitlementId: 'ent-agora-000001',
          eventType: 'ENTITLEMENT_CREATION_REQUESTED',
        },
      ],
    });
    const account = parseGcpNotification(raw(sample('gcp', '05-account-active.json')));
    expect(account).toEqual({
      kind: 'triggers',
      groupKey: 'gcp#account:E-AGORA-ACCT-0003',
      triggers: [
        {
          kind: 'gcp-account',
          groupKey: 'gcp#account:E-AGORA-ACCT-0003',
          description: 'ACCOUNT_ACTIVE for account E-AGORA-ACCT-0003',
          providerId: 'agora-demo-provider',
          accountId: 'E-AGORA-ACCT-0003',
          eventType: 'ACCOUNT_ACTIVE',
          userIdentity: null,
        },
      ],
    });
    // A message naming both is about the entitlement.
    const both = parseGcpNotification(
      raw(
        JSON.stringify(
          push({
            eventId: 'e',
            eventType: 'ENTITLEMENT_ACTIVE',
            providerId: 'p',
            entitlement: { id: 'ent-9' },
            account: { id: 'acct-9' },
          }),
        ),
      ),
    );
    expect(both.groupKey).toBe('gcp#entitlement:ent-9');
  });

  it('turns our sign-up body into a re-read of the account with the user identity', () => {
    const body = {
      kind: 'gcp-signup',
      providerId: 'prov',
      accountId: 'acct-1',
      userIdentity: '123456789012345678901',
      orders: ['ent-1'],
      at: '2026-01-01T00:00:00Z',
    };
    expect(parseGcpNotification(raw(JSON.stringify(body)))).toEqual({
      kind: 'triggers',
      groupKey: 'gcp#account:acct-1',
      triggers: [
        {
          kind: 'gcp-account',
          groupKey: 'gcp#account:acct-1',
          description: 'sign-up of account acct-1',
          providerId: 'prov',
          accountId: 'acct-1',
          eventType: 'SIGNUP',
          userIdentity: '123456789012345678901',
        },
      ],
    });
    const anonymous = parseGcpNotification(raw(JSON.stringify({ ...body, userIdentity: null })));
    expect(anonymous.kind === 'triggers' && anonymous.triggers[0]).toMatchObject({
      userIdentity: null,
    });
  });

  it('turns a seller decision into a re-read of the entitlement', () => {
    for (const decision of ['approve', 'reject'] as const) {
      const body = {
        kind: 'gcp-decision',
        providerId: 'prov',
        entitlementId: 'ent-7',
        decision,
        at: '2026-01-01T00:00:00Z',
      };
      expect(parseGcpNotification(raw(JSON.stringify(body)))).toEqual({
        kind: 'triggers',
        groupKey: 'gcp#entitlement:ent-7',
        triggers: [
          {
            kind: 'gcp-entitlement',
            groupKey: 'gcp#entitlement:ent-7',
            description: `seller ${decision} of ent-7`,
            providerId: 'prov',
            entitlementId: 'ent-7',
            eventType: 'SELLER_DECISION',
          },
        ],
      });
    }
  });

  it('marks malformed internal bodies, non-JSON and the invalid sample invalid, with a reason', () => {
    const cases: [string, string, string | RegExp][] = [
      ['not JSON', '{"message": nope', 'body is not JSON'],
      ['empty', '', 'body is not JSON'],
      [
        'the invalid sample',
        sample('invalid', 'gcp-push-data-not-json.json'),
        'message.data is not base64 JSON',
      ],
      [
        'a sign-up without accountId',
        JSON.stringify({
          kind: 'gcp-signup',
          providerId: 'p',
          userIdentity: null,
          orders: [],
          at: 'x',
        }),
        'not a Pub/Sub push envelope',
      ],
      [
        'a decision that is neither approve nor reject',
        JSON.stringify({
          kind: 'gcp-decision',
          providerId: 'p',
          entitlementId: 'e',
          decision: 'maybe',
          at: 'x',
        }),
        'not a Pub/Sub push envelope',
      ],
      [
        'a message without eventType',
        JSON.stringify(push({ eventId: 'e', providerId: 'p' })),
        /^message: eventType/,
      ],
    ];
    for (const [name, body, reason] of cases) {
      const parsed = parseGcpNotification(raw(body));
      expect(parsed.kind, name).toBe('invalid');
      expect(parsed.groupKey, name).toBe('gcp#invalid');
      if (parsed.kind === 'invalid') expect(parsed.reason, name).toMatch(reason);
    }
  });

  it('ignores a well-formed message that names neither entitlement nor account', () => {
    for (const extra of [{}, { entitlement: null, account: null }]) {
      const parsed = parseGcpNotification(
        raw(
          JSON.stringify(
            push({
              eventId: 'e',
              eventType: 'ENTITLEMENT_OFFER_ACCEPTED',
              providerId: 'p',
              ...extra,
            }),
          ),
        ),
      );
      expect(parsed).toEqual({
        kind: 'ignored',
        groupKey: 'gcp#other',
        reason: 'ENTITLEMENT_OFFER_ACCEPTED: no entitlement or account to re-read',
      });
    }
  });

  it('carries exactly the ids of any well-formed message (property)', () => {
    const id = fc.string({ minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(
        id,
        id,
        id,
        fc.oneof(
          id.map((v) => ({ entitlement: v })),
          id.map((v) => ({ account: v })),
        ),
        (eventId, eventType, providerId, target) => {
          const message = {
            eventId,
            eventType,
            providerId,
            ...('entitlement' in target
              ? { entitlement: { id: target.entitlement } }
              : { account: { id: target.account } }),
          };
          const parsed = parseGcpNotification(raw(JSON.stringify(push(message))));
          if (parsed.kind !== 'triggers') return false;
          const [trigger] = parsed.triggers;
          if (!trigger || parsed.triggers.length !== 1) return false;
          if (trigger.providerId !== providerId || trigger.eventType !== eventType) return false;
          return 'entitlement' in target
            ? trigger.kind === 'gcp-entitlement' &&
                trigger.entitlementId === target.entitlement &&
                parsed.groupKey === `gcp#entitlement:${target.entitlement}`
            : trigger.kind === 'gcp-account' &&
                trigger.accountId === target.account &&
                parsed.groupKey === `gcp#account:${target.account}`;
        },
      ),
    );
  });

  it('never throws on arbitrary bodies (property)', () => {
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .jsonValue()
        .map((data) => JSON.stringify({ message: { data: b64(JSON.stringify(data)) } })),
      fc.string().map((data) => JSON.stringify({ message: { data } })),
    );
    fc.assert(
      fc.property(bodies, (body) => {
        const parsed = parseGcpNotification(raw(body));
        return (
          ['triggers', 'ignored', 'invalid'].includes(parsed.kind) &&
          parsed.groupKey.startsWith('gcp#')
        );
      }),
    );
  });
});
