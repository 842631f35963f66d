/**
 * The contract pipeline in AWS: the EventBridge rule and SNS→SQS subscription that bring AWS
 * Marketplace notifications in, the sync worker on the FIFO queue, the webhook sweeper (table
 * stream + schedule) and the recovery sweep. Every function binds exactly what it needs.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  STATEMENT_FAILURES_METRIC,
  USAGE_DEADLINE_RISK_METRIC,
} from '../../lib/runtime/metrics';
import { STATEMENT_BUCKET_ARN_EXPORT } from '../stateful-stack';
import { createAlertsTopic } from './operations';
import { acknowledge, ServiceFunction, STATEMENT_MEMORY_MB } from './service-function';

/** Sources whose EventBridge events carry AWS Marketplace agreements, licenses and offers. */
export const MARKETPLACE_EVENT_SOURCES = [
  'aws.agreement-marketplace',
  'aws.marketplacecatalog',
  'aws.marketplace',
];
/** AWS Marketplace publishes SaaS SNS topics from this account, in us-east-1. */
export const MARKETPLACE_SNS_ACCOUNT = '287250355862';
export const SYNC_BATCH_SIZE = 10;
export const SYNC_WORKER_TIMEOUT_SECONDS = 60;

/** Publishing and following private offers through the Catalog API. */
export const CATALOG_OFFER_ACTIONS = [
  'aws-marketplace:StartChangeSet',
  'aws-marketplace:DescribeChangeSet',
  'aws-marketplace:DescribeEntity',
];

/** Read access to the marketplace APIs used by re-reads and registration (no resource ARNs exist). */
export const MARKETPLACE_READ_ACTIONS = [
  'aws-marketplace:DescribeAgreement',
  'aws-marketplace:GetAgreementTerms',
  'aws-marketplace:GetAgreementEntitlements',
  'aws-marketplace:GetEntitlements',
  'aws-marketplace:ResolveCustomer',
];

export interface ContractPipelineProps {
  readonly table: ITable;
  readonly syncQueue: Queue;
  /** JSON of the seller accounts (lib/marketplaces/aws/config.ts). */
  readonly awsAccountsJson: string;
  /** Role ARNs in other seller accounts the functions may assume. */
  readonly assumableRoleArns: readonly string[];
  /** Product codes whose legacy SNS topics to subscribe to. */
  readonly snsProductCodes: readonly string[];
  readonly environment: Record<string, string>;
  /** Marketplace credentials (Azure app secrets, the Google key) for the functions that call out. */
  readonly credentialsSecret: ISecret;
  /** Where partner statements are archived. */
  readonly statementBucket: IBucket;
  /** Whether any GCP provider uses a pull subscription. */
  readonly gcpPullEnabled?: boolean;
  /** Email addresses subscribed to the alerts topic (each confirms by mail). */
  readonly alertEmails?: readonly string[];
}

