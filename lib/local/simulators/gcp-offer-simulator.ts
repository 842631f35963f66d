/**
 * The private-offer half of the Google Cloud Marketplace simulator: the Commerce Producer API
 * `v1beta` (early access, reference §3.4) as far as a seller's private offers need it. Mounted by
 * gcp-simulator.ts on the same server, driven in process through `GcpSimulator.offers` or over
 * `/_sim/offers/*`.
 *
 * - `POST /v1beta/providers/{provider}/privateOffers?requestId=<uuid>` validates the request's
 *   shape (400 INVALID_ARGUMENT at once) and starts a long-running operation
 *   `{ name: 'operations/…', done: false }`. A repeated `requestId` (AIP-155: a UUID) answers the
 *   operation it first started, whatever the body.
 * - `GET /v1beta/operations/{id}` advances the operation one step per read; after
 *   `stepsToComplete` reads it is `done` with `response` (the PrivateOffer, state PUBLISHED) or
 *   `error` (google.rpc.Status, with BadRequest field violations for content problems such as a
 *   billing account in the wrong form or an acceptance date in the past). The offer exists only
 *   once its operation is done.
 * - `GET /v1beta/providers/{provider}/privateOffers/{id}` reads a published offer;
 *   `GET /v1beta/providers/{provider}/products/{product}` reads a product (listing) — any other
 *   method on products answers 405: Google Cloud Marketplace has no listing write API (Errata).
 * - Faults (consumed in the order injected): `server-error` (500 INTERNAL) or `throttle`
 *   (429 RESOURCE_EXHAUSTED) on a method, and `operation-failed`, which ends the next operations
 *   with the given google.rpc code (default 13 INTERNAL).
 *
 * unverified: the Commerce Producer API is in early access and its reference was not available
 * here; every request, resource and operation shape below follows Google's API conventions
 * (AIP-151 operations, AIP-155 request ids, google.type.Money and google.type.Date) and is
 * built against this simulator only.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readBoundedBody } from './sim-http';

// ---------------------------------------------------------------------------------------------
// Names and limits
// ---------------------------------------------------------------------------------------------

export const PRODUCER_API_PREFIX = '/v1beta/';
/** unverified: `@type` of the operation's response and metadata. */
export const PRIVATE_OFFER_TYPE_URL =
  'type.googleapis.com/google.cloud.commerce.producer.v1beta.PrivateOffer';
export const OPERATION_METADATA_TYPE_URL =
  'type.googleapis.com/google.cloud.commerce.producer.v1beta.OperationMetadata';
export const BAD_REQUEST_TYPE_URL = 'type.googleapis.com/google.rpc.BadRequest';

export const GCP_OFFER_SIM_BODY_BYTES_MAX = 1024 * 1024;
export const GCP_OFFER_SIM_OPERATIONS_MAX = 10_000;
export const GCP_OFFER_SIM_OFFERS_MAX = 10_000;
export const GCP_OFFER_SIM_PRODUCTS_MAX = 1_000;
export const GCP_OFFER_SIM_CALLS_MAX = 10_000;
export const GCP_OFFER_SIM_FAULTS_MAX = 100;
export const GCP_OFFER_SIM_FAULT_TIMES_MAX = 10_000;
/** Operation reads until done: the default, and the most a test may ask for. */
export const GCP_OFFER_STEPS_DEFAULT = 2;
export const GCP_OFFER_STEPS_MAX = 100;
/** unverified: lines and installments on one offer, and its display name. */
export const GCP_OFFER_SIM_LINES_MAX = 200;
export const GCP_OFFER_SIM_INSTALLMENTS_MAX = 200;
export const GCP_OFFER_DISPLAY_NAME_CHARS_MAX = 150;
const TEXT_CHARS_MAX = 4_096;
const NANOS_PER_UNIT = 1_000_000_000n;

/** google.rpc.Code values the simulator answers with. */
export const RPC_CODES = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
} as const;

