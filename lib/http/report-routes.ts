/**
 * Finance report routes: roll-forwards of deferred revenue and of the unbilled position, the
 * deferred-revenue waterfall, the trial balance and the journal export (CSV). Money leaves as
 * strings of minor units (the CSV export writes decimal major units, as an ERP expects).
 */
import { z } from 'zod';
import { isPeriod } from '../domain/calendar';
import { AccountCodeSchema } from '../domain/ledger';
import { REPORT_PERIODS_MAX } from '../domain/revenue/reports';
import { CalendarDateSchema, MinorUnitsSchema, PeriodSchema } from '../domain/schemas/primitives';
import { defineRoute, type RouteDefinition } from './route';

const REPORT_READERS = ['finance', 'admin'] as const;
const Minor = MinorUnitsSchema;

/** Months in [from, to] (both YYYY-MM); 0 when reversed. */
function monthsIn(from: string, to: string): number {
  const index = (p: string) => Number(p.slice(0, 4)) * 12 + Number(p.slice(5, 7));
  return index(to) - index(from) + 1;
}

/** The range checks run only on two valid periods (a bad one is reported once, by its field). */
const bothPeriods = (q: { from: string; to: string }) => isPeriod(q.from) && isPeriod(q.to);

const PeriodRangeQuery = z
  .object({ from: PeriodSchema, to: PeriodSchema })
  .refine((q) => !bothPeriods(q) || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['to'],
  })
  .refine((q) => !bothPeriods(q) || monthsIn(q.from, q.to) <= REPORT_PERIODS_MAX, {
    message: `A report spans at most ${REPORT_PERIODS_MAX} periods`,
    path: ['to'],
  });

const RollForwardAmountsSchema = z.object({
  openingMinor: Minor,
  billedMinor: Minor,
  recognizedMinor: Minor,
  refundsMinor: Minor,
  otherMinor: Minor,
  closingMinor: Minor,
});

export const RollForwardResponseSchema = z.object({
  account: z.enum(['2400', 'unbilled']),
  accounts: z.array(AccountCodeSchema),
  from: PeriodSchema,
  to: PeriodSchema,
  groupBy: z.enum(['none', 'marketplace', 'product']),
  functionalCurrency: z.string().nullable(),
  /** The identity every line satisfies, in words. */
  formula: z.string(),
  lines: z.array(
    z.object({
      period: PeriodSchema,
      group: z.string(),
      currency: z.string(),
      transaction: RollForwardAmountsSchema,
      functional: RollForwardAmountsSchema,
    }),
  ),
  totals: z.array(z.object({ period: PeriodSchema, functional: RollForwardAmountsSchema })),
});

export const getReportRollForwardRoute = defineRoute({
  name: 'get-report-rollforward',
  method: 'GET',
  path: '/v1/reports/rollforward',
  summary: 'Roll-forward of deferred revenue (2400) or of the unbilled position (1230/1240)',
  description:
    'Per posting period, group and transaction currency: opening, billed, recognized, refunds, other and closing, with the same in the functional currency. For 2400: opening + billed − recognized − refunds + other = closing; for unbilled: opening + recognized − billed − refunds + other = closing.',
  tags: ['reports'],
  access: { roles: REPORT_READERS },
  query: PeriodRangeQuery.safeExtend({
    account: z.enum(['2400', 'unbilled']).default('2400'),
    groupBy: z.enum(['none', 'marketplace', 'product']).default('none'),
  }),
  response: RollForwardResponseSchema,
});

const ReleaseSchema = z.object({ period: PeriodSchema, amountMinor: Minor });

export const WaterfallResponseSchema = z.object({
  from: PeriodSchema,
  to: PeriodSchema,
  periods: z.array(PeriodSchema),
  currencies: z.array(
    z.object({
      currency: z.string(),
      openingMinor: Minor,
      bookedMinor: Minor,
      releasedMinor: Minor,
      closingMinor: Minor,
      rows: z.array(
        z.object({
          kind: z.enum(['opening', 'booked', 'unmatched']),
          bookedPeriod: PeriodSchema.nullable(),
          bookedMinor: Minor,
          releases: z.array(ReleaseSchema),
          releasedMinor: Minor,
          refundedMinor: Minor,
          remainingMinor: Minor,
        }),
      ),
      releasedByPeriod: z.array(ReleaseSchema),
    }),
  ),
});

export const getReportWaterfallRoute = defineRoute({
  name: 'get-report-waterfall',
  method: 'GET',
  path: '/v1/reports/waterfall',
  summary: 'Deferred revenue booked by month × released by later month (FIFO per contract)',
  description:
    'Amounts in each transaction currency. The opening row is what was booked before `from` and still deferred at its start; remaining amounts sum to the 2400 roll-forward closing.',
  tags: ['reports'],
  access: { roles: REPORT_READERS },
  query: PeriodRangeQuery,
  response: WaterfallResponseSchema,
});

const TotalsSchema = z.object({ debitMinor: Minor, creditMinor: Minor, balanceMinor: Minor });

export const TrialBalanceResponseSchema = z.object({
  asOf: CalendarDateSchema,
  functionalCurrency: z.string().nullable(),
  entries: z.int(),
  lines: z.array(
    z.object({
      account: AccountCodeSchema,
      accountName: z.string(),
      currency: z.string(),
      debitMinor: Minor,
      creditMinor: Minor,
      balanceMinor: Minor,
      functionalDebitMinor: Minor,
      functionalCreditMinor: Minor,
      functionalBalanceMinor: Minor,
    }),
  ),
  accounts: z.array(
    z.object({
      account: AccountCodeSchema,
      accountName: z.string(),
      functionalBalanceMinor: Minor,
    }),
  ),
  currencyTotals: z.array(TotalsSchema.extend({ currency: z.string() })),
  functionalTotals: TotalsSchema,
  balanced: z.boolean(),
});

export const getReportTrialBalanceRoute = defineRoute({
  name: 'get-report-trial-balance',
  method: 'GET',
  path: '/v1/reports/trial-balance',
  summary: 'Trial balance at a date: debits, credits and balance per account and currency',
  description:
    'Counts entries posted on or before asOf (a late entry counts from the first day of its posting period). Balances are debit − credit.',
  tags: ['reports'],
  access: { roles: REPORT_READERS },
  query: z.object({ asOf: CalendarDateSchema }),
  response: TrialBalanceResponseSchema,
});

export const getJournalExportRoute = defineRoute({
  name: 'get-journal-export',
  method: 'GET',
  path: '/v1/journal/export',
  summary: 'The journal of a posting-period range as CSV for an ERP (text/csv)',
  description:
    'One line per leg: date,period,entry_id,account,account_name,debit,credit,currency,functional_debit,functional_credit,functional_currency,contract_id,source,rule,description. Amounts are decimal major units; RFC 4180 quoting; CRLF line breaks.',
  tags: ['reports'],
  access: { roles: REPORT_READERS },
  query: PeriodRangeQuery,
  /** The body is text/csv (the handler answers with a file); this describes it as a string. */
  response: z.string(),
});

export const REPORT_ROUTES: readonly RouteDefinition[] = [
  getReportRollForwardRoute,
  getReportWaterfallRoute,
  getReportTrialBalanceRoute,
  getJournalExportRoute,
];
