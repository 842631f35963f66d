/**
 * The buyer's side of a purchase, played against a running local stack: each journey changes the
 * marketplace simulator's source of truth, lets the marketplace notify us the way it really does
 * (EventBridge for AWS, the signed webhook for Azure, the OIDC-signed Pub/Sub push for Google
 * Cloud), walks the buyer's pages where the marketplace has them (Azure landing + activation,
 * Google sign-up), and waits for the contract to reach each state through the real API.
 * Offers are not created here: the seller's side comes with the offers workflow.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { contractIdFor } from '../domain/contract';
import type { StackFile } from './stack';

export const JOURNEY_WAIT_MS_DEFAULT = 20_000;
export const JOURNEY_POLL_MS = 200;
export const SIM_CALL_TIMEOUT_MS = 10_000;
/** The seller account and product of the local sample configuration (events/aws/local-accounts.json). */
export const LOCAL_AWS_SELLER_ACCOUNT = '111122223333';
export const LOCAL_AWS_PRODUCT = { productId: 'prod-agorademo01', productCode: 'agorademo01' };
export const LOCAL_AZURE_OFFER = 'agora-saas';
export const LOCAL_GCP_PROVIDER = 'agora-demo-provider';
export const LOCAL_GCP_PRODUCT = 'agora-analytics';

export type JourneyName = 'aws-purchase' | 'azure-subscribe' | 'gcp-subscribe';
export const JOURNEYS: readonly JourneyName[] = [
  'aws-purchase',
  'azure-subscribe',
  'gcp-subscribe',
];

export interface JourneyOptions {
  /** Stop once the contract is active (no plan change, no cancellation). */
  readonly keep: boolean;
  readonly plan?: string;
  readonly newPlan?: string;
  /** AWS: the (private) offer the buyer accepts; default a public offer. */
  readonly offerId?: string;
  /** AWS: the buyer's account id; default a random one. */
  readonly buyerAccountId?: string;
  readonly waitMs: number;
  /** A pause between steps, so a person can watch the contract change. */
  readonly pauseMs: number;
}

export interface JourneyContext {
  readonly stack: Pick<
    StackFile,
    'url' | 'awsSimulatorUrl' | 'azureSimulatorUrl' | 'gcpSimulatorUrl'
  >;
  /** A bearer token for the seller's calls (activation) and for reading contracts. */
  readonly token: () => Promise<string>;
  readonly log: (line: string) => void;
  readonly now: () => Date;
}

export interface JourneyStep {
  readonly step: string;
  readonly status: string;
  readonly plan: string | null;
  readonly version: number;
}

export interface JourneyResult {
  readonly journey: JourneyName;
  readonly contractId: string;
  readonly externalId: string;
  readonly steps: JourneyStep[];
}

export class JourneyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ContractView {
  readonly contractId: string;
  readonly status: string;
  readonly statusReason: string | null;
  readonly version: number;
  readonly terms: {
    readonly plan: string | null;
    readonly grants: readonly { dimension: string; quantity: string | null }[];
  };
}

async function call(
  url: string,
  init: { method?: string; body?: unknown; token?: string; form?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(SIM_CALL_TIMEOUT_MS),
    });
  } catch (error) {
    throw new JourneyError('unreachable', `${url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}

/** A call that must succeed; the journey stops with the answer otherwise. */
async function must(
  what: string,
  url: string,
  init: Parameters<typeof call>[1] = {},
): Promise<unknown> {
  const result = await call(url, init);
  if (result.status >= 300) {
    throw new JourneyError(
      'step_failed',
      `${what} failed: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 500)}`,
    );
  }
  return result.body;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Journey {
  readonly steps: JourneyStep[] = [];
  constructor(
    readonly name: JourneyName,
    readonly ctx: JourneyContext,
    readonly options: JourneyOptions,
    readonly contractId: string,
    readonly externalId: string,
  ) {}

  async read(): Promise<ContractView | null> {
    const result = await call(`${this.ctx.stack.url}/v1/contracts/${this.contractId}`, {
      token: await this.ctx.token(),
    });
    if (result.status === 404) return null;
    if (result.status !== 200)
      throw new JourneyError('api_error', `GET contract: HTTP ${result.status}`);
    return result.body as ContractView;
  }

  /** Waits until the contract satisfies `done`, then records the step. */
  async expect(step: string, done: (contract: ContractView) => boolean): Promise<ContractView> {
    const deadline = Date.now() + this.options.waitMs;
    let last: ContractView | null = null;
    while (Date.now() < deadline) {
      last = await this.read();
      if (last && done(last)) {
        const recorded = {
          step,
          status: last.status,
          plan: last.terms.plan,
          version: last.version,
        };
        this.steps.push(recorded);
        this.ctx.log(
          `${step}: ${this.contractId} ${last.status}${last.terms.plan ? ` plan ${last.terms.plan}` : ''} (v${last.version})${last.statusReason ? ` — ${last.statusReason}` : ''}`,
        );
        if (this.options.pauseMs > 0) await sleep(this.options.pauseMs);
        return last;
      }
      await sleep(JOURNEY_POLL_MS);
    }
    throw new JourneyError(
      'timeout',
      `${step}: ${this.contractId} did not get there within ${this.options.waitMs} ms (last seen: ${last ? `${last.status} v${last.version}` : 'no contract'}); see \`agora dlq list\``,
    );
  }

  result(): JourneyResult {
    return {
      journey: this.name,
      contractId: this.contractId,
      externalId: this.externalId,
      steps: this.steps,
    };
  }
}

