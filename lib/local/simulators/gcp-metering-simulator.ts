/**
 * The usage-reporting half of the Google Cloud Marketplace simulator: the Service Control API v1
 * (reference §3.3) as an integrated SaaS product uses it. Mounted by gcp-simulator.ts on the same
 * server, and driven in process through `GcpSimulator.metering` or over `/_sim/metering*`.
 *
 * - `POST /v1/services/{serviceName}:check` with `{ operation }` answers
 *   `{ operationId, checkErrors?, serviceConfigId, serviceRolloutId }`. The consumer
 *   (`consumerId`) must be the `usageReportingId` of an entitlement of that service (the
 *   entitlement's `product`): unknown → `CONSUMER_INVALID`; an entitlement that is not active
 *   (activation requested, suspended, cancelled) → `SERVICE_NOT_ACTIVATED`. A service no
 *   entitlement names is 404 NOT_FOUND.
 * - `POST /v1/services/{serviceName}:report` with `{ operations: [...] }` (1–1000) answers 200
 *   `{ reportErrors: [{ operationId, status: { code, message } }], … }`; an operation without an
 *   entry is taken. Per operation: a malformed one, a metric outside the service, a negative or
 *   non-integer int64Value, a start in the future, or an end older than the lateness tolerance
 *   (1 h by default) → 3 INVALID_ARGUMENT; an unknown consumer → 3, one not active → 9
 *   FAILED_PRECONDITION; an operationId already taken with the same content is taken again
 *   without counting twice (listed in `duplicates()`), with other content → 6 ALREADY_EXISTS.
 * - A Bearer token is required but not checked (as the Procurement half).
 * - Faults, consumed in the order injected: `throttle` (429 RESOURCE_EXHAUSTED) and
 *   `server-error` (503 UNAVAILABLE) on the next `times` calls of `method` ('*', 'check',
 *   'report'); `check-error` makes the next `times` checks answer `checkErrors: [{ code }]`
 *   (default SERVICE_NOT_ACTIVATED); `operation-error` makes the next `times` reported
 *   operations fail with `code` (default 14 UNAVAILABLE) without being taken: a partial failure.
 *
 * unverified: Google documents the request shapes (reference fixtures) but not the error codes a
 * given refusal produces, the lateness limit, or what a repeated operationId answers; the choices
 * above are the simulator's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readBoundedBody } from './sim-http';

export const SERVICE_CONTROL_PREFIX = '/v1/services/';
export const GCP_METERING_SIM_OPERATIONS_MAX = 1_000;
/** unverified: "Reports older than about 1 hour may be rejected" (reference §3.3, [M]). */
export const GCP_METERING_LATE_TOLERANCE_MS_DEFAULT = 3_600_000;
export const GCP_METERING_SIM_BODY_BYTES_MAX = 1024 * 1024;
/** Operations kept; beyond this an operation fails with 8 RESOURCE_EXHAUSTED (nothing stored). */
export const GCP_METERING_SIM_TAKEN_MAX = 100_000;
export const GCP_METERING_SIM_CALLS_MAX = 10_000;
export const GCP_METERING_SIM_FAULTS_MAX = 100;
export const GCP_METERING_SIM_FAULT_TIMES_MAX = 10_000;
const CALL_INPUT_BYTES_MAX = 64 * 1024;
const TEXT_CHARS_MAX = 4_096;
const INT64_MAX = 9_223_372_036_854_775_807n;
const SERVICE_CONFIG_ID = 'sim-config-1';

/** Entitlement states in which usage may be reported. */
export const REPORTABLE_ENTITLEMENT_STATES: readonly string[] = [
  'ENTITLEMENT_ACTIVE',
  'ENTITLEMENT_PENDING_CANCELLATION',
  'ENTITLEMENT_PENDING_PLAN_CHANGE',
  'ENTITLEMENT_PENDING_PLAN_CHANGE_APPROVAL',
];

