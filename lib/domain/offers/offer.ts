/**
 * A private offer's life at Agora, as pure transitions over its record:
 *
 *   draft → (submit) → pending-approval → (approve) → approved → (publish) → submitted
 *                    ↘ approved (guardrails auto-approve) ↗      ↘ rejected
 *   submitted → published | failed (CLIENT_ERROR, or SERVER_FAULT after the last attempt)
 *
 * A published offer past its expiry reads as `expired`. Every transition appends to a bounded
 * history (who, when, why), so the deal desk and auditors see how an offer got where it is.
 */
import { z } from 'zod';
import type { CalendarDate } from '../calendar';
import { InvalidInputError } from '../errors';
import { InstantSchema, MarketplaceSchema } from '../schemas/primitives';
import { evaluateGuardrails, type GuardrailPolicy } from './guardrails';
import { type OfferDocument, OfferDocumentSchema, OfferDraftSchema } from './offer-document';
import { offerRuleViolations } from './rules';

export const OFFER_STATUSES = [
  'draft',
  'pending-approval',
  'approved',
  'rejected',
  'submitted',
  'published',
  'failed',
  'expired',
] as const;
export const OfferStatusSchema = z.enum(OFFER_STATUSES);
export type OfferStatus = z.infer<typeof OfferStatusSchema>;

/** History entries kept per offer (the oldest are dropped beyond this). */
export const OFFER_HISTORY_MAX = 50;
/** Change sets tried for one offer before a SERVER_FAULT is final. */
export const OFFER_PUBLISH_ATTEMPTS_MAX = 3;

export class OfferStateError extends InvalidInputError {}

export const ChangeSetFailureSchema = z.object({
  code: z.string(),
  description: z.string(),
  errors: z.array(z.object({ change: z.string(), code: z.string(), message: z.string() })),
});

export const OfferPublicationSchema = z.object({
  entityType: z.string(),
  /** The marketplace's id once the change set created it (AWS: offer-…, resaleauthz-…). */
  entityId: z.string().nullable(),
  changeSetId: z.string().nullable(),
  changeSetStatus: z.string().nullable(),
  attempts: z.int().min(0),
  submittedAt: InstantSchema.nullable(),
  completedAt: InstantSchema.nullable(),
  failure: ChangeSetFailureSchema.nullable(),
});
export type OfferPublication = z.infer<typeof OfferPublicationSchema>;

export const OfferRecordSchema = z.object({
  offerId: z.string(),
  marketplace: MarketplaceSchema,
  /** Optimistic lock. */
  version: z.int().min(1),
  status: OfferStatusSchema,
  /** The document as last saved (a draft may be incomplete). */
  document: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: InstantSchema,
  updatedAt: InstantSchema,
  guardrails: z
    .object({
      decision: z.enum(['auto-approve', 'needs-approval']),
      policyVersion: z.string(),
      reasons: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })),
    })
    .nullable(),
  approval: z
    .object({
      decision: z.enum(['approved', 'rejected']),
      by: z.string(),
      at: InstantSchema,
      reason: z.string().nullable(),
    })
    .nullable(),
  publication: OfferPublicationSchema.nullable(),
  expiresOn: z.string().nullable(),
  history: z.array(
    z.object({
      at: InstantSchema,
      status: OfferStatusSchema,
      by: z.string(),
      note: z.string().nullable(),
    }),
  ),
});
export type OfferRecord = z.infer<typeof OfferRecordSchema>;

function moved(
  record: OfferRecord,
  status: OfferStatus,
  at: string,
  by: string,
  note: string | null,
  changes: Partial<OfferRecord> = {},
): OfferRecord {
  return {
    ...record,
    ...changes,
    status,
    version: record.version + 1,
    updatedAt: at,
    history: [...record.history, { at, status, by, note }].slice(-OFFER_HISTORY_MAX),
  };
}

function mustBe(record: OfferRecord, allowed: readonly OfferStatus[], action: string): void {
  if (!allowed.includes(record.status)) {
    throw new OfferStateError(
      'offer_state',
      `Offer ${record.offerId} is ${record.status}; it can be ${action} only when ${allowed.join(' or ')}`,
    );
  }
}

/** A saved draft: only the document's shape is checked. */
export function newDraft(input: {
  offerId: string;
  document: unknown;
  by: string;
  at: string;
}): OfferRecord {
  const draft = OfferDraftSchema.parse(input.document);
  return {
    offerId: input.offerId,
    marketplace: draft.marketplace,
    version: 1,
    status: 'draft',
    document: input.document as Record<string, unknown>,
    createdBy: input.by,
    createdAt: input.at,
    updatedAt: input.at,
    guardrails: null,
    approval: null,
    publication: null,
    expiresOn: draft.expiresOn ?? null,
    history: [{ at: input.at, status: 'draft', by: input.by, note: null }],
  };
}

export function editDraft(record: OfferRecord, document: unknown, by: string, at: string) {
  mustBe(record, ['draft'], 'edited');
  const draft = OfferDraftSchema.parse(document);
  if (draft.marketplace !== record.marketplace)
    throw new OfferStateError('marketplace_changed', 'A draft cannot move to another marketplace');
  return moved(record, 'draft', at, by, 'edited', {
    document: document as Record<string, unknown>,
    expiresOn: draft.expiresOn ?? null,
  });
}