export const GCP_OFFER_METHODS = [
  'CreatePrivateOffer',
  'GetOperation',
  'GetPrivateOffer',
  'GetProduct',
] as const;
export type GcpOfferMethod = (typeof GCP_OFFER_METHODS)[number];

/** Cloud Billing account ids: three groups of six upper-case hex digits. */
const BILLING_ACCOUNT = /^billingAccounts\/[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

// ---------------------------------------------------------------------------------------------
// Wire shapes (unverified, see the header)
// ---------------------------------------------------------------------------------------------

export const GoogleDateSchema = z.strictObject({
  year: z.number().int().min(1970).max(2199),
  month: z.number().int().min(1).max(12),
  day: z.number().int().min(1).max(31),
});
export type GoogleDate = z.infer<typeof GoogleDateSchema>;

export const GoogleMoneySchema = z.strictObject({
  currencyCode: z.string().regex(/^[A-Z]{3}$/),
  units: z.string().regex(/^\d{1,19}$/),
  nanos: z.number().int().min(0).max(999_999_999),
});
export type GoogleMoney = z.infer<typeof GoogleMoneySchema>;

const Text = z.string().max(TEXT_CHARS_MAX);

export const GcpPrivateOfferInputSchema = z.strictObject({
  displayName: z.string().min(1).max(GCP_OFFER_DISPLAY_NAME_CHARS_MAX),
  description: z.string().max(255).optional(),
  product: z.string().min(1).max(400),
  offerType: z.enum(['DIRECT', 'RESELLER']),
  /** Who Google bills: the customer (DIRECT) or the reseller (RESELLER). */
  billingAccount: z.string().min(1).max(200),
  customer: z.strictObject({
    billingAccount: z.string().min(1).max(200),
    displayName: Text.optional(),
  }),
  reseller: z
    .strictObject({
      billingAccount: z.string().min(1).max(200),
      discountPercent: z
        .string()
        .regex(/^\d{1,3}(?:\.\d{1,18})?$/)
        .optional(),
      wholesalePrice: GoogleMoneySchema.optional(),
      authorizationEndDate: GoogleDateSchema,
    })
    .optional(),
  pricing: z.strictObject({
    currencyCode: z.string().regex(/^[A-Z]{3}$/),
    commitments: z
      .array(
        z.strictObject({
          plan: z.string().min(1).max(100),
          unitPrice: GoogleMoneySchema,
          quantity: z.number().int().min(1).max(1_000_000_000),
        }),
      )
      .max(GCP_OFFER_SIM_LINES_MAX),
    usageRates: z
      .array(z.strictObject({ metric: z.string().min(1).max(100), unitPrice: GoogleMoneySchema }))
      .max(GCP_OFFER_SIM_LINES_MAX),
  }),
  paymentSchedule: z
    .strictObject({
      installments: z
        .array(z.strictObject({ dueDate: GoogleDateSchema, amount: GoogleMoneySchema }))
        .min(1)
        .max(GCP_OFFER_SIM_INSTALLMENTS_MAX),
    })
    .optional(),
  term: z.strictObject({
    durationMonths: z.number().int().min(1).max(120).optional(),
    startDate: GoogleDateSchema.optional(),
    endDate: GoogleDateSchema.optional(),
  }),
  acceptByDate: GoogleDateSchema,
  eula: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('STANDARD') }),
    z.strictObject({ type: z.literal('CUSTOM'), uri: z.string().min(1).max(2_048) }),
  ]),
});
export type GcpPrivateOfferInput = z.infer<typeof GcpPrivateOfferInputSchema>;

export type GcpPrivateOffer = GcpPrivateOfferInput & {
  readonly name: string;
  readonly state: 'PUBLISHED';
  readonly createTime: string;
  readonly updateTime: string;
};

export interface GcpRpcStatus {
  readonly code: number;
  readonly message: string;
  readonly details?: readonly unknown[];
}

export interface GcpOperation {
  readonly name: string;
  readonly done: boolean;
  readonly metadata: Record<string, unknown>;
  readonly response?: Record<string, unknown>;
  readonly error?: GcpRpcStatus;
}

