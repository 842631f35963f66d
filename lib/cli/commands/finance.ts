/**
 * `agora periods …`, `agora fx-rates …`, `agora disbursements record`: finance operations on the
 * local store (or the running stack's), the same use cases the API runs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  changePeriod,
  type PeriodAction,
  recordDisbursement,
  recordFxRates,
} from '../../app/revenue/finance-ops';
import { isCalendarDate, isPeriod } from '../../domain/calendar';
import { parseMajorAmount } from '../../domain/money';
import {
  CalendarDateSchema,
  CurrencySchema,
  DecimalStringSchema,
} from '../../domain/schemas/primitives';
import { loadLocalSettings } from '../../local/settings';
import { CliError, type CliIo, EXIT_USAGE, emit } from '../output';
import { withPipeline } from '../pipeline';

export const FX_FILE_RATES_MAX = 10_000;
const CLI_USER = 'cli:local-operator';

const FxFileSchema = z
  .array(
    z.object({
      date: CalendarDateSchema,
      base: CurrencySchema,
      quote: CurrencySchema,
      rate: DecimalStringSchema,
      source: z.string().min(1).max(200).default('manual'),
    }),
  )
  .min(1)
  .max(FX_FILE_RATES_MAX);

export function registerFinanceCommands(program: Command, io: () => CliIo): void {
  const periods = program
    .command('periods')
    .description('Accounting periods: freeze, close, reopen');
  periods
    .command('list')
    .description('What is closed and soft-frozen, and the audit trail')
    .action(async () => {
      const out = io();
      const result = await withPipeline(
        loadLocalSettings(),
        (l) => out.stderr(l),
        async (deps) => ({
          locks: await deps.periods.locks(),
          audit: (await deps.periods.audit({ limit: 50 })).items,
        }),
      );
      emit(
        out,
        result,
        [
          `closed through ${result.locks.closedThrough ?? '—'}, soft-frozen through ${result.locks.frozenThrough ?? '—'}`,
          ...result.audit.map(
            (a) =>
              `  ${a.at} ${a.action} ${a.period} by ${a.by}${a.reason ? ` — ${a.reason}` : ''}`,
          ),
        ].join('\n'),
      );
    });
  for (const action of ['freeze', 'close', 'reopen'] as PeriodAction[]) {
    periods
      .command(action)
      .description(
        action === 'reopen'
          ? 'Reopen a month and every month after it (needs --reason)'
          : `${action === 'freeze' ? 'Soft-freeze' : 'Close'} a month and every month before it`,
      )
      .argument('<period>', 'YYYY-MM')
      .option('--reason <text>', 'why (kept in the audit trail)')
      .action(async (period: string, options: { reason?: string }) => {
        if (!isPeriod(period))
          throw new CliError(EXIT_USAGE, 'invalid_period', `Expected YYYY-MM, got "${period}"`);
        if (action === 'reopen' && !options.reason)
          throw new CliError(EXIT_USAGE, 'reason_required', 'Reopening a period needs --reason');
        const out = io();
        const result = await withPipeline(
          loadLocalSettings(),
          (l) => out.stderr(l),
          (deps) =>
            changePeriod(deps, { action, period, by: CLI_USER, reason: options.reason ?? null }),
        );
        emit(
          out,
          result,
          `${period} ${action === 'reopen' ? 'reopened' : action === 'close' ? 'closed' : 'soft-frozen'}: closed through ${result.locks.closedThrough ?? '—'}, soft-frozen through ${result.locks.frozenThrough ?? '—'}`,
        );
      });
  }

  const fx = program.command('fx-rates').description('The FX rate table (data, not code)');
  fx.command('import')
    .description('Record rates from a JSON file: [{"date","base","quote","rate","source"}]')
    .argument('<file>', 'JSON file')
    .action(async (file: string) => {
      const out = io();
      let parsed: z.infer<typeof FxFileSchema>;
      try {
        parsed = FxFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      } catch (error) {
        throw new CliError(
          EXIT_USAGE,
          'invalid_rates',
          `${file}: ${(error as Error).message.slice(0, 500)}`,
        );
      }
      const result = await withPipeline(
        loadLocalSettings(),
        (l) => out.stderr(l),
        (deps) => recordFxRates(deps, parsed),
      );
      emit(out, result, `${result.recorded} rate(s) recorded`);
    });
  fx.command('list')
    .description('The recorded rates')
    .action(async () => {
      const out = io();
      const rates = await withPipeline(
        loadLocalSettings(),
        (l) => out.stderr(l),
        (deps) => deps.fxRates.all(),
      );
      emit(
        out,
        { items: rates },
        rates.map((r) => `${r.date} ${r.base}/${r.quote} ${r.rate} (${r.source})`).join('\n'),
      );
    });

  program
    .command('disbursements')
    .description('Marketplace payouts')
    .command('record')
    .description('Record a payout against a contract: cash in, receivable settled, realized FX')
    .requiredOption('--contract <contractId>', 'contract id (ct_…)')
    .requiredOption('--id <disbursementId>', "the marketplace's payout id")
    .requiredOption('--date <YYYY-MM-DD>', 'the payout date')
    .requiredOption('--amount <decimal>', 'cash received, in major units (e.g. 101365.00)')
    .requiredOption('--currency <ISO>', 'currency of the cash received')
    .option('--settles <decimal>', 'the receivable amount it settles, when in another currency')
    .option('--settles-currency <ISO>', 'currency of the receivable it settles')
    .action(
      async (options: {
        contract: string;
        id: string;
        date: string;
        amount: string;
        currency: string;
        settles?: string;
        settlesCurrency?: string;
      }) => {
        if (!isCalendarDate(options.date))
          throw new CliError(
            EXIT_USAGE,
            'invalid_date',
            `--date must be YYYY-MM-DD (got "${options.date}")`,
          );
        if ((options.settles === undefined) !== (options.settlesCurrency === undefined))
          throw new CliError(
            EXIT_USAGE,
            'invalid_settles',
            '--settles and --settles-currency go together',
          );
        const out = io();
        const outcome = await withPipeline(
          loadLocalSettings(),
          (l) => out.stderr(l),
          (deps) =>
            recordDisbursement(deps, {
              contractId: options.contract,
              disbursementId: options.id,
              date: options.date,
              currency: options.currency,
              amountMinor: parseMajorAmount(options.amount, options.currency),
              settlesCurrency: options.settlesCurrency ?? null,
              settlesMinor:
                options.settles && options.settlesCurrency
                  ? parseMajorAmount(options.settles, options.settlesCurrency)
                  : null,
            }),
        );
        emit(
          out,
          outcome,
          outcome.events.length > 0
            ? `${options.id} recorded on ${outcome.contractId} (version ${outcome.version})`
            : `${options.id} was already recorded: nothing changed`,
        );
      },
    );
}
