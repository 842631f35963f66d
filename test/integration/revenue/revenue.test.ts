// Proves revenue end to end on DynamoDB Local: every worked example (WE-1…WE-7: installments,
// modifications, back-loaded billing, CPPO, usage, cancellation with refund, EUR with FX) loaded
// day by day as contract events, billed by the billing job and closed month by month by the
// recognition run, posts exactly the journal the deal-desk preview shows (to the cent); reruns
// and re-imports post nothing; the preview and schedules answer over real HTTP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFxRates } from '../../../lib/app/revenue/finance-ops';
import { type RevenueRunDeps, runBilling, runRecognition } from '../../../lib/app/revenue/runs';
import { importScenario, scenarioContractIds } from '../../../lib/app/revenue/scenario-import';
import {
  type CalendarDate,
  lastDayOfPeriod,
  periodOf,
  periodRange,
} from '../../../lib/domain/calendar';
import { contractIdFor } from '../../../lib/domain/contract';
import { InvalidInputError } from '../../../lib/domain/errors';
import type { JournalEntry } from '../../../lib/domain/ledger';
import {
  previewScenario,
  type Scenario,
  ScenarioSchema,
} from '../../../lib/domain/revenue/preview';
import { getContainer } from '../../../lib/runtime/container';
import {
  deliver,
  EVENTS_DIR,
  sampleFiles,
  startTestStack,
  type TestStack,
} from '../pipeline/helpers';

const scenario = (name: string): Scenario =>
  ScenarioSchema.parse(JSON.parse(readFileSync(join(EVENTS_DIR, 'scenarios', name), 'utf8')));

/** The runs as the scheduler would call them, on a clock set after the scenario's end. */
function runDeps(now: string): RevenueRunDeps {
  return { ...getContainer(), clock: { now: () => now } };
}

/** Every day something happens: events, installments, usage invoice days (3rd), month-ends. */
function timeline(s: Scenario): { date: CalendarDate; monthEnd: boolean }[] {
  const dates = new Set<string>();
  let first = s.asOf;
  for (const event of s.events) {
    if ('effectiveAt' in event) dates.add(event.effectiveAt);
    if (event.type === 'ContractCreated' || event.type === 'ContractAmended')
      for (const i of event.installments) dates.add(i.date);
    if (event.type === 'ContractCreated') {
      dates.add(event.term.start);
      if (event.term.start < first) first = event.term.start;
    }
  }
  const ends = periodRange(periodOf(first), periodOf(s.asOf))
    .map(lastDayOfPeriod)
    .filter((d) => d <= s.asOf);
  for (const end of ends) {
    dates.add(end);
    dates.add(`${end.slice(0, 8)}03`);
  }
  return [...dates]
    .filter((d) => d <= s.asOf)
    .sort()
    .map((date) => ({ date, monthEnd: ends.includes(date) }));
}

function functionalLines(entries: readonly JournalEntry[]) {
  return entries
    .flatMap((e) =>
      e.legs.map(
        (l) =>
          `${e.date} ${l.account} ${l.currency} F${String(l.functionalDebitMinor)}/${String(l.functionalCreditMinor)}`,
      ),
    )
    .sort();
}

