/** Pull mode for GCP providers configured with a pull subscription (every minute). */
import {
  createSubscriber,
  pubsubAuthClient,
  pullGcpMessages,
} from '../../lib/marketplaces/gcp/pubsub-pull';
import { GCP_CREDENTIALS_NAME, getContainer } from '../../lib/runtime/container';
import { traceHandler } from '../../lib/runtime/tracing';

let subscriber: ReturnType<typeof createSubscriber> | undefined;

export const handler = traceHandler('pull-gcp', async () => {
  const container = getContainer();
  subscriber ??= createSubscriber(
    container.gcpSettings,
    await pubsubAuthClient(await container.secrets.get(GCP_CREDENTIALS_NAME)),
  );
  const results = [];
  for (const provider of container.gcpSettings.providers) {
    if (provider.pullSubscription)
      results.push(await pullGcpMessages(container, subscriber, provider.pullSubscription));
  }
  return results;
});
