// Proves partner statements end to end on DynamoDB Local, a folder archive and a folder email outbox: WE-8's Q3 statement generated from commission data stored through DynamoCommissionStore shows 14,116.68 / 4,131.36 / 9,985.32 / 3,981.36 in PDF (read back with pdfjs), CSV and JSON, ties to 2100/2110, is emailed as an .eml with the PDF attached, is not issued twice, chains to October's statement, and `verifyStatements` catches a changed JSON, PDF or index; a partner whose ledger does not tie gets no statement and raises the alarm; a failed email is retried by the next run.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartnerPeriodState } from '../../../lib/app/commission-run';
import type { EmailMessage, EmailOutbox } from '../../../lib/app/reminder-ports';
import {
  generateStatements,
  getStatement,
  listStatements,
  type StatementDeps,
  type StatementProblem,
  type StatementRecord,
  statementMessageId,
  verifyStatements,
} from '../../../lib/app/statements';
import {
  computePartnerPeriod,
  dealPeriodInputFor,
  type PartnerPeriodResult,
} from '../../../lib/domain/commission/engine';
import type { ContractSnapshot } from '../../../lib/domain/contract';
import { sha256Hex } from '../../../lib/domain/ids';
import { functionalLeg, type JournalEntry } from '../../../lib/domain/ledger';
import { newPartner } from '../../../lib/domain/partners/partner';
import {
  decodeStatementJson,
  type StatementMonthState,
  statementIdFor,
} from '../../../lib/domain/statements/statement';
import { EmailSendError, FolderEmailOutbox } from '../../../lib/outbound/email-outbox';
import { FolderStatementArchive } from '../../../lib/outbound/statement-archive';
import { loadStatementFonts } from '../../../lib/statements/fonts';
import { createStatementRenderer } from '../../../lib/statements/renderer';
import { DynamoCommissionPlanStore } from '../../../lib/store/commission-plan-store';
import { DynamoCommissionStore } from '../../../lib/store/commission-store';
import type { DynamoStore } from '../../../lib/store/dynamo-store';
import { decodeExact, encodeExact, journalEntryItem } from '../../../lib/store/ledger-items';
import { DynamoLedgerStore } from '../../../lib/store/ledger-store';
import { DynamoPartnerStore } from '../../../lib/store/partner-store';
import { DynamoStatementIndex, statementRecordKey } from '../../../lib/store/statement-store';
import {
  usd,
  WE8_CONTRACTS,
  WE8_PARTNER,
  WE8_PLAN,
  we8October,
  we8World,
} from '../../unit/helpers/we8-statement';
import { freshStore } from '../helpers';

const NOW = '2025-10-16T08:00:00.000Z';
const SELLER = 'Contoso Analytics Inc.';
const P100_CONTACTS = ['partner-finance@northwind.example', 'ap@northwind.example'];
const P400_CONTACT = 'ops@fabrikam.example';

function postingState(state: StatementMonthState, runId: string): PartnerPeriodState {
  return { ...state, runId, dealEarnedByQuarter: {}, computedAt: '2025-10-02T06:00:00Z' };
}

/** A partner's September: one deal of 1,000.00 recognized, disbursed (payable, paid). */
function simpleSeptember(partnerId: string, contractId: string): PartnerPeriodResult {
  return computePartnerPeriod({
    partnerId,
    tier: 'Gold',
    period: '2025-09',
    plan: WE8_PLAN,
    functionalCurrency: 'USD',
    source: { kind: 'run', id: 'commission:2025-09' },
    opening: { payableMinor: 0n, heldMinor: 0n },
    deals: [
      dealPeriodInputFor({
        partnerId,
        period: '2025-09',
        basisKind: 'recognized',
        contractId,
        dealType: 'sourced',
        product: 'agora-analytics',
        attributionVersion: 1,
        shares: [{ partnerId, weight: { num: 1n, den: 1n }, firstTouchAt: '2025-01-01T00:00:00Z' }],
        facts: {
          recognizedCumulative: [{ period: '2025-09', cumulativeMinor: usd('1000.00') }],
          invoices: [
            {
              invoiceId: `invoice:${contractId}`,
              date: '2025-09-01',
              amountMinor: usd('1000.00'),
              disbursedOn: '2025-09-20',
            },
          ],
        },
      }),
    ],
  });
}

