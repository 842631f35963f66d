/**
 * The email outbox: SES (API v2) in the cloud, a folder of RFC 5322 `.eml` files locally (open
 * them with any mail client). Both take a deterministic message id: the folder names its file
 * after it, so a retried message overwrites its file instead of adding a second one.
 *
 * A message with attachments (a statement's PDF) is multipart/mixed: the text part, then each
 * file base64-encoded. SES sends it as raw MIME (SendEmail `Content.Raw`); the folder writes the
 * same text. Without attachments a message stays text/plain, as before.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SESv2Client, SESv2ServiceException, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { EmailMessage, EmailOutbox } from '../app/reminder-ports';
import { AgoraError, InvalidInputError } from '../domain/errors';

/** SES accepts at most 50 recipients per message. */
export const EMAIL_RECIPIENTS_MAX = 50;
export const EMAIL_SUBJECT_LENGTH_MAX = 998;
/** A plain-text body larger than this is a bug, not an email (SES's limit is 40 MB). */
export const EMAIL_TEXT_BYTES_MAX = 256 * 1024;
export const SES_REQUEST_TIMEOUT_MS = 5_000;
export const SES_CONNECT_TIMEOUT_MS = 3_000;
/** SDK attempts (standard retry mode: throttling, 5xx and timeouts, with backoff). */
export const SES_ATTEMPTS_MAX = 3;
/** The header carrying Agora's message id through SES (SES sets its own Message-ID). */
export const MESSAGE_ID_HEADER = 'X-Agora-Message-Id';
/** Files attached to one message, and their total size before encoding (SES raw: 40 MB). */
export const EMAIL_ATTACHMENTS_MAX = 5;
export const EMAIL_ATTACHMENTS_BYTES_MAX = 10 * 1024 * 1024;
/** Base64 characters per line of an attachment (RFC 2045: at most 76). */
const BASE64_LINE_LENGTH = 76;

/** SES errors a later attempt will not fix: the message or the account is refused. */
const SES_PERMANENT_ERRORS = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'BadRequestException',
  'NotFoundException',
]);

