/**
 * `agora doctor`: checks what the local stack needs — Node, Java, DynamoDB Local, the data
 * folder, the API port and the table — and prints what it found. Exit 1 when something is wrong.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { findDynamoDbLocalJar } from '../../local/dynamodb-local';
import { assertPortFree } from '../../local/http-server';
import { detectJava } from '../../local/java';
import { loadLocalSettings } from '../../local/settings';
import { readStackFile } from '../../local/stack';
import { type CliIo, EXIT_PROBLEMS, emit } from '../output';
import { probeHealth, withStore } from '../stack-client';

export const NODE_MAJOR_MIN = 20;

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

async function check(name: string, run: () => Promise<string> | string): Promise<Check> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message };
  }
}

export function registerDoctorCommand(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  program
    .command('doctor')
    .description('Check Node, Java, DynamoDB Local, the data folder, the API port and the table')
    .action(async () => {
      const out = io();
      const settings = loadLocalSettings();
      const checks: Check[] = [];
      checks.push(
        await check('node', () => {
          const major = Number(process.versions.node.split('.')[0]);
          if (major < NODE_MAJOR_MIN)
            throw new Error(
              `Node ${process.versions.node} is too old; use Node ${NODE_MAJOR_MIN}+`,
            );
          return `Node ${process.versions.node}`;
        }),
      );
      const java = await check('java', () => {
        const found = detectJava();
        return `Java ${found.version} (${found.command})`;
      });
      checks.push(java);
      checks.push(await check('dynamodb-local', () => `jar at ${findDynamoDbLocalJar().jar}`));
      checks.push(
        await check('data-dir', () => {
          mkdirSync(settings.dataDir, { recursive: true });
          accessSync(settings.dataDir, constants.W_OK);
          return `${settings.dataDir} is writable`;
        }),
      );
      const stackFile = readStackFile(settings.dataDir);
      const health = stackFile ? await probeHealth(stackFile.url) : null;
      checks.push(
        await check('api-port', async () => {
          if (health?.ok && stackFile?.port === settings.port)
            return `port ${settings.port} serves Agora (${stackFile.url})`;
          await assertPortFree(settings.port);
          return `port ${settings.port} is free`;
        }),
      );
      checks.push(
        await check('stack', () =>
          health?.ok && stackFile
            ? `running: ${stackFile.url} (pid ${stackFile.pid}, DynamoDB ${stackFile.dynamodbEndpoint})`
            : 'not running (start it with `npm start`)',
        ),
      );
      if (java.ok) {
        checks.push(
          await check('table', () =>
            withStore(
              settings,
              async ({ store, source }) => {
                const described = await store.describe();
                if (described.status !== 'ACTIVE')
                  throw new Error(`table ${store.tableName} is ${described.status}`);
                return `table ${store.tableName} is ACTIVE (${source === 'embedded' ? 'checked with the embedded DynamoDB Local' : 'via the running stack'})`;
              },
              (line) => out.stderr(line),
            ),
          ),
        );
      }
      const ok = checks.every((c) => c.ok);
      const human = checks
        .map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(15)} ${c.detail}`)
        .join('\n');
      emit(out, { ok, checks }, `${human}\n${ok ? 'all good' : 'problems found'}`);
      if (!ok) setExitCode(EXIT_PROBLEMS);
    });
}
