// Proves that SNS messages are accepted only when authentic (v1 and v2 signatures over AWS's
// canonical string, from an allowed certificate URL and topic, fresh enough), that every other
// message is refused with its machine reason before any certificate is fetched from a foreign host,
// and that certificates are cached — with an injected fetcher and clock, no network.
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { UnauthorizedError } from '../../../../lib/app/errors';
import {
  buildSnsNotification,
  createSnsSigner,
  type UnsignedSnsEnvelope,
} from '../../../../lib/local/simulators/sns-signer';
import {
  AWS_MARKETPLACE_TOPIC_ARN_PATTERN,
  AWS_SNS_CERT_HOST_PATTERN,
  isAllowedSnsUrl,
  type SnsEnvelope,
  SnsMessageVerifier,
  type SnsMessageVerifierOptions,
  SnsVerificationError,
  snsStringToSign,
} from '../../../../lib/marketplaces/aws/sns-verify';

const RUNS = { numRuns: 100, seed: 20261123 } as const;
const TOPIC = 'arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-abc123';
const OTHER_MP_TOPIC = 'arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-abc123';
const CERT_URL =
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const SENT_AT = '2026-03-01T11:59:58.123Z';

const signer = createSnsSigner();
const stranger = createSnsSigner();

function setup(options: Partial<SnsMessageVerifierOptions> = {}) {
  const fetchCertificate = vi.fn(async (_url: string) => signer.publicKeyPem);
  const verifier = new SnsMessageVerifier({
    certHostPattern: AWS_SNS_CERT_HOST_PATTERN,
    topicArnPattern: AWS_MARKETPLACE_TOPIC_ARN_PATTERN,
    fetchCertificate,
    now: () => NOW,
    ...options,
  });
  return { verifier, fetchCertificate };
}

function notification(extra: Partial<UnsignedSnsEnvelope> = {}): UnsignedSnsEnvelope {
  return {
    ...buildSnsNotification({
      topicArn: TOPIC,
      message: { action: 'subscribe-success', 'customer-identifier': 'X01EXAMPLEX' },
      messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      timestamp: SENT_AT,
    }),
    ...extra,
  };
}