export const RPC = {
  INVALID_ARGUMENT: 3,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const;

export const GcpMeteringFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['throttle', 'server-error']),
    method: z.enum(['*', 'check', 'report']).default('*'),
    times: z.number().int().min(1).max(GCP_METERING_SIM_FAULT_TIMES_MAX),
  }),
  z.strictObject({
    kind: z.literal('check-error'),
    code: z
      .string()
      .regex(/^[A-Z_]{1,100}$/)
      .optional(),
    times: z.number().int().min(1).max(GCP_METERING_SIM_FAULT_TIMES_MAX),
  }),
  z.strictObject({
    kind: z.literal('operation-error'),
    code: z.number().int().min(1).max(16).optional(),
    times: z.number().int().min(1).max(GCP_METERING_SIM_FAULT_TIMES_MAX),
  }),
]);
export type GcpMeteringFault = z.input<typeof GcpMeteringFaultSchema>;
type ParsedFault = z.output<typeof GcpMeteringFaultSchema>;

/** An operation the simulator took (counted once per operationId). */
export interface GcpUsageOperation {
  readonly serviceName: string;
  readonly operationId: string;
  readonly operationName: string | null;
  readonly consumerId: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly metricValueSets: ReadonlyArray<{
    readonly metricName: string;
    readonly metricValues: ReadonlyArray<{ readonly int64Value: string }>;
  }>;
  readonly userLabels: Readonly<Record<string, string>> | null;
  /** Simulator clock, ISO. */
  readonly receivedAt: string;
}

export interface GcpMeteringCall {
  readonly method: 'check' | 'report' | 'Unknown';
  readonly serviceName: string;
  readonly path: string;
  readonly input: unknown;
  readonly status: number;
  /** check: the checkErrors codes; report: `operationId:code` of each reportErrors entry. */
  readonly errors: readonly string[];
  readonly at: string;
}

export interface GcpMeteringSimulator {
  /** Operations taken, oldest first. */
  operations(): GcpUsageOperation[];
  /** Resent operations that were taken again without counting (the exactly-once evidence). */
  duplicates(): Array<{ readonly serviceName: string; readonly operationId: string }>;
  calls(): GcpMeteringCall[];
  /** How old an operation's endTime may be when reported (default 1 h). */
  setLateToleranceMs(ms: number): void;
  injectFault(fault: GcpMeteringFault): void;
  clearFaults(): void;
  /** Forgets operations, duplicates, calls and faults (the tolerance stays). */
  reset(): void;
}

export interface GcpMeteringSimulatorHandle extends GcpMeteringSimulator {
  /** True for `/v1/services/…` and `/_sim/metering…`, which `handle` answers. */
  owns(pathname: string): boolean;
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void>;
}

export interface GcpMeteringSimulatorOptions {
  readonly now?: () => Date;
  /** The main simulator's entitlements (service = `product`). */
  readonly consumers?: () => readonly {
    readonly product: string;
    readonly usageReportingId?: string | undefined;
    readonly state: string;
  }[];
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  503: 'UNAVAILABLE',
};

class GoogleError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const Text = z.string().min(1).max(TEXT_CHARS_MAX);
const IsoInstant = z.iso.datetime({ offset: true });
// unverified: Service Control accepts more members (labels, logEntries, importance, …); the
// simulator reads these and ignores the rest.
const OperationSchema = z.looseObject({
  operationId: Text,
  operationName: Text.optional(),
  consumerId: Text,
  startTime: IsoInstant,
  endTime: IsoInstant,
  metricValueSets: z
    .array(
      z.looseObject({
        metricName: Text,
        metricValues: z
          .array(z.looseObject({ int64Value: z.string().regex(/^-?\d{1,19}$/) }))
          .min(1)
          .max(100),
      }),
    )
    .min(1)
    .max(100),
  userLabels: z.record(z.string().max(256), z.string().max(TEXT_CHARS_MAX)).optional(),
});
type Operation = z.infer<typeof OperationSchema>;

