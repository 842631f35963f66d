/**
 * Everything that can be redeployed at will: the functions, the HTTP API with its JWT
 * authorizer, the sync queue and its dead-letter queue. Routes come from the same table the
 * local server and /openapi.json use (lib/http/api-routes.ts).
 */
import { CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ROUTE_GROUPS, routesOfGroup } from '../lib/http/route-groups';
import { ContractPipeline } from './constructs/contract-pipeline';
import { Operations } from './constructs/operations';
import { ReportReconciliation } from './constructs/report-reconciliation';
import { acknowledge, ServiceFunction, STATEMENT_MEMORY_MB } from './constructs/service-function';
import {
  REPORT_BUCKET_ARN_EXPORT,
  REPORT_BUCKET_NAME_EXPORT,
  STATEMENT_BUCKET_ARN_EXPORT,
  STATEMENT_BUCKET_NAME_EXPORT,
} from './stateful-stack';

/** Requests per second the API accepts before throttling (burst allows short spikes). */
export const API_RATE_LIMIT_PER_SECOND = 100;
export const API_BURST_LIMIT = 200;
/** Deliveries of one sync message before it moves to the dead-letter queue. */
export const SYNC_RECEIVES_MAX = 5;

export interface StatelessStackProps extends StackProps {
  readonly table: ITable;
  readonly userPool: UserPool;
  readonly apiClient: UserPoolClient;
  readonly credentialsSecret: ISecret;
  /** JSON list of seller accounts and products (context `awsAccounts`). */
  readonly awsAccountsJson?: string;
  readonly assumableRoleArns?: readonly string[];
  readonly snsProductCodes?: readonly string[];
  /** JSON lists for Azure offers and GCP providers (context `azureOffers`, `gcpProviders`). */
  readonly azureOffersJson?: string;
  readonly gcpProvidersJson?: string;
  /** AGORA_ACE_* and other partner settings, validated by infra/build.ts. */
  readonly partnerEnvironment?: Readonly<Record<string, string>>;
  /** Email addresses subscribed to the operators' alerts topic (context `alertEmails`). */
  readonly alertEmails?: readonly string[];
}

/** What each HTTP function needs beyond the table. */
const ROUTE_NEEDS: Record<
  string,
  readonly ('queue' | 'marketplace' | 'credentials' | 'catalog' | 'statements')[]
> = {
  'list-partner-statements': ['statements'],
  'get-partner-statement': ['statements'],
  'run-statements': ['statements'],
  'verify-partner-statements': ['statements'],
  'create-offer': ['catalog', 'credentials'],
  'list-listings': ['catalog', 'credentials'],
  'get-listing': ['catalog', 'credentials'],
  'update-listing': ['catalog', 'credentials'],
  'create-listing': ['catalog', 'credentials'],
  'submit-offer': ['catalog', 'credentials'],
  'approve-offer': ['catalog', 'credentials'],
  'post-aws-sns': ['queue'],
  'post-aws-register': ['queue', 'marketplace'],
  'redrive-dead-letter': ['queue'],
  'post-azure-webhook': ['queue'],
  'get-azure-landing': ['queue', 'credentials'],
  'activate-azure-subscription': ['queue', 'credentials'],
  'post-gcp-push': ['queue'],
  'post-gcp-signup': ['queue', 'credentials'],
  'approve-contract': ['queue', 'credentials'],
  'reject-contract': ['queue', 'credentials'],
};

/** Why each public route has no JWT authorizer (cdk-nag APIG4). */
const PUBLIC_ROUTE_REASONS: Record<string, string> = {
  'get-health': '/health is public by design so load balancers and uptime checks need no token.',
  'get-openapi': '/openapi.json is public by design: the API description holds no data.',
  'post-aws-sns':
    'SNS cannot present a JWT; each message is authenticated by its SNS signature and allowed certificate host.',
  'post-aws-register':
    "The buyer's browser posts here from AWS Marketplace; the registration token is verified with ResolveCustomer.",
  'post-azure-webhook':
    'Microsoft calls with an Entra ID token whose audience is the offer app; the function verifies it (tenant, audience, marketplace app).',
  'get-azure-landing':
    "The buyer's browser arrives from Azure Marketplace; the landing token is verified with the fulfillment API's Resolve.",
  'post-gcp-push':
    'Pub/Sub push carries a Google OIDC token for the push audience; the function verifies issuer, audience and service account.',
  'post-gcp-signup':
    "The buyer's browser posts here from Google Cloud Marketplace; the sign-up JWT is verified by the function.",
};

