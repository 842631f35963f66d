// Proves listings over real HTTP against the AWS Catalog simulator: the configured product's listing is read live, a PATCH starts exactly the asserted SaaSProduct change set (information, added and updated dimensions) and the change shows once it succeeds, a new listing is created through CreateProduct, a Google Cloud listing write is refused with 405 and the reason, bad input is a 400 that sends nothing, and roles are enforced.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../lib/http/auth';
import { LOCAL_AWS_PRODUCT } from '../../../lib/local/buyer-journeys';
import { startTestStack, type TestStack } from '../pipeline/helpers';

describe('listings over HTTP', () => {
  let test: TestStack;
  const PRODUCT = LOCAL_AWS_PRODUCT.productId;

  async function call(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    roles: Role[] | null = ['seller'],
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { 'idempotency-key': randomUUID() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (roles)
      headers.authorization = `Bearer ${await test.token(roles, roles.includes('partner') ? 'P-1' : undefined)}`;
    const response = await fetch(`${test.stack.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  const starts = () =>
    test.stack.awsSimulator.catalog.calls().filter((c) => c.operation === 'StartChangeSet');

  beforeAll(async () => {
    test = await startTestStack();
  }, 60_000);

  afterAll(async () => {
    await test?.stack.stop();
  });

  it('reads the configured AWS product’s listing live from the Catalog', async () => {
    const listed = await call('GET', '/v1/listings?marketplace=aws', undefined, ['finance']);
    expect(listed.status).toBe(200);
    const items = listed.body.items as { productId: string; writable: boolean; source: string }[];
    expect(items.map((i) => i.productId)).toEqual([PRODUCT]);
    const one = await call('GET', `/v1/listings/aws/${PRODUCT}`);
    expect(one.body).toMatchObject({
      marketplace: 'aws',
      productId: PRODUCT,
      writable: true,
      source: 'marketplace',
      status: 'Public',
    });
    expect((one.body.dimensions as { key: string }[]).map((d) => d.key)).toEqual([
      'basic_seats',
      'premium_seats',
    ]);
    expect((await call('GET', '/v1/listings/aws/prod-unknown0')).status).toBe(404);
  });

  it('changes information and dimensions through one SaaSProduct change set', async () => {
    const before = starts().length;
    const patched = await call('PATCH', `/v1/listings/aws/${PRODUCT}`, {
      title: 'Agora Analytics',
      highlights: ['Exact money', 'Nothing lost', 'Three clouds'],
      dimensions: [
        {
          key: 'premium_seats',
          name: 'Premium seats',
          description: 'Now with SSO',
          unit: 'Units',
          type: 'entitled',
        },
        {
          key: 'api_calls',
          name: 'API calls',
          description: 'Per 1,000 calls',
          unit: 'Requests',
          type: 'metered',
        },
      ],
    });
    expect(patched.status).toBe(202);
    expect(patched.body.change).toMatchObject({ marketplace: 'aws' });
    expect(starts()).toHaveLength(before + 1);
    const input = starts().at(-1)?.input as {
      ChangeSet: { ChangeType: string; Entity: unknown; DetailsDocument: unknown }[];
    };
    const entity = { Type: 'SaaSProduct@1.0', Identifier: PRODUCT };
    expect(input.ChangeSet).toEqual([
      {
        ChangeType: 'UpdateInformation',
        Entity: entity,
        DetailsDocument: {
          ProductTitle: 'Agora Analytics',
          Highlights: ['Exact money', 'Nothing lost', 'Three clouds'],
        },
      },
      {
        ChangeType: 'AddDimensions',
        Entity: entity,
        DetailsDocument: {
          Dimensions: [
            {
              Key: 'api_calls',
              Name: 'API calls',
              Description: 'Per 1,000 calls',
              Unit: 'Requests',
              Types: ['ExternallyMetered'],
            },
          ],
        },
      },
      {
        ChangeType: 'UpdateDimensions',
        Entity: entity,
        DetailsDocument: {
          Dimensions: [
            {
              Key: 'premium_seats',
              Name: 'Premium seats',
              Description: 'Now with SSO',
              Unit: 'Units',
              Types: ['Entitled'],
            },
          ],
        },
      },
    ]);
    test.stack.awsSimulator.catalog.finishAll();
    const after = await call('GET', `/v1/listings/aws/${PRODUCT}`);
    expect(after.body.title).toBe('Agora Analytics');
    expect(after.body.dimensions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'api_calls', type: 'metered' }),
        expect.objectContaining({ key: 'premium_seats', description: 'Now with SSO' }),
      ]),
    );
  });

  it('creates a new listing through CreateProduct', async () => {
    const created = await call('POST', '/v1/listings', {
      marketplace: 'aws',
      title: 'Agora Metering',
      shortDescription: 'Usage metering, exactly once',
      dimensions: [
        {
          key: 'events',
          name: 'Events',
          description: 'Metered events',
          unit: 'Units',
          type: 'metered',
        },
      ],
    });
    expect(created.status).toBe(202);
    const input = starts().at(-1)?.input as { ChangeSet: { ChangeType: string }[] };
    expect(input.ChangeSet.map((c) => c.ChangeType)).toEqual([
      'CreateProduct',
      'UpdateInformation',
      'AddDimensions',
    ]);
    test.stack.awsSimulator.catalog.finishAll();
    const product = test.stack.awsSimulator.catalog
      .state()
      .entities.find((e) => e.entityType === 'SaaSProduct@1.0' && e.entityId !== PRODUCT);
    expect(product?.entityId).toMatch(/^prod-/);
  });

  it('refuses a Google Cloud listing write with the reason, and bad input with every problem, sending nothing', async () => {
    const before = starts().length;
    const gcp = await call('PATCH', '/v1/listings/gcp/agora-analytics', { title: 'New title' });
    expect(gcp.status).toBe(405);
    expect(gcp.body.error).toMatchObject({ code: 'listing_read_only' });
    expect(String((gcp.body.error as { message: string }).message)).toContain('Producer Portal');
    const gcpCreate = await call('POST', '/v1/listings', { marketplace: 'gcp', title: 'x' });
    expect(gcpCreate.status).toBe(405);
    const empty = await call('PATCH', `/v1/listings/aws/${PRODUCT}`, {});
    expect(empty.status).toBe(400);
    const bad = await call('PATCH', `/v1/listings/aws/${PRODUCT}`, {
      title: 'x'.repeat(73),
      dimensions: [{ key: 'bad key', name: 'n', description: 'd', unit: 'u', type: 'hourly' }],
    });
    expect(bad.status).toBe(400);
    expect((bad.body.error as { details: { path: string }[] }).details.map((d) => d.path)).toEqual([
      'body.title',
      'body.dimensions.0.key',
      'body.dimensions.0.type',
    ]);
    expect(starts()).toHaveLength(before);
  });

  it('reads an Azure listing with its plans, checks each plan’s terms, and changes it through Product Ingestion', async () => {
    const listed = await call('GET', '/v1/listings?marketplace=azure');
    const [azure] = listed.body.items as {
      productId: string;
      dimensions: { key: string }[];
      checks: { ok: boolean; check: string }[];
    }[];
    expect(azure?.productId).toBe('agora-saas');
    expect(azure?.dimensions.map((d) => d.key)).toEqual([
      'gold-monthly',
      'platinum-monthly',
      'gold-annual',
    ]);
    // Plan terms read through @azure/arm-marketplaceordering (ARM on the simulator).
    expect(azure?.checks).toHaveLength(3);
    expect(azure?.checks.every((c) => c.ok)).toBe(true);

    const jobsBefore = test.stack.azureSimulator.offers.jobs().length;
    const patched = await call('PATCH', '/v1/listings/azure/agora-saas', {
      title: 'Agora for Azure',
      shortDescription: 'Exact revenue, every event kept',
      dimensions: [
        {
          key: 'silver-annual',
          name: 'Silver (annual)',
          description: 'Silver plan',
          unit: 'Seats',
          type: 'entitled',
        },
      ],
    });
    expect(patched.status).toBe(202);
    const jobs = test.stack.azureSimulator.offers.jobs();
    expect(jobs).toHaveLength(jobsBefore + 1);
    const kinds = ((jobs.at(-1)?.resources ?? []) as { $schema: string }[]).map(
      (r) => /\/schema\/([a-z-]+)\//.exec(r.$schema)?.[1],
    );
    expect(kinds).toEqual(['listing', 'plan']);
    // The job completes after a few status reads; then the listing shows the change.
    const jobId = (patched.body.change as { changeId: string }).changeId;
    for (let i = 0; i < 5; i += 1)
      await fetch(
        `${test.stack.azureSimulator.url}/rp/product-ingestion/configure/${jobId}/status?$version=2022-07-01`,
        {
          headers: { authorization: 'Bearer local' },
        },
      );
    const after = await call('GET', '/v1/listings/azure/agora-saas');
    expect(after.body.title).toBe('Agora for Azure');
    expect((after.body.dimensions as { key: string }[]).map((d) => d.key)).toContain(
      'silver-annual',
    );

    const metered = await call('PATCH', '/v1/listings/azure/agora-saas', {
      dimensions: [
        { key: 'api', name: 'API', description: 'calls', unit: 'Requests', type: 'metered' },
      ],
    });
    expect(metered.status).toBe(400);
    expect(metered.body.error).toMatchObject({ code: 'not_supported_on_azure' });
  });

  it('reads a Google Cloud listing as read-only', async () => {
    const listed = await call('GET', '/v1/listings?marketplace=gcp');
    const items = listed.body.items as { productId: string; writable: boolean }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.writable === false)).toBe(true);
    const one = await call(
      'GET',
      `/v1/listings/gcp/${encodeURIComponent(items[0]?.productId ?? '')}`,
    );
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ marketplace: 'gcp', writable: false, status: 'PUBLISHED' });
  });

  it('answers 401 without a token and 403 to a partner or to finance writing', async () => {
    expect((await call('GET', '/v1/listings', undefined, null)).status).toBe(401);
    expect((await call('GET', '/v1/listings', undefined, ['partner'])).status).toBe(403);
    expect(
      (await call('PATCH', `/v1/listings/aws/${PRODUCT}`, { title: 'x' }, ['finance'])).status,
    ).toBe(403);
  });
});
