// Proves the SQS FIFO adapter sends what FIFO needs (group id per buyer, dedup id per raw
// envelope, both within SQS's 128-character limit) and delays retries with the visibility timeout.
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SQS_ID_LENGTH_MAX, SqsSyncQueue, sqsGroupId } from '../../../lib/queue/sqs-sync-queue';
import { retryDelaySeconds, SYNC_RETRY_MAX_SECONDS } from '../../../lib/queue/sync-batch';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

describe('SqsSyncQueue', () => {
  it('groups by buyer and deduplicates by raw id', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const queue = new SqsSyncQueue(new SQSClient({ region: 'us-east-1' }), 'https://sqs/q.fifo');
    await queue.enqueue({ rawId: 'raw_1', marketplace: 'aws', groupKey: 'aws#444455556666' });
    await queue.enqueue({ rawId: 'raw_1', marketplace: 'aws', groupKey: 'aws#444455556666' });
    const inputs = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({
      QueueUrl: 'https://sqs/q.fifo',
      MessageGroupId: 'aws#444455556666',
    });
    expect(JSON.parse(String(inputs[0]?.MessageBody))).toEqual({
      rawId: 'raw_1',
      marketplace: 'aws',
      groupKey: 'aws#444455556666',
    });
    expect(inputs[0]?.MessageDeduplicationId).toBe(inputs[1]?.MessageDeduplicationId);
  });

  it('keeps group ids legal and short, and distinct for distinct long keys', () => {
    const long = `aws#customer:${'x'.repeat(300)}`;
    expect(sqsGroupId(long).length).toBeLessThanOrEqual(SQS_ID_LENGTH_MAX);
    expect(sqsGroupId(`${long}a`)).not.toBe(sqsGroupId(`${long}b`));
    expect(sqsGroupId('aws#customer:code/Cust 1')).toBe('aws#customer:code/Cust_1');
  });

  it('delays a failed record with ChangeMessageVisibility', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    await new SqsSyncQueue(new SQSClient({ region: 'us-east-1' }), 'https://sqs/q.fifo').delayRetry(
      'handle-1',
      30,
    );
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
      QueueUrl: 'https://sqs/q.fifo',
      ReceiptHandle: 'handle-1',
      VisibilityTimeout: 30,
    });
  });

  it('backs off exponentially with jitter, within bounds', () => {
    expect(retryDelaySeconds(1, () => 0)).toBe(5);
    expect(retryDelaySeconds(1, () => 0.999)).toBe(10);
    expect(retryDelaySeconds(3, () => 0)).toBe(45);
    expect(retryDelaySeconds(20, () => 0.999)).toBeLessThanOrEqual(SYNC_RETRY_MAX_SECONDS);
  });
});
