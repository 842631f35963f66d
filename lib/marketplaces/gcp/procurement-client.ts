/**
 * The Partner Procurement API v1 (cloudcommerceprocurement.googleapis.com): accounts and
 * entitlements, read and approved. REST with a bearer token from an injected provider (a
 * service-account token in AWS, a fixed token against the local simulator).
 */
import { z } from 'zod';
import { MarketplaceUnavailableError, PermanentSyncError } from '../../app/errors';
import { requestJson } from '../../outbound/http-json';
import type { GcpMarketplaceSettings } from './config';

export const GCP_LIST_PAGES_MAX = 20;
export const GCP_PAGE_SIZE = 100;

// unverified: field names from the googleapis cloudcommerceprocurement v1 Node types, kept lenient.
export const GcpAccountSchema = z.looseObject({
  name: z.string().min(1),
  provider: z.string().nullish(),
  state: z.string().nullish(),
  approvals: z
    .array(
      z.looseObject({
        name: z.string(),
        state: z.string(),
        reason: z.string().nullish(),
        updateTime: z.string().nullish(),
      }),
    )
    .default([]),
  createTime: z.string().nullish(),
  updateTime: z.string().nullish(),
});
export type GcpAccount = z.infer<typeof GcpAccountSchema>;

export const GcpEntitlementSchema = z.looseObject({
  name: z.string().min(1),
  account: z.string().min(1),
  provider: z.string().nullish(),
  product: z.string().nullish(),
  productExternalName: z.string().nullish(),
  plan: z.string().nullish(),
  state: z.string().min(1),
  offer: z.string().nullish(),
  offerDuration: z.string().nullish(),
  offerEndTime: z.string().nullish(),
  newPendingPlan: z.string().nullish(),
  newPendingOffer: z.string().nullish(),
  newOfferStartTime: z.string().nullish(),
  newOfferEndTime: z.string().nullish(),
  subscriptionEndTime: z.string().nullish(),
  cancellationReason: z.string().nullish(),
  usageReportingId: z.string().nullish(),
  createTime: z.string().nullish(),
  updateTime: z.string().nullish(),
});
export type GcpEntitlement = z.infer<typeof GcpEntitlementSchema>;

export type GcpTokenProvider = () => Promise<string>;

export function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

export class GcpProcurementClient {
  constructor(
    private readonly settings: GcpMarketplaceSettings,
    private readonly token: GcpTokenProvider,
  ) {}

  private async call(method: string, path: string, operation: string, body?: unknown) {
    return requestJson(
      `${this.settings.procurementBaseUrl}/v1/${path}`,
      {
        method,
        headers: { authorization: `Bearer ${await this.token()}` },
        ...(body !== undefined ? { body } : {}),
      },
      { operation },
    );
  }

  private check(status: number, operation: string, body: unknown): void {
    if (status >= 200 && status < 300) return;
    if (status === 400 || status === 409) {
      throw new PermanentSyncError(
        'gcp_precondition',
        `${operation} refused: ${JSON.stringify(body).slice(0, 300)}`,
      );
    }
    throw new MarketplaceUnavailableError(`${operation} answered HTTP ${status}`);
  }

  async getEntitlement(providerId: string, entitlementId: string): Promise<GcpEntitlement | null> {
    const response = await this.call(
      'GET',
      `providers/${providerId}/entitlements/${encodeURIComponent(entitlementId)}`,
      'GetEntitlement',
    );
    if (response.status === 404) return null;
    this.check(response.status, 'GetEntitlement', response.body);
    return GcpEntitlementSchema.parse(response.body);
  }

  async getAccount(providerId: string, accountId: string): Promise<GcpAccount | null> {
    const response = await this.call(
      'GET',
      `providers/${providerId}/accounts/${encodeURIComponent(accountId)}`,
      'GetAccount',
    );
    if (response.status === 404) return null;
    this.check(response.status, 'GetAccount', response.body);
    return GcpAccountSchema.parse(response.body);
  }

  /** Entitlements of one account (bounded pages). */
  async listEntitlements(providerId: string, accountId: string): Promise<GcpEntitlement[]> {
    const out: GcpEntitlement[] = [];
    let pageToken = '';
    for (let page = 0; page < GCP_LIST_PAGES_MAX; page += 1) {
      const query = new URLSearchParams({
        filter: `account=${accountId}`,
        pageSize: String(GCP_PAGE_SIZE),
        ...(pageToken ? { pageToken } : {}),
      });
      const response = await this.call(
        'GET',
        `providers/${providerId}/entitlements?${query}`,
        'ListEntitlements',
      );
      this.check(response.status, 'ListEntitlements', response.body);
      const body = z
        .looseObject({
          entitlements: z.array(z.unknown()).default([]),
          nextPageToken: z.string().nullish(),
        })
        .parse(response.body ?? {});
      for (const item of body.entitlements) {
        const parsed = GcpEntitlementSchema.safeParse(item);
        if (parsed.success) out.push(parsed.data);
      }
      if (!body.nextPageToken) break;
      pageToken = body.nextPageToken;
    }
    return out;
  }

  async approveAccount(providerId: string, accountId: string): Promise<void> {
    const response = await this.call(
      'POST',
      `providers/${providerId}/accounts/${encodeURIComponent(accountId)}:approve`,
      'ApproveAccount',
      { approvalName: 'signup', reason: 'signed up through the seller' },
    );
    this.check(response.status, 'ApproveAccount', response.body);
  }

  async approveEntitlement(providerId: string, entitlementId: string): Promise<void> {
    const response = await this.call(
      'POST',
      `providers/${providerId}/entitlements/${encodeURIComponent(entitlementId)}:approve`,
      'ApproveEntitlement',
      {},
    );
    this.check(response.status, 'ApproveEntitlement', response.body);
  }

  async rejectEntitlement(
    providerId: string,
    entitlementId: string,
    reason: string,
  ): Promise<void> {
    const response = await this.call(
      'POST',
      `providers/${providerId}/entitlements/${encodeURIComponent(entitlementId)}:reject`,
      'RejectEntitlement',
      { reason },
    );
    this.check(response.status, 'RejectEntitlement', response.body);
  }

  async approvePlanChange(
    providerId: string,
    entitlementId: string,
    pendingPlanName: string,
  ): Promise<void> {
    const response = await this.call(
      'POST',
      `providers/${providerId}/entitlements/${encodeURIComponent(entitlementId)}:approvePlanChange`,
      'ApprovePlanChange',
      { pendingPlanName },
    );
    this.check(response.status, 'ApprovePlanChange', response.body);
  }

  async rejectPlanChange(
    providerId: string,
    entitlementId: string,
    pendingPlanName: string,
    reason: string,
  ): Promise<void> {
    const response = await this.call(
      'POST',
      `providers/${providerId}/entitlements/${encodeURIComponent(entitlementId)}:rejectPlanChange`,
      'RejectPlanChange',
      { pendingPlanName, reason },
    );
    this.check(response.status, 'RejectPlanChange', response.body);
  }
}