async function journalOf(test: TestStack, contractId: string): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await test.get(
      `/v1/journal?contractId=${contractId}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      ['finance'],
    );
    expect(page.status).toBe(200);
    out.push(...(page.body.items as JournalEntry[]));
    cursor = page.body.nextCursor as string | null;
  } while (cursor);
  return out;
}

/** Legs as comparable lines: what a finance reviewer would tick off. */
function legLines(
  entries: readonly {
    date: string;
    legs: readonly { account: string; debitMinor: unknown; creditMinor: unknown }[];
  }[],
) {
  return entries
    .flatMap((e) =>
      e.legs.map(
        (l) => `${e.date} ${l.account} D${String(l.debitMinor)} C${String(l.creditMinor)}`,
      ),
    )
    .sort();
}

/** The scenario as it would happen: each day's events, then billing, then the month-end run. */
async function closeBooks(s: Scenario, namespace?: string, replay = true): Promise<void> {
  const deps = runDeps(`${s.asOf}T23:00:00Z`);
  if (s.fxRates.length > 0) {
    await recordFxRates(
      getContainer(),
      s.fxRates.map((r) => ({ ...r, source: 'scenario' })),
    );
  }
  for (const { date, monthEnd } of timeline(s)) {
    // History is replayed only once: an earlier state applied over a later one would undo it.
    if (replay) {
      await importScenario(getContainer(), s, {
        through: date,
        ...(namespace ? { namespace } : {}),
      });
    }
    await runBilling(deps, date);
    if (monthEnd) await runRecognition(deps, periodOf(date));
  }
}

describe('worked examples through the store', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  for (const [file, checks] of [
    ['we-1.json', { A: { fees: 1_080_000n, payouts: 34_920_000n } }],
    ['we-2.json', { A: { fees: 1_350_000n, payouts: 43_650_000n } }],
    ['we-3.json', { B: { fees: 1_080_000n, payouts: 34_920_000n } }],
    ['we-4.json', { C: { fees: 315_000n, payouts: 8_685_000n } }],
    ['we-5.json', { U: { fees: 370_370n, payouts: 11_975_300n } }],
    ['we-6.json', { S: { fees: 8_877n, payouts: 287_013n } }],
    ['we-7.json', { E: { fees: 300_000n, payouts: 9_700_000n } }],
  ] as const) {
    it(`${file}: the stored journal equals the preview's, to the cent`, async () => {
      const s = scenario(file);
      const preview = previewScenario(s);
      await closeBooks(s, file);
      const ids = scenarioContractIds(s, file);
      for (const [id, contractId] of Object.entries(ids)) {
        const stored = await journalOf(test, contractId);
        const expected = preview.entries.filter((e) => e.legs.some((l) => l.contractId === id));
        const a = legLines(stored),
          b = legLines(expected);
        if (JSON.stringify(a) !== JSON.stringify(b))
          console.log(
            'ONLY STORED',
            a.filter((x) => !b.includes(x)),
            'ONLY PREVIEW',
            b.filter((x) => !a.includes(x)),
          );
        expect(legLines(stored), `${file} ${id}`).toEqual(legLines(expected));
        // Functional amounts too (FX): every leg, to the cent.
        expect(functionalLines(stored), `${file} ${id}`).toEqual(functionalLines(expected));

        const view = await test.get(`/v1/contracts/${contractId}/revenue-schedule`, ['finance']);
        expect(view.status).toBe(200);
        const final = preview.positions[id]?.at(-1);
        if (final) {
          expect(view.body.position).toMatchObject({
            billedMinor: String(final.billedMinor),
            recognizedMinor: String(final.recognizedMinor),
            deferredMinor: String(final.deferredMinor),
            unbilledMinor: String(final.unbilledMinor),
          });
        }
      }
      const [prefix, expected] = Object.entries(checks)[0] ?? ['', { fees: 0n, payouts: 0n }];
      const id = Object.keys(preview.fees).find((k) => k.startsWith(prefix)) ?? '';
      expect(preview.fees[id]).toBe(expected.fees);
      expect(preview.netPayouts[id]).toBe(expected.payouts);

      // Rerunning every job and re-importing posts nothing new.
      const counts = await Promise.all(
        Object.values(ids).map(async (c) => (await journalOf(test, c)).length),
      );
      await closeBooks(s, file, false);
      expect((await importScenario(getContainer(), s, { namespace: file })).events).toBe(0);
      expect(
        await Promise.all(Object.values(ids).map(async (c) => (await journalOf(test, c)).length)),
      ).toEqual(counts);
    });
  }

  it('refuses a month that has not ended, and the scheduled handlers close the last one', async () => {
    const deps = runDeps('2026-11-15T00:00:00Z');
    await expect(runRecognition(deps, '2026-11')).rejects.toBeInstanceOf(InvalidInputError);
    const { handler: recognition } = await import('../../../functions/scheduled/recognition-run');
    const closed = await recognition({ period: '2026-10' });
    expect(closed).toMatchObject({ period: '2026-10', problems: [] });
    const { handler: billing } = await import('../../../functions/scheduled/billing-run');
    expect(await billing()).toMatchObject({ problems: [] });
  });
});

