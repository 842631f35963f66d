/**
 * `agora simulate <journey>`: the buyer's side of a purchase against the running local stack
 * (`npm start`), so a person can watch a contract appear, change plan and end through the real
 * endpoints. Needs the running stack: its simulators call back into its API.
 */
import type { Command } from 'commander';
import {
  JOURNEY_WAIT_MS_DEFAULT,
  JOURNEYS,
  JourneyError,
  type JourneyName,
  runJourney,
} from '../../local/buyer-journeys';
import { ensureDevKeys, mintDevToken } from '../../local/dev-keys';
import { loadLocalSettings } from '../../local/settings';
import { CliError, type CliIo, EXIT_ENVIRONMENT, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { findRunningStack } from '../stack-client';

/** Longest a step may be waited for, and the longest pause between steps. */
export const SIMULATE_WAIT_MS_MAX = 300_000;
export const SIMULATE_PAUSE_MS_MAX = 60_000;

function boundedInt(text: string, name: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new CliError(EXIT_USAGE, 'invalid_option', `${name} must be an integer from 0 to ${max}`);
  }
  return value;
}

export function registerSimulateCommand(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('simulate')
    .description(
      "Play a buyer's purchase against the running stack: the contract appears, changes plan, ends",
    )
    .argument('<journey>', JOURNEYS.join(' | '))
    .option('--keep', 'stop once the contract is active (no plan change, no cancellation)')
    .option('--plan <plan>', 'the plan (AWS: dimension) bought')
    .option('--new-plan <plan>', 'the plan changed to')
    .option('--offer <offerId>', 'AWS: the private offer the buyer accepts (offer-…)')
    .option('--buyer <accountId>', 'AWS: the buyer account (12 digits; default a random one)')
    .option('--pause <ms>', 'pause between steps, to watch', '0')
    .option('--wait <ms>', 'how long each step may take', String(JOURNEY_WAIT_MS_DEFAULT))
    .action(
      async (
        journey: string,
        options: {
          keep?: boolean;
          plan?: string;
          newPlan?: string;
          offer?: string;
          buyer?: string;
          pause: string;
          wait: string;
        },
      ) => {
        if (!(JOURNEYS as readonly string[]).includes(journey)) {
          throw new CliError(
            EXIT_USAGE,
            'unknown_journey',
            `Unknown journey "${journey}"; use one of: ${JOURNEYS.join(', ')}`,
          );
        }
        if (options.buyer !== undefined && !/^\d{12}$/.test(options.buyer)) {
          throw new CliError(
            EXIT_USAGE,
            'invalid_buyer',
            '--buyer is an AWS account id: 12 digits',
          );
        }
        const out = io();
        const settings = loadLocalSettings();
        const stack = await findRunningStack(settings);
        if (!stack) {
          throw new CliError(
            EXIT_ENVIRONMENT,
            'stack_not_running',
            `No running stack for ${settings.dataDir}: start it with \`npm start\` (in another terminal), then run this again`,
          );
        }
        const keys = await ensureDevKeys(settings.dataDir);
        const token = async () =>
          (
            await mintDevToken(keys, {
              roles: ['seller'],
              subject: 'agora-simulate',
              nowSeconds: Math.floor(Date.now() / 1000),
            })
          ).token;
        try {
          const result = await runJourney(
            journey as JourneyName,
            { stack, token, log: (line) => out.stderr(line), now: () => new Date() },
            {
              keep: options.keep === true,
              waitMs: boundedInt(options.wait, '--wait', SIMULATE_WAIT_MS_MAX),
              pauseMs: boundedInt(options.pause, '--pause', SIMULATE_PAUSE_MS_MAX),
              ...(options.plan ? { plan: options.plan } : {}),
              ...(options.newPlan ? { newPlan: options.newPlan } : {}),
              ...(options.offer ? { offerId: options.offer } : {}),
              ...(options.buyer ? { buyerAccountId: options.buyer } : {}),
            },
          );
          emit(
            out,
            result,
            `${result.contractId} (${result.externalId}): ${result.steps.map((s) => `${s.step} → ${s.status}`).join(', ')}`,
          );
        } catch (error) {
          if (!(error instanceof JourneyError)) throw error;
          setExitCode(EXIT_PROBLEMS);
          throw new CliError(EXIT_PROBLEMS, error.code, error.message);
        }
      },
    );
}
