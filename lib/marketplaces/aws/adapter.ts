/**
 * AWS Marketplace through the shared pipeline: which source to re-read for each notification,
 * and what counts as "not ready yet" (retried, then dead-lettered) versus "nothing to do".
 *
 *  - Agreement events → DescribeAgreement + GetAgreementTerms + GetAgreementEntitlements (the
 *    entitlement names the LicenseArn the contract keys on). A CPPO agreement is not readable by
 *    the ISV: its License event creates the contract from GetEntitlements.
 *  - License events → the agreement if readable, else GetEntitlements by LicenseArn.
 *  - SNS messages (legacy, keyed by CustomerIdentifier) → GetEntitlements for legacy products;
 *    for license-keyed products only a hint to re-read the contracts already linked.
 *  - Registrations (ResolveCustomer) → link the CustomerIdentifier to the license's contract.
 *  - Billing adjustments → a RefundIssued fact on the agreement's contract.
 */
import type {
  ContractLookups,
  MarketplaceAdapter,
  ParsedNotification,
  SourceRead,
  StoredRawEnvelope,
} from '../../app/ports';
import { dateOfInstant } from '../../domain/calendar';
import type { ContractSnapshot } from '../../domain/contract';
import { changedSource, type SourceContract, withRefs } from '../../domain/contract-lifecycle';
import { absBigint, parseMajorAmount } from '../../domain/money';
import { type AwsMarketplaceSettings, accountById, productByCode } from './config';
import {
  AwsAccessDeniedError,
  type AwsGatewayRegistry,
  type AwsMarketplaceGateway,
} from './gateway';
import { type AwsTrigger, licenseIdOf, parseAwsNotification } from './notifications';
import {
  customerExternalId,
  isCreationIntent,
  licenseExternalId,
  licenseOfAgreement,
  sourceFromAgreement,
  sourceFromEntitlements,
  sourceFromSnapshot,
} from './source';

export class AwsMarketplaceAdapter implements MarketplaceAdapter<AwsTrigger> {
  readonly marketplace = 'aws' as const;

  constructor(
    private readonly gateways: AwsGatewayRegistry,
    private readonly settings: AwsMarketplaceSettings,
    private readonly now: () => string,
  ) {}

  parse(raw: StoredRawEnvelope): ParsedNotification<AwsTrigger> {
    return parseAwsNotification(raw);
  }

  async read(trigger: AwsTrigger, lookups: ContractLookups): Promise<SourceRead> {
    switch (trigger.kind) {
      case 'aws-agreement':
        return this.readAgreement(trigger, lookups);
      case 'aws-license':
        return this.readLicense(trigger, lookups);
      case 'aws-billing-adjustment':
        return this.readBillingAdjustment(trigger, lookups);
      case 'aws-customer':
        return this.readCustomer(trigger, lookups);
      case 'aws-registration':
        return this.readRegistration(trigger, lookups);
    }
  }

  private gatewayFor(
    sellerAccountId: string | null,
    productCode?: string | null,
  ): AwsMarketplaceGateway {
    const byProduct = productCode ? productByCode(this.settings, productCode) : null;
    return this.gateways.forAccount(
      byProduct?.account ?? accountById(this.settings, sellerAccountId),
    );
  }

  private productCodeOf(productId: string | null): string | null {
    if (!productId) return null;
    for (const account of this.settings.accounts) {
      const product = account.products.find((p) => p.productId === productId);
      if (product) return product.productCode;
    }
    return null;
  }

  /**
   * The external id of another agreement's contract (what a renewal replaces): from our store if
   * we have it, else from that agreement's own entitlement, so the link does not depend on which
   * contract was synced first.
   */
  private async externalIdOfAgreement(
    agreementId: string | null,
    lookups: ContractLookups,
    gateway: AwsMarketplaceGateway,
  ): Promise<string | null> {
    if (!agreementId) return null;
    const [contractId] = await lookups.findByRef('aws', 'agreementId', agreementId);
    const known = contractId ? ((await lookups.get(contractId))?.externalId ?? null) : null;
    if (known) return known;
    try {
      const previous = await gateway.readAgreement(agreementId);
      const productId = previous?.agreement.proposalSummary?.resources?.[0]?.id ?? null;
      const licenseArn = previous ? licenseOfAgreement(previous.entitlements, productId) : null;
      return licenseArn ? licenseExternalId(licenseArn) : null;
    } catch (error) {
      if (error instanceof AwsAccessDeniedError) return null;
      throw error;
    }
  }

