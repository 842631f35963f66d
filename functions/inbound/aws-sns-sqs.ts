/**
 * SQS consumer for the AWS Marketplace SNS topics (subscription and entitlement notifications).
 * Each record's raw body is stored before the record is acknowledged; failures are reported per
 * record so SQS redelivers only those.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ingestNotification } from '../../lib/app/ingest';
import { envelopeFromSnsSqsRecord } from '../../lib/marketplaces/aws/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const container = getContainer();
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      await ingestNotification(container, envelopeFromSnsSqsRecord(record, container.clock.now()));
    } catch (error) {
      container.logger.error('SNS message not ingested; SQS will redeliver it', {
        error: error as Error,
        messageId: record.messageId,
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
