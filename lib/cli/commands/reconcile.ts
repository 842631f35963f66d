/**
 * `agora reconcile --source <kind> <file> --as-of <date>`: a marketplace report against this
 * data folder's ledger (the running stack's store, or the embedded one), with a progress bar on
 * stderr and the result as text, `--json`, `--csv` or `--html` on stdout. Payouts the report
 * shows are recorded (once each), true-ups posted or proposed, the result stored for
 * GET /v1/reconciliations. Exit 1 when the reconciliation found exceptions.
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  RECONCILIATION_SOURCES,
  type ReconcileOutcome,
  type ReconciliationProgress,
  type ReconciliationSource,
  type ReportFile,
  reconcileReport,
} from '../../app/reconciliation';
import { calendarDate } from '../../domain/calendar';
import { formatMajorAmount } from '../../domain/money';
import { loadLocalSettings } from '../../local/settings';
import { REPORT_READERS } from '../../marketplaces/report-readers';
import { reconciliationCsv, reconciliationHtml } from '../../reports/reconciliation-formats';
import { DynamoCommissionStore } from '../../store/commission-store';
import { DynamoReconciliationStore } from '../../store/reconciliation-store';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, toJson } from '../output';
import { withPipeline } from '../pipeline';

/** Bytes read from the file at a time. */
const READ_CHUNK_BYTES = 1 << 20;
const BAR_WIDTH = 30;
/** Exceptions the text output lists (the JSON, CSV and HTML carry all). */
const TEXT_EXCEPTIONS_MAX = 20;
/** Matched lines the JSON document lists (a million would not fit one string; counts are exact). */
export const CLI_JSON_MATCHED_MAX = 200_000;

/** The settings the reconciliation reads, as the Lambda reads them (lib/runtime/config.ts). */
const CliReconciliationEnv = z.object({
  AGORA_RECONCILIATION_TRUE_UPS: z.enum(['post', 'propose']).default('post'),
  AGORA_PAYMENT_TERMS_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
});

interface ReconcileOptions {
  source: string;
  asOf: string;
  bank?: string;
  csv?: boolean;
  html?: boolean;
  propose?: boolean;
  record?: boolean;
}

function reportFile(path: string, what: string): ReportFile {
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new Error('not a file');
    size = stats.size;
  } catch {
    throw new CliError(EXIT_USAGE, 'file_not_found', `${what} ${path} is not a readable file`);
  }
  return {
    name: basename(path),
    sizeBytes: size,
    open: () => createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }),
  };
}

function progressLine(p: ReconciliationProgress): string {
  if (p.stage === 'report') {
    const fraction = p.totalBytes ? Math.min(1, p.bytes / p.totalBytes) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
    return `reading  [${bar}] ${Math.floor(fraction * 100)}%  ${p.rows.toLocaleString('en-US')} records`;
  }
  if (p.stage === 'ledger') return `ledger   ${p.contracts.toLocaleString('en-US')} contracts read`;
  return 'recording payouts and true-ups';
}

function textOf(outcome: ReconcileOutcome): string {
  const { record, result } = outcome;
  const counts = result.summary.counts;
  const lines = [
    `reconciliation ${record.reconciliationId}: ${record.source} ${record.fileName} as of ${record.asOf}`,
    `  ${record.rows} rows · ${counts.matched} matched · ${counts.withinTolerance} within tolerance · ${counts.exceptions} exceptions · ${counts.rowErrors} row errors`,
    ...result.summary.currencies.map(
      (c) =>
        `  ${c.currency}: billed ${formatMajorAmount(c.billedMinor, c.currency)}, fees ${formatMajorAmount(c.feesMinor, c.currency)}, disbursed ${formatMajorAmount(c.disbursedMinor, c.currency)}, outstanding ${formatMajorAmount(c.outstandingMinor, c.currency)}`,
    ),
    ...result.rollForward.map(
      (r) =>
        `  ${r.account} ${r.currency}: opening ${formatMajorAmount(r.transaction.openingMinor, r.currency)} → closing ${formatMajorAmount(r.transaction.closingMinor, r.currency)} ${r.ties && r.tiesToOpenItems ? '(ties)' : '(DOES NOT TIE)'}`,
    ),
    ...result.exceptions
      .slice(0, TEXT_EXCEPTIONS_MAX)
      .map(
        (e) =>
          `  ${e.class}${e.line === null ? '' : ` line ${e.line}`}${e.contractId ? ` ${e.contractId}` : ''}: ${e.reason}`,
      ),
    ...(counts.exceptions > TEXT_EXCEPTIONS_MAX
      ? [`  … ${counts.exceptions - TEXT_EXCEPTIONS_MAX} more (--json, --csv or --html)`]
      : []),
    ...outcome.disbursements.map(
      (d) =>
        `  payout ${d.disbursementId} → ${d.contractId}: ${d.outcome}${d.problem ? ` (${d.problem})` : ''}`,
    ),
    ...outcome.trueUps.map(
      (t) =>
        `  ${t.kind === 'reversal' ? 'reversal' : 'true-up'} ${t.trueUpId} ${t.contractId ?? ''} ${t.account} ${formatMajorAmount(t.deltaMinor, t.currency)} ${t.currency} in ${t.period}: ${t.status}${t.problem ? ` (${t.problem})` : ''}`,
    ),
  ];
  return lines.join('\n');
}

