// Proves the Azure metering gateway with a stubbed fetch (no network): the batchUsageEvent request is pinned, quantities ≤ 0 or inexact are refused before sending, every result status maps to its outcome, a refused batch is split, and HTTP failures become MarketplaceUnavailableError.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MarketplaceUnavailableError } from '../../../../lib/app/errors';
import type { MeteringOutcome, MeteringReport } from '../../../../lib/app/metering-ports';
import {
  AZURE_METERING_REJECTED_STATUSES,
  AzureMeteringGateway,
  azureQuantity,
} from '../../../../lib/marketplaces/azure/metering-gateway';

const BASE = 'https://marketplaceapi.example.test/api';
const HOUR = '2026-03-10T08:00:00.000Z';
const SUBSCRIPTION = '37f9dea2-4345-438f-b0bd-03d40d28c7ba';

interface Seen {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: { request: Array<Record<string, unknown>> };
}
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

function stubFetch(reply: (seen: Seen, index: number) => Reply): Seen[] {
  const seen: Seen[] = [];
  vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    const request: Seen = {
      url: new URL(String(url)),
      method: init.method ?? 'GET',
      headers,
      body: JSON.parse(String(init.body)),
    };
    seen.push(request);
    const answer = reply(request, seen.length - 1);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json', ...answer.headers },
    });
  });
  return seen;
}

/** Answers each event with the status its dimension names (Accepted by default). */
function answerByDimension(seen: Seen): Reply {
  return {
    status: 200,
    body: {
      count: seen.body.request.length,
      result: seen.body.request.map((event, i) => {
        const status = String(event.dimension).split(':')[1] ?? 'Accepted';
        return status === 'Accepted'
          ? { ...event, usageEventId: `ev-${i}`, status, messageTime: '2026-03-10T09:01:12Z' }
          : status === 'Duplicate'
            ? {
                ...event,
                status,
                messageTime: '0001-01-01T00:00:00',
                error: {
                  additionalInfo: { acceptedMessage: { usageEventId: 'ev-first', status } },
                  message: 'This usage event already exist.',
                  code: 'Conflict',
                },
              }
            : {
                ...event,
                status,
                messageTime: '0001-01-01T00:00:00',
                error: { message: `${status} happened`, code: 'BadArgument' },
              };
      }),
    },
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const noSleep = async () => {};
function gateway(token = 'entra-token'): AzureMeteringGateway {
  return new AzureMeteringGateway({
    baseUrl: `${BASE}/`,
    token: async () => token,
    http: { sleep: noSleep, random: () => 0 },
  });
}

function report(overrides: Partial<Omit<MeteringReport, 'customer'>> = {}): MeteringReport {
  return {
    reportId: 'r-1',
    contractId: 'c-1',
    dimension: 'api_calls_1k',
    hourStart: HOUR,
    quantity: '5',
    customer: { marketplace: 'azure', subscriptionId: SUBSCRIPTION, planId: 'gold-monthly' },
    ...overrides,
  };
}

function byReport(outcomes: readonly MeteringOutcome[]): Record<string, MeteringOutcome> {
  return Object.fromEntries(outcomes.map((o) => [o.reportId, o]));
}

describe('the request', () => {
  it('posts the batch with the token, the api-version and the hour start', async () => {
    const seen = stubFetch(answerByDimension);
    const outcomes = await gateway().report([report({ quantity: '5.25' })]);
    expect(seen).toHaveLength(1);
    const [call] = seen;
    expect(call?.method).toBe('POST');
    expect(`${call?.url.origin}${call?.url.pathname}`).toBe(`${BASE}/batchUsageEvent`);
    expect(call?.url.searchParams.get('api-version')).toBe('2018-08-31');
    expect(call?.headers.authorization).toBe('Bearer entra-token');
    expect(call?.body).toEqual({
      request: [
        {
          resourceId: SUBSCRIPTION,
          quantity: 5.25,
          dimension: 'api_calls_1k',
          effectiveStartTime: '2026-03-10T08:00:00Z',
          planId: 'gold-monthly',
        },
      ],
    });
    expect(outcomes).toEqual([{ kind: 'accepted', reportId: 'r-1', marketplaceRef: 'ev-0' }]);
  });

  it('never sends a quantity of 0 or less, or one a double cannot hold exactly', async () => {
    const seen = stubFetch(answerByDimension);
    const outcomes = byReport(
      await gateway().report([
        report({ reportId: 'zero', quantity: '0', dimension: 'a' }),
        report({ reportId: 'zeros', quantity: '0.000', dimension: 'b' }),
        report({ reportId: 'negative', quantity: '-2', dimension: 'c' }),
        report({ reportId: 'inexact', quantity: '0.12345678901234567891', dimension: 'd' }),
        report({ reportId: 'mid-hour', hourStart: '2026-03-10T08:00:01.000Z', dimension: 'e' }),
        report({ reportId: 'fine', quantity: '7', dimension: 'f' }),
      ]),
    );
    for (const id of ['zero', 'zeros', 'negative', 'inexact', 'mid-hour']) {
      expect(outcomes[id]?.kind).toBe('rejected');
    }
    expect(outcomes.fine?.kind).toBe('accepted');
    expect(seen.flatMap((s) => s.body.request.map((e) => e.quantity))).toEqual([7]);
  });

  it('makes no call when every report is refused', async () => {
    const seen = stubFetch(answerByDimension);
    const outcomes = await gateway().report([report({ quantity: '0' })]);
    expect(outcomes).toEqual([
      { kind: 'rejected', reportId: 'r-1', reason: expect.stringContaining('above 0') },
    ]);
    expect(seen).toHaveLength(0);
  });

  it('sends positive decimals exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000 }),
        fc.integer({ min: 0, max: 4 }),
        (n, scale) => {
          const text = scale === 0 ? String(n) : (n / 10 ** scale).toFixed(scale);
          const result = azureQuantity(text);
          if (Number(text) > 0) expect(result).toEqual({ value: Number(text) });
          else expect(result).toHaveProperty('problem');
        },
      ),
    );
  });

  it('refuses a second report with the same subscription, dimension and hour, and batches by 25', async () => {
    const seen = stubFetch(answerByDimension);
    const batch = [
      ...Array.from({ length: 26 }, (_, i) => report({ reportId: `r-${i}`, dimension: `d-${i}` })),
      report({ reportId: 'clash', dimension: 'd-0', quantity: '9' }),
    ];
    const outcomes = byReport(await gateway().report(batch));
    expect(seen.map((s) => s.body.request.length)).toEqual([25, 1]);
    expect(outcomes.clash?.kind).toBe('rejected');
    expect(Object.values(outcomes).filter((o) => o.kind === 'accepted')).toHaveLength(26);
  });
});

