/**
 * Google Cloud inlets: Pub/Sub push (Google OIDC token checked before anything is written; an
 * authenticated message is stored and acknowledged even if its body is odd, and dead-lettered
 * with the reason), Pub/Sub pull (same handler, for deployments that prefer it), the buyer's
 * sign-up (token verified, account approved — never blindly — and parked entitlements resumed),
 * and the seller's approve/reject decisions.
 */
import { ConflictError, NotFoundError, ValidationFailedError } from '../../app/errors';
import { type IngestDeps, type IngestResult, ingestNotification } from '../../app/ingest';
import type { Clock, ContractStore } from '../../app/ports';
import { sha256Hex } from '../../domain/ids';
import type { RawEnvelope } from '../../domain/raw';
import type { GcpSignupVerifier, GooglePushVerifier } from './auth';
import type { GcpMarketplaceSettings } from './config';
import { decodeEnvelope, type GcpInternalBody } from './notifications';
import type { GcpProcurementClient } from './procurement-client';
import { signupApproved } from './source';

const AUDIT_HEADERS = ['user-agent', 'content-type', 'from'];

export interface GcpPushDeps extends IngestDeps {
  readonly googlePushVerifier: GooglePushVerifier;
  readonly clock: Clock;
}

function messageIdOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    const decoded = decodeEnvelope(parsed);
    if ('message' in decoded) return decoded.message.eventId;
    const id = (parsed as { message?: { messageId?: unknown } }).message?.messageId;
    if (typeof id === 'string' && id.length > 0) return `pubsub:${id}`;
  } catch {
    // not JSON: kept under its hash
  }
  return `sha256:${sha256Hex(body)}`;
}

export async function receiveGcpPush(
  deps: GcpPushDeps,
  body: string,
  headers: Readonly<Record<string, string>>,
): Promise<IngestResult> {
  const identity = await deps.googlePushVerifier.verify(headers.authorization);
  return ingestNotification(deps, {
    marketplace: 'gcp',
    channel: 'gcp-pubsub-push',
    // Marketplace messages are deduplicated on their eventId (delivery is at least once).
    providerMessageId: messageIdOf(body),
    receivedAt: deps.clock.now(),
    headers: Object.fromEntries(
      AUDIT_HEADERS.filter((h) => headers[h] !== undefined).map((h) => [h, String(headers[h])]),
    ),
    body,
    authenticatedAs: `google:${identity.email}`,
  });
}

export interface GcpFlowDeps extends IngestDeps {
  readonly gcpClient: GcpProcurementClient;
  readonly gcpSettings: GcpMarketplaceSettings;
  readonly clock: Clock;
}

async function internal(
  deps: GcpFlowDeps,
  body: GcpInternalBody,
  messageId: string,
  by: string,
): Promise<IngestResult> {
  return ingestNotification(deps, {
    marketplace: 'gcp',
    channel: body.kind,
    providerMessageId: messageId,
    receivedAt: body.at,
    headers: {},
    body: JSON.stringify(body),
    authenticatedAs: by,
  });
}

/**
 * The buyer finished sign-up on our page: verify the token, link the procurement account, approve
 * its sign-up (only now, never blindly) and resume the entitlements parked while it was pending.
 */
export async function signUpGcpAccount(
  deps: GcpFlowDeps & { signupVerifier: GcpSignupVerifier },
  token: string,
): Promise<{ providerId: string; accountId: string; approved: boolean; ingest: IngestResult }> {
  const claims = await deps.signupVerifier.verify(token);
  const providers = deps.gcpSettings.providers.filter((p) => p.signupAudience === claims.audience);
  for (const provider of providers) {
    const account = await deps.gcpClient.getAccount(provider.providerId, claims.accountId);
    if (!account) continue;
    if (!signupApproved(account))
      await deps.gcpClient.approveAccount(provider.providerId, claims.accountId);
    const ingest = await internal(
      deps,
      {
        kind: 'gcp-signup',
        providerId: provider.providerId,
        accountId: claims.accountId,
        userIdentity: claims.userIdentity,
        orders: [...claims.orders],
        at: deps.clock.now(),
      },
      `signup:${provider.providerId}:${claims.accountId}`,
      `signup-token:${claims.accountId}`,
    );
    return { providerId: provider.providerId, accountId: claims.accountId, approved: true, ingest };
  }
  throw new NotFoundError(`No configured provider knows procurement account ${claims.accountId}`);
}