export function registerReconcileCommand(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('reconcile')
    .argument('<file>', 'the marketplace report (CSV)')
    .requiredOption('--source <kind>', RECONCILIATION_SOURCES.join(' | '))
    .requiredOption('--as-of <YYYY-MM-DD>', 'the date the ledger is read at')
    .option('--bank <file>', 'a bank statement CSV (date, amount, reference)')
    .option('--csv', 'print every line as CSV')
    .option('--html', 'print the report as one HTML page')
    .option('--propose', 'propose true-ups for approval instead of posting them')
    .option('--no-record', 'report only: record no payouts, post no true-ups, store nothing')
    .description(
      'Reconcile a marketplace billing/payout report against the ledger, line by line (exit 1 on exceptions)',
    )
    .action(async (path: string, options: ReconcileOptions) => {
      const out = io();
      if (!RECONCILIATION_SOURCES.includes(options.source as ReconciliationSource)) {
        throw new CliError(
          EXIT_USAGE,
          'invalid_option',
          `--source must be one of ${RECONCILIATION_SOURCES.join(', ')}`,
        );
      }
      if ([out.json, options.csv, options.html].filter(Boolean).length > 1) {
        throw new CliError(EXIT_USAGE, 'invalid_option', 'Choose one of --json, --csv, --html');
      }
      const asOf = calendarDate(options.asOf);
      const file = reportFile(path, 'Report');
      const bank = options.bank ? reportFile(options.bank, 'Bank statement') : null;
      const tty = process.stderr.isTTY === true;
      const progress = (p: ReconciliationProgress) => {
        if (tty) process.stderr.write(`\r${progressLine(p)}\u001b[K`);
        else out.stderr(progressLine(p));
      };
      const settings = loadLocalSettings();
      const env = CliReconciliationEnv.parse(process.env);
      const outcome = await withPipeline(
        settings,
        (line) => out.stderr(line),
        (pipeline) =>
          reconcileReport(
            {
              ...pipeline,
              reconciliations: new DynamoReconciliationStore(pipeline.store),
              journal: new DynamoCommissionStore(pipeline.store),
              reportReaders: REPORT_READERS,
              reconciliationSettings: {
                trueUpMode: options.propose ? 'propose' : env.AGORA_RECONCILIATION_TRUE_UPS,
                paymentTermsDays: env.AGORA_PAYMENT_TERMS_DAYS,
              },
            },
            {
              source: options.source as ReconciliationSource,
              asOf,
              file,
              bank,
              by: 'cli',
              act: options.record !== false,
              onProgress: progress,
            },
          ),
        // Reconciling reads the ledger and a file, never a marketplace.
        { marketplaces: false },
      );
      if (tty) process.stderr.write('\n');
      const { record, result } = outcome;
      if (out.json) out.stdout(toJson(jsonDocument(outcome)));
      else if (options.csv) out.stdout(reconciliationCsv(result));
      else if (options.html) out.stdout(reconciliationHtml(result, record, outcome.trueUps));
      else out.stdout(textOf(outcome));
      if (!out.json && (options.csv || options.html))
        out.stderr(textOf(outcome).split('\n').slice(0, 2).join('\n'));
      const failed =
        outcome.disbursements.some((d) => d.outcome === 'failed') ||
        outcome.trueUps.some((t) => t.status === 'failed');
      if (result.summary.counts.exceptions > 0 || failed) setExitCode(EXIT_PROBLEMS);
    });
}

/** The JSON document: the result, what was done, and at most so many matched lines. */
function jsonDocument(outcome: ReconcileOutcome): Record<string, unknown> {
  const { record, result, disbursements, trueUps } = outcome;
  return {
    reconciliationId: record.reconciliationId,
    record,
    ...result,
    matched: result.matched.slice(0, CLI_JSON_MATCHED_MAX),
    matchedTruncated: result.matched.length > CLI_JSON_MATCHED_MAX,
    disbursements,
    trueUps,
  };
}
