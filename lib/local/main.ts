/** Entry point of `npm start` (node --import tsx lib/local/main.ts). */
import { runLocalStack, startFailure } from './start';

runLocalStack().catch((error: unknown) => {
  const failure = startFailure(error);
  process.stderr.write(`agora: ${failure.message}\n`);
  process.exit(failure.exitCode);
});
