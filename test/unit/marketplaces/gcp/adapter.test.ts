// Proves the GCP adapter's policy with a fake Procurement client: sign-up parking, auto and manual approval of creations and plan changes, lost approval races, account-wide resumes, deletions and unknown providers.
import { describe, expect, it } from 'vitest';
import { MarketplaceUnavailableError, PermanentSyncError } from '../../../../lib/app/errors';
import type { ContractLookups, StoredRawEnvelope } from '../../../../lib/app/ports';
import type { ContractSnapshot } from '../../../../lib/domain/contract';
import {
  AWAITING_SELLER_REASON,
  GcpMarketplaceAdapter,
  PARKED_REASON,
} from '../../../../lib/marketplaces/gcp/adapter';
import type { GcpProviderConfig } from '../../../../lib/marketplaces/gcp/config';
import type { GcpTrigger } from '../../../../lib/marketplaces/gcp/notifications';
import type {
  GcpAccount,
  GcpEntitlement,
  GcpProcurementClient,
} from '../../../../lib/marketplaces/gcp/procurement-client';

const PROVIDER = 'prov-1';

type Policy = Pick<GcpProviderConfig, 'entitlementApproval' | 'planChangeApproval'>;

/** An in-memory Procurement API: approvals change the state as Google's would. */
class FakeProcurement {
  readonly calls: string[] = [];
  readonly entitlements = new Map<string, GcpEntitlement>();
  readonly accounts = new Map<string, GcpAccount>();
  /** Thrown by the next approval call instead of acting. */
  failNextApproval: Error | null = null;
  /** Applied (instead of the approval) when failNextApproval is set: the race's winner. */
  raceWinner: ((e: GcpEntitlement) => GcpEntitlement) | null = null;

  addAccount(id: string, signup: 'PENDING' | 'APPROVED' | null): void {
    this.accounts.set(id, {
      name: `providers/${PROVIDER}/accounts/${id}`,
      state: 'ACCOUNT_ACTIVE',
      approvals: signup ? [{ name: 'signup', state: signup }] : [],
    });
  }

  addEntitlement(id: string, accountId: string, overrides: Partial<GcpEntitlement> = {}): void {
    this.entitlements.set(id, {
      name: `providers/${PROVIDER}/entitlements/${id}`,
      account: `providers/${PROVIDER}/accounts/${accountId}`,
      provider: PROVIDER,
      product: 'agora-saas',
      plan: 'standard',
      state: 'ENTITLEMENT_ACTIVE',
      createTime: '2026-03-02T09:00:00Z',
      updateTime: '2026-03-02T09:00:00Z',
      ...overrides,
    });
  }

  private update(id: string, change: Partial<GcpEntitlement>): void {
    const current = this.entitlements.get(id);
    if (!current) throw new Error(`fake: no entitlement ${id}`);
    this.entitlements.set(id, { ...current, ...change, updateTime: '2026-03-05T00:00:00Z' });
  }

  private approval(id: string): boolean {
    const failure = this.failNextApproval;
    if (!failure) return true;
    this.failNextApproval = null;
    const current = this.entitlements.get(id);
    if (this.raceWinner && current) this.entitlements.set(id, this.raceWinner(current));
    throw failure;
  }

