/**
 * Calls the running stack's API as a local user would (a development token for the role),
 * for the commands whose state lives with the stack's marketplace simulators (offers, listings).
 * API errors become CLI errors with the API's code, message and every detail.
 */
import type { Role } from '../http/auth';
import { ensureDevKeys, mintDevToken } from '../local/dev-keys';
import { loadLocalSettings } from '../local/settings';
import { CliError, EXIT_ENVIRONMENT, EXIT_USAGE } from './output';
import { findRunningStack } from './stack-client';

/** The longest an API call from the CLI may take. */
export const STACK_API_TIMEOUT_MS = 30_000;

export async function stackApi(
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  body: unknown,
  role: Role,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const settings = loadLocalSettings();
  const stack = await findRunningStack(settings);
  if (!stack) {
    throw new CliError(
      EXIT_ENVIRONMENT,
      'stack_not_running',
      `No running stack for ${settings.dataDir}: start it with \`npm start\` (in another terminal), then run this again`,
    );
  }
  const { token } = await mintDevToken(await ensureDevKeys(settings.dataDir), {
    roles: [role],
    subject: `cli-${role}`,
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  const response = await fetch(`http://127.0.0.1:${stack.port}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(STACK_API_TIMEOUT_MS),
  });
  const parsed = (await response.json()) as Record<string, unknown>;
  if (response.status >= 400) {
    const error = parsed.error as
      | { code: string; message: string; details?: { path: string; message: string }[] }
      | undefined;
    const details = (error?.details ?? []).map((d) => `\n  ${d.path}: ${d.message}`).join('');
    throw new CliError(
      response.status >= 500 ? EXIT_ENVIRONMENT : EXIT_USAGE,
      error?.code ?? `http_${response.status}`,
      `${error?.message ?? `HTTP ${response.status}`}${details}`,
    );
  }
  return { status: response.status, body: parsed };
}
