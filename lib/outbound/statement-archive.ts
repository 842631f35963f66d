/**
 * Where statement files live (port in lib/app/statements.ts): the statements bucket in the
 * cloud (S3), a folder locally. Keys look like `statements/<partnerId>/<period>/<id>.pdf`: path
 * segments of letters, digits, ".", "_" and "-", never "." or "..", so a key cannot leave the
 * folder or name another bucket prefix.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { StatementArchive } from '../app/statements';
import { AgoraError, InvalidInputError } from '../domain/errors';

/** A statement file larger than this is refused on write and on read. */
export const STATEMENT_OBJECT_BYTES_MAX = 25 * 1024 * 1024;
export const STATEMENT_KEY_LENGTH_MAX = 512;
/** Segments in one key (statements / partner / period / file). */
export const STATEMENT_KEY_SEGMENTS_MAX = 8;
export const S3_REQUEST_TIMEOUT_MS = 10_000;
export const S3_CONNECT_TIMEOUT_MS = 3_000;
/** SDK attempts (standard retry mode: throttling, 5xx and timeouts, with backoff). */
export const S3_ATTEMPTS_MAX = 3;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The archive could not be read or written; safe to retry later. */
export class StatementArchiveError extends AgoraError {
  readonly code = 'statement_archive_unavailable';
}

/** Checks a key and returns its segments. */
export function archiveKeySegments(key: string): string[] {
  const segments = key.split('/');
  if (
    key.length === 0 ||
    key.length > STATEMENT_KEY_LENGTH_MAX ||
    segments.length > STATEMENT_KEY_SEGMENTS_MAX ||
    segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')
  ) {
    throw new InvalidInputError(
      'invalid_archive_key',
      `Not an archive key: "${key.slice(0, 200)}"`,
    );
  }
  return segments;
}

function checkSize(key: string, bytes: number): void {
  if (bytes > STATEMENT_OBJECT_BYTES_MAX) {
    throw new InvalidInputError(
      'archive_object_too_large',
      `${key} is ${bytes} bytes; at most ${STATEMENT_OBJECT_BYTES_MAX}`,
    );
  }
}

/** Files under a folder; each written atomically (a temporary file, then a rename). */
export class FolderStatementArchive implements StatementArchive {
  private readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  /** The file a key is stored in (always inside the folder). */
  fileFor(key: string): string {
    const file = resolve(join(this.root, ...archiveKeySegments(key)));
    if (!file.startsWith(`${this.root}${sep}`)) {
      throw new InvalidInputError('invalid_archive_key', `${key} leaves the archive folder`);
    }
    return file;
  }

  async put(key: string, body: Uint8Array, _contentType: string): Promise<void> {
    const file = this.fileFor(key);
    checkSize(key, body.byteLength);
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(temporary, body);
      await rename(temporary, file);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw new StatementArchiveError(`Could not write ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const file = this.fileFor(key);
    try {
      const info = await stat(file);
      checkSize(key, info.size);
      return await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (error instanceof InvalidInputError) throw error;
      throw new StatementArchiveError(`Could not read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

export interface S3ArchiveSettings {
  readonly region: string;
  /** A local endpoint (tests, simulators); path-style addressing then. */
  readonly endpoint?: string | undefined;
}

/** The S3 client's configuration: bounded time per request, bounded attempts. */
export function s3ClientConfig(settings: S3ArchiveSettings): S3ClientConfig {
  return {
    region: settings.region,
    maxAttempts: S3_ATTEMPTS_MAX,
    retryMode: 'standard',
    requestHandler: {
      requestTimeout: S3_REQUEST_TIMEOUT_MS,
      connectionTimeout: S3_CONNECT_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
  };
}

/** One client per process: build it once and inject it into every S3 adapter. */
export function createS3Client(settings: S3ArchiveSettings): S3Client {
  return new S3Client(s3ClientConfig(settings));
}

/** The statements bucket (encryption and retention are the bucket's configuration). */
export class S3StatementArchive implements StatementArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    archiveKeySegments(key);
    checkSize(key, body.byteLength);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.byteLength,
        }),
      );
    } catch (error) {
      throw new StatementArchiveError(
        `S3 did not store s3://${this.bucket}/${key}: ${(error as Error).name}: ${(error as Error).message}`.slice(
          0,
          500,
        ),
        { cause: error },
      );
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    archiveKeySegments(key);
    try {
      const output = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      if (!output.Body) return null;
      if (output.ContentLength !== undefined && output.ContentLength > STATEMENT_OBJECT_BYTES_MAX) {
        (output.Body as { destroy?: () => void }).destroy?.();
        checkSize(key, output.ContentLength);
      }
      const bytes = await output.Body.transformToByteArray();
      checkSize(key, bytes.byteLength);
      return bytes;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey')
        return null;
      if (error instanceof InvalidInputError) throw error;
      throw new StatementArchiveError(
        `S3 did not return s3://${this.bucket}/${key}: ${(error as Error).name}: ${(error as Error).message}`.slice(
          0,
          500,
        ),
        { cause: error },
      );
    }
  }
}
