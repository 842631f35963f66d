/**
 * AWS Marketplace Metering Service `BatchMeterUsage` (reference §1.2) behind the metering port.
 *
 * - One SDK client per seller account, chosen by the report's product code through the
 *   configured products (`productByCode`; an unknown product uses the default credentials), with
 *   the same timeouts, standard-mode bounded retries, endpoint override and assumed role as
 *   lib/marketplaces/aws/gateway.ts.
 * - One call holds the records of one product in one customer form, at most 25:
 *   - `license` (concurrent agreements, required for products created from 2026-06-01):
 *     `CustomerAWSAccountId` + `LicenseArn` per record and no `ProductCode` on the request (AWS:
 *     sending both forms for one customer and hour bills twice);
 *   - `customer` (legacy): `CustomerIdentifier` per record and `ProductCode` on the request.
 *   A configured product's `identity` picks the form; an unconfigured one uses the license form
 *   when the report carries an account and a license, else the customer identifier.
 * - `Timestamp` is always the report's hour start: AWS dedupes on customer + dimension +
 *   Timestamp, so a resend of the same report is the same record (same quantity: `Success` with
 *   the first MeteringRecordId; another quantity: `DuplicateRecord`).
 * - `Quantity` is a non-negative 32-bit integer; anything else is a `rejected` outcome and is
 *   never rounded or sent.
 * - Results: `Success` → accepted (MeteringRecordId), `DuplicateRecord` → duplicate,
 *   `CustomerNotSubscribed` → rejected, `UnprocessedRecords` → unprocessed. A validation error of
 *   the whole call (InvalidCustomerIdentifier, InvalidProductCode, TimestampOutOfBounds, …)
 *   rejects the call; when it held several records each is re-sent alone so one bad record does
 *   not take the others with it. Throttling, 5xx, timeouts and credential failures (after the
 *   SDK's retries) leave the call's reports unprocessed; when every call of the batch failed so,
 *   `report` throws MarketplaceUnavailableError.
 */