export class ContractPipeline extends Construct {
  /** Operational alerts (every alarm notifies here); subscribe an email or pager. */
  readonly alerts: Topic;
  readonly syncWorker: ServiceFunction;
  readonly eventBridgeInlet: ServiceFunction;
  readonly snsInlet: ServiceFunction;
  readonly webhookSweeper: ServiceFunction;
  /** Every function of the pipeline, for the error alarms and the dashboard. */
  readonly functions: ServiceFunction[] = [];
  /** Every dead-letter queue of the pipeline, for the depth alarms and the dashboard. */
  readonly deadLetterQueues: Queue[] = [];
  /** The pipeline's own alarms (usage deadline, statements), for the dashboard. */
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ContractPipelineProps) {
    super(scope, id);
    const environment = {
      ...props.environment,
      AGORA_SYNC_QUEUE_URL: props.syncQueue.queueUrl,
      AGORA_AWS_ACCOUNTS: props.awsAccountsJson,
    };
    const fn = (name: string, entry: string, description: string, timeoutSeconds = 30) => {
      const created = new ServiceFunction(this, name, {
        entry,
        description,
        environment,
        timeout: Duration.seconds(timeoutSeconds),
      }).bindTable(props.table, 'read-write');
      this.functions.push(created);
      return created;
    };

    this.eventBridgeInlet = fn(
      'AwsEventBridgeInlet',
      'functions/inbound/aws-eventbridge.ts',
      'Stores AWS Marketplace EventBridge events and enqueues their sync',
    );
    props.syncQueue.grantSendMessages(this.eventBridgeInlet);
    const inletDeadLetters = this.deadLetterQueue('EventBridgeInletDeadLetters');
    new Rule(this, 'MarketplaceEvents', {
      description: 'AWS Marketplace agreement, license and catalog events → Agora',
      eventPattern: { source: MARKETPLACE_EVENT_SOURCES },
      targets: [
        new LambdaFunction(this.eventBridgeInlet, {
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: inletDeadLetters,
        }),
      ],
    });

    this.snsInlet = fn(
      'AwsSnsInlet',
      'functions/inbound/aws-sns-sqs.ts',
      'Stores AWS Marketplace SNS messages (via SQS) and enqueues their sync',
    );
    props.syncQueue.grantSendMessages(this.snsInlet);
    const snsDeadLetters = this.deadLetterQueue('SnsInletDeadLetters');
    const snsQueue = new Queue(this, 'MarketplaceSnsQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(180),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: snsDeadLetters, maxReceiveCount: 5 },
    });
    for (const code of props.snsProductCodes) {
      for (const kind of ['subscription', 'entitlement']) {
        const topic = Topic.fromTopicArn(
          this,
          `Topic-${kind}-${code}`,
          `arn:${Stack.of(this).partition}:sns:us-east-1:${MARKETPLACE_SNS_ACCOUNT}:aws-mp-${kind}-notification-${code}`,
        );
        topic.addSubscription(new SqsSubscription(snsQueue));
      }
    }
    this.snsInlet.addEventSource(
      new SqsEventSource(snsQueue, { batchSize: SYNC_BATCH_SIZE, reportBatchItemFailures: true }),
    );

    this.syncWorker = fn(
      'SyncWorker',
      'functions/queue/sync-worker.ts',
      'Re-reads the marketplace source of truth and applies contract changes',
      SYNC_WORKER_TIMEOUT_SECONDS,
    );
    props.syncQueue.grant(this.syncWorker, 'sqs:ChangeMessageVisibility');
    this.syncWorker.addEventSource(
      new SqsEventSource(props.syncQueue, {
        batchSize: SYNC_BATCH_SIZE,
        reportBatchItemFailures: true,
      }),
    );
    this.grantMarketplaceReads(this.syncWorker, props.assumableRoleArns);
    props.credentialsSecret.grantRead(this.syncWorker);

    this.webhookSweeper = fn(
      'WebhookSweeper',
      'functions/scheduled/deliver-webhooks.ts',
      'Delivers due provisioning webhooks (signed, retried)',
      120,
    );
    this.webhookSweeper.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 100,
        retryAttempts: 2,
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { entity: { S: FilterRule.isEqual('WebhookDelivery') } } },
          }),
        ],
      }),
    );
    acknowledge(
      this.webhookSweeper,
      'AwsSolutions-IAM5[Resource::*]',
      'The stream event source needs dynamodb:ListStreams, which has no resource-level permissions.',
    );
    new Rule(this, 'WebhookRetries', {
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.webhookSweeper)],
    });

    const reconcileAzure = fn(
      'ReconcileAzure',
      'functions/scheduled/reconcile-azure.ts',
      'Lists Azure SaaS subscriptions and re-syncs those that changed',
      300,
    );
    props.syncQueue.grantSendMessages(reconcileAzure);
    props.credentialsSecret.grantRead(reconcileAzure);
    new Rule(this, 'AzureReconciliation', {
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(reconcileAzure)],
    });
    if (props.gcpPullEnabled) {
      const pullGcp = fn(
        'PullGcp',
        'functions/scheduled/pull-gcp.ts',
        'Pulls Google Cloud Marketplace messages (pull mode)',
        60,
      );
      props.syncQueue.grantSendMessages(pullGcp);
      props.credentialsSecret.grantRead(pullGcp);
      new Rule(this, 'GcpPull', {
        schedule: Schedule.rate(Duration.minutes(1)),
        targets: [new LambdaFunction(pullGcp)],
      });
    }

    // Revenue: the billing job daily, the month-end run on the 1st for the month just ended.
    const billing = fn(
      'BillingRun',
      'functions/scheduled/billing-run.ts',
      'Posts installments and usage invoices due today (idempotent)',
      600,
    );
    new Rule(this, 'DailyBilling', {
      schedule: Schedule.cron({ minute: '30', hour: '0' }),
      targets: [new LambdaFunction(billing)],
    });
    const recognition = fn(
      'RecognitionRun',
      'functions/scheduled/recognition-run.ts',
      'Month-end revenue recognition and usage accrual (idempotent)',
      900,
    );
    new Rule(this, 'MonthEndRecognition', {
      schedule: Schedule.cron({ minute: '0', hour: '2', day: '1' }),
      targets: [new LambdaFunction(recognition)],
    });

    // Commission for the month that ended, after its recognition run has posted.
    const commission = fn(
      'CommissionRun',
      'functions/scheduled/commission-run.ts',
      'Month-end partner commission: accruals, holds, releases, payouts (idempotent)',
      900,
    );
    new Rule(this, 'MonthEndCommission', {
      schedule: Schedule.cron({ minute: '0', hour: '4', day: '3' }),
      targets: [new LambdaFunction(commission)],
    });

    // Partner statements for the month (and quarter) that ended, after its commission run.
    const statements = new ServiceFunction(this, 'StatementRun', {
      entry: 'functions/scheduled/statement-run.ts',
      description: 'Monthly partner commission statements: PDF, CSV, JSON, emailed (each once)',
      environment,
      timeout: Duration.seconds(900),
      memorySize: STATEMENT_MEMORY_MB,
      statementFonts: true,
    })
      .bindTable(props.table, 'read-write')
      .bindBucket(
        props.statementBucket,
        'AGORA_STATEMENTS_BUCKET',
        'read-write',
        'statements/',
        STATEMENT_BUCKET_ARN_EXPORT,
      );
    this.functions.push(statements);
    this.grantSendEmail(statements);
    new Rule(this, 'MonthlyStatements', {
      schedule: Schedule.cron({ minute: '0', hour: '6', day: '4' }),
      targets: [new LambdaFunction(statements)],
    });

    // Private offers: approved offers published, change sets followed to published or failed.
    const offers = fn(
      'TrackOffers',
      'functions/scheduled/track-offers.ts',
      'Publishes approved offers and follows their Catalog change sets',
      300,
    );
    this.grantCatalogOffers(offers, props.assumableRoleArns);
    // Azure and Google offers are published with the marketplace credentials.
    props.credentialsSecret.grantRead(offers);
    new Rule(this, 'OfferTracking', {
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(offers)],
    });

    // Offer expiry reminders: webhooks and an email through SES, once per window.
    const reminders = fn(
      'OfferReminders',
      'functions/scheduled/offer-reminders.ts',
      'Reminds the seller of offers about to expire (once per window)',
      300,
    );
    reminders.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [`arn:aws:ses:${Stack.of(this).region}:${Stack.of(this).account}:identity/*`],
      }),
    );
    acknowledge(
      reminders,
      `AwsSolutions-IAM5[Resource::arn:aws:ses:${Stack.of(this).region}:${Stack.of(this).account}:identity/*]`,
      'The sender identity is the seller’s verified SES domain or address, configured after deploy.',
    );
    new Rule(this, 'DailyOfferReminders', {
      schedule: Schedule.cron({ minute: '0', hour: '6' }),
      targets: [new LambdaFunction(reminders)],
    });

    // Deal registrations about to lapse: the partner hears once per window (email, webhook).
    const registrationReminders = fn(
      'RegistrationReminders',
      'functions/scheduled/registration-reminders.ts',
      'Reminds partners of deal registrations about to expire (once per window)',
      300,
    );
    registrationReminders.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [`arn:aws:ses:${Stack.of(this).region}:${Stack.of(this).account}:identity/*`],
      }),
    );
    acknowledge(
      registrationReminders,
      `AwsSolutions-IAM5[Resource::arn:aws:ses:${Stack.of(this).region}:${Stack.of(this).account}:identity/*]`,
      'The sender identity is the seller’s verified SES domain or address, configured after deploy.',
    );
    new Rule(this, 'DailyRegistrationReminders', {
      schedule: Schedule.cron({ minute: '15', hour: '6' }),
      targets: [new LambdaFunction(registrationReminders)],
    });

    // ACE co-sell opportunities → touches (AWS Partner Central is served from us-east-1 only).
    const coSell = fn(
      'PullCoSell',
      'functions/scheduled/pull-co-sell.ts',
      'Pulls AWS Partner Central (ACE) opportunities as co-sell touches',
      300,
    );
    coSell.addToRolePolicy(
      new PolicyStatement({
        actions: ['partnercentral:ListOpportunities', 'partnercentral:GetOpportunity'],
        resources: ['*'],
      }),
    );
    if (props.assumableRoleArns.length > 0) {
      coSell.addToRolePolicy(
        new PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [...props.assumableRoleArns],
        }),
      );
    }
    acknowledge(
      coSell,
      'AwsSolutions-IAM5[Resource::*]',
      'Partner Central opportunities are read by catalog; their ARNs are not known before they exist.',
    );
    new Rule(this, 'HourlyCoSellPull', {
      schedule: Schedule.cron({ minute: '20' }),
      targets: [new LambdaFunction(coSell)],
    });

    // Metering: every sealed hour reported once, a few minutes past each hour; an alarm (and a
    // notification on the alerts topic) when an hour is still unreported near its deadline.
    const flush = fn(
      'FlushUsage',
      'functions/scheduled/flush-usage.ts',
      'Reports sealed usage hours to the marketplaces (exactly once) and checks deadlines',
      600,
    );
    flush.addToRolePolicy(
      new PolicyStatement({ actions: ['aws-marketplace:BatchMeterUsage'], resources: ['*'] }),
    );
    props.credentialsSecret.grantRead(flush);
    if (props.assumableRoleArns.length > 0) {
      flush.addToRolePolicy(
        new PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [...props.assumableRoleArns],
        }),
      );
    }
    acknowledge(
      flush,
      'AwsSolutions-IAM5[Resource::*]',
      'BatchMeterUsage has no resource-level permissions.',
    );
    new Rule(this, 'HourlyUsageFlush', {
      schedule: Schedule.cron({ minute: '10' }),
      targets: [new LambdaFunction(flush)],
    });
    // A customer-managed key: CloudWatch cannot publish to a topic under the AWS-managed aws/sns key.
    this.alerts = createAlertsTopic(
      this,
      'Alerts',
      'Agora operational alerts',
      props.alertEmails ?? [],
    );
    const atRisk = new Alarm(this, 'UsageDeadlineAlarm', {
      alarmDescription:
        'A usage hour is still unreported close to its marketplace deadline: usage (revenue) is about to be lost',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: USAGE_DEADLINE_RISK_METRIC,
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.BREACHING,
    });
    atRisk.addAlarmAction(new SnsAction(this.alerts));
    this.alarms.push(atRisk);
    // A partner statement that did not tie to the ledger (or could not be archived) was not
    // issued: finance must look before the partner asks.
    const statementFailed = new Alarm(this, 'StatementFailuresAlarm', {
      alarmDescription:
        'A partner commission statement was not issued: it does not tie to the ledger (2100/2110) or could not be archived',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: STATEMENT_FAILURES_METRIC,
        statistic: 'Sum',
        period: Duration.hours(1),
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    statementFailed.addAlarmAction(new SnsAction(this.alerts));
    this.alarms.push(statementFailed);

    const recovery = fn(
      'RecoverPending',
      'functions/scheduled/recover-pending.ts',
      'Re-enqueues raw envelopes stored but never processed',
    );
    props.syncQueue.grantSendMessages(recovery);
    new Rule(this, 'RecoverySweep', {
      schedule: Schedule.rate(Duration.minutes(15)),
      targets: [new LambdaFunction(recovery)],
    });
  }

  /** Marketplace read APIs have no resource-level permissions; assuming seller roles is scoped. */
  grantMarketplaceReads(target: ServiceFunction, assumableRoleArns: readonly string[]): void {
    target.addToRolePolicy(
      new PolicyStatement({ actions: MARKETPLACE_READ_ACTIONS, resources: ['*'] }),
    );
    if (assumableRoleArns.length > 0) {
      target.addToRolePolicy(
        new PolicyStatement({ actions: ['sts:AssumeRole'], resources: [...assumableRoleArns] }),
      );
    }
    acknowledge(
      target,
      'AwsSolutions-IAM5[Resource::*]',
      'AWS Marketplace agreement, entitlement and metering read APIs do not support resource-level permissions.',
    );
  }

  /** Catalog change sets on offers and resale authorizations (the API has no resource ARNs for them before they exist). */
  /** SES sending from the seller's verified identity (statements carry their PDF: raw email). */
  grantSendEmail(target: ServiceFunction): void {
    const identities = `arn:aws:ses:${Stack.of(this).region}:${Stack.of(this).account}:identity/*`;
    target.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [identities],
      }),
    );
    acknowledge(
      target,
      `AwsSolutions-IAM5[Resource::${identities}]`,
      'The sender identity is the seller’s verified SES domain or address, configured after deploy.',
    );
  }

  grantCatalogOffers(target: ServiceFunction, assumableRoleArns: readonly string[]): void {
    target.addToRolePolicy(
      new PolicyStatement({ actions: CATALOG_OFFER_ACTIONS, resources: ['*'] }),
    );
    if (assumableRoleArns.length > 0) {
      target.addToRolePolicy(
        new PolicyStatement({ actions: ['sts:AssumeRole'], resources: [...assumableRoleArns] }),
      );
    }
    acknowledge(
      target,
      'AwsSolutions-IAM5[Resource::*]',
      'Catalog change sets create offers whose ARNs do not exist yet; StartChangeSet is scoped by the seller account.',
    );
  }

  private deadLetterQueue(id: string): Queue {
    const queue = new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      queue,
      'AwsSolutions-SQS3',
      'This queue is itself a dead-letter queue; it keeps undeliverable notifications for redrive.',
    );
    this.deadLetterQueues.push(queue);
    return queue;
  }
}
