/**
 * A local stand-in for Amazon SNS's signing, for tests and the local stack: an RSA 2048 key pair
 * generated in memory, envelopes signed exactly as SNS signs them (the same snsStringToSign the
 * verifier uses), and the public key as a PEM to serve at the SigningCertURL. The verifier accepts
 * a public-key PEM as readily as a certificate, so no X.509 certificate is needed.
 */
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { type SnsEnvelope, snsStringToSign } from '../../marketplaces/aws/sns-verify';

export type UnsignedSnsEnvelope = Omit<
  SnsEnvelope,
  'Signature' | 'SignatureVersion' | 'SigningCertURL'
>;

export interface SnsSignOptions {
  /** Goes into SigningCertURL; the verifier fetches the PEM from here. */
  readonly certUrl: string;
  /** '1' signs SHA1withRSA, '2' (the default) SHA256withRSA. */
  readonly version?: '1' | '2';
}

export interface SnsSigner {
  /** SPKI public key PEM: what the SigningCertURL should serve. */
  readonly publicKeyPem: string;
  sign(message: UnsignedSnsEnvelope, opts: SnsSignOptions): SnsEnvelope;
}

export function createSnsSigner(): SnsSigner {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicKeyPem,
    sign(message, opts) {
      const version = opts.version ?? '2';
      const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
      signer.update(snsStringToSign(message), 'utf8');
      signer.end();
      return {
        ...message,
        SignatureVersion: version,
        Signature: signer.sign(privateKey, 'base64'),
        SigningCertURL: opts.certUrl,
      };
    },
  };
}

export interface SnsNotificationInput {
  readonly topicArn: string;
  /** An object is sent as its JSON text, as SNS carries marketplace events. */
  readonly message: object | string;
  readonly messageId?: string;
  readonly timestamp?: Date | string;
  readonly subject?: string;
  /** Default: the SNS Unsubscribe action URL in the topic's region. */
  readonly unsubscribeUrl?: string;
}

/** An unsigned Notification envelope, shaped like the ones SNS delivers over HTTPS. */
export function buildSnsNotification(input: SnsNotificationInput): UnsignedSnsEnvelope {
  const region = input.topicArn.split(':')[3] || 'us-east-1';
  const subscriptionArn = `${input.topicArn}:${randomUUID()}`;
  const timestamp = input.timestamp ?? new Date();
  return {
    Type: 'Notification',
    MessageId: input.messageId ?? randomUUID(),
    TopicArn: input.topicArn,
    ...(input.subject === undefined ? {} : { Subject: input.subject }),
    Message: typeof input.message === 'string' ? input.message : JSON.stringify(input.message),
    Timestamp: typeof timestamp === 'string' ? timestamp : timestamp.toISOString(),
    UnsubscribeURL:
      input.unsubscribeUrl ??
      `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
  };
}
