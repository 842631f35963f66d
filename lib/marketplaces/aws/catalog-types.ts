/**
 * The AWS Marketplace Catalog API shapes Agora sends and reads (API version 2018-09-17), kept
 * apart from the SDK types so the pure change-set builders need no SDK import.
 */

export const CATALOG = 'AWSMarketplace';
export const OFFER_ENTITY_TYPE = 'Offer@1.0';
export const RESALE_AUTHORIZATION_ENTITY_TYPE = 'ResaleAuthorization@1.0';

/** One change of a StartChangeSet request (`DetailsDocument` is sent as a JSON object). */
export interface CatalogChange {
  readonly ChangeType: string;
  readonly ChangeName?: string;
  readonly Entity: { readonly Type: string; readonly Identifier?: string };
  readonly DetailsDocument: Record<string, unknown>;
}

export type ChangeSetStatus = 'PREPARING' | 'APPLYING' | 'SUCCEEDED' | 'CANCELLED' | 'FAILED';

export interface ChangeSetDescription {
  readonly changeSetId: string;
  readonly changeSetArn: string | null;
  readonly status: ChangeSetStatus;
  /** CLIENT_ERROR: fix the request (see each change's errors); SERVER_FAULT: retry. */
  readonly failureCode: 'CLIENT_ERROR' | 'SERVER_FAULT' | null;
  readonly failureDescription: string | null;
  readonly startTime: string | null;
  readonly endTime: string | null;
  readonly changes: readonly {
    readonly changeType: string;
    readonly changeName: string | null;
    readonly entityType: string | null;
    readonly entityId: string | null;
    readonly errors: readonly { readonly code: string; readonly message: string }[];
  }[];
}

export interface EntityDescription {
  readonly entityId: string;
  readonly entityType: string;
  readonly entityArn: string | null;
  readonly lastModified: string | null;
  readonly details: Record<string, unknown>;
}

/** The Catalog API operations Agora calls, per seller account. */
export interface AwsCatalogGateway {
  /** Starts a change set; the same `clientRequestToken` twice gives the same change set. */
  startChangeSet(input: {
    readonly changes: readonly CatalogChange[];
    readonly clientRequestToken: string;
    readonly changeSetName: string;
  }): Promise<{ changeSetId: string; changeSetArn: string | null }>;
  describeChangeSet(changeSetId: string): Promise<ChangeSetDescription | null>;
  describeEntity(entityId: string): Promise<EntityDescription | null>;
}
