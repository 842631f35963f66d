/**
 * Fault injection around the container's DynamoDB client: the armed fault fires on the N-th
 * write of a step (throttling, a transaction conflict, or a crash right after a write landed),
 * once. Reads are never failed here (the store retries them; writes are what can tear).
 */
import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import type { FaultPlan } from './generator';

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

export class CrashAfterWriteError extends Error {
  constructor(command: string) {
    super(`simulated crash after ${command} landed (outcome unknown to the caller)`);
    this.name = 'CrashAfterWriteError';
  }
}

export class DynamoFaults {
  private armed: FaultPlan = { kind: 'none' };
  private writes = 0;
  fired = 0;
  readonly firedKinds = new Map<string, number>();

  constructor(client: DynamoDBClient) {
    const original = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    const wrapped = async (command: unknown): Promise<unknown> => {
      const name = (command as { constructor: { name: string } }).constructor.name;
      if (!WRITE_COMMANDS.has(name) || this.armed.kind === 'none') return original(command);
      if (!this.armed.kind.startsWith('dynamo-')) return original(command);
      this.writes += 1;
      const plan = this.armed as Extract<FaultPlan, { atWrite: number }>;
      if (this.writes !== plan.atWrite) return original(command);
      this.disarm();
      this.fired += 1;
      this.firedKinds.set(plan.kind, (this.firedKinds.get(plan.kind) ?? 0) + 1);
      switch (plan.kind) {
        case 'dynamo-throttle':
          throw new ProvisionedThroughputExceededException({
            message: 'simulated throttling',
            $metadata: { httpStatusCode: 400 },
          });
        case 'dynamo-conflict':
          if (name === 'TransactWriteItemsCommand')
            throw new TransactionCanceledException({
              message:
                'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
              $metadata: { httpStatusCode: 400 },
              CancellationReasons: [{ Code: 'TransactionConflict' }],
            });
          throw new ProvisionedThroughputExceededException({
            message: 'simulated throttling',
            $metadata: { httpStatusCode: 400 },
          });
        case 'dynamo-crash-after': {
          await original(command);
          throw new CrashAfterWriteError(name);
        }
      }
    };
    (client as unknown as { send: typeof wrapped }).send = wrapped;
  }

  arm(plan: FaultPlan): void {
    this.armed = plan;
    this.writes = 0;
  }

  disarm(): void {
    this.armed = { kind: 'none' };
    this.writes = 0;
  }
}
