/**
 * Configuration of a Lambda (or of the local stack, which sets the same variables), validated
 * once at cold start. An invalid value stops the process with one line naming the variable.
 */
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors';

const OptionalUrl = z.url().optional();

export const ConfigSchema = z.object({
  AGORA_STAGE: z.enum(['local', 'aws']).default('aws'),
  AGORA_TABLE_NAME: z.string().min(3).max(255),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** DynamoDB Local's endpoint (local stack only). */
  AGORA_DYNAMODB_ENDPOINT: OptionalUrl,
  AGORA_JWT_ISSUER: z.string().min(1),
  AGORA_JWT_AUDIENCE: z.string().min(1),
  AGORA_JWKS_URL: z.url(),
  AGORA_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** How long an Idempotency-Key is remembered. */
  AGORA_IDEMPOTENCY_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  AGORA_VERSION: z.string().default('0.1.0'),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigurationError extends InvalidInputError {
  constructor(message: string) {
    super('invalid_configuration', message);
  }
}

/** Parses the environment; the error message names the first bad variable on one line. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = String(issue?.path[0] ?? 'configuration');
  const problem =
    env[variable] === undefined ? 'is not set' : `is invalid (${issue?.message ?? 'bad value'})`;
  throw new ConfigurationError(`Configuration error: ${variable} ${problem}`);
}