export const GcpOfferProductSchema = z.strictObject({
  providerId: z.string().regex(RESOURCE_ID),
  productId: z.string().regex(RESOURCE_ID),
  displayName: z.string().min(1).max(200),
  plans: z.array(z.string().min(1).max(100)).max(100),
});
export type GcpOfferProduct = z.infer<typeof GcpOfferProductSchema>;

/**
 * - server-error / throttle: the next `times` calls of `target` ('*' = any) answer 500 / 429
 * - operation-failed: the next `times` operations end with `{ code, message }` (default 13
 *   INTERNAL, Google's side failing)
 */
export const GcpOfferFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['server-error', 'throttle']),
    target: z.union([z.literal('*'), z.enum(GCP_OFFER_METHODS)]),
    times: z.number().int().min(1).max(GCP_OFFER_SIM_FAULT_TIMES_MAX),
  }),
  z.strictObject({
    kind: z.literal('operation-failed'),
    code: z.number().int().min(1).max(16).optional(),
    message: z.string().min(1).max(1_000).optional(),
    times: z.number().int().min(1).max(GCP_OFFER_SIM_FAULT_TIMES_MAX),
  }),
]);
export type GcpOfferFault = z.infer<typeof GcpOfferFaultSchema>;

export interface GcpOfferCall {
  readonly method: GcpOfferMethod | 'Unknown';
  readonly httpMethod: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly input: unknown;
  readonly status: number;
  readonly at: string;
}

export interface GcpOfferSimulator {
  /** Seeded products plus those the main simulator's entitlements name. */
  products(): GcpOfferProduct[];
  setProducts(products: readonly GcpOfferProduct[]): void;
  privateOffers(): GcpPrivateOffer[];
  operations(): (GcpOperation & { readonly requestId: string | null; readonly reads: number })[];
  setStepsToComplete(steps: number): void;
  injectFault(fault: GcpOfferFault): void;
  clearFaults(): void;
  calls(): GcpOfferCall[];
  /** Forgets operations, offers, calls and faults (seeded products and steps stay). */
  reset(): void;
}

export interface GcpOfferSimulatorHandle extends GcpOfferSimulator {
  /** True for `/v1beta/…` and `/_sim/offers…`, which `handle` answers. */
  owns(pathname: string): boolean;
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void>;
}

