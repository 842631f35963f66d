/**
 * `npm run simulate -- --seed <n> --events <m> [--faults on|off] [--inject-bug <name>] [--verbose]`:
 * one deterministic simulation; exit 0 when the auditor and every invariant agree with the stored
 * state after every step, 1 with the seed, step and the command that reproduces a failure.
 */
import { INJECTABLE_BUGS, type InjectableBug, runSimulation } from './harness';

export function parseArgs(argv: readonly string[]): {
  seed: number;
  events: number;
  faults: boolean;
  emptyAgreementReads: boolean;
  injectBug: InjectableBug | null;
  exposeKnownBugs: boolean;
  verbose: boolean;
} {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const seed = Number(value('--seed') ?? '1');
  const events = Number(value('--events') ?? '100');
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error('--seed must be an integer in [0, 2^32)');
  if (!Number.isInteger(events) || events < 1 || events > 100_000)
    throw new Error('--events must be an integer in [1, 100000]');
  const bug = value('--inject-bug') ?? null;
  if (bug !== null && !(INJECTABLE_BUGS as readonly string[]).includes(bug))
    throw new Error(`--inject-bug must be one of ${INJECTABLE_BUGS.join(', ')}`);
  const faults = value('--faults') ?? 'on';
  if (faults !== 'on' && faults !== 'off' && faults !== 'all')
    throw new Error('--faults must be on, off or all');
  return {
    seed,
    events,
    faults: faults !== 'off',
    emptyAgreementReads: faults !== 'off',
    injectBug: bug as InjectableBug | null,
    exposeKnownBugs: argv.includes('--expose-known-bugs'),
    verbose: argv.includes('--verbose'),
  };
}

export function reproduceCommand(args: {
  seed: number;
  events: number;
  faults: boolean;
  emptyAgreementReads?: boolean;
  injectBug: InjectableBug | null;
  exposeKnownBugs?: boolean;
}): string {
  return [
    `npm run simulate -- --seed ${args.seed} --events ${args.events}`,
    args.faults ? '' : ' --faults off',
    args.injectBug ? ` --inject-bug ${args.injectBug}` : '',
    args.exposeKnownBugs ? ' --expose-known-bugs' : '',
  ].join('');
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const every = Math.max(1, Math.floor(args.events / 10));
  const result = await runSimulation({
    seed: args.seed,
    events: args.events,
    faults: args.faults,
    emptyAgreementReads: args.emptyAgreementReads,
    injectBug: args.injectBug,
    exposeKnownBugs: args.exposeKnownBugs,
    progress: (step, total) => {
      if (step % every === 0 || step === total)
        process.stderr.write(`[simulate] seed ${args.seed}: step ${step}/${total}\n`);
    },
    ...(args.verbose ? { verbose: (line: string) => process.stderr.write(`  ${line}\n`) } : {}),
  });
  const seconds = result.elapsedMs / 1000;
  const summary = {
    seed: result.seed,
    events: result.events,
    steps: result.steps,
    traceHash: result.traceHash,
    stateHash: result.stateHash,
    seconds: Number(seconds.toFixed(1)),
    stepsPerSecond: Number((result.steps / seconds).toFixed(1)),
    stats: result.stats,
  };
  if (result.failure) {
    process.stdout.write(
      `FAIL seed ${result.seed} step ${result.failure.step}: ${result.failure.message}\n` +
        `trace ${result.traceHash}\nreproduce: ${reproduceCommand(args)}\n`,
    );
    return 1;
  }
  process.stdout.write(`PASS ${JSON.stringify(summary)}\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
