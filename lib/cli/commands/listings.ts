/**
 * `agora listings list|show|update`: product listings through the running stack's API (AWS
 * change sets, Azure product ingestion; Google Cloud listings are read-only).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, type CliIo, EXIT_USAGE, emit } from '../output';
import { stackApi } from '../stack-api';

interface ListingLike {
  marketplace: string;
  productId: string;
  title: string | null;
  status: string | null;
  writable: boolean;
  dimensions: { key: string; type?: string; name?: string }[];
  checks?: { check: string; ok: boolean; detail: string }[];
}

function describe(l: ListingLike): string {
  return [
    `${l.marketplace}/${l.productId}  ${l.title ?? '(untitled)'}  ${l.status ?? ''}${l.writable ? '' : '  (read-only)'}`,
    ...l.dimensions.map(
      (d) => `  ${d.key}${d.type ? ` (${d.type})` : ''}${d.name ? `: ${d.name}` : ''}`,
    ),
    ...(l.checks ?? []).map((c) => `  ${c.ok ? 'ok' : 'FAILED'} ${c.check}: ${c.detail}`),
  ].join('\n');
}

export function registerListingCommands(program: Command, io: () => CliIo): void {
  const listings = program
    .command('listings')
    .description('Product listings on the running stack: read, and change where allowed');

  listings
    .command('list')
    .option('--marketplace <marketplace>', 'aws | azure | gcp')
    .description('Every configured product listing, read from its marketplace')
    .action(async (options: { marketplace?: string }) => {
      const out = io();
      const query = options.marketplace
        ? `?marketplace=${encodeURIComponent(options.marketplace)}`
        : '';
      const result = await stackApi('GET', `/v1/listings${query}`, undefined, 'seller');
      const items = (result.body.items ?? []) as ListingLike[];
      emit(out, result.body, items.length === 0 ? 'no listings' : items.map(describe).join('\n'));
    });

  listings
    .command('show')
    .argument('<marketplace>', 'aws | azure | gcp')
    .argument('<productId>')
    .description('One listing')
    .action(async (marketplace: string, productId: string) => {
      const out = io();
      const result = await stackApi(
        'GET',
        `/v1/listings/${encodeURIComponent(marketplace)}/${encodeURIComponent(productId)}`,
        undefined,
        'seller',
      );
      emit(out, result.body, describe(result.body as unknown as ListingLike));
    });

  listings
    .command('update')
    .argument('<marketplace>', 'aws | azure (gcp listings are read-only)')
    .argument('<productId>')
    .argument(
      '<file>',
      'JSON: {title?, shortDescription?, longDescription?, highlights?, keywords?, dimensions?}',
    )
    .description('Change a listing: starts the marketplace change and prints its id')
    .action(async (marketplace: string, productId: string, file: string) => {
      let update: unknown;
      try {
        update = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new CliError(EXIT_USAGE, 'invalid_file', `${file}: ${(error as Error).message}`);
      }
      const out = io();
      const result = await stackApi(
        'PATCH',
        `/v1/listings/${encodeURIComponent(marketplace)}/${encodeURIComponent(productId)}`,
        update,
        'seller',
        { 'idempotency-key': randomUUID() },
      );
      const change = result.body.change as { changeId: string };
      emit(out, result.body, `change ${change.changeId} started for ${marketplace}/${productId}`);
    });
}
