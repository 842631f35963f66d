/**
 * A statement as a PDF a partner is glad to receive (pdfkit, A4 landscape, DejaVu Sans passed
 * in as bytes so nothing is read or fetched here):
 *  - a branded header (Agora and the seller's name), then the summary first: opening,
 *    earned, clawed back, released, payable this period, paid, held, closing, and the ledger
 *    balances the statement ties to;
 *  - per contract, the accelerator bands, caps, held lines with their release condition, releases
 *    and payouts;
 *  - the line table, its column headers repeated on every page;
 *  - on every page a footer with the statement id, its sha256 and "Page n of m".
 * The output is deterministic for a statement: the document's dates come from `issuedAt`.
 */
import PDFDocument from 'pdfkit';
import { formatAmount, type Statement, type StatementLine } from '../domain/statements/statement';
import type { StatementFonts } from './fonts';

export const PRODUCT_NAME = 'Agora';
/** A statement PDF above this is refused (a partner's quarter is far below it). */
export const STATEMENT_PDF_BYTES_MAX = 20 * 1024 * 1024;
/** Pages one statement may take (a guard: 30,000 lines fit in fewer). */
export const STATEMENT_PDF_PAGES_MAX = 2_000;

export interface PdfRenderOptions {
  readonly fonts: StatementFonts;
  /** The seller issuing the statement (the Agora operator's company). */
  readonly sellerName: string;
}

const PAGE = { width: 841.89, height: 595.28 };
const MARGIN = { top: 36, bottom: 48, left: 36, right: 36 };
const CONTENT_WIDTH = PAGE.width - MARGIN.left - MARGIN.right;
const BOTTOM = PAGE.height - MARGIN.bottom;
const COLOR = {
  brand: '#1B2B4B',
  accent: '#0F766E',
  text: '#111827',
  muted: '#6B7280',
  rule: '#D1D5DB',
  zebra: '#F4F6F8',
  headerFill: '#E7ECF3',
  ok: '#047857',
  white: '#FFFFFF',
};
const FONT = { regular: 'DejaVuSans', bold: 'DejaVuSans-Bold' };
const CELL_PAD_X = 3;
const CELL_PAD_Y = 2.5;
/** Tables with at most this many rows are not split across pages. */
const KEEP_TOGETHER_ROWS_MAX = 12;

type Doc = InstanceType<typeof PDFDocument>;
type Align = 'left' | 'right' | 'center';

interface Column {
  readonly header: string;
  readonly width: number;
  readonly align?: Align;
}

interface Cell {
  readonly text: string;
  readonly bold?: boolean;
  readonly color?: string;
}

type Row = readonly (string | Cell)[];

const cellOf = (value: string | Cell): Cell =>
  typeof value === 'string' ? { text: value } : value;

const STATUS_LABEL: Record<string, string> = {
  earned: 'earned',
  held: 'held',
  payable: 'payable',
  paid: 'paid',
  clawed_back: 'clawed back',
};

