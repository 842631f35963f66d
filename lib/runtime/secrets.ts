/**
 * Marketplace credentials (an Azure app's client secret, a Google service-account key) by name:
 * from the environment first (local development), else from one Secrets Manager secret holding
 * a JSON object of name → value, fetched on first use and cached for a few minutes so a rotated
 * value is picked up without a redeploy. Values never reach logs or error messages.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';

export const SECRET_CACHE_TTL_MS = 5 * 60_000;
export const SECRETS_REQUEST_TIMEOUT_MS = 3_000;
export const SECRETS_ATTEMPTS_MAX = 3;
/** Names in the secret document; a guard against a wrong secret being pointed at. */
export const SECRET_NAMES_MAX = 200;

export interface SecretSource {
  get(name: string): Promise<string | undefined>;
}

const SecretDocumentSchema = z
  .record(z.string().min(1).max(256), z.string())
  .refine((doc) => Object.keys(doc).length <= SECRET_NAMES_MAX, {
    message: `at most ${SECRET_NAMES_MAX} names`,
  });

export class SecretUnavailableError extends Error {
  readonly code = 'secret_unavailable';
}

export function environmentSecrets(env: Record<string, string | undefined>): SecretSource {
  return { get: async (name) => env[name] || undefined };
}

export interface SecretFetcher {
  /** The secret's string value, or undefined if it has none. */
  fetch(secretId: string): Promise<string | undefined>;
}

export function secretsManagerFetcher(region: string): SecretFetcher {
  const client = new SecretsManagerClient({
    region,
    maxAttempts: SECRETS_ATTEMPTS_MAX,
    requestHandler: { requestTimeout: SECRETS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
  return {
    fetch: async (secretId) =>
      (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString,
  };
}

/** The environment wins; otherwise the named member of the JSON secret document. */
export class CachedSecretSource implements SecretSource {
  private cached: { values: Record<string, string>; fetchedAt: number } | null = null;
  private inFlight: Promise<Record<string, string>> | null = null;

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly secretId: string | undefined,
    private readonly fetcher: SecretFetcher,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async get(name: string): Promise<string | undefined> {
    const fromEnv = this.env[name];
    if (fromEnv) return fromEnv;
    if (!this.secretId) return undefined;
    return (await this.document())[name];
  }

  private async document(): Promise<Record<string, string>> {
    if (this.cached && this.nowMs() - this.cached.fetchedAt < SECRET_CACHE_TTL_MS)
      return this.cached.values;
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async load(): Promise<Record<string, string>> {
    let text: string | undefined;
    try {
      text = await this.fetcher.fetch(this.secretId ?? '');
    } catch (error) {
      // A stale document beats none while Secrets Manager is briefly unavailable.
      if (this.cached) return this.cached.values;
      throw new SecretUnavailableError(
        `The credentials secret could not be read (${(error as { name?: string }).name ?? 'error'})`,
      );
    }
    let parsed: z.infer<typeof SecretDocumentSchema>;
    try {
      parsed = SecretDocumentSchema.parse(JSON.parse(text ?? '{}'));
    } catch {
      throw new SecretUnavailableError(
        'The credentials secret must be a JSON object of name → string value',
      );
    }
    this.cached = { values: parsed, fetchedAt: this.nowMs() };
    return parsed;
  }
}
