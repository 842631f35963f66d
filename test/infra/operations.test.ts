// Proves production operations from the synthesized templates (bundling stubbed): every DLQ, every function and every emitted alarm metric has an alarm on the operators' topic (which CloudWatch can publish to), the dashboard shows them, tracing is on, each function's IAM is least-privilege, report reconciliation is wired from the bucket's EventBridge events, and every cdk-nag acknowledgment has a reason.
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildAgora, parseAlertEmails, settingsEnvironment } from '../../infra/build';
import {
  CATALOG_OFFER_ACTIONS,
  MARKETPLACE_READ_ACTIONS,
} from '../../infra/constructs/contract-pipeline';
import { TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS } from '../../infra/constructs/service-function';
import { ROUTE_GROUPS, routesOfGroup } from '../../lib/http/route-groups';
import {
  EVENTS_PROCESSED_METRIC,
  METRICS_NAMESPACE,
  RECONCILIATION_EXCEPTIONS_METRIC,
  RECONCILIATION_FAILURES_METRIC,
  STATEMENT_FAILURES_METRIC,
  SYNC_DEAD_LETTERED_METRIC,
  USAGE_DEADLINE_RISK_METRIC,
} from '../../lib/runtime/metrics';

const CONTEXT = {
  'aws:cdk:bundling-stacks': [],
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};
const ROLE_ARN = 'arn:aws:iam::111122223333:role/AgoraMarketplaceRead';
const ACCOUNTS = JSON.stringify([
  {
    sellerAccountId: '111122223333',
    roleArn: ROLE_ARN,
    products: [
      { productCode: 'newprod', identity: 'license' },
      { productCode: 'legacyprod', identity: 'customer' },
    ],
  },
]);

