/**
 * The CLI's I/O contract: with --json exactly one JSON document on stdout and nothing else;
 * human text, logs and progress on stderr. Exit codes: 0 success, 1 the command found problems
 * it reports, 2 bad usage or invalid input, 3 environment problem.
 */
export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;
export const EXIT_ENVIRONMENT = 3;

export interface CliIo {
  readonly json: boolean;
  stdout(text: string): void;
  stderr(text: string): void;
}

export function processIo(json: boolean): CliIo {
  return {
    json,
    stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/** Money and other bigints leave the CLI as strings, never as JSON numbers. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, inner) => (typeof inner === 'bigint' ? inner.toString() : inner),
    2,
  );
}

/** Prints the command's result: the JSON document with --json, the human text otherwise. */
export function emit(io: CliIo, document: unknown, human: string): void {
  if (io.json) io.stdout(toJson(document));
  else io.stdout(human);
}

/** An error the CLI turns into an exit code and a message (a JSON error document with --json). */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
