/**
 * The AWS Marketplace read APIs Agora uses to re-read the source of truth: the Agreement API
 * (DescribeAgreement, GetAgreementTerms, GetAgreementEntitlements), the Entitlement Service
 * (GetEntitlements) and Metering's ResolveCustomer. One set of SDK clients per seller account,
 * built once, with explicit timeouts, bounded retries (SDK standard mode: jittered backoff) and
 * bounded pagination. SDK failures are translated: throttling, 5xx and timeouts become
 * MarketplaceUnavailableError (retry); "not found" is null; access denied is a typed signal the
 * adapter uses (a CPPO agreement is not readable by the ISV).
 */
import {
  type AcceptedTerm,
  type AgreementEntitlement,
  DescribeAgreementCommand,
  type DescribeAgreementCommandOutput,
  GetAgreementEntitlementsCommand,
  type GetAgreementEntitlementsCommandOutput,
  GetAgreementTermsCommand,
  type GetAgreementTermsCommandOutput,
  MarketplaceAgreementClient,
} from '@aws-sdk/client-marketplace-agreement';
import {
  type Entitlement,
  GetEntitlementsCommand,
  type GetEntitlementsCommandOutput,
  MarketplaceEntitlementServiceClient,
} from '@aws-sdk/client-marketplace-entitlement-service';
import {
  MarketplaceMeteringClient,
  ResolveCustomerCommand,
} from '@aws-sdk/client-marketplace-metering';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import {
  MarketplaceUnavailableError,
  PermanentSyncError,
  SourceNotReadyError,
  UnauthorizedError,
} from '../../app/errors';
import type { AwsAccountConfig, AwsMarketplaceSettings } from './config';

export const AWS_REQUEST_TIMEOUT_MS = 5_000;
export const AWS_CONNECT_TIMEOUT_MS = 2_000;
export const AWS_SDK_ATTEMPTS_MAX = 3;
/** Pages of one paginated read before we stop (50 terms or 100 entitlements per page). */
export const AWS_PAGES_MAX = 20;
const LOCAL_CREDENTIALS = { accessKeyId: 'agoralocal', secretAccessKey: 'agoralocal' };

/** The caller may not read this resource (e.g. a CPPO agreement seen from the ISV). */
export class AwsAccessDeniedError extends PermanentSyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('marketplace_access_denied', message, options);
  }
}

export interface AgreementRead {
  readonly agreement: DescribeAgreementCommandOutput;
  readonly terms: AcceptedTerm[];
  readonly entitlements: AgreementEntitlement[];
}

export interface ResolvedCustomer {
  readonly customerIdentifier: string | null;
  readonly customerAwsAccountId: string;
  readonly productCode: string;
  readonly licenseArn: string | null;
}

