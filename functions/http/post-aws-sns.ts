/** POST /v1/webhooks/aws-sns — SNS over HTTPS; the signature is the authentication. */
import { awsSnsWebhookRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { confirmSubscriptionWithFetch, receiveSnsHttps } from '../../lib/marketplaces/aws/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(
  awsSnsWebhookRoute,
  getContainer,
  async ({ rawBody, headers }) => {
    const container = getContainer();
    const result = await receiveSnsHttps(
      {
        ...container,
        certHostPattern: new RegExp(container.config.AGORA_SNS_CERT_HOST_PATTERN),
        allowHttp: container.config.AGORA_SNS_ALLOW_HTTP,
        confirmSubscription: confirmSubscriptionWithFetch,
      },
      rawBody,
      headers,
    );
    return {
      body: {
        rawId: result.rawId,
        outcome: result.outcome,
        enqueued: result.enqueued,
        confirmed: result.confirmed,
      },
    };
  },
);
