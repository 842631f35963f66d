// Proves the plan-terms reader drives the real @azure/arm-marketplaceordering client over HTTP: the ARM path, api-version and bearer token it sends, the terms it maps, 404 as "no terms", a persistent 5xx as MarketplaceUnavailableError after bounded retries, and the listing check's verdicts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketplaceUnavailableError } from '../../../lib/app/errors';
import { AzurePlanTermsReader, planTermsCheck } from '../../../lib/marketplaces/azure/plan-terms';

describe('AzurePlanTermsReader', () => {
  let server: Server;
  let endpoint: string;
  const requests: { url: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      const url = req.url ?? '';
      res.setHeader('content-type', 'application/json');
      if (url.includes('/plans/broken/')) {
        res.statusCode = 503;
        res.end(JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'later' } }));
      } else if (url.includes('/plans/gold/')) {
        res.end(
          JSON.stringify({
            id: 'x',
            name: 'gold',
            type: 'Microsoft.MarketplaceOrdering/offertypes',
            properties: {
              publisher: 'agora',
              product: 'agora-saas',
              plan: 'gold',
              licenseTextLink: 'https://example.com/license',
              privacyPolicyLink: 'https://example.com/privacy',
              marketplaceTermsLink: 'https://example.com/marketplace-terms',
              accepted: false,
            },
          }),
        );
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 'NotFound', message: 'no terms' } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const reader = () =>
    new AzurePlanTermsReader({ subscriptionId: 'sub-1', endpoint, token: async () => 'tok-123' });

  it('reads a plan’s terms through the ARM path with the api-version and a bearer token', async () => {
    const terms = await reader().read('agora', 'agora-saas', 'gold');
    expect(terms).toEqual({
      licenseTextLink: 'https://example.com/license',
      privacyPolicyLink: 'https://example.com/privacy',
      marketplaceTermsLink: 'https://example.com/marketplace-terms',
      accepted: false,
    });
    const last = requests.at(-1);
    expect(last?.url).toMatch(
      /^\/subscriptions\/sub-1\/providers\/Microsoft\.MarketplaceOrdering\/offerTypes\/virtualmachine\/publishers\/agora\/offers\/agora-saas\/plans\/gold\/agreements\/current\?api-version=\d{4}-\d{2}-\d{2}$/,
    );
    expect(last?.authorization).toBe('Bearer tok-123');
    expect(planTermsCheck('gold', terms)).toMatchObject({ ok: true });
  });

  it('reads 404 as no terms, which the listing check reports', async () => {
    const terms = await reader().read('agora', 'agora-saas', 'silver');
    expect(terms).toBeNull();
    expect(planTermsCheck('silver', terms)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('no marketplace terms'),
    });
    expect(
      planTermsCheck('x', {
        licenseTextLink: 'l',
        privacyPolicyLink: null,
        marketplaceTermsLink: 'm',
        accepted: true,
      }),
    ).toMatchObject({ ok: false, detail: 'missing privacyPolicyLink' });
  });

  it('gives up on a persistent 5xx after bounded retries with a typed error', async () => {
    const before = requests.filter((r) => r.url.includes('/plans/broken/')).length;
    await expect(reader().read('agora', 'agora-saas', 'broken')).rejects.toBeInstanceOf(
      MarketplaceUnavailableError,
    );
    const tries = requests.filter((r) => r.url.includes('/plans/broken/')).length - before;
    expect(tries).toBe(3);
  }, 20_000);
});
