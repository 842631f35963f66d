// Proves the dependency rules of ARCHITECTURE.md: functions → app → domain, adapters implement
// ports, the pure core does no I/O, only lib/store touches DynamoDB, and nothing reads ../shared.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['functions', 'lib', 'infra', 'test', 'bin'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) {
        if (name !== 'node_modules' && name !== 'cdk.out') walk(full);
      } else if (/\.(ts|mts|mjs|js)$/.test(name)) out.push(full);
    }
  };
  walk(join(ROOT, dir));
  return out;
}

const IMPORT_PATTERN =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

interface ImportEdge {
  readonly file: string;
  readonly specifier: string;
  /** Project-relative target for relative imports. */
  readonly target: string | null;
}

function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8');
  const edges: ImportEdge[] = [];
  for (const match of text.matchAll(IMPORT_PATTERN)) {
    const specifier = match[1] ?? match[2] ?? match[3] ?? '';
    const target = specifier.startsWith('.')
      ? relative(ROOT, resolve(dirname(file), specifier))
      : null;
    edges.push({ file: relative(ROOT, file), specifier, target });
  }
  return edges;
}

const allEdges = SOURCE_DIRS.flatMap((dir) => {
  try {
    return sourceFiles(dir).flatMap(importsOf);
  } catch {
    return [];
  }
});

function violations(fromPrefix: string, forbidden: (edge: ImportEdge) => boolean): string[] {
  return allEdges
    .filter((edge) => edge.file.startsWith(fromPrefix) && forbidden(edge))
    .map((edge) => `${edge.file} imports ${edge.specifier}`);
}

describe('architecture', () => {
  it('lib/domain is pure: only zod, node:crypto and itself', () => {
    expect(
      violations('lib/domain/', (e) =>
        e.target !== null
          ? !e.target.startsWith('lib/domain')
          : !['zod', 'node:crypto'].includes(e.specifier),
      ),
    ).toEqual([]);
  });

  it('lib/app depends only on the domain and its own ports', () => {
    expect(
      violations('lib/app/', (e) =>
        e.target !== null
          ? !(e.target.startsWith('lib/domain') || e.target.startsWith('lib/app'))
          : !['zod', 'node:crypto'].includes(e.specifier),
      ),
    ).toEqual([]);
  });

  it('only lib/store imports the DynamoDB SDK', () => {
    expect(
      violations('', (e) =>
        /^@aws-sdk\/(client-dynamodb|lib-dynamodb|util-dynamodb)/.test(e.specifier),
      ).filter((v) => !v.startsWith('lib/store/') && !v.startsWith('test/')),
    ).toEqual([]);
  });

  it('Lambda entry points never pull in the local runtime or the CLI', () => {
    expect(
      violations(
        'functions/',
        (e) =>
          e.target !== null && (e.target.startsWith('lib/local') || e.target.startsWith('lib/cli')),
      ),
    ).toEqual([]);
  });

  it('nothing in the project reads ../shared (a user clone has none)', () => {
    const offenders = SOURCE_DIRS.flatMap((dir) => {
      try {
        return sourceFiles(dir);
      } catch {
        return [];
      }
    }).filter(
      (file) =>
        !file.endsWith('architecture.test.ts') &&
        /\.\.\/shared\b|work\/shared/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
