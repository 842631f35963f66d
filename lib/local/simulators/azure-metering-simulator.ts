/**
 * The metering half of the Microsoft marketplace simulator: the Marketplace Metering Service API
 * (reference §2.4) for SaaS offers. Mounted by azure-simulator.ts on the same server (its
 * fulfillment base `/api`), and driven in process through `AzureSimulator.metering` or over
 * `/_sim/metering*`.
 *
 * - `POST /api/batchUsageEvent?api-version=2018-08-31` takes `{ request: [event…] }` (1–25
 *   events, else 400 BadArgument) and answers 200 `{ count, result: [item…] }` in request order,
 *   whatever each event's fate; `POST /api/usageEvent?api-version=2018-08-31` takes one event and
 *   answers 200 with the item, 409 Conflict for a duplicate, 400 otherwise.
 * - An event is `{ resourceId, quantity, dimension, effectiveStartTime, planId }`. Its fate, in
 *   order: `ResourceNotFound` (no such subscription), `ResourceNotActive` (not Subscribed),
 *   `BadArgument` (a plan that is not of the subscription's offer, a malformed field, a start in
 *   the future), `InvalidDimension` (a dimension outside the plan's list, when one is set with
 *   `setDimensions`), `InvalidQuantity` (quantity ≤ 0 or not a number), `Expired`
 *   (effectiveStartTime older than the window, 24 h by default), `Duplicate` (an event was
 *   already accepted for the same resource + dimension + calendar hour, whatever its quantity;
 *   the item carries the accepted one in `error.additionalInfo.acceptedMessage`), else
 *   `Accepted` (stored with a new usageEventId).
 * - Every call needs a bearer token the main simulator issued (its `authenticate`).
 * - Faults, consumed in the order injected: `throttle` (429, Retry-After: 1) and `server-error`
 *   (500) for the next `times` calls; `event-error` makes the next `times` events (across
 *   calls) fail with `status` (default `Error`) without being stored: a partial failure.
 *
 * unverified: the 400 and 401 bodies (`{ code, message, target?, details? }` as the documented
 * single-event 400), the statuses of a suspended or unsubscribed subscription and of a plan
 * mismatch, and whether the duplicate key includes the dimension (current Learn text: yes).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readBoundedBody } from './sim-http';

export const AZURE_METERING_API_VERSION = '2018-08-31';
export const AZURE_METERING_BATCH_PATH = '/api/batchUsageEvent';
export const AZURE_METERING_EVENT_PATH = '/api/usageEvent';
/** "max 25 events; a larger batch returns 400". */
export const AZURE_METERING_SIM_BATCH_MAX = 25;
/** "Only the past 24 hours can be emitted." */
export const AZURE_METERING_WINDOW_MS_DEFAULT = 24 * 3_600_000;
export const AZURE_METERING_SIM_BODY_BYTES_MAX = 1024 * 1024;
/** Accepted events kept; beyond this an event answers `Error` (nothing stored). */
export const AZURE_METERING_SIM_EVENTS_MAX = 100_000;
export const AZURE_METERING_SIM_CALLS_MAX = 10_000;
export const AZURE_METERING_SIM_FAULTS_MAX = 100;
export const AZURE_METERING_SIM_FAULT_TIMES_MAX = 10_000;
const CALL_INPUT_BYTES_MAX = 64 * 1024;
const TEXT_CHARS_MAX = 4_096;
const HOUR_MS = 3_600_000;
/** What Microsoft puts in messageTime of an item that was not accepted. */
const NO_MESSAGE_TIME = '0001-01-01T00:00:00';

export const AZURE_METERING_STATUSES = [
  'Accepted',
  'Expired',
  'Duplicate',
  'Error',
  'ResourceNotFound',
  'ResourceNotAuthorized',
  'ResourceNotActive',
  'InvalidDimension',
  'InvalidQuantity',
  'BadArgument',
] as const;
export type AzureMeteringStatus = (typeof AZURE_METERING_STATUSES)[number];

