// Proves reconciliation end to end on DynamoDB Local: `agora reconcile` against a seeded ledger matches the billed installment, flags what the ledger lacks with its file line, records the payout once as a DisbursementReceived event (with its bank trace) however often the file is run, prints JSON/CSV/HTML, refuses a wrong file at its header writing nothing, runs against an empty ledger; finance reads the stored result over HTTP and approves a proposed true-up, which posts exactly once and survives a re-run; true-ups are cumulative per line (a moved difference posts only the change, a line that matches again is reversed), two runs at once never both post one line, and the ledger is read several contracts at once with an order-independent result.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileReport } from '../../../lib/app/reconciliation';
import { runBilling } from '../../../lib/app/revenue/runs';
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
import { startTestStack, type TestStack } from '../pipeline/helpers';

const contract = (id: string, amountMinor: string) => ({
  type: 'ContractCreated',
  contractId: id,
  marketplace: 'aws',
  offerType: 'private',
  renewal: false,
  effectiveAt: '2025-06-01',
  currency: 'USD',
  term: { start: '2025-06-01', end: '2026-06-01' },
  totalMinor: amountMinor,
  installments: [{ date: '2025-06-01', amountMinor }],
});

const SCENARIO = ScenarioSchema.parse({
  asOf: '2025-06-30',
  events: [contract('R-1', '1000000'), contract('R-2', '500000')],
});

/** R-1 billed and paid out (header = line 1); A-9, lines 9–10, is nothing the ledger knows. */
const FEED = awsCsv([
  ...invoiceRows({
    id: 'r1',
    agreement: 'R-1',
    date: '2025-06-01',
    due: '2025-07-01',
    gross: '10000.00',
    fee: '-300.00',
  }),
  ...disbursedRows({
    id: 'r1',
    agreement: 'R-1',
    payout: 'be-payout-r1',
    gross: '10000.00',
    fee: '-300.00',
  }),
  payoutRow({ payout: 'be-payout-r1', amount: '9700.00', date: '2025-06-20', trace: 'TRACE-0620' }),
  ...invoiceRows({
    id: 'r2',
    agreement: 'R-2',
    date: '2025-06-01',
    due: '2025-07-01',
    gross: '5000.00',
    fee: '-150.00',
  }),
  ...invoiceRows({
    id: 'a9',
    agreement: 'A-9',
    date: '2025-06-05',
    gross: '700.00',
    fee: '-21.00',
  }),
]);

/** R-2 billed 0.40 more than the ledger holds: within a 1.00 tolerance. */
const FEED_OFF_BY_CENTS = awsCsv(
  invoiceRows({
    id: 'r2',
    agreement: 'R-2',
    date: '2025-06-01',
    due: '2025-07-01',
    gross: '5000.40',
    fee: '-150.01',
  }),
);

interface ReconcileJson {
  reconciliationId: string;
  summary: { counts: { matched: number; exceptions: number; rowErrors: number } };
  matched: { contractId: string; internalId: string; level: string }[];
  exceptions: {
    class: string;
    reasonCode: string;
    line: number | null;
    keys: { agreementId: string | null };
  }[];
  rowErrors: unknown[];
  aging: { items: unknown[] };
  rollForward: { account: string; ties: boolean }[];
  withinTolerance: unknown[];
  disbursements: { disbursementId: string; outcome: string }[];
}

