/**
 * How every Lambda is bundled (plain data, no CDK import): shared by the CDK construct and the
 * test that builds a real bundle and runs it against DynamoDB Local.
 */
export const BUNDLE_TARGET = 'node22';
/** Some dependencies still call require(); ESM bundles get one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __agoraCreateRequire } from 'node:module'; const require = __agoraCreateRequire(import.meta.url);";
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];
