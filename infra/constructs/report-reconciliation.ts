/**
 * Reconciliation of marketplace reports (issue 14) in AWS: a report uploaded under `reports/` of
 * the report bucket raises an S3 "Object Created" event on the default bus (the bucket has
 * EventBridge notifications on, infra/stateful-stack.ts); a rule in this stack invokes the
 * reconciliation function with it — no bucket notification pointing across stacks, so no cycle.
 * The function may read objects under `reports/` and nothing else in the bucket, and read and
 * write the table (payouts as contract events, true-ups, the result). An event the rule could not
 * deliver, or a run that still failed after its retries, lands in a dead-letter queue (alarmed).
 */
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, ServiceFunction } from './service-function';

export const RECONCILE_REPORT_ENTRY = 'functions/scheduled/reconcile-report.ts';
/** The key prefix finance uploads reports under; nothing else in the bucket triggers or is readable. */
export const REPORTS_PREFIX = 'reports/';
export const REPORTS_BUCKET_VARIABLE = 'AGORA_REPORTS_BUCKET';
/** A million-row report is parsed in one invocation: Lambda's longest timeout, and CPU with memory. */
export const RECONCILIATION_TIMEOUT = Duration.minutes(15);
export const RECONCILIATION_MEMORY_MB = 3008;
/** A failed run is retried this many times (Lambda's asynchronous retries) before it is dead-lettered. */
export const RECONCILIATION_RETRIES = 2;

export interface ReportReconciliationProps {
  readonly table: ITable;
  readonly reportBucket: IBucket;
  /** How cdk-nag names the bucket's ARN (the export name of the imported bucket). */
  readonly reportBucketArnLabel: string;
  readonly environment: Record<string, string>;
}

export class ReportReconciliation extends Construct {
  readonly function: ServiceFunction;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ReportReconciliationProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'ReconciliationDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of report reconciliation (undeliverable events and failed runs).',
    );
    this.function = new ServiceFunction(this, 'ReconcileReport', {
      entry: RECONCILE_REPORT_ENTRY,
      description:
        'Reconciles an uploaded marketplace report (billing events, payouts, bank) against the ledger',
      environment: props.environment,
      timeout: RECONCILIATION_TIMEOUT,
      memorySize: RECONCILIATION_MEMORY_MB,
    })
      .bindTable(props.table, 'read-write')
      .bindBucket(
        props.reportBucket,
        REPORTS_BUCKET_VARIABLE,
        'read',
        REPORTS_PREFIX,
        props.reportBucketArnLabel,
        `Reads objects under ${REPORTS_PREFIX} only (GetObject: no list, put or delete); report keys are chosen by finance at upload.`,
      );
    this.function.configureAsyncInvoke({
      retryAttempts: RECONCILIATION_RETRIES,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.rule = new Rule(this, 'ReportUploaded', {
      description: `A marketplace report uploaded under ${REPORTS_PREFIX} → reconciliation`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.reportBucket.bucketName] },
          object: { key: Match.prefix(REPORTS_PREFIX) },
        },
      },
      targets: [
        new LambdaFunction(this.function, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}
