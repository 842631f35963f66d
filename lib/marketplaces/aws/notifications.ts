/**
 * Understanding AWS Marketplace notifications: EventBridge events (aws.agreement-marketplace,
 * aws.marketplacecatalog), SNS messages (subscription and entitlement topics, via SQS or HTTPS)
 * and buyer registrations. A notification only says *what to re-read*; the facts come from the
 * re-read (lib/marketplaces/aws/source.ts). Parsing is lenient about extra fields and strict
 * about the few fields a trigger needs.
 */
import { z } from 'zod';
import type { ParsedNotification, StoredRawEnvelope, SyncTrigger } from '../../app/ports';

// unverified: detail shapes follow the AWS seller guide's EventBridge page (notifications-eventbridge.md) as
// summarized in our research notes; only the fields used here are required.
const EventBridgeEventSchema = z.looseObject({
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: z.string().optional(),
  time: z.iso.datetime({ offset: true }),
  detail: z.looseObject({}),
});
export type EventBridgeEvent = z.infer<typeof EventBridgeEventSchema>;

const AgreementDetailSchema = z.looseObject({
  agreement: z.looseObject({
    id: z.string().min(1),
    intent: z.string().optional(),
    status: z.string().optional(),
    previousAgreementId: z.string().nullish(),
  }),
  acceptor: z.looseObject({ accountId: z.string() }).optional(),
  proposer: z.looseObject({ accountId: z.string() }).optional(),
  offer: z.looseObject({ id: z.string() }).optional(),
  resaleAuthorization: z.looseObject({ id: z.string() }).nullish(),
});

const LicenseDetailSchema = z.looseObject({
  agreement: z.looseObject({ id: z.string().min(1) }),
  product: z.looseObject({ code: z.string().min(1), id: z.string().optional() }),
  license: z.looseObject({ arn: z.string().min(1) }),
  acceptor: z.looseObject({ accountId: z.string() }),
  offer: z.looseObject({ id: z.string() }).optional(),
});

const CancellationDetailSchema = z.looseObject({
  agreement: z.looseObject({ id: z.string().min(1), acceptorId: z.string().optional() }),
});

const BillingAdjustmentDetailSchema = z.looseObject({
  agreement: z.looseObject({ id: z.string().min(1) }).optional(),
  agreementId: z.string().optional(),
  billingAdjustmentRequest: z.looseObject({
    id: z.string().min(1),
    adjustmentAmount: z.union([z.string(), z.number()]),
    currencyCode: z.string().length(3),
    adjustmentReasonCode: z.string().optional(),
  }),
  invoice: z.looseObject({ originalInvoiceId: z.string().optional() }).optional(),
});

// unverified: the SNS envelope as SQS delivers it (raw message delivery off): Message is a JSON string.
const SnsEnvelopeSchema = z.looseObject({
  Type: z.string(),
  MessageId: z.string().min(1),
  TopicArn: z.string().optional(),
  Message: z.string(),
  Timestamp: z.iso.datetime({ offset: true }),
});

const SnsMarketplaceMessageSchema = z.looseObject({
  action: z.string().min(1),
  'customer-identifier': z.string().min(1),
  'product-code': z.string().min(1),
  'offer-identifier': z.string().optional(),
  isFreeTrialTermPresent: z.string().optional(),
});

/** What the registration endpoint stores as the raw body (ResolveCustomer's answer). */
export const RegistrationBodySchema = z.object({
  kind: z.literal('aws-registration'),
  tokenSha256: z.string(),
  productCode: z.string().min(1),
  customerIdentifier: z.string().nullable(),
  customerAwsAccountId: z.string().min(1),
  licenseArn: z.string().nullable(),
  resolvedAt: z.iso.datetime({ offset: true }),
});
export type RegistrationBody = z.infer<typeof RegistrationBodySchema>;

export type AwsTrigger =
  | (SyncTrigger & {
      readonly kind: 'aws-agreement';
      readonly agreementId: string;
      readonly sellerAccountId: string | null;
      readonly buyerAccountId: string | null;
      readonly intent: string | null;
      readonly previousAgreementId: string | null;
      readonly resaleAuthorizationId: string | null;
    })
  | (SyncTrigger & {
      readonly kind: 'aws-license';
      readonly agreementId: string;
      readonly licenseArn: string;
      readonly productCode: string;
      readonly productId: string | null;
      readonly sellerAccountId: string | null;
      readonly buyerAccountId: string;
      readonly deprovisioned: boolean;
      readonly observedAt: string;
    })
  | (SyncTrigger & {
      readonly kind: 'aws-billing-adjustment';
      readonly agreementId: string;
      readonly sellerAccountId: string | null;
      readonly adjustmentId: string;
      readonly amount: string;
      readonly currency: string;
      readonly reasonCode: string | null;
      readonly observedAt: string;
    })
  | (SyncTrigger & {
      readonly kind: 'aws-customer';
      readonly productCode: string;
      readonly customerIdentifier: string;
      readonly action: string;
      readonly observedAt: string;
    })
  | (SyncTrigger & {
      readonly kind: 'aws-registration';
      readonly registration: RegistrationBody;
    });

