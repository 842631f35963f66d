/**
 * Cold-start benchmark (issue 16): every function the infrastructure deploys (the entries named
 * in infra/stateless-stack.ts and infra/constructs/contract-pipeline.ts) bundled as the CDK
 * bundles it (esbuild, minified, ESM, the AWS SDK bundled), then loaded in a fresh `node`
 * process: module initialisation = the time `await import(bundle)` takes, median of several
 * runs. Side by side, a bundle of only the SDK clients that function's bundle contains (each
 * client constructed, as a handler does), measured the same way.
 *
 *   node --import tsx test/bench/cold-start.ts [--runs 7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_MAIN_FIELDS, BUNDLE_TARGET, ESM_REQUIRE_BANNER } from '../../infra/bundling';
import { argument, type BenchResult, benchMain, fmt, median, ROOT, table } from './common';

export const COLD_START_BUDGET_MS = 120;
export const COLD_START_OVERHEAD_MAX = 0.25;

/** The entries the infrastructure deploys. */
export function deployedEntries(): string[] {
  const api = readdirSync(join(ROOT, 'functions/api'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `functions/api/${f}`);
  const pipeline = readFileSync(join(ROOT, 'infra/constructs/contract-pipeline.ts'), 'utf8');
  const named = [...pipeline.matchAll(/'(functions\/[\w/-]+\.ts)'/g)].map((m) => m[1] ?? '');
  return [...new Set([...api, ...named])].sort();
}

/** The SDK client classes a bundle contains, by package. */
function clientsOf(inputs: readonly string[]): string[] {
  const packages = new Set<string>();
  for (const input of inputs) {
    const match = /node_modules\/(@aws-sdk\/(?:client-[\w-]+|lib-dynamodb))\//.exec(input);
    if (match?.[1]) packages.add(match[1]);
  }
  return [...packages].sort();
}

function clientClassOf(pkg: string): string {
  if (pkg === '@aws-sdk/lib-dynamodb') return 'DynamoDBDocumentClient';
  const list = JSON.parse(
    execFileSync(
      process.execPath,
      ['-e', `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(pkg)}))))`],
      { cwd: ROOT, encoding: 'utf8' },
    ),
  ) as string[];
  const client = list.find(
    (n) => n.endsWith('Client') && !n.startsWith('_') && !n.includes('Exception'),
  );
  if (!client) throw new Error(`No client class in ${pkg}`);
  return client;
}

function sdkOnlySource(packages: readonly string[]): string {
  const lines: string[] = [];
  const made: string[] = [];
  packages.forEach((pkg, i) => {
    if (pkg === '@aws-sdk/lib-dynamodb') return;
    const name = clientClassOf(pkg);
    lines.push(`import { ${name} as C${i} } from '${pkg}';`);
    made.push(`new C${i}({ region: 'us-east-1' })`);
  });
  if (packages.includes('@aws-sdk/lib-dynamodb')) {
    lines.push(`import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`);
    if (!packages.includes('@aws-sdk/client-dynamodb')) {
      lines.push(`import { DynamoDBClient } from '@aws-sdk/client-dynamodb';`);
    }
    made.push(
      `DynamoDBDocumentClient.from(new ${packages.includes('@aws-sdk/client-dynamodb') ? `C${packages.indexOf('@aws-sdk/client-dynamodb')}` : 'DynamoDBClient'}({ region: 'us-east-1' }))`,
    );
  }
  lines.push(`export const clients = [${made.join(', ')}];`);
  return `${lines.join('\n')}\n`;
}

async function build(entry: string | { source: string }, outfile: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.source, resolveDir: ROOT, loader: 'ts' as const } }),
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    mainFields: BUNDLE_MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    metafile: true,
    logLevel: 'error',
    absWorkingDir: ROOT,
  });
  return Object.keys(result.metafile.inputs);
}

/** First line of why a bundle failed to load, by file. */
const failures = new Map<string, string>();

