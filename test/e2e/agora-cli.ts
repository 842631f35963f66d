/** Runs the `agora` command as a user would (a child process), for the CLI's end-to-end tests. */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function agora(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolveRun) => {
    const child = spawn(join(ROOT, 'bin/agora.mjs'), args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}
