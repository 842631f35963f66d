/**
 * Microsoft's Marketplace Metering Service batch API (reference §2.4) behind the metering port:
 * `POST {baseUrl}/batchUsageEvent?api-version=2018-08-31` with
 * `{ request: [{ resourceId, quantity, dimension, effectiveStartTime, planId }] }`, at most 25
 * events, answered 200 with `{ count, result: [{ status, usageEventId?, error?, … }] }` whatever
 * the events' fates.
 *
 * - `resourceId` is the SaaS subscription id, `effectiveStartTime` always the report's hour
 *   start: Microsoft keeps one event per resource + dimension + hour (unverified: the 2022 text
 *   says per resource), so a resend of the same report is answered `Duplicate`.
 * - `quantity` must be > 0 (a double): a report of 0 or less, or a decimal a double cannot hold
 *   exactly, is a `rejected` outcome and is never sent.
 * - Statuses: `Accepted` → accepted (usageEventId); `Duplicate` → duplicate (the first event's
 *   usageEventId when given); `Expired` (beyond 24 h), `ResourceNotFound`,
 *   `ResourceNotAuthorized`, `ResourceNotActive`, `InvalidDimension`, `InvalidQuantity`,
 *   `BadArgument` → rejected; `Error`, `NotProcessed` and any status not documented →
 *   unprocessed (a later flush resends it; once 24 h have passed Microsoft answers `Expired`).
 * - The whole call: 429, 5xx and timeouts are retried (lib/outbound/http-json.ts), then
 *   MarketplaceUnavailableError; 401/403 (a token of the wrong Entra app) also throws it, so the
 *   reports stay pending until the credentials are fixed; a 400 refusing a batch of several
 *   events sends each alone, so one bad event does not take the others with it.
 *
 * The bearer token is Entra client credentials for the marketplace resource
 * `20e940b3-4c77-4b0b-9a53-9e16a1b010a7` (scope `…/.default`), of the Entra app in the offer's
 * technical configuration (reference §2.1); the provider is injected.
 */
import { z } from 'zod';
import { MarketplaceUnavailableError } from '../../app/errors';
import type { MeteringGateway, MeteringOutcome, MeteringReport } from '../../app/metering-ports';
import { type RequestOptions, requestJson } from '../../outbound/http-json';

export const AZURE_METERING_API_VERSION = '2018-08-31';
/** "max 25 events; a larger batch returns 400". */
export const AZURE_METERING_BATCH_MAX = 25;
const HOUR_MS = 3_600_000;

/** Result statuses that refuse the event for good. */
export const AZURE_METERING_REJECTED_STATUSES: readonly string[] = [
  'Expired',
  'ResourceNotFound',
  'ResourceNotAuthorized',
  'ResourceNotActive',
  'InvalidDimension',
  'InvalidQuantity',
  'BadArgument',
];

export type AzureMeteringTokenProvider = () => Promise<string>;

export interface AzureMeteringGatewayOptions {
  /** https://marketplaceapi.microsoft.com/api (AGORA_AZURE_FULFILLMENT_URL), or the simulator's `/api`. */
  readonly baseUrl: string;
  readonly token: AzureMeteringTokenProvider;
  /** Timeouts and retries of lib/outbound/http-json.ts (defaults there). */
  readonly http?: Pick<RequestOptions, 'timeoutMs' | 'attemptsMax' | 'random' | 'sleep'>;
}

