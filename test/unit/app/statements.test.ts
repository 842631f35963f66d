// Proves the statement use cases over in-memory ports: WE-8's statement ties to the 2100/2110 legs read period by period (its payout found in October), a run that stopped after indexing is completed from the very same content on the next run (or alarmed when the data moved), a concurrent issue never forks the chain, partners without contacts are skipped, emails are retried a bounded number of times, monthly statements read the quarter's earlier lines, attribution shares come from the version a line used, and verification reports a missing head, an unarchived or mismatched statement.
import { describe, expect, it } from 'vitest';
import type { Page, PageRequest } from '../../../lib/app/ports';
import type { EmailMessage } from '../../../lib/app/reminder-ports';
import {
  generateStatements,
  getStatement,
  listStatements,
  STATEMENT_EMAIL_ATTEMPTS_MAX,
  STATEMENT_LEDGER_PAGE_SIZE,
  type StatementAddOutcome,
  type StatementArchive,
  type StatementChainHead,
  type StatementDelivery,
  type StatementDeps,
  type StatementIndex,
  type StatementProblem,
  type StatementRecord,
  verifyStatements,
} from '../../../lib/app/statements';
import { comparePeriods, type Period } from '../../../lib/domain/calendar';
import type { CommissionLine } from '../../../lib/domain/commission/engine';
import type { ContractSnapshot } from '../../../lib/domain/contract';
import { sha256Hex } from '../../../lib/domain/ids';
import type { JournalEntry } from '../../../lib/domain/ledger';
import type { AttributionVersion } from '../../../lib/domain/partners/attribution-version';
import type { PartnerRecord } from '../../../lib/domain/partners/partner';
import {
  decodeStatementJson,
  type StatementMonthState,
} from '../../../lib/domain/statements/statement';
import { statementCsv } from '../../../lib/statements/render-csv';
import {
  usd,
  WE8_CONTRACTS,
  WE8_PARTNER,
  WE8_PLAN,
  type We8World,
  we8World,
} from '../helpers/we8-statement';

const NOW = '2025-10-16T08:00:00.000Z';

function pageOf<T>(items: readonly T[], page: PageRequest): Page<T> {
  const start = Number(page.cursor ?? '0');
  const end = start + page.limit;
  return { items: items.slice(start, end), cursor: end < items.length ? String(end) : null };
}

class FakeIndex implements StatementIndex {
  readonly records = new Map<string, StatementRecord>();
  readonly heads = new Map<string, StatementChainHead>();
  /** Lets a test issue a competing statement between head() and add(). */
  beforeAdd: (() => void) | null = null;

  async add(record: StatementRecord): Promise<StatementAddOutcome> {
    this.beforeAdd?.();
    const key = `${record.partnerId}#${record.period}`;
    if (this.records.has(key)) return 'exists';
    const head = this.heads.get(record.partnerId);
    if ((head?.sequence ?? 0) !== record.sequence - 1) return 'chain_moved';
    this.records.set(key, record);
    this.heads.set(record.partnerId, {
      sequence: record.sequence,
      hash: record.hash,
      period: record.period,
    });
    return 'added';
  }
  async get(partnerId: string, period: string) {
    return this.records.get(`${partnerId}#${period}`) ?? null;
  }
  async head(partnerId: string) {
    return this.heads.get(partnerId) ?? null;
  }
  async markArchived(partnerId: string, period: string) {
    const key = `${partnerId}#${period}`;
    const record = this.records.get(key);
    if (record) this.records.set(key, { ...record, archived: true });
  }
  async markDelivery(partnerId: string, period: string, delivery: StatementDelivery) {
    const key = `${partnerId}#${period}`;
    const record = this.records.get(key);
    if (record) this.records.set(key, { ...record, delivery });
  }
  async list(partnerId: string, page: PageRequest) {
    const items = [...this.records.values()]
      .filter((r) => r.partnerId === partnerId)
      .sort((a, b) => (a.period < b.period ? 1 : -1));
    return pageOf(items, page);
  }
}