/** The message was not accepted; `permanent` when trying again will not help. */
export class EmailSendError extends AgoraError {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** "Agora <agora@example.com>" — a plain ASCII display name and an address. */
const NAMED_ADDRESS = /^([A-Za-z0-9 .'_-]{1,64}) <([^<>\s]+)>$/;
const ID = /^[A-Za-z0-9_.-]{1,128}$/;
const ATTACHMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('invalid_email', message);
}

/** Checks a sender ("addr" or "Name <addr>") and returns its address part. */
export function senderAddress(from: string): string {
  const named = NAMED_ADDRESS.exec(from);
  const address = named ? (named[2] ?? '') : from;
  if (!ADDRESS.test(address)) throw invalid(`Not a sender address: "${from.slice(0, 200)}"`);
  return address;
}

function checkMessage(message: EmailMessage): void {
  if (!ID.test(message.id)) throw invalid(`Not a message id: "${message.id.slice(0, 200)}"`);
  if (message.to.length === 0 || message.to.length > EMAIL_RECIPIENTS_MAX)
    throw invalid(`An email goes to 1 to ${EMAIL_RECIPIENTS_MAX} addresses`);
  for (const to of message.to)
    if (!ADDRESS.test(to)) throw invalid(`Not an email address: "${to.slice(0, 200)}"`);
  if (Number.isNaN(Date.parse(message.at))) throw invalid(`Not an instant: "${message.at}"`);
  if (Buffer.byteLength(message.text, 'utf8') > EMAIL_TEXT_BYTES_MAX)
    throw invalid(`An email's text is at most ${EMAIL_TEXT_BYTES_MAX} bytes`);
  const attachments = message.attachments ?? [];
  if (attachments.length > EMAIL_ATTACHMENTS_MAX)
    throw invalid(`An email carries at most ${EMAIL_ATTACHMENTS_MAX} attachments`);
  let bytes = 0;
  for (const file of attachments) {
    if (!ATTACHMENT_NAME.test(file.filename))
      throw invalid(`Not an attachment file name: "${file.filename.slice(0, 200)}"`);
    if (!MIME_TYPE.test(file.contentType))
      throw invalid(`Not a MIME type: "${file.contentType.slice(0, 200)}"`);
    bytes += file.content.byteLength;
  }
  if (bytes > EMAIL_ATTACHMENTS_BYTES_MAX)
    throw invalid(`An email's attachments are at most ${EMAIL_ATTACHMENTS_BYTES_MAX} bytes`);
}

/** One line, no control characters (a CR or LF would start a new header), bounded. */
function subjectOf(subject: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const line = subject.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.slice(0, EMAIL_SUBJECT_LENGTH_MAX);
}

// ---------------------------------------------------------------------------------------------
// RFC 5322 / MIME
// ---------------------------------------------------------------------------------------------

const CRLF = '\r\n';
/** Characters of an encoded line before its soft break (RFC 2045: lines of at most 76). */
const QP_LINE_MAX = 75;
/**
 * UTF-8 bytes per encoded word: base64 of 39 bytes is 52 characters, 64 with its frame, so
 * "Subject: " and the word stay within RFC 2047's 76 characters per line.
 */
const ENCODED_WORD_BYTES_MAX = 39;
const HEADER_LINE_MAX = 78;

function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/** RFC 5322 date-time in UTC: "Tue, 02 Jun 2026 09:00:00 +0000". */
export function rfc5322Date(at: string): string {
  return new Date(at).toUTCString().replace(/GMT$/, '+0000');
}

/** RFC 2047 encoded words (UTF-8, base64), whole characters per word, folded. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > ENCODED_WORD_BYTES_MAX) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk !== '') words.push(chunk);
  return words
    .map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`)
    .join(`${CRLF} `);
}

/** Folds an ASCII header at spaces so lines stay near 78 characters. */
function foldAscii(name: string, value: string): string {
  const lines: string[] = [];
  let line = `${name}:`;
  for (const word of value.split(' ')) {
    if (line.length + 1 + word.length > HEADER_LINE_MAX && line.trim() !== `${name}:`) {
      lines.push(line);
      line = '';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines.join(CRLF);
}

function header(name: string, value: string): string {
  return isPrintableAscii(value) ? foldAscii(name, value) : `${name}: ${encodedWords(value)}`;
}

/** Quoted-printable (RFC 2045) of UTF-8 text: hard breaks as CRLF, soft breaks at 76. */
export function quotedPrintable(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      const out: string[] = [];
      let current = '';
      bytes.forEach((byte, index) => {
        const last = index === bytes.length - 1;
        const plain =
          (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !last);
        const token = plain
          ? String.fromCharCode(byte)
          : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
        if (current.length + token.length > QP_LINE_MAX) {
          out.push(`${current}=`);
          current = '';
        }
        current += token;
      });
      out.push(current);
      return out.join(CRLF);
    })
    .join(CRLF);
}

/** Base64 in lines of 76 characters (RFC 2045). */
function base64Lines(content: Uint8Array): string {
  const encoded = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString(
    'base64',
  );
  const lines: string[] = [];
  for (let start = 0; start < encoded.length; start += BASE64_LINE_LENGTH) {
    lines.push(encoded.slice(start, start + BASE64_LINE_LENGTH));
  }
  return lines.join(CRLF);
}

/**
 * The multipart boundary, deterministic from the message id. It starts with "=_", which neither
 * quoted-printable (it writes "=" as "=3D") nor base64 can produce, so no body line can match it.
 */
export function mimeBoundary(id: string): string {
  return `=_agora_${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

/**
 * The whole message as RFC 5322 text: MIME text/plain (UTF-8, quoted-printable), or
 * multipart/mixed with the text part first and each attachment base64-encoded.
 */
export function renderEml(from: string, message: EmailMessage): string {
  checkMessage(message);
  const domain = senderAddress(from).split('@')[1] ?? 'localhost';
  const headers = [
    header('From', from),
    foldAscii('To', message.to.join(', ')),
    header('Subject', subjectOf(message.subject)),
    `Date: ${rfc5322Date(message.at)}`,
    `Message-ID: <${message.id}@${domain}>`,
    'MIME-Version: 1.0',
  ];
  const textPart = [
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
  ];
  const attachments = message.attachments ?? [];
  if (attachments.length === 0) {
    return `${[...headers, ...textPart].join(CRLF)}${CRLF}${CRLF}${quotedPrintable(message.text)}${CRLF}`;
  }
  const boundary = mimeBoundary(message.id);
  const parts = [
    `${textPart.join(CRLF)}${CRLF}${CRLF}${quotedPrintable(message.text)}`,
    ...attachments.map((file) =>
      [
        `Content-Type: ${file.contentType}; name="${file.filename}"`,
        `Content-Disposition: attachment; filename="${file.filename}"`,
        'Content-Transfer-Encoding: base64',
        '',
        base64Lines(file.content),
      ].join(CRLF),
    ),
  ];
  return [
    ...headers,
    `${MESSAGE_ID_HEADER}: ${message.id}`,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    'This is a multi-part message in MIME format.',
    ...parts.map((part) => `--${boundary}${CRLF}${part}`),
    `--${boundary}--`,
    '',
  ].join(CRLF);
}

// ---------------------------------------------------------------------------------------------
// Adapters
// ---------------------------------------------------------------------------------------------

/** Writes each message to `<dir>/<id>.eml` (atomically: a temporary file, then a rename). */
export class FolderEmailOutbox implements EmailOutbox {
  constructor(
    readonly dir: string,
    private readonly from = 'Agora <agora@localhost>',
  ) {
    senderAddress(from);
  }

  /** The file a message id is written to. */
  fileFor(id: string): string {
    return join(this.dir, `${id}.eml`);
  }

  async send(message: EmailMessage): Promise<string> {
    const text = renderEml(this.from, message);
    const file = this.fileFor(message.id);
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(temporary, text, 'utf8');
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw new EmailSendError(
        'email_outbox_unwritable',
        `Could not write ${file}: ${(error as Error).message}`,
        false,
        { cause: error },
      );
    }
    return `${message.id}@${senderAddress(this.from).split('@')[1]}`;
  }
}

export interface SesOutboxSettings {
  /** A verified SES identity: "agora@example.com" or "Agora <agora@example.com>". */
  readonly from: string;
  readonly region: string;
  readonly configurationSetName?: string | undefined;
  /** A local endpoint (tests, simulators). */
  readonly endpoint?: string | undefined;
}

/** The SES client's configuration: bounded time per request, bounded attempts. */
export function sesClientConfig(settings: SesOutboxSettings) {
  return {
    region: settings.region,
    maxAttempts: SES_ATTEMPTS_MAX,
    retryMode: 'standard',
    // Without throwOnRequestTimeout the Node handler only logs when requestTimeout passes and
    // the call keeps waiting; with it the attempt fails with a TimeoutError (and is retried).
    requestHandler: {
      requestTimeout: SES_REQUEST_TIMEOUT_MS,
      connectionTimeout: SES_CONNECT_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
  };
}

/**
 * Sends through SES v2 (SendEmail: simple content, or raw MIME when the message has
 * attachments). SES has no idempotency key: a retry after a timeout whose request did reach SES
 * may deliver the message twice; Agora's id travels in the X-Agora-Message-Id header so
 * receivers (and support) can tell.
 */
export class SesEmailOutbox implements EmailOutbox {
  private readonly client: SESv2Client;

  constructor(private readonly settings: SesOutboxSettings) {
    senderAddress(settings.from);
    this.client = new SESv2Client(sesClientConfig(settings));
  }

  async send(message: EmailMessage): Promise<string> {
    checkMessage(message);
    let messageId: string | undefined;
    try {
      const output = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.settings.from,
          Destination: { ToAddresses: [...message.to] },
          Content:
            (message.attachments ?? []).length > 0
              ? { Raw: { Data: Buffer.from(renderEml(this.settings.from, message), 'utf8') } }
              : {
                  Simple: {
                    Subject: { Data: subjectOf(message.subject), Charset: 'UTF-8' },
                    Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
                    Headers: [{ Name: MESSAGE_ID_HEADER, Value: message.id }],
                  },
                },
          ...(this.settings.configurationSetName
            ? { ConfigurationSetName: this.settings.configurationSetName }
            : {}),
        }),
      );
      messageId = output.MessageId;
    } catch (error) {
      const name = (error as { name?: string } | null)?.name ?? 'Error';
      const permanent = error instanceof SESv2ServiceException && SES_PERMANENT_ERRORS.has(name);
      throw new EmailSendError(
        permanent ? 'email_rejected' : 'email_unavailable',
        `SES did not accept the message ${message.id}: ${name}: ${(error as Error).message ?? ''}`.slice(
          0,
          500,
        ),
        permanent,
        { cause: error },
      );
    }
    if (!messageId)
      throw new EmailSendError('email_unavailable', 'SES answered without a MessageId', false);
    return messageId;
  }
}
