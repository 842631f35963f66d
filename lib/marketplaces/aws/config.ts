/**
 * AWS Marketplace identities of one deployment: several seller accounts are normal, each with
 * an optional role to assume and its products. `identity` says how a product's customers are
 * keyed: `license` (LicenseArn + CustomerAWSAccountId, required for products created from
 * 2026-06-01) or `customer` (the legacy CustomerIdentifier).
 */
import { z } from 'zod';

export const AWS_ACCOUNTS_MAX = 20;
export const AWS_PRODUCTS_PER_ACCOUNT_MAX = 100;

export const AwsProductConfigSchema = z.object({
  productId: z.string().min(1).max(64).optional(),
  productCode: z.string().min(1).max(64),
  identity: z.enum(['license', 'customer']).default('license'),
});

export const AwsAccountConfigSchema = z.object({
  sellerAccountId: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
  /** Role in the seller account that grants the marketplace read APIs; unset = own credentials. */
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/)
    .optional(),
  externalId: z.string().min(2).max(1224).optional(),
  products: z.array(AwsProductConfigSchema).max(AWS_PRODUCTS_PER_ACCOUNT_MAX).default([]),
});

export const AwsAccountsSchema = z.array(AwsAccountConfigSchema).max(AWS_ACCOUNTS_MAX);
export type AwsAccountConfig = z.infer<typeof AwsAccountConfigSchema>;
export type AwsProductConfig = z.infer<typeof AwsProductConfigSchema>;

export interface AwsMarketplaceSettings {
  readonly accounts: readonly AwsAccountConfig[];
  /** The marketplace APIs live in us-east-1. */
  readonly region: string;
  /** Local simulator endpoint; unset in AWS. */
  readonly endpoint: string | undefined;
}

/** The product's configuration, if the product code is known. */
export function productByCode(
  settings: AwsMarketplaceSettings,
  productCode: string,
): { account: AwsAccountConfig; product: AwsProductConfig } | null {
  for (const account of settings.accounts) {
    const product = account.products.find((p) => p.productCode === productCode);
    if (product) return { account, product };
  }
  return null;
}

/** The configured account, or a bare default for an account we have no entry for. */
export function accountById(
  settings: AwsMarketplaceSettings,
  accountId: string | null,
): AwsAccountConfig | null {
  if (accountId === null) return settings.accounts[0] ?? null;
  return (
    settings.accounts.find((a) => a.sellerAccountId === accountId) ?? settings.accounts[0] ?? null
  );
}
