/**
 * Co-sell sources: where partner touches come from outside Agora. AWS ACE opportunities are
 * pulled from Partner Central (`@aws-sdk/client-partnercentral-selling`); Microsoft and Google
 * referrals arrive through the API.
 */

/** One ACE opportunity, reduced to what attribution needs. */
export interface CoSellOpportunity {
  readonly opportunityId: string;
  /** The seller's own CRM id for the deal, when set (PartnerOpportunityIdentifier). */
  readonly partnerOpportunityIdentifier: string | null;
  /** ISO-8601 instants. */
  readonly createdAt: string;
  readonly lastModifiedAt: string;
  /** Lifecycle.Stage, e.g. Prospect … Launched, Closed Lost. */
  readonly stage: string | null;
  /** Lifecycle.ReviewStatus, e.g. Submitted, Approved, Rejected. */
  readonly reviewStatus: string | null;
  readonly targetCloseDate: string | null;
  readonly customer: {
    readonly companyName: string | null;
    readonly awsAccountId: string | null;
  };
  /** Marketplace offers associated with the opportunity (RelatedEntityIdentifiers). */
  readonly offerIds: readonly string[];
  /** AWS Marketplace products / solutions associated with it. */
  readonly productIds: readonly string[];
}

export interface CoSellOpportunityChange {
  readonly opportunityId: string;
  readonly lastModifiedAt: string;
}

export interface CoSellOpportunityPage {
  readonly items: readonly CoSellOpportunityChange[];
  readonly nextToken: string | null;
}

export interface CoSellOpportunitySource {
  /** Opportunities modified after `since` (all when null), oldest first where the API allows. */
  listChanged(since: string | null, nextToken: string | null): Promise<CoSellOpportunityPage>;
  /** One opportunity with its associations; null when it no longer exists. */
  get(opportunityId: string): Promise<CoSellOpportunity | null>;
}
