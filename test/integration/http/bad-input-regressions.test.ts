// Proves the bad inputs the fuzz suite found answer a clear 4xx instead of a 5xx: JSON nested deeper than 64 levels (it overflowed the stack of the idempotency hash and the offer store), an Azure landing token that cannot travel in an HTTP header, and unreadable bodies at the local simulator inlets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_DEPTH_MAX, jsonDepthExceeds } from '../../../lib/http/handler';
import { startTestStack, type TestStack } from '../pipeline/helpers';

const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('bad input found by fuzzing', () => {
  let test: TestStack;
  beforeAll(async () => {
    test = await startTestStack();
  }, 60_000);
  afterAll(async () => {
    await test?.stack.stop();
  });

  it('measures depth without recursion, and refuses a body nested deeper than allowed with 400', async () => {
    expect(jsonDepthExceeds(JSON.parse(nested(JSON_DEPTH_MAX)), JSON_DEPTH_MAX)).toBe(false);
    expect(jsonDepthExceeds(JSON.parse(nested(JSON_DEPTH_MAX + 1)), JSON_DEPTH_MAX)).toBe(true);
    expect(jsonDepthExceeds(JSON.parse(nested(100_000)), JSON_DEPTH_MAX)).toBe(true);
    const body = `{"schemaVersion":1,"marketplace":"aws","draft":true,"x":${nested(5_000)}}`;
    for (const [path, key] of [
      ['/v1/offers', null],
      ['/v1/offers', 'fuzz-key-1'],
      ['/v1/commission-plans', 'fuzz-key-2'],
    ] as const) {
      const response = await fetch(`${test.stack.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await test.token(['admin'])}`,
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body,
      });
      expect(response.status).toBe(400);
      const json = (await response.json()) as { error: { details: { code: string }[] } };
      expect(json.error.details.map((d) => d.code)).toContain('too_deep');
    }
  });

  it('refuses an Azure landing token that is not printable ASCII with 400', async () => {
    for (const token of ['%00', '%E2%9C%93', 'a%20b']) {
      const response = await fetch(`${test.stack.url}/v1/marketplace/azure/landing?token=${token}`);
      expect(response.status).toBe(400);
    }
  });

  it('answers 400 at the local simulator inlets for bodies they cannot read', async () => {
    for (const [path, body] of [
      ['/local/aws/eventbridge', '{'],
      ['/local/aws/eventbridge', '{"a":1}'],
      ['/local/aws/sqs', 'not json'],
      ['/local/aws/sns-publish', '{"topicArn":1}'],
    ] as const) {
      const response = await fetch(`${test.stack.url}${path}`, { method: 'POST', body });
      expect(response.status, `${path} ${body}`).toBe(400);
    }
  });
});
