#!/usr/bin/env node
// The `agora` command. Runs the TypeScript sources through tsx, so it works straight after
// `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv);
