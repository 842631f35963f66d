/**
 * What must never be replaced by accident: the table, the report and statement buckets, and the
 * user pool. Deletion protection and RETAIN everywhere; redeploying the stateless stack never
 * touches these.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import {
  AttributeType,
  BillingMode,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ROLES } from '../lib/http/auth';
import { TABLE_DEFINITION } from '../lib/store/table-definition';
import { acknowledge } from './constructs/service-function';

/** CloudFormation exports of the statements bucket the stateless stack imports. */
export const STATEMENT_BUCKET_ARN_EXPORT = 'Agora-StatementBucketArn';
export const STATEMENT_BUCKET_NAME_EXPORT = 'Agora-StatementBucketName';
/** CloudFormation exports of the report bucket (marketplace reports to reconcile). */
export const REPORT_BUCKET_ARN_EXPORT = 'Agora-ReportBucketArn';
export const REPORT_BUCKET_NAME_EXPORT = 'Agora-ReportBucketName';

export class StatefulStack extends Stack {
  readonly table: Table;
  readonly reportBucket: Bucket;
  readonly statementBucket: Bucket;
  readonly userPool: UserPool;
  readonly apiClient: UserPoolClient;
  /** Marketplace credentials: a JSON object of name → value (see README, Deploy). */
  readonly credentialsSecret: Secret;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_DEFINITION.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_DEFINITION.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: StreamViewType[TABLE_DEFINITION.streamViewType],
      timeToLiveAttribute: TABLE_DEFINITION.timeToLiveAttribute,
      deletionProtection: true,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of TABLE_DEFINITION.secondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      });
    }

    const accessLogs = new Bucket(this, 'AccessLogBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(400) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      accessLogs,
      'AwsSolutions-S1',
      'This is the server access log bucket; logging it into itself would loop.',
    );
    const privateBucket = (name: string, prefix: string) =>
      new Bucket(this, name, {
        encryption: BucketEncryption.S3_MANAGED,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: prefix,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.reportBucket = privateBucket('ReportBucket', 'reports/');
    this.statementBucket = privateBucket('StatementBucket', 'statements/');
    // Uploaded reports reach the stateless stack's reconciliation rule through EventBridge. Set on
    // the CloudFormation resource itself: `eventBridgeEnabled` would add a custom-resource Lambda.
    (this.reportBucket.node.defaultChild as CfnBucket).addPropertyOverride(
      'NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled',
      true,
    );
    new CfnOutput(this, 'ReportBucketArn', {
      value: this.reportBucket.bucketArn,
      exportName: REPORT_BUCKET_ARN_EXPORT,
    });
    new CfnOutput(this, 'ReportBucketName', {
      value: this.reportBucket.bucketName,
      exportName: REPORT_BUCKET_NAME_EXPORT,
    });
    // Named exports, so the functions' grants (and their reviewed cdk-nag findings) name them.
    new CfnOutput(this, 'StatementBucketArn', {
      value: this.statementBucket.bucketArn,
      exportName: STATEMENT_BUCKET_ARN_EXPORT,
    });
    new CfnOutput(this, 'StatementBucketName', {
      value: this.statementBucket.bucketName,
      exportName: STATEMENT_BUCKET_NAME_EXPORT,
    });

    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      customAttributes: { partner_id: new StringAttribute({ mutable: false, maxLen: 128 }) },
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    for (const role of ROLES) {
      new CfnUserPoolGroup(this, `Group-${role}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: role,
        description: `Agora role ${role}`,
      });
    }
    // Created empty; the seller puts the Azure app secrets and the Google key in it.
    this.credentialsSecret = new Secret(this, 'MarketplaceCredentials', {
      description:
        'Agora marketplace credentials: JSON object, e.g. {"AGORA_AZURE_SECRET_MY_OFFER":"…","AGORA_GCP_CREDENTIALS_JSON":"{…}"}',
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'unused' },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.credentialsSecret,
      'AwsSolutions-SMG4',
      'These are credentials issued by Microsoft Entra and Google; they rotate there, and the functions re-read the secret every 5 minutes.',
    );
    this.apiClient = this.userPool.addClient('ApiClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      preventUserExistenceErrors: true,
    });
  }
}