describe('reconciliation of an AWS billing event feed', () => {
  let test: TestStack;
  let env: Record<string, string>;
  let ids: Record<string, string>;
  let feedPath: string;

  beforeAll(async () => {
    test = await startTestStack();
    env = { AGORA_DATA_DIR: test.dataDir, AGORA_PORT: String(test.stack.port) };
    ids = (await importScenario(getContainer(), SCENARIO, { through: '2025-06-30' })).contracts;
    const deps = { ...getContainer(), clock: { now: () => '2025-06-30T23:00:00Z' } };
    expect((await runBilling(deps, '2025-06-01')).invoices).toBe(2);
    feedPath = join(test.dataDir, 'billing-events.csv');
    writeFileSync(feedPath, FEED);
  }, 90_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  async function disbursementEvents(contractId: string) {
    const page = await test.get(`/v1/contracts/${contractId}/events?limit=200`);
    return (page.body.items as { event: { type: string; payload: Record<string, unknown> } }[])
      .map((e) => e.event)
      .filter((e) => e.type === 'DisbursementReceived');
  }

  it('matches the ledger line by line, flags the unknown agreement with its line, records the payout once', async () => {
    const run = await agora(
      ['reconcile', feedPath, '--source', 'aws-billing-events', '--as-of', '2025-06-30', '--json'],
      env,
    );
    expect(run.stderr).toMatch(/reading +\[/);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as ReconcileJson;
    const r1 = ids['R-1'] ?? '';
    expect(doc.matched).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          contractId: r1,
          level: 'billing',
          internalId: 'invoice:inst-1-2025-06-01',
        }),
      ]),
    );
    expect(doc.exceptions).toEqual([
      expect.objectContaining({
        class: 'unmatched_external',
        keys: expect.objectContaining({ agreementId: 'A-9' }),
        line: 9,
      }),
    ]);
    expect(doc.rowErrors).toEqual([]);
    expect(doc.rollForward.map((r) => [r.account, r.ties])).toEqual([['1210', true]]);
    expect(doc.disbursements).toEqual([
      expect.objectContaining({ disbursementId: 'be-payout-r1', outcome: 'recorded' }),
    ]);
    const recorded = await disbursementEvents(r1);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.payload).toMatchObject({
      amountMinor: '970000',
      bankTraceId: 'TRACE-0620',
    });

    // The same file again: the same reconciliation id, and the payout is not recorded twice.
    const again = await agora(
      ['reconcile', feedPath, '--source', 'aws-billing-events', '--as-of', '2025-06-30', '--json'],
      env,
    );
    const second = JSON.parse(again.stdout) as ReconcileJson;
    expect(second.reconciliationId).toBe(doc.reconciliationId);
    expect(second.disbursements.every((d) => d.outcome !== 'recorded')).toBe(true);
    expect(await disbursementEvents(r1)).toHaveLength(1);
  }, 120_000);

  it('prints CSV and HTML with the exception in them, the HTML escaped', async () => {
    const csv = await agora(
      ['reconcile', feedPath, '--source', 'aws-billing-events', '--as-of', '2025-06-30', '--csv'],
      env,
    );
    expect(csv.code).toBe(1);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^outcome,class,reason_code,level,contract_id/);
    expect(lines.filter((l) => l.startsWith('exception,unmatched_external'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('matched,'))).toBe(true);
    const html = await agora(
      ['reconcile', feedPath, '--source', 'aws-billing-events', '--as-of', '2025-06-30', '--html'],
      env,
    );
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toContain('unmatched_external');
    expect(html.stdout).not.toMatch(/<script/i);
  }, 120_000);

  it('refuses a file of the wrong kind at its header and stores nothing', async () => {
    const before = await test.get('/v1/reconciliations?limit=50', ['finance']);
    const wrong = join(test.dataDir, 'wrong.csv');
    writeFileSync(wrong, 'date,amount,reference\n2025-06-20,9700.00,TRACE-0620\n');
    const run = await agora(
      ['reconcile', wrong, '--source', 'aws-billing-events', '--as-of', '2025-06-30', '--json'],
      env,
    );
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      error: { message: expect.stringMatching(/billing_event_id/) },
    });
    const after = await test.get('/v1/reconciliations?limit=50', ['finance']);
    expect(after.body.items).toHaveLength((before.body.items as unknown[]).length);
  }, 60_000);

  it('serves the stored result to finance only, list by list', async () => {
    expect((await test.get('/v1/reconciliations', ['seller'])).status).toBe(403);
    const list = await test.get('/v1/reconciliations?limit=10', ['finance']);
    expect(list.status).toBe(200);
    const [latest] = list.body.items as {
      reconciliationId: string;
      exceptions: number;
      source: string;
    }[];
    expect(latest).toMatchObject({ source: 'aws-billing-events', exceptions: 1 });
    const one = await test.get(`/v1/reconciliations/${latest?.reconciliationId}`, ['finance']);
    expect(one.status).toBe(200);
    const lists = one.body.lists as Record<
      string,
      { total: number; items: Record<string, unknown>[] }
    >;
    expect(lists.exceptions?.total).toBe(1);
    expect(lists.matched?.items[0]).toMatchObject({
      expectedMinor: expect.stringMatching(/^\d+$/),
    });
    const page = await test.get(
      `/v1/reconciliations/${latest?.reconciliationId}/items?list=matched&limit=1`,
      ['finance'],
    );
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toBe('1');
    expect(
      (await test.get('/v1/reconciliations/rec-000000000000000000000000', ['finance'])).status,
    ).toBe(404);
    expect((await test.get('/v1/reconciliations/not-an-id', ['finance'])).status).toBe(400);
  });

  /** Reconciles a feed in-process with a 1.00 installment tolerance. */
  async function reconcileWithTolerance(csv: string, mode: 'post' | 'propose') {
    return reconcileReport(
      {
        ...getContainer(),
        reconciliationSettings: {
          trueUpMode: mode,
          tolerances: {
            installment: { absolute: '1.00', relative: '0' },
            fee: { absolute: '0.05', relative: '0' },
          },
        },
      },
      {
        source: 'aws-billing-events',
        asOf: '2025-06-30',
        by: 'test',
        file: {
          name: 'r2.csv',
          sizeBytes: null,
          open: async function* () {
            yield Buffer.from(csv);
          },
        },
      },
    );
  }

  /** R-2's revenue true-ups in the journal, net (credit positive). */
  async function r2TrueUps() {
    const journal = await test.get(`/v1/journal?contractId=${ids['R-2']}&limit=200`, ['finance']);
    const entries = (
      journal.body.items as {
        entryId: string;
        rule: string;
        legs: { account: string; debitMinor: string; creditMinor: string }[];
      }[]
    ).filter((e) => e.rule === 'reconciliation-true-up');
    const net = entries
      .flatMap((e) => e.legs.filter((l) => l.account === '4000'))
      .reduce((sum, l) => sum + BigInt(l.creditMinor) - BigInt(l.debitMinor), 0n);
    return { ids: entries.map((e) => e.entryId), net };
  }

  it('proposes a within-tolerance true-up; approving it posts one entry, once', async () => {
    const { record, trueUps } = await reconcileWithTolerance(FEED_OFF_BY_CENTS, 'propose');
    const proposed = trueUps.find((t) => t.status === 'proposed' && t.level === 'billing');
    expect(proposed).toMatchObject({ targetMinor: 40n, deltaMinor: 40n, account: '4000' });
    const path = `/v1/reconciliations/${record.reconciliationId}/true-ups/${proposed?.trueUpId}/approve`;
    expect((await test.post(path, {}, { roles: ['seller'] })).status).toBe(403);
    const approved = await test.post(path, {}, { roles: ['finance'] });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', deltaMinor: '40' });
    expect((await test.post(path, {}, { roles: ['finance'] })).status).toBe(409);
    expect(await r2TrueUps()).toEqual({ ids: [proposed?.trueUpId], net: 40n });
    // Running the same file again keeps the approval (it lives apart from the result).
    await reconcileWithTolerance(FEED_OFF_BY_CENTS, 'propose');
    const view = await test.get(`/v1/reconciliations/${record.reconciliationId}`, ['finance']);
    const again = (view.body.trueUps as { trueUpId: string; status: string }[]).find(
      (t) => t.trueUpId === proposed?.trueUpId,
    );
    expect(again?.status).toBe('approved');
  }, 60_000);

  it('a later difference posts only the change; a line that matches again is reversed to zero', async () => {
    const moved = FEED_OFF_BY_CENTS.replace('5000.40', '5000.70');
    const { trueUps } = await reconcileWithTolerance(moved, 'post');
    expect(trueUps.find((t) => t.level === 'billing')).toMatchObject({
      status: 'posted',
      targetMinor: 70n,
      postedBeforeMinor: 40n,
      deltaMinor: 30n,
    });
    expect((await r2TrueUps()).net).toBe(70n);
    // The same file again changes nothing.
    const same = await reconcileWithTolerance(moved, 'post');
    expect(same.trueUps.find((t) => t.level === 'billing')?.status).toBe('unchanged');
    expect((await r2TrueUps()).net).toBe(70n);
    // The marketplace corrects its invoice to the ledger's amount: the true-up is reversed.
    const exact = FEED_OFF_BY_CENTS.replace('5000.40', '5000.00').replace('-150.01', '-150.00');
    const reversed = await reconcileWithTolerance(exact, 'post');
    expect(reversed.trueUps).toEqual([
      expect.objectContaining({ kind: 'reversal', status: 'posted', deltaMinor: -70n }),
    ]);
    expect((await r2TrueUps()).net).toBe(0n);
  }, 60_000);

  it('posts a return to an earlier difference again, and records the payout of that invoice in the same run', async () => {
    // After 40 → 70 → 0 above, the same 0.40 again (a new entry, not the first one's id), and
    // AWS's payout of 5,000.40 − 150.01: more than the book's receivable by exactly what this
    // run's true-ups move on it, so it matches and is recorded in the same run.
    const paid = awsCsv([
      ...invoiceRows({
        id: 'r2',
        agreement: 'R-2',
        date: '2025-06-01',
        due: '2025-07-01',
        gross: '5000.40',
        fee: '-150.01',
      }),
      ...disbursedRows({
        id: 'r2',
        agreement: 'R-2',
        payout: 'be-payout-r2',
        gross: '5000.40',
        fee: '-150.01',
      }),
      payoutRow({ payout: 'be-payout-r2', amount: '4850.39', date: '2025-06-25', trace: 'T-0625' }),
    ]);
    const { trueUps, disbursements, result } = await reconcileWithTolerance(paid, 'post');
    expect(trueUps.find((t) => t.level === 'billing')).toMatchObject({
      status: 'posted',
      targetMinor: 40n,
      deltaMinor: 40n,
    });
    expect((await r2TrueUps()).net).toBe(40n);
    expect(result.exceptions.filter((e) => e.contractId === ids['R-2'])).toEqual([]);
    expect(disbursements).toEqual([
      expect.objectContaining({ outcome: 'recorded', amountMinor: 485_039n, problem: null }),
    ]);
    // The same file again: everything is in the ledger, nothing new is recorded.
    const again = await reconcileWithTolerance(paid, 'post');
    expect(again.disbursements.filter((d) => d.outcome === 'recorded')).toEqual([]);
    expect((await r2TrueUps()).net).toBe(40n);
  }, 60_000);

  it('two runs at once that find different differences for one line post only one of them', async () => {
    // Both read the line at 0.40 and plan its next entry; one targets 0.55, the other 0.85.
    // Without a claim on the line's next slot both would post (0.40 + 0.15 + 0.45).
    const to55 = FEED_OFF_BY_CENTS.replace('5000.40', '5000.55');
    const to85 = FEED_OFF_BY_CENTS.replace('5000.40', '5000.85');
    const runs = await Promise.all([
      reconcileWithTolerance(to55, 'post'),
      reconcileWithTolerance(to85, 'post'),
    ]);
    const billing = runs.map((run) => run.trueUps.find((t) => t.level === 'billing'));
    // The line holds one of the two differences, never their sum.
    const net = (await r2TrueUps()).net;
    expect([55n, 85n]).toContain(net);
    // Each run posted its change or was told why not (a run that read after the other posted
    // moved the line on from there).
    for (const t of billing) {
      expect(t?.status === 'posted' || (t?.status === 'failed' && t.problem !== null)).toBe(true);
    }
    // Run again, the later file's difference is posted on top of what is there.
    const again = await reconcileWithTolerance(to85, 'post');
    expect(again.trueUps.find((t) => t.level === 'billing')?.status).toBe(
      net === 85n ? 'unchanged' : 'posted',
    );
    expect((await r2TrueUps()).net).toBe(85n);
    // Back to 0.40 for the tests after this one.
    await reconcileWithTolerance(FEED_OFF_BY_CENTS, 'post');
    expect((await r2TrueUps()).net).toBe(40n);
  }, 60_000);

  it('reads the ledger several contracts at once, with a result that does not depend on which read ends first', async () => {
    const container = getContainer();
    let inFlight = 0;
    let mostInFlight = 0;
    // The first contract listed answers last: its pages reach the builder after the others'.
    const slowFirst = {
      ...container.ledger,
      entries: async (contractId: string, page: Parameters<typeof container.ledger.entries>[1]) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          if (contractId === ids['R-1']) await new Promise((done) => setTimeout(done, 80));
          return await container.ledger.entries(contractId, page);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const run = (ledger: typeof container.ledger) =>
      reconcileReport(
        { ...container, ledger },
        {
          source: 'aws-billing-events',
          asOf: '2025-06-30',
          by: 'test',
          act: false,
          file: {
            name: 'feed.csv',
            sizeBytes: null,
            open: async function* () {
              yield Buffer.from(FEED);
            },
          },
        },
      );
    const plain = await run(container.ledger);
    const slow = await run(slowFirst as typeof container.ledger);
    expect(mostInFlight).toBeGreaterThan(1);
    expect(slow.result).toEqual(plain.result);
  }, 60_000);

  it('reports every billed line as unmatched and records nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agora-reconcile-'));
    const file = join(dataDir, 'feed.csv');
    writeFileSync(file, FEED);
    const run = await agora(
      ['reconcile', file, '--source', 'aws-billing-events', '--as-of', '2025-06-30', '--json'],
      { AGORA_DATA_DIR: dataDir, AGORA_PORT: '1' },
    );
    expect(run.code).toBe(1);
    // It never reads a marketplace, so it starts no simulator.
    expect(run.stderr).not.toMatch(/marketplace simulators/);
    const doc = JSON.parse(run.stdout) as ReconcileJson;
    expect(doc.summary.counts.matched).toBe(0);
    expect(doc.exceptions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(doc.exceptions.map((e) => e.class))).toEqual(new Set(['unmatched_external']));
    expect(doc.disbursements.every((d) => d.outcome !== 'recorded')).toBe(true);
  }, 120_000);
});
