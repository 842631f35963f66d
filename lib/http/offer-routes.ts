/**
 * Private offer routes. The create and edit bodies pass through untouched beyond their
 * marketplace and version (a draft may be incomplete); the use case checks the whole document
 * against the OfferDocument schema (`GET /v1/offer-schema`) and the marketplace's rules.
 */
import { z } from 'zod';
import { OfferRecordSchema, OfferStatusSchema } from '../domain/offers/offer';
import { OFFER_SCHEMA_VERSION } from '../domain/offers/offer-document';
import { MarketplaceSchema } from '../domain/schemas/primitives';
import { PageQuerySchema, pageOf } from './pagination';
import { defineRoute, type RouteDefinition } from './route';

const OFFER_WRITERS = ['seller', 'admin'] as const;
const OFFER_READERS = ['seller', 'admin', 'finance'] as const;

const OfferBodySchema = z
  .looseObject({
    schemaVersion: z.literal(OFFER_SCHEMA_VERSION),
    marketplace: MarketplaceSchema,
    /** Save without the marketplace's rules (an incomplete offer to finish later). */
    draft: z.boolean().optional(),
  })
  .meta({
    description:
      'An OfferDocument (JSON Schema at GET /v1/offer-schema), plus "draft": true to save it unchecked',
  });

export const OfferViewSchema = OfferRecordSchema.extend({
  effectiveStatus: OfferStatusSchema,
  acceptances: z.array(
    z.object({
      contractId: z.string(),
      buyerAccountId: z.string(),
      status: z.string(),
      acceptedOn: z.string(),
    }),
  ),
});

const OfferParams = z.object({ offerId: z.string().min(1).max(100) });

export const createOfferRoute = defineRoute({
  name: 'create-offer',
  method: 'POST',
  path: '/v1/offers',
  summary: 'Create a private offer: validate, apply guardrails, publish when approved',
  description:
    'Answers 400 with every problem at once and stores nothing when the document or the marketplace rules fail. The same Idempotency-Key gives the same offer and one marketplace change set.',
  tags: ['offers'],
  access: { roles: OFFER_WRITERS },
  body: OfferBodySchema,
  response: OfferViewSchema,
  successStatus: 201,
  idempotency: 'optional',
});

export const listOffersRoute = defineRoute({
  name: 'list-offers',
  method: 'GET',
  path: '/v1/offers',
  summary: 'Offers, newest first, by status and marketplace',
  tags: ['offers'],
  access: { roles: OFFER_READERS },
  query: PageQuerySchema.extend({
    status: OfferStatusSchema.optional(),
    marketplace: MarketplaceSchema.optional(),
  }),
  response: pageOf(OfferRecordSchema.extend({ effectiveStatus: OfferStatusSchema })),
});

export const getOfferRoute = defineRoute({
  name: 'get-offer',
  method: 'GET',
  path: '/v1/offers/{offerId}',
  summary: 'An offer: document, guardrails, approval, publication, history and acceptances',
  tags: ['offers'],
  access: { roles: OFFER_READERS },
  params: OfferParams,
  response: OfferViewSchema,
});

export const updateOfferRoute = defineRoute({
  name: 'update-offer',
  method: 'PUT',
  path: '/v1/offers/{offerId}',
  summary: 'Replace a draft offer’s document',
  tags: ['offers'],
  access: { roles: OFFER_WRITERS },
  params: OfferParams,
  body: OfferBodySchema,
  response: OfferViewSchema,
});

export const submitOfferRoute = defineRoute({
  name: 'submit-offer',
  method: 'POST',
  path: '/v1/offers/{offerId}/submit',
  summary: 'Submit a draft: the marketplace rules in full, then the guardrails',
  tags: ['offers'],
  access: { roles: OFFER_WRITERS },
  params: OfferParams,
  response: OfferViewSchema,
});

const DecisionBody = z.object({ reason: z.string().min(1).max(1_000).nullable().default(null) });

export const approveOfferRoute = defineRoute({
  name: 'approve-offer',
  method: 'POST',
  path: '/v1/offers/{offerId}/approve',
  summary: 'Approve an offer the guardrails held (admin or a configured approver); it publishes',
  tags: ['offers'],
  access: { roles: OFFER_WRITERS },
  params: OfferParams,
  body: DecisionBody,
  response: OfferViewSchema,
});

export const rejectOfferRoute = defineRoute({
  name: 'reject-offer',
  method: 'POST',
  path: '/v1/offers/{offerId}/reject',
  summary: 'Reject an offer the guardrails held (admin or a configured approver)',
  tags: ['offers'],
  access: { roles: OFFER_WRITERS },
  params: OfferParams,
  body: DecisionBody,
  response: OfferViewSchema,
});

export const getOfferSchemaRoute = defineRoute({
  name: 'get-offer-schema',
  method: 'GET',
  path: '/v1/offer-schema',
  summary: 'The OfferDocument as JSON Schema (draft 2020-12)',
  tags: ['offers'],
  access: { roles: OFFER_READERS },
  response: z.record(z.string(), z.unknown()),
});

export const OFFER_ROUTES: readonly RouteDefinition[] = [
  createOfferRoute,
  listOffersRoute,
  getOfferRoute,
  updateOfferRoute,
  submitOfferRoute,
  approveOfferRoute,
  rejectOfferRoute,
  getOfferSchemaRoute,
];
