/**
 * Loads a deal-desk scenario into the store as contracts and contract events, through the same
 * apply path (and revenue hook) as marketplace changes, so a sandbox can be billed and closed
 * month by month with the real jobs. Contracts are keyed `scenario/<contractId>`. Events can be
 * loaded day by day (`through`), as they would arrive; loading them again changes nothing.
 */
import { type CalendarDate, compareDates, dateOfInstant } from '../../domain/calendar';
import { contractIdFor } from '../../domain/contract';
import type { SourceContract } from '../../domain/contract-lifecycle';
import { InvalidInputError } from '../../domain/errors';
import { type ContractEvent, contractEventId } from '../../domain/events';
import type { Scenario } from '../../domain/revenue/preview';
import type { Marketplace } from '../../domain/schemas/primitives';
import { appendContractEvents, applySource, type SyncDeps } from '../sync';

export interface ImportedScenario {
  /** Scenario contract id → stored contract id. */
  readonly contracts: Record<string, string>;
  readonly events: number;
}

type ScenarioEvent = Scenario['events'][number];
type Created = Extract<ScenarioEvent, { type: 'ContractCreated' }>;

function dateOf(event: ScenarioEvent): CalendarDate {
  if ('effectiveAt' in event) return event.effectiveAt;
  return event.usageTime.length === 10 ? event.usageTime : dateOfInstant(event.usageTime);
}

function externalIdOf(id: string, namespace: string | undefined): string {
  return namespace ? `scenario/${namespace}/${id}` : `scenario/${id}`;
}

function sourceOf(
  event: Created,
  id: string,
  namespace: string | undefined,
  overrides: Partial<SourceContract['terms']> = {},
): SourceContract {
  return {
    externalId: externalIdOf(id, namespace),
    status: 'active',
    statusReason: null,
    terms: {
      productId: 'scenario',
      offerId: null,
      offerType: event.offerType,
      plan: null,
      quantity: null,
      buyer: { accountId: `scenario-${event.contractId}`, name: null },
      currency: event.currency,
      term: event.term,
      trialEnd: event.trialEnd,
      renewal: event.renewal,
      fixedCharges:
        event.installments.length === 0 && event.totalMinor > 0n
          ? [{ dimension: 'subscription', amountMinor: event.totalMinor }]
          : [],
      grants: [],
      usageRates: event.usageRates,
      installments: event.installments,
      reseller: event.reseller
        ? {
            partnerId: null,
            resaleAuthorizationId: null,
            wholesaleMinor: event.reseller.wholesaleMinor,
            buyerPriceMinor: event.reseller.buyerPriceMinor ?? event.totalMinor,
          }
        : null,
      ...overrides,
    },
    refs: { scenarioContractId: id },
    observedAt: `${event.effectiveAt}T00:00:00Z`,
    activatedOn: event.effectiveAt,
    endedOn: null,
    replacesExternalId: null,
    facts: [],
  };
}

/**
 * The stored contract id of every contract a scenario creates: renewals (a replacement on the
 * old end date) included; a namespace keeps two scenarios' contracts apart in one store.
 */
export function scenarioContractIds(
  scenario: Scenario,
  namespace?: string,
): Record<string, string> {
  const ids: Record<string, string> = {};
  const known = new Map<string, { marketplace: Marketplace; end: CalendarDate }>();
  for (const event of scenario.events) {
    if (event.type === 'ContractCreated') {
      known.set(event.contractId, { marketplace: event.marketplace, end: event.term.end });
      ids[event.contractId] = contractIdFor(
        event.marketplace,
        externalIdOf(event.contractId, namespace),
      );
    }
    if (event.type === 'ContractAmended') {
      const old = known.get(event.contractId);
      if (!old || compareDates(event.effectiveAt, old.end) < 0) continue;
      const id = event.replacementId ?? `${event.contractId}-renewal`;
      known.set(id, { marketplace: old.marketplace, end: event.term?.end ?? old.end });
      ids[id] = contractIdFor(old.marketplace, externalIdOf(id, namespace));
    }
  }
  return ids;
}

