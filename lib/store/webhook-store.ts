/** Provisioning webhook endpoints and deliveries (items in lib/store/webhook-items.ts). */
import type {
  Page,
  PageRequest,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from '../app/ports';
import type { DynamoStore } from './dynamo-store';
import { ConditionFailedError } from './errors';
import { ITEM_ABSENT } from './transaction';
import {
  deliveryItem,
  deliveryKey,
  endpointItem,
  endpointKey,
  toDelivery,
  toEndpoint,
  WEBHOOK_DUE_PARTITION,
  WEBHOOK_ENDPOINTS_PARTITION,
} from './webhook-items';

/** Endpoints per deployment: each applied change writes one delivery per endpoint. */
export const WEBHOOK_ENDPOINTS_MAX = 10;

export class DynamoWebhookStore implements WebhookStore {
  constructor(private readonly store: DynamoStore) {}

  async createEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.store.put('webhook-endpoint', endpointItem(endpoint), ITEM_ABSENT);
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    const page = await this.store.query({
      index: 'gsi1',
      partitionKey: WEBHOOK_ENDPOINTS_PARTITION,
      limit: WEBHOOK_ENDPOINTS_MAX * 10,
    });
    return page.items.map(toEndpoint);
  }

  async disableEndpoint(endpointId: string): Promise<boolean> {
    try {
      await this.store.update(
        'webhook-endpoint',
        endpointKey(endpointId),
        {
          expression: 'SET #status = :disabled',
          names: { '#status': 'status' },
          values: { ':disabled': 'disabled' },
        },
        { expression: 'attribute_exists(pk)' },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }

  /** Queues a delivery written outside a contract change (offer reminders), once per id. */
  async enqueue(delivery: WebhookDelivery): Promise<boolean> {
    try {
      await this.store.put('webhook-delivery', deliveryItem(delivery), ITEM_ABSENT);
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }

  async getDelivery(deliveryId: string): Promise<WebhookDelivery | null> {
    const item = await this.store.get(deliveryKey(deliveryId));
    return item ? toDelivery(item) : null;
  }

  async listDue(now: string, limit: number): Promise<WebhookDelivery[]> {
    const page = await this.store.query({
      index: 'gsi1',
      partitionKey: WEBHOOK_DUE_PARTITION,
      sortKeyBetween: ['0', `${now}#\uffff`],
      limit,
    });
    return page.items.map(toDelivery);
  }

  async recordAttempt(
    delivery: WebhookDelivery,
    update: Pick<
      WebhookDelivery,
      'status' | 'attempts' | 'nextAttemptAt' | 'lastAttemptAt' | 'lastStatusCode' | 'lastError'
    >,
  ): Promise<boolean> {
    try {
      await this.store.put('webhook-delivery', deliveryItem({ ...delivery, ...update }), {
        expression: 'attempts = :attempts',
        values: { ':attempts': delivery.attempts },
      });
      return true;
    } catch (error) {
      if (error instanceof ConditionFailedError) return false;
      throw error;
    }
  }

  async listDeliveries(
    filter: { endpointId?: string | undefined; contractId?: string | undefined },
    page: PageRequest,
  ): Promise<Page<WebhookDelivery>> {
    if (!filter.contractId) {
      // Without a contract, list what is due or failing recently: the due index, then filter.
      const result = await this.store.query({
        index: 'gsi1',
        partitionKey: WEBHOOK_DUE_PARTITION,
        limit: page.limit,
        cursor: page.cursor,
        ...(filter.endpointId
          ? { filter: { expression: 'endpointId = :e', values: { ':e': filter.endpointId } } }
          : {}),
      });
      return { items: result.items.map(toDelivery), cursor: result.cursor };
    }
    const result = await this.store.query({
      index: 'gsi2',
      partitionKey: `WHDCT#${filter.contractId}`,
      limit: page.limit,
      cursor: page.cursor,
      ...(filter.endpointId
        ? { filter: { expression: 'endpointId = :e', values: { ':e': filter.endpointId } } }
        : {}),
    });
    return { items: result.items.map(toDelivery), cursor: result.cursor };
  }
}
