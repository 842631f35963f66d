// Proves the `agora` command's contract from the outside: --json prints exactly one JSON
// document on stdout, human text and logs go to stderr, and exit codes are 0/1/2/3 as documented.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { trackOffers } from '../../lib/app/offers';
import { addDays, previousPeriod } from '../../lib/domain/calendar';
import { contractIdFor } from '../../lib/domain/contract';
import {
  ensureDevKeys,
  jwksDocument,
  LOCAL_JWT_AUDIENCE,
  LOCAL_JWT_ISSUER,
} from '../../lib/local/dev-keys';
import { findFreePort } from '../../lib/local/dynamodb-local';
import { getContainer } from '../../lib/runtime/container';
import { deliver, sampleFiles, startTestStack } from '../integration/pipeline/helpers';
import { agora, ROOT } from './agora-cli';

/** A data folder no stack runs on. */
const env0 = () => ({ AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-cli-')) });

describe('agora CLI', () => {
  it('--help exits 0 and lists the commands', async () => {
    const run = await agora(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/token/);
    expect(run.stdout).toMatch(/doctor/);
  });

  it('token --json prints one JSON document whose token verifies against the data folder key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agora-cli-'));
    const run = await agora(['token', '--role', 'partner', '--partner', 'P-100', '--json'], {
      AGORA_DATA_DIR: dataDir,
    });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { token: string; expiresAt: string };
    const keys = await ensureDevKeys(dataDir);
    const { payload } = await jwtVerify(doc.token, createLocalJWKSet(jwksDocument(keys)), {
      issuer: LOCAL_JWT_ISSUER,
      audience: LOCAL_JWT_AUDIENCE,
    });
    expect(payload).toMatchObject({ roles: ['partner'], partner_id: 'P-100' });
  });

  it('prints only the token without --json, and its description on stderr', async () => {
    const run = await agora(['token', '--role', 'seller'], {
      AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-cli-')),
    });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(run.stderr).toMatch(/token for dev-seller/);
  });

  it('exits 2 on bad usage, with a JSON error document under --json', async () => {
    const bad = await agora(['token', '--role', 'emperor']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/Unknown role "emperor"/);
    const badJson = await agora(['token', '--role', 'seller', '--ttl', 'forever', '--json']);
    expect(badJson.code).toBe(2);
    expect(JSON.parse(badJson.stdout)).toMatchObject({ error: { code: 'invalid_ttl' } });
    expect((await agora(['frobnicate'])).code).toBe(2);
  });

  it('doctor --json checks everything, starting the embedded store when nothing runs', async () => {
    const run = await agora(['doctor', '--json'], {
      AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-cli-')),
      AGORA_PORT: String(await findFreePort()),
    });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(doc.ok).toBe(true);
    expect(doc.checks.map((c) => c.name)).toEqual([
      'node',
      'java',
      'dynamodb-local',
      'data-dir',
      'api-port',
      'stack',
      'table',
    ]);
    expect(run.stderr).toMatch(/embedded DynamoDB Local/);
  });

  it('doctor exits 1 and names the problem when Java is missing', async () => {
    const run = await agora(['doctor'], {
      AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-cli-')),
      AGORA_JAVA: '/nonexistent/java',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL\s+java\s+Java was not found/);
  });

  it('replay of every marketplace sample exits 0 and applies events; a second run changes nothing', async () => {
    const env = {
      AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-cli-')),
      AGORA_PORT: String(await findFreePort()),
    };
    const folders = ['events/aws', 'events/azure', 'events/gcp'];
    const first = await agora(['replay', ...folders, '--json'], env);
    expect(first.code).toBe(0);
    const summary = (JSON.parse(first.stdout) as { summary: Record<string, unknown> }).summary;
    expect(summary).toMatchObject({
      replayed: 31,
      stored: 31,
      failed: 0,
      skipped: 6,
      changed: true,
    });
    expect(Number(summary.events)).toBeGreaterThan(10);
    const second = await agora(['replay', ...folders], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split('\n').at(-1)).toBe('nothing changed');
  });

  it('simulate exits 3 naming npm start when no stack runs, and 2 for an unknown journey', async () => {
    const env = { AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-cli-')) };
    const missing = await agora(['simulate', 'azure-subscribe'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/npm start/);
    const unknown = await agora(['simulate', 'ibm-purchase', '--json'], env);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: 'unknown_journey' } });
  });

  it('revenue preview prints the pinned JSON for a scenario, and exits 2 for a bad one', async () => {
    const run = await agora(['revenue', 'preview', 'events/scenarios/we-1.json', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      schedules: Record<string, { period: string; recognizedMinor: string }[]>;
      journal: { account: string; debitMinor: string }[];
      positions: Record<string, { period: string; deferredMinor: string }[]>;
      fees: Record<string, string>;
      netPayouts: Record<string, string>;
    };
    expect(result.schedules['A-1']?.[0]).toEqual({
      period: '2025-01',
      recognizedMinor: '1019178',
      cumulativeMinor: '1019178',
    });
    expect(result.schedules['A-1']).toHaveLength(36);
    expect(result.positions['A-1']?.find((p) => p.period === '2025-06')?.deferredMinor).toBe(
      '6049315',
    );
    expect(result.fees).toEqual({ 'A-1': '1080000' });
    expect(result.netPayouts).toEqual({ 'A-1': '34920000' });
    const human = await agora(['revenue', 'preview', 'events/scenarios/we-4.json']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/2025-03\s+7643\.84\s+7643\.84/);
    const bad = await agora(['revenue', 'preview', 'package.json', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'invalid_scenario' } });
  });

  it('finance closes the books from the command line: import, bill, run, payout, close, reports', async () => {
    // Against a running stack, as finance would work: no DynamoDB Local start per command.
    const running = await startTestStack();
    const env = {
      AGORA_DATA_DIR: running.dataDir,
      AGORA_PORT: String(running.stack.port),
    };
    try {
      const json = async (args: string[], code = 0) => {
        const run = await agora([...args, '--json'], env);
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(code);
        return JSON.parse(run.stdout) as Record<string, unknown>;
      };
      // WE-7 without its payout (recorded below by hand): a EUR contract, whose rates go into the
      // rate table with it.
      const we7 = JSON.parse(readFileSync(join(ROOT, 'events/scenarios/we-7.json'), 'utf8')) as {
        events: { type: string }[];
      };
      const file = join(env.AGORA_DATA_DIR, 'we-7-no-payout.json');
      writeFileSync(
        file,
        JSON.stringify({
          ...we7,
          events: we7.events.filter((e) => e.type !== 'DisbursementReceived'),
        }),
      );
      const imported = await json(['revenue', 'import', file]);
      const contractId = (imported.contracts as Record<string, string>)['E-1'] ?? '';
      const rates = (await json(['fx-rates', 'list'])).items as { rate: string }[];
      expect(rates.map((r) => r.rate)).toEqual(['1.0400', '1.0500', '1.0450']);
      expect(await json(['revenue', 'bill', '--date', '2025-01-01'])).toMatchObject({
        invoices: 1,
      });
      await json(['revenue', 'run', '--period', '2025-01']);
      const payout = await json([
        'disbursements',
        'record',
        '--contract',
        contractId,
        '--id',
        'D-1',
        '--date',
        '2025-02-20',
        '--amount',
        '101365.00',
        '--currency',
        'USD',
        '--settles',
        '97000.00',
        '--settles-currency',
        'EUR',
      ]);
      expect(payout.events).toEqual(['DisbursementReceived']);

      const closed = await json(['periods', 'close', '2025-01', '--reason', 'January signed off']);
      expect(closed.locks).toEqual({ closedThrough: '2025-01', frozenThrough: '2025-01' });
      const noReason = await json(['periods', 'reopen', '2025-01'], 2);
      expect(noReason).toMatchObject({ error: { code: 'reason_required' } });

      const balance = await json(['revenue', 'report', 'trial-balance', '--as-of', '2025-02-28']);
      expect(balance.balanced).toBe(true);
      // WE-7: realized FX on the payout is a $485.00 loss, unrealized January a $970.00 gain.
      const fx = (balance.lines as { account: string; functionalBalanceMinor: string }[]).find(
        (l) => l.account === '7100',
      );
      expect(fx?.functionalBalanceMinor).toBe('-48500');
      const roll = await agora(
        ['revenue', 'report', 'rollforward', '--from', '2025-01', '--to', '2025-02', '--csv'],
        env,
      );
      expect(roll.code, roll.stderr).toBe(0);
      expect(roll.stdout.split('\r\n')[0]).toMatch(/^period,/);
      const journal = await agora(
        ['revenue', 'report', 'journal', '--from', '2025-01', '--to', '2025-02'],
        env,
      );
      expect(journal.code, journal.stderr).toBe(0);
      const rows = journal.stdout.trim().split('\r\n');
      expect(rows[0]).toMatch(/^date,period,entry_id,account/);
      expect(rows.filter((r) => r.includes(',disbursement,'))).toHaveLength(5);
    } finally {
      await running.stack.stop();
    }
  }, 120_000);

  it('offers: create is held by the guardrails, approve publishes it, show follows it to published', async () => {
    const running = await startTestStack();
    const env = { AGORA_DATA_DIR: running.dataDir, AGORA_PORT: String(running.stack.port) };
    try {
      const today = new Date().toISOString().slice(0, 10);
      const sample = JSON.parse(
        readFileSync(join(ROOT, 'events/offers/private-offer.json'), 'utf8'),
      ) as Record<string, unknown>;
      const file = join(running.dataDir, 'offer.json');
      // The sample's dates, moved to the future of whenever this runs.
      writeFileSync(
        file,
        JSON.stringify({
          ...sample,
          expiresOn: addDays(today, 20),
          paymentSchedule: [
            { date: addDays(today, 10), amountMinor: '7000000' },
            { date: addDays(today, 375), amountMinor: '7000000' },
          ],
        }),
      );
      const created = await agora(['offers', 'create', file, '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const offer = JSON.parse(created.stdout) as { offerId: string; status: string };
      expect(offer.status).toBe('pending-approval');
      const approved = await agora(['offers', 'approve', offer.offerId, '--reason', 'VP ok'], env);
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toContain('submitted');
      expect(approved.stdout).toContain('approved by user:cli-admin: VP ok');
      for (let i = 0; i < 5; i += 1) await trackOffers(getContainer());
      const shown = await agora(['offers', 'show', offer.offerId], env);
      expect(shown.stdout).toMatch(/published[\s\S]*→ offer-/);
      const invalid = await agora(['offers', 'create', 'package.json', '--json'], env);
      expect(invalid.code).toBe(2);
      expect(JSON.parse(invalid.stdout)).toMatchObject({ error: { code: 'validation_failed' } });
    } finally {
      await running.stack.stop();
    }
    const stopped = await agora(['offers', 'list'], env0());
    expect(stopped.code).toBe(3);
  }, 120_000);

  it('partners: a registry entry, an approved registration, an attribution explained, a plan added', async () => {
    const running = await startTestStack();
    const env = { AGORA_DATA_DIR: running.dataDir, AGORA_PORT: String(running.stack.port) };
    const sample = (name: string) => join(ROOT, 'events/partners', name);
    try {
      const partner = await agora(['partners', 'create', sample('partner.json')], env);
      expect(partner.code, partner.stderr).toBe(0);
      expect(partner.stdout).toContain(
        'created P-100  Northwind Partners LLC  referral  tier Gold',
      );
      const registered = await agora(
        ['registrations', 'submit', sample('registration.json'), '--json'],
        env,
      );
      expect(registered.code, registered.stderr).toBe(0);
      expect(JSON.parse(registered.stdout)).toMatchObject({ status: 'approved', conflicts: [] });
      const bought = await agora(
        ['simulate', 'aws-purchase', '--keep', '--buyer', '210987654321', '--json'],
        env,
      );
      expect(bought.code, bought.stderr).toBe(0);
      const { contractId } = JSON.parse(bought.stdout) as { contractId: string };
      const explained = await agora(['attribution', 'explain', contractId], env);
      expect(explained.code, explained.stderr).toBe(0);
      expect(explained.stdout).toContain('model default@v1 (linear)');
      expect(explained.stdout).toMatch(
        /P-100 {2}sourced first_touch {2}via deal-registration {2}weight 100\.0000%/,
      );
      expect(explained.stdout).toMatch(/P-100 {2}100\.0000% {2}1200\.00/);
      const model = await agora(
        ['attribution', 'add-model', sample('attribution-model.json')],
        env,
      );
      expect(model.stdout).toContain('added default@v2 (time-decay)');
      const plan = await agora(['plans', 'add', sample('commission-plan.json')], env);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('added partner-standard@v1');
      const shown = await agora(['plans', 'show', 'partner-standard'], env);
      expect(shown.stdout).toContain('Gold sourced: 10 %');
      // Last month's run: nothing recognized yet for this month's contract, so nothing earned.
      const lastMonth = previousPeriod(new Date().toISOString().slice(0, 7));
      const run = await agora(['commission', 'run', '--period', lastMonth], env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`commission ${lastMonth}  plan partner-standard@v1`);
      expect(run.stdout).toContain('earned 0.00 USD');
      expect((await agora(['commission', 'run', '--period', 'soon'], env)).code).toBe(2);
      const range = ['--from', lastMonth, '--to', lastMonth];
      const report = await agora(['commission', 'report', ...range, '--json'], env);
      expect(report.code, report.stderr).toBe(0);
      expect(JSON.parse(report.stdout)).toMatchObject({
        currency: 'USD',
        rows: [{ partnerId: 'P-100', period: lastMonth, tier: 'Gold', earnedMinor: '0' }],
      });
      const csv = await agora(['commission', 'report', ...range, '--csv'], env);
      expect(csv.stdout.split('\r\n')[0]).toMatch(/^partner_id,period,tier,plan_id,/);
      expect(csv.stdout.split('\r\n')[1]).toMatch(
        new RegExp(`^P-100,${lastMonth},Gold,partner-standard,1,`),
      );
      expect(
        (await agora(['commission', 'report', '--from', 'May', '--to', lastMonth], env)).code,
      ).toBe(2);
      // Statements: issued once from what the run stored, verified, and a tampered file is caught.
      const issued = await agora(['statements', 'generate', '--period', lastMonth, '--json'], env);
      expect(issued.code, issued.stderr).toBe(0);
      expect(JSON.parse(issued.stdout)).toMatchObject({ issued: [{ partnerId: 'P-100' }] });
      expect(issued.stderr).toContain('statements 1/1');
      const verified = await agora(['statements', 'verify', 'P-100'], env);
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stdout).toContain('ok: 1 statement(s) of P-100 verified');
      const jsonFile = readdirSync(join(running.dataDir, 'statements'), { recursive: true })
        .map(String)
        .find((name) => name.endsWith('.json'));
      expect(jsonFile).toBeDefined();
      const path = join(running.dataDir, 'statements', jsonFile ?? '');
      writeFileSync(path, readFileSync(path, 'utf8').replace('"P-100"', '"P-999"'));
      const broken = await agora(['statements', 'verify', 'P-100'], env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toContain('BROKEN');
      const badBuyer = await agora(['simulate', 'aws-purchase', '--buyer', '12'], env);
      expect(badBuyer.code).toBe(2);
    } finally {
      await running.stack.stop();
    }
  }, 120_000);

  it('usage import streams a CSV through the API: accepted, already recorded, refused rows by line', async () => {
    const running = await startTestStack();
    const env = { AGORA_DATA_DIR: running.dataDir, AGORA_PORT: String(running.stack.port) };
    try {
      for (const sample of sampleFiles('aws')) await deliver(running, sample.body);
      await running.stack.settle();
      const contractId = contractIdFor('aws', 'license/l-agora1001');
      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
      const at = (minute: number) => new Date(hour.getTime() + minute * 60_000).toISOString();
      const file = join(running.dataDir, 'usage.csv');
      writeFileSync(
        file,
        [
          'recordId,contractId,dimension,quantity,usageTime',
          `u-1,${contractId},api_calls,10,${at(1)}`,
          `u-2,${contractId},api_calls,5,${at(2)}`,
          `u-3,${contractId},not_metered,1,${at(2)}`,
          `u-4,${contractId},api_calls,,${at(2)}`,
          '',
        ].join('\n'),
      );
      const first = await agora(['usage', 'import', file, '--json'], env);
      expect(first.code, first.stderr).toBe(1);
      const summary = JSON.parse(first.stdout) as {
        rows: number;
        accepted: number;
        refused: number;
        errors: { line: number; code: string }[];
      };
      expect(summary).toMatchObject({ rows: 4, accepted: 2, refused: 2 });
      expect(summary.errors.map((e) => `${e.line}:${e.code}`)).toEqual([
        '5:missing_columns',
        '4:UNKNOWN_DIMENSION',
      ]);
      expect(first.stderr).toMatch(/100% 4 rows/);
      // The same file again: nothing is counted twice.
      const again = JSON.parse((await agora(['usage', 'import', file, '--json'], env)).stdout) as {
        accepted: number;
        duplicates: number;
      };
      expect(again).toMatchObject({ accepted: 0, duplicates: 2 });
      const status = await agora(['usage', 'status', contractId], env);
      expect(status.stdout).toMatch(/api_calls received 15/);
    } finally {
      await running.stack.stop();
    }
  }, 120_000);

  it('replay of invalid payloads exits 1, and dlq list names them with their reason', async () => {
    const env = {
      AGORA_DATA_DIR: mkdtempSync(join(tmpdir(), 'agora-cli-')),
      AGORA_PORT: String(await findFreePort()),
    };
    const replay = await agora(['replay', 'events/invalid'], env);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(/FAIL aws-eventbridge-agreement-without-id\.json/);
    const dlq = await agora(['dlq', 'list', '--json'], env);
    expect(dlq.code).toBe(0);
    const items = (JSON.parse(dlq.stdout) as { items: { code: string; reason: string }[] }).items;
    // One per marketplace shape in events/invalid: two AWS, one Azure, one Google Cloud.
    expect(items).toHaveLength(4);
    expect(items.every((i) => i.code === 'invalid_notification')).toBe(true);
    const reasons = items.map((i) => i.reason).join(' ');
    expect(reasons).toMatch(/agreement\.id/);
    expect(reasons).toMatch(/webhook: subscriptionId/);
    expect(reasons).toMatch(/message\.data is not base64 JSON/);
  });
});