const app = new App({ context: CONTEXT });
const stacks = buildAgora(app, {
  homeRegion: 'eu-west-1',
  account: '123456789012',
  awsAccountsJson: ACCOUNTS,
  alertEmails: ['ops@example.com'],
  settingsJson: JSON.stringify({ AGORA_EMAIL_FROM: 'billing@example.com' }),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth(); // throws if any cdk-nag finding is not acknowledged

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Resource = { Type: string; Properties: any; DependsOn?: unknown };
const stateless = Template.fromStack(stacks.stateless);
const stateful = Template.fromStack(stacks.stateful);
const resources = stateless.toJSON().Resources as Record<string, Resource>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

const functionIds = ofType('AWS::Lambda::Function').map(([id]) => id);
const alarms = ofType('AWS::CloudWatch::Alarm');
const topicIds = ofType('AWS::SNS::Topic').map(([id]) => id);
const topicRef = { Ref: topicIds[0] };

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Effect: string;
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The statements of a function's execution role (its default policy). */
function statementsOf(functionId: string): Statement[] {
  const roleId = resources[functionId]?.Properties.Role['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === `{"Ref":"${roleId}"}`),
    )
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const functionNamed = (fragment: string) => {
  const found = functionIds.filter((id) => id.toLowerCase().includes(fragment.toLowerCase()));
  expect(found, fragment).toHaveLength(1);
  return found[0] as string;
};
const grantedTo = (predicate: (s: Statement) => boolean) =>
  functionIds.filter((id) => statementsOf(id).some(predicate));
const nameOf = (id: string) => id.replace(/^(ContractPipeline|Reconciliation)/, '').toLowerCase();

/** Queues that are some consumer's dead-letter queue: SQS redrive, rule target DLQ, Lambda on-failure. */
function deadLetterQueueIds(all: Record<string, Resource>): string[] {
  const ids = new Set<string>();
  const arnTarget = (value: unknown) => {
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    if (getAtt && getAtt[1] === 'Arn' && all[getAtt[0]]?.Type === 'AWS::SQS::Queue')
      ids.add(getAtt[0]);
  };
  for (const r of Object.values(all)) {
    if (r.Type === 'AWS::SQS::Queue') arnTarget(r.Properties?.RedrivePolicy?.deadLetterTargetArn);
    if (r.Type === 'AWS::Events::Rule')
      for (const t of r.Properties.Targets ?? []) arnTarget(t.DeadLetterConfig?.Arn);
    if (r.Type === 'AWS::Lambda::EventInvokeConfig')
      arnTarget(r.Properties.DestinationConfig?.OnFailure?.Destination);
  }
  return [...ids];
}

/** The metrics an alarm watches, whether it is a plain metric alarm or metric math. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
function alarmMetrics(alarm: Resource): { name: string; dimensions: any[] }[] {
  const p = alarm.Properties;
  if (p.MetricName) return [{ name: p.MetricName, dimensions: p.Dimensions ?? [] }];
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
  return (p.Metrics ?? []).flatMap((m: any) =>
    m.MetricStat
      ? [{ name: m.MetricStat.Metric.MetricName, dimensions: m.MetricStat.Metric.Dimensions ?? [] }]
      : [],
  );
}

describe('alarms', () => {
  it('alarms on every dead-letter queue holding even one message, to the operators’ topic', () => {
    const dlqs = deadLetterQueueIds(resources);
    // sync, EventBridge inlet, SNS inlet, report reconciliation
    expect(dlqs).toHaveLength(4);
    for (const queueId of dlqs) {
      const alarm = alarms.find(([, a]) =>
        alarmMetrics(a).some(
          (m) =>
            m.name === 'ApproximateNumberOfMessagesVisible' &&
            JSON.stringify(m.dimensions).includes(`"${queueId}","QueueName"`),
        ),
      );
      expect(alarm, queueId).toBeDefined();
      expect(alarm?.[1].Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topicRef],
      });
    }
  });

  it('alarms on every function’s errors: any error of a background job, an error rate of an API area', () => {
    expect(functionIds).toHaveLength(ROUTE_GROUPS.length + 16);
    for (const fnId of functionIds) {
      const found = alarms.filter(([, a]) =>
        alarmMetrics(a).some(
          (m) => m.name === 'Errors' && JSON.stringify(m.dimensions).includes(`{"Ref":"${fnId}"}`),
        ),
      );
      expect(found, fnId).toHaveLength(1);
      const props = found[0]?.[1].Properties;
      expect(props.AlarmActions).toEqual([topicRef]);
      expect(props.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      if (fnId.startsWith('Api')) {
        // A rate over invocations, not a count: a busy API is not paged for one crash in a thousand.
        expect(props.Metrics[0].Expression).toMatch(/errors \/ invocations/);
        expect(props.Threshold).toBe(5);
      } else {
        expect(props.Threshold).toBe(1);
      }
    }
  });

  it('alarms on every metric the code emits for an operator: metering deadline risk, statements, reconciliation, dead-lettered syncs', () => {
    const expected: [string, number, string][] = [
      [USAGE_DEADLINE_RISK_METRIC, 0, 'GreaterThanThreshold'],
      [STATEMENT_FAILURES_METRIC, 0, 'GreaterThanThreshold'],
      [RECONCILIATION_FAILURES_METRIC, 1, 'GreaterThanOrEqualToThreshold'],
      [RECONCILIATION_EXCEPTIONS_METRIC, 1, 'GreaterThanOrEqualToThreshold'],
      [SYNC_DEAD_LETTERED_METRIC, 1, 'GreaterThanOrEqualToThreshold'],
    ];
    for (const [metric, threshold, comparison] of expected) {
      stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS_NAMESPACE,
        MetricName: metric,
        Threshold: threshold,
        ComparisonOperator: comparison,
        AlarmActions: [topicRef],
      });
    }
    expect(RECONCILIATION_FAILURES_METRIC).toBe('ReconciliationFailures');
    expect(RECONCILIATION_EXCEPTIONS_METRIC).toBe('ReconciliationExceptions');
  });

  it('alarms on the API’s 5xx rate and on a sync backlog', () => {
    const api = alarms.find(([, a]) => alarmMetrics(a).some((m) => m.name === '5xx'));
    expect(api?.[1].Properties.Metrics[0].Expression).toMatch(/errors \/ requests/);
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      AlarmActions: [topicRef],
    });
  });

  it('notifies exactly one topic from every alarm, with a severity first in its description', () => {
    expect(topicIds).toHaveLength(1);
    expect(alarms.length).toBeGreaterThanOrEqual(functionIds.length + 4 + 5);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topicRef]);
      expect(String(alarm.Properties.AlarmDescription).length, id).toBeGreaterThan(20);
    }
    const ours = alarms.filter(([id]) => id.startsWith('Operations'));
    for (const [id, alarm] of ours)
      expect(alarm.Properties.AlarmDescription, id).toMatch(/^(HIGH|MEDIUM|LOW): /);
  });

  it('lets CloudWatch publish to the topic: its own rotating key and a policy for this account’s alarms', () => {
    const topic = resources[topicIds[0] as string];
    const keyId = topic?.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const key = resources[keyId];
    expect(key?.Type).toBe('AWS::KMS::Key');
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    const keyStatement = key?.Properties.KeyPolicy.Statement.find(
      (s: { Principal?: { Service?: string } }) =>
        s.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(keyStatement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(keyStatement.Condition.StringEquals['aws:SourceAccount']).toBe('123456789012');
    const [policy] = ofType('AWS::SNS::TopicPolicy');
    const [deny, allow] = policy?.[1].Properties.PolicyDocument.Statement ?? [];
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(allow).toMatchObject({
      Effect: 'Allow',
      Action: 'sns:Publish',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Resource: topicRef,
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    // Only this account's alarms in this region: arn:<partition>:cloudwatch:eu-west-1:<account>:alarm:*
    expect(JSON.stringify(allow.Condition.ArnLike['aws:SourceArn'])).toContain(
      ':cloudwatch:eu-west-1:123456789012:alarm:*',
    );
  });

  it('subscribes the configured addresses by email, and refuses a malformed one at synth', () => {
    stateless.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicRef,
    });
    expect(parseAlertEmails(' a@x.com, b@y.org ,')).toEqual(['a@x.com', 'b@y.org']);
    expect(parseAlertEmails(undefined)).toEqual([]);
    expect(() => parseAlertEmails('ops@example.com,not-an-address')).toThrow(/not-an-address/);
  });

  it('alarms on the us-east-1 forwarder’s dead-letter queue through a topic in that region', () => {
    const forwarder = Template.fromStack(stacks.forwarder as NonNullable<typeof stacks.forwarder>);
    const all = forwarder.toJSON().Resources as Record<string, Resource>;
    const [dlq] = deadLetterQueueIds(all);
    expect(dlq).toBeDefined();
    const [topic] = Object.entries(all).find(([, r]) => r.Type === 'AWS::SNS::Topic') ?? [];
    forwarder.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: topic }],
    });
    forwarder.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('dashboard', () => {
  it('shows events processed, DLQ depths, errors and p99 duration per function, metering risk, reconciliation and statements', () => {
    const dashboards = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.[1].Properties.DashboardBody);
    for (const metric of [
      EVENTS_PROCESSED_METRIC,
      SYNC_DEAD_LETTERED_METRIC,
      USAGE_DEADLINE_RISK_METRIC,
      RECONCILIATION_FAILURES_METRIC,
      RECONCILIATION_EXCEPTIONS_METRIC,
      STATEMENT_FAILURES_METRIC,
      'ApproximateNumberOfMessagesVisible',
      'Errors',
      'Duration',
      '5xx',
    ]) {
      expect(body, metric).toContain(`\\"${metric}\\"`);
    }
    expect(body).toContain('p99');
    for (const queueId of deadLetterQueueIds(resources)) expect(body).toContain(`"${queueId}"`);
    for (const fnId of functionIds) expect(body, fnId).toContain(`{"Ref":"${fnId}"}`);
    // Every alarm, including the pipeline's own, is on the alarm status widget.
    for (const [id] of alarms) expect(body, id).toContain(`"Fn::GetAtt":["${id}","Arn"]`);
  });
});

describe('tracing', () => {
  it('runs every function with X-Ray active tracing and Powertools settings, responses not captured', () => {
    for (const fnId of functionIds) {
      const props = resources[fnId]?.Properties;
      expect(props.TracingConfig, fnId).toEqual({ Mode: 'Active' });
      expect(props.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'agora',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
      });
      expect(statementsOf(fnId).flatMap(actionsOf), fnId).toEqual(
        expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
      );
    }
  });
});

/** Actions AWS does not let us scope to a resource, each with the reason it is granted on `*`. */
const UNSCOPABLE_ACTIONS: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions (active tracing).',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions (active tracing).',
  'dynamodb:ListStreams': 'ListStreams has no resource-level permissions (the stream trigger).',
  'aws-marketplace:BatchMeterUsage': 'Metering has no resource-level permissions.',
  'partnercentral:ListOpportunities': 'Opportunities are read by catalog, ARNs unknown before.',
  'partnercentral:GetOpportunity': 'Opportunities are read by catalog, ARNs unknown before.',
  ...Object.fromEntries(
    MARKETPLACE_READ_ACTIONS.map((a) => [
      a,
      'Agreement and entitlement reads have no resource-level permissions.',
    ]),
  ),
  ...Object.fromEntries(
    CATALOG_OFFER_ACTIONS.map((a) => [
      a,
      'Change sets create entities whose ARNs do not exist yet.',
    ]),
  ),
};

describe('least-privilege IAM per function', () => {
  it('grants no wildcard action, and `*` resources only for actions AWS cannot scope', () => {
    for (const fnId of functionIds) {
      for (const statement of statementsOf(fnId)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf(statement)) {
          expect(action, fnId).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
          if (statement.Resource === '*' || JSON.stringify(statement.Resource).includes('"*"'))
            expect(UNSCOPABLE_ACTIONS[action], `${fnId}: ${action} on *`).toBeDefined();
        }
      }
    }
  });

  it('lets only the statement writers and the reminder jobs send email, from the seller’s identities', () => {
    const senders = grantedTo((s) => actionsOf(s).some((a) => a.startsWith('ses:')));
    expect(senders.map(nameOf).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^apipartners/),
        expect.stringMatching(/^offerreminders/),
        expect.stringMatching(/^registrationreminders/),
        expect.stringMatching(/^statementrun/),
      ]),
    );
    expect(senders).toHaveLength(4);
    const rawSenders = grantedTo((s) => actionsOf(s).includes('ses:SendRawEmail'));
    expect(rawSenders.map(nameOf).sort()).toEqual([
      expect.stringMatching(/^apipartners/),
      expect.stringMatching(/^statementrun/),
    ]);
    for (const fnId of senders) {
      for (const s of statementsOf(fnId).filter((st) =>
        actionsOf(st).some((a) => a.startsWith('ses:')),
      ))
        expect(s.Resource).toBe('arn:aws:ses:eu-west-1:123456789012:identity/*');
    }
  });

  it('gives S3 on statements/* only to the statement writers, on reports/* only to reconciliation (read), and never list or delete', () => {
    const s3 = (fnId: string) =>
      statementsOf(fnId).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    const withS3 = functionIds.filter((id) => s3(id).length > 0);
    expect(withS3.map(nameOf).sort()).toEqual([
      expect.stringMatching(/^apipartners/),
      expect.stringMatching(/^reconcilereport/),
      expect.stringMatching(/^statementrun/),
    ]);
    for (const fnId of withS3) {
      for (const s of s3(fnId)) {
        const resource = JSON.stringify(s.Resource);
        if (nameOf(fnId).startsWith('reconcilereport')) {
          expect(actionsOf(s)).toEqual(['s3:GetObject']);
          expect(resource).toBe(
            JSON.stringify({
              'Fn::Join': ['', [{ 'Fn::ImportValue': 'Agora-ReportBucketArn' }, '/reports/*']],
            }),
          );
        } else {
          expect(actionsOf(s)).toEqual(['s3:GetObject', 's3:PutObject']);
          expect(resource).toContain('Agora-StatementBucketArn');
          expect(resource).toContain('/statements/*');
        }
      }
    }
  });

  it('gives report reconciliation exactly the table, reports/* and its own dead-letter queue', () => {
    const fnId = functionNamed('ReconcileReport');
    const actions = new Set(statementsOf(fnId).flatMap(actionsOf));
    expect([...actions].sort()).toEqual(
      [
        ...TABLE_READ_ACTIONS,
        ...TABLE_WRITE_ACTIONS,
        's3:GetObject',
        'sqs:SendMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ].sort(),
    );
    const sqs = statementsOf(fnId).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(JSON.stringify(sqs.map((s) => s.Resource))).toMatch(/ReconciliationDeadLetters/);
    expect(JSON.stringify(sqs.map((s) => s.Resource))).not.toMatch(/SyncQueue/);
  });

  it('lets only the inlets and the functions that re-sync send to the sync queue', () => {
    const senders = grantedTo(
      (s) =>
        actionsOf(s).includes('sqs:SendMessage') &&
        JSON.stringify(s.Resource).includes('SyncQueue'),
    ).map(nameOf);
    const expected = [
      'apicontracts',
      'apiinbound',
      'apiplatform',
      'awseventbridgeinlet',
      'awssnsinlet',
      'reconcileazure',
      'recoverpending',
    ];
    expect(senders).toHaveLength(expected.length);
    for (const name of expected)
      expect(
        senders.some((s) => s.startsWith(name)),
        name,
      ).toBe(true);
  });

  it('grants table writes only to API areas with a mutating route, always on the table and its named indexes', () => {
    for (const fnId of functionIds) {
      const table = statementsOf(fnId).filter((s) => actionsOf(s).includes('dynamodb:GetItem'));
      expect(table, fnId).toHaveLength(1);
      expect(JSON.stringify(table[0]?.Resource)).toMatch(/index\/gsi1/);
      const writes = actionsOf(table[0] as Statement).includes('dynamodb:PutItem');
      const group = ROUTE_GROUPS.find((g) => fnId.startsWith(`Api${g}`));
      if (group) expect(writes, fnId).toBe(routesOfGroup(group).some((r) => r.method !== 'GET'));
    }
  });

  it('lets functions assume only the configured seller roles', () => {
    for (const fnId of functionIds)
      for (const s of statementsOf(fnId).filter((st) => actionsOf(st).includes('sts:AssumeRole')))
        expect(s.Resource, fnId).toEqual(ROLE_ARN);
  });
});

