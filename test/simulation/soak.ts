/**
 * `npm run soak -- [--seeds N] [--from S] [--events M] [--keep-going]`: many seeds in a row on
 * one DynamoDB Local (a fresh table each); stops at the first failure (or, with --keep-going,
 * runs every seed) and prints the command reproducing each failure.
 */
import { startDynamoDbLocal } from '../../lib/local/dynamodb-local';
import { runSimulation } from './harness';
import { reproduceCommand } from './main';

function option(argv: readonly string[], name: string, fallback: number): number {
  const index = argv.indexOf(name);
  const value = index >= 0 ? Number(argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const argv = process.argv.slice(2);
  const seeds = option(argv, '--seeds', 20);
  const from = option(argv, '--from', 1);
  const events = option(argv, '--events', 150);
  const keepGoing = argv.includes('--keep-going');
  let failures = 0;
  const dynamo = await startDynamoDbLocal({ dataDir: null });
  const started = Date.now();
  let steps = 0;
  try {
    for (let seed = from; seed < from + seeds; seed += 1) {
      const result = await runSimulation({ seed, events, dynamodbEndpoint: dynamo.endpoint });
      steps += result.steps;
      if (result.failure) {
        process.stdout.write(
          `FAIL seed ${seed} step ${result.failure.step}: ${result.failure.message}\n` +
            `reproduce: ${reproduceCommand({ seed, events, faults: true, injectBug: null })}\n`,
        );
        failures += 1;
        if (!keepGoing) return 1;
        continue;
      }
      process.stderr.write(
        `[soak] seed ${seed} passed: ${result.steps} steps in ${(result.elapsedMs / 1000).toFixed(1)} s (trace ${result.traceHash})\n`,
      );
    }
  } finally {
    await dynamo.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  if (failures > 0) {
    process.stdout.write(`${failures} of ${seeds} seeds failed\n`);
    return 1;
  }
  process.stdout.write(
    `PASS ${seeds} seeds (${from}..${from + seeds - 1}), ${steps} steps in ${seconds.toFixed(0)} s\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
