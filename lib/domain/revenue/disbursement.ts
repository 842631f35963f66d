/**
 * What a recorded payout must be before the ledger can post it: positive amounts, not in the
 * future, against the contract's receivable currency, with the settled amount given whenever
 * the cash arrives in another currency (realized FX is the difference). Every problem at once.
 */
import { type CalendarDate, compareDates } from '../calendar';
import type { ErrorDetail } from '../errors';

export interface DisbursementFacts {
  readonly date: CalendarDate;
  readonly currency: string;
  readonly amountMinor: bigint;
  /** The receivable it settles, when in another currency than the cash received. */
  readonly settlesCurrency: string | null;
  readonly settlesMinor: bigint | null;
}

export function disbursementProblems(
  input: DisbursementFacts,
  context: { contractCurrency: string; today: CalendarDate },
): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const settlesCurrency = input.settlesCurrency ?? input.currency;
  if (compareDates(input.date, context.today) > 0)
    problems.push({
      path: 'date',
      code: 'future_date',
      message: `${input.date} is after today (${context.today})`,
    });
  if (input.amountMinor <= 0n)
    problems.push({ path: 'amountMinor', code: 'not_positive', message: 'A payout is positive' });
  if (input.settlesMinor !== null && input.settlesMinor <= 0n)
    problems.push({
      path: 'settlesMinor',
      code: 'not_positive',
      message: 'The settled receivable is positive',
    });
  if (settlesCurrency !== context.contractCurrency)
    problems.push({
      path: input.settlesCurrency === null ? 'currency' : 'settlesCurrency',
      code: 'currency_mismatch',
      message: `The contract's receivable is in ${context.contractCurrency}, not ${settlesCurrency}`,
    });
  if (input.currency !== settlesCurrency && input.settlesMinor === null)
    problems.push({
      path: 'settlesMinor',
      code: 'required',
      message: `Give the ${settlesCurrency} receivable this ${input.currency} payout settles`,
    });
  return problems;
}
