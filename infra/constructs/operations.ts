/**
 * Production operations in CloudWatch: the operators' alerts topic (a customer-managed key, since
 * CloudWatch cannot publish to a topic encrypted with the AWS-managed `aws/sns` key), an alarm on
 * every dead-letter queue's depth, on every function's errors, on the API's 5xx rate, on the sync
 * backlog and on the metrics the code emits (lib/runtime/metrics.ts) — all notifying that topic —
 * and one dashboard with what an operator looks at first.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import {
  EVENTS_PROCESSED_METRIC,
  METRICS_NAMESPACE,
  RECONCILIATION_EXCEPTIONS_METRIC,
  RECONCILIATION_FAILURES_METRIC,
  STATEMENT_FAILURES_METRIC,
  SYNC_DEAD_LETTERED_METRIC,
  USAGE_DEADLINE_RISK_METRIC,
  USAGE_HOURS_REJECTED_METRIC,
  USAGE_HOURS_REPORTED_METRIC,
} from '../../lib/runtime/metrics';
import type { ServiceFunction } from './service-function';

/** The window of the error and DLQ alarms. */
export const ALARM_PERIOD = Duration.minutes(5);
/** An API function alarms when this share of its invocations fail (crash, timeout, out of memory). */
export const API_FUNCTION_ERROR_RATE_PERCENT = 5;
/** The API alarms when this share of its answers are 5xx. */
export const API_5XX_RATE_PERCENT = 5;
/** A sync message older than this means the worker is stuck or failing. */
export const SYNC_BACKLOG_AGE_SECONDS = 900;

/** Severity, first word of every alarm description, so a subscriber can filter or route. */
export type Severity = 'HIGH' | 'MEDIUM' | 'LOW';

/**
 * The operators' topic, encrypted with its own rotating key whose policy lets CloudWatch alarms
 * of this account use it; email subscribers are optional (they confirm by mail).
 */
export function createAlertsTopic(
  scope: Construct,
  id: string,
  displayName: string,
  emails: readonly string[] = [],
): Topic {
  const stack = Stack.of(scope);
  const key = new Key(scope, `${id}Key`, {
    description: `${displayName}: encrypts the alerts topic`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const fromOwnAlarms = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: {
      'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
    },
  };
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromOwnAlarms,
    }),
  );
  const topic = new Topic(scope, id, { displayName, enforceSSL: true, masterKey: key });
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: fromOwnAlarms,
    }),
  );
  for (const email of emails) topic.addSubscription(new EmailSubscription(email));
  return topic;
}

/** An alarm on a dead-letter queue holding anything at all. */
export function deadLetterQueueAlarm(
  scope: Construct,
  id: string,
  queue: IQueue,
  topic: Topic,
  what: string,
): Alarm {
  const alarm = new Alarm(scope, id, {
    alarmDescription: `HIGH: ${what} has messages: something could not be processed and waits for a redrive (docs/operations.md)`,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: ALARM_PERIOD,
      statistic: 'Maximum',
    }),
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(topic));
  return alarm;
}

export interface OperationsProps {
  readonly topic: Topic;
  readonly api: HttpApi;
  readonly syncQueue: IQueue;
  /** Functions that serve the HTTP API: alarmed on their error rate. */
  readonly apiFunctions: readonly ServiceFunction[];
  /** Every other function (queue workers, scheduled jobs): alarmed on any error. */
  readonly backgroundFunctions: readonly ServiceFunction[];
  /** Every dead-letter queue, with what it holds (for the alarm's description). */
  readonly deadLetterQueues: readonly { readonly queue: IQueue; readonly what: string }[];
  /** Alarms defined elsewhere (they notify the same topic), shown on the dashboard too. */
  readonly otherAlarms?: readonly Alarm[];
}

/** A short, stable name for a function in alarms and graphs: its construct id. */
function shortName(fn: IConstruct): string {
  return fn.node.id;
}

function agoraMetric(name: string, statistic: string, period: Duration): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName: name, statistic, period });
}

