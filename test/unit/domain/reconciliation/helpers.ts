/**
 * Shared by the reconciliation tests: AWS billing event CSV rows written in the test, ledgers
 * from deal-desk scenarios (the real posting functions), and a reconciliation run through both
 * feed paths (the byte-level fast path and the regular row parser), which must agree.
 */
import { expect } from 'vitest';
import { readBankStatement } from '../../../../lib/domain/reconciliation/bank-statement';
import type { ReconciliationConfigInput } from '../../../../lib/domain/reconciliation/config';
import {
  type ContractRef,
  type ExpectedLedger,
  expectedItemsFromEntries,
} from '../../../../lib/domain/reconciliation/expected';
import {
  createReconciler,
  createStatementReconciler,
} from '../../../../lib/domain/reconciliation/reconciler';
import type { ReconciliationResult } from '../../../../lib/domain/reconciliation/results';
import {
  previewScenario,
  type ScenarioInput,
  ScenarioSchema,
} from '../../../../lib/domain/revenue/preview';
import {
  AWS_BILLING_EVENT_REQUIRED_COLUMNS,
  feedAwsBillingEvents,
  readAwsBillingEventFeed,
} from '../../../../lib/marketplaces/aws/billing-event-feed';
import { csvDocument, readCsvBatches } from '../../../../lib/tools/csv-stream';

export const AWS_COLUMNS = [
  ...AWS_BILLING_EVENT_REQUIRED_COLUMNS,
  'agreement_id',
  'offer_id',
  'update_date',
] as const;
export type AwsColumn = (typeof AWS_COLUMNS)[number];
export type AwsRow = Partial<Record<AwsColumn, string>>;

/** One feed row; unspecified columns are empty, the account columns filled as AWS does. */
export function awsRow(values: AwsRow): string[] {
  const defaults: AwsRow = {
    from_account_id: '444455556666',
    to_account_id: '111122223333',
    balance_impacting: '1',
    currency: 'USD',
    broker_id: 'AWS_INC',
  };
  return AWS_COLUMNS.map((column) => values[column] ?? defaults[column] ?? '');
}

export function awsCsv(rows: readonly AwsRow[], lineBreak: '\n' | '\r\n' = '\n'): string {
  return csvDocument([[...AWS_COLUMNS], ...rows.map(awsRow)], { lineBreak });
}

/** An invoiced charge and its fee in one transaction (amounts in major units). */
export function invoiceRows(input: {
  id: string;
  agreement: string | null;
  date: string;
  due?: string;
  gross: string;
  fee: string;
  usage?: { start: string; end: string };
  currency?: string;
  update?: string;
}): AwsRow[] {
  const common: AwsRow = {
    action: 'INVOICED',
    currency: input.currency ?? 'USD',
    invoice_date: `${input.date}T00:00:00Z`,
    usage_period_start_date: input.usage
      ? `${input.usage.start}T00:00:00Z`
      : `${input.date}T00:00:00Z`,
    usage_period_end_date: input.usage ? `${input.usage.end}T23:59:59Z` : '',
    transaction_reference_id: `txref-${input.id}`,
    agreement_id: input.agreement ?? '',
    update_date: input.update ?? `${input.date}T06:00:00Z`,
  };
  return [
    {
      ...common,
      billing_event_id: `be-${input.id}-charge`,
      transaction_type: 'SELLER_REV_SHARE',
      amount: input.gross,
      payment_due_date: input.due ? `${input.due}T00:00:00Z` : '',
      invoice_id: `inv-${input.id}`,
    },
    {
      ...common,
      billing_event_id: `be-${input.id}-fee`,
      transaction_type: 'AWS_REV_SHARE',
      amount: input.fee,
      invoice_id: `inv-${input.id}-fee`,
    },
  ];
}

