/**
 * The deterministic simulation: a seeded history delivered through the real inlets, sync queue,
 * apply code, HTTP API and scheduled runs of a local stack (DynamoDB Local + simulators), with
 * faults, and an independent auditor compared with the stored state after every step.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runCommission } from '../../lib/app/commission-run';
import { flushUsage } from '../../lib/app/metering';
import { runBilling, runRecognition } from '../../lib/app/revenue/runs';
import { contractIdFor } from '../../lib/domain/contract';
import type { JournalEntry } from '../../lib/domain/ledger';
import { ensureDevKeys, mintDevToken } from '../../lib/local/dev-keys';
import {
  type AwsSimulator,
  type SimAgreement,
  startAwsSimulator,
} from '../../lib/local/simulators/aws-simulator';
import type { AzureSimulatorState } from '../../lib/local/simulators/azure-simulator';
import type { GcpSimulatorState } from '../../lib/local/simulators/gcp-simulator';
import { type LocalStack, startLocalStack } from '../../lib/local/stack';
import { AwsMeteringGateway } from '../../lib/marketplaces/aws/metering-gateway';
import { azureExternalId } from '../../lib/marketplaces/azure/source';
import { gcpExternalId } from '../../lib/marketplaces/gcp/source';
import { type Container, configureContainer, getContainer } from '../../lib/runtime/container';
import { Auditor, AWS_RENEWAL_FEE, type StoredContractView, type StoredEntry } from './auditor';
import {
  COMMISSION_PLAN_ID,
  type CommissionEntry,
  CommissionModel,
  FLAT_RATE_BPS,
} from './commission';
import { addDays, periodEndExclusive, periodOfDate, previousPeriodOf } from './dates';
import { DynamoFaults } from './faults';
import {
  type AgreementSpec,
  AWS_PRODUCT_ID,
  AZURE_OFFER,
  AZURE_PLANS,
  AZURE_PUBLISHER,
  GCP_ACCOUNTS,
  GCP_PRODUCT,
  GCP_PROVIDER,
  Generator,
  majorOf,
  type Notification,
  PARTNERS,
  SELLER_ACCOUNT,
  SIM_START,
  type Step,
  USAGE_DIMENSION,
} from './generator';
import { checkContractEvents, checkEntries, stateHash } from './invariants';
import { Prng } from './prng';
import { expectedSource, registrationExpiry } from './registrations';

export const INJECTABLE_BUGS = ['drop-rounding-unit', 'lose-refund'] as const;
export type InjectableBug = (typeof INJECTABLE_BUGS)[number];

export interface SimulationOptions {
  readonly seed: number;
  readonly events: number;
  readonly faults?: boolean;
  /** Include empty DescribeAgreement / GetAgreementTerms answers (expose a known bug). */
  readonly emptyAgreementReads?: boolean;
  readonly injectBug?: InjectableBug | null;
  /** Let subjects return to earlier states (reproduces the event-id collision, see generator). */
  readonly exposeKnownBugs?: boolean;
  /** An already running DynamoDB Local (tests, soak); otherwise the stack starts its own. */
  readonly dynamodbEndpoint?: string;
  /** Full comparison of every contract every this many steps (touched ones after every step). */
  readonly fullCheckEvery?: number;
  readonly progress?: (step: number, total: number) => void;
  readonly verbose?: (line: string) => void;
}

export interface SimulationFailure {
  readonly step: number;
  readonly message: string;
}

export interface SimulationResult {
  readonly seed: number;
  readonly events: number;
  readonly steps: number;
  readonly traceHash: string;
  readonly stateHash: string;
  readonly failure: SimulationFailure | null;
  readonly stats: Record<string, number>;
  readonly elapsedMs: number;
}

class StepFailure extends Error {}

/** What the service answers about a deal registration (the fields the simulation checks). */
interface RegistrationAnswer {
  readonly registrationId: string;
  readonly partnerId: string;
  readonly productId: string;
  readonly status: string;
  readonly effectiveStatus: string;
  readonly expiresOn: string;
  readonly conflicts: readonly { code: string; ref: string | null }[];
}

interface RegistrationTouch {
  readonly touchId: string;
  readonly source: string;
  readonly sourceRef: string | null;
  readonly role: string;
  readonly validUntil: string | null;
}

/** GET /v1/contracts/{id}/attribution (the fields the simulation checks). */
interface AttributionAnswer {
  readonly attribution: {
    readonly dealCredit: string;
    readonly shares: readonly { partnerId: string }[];
    readonly credits: readonly { partnerId: string; flags: readonly string[] }[];
    readonly touches: readonly { source: string; sourceRef: string | null; partnerId: string }[];
  } | null;
  readonly split: {
    readonly totalMinor: string;
    readonly shares: readonly { partnerId: string; amountMinor: string }[];
  };
}

const RETRIES_MAX = 4;

/** One JSON line per step: the trace whose hash identifies a history. */
function traceLine(step: Step): string {
  return JSON.stringify(step, (_key, value) =>
    typeof value === 'bigint' ? `${value.toString()}n` : value,
  );
}

function simAgreement(spec: AgreementSpec, status: string, end: string): SimAgreement {
  return {
    agreementId: spec.agreementId,
    status: status as SimAgreement['status'],
    acceptanceTime: `${spec.start}T09:00:00Z`,
    startTime: `${spec.start}T00:00:00Z`,
    endTime: `${addDays(end, -1)}T23:59:59Z`,
    acceptorAccountId: spec.buyer,
    proposerAccountId: SELLER_ACCOUNT,
    offerId: spec.offerId,
    productId: AWS_PRODUCT_ID,
    productType: 'SaaSProduct',
    estimatedCharges: {
      agreementValue: majorOf(spec.installments.reduce((s, i) => s + i.amountMinor, 0n)),
      currencyCode: 'USD',
    },
    terms: [
      {
        paymentScheduleTerm: {
          id: `term-${spec.agreementId}-schedule`,
          type: 'PaymentScheduleTerm',
          currencyCode: 'USD',
          schedule: spec.installments.map((i) => ({
            chargeDate: `${i.date}T00:00:00Z`,
            chargeAmount: majorOf(i.amountMinor),
          })),
        },
      },
      ...(spec.usage
        ? [
            {
              usageBasedPricingTerm: {
                id: `term-${spec.agreementId}-usage`,
                type: 'UsageBasedPricingTerm',
                currencyCode: 'USD',
                rateCards: [
                  {
                    rateCard: [
                      {
                        dimensionKey: spec.usage.dimension,
                        price: majorOf(spec.usage.unitPriceMinor),
                      },
                    ],
                  },
                ],
              },
            },
          ]
        : []),
      {
        validityTerm: {
          id: `term-${spec.agreementId}-validity`,
          type: 'ValidityTerm',
          agreementStartDate: `${spec.start}T00:00:00Z`,
          agreementEndDate: `${addDays(end, -1)}T23:59:59Z`,
        },
      },
    ],
    entitlements: [
      {
        resourceId: AWS_PRODUCT_ID,
        resourceType: 'SaaSProduct',
        status: status === 'ACTIVE' ? 'PROVISIONED' : 'DEPROVISIONED',
        licenseArn: `arn:aws:license-manager::${SELLER_ACCOUNT}:license:${spec.licenseId}`,
      },
    ],
  };
}

