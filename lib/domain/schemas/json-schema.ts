/**
 * The canonical schemas as JSON Schema (draft 2020-12), for integrators who do not use zod.
 * Generated from the zod definitions (input side: money as strings), so the two never drift;
 * `docs/schemas/*.json` holds the published copies and a unit test keeps them current.
 */
import { z } from 'zod';
import { AttributionModelRuleSchema } from '../attribution/models';
import { CommissionPlanSchema } from '../commission/plan';
import { ContractSnapshotSchema } from '../contract';
import { ContractEventSchema } from '../events';
import { JournalEntrySchema } from '../ledger';
import { OfferDocumentSchema } from '../offers/offer-document';
import { AttributionVersionSchema } from '../partners/attribution-version';
import { RegistrationRecordSchema } from '../partners/deal-registration';
import { PartnerRecordSchema } from '../partners/partner';
import { TouchRecordSchema } from '../partners/touch';

export const CANONICAL_SCHEMAS = {
  ContractEvent: ContractEventSchema,
  ContractSnapshot: ContractSnapshotSchema,
  JournalEntry: JournalEntrySchema,
  OfferDocument: OfferDocumentSchema,
  Partner: PartnerRecordSchema,
  DealRegistration: RegistrationRecordSchema,
  Touch: TouchRecordSchema,
  AttributionModelRule: AttributionModelRuleSchema,
  AttributionVersion: AttributionVersionSchema,
  CommissionPlan: CommissionPlanSchema,
} as const;

export type CanonicalSchemaName = keyof typeof CANONICAL_SCHEMAS;

export function canonicalJsonSchema(name: CanonicalSchemaName): Record<string, unknown> {
  const schema = z.toJSONSchema(CANONICAL_SCHEMAS[name], {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  });
  return { ...schema, $id: `https://agora.dev/schemas/${name}.v1.json` };
}
