/**
 * The auditor's commission model, written apart from lib/domain/commission: one flat plan
 * (10 % of recognized revenue, payable at once), one sourced partner per touched contract (a
 * partner's touch, or its approved deal registration for a contract that closed inside the
 * registration's expiry: see registrations.ts), so a partner earns rate × the contract's
 * cumulative recognized revenue (4000 + 4100) through the last month the run closed — to within
 * the half-unit of each line's rounding — and nothing on a contract nobody touched. The ledger side: commission entries use only the commission accounts
 * and expense (6100) + capitalized (1400) = payable (2100) + held (2110) + paid (1000).
 */

export const COMMISSION_PLAN_ID = 'partner-standard';
/** 10 % in basis points. */
export const FLAT_RATE_BPS = 1000n;
const BPS = 10_000n;

/** What the model reads of a journal entry. */
export interface CommissionEntry {
  readonly entryId: string;
  readonly rule: string;
  readonly postingPeriod: string;
  readonly legs: readonly {
    account: string;
    debitMinor: bigint;
    creditMinor: bigint;
    contractId: string | null;
    partnerId: string | null;
  }[];
}

const COMMISSION_ACCOUNTS = new Set(['6100', '4900', '1400', '2100', '2110', '1000']);

export class CommissionModel {
  /**
   * Contract → the partner whose touch was recorded, whether a run has seen it since, and the
   * contract's recognized revenue in months already closed when it was recorded: the run pays
   * each month's basis once, so months closed before the touch earn nothing (see the report).
   */
  private readonly touches = new Map<
    string,
    { partnerId: string; counted: boolean; closedBeforeMinor: bigint; closedThrough: string | null }
  >();
  lastRun: string | null = null;

  /**
   * @param dropNegativeMonths how the run treats a month whose recognized revenue (refunds aside)
   *   is negative — a cancellation's reversal of revenue recognized ahead of billing: README says
   *   it is clawed back (false); the run today pays nothing and claws nothing back (true, so the
   *   model expects that month's basis as 0; see the report). `--expose-known-bugs` sets false.
   */
  constructor(private readonly dropNegativeMonths = false) {}
  /** Largest |10 000·C − rate·R| / rate seen, in minor units of revenue (rounding evidence). */
  maxGap = 0;
  paidContracts = 0;

  touched(contractId: string, partnerId: string, closedBeforeMinor: bigint): void {
    if (!this.touches.has(contractId))
      this.touches.set(contractId, {
        partnerId,
        counted: false,
        closedBeforeMinor,
        closedThrough: closedBeforeMinor === 0n ? null : this.lastRun,
      });
  }

  /** Recognized revenue (4000 + 4100) of one contract's entries posted through `through`. */
  static recognizedThrough(entries: readonly CommissionEntry[], through: string | null): bigint {
    let total = 0n;
    if (through === null) return total;
    for (const entry of entries)
      if (!entry.rule.startsWith('commission-') && entry.postingPeriod <= through)
        for (const leg of entry.legs)
          if (leg.account === '4000' || leg.account === '4100')
            total += leg.creditMinor - leg.debitMinor;
    return total;
  }

  ran(period: string): void {
    if (this.lastRun === null || period > this.lastRun) this.lastRun = period;
    for (const touch of this.touches.values()) touch.counted = true;
  }

  compare(entries: readonly CommissionEntry[], through: string): string[] {
    const problems: string[] = [];
    const recognized = new Map<string, bigint>();
    /** Contract → period → its revenue that month outside refunds (to find negative months). */
    const monthly = new Map<string, Map<string, bigint>>();
    const earned = new Map<string, { partners: Set<string>; amount: bigint; lines: number }>();
    let expense = 0n;
    let capitalized = 0n;
    let payable = 0n;
    let held = 0n;
    let paid = 0n;
    for (const entry of entries) {
      const commission = entry.rule.startsWith('commission-');
      for (const leg of entry.legs) {
        const net = leg.debitMinor - leg.creditMinor;
        if (!commission) {
          if (
            (leg.account === '4000' || leg.account === '4100') &&
            leg.contractId &&
            entry.postingPeriod <= through
          ) {
            recognized.set(leg.contractId, (recognized.get(leg.contractId) ?? 0n) - net);
            if (entry.rule !== 'refund') {
              const months = monthly.get(leg.contractId) ?? new Map<string, bigint>();
              months.set(entry.postingPeriod, (months.get(entry.postingPeriod) ?? 0n) - net);
              monthly.set(leg.contractId, months);
            }
          }
          continue;
        }
        if (!COMMISSION_ACCOUNTS.has(leg.account))
          problems.push(`commission entry ${entry.entryId} posts to ${leg.account}`);
        if (leg.account === '6100' || leg.account === '4900') {
          expense += net;
          if (leg.contractId) {
            const e = earned.get(leg.contractId) ?? { partners: new Set(), amount: 0n, lines: 0 };
            e.amount += net;
            e.lines += 1;
            if (leg.partnerId) e.partners.add(leg.partnerId);
            earned.set(leg.contractId, e);
          }
        }
        if (leg.account === '1400') capitalized += net;
        if (leg.account === '2100') payable -= net;
        if (leg.account === '2110') held -= net;
        if (leg.account === '1000') paid -= net;
      }
    }
    if (expense + capitalized !== payable + held + paid)
      problems.push(
        `commission ledger: expense ${expense} + capitalized ${capitalized} ≠ payable ${payable} + held ${held} + paid ${paid}`,
      );
    if (held !== 0n) problems.push(`commission held ${held}, expected 0 (the plan pays at once)`);
    this.paidContracts = 0;
    for (const [contractId, e] of earned) {
      const touch = this.touches.get(contractId);
      if (!touch) {
        if (e.amount !== 0n)
          problems.push(
            `contract ${contractId} earned commission ${e.amount} but nobody touched it`,
          );
        continue;
      }
      for (const partnerId of e.partners)
        if (partnerId !== touch.partnerId)
          problems.push(
            `contract ${contractId}: partner ${partnerId} earned, expected only ${touch.partnerId}`,
          );
    }
    for (const [contractId, touch] of this.touches) {
      if (!touch.counted) continue;
      let revenue = (recognized.get(contractId) ?? 0n) - touch.closedBeforeMinor;
      if (this.dropNegativeMonths)
        for (const [period, month] of monthly.get(contractId) ?? [])
          if (month < 0n && (touch.closedThrough === null || period > touch.closedThrough))
            revenue -= month;
      const e = earned.get(contractId);
      const amount = e?.amount ?? 0n;
      if (amount !== 0n) this.paidContracts += 1;
      // rate × R, each line rounded once: within half a unit per line.
      const gap = amount * BPS - FLAT_RATE_BPS * revenue;
      const abs = gap < 0n ? -gap : gap;
      const bound = (BPS / 2n) * BigInt((e?.lines ?? 0) + 1);
      const inRevenueUnits = Number(abs / FLAT_RATE_BPS);
      if (inRevenueUnits > this.maxGap) this.maxGap = inRevenueUnits;
      // A touch recorded after some months closed: how the run splits the rest between the
      // months is its own business (see the report); it may only pay less, never more.
      const late = touch.closedBeforeMinor !== 0n;
      if (late ? gap > bound || amount < 0n : abs > bound)
        problems.push(
          `contract ${contractId}: partner ${touch.partnerId} earned ${amount} through ${through}, expected ${FLAT_RATE_BPS} bps × recognized ${revenue} = ${(FLAT_RATE_BPS * revenue) / BPS} (±${e?.lines ?? 0} rounding units)`,
        );
    }
    return problems;
  }
}
