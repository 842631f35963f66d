/**
 * Loads a deal-desk scenario into the store as contracts and contract events, through the same
 * apply path (and revenue hook) as marketplace changes: a sandbox can then be billed and closed
 * month by month with the real jobs. Contracts are keyed `scenario/<contractId>`; a second
 * import of the same scenario changes nothing.
 */

import { dateOfInstant } from '../../domain/calendar';
import type { SourceContract } from '../../domain/contract-lifecycle';
import { InvalidInputError } from '../../domain/errors';
import { type ContractEvent, contractEventId } from '../../domain/events';
import type { Scenario } from '../../domain/revenue/preview';
import { appendContractEvents, applySource, type SyncDeps } from '../sync';

export interface ImportedScenario {
  /** Scenario contract id → stored contract id. */
  readonly contracts: Record<string, string>;
  readonly events: number;
}

export async function importScenario(
  deps: SyncDeps,
  scenario: Scenario,
): Promise<ImportedScenario> {
  const contracts: Record<string, string> = {};
  let events = 0;
  for (const event of scenario.events) {
    if (event.type !== 'ContractCreated') continue;
    const externalId = `scenario/${event.contractId}`;
    const source: SourceContract = {
      externalId,
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
      },
      refs: { scenarioContractId: event.contractId },
      observedAt: `${event.effectiveAt}T00:00:00Z`,
      activatedOn: event.effectiveAt,
      endedOn: null,
      replacesExternalId: null,
      facts: [],
    };
    const outcome = await applySource(deps, event.marketplace, null, source);
    contracts[event.contractId] = outcome.contractId;
    events += outcome.events.length;
  }
  for (const [index, event] of scenario.events.entries()) {
    if (event.type !== 'UsageRecorded' && event.type !== 'DisbursementReceived') continue;
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
    events += outcome.events.length;
  }
  return { contracts, events };
}