export const AzureMeteringFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['throttle', 'server-error']),
    times: z.number().int().min(1).max(AZURE_METERING_SIM_FAULT_TIMES_MAX),
  }),
  z.strictObject({
    kind: z.literal('event-error'),
    status: z.enum(AZURE_METERING_STATUSES).exclude(['Accepted', 'Duplicate']).optional(),
    times: z.number().int().min(1).max(AZURE_METERING_SIM_FAULT_TIMES_MAX),
  }),
]);
export type AzureMeteringFault = z.infer<typeof AzureMeteringFaultSchema>;

/** Allowed dimensions per plan id; a plan absent from the map takes any dimension. */
export const AzureMeteringDimensionsSchema = z.record(
  z.string().min(1).max(TEXT_CHARS_MAX),
  z.array(z.string().min(1).max(TEXT_CHARS_MAX)).max(1_000),
);
export type AzureMeteringDimensions = z.infer<typeof AzureMeteringDimensionsSchema>;

/** An event the simulator accepted. */
export interface AzureUsageEvent {
  readonly usageEventId: string;
  readonly resourceId: string;
  readonly quantity: number;
  readonly dimension: string;
  /** As sent. */
  readonly effectiveStartTime: string;
  readonly planId: string;
  /** When it was accepted (simulator clock), ISO. */
  readonly messageTime: string;
}

export interface AzureMeteringCall {
  readonly operation: 'BatchUsageEvent' | 'UsageEvent';
  readonly method: string;
  readonly path: string;
  readonly input: unknown;
  readonly status: number;
  /** The status of each event, in request order (empty when the call itself failed). */
  readonly results: readonly string[];
  readonly at: string;
}

export interface AzureMeteringSimulator {
  /** Accepted events, oldest first. */
  events(): AzureUsageEvent[];
  /** Events answered Duplicate, oldest first (the exactly-once evidence). */
  duplicates(): Array<{ readonly event: unknown; readonly acceptedUsageEventId: string }>;
  calls(): AzureMeteringCall[];
  setDimensions(dimensions: AzureMeteringDimensions): void;
  /** How far back effectiveStartTime may be (default 24 h). */
  setWindowMs(windowMs: number): void;
  injectFault(fault: AzureMeteringFault): void;
  clearFaults(): void;
  /** Forgets events, duplicates, calls and faults (dimensions and window stay). */
  reset(): void;
}

export interface AzureMeteringSimulatorHandle extends AzureMeteringSimulator {
  /** Answers the metering paths and `/_sim/metering*`; false for any other path. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
}

export interface AzureMeteringSimulatorOptions {
  readonly now?: () => Date;
  /** The main simulator's subscriptions. */
  readonly subscriptions?: () => readonly {
    readonly id: string;
    readonly offerId: string;
    readonly planId: string;
    readonly saasSubscriptionStatus: string;
  }[];
  /** The main simulator's offers and plans. */
  readonly offers?: () => readonly { offerId: string; plans: readonly { planId: string }[] }[];
  /** Throws when the Authorization header is not a token the marketplace accepts. */
  readonly authenticate?: (authorization: string | undefined) => Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const EventSchema = z.looseObject({
  resourceId: z.string().min(1).max(TEXT_CHARS_MAX),
  quantity: z.unknown(),
  dimension: z.string().min(1).max(TEXT_CHARS_MAX),
  effectiveStartTime: z.string().min(1).max(100),
  planId: z.string().min(1).max(TEXT_CHARS_MAX),
});

interface StoredFault {
  readonly fault: AzureMeteringFault;
  remaining: number;
}

class AzureMeteringModel {
  private readonly accepted: AzureUsageEvent[] = [];
  private readonly byKey = new Map<string, AzureUsageEvent>();
  private readonly duplicateLog: Array<{ event: unknown; acceptedUsageEventId: string }> = [];
  private readonly callLog: AzureMeteringCall[] = [];
  private readonly faults: StoredFault[] = [];
  private dimensions: AzureMeteringDimensions = {};
  private windowMs = AZURE_METERING_WINDOW_MS_DEFAULT;