/** A stored contract in a few lines (the --verbose dump of a contract that differs). */
function describeView(view: StoredContractView): string {
  const events = view.events.map((e) => `${e.version}:${e.type}`).join(' ');
  const entries = view.entries.map(
    (e) =>
      `\n    ${e.date} ${e.postingPeriod} ${e.entryId.slice(0, 12)} ${e.legs
        .map((l) => `${l.account}${l.debitMinor > 0n ? `+${l.debitMinor}` : `-${l.creditMinor}`}`)
        .join(' ')}`,
  );
  return `${view.status} v${view.version} [${view.termStart}, ${String(view.termEnd)}) events ${events}${entries.join('')}`;
}

/** Puts the generator's world into the three simulators (they are the sources of truth). */
function syncSimulators(
  running: LocalStack,
  meter: AwsSimulator,
  generator: Generator,
  azureBase: AzureSimulatorState,
  gcpBase: GcpSimulatorState,
  step: Step,
): void {
  const kind = step.action.kind;
  if (kind.startsWith('aws.') || kind === 'advance' || step.index === 0)
    for (const a of generator.agreements.values()) {
      const agreement = simAgreement(a.spec, a.status, a.end);
      running.awsSimulator.upsertAgreement(agreement);
      meter.upsertAgreement(agreement);
    }
  if (kind.startsWith('azure.') || step.index === 0) {
    const party = (tenant: string, n: number) => ({
      emailId: `buyer${n}@${tenant.slice(0, 8)}.example`,
      objectId: tenant,
      tenantId: tenant,
      puid: `PUID${n}`,
    });
    running.azureSimulator.setState({
      publisherId: azureBase.publisherId,
      apps: azureBase.apps,
      offers: azureBase.offers,
      autoAcceptMs: azureBase.autoAcceptMs,
      subscriptions: [...generator.azure.values()].map((s) => ({
        id: s.id,
        name: `Buyer ${s.id.slice(-4)}`,
        publisherId: AZURE_PUBLISHER,
        offerId: AZURE_OFFER,
        planId: s.plan,
        quantity: s.quantity,
        beneficiary: party(s.tenant, 1),
        purchaser: party(s.tenant, 2),
        allowedCustomerOperations: ['Read', 'Update', 'Delete'],
        sessionMode: 'None',
        isFreeTrial: false,
        isTest: false,
        sandboxType: 'None',
        saasSubscriptionStatus: s.status,
        term: {
          startDate: s.start ? `${s.start}T00:00:00Z` : null,
          endDate: s.end ? `${s.end}T00:00:00Z` : null,
          termUnit: AZURE_PLANS[s.plan].months === 1 ? 'P1M' : 'P1Y',
          chargeDuration: null,
        },
        autoRenew: true,
        created: s.created,
        lastModified: s.lastModified,
      })),
      operations: generator.azureOperations.map((o) => ({
        id: o.id,
        activityId: `act-${o.id}`,
        subscriptionId: o.subscriptionId,
        offerId: AZURE_OFFER,
        publisherId: AZURE_PUBLISHER,
        planId: o.planId,
        quantity: o.quantity,
        action: o.action,
        timeStamp: o.timeStamp,
        status: 'Succeeded',
        operationRequestSource: 'Azure',
        errorStatusCode: null,
        errorMessage: null,
      })),
      landingTokens: [...generator.azure.values()].map((s) => ({
        token: s.token,
        subscriptionId: s.id,
      })),
    });
  }
  if (kind.startsWith('gcp.') || step.index === 0) {
    const since = `${SIM_START}T08:00:00Z`;
    running.gcpSimulator.setState({
      providers: gcpBase.providers,
      ackDeadlineMs: gcpBase.ackDeadlineMs,
      accounts: GCP_ACCOUNTS.map((id) => ({
        providerId: GCP_PROVIDER,
        id,
        state: 'ACCOUNT_ACTIVE',
        approvals: [{ name: 'signup', state: 'APPROVED', updateTime: since }],
        createTime: since,
        updateTime: since,
      })),
      entitlements: [...generator.gcp.values()].map((e) => ({
        providerId: GCP_PROVIDER,
        id: e.id,
        accountId: e.accountId,
        product: GCP_PRODUCT,
        productExternalName: GCP_PRODUCT,
        plan: e.plan,
        state: e.status === 'ACTIVE' ? 'ENTITLEMENT_ACTIVE' : 'ENTITLEMENT_CANCELLED',
        usageReportingId: `project_number:${e.id}`,
        offerDuration: 'P1M',
        offerEndTime: `${e.offerEnd}T00:00:00Z`,
        ...(e.endedOn ? { subscriptionEndTime: `${e.endedOn}T00:00:00Z` } : {}),
        ...(e.status === 'EXPIRED' ? { cancellationReason: 'expired' } : {}),
        ...(e.status === 'CANCELLED' ? { cancellationReason: 'buyer cancelled' } : {}),
        orderId: e.id,
        createTime: e.createTime,
        updateTime: e.updateTime,
      })),
    });
  }
}

