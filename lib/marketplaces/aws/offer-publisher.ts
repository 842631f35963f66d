/**
 * Publishes private offers on AWS Marketplace: a valid offer document becomes one Catalog API
 * change set (an Offer, or a ResaleAuthorization for a channel partner), started in the seller
 * account that owns the product, and is followed through DescribeChangeSet / DescribeEntity.
 */
import type { OfferChangeStatus, OfferPublisher } from '../../app/ports';
import type { OfferDocument } from '../../domain/offers/offer-document';
import type { AwsCatalogGatewayRegistry } from './catalog-gateway';
import {
  type AwsCatalogGateway,
  type EntityDescription,
  OFFER_ENTITY_TYPE,
  RESALE_AUTHORIZATION_ENTITY_TYPE,
} from './catalog-types';
import type { AwsMarketplaceSettings } from './config';
import { buildAwsOfferChangeSet, buildAwsResaleAuthorizationChangeSet } from './offer-change-set';

/** The seller account whose configuration lists the product (else the first one). */
function gatewayFor(
  registry: AwsCatalogGatewayRegistry,
  settings: AwsMarketplaceSettings,
  productId: string,
): AwsCatalogGateway {
  const owner =
    settings.accounts.find((a) => a.products.some((p) => p.productId === productId)) ??
    settings.accounts[0] ??
    null;
  return registry.forAccount(owner);
}

/** AvailabilityEndDate as a calendar date, wherever the entity keeps it. */
function expiryOf(entity: EntityDescription): string | null {
  const details = entity.details as {
    Rules?: { Type?: string; AvailabilityEndDate?: string }[];
    AvailabilityEndDate?: string;
  };
  const rule = details.Rules?.find((r) => r.Type === 'AvailabilityRule');
  const value = rule?.AvailabilityEndDate ?? details.AvailabilityEndDate ?? null;
  return value ? value.slice(0, 10) : null;
}

export class AwsOfferPublisher implements OfferPublisher {
  constructor(
    private readonly registry: AwsCatalogGatewayRegistry,
    private readonly settings: AwsMarketplaceSettings,
  ) {}

  async publish(
    document: OfferDocument,
    request: { readonly clientRequestToken: string; readonly name: string },
  ): Promise<{ entityType: string; changeSetId: string }> {
    const resale = document.reseller !== undefined;
    const started = await gatewayFor(
      this.registry,
      this.settings,
      document.productId,
    ).startChangeSet({
      changes: resale
        ? buildAwsResaleAuthorizationChangeSet(document)
        : buildAwsOfferChangeSet(document),
      clientRequestToken: request.clientRequestToken,
      changeSetName: request.name,
    });
    return {
      entityType: resale ? RESALE_AUTHORIZATION_ENTITY_TYPE : OFFER_ENTITY_TYPE,
      changeSetId: started.changeSetId,
    };
  }

  async status(document: OfferDocument, changeSetId: string): Promise<OfferChangeStatus | null> {
    const gateway = gatewayFor(this.registry, this.settings, document.productId);
    const described = await gateway.describeChangeSet(changeSetId);
    if (!described) return null;
    // The entity the set's Create* change made (its first change).
    const created = described.changes.find((c) => c.changeType.startsWith('Create'));
    const entityId = created?.entityId ?? null;
    const failure =
      described.status === 'FAILED'
        ? {
            code: described.failureCode ?? 'FAILED',
            description: described.failureDescription ?? '',
            errors: described.changes.flatMap((c) =>
              c.errors.map((e) => ({ change: c.changeType, code: e.code, message: e.message })),
            ),
          }
        : null;
    let expiresOn: string | null = null;
    if (described.status === 'SUCCEEDED' && entityId) {
      const entity = await gateway.describeEntity(entityId);
      expiresOn = entity ? expiryOf(entity) : null;
    }
    return {
      status: described.status,
      entityId,
      failure,
      serverFault: described.failureCode === 'SERVER_FAULT',
      expiresOn,
    };
  }
}
