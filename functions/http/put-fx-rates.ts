/** PUT /v1/fx-rates — records exchange rates (data, not code: rule 5). */
import { recordFxRates } from '../../lib/app/revenue/finance-ops';
import { putFxRatesRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(putFxRatesRoute, getContainer, async ({ body }) => ({
  body: await recordFxRates(getContainer(), body.rates),
}));
