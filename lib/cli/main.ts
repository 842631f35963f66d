/**
 * The `agora` command. Each subcommand lives in lib/cli/commands; this file wires them, applies
 * the I/O contract (--json), and maps failures to exit codes.
 */
import { Command, CommanderError } from 'commander';
import { AgoraError } from '../domain/errors';
import { EnvironmentError } from '../local/errors';
import { runLocalStack, startFailure } from '../local/start';
import { registerDoctorCommand } from './commands/doctor';
import { registerFinanceCommands } from './commands/finance';
import { registerListingCommands } from './commands/listings';
import { registerOfferCommands } from './commands/offers';
import { registerPartnerCommands } from './commands/partners';
import { registerPipelineCommands } from './commands/pipeline';
import { registerReconcileCommand } from './commands/reconcile';
import { registerReportCommands } from './commands/reports';
import { registerRevenueCommands } from './commands/revenue';
import { registerSimulateCommand } from './commands/simulate';
import { registerStatementCommands } from './commands/statements';
import { registerTokenCommand } from './commands/token';
import { registerUsageCommands } from './commands/usage';
import {
  CliError,
  type CliIo,
  EXIT_ENVIRONMENT,
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  processIo,
  toJson,
} from './output';

export async function main(argv: readonly string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let exitCode = EXIT_OK;
  const json = argv.includes('--json');
  const io = (): CliIo => processIo(json);

  const program = new Command('agora')
    .description(
      'Agora: marketplace offers, entitlements, metering, revenue, commission and reconciliation',
    )
    .option('--json', 'print exactly one JSON document on stdout')
    .showHelpAfterError('(run agora --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    });

  program
    .command('start')
    .description('Run the whole service locally (same as npm start)')
    .action(async () => {
      await runLocalStack();
      // keep running until a signal stops the stack
      await new Promise<never>(() => undefined);
    });
  registerTokenCommand(program, io);
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  registerDoctorCommand(program, io, setExitCode);
  registerPipelineCommands(program, io, setExitCode);
  registerSimulateCommand(program, io, setExitCode);
  registerRevenueCommands(program, io, setExitCode);
  registerReportCommands(
    program.commands.find((c) => c.name() === 'revenue') as Command,
    io,
    setExitCode,
  );
  registerFinanceCommands(program, io);
  registerOfferCommands(program, io, setExitCode);
  registerListingCommands(program, io);
  registerPartnerCommands(program, io, setExitCode);
  registerStatementCommands(program, io, setExitCode);
  registerReconcileCommand(program, io, setExitCode);
  registerUsageCommands(program, io, setExitCode);

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return reportFailure(error, io());
  }
}

function reportFailure(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.exitCode === 0
    )
      return EXIT_OK;
    if (io.json)
      io.stdout(
        toJson({ error: { code: error.code.replace('commander.', ''), message: error.message } }),
      );
    return EXIT_USAGE;
  }
  let exitCode = EXIT_PROBLEMS;
  let code = 'failed';
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof CliError) {
    exitCode = error.exitCode;
    code = error.code;
  } else if (error instanceof EnvironmentError) {
    exitCode = EXIT_ENVIRONMENT;
    code = error.code;
  } else if (error instanceof AgoraError) {
    exitCode = EXIT_USAGE;
    code = error.code;
  } else {
    const failure = startFailure(error);
    exitCode = failure.exitCode;
    message = failure.message;
  }
  if (io.json) io.stdout(toJson({ error: { code, message } }));
  io.stderr(`agora: ${message}`);
  return exitCode;
}
