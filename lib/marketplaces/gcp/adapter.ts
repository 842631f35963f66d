/**
 * Google Cloud through the shared pipeline. Every message is re-read from the Procurement API.
 * New entitlements of an account whose sign-up is not approved are parked (a pending contract
 * saying why) and resumed when the sign-up approval arrives; creation requests and plan changes
 * are approved by the provider's policy, or held for the seller's decision.
 */
import { PermanentSyncError } from '../../app/errors';
import type {
  ContractLookups,
  MarketplaceAdapter,
  ParsedNotification,
  SourceRead,
  StoredRawEnvelope,
} from '../../app/ports';
import type { ContractSnapshot } from '../../domain/contract';
import { type SourceContract, withRefs } from '../../domain/contract-lifecycle';
import { type GcpMarketplaceSettings, type GcpProviderConfig, providerById } from './config';
import { type GcpTrigger, parseGcpNotification } from './notifications';
import {
  type GcpAccount,
  type GcpEntitlement,
  type GcpProcurementClient,
  lastSegment,
} from './procurement-client';
import { gcpExternalId, signupApproved, sourceFromEntitlement } from './source';

export const PARKED_REASON = 'parked: waiting for the buyer to finish sign-up';
export const AWAITING_SELLER_REASON =
  'awaiting the seller: POST /v1/contracts/{id}/approve or /reject';

export class GcpMarketplaceAdapter implements MarketplaceAdapter<GcpTrigger> {
  readonly marketplace = 'gcp' as const;

  constructor(
    private readonly client: GcpProcurementClient,
    private readonly settings: GcpMarketplaceSettings,
  ) {}

  parse(raw: StoredRawEnvelope): ParsedNotification<GcpTrigger> {
    return parseGcpNotification(raw);
  }

  async read(trigger: GcpTrigger, lookups: ContractLookups): Promise<SourceRead> {
    const provider = providerById(this.settings, trigger.providerId);
    if (!provider)
      throw new PermanentSyncError(
        'gcp_provider_unknown',
        `Provider ${trigger.providerId} is not configured (AGORA_GCP_PROVIDERS)`,
      );
    if (trigger.kind === 'gcp-entitlement') {
      const entitlement = await this.client.getEntitlement(
        provider.providerId,
        trigger.entitlementId,
      );
      if (!entitlement) {
        if (trigger.eventType === 'ENTITLEMENT_DELETED')
          return this.deleted(trigger.entitlementId, lookups);
        return {
          kind: 'not-ready',
          reason: `entitlement ${trigger.entitlementId} not readable yet`,
        };
      }
      const account = await this.client.getAccount(
        provider.providerId,
        lastSegment(entitlement.account),
      );
      return { kind: 'contracts', contracts: [await this.settle(provider, entitlement, account)] };
    }
    // An account event or a sign-up: resume everything of that account.
    const account = await this.client.getAccount(provider.providerId, trigger.accountId);
    if (!account)
      return { kind: 'not-ready', reason: `account ${trigger.accountId} not readable yet` };
    const entitlements = await this.client.listEntitlements(provider.providerId, trigger.accountId);
    if (entitlements.length === 0)
      return { kind: 'nothing', reason: `account ${trigger.accountId} has no entitlements yet` };
    const identity = trigger.userIdentity ? { gcpUserIdentity: trigger.userIdentity } : {};
    const contracts: SourceContract[] = [];
    for (const entitlement of entitlements) {
      const source = await this.settle(provider, entitlement, account);
      contracts.push(withRefs(source, identity));
    }
    return { kind: 'contracts', contracts };
  }

  /** Applies the approval policy to a pending entitlement, then returns what it now is. */
  private async settle(
    provider: GcpProviderConfig,
    entitlement: GcpEntitlement,
    account: GcpAccount | null,
  ): Promise<SourceContract> {
    const entitlementId = lastSegment(entitlement.name);
    if (entitlement.state === 'ENTITLEMENT_ACTIVATION_REQUESTED') {
      if (!signupApproved(account))
        return sourceFromEntitlement(entitlement, { statusReason: PARKED_REASON });
      if (provider.entitlementApproval === 'manual')
        return sourceFromEntitlement(entitlement, { statusReason: AWAITING_SELLER_REASON });
      return this.act(provider, entitlementId, entitlement, () =>
        this.client.approveEntitlement(provider.providerId, entitlementId),
      );
    }
    if (
      entitlement.state === 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL' &&
      entitlement.newPendingPlan
    ) {
      if (provider.planChangeApproval === 'manual')
        return sourceFromEntitlement(entitlement, { statusReason: AWAITING_SELLER_REASON });
      const plan = entitlement.newPendingPlan;
      return this.act(provider, entitlementId, entitlement, () =>
        this.client.approvePlanChange(provider.providerId, entitlementId, plan),
      );
    }
    return sourceFromEntitlement(entitlement);
  }

  /** Performs an approval; if it lost a race (precondition), the fresh read decides. */
  private async act(
    provider: GcpProviderConfig,
    entitlementId: string,
    before: GcpEntitlement,
    action: () => Promise<void>,
  ): Promise<SourceContract> {
    try {
      await action();
    } catch (error) {
      if (!(error instanceof PermanentSyncError && error.code === 'gcp_precondition')) throw error;
    }
    const after = await this.client.getEntitlement(provider.providerId, entitlementId);
    return sourceFromEntitlement(after ?? before);
  }

  private async deleted(entitlementId: string, lookups: ContractLookups): Promise<SourceRead> {
    const [contractId] = await lookups.findByRef('gcp', 'entitlementId', entitlementId);
    const snapshot = contractId ? await lookups.get(contractId) : null;
    if (!snapshot)
      return { kind: 'nothing', reason: `entitlement ${entitlementId} deleted before we knew it` };
    return { kind: 'contracts', contracts: [deletedSource(entitlementId, snapshot)] };
  }
}

/** A deleted entitlement: the stored contract, ended unless it already is. */
function deletedSource(entitlementId: string, snapshot: ContractSnapshot): SourceContract {
  return {
    externalId: gcpExternalId(entitlementId),
    status:
      snapshot.status === 'expired' || snapshot.status === 'cancelled'
        ? snapshot.status
        : 'cancelled',
    statusReason: 'entitlement deleted',
    terms: snapshot.terms,
    refs: snapshot.refs,
    observedAt: snapshot.updatedAt,
    activatedOn: null,
    endedOn: null,
    replacesExternalId: null,
    facts: [],
    rebase: (current) => deletedSource(entitlementId, current),
  };
}
