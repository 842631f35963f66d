// Proves marketplace credentials resolve environment-first, then from one cached Secrets Manager
// document (refreshed after its TTL, stale-but-served when the service blips), never leak values
// in errors, and that Google calls outside the local stage refuse to run without a key.
import { describe, expect, it } from 'vitest';
import { PermanentSyncError } from '../../../lib/app/errors';
import { gcpTokenProvider } from '../../../lib/runtime/container';
import {
  CachedSecretSource,
  environmentSecrets,
  SECRET_CACHE_TTL_MS,
  type SecretFetcher,
  SecretUnavailableError,
} from '../../../lib/runtime/secrets';

function fetcher(answers: (() => string | undefined)[]): SecretFetcher & { calls: number } {
  const state = {
    calls: 0,
    async fetch() {
      const answer = answers[Math.min(state.calls, answers.length - 1)];
      state.calls += 1;
      if (!answer) throw new Error('no answer');
      return answer();
    },
  };
  return state;
}

describe('CachedSecretSource', () => {
  it('prefers the environment and never fetches for a name it holds', async () => {
    const f = fetcher([() => '{"A":"from-secret"}']);
    const source = new CachedSecretSource({ A: 'from-env' }, 'arn:secret', f);
    expect(await source.get('A')).toBe('from-env');
    expect(f.calls).toBe(0);
  });

  it('reads the document once, serves names from it, and refreshes after the TTL', async () => {
    let now = 1_000;
    const f = fetcher([() => '{"A":"one","B":"two"}', () => '{"A":"rotated"}']);
    const source = new CachedSecretSource({}, 'arn:secret', f, () => now);
    const [a, b] = await Promise.all([source.get('A'), source.get('B')]);
    expect([a, b]).toEqual(['one', 'two']);
    expect(await source.get('missing')).toBeUndefined();
    expect(f.calls).toBe(1);
    now += SECRET_CACHE_TTL_MS;
    expect(await source.get('A')).toBe('rotated');
    expect(f.calls).toBe(2);
  });

  it('serves the last document while Secrets Manager fails, and fails clearly without one', async () => {
    let now = 0;
    const f = fetcher([
      () => '{"A":"kept"}',
      () => {
        throw Object.assign(new Error('boom s3cr3t'), { name: 'ThrottlingException' });
      },
    ]);
    const source = new CachedSecretSource({}, 'arn:secret', f, () => now);
    expect(await source.get('A')).toBe('kept');
    now += SECRET_CACHE_TTL_MS + 1;
    expect(await source.get('A')).toBe('kept');

    const failing = new CachedSecretSource(
      {},
      'arn:secret',
      fetcher([
        () => {
          throw Object.assign(new Error('boom s3cr3t'), { name: 'AccessDeniedException' });
        },
      ]),
    );
    const error = await failing.get('A').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect(String((error as Error).message)).toMatch(/AccessDeniedException/);
    expect(String((error as Error).message)).not.toMatch(/s3cr3t/);
  });

  it('rejects a document that is not an object of strings, without echoing it', async () => {
    for (const text of ['not json hunter2', '["hunter2"]', '{"A":42}']) {
      const source = new CachedSecretSource({}, 'arn:secret', fetcher([() => text]));
      const error = await source.get('A').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretUnavailableError);
      expect((error as Error).message).not.toMatch(/hunter2|42/);
    }
  });

  it('answers undefined without a secret id, and the plain environment source ignores empty values', async () => {
    const f = fetcher([() => '{}']);
    expect(await new CachedSecretSource({}, undefined, f).get('A')).toBeUndefined();
    expect(f.calls).toBe(0);
    expect(await environmentSecrets({ A: '' }).get('A')).toBeUndefined();
    expect(await environmentSecrets({ A: 'x' }).get('A')).toBe('x');
  });
});

describe('gcpTokenProvider', () => {
  it('uses the simulator token only on the local stage', async () => {
    expect(await gcpTokenProvider(environmentSecrets({}), 'local')()).toBe('local-simulator-token');
    const error = await gcpTokenProvider(environmentSecrets({}), 'aws')().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentSyncError);
    expect((error as PermanentSyncError).code).toBe('gcp_credentials_missing');
  });

  it('refuses a key that is not JSON, naming the variable but not the value', async () => {
    const secrets = environmentSecrets({ AGORA_GCP_CREDENTIALS_JSON: 'hunter2' });
    const error = await gcpTokenProvider(secrets, 'aws')().catch((e: unknown) => e);
    expect((error as PermanentSyncError).code).toBe('gcp_credentials_invalid');
    expect((error as Error).message).toMatch(/AGORA_GCP_CREDENTIALS_JSON/);
    expect((error as Error).message).not.toMatch(/hunter2/);
  });
});
