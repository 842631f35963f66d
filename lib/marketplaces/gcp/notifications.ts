/**
 * What Google Cloud Marketplace notifications ask for. Pub/Sub messages carry only ids
 * (`{eventId, eventType, providerId, entitlement?|account?}`): each becomes a re-read of the
 * entitlement or of the account and its entitlements. Sign-ups and seller decisions recorded by
 * our own endpoints are re-reads too.
 */
import { z } from 'zod';
import type { ParsedNotification, StoredRawEnvelope, SyncTrigger } from '../../app/ports';

// unverified: the push envelope and message fields follow Pub/Sub's push format and Google's
// "manage entitlements" page; only ids are required.
const PushEnvelopeSchema = z.looseObject({
  message: z.looseObject({
    data: z.string().min(1),
    messageId: z.string().nullish(),
    message_id: z.string().nullish(),
  }),
  subscription: z.string().nullish(),
});

const MarketplaceMessageSchema = z.looseObject({
  eventId: z.string().min(1),
  eventType: z.string().min(1),
  providerId: z.string().min(1),
  entitlement: z
    .looseObject({
      id: z.string().min(1),
      newPlan: z.string().nullish(),
      newOfferStartTime: z.string().nullish(),
    })
    .nullish(),
  account: z.looseObject({ id: z.string().min(1) }).nullish(),
});
export type GcpMarketplaceMessage = z.infer<typeof MarketplaceMessageSchema>;

export const GcpInternalBodySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('gcp-signup'),
    providerId: z.string(),
    accountId: z.string(),
    userIdentity: z.string().nullable(),
    orders: z.array(z.string()),
    at: z.string(),
  }),
  z.object({
    kind: z.literal('gcp-decision'),
    providerId: z.string(),
    entitlementId: z.string(),
    decision: z.enum(['approve', 'reject']),
    at: z.string(),
  }),
]);
export type GcpInternalBody = z.infer<typeof GcpInternalBodySchema>;

export type GcpTrigger =
  | (SyncTrigger & {
      readonly kind: 'gcp-entitlement';
      readonly providerId: string;
      readonly entitlementId: string;
      readonly eventType: string;
    })
  | (SyncTrigger & {
      readonly kind: 'gcp-account';
      readonly providerId: string;
      readonly accountId: string;
      readonly eventType: string;
      readonly userIdentity: string | null;
    });

/** The Marketplace message inside a push or pull envelope, or why it is not one. */
export function decodeEnvelope(
  body: unknown,
): { message: GcpMarketplaceMessage } | { problem: string } {
  const envelope = PushEnvelopeSchema.safeParse(body);
  if (!envelope.success) return { problem: 'not a Pub/Sub push envelope' };
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(envelope.data.message.data, 'base64').toString('utf8'));
  } catch {
    return { problem: 'message.data is not base64 JSON' };
  }
  const message = MarketplaceMessageSchema.safeParse(data);
  if (!message.success) {
    const issue = message.error.issues[0];
    return {
      problem: `message: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'malformed'}`,
    };
  }
  return { message: message.data };
}

export function parseGcpNotification(raw: StoredRawEnvelope): ParsedNotification<GcpTrigger> {
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch {
    return { kind: 'invalid', groupKey: 'gcp#invalid', reason: 'body is not JSON' };
  }
  const internal = GcpInternalBodySchema.safeParse(body);
  if (internal.success) {
    const data = internal.data;
    if (data.kind === 'gcp-signup') {
      const groupKey = `gcp#account:${data.accountId}`;
      return {
        kind: 'triggers',
        groupKey,
        triggers: [
          {
            kind: 'gcp-account',
            groupKey,
            description: `sign-up of account ${data.accountId}`,
            providerId: data.providerId,
            accountId: data.accountId,
            eventType: 'SIGNUP',
            userIdentity: data.userIdentity,
          },
        ],
      };
    }
    const groupKey = `gcp#entitlement:${data.entitlementId}`;
    return {
      kind: 'triggers',
      groupKey,
      triggers: [
        {
          kind: 'gcp-entitlement',
          groupKey,
          description: `seller ${data.decision} of ${data.entitlementId}`,
          providerId: data.providerId,
          entitlementId: data.entitlementId,
          eventType: 'SELLER_DECISION',
        },
      ],
    };
  }
  const decoded = decodeEnvelope(body);
  if ('problem' in decoded)
    return { kind: 'invalid', groupKey: 'gcp#invalid', reason: decoded.problem };
  const { message } = decoded;
  if (message.entitlement) {
    const groupKey = `gcp#entitlement:${message.entitlement.id}`;
    return {
      kind: 'triggers',
      groupKey,
      triggers: [
        {
          kind: 'gcp-entitlement',
          groupKey,
          description: `${message.eventType} for ${message.entitlement.id}`,
          providerId: message.providerId,
          entitlementId: message.entitlement.id,
          eventType: message.eventType,
        },
      ],
    };
  }
  if (message.account) {
    const groupKey = `gcp#account:${message.account.id}`;
    return {
      kind: 'triggers',
      groupKey,
      triggers: [
        {
          kind: 'gcp-account',
          groupKey,
          description: `${message.eventType} for account ${message.account.id}`,
          providerId: message.providerId,
          accountId: message.account.id,
          eventType: message.eventType,
          userIdentity: null,
        },
      ],
    };
  }
  return {
    kind: 'ignored',
    groupKey: 'gcp#other',
    reason: `${message.eventType}: no entitlement or account to re-read`,
  };
}