  readonly client = {
    getEntitlement: async (providerId: string, id: string) => {
      this.calls.push(`getEntitlement ${providerId} ${id}`);
      return this.entitlements.get(id) ?? null;
    },
    getAccount: async (providerId: string, id: string) => {
      this.calls.push(`getAccount ${providerId} ${id}`);
      return this.accounts.get(id) ?? null;
    },
    listEntitlements: async (providerId: string, accountId: string) => {
      this.calls.push(`listEntitlements ${providerId} ${accountId}`);
      return [...this.entitlements.values()].filter((e) => e.account.endsWith(`/${accountId}`));
    },
    approveAccount: async (providerId: string, id: string) => {
      this.calls.push(`approveAccount ${providerId} ${id}`);
    },
    approveEntitlement: async (providerId: string, id: string) => {
      this.calls.push(`approveEntitlement ${providerId} ${id}`);
      if (this.approval(id)) this.update(id, { state: 'ENTITLEMENT_ACTIVE' });
    },
    rejectEntitlement: async (providerId: string, id: string, reason: string) => {
      this.calls.push(`rejectEntitlement ${providerId} ${id} ${reason}`);
    },
    approvePlanChange: async (providerId: string, id: string, plan: string) => {
      this.calls.push(`approvePlanChange ${providerId} ${id} ${plan}`);
      if (this.approval(id))
        this.update(id, { state: 'ENTITLEMENT_ACTIVE', plan, newPendingPlan: null });
    },
    rejectPlanChange: async (providerId: string, id: string, plan: string, reason: string) => {
      this.calls.push(`rejectPlanChange ${providerId} ${id} ${plan} ${reason}`);
    },
  };

  approvals(): string[] {
    return this.calls.filter((c) => c.startsWith('approve') || c.startsWith('reject'));
  }
}

function adapterWith(fake: FakeProcurement, policy: Partial<Policy> = {}): GcpMarketplaceAdapter {
  const provider: GcpProviderConfig = {
    providerId: PROVIDER,
    pushAudience: 'aud',
    pushServiceAccount: 'push@example.iam.gserviceaccount.com',
    signupAudience: 'signup.example',
    entitlementApproval: policy.entitlementApproval ?? 'auto',
    planChangeApproval: policy.planChangeApproval ?? 'auto',
  };
  return new GcpMarketplaceAdapter(fake.client as unknown as GcpProcurementClient, {
    providers: [provider],
    procurementBaseUrl: 'http://procurement.invalid',
    oidcJwksUrl: 'http://jwks.invalid',
    signupJwksUrl: 'http://jwks.invalid',
    pubsubEndpoint: 'http://pubsub.invalid',
  });
}

function entitlementTrigger(id: string, eventType = 'ENTITLEMENT_ACTIVE'): GcpTrigger {
  return {
    kind: 'gcp-entitlement',
    groupKey: `gcp#entitlement:${id}`,
    description: `${eventType} for ${id}`,
    providerId: PROVIDER,
    entitlementId: id,
    eventType,
  };
}

function accountTrigger(id: string, userIdentity: string | null = null): GcpTrigger {
  return {
    kind: 'gcp-account',
    groupKey: `gcp#account:${id}`,
    description: `sign-up of ${id}`,
    providerId: PROVIDER,
    accountId: id,
    eventType: 'SIGNUP',
    userIdentity,
  };
}

const RAW: StoredRawEnvelope = {
  marketplace: 'gcp',
  channel: 'gcp-pubsub-push',
  providerMessageId: 'm',
  receivedAt: '2026-03-05T00:00:00Z',
  headers: {},
  body: '{}',
  authenticatedAs: null,
  rawId: 'raw_1',
  bodySha256: 'x',
  processedAt: null,
  outcome: null,
};

function lookups(snapshots: ContractSnapshot[] = []): ContractLookups {
  return {
    findByRef: async (marketplace, key, value) =>
      snapshots
        .filter((s) => s.marketplace === marketplace && s.refs[key] === value)
        .map((s) => s.contractId),
    get: async (id) => snapshots.find((s) => s.contractId === id) ?? null,
  };
}

async function readOne(adapter: GcpMarketplaceAdapter, trigger: GcpTrigger) {
  const read = await adapter.read(trigger, lookups());
  if (read.kind !== 'contracts') throw new Error(`expected contracts, got ${read.kind}`);
  expect(read.contracts).toHaveLength(1);
  const [contract] = read.contracts;
  if (!contract) throw new Error('no contract');
  return contract;
}

