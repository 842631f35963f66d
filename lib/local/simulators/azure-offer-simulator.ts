/**
 * The private-offer half of the Microsoft marketplace simulator: the Product Ingestion API
 * (`/rp/product-ingestion/…`, Microsoft Graph's resource-provider path) as far as a seller's
 * private offers and a product's listing need it. Mounted by azure-simulator.ts on the same
 * server, and driven in process through `AzureSimulator.offers` or over `/_sim/offers/*`.
 *
 * - `POST /rp/product-ingestion/configure?$version=2022-07-01` takes `{ $schema, resources }` and
 *   starts a job: `{ jobId, jobStatus: 'notStarted', jobResult: 'pending', errors: [] }`. The
 *   resources are validated when the job is created; their effects (a private offer created, a
 *   listing updated, a plan added) are applied all at once when the job completes.
 * - `GET /rp/product-ingestion/configure/{jobId}/status` advances the job one step per read
 *   (`notStarted` → `running` … → `completed`, `stepsToComplete` reads in all) and answers
 *   `{ jobId, jobStatus, jobResult, errors, resourceIds? }`.
 * - `GET /rp/product-ingestion/private-offer/{id}` reads a created private offer;
 *   `GET /rp/product-ingestion/resource-tree/product/{productId}` reads a product with its
 *   listing and plans (the main simulator's offers, plus what `listing`/`plan` jobs changed).
 * - Idempotency: the `Repeatability-Request-ID` header (Azure's REST guideline for repeatable
 *   requests); a repeated id answers the job it first started, whatever the body.
 * - Faults (consumed in the order injected): `server-error` (500) or `throttle` (429) on an
 *   operation, and `job-failed`, which ends the next jobs `failed` with the given error code.
 *
 * unverified: Microsoft publishes the private-offer resource only as prose and examples, and
 * none of the request, resource, status or error shapes here could be checked against the live
 * API. They follow the Learn pages "Private offers submission API overview" and "Product
 * ingestion API" as remembered; every schema below is built against this simulator only.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readBoundedBody } from './sim-http';

// ---------------------------------------------------------------------------------------------
// Names and limits
// ---------------------------------------------------------------------------------------------

/** The `$version` query parameter every Product Ingestion call carries (reference §2.5). */
export const PRODUCT_INGESTION_VERSION = '2022-07-01';
/** Root of the ingestion API on the simulator (and on graph.microsoft.com). */
export const PRODUCT_INGESTION_PATH = '/rp/product-ingestion';
// unverified: the $schema URIs; the simulator tells resources apart by their `/schema/<kind>/`.
export const CONFIGURE_SCHEMA = 'https://schema.mp.microsoft.com/schema/configure/2022-07-01';
export const CONFIGURE_STATUS_SCHEMA =
  'https://schema.mp.microsoft.com/schema/configure-status/2022-07-01';
export const PRIVATE_OFFER_SCHEMA =
  'https://schema.mp.microsoft.com/schema/private-offer/2023-07-15';
export const LISTING_SCHEMA = 'https://schema.mp.microsoft.com/schema/listing/2022-07-01';
export const PLAN_SCHEMA = 'https://schema.mp.microsoft.com/schema/plan/2022-07-01';
export const PRODUCT_SCHEMA = 'https://schema.mp.microsoft.com/schema/product/2022-07-01';
export const RESOURCE_TREE_SCHEMA =
  'https://schema.mp.microsoft.com/schema/resource-tree/2022-07-01';
/** unverified: the idempotency header (Azure REST API guidelines, "repeatable requests"). */
export const REPEATABILITY_HEADER = 'repeatability-request-id';

/** Request bodies above this are refused with 413. */
export const AZURE_OFFER_SIM_BODY_BYTES_MAX = 1024 * 1024;
/** Resources in one configure request. */
export const AZURE_OFFER_SIM_RESOURCES_MAX = 100;
/** Jobs kept; beyond this the oldest completed job is forgotten. */
export const AZURE_OFFER_SIM_JOBS_MAX = 10_000;
/** Private offers kept. */
export const AZURE_OFFER_SIM_PRIVATE_OFFERS_MAX = 10_000;
/** Products in the listing overlay, and plans per product. */
export const AZURE_OFFER_SIM_PRODUCTS_MAX = 1_000;
export const AZURE_OFFER_SIM_PLANS_MAX = 100;
/** The call log keeps the newest entries only. */
export const AZURE_OFFER_SIM_CALLS_MAX = 10_000;
/** Pending faults at once, and calls or jobs one fault may affect. */
export const AZURE_OFFER_SIM_FAULTS_MAX = 100;
export const AZURE_OFFER_SIM_FAULT_TIMES_MAX = 10_000;
/** Status reads until a job completes: the default, and the most a test may ask for. */
export const AZURE_OFFER_STEPS_DEFAULT = 2;
export const AZURE_OFFER_STEPS_MAX = 100;
/** unverified: beneficiaries and pricing lines on one private offer. */
export const AZURE_OFFER_SIM_BENEFICIARIES_MAX = 25;
export const AZURE_OFFER_SIM_PRICING_MAX = 100;
/** unverified: Partner Center's limits on a private offer's name and a listing's texts. */
export const AZURE_OFFER_NAME_CHARS_MAX = 150;
export const AZURE_LISTING_TITLE_CHARS_MAX = 200;
export const AZURE_LISTING_SUMMARY_CHARS_MAX = 100;
export const AZURE_LISTING_DESCRIPTION_CHARS_MAX = 5_000;
/** Any other string the simulator stores. */
const TEXT_CHARS_MAX = 4_096;
/** The repeatability id may be any token; bounded so the index stays small. */
const REQUEST_ID_CHARS_MAX = 128;

