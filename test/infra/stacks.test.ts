// Proves the CDK app's important properties from the synthesized templates (bundling stubbed):
// a retained, protected, on-demand table with PITR and a stream; private encrypted buckets;
// Node 22 arm64 functions with least-privilege table access; JWT-protected routes; a FIFO queue
// with a DLQ; the us-east-1 forwarder only when needed — and that cdk-nag runs and passes.
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildAgora } from '../../infra/build';
import { API_ROUTES } from '../../lib/http/api-routes';
import { ROUTE_GROUPS, routesOfGroup } from '../../lib/http/route-groups';

const CONTEXT = {
  // Skip esbuild bundling: the bundle is not the subject of these tests.
  'aws:cdk:bundling-stacks': [],
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};

const ACCOUNTS = JSON.stringify([
  {
    sellerAccountId: '111122223333',
    roleArn: 'arn:aws:iam::111122223333:role/AgoraMarketplaceRead',
    products: [
      { productCode: 'newprod', identity: 'license' },
      { productCode: 'legacyprod', identity: 'customer' },
    ],
  },
]);

function synthAgora(homeRegion: string) {
  const app = new App({ context: CONTEXT });
  const stacks = buildAgora(app, {
    homeRegion,
    account: '123456789012',
    awsAccountsJson: ACCOUNTS,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws if any cdk-nag finding is not acknowledged
  return stacks;
}

const eu = synthAgora('eu-west-1');
const stateful = Template.fromStack(eu.stateful);
const stateless = Template.fromStack(eu.stateless);

describe('stateful stack', () => {
  it('keeps the table on demand, retained, deletion-protected, with PITR, TTL and a stream', () => {
    stateful.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'gsi1' }),
          Match.objectLike({ IndexName: 'gsi2' }),
        ],
      }),
    });
  });

  it('blocks public access and encrypts every bucket, and refuses plain HTTP', () => {
    const buckets = stateful.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption).toBeDefined();
    }
    stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      }),
    });
  });

  it('defines one Cognito group per role, with MFA required', () => {
    stateful.resourceCountIs('AWS::Cognito::UserPoolGroup', 5);
    stateful.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON' });
  });
});

describe('stateless stack', () => {
  it('runs every function on Node 22, arm64, with the table bound', () => {
    const functions = stateless.findResources('AWS::Lambda::Function');
    // one per API area, plus the pipeline: two inlets, the sync worker, the webhook sweeper,
    // Azure reconciliation, billing, recognition, offer tracking and reminders, the usage flush,
    // registration reminders, the ACE pull, the commission run, the statement run and recovery
    // (no GCP pull: no provider uses a pull subscription), and report reconciliation
    expect(Object.keys(functions)).toHaveLength(ROUTE_GROUPS.length + 16);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Environment.Variables.AGORA_TABLE_NAME).toBeDefined();
    }
  });

  it('gives the statement run and the partners API the statements bucket, the fonts and SES raw email', () => {
    const functions = Object.values(stateless.findResources('AWS::Lambda::Function'));
    const withFonts = functions.filter(
      (fn) => fn.Properties.Environment.Variables.AGORA_FONTS_DIR === '/var/task/fonts',
    );
    expect(withFonts.map((fn) => String(fn.Properties.Description).slice(0, 40)).sort()).toEqual([
      'Agora API, partners: create-partner, lis',
      'Monthly partner commission statements: P',
    ]);
    for (const fn of withFonts) {
      expect(fn.Properties.Environment.Variables.AGORA_STATEMENTS_BUCKET).toBeDefined();
      expect(fn.Properties.MemorySize).toBe(1024);
    }
    const policies = Object.values(stateless.findResources('AWS::IAM::Policy'));
    const rawEmail = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('ses:SendRawEmail'),
    );
    expect(rawEmail).toHaveLength(2);
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 4 * ? *)',
    });
    // A statement not issued (does not tie) alarms the operators' topic.
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StatementFailures',
      Namespace: 'Agora',
      Threshold: 0,
      AlarmActions: Match.anyValue(),
    });
  });

  it('stays within CloudFormation’s resource limit and points every route at its area’s function', () => {
    expect(Object.keys(stateless.toJSON().Resources).length).toBeLessThan(400);
    const integrations = stateless.findResources('AWS::ApiGatewayV2::Integration');
    expect(Object.keys(integrations)).toHaveLength(ROUTE_GROUPS.length);
    const routes = Object.values(stateless.findResources('AWS::ApiGatewayV2::Route'));
    for (const group of ROUTE_GROUPS) {
      const integrationId = Object.keys(integrations).find((id) =>
        id.includes(`Integration${group}`),
      );
      expect(integrationId, group).toBeDefined();
      for (const route of routesOfGroup(group)) {
        const match = routes.find((r) => r.Properties.RouteKey === `${route.method} ${route.path}`);
        expect(JSON.stringify(match?.Properties.Target), route.name).toContain(
          String(integrationId),
        );
      }
    }
  });

  it('grants table access without wildcards: the table and its named indexes only', () => {
    const policies = stateless.findResources('AWS::IAM::Policy');
    const text = JSON.stringify(policies);
    expect(text).not.toMatch(/index\/\*/);
    expect(text).toMatch(/index\/gsi1/);
    // GET routes only read
    expect(text).toMatch(/dynamodb:GetItem/);
    expect(text).not.toMatch(/dynamodb:\*/);
  });

  it('routes every API route, with the JWT authorizer except on public ones', () => {
    const routes = stateless.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(routes)).toHaveLength(API_ROUTES.length);
    for (const route of API_ROUTES) {
      const match = Object.values(routes).find(
        (r) => r.Properties.RouteKey === `${route.method} ${route.path}`,
      );
      expect(match, route.path).toBeDefined();
      expect(match?.Properties.AuthorizationType).toBe(route.access === 'public' ? 'NONE' : 'JWT');
    }
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: Match.objectLike({ Issuer: Match.anyValue() }),
    });
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 100 }),
    });
  });

  it('has a FIFO sync queue that dead-letters after 5 receives', () => {
    stateless.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    expect(
      Object.keys(stateless.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true } })),
    ).toHaveLength(2);
  });
});

