/**
 * Google Cloud Marketplace usage reporting through the Service Control API v1 (reference §3.3)
 * behind the metering port.
 *
 * - Every report is first checked: `POST {baseUrl}/v1/services/{serviceName}:check` with
 *   `{ operation }`. A non-empty `checkErrors` means Google will not take usage for that consumer
 *   (cancelled, suspended, unknown): the report is rejected and never reported. Check errors
 *   that only say a Google backend was unavailable (`*_UNAVAILABLE`) leave it unprocessed.
 * - Then one `POST {baseUrl}/v1/services/{serviceName}:report` per service with
 *   `{ operations: [...] }`; each operation with an entry in `reportErrors` is rejected, or
 *   unprocessed when its status code is a transient one; every other operation is accepted.
 * - `operationId` is a UUID (version 5) derived from the report id, so a resend of the same report
 *   is the same operation and Google counts it once.
 * - An operation is one hour: `startTime` = the hour start, `endTime` = an hour later;
 *   `consumerId` = the entitlement's `usageReportingId` verbatim (the reference's errata: not a
 *   `project:` prefix added by us); one metric value set `<serviceName>/<dimension>` with
 *   `int64Value` as a string. A quantity that is not a non-negative int64 is rejected, never
 *   rounded.
 * - Throttling, 5xx and timeouts are retried (lib/outbound/http-json.ts), then
 *   MarketplaceUnavailableError: thrown when a check fails so (nothing has been reported yet), or
 *   when every report call failed; 401/403 likewise (the service account lacks the role).
 *
 * unverified: the check/report response shapes and error codes come from the Service Control v1
 * reference as remembered (`CheckError.code` names, `reportErrors[].status` as google.rpc.Status)
 * and the reference fixtures; Google's lateness limit is not documented.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MarketplaceUnavailableError } from '../../app/errors';
import type { MeteringGateway, MeteringOutcome, MeteringReport } from '../../app/metering-ports';
import { type JsonResponse, type RequestOptions, requestJson } from '../../outbound/http-json';
import type { GcpTokenProvider } from './procurement-client';

export const GCP_SERVICE_CONTROL_BASE_URL = 'https://servicecontrol.googleapis.com';
/** unverified: Google documents no per-call operation cap under 1 MB; 25 like the others. */
export const GCP_METERING_BATCH_MAX = 25;
/** Checks in flight at once. */
export const GCP_CHECK_CONCURRENCY = 4;
export const GCP_OPERATION_NAME = 'Hourly Usage Report';
/** Namespace of the version-5 UUIDs derived from report ids (fixed forever: ids must not move). */
export const GCP_OPERATION_ID_NAMESPACE = '4f0b7a52-5c1e-4d6b-9a2f-3e8d1c7b6a59';
const INT64_MAX = 9_223_372_036_854_775_807n;
const HOUR_MS = 3_600_000;

/** unverified: CheckError codes that report a Google backend outage rather than the consumer. */
export const GCP_TRANSIENT_CHECK_ERRORS: readonly string[] = [
  'NAMESPACE_LOOKUP_UNAVAILABLE',
  'SERVICE_STATUS_UNAVAILABLE',
  'BILLING_STATUS_UNAVAILABLE',
  'CLOUD_RESOURCE_MANAGER_BACKEND_UNAVAILABLE',
];
/** google.rpc.Code values worth another try: CANCELLED, UNKNOWN, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
export const GCP_TRANSIENT_STATUS_CODES: readonly number[] = [1, 2, 4, 8, 10, 13, 14];
/** unverified: google.rpc.Code ALREADY_EXISTS for an operation id already reported. */
export const GCP_ALREADY_EXISTS = 6;

export interface GcpMeteringGatewayOptions {
  /** https://servicecontrol.googleapis.com, or the local GCP simulator's URL. */
  readonly baseUrl: string;
  /** A bearer token of the service account allowed to report to the service. */
  readonly token: GcpTokenProvider;
  readonly http?: Pick<RequestOptions, 'timeoutMs' | 'attemptsMax' | 'random' | 'sleep'>;
}

export interface ServiceControlOperation {
  readonly operationId: string;
  readonly operationName: string;
  readonly consumerId: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly metricValueSets: ReadonlyArray<{
    readonly metricName: string;
    readonly metricValues: ReadonlyArray<{ readonly int64Value: string }>;
  }>;
}

interface PreparedOperation {
  readonly report: MeteringReport;
  readonly serviceName: string;
  readonly operation: ServiceControlOperation;
}