const AGREEMENT_SOURCE = 'aws.agreement-marketplace';
const CATALOG_SOURCE = 'aws.marketplacecatalog';
const MARKETPLACE_SOURCE = 'aws.marketplace';

/** Detail types that change what a buyer has, hence a re-read of the agreement. */
const AGREEMENT_CHANGES = /^Purchase Agreement (Created|Amended|Ended) - (Manufacturer|Proposer)$/;
const LICENSE_CHANGES = /^License (Updated|Deprovisioned) - Manufacturer$/;
const CANCELLATION_REQUESTS = /^Agreement Cancellation Request .+ - Proposer$/;
const BILLING_ADJUSTMENT_COMPLETED = 'Purchase Agreement Billing Adjustment Completed - Proposer';

export function groupKeyForBuyer(buyerAccountId: string | null | undefined): string {
  return `aws#${buyerAccountId ?? 'unknown-buyer'}`;
}

/** License ARNs are formatted inconsistently in AWS docs; the `l-…` id is stable. */
export function licenseIdOf(licenseArn: string): string {
  const match = /(l-[A-Za-z0-9]+)\s*$/.exec(licenseArn);
  return match?.[1] ?? licenseArn;
}

/** "agreement.id: expected string" — where a payload broke, for the DLQ reason. */
function firstIssue(error: z.ZodError, fallback: string): string {
  const issue = error.issues[0];
  if (!issue) return fallback;
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function invalid(reason: string, groupKey = 'aws#invalid'): ParsedNotification<AwsTrigger> {
  return { kind: 'invalid', groupKey, reason };
}

export function parseAwsNotification(raw: StoredRawEnvelope): ParsedNotification<AwsTrigger> {
  const body = parseJson(raw.body);
  if (body === undefined) return invalid('body is not JSON');
  const registration =
    raw.channel === 'aws-registration' ||
    (typeof body === 'object' &&
      body !== null &&
      'kind' in body &&
      body.kind === 'aws-registration');
  if (registration) return parseRegistration(body);
  if (typeof body === 'object' && body !== null && 'detail-type' in body)
    return parseEventBridge(body);
  if (typeof body === 'object' && body !== null && 'Type' in body && 'Message' in body)
    return parseSns(body);
  return invalid('neither an EventBridge event nor an SNS message');
}

function parseEventBridge(body: unknown): ParsedNotification<AwsTrigger> {
  const event = EventBridgeEventSchema.safeParse(body);
  if (!event.success) return invalid(`EventBridge event: ${firstIssue(event.error, 'malformed')}`);
  const { source } = event.data;
  const detailType = event.data['detail-type'];
  const sellerAccountId = event.data.account ?? null;
  if (source === CATALOG_SOURCE || source === MARKETPLACE_SOURCE) {
    return {
      kind: 'ignored',
      groupKey: 'aws#catalog',
      reason: `${detailType}: catalog and seller events are handled by offers`,
    };
  }
  if (source !== AGREEMENT_SOURCE)
    return {
      kind: 'ignored',
      groupKey: 'aws#other',
      reason: `source ${source} is not a marketplace source`,
    };

  if (AGREEMENT_CHANGES.test(detailType)) {
    const detail = AgreementDetailSchema.safeParse(event.data.detail);
    if (!detail.success)
      return invalid(`${detailType}: ${firstIssue(detail.error, 'malformed detail')}`);
    const buyer = detail.data.acceptor?.accountId ?? null;
    const groupKey = groupKeyForBuyer(buyer);
    return {
      kind: 'triggers',
      groupKey,
      triggers: [
        {
          kind: 'aws-agreement',
          groupKey,
          description: `${detailType} for ${detail.data.agreement.id}`,
          agreementId: detail.data.agreement.id,
          sellerAccountId,
          buyerAccountId: buyer,
          intent: detail.data.agreement.intent ?? null,
          previousAgreementId: detail.data.agreement.previousAgreementId ?? null,
          resaleAuthorizationId: detail.data.resaleAuthorization?.id ?? null,
        },
      ],
    };
  }
  if (LICENSE_CHANGES.test(detailType)) {
    const detail = LicenseDetailSchema.safeParse(event.data.detail);
    if (!detail.success)
      return invalid(`${detailType}: ${firstIssue(detail.error, 'malformed detail')}`);
    const groupKey = groupKeyForBuyer(detail.data.acceptor.accountId);
    return {
      kind: 'triggers',
      groupKey,
      triggers: [
        {
          kind: 'aws-license',
          groupKey,
          description: `${detailType} for ${detail.data.agreement.id}`,
          agreementId: detail.data.agreement.id,
          licenseArn: detail.data.license.arn,
          productCode: detail.data.product.code,
          productId: detail.data.product.id ?? null,
          sellerAccountId,
          buyerAccountId: detail.data.acceptor.accountId,
          deprovisioned: detailType.startsWith('License Deprovisioned'),
          observedAt: event.data.time,
        },
      ],
    };
  }
  if (CANCELLATION_REQUESTS.test(detailType)) {
    const detail = CancellationDetailSchema.safeParse(event.data.detail);
    if (!detail.success)
      return invalid(`${detailType}: ${firstIssue(detail.error, 'malformed detail')}`);
    const groupKey = groupKeyForBuyer(detail.data.agreement.acceptorId);
    return {
      kind: 'triggers',
      groupKey,
      triggers: [
        {
          kind: 'aws-agreement',
          groupKey,
          description: `${detailType} for ${detail.data.agreement.id}`,
          agreementId: detail.data.agreement.id,
          sellerAccountId,
          buyerAccountId: detail.data.agreement.acceptorId ?? null,
          intent: null,
          previousAgreementId: null,
          resaleAuthorizationId: null,
        },
      ],
    };
  }
  if (detailType === BILLING_ADJUSTMENT_COMPLETED) {
    const detail = BillingAdjustmentDetailSchema.safeParse(event.data.detail);
    const agreementId = detail.success
      ? (detail.data.agreement?.id ?? detail.data.agreementId)
      : undefined;
    if (!detail.success || !agreementId)
      return invalid(`${detailType}: no agreement or adjustment in detail`);
    const request = detail.data.billingAdjustmentRequest;
    return {
      kind: 'triggers',
      groupKey: `aws#agreement:${agreementId}`,
      triggers: [
        {
          kind: 'aws-billing-adjustment',
          groupKey: `aws#agreement:${agreementId}`,
          description: `${detailType} ${request.id} for ${agreementId}`,
          agreementId,
          sellerAccountId,
          adjustmentId: request.id,
          amount: String(request.adjustmentAmount),
          currency: request.currencyCode,
          reasonCode: request.adjustmentReasonCode ?? null,
          observedAt: event.data.time,
        },
      ],
    };
  }
  return {
    kind: 'ignored',
    groupKey: 'aws#notices',
    reason: `${detailType}: a notice with nothing to re-read`,
  };
}

function parseSns(body: unknown): ParsedNotification<AwsTrigger> {
  const envelope = SnsEnvelopeSchema.safeParse(body);
  if (!envelope.success) return invalid(`SNS envelope: ${firstIssue(envelope.error, 'malformed')}`);
  if (envelope.data.Type !== 'Notification') {
    return {
      kind: 'ignored',
      groupKey: 'aws#sns',
      reason: `SNS ${envelope.data.Type} (handled at the endpoint)`,
    };
  }
  const message = SnsMarketplaceMessageSchema.safeParse(parseJson(envelope.data.Message));
  if (!message.success)
    return invalid(`SNS message: ${firstIssue(message.error, 'not a marketplace message')}`);
  const productCode = message.data['product-code'];
  const customerIdentifier = message.data['customer-identifier'];
  const groupKey = `aws#customer:${productCode}/${customerIdentifier}`;
  return {
    kind: 'triggers',
    groupKey,
    triggers: [
      {
        kind: 'aws-customer',
        groupKey,
        description: `SNS ${message.data.action} for ${productCode}/${customerIdentifier}`,
        productCode,
        customerIdentifier,
        action: message.data.action,
        observedAt: envelope.data.Timestamp,
      },
    ],
  };
}

function parseRegistration(body: unknown): ParsedNotification<AwsTrigger> {
  const registration = RegistrationBodySchema.safeParse(body);
  if (!registration.success) return invalid('registration body is malformed');
  // Its own group: a registration waiting for its contract must not block the buyer's events.
  const groupKey = `aws#registration:${registration.data.customerAwsAccountId}`;
  return {
    kind: 'triggers',
    groupKey,
    triggers: [
      {
        kind: 'aws-registration',
        groupKey,
        description: `registration of ${registration.data.customerAwsAccountId} for ${registration.data.productCode}`,
        registration: registration.data,
      },
    ],
  };
}
