/**
 * What every benchmark shares: the result shape run.ts writes into docs/benchmarks.md, the
 * child-process protocol (a benchmark file run as a script prints one `BENCH_RESULT {json}`
 * line), statistics, esbuild bundling for compile-free runs, and reading a V8 CPU profile's top
 * frames (to explain a missed target).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');
export const RESULT_PREFIX = 'BENCH_RESULT ';
/** The banner every ESM bundle of ours needs (some dependencies call require()). */
export const REQUIRE_BANNER =
  "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);";

export interface TargetResult {
  /** e.g. "Engine ≥ 50,000 events/s on one core". */
  readonly target: string;
  /** The measured value, as text. */
  readonly measured: string;
  readonly met: boolean;
  /** Why it was missed (profile, plan), or a note. */
  readonly note?: string | undefined;
}

export interface BenchResult {
  readonly name: string;
  readonly title: string;
  /** Markdown body of the section (tables, notes), without its heading. */
  readonly markdown: string;
  readonly targets: readonly TargetResult[];
  /** Numbers for the report (machine readable). */
  readonly numbers: Record<string, number | string>;
}

export function argument(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

/** Runs `main` when `moduleUrl` is the script node was started with; prints its result. */
export function benchMain(moduleUrl: string, main: () => Promise<BenchResult>): void {
  const self = fileURLToPath(moduleUrl);
  if (!process.argv[1] || resolve(process.argv[1]) !== self) return;
  main()
    .then((result) => {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
      // Servers, sockets and the JVM are stopped by each benchmark; nothing must keep us alive.
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** Bundles an entry with esbuild (ESM, node, not minified unless asked); returns the file. */
export async function bundle(
  entry: string,
  outDir: string,
  options: { minify?: boolean; name?: string } = {},
): Promise<string> {
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${options.name ?? entry.replace(/[^a-z0-9]+/gi, '-')}.mjs`);
  await build({
    entryPoints: [resolve(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    banner: { js: REQUIRE_BANNER },
    minify: options.minify ?? false,
    logLevel: 'error',
  });
  return outfile;
}

/** Self time per function of the newest .cpuprofile in `dir`: the top `count` frames. */
export function topFrames(dir: string, count = 12): { frame: string; ms: number; share: number }[] {
  const file = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  if (!file) return [];
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: {
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
    }[];
    samples: number[];
    timeDeltas: number[];
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    const frame = nodes.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url ? frame.url.split('/').at(-1) : '';
    const key = `${frame.functionName || '(anonymous)'}${where ? ` (${where})` : ''}`;
    self.set(key, (self.get(key) ?? 0) + delta);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, micros]) => ({ frame, ms: micros / 1000, share: micros / Math.max(1, total) }));
}

export function framesTable(frames: ReturnType<typeof topFrames>): string {
  return table(
    ['Self time', 'Share', 'Frame'],
    frames.map((f) => [`${fmt(f.ms)} ms`, `${(f.share * 100).toFixed(1)} %`, `\`${f.frame}\``]),
  );
}
