/**
 * A statement as CSV (RFC 4180: CRLF rows, fields quoted when they hold a comma, a quote or a
 * line break, quotes doubled), for a spreadsheet:
 *  1. the line table: a header row, then one row per commission line;
 *  2. after a blank row, each further section as its own small table with its own header row:
 *     summary, per contract, held, releases, payouts, statement (id, hash, chain).
 * Amounts are plain major-unit decimals ("14116.68", "-150.00") so spreadsheets read numbers.
 * Text cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a CR)
 * get a leading apostrophe; numeric cells are never touched. A UTF-8 byte-order mark leads so
 * spreadsheet programs read partner names in any script.
 */
import { formatMajorAmount } from '../domain/money';
import type { Statement } from '../domain/statements/statement';

const CRLF = '\r\n';
const BOM = '\uFEFF';
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** A cell: text (guarded against formulas) or a number (written as it is). */
export type CsvCell = { readonly text: string } | { readonly number: string } | null;

const text = (value: string | null | undefined): CsvCell => ({ text: value ?? '' });
const number = (value: string | number | null | undefined): CsvCell =>
  value === null || value === undefined ? null : { number: String(value) };

/** One cell as CSV: formula-guarded when text, quoted when needed. */
export function csvCell(cell: CsvCell): string {
  if (cell === null) return '';
  const raw =
    'text' in cell ? (FORMULA_START.test(cell.text) ? `'${cell.text}` : cell.text) : cell.number;
  return NEEDS_QUOTES.test(raw) ? `"${raw.replace(/"/g, '""')}"` : raw;
}

function rows(table: readonly (readonly CsvCell[])[]): string {
  return table.map((row) => row.map(csvCell).join(',')).join(CRLF);
}

const header = (...names: string[]): CsvCell[] => names.map((n) => text(n));

export const CSV_LINE_COLUMNS = [
  'statement_id',
  'partner_id',
  'period',
  'line_id',
  'section',
  'date',
  'marketplace',
  'contract_id',
  'customer',
  'product',
  'deal_type',
  'attribution_share_percent',
  'attribution_version',
  'basis_type',
  'basis_amount',
  'quarter_basis_amount',
  'rate_percent',
  'uplift_pp',
  'band',
  'commission_amount',
  'held_amount',
  'payable_amount',
  'status',
  'deal_cap_applied',
  'reverses_line_id',
  'pending_invoices',
  'payout_id',
  'journal_entry_id',
  'currency',
] as const;

/** The statement as CSV text (with a leading byte-order mark). */
export function statementCsv(statement: Statement): string {
  const c = statement.currency;
  const amount = (minor: bigint | null) =>
    number(minor === null ? null : formatMajorAmount(minor, c));
  const s = statement.summary;
  const lines = statement.lines.map((l) => [
    text(statement.statementId),
    text(statement.partner.partnerId),
    text(statement.period.id),
    text(l.lineId),
    text(l.section),
    text(l.date),
    text(l.marketplace),
    text(l.contractId),
    text(l.customer),
    text(l.product),
    text(l.dealType),
    number(l.attributionSharePercent),
    number(l.attributionVersion),
    text(l.basisKind),
    amount(l.basisMinor),
    amount(l.quarterBasisMinor),
    number(l.ratePercent),
    number(l.upliftPercent),
    number(l.band),
    amount(l.amountMinor),
    amount(l.heldMinor),
    amount(l.payableMinor),
    text(l.status),
    text(l.dealCapApplied ? 'yes' : 'no'),
    text(l.reversesLineId),
    text(l.hold?.pendingInvoiceIds.join(' ') ?? ''),
    text(l.payoutId),
    text(l.journalEntryId),
    text(c),
  ]);
  const summary = [
    header('summary_item', 'amount', 'currency'),
    ...(
      [
        ['opening_payable', s.openingPayableMinor],
        ['opening_held', s.openingHeldMinor],
        ['opening_balance', s.openingMinor],
        ['earned', s.earnedMinor],
        ['earned_held', s.earnedHeldMinor],
        ['clawed_back', s.clawedBackMinor],
        ['released_from_hold', s.releasedMinor],
        ['payable_this_period', s.payableMinor],
        ['paid', s.paidMinor],
        ['closing_payable', s.closingPayableMinor],
        ['closing_held', s.closingHeldMinor],
        ['closing_balance', s.closingMinor],
        ['ledger_2100_payable', statement.ledger.payableMinor],
        ['ledger_2110_held', statement.ledger.heldMinor],
      ] as const
    ).map(([item, minor]) => [text(item), amount(minor), text(c)]),
  ];
  const byContract = [
    header(
      'contract_id',
      'marketplace',
      'customer',
      'product',
      'earned',
      'earned_held',
      'clawed_back',
      'net',
    ),
    ...statement.byContract.map((k) => [
      text(k.contractId),
      text(k.marketplace),
      text(k.customer),
      text(k.product),
      amount(k.earnedMinor),
      amount(k.earnedHeldMinor),
      amount(k.clawedBackMinor),
      amount(k.netMinor),
    ]),
  ];
  const held = [
    header(
      'held_line_id',
      'period',
      'contract_id',
      'customer',
      'held_amount',
      'condition',
      'pending_invoices',
      'release_condition',
    ),
    ...statement.held.map((h) => [
      text(h.lineId),
      text(h.period),
      text(h.contractId),
      text(h.customer),
      amount(h.heldMinor),
      text(h.condition),
      text(h.pendingInvoiceIds.join(' ')),
      text(h.releaseCondition),
    ]),
  ];
  const releases = [
    header('release_date', 'contract_id', 'released_amount', 'journal_entry_id'),
    ...statement.releases.map((r) => [
      text(r.date),
      text(r.contractId),
      amount(r.amountMinor),
      text(r.journalEntryId),
    ]),
  ];
  const payouts = [
    header('payout_id', 'period', 'due_date', 'amount', 'journal_entry_id'),
    ...statement.payouts.map((p) => [
      text(p.payoutId),
      text(p.period),
      text(p.dueDate),
      amount(p.amountMinor),
      text(p.journalEntryId),
    ]),
  ];
  const about = [
    header('statement_field', 'value'),
    [text('statement_id'), text(statement.statementId)],
    [text('partner_id'), text(statement.partner.partnerId)],
    [text('partner_name'), text(statement.partner.name)],
    [text('tier'), text(statement.partner.tier)],
    [text('plan'), text(`${statement.plan.planId} v${statement.plan.versions.join(', v')}`)],
    [text('period'), text(statement.period.id)],
    [text('from'), text(statement.period.from)],
    [text('to'), text(statement.period.to)],
    [text('currency'), text(c)],
    [text('issued_at'), text(statement.issuedAt)],
    [text('sequence'), number(statement.sequence)],
    [text('previous_hash'), text(statement.previousHash)],
    [text('hash_sha256'), text(statement.hash)],
  ];
  const sections = [
    [header(...CSV_LINE_COLUMNS), ...lines],
    summary,
    byContract,
    held,
    releases,
    payouts,
    about,
  ];
  return `${BOM}${sections.map(rows).join(`${CRLF}${CRLF}`)}${CRLF}`;
}

/** The CSV as UTF-8 bytes. */
export function renderStatementCsv(statement: Statement): Buffer {
  return Buffer.from(statementCsv(statement), 'utf8');
}
