/** The platform area's Lambda function: 10 routes, dispatched by route key (lib/http/route-groups.ts). */
import { dispatchGroup } from '../../lib/http/dispatch';
import { handler as createWebhookEndpoint } from '../http/create-webhook-endpoint';
import { handler as disableWebhookEndpoint } from '../http/disable-webhook-endpoint';
import { handler as getHealth } from '../http/get-health';
import { handler as getMe } from '../http/get-me';
import { handler as getOpenapi } from '../http/get-openapi';
import { handler as getRaw } from '../http/get-raw';
import { handler as listDeadLetters } from '../http/list-dead-letters';
import { handler as listWebhookDeliveries } from '../http/list-webhook-deliveries';
import { handler as listWebhookEndpoints } from '../http/list-webhook-endpoints';
import { handler as redriveDeadLetter } from '../http/redrive-dead-letter';

export const handler = dispatchGroup('platform', {
  'get-health': getHealth,
  'get-openapi': getOpenapi,
  'get-me': getMe,
  'create-webhook-endpoint': createWebhookEndpoint,
  'list-webhook-endpoints': listWebhookEndpoints,
  'disable-webhook-endpoint': disableWebhookEndpoint,
  'list-webhook-deliveries': listWebhookDeliveries,
  'list-dead-letters': listDeadLetters,
  'redrive-dead-letter': redriveDeadLetter,
  'get-raw': getRaw,
});