describe('report reconciliation', () => {
  it('runs a 15-minute, 3008 MB function with the report bucket and the table', () => {
    const props = resources[functionNamed('ReconcileReport')]?.Properties;
    expect(props.Timeout).toBe(900);
    expect(props.MemorySize).toBe(3008);
    expect(props.Environment.Variables.AGORA_REPORTS_BUCKET).toEqual({
      'Fn::ImportValue': 'Agora-ReportBucketName',
    });
    expect(props.Environment.Variables.AGORA_TABLE_NAME).toBeDefined();
    expect(props.Environment.Variables.AGORA_SYNC_QUEUE_URL).toBeUndefined();
  });

  it('is invoked by S3 Object Created events under reports/ of the report bucket, with retries and a DLQ', () => {
    const fnId = functionNamed('ReconcileReport');
    const rules = ofType('AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes(`"${fnId}"`),
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.[1].Properties;
    expect(rule.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ 'Fn::ImportValue': 'Agora-ReportBucketName' }] },
        object: { key: [{ prefix: 'reports/' }] },
      },
    });
    expect(rule.Targets[0].DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(
      /ReconciliationDeadLetters/,
    );
    stateless.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: {
            'Fn::GetAtt': [rule.Targets[0].DeadLetterConfig.Arn['Fn::GetAtt'][0], 'Arn'],
          },
        },
      },
    });
  });

  it('sends the report bucket’s events to EventBridge natively (no custom-resource Lambda) and exports it', () => {
    const buckets = Object.entries(stateful.findResources('AWS::S3::Bucket'));
    const withEvents = buckets.filter(
      ([, b]) =>
        b.Properties.NotificationConfiguration?.EventBridgeConfiguration?.EventBridgeEnabled ===
        true,
    );
    expect(withEvents.map(([id]) => id)).toEqual([expect.stringMatching(/^ReportBucket/)]);
    stateful.resourceCountIs('AWS::Lambda::Function', 0);
    stateful.resourceCountIs('Custom::S3BucketNotifications', 0);
    const outputs = stateful.toJSON().Outputs as Record<string, { Export?: { Name: string } }>;
    const exports = Object.values(outputs).map((o) => o.Export?.Name);
    expect(exports).toEqual(
      expect.arrayContaining(['Agora-ReportBucketArn', 'Agora-ReportBucketName']),
    );
  });
});

