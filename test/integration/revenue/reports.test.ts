// Proves the finance reports over real HTTP on DynamoDB Local: WE-1, WE-3 and a Google Cloud copy of WE-3, imported and closed month by month by the real jobs, give roll-forwards (by marketplace and product too), a waterfall and a trial balance equal to the pure reports of the preview's ledger, tied to each other; the journal exports as RFC 4180 CSV with every stored leg; bad input is a 400 and only finance and admin may read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type RevenueRunDeps, runBilling, runRecognition } from '../../../lib/app/revenue/runs';
import { importScenario } from '../../../lib/app/revenue/scenario-import';
import {
  type CalendarDate,
  lastDayOfPeriod,
  periodOf,
  periodRange,
} from '../../../lib/domain/calendar';
import { contractIdFor } from '../../../lib/domain/contract';
import { type JournalEntry, JournalEntrySchema } from '../../../lib/domain/ledger';
import {
  type PreviewResult,
  previewScenario,
  type Scenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../lib/domain/revenue/preview';
import {
  JOURNAL_CSV_HEADER,
  journalCsv,
  rollForward,
  trialBalance,
  waterfall,
} from '../../../lib/domain/revenue/reports';
import type { Role } from '../../../lib/http/auth';
import {
  RollForwardResponseSchema,
  TrialBalanceResponseSchema,
  WaterfallResponseSchema,
} from '../../../lib/http/report-routes';
import { getContainer } from '../../../lib/runtime/container';
import { EVENTS_DIR, startTestStack, type TestStack } from '../pipeline/helpers';

const AS_OF = '2026-02-28';

function scenarioInput(name: string): ScenarioInput {
  return JSON.parse(readFileSync(join(EVENTS_DIR, 'scenarios', name), 'utf8')) as ScenarioInput;
}

/** WE-1 and WE-3 (AWS) and WE-3 again as a Google Cloud private offer, closed through AS_OF. */
function combinedScenario(): Scenario {
  const we1 = scenarioInput('we-1.json');
  const we3 = scenarioInput('we-3.json');
  const gcp = we3.events.map((event) =>
    event.type === 'ContractCreated'
      ? { ...event, contractId: 'G-1', marketplace: 'gcp' as const }
      : event,
  );
  return ScenarioSchema.parse({
    ...we1,
    asOf: AS_OF,
    events: [...we1.events, ...we3.events, ...gcp],
  } satisfies ScenarioInput);
}

const MARKETPLACE_OF: Record<string, string> = { 'A-1': 'aws', 'B-1': 'aws', 'G-1': 'gcp' };

/** The runs as the scheduler would call them, on a clock set after the scenario's end. */
function runDeps(now: string): RevenueRunDeps {
  return { ...getContainer(), clock: { now: () => now } };
}

/** Every day something is due: installments, usage invoice days (3rd) and month-ends. */
function timeline(s: Scenario): { date: CalendarDate; monthEnd: boolean }[] {
  const dates = new Set<string>();
  let first = s.asOf;
  for (const event of s.events) {
    if (event.type !== 'ContractCreated') continue;
    for (const i of event.installments) dates.add(i.date);
    if (event.term.start < first) first = event.term.start;
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

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else {
      if (ch === '\n' || ch === '\r' || ch === '"') throw new Error(`bare ${ch} at ${i}`);
      field += ch;
    }
  }
  if (quoted || field !== '' || row.length > 0) throw new Error('truncated CSV');
  return rows;
}

/** "1234.56" (two decimals, as USD has) → minor units. */
function centsOf(text: string): bigint {
  const match = /^(\d+)\.(\d{2})$/.exec(text);
  if (!match) throw new Error(`not a USD amount: ${text}`);
  return BigInt(`${match[1]}${match[2]}`);
}

describe('finance reports over HTTP', () => {
  let test: TestStack;
  let expected: PreviewResult;
  const stored: JournalEntry[] = [];

  async function raw(path: string, roles: Role[] | null = ['finance']) {
    const headers: Record<string, string> = {};
    if (roles) headers.authorization = `Bearer ${await test.token(roles)}`;
    return fetch(`${test.stack.url}${path}`, { headers });
  }

  beforeAll(async () => {
    test = await startTestStack();
    const scenario = combinedScenario();
    const imported = await importScenario(getContainer(), scenario);
    expect(imported.contracts).toEqual({
      'A-1': contractIdFor('aws', 'scenario/A-1'),
      'B-1': contractIdFor('aws', 'scenario/B-1'),
      'G-1': contractIdFor('gcp', 'scenario/G-1'),
    });
    const deps = runDeps(`${AS_OF}T23:00:00Z`);
    for (const { date, monthEnd } of timeline(scenario)) {
      const billed = await runBilling(deps, date);
      expect(billed.problems).toEqual([]);
      if (monthEnd) expect((await runRecognition(deps, periodOf(date))).problems).toEqual([]);
    }
    expected = previewScenario(scenario);
    // The stored journal, period by period, through the existing journal endpoint.
    for (const period of periodRange('2025-01', '2026-02')) {
      let cursor: string | null = null;
      do {
        const page = await test.get(
          `/v1/journal?period=${period}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
          ['finance'],
        );
        expect(page.status).toBe(200);
        stored.push(...(page.body.items ?? []).map((item) => JournalEntrySchema.parse(item)));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
    }
  }, 120_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('stores the ledger the preview computes (the premise of every comparison below)', () => {
    expect(stored.length).toBe(expected.entries.length);
    const lines = (entries: readonly JournalEntry[]) =>
      entries
        .flatMap((e) =>
          e.legs.map(
            (l) =>
              `${e.postingPeriod} ${e.date} ${e.rule} ${l.account} ${l.currency} D${l.debitMinor} C${l.creditMinor} FD${l.functionalDebitMinor} FC${l.functionalCreditMinor}`,
          ),
        )
        .sort();
    expect(lines(stored)).toEqual(lines(expected.entries));
  });

  it('answers the deferred-revenue roll-forward the pure report computes, from any first month', async () => {
    for (const [from, to] of [
      ['2025-01', '2026-02'],
      ['2025-06', '2026-01'],
      ['2024-10', '2025-02'],
    ] as const) {
      const response = await test.get(`/v1/reports/rollforward?from=${from}&to=${to}`, ['finance']);
      expect(response.status).toBe(200);
      const pure = rollForward(expected.entries, { from, to, account: '2400' });
      expect(response.body).toEqual(
        z.encode(RollForwardResponseSchema, { ...pure, groupBy: 'none' }),
      );
    }
    // Figures a reviewer ticks off: WE-1 + WE-3 + its GCP copy in January 2025 and June 2025.
    const response = await test.get('/v1/reports/rollforward?from=2025-01&to=2025-06', ['admin']);
    const lines = RollForwardResponseSchema.parse(response.body).lines;
    expect(lines[0]?.transaction).toMatchObject({
      openingMinor: 0n,
      billedMinor: 12_000_000n + 2n * 6_000_000n,
      recognizedMinor: 3n * 1_019_178n,
    });
    expect(lines.at(-1)?.transaction.closingMinor).toBe(6_049_315n + 2n * 49_315n);
    // Before the ledger starts, the opening is zero and nothing moves.
    const early = await test.get('/v1/reports/rollforward?from=2024-10&to=2024-12', ['finance']);
    expect(RollForwardResponseSchema.parse(early.body).lines).toEqual([]);
  });

  it('rolls the unbilled position forward separately, and groups by marketplace and product', async () => {
    const unbilled = await test.get(
      '/v1/reports/rollforward?from=2025-06&to=2026-02&account=unbilled',
      ['finance'],
    );
    expect(unbilled.status).toBe(200);
    const pureUnbilled = rollForward(expected.entries, {
      from: '2025-06',
      to: '2026-02',
      account: 'unbilled',
    });
    expect(unbilled.body).toEqual(
      z.encode(RollForwardResponseSchema, { ...pureUnbilled, groupBy: 'none' }),
    );
    const december = RollForwardResponseSchema.parse(unbilled.body).lines.find(
      (l) => l.period === '2025-12',
    );
    expect(december?.transaction.closingMinor).toBe(2n * 6_000_000n);

    const byMarketplace = await test.get(
      '/v1/reports/rollforward?from=2025-01&to=2026-02&account=unbilled&groupBy=marketplace',
      ['finance'],
    );
    expect(byMarketplace.status).toBe(200);
    const pureGrouped = rollForward(expected.entries, {
      from: '2025-01',
      to: '2026-02',
      account: 'unbilled',
      groupBy: (id) => MARKETPLACE_OF[id ?? ''] ?? 'unknown',
    });
    expect(byMarketplace.body).toEqual(
      z.encode(RollForwardResponseSchema, { ...pureGrouped, groupBy: 'marketplace' }),
    );
    expect(new Set(pureGrouped.lines.map((l) => l.group))).toEqual(new Set(['aws', 'gcp']));

    const byProduct = await test.get(
      '/v1/reports/rollforward?from=2025-01&to=2025-03&groupBy=product',
      ['finance'],
    );
    const productLines = RollForwardResponseSchema.parse(byProduct.body).lines;
    expect(new Set(productLines.map((l) => l.group))).toEqual(new Set(['scenario']));
    const plain = rollForward(expected.entries, {
      from: '2025-01',
      to: '2025-03',
      account: '2400',
    });
    expect(productLines.map((l) => l.transaction)).toEqual(plain.lines.map((l) => l.transaction));
  });

  it('answers the waterfall and the trial balance, tied to the roll-forward', async () => {
    const fall = await test.get('/v1/reports/waterfall?from=2025-03&to=2026-02', ['finance']);
    expect(fall.status).toBe(200);
    const pureFall = waterfall(expected.entries, { from: '2025-03', to: '2026-02' });
    expect(fall.body).toEqual(z.encode(WaterfallResponseSchema, pureFall));
    const usd = WaterfallResponseSchema.parse(fall.body).currencies[0];
    const roll = RollForwardResponseSchema.parse(
      (await test.get('/v1/reports/rollforward?from=2025-03&to=2026-02', ['finance'])).body,
    );
    expect(usd?.openingMinor).toBe(roll.lines[0]?.transaction.openingMinor);
    expect(usd?.closingMinor).toBe(roll.lines.at(-1)?.transaction.closingMinor);
    expect(usd?.rows.reduce((s, r) => s + r.remainingMinor, 0n)).toBe(usd?.closingMinor);
    expect(usd?.rows.map((r) => r.kind)).toEqual(['opening', 'booked']);
    expect(usd?.rows[1]).toMatchObject({
      bookedPeriod: '2026-01',
      bookedMinor: 12_000_000n + 2n * 6_000_000n,
    });

    const tb = await test.get('/v1/reports/trial-balance?asOf=2025-12-31', ['admin']);
    expect(tb.status).toBe(200);
    expect(tb.body).toEqual(
      z.encode(TrialBalanceResponseSchema, trialBalance(expected.entries, '2025-12-31')),
    );
    const parsed = TrialBalanceResponseSchema.parse(tb.body);
    expect(parsed.balanced).toBe(true);
    expect(parsed.functionalTotals.balanceMinor).toBe(0n);
    const december = RollForwardResponseSchema.parse(
      (await test.get('/v1/reports/rollforward?from=2025-12&to=2025-12', ['finance'])).body,
    ).lines[0];
    expect(parsed.lines.find((l) => l.account === '2400')?.balanceMinor).toBe(
      -(december?.transaction.closingMinor ?? 1n),
    );
    expect(parsed.accounts.map((a) => a.account)).toEqual(
      expect.arrayContaining(['1210', '1212', '1230', '2400', '4000', '5100']),
    );

    const empty = await test.get('/v1/reports/trial-balance?asOf=2024-12-31', ['finance']);
    expect(TrialBalanceResponseSchema.parse(empty.body)).toMatchObject({
      entries: 0,
      lines: [],
      balanced: true,
    });
  });

  it('exports the journal as CSV for an ERP: every stored leg, exact amounts', async () => {
    const response = await raw('/v1/journal/export?from=2025-01&to=2025-03');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="journal-2025-01-2025-03.csv"',
    );
    const text = await response.text();
    const inRange = stored.filter(
      (e) => e.postingPeriod >= '2025-01' && e.postingPeriod <= '2025-03',
    );
    expect(response.headers.get('x-journal-entries')).toBe(String(inRange.length));
    expect(text).toBe(journalCsv(inRange));
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...JOURNAL_CSV_HEADER]);
    expect(rows.length - 1).toBe(inRange.reduce((n, e) => n + e.legs.length, 0));
    const byId = new Map(inRange.map((e) => [e.entryId, e]));
    let debits = 0n;
    let credits = 0n;
    for (const row of rows.slice(1)) {
      const e = byId.get(row[2] ?? '');
      expect(e).toBeDefined();
      expect([row[0], row[1], row[13], row[14]]).toEqual([
        e?.date,
        e?.postingPeriod,
        e?.rule,
        e?.description,
      ]);
      expect(e?.legs.some((l) => l.account === row[3] && l.contractId === row[11])).toBe(true);
      debits += centsOf(row[5] ?? '');
      credits += centsOf(row[6] ?? '');
      expect(row[7]).toBe('USD');
    }
    expect(debits).toBe(credits);
    expect(debits).toBe(
      inRange.reduce((s, e) => s + e.legs.reduce((t, l) => t + l.debitMinor, 0n), 0n),
    );

    const empty = await raw('/v1/journal/export?from=2024-01&to=2024-02', ['admin']);
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe(`${JOURNAL_CSV_HEADER.join(',')}\r\n`);
  });

  it('refuses bad ranges and callers without the finance or admin role', async () => {
    const problems = async (path: string) => {
      const response = await test.get(path, ['finance']);
      expect(response.status).toBe(400);
      const error = response.body.error as { code: string; details: { path: string }[] };
      expect(error.code).toBe('validation_failed');
      return [...new Set(error.details.map((d) => d.path))];
    };
    expect(await problems('/v1/reports/rollforward?from=2025-06&to=2025-01')).toEqual(['query.to']);
    expect(await problems('/v1/reports/rollforward?from=2025-01&to=2025-02&account=1230')).toEqual([
      'query.account',
    ]);
    expect(
      await problems('/v1/reports/rollforward?from=2025-01&to=2025-02&groupBy=partner'),
    ).toEqual(['query.groupBy']);
    expect(await problems('/v1/reports/waterfall?from=2015-01&to=2025-02')).toEqual(['query.to']);
    expect(await problems('/v1/reports/waterfall?from=2025-1&to=2025-02')).toEqual(['query.from']);
    expect(await problems('/v1/reports/trial-balance?asOf=2025-02-30')).toEqual(['query.asOf']);
    expect(await problems('/v1/reports/trial-balance')).toEqual(['query.asOf']);
    expect(await problems('/v1/journal/export?from=2025-03&to=2025-01')).toEqual(['query.to']);

    for (const path of [
      '/v1/reports/rollforward?from=2025-01&to=2025-02',
      '/v1/reports/waterfall?from=2025-01&to=2025-02',
      '/v1/reports/trial-balance?asOf=2025-01-31',
      '/v1/journal/export?from=2025-01&to=2025-02',
    ]) {
      expect((await raw(path, null)).status).toBe(401);
      expect((await raw(path, ['seller'])).status).toBe(403);
      expect((await raw(path, ['service'])).status).toBe(403);
      expect((await raw(path, ['admin'])).status).toBe(200);
    }
  });
});
