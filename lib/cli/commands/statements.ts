/**
 * `agora statements …`: partner commission statements on this data folder (the running stack's
 * store, or the embedded one for the command's duration): generate a period's statements with
 * progress on stderr, list and fetch a partner's, verify a partner's hash chain.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  generateStatements,
  getStatement,
  listStatements,
  type StatementDeps,
  verifyStatements,
} from '../../app/statements';
import { formatMajorAmount } from '../../domain/money';
import { loadLocalSettings } from '../../local/settings';
import { FolderEmailOutbox } from '../../outbound/email-outbox';
import { FolderStatementArchive } from '../../outbound/statement-archive';
import { revenueSettingsFrom } from '../../runtime/config';
import { systemClock } from '../../runtime/container';
import { loadStatementFonts } from '../../statements/fonts';
import { createLazyStatementRenderer } from '../../statements/renderer';
import { DynamoCommissionPlanStore } from '../../store/commission-plan-store';
import { DynamoCommissionStore } from '../../store/commission-store';
import { DynamoContractStore } from '../../store/contract-store';
import { DynamoLedgerStore } from '../../store/ledger-store';
import { DynamoAttributionStore, DynamoPartnerStore } from '../../store/partner-store';
import { DynamoStatementIndex } from '../../store/statement-store';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { withStore } from '../stack-client';

const PERIOD = /^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$/;

function checkPeriod(period: string): string {
  if (!PERIOD.test(period))
    throw new CliError(
      EXIT_USAGE,
      'invalid_period',
      '--period is a month YYYY-MM or a quarter YYYY-Qn',
    );
  return period;
}

/** The statement use cases' dependencies on this data folder's store. */
async function withStatements<T>(
  log: (line: string) => void,
  work: (deps: StatementDeps) => Promise<T>,
): Promise<T> {
  const settings = loadLocalSettings();
  const sellerName = process.env.AGORA_SELLER_NAME ?? 'Agora seller';
  return withStore(
    settings,
    ({ store }) =>
      work({
        partners: new DynamoPartnerStore(store),
        commissions: new DynamoCommissionStore(store),
        ledger: new DynamoLedgerStore(store),
        contracts: new DynamoContractStore(store),
        attribution: new DynamoAttributionStore(store),
        commissionPlans: new DynamoCommissionPlanStore(store),
        revenue: { functionalCurrency: revenueSettingsFrom(process.env).functionalCurrency },
        statementArchive: new FolderStatementArchive(
          process.env.AGORA_STATEMENTS_DIR ?? join(settings.dataDir, 'statements'),
        ),
        statementIndex: new DynamoStatementIndex(store),
        statementRenderer: createLazyStatementRenderer({
          sellerName,
          loadFonts: () => loadStatementFonts(),
        }),
        emailOutbox: new FolderEmailOutbox(
          process.env.AGORA_EMAIL_OUTBOX_DIR ?? join(settings.dataDir, 'outbox'),
          process.env.AGORA_EMAIL_FROM ?? 'Agora <agora@localhost>',
        ),
        statementSettings: { sellerName },
        alarm: (problem) => log(`ALARM ${problem.code}: ${problem.message}`),
        clock: systemClock,
      }),
    log,
  );
}

export function registerStatementCommands(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  const statements = program
    .command('statements')
    .description('Partner commission statements: generate, list, get, verify');

  statements
    .command('generate')
    .requiredOption('--period <YYYY-MM|YYYY-Qn>', 'an ended month or quarter')
    .option('--partner <partnerId>', 'one partner only')
    .description('Issue the period’s statements (PDF, CSV, JSON; each once), email the PDFs')
    .action(async (options: { period: string; partner?: string }) => {
      const out = io();
      const summary = await withStatements(
        (line) => out.stderr(line),
        (deps) =>
          generateStatements(deps, {
            period: checkPeriod(options.period),
            ...(options.partner ? { partnerId: options.partner } : {}),
            onProgress: (done, total) => out.stderr(`statements ${done}/${total}`),
          }),
      );
      emit(
        out,
        summary,
        [
          `statements ${summary.period}: ${summary.issued.length} issued, ${summary.alreadyIssued.length} already issued, ${summary.emailsSent} emailed`,
          ...summary.issued.map(
            (s) =>
              `  ${s.partnerId}  ${s.statementId}  #${s.sequence}  ${s.hash.slice(0, 16)}…  ${s.delivery}`,
          ),
          ...summary.problems.map(
            (p) => `  problem ${p.code}${p.partnerId ? ` (${p.partnerId})` : ''}: ${p.message}`,
          ),
        ].join('\n'),
      );
      if (summary.problemCount > 0) setExitCode(EXIT_PROBLEMS);
    });

  statements
    .command('list')
    .argument('<partnerId>')
    .description('A partner’s statements, latest period first')
    .action(async (partnerId: string) => {
      const out = io();
      const page = await withStatements(
        (line) => out.stderr(line),
        (deps) => listStatements(deps, partnerId, { limit: 100 }),
      );
      emit(
        out,
        page.items,
        page.items.length === 0
          ? `no statements for ${partnerId}`
          : page.items
              .map(
                (s) =>
                  `${s.period.padEnd(8)} ${s.statementId}  #${s.sequence}  payable ${formatMajorAmount(s.payableMinor, s.currency)} ${s.currency}  held ${formatMajorAmount(s.closingHeldMinor, s.currency)}  ${s.delivery.status}`,
              )
              .join('\n'),
      );
    });

  statements
    .command('get')
    .argument('<partnerId>')
    .argument('<period>')
    .option('--format <format>', 'pdf | csv | json', 'pdf')
    .option('--out <file>', 'write the file here (default: its own name in the current folder)')
    .description('Fetch a statement as issued (PDF, CSV or JSON)')
    .action(
      async (partnerId: string, period: string, options: { format: string; out?: string }) => {
        const out = io();
        const file = await withStatements(
          (line) => out.stderr(line),
          (deps) => getStatement(deps, partnerId, checkPeriod(period), options.format),
        );
        const path = options.out ?? file.filename;
        writeFileSync(path, file.body);
        emit(
          out,
          { path, statementId: file.statementId, hash: file.hash, bytes: file.body.byteLength },
          `wrote ${path} (${file.body.byteLength} bytes, statement ${file.statementId})`,
        );
      },
    );

  statements
    .command('verify')
    .argument('<partnerId>')
    .description('Check every archived file against its hash, and the statements’ hash chain')
    .action(async (partnerId: string) => {
      const out = io();
      const result = await withStatements(
        (line) => out.stderr(line),
        (deps) => verifyStatements(deps, partnerId),
      );
      emit(
        out,
        result,
        result.ok
          ? `ok: ${result.statements} statement(s) of ${partnerId} verified, chain intact`
          : `BROKEN at ${result.period} (${result.reason}): ${result.message}`,
      );
      if (!result.ok) setExitCode(EXIT_PROBLEMS);
    });
}
