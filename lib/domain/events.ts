/**
 * Canonical contract events (schema version 1). Every marketplace notification, after the sync
 * has re-read the marketplace's source of truth, becomes zero or more of these. The event id is
 * deterministic from (contractId, type, sourceVersion), so the same change seen twice is the
 * same event and applying it twice changes nothing.
 */
import { z } from 'zod';
import { ContractTermsSchema } from './contract';
import { deterministicId } from './ids';
import {
  CalendarDateSchema,
  CurrencySchema,
  DateIntervalSchema,
  DecimalStringSchema,
  IdSchema,
  InstantSchema,
  MarketplaceSchema,
  MinorUnitsSchema,
  NonNegativeMinorUnitsSchema,
} from './schemas/primitives';

export const CONTRACT_EVENT_SCHEMA_VERSION = 1;

export const CONTRACT_EVENT_TYPES = [
  'ContractCreated',
  'ContractActivated',
  'ContractAmended',
  'ContractRenewed',
  'ContractCancelled',
  'ContractSuspended',
  'ContractReinstated',
  'ContractExpired',
  'InvoiceIssued',
  'UsageRecorded',
  'RefundIssued',
  'DisbursementReceived',
] as const;
export const ContractEventTypeSchema = z.enum(CONTRACT_EVENT_TYPES);
export type ContractEventType = z.infer<typeof ContractEventTypeSchema>;

/** Where the event came from: the stored raw inbound payload, or a scheduled run. */
export const RawReferenceSchema = z.object({
  rawId: IdSchema,
  marketplace: MarketplaceSchema,
  providerMessageId: IdSchema,
});

const StatusChangePayload = z.object({ reason: z.string().max(1_000).nullable() });

const payloads = {
  ContractCreated: z.object({ terms: ContractTermsSchema }),
  ContractActivated: StatusChangePayload.extend({
    /**
     * The terms the contract starts on, when they were settled only at activation (an Azure
     * subscription's term starts when it is activated); null when unchanged since ContractCreated.
     */
    terms: ContractTermsSchema.nullable(),
  }),
  ContractAmended: z.object({
    terms: ContractTermsSchema,
    /** The contract this one replaces (AWS replacement agreements), when different. */
    replacesContractId: IdSchema.nullable(),
  }),
  ContractRenewed: z.object({ terms: ContractTermsSchema, renewsContractId: IdSchema.nullable() }),
  ContractCancelled: StatusChangePayload,
  ContractSuspended: StatusChangePayload,
  ContractReinstated: StatusChangePayload,
  ContractExpired: StatusChangePayload,
  InvoiceIssued: z.object({
    invoiceId: IdSchema,
    currency: CurrencySchema,
    amountMinor: NonNegativeMinorUnitsSchema,
    servicePeriod: DateIntervalSchema.nullable(),
  }),
  UsageRecorded: z.object({
    usageRecordId: IdSchema,
    dimension: IdSchema,
    quantity: DecimalStringSchema,
    usageStart: InstantSchema,
    usageEnd: InstantSchema,
  }),
  RefundIssued: z.object({
    refundId: IdSchema,
    currency: CurrencySchema,
    /** The amount the seller authorized (finance.md rule 8): an input, never computed. */
    amountMinor: NonNegativeMinorUnitsSchema,
    reason: z.string().max(1_000).nullable(),
  }),
  DisbursementReceived: z.object({
    disbursementId: IdSchema,
    currency: CurrencySchema,
    amountMinor: MinorUnitsSchema,
    settlesCurrency: CurrencySchema,
    settlesMinor: MinorUnitsSchema,
    bankTraceId: IdSchema.nullable(),
  }),
} as const satisfies Record<ContractEventType, z.ZodType>;

const eventBase = {
  schemaVersion: z.literal(CONTRACT_EVENT_SCHEMA_VERSION),
  eventId: IdSchema,
  contractId: IdSchema,
  marketplace: MarketplaceSchema,
  /** When the change happened at the marketplace (or when we observed it, if it gives none). */
  occurredAt: InstantSchema,
  /** The accounting date the change takes effect. */
  effectiveAt: CalendarDateSchema,
  /** The marketplace's version marker of the change (deterministic id input). */
  sourceVersion: IdSchema,
  raw: RawReferenceSchema.nullable(),
};

function variant<T extends ContractEventType>(type: T) {
  return z.object({ ...eventBase, type: z.literal(type), payload: payloads[type] });
}

export const ContractEventSchema = z
  .discriminatedUnion('type', [
    variant('ContractCreated'),
    variant('ContractActivated'),
    variant('ContractAmended'),
    variant('ContractRenewed'),
    variant('ContractCancelled'),
    variant('ContractSuspended'),
    variant('ContractReinstated'),
    variant('ContractExpired'),
    variant('InvoiceIssued'),
    variant('UsageRecorded'),
    variant('RefundIssued'),
    variant('DisbursementReceived'),
  ])
  .meta({ title: 'ContractEvent', description: 'A canonical contract event, schema version 1' });

export type ContractEvent = z.output<typeof ContractEventSchema>;
export type ContractEventOf<T extends ContractEventType> = Extract<ContractEvent, { type: T }>;

/** eventId = hash(contractId, type, sourceVersion): the same change always has the same id. */
export function contractEventId(
  contractId: string,
  type: ContractEventType,
  sourceVersion: string,
): string {
  return deterministicId('ev', contractId, type, sourceVersion);
}