export interface GcpOfferSimulatorOptions {
  readonly now?: () => Date;
  /** Products the main simulator already knows (its entitlements' products and plans). */
  readonly catalog?: () => readonly { providerId: string; product: string; plan?: string }[];
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

class GoogleError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
    readonly details: readonly unknown[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

function badRequest(violations: readonly FieldViolation[]): unknown {
  return { '@type': BAD_REQUEST_TYPE_URL, fieldViolations: violations };
}

export function googleDateText(date: GoogleDate): string {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

function isRealDate(date: GoogleDate): boolean {
  const parsed = new Date(Date.UTC(date.year, date.month - 1, date.day));
  return parsed.getUTCMonth() === date.month - 1 && parsed.getUTCDate() === date.day;
}

function nanosOf(money: GoogleMoney): bigint {
  return BigInt(money.units) * NANOS_PER_UNIT + BigInt(money.nanos);
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

interface OperationState {
  readonly id: string;
  readonly providerId: string;
  readonly requestId: string | null;
  readonly createTime: string;
  reads: number;
  /** Decided at creation, shown once done. */
  readonly error: GcpRpcStatus | null;
  readonly input: GcpPrivateOfferInput;
  /** Set once done (success only). */
  offer: GcpPrivateOffer | null;
  finished: boolean;
}

interface StoredFault {
  readonly fault: GcpOfferFault;
  remaining: number;
}

class GcpOfferModel implements GcpOfferSimulator {
  private readonly ops: OperationState[] = [];
  private readonly offers: GcpPrivateOffer[] = [];
  private seeded: GcpOfferProduct[] = [];
  private readonly faults: StoredFault[] = [];
  private readonly callLog: GcpOfferCall[] = [];
  private steps = GCP_OFFER_STEPS_DEFAULT;

  constructor(
    readonly now: () => Date,
    private readonly catalog: GcpOfferSimulatorOptions['catalog'],
  ) {}

  products(): GcpOfferProduct[] {
    const out = new Map<string, GcpOfferProduct>();
    for (const item of this.catalog?.() ?? []) {
      const key = `${item.providerId}/${item.product}`;
      const product = out.get(key) ?? {
        providerId: item.providerId,
        productId: item.product,
        displayName: item.product,
        plans: [],
      };
      if (item.plan && !product.plans.includes(item.plan)) product.plans.push(item.plan);
      out.set(key, product);
    }
    for (const product of this.seeded)
      out.set(`${product.providerId}/${product.productId}`, product);
    return structuredClone([...out.values()]);
  }

  setProducts(products: readonly GcpOfferProduct[]): void {
    const parsed = z
      .array(GcpOfferProductSchema)
      .max(GCP_OFFER_SIM_PRODUCTS_MAX)
      .safeParse(products);
    if (!parsed.success) throw new Error(`Invalid products: ${parsed.error.message}`);
    this.seeded = structuredClone(parsed.data);
  }

  privateOffers(): GcpPrivateOffer[] {
    return structuredClone(this.offers);
  }

  operations(): (GcpOperation & { requestId: string | null; reads: number })[] {
    return this.ops.map((op) => ({
      ...this.view(op),
      requestId: op.requestId,
      reads: op.reads,
    }));
  }

  setStepsToComplete(steps: number): void {
    if (!Number.isInteger(steps) || steps < 1 || steps > GCP_OFFER_STEPS_MAX)
      throw new Error(`steps must be an integer from 1 to ${GCP_OFFER_STEPS_MAX}`);
    this.steps = steps;
  }

  injectFault(fault: GcpOfferFault): void {
    const parsed = GcpOfferFaultSchema.parse(fault);
    if (this.faults.length >= GCP_OFFER_SIM_FAULTS_MAX)
      throw new Error(`At most ${GCP_OFFER_SIM_FAULTS_MAX} faults can be pending`);
    this.faults.push({ fault: parsed, remaining: parsed.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  calls(): GcpOfferCall[] {
    return structuredClone(this.callLog);
  }

  reset(): void {
    this.ops.length = 0;
    this.offers.length = 0;
    this.faults.length = 0;
    this.callLog.length = 0;
  }

  recordCall(call: GcpOfferCall): void {
    if (this.callLog.length >= GCP_OFFER_SIM_CALLS_MAX) this.callLog.shift();
    this.callLog.push(call);
  }

  private takeFault(match: (fault: GcpOfferFault) => boolean): GcpOfferFault | null {
    const index = this.faults.findIndex((f) => match(f.fault));
    const stored = this.faults[index];
    if (stored === undefined) return null;
    stored.remaining -= 1;
    if (stored.remaining <= 0) this.faults.splice(index, 1);
    return stored.fault;
  }

  takeCallFault(method: GcpOfferMethod): 'server-error' | 'throttle' | null {
    const fault = this.takeFault(
      (f) => f.kind !== 'operation-failed' && (f.target === '*' || f.target === method),
    );
    return fault === null || fault.kind === 'operation-failed' ? null : fault.kind;
  }

  private today(): string {
    return this.now().toISOString().slice(0, 10);
  }

  // --- the API -------------------------------------------------------------------------------

  create(providerId: string, requestId: string | null, body: unknown): GcpOperation {
    if (requestId !== null) {
      if (!UUID.test(requestId))
        throw new GoogleError(400, 'INVALID_ARGUMENT', 'requestId must be a UUID (AIP-155)', [
          badRequest([{ field: 'request_id', description: 'must be a UUID' }]),
        ]);
      const existing = this.ops.find(
        (o) => o.providerId === providerId && o.requestId === requestId,
      );
      if (existing !== undefined) return this.view(existing);
    }
    const parsed = GcpPrivateOfferInputSchema.safeParse(body);
    if (!parsed.success) {
      const violations = parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || 'private_offer',
        description: issue.message,
      }));
      throw new GoogleError(
        400,
        'INVALID_ARGUMENT',
        `Invalid private offer: ${violations[0]?.field}: ${violations[0]?.description}`,
        [badRequest(violations)],
      );
    }
    const input = parsed.data;
    const fault = this.takeFault((f) => f.kind === 'operation-failed');
    const error =
      fault !== null && fault.kind === 'operation-failed'
        ? {
            code: fault.code ?? RPC_CODES.INTERNAL,
            message: fault.message ?? 'Internal error (simulated fault)',
          }
        : this.validate(providerId, input);
    if (this.ops.length >= GCP_OFFER_SIM_OPERATIONS_MAX) {
      const index = this.ops.findIndex((o) => o.finished);
      this.ops.splice(index === -1 ? 0 : index, 1);
    }
    const op: OperationState = {
      id: randomUUID(),
      providerId,
      requestId,
      createTime: this.now().toISOString(),
      reads: 0,
      error,
      input,
      offer: null,
      finished: false,
    };
    this.ops.push(op);
    return this.view(op);
  }

  /** Content problems, reported when the operation is done (null: it will succeed). */
  private validate(providerId: string, input: GcpPrivateOfferInput): GcpRpcStatus | null {
    const productName = /^providers\/([^/]+)\/products\/([^/]+)$/.exec(input.product);
    const known = this.products().some(
      (p) => p.providerId === providerId && p.productId === productName?.[2],
    );
    if (productName?.[1] !== providerId || !known) {
      return { code: RPC_CODES.NOT_FOUND, message: `Product ${input.product} was not found.` };
    }
    const violations: FieldViolation[] = [];
    const add = (field: string, description: string) => violations.push({ field, description });
    const today = this.today();
    const dates: [string, GoogleDate | undefined][] = [
      ['accept_by_date', input.acceptByDate],
      ['term.start_date', input.term.startDate],
      ['term.end_date', input.term.endDate],
      ['reseller.authorization_end_date', input.reseller?.authorizationEndDate],
      ...(input.paymentSchedule?.installments ?? []).map(
        (i, n) =>
          [`payment_schedule.installments[${n}].due_date`, i.dueDate] as [string, GoogleDate],
      ),
    ];
    for (const [field, date] of dates)
      if (date !== undefined && !isRealDate(date)) add(field, 'is not a calendar date');
    const acceptBy = googleDateText(input.acceptByDate);
    if (acceptBy < today) add('accept_by_date', `${acceptBy} is in the past (today is ${today})`);
    const { durationMonths, startDate, endDate } = input.term;
    if ((durationMonths === undefined) === (endDate === undefined))
      add('term', 'give exactly one of duration_months and end_date');
    if (startDate !== undefined && googleDateText(startDate) <= today)
      add('term.start_date', 'must be after today');
    if (endDate !== undefined && startDate === undefined)
      add('term.start_date', 'an end date needs a start date');
    if (
      endDate !== undefined &&
      startDate !== undefined &&
      googleDateText(endDate) <= googleDateText(startDate)
    )
      add('term.end_date', 'must be after the start date');
    for (const [field, account] of [
      ['billing_account', input.billingAccount],
      ['customer.billing_account', input.customer.billingAccount],
      ...(input.reseller ? [['reseller.billing_account', input.reseller.billingAccount]] : []),
    ] as [string, string][]) {
      if (!BILLING_ACCOUNT.test(account))
        add(field, `"${account}" is not billingAccounts/XXXXXX-XXXXXX-XXXXXX`);
    }
    if (input.offerType === 'RESELLER') {
      if (input.reseller === undefined) add('reseller', 'a RESELLER offer needs its reseller');
      else {
        if (input.billingAccount !== input.reseller.billingAccount)
          add('billing_account', "a RESELLER offer is billed to the reseller's billing account");
        if (
          (input.reseller.discountPercent === undefined) ===
          (input.reseller.wholesalePrice === undefined)
        )
          add('reseller', 'give exactly one of discount_percent and wholesale_price');
        const percent = input.reseller.discountPercent;
        if (percent !== undefined && !(Number(percent) > 0 && Number(percent) < 100))
          add('reseller.discount_percent', 'must be between 0 and 100');
      }
    } else {
      if (input.reseller !== undefined) add('reseller', 'a DIRECT offer takes no reseller');
      if (input.billingAccount !== input.customer.billingAccount)
        add('billing_account', "a DIRECT offer is billed to the customer's billing account");
    }
    const currency = input.pricing.currencyCode;
    if (currency !== 'USD') add('pricing.currency_code', 'only USD is supported');
    const moneys: [string, GoogleMoney][] = [
      ...input.pricing.commitments.map(
        (c, n) => [`pricing.commitments[${n}].unit_price`, c.unitPrice] as [string, GoogleMoney],
      ),
      ...input.pricing.usageRates.map(
        (u, n) => [`pricing.usage_rates[${n}].unit_price`, u.unitPrice] as [string, GoogleMoney],
      ),
      ...(input.paymentSchedule?.installments ?? []).map(
        (i, n) => [`payment_schedule.installments[${n}].amount`, i.amount] as [string, GoogleMoney],
      ),
      ...(input.reseller?.wholesalePrice
        ? [['reseller.wholesale_price', input.reseller.wholesalePrice] as [string, GoogleMoney]]
        : []),
    ];
    for (const [field, money] of moneys)
      if (money.currencyCode !== currency) add(field, `must be in ${currency}`);
    if (input.pricing.commitments.length === 0 && input.pricing.usageRates.length === 0)
      add('pricing', 'an offer needs a commitment or a usage rate');
    const installments = input.paymentSchedule?.installments ?? [];
    if (installments.length > 0) {
      const total = input.pricing.commitments.reduce(
        (sum, c) => sum + nanosOf(c.unitPrice) * BigInt(c.quantity),
        0n,
      );
      const paid = installments.reduce((sum, i) => sum + nanosOf(i.amount), 0n);
      if (paid !== total)
        add('payment_schedule', 'the installments must add up to the commitments');
    }
    if (input.eula.type === 'CUSTOM' && !input.eula.uri.startsWith('https://'))
      add('eula.uri', 'must be an https:// address');
    if (violations.length === 0) return null;
    return {
      code: RPC_CODES.INVALID_ARGUMENT,
      message: `The private offer is invalid: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`,
      details: [badRequest(violations)],
    };
  }

  getOperation(id: string): GcpOperation {
    const op = this.ops.find((o) => o.id === id);
    if (op === undefined)
      throw new GoogleError(404, 'NOT_FOUND', `Operation operations/${id} was not found.`);
    op.reads += 1;
    if (op.reads >= this.steps && !op.finished) {
      op.finished = true;
      if (op.error === null) {
        if (this.offers.length >= GCP_OFFER_SIM_OFFERS_MAX) this.offers.shift();
        const at = this.now().toISOString();
        const offer: GcpPrivateOffer = {
          ...structuredClone(op.input),
          name: `providers/${op.providerId}/privateOffers/${randomUUID()}`,
          state: 'PUBLISHED',
          createTime: at,
          updateTime: at,
        };
        this.offers.push(offer);
        op.offer = offer;
      }
    }
    return this.view(op);
  }

  private view(op: OperationState): GcpOperation {
    const base = {
      name: `operations/${op.id}`,
      done: op.finished,
      metadata: {
        '@type': OPERATION_METADATA_TYPE_URL,
        createTime: op.createTime,
        target: `providers/${op.providerId}/privateOffers`,
        verb: 'create',
      },
    };
    if (!op.finished) return structuredClone(base);
    if (op.offer !== null)
      return structuredClone({
        ...base,
        response: { '@type': PRIVATE_OFFER_TYPE_URL, ...op.offer },
      });
    return structuredClone({
      ...base,
      error: op.error ?? { code: RPC_CODES.INTERNAL, message: 'unknown' },
    });
  }

  getPrivateOffer(providerId: string, id: string): GcpPrivateOffer {
    const name = `providers/${providerId}/privateOffers/${id}`;
    const offer = this.offers.find((o) => o.name === name);
    if (offer === undefined)
      throw new GoogleError(404, 'NOT_FOUND', `Private offer ${name} was not found.`);
    return structuredClone(offer);
  }

  getProduct(providerId: string, productId: string): Record<string, unknown> {
    const product = this.products().find(
      (p) => p.providerId === providerId && p.productId === productId,
    );
    if (product === undefined)
      throw new GoogleError(
        404,
        'NOT_FOUND',
        `Product providers/${providerId}/products/${productId} was not found.`,
      );
    return {
      name: `providers/${providerId}/products/${productId}`,
      displayName: product.displayName,
      plans: product.plans.map((plan) => ({ name: plan })),
      state: 'PUBLISHED',
    };
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

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return readBoundedBody(request, GCP_OFFER_SIM_BODY_BYTES_MAX);
}

const OFFERS_PATH = /^\/v1beta\/providers\/([^/:]+)\/privateOffers(?:\/([^/:]+))?$/;
const OPERATION_PATH = /^\/v1beta\/operations\/([^/:]+)$/;
const PRODUCTS_PATH = /^\/v1beta\/providers\/([^/:]+)\/products(?:\/([^/:]+))?(?::[A-Za-z]+)?$/;

interface Route {
  readonly method: GcpOfferMethod;
  readonly run: (query: URLSearchParams, body: unknown) => { status: number; body: unknown };
}

function route(model: GcpOfferModel, httpMethod: string, path: string): Route | null {
  const offers = OFFERS_PATH.exec(path);
  if (offers !== null) {
    const [, provider = '', id] = offers;
    if (id === undefined && httpMethod === 'POST')
      return {
        method: 'CreatePrivateOffer',
        run: (query, body) => ({
          status: 200,
          body: model.create(provider, query.get('requestId'), body),
        }),
      };
    if (id !== undefined && httpMethod === 'GET')
      return {
        method: 'GetPrivateOffer',
        run: () => ({ status: 200, body: model.getPrivateOffer(provider, id) }),
      };
    throw new GoogleError(
      405,
      'INVALID_ARGUMENT',
      `${httpMethod} is not supported on ${path}`,
      [],
      {
        allow: id === undefined ? 'POST' : 'GET',
      },
    );
  }
  const operation = OPERATION_PATH.exec(path);
  if (operation !== null) {
    const id = operation[1] ?? '';
    if (httpMethod !== 'GET')
      throw new GoogleError(
        405,
        'INVALID_ARGUMENT',
        `${httpMethod} is not supported on ${path}`,
        [],
        {
          allow: 'GET',
        },
      );
    return { method: 'GetOperation', run: () => ({ status: 200, body: model.getOperation(id) }) };
  }
  const products = PRODUCTS_PATH.exec(path);
  if (products !== null) {
    const [, provider = '', id] = products;
    if (httpMethod === 'GET' && id !== undefined && !path.includes(':'))
      return {
        method: 'GetProduct',
        run: () => ({ status: 200, body: model.getProduct(provider, id) }),
      };
    // Errata: "GCP listings have no write API"; the simulator says so instead of pretending.
    throw new GoogleError(
      405,
      'UNIMPLEMENTED',
      `${httpMethod} ${path}: Google Cloud Marketplace has no API to write products or listings; edit the listing in the Producer Portal. Only GET of one product is available.`,
      [],
      { allow: 'GET' },
    );
  }
  return null;
}

async function handleApi(
  model: GcpOfferModel,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const httpMethod = request.method ?? 'GET';
  const path = url.pathname;
  const raw = await readBody(request);
  let input: unknown = null;
  let method: GcpOfferMethod | 'Unknown' = 'Unknown';
  const finish = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    model.recordCall({
      method,
      httpMethod,
      path,
      query: Object.fromEntries(url.searchParams),
      input,
      status,
      at: model.now().toISOString(),
    });
    sendJson(response, status, body, headers);
  };
  try {
    const found = route(model, httpMethod, path);
    if (found === null)
      throw new GoogleError(
        404,
        'NOT_FOUND',
        `The requested URL ${path.slice(0, 256)} was not found on this server.`,
      );
    method = found.method;
    if (raw === null)
      throw new GoogleError(
        413,
        'INVALID_ARGUMENT',
        `Request payload size exceeds the limit: ${GCP_OFFER_SIM_BODY_BYTES_MAX} bytes.`,
      );
    if (raw.length > 0) {
      try {
        input = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new GoogleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      }
    }
    // A token is required but not checked, like the Procurement API half of this simulator.
    if (!/^Bearer\s+\S+$/i.test(request.headers.authorization?.trim() ?? ''))
      throw new GoogleError(
        401,
        'UNAUTHENTICATED',
        'Request is missing required authentication credential. Expected OAuth 2 access token.',
      );
    const fault = model.takeCallFault(found.method);
    if (fault === 'throttle')
      throw new GoogleError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded (simulated fault).');
    if (fault === 'server-error')
      throw new GoogleError(500, 'INTERNAL', 'Internal error encountered (simulated fault).');
    const answer = found.run(url.searchParams, input);
    finish(answer.status, answer.body);
  } catch (error) {
    if (!(error instanceof GoogleError)) throw error;
    finish(
      error.httpStatus,
      {
        error: {
          code: error.httpStatus,
          message: error.message,
          status: error.status,
          ...(error.details.length > 0 ? { details: error.details } : {}),
        },
      },
      error.headers,
    );
  }
}

async function handleControl(
  model: GcpOfferModel,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET';
  const raw = await readBody(request);
  const fail = (status: number, code: string, message: string) =>
    sendJson(response, status, { error: { code, message, details: [] } });
  if (raw === null) {
    fail(413, 'payload_too_large', `Request body exceeds ${GCP_OFFER_SIM_BODY_BYTES_MAX} bytes`);
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
          operations: model.operations(),
          calls: model.calls(),
        });
        return;
      case 'POST /_sim/offers/products':
        model.setProducts(body as GcpOfferProduct[]);
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/offers/steps':
        model.setStepsToComplete((body as { steps?: unknown } | undefined)?.steps as number);
        sendJson(response, 204, undefined);
        return;
      case 'POST /_sim/offers/faults':
        model.injectFault(body as GcpOfferFault);
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

/** The private-offer half, for gcp-simulator.ts to mount on its server. */
export function createGcpOfferSimulator(
  options: GcpOfferSimulatorOptions = {},
): GcpOfferSimulatorHandle {
  const model = new GcpOfferModel(options.now ?? (() => new Date()), options.catalog);
  return {
    products: () => model.products(),
    setProducts: (products) => model.setProducts(products),
    privateOffers: () => model.privateOffers(),
    operations: () => model.operations(),
    setStepsToComplete: (steps) => model.setStepsToComplete(steps),
    injectFault: (fault) => model.injectFault(fault),
    clearFaults: () => model.clearFaults(),
    calls: () => model.calls(),
    reset: () => model.reset(),
    owns: (pathname) =>
      pathname.startsWith(PRODUCER_API_PREFIX) ||
      pathname === '/_sim/offers' ||
      pathname.startsWith('/_sim/offers/'),
    handle: (request, response, url) =>
      url.pathname.startsWith(PRODUCER_API_PREFIX)
        ? handleApi(model, request, response, url)
        : handleControl(model, request, response, url),
  };
}