export interface AwsMarketplaceGateway {
  /** The agreement with its accepted terms and entitlements; null if it does not exist (yet). */
  readAgreement(agreementId: string): Promise<AgreementRead | null>;
  getEntitlements(
    productCode: string,
    filter: { licenseArn?: string; customerIdentifier?: string; customerAwsAccountId?: string },
  ): Promise<Entitlement[]>;
  resolveCustomer(registrationToken: string): Promise<ResolvedCustomer>;
}

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? 'Error';
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Maps an SDK failure to the pipeline's error classes. */
export function translateAwsError(error: unknown, operation: string): Error {
  const name = errorName(error);
  const status = httpStatus(error);
  if (name === 'AccessDeniedException' || status === 403) {
    return new AwsAccessDeniedError(`${operation}: access denied`, { cause: error });
  }
  if (name === 'ValidationException' || name === 'InvalidParameterException') {
    return new PermanentSyncError(
      'marketplace_rejected',
      `${operation} rejected the request: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return new MarketplaceUnavailableError(
    `${operation} failed (${name}${status ? ` ${status}` : ''}); will retry`,
    { cause: error },
  );
}

function isNotFound(error: unknown): boolean {
  return errorName(error) === 'ResourceNotFoundException';
}

/**
 * SDK client settings for one seller account, shared by every AWS Marketplace client (Agreement,
 * Entitlement, Metering, Catalog): timeouts, bounded standard retries, the local simulator
 * endpoint, or the account's role to assume (`sessionName` tells the uses apart in CloudTrail).
 */
export function awsClientConfig(
  settings: AwsMarketplaceSettings,
  account: AwsAccountConfig | null,
  sessionName = 'agora-marketplace',
) {
  const local = settings.endpoint !== undefined;
  const credentials = local
    ? LOCAL_CREDENTIALS
    : account?.roleArn
      ? fromTemporaryCredentials({
          params: {
            RoleArn: account.roleArn,
            RoleSessionName: sessionName,
            ...(account.externalId ? { ExternalId: account.externalId } : {}),
          },
          clientConfig: { region: settings.region },
        })
      : undefined;
  return {
    region: settings.region,
    maxAttempts: AWS_SDK_ATTEMPTS_MAX,
    retryMode: 'standard',
    requestHandler: {
      requestTimeout: AWS_REQUEST_TIMEOUT_MS,
      connectionTimeout: AWS_CONNECT_TIMEOUT_MS,
      // Without this the handler only logs a warning when requestTimeout passes and the call
      // hangs until the Lambda's own timeout (@smithy/node-http-handler 4.x).
      throwOnRequestTimeout: true,
    },
    ...(local ? { endpoint: settings.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

export class SdkAwsMarketplaceGateway implements AwsMarketplaceGateway {
  private readonly agreements: MarketplaceAgreementClient;
  private readonly entitlements: MarketplaceEntitlementServiceClient;
  private readonly metering: MarketplaceMeteringClient;

  constructor(settings: AwsMarketplaceSettings, account: AwsAccountConfig | null) {
    const config = awsClientConfig(settings, account);
    this.agreements = new MarketplaceAgreementClient(config);
    this.entitlements = new MarketplaceEntitlementServiceClient(config);
    this.metering = new MarketplaceMeteringClient(config);
  }

  async readAgreement(agreementId: string): Promise<AgreementRead | null> {
    let agreement: DescribeAgreementCommandOutput;
    try {
      agreement = await this.agreements.send(new DescribeAgreementCommand({ agreementId }));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw translateAwsError(error, 'DescribeAgreement');
    }
    // An answer without the agreement's id is not the agreement (an eventually consistent read
    // or a faulty answer): applying it would rewrite the contract from nothing. Retry instead.
    if (!agreement.agreementId)
      throw new SourceNotReadyError(`DescribeAgreement answered no agreement for ${agreementId}`);
    const terms: AcceptedTerm[] = [];
    let token: string | undefined;
    for (let page = 0; page < AWS_PAGES_MAX; page += 1) {
      const output: GetAgreementTermsCommandOutput = await this.agreements
        .send(
          new GetAgreementTermsCommand({
            agreementId,
            maxResults: 50,
            ...(token ? { nextToken: token } : {}),
          }),
        )
        .catch((error: unknown) => {
          throw translateAwsError(error, 'GetAgreementTerms');
        });
      terms.push(...(output.acceptedTerms ?? []));
      token = output.nextToken ?? undefined;
      if (!token) break;
    }
    // Every agreement has accepted terms (at least its validity and pricing): none is an
    // incomplete read, and applying it would drop the contract's schedule and prices.
    if (terms.length === 0)
      throw new SourceNotReadyError(`GetAgreementTerms answered no terms for ${agreementId}`);
    const entitlements: AgreementEntitlement[] = [];
    token = undefined;
    for (let page = 0; page < AWS_PAGES_MAX; page += 1) {
      const output: GetAgreementEntitlementsCommandOutput = await this.agreements
        .send(
          new GetAgreementEntitlementsCommand({
            agreementId,
            maxResults: 50,
            ...(token ? { nextToken: token } : {}),
          }),
        )
        .catch((error: unknown) => {
          throw translateAwsError(error, 'GetAgreementEntitlements');
        });
      entitlements.push(...(output.agreementEntitlements ?? []));
      token = output.nextToken ?? undefined;
      if (!token) break;
    }
    return { agreement, terms, entitlements };
  }

  async getEntitlements(
    productCode: string,
    filter: { licenseArn?: string; customerIdentifier?: string; customerAwsAccountId?: string },
  ): Promise<Entitlement[]> {
    const Filter: Record<string, string[]> = {};
    if (filter.licenseArn) Filter.LICENSE_ARN = [filter.licenseArn];
    if (filter.customerIdentifier) Filter.CUSTOMER_IDENTIFIER = [filter.customerIdentifier];
    if (filter.customerAwsAccountId) Filter.CUSTOMER_AWS_ACCOUNT_ID = [filter.customerAwsAccountId];
    const out: Entitlement[] = [];
    let token: string | undefined;
    for (let page = 0; page < AWS_PAGES_MAX; page += 1) {
      const output: GetEntitlementsCommandOutput = await this.entitlements
        .send(
          new GetEntitlementsCommand({
            ProductCode: productCode,
            Filter,
            MaxResults: 25,
            ...(token ? { NextToken: token } : {}),
          }),
        )
        .catch((error: unknown) => {
          throw translateAwsError(error, 'GetEntitlements');
        });
      out.push(...(output.Entitlements ?? []));
      token = output.NextToken ?? undefined;
      if (!token) break;
    }
    return out;
  }

  async resolveCustomer(registrationToken: string): Promise<ResolvedCustomer> {
    try {
      const output = await this.metering.send(
        new ResolveCustomerCommand({ RegistrationToken: registrationToken }),
      );
      if (!output.CustomerAWSAccountId || !output.ProductCode) {
        throw new MarketplaceUnavailableError(
          'ResolveCustomer answered without an account or product',
        );
      }
      return {
        customerIdentifier: output.CustomerIdentifier ?? null,
        customerAwsAccountId: output.CustomerAWSAccountId,
        productCode: output.ProductCode,
        licenseArn: output.LicenseArn ?? null,
      };
    } catch (error) {
      const name = errorName(error);
      if (name === 'InvalidTokenException' || name === 'ExpiredTokenException') {
        throw new UnauthorizedError(
          name === 'ExpiredTokenException'
            ? 'The marketplace registration token has expired'
            : 'The marketplace registration token is not valid',
          { cause: error },
        );
      }
      if (error instanceof MarketplaceUnavailableError) throw error;
      throw translateAwsError(error, 'ResolveCustomer');
    }
  }
}

/** One gateway per seller account, created on first use (clients are built once). */
export class AwsGatewayRegistry {
  private readonly gateways = new Map<string, AwsMarketplaceGateway>();

  constructor(
    private readonly settings: AwsMarketplaceSettings,
    private readonly create: (
      settings: AwsMarketplaceSettings,
      account: AwsAccountConfig | null,
    ) => AwsMarketplaceGateway = (s, a) => new SdkAwsMarketplaceGateway(s, a),
  ) {}

  forAccount(account: AwsAccountConfig | null): AwsMarketplaceGateway {
    const key = account?.sellerAccountId ?? 'default';
    let gateway = this.gateways.get(key);
    if (!gateway) {
      gateway = this.create(this.settings, account);
      this.gateways.set(key, gateway);
    }
    return gateway;
  }

  get accountSettings(): AwsMarketplaceSettings {
    return this.settings;
  }
}
