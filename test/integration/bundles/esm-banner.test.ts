// Proves infra/bundling.ts's ESM banner gives bundled CommonJS code `require`, `__filename` and `__dirname` of the bundle itself, and does not clash with an ES module that declares its own `__filename`/`__dirname`, minified or not, whether or not anything else in the bundle uses them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_MAIN_FIELDS, BUNDLE_TARGET, ESM_REQUIRE_BANNER } from '../../../infra/bundling';

const run = promisify(execFile);
const dirs: string[] = [];

/** CommonJS code that reads the globals, as google-gax does when it loads. */
const CJS_SOURCE = `const path = require('node:path');
module.exports = { dir: __dirname, file: __filename, joined: path.join(__dirname, 'protos'), required: typeof require('node:os').tmpdir };`;
/** An ES module with its own (top-level) `__filename`/`__dirname`, as some packages have. */
const ESM_SOURCE = `import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
const __filename = fileURLToPath(import.meta.url);
const __dirname = dirname(__filename);
export const own = { dir: __dirname, file: __filename };`;

async function bundleAndRun(options: { minify: boolean; withCjs: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'agora-banner-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'cjs.cjs'), CJS_SOURCE);
  writeFileSync(join(dir, 'esm.mjs'), ESM_SOURCE);
  writeFileSync(
    join(dir, 'entry.mjs'),
    options.withCjs
      ? `import { own } from './esm.mjs'; import cjs from './cjs.cjs'; console.log(JSON.stringify({ own, cjs }));`
      : `import { own } from './esm.mjs'; console.log(JSON.stringify({ own }));`,
  );
  const outDir = join(dir, 'out');
  const outfile = join(outDir, 'index.mjs');
  await build({
    entryPoints: [join(dir, 'entry.mjs')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    mainFields: BUNDLE_MAIN_FIELDS,
    minify: options.minify,
    banner: { js: ESM_REQUIRE_BANNER },
    outfile,
    logLevel: 'silent',
  });
  const { stdout } = await run(process.execPath, [outfile], { cwd: dir });
  return { outDir, outfile, result: JSON.parse(stdout) as Record<string, Record<string, string>> };
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('ESM bundle banner', () => {
  for (const minify of [true, false]) {
    it(`CommonJS code sees the bundle's own require, __filename and __dirname (minify: ${minify})`, async () => {
      const { outDir, outfile, result } = await bundleAndRun({ minify, withCjs: true });
      expect(result.cjs).toEqual({
        dir: outDir,
        file: outfile,
        joined: join(outDir, 'protos'),
        required: 'function',
      });
      expect(result.own).toEqual({ dir: outDir, file: outfile });
    });

    it(`an ES module declaring its own __dirname still loads (minify: ${minify})`, async () => {
      const { outDir, outfile, result } = await bundleAndRun({ minify, withCjs: false });
      expect(result.own).toEqual({ dir: outDir, file: outfile });
    });
  }
});