// unverified: lenient shapes of the v1 CheckResponse / ReportResponse.
const CheckResponseSchema = z.looseObject({
  checkErrors: z
    .array(
      z.looseObject({
        code: z.string().nullish(),
        subject: z.string().nullish(),
        detail: z.string().nullish(),
      }),
    )
    .nullish(),
});
const ReportResponseSchema = z.looseObject({
  reportErrors: z
    .array(
      z.looseObject({
        operationId: z.string().nullish(),
        status: z
          .looseObject({ code: z.number().nullish(), message: z.string().nullish() })
          .nullish(),
      }),
    )
    .nullish(),
});

/** A version-5 (SHA-1, RFC 4122) UUID of `name` in `namespace`: the same name, the same id. */
export function uuidV5(name: string, namespace: string = GCP_OPERATION_ID_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The Service Control operation id of a report. */
export function operationIdFor(reportId: string): string {
  return uuidV5(reportId);
}

/** The quantity as an int64 string, or why it is not one. */
export function gcpQuantity(quantity: string): { value: string } | { problem: string } {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(quantity);
  if (!match) return { problem: `quantity ${quantity} is not a non-negative decimal` };
  const [, whole = '', fraction = ''] = match;
  if (/[1-9]/.test(fraction)) {
    return { problem: `quantity ${quantity} is not an integer (the metric is int64)` };
  }
  const value = BigInt(whole);
  if (value > INT64_MAX) return { problem: `quantity ${quantity} exceeds int64` };
  return { value: value.toString() };
}

/** The metric name: `<serviceName>/<dimension>` unless the dimension is already a full name. */
export function metricNameFor(serviceName: string, dimension: string): string {
  return dimension.includes('/') ? dimension : `${serviceName}/${dimension}`;
}

function prepare(report: MeteringReport): { rejected: string } | PreparedOperation {
  const customer = report.customer;
  if (customer.marketplace !== 'gcp') {
    return { rejected: `a ${customer.marketplace} customer cannot be metered on Google Cloud` };
  }
  const startMs = Date.parse(report.hourStart);
  if (!Number.isFinite(startMs) || startMs % HOUR_MS !== 0) {
    return { rejected: `hourStart ${report.hourStart} is not the start of a UTC hour` };
  }
  const quantity = gcpQuantity(report.quantity);
  if ('problem' in quantity) return { rejected: quantity.problem };
  const { serviceName, usageReportingId } = customer;
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(serviceName)) {
    return { rejected: `service name ${serviceName} is not a service name` };
  }
  if (!usageReportingId) return { rejected: 'the entitlement has no usageReportingId' };
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  return {
    report,
    serviceName,
    operation: {
      operationId: operationIdFor(report.reportId),
      operationName: GCP_OPERATION_NAME,
      consumerId: usageReportingId,
      startTime: iso(startMs),
      endTime: iso(startMs + HOUR_MS),
      metricValueSets: [
        {
          metricName: metricNameFor(serviceName, report.dimension),
          metricValues: [{ int64Value: quantity.value }],
        },
      ],
    },
  };
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function bodyText(response: JsonResponse): string {
  return JSON.stringify(response.body).slice(0, 300);
}

export class GcpMeteringGateway implements MeteringGateway {
  readonly marketplace = 'gcp' as const;
  readonly batchSize = GCP_METERING_BATCH_MAX;

  constructor(private readonly options: GcpMeteringGatewayOptions) {}

  private async call(serviceName: string, verb: 'check' | 'report', body: unknown) {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const operation = verb === 'check' ? 'ServiceControlCheck' : 'ServiceControlReport';
    const response = await requestJson(
      `${base}/v1/services/${encodeURIComponent(serviceName)}:${verb}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.options.token()}` },
        body,
      },
      { operation, ...this.options.http },
    );
    if (response.status === 401 || response.status === 403) {
      throw new MarketplaceUnavailableError(
        `${operation} refused the credentials (HTTP ${response.status}): the service account needs the Service Controller role on ${serviceName}`,
      );
    }
    return response;
  }

  async report(batch: readonly MeteringReport[]): Promise<MeteringOutcome[]> {
    const outcomes: MeteringOutcome[] = [];
    const prepared: PreparedOperation[] = [];
    const seenReports = new Set<string>();
    for (const report of batch) {
      if (seenReports.has(report.reportId)) continue;
      seenReports.add(report.reportId);
      const operation = prepare(report);
      if ('rejected' in operation) {
        outcomes.push({ kind: 'rejected', reportId: report.reportId, reason: operation.rejected });
      } else {
        prepared.push(operation);
      }
    }
    // Checks first, all of them: a failure here throws before anything is reported.
    const checked = await mapLimit(prepared, GCP_CHECK_CONCURRENCY, (p) => this.check(p));
    const toReport = new Map<string, PreparedOperation[]>();
    prepared.forEach((p, index) => {
      const refusal = checked[index];
      if (refusal) {
        outcomes.push(refusal);
        return;
      }
      const group = toReport.get(p.serviceName) ?? [];
      group.push(p);
      toReport.set(p.serviceName, group);
    });
    let answered = false;
    let unavailable: MarketplaceUnavailableError | null = null;
    for (const [serviceName, group] of toReport) {
      for (let start = 0; start < group.length; start += GCP_METERING_BATCH_MAX) {
        const chunk = group.slice(start, start + GCP_METERING_BATCH_MAX);
        try {
          outcomes.push(...(await this.sendReport(serviceName, chunk)));
          answered = true;
        } catch (error) {
          if (!(error instanceof MarketplaceUnavailableError)) throw error;
          unavailable = unavailable ?? error;
          for (const p of chunk) {
            outcomes.push({
              kind: 'unprocessed',
              reportId: p.report.reportId,
              reason: error.message,
            });
          }
        }
      }
    }
    if (unavailable !== null && !answered) throw unavailable;
    return outcomes;
  }

  /** null when the consumer may be reported for; else the report's final (or retry) outcome. */
  private async check(p: PreparedOperation): Promise<MeteringOutcome | null> {
    const reportId = p.report.reportId;
    const response = await this.call(p.serviceName, 'check', { operation: p.operation });
    if (response.status === 400 || response.status === 404) {
      return {
        kind: 'rejected',
        reportId,
        reason: `ServiceControlCheck refused the operation (HTTP ${response.status}): ${bodyText(response)}`,
      };
    }
    if (response.status !== 200) {
      throw new MarketplaceUnavailableError(`ServiceControlCheck answered HTTP ${response.status}`);
    }
    const parsed = CheckResponseSchema.safeParse(response.body);
    if (!parsed.success) {
      throw new MarketplaceUnavailableError('ServiceControlCheck answered an unreadable body');
    }
    const errors = parsed.data.checkErrors ?? [];
    if (errors.length === 0) return null;
    const reason = `checkErrors: ${errors
      .map((e) => `${e.code ?? 'UNKNOWN'}${e.detail ? ` (${e.detail})` : ''}`)
      .join(', ')}`;
    const transient = errors.every((e) => GCP_TRANSIENT_CHECK_ERRORS.includes(e.code ?? ''));
    return transient
      ? { kind: 'unprocessed', reportId, reason }
      : { kind: 'rejected', reportId, reason };
  }

  private async sendReport(
    serviceName: string,
    chunk: readonly PreparedOperation[],
  ): Promise<MeteringOutcome[]> {
    const response = await this.call(serviceName, 'report', {
      operations: chunk.map((p) => p.operation),
    });
    if (response.status === 400 || response.status === 404) {
      const reason = `ServiceControlReport refused the request (HTTP ${response.status}): ${bodyText(response)}`;
      if (chunk.length === 1 || response.status === 404) {
        return chunk.map((p) => ({ kind: 'rejected', reportId: p.report.reportId, reason }));
      }
      // One bad operation must not take the others with it: each is reported alone.
      const outcomes: MeteringOutcome[] = [];
      for (const p of chunk) {
        try {
          outcomes.push(...(await this.sendReport(serviceName, [p])));
        } catch (error) {
          if (!(error instanceof MarketplaceUnavailableError)) throw error;
          outcomes.push({
            kind: 'unprocessed',
            reportId: p.report.reportId,
            reason: error.message,
          });
        }
      }
      return outcomes;
    }
    if (response.status !== 200) {
      throw new MarketplaceUnavailableError(
        `ServiceControlReport answered HTTP ${response.status}`,
      );
    }
    const parsed = ReportResponseSchema.safeParse(response.body);
    if (!parsed.success) {
      throw new MarketplaceUnavailableError('ServiceControlReport answered an unreadable body');
    }
    const errors = new Map<string, { code: number | null; message: string }>();
    for (const e of parsed.data.reportErrors ?? []) {
      if (e.operationId && !errors.has(e.operationId)) {
        errors.set(e.operationId, {
          code: e.status?.code ?? null,
          message: e.status?.message ?? '',
        });
      }
    }
    return chunk.map((p): MeteringOutcome => {
      const reportId = p.report.reportId;
      const error = errors.get(p.operation.operationId);
      if (!error) return { kind: 'accepted', reportId, marketplaceRef: p.operation.operationId };
      if (error.code === GCP_ALREADY_EXISTS) {
        return { kind: 'duplicate', reportId, marketplaceRef: p.operation.operationId };
      }
      const reason = `reportErrors: code ${error.code ?? 'unknown'}${error.message ? ` (${error.message})` : ''}`;
      return error.code !== null && GCP_TRANSIENT_STATUS_CODES.includes(error.code)
        ? { kind: 'unprocessed', reportId, reason }
        : { kind: 'rejected', reportId, reason };
    });
  }
}