import {
  BatchMeterUsageCommand,
  type BatchMeterUsageCommandOutput,
  MarketplaceMeteringClient,
  type UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { MarketplaceUnavailableError } from '../../app/errors';
import type {
  MeteringCustomer,
  MeteringGateway,
  MeteringOutcome,
  MeteringReport,
} from '../../app/metering-ports';
import { type AwsAccountConfig, type AwsMarketplaceSettings, productByCode } from './config';
import { awsClientConfig } from './gateway';

/** BatchMeterUsage accepts up to 25 UsageRecords per call. */
export const AWS_METERING_BATCH_MAX = 25;
/** UsageRecord.Quantity is a 32-bit integer (unverified: AWS documents no other bound). */
export const AWS_METERING_QUANTITY_MAX = 2_147_483_647;
const HOUR_MS = 3_600_000;

/**
 * Errors of the whole call that mean AWS refuses the request as sent: retrying cannot help.
 * unverified: the exception list beyond the installed SDK's `@throws` (ValidationException is
 * AWS's generic one, answered by the local simulator for a malformed record).
 */
export const AWS_METERING_REJECTING_ERRORS: readonly string[] = [
  'InvalidCustomerIdentifierException',
  'InvalidLicenseException',
  'InvalidProductCodeException',
  'InvalidTagException',
  'InvalidUsageAllocationsException',
  'InvalidUsageDimensionException',
  'TimestampOutOfBoundsException',
  'ValidationException',
];

/** The part of the SDK client the gateway uses (a real MarketplaceMeteringClient by default). */
export interface AwsMeteringClient {
  send(command: BatchMeterUsageCommand): Promise<BatchMeterUsageCommandOutput>;
}

type AwsCustomer = Extract<MeteringCustomer, { marketplace: 'aws' }>;
type RecordForm = 'license' | 'customer';

interface PreparedRecord {
  readonly report: MeteringReport;
  readonly record: UsageRecord;
  readonly key: string;
}

interface CallGroup {
  readonly account: AwsAccountConfig | null;
  readonly productCode: string;
  readonly form: RecordForm;
  readonly records: PreparedRecord[];
}

/** SDK client settings for one seller account (as lib/marketplaces/aws/gateway.ts builds them). */
export function awsMeteringClientConfig(
  settings: AwsMarketplaceSettings,
  account: AwsAccountConfig | null,
) {
  return awsClientConfig(settings, account, 'agora-metering');
}

/** The exact non-negative integer in `quantity`, or why it is not one AWS takes. */
export function awsQuantity(quantity: string): { value: number } | { problem: string } {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(quantity);
  if (!match) return { problem: `quantity ${quantity} is not a non-negative decimal` };
  const [, whole = '', fraction = ''] = match;
  if (/[1-9]/.test(fraction)) {
    return { problem: `quantity ${quantity} is not an integer (AWS meters whole units)` };
  }
  const value = BigInt(whole);
  if (value > BigInt(AWS_METERING_QUANTITY_MAX)) {
    return { problem: `quantity ${quantity} exceeds ${AWS_METERING_QUANTITY_MAX}` };
  }
  return { value: Number(value) };
}

/** The hour start as epoch milliseconds, or null if it is not an exact UTC hour. */
export function hourStartMs(hourStart: string): number | null {
  const ms = Date.parse(hourStart);
  return Number.isFinite(ms) && ms % HOUR_MS === 0 ? ms : null;
}

/** The record's identity in AWS's duplicate rule: customer + dimension + Timestamp. */
function recordKey(record: UsageRecord): string {
  return JSON.stringify([
    record.CustomerIdentifier ?? null,
    record.CustomerAWSAccountId ?? null,
    record.LicenseArn ?? null,
    record.Dimension ?? null,
    record.Timestamp instanceof Date ? record.Timestamp.getTime() : null,
  ]);
}

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? 'Error';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class AwsMeteringGateway implements MeteringGateway {
  readonly marketplace = 'aws' as const;
  readonly batchSize = AWS_METERING_BATCH_MAX;
  private readonly clients = new Map<string, AwsMeteringClient>();

  constructor(
    private readonly settings: AwsMarketplaceSettings,
    private readonly createClient: (
      settings: AwsMarketplaceSettings,
      account: AwsAccountConfig | null,
    ) => AwsMeteringClient = (s, a) => new MarketplaceMeteringClient(awsMeteringClientConfig(s, a)),
  ) {}

  private clientFor(account: AwsAccountConfig | null): AwsMeteringClient {
    const key = account?.sellerAccountId ?? 'default';
    let client = this.clients.get(key);
    if (!client) {
      client = this.createClient(this.settings, account);
      this.clients.set(key, client);
    }
    return client;
  }

  async report(batch: readonly MeteringReport[]): Promise<MeteringOutcome[]> {
    const outcomes: MeteringOutcome[] = [];
    const groups = new Map<string, CallGroup>();
    const seenReports = new Set<string>();
    for (const report of batch) {
      // The same report twice in one batch is reported (and answered) once.
      if (seenReports.has(report.reportId)) continue;
      seenReports.add(report.reportId);
      const prepared = this.prepare(report);
      if ('rejected' in prepared) {
        outcomes.push({ kind: 'rejected', reportId: report.reportId, reason: prepared.rejected });
        continue;
      }
      const groupKey = JSON.stringify([
        prepared.account?.sellerAccountId ?? null,
        prepared.productCode,
        prepared.form,
      ]);
      let group = groups.get(groupKey);
      if (!group) {
        group = {
          account: prepared.account,
          productCode: prepared.productCode,
          form: prepared.form,
          records: [],
        };
        groups.set(groupKey, group);
      }
      // Two reports AWS would take as the same record: only the first is sent.
      if (group.records.some((r) => r.key === prepared.record.key)) {
        outcomes.push({
          kind: 'rejected',
          reportId: report.reportId,
          reason: 'another report of this batch has the same customer, dimension and hour',
        });
        continue;
      }
      group.records.push(prepared.record);
    }
    // A chunk answered by AWS (results or a refusal of the call) counts; when none was and one
    // failed, nothing reached AWS and the whole batch stays pending.
    let answered = false;
    let unavailable: MarketplaceUnavailableError | null = null;
    for (const group of groups.values()) {
      for (let start = 0; start < group.records.length; start += AWS_METERING_BATCH_MAX) {
        const chunk = group.records.slice(start, start + AWS_METERING_BATCH_MAX);
        const result = await this.sendChunk(group, chunk);
        if (result instanceof MarketplaceUnavailableError) {
          unavailable = unavailable ?? result;
          for (const record of chunk) {
            outcomes.push({
              kind: 'unprocessed',
              reportId: record.report.reportId,
              reason: result.message,
            });
          }
          continue;
        }
        answered = true;
        outcomes.push(...result);
      }
    }
    if (unavailable !== null && !answered) throw unavailable;
    return outcomes;
  }

  private prepare(report: MeteringReport):
    | { rejected: string }
    | {
        account: AwsAccountConfig | null;
        productCode: string;
        form: RecordForm;
        record: PreparedRecord;
      } {
    const customer = report.customer;
    if (customer.marketplace !== 'aws') {
      return { rejected: `a ${customer.marketplace} customer cannot be metered on AWS` };
    }
    const timestamp = hourStartMs(report.hourStart);
    if (timestamp === null) {
      return { rejected: `hourStart ${report.hourStart} is not the start of a UTC hour` };
    }
    const quantity = awsQuantity(report.quantity);
    if ('problem' in quantity) return { rejected: quantity.problem };
    const configured = productByCode(this.settings, customer.productCode);
    const form = this.formOf(customer, configured?.product.identity);
    if ('rejected' in form) return form;
    const record: UsageRecord =
      form.form === 'license'
        ? {
            Timestamp: new Date(timestamp),
            CustomerAWSAccountId: form.accountId,
            LicenseArn: form.licenseArn,
            Dimension: report.dimension,
            Quantity: quantity.value,
          }
        : {
            Timestamp: new Date(timestamp),
            CustomerIdentifier: form.customerIdentifier,
            Dimension: report.dimension,
            Quantity: quantity.value,
          };
    return {
      account: configured?.account ?? null,
      productCode: customer.productCode,
      form: form.form,
      record: { report, record, key: recordKey(record) },
    };
  }

  private formOf(
    customer: AwsCustomer,
    identity: 'license' | 'customer' | undefined,
  ):
    | { rejected: string }
    | { form: 'license'; accountId: string; licenseArn: string }
    | { form: 'customer'; customerIdentifier: string } {
    const license =
      customer.customerAwsAccountId && customer.licenseArn
        ? {
            form: 'license' as const,
            accountId: customer.customerAwsAccountId,
            licenseArn: customer.licenseArn,
          }
        : null;
    const legacy = customer.customerIdentifier
      ? { form: 'customer' as const, customerIdentifier: customer.customerIdentifier }
      : null;
    if (identity === 'license') {
      return (
        license ?? {
          rejected: `product ${customer.productCode} meters by license: the customer's AWS account id and license ARN are required`,
        }
      );
    }
    if (identity === 'customer') {
      return (
        legacy ?? {
          rejected: `product ${customer.productCode} meters by customer identifier, which this customer lacks`,
        }
      );
    }
    return (
      license ??
      legacy ?? {
        rejected:
          'the customer has neither an AWS account id with a license ARN nor a customer identifier',
      }
    );
  }

  private command(group: CallGroup, records: readonly PreparedRecord[]): BatchMeterUsageCommand {
    return new BatchMeterUsageCommand({
      UsageRecords: records.map((r) => r.record),
      // The license form names the product through each LicenseArn; ProductCode must be absent.
      ...(group.form === 'customer' ? { ProductCode: group.productCode } : {}),
    });
  }

  /** One call; a whole-call refusal of several records re-sends each alone. */
  private async sendChunk(
    group: CallGroup,
    records: readonly PreparedRecord[],
  ): Promise<MeteringOutcome[] | MarketplaceUnavailableError> {
    const client = this.clientFor(group.account);
    let output: BatchMeterUsageCommandOutput;
    try {
      output = await client.send(this.command(group, records));
    } catch (error) {
      const name = errorName(error);
      if (!AWS_METERING_REJECTING_ERRORS.includes(name)) {
        const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata
          ?.httpStatusCode;
        return new MarketplaceUnavailableError(
          `BatchMeterUsage failed (${name}${status ? ` ${status}` : ''}); will retry`,
          { cause: error },
        );
      }
      if (records.length === 1) {
        return records.map((only) => ({
          kind: 'rejected' as const,
          reportId: only.report.reportId,
          reason: `${name}: ${errorMessage(error)}`,
        }));
      }
      const outcomes: MeteringOutcome[] = [];
      for (const record of records) {
        const single = await this.sendChunk(group, [record]);
        if (single instanceof MarketplaceUnavailableError) {
          outcomes.push({
            kind: 'unprocessed',
            reportId: record.report.reportId,
            reason: single.message,
          });
        } else {
          outcomes.push(...single);
        }
      }
      return outcomes;
    }
    return mapOutput(records, output);
  }
}

/** Matches AWS's answer to the records sent, by customer + dimension + Timestamp. */
function mapOutput(
  records: readonly PreparedRecord[],
  output: BatchMeterUsageCommandOutput,
): MeteringOutcome[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const outcomes = new Map<string, MeteringOutcome>();
  for (const result of output.Results ?? []) {
    const sent = result.UsageRecord ? byKey.get(recordKey(result.UsageRecord)) : undefined;
    if (!sent || outcomes.has(sent.report.reportId)) continue;
    const reportId = sent.report.reportId;
    switch (result.Status) {
      case 'Success':
        outcomes.set(reportId, {
          kind: 'accepted',
          reportId,
          marketplaceRef: result.MeteringRecordId ?? null,
        });
        break;
      case 'DuplicateRecord':
        outcomes.set(reportId, {
          kind: 'duplicate',
          reportId,
          marketplaceRef: result.MeteringRecordId ?? null,
        });
        break;
      case 'CustomerNotSubscribed':
        outcomes.set(reportId, {
          kind: 'rejected',
          reportId,
          reason:
            'CustomerNotSubscribed: the customer is not subscribed to the product (invalid identifier, no active agreement, or a suspended account)',
        });
        break;
      default:
        // unverified: no other status is documented; a later flush sends the record again.
        outcomes.set(reportId, {
          kind: 'unprocessed',
          reportId,
          reason: `BatchMeterUsage answered status ${String(result.Status)}`,
        });
    }
  }
  for (const record of output.UnprocessedRecords ?? []) {
    const sent = byKey.get(recordKey(record));
    if (!sent || outcomes.has(sent.report.reportId)) continue;
    outcomes.set(sent.report.reportId, {
      kind: 'unprocessed',
      reportId: sent.report.reportId,
      reason: 'AWS returned the record in UnprocessedRecords',
    });
  }
  for (const record of records) {
    if (!outcomes.has(record.report.reportId)) {
      outcomes.set(record.report.reportId, {
        kind: 'unprocessed',
        reportId: record.report.reportId,
        reason: 'BatchMeterUsage answered nothing for the record',
      });
    }
  }
  return [...outcomes.values()];
}
