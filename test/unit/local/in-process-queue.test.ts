// Proves the local queue keeps SQS FIFO semantics: one message per group at a time in order,
// groups in parallel, redelivery after a backoff with a growing receive count, dead-lettering
// after the receive limit, deduplication by raw id, and drain() for callers that must wait.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InProcessQueue } from '../../../lib/local/in-process-queue';

function recorder(fail: (rawId: string, receive: number) => boolean) {
  const seen: string[] = [];
  let active = 0;
  let maxActivePerGroup = 0;
  const perGroup = new Map<string, number>();
  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const record = event.Records[0];
    if (!record) return { batchItemFailures: [] };
    const group = record.attributes.MessageGroupId ?? '';
    perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
    maxActivePerGroup = Math.max(maxActivePerGroup, perGroup.get(group) ?? 0);
    active += 1;
    await new Promise((r) => setTimeout(r, 2));
    const { rawId } = JSON.parse(record.body) as { rawId: string };
    const receive = Number(record.attributes.ApproximateReceiveCount);
    seen.push(`${rawId}#${receive}`);
    active -= 1;
    perGroup.set(group, (perGroup.get(group) ?? 1) - 1);
    return {
      batchItemFailures: fail(rawId, receive) ? [{ itemIdentifier: record.messageId }] : [],
    };
  };
  return { handler, seen, maxActivePerGroup: () => maxActivePerGroup, active: () => active };
}

describe('InProcessQueue', () => {
  it('delivers each group in order, one at a time, and retries a failure before the next', async () => {
    const r = recorder((rawId, receive) => rawId === 'a1' && receive < 3);
    const queue = new InProcessQueue({ handler: r.handler, retryDelayMs: () => 1 });
    for (const rawId of ['a1', 'a2', 'b1']) {
      await queue.enqueue({
        rawId,
        marketplace: 'aws',
        groupKey: rawId.startsWith('a') ? 'group-a' : 'group-b',
      });
    }
    await queue.drain();
    const groupA = r.seen.filter((s) => s.startsWith('a'));
    expect(groupA).toEqual(['a1#1', 'a1#2', 'a1#3', 'a2#1']);
    expect(r.seen).toContain('b1#1');
    expect(r.maxActivePerGroup()).toBe(1);
  });

  it('dead-letters after the receive limit and moves on', async () => {
    const r = recorder((rawId) => rawId === 'poison');
    const queue = new InProcessQueue({ handler: r.handler, retryDelayMs: () => 1, receivesMax: 3 });
    await queue.enqueue({ rawId: 'poison', marketplace: 'aws', groupKey: 'g' });
    await queue.enqueue({ rawId: 'next', marketplace: 'aws', groupKey: 'g' });
    await queue.drain();
    expect(r.seen).toEqual(['poison#1', 'poison#2', 'poison#3', 'next#1']);
    expect(queue.deadLetters()).toEqual([{ rawId: 'poison', marketplace: 'aws', groupKey: 'g' }]);
  });

  it('drops a duplicate enqueue inside the deduplication window, unless forgotten', async () => {
    const r = recorder(() => false);
    const queue = new InProcessQueue({ handler: r.handler, retryDelayMs: () => 1 });
    await queue.enqueue({ rawId: 'x', marketplace: 'aws', groupKey: 'g' });
    await queue.enqueue({ rawId: 'x', marketplace: 'aws', groupKey: 'g' });
    await queue.drain();
    expect(r.seen).toEqual(['x#1']);
    queue.forget('x');
    await queue.enqueue({ rawId: 'x', marketplace: 'aws', groupKey: 'g' });
    await queue.drain();
    expect(r.seen).toEqual(['x#1', 'x#1']);
  });

  it('backs off between receives as told', async () => {
    const delays: number[] = [];
    const r = recorder((_id, receive) => receive < 3);
    const queue = new InProcessQueue({
      handler: r.handler,
      retryDelayMs: (attempt) => {
        delays.push(attempt);
        return 1;
      },
    });
    await queue.enqueue({ rawId: 'slow', marketplace: 'aws', groupKey: 'g' });
    await queue.drain();
    expect(delays).toEqual([1, 2]);
  });
});
