// Proves the email outbox without I/O: the .eml text is RFC 5322/MIME (CRLF, Date, Message-ID from the deterministic id, UTF-8 subjects as RFC 2047 words, quoted-printable bodies that decode back, no header injection), a message with attachments is multipart/mixed with each file base64-encoded and decoding back byte for byte, bad input (attachments included) is refused before anything is sent, and SES gets exactly the expected SendEmail input — simple content, or raw MIME with attachments — with bounded timeouts and attempts, its refusals mapped to permanent or transient errors.
import {
  LimitExceededException,
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmailMessage } from '../../../lib/app/reminder-ports';
import { InvalidInputError } from '../../../lib/domain/errors';
import {
  EMAIL_ATTACHMENTS_BYTES_MAX,
  EMAIL_ATTACHMENTS_MAX,
  EMAIL_RECIPIENTS_MAX,
  EmailSendError,
  MESSAGE_ID_HEADER,
  mimeBoundary,
  quotedPrintable,
  renderEml,
  rfc5322Date,
  SES_ATTEMPTS_MAX,
  SES_REQUEST_TIMEOUT_MS,
  SesEmailOutbox,
  senderAddress,
  sesClientConfig,
} from '../../../lib/outbound/email-outbox';

const message: EmailMessage = {
  id: 'rem_0123456789abcdef0123456789abcdef',
  to: ['seller@example.com', 'deals@example.com'],
  subject: 'Private offer "Acme" expires in 7 days (2026-06-30)',
  text: 'Offer: Acme\nDays left: 7\n',
  at: '2026-06-23T06:00:00.000Z',
};

