/**
 * `agora offers create|list|show|approve|reject|publish`: the deal desk's commands. They call
 * the running stack's API (offers live with its marketplace simulators), so what the CLI does
 * is exactly what an integration would do over HTTP, Idempotency-Key included.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { stackApi as api } from '../stack-api';

interface OfferLike {
  offerId: string;
  status: string;
  effectiveStatus?: string;
  marketplace: string;
  document: { name?: string; productId?: string; expiresOn?: string };
  guardrails?: { decision: string; reasons: { message: string }[] } | null;
  approval?: { decision: string; by: string; reason: string | null } | null;
  publication?: {
    entityId: string | null;
    changeSetId: string | null;
    failure: { code: string; description: string } | null;
  } | null;
  acceptances?: { contractId: string; buyerAccountId: string; status: string }[];
}

function describe(offer: OfferLike): string {
  const lines = [
    `${offer.offerId}  ${offer.effectiveStatus ?? offer.status}  ${offer.marketplace}  ${offer.document.productId ?? '—'}  ${offer.document.name ?? '(untitled)'}`,
  ];
  if (offer.status === 'pending-approval' && offer.guardrails)
    lines.push(...offer.guardrails.reasons.map((r) => `  needs approval: ${r.message}`));
  if (offer.approval)
    lines.push(
      `  ${offer.approval.decision} by ${offer.approval.by}${offer.approval.reason ? `: ${offer.approval.reason}` : ''}`,
    );
  if (offer.publication?.changeSetId)
    lines.push(
      `  change set ${offer.publication.changeSetId}${offer.publication.entityId ? ` → ${offer.publication.entityId}` : ''}`,
    );
  if (offer.publication?.failure)
    lines.push(
      `  failed: ${offer.publication.failure.code} ${offer.publication.failure.description}`,
    );
  for (const a of offer.acceptances ?? [])
    lines.push(`  accepted by ${a.buyerAccountId}: ${a.contractId} (${a.status})`);
  return lines.join('\n');
}

export function registerOfferCommands(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  const offers = program
    .command('offers')
    .description('Private offers on the running stack: create, approve, publish, follow');

  offers
    .command('create')
    .description('Create an offer from an OfferDocument JSON file (GET /v1/offer-schema)')
    .argument('<file>', 'offer document (JSON)')
    .option('--draft', 'save without the marketplace rules, to finish later')
    .option('--idempotency-key <key>', 'retry-safe key (default: a new one)')
    .action(async (file: string, options: { draft?: boolean; idempotencyKey?: string }) => {
      let document: unknown;
      try {
        document = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new CliError(EXIT_USAGE, 'invalid_file', `${file}: ${(error as Error).message}`);
      }
      const out = io();
      const result = await api(
        'POST',
        '/v1/offers',
        { ...(document as object), ...(options.draft ? { draft: true } : {}) },
        'seller',
        { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      );
      const offer = result.body as unknown as OfferLike;
      if (offer.status === 'failed') setExitCode(EXIT_PROBLEMS);
      emit(out, offer, describe(offer));
    });

  offers
    .command('list')
    .description('Offers, newest first')
    .option(
      '--status <status>',
      'draft | pending-approval | approved | submitted | published | failed | …',
    )
    .option('--marketplace <marketplace>', 'aws | azure | gcp')
    .option('--limit <n>', 'page size', '50')
    .action(async (options: { status?: string; marketplace?: string; limit: string }) => {
      const out = io();
      const query = new URLSearchParams({ limit: options.limit });
      if (options.status) query.set('status', options.status);
      if (options.marketplace) query.set('marketplace', options.marketplace);
      const result = await api('GET', `/v1/offers?${query}`, undefined, 'seller');
      const items = (result.body.items ?? []) as OfferLike[];
      emit(out, result.body, items.length === 0 ? 'no offers' : items.map(describe).join('\n'));
    });

  offers
    .command('show')
    .description('One offer: guardrails, approval, publication, acceptances')
    .argument('<offerId>')
    .action(async (offerId: string) => {
      const out = io();
      const result = await api(
        'GET',
        `/v1/offers/${encodeURIComponent(offerId)}`,
        undefined,
        'seller',
      );
      emit(out, result.body, describe(result.body as unknown as OfferLike));
    });

  for (const decision of ['approve', 'reject'] as const) {
    offers
      .command(decision)
      .description(
        `${decision === 'approve' ? 'Approve (and publish)' : 'Reject'} an offer the guardrails held (as admin)`,
      )
      .argument('<offerId>')
      .option('--reason <text>', 'kept in the offer history')
      .action(async (offerId: string, options: { reason?: string }) => {
        const out = io();
        const result = await api(
          'POST',
          `/v1/offers/${encodeURIComponent(offerId)}/${decision}`,
          { reason: options.reason ?? null },
          'admin',
        );
        emit(out, result.body, describe(result.body as unknown as OfferLike));
      });
  }

  offers
    .command('publish')
    .description('Submit a draft: the marketplace rules in full, the guardrails, then publishing')
    .argument('<offerId>')
    .action(async (offerId: string) => {
      const out = io();
      const result = await api(
        'POST',
        `/v1/offers/${encodeURIComponent(offerId)}/submit`,
        {},
        'seller',
      );
      const offer = result.body as unknown as OfferLike;
      if (offer.status === 'failed') setExitCode(EXIT_PROBLEMS);
      emit(out, offer, describe(offer));
    });
}
