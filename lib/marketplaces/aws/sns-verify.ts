/**
 * Verifies Amazon SNS messages delivered over HTTP(S) (AWS Marketplace subscription and
 * entitlement notifications arrive this way). Follows AWS's documented algorithm: the signing
 * certificate must come over HTTPS from an SNS host, the topic must be one we expect, and the
 * signature (SHA1withRSA for version 1, SHA256withRSA for version 2) must match the canonical
 * string to sign. Certificates are cached per URL in a bounded LRU. Every failure is an
 * UnauthorizedError (a 401) carrying a machine-readable `reason`.
 */
import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { UnauthorizedError } from '../../app/errors';

/** SNS certificate hosts: `sns.<region>.amazonaws.com` and the China partition's `.com.cn`. */
export const AWS_SNS_CERT_HOST_PATTERN = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
/** The AWS Marketplace topics (owned by AWS Marketplace's account in us-east-1). */
export const AWS_MARKETPLACE_TOPIC_ARN_PATTERN =
  /^arn:aws:sns:us-east-1:287250355862:aws-mp-(subscription|entitlement)-notification-[A-Za-z0-9]+$/;

export const SNS_CERT_FETCH_TIMEOUT_MS = 3_000;
export const SNS_CERT_MAX_BYTES = 64 * 1024;
export const SNS_CERT_CACHE_MAX_ENTRIES = 32;
/** Replay protection: an authentic message older than this is refused. */
export const SNS_MAX_MESSAGE_AGE_MS = 60 * 60_000;

export const SNS_MESSAGE_TYPES = [
  'Notification',
  'SubscriptionConfirmation',
  'UnsubscribeConfirmation',
] as const;
export type SnsMessageType = (typeof SNS_MESSAGE_TYPES)[number];

export const SNS_VERIFICATION_REASONS = [
  'invalid_sns_message',
  'sns_cert_url_not_allowed',
  'sns_topic_not_allowed',
  'sns_cert_fetch_failed',
  'sns_signature_invalid',
  'sns_message_too_old',
] as const;
export type SnsVerificationReason = (typeof SNS_VERIFICATION_REASONS)[number];

/**
 * Why an SNS message was refused. `code` stays 'unauthorized' (UnauthorizedError fixes it to that
 * literal, so the HTTP layer answers 401); `reason` is the machine code of the failure.
 */
export class SnsVerificationError extends UnauthorizedError {
  readonly reason: SnsVerificationReason;
  constructor(reason: SnsVerificationReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The SNS HTTP/JSON envelope. Unknown extra fields are allowed (and dropped from the output). */
export const SnsEnvelopeSchema = z
  .object({
    Type: z.enum(SNS_MESSAGE_TYPES),
    MessageId: z.string().min(1).max(256),
    TopicArn: z.string().min(1).max(1_024),
    Message: z.string(),
    Timestamp: z.iso.datetime({ offset: true }),
    SignatureVersion: z.enum(['1', '2']),
    Signature: z.string().min(1).max(4_096).regex(BASE64, 'must be base64'),
    SigningCertURL: z.string().min(1).max(2_048),
    Subject: z.string().optional(),
    SubscribeURL: z.string().min(1).max(4_096).optional(),
    Token: z.string().min(1).max(4_096).optional(),
    UnsubscribeURL: z.string().min(1).max(4_096).optional(),
  })
  .superRefine((envelope, ctx) => {
    if (envelope.Type === 'Notification') return;
    for (const key of ['SubscribeURL', 'Token'] as const) {
      if (envelope[key] === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `required for ${envelope.Type}` });
      }
    }
  });
export type SnsEnvelope = z.infer<typeof SnsEnvelopeSchema>;

/** The fields that take part in the signature. */
export type SnsSignedFields = Pick<
  SnsEnvelope,
  'Type' | 'Message' | 'MessageId' | 'Timestamp' | 'TopicArn' | 'Subject' | 'SubscribeURL' | 'Token'
>;

/**
 * The canonical string AWS signs: `key\nvalue\n` for each key in this order. Notification:
 * Message, MessageId, Subject (only if present), Timestamp, TopicArn, Type. Subscription and
 * unsubscribe confirmations: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
 */
