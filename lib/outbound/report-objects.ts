/**
 * Reports in the report bucket: the two shapes an "object created" notification arrives in
 * (EventBridge, or an S3 event notification), and an object read as a stream of bytes — a
 * million-row report is never held in memory.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { ReportFile } from '../app/reconciliation';

/** Objects one invocation reconciles (S3 batches notifications rarely; one is the norm). */
export const REPORT_OBJECTS_PER_EVENT_MAX = 10;

const EventBridgeObjectCreated = z.object({
  'detail-type': z.literal('Object Created'),
  time: z.string().optional(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(3).max(63) }),
    object: z.object({
      key: z.string().min(1).max(1024),
      size: z.number().int().nonnegative().optional(),
    }),
  }),
});

const S3Notification = z.object({
  Records: z
    .array(
      z.object({
        eventTime: z.string().optional(),
        s3: z.object({
          bucket: z.object({ name: z.string().min(3).max(63) }),
          object: z.object({
            key: z.string().min(1).max(1024),
            size: z.number().int().nonnegative().optional(),
          }),
        }),
      }),
    )
    .min(1)
    .max(REPORT_OBJECTS_PER_EVENT_MAX),
});

export interface ReportObject {
  readonly bucket: string;
  readonly key: string;
  readonly sizeBytes: number | null;
  /** When the object was created, per the event (the as-of day of an undated report). */
  readonly eventTime: string | null;
}

/** S3 console "folders" and empty uploads: nothing to reconcile. */
export function isReportContent(object: ReportObject): boolean {
  return !object.key.endsWith('/') && object.sizeBytes !== 0;
}

/** The objects an event names; S3 notification keys are URL-encoded (spaces as '+'). */
export function reportObjectsOf(event: unknown): ReportObject[] {
  const bridge = EventBridgeObjectCreated.safeParse(event);
  if (bridge.success) {
    const { bucket, object } = bridge.data.detail;
    return [
      {
        bucket: bucket.name,
        key: object.key,
        sizeBytes: object.size ?? null,
        eventTime: bridge.data.time ?? null,
      },
    ];
  }
  const notification = S3Notification.safeParse(event);
  if (notification.success) {
    return notification.data.Records.map((record) => ({
      bucket: record.s3.bucket.name,
      key: decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')),
      sizeBytes: record.s3.object.size ?? null,
      eventTime: record.eventTime ?? null,
    }));
  }
  throw new Error('Not an S3 "Object Created" event (EventBridge or S3 notification)');
}

/** One object of the bucket as a report file (opened when the reconciliation reads it). */
export function s3ReportFile(client: S3Client, object: ReportObject): ReportFile {
  return {
    name: `s3://${object.bucket}/${object.key}`,
    sizeBytes: object.sizeBytes,
    async *open() {
      const response = await client.send(
        new GetObjectCommand({ Bucket: object.bucket, Key: object.key }),
      );
      const body = response.Body as AsyncIterable<Uint8Array> | undefined;
      if (!body) throw new Error(`s3://${object.bucket}/${object.key} has no body`);
      yield* body;
    },
  };
}
