/**
 * The raw inbound envelope: a marketplace notification exactly as it arrived, with the headers
 * needed for audit. It is stored before anything is acknowledged, and `agora replay` re-derives
 * everything from these. Its id is deterministic from (marketplace, provider message id), so a
 * redelivery maps to the same record and is detected, not stored twice.
 */
import { z } from 'zod';
import { deterministicId } from './ids';
import { IdSchema, InstantSchema, type Marketplace, MarketplaceSchema } from './schemas/primitives';

/** Largest body we keep inline: well under DynamoDB's 400 KB item limit with headers. */
export const RAW_BODY_BYTES_MAX = 256 * 1024;
export const RAW_HEADERS_MAX = 50;
export const RAW_HEADER_VALUE_LENGTH_MAX = 2_048;

export const INBOUND_CHANNELS = [
  'aws-eventbridge',
  'aws-sns-sqs',
  'aws-sns-https',
  'aws-registration',
  'azure-webhook',
  'azure-landing',
  'azure-activation',
  'azure-reconcile',
  'gcp-pubsub-push',
  'gcp-pubsub-pull',
  'gcp-signup',
  'gcp-decision',
  'operator-replay',
] as const;
export const InboundChannelSchema = z.enum(INBOUND_CHANNELS);
export type InboundChannel = z.infer<typeof InboundChannelSchema>;

export const RawEnvelopeSchema = z.object({
  marketplace: MarketplaceSchema,
  channel: InboundChannelSchema,
  providerMessageId: IdSchema,
  receivedAt: InstantSchema,
  headers: z
    .record(z.string().max(256), z.string().max(RAW_HEADER_VALUE_LENGTH_MAX))
    .refine((h) => Object.keys(h).length <= RAW_HEADERS_MAX, {
      message: `At most ${RAW_HEADERS_MAX} headers`,
    }),
  body: z.string().refine((b) => Buffer.byteLength(b, 'utf8') <= RAW_BODY_BYTES_MAX, {
    message: `Body larger than ${RAW_BODY_BYTES_MAX} bytes`,
  }),
  /** Who authenticated it (issuer/subject/app id), for the audit trail; never the token. */
  authenticatedAs: z.string().max(1_024).nullable(),
});
export type RawEnvelope = z.infer<typeof RawEnvelopeSchema>;

export function rawIdFor(marketplace: Marketplace, providerMessageId: string): string {
  return deterministicId('raw', marketplace, providerMessageId);
}
