// Proves `agora reconcile` releases held commission when it records a payout, as the Lambda path does: WE-1's first installment sourced by P-100 under a plan that holds until disbursed; January's run holds 1,019.18; the billing event feed's matched payout becomes a DisbursementReceived that releases it (Dr 2110 / Cr 2100) once, and a re-run of the same file releases nothing more.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommission } from '../../../lib/app/commission-run';
import { type RevenueRunDeps, runBilling, runRecognition } from '../../../lib/app/revenue/runs';
import { importScenario } from '../../../lib/app/revenue/scenario-import';
import { ScenarioSchema } from '../../../lib/domain/revenue/preview';
import { getContainer } from '../../../lib/runtime/container';
import { agora } from '../../e2e/agora-cli';
import {
  awsCsv,
  disbursedRows,
  invoiceRows,
  payoutRow,
} from '../../unit/domain/reconciliation/helpers';
import { journalOf, netOf } from '../partners/journal-helpers';
import { EVENTS_DIR, startTestStack, type TestStack } from '../pipeline/helpers';

const json = (path: string) => JSON.parse(readFileSync(join(EVENTS_DIR, path), 'utf8'));

/** WE-1's first installment billed, paid out net of the 3 % fee on 2025-02-14. */
const FEED = awsCsv([
  ...invoiceRows({
    id: 'a1',
    agreement: 'A-1',
    date: '2025-01-01',
    due: '2025-01-31',
    gross: '120000.00',
    fee: '-3600.00',
  }),
  ...disbursedRows({
    id: 'a1',
    agreement: 'A-1',
    payout: 'be-payout-a1',
    gross: '120000.00',
    fee: '-3600.00',
  }),
  payoutRow({
    payout: 'be-payout-a1',
    amount: '116400.00',
    date: '2025-02-14',
    trace: 'TRACE-0214',
  }),
]);

describe('agora reconcile releases commission held until the payout', () => {
  let test: TestStack;
  let contractId: string;
  let feedPath: string;
  const deps = (now: string): RevenueRunDeps => ({ ...getContainer(), clock: { now: () => now } });

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
    expect(
      (await test.post('/v1/partners', json('partners/partner.json'), { roles: ['admin'] })).status,
    ).toBe(201);
    expect(
      (
        await test.post('/v1/commission-plans', json('partners/commission-plan.json'), {
          roles: ['admin'],
        })
      ).status,
    ).toBe(201);
    const touch = await test.post(
      '/v1/touches',
      {
        partnerId: 'P-100',
        role: 'sourced',
        at: '2024-12-01T00:00:00Z',
        source: 'co-sell-referral',
        contractId,
      },
      { roles: ['admin'] },
    );
    expect(touch.status, JSON.stringify(touch.body)).toBe(201);
    await runBilling(deps('2025-01-01T06:00:00Z'), '2025-01-01');
    expect((await runRecognition(deps('2025-02-01T06:00:00Z'), '2025-01')).problems).toEqual([]);
    const january = await runCommission(
      { ...getContainer(), clock: { now: () => '2025-02-01T06:00:00Z' } },
      { period: '2025-01' },
    );
    expect(january.problems).toEqual([]);
    expect(january.totals).toMatchObject({ heldMinor: 101_918n });
    feedPath = join(test.dataDir, 'billing-events.csv');
    writeFileSync(feedPath, FEED);
  }, 90_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('records the payout once and releases the hold once', async () => {
    expect(net(await commissionEntries(), '2110')).toBe(-101_918n);
    const env = { AGORA_DATA_DIR: test.dataDir, AGORA_PORT: String(test.stack.port) };
    const args = [
      'reconcile',
      feedPath,
      '--source',
      'aws-billing-events',
      '--as-of',
      '2025-02-28',
      '--json',
    ];
    const first = await agora(args, env);
    const doc = JSON.parse(first.stdout) as { disbursements: { outcome: string }[] };
    expect(
      doc.disbursements.map((d) => d.outcome),
      first.stderr,
    ).toEqual(['recorded']);
    const afterPayout = await commissionEntries();
    const releases = afterPayout.filter((e) => e.rule === 'commission-release');
    expect(releases.map((e) => [net([e], '2110'), net([e], '2100')])).toEqual([
      [101_918n, -101_918n],
    ]);
    expect(net(afterPayout, '2110')).toBe(0n);

    const again = await agora(args, env);
    const second = JSON.parse(again.stdout) as { disbursements: { outcome: string }[] };
    // The ledger now holds the payout: nothing is recorded (or released) again.
    expect(second.disbursements.filter((d) => d.outcome === 'recorded')).toEqual([]);
    expect(await commissionEntries()).toHaveLength(afterPayout.length);
  });
});
