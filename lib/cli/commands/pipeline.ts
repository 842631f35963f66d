/**
 * Operator commands on the contract pipeline: replay payload files, show a contract's raw and
 * canonical history, list and redrive dead letters. They work with or without a running stack.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { type ReplayItem, type ReplayResult, replayItem } from '../../app/replay';
import { processSyncMessage } from '../../app/sync';
import { loadLocalSettings } from '../../local/settings';
import { awsEnvelopeForReplay } from '../../marketplaces/aws/intake';
import { azureEnvelopeForReplay } from '../../marketplaces/azure/intake';
import { gcpEnvelopeForReplay } from '../../marketplaces/gcp/intake';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { withPipeline } from '../pipeline';

/** Files one replay reads: far above any export, and a guard against a wrong folder. */
export const REPLAY_FILES_MAX = 10_000;
const REPLAY_BYTES_MAX = 1024 * 1024;
const HISTORY_PAGE_SIZE = 200;

/** Expands files and folders (recursively) into .json files, in a stable order. */
export function collectJsonFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    if (out.length > REPLAY_FILES_MAX)
      throw new CliError(
        EXIT_USAGE,
        'too_many_files',
        `More than ${REPLAY_FILES_MAX} files to replay`,
      );
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      throw new CliError(EXIT_USAGE, 'no_such_path', `No such file or folder: ${path}`);
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
    } else if (path.endsWith('.json')) {
      out.push(path);
    }
  };
  for (const path of paths) visit(path);
  return out;
}

