// Proves the period locks of rule 14 against a deliberately simple per-month model: freeze, close and reopen move the frontier as finance expects, and an entry never posts into a month locked for its poster — it lands in the first open month at or after its own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  comparePeriods,
  lastDayOfPeriod,
  nextPeriod,
  type Period,
  periodOf,
  periodRange,
} from '../../../../lib/domain/calendar';
import {
  close,
  firstOpenPeriod,
  freeze,
  NO_LOCKS,
  type PeriodLocks,
  type PeriodStatus,
  PeriodTransitionError,
  type Poster,
  postingPeriodOf,
  reopen,
  statusOf,
} from '../../../../lib/domain/revenue/periods';

const TODAY = '2026-11-23';
const WINDOW = periodRange('2025-01', '2026-12');

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof PeriodTransitionError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('period transitions', () => {
  it('freezes, closes and reopens as a frontier, each month at most as open as the one after it', () => {
    let locks: PeriodLocks = NO_LOCKS;
    locks = freeze(locks, '2025-03', TODAY);
    expect(statusOf(locks, '2025-01')).toBe('SOFT_FROZEN');
    expect(statusOf(locks, '2025-03')).toBe('SOFT_FROZEN');
    expect(statusOf(locks, '2025-04')).toBe('OPEN');
    locks = close(locks, '2025-02', TODAY);
    expect(locks).toEqual({ closedThrough: '2025-02', frozenThrough: '2025-03' });
    expect(statusOf(locks, '2025-02')).toBe('CLOSED');
    expect(statusOf(locks, '2025-03')).toBe('SOFT_FROZEN');
    // Reopening February reopens March too: a later month is never more locked than an earlier.
    locks = reopen(locks, '2025-02');
    expect(locks).toEqual({ closedThrough: '2025-01', frozenThrough: '2025-01' });
    expect(statusOf(locks, '2025-03')).toBe('OPEN');
  });

  it('refuses a month that has not ended, closing twice, and reopening an open month', () => {
    expect(codeOf(() => close(NO_LOCKS, '2026-11', TODAY))).toBe('period_not_over');
    expect(codeOf(() => freeze(NO_LOCKS, '2026-11', TODAY))).toBe('period_not_over');
    expect(codeOf(() => close(NO_LOCKS, '2026-10', TODAY))).toBe('ok');
    const closed = close(NO_LOCKS, '2025-06', TODAY);
    expect(codeOf(() => close(closed, '2025-05', TODAY))).toBe('period_closed');
    expect(codeOf(() => freeze(closed, '2025-06', TODAY))).toBe('period_closed');
    expect(codeOf(() => reopen(closed, '2025-07'))).toBe('period_open');
  });

  it('posts an entry dated in a locked month into the first month open to its poster', () => {
    const locks: PeriodLocks = { closedThrough: '2025-02', frozenThrough: '2025-03' };
    expect(firstOpenPeriod(locks, 'pipeline')).toBe('2025-04');
    expect(firstOpenPeriod(locks, 'run')).toBe('2025-03');
    expect(postingPeriodOf(locks, 'pipeline', '2025-01-15')).toBe('2025-04');
    expect(postingPeriodOf(locks, 'run', '2025-01-31')).toBe('2025-03');
    expect(postingPeriodOf(locks, 'run', '2025-03-31')).toBe('2025-03');
    expect(postingPeriodOf(locks, 'pipeline', '2025-06-01')).toBe('2025-06');
    expect(postingPeriodOf(NO_LOCKS, 'pipeline', '2024-12-31')).toBe('2024-12');
    expect(firstOpenPeriod(NO_LOCKS, 'run')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// The model: one status per month, changed month by month.
// ---------------------------------------------------------------------------------------------

type Action = { kind: 'freeze' | 'close' | 'reopen'; period: Period };

class MonthModel {
  readonly status = new Map<Period, PeriodStatus>(WINDOW.map((p) => [p, 'OPEN']));

  apply(action: Action): 'ok' | 'period_not_over' | 'period_closed' | 'period_open' {
    const current = this.status.get(action.period);
    if (action.kind === 'reopen') {
      if (current === 'OPEN') return 'period_open';
      for (const p of WINDOW) if (p >= action.period) this.status.set(p, 'OPEN');
      return 'ok';
    }
    if (lastDayOfPeriod(action.period) >= TODAY) return 'period_not_over';
    if (current === 'CLOSED') return 'period_closed';
    for (const p of WINDOW) {
      if (p > action.period) continue;
      if (action.kind === 'close') this.status.set(p, 'CLOSED');
      else if (this.status.get(p) === 'OPEN') this.status.set(p, 'SOFT_FROZEN');
    }
    return 'ok';
  }

  /** Locked for this poster: closed for everyone, soft-frozen for all but the month-end run. */
  locked(period: Period, poster: Poster): boolean {
    const s = this.status.get(period) ?? 'OPEN';
    return s === 'CLOSED' || (poster === 'pipeline' && s === 'SOFT_FROZEN');
  }
}

const periodArb = fc.constantFrom(...WINDOW);
const actionArb = fc.record({
  kind: fc.constantFrom('freeze' as const, 'close' as const, 'reopen' as const),
  period: periodArb,
});
const dateArb = fc
  .tuple(periodArb, fc.integer({ min: 1, max: 28 }))
  .map(([p, d]) => `${p}-${String(d).padStart(2, '0')}`);

describe('period locks on random histories', () => {
  it('agree with the month-by-month model after every action, refusals included', () => {
    fc.assert(
      fc.property(fc.array(actionArb, { maxLength: 30 }), (actions) => {
        const model = new MonthModel();
        let locks: PeriodLocks = NO_LOCKS;
        for (const action of actions) {
          const expected = model.apply(action);
          const run = () => {
            locks =
              action.kind === 'freeze'
                ? freeze(locks, action.period, TODAY)
                : action.kind === 'close'
                  ? close(locks, action.period, TODAY)
                  : reopen(locks, action.period);
          };
          expect(codeOf(run)).toBe(expected);
          for (const p of WINDOW) expect(statusOf(locks, p)).toBe(model.status.get(p));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never post into a month locked for the poster, nor earlier than the entry, nor later than needed', () => {
    fc.assert(
      fc.property(
        fc.array(actionArb, { maxLength: 20 }),
        fc.array(fc.tuple(dateArb, fc.constantFrom<Poster>('pipeline', 'run')), {
          minLength: 1,
          maxLength: 20,
        }),
        (actions, entries) => {
          const model = new MonthModel();
          let locks: PeriodLocks = NO_LOCKS;
          for (const action of actions) {
            if (model.apply(action) !== 'ok') continue;
            locks =
              action.kind === 'freeze'
                ? freeze(locks, action.period, TODAY)
                : action.kind === 'close'
                  ? close(locks, action.period, TODAY)
                  : reopen(locks, action.period);
          }
          for (const [date, poster] of entries) {
            const posted = postingPeriodOf(locks, poster, date);
            const own = periodOf(date);
            expect(model.locked(posted, poster)).toBe(false);
            expect(comparePeriods(posted, own)).toBeGreaterThanOrEqual(0);
            // Every month from its own up to the one it lands in is locked: it moved no further.
            for (let p = own; comparePeriods(p, posted) < 0; p = nextPeriod(p))
              expect(model.locked(p, poster)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