export function snsStringToSign(message: SnsSignedFields): string {
  const pairs: [string, string][] =
    message.Type === 'Notification'
      ? [
          ['Message', message.Message],
          ['MessageId', message.MessageId],
          ...(message.Subject === undefined
            ? []
            : [['Subject', message.Subject] as [string, string]]),
          ['Timestamp', message.Timestamp],
          ['TopicArn', message.TopicArn],
          ['Type', message.Type],
        ]
      : [
          ['Message', message.Message],
          ['MessageId', message.MessageId],
          ['SubscribeURL', required(message.SubscribeURL, 'SubscribeURL', message.Type)],
          ['Timestamp', message.Timestamp],
          ['Token', required(message.Token, 'Token', message.Type)],
          ['TopicArn', message.TopicArn],
          ['Type', message.Type],
        ];
  return pairs.map(([key, value]) => `${key}\n${value}\n`).join('');
}

function required(value: string | undefined, key: string, type: string): string {
  if (value === undefined) {
    throw new SnsVerificationError('invalid_sns_message', `SNS ${type} message lacks ${key}`);
  }
  return value;
}

/** Whole-string match, whatever the pattern's anchors or flags (a `g` regex keeps no state). */
function fullMatch(pattern: RegExp, value: string): boolean {
  const match = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).exec(value);
  return match !== null && match.index === 0 && match[0].length === value.length;
}

/**
 * True when `url` is an SNS URL we may contact: https (http only with `allowHttp`, for the local
 * simulator), no user info, the default port (any port only with `allowHttp`), and a host that
 * matches `certHostPattern` as a whole. Check SubscribeURL with this before confirming.
 */
export function isAllowedSnsUrl(url: string, certHostPattern: RegExp, allowHttp = false): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const schemeOk = parsed.protocol === 'https:' || (allowHttp && parsed.protocol === 'http:');
  if (!schemeOk) return false;
  if (parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.port !== '' && !allowHttp) return false;
  return fullMatch(certHostPattern, parsed.hostname);
}

/** isAllowedSnsUrl, plus a path ending in `.pem` and no query or fragment. */
export function isAllowedSigningCertUrl(
  url: string,
  certHostPattern: RegExp,
  allowHttp = false,
): boolean {
  if (!isAllowedSnsUrl(url, certHostPattern, allowHttp)) return false;
  const parsed = new URL(url);
  return parsed.pathname.endsWith('.pem') && parsed.search === '' && parsed.hash === '';
}

export interface VerifiedSnsMessage {
  readonly type: SnsMessageType;
  readonly messageId: string;
  readonly topicArn: string;
  /** Still a string: SNS carries the marketplace's JSON as text. */
  readonly message: string;
  readonly timestamp: string;
  readonly subject?: string;
  readonly subscribeUrl?: string;
  readonly unsubscribeUrl?: string;
  /** The parsed request body, extra fields included. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface SnsMessageVerifierOptions {
  readonly certHostPattern: RegExp;
  /** Only for the local simulator: accept http:// certificate URLs (and explicit ports). */
  readonly allowHttp?: boolean;
  readonly topicArnPattern: RegExp;
  /** Returns the PEM at a URL (certificate or public key). Default: fetch, bounded and timed. */
  readonly fetchCertificate?: (url: string) => Promise<string>;
  readonly certCacheMaxEntries?: number;
  readonly fetchTimeoutMs?: number;
  /** Refuse messages whose Timestamp is older than this; Infinity turns the check off. */
  readonly maxMessageAgeMs?: number;
  readonly now?: () => Date;
}

