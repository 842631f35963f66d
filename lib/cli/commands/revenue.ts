/**
 * `agora revenue …`: the deal-desk preview of a scenario file (pure, no store), a contract's
 * schedule, the billing job and the month-end recognition run (idempotent; rerun freely).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { recordFxRates } from '../../app/revenue/finance-ops';
import { previewRevenue } from '../../app/revenue/preview';
import { runBilling, runRecognition } from '../../app/revenue/runs';
import { importScenario } from '../../app/revenue/scenario-import';
import { revenueScheduleView } from '../../app/revenue/views';
import { dateOfInstant, isCalendarDate, isPeriod } from '../../domain/calendar';
import { AgoraError } from '../../domain/errors';
import { formatMajorAmount } from '../../domain/money';
import { ScenarioSchema } from '../../domain/revenue/preview';
import { loadLocalSettings } from '../../local/settings';
import { revenueSettingsFrom } from '../../runtime/config';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { withPipeline } from '../pipeline';

/** A scenario file larger than this is refused before parsing. */
export const SCENARIO_BYTES_MAX = 5 * 1024 * 1024;

function money(amountMinor: bigint, currency: string): string {
  return formatMajorAmount(amountMinor, currency).padStart(16);
}

function readScenario(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliError(EXIT_USAGE, 'no_such_file', `Cannot read ${path}`);
  }
  if (text.length > SCENARIO_BYTES_MAX)
    throw new CliError(
      EXIT_USAGE,
      'scenario_too_large',
      `${path} exceeds ${SCENARIO_BYTES_MAX} bytes`,
    );
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(
      EXIT_USAGE,
      'invalid_json',
      `${path} is not JSON: ${(error as Error).message}`,
    );
  }
}

