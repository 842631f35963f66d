/**
 * What Azure notifications ask for: every webhook, landing visit, activation and reconciliation
 * pass ends in a re-read of one subscription (Get Operation first, for webhooks). Parsing is
 * lenient — Microsoft tells publishers not to deserialize strictly — and only the subscription
 * id is required.
 */
import { z } from 'zod';
import type { ParsedNotification, StoredRawEnvelope, SyncTrigger } from '../../app/ports';

// unverified: webhook fields from the 2022 azure-docs page. Only what we act on is checked
// (the operation is re-read from Microsoft anyway); any other field may hold anything.
const WebhookSchema = z.looseObject({
  id: z.string().nullish(),
  subscriptionId: z.string().min(1),
  action: z.string().nullish(),
  offerId: z.string().nullish(),
});

/** What our own Azure inlets store as raw bodies (landing, activation, reconciliation). */
export const AzureInternalBodySchema = z.object({
  kind: z.enum(['azure-landing', 'azure-activation', 'azure-reconcile']),
  subscriptionId: z.string().min(1),
  offerId: z.string().nullable(),
  at: z.iso.datetime({ offset: true }),
});
export type AzureInternalBody = z.infer<typeof AzureInternalBodySchema>;

export type AzureTrigger = SyncTrigger & {
  readonly kind: 'azure-subscription';
  readonly subscriptionId: string;
  readonly offerId: string | null;
  /** Set for webhooks: the operation to validate (and accept or reject) before acting. */
  readonly operationId: string | null;
  readonly action: string | null;
};

export function groupKeyForSubscription(subscriptionId: string): string {
  // Lower case, as the contract id is: one subscription, one ordering group.
  return `azure#${subscriptionId.toLowerCase()}`;
}

export function parseAzureNotification(raw: StoredRawEnvelope): ParsedNotification<AzureTrigger> {
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch {
    return { kind: 'invalid', groupKey: 'azure#invalid', reason: 'body is not JSON' };
  }
  const internal = AzureInternalBodySchema.safeParse(body);
  if (internal.success) {
    const groupKey = groupKeyForSubscription(internal.data.subscriptionId);
    return {
      kind: 'triggers',
      groupKey,
      triggers: [
        {
          kind: 'azure-subscription',
          groupKey,
          description: `${internal.data.kind} of ${internal.data.subscriptionId}`,
          subscriptionId: internal.data.subscriptionId,
          offerId: internal.data.offerId,
          operationId: null,
          action: null,
        },
      ],
    };
  }
  const webhook = WebhookSchema.safeParse(body);
  if (!webhook.success) {
    const issue = webhook.error.issues[0];
    return {
      kind: 'invalid',
      groupKey: 'azure#invalid',
      reason: `webhook: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'malformed'}`,
    };
  }
  const groupKey = groupKeyForSubscription(webhook.data.subscriptionId);
  const action = webhook.data.action ?? null;
  return {
    kind: 'triggers',
    groupKey,
    triggers: [
      {
        kind: 'azure-subscription',
        groupKey,
        description: `${action ?? 'webhook'} for ${webhook.data.subscriptionId}`,
        subscriptionId: webhook.data.subscriptionId,
        offerId: webhook.data.offerId ?? null,
        operationId: webhook.data.id ?? null,
        action,
      },
    ],
  };
}