/**
 * The full check: shape, then the marketplace's rules — every problem at once, as one error —
 * then the seller's guardrails, which decide between auto-approval and a human.
 */
export function validateForSubmission(
  document: unknown,
  context: { today: CalendarDate; policy: GuardrailPolicy },
): { document: OfferDocument; guardrails: NonNullable<OfferRecord['guardrails']> } {
  const parsed = OfferDocumentSchema.safeParse(document);
  if (!parsed.success) {
    throw new InvalidInputError(
      'invalid_offer',
      'The offer document is incomplete or malformed',
      parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        code: issue.code,
        message: issue.message,
      })),
    );
  }
  const violations = offerRuleViolations(parsed.data, { today: context.today });
  if (violations.length > 0)
    throw new InvalidInputError(
      'invalid_offer',
      "The offer breaks the marketplace's rules",
      violations,
    );
  return { document: parsed.data, guardrails: evaluateGuardrails(parsed.data, context.policy) };
}

/** Submits a new or draft offer: pending-approval, or approved when the guardrails allow. */
export function submitted(
  record: OfferRecord,
  checked: ReturnType<typeof validateForSubmission>,
  by: string,
  at: string,
): OfferRecord {
  mustBe(record, ['draft'], 'submitted');
  const auto = checked.guardrails.decision === 'auto-approve';
  return moved(
    record,
    auto ? 'approved' : 'pending-approval',
    at,
    by,
    auto
      ? `auto-approved under guardrail policy ${checked.guardrails.policyVersion}`
      : checked.guardrails.reasons.map((r) => r.message).join('; '),
    {
      // Stored as JSON (money as strings), the same form the caller sent.
      document: z.encode(OfferDocumentSchema, checked.document) as Record<string, unknown>,
      guardrails: checked.guardrails,
      expiresOn: checked.document.expiresOn,
    },
  );
}

export function decided(
  record: OfferRecord,
  decision: 'approved' | 'rejected',
  by: string,
  reason: string | null,
  at: string,
): OfferRecord {
  mustBe(record, ['pending-approval'], decision);
  return moved(record, decision, at, by, reason, { approval: { decision, by, at, reason } });
}

/** A change set was started for the offer (a new attempt after a SERVER_FAULT included). */
export function publishing(
  record: OfferRecord,
  input: { entityType: string; changeSetId: string; by: string; at: string },
): OfferRecord {
  mustBe(record, ['approved'], 'published');
  const attempts = (record.publication?.attempts ?? 0) + 1;
  return moved(record, 'submitted', input.at, input.by, `change set ${input.changeSetId}`, {
    publication: {
      entityType: input.entityType,
      entityId: record.publication?.entityId ?? null,
      changeSetId: input.changeSetId,
      changeSetStatus: 'PREPARING',
      attempts,
      submittedAt: input.at,
      completedAt: null,
      failure: null,
    },
  });
}

/** The marketplace refused to start the change (a synchronous 4xx): final, with its reason. */
export function refused(
  record: OfferRecord,
  failure: z.infer<typeof ChangeSetFailureSchema>,
  input: { entityType: string; at: string },
): OfferRecord {
  mustBe(record, ['approved'], 'published');
  return moved(
    record,
    'failed',
    input.at,
    'marketplace',
    `${failure.code}: ${failure.description}`.slice(0, 1_000),
    {
      publication: {
        entityType: input.entityType,
        entityId: record.publication?.entityId ?? null,
        changeSetId: null,
        changeSetStatus: null,
        attempts: (record.publication?.attempts ?? 0) + 1,
        submittedAt: input.at,
        completedAt: input.at,
        failure,
      },
    },
  );
}

/** What the marketplace says of the change set now. */
export function tracked(
  record: OfferRecord,
  result: {
    status: string;
    entityId: string | null;
    failure: z.infer<typeof ChangeSetFailureSchema> | null;
    serverFault: boolean;
    expiresOn: string | null;
  },
  at: string,
): OfferRecord {
  mustBe(record, ['submitted'], 'tracked');
  const publication = record.publication;
  if (!publication) throw new OfferStateError('offer_state', 'A submitted offer has a change set');
  const next = {
    ...publication,
    changeSetStatus: result.status,
    entityId: result.entityId ?? publication.entityId,
  };
  if (result.status === 'SUCCEEDED') {
    return moved(record, 'published', at, 'marketplace', null, {
      publication: { ...next, completedAt: at },
      expiresOn: result.expiresOn ?? record.expiresOn,
    });
  }
  if (result.status === 'FAILED' || result.status === 'CANCELLED') {
    const failure = result.failure ?? { code: result.status, description: '', errors: [] };
    // A server fault is the marketplace's problem: the next tracking run tries again.
    const retry = result.serverFault && publication.attempts < OFFER_PUBLISH_ATTEMPTS_MAX;
    return moved(
      record,
      retry ? 'approved' : 'failed',
      at,
      'marketplace',
      `${failure.code}: ${failure.description}`.slice(0, 1_000),
      { publication: { ...next, completedAt: at, failure } },
    );
  }
  if (result.status === publication.changeSetStatus) return record;
  return { ...record, version: record.version + 1, updatedAt: at, publication: next };
}

/** The status a reader sees: a published offer past its last day to accept has expired. */
export function effectiveStatus(record: OfferRecord, today: CalendarDate): OfferStatus {
  if (record.status === 'published' && record.expiresOn !== null && record.expiresOn < today)
    return 'expired';
  return record.status;
}
