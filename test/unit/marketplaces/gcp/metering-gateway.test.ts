// Proves the GCP metering gateway with a stubbed fetch (no network): check before report with the exact operation, deterministic UUID operation ids, checkErrors and reportErrors mapped per report, nothing reported when a check fails, and HTTP failures become MarketplaceUnavailableError.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MarketplaceUnavailableError } from '../../../../lib/app/errors';
import type { MeteringOutcome, MeteringReport } from '../../../../lib/app/metering-ports';
import {
  GCP_OPERATION_NAME,
  GcpMeteringGateway,
  gcpQuantity,
  metricNameFor,
  operationIdFor,
  uuidV5,
} from '../../../../lib/marketplaces/gcp/metering-gateway';

const BASE = 'https://servicecontrol.example.test';
const SERVICE = 'example-saas.endpoints.example-partner-public.cloud.goog';
const OTHER_SERVICE = 'other.endpoints.example-partner-public.cloud.goog';
const CONSUMER = 'project_number:123456789012';
const HOUR = '2026-03-02T10:00:00.000Z';

interface Seen {
  url: URL;
  verb: 'check' | 'report';
  service: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}
type Reply = { status: number; body?: unknown } | Error;

function stubFetch(reply: (seen: Seen, index: number) => Reply): Seen[] {
  const seen: Seen[] = [];
  vi.stubGlobal('fetch', async (url: string | URL, init: RequestInit = {}) => {
    const parsed = new URL(String(url));
    const [, service = '', verb = ''] =
      /^\/v1\/services\/([^:]+):(check|report)$/.exec(parsed.pathname) ?? [];
    const request: Seen = {
      url: parsed,
      verb: verb as Seen['verb'],
      service: decodeURIComponent(service),
      headers: Object.fromEntries(
        Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
          k.toLowerCase(),
          v,
        ]),
      ),
      body: JSON.parse(String(init.body)),
    };
    seen.push(request);
    const answer = reply(request, seen.length - 1);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  });
  return seen;
}

const ok = (seen: Seen): Reply =>
  seen.verb === 'check'
    ? { status: 200, body: { operationId: 'x', serviceConfigId: 'c' } }
    : { status: 200, body: { reportErrors: [], serviceConfigId: 'c' } };

afterEach(() => {
  vi.unstubAllGlobals();
});

function gateway(): GcpMeteringGateway {
  return new GcpMeteringGateway({
    baseUrl: `${BASE}/`,
    token: async () => 'ya29.token',
    http: { sleep: async () => {}, random: () => 0 },
  });
}

function report(
  overrides: Partial<Omit<MeteringReport, 'customer'>> & { service?: string } = {},
): MeteringReport {
  const { service, ...rest } = overrides;
  return {
    reportId: 'r-1',
    contractId: 'c-1',
    dimension: 'standard_requests',
    hourStart: HOUR,
    quantity: '1500',
    customer: {
      marketplace: 'gcp',
      providerId: 'acme',
      serviceName: service ?? SERVICE,
      usageReportingId: CONSUMER,
    },
    ...rest,
  };
}

function byReport(outcomes: readonly MeteringOutcome[]): Record<string, MeteringOutcome> {
  return Object.fromEntries(outcomes.map((o) => [o.reportId, o]));
}

describe('operation ids', () => {
  it('derives a version-5 UUID from the report id: stable, distinct, well formed', () => {
    // RFC 4122 appendix B style vector: the DNS namespace and "www.example.com".
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const id = operationIdFor(a);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(operationIdFor(a)).toBe(id);
        if (a !== b) expect(operationIdFor(b)).not.toBe(id);
      }),
    );
  });

  it('checks then reports the exact operation, and resends the same operation id', async () => {
    const seen = stubFetch(ok);
    const first = await gateway().report([report()]);
    await gateway().report([report()]);
    const operationId = operationIdFor('r-1');
    const operation = {
      operationId,
      operationName: GCP_OPERATION_NAME,
      consumerId: CONSUMER,
      startTime: '2026-03-02T10:00:00Z',
      endTime: '2026-03-02T11:00:00Z',
      metricValueSets: [
        { metricName: `${SERVICE}/standard_requests`, metricValues: [{ int64Value: '1500' }] },
      ],
    };
    expect(seen.map((s) => [s.verb, s.service, s.body])).toEqual([
      ['check', SERVICE, { operation }],
      ['report', SERVICE, { operations: [operation] }],
      ['check', SERVICE, { operation }],
      ['report', SERVICE, { operations: [operation] }],
    ]);
    expect(seen[0]?.headers.authorization).toBe('Bearer ya29.token');
    expect(first).toEqual([{ kind: 'accepted', reportId: 'r-1', marketplaceRef: operationId }]);
  });
});

