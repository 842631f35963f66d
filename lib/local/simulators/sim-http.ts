/**
 * HTTP plumbing every marketplace simulator shares: reading a request body with a bound, so a
 * test or a stray client cannot make a simulator buffer without limit.
 */
import type { IncomingMessage } from 'node:http';

/**
 * The request body, or null when it is larger than `maxBytes` (the caller answers 413) or the
 * connection closed early. Past `drainBytes` the connection is dropped instead of read to its end.
 */
export function readBoundedBody(
  request: IncomingMessage,
  maxBytes: number,
  drainBytes: number = 8 * maxBytes,
): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > drainBytes) {
        request.destroy();
        return;
      }
      if (size <= maxBytes) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > maxBytes ? null : Buffer.concat(chunks)));
    request.on('error', reject);
    request.on('close', () => resolve(null));
  });
}
