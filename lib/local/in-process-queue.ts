/**
 * The sync queue on a laptop: the same FIFO semantics as SQS, in memory, invoking the same
 * worker handler with the same event shape. Per group, one message at a time, in order; a
 * failed message blocks its group and is redelivered after a backoff, up to the same receive
 * limit, then moves to the dead-letter list. Nothing is lost if the process dies: raw envelopes
 * not yet processed are re-enqueued at start from the store's pending index.
 */
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { SyncMessage, SyncQueue } from '../app/ports';
import { SYNC_ATTEMPTS_MAX } from '../app/sync';

/** SQS FIFO's deduplication window. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;
/** Messages waiting in memory before enqueue refuses (back-pressure, not silent loss). */
export const IN_PROCESS_QUEUE_DEPTH_MAX = 100_000;

interface Entry {
  readonly messageId: string;
  readonly message: SyncMessage;
  receives: number;
}

export interface InProcessQueueOptions {
  readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Delay before redelivering a failed message (attempt = receives so far). */
  readonly retryDelayMs: (attempt: number) => number;
  readonly receivesMax?: number;
  readonly onError?: (error: unknown) => void;
}

export class InProcessQueue implements SyncQueue {
  private readonly groups = new Map<string, Entry[]>();
  private readonly busy = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly recent = new Map<string, number>();
  private readonly deadLettered: Entry[] = [];
  private readonly idle = new Set<() => void>();
  private depth = 0;
  private stopped = false;

  constructor(private readonly options: InProcessQueueOptions) {}

  async enqueue(message: SyncMessage): Promise<void> {
    if (this.stopped) throw new Error('the in-process queue is stopped');
    const now = Date.now();
    for (const [id, at] of this.recent)
      if (now - at > DEDUPLICATION_WINDOW_MS) this.recent.delete(id);
    if (this.recent.has(message.rawId)) return;
    if (this.depth >= IN_PROCESS_QUEUE_DEPTH_MAX) throw new Error('the in-process queue is full');
    this.recent.set(message.rawId, now);
    const group = this.groups.get(message.groupKey) ?? [];
    group.push({ messageId: randomUUID(), message, receives: 0 });
    this.groups.set(message.groupKey, group);
    this.depth += 1;
    this.pump(message.groupKey);
  }

  /** Forgets a raw id's deduplication, so a redrive is delivered again. */
  forget(rawId: string): void {
    this.recent.delete(rawId);
  }

  /** Resolves when every group is empty and nothing is scheduled. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  deadLetters(): readonly SyncMessage[] {
    return this.deadLettered.map((e) => e.message);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private isIdle(): boolean {
    return this.depth === 0 && this.busy.size === 0 && this.timers.size === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }

  private pump(groupKey: string): void {
    if (this.stopped || this.busy.has(groupKey)) return;
    const head = this.groups.get(groupKey)?.[0];
    if (!head) {
      this.groups.delete(groupKey);
      this.notifyIfIdle();
      return;
    }
    this.busy.add(groupKey);
    head.receives += 1;
    void this.deliver(groupKey, head);
  }

  private async deliver(groupKey: string, entry: Entry): Promise<void> {
    let failed = true;
    try {
      const response = await this.options.handler({ Records: [toRecord(entry, groupKey)] });
      failed = response.batchItemFailures.some((f) => f.itemIdentifier === entry.messageId);
    } catch (error) {
      this.options.onError?.(error);
    }
    this.busy.delete(groupKey);
    const group = this.groups.get(groupKey) ?? [];
    if (!failed || entry.receives >= (this.options.receivesMax ?? SYNC_ATTEMPTS_MAX)) {
      group.shift();
      this.depth -= 1;
      if (failed) this.deadLettered.push(entry);
      this.pump(groupKey);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pump(groupKey);
    }, this.options.retryDelayMs(entry.receives));
    this.timers.add(timer);
  }
}

function toRecord(entry: Entry, groupKey: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: entry.messageId,
    receiptHandle: entry.messageId,
    body: JSON.stringify(entry.message),
    attributes: {
      ApproximateReceiveCount: String(entry.receives),
      SentTimestamp: now,
      SenderId: 'agora-local',
      ApproximateFirstReceiveTimestamp: now,
      MessageGroupId: groupKey,
      MessageDeduplicationId: entry.message.rawId,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:agora-sync.fifo',
    awsRegion: 'us-east-1',
  };
}