describe('quantities and metrics', () => {
  it('sends int64 strings and refuses fractions, negatives and overflow without a call', async () => {
    const seen = stubFetch(ok);
    const outcomes = byReport(
      await gateway().report([
        report({ reportId: 'zero', quantity: '0' }),
        report({ reportId: 'whole', quantity: '42.00', dimension: 'other' }),
        report({ reportId: 'fraction', quantity: '0.5' }),
        report({ reportId: 'negative', quantity: '-3' }),
        report({ reportId: 'overflow', quantity: '9223372036854775808' }),
        report({ reportId: 'mid-hour', hourStart: '2026-03-02T10:15:00.000Z' }),
      ]),
    );
    expect(outcomes.zero?.kind).toBe('accepted');
    expect(outcomes.whole?.kind).toBe('accepted');
    for (const id of ['fraction', 'negative', 'overflow', 'mid-hour']) {
      expect(outcomes[id]?.kind).toBe('rejected');
    }
    const reported = seen.find((s) => s.verb === 'report')?.body.operations as Array<{
      metricValueSets: Array<{ metricValues: Array<{ int64Value: string }> }>;
    }>;
    expect(reported.map((o) => o.metricValueSets[0]?.metricValues[0]?.int64Value)).toEqual([
      '0',
      '42',
    ]);
    expect(seen.filter((s) => s.verb === 'check')).toHaveLength(2);
  });

  it('keeps any int64 exactly and names metrics under the service', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 9_223_372_036_854_775_807n }), (n) => {
        expect(gcpQuantity(n.toString())).toEqual({ value: n.toString() });
      }),
    );
    expect(metricNameFor(SERVICE, 'requests')).toBe(`${SERVICE}/requests`);
    expect(metricNameFor(SERVICE, `${SERVICE}/requests`)).toBe(`${SERVICE}/requests`);
  });

  it('refuses a report without a usageReportingId', async () => {
    const seen = stubFetch(ok);
    const bad = report();
    const outcomes = await gateway().report([
      { ...bad, customer: { ...bad.customer, usageReportingId: '' } as MeteringReport['customer'] },
    ]);
    expect(outcomes[0]?.kind).toBe('rejected');
    expect(seen).toHaveLength(0);
  });
});