describe('deploy settings and outputs', () => {
  it('passes validated settings to every function, and refuses unknown, invalid or stack-owned ones', () => {
    for (const fnId of functionIds)
      expect(resources[fnId]?.Properties.Environment.Variables.AGORA_EMAIL_FROM, fnId).toBe(
        'billing@example.com',
      );
    expect(settingsEnvironment('{"AGORA_OFFER_REMINDER_DAYS":"14,7,1"}')).toEqual({
      AGORA_OFFER_REMINDER_DAYS: '14,7,1',
    });
    expect(() => settingsEnvironment('{"AGORA_LOG_LEVEL":"LOUD"}')).toThrow(/AGORA_LOG_LEVEL/);
    expect(() => settingsEnvironment('{"AGORA_TABLE_NAME":"other"}')).toThrow(/set by the stack/);
    expect(() => settingsEnvironment('{"AGORA_NOPE":"x"}')).toThrow(/Unknown setting AGORA_NOPE/);
    expect(() => settingsEnvironment('["AGORA_EMAIL_FROM"]')).toThrow(/JSON object/);
  });

  it('prints what the runbooks need: API URL, alerts topic, dashboard, DLQ URLs, job function names', () => {
    const outputs = Object.keys(stateless.toJSON().Outputs as Record<string, unknown>);
    for (const name of [
      'ApiUrl',
      'AlertsTopicArn',
      'DashboardName',
      'SyncDeadLetterQueueUrl',
      'ReconciliationDeadLetterQueueUrl',
      'EventBridgeInletDeadLettersUrl',
      'SnsInletDeadLettersUrl',
      'RecognitionRunFunctionName',
      'BillingRunFunctionName',
      'ReconcileReportFunctionName',
    ])
      expect(outputs, name).toContain(name);
  });
});