const randomDigits = (length: number) =>
  Array.from({ length }, (_, i) => String(randomInt(i === 0 ? 1 : 0, 10))).join('');
const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

// ---------------------------------------------------------------------------------------------
// AWS: the agreement changes at the simulator; EventBridge (our local inlet) tells us.
// ---------------------------------------------------------------------------------------------

function awsAgreement(input: {
  agreementId: string;
  licenseArn: string;
  buyer: string;
  status: string;
  dimension: string;
  seats: number;
  price: string;
  start: string;
  end: string;
  offerId: string;
}) {
  return {
    agreementId: input.agreementId,
    status: input.status,
    acceptanceTime: input.start,
    startTime: input.start,
    endTime: input.end,
    acceptorAccountId: input.buyer,
    proposerAccountId: LOCAL_AWS_SELLER_ACCOUNT,
    offerId: input.offerId,
    productId: LOCAL_AWS_PRODUCT.productId,
    productType: 'SaaSProduct',
    terms: [
      {
        fixedUpfrontPricingTerm: {
          id: `term-${input.agreementId}-fixed`,
          type: 'FixedUpfrontPricingTerm',
          currencyCode: 'USD',
          price: input.price,
          duration: 'P12M',
          grants: [{ dimensionKey: input.dimension, maxQuantity: input.seats }],
        },
      },
      {
        validityTerm: {
          id: `term-${input.agreementId}-validity`,
          type: 'ValidityTerm',
          agreementStartDate: input.start,
          agreementEndDate: input.end,
        },
      },
    ],
    entitlements: [
      {
        resourceId: LOCAL_AWS_PRODUCT.productId,
        resourceType: 'SaaSProduct',
        status: input.status === 'ACTIVE' ? 'PROVISIONED' : 'DEPROVISIONED',
        licenseArn: input.licenseArn,
      },
    ],
  };
}

function awsEvent(
  detailType: string,
  time: string,
  detail: Record<string, unknown>,
): Record<string, unknown> {
  return {
    version: '0',
    id: `ev-sim-${randomHex(8)}`,
    'detail-type': detailType,
    source: 'aws.agreement-marketplace',
    account: LOCAL_AWS_SELLER_ACCOUNT,
    time,
    region: 'us-east-1',
    resources: [],
    detail: { requestId: `req-${randomHex(6)}`, catalog: 'AWSMarketplace', ...detail },
  };
}