export const AZURE_OFFER_OPERATIONS = [
  'Configure',
  'ConfigureStatus',
  'GetPrivateOffer',
  'ResourceTree',
] as const;
export type AzureOfferOperation = (typeof AZURE_OFFER_OPERATIONS)[number];

export const PRIVATE_OFFER_TYPES = ['customerPromotion', 'multipartyPromotionOriginator'] as const;

/** unverified: Microsoft's error codes in a job's `errors`. */
export const JOB_ERROR_CODES = {
  schema: 'schemaValidationError',
  business: 'businessValidationError',
  notFound: 'resourceNotFound',
  internal: 'internalServerError',
} as const;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** unverified: an MCA billing account id, `<guid>:<guid>_<yyyy-mm-dd>`. */
const BILLING_ACCOUNT =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}_\d{4}-\d{2}-\d{2}$/;
/** unverified: a partner's MPN / PartnerOne id. */
const PARTNER_MPN_ID = /^\d{6,10}$/;
/** unverified: Partner Center's rule for offer and plan ids. */
const EXTERNAL_ID = /^[a-z0-9][a-z0-9_-]{0,49}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const AMOUNT = /^\d{1,30}(?:\.\d{1,6})?$/;
const PERCENT = /^\d{1,3}(?:\.\d{1,18})?$/;

// ---------------------------------------------------------------------------------------------
// Wire shapes (unverified, see the header)
// ---------------------------------------------------------------------------------------------

const Text = z.string().max(TEXT_CHARS_MAX);

const EnvelopeSchema = z.looseObject({
  $schema: z.string().max(TEXT_CHARS_MAX).optional(),
  resources: z
    .array(z.looseObject({ $schema: z.string().min(1).max(TEXT_CHARS_MAX) }))
    .min(1)
    .max(AZURE_OFFER_SIM_RESOURCES_MAX),
});

const BillingTermSchema = z.strictObject({
  type: z.enum(['month', 'year']),
  value: z.number().int().min(1).max(60),
});

// unverified: the private-offer resource as this project sends it.
export const AzurePrivateOfferResourceSchema = z.looseObject({
  $schema: z.string(),
  name: z.string().min(1).max(AZURE_OFFER_NAME_CHARS_MAX),
  state: z.literal('live'),
  privateOfferType: z.enum(PRIVATE_OFFER_TYPES),
  variableStartDate: z.boolean(),
  start: z.string().regex(DATE).optional(),
  end: z.string().regex(DATE).optional(),
  acceptBy: z.string().regex(DATE),
  beneficiaries: z
    .array(z.strictObject({ id: z.string().min(1).max(200), description: Text.optional() }))
    .min(1)
    .max(AZURE_OFFER_SIM_BENEFICIARIES_MAX),
  partners: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(200),
        margin: z.discriminatedUnion('type', [
          z.strictObject({ type: z.literal('percentage'), percentage: z.string().regex(PERCENT) }),
          z.strictObject({
            type: z.literal('wholesale'),
            price: z.string().regex(AMOUNT),
            currency: z.string().length(3),
          }),
        ]),
      }),
    )
    .max(1)
    .optional(),
  pricing: z
    .array(
      z.strictObject({
        product: z.string().min(1).max(300),
        plan: z.string().min(1).max(300),
        discountType: z.literal('absolute'),
        priceDetails: z.strictObject({
          billingTerm: BillingTermSchema,
          paymentOption: z.strictObject({ type: z.literal('upfront') }),
          price: z.string().regex(AMOUNT),
          currency: z.string().length(3),
        }),
      }),
    )
    .min(1)
    .max(AZURE_OFFER_SIM_PRICING_MAX),
  termsAndConditionsDocSasUrl: z.string().max(2_048).optional(),
});
export type AzurePrivateOfferResource = z.infer<typeof AzurePrivateOfferResourceSchema>;

