// Proves the statement renderers: the CSV is RFC 4180 (quoted fields, doubled quotes, CRLF) with one row per line under a header and each summary section as its own table, text cells that would run as spreadsheet formulas are neutralised while numbers are not; the JSON reads back to the same statement and hash; the PDF of WE-8's statement, read back with pdfjs, shows 14,116.68 / 4,131.36 / 9,985.32 / 3,981.36, the statement id, its hash and "Page n of m" on every page, repeats the line table's headers on every page, and is byte-for-byte deterministic.
import Papa from 'papaparse';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CommissionLine } from '../../../lib/domain/commission/engine';
import { deterministicId } from '../../../lib/domain/ids';
import {
  buildStatement,
  type Statement,
  statementHash,
} from '../../../lib/domain/statements/statement';
import {
  FONTS_DIR_ENV,
  loadStatementFonts,
  type StatementFonts,
  statementFontsDir,
} from '../../../lib/statements/fonts';
import {
  CSV_LINE_COLUMNS,
  csvCell,
  renderStatementCsv,
  statementCsv,
} from '../../../lib/statements/render-csv';
import { readStatementJson, renderStatementJson } from '../../../lib/statements/render-json';
import { renderStatementPdf } from '../../../lib/statements/render-pdf';
import { usd, we8StatementInput, we8World } from '../helpers/we8-statement';

const SELLER = 'Contoso Analytics Inc.';

/** Splits the CSV (BOM stripped) into its sections, each parsed as rows of strings. */
function csvSections(text: string): string[][][] {
  expect(text.startsWith('\uFEFF')).toBe(true);
  expect(text).not.toMatch(/[^\r]\n/);
  return text
    .slice(1)
    .split('\r\n\r\n')
    .map((section) => {
      const parsed = Papa.parse<string[]>(section.trimEnd(), { newline: '\r\n' });
      expect(parsed.errors).toEqual([]);
      return parsed.data;
    });
}

