/**
 * How every Lambda is bundled (plain data, no CDK import): shared by the CDK construct and the
 * tests that build a real bundle and run it (test/integration/http/lambda-bundle.test.ts,
 * test/integration/bundles/pull-gcp-bundle.test.ts).
 */
export const BUNDLE_TARGET = 'node22';
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];
export const BUNDLE_MINIFY = true;
export const BUNDLE_SOURCE_MAP = true;
/**
 * The CommonJS globals an ESM bundle lacks, defined from the bundle's own URL: `require` (some
 * dependencies still call it), `__filename` and `__dirname` (google-gax, under
 * `@google-cloud/pubsub`, joins a path to `__dirname` when its module loads; without them the
 * pull-gcp bundle failed at start with "__dirname is not defined in ES module scope").
 *
 * `__filename` and `__dirname` are `var`s on purpose: esbuild emits every top-level declaration
 * of a bundled ESM module as `var`, so one that declares its own (`const __dirname =
 * dirname(fileURLToPath(import.meta.url))`, same value) re-declares the banner's instead of
 * being a SyntaxError, minified or not. The imports are aliased under `__agora` names no
 * bundled code uses.
 */
export const ESM_REQUIRE_BANNER = [
  "import { createRequire as __agoraCreateRequire } from 'node:module';",
  "import { dirname as __agoraDirname } from 'node:path';",
  "import { fileURLToPath as __agoraFileURLToPath } from 'node:url';",
  'const require = __agoraCreateRequire(import.meta.url);',
  'var __filename = __agoraFileURLToPath(import.meta.url);',
  'var __dirname = __agoraDirname(__filename);',
].join(' ');
