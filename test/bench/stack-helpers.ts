/**
 * Shared by the benchmarks on the local stack: start it (DynamoDB Local + simulators + HTTP API
 * in this process), mint tokens, create AWS agreements in the simulator and deliver their
 * EventBridge notifications, and meter DynamoDB capacity (every call asks for
 * `ReturnConsumedCapacity: TOTAL`; what comes back is summed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { addMonths } from '../../lib/domain/calendar';
import { contractIdFor } from '../../lib/domain/contract';
import { ensureDevKeys, mintDevToken } from '../../lib/local/dev-keys';
import { findFreePort } from '../../lib/local/dynamodb-local';
import type { SimAgreement } from '../../lib/local/simulators/aws-simulator';
import { type LocalStack, startLocalStack } from '../../lib/local/stack';
import { getContainer } from '../../lib/runtime/container';

export const SELLER_ACCOUNT = '111122223333';
export const AWS_PRODUCT_ID = 'prod-agorademo01';

export interface BenchStack {
  readonly stack: LocalStack;
  readonly dataDir: string;
  token(roles: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchStack(): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agora-bench-stack-'));
  const stack = await startLocalStack({ port: await findFreePort(), dataDir, logLevel: 'ERROR' });
  const keys = await ensureDevKeys(dataDir);
  return {
    stack,
    dataDir,
    async token(roles) {
      const { token } = await mintDevToken(keys, {
        roles: [...roles] as never,
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      return token;
    },
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const major = (minor: bigint) => `${minor / 100n}.${(minor % 100n).toString().padStart(2, '0')}`;

/** A 36-month AWS agreement with monthly installments, as the simulator serves it. */
export function benchAgreement(
  n: number,
  options: { months?: number; start?: string; prefix?: string } = {},
): {
  agreement: SimAgreement;
  contractId: string;
  notification: Record<string, unknown>;
} {
  const months = options.months ?? 36;
  const start = options.start ?? '2026-01-01';
  const prefix = options.prefix ?? 'bench';
  const agreementId = `agmt-${prefix}${n.toString().padStart(12, '0')}`;
  const licenseId = `l-${prefix}${n.toString().padStart(12, '0')}`;
  const offerId = `offer-${prefix}${n}`;
  const end = addMonths(start, months);
  const installment = 1_000_000n;
  const agreement: SimAgreement = {
    agreementId,
    status: 'ACTIVE',
    acceptanceTime: `${start}T09:00:00Z`,
    startTime: `${start}T00:00:00Z`,
    endTime: `${addMonths(start, months - 1).slice(0, 8)}28T23:59:59Z`,
    acceptorAccountId: `4444${n.toString().padStart(8, '0')}`,
    proposerAccountId: SELLER_ACCOUNT,
    offerId,
    productId: AWS_PRODUCT_ID,
    productType: 'SaaSProduct',
    estimatedCharges: {
      agreementValue: major(installment * BigInt(months)),
      currencyCode: 'USD',
    },
    terms: [
      {
        paymentScheduleTerm: {
          id: `term-${agreementId}-schedule`,
          type: 'PaymentScheduleTerm',
          currencyCode: 'USD',
          schedule: Array.from({ length: months }, (_, m) => ({
            chargeDate: `${addMonths(start, m)}T00:00:00Z`,
            chargeAmount: major(installment),
          })),
        },
      },
      {
        validityTerm: {
          id: `term-${agreementId}-validity`,
          type: 'ValidityTerm',
          agreementStartDate: `${start}T00:00:00Z`,
          agreementEndDate: `${end}T00:00:00Z`,
        },
      },
    ],
    entitlements: [
      {
        resourceId: AWS_PRODUCT_ID,
        resourceType: 'SaaSProduct',
        status: 'PROVISIONED',
        licenseArn: `arn:aws:license-manager::${SELLER_ACCOUNT}:license:${licenseId}`,
      },
    ],
  } as unknown as SimAgreement;
  const id = `ev-${prefix}-${n}`;
  const notification = {
    version: '0',
    id,
    'detail-type': 'Purchase Agreement Created - Manufacturer',
    source: 'aws.agreement-marketplace',
    account: SELLER_ACCOUNT,
    time: `${start}T10:00:00Z`,
    region: 'us-east-1',
    resources: [],
    detail: {
      requestId: `req-${id}`,
      catalog: 'AWSMarketplace',
      agreement: {
        id: agreementId,
        intent: 'NEW',
        status: 'ACTIVE',
        acceptanceTime: `${start}T09:00:00Z`,
        startTime: `${start}T00:00:00Z`,
        endTime: `${end}T00:00:00Z`,
      },
      acceptor: { accountId: agreement.acceptorAccountId },
      proposer: { accountId: SELLER_ACCOUNT },
      offer: { id: offerId },
    },
  };
  return { agreement, contractId: contractIdFor('aws', `license/${licenseId}`), notification };
}