class FakeArchive implements StatementArchive {
  readonly objects = new Map<string, Uint8Array>();
  failPuts = 0;
  async put(key: string, body: Uint8Array) {
    if (this.failPuts > 0) {
      this.failPuts -= 1;
      throw new Error('the bucket is unavailable');
    }
    this.objects.set(key, body);
  }
  async get(key: string) {
    return this.objects.get(key) ?? null;
  }
}

class FakeOutbox {
  readonly sent: EmailMessage[] = [];
  failures = 0;
  async send(message: EmailMessage) {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('SES is throttling');
    }
    this.sent.push(message);
    return `ses-${this.sent.length}`;
  }
}

const partner = (partnerId: string, contacts: string[]): PartnerRecord => ({
  schemaVersion: 1,
  partnerId,
  legalName: `${partnerId} Partners Ltd`,
  type: 'referral',
  tierHistory: [{ tier: 'Gold', effectiveFrom: '2025-01-01' }],
  payoutCurrency: 'USD',
  statementContacts: contacts.map((email) => ({ name: null, email })),
  marketplaceAccounts: [],
  status: 'active',
  createdAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-01T00:00:00Z',
  version: 1,
});

interface Fixture {
  deps: StatementDeps;
  index: FakeIndex;
  archive: FakeArchive;
  outbox: FakeOutbox;
  alarms: StatementProblem[];
  ledgerPages: { period: Period; limit: number }[];
  states: Map<string, StatementMonthState>;
  lines: CommissionLine[];
  ledger: Map<Period, JournalEntry[]>;
}

function fixture(world: We8World = we8World(), contacts = ['finance@p100.example']): Fixture {
  const states = new Map(world.states.map((s) => [`${s.partnerId}#${s.period}`, s]));
  const lines = [...world.lines];
  const ledger = new Map<Period, JournalEntry[]>();
  for (const entry of world.entries) {
    ledger.set(entry.postingPeriod, [...(ledger.get(entry.postingPeriod) ?? []), entry]);
  }
  const index = new FakeIndex();
  const archive = new FakeArchive();
  const outbox = new FakeOutbox();
  const alarms: StatementProblem[] = [];
  const ledgerPages: { period: Period; limit: number }[] = [];
  const partners = new Map([[WE8_PARTNER, partner(WE8_PARTNER, contacts)]]);
  const deps: StatementDeps = {
    partners: {
      get: async (id) => partners.get(id) ?? null,
      list: async (page) => pageOf([...partners.values()], page),
    },
    commissions: {
      state: async (id, period) => states.get(`${id}#${period}`) as never,
      stateBefore: async (id, period) =>
        ([...states.values()]
          .filter((s) => s.partnerId === id && comparePeriods(s.period, period) < 0)
          .sort((a, b) => comparePeriods(b.period, a.period))[0] ?? null) as never,
      lines: async (id, period) => lines.filter((l) => l.partnerId === id && l.period === period),
    },
    ledger: {
      entriesOfPeriod: async (period, page) => {
        ledgerPages.push({ period, limit: page.limit });
        return pageOf(ledger.get(period) ?? [], page);
      },
    },
    contracts: {
      get: async (contractId) => {
        const facts = WE8_CONTRACTS[contractId];
        return facts
          ? ({
              marketplace: facts.marketplace,
              terms: {
                productId: facts.product,
                buyer: { accountId: 'a', name: facts.customerName },
              },
            } as unknown as ContractSnapshot)
          : null;
      },
    },
    commissionPlans: { versions: async (planId) => (planId === WE8_PLAN.planId ? [WE8_PLAN] : []) },
    revenue: { functionalCurrency: 'USD' },
    statementArchive: archive,
    statementIndex: index,
    statementRenderer: {
      pdf: async (s) => new TextEncoder().encode(`%PDF-fake ${s.statementId} ${s.hash}`),
      csv: (s) => new TextEncoder().encode(statementCsv(s)),
    },
    emailOutbox: outbox,
    statementSettings: { sellerName: 'Contoso' },
    alarm: (problem) => {
      alarms.push(problem);
    },
    clock: { now: () => NOW },
  };
  return { deps, index, archive, outbox, alarms, ledgerPages, states, lines, ledger };
}

