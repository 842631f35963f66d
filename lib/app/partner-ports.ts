/**
 * Ports of the partner side (registry, deal registrations, touches, attribution), beside
 * lib/app/ports.ts. DynamoDB implementations live in lib/store/partner-store.ts.
 */
import type { Journey } from '../domain/attribution/attribute';
import type { AttributionModelRule } from '../domain/attribution/models';
import type { AttributionVersion } from '../domain/partners/attribution-version';
import type { RegistrationRecord, RegistrationStatus } from '../domain/partners/deal-registration';
import type { PartnerRecord } from '../domain/partners/partner';
import type { TouchRecord } from '../domain/partners/touch';
import type { Marketplace } from '../domain/schemas/primitives';
import type { Page, PageRequest } from './ports';

export interface PartnerStore {
  /** False when a partner with this id exists. */
  create(record: PartnerRecord): Promise<boolean>;
  get(partnerId: string): Promise<PartnerRecord | null>;
  /**
   * Saves the next version of `previous` (the version it was computed from, whose marketplace
   * accounts it may drop); ConflictError if another version was saved meanwhile.
   */
  save(record: PartnerRecord, previous: PartnerRecord): Promise<void>;
  list(page: PageRequest): Promise<Page<PartnerRecord>>;
  /** The partner owning a marketplace account (resale authorizations name accounts). */
  byMarketplaceAccount(marketplace: Marketplace, accountId: string): Promise<string | null>;
}

export interface RegistrationFilter {
  readonly partnerId?: string;
  readonly status?: RegistrationStatus;
}

export interface RegistrationStore {
  /** False when a registration with this id exists (a retried submission). */
  create(record: RegistrationRecord): Promise<boolean>;
  get(registrationId: string): Promise<RegistrationRecord | null>;
  save(record: RegistrationRecord, expectedVersion: number): Promise<void>;
  /** Registrations sharing a customer key and product (any partner, any status), bounded. */
  overlapping(customerKeys: readonly string[], productId: string): Promise<RegistrationRecord[]>;
  list(filter: RegistrationFilter, page: PageRequest): Promise<Page<RegistrationRecord>>;
  /** Approved registrations by expiry date ascending, from `fromDate` to `toDate` inclusive. */
  approvedExpiring(
    fromDate: string,
    toDate: string,
    page: PageRequest,
  ): Promise<Page<RegistrationRecord>>;
}

export interface TouchStore {
  /** Stores a touch and its match keys once; false when it was recorded before. */
  record(touch: TouchRecord): Promise<boolean>;
  /** Touches stored under any of the keys, deduplicated, bounded. */
  byKeys(keys: readonly string[]): Promise<TouchRecord[]>;
  byPartner(partnerId: string, page: PageRequest): Promise<Page<TouchRecord>>;
}

export interface AttributionStore {
  /** All versions of a model, newest first. */
  modelVersions(modelId: string): Promise<AttributionModelRule[]>;
  /** Adds the next version of a model; false when that version exists already. */
  addModelVersion(rule: AttributionModelRule): Promise<boolean>;
  latest(contractId: string): Promise<AttributionVersion | null>;
  versions(contractId: string, page: PageRequest): Promise<Page<AttributionVersion>>;
  /**
   * Writes an immutable version (and the contract's journey, converted, for data-driven models);
   * false when that version number was written by someone else.
   */
  add(version: AttributionVersion): Promise<boolean>;
  /** A deal that did not convert (an expired registration, a lost co-sell opportunity). */
  recordLostJourney(dealKey: string, partners: readonly string[], at: string): Promise<void>;
  /** The newest journeys, converted or not, bounded. */
  journeys(limit: number): Promise<Journey[]>;
}

/** Where the ACE pull resumes. */
export interface CoSellCursorStore {
  get(source: string): Promise<{ since: string | null } | null>;
  set(source: string, since: string): Promise<void>;
}
