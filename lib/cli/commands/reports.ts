/**
 * `agora revenue report …`: the finance reports over the local ledger — the deferred-revenue
 * waterfall, the roll-forwards of deferred revenue and of the unbilled position, and the trial
 * balance. Human tables by default, one JSON document with --json, CSV with --csv.
 */
import type { Command } from 'commander';
import {
  journalExport,
  type ReportGrouping,
  rollForwardReport,
  trialBalanceReport,
  waterfallReport,
} from '../../app/revenue/reports';
import { isCalendarDate, isPeriod } from '../../domain/calendar';
import { InvalidInputError } from '../../domain/errors';
import { formatMajorAmount } from '../../domain/money';
import {
  type RollForwardAccount,
  type RollForwardAmounts,
  reportPeriods,
  rollForwardCsv,
  trialBalanceCsv,
  waterfallCsv,
} from '../../domain/revenue/reports';
import { loadLocalSettings } from '../../local/settings';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { withPipeline } from '../pipeline';

const ACCOUNTS: readonly RollForwardAccount[] = ['2400', 'unbilled'];
const GROUPINGS: readonly ReportGrouping[] = ['none', 'marketplace', 'product'];

interface RangeOptions {
  readonly from: string;
  readonly to: string;
  readonly csv?: boolean;
}

function checkRange(options: RangeOptions): { from: string; to: string } {
  for (const [flag, value] of [
    ['--from', options.from],
    ['--to', options.to],
  ] as const) {
    if (!isPeriod(value))
      throw new CliError(EXIT_USAGE, 'invalid_period', `${flag} must be YYYY-MM (got "${value}")`);
  }
  if (options.from > options.to)
    throw new CliError(
      EXIT_USAGE,
      'invalid_range',
      `--from (${options.from}) is after --to (${options.to})`,
    );
  const range = { from: options.from, to: options.to };
  try {
    reportPeriods(range);
  } catch (error) {
    if (error instanceof InvalidInputError)
      throw new CliError(EXIT_USAGE, error.code, error.message);
    throw error;
  }
  return range;
}

function checkFormat(out: CliIo, csv: boolean | undefined): void {
  if (csv && out.json)
    throw new CliError(EXIT_USAGE, 'conflicting_options', 'Use either --json or --csv, not both');
}

/** Right-aligned major units; a currency we cannot format (none) shows minor units. */
function cell(amountMinor: bigint, currency: string | null, width = 15): string {
  const text =
    currency === null ? amountMinor.toString() : formatMajorAmount(amountMinor, currency);
  return text.padStart(width);
}

const ROLL_FORWARD_COLUMNS = ['opening', 'billed', 'recognized', 'refunds', 'other', 'closing'];

function amountCells(amounts: RollForwardAmounts, currency: string | null): string {
  return [
    amounts.openingMinor,
    amounts.billedMinor,
    amounts.recognizedMinor,
    amounts.refundsMinor,
    amounts.otherMinor,
    amounts.closingMinor,
  ]
    .map((value) => cell(value, currency))
    .join(' ');
}

