/**
 * The seeded history generator: what the marketplaces and finance do, step by step. It keeps its
 * own picture of the world (what each marketplace holds, what is due) and never looks at the
 * system under test, so a seed always yields the same history whatever the system does.
 */
import { addDays, addMonths } from './dates';
import { Prng } from './prng';
import { registrationExpiry } from './registrations';

export const SELLER_ACCOUNT = '111122223333';
export const AWS_PRODUCT_ID = 'prod-agorademo01';
/** Buyers share FIFO groups (marketplace, buyer), so some syncs queue behind others. */
export const BUYERS = ['400000000001', '400000000002', '400000000003', '400000000004'];
export const SIM_START = '2026-01-05';
/**
 * Buyers a partner registers before the seller knows them: one fresh account per registration
 * (so the seller never works them directly), 410000000001 on.
 */
export const REGISTERED_BUYER_BASE = 410_000_000_000;
/** Chance a step (not forced by a term's end) is a deal registration, drawn from its own stream. */
export const REGISTRATION_RATE = 0.03;
/** Days after a registration's expiry its customer may still close the deal (then unsourced). */
export const REGISTERED_DEAL_LAPSE_DAYS = 20;

export interface Installment {
  readonly date: string;
  readonly amountMinor: bigint;
}

export interface AgreementSpec {
  readonly agreementId: string;
  readonly licenseId: string;
  readonly buyer: string;
  readonly offerId: string;
  readonly start: string;
  /** Exclusive end of the term. */
  readonly end: string;
  readonly installments: readonly Installment[];
  readonly intent: 'NEW' | 'RENEW' | 'REPLACE';
  readonly previousAgreementId: string | null;
  /** A usage-priced agreement: its metered dimension and unit price (USD, whole cents). */
  readonly usage: { readonly dimension: string; readonly unitPriceMinor: bigint } | null;
}

/** The metered dimension of usage-priced AWS agreements. */
export const USAGE_DIMENSION = 'api_calls';

export const AZURE_OFFER = 'agora-saas';
export const AZURE_PUBLISHER = 'agorapublisher';
/** Monthly plans count seats; the annual plan is flat (no quantity). */
export const AZURE_PLANS = {
  'gold-monthly': { months: 1, seats: true },
  'platinum-monthly': { months: 1, seats: true },
  'gold-annual': { months: 12, seats: false },
} as const;
export type AzurePlan = keyof typeof AZURE_PLANS;
export const GCP_PROVIDER = 'agora-demo-provider';
export const GCP_PRODUCT = 'agora-saas.endpoints.agora-demo.cloud.goog';
export const GCP_ACCOUNTS = ['E-SIM-ACCT-0001', 'E-SIM-ACCT-0002', 'E-SIM-ACCT-0003'];
export const GCP_PLANS = ['standard', 'premium', 'enterprise'] as const;

export type Marketplace = 'aws' | 'azure' | 'gcp';
export type Channel =
  | 'eventbridge'
  | 'azure-webhook'
  | 'azure-landing'
  | 'azure-activate'
  | 'gcp-push';

/** One message a marketplace sends (delivered through the real inlets). */
export interface Notification {
  readonly id: string;
  readonly marketplace: Marketplace;
  readonly channel: Channel;
  readonly body: Record<string, unknown>;
  /** A payload the service cannot act on: it must be kept and dead-lettered. */
  readonly poison: boolean;
  /** The agreement, subscription or entitlement it concerns (null for poison). */
  readonly agreementId: string | null;
}

/** An Azure SaaS subscription as Microsoft holds it. */
export interface AzureSub {
  readonly id: string;
  readonly tenant: string;
  readonly token: string;
  readonly created: string;
  plan: AzurePlan;
  quantity: number | null;
  status: 'PendingFulfillmentStart' | 'Subscribed' | 'Suspended' | 'Unsubscribed';
  /** Term dates once activated (end exclusive). */
  start: string | null;
  end: string | null;
  /** Source instant of the last change (ISO). */
  lastModified: string;
  /** The landing page was visited (the service knows it). */
  created_: boolean;
}

export interface AzureOperation {
  readonly id: string;
  readonly subscriptionId: string;
  readonly action:
    | 'ChangePlan'
    | 'ChangeQuantity'
    | 'Renew'
    | 'Suspend'
    | 'Reinstate'
    | 'Unsubscribe';
  readonly planId: string;
  readonly quantity: number | null;
  readonly timeStamp: string;
}

/** A Google Cloud entitlement as the Procurement API holds it. */
export interface GcpEnt {
  readonly id: string;
  readonly accountId: string;
  readonly createTime: string;
  plan: string;
  status: 'ACTIVE' | 'CANCELLED' | 'EXPIRED';
  /** Offer end (exclusive date). */
  readonly offerEnd: string;
  /** Set when it ended: the exclusive end date. */
  endedOn: string | null;
  updateTime: string;
  created_: boolean;
}

/** What a re-read of the marketplace shows about one subject (canonical terms). */
export interface Truth {
  readonly status: 'pending' | 'active' | 'suspended' | 'cancelled' | 'expired';
  readonly plan: string | null;
  readonly quantity: number | null;
  readonly start: string;
  /** Exclusive end, null when open. */
  readonly end: string | null;
}

export type FaultPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'dynamo-throttle'; readonly atWrite: number }
  | { readonly kind: 'dynamo-conflict'; readonly atWrite: number }
  /** The write lands, then the caller sees an error: a crash between two writes. */
  | { readonly kind: 'dynamo-crash-after'; readonly atWrite: number }
  | {
      readonly kind: 'marketplace';
      readonly marketplace: Marketplace;
      readonly fault: 'server-error' | 'throttle' | 'empty';
      readonly operation:
        | '*'
        | 'DescribeAgreement'
        | 'GetAgreementTerms'
        | 'GetAgreementEntitlements';
      readonly times: number;
    };

