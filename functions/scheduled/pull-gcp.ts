/** Pull mode for GCP providers configured with a pull subscription (every minute). */
import {
  createSubscriber,
  pubsubAuthClient,
  pullGcpMessages,
} from '../../lib/marketplaces/gcp/pubsub-pull';
import { getContainer } from '../../lib/runtime/container';

let subscriber: ReturnType<typeof createSubscriber> | undefined;

export const handler = async () => {
  const container = getContainer();
  subscriber ??= createSubscriber(
    container.gcpSettings,
    await pubsubAuthClient(container.config.AGORA_GCP_CREDENTIALS_JSON),
  );
  const results = [];
  for (const provider of container.gcpSettings.providers) {
    if (provider.pullSubscription)
      results.push(await pullGcpMessages(container, subscriber, provider.pullSubscription));
  }
  return results;
};