// unverified: listing and plan resources, reduced to what a listing editor needs.
const ListingResourceSchema = z.looseObject({
  $schema: z.string(),
  product: z.string().min(1).max(300),
  title: z.string().min(1).max(AZURE_LISTING_TITLE_CHARS_MAX).optional(),
  summary: z.string().max(AZURE_LISTING_SUMMARY_CHARS_MAX).optional(),
  description: z.string().max(AZURE_LISTING_DESCRIPTION_CHARS_MAX).optional(),
});
const PlanResourceSchema = z.looseObject({
  $schema: z.string(),
  product: z.string().min(1).max(300),
  identity: z.strictObject({ externalId: z.string().min(1).max(50) }),
  alias: z.string().min(1).max(200),
});

export interface AzureJobError {
  readonly code: string;
  readonly message: string;
  /** The resource the error is about: `resources[i]` or a created resource id. */
  readonly resourceId?: string;
}

export type AzureJobStatus = 'notStarted' | 'running' | 'completed';
export type AzureJobResult = 'pending' | 'succeeded' | 'failed';

export interface AzureOfferJob {
  readonly jobId: string;
  readonly requestId: string | null;
  readonly createdAt: string;
  readonly jobStatus: AzureJobStatus;
  readonly jobResult: AzureJobResult;
  readonly errors: readonly AzureJobError[];
  /** Ids of what the job created or changed, once it succeeded. */
  readonly resourceIds: readonly string[];
  /** Status reads so far. */
  readonly reads: number;
  readonly resources: readonly unknown[];
}

export interface AzurePrivateOfferRecord {
  /** `private-offer/<guid>`. */
  readonly id: string;
  readonly jobId: string;
  readonly createdAt: string;
  readonly resource: AzurePrivateOfferResource;
}

export const AzureOfferProductSchema = z.strictObject({
  productId: z.string().regex(EXTERNAL_ID),
  listing: z.strictObject({
    title: z.string().min(1).max(AZURE_LISTING_TITLE_CHARS_MAX),
    summary: z.string().max(AZURE_LISTING_SUMMARY_CHARS_MAX).optional(),
    description: z.string().max(AZURE_LISTING_DESCRIPTION_CHARS_MAX).optional(),
  }),
  plans: z
    .array(z.strictObject({ planId: z.string().regex(EXTERNAL_ID), alias: Text }))
    .max(AZURE_OFFER_SIM_PLANS_MAX),
});
export type AzureOfferProduct = z.infer<typeof AzureOfferProductSchema>;

/**
 * - server-error / throttle: the next `times` calls of `target` ('*' = any) answer 500 / 429
 * - job-failed: the next `times` jobs end `failed` with `{ code, message }` (default
 *   internalServerError, Microsoft's side failing)
 */
export const AzureOfferFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['server-error', 'throttle']),
    target: z.union([z.literal('*'), z.enum(AZURE_OFFER_OPERATIONS)]),
    times: z.number().int().min(1).max(AZURE_OFFER_SIM_FAULT_TIMES_MAX),
  }),
  z.strictObject({
    kind: z.literal('job-failed'),
    code: z.string().min(1).max(100).optional(),
    message: z.string().min(1).max(1_000).optional(),
    times: z.number().int().min(1).max(AZURE_OFFER_SIM_FAULT_TIMES_MAX),
  }),
]);
export type AzureOfferFault = z.infer<typeof AzureOfferFaultSchema>;

export interface AzureOfferCall {
  readonly operation: AzureOfferOperation | 'Unknown';
  readonly method: string;
  readonly path: string;
  /** The Repeatability-Request-ID header, if any. */
  readonly requestId: string | null;
  readonly input: unknown;
  readonly status: number;
  readonly at: string;
}

/** What tests and the Azure simulator see of the private-offer half. */
export interface AzureOfferSimulator {
  /** Products as the resource tree shows them: the catalog, with listing/plan changes applied. */
  products(): AzureOfferProduct[];
  /** Replaces the listing overlay (products beyond the catalog, or listings that differ). */
  setProducts(products: readonly AzureOfferProduct[]): void;
  privateOffers(): AzurePrivateOfferRecord[];
  jobs(): AzureOfferJob[];
  /** Status reads until a job completes (1 = the first read completes it). */
  setStepsToComplete(steps: number): void;
  injectFault(fault: AzureOfferFault): void;
  clearFaults(): void;
  calls(): AzureOfferCall[];
  /** Forgets jobs, private offers, calls and faults (the overlay and steps stay). */
  reset(): void;
}

