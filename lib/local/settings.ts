/**
 * Settings of the local stack and the CLI, from the environment, validated by zod. An invalid
 * value stops with one line naming the variable (exit 2: invalid input).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors';

export const DEFAULT_PORT = 3000;
export const DEFAULT_DATA_DIR = './.agora';

const SettingsSchema = z.object({
  AGORA_PORT: z.coerce.number().int().min(0).max(65_535).default(DEFAULT_PORT),
  AGORA_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
  AGORA_URL: z.url().optional(),
  AGORA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});

export interface LocalSettings {
  readonly port: number;
  readonly dataDir: string;
  /** An explicit API URL (a remote or already-running stack). */
  readonly url: string | undefined;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

export function loadLocalSettings(
  env: Record<string, string | undefined> = process.env,
): LocalSettings {
  const result = SettingsSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new InvalidInputError(
      'invalid_configuration',
      `Invalid ${variable}=${JSON.stringify(env[variable])}: ${issue?.message ?? 'bad value'}`,
    );
  }
  return {
    port: result.data.AGORA_PORT,
    dataDir: resolve(result.data.AGORA_DATA_DIR),
    url: result.data.AGORA_URL,
    logLevel: result.data.AGORA_LOG_LEVEL,
  };
}
