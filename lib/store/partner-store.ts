/**
 * The partner side in the one table.
 *
 * Partner:       pk PARTNER#<id> · sk PARTNER · version · data · gsi1pk PARTNERS · gsi1sk <id>
 * Account:       pk PARTNERACCT#<marketplace>#<account> · sk ACCOUNT · partnerId
 * Registration:  pk DEALREG#<id> · sk DEALREG · version · data
 *                · gsi1pk DEALREGS · gsi1sk <partnerId>#<submittedAt>#<id>   (all, by partner)
 *                · gsi2pk DEALREGSTATUS#<status> · gsi2sk <expiresOn>#<id>     (by status and expiry)
 * Reg. key:      pk REGKEY#<customerKey>#<productId> · sk <registrationId>     (conflict lookups)
 * Touch:         pk TOUCH#<id> · sk TOUCH · data · gsi1pk TOUCHES#<partnerId> · gsi1sk <at>#<id>
 * Touch key:     pk TOUCHKEY#<matchKey> · sk <touchId> · data (a copy: one query per key)
 * Model version: pk ATTRMODEL#<modelId> · sk V#<version> · data
 * Attribution:   pk ATTR#<contractId> · sk V#<version> · data (immutable)
 * Journey:       pk JOURNEY#<dealKey> · sk JOURNEY · partners · converted · gsi1pk JOURNEYS · gsi1sk <at>#<dealKey>
 * Co-sell pull:  pk COSELL#<source> · sk CURSOR · since
 */
import { ConflictError } from '../app/errors';
import type {
  AttributionStore,
  CoSellCursorStore,
  PartnerStore,
  RegistrationFilter,
  RegistrationStore,
  TouchStore,
} from '../app/partner-ports';
import type { Page, PageRequest } from '../app/ports';
import type { Journey } from '../domain/attribution/attribute';
import {
  type AttributionModelRule,
  AttributionModelRuleSchema,
} from '../domain/attribution/models';
import {
  type AttributionVersion,
  AttributionVersionSchema,
} from '../domain/partners/attribution-version';
import {
  REGISTRATION_CONFLICTS_MAX,
  type RegistrationRecord,
  RegistrationRecordSchema,
} from '../domain/partners/deal-registration';
import { type PartnerRecord, PartnerRecordSchema } from '../domain/partners/partner';
import { type TouchRecord, TouchRecordSchema, touchMatchKeys } from '../domain/partners/touch';
import type { Marketplace } from '../domain/schemas/primitives';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { ITEM_ABSENT, WriteTransaction } from './transaction';

/** Touches read per match key; a contract has a handful of keys. */
export const TOUCHES_PER_KEY_MAX = 200;
/** Model versions kept readable at once. */
export const MODEL_VERSIONS_MAX = 500;
const VERSION_DIGITS = 6;

const pad = (n: number) => String(n).padStart(VERSION_DIGITS, '0');

async function putOnce(store: DynamoStore, tx: WriteTransaction, label: string): Promise<boolean> {
  try {
    await store.commit(tx);
    return true;
  } catch (error) {
    if (error instanceof ConditionFailedError && error.failedOn(label)) return false;
    throw error;
  }
}

