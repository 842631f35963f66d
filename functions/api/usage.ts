/** The usage area's Lambda function: 2 routes, dispatched by route key (lib/http/route-groups.ts). */
import { dispatchGroup } from '../../lib/http/dispatch';
import { handler as listUsage } from '../http/list-usage';
import { handler as postUsage } from '../http/post-usage';

export const handler = dispatchGroup('usage', {
  'post-usage': postUsage,
  'list-usage': listUsage,
});