describe('check', () => {
  it('rejects a report whose check has checkErrors and reports only the others', async () => {
    const seen = stubFetch((request) => {
      const operation = request.body.operation as { operationId: string } | undefined;
      if (request.verb === 'check' && operation?.operationId === operationIdFor('cancelled')) {
        return {
          status: 200,
          body: {
            operationId: operation.operationId,
            checkErrors: [{ code: 'SERVICE_NOT_ACTIVATED', detail: 'entitlement cancelled' }],
          },
        };
      }
      if (request.verb === 'check' && operation?.operationId === operationIdFor('backend')) {
        return {
          status: 200,
          body: { checkErrors: [{ code: 'BILLING_STATUS_UNAVAILABLE' }] },
        };
      }
      return ok(request);
    });
    const outcomes = byReport(
      await gateway().report([
        report({ reportId: 'fine' }),
        report({ reportId: 'cancelled', dimension: 'b' }),
        report({ reportId: 'backend', dimension: 'c' }),
      ]),
    );
    expect(outcomes.cancelled).toEqual({
      kind: 'rejected',
      reportId: 'cancelled',
      reason: 'checkErrors: SERVICE_NOT_ACTIVATED (entitlement cancelled)',
    });
    expect(outcomes.backend?.kind).toBe('unprocessed');
    expect(outcomes.fine?.kind).toBe('accepted');
    const reports = seen.filter((s) => s.verb === 'report');
    expect(reports).toHaveLength(1);
    expect(reports[0]?.body.operations).toHaveLength(1);
  });

  it('reports nothing and throws when a check stays unavailable', async () => {
    const seen = stubFetch((request, index) =>
      request.verb === 'check' && index > 0 ? { status: 503 } : ok(request),
    );
    await expect(
      gateway().report([report({ reportId: 'a' }), report({ reportId: 'b', dimension: 'b' })]),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    expect(seen.filter((s) => s.verb === 'report')).toHaveLength(0);
  });

  it('rejects a report whose check answers 400 or 404', async () => {
    stubFetch((request) =>
      request.verb === 'check' && request.service === OTHER_SERVICE
        ? { status: 404, body: { error: { code: 404, status: 'NOT_FOUND' } } }
        : ok(request),
    );
    const outcomes = byReport(
      await gateway().report([
        report({ reportId: 'a' }),
        report({ reportId: 'b', service: OTHER_SERVICE }),
      ]),
    );
    expect(outcomes.a?.kind).toBe('accepted');
    expect(outcomes.b?.kind).toBe('rejected');
  });
});

describe('report', () => {
  it('maps reportErrors per operation: rejected, unprocessed, duplicate', async () => {
    stubFetch((request) =>
      request.verb === 'check'
        ? ok(request)
        : {
            status: 200,
            body: {
              reportErrors: [
                {
                  operationId: operationIdFor('invalid'),
                  status: { code: 3, message: 'bad metric' },
                },
                { operationId: operationIdFor('busy'), status: { code: 14, message: 'try later' } },
                { operationId: operationIdFor('again'), status: { code: 6, message: 'exists' } },
                { operationId: 'not-ours', status: { code: 3 } },
              ],
            },
          },
    );
    const outcomes = byReport(
      await gateway().report(
        ['fine', 'invalid', 'busy', 'again'].map((id) => report({ reportId: id, dimension: id })),
      ),
    );
    expect(outcomes).toEqual({
      fine: { kind: 'accepted', reportId: 'fine', marketplaceRef: operationIdFor('fine') },
      invalid: {
        kind: 'rejected',
        reportId: 'invalid',
        reason: 'reportErrors: code 3 (bad metric)',
      },
      busy: { kind: 'unprocessed', reportId: 'busy', reason: 'reportErrors: code 14 (try later)' },
      again: { kind: 'duplicate', reportId: 'again', marketplaceRef: operationIdFor('again') },
    });
  });

  it('reports each service separately; a failing one is unprocessed when another succeeded', async () => {
    const seen = stubFetch((request) =>
      request.verb === 'report' && request.service === OTHER_SERVICE
        ? { status: 500 }
        : ok(request),
    );
    const outcomes = byReport(
      await gateway().report([
        report({ reportId: 'a' }),
        report({ reportId: 'b', service: OTHER_SERVICE }),
      ]),
    );
    expect(outcomes.a?.kind).toBe('accepted');
    expect(outcomes.b?.kind).toBe('unprocessed');
    expect(
      seen
        .filter((s) => s.verb === 'report')
        .map((s) => s.service)
        .sort(),
    ).toEqual([SERVICE, OTHER_SERVICE, OTHER_SERVICE, OTHER_SERVICE].sort());
  });

  it('throws when every report call stays unavailable, and on refused credentials', async () => {
    stubFetch((request) => (request.verb === 'report' ? { status: 429 } : ok(request)));
    await expect(gateway().report([report()])).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    vi.unstubAllGlobals();
    stubFetch(() => ({ status: 403, body: { error: { code: 403 } } }));
    await expect(gateway().report([report()])).rejects.toThrow(/credentials/);
  });

  it('reports each operation alone when a report of several is refused with 400', async () => {
    const seen = stubFetch((request) => {
      if (request.verb === 'check') return ok(request);
      const operations = request.body.operations as Array<{ operationId: string }>;
      return operations.length > 1 || operations[0]?.operationId === operationIdFor('bad')
        ? { status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT' } } }
        : ok(request);
    });
    const outcomes = byReport(
      await gateway().report(['good', 'bad'].map((id) => report({ reportId: id, dimension: id }))),
    );
    expect(outcomes.good?.kind).toBe('accepted');
    expect(outcomes.bad?.kind).toBe('rejected');
    expect(seen.filter((s) => s.verb === 'report')).toHaveLength(3);
  });
});
