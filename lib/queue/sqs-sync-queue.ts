/**
 * The sync queue in AWS: an SQS FIFO queue. Messages are grouped by (marketplace, buyer) so one
 * buyer's changes apply in order, and deduplicated by raw id (SQS drops repeats for 5 minutes;
 * after that a repeat is a harmless re-sync).
 */
import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SyncMessage, SyncQueue } from '../app/ports';
import { hashParts } from '../domain/ids';

/** SQS limits MessageGroupId and MessageDeduplicationId to 128 characters. */
export const SQS_ID_LENGTH_MAX = 128;

export function sqsGroupId(groupKey: string): string {
  const safe = groupKey.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '_');
  return safe.length <= SQS_ID_LENGTH_MAX
    ? safe
    : `${safe.slice(0, 64)}#${hashParts([groupKey]).slice(0, 32)}`;
}

export class SqsSyncQueue implements SyncQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(message: SyncMessage): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageGroupId: sqsGroupId(message.groupKey),
        MessageDeduplicationId: hashParts([message.rawId]).slice(0, 64),
      }),
    );
  }

  /** Backoff for a failed record: hide it for `seconds` before its next attempt. */
  async delayRetry(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }
}
