/** GET /health — public; 200 only when the DynamoDB table answers. */
import { checkHealth } from '../../lib/app/health';
import { healthRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(healthRoute, getContainer, async () => {
  const { config, store, clock, logger } = getContainer();
  const health = await checkHealth({
    probe: () => store.describe(),
    table: config.AGORA_TABLE_NAME,
    store: config.AGORA_STAGE === 'local' ? 'dynamodb-local' : 'dynamodb',
    version: config.AGORA_VERSION,
    clock,
    onFailure: (error) => logger.error('health probe failed', { error: error as Error }),
  });
  return { status: health.status === 'ok' ? 200 : 503, body: health };
});
