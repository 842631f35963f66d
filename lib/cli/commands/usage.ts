/**
 * `agora usage import <csv>` and `agora usage status <contractId>`: usage through the running
 * stack's API, so a file gets exactly the validation `POST /v1/usage` gives. The import streams
 * the file (constant memory), posts it in bounded batches, shows progress on stderr, reports each
 * refused row with its line number (the header is line 1), and ends with a summary.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'csv-parse';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { stackApi } from '../stack-api';

/** Rows per POST /v1/usage call. */
export const USAGE_IMPORT_BATCH = 100;
/** Rows one import reads at most. */
export const USAGE_IMPORT_ROWS_MAX = 1_000_000;
/** Refused rows listed in the summary (all are counted). */
export const USAGE_IMPORT_ERRORS_LISTED_MAX = 100;
const REQUIRED_COLUMNS = ['recordId', 'dimension', 'quantity', 'usageTime'] as const;

interface RowResult {
  recordId: string;
  status: string;
  code?: string;
  message?: string;
}

interface ImportSummary {
  rows: number;
  accepted: number;
  duplicates: number;
  refused: number;
  errors: { line: number; recordId: string | null; code: string; message: string }[];
}

function progressLine(done: number, bytes: number, total: number): string {
  const share = total > 0 ? Math.min(1, bytes / total) : 1;
  const width = 30;
  const filled = Math.round(share * width);
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${Math.round(share * 100)}% ${done} rows`;
}

async function importFile(file: string, out: CliIo): Promise<ImportSummary> {
  const size = statSync(file).size;
  const summary: ImportSummary = { rows: 0, accepted: 0, duplicates: 0, refused: 0, errors: [] };
  const refuse = (line: number, recordId: string | null, code: string, message: string) => {
    summary.refused += 1;
    if (summary.errors.length < USAGE_IMPORT_ERRORS_LISTED_MAX)
      summary.errors.push({ line, recordId, code, message });
  };
  const stream = createReadStream(file);
  const parser = stream.pipe(
    parse({
      columns: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      relax_column_count: true,
    }),
  );
  let batch: { line: number; record: Record<string, string> }[] = [];
  let lastProgress = 0;
  const send = async () => {
    if (batch.length === 0) return;
    const result = await stackApi(
      'POST',
      '/v1/usage',
      { records: batch.map((b) => b.record) },
      'service',
    );
    const results = (result.body.results ?? []) as RowResult[];
    for (const [index, entry] of batch.entries()) {
      const outcome = results[index];
      if (!outcome)
        refuse(
          entry.line,
          entry.record.recordId ?? null,
          'no_answer',
          'The API did not answer for this row',
        );
      else if (outcome.status === 'accepted') summary.accepted += 1;
      else if (outcome.status === 'duplicate') summary.duplicates += 1;
      else
        refuse(entry.line, outcome.recordId, outcome.code ?? outcome.status, outcome.message ?? '');
    }
    batch = [];
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      summary.rows += 1;
      if (summary.rows > USAGE_IMPORT_ROWS_MAX)
        throw new CliError(
          EXIT_USAGE,
          'file_too_large',
          `${file} has more than ${USAGE_IMPORT_ROWS_MAX} rows`,
        );
      const missing = REQUIRED_COLUMNS.filter((c) => !record[c]);
      if (!record.contractId && !record.customerId) missing.push('contractId' as never);
      if (missing.length > 0) {
        refuse(
          info.lines,
          record.recordId ?? null,
          'missing_columns',
          `missing ${missing.join(', ')}`,
        );
        continue;
      }
      batch.push({
        line: info.lines,
        record: Object.fromEntries(
          ['recordId', 'contractId', 'customerId', 'dimension', 'quantity', 'usageTime']
            .filter((k) => record[k])
            .map((k) => [k, record[k] as string]),
        ),
      });
      if (batch.length >= USAGE_IMPORT_BATCH) await send();
      if (summary.rows - lastProgress >= USAGE_IMPORT_BATCH) {
        lastProgress = summary.rows;
        out.stderr(progressLine(summary.rows, stream.bytesRead, size));
      }
    }
    await send();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(EXIT_USAGE, 'invalid_csv', `${file}: ${(error as Error).message}`);
  }
  out.stderr(progressLine(summary.rows, size, size));
  return summary;
}

export function registerUsageCommands(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  const usage = program.command('usage').description('Metered usage on the running stack');

  usage
    .command('import')
    .description(
      'Send usage from a CSV (recordId, contractId|customerId, dimension, quantity, usageTime)',
    )
    .argument('<csv>')
    .action(async (file: string) => {
      const out = io();
      const summary = await importFile(file, out);
      if (summary.refused > 0) setExitCode(EXIT_PROBLEMS);
      emit(
        out,
        summary,
        [
          ...summary.errors.map(
            (e) => `line ${e.line}${e.recordId ? ` (${e.recordId})` : ''}: ${e.code} ${e.message}`,
          ),
          `${summary.rows} rows: ${summary.accepted} accepted, ${summary.duplicates} already recorded, ${summary.refused} refused`,
        ].join('\n'),
      );
    });

  usage
    .command('status')
    .description("A contract's usage by hour: received, reported, the marketplace's answer")
    .argument('<contractId>')
    .option('--from <instant>', 'first hour (ISO instant)')
    .option('--to <instant>', 'last hour (ISO instant)')
    .action(async (contractId: string, options: { from?: string; to?: string }) => {
      const out = io();
      const query = new URLSearchParams({ contractId });
      if (options.from) query.set('from', options.from);
      if (options.to) query.set('to', options.to);
      const result = await stackApi('GET', `/v1/usage?${query}`, undefined, 'seller');
      const items = (result.body.items ?? []) as Record<string, unknown>[];
      emit(
        out,
        result.body,
        items.length === 0
          ? 'no usage'
          : items
              .map(
                (l) =>
                  `${String(l.hourStart)} ${String(l.dimension)} received ${String(l.received)} reported ${String(l.reported ?? '—')} ${String(l.status)}`,
              )
              .join('\n'),
      );
    });
}