/** Statuses other than 202 the EventBridge inlet answered (EventBridge retries them). */
export const inletRetries = new Map<number, number>();

/** Delivers like EventBridge: a 5xx is retried (up to 5 attempts, with a short backoff). */
export async function deliverEventBridge(
  stack: LocalStack,
  body: Record<string, unknown>,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${stack.url}/local/aws/eventbridge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    if (response.status === 202) return;
    inletRetries.set(response.status, (inletRetries.get(response.status) ?? 0) + 1);
    if (response.status < 500 || attempt >= 5) {
      throw new Error(`eventbridge inlet answered ${response.status}`);
    }
    await new Promise((done) => setTimeout(done, 200 * attempt));
  }
}

export interface CapacityTotals {
  write: number;
  read: number;
  calls: number;
  writeCalls: number;
  transactions: number;
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

interface Consumed {
  CapacityUnits?: number;
  WriteCapacityUnits?: number;
  ReadCapacityUnits?: number;
}

/**
 * Adds `ReturnConsumedCapacity: 'TOTAL'` to every call of the stack's DynamoDB client and sums
 * what comes back into the returned totals (reset them at will).
 */
export function meterCapacity(): CapacityTotals {
  const totals: CapacityTotals = { write: 0, read: 0, calls: 0, writeCalls: 0, transactions: 0 };
  const client = (getContainer().store as unknown as { client: DynamoDBClient }).client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = context.commandName ?? '';
      if (command !== 'DescribeTableCommand' && command !== 'CreateTableCommand') {
        input.ReturnConsumedCapacity = 'TOTAL';
      }
      const result = await next(args);
      const output = result.output as { ConsumedCapacity?: Consumed | Consumed[] };
      const list = Array.isArray(output.ConsumedCapacity)
        ? output.ConsumedCapacity
        : output.ConsumedCapacity
          ? [output.ConsumedCapacity]
          : [];
      totals.calls += 1;
      const write = WRITE_COMMANDS.has(command);
      if (write) totals.writeCalls += 1;
      if (command === 'TransactWriteItemsCommand') totals.transactions += 1;
      for (const c of list) {
        if (write) totals.write += c.WriteCapacityUnits ?? c.CapacityUnits ?? 0;
        else totals.read += c.ReadCapacityUnits ?? c.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'benchConsumedCapacity', priority: 'low' },
  );
  return totals;
}

export function resetCapacity(totals: CapacityTotals): void {
  totals.write = 0;
  totals.read = 0;
  totals.calls = 0;
  totals.writeCalls = 0;
  totals.transactions = 0;
}

/** Time spent inside DynamoDB calls (summed over concurrent calls), by command. */
export function meterTime(): Map<string, { calls: number; ms: number }> {
  const byCommand = new Map<string, { calls: number; ms: number }>();
  const client = (getContainer().store as unknown as { client: DynamoDBClient }).client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        const name = (context.commandName ?? '?').replace('Command', '');
        const entry = byCommand.get(name) ?? { calls: 0, ms: 0 };
        entry.calls += 1;
        entry.ms += performance.now() - started;
        byCommand.set(name, entry);
      }
    },
    { step: 'initialize', name: 'benchDynamoTime', priority: 'high' },
  );
  return byCommand;
}