  private async readAgreement(
    trigger: Extract<AwsTrigger, { kind: 'aws-agreement' }>,
    lookups: ContractLookups,
  ): Promise<SourceRead> {
    const gateway = this.gatewayFor(trigger.sellerAccountId);
    let read: Awaited<ReturnType<AwsMarketplaceGateway['readAgreement']>>;
    try {
      read = await gateway.readAgreement(trigger.agreementId);
    } catch (error) {
      if (error instanceof AwsAccessDeniedError) {
        return {
          kind: 'nothing',
          reason:
            'agreement not readable by this seller account (CPPO); its License event creates the contract',
        };
      }
      throw error;
    }
    if (!read)
      return { kind: 'not-ready', reason: `agreement ${trigger.agreementId} not found yet` };
    const productId = read.agreement.proposalSummary?.resources?.[0]?.id ?? null;
    const licenseArn = licenseOfAgreement(read.entitlements, productId);
    if (!licenseArn)
      return {
        kind: 'not-ready',
        reason: `agreement ${trigger.agreementId} has no provisioned license yet`,
      };
    // An AMEND keeps how the agreement began (a renewal stays a renewal for its fee).
    const creation = isCreationIntent(trigger.intent);
    const stored = creation ? null : await this.snapshotByLicense(licenseArn, lookups);
    const replacesExternalId = await this.externalIdOfAgreement(
      trigger.previousAgreementId,
      lookups,
      gateway,
    );
    const now = this.now();
    const build = (snapshot: ContractSnapshot | null) =>
      sourceFromAgreement(read, {
        licenseArn,
        productCode: this.productCodeOf(productId),
        productId,
        intent: creation ? trigger.intent : (snapshot?.refs.intent ?? null),
        previousAgreementId: trigger.previousAgreementId,
        replacesExternalId,
        resaleAuthorizationId: trigger.resaleAuthorizationId,
        now,
      });
    return { kind: 'contracts', contracts: [withCopiedFacts(build, stored)] };
  }

  private async readLicense(
    trigger: Extract<AwsTrigger, { kind: 'aws-license' }>,
    lookups: ContractLookups,
  ): Promise<SourceRead> {
    const gateway = this.gatewayFor(trigger.sellerAccountId, trigger.productCode);
    try {
      const read = await gateway.readAgreement(trigger.agreementId);
      if (!read)
        return { kind: 'not-ready', reason: `agreement ${trigger.agreementId} not found yet` };
      const existing = await this.snapshotByLicense(trigger.licenseArn, lookups);
      const replacesExternalId = await this.externalIdOfAgreement(
        existing?.refs.previousAgreementId ?? null,
        lookups,
        gateway,
      );
      const now = this.now();
      const build = (snapshot: ContractSnapshot | null) =>
        sourceFromAgreement(read, {
          licenseArn: trigger.licenseArn,
          productCode: trigger.productCode,
          productId: trigger.productId,
          intent: snapshot?.refs.intent ?? null,
          previousAgreementId: snapshot?.refs.previousAgreementId ?? null,
          replacesExternalId,
          resaleAuthorizationId: snapshot?.terms.reseller?.resaleAuthorizationId ?? null,
          now,
        });
      return { kind: 'contracts', contracts: [withCopiedFacts(build, existing)] };
    } catch (error) {
      if (!(error instanceof AwsAccessDeniedError)) throw error;
    }
    // CPPO: the ISV cannot read the agreement; entitlements are its source of truth.
    const existing = await this.snapshotByLicense(trigger.licenseArn, lookups);
    const entitlements = await gateway.getEntitlements(trigger.productCode, {
      licenseArn: trigger.licenseArn,
    });
    const source = sourceFromEntitlements(entitlements, {
      externalId: licenseExternalId(trigger.licenseArn),
      productCode: trigger.productCode,
      productId: trigger.productId,
      buyerAccountId: trigger.buyerAccountId,
      observedAt: trigger.observedAt,
      termStart: existing?.terms.term.start ?? dateOfInstant(trigger.observedAt),
      refs: {
        agreementId: trigger.agreementId,
        licenseArn: trigger.licenseArn,
        license: licenseIdOf(trigger.licenseArn),
      },
      reseller: existing?.terms.reseller ?? {
        partnerId: null,
        resaleAuthorizationId: null,
        wholesaleMinor: null,
        buyerPriceMinor: null,
      },
      now: this.now(),
    });
    if (source && !trigger.deprovisioned) return { kind: 'contracts', contracts: [source] };
    if (trigger.deprovisioned && (source || existing)) {
      const base = source ?? sourceFromSnapshot(existing as ContractSnapshot, []);
      return {
        kind: 'contracts',
        contracts: [endedSource(base, 'license deprovisioned', trigger.observedAt)],
      };
    }
    return {
      kind: 'not-ready',
      reason: `GetEntitlements returned no entitlements for ${licenseIdOf(trigger.licenseArn)} yet`,
    };
  }

