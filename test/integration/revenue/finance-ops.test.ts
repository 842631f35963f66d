// Proves finance's operations over real HTTP on DynamoDB Local: FX rates recorded through the API reach postings at once, WE-7's payout recorded through POST /v1/disbursements posts what the preview shows (once, however often it is sent) and bad payouts write nothing; period locks move for finance, reopen only for an admin with a reason on record, late entries land in the first month open to their poster, and the store's own condition refuses any posting into a locked month.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RevenueRunDeps, runBilling, runRecognition } from '../../../lib/app/revenue/runs';
import { importScenario } from '../../../lib/app/revenue/scenario-import';
import { type JournalEntry, JournalEntrySchema } from '../../../lib/domain/ledger';
import { RULE } from '../../../lib/domain/revenue/book';
import { type PeriodLocks, type Poster, statusOf } from '../../../lib/domain/revenue/periods';
import {
  previewScenario,
  type Scenario,
  ScenarioSchema,
} from '../../../lib/domain/revenue/preview';
import type { Role } from '../../../lib/http/auth';
import { getContainer } from '../../../lib/runtime/container';
import { ConditionFailedError } from '../../../lib/store/errors';
import { PERIOD_LOCKS_KEY, periodOpenCondition } from '../../../lib/store/period-store';
import { WriteTransaction } from '../../../lib/store/transaction';
import { freshStore } from '../helpers';
import { EVENTS_DIR, startTestStack, type TestStack } from '../pipeline/helpers';

const scenario = (name: string): Scenario =>
  ScenarioSchema.parse(JSON.parse(readFileSync(join(EVENTS_DIR, 'scenarios', name), 'utf8')));

function runDeps(now: string): RevenueRunDeps {
  return { ...getContainer(), clock: { now: () => now } };
}