/** Thousands separators for an exact decimal string: "13430.566" → "13,430.566". */
function groupDecimal(text: string): string {
  const [whole = '', fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

function longDate(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  const names = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  return `${day} ${names[(month ?? 1) - 1] ?? ''} ${year}`;
}

class StatementPdf {
  private readonly money: (minor: bigint) => string;
  private pages = 1;

  constructor(
    private readonly doc: Doc,
    private readonly statement: Statement,
    private readonly options: PdfRenderOptions,
  ) {
    this.money = (minor) => formatAmount(minor, statement.currency);
  }

  // -------------------------------------------------------------------------------------------
  // Page furniture
  // -------------------------------------------------------------------------------------------

  private brandHeader(): void {
    const { doc, statement } = this;
    const height = 62;
    doc.save().rect(0, 0, PAGE.width, height).fill(COLOR.brand).restore();
    doc.save().rect(0, height, PAGE.width, 3).fill(COLOR.accent).restore();
    doc.fillColor(COLOR.white).font(FONT.bold).fontSize(22);
    doc.text(PRODUCT_NAME, MARGIN.left, 14, { lineBreak: false });
    doc.font(FONT.regular).fontSize(9.5).fillColor('#C7D2FE');
    doc.text('Partner commission statement', MARGIN.left, 41, { lineBreak: false });
    doc.font(FONT.bold).fontSize(12).fillColor(COLOR.white);
    doc.text(this.options.sellerName, MARGIN.left, 16, {
      width: CONTENT_WIDTH,
      align: 'right',
      lineBreak: false,
    });
    doc.font(FONT.regular).fontSize(9).fillColor('#C7D2FE');
    doc.text(`Issued ${longDate(statement.issuedAt.slice(0, 10))}`, MARGIN.left, 36, {
      width: CONTENT_WIDTH,
      align: 'right',
      lineBreak: false,
    });
    doc.fillColor(COLOR.text);
    doc.y = height + 16;
  }

  private runningHeader(): void {
    const { doc, statement } = this;
    doc.save().rect(0, 0, PAGE.width, 24).fill(COLOR.brand).restore();
    doc.font(FONT.bold).fontSize(9).fillColor(COLOR.white);
    doc.text(PRODUCT_NAME, MARGIN.left, 8, { lineBreak: false });
    doc.font(FONT.regular).fontSize(8).fillColor('#C7D2FE');
    doc.text(
      `${this.options.sellerName} · ${statement.partner.name} (${statement.partner.partnerId}) · ${statement.period.id}`,
      MARGIN.left,
      9,
      { width: CONTENT_WIDTH, align: 'right', lineBreak: false },
    );
    doc.fillColor(COLOR.text);
    doc.y = 24 + 14;
  }

  private newPage(): void {
    if (this.pages >= STATEMENT_PDF_PAGES_MAX) {
      throw new Error(`A statement PDF takes at most ${STATEMENT_PDF_PAGES_MAX} pages`);
    }
    this.doc.addPage();
    this.pages += 1;
    this.runningHeader();
  }

  private ensure(height: number): void {
    if (this.doc.y + height > BOTTOM) this.newPage();
  }

  /** Statement id, hash and "Page n of m" on every page (after the content is laid out). */
  footers(): void {
    const { doc, statement } = this;
    const range = doc.bufferedPageRange();
    for (let index = 0; index < range.count; index += 1) {
      doc.switchToPage(range.start + index);
      const margins = doc.page.margins;
      doc.page.margins = { ...margins, bottom: 0 };
      const y = PAGE.height - 32;
      doc
        .save()
        .moveTo(MARGIN.left, y - 6)
        .lineTo(PAGE.width - MARGIN.right, y - 6)
        .lineWidth(0.5)
        .stroke(COLOR.rule)
        .restore();
      doc.font(FONT.regular).fontSize(6.5).fillColor(COLOR.muted);
      doc.text(
        `Statement ${statement.statementId} · sequence ${statement.sequence}`,
        MARGIN.left,
        y,
        {
          lineBreak: false,
        },
      );
      doc.text(`sha256 ${statement.hash}`, MARGIN.left, y + 9, { lineBreak: false });
      doc.font(FONT.bold).fontSize(8).fillColor(COLOR.text);
      doc.text(`Page ${index + 1} of ${range.count}`, MARGIN.left, y + 3, {
        width: CONTENT_WIDTH,
        align: 'right',
        lineBreak: false,
      });
      doc.page.margins = margins;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Building blocks
  // -------------------------------------------------------------------------------------------

  private heading(text: string, note?: string): void {
    const { doc } = this;
    this.ensure(40);
    doc.y += 8;
    const top = doc.y;
    doc.font(FONT.bold).fontSize(11).fillColor(COLOR.brand);
    const width = doc.widthOfString(text);
    doc.text(text, MARGIN.left, top, { lineBreak: false });
    if (note) {
      doc.font(FONT.regular).fontSize(7.5).fillColor(COLOR.muted);
      doc.text(note, MARGIN.left + width + 10, top + 3.5, { lineBreak: false });
    }
    doc.fillColor(COLOR.text);
    doc.y = top + 15;
  }

  private paragraph(text: string, size = 7.5, color = COLOR.muted): void {
    const { doc } = this;
    doc.font(FONT.regular).fontSize(size);
    const height = doc.heightOfString(text, { width: CONTENT_WIDTH });
    this.ensure(height + 4);
    doc.fillColor(color).text(text, MARGIN.left, doc.y, { width: CONTENT_WIDTH });
    doc.fillColor(COLOR.text);
    doc.y += 2;
  }

  private rowHeight(columns: readonly Column[], row: Row, size: number): number {
    const { doc } = this;
    let height = 0;
    row.forEach((value, index) => {
      const cell = cellOf(value);
      const column = columns[index];
      if (!column) return;
      doc.font(cell.bold ? FONT.bold : FONT.regular).fontSize(size);
      height = Math.max(
        height,
        doc.heightOfString(cell.text || ' ', { width: column.width - 2 * CELL_PAD_X }),
      );
    });
    return height + 2 * CELL_PAD_Y;
  }

  private drawRow(
    columns: readonly Column[],
    row: Row,
    size: number,
    style: { fill?: string; bold?: boolean },
  ): void {
    const { doc } = this;
    const height = this.rowHeight(
      columns,
      row.map((v) => ({ ...cellOf(v), bold: style.bold === true || cellOf(v).bold === true })),
      size,
    );
    const top = doc.y;
    if (style.fill) {
      doc.save().rect(MARGIN.left, top, CONTENT_WIDTH, height).fill(style.fill).restore();
    }
    let x = MARGIN.left;
    row.forEach((value, index) => {
      const cell = cellOf(value);
      const column = columns[index];
      if (!column) return;
      doc
        .font(style.bold || cell.bold ? FONT.bold : FONT.regular)
        .fontSize(size)
        .fillColor(cell.color ?? COLOR.text);
      doc.text(cell.text, x + CELL_PAD_X, top + CELL_PAD_Y, {
        width: column.width - 2 * CELL_PAD_X,
        align: column.align ?? 'left',
      });
      x += column.width;
    });
    doc
      .save()
      .moveTo(MARGIN.left, top + height)
      .lineTo(MARGIN.left + CONTENT_WIDTH, top + height)
      .lineWidth(0.3)
      .stroke(COLOR.rule)
      .restore();
    doc.fillColor(COLOR.text);
    doc.y = top + height;
  }

  /** A table; when a page breaks inside it, the column headers are drawn again. */
  private table(
    title: string,
    columns: readonly Column[],
    rows: readonly Row[],
    options: { size?: number; totals?: Row; note?: string } = {},
  ): void {
    const size = options.size ?? 7.5;
    const head = columns.map((c) => c.header);
    const header = () => this.drawRow(columns, head, size, { fill: COLOR.headerFill, bold: true });
    // A small table stays on one page; a long one starts with its header and a first row.
    const together = rows.length <= KEEP_TOGETHER_ROWS_MAX ? rows : rows.slice(0, 1);
    const needed =
      40 +
      this.rowHeight(columns, head, size) +
      together.reduce((sum, row) => sum + this.rowHeight(columns, row, size), 0);
    if (needed <= BOTTOM - MARGIN.top) this.ensure(needed);
    this.heading(title, options.note);
    header();
    rows.forEach((row, index) => {
      const height = this.rowHeight(columns, row, size);
      if (this.doc.y + height > BOTTOM) {
        this.newPage();
        this.heading(`${title} (continued)`);
        header();
      }
      this.drawRow(columns, row, size, index % 2 === 1 ? { fill: COLOR.zebra } : {});
    });
    if (options.totals) {
      this.ensure(this.rowHeight(columns, options.totals, size));
      this.drawRow(columns, options.totals, size, { bold: true, fill: COLOR.headerFill });
    }
    this.doc.y += 4;
  }

  // -------------------------------------------------------------------------------------------
  // Sections
  // -------------------------------------------------------------------------------------------

  private overview(): void {
    const { doc, statement } = this;
    const { period, partner } = statement;
    doc.font(FONT.bold).fontSize(16).fillColor(COLOR.text);
    doc.text(`Commission statement ${period.id}`, MARGIN.left, doc.y, { lineBreak: false });
    doc.font(FONT.regular).fontSize(9).fillColor(COLOR.muted);
    doc.text(`${longDate(period.from)} – ${longDate(period.to)}`, MARGIN.left, doc.y + 21, {
      lineBreak: false,
    });
    doc.y += 38;
    const facts: [string, string][] = [
      ['Partner', `${partner.name} (${partner.partnerId})`],
      ['Tier', partner.tier ?? '—'],
      ['Plan', `${statement.plan.planId} v${statement.plan.versions.join(', v')}`],
      ['Currency', statement.currency],
      ['Statement id', statement.statementId],
      [
        'Chain',
        `no. ${statement.sequence} · previous ${statement.previousHash ? `${statement.previousHash.slice(0, 16)}…` : 'none (first statement)'}`,
      ],
    ];
    const top = doc.y;
    const columnWidth = CONTENT_WIDTH / 3;
    facts.forEach(([label, value], index) => {
      const x = MARGIN.left + (index % 3) * columnWidth;
      const y = top + Math.floor(index / 3) * 26;
      doc.font(FONT.regular).fontSize(7).fillColor(COLOR.muted);
      doc.text(label.toUpperCase(), x, y, { lineBreak: false });
      doc.font(FONT.bold).fontSize(9).fillColor(COLOR.text);
      doc.text(value, x, y + 9, { width: columnWidth - 10, lineBreak: false, ellipsis: true });
    });
    doc.y = top + 2 * 26 + 6;
  }

  private summary(): void {
    const { doc, statement } = this;
    const s = statement.summary;
    const c = statement.currency;
    this.heading('Summary', `amounts in ${c}`);
    const top = doc.y;
    const boxWidth = 380;
    const rows: [string, bigint, 'strong' | 'normal' | 'muted'][] = [
      ['Opening balance (carried forward)', s.openingMinor, 'normal'],
      ['Earned this period', s.earnedMinor, 'normal'],
      ['Clawed back', -s.clawedBackMinor, 'normal'],
      ['Released from hold', s.releasedMinor, 'muted'],
      ['Payable this period', s.payableMinor, 'strong'],
      ['Paid', -s.paidMinor, 'normal'],
      ['Held (awaiting release)', s.closingHeldMinor, 'normal'],
      ['Closing balance', s.closingMinor, 'strong'],
    ];
    const lineHeight = 17;
    doc
      .save()
      .roundedRect(MARGIN.left, top, boxWidth, rows.length * lineHeight + 12, 4)
      .lineWidth(0.8)
      .stroke(COLOR.rule)
      .restore();
    rows.forEach(([label, amount, weight], index) => {
      const y = top + 6 + index * lineHeight;
      if (weight === 'strong') {
        doc
          .save()
          .rect(MARGIN.left + 1, y - 2, boxWidth - 2, lineHeight)
          .fill(COLOR.headerFill)
          .restore();
      }
      doc
        .font(weight === 'strong' ? FONT.bold : FONT.regular)
        .fontSize(weight === 'strong' ? 10 : 9);
      doc.fillColor(weight === 'muted' ? COLOR.muted : COLOR.text);
      doc.text(label, MARGIN.left + 10, y + 2, { lineBreak: false });
      doc.text(this.money(amount), MARGIN.left + 10, y + 2, {
        width: boxWidth - 20,
        align: 'right',
        lineBreak: false,
      });
    });
    // Beside it: the identity and the ledger tie.
    const x = MARGIN.left + boxWidth + 24;
    const width = CONTENT_WIDTH - boxWidth - 24;
    doc.font(FONT.bold).fontSize(9).fillColor(COLOR.brand);
    doc.text('How the balance moves', x, top + 4, { lineBreak: false });
    doc.font(FONT.regular).fontSize(8.5).fillColor(COLOR.text);
    doc.text(
      `${this.money(s.openingMinor)} opening + ${this.money(s.earnedMinor)} earned − ${this.money(s.clawedBackMinor)} clawed back − ${this.money(s.paidMinor)} paid = ${this.money(s.closingMinor)} closing`,
      x,
      top + 18,
      { width },
    );
    doc.font(FONT.bold).fontSize(9).fillColor(COLOR.brand);
    doc.text('Ties to our ledger', x, top + 52, { lineBreak: false });
    doc.font(FONT.regular).fontSize(8.5).fillColor(COLOR.text);
    doc.text(
      `2100 Partner commissions payable: ${this.money(statement.ledger.payableMinor)} = closing payable ${this.money(s.closingPayableMinor)}\n2110 Partner commissions held: ${this.money(statement.ledger.heldMinor)} = closing held ${this.money(s.closingHeldMinor)}`,
      x,
      top + 66,
      { width },
    );
    doc.font(FONT.bold).fontSize(8.5).fillColor(COLOR.ok);
    doc.text('✓ Balances agree', x, top + 96, { lineBreak: false });
    doc.font(FONT.regular).fontSize(7.5).fillColor(COLOR.muted);
    doc.text(
      s.closingPayableMinor < 0n
        ? 'A negative payable balance is carried forward against future commission; it is never invoiced to you.'
        : 'Payable commission is paid on the due date shown under Payouts.',
      x,
      top + 112,
      { width },
    );
    doc.fillColor(COLOR.text);
    doc.y = top + rows.length * lineHeight + 22;
  }

  private byContract(): void {
    const { statement } = this;
    if (statement.byContract.length === 0) return;
    const w = CONTENT_WIDTH;
    const columns: Column[] = [
      { header: 'Contract', width: w * 0.22 },
      { header: 'Marketplace', width: w * 0.09 },
      { header: 'Customer', width: w * 0.16 },
      { header: 'Product', width: w * 0.13 },
      { header: 'Earned', width: w * 0.1, align: 'right' },
      { header: 'of which held', width: w * 0.1, align: 'right' },
      { header: 'Clawed back', width: w * 0.1, align: 'right' },
      { header: 'Net', width: w * 0.1, align: 'right' },
    ];
    this.table(
      'By contract',
      columns,
      statement.byContract.map((k) => [
        k.contractId,
        k.marketplace,
        k.customer,
        k.product,
        this.money(k.earnedMinor),
        this.money(k.earnedHeldMinor),
        this.money(k.clawedBackMinor),
        { text: this.money(k.netMinor), bold: true },
      ]),
      {
        totals: [
          'Total',
          '',
          '',
          '',
          this.money(statement.summary.earnedMinor),
          this.money(statement.summary.earnedHeldMinor),
          this.money(statement.summary.clawedBackMinor),
          this.money(statement.summary.earnedMinor - statement.summary.clawedBackMinor),
        ],
      },
    );
  }

  private accelerator(): void {
    const a = this.statement.accelerator;
    const caps = this.statement.caps;
    if (a) {
      const w = CONTENT_WIDTH;
      const columns: Column[] = [
        { header: 'Band', width: w * 0.08 },
        { header: 'Quarterly basis range', width: w * 0.3 },
        { header: 'Uplift', width: w * 0.12, align: 'right' },
        { header: 'Basis in band', width: w * 0.2, align: 'right' },
        { header: 'Uplift amount (exact)', width: w * 0.3, align: 'right' },
      ];
      this.table(
        'Accelerator',
        columns,
        a.bands.map((b) => [
          {
            text: `${b.band}${a.bandReached === b.band ? ' ◂ reached' : ''}`,
            bold: a.bandReached === b.band,
          },
          `${this.money(b.fromMinor)} – ${b.toMinor === null ? 'and above' : this.money(b.toMinor)}`,
          `+${b.upliftPercent} pp`,
          this.money(b.basisInBandMinor),
          groupDecimal(b.upliftExact),
        ]),
        {
          note: `${a.mode}, measured on ${a.measuredDealType} basis, ${a.quarter} through ${a.through}`,
        },
      );
      this.paragraph(
        `Quarter-to-date ${a.measuredDealType} basis ${this.money(a.measureMinor)}. Commission at base rates ${groupDecimal(a.baseExact)} + uplift ${groupDecimal(a.upliftExact)} = ${this.money(a.totalBeforeCapsMinor)} after rounding once (half-even), before caps.`,
        8,
        COLOR.text,
      );
    }
    const capText = [
      caps.perPartnerPerQuarterMinor === null
        ? 'No quarterly cap.'
        : `Quarterly cap ${this.money(caps.perPartnerPerQuarterMinor)}: ${caps.quarterCapApplied ? 'applied — commission was reduced to the cap.' : 'not reached.'}`,
      caps.perDealPerYearMinor === null
        ? ''
        : `Per-deal yearly cap ${this.money(caps.perDealPerYearMinor)}: ${caps.dealCapLineIds.length === 0 ? 'not reached.' : `applied to ${caps.dealCapLineIds.length} line(s), marked "cap" below.`}`,
    ]
      .filter((t) => t !== '')
      .join(' ');
    this.heading('Caps');
    this.paragraph(capText, 8, COLOR.text);
  }

  private held(): void {
    const { statement } = this;
    if (statement.held.length === 0) return;
    const w = CONTENT_WIDTH;
    this.table(
      'Held commission',
      [
        { header: 'Earned in', width: w * 0.08 },
        { header: 'Contract', width: w * 0.2 },
        { header: 'Customer', width: w * 0.14 },
        { header: 'Held', width: w * 0.1, align: 'right' },
        { header: 'Release condition', width: w * 0.48 },
      ],
      statement.held.map((h) => [
        h.period,
        h.contractId,
        h.customer,
        { text: this.money(h.heldMinor), bold: true },
        h.releaseCondition,
      ]),
    );
  }

  private movements(): void {
    const { statement } = this;
    const w = CONTENT_WIDTH;
    if (statement.releases.length > 0) {
      this.table(
        'Released from hold',
        [
          { header: 'Date', width: w * 0.12 },
          { header: 'Contract', width: w * 0.3 },
          { header: 'Released', width: w * 0.18, align: 'right' },
          { header: 'Journal entry', width: w * 0.4 },
        ],
        statement.releases.map((r) => [
          r.date,
          r.contractId ?? '—',
          this.money(r.amountMinor),
          r.journalEntryId,
        ]),
      );
    }
    if (statement.payouts.length > 0) {
      this.table(
        'Payouts',
        [
          { header: 'Payout', width: w * 0.26 },
          { header: 'For', width: w * 0.1 },
          { header: 'Due', width: w * 0.12 },
          { header: 'Amount', width: w * 0.14, align: 'right' },
          { header: 'Journal entry', width: w * 0.38 },
        ],
        statement.payouts.map((p) => [
          p.payoutId,
          p.period,
          p.dueDate,
          { text: this.money(p.amountMinor), bold: true },
          p.journalEntryId,
        ]),
      );
    } else {
      this.heading('Payouts');
      this.paragraph('No payout in this period.', 8, COLOR.text);
    }
  }

  private lineRow(line: StatementLine): Row {
    const rate = `${line.ratePercent}%${line.upliftPercent && line.upliftPercent !== '0' ? ` +${line.upliftPercent} pp` : ''}${line.band !== null ? ` (band ${line.band})` : ''}`;
    const status = [
      STATUS_LABEL[line.status] ?? line.status,
      line.heldMinor > 0n && line.kind === 'accrual' ? `held ${this.money(line.heldMinor)}` : '',
      line.dealCapApplied ? 'cap' : '',
      line.reversesLineId ? `reverses ${line.reversesLineId}` : '',
    ]
      .filter((t) => t !== '')
      .join(' · ');
    return [
      line.date,
      line.marketplace,
      line.contractId,
      line.customer,
      line.product,
      line.kind === 'clawback' ? `${line.dealType} (clawback)` : line.dealType,
      line.attributionSharePercent === null ? '—' : `${line.attributionSharePercent}%`,
      line.basisKind,
      this.money(line.basisMinor),
      rate,
      {
        text: this.money(line.amountMinor),
        bold: true,
        color: line.amountMinor < 0n ? '#B91C1C' : COLOR.text,
      },
      status,
      line.journalEntryId ?? '—',
    ];
  }

  private lines(): void {
    const { statement } = this;
    const widths = [46, 38, 84, 84, 58, 46, 30, 46, 56, 50, 54, 74, 84];
    const scale = CONTENT_WIDTH / widths.reduce((a, b) => a + b, 0);
    const headers = [
      'Date',
      'Market',
      'Contract',
      'Customer',
      'Product',
      'Deal type',
      'Share',
      'Basis',
      'Basis amount',
      'Rate',
      'Commission',
      'Status',
      'Journal entry',
    ];
    const right = new Set(['Basis amount', 'Commission', 'Share']);
    const columns: Column[] = headers.map((header, index) => ({
      header,
      width: (widths[index] ?? 40) * scale,
      ...(right.has(header) ? { align: 'right' as const } : {}),
    }));
    const rows = statement.lines.map((line) => this.lineRow(line));
    if (rows.length === 0) {
      this.heading('Commission lines');
      this.paragraph('No commission lines in this period.', 8, COLOR.text);
      return;
    }
    this.table('Commission lines', columns, rows, {
      size: 6.5,
      note: 'each line with its evidence: contract, masked customer, basis, rate and the ledger entry it was posted in',
      totals: [
        'Total',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        this.money(statement.summary.earnedMinor - statement.summary.clawedBackMinor),
        '',
        '',
      ],
    });
  }

  private notes(): void {
    this.heading('Notes');
    this.paragraph(
      [
        'Customer names are masked: the first letter or digit of each word is shown, the rest replaced by *.',
        'Statuses: earned (nothing to pay or hold), held (waits for the release condition), payable (owed to you), paid (settled by a payout), clawed back (reverses the line named, at that line’s rate).',
        'Commission on recognized revenue is computed quarter to date and trued up each month; graduated accelerator bands apply to the part of the quarterly basis inside each band.',
        `The statement’s hash (sha256 of its exact content, chained to your previous statement) is printed in the footer; the JSON and CSV copies carry the same figures in machine-readable form.`,
      ].join('\n'),
    );
  }

  render(): void {
    this.brandHeader();
    this.overview();
    this.summary();
    this.byContract();
    this.accelerator();
    this.held();
    this.movements();
    this.lines();
    this.notes();
    this.footers();
  }
}

/** Renders the statement as PDF bytes. */
export async function renderStatementPdf(
  statement: Statement,
  options: PdfRenderOptions,
): Promise<Buffer> {
  const issued = new Date(statement.issuedAt);
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margins: MARGIN,
    bufferPages: true,
    autoFirstPage: true,
    // No default font: pdfkit would read its Helvetica metrics from node_modules, which a Lambda
    // bundle does not ship. Every text is set in the DejaVu fonts registered below.
    font: '',
    compress: true,
    info: {
      Title: `Commission statement ${statement.period.id} — ${statement.partner.name}`,
      Author: options.sellerName,
      Subject: `Partner commission statement ${statement.statementId}`,
      Keywords: `${statement.partner.partnerId} ${statement.period.id} sha256:${statement.hash}`,
      Creator: PRODUCT_NAME,
      Producer: PRODUCT_NAME,
      CreationDate: issued,
      ModDate: issued,
    },
  });
  doc.registerFont(FONT.regular, options.fonts.regular);
  doc.registerFont(FONT.bold, options.fonts.bold);
  doc.font(FONT.regular);
  const chunks: Buffer[] = [];
  let size = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > STATEMENT_PDF_BYTES_MAX) {
        reject(new Error(`A statement PDF is at most ${STATEMENT_PDF_BYTES_MAX} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  try {
    new StatementPdf(doc, statement, options).render();
  } finally {
    doc.end();
  }
  return done;
}
