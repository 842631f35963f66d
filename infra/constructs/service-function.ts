/**
 * Every Agora Lambda: Node 22 on arm64, bundled locally with esbuild (never Docker) as minified
 * ESM with the AWS SDK inside the bundle (perf.md: faster cold starts than the runtime's copy),
 * source maps on, JSON logs to an explicit log group with retention, X-Ray active tracing (the
 * Powertools tracer in lib/runtime/tracing.ts adds the SDK and HTTPS subsegments). Binding a
 * table or a bucket sets the environment variable and the least-privilege grant in one call, so
 * they cannot drift.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct, IConstruct } from 'constructs';
import { TABLE_DEFINITION } from '../../lib/store/table-definition';
import {
  BUNDLE_MAIN_FIELDS,
  BUNDLE_MINIFY,
  BUNDLE_SOURCE_MAP,
  BUNDLE_TARGET,
  ESM_REQUIRE_BANNER,
} from '../bundling';

export const FUNCTION_MEMORY_MB_DEFAULT = 512;
export const FUNCTION_TIMEOUT_SECONDS_DEFAULT = 29;
/** Functions that render statement PDFs: fonts are subset in memory. */
export const STATEMENT_MEMORY_MB = 1024;
/** Where the statement fonts land in the bundle (AGORA_FONTS_DIR). */
export const STATEMENT_FONTS_DIR = '/var/task/fonts';
/** The TTF files copied into a bundle that renders statements (npm package dejavu-fonts-ttf). */
export const STATEMENT_FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'] as const;
/** What active tracing adds to every role: X-Ray has no resource-level permissions for these. */
export const XRAY_WRITE_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
/** Powertools settings every function gets (service name in logs and traces; no responses in traces). */
export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: 'agora',
  POWERTOOLS_METRICS_NAMESPACE: 'Agora',
  // Responses can carry customer data and tokens: traces keep timings and errors only.
  POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
} as const;

export interface ServiceFunctionProps {
  /** Path of the entry file relative to the project root, e.g. functions/http/get-me.ts. */
  readonly entry: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly logRetention?: RetentionDays;
  /** Copies the statement fonts into the bundle and points AGORA_FONTS_DIR at them. */
  readonly statementFonts?: boolean;
}

export type AccessMode = 'read' | 'read-write';

export const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** Records a reviewed cdk-nag finding with its reason (cdk-nag v3 uses CDK's Validations). */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

export class ServiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? FUNCTION_MEMORY_MB_DEFAULT,
      timeout: props.timeout ?? Duration.seconds(FUNCTION_TIMEOUT_SECONDS_DEFAULT),
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      environment: {
        ...POWERTOOLS_ENVIRONMENT,
        AGORA_STAGE: 'aws',
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.statementFonts ? { AGORA_FONTS_DIR: STATEMENT_FONTS_DIR } : {}),
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        minify: BUNDLE_MINIFY,
        sourceMap: BUNDLE_SOURCE_MAP,
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: BUNDLE_MAIN_FIELDS,
        banner: ESM_REQUIRE_BANNER,
        externalModules: [],
        ...(props.statementFonts
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                // Fonts ship with the code (nothing is fetched at run time).
                afterBundling: (inputDir: string, outputDir: string) => [
                  `mkdir -p "${outputDir}/fonts"`,
                  ...STATEMENT_FONT_FILES.map(
                    (file) =>
                      `cp "${inputDir}/node_modules/dejavu-fonts-ttf/ttf/${file}" "${outputDir}/fonts/${file}"`,
                  ),
                ],
              },
            }
          : {}),
      },
    });
    acknowledge(
      this,
      'AwsSolutions-L1',
      'Node.js 22 is the runtime the product targets (nodejs22.x); runtime upgrades are deliberate.',
    );
    acknowledge(
      this,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs.',
    );
    acknowledge(
      this,
      'AwsSolutions-IAM5[Resource::*]',
      'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level permissions; any other action on * is acknowledged where it is granted, with its own reason.',
    );
  }

  /**
   * Sets AGORA_TABLE_NAME and grants exactly the access asked for, on the table and its named
   * indexes only (no `index/*` wildcard).
   */
  bindTable(table: ITable, mode: AccessMode): this {
    this.addEnvironment('AGORA_TABLE_NAME', table.tableName);
    const actions =
      mode === 'read' ? TABLE_READ_ACTIONS : [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS];
    this.addToRolePolicy(
      new PolicyStatement({
        actions,
        resources: [
          table.tableArn,
          ...TABLE_DEFINITION.secondaryIndexes.map(
            (index) => `${table.tableArn}/index/${index.indexName}`,
          ),
        ],
      }),
    );
    return this;
  }

  /**
   * Sets the named variable to the bucket name and grants exactly the object access asked for,
   * under one key prefix (GetObject; PutObject too for read-write): no listing, no deletes.
   */
  bindBucket(
    bucket: IBucket,
    variable: string,
    mode: AccessMode,
    prefix: string,
    /** How cdk-nag names the bucket's ARN (an export name for an imported bucket). */
    resourceLabel: string,
    /** Why the grant is on a prefix rather than on named keys (cdk-nag IAM5). */
    reason = `Objects under ${prefix} only: one key per partner, period and format, not known in advance.`,
  ): this {
    this.addEnvironment(variable, bucket.bucketName);
    const objects = bucket.arnForObjects(`${prefix}*`);
    this.addToRolePolicy(
      new PolicyStatement({
        actions: mode === 'read' ? ['s3:GetObject'] : ['s3:GetObject', 's3:PutObject'],
        resources: [objects],
      }),
    );
    bucket.encryptionKey?.grantEncryptDecrypt(this);
    acknowledge(this, `AwsSolutions-IAM5[Resource::${resourceLabel}/${prefix}*]`, reason);
    return this;
  }
}
