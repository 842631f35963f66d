/**
 * AWS inlets that are not plain EventBridge/SQS deliveries: SNS over HTTPS (signature and
 * certificate host verified before anything is written) and the buyer's registration post
 * (the token is the credential: ResolveCustomer decides). Both end in the shared ingest.
 */
import { createHash } from 'node:crypto';
import { UnauthorizedError } from '../../app/errors';
import { type IngestDeps, type IngestResult, ingestNotification } from '../../app/ingest';
import type { Clock } from '../../app/ports';
import type { RawEnvelope } from '../../domain/raw';
import { type AwsMarketplaceSettings, accountById } from './config';
import type { AwsGatewayRegistry, ResolvedCustomer } from './gateway';
import type { RegistrationBody } from './notifications';
import { isAllowedSnsUrl, type SnsMessageVerifier } from './sns-verify';

/** Headers worth keeping with an SNS delivery for audit (never credentials). */
const SNS_AUDIT_HEADERS = [
  'x-amz-sns-message-type',
  'x-amz-sns-message-id',
  'x-amz-sns-topic-arn',
  'x-amz-sns-subscription-arn',
  'user-agent',
];
export const SUBSCRIPTION_CONFIRM_TIMEOUT_MS = 5_000;

export interface SnsIntakeDeps extends IngestDeps {
  readonly snsVerifier: SnsMessageVerifier;
  readonly certHostPattern: RegExp;
  readonly allowHttp: boolean;
  readonly clock: Clock;
  /** GETs a SubscribeURL to confirm a subscription. */
  readonly confirmSubscription: (url: string) => Promise<void>;
}

export async function receiveSnsHttps(
  deps: SnsIntakeDeps,
  body: string,
  headers: Readonly<Record<string, string>>,
): Promise<IngestResult & { confirmed: boolean }> {
  // Throws SnsVerificationError (401) before anything is written.
  const message = await deps.snsVerifier.verify(body);
  const audit = Object.fromEntries(
    SNS_AUDIT_HEADERS.filter((name) => headers[name] !== undefined).map((name) => [
      name,
      String(headers[name]),
    ]),
  );
  const result = await ingestNotification(deps, {
    marketplace: 'aws',
    channel: 'aws-sns-https',
    providerMessageId: message.messageId,
    receivedAt: deps.clock.now(),
    headers: audit,
    body,
    authenticatedAs: `sns:${message.topicArn}`,
  });
  let confirmed = false;
  if (message.type === 'SubscriptionConfirmation' && message.subscribeUrl) {
    if (!isAllowedSnsUrl(message.subscribeUrl, deps.certHostPattern, deps.allowHttp)) {
      throw new UnauthorizedError('SubscribeURL is not on an allowed SNS host');
    }
    await deps.confirmSubscription(message.subscribeUrl);
    confirmed = true;
  }
  return { ...result, confirmed };
}

export async function confirmSubscriptionWithFetch(url: string): Promise<void> {
  const response = await fetch(url, {
    redirect: 'manual',
    signal: AbortSignal.timeout(SUBSCRIPTION_CONFIRM_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status >= 300)
    throw new Error(`SNS subscription confirmation answered ${response.status}`);
}

export interface RegistrationDeps extends IngestDeps {
  readonly awsGateways: AwsGatewayRegistry;
  readonly awsSettings: AwsMarketplaceSettings;
  readonly clock: Clock;
}

export interface RegistrationResult extends IngestResult {
  readonly customer: ResolvedCustomer;
}

/**
 * Resolves the buyer's `x-amzn-marketplace-token` in the seller account that published the
 * product. With several accounts configured, each is asked in turn until one recognizes it.
 */
export async function registerAwsBuyer(
  deps: RegistrationDeps,
  token: string,
): Promise<RegistrationResult> {
  const accounts =
    deps.awsSettings.accounts.length > 0
      ? deps.awsSettings.accounts
      : [accountById(deps.awsSettings, null)];
  let lastError: unknown = new UnauthorizedError('The marketplace registration token is not valid');
  for (const account of accounts) {
    try {
      const customer = await deps.awsGateways.forAccount(account ?? null).resolveCustomer(token);
      const tokenSha256 = createHash('sha256').update(token).digest('hex');
      const body: RegistrationBody = {
        kind: 'aws-registration',
        tokenSha256,
        productCode: customer.productCode,
        customerIdentifier: customer.customerIdentifier,
        customerAwsAccountId: customer.customerAwsAccountId,
        licenseArn: customer.licenseArn,
        resolvedAt: deps.clock.now(),
      };
      const result = await ingestNotification(deps, {
        marketplace: 'aws',
        channel: 'aws-registration',
        providerMessageId: `registration:${tokenSha256}`,
        receivedAt: body.resolvedAt,
        headers: {},
        body: JSON.stringify(body),
        authenticatedAs: `resolve-customer:${account?.sellerAccountId ?? 'default'}`,
      });
      return { ...result, customer };
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** An EventBridge event as a raw envelope (delivered in-account: IAM is the authentication). */
export function envelopeFromEventBridge(
  event: { id: string; account?: string; source?: string },
  receivedAt: string,
): RawEnvelope {
  return {
    marketplace: 'aws',
    channel: 'aws-eventbridge',
    providerMessageId: event.id,
    receivedAt,
    headers: {},
    body: JSON.stringify(event),
    authenticatedAs: `eventbridge:${event.account ?? 'unknown'}:${event.source ?? 'unknown'}`,
  };
}

/** An SQS record carrying an SNS envelope (the queue subscribes to the marketplace topics). */
export function envelopeFromSnsSqsRecord(
  record: { messageId: string; body: string; eventSourceARN: string },
  receivedAt: string,
): RawEnvelope {
  let providerMessageId = `sqs:${record.messageId}`;
  try {
    const parsed = JSON.parse(record.body) as { MessageId?: unknown };
    if (typeof parsed.MessageId === 'string' && parsed.MessageId.length > 0)
      providerMessageId = parsed.MessageId;
  } catch {
    // Stored as received under the SQS id; the sync dead-letters it with the reason.
  }
  return {
    marketplace: 'aws',
    channel: 'aws-sns-sqs',
    providerMessageId,
    receivedAt,
    headers: {},
    body: record.body,
    authenticatedAs: `sqs:${record.eventSourceARN}`,
  };
}

/**
 * A payload file for `agora replay`: an EventBridge event, an SNS envelope or a stored
 * registration body. Null when it is none of these (the caller reports it as skipped).
 */
export function awsEnvelopeForReplay(body: unknown, receivedAt: string): RawEnvelope | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  const replay = (providerMessageId: string) => ({
    marketplace: 'aws' as const,
    channel: 'operator-replay' as const,
    providerMessageId,
    receivedAt,
    headers: {},
    body: JSON.stringify(body),
    authenticatedAs: 'operator:replay',
  });
  if ('detail-type' in record && typeof record.id === 'string') return replay(record.id);
  if (record.Type !== undefined && typeof record.MessageId === 'string' && 'Message' in record)
    return replay(record.MessageId);
  if (record.kind === 'aws-registration' && typeof record.tokenSha256 === 'string')
    return replay(`registration:${record.tokenSha256}`);
  return null;
}