/** The two DISBURSED rows paying an invoice's charge and fee in a payout. */
export function disbursedRows(input: {
  id: string;
  agreement: string | null;
  payout: string;
  gross: string;
  fee: string;
  update?: string;
}): AwsRow[] {
  const negate = (amount: string) => (amount.startsWith('-') ? amount.slice(1) : `-${amount}`);
  const common: AwsRow = {
    action: 'DISBURSED',
    disbursement_billing_event_id: input.payout,
    agreement_id: input.agreement ?? '',
    update_date: input.update ?? '',
  };
  return [
    {
      ...common,
      billing_event_id: `be-${input.id}-charge-paid`,
      transaction_type: 'SELLER_REV_SHARE',
      parent_billing_event_id: `be-${input.id}-charge`,
      amount: negate(input.gross),
    },
    {
      ...common,
      billing_event_id: `be-${input.id}-fee-paid`,
      transaction_type: 'AWS_REV_SHARE',
      parent_billing_event_id: `be-${input.id}-fee`,
      amount: negate(input.fee),
    },
  ];
}

export function payoutRow(input: {
  payout: string;
  amount: string;
  date: string;
  trace: string;
}): AwsRow {
  return {
    billing_event_id: input.payout,
    from_account_id: 'AWS',
    action: 'DISBURSED',
    transaction_type: 'DISBURSEMENT',
    amount: input.amount,
    invoice_date: `${input.date}T00:00:00Z`,
    bank_trace_id: input.trace,
    update_date: `${input.date}T00:00:00Z`,
  };
}

/** The ledger a scenario posts, read as the reconciliation's expected side. */
export function ledgerOf(
  scenario: Omit<ScenarioInput, 'asOf'> & { asOf: string },
  contracts: readonly ContractRef[],
  options: { openingDate?: string; paymentTermsDays?: number } = {},
): ExpectedLedger {
  const preview = previewScenario(ScenarioSchema.parse(scenario));
  return expectedItemsFromEntries(preview.entries, {
    asOf: scenario.asOf,
    contracts,
    ...(options.openingDate ? { openingDate: options.openingDate } : {}),
    ...(options.paymentTermsDays !== undefined
      ? { paymentTermsDays: options.paymentTermsDays }
      : {}),
  });
}

/** The same without line numbers: what two files with the same content must agree on. */
export function withoutLines(result: ReconciliationResult): unknown {
  return JSON.parse(
    JSON.stringify(result, (key, value) =>
      key === 'line' ? undefined : typeof value === 'bigint' ? `${value}n` : value,
    ),
  );
}

/**
 * Reconciles a billing event CSV (and optionally a bank statement CSV) through the regular row
 * parser and through the fast path; asserts both give the same result, returns it.
 */
export async function reconcileAws(
  expected: ExpectedLedger,
  csv: string,
  config: ReconciliationConfigInput,
  bankCsv?: string,
): Promise<ReconciliationResult> {
  const bank = bankCsv ? await readBankStatement(readCsvBatches([bankCsv])) : null;
  const slow = createReconciler(expected, config);
  for await (const batch of readAwsBillingEventFeed([Buffer.from(csv)])) {
    slow.add(batch.records);
    slow.addRowErrors(batch.rowErrors);
  }
  if (bank) slow.addBankLines(bank.lines);
  const regular = slow.finish();

  const statement = createStatementReconciler(config);
  await feedAwsBillingEvents([Buffer.from(csv)], statement);
  if (bank) statement.addBankLines(bank.lines);
  const ledger = statement.endStatement();
  for (const contract of expected.contracts) ledger.addContract(contract);
  const fast = ledger.finish(expected.rollForward);
  expect(fast).toEqual(regular);
  return regular;
}

/** Config for an AWS reconciliation as of a date, true-ups in the next month. */
export function awsConfig(
  asOf: string,
  extra: Partial<ReconciliationConfigInput> = {},
): ReconciliationConfigInput {
  const [year = 0, month = 0] = asOf.split('-').map(Number);
  const next = month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
  return { asOf, marketplace: 'aws', firstOpenPeriod: next, ...extra };
}