export type Action =
  | { readonly kind: 'aws.create'; readonly agreement: AgreementSpec }
  /** The buyer accepts a renewal offer on the day the old agreement ends (a new agreement). */
  | {
      readonly kind: 'aws.renew';
      readonly previousAgreementId: string;
      readonly agreement: AgreementSpec;
    }
  /**
   * A mid-term upgrade: the buyer accepts a replacement offer today; the new agreement (intent
   * REPLACE) carries the old one's id, and the old agreement ends today with status REPLACED.
   */
  | {
      readonly kind: 'aws.replace';
      readonly previousAgreementId: string;
      readonly agreement: AgreementSpec;
    }
  | {
      readonly kind: 'azure.purchase';
      readonly subscriptionId: string;
      readonly plan: AzurePlan;
      readonly quantity: number | null;
    }
  | { readonly kind: 'azure.activate'; readonly subscriptionId: string }
  | {
      readonly kind: 'azure.change';
      readonly subscriptionId: string;
      readonly action: AzureOperation['action'];
      readonly plan?: AzurePlan;
      readonly quantity?: number;
    }
  | {
      readonly kind: 'gcp.create';
      readonly entitlementId: string;
      readonly plan: string;
      readonly months: number;
    }
  | { readonly kind: 'gcp.change-plan'; readonly entitlementId: string; readonly plan: string }
  | { readonly kind: 'gcp.cancel'; readonly entitlementId: string }
  | { readonly kind: 'gcp.expire'; readonly entitlementId: string }
  | { readonly kind: 'aws.cancel'; readonly agreementId: string; readonly end: string }
  | { readonly kind: 'aws.expire'; readonly agreementId: string }
  | {
      readonly kind: 'aws.refund';
      readonly agreementId: string;
      readonly adjustmentId: string;
      readonly amountMinor: bigint;
    }
  | {
      readonly kind: 'disburse';
      readonly agreementId: string;
      readonly disbursementId: string;
      readonly amountMinor: bigint;
    }
  | { readonly kind: 'poison' }
  /**
   * The seller's product posts an hour of metered usage for a usage-priced agreement
   * (POST /v1/usage), then the hourly flush reports the sealed hour. `resend`: the client sends
   * the same batch again (same record ids: a no-op).
   */
  | {
      readonly kind: 'usage';
      readonly agreementId: string;
      /** The hour's start (ISO instant). */
      readonly hour: string;
      readonly records: readonly {
        readonly recordId: string;
        readonly minute: number;
        readonly quantity: number;
      }[];
      readonly resend: boolean;
    }
  /**
   * A partner registers a deal (customer account, AWS product) before it exists
   * (POST /v1/deal-registrations with the partner's token). `approved`: a fresh buyer, the rules
   * approve it; `registration_conflict`: the other partner registers a buyer still inside its
   * registration's window (before the deal), and is refused. `expiresOn`: the expiry the partner
   * asks for (null: the window's end). `resend`: the partner submits it again (same registration).
   */
  | {
      readonly kind: 'registration';
      readonly buyer: string;
      readonly partnerId: string;
      readonly expect: 'approved' | 'registration_conflict';
      readonly expiresOn: string | null;
      readonly expectedValueMinor: bigint;
      readonly resend: boolean;
    }
  /** A partner's sourced touch on an AWS deal, recorded by the seller (POST /v1/touches). */
  | {
      readonly kind: 'touch';
      readonly agreementId: string;
      readonly partnerId: string;
      readonly at: string;
    }
  | { readonly kind: 'advance'; readonly days: number }
  | { readonly kind: 'redeliver-late' };

export interface Step {
  readonly index: number;
  /** The simulated date the step happens on. */
  readonly date: string;
  readonly action: Action;
  /** Notifications sent by this step's action. */
  readonly sent: readonly Notification[];
  /** What is delivered now, in this order (duplicates appear twice; late ones are parked). */
  readonly deliveries: readonly Notification[];
  /** Ids of the sent notifications parked for a later step. */
  readonly parked: readonly string[];
  readonly fault: FaultPlan;
}

export interface GeneratorOptions {
  readonly seed: number;
  readonly faults: boolean;
  /**
   * Also answer DescribeAgreement / GetAgreementTerms empty (on by default since the service
   * treats an incomplete agreement read as not ready; off reproduces the older fault mix).
   */
  readonly emptyAgreementReads?: boolean;
  /** Marketplaces in the history (default all three). */
  readonly marketplaces?: readonly Marketplace[];
  /**
   * Histories that hit behaviour the simulation found and the service does not handle yet (see
   * the README's Simulation section); off by default, `--expose-known-bugs` turns them on.
   * (Returns to an earlier state, AWS cancellations ending on a month's last day, renewal fees
   * and replacements with installments left are always generated: those are fixed.)
   */
  readonly exposeKnownBugs?: boolean;
}

interface AgreementState {
  readonly spec: AgreementSpec;
  status: 'ACTIVE' | 'CANCELLED' | 'EXPIRED' | 'RENEWED' | 'REPLACED';
  end: string;
  refundedMinor: bigint;
  disbursedMinor: bigint;
  /** Its creation notification reached the service (so it may be refunded or paid out). */
  created: boolean;
  /** What the daily billing job has billed (installments due on a run day after creation). */
  billedMinor: bigint;
  /** A partner touch was recorded for it. */
  touched: boolean;
  /** Days usage was posted for it (one hour a day at most). */
  readonly usageDays: Set<string>;
}