async function saveVersion(
  store: DynamoStore,
  label: string,
  item: Record<string, unknown> & { pk: string; sk: string },
  expectedVersion: number,
  what: string,
): Promise<void> {
  try {
    await store.put(label, item, { expression: 'version = :v', values: { ':v': expectedVersion } });
  } catch (error) {
    if (error instanceof ConditionFailedError)
      throw new ConflictError(`${label}_changed`, `${what} changed meanwhile; retry`);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------

function partnerItem(record: PartnerRecord) {
  return {
    pk: `PARTNER#${record.partnerId}`,
    sk: 'PARTNER',
    entity: 'Partner',
    version: record.version,
    data: JSON.stringify(record),
    gsi1pk: 'PARTNERS',
    gsi1sk: record.partnerId,
  };
}

const decodePartner = (item: Record<string, unknown>) =>
  PartnerRecordSchema.parse(JSON.parse(String(item.data)));

function accountKey(marketplace: string, accountId: string) {
  return { pk: `PARTNERACCT#${marketplace}#${accountId}`, sk: 'ACCOUNT' } as const;
}

export class DynamoPartnerStore implements PartnerStore {
  constructor(private readonly store: DynamoStore) {}

  async create(record: PartnerRecord): Promise<boolean> {
    const tx = new WriteTransaction().put('partner', partnerItem(record), ITEM_ABSENT);
    putAccounts(tx, record);
    try {
      return await putOnce(this.store, tx, 'partner');
    } catch (error) {
      throw accountTaken(error) ?? error;
    }
  }

  async get(partnerId: string): Promise<PartnerRecord | null> {
    const item = await this.store.get(
      { pk: `PARTNER#${partnerId}`, sk: 'PARTNER' },
      { consistent: true },
    );
    return item ? decodePartner(item) : null;
  }

  async save(record: PartnerRecord, previous: PartnerRecord): Promise<void> {
    const tx = new WriteTransaction().put('partner', partnerItem(record), {
      expression: 'version = :v',
      values: { ':v': previous.version },
    });
    const now = new Set(record.marketplaceAccounts.map((a) => `${a.marketplace}#${a.accountId}`));
    for (const account of previous.marketplaceAccounts)
      if (!now.has(`${account.marketplace}#${account.accountId}`))
        tx.delete('partner-account-gone', accountKey(account.marketplace, account.accountId), {
          expression: 'partnerId = :p',
          values: { ':p': record.partnerId },
        });
    putAccounts(tx, record);
    try {
      await this.store.commit(tx);
    } catch (error) {
      const taken = accountTaken(error);
      if (taken) throw taken;
      if (error instanceof ConditionFailedError && error.failedOn('partner'))
        throw new ConflictError(
          'partner_changed',
          `Partner ${record.partnerId} changed meanwhile; retry`,
        );
      throw error;
    }
  }

  async list(page: PageRequest): Promise<Page<PartnerRecord>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: 'PARTNERS',
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map(decodePartner), cursor: result.cursor };
  }

  async byMarketplaceAccount(marketplace: Marketplace, accountId: string): Promise<string | null> {
    const item = await this.store.get(accountKey(marketplace, accountId));
    return item ? String(item.partnerId) : null;
  }
}

/** An account belongs to one partner: its pointer is written only if free or already ours. */
function putAccounts(tx: WriteTransaction, record: PartnerRecord): void {
  for (const account of record.marketplaceAccounts)
    tx.put(
      'partner-account',
      {
        ...accountKey(account.marketplace, account.accountId),
        entity: 'PartnerAccount',
        partnerId: record.partnerId,
      },
      {
        expression: 'attribute_not_exists(pk) OR partnerId = :p',
        values: { ':p': record.partnerId },
      },
    );
}

function accountTaken(error: unknown): ConflictError | null {
  if (error instanceof ConditionFailedError && error.failedOn('partner-account'))
    return new ConflictError(
      'marketplace_account_taken',
      'One of the marketplace accounts belongs to another partner',
    );
  return null;
}

// ---------------------------------------------------------------------------------------------

function registrationItem(record: RegistrationRecord) {
  return {
    pk: `DEALREG#${record.registrationId}`,
    sk: 'DEALREG',
    entity: 'DealRegistration',
    version: record.version,
    data: JSON.stringify(RegistrationRecordSchema.encode(record)),
    gsi1pk: 'DEALREGS',
    gsi1sk: `${record.partnerId}#${record.submittedAt}#${record.registrationId}`,
    gsi2pk: `DEALREGSTATUS#${record.status}`,
    gsi2sk: `${record.expiresOn}#${record.registrationId}`,
  };
}

const decodeRegistration = (item: Record<string, unknown>) =>
  RegistrationRecordSchema.parse(JSON.parse(String(item.data)));

export class DynamoRegistrationStore implements RegistrationStore {
  constructor(private readonly store: DynamoStore) {}

  async create(record: RegistrationRecord): Promise<boolean> {
    const tx = new WriteTransaction().put('registration', registrationItem(record), ITEM_ABSENT);
    for (const key of record.customerKeys)
      tx.put('registration-key', {
        pk: `REGKEY#${key}#${record.productId}`,
        sk: record.registrationId,
        entity: 'DealRegistrationKey',
      });
    return putOnce(this.store, tx, 'registration');
  }

  async get(registrationId: string): Promise<RegistrationRecord | null> {
    const item = await this.store.get(
      { pk: `DEALREG#${registrationId}`, sk: 'DEALREG' },
      { consistent: true },
    );
    return item ? decodeRegistration(item) : null;
  }

