/**
 * Partner routes: the registry, deal registrations, touches (Microsoft and Google referrals,
 * activities) and co-sell attribution. A partner token sees only its own partner: reading any
 * other partner id answers 404, never 403, so ids cannot be probed. (Registering a deal for
 * another partner id answers 403: the caller named that id itself, nothing is revealed.)
 */
import { z } from 'zod';
import type { Caller } from '../app/partners';
import { AttributionModelRuleSchema } from '../domain/attribution/models';
import { AttributionVersionSchema } from '../domain/partners/attribution-version';
import {
  NewRegistrationSchema,
  RegistrationRecordSchema,
  RegistrationStatusSchema,
} from '../domain/partners/deal-registration';
import {
  NewPartnerSchema,
  PartnerIdSchema,
  PartnerPatchSchema,
  PartnerRecordSchema,
} from '../domain/partners/partner';
import { NewTouchSchema, TouchRecordSchema } from '../domain/partners/touch';
import { MinorUnitsSchema } from '../domain/schemas/primitives';
import type { Principal } from './auth';
import { PageQuerySchema, pageOf } from './pagination';
import { defineRoute, type RouteDefinition } from './route';

const REGISTRY_WRITERS = ['admin', 'finance'] as const;
const REGISTRY_READERS = ['admin', 'finance', 'seller', 'partner'] as const;
const ATTRIBUTION_READERS = ['admin', 'finance', 'seller'] as const;

/** Who is calling, as the use cases see it. */
export function callerOf(principal: Principal | null): Caller {
  const roles = principal?.roles ?? [];
  const privileged = roles.some((r) => r === 'admin' || r === 'finance' || r === 'seller');
  return {
    by: `user:${principal?.subject ?? 'unknown'}`,
    // A caller with no privileged role and no partner id is scoped to no partner at all.
    partnerScope: privileged ? null : (principal?.partnerId ?? ''),
    admin: roles.includes('admin'),
  };
}

const PartnerParams = z.object({ partnerId: PartnerIdSchema });
const RegistrationParams = z.object({ registrationId: z.string().min(1).max(100) });
const ContractParams = z.object({ contractId: z.string().min(1).max(200) });

export const RegistrationViewSchema = RegistrationRecordSchema.extend({
  effectiveStatus: RegistrationStatusSchema,
});

export const createPartnerRoute = defineRoute({
  name: 'create-partner',
  method: 'POST',
  path: '/v1/partners',
  summary: 'Add a partner to the registry',
  tags: ['partners'],
  access: { roles: REGISTRY_WRITERS },
  body: NewPartnerSchema,
  response: PartnerRecordSchema,
  successStatus: 201,
  idempotency: 'optional',
});

export const listPartnersRoute = defineRoute({
  name: 'list-partners',
  method: 'GET',
  path: '/v1/partners',
  summary: 'Partners by id (a partner token sees only itself)',
  tags: ['partners'],
  access: { roles: REGISTRY_READERS },
  query: PageQuerySchema,
  response: pageOf(PartnerRecordSchema),
});

export const getPartnerRoute = defineRoute({
  name: 'get-partner',
  method: 'GET',
  path: '/v1/partners/{partnerId}',
  summary: 'A partner with its tier history',
  tags: ['partners'],
  access: { roles: REGISTRY_READERS },
  params: PartnerParams,
  response: PartnerRecordSchema,
});

export const updatePartnerRoute = defineRoute({
  name: 'update-partner',
  method: 'PATCH',
  path: '/v1/partners/{partnerId}',
  summary: 'Change a partner; a tier change is added to its history from a date on',
  tags: ['partners'],
  access: { roles: REGISTRY_WRITERS },
  params: PartnerParams,
  body: PartnerPatchSchema,
  response: PartnerRecordSchema,
});

export const listPartnerTouchesRoute = defineRoute({
  name: 'list-partner-touches',
  method: 'GET',
  path: '/v1/partners/{partnerId}/touches',
  summary: 'A partner’s recorded touches, newest first',
  tags: ['partners'],
  access: { roles: REGISTRY_READERS },
  params: PartnerParams,
  query: PageQuerySchema,
  response: pageOf(TouchRecordSchema),
});

export const submitRegistrationRoute = defineRoute({
  name: 'submit-deal-registration',
  method: 'POST',
  path: '/v1/deal-registrations',
  summary: 'Register a deal: rules decide at once, conflicts come back with their reason',
  description:
    'Answers 201 with status approved, pending-review or rejected and every conflict found (another partner’s registration in its protection window, a direct deal of the seller, the partner’s tier). A partner token registers for its own partner id only.',
  tags: ['partners'],
  access: { roles: ['partner', 'admin', 'seller'] },
  body: NewRegistrationSchema,
  response: RegistrationViewSchema,
  successStatus: 201,
  idempotency: 'optional',
});

