/** The inbound area's Lambda function: 7 routes, dispatched by route key (lib/http/route-groups.ts). */
import { dispatchGroup } from '../../lib/http/dispatch';
import { handler as activateAzureSubscription } from '../http/activate-azure-subscription';
import { handler as getAzureLanding } from '../http/get-azure-landing';
import { handler as postAwsRegister } from '../http/post-aws-register';
import { handler as postAwsSns } from '../http/post-aws-sns';
import { handler as postAzureWebhook } from '../http/post-azure-webhook';
import { handler as postGcpPush } from '../http/post-gcp-push';
import { handler as postGcpSignup } from '../http/post-gcp-signup';

export const handler = dispatchGroup('inbound', {
  'post-aws-sns': postAwsSns,
  'post-aws-register': postAwsRegister,
  'post-azure-webhook': postAzureWebhook,
  'get-azure-landing': getAzureLanding,
  'activate-azure-subscription': activateAzureSubscription,
  'post-gcp-push': postGcpPush,
  'post-gcp-signup': postGcpSignup,
});