describe('GcpMarketplaceAdapter', () => {
  it('parses through parseGcpNotification', () => {
    const fake = new FakeProcurement();
    expect(adapterWith(fake).parse({ ...RAW, body: 'nope' })).toMatchObject({
      kind: 'invalid',
      reason: 'body is not JSON',
    });
  });

  it('parks a creation request while the account has not signed up, without approving', async () => {
    for (const signup of ['PENDING', null] as const) {
      const fake = new FakeProcurement();
      fake.addAccount('acct-1', signup);
      fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
      for (const entitlementApproval of ['auto', 'manual'] as const) {
        const contract = await readOne(
          adapterWith(fake, { entitlementApproval }),
          entitlementTrigger('ent-1', 'ENTITLEMENT_CREATION_REQUESTED'),
        );
        expect(contract).toMatchObject({ status: 'pending', statusReason: PARKED_REASON });
      }
      expect(fake.approvals(), String(signup)).toEqual([]);
    }
    // No account at all is treated the same way.
    const fake = new FakeProcurement();
    fake.addEntitlement('ent-1', 'acct-gone', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
    expect(await readOne(adapterWith(fake), entitlementTrigger('ent-1'))).toMatchObject({
      statusReason: PARKED_REASON,
    });
    expect(fake.approvals()).toEqual([]);
  });

  it('approves a creation request of a signed-up account (auto) and returns the fresh read', async () => {
    const fake = new FakeProcurement();
    fake.addAccount('acct-1', 'APPROVED');
    fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
    const contract = await readOne(adapterWith(fake), entitlementTrigger('ent-1'));
    expect(contract).toMatchObject({
      status: 'active',
      statusReason: null,
      observedAt: '2026-03-05T00:00:00Z',
    });
    expect(fake.calls).toEqual([
      `getEntitlement ${PROVIDER} ent-1`,
      `getAccount ${PROVIDER} acct-1`,
      `approveEntitlement ${PROVIDER} ent-1`,
      `getEntitlement ${PROVIDER} ent-1`,
    ]);
  });

  it('holds a creation request for the seller under manual approval', async () => {
    const fake = new FakeProcurement();
    fake.addAccount('acct-1', 'APPROVED');
    fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
    const contract = await readOne(
      adapterWith(fake, { entitlementApproval: 'manual', planChangeApproval: 'auto' }),
      entitlementTrigger('ent-1'),
    );
    expect(contract).toMatchObject({ status: 'pending', statusReason: AWAITING_SELLER_REASON });
    expect(fake.approvals()).toEqual([]);
  });

  it('approves a pending plan change (auto) with the pending plan, or holds it (manual)', async () => {
    const fake = new FakeProcurement();
    fake.addAccount('acct-1', 'APPROVED');
    const pending = {
      state: 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL',
      newPendingPlan: 'enterprise',
    };
    fake.addEntitlement('ent-1', 'acct-1', pending);
    const held = await readOne(
      adapterWith(fake, { entitlementApproval: 'auto', planChangeApproval: 'manual' }),
      entitlementTrigger('ent-1', 'ENTITLEMENT_PLAN_CHANGE_REQUESTED'),
    );
    expect(held).toMatchObject({
      status: 'active',
      statusReason: AWAITING_SELLER_REASON,
      terms: { plan: 'standard' },
      refs: { pendingPlan: 'enterprise' },
    });
    expect(fake.approvals()).toEqual([]);

    const approved = await readOne(adapterWith(fake), entitlementTrigger('ent-1'));
    expect(approved).toMatchObject({
      status: 'active',
      statusReason: null,
      terms: { plan: 'enterprise' },
    });
    expect(approved.refs).not.toHaveProperty('pendingPlan');
    expect(fake.approvals()).toEqual([`approvePlanChange ${PROVIDER} ent-1 enterprise`]);
  });

  it('leaves a plan-change state without a pending plan, and settled states, alone', async () => {
    const fake = new FakeProcurement();
    fake.addAccount('acct-1', 'APPROVED');
    fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL' });
    fake.addEntitlement('ent-2', 'acct-1', { state: 'ENTITLEMENT_SUSPENDED' });
    fake.addEntitlement('ent-3', 'acct-1', {
      state: 'ENTITLEMENT_PENDING_PLAN_CHANGE',
      newPendingPlan: 'x',
    });
    expect((await readOne(adapterWith(fake), entitlementTrigger('ent-1'))).status).toBe('active');
    expect((await readOne(adapterWith(fake), entitlementTrigger('ent-2'))).status).toBe(
      'suspended',
    );
    expect((await readOne(adapterWith(fake), entitlementTrigger('ent-3'))).status).toBe('active');
    expect(fake.approvals()).toEqual([]);
  });

  it('lets the fresh read decide when an approval loses a race (precondition)', async () => {
    const fake = new FakeProcurement();
    fake.addAccount('acct-1', 'APPROVED');
    fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
    // Meanwhile the buyer withdrew the order; Google refuses the approval.
    fake.failNextApproval = new PermanentSyncError(
      'gcp_precondition',
      'ApproveEntitlement refused',
    );
    fake.raceWinner = (e) => ({
      ...e,
      state: 'ENTITLEMENT_CANCELLED',
      updateTime: '2026-03-04T00:00:00Z',
    });
    const contract = await readOne(adapterWith(fake), entitlementTrigger('ent-1'));
    expect(contract).toMatchObject({ status: 'cancelled', endedOn: '2026-03-04' });
  });

  it('lets other approval failures through so the sync is retried or dead-lettered', async () => {
    for (const failure of [
      new MarketplaceUnavailableError('ApproveEntitlement answered HTTP 503'),
      new PermanentSyncError('gcp_forbidden', 'no access'),
    ]) {
      const fake = new FakeProcurement();
      fake.addAccount('acct-1', 'APPROVED');
      fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
      fake.failNextApproval = failure;
      await expect(adapterWith(fake).read(entitlementTrigger('ent-1'), lookups())).rejects.toBe(
        failure,
      );
    }
  });

  it('falls back to what it read before when the entitlement vanishes after an approval', async () => {
    const fake = new FakeProcurement();
    fake.addAccount('acct-1', 'APPROVED');
    fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
    fake.client.approveEntitlement = async () => {
      fake.entitlements.delete('ent-1');
    };
    const contract = await readOne(adapterWith(fake), entitlementTrigger('ent-1'));
    expect(contract).toMatchObject({ externalId: 'entitlement/ent-1', status: 'pending' });
  });

  it('is not ready while the entitlement or the account is not readable', async () => {
    const fake = new FakeProcurement();
    const adapter = adapterWith(fake);
    expect(await adapter.read(entitlementTrigger('ent-x'), lookups())).toEqual({
      kind: 'not-ready',
      reason: 'entitlement ent-x not readable yet',
    });
    expect(await adapter.read(accountTrigger('acct-x'), lookups())).toEqual({
      kind: 'not-ready',
      reason: 'account acct-x not readable yet',
    });
    fake.addAccount('acct-empty', 'APPROVED');
    expect(await adapter.read(accountTrigger('acct-empty'), lookups())).toEqual({
      kind: 'nothing',
      reason: 'account acct-empty has no entitlements yet',
    });
  });

  it('resumes every entitlement of an account, with the signed-up user identity', async () => {
    const fake = new FakeProcurement();
    fake.addAccount('acct-1', 'APPROVED');
    fake.addEntitlement('ent-1', 'acct-1', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
    fake.addEntitlement('ent-2', 'acct-1', { state: 'ENTITLEMENT_CANCELLED' });
    fake.addEntitlement('ent-3', 'acct-2', { state: 'ENTITLEMENT_ACTIVATION_REQUESTED' });
    const read = await adapterWith(fake).read(accountTrigger('acct-1', '1234'), lookups());
    expect(read.kind).toBe('contracts');
    if (read.kind !== 'contracts') return;
    expect(read.contracts.map((c) => [c.externalId, c.status, c.refs.gcpUserIdentity])).toEqual([
      ['entitlement/ent-1', 'active', '1234'],
      ['entitlement/ent-2', 'cancelled', '1234'],
    ]);
    expect(fake.approvals()).toEqual([`approveEntitlement ${PROVIDER} ent-1`]);
    const anonymous = await adapterWith(fake).read(accountTrigger('acct-1'), lookups());
    expect(anonymous.kind === 'contracts' && anonymous.contracts[0]?.refs).not.toHaveProperty(
      'gcpUserIdentity',
    );
  });

  it('cancels a known contract whose entitlement was deleted, and ignores unknown ones', async () => {
    const fake = new FakeProcurement();
    const adapter = adapterWith(fake);
    expect(
      await adapter.read(entitlementTrigger('ent-gone', 'ENTITLEMENT_DELETED'), lookups()),
    ).toEqual({ kind: 'nothing', reason: 'entitlement ent-gone deleted before we knew it' });

    const snapshot = (status: ContractSnapshot['status']): ContractSnapshot => {
      const base = {
        schemaVersion: 1 as const,
        contractId: 'ct_gone',
        marketplace: 'gcp' as const,
        externalId: 'entitlement/ent-gone',
        version: 3,
        status,
        statusReason: null,
        sourceVersion: 'v',
        updatedAt: '2026-03-04T00:00:00Z',
        replacesContractId: null,
        replacedByContractId: null,
        attributionVersion: null,
        refs: { entitlementId: 'ent-gone', accountId: 'acct-1', providerId: PROVIDER },
      };
      const terms = {
        productId: 'p',
        offerId: null,
        offerType: 'public' as const,
        plan: 'standard',
        quantity: null,
        buyer: { accountId: 'acct-1', name: null },
        currency: 'USD',
        term: { start: '2026-03-02', end: null },
        trialEnd: null,
        renewal: false,
        fixedCharges: [],
        grants: [],
        usageRates: [],
        installments: [],
        reseller: null,
      };
      return { ...base, terms } as ContractSnapshot;
    };
    for (const [status, expected] of [
      ['active', 'cancelled'],
      ['pending', 'cancelled'],
      ['expired', 'expired'],
      ['cancelled', 'cancelled'],
    ] as const) {
      const known = snapshot(status);
      const read = await adapter.read(
        entitlementTrigger('ent-gone', 'ENTITLEMENT_DELETED'),
        lookups([known]),
      );
      expect(read.kind === 'contracts' && read.contracts[0], status).toMatchObject({
        externalId: 'entitlement/ent-gone',
        status: expected,
        statusReason: 'entitlement deleted',
        terms: known.terms,
        refs: known.refs,
      });
      // Built from the stored contract: rebuilt from a newer one, it carries the newer terms.
      const source = read.kind === 'contracts' ? read.contracts[0] : undefined;
      const newer = { ...known, version: 4, terms: { ...known.terms, plan: 'premium' } };
      expect(source?.rebase?.(newer)).toMatchObject({ status: expected, terms: newer.terms });
    }
    // Any other event for an unreadable entitlement waits for it.
    expect(
      (
        await adapter.read(
          entitlementTrigger('ent-gone', 'ENTITLEMENT_ACTIVE'),
          lookups([snapshot('active')]),
        )
      ).kind,
    ).toBe('not-ready');
  });

  it('refuses a provider that is not configured, permanently', async () => {
    const fake = new FakeProcurement();
    const read = adapterWith(fake).read(
      { ...entitlementTrigger('ent-1'), providerId: 'someone-else' },
      lookups(),
    );
    await expect(read).rejects.toBeInstanceOf(PermanentSyncError);
    await expect(read).rejects.toMatchObject({ code: 'gcp_provider_unknown' });
    expect(fake.calls).toEqual([]);
  });
});