  private async readBillingAdjustment(
    trigger: Extract<AwsTrigger, { kind: 'aws-billing-adjustment' }>,
    lookups: ContractLookups,
  ): Promise<SourceRead> {
    const [contractId] = await lookups.findByRef('aws', 'agreementId', trigger.agreementId);
    const snapshot = contractId ? await lookups.get(contractId) : null;
    if (!snapshot)
      return { kind: 'not-ready', reason: `no contract for agreement ${trigger.agreementId} yet` };
    // The adjustment is the amount the seller authorized (finance rule 8), in its own currency.
    const amountMinor = absBigint(
      parseMajorAmount(trigger.amount.trim().replace(/^[+-]/, ''), trigger.currency),
    );
    return {
      kind: 'contracts',
      contracts: [
        sourceFromSnapshot(snapshot, [
          {
            type: 'RefundIssued',
            sourceVersion: trigger.adjustmentId,
            occurredAt: trigger.observedAt,
            effectiveAt: dateOfInstant(trigger.observedAt),
            payload: {
              refundId: trigger.adjustmentId,
              currency: trigger.currency,
              amountMinor,
              reason: trigger.reasonCode,
            },
          },
        ]),
      ],
    };
  }

  private async readCustomer(
    trigger: Extract<AwsTrigger, { kind: 'aws-customer' }>,
    lookups: ContractLookups,
  ): Promise<SourceRead> {
    const customerRef = `${trigger.productCode}/${trigger.customerIdentifier}`;
    const product = productByCode(this.settings, trigger.productCode);
    if (product?.product.identity === 'customer') {
      const gateway = this.gatewayFor(null, trigger.productCode);
      const entitlements = await gateway.getEntitlements(trigger.productCode, {
        customerIdentifier: trigger.customerIdentifier,
      });
      const [existingId] = await lookups.findByRef('aws', 'customer', customerRef);
      const existing = existingId ? await lookups.get(existingId) : null;
      const source = sourceFromEntitlements(entitlements, {
        externalId: customerExternalId(trigger.productCode, trigger.customerIdentifier),
        productCode: trigger.productCode,
        productId: product.product.productId ?? null,
        buyerAccountId: entitlements[0]?.CustomerAWSAccountId ?? null,
        observedAt: trigger.observedAt,
        termStart: existing?.terms.term.start ?? dateOfInstant(trigger.observedAt),
        refs: { customerIdentifier: trigger.customerIdentifier, customer: customerRef },
        reseller: null,
        now: this.now(),
      });
      if (source) return { kind: 'contracts', contracts: [source] };
      if (existing && trigger.action === 'unsubscribe-success') {
        return {
          kind: 'contracts',
          contracts: [
            endedSource(sourceFromSnapshot(existing, []), 'unsubscribed', trigger.observedAt),
          ],
        };
      }
      if (trigger.action === 'subscribe-fail')
        return { kind: 'nothing', reason: 'subscription failed at the marketplace' };
      return {
        kind: 'not-ready',
        reason: `GetEntitlements returned nothing for ${customerRef} yet`,
      };
    }
    // License-keyed product: the SNS message is only a hint to re-read contracts already linked.
    const contractIds = await lookups.findByRef('aws', 'customer', customerRef);
    if (contractIds.length === 0) {
      return {
        kind: 'nothing',
        reason: `no contract linked to customer ${customerRef} yet (agreement, license or registration events create it)`,
      };
    }
    const contracts: SourceContract[] = [];
    for (const contractId of contractIds) {
      const snapshot = await lookups.get(contractId);
      if (!snapshot) continue;
      const source = await this.reread(snapshot, trigger.productCode);
      if (source) contracts.push(source);
    }
    return contracts.length > 0
      ? { kind: 'contracts', contracts }
      : { kind: 'not-ready', reason: `linked contracts of ${customerRef} could not be re-read` };
  }

