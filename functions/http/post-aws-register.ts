/** POST /v1/marketplace/aws/register — the buyer's fulfillment-URL form post. */
import { awsRegisterRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { registerAwsBuyer } from '../../lib/marketplaces/aws/intake';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(awsRegisterRoute, getContainer, async ({ body }) => {
  const container = getContainer();
  const result = await registerAwsBuyer(container, body['x-amzn-marketplace-token']);
  const answer = {
    rawId: result.rawId,
    outcome: result.outcome,
    enqueued: result.enqueued,
    customerAwsAccountId: result.customer.customerAwsAccountId,
    productCode: result.customer.productCode,
    licenseArn: result.customer.licenseArn,
  };
  const landing = container.config.AGORA_AWS_LANDING_URL;
  if (!landing) return { body: answer };
  const target = new URL(landing);
  target.searchParams.set('customer', answer.customerAwsAccountId);
  target.searchParams.set('product', answer.productCode);
  return { status: 303, body: answer, headers: { location: target.toString() } };
});