function subscriptionConfirmation(): UnsignedSnsEnvelope {
  const token = '2336412f37fb687f5d51e6e2425f004aed9d6c0c4b0f1b7a0e3e4b4d0f9a1c2d';
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
    Token: token,
    TopicArn: TOPIC,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${token}`,
    Timestamp: SENT_AT,
  };
}

const body = (envelope: object): string => JSON.stringify(envelope);

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SnsVerificationError) return error.reason;
    throw error;
  }
  return 'accepted';
}

/** A minimal self-signed X.509 certificate (DER built by hand), to prove certificate PEMs work. */
function selfSignedCertificatePem(publicKey: KeyObject, privateKey: KeyObject): string {
  const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
    const content = Buffer.concat(parts);
    const n = content.length;
    const length =
      n < 0x80
        ? Buffer.from([n])
        : n < 0x100
          ? Buffer.from([0x81, n])
          : Buffer.from([0x82, n >> 8, n & 0xff]);
    return Buffer.concat([Buffer.from([tag]), length, content]);
  };
  const hex = (h: string) => Buffer.from(h, 'hex');
  const sha256WithRsa = tlv(0x30, tlv(0x06, hex('2a864886f70d01010b')), tlv(0x05));
  const name = tlv(
    0x30,
    tlv(0x31, tlv(0x30, tlv(0x06, hex('550403')), tlv(0x0c, Buffer.from('sns.test.invalid')))),
  );
  const tbs = tlv(
    0x30,
    tlv(0xa0, tlv(0x02, hex('02'))),
    tlv(0x02, hex('01')),
    sha256WithRsa,
    name,
    tlv(0x30, tlv(0x17, Buffer.from('250101000000Z')), tlv(0x17, Buffer.from('491231235959Z'))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = createSign('RSA-SHA256').update(tbs).sign(privateKey);
  const der = tlv(0x30, tbs, sha256WithRsa, tlv(0x03, hex('00'), signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

describe('snsStringToSign', () => {
  it('lists Message, MessageId, Subject only if present, Timestamp, TopicArn, Type', () => {
    const n = notification();
    expect(snsStringToSign(n)).toBe(
      `Message\n${n.Message}\nMessageId\n${n.MessageId}\nTimestamp\n${SENT_AT}\nTopicArn\n${TOPIC}\nType\nNotification\n`,
    );
    expect(snsStringToSign({ ...n, Subject: 'Hi' })).toContain(
      `MessageId\n${n.MessageId}\nSubject\nHi\nTimestamp\n`,
    );
  });

  it('for confirmations lists SubscribeURL and Token in their places, never Subject', () => {
    const c = subscriptionConfirmation();
    expect(snsStringToSign({ ...c, Subject: 'ignored' })).toBe(
      `Message\n${c.Message}\nMessageId\n${c.MessageId}\nSubscribeURL\n${c.SubscribeURL}\nTimestamp\n${SENT_AT}\nToken\n${c.Token}\nTopicArn\n${TOPIC}\nType\nSubscriptionConfirmation\n`,
    );
  });
});

describe('SnsMessageVerifier: authentic messages', () => {
  it.each(['1', '2'] as const)('accepts a version %s Notification without Subject', async (v) => {
    const { verifier, fetchCertificate } = setup();
    const unsigned = notification();
    const signed = signer.sign(unsigned, { certUrl: CERT_URL, version: v });
    const verified = await verifier.verify(body(signed));
    expect(verified).toEqual({
      type: 'Notification',
      messageId: unsigned.MessageId,
      topicArn: TOPIC,
      message: unsigned.Message,
      timestamp: SENT_AT,
      unsubscribeUrl: unsigned.UnsubscribeURL,
      raw: JSON.parse(body(signed)),
    });
    expect(JSON.parse(verified.message)).toMatchObject({ action: 'subscribe-success' });
    expect(fetchCertificate).toHaveBeenCalledWith(CERT_URL);
  });

  it.each(['1', '2'] as const)('accepts a version %s Notification with a Subject', async (v) => {
    const { verifier } = setup();
    const signed = signer.sign(notification({ Subject: 'Entitlement changed' }), {
      certUrl: CERT_URL,
      version: v,
    });
    await expect(verifier.verify(body(signed))).resolves.toMatchObject({
      subject: 'Entitlement changed',
    });
  });

  it.each(['1', '2'] as const)('accepts a version %s SubscriptionConfirmation', async (v) => {
    const { verifier } = setup();
    const unsigned = subscriptionConfirmation();
    const signed = signer.sign(unsigned, { certUrl: CERT_URL, version: v });
    const verified = await verifier.verify(body(signed));
    expect(verified.type).toBe('SubscriptionConfirmation');
    expect(verified.subscribeUrl).toBe(unsigned.SubscribeURL);
    expect(isAllowedSnsUrl(verified.subscribeUrl ?? '', AWS_SNS_CERT_HOST_PATTERN, false)).toBe(
      true,
    );
  });

  it('accepts an UnsubscribeConfirmation and keeps unknown extra fields in raw', async () => {
    const { verifier } = setup();
    const signed = signer.sign(
      { ...subscriptionConfirmation(), Type: 'UnsubscribeConfirmation' },
      { certUrl: CERT_URL },
    );
    const verified = await verifier.verify(body({ ...signed, MessageAttributes: { a: 1 } }));
    expect(verified.type).toBe('UnsubscribeConfirmation');
    expect(verified.raw.MessageAttributes).toEqual({ a: 1 });
  });

  it('accepts an X.509 certificate PEM as well as a public-key PEM', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const certificate = selfSignedCertificatePem(publicKey, privateKey);
    const { verifier } = setup({ fetchCertificate: async () => certificate });
    const unsigned = notification();
    const signature = createSign('RSA-SHA256').update(snsStringToSign(unsigned)).sign(privateKey);
    const signed: SnsEnvelope = {
      ...unsigned,
      SignatureVersion: '2',
      Signature: signature.toString('base64'),
      SigningCertURL: CERT_URL,
    };
    await expect(verifier.verify(body(signed))).resolves.toMatchObject({ type: 'Notification' });
    await expect(
      reasonOf(verifier.verify(body({ ...signed, Message: `${unsigned.Message} ` }))),
    ).resolves.toBe('sns_signature_invalid');
  });

  it('allows an http certificate URL with a port only with allowHttp (local simulator)', async () => {
    const localUrl = 'http://127.0.0.1:4566/sns/signing-cert.pem';
    const local = setup({ certHostPattern: /^127\.0\.0\.1$/, allowHttp: true });
    const signed = signer.sign(notification(), { certUrl: localUrl });
    await expect(local.verifier.verify(body(signed))).resolves.toMatchObject({
      type: 'Notification',
    });
    const strict = setup({ certHostPattern: /^127\.0\.0\.1$/ });
    await expect(reasonOf(strict.verifier.verify(body(signed)))).resolves.toBe(
      'sns_cert_url_not_allowed',
    );
    expect(strict.fetchCertificate).not.toHaveBeenCalled();
  });
});

describe('SnsMessageVerifier: refusals', () => {
  it('fails as an UnauthorizedError (401) with code unauthorized and a machine reason', async () => {
    const { verifier } = setup();
    const error = await verifier.verify('{').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toMatchObject({ code: 'unauthorized', reason: 'invalid_sns_message' });
  });

  it.each([
    ['Message', (e: SnsEnvelope) => ({ ...e, Message: e.Message.replace('success', 'fail') })],
    ['MessageId', (e: SnsEnvelope) => ({ ...e, MessageId: `${e.MessageId.slice(0, -1)}f` })],
    ['Timestamp', () => ({ Timestamp: '2026-03-01T11:59:58.124Z' })],
    ['TopicArn', () => ({ TopicArn: OTHER_MP_TOPIC })],
    ['Type', () => ({ Type: 'SubscriptionConfirmation', SubscribeURL: CERT_URL, Token: 't' })],
    ['Subject (added)', () => ({ Subject: 'injected' })],
    [
      'SignatureVersion',
      (e: SnsEnvelope) => ({ SignatureVersion: e.SignatureVersion === '2' ? '1' : '2' }),
    ],
  ])('a tampered %s makes the signature invalid', async (_field, tamper) => {
    const { verifier } = setup();
    const signed = signer.sign(notification(), { certUrl: CERT_URL });
    await expect(reasonOf(verifier.verify(body(signed)))).resolves.toBe('accepted');
    const tampered = { ...signed, ...tamper(signed) };
    await expect(reasonOf(verifier.verify(body(tampered)))).resolves.toBe('sns_signature_invalid');
  });

  it('refuses a signature made with another key', async () => {
    const { verifier } = setup();
    const forged = stranger.sign(notification(), { certUrl: CERT_URL });
    await expect(reasonOf(verifier.verify(body(forged)))).resolves.toBe('sns_signature_invalid');
  });

  it.each([
    'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
    'https://evil.example/sns.us-east-1.amazonaws.com.pem',
    'http://sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com/x.txt',
    'https://sns.us-east-1.amazonaws.com/x.pem?y=1',
    'https://sns.us-east-1.amazonaws.com/x.php?.pem',
    'https://sns.us-east-1.amazonaws.com@evil.example/x.pem',
    'https://user:pw@sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com:8443/x.pem',
    'https://sns.us-east-1.amazonaws.com./x.pem',
    'https://xsns.us-east-1.amazonaws.com/x.pem',
    'ftp://sns.us-east-1.amazonaws.com/x.pem',
    'file:///etc/sns.us-east-1.amazonaws.com.pem',
    '/relative/x.pem',
    'not a url',
  ])('refuses certificate URL %s without fetching it', async (certUrl) => {
    const { verifier, fetchCertificate } = setup();
    const signed = signer.sign(notification(), { certUrl });
    await expect(reasonOf(verifier.verify(body(signed)))).resolves.toBe('sns_cert_url_not_allowed');
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('accepts the China partition and the default https port', async () => {
    const { verifier } = setup();
    for (const certUrl of [
      'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem',
      'https://SNS.us-east-1.amazonaws.com:443/SimpleNotificationService-abc.pem',
    ]) {
      const signed = signer.sign(notification(), { certUrl });
      await expect(reasonOf(verifier.verify(body(signed)))).resolves.toBe('accepted');
    }
  });

  it('checks SubscribeURL-style URLs with the same host rule', () => {
    const ok = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=t`;
    expect(isAllowedSnsUrl(ok, AWS_SNS_CERT_HOST_PATTERN, false)).toBe(true);
    expect(
      isAllowedSnsUrl(
        ok.replace('amazonaws.com', 'amazonaws.com.evil.example'),
        AWS_SNS_CERT_HOST_PATTERN,
        false,
      ),
    ).toBe(false);
    expect(isAllowedSnsUrl(ok.replace('https:', 'http:'), AWS_SNS_CERT_HOST_PATTERN, false)).toBe(
      false,
    );
    expect(isAllowedSnsUrl(ok.replace('https:', 'http:'), AWS_SNS_CERT_HOST_PATTERN, true)).toBe(
      true,
    );
    // A global or unanchored pattern still has to match the whole host, every time.
    expect(
      isAllowedSnsUrl('https://sns.amazonaws.com.evil.example/', /sns\.amazonaws\.com/g, false),
    ).toBe(false);
    expect(isAllowedSnsUrl('https://sns.amazonaws.com/', /sns\.amazonaws\.com/g, false)).toBe(true);
    expect(isAllowedSnsUrl('https://sns.amazonaws.com/', /sns\.amazonaws\.com/g, false)).toBe(true);
  });

  it('refuses a topic other than the AWS Marketplace ones, without fetching', async () => {
    const { verifier, fetchCertificate } = setup();
    for (const topicArn of [
      'arn:aws:sns:us-east-1:123456789012:aws-mp-subscription-notification-abc123',
      'arn:aws:sns:us-west-2:287250355862:aws-mp-subscription-notification-abc123',
      `${TOPIC}:extra`,
    ]) {
      const signed = signer.sign(notification({ TopicArn: topicArn }), { certUrl: CERT_URL });
      await expect(reasonOf(verifier.verify(body(signed)))).resolves.toBe('sns_topic_not_allowed');
    }
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('reports a certificate that cannot be fetched or read, and retries it next time', async () => {
    const signed = body(signer.sign(notification(), { certUrl: CERT_URL }));
    const fetchCertificate = vi
      .fn<(url: string) => Promise<string>>()
      .mockRejectedValueOnce(new Error('ECONNRESET'))
      .mockResolvedValueOnce('<html>not a pem</html>')
      .mockResolvedValueOnce(`<xml><value>\n${signer.publicKeyPem}\n</value></xml>`)
      .mockResolvedValueOnce(
        generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString(),
      )
      .mockResolvedValue(signer.publicKeyPem);
    const { verifier } = setup({ fetchCertificate });
    await expect(reasonOf(verifier.verify(signed))).resolves.toBe('sns_cert_fetch_failed');
    await expect(reasonOf(verifier.verify(signed))).resolves.toBe('sns_cert_fetch_failed');
    await expect(reasonOf(verifier.verify(signed))).resolves.toBe('sns_cert_fetch_failed');
    await expect(reasonOf(verifier.verify(signed))).resolves.toBe('sns_cert_fetch_failed');
    await expect(reasonOf(verifier.verify(signed))).resolves.toBe('accepted');
    await expect(reasonOf(verifier.verify(signed))).resolves.toBe('accepted');
    expect(fetchCertificate).toHaveBeenCalledTimes(5);
  });

  it('refuses an authentic message older than maxMessageAgeMs (default one hour)', async () => {
    const old = body(
      signer.sign(notification({ Timestamp: '2026-03-01T10:59:59.999Z' }), { certUrl: CERT_URL }),
    );
    const recent = body(
      signer.sign(notification({ Timestamp: '2026-03-01T11:00:00.000Z' }), { certUrl: CERT_URL }),
    );
    await expect(reasonOf(setup().verifier.verify(old))).resolves.toBe('sns_message_too_old');
    await expect(reasonOf(setup().verifier.verify(recent))).resolves.toBe('accepted');
    await expect(
      reasonOf(setup({ maxMessageAgeMs: 60_000 }).verifier.verify(recent)),
    ).resolves.toBe('sns_message_too_old');
    await expect(
      reasonOf(setup({ maxMessageAgeMs: Number.POSITIVE_INFINITY }).verifier.verify(old)),
    ).resolves.toBe('accepted');
  });

  it.each([
    ['not JSON', '{"Type":'],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['empty', ''],
  ])('refuses a body that is %s', async (_what, text) => {
    const { verifier, fetchCertificate } = setup();
    await expect(reasonOf(verifier.verify(text))).resolves.toBe('invalid_sns_message');
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('refuses an envelope with missing or malformed fields', async () => {
    const { verifier, fetchCertificate } = setup();
    const signed = signer.sign(notification(), { certUrl: CERT_URL });
    const { Signature: _s, ...unsignedBody } = signed;
    const confirmation = signer.sign(subscriptionConfirmation(), { certUrl: CERT_URL });
    const { Token: _t, ...withoutToken } = confirmation;
    for (const bad of [
      unsignedBody,
      withoutToken,
      { ...signed, Type: 'Unknown' },
      { ...signed, SignatureVersion: '3' },
      { ...signed, SignatureVersion: 2 },
      { ...signed, Message: { action: 'subscribe-success' } },
      { ...signed, Timestamp: 'yesterday' },
      { ...signed, Signature: 'not base64!' },
    ]) {
      await expect(reasonOf(verifier.verify(body(bad)))).resolves.toBe('invalid_sns_message');
    }
    expect(fetchCertificate).not.toHaveBeenCalled();
  });
});

describe('SnsMessageVerifier: certificate cache', () => {
  it('fetches a certificate once for two messages, even when they arrive together', async () => {
    const { verifier, fetchCertificate } = setup();
    const first = body(signer.sign(notification(), { certUrl: CERT_URL }));
    const second = body(
      signer.sign(notification({ MessageId: 'b0e1b4c8-0d1c-4d6b-9c55-7a0f0c1d2e3f' }), {
        certUrl: CERT_URL,
        version: '1',
      }),
    );
    await Promise.all([verifier.verify(first), verifier.verify(second)]);
    await verifier.verify(second);
    expect(fetchCertificate).toHaveBeenCalledTimes(1);
  });

  it('evicts the least recently used certificate beyond certCacheMaxEntries', async () => {
    const { verifier, fetchCertificate } = setup({ certCacheMaxEntries: 2 });
    const at = (n: number) =>
      body(
        signer.sign(notification(), {
          certUrl: `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${n}.pem`,
        }),
      );
    for (const n of [1, 2, 1, 3, 1, 2]) await verifier.verify(at(n));
    // 1 and 2 fetched; 1 reused; 3 evicts 2 (least recent); 1 reused; 2 fetched again.
    expect(fetchCertificate.mock.calls.map(([url]) => url.slice(-6))).toEqual([
      '-1.pem',
      '-2.pem',
      '-3.pem',
      '-2.pem',
    ]);
  });
});

describe('SnsMessageVerifier: property', () => {
  it('sign → verify succeeds, and flipping any one character of Message fails', async () => {
    const { verifier } = setup();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
        fc.option(fc.string({ unit: 'binary', maxLength: 100 }), { nil: undefined }),
        fc.constantFrom('1' as const, '2' as const),
        fc.nat(),
        async (message, subject, version, position) => {
          const unsigned = notification({
            Message: message,
            ...(subject === undefined ? {} : { Subject: subject }),
          });
          const signed = signer.sign(unsigned, { certUrl: CERT_URL, version });
          const verified = await verifier.verify(body(signed));
          expect(verified.message).toBe(message);
          const codePoints = Array.from(message);
          const index = position % codePoints.length;
          const flipped = String.fromCodePoint((codePoints[index]?.codePointAt(0) ?? 0) ^ 1);
          codePoints[index] = flipped;
          const tampered = { ...signed, Message: codePoints.join('') };
          expect(await reasonOf(verifier.verify(body(tampered)))).toBe('sns_signature_invalid');
        },
      ),
      RUNS,
    );
  });
});