describe('result statuses', () => {
  it('maps Accepted, Duplicate, each refusal, Error and an unknown status', async () => {
    stubFetch(answerByDimension);
    const statuses = [
      'Accepted',
      'Duplicate',
      ...AZURE_METERING_REJECTED_STATUSES,
      'Error',
      'Brand-new',
    ];
    const outcomes = byReport(
      await gateway().report(statuses.map((s) => report({ reportId: s, dimension: `x:${s}` }))),
    );
    expect(outcomes.Accepted).toEqual({
      kind: 'accepted',
      reportId: 'Accepted',
      marketplaceRef: 'ev-0',
    });
    expect(outcomes.Duplicate).toEqual({
      kind: 'duplicate',
      reportId: 'Duplicate',
      marketplaceRef: 'ev-first',
    });
    for (const status of AZURE_METERING_REJECTED_STATUSES) {
      expect(outcomes[status]).toEqual({
        kind: 'rejected',
        reportId: status,
        reason: `${status}: ${status} happened`,
      });
    }
    expect(outcomes.Error?.kind).toBe('unprocessed');
    expect(outcomes['Brand-new']?.kind).toBe('unprocessed');
  });

  it('leaves an event Microsoft did not answer unprocessed', async () => {
    stubFetch(() => ({ status: 200, body: { count: 0, result: [] } }));
    expect(await gateway().report([report()])).toEqual([
      { kind: 'unprocessed', reportId: 'r-1', reason: expect.stringContaining('nothing') },
    ]);
  });
});

describe('HTTP failures', () => {
  it('retries 429 and 5xx, then throws MarketplaceUnavailableError', async () => {
    const seen = stubFetch(() => ({ status: 503 }));
    await expect(gateway().report([report()])).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    expect(seen).toHaveLength(3);
  });

  it('recovers when a throttled call succeeds on retry', async () => {
    stubFetch((seen, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : answerByDimension(seen),
    );
    expect((await gateway().report([report()]))[0]?.kind).toBe('accepted');
  });

  it.each([401, 403])('throws MarketplaceUnavailableError on %i (credentials)', async (status) => {
    stubFetch(() => ({ status, body: { code: 'Unauthorized' } }));
    await expect(gateway().report([report()])).rejects.toThrow(/credentials/);
  });

  it('sends each event alone when Microsoft refuses a batch of several with 400', async () => {
    const seen = stubFetch((request) =>
      request.body.request.length > 1 || request.body.request[0]?.dimension === 'bad'
        ? { status: 400, body: { code: 'BadArgument', message: 'One or more errors' } }
        : answerByDimension(request),
    );
    const outcomes = byReport(
      await gateway().report(
        ['good', 'bad', 'fine'].map((d) => report({ reportId: d, dimension: d })),
      ),
    );
    expect(outcomes.good?.kind).toBe('accepted');
    expect(outcomes.fine?.kind).toBe('accepted');
    expect(outcomes.bad).toEqual({
      kind: 'rejected',
      reportId: 'bad',
      reason: expect.stringContaining('BadArgument'),
    });
    expect(seen.map((s) => s.body.request.length)).toEqual([3, 1, 1, 1]);
  });
});
