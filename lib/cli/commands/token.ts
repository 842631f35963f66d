/** `agora token`: mints a development JWT signed with the local key pair of AGORA_DATA_DIR. */
import type { Command } from 'commander';
import { ROLES, type Role, RoleSchema } from '../../http/auth';
import { DEV_TOKEN_TTL_SECONDS_MAX, ensureDevKeys, mintDevToken } from '../../local/dev-keys';
import { loadLocalSettings } from '../../local/settings';
import { CliError, type CliIo, EXIT_USAGE, emit } from '../output';

const TTL_PATTERN = /^(\d{1,7})([smhd])$/;
const TTL_UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function parseTtl(text: string): number {
  const match = TTL_PATTERN.exec(text);
  if (!match?.[1] || !match[2]) {
    throw new CliError(
      EXIT_USAGE,
      'invalid_ttl',
      `--ttl must look like 30m, 12h or 7d (got "${text}")`,
    );
  }
  const seconds = Number(match[1]) * (TTL_UNIT_SECONDS[match[2]] ?? 1);
  if (seconds < 1 || seconds > DEV_TOKEN_TTL_SECONDS_MAX) {
    throw new CliError(
      EXIT_USAGE,
      'invalid_ttl',
      `--ttl must be between 1s and ${DEV_TOKEN_TTL_SECONDS_MAX / 86_400}d`,
    );
  }
  return seconds;
}

export function registerTokenCommand(program: Command, io: () => CliIo): void {
  program
    .command('token')
    .description(
      'Mint a development JWT for the local stack (signed with the key in AGORA_DATA_DIR)',
    )
    .requiredOption('-r, --role <role...>', `one or more roles: ${ROLES.join(', ')}`)
    .option('-p, --partner <id>', 'partner id (required with --role partner)')
    .option('-s, --subject <sub>', 'subject claim (default: dev-<roles>)')
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 12h, 7d', '12h')
    .action(
      async (options: { role: string[]; partner?: string; subject?: string; ttl: string }) => {
        const roles: Role[] = [];
        for (const role of options.role) {
          const parsed = RoleSchema.safeParse(role);
          if (!parsed.success) {
            throw new CliError(
              EXIT_USAGE,
              'invalid_role',
              `Unknown role "${role}"; use one of: ${ROLES.join(', ')}`,
            );
          }
          roles.push(parsed.data);
        }
        if (roles.includes('partner') && !options.partner) {
          throw new CliError(
            EXIT_USAGE,
            'partner_required',
            'A partner token needs --partner <id>',
          );
        }
        const settings = loadLocalSettings();
        const keys = await ensureDevKeys(settings.dataDir);
        const minted = await mintDevToken(keys, {
          roles,
          partnerId: options.partner,
          subject: options.subject,
          ttlSeconds: parseTtl(options.ttl),
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        const out = io();
        if (!out.json)
          out.stderr(
            `token for ${minted.claims.sub} (${roles.join(', ')}), expires ${minted.expiresAt}`,
          );
        emit(out, minted, minted.token);
      },
    );
}