export async function importScenario(
  deps: SyncDeps,
  scenario: Scenario,
  options: { through?: CalendarDate; namespace?: string } = {},
): Promise<ImportedScenario> {
  const contracts = scenarioContractIds(scenario, options.namespace);
  // The source as it stands after each event: amendments and cancellations build on it.
  const sources = new Map<string, { created: Created; source: SourceContract }>();
  // Each contract is applied once per import, as it stands after its last due event (applying
  // an earlier state again would undo a later change).
  const latestDue = new Map<string, { marketplace: Marketplace; source: SourceContract }>();
  const facts: { event: ScenarioEvent; index: number }[] = [];
  let applied = 0;
  const ordered = [...scenario.events.entries()].sort(
    ([a, x], [b, y]) => compareDates(dateOf(x), dateOf(y)) || a - b,
  );
  for (const [index, event] of ordered) {
    const due = options.through === undefined || compareDates(dateOf(event), options.through) <= 0;
    if (event.type === 'ContractCreated') {
      const source = sourceOf(event, event.contractId, options.namespace);
      sources.set(event.contractId, { created: event, source });
      if (due) latestDue.set(event.contractId, { marketplace: event.marketplace, source });
      continue;
    }
    const current = sources.get(event.contractId);
    const contractId = contracts[event.contractId];
    if (!current || !contractId)
      throw new InvalidInputError(
        'unknown_contract',
        `${event.contractId} has no ContractCreated event`,
      );
    const { created, source } = current;
    if (event.type === 'ContractAmended') {
      const end = source.terms.term.end;
      if (end !== null && compareDates(event.effectiveAt, end) >= 0) {
        // Rule 12: a replacement on the old end date is a renewal — a new contract.
        const id = event.replacementId ?? `${event.contractId}-renewal`;
        const renewal = sourceOf(
          { ...created, effectiveAt: event.effectiveAt },
          id,
          options.namespace,
          {
            term: { start: event.effectiveAt, end: event.term?.end ?? end },
            renewal: true,
            installments: event.installments,
            fixedCharges: [],
          },
        );
        sources.set(id, { created: { ...created, contractId: id }, source: renewal });
        if (due) latestDue.set(id, { marketplace: created.marketplace, source: renewal });
        continue;
      }
      const installments = [
        ...source.terms.installments.filter((i) => compareDates(i.date, event.effectiveAt) < 0),
        ...event.installments,
      ];
      const amended: SourceContract = {
        ...source,
        terms: {
          ...source.terms,
          installments,
          fixedCharges: [],
          term: { start: source.terms.term.start, end: event.term?.end ?? end },
        },
        observedAt: `${event.effectiveAt}T00:00:00Z`,
        changeEffectiveOn: event.effectiveAt,
      };
      sources.set(event.contractId, { created, source: amended });
      if (due)
        latestDue.set(event.contractId, { marketplace: created.marketplace, source: amended });
      continue;
    }
    if (event.type === 'ContractCancelled') {
      const cancelled: SourceContract = {
        ...source,
        status: 'cancelled',
        statusReason: 'cancelled',
        observedAt: `${event.effectiveAt}T00:00:00Z`,
        endedOn: event.effectiveAt,
      };
      sources.set(event.contractId, { created, source: cancelled });
      if (due)
        latestDue.set(event.contractId, { marketplace: created.marketplace, source: cancelled });
      continue;
    }
    if (due) facts.push({ event, index });
  }
  for (const { marketplace, source } of latestDue.values())
    applied += (await applySource(deps, marketplace, null, source)).events.length;
  for (const { event, index } of facts) {
    if (
      event.type === 'ContractCreated' ||
      event.type === 'ContractAmended' ||
      event.type === 'ContractCancelled'
    )
      continue;
    const contractId = contracts[event.contractId];
    if (!contractId)
      throw new InvalidInputError(
        'unknown_contract',
        `${event.contractId} has no ContractCreated event`,
      );
    const outcome = await appendContractEvents(deps, contractId, (snapshot): ContractEvent[] => {
      const base = {
        schemaVersion: 1 as const,
        contractId,
        marketplace: snapshot.marketplace,
        raw: null,
      };
      if (event.type === 'UsageRecorded') {
        const at = event.usageTime.length === 10 ? `${event.usageTime}T00:00:00Z` : event.usageTime;
        const usageRecordId = `scenario-usage-${index}`;
        return [
          {
            ...base,
            eventId: contractEventId(contractId, 'UsageRecorded', usageRecordId),
            type: 'UsageRecorded',
            occurredAt: at,
            effectiveAt: dateOfInstant(at),
            sourceVersion: usageRecordId,
            payload: {
              usageRecordId,
              dimension: event.dimension,
              quantity: event.quantity,
              usageStart: at,
              usageEnd: at,
            },
          },
        ];
      }
      if (event.type === 'RefundIssued') {
        const refundId = event.refundId ?? `refund-${event.effectiveAt}-${event.amountMinor}`;
        return [
          {
            ...base,
            eventId: contractEventId(contractId, 'RefundIssued', refundId),
            type: 'RefundIssued',
            occurredAt: `${event.effectiveAt}T00:00:00Z`,
            effectiveAt: event.effectiveAt,
            sourceVersion: refundId,
            payload: {
              refundId,
              currency: snapshot.terms.currency,
              amountMinor: event.amountMinor,
              reason: null,
            },
          },
        ];
      }
      const disbursementId =
        event.disbursementId ?? `disbursement-${event.effectiveAt}-${event.amountMinor}`;
      return [
        {
          ...base,
          eventId: contractEventId(contractId, 'DisbursementReceived', disbursementId),
          type: 'DisbursementReceived',
          occurredAt: `${event.effectiveAt}T00:00:00Z`,
          effectiveAt: event.effectiveAt,
          sourceVersion: disbursementId,
          payload: {
            disbursementId,
            currency: event.currency,
            amountMinor: event.amountMinor,
            settlesCurrency: event.settlesCurrency ?? event.currency,
            settlesMinor: event.settlesMinor ?? event.amountMinor,
            bankTraceId: null,
          },
        },
      ];
    });
    applied += outcome.events.length;
  }
  return { contracts, events: applied };
}