function stateOf(result: PartnerPeriodResult): StatementMonthState {
  return {
    partnerId: result.partnerId,
    period: result.period,
    planId: result.planId,
    planVersion: result.planVersion,
    tier: result.tier,
    opening: result.opening,
    closing: result.closing,
    heldLines: [],
    entryIds: result.entries.map((e) => e.entryId),
    payoutId: result.payout?.payoutId ?? null,
  };
}

/** An adjustment on 2100 that no commission month names: the ledger no longer ties. */
function strayAdjustment(partnerId: string): JournalEntry {
  return {
    schemaVersion: 1,
    entryId: `je_stray_${partnerId}`,
    date: '2025-09-15',
    postingPeriod: '2025-09',
    functionalCurrency: 'USD',
    description: 'Manual adjustment outside the commission run',
    source: { kind: 'manual', id: `manual-${partnerId}` },
    rule: 'manual-adjustment',
    ruleVersion: 1,
    reversalOf: null,
    legs: [
      functionalLeg('debit', '6100', 'USD', usd('25.00'), { partnerId }),
      functionalLeg('credit', '2100', 'USD', usd('25.00'), { partnerId }),
    ],
  };
}

/** An outbox that refuses one recipient until told otherwise. */
class FlakyOutbox implements EmailOutbox {
  failing = true;
  constructor(private readonly inner: FolderEmailOutbox) {}
  async send(message: EmailMessage): Promise<string> {
    if (this.failing && message.to.includes(P400_CONTACT)) {
      throw new EmailSendError('email_unavailable', 'SES throttled the request', false);
    }
    return this.inner.send(message);
  }
}

async function pdfText(body: Uint8Array): Promise<string[]> {
  const doc = await getDocument({ data: new Uint8Array(body), verbosity: 0 }).promise;
  const pages: string[] = [];
  for (let n = 1; n <= doc.numPages; n += 1) {
    const content = await (await doc.getPage(n)).getTextContent();
    pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  await doc.destroy();
  return pages;
}

/** Headers and parts of a multipart .eml (unfolded headers, CRLF). */
function mimeParts(eml: string): { headers: Map<string, string>; parts: string[] } {
  const split = eml.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of eml
    .slice(0, split)
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const boundary = /boundary="([^"]+)"/.exec(headers.get('Content-Type') ?? '')?.[1] ?? '';
  const body = eml.slice(split + 4);
  const parts = body
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => p.replace(/^\r\n/, '').replace(/\r\n$/, ''));
  expect(body.trimEnd().endsWith(`--${boundary}--`)).toBe(true);
  return { headers, parts };
}