  private async readRegistration(
    trigger: Extract<AwsTrigger, { kind: 'aws-registration' }>,
    lookups: ContractLookups,
  ): Promise<SourceRead> {
    const registration = trigger.registration;
    const customerRefs: Record<string, string> = registration.customerIdentifier
      ? {
          customerIdentifier: registration.customerIdentifier,
          customer: `${registration.productCode}/${registration.customerIdentifier}`,
        }
      : {};
    if (!registration.licenseArn) {
      if (!registration.customerIdentifier)
        return { kind: 'nothing', reason: 'registration without license or customer identifier' };
      return this.readCustomer(
        {
          kind: 'aws-customer',
          groupKey: trigger.groupKey,
          description: trigger.description,
          productCode: registration.productCode,
          customerIdentifier: registration.customerIdentifier,
          action: 'subscribe-success',
          observedAt: registration.resolvedAt,
        },
        lookups,
      );
    }
    const snapshot = await this.snapshotByLicense(registration.licenseArn, lookups);
    if (!snapshot)
      return {
        kind: 'not-ready',
        reason: `no contract for license ${licenseIdOf(registration.licenseArn)} yet`,
      };
    const source = await this.reread(snapshot, registration.productCode);
    if (!source)
      return { kind: 'not-ready', reason: `contract ${snapshot.contractId} could not be re-read` };
    return {
      kind: 'contracts',
      contracts: [withRefs(source, { ...customerRefs, productCode: registration.productCode })],
    };
  }

  /** Re-reads a known contract from its refs: the agreement if readable, else its entitlements. */
  private async reread(
    snapshot: ContractSnapshot,
    productCode: string | null,
  ): Promise<SourceContract | null> {
    const { agreementId, licenseArn } = snapshot.refs;
    if (!agreementId || !licenseArn) return null;
    const gateway = this.gatewayFor(null, productCode ?? snapshot.refs.productCode ?? null);
    try {
      const read = await gateway.readAgreement(agreementId);
      if (!read) return null;
      const now = this.now();
      const build = (stored: ContractSnapshot | null) =>
        sourceFromAgreement(read, {
          licenseArn,
          productCode: productCode ?? stored?.refs.productCode ?? null,
          productId: stored?.terms.productId ?? snapshot.terms.productId,
          intent: stored?.refs.intent ?? null,
          previousAgreementId: stored?.refs.previousAgreementId ?? null,
          replacesExternalId: null,
          resaleAuthorizationId: stored?.terms.reseller?.resaleAuthorizationId ?? null,
          now,
        });
      return withCopiedFacts(build, snapshot);
    } catch (error) {
      if (!(error instanceof AwsAccessDeniedError)) throw error;
    }
    const code = productCode ?? snapshot.refs.productCode;
    if (!code) return null;
    const entitlements = await gateway.getEntitlements(code, { licenseArn });
    return sourceFromEntitlements(entitlements, {
      externalId: snapshot.externalId,
      productCode: code,
      productId: snapshot.terms.productId,
      buyerAccountId: snapshot.terms.buyer.accountId,
      observedAt: snapshot.updatedAt,
      termStart: snapshot.terms.term.start,
      refs: { ...snapshot.refs },
      reseller: snapshot.terms.reseller,
      now: this.now(),
    });
  }

  private async snapshotByLicense(
    licenseArn: string,
    lookups: ContractLookups,
  ): Promise<ContractSnapshot | null> {
    const [contractId] = await lookups.findByRef('aws', 'license', licenseIdOf(licenseArn));
    return contractId ? lookups.get(contractId) : null;
  }
}

/**
 * A source read from the marketplace plus lasting facts copied from the stored contract (how
 * the agreement began, what it replaces, its resale authorization): rebuilt with the facts of
 * whichever snapshot the sync reads (SourceContract.rebase), so a concurrent writer that learned
 * them is never undone.
 */
function withCopiedFacts(
  build: (stored: ContractSnapshot | null) => SourceContract,
  stored: ContractSnapshot | null,
): SourceContract {
  return { ...build(stored), rebase: (current) => build(current) };
}

/** A source ended at `at` (an unsubscribe, a deprovisioned license), rebuilt the same way. */
export function endedSource(source: SourceContract, reason: string, at: string): SourceContract {
  return changedSource(source, () => ({
    status: 'cancelled',
    statusReason: reason,
    endedOn: dateOfInstant(at),
    observedAt: at,
  }));
}