/** The seller approves or rejects a held entitlement creation or plan change. */
export async function decideGcpEntitlement(
  deps: GcpFlowDeps & { contracts: ContractStore },
  input: { contractId: string; decision: 'approve' | 'reject'; reason: string | null; by: string },
): Promise<{ entitlementId: string; action: string; ingest: IngestResult }> {
  const snapshot = await deps.contracts.get(input.contractId);
  if (!snapshot) throw new NotFoundError(`No contract ${input.contractId}`);
  const { entitlementId, providerId } = snapshot.refs;
  if (snapshot.marketplace !== 'gcp' || !entitlementId || !providerId) {
    throw new ValidationFailedError('Only Google Cloud entitlements wait for a seller decision', [
      {
        path: 'path.contractId',
        code: 'not_gcp',
        message: `${input.contractId} is a ${snapshot.marketplace} contract`,
      },
    ]);
  }
  const entitlement = await deps.gcpClient.getEntitlement(providerId, entitlementId);
  if (!entitlement)
    throw new NotFoundError(`Entitlement ${entitlementId} is not visible at Google`);
  const reason =
    input.reason ??
    (input.decision === 'approve' ? 'approved by the seller' : 'rejected by the seller');
  let action: string;
  if (entitlement.state === 'ENTITLEMENT_ACTIVATION_REQUESTED') {
    action = input.decision === 'approve' ? 'entitlement approved' : 'entitlement rejected';
    if (input.decision === 'approve')
      await deps.gcpClient.approveEntitlement(providerId, entitlementId);
    else await deps.gcpClient.rejectEntitlement(providerId, entitlementId, reason);
  } else if (
    entitlement.state === 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL' &&
    entitlement.newPendingPlan
  ) {
    action = `plan change to ${entitlement.newPendingPlan} ${input.decision === 'approve' ? 'approved' : 'rejected'}`;
    if (input.decision === 'approve')
      await deps.gcpClient.approvePlanChange(providerId, entitlementId, entitlement.newPendingPlan);
    else
      await deps.gcpClient.rejectPlanChange(
        providerId,
        entitlementId,
        entitlement.newPendingPlan,
        reason,
      );
  } else {
    throw new ConflictError(
      'nothing_to_decide',
      `Entitlement ${entitlementId} is ${entitlement.state}: nothing waits for a decision`,
    );
  }
  const ingest = await internal(
    deps,
    {
      kind: 'gcp-decision',
      providerId,
      entitlementId,
      decision: input.decision,
      at: deps.clock.now(),
    },
    `decision:${entitlementId}:${entitlement.updateTime ?? ''}:${input.decision}`,
    input.by,
  );
  return { entitlementId, action, ingest };
}

/** A payload file for `agora replay`: a Pub/Sub push envelope or one of our GCP inlet bodies. */
export function gcpEnvelopeForReplay(body: unknown, receivedAt: string): RawEnvelope | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  const replay = (providerMessageId: string): RawEnvelope => ({
    marketplace: 'gcp',
    channel: 'operator-replay',
    providerMessageId,
    receivedAt,
    headers: {},
    body: JSON.stringify(body),
    authenticatedAs: 'operator:replay',
  });
  if (typeof record.message === 'object' && record.message !== null && 'data' in record.message) {
    const decoded = decodeEnvelope(body);
    return replay(
      'message' in decoded ? decoded.message.eventId : `sha256:${sha256Hex(JSON.stringify(body))}`,
    );
  }
  if (record.kind === 'gcp-signup' && typeof record.accountId === 'string')
    return replay(`signup:${String(record.providerId)}:${record.accountId}`);
  return null;
}