export class StatelessStack extends Stack {
  readonly api: HttpApi;
  readonly syncQueue: Queue;
  readonly syncDeadLetterQueue: Queue;
  readonly functions: Record<string, ServiceFunction> = {};
  readonly pipeline: ContractPipeline;
  readonly reconciliation: ReportReconciliation;
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const issuer = `https://cognito-idp.${this.region}.amazonaws.com/${props.userPool.userPoolId}`;

    this.syncDeadLetterQueue = new Queue(this, 'SyncDeadLetterQueue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.syncDeadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue; it keeps poison messages with their raw reference.',
    );
    // Grouped by (marketplace, buyer account) so one buyer's events apply in order.
    this.syncQueue = new Queue(this, 'SyncQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(180),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.syncDeadLetterQueue, maxReceiveCount: SYNC_RECEIVES_MAX },
    });

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
    });
    this.api = new HttpApi(this, 'HttpApi', {
      description: 'Agora API',
      createDefaultStage: false,
      corsPreflight: {
        allowMethods: [CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
        allowOrigins: ['*'],
        maxAge: Duration.hours(1),
      },
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: API_RATE_LIMIT_PER_SECOND, burstLimit: API_BURST_LIMIT },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const authorizer = new HttpJwtAuthorizer('CognitoJwt', issuer, {
      jwtAudience: [props.apiClient.userPoolClientId],
    });

    const environment = {
      AGORA_JWT_ISSUER: issuer,
      AGORA_JWT_AUDIENCE: props.apiClient.userPoolClientId,
      AGORA_JWKS_URL: `${issuer}/.well-known/jwks.json`,
      AGORA_AZURE_OFFERS: props.azureOffersJson ?? '[]',
      AGORA_GCP_PROVIDERS: props.gcpProvidersJson ?? '[]',
      AGORA_CREDENTIALS_SECRET_ID: props.credentialsSecret.secretArn,
      ...props.partnerEnvironment,
    };
    // The statements bucket, imported by its named exports (infra/stateful-stack.ts).
    const statementBucket = Bucket.fromBucketAttributes(this, 'StatementBucket', {
      bucketArn: Fn.importValue(STATEMENT_BUCKET_ARN_EXPORT),
      bucketName: Fn.importValue(STATEMENT_BUCKET_NAME_EXPORT),
    });
    this.pipeline = new ContractPipeline(this, 'ContractPipeline', {
      table: props.table,
      syncQueue: this.syncQueue,
      awsAccountsJson: props.awsAccountsJson ?? '[]',
      assumableRoleArns: props.assumableRoleArns ?? [],
      snsProductCodes: props.snsProductCodes ?? [],
      credentialsSecret: props.credentialsSecret,
      statementBucket: statementBucket,
      gcpPullEnabled: (props.gcpProvidersJson ?? '').includes('pullSubscription'),
      environment,
      alertEmails: props.alertEmails ?? [],
    });
    // One function per area of the API (lib/http/route-groups.ts), its routes all pointing at it.
    for (const group of ROUTE_GROUPS) {
      const routes = routesOfGroup(group);
      const needs = new Set(routes.flatMap((route) => ROUTE_NEEDS[route.name] ?? []));
      const writes = routes.some((route) => route.method !== 'GET');
      const statements = needs.has('statements');
      const fn = new ServiceFunction(this, `Api-${group}`, {
        entry: `functions/api/${group}.ts`,
        ...(statements ? { statementFonts: true, memorySize: STATEMENT_MEMORY_MB } : {}),
        description: `Agora API, ${group}: ${routes.map((r) => r.name).join(', ')}`.slice(0, 256),
        environment: {
          ...environment,
          AGORA_AWS_ACCOUNTS: props.awsAccountsJson ?? '[]',
          ...(needs.has('queue') ? { AGORA_SYNC_QUEUE_URL: this.syncQueue.queueUrl } : {}),
        },
      }).bindTable(props.table, writes ? 'read-write' : 'read');
      if (needs.has('queue')) this.syncQueue.grantSendMessages(fn);
      if (statements) {
        fn.bindBucket(
          statementBucket,
          'AGORA_STATEMENTS_BUCKET',
          'read-write',
          'statements/',
          STATEMENT_BUCKET_ARN_EXPORT,
        );
        this.pipeline.grantSendEmail(fn);
      }
      if (needs.has('credentials')) props.credentialsSecret.grantRead(fn);
      if (needs.has('catalog')) this.pipeline.grantCatalogOffers(fn, props.assumableRoleArns ?? []);
      if (needs.has('marketplace'))
        this.pipeline.grantMarketplaceReads(fn, props.assumableRoleArns ?? []);
      this.functions[group] = fn;
      const integration = new HttpLambdaIntegration(`Integration-${group}`, fn);
      for (const route of routes) {
        const publicRoute = route.access === 'public';
        const added = this.api.addRoutes({
          path: route.path,
          methods: [HttpMethod[route.method]],
          integration,
          authorizer: publicRoute ? new HttpNoneAuthorizer() : authorizer,
        });
        if (publicRoute) {
          for (const r of added) {
            acknowledge(
              r,
              'AwsSolutions-APIG4',
              PUBLIC_ROUTE_REASONS[route.name] ?? `${route.path} is public by design.`,
            );
          }
        }
      }
    }

    // Marketplace reports uploaded under reports/ are reconciled as they arrive (issue 14).
    const reportBucket = Bucket.fromBucketAttributes(this, 'ReportBucket', {
      bucketArn: Fn.importValue(REPORT_BUCKET_ARN_EXPORT),
      bucketName: Fn.importValue(REPORT_BUCKET_NAME_EXPORT),
    });
    this.reconciliation = new ReportReconciliation(this, 'Reconciliation', {
      table: props.table,
      reportBucket,
      reportBucketArnLabel: REPORT_BUCKET_ARN_EXPORT,
      environment: { ...environment, AGORA_AWS_ACCOUNTS: props.awsAccountsJson ?? '[]' },
    });

    this.operations = new Operations(this, 'Operations', {
      topic: this.pipeline.alerts,
      api: this.api,
      syncQueue: this.syncQueue,
      apiFunctions: Object.values(this.functions),
      backgroundFunctions: [...this.pipeline.functions, this.reconciliation.function],
      otherAlarms: this.pipeline.alarms,
      deadLetterQueues: [
        { queue: this.syncDeadLetterQueue, what: 'The sync dead-letter queue' },
        ...this.pipeline.deadLetterQueues.map((queue) => ({
          queue,
          what: `The AWS Marketplace inlet dead-letter queue ${queue.node.id}`,
        })),
        {
          queue: this.reconciliation.deadLetterQueue,
          what: 'The report reconciliation dead-letter queue',
        },
      ],
    });

    // What docs/operations.md refers to, printed by `cdk deploy` (and in the stack's outputs).
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(
      'ApiUrl',
      this.api.apiEndpoint,
      'The HTTP API (marketplace webhook and landing URLs start here)',
    );
    output(
      'AlertsTopicArn',
      this.pipeline.alerts.topicArn,
      'Operators’ alerts: subscribe email or a pager',
    );
    output('DashboardName', this.operations.dashboard.dashboardName, 'The CloudWatch dashboard');
    output(
      'SyncDeadLetterQueueUrl',
      this.syncDeadLetterQueue.queueUrl,
      'Sync messages that failed 5 receives',
    );
    output(
      'ReconciliationDeadLetterQueueUrl',
      this.reconciliation.deadLetterQueue.queueUrl,
      'Report events not delivered, or reconciliations that failed after their retries',
    );
    for (const queue of this.pipeline.deadLetterQueues) {
      output(`${queue.node.id}Url`, queue.queueUrl, `Dead-letter queue ${queue.node.id}`);
    }
    for (const fn of [...this.pipeline.functions, this.reconciliation.function]) {
      output(`${fn.node.id}FunctionName`, fn.functionName, fn.node.id);
    }
  }
}