async function send(
  test: TestStack,
  method: 'PUT' | 'POST',
  path: string,
  body: unknown,
  roles: Role[] | null,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (roles) headers.authorization = `Bearer ${await test.token(roles)}`;
  const response = await fetch(`${test.stack.url}${path}`, {
    method,
    headers,
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function journalOf(test: TestStack, contractId: string): Promise<JournalEntry[]> {
  const page = await test.get(`/v1/journal?contractId=${contractId}&limit=200`, ['finance']);
  expect(page.status).toBe(200);
  expect(page.body.nextCursor).toBeNull();
  return (page.body.items ?? []).map((item) => JournalEntrySchema.parse(item));
}

async function eventTypes(test: TestStack, contractId: string): Promise<string[]> {
  const page = await test.get(`/v1/contracts/${contractId}/events?limit=200`);
  return (page.body.items as { event: { type: string } }[]).map((e) => e.event.type);
}

/** Each leg of each entry as one comparable line (posting period left out on purpose). */
function legLines(entries: readonly JournalEntry[]): string[] {
  return entries
    .flatMap((e) =>
      e.legs.map(
        (l) =>
          `${e.date} ${e.rule} ${l.account} ${l.currency} D${l.debitMinor} C${l.creditMinor} FD${l.functionalDebitMinor} FC${l.functionalCreditMinor}`,
      ),
    )
    .sort();
}

const errorOf = (body: Record<string, unknown>) =>
  body.error as { code: string; details?: { path: string; code: string }[] };

describe('FX rates and disbursements over HTTP (WE-7)', () => {
  let test: TestStack;
  let contractId: string;
  const we7 = scenario('we-7.json');
  const deps = () => runDeps('2025-12-31T23:00:00Z');

  beforeAll(async () => {
    test = await startTestStack();
    const imported = await importScenario(getContainer(), we7, { through: '2025-01-01' });
    contractId = imported.contracts['E-1'] ?? '';
    expect(contractId).not.toBe('');
  }, 60_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('refuses rates from callers without finance, and malformed rates, recording nothing', async () => {
    const rate = { date: '2025-01-01', base: 'EUR', quote: 'USD', rate: '1.04', source: 'ECB' };
    expect((await send(test, 'PUT', '/v1/fx-rates', { rates: [rate] }, null)).status).toBe(401);
    expect((await send(test, 'PUT', '/v1/fx-rates', { rates: [rate] }, ['seller'])).status).toBe(
      403,
    );
    const bad = await send(
      test,
      'PUT',
      '/v1/fx-rates',
      { rates: [rate, { ...rate, rate: '1,04' }, { ...rate, base: 'eur' }] },
      ['finance'],
    );
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body).details?.map((d) => d.path)).toEqual([
      'body.rates.1.rate',
      'body.rates.2.base',
    ]);
    expect((await test.get('/v1/fx-rates', ['finance'])).body.items).toEqual([]);
  });

  it('bills the EUR installment once its rate is recorded through the API, not before', async () => {
    const before = await runBilling(deps(), '2025-01-01');
    expect(before.problems.map((p) => p.code)).toEqual(['fx_rate_missing']);
    expect(await journalOf(test, contractId)).toEqual([]);
    // The failed invoice left nothing behind: no event, no issue; tomorrow's run tries again.
    expect(await eventTypes(test, contractId)).not.toContain('InvoiceIssued');
    const waiting = await test.get(`/v1/contracts/${contractId}/revenue-schedule`, ['finance']);
    expect(waiting.body).toMatchObject({ issue: null, installments: [{ billed: false }] });
    // Nothing to settle yet: a payout is refused rather than posted against no receivable.
    const early = await send(
      test,
      'POST',
      '/v1/disbursements',
      {
        contractId,
        disbursementId: 'D-early',
        date: '2025-01-02',
        currency: 'EUR',
        amountMinor: '100',
      },
      ['finance'],
    );
    expect(early.status).toBe(409);
    expect(errorOf(early.body).code).toBe('exceeds_receivable');

    const rates = we7.fxRates.map((r) => ({ ...r, source: 'ECB reference rate' }));
    // A wrong first rate, corrected in the same request: the later record for the day wins.
    const typo = { ...rates[0], rate: '10.4' };
    const put = await send(test, 'PUT', '/v1/fx-rates', { rates: [typo, ...rates] }, ['finance']);
    expect(put).toEqual({ status: 200, body: { recorded: 4 } });
    const listed = await test.get('/v1/fx-rates?base=EUR&quote=USD', ['seller']);
    expect(listed.body.items).toEqual(rates);
    expect((await test.get('/v1/fx-rates?base=GBP', ['finance'])).body.items).toEqual([]);

    const after = await runBilling(deps(), '2025-01-01');
    expect(after.problems).toEqual([]);
    expect(after.invoices).toBe(1);
    const started = await test.get(`/v1/contracts/${contractId}/revenue-schedule`, ['finance']);
    expect(started.body).toMatchObject({ issue: null, installments: [{ billed: true }] });
    await runRecognition(deps(), '2025-01');
    const expected = previewScenario(we7).entries.filter((e) => e.date <= '2025-01-31');
    expect(legLines(await journalOf(test, contractId))).toEqual(legLines(expected));
  });

  it('posts the payout the preview shows: cash, the receivable at its carrying amount, realized FX', async () => {
    const payout = {
      contractId,
      disbursementId: 'D-2025-02-20',
      date: '2025-02-20',
      currency: 'USD',
      amountMinor: '10136500',
      settlesCurrency: 'EUR',
      settlesMinor: '9700000',
    };
    const first = await send(test, 'POST', '/v1/disbursements', payout, ['finance']);
    expect(first.status).toBe(200);
    expect(first.body.events).toEqual(['DisbursementReceived']);
    // Sent again (a retry, a double click): nothing new.
    const again = await send(test, 'POST', '/v1/disbursements', payout, ['admin']);
    expect(again.status).toBe(200);
    expect(again.body.events).toEqual([]);

    const stored = (await journalOf(test, contractId)).filter((e) => e.rule === RULE.disbursement);
    expect(stored).toHaveLength(1);
    const expected = previewScenario(we7).entries.filter((e) => e.rule === RULE.disbursement);
    expect(legLines(stored)).toEqual(legLines(expected));
    // WE-7: carried at 1.05 after January's remeasurement, paid at 1.045 — a $485.00 loss.
    const fx = stored[0]?.legs.find((l) => l.account === '7100');
    expect(fx?.functionalDebitMinor).toBe(48_500n);
    expect(stored[0]?.postingPeriod).toBe('2025-02');
  });

  it('refuses a payout the ledger could not post, and writes nothing', async () => {
    const eventsBefore = await eventTypes(test, contractId);
    const journalBefore = await journalOf(test, contractId);
    const base = {
      contractId,
      disbursementId: 'D-bad',
      date: '2025-03-20',
      currency: 'EUR',
      amountMinor: '100000',
    };
    const post = (body: unknown, roles: Role[] = ['finance']) =>
      send(test, 'POST', '/v1/disbursements', body, roles);

    expect((await post(base, ['seller'])).status).toBe(403);
    expect((await post({ ...base, contractId: 'ct_missing' })).status).toBe(404);
    const shape = await post({ ...base, amountMinor: '1.5', date: '2025-02-30' });
    expect(shape.status).toBe(400);
    expect(
      errorOf(shape.body)
        .details?.map((d) => d.path)
        .sort(),
    ).toEqual(['body.amountMinor', 'body.date']);
    const rules = await post({
      ...base,
      date: '2099-01-01',
      amountMinor: '0',
      currency: 'GBP',
    });
    expect(rules.status).toBe(400);
    expect(errorOf(rules.body).code).toBe('invalid_disbursement');
    expect(errorOf(rules.body).details?.map((d) => `${d.path}:${d.code}`)).toEqual([
      'date:future_date',
      'amountMinor:not_positive',
      'currency:currency_mismatch',
    ]);
    const unsettled = await post({ ...base, currency: 'USD', settlesCurrency: 'EUR' });
    expect(errorOf(unsettled.body).details?.map((d) => `${d.path}:${d.code}`)).toEqual([
      'settlesMinor:required',
    ]);
    // No JPY→USD rate is on record: the cash could not be translated.
    const noRate = await post({
      ...base,
      currency: 'JPY',
      amountMinor: '1600000',
      settlesCurrency: 'EUR',
      settlesMinor: '100000',
    });
    expect(noRate.status).toBe(400);
    expect(errorOf(noRate.body).code).toBe('fx_rate_missing');

    expect(await eventTypes(test, contractId)).toEqual(eventsBefore);
    expect(await journalOf(test, contractId)).toEqual(journalBefore);
  });
});

describe('period locks over HTTP (WE-1)', () => {
  let test: TestStack;
  let contractId: string;
  const deps = () => runDeps('2025-12-31T23:00:00Z');
  const payout = (id: string, date: string) => ({
    contractId,
    disbursementId: id,
    date,
    currency: 'USD',
    amountMinor: '100000',
  });

  beforeAll(async () => {
    test = await startTestStack();
    const imported = await importScenario(getContainer(), scenario('we-1.json'), {
      through: '2025-01-01',
    });
    contractId = imported.contracts['A-1'] ?? '';
    expect((await runBilling(deps(), '2025-01-01')).invoices).toBe(1);
  }, 60_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  const change = (action: string, period: string, body: unknown, roles: Role[]) =>
    send(test, 'POST', `/v1/periods/${period}/${action}`, body, roles);

  it('closes and freezes months for finance, and refuses what cannot be done', async () => {
    const empty = await test.get('/v1/periods', ['finance']);
    expect(empty.body).toMatchObject({
      locks: { closedThrough: null, frozenThrough: null },
      audit: [],
    });
    expect((await test.get('/v1/periods', ['seller'])).status).toBe(403);
    expect((await change('close', '2025-01', {}, ['seller'])).status).toBe(403);
    expect((await change('close', '2025-13', {}, ['finance'])).status).toBe(400);
    const early = await change('close', '2099-01', {}, ['finance']);
    expect(early.status).toBe(400);
    expect(errorOf(early.body).code).toBe('period_not_over');

    const closed = await change('close', '2025-01', { reason: 'January signed off' }, ['finance']);
    expect(closed.status).toBe(200);
    expect(closed.body.locks).toEqual({ closedThrough: '2025-01', frozenThrough: '2025-01' });
    expect(closed.body.record).toMatchObject({
      period: '2025-01',
      action: 'CLOSE',
      reason: 'January signed off',
      before: { closedThrough: null, frozenThrough: null },
    });
    const frozen = await change('freeze', '2025-02', {}, ['finance']);
    expect(frozen.body.locks).toEqual({ closedThrough: '2025-01', frozenThrough: '2025-02' });
    const twice = await change('close', '2025-01', {}, ['admin']);
    expect(twice.status).toBe(400);
    expect(errorOf(twice.body).code).toBe('period_closed');
  });

  it('posts a late month-end into the month the run may still post in, and later entries into the first open month, dates kept', async () => {
    // January was closed before its month-end run: the run posts in soft-frozen February.
    await runRecognition(deps(), '2025-01');
    await runRecognition(deps(), '2025-02');
    const recognized = (await journalOf(test, contractId)).filter(
      (e) => e.rule === RULE.recognition,
    );
    expect(recognized.map((e) => `${e.date}@${e.postingPeriod}`)).toEqual([
      '2025-01-31@2025-02',
      '2025-02-28@2025-02',
    ]);
    // A payout dated in closed January, recorded now: it posts in March (February is frozen).
    const late = await send(test, 'POST', '/v1/disbursements', payout('D-jan', '2025-01-20'), [
      'finance',
    ]);
    expect(late.status).toBe(200);
    const entry = (await journalOf(test, contractId)).find((e) => e.source.id === 'D-jan');
    expect(entry).toMatchObject({ date: '2025-01-20', postingPeriod: '2025-03' });
  });

  it('reopens only for an admin giving a reason, on record; entries then post in their own month', async () => {
    expect((await change('reopen', '2025-01', { reason: 'restate' }, ['finance'])).status).toBe(
      403,
    );
    const noReason = await change('reopen', '2025-01', {}, ['admin']);
    expect(noReason.status).toBe(400);
    expect(errorOf(noReason.body).details?.map((d) => d.path)).toEqual(['body.reason']);
    const reopened = await change('reopen', '2025-01', { reason: 'Restate the Jan fee' }, [
      'admin',
    ]);
    expect(reopened.status).toBe(200);
    // Everything from January on is open again; what came before stays closed.
    expect(reopened.body.locks).toEqual({ closedThrough: '2024-12', frozenThrough: '2024-12' });

    const listed = await test.get('/v1/periods', ['finance']);
    const audit = listed.body.audit as {
      action: string;
      period: string;
      by: string;
      reason: string | null;
    }[];
    expect(audit.map((a) => `${a.action} ${a.period}`)).toEqual([
      'PERIOD_REOPENED 2025-01',
      'FREEZE 2025-02',
      'CLOSE 2025-01',
    ]);
    expect(audit[0]?.by).toMatch(/^user:/);
    expect(audit[0]?.reason).toBe('Restate the Jan fee');

    await send(test, 'POST', '/v1/disbursements', payout('D-feb', '2025-02-10'), ['finance']);
    const entry = (await journalOf(test, contractId)).find((e) => e.source.id === 'D-feb');
    expect(entry).toMatchObject({ date: '2025-02-10', postingPeriod: '2025-02' });
  });

  it('lets exactly one of two simultaneous closes through', async () => {
    const results = await Promise.all([
      change('close', '2025-03', { reason: 'a' }, ['finance']),
      change('close', '2025-03', { reason: 'b' }, ['finance']),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, expect.any(Number)]);
    const loser = results.find((r) => r.status !== 200);
    expect(['periods_moved', 'period_closed']).toContain(errorOf(loser?.body ?? {}).code);
    const audit = (await test.get('/v1/periods', ['finance'])).body.audit as { action: string }[];
    expect(audit.filter((a) => a.action === 'CLOSE')).toHaveLength(2);
  });
});

describe('the store refuses postings into locked months', () => {
  const periods = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05'] as const;
  const lockArb = fc.option(fc.constantFrom(...periods), { nil: null });

  it('passes the ConditionCheck exactly when the month is open to the poster, whatever the locks', async () => {
    const store = await freshStore();
    await fc.assert(
      fc.asyncProperty(
        lockArb,
        lockArb,
        fc.constantFrom(...periods),
        fc.constantFrom<Poster>('pipeline', 'run'),
        async (a, b, period, poster) => {
          // A frontier keeps closedThrough ≤ frozenThrough.
          const [closedThrough, frozenThrough] =
            a !== null && b !== null && a > b ? [b, a] : [a, b ?? a];
          const locks: PeriodLocks = { closedThrough, frozenThrough };
          await store.put('period-locks', {
            ...PERIOD_LOCKS_KEY,
            ...(closedThrough ? { closedThrough } : {}),
            ...(frozenThrough ? { frozenThrough } : {}),
            version: 1,
          });
          const tx = new WriteTransaction()
            .put('marker', { pk: 'TEST', sk: `posting-${Math.random()}` })
            .check('period-lock', PERIOD_LOCKS_KEY, periodOpenCondition(period, poster));
          let accepted = true;
          try {
            await store.commit(tx);
          } catch (error) {
            if (!(error instanceof ConditionFailedError)) throw error;
            expect(error.failedOn('period-lock')).toBeTruthy();
            accepted = false;
          }
          const status = statusOf(locks, period);
          expect(accepted).toBe(
            status === 'OPEN' || (poster === 'run' && status === 'SOFT_FROZEN'),
          );
        },
      ),
      { numRuns: 40 },
    );
  });
});