export class Operations extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const notify = (alarm: Alarm) => {
      alarm.addAlarmAction(new SnsAction(props.topic));
      this.alarms.push(alarm);
      return alarm;
    };

    for (const { queue, what } of props.deadLetterQueues) {
      const alarm = deadLetterQueueAlarm(
        this,
        `DeadLetters-${queue.node.id}`,
        queue,
        props.topic,
        what,
      );
      this.alarms.push(alarm);
    }

    for (const fn of props.apiFunctions) {
      notify(
        new Alarm(this, `ErrorRate-${shortName(fn)}`, {
          alarmDescription: `HIGH: ${shortName(fn)} failed (crash, timeout or out of memory) on at least ${API_FUNCTION_ERROR_RATE_PERCENT}% of its invocations`,
          metric: new MathExpression({
            expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
            usingMetrics: {
              errors: fn.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }),
              invocations: fn.metricInvocations({ period: ALARM_PERIOD, statistic: 'Sum' }),
            },
            label: `${shortName(fn)} error rate (%)`,
            period: ALARM_PERIOD,
          }),
          threshold: API_FUNCTION_ERROR_RATE_PERCENT,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    for (const fn of props.backgroundFunctions) {
      notify(
        new Alarm(this, `Errors-${shortName(fn)}`, {
          alarmDescription: `HIGH: ${shortName(fn)} failed (an unhandled error, timeout or out of memory); its log group says why`,
          metric: fn.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }),
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const api5xx = props.api.metricServerError({ period: ALARM_PERIOD, statistic: 'Sum' });
    const apiCount = props.api.metricCount({ period: ALARM_PERIOD, statistic: 'Sum' });
    notify(
      new Alarm(this, 'Api5xxRate', {
        alarmDescription: `HIGH: at least ${API_5XX_RATE_PERCENT}% of API answers are 5xx`,
        metric: new MathExpression({
          expression: 'IF(requests > 0, 100 * errors / requests, 0)',
          usingMetrics: { errors: api5xx, requests: apiCount },
          label: 'API 5xx rate (%)',
          period: ALARM_PERIOD,
        }),
        threshold: API_5XX_RATE_PERCENT,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    notify(
      new Alarm(this, 'SyncBacklog', {
        alarmDescription: `HIGH: a sync message has waited more than ${SYNC_BACKLOG_AGE_SECONDS / 60} minutes: the sync worker is failing or throttled, contracts are stale`,
        metric: props.syncQueue.metricApproximateAgeOfOldestMessage({
          period: ALARM_PERIOD,
          statistic: 'Maximum',
        }),
        threshold: SYNC_BACKLOG_AGE_SECONDS,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    notify(
      new Alarm(this, 'SyncDeadLettered', {
        alarmDescription:
          'HIGH: a marketplace notification was dead-lettered after its retries (GET /v1/dlq, agora dlq list): a contract may be out of date',
        metric: agoraMetric(SYNC_DEAD_LETTERED_METRIC, 'Sum', ALARM_PERIOD),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    notify(
      new Alarm(this, 'ReconciliationFailures', {
        alarmDescription:
          'HIGH: a marketplace report could not be reconciled (unreadable, wrong feed, or the run failed): finance has no result for it',
        metric: agoraMetric(RECONCILIATION_FAILURES_METRIC, 'Sum', Duration.hours(1)),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    notify(
      new Alarm(this, 'ReconciliationExceptions', {
        alarmDescription:
          'LOW: a reconciliation found exceptions (unmatched lines, differences beyond tolerance) for finance to review (GET /v1/reconciliations)',
        metric: agoraMetric(RECONCILIATION_EXCEPTIONS_METRIC, 'Sum', Duration.hours(1)),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const allFunctions = [...props.apiFunctions, ...props.backgroundFunctions];
    const perFunction = (make: (fn: ServiceFunction) => IMetric) => allFunctions.map(make);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# Agora\nAlarms notify the operators’ SNS topic. Runbooks: `docs/operations.md` (redrive the DLQ, run and close a period, restore from PITR).',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...(props.otherAlarms ?? []), ...this.alarms],
        width: 24,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Contract events processed',
        left: [agoraMetric(EVENTS_PROCESSED_METRIC, 'Sum', ALARM_PERIOD)],
        right: [agoraMetric(SYNC_DEAD_LETTERED_METRIC, 'Sum', ALARM_PERIOD)],
        width: 12,
      }),
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: props.deadLetterQueues.map(({ queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: ALARM_PERIOD,
            statistic: 'Maximum',
            label: queue.node.id,
          }),
        ),
        right: [
          props.syncQueue.metricApproximateAgeOfOldestMessage({
            period: ALARM_PERIOD,
            statistic: 'Maximum',
            label: 'Sync queue: oldest message (s)',
          }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: perFunction((fn) =>
          fn.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum', label: shortName(fn) }),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function duration p99 (ms)',
        left: perFunction((fn) =>
          fn.metricDuration({ period: ALARM_PERIOD, statistic: 'p99', label: shortName(fn) }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API: requests, 4xx, 5xx',
        left: [
          apiCount,
          props.api.metricClientError({ period: ALARM_PERIOD, statistic: 'Sum' }),
          api5xx,
        ],
        right: [props.api.metricLatency({ period: ALARM_PERIOD, statistic: 'p99' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Metering: hours reported, refused, at risk of their deadline',
        left: [
          agoraMetric(USAGE_HOURS_REPORTED_METRIC, 'Sum', Duration.hours(1)),
          agoraMetric(USAGE_HOURS_REJECTED_METRIC, 'Sum', Duration.hours(1)),
        ],
        right: [agoraMetric(USAGE_DEADLINE_RISK_METRIC, 'Maximum', Duration.hours(1))],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Reconciliation: failed reports, exceptions found',
        left: [
          agoraMetric(RECONCILIATION_FAILURES_METRIC, 'Sum', Duration.hours(1)),
          agoraMetric(RECONCILIATION_EXCEPTIONS_METRIC, 'Sum', Duration.hours(1)),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Partner statements not issued',
        left: [agoraMetric(STATEMENT_FAILURES_METRIC, 'Sum', Duration.hours(1))],
        width: 12,
      }),
    );
  }
}
