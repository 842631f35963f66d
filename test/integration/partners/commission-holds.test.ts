// Proves held commission is released when the payout is recorded, end to end on DynamoDB Local over real HTTP: WE-1's contract (first installment 120,000.00 billed in January 2025) sourced by P-100 under a plan that holds commission until the invoice is disbursed; January's run holds 10 % of the month's recognized revenue; recording the 116,400.00 payout through POST /v1/disbursements releases it at once (Dr 2110 / Cr 2100, dated the payout), a retry releases nothing more, and February's run counts the release without posting it again.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommission } from '../../../lib/app/commission-run';
import { type RevenueRunDeps, runBilling, runRecognition } from '../../../lib/app/revenue/runs';
import { importScenario } from '../../../lib/app/revenue/scenario-import';
import { ScenarioSchema } from '../../../lib/domain/revenue/preview';
import type { Role } from '../../../lib/http/auth';
import { getContainer } from '../../../lib/runtime/container';
import { EVENTS_DIR, startTestStack, type TestStack } from '../pipeline/helpers';
import { journalOf, netOf } from './journal-helpers';

const json = (path: string) => JSON.parse(readFileSync(join(EVENTS_DIR, path), 'utf8'));

describe('commission held until disbursed, released by the payout (WE-1, P-100)', () => {
  let test: TestStack;
  let contractId: string;
  const deps = (now: string): RevenueRunDeps => ({ ...getContainer(), clock: { now: () => now } });
  const commissionDeps = (now: string) => ({ ...getContainer(), clock: { now: () => now } });

  async function post(path: string, body: unknown, roles: Role[] = ['admin']) {
    const response = await fetch(`${test.stack.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await test.token(roles)}`,
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const commissionEntries = () => journalOf(test, contractId, 'commission-');
  const net = netOf;

  beforeAll(async () => {
    test = await startTestStack();
    const imported = await importScenario(
      getContainer(),
      ScenarioSchema.parse(json('scenarios/we-1.json')),
      { through: '2025-01-01' },
    );
    contractId = imported.contracts['A-1'] ?? '';
    expect(contractId).not.toBe('');
    expect((await post('/v1/partners', json('partners/partner.json'))).status).toBe(201);
    expect((await post('/v1/commission-plans', json('partners/commission-plan.json'))).status).toBe(
      201,
    );
    const touch = await post('/v1/touches', {
      partnerId: 'P-100',
      role: 'sourced',
      at: '2024-12-01T00:00:00Z',
      source: 'co-sell-referral',
      contractId,
    });
    expect(touch.status, JSON.stringify(touch.body)).toBe(201);
    await runBilling(deps('2025-01-01T06:00:00Z'), '2025-01-01');
    const recognized = await runRecognition(deps('2025-02-01T06:00:00Z'), '2025-01');
    expect(recognized.problems).toEqual([]);
  }, 90_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('holds January, releases it when the payout is recorded, and February counts it once', async () => {
    const january = await runCommission(commissionDeps('2025-02-01T06:00:00Z'), {
      period: '2025-01',
    });
    expect(january.problems).toEqual([]);
    // WE-1: 10,191.78 recognized in January × 10 % = 1,019.18, all held (invoice not paid out).
    expect(january.totals).toMatchObject({ earnedMinor: 101_918n, heldMinor: 101_918n });
    expect(net(await commissionEntries(), '2110')).toBe(-101_918n);

    const payout = {
      contractId,
      disbursementId: 'DISB-2025-02-14',
      date: '2025-02-14',
      currency: 'USD',
      amountMinor: '11640000',
    };
    const recorded = await post('/v1/disbursements', payout, ['finance']);
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
    expect(recorded.body.events).toEqual(['DisbursementReceived']);
    const afterPayout = await commissionEntries();
    const releases = afterPayout.filter((e) => e.rule === 'commission-release');
    expect(releases.map((e) => [e.date, net([e], '2110'), net([e], '2100')])).toEqual([
      ['2025-02-14', 101_918n, -101_918n],
    ]);
    expect(net(afterPayout, '2110')).toBe(0n);
    // The same payout sent again changes nothing.
    expect((await post('/v1/disbursements', payout, ['finance'])).body.events).toEqual([]);
    expect(await commissionEntries()).toHaveLength(afterPayout.length);

    const february = await runCommission(commissionDeps('2025-03-01T06:00:00Z'), {
      period: '2025-02',
    });
    expect(february.problems).toEqual([]);
    const afterRun = await commissionEntries();
    expect(afterRun.filter((e) => e.rule === 'commission-release')).toHaveLength(1);
    const state = await getContainer().commissions.state('P-100', '2025-02');
    expect(state?.closing.heldMinor).toBe(0n);
    expect(state?.heldLines).toEqual([]);
    // 2110 and 2100 in the ledger agree with the run's closing balances for the partner.
    expect(net(afterRun, '2110')).toBe(-(state?.closing.heldMinor ?? 0n));
    expect(net(afterRun, '2100')).toBe(-(state?.closing.payableMinor ?? 0n));
  });

  it('issues January’s and February’s statements over HTTP, readable by P-100 only, chained and verified', async () => {
    for (const period of ['2025-01', '2025-02']) {
      const run = await post('/v1/statement-runs', { period }, ['finance']);
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      expect(run.body, JSON.stringify(run.body.problems)).toMatchObject({
        problemCount: 0,
        issued: [{ partnerId: 'P-100' }],
      });
    }
    const again = await post('/v1/statement-runs', { period: '2025-01' }, ['finance']);
    expect(again.body).toMatchObject({ issued: [], alreadyIssued: ['P-100'] });

    const fetchAs = async (path: string, roles: Role[] | null, partnerId?: string) =>
      fetch(`${test.stack.url}${path}`, {
        headers: roles ? { authorization: `Bearer ${await test.token(roles, partnerId)}` } : {},
      });
    const pdf = await fetchAs('/v1/partners/P-100/statements/2025-01', ['partner'], 'P-100');
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    const csv = await fetchAs('/v1/partners/P-100/statements/2025-01?format=csv', ['finance']);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    // January: 1,019.18 earned and held until the payout.
    expect(await csv.text()).toContain('1019.18');
    const jsonStatement = await fetchAs('/v1/partners/P-100/statements/2025-02?format=json', [
      'admin',
    ]);
    expect(jsonStatement.headers.get('x-statement-id')).toBeTruthy();
    // Another partner's token, or no token: nothing to see.
    expect(
      (await fetchAs('/v1/partners/P-100/statements/2025-01', ['partner'], 'P-200')).status,
    ).toBe(404);
    expect((await fetchAs('/v1/partners/P-100/statements', ['partner'], 'P-200')).status).toBe(404);
    // A seller role on a partner's token does not widen what it sees.
    expect(
      (await fetchAs('/v1/partners/P-100/statements', ['partner', 'seller'], 'P-200')).status,
    ).toBe(404);
    expect((await fetchAs('/v1/partners/P-100/statements/2025-01', null)).status).toBe(401);
    expect((await fetchAs('/v1/partners/P-100/statements/2025-13', ['finance'])).status).toBe(400);

    const list = await fetchAs('/v1/partners/P-100/statements', ['partner'], 'P-100');
    const items = (
      (await list.json()) as {
        items: { period: string; sequence: number; previousHash: string | null; hash: string }[];
      }
    ).items;
    expect(items.map((i) => [i.period, i.sequence])).toEqual([
      ['2025-02', 2],
      ['2025-01', 1],
    ]);
    expect(items[0]?.previousHash).toBe(items[1]?.hash);
    const verified = await post('/v1/partners/P-100/statements/verify', {}, ['finance']);
    expect(verified.body).toMatchObject({ ok: true, statements: 2 });
    // The PDF went to the partner's statement contact through the outbox.
    const outbox = await readdir(join(test.dataDir, 'outbox'));
    expect(outbox.filter((name) => name.endsWith('.eml')).length).toBeGreaterThanOrEqual(2);
  });
});