// unverified: item fields beyond the documented example are kept (loose) and all but status are
// optional, as Microsoft asks integrations not to deserialize strictly.
const ResultItemSchema = z.looseObject({
  status: z.string().min(1),
  usageEventId: z.string().nullish(),
  resourceId: z.string().nullish(),
  dimension: z.string().nullish(),
  effectiveStartTime: z.string().nullish(),
  error: z
    .looseObject({
      code: z.string().nullish(),
      message: z.string().nullish(),
      additionalInfo: z
        .looseObject({
          acceptedMessage: z.looseObject({ usageEventId: z.string().nullish() }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});
type ResultItem = z.infer<typeof ResultItemSchema>;
const BatchResponseSchema = z.looseObject({
  count: z.number().nullish(),
  result: z.array(z.unknown()).default([]),
});

/** The quantity as the double Azure takes, or why it cannot be sent. */
export function azureQuantity(quantity: string): { value: number } | { problem: string } {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(quantity);
  if (!match) return { problem: `quantity ${quantity} is not a non-negative decimal` };
  const value = Number(quantity);
  if (!(value > 0)) {
    return {
      problem: `quantity ${quantity} is not above 0 (Azure takes positive quantities only)`,
    };
  }
  if (canonicalDecimal(quantity) !== canonicalDecimal(numberText(value))) {
    return { problem: `quantity ${quantity} cannot be sent exactly as a double` };
  }
  return { value };
}

/** Digits without leading zeros of the integer part or trailing zeros of the fraction. */
function canonicalDecimal(text: string): string {
  const [whole = '', fraction = ''] = text.split('.');
  const w = whole.replace(/^0+(?=\d)/, '');
  const f = fraction.replace(/0+$/, '');
  return f ? `${w}.${f}` : w;
}

/** A double's shortest decimal text without an exponent ('' when it has one). */
function numberText(value: number): string {
  const text = String(value);
  return /e/i.test(text) ? '' : text;
}

function eventKey(resourceId: string, dimension: string, startMs: number): string {
  return JSON.stringify([resourceId, dimension, startMs]);
}

interface PreparedEvent {
  readonly report: MeteringReport;
  readonly key: string;
  readonly event: {
    readonly resourceId: string;
    readonly quantity: number;
    readonly dimension: string;
    readonly effectiveStartTime: string;
    readonly planId: string;
  };
}

export class AzureMeteringGateway implements MeteringGateway {
  readonly marketplace = 'azure' as const;
  readonly batchSize = AZURE_METERING_BATCH_MAX;

  constructor(private readonly options: AzureMeteringGatewayOptions) {}

  async report(batch: readonly MeteringReport[]): Promise<MeteringOutcome[]> {
    const outcomes: MeteringOutcome[] = [];
    const events: PreparedEvent[] = [];
    const seenReports = new Set<string>();
    for (const report of batch) {
      if (seenReports.has(report.reportId)) continue;
      seenReports.add(report.reportId);
      const prepared = prepare(report);
      if ('rejected' in prepared) {
        outcomes.push({ kind: 'rejected', reportId: report.reportId, reason: prepared.rejected });
        continue;
      }
      if (events.some((e) => e.key === prepared.key)) {
        outcomes.push({
          kind: 'rejected',
          reportId: report.reportId,
          reason: 'another report of this batch has the same subscription, dimension and hour',
        });
        continue;
      }
      events.push(prepared);
    }
    let answered = false;
    let unavailable: MarketplaceUnavailableError | null = null;
    for (let start = 0; start < events.length; start += AZURE_METERING_BATCH_MAX) {
      const chunk = events.slice(start, start + AZURE_METERING_BATCH_MAX);
      try {
        outcomes.push(...(await this.send(chunk)));
        answered = true;
      } catch (error) {
        if (!(error instanceof MarketplaceUnavailableError)) throw error;
        unavailable = unavailable ?? error;
        for (const event of chunk) {
          outcomes.push({
            kind: 'unprocessed',
            reportId: event.report.reportId,
            reason: error.message,
          });
        }
      }
    }
    if (unavailable !== null && !answered) throw unavailable;
    return outcomes;
  }

  private async send(chunk: readonly PreparedEvent[]): Promise<MeteringOutcome[]> {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const response = await requestJson(
      `${base}/batchUsageEvent?api-version=${AZURE_METERING_API_VERSION}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.options.token()}` },
        body: { request: chunk.map((e) => e.event) },
      },
      { operation: 'BatchUsageEvent', ...this.options.http },
    );
    if (response.status === 401 || response.status === 403) {
      throw new MarketplaceUnavailableError(
        `BatchUsageEvent refused the credentials (HTTP ${response.status}): the token must be for the Entra app of the offer's technical configuration`,
      );
    }
    if (response.status === 400) {
      // unverified: the body of a refused batch (the single-event API's `{code, message}`).
      const reason = `BatchUsageEvent refused the batch (HTTP 400): ${JSON.stringify(response.body).slice(0, 300)}`;
      if (chunk.length === 1) {
        return chunk.map((e) => ({ kind: 'rejected', reportId: e.report.reportId, reason }));
      }
      // One bad event must not take the others with it: each is sent alone.
      const outcomes: MeteringOutcome[] = [];
      for (const event of chunk) {
        try {
          outcomes.push(...(await this.send([event])));
        } catch (error) {
          if (!(error instanceof MarketplaceUnavailableError)) throw error;
          outcomes.push({
            kind: 'unprocessed',
            reportId: event.report.reportId,
            reason: error.message,
          });
        }
      }
      return outcomes;
    }
    if (response.status !== 200) {
      throw new MarketplaceUnavailableError(`BatchUsageEvent answered HTTP ${response.status}`);
    }
    const parsed = BatchResponseSchema.safeParse(response.body);
    if (!parsed.success) {
      throw new MarketplaceUnavailableError('BatchUsageEvent answered an unreadable body');
    }
    const byKey = new Map(chunk.map((e) => [e.key, e]));
    const outcomes = new Map<string, MeteringOutcome>();
    for (const raw of parsed.data.result) {
      const item = ResultItemSchema.safeParse(raw);
      if (!item.success) continue;
      const startMs = Date.parse(item.data.effectiveStartTime ?? '');
      const sent = byKey.get(
        eventKey(item.data.resourceId ?? '', item.data.dimension ?? '', startMs),
      );
      if (!sent || outcomes.has(sent.report.reportId)) continue;
      outcomes.set(sent.report.reportId, outcomeOf(sent.report.reportId, item.data));
    }
    for (const event of chunk) {
      if (!outcomes.has(event.report.reportId)) {
        outcomes.set(event.report.reportId, {
          kind: 'unprocessed',
          reportId: event.report.reportId,
          reason: 'BatchUsageEvent answered nothing for the event',
        });
      }
    }
    return [...outcomes.values()];
  }
}

function prepare(report: MeteringReport): { rejected: string } | PreparedEvent {
  const customer = report.customer;
  if (customer.marketplace !== 'azure') {
    return { rejected: `a ${customer.marketplace} customer cannot be metered on Azure` };
  }
  const startMs = Date.parse(report.hourStart);
  if (!Number.isFinite(startMs) || startMs % HOUR_MS !== 0) {
    return { rejected: `hourStart ${report.hourStart} is not the start of a UTC hour` };
  }
  const quantity = azureQuantity(report.quantity);
  if ('problem' in quantity) return { rejected: quantity.problem };
  return {
    report,
    key: eventKey(customer.subscriptionId, report.dimension, startMs),
    event: {
      resourceId: customer.subscriptionId,
      quantity: quantity.value,
      dimension: report.dimension,
      // The documented form: seconds, `Z`.
      effectiveStartTime: new Date(startMs).toISOString().replace('.000Z', 'Z'),
      planId: customer.planId,
    },
  };
}

function outcomeOf(reportId: string, item: ResultItem): MeteringOutcome {
  const detail = item.error?.message ? `: ${item.error.message}` : '';
  if (item.status === 'Accepted') {
    return { kind: 'accepted', reportId, marketplaceRef: item.usageEventId ?? null };
  }
  if (item.status === 'Duplicate') {
    return {
      kind: 'duplicate',
      reportId,
      marketplaceRef:
        item.error?.additionalInfo?.acceptedMessage?.usageEventId ?? item.usageEventId ?? null,
    };
  }
  if (AZURE_METERING_REJECTED_STATUSES.includes(item.status)) {
    return { kind: 'rejected', reportId, reason: `${item.status}${detail}` };
  }
  return { kind: 'unprocessed', reportId, reason: `${item.status}${detail}` };
}
