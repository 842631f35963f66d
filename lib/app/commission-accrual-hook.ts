/**
 * Billed-basis commission posted with the invoice, in the pipeline's transaction (issue 12):
 * when a contract event batch carries an InvoiceIssued and the plan in effect on the invoice's
 * date is on the billed basis, each registered partner with a share of the contract's current
 * attribution accrues its commission on the invoice (base rate; held until disbursed, or
 * capitalized to 1400 on a multi-year billing, as the plan and rule 7 say). The entries join the
 * revenue posting, so the invoice and its commission are written together or not at all. The
 * month-end run then posts only the difference its accelerators and caps make.
 *
 * Anything this hook cannot decide (no attribution yet, a partner without a tier, a rate missing,
 * an invoice in another currency than the books) accrues nothing here: the month-end run, which
 * reads the ledger, still accrues it in full. The hook never fails the change.
 */
import { dateOfInstant } from '../domain/calendar';
import {
  coversMoreThanTwelveMonths,
  invoiceAccrualPosting,
  partnerMonthlyBasis,
} from '../domain/commission/engine';
import { planVersionOn } from '../domain/commission/plan';
import type { ContractEventOf } from '../domain/events';
import type { JournalEntry } from '../domain/ledger';
import { tierOn } from '../domain/partners/partner';
import type { CommissionPlanStore } from './commission-plans';
import { dealTypeOf } from './commission-run';
import type { AttributionStore, PartnerStore } from './partner-ports';
import type { RevenueSettings } from './revenue/settings';
import type { ApplyHook } from './sync';

/** Invoices one change accrues commission on (a billing batch holds one per installment due). */
export const INVOICE_ACCRUALS_PER_CHANGE_MAX = 20;

export interface CommissionAccrualHookDeps {
  readonly attribution: Pick<AttributionStore, 'latest'>;
  readonly partners: Pick<PartnerStore, 'get'>;
  readonly commissionPlans: Pick<CommissionPlanStore, 'versions'>;
  readonly commissionSettings: { readonly planId: string };
  readonly revenue: Pick<RevenueSettings, 'functionalCurrency' | 'firstOpenPeriod'>;
  readonly logger?: {
    warn(message: string, attributes: Record<string, unknown>): void;
  };
}

export function commissionApplyHook(deps: CommissionAccrualHookDeps): ApplyHook {
  return {
    name: 'commission',
    async contribute(change) {
      const invoices = change.events
        .filter((e): e is ContractEventOf<'InvoiceIssued'> => e.type === 'InvoiceIssued')
        .slice(0, INVOICE_ACCRUALS_PER_CHANGE_MAX);
      if (invoices.length === 0) return {};
      try {
        const entries: JournalEntry[] = [];
        for (const invoice of invoices)
          entries.push(...(await accrualsOn(deps, change.next, invoice)));
        return entries.length > 0 ? { commissionEntries: entries } : {};
      } catch (error) {
        deps.logger?.warn('commission on invoice skipped; the month-end run accrues it', {
          contractId: change.next.contractId,
          error: error as Error,
        });
        return {};
      }
    },
  };
}

async function accrualsOn(
  deps: CommissionAccrualHookDeps,
  contract: { contractId: string; terms: { productId: string } },
  invoice: ContractEventOf<'InvoiceIssued'>,
): Promise<JournalEntry[]> {
  const { payload } = invoice;
  if (payload.currency !== deps.revenue.functionalCurrency || payload.amountMinor <= 0n) return [];
  const date = invoice.effectiveAt ?? dateOfInstant(invoice.occurredAt);
  const planId = deps.commissionSettings.planId;
  const plan = planVersionOn(await deps.commissionPlans.versions(planId), planId, date);
  if (plan?.basis !== 'billed') return [];
  const attribution = await deps.attribution.latest(contract.contractId);
  if (!attribution || attribution.shares.length === 0) return [];
  const split = partnerMonthlyBasis(
    [{ period: date.slice(0, 7), cumulativeMinor: payload.amountMinor }],
    attribution.shares.map((s) => ({
      partnerId: s.partnerId,
      weight: s.weight,
      firstTouchAt: s.firstTouchAt,
    })),
  );
  const multiYear = payload.servicePeriod?.end
    ? coversMoreThanTwelveMonths({
        start: payload.servicePeriod.start,
        end: payload.servicePeriod.end,
      })
    : false;
  const out: JournalEntry[] = [];
  for (const share of attribution.shares) {
    const partner = await deps.partners.get(share.partnerId);
    const tier = partner ? tierOn(partner.tierHistory, date) : null;
    const basis = split.find((p) => p.partnerId === share.partnerId)?.basisMinor ?? 0n;
    if (!partner || tier === null || basis <= 0n) continue;
    const { entry } = invoiceAccrualPosting({
      partnerId: share.partnerId,
      tier,
      plan,
      functionalCurrency: deps.revenue.functionalCurrency,
      firstOpenPeriod: deps.revenue.firstOpenPeriod?.('pipeline') ?? null,
      contractId: contract.contractId,
      dealType: dealTypeOf(share.roles),
      product: contract.terms.productId,
      attributionVersion: attribution.version,
      invoiceEventId: invoice.eventId,
      invoiceId: payload.invoiceId,
      date,
      basisMinor: basis,
      multiYear,
    });
    if (entry) out.push(entry);
  }
  return out;
}