/** The trace hash of a seed's history, from the generator alone (no stack needed). */
export function historyHash(
  seed: number,
  events: number,
  faults = true,
  exposeKnownBugs = false,
): string {
  const generator = new Generator(new Prng(seed), { seed, faults, exposeKnownBugs });
  const trace = createHash('sha256');
  for (let i = 0; i <= events; i += 1) {
    trace.update(traceLine(i < events ? generator.next() : generator.drainLate()));
    trace.update('\n');
  }
  return trace.digest('hex').slice(0, 16);
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const started = Date.now();
  const faults = options.faults ?? true;
  const prng = new Prng(options.seed);
  const generator = new Generator(prng, {
    seed: options.seed,
    faults,
    emptyAgreementReads: options.emptyAgreementReads ?? true,
    exposeKnownBugs: options.exposeKnownBugs ?? false,
  });
  const contractIdOf = (spec: AgreementSpec) => contractIdFor('aws', `license/${spec.licenseId}`);
  const auditor = new Auditor(contractIdOf, AWS_RENEWAL_FEE);
  const commission = new CommissionModel(!(options.exposeKnownBugs ?? false));
  const trace = createHash('sha256');
  const stats: Record<string, number> = {};
  const count = (key: string, by = 1) => {
    stats[key] = (stats[key] ?? 0) + by;
  };
  const log = options.verbose ?? (() => {});

  const dataDir = mkdtempSync(join(tmpdir(), 'agora-sim-'));
  let now = `${generator.date}T12:00:00.000Z`;
  const clock = { now: () => now };
  let stack: LocalStack | null = null;
  let meterSimulator: AwsSimulator | null = null;
  let stepIndex = -1;
  let failure: SimulationFailure | null = null;
  let finalHash = '';
  try {
    stack = await startLocalStack({
      port: 0,
      dataDir,
      ...(options.dynamodbEndpoint ? { dynamodbEndpoint: options.dynamodbEndpoint } : {}),
      tableName: `agora-sim-${options.seed}-${started}`,
      logLevel: 'ERROR',
      syncRetryBaseMs: 2,
      // Background sweeps read the wall clock: the simulation runs every job itself.
      webhookSweepMs: 2_000_000_000,
      awsSimulatorState: { agreements: [], entitlements: [], registrations: [] },
    });
    const running = stack;
    configureContainer({ queue: running.queue, clock });
    const container: Container = getContainer();
    // The stack's simulators read the wall clock, and AWS refuses usage more than 6 h old: the
    // service's BatchMeterUsage calls go to a second AWS simulator on the simulated clock (the
    // real gateway, pointed at it), which holds the same agreements.
    meterSimulator = await startAwsSimulator({
      now: () => new Date(clock.now()),
      state: { agreements: [], entitlements: [], registrations: [] },
    });
    const meter = meterSimulator;
    (container.meteringGateways as { aws?: unknown }).aws = new AwsMeteringGateway({
      ...container.awsSettings,
      endpoint: meter.url,
    });
    const azureBase = running.azureSimulator.state();
    const gcpBase = running.gcpSimulator.state();
    const dynamo = new DynamoFaults(
      (container.store as unknown as { client: DynamoDBClient }).client,
    );
    installBug(container, options.injectBug ?? null, stats);
    const keys = await ensureDevKeys(dataDir);
    const token = (
      await mintDevToken(keys, {
        roles: ['finance'],
        nowSeconds: Math.floor(Date.now() / 1000),
        ttlSeconds: 3600,
      })
    ).token;

    const rawIds = new Map<string, string>();
    const poisonRaw: string[] = [];
    const versions = new Map<string, number>();
    const refundsSeen = new Set<string>();

    const readView = async (contractId: string): Promise<StoredContractView | null> => {
      const snapshot = await container.contracts.get(contractId);
      if (!snapshot) return null;
      const events: StoredContractView['events'][number][] = [];
      let cursor: string | undefined;
      do {
        const page = await container.contracts.events(contractId, { limit: 200, cursor });
        for (const e of page.items)
          events.push({
            type: e.event.type,
            eventId: e.event.eventId,
            version: e.version,
            payload: e.event.payload,
          });
        cursor = page.cursor ?? undefined;
      } while (cursor);
      const entries: JournalEntry[] = [];
      cursor = undefined;
      do {
        const page = await container.ledger.entries(contractId, { limit: 200, cursor });
        entries.push(...page.items);
        cursor = page.cursor ?? undefined;
      } while (cursor);
      return {
        status: snapshot.status,
        version: snapshot.version,
        plan: snapshot.terms.plan,
        quantity: snapshot.terms.quantity,
        replacesContractId: snapshot.replacesContractId ?? null,
        termStart: snapshot.terms.term.start,
        termEnd: snapshot.terms.term.end,
        events,
        entries: entries as unknown as StoredEntry[],
      };
    };

    const hashOf = async (agreementId: string): Promise<string> => {
      const id = auditor.contractIdFor(agreementId);
      const view = id ? await readView(id) : null;
      return stateHash(view ? [view] : []);
    };

    const sellerToken = (
      await mintDevToken(keys, {
        roles: ['seller'],
        nowSeconds: Math.floor(Date.now() / 1000),
        ttlSeconds: 3600,
      })
    ).token;

    /** One delivery attempt through the notification's real inlet. */
    const send = async (n: Notification): Promise<Response> => {
      switch (n.channel) {
        case 'eventbridge':
          return fetch(`${running.url}/local/aws/eventbridge`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(n.body),
          });
        case 'azure-webhook':
          return fetch(`${running.url}/v1/webhooks/azure`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${await running.azureSimulator.mintWebhookToken()}`,
            },
            body: JSON.stringify(n.body),
          });
        case 'azure-landing':
          return fetch(
            `${running.url}/v1/marketplace/azure/landing?token=${encodeURIComponent(String(n.body.token))}`,
          );
        case 'azure-activate':
          return fetch(
            `${running.url}/v1/marketplace/azure/subscriptions/${String(n.body.subscriptionId)}/activate`,
            {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${sellerToken}`,
              },
              body: JSON.stringify({ planId: n.body.planId, quantity: n.body.quantity }),
            },
          );
        case 'gcp-push':
          return fetch(`${running.url}/v1/webhooks/gcp`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${await running.gcpSimulator.mintPushToken()}`,
            },
            body: JSON.stringify(n.body),
          });
      }
    };

    /** Delivers one notification the way its marketplace does: retried until acknowledged. */
    const deliver = async (n: Notification): Promise<void> => {
      for (let attempt = 1; ; attempt += 1) {
        const response = await send(n);
        const text = await response.text();
        if (response.status >= 200 && response.status < 300) {
          const body = JSON.parse(text) as { rawId?: string; results?: { rawId: string }[] };
          const rawId = body.rawId ?? body.results?.[0]?.rawId;
          if (rawId) rawIds.set(n.id, rawId);
          if (n.poison && rawId) poisonRaw.push(rawId);
          return;
        }
        count('ingest-retries');
        if (attempt >= RETRIES_MAX)
          throw new StepFailure(
            `notification ${n.id} (${n.channel}) refused ${RETRIES_MAX} times: ${response.status} ${text}`,
          );
      }
    };

    const compareAll = async (agreementIds: Iterable<string>): Promise<void> => {
      const problems: string[] = [];
      const views: StoredContractView[] = [];
      for (const agreementId of agreementIds) {
        const contractId = auditor.contractIdFor(agreementId);
        if (!contractId) continue;
        const view = await readView(contractId);
        const differences = auditor.compare(agreementId, view);
        problems.push(...differences);
        if (differences.length > 0 && view) log(`stored ${contractId}: ${describeView(view)}`);
        if (view) {
          views.push(view);
          problems.push(...checkContractEvents(contractId, view));
          const before = versions.get(contractId) ?? 0;
          if (view.version < before)
            problems.push(
              `contract ${contractId} version went back from ${before} to ${view.version}`,
            );
          versions.set(contractId, view.version);
        }
      }
      problems.push(...checkEntries(views.flatMap((v) => v.entries)));
      if (problems.length > 0) throw new StepFailure(problems.join('; '));
    };

    const adminToken = (
      await mintDevToken(keys, {
        roles: ['admin'],
        nowSeconds: Math.floor(Date.now() / 1000),
        ttlSeconds: 3600,
      })
    ).token;
    /** A finance or seller call through the HTTP API, retried like a client (same key). */
    const api = async (path: string, body: unknown, key: string, what: string): Promise<void> => {
      for (let attempt = 1; ; attempt += 1) {
        const response = await fetch(`${running.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${adminToken}`,
            'idempotency-key': key,
          },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        if (response.status < 300) return;
        const locked = response.status === 409 && text.includes('idempotency_request_in_progress');
        if (locked) now = `${generator.date}T12:${String(5 * attempt).padStart(2, '0')}:00.000Z`;
        if ((response.status < 500 && !locked) || attempt >= RETRIES_MAX)
          throw new StepFailure(`${what} refused: ${response.status} ${text}`);
        count('api-retries');
      }
    };
    // The seller's partner program: two partners and one flat plan (10 % of recognized revenue,
    // payable at once), in place before the history starts.
    for (const partnerId of PARTNERS)
      await api(
        '/v1/partners',
        {
          partnerId,
          legalName: `Partner ${partnerId}`,
          type: 'referral',
          tier: 'Gold',
          tierEffectiveFrom: '2025-01-01',
          payoutCurrency: 'USD',
        },
        `partner-${partnerId}`,
        `partner ${partnerId}`,
      );
    await api(
      '/v1/commission-plans',
      {
        planId: COMMISSION_PLAN_ID,
        version: 1,
        effectiveFrom: '2025-01-01',
        currency: 'USD',
        basis: 'recognized',
        rateTable: [{ tier: 'Gold', dealType: 'sourced', rateBps: Number(FLAT_RATE_BPS) }],
        hold: { payWhen: 'immediately' },
      },
      'plan-flat',
      'commission plan',
    );

    // Each partner registers deals with its own token (scoped to its partner id).
    const partnerTokens = new Map<string, string>();
    for (const partnerId of PARTNERS)
      partnerTokens.set(
        partnerId,
        (
          await mintDevToken(keys, {
            roles: ['partner'],
            partnerId,
            nowSeconds: Math.floor(Date.now() / 1000),
            ttlSeconds: 3600,
          })
        ).token,
      );
    /** Buyer → the id of its approved registration. */
    const registrationIds = new Map<string, string>();
    /** Registered buyers' agreements whose attribution was checked. */
    const attributionChecked = new Set<string>();

    /** POST through the HTTP API with a token, retried like a client (same key): the answer. */
    const post = async (
      path: string,
      body: unknown,
      bearer: string,
      key: string,
      what: string,
    ): Promise<{ status: number; attempts: number; json: unknown }> => {
      for (let attempt = 1; ; attempt += 1) {
        const response = await fetch(`${running.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${bearer}`,
            'idempotency-key': key,
          },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        if (response.status < 300)
          return { status: response.status, attempts: attempt, json: JSON.parse(text) };
        const locked = response.status === 409 && text.includes('idempotency_request_in_progress');
        if (locked) now = `${generator.date}T12:${String(5 * attempt).padStart(2, '0')}:00.000Z`;
        if ((response.status < 500 && !locked) || attempt >= RETRIES_MAX)
          throw new StepFailure(`${what} refused: ${response.status} ${text}`);
        count('api-retries');
      }
    };
    const getJson = async (path: string, bearer: string): Promise<unknown> => {
      const response = await fetch(`${running.url}${path}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new StepFailure(`GET ${path} answered ${response.status}: ${text}`);
      return JSON.parse(text);
    };

    /**
     * A partner registers a deal before it exists: the rules answer at once (approved, or
     * rejected for the other partner's registration still in its window), the same deal
     * submitted again is the same registration, and an approved one is the partner's sourced
     * touch valid until its expiry.
     */
    const registerDeal = async (
      action: Extract<Step['action'], { kind: 'registration' }>,
      date: string,
    ): Promise<void> => {
      const bearer = partnerTokens.get(action.partnerId) ?? '';
      const body = {
        partnerId: action.partnerId,
        customer: {
          name: `Sim buyer ${action.buyer}`,
          marketplace: 'aws',
          accountId: action.buyer,
        },
        productId: AWS_PRODUCT_ID,
        expectedValue: { amountMinor: action.expectedValueMinor.toString(), currency: 'USD' },
        ...(action.expiresOn !== null ? { expiresOn: action.expiresOn } : {}),
        externalRef: `crm-${action.buyer}`,
      };
      const key = `reg-${action.partnerId}-${action.buyer}`;
      const what = `registration of ${action.buyer} by ${action.partnerId}`;
      const answer = await post('/v1/deal-registrations', body, bearer, key, what);
      const view = answer.json as RegistrationAnswer;
      const problems: string[] = [];
      // 201 when made; a retry after a crash finds the registration the first attempt made.
      if (answer.status !== 201 && !(answer.attempts > 1 && answer.status === 200))
        problems.push(`answered ${answer.status}, expected 201`);
      if (view.partnerId !== action.partnerId || view.productId !== AWS_PRODUCT_ID)
        problems.push(`is for ${view.partnerId} / ${view.productId}`);
      const expiresOn = registrationExpiry(date, action.expiresOn);
      if (view.expiresOn !== expiresOn)
        problems.push(`expires on ${view.expiresOn}, expected ${expiresOn}`);
      if (action.expect === 'approved') {
        if (view.status !== 'approved' || view.effectiveStatus !== 'approved')
          problems.push(`is ${view.status}/${view.effectiveStatus}, expected approved`);
        if (view.conflicts.length > 0)
          problems.push(`has conflicts ${JSON.stringify(view.conflicts)}, expected none`);
        registrationIds.set(action.buyer, view.registrationId);
      } else {
        const holder = registrationIds.get(action.buyer);
        const codes = view.conflicts.map((c) => `${c.code}:${c.ref ?? ''}`);
        if (view.status !== 'rejected')
          problems.push(`is ${view.status}, expected rejected (registration_conflict)`);
        if (codes.length !== 1 || codes[0] !== `registration_conflict:${holder ?? '?'}`)
          problems.push(`conflicts ${codes.join(', ')}, expected registration_conflict:${holder}`);
      }
      if (action.resend) {
        // The partner submits the same deal again (another request): the same registration.
        const again = await post('/v1/deal-registrations', body, bearer, `${key}-again`, what);
        const second = again.json as RegistrationAnswer;
        if (again.status !== 200 || second.registrationId !== view.registrationId)
          problems.push(
            `submitted again: ${again.status} ${second.registrationId}, expected 200 ${view.registrationId}`,
          );
        count('registration-resends');
      }
      // Its touch (only an approved registration has one), as the partner sees its touches.
      let touch: RegistrationTouch | undefined;
      let cursor: string | null = null;
      do {
        const page = (await getJson(
          `/v1/partners/${action.partnerId}/touches?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          bearer,
        )) as { items: RegistrationTouch[]; cursor: string | null };
        touch ??= page.items.find((t) => t.sourceRef === view.registrationId);
        cursor = page.cursor;
      } while (cursor && !touch);
      if (action.expect === 'approved') {
        if (
          touch?.source !== 'deal-registration' ||
          touch.role !== 'sourced' ||
          touch.validUntil !== expiresOn
        )
          problems.push(
            `touch ${JSON.stringify(touch ?? null)}, expected a sourced deal-registration touch valid until ${expiresOn}`,
          );
      } else if (touch) problems.push(`a rejected registration recorded touch ${touch.touchId}`);
      if (problems.length > 0)
        throw new StepFailure(`${what} (${view.registrationId}): ${problems.join('; ')}`);
      count(action.expect === 'approved' ? 'registrations-approved' : 'registrations-conflicted');
    };

    /**
     * A registered buyer's contract, once stored: attributed when created, to the registering
     * partner alone when it closed inside the registration's expiry (then the commission model
     * expects that partner's commission on it), to nobody otherwise.
     */
    const checkRegisteredAttribution = async (step: Step): Promise<void> => {
      for (const a of generator.agreements.values()) {
        const registration = generator.registrations.get(a.spec.buyer);
        if (!registration || attributionChecked.has(a.spec.agreementId)) continue;
        const contractId = auditor.contractIdFor(a.spec.agreementId);
        if (!contractId || !(await container.contracts.get(contractId))) continue;
        attributionChecked.add(a.spec.agreementId);
        const partnerId = expectedSource(
          registration,
          a.spec.start,
          // README: a registration counts only when submitted before the acceptance.
          false,
        );
        const registrationId = registrationIds.get(a.spec.buyer) ?? '?';
        const what = `contract ${contractId} (agreement ${a.spec.agreementId} of registered buyer ${a.spec.buyer}, ${registration.partnerId} ${registration.on}..${registration.expiresOn}, start ${a.spec.start})`;
        // Computed when the contract was created (best effort: a fault may defer it to the
        // next trigger, which the GET below is).
        const stored = await container.attribution.latest(contractId);
        if (partnerId !== null && stored === null) {
          if (step.fault.kind === 'none')
            throw new StepFailure(`${what}: no attribution after its creation`);
          count('registration-attributions-deferred');
        }
        const explained = (await getJson(
          `/v1/contracts/${contractId}/attribution`,
          adminToken,
        )) as AttributionAnswer;
        const version = explained.attribution;
        if (partnerId === null) {
          if (
            version !== null &&
            (version.shares.length > 0 || version.dealCredit !== 'unattributed')
          )
            throw new StepFailure(
              `${what}: attributed ${JSON.stringify(version.shares)} (${version.dealCredit}), expected nobody`,
            );
          count('registered-contracts-unsourced');
          continue;
        }
        const problems: string[] = [];
        if (version === null) problems.push('no attribution');
        else {
          if (version.dealCredit !== 'sourced')
            problems.push(`deal credit ${version.dealCredit}, expected sourced`);
          if (version.shares.length !== 1 || version.shares[0]?.partnerId !== partnerId)
            problems.push(`shares ${JSON.stringify(version.shares)}, expected ${partnerId} alone`);
          if (
            !version.credits.some((c) => c.partnerId === partnerId && c.flags.includes('sourced'))
          )
            problems.push(
              `credits ${JSON.stringify(version.credits)}, expected ${partnerId} sourced`,
            );
          const touches = version.touches.map((t) => `${t.source}:${t.sourceRef}:${t.partnerId}`);
          if (
            touches.length !== 1 ||
            touches[0] !== `deal-registration:${registrationId}:${partnerId}`
          )
            problems.push(
              `touches ${touches.join(', ')}, expected the registration ${registrationId}`,
            );
        }
        const split = explained.split.shares;
        if (
          split.length !== 1 ||
          split[0]?.partnerId !== partnerId ||
          split[0].amountMinor !== explained.split.totalMinor
        )
          problems.push(
            `split ${JSON.stringify(split)}, expected all ${explained.split.totalMinor} to ${partnerId}`,
          );
        if (problems.length > 0) throw new StepFailure(`${what}: ${problems.join('; ')}`);
        // Sourced from its creation: every month of its revenue earns the partner commission.
        commission.touched(contractId, partnerId, 0n);
        count('registered-contracts-sourced');
      }
    };

    /** Every commission entry so far, checked against the flat plan and the ledger identity. */
    const checkCommission = async (): Promise<void> => {
      const started = Date.now();
      try {
        await checkCommissionOnce();
      } finally {
        count('ms:check-commission', Date.now() - started);
      }
    };
    const checkCommissionOnce = async (): Promise<void> => {
      const through = commission.lastRun;
      if (through === null) return;
      const entries: JournalEntry[] = [];
      for (let period = periodOfDate(SIM_START); period <= periodOfDate(now); ) {
        let cursor: string | undefined;
        do {
          const page = await container.ledger.entriesOfPeriod(period as never, {
            limit: 500,
            cursor,
          });
          entries.push(...page.items);
          cursor = page.cursor ?? undefined;
        } while (cursor);
        period = periodEndExclusive(period).slice(0, 7);
      }
      const problems = commission.compare(entries as unknown as CommissionEntry[], through);
      count('commission-checks');
      for (const problem of problems) {
        const contractId = /contract (ct_[0-9a-f]+)/.exec(problem)?.[1];
        if (!contractId) continue;
        // --verbose: the contract's revenue and commission legs by posting period.
        for (const entry of entries)
          for (const leg of entry.legs)
            if (
              leg.contractId === contractId &&
              ['4000', '4100', '6100', '4900'].includes(leg.account)
            )
              log(
                `${entry.postingPeriod} ${entry.rule} ${leg.account} ${leg.partnerId ?? ''} ${leg.debitMinor - leg.creditMinor}`,
              );
      }
      if (problems.length > 0) throw new StepFailure(problems.join('; '));
    };

    const runJob = async (name: string, job: () => Promise<{ problems: unknown[] }>) => {
      const started = Date.now();
      try {
        await runJobOnce(name, job);
      } finally {
        count(`ms:job:${name}`, Date.now() - started);
      }
    };
    const runJobOnce = async (name: string, job: () => Promise<{ problems: unknown[] }>) => {
      for (let attempt = 1; ; attempt += 1) {
        let problems: unknown[];
        try {
          problems = (await job()).problems;
        } catch (error) {
          problems = [String(error)];
        }
        await running.settle();
        if (problems.length === 0) return;
        dynamo.disarm();
        count(`${name}-reruns`);
        if (attempt >= RETRIES_MAX)
          throw new StepFailure(`${name} still has problems: ${JSON.stringify(problems)}`);
      }
    };

    const financeToken = token;
    /** Metered usage: POST /v1/usage (retried, resent), then the hourly flush until reported. */
    const meterUsage = async (action: Extract<Step['action'], { kind: 'usage' }>) => {
      const contractId = auditor.contractIdFor(action.agreementId);
      if (!contractId) throw new StepFailure(`usage for unknown agreement ${action.agreementId}`);
      const hourMs = Date.parse(action.hour);
      const records = action.records.map((r) => ({
        recordId: r.recordId,
        contractId,
        dimension: USAGE_DIMENSION,
        quantity: String(r.quantity),
        usageTime: new Date(hourMs + r.minute * 60_000).toISOString(),
      }));
      const postOnce = async (
        batch: readonly (typeof records)[number][],
        expected: readonly string[],
      ): Promise<void> => {
        for (let attempt = 1; ; attempt += 1) {
          now = new Date(hourMs + (50 + attempt) * 60_000).toISOString();
          const response = await fetch(`${running.url}/v1/usage`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${sellerToken}` },
            body: JSON.stringify({ records: batch }),
          });
          const text = await response.text();
          if (response.status >= 500 && attempt < RETRIES_MAX) {
            count('usage-retries');
            continue;
          }
          if (response.status !== 200)
            throw new StepFailure(`POST /v1/usage answered ${response.status}: ${text}`);
          const results = (
            JSON.parse(text) as { results: { recordId: string; status: string; code?: string }[] }
          ).results;
          // A retry after a crash may find some records already counted: duplicate, a no-op.
          const allowed = attempt === 1 ? expected : ['accepted', 'duplicate'];
          const wrong = results.filter((r) => !allowed.includes(r.status));
          if (wrong.length > 0 || results.length !== batch.length)
            throw new StepFailure(
              `usage of ${action.agreementId}: ${JSON.stringify(wrong.length > 0 ? wrong : results)}, expected ${allowed.join(' or ')}`,
            );
          return;
        }
      };
      await postOnce(records, ['accepted']);
      // The client sends the same batch again: each record is a duplicate, counted once.
      const resent = records;
      if (action.resend && resent.length > 0) {
        count('usage-resends');
        await postOnce(resent, ['duplicate']);
      }
      const total = action.records.reduce((sum, r) => sum + r.quantity, 0);
      auditor.usagePosted(action.agreementId, action.hour, BigInt(total));
      // The hourly flush at :10 after the hour sealed; a crash mid-flush leaves the hour claimed
      // until the lease (15 min) runs out, and the next hourly run re-sends the same report.
      for (let attempt = 1; ; attempt += 1) {
        now = new Date(hourMs + (50 + 20 * attempt) * 60_000).toISOString();
        try {
          const summary = await flushUsage(container, { now, random: () => 0.5 });
          log(`usage flush at ${now}: ${JSON.stringify(summary)}`);
        } catch (error) {
          log(`usage flush failed: ${String(error)}`);
        }
        await running.settle();
        dynamo.disarm();
        meter.clearFaults();
        const answer = await fetch(
          `${running.url}/v1/usage?contractId=${contractId}&from=${encodeURIComponent(action.hour)}&to=${encodeURIComponent(new Date(hourMs + 3_600_000).toISOString())}`,
          { headers: { authorization: `Bearer ${financeToken}` } },
        );
        const lines =
          ((await answer.json()) as { items?: { status: string; eventRecorded?: boolean }[] })
            .items ?? [];
        // Reported, and its UsageRecorded event appended (a crash between the two leaves the
        // line due: the next flush appends it).
        if (
          lines.length === 1 &&
          lines[0]?.status === 'accepted' &&
          lines[0].eventRecorded !== false
        )
          break;
        count('usage-flush-reruns');
        if (attempt >= RETRIES_MAX)
          throw new StepFailure(
            `usage hour ${action.hour} of ${action.agreementId} not reported after ${attempt} flushes: ${JSON.stringify(lines)}`,
          );
      }
      // Exactly once at the marketplace: every (license, dimension, hour) it holds, as posted.
      const held = new Map<string, bigint>();
      for (const r of meter.meteredRecords()) {
        const key = `${r.licenseArn ?? r.customerIdentifier ?? '?'}|${r.dimension}|${r.timestamp}`;
        if (held.has(key)) throw new StepFailure(`usage ${key} reached the marketplace twice`);
        held.set(key, BigInt(r.quantity));
      }
      const problems = auditor.compareMetered(held);
      if (problems.length > 0) throw new StepFailure(problems.join('; '));
      count('usage-hours-reported');
    };

    const total = options.events;
    for (let i = 0; i <= total; i += 1) {
      const step = i < total ? generator.next() : generator.drainLate();
      stepIndex = step.index;
      trace.update(traceLine(step));
      trace.update('\n');
      count(`action:${step.action.kind}`);
      if (step.fault.kind !== 'none') count(`fault:${step.fault.kind}`);
      now = `${step.date}T12:00:00.000Z`;
      log(`step ${step.index} ${step.date} ${step.action.kind} fault=${step.fault.kind}`);
      const touched = new Set<string>();
      const stepStarted = Date.now();

      // The marketplace's own state changes first; notifications only point at it.
      const action = step.action;
      if (
        action.kind === 'aws.create' ||
        action.kind === 'aws.renew' ||
        action.kind === 'aws.replace'
      )
        auditor.agreementCreated(action.agreement);
      if (action.kind === 'azure.purchase' || action.kind === 'gcp.create') {
        const id = action.kind === 'azure.purchase' ? action.subscriptionId : action.entitlementId;
        const truth = generator.truthOf(id);
        if (truth)
          auditor.subjectCreated(
            id,
            action.kind === 'azure.purchase' ? 'azure' : 'gcp',
            action.kind === 'azure.purchase'
              ? contractIdFor('azure', azureExternalId(id))
              : contractIdFor('gcp', gcpExternalId(id)),
            truth,
          );
      }
      syncSimulators(running, meter, generator, azureBase, gcpBase, step);

      if (step.fault.kind === 'marketplace') {
        const f = step.fault;
        if (f.marketplace === 'aws' && action.kind === 'usage')
          meter.injectFault({ operation: '*', kind: f.fault, times: f.times });
        else if (f.marketplace === 'aws')
          running.awsSimulator.injectFault({
            operation: f.operation,
            kind: f.fault,
            times: f.times,
          });
        else if (f.marketplace === 'azure' && f.fault !== 'empty')
          running.azureSimulator.injectFault({ target: '*', kind: f.fault, times: f.times });
        else if (f.marketplace === 'gcp' && f.fault !== 'empty')
          running.gcpSimulator.injectFault({ target: '*', kind: f.fault, times: f.times });
      } else dynamo.arm(step.fault);

      try {
        for (const n of step.deliveries) {
          const duplicate = step.deliveries.indexOf(n) !== step.deliveries.lastIndexOf(n);
          const second = duplicate && rawIds.has(n.id);
          const before = second && n.agreementId ? await hashOf(n.agreementId) : null;
          await deliver(n);
          // Settled at once only when the duplicate check needs the state; otherwise the queue
          // works the step's messages concurrently (groups in parallel), as SQS would.
          if (duplicate) await running.settle();
          if (n.agreementId) {
            touched.add(n.agreementId);
            const truth = generator.truthOf(n.agreementId);
            if (truth) auditor.synced(n.agreementId, truth);
            const refund = n.body.detail as
              | { billingAdjustmentRequest?: { id: string } }
              | undefined;
            if (refund?.billingAdjustmentRequest && action.kind === 'aws.refund') {
              auditor.refunded(n.agreementId, action.adjustmentId, action.amountMinor);
              refundsSeen.add(action.adjustmentId);
            }
          }
          if (before !== null && n.agreementId) {
            await running.settle();
            count('duplicates-checked');
            const after = await hashOf(n.agreementId);
            if (after !== before)
              throw new StepFailure(`redelivery of ${n.id} changed the state of ${n.agreementId}`);
          }
        }
        if (action.kind === 'disburse') {
          const contractId = auditor.contractIdFor(action.agreementId);
          for (let attempt = 1; ; attempt += 1) {
            const response = await fetch(`${running.url}/v1/disbursements`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${token}`,
                'idempotency-key': action.disbursementId,
              },
              body: JSON.stringify({
                contractId,
                disbursementId: action.disbursementId,
                date: step.date,
                currency: 'USD',
                amountMinor: action.amountMinor.toString(),
              }),
            });
            const text = await response.text();
            if (response.status < 300) break;
            // A crash right after the key was claimed leaves it locked: the client waits out the
            // lock (120 s) and retries with the same key.
            const locked =
              response.status === 409 && text.includes('idempotency_request_in_progress');
            if (locked) now = `${step.date}T12:${String(5 * attempt).padStart(2, '0')}:00.000Z`;
            if ((response.status < 500 && !locked) || attempt >= RETRIES_MAX)
              throw new StepFailure(
                `disbursement ${action.disbursementId} of ${action.amountMinor} refused: ${response.status} ${text}`,
              );
            count('api-retries');
          }
          await running.settle();
          auditor.disbursed(action.agreementId, action.disbursementId, action.amountMinor);
          touched.add(action.agreementId);
        }
        if (action.kind === 'touch') {
          const contractId = auditor.contractIdFor(action.agreementId);
          if (contractId) {
            await api(
              '/v1/touches',
              {
                partnerId: action.partnerId,
                role: 'sourced',
                at: action.at,
                source: 'activity',
                sourceRef: `sim-${action.agreementId}`,
                contractId,
              },
              `touch-${action.agreementId}`,
              `touch on ${action.agreementId}`,
            );
            await running.settle();
            // Months the run already closed stay as they were paid (unless the known-bug mode
            // expects the documented catch-up on the cumulative basis).
            let closedBefore = 0n;
            if (!options.exposeKnownBugs) {
              const entries: JournalEntry[] = [];
              let cursor: string | undefined;
              do {
                const page = await container.ledger.entries(contractId, { limit: 200, cursor });
                entries.push(...page.items);
                cursor = page.cursor ?? undefined;
              } while (cursor);
              closedBefore = CommissionModel.recognizedThrough(
                entries as unknown as CommissionEntry[],
                commission.lastRun,
              );
            }
            commission.touched(contractId, action.partnerId, closedBefore);
          }
        }
        if (action.kind === 'registration') {
          await registerDeal(action, step.date);
          await running.settle();
        }
        if (action.kind === 'usage') {
          await meterUsage(action);
          touched.add(action.agreementId);
        }
        if (action.kind === 'advance') {
          const from = addDays(step.date, -action.days);
          // Month starts close the month (recognition, then commission) and flush metering.
          for (let d = 1; d <= action.days; d += 1) {
            const day = addDays(from, d);
            now = `${day}T12:00:00.000Z`;
            if (day.endsWith('-01')) {
              const period = previousPeriodOf(periodOfDate(day));
              await runJob('recognition', () => runRecognition(container, period));
              auditor.recognitionRan(period);
              for (const id of generator.agreements.keys()) touched.add(id);
              // Commission for the month just ended, after its revenue (the run reads the ledger).
              await runJob('commission', () => runCommission(container, { period }));
              commission.ran(period);
              count('commission-runs');
              await checkCommission();
            }
            // The daily run posts only what is due, so the days in between are skipped: it runs
            // when the model expects an invoice, at the end of the advance or before a month
            // closes (a run that missed days catches up: invoices keep their own dates), and
            // now and then on an idle day to show it posts nothing there.
            const lastDay = d === action.days || addDays(day, 1).endsWith('-01');
            const idleProbe = d === action.days && step.index % 5 === 0;
            if ((lastDay && auditor.billingDue(day)) || idleProbe) {
              await runJob('billing', () => runBilling(container, day));
              auditor.billingRan(day);
              count('billing-runs');
            } else count('billing-days-skipped');
            if (day.endsWith('-01'))
              await runJob('usage-flush', async () => {
                await flushUsage(container, { now });
                return { problems: [] };
              });
          }
          for (const a of generator.agreements.values())
            if (a.spec.installments.some((inst) => inst.date > from && inst.date <= step.date))
              touched.add(a.spec.agreementId);
        }
      } finally {
        dynamo.disarm();
        running.awsSimulator.clearFaults();
        meter.clearFaults();
        running.azureSimulator.clearFaults();
        running.gcpSimulator.clearFaults();
      }
      await running.settle();
      await checkRegisteredAttribution(step);

      // Invariant 6: every delivered payload is stored; poison is dead-lettered with its raw.
      for (const n of step.deliveries) {
        const rawId = rawIds.get(n.id);
        if (!rawId || !(await container.rawInbound.get(rawId)))
          throw new StepFailure(`notification ${n.id} was acknowledged but its raw is not stored`);
      }
      for (const rawId of poisonRaw) {
        const failed = await container.failures.get(rawId);
        if (failed?.status !== 'dead-lettered')
          throw new StepFailure(
            `poison message ${rawId} is not dead-lettered (${failed?.status ?? 'no failure record'})`,
          );
      }
      const checkStarted = Date.now();
      const fullCheck =
        i === total || step.index % (options.fullCheckEvery ?? 20) === 0 || failure !== null;
      await compareAll(fullCheck ? auditor.contracts.keys() : touched);
      count('ms:check', Date.now() - checkStarted);
      count(`ms:${step.action.kind}`, checkStarted - stepStarted);
      options.progress?.(step.index + 1, total + 1);
    }
    await checkCommission();
    stats.commissionMaxRoundingGap = commission.maxGap;
    stats.commissionContracts = commission.paidContracts;
    const views: StoredContractView[] = [];
    for (const agreementId of auditor.contracts.keys()) {
      const id = auditor.contractIdFor(agreementId);
      const view = id ? await readView(id) : null;
      if (view) views.push(view);
    }
    finalHash = stateHash(views);
    stats.dynamoFaultsFired = dynamo.fired;
    stats.contracts = views.length;
    stats.journalEntries = views.reduce((s, v) => s + v.entries.length, 0);
    stats.deliveries = rawIds.size;
  } catch (error) {
    const message =
      error instanceof StepFailure
        ? error.message
        : `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    failure = { step: stepIndex, message };
  } finally {
    await stack?.stop();
    await meterSimulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return {
    seed: options.seed,
    events: options.events,
    steps: stepIndex + 1,
    traceHash: trace.digest('hex').slice(0, 16),
    stateHash: finalHash,
    failure,
    stats,
    elapsedMs: Date.now() - started,
  };
}

/**
 * Bugs the harness can inject by wrapping a port (production code is untouched), to prove the
 * auditor catches them:
 * - drop-rounding-unit: one recognition entry moves one minor unit from revenue (4000) back to
 *   deferred revenue (2400). Still balanced, so only the independent model can see it.
 * - lose-refund: the ledger posting of a refund is dropped from the apply transaction.
 */
function installBug(
  container: Container,
  bug: InjectableBug | null,
  stats: Record<string, number>,
): void {
  if (bug === 'drop-rounding-unit') {
    const ledger = container.ledger;
    const post = ledger.post.bind(ledger);
    let done = false;
    ledger.post = async (posting) => {
      if (done) return post(posting);
      const entries = posting.entries.map((entry) => {
        const recognition =
          entry.legs.some((l) => l.account === '4000' && l.creditMinor > 1n) &&
          entry.legs.some((l) => l.account === '2400' && l.debitMinor > 1n);
        if (done || !recognition) return entry;
        done = true;
        stats.bugsInjected = (stats.bugsInjected ?? 0) + 1;
        let revenueDone = false;
        let deferredDone = false;
        return {
          ...entry,
          legs: entry.legs.map((leg) => {
            if (!revenueDone && leg.account === '4000' && leg.creditMinor > 1n) {
              revenueDone = true;
              return {
                ...leg,
                creditMinor: leg.creditMinor - 1n,
                functionalCreditMinor: leg.functionalCreditMinor - 1n,
              };
            }
            if (!deferredDone && leg.account === '2400' && leg.debitMinor > 1n) {
              deferredDone = true;
              return {
                ...leg,
                debitMinor: leg.debitMinor - 1n,
                functionalDebitMinor: leg.functionalDebitMinor - 1n,
              };
            }
            return leg;
          }),
        };
      });
      return post({ ...posting, entries });
    };
  }
  if (bug === 'lose-refund') {
    const hooks = container.hooks as { name: string; contribute: (c: never) => Promise<unknown> }[];
    for (const hook of hooks) {
      if (hook.name !== 'revenue') continue;
      const contribute = hook.contribute.bind(hook);
      hook.contribute = async (change: never) => {
        const out = (await contribute(change)) as { ledger?: unknown };
        const events = (change as { events?: { type: string }[] }).events ?? [];
        if (events.some((e) => e.type === 'RefundIssued')) {
          stats.bugsInjected = (stats.bugsInjected ?? 0) + 1;
          return { ...out, ledger: null };
        }
        return out;
      };
    }
  }
}
