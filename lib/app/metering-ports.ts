/**
 * The metering gateway port: one marketplace's usage-reporting API, as the hourly flush sees it.
 * Each report is one (contract, dimension, hour) total — the exact sum of that hour's distinct
 * accepted records — with a deterministic id, so a repeated report is recognisably the same one.
 */
import type { Marketplace } from '../domain/schemas/primitives';

/** Who is metered, in the marketplace's own terms (from the contract's refs and terms). */
export type MeteringCustomer =
  | {
      readonly marketplace: 'aws';
      readonly productCode: string;
      /** Concurrent agreements and products from 2026-06-01: account + license. */
      readonly customerAwsAccountId: string | null;
      readonly licenseArn: string | null;
      /** Older products: the legacy customer identifier. */
      readonly customerIdentifier: string | null;
    }
  | {
      readonly marketplace: 'azure';
      /** The SaaS subscription id (`resourceId` of a usage event). */
      readonly subscriptionId: string;
      readonly planId: string;
    }
  | {
      readonly marketplace: 'gcp';
      readonly providerId: string;
      /** The service name usage is reported to (the product's `*.endpoints.*.cloud.goog`). */
      readonly serviceName: string;
      /** `usageReportingId` of the entitlement: the Service Control consumer id. */
      readonly usageReportingId: string;
    };

export interface MeteringReport {
  /** Deterministic: hash(contractId, dimension, hourStart). */
  readonly reportId: string;
  readonly contractId: string;
  readonly dimension: string;
  /** ISO instant of the hour's start (UTC); AWS dedupes on it, so it is always the hour start. */
  readonly hourStart: string;
  /** Exact decimal string; AWS takes integers (may be 0), Azure > 0. */
  readonly quantity: string;
  readonly customer: MeteringCustomer;
}

export type MeteringOutcome =
  | { readonly kind: 'accepted'; readonly reportId: string; readonly marketplaceRef: string | null }
  /** The marketplace already had it (AWS DuplicateRecord, Azure 409): counts as reported. */
  | {
      readonly kind: 'duplicate';
      readonly reportId: string;
      readonly marketplaceRef: string | null;
    }
  /** Final: the marketplace refuses it (reason kept on the hour's ledger line). */
  | { readonly kind: 'rejected'; readonly reportId: string; readonly reason: string }
  /** Not processed this time (AWS UnprocessedRecords, throttled part): retried by a later flush. */
  | { readonly kind: 'unprocessed'; readonly reportId: string; readonly reason: string };

export interface MeteringGateway {
  readonly marketplace: Marketplace;
  /** Reports per call (25 on AWS and Azure). */
  readonly batchSize: number;
  /**
   * One outcome per report, in any order. Throws MarketplaceUnavailableError when the whole call
   * failed after bounded retries (the flush leaves every report pending for the next run).
   */
  report(batch: readonly MeteringReport[]): Promise<MeteringOutcome[]>;
}