describe('cdk-nag acknowledgments', () => {
  const acknowledged: { construct: IConstruct; rule: string; reason: string }[] = [];
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [rule, reason] of Object.entries(entry.data as Record<string, string>))
        if (rule.includes('AwsSolutions-')) acknowledged.push({ construct, rule, reason });
    }
  }

  it('gives every acknowledged AwsSolutions finding a reason a reviewer can check', () => {
    expect(acknowledged.length).toBeGreaterThan(50);
    for (const { construct, rule, reason } of acknowledged) {
      const where = `${construct.node.path} ${rule}`;
      expect(reason.trim().length, where).toBeGreaterThanOrEqual(40);
      expect(reason, where).not.toMatch(/\b(TODO|FIXME|TBD)\b/);
    }
  });

  it('acknowledges wildcard resources only on functions, never on a stack or a construct above them', () => {
    const wildcard = acknowledged.filter(({ rule }) => rule.endsWith('[Resource::*]'));
    // every function (X-Ray); the unscopable actions themselves are enumerated by the IAM test
    expect(wildcard.length).toBeGreaterThanOrEqual(functionIds.length);
    for (const { construct } of wildcard)
      expect(construct instanceof LambdaFunction, construct.node.path).toBe(true);
    expect(
      acknowledged.filter(({ construct }) => construct instanceof Stack).map((a) => a.rule),
    ).toEqual([]);
  });
});
