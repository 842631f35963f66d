/**
 * `npm run bench [-- --only engine,reconcile]`: measurements, not tests. Runs each benchmark in a
 * child process of its own — CPU-bound ones as an esbuild bundle under plain `node` (the tsx
 * loader's memory and start-up do not count), the ones that start the local stack under tsx —
 * and writes every result into docs/benchmarks.md with the machine, date, Node version and
 * command. With `--only`, the sections of the other benchmarks are kept from the previous run
 * (each section carries its targets and the date it was measured).
 *
 * Benchmarks: reconcile, engine, coldstart, api, e2e, storage, statements, metering.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  argument,
  type BenchResult,
  bundle,
  RESULT_PREFIX,
  ROOT,
  type TargetResult,
  table,
} from './common';

interface BenchSpec {
  readonly name: string;
  readonly file: string;
  /** Bundle with esbuild and run with plain node (CPU-bound benchmarks). */
  readonly bundled: boolean;
  readonly args: readonly string[];
}

export const BENCHMARKS: readonly BenchSpec[] = [
  {
    name: 'reconcile',
    file: 'test/bench/reconcile-bench.ts',
    bundled: true,
    args: ['--rows', '1000000', '--repeat', '3'],
  },
  { name: 'engine', file: 'test/bench/engine.ts', bundled: true, args: ['--contracts', '2000'] },
  { name: 'coldstart', file: 'test/bench/cold-start.ts', bundled: false, args: ['--runs', '7'] },
  { name: 'api', file: 'test/bench/api.ts', bundled: false, args: [] },
  { name: 'e2e', file: 'test/bench/end-to-end.ts', bundled: false, args: ['--contracts', '100'] },
  { name: 'storage', file: 'test/bench/storage.ts', bundled: false, args: [] },
  {
    name: 'statements',
    file: 'test/bench/statements.ts',
    bundled: false,
    args: ['--statements', '1000'],
  },
  { name: 'metering', file: 'test/bench/metering.ts', bundled: false, args: [] },
];

const DOC = join(ROOT, 'docs/benchmarks.md');
const SECTION = /<!-- bench:(\w+) (.*?) -->\n([\s\S]*?)<!-- \/bench:\1 -->/g;

interface Section {
  readonly name: string;
  readonly meta: { title: string; measuredAt: string; targets: readonly TargetResult[] };
  readonly body: string;
}

function runChild(spec: BenchSpec, file: string): Promise<BenchResult> {
  const args = [...(spec.bundled ? [] : ['--import', 'tsx']), file, ...spec.args];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      out += text;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) {
        fail(new Error(`benchmark ${spec.name} exited with ${code}`));
        return;
      }
      done(JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult);
    });
  });
}

function readSections(): Map<string, Section> {
  const sections = new Map<string, Section>();
  if (!existsSync(DOC)) return sections;
  for (const match of readFileSync(DOC, 'utf8').matchAll(SECTION)) {
    try {
      sections.set(match[1] ?? '', {
        name: match[1] ?? '',
        meta: JSON.parse(match[2] ?? '{}') as Section['meta'],
        body: match[3] ?? '',
      });
    } catch {
      // A section that cannot be read is measured again next time.
    }
  }
  return sections;
}

function sectionOf(result: BenchResult, measuredAt: string): Section {
  const meta = { title: result.title, measuredAt, targets: result.targets };
  const targetLines = result.targets.map(
    (t) =>
      `- **${t.met ? 'Met' : 'Missed'}**: ${t.target}: ${t.measured}.${t.note ? ` ${t.note}` : ''}`,
  );
  const body = [
    `## ${result.title}`,
    '',
    `_Measured ${measuredAt}._`,
    '',
    result.markdown,
    '',
    ...(targetLines.length > 0 ? [...targetLines, ''] : []),
  ].join('\n');
  return { name: result.name, meta, body };
}

function writeDoc(sections: Map<string, Section>, command: string): string {
  const cpu = cpus();
  const ordered = BENCHMARKS.map((b) => sections.get(b.name)).filter(
    (s): s is Section => s !== undefined,
  );
  const rows = ordered.flatMap((s) =>
    s.meta.targets.map((t) => [t.target, t.measured, t.met ? 'met' : '**missed**', s.name]),
  );
  const lines = [
    '# Benchmarks',
    '',
    `Last run ${new Date().toISOString().slice(0, 10)} on ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} vCPU, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux, Node ${process.version}; command: \`${command}\` (load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}).`,
    '',
    'This is a loaded 2-vCPU VM shared with other work (test suites, other builds; load average',
    '4–9 during these runs): absolute numbers are a floor and have varied by 2× between runs of',
    'the same benchmark; ratios measured side by side (a reconciliation against a bare parse, a',
    'bundle against an SDK-only bundle) are steadier, and each section states when it ran.',
    'CPU-bound benchmarks run as esbuild bundles under plain `node`; the ones on the local stack',
    'run under tsx against DynamoDB Local (a JVM), so they are local numbers, not AWS ones.',
    'Each section says when it was measured; `npm run bench -- --only <name,…>` re-measures some.',
    '',
    '## Targets',
    '',
    table(['Target', 'Measured', 'Status', 'Section'], rows),
    '',
    ...ordered.map(
      (s) =>
        `<!-- bench:${s.name} ${JSON.stringify(s.meta)} -->\n${s.body.trimEnd()}\n\n<!-- /bench:${s.name} -->\n`,
    ),
  ];
  const text = lines.join('\n');
  writeFileSync(DOC, text);
  return text;
}

async function main(): Promise<void> {
  const only = argument('--only')?.split(',').filter(Boolean);
  const unknown = only?.filter((name) => !BENCHMARKS.some((b) => b.name === name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `Unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
    );
  }
  const selected = BENCHMARKS.filter((b) => !only || only.includes(b.name));
  const sections = readSections();
  const dir = mkdtempSync(join(tmpdir(), 'agora-bench-'));
  const failures: string[] = [];
  try {
    for (const [index, spec] of selected.entries()) {
      const started = performance.now();
      process.stderr.write(`[bench ${index + 1}/${selected.length}] ${spec.name}: running…\n`);
      try {
        const file = spec.bundled
          ? await bundle(spec.file, dir, { name: spec.name })
          : join(ROOT, spec.file);
        const result = await runChild(spec, file);
        const section = sectionOf(result, new Date().toISOString().slice(0, 16).replace('T', ' '));
        sections.set(spec.name, section);
        const status = result.targets.map((t) => (t.met ? 'met' : 'MISSED')).join(', ');
        process.stderr.write(
          `[bench ${index + 1}/${selected.length}] ${spec.name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s (${status || 'no target'})\n`,
        );
        // Written after every benchmark: a later failure keeps what was measured.
        writeDoc(sections, `npm run bench${only ? ` -- --only ${only.join(',')}` : ''}`);
      } catch (error) {
        failures.push(spec.name);
        process.stderr.write(
          `[bench ${index + 1}/${selected.length}] ${spec.name}: FAILED: ${(error as Error).message}\n`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${readFileSync(DOC, 'utf8')}\n`);
  if (failures.length > 0) {
    process.stderr.write(`failed: ${failures.join(', ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
