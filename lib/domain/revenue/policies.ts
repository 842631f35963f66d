/**
 * The accounting choices a seller makes once (finance.md §2): how modifications are treated,
 * gross or net presentation per marketplace, when marketplace fees are expensed, the CPPO fee
 * base, and how an unbilled position is classified. Names accept both snake and kebab case.
 */
import { z } from 'zod';
import type { Marketplace } from '../schemas/primitives';

const kebab = (value: unknown) => (typeof value === 'string' ? value.replaceAll('-', '_') : value);
const choice = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess(kebab, z.enum(values));

const Presentation = choice(['gross', 'net'] as const);

export const RevenuePoliciesSchema = z.object({
  modification: choice(['prospective', 'cumulative_catch_up'] as const).default('prospective'),
  /** One value for every marketplace, or one per marketplace (missing ones are gross). */
  presentation: z
    .union([Presentation, z.partialRecord(z.enum(['aws', 'azure', 'gcp']), Presentation)])
    .default('gross'),
  feePolicy: choice(['expense_on_invoice', 'amortize_with_revenue'] as const).default(
    'expense_on_invoice',
  ),
  cppoFeeBase: choice(['wholesale', 'buyer'] as const).default('wholesale'),
  /** 1230 when payment depends only on time passing (the default), 1240 otherwise (rule 4). */
  unbilledClassification: choice(['unbilled_receivable', 'contract_asset'] as const).default(
    'unbilled_receivable',
  ),
  /** Day of the next month the marketplace invoices a month's usage (AWS: the 2nd–3rd). */
  usageInvoiceDay: z.int().min(1).max(28).default(3),
});
export type RevenuePolicies = z.output<typeof RevenuePoliciesSchema>;
export type RevenuePoliciesInput = z.input<typeof RevenuePoliciesSchema>;

export const DEFAULT_REVENUE_POLICIES: RevenuePolicies = RevenuePoliciesSchema.parse({});

export function presentationFor(
  policies: RevenuePolicies,
  marketplace: Marketplace,
): 'gross' | 'net' {
  return typeof policies.presentation === 'string'
    ? policies.presentation
    : (policies.presentation[marketplace] ?? 'gross');
}
