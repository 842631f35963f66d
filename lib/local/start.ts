/**
 * `npm start`: runs the whole service locally until Ctrl-C or SIGTERM, then stops cleanly (the
 * JVM included). Environment problems print one line with the fix and exit 3.
 */
import { AgoraError } from '../domain/errors';
import { EnvironmentError } from './errors';
import { loadLocalSettings } from './settings';
import { type LocalStack, startLocalStack } from './stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const EXIT_ENVIRONMENT = 3;

/**
 * Starts the stack and keeps it running until a signal; resolves once it is ready. Signal
 * handlers are installed first: a SIGTERM during start-up still stops cleanly (JVM included).
 */
export async function runLocalStack(): Promise<void> {
  const settings = loadLocalSettings();
  const started = Date.now();
  let stack: LocalStack | null = null;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`agora: ${signal} received, stopping…\n`);
    // If start-up is still running, it sees `stopping` and stops what it started.
    if (!stack) return;
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  process.on('uncaughtException', (error) => {
    process.stderr.write(`agora: fatal: ${error.stack ?? error.message}\n`);
    (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  });

  process.stderr.write(
    `agora: starting DynamoDB Local and the API (data in ${settings.dataDir})…\n`,
  );
  stack = await startLocalStack({
    port: settings.port,
    dataDir: settings.dataDir,
    logLevel: settings.logLevel,
  });
  if (stopping) {
    await stack.stop();
    process.exit(0);
  }
  process.stderr.write(
    [
      `agora: ready in ${Date.now() - started} ms`,
      `  API        ${stack.url}  (try ${stack.url}/health, ${stack.url}/openapi.json)`,
      `  DynamoDB   ${stack.dynamodbEndpoint}  table ${stack.tableName}`,
      `  token      npx agora token --role seller`,
      '  stop       Ctrl-C',
      '',
    ].join('\n'),
  );
}

/** Exit code and one-line message for a start failure. */
export function startFailure(error: unknown): { exitCode: number; message: string } {
  if (error instanceof EnvironmentError)
    return { exitCode: EXIT_ENVIRONMENT, message: error.message };
  if (error instanceof AgoraError) return { exitCode: 2, message: error.message };
  return { exitCode: 1, message: `failed to start: ${(error as Error).stack ?? String(error)}` };
}
