// Proves billed-basis commission is posted with the invoice, in the pipeline's transaction, on DynamoDB Local: WE-1's first installment (120,000.00, 12 months) billed by the billing job carries P-100's commission (10 %, held until disbursed: Dr 6100 / Cr 2110 12,000.00) in the same commit as the invoice; January's month-end run agrees and posts no second accrual, and the ledger's 2110 equals the run's held balance.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommission } from '../../../lib/app/commission-run';
import { type RevenueRunDeps, runBilling } from '../../../lib/app/revenue/runs';
import { importScenario } from '../../../lib/app/revenue/scenario-import';
import { ScenarioSchema } from '../../../lib/domain/revenue/preview';
import { getContainer } from '../../../lib/runtime/container';
import { EVENTS_DIR, startTestStack, type TestStack } from '../pipeline/helpers';
import { journalOf, netOf } from './journal-helpers';

const json = (path: string) => JSON.parse(readFileSync(join(EVENTS_DIR, path), 'utf8'));

describe('billed-basis commission with the invoice (WE-1, P-100)', () => {
  let test: TestStack;
  let contractId: string;
  const deps = (now: string): RevenueRunDeps => ({ ...getContainer(), clock: { now: () => now } });

  async function post(path: string, body: unknown) {
    const response = await fetch(`${test.stack.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await test.token(['admin'])}`,
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const journal = () => journalOf(test, contractId);
  const net = netOf;

  beforeAll(async () => {
    test = await startTestStack();
    const imported = await importScenario(
      getContainer(),
      ScenarioSchema.parse(json('scenarios/we-1.json')),
      { through: '2025-01-01' },
    );
    contractId = imported.contracts['A-1'] ?? '';
    expect((await post('/v1/partners', json('partners/partner.json'))).status).toBe(201);
    const plan = { ...json('partners/commission-plan.json'), basis: 'billed' };
    delete plan.accelerator;
    expect((await post('/v1/commission-plans', plan)).status).toBe(201);
    const touch = await post('/v1/touches', {
      partnerId: 'P-100',
      role: 'sourced',
      at: '2024-12-01T00:00:00Z',
      source: 'co-sell-referral',
      contractId,
    });
    expect(touch.status, JSON.stringify(touch.body)).toBe(201);
  }, 90_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('posts the commission with the invoice, and the month-end run posts no second accrual', async () => {
    const billed = await runBilling(deps('2025-01-01T06:00:00Z'), '2025-01-01');
    expect(billed.problems).toEqual([]);
    const afterBilling = await journal();
    const invoice = afterBilling.find((e) => e.rule === 'invoice');
    const accrual = afterBilling.filter((e) => e.rule === 'commission-accrual');
    expect(accrual).toHaveLength(1);
    expect(accrual[0]).toMatchObject({ date: invoice?.date, source: { kind: 'event' } });
    expect(net(accrual, '6100')).toBe(1_200_000n);
    expect(net(accrual, '2110')).toBe(-1_200_000n);
    expect(accrual[0]?.legs.every((l) => l.partnerId === 'P-100')).toBe(true);

    const january = await runCommission(
      { ...getContainer(), clock: { now: () => '2025-02-01T06:00:00Z' } },
      { period: '2025-01' },
    );
    expect(january.problems).toEqual([]);
    expect(january.totals).toMatchObject({ earnedMinor: 1_200_000n, heldMinor: 1_200_000n });
    const afterRun = (await journal()).filter((e) => e.rule.startsWith('commission-'));
    expect(afterRun.filter((e) => e.rule === 'commission-accrual')).toHaveLength(1);
    expect(net(afterRun, '2110')).toBe(-1_200_000n);
    expect(net(afterRun, '6100')).toBe(1_200_000n);
  });
});