export const PARTNERS = ['sim-partner-1', 'sim-partner-2'] as const;

/** A registration the rules approved, as the world knows it (one per registered buyer). */
export interface RegistrationState {
  readonly buyer: string;
  readonly partnerId: string;
  /** Submission day. */
  readonly on: string;
  /** Last protected day. */
  readonly expiresOn: string;
  /** Its buyer's deal was created (no more conflicting registrations then). */
  dealt: boolean;
  /** The other partner tried to register it too. */
  contested: boolean;
}

/** The world as the marketplaces see it, and the history so far. */
export class Generator {
  readonly agreements = new Map<string, AgreementState>();
  readonly azure = new Map<string, AzureSub>();
  readonly azureOperations: AzureOperation[] = [];
  readonly gcp = new Map<string, GcpEnt>();
  /** Approved registrations by buyer account. */
  readonly registrations = new Map<string, RegistrationState>();
  /**
   * Registrations draw from their own stream, so a history is the same as without them up to
   * its first registration.
   */
  private readonly registrationPrng: Prng;
  private registeredBuyers = 0;
  /** (change kind, resulting state) pairs each subject went through. */
  private readonly late: Notification[] = [];
  private today = SIM_START;
  private counter = 0;
  private steps = 0;

  constructor(
    private readonly prng: Prng,
    private readonly options: GeneratorOptions,
  ) {
    this.registrationPrng = new Prng((options.seed ^ 0x5eed4e60) >>> 0);
  }

  get date(): string {
    return this.today;
  }