/** Module initialisation of a bundle in a fresh node process (ms); NaN when it throws. */
function initMs(file: string): number {
  try {
    return loadMs(file);
  } catch (error) {
    const out = String((error as { stdout?: string }).stdout ?? '');
    failures.set(
      file,
      out.startsWith('LOAD_FAILED ') ? out.slice(12) : String(error).slice(0, 200),
    );
    return Number.NaN;
  }
}

function loadMs(file: string): number {
  const script = `const t0 = performance.now(); try { await import(${JSON.stringify(`file://${file}`)}); } catch (e) { process.stdout.write('LOAD_FAILED ' + e.name + ': ' + e.message); process.exit(3); } process.stdout.write(String(performance.now() - t0)); process.exit(0);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // A minified bundle's failing line is printed whole with the error.
    maxBuffer: 256 * 1024 * 1024,
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AGORA_STAGE: 'aws' },
    cwd: tmpdir(),
  });
  return Number(out);
}

/** Fresh node process running an empty module: the floor under every figure. */
function emptyMs(dir: string): number {
  const file = join(dir, 'empty.mjs');
  writeFileSync(file, 'export {};\n');
  return initMs(file);
}

export async function benchColdStart(runs: number): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'agora-cold-'));
  try {
    const entries = deployedEntries();
    interface Row {
      entry: string;
      bytes: number;
      sdkBytes: number;
      clients: string[];
      ms: number;
      sdkMs: number;
    }
    const rows: Row[] = [];
    const sdkCache = new Map<string, { file: string; bytes: number; ms: number }>();
    for (const [index, entry] of entries.entries()) {
      const out = join(dir, `f${index}.mjs`);
      const inputs = await build(entry, out);
      const clients = clientsOf(inputs);
      const key = clients.join(',');
      let sdk = sdkCache.get(key);
      if (!sdk) {
        const file = join(dir, `sdk${sdkCache.size}.mjs`);
        await build({ source: sdkOnlySource(clients) }, file);
        sdk = { file, bytes: statSync(file).size, ms: 0 };
        sdkCache.set(key, sdk);
      }
      rows.push({
        entry,
        bytes: statSync(out).size,
        sdkBytes: sdk.bytes,
        clients,
        ms: 0,
        sdkMs: 0,
      });
    }
    // Interleaved runs (function, its SDK-only bundle, next function…): load drifts hit both.
    const times = new Map<string, number[]>();
    const push = (key: string, value: number) => times.set(key, [...(times.get(key) ?? []), value]);
    for (let run = 0; run < runs; run += 1) {
      push('empty', emptyMs(dir));
      for (const [index, row] of rows.entries()) {
        push(row.entry, initMs(join(dir, `f${index}.mjs`)));
        const sdk = sdkCache.get(row.clients.join(','));
        if (sdk) push(`sdk:${row.clients.join(',')}`, initMs(sdk.file));
      }
    }
    for (const row of rows) {
      const all = times.get(row.entry) ?? [];
      row.ms = all.some(Number.isNaN) ? Number.NaN : median(all);
      row.sdkMs = median(times.get(`sdk:${row.clients.join(',')}`) ?? []);
    }
    const empty = median(times.get('empty') ?? []);
    // The reference the issue names: the DynamoDB client alone (document client included).
    const dynamoFile = join(dir, 'dynamodb-only.mjs');
    await build(
      { source: sdkOnlySource(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']) },
      dynamoFile,
    );
    const dynamoMs = median(Array.from({ length: runs }, () => initMs(dynamoFile)));
    const dynamoBytes = statSync(dynamoFile).size;
    const broken = rows.filter((r) => Number.isNaN(r.ms));
    const loaded = rows.filter((r) => !Number.isNaN(r.ms));
    const over = loaded.filter((r) => r.ms > COLD_START_BUDGET_MS);
    const heavy = loaded.filter((r) => r.ms > r.sdkMs * (1 + COLD_START_OVERHEAD_MAX));
    const worst = loaded.reduce((a, b) => (b.ms > a.ms ? b : a));
    const worstOverhead = loaded.reduce((a, b) => (b.ms / b.sdkMs > a.ms / a.sdkMs ? b : a));
    const failed = broken.map(
      (r) =>
        `\`${r.entry}\` fails to load: ${failures.get(join(dir, `f${rows.indexOf(r)}.mjs`)) ?? '?'}`,
    );
    const short = (pkg: string) => pkg.replace('@aws-sdk/', '').replace('client-', '');
    const markdown = [
      `${rows.length} deployed functions, each bundled as the CDK bundles it (esbuild, minified, ESM, target ${BUNDLE_TARGET}, SDK bundled) and imported in a fresh \`node\` process; median of ${runs} interleaved runs. "SDK only" is a minified bundle of just the SDK clients found in that function's bundle, each constructed. An empty module takes ${fmt(empty, 1)} ms to import (process start-up is not counted in any figure).`,
      '',
      table(
        [
          'Function',
          'Bundle',
          'Init',
          'SDK-only bundle',
          'SDK-only init',
          'Ours adds',
          'SDK clients',
        ],
        rows.map((r) => [
          `\`${r.entry.replace('functions/', '')}\``,
          `${fmt(r.bytes / 1024)} KiB`,
          Number.isNaN(r.ms) ? '**fails**' : `${fmt(r.ms, 1)} ms`,
          `${fmt(r.sdkBytes / 1024)} KiB`,
          `${fmt(r.sdkMs, 1)} ms`,
          Number.isNaN(r.ms) ? '—' : `${fmt(((r.ms - r.sdkMs) / r.sdkMs) * 100)} %`,
          r.clients.map(short).join(', ') || '—',
        ]),
      ),
      '',
      `For reference: a minified bundle of the DynamoDB client alone (client + document client, ${fmt(dynamoBytes / 1024)} KiB) initialises in ${fmt(dynamoMs, 1)} ms here. Every function's bundle holds all ten SDK clients because every handler reaches the shared container (lib/runtime/container.ts), which imports every adapter; the "SDK only" column is therefore the same for all.`,
      ...(failed.length > 0 ? ['', ...failed.map((f) => `- ${f}`)] : []),
    ].join('\n');
    return {
      name: 'coldstart',
      title: 'Cold start: bundle size and module initialisation per function',
      markdown,
      targets: [
        {
          target: `Every function's module initialisation ≤ ${COLD_START_BUDGET_MS} ms`,
          measured: `worst ${fmt(worst.ms, 1)} ms (\`${worst.entry}\`); ${over.length} of ${rows.length} over${broken.length > 0 ? `; ${broken.length} fail to load` : ''}`,
          met: over.length === 0 && broken.length === 0,
          note:
            over.length === 0 && broken.length === 0
              ? undefined
              : 'Gap: every handler reaches `getContainer()` (lib/runtime/container.ts), which imports every adapter, so every bundle holds all ten SDK clients, the Azure and GCP clients, pdfkit and middy (~2.8 MB minified): init is the cost of that code, not of the function. Plan: a container per function family built from dynamic `import()`s of only the adapters it uses (the API group needs DynamoDB and the JWT verifier), so an API bundle is the DynamoDB client plus our code.',
        },
        {
          target: `Our code adds ≤ ${COLD_START_OVERHEAD_MAX * 100} % to the SDK-only time`,
          measured: `worst +${fmt(((worstOverhead.ms - worstOverhead.sdkMs) / worstOverhead.sdkMs) * 100)} % (\`${worstOverhead.entry}\`); ${heavy.length} of ${rows.length} over`,
          met: heavy.length === 0,
          note:
            heavy.length === 0
              ? undefined
              : 'Same cause: the SDK-only bundle holds only the clients; our bundle holds everything the shared container imports (see above).',
        },
      ],
      numbers: {
        dynamoOnlyMs: dynamoMs,
        ...Object.fromEntries(rows.map((r) => [r.entry, Math.round(r.ms * 10) / 10])),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

benchMain(import.meta.url, () => benchColdStart(Number(argument('--runs', '7'))));
