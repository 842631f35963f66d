/**
 * Azure through the shared pipeline. A webhook is validated against Get Operation before
 * anything acts on it; ChangePlan, ChangeQuantity and Reinstate are accepted or refused by the
 * configured policy (PATCH Success/Failure; a refused Reinstate is a DELETE); then the
 * subscription itself is re-read and diffed.
 */
import type {
  MarketplaceAdapter,
  ParsedNotification,
  SourceRead,
  StoredRawEnvelope,
} from '../../app/ports';
import { withRefs } from '../../domain/contract-lifecycle';
import { type AzureMarketplaceSettings, offerById } from './config';
import type { AzureFulfillmentClient } from './fulfillment-client';
import { type AzureTrigger, parseAzureNotification } from './notifications';
import { sourceFromSubscription } from './source';

const DECIDABLE = new Set(['ChangePlan', 'ChangeQuantity', 'Reinstate']);

export class AzureMarketplaceAdapter implements MarketplaceAdapter<AzureTrigger> {
  readonly marketplace = 'azure' as const;

  constructor(
    private readonly client: AzureFulfillmentClient,
    private readonly settings: AzureMarketplaceSettings,
  ) {}

  parse(raw: StoredRawEnvelope): ParsedNotification<AzureTrigger> {
    return parseAzureNotification(raw);
  }

  async read(trigger: AzureTrigger): Promise<SourceRead> {
    let decision = '';
    if (trigger.operationId) {
      const operation = await this.client.getOperation(
        trigger.subscriptionId,
        trigger.operationId,
        trigger.offerId,
      );
      // A webhook whose operation Microsoft does not know is not acted on (it may be forged or stale).
      if (!operation)
        return {
          kind: 'nothing',
          reason: `operation ${trigger.operationId} not found at Microsoft; not acted on`,
        };
      if (operation.status === 'InProgress' && DECIDABLE.has(operation.action))
        decision = await this.decide(trigger, operation.action);
    }
    const subscription = await this.client.getSubscription(trigger.subscriptionId, trigger.offerId);
    if (!subscription)
      return {
        kind: 'not-ready',
        reason: `subscription ${trigger.subscriptionId} not readable yet`,
      };
    const source = sourceFromSubscription(
      subscription,
      offerById(this.settings, subscription.offerId),
    );
    return {
      kind: 'contracts',
      contracts: [decision ? withRefs(source, { lastDecision: decision }) : source],
    };
  }

  private async decide(trigger: AzureTrigger, action: string): Promise<string> {
    const policy =
      action === 'ChangePlan'
        ? this.settings.changePolicy.changePlan
        : action === 'ChangeQuantity'
          ? this.settings.changePolicy.changeQuantity
          : this.settings.changePolicy.reinstate;
    const operationId = trigger.operationId ?? '';
    if (policy === 'accept') {
      const accepted = await this.client.updateOperation(
        trigger.subscriptionId,
        operationId,
        'Success',
        trigger.offerId,
      );
      return `${action} ${operationId} ${accepted ? 'accepted' : 'already settled'}`;
    }
    if (action === 'Reinstate') {
      await this.client.deleteSubscription(trigger.subscriptionId, trigger.offerId);
      return `${action} ${operationId} refused (subscription deleted)`;
    }
    const rejected = await this.client.updateOperation(
      trigger.subscriptionId,
      operationId,
      'Failure',
      trigger.offerId,
    );
    return `${action} ${operationId} ${rejected ? 'rejected' : 'already settled'}`;
  }
}