describe('partner statements on DynamoDB Local with a folder archive and outbox', () => {
  let store: DynamoStore;
  let dir: string;
  let deps: StatementDeps;
  let outbox: FlakyOutbox;
  let archive: FolderStatementArchive;
  const alarms: StatementProblem[] = [];
  const world = we8World();

  beforeAll(async () => {
    store = await freshStore();
    dir = await mkdtemp(join(tmpdir(), 'agora-statements-'));
    const partners = new DynamoPartnerStore(store);
    const at = '2025-01-02T00:00:00.000Z';
    const partner = (partnerId: string, legalName: string, contacts: string[]) =>
      newPartner(
        {
          partnerId,
          legalName,
          type: 'referral',
          tier: 'Gold',
          tierEffectiveFrom: '2025-01-01',
          payoutCurrency: 'USD',
          statementContacts: contacts.map((email) => ({ name: null, email })),
          marketplaceAccounts: [],
        },
        at,
      );
    await partners.create(partner(WE8_PARTNER, 'Northwind Partners Ltd', P100_CONTACTS));
    await partners.create(partner('P-200', 'Litware Consulting', ['finance@litware.example']));
    await partners.create(partner('P-300', 'Tailspin Resale', []));
    await partners.create(partner('P-400', 'Fabrikam Partners', [P400_CONTACT]));
    const plans = new DynamoCommissionPlanStore(store);
    await plans.add(WE8_PLAN);

    const commissions = new DynamoCommissionStore(store);
    for (const [index, state] of world.states.entries()) {
      const result = world.results[index] as PartnerPeriodResult;
      await commissions.postPartnerPeriod({
        partnerId: WE8_PARTNER,
        period: state.period,
        entries: result.entries,
        lines: world.lines.filter((l) => l.period === state.period),
        state: postingState(state, `commission:${state.period}`),
      });
    }
    for (const [partnerId, contractId] of [
      ['P-200', 'D-20'],
      ['P-400', 'D-40'],
    ] as const) {
      const result = simpleSeptember(partnerId, contractId);
      await commissions.postPartnerPeriod({
        partnerId,
        period: '2025-09',
        entries: result.entries,
        lines: result.lines,
        state: postingState(stateOf(result), 'commission:2025-09'),
      });
    }
    await store.put('journal-entry', journalEntryItem(strayAdjustment('P-200')));

    const contracts: Record<string, ContractSnapshot> = Object.fromEntries(
      Object.entries(WE8_CONTRACTS).map(([contractId, facts]) => [
        contractId,
        {
          contractId,
          marketplace: facts.marketplace,
          terms: {
            productId: facts.product,
            buyer: { accountId: `acct-${contractId}`, name: facts.customerName },
          },
        } as unknown as ContractSnapshot,
      ]),
    );
    outbox = new FlakyOutbox(
      new FolderEmailOutbox(join(dir, 'outbox'), 'Contoso <statements@contoso.example>'),
    );
    archive = new FolderStatementArchive(join(dir, 'statements'));
    deps = {
      partners,
      commissions,
      ledger: new DynamoLedgerStore(store),
      contracts: { get: async (contractId) => contracts[contractId] ?? null },
      commissionPlans: plans,
      revenue: { functionalCurrency: 'USD' },
      statementArchive: archive,
      statementIndex: new DynamoStatementIndex(store),
      statementRenderer: createStatementRenderer({
        fonts: await loadStatementFonts(),
        sellerName: SELLER,
      }),
      emailOutbox: outbox,
      statementSettings: { sellerName: SELLER },
      alarm: (problem) => {
        alarms.push(problem);
      },
      clock: { now: () => NOW },
    };
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('issues Q3: P-100 emailed, P-400 issued despite a failed email, P-200 refused and alarmed', async () => {
    const progress: [number, number][] = [];
    const summary = await generateStatements(deps, {
      period: '2025-Q3',
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(summary).toMatchObject({
      period: '2025-Q3',
      currency: 'USD',
      partners: 3,
      alreadyIssued: [],
      emailsSent: 1,
      emailsFailed: 1,
      problemCount: 2,
    });
    expect(progress).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(summary.issued.map((s) => [s.partnerId, s.sequence, s.delivery])).toEqual([
      [WE8_PARTNER, 1, 'sent'],
      ['P-400', 1, 'failed'],
    ]);
    expect(summary.problems.map((p) => [p.partnerId, p.code])).toEqual([
      ['P-200', 'statement_does_not_tie'],
      ['P-400', 'email_failed:email_unavailable'],
    ]);
    expect(summary.problems[0]?.message).toContain('closing payable 0.00 / held 0.00');
    expect(summary.problems[0]?.message).toContain('ledger 2100 25.00 / 2110 0.00');
    expect(alarms).toEqual([
      expect.objectContaining({ partnerId: 'P-200', code: 'statement_does_not_tie' }),
    ]);
    await expect(getStatement(deps, 'P-200', '2025-Q3')).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await deps.statementIndex.get('P-400', '2025-Q3'))?.delivery).toMatchObject({
      status: 'failed',
      attempts: 1,
    });
  });

  it("shows WE-8's figures in JSON, CSV and PDF, tied to the ledger", async () => {
    const json = await getStatement(deps, WE8_PARTNER, '2025-Q3', 'json');
    expect(json).toMatchObject({
      statementId: statementIdFor(WE8_PARTNER, '2025-Q3'),
      contentType: 'application/json; charset=utf-8',
      filename: 'commission-statement-P-100-2025-Q3.json',
    });
    const statement = decodeStatementJson(new TextDecoder().decode(json.body));
    expect(statement.hash).toBe(json.hash);
    expect(statement.summary).toMatchObject({
      earnedMinor: usd('14116.68'),
      clawedBackMinor: usd('150.00'),
      payableMinor: usd('3981.36'),
      paidMinor: usd('3981.36'),
      closingHeldMinor: usd('9985.32'),
      closingMinor: usd('9985.32'),
    });
    expect(statement.ledger).toMatchObject({ payableMinor: 0n, heldMinor: usd('9985.32') });
    expect(statement.byContract.map((c) => [c.contractId, c.earnedMinor])).toEqual([
      ['D-1', usd('4131.36')],
      ['D-2', usd('9985.32')],
      ['D-3', 0n],
    ]);
    expect(statement.lines.find((l) => l.section === 'clawback')).toMatchObject({
      amountMinor: -usd('150.00'),
      reversesLineId: expect.stringMatching(/^cl_/),
    });
    expect(statement.lines[0]).toMatchObject({
      customer: 'G***** C**********',
      marketplace: 'aws',
    });
    const text = new TextDecoder().decode(json.body);
    expect(text).toContain('"earnedFormatted": "14,116.68"');

    const csv = await getStatement(deps, WE8_PARTNER, '2025-Q3', 'csv');
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    const csvText = new TextDecoder().decode(csv.body);
    expect(csvText).toContain('\r\nearned,14116.68,USD\r\n');
    expect(csvText).toContain('\r\npayable_this_period,3981.36,USD\r\n');
    expect(csvText).toContain('\r\nD-1,aws,G***** C**********,agora-analytics,4131.36,');
    expect(csvText).toContain('\r\nD-2,azure,I****** G***,agora-analytics,9985.32,9985.32,');
    expect(csvText).toContain(',clawed_back,');

    const pdf = await getStatement(deps, WE8_PARTNER, '2025-Q3', 'pdf');
    expect(pdf.contentType).toBe('application/pdf');
    const pages = await pdfText(pdf.body);
    const all = pages.join('\n');
    for (const figure of ['14,116.68', '4,131.36', '9,985.32', '3,981.36', '-150.00']) {
      expect(all).toContain(figure);
    }
    expect(all).toContain(statement.statementId);
    expect(all).toContain(SELLER);
    expect(pages[0]).toContain(`Page 1 of ${pages.length}`);
  });

  it('emails the PDF to the statement contacts as a multipart .eml', async () => {
    const files = await readdir(join(dir, 'outbox'));
    expect(files).toEqual([`${statementMessageId(WE8_PARTNER, '2025-Q3')}.eml`]);
    const eml = await readFile(join(dir, 'outbox', files[0] as string), 'utf8');
    const { headers, parts } = mimeParts(eml);
    expect(headers.get('To')).toBe(P100_CONTACTS.join(', '));
    expect(headers.get('Content-Type')).toMatch(
      /^multipart\/mixed; boundary="=_agora_[0-9a-f]{32}"$/,
    );
    expect(parts).toHaveLength(2);
    expect(parts[0]).toContain('Content-Type: text/plain; charset=utf-8');
    expect(parts[1]).toContain(
      'Content-Disposition: attachment; filename="commission-statement-P-100-2025-Q3.pdf"',
    );
    const base64 = (parts[1] ?? '').split('\r\n\r\n')[1] ?? '';
    const attached = Buffer.from(base64.replace(/\r\n/g, ''), 'base64');
    const archived = await getStatement(deps, WE8_PARTNER, '2025-Q3', 'pdf');
    expect(sha256Hex(attached)).toBe(sha256Hex(archived.body));
    const record = await deps.statementIndex.get(WE8_PARTNER, '2025-Q3');
    expect(record?.files.pdf.sha256).toBe(sha256Hex(attached));
    expect(record?.delivery).toMatchObject({ status: 'sent', to: P100_CONTACTS, attempts: 1 });
  });

  it('issues nothing again on a rerun, and retries the failed email', async () => {
    const before = await deps.statementIndex.get(WE8_PARTNER, '2025-Q3');
    const emlBefore = await readFile(
      join(dir, 'outbox', `${statementMessageId(WE8_PARTNER, '2025-Q3')}.eml`),
    );
    outbox.failing = false;
    const summary = await generateStatements(deps, {
      period: '2025-Q3',
      issuedAt: '2025-10-20T00:00:00Z',
    });
    expect(summary.issued).toEqual([]);
    expect(summary.alreadyIssued).toEqual([WE8_PARTNER, 'P-400']);
    expect(summary.emailsSent).toBe(1);
    expect(summary.problems.map((p) => [p.partnerId, p.code])).toEqual([
      ['P-200', 'statement_does_not_tie'],
    ]);
    expect(await deps.statementIndex.get(WE8_PARTNER, '2025-Q3')).toEqual(before);
    expect(
      await readFile(join(dir, 'outbox', `${statementMessageId(WE8_PARTNER, '2025-Q3')}.eml`)),
    ).toEqual(emlBefore);
    expect((await deps.statementIndex.get('P-400', '2025-Q3'))?.delivery).toMatchObject({
      status: 'sent',
      attempts: 2,
    });
    expect(await readdir(join(dir, 'outbox'))).toHaveLength(2);
  });

  it('chains October to Q3 and verifies the chain', async () => {
    const october = we8October(world);
    const commissions = new DynamoCommissionStore(store);
    await commissions.postPartnerPeriod({
      partnerId: WE8_PARTNER,
      period: '2025-10',
      entries: october.result.entries,
      lines: october.result.lines,
      state: postingState(october.state, 'commission:2025-10'),
    });
    const summary = await generateStatements(
      { ...deps, clock: { now: () => '2025-11-05T08:00:00.000Z' } },
      { period: '2025-10', partnerId: WE8_PARTNER },
    );
    expect(summary.issued.map((s) => [s.partnerId, s.sequence])).toEqual([[WE8_PARTNER, 2]]);
    const statement = decodeStatementJson(
      new TextDecoder().decode((await getStatement(deps, WE8_PARTNER, '2025-10', 'json')).body),
    );
    const q3 = await deps.statementIndex.get(WE8_PARTNER, '2025-Q3');
    expect(statement.previousHash).toBe(q3?.hash);
    expect(statement.summary).toMatchObject({
      openingHeldMinor: usd('9985.32'),
      releasedMinor: usd('9985.32'),
      payableMinor: usd('9985.32'),
      closingPayableMinor: usd('9985.32'),
      closingHeldMinor: 0n,
    });
    expect(statement.releases).toEqual([
      expect.objectContaining({
        date: '2025-10-20',
        contractId: 'D-2',
        amountMinor: usd('9985.32'),
      }),
    ]);
    expect(await verifyStatements(deps, WE8_PARTNER)).toEqual({
      ok: true,
      partnerId: WE8_PARTNER,
      statements: 2,
    });
    const listed = await listStatements(deps, WE8_PARTNER);
    expect(listed.items.map((r) => [r.period, r.sequence])).toEqual([
      ['2025-Q3', 1],
      ['2025-10', 2],
    ]);
  });

  it('catches a changed JSON or PDF in the archive, and a JSON re-registered in the index', async () => {
    const q3 = await deps.statementIndex.get(WE8_PARTNER, '2025-Q3');
    const oct = await deps.statementIndex.get(WE8_PARTNER, '2025-10');
    if (!q3 || !oct) throw new Error('both statements are issued');
    const jsonFile = archive.fileFor(q3.files.json.key);
    const pdfFile = archive.fileFor(oct.files.pdf.key);
    const json = await readFile(jsonFile, 'utf8');
    const pdf = await readFile(pdfFile);

    await writeFile(jsonFile, json.replace('"earnedMinor": "1411668"', '"earnedMinor": "1511668"'));
    expect(await verifyStatements(deps, WE8_PARTNER)).toMatchObject({
      ok: false,
      period: '2025-Q3',
      reason: 'file_changed',
    });

    // Someone who could also rewrite the index's file hash is caught by the content hash.
    const item = await store.get(statementRecordKey(WE8_PARTNER, '2025-Q3'));
    const data = decodeExact<Record<string, Record<string, Record<string, unknown>>>>(
      String(item?.data),
    );
    const tampered = await readFile(jsonFile);
    const files = data.files as Record<string, Record<string, unknown>>;
    files.json = { ...files.json, sha256: sha256Hex(tampered), bytes: tampered.byteLength };
    await store.put('statement', {
      ...(item as { pk: string; sk: string }),
      data: encodeExact(data),
    });
    expect(await verifyStatements(deps, WE8_PARTNER)).toMatchObject({
      ok: false,
      period: '2025-Q3',
      reason: 'content_changed',
    });
    await store.put('statement', item as { pk: string; sk: string });
    await writeFile(jsonFile, json);
    expect((await verifyStatements(deps, WE8_PARTNER)).ok).toBe(true);

    await writeFile(pdfFile, Buffer.concat([pdf, Buffer.from('%tampered\n')]));
    expect(await verifyStatements(deps, WE8_PARTNER)).toMatchObject({
      ok: false,
      period: '2025-10',
      reason: 'file_changed',
    });
    await rm(pdfFile);
    expect(await verifyStatements(deps, WE8_PARTNER)).toMatchObject({
      ok: false,
      period: '2025-10',
      reason: 'file_missing',
    });
    await writeFile(pdfFile, pdf);
    expect(await verifyStatements(deps, WE8_PARTNER)).toEqual({
      ok: true,
      partnerId: WE8_PARTNER,
      statements: 2,
    });
  });

  it('refuses a period that has not ended and an unknown format', async () => {
    await expect(generateStatements(deps, { period: '2025-Q4' })).rejects.toMatchObject({
      code: 'period_not_over',
    });
    await expect(getStatement(deps, WE8_PARTNER, '2025-Q3', 'xlsx')).rejects.toMatchObject({
      code: 'invalid_format',
    });
    await expect(getStatement(deps, 'P-999', '2025-Q3', 'pdf')).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('DynamoStatementIndex on DynamoDB Local', () => {
  const record = (partnerId: string, period: string, sequence: number): StatementRecord => {
    const file = (format: string) => ({
      key: `statements/${partnerId}/${period}/x.${format}`,
      contentType: 'application/octet-stream',
      sha256: sha256Hex(`${period}.${format}`),
      bytes: 1,
    });
    return {
      partnerId,
      period,
      statementId: statementIdFor(partnerId, period),
      sequence,
      hash: sha256Hex(`${partnerId}${period}`),
      previousHash: sequence === 1 ? null : 'prev',
      issuedAt: NOW,
      currency: 'USD',
      payableMinor: 1n,
      paidMinor: 0n,
      closingPayableMinor: 1n,
      closingHeldMinor: 0n,
      files: { pdf: file('pdf'), csv: file('csv'), json: file('json') },
      archived: false,
      delivery: {
        status: 'pending',
        to: ['a@example.com'],
        messageId: null,
        attempts: 0,
        error: null,
        at: null,
      },
    };
  };

  it('adds a period once, never forks the chain, updates only archive and delivery, and pages', async () => {
    const index = new DynamoStatementIndex(await freshStore());
    expect(await index.add(record('P-1', '2025-07', 1))).toBe('added');
    expect(await index.add(record('P-1', '2025-07', 2))).toBe('exists');
    expect(await index.add(record('P-1', '2025-08', 1))).toBe('chain_moved');
    expect(await index.add(record('P-1', '2025-08', 3))).toBe('chain_moved');
    expect(await index.add(record('P-1', '2025-08', 2))).toBe('added');
    expect(await index.head('P-1')).toEqual({
      sequence: 2,
      hash: record('P-1', '2025-08', 2).hash,
      period: '2025-08',
    });
    expect(await index.get('P-1', '2025-07')).toEqual(record('P-1', '2025-07', 1));
    await index.markArchived('P-1', '2025-07');
    const delivery = {
      status: 'sent' as const,
      to: ['a@example.com'],
      messageId: 'm-1',
      attempts: 1,
      error: null,
      at: NOW,
    };
    await index.markDelivery('P-1', '2025-07', delivery);
    expect(await index.get('P-1', '2025-07')).toEqual({
      ...record('P-1', '2025-07', 1),
      archived: true,
      delivery,
    });
    await expect(index.markArchived('P-1', '2024-01')).rejects.toMatchObject({
      code: 'condition_failed',
    });
    for (const [sequence, period] of ['2025-09', '2025-10', '2025-11'].entries()) {
      expect(await index.add(record('P-1', period, sequence + 3))).toBe('added');
    }
    const first = await index.list('P-1', { limit: 2 });
    expect(first.items.map((r) => r.period)).toEqual(['2025-11', '2025-10']);
    const rest = await index.list('P-1', { limit: 10, cursor: first.cursor ?? undefined });
    expect(rest.items.map((r) => r.period)).toEqual(['2025-09', '2025-08', '2025-07']);
    expect(rest.cursor).toBeNull();
    expect(await index.list('P-2', { limit: 5 })).toEqual({ items: [], cursor: null });
    expect(await index.head('P-2')).toBeNull();
  });
});