  private nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.options.seed.toString(36)}x${this.counter.toString(36)}`;
  }

  /** The next step of the history. */
  next(): Step {
    const index = this.steps;
    this.steps += 1;
    const action = this.chooseAction();

    const sent = this.apply(action);
    const fault = this.chooseFault(action);
    const { deliveries, parked } = this.schedule(action, sent);
    return { index, date: this.today, action, sent, deliveries, parked, fault };
  }

  /** Everything still parked, delivered in a final step so the history converges. */
  drainLate(): Step {
    const index = this.steps;
    this.steps += 1;
    const deliveries = this.late.splice(0, this.late.length);
    return {
      index,
      date: this.today,
      action: { kind: 'redeliver-late' },
      sent: [],
      deliveries,
      parked: [],
      fault: { kind: 'none' },
    };
  }

  /** The marketplace's truth about one subject, as a re-read shows it now. */
  truthOf(id: string): Truth | null {
    const a = this.agreements.get(id);
    if (a)
      return {
        status:
          a.status === 'ACTIVE' ? 'active' : a.status === 'CANCELLED' ? 'cancelled' : 'expired',
        plan: null,
        quantity: null,
        start: a.spec.start,
        end: a.end,
      };
    const sub = this.azure.get(id);
    if (sub)
      return {
        status:
          sub.status === 'Subscribed'
            ? 'active'
            : sub.status === 'Suspended'
              ? 'suspended'
              : sub.status === 'Unsubscribed'
                ? 'cancelled'
                : 'pending',
        plan: sub.plan,
        quantity: sub.quantity,
        start: sub.start ?? sub.created.slice(0, 10),
        end: sub.end,
      };
    const ent = this.gcp.get(id);
    if (ent)
      return {
        status:
          ent.status === 'ACTIVE' ? 'active' : ent.status === 'CANCELLED' ? 'cancelled' : 'expired',
        plan: ent.plan,
        quantity: null,
        start: ent.createTime.slice(0, 10),
        end: ent.endedOn ?? ent.offerEnd,
      };
    return null;
  }

  private live(): AgreementState[] {
    return [...this.agreements.values()].filter((a) => a.status === 'ACTIVE');
  }

  /** Amount billed by the marketplace so far (installments due by today). */
  billedOf(a: AgreementState): bigint {
    return a.billedMinor;
  }

  private enabled(marketplace: Marketplace): boolean {
    return (this.options.marketplaces ?? ['aws', 'azure', 'gcp']).includes(marketplace);
  }

  /** A source instant on today, strictly later than any earlier one (changes stay ordered). */
  private stamp(): string {
    this.counter += 1;
    const seconds = 36_000 + (this.counter % 36_000);
    const hh = String(Math.floor(seconds / 3600)).padStart(2, '0');
    const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0');
    const ss = String(seconds % 60).padStart(2, '0');
    return `${this.today}T${hh}:${mm}:${ss}Z`;
  }

  private guid(): string {
    this.counter += 1;
    const a = (this.options.seed >>> 0).toString(16).padStart(8, '0');
    const b = this.counter.toString(16).padStart(12, '0');
    return `${a}-0000-4000-8000-${b}`;
  }

  private chooseAction(): Action {
    // Terms that ended are ended (or renewed) by the marketplace first.
    const due = this.live().find((a) => a.end <= this.today);
    if (due) {
      if (due.created && due.spec.intent === 'NEW' && this.prng.chance(0.5))
        return {
          kind: 'aws.renew',
          previousAgreementId: due.spec.agreementId,
          agreement: this.newAgreement({
            buyer: due.spec.buyer,
            start: due.end,
            previousAgreementId: due.spec.agreementId,
          }),
        };
      return { kind: 'aws.expire', agreementId: due.spec.agreementId };
    }
    const renewDue = [...this.azure.values()].find(
      (s) => s.status === 'Subscribed' && s.end !== null && s.end <= this.today,
    );
    if (renewDue) return { kind: 'azure.change', subscriptionId: renewDue.id, action: 'Renew' };
    const gcpDue = [...this.gcp.values()].find(
      (e) => e.status === 'ACTIVE' && e.offerEnd <= this.today,
    );
    if (gcpDue) return { kind: 'gcp.expire', entitlementId: gcpDue.id };
    const registration = this.chooseRegistration();
    if (registration) return registration;

    const live = this.live();
    const created = live.filter((a) => a.created);
    const refundable = created.filter(
      (a) => this.billedOf(a) - a.refundedMinor - a.disbursedMinor > 10_000n,
    );
    const payable = [...this.agreements.values()].filter(
      (a) => a.created && this.payableOf(a) > 1_000n,
    );
    const subs = [...this.azure.values()];
    const pendingSubs = subs.filter((s) => s.status === 'PendingFulfillmentStart' && s.created_);
    const subscribed = subs.filter((s) => s.status === 'Subscribed' && s.created_);
    const suspended = subs.filter((s) => s.status === 'Suspended');
    const liveSubs = subs.filter((s) => s.status !== 'Unsubscribed');
    const ents = [...this.gcp.values()].filter((e) => e.status === 'ACTIVE' && e.created_);
    const liveEnts = [...this.gcp.values()].filter((e) => e.status === 'ACTIVE');
    const choices: [number, string][] = [
      [live.length < 3 ? 30 : 14, 'create'],
      [32, 'advance'],
    ];
    if (live.length > 0) choices.push([4, 'cancel']);
    const replaceable = this.replaceable();
    if (replaceable.length > 0) choices.push([4, 'replace']);
    if (refundable.length > 0) choices.push([4, 'refund']);
    if (payable.length > 0) choices.push([8, 'disburse']);
    if (this.late.length > 0) choices.push([6, 'redeliver-late']);
    if (this.options.faults) choices.push([2, 'poison']);
    const meterable = created.filter(
      (a) => a.spec.usage !== null && a.spec.start <= this.today && !a.usageDays.has(this.today),
    );
    if (meterable.length > 0) choices.push([10, 'usage']);
    // A touch recorded after a month of the deal closed is paid differently from README's
    // catch-up on the cumulative basis (and, seen here, sometimes a unit or two more than the
    // months left): only with the known bugs exposed; otherwise touches come in the deal's month.
    // A registered buyer's deals are sourced by the registration alone (one sourced partner).
    const touchable = [...this.agreements.values()].filter(
      (a) =>
        !a.touched &&
        !this.registrations.has(a.spec.buyer) &&
        (this.options.exposeKnownBugs || a.spec.start.slice(0, 7) === this.today.slice(0, 7)),
    );
    if (touchable.length > 0) choices.push([5, 'touch']);
    // A registered customer closes its deal: mostly inside the registration's expiry, now and
    // then after it lapsed. On the registration's own day (after the 09:00 acceptance, so the
    // registration does not count) only with --expose-known-bugs, to keep default histories.
    const awaiting = [...this.registrations.values()].filter(
      (r) =>
        !r.dealt &&
        (this.options.exposeKnownBugs ? r.on <= this.today : r.on < this.today) &&
        this.today <= addDays(r.expiresOn, REGISTERED_DEAL_LAPSE_DAYS),
    );
    if (awaiting.length > 0) choices.push([10, 'registered-create']);
    if (this.enabled('azure')) {
      choices.push([liveSubs.length < 3 ? 10 : 3, 'azure.purchase']);
      if (pendingSubs.length > 0) choices.push([8, 'azure.activate']);
      if (subscribed.length > 0) choices.push([8, 'azure.change']);
      if (suspended.length > 0) choices.push([3, 'azure.reinstate']);
    }
    if (this.enabled('gcp')) {
      choices.push([liveEnts.length < 3 ? 10 : 3, 'gcp.create']);
      if (ents.length > 0) choices.push([5, 'gcp.change-plan'], [2, 'gcp.cancel']);
    }
    const kind = this.prng.weighted(choices);
    switch (kind) {
      case 'create':
        return { kind: 'aws.create', agreement: this.newAgreement() };
      case 'registered-create':
        return {
          kind: 'aws.create',
          agreement: this.newAgreement(null, this.prng.pick(awaiting).buyer),
        };
      case 'azure.purchase': {
        const plan = this.prng.pick(Object.keys(AZURE_PLANS) as AzurePlan[]);
        return {
          kind: 'azure.purchase',
          subscriptionId: this.guid(),
          plan,
          quantity: AZURE_PLANS[plan].seats ? this.prng.int(1, 50) : null,
        };
      }
      case 'azure.activate':
        return { kind: 'azure.activate', subscriptionId: this.prng.pick(pendingSubs).id };
      case 'azure.reinstate':
        return {
          kind: 'azure.change',
          subscriptionId: this.prng.pick(suspended).id,
          action: 'Reinstate',
        };
      case 'azure.change': {
        const sub = this.prng.pick(subscribed);
        const seats = AZURE_PLANS[sub.plan].seats;
        const action = this.prng.weighted<AzureOperation['action']>([
          [seats ? 4 : 0, 'ChangePlan'],
          [seats ? 4 : 0, 'ChangeQuantity'],
          [2, 'Suspend'],
          [2, 'Unsubscribe'],
        ]);
        if (action === 'ChangePlan')
          return {
            kind: 'azure.change',
            subscriptionId: sub.id,
            action,
            plan: sub.plan === 'gold-monthly' ? 'platinum-monthly' : 'gold-monthly',
          };
        if (action === 'ChangeQuantity') {
          let quantity = this.prng.int(1, 60);
          if (quantity === sub.quantity) quantity += 1;
          return { kind: 'azure.change', subscriptionId: sub.id, action, quantity };
        }
        return { kind: 'azure.change', subscriptionId: sub.id, action };
      }
      case 'gcp.create':
        return {
          kind: 'gcp.create',
          entitlementId: this.nextId('ent-sim-'),
          plan: this.prng.pick(GCP_PLANS),
          months: this.prng.pick([1, 3, 12]),
        };
      case 'gcp.change-plan': {
        const e = this.prng.pick(ents);
        const plan = this.prng.pick(GCP_PLANS.filter((p) => p !== e.plan));
        return { kind: 'gcp.change-plan', entitlementId: e.id, plan };
      }
      case 'gcp.cancel':
        return { kind: 'gcp.cancel', entitlementId: this.prng.pick(ents).id };
      case 'replace': {
        const a = this.prng.pick(replaceable);
        return {
          kind: 'aws.replace',
          previousAgreementId: a.spec.agreementId,
          agreement: this.newAgreement({
            buyer: a.spec.buyer,
            start: this.today,
            previousAgreementId: a.spec.agreementId,
            intent: 'REPLACE',
          }),
        };
      }
      case 'cancel': {
        const a = this.prng.pick(live);
        const end = addDays(this.today, 1);

        return { kind: 'aws.cancel', agreementId: a.spec.agreementId, end };
      }
      case 'refund': {
        const a = this.prng.pick(refundable);
        const room = this.billedOf(a) - a.refundedMinor - a.disbursedMinor;
        const amountMinor = 100n + BigInt(this.prng.int(0, Number(room / 5n)));
        return {
          kind: 'aws.refund',
          agreementId: a.spec.agreementId,
          adjustmentId: this.nextId('ba-'),
          amountMinor,
        };
      }
      case 'disburse': {
        const a = this.prng.pick(payable);
        const room = this.payableOf(a);
        const amountMinor = 100n + BigInt(this.prng.int(0, Number(room - 100n)));
        return {
          kind: 'disburse',
          agreementId: a.spec.agreementId,
          disbursementId: this.nextId('disb-'),
          amountMinor,
        };
      }
      case 'usage': {
        const a = this.prng.pick(meterable);
        const records = [];
        for (let n = this.prng.int(1, 4); n > 0; n -= 1)
          records.push({
            recordId: this.nextId('use-'),
            minute: this.prng.int(0, 44),
            quantity: this.prng.int(1, 500),
          });
        return {
          kind: 'usage',
          agreementId: a.spec.agreementId,
          hour: `${this.today}T10:00:00.000Z`,
          records,
          resend: this.options.faults && this.prng.chance(0.3),
        };
      }
      case 'redeliver-late':
        return { kind: 'redeliver-late' };
      case 'poison':
        return { kind: 'poison' };
      case 'touch': {
        const a = this.prng.pick(touchable);
        return {
          kind: 'touch',
          agreementId: a.spec.agreementId,
          partnerId: this.prng.pick(PARTNERS),
          // The partner's part in the deal is dated at the buyer's acceptance.
          at: `${a.spec.start}T08:30:00Z`,
        };
      }
      default:
        return {
          kind: 'advance',
          days: this.prng.weighted([
            [5, 1],
            [3, 3],
            [2, 9],
          ] as const),
        };
    }
  }

  /**
   * Now and then (its own stream) a partner registers a deal: a fresh buyer, or — while a
   * registration's window is open and its deal not yet made — the other partner the same buyer.
   */
  private chooseRegistration(): Action | null {
    const prng = this.registrationPrng;
    if (!this.enabled('aws') || !prng.chance(REGISTRATION_RATE)) return null;
    const contestable = [...this.registrations.values()].filter(
      (r) => !r.dealt && !r.contested && this.today <= r.expiresOn,
    );
    if (contestable.length > 0 && prng.chance(0.4)) {
      const r = prng.pick(contestable);
      return {
        kind: 'registration',
        buyer: r.buyer,
        partnerId: PARTNERS.find((p) => p !== r.partnerId) ?? PARTNERS[0],
        expect: 'registration_conflict',
        expiresOn: null,
        expectedValueMinor: BigInt(prng.int(100_000, 5_000_000)),
        resend: false,
      };
    }
    this.registeredBuyers += 1;
    return {
      kind: 'registration',
      buyer: String(REGISTERED_BUYER_BASE + this.registeredBuyers),
      partnerId: prng.pick(PARTNERS),
      expect: 'approved',
      // Some partners ask for a short protection (so some deals close after it lapsed).
      expiresOn: prng.chance(0.3) ? addDays(this.today, prng.int(0, 10)) : null,
      expectedValueMinor: BigInt(prng.int(100_000, 5_000_000)),
      resend: prng.chance(0.25),
    };
  }

  /**
   * Agreements a replacement may upgrade: running (started before today, at least a week left),
   * their creation delivered (installments left to bill are dropped by the replacement).
   */
  private replaceable(): AgreementState[] {
    return this.live().filter(
      (a) => a.created && a.spec.start < this.today && addDays(this.today, 7) < a.end,
    );
  }

  /** What a payout may settle: well under the receivable net of the 3 % fee and refunds. */
  private payableOf(a: AgreementState): bigint {
    return (this.billedOf(a) * 90n) / 100n - a.refundedMinor - a.disbursedMinor;
  }

  private newAgreement(
    renewal: {
      buyer: string;
      start: string;
      previousAgreementId: string;
      intent?: 'RENEW' | 'REPLACE';
    } | null = null,
    buyer: string | null = null,
  ): AgreementSpec {
    const agreementId = this.nextId('agmt-sim');
    const licenseId = this.nextId('l-sim');
    const start = renewal?.start ?? this.today;
    const months = this.prng.pick([6, 12, 12, 24]);
    const end = addMonths(start, months);
    const every = this.prng.pick([1, 3, 6, 12]);
    const installments: Installment[] = [];
    for (let m = 0; m < months && installments.length < 6; m += every) {
      const date = addMonths(start, m);
      if (date >= end) break;
      installments.push({ date, amountMinor: BigInt(this.prng.int(10_000, 2_500_000)) });
    }
    return {
      agreementId,
      licenseId,
      buyer: renewal?.buyer ?? buyer ?? this.prng.pick(BUYERS),
      offerId: this.nextId('offer-sim'),
      start,
      end,
      installments,
      intent: renewal ? (renewal.intent ?? 'RENEW') : 'NEW',
      previousAgreementId: renewal?.previousAgreementId ?? null,
      // Some new agreements and upgrades also price usage (5 cents a call).
      usage:
        (renewal === null || renewal.intent === 'REPLACE') && this.prng.chance(0.35)
          ? { dimension: USAGE_DIMENSION, unitPriceMinor: 5n }
          : null,
    };
  }

  private notification(
    agreementId: string | null,
    detailType: string,
    detail: Record<string, unknown>,
    poison = false,
  ): Notification {
    const id = this.nextId('ev-sim-');
    return {
      id,
      marketplace: 'aws',
      channel: 'eventbridge',
      agreementId,
      poison,
      body: {
        version: '0',
        id,
        'detail-type': detailType,
        source: 'aws.agreement-marketplace',
        account: SELLER_ACCOUNT,
        time: `${this.today}T10:00:00Z`,
        region: 'us-east-1',
        resources: [],
        detail: { requestId: `req-${id}`, catalog: 'AWSMarketplace', ...detail },
      },
    };
  }

  private createAgreement(spec: AgreementSpec): Notification[] {
    this.agreements.set(spec.agreementId, {
      spec,
      status: 'ACTIVE',
      end: spec.end,
      refundedMinor: 0n,
      disbursedMinor: 0n,
      created: false,
      billedMinor: 0n,
      touched: false,
      usageDays: new Set(),
    });
    const agreement = {
      id: spec.agreementId,
      intent: spec.intent,
      ...(spec.previousAgreementId ? { previousAgreementId: spec.previousAgreementId } : {}),
      status: 'ACTIVE',
      acceptanceTime: `${spec.start}T09:00:00Z`,
      startTime: `${spec.start}T00:00:00Z`,
      endTime: `${addDays(spec.end, -1)}T23:59:59Z`,
    };
    const parties = {
      acceptor: { accountId: spec.buyer },
      proposer: { accountId: SELLER_ACCOUNT },
      offer: { id: spec.offerId },
    };
    // One purchase, several notifications (manufacturer and proposer views).
    return [
      this.notification(spec.agreementId, 'Purchase Agreement Created - Proposer', {
        agreement,
        ...parties,
      }),
      this.notification(spec.agreementId, 'Purchase Agreement Created - Manufacturer', {
        agreement,
        ...parties,
      }),
    ];
  }

  /** A Pub/Sub push body carrying one Procurement message (ids only, as Google sends). */
  private gcpMessage(ent: GcpEnt, eventType: string, newPlan?: string): Notification {
    const id = this.nextId('9');
    const message = {
      eventId: `${eventType}-${id}`,
      eventType,
      providerId: GCP_PROVIDER,
      entitlement: {
        id: ent.id,
        updateTime: ent.updateTime,
        ...(newPlan ? { newPlan } : {}),
      },
    };
    return {
      id,
      marketplace: 'gcp',
      channel: 'gcp-push',
      agreementId: ent.id,
      poison: false,
      body: {
        message: {
          data: Buffer.from(JSON.stringify(message)).toString('base64'),
          messageId: id,
          message_id: id,
          publishTime: ent.updateTime,
          attributes: {},
        },
        subscription: 'projects/agora-demo/subscriptions/agora-marketplace',
      },
    };
  }

  /** Changes the world and returns the notifications the marketplace sends. */
  private apply(action: Action): Notification[] {
    switch (action.kind) {
      case 'aws.create': {
        const registration = this.registrations.get(action.agreement.buyer);
        if (registration) registration.dealt = true;
        return this.createAgreement(action.agreement);
      }
      case 'registration':
        if (action.expect === 'approved')
          this.registrations.set(action.buyer, {
            buyer: action.buyer,
            partnerId: action.partnerId,
            on: this.today,
            expiresOn: registrationExpiry(this.today, action.expiresOn),
            dealt: false,
            contested: false,
          });
        else {
          const registration = this.registrations.get(action.buyer);
          if (registration) registration.contested = true;
        }
        return [];
      case 'aws.renew': {
        const old = this.agreements.get(action.previousAgreementId);
        const sent: Notification[] = [];
        if (old) {
          old.status = 'RENEWED';
          sent.push(
            this.notification(old.spec.agreementId, 'Purchase Agreement Ended - Proposer', {
              agreement: { id: old.spec.agreementId, status: 'RENEWED' },
              acceptor: { accountId: old.spec.buyer },
              proposer: { accountId: SELLER_ACCOUNT },
            }),
          );
        }
        return [...sent, ...this.createAgreement(action.agreement)];
      }
      case 'aws.replace': {
        const old = this.agreements.get(action.previousAgreementId);
        const sent: Notification[] = [];
        if (old) {
          old.status = 'REPLACED';
          old.end = this.today;
          sent.push(
            this.notification(old.spec.agreementId, 'Purchase Agreement Ended - Proposer', {
              agreement: { id: old.spec.agreementId, status: 'REPLACED' },
              acceptor: { accountId: old.spec.buyer },
              proposer: { accountId: SELLER_ACCOUNT },
            }),
          );
        }
        return [...sent, ...this.createAgreement(action.agreement)];
      }
      case 'azure.purchase': {
        const stamp = this.stamp();
        const sub: AzureSub = {
          id: action.subscriptionId,
          tenant: this.guid(),
          token: `landing-${action.subscriptionId}`,
          created: stamp,
          plan: action.plan,
          quantity: action.quantity,
          status: 'PendingFulfillmentStart',
          start: null,
          end: null,
          lastModified: stamp,
          created_: false,
        };
        this.azure.set(sub.id, sub);
        // The buyer lands on the seller's page with the marketplace token.
        return [
          {
            id: this.nextId('landing-'),
            marketplace: 'azure',
            channel: 'azure-landing',
            agreementId: sub.id,
            poison: false,
            body: { token: sub.token },
          },
        ];
      }
      case 'azure.activate': {
        const sub = this.azure.get(action.subscriptionId);
        if (!sub) return [];
        // The seller activates after provisioning; Microsoft starts the term today.
        sub.status = 'Subscribed';
        sub.start = this.today;
        sub.end = addMonths(this.today, AZURE_PLANS[sub.plan].months);
        sub.lastModified = this.stamp();
        return [
          {
            id: this.nextId('activate-'),
            marketplace: 'azure',
            channel: 'azure-activate',
            agreementId: sub.id,
            poison: false,
            body: { subscriptionId: sub.id, planId: sub.plan, quantity: sub.quantity },
          },
        ];
      }
      case 'azure.change': {
        const sub = this.azure.get(action.subscriptionId);
        if (!sub) return [];
        switch (action.action) {
          case 'ChangePlan':
            if (action.plan) sub.plan = action.plan;
            break;
          case 'ChangeQuantity':
            if (action.quantity !== undefined) sub.quantity = action.quantity;
            break;
          case 'Renew':
            if (sub.end) {
              sub.start = sub.end;
              sub.end = addMonths(sub.end, AZURE_PLANS[sub.plan].months);
            }
            break;
          case 'Suspend':
            sub.status = 'Suspended';
            break;
          case 'Reinstate':
            sub.status = 'Subscribed';
            break;
          case 'Unsubscribe':
            sub.status = 'Unsubscribed';
            break;
        }
        sub.lastModified = this.stamp();
        const operation: AzureOperation = {
          id: this.guid(),
          subscriptionId: sub.id,
          action: action.action,
          planId: sub.plan,
          quantity: sub.quantity,
          timeStamp: sub.lastModified,
        };
        this.azureOperations.push(operation);
        return [
          {
            id: operation.id,
            marketplace: 'azure',
            channel: 'azure-webhook',
            agreementId: sub.id,
            poison: false,
            body: {
              id: operation.id,
              activityId: `act-${operation.id}`,
              publisherId: AZURE_PUBLISHER,
              offerId: AZURE_OFFER,
              planId: operation.planId,
              quantity: operation.quantity,
              subscriptionId: sub.id,
              timeStamp: operation.timeStamp,
              action: operation.action,
              status: 'Succeeded',
              operationRequestSource: 'Azure',
            },
          },
        ];
      }
      case 'gcp.create': {
        const stamp = this.stamp();
        const ent: GcpEnt = {
          id: action.entitlementId,
          accountId: this.prng.pick(GCP_ACCOUNTS),
          createTime: stamp,
          plan: action.plan,
          status: 'ACTIVE',
          offerEnd: addMonths(this.today, action.months),
          endedOn: null,
          updateTime: stamp,
          created_: false,
        };
        this.gcp.set(ent.id, ent);
        return [this.gcpMessage(ent, 'ENTITLEMENT_ACTIVE')];
      }
      case 'gcp.change-plan': {
        const ent = this.gcp.get(action.entitlementId);
        if (!ent) return [];
        ent.plan = action.plan;
        ent.updateTime = this.stamp();
        return [this.gcpMessage(ent, 'ENTITLEMENT_PLAN_CHANGED', action.plan)];
      }
      case 'gcp.cancel': {
        const ent = this.gcp.get(action.entitlementId);
        if (!ent) return [];
        ent.status = 'CANCELLED';
        ent.endedOn = addDays(this.today, 1);
        ent.updateTime = this.stamp();
        return [this.gcpMessage(ent, 'ENTITLEMENT_CANCELLED')];
      }
      case 'gcp.expire': {
        const ent = this.gcp.get(action.entitlementId);
        if (!ent) return [];
        ent.status = 'EXPIRED';
        ent.endedOn = ent.offerEnd;
        ent.updateTime = this.stamp();
        return [this.gcpMessage(ent, 'ENTITLEMENT_OFFER_ENDED')];
      }
      case 'aws.cancel': {
        const a = this.agreements.get(action.agreementId);
        if (!a) return [];
        a.status = 'CANCELLED';
        a.end = action.end;
        return [
          this.notification(a.spec.agreementId, 'Purchase Agreement Ended - Proposer', {
            agreement: { id: a.spec.agreementId, status: 'CANCELLED' },
            acceptor: { accountId: a.spec.buyer },
            proposer: { accountId: SELLER_ACCOUNT },
          }),
        ];
      }
      case 'aws.expire': {
        const a = this.agreements.get(action.agreementId);
        if (!a) return [];
        a.status = 'EXPIRED';
        return [
          this.notification(a.spec.agreementId, 'Purchase Agreement Ended - Proposer', {
            agreement: { id: a.spec.agreementId, status: 'EXPIRED' },
            acceptor: { accountId: a.spec.buyer },
            proposer: { accountId: SELLER_ACCOUNT },
          }),
        ];
      }
      case 'aws.refund': {
        const a = this.agreements.get(action.agreementId);
        if (!a) return [];
        a.refundedMinor += action.amountMinor;
        return [
          this.notification(
            a.spec.agreementId,
            'Purchase Agreement Billing Adjustment Completed - Proposer',
            {
              agreement: { id: a.spec.agreementId },
              billingAdjustmentRequest: {
                id: action.adjustmentId,
                adjustmentAmount: majorOf(action.amountMinor),
                currencyCode: 'USD',
                adjustmentReasonCode: 'PRICING_ERROR',
              },
              invoice: { originalInvoiceId: `inv-${action.adjustmentId}` },
            },
          ),
        ];
      }
      case 'disburse': {
        const a = this.agreements.get(action.agreementId);
        if (a) a.disbursedMinor += action.amountMinor;
        return [];
      }
      case 'touch': {
        const a = this.agreements.get(action.agreementId);
        if (a) a.touched = true;
        return [];
      }
      case 'usage':
        this.agreements.get(action.agreementId)?.usageDays.add(this.today);
        return [];
      case 'poison':
        // Authenticated (EventBridge is in-account) but unreadable: no agreement id.
        return [
          this.notification(
            null,
            'Purchase Agreement Created - Proposer',
            { agreement: { intent: 'NEW' } },
            true,
          ),
        ];
      case 'advance':
        this.today = addDays(this.today, action.days);
        for (const a of this.agreements.values()) {
          if (!a.created) continue;
          a.billedMinor = a.spec.installments
            .filter((i) => i.date <= this.today && i.date < a.end)
            .reduce((sum, i) => sum + i.amountMinor, 0n);
        }
        return [];
      case 'redeliver-late':
        return [];
    }
  }

  private chooseFault(action: Action): FaultPlan {
    if (!this.options.faults || action.kind === 'poison') return { kind: 'none' };
    const roll = this.prng.weighted([
      [60, 'none'],
      [8, 'dynamo-throttle'],
      [8, 'dynamo-conflict'],
      [10, 'dynamo-crash-after'],
      [14, 'marketplace'],
    ] as const);
    switch (roll) {
      case 'none':
        return { kind: 'none' };
      case 'marketplace':
        if (
          action.kind === 'advance' ||
          action.kind === 'disburse' ||
          action.kind === 'touch' ||
          action.kind === 'registration' ||
          action.kind === 'redeliver-late'
        )
          return { kind: 'none' };
        {
          const marketplace: Marketplace = action.kind.startsWith('azure.')
            ? 'azure'
            : action.kind.startsWith('gcp.')
              ? 'gcp'
              : 'aws';
          const fault = this.prng.pick(
            marketplace === 'aws' && action.kind !== 'usage'
              ? (['server-error', 'throttle', 'empty'] as const)
              : (['server-error', 'throttle'] as const),
          );
          const operation =
            fault !== 'empty'
              ? ('*' as const)
              : (this.options.emptyAgreementReads ?? true)
                ? this.prng.pick([
                    'DescribeAgreement',
                    'GetAgreementTerms',
                    'GetAgreementEntitlements',
                  ] as const)
                : ('GetAgreementEntitlements' as const);
          return {
            kind: 'marketplace',
            marketplace,
            fault,
            operation,
            times: this.prng.int(1, 2),
          };
        }
      default:
        return { kind: roll, atWrite: this.prng.int(1, 4) };
    }
  }

  /** Delivery order of this step: shuffled, some duplicated, some parked for later. */
  private schedule(
    action: Action,
    sent: readonly Notification[],
  ): { deliveries: Notification[]; parked: string[] } {
    const parked: string[] = [];
    let now: Notification[] = [];
    for (const n of sent) {
      // A refund or ending is never parked past the agreement's creation: those are days apart.
      // A registered deal's creation is not parked either: an ending delivered first would make
      // its close the ending (README dates attribution at the acceptance).
      const parkable =
        (action.kind === 'aws.create' && !this.registrations.has(action.agreement.buyer)) ||
        action.kind === 'gcp.create';
      if (this.options.faults && parkable && this.prng.chance(0.15)) {
        this.late.push(n);
        parked.push(n.id);
        continue;
      }
      now.push(n);
      if (this.options.faults && this.prng.chance(0.2)) now.push(n);
    }
    if (action.kind === 'redeliver-late') {
      const count = this.prng.int(1, this.late.length);
      now = now.concat(this.late.splice(0, count));
    }
    if (this.options.faults) now = this.prng.shuffle(now);
    for (const n of now) {
      if (!n.agreementId) continue;
      const a = this.agreements.get(n.agreementId);
      if (a) a.created = true;
      const sub = this.azure.get(n.agreementId);
      if (sub) sub.created_ = true;
      const ent = this.gcp.get(n.agreementId);
      if (ent) ent.created_ = true;
    }
    // The other creation notification of a purchase may still be parked; one is enough.
    return { deliveries: now, parked };
  }
}

/** Minor units as a decimal string of major units (USD, 2 decimals). */
export function majorOf(minor: bigint): string {
  const whole = minor / 100n;
  const cents = minor % 100n;
  return `${whole}.${cents.toString().padStart(2, '0')}`;
}