export function registerRevenueCommands(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  const revenue = program
    .command('revenue')
    .description('Revenue schedules, billing and month-end runs');

  revenue
    .command('preview')
    .description('What the ledger would do with a scenario file (touches nothing stored)')
    .argument('<scenario>', 'scenario JSON (format in the README)')
    .action((file: string) => {
      const out = io();
      const parsed = ScenarioSchema.safeParse(readScenario(file));
      if (!parsed.success) {
        const details = parsed.error.issues
          .slice(0, 20)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        throw new CliError(EXIT_USAGE, 'invalid_scenario', `${file}: ${details}`);
      }
      let result: ReturnType<typeof previewRevenue>;
      try {
        result = previewRevenue(revenueSettingsFrom(process.env), parsed.data);
      } catch (error) {
        if (error instanceof AgoraError && 'details' in error) {
          const details = (error as AgoraError & { details: { path: string; message: string }[] })
            .details;
          throw new CliError(
            EXIT_USAGE,
            error.code,
            `${error.message}${details.length ? `: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}` : ''}`,
          );
        }
        throw error;
      }
      const currencyOf = new Map(
        parsed.data.events.flatMap((e) =>
          e.type === 'ContractCreated' ? [[e.contractId, e.currency] as const] : [],
        ),
      );
      const lines: string[] = [
        `as of ${result.asOf}, functional currency ${result.functionalCurrency}`,
      ];
      for (const [contractId, schedule] of Object.entries(result.schedules)) {
        const currency = currencyOf.get(contractId) ?? result.functionalCurrency;
        const rule = result.feeRules[contractId];
        lines.push(
          '',
          `${contractId} (${currency}) — fee ${rule ? `${rule.rate} (${rule.ruleId})` : 'n/a'}`,
          `  ${'period'.padEnd(8)} ${'recognized'.padStart(16)} ${'cumulative'.padStart(16)}`,
          ...schedule.map(
            (line) =>
              `  ${line.period.padEnd(8)} ${money(line.recognizedMinor, currency)} ${money(line.cumulativeMinor, currency)}`,
          ),
          `  fees ${formatMajorAmount(result.fees[contractId] ?? 0n, currency)}, net payouts ${formatMajorAmount(result.netPayouts[contractId] ?? 0n, currency)}`,
        );
        const last = result.positions[contractId]?.at(-1);
        if (last) {
          lines.push(
            `  at ${last.period}: billed ${formatMajorAmount(last.billedMinor, currency)}, recognized ${formatMajorAmount(last.recognizedMinor, currency)}, deferred ${formatMajorAmount(last.deferredMinor, currency)}, unbilled ${formatMajorAmount(last.unbilledMinor, currency)}`,
          );
        }
      }
      lines.push('', `${result.journal.length} journal line(s) up to ${result.asOf}`);
      emit(out, result, lines.join('\n'));
    });

  revenue
    .command('import')
    .description(
      'Load a scenario into the local store as contracts and events (a sandbox to bill and close)',
    )
    .argument('<scenario>', 'scenario JSON (format in the README)')
    .action(async (file: string) => {
      const out = io();
      const parsed = ScenarioSchema.safeParse(readScenario(file));
      if (!parsed.success) {
        throw new CliError(
          EXIT_USAGE,
          'invalid_scenario',
          `${file}: ${parsed.error.issues
            .slice(0, 20)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')}`,
        );
      }
      const imported = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        async (deps) => {
          // The scenario's rates go into the rate table first: its invoices are translated at them.
          if (parsed.data.fxRates.length > 0)
            await recordFxRates(
              deps,
              parsed.data.fxRates.map((r) => ({ ...r, source: `scenario ${file}` })),
            );
          return importScenario(deps, parsed.data);
        },
      );
      emit(
        out,
        imported,
        [
          ...Object.entries(imported.contracts).map(([id, contractId]) => `${id} → ${contractId}`),
          `${imported.events} event(s) applied; next: agora revenue bill --date <day>, agora revenue run --period <YYYY-MM>`,
        ].join('\n'),
      );
    });

  revenue
    .command('schedule')
    .description("A contract's revenue schedule, position, billing and usage")
    .argument('<contractId>', 'contract id (ct_…)')
    .action(async (contractId: string) => {
      const out = io();
      const view = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        (deps) => revenueScheduleView(deps, contractId),
      );
      const currency = view.currency ?? view.functionalCurrency;
      const lines = [
        `${view.contractId}: ${view.current ? `schedule v${view.current.version}, ${formatMajorAmount(view.current.totalMinor, currency)} ${currency} over [${view.current.service.start}, ${view.current.service.end})` : 'no revenue schedule'}`,
        ...(view.issue ? [`revenue issue: ${view.issue.code}: ${view.issue.message}`] : []),
        ...(view.current?.lines ?? []).map(
          (line) =>
            `  ${line.period} ${String(line.days).padStart(3)}d ${money(line.recognizedMinor, currency)} ${money(line.cumulativeMinor, currency)}`,
        ),
        `position: billed ${formatMajorAmount(view.position.billedMinor, currency)}, recognized ${formatMajorAmount(view.position.recognizedMinor, currency)}, deferred ${formatMajorAmount(view.position.deferredMinor, currency)}, unbilled ${formatMajorAmount(view.position.unbilledMinor, currency)}, fees ${formatMajorAmount(view.position.feesMinor, currency)}`,
        ...view.installments.map(
          (i) =>
            `  installment ${i.date} ${money(i.amountMinor, currency)} ${i.billed ? 'billed' : 'not yet billed'}`,
        ),
      ];
      emit(out, view, lines.join('\n'));
    });

  revenue
    .command('run')
    .description('The month-end recognition run for a period (idempotent)')
    .requiredOption('-p, --period <YYYY-MM>', 'the month to close')
    .action(async (options: { period: string }) => {
      if (!isPeriod(options.period))
        throw new CliError(
          EXIT_USAGE,
          'invalid_period',
          `--period must be YYYY-MM (got "${options.period}")`,
        );
      const out = io();
      const summary = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        (deps) =>
          runRecognition(deps, options.period, (done, contractId) => {
            if (!out.json) out.stderr(`[${done}] ${contractId}`);
          }),
      );
      emit(
        out,
        { period: options.period, ...summary },
        `${options.period}: ${summary.entriesPosted} entr${summary.entriesPosted === 1 ? 'y' : 'ies'} posted for ${summary.contractsChanged.length} of ${summary.contracts} contract(s)${summary.problems.length ? `; ${summary.problems.length} problem(s):\n${summary.problems.map((p) => `  ${p.contractId} ${p.code}: ${p.message}`).join('\n')}` : ''}`,
      );
      if (summary.problems.length > 0) setExitCode(EXIT_PROBLEMS);
    });

  revenue
    .command('bill')
    .description('Post installments and usage invoices due by a date (default today; idempotent)')
    .option('-d, --date <YYYY-MM-DD>', 'bill what is due by this date')
    .action(async (options: { date?: string }) => {
      const date = options.date ?? dateOfInstant(new Date().toISOString());
      if (!isCalendarDate(date))
        throw new CliError(EXIT_USAGE, 'invalid_date', `--date must be YYYY-MM-DD (got "${date}")`);
      const out = io();
      const summary = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        (deps) => runBilling(deps, date),
      );
      emit(
        out,
        { date, ...summary },
        `${date}: ${summary.invoices} invoice(s) and ${summary.entriesPosted} usage entr${summary.entriesPosted === 1 ? 'y' : 'ies'} for ${summary.contractsChanged.length} of ${summary.contracts} contract(s)${summary.problems.length ? `; ${summary.problems.length} problem(s):\n${summary.problems.map((p) => `  ${p.contractId} ${p.code}: ${p.message}`).join('\n')}` : ''}`,
      );
      if (summary.problems.length > 0) setExitCode(EXIT_PROBLEMS);
    });
}