async function pdfPages(body: Uint8Array): Promise<string[]> {
  const doc = await getDocument({ data: new Uint8Array(body), verbosity: 0 }).promise;
  const pages: string[] = [];
  for (let n = 1; n <= doc.numPages; n += 1) {
    const content = await (await doc.getPage(n)).getTextContent();
    pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  await doc.destroy();
  return pages;
}

/** A statement with hostile text in every free-text field. */
function hostile(): Statement {
  const world = we8World();
  const products: Record<string, string> = { 'D-1': "=cmd|' /C calc'!A0", 'D-2': '-2+3' };
  return buildStatement(
    we8StatementInput(world, {
      partner: {
        partnerId: 'P-100',
        name: '=HYPERLINK("http://evil.example","Click"), "Ltd"',
        tier: 'Gold',
      },
      lines: world.lines.map((l) => ({ ...l, product: products[l.contractId] ?? l.product })),
      contracts: {
        'D-1': { marketplace: 'aws', customerName: '+Globex\nCorporation', product: null },
        'D-2': { marketplace: 'azure', customerName: '@Initech', product: null },
        'D-3': { marketplace: '=gcp', customerName: '"Umbrella", Corp.', product: null },
      },
    }),
  );
}

describe('CSV', () => {
  it('quotes and doubles quotes only where needed, and guards formula-like text', () => {
    expect(csvCell({ text: 'plain' })).toBe('plain');
    expect(csvCell({ text: 'a,b' })).toBe('"a,b"');
    expect(csvCell({ text: 'say "hi"' })).toBe('"say ""hi"""');
    expect(csvCell({ text: 'two\nlines' })).toBe('"two\nlines"');
    expect(csvCell({ text: ' padded' })).toBe('" padded"');
    expect(csvCell({ text: '=SUM(A1:A2)' })).toBe("'=SUM(A1:A2)");
    expect(csvCell({ text: '+1' })).toBe("'+1");
    expect(csvCell({ text: '-1' })).toBe("'-1");
    expect(csvCell({ text: '@A1' })).toBe("'@A1");
    expect(csvCell({ text: '\tTAB' })).toBe("'\tTAB");
    expect(csvCell({ text: '=1,2' })).toBe(`"'=1,2"`);
    expect(csvCell({ number: '-150.00' })).toBe('-150.00');
    expect(csvCell(null)).toBe('');
  });

  it("writes WE-8's lines under a header, then each section as its own table", () => {
    const statement = buildStatement(we8StatementInput());
    const sections = csvSections(statementCsv(statement));
    expect(sections).toHaveLength(7);
    const [lines, summary, byContract, held, releases, payouts, about] = sections as string[][][];
    expect(lines?.[0]).toEqual([...CSV_LINE_COLUMNS]);
    expect(lines).toHaveLength(1 + statement.lines.length);
    const column = (name: (typeof CSV_LINE_COLUMNS)[number]) => CSV_LINE_COLUMNS.indexOf(name);
    const rows = (lines ?? []).slice(1);
    expect(
      rows.map((r) => [
        r[column('contract_id')],
        r[column('commission_amount')],
        r[column('status')],
      ]),
    ).toEqual([
      ['D-1', '1324.43', 'paid'],
      ['D-1', '1324.43', 'paid'],
      ['D-1', '1482.50', 'paid'],
      ['D-2', '9985.32', 'held'],
      ['D-3', '-150.00', 'clawed_back'],
    ]);
    const clawback = rows[4] ?? [];
    expect(clawback[column('reverses_line_id')]).toMatch(/^cl_[0-9a-f]{32}$/);
    expect(clawback[column('journal_entry_id')]).toMatch(/^je_[0-9a-f]{32}$/);
    expect(rows[3]?.[column('pending_invoices')]).toBe('invoice:D-2-inv-1');
    expect(rows[0]?.[column('customer')]).toBe('G***** C**********');
    const amounts = Object.fromEntries((summary ?? []).slice(1).map((r) => [r[0], r[1]]));
    expect(amounts).toMatchObject({
      earned: '14116.68',
      clawed_back: '150.00',
      payable_this_period: '3981.36',
      paid: '3981.36',
      closing_held: '9985.32',
      closing_balance: '9985.32',
      ledger_2100_payable: '0.00',
      ledger_2110_held: '9985.32',
    });
    expect((byContract ?? []).slice(1).map((r) => [r[0], r[4]])).toEqual([
      ['D-1', '4131.36'],
      ['D-2', '9985.32'],
      ['D-3', '0.00'],
    ]);
    expect(held?.[1]?.[4]).toBe('9985.32');
    expect(releases).toEqual([
      ['release_date', 'contract_id', 'released_amount', 'journal_entry_id'],
    ]);
    expect(payouts?.[1]?.slice(0, 4)).toEqual([
      'payout:P-100:2025-09',
      '2025-09',
      '2025-10-15',
      '3981.36',
    ]);
    const meta = Object.fromEntries((about ?? []).slice(1).map((r) => [r[0], r[1]]));
    expect(meta).toMatchObject({
      statement_id: statement.statementId,
      hash_sha256: statement.hash,
      previous_hash: '',
      plan: 'partner-gold v3',
    });
  });

  it('neutralises formulas in names and products but keeps negative amounts numeric', () => {
    const statement = hostile();
    const text = renderStatementCsv(statement).toString('utf8');
    const sections = csvSections(text);
    const cells = sections.flat(2);
    for (const cell of cells) {
      if (/^[=+@\t\r]/.test(cell)) throw new Error(`unguarded cell ${JSON.stringify(cell)}`);
      if (cell.startsWith('-')) expect(cell).toMatch(/^-\d+\.\d{2}$/);
    }
    expect(cells).toContain("'=cmd|' /C calc'!A0");
    expect(cells).toContain("'-2+3");
    expect(cells).toContain("'=gcp");
    expect(cells).toContain("'@I******");
    expect(cells).toContain('-150.00');
    expect(cells).toContain('\'=HYPERLINK("http://evil.example","Click"), "Ltd"');
    // The masked customer keeps punctuation: "+Globex\nCorporation" → "+G***** C**********".
    expect(cells).toContain("'+G***** C**********");
    expect(cells).toContain('"U*******", C***.');
  });
});

describe('JSON', () => {
  it('reads back to the same statement, amounts exact and formatted', () => {
    const statement = buildStatement(we8StatementInput());
    const body = renderStatementJson(statement);
    const parsed = JSON.parse(body.toString('utf8'));
    expect(parsed.summary.earnedMinor).toBe('1411668');
    expect(parsed.summary.earnedFormatted).toBe('14,116.68');
    expect(parsed.lines[4].amountMinor).toBe('-15000');
    expect(parsed.lines[4].amountFormatted).toBe('-150.00');
    const read = readStatementJson(body);
    expect(read).toEqual(statement);
    expect(statementHash(read)).toBe(statement.hash);
    // A changed amount still reads, and no longer hashes to the statement's hash.
    const changed = readStatementJson(body.toString('utf8').replace('"1411668"', '"1411669"'));
    expect(statementHash(changed)).not.toBe(statement.hash);
    expect(() => readStatementJson('{"schemaVersion":1}')).toThrow(
      expect.objectContaining({ code: 'invalid_statement_json' }),
    );
    expect(() => readStatementJson('not json')).toThrow(
      expect.objectContaining({ code: 'invalid_statement_json' }),
    );
  });
});

describe('PDF', () => {
  let fonts: StatementFonts;

  beforeAll(async () => {
    fonts = await loadStatementFonts({});
  });

  it("renders WE-8's statement with its figures, id, hash and page numbers", async () => {
    const statement = buildStatement(we8StatementInput());
    const pdf = await renderStatementPdf(statement, { fonts, sellerName: SELLER });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pages = await pdfPages(pdf);
    const all = pages.join('\n');
    for (const figure of [
      '14,116.68',
      '4,131.36',
      '9,985.32',
      '3,981.36',
      '-150.00',
      '134,305.66',
    ]) {
      expect(all, figure).toContain(figure);
    }
    expect(all).toContain('Agora');
    expect(all).toContain(SELLER);
    expect(all).toContain('Northwind Partners Ltd (P-100)');
    expect(all).toContain('G***** C**********');
    expect(all).toContain('Payable once the marketplace disburses invoice:D-2-inv-1');
    expect(all).not.toContain('Globex');
    pages.forEach((page, index) => {
      expect(page).toContain(`Page ${index + 1} of ${pages.length}`);
      expect(page).toContain(statement.statementId);
      expect(page).toContain(statement.hash);
    });
    // Summary first: the summary's figures come before the line table.
    expect(all.indexOf('Payable this period')).toBeLessThan(all.indexOf('Commission lines'));
  });

  it('is deterministic: the same statement gives the same bytes', async () => {
    const statement = buildStatement(we8StatementInput());
    const a = await renderStatementPdf(statement, { fonts, sellerName: SELLER });
    const b = await renderStatementPdf(statement, { fonts, sellerName: SELLER });
    expect(a.equals(b)).toBe(true);
    const other = await renderStatementPdf(
      buildStatement(we8StatementInput(undefined, { issuedAt: '2025-10-17T08:00:00.000Z' })),
      { fonts, sellerName: SELLER },
    );
    expect(other.equals(a)).toBe(false);
  });

  it('repeats the line table headers on every page of a long statement', async () => {
    const world = we8World();
    const template = world.lines[0] as CommissionLine;
    const lines: CommissionLine[] = Array.from({ length: 90 }, (_, i) => ({
      ...template,
      lineId: deterministicId('cl', String(i)),
      contractId: deterministicId('ct', 'aws', String(i)),
      period: '2026-05',
      amountMinor: usd('10.00') + BigInt(i),
      heldMinor: 0n,
      status: 'payable',
      payoutId: null,
      journalEntryId: deterministicId('je', String(i)),
    }));
    const earned = lines.reduce((s, l) => s + l.amountMinor, 0n);
    const statement = buildStatement(
      we8StatementInput(world, {
        period: '2026-05',
        states: [
          {
            ...(world.states[0] as (typeof world.states)[number]),
            period: '2026-05',
            opening: { payableMinor: 0n, heldMinor: 0n },
            closing: { payableMinor: earned, heldMinor: 0n },
            heldLines: [],
            entryIds: [],
            payoutId: null,
          },
        ],
        lines,
        contracts: Object.fromEntries(
          lines.map((l, i) => [
            l.contractId,
            { marketplace: 'aws', customerName: `Customer ${i} GmbH`, product: 'x' },
          ]),
        ),
        ledger: { payableMinor: earned, heldMinor: 0n },
      }),
    );
    const pages = await pdfPages(
      await renderStatementPdf(statement, { fonts, sellerName: SELLER }),
    );
    expect(pages.length).toBeGreaterThan(3);
    const withLines = pages.filter((p) => p.includes('Commission lines'));
    expect(withLines.length).toBeGreaterThan(2);
    for (const page of withLines.slice(1)) {
      expect(page).toContain('Commission lines (continued)');
      expect(page).toContain('Journal entry');
      expect(page).toContain('Commission');
    }
    const allText = pages.join('\n');
    for (const line of [lines[0], lines[45], lines[89]]) {
      expect(allText).toContain((line as CommissionLine).contractId.slice(0, 12));
    }
    expect(pages.at(-1)).toContain(`Page ${pages.length} of ${pages.length}`);
  });
});

describe('fonts', () => {
  it('reads DejaVu Sans from the npm package, or from AGORA_FONTS_DIR when set', async () => {
    expect(statementFontsDir({})).toMatch(/dejavu-fonts-ttf[\\/]ttf$/);
    expect(statementFontsDir({ [FONTS_DIR_ENV]: '/opt/fonts' })).toBe('/opt/fonts');
    const fonts = await loadStatementFonts({});
    expect(fonts.regular.subarray(0, 4).toString('hex')).toBe('00010000');
    expect(fonts.bold.equals(fonts.regular)).toBe(false);
    await expect(
      loadStatementFonts({ [FONTS_DIR_ENV]: '/nonexistent/agora-fonts' }),
    ).rejects.toThrow(/AGORA_FONTS_DIR/);
  });
});