interface StoredFault {
  readonly fault: ParsedFault;
  remaining: number;
}

function sameContent(a: GcpUsageOperation, b: Operation): boolean {
  return (
    a.consumerId === b.consumerId &&
    Date.parse(a.startTime) === Date.parse(b.startTime) &&
    Date.parse(a.endTime) === Date.parse(b.endTime) &&
    JSON.stringify(
      a.metricValueSets.map((s) => [s.metricName, s.metricValues.map((v) => v.int64Value)]),
    ) ===
      JSON.stringify(
        b.metricValueSets.map((s) => [s.metricName, s.metricValues.map((v) => v.int64Value)]),
      )
  );
}

class GcpMeteringModel {
  private readonly taken: GcpUsageOperation[] = [];
  private readonly byId = new Map<string, GcpUsageOperation>();
  private readonly duplicateLog: Array<{ serviceName: string; operationId: string }> = [];
  private readonly callLog: GcpMeteringCall[] = [];
  private readonly faults: StoredFault[] = [];
  private lateToleranceMs = GCP_METERING_LATE_TOLERANCE_MS_DEFAULT;

  constructor(
    readonly now: () => Date,
    private readonly options: GcpMeteringSimulatorOptions,
  ) {}

  operations(): GcpUsageOperation[] {
    return structuredClone(this.taken);
  }

  duplicates() {
    return structuredClone(this.duplicateLog);
  }

  calls(): GcpMeteringCall[] {
    return structuredClone(this.callLog);
  }

  recordCall(call: GcpMeteringCall, inputBytes: number): void {
    if (this.callLog.length >= GCP_METERING_SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push({
      ...call,
      input:
        inputBytes > CALL_INPUT_BYTES_MAX
          ? { omitted: `input of ${inputBytes} bytes exceeds ${CALL_INPUT_BYTES_MAX}` }
          : call.input,
    });
  }

  setLateToleranceMs(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0 || ms > 366 * 24 * 3_600_000) {
      throw new Error('lateToleranceMs must be an integer from 0 to a year');
    }
    this.lateToleranceMs = ms;
  }