export function registerPipelineCommands(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('replay')
    .description(
      'Feed marketplace payload files (or folders of them) through the pipeline; idempotent',
    )
    .argument('<paths...>', 'JSON payload files or folders')
    .action(async (paths: string[]) => {
      const out = io();
      const settings = loadLocalSettings();
      const files = collectJsonFiles(paths);
      const now = new Date().toISOString();
      const skipped: string[] = [];
      const items: ReplayItem[] = [];
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        let body: unknown;
        try {
          body = text.length <= REPLAY_BYTES_MAX ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        const envelope =
          awsEnvelopeForReplay(body, now) ??
          azureEnvelopeForReplay(body, now) ??
          gcpEnvelopeForReplay(body, now);
        if (envelope) items.push({ name: file, envelope });
        else skipped.push(file);
      }
      const results = await withPipeline(
        settings,
        (line) => out.stderr(line),
        async (pipeline) => {
          const done: ReplayResult[] = [];
          for (const [index, item] of items.entries()) {
            if (!out.json) out.stderr(`[${index + 1}/${items.length}] ${basename(item.name)}`);
            done.push(await replayItem(pipeline, item));
          }
          return done;
        },
      );
      const events = results.reduce(
        (n, r) => n + r.contracts.reduce((m, c) => m + c.events.length, 0),
        0,
      );
      const failed = results.filter((r) => r.status === 'failed');
      const summary = {
        files: files.length,
        replayed: results.length,
        skipped: skipped.length,
        stored: results.filter((r) => r.stored === 'stored').length,
        duplicates: results.filter((r) => r.stored === 'duplicate').length,
        events,
        failed: failed.length,
        changed: events > 0 || results.some((r) => r.stored === 'stored'),
      };
      const lines = results.map((r) => {
        const changes = r.contracts
          .filter((c) => c.events.length > 0)
          .map((c) => `${c.contractId}: ${c.events.join(', ')}`);
        return `${r.status === 'failed' ? 'FAIL' : 'ok  '} ${basename(r.name)} (${r.stored}) ${changes.length > 0 ? changes.join('; ') : r.note}`;
      });
      const verdict = summary.changed ? `${summary.events} event(s) applied` : 'nothing changed';
      emit(
        out,
        { summary, results, skipped },
        [
          ...lines,
          ...skipped.map((s) => `skip ${basename(s)} (not a marketplace payload)`),
          verdict,
        ].join('\n'),
      );
      if (failed.length > 0) setExitCode(EXIT_PROBLEMS);
    });

  const events = program.command('events').description('Raw and canonical history');
  events
    .command('list')
    .description("A contract's canonical events with the raw payloads that caused them")
    .requiredOption('-c, --contract <contractId>', 'contract id (ct_…)')
    .action(async (options: { contract: string }) => {
      const out = io();
      const history = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        async ({ contracts, rawInbound }) => {
          const snapshot = await contracts.get(options.contract);
          if (!snapshot)
            throw new CliError(EXIT_USAGE, 'not_found', `No contract ${options.contract}`);
          const stored = (await contracts.events(options.contract, { limit: HISTORY_PAGE_SIZE }))
            .items;
          const links = (await contracts.rawLinks(options.contract, { limit: HISTORY_PAGE_SIZE }))
            .items;
          const rejections = (
            await contracts.rejections(options.contract, { limit: HISTORY_PAGE_SIZE })
          ).items;
          const raws = [];
          for (const link of links) {
            const raw = await rawInbound.get(link.rawId);
            raws.push({
              rawId: link.rawId,
              receivedAt: link.receivedAt,
              channel: raw?.channel ?? null,
              providerMessageId: raw?.providerMessageId ?? null,
              outcome: raw?.outcome ?? null,
            });
          }
          return {
            contract: {
              contractId: snapshot.contractId,
              externalId: snapshot.externalId,
              status: snapshot.status,
              version: snapshot.version,
            },
            events: stored.map(({ event, version, recordedAt }) => ({
              version,
              type: event.type,
              effectiveAt: event.effectiveAt,
              eventId: event.eventId,
              rawId: event.raw?.rawId ?? null,
              recordedAt,
            })),
            raw: raws,
            rejections,
          };
        },
      );
      const human = [
        `${history.contract.contractId} ${history.contract.externalId} — ${history.contract.status} (version ${history.contract.version})`,
        'canonical events:',
        ...history.events.map(
          (e) =>
            `  v${e.version} ${e.type.padEnd(20)} effective ${e.effectiveAt}  ${e.eventId}  raw ${e.rawId ?? '-'}`,
        ),
        'raw payloads:',
        ...history.raw.map(
          (r) =>
            `  ${r.receivedAt} ${r.channel ?? '?'} ${r.providerMessageId ?? r.rawId}  → ${r.outcome ?? 'pending'}`,
        ),
        ...(history.rejections.length > 0
          ? [
              'rejected changes:',
              ...history.rejections.map((r) => `  ${r.at} ${r.code}: ${r.message}`),
            ]
          : []),
      ].join('\n');
      emit(out, history, human);
    });

  const dlq = program.command('dlq').description('Dead-lettered notifications');
  dlq
    .command('list')
    .description('Notifications that could not be synced, with reason and raw reference')
    .action(async () => {
      const out = io();
      const entries = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        async ({ failures }) => (await failures.listDeadLettered({ limit: 200 })).items,
      );
      emit(
        out,
        { items: entries },
        entries.length === 0
          ? 'the dead-letter list is empty'
          : entries
              .map(
                (e) =>
                  `${e.lastFailedAt} ${e.rawId} ${e.code} (${e.attempts} attempts): ${e.reason}`,
              )
              .join('\n'),
      );
    });
  dlq
    .command('redrive')
    .description('Sync dead-lettered notifications again (idempotent)')
    .argument('[rawId]', 'one raw id; omit with --all')
    .option('--all', 'every dead-lettered notification')
    .action(async (rawId: string | undefined, options: { all?: boolean }) => {
      const out = io();
      if (!rawId && !options.all)
        throw new CliError(EXIT_USAGE, 'missing_target', 'Give a raw id or --all');
      const results = await withPipeline(
        loadLocalSettings(),
        (line) => out.stderr(line),
        async (pipeline) => {
          const targets = rawId
            ? [await pipeline.failures.get(rawId)]
            : (await pipeline.failures.listDeadLettered({ limit: 200 })).items;
          const done = [];
          for (const failure of targets) {
            if (failure?.status !== 'dead-lettered') {
              throw new CliError(
                EXIT_USAGE,
                'not_dead_lettered',
                `No dead-lettered notification ${rawId ?? ''}`.trim(),
              );
            }
            await pipeline.failures.markRedriven(failure.rawId, pipeline.clock.now());
            const outcome = await processSyncMessage(pipeline, failure, 1);
            done.push({
              rawId: failure.rawId,
              status: outcome.status,
              detail: outcome.status === 'done' ? outcome.note : outcome.failure.reason,
            });
          }
          return done;
        },
      );
      emit(
        out,
        { items: results },
        results.length === 0
          ? 'nothing to redrive'
          : results.map((r) => `${r.status.padEnd(13)} ${r.rawId} ${r.detail}`).join('\n'),
      );
      if (results.some((r) => r.status !== 'done')) setExitCode(EXIT_PROBLEMS);
    });
}