/** What the Azure simulator mounts: the public half plus the request handler. */
export interface AzureOfferSimulatorHandle extends AzureOfferSimulator {
  /** Answers `/rp/product-ingestion/*` and `/_sim/offers*`; false for any other path. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
}

export interface AzureOfferSimulatorOptions {
  readonly now?: () => Date;
  /** The main simulator's offers and plans: the products private offers can price. */
  readonly catalog?: () => readonly { offerId: string; plans: readonly { planId: string }[] }[];
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

interface JobState {
  jobId: string;
  requestId: string | null;
  createdAt: string;
  reads: number;
  /** Decided when the job is created; shown once it completes. */
  outcome: 'succeeded' | 'failed';
  errors: AzureJobError[];
  resourceIds: string[];
  /** Applied when the job completes successfully; null once applied (or for a failed job). */
  apply: ((jobId: string) => string[]) | null;
  resources: unknown[];
}

/** What a valid resource does once its job completes: the ids it created or changed. */
type Effect = (jobId: string) => string[];

interface StoredFault {
  readonly fault: AzureOfferFault;
  remaining: number;
}

function kindOf(schema: string): string | null {
  const match = /\/schema\/([a-z-]+)\//.exec(schema);
  return match?.[1] ?? null;
}

/** `product/<id>` → id; `plan/<product>/<plan>` → [product, plan]. */
function productRef(ref: string): string | null {
  const match = /^product\/([^/]+)$/.exec(ref);
  return match?.[1] ?? null;
}
function planRef(ref: string): [string, string] | null {
  const match = /^plan\/([^/]+)\/([^/]+)$/.exec(ref);
  return match?.[1] && match[2] ? [match[1], match[2]] : null;
}

function dayAfter(a: string, b: string): boolean {
  return a > b;
}

class AzureOfferModel implements AzureOfferSimulator {
  private readonly jobList: JobState[] = [];
  private readonly byRequestId = new Map<string, JobState>();
  private readonly offers: AzurePrivateOfferRecord[] = [];
  private overlay: AzureOfferProduct[] = [];
  private readonly faults: StoredFault[] = [];
  private readonly callLog: AzureOfferCall[] = [];
  private steps = AZURE_OFFER_STEPS_DEFAULT;

  constructor(
    readonly now: () => Date,
    private readonly catalog: AzureOfferSimulatorOptions['catalog'],
  ) {}

  // --- in-process API ------------------------------------------------------------------------

  products(): AzureOfferProduct[] {
    const out = new Map<string, AzureOfferProduct>();
    for (const offer of this.catalog?.() ?? []) {
      out.set(offer.offerId, {
        productId: offer.offerId,
        listing: { title: offer.offerId },
        plans: offer.plans.map((p) => ({ planId: p.planId, alias: p.planId })),
      });
    }
    for (const product of this.overlay) {
      const base = out.get(product.productId);
      const plans = new Map((base?.plans ?? []).map((p) => [p.planId, p]));
      for (const plan of product.plans) plans.set(plan.planId, plan);
      out.set(product.productId, { ...product, plans: [...plans.values()] });
    }
    return structuredClone([...out.values()]);
  }

  setProducts(products: readonly AzureOfferProduct[]): void {
    const parsed = z
      .array(AzureOfferProductSchema)
      .max(AZURE_OFFER_SIM_PRODUCTS_MAX)
      .safeParse(products);
    if (!parsed.success) throw new Error(`Invalid products: ${parsed.error.message}`);
    this.overlay = structuredClone(parsed.data);
  }

  privateOffers(): AzurePrivateOfferRecord[] {
    return structuredClone(this.offers);
  }

  jobs(): AzureOfferJob[] {
    return this.jobList.map((job) => this.view(job));
  }

  setStepsToComplete(steps: number): void {
    if (!Number.isInteger(steps) || steps < 1 || steps > AZURE_OFFER_STEPS_MAX)
      throw new Error(`steps must be an integer from 1 to ${AZURE_OFFER_STEPS_MAX}`);
    this.steps = steps;
  }