  injectFault(fault: GcpMeteringFault): void {
    const parsed = GcpMeteringFaultSchema.safeParse(fault);
    if (!parsed.success) throw new Error(`Invalid fault: ${parsed.error.message}`);
    if (this.faults.length >= GCP_METERING_SIM_FAULTS_MAX) {
      throw new Error(`At most ${GCP_METERING_SIM_FAULTS_MAX} faults can be pending`);
    }
    this.faults.push({ fault: parsed.data, remaining: parsed.data.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  reset(): void {
    this.taken.length = 0;
    this.byId.clear();
    this.duplicateLog.length = 0;
    this.callLog.length = 0;
    this.faults.length = 0;
  }

  takeFault(match: (fault: ParsedFault) => boolean): ParsedFault | null {
    const index = this.faults.findIndex((f) => match(f.fault));
    const stored = this.faults[index];
    if (stored === undefined) return null;
    stored.remaining -= 1;
    if (stored.remaining <= 0) this.faults.splice(index, 1);
    return stored.fault;
  }

  knowsService(serviceName: string): boolean {
    return (this.options.consumers?.() ?? []).some((c) => c.product === serviceName);
  }

  /** The consumer's standing: null when it may be reported for. */
  consumerProblem(
    serviceName: string,
    consumerId: string,
  ): { readonly kind: 'unknown' | 'inactive'; readonly detail: string } | null {
    const entitlements = (this.options.consumers?.() ?? []).filter(
      (c) => c.product === serviceName && c.usageReportingId === consumerId,
    );
    if (entitlements.length === 0) {
      return {
        kind: 'unknown',
        detail: `${consumerId} is not a consumer of ${serviceName}`,
      };
    }
    if (!entitlements.some((e) => REPORTABLE_ENTITLEMENT_STATES.includes(e.state))) {
      return {
        kind: 'inactive',
        detail: `the entitlement of ${consumerId} is ${entitlements[0]?.state ?? 'inactive'}`,
      };
    }
    return null;
  }

  check(serviceName: string, input: unknown): { body: unknown; errors: string[] } {
    const operation =
      typeof input === 'object' && input !== null && 'operation' in input
        ? (input as { operation: unknown }).operation
        : undefined;
    const parsed = OperationSchema.safeParse(operation);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GoogleError(
        400,
        `Invalid operation: ${issue?.path.join('.') || 'operation'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const checkErrors: Array<{ code: string; subject: string; detail: string }> = [];
    const fault = this.takeFault((f) => f.kind === 'check-error');
    const problem = this.consumerProblem(serviceName, parsed.data.consumerId);
    if (fault !== null && fault.kind === 'check-error') {
      checkErrors.push({
        code: fault.code ?? 'SERVICE_NOT_ACTIVATED',
        subject: parsed.data.consumerId,
        detail: 'simulated check error',
      });
    } else if (problem !== null) {
      checkErrors.push({
        code: problem.kind === 'unknown' ? 'CONSUMER_INVALID' : 'SERVICE_NOT_ACTIVATED',
        subject: parsed.data.consumerId,
        detail: problem.detail,
      });
    }
    return {
      body: {
        operationId: parsed.data.operationId,
        ...(checkErrors.length > 0 ? { checkErrors } : {}),
        serviceConfigId: SERVICE_CONFIG_ID,
        serviceRolloutId: SERVICE_CONFIG_ID,
      },
      errors: checkErrors.map((e) => e.code),
    };
  }

  report(serviceName: string, input: unknown): { body: unknown; errors: string[] } {
    const operations =
      typeof input === 'object' && input !== null && 'operations' in input
        ? (input as { operations: unknown }).operations
        : undefined;
    if (!Array.isArray(operations) || operations.length === 0) {
      throw new GoogleError(400, 'The request must hold a non-empty `operations` array.');
    }
    if (operations.length > GCP_METERING_SIM_OPERATIONS_MAX) {
      throw new GoogleError(
        400,
        `A report holds at most ${GCP_METERING_SIM_OPERATIONS_MAX} operations.`,
      );
    }
    const reportErrors: Array<{ operationId: string; status: { code: number; message: string } }> =
      [];
    for (const raw of operations) {
      const refusal = this.take(serviceName, raw);
      if (refusal !== null) reportErrors.push(refusal);
    }
    return {
      body: {
        reportErrors,
        serviceConfigId: SERVICE_CONFIG_ID,
        serviceRolloutId: SERVICE_CONFIG_ID,
      },
      errors: reportErrors.map((e) => `${e.operationId}:${e.status.code}`),
    };
  }

  /** Takes one operation; its reportErrors entry when it is refused. */
  private take(
    serviceName: string,
    raw: unknown,
  ): { operationId: string; status: { code: number; message: string } } | null {
    const idOf = (value: unknown) =>
      typeof value === 'object' && value !== null && 'operationId' in value
        ? String((value as { operationId: unknown }).operationId).slice(0, 100)
        : '';
    const refuse = (code: number, message: string) => ({
      operationId: idOf(raw),
      status: { code, message },
    });
    const parsed = OperationSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refuse(
        RPC.INVALID_ARGUMENT,
        `${issue?.path.join('.') || 'operation'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const op = parsed.data;
    const startMs = Date.parse(op.startTime);
    const endMs = Date.parse(op.endTime);
    const nowMs = this.now().getTime();
    if (startMs > endMs) return refuse(RPC.INVALID_ARGUMENT, 'startTime is after endTime');
    if (startMs > nowMs) return refuse(RPC.INVALID_ARGUMENT, 'startTime is in the future');
    for (const set of op.metricValueSets) {
      if (!set.metricName.startsWith(`${serviceName}/`)) {
        return refuse(
          RPC.INVALID_ARGUMENT,
          `metric ${set.metricName} is not a metric of ${serviceName}`,
        );
      }
      for (const value of set.metricValues) {
        if (value.int64Value.startsWith('-') || BigInt(value.int64Value) > INT64_MAX) {
          return refuse(RPC.INVALID_ARGUMENT, `int64Value ${value.int64Value} is not usage`);
        }
      }
    }
    const previous = this.byId.get(JSON.stringify([serviceName, op.operationId]));
    if (previous !== undefined) {
      if (!sameContent(previous, op)) {
        return refuse(
          RPC.ALREADY_EXISTS,
          `operation ${op.operationId} was already reported with other content`,
        );
      }
      this.duplicateLog.push({ serviceName, operationId: op.operationId });
      return null;
    }
    if (nowMs - endMs > this.lateToleranceMs) {
      return refuse(
        RPC.INVALID_ARGUMENT,
        `the operation ended more than ${this.lateToleranceMs / 60_000} minutes ago`,
      );
    }
    const problem = this.consumerProblem(serviceName, op.consumerId);
    if (problem !== null) {
      return refuse(
        problem.kind === 'unknown' ? RPC.INVALID_ARGUMENT : RPC.FAILED_PRECONDITION,
        problem.detail,
      );
    }
    const fault = this.takeFault((f) => f.kind === 'operation-error');
    if (fault !== null && fault.kind === 'operation-error') {
      return refuse(fault.code ?? RPC.UNAVAILABLE, 'simulated operation failure');
    }
    if (this.taken.length >= GCP_METERING_SIM_TAKEN_MAX) {
      return refuse(RPC.RESOURCE_EXHAUSTED, 'the simulator holds no more operations');
    }
    const stored: GcpUsageOperation = {
      serviceName,
      operationId: op.operationId,
      operationName: op.operationName ?? null,
      consumerId: op.consumerId,
      startTime: op.startTime,
      endTime: op.endTime,
      metricValueSets: op.metricValueSets.map((s) => ({
        metricName: s.metricName,
        metricValues: s.metricValues.map((v) => ({ int64Value: v.int64Value })),
      })),
      userLabels: op.userLabels ?? null,
      receivedAt: new Date(nowMs).toISOString(),
    };
    this.taken.push(stored);
    this.byId.set(JSON.stringify([serviceName, op.operationId]), stored);
    return null;
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  response.writeHead(status, { 'content-type': JSON_TYPE, ...headers }).end(JSON.stringify(body));
}

/** The body, or null when it exceeds the limit (the rest is drained, then 413). */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return readBoundedBody(request, GCP_METERING_SIM_BODY_BYTES_MAX);
}

async function handleApi(
  model: GcpMeteringModel,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const httpMethod = request.method ?? 'GET';
  let rest: string;
  try {
    rest = decodeURIComponent(url.pathname.slice(SERVICE_CONTROL_PREFIX.length));
  } catch {
    rest = '';
  }
  const match = /^([A-Za-z0-9][A-Za-z0-9.-]*):(check|report)$/.exec(rest);
  const serviceName = match?.[1] ?? '';
  const method = (match?.[2] ?? 'Unknown') as GcpMeteringCall['method'];
  const raw = await readBody(request);
  let input: unknown = null;
  let errors: string[] = [];
  const finish = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    model.recordCall(
      {
        method,
        serviceName,
        path: url.pathname,
        input,
        status,
        errors,
        at: model.now().toISOString(),
      },
      raw?.length ?? 0,
    );
    sendJson(response, status, body, headers);
  };
  try {
    if (match === null) throw new GoogleError(404, `No route ${url.pathname}`);
    if (httpMethod !== 'POST') {
      throw new GoogleError(405, `${httpMethod} is not allowed here`, { allow: 'POST' });
    }
    if (raw === null) {
      throw new GoogleError(413, `Request body exceeds ${GCP_METERING_SIM_BODY_BYTES_MAX} bytes`);
    }
    if (raw.length > 0) {
      try {
        input = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new GoogleError(400, 'The request body is not valid JSON');
      }
    }
    if (!/^Bearer\s+\S+$/i.test(request.headers.authorization?.trim() ?? '')) {
      throw new GoogleError(401, 'Request is missing required authentication credential.', {
        'www-authenticate': 'Bearer',
      });
    }
    const fault = model.takeFault(
      (f) =>
        (f.kind === 'throttle' || f.kind === 'server-error') &&
        (f.method === '*' || f.method === method),
    );
    if (fault?.kind === 'throttle') {
      throw new GoogleError(429, 'Quota exceeded (simulated fault)', { 'retry-after': '1' });
    }
    if (fault?.kind === 'server-error') {
      throw new GoogleError(503, 'The service is unavailable (simulated fault)');
    }
    if (!model.knowsService(serviceName)) {
      throw new GoogleError(404, `Service ${serviceName} not found or permission denied`);
    }
    const answer =
      method === 'check' ? model.check(serviceName, input) : model.report(serviceName, input);
    errors = answer.errors;
    finish(200, answer.body);
  } catch (error) {
    if (!(error instanceof GoogleError)) throw error;
    finish(
      error.httpStatus,
      {
        error: {
          code: error.httpStatus,
          message: error.message,
          status: STATUS_NAMES[error.httpStatus] ?? 'UNKNOWN',
        },
      },
      error.headers,
    );
  }
}

async function handleControl(
  model: GcpMeteringModel,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET';
  const raw = await readBody(request);
  const fail = (status: number, code: string, message: string) =>
    sendJson(response, status, { error: { code, message, details: [] } });
  if (raw === null) {
    fail(413, 'payload_too_large', `Request body exceeds ${GCP_METERING_SIM_BODY_BYTES_MAX} bytes`);
    return;
  }
  let body: unknown;
  try {
    body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
  } catch {
    fail(400, 'invalid_json', 'Request body is not valid JSON');
    return;
  }
  const key = `${method} ${url.pathname}`;
  try {
    switch (key) {
      case 'GET /_sim/metering':
        sendJson(response, 200, {
          operations: model.operations(),
          duplicates: model.duplicates(),
          calls: model.calls(),
        });
        return;
      case 'POST /_sim/metering/faults':
        model.injectFault(body as GcpMeteringFault);
        sendJson(response, 204, undefined);
        return;
      case 'DELETE /_sim/metering/faults':
        model.clearFaults();
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/metering/late-tolerance':
        model.setLateToleranceMs(
          (body as { lateToleranceMs?: unknown } | undefined)?.lateToleranceMs as number,
        );
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/metering/reset':
        model.reset();
        sendJson(response, 204, undefined);
        return;
      default:
        fail(404, 'not_found', `No simulator control route ${key}`);
    }
  } catch (error) {
    fail(400, 'validation_failed', error instanceof Error ? error.message : 'invalid input');
  }
}

/** The usage-reporting half, for gcp-simulator.ts to mount on its server. */
export function createGcpMeteringSimulator(
  options: GcpMeteringSimulatorOptions = {},
): GcpMeteringSimulatorHandle {
  const model = new GcpMeteringModel(options.now ?? (() => new Date()), options);
  return {
    operations: () => model.operations(),
    duplicates: () => model.duplicates(),
    calls: () => model.calls(),
    setLateToleranceMs: (ms) => model.setLateToleranceMs(ms),
    injectFault: (fault) => model.injectFault(fault),
    clearFaults: () => model.clearFaults(),
    reset: () => model.reset(),
    owns: (pathname) =>
      pathname.startsWith(SERVICE_CONTROL_PREFIX) ||
      pathname === '/_sim/metering' ||
      pathname.startsWith('/_sim/metering/'),
    handle: (request, response, url) =>
      url.pathname.startsWith(SERVICE_CONTROL_PREFIX)
        ? handleApi(model, request, response, url)
        : handleControl(model, request, response, url),
  };
}