describe('revenue over HTTP', () => {
  let test: TestStack;

  beforeAll(async () => {
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('previews a scenario for finance, sellers and admins, with money as strings', async () => {
    const body = JSON.parse(readFileSync(join(EVENTS_DIR, 'scenarios', 'we-1.json'), 'utf8'));
    const response = await test.post('/v1/revenue/preview', body, { roles: ['seller'] });
    expect(response.status).toBe(200);
    const schedules = response.body.schedules as Record<string, { recognizedMinor: string }[]>;
    expect(schedules['A-1']?.slice(0, 2).map((l) => l.recognizedMinor)).toEqual([
      '1019178',
      '920548',
    ]);
    expect(response.body.fees).toEqual({ 'A-1': '1080000' });
    expect(response.body.netPayouts).toEqual({ 'A-1': '34920000' });
    const journal = response.body.journal as { account: string; accountName: string }[];
    expect(journal[0]).toMatchObject({
      account: '1210',
      accountName: 'Marketplace receivable – AWS',
    });
    // Nothing was stored.
    expect((await test.get('/v1/journal?period=2025-01', ['finance'])).body.items).toEqual([]);

    expect((await test.post('/v1/revenue/preview', body)).status).toBe(401);
    expect((await test.post('/v1/revenue/preview', body, { roles: ['service'] })).status).toBe(403);
  });

  it('answers a bad scenario with 400 and every problem listed', async () => {
    const bad = await test.post(
      '/v1/revenue/preview',
      {
        asOf: '2025-13-01',
        events: [{ type: 'ContractCreated', contractId: 'X', currency: 'usd' }],
      },
      { roles: ['finance'] },
    );
    expect(bad.status).toBe(400);
    const details = (bad.body.error as { details: { path: string }[] }).details.map((d) => d.path);
    expect(details).toEqual(expect.arrayContaining(['body.asOf', 'body.events.0.currency']));

    const unsupported = await test.post(
      '/v1/revenue/preview',
      {
        asOf: '2025-12-31',
        events: [
          { type: 'ContractCancelled', contractId: 'S-1', effectiveAt: '2025-04-01' },
          {
            type: 'UsageRecorded',
            contractId: 'nobody',
            dimension: 'x',
            quantity: '1',
            usageTime: '2025-01-01',
          },
        ],
      },
      { roles: ['finance'] },
    );
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.error).toMatchObject({ code: 'invalid_scenario' });
    const codes = (unsupported.body.error as { details: { code: string }[] }).details.map(
      (d) => d.code,
    );
    expect(codes).toEqual(['unknown_contract', 'unknown_contract']);
  });

  it('gives a marketplace contract its schedule and bills it through the jobs', async () => {
    for (const sample of sampleFiles('aws')) await deliver(test, sample.body);
    await test.stack.settle();
    const direct = contractIdFor('aws', 'license/l-agora1001');
    const before = await test.get(`/v1/contracts/${direct}/revenue-schedule`, ['finance']);
    expect(before.status).toBe(200);
    const current = before.body.current as { totalMinor: string; lines: unknown[] };
    const installments = before.body.installments as { amountMinor: string; billed: boolean }[];
    expect(current.lines.length).toBeGreaterThan(0);
    // The price net of refunds (the sample's billing adjustment refunds 500.00).
    expect(before.body.refundedMinor).toBe('50000');
    expect(
      (
        installments.reduce((sum, i) => sum + BigInt(i.amountMinor), 0n) -
        BigInt(String(before.body.refundedMinor))
      ).toString(),
    ).toBe(current.totalMinor);
    expect(installments.every((i) => !i.billed)).toBe(true);

    const deps = runDeps('2026-11-23T12:00:00Z');
    await runBilling(deps, '2026-11-23');
    await test.stack.settle();
    const after = await test.get(`/v1/contracts/${direct}/revenue-schedule`, ['finance']);
    const billed = (after.body.installments as { date: string; billed: boolean }[]).filter(
      (i) => i.billed,
    );
    expect(billed.length).toBeGreaterThan(0);
    expect(billed.every((i) => i.date <= '2026-11-23')).toBe(true);
    const events = await test.get(`/v1/contracts/${direct}/events?limit=200`);
    const types = (events.body.items as { event: { type: string } }[]).map((e) => e.event.type);
    expect(types.filter((t) => t === 'InvoiceIssued')).toHaveLength(billed.length);

    expect((await test.get(`/v1/contracts/${direct}/revenue-schedule`, ['service'])).status).toBe(
      403,
    );
    expect((await test.get('/v1/contracts/ct_nope/revenue-schedule', ['finance'])).status).toBe(
      404,
    );
    expect((await test.get('/v1/journal', ['finance'])).status).toBe(400);
  });
});