  injectFault(fault: AzureOfferFault): void {
    const parsed = AzureOfferFaultSchema.parse(fault);
    if (this.faults.length >= AZURE_OFFER_SIM_FAULTS_MAX)
      throw new Error(`At most ${AZURE_OFFER_SIM_FAULTS_MAX} faults can be pending`);
    this.faults.push({ fault: parsed, remaining: parsed.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  calls(): AzureOfferCall[] {
    return structuredClone(this.callLog);
  }

  reset(): void {
    this.jobList.length = 0;
    this.byRequestId.clear();
    this.offers.length = 0;
    this.faults.length = 0;
    this.callLog.length = 0;
  }

  recordCall(call: AzureOfferCall): void {
    if (this.callLog.length >= AZURE_OFFER_SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push(call);
  }

  /** The first pending fault matching, consumed by one. */
  takeFault(match: (fault: AzureOfferFault) => boolean): AzureOfferFault | null {
    const index = this.faults.findIndex((f) => match(f.fault));
    const stored = this.faults[index];
    if (stored === undefined) return null;
    stored.remaining -= 1;
    if (stored.remaining <= 0) this.faults.splice(index, 1);
    return stored.fault;
  }

  takeCallFault(operation: AzureOfferOperation): 'server-error' | 'throttle' | null {
    const fault = this.takeFault(
      (f) => f.kind !== 'job-failed' && (f.target === '*' || f.target === operation),
    );
    return fault === null || fault.kind === 'job-failed' ? null : fault.kind;
  }

  private today(): string {
    return this.now().toISOString().slice(0, 10);
  }

  // --- the API -------------------------------------------------------------------------------

  configure(body: unknown, requestId: string | null): AzureOfferJob {
    if (requestId !== null) {
      const existing = this.byRequestId.get(requestId);
      if (existing !== undefined) return this.view(existing);
    }
    const envelope = EnvelopeSchema.safeParse(body);
    if (!envelope.success) {
      throw new HttpError(
        400,
        'BadRequest',
        `The configure request needs { $schema, resources: [1..${AZURE_OFFER_SIM_RESOURCES_MAX}] }: ${envelope.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    const errors: AzureJobError[] = [];
    const effects: Effect[] = [];
    envelope.data.resources.forEach((resource, index) => {
      const where = `resources[${index}]`;
      switch (kindOf(resource.$schema)) {
        case 'private-offer':
          effects.push(...this.checkPrivateOffer(resource, where, errors));
          break;
        case 'listing':
          effects.push(...this.checkListing(resource, where, errors));
          break;
        case 'plan':
          effects.push(...this.checkPlan(resource, where, errors));
          break;
        default:
          errors.push({
            code: JOB_ERROR_CODES.schema,
            message: `Unsupported resource $schema "${resource.$schema}"`,
            resourceId: where,
          });
      }
    });
    const fault = this.takeFault((f) => f.kind === 'job-failed');
    if (fault !== null && fault.kind === 'job-failed') {
      errors.push({
        code: fault.code ?? JOB_ERROR_CODES.internal,
        message: fault.message ?? 'The job failed on the service side (simulated fault)',
      });
    }
    const job: JobState = {
      jobId: randomUUID(),
      requestId,
      createdAt: this.now().toISOString(),
      reads: 0,
      outcome: errors.length === 0 ? 'succeeded' : 'failed',
      errors,
      resourceIds: [],
      apply: errors.length === 0 ? (jobId) => effects.flatMap((effect) => effect(jobId)) : null,
      resources: structuredClone(envelope.data.resources),
    };
    this.remember(job);
    return this.view(job);
  }

  private remember(job: JobState): void {
    if (this.jobList.length >= AZURE_OFFER_SIM_JOBS_MAX) {
      const index = this.jobList.findIndex((j) => j.reads >= this.steps);
      const [dropped] = this.jobList.splice(index === -1 ? 0 : index, 1);
      if (dropped?.requestId) this.byRequestId.delete(dropped.requestId);
    }
    this.jobList.push(job);
    if (job.requestId !== null) this.byRequestId.set(job.requestId, job);
  }

  status(jobId: string): AzureOfferJob {
    const job = this.jobList.find((j) => j.jobId === jobId);
    if (job === undefined) throw new HttpError(404, 'NotFound', `No job ${jobId}`);
    job.reads += 1;
    if (job.reads >= this.steps && job.apply !== null) {
      if (this.offers.length >= AZURE_OFFER_SIM_PRIVATE_OFFERS_MAX) {
        job.outcome = 'failed';
        job.errors.push({
          code: JOB_ERROR_CODES.business,
          message: `The simulator keeps at most ${AZURE_OFFER_SIM_PRIVATE_OFFERS_MAX} private offers`,
        });
      } else {
        job.resourceIds = job.apply(job.jobId);
      }
      job.apply = null;
    }
    return this.view(job);
  }

  private view(job: JobState): AzureOfferJob {
    const completed = job.reads >= this.steps && job.apply === null;
    return structuredClone({
      jobId: job.jobId,
      requestId: job.requestId,
      createdAt: job.createdAt,
      jobStatus: job.reads === 0 ? 'notStarted' : completed ? 'completed' : 'running',
      jobResult: completed ? job.outcome : 'pending',
      errors: completed ? job.errors : [],
      resourceIds: completed ? job.resourceIds : [],
      reads: job.reads,
      resources: job.resources,
    });
  }

  privateOffer(id: string): AzurePrivateOfferRecord {
    const offer = this.offers.find((o) => o.id === `private-offer/${id}`);
    if (offer === undefined) throw new HttpError(404, 'NotFound', `No private offer ${id}`);
    return structuredClone(offer);
  }

  resourceTree(productId: string): Record<string, unknown> {
    const product = this.products().find((p) => p.productId === productId);
    if (product === undefined) throw new HttpError(404, 'NotFound', `No product ${productId}`);
    const ref = `product/${product.productId}`;
    return {
      $schema: RESOURCE_TREE_SCHEMA,
      root: ref,
      target: { targetType: 'draft' },
      resources: [
        {
          $schema: PRODUCT_SCHEMA,
          id: ref,
          identity: { externalId: product.productId },
          alias: product.listing.title,
        },
        {
          $schema: LISTING_SCHEMA,
          id: `listing/${product.productId}/en-us`,
          product: ref,
          languageId: 'en-us',
          ...product.listing,
        },
        ...product.plans.map((plan) => ({
          $schema: PLAN_SCHEMA,
          id: `plan/${product.productId}/${plan.planId}`,
          product: ref,
          identity: { externalId: plan.planId },
          alias: plan.alias,
        })),
      ],
    };
  }

  // --- validation ----------------------------------------------------------------------------

  private checkPrivateOffer(resource: unknown, where: string, errors: AzureJobError[]): Effect[] {
    const parsed = AzurePrivateOfferResourceSchema.safeParse(resource);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        errors.push({
          code: JOB_ERROR_CODES.schema,
          message: `${issue.path.join('.') || '(resource)'}: ${issue.message}`,
          resourceId: where,
        });
      }
      return [];
    }
    const offer = parsed.data;
    const before = errors.length;
    const business = (message: string) =>
      errors.push({ code: JOB_ERROR_CODES.business, message, resourceId: where });
    const today = this.today();
    if (offer.acceptBy < today)
      business(`acceptBy ${offer.acceptBy} is in the past (today is ${today})`);
    if (offer.variableStartDate) {
      if (offer.start !== undefined || offer.end !== undefined)
        business('A private offer with a variable start date takes no start or end');
    } else {
      if (offer.start === undefined || offer.end === undefined) {
        business('A private offer with a fixed start date needs start and end');
      } else {
        if (!dayAfter(offer.start, today)) business(`start ${offer.start} must be after today`);
        if (!dayAfter(offer.end, offer.start))
          business(`end ${offer.end} must be after start ${offer.start}`);
        if (dayAfter(offer.acceptBy, offer.start))
          business(`acceptBy ${offer.acceptBy} must be on or before start ${offer.start}`);
      }
    }
    const seen = new Set<string>();
    for (const beneficiary of offer.beneficiaries) {
      if (!GUID.test(beneficiary.id) && !BILLING_ACCOUNT.test(beneficiary.id))
        business(
          `Beneficiary "${beneficiary.id}" is neither a tenant id (GUID) nor a billing account id`,
        );
      if (seen.has(beneficiary.id.toLowerCase()))
        business(`Beneficiary "${beneficiary.id}" is listed twice`);
      seen.add(beneficiary.id.toLowerCase());
    }
    const mpo = offer.privateOfferType === 'multipartyPromotionOriginator';
    const partners = offer.partners ?? [];
    if (mpo && partners.length !== 1)
      business('A multiparty private offer names exactly one channel partner');
    if (!mpo && partners.length > 0) business('A customer private offer takes no partners');
    for (const partner of partners) {
      if (!GUID.test(partner.id) && !PARTNER_MPN_ID.test(partner.id))
        business(`Partner "${partner.id}" is neither a tenant id (GUID) nor an MPN id`);
      if (partner.margin.type === 'percentage') {
        const percent = Number(partner.margin.percentage);
        if (!(percent > 0 && percent < 100))
          business(`Partner margin ${partner.margin.percentage} % must be between 0 and 100`);
      }
    }
    const products = this.products();
    const plansSeen = new Set<string>();
    offer.pricing.forEach((line, index) => {
      const productId = productRef(line.product);
      const plan = planRef(line.plan);
      const product = products.find((p) => p.productId === productId);
      if (productId === null || product === undefined) {
        errors.push({
          code: JOB_ERROR_CODES.notFound,
          message: `pricing[${index}].product: no product "${line.product}"`,
          resourceId: where,
        });
        return;
      }
      if (
        plan === null ||
        plan[0] !== productId ||
        !product.plans.some((p) => p.planId === plan[1])
      )
        errors.push({
          code: JOB_ERROR_CODES.notFound,
          message: `pricing[${index}].plan: no plan "${line.plan}" on ${line.product}`,
          resourceId: where,
        });
      if (plansSeen.has(line.plan)) business(`pricing[${index}]: plan ${line.plan} priced twice`);
      plansSeen.add(line.plan);
    });
    const url = offer.termsAndConditionsDocSasUrl;
    if (url !== undefined && !url.startsWith('https://'))
      business('termsAndConditionsDocSasUrl must be an https:// address');
    if (errors.length > before) return [];
    return [
      (jobId) => {
        const id = `private-offer/${randomUUID()}`;
        this.offers.push({
          id,
          jobId,
          createdAt: this.now().toISOString(),
          resource: structuredClone(offer),
        });
        return [id];
      },
    ];
  }

  private overlayFor(productId: string): AzureOfferProduct {
    let product = this.overlay.find((p) => p.productId === productId);
    if (product === undefined) {
      const base = this.products().find((p) => p.productId === productId);
      product = base ?? { productId, listing: { title: productId }, plans: [] };
      this.overlay.push(product);
    }
    return product;
  }

  private checkListing(resource: unknown, where: string, errors: AzureJobError[]): Effect[] {
    const parsed = ListingResourceSchema.safeParse(resource);
    if (!parsed.success) {
      errors.push({
        code: JOB_ERROR_CODES.schema,
        message: `listing: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        resourceId: where,
      });
      return [];
    }
    const listing = parsed.data;
    const productId = productRef(listing.product);
    if (productId === null || !this.products().some((p) => p.productId === productId)) {
      errors.push({
        code: JOB_ERROR_CODES.notFound,
        message: `listing.product: no product "${listing.product}"`,
        resourceId: where,
      });
      return [];
    }
    return [
      () => {
        const product = this.overlayFor(productId);
        product.listing = {
          ...product.listing,
          ...(listing.title !== undefined ? { title: listing.title } : {}),
          ...(listing.summary !== undefined ? { summary: listing.summary } : {}),
          ...(listing.description !== undefined ? { description: listing.description } : {}),
        };
        return [`listing/${productId}/en-us`];
      },
    ];
  }

  private checkPlan(resource: unknown, where: string, errors: AzureJobError[]): Effect[] {
    const parsed = PlanResourceSchema.safeParse(resource);
    if (!parsed.success) {
      errors.push({
        code: JOB_ERROR_CODES.schema,
        message: `plan: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        resourceId: where,
      });
      return [];
    }
    const plan = parsed.data;
    const productId = productRef(plan.product);
    const product = this.products().find((p) => p.productId === productId);
    if (productId === null || product === undefined) {
      errors.push({
        code: JOB_ERROR_CODES.notFound,
        message: `plan.product: no product "${plan.product}"`,
        resourceId: where,
      });
      return [];
    }
    const planId = plan.identity.externalId;
    if (!EXTERNAL_ID.test(planId)) {
      errors.push({
        code: JOB_ERROR_CODES.business,
        message: `Plan id "${planId}": lowercase letters, digits, - and _ only, at most 50`,
        resourceId: where,
      });
      return [];
    }
    if (
      !product.plans.some((p) => p.planId === planId) &&
      product.plans.length >= AZURE_OFFER_SIM_PLANS_MAX
    ) {
      errors.push({
        code: JOB_ERROR_CODES.business,
        message: `A product has at most ${AZURE_OFFER_SIM_PLANS_MAX} plans`,
        resourceId: where,
      });
      return [];
    }
    return [
      () => {
        const target = this.overlayFor(productId);
        target.plans = [
          ...target.plans.filter((p) => p.planId !== planId),
          { planId, alias: plan.alias },
        ];
        return [`plan/${productId}/${planId}`];
      },
    ];
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  response.writeHead(status, { 'content-type': JSON_TYPE, ...headers }).end(JSON.stringify(body));
}

/** The body, or null when it exceeds the limit (the rest is drained, then 413). */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return readBoundedBody(request, AZURE_OFFER_SIM_BODY_BYTES_MAX);
}

function headerValue(request: IncomingMessage, name: string): string | null {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

interface Route {
  readonly operation: AzureOfferOperation;
  readonly method: string;
  readonly run: (body: unknown, requestId: string | null) => { status: number; body: unknown };
}

function apiRoute(model: AzureOfferModel, rest: readonly string[]): Route | null {
  const [first, second, third] = rest;
  if (rest.length === 1 && first === 'configure') {
    return {
      operation: 'Configure',
      method: 'POST',
      run: (body, requestId) => ({ status: 202, body: jobBody(model.configure(body, requestId)) }),
    };
  }
  if (rest.length === 3 && first === 'configure' && third === 'status' && second) {
    return {
      operation: 'ConfigureStatus',
      method: 'GET',
      run: () => ({ status: 200, body: jobBody(model.status(second)) }),
    };
  }
  if (rest.length === 2 && first === 'private-offer' && second) {
    return {
      operation: 'GetPrivateOffer',
      method: 'GET',
      run: () => {
        const offer = model.privateOffer(second);
        return { status: 200, body: { ...offer.resource, id: offer.id } };
      },
    };
  }
  if (rest.length === 3 && first === 'resource-tree' && second === 'product' && third) {
    return {
      operation: 'ResourceTree',
      method: 'GET',
      run: () => ({ status: 200, body: model.resourceTree(third) }),
    };
  }
  return null;
}

/** A job as the API answers it. */
function jobBody(job: AzureOfferJob): Record<string, unknown> {
  return {
    $schema: CONFIGURE_STATUS_SCHEMA,
    jobId: job.jobId,
    jobStatus: job.jobStatus,
    jobResult: job.jobResult,
    jobStart: job.createdAt,
    errors: job.errors,
    ...(job.resourceIds.length > 0 ? { resourceIds: job.resourceIds } : {}),
  };
}

async function handleApi(
  model: AzureOfferModel,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET';
  const rest = url.pathname
    .slice(PRODUCT_INGESTION_PATH.length)
    .split('/')
    .filter((s) => s !== '');
  const route = apiRoute(model, rest.map(safeDecode));
  const requestId = headerValue(request, REPEATABILITY_HEADER);
  const raw = await readBody(request);
  let input: unknown = null;
  const finish = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    model.recordCall({
      operation: route?.operation ?? 'Unknown',
      method,
      path: url.pathname,
      requestId,
      input,
      status,
      at: model.now().toISOString(),
    });
    sendJson(response, status, body, headers);
  };
  try {
    if (route === null) throw new HttpError(404, 'NotFound', `No route ${url.pathname}`);
    if (method !== route.method)
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed here`, {
        allow: route.method,
      });
    if (raw === null)
      throw new HttpError(
        413,
        'PayloadTooLarge',
        `Request body exceeds ${AZURE_OFFER_SIM_BODY_BYTES_MAX} bytes`,
      );
    if (raw.length > 0) {
      try {
        input = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'BadRequest', 'Request body is not valid JSON');
      }
    }
    if (url.searchParams.get('$version') !== PRODUCT_INGESTION_VERSION)
      throw new HttpError(
        400,
        'BadRequest',
        `The $version query parameter must be ${PRODUCT_INGESTION_VERSION}`,
      );
    // unverified: Graph checks the token's audience and roles; the simulator wants one present.
    if (!/^Bearer\s+\S+$/i.test(headerValue(request, 'authorization')?.trim() ?? ''))
      throw new HttpError(401, 'Unauthorized', 'A bearer token is required', {
        'www-authenticate': 'Bearer',
      });
    if (requestId !== null && (requestId.length === 0 || requestId.length > REQUEST_ID_CHARS_MAX))
      throw new HttpError(
        400,
        'BadRequest',
        `${REPEATABILITY_HEADER} must be 1 to ${REQUEST_ID_CHARS_MAX} characters`,
      );
    const fault = model.takeCallFault(route.operation);
    if (fault === 'throttle')
      throw new HttpError(429, 'TooManyRequests', 'Rate limit exceeded (simulated fault)', {
        'retry-after': '1',
      });
    if (fault === 'server-error')
      throw new HttpError(500, 'InternalServerError', 'Internal error (simulated fault)');
    const answer = route.run(input, requestId);
    finish(answer.status, answer.body);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    // unverified: Graph's error body `{ error: { code, message } }`.
    finish(error.status, { error: { code: error.code, message: error.message } }, error.headers);
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function handleControl(
  model: AzureOfferModel,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET';
  const raw = await readBody(request);
  const fail = (status: number, code: string, message: string) =>
    sendJson(response, status, { error: { code, message, details: [] } });
  if (raw === null) {
    fail(413, 'payload_too_large', `Request body exceeds ${AZURE_OFFER_SIM_BODY_BYTES_MAX} bytes`);
    return;
  }
  let body: unknown;
  try {
    body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
  } catch {
    fail(400, 'invalid_json', 'Request body is not valid JSON');
    return;
  }
  const key = `${method} ${url.pathname}`;
  try {
    switch (key) {
      case 'GET /_sim/offers':
        sendJson(response, 200, {
          products: model.products(),
          privateOffers: model.privateOffers(),
          jobs: model.jobs(),
          calls: model.calls(),
        });
        return;
      case 'POST /_sim/offers/products':
        model.setProducts(body as AzureOfferProduct[]);
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/offers/steps':
        model.setStepsToComplete((body as { steps?: unknown } | undefined)?.steps as number);
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/offers/faults':
        model.injectFault(body as AzureOfferFault);
        sendJson(response, 204, undefined);
        return;
      case 'DELETE /_sim/offers/faults':
        model.clearFaults();
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/offers/reset':
        model.reset();
        sendJson(response, 204, undefined);
        return;
      default:
        fail(404, 'not_found', `No simulator control route ${key}`);
    }
  } catch (error) {
    fail(400, 'validation_failed', error instanceof Error ? error.message : 'invalid input');
  }
}

/** The private-offer half, for azure-simulator.ts to mount on its server. */
export function createAzureOfferSimulator(
  options: AzureOfferSimulatorOptions = {},
): AzureOfferSimulatorHandle {
  const model = new AzureOfferModel(options.now ?? (() => new Date()), options.catalog);
  return {
    products: () => model.products(),
    setProducts: (products) => model.setProducts(products),
    privateOffers: () => model.privateOffers(),
    jobs: () => model.jobs(),
    setStepsToComplete: (steps) => model.setStepsToComplete(steps),
    injectFault: (fault) => model.injectFault(fault),
    clearFaults: () => model.clearFaults(),
    calls: () => model.calls(),
    reset: () => model.reset(),
    handle: async (request, response, url) => {
      if (
        url.pathname === PRODUCT_INGESTION_PATH ||
        url.pathname.startsWith(`${PRODUCT_INGESTION_PATH}/`)
      ) {
        await handleApi(model, request, response, url);
        return true;
      }
      if (url.pathname === '/_sim/offers' || url.pathname.startsWith('/_sim/offers/')) {
        await handleControl(model, request, response, url);
        return true;
      }
      return false;
    },
  };
}
