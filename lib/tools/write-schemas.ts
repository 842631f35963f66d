/**
 * `npm run schemas`: regenerate docs/schemas/*.json from the zod definitions. A unit test fails
 * when the committed copies drift from the code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CANONICAL_SCHEMAS,
  type CanonicalSchemaName,
  canonicalJsonSchema,
} from '../domain/schemas/json-schema';

const outDir = process.argv[2] ?? 'docs/schemas';
mkdirSync(outDir, { recursive: true });
for (const name of Object.keys(CANONICAL_SCHEMAS) as CanonicalSchemaName[]) {
  const file = join(outDir, `${name}.v1.json`);
  writeFileSync(file, `${JSON.stringify(canonicalJsonSchema(name), null, 2)}\n`);
  process.stderr.write(`wrote ${file}\n`);
}