/** Splits an .eml into unfolded headers (name → value) and the raw body. */
function parse(eml: string): { headers: Map<string, string>; body: string } {
  const split = eml.indexOf('\r\n\r\n');
  expect(split).toBeGreaterThan(0);
  const headers = new Map<string, string>();
  const unfolded = eml.slice(0, split).replace(/\r\n[ \t]/g, ' ');
  for (const line of unfolded.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return { headers, body: eml.slice(split + 4) };
}

function decodeWords(value: string): string {
  return value
    .split(' ')
    .map((word) => {
      const match = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/.exec(word);
      return match ? Buffer.from(match[1] ?? '', 'base64') : Buffer.from(word, 'utf8');
    })
    .reduce((all, part) => Buffer.concat([all, part]), Buffer.alloc(0))
    .toString('utf8');
}

function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i += 1) {
    const char = joined[i] ?? '';
    if (char === '=') {
      bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (char === '\r' && joined[i + 1] === '\n') {
      bytes.push(10);
      i += 1;
    } else bytes.push(char.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('renderEml', () => {
  it('writes the RFC 5322 headers, MIME text/plain and a CRLF-separated body', () => {
    const eml = renderEml('Agora <agora@mail.example.com>', message);
    expect(eml).not.toMatch(/[^\r]\n/);
    const { headers, body } = parse(eml);
    expect([...headers.keys()]).toEqual([
      'From',
      'To',
      'Subject',
      'Date',
      'Message-ID',
      'MIME-Version',
      'Content-Type',
      'Content-Transfer-Encoding',
    ]);
    expect(headers.get('From')).toBe('Agora <agora@mail.example.com>');
    expect(headers.get('To')).toBe('seller@example.com, deals@example.com');
    expect(headers.get('Subject')).toBe(message.subject);
    expect(headers.get('Date')).toBe('Tue, 23 Jun 2026 06:00:00 +0000');
    expect(headers.get('Message-ID')).toBe(`<${message.id}@mail.example.com>`);
    expect(headers.get('MIME-Version')).toBe('1.0');
    expect(headers.get('Content-Type')).toBe('text/plain; charset=utf-8');
    expect(headers.get('Content-Transfer-Encoding')).toBe('quoted-printable');
    expect(body).toBe('Offer: Acme\r\nDays left: 7\r\n\r\n');
    expect(renderEml('Agora <agora@mail.example.com>', message)).toBe(eml);
  });

  it('encodes a UTF-8 subject as RFC 2047 words of at most 76 characters a line', () => {
    const subject = `Privates Angebot „Größenwahn GmbH — 2 Jahre“ läuft in 7 Tagen ab ${'✓'.repeat(30)}`;
    const eml = renderEml('agora@example.com', { ...message, subject });
    const head = eml.slice(0, eml.indexOf('\r\n\r\n'));
    for (const line of head.split('\r\n')) {
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line).toMatch(/^[\x20-\x7e]*$/);
    }
    expect(decodeWords(parse(eml).headers.get('Subject') ?? '')).toBe(subject);
  });

  it('folds a long ASCII subject and a long recipient list without losing a character', () => {
    const subject = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const to = Array.from({ length: 12 }, (_, i) => `seller-${i}@example.com`);
    const eml = renderEml('agora@example.com', { ...message, subject, to });
    const head = eml.slice(0, eml.indexOf('\r\n\r\n'));
    for (const line of head.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    const { headers } = parse(eml);
    expect(headers.get('Subject')).toBe(subject);
    expect(headers.get('To')).toBe(to.join(', '));
  });

  it('keeps a subject with CR or LF in one header: nothing can be injected', () => {
    const eml = renderEml('agora@example.com', {
      ...message,
      subject: 'Hello\r\nBcc: victim@example.com\r\n\r\nbody',
    });
    const head = eml.slice(0, eml.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/^Bcc:/m);
    expect(parse(eml).headers.get('Subject')).toBe('Hello Bcc: victim@example.com body');
  });

  it('refuses bad recipients, ids, instants and senders before writing anything', () => {
    const bad: Partial<EmailMessage>[] = [
      { to: [] },
      { to: ['not-an-address'] },
      { to: ['a@example.com\r\nBcc: b@example.com'] },
      { to: Array.from({ length: EMAIL_RECIPIENTS_MAX + 1 }, (_, i) => `s${i}@example.com`) },
      { id: '../../etc/passwd' },
      { id: '' },
      { at: 'yesterday' },
    ];
    for (const change of bad)
      expect(() => renderEml('agora@example.com', { ...message, ...change })).toThrow(
        InvalidInputError,
      );
    expect(() => renderEml('Agora agora@example.com', message)).toThrow(InvalidInputError);
    expect(senderAddress('Agora Reminders <agora@example.com>')).toBe('agora@example.com');
  });

  it('dates in RFC 5322 form', () => {
    expect(rfc5322Date('2026-01-05T23:59:07Z')).toBe('Mon, 05 Jan 2026 23:59:07 +0000');
  });

  it('property: quoted-printable lines are short printable ASCII and decode to the text', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.constant(' \t=')), {
          maxLength: 6,
        }),
        (lines) => {
          const text = lines.join('\n');
          const encoded = quotedPrintable(text);
          for (const line of encoded.split('\r\n')) {
            expect(line.length).toBeLessThanOrEqual(76);
            expect(line).toMatch(/^[\x21-\x7e]*(?:[\x20\t]+[\x21-\x7e]+)*$/);
          }
          expect(decodeQuotedPrintable(encoded)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** The parts of a multipart/mixed .eml: each part's headers and raw body. */
function multipart(eml: string): {
  headers: Map<string, string>;
  parts: { headers: Map<string, string>; body: string }[];
} {
  const { headers, body } = parse(eml);
  const boundary = /boundary="([^"]+)"/.exec(headers.get('Content-Type') ?? '')?.[1];
  expect(boundary).toBeDefined();
  const chunks = body.split(`--${boundary}`);
  expect(chunks.at(-1)).toBe('--\r\n');
  const parts = chunks.slice(1, -1).map((chunk) => {
    expect(chunk.startsWith('\r\n')).toBe(true);
    expect(chunk.endsWith('\r\n')).toBe(true);
    return parse(chunk.slice(2, -2));
  });
  return { headers, parts };
}

describe('renderEml with attachments', () => {
  const pdf = Buffer.concat([
    Buffer.from('%PDF-1.3\n'),
    Buffer.alloc(5_000, 0xa7),
    Buffer.from('=_agora_ --\r\n'),
  ]);
  const withPdf: EmailMessage = {
    ...message,
    id: 'stmtmail_0123456789abcdef0123456789abcdef',
    attachments: [
      {
        filename: 'commission-statement-P-100-2025-Q3.pdf',
        contentType: 'application/pdf',
        content: pdf,
      },
      { filename: 'notes.txt', contentType: 'text/plain', content: new Uint8Array([104, 105]) },
    ],
  };

  it('writes multipart/mixed: the text part, then each file base64-encoded', () => {
    const eml = renderEml('Agora <agora@mail.example.com>', withPdf);
    expect(eml).not.toMatch(/[^\r]\n/);
    const { headers, parts } = multipart(eml);
    expect([...headers.keys()]).toEqual([
      'From',
      'To',
      'Subject',
      'Date',
      'Message-ID',
      'MIME-Version',
      MESSAGE_ID_HEADER,
      'Content-Type',
    ]);
    expect(headers.get(MESSAGE_ID_HEADER)).toBe(withPdf.id);
    expect(headers.get('Content-Type')).toBe(
      `multipart/mixed; boundary="${mimeBoundary(withPdf.id)}"`,
    );
    expect(parts).toHaveLength(3);
    const [text, file, notes] = parts;
    expect(text?.headers.get('Content-Type')).toBe('text/plain; charset=utf-8');
    expect(decodeQuotedPrintable(text?.body ?? '')).toBe(message.text);
    expect(file?.headers.get('Content-Type')).toBe(
      'application/pdf; name="commission-statement-P-100-2025-Q3.pdf"',
    );
    expect(file?.headers.get('Content-Disposition')).toBe(
      'attachment; filename="commission-statement-P-100-2025-Q3.pdf"',
    );
    expect(file?.headers.get('Content-Transfer-Encoding')).toBe('base64');
    for (const line of (file?.body ?? '').split('\r\n')) {
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line).toMatch(/^[A-Za-z0-9+/=]*$/);
    }
    expect(Buffer.from((file?.body ?? '').replace(/\r\n/g, ''), 'base64').equals(pdf)).toBe(true);
    expect(Buffer.from(notes?.body ?? '', 'base64').toString('utf8')).toBe('hi');
    // Deterministic: the same message renders to the same text (one .eml file per id).
    expect(renderEml('Agora <agora@mail.example.com>', withPdf)).toBe(eml);
  });

  it('keeps a message without attachments text/plain, exactly as before', () => {
    const plain = renderEml('agora@example.com', message);
    expect(renderEml('agora@example.com', { ...message, attachments: [] })).toBe(plain);
    expect(plain).toContain('Content-Type: text/plain; charset=utf-8');
    expect(plain).not.toContain('multipart');
  });

  it('refuses too many, too large or badly named attachments', () => {
    const file = { filename: 'a.pdf', contentType: 'application/pdf', content: new Uint8Array(1) };
    const bad: NonNullable<EmailMessage['attachments']>[] = [
      Array.from({ length: EMAIL_ATTACHMENTS_MAX + 1 }, (_, i) => ({
        ...file,
        filename: `f${i}.pdf`,
      })),
      [{ ...file, content: new Uint8Array(EMAIL_ATTACHMENTS_BYTES_MAX + 1) }],
      [{ ...file, filename: '../../etc/passwd' }],
      [{ ...file, filename: 'a"; evil="b.pdf' }],
      [{ ...file, filename: 'statement\r\nBcc: x@example.com.pdf' }],
      [{ ...file, contentType: 'application/pdf\r\nX-Evil: 1' }],
      [{ ...file, contentType: 'pdf' }],
    ];
    for (const attachments of bad) {
      expect(() => renderEml('agora@example.com', { ...withPdf, attachments })).toThrow(
        InvalidInputError,
      );
    }
  });
});

describe('SesEmailOutbox', () => {
  const ses = mockClient(SESv2Client);
  afterEach(() => ses.reset());

  it('bounds each request and the attempts', () => {
    const config = sesClientConfig({ from: 'agora@example.com', region: 'eu-west-1' });
    expect(config).toMatchObject({
      region: 'eu-west-1',
      maxAttempts: SES_ATTEMPTS_MAX,
      requestHandler: { requestTimeout: SES_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    });
    expect(SES_ATTEMPTS_MAX).toBeLessThanOrEqual(3);
  });

  it('sends exactly one SendEmail with the subject, text, recipients and Agora id', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-0001' });
    const outbox = new SesEmailOutbox({
      from: 'Agora <agora@example.com>',
      region: 'us-east-1',
      configurationSetName: 'agora-reminders',
    });
    await expect(outbox.send(message)).resolves.toBe('ses-0001');
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      FromEmailAddress: 'Agora <agora@example.com>',
      Destination: { ToAddresses: ['seller@example.com', 'deals@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
          Headers: [{ Name: MESSAGE_ID_HEADER, Value: message.id }],
        },
      },
      ConfigurationSetName: 'agora-reminders',
    });
  });

  it('sends a message with attachments as raw MIME, carrying the Agora id header', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-0002' });
    const outbox = new SesEmailOutbox({ from: 'Agora <agora@example.com>', region: 'us-east-1' });
    const content = Buffer.from('%PDF-1.3 statement');
    const withPdf: EmailMessage = {
      ...message,
      attachments: [{ filename: 'statement.pdf', contentType: 'application/pdf', content }],
    };
    await expect(outbox.send(withPdf)).resolves.toBe('ses-0002');
    const input = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input?.FromEmailAddress).toBe('Agora <agora@example.com>');
    expect(input?.Destination).toEqual({ ToAddresses: message.to });
    expect(input?.Content?.Simple).toBeUndefined();
    const raw = Buffer.from(input?.Content?.Raw?.Data ?? new Uint8Array()).toString('utf8');
    expect(raw).toBe(renderEml('Agora <agora@example.com>', withPdf));
    expect(raw).toContain(`${MESSAGE_ID_HEADER}: ${message.id}\r\n`);
    expect(raw).toContain(content.toString('base64'));
  });

  it('maps a refusal to a permanent error and throttling or outages to transient ones', async () => {
    const outbox = new SesEmailOutbox({ from: 'agora@example.com', region: 'us-east-1' });
    const cases: [Error, string, boolean][] = [
      [
        new MessageRejected({ message: 'Email address is not verified', $metadata: {} }),
        'email_rejected',
        true,
      ],
      [
        new TooManyRequestsException({ message: 'slow down', $metadata: {} }),
        'email_unavailable',
        false,
      ],
      [
        new LimitExceededException({ message: 'daily quota', $metadata: {} }),
        'email_unavailable',
        false,
      ],
      [
        Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
        'email_unavailable',
        false,
      ],
    ];
    for (const [error, code, permanent] of cases) {
      ses.reset();
      ses.on(SendEmailCommand).rejects(error);
      const caught = await outbox.send(message).catch((e: unknown) => e);
      expect(caught, error.name).toBeInstanceOf(EmailSendError);
      expect((caught as EmailSendError).code).toBe(code);
      expect((caught as EmailSendError).permanent).toBe(permanent);
      expect((caught as EmailSendError).message).toContain(message.id);
    }
  });

  it('treats an answer without a MessageId as not sent, and never calls SES for bad input', async () => {
    const outbox = new SesEmailOutbox({ from: 'agora@example.com', region: 'us-east-1' });
    ses.on(SendEmailCommand).resolves({});
    await expect(outbox.send(message)).rejects.toMatchObject({ code: 'email_unavailable' });
    ses.reset();
    await expect(outbox.send({ ...message, to: ['nobody'] })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    expect(() => new SesEmailOutbox({ from: 'no at sign', region: 'us-east-1' })).toThrow(
      InvalidInputError,
    );
  });
});
