// Proves what a recorded payout must be before the ledger posts it: every problem reported at once, each on its field, and a well-formed cross-currency payout passes.
import { describe, expect, it } from 'vitest';
import { disbursementProblems } from '../../../../lib/domain/revenue/disbursement';

const context = { contractCurrency: 'EUR', today: '2025-03-01' };
const good = {
  date: '2025-02-20',
  currency: 'USD',
  amountMinor: 10_136_500n,
  settlesCurrency: 'EUR',
  settlesMinor: 9_700_000n,
};

describe('disbursementProblems', () => {
  it('accepts a payout in another currency that says which receivable it settles', () => {
    expect(disbursementProblems(good, context)).toEqual([]);
    expect(
      disbursementProblems(
        { ...good, currency: 'EUR', settlesCurrency: null, settlesMinor: null },
        context,
      ),
    ).toEqual([]);
    // Today itself is not the future.
    expect(disbursementProblems({ ...good, date: '2025-03-01' }, context)).toEqual([]);
  });

  it('lists every problem, each on its field', () => {
    const problems = disbursementProblems(
      {
        date: '2025-03-02',
        currency: 'USD',
        amountMinor: 0n,
        settlesCurrency: 'GBP',
        settlesMinor: -1n,
      },
      context,
    );
    expect(problems.map((p) => `${p.path}:${p.code}`)).toEqual([
      'date:future_date',
      'amountMinor:not_positive',
      'settlesMinor:not_positive',
      'settlesCurrency:currency_mismatch',
    ]);
  });

  it('blames the cash currency when no settled currency is given, and asks for the settled amount', () => {
    const wrong = disbursementProblems(
      { ...good, currency: 'USD', settlesCurrency: null, settlesMinor: null },
      context,
    );
    expect(wrong.map((p) => `${p.path}:${p.code}`)).toEqual(['currency:currency_mismatch']);
    const missing = disbursementProblems({ ...good, settlesMinor: null }, context);
    expect(missing.map((p) => `${p.path}:${p.code}`)).toEqual(['settlesMinor:required']);
  });
});