async function awsPurchase(ctx: JourneyContext, options: JourneyOptions): Promise<JourneyResult> {
  const sim = ctx.stack.awsSimulatorUrl;
  const now = ctx.now();
  const start = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const end = new Date(Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth(), now.getUTCDate()))
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
  const suffix = randomHex(6);
  const agreementId = `agmt-sim${suffix}`;
  const licenseId = `l-sim${suffix}`;
  const licenseArn = `arn:aws:license-manager::${LOCAL_AWS_SELLER_ACCOUNT}:license:${licenseId}`;
  const buyer = options.buyerAccountId ?? randomDigits(12);
  const plan = options.plan ?? 'basic_seats';
  const newPlan = options.newPlan ?? 'premium_seats';
  const externalId = `license/${licenseId}`;
  const journey = new Journey(
    'aws-purchase',
    ctx,
    options,
    contractIdFor('aws', externalId),
    externalId,
  );
  const offerId = options.offerId ?? 'offer-simulated-public';
  const base = { agreementId, licenseArn, buyer, start, end, offerId };
  const parties = {
    acceptor: { accountId: buyer },
    proposer: { accountId: LOCAL_AWS_SELLER_ACCOUNT },
  };
  const upsert = async (agreement: ReturnType<typeof awsAgreement>, seats: number, dim: string) => {
    await must('simulator agreement', `${sim}/_sim/agreements`, { body: agreement });
    await must('simulator entitlement', `${sim}/_sim/entitlements`, {
      body: {
        productCode: LOCAL_AWS_PRODUCT.productCode,
        dimension: dim,
        customerAwsAccountId: buyer,
        licenseArn,
        value: { integerValue: seats },
        expirationDate: end,
      },
    });
  };
  const publish = (event: Record<string, unknown>) =>
    must('EventBridge delivery', `${ctx.stack.url}/local/aws/eventbridge`, { body: event });

  ctx.log(`buyer ${buyer} accepts agreement ${agreementId} (${plan} × 10)`);
  await upsert(
    awsAgreement({ ...base, status: 'ACTIVE', dimension: plan, seats: 10, price: '1200.00' }),
    10,
    plan,
  );
  await publish(
    awsEvent('Purchase Agreement Created - Manufacturer', start, {
      agreement: {
        id: agreementId,
        intent: 'NEW',
        status: 'ACTIVE',
        startTime: start,
        endTime: end,
      },
      ...parties,
      offer: { id: offerId },
    }),
  );
  await publish(
    awsEvent('License Updated - Manufacturer', start, {
      agreement: { id: agreementId },
      product: { code: LOCAL_AWS_PRODUCT.productCode, id: LOCAL_AWS_PRODUCT.productId },
      license: { arn: licenseArn },
      ...parties,
    }),
  );
  await journey.expect('purchased', (c) => c.status === 'active');
  if (options.keep) return journey.result();

  ctx.log(`buyer amends the agreement to ${newPlan} × 25`);
  await upsert(
    awsAgreement({ ...base, status: 'ACTIVE', dimension: newPlan, seats: 25, price: '3000.00' }),
    25,
    newPlan,
  );
  await publish(
    awsEvent('Purchase Agreement Amended - Manufacturer', ctx.now().toISOString(), {
      agreement: { id: agreementId, intent: 'AMEND', status: 'ACTIVE' },
      ...parties,
    }),
  );
  await journey.expect('plan changed', (c) => c.terms.grants.some((g) => g.dimension === newPlan));

  ctx.log('buyer cancels the agreement');
  await upsert(
    awsAgreement({ ...base, status: 'CANCELLED', dimension: newPlan, seats: 25, price: '3000.00' }),
    25,
    newPlan,
  );
  await publish(
    awsEvent('Purchase Agreement Ended - Manufacturer', ctx.now().toISOString(), {
      agreement: { id: agreementId, status: 'CANCELLED' },
      ...parties,
    }),
  );
  await journey.expect('cancelled', (c) => c.status === 'cancelled');
  return journey.result();
}

// ---------------------------------------------------------------------------------------------
// Azure: purchase → landing page → seller activates → ChangePlan webhook → Unsubscribe webhook.
// ---------------------------------------------------------------------------------------------