  async save(record: RegistrationRecord, expectedVersion: number): Promise<void> {
    await saveVersion(
      this.store,
      'registration',
      registrationItem(record),
      expectedVersion,
      `Registration ${record.registrationId}`,
    );
  }

  async overlapping(
    customerKeys: readonly string[],
    productId: string,
  ): Promise<RegistrationRecord[]> {
    // At most three keys per customer: read them side by side.
    const pages = await Promise.all(
      customerKeys.map((key) =>
        this.store.query({
          partitionKey: `REGKEY#${key}#${productId}`,
          limit: REGISTRATION_CONFLICTS_MAX,
          consistent: true,
        }),
      ),
    );
    const ids = new Set(pages.flatMap((page) => page.items.map((item) => String(item.sk))));
    const records = await Promise.all(
      [...ids].slice(0, REGISTRATION_CONFLICTS_MAX).map((id) => this.get(id)),
    );
    return records.filter((r): r is RegistrationRecord => r !== null);
  }

  async list(filter: RegistrationFilter, page: PageRequest): Promise<Page<RegistrationRecord>> {
    const byStatus = filter.status !== undefined && filter.partnerId === undefined;
    const result = await this.store.query({
      index: byStatus ? 'gsi2' : 'gsi1',
      partitionKey: byStatus ? `DEALREGSTATUS#${filter.status}` : 'DEALREGS',
      ...(filter.partnerId ? { sortKeyBeginsWith: `${filter.partnerId}#` } : {}),
      ...(filter.status && filter.partnerId
        ? {
            filter: {
              expression: 'gsi2pk = :s',
              values: { ':s': `DEALREGSTATUS#${filter.status}` },
            },
          }
        : {}),
      limit: page.limit,
      cursor: page.cursor,
      ascending: false,
    });
    return { items: result.items.map(decodeRegistration), cursor: result.cursor };
  }

  async approvedExpiring(
    fromDate: string,
    toDate: string,
    page: PageRequest,
  ): Promise<Page<RegistrationRecord>> {
    const result = await this.store.query({
      index: 'gsi2',
      partitionKey: 'DEALREGSTATUS#approved',
      // '~' sorts after every id character, so the whole last day is included.
      sortKeyBetween: [`${fromDate}#`, `${toDate}#~`],
      limit: page.limit,
      cursor: page.cursor,
    });
    return { items: result.items.map(decodeRegistration), cursor: result.cursor };
  }
}

// ---------------------------------------------------------------------------------------------

const decodeTouch = (item: Record<string, unknown>) =>
  TouchRecordSchema.parse(JSON.parse(String(item.data)));

export class DynamoTouchStore implements TouchStore {
  constructor(private readonly store: DynamoStore) {}

  async record(touch: TouchRecord): Promise<boolean> {
    const data = JSON.stringify(touch);
    const tx = new WriteTransaction().put(
      'touch',
      {
        pk: `TOUCH#${touch.touchId}`,
        sk: 'TOUCH',
        entity: 'Touch',
        data,
        gsi1pk: `TOUCHES#${touch.partnerId}`,
        gsi1sk: `${touch.at}#${touch.touchId}`,
      },
      ITEM_ABSENT,
    );
    for (const key of touchMatchKeys(touch.match))
      tx.put('touch-key', { pk: `TOUCHKEY#${key}`, sk: touch.touchId, entity: 'TouchKey', data });
    return putOnce(this.store, tx, 'touch');
  }

  async byKeys(keys: readonly string[]): Promise<TouchRecord[]> {
    const pages = await Promise.all(
      [...new Set(keys)].map((key) =>
        this.store.query({
          partitionKey: `TOUCHKEY#${key}`,
          limit: TOUCHES_PER_KEY_MAX,
          consistent: true,
        }),
      ),
    );
    const byId = new Map<string, TouchRecord>();
    for (const page of pages)
      for (const item of page.items) {
        const touch = decodeTouch(item);
        byId.set(touch.touchId, touch);
      }
    return [...byId.values()];
  }

  async byPartner(partnerId: string, page: PageRequest): Promise<Page<TouchRecord>> {
    const result = await this.store.query({
      index: 'gsi1',
      partitionKey: `TOUCHES#${partnerId}`,
      limit: page.limit,
      cursor: page.cursor,
      ascending: false,
    });
    return { items: result.items.map(decodeTouch), cursor: result.cursor };
  }
}

