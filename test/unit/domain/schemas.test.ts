// Proves the canonical schemas: events decode money to bigint and encode it back to strings,
// reject JSON numbers for money, and the published JSON Schemas match the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { contractIdFor } from '../../../lib/domain/contract';
import { ContractEventSchema, contractEventId } from '../../../lib/domain/events';
import { JournalEntrySchema } from '../../../lib/domain/ledger';
import {
  CANONICAL_SCHEMAS,
  type CanonicalSchemaName,
  canonicalJsonSchema,
} from '../../../lib/domain/schemas/json-schema';

const contractId = contractIdFor('aws', 'arn:aws:license-manager::123456789012:license:l-1');

const created = {
  schemaVersion: 1,
  eventId: contractEventId(contractId, 'ContractCreated', 'agmt-1@1'),
  contractId,
  marketplace: 'aws',
  type: 'ContractCreated',
  occurredAt: '2025-01-01T00:00:00Z',
  effectiveAt: '2025-01-01',
  sourceVersion: 'agmt-1@1',
  raw: { rawId: 'raw_1', marketplace: 'aws', providerMessageId: 'm-1' },
  payload: {
    terms: {
      productId: 'prod-1',
      offerId: 'offer-1',
      offerType: 'private',
      plan: null,
      quantity: null,
      buyer: { accountId: '444455556666', name: null },
      currency: 'USD',
      term: { start: '2025-01-01', end: '2028-01-01' },
      trialEnd: null,
      renewal: false,
      fixedCharges: [{ dimension: 'users', amountMinor: '36000000' }],
      grants: [{ dimension: 'users', quantity: '100' }],
      usageRates: [{ dimension: 'api_calls', unitPrice: '0.002' }],
      installments: [{ date: '2025-01-01', amountMinor: '12000000' }],
      reseller: null,
    },
  },
};

describe('ContractEvent', () => {
  it('decodes money to bigint and encodes it back to the same JSON', () => {
    const event = ContractEventSchema.parse(created);
    if (event.type !== 'ContractCreated') throw new Error('wrong variant');
    expect(event.payload.terms.installments[0]?.amountMinor).toBe(12_000_000n);
    expect(z.encode(ContractEventSchema, event)).toEqual(created);
  });

  it('rejects a JSON number for money and reports every problem at once', () => {
    const bad = structuredClone(created) as Record<string, unknown> & typeof created;
    (bad.payload.terms.installments[0] as Record<string, unknown>).amountMinor = 120000.5;
    (bad.payload.terms as Record<string, unknown>).currency = 'XXX';
    const result = ContractEventSchema.safeParse(bad);
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths).toContain('payload.terms.installments.0.amountMinor');
    expect(paths).toContain('payload.terms.currency');
  });

  it('ids are deterministic and distinct per (contract, type, source version)', () => {
    expect(contractEventId(contractId, 'ContractCreated', 'v1')).toBe(
      contractEventId(contractId, 'ContractCreated', 'v1'),
    );
    expect(contractEventId(contractId, 'ContractCreated', 'v1')).not.toBe(
      contractEventId(contractId, 'ContractAmended', 'v1'),
    );
    expect(contractIdFor('aws', 'x')).not.toBe(contractIdFor('gcp', 'x'));
  });
});

describe('JournalEntry schema', () => {
  it('rejects negative leg amounts and unknown accounts', () => {
    const result = JournalEntrySchema.safeParse({
      schemaVersion: 1,
      entryId: 'je_1',
      date: '2025-01-31',
      postingPeriod: '2025-01',
      functionalCurrency: 'USD',
      description: 'x',
      source: { kind: 'run', id: 'r' },
      rule: 'recognition',
      ruleVersion: 1,
      reversalOf: null,
      legs: [
        {
          account: '2400',
          currency: 'USD',
          debitMinor: '-1',
          creditMinor: '0',
          functionalDebitMinor: '-1',
          functionalCreditMinor: '0',
          contractId: null,
          partnerId: null,
        },
        {
          account: '9999',
          currency: 'USD',
          debitMinor: '0',
          creditMinor: '1',
          functionalDebitMinor: '0',
          functionalCreditMinor: '1',
          contractId: null,
          partnerId: null,
        },
      ],
    });
    const paths = result.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['legs.0.debitMinor', 'legs.1.account']));
  });
});

const CARRIES_MONEY = new Set<CanonicalSchemaName>([
  'ContractEvent',
  'ContractSnapshot',
  'JournalEntry',
  'OfferDocument',
  'DealRegistration',
  'CommissionPlan',
]);

describe('published JSON Schemas', () => {
  it.each(Object.keys(CANONICAL_SCHEMAS) as CanonicalSchemaName[])(
    '%s matches docs/schemas (run `npm run schemas` after changing a schema)',
    (name) => {
      const published = JSON.parse(readFileSync(`docs/schemas/${name}.v1.json`, 'utf8'));
      expect(published).toEqual(canonicalJsonSchema(name));
      // Money crosses as strings of minor units wherever a schema carries money.
      if (CARRIES_MONEY.has(name))
        expect(JSON.stringify(published)).toContain('"pattern":"^-?\\\\d{1,38}$"');
    },
  );
});