export const listRegistrationsRoute = defineRoute({
  name: 'list-deal-registrations',
  method: 'GET',
  path: '/v1/deal-registrations',
  summary: 'Deal registrations, newest first (a partner token sees its own)',
  tags: ['partners'],
  access: { roles: REGISTRY_READERS },
  query: PageQuerySchema.extend({
    partnerId: PartnerIdSchema.optional(),
    status: RegistrationStatusSchema.optional(),
  }),
  response: pageOf(RegistrationViewSchema),
});

export const getRegistrationRoute = defineRoute({
  name: 'get-deal-registration',
  method: 'GET',
  path: '/v1/deal-registrations/{registrationId}',
  summary: 'A deal registration with its conflicts and decision',
  tags: ['partners'],
  access: { roles: REGISTRY_READERS },
  params: RegistrationParams,
  response: RegistrationViewSchema,
});

const DecisionBody = z.object({
  decision: z.enum(['approved', 'rejected']),
  reason: z.string().min(1).max(1_000).nullable().default(null),
});

export const decideRegistrationRoute = defineRoute({
  name: 'decide-deal-registration',
  method: 'POST',
  path: '/v1/deal-registrations/{registrationId}/decision',
  summary: 'Approve or reject a registration the rules held for review (admin)',
  tags: ['partners'],
  access: { roles: ['admin'] },
  params: RegistrationParams,
  body: DecisionBody,
  response: RegistrationViewSchema,
});

export const recordTouchRoute = defineRoute({
  name: 'record-touch',
  method: 'POST',
  path: '/v1/touches',
  summary: 'Record a partner touch (a Microsoft or Google referral, an activity)',
  description:
    'The touch is matched to contracts by contractId, offerId, opportunityId or customer (+ productId), now or when the contract arrives; the same touch sent twice is one touch.',
  tags: ['partners'],
  access: { roles: ['admin', 'seller', 'service'] },
  body: NewTouchSchema,
  response: TouchRecordSchema,
  successStatus: 201,
  idempotency: 'optional',
});

export const AttributionExplanationSchema = z.object({
  contractId: z.string(),
  attribution: AttributionVersionSchema.nullable(),
  /** The contract's total fixed consideration, split by the shares (largest remainder). */
  split: z.object({
    currency: z.string(),
    totalMinor: MinorUnitsSchema,
    shares: z.array(z.object({ partnerId: z.string(), amountMinor: MinorUnitsSchema })),
  }),
});

export const getAttributionRoute = defineRoute({
  name: 'get-attribution',
  method: 'GET',
  path: '/v1/contracts/{contractId}/attribution',
  summary: 'The contract’s latest attribution: touches, weights, credits, split, and diff',
  tags: ['partners'],
  access: { roles: ATTRIBUTION_READERS },
  params: ContractParams,
  response: AttributionExplanationSchema,
});

export const listAttributionVersionsRoute = defineRoute({
  name: 'list-attribution-versions',
  method: 'GET',
  path: '/v1/contracts/{contractId}/attribution/versions',
  summary: 'Every attribution version of a contract, newest first',
  tags: ['partners'],
  access: { roles: ATTRIBUTION_READERS },
  params: ContractParams,
  query: PageQuerySchema,
  response: pageOf(AttributionVersionSchema),
});

export const recomputeAttributionRoute = defineRoute({
  name: 'recompute-attribution',
  method: 'POST',
  path: '/v1/contracts/{contractId}/attribution',
  summary: 'Recompute the attribution now (writes a version only when something changed)',
  tags: ['partners'],
  access: { roles: ['admin', 'finance'] },
  params: ContractParams,
  response: AttributionExplanationSchema,
});

export const listAttributionModelsRoute = defineRoute({
  name: 'list-attribution-models',
  method: 'GET',
  path: '/v1/attribution-models',
  summary: 'Versions of the attribution model in use (or of ?modelId=), newest first',
  tags: ['partners'],
  access: { roles: ATTRIBUTION_READERS },
  query: z.object({ modelId: z.string().min(1).max(64).optional() }),
  response: z.object({ modelId: z.string(), versions: z.array(AttributionModelRuleSchema) }),
});

export const addAttributionModelRoute = defineRoute({
  name: 'add-attribution-model',
  method: 'POST',
  path: '/v1/attribution-models',
  summary: 'Add the next version of an attribution model (never an overwrite)',
  description:
    'Contracts that close on or after effectiveFrom use it; recomputing an earlier contract under it writes a new attribution version with the diff.',
  tags: ['partners'],
  access: { roles: ['admin', 'finance'] },
  body: AttributionModelRuleSchema.omit({ version: true }),
  response: AttributionModelRuleSchema,
  successStatus: 201,
  idempotency: 'optional',
});

export const PARTNER_ROUTES: readonly RouteDefinition[] = [
  createPartnerRoute,
  listPartnersRoute,
  getPartnerRoute,
  updatePartnerRoute,
  listPartnerTouchesRoute,
  submitRegistrationRoute,
  listRegistrationsRoute,
  getRegistrationRoute,
  decideRegistrationRoute,
  recordTouchRoute,
  getAttributionRoute,
  listAttributionVersionsRoute,
  recomputeAttributionRoute,
  listAttributionModelsRoute,
  addAttributionModelRoute,
];