describe('contract pipeline', () => {
  it('routes AWS Marketplace events on the home bus to the inlet, with retries and a DLQ', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.agreement-marketplace', 'aws.marketplacecatalog', 'aws.marketplace'],
      },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it('runs the sync worker on the FIFO queue with partial batch failures', () => {
    stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: Match.objectLike({
        'Fn::GetAtt': Match.arrayWith([Match.stringLikeRegexp('SyncQueue')]),
      }),
    });
  });

  it('delivers webhooks from the table stream, filtered to new deliveries', () => {
    stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'LATEST',
      FilterCriteria: { Filters: [{ Pattern: Match.stringLikeRegexp('WebhookDelivery') }] },
    });
  });

  it('subscribes only legacy products to their SNS topics', () => {
    const subscriptions = Object.values(stateless.findResources('AWS::SNS::Subscription')).map(
      (s) => JSON.stringify(s.Properties.TopicArn),
    );
    expect(subscriptions).toHaveLength(2);
    expect(subscriptions.every((arn) => arn.includes('legacyprod'))).toBe(true);
    expect(
      subscriptions.some((arn) => arn.includes('aws-mp-subscription-notification-legacyprod')),
    ).toBe(true);
  });

  it('grants marketplace reads and the seller role only to the functions that re-read', () => {
    const policies = Object.entries(stateless.findResources('AWS::IAM::Policy'));
    const withMarketplace = policies
      .filter(([, p]) => JSON.stringify(p).includes('aws-marketplace:GetAgreementTerms'))
      .map(([id]) => id);
    expect(withMarketplace.length).toBe(2);
    expect(withMarketplace.some((id) => id.includes('SyncWorker'))).toBe(true);
    expect(withMarketplace.some((id) => id.includes('Apiinbound'))).toBe(true);
    const assume = policies.filter(([, p]) => JSON.stringify(p).includes('sts:AssumeRole'));
    expect(JSON.stringify(assume)).toContain('role/AgoraMarketplaceRead');
  });

  it('flushes usage hourly and alarms to a topic under a customer-managed key when an hour nears its deadline', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(10 * * * ? *)',
    });
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Agora',
      MetricName: 'UsageHoursUnreportedNearDeadline',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    // Not the AWS-managed aws/sns key: CloudWatch alarms cannot publish to a topic under it.
    const topics = Object.values(stateless.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(1);
    expect(JSON.stringify(topics)).not.toContain('alias/aws/sns');
    const keyRef = topics[0]?.Properties.KmsMasterKeyId?.['Fn::GetAtt']?.[0];
    expect(stateless.toJSON().Resources[keyRef]?.Properties.EnableKeyRotation).toBe(true);
  });

  it('lets only the offer and listing routes and the offer tracker use the Catalog API', () => {
    const withCatalog = Object.entries(stateless.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes('aws-marketplace:StartChangeSet'))
      .map(([id]) => id.toLowerCase());
    const names = ['apioffers', 'trackoffers'];
    expect(withCatalog).toHaveLength(names.length);
    for (const name of names) expect(withCatalog.some((id) => id.includes(name))).toBe(true);
  });
});

describe('marketplace credentials', () => {
  it('keeps one retained secret, readable only by the functions that call Azure or Google', () => {
    stateful.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    const readers = Object.entries(stateless.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes('secretsmanager:GetSecretValue'))
      .map(([id]) => id.toLowerCase());
    for (const expected of [
      'syncworker',
      'reconcileazure',
      // Azure landing and activation, Google sign-up; approving contracts re-reads them.
      'apiinbound',
      'apicontracts',
      // Publishing offers and editing listings on Azure and Google, and reporting their usage.
      'apioffers',
      'trackoffers',
      'flushusage',
    ]) {
      expect(
        readers.some((id) => id.includes(expected)),
        expected,
      ).toBe(true);
    }
    expect(readers).toHaveLength(7);
    // The partner, finance, usage and platform areas never see the credentials.
    expect(readers.some((id) => /apipartners|apifinance|apiusage|apiplatform/.test(id))).toBe(
      false,
    );
  });
});

describe('marketplace event forwarder', () => {
  it('forwards aws.marketplace events from us-east-1 to the home region bus, with a DLQ', () => {
    expect(eu.forwarder?.region).toBe('us-east-1');
    const forwarder = Template.fromStack(eu.forwarder as Stack);
    forwarder.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.agreement-marketplace', 'aws.marketplacecatalog', 'aws.marketplace'],
      },
      Targets: [
        Match.objectLike({ DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }) }),
      ],
    });
    const rule = Object.values(forwarder.findResources('AWS::Events::Rule'))[0];
    expect(JSON.stringify(rule?.Properties.Targets[0].Arn)).toContain(':events:eu-west-1:');
  });

  it('is not created when the home region is us-east-1', () => {
    expect(synthAgora('us-east-1').forwarder).toBeNull();
  });
});

describe('cdk-nag', () => {
  it('really runs: a bucket without access logs or TLS enforcement interrupts synthesis', () => {
    const app = new App({ context: CONTEXT });
    const stack = new Stack(app, 'Bad');
    new Bucket(stack, 'Plain');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});