describe('generateStatements', () => {
  it("ties WE-8's Q3 to the partner's ledger legs, finding the payout posted in October", async () => {
    const f = fixture();
    const summary = await generateStatements(f.deps, { period: '2025-Q3' });
    expect(summary.problems).toEqual([]);
    expect(summary.issued).toEqual([
      expect.objectContaining({ partnerId: WE8_PARTNER, sequence: 1, delivery: 'sent' }),
    ]);
    const json = await getStatement(f.deps, WE8_PARTNER, '2025-Q3', 'json');
    const statement = decodeStatementJson(new TextDecoder().decode(json.body));
    expect(statement.payouts.map((p) => [p.dueDate, p.amountMinor])).toEqual([
      ['2025-10-15', usd('3981.36')],
    ]);
    expect(statement.ledger).toMatchObject({ payableMinor: 0n, heldMinor: usd('9985.32') });
    // Read from the first month with state through the period end, then October (late postings).
    expect([...new Set(f.ledgerPages.map((p) => p.period))]).toEqual([
      '2025-07',
      '2025-08',
      '2025-09',
      '2025-10',
    ]);
    expect(f.ledgerPages.every((p) => p.limit === STATEMENT_LEDGER_PAGE_SIZE)).toBe(true);
    const record = await f.index.get(WE8_PARTNER, '2025-Q3');
    for (const format of ['pdf', 'csv', 'json'] as const) {
      const body = f.archive.objects.get(record?.files[format].key ?? '');
      expect(body && sha256Hex(body)).toBe(record?.files[format].sha256);
    }
    expect(f.outbox.sent).toHaveLength(1);
    expect(f.outbox.sent[0]).toMatchObject({
      to: ['finance@p100.example'],
      subject: 'Commission statement 2025-Q3 — Contoso',
      attachments: [
        { filename: 'commission-statement-P-100-2025-Q3.pdf', contentType: 'application/pdf' },
      ],
    });
    expect(f.outbox.sent[0]?.text).toContain('Payable this period: 3,981.36 USD');
    expect(await verifyStatements(f.deps, WE8_PARTNER)).toEqual({
      ok: true,
      partnerId: WE8_PARTNER,
      statements: 1,
    });
  });

  it('completes a run that stopped after indexing, from the very same content', async () => {
    const f = fixture();
    f.archive.failPuts = 1;
    const first = await generateStatements(f.deps, { period: '2025-Q3' });
    expect(first.issued).toEqual([]);
    expect(first.problems.map((p) => p.code)).toEqual(['unexpected_error']);
    expect((await f.index.get(WE8_PARTNER, '2025-Q3'))?.archived).toBe(false);
    await expect(getStatement(f.deps, WE8_PARTNER, '2025-Q3')).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(f.outbox.sent).toEqual([]);
    const recorded = await f.index.get(WE8_PARTNER, '2025-Q3');

    const second = await generateStatements(f.deps, {
      period: '2025-Q3',
      issuedAt: '2025-10-20T00:00:00.000Z',
    });
    expect(second).toMatchObject({ issued: [], alreadyIssued: [WE8_PARTNER], emailsSent: 1 });
    expect(second.problems).toEqual([]);
    const record = await f.index.get(WE8_PARTNER, '2025-Q3');
    expect(record).toMatchObject({ archived: true, hash: recorded?.hash, files: recorded?.files });
    const statement = decodeStatementJson(
      new TextDecoder().decode((await getStatement(f.deps, WE8_PARTNER, '2025-Q3', 'json')).body),
    );
    expect(statement.issuedAt).toBe(NOW);
    expect((await verifyStatements(f.deps, WE8_PARTNER)).ok).toBe(true);
  });

  it('alarms instead of archiving when the data moved since the statement was indexed', async () => {
    const f = fixture();
    f.archive.failPuts = 1;
    await generateStatements(f.deps, { period: '2025-Q3' });
    // A line disappears: the rebuilt statement no longer has the indexed hash.
    const line = f.lines.findIndex((l) => l.contractId === 'D-3');
    f.lines.splice(line, 1);
    const again = await generateStatements(f.deps, { period: '2025-Q3' });
    expect(again.problems.map((p) => p.code)).toEqual(['statement_does_not_tie']);
    f.lines.push(we8World().lines.find((l) => l.contractId === 'D-3') as CommissionLine);
    const d1 = f.lines.find(
      (l) => l.period === '2025-09' && l.contractId === 'D-1',
    ) as CommissionLine;
    // Same balances, another product name: it ties, but it is not the statement indexed.
    f.lines.splice(f.lines.indexOf(d1), 1, { ...d1, product: 'renamed-product' });
    const third = await generateStatements(f.deps, { period: '2025-Q3' });
    expect(third.problems.map((p) => p.code)).toEqual(['statement_archive_incomplete']);
    expect(f.alarms.map((a) => a.code)).toEqual([
      'statement_does_not_tie',
      'statement_archive_incomplete',
    ]);
    expect((await f.index.get(WE8_PARTNER, '2025-Q3'))?.archived).toBe(false);
    expect(await verifyStatements(f.deps, WE8_PARTNER)).toMatchObject({
      ok: false,
      reason: 'not_archived',
    });
  });

  it('never forks the chain: a statement issued meanwhile makes this one wait for a rerun', async () => {
    const f = fixture();
    f.index.beforeAdd = () => {
      f.index.beforeAdd = null;
      f.index.heads.set(WE8_PARTNER, { sequence: 1, hash: 'f'.repeat(64), period: '2025-06' });
    };
    const summary = await generateStatements(f.deps, { period: '2025-Q3' });
    expect(summary.issued).toEqual([]);
    expect(summary.problems.map((p) => p.code)).toEqual(['statement_chain_moved']);
    expect(f.archive.objects.size).toBe(0);
  });

  it('skips the email for a partner without statement contacts', async () => {
    const f = fixture(we8World(), []);
    const summary = await generateStatements(f.deps, { period: '2025-Q3', partnerId: WE8_PARTNER });
    expect(summary.issued.map((s) => s.delivery)).toEqual(['skipped']);
    expect(f.outbox.sent).toEqual([]);
    expect((await f.index.get(WE8_PARTNER, '2025-Q3'))?.delivery.status).toBe('skipped');
  });

  it(`retries a failed email on later runs, at most ${STATEMENT_EMAIL_ATTEMPTS_MAX} times`, async () => {
    const f = fixture();
    f.outbox.failures = 100;
    for (let run = 0; run < STATEMENT_EMAIL_ATTEMPTS_MAX + 2; run += 1) {
      await generateStatements(f.deps, { period: '2025-Q3' });
    }
    expect((await f.index.get(WE8_PARTNER, '2025-Q3'))?.delivery).toMatchObject({
      status: 'failed',
      attempts: STATEMENT_EMAIL_ATTEMPTS_MAX,
      error: expect.stringContaining('SES is throttling'),
    });
    expect(f.outbox.failures).toBe(100 - STATEMENT_EMAIL_ATTEMPTS_MAX);
  });

  it('builds a monthly statement with the quarter-to-date accelerator, chained after Q3', async () => {
    const f = fixture();
    await generateStatements(f.deps, { period: '2025-Q3' });
    const summary = await generateStatements(f.deps, { period: '2025-09' });
    expect(summary.issued.map((s) => s.sequence)).toEqual([2]);
    const statement = decodeStatementJson(
      new TextDecoder().decode((await getStatement(f.deps, WE8_PARTNER, '2025-09', 'json')).body),
    );
    expect(statement.previousHash).toBe((await f.index.get(WE8_PARTNER, '2025-Q3'))?.hash);
    expect(statement.accelerator?.measureMinor).toBe(usd('134305.66'));
    expect(statement.summary.earnedMinor).toBe(usd('11467.82'));
    expect((await listStatements(f.deps, WE8_PARTNER)).items.map((r) => r.period)).toEqual([
      '2025-Q3',
      '2025-09',
    ]);
    expect(await verifyStatements(f.deps, WE8_PARTNER)).toMatchObject({ ok: true, statements: 2 });
  });

  it("shows the partner's share from the attribution version its lines used", async () => {
    const f = fixture();
    const version = (n: number, weight: [bigint, bigint]) =>
      ({
        contractId: 'D-1',
        version: n,
        shares: [{ partnerId: WE8_PARTNER, weight: { num: weight[0], den: weight[1] } }],
      }) as unknown as AttributionVersion;
    const pages: PageRequest[] = [];
    const deps: StatementDeps = {
      ...f.deps,
      attribution: {
        latest: async (contractId) => (contractId === 'D-1' ? version(2, [1n, 3n]) : null),
        versions: async (_contractId, page) => {
          pages.push(page);
          return pageOf([version(2, [1n, 3n]), version(1, [1n, 2n])], page);
        },
      },
    };
    await generateStatements(deps, { period: '2025-Q3' });
    const statement = decodeStatementJson(
      new TextDecoder().decode((await getStatement(deps, WE8_PARTNER, '2025-Q3', 'json')).body),
    );
    const d1 = statement.lines.filter((l) => l.contractId === 'D-1');
    expect(d1.map((l) => l.attributionSharePercent)).toEqual(['50', '50', '50']);
    expect(statement.lines.find((l) => l.contractId === 'D-2')?.attributionSharePercent).toBeNull();
    expect(pages.length).toBeGreaterThan(0);
  });

  it("waits for the commission run of the period's last month", async () => {
    const f = fixture();
    f.states.delete(`${WE8_PARTNER}#2025-09`);
    const summary = await generateStatements(f.deps, { period: '2025-Q3' });
    expect(summary.issued).toEqual([]);
    expect(summary.problems).toEqual([
      expect.objectContaining({ partnerId: WE8_PARTNER, code: 'commission_month_missing' }),
    ]);
    expect(f.index.records.size).toBe(0);
  });

  it('refuses an unknown partner and reports a partner without commission state', async () => {
    const f = fixture();
    await expect(
      generateStatements(f.deps, { period: '2025-Q3', partnerId: 'P-999' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    const summary = await generateStatements(f.deps, { period: '2025-Q2', partnerId: WE8_PARTNER });
    expect(summary.problems.map((p) => p.code)).toEqual(['no_commission_state']);
    expect(summary.partners).toBe(0);
    await expect(generateStatements(f.deps, { period: '2025-13' })).rejects.toMatchObject({
      code: 'invalid_statement_period',
    });
  });
});

describe('verifyStatements', () => {
  it('finds a chain head beyond the statements indexed, and a JSON that is not the one indexed', async () => {
    const f = fixture();
    await generateStatements(f.deps, { period: '2025-Q3' });
    const head = f.index.heads.get(WE8_PARTNER) as StatementChainHead;
    f.index.heads.set(WE8_PARTNER, { ...head, sequence: 2, hash: 'e'.repeat(64) });
    expect(await verifyStatements(f.deps, WE8_PARTNER)).toMatchObject({
      ok: false,
      reason: 'missing_link',
    });
    f.index.heads.set(WE8_PARTNER, head);

    const record = (await f.index.get(WE8_PARTNER, '2025-Q3')) as StatementRecord;
    const other = fixture();
    await generateStatements(other.deps, { period: '2025-Q3', issuedAt: '2025-10-17T00:00:00Z' });
    const foreignRecord = (await other.index.get(WE8_PARTNER, '2025-Q3')) as StatementRecord;
    const foreign = other.archive.objects.get(foreignRecord.files.json.key) as Uint8Array;
    f.archive.objects.set(record.files.json.key, foreign);
    f.index.records.set(`${WE8_PARTNER}#2025-Q3`, {
      ...record,
      files: { ...record.files, json: { ...record.files.json, sha256: sha256Hex(foreign) } },
    });
    expect(await verifyStatements(f.deps, WE8_PARTNER)).toMatchObject({
      ok: false,
      period: '2025-Q3',
      reason: 'index_mismatch',
    });
  });
});