async function azureSubscribe(
  ctx: JourneyContext,
  options: JourneyOptions,
): Promise<JourneyResult> {
  const sim = ctx.stack.azureSimulatorUrl;
  const plan = options.plan ?? 'gold-monthly';
  const newPlan = options.newPlan ?? 'platinum-monthly';
  const tenant = `${randomHex(4)}-${randomHex(2)}-4${randomHex(2).slice(1)}-8${randomHex(2).slice(1)}-${randomHex(6)}`;
  ctx.log(`tenant ${tenant} buys ${LOCAL_AZURE_OFFER} ${plan} × 5`);
  const purchase = (await must('simulator purchase', `${sim}/_sim/purchase`, {
    body: { offerId: LOCAL_AZURE_OFFER, planId: plan, quantity: 5, beneficiaryTenantId: tenant },
  })) as { subscriptionId: string; token: string };
  const externalId = `subscription/${purchase.subscriptionId.toLowerCase()}`;
  const journey = new Journey(
    'azure-subscribe',
    ctx,
    options,
    contractIdFor('azure', externalId),
    externalId,
  );
  const landing = (await must(
    'landing page',
    `${ctx.stack.url}/v1/marketplace/azure/landing?token=${encodeURIComponent(purchase.token)}`,
  )) as { activate: { path: string }; planId: string; quantity: number | null };
  ctx.log(`landing page resolved subscription ${purchase.subscriptionId}; seller activates it`);
  await journey.expect('landed', (c) => c.status === 'pending');
  await must('activation', `${ctx.stack.url}${landing.activate.path}`, {
    token: await ctx.token(),
    body: { planId: landing.planId, quantity: landing.quantity },
  });
  await journey.expect('activated', (c) => c.status === 'active');
  if (options.keep) return journey.result();

  ctx.log(`buyer changes plan to ${newPlan} (Microsoft sends the ChangePlan webhook)`);
  await must(
    'simulator changePlan',
    `${sim}/_sim/subscriptions/${purchase.subscriptionId}/change-plan`,
    { body: { planId: newPlan } },
  );
  await journey.expect('plan changed', (c) => c.terms.plan === newPlan);
  ctx.log('buyer unsubscribes (Microsoft sends the Unsubscribe webhook)');
  await must(
    'simulator unsubscribe',
    `${sim}/_sim/subscriptions/${purchase.subscriptionId}/unsubscribe`,
    { body: {} },
  );
  await journey.expect('cancelled', (c) => c.status === 'cancelled');
  return journey.result();
}

// ---------------------------------------------------------------------------------------------
// Google Cloud: purchase by a new account → parked → sign-up approves → plan change → cancel.
// ---------------------------------------------------------------------------------------------

async function gcpSubscribe(ctx: JourneyContext, options: JourneyOptions): Promise<JourneyResult> {
  const sim = ctx.stack.gcpSimulatorUrl;
  const plan = options.plan ?? 'standard';
  const newPlan = options.newPlan ?? 'enterprise';
  const purchase = (await must('simulator purchase', `${sim}/_sim/purchase`, {
    // A metered product's entitlement carries the consumer id usage is reported against.
    body: {
      providerId: LOCAL_GCP_PROVIDER,
      product: LOCAL_GCP_PRODUCT,
      plan,
      usageReportingId: `project_number:${randomDigits(12)}`,
    },
  })) as { accountId: string; entitlementId: string; signupToken: string };
  const externalId = `entitlement/${purchase.entitlementId}`;
  const journey = new Journey(
    'gcp-subscribe',
    ctx,
    options,
    contractIdFor('gcp', externalId),
    externalId,
  );
  ctx.log(`new account ${purchase.accountId} buys ${LOCAL_GCP_PRODUCT} ${plan}`);
  await journey.expect('requested', (c) => c.status === 'pending');
  ctx.log('buyer finishes sign-up on our page (x-gcp-marketplace-token)');
  await must('sign-up', `${ctx.stack.url}/v1/marketplace/gcp/signup`, {
    form: { 'x-gcp-marketplace-token': purchase.signupToken },
  });
  await journey.expect('signed up and approved', (c) => c.status === 'active');
  if (options.keep) return journey.result();

  ctx.log(`buyer asks for plan ${newPlan}`);
  await must(
    'simulator plan change',
    `${sim}/_sim/entitlements/${purchase.entitlementId}/request-plan-change`,
    { body: { plan: newPlan } },
  );
  await journey.expect('plan changed', (c) => c.terms.plan === newPlan);
  ctx.log('buyer cancels');
  await must('simulator cancel', `${sim}/_sim/entitlements/${purchase.entitlementId}/cancel`, {
    body: { immediate: true },
  });
  await journey.expect('cancelled', (c) => c.status === 'cancelled');
  return journey.result();
}

export function runJourney(
  name: JourneyName,
  ctx: JourneyContext,
  options: JourneyOptions,
): Promise<JourneyResult> {
  switch (name) {
    case 'aws-purchase':
      return awsPurchase(ctx, options);
    case 'azure-subscribe':
      return azureSubscribe(ctx, options);
    case 'gcp-subscribe':
      return gcpSubscribe(ctx, options);
  }
}
