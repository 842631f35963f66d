/** GET /v1/fx-rates — the FX rate table, optionally for one pair. */
import { listFxRatesRoute } from '../../lib/http/api-routes';
import { httpHandler } from '../../lib/http/handler';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(listFxRatesRoute, getContainer, async ({ query }) => {
  const rates = await getContainer().fxRates.all();
  return {
    body: {
      items: rates.filter(
        (r) =>
          (query.base === undefined || r.base === query.base) &&
          (query.quote === undefined || r.quote === query.quote),
      ),
    },
  };
});
