/**
 * Writes functions/api/<group>.ts, the Lambda entry of each API area (lib/http/route-groups.ts):
 * one import per route handler and the dispatch table. Run `npm run api-entries` after adding a
 * route; test/unit/http/route-groups.test.ts fails until the entries match the routes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTE_GROUPS, routesOfGroup } from '../http/route-groups';

const folder = process.argv[2] ?? 'functions/api';
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

for (const group of ROUTE_GROUPS) {
  const routes = routesOfGroup(group);
  const lines = [
    `/** The ${group} area's Lambda function: ${routes.length} routes, dispatched by route key (lib/http/route-groups.ts). */`,
    `import { dispatchGroup } from '../../lib/http/dispatch';`,
    ...routes.map((r) => `import { handler as ${camel(r.name)} } from '../http/${r.name}';`),
    '',
    `export const handler = dispatchGroup('${group}', {`,
    ...routes.map((r) => `  '${r.name}': ${camel(r.name)},`),
    '});',
    '',
  ];
  writeFileSync(join(folder, `${group}.ts`), lines.join('\n'));
  process.stdout.write(`wrote ${join(folder, `${group}.ts`)} (${routes.length} routes)\n`);
}