  constructor(
    readonly now: () => Date,
    private readonly options: AzureMeteringSimulatorOptions,
  ) {}

  events(): AzureUsageEvent[] {
    return structuredClone(this.accepted);
  }

  duplicates() {
    return structuredClone(this.duplicateLog);
  }

  calls(): AzureMeteringCall[] {
    return structuredClone(this.callLog);
  }

  recordCall(call: AzureMeteringCall, inputBytes: number): void {
    if (this.callLog.length >= AZURE_METERING_SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push({
      ...call,
      input:
        inputBytes > CALL_INPUT_BYTES_MAX
          ? { omitted: `input of ${inputBytes} bytes exceeds ${CALL_INPUT_BYTES_MAX}` }
          : call.input,
    });
  }

  setDimensions(dimensions: AzureMeteringDimensions): void {
    const parsed = AzureMeteringDimensionsSchema.safeParse(dimensions);
    if (!parsed.success) throw new Error(`Invalid dimensions: ${parsed.error.message}`);
    this.dimensions = structuredClone(parsed.data);
  }

  setWindowMs(windowMs: number): void {
    if (!Number.isInteger(windowMs) || windowMs < 0 || windowMs > 366 * 24 * HOUR_MS) {
      throw new Error('windowMs must be an integer from 0 to a year');
    }
    this.windowMs = windowMs;
  }

  injectFault(fault: AzureMeteringFault): void {
    const parsed = AzureMeteringFaultSchema.safeParse(fault);
    if (!parsed.success) throw new Error(`Invalid fault: ${parsed.error.message}`);
    if (this.faults.length >= AZURE_METERING_SIM_FAULTS_MAX) {
      throw new Error(`At most ${AZURE_METERING_SIM_FAULTS_MAX} faults can be pending`);
    }
    this.faults.push({ fault: parsed.data, remaining: parsed.data.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  reset(): void {
    this.accepted.length = 0;
    this.byKey.clear();
    this.duplicateLog.length = 0;
    this.callLog.length = 0;
    this.faults.length = 0;
  }

  /** The first pending fault of one of `kinds`, consumed by one. */
  takeFault(kinds: readonly AzureMeteringFault['kind'][]): AzureMeteringFault | null {
    const index = this.faults.findIndex((f) => kinds.includes(f.fault.kind));
    const stored = this.faults[index];
    if (stored === undefined) return null;
    stored.remaining -= 1;
    if (stored.remaining <= 0) this.faults.splice(index, 1);
    return stored.fault;
  }

  /** One event's answer item (and its effect on the state). */
  submit(raw: unknown): Record<string, unknown> & { status: AzureMeteringStatus } {
    const echo = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const failed = (status: AzureMeteringStatus, code: string, message: string) => ({
      status,
      messageTime: NO_MESSAGE_TIME,
      error: { code, message },
      resourceId: echo.resourceId,
      quantity: echo.quantity,
      dimension: echo.dimension,
      effectiveStartTime: echo.effectiveStartTime,
      planId: echo.planId,
    });
    const parsed = EventSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return failed(
        'BadArgument',
        'BadArgument',
        `${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const event = parsed.data;
    const subscription = this.options.subscriptions?.().find((s) => s.id === event.resourceId);
    if (subscription === undefined) {
      return failed('ResourceNotFound', 'BadArgument', `Resource ${event.resourceId} not found.`);
    }
    if (subscription.saasSubscriptionStatus !== 'Subscribed') {
      return failed(
        'ResourceNotActive',
        'BadArgument',
        `The resource is ${subscription.saasSubscriptionStatus}, not Subscribed.`,
      );
    }
    const offer = this.options.offers?.().find((o) => o.offerId === subscription.offerId);
    if (offer !== undefined && !offer.plans.some((p) => p.planId === event.planId)) {
      return failed(
        'BadArgument',
        'BadArgument',
        `Plan ${event.planId} is not a plan of offer ${subscription.offerId}.`,
      );
    }
    const allowed = this.dimensions[event.planId];
    if (allowed !== undefined && !allowed.includes(event.dimension)) {
      return failed(
        'InvalidDimension',
        'BadArgument',
        `Dimension ${event.dimension} is not defined on plan ${event.planId}.`,
      );
    }
    if (typeof event.quantity !== 'number' || !Number.isFinite(event.quantity)) {
      return failed('InvalidQuantity', 'BadArgument', 'The quantity must be a number.');
    }
    if (event.quantity <= 0) {
      return failed('InvalidQuantity', 'BadArgument', 'The quantity must be greater than 0.');
    }
    const startMs = Date.parse(event.effectiveStartTime);
    if (!Number.isFinite(startMs)) {
      return failed('BadArgument', 'BadArgument', 'effectiveStartTime is not a date-time.');
    }
    const nowMs = this.now().getTime();
    if (startMs > nowMs) {
      return failed('BadArgument', 'BadArgument', 'effectiveStartTime is in the future.');
    }
    if (nowMs - startMs > this.windowMs) {
      return failed(
        'Expired',
        'BadArgument',
        `effectiveStartTime is more than ${this.windowMs / HOUR_MS} hours in the past.`,
      );
    }
    const hour = Math.floor(startMs / HOUR_MS) * HOUR_MS;
    const key = JSON.stringify([event.resourceId, event.dimension, hour]);
    const previous = this.byKey.get(key);
    if (previous !== undefined) {
      this.duplicateLog.push({
        event: structuredClone(raw),
        acceptedUsageEventId: previous.usageEventId,
      });
      return {
        ...failed('Duplicate', 'Conflict', 'This usage event already exist.'),
        error: {
          additionalInfo: { acceptedMessage: { ...previous, status: 'Duplicate' } },
          message: 'This usage event already exist.',
          code: 'Conflict',
        },
      };
    }
    const fault = this.takeFault(['event-error']);
    if (fault !== null && fault.kind === 'event-error') {
      return failed(
        fault.status ?? 'Error',
        'InternalServerError',
        'The event could not be processed (simulated fault).',
      );
    }
    if (this.accepted.length >= AZURE_METERING_SIM_EVENTS_MAX) {
      return failed('Error', 'InternalServerError', 'The simulator holds no more events.');
    }
    const stored: AzureUsageEvent = {
      usageEventId: randomUUID(),
      resourceId: event.resourceId,
      quantity: event.quantity,
      dimension: event.dimension,
      effectiveStartTime: event.effectiveStartTime,
      planId: event.planId,
      messageTime: new Date(nowMs).toISOString(),
    };
    this.accepted.push(stored);
    this.byKey.set(key, stored);
    return { ...stored, status: 'Accepted' };
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
  return readBoundedBody(request, AZURE_METERING_SIM_BODY_BYTES_MAX);
}

async function handleApi(
  model: AzureMeteringModel,
  options: AzureMeteringSimulatorOptions,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET';
  const operation = url.pathname === AZURE_METERING_BATCH_PATH ? 'BatchUsageEvent' : 'UsageEvent';
  const raw = await readBody(request);
  let input: unknown = null;
  let results: string[] = [];
  const finish = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    model.recordCall(
      {
        operation,
        method,
        path: url.pathname,
        input,
        status,
        results,
        at: model.now().toISOString(),
      },
      raw?.length ?? 0,
    );
    sendJson(response, status, body, headers);
  };
  try {
    if (method !== 'POST') {
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed here`, {
        allow: 'POST',
      });
    }
    if (raw === null) {
      throw new HttpError(
        413,
        'PayloadTooLarge',
        `Request body exceeds ${AZURE_METERING_SIM_BODY_BYTES_MAX} bytes`,
      );
    }
    if (raw.length > 0) {
      try {
        input = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'BadArgument', 'The request body is not valid JSON.');
      }
    }
    if (url.searchParams.get('api-version') !== AZURE_METERING_API_VERSION) {
      throw new HttpError(
        400,
        'BadArgument',
        `The api-version query parameter must be ${AZURE_METERING_API_VERSION}.`,
      );
    }
    if (options.authenticate) {
      try {
        await options.authenticate(request.headers.authorization);
      } catch (error) {
        throw new HttpError(
          401,
          'Unauthorized',
          error instanceof Error ? error.message : 'The bearer token is not valid.',
          { 'www-authenticate': 'Bearer' },
        );
      }
    }
    const fault = model.takeFault(['throttle', 'server-error']);
    if (fault?.kind === 'throttle') {
      throw new HttpError(429, 'TooManyRequests', 'Rate limit exceeded (simulated fault).', {
        'retry-after': '1',
      });
    }
    if (fault?.kind === 'server-error') {
      throw new HttpError(500, 'InternalServerError', 'Internal error (simulated fault).');
    }
    if (operation === 'UsageEvent') {
      const item = model.submit(input);
      results = [item.status];
      if (item.status === 'Accepted') {
        finish(200, item);
      } else if (item.status === 'Duplicate') {
        finish(409, item.error);
      } else {
        const error = item.error as { code: string; message: string };
        finish(400, {
          message: error.message,
          target: 'usageEventRequest',
          details: [{ message: error.message, target: item.status, code: error.code }],
          code: error.code,
        });
      }
      return;
    }
    const request_ =
      typeof input === 'object' && input !== null && 'request' in input
        ? (input as { request: unknown }).request
        : undefined;
    if (!Array.isArray(request_) || request_.length === 0) {
      throw new HttpError(400, 'BadArgument', 'The request must hold a non-empty `request` array.');
    }
    if (request_.length > AZURE_METERING_SIM_BATCH_MAX) {
      throw new HttpError(
        400,
        'BadArgument',
        `A batch holds at most ${AZURE_METERING_SIM_BATCH_MAX} usage events.`,
      );
    }
    const items = request_.map((event) => model.submit(event));
    results = items.map((item) => item.status);
    finish(200, { count: items.length, result: items });
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    finish(error.status, { code: error.code, message: error.message }, error.headers);
  }
}

async function handleControl(
  model: AzureMeteringModel,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET';
  const raw = await readBody(request);
  const fail = (status: number, code: string, message: string) =>
    sendJson(response, status, { error: { code, message, details: [] } });
  if (raw === null) {
    fail(
      413,
      'payload_too_large',
      `Request body exceeds ${AZURE_METERING_SIM_BODY_BYTES_MAX} bytes`,
    );
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
          events: model.events(),
          duplicates: model.duplicates(),
          calls: model.calls(),
        });
        return;
      case 'POST /_sim/metering/faults':
        model.injectFault(body as AzureMeteringFault);
        sendJson(response, 204, undefined);
        return;
      case 'DELETE /_sim/metering/faults':
        model.clearFaults();
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/metering/dimensions':
        model.setDimensions(body as AzureMeteringDimensions);
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/metering/window':
        model.setWindowMs((body as { windowMs?: unknown } | undefined)?.windowMs as number);
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

/** The metering half, for azure-simulator.ts to mount on its server. */
export function createAzureMeteringSimulator(
  options: AzureMeteringSimulatorOptions = {},
): AzureMeteringSimulatorHandle {
  const model = new AzureMeteringModel(options.now ?? (() => new Date()), options);
  return {
    events: () => model.events(),
    duplicates: () => model.duplicates(),
    calls: () => model.calls(),
    setDimensions: (dimensions) => model.setDimensions(dimensions),
    setWindowMs: (windowMs) => model.setWindowMs(windowMs),
    injectFault: (fault) => model.injectFault(fault),
    clearFaults: () => model.clearFaults(),
    reset: () => model.reset(),
    handle: async (request, response, url) => {
      if (
        url.pathname === AZURE_METERING_BATCH_PATH ||
        url.pathname === AZURE_METERING_EVENT_PATH
      ) {
        await handleApi(model, options, request, response, url);
        return true;
      }
      if (url.pathname === '/_sim/metering' || url.pathname.startsWith('/_sim/metering/')) {
        await handleControl(model, request, response, url);
        return true;
      }
      return false;
    },
  };
}