/** GETs a PEM over HTTP(S): no redirects, a timeout, and at most `maxBytes` of body. */
export async function fetchPem(
  url: string,
  timeoutMs: number = SNS_CERT_FETCH_TIMEOUT_MS,
  maxBytes: number = SNS_CERT_MAX_BYTES,
): Promise<string> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: body of ${declared} bytes exceeds ${maxBytes}`);
  }
  if (!response.body) throw new Error(`GET ${url} returned no body`);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`GET ${url}: body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class SnsMessageVerifier {
  private readonly keys = new Map<string, Promise<KeyObject>>();
  private readonly fetchCertificate: (url: string) => Promise<string>;
  private readonly cacheMax: number;
  private readonly maxAgeMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: SnsMessageVerifierOptions) {
    const timeoutMs = options.fetchTimeoutMs ?? SNS_CERT_FETCH_TIMEOUT_MS;
    this.fetchCertificate = options.fetchCertificate ?? ((url) => fetchPem(url, timeoutMs));
    this.cacheMax = Math.max(1, options.certCacheMaxEntries ?? SNS_CERT_CACHE_MAX_ENTRIES);
    this.maxAgeMs = options.maxMessageAgeMs ?? SNS_MAX_MESSAGE_AGE_MS;
    this.now = options.now ?? (() => new Date());
  }

  /** Verifies a raw request body; every failure is an SnsVerificationError. */
  async verify(body: string): Promise<VerifiedSnsMessage> {
    const raw = parseBody(body);
    const parsed = SnsEnvelopeSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
      throw new SnsVerificationError('invalid_sns_message', `Not an SNS message (${where})`);
    }
    const envelope = parsed.data;
    const { certHostPattern, topicArnPattern, allowHttp = false } = this.options;
    if (!isAllowedSigningCertUrl(envelope.SigningCertURL, certHostPattern, allowHttp)) {
      throw new SnsVerificationError(
        'sns_cert_url_not_allowed',
        'SNS SigningCertURL is not an allowed SNS certificate URL',
      );
    }
    if (!fullMatch(topicArnPattern, envelope.TopicArn)) {
      throw new SnsVerificationError('sns_topic_not_allowed', 'SNS TopicArn is not allowed');
    }
    const stringToSign = snsStringToSign(envelope);
    const key = await this.key(new URL(envelope.SigningCertURL).href);
    if (!signatureMatches(envelope, stringToSign, key)) {
      throw new SnsVerificationError('sns_signature_invalid', 'SNS message signature is invalid');
    }
    const sentAt = Date.parse(envelope.Timestamp);
    if (Number.isNaN(sentAt)) {
      throw new SnsVerificationError('invalid_sns_message', 'SNS Timestamp is not a date');
    }
    if (this.now().getTime() - sentAt > this.maxAgeMs) {
      throw new SnsVerificationError(
        'sns_message_too_old',
        `SNS message is older than ${this.maxAgeMs} ms`,
      );
    }
    return {
      type: envelope.Type,
      messageId: envelope.MessageId,
      topicArn: envelope.TopicArn,
      message: envelope.Message,
      timestamp: envelope.Timestamp,
      ...(envelope.Subject === undefined ? {} : { subject: envelope.Subject }),
      ...(envelope.SubscribeURL === undefined ? {} : { subscribeUrl: envelope.SubscribeURL }),
      ...(envelope.UnsubscribeURL === undefined ? {} : { unsubscribeUrl: envelope.UnsubscribeURL }),
      raw,
    };
  }

  /** The public key behind a certificate URL, from the LRU or fetched once (failures not kept). */
  private key(url: string): Promise<KeyObject> {
    const cached = this.keys.get(url);
    if (cached) {
      this.keys.delete(url);
      this.keys.set(url, cached);
      return cached;
    }
    const loading = this.load(url);
    this.keys.set(url, loading);
    loading.catch(() => {
      if (this.keys.get(url) === loading) this.keys.delete(url);
    });
    while (this.keys.size > this.cacheMax) {
      const oldest = this.keys.keys().next();
      if (oldest.done) break;
      this.keys.delete(oldest.value);
    }
    return loading;
  }

  private async load(url: string): Promise<KeyObject> {
    let key: KeyObject;
    try {
      const pem = (await this.fetchCertificate(url)).trim();
      // Only a PEM document: OpenSSL would skip text around it, we do not.
      if (!/^-----BEGIN [A-Z ]+-----\r?\n[\s\S]+\r?\n-----END [A-Z ]+-----$/.test(pem)) {
        throw new Error('The response is not a PEM document');
      }
      key = createPublicKey(pem);
    } catch (error) {
      throw new SnsVerificationError(
        'sns_cert_fetch_failed',
        'Could not fetch or read the SNS signing certificate',
        { cause: error },
      );
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new SnsVerificationError(
        'sns_cert_fetch_failed',
        `SNS signing certificate holds a ${key.asymmetricKeyType} key, not RSA`,
      );
    }
    return key;
  }
}

function parseBody(body: string): Readonly<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new SnsVerificationError('invalid_sns_message', 'SNS message is not valid JSON', {
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SnsVerificationError('invalid_sns_message', 'SNS message is not a JSON object');
  }
  return value as Record<string, unknown>;
}

function signatureMatches(envelope: SnsEnvelope, stringToSign: string, key: KeyObject): boolean {
  try {
    const verifier = createVerify(envelope.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    verifier.update(stringToSign, 'utf8');
    verifier.end();
    return verifier.verify(key, Buffer.from(envelope.Signature, 'base64'));
  } catch {
    return false;
  }
}