export function registerReportCommands(
  revenueCommand: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  const report = revenueCommand
    .command('report')
    .description('Finance reports over the ledger: waterfall, roll-forwards, trial balance');

  report
    .command('rollforward')
    .description(
      'Roll-forward of deferred revenue (2400) or of the unbilled position (1230/1240) per period',
    )
    .requiredOption('--from <YYYY-MM>', 'first posting period')
    .requiredOption('--to <YYYY-MM>', 'last posting period')
    .option('--account <account>', `${ACCOUNTS.join(' | ')}`, '2400')
    .option('--group-by <grouping>', `${GROUPINGS.join(' | ')}`, 'none')
    .option('--csv', 'print CSV instead of a table')
    .action(async (options: RangeOptions & { account: string; groupBy: string }) => {
      const range = checkRange(options);
      const account = ACCOUNTS.find((a) => a === options.account);
      if (!account)
        throw new CliError(
          EXIT_USAGE,
          'invalid_account',
          `--account must be one of ${ACCOUNTS.join(', ')} (got "${options.account}")`,
        );
      const groupBy = GROUPINGS.find((g) => g === options.groupBy);
      if (!groupBy)
        throw new CliError(
          EXIT_USAGE,
          'invalid_grouping',
          `--group-by must be one of ${GROUPINGS.join(', ')} (got "${options.groupBy}")`,
        );
      const out = io();
      checkFormat(out, options.csv);
      const result = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        (deps) => rollForwardReport(deps, { ...range, account, groupBy }),
      );
      if (options.csv) {
        out.stdout(rollForwardCsv(result));
        return;
      }
      const functional = result.functionalCurrency;
      const header = `${'period'.padEnd(8)} ${'group'.padEnd(12)} ${'cur'.padEnd(4)}${ROLL_FORWARD_COLUMNS.map((c) => c.padStart(16)).join('')}`;
      const lines = [
        `${account === '2400' ? 'Deferred revenue (2400)' : 'Unbilled position (1230 + 1240)'} ${range.from}..${range.to}: ${result.formula}`,
        header,
        ...result.lines.map(
          (l) =>
            `${l.period.padEnd(8)} ${l.group.padEnd(12)} ${l.currency.padEnd(4)} ${amountCells(l.transaction, l.currency)}`,
        ),
        ...(functional === null
          ? ['(no entries)']
          : [
              '',
              `In ${functional} (functional), all groups and currencies:`,
              ...result.totals.map(
                (t) =>
                  `${t.period.padEnd(8)} ${'all'.padEnd(12)} ${functional.padEnd(4)} ${amountCells(t.functional, functional)}`,
              ),
            ]),
      ];
      emit(out, result, lines.join('\n'));
    });

  report
    .command('waterfall')
    .description('Deferred revenue booked by month × released by later month (FIFO per contract)')
    .requiredOption('--from <YYYY-MM>', 'first posting period')
    .requiredOption('--to <YYYY-MM>', 'last posting period')
    .option('--csv', 'print CSV instead of a table')
    .action(async (options: RangeOptions) => {
      const range = checkRange(options);
      const out = io();
      checkFormat(out, options.csv);
      const result = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        (deps) => waterfallReport(deps, range),
      );
      if (options.csv) {
        out.stdout(waterfallCsv(result));
        return;
      }
      const lines = [`Deferred revenue waterfall ${range.from}..${range.to}`];
      if (result.currencies.length === 0) lines.push('(nothing deferred)');
      for (const c of result.currencies) {
        lines.push(
          '',
          `${c.currency}: opening ${formatMajorAmount(c.openingMinor, c.currency)}, booked ${formatMajorAmount(c.bookedMinor, c.currency)}, released ${formatMajorAmount(c.releasedMinor, c.currency)}, closing ${formatMajorAmount(c.closingMinor, c.currency)}`,
          `  ${'booked in'.padEnd(10)}${'booked'.padStart(15)}${'released'.padStart(16)}${'remaining'.padStart(16)}  released by month`,
        );
        for (const row of c.rows) {
          const label = row.kind === 'booked' ? (row.bookedPeriod ?? '') : `(${row.kind})`;
          lines.push(
            `  ${label.padEnd(10)}${cell(row.bookedMinor, c.currency)} ${cell(row.releasedMinor, c.currency)} ${cell(row.remainingMinor, c.currency)}  ${row.releases
              .map((r) => `${r.period} ${formatMajorAmount(r.amountMinor, c.currency)}`)
              .join(', ')}`,
          );
        }
      }
      emit(out, result, lines.join('\n'));
    });

  report
    .command('journal')
    .description('The journal of a posting-period range as CSV for an ERP (one line per leg)')
    .requiredOption('--from <YYYY-MM>', 'first posting period')
    .requiredOption('--to <YYYY-MM>', 'last posting period')
    .action(async (options: RangeOptions) => {
      const range = checkRange(options);
      const out = io();
      const exported = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        (deps) => journalExport(deps, range),
      );
      out.stderr(`${exported.entries} journal entries from ${range.from} to ${range.to}`);
      // --json wraps the CSV in the one JSON document the output contract promises.
      emit(out, exported, exported.csv);
    });

  report
    .command('trial-balance')
    .description('Debits, credits and balance per account and currency at a date')
    .requiredOption('--as-of <YYYY-MM-DD>', 'count entries posted on or before this date')
    .option('--csv', 'print CSV instead of a table')
    .action(async (options: { asOf: string; csv?: boolean }) => {
      if (!isCalendarDate(options.asOf))
        throw new CliError(
          EXIT_USAGE,
          'invalid_date',
          `--as-of must be YYYY-MM-DD (got "${options.asOf}")`,
        );
      const out = io();
      checkFormat(out, options.csv);
      const result = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        (deps) => trialBalanceReport(deps, options.asOf),
      );
      if (!result.balanced) setExitCode(EXIT_PROBLEMS);
      if (options.csv) {
        out.stdout(trialBalanceCsv(result));
        return;
      }
      const functional = result.functionalCurrency;
      const lines = [
        `Trial balance as of ${result.asOf} (${result.entries} entries)`,
        `${'account'.padEnd(40)} ${'cur'.padEnd(4)}${['debit', 'credit', 'balance'].map((c) => c.padStart(16)).join('')}${functional ? `${`balance ${functional}`.padStart(16)}` : ''}`,
        ...result.lines.map(
          (l) =>
            `${`${l.account} ${l.accountName}`.padEnd(40)} ${l.currency.padEnd(4)} ${cell(l.debitMinor, l.currency)} ${cell(l.creditMinor, l.currency)} ${cell(l.balanceMinor, l.currency)} ${cell(l.functionalBalanceMinor, functional)}`,
        ),
        ...result.currencyTotals.map(
          (t) =>
            `${'total'.padEnd(40)} ${t.currency.padEnd(4)} ${cell(t.debitMinor, t.currency)} ${cell(t.creditMinor, t.currency)} ${cell(t.balanceMinor, t.currency)}`,
        ),
        result.balanced
          ? 'balanced: every currency and the functional total are zero'
          : `NOT BALANCED: functional total ${result.functionalTotals.balanceMinor}`,
      ];
      emit(out, result, lines.join('\n'));
    });
}
