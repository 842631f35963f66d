// Proves the statement archive adapters without I/O: keys are checked segment by segment so none can leave the folder or the statements prefix, the folder maps keys inside its root only, and the S3 adapter sends exactly the expected PutObject/GetObject, reads a missing object as null, refuses oversized objects and maps other failures to a retryable archive error, with bounded timeouts and attempts.
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../lib/domain/errors';
import {
  archiveKeySegments,
  FolderStatementArchive,
  S3_ATTEMPTS_MAX,
  S3_REQUEST_TIMEOUT_MS,
  S3StatementArchive,
  STATEMENT_OBJECT_BYTES_MAX,
  StatementArchiveError,
  s3ClientConfig,
} from '../../../lib/outbound/statement-archive';

const KEY = 'statements/P-100/2025-Q3/stmt_cdbd31b1a23b56367421210ea0822b8f.pdf';

describe('archive keys', () => {
  it('accepts statement keys and refuses anything that could escape', () => {
    expect(archiveKeySegments(KEY)).toEqual([
      'statements',
      'P-100',
      '2025-Q3',
      'stmt_cdbd31b1a23b56367421210ea0822b8f.pdf',
    ]);
    const bad = [
      '',
      '../etc/passwd',
      'statements/../../etc/passwd',
      '/statements/P-100/x.pdf',
      'statements//x.pdf',
      'statements/./x.pdf',
      'statements/P 100/x.pdf',
      'statements\\..\\x.pdf',
      'statements/.hidden',
      `statements/${'a'.repeat(600)}`,
      'a/b/c/d/e/f/g/h/i',
    ];
    for (const key of bad) {
      expect(() => archiveKeySegments(key), key).toThrow(InvalidInputError);
    }
  });

  it('maps a key to a file inside the folder only', () => {
    const archive = new FolderStatementArchive('/var/agora/statements');
    expect(archive.fileFor(KEY)).toBe(
      '/var/agora/statements/statements/P-100/2025-Q3/stmt_cdbd31b1a23b56367421210ea0822b8f.pdf',
    );
    expect(() => archive.fileFor('statements/../../../x')).toThrow(InvalidInputError);
  });
});

describe('S3StatementArchive', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  const archive = () =>
    new S3StatementArchive(new S3Client({ region: 'eu-west-1' }), 'agora-statements');

  it('bounds each request and the attempts', () => {
    expect(s3ClientConfig({ region: 'eu-west-1' })).toMatchObject({
      region: 'eu-west-1',
      maxAttempts: S3_ATTEMPTS_MAX,
      requestHandler: { requestTimeout: S3_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    });
    expect(S3_ATTEMPTS_MAX).toBeLessThanOrEqual(3);
    expect(s3ClientConfig({ region: 'x', endpoint: 'http://127.0.0.1:9000' })).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
  });

  it('puts the object with its content type, and refuses a bad key before calling S3', async () => {
    s3.on(PutObjectCommand).resolves({});
    const body = new Uint8Array([1, 2, 3]);
    await archive().put(KEY, body, 'application/pdf');
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Bucket: 'agora-statements',
      Key: KEY,
      Body: body,
      ContentType: 'application/pdf',
      ContentLength: 3,
    });
    await expect(archive().put('../x', body, 'application/pdf')).rejects.toThrow(InvalidInputError);
    await expect(
      archive().put(KEY, new Uint8Array(STATEMENT_OBJECT_BYTES_MAX + 1), 'application/pdf'),
    ).rejects.toMatchObject({ code: 'archive_object_too_large' });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('reads an object, a missing one as null, and maps outages to a retryable error', async () => {
    const bytes = new Uint8Array([37, 80, 68, 70]);
    s3.on(GetObjectCommand).resolves({
      ContentLength: 4,
      Body: { transformToByteArray: async () => bytes } as never,
    });
    await expect(archive().get(KEY)).resolves.toEqual(bytes);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'agora-statements',
      Key: KEY,
    });

    s3.reset();
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    await expect(archive().get(KEY)).resolves.toBeNull();

    s3.reset();
    let destroyed = false;
    s3.on(GetObjectCommand).resolves({
      ContentLength: STATEMENT_OBJECT_BYTES_MAX + 1,
      Body: {
        transformToByteArray: async () => new Uint8Array(),
        destroy: () => {
          destroyed = true;
        },
      } as never,
    });
    await expect(archive().get(KEY)).rejects.toMatchObject({ code: 'archive_object_too_large' });
    expect(destroyed).toBe(true);

    s3.reset();
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    );
    const error = await archive()
      .get(KEY)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatementArchiveError);
    expect((error as Error).message).toContain('s3://agora-statements/');
  });
});