// ---------------------------------------------------------------------------------------------

const JOURNEY_PAGE_SIZE = 500;
/** Touches kept per journey (the engine's own bound on a journey's length). */
const JOURNEY_LENGTH_KEPT = 200;

function journeyItem(dealKey: string, partners: readonly string[], converted: boolean, at: string) {
  return {
    pk: `JOURNEY#${dealKey}`,
    sk: 'JOURNEY',
    entity: 'Journey',
    partners: JSON.stringify(partners.slice(0, JOURNEY_LENGTH_KEPT)),
    converted,
    gsi1pk: 'JOURNEYS',
    gsi1sk: `${at}#${dealKey}`,
  };
}

export class DynamoAttributionStore implements AttributionStore {
  constructor(private readonly store: DynamoStore) {}

  async modelVersions(modelId: string): Promise<AttributionModelRule[]> {
    const page = await this.store.query({
      partitionKey: `ATTRMODEL#${modelId}`,
      limit: MODEL_VERSIONS_MAX,
      ascending: false,
      consistent: true,
    });
    return page.items.map((item) =>
      AttributionModelRuleSchema.parse(JSON.parse(String(item.data))),
    );
  }

  async addModelVersion(rule: AttributionModelRule): Promise<boolean> {
    const tx = new WriteTransaction().put(
      'attribution-model',
      {
        pk: `ATTRMODEL#${rule.modelId}`,
        sk: `V#${pad(rule.version)}`,
        entity: 'AttributionModel',
        data: JSON.stringify(rule),
      },
      ITEM_ABSENT,
    );
    return putOnce(this.store, tx, 'attribution-model');
  }

  async latest(contractId: string): Promise<AttributionVersion | null> {
    const page = await this.versions(contractId, { limit: 1 });
    return page.items[0] ?? null;
  }

  async versions(contractId: string, page: PageRequest): Promise<Page<AttributionVersion>> {
    const result = await this.store.query({
      partitionKey: `ATTR#${contractId}`,
      limit: page.limit,
      cursor: page.cursor,
      ascending: false,
      consistent: true,
    });
    return {
      items: result.items.map((item) =>
        AttributionVersionSchema.parse(JSON.parse(String(item.data))),
      ),
      cursor: result.cursor,
    };
  }

  async add(version: AttributionVersion): Promise<boolean> {
    const tx = new WriteTransaction().put(
      'attribution',
      {
        pk: `ATTR#${version.contractId}`,
        sk: `V#${pad(version.version)}`,
        entity: 'Attribution',
        data: JSON.stringify(AttributionVersionSchema.encode(version)),
      },
      ITEM_ABSENT,
    );
    if (version.touches.length > 0)
      tx.put(
        'journey',
        journeyItem(
          `contract:${version.contractId}`,
          version.touches.map((t) => t.partnerId),
          true,
          version.closeAt,
        ),
      );
    return putOnce(this.store, tx, 'attribution');
  }

  async recordLostJourney(dealKey: string, partners: readonly string[], at: string): Promise<void> {
    await this.store.put('journey', journeyItem(dealKey, partners, false, at));
  }

  async journeys(limit: number): Promise<Journey[]> {
    const out: Journey[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query({
        index: 'gsi1',
        partitionKey: 'JOURNEYS',
        limit: Math.min(limit - out.length, JOURNEY_PAGE_SIZE),
        cursor,
        ascending: false,
      });
      for (const item of page.items)
        out.push({
          partners: JSON.parse(String(item.partners)) as string[],
          converted: item.converted === true,
        });
      cursor = page.cursor ?? undefined;
    } while (cursor && out.length < limit);
    return out;
  }
}

export class DynamoCoSellCursorStore implements CoSellCursorStore {
  constructor(private readonly store: DynamoStore) {}

  async get(source: string): Promise<{ since: string | null } | null> {
    const item = await this.store.get(
      { pk: `COSELL#${source}`, sk: 'CURSOR' },
      { consistent: true },
    );
    return item ? { since: typeof item.since === 'string' ? item.since : null } : null;
  }

  async set(source: string, since: string): Promise<void> {
    await this.store.put('co-sell-cursor', {
      pk: `COSELL#${source}`,
      sk: 'CURSOR',
      entity: 'CoSellCursor',
      since,
    });
  }
}
