// Proves commission plans and the commission run's wiring over real HTTP (the run itself is proven in test/unit/app/commission-run.test.ts and test/integration/store/commission-store.test.ts): WE-8's plan (Gold 10 % sourced, graduated accelerator, quarterly cap, hold until disbursed) is stored as version 1 and a change as version 2 without touching version 1; an invalid plan is refused with every problem at once and stores nothing; only finance and admins reach plans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previousPeriod } from '../../../lib/domain/calendar';
import type { Role } from '../../../lib/http/auth';
import { startTestStack, type TestStack } from '../pipeline/helpers';

type Json = Record<string, unknown>;

const WE8_PLAN = {
  planId: 'partner-standard',
  effectiveFrom: '2025-01-01',
  currency: 'USD',
  basis: 'recognized',
  rateTable: [
    { tier: 'Gold', dealType: 'sourced', ratePercent: '10' },
    { tier: 'Gold', dealType: 'influenced', ratePercent: '5' },
  ],
  accelerator: {
    mode: 'graduated',
    measure: { dealType: 'sourced' },
    bands: [
      { fromMinor: '0', toMinor: '10000000', upliftPercent: '0' },
      { fromMinor: '10000000', toMinor: '25000000', upliftPercent: '2' },
      { fromMinor: '25000000', upliftPercent: '4' },
    ],
  },
  caps: { perPartnerPerQuarterMinor: '2500000' },
  hold: { payWhen: 'disbursed' },
  minimumPayoutMinor: '5000',
  payoutTerm: 'NET-15',
  payoutSchedule: 'quarterly',
};

describe('commission plans over HTTP', () => {
  let test: TestStack;

  async function call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    roles: Role[] | null = ['finance'],
  ) {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (roles)
      headers.authorization = `Bearer ${await test.token(roles, roles.includes('partner') ? 'P-100' : undefined)}`;
    const response = await fetch(`${test.stack.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  beforeAll(async () => {
    test = await startTestStack();
  }, 60_000);
  afterAll(async () => {
    await test?.stack.stop();
  });

  it('adds versions, never overwriting one', async () => {
    const first = await call('POST', '/v1/commission-plans', WE8_PLAN);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      planId: 'partner-standard',
      version: 1,
      basis: 'recognized',
      caps: { perPartnerPerQuarterMinor: '2500000' },
      minimumPayoutMinor: '5000',
    });
    const second = await call('POST', '/v1/commission-plans', {
      ...WE8_PLAN,
      effectiveFrom: '2026-01-01',
      rateTable: [{ tier: 'Gold', dealType: 'sourced', ratePercent: '12' }],
    });
    expect(second.body.version).toBe(2);
    const versions = await call('GET', '/v1/commission-plans/partner-standard', undefined, [
      'admin',
    ]);
    const items = versions.body.versions as Json[];
    expect(items.map((v) => v.version)).toEqual([2, 1]);
    expect(items[1]?.rateTable).toEqual(first.body.rateTable);
    const list = await call('GET', '/v1/commission-plans');
    expect((list.body.items as Json[]).map((p) => [p.planId, p.version])).toEqual([
      ['partner-standard', 2],
    ]);
  });

  it('refuses an invalid plan with every problem and stores nothing', async () => {
    const invalid = await call('POST', '/v1/commission-plans', {
      ...WE8_PLAN,
      planId: 'broken',
      currency: 'EUR',
      rateTable: [{ tier: 'Gold', dealType: 'sourced', ratePercent: '140' }],
      accelerator: {
        mode: 'graduated',
        bands: [
          { fromMinor: '100', toMinor: '50', upliftPercent: '2' },
          { fromMinor: '70', upliftPercent: '4' },
        ],
      },
    });
    expect(invalid.status).toBe(400);
    const paths = ((invalid.body.error as Json).details as { path: string }[]).map((d) => d.path);
    expect(paths).toContain('body.currency');
    expect(paths.some((p) => p.startsWith('body.rateTable.0'))).toBe(true);
    expect(paths.some((p) => p.startsWith('body.accelerator.bands'))).toBe(true);
    expect((await call('GET', '/v1/commission-plans/broken')).status).toBe(404);
  });

  it('runs commission for an ended month with the configured plan, and refuses a month not over', async () => {
    const lastMonth = previousPeriod(new Date().toISOString().slice(0, 7));
    const run = await call('POST', '/v1/commission-runs', { period: lastMonth });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      period: lastMonth,
      planId: 'partner-standard',
      currency: 'USD',
      planVersion: 2,
      problemCount: 0,
      totals: { earnedMinor: '0', heldMinor: '0' },
    });
    const future = await call('POST', '/v1/commission-runs', { period: '2100-01' });
    expect(future.status).toBe(400);
    expect((future.body.error as Json).code).toBe('period_not_over');
    expect((await call('POST', '/v1/commission-runs', { period: '2025-13' })).status).toBe(400);
    expect(
      (await call('POST', '/v1/commission-runs', { period: lastMonth }, ['partner'])).status,
    ).toBe(403);
  });

  it('lets only finance and admins near plans', async () => {
    expect((await call('GET', '/v1/commission-plans', undefined, ['partner'])).status).toBe(403);
    expect((await call('POST', '/v1/commission-plans', WE8_PLAN, ['seller'])).status).toBe(403);
    expect((await call('GET', '/v1/commission-plans', undefined, null)).status).toBe(401);
  });
});
